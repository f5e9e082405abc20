package engine

import (
	"context"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
)

// Duplicate detection (PRODUCT.md §11). This file is the contract the
// server and the command line call; see docs/matching.md.

// DetectOptions say what a detection run covers.
type DetectOptions struct {
	// Full compares every account; otherwise only the accounts changed
	// since the last finished run are compared against every account (a
	// first run is always full).
	Full bool
}

// Detect is StartDetection then RunDetection: the command line's form.
func (e *Engine) Detect(ctx context.Context, c Caller, opt DetectOptions, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error) {
	r, err := e.StartDetection(ctx, c, opt)
	if err != nil {
		return r, err
	}
	return e.RunDetection(ctx, c, r.ID, progress)
}

// DetectionRun answers run id of the caller's tenant (id 0: the latest).
func (e *Engine) DetectionRun(ctx context.Context, c Caller, id int64) (usermerge.DetectionRun, error) {
	var r store.DuplicateRun
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		if id == 0 {
			r, err = tx.LatestDuplicateRun(ctx, a.tenant.ID, "")
		} else {
			r, err = tx.DuplicateRun(ctx, a.tenant.ID, id)
		}
		return err
	})
	return r.DetectionRun, err
}

// DuplicatesStale reports whether the tenant's data changed since its
// latest finished run (true when there is none); see
// store.DuplicateDataStamp for what it notices.
func (e *Engine) DuplicatesStale(ctx context.Context, c Caller) (bool, error) {
	stale := true
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		stale, _, err = staleness(ctx, tx, a.tenant.ID)
		return err
	})
	return stale, err
}

// staleness answers whether the latest done run is stale, and the run
// (nil when there is none).
func staleness(ctx context.Context, tx *store.Tx, tenant string) (bool, *store.DuplicateRun, error) {
	run, err := tx.LatestDuplicateRun(ctx, tenant, usermerge.RunDone)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return true, nil, nil
	}
	if err != nil {
		return true, nil, err
	}
	stamp, err := tx.DuplicateDataStamp(ctx, tenant)
	if err != nil || stamp != run.DataStamp {
		return true, &run, err
	}
	// A run that read accounts stored their keys; none stored (an upgrade
	// made the tables again, migration 015) means the check at account
	// creation lacks them until a run stores them again.
	if run.Stats.Records == 0 {
		return false, &run, nil
	}
	keyed, err := tx.HasDuplicateKeys(ctx, tenant)
	return !keyed, &run, err
}

// MaxSuggestionsPage bounds a page of the review queue.
const MaxSuggestionsPage = 500

// Suggestions is one page of the caller's review queue: the latest finished
// run's suggestions wholly in the caller's scope, none with a dismissed
// pair or an account merged away or deleted since, strongest first. A
// suggestion one of whose pairs was dismissed after the run stays out of
// the queue until the next run clusters its accounts again without that
// link.
func (e *Engine) Suggestions(ctx context.Context, c Caller, f usermerge.SuggestionFilter) (usermerge.SuggestionPage, error) {
	p := usermerge.SuggestionPage{Suggestions: []usermerge.DuplicateSuggestion{},
		Counts: map[match.Grade]int{match.GradeCertain: 0, match.GradeProbable: 0, match.GradePossible: 0}}
	if err := validGrade(f.Grade); err != nil {
		return p, err
	}
	if f.Offset < 0 {
		return p, usermerge.Errorf(usermerge.Invalid, "invalid_offset", "the offset must be 0 or more")
	}
	if f.Limit < 0 || f.Limit > MaxSuggestionsPage {
		return p, usermerge.Errorf(usermerge.Invalid, "invalid_limit", "the limit must be between 1 and %d suggestions", MaxSuggestionsPage)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		stale, run, err := staleness(ctx, tx, a.tenant.ID)
		if err != nil || run == nil {
			p.Stale = true
			return err
		}
		p.Stale, p.Run = stale, &run.DetectionRun
		list, total, counts, err := tx.DuplicateSuggestions(ctx, store.SuggestionQuery{Tenant: a.tenant.ID, Run: run.ID, Grade: f.Grade,
			Groups: a.viewGroups(), Limit: f.Limit, Offset: f.Offset})
		if err != nil {
			return err
		}
		p.Total, p.Counts = total, counts
		for _, s := range list {
			ds, err := suggestionOf(ctx, tx, a, s, false)
			if err != nil {
				return err
			}
			p.Suggestions = append(p.Suggestions, ds)
		}
		return nil
	})
	return p, err
}

func validGrade(g match.Grade) error {
	switch g {
	case "", match.GradeCertain, match.GradeProbable, match.GradePossible:
		return nil
	}
	return usermerge.Errorf(usermerge.Invalid, "invalid_grade", "the grade must be certain, probable or possible, not %q", g)
}

// suggestionOf turns a stored suggestion into the answer, with each
// account's groups and jobs (and record counts when counts is set).
func suggestionOf(ctx context.Context, tx *store.Tx, a *actor, s store.StoredSuggestion, counts bool) (usermerge.DuplicateSuggestion, error) {
	ds := usermerge.DuplicateSuggestion{ID: s.ID, Run: s.Run, Grade: s.Grade, Probability: s.Probability, Keep: s.Keep,
		KeepReason: s.KeepReason, Pairs: s.Pairs, Accounts: []usermerge.AccountSummary{}}
	if ds.Pairs == nil {
		ds.Pairs = []match.Pair{}
	}
	for _, id := range s.Accounts {
		sum, err := summary(ctx, tx, a, id, counts)
		if err != nil {
			return ds, err
		}
		ds.Accounts = append(ds.Accounts, sum)
	}
	return ds, nil
}

func summary(ctx context.Context, tx *store.Tx, a *actor, id string, counts bool) (usermerge.AccountSummary, error) {
	var sum usermerge.AccountSummary
	acc, err := tx.Account(ctx, a.tenant.ID, id)
	if err != nil {
		return sum, err
	}
	if sum.Account, err = a.redact(ctx, tx, acc); err != nil {
		return sum, err
	}
	if sum.Groups, sum.Jobs, err = tx.OrgOf(ctx, a.tenant.ID, id); err != nil {
		return sum, err
	}
	if counts {
		sum.Counts, err = tx.RecordCounts(ctx, a.tenant.ID, id)
	}
	return sum, err
}

// queued answers suggestion id if it is in the caller's review queue.
func queued(ctx context.Context, tx *store.Tx, a *actor, id int64) (store.StoredSuggestion, error) {
	notThere := usermerge.Errorf(usermerge.NotFound, "suggestion_not_found", "suggestion %d is not in the review queue", id)
	run, err := tx.LatestDuplicateRun(ctx, a.tenant.ID, usermerge.RunDone)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return store.StoredSuggestion{}, notThere
	}
	if err != nil {
		return store.StoredSuggestion{}, err
	}
	list, _, _, err := tx.DuplicateSuggestions(ctx, store.SuggestionQuery{Tenant: a.tenant.ID, Run: run.ID, ID: id, Groups: a.viewGroups(), Limit: 1})
	if err != nil {
		return store.StoredSuggestion{}, err
	}
	if len(list) == 0 {
		return store.StoredSuggestion{}, notThere
	}
	return list[0], nil
}

// Suggestion answers one suggestion of the queue, with its accounts' record
// counts.
func (e *Engine) Suggestion(ctx context.Context, c Caller, id int64) (usermerge.DuplicateSuggestion, error) {
	var ds usermerge.DuplicateSuggestion
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		s, err := queued(ctx, tx, a, id)
		if err != nil {
			return err
		}
		ds, err = suggestionOf(ctx, tx, a, s, true)
		return err
	})
	return ds, err
}

// DismissSuggestion remembers every pair of suggestion id's accounts as
// "not the same person" (with the caller and the time), so that no run
// suggests them together again. A group manager needs the edit right over
// every account of it. Dismissing again changes nothing.
func (e *Engine) DismissSuggestion(ctx context.Context, c Caller, id int64) ([]usermerge.Dismissal, error) {
	var out []usermerge.Dismissal
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		s, err := queued(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.requireEdit(); err != nil {
			return err
		}
		for _, acc := range s.Accounts {
			if _, err := a.account(ctx, tx, acc, true); err != nil {
				return err
			}
		}
		for i, x := range s.Accounts {
			for _, y := range s.Accounts[i+1:] {
				d, err := tx.PutDismissal(ctx, a.tenant.ID, x, y, a.admin.Login)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
		}
		return tx.AddEvent(ctx, a.tenant.ID, "duplicates.dismissed", map[string]any{"suggestion": id, "accounts": s.Accounts, "by": a.admin.Login})
	})
	return out, err
}

// DismissPair remembers two accounts (ids, logins or external IDs written
// system:value) as not the same person.
func (e *Engine) DismissPair(ctx context.Context, c Caller, x, y string) (usermerge.Dismissal, error) {
	var d usermerge.Dismissal
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		ax, err := refAccount(ctx, tx, a, x, true)
		if err != nil {
			return err
		}
		ay, err := refAccount(ctx, tx, a, y, true)
		if err != nil {
			return err
		}
		if ax.ID == ay.ID {
			return usermerge.Errorf(usermerge.Invalid, "same_account", "%s and %s are the same account: name two accounts", x, y)
		}
		if d, err = tx.PutDismissal(ctx, a.tenant.ID, ax.ID, ay.ID, a.admin.Login); err != nil {
			return err
		}
		return tx.AddEvent(ctx, a.tenant.ID, "duplicates.dismissed", map[string]any{"accounts": []string{d.A, d.B}, "by": a.admin.Login})
	})
	return d, err
}

// refAccount resolves an account reference: an id or login, or failing
// those an external ID written system:value (actor.account does it all).
func refAccount(ctx context.Context, tx *store.Tx, a *actor, ref string, edit bool) (usermerge.Account, error) {
	return a.account(ctx, tx, ref, edit)
}

// Dismissals lists the tenant's dismissed pairs in the caller's scope
// (both accounts in it), newest first.
func (e *Engine) Dismissals(ctx context.Context, c Caller, limit, offset int) ([]usermerge.Dismissal, error) {
	out := []usermerge.Dismissal{}
	if offset < 0 {
		return out, usermerge.Errorf(usermerge.Invalid, "invalid_offset", "the offset must be 0 or more")
	}
	if limit < 0 || limit > MaxSuggestionsPage {
		return out, usermerge.Errorf(usermerge.Invalid, "invalid_limit", "the limit must be between 1 and %d", MaxSuggestionsPage)
	}
	if limit == 0 {
		limit = 50
	}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		out, err = tx.Dismissals(ctx, a.tenant.ID, a.viewGroups(), limit, offset)
		return err
	})
	return out, err
}
