package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// runFixture is a tenant with n pairs of accounts in group east, Tn to
// keep and Sn to merge, each with a few records, and a clock the test can
// move (clock.Add).
func runFixture(t *testing.T, n int) (*fixture, *testClock) {
	t.Helper()
	return runFixtureAt(t, n, storetest.URL(t))
}

func runFixtureAt(t *testing.T, n int, url string) (*fixture, *testClock) {
	t.Helper()
	f := newFixtureAt(t, "learningbox", url)
	clk := &testClock{now: base}
	f.db.Now = clk.Now
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("T%d", i), fmt.Sprintf("S%d", i))
	}
	for _, id := range ids {
		f.account(id, "east")
	}
	seedOverlaps(f, ids...)
	localCheck(f.e)
	return f, clk
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// localCheck stands in for CheckBatch while it answers "not built": the
// tests' rows name accounts by id and are valid, in working order as given.
func localCheck(e *Engine) {
	if _, err := e.CheckBatch(context.Background(), Caller{}, nil); usermerge.ErrorReason(err) != "not_built" {
		return
	}
	e.checkRows = func(ctx context.Context, c Caller, rows []usermerge.BatchRow) ([]usermerge.BatchRowResult, error) {
		var out []usermerge.BatchRowResult
		for i, r := range rows {
			out = append(out, usermerge.BatchRowResult{BatchRow: r, Order: i + 1, Status: usermerge.RowPending, TargetID: r.Target, SourceIDs: r.Sources})
		}
		return out, nil
	}
}

// rows is one batch row per pair i (Ti kept, Si merged), lines from 2.
func pairRows(pairs ...int) []usermerge.BatchRow {
	var out []usermerge.BatchRow
	for i, p := range pairs {
		out = append(out, usermerge.BatchRow{Line: i + 2, Target: fmt.Sprintf("T%d", p), Sources: []string{fmt.Sprintf("S%d", p)}, Reason: "bulk"})
	}
	return out
}

func (f *fixture) createBatch(as string, rows []usermerge.BatchRow) usermerge.Batch {
	f.t.Helper()
	b, err := f.e.CreateBatch(f.ctx, f.as(as), "pairs.csv", rows)
	if err != nil {
		f.t.Fatalf("create batch: %v", err)
	}
	return b
}

func (f *fixture) startBatch(id int64) {
	f.t.Helper()
	if _, err := f.e.StartBatch(f.ctx, f.as("admin"), id); err != nil {
		f.t.Fatalf("start batch %d: %v", id, err)
	}
}

func (f *fixture) batchRows(id int64) []usermerge.BatchRowResult {
	f.t.Helper()
	var out []usermerge.BatchRowResult
	if err := f.e.EachBatchRow(f.ctx, f.as("admin"), id, func(r usermerge.BatchRowResult) error { out = append(out, r); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) job(id int64) store.BatchJob {
	f.t.Helper()
	var j store.BatchJob
	f.tx(func(tx *store.Tx) error { var err error; j, err = tx.GetBatch(f.ctx, f.tenant, id); return err })
	return j
}

// events answers the payloads of the tenant's events of one type, oldest first.
func (f *fixture) events(typ string) []map[string]any {
	f.t.Helper()
	var out []map[string]any
	f.tx(func(tx *store.Tx) error {
		evs, err := tx.Events(f.ctx, f.tenant, 0, 10000)
		for _, e := range evs {
			if e.Type == typ {
				var m map[string]any
				if err := json.Unmarshal(e.Payload, &m); err != nil {
					return err
				}
				out = append(out, m)
			}
		}
		return err
	})
	return out
}

// mergesOf counts the merges (any state) whose source is the account.
func (f *fixture) mergesOf(source string) int64 {
	f.t.Helper()
	var n int64
	f.tx(func(tx *store.Tx) error {
		var err error
		n, err = tx.Count(f.ctx, `SELECT COUNT(*) FROM merges WHERE tenant_id = ? AND source_id = ?`, f.tenant, source)
		return err
	})
	return n
}

func counts(b usermerge.Batch) string {
	return fmt.Sprintf("%s rows=%d merged=%d refused=%d cancelled=%d left=%d merges=%d reverted=%d revert_refused=%d",
		b.Status, b.Rows, b.Merged, b.Refused, b.Cancelled, b.Left, b.Merges, b.Reverted, b.RevertRefused)
}

func TestBatchRunMergesEveryRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, clk := runFixture(t, 4)
		other := f.merge("T4", "S4")[0] // a merge outside any batch
		rows := pairRows(1, 2)
		rows = append(rows, usermerge.BatchRow{Line: 4, Target: "T3", Sources: []string{"S3", "T4"}}) // two sources
		b := f.createBatch("admin", rows)
		if got, want := counts(b), "ready rows=3 merged=0 refused=0 cancelled=0 left=3 merges=0 reverted=0 revert_refused=0"; got != want {
			t.Errorf("created: %s, want %s", got, want)
		}
		if b.Origin != "file" || b.Name != "pairs.csv" || b.By != "admin" {
			t.Errorf("created: origin %q name %q by %q", b.Origin, b.Name, b.By)
		}
		if _, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, nil); usermerge.ErrorReason(err) != "batch_not_running" {
			t.Fatalf("run of a ready batch: %v, want batch_not_running", err)
		}
		if f.mergesOf("S1") != 0 {
			t.Fatal("a ready batch merged something")
		}
		f.startBatch(b.ID)
		if _, err := f.e.StartBatch(f.ctx, f.as("admin"), b.ID); usermerge.ErrorReason(err) != "batch_not_ready" {
			t.Errorf("second start: %v, want batch_not_ready", err)
		}
		var seen []int
		got, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, func(p usermerge.Batch) { seen = append(seen, p.Merged) })
		if err != nil {
			t.Fatal(err)
		}
		if c, want := counts(got), "done rows=3 merged=3 refused=0 cancelled=0 left=0 merges=4 reverted=0 revert_refused=0"; c != want {
			t.Errorf("after the run: %s, want %s", c, want)
		}
		if got.Finished == nil || got.Started == nil || got.SecondsLeft != nil {
			t.Errorf("after the run: started %v finished %v seconds left %v", got.Started, got.Finished, got.SecondsLeft)
		}
		if !slices.Equal(seen[:4], []int{0, 1, 2, 3}) {
			t.Errorf("progress saw merged = %v, want 0 1 2 3 (then the end)", seen)
		}
		page, err := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{Batch: b.ID, State: "all"})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]usermerge.Merge{}
		for _, m := range page.Merges {
			byID[m.ID] = m
			if m.Batch != b.ID {
				t.Errorf("merge %d: batch %d, want %d", m.ID, m.Batch, b.ID)
			}
		}
		if page.Total != 4 {
			t.Errorf("merges of the batch: %d, want 4", page.Total)
		}
		if _, ok := byID[other.ID]; ok {
			t.Error("the merge outside the batch is listed with it")
		}
		report := f.batchRows(b.ID)
		for i, r := range report {
			if r.Status != usermerge.RowMerged || r.Order != i+1 || r.Operation == 0 || len(r.Merges) != len(r.Sources) || r.At == nil {
				t.Errorf("row %d: %+v", i+1, r)
			}
			for j, id := range r.Merges {
				m, ok := byID[id]
				if !ok || m.OperationID != r.Operation || m.Source.ID != r.SourceIDs[j] || m.Target.ID != r.TargetID || m.By != "admin" || m.Reason != r.Reason {
					t.Errorf("row %d merge %d: %+v", r.Line, id, m)
				}
			}
			if acc := f.acct(r.SourceIDs[0]); acc.MergedInto != r.TargetID {
				t.Errorf("row %d: %s merged into %q", r.Line, r.SourceIDs[0], acc.MergedInto)
			}
		}
		all, err := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{State: "all"})
		if err != nil || all.Total != 5 {
			t.Fatalf("all merges: %d, %v", all.Total, err)
		}
		for _, m := range all.Merges {
			if m.ID == other.ID && m.Batch != 0 {
				t.Errorf("the merge outside the batch reads batch %d", m.Batch)
			}
		}
		evs := f.events("batch.completed")
		want := map[string]any{"tenant": f.tenant, "batch": float64(b.ID), "name": b.Name, "status": "done", "by": "admin",
			"at": clk.Now().UTC().Format(time.RFC3339), "rows": 3.0, "merged": 3.0, "refused": 0.0, "cancelled": 0.0, "merges": 4.0,
			"reverted": 0.0, "revert_refused": 0.0}
		if len(evs) != 1 || !cmp.Equal(evs[0], want) {
			t.Errorf("batch.completed events: %v, want one %v", evs, want)
		}
		if n := len(f.events("merge.completed")); n != 4 { // three rows and the merge outside
			t.Errorf("merge.completed events: %d, want 4", n)
		}
		list, total, err := f.e.Batches(f.ctx, f.as("admin"), 10, 0)
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != b.ID || list[0].Merged != 3 {
			t.Errorf("batches: %v total %d, %v", list, total, err)
		}
	})
}

func TestBatchRowRefusedAtRunTimeTheRestGoOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 3)
		f.account("X", "east")
		b := f.createBatch("admin", pairRows(1, 2, 3))
		m := f.merge("X", "S2")[0] // S2 changes after the check
		f.startBatch(b.ID)
		got, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, want := counts(got), "done rows=3 merged=2 refused=1 cancelled=0 left=0 merges=2 reverted=0 revert_refused=0"; c != want {
			t.Errorf("after the run: %s, want %s", c, want)
		}
		rows := f.batchRows(b.ID)
		if r := rows[1]; r.Status != usermerge.RowRefused || r.Problem == nil || r.Problem.Reason != "source_already_merged" ||
			r.Problem.Line != 3 || r.Merges != nil || r.Operation != 0 || r.At == nil {
			t.Errorf("the changed row: %+v problem %+v", r, r.Problem)
		}
		for _, i := range []int{0, 2} {
			if rows[i].Status != usermerge.RowMerged {
				t.Errorf("row %d: %s, want merged", rows[i].Line, rows[i].Status)
			}
		}
		if acc := f.acct("S2"); acc.MergedInto != "X" || acc.MergedBy != m.ID || f.mergesOf("S2") != 1 {
			t.Errorf("S2: merged into %q by %d", acc.MergedInto, acc.MergedBy)
		}
		page, err := f.e.BatchRows(f.ctx, f.as("admin"), b.ID, usermerge.BatchRowFilter{Status: usermerge.RowRefused})
		if err != nil || page.Total != 1 || len(page.Rows) != 1 || page.Rows[0].Line != 3 {
			t.Errorf("refused rows: %+v, %v", page, err)
		}
		page, err = f.e.BatchRows(f.ctx, f.as("admin"), b.ID, usermerge.BatchRowFilter{Limit: 1, Offset: 2})
		if err != nil || page.Total != 3 || len(page.Rows) != 1 || page.Rows[0].Order != 3 {
			t.Errorf("page 3 of 1: %+v, %v", page, err)
		}
		if _, err := f.e.BatchRows(f.ctx, f.as("admin"), b.ID, usermerge.BatchRowFilter{Status: "bogus"}); usermerge.ErrorReason(err) != "invalid_status" {
			t.Errorf("bad status filter: %v", err)
		}
		if ev := f.events("batch.completed"); len(ev) != 1 || ev[0]["refused"] != 1.0 || ev[0]["merged"] != 2.0 {
			t.Errorf("batch.completed: %v", ev)
		}
	})
}

func TestBatchPauseResumeCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 5)
		b := f.createBatch("admin", pairRows(1, 2, 3, 4, 5))
		if _, err := f.e.PauseBatch(f.ctx, f.as("admin"), b.ID); usermerge.ErrorReason(err) != "batch_not_running" {
			t.Errorf("pause of a ready batch: %v", err)
		}
		f.startBatch(b.ID)
		// pause once two rows are merged: it takes effect between rows
		got, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, func(p usermerge.Batch) {
			if p.Merged == 2 && p.Status == usermerge.BatchRunning {
				if _, err := f.e.PauseBatch(f.ctx, f.as("admin"), b.ID); err != nil {
					t.Errorf("pause: %v", err)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, want := counts(got), "paused rows=5 merged=2 refused=0 cancelled=0 left=3 merges=2 reverted=0 revert_refused=0"; c != want {
			t.Errorf("paused: %s, want %s", c, want)
		}
		if j := f.job(b.ID); j.LeaseOwner != "" || !j.LeaseUntil.IsZero() {
			t.Errorf("a paused batch holds a lease: %q until %v", j.LeaseOwner, j.LeaseUntil)
		}
		if got.SecondsLeft == nil || got.RowsPerSecond <= 0 {
			t.Errorf("paused: no pace (%v rows/s, %v s left)", got.RowsPerSecond, got.SecondsLeft)
		}
		if _, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, nil); usermerge.ErrorReason(err) != "batch_not_running" {
			t.Errorf("run of a paused batch: %v", err)
		}
		if f.mergesOf("S3") != 0 {
			t.Error("a row after the pause was merged")
		}
		if _, err := f.e.ResumeBatch(f.ctx, f.as("admin"), b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.ResumeBatch(f.ctx, f.as("admin"), b.ID); usermerge.ErrorReason(err) != "batch_not_paused" {
			t.Errorf("resume of a running batch: %v", err)
		}
		got, err = f.e.RunBatch(f.ctx, f.as("admin"), b.ID, func(p usermerge.Batch) {
			if p.Merged == 3 && p.Status == usermerge.BatchRunning {
				if _, err := f.e.CancelBatch(f.ctx, f.as("admin"), b.ID); err != nil {
					t.Errorf("cancel: %v", err)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, want := counts(got), "cancelled rows=5 merged=3 refused=0 cancelled=2 left=0 merges=3 reverted=0 revert_refused=0"; c != want {
			t.Errorf("cancelled: %s, want %s", c, want)
		}
		for i, r := range f.batchRows(b.ID) {
			want := usermerge.RowMerged
			if i >= 3 {
				want = usermerge.RowCancelled
			}
			if r.Status != want {
				t.Errorf("row %d: %s, want %s", r.Order, r.Status, want)
			}
		}
		if f.mergesOf("S4") != 0 || f.mergesOf("S5") != 0 {
			t.Error("a cancelled row was merged")
		}
		for _, call := range []func(context.Context, Caller, int64) (usermerge.Batch, error){f.e.StartBatch, f.e.ResumeBatch, f.e.PauseBatch, f.e.CancelBatch} {
			if _, err := call(f.ctx, f.as("admin"), b.ID); usermerge.ErrorCode(err) != usermerge.Conflict {
				t.Errorf("a call on a cancelled batch: %v, want a conflict", err)
			}
		}
		ev := f.events("batch.completed")
		if len(ev) != 1 || ev[0]["status"] != "cancelled" || ev[0]["merged"] != 3.0 || ev[0]["cancelled"] != 2.0 || ev[0]["merges"] != 3.0 {
			t.Errorf("batch.completed: %v", ev)
		}
		// a ready batch may be cancelled too: nothing of it runs
		b2 := f.createBatch("admin", pairRows(4))
		if c, err := f.e.CancelBatch(f.ctx, f.as("admin"), b2.ID); err != nil || counts(c) != "cancelled rows=1 merged=0 refused=0 cancelled=1 left=0 merges=0 reverted=0 revert_refused=0" {
			t.Errorf("cancel of a ready batch: %s, %v", counts(c), err)
		}
	})
}

// A run stopped mid-row (the row's transaction fails: a crash) leaves the
// row wholly pending; a process that died holding the lease keeps the
// batch from others until the lease runs out; then another engine resumes
// and every row is merged once.
func TestBatchResumedByAnotherEngineAfterTheLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, clk := runFixture(t, 6)
		b := f.createBatch("admin", pairRows(1, 2, 3, 4, 5, 6))
		f.startBatch(b.ID)
		// ctx ends after the first row: the run stops between rows and frees the lease
		ctx, cancel := context.WithCancel(f.ctx)
		got, err := f.e.RunBatch(ctx, f.as("admin"), b.ID, func(p usermerge.Batch) {
			if p.Merged == 1 {
				cancel()
			}
		})
		if err != nil || got.Status != usermerge.BatchRunning || got.Merged != 1 {
			t.Fatalf("stopped run: %s, %v", counts(got), err)
		}
		if j := f.job(b.ID); j.LeaseOwner != "" {
			t.Errorf("a stopped run kept the lease: %q", j.LeaseOwner)
		}
		crash := errors.New("crash")
		f.e.afterBatchRow = func(_ int64, ord int) error {
			if ord == 3 {
				return crash
			}
			return nil
		}
		if _, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, nil); !errors.Is(err, crash) {
			t.Fatalf("crashed run: %v", err)
		}
		if f.mergesOf("S3") != 0 || f.acct("S3").MergedInto != "" {
			t.Fatal("the crashed row's merge was written")
		}
		if rows := f.batchRows(b.ID); rows[1].Status != usermerge.RowMerged || rows[2].Status != usermerge.RowPending {
			t.Fatalf("after the crash: row 2 %s, row 3 %s", rows[1].Status, rows[2].Status)
		}
		// as a process killed in a row would leave it: its lease still running
		f.exec(`UPDATE batches SET lease_owner = 'dead', lease_until = ? WHERE tenant_id = ? AND id = ?`,
			store.Millis(clk.Now().Add(defaultLease)), f.tenant, b.ID)
		e2 := New(f.db, nil)
		if _, err := e2.RunBatch(f.ctx, f.as("admin"), b.ID, nil); usermerge.ErrorReason(err) != "batch_busy" {
			t.Fatalf("run while another holds the lease: %v, want batch_busy", err)
		}
		clk.Add(defaultLease + time.Second)
		got, err = e2.RunBatch(f.ctx, f.as("admin"), b.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, want := counts(got), "done rows=6 merged=6 refused=0 cancelled=0 left=0 merges=6 reverted=0 revert_refused=0"; c != want {
			t.Errorf("resumed: %s, want %s", c, want)
		}
		for i := 1; i <= 6; i++ {
			if n := f.mergesOf(fmt.Sprintf("S%d", i)); n != 1 {
				t.Errorf("S%d merged %d times", i, n)
			}
		}
	})
}

// Two engines, each on its own connection pool, work the batches of one
// database: every row is merged once and no batch is ever in two workers'
// rows at once.
func TestBatchTwoWorkersShareTheBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		url := storetest.URL(t)
		f, clk := runFixtureAt(t, 12, url)
		db2, err := store.Open(f.ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		db2.Now = clk.Now
		engines := []*Engine{f.e, New(db2, testLog(t))}
		f.e.log = testLog(t)
		var ids []int64
		for _, pairs := range [][]int{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}} {
			b := f.createBatch("admin", pairRows(pairs...))
			f.startBatch(b.ID)
			ids = append(ids, b.ID)
		}
		var mu sync.Mutex
		inside := map[int64]int{}   // batch → workers in one of its rows now
		workedBy := map[int64]int{} // batch → engines that merged a row of it (bit set)
		var overlap atomic.Bool
		ctx, cancel := context.WithCancel(f.ctx)
		var wg sync.WaitGroup
		for n, e := range engines {
			bit := 1 << n
			e.afterBatchRow = func(b int64, ord int) error {
				mu.Lock()
				inside[b]++
				if inside[b] > 1 {
					overlap.Store(true)
				}
				workedBy[b] |= bit
				mu.Unlock()
				time.Sleep(time.Millisecond) // stay in the row a while
				mu.Lock()
				inside[b]--
				mu.Unlock()
				return nil
			}
			wg.Add(1)
			go func() { defer wg.Done(); e.WorkBatches(ctx, 5*time.Millisecond) }()
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			done := 0
			for _, id := range ids {
				if f.job(id).Status == usermerge.BatchDone {
					done++
				}
			}
			if done == len(ids) {
				break
			}
			if time.Now().After(deadline) {
				cancel()
				wg.Wait()
				for _, id := range ids {
					j := f.job(id)
					t.Logf("batch %d: %s lease %q until %v", id, counts(withPace(j)), j.LeaseOwner, j.LeaseUntil)
				}
				t.Fatalf("batches not done in time: %d of %d", done, len(ids))
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if overlap.Load() {
			t.Error("two workers were in rows of one batch at once")
		}
		for i := 1; i <= 12; i++ {
			if n := f.mergesOf(fmt.Sprintf("S%d", i)); n != 1 {
				t.Errorf("S%d merged %d times", i, n)
			}
		}
		for _, id := range ids {
			if c := counts(withPace(f.job(id))); c != "done rows=4 merged=4 refused=0 cancelled=0 left=0 merges=4 reverted=0 revert_refused=0" {
				t.Errorf("batch %d: %s", id, c)
			}
		}
		if n := len(f.events("batch.completed")); n != 3 {
			t.Errorf("batch.completed events: %d, want 3", n)
		}
		t.Logf("batches worked by engines (bits): %v", workedBy)
	})
}

// testLog logs to the test's output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// A batch the check refuses is not stored; one made of suggestions says
// so in its origin, and each row keeps its suggestion.
func TestCreateBatchRefusedWholeOrStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 2)
		if _, err := f.e.CheckBatch(f.ctx, f.as("admin"), pairRows(1)); usermerge.ErrorReason(err) == "not_built" {
			t.Skip("CheckBatch is not built")
		}
		bad := append(pairRows(1), usermerge.BatchRow{Line: 3, Target: "T2", Sources: []string{"nobody"}})
		_, err := f.e.CreateBatch(f.ctx, f.as("admin"), "bad.csv", bad)
		var probs *usermerge.BatchProblems
		if usermerge.ErrorReason(err) != "batch_refused" || !errors.As(err, &probs) || len(probs.Problems) != 1 || probs.Problems[0].Line != 3 {
			t.Fatalf("a bad batch: %v, want batch_refused naming line 3", err)
		}
		if _, total, err := f.e.Batches(f.ctx, f.as("admin"), 10, 0); err != nil || total != 0 {
			t.Errorf("a refused batch was stored: %d batches, %v", total, err)
		}
		if _, err := f.e.CreateBatch(f.ctx, f.as("admin"), "empty.csv", nil); usermerge.ErrorReason(err) != "batch_empty" {
			t.Errorf("an empty batch: %v", err)
		}
		rows := pairRows(1, 2)
		rows[0].Suggestion, rows[1].Suggestion = 7, 8
		b := f.createBatch("admin", rows)
		if b.Origin != "suggestions" {
			t.Errorf("origin %q, want suggestions", b.Origin)
		}
		if got := f.batchRows(b.ID); got[0].Suggestion != 7 || got[1].Suggestion != 8 || got[0].TargetID != "T1" || !slices.Equal(got[1].SourceIDs, []string{"S2"}) {
			t.Errorf("stored rows: %+v", got)
		}
		if _, err := f.e.Batch(f.ctx, f.as("admin"), 999); usermerge.ErrorReason(err) != "batch_not_found" {
			t.Errorf("an unknown batch: %v", err)
		}
	})
}

// Two goroutines of one engine share its owner id: the second run of a
// batch the engine works already is refused, not let past the fence.
func TestBatchOneEngineRunsABatchOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 3)
		b := f.createBatch("admin", pairRows(1, 2, 3))
		f.startBatch(b.ID)
		var nested error
		asked := false
		got, err := f.e.RunBatch(f.ctx, f.as("admin"), b.ID, func(p usermerge.Batch) {
			if p.Merged == 1 && !asked {
				asked = true
				_, nested = f.e.RunBatch(f.ctx, f.as("admin"), b.ID, nil)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if usermerge.ErrorReason(nested) != "batch_busy" {
			t.Errorf("a second run in the same engine: %v, want batch_busy", nested)
		}
		if c, want := counts(got), "done rows=3 merged=3 refused=0 cancelled=0 left=0 merges=3 reverted=0 revert_refused=0"; c != want {
			t.Errorf("run: %s, want %s", c, want)
		}
	})
}

// TestBatchRefreshesMergeTableStatistics: on PostgreSQL a batch's worker
// analyzes the merge tables once it has worked analyzeFirst rows, so that
// the plans of the rest of the batch (the foreign-key checks' among them)
// are made for tables of the size the batch grew them to, not for the
// empty ones of a new tenant (docs/performance.md, Bulk merges). SQLite
// has nothing to refresh.
func TestBatchRefreshesMergeTableStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		if !storetest.IsPostgres(t) {
			t.Skip("SQLite: AnalyzeMergeTables does nothing")
		}
		n := analyzeFirst + 6
		f, _ := runFixture(t, n)
		reltuples := func() float64 {
			var x float64
			f.tx(func(tx *store.Tx) error {
				return tx.QueryRow(f.ctx, `SELECT reltuples FROM pg_class WHERE oid = 'merges'::regclass`).Scan(&x)
			})
			return x
		}
		if before := reltuples(); before >= analyzeFirst {
			t.Fatalf("merges already analyzed with %v rows before the batch", before)
		}
		var pairs []int
		for i := 1; i <= n; i++ {
			pairs = append(pairs, i)
		}
		b := f.createBatch("admin", pairRows(pairs...))
		f.startBatch(b.ID)
		if got := f.runBatch("admin", b.ID); got.Merged != n {
			t.Fatalf("batch: %s", counts(got))
		}
		if after := reltuples(); after < analyzeFirst {
			t.Errorf("after %d rows the statistics of merges say %v rows; want at least %d", n, after, analyzeFirst)
		}
	})
}
