package bench

import (
	"encoding/json"

	"usermerge"
)

// The events bench's resolve tenant: Accounts accounts in groups of five
// and Merges merge records among them, consistent with the accounts (a
// merged account points at the merge that merged it), so that resolving
// follows real chains. Groups cycle through four shapes:
//
//	0: a0 → a1 → a2 (a chain of two merges) and a3 → a2; a4 active
//	1: a0 → a1; a4 deleted
//	2, 3: no active merge
//
// Every other merge is a reverted one, spread over the groups, before
// their active merges: a3 or a4 was merged into a2 and reverted, so they
// hold their data again (and group 0's a3 was then merged for good).

const resolveTenant = "resolve"

// activeMerges of a group of shape g%4, and of all groups before g.
func activeMergesOf(g int) int { return [4]int{3, 1, 0, 0}[g%4] }
func activeBefore(g int) int   { return 4*(g/4) + [4]int{0, 3, 4, 4}[g%4] }

type resolveDataset struct {
	*dataset
	groups, merges int
	reverted       int // reverted merges in all
}

func newResolveDataset(d *dataset, accounts, merges int) *resolveDataset {
	r := &resolveDataset{dataset: d, groups: accounts / 5}
	active := activeBefore(r.groups)
	r.reverted = max(0, merges-active)
	r.merges = active + r.reverted
	return r
}

func resolveAccount(i int) string { return "r" + pad(int64(i), 7) }
func resolveLogin(i int) string   { return "learner" + pad(int64(i), 7) }
func resolveExternal(i int) string {
	return "hr:R" + pad(int64(i), 7)
}

// revertedIn is how many reverted merges group g holds.
func (r *resolveDataset) revertedIn(g int) int {
	n := r.reverted / r.groups
	if g < r.reverted%r.groups {
		n++
	}
	return n
}

// firstMerge is the id of group g's first merge minus one.
func (r *resolveDataset) firstMerge(g int) int64 {
	rev := g*(r.reverted/r.groups) + min(g, r.reverted%r.groups)
	return int64(rev + activeBefore(g))
}

// activeMerge answers group g's k-th active merge: its id, source and
// target (positions in the group).
func (r *resolveDataset) activeMerge(g, k int) (id int64, src, tgt int) {
	id = r.firstMerge(g) + int64(r.revertedIn(g)+k+1)
	pairs := [][2]int{{0, 1}, {1, 2}, {3, 2}}
	return id, pairs[k][0], pairs[k][1]
}

// revertedSource is the position of the source of group g's j-th reverted
// merge (its target is a2).
func revertedSource(j int) int { return 4 - j%2 }

// want is what resolving account i must answer.
type wantResolution struct {
	state    string
	end      int // the account that holds the data (-1: deleted)
	chain    int
	reverted int
}

func (r *resolveDataset) want(i int) wantResolution {
	g, p := i/5, i%5
	base := 5 * g
	w := wantResolution{state: usermerge.ResolvedActive, end: i}
	switch {
	case g%4 == 0 && p == 0:
		w = wantResolution{state: usermerge.ResolvedMerged, end: base + 2, chain: 2}
	case g%4 == 0 && (p == 1 || p == 3):
		w = wantResolution{state: usermerge.ResolvedMerged, end: base + 2, chain: 1}
	case g%4 == 1 && p == 0:
		w = wantResolution{state: usermerge.ResolvedMerged, end: base + 1, chain: 1}
	case g%4 == 1 && p == 4:
		w = wantResolution{state: usermerge.ResolvedDeleted, end: -1}
	}
	if p == 3 || p == 4 {
		n := r.revertedIn(g)
		w.reverted = n / 2
		if p == 4 {
			w.reverted += n % 2
		}
	}
	return w
}

func (r *resolveDataset) tables() []table {
	return []table{r.accounts(), r.externalIDs(), r.mergeRows()}
}

func (r *resolveDataset) accounts() table {
	cols := []string{"tenant_id", "id", "login", "email", "name", "status", "created_at", "deleted_at", "merged_into", "merged_by"}
	return table{name: "accounts", cols: cols, rows: int64(5 * r.groups), gen: func(yield func([]any) bool) {
		created := r.now - r.span - 1000
		row := make([]any, len(cols))
		for g := range r.groups {
			into := [5]any{}
			by := [5]any{}
			for k := range activeMergesOf(g) {
				id, src, tgt := r.activeMerge(g, k)
				into[src], by[src] = resolveAccount(5*g+tgt), id
			}
			for p := range 5 {
				i := 5*g + p
				given, surname := r.person(i)
				row[0], row[1], row[2], row[3], row[4] = resolveTenant, resolveAccount(i), resolveLogin(i), resolveLogin(i)+"@example.org", given+" "+surname
				row[5], row[6], row[7], row[8], row[9] = "active", created+int64(i), nil, into[p], by[p]
				if into[p] != nil {
					row[5] = "inactive"
				}
				if g%4 == 1 && p == 4 {
					row[7] = r.now - 86_400_000
				}
				if !yield(row) {
					return
				}
			}
		}
	}}
}

func (r *resolveDataset) externalIDs() table {
	cols := []string{"tenant_id", "id", "account_id", "system", "value"}
	return table{name: "external_ids", cols: cols, rows: int64(5 * r.groups), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		for i := range 5 * r.groups {
			row[0], row[1], row[2], row[3], row[4] = resolveTenant, "x"+pad(int64(i), 7), resolveAccount(i), "hr", "R"+pad(int64(i), 7)
			if !yield(row) {
				return
			}
		}
	}}
}

// mergeRows are the merge records, in id order, spread evenly over the
// history; a group's reverted merges come before its active ones.
func (r *resolveDataset) mergeRows() table {
	cols := []string{"tenant_id", "id", "operation_id", "source_id", "target_id", "by_admin", "reason", "at",
		"move_external_ids", "policy", "state", "source_prev_status", "reverted_at", "reverted_by"}
	pol, _ := json.Marshal(policy)
	return table{name: "merges", cols: cols, rows: int64(r.merges), gen: func(yield func([]any) bool) {
		row := make([]any, len(cols))
		emit := func(id int64, src, tgt int, reverted bool) bool {
			at := r.now - r.span + int64((float64(id)-0.5)*float64(r.span)/float64(max(1, r.merges)))
			state, revAt, revBy := "active", any(nil), any(nil)
			if reverted {
				state, revAt, revBy = "reverted", any(at+60_000), any(adminID)
			}
			row[0], row[1], row[2], row[3], row[4], row[5], row[6] = resolveTenant, id, id, resolveAccount(src), resolveAccount(tgt), adminID, ""
			row[7], row[8], row[9], row[10], row[11], row[12], row[13] = at, int64(0), string(pol), state, "active", revAt, revBy
			return yield(row)
		}
		for g := range r.groups {
			id := r.firstMerge(g)
			for j := range r.revertedIn(g) {
				id++
				if !emit(id, 5*g+revertedSource(j), 5*g+2, true) {
					return
				}
			}
			for k := range activeMergesOf(g) {
				id, src, tgt := r.activeMerge(g, k)
				if !emit(id, 5*g+src, 5*g+tgt, false) {
					return
				}
			}
		}
	}}
}
