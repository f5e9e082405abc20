package engine

import (
	"context"
	"fmt"
	"slices"

	"usermerge"
	"usermerge/store"
)

// MaxRevertBatch is the most merges one revert batch may name.
const MaxRevertBatch = 100

// Revert reverts a batch of merges in one transaction, newest first. The
// batch is refused as a whole, with the reason, when any merge in it cannot
// be reverted; then nothing changes.
func (e *Engine) Revert(ctx context.Context, c Caller, ids []int64) (usermerge.RevertReport, error) {
	var rep usermerge.RevertReport
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		var err error
		rep, err = revertTx(ctx, tx, a, ids, 0)
		return err
	})
	if err != nil {
		return usermerge.RevertReport{}, err
	}
	return rep, nil
}

// revertTx reverts a selection of merges inside the caller's transaction,
// newest first, refused whole when any cannot be; a batch revert's rows go
// through it too, batchID naming the bulk merge (0: none).
func revertTx(ctx context.Context, tx *store.Tx, a *actor, ids []int64, batchID int64) (usermerge.RevertReport, error) {
	rep := usermerge.RevertReport{At: tx.Now, By: a.admin.Login, KeptNewer: []usermerge.KeptNewer{}}
	if len(ids) == 0 {
		return rep, usermerge.Errorf(usermerge.Invalid, "merges_required", "select at least one merge to revert")
	}
	if len(ids) > MaxRevertBatch {
		return rep, usermerge.Errorf(usermerge.Invalid, "too_many_merges", "a revert batch takes at most %d merges, not %d", MaxRevertBatch, len(ids))
	}
	if err := a.requireEdit(); err != nil {
		return rep, err
	}
	if !a.tenant.Policy.RevertAllowed {
		return rep, usermerge.Errorf(usermerge.Forbidden, "revert_not_allowed", "tenant %s does not allow reverting merges: its merges are irreversible", a.tenant.Name)
	}
	batch := slices.Clone(ids)
	slices.Sort(batch)
	if i := firstDup(batch); i >= 0 {
		return rep, usermerge.Errorf(usermerge.Invalid, "duplicate_merge", "merge %d is named twice", batch[i])
	}
	slices.Reverse(batch) // newest first
	merges := make([]usermerge.Merge, len(batch))
	var err error
	var locks []string
	for i, id := range batch {
		m, err := tx.Merge(ctx, a.tenant.ID, id)
		if err != nil {
			return rep, err
		}
		if err := revertable(ctx, tx, a, m); err != nil {
			return rep, err
		}
		merges[i] = m
		locks = append(locks, m.Source.ID, m.Target.ID)
	}
	if err := tx.LockAccounts(ctx, a.tenant.ID, locks); err != nil {
		return rep, err
	}
	for i, m := range merges { // again under the locks: see the newest state
		if merges[i], err = tx.Merge(ctx, a.tenant.ID, m.ID); err != nil {
			return rep, err
		}
		if err := revertable(ctx, tx, a, merges[i]); err != nil {
			return rep, err
		}
	}
	for _, m := range merges {
		later, err := tx.LaterMerges(ctx, a.tenant.ID, m.ID, m.Source.ID, m.Target.ID)
		if err != nil {
			return rep, err
		}
		if len(later) > 0 {
			return rep, usermerge.Errorf(usermerge.Conflict, "later_merge",
				"merge %d (%s into %s) cannot be reverted while the later merge %d also involves one of its accounts; revert merge %d first, or select both to revert them together",
				m.ID, m.Source.Login, m.Target.Login, later[0], later[0])
		}
		kept, err := revertOne(ctx, tx, a, m)
		if err != nil {
			return rep, err
		}
		rep.Reverted = append(rep.Reverted, m.ID)
		rep.KeptNewer = append(rep.KeptNewer, kept...)
	}
	ev, err := revertEvent(ctx, tx, a, merges, rep.Reverted, batchID)
	if err != nil {
		return rep, err
	}
	return rep, tx.AddEvent(ctx, a.tenant.ID, usermerge.EventMergeReverted, ev)
}

// revertable applies the per-merge refusal rules of PRODUCT.md §6.
func revertable(ctx context.Context, tx *store.Tx, a *actor, m usermerge.Merge) error {
	for _, acc := range []usermerge.Account{m.Source, m.Target} {
		if _, err := a.account(ctx, tx, acc.ID, true); err != nil {
			if usermerge.ErrorCode(err) == usermerge.NotFound { // a merge the caller may not see
				return store.MergeNotFound(m.ID)
			}
			if usermerge.ErrorReason(err) == "out_of_scope" { // say nothing about the account itself
				return usermerge.Errorf(usermerge.Forbidden, "out_of_scope",
					"merge %d involves an account outside the groups %s may edit", m.ID, a.admin.Login)
			}
			return err
		}
	}
	switch m.State {
	case usermerge.StateActive:
	case usermerge.StateReverted:
		by := ""
		if m.RevertedAt != nil {
			by = fmt.Sprintf(" by %s on %s", m.RevertedBy, m.RevertedAt.Format("2006-01-02 15:04 MST"))
		}
		return usermerge.Errorf(usermerge.Conflict, "already_reverted", "merge %d was already reverted%s", m.ID, by)
	case usermerge.StatePermanent:
		return usermerge.Errorf(usermerge.Conflict, "merge_permanent", "merge %d is permanent: its source account %s was deleted", m.ID, m.Source.Login)
	case usermerge.StateTargetDeleted:
		return usermerge.Errorf(usermerge.Conflict, "target_deleted", "merge %d cannot be reverted: its target account %s was deleted", m.ID, m.Target.Login)
	default:
		return usermerge.Errorf(usermerge.Conflict, "not_revertable", "merge %d is %s and cannot be reverted", m.ID, m.State)
	}
	if m.Source.Deleted() {
		return usermerge.Errorf(usermerge.Conflict, "merge_permanent", "merge %d is permanent: its source account %s was deleted", m.ID, m.Source.Login)
	}
	return nil
}

func revertOne(ctx context.Context, tx *store.Tx, a *actor, m usermerge.Merge) ([]usermerge.KeptNewer, error) {
	ref := store.MergeRef{Tenant: a.tenant.ID, ID: m.ID, Source: m.Source.ID, Target: m.Target.ID}
	var kept []usermerge.KeptNewer
	for _, k := range usermerge.Kinds {
		kn, err := tx.RevertKind(ctx, ref, k)
		if err != nil {
			return nil, fmt.Errorf("revert merge %d, %s: %w", m.ID, k, err)
		}
		kept = append(kept, kn...)
	}
	kn, err := tx.RevertProfile(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("revert merge %d, profile: %w", m.ID, err)
	}
	kept = append(kept, kn...)
	if err := tx.UnmarkMerged(ctx, a.tenant.ID, m.Source.ID, m.SourcePrev); err != nil {
		return nil, err
	}
	return kept, tx.SetMergeState(ctx, a.tenant.ID, m.ID, usermerge.StateReverted, a.admin.Login)
}

func firstDup(sorted []int64) int {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return i
		}
	}
	return -1
}
