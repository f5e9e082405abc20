package engine

import (
	"context"
	"strings"

	"usermerge"
	"usermerge/store"
)

// maxChain bounds how many merges a chain is followed through; a longer
// chain (or a loop in bad data) answers where it stopped.
const maxChain = 64

// Resolve answers each reference (id, login or system:value; at most
// MaxResolveRefs) with the account that holds its data now, following
// chains of merges, in the order given. The lookups are set-based: one
// statement per chunk of references and per step of the chains, not per
// reference. A reference outside a group manager's scope answers
// not_found, as an unknown one does.
func (e *Engine) Resolve(ctx context.Context, c Caller, refs []string) ([]usermerge.Resolution, error) {
	if len(refs) == 0 {
		return nil, usermerge.Errorf(usermerge.Invalid, "refs_required", "name at least one account to resolve, by id, login or system:value")
	}
	if len(refs) > usermerge.MaxResolveRefs {
		return nil, usermerge.Errorf(usermerge.Invalid, "too_many_refs", "one call resolves at most %d references, not %d", usermerge.MaxResolveRefs, len(refs))
	}
	for i, r := range refs {
		if strings.TrimSpace(r) == "" {
			return nil, usermerge.Errorf(usermerge.Invalid, "empty_ref", "reference %d is empty", i+1)
		}
	}
	var out []usermerge.Resolution
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		out = make([]usermerge.Resolution, len(refs))
		named, err := tx.AccountsByRefs(ctx, a.tenant.ID, refs)
		if err != nil {
			return err
		}
		// A moved or retired external ID still resolves, through the merge
		// that moved it.
		for _, r := range refs {
			if _, ok := named[r]; ok {
				continue
			}
			system, value, ok := strings.Cut(strings.TrimSpace(r), ":")
			if !ok || system == "" || value == "" {
				continue
			}
			id, err := tx.ResolveExternalID(ctx, a.tenant.ID, system, value)
			if usermerge.ErrorCode(err) == usermerge.NotFound {
				continue
			}
			if err != nil {
				return err
			}
			if acc, err := tx.Account(ctx, a.tenant.ID, id); err == nil {
				named[r] = acc
			} else if usermerge.ErrorCode(err) != usermerge.NotFound {
				return err
			}
		}
		// Follow the chains a step at a time for every reference at once.
		holder := map[string]usermerge.Account{} // account id → the account it names, as read
		var chains = make([][]usermerge.ResolutionStep, len(refs))
		cur := make([]usermerge.Account, len(refs))
		found := make([]bool, len(refs))
		for i, r := range refs {
			if acc, ok := named[r]; ok {
				cur[i], found[i] = acc, true
				holder[acc.ID] = acc
			}
		}
		var mergeIDs []int64
		for step := 0; step < maxChain; step++ {
			var want []string
			for i := range refs {
				if found[i] && cur[i].MergedInto != "" && !cur[i].Deleted() {
					if _, ok := holder[cur[i].MergedInto]; !ok {
						want = append(want, cur[i].MergedInto)
					}
				}
			}
			if len(want) > 0 {
				got, err := tx.AccountsByRefs(ctx, a.tenant.ID, want)
				if err != nil {
					return err
				}
				for _, id := range want {
					if acc, ok := got[id]; ok && acc.ID == id {
						holder[id] = acc
					}
				}
			}
			moved := false
			for i := range refs {
				if !found[i] || cur[i].MergedInto == "" || cur[i].Deleted() {
					continue
				}
				next, ok := holder[cur[i].MergedInto]
				if !ok {
					continue
				}
				chains[i] = append(chains[i], usermerge.ResolutionStep{Merge: cur[i].MergedBy, From: cur[i].ID, Into: next.ID})
				mergeIDs = append(mergeIDs, cur[i].MergedBy)
				cur[i], moved = next, true
			}
			if !moved {
				break
			}
		}
		at, err := tx.MergeTimes(ctx, a.tenant.ID, mergeIDs)
		if err != nil {
			return err
		}
		// Each account once: two references to one account in different
		// chunks would list its reverted merges twice.
		var namedIDs []string
		listed := map[string]bool{}
		for i := range refs {
			if id := named[refs[i]].ID; found[i] && !listed[id] {
				listed[id] = true
				namedIDs = append(namedIDs, id)
			}
		}
		reverted, err := tx.RevertedMergesOf(ctx, a.tenant.ID, namedIDs)
		if err != nil {
			return err
		}
		visible := func(ids []string) (map[string]bool, error) { return nil, nil }
		if !a.all {
			visible = func(ids []string) (map[string]bool, error) {
				groups, err := tx.GroupIDsOfAccounts(ctx, a.tenant.ID, ids)
				if err != nil {
					return nil, err
				}
				ok := make(map[string]bool, len(ids))
				for id, gs := range groups {
					for _, g := range gs {
						if a.view[g] {
							ok[id] = true
						}
					}
				}
				return ok, nil
			}
		}
		ends := append([]string(nil), namedIDs...)
		for i := range refs {
			if found[i] {
				ends = append(ends, cur[i].ID)
			}
		}
		seen, err := visible(ends)
		if err != nil {
			return err
		}
		for i, r := range refs {
			res := usermerge.Resolution{Ref: r, State: usermerge.ResolvedNotFound}
			if !found[i] || (!a.all && !seen[named[r].ID]) {
				out[i] = res
				continue
			}
			n := named[r]
			res.Named = &usermerge.ResolvedAccount{ID: n.ID, Login: n.Login}
			for j := range chains[i] {
				chains[i][j].At = at[chains[i][j].Merge]
			}
			res.Chain, res.Reverted = chains[i], reverted[n.ID]
			end := cur[i]
			switch {
			case end.Deleted():
				res.State = usermerge.ResolvedDeleted
			case len(chains[i]) > 0:
				res.State = usermerge.ResolvedMerged
			default:
				res.State = usermerge.ResolvedActive
			}
			if !end.Deleted() && (a.all || seen[end.ID]) {
				res.Account = &usermerge.ResolvedAccount{ID: end.ID, Login: end.Login}
			}
			out[i] = res
		}
		return nil
	})
	return out, err
}
