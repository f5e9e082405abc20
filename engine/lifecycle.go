package engine

import (
	"context"
	"fmt"

	"usermerge"
	"usermerge/store"
)

// Activate makes an account active. A source that is merged into another
// account is refused with a message naming the target, the merge and its
// date (PRODUCT.md §7).
func (e *Engine) Activate(ctx context.Context, c Caller, ref string) (usermerge.Account, error) {
	var acc usermerge.Account
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		var err error
		if acc, err = a.account(ctx, tx, ref, true); err != nil {
			return err
		}
		if acc.Deleted() {
			return usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) has been deleted and cannot be activated", acc.Login, acc.Name)
		}
		if err := tx.LockAccounts(ctx, a.tenant.ID, []string{acc.ID}); err != nil {
			return err
		}
		if acc, err = tx.Account(ctx, a.tenant.ID, acc.ID); err != nil {
			return err
		}
		if err := activateRefusal(ctx, tx, a, acc); err != nil {
			return err
		}
		if err := tx.SetAccountStatus(ctx, a.tenant.ID, acc.ID, usermerge.Active); err != nil {
			return err
		}
		acc.Status = usermerge.Active
		return nil
	})
	return acc, err
}

// activateRefusal is why an account may not be activated as it stands, or
// nil: a deleted account never, a merged one while it is merged.
func activateRefusal(ctx context.Context, tx *store.Tx, a *actor, acc usermerge.Account) error {
	if acc.Deleted() {
		return usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) has been deleted and cannot be activated", acc.Login, acc.Name)
	}
	if acc.MergedInto != "" {
		return mergedError(ctx, tx, a, acc)
	}
	return nil
}

// ActivationRefusals says, for each of the accounts (ids or logins) that
// Activate would refuse now, why, in the words Activate refuses it with;
// it changes nothing. A screen shows them before the click instead of an
// Activate button; Activate itself checks again.
func (e *Engine) ActivationRefusals(ctx context.Context, c Caller, refs []string) (map[string]string, error) {
	out := map[string]string{}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		for _, ref := range refs {
			acc, err := a.account(ctx, tx, ref, true)
			if err == nil {
				err = activateRefusal(ctx, tx, a, acc)
			}
			switch usermerge.ErrorCode(err) {
			case "":
			case usermerge.Internal, usermerge.Unauthenticated:
				return err
			default:
				out[ref] = usermerge.ErrorMessage(err)
			}
		}
		return nil
	})
	return out, err
}

// mergedError refuses activating a merged account, naming the target and
// the merge, unless the caller cannot see the target: then it says only
// that the account went into one outside the caller's groups.
func mergedError(ctx context.Context, tx *store.Tx, a *actor, acc usermerge.Account) error {
	target, err := tx.Account(ctx, a.tenant.ID, acc.MergedInto)
	if err != nil {
		return err
	}
	if ok, err := inScope(ctx, tx, a, target.ID, a.view); err != nil {
		return err
	} else if !ok {
		return usermerge.Errorf(usermerge.Conflict, "account_merged",
			"%s (%s) was merged into an account outside your groups; it cannot be activated. A tenant administrator can revert that merge.",
			acc.Login, acc.Name)
	}
	if acc.MergedBy == 0 { // marked merged by the platform it was imported from
		return usermerge.Errorf(usermerge.Conflict, "account_merged",
			"%s (%s) was merged into %s (%s) before it was imported; it cannot be activated here",
			acc.Login, acc.Name, target.Login, target.Name)
	}
	m, err := tx.Merge(ctx, a.tenant.ID, acc.MergedBy)
	if err != nil {
		return err
	}
	return usermerge.Errorf(usermerge.Conflict, "account_merged",
		"%s (%s) was merged into %s (%s) by merge %d on %s. Revert merge %d to use this account again.",
		acc.Login, acc.Name, target.Login, target.Name, m.ID, m.At.Format("2006-01-02 15:04 MST"), m.ID)
}

// Deactivate makes an account inactive.
func (e *Engine) Deactivate(ctx context.Context, c Caller, ref string) (usermerge.Account, error) {
	var acc usermerge.Account
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		var err error
		if acc, err = a.account(ctx, tx, ref, true); err != nil {
			return err
		}
		if acc.Deleted() {
			return usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) has been deleted", acc.Login, acc.Name)
		}
		if err := tx.SetAccountStatus(ctx, a.tenant.ID, acc.ID, usermerge.Inactive); err != nil {
			return err
		}
		acc.Status = usermerge.Inactive
		acc, err = a.redact(ctx, tx, acc)
		return err
	})
	return acc, err
}

// DeleteImpact says what deleting an account does to merges.
type DeleteImpact struct {
	Account usermerge.Account `json:"account"`
	// MergedInto lists the merges whose data the account holds as target:
	// deleting it takes that data along and frees those sources.
	MergedInto []int64 `json:"merged_into"`
	// MergedAccounts is how many distinct accounts' data goes with it.
	MergedAccounts int `json:"merged_accounts"`
	// AsSource lists the active merges of which the account is the source:
	// they become permanent.
	AsSource []int64 `json:"as_source"`
	Warning  string  `json:"warning,omitempty"`
}

// effects is everything a deletion changes. For a group manager,
// DeleteImpact lists only the merges they see; these are all of them, and
// outside says that some affected account is outside the groups the caller
// may edit.
type effects struct {
	into, asSource []int64
	outside        bool
}

func impact(ctx context.Context, tx *store.Tx, a *actor, acc usermerge.Account) (DeleteImpact, effects, error) {
	var ef effects
	shown, err := a.redact(ctx, tx, acc)
	if err != nil {
		return DeleteImpact{}, ef, err
	}
	im := DeleteImpact{Account: shown, MergedInto: []int64{}, AsSource: []int64{}}
	if ef.into, err = tx.MergesInvolving(ctx, a.tenant.ID, acc.ID, "target", usermerge.StateActive, usermerge.StatePermanent); err != nil {
		return im, ef, err
	}
	if ef.asSource, err = tx.MergesInvolving(ctx, a.tenant.ID, acc.ID, "source", usermerge.StateActive); err != nil {
		return im, ef, err
	}
	// A group manager sees only the merges whose other account is in their
	// groups, and may delete only when every affected account is in the
	// groups they may edit (PRODUCT.md §8: nothing outside their scope is
	// named or changed).
	other := func(id int64, source bool) (seen bool, err error) {
		m, err := tx.Merge(ctx, a.tenant.ID, id)
		if err != nil {
			return false, err
		}
		o := m.Target.ID
		if source {
			o = m.Source.ID
		}
		if edit, err := inScope(ctx, tx, a, o, a.edit); err != nil || !edit {
			ef.outside = true
			if err != nil {
				return false, err
			}
		}
		return inScope(ctx, tx, a, o, a.view)
	}
	srcs := map[string]bool{}
	for _, id := range ef.into {
		seen, err := other(id, true)
		if err != nil {
			return im, ef, err
		}
		if seen {
			im.MergedInto = append(im.MergedInto, id)
			m, err := tx.Merge(ctx, a.tenant.ID, id)
			if err != nil {
				return im, ef, err
			}
			srcs[m.Source.ID] = true
		}
	}
	for _, id := range ef.asSource {
		seen, err := other(id, false)
		if err != nil {
			return im, ef, err
		}
		if seen {
			im.AsSource = append(im.AsSource, id)
		}
	}
	im.MergedAccounts = len(srcs)
	if im.MergedAccounts > 0 {
		im.Warning = fmt.Sprintf("%s holds the data of %s (%s); deleting it takes that data with it, the merges leave the merge list, and those accounts may be activated again",
			acc.Login, usermerge.Plural(im.MergedAccounts, "merged account", "merged accounts"), usermerge.MergeList(im.MergedInto))
	}
	if len(im.AsSource) > 0 {
		if im.Warning != "" {
			im.Warning += "; "
		}
		im.Warning += fmt.Sprintf("%s is the source of %s, which %s permanent (no revert); the data stays with the kept account", acc.Login, usermerge.MergeList(im.AsSource), map[bool]string{true: "becomes", false: "become"}[len(im.AsSource) == 1])
	}
	if ef.outside {
		if im.Warning != "" {
			im.Warning += "; "
		}
		im.Warning += errOutsideDelete(acc).Message
	}
	return im, ef, nil
}

func errOutsideDelete(acc usermerge.Account) *usermerge.Error {
	return usermerge.Errorf(usermerge.Forbidden, "out_of_scope",
		"deleting %s would change merges or accounts outside the groups you may edit, so only a tenant administrator may delete it", acc.Login)
}

// DeletionImpact reports, without changing anything, what Delete would do.
func (e *Engine) DeletionImpact(ctx context.Context, c Caller, ref string) (DeleteImpact, error) {
	var im DeleteImpact
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		acc, err := a.account(ctx, tx, ref, true)
		if err != nil {
			return err
		}
		im, _, err = impact(ctx, tx, a, acc)
		return err
	})
	return im, err
}

// Delete tombstones an account (PRODUCT.md §7). Merges of which it is the
// source become permanent; merges into it leave the default list and their
// sources are freed. When the account holds merged accounts' data, the call
// is refused unless confirm is set, with the warning in the message.
func (e *Engine) Delete(ctx context.Context, c Caller, ref string, confirm bool) (DeleteImpact, error) {
	var im DeleteImpact
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		acc, err := a.account(ctx, tx, ref, true)
		if err != nil {
			return err
		}
		if acc.Deleted() {
			return usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) is already deleted", acc.Login, acc.Name)
		}
		if acc.IsAdmin {
			return usermerge.Errorf(usermerge.Conflict, "account_is_admin", "%s (%s) holds administrator rights; remove them before deleting the account", acc.Login, acc.Name)
		}
		if err := tx.LockAccounts(ctx, a.tenant.ID, []string{acc.ID}); err != nil {
			return err
		}
		if acc, err = tx.Account(ctx, a.tenant.ID, acc.ID); err != nil {
			return err
		}
		if acc.Deleted() {
			return usermerge.Errorf(usermerge.Conflict, "account_deleted", "%s (%s) is already deleted", acc.Login, acc.Name)
		}
		var ef effects
		if im, ef, err = impact(ctx, tx, a, acc); err != nil {
			return err
		}
		if ef.outside {
			return errOutsideDelete(acc)
		}
		if im.MergedAccounts > 0 && !confirm {
			return usermerge.Errorf(usermerge.Conflict, "confirm_required", "%s. Confirm the deletion to proceed.", im.Warning)
		}
		ext, err := tx.ExternalIDsOf(ctx, a.tenant.ID, acc.ID) // as they were, for the event
		if err != nil {
			return err
		}
		if err := tx.DeleteAccount(ctx, a.tenant.ID, acc.ID); err != nil {
			return err
		}
		for _, id := range ef.asSource {
			if err := tx.SetMergeState(ctx, a.tenant.ID, id, usermerge.StatePermanent, ""); err != nil {
				return err
			}
		}
		for _, id := range ef.into {
			m, err := tx.Merge(ctx, a.tenant.ID, id)
			if err != nil {
				return err
			}
			if err := tx.SetMergeState(ctx, a.tenant.ID, id, usermerge.StateTargetDeleted, ""); err != nil {
				return err
			}
			if !m.Source.Deleted() && m.Source.MergedBy == id {
				// freed: inactive, no longer marked merged, so it may be activated
				if err := tx.UnmarkMerged(ctx, a.tenant.ID, m.Source.ID, m.Source.Status); err != nil {
					return err
				}
			}
		}
		im.Account.DeletedAt = &tx.Now
		return tx.AddEvent(ctx, a.tenant.ID, usermerge.EventAccountDeleted, usermerge.AccountDeletedData{Tenant: a.tenant.ID,
			Account: usermerge.AccountRef{ID: acc.ID, Login: acc.Login, ExternalIDs: ext}, By: a.admin.Login, At: tx.Now})
	})
	return im, err
}
