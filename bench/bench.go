// Package bench is usermerge's benchmark: it generates a tenant with a
// heavy duplicate pair (a source with a long history of every kind) and a
// long merge list into a fresh database, then measures the preview, the
// merge and the revert of the heavy pair against the bare SQL that moves
// the same rows, the process's peak memory during the merge, and the
// latency of merge-list searches. `usermerge bench` runs it;
// docs/performance.md holds its results.
package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// Options configures a run. Zero values take the defaults of the issue.
type Options struct {
	DB       string // SQLite file or PostgreSQL URL (its search_path names the schema)
	Force    bool   // delete a database that already holds data
	Accounts int    // accounts in the tenant, the heavy pair included (default 100,000)
	SignIns  int    // sign-ins of the heavy source (default 1,000,000)
	Merges   int    // merge records for the list (default 1,000,000; negative: none)
	Samples  int    // list queries per filter (default 30)
	Seed     uint64 // the same seed gives the same data
	// Now is the reference time: generated history lies before it.
	Now time.Time
	// Progress receives a progress bar (a terminal) or nothing (nil).
	Progress io.Writer
	// Keep leaves the bare baseline's copy in place (for inspection).
	Keep bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Accounts == 0 {
		o.Accounts = 100_000
	}
	if o.SignIns == 0 {
		o.SignIns = 1_000_000
	}
	switch {
	case o.Merges == 0:
		o.Merges = 1_000_000
	case o.Merges < 0:
		o.Merges = 0
	}
	if o.Samples == 0 {
		o.Samples = 30
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Millisecond)
	switch {
	case o.Accounts < 4:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench: --accounts must be 4 or more (the heavy pair and the accounts the merge list is made of)")
	case o.SignIns < 1:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench: --signins must be 1 or more")
	case o.Samples < 1:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench: the number of list queries must be 1 or more")
	}
	return o, nil
}

// Result is what a run measured. Times are seconds unless named _ms.
type Result struct {
	Database string    `json:"database"` // sqlite or postgres
	Accounts int       `json:"accounts"`
	SignIns  int       `json:"signins"`
	Merges   int       `json:"merges"`
	At       time.Time `json:"at"`
	Load     Step      `json:"load"`
	// Steps: preview (median of PreviewRuns), merge, revert and bare.
	Steps       []Step  `json:"steps"`
	PreviewRuns int     `json:"preview_runs"`
	MergeBare   float64 `json:"merge_vs_bare"`
	RevertBare  float64 `json:"revert_vs_bare"`
	// The same ratios of CPU time (0 where it cannot be read): steadier
	// than wall time on a machine shared with other work.
	MergeBareCPU  float64 `json:"merge_vs_bare_cpu,omitempty"`
	RevertBareCPU float64 `json:"revert_vs_bare_cpu,omitempty"`
	Memory        Memory  `json:"memory"`
	// Counts is what the heavy merge did per kind; BareRows what the bare
	// baseline's statement per kind moved.
	Counts   map[usermerge.Kind]usermerge.Counts `json:"counts"`
	BareRows map[usermerge.Kind]int64            `json:"bare_rows"`
	List     []ListStat                          `json:"list,omitempty"`
	// Checks lists what the run verified about the results (the counts,
	// the exact revert, the list pages); a failed check fails the run.
	Checks []string `json:"checks"`
}

// Step is one measured operation.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the database's CPU time for the step (SQLite: this
	// process; PostgreSQL: the server processes of the run's connections,
	// when the server runs on this machine); 0 when unknown.
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	Rows          int64   `json:"rows"`
	RowsPerSecond float64 `json:"rows_per_second"`
}

// Memory is the process's memory around the heavy merge.
type Memory struct {
	// PeakRSS is the process's peak resident set (VmHWM) during the merge,
	// reset just before it; BaseRSS the resident set at that reset.
	PeakRSS int64 `json:"peak_rss_bytes"`
	BaseRSS int64 `json:"base_rss_bytes"`
	// PeakAnon is the largest anonymous resident memory (RssAnon: the Go
	// and C heaps and stacks, not the pages of a memory-mapped database
	// file, which VmHWM counts too) sampled every 100 ms during the step.
	PeakAnon int64 `json:"peak_rss_anon_bytes,omitempty"`
	// PeakHeap is the largest Go heap (live and unswept objects) sampled
	// every 10 ms during the merge.
	PeakHeap int64 `json:"peak_go_heap_bytes"`
	// Supported is false where /proc is missing (not Linux).
	Supported bool `json:"supported"`
}

// ListStat is the latency of one kind of merge-list search.
type ListStat struct {
	Filter  string  `json:"filter"`
	Queries int     `json:"queries"`
	P50ms   float64 `json:"p50_ms"`
	P95ms   float64 `json:"p95_ms"`
	MaxMs   float64 `json:"max_ms"`
	// MedianTotal is the median number of merges the searches matched.
	MedianTotal int64 `json:"median_total"`
}

func (r *Result) step(name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{}
}

// Run generates the data into a fresh database and measures. It fails when
// the database already holds data (unless Force) or when a check of the
// results fails.
func Run(ctx context.Context, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	loc, err := parseLocation(o.DB)
	if err != nil {
		return nil, err
	}
	if err := loc.prepare(ctx, o.Force); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, loc.url)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", loc, err)
	}
	defer db.Close()
	r := &Result{Database: db.Dialect(), Accounts: o.Accounts, SignIns: o.SignIns, Merges: o.Merges, At: time.Now().UTC(),
		Counts: map[usermerge.Kind]usermerge.Counts{}, BareRows: map[usermerge.Kind]int64{}}
	d := newDataset(o)
	bar := newBar(o.Progress)

	if r.Load, err = load(ctx, db, d, bar); err != nil {
		return nil, err
	}
	bar.note("copying the data for the bare baseline")
	bareLoc := loc.bare()
	bare, err := copyTo(ctx, db, loc, bareLoc, d.tables())
	if err != nil {
		return nil, err
	}
	defer func() {
		bare.Close()
		if !o.Keep {
			bareLoc.drop(context.WithoutCancel(ctx), false)
		}
	}()
	names := tableNames(d.tables())
	if err := settle(ctx, bare, names); err != nil {
		return nil, err
	}
	if err := settle(ctx, db, names); err != nil {
		return nil, err
	}

	m := &measurer{db: db, eng: engine.New(db, nil), d: d, r: r, bar: bar,
		cpu: newCPUClock(db, appName(loc.schema)), bareCPU: newCPUClock(bare, appName(bareLoc.schema))}
	for _, step := range []func(context.Context) error{m.preview, m.merge, m.revert} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	if err := m.bare(ctx, bare); err != nil {
		return nil, err
	}
	if o.Merges > 0 {
		if err := m.list(ctx); err != nil {
			return nil, err
		}
	}
	bar.note("")
	if b := r.step("bare").Seconds; b > 0 {
		r.MergeBare = r.step("merge").Seconds / b
		r.RevertBare = r.step("revert").Seconds / b
	}
	if b := r.step("bare").CPUSeconds; b > 0 {
		r.MergeBareCPU = r.step("merge").CPUSeconds / b
		r.RevertBareCPU = r.step("revert").CPUSeconds / b
	}
	return r, nil
}

func tableNames(ts []table) []string {
	out := []string{"tenants", "groups", "jobs", "admins", "counters"}
	for _, t := range ts {
		out = append(out, t.name)
	}
	return out
}

// load writes the tenant, its administrator, groups and jobs, then every
// generated table by the bulk path, and sets the id counters after the
// generated merges.
func load(ctx context.Context, db *store.DB, d *dataset, bar *bar) (Step, error) {
	start := time.Now()
	err := db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: tenantID, Name: "Benchmark Academy", Policy: policy}); err != nil {
			return err
		}
		if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: tenantID, ID: adminID, Login: adminID, Name: "Bench Admin", Role: usermerge.TenantAdmin}, ""); err != nil {
			return err
		}
		for i := range groupCount {
			if err := tx.PutGroup(ctx, usermerge.Group{TenantID: tenantID, ID: "g" + pad(int64(i), 3), Name: "Group " + pad(int64(i), 3)}); err != nil {
				return err
			}
			if err := tx.PutJob(ctx, usermerge.Job{TenantID: tenantID, ID: "j" + pad(int64(i), 3), Title: "Job " + pad(int64(i), 3)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Step{}, fmt.Errorf("bench: create tenant: %w", err)
	}
	var total, done int64
	for _, t := range d.tables() {
		total += t.rows
	}
	bar.start("loading", total)
	for _, t := range d.tables() {
		n, err := db.BulkInsert(ctx, t.name, t.cols, t.gen, func(n int64) { bar.set(t.name, done+n) })
		if err != nil {
			return Step{}, err
		}
		if n != t.rows {
			return Step{}, fmt.Errorf("bench: %s: generated %d rows, want %d", t.name, n, t.rows)
		}
		done += n
	}
	bar.finish()
	if err := setCounters(ctx, db, int64(d.o.Merges)); err != nil {
		return Step{}, err
	}
	s := time.Since(start).Seconds()
	return Step{Name: "load", Seconds: s, Rows: done, RowsPerSecond: float64(done) / s}, nil
}

// setCounters makes the next merge and operation ids follow the generated
// merges.
func setCounters(ctx context.Context, db *store.DB, merges int64) error {
	return db.Transact(ctx, func(tx *store.Tx) error {
		for _, name := range []string{"merge", "operation"} {
			if merges <= 0 {
				break
			}
			if _, err := tx.Exec(ctx, `INSERT INTO counters (tenant_id, name, value) VALUES (?, ?, ?)`, tenantID, name, merges); err != nil {
				return fmt.Errorf("bench: set the %s counter: %w", name, err)
			}
		}
		return nil
	})
}
