package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"usermerge"
	"usermerge/store"
)

// checked is a validated merge request.
type checked struct {
	target  usermerge.Account
	sources []usermerge.Account
	moveExt bool
	profile []usermerge.ProfileChange // the fields the target takes, in ProfileFields order; ties left out
}

// check applies every refusal rule of PRODUCT.md §4 that can be decided
// from the data; it writes nothing.
func check(ctx context.Context, tx *store.Tx, a *actor, req usermerge.MergeRequest) (checked, error) {
	var c checked
	if !a.tenant.Policy.MergeEnabled {
		return c, usermerge.Errorf(usermerge.Forbidden, "merging_disabled", "merging accounts is switched off for tenant %s", a.tenant.Name)
	}
	if err := a.requireEdit(); err != nil {
		return c, err
	}
	if strings.TrimSpace(req.Target) == "" {
		return c, usermerge.Errorf(usermerge.Invalid, "target_required", "name the account to keep")
	}
	if len(req.Sources) == 0 {
		return c, usermerge.Errorf(usermerge.Invalid, "sources_required", "name at least one account to merge into %s", req.Target)
	}
	if len(req.Sources) > usermerge.MaxSources {
		return c, usermerge.Errorf(usermerge.Invalid, "too_many_sources", "a merge takes at most %d accounts to merge, not %d", usermerge.MaxSources, len(req.Sources))
	}
	if len(req.Reason) > 2000 {
		return c, usermerge.Errorf(usermerge.Invalid, "reason_too_long", "the reason is limited to 2000 characters")
	}
	var err error
	if c.target, err = a.account(ctx, tx, req.Target, true); err != nil {
		return c, err
	}
	seen := map[string]bool{c.target.ID: true}
	for _, ref := range req.Sources {
		src, err := a.account(ctx, tx, ref, true)
		if err != nil {
			return c, err
		}
		if src.ID == c.target.ID {
			return c, usermerge.Errorf(usermerge.Invalid, "source_is_target", "%s is the account to keep; it cannot also be merged into itself", src.Login)
		}
		if seen[src.ID] {
			return c, usermerge.Errorf(usermerge.Invalid, "duplicate_source", "%s is named twice", src.Login)
		}
		seen[src.ID] = true
		c.sources = append(c.sources, src)
	}
	if c.target.Deleted() {
		return c, usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) has been deleted and cannot receive a merge", c.target.Login, c.target.Name)
	}
	if c.target.MergedInto != "" {
		if ok, err := inScope(ctx, tx, a, c.target.MergedInto, a.view); err != nil || !ok {
			return c, cmp.Or[error](err, usermerge.Errorf(usermerge.Conflict, "target_merged", "%s (%s) was itself merged into an account outside your groups",
				c.target.Login, c.target.Name))
		}
		into, err := tx.Account(ctx, a.tenant.ID, c.target.MergedInto)
		if err != nil {
			return c, err
		}
		return c, usermerge.Errorf(usermerge.Conflict, "target_merged", "%s (%s) was itself merged into %s (%s); choose that account to keep",
			c.target.Login, c.target.Name, into.Login, into.Name)
	}
	if c.target.Status != usermerge.Active {
		return c, usermerge.Errorf(usermerge.Conflict, "target_not_active", "%s (%s) is not active; activate it before merging accounts into it",
			c.target.Login, c.target.Name)
	}
	for _, src := range c.sources {
		if src.Deleted() {
			return c, usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) has been deleted and cannot be merged", src.Login, src.Name)
		}
		if src.MergedInto != "" {
			if ok, err := inScope(ctx, tx, a, src.MergedInto, a.view); err != nil || !ok {
				return c, cmp.Or[error](err, usermerge.Errorf(usermerge.Conflict, "source_already_merged", "%s (%s) is already merged into an account outside your groups",
					src.Login, src.Name))
			}
			into, err := tx.Account(ctx, a.tenant.ID, src.MergedInto)
			if err != nil {
				return c, err
			}
			return c, usermerge.Errorf(usermerge.Conflict, "source_already_merged", "%s (%s) is already merged into %s (%s) by merge %d",
				src.Login, src.Name, into.Login, into.Name, src.MergedBy)
		}
		if src.IsAdmin {
			return c, usermerge.Errorf(usermerge.Conflict, "source_is_admin", "%s (%s) holds administrator rights; administrators are never merged away",
				src.Login, src.Name)
		}
	}
	c.moveExt = a.tenant.Policy.MoveExternalIDs
	if req.MoveExternalIDs != nil {
		c.moveExt = *req.MoveExternalIDs
	}
	if c.profile, err = profileChanges(c, req.Profile); err != nil {
		return c, err
	}
	return c, nil
}

// profileChanges checks the profile fields a request takes from sources
// and returns what the target will take. A source named by a field must be
// one of the request's sources (by login or id), and hold a value: taking
// an empty one would blank the kept account's profile, which no admin picks
// on purpose. A source whose value is the target's already (a tie) changes
// nothing, so it is neither shown nor recorded.
func profileChanges(c checked, want map[string]string) ([]usermerge.ProfileChange, error) {
	for field := range want {
		if _, ok := usermerge.ProfileFieldByName(field); !ok {
			var names []string
			for _, f := range usermerge.ProfileFields {
				names = append(names, f.Name)
			}
			return nil, usermerge.Errorf(usermerge.Invalid, "unknown_profile_field", "%q is not a profile field a merge can take from a source (the fields are %s)",
				field, strings.Join(names, ", "))
		}
	}
	var out []usermerge.ProfileChange
	for _, f := range usermerge.ProfileFields {
		ref := strings.TrimSpace(want[f.Name])
		if ref == "" { // left out, or named no one: the target's value stays
			continue
		}
		i := slices.IndexFunc(c.sources, func(s usermerge.Account) bool { return s.ID == ref || s.Login == ref })
		if i < 0 {
			return nil, usermerge.Errorf(usermerge.Invalid, "profile_source_not_merged", "the %s to keep comes from %q, which is not one of the accounts to merge",
				strings.ToLower(f.Label), ref)
		}
		src := c.sources[i]
		after, before := f.Get(src), f.Get(c.target)
		if strings.TrimSpace(after) == "" {
			return nil, usermerge.Errorf(usermerge.Invalid, "profile_value_empty", "%s has no %s to keep; leave the %s of %s as it is",
				src.Login, strings.ToLower(f.Label), strings.ToLower(f.Label), c.target.Login)
		}
		if after == before {
			continue
		}
		out = append(out, usermerge.ProfileChange{Field: f.Name, Label: f.Label, Before: before, After: after, Source: src.Login})
	}
	return out, nil
}

// errPreviewed rolls back the transaction in which a preview of several
// sources merged them.
var errPreviewed = errors.New("preview: rolled back")

// Preview answers what the merge would do, per source and per kind, with
// warnings; nothing is written. Each source is counted against the target
// as the operation's earlier merges leave it (PRODUCT.md §4): with several
// sources the preview merges them one after another in a transaction that
// it always rolls back, so that its counts are the merge's, exactly.
func (e *Engine) Preview(ctx context.Context, c Caller, req usermerge.MergeRequest) (usermerge.Preview, error) {
	var p usermerge.Preview
	several := len(req.Sources) > 1
	err := e.call(ctx, c, several, func(tx *store.Tx, a *actor) error {
		ck, err := check(ctx, tx, a, req)
		if err != nil {
			return err
		}
		if several {
			ids := []string{ck.target.ID}
			for _, s := range ck.sources {
				ids = append(ids, s.ID)
			}
			if err := tx.LockAccounts(ctx, a.tenant.ID, ids); err != nil {
				return err
			}
		}
		p = usermerge.Preview{Target: ck.target, MoveExternalIDs: ck.moveExt, RevertAllowed: a.tenant.Policy.RevertAllowed,
			Profile: append([]usermerge.ProfileChange{}, ck.profile...)}
		// The comparisons are of the accounts as they are, before any of
		// the operation's merges.
		comps, err := compareAll(ctx, tx, a, ck.target, ck.sources)
		if err != nil {
			return err
		}
		for i, src := range ck.sources {
			sp := usermerge.SourcePlan{Source: src, Comparison: &comps[i]}
			ref := store.MergeRef{Tenant: a.tenant.ID, ID: -int64(i + 1), Source: src.ID, Target: ck.target.ID}
			for _, k := range usermerge.Kinds {
				d := store.DecisionFor(k, a.tenant.Policy, ck.moveExt)
				cnt, err := tx.PlanKind(ctx, ref, k, d)
				if err != nil {
					return err
				}
				sp.Kinds = append(sp.Kinds, usermerge.KindPlan{Kind: k, Label: k.Label(), Rule: k.Rule(a.tenant.Policy, ck.moveExt), Counts: cnt})
			}
			sp.Warnings = sourceWarnings(tx.Now, comps[i])
			p.Sources = append(p.Sources, sp)
			if several && i < len(ck.sources)-1 { // the next source meets the target as this merge leaves it
				for _, k := range usermerge.Kinds {
					if _, err := tx.ApplyKind(ctx, ref, k, store.DecisionFor(k, a.tenant.Policy, ck.moveExt)); err != nil {
						return fmt.Errorf("preview source %s, %s: %w", src.ID, k, err)
					}
				}
			}
		}
		if !a.tenant.Policy.RevertAllowed {
			p.Warnings = append(p.Warnings, usermerge.Warning{Code: usermerge.WarnNoRevert,
				Message: "this tenant does not allow reverting merges: the merge cannot be undone"})
		}
		if several {
			return errPreviewed
		}
		return nil
	})
	if errors.Is(err, errPreviewed) {
		err = nil
	}
	return p, err
}

// sourceWarnings are the preview's warnings about one source: its own
// (still active, signed in recently), then the comparison's.
func sourceWarnings(now time.Time, c usermerge.Comparison) []usermerge.Warning {
	var out []usermerge.Warning
	src := c.Other.Account
	if src.Status == usermerge.Active {
		out = append(out, usermerge.Warning{Code: usermerge.WarnStillActive,
			Message: fmt.Sprintf("%s (%s) is still active and will be deactivated", src.Login, src.Name)})
	}
	if last := c.Other.LastSignIn; usermerge.Recent(last, now) {
		out = append(out, usermerge.Warning{Code: usermerge.WarnRecentSignIn, Message: fmt.Sprintf("%s (%s) signed in recently, on %s (%d days ago)",
			src.Login, src.Name, last.Format("2006-01-02 15:04 MST"), int(now.Sub(*last).Hours()/24))})
	}
	return append(out, c.Warnings...)
}

// Merge merges every source of the request into the target in one
// transaction: all of it happens or none of it. It returns one merge record
// per source, in order; they share an operation id.
func (e *Engine) Merge(ctx context.Context, c Caller, req usermerge.MergeRequest) ([]usermerge.Merge, error) {
	var out []usermerge.Merge
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		var err error
		out, err = e.mergeTx(ctx, tx, a, req, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeTx is one merge operation inside the caller's transaction: the
// checks, the locks, every source merged, the merge.completed event. A
// batch's rows go through it too, batch naming the bulk merge (0: none).
func (e *Engine) mergeTx(ctx context.Context, tx *store.Tx, a *actor, req usermerge.MergeRequest, batch int64) ([]usermerge.Merge, error) {
	// A batch's rows name their accounts by the ids the batch's check
	// found: on PostgreSQL they are locked before the check, which then
	// reads them once, under the locks. Otherwise (or when the check finds
	// other accounts than those locked) the check finds the accounts, they
	// are locked, and it runs again under the locks: a merge that held them
	// may have committed since (PostgreSQL reads the newest committed
	// rows). On SQLite the transaction holds the database's write lock from
	// its first statement, so the first check sees the newest state.
	pg := tx.Dialect() != "sqlite"
	var locked []string
	if pg && batch != 0 {
		locked = append([]string{req.Target}, req.Sources...)
		if err := tx.LockAccounts(ctx, a.tenant.ID, locked); err != nil {
			return nil, err
		}
	}
	ck, err := check(ctx, tx, a, req)
	if err != nil {
		return nil, err
	}
	ids := []string{ck.target.ID}
	for _, s := range ck.sources {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, locked) {
		if err := tx.LockAccounts(ctx, a.tenant.ID, ids); err != nil {
			return nil, err
		}
		if pg {
			if ck, err = check(ctx, tx, a, req); err != nil {
				return nil, err
			}
		}
	}
	op, err := tx.NextID(ctx, a.tenant.ID, "operation")
	if err != nil {
		return nil, err
	}
	var out []usermerge.Merge
	before := make([][]usermerge.ExternalID, len(ck.sources))
	for i, src := range ck.sources {
		if before[i], err = tx.ExternalIDsOf(ctx, a.tenant.ID, src.ID); err != nil {
			return nil, err
		}
	}
	for i, src := range ck.sources {
		m, err := mergeOne(ctx, tx, a, ck, src, op, strings.TrimSpace(req.Reason), batch)
		if err != nil {
			return nil, err
		}
		if e.afterSource != nil { // tests inject failures here
			if err := e.afterSource(i + 1); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	}
	ev, err := mergeEvent(ctx, tx, a, out, before, strings.TrimSpace(req.Reason))
	if err != nil {
		return nil, err
	}
	return out, tx.AddEvent(ctx, a.tenant.ID, usermerge.EventMergeCompleted, ev)
}

func mergeOne(ctx context.Context, tx *store.Tx, a *actor, ck checked, src usermerge.Account, op int64, reason string, batch int64) (usermerge.Merge, error) {
	id, err := tx.NextID(ctx, a.tenant.ID, "merge")
	if err != nil {
		return usermerge.Merge{}, err
	}
	m := usermerge.Merge{TenantID: a.tenant.ID, ID: id, OperationID: op, Batch: batch, Source: src, Target: ck.target, By: a.admin.Login,
		Reason: reason, At: tx.Now, MoveExternalIDs: ck.moveExt, Policy: a.tenant.Policy, State: usermerge.StateActive,
		SourcePrev: src.Status, Counts: map[usermerge.Kind]usermerge.Counts{}}
	marked, err := tx.InEarlierMerge(ctx, a.tenant.ID, src.ID) // before this merge names it
	if err != nil {
		return m, err
	}
	if err := tx.InsertMerge(ctx, m); err != nil {
		return m, err
	}
	ref := store.MergeRef{Tenant: a.tenant.ID, ID: id, Source: src.ID, Target: ck.target.ID, SourceHasMarks: marked}
	counts, err := tx.ApplyKinds(ctx, ref, usermerge.Kinds, func(k usermerge.Kind) store.Decision {
		return store.DecisionFor(k, a.tenant.Policy, ck.moveExt)
	})
	if err != nil {
		return m, fmt.Errorf("merge %d: %w", id, err)
	}
	m.Counts = counts
	if err := tx.PutCounts(ctx, a.tenant.ID, id, m.Counts); err != nil {
		return m, err
	}
	m.Profile = []usermerge.ProfileChange{}
	for _, c := range ck.profile {
		if c.Source != src.Login {
			continue
		}
		if err := tx.ApplyProfileChange(ctx, ref, c); err != nil {
			return m, err
		}
		m.Profile = append(m.Profile, c)
	}
	if len(m.Profile) > 0 { // the merge's record shows the kept account as the merge left it
		if m.Target, err = tx.Account(ctx, a.tenant.ID, ck.target.ID); err != nil {
			return m, err
		}
	}
	if err := tx.MarkMerged(ctx, a.tenant.ID, src.ID, ck.target.ID, id); err != nil {
		return m, err
	}
	m.Source.Status, m.Source.MergedInto, m.Source.MergedBy = usermerge.Inactive, ck.target.ID, id
	m.DisplayState = m.State
	if !a.tenant.Policy.RevertAllowed {
		m.DisplayState = usermerge.StateIrreversible
	}
	return m, nil
}
