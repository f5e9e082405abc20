package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"usermerge"
	"usermerge/store"
)

// SearchAccounts finds accounts in the caller's scope by name, login, email
// or external ID.
func (e *Engine) SearchAccounts(ctx context.Context, c Caller, q string, status string, limit, offset int) ([]usermerge.AccountSummary, error) {
	var out []usermerge.AccountSummary
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		out, err = tx.SearchAccounts(ctx, store.AccountQuery{Tenant: a.tenant.ID, Q: strings.TrimSpace(q), Groups: a.viewGroups(),
			Status: status, Limit: limit, Offset: offset})
		for i := range out {
			if err == nil {
				out[i].Account, err = a.redact(ctx, tx, out[i].Account)
			}
		}
		return err
	})
	if out == nil {
		out = []usermerge.AccountSummary{}
	}
	return out, err
}

// AccountInfo returns one account with its groups, jobs and record counts
// (the merge screen's info button).
func (e *Engine) AccountInfo(ctx context.Context, c Caller, ref string) (usermerge.AccountSummary, error) {
	var s usermerge.AccountSummary
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		acc, err := a.account(ctx, tx, ref, false)
		if err != nil {
			return err
		}
		if s.Account, err = a.redact(ctx, tx, acc); err != nil {
			return err
		}
		if s.Groups, s.Jobs, err = tx.OrgOf(ctx, a.tenant.ID, acc.ID); err != nil {
			return err
		}
		s.Counts, err = tx.RecordCounts(ctx, a.tenant.ID, acc.ID)
		return err
	})
	return s, err
}

// ListMerges searches the merge list within the caller's scope, newest first.
func (e *Engine) ListMerges(ctx context.Context, c Caller, f usermerge.MergeFilter) (usermerge.MergePage, error) {
	var p usermerge.MergePage
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
			return usermerge.Errorf(usermerge.Invalid, "invalid_range", "the start of the time range must be before its end")
		}
		if f.Page < 0 || f.PerPage < 0 {
			return usermerge.Errorf(usermerge.Invalid, "invalid_page", "page and page size must be positive")
		}
		var err error
		p, err = tx.ListMerges(ctx, a.tenant.ID, f, a.viewGroups())
		return err
	})
	return p, err
}

// MergeDetails shows per kind exactly which records a merge moved,
// combined, retired or left with the source (the first limit per kind), and
// what its revert kept newer.
func (e *Engine) MergeDetails(ctx context.Context, c Caller, id int64, limit int) (usermerge.MergeDetails, error) {
	return e.MergeDetailsPage(ctx, c, id, usermerge.DetailsPage{Limit: limit})
}

// MergeDetailsPage is MergeDetails for one page of every kind's records, or
// of one kind's: each kind says how many records it lists in all and where
// its next page starts.
func (e *Engine) MergeDetailsPage(ctx context.Context, c Caller, id int64, pg usermerge.DetailsPage) (usermerge.MergeDetails, error) {
	var d usermerge.MergeDetails
	if pg.Limit < 1 || pg.Limit > usermerge.MaxDetailsLimit {
		return d, usermerge.Errorf(usermerge.Invalid, "invalid_limit", "the limit must be between 1 and %d records per kind", usermerge.MaxDetailsLimit)
	}
	if pg.Offset < 0 {
		return d, usermerge.Errorf(usermerge.Invalid, "invalid_offset", "the offset must be 0 or more")
	}
	if pg.Kind != "" && !pg.Kind.Valid() {
		return d, usermerge.Errorf(usermerge.Invalid, "unknown_kind", "there is no record kind %q", pg.Kind)
	}
	if pg.Offset > 0 && pg.Kind == "" {
		return d, usermerge.Errorf(usermerge.Invalid, "offset_needs_kind", "an offset pages one kind's records: name the kind too")
	}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		m, err := tx.Merge(ctx, a.tenant.ID, id)
		if err != nil {
			return err
		}
		for _, acc := range []usermerge.Account{m.Source, m.Target} {
			if _, err := a.account(ctx, tx, acc.ID, false); err != nil {
				if usermerge.ErrorCode(err) == usermerge.NotFound {
					return store.MergeNotFound(id)
				}
				return err
			}
		}
		d.Merge = m
		ref := store.MergeRef{Tenant: a.tenant.ID, ID: m.ID, Source: m.Source.ID, Target: m.Target.ID}
		for _, k := range usermerge.Kinds {
			if pg.Kind != "" && k != pg.Kind {
				continue
			}
			dec := store.DecisionFor(k, m.Policy, m.MoveExternalIDs)
			kd := usermerge.KindDetails{Kind: k, Label: k.Label(), Rule: k.Rule(m.Policy, m.MoveExternalIDs), Counts: m.Counts[k], Offset: pg.Offset}
			if kd.Records, kd.Total, err = tx.KindRecords(ctx, ref, k, dec, pg.Limit, pg.Offset); err != nil {
				return err
			}
			if kd.Records == nil {
				kd.Records = []usermerge.RecordChange{}
			}
			if end := int64(pg.Offset + len(kd.Records)); end < kd.Total {
				kd.More = kd.Total - end
				next := int(end)
				kd.NextOffset = &next
			}
			d.Kinds = append(d.Kinds, kd)
		}
		if m.State == usermerge.StateReverted {
			rep := &usermerge.RevertReport{Reverted: []int64{m.ID}, By: m.RevertedBy}
			if m.RevertedAt != nil {
				rep.At = *m.RevertedAt
			}
			if rep.KeptNewer, err = tx.KeptNewerOf(ctx, a.tenant.ID, m.ID); err != nil {
				return err
			}
			d.Revert = rep
		}
		return nil
	})
	return d, err
}

// Settings returns the caller's tenant with its policy.
func (e *Engine) Settings(ctx context.Context, c Caller) (usermerge.Tenant, error) {
	var t usermerge.Tenant
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		t = a.tenant
		return nil
	})
	return t, err
}

// SettingsChange applies a preset (if named) and then single settings.
type SettingsChange struct {
	Preset string            `json:"preset,omitempty"`
	Set    map[string]string `json:"set,omitempty"`
	// ConfirmIrreversible confirms a change that stops reverts while
	// active merges exist: they all become irreversible. Without it such a
	// change is refused (conflict, code "confirm_irreversible") with their
	// number, and nothing changes.
	ConfirmIrreversible bool `json:"confirm_irreversible,omitempty"`
}

// irreversibleError is the refusal of an unconfirmed change that makes
// active merges irreversible; Merges is how many.
func irreversibleError(n int64) error {
	what := "1 active merge becomes irreversible: it can"
	if n != 1 {
		what = fmt.Sprintf("%d active merges become irreversible: they can", n)
	}
	return usermerge.Errorf(usermerge.Conflict, CodeConfirmIrreversible,
		"with reverts no longer allowed, %s never be undone; confirm the change to go ahead", what)
}

// CodeConfirmIrreversible is the code of the refusal above.
const CodeConfirmIrreversible = "confirm_irreversible"

// IrreversibleCount is how many active merges a change of settings would
// make irreversible: all of them when it stops reverts, else none.
func (e *Engine) IrreversibleCount(ctx context.Context, c Caller, ch SettingsChange) (int64, error) {
	var n int64
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		n, err = irreversibleCount(ctx, tx, a, ch)
		return err
	})
	return n, err
}

func irreversibleCount(ctx context.Context, tx *store.Tx, a *actor, ch SettingsChange) (int64, error) {
	if !a.all {
		return 0, usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may change the tenant's settings")
	}
	p, err := changedPolicy(a.tenant.Policy, ch)
	if err != nil {
		return 0, err
	}
	if !a.tenant.Policy.RevertAllowed || p.RevertAllowed {
		return 0, nil
	}
	return tx.Count(ctx, `SELECT COUNT(*) FROM merges WHERE tenant_id = ? AND state = ?`, a.tenant.ID, string(usermerge.StateActive))
}

// changedPolicy is the policy after the change.
func changedPolicy(p usermerge.Policy, ch SettingsChange) (usermerge.Policy, error) {
	if ch.Preset != "" {
		pre, ok := usermerge.Presets[ch.Preset]
		if !ok {
			return p, usermerge.Errorf(usermerge.Invalid, "unknown_preset", "unknown preset %q (known: %s)", ch.Preset, strings.Join(usermerge.PresetNames, ", "))
		}
		p = pre
	}
	for _, name := range slices.Sorted(maps.Keys(ch.Set)) {
		if err := p.Set(name, ch.Set[name]); err != nil {
			return p, err
		}
	}
	return p, nil
}

// UpdateSettings changes the tenant's policy; only a tenant administrator may.
func (e *Engine) UpdateSettings(ctx context.Context, c Caller, ch SettingsChange) (usermerge.Tenant, error) {
	var t usermerge.Tenant
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if !a.all {
			return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may change the tenant's settings")
		}
		t = a.tenant
		var err error
		if t.Policy, err = changedPolicy(t.Policy, ch); err != nil {
			return err
		}
		n, err := irreversibleCount(ctx, tx, a, ch)
		if err != nil {
			return err
		}
		if n > 0 && !ch.ConfirmIrreversible {
			return irreversibleError(n)
		}
		if err := tx.PutTenant(ctx, t); err != nil {
			return err
		}
		return tx.AddEvent(ctx, t.ID, "tenant.settings_changed", map[string]any{"tenant": t.ID, "by": a.admin.Login, "policy": t.Policy})
	})
	return t, err
}
