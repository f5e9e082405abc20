package engine

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
)

// The check of one account against the tenant (PRODUCT.md §11,
// "Prevention") and the tenant's matching rules.

// maxCheckCandidates bounds the accounts one check compares, as
// Rules.MaxBlock bounds a block of a run.
const maxCheckCandidates = 1000

// CheckAccount answers the likely duplicates of one account, existing (ref
// names it: id, login or external ID system:value) or new (ref empty,
// candidate describes it), in the caller's scope, strongest first: what a
// platform calls when it creates or imports an account.
//
// The candidates are found by index, not by a run: the accounts sharing
// one of its blocking keys as the latest run stored them, plus those with
// one of its external IDs, its e-mail address or its employee number (so
// that an account created since the run is found too); a key shared by
// more than Rules.MaxBlock accounts is left out. Accounts merged away or
// deleted since the run are left out as the records are read (only live
// ones are). They are scored
// with the parameters the latest run fitted to the tenant, and before any
// run with match.DefaultParams (a platform checks the accounts it creates
// from the tenant's first day; the candidates are then those sharing an
// external ID, the e-mail address or the employee number, since no run
// has stored blocking keys yet).
func (e *Engine) CheckAccount(ctx context.Context, c Caller, ref string, candidate usermerge.Account) ([]usermerge.DuplicateCandidate, error) {
	out := []usermerge.DuplicateCandidate{}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		rules, _, err := tx.MatchingRules(ctx, a.tenant.ID)
		if err != nil {
			return err
		}
		params, err := e.runParams(ctx, tx, a.tenant.ID, rules)
		if err != nil {
			return err
		}
		var rec match.Record
		if ref != "" {
			acc, err := refAccount(ctx, tx, a, ref, false)
			if err != nil {
				return err
			}
			if acc.Deleted() || acc.MergedInto != "" {
				return usermerge.Errorf(usermerge.Invalid, "account_not_live",
					"%s is deleted or merged into another account; check the account that holds its data instead", acc.Login)
			}
			recs, err := tx.DuplicateRecords(ctx, a.tenant.ID, []string{acc.ID})
			if err != nil {
				return err
			}
			if len(recs) != 1 {
				return store.AccountNotFound(ref)
			}
			rec = recs[0]
		} else {
			if rec, err = candidateRecord(candidate); err != nil {
				return err
			}
		}
		ids, err := tx.DuplicateCandidates(ctx, a.tenant.ID, match.BlockingKeyHashes(rec, rules), rec.ExternalIDs, rec.Email, rec.EmployeeNumber,
			max(rules.MaxBlock, minBlock), maxCheckCandidates)
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == rec.ID })
		if len(ids) == 0 {
			return nil
		}
		others, err := tx.DuplicateRecords(ctx, a.tenant.ID, ids)
		if err != nil {
			return err
		}
		for _, o := range others {
			if !a.all && !anyIn(o.Groups, a.view) {
				continue
			}
			p := match.Score(params, rules, rec, o)
			// The queue's grade: a pair whose names disagree is at most
			// possible (twins, siblings), unless an identifier agrees.
			g := rules.PairGrade(p)
			if g == "" {
				continue
			}
			sum, err := summary(ctx, tx, a, o.ID, false)
			if err != nil {
				return err
			}
			out = append(out, usermerge.DuplicateCandidate{Account: sum, Grade: g, Probability: p.Probability, Pair: p})
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Probability != out[j].Probability {
				return out[i].Probability > out[j].Probability
			}
			return out[i].Account.ID < out[j].Account.ID
		})
		return nil
	})
	return out, err
}

// runParams are the parameters of the tenant's latest done run, read once
// per run: they hold term frequencies, too large to decode at every check.
type runParams struct {
	run    int64
	params match.Params
}

// runParams answers the parameters of the tenant's latest done run, or
// match.DefaultParams(rules) when none has finished.
func (e *Engine) runParams(ctx context.Context, tx *store.Tx, tenant string, rules match.Rules) (match.Params, error) {
	id, err := tx.LatestDoneRun(ctx, tenant)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return match.DefaultParams(rules), nil
	}
	if err != nil {
		return match.Params{}, err
	}
	if v, ok := e.params.Load(tenant); ok && v.(runParams).run == id {
		return v.(runParams).params, nil
	}
	run, err := tx.DuplicateRun(ctx, tenant, id)
	if err != nil {
		return match.Params{}, err
	}
	e.params.Store(tenant, runParams{run: id, params: run.Params})
	return run.Params, nil
}

func anyIn(groups []string, set map[string]bool) bool {
	for _, g := range groups {
		if set[g] {
			return true
		}
	}
	return false
}

// candidateRecord is a new account as the finder reads it.
func candidateRecord(acc usermerge.Account) (match.Record, error) {
	if err := usermerge.ValidateAttributes(acc.Attributes); err != nil {
		return match.Record{}, err
	}
	at := acc.Attributes
	r := match.Record{ID: strings.TrimSpace(acc.ID), Login: strings.TrimSpace(acc.Login), Name: strings.TrimSpace(acc.Name),
		Email: strings.TrimSpace(acc.Email),
		Given: at[usermerge.AttrGivenName], Family: at[usermerge.AttrFamilyName], BirthDate: at[usermerge.AttrBirthDate],
		Phone: at[usermerge.AttrPhone], EmployeeNumber: at[usermerge.AttrEmployeeNumber], Postcode: at[usermerge.AttrPostcode],
		Active: true}
	for _, x := range acc.ExternalIDs {
		if sys, v := strings.TrimSpace(x.System), strings.TrimSpace(x.Value); sys != "" && v != "" {
			r.ExternalIDs = append(r.ExternalIDs, match.ExternalID{System: sys, Value: v})
		}
	}
	if len(r.ExternalIDs) == 0 && r.Login == "" && r.Name == "" && r.Email == "" && r.Given == "" && r.Family == "" && r.BirthDate == "" &&
		r.Phone == "" && r.EmployeeNumber == "" && r.Postcode == "" {
		return r, usermerge.Errorf(usermerge.Invalid, "empty_candidate",
			"describe the account to check: a name, an e-mail address, a login or a profile attribute")
	}
	return r, nil
}

// MatchingRules answers the tenant's matching rules (the defaults when it
// set none).
func (e *Engine) MatchingRules(ctx context.Context, c Caller) (match.Rules, error) {
	var r match.Rules
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		r, _, err = tx.MatchingRules(ctx, a.tenant.ID)
		return err
	})
	return r, err
}

// Bounds of Rules.MaxBlock.
const (
	minBlock = 2
	maxBlock = 10000
)

// validRules answers rules in their stored form (fields in the order of
// match.DefaultRules, each once) or what is wrong with them.
func validRules(r match.Rules) (match.Rules, error) {
	if err := r.Validate(); err != nil {
		return r, usermerge.Errorf(usermerge.Invalid, "invalid_rules", "%s", err.Error())
	}
	known := match.DefaultRules().Fields
	want := map[string]bool{}
	for _, f := range r.Fields {
		if !slices.Contains(known, f) {
			return r, usermerge.Errorf(usermerge.Invalid, "unknown_field", "there is no field %q to compare (known: %s)", f, strings.Join(known, ", "))
		}
		want[f] = true
	}
	if len(want) == 0 {
		return r, usermerge.Errorf(usermerge.Invalid, "no_fields", "name at least one field to compare")
	}
	if r.MaxBlock < minBlock || r.MaxBlock > maxBlock {
		return r, usermerge.Errorf(usermerge.Invalid, "invalid_max_block", "the largest block must be between %d and %d accounts", minBlock, maxBlock)
	}
	fields := []string{}
	for _, f := range known {
		if want[f] {
			fields = append(fields, f)
		}
	}
	r.Fields = fields
	return r, nil
}

// UpdateMatchingRules saves the tenant's matching rules (tenant admins
// only). The next run is a full one, since the keys and scores depend on
// the rules.
func (e *Engine) UpdateMatchingRules(ctx context.Context, c Caller, rules match.Rules) (match.Rules, error) {
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if !a.all {
			return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may change the matching rules")
		}
		var err error
		if rules, err = validRules(rules); err != nil {
			return err
		}
		if err := tx.PutMatchingRules(ctx, a.tenant.ID, rules); err != nil {
			return err
		}
		return tx.AddEvent(ctx, a.tenant.ID, "tenant.matching_rules_changed", map[string]any{"tenant": a.tenant.ID, "by": a.admin.Login, "rules": rules})
	})
	return rules, err
}

// maxRuleChanges bounds the examples of a preview.
const maxRuleChanges = 10

// PreviewMatchingRules answers what rules would change in the tenant's
// suggestions, writing nothing: the scored pairs of the latest run graded
// and clustered under the saved rules and under the proposed ones. A field
// the proposed rules leave out has its evidence taken out of each pair's
// weight; a field they add that the run did not compare cannot be
// previewed (it has no evidence until a run compares it).
func (e *Engine) PreviewMatchingRules(ctx context.Context, c Caller, rules match.Rules) (usermerge.RulesPreview, error) {
	p := usermerge.RulesPreview{Current: map[match.Grade]int{}, Proposed: map[match.Grade]int{}, Changes: []usermerge.RuleChange{}}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if !a.all {
			return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may preview the matching rules")
		}
		var err error
		if rules, err = validRules(rules); err != nil {
			return err
		}
		saved, _, err := tx.MatchingRules(ctx, a.tenant.ID)
		if err != nil {
			return err
		}
		run, err := tx.LatestDuplicateRun(ctx, a.tenant.ID, usermerge.RunDone)
		if err != nil {
			if usermerge.ErrorCode(err) == usermerge.NotFound {
				return usermerge.Errorf(usermerge.NotFound, "no_detection_run",
					"the preview re-grades the pairs of the latest detection run, and there is none yet: run a detection first")
			}
			return err
		}
		var pairs []match.Pair
		seen := map[string]bool{}
		var ids []string
		if err := tx.DuplicatePairs(ctx, a.tenant.ID, run.ID, func(pr match.Pair) error {
			pairs = append(pairs, pr)
			for _, id := range []string{pr.A, pr.B} {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		recs, err := tx.DuplicateRecords(ctx, a.tenant.ID, ids)
		if err != nil {
			return err
		}
		byID := map[string]match.Record{}
		for _, r := range recs {
			byID[r.ID] = r
		}
		lookup := func(id string) (match.Record, bool) { r, ok := byID[id]; return r, ok }
		dismissed := map[[2]string]bool{}
		if err := tx.AllDismissals(ctx, a.tenant.ID, func(x, y string) { dismissed[[2]string{x, y}] = true }); err != nil {
			return err
		}
		isDismissed := func(x, y string) bool {
			if y < x {
				x, y = y, x
			}
			return dismissed[[2]string{x, y}]
		}
		// Pairs of accounts merged away or deleted since are no longer
		// suggestions under either rules.
		live := pairs[:0:0]
		for _, pr := range pairs {
			if _, ok := byID[pr.A]; ok {
				if _, ok := byID[pr.B]; ok {
					live = append(live, pr)
				}
			}
		}
		current := match.Cluster(regrade(live, saved), saved, lookup, isDismissed)
		proposed := match.Cluster(regrade(live, rules), rules, lookup, isDismissed)
		p.Current, p.Proposed = gradeCounts(current), gradeCounts(proposed)
		p.Changes = ruleChanges(current, proposed, byID)
		return nil
	})
	return p, err
}

// regrade takes out of each pair the evidence of the fields rules leave
// out, and its weight.
func regrade(pairs []match.Pair, rules match.Rules) []match.Pair {
	out := make([]match.Pair, 0, len(pairs))
	for _, pr := range pairs {
		q := pr
		q.Evidence = nil
		for _, ev := range pr.Evidence {
			if slices.Contains(rules.Fields, ev.Field) {
				q.Evidence = append(q.Evidence, ev)
			} else {
				q.Weight -= ev.Weight
			}
		}
		if len(q.Evidence) != len(pr.Evidence) {
			q.Probability = probability(q.Weight)
		}
		if rules.Grade(q.Probability) != "" {
			out = append(out, q)
		}
	}
	return out
}

// probability is 2^w / (1 + 2^w), without overflow.
func probability(w float64) float64 {
	if w > 0 {
		return 1 / (1 + math.Exp2(-w))
	}
	x := math.Exp2(w)
	return x / (1 + x)
}

func gradeCounts(list []match.Suggestion) map[match.Grade]int {
	out := map[match.Grade]int{match.GradeCertain: 0, match.GradeProbable: 0, match.GradePossible: 0}
	for _, s := range list {
		out[s.Grade]++
	}
	return out
}

// ruleChanges answers up to maxRuleChanges suggestions (by their set of
// accounts) whose grade differs, strongest first.
func ruleChanges(current, proposed []match.Suggestion, byID map[string]match.Record) []usermerge.RuleChange {
	key := func(s match.Suggestion) string {
		ids := slices.Clone(s.Accounts)
		slices.Sort(ids)
		return strings.Join(ids, "\x00")
	}
	type change struct {
		s        match.Suggestion
		from, to match.Grade
	}
	before := map[string]match.Suggestion{}
	for _, s := range current {
		before[key(s)] = s
	}
	var changes []change
	after := map[string]bool{}
	for _, s := range proposed {
		k := key(s)
		after[k] = true
		if b, ok := before[k]; !ok || b.Grade != s.Grade {
			changes = append(changes, change{s: s, from: b.Grade, to: s.Grade})
		}
	}
	for _, s := range current {
		if !after[key(s)] {
			changes = append(changes, change{s: s, from: s.Grade})
		}
	}
	sort.SliceStable(changes, func(i, j int) bool {
		if changes[i].s.Probability != changes[j].s.Probability {
			return changes[i].s.Probability > changes[j].s.Probability
		}
		return key(changes[i].s) < key(changes[j].s)
	})
	out := []usermerge.RuleChange{}
	for _, c := range changes {
		if len(out) == maxRuleChanges {
			break
		}
		rc := usermerge.RuleChange{From: c.from, To: c.to}
		for _, id := range c.s.Accounts {
			login := id
			if r, ok := byID[id]; ok {
				login = r.Login
			}
			rc.Accounts = append(rc.Accounts, login)
		}
		out = append(out, rc)
	}
	return out
}
