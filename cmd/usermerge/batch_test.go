package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
)

// fakeBatches stands in for the engine in the batch command's flow: one
// batch of rows that RunBatch merges one at a time.
type fakeBatches struct {
	b      usermerge.Batch
	rows   []usermerge.BatchRowResult
	busy   int // RunBatch answers batch_busy this many times first
	runs   int // RunBatch calls
	stop   int // with cancel: cancel after this many rows
	cancel context.CancelFunc
	// polls: what Batch answers each time it is asked, before b.
	polls       []usermerge.Batch
	revertErr   error
	revertAsked *bool
	calls       []string
}

func newFake(status usermerge.BatchStatus, n int) *fakeBatches {
	f := &fakeBatches{b: usermerge.Batch{ID: 7, Name: "merges.csv", Origin: "file", Status: status, By: "admin", Rows: n, Left: n}}
	for i := range n {
		f.rows = append(f.rows, usermerge.BatchRowResult{BatchRow: usermerge.BatchRow{Line: i + 2, Target: "t" + string(rune('a'+i)), Sources: []string{"s" + string(rune('a'+i))}},
			Order: i + 1, Status: usermerge.RowPending})
	}
	return f
}

func (f *fakeBatches) CheckBatch(context.Context, engine.Caller, []usermerge.BatchRow) ([]usermerge.BatchRowResult, error) {
	return f.rows, nil
}
func (f *fakeBatches) DryRunBatch(context.Context, engine.Caller, []usermerge.BatchRow) (usermerge.BatchPlan, error) {
	return usermerge.BatchPlan{Rows: len(f.rows), Ready: len(f.rows)}, nil
}
func (f *fakeBatches) CreateBatch(context.Context, engine.Caller, string, []usermerge.BatchRow) (usermerge.Batch, error) {
	f.calls = append(f.calls, "create")
	return f.b, nil
}
func (f *fakeBatches) set(s usermerge.BatchStatus, call string) (usermerge.Batch, error) {
	f.calls = append(f.calls, call)
	f.b.Status = s
	return f.b, nil
}
func (f *fakeBatches) StartBatch(context.Context, engine.Caller, int64) (usermerge.Batch, error) {
	return f.set(usermerge.BatchRunning, "start")
}
func (f *fakeBatches) PauseBatch(context.Context, engine.Caller, int64) (usermerge.Batch, error) {
	return f.set(usermerge.BatchPaused, "pause")
}
func (f *fakeBatches) ResumeBatch(context.Context, engine.Caller, int64) (usermerge.Batch, error) {
	return f.set(usermerge.BatchRunning, "resume")
}
func (f *fakeBatches) CancelBatch(context.Context, engine.Caller, int64) (usermerge.Batch, error) {
	return f.set(usermerge.BatchCancelled, "cancel")
}
func (f *fakeBatches) Batch(_ context.Context, _ engine.Caller, id int64) (usermerge.Batch, error) {
	if id != f.b.ID {
		return usermerge.Batch{}, usermerge.Errorf(usermerge.NotFound, "batch_not_found", "no batch %d", id)
	}
	if len(f.polls) > 0 {
		b := f.polls[0]
		f.polls = f.polls[1:]
		return b, nil
	}
	return f.b, nil
}
func (f *fakeBatches) Batches(context.Context, engine.Caller, int, int) ([]usermerge.Batch, int, error) {
	return []usermerge.Batch{f.b}, 1, nil
}
func (f *fakeBatches) BatchRows(_ context.Context, _ engine.Caller, _ int64, fl usermerge.BatchRowFilter) (usermerge.BatchRowPage, error) {
	var out []usermerge.BatchRowResult
	for _, r := range f.rows {
		if fl.Status == "" || r.Status == fl.Status {
			out = append(out, r)
		}
	}
	total := len(out)
	out = out[min(fl.Offset, len(out)):min(fl.Offset+fl.Limit, len(out))]
	return usermerge.BatchRowPage{Rows: out, Total: total}, nil
}
func (f *fakeBatches) EachBatchRow(_ context.Context, _ engine.Caller, _ int64, fn func(usermerge.BatchRowResult) error) error {
	for _, r := range f.rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
func (f *fakeBatches) RevertBatch(_ context.Context, _ engine.Caller, _ int64, partial bool) (usermerge.BatchRevert, error) {
	f.revertAsked = &partial
	if f.revertErr != nil {
		return usermerge.BatchRevert{}, f.revertErr
	}
	f.b.Status = usermerge.BatchReverting
	return usermerge.BatchRevert{Batch: f.b}, nil
}
func (f *fakeBatches) RevertOperation(context.Context, engine.Caller, int64) (usermerge.RevertReport, error) {
	return usermerge.RevertReport{}, nil
}

// RunBatch merges (or, reverting, reverts) the pending rows one by one.
func (f *fakeBatches) RunBatch(ctx context.Context, _ engine.Caller, _ int64, progress func(usermerge.Batch)) (usermerge.Batch, error) {
	f.runs++
	if f.busy > 0 {
		f.busy--
		return f.b, usermerge.Errorf(usermerge.Conflict, "batch_busy", "another worker holds batch %d", f.b.ID)
	}
	done := 0
	for i := range f.rows {
		r := &f.rows[i]
		if ctx.Err() != nil {
			return f.b, nil
		}
		switch {
		case f.b.Status == usermerge.BatchRunning && r.Status == usermerge.RowPending:
			r.Status, r.Operation, r.Merges = usermerge.RowMerged, int64(i+1), []int64{int64(10 + i)}
			f.b.Merged++
			f.b.Merges++
			f.b.Left--
		case f.b.Status == usermerge.BatchReverting && r.Status == usermerge.RowMerged:
			r.Status = usermerge.RowReverted
			f.b.Reverted++
		default:
			continue
		}
		done++
		f.b.RowsPerSecond = 50
		progress(f.b)
		if f.cancel != nil && done == f.stop {
			f.cancel()
		}
	}
	if ctx.Err() != nil {
		return f.b, nil
	}
	if f.b.Status == usermerge.BatchRunning {
		f.b.Status = usermerge.BatchDone
	} else {
		f.b.Status = usermerge.BatchReverted
	}
	return f.b, nil
}

func (f *fakeBatches) SuggestionRows(context.Context, engine.Caller, usermerge.SuggestionSelection) ([]usermerge.BatchRow, error) {
	var rows []usermerge.BatchRow
	for _, r := range f.rows {
		rows = append(rows, r.BatchRow)
	}
	return rows, nil
}

// runFake runs the batch command on a copy of the demo database with f
// for the engine's batch calls.
func runFake(t *testing.T, ctx context.Context, f *fakeBatches, tty bool, stdin string, args ...string) result {
	t.Helper()
	c := newCLI(t)
	var out, errb strings.Builder
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return clock }, IsTerminal: func(any) bool { return tty }, batchFake: f}
	code := m.Execute(ctx, append([]string{"--db", c.db, "--tenant", "acme", "--as", "admin"}, args...))
	return result{out.String(), errb.String(), code}
}

func fastPoll(t *testing.T) {
	old, oldLine := batchPoll, progressLineEvery
	batchPoll, progressLineEvery = time.Millisecond, time.Hour
	t.Cleanup(func() { batchPoll, progressLineEvery = old, oldLine })
}

// TestBatchResumeWorksRunningBatch: a batch left running (its process was
// killed) is worked again by resume, to the end; progress lines go to
// standard error when it is not a terminal; a paused batch is resumed
// first, a ready one started, and a finished one refused.
func TestBatchResumeWorksRunningBatch(t *testing.T) {
	fastPoll(t)
	f := newFake(usermerge.BatchRunning, 3)
	r := runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "resume", r.stdout, "Batch 7 (merges.csv) done: 3 rows, 3 merged (3 merges), 0 refused.", "usermerge batch report 7")
	contains(t, "resume progress", r.stderr, "batch 7: running, 0 of 3 rows done", "batch 7: done, 3 of 3 rows done: 3 merged, 0 refused, 0 left")
	if strings.Contains(r.stderr, "\033[K") {
		t.Errorf("a terminal's redraw when standard error is no terminal:\n%q", r.stderr)
	}
	if f.runs != 1 || len(f.calls) != 0 {
		t.Errorf("a running batch: %d runs, calls %v; want one run and no start or resume", f.runs, f.calls)
	}

	f = newFake(usermerge.BatchPaused, 2)
	r = runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if r.code != 0 || strings.Join(f.calls, ",") != "resume" || f.b.Status != usermerge.BatchDone {
		t.Errorf("resume of a paused batch: exit %d, calls %v, status %s\n%s", r.code, f.calls, f.b.Status, r.stderr)
	}
	f = newFake(usermerge.BatchReady, 2)
	r = runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if r.code != 0 || strings.Join(f.calls, ",") != "start" || f.b.Status != usermerge.BatchDone {
		t.Errorf("resume of a ready batch: exit %d, calls %v, status %s\n%s", r.code, f.calls, f.b.Status, r.stderr)
	}
	f = newFake(usermerge.BatchDone, 2)
	r = runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if r.code != exitConflict || f.runs != 0 {
		t.Errorf("resume of a done batch: exit %d, %d runs; want %d and none", r.code, f.runs, exitConflict)
	}
	contains(t, "resume done", r.stderr, "batch 7 is done: there is nothing to resume")
	r = runFake(t, context.Background(), f, false, "", "batch", "resume", "8")
	if r.code != exitNotFound {
		t.Errorf("resume of no batch: exit %d", r.code)
	}
}

// TestBatchResumeWaitsForAnotherWorker: while another process holds the
// batch, resume follows it and takes it over when it is free.
func TestBatchResumeWaitsForAnotherWorker(t *testing.T) {
	fastPoll(t)
	f := newFake(usermerge.BatchRunning, 2)
	f.busy = 3
	r := runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if r.code != 0 || f.runs != 4 || f.b.Status != usermerge.BatchDone {
		t.Fatalf("resume of a busy batch: exit %d, %d runs, %s\n%s", r.code, f.runs, f.b.Status, r.stderr)
	}
	if n := strings.Count(r.stderr, "being worked by another process"); n != 1 {
		t.Errorf("the wait is said %d times, want once:\n%s", n, r.stderr)
	}
	// Not busy: no such note.
	f = newFake(usermerge.BatchRunning, 2)
	r = runFake(t, context.Background(), f, false, "", "batch", "resume", "7")
	if strings.Contains(r.stderr, "another process") {
		t.Errorf("a free batch is said to be busy:\n%s", r.stderr)
	}
}

// TestBatchInterruptedStaysResumable: Ctrl-C (the context ends) stops the
// run between rows; the command says how to go on and exits 4.
func TestBatchInterruptedStaysResumable(t *testing.T) {
	fastPoll(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake(usermerge.BatchRunning, 5)
	f.cancel, f.stop = cancel, 2
	r := runFake(t, ctx, f, false, "", "batch", "resume", "7")
	if r.code != exitConflict {
		t.Fatalf("interrupted: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "interrupted", r.stdout+r.stderr, "batch 7 has 3 rows left; go on with: usermerge batch resume 7")
	if f.b.Merged != 2 || f.runs != 1 {
		t.Errorf("after the interrupt: %d merged, %d runs; want 2 and 1", f.b.Merged, f.runs)
	}
}

// TestBatchProgressBar: on a terminal the progress is one bar redrawn in
// place with rows done, merged, refused, left, pace and time left.
func TestBatchProgressBar(t *testing.T) {
	left := 3.0
	b := usermerge.Batch{ID: 4, Status: usermerge.BatchRunning, Rows: 10, Merged: 4, Refused: 1, Left: 5, RowsPerSecond: 2.5, SecondsLeft: &left}
	got := progressBar(b)
	want := "batch 4 [############............] 5/10  merged 4  refused 1  left 5 2.5/s 3s left"
	if got != want {
		t.Errorf("bar:\n got %q\nwant %q", got, want)
	}
	b.Left, b.Merged, b.SecondsLeft = 0, 9, nil
	if got := progressBar(b); !strings.Contains(got, "[########################] 10/10") || strings.Contains(got, "left 0 ") && strings.Contains(got, "s left") {
		t.Errorf("finished bar: %q", got)
	}
	fastPoll(t)
	f := newFake(usermerge.BatchRunning, 2)
	r := runFake(t, context.Background(), f, true, "", "batch", "resume", "7")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "\r\033[Kbatch 7 [") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("on a terminal, want the bar redrawn in place, ended by one newline:\n%q", r.stderr)
	}
}

// TestBatchWatch follows a batch another process works until it stops.
func TestBatchWatch(t *testing.T) {
	fastPoll(t)
	f := newFake(usermerge.BatchRunning, 2)
	step := f.b
	step.Left, step.Merged = 1, 1
	f.polls = []usermerge.Batch{step}
	f.b.Status, f.b.Left, f.b.Merged, f.b.Refused = usermerge.BatchDone, 0, 1, 1
	// The first Batch (the command's) answers running; the poll answers
	// the step, then done.
	f.polls = append([]usermerge.Batch{{ID: 7, Name: "merges.csv", Status: usermerge.BatchRunning, Rows: 2, Left: 2}}, f.polls...)
	r := runFake(t, context.Background(), f, false, "", "--json", "batch", "watch", "7")
	if r.code != 0 || f.runs != 0 {
		t.Fatalf("watch: exit %d, %d runs (watch must not work the batch)\n%s", r.code, f.runs, r.stderr)
	}
	var b usermerge.Batch
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b.Status != usermerge.BatchDone || b.Refused != 1 {
		t.Errorf("watch --json: %v %+v\n%s", err, b, r.stdout)
	}
}

// TestBatchRevertRefusedListsRows: a refused batch revert names each row
// with its line and reason, on standard error and in --json; --partial is
// passed on; a revert that goes ahead is worked to the end.
func TestBatchRevertRefusedListsRows(t *testing.T) {
	fastPoll(t)
	f := newFake(usermerge.BatchDone, 2)
	probs := &usermerge.BatchProblems{Rows: 2, Problems: []usermerge.RowProblem{{Line: 3, Reason: "later_merge", Message: "account tb was merged again later (merge 40)"}}}
	f.revertErr = &usermerge.Error{Code: usermerge.Conflict, Reason: "batch_refused", Message: "1 row cannot be reverted; nothing was reverted", Err: probs}
	r := runFake(t, context.Background(), f, false, "", "batch", "revert", "7", "--yes")
	if r.code != exitConflict {
		t.Fatalf("refused revert: exit %d\n%s", r.code, r.stderr)
	}
	contains(t, "refused revert", r.stderr, "nothing was reverted", "line 3: account tb was merged again later (merge 40) (later_merge)")
	if f.revertAsked == nil || *f.revertAsked {
		t.Errorf("revert without --partial asked partial=%v", f.revertAsked)
	}
	r = runFake(t, context.Background(), f, false, "", "--json", "batch", "revert", "7", "--yes", "--partial")
	var body struct {
		Error struct {
			Reason   string                 `json:"reason"`
			Problems []usermerge.RowProblem `json:"problems"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || body.Error.Reason != "batch_refused" || len(body.Error.Problems) != 1 || body.Error.Problems[0].Line != 3 {
		t.Errorf("--json refusal: %v %+v\n%s", err, body, r.stdout)
	}
	if f.revertAsked == nil || !*f.revertAsked {
		t.Error("--partial was not passed on")
	}

	f = newFake(usermerge.BatchRunning, 2)
	f.RunBatch(context.Background(), engine.Caller{}, 7, func(usermerge.Batch) {})
	r = runFake(t, context.Background(), f, false, "", "batch", "revert", "7", "--yes")
	if r.code != 0 || f.b.Status != usermerge.BatchReverted || f.b.Reverted != 2 {
		t.Errorf("revert: exit %d, %s, %d reverted\n%s", r.code, f.b.Status, f.b.Reverted, r.stderr)
	}
	// Without --yes and no terminal: refused before anything is asked.
	f = newFake(usermerge.BatchDone, 1)
	r = runFake(t, context.Background(), f, false, "", "batch", "revert", "7")
	if r.code != exitUsage || f.revertAsked != nil {
		t.Errorf("revert without --yes off a terminal: exit %d, asked %v", r.code, f.revertAsked)
	}
}

// TestBatchReportFormats: the report as CSV (the server's columns) and
// NDJSON, to standard output or a file.
func TestBatchReportFormats(t *testing.T) {
	f := newFake(usermerge.BatchRunning, 2)
	f.RunBatch(context.Background(), engine.Caller{}, 7, func(usermerge.Batch) {})
	f.rows[1].Status, f.rows[1].Merges, f.rows[1].Operation = usermerge.RowRefused, nil, 0
	f.rows[1].Problem = &usermerge.RowProblem{Line: 3, Reason: "account_changed", Message: "=sb changed since the check"}
	r := runFake(t, context.Background(), f, false, "", "batch", "report", "7")
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	want := "line,order,status,target,sources,target_id,source_ids,operation,merges,reason,problem_reason,problem_message,at\n" +
		"2,1,merged,ta,sa,,,1,10,,,,\n" +
		"3,2,refused,tb,sb,,,,,,account_changed,'=sb changed since the check,\n"
	if r.stdout != want {
		t.Errorf("CSV report:\n%s\nwant:\n%s", r.stdout, want)
	}
	out := filepath.Join(t.TempDir(), "r.ndjson")
	r = runFake(t, context.Background(), f, false, "", "batch", "report", "7", "--format", "ndjson", "--output", out)
	b, err := os.ReadFile(out)
	if r.code != 0 || err != nil {
		t.Fatalf("report --output: exit %d %v\n%s", r.code, err, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var row usermerge.BatchRowResult
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &row) != nil || row.Problem == nil || row.Problem.Reason != "account_changed" {
		t.Errorf("NDJSON report:\n%s", b)
	}
	if _, err := os.Stat(out + ".part"); err == nil {
		t.Error("the partial file was left behind")
	}
	r = runFake(t, context.Background(), f, false, "", "batch", "report", "7", "--format", "xml")
	if r.code != exitUsage {
		t.Errorf("--format xml: exit %d", r.code)
	}
	r = runFake(t, context.Background(), f, false, "", "batch", "report", "9", "--output", out+"2")
	if _, err := os.Stat(out + "2"); r.code != exitNotFound || err == nil {
		t.Errorf("report of no batch: exit %d, file made: %v", r.code, err == nil)
	}
}

// TestBatchShowAndList: the batch's counts and a page of its rows, and
// the list of batches.
func TestBatchShowAndList(t *testing.T) {
	f := newFake(usermerge.BatchRunning, 3)
	f.RunBatch(context.Background(), engine.Caller{}, 7, func(usermerge.Batch) {})
	r := runFake(t, context.Background(), f, false, "", "batch", "show", "7", "--limit", "2")
	if r.code != 0 {
		t.Fatalf("show: exit %d\n%s", r.code, r.stderr)
	}
	contains(t, "show", r.stdout, "Batch 7 (merges.csv) done: 3 rows, 3 merged", "ORDER", "Rows 1 to 2 of 3.")
	if strings.Contains(r.stdout, " tc ") {
		t.Errorf("show --limit 2 shows the third row:\n%s", r.stdout)
	}
	r = runFake(t, context.Background(), f, false, "", "batch", "show", "7", "--status", "refused")
	contains(t, "show refused", r.stdout, "No rows.")
	r = runFake(t, context.Background(), f, false, "", "batch", "show", "7", "--status", "bogus")
	if r.code != exitUsage {
		t.Errorf("--status bogus: exit %d", r.code)
	}
	r = runFake(t, context.Background(), f, false, "", "batch", "list")
	contains(t, "list", r.stdout, "ID  NAME", "merges.csv", "Batches 1 to 1 of 1.")
	for _, args := range [][]string{{"batch", "frobnicate"}, {"batch", "show"}, {"batch", "show", "x"}, {"batch", "show", "0"}, {"batch", "list", "3"}} {
		if r := runFake(t, context.Background(), f, false, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitUsage)
		}
	}
}

// TestBatchPauseCancel: pause and cancel answer the batch as it is now.
func TestBatchPauseCancel(t *testing.T) {
	f := newFake(usermerge.BatchRunning, 2)
	r := runFake(t, context.Background(), f, false, "", "batch", "pause", "7")
	contains(t, "pause", r.stdout, "Batch 7 (merges.csv) paused", "usermerge batch resume 7")
	r = runFake(t, context.Background(), f, false, "", "batch", "cancel", "7")
	contains(t, "cancel", r.stdout, "Batch 7 (merges.csv) cancelled")
	if strings.Join(f.calls, ",") != "pause,cancel" {
		t.Errorf("calls %v", f.calls)
	}
}

// batchFile writes a batch file into a test's directory.
func batchFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBatchCheckRefusesEveryBadRow: a refused file is listed row by row,
// each with its line and reason, on standard error and in --json, exits
// non-zero and writes nothing; a good file checks.
func TestBatchCheckRefusesEveryBadRow(t *testing.T) {
	keep, source, _ := pair(t)
	c := newCLI(t)
	bad := batchFile(t, "bad.csv", "target,sources,reason\n"+keep+","+source+",ok\nnobody.here,"+source+",unknown target\n"+keep+",ghost.account,unknown source\n")
	for _, sub := range []string{"check", "run"} {
		r := c.run(append(acme, "batch", sub, bad, "--yes")...)
		if r.code != exitUsage {
			t.Fatalf("batch %s of a bad file: exit %d, want %d\n%s%s", sub, r.code, exitUsage, r.stdout, r.stderr)
		}
		contains(t, "refused "+sub, r.stderr, "line 3: ", "line 4: ")
		if strings.Contains(r.stderr, "line 2: ") {
			t.Errorf("batch %s: the good row 2 is listed as refused:\n%s", sub, r.stderr)
		}
	}
	r := c.run(append(acme, "--json", "batch", "check", bad)...)
	var body struct {
		Error struct {
			Reason   string                 `json:"reason"`
			Problems []usermerge.RowProblem `json:"problems"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || body.Error.Reason != "batch_refused" || len(body.Error.Problems) != 2 ||
		body.Error.Problems[0].Line != 3 || body.Error.Problems[1].Line != 4 || body.Error.Problems[0].Reason == "" {
		t.Errorf("--json refusal: %v %+v\n%s", err, body, r.stdout)
	}
	if out := c.acme("merges"); !strings.Contains(out, "No merges found.") {
		t.Errorf("a refused batch wrote merges:\n%s", out)
	}
	good := batchFile(t, "good.csv", "target,sources\n"+keep+","+source+"\n")
	out := c.acme("batch", "check", good)
	contains(t, "check good", out, "1 row checked, all can run", "Nothing was written.")
	r = c.run(append(acme, "batch", "check", filepath.Join(t.TempDir(), "none.csv"))...)
	if r.code != exitNotFound {
		t.Errorf("check of a missing file: exit %d", r.code)
	}
}

// TestBatchDryRunReport: the dry run shows per row what its merge would do
// or why it is refused, writes nothing, and --report writes the whole dry
// run as CSV or NDJSON.
func TestBatchDryRunReport(t *testing.T) {
	keep, source, _ := pair(t)
	c := newCLI(t)
	f := batchFile(t, "plan.csv", "target,sources\n"+keep+","+source+"\n"+keep+",ghost.account\n")
	out := c.acme("batch", "dry-run", f)
	contains(t, "dry run", out, "Dry run: 2 rows, 1 ready, 1 refused", "Nothing was written.", "refused: ")
	csvOut := filepath.Join(t.TempDir(), "plan.csv")
	c.acme("batch", "dry-run", f, "--report", csvOut)
	b, err := os.ReadFile(csvOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || lines[0] != strings.Join(usermerge.PlanColumns, ",") || !strings.HasPrefix(lines[1], "2,") || !strings.Contains(lines[1], ",ready,") ||
		!strings.Contains(lines[2], ",refused,") {
		t.Errorf("CSV dry run:\n%s", b)
	}
	ndOut := filepath.Join(t.TempDir(), "plan.ndjson")
	c.acme("batch", "dry-run", f, "--report", ndOut)
	b, _ = os.ReadFile(ndOut)
	var p usermerge.BatchRowPlan
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &p) != nil || p.Line != 2 || len(p.Counts) == 0 {
		t.Errorf("NDJSON dry run:\n%s", b)
	}
	if r := c.run(append(acme, "batch", "dry-run", f, "--report", "plan.txt")...); r.code != exitUsage {
		t.Errorf("--report plan.txt: exit %d", r.code)
	}
	if out := c.acme("merges"); !strings.Contains(out, "No merges found.") {
		t.Errorf("the dry run wrote merges:\n%s", out)
	}
}

// TestBatchRunToRevert drives a whole batch on the real engine: run with
// --yes to the end, list, show, the report, the merge list by batch, the
// revert of one operation and of the whole batch.
func TestBatchRunToRevert(t *testing.T) {
	keep, source, _ := pair(t)
	c := newCLI(t)
	f := batchFile(t, "two.csv", "target,sources,reason\n"+keep+","+source+",duplicate\nkatherine.lee,kate.lee;klee,same person\n")
	r := c.run(append(acme, "batch", "run", f)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("run off a terminal without --yes: exit %d\n%s", r.code, r.stderr)
	}
	out := c.acme("batch", "run", f, "--yes")
	contains(t, "run", out, "Batch 1 (two.csv): 2 rows, started.", "Batch 1 (two.csv) done: 2 rows, 2 merged (3 merges), 0 refused.")
	out = c.acme("batch", "list")
	contains(t, "list", out, "two.csv", "done", "Batches 1 to 1 of 1.")
	out = c.acme("batch", "show", "1")
	contains(t, "show", out, "katherine.lee", "kate.lee, klee", "merged", "Rows 1 to 2 of 2.")
	out = c.acme("batch", "report", "1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "kate.lee;klee") || !strings.Contains(lines[2], ",merged,") {
		t.Errorf("report:\n%s", out)
	}
	var page usermerge.MergePage
	if err := json.Unmarshal([]byte(c.acme("--json", "merges", "--batch", "1")), &page); err != nil || page.Total != 3 {
		t.Fatalf("merges --batch 1: %v %+v", err, page)
	}
	if err := json.Unmarshal([]byte(c.acme("--json", "merges", "--batch", "2")), &page); err != nil || page.Total != 0 {
		t.Errorf("merges --batch 2 (none): %v total %d", err, page.Total)
	}
	// The two-source row is one operation of two merges.
	var op int64
	for _, mg := range c.mergesOf("1") {
		if mg.Source.Login == "klee" {
			op = mg.OperationID
		}
	}
	var rep usermerge.RevertReport
	if err := json.Unmarshal([]byte(c.acme("--json", "revert", "--yes", "--operation", fmt.Sprint(op))), &rep); err != nil || len(rep.Reverted) != 2 {
		t.Fatalf("revert --operation %d: %v %+v", op, err, rep)
	}
	// The batch revert is refused whole: that row's merges are reverted
	// already; --partial reverts the other and reports it.
	r = c.run(append(acme, "batch", "revert", "1", "--yes")...)
	if r.code == 0 {
		t.Fatalf("batch revert after one row's merges were reverted: exit 0\n%s", r.stdout)
	}
	contains(t, "refused batch revert", r.stderr, "line 3: ")
	out = c.acme("batch", "revert", "1", "--yes", "--partial")
	contains(t, "partial revert", out, "Batch 1 (two.csv) reverted")
	if err := json.Unmarshal([]byte(c.acme("--json", "merges", "--batch", "1", "--state", "active")), &page); err != nil || page.Total != 0 {
		t.Errorf("active merges of batch 1 after its revert: %v %d", err, page.Total)
	}
	for _, args := range [][]string{{"revert", "--operation", "1", "5"}, {"revert"}, {"revert", "--operation", "-1"}, {"merges", "--batch", "-2"}} {
		if r := c.run(append(acme, args...)...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitUsage)
		}
	}
}

func (c *cli) mergesOf(batch string) []usermerge.Merge {
	c.t.Helper()
	var page usermerge.MergePage
	if err := json.Unmarshal([]byte(c.acme("--json", "merges", "--batch", batch, "--state", "all")), &page); err != nil {
		c.t.Fatal(err)
	}
	return page.Merges
}

// TestRemoteBatchSameAsLocal: through a server (whose worker runs the
// batch) the batch commands answer as on the database: the check and its
// refusal by line, the dry run, a run to the end, show, the report, the
// merge list by batch and the revert.
func TestRemoteBatchSameAsLocal(t *testing.T) {
	fastPoll(t)
	r := newRemote(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.served.WorkBatches(ctx, 10*time.Millisecond); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	keep, source, _ := pair(t)
	good := batchFile(t, "two.csv", "target,sources,reason\n"+keep+","+source+",duplicate\nkatherine.lee,kate.lee;klee,same person\n")
	bad := batchFile(t, "bad.csv", "target,sources\n"+keep+",ghost.account\nnobody.here,"+source+"\n")
	r.same("batch", "check", good)
	contains(t, "remote refusal", r.same("batch", "check", bad).stderr, "line 2: ", "line 3: ")
	r.same("--json", "batch", "check", bad)
	r.same("batch", "dry-run", good)
	r.same("--json", "batch", "dry-run", good)
	r.same("batch", "run", good) // no terminal, no --yes: refused

	// The run: the same outcome; the progress lines carry each run's pace.
	local := runMain(nil, r.local.db, "", append(acme, "batch", "run", good, "--yes")...)
	remote := r.remoteRun("admin", "", "batch", "run", good, "--yes")
	if local.code != 0 || remote.code != 0 || local.stdout != remote.stdout {
		t.Fatalf("batch run: exit %d locally, %d remotely\nlocal:\n%s%s\nremote:\n%s%s", local.code, remote.code, local.stdout, local.stderr, remote.stdout, remote.stderr)
	}
	contains(t, "remote run", remote.stdout, "Batch 1 (two.csv) done: 2 rows, 2 merged (3 merges), 0 refused.")
	r.same("batch", "list")
	r.same("batch", "show", "1")
	r.same("batch", "show", "1", "--status", "refused")
	r.same("batch", "report", "1", "--format", "ndjson")
	r.same("batch", "report", "1")
	r.same("merges", "--batch", "1")
	r.same("batch", "show", "9")
	local = runMain(nil, r.local.db, "", append(acme, "--json", "batch", "revert", "1", "--yes")...)
	remote = r.remoteRun("admin", "", "--json", "batch", "revert", "1", "--yes")
	if local.code != 0 || remote.code != 0 {
		t.Fatalf("batch revert: exit %d locally, %d remotely\n%s\n%s", local.code, remote.code, local.stderr, remote.stderr)
	}
	var lb, rb usermerge.BatchRevert
	if json.Unmarshal([]byte(local.stdout), &lb) != nil || json.Unmarshal([]byte(remote.stdout), &rb) != nil ||
		lb.Batch.Status != usermerge.BatchReverted || rb.Batch.Status != usermerge.BatchReverted || rb.Batch.Reverted != 2 {
		t.Errorf("batch revert --json:\nlocal %s\nremote %s", local.stdout, remote.stdout)
	}
	r.same("merges", "--batch", "1", "--state", "reverted")
}
