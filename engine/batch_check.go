package engine

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"usermerge"
	"usermerge/store"
)

// The check of a batch (PRODUCT.md §12, docs/batches.md): every rule of a
// single merge per row (check in merge.go, the same account lookup), then
// the rules across rows: a source named in two rows, chains put in working
// order, cycles refused. The account lookups of the rows are made with a
// few set queries first (actor.prefetch), so that a check of 10,000 rows
// does not cost a query per account.

// examined is one row after the check.
type examined struct {
	row     usermerge.BatchRow
	index   int // in the file
	ck      checked
	problem *usermerge.RowProblem
	order   int // 1-based place in the working order
	after   int // line of the row that must run first (0: none)
}

// examine checks every row and answers them in working order. A whole
// batch error (no right to merge, merging switched off, no rows, too many)
// is the error; a bad row is its problem.
func examine(ctx context.Context, tx *store.Tx, a *actor, rows []usermerge.BatchRow) ([]examined, error) {
	if !a.tenant.Policy.MergeEnabled {
		return nil, usermerge.Errorf(usermerge.Forbidden, "merging_disabled", "merging accounts is switched off for tenant %s", a.tenant.Name)
	}
	if err := a.requireEdit(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, usermerge.Errorf(usermerge.Invalid, "batch_empty", "the batch holds no rows")
	}
	if len(rows) > usermerge.MaxBatchRows {
		return nil, usermerge.Errorf(usermerge.Invalid, "too_many_rows", "a batch holds at most %d rows, not %d", usermerge.MaxBatchRows, len(rows))
	}
	var refs []string
	for _, r := range rows {
		if len(r.Sources) <= usermerge.MaxSources {
			refs = append(refs, r.Target)
			refs = append(refs, r.Sources...)
		}
	}
	if err := a.prefetch(ctx, tx, refs); err != nil {
		return nil, err
	}
	defer func() { a.known, a.groupsOf = nil, nil }()
	ex := make([]examined, len(rows))
	for i, r := range rows {
		if r.Line == 0 {
			r.Line = i + 1
		}
		ex[i] = examined{row: r, index: i}
		ck, err := check(ctx, tx, a, r.Request())
		if err != nil {
			if ex[i].problem = rowProblem(r.Line, err); ex[i].problem == nil {
				return nil, err
			}
			continue
		}
		ex[i].ck = ck
	}
	acrossRows(ex)
	return workingOrder(ex), nil
}

// rowProblem turns a refusal into a row's problem; nil for an error that
// is not a refusal (the database failed).
func rowProblem(line int, err error) *usermerge.RowProblem {
	var ue *usermerge.Error
	if !errors.As(err, &ue) || ue.Code == usermerge.Internal || ue.Code == usermerge.Unavailable {
		return nil
	}
	reason := ue.Reason
	if reason == "not_found" {
		reason = "account_not_found"
	}
	return &usermerge.RowProblem{Line: line, Reason: reason, Message: ue.Message}
}

func (x *examined) refuse(reason, format string, args ...any) {
	if x.problem == nil {
		x.problem = &usermerge.RowProblem{Line: x.row.Line, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
}

// acrossRows refuses a row naming a source an earlier row names, and the
// rows of each cycle of chains.
func acrossRows(ex []examined) {
	sourceOf := map[string]int{} // account id → the first row merging it away
	for i := range ex {
		x := &ex[i]
		if x.problem != nil {
			continue
		}
		for _, s := range x.ck.sources {
			if j, ok := sourceOf[s.ID]; ok {
				x.refuse("source_in_two_rows", "%s (%s) is also merged away by line %d; name each account to merge in one row only",
					s.Login, s.Name, ex[j].row.Line)
				break
			}
		}
		if x.problem == nil {
			for _, s := range x.ck.sources {
				sourceOf[s.ID] = i
			}
		}
	}
	g := chainGraph(ex)
	for _, comp := range cycles(g, len(ex)) {
		lines := make([]string, 0, len(comp))
		for _, i := range comp {
			lines = append(lines, fmt.Sprint(ex[i].row.Line))
		}
		list := strings.Join(lines, ", ")
		if len(lines) > 10 {
			list = strings.Join(lines[:10], ", ") + fmt.Sprintf(" and %d more", len(lines)-10)
		}
		for _, i := range comp {
			ex[i].refuse("chain_cycle", "lines %s merge each other's accounts in a cycle: each keeps an account another merges away, so no order works", list)
		}
	}
}

// chainGraph has an edge r → s when row s merges away row r's target: r
// must run first. Refused rows have no edges.
func chainGraph(ex []examined) [][]int {
	targetOf := map[string][]int{}
	for i, x := range ex {
		if x.problem == nil {
			targetOf[x.ck.target.ID] = append(targetOf[x.ck.target.ID], i)
		}
	}
	g := make([][]int, len(ex))
	for s, x := range ex {
		if x.problem != nil {
			continue
		}
		for _, src := range x.ck.sources {
			for _, r := range targetOf[src.ID] {
				if r != s && !slices.Contains(g[r], s) {
					g[r] = append(g[r], s)
				}
			}
		}
	}
	return g
}

// cycles answers the strongly connected components of more than one row
// (Tarjan's algorithm, iterative: a chain may be thousands of rows long),
// each sorted by file order.
func cycles(g [][]int, n int) [][]int {
	index, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var out [][]int
	var st []int
	next := 0
	type frame struct{ v, e int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		calls := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		st = append(st, root)
		onStack[root] = true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			if f.e < len(g[f.v]) {
				w := g[f.v][f.e]
				f.e++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					st = append(st, w)
					onStack[w] = true
					calls = append(calls, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := st[len(st)-1]
					st = st[:len(st)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				if len(comp) > 1 {
					slices.Sort(comp)
					out = append(out, comp)
				}
			}
		}
	}
	return out
}

// byIndex is a min-heap of row indexes: among the rows free to run, the
// earliest in the file goes first, so the order is the file's wherever no
// chain forces another.
type byIndex []int

func (h byIndex) Len() int           { return len(h) }
func (h byIndex) Less(i, j int) bool { return h[i] < h[j] }
func (h byIndex) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byIndex) Push(x any)        { *h = append(*h, x.(int)) }
func (h *byIndex) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// workingOrder sorts the rows so that each row runs after every row whose
// target it merges away (Kahn's algorithm over the chain graph, once the
// cycles are refused), and sets Order and After.
func workingOrder(ex []examined) []examined {
	g := chainGraph(ex) // again: the cycles' rows are refused now
	indeg := make([]int, len(ex))
	for _, succ := range g {
		for _, s := range succ {
			indeg[s]++
		}
	}
	h := &byIndex{}
	for i, d := range indeg {
		if d == 0 {
			*h = append(*h, i)
		}
	}
	heap.Init(h)
	out := make([]examined, 0, len(ex))
	pos := make([]int, len(ex))
	for h.Len() > 0 {
		i := heap.Pop(h).(int)
		pos[i] = len(out) + 1
		ex[i].order = pos[i]
		out = append(out, ex[i])
		for _, s := range g[i] {
			if indeg[s]--; indeg[s] == 0 {
				heap.Push(h, s)
			}
		}
	}
	// After: the latest in working order of the rows that must run first.
	latest := make([]int, len(ex)) // index+1 of that row
	for r, succ := range g {
		for _, s := range succ {
			if latest[s] == 0 || pos[r] > pos[latest[s]-1] {
				latest[s] = r + 1
			}
		}
	}
	for k := range out {
		if l := latest[out[k].index]; l > 0 {
			out[k].after = ex[l-1].row.Line
		}
	}
	return out
}

// problemsOf gathers the rows' problems in file order.
func problemsOf(ex []examined) *problemList {
	var l problemList
	bad := make([]*usermerge.RowProblem, 0)
	for _, x := range ex {
		if x.problem != nil {
			bad = append(bad, x.problem)
		}
	}
	slices.SortStableFunc(bad, func(p, q *usermerge.RowProblem) int { return cmp.Compare(p.Line, q.Line) })
	for _, p := range bad {
		l.add(p.Line, p.Reason, "%s", p.Message)
	}
	return &l
}

func ids(accs []usermerge.Account) []string {
	out := make([]string, len(accs))
	for i, a := range accs {
		out[i] = a.ID
	}
	return out
}

// CheckBatch checks every row against the data and against the other rows
// (unknown, deleted or admin accounts, scope, a source named in two rows,
// chains put in working order, cycles, too many sources) and answers the
// rows in working order, writing nothing. A batch with any bad row is
// refused whole with each bad row named (*usermerge.BatchProblems).
func (e *Engine) CheckBatch(ctx context.Context, c Caller, rows []usermerge.BatchRow) ([]usermerge.BatchRowResult, error) {
	var out []usermerge.BatchRowResult
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		ex, err := examine(ctx, tx, a, rows)
		if err != nil {
			return err
		}
		if l := problemsOf(ex); l.bad() {
			return l.refused(len(rows), "rows of it cannot be merged")
		}
		out = make([]usermerge.BatchRowResult, len(ex))
		for i, x := range ex {
			out[i] = usermerge.BatchRowResult{BatchRow: x.row, Order: x.order, Status: usermerge.RowPending,
				TargetID: x.ck.target.ID, SourceIDs: ids(x.ck.sources)}
		}
		return nil
	})
	return out, err
}

// DryRunBatch answers, per row, what its merge would do or why it is
// refused, writing nothing. Bad rows do not refuse the dry run: they are
// reported in it.
func (e *Engine) DryRunBatch(ctx context.Context, c Caller, rows []usermerge.BatchRow) (usermerge.BatchPlan, error) {
	plan := usermerge.BatchPlan{Rows: len(rows), Plans: []usermerge.BatchRowPlan{}, Total: map[usermerge.Kind]usermerge.Counts{}}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		ex, err := examine(ctx, tx, a, rows)
		if err != nil {
			return err
		}
		counts, err := batchCounts(ctx, tx, a, ex)
		if err != nil {
			return err
		}
		for i, x := range ex {
			p := usermerge.BatchRowPlan{BatchRow: x.row, Order: x.order, After: x.after, Problem: x.problem}
			if x.problem != nil {
				plan.Refused++
				plan.Plans = append(plan.Plans, p)
				continue
			}
			p.TargetID, p.SourceIDs, p.Counts = x.ck.target.ID, ids(x.ck.sources), counts[i]
			for k, n := range p.Counts {
				plan.Total[k] = addCounts(plan.Total[k], n)
			}
			plan.Ready++
			plan.Plans = append(plan.Plans, p)
		}
		return nil
	})
	return plan, err
}

// batchCounts answers, for each ready row, per kind, what merging its
// sources into its target would do to the data as it is now, summed over
// its sources: the counts store.Tx.PlanKind gives (as Preview counts a
// source), taken for every row at once a kind at a time
// (store.Tx.PlanKindMany). Refused rows have nil.
func batchCounts(ctx context.Context, tx *store.Tx, a *actor, ex []examined) ([]map[usermerge.Kind]usermerge.Counts, error) {
	out := make([]map[usermerge.Kind]usermerge.Counts, len(ex))
	var owner []int // the row of each pair
	for i, x := range ex {
		if x.problem != nil {
			continue
		}
		out[i] = make(map[usermerge.Kind]usermerge.Counts, len(usermerge.Kinds))
		for range x.ck.sources {
			owner = append(owner, i)
		}
	}
	if len(owner) == 0 {
		return out, nil
	}
	pairs := make([]store.PlanPair, 0, len(owner))
	for _, k := range usermerge.Kinds {
		pairs = pairs[:0]
		for _, x := range ex {
			if x.problem != nil {
				continue
			}
			d := store.DecisionFor(k, a.tenant.Policy, x.ck.moveExt)
			for _, src := range x.ck.sources {
				pairs = append(pairs, store.PlanPair{Source: src.ID, Target: x.ck.target.ID, Decision: d})
			}
		}
		got, err := tx.PlanKindMany(ctx, a.tenant.ID, k, pairs)
		if err != nil {
			return nil, fmt.Errorf("dry run, %s: %w", k, err)
		}
		for j, n := range got {
			out[owner[j]][k] = addCounts(out[owner[j]][k], n)
		}
	}
	return out, nil
}

func addCounts(a, b usermerge.Counts) usermerge.Counts {
	a.Moved += b.Moved
	a.Combined += b.Combined
	a.Retired += b.Retired
	a.Left += b.Left
	a.Changed += b.Changed
	return a
}
