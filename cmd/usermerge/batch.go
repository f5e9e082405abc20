package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/client"
	"usermerge/engine"
	"usermerge/match"
)

// batchBackend is what `usermerge batch` asks of the engine (--db) or of a
// server's API (--server): the client has the same methods.
type batchBackend interface {
	CheckBatch(ctx context.Context, c engine.Caller, rows []usermerge.BatchRow) ([]usermerge.BatchRowResult, error)
	DryRunBatch(ctx context.Context, c engine.Caller, rows []usermerge.BatchRow) (usermerge.BatchPlan, error)
	CreateBatch(ctx context.Context, c engine.Caller, name string, rows []usermerge.BatchRow) (usermerge.Batch, error)
	StartBatch(ctx context.Context, c engine.Caller, id int64) (usermerge.Batch, error)
	PauseBatch(ctx context.Context, c engine.Caller, id int64) (usermerge.Batch, error)
	ResumeBatch(ctx context.Context, c engine.Caller, id int64) (usermerge.Batch, error)
	CancelBatch(ctx context.Context, c engine.Caller, id int64) (usermerge.Batch, error)
	Batch(ctx context.Context, c engine.Caller, id int64) (usermerge.Batch, error)
	Batches(ctx context.Context, c engine.Caller, limit, offset int) ([]usermerge.Batch, int, error)
	BatchRows(ctx context.Context, c engine.Caller, id int64, f usermerge.BatchRowFilter) (usermerge.BatchRowPage, error)
	EachBatchRow(ctx context.Context, c engine.Caller, id int64, fn func(usermerge.BatchRowResult) error) error
	RevertBatch(ctx context.Context, c engine.Caller, id int64, partial bool) (usermerge.BatchRevert, error)
	RevertOperation(ctx context.Context, c engine.Caller, op int64) (usermerge.RevertReport, error)
}

// What only one side has: the engine works a batch in this process and
// turns suggestions into rows; the server's API makes a batch of
// suggestions in one call and streams the report as it writes it.
type (
	batchWorker interface {
		RunBatch(ctx context.Context, c engine.Caller, id int64, progress func(usermerge.Batch)) (usermerge.Batch, error)
	}
	suggestionRower interface {
		SuggestionRows(ctx context.Context, c engine.Caller, sel usermerge.SuggestionSelection) ([]usermerge.BatchRow, error)
	}
	remoteSuggestions interface {
		BatchFromSuggestions(ctx context.Context, c engine.Caller, sel usermerge.SuggestionSelection) (usermerge.Batch, error)
	}
	remoteReport interface {
		BatchReport(ctx context.Context, c engine.Caller, id int64, format string, w io.Writer) error
	}
)

var (
	_ batchBackend    = (*engine.Engine)(nil)
	_ batchWorker     = (*engine.Engine)(nil)
	_ suggestionRower = (*engine.Engine)(nil)

	_ batchBackend      = (*client.Client)(nil)
	_ remoteSuggestions = (*client.Client)(nil)
	_ remoteReport      = (*client.Client)(nil)
)

// batchPoll is how often a batch another process works is asked how it is
// going; progressLineEvery how often progress is written when standard
// error is not a terminal.
var (
	batchPoll         = time.Second
	progressLineEvery = 5 * time.Second
)

// batches is the backend of the batch command (tests may put a fake in
// Main.batchFake).
func (m *Main) batches() batchBackend {
	if m.batchFake != nil {
		return m.batchFake
	}
	return m.eng.(batchBackend)
}

type batchOptions struct {
	name, report, format, output, status, grade, reason string
	yes, partial                                        bool
	limit, offset                                       int
}

var batchCmd = &command{
	name:    "batch",
	usage:   "batch check|dry-run|run|from-suggestions|list|show|watch|pause|resume|cancel|report|revert ...",
	summary: "bulk merges: check, dry-run and run a file of merges, follow, pause, report and revert it",
	help: `Bulk merges (docs/batches.md): a CSV or NDJSON file of rows, each a target
and one or more sources (by id, login or external ID system:value), whether
external IDs move and a reason; or a selection of duplicate suggestions.
The whole file is checked before anything is written; a refused file is
listed row by row (line and reason) and nothing is written. A run merges
row by row, each row one operation in one transaction: a row refused when
it runs (an account changed since the check) is reported and the rest go
on. The batch's state is in the database, so a stopped batch resumes
where it stopped.

  batch check FILE            check every row; nothing is written
  batch dry-run FILE [--report OUT.csv|OUT.ndjson]
                              per row, what its merge would do or why it is
                              refused; nothing is written; --report writes
                              the whole dry run as CSV or NDJSON
  batch run FILE [--name N] [--yes]
                              check, show the dry run's summary, ask, then
                              create the batch, start it and follow it to
                              the end (batch FILE is the same)
  batch from-suggestions --grade certain [--yes]
                              the same with every suggestion of a grade,
                              each merged into its suggested kept account
  batch list [--limit N] [--offset N]
                              the tenant's batches, newest first
  batch show ID [--status S] [--limit N] [--offset N]
                              one batch: its counts and rows
  batch watch ID              follow a batch's progress until it stops
  batch pause|resume|cancel ID
                              pause between rows, go on, or stop for good
                              (the rows not run are cancelled)
  batch report ID [--format csv|ndjson] [--output F]
                              the whole report: per row its merges or why
                              it was refused
  batch revert ID [--partial] [--yes]
                              revert every merge of the batch, newest first;
                              refused whole with the reasons when one cannot
                              be reverted, unless --partial, which reverts
                              what can be and reports the rest

On --db, run, resume and revert work the batch in this process: Ctrl-C
stops it between rows and 'batch resume ID' goes on (also after the process
was killed; resume waits while another process holds the batch). With
--server, the server's worker runs the batch and the command follows it;
Ctrl-C stops following, not the batch.

On a terminal the progress is a bar redrawn in place (rows done of all,
merged, refused, left, rows per second, time left); otherwise a line every
few seconds on standard error.

Examples:
  usermerge --tenant acme --as admin batch check merges.csv
  usermerge --tenant acme --as admin batch dry-run merges.csv --report plan.csv
  usermerge --tenant acme --as admin batch run merges.csv
  usermerge --tenant acme --as admin batch list
  usermerge --tenant acme --as admin batch from-suggestions --grade certain
  usermerge --tenant acme --as admin batch watch <ID>
  usermerge --tenant acme --as admin batch report <ID> --format csv --output report.csv
  usermerge --tenant acme --as admin batch revert <ID> --partial --yes
  usermerge --tenant acme --as admin merges --batch <ID>`,
	db: existingDB, tenant: true, admin: true, minArgs: 1, maxArgs: 2,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &batchOptions{}
		fs.StringVar(&o.name, "name", "", "with run: the batch's `NAME` (default: the file's name)")
		fs.BoolVar(&o.yes, "yes", false, "with run, from-suggestions and revert: do it without asking")
		fs.StringVar(&o.report, "report", "", "with dry-run: write the whole dry run to `FILE` (.csv or .ndjson)")
		fs.StringVar(&o.format, "format", "csv", "with report: `FORMAT` csv or ndjson")
		fs.StringVar(&o.output, "output", "", "with report: write to `FILE` instead of standard output")
		fs.BoolVar(&o.partial, "partial", false, "with revert: revert what can be reverted and report the rest")
		fs.StringVar(&o.grade, "grade", "", "with from-suggestions: every suggestion of `GRADE` (certain, probable or possible)")
		fs.StringVar(&o.reason, "reason", "", "with from-suggestions: the merges' `REASON`")
		fs.StringVar(&o.status, "status", "", "with show: only rows of `STATUS` (pending, merged, refused, cancelled, reverted, revert_refused)")
		fs.IntVar(&o.limit, "limit", 20, "with list and show: at most `N` batches or rows (1-500)")
		fs.IntVar(&o.offset, "offset", 0, "with list and show: skip the first `N`")
		return func(ctx context.Context, m *Main, args []string) error {
			sub, args := args[0], args[1:]
			one := func() (int64, error) {
				if len(args) != 1 {
					return 0, usageError("batch %s takes one batch's number", sub)
				}
				return parseBatchID(args[0])
			}
			file := func() (string, error) {
				if len(args) != 1 {
					return "", usageError("batch %s takes one file (CSV or NDJSON)", sub)
				}
				return args[0], nil
			}
			switch sub {
			case "check", "dry-run", "run":
				f, err := file()
				if err != nil {
					return err
				}
				return m.batchFile(ctx, o, sub, f)
			case "from-suggestions":
				if len(args) != 0 {
					return usageError("batch from-suggestions takes no arguments (--grade certain)")
				}
				return m.batchSuggestions(ctx, o)
			case "list":
				if len(args) != 0 {
					return usageError("batch list takes no arguments")
				}
				return m.batchList(ctx, o)
			case "show", "watch", "pause", "resume", "cancel", "report", "revert":
				id, err := one()
				if err != nil {
					return err
				}
				switch sub {
				case "show":
					return m.batchShow(ctx, o, id)
				case "watch":
					b, err := m.batches().Batch(ctx, m.caller, id)
					if err != nil {
						return err
					}
					b, err = m.follow(ctx, b, false)
					return m.batchDone(ctx, b, err)
				case "pause", "cancel":
					act := m.batches().PauseBatch
					if sub == "cancel" {
						act = m.batches().CancelBatch
					}
					b, err := act(ctx, m.caller, id)
					if err != nil {
						return err
					}
					return m.emit(b, func(w io.Writer) error { _, err := fmt.Fprintln(w, batchLine(b)); return err })
				case "resume":
					return m.batchResume(ctx, id)
				case "report":
					return m.batchReport(ctx, o, id)
				case "revert":
					return m.batchRevert(ctx, o, id)
				}
			}
			if len(args) == 0 && sub != "" && !strings.HasPrefix(sub, "-") && looksLikeFile(sub) {
				return m.batchFile(ctx, o, "run", sub)
			}
			return usageError("batch: unknown subcommand %q; the subcommands are check, dry-run, run, from-suggestions, list, show, watch, pause, resume, cancel, report and revert", sub)
		}
	},
}

// looksLikeFile: `usermerge batch FILE` is `batch run FILE` when FILE exists.
func looksLikeFile(s string) bool {
	st, err := os.Stat(s)
	return err == nil && !st.IsDir()
}

func parseBatchID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%q is not a batch's number (a positive number, as `usermerge batch list` shows them)", s)
	}
	return id, nil
}

// readBatchFile reads and parses a batch file (at most MaxBatchBytes).
func readBatchFile(path string) ([]usermerge.BatchRow, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usermerge.Errorf(usermerge.NotFound, "file_not_found", "batch file %s does not exist", path)
		}
		return nil, usermerge.Errorf(usermerge.Invalid, "file_unreadable", "cannot read batch file %s: %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, usermerge.MaxBatchBytes+1))
	if err != nil {
		return nil, usermerge.Errorf(usermerge.Invalid, "file_unreadable", "cannot read batch file %s: %v", path, err)
	}
	if len(b) > usermerge.MaxBatchBytes {
		return nil, usermerge.Errorf(usermerge.Invalid, "batch_too_large", "batch file %s is larger than %d MiB; split it", path, usermerge.MaxBatchBytes>>20)
	}
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		format = "csv"
	case ".ndjson", ".jsonl":
		format = "ndjson"
	}
	return engine.ParseBatch(bytes.NewReader(b), format)
}

// batchFile is check, dry-run and run of a file.
func (m *Main) batchFile(ctx context.Context, o *batchOptions, sub, path string) error {
	if sub != "dry-run" && o.report != "" {
		return usageError("--report goes with batch dry-run")
	}
	rows, err := readBatchFile(path)
	if err != nil {
		return err
	}
	be := m.batches()
	switch sub {
	case "check":
		res, err := be.CheckBatch(ctx, m.caller, rows)
		if err != nil {
			return err
		}
		if res == nil {
			res = []usermerge.BatchRowResult{}
		}
		return m.emit(struct {
			Rows []usermerge.BatchRowResult `json:"rows"`
		}{res}, func(w io.Writer) error { return writeChecked(w, path, res) })
	case "dry-run":
		plan, err := be.DryRunBatch(ctx, m.caller, rows)
		if err != nil {
			return err
		}
		if o.report != "" {
			if err := writePlanFile(o.report, plan); err != nil {
				return err
			}
			fmt.Fprintf(m.notes(), "Wrote the dry run of %s to %s.\n", plural(plan.Rows, "row", "rows"), o.report)
		}
		return m.emit(plan, func(w io.Writer) error { return writePlan(w, plan, o.report == "") })
	}
	// run
	if _, err := be.CheckBatch(ctx, m.caller, rows); err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = filepath.Base(path)
	}
	if err := m.confirmPlan(ctx, o, rows, name); err != nil {
		return err
	}
	b, err := be.CreateBatch(ctx, m.caller, name, rows)
	if err != nil {
		return err
	}
	return m.startAndFollow(ctx, b)
}

// confirmPlan shows the dry run's summary and asks, unless --yes.
func (m *Main) confirmPlan(ctx context.Context, o *batchOptions, rows []usermerge.BatchRow, name string) error {
	if o.yes {
		return nil
	}
	if err := m.needConfirm("batch run"); err != nil {
		return err
	}
	plan, err := m.batches().DryRunBatch(ctx, m.caller, rows)
	if err != nil {
		return err
	}
	writePlanSummary(m.notes(), plan)
	if plan.Refused > 0 {
		writeProblems(m.notes(), planProblems(plan), 20)
	}
	return m.ask(fmt.Sprintf("Merge the %s of %s now?", plural(plan.Ready, "ready row", "ready rows"), name))
}

func (m *Main) startAndFollow(ctx context.Context, b usermerge.Batch) error {
	be := m.batches()
	b, err := be.StartBatch(ctx, m.caller, b.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.notes(), "Batch %d (%s): %s, started.\n", b.ID, b.Name, plural(b.Rows, "row", "rows"))
	b, err = m.follow(ctx, b, true)
	return m.batchDone(ctx, b, err)
}

// batchSuggestions is from-suggestions: locally the engine turns the
// selection into rows and the flow is run's; remotely the server makes
// the batch (ready), whose rows are then dry-run, and a "no" at the
// prompt cancels it.
func (m *Main) batchSuggestions(ctx context.Context, o *batchOptions) error {
	grade := match.Grade(o.grade)
	if !slices.Contains(usermerge.Grades, grade) {
		return usageError("batch from-suggestions needs --grade certain, probable or possible")
	}
	sel := usermerge.SuggestionSelection{Grade: grade, Reason: o.reason}
	name := string(grade) + " suggestions"
	be := m.batches()
	if sr, ok := be.(suggestionRower); ok {
		rows, err := sr.SuggestionRows(ctx, m.caller, sel)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return usermerge.Errorf(usermerge.NotFound, "no_suggestions", "no %s suggestion in your scope to merge", grade)
		}
		if err := m.confirmPlan(ctx, o, rows, name); err != nil {
			return err
		}
		b, err := be.CreateBatch(ctx, m.caller, name, rows)
		if err != nil {
			return err
		}
		return m.startAndFollow(ctx, b)
	}
	rs, ok := be.(remoteSuggestions)
	if !ok {
		return usermerge.InternalError(fmt.Errorf("batch from-suggestions: the backend %T makes no batch of suggestions", be))
	}
	if !o.yes {
		if err := m.needConfirm("batch from-suggestions"); err != nil {
			return err
		}
	}
	b, err := rs.BatchFromSuggestions(ctx, m.caller, sel)
	if err != nil {
		return err
	}
	if !o.yes {
		var rows []usermerge.BatchRow
		if err := be.EachBatchRow(ctx, m.caller, b.ID, func(r usermerge.BatchRowResult) error {
			rows = append(rows, r.BatchRow)
			return nil
		}); err != nil {
			return err
		}
		if err := m.confirmPlan(ctx, &batchOptions{}, rows, name); err != nil {
			if _, cerr := be.CancelBatch(ctx, m.caller, b.ID); cerr != nil {
				fmt.Fprintf(m.notes(), "Batch %d stays ready, not started: %s\n", b.ID, usermerge.ErrorMessage(cerr))
			}
			return err
		}
	}
	return m.startAndFollow(ctx, b)
}

// batchResume goes on with a batch: a paused one is resumed, a ready one
// started, a running one (its process was stopped or killed) worked again.
func (m *Main) batchResume(ctx context.Context, id int64) error {
	be := m.batches()
	b, err := be.Batch(ctx, m.caller, id)
	if err != nil {
		return err
	}
	switch b.Status {
	case usermerge.BatchPaused:
		b, err = be.ResumeBatch(ctx, m.caller, id)
	case usermerge.BatchReady:
		b, err = be.StartBatch(ctx, m.caller, id)
	case usermerge.BatchRunning, usermerge.BatchReverting:
	default:
		return usermerge.Errorf(usermerge.Conflict, "batch_not_resumable", "batch %d is %s: there is nothing to resume", id, b.Status)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.notes(), "Batch %d (%s): %s, %d left.\n", b.ID, b.Name, b.Status, b.Left)
	b, err = m.follow(ctx, b, true)
	return m.batchDone(ctx, b, err)
}

func (m *Main) batchRevert(ctx context.Context, o *batchOptions, id int64) error {
	be := m.batches()
	if !o.yes {
		if err := m.needConfirm("batch revert"); err != nil {
			return err
		}
		b, err := be.Batch(ctx, m.caller, id)
		if err != nil {
			return err
		}
		how := "Refused whole, with the reasons, when one of them cannot be reverted."
		if o.partial {
			how = "Those that cannot be reverted stay merged and are reported."
		}
		if err := m.ask(fmt.Sprintf("Revert batch %d (%s): %s of %s, newest first? %s",
			b.ID, b.Name, plural(b.Merges, "merge", "merges"), plural(b.Merged, "merged row", "merged rows"), how)); err != nil {
			return err
		}
	}
	rev, err := be.RevertBatch(ctx, m.caller, id, o.partial)
	if err != nil {
		return err
	}
	if len(rev.Refused) > 0 {
		fmt.Fprintf(m.notes(), "%s stay merged:\n", plural(len(rev.Refused), "row", "rows"))
		writeProblems(m.notes(), rev.Refused, 0)
	}
	b, err := m.follow(ctx, rev.Batch, true)
	rev.Batch = b
	if err != nil {
		return m.batchDone(ctx, b, err)
	}
	if rev.Refused == nil {
		rev.Refused = []usermerge.RowProblem{}
	}
	return m.emit(rev, func(w io.Writer) error { _, err := fmt.Fprintln(w, batchLine(b)); return err })
}

// active: a worker has rows of the batch to do.
func active(s usermerge.BatchStatus) bool {
	return s == usermerge.BatchRunning || s == usermerge.BatchReverting
}

// follow shows a batch's progress until it stops. With work and the
// engine here, this process works the batch (RunBatch); while another
// process holds it, follow polls and tries again, so that a batch whose
// worker died is taken over when its lease runs out. Otherwise (watch,
// --server) it polls.
func (m *Main) follow(ctx context.Context, b usermerge.Batch, work bool) (usermerge.Batch, error) {
	p := m.newProgress()
	defer p.end()
	be := m.batches()
	worker, local := be.(batchWorker)
	waiting := false
	for active(b.Status) {
		p.show(b)
		if work && local {
			nb, err := worker.RunBatch(ctx, m.caller, b.ID, p.show)
			if err == nil {
				b = nb
				if !active(b.Status) || ctx.Err() != nil {
					break
				}
				continue // it stopped for a reason of its own: look again
			}
			if usermerge.ErrorReason(err) != "batch_busy" || ctx.Err() != nil {
				return b, err
			}
			if !waiting {
				waiting = true
				p.note(fmt.Sprintf("batch %d is being worked by another process; following it (this process takes over if that one stops)", b.ID))
			}
		}
		select {
		case <-ctx.Done():
			return b, nil
		case <-time.After(batchPoll):
		}
		nb, err := be.Batch(ctx, m.caller, b.ID)
		if err != nil {
			if ctx.Err() != nil {
				return b, nil
			}
			return b, err
		}
		b = nb
	}
	p.show(b)
	return b, nil
}

// batchDone reports how following a batch ended.
func (m *Main) batchDone(ctx context.Context, b usermerge.Batch, err error) error {
	if err != nil {
		return err
	}
	if active(b.Status) && ctx.Err() != nil {
		_, local := m.batches().(batchWorker)
		if local {
			fmt.Fprintf(m.notes(), "Stopped between rows: batch %d has %d rows left; go on with: usermerge batch resume %d\n", b.ID, b.Left, b.ID)
		} else {
			fmt.Fprintf(m.notes(), "Stopped following batch %d; the server goes on with it (follow it with: usermerge batch watch %d)\n", b.ID, b.ID)
		}
		return usermerge.Errorf(usermerge.Conflict, "batch_interrupted", "interrupted; batch %d is %s with %d rows left", b.ID, b.Status, b.Left)
	}
	return m.emit(b, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, batchLine(b))
		if err == nil && b.Status == usermerge.BatchDone {
			_, err = fmt.Fprintf(w, "Report: usermerge batch report %d (or batch show %d --status refused)\n", b.ID, b.ID)
		}
		return err
	})
}

func (m *Main) batchList(ctx context.Context, o *batchOptions) error {
	if o.limit < 1 || o.limit > 500 || o.offset < 0 {
		return usageError("--limit must be from 1 to 500 and --offset at least 0")
	}
	list, total, err := m.batches().Batches(ctx, m.caller, o.limit, o.offset)
	if err != nil {
		return err
	}
	if list == nil {
		list = []usermerge.Batch{}
	}
	return m.emit(struct {
		Batches []usermerge.Batch `json:"batches"`
		Total   int               `json:"total"`
	}{list, total}, func(w io.Writer) error { return writeBatches(w, list, total, o.offset) })
}

func (m *Main) batchShow(ctx context.Context, o *batchOptions, id int64) error {
	if o.limit < 1 || o.limit > 500 || o.offset < 0 {
		return usageError("--limit must be from 1 to 500 and --offset at least 0")
	}
	st := usermerge.RowStatus(o.status)
	switch st {
	case "", usermerge.RowPending, usermerge.RowMerged, usermerge.RowRefused, usermerge.RowCancelled, usermerge.RowReverted, usermerge.RowRevertRefused:
	default:
		return usageError("--status must be pending, merged, refused, cancelled, reverted or revert_refused, not %q", o.status)
	}
	be := m.batches()
	b, err := be.Batch(ctx, m.caller, id)
	if err != nil {
		return err
	}
	page, err := be.BatchRows(ctx, m.caller, id, usermerge.BatchRowFilter{Status: st, Limit: o.limit, Offset: o.offset})
	if err != nil {
		return err
	}
	if page.Rows == nil {
		page.Rows = []usermerge.BatchRowResult{}
	}
	return m.emit(struct {
		Batch usermerge.Batch `json:"batch"`
		usermerge.BatchRowPage
	}{b, page}, func(w io.Writer) error { return writeBatch(w, b, page, o.offset) })
}

func (m *Main) batchReport(ctx context.Context, o *batchOptions, id int64) error {
	if o.format != "csv" && o.format != "ndjson" {
		return usageError("--format must be csv or ndjson, not %q", o.format)
	}
	be := m.batches()
	if _, err := be.Batch(ctx, m.caller, id); err != nil {
		return err // refused before any output is made
	}
	w, done, err := m.outputFile(o.output)
	if err != nil {
		return err
	}
	if rr, ok := be.(remoteReport); ok {
		err = rr.BatchReport(ctx, m.caller, id, o.format, w)
	} else {
		bw := bufio.NewWriter(w)
		rw := usermerge.NewReportWriter(bw, o.format)
		err = be.EachBatchRow(ctx, m.caller, id, rw.Row)
		if err == nil {
			err = rw.Flush()
		}
		if err == nil {
			err = bw.Flush()
		}
	}
	return done(err)
}

// outputFile is standard output, or a file written beside its name and
// renamed into place when complete.
func (m *Main) outputFile(path string) (io.Writer, func(error) error, error) {
	if path == "" {
		return m.Stdout, func(err error) error { return err }, nil
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, nil, usermerge.Errorf(usermerge.Invalid, "output_unwritable", "cannot write %s: %v", path, err)
	}
	return f, func(err error) error {
		cerr := f.Close()
		if err == nil && cerr != nil {
			err = usermerge.Errorf(usermerge.Invalid, "output_unwritable", "cannot write %s: %v", path, cerr)
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return usermerge.Errorf(usermerge.Invalid, "output_unwritable", "cannot write %s: %v", path, err)
		}
		return nil
	}, nil
}
