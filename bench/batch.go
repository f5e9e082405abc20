package bench

import (
	"context"
	"fmt"
	"io"
	"runtime/metrics"
	"text/tabwriter"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// BatchOptions configures `usermerge bench batch`.
type BatchOptions struct {
	DB       string
	Force    bool
	Accounts int // accounts in the tenant (default 100,000)
	Rows     int // rows of the batch: duplicate pairs (default 10,000)
	// MemoryAt is the row after which the peak memory is read a first
	// time (default 1,000), to compare with the peak at the end.
	MemoryAt int
	Seed     uint64
	Now      time.Time
	Progress io.Writer
	Keep     bool
	// CPUProfile, when not empty, is a file for a CPU profile of the run;
	// the bare baseline's goes to CPUProfile + ".bare".
	CPUProfile string
}

// BatchResult is what a batch bench measured. Steps: check, dry_run,
// create, run (the batch) and bare (the baseline on a copy).
type BatchResult struct {
	Database         string    `json:"database"`
	Accounts         int       `json:"accounts"`
	Rows             int       `json:"rows"`
	RecordsPerSource int       `json:"records_per_source"`
	RecordsPerTarget int       `json:"records_per_target"`
	At               time.Time `json:"at"`
	Load             Step      `json:"load"`
	Steps            []Step    `json:"steps"`
	MergesPerSecond  float64   `json:"merges_per_second"`
	// RunBare is run/bare in wall time; RunBareCPU in the database's CPU
	// time (0 where it cannot be read).
	RunBare    float64 `json:"run_vs_bare"`
	RunBareCPU float64 `json:"run_vs_bare_cpu,omitempty"`
	// CheckShare is (check + dry run) / run.
	CheckShare float64     `json:"check_and_dry_run_vs_run"`
	Memory     BatchMemory `json:"memory"`
	// Moved is what the batch's merges moved per kind; BareRows what the
	// bare baseline moved.
	Moved    map[usermerge.Kind]int64 `json:"moved"`
	BareRows map[usermerge.Kind]int64 `json:"bare_rows"`
	Checks   []string                 `json:"checks"`
}

// BatchMemory is the process's memory during the run: the peak resident
// set and Go heap after MemoryAt rows and at the end (Linux only).
type BatchMemory struct {
	BaseRSS      int64 `json:"base_rss_bytes"`
	EarlyRows    int   `json:"early_rows"`
	EarlyPeakRSS int64 `json:"early_peak_rss_bytes"`
	PeakRSS      int64 `json:"peak_rss_bytes"`
	EarlyHeap    int64 `json:"early_go_heap_bytes"`
	PeakHeap     int64 `json:"peak_go_heap_bytes"`
	Supported    bool  `json:"supported"`
}

func (r *BatchResult) step(name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{}
}

func (o BatchOptions) withDefaults() (BatchOptions, error) {
	if o.Accounts == 0 {
		o.Accounts = 100_000
	}
	if o.Rows == 0 {
		o.Rows = 10_000
	}
	if o.MemoryAt == 0 {
		o.MemoryAt = min(1_000, o.Rows/2)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Millisecond)
	switch {
	case o.Rows < 2 || o.Rows > usermerge.MaxBatchRows:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench batch: --rows must be from 2 to %d", usermerge.MaxBatchRows)
	case o.Accounts < 2*o.Rows+1:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench batch: --accounts must be more than twice --rows (each row is a pair)")
	}
	return o, nil
}

// RunBatch generates the tenant into a fresh database, copies it for the
// bare baseline, and measures the check, dry run, creation and run of the
// batch, then the baseline; it checks what the batch did as it goes.
func RunBatch(ctx context.Context, o BatchOptions) (*BatchResult, error) {
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
	src, tgt := recordsPerSource()
	r := &BatchResult{Database: db.Dialect(), Accounts: o.Accounts, Rows: o.Rows, RecordsPerSource: src, RecordsPerTarget: tgt,
		At: time.Now().UTC(), Moved: map[usermerge.Kind]int64{}, BareRows: map[usermerge.Kind]int64{}}
	d := &batchDataset{dataset: newDataset(Options{Accounts: o.Accounts, Seed: o.Seed, Now: o.Now}), rows: o.Rows}
	bar := newBar(o.Progress)
	tables := d.tables()
	if r.Load, err = loadTables(ctx, db, tables, bar); err != nil {
		return nil, err
	}
	bar.note("copying the data for the bare baseline")
	bareLoc := loc.bare()
	bare, err := copyTo(ctx, db, loc, bareLoc, tables)
	if err != nil {
		return nil, err
	}
	defer func() {
		bare.Close()
		if !o.Keep {
			bareLoc.drop(context.WithoutCancel(ctx), false)
		}
	}()
	names := tableNames(tables)
	for _, x := range []*store.DB{bare, db} {
		if err := settle(ctx, x, names); err != nil {
			return nil, err
		}
	}
	m := &batchMeasurer{db: db, eng: engine.New(db, nil), d: d, o: o, r: r, bar: bar,
		cpu: newCPUClock(db, appName(loc.schema)), bareCPU: newCPUClock(bare, appName(bareLoc.schema))}
	rows := d.batchRows(0, o.Rows)
	if err := m.checkAndDryRun(ctx, rows); err != nil {
		return nil, err
	}
	if err := m.run(ctx, rows, names); err != nil {
		return nil, err
	}
	if err := m.bare(ctx, bare, names); err != nil {
		return nil, err
	}
	bar.note("")
	run := r.step("run")
	if run.Seconds > 0 {
		r.MergesPerSecond = float64(o.Rows) / run.Seconds
		r.CheckShare = (r.step("check").Seconds + r.step("dry_run").Seconds) / run.Seconds
	}
	if b := r.step("bare"); b.Seconds > 0 {
		r.RunBare = run.Seconds / b.Seconds
		if b.CPUSeconds > 0 {
			r.RunBareCPU = run.CPUSeconds / b.CPUSeconds
		}
	}
	return r, nil
}

// loadTables writes the tenant, its administrator, groups and jobs, then
// the tables by the bulk path.
func loadTables(ctx context.Context, db *store.DB, ts []table, bar *bar) (Step, error) {
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
	for _, t := range ts {
		total += t.rows
	}
	bar.start("loading", total)
	for _, t := range ts {
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
	s := time.Since(start).Seconds()
	return Step{Name: "load", Seconds: s, Rows: done, RowsPerSecond: float64(done) / s}, nil
}

type batchMeasurer struct {
	db           *store.DB
	eng          *engine.Engine
	d            *batchDataset
	o            BatchOptions
	r            *BatchResult
	bar          *bar
	cpu, bareCPU cpuClock
}

func (m *batchMeasurer) add(name string, d, cpu time.Duration, rows int64) {
	st := Step{Name: name, Seconds: d.Seconds(), CPUSeconds: cpu.Seconds(), Rows: rows}
	if st.Seconds > 0 {
		st.RowsPerSecond = float64(rows) / st.Seconds
	}
	m.r.Steps = append(m.r.Steps, st)
}

func (m *batchMeasurer) check(format string, args ...any) {
	m.r.Checks = append(m.r.Checks, fmt.Sprintf(format, args...))
}

// checkAndDryRun measures the check and the dry run of the whole batch.
func (m *batchMeasurer) checkAndDryRun(ctx context.Context, rows []usermerge.BatchRow) error {
	m.bar.note("measuring the check")
	t := startTimer(ctx, m.cpu)
	res, err := m.eng.CheckBatch(ctx, caller, rows)
	wall, cpu := t.stop(ctx)
	if err != nil {
		return fmt.Errorf("bench: check: %w", err)
	}
	if len(res) != len(rows) {
		return fmt.Errorf("bench: the check answered %d rows of %d", len(res), len(rows))
	}
	m.add("check", wall, cpu, int64(len(rows)))
	m.bar.note("measuring the dry run")
	t = startTimer(ctx, m.cpu)
	plan, err := m.eng.DryRunBatch(ctx, caller, rows)
	wall, cpu = t.stop(ctx)
	if err != nil {
		return fmt.Errorf("bench: dry run: %w", err)
	}
	if plan.Ready != len(rows) || plan.Refused != 0 {
		return fmt.Errorf("bench: the dry run has %d ready and %d refused of %d rows, want all ready", plan.Ready, plan.Refused, len(rows))
	}
	m.add("dry_run", wall, cpu, int64(len(rows)))
	want := int64(len(rows) * batchVolumes[usermerge.KindSignIns].source)
	if got := plan.Total[usermerge.KindSignIns].Moved; got != want {
		return fmt.Errorf("bench: the dry run would move %d sign-ins, want %d", got, want)
	}
	m.check("the check accepted every row and the dry run planned every row, moving every source's sign-ins")
	return nil
}

// profile starts the CPU profile of a step, when one is asked for.
func (m *batchMeasurer) profile(suffix string) (stop func() error, err error) {
	if m.o.CPUProfile == "" {
		return func() error { return nil }, nil
	}
	return startCPUProfile(m.o.CPUProfile + suffix)
}

// run creates the batch, then starts and works it in this process,
// reading the peak memory after MemoryAt rows and at the end.
func (m *batchMeasurer) run(ctx context.Context, rows []usermerge.BatchRow, names []string) error {
	m.bar.note("measuring the creation of the batch")
	t := startTimer(ctx, m.cpu)
	b, err := m.eng.CreateBatch(ctx, caller, "bench.csv", rows)
	wall, cpu := t.stop(ctx)
	if err != nil {
		return fmt.Errorf("bench: create the batch: %w", err)
	}
	m.add("create", wall, cpu, int64(len(rows)))
	if err := settle(ctx, m.db, append(names, "batches", "batch_rows")); err != nil {
		return err
	}
	m.bar.note("measuring the run")
	m.bar.start("merging", int64(len(rows)))
	mem := startMemory("")
	early := false
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stopCPU, err := m.profile("")
	if err != nil {
		return err
	}
	t = startTimer(ctx, m.cpu)
	if _, err := m.eng.StartBatch(ctx, caller, b.ID); err != nil {
		stopCPU()
		return fmt.Errorf("bench: start the batch: %w", err)
	}
	done, err := m.eng.RunBatch(ctx, caller, b.ID, func(b usermerge.Batch) {
		n := b.Rows - b.Left
		m.bar.set("rows", int64(n))
		if !early && n >= m.o.MemoryAt {
			early = true
			metrics.Read(heap)
			m.r.Memory.EarlyRows, m.r.Memory.EarlyPeakRSS, m.r.Memory.EarlyHeap = n, procStatus("VmHWM"), int64(heap[0].Value.Uint64())
		}
	})
	wall, cpu = t.stop(ctx)
	mm := mem.stop()
	if perr := stopCPU(); perr != nil && err == nil {
		err = perr
	}
	m.bar.finish()
	if err != nil {
		return fmt.Errorf("bench: run the batch: %w", err)
	}
	m.r.Memory.BaseRSS, m.r.Memory.PeakRSS, m.r.Memory.PeakHeap, m.r.Memory.Supported = mm.BaseRSS, mm.PeakRSS, mm.PeakHeap, mm.Supported
	if done.Status != usermerge.BatchDone || done.Merged != len(rows) || done.Refused != 0 || done.Merges != len(rows) {
		return fmt.Errorf("bench: the batch ended %s with %d merged, %d refused, %d merges of %d rows", done.Status, done.Merged, done.Refused, done.Merges, len(rows))
	}
	m.add("run", wall, cpu, int64(len(rows)))
	// What the merges did, per kind, read back through the merge list.
	for page := 1; ; page++ {
		p, err := m.eng.ListMerges(ctx, caller, usermerge.MergeFilter{Batch: b.ID, State: "all", Page: page, PerPage: 500})
		if err != nil {
			return fmt.Errorf("bench: list the batch's merges: %w", err)
		}
		for _, mg := range p.Merges {
			for k, c := range mg.Counts {
				m.r.Moved[k] += c.Moved
			}
		}
		if len(p.Merges) < 500 {
			if p.Total != int64(len(rows)) {
				return fmt.Errorf("bench: the merge list has %d merges of batch %d, want %d", p.Total, b.ID, len(rows))
			}
			break
		}
	}
	m.check("the batch merged every row (one merge each, none refused) and the merge list holds them under the batch")
	return nil
}

// bare moves the same rows on the copy with one plain transaction per row:
// an UPDATE ... SET account_id per table (for kinds of one live record per
// item, those items the target does not hold), no checks, no journal.
func (m *batchMeasurer) bare(ctx context.Context, db *store.DB, names []string) error {
	if err := settle(ctx, db, names); err != nil {
		return err
	}
	m.bar.note("measuring the bare baseline")
	m.bar.start("bare", int64(m.o.Rows))
	var rows int64
	stopCPU, err := m.profile(".bare")
	if err != nil {
		return err
	}
	defer stopCPU()
	t := startTimer(ctx, m.bareCPU)
	for i := range m.o.Rows {
		src, tgt := batchSource(i), batchTarget(i)
		err := db.Transact(ctx, func(tx *store.Tx) error {
			for _, b := range bareSpecs {
				q := `UPDATE ` + b.table + ` SET account_id = ? WHERE tenant_id = ? AND account_id = ?`
				args := []any{tgt, tenantID, src}
				if b.key != "" {
					q += ` AND ` + b.key + ` NOT IN (SELECT ` + b.key + ` FROM ` + b.table + ` WHERE tenant_id = ? AND account_id = ?)`
					args = append(args, tenantID, tgt)
				}
				n, err := tx.Exec(ctx, q, args...)
				if err != nil {
					return err
				}
				m.r.BareRows[b.kind] += n
				rows += n
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bench: bare baseline: %w", err)
		}
		if i%100 == 0 {
			m.bar.set("rows", int64(i))
		}
	}
	wall, cpu := t.stop(ctx)
	m.bar.finish()
	m.add("bare", wall, cpu, rows)
	for _, b := range bareSpecs {
		got, merged := m.r.BareRows[b.kind], m.r.Moved[b.kind]
		keep := b.kind.Spec().Shape == usermerge.ShapeKeep
		if got != merged && !(keep && got <= merged) {
			return fmt.Errorf("bench: the bare baseline moved %d %s, the batch %d", got, b.table, merged)
		}
	}
	m.check("the bare baseline moved the same records as the batch (for keep-latest kinds the merge also moves the source's newer ones)")
	return nil
}

// WriteBatchText writes a batch bench's result for a person.
func WriteBatchText(w io.Writer, r *BatchResult) error {
	fmt.Fprintf(w, "Batch bench on %s: %s accounts, a batch of %s rows (duplicate pairs); each source holds %d records spread over every kind, each target %d.\n",
		r.Database, thousands(int64(r.Accounts)), thousands(int64(r.Rows)), r.RecordsPerSource, r.RecordsPerTarget)
	fmt.Fprintf(w, "Loaded %s rows in %.1f s.\n\n", thousands(r.Load.Rows), r.Load.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSECONDS\tCPU SECONDS\tROWS\tROWS/S")
	for _, s := range r.Steps {
		cpu := "-"
		if s.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.2f", s.CPUSeconds)
		}
		what := "batch rows"
		if s.Name == "bare" {
			what = "records"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s %s\t%.0f\n", s.Name, s.Seconds, cpu, thousands(s.Rows), what, s.RowsPerSecond)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nMerges per second: %.1f. Run / bare baseline: %.2f", r.MergesPerSecond, r.RunBare)
	if r.RunBareCPU > 0 {
		fmt.Fprintf(w, " (CPU: %.2f)", r.RunBareCPU)
	}
	fmt.Fprintf(w, ". (Check + dry run) / run: %.3f.\n", r.CheckShare)
	if r.Memory.Supported {
		fmt.Fprintf(w, "Peak RSS after %s rows: %s; at the end: %s (from %s). Go heap: %s, %s.\n", thousands(int64(r.Memory.EarlyRows)),
			mib(r.Memory.EarlyPeakRSS), mib(r.Memory.PeakRSS), mib(r.Memory.BaseRSS), mib(r.Memory.EarlyHeap), mib(r.Memory.PeakHeap))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "Checked: %s.\n", c)
	}
	return nil
}
