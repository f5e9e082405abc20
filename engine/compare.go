package engine

import (
	"context"

	"usermerge"
	"usermerge/store"
)

// facts gathers what the comparison shows of one account.
func facts(ctx context.Context, tx *store.Tx, a *actor, acc usermerge.Account) (usermerge.AccountFacts, error) {
	f := usermerge.AccountFacts{}
	var err error
	if f.Account, err = a.redact(ctx, tx, acc); err != nil {
		return f, err
	}
	if f.Groups, err = tx.GroupPathsOf(ctx, a.tenant.ID, acc.ID); err != nil {
		return f, err
	}
	if _, f.Jobs, err = tx.OrgOf(ctx, a.tenant.ID, acc.ID); err != nil {
		return f, err
	}
	if f.LastSignIn, err = tx.LastSignIn(ctx, a.tenant.ID, acc.ID); err != nil {
		return f, err
	}
	if f.ExternalIDs, err = tx.ExternalIDsOf(ctx, a.tenant.ID, acc.ID); err != nil {
		return f, err
	}
	f.Counts, err = tx.RecordCounts(ctx, a.tenant.ID, acc.ID)
	return f, err
}

func compareAll(ctx context.Context, tx *store.Tx, a *actor, target usermerge.Account, sources []usermerge.Account) ([]usermerge.Comparison, error) {
	kept, err := facts(ctx, tx, a, target)
	if err != nil {
		return nil, err
	}
	var out []usermerge.Comparison
	for _, src := range sources {
		other, err := facts(ctx, tx, a, src)
		if err != nil {
			return nil, err
		}
		out = append(out, usermerge.Compare(kept, other, tx.Now))
	}
	return out, nil
}

// Compare sets the kept account beside each account to merge, with the
// warnings where they may be two different people, for the merge screen
// before its preview. It names the accounts as a merge would and applies
// the same scope checks; it does not apply the merge's refusal rules, so
// that an admin can compare accounts a merge would refuse.
func (e *Engine) Compare(ctx context.Context, c Caller, target string, sources []string) ([]usermerge.Comparison, error) {
	var out []usermerge.Comparison
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := a.requireEdit(); err != nil {
			return err
		}
		t, err := a.account(ctx, tx, target, true)
		if err != nil {
			return err
		}
		var srcs []usermerge.Account
		for _, ref := range sources {
			s, err := a.account(ctx, tx, ref, true)
			if err != nil {
				return err
			}
			srcs = append(srcs, s)
		}
		out, err = compareAll(ctx, tx, a, t, srcs)
		return err
	})
	return out, err
}
