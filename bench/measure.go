package bench

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// previewRuns is how often the preview runs; its median is reported.
const previewRuns = 5

type measurer struct {
	db      *store.DB
	eng     *engine.Engine
	d       *dataset
	r       *Result
	bar     *bar
	cpu     cpuClock // of db
	bareCPU cpuClock // of the bare baseline's copy
	mergeID int64
	planned map[usermerge.Kind]usermerge.Counts // by the preview
	before  [][]string                          // fingerprint of the heavy pair before the merge
}

var caller = engine.Caller{Tenant: tenantID, Admin: adminID}

func request() usermerge.MergeRequest {
	move := true
	return usermerge.MergeRequest{Target: targetID, Sources: []string{sourceID}, MoveExternalIDs: &move, Reason: "benchmark"}
}

func (m *measurer) add(name string, d, cpu time.Duration, rows int64) {
	s := d.Seconds()
	st := Step{Name: name, Seconds: s, CPUSeconds: cpu.Seconds(), Rows: rows}
	if s > 0 {
		st.RowsPerSecond = float64(rows) / s
	}
	m.r.Steps = append(m.r.Steps, st)
}

func (m *measurer) check(format string, args ...any) {
	m.r.Checks = append(m.r.Checks, fmt.Sprintf(format, args...))
}

// preview runs the heavy pair's preview previewRuns times and keeps the
// median.
func (m *measurer) preview(ctx context.Context) error {
	m.bar.note("measuring the preview")
	var times, cpus []time.Duration
	var rows int64
	for range previewRuns {
		t := startTimer(ctx, m.cpu)
		p, err := m.eng.Preview(ctx, caller, request())
		wall, cpu := t.stop(ctx)
		if err != nil {
			return fmt.Errorf("bench: preview: %w", err)
		}
		times, cpus = append(times, wall), append(cpus, cpu)
		rows = 0
		for _, k := range p.Sources[0].Kinds {
			c := k.Counts
			rows += c.Moved + c.Combined + c.Left + c.Changed
		}
		m.planned = kindCounts(p.Sources[0].Kinds)
	}
	m.r.PreviewRuns = previewRuns
	m.add("preview", median(times), median(cpus), rows)
	return nil
}

func kindCounts(ks []usermerge.KindPlan) map[usermerge.Kind]usermerge.Counts {
	out := map[usermerge.Kind]usermerge.Counts{}
	for _, k := range ks {
		out[k.Kind] = k.Counts
	}
	return out
}

// merge merges the heavy pair once, sampling memory, and checks what it did
// against the generated volumes.
func (m *measurer) merge(ctx context.Context) error {
	var err error
	if m.before, err = fingerprint(ctx, m.db); err != nil {
		return err
	}
	if err := settle(ctx, m.db, tableNames(m.d.tables())); err != nil {
		return err
	}
	m.bar.note("measuring the merge")
	mem := startMemory("")
	t := startTimer(ctx, m.cpu)
	ms, err := m.eng.Merge(ctx, caller, request())
	took, cpu := t.stop(ctx)
	m.r.Memory = mem.stop()
	if err != nil {
		return fmt.Errorf("bench: merge: %w", err)
	}
	m.mergeID = ms[0].ID
	m.r.Counts = ms[0].Counts
	var rows int64 // records written; what stays with the source is not
	for _, c := range ms[0].Counts {
		rows += c.Moved + c.Combined + c.Retired + c.Changed
	}
	m.add("merge", took, cpu, rows)
	for k, want := range m.d.expected() {
		got := ms[0].Counts[k]
		ok := got == want
		switch {
		case want.Changed < 0: // attempts: some renumbered
			ok = got.Moved == want.Moved && got.Changed > 0 && got.Combined == 0 && got.Retired == 0
		case want.Moved < 0: // keep-latest kinds: unpaired ones plus the source's newer ones move
			v := volumes[k]
			ok = got.Combined == want.Combined && got.Retired == want.Retired && got.Moved >= int64(v.source-v.shared) && got.Moved <= int64(v.source)
		}
		if !ok {
			return fmt.Errorf("bench: the merge did %+v with %s, want %+v", got, k, want)
		}
	}
	if diff := cmp.Diff(m.planned, ms[0].Counts); diff != "" {
		return fmt.Errorf("bench: the merge did not do what the preview said (-preview +merge):\n%s", diff)
	}
	m.check("the merge moved, combined, retired and left the generated numbers of records of every kind, as its preview said")
	return nil
}

// revert reverts the heavy merge and checks the heavy pair's records are
// exactly as before the merge.
func (m *measurer) revert(ctx context.Context) error {
	if err := settle(ctx, m.db, tableNames(m.d.tables())); err != nil {
		return err
	}
	m.bar.note("measuring the revert")
	t := startTimer(ctx, m.cpu)
	rep, err := m.eng.Revert(ctx, caller, []int64{m.mergeID})
	took, cpu := t.stop(ctx)
	if err != nil {
		return fmt.Errorf("bench: revert: %w", err)
	}
	if len(rep.KeptNewer) > 0 {
		return fmt.Errorf("bench: the revert kept %d records newer, want none", len(rep.KeptNewer))
	}
	m.add("revert", took, cpu, m.r.step("merge").Rows)
	after, err := fingerprint(ctx, m.db)
	if err != nil {
		return err
	}
	if diff := cmp.Diff(m.before, after); diff != "" {
		return fmt.Errorf("bench: the revert did not restore the heavy pair's records (-before +after):\n%s", diff)
	}
	m.check("the revert restored every record of the heavy pair (owner, marks and values of every kind)")
	return nil
}

// bareSpec says how the bare baseline moves one kind: every record of the
// source, or for kinds with one live record per item only those whose item
// the target does not hold (moving the others would break that rule's
// unique index).
type bareSpec struct {
	kind  usermerge.Kind
	table string
	key   string
}

// bareSpecs derive from the kinds' descriptors: every kind a merge moves,
// with its item key where it holds one live record per item.
var bareSpecs = func() []bareSpec {
	var out []bareSpec
	for _, spec := range usermerge.Specs {
		if spec.Shape == usermerge.ShapeLeave {
			continue
		}
		key := ""
		if spec.Shape == usermerge.ShapeCombine || spec.Shape == usermerge.ShapeKeep {
			key = spec.Item
		}
		out = append(out, bareSpec{spec.Kind, spec.Table, key})
	}
	return out
}()

// bare runs the bare baseline on the copy: one plain UPDATE per kind in one
// transaction, with no journal, no policy and no checks.
func (m *measurer) bare(ctx context.Context, db *store.DB) error {
	if err := settle(ctx, db, tableNames(m.d.tables())); err != nil {
		return err
	}
	m.bar.note("measuring the bare baseline")
	var rows int64
	t := startTimer(ctx, m.bareCPU)
	err := db.Transact(ctx, func(tx *store.Tx) error {
		rows = 0
		for _, b := range bareSpecs {
			q := `UPDATE ` + b.table + ` SET account_id = ? WHERE tenant_id = ? AND account_id = ?`
			args := []any{targetID, tenantID, sourceID}
			if b.key != "" {
				q += ` AND ` + b.key + ` NOT IN (SELECT ` + b.key + ` FROM ` + b.table + ` WHERE tenant_id = ? AND account_id = ?)`
				args = append(args, tenantID, targetID)
			}
			n, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return err
			}
			m.r.BareRows[b.kind] = n
			rows += n
		}
		return nil
	})
	took, cpu := t.stop(ctx)
	if err != nil {
		return fmt.Errorf("bench: bare baseline: %w", err)
	}
	m.add("bare", took, cpu, rows)
	for _, b := range bareSpecs {
		got, merged := m.r.BareRows[b.kind], m.r.Counts[b.kind].Moved
		keep := b.kind.Spec().Shape == usermerge.ShapeKeep
		if got != merged && !(keep && got <= merged) {
			return fmt.Errorf("bench: the bare baseline moved %d %s, the merge %d", got, b.table, merged)
		}
	}
	m.check("the bare baseline moved the same records as the merge (for keep-latest kinds the merge also moves the source's newer ones)")
	return nil
}

// fingerprint summarises every record table for the heavy pair: per
// account, the number of records and of retired ones, and the sum of every
// integer column (text by length). moved_by is left out: a revert leaves
// the mark as the audit trail of what the merge moved.
func fingerprint(ctx context.Context, db *store.DB) ([][]string, error) {
	var out [][]string
	err := db.View(ctx, func(tx *store.Tx) error {
		for _, b := range bareSpecs {
			exprs := []string{"COUNT(*)", "COUNT(retired_by)"}
			types := columnTypes(b.table)
			for _, col := range slices.Sorted(maps.Keys(types)) {
				switch types[col] {
				case "int":
					exprs = append(exprs, "CAST(SUM("+col+" % 1000003) AS BIGINT)")
				case "text":
					exprs = append(exprs, "CAST(SUM(LENGTH("+col+")) AS BIGINT)")
				}
			}
			rows, err := tx.Query(ctx, `SELECT account_id, `+strings.Join(exprs, ", ")+` FROM `+b.table+`
				WHERE tenant_id = ? AND account_id IN (?, ?) GROUP BY account_id ORDER BY account_id`, tenantID, sourceID, targetID)
			if err != nil {
				return err
			}
			for rows.Next() {
				vals := make([]any, len(exprs)+1)
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				line := []string{b.table}
				for _, v := range vals {
					line = append(line, fmt.Sprint(normalize(v)))
				}
				out = append(out, line)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func normalize(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// columnTypes maps a generated table's value columns to "int", "text" or
// "real", judged from the generator's rows (nullable times are integers).
func columnTypes(name string) map[string]string {
	d := newDataset(Options{Accounts: 4, SignIns: 1, Seed: 1, Now: time.Unix(1e9, 0)})
	for _, t := range append(d.tables(), d.signins(), d.attempts()) {
		if t.name != name {
			continue
		}
		out := map[string]string{}
		for row := range t.gen {
			for i, c := range t.cols {
				if i < 3 { // tenant_id, id, account_id
					continue
				}
				switch row[i].(type) {
				case string:
					out[c] = "text"
				case float64:
					out[c] = "real"
				default:
					out[c] = "int"
				}
			}
			break
		}
		return out
	}
	return nil
}

// list measures merge-list searches: by a 30-day time range, by source
// name and by target name, each Samples times (after two unmeasured
// warm-ups), and checks every page.
func (m *measurer) list(ctx context.Context) error {
	m.bar.note("measuring the merge list")
	r := rand.New(rand.NewPCG(m.d.o.Seed, 99))
	window := 30 * 24 * time.Hour
	filters := []struct {
		name string
		make func() usermerge.MergeFilter
		ok   func(f usermerge.MergeFilter, mg usermerge.Merge) bool
	}{
		{"time range (30 days)", func() usermerge.MergeFilter {
			from := m.d.o.Now.Add(-time.Duration(m.d.span) * time.Millisecond).Add(time.Duration(r.Int64N(m.d.span-window.Milliseconds())) * time.Millisecond)
			to := from.Add(window)
			return usermerge.MergeFilter{From: &from, To: &to}
		}, func(f usermerge.MergeFilter, mg usermerge.Merge) bool {
			return !mg.At.Before(*f.From) && mg.At.Before(*f.To)
		}},
		{"source name", func() usermerge.MergeFilter {
			_, name := m.d.person(r.IntN(m.d.bg))
			return usermerge.MergeFilter{Source: name}
		}, func(f usermerge.MergeFilter, mg usermerge.Merge) bool { return matches(mg.Source, f.Source) }},
		{"target name", func() usermerge.MergeFilter {
			_, name := m.d.person(r.IntN(m.d.bg))
			return usermerge.MergeFilter{Target: name}
		}, func(f usermerge.MergeFilter, mg usermerge.Merge) bool { return matches(mg.Target, f.Target) }},
	}
	var hits int
	for _, f := range filters {
		var times []time.Duration
		var totals []int64
		for i := range m.d.o.Samples + 2 {
			flt := f.make()
			flt.Page, flt.PerPage = 1, 50
			start := time.Now()
			p, err := m.eng.ListMerges(ctx, caller, flt)
			took := time.Since(start)
			if err != nil {
				return fmt.Errorf("bench: list merges by %s: %w", f.name, err)
			}
			if want := min(int64(50), p.Total); int64(len(p.Merges)) != want {
				return fmt.Errorf("bench: list by %s: %d merges on the first page of %d", f.name, len(p.Merges), p.Total)
			}
			for j, mg := range p.Merges {
				if !f.ok(flt, mg) || mg.State == usermerge.StateTargetDeleted {
					return fmt.Errorf("bench: list by %s (%+v) returned merge %d, which does not match", f.name, flt, mg.ID)
				}
				if j > 0 && (mg.At.After(p.Merges[j-1].At) || mg.At.Equal(p.Merges[j-1].At) && mg.ID > p.Merges[j-1].ID) {
					return fmt.Errorf("bench: list by %s is not newest first at merge %d", f.name, mg.ID)
				}
				if len(mg.Counts) != countsPerMerge {
					return fmt.Errorf("bench: list by %s: merge %d comes with %d counts, want %d", f.name, mg.ID, len(mg.Counts), countsPerMerge)
				}
			}
			hits += len(p.Merges)
			if i >= 2 {
				times, totals = append(times, took), append(totals, p.Total)
			}
		}
		sorted := slices.Clone(times)
		slices.Sort(sorted)
		slices.Sort(totals)
		m.r.List = append(m.r.List, ListStat{Filter: f.name, Queries: len(times), P50ms: ms(percentile(sorted, 50)),
			P95ms: ms(percentile(sorted, 95)), MaxMs: ms(sorted[len(sorted)-1]), MedianTotal: totals[len(totals)/2]})
	}
	if hits == 0 {
		return fmt.Errorf("bench: no merge-list search found anything")
	}
	m.check("every merge-list page held only matching merges, newest first, with their counts")
	return nil
}

func matches(a usermerge.Account, q string) bool {
	q = strings.ToLower(q)
	for _, s := range []string{a.ID, a.Name, a.Login, a.Email} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}
