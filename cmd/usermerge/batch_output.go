package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"usermerge"
)

// The text of `usermerge batch`: tables, the dry run, the reports in CSV
// and NDJSON (the server's columns: server/api_batches.go), and progress.

// batchLine says where a batch stands in one sentence.
func batchLine(b usermerge.Batch) string {
	s := fmt.Sprintf("Batch %d (%s) %s: %s, %d merged (%s), %d refused", b.ID, b.Name, b.Status,
		plural(b.Rows, "row", "rows"), b.Merged, plural(b.Merges, "merge", "merges"), b.Refused)
	if b.Cancelled > 0 {
		s += fmt.Sprintf(", %d cancelled", b.Cancelled)
	}
	if b.Left > 0 {
		s += fmt.Sprintf(", %d left", b.Left)
	}
	if b.Reverted > 0 {
		s += fmt.Sprintf(", %d reverted", b.Reverted)
	}
	s += "."
	switch b.Status {
	case usermerge.BatchPaused:
		s += fmt.Sprintf(" Go on with: usermerge batch resume %d", b.ID)
	case usermerge.BatchReady:
		s += fmt.Sprintf(" Start it with: usermerge batch resume %d", b.ID)
	}
	return s
}

// writeProblems lists refused rows, at most max (0: all).
func writeProblems(w io.Writer, ps []usermerge.RowProblem, max int) {
	for i, p := range ps {
		if max > 0 && i == max {
			fmt.Fprintf(w, "  ... and %d more\n", len(ps)-max)
			return
		}
		fmt.Fprintf(w, "  line %d: %s (%s)\n", p.Line, p.Message, p.Reason)
	}
}

func writeChecked(w io.Writer, path string, res []usermerge.BatchRowResult) error {
	sources, chained := 0, 0
	for _, r := range res {
		sources += len(r.Sources)
		if r.Order != 0 && r.Order != r.Line-1 {
			chained++
		}
	}
	_, err := fmt.Fprintf(w, "%s: %s checked, all can run: %s into %s. Nothing was written.\n", path,
		plural(len(res), "row", "rows"), plural(sources, "account", "accounts"), plural(len(res), "account", "accounts"))
	return err
}

func planProblems(p usermerge.BatchPlan) []usermerge.RowProblem {
	var ps []usermerge.RowProblem
	for _, r := range p.Plans {
		if r.Problem != nil {
			ps = append(ps, *r.Problem)
		}
	}
	return ps
}

func writePlanSummary(w io.Writer, p usermerge.BatchPlan) {
	fmt.Fprintf(w, "Dry run: %s, %d ready, %d refused; merging the ready rows: %s. Nothing was written.\n",
		plural(p.Rows, "row", "rows"), p.Ready, p.Refused, countText(usermerge.Total(p.Total)))
}

// writePlan writes a dry run: its summary, the totals per kind and, with
// rows, each row.
func writePlan(w io.Writer, p usermerge.BatchPlan, rows bool) error {
	writePlanSummary(w, p)
	if len(p.Total) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, countHeader())
		for _, spec := range usermerge.Specs {
			if c, ok := p.Total[spec.Kind]; ok && !c.IsZero() {
				fmt.Fprintln(tw, countRow(spec.Title, c, ""))
			}
		}
		tw.Flush()
	}
	if !rows {
		return nil
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "LINE\tORDER\tTARGET\tSOURCES\tWHAT")
	for _, r := range p.Plans {
		what := countText(usermerge.Total(r.Counts))
		if r.Problem != nil {
			what = "refused: " + r.Problem.Message
		} else if r.After != 0 {
			what += fmt.Sprintf(" (after line %d)", r.After)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", r.Line, r.Order, r.Target, strings.Join(r.Sources, ", "), what)
	}
	return tw.Flush()
}

// writePlanFile writes the dry run to path, CSV or NDJSON by its extension.
func writePlanFile(path string, p usermerge.BatchPlan) error {
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if format == "jsonl" {
		format = "ndjson"
	}
	if format != "csv" && format != "ndjson" {
		return usageError("--report %s: name a .csv or .ndjson file", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return usermerge.Errorf(usermerge.Invalid, "output_unwritable", "cannot write %s: %v", path, err)
	}
	bw := bufio.NewWriter(f)
	err = usermerge.WritePlanReport(bw, p, format)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return usermerge.Errorf(usermerge.Invalid, "output_unwritable", "cannot write %s: %v", path, err)
	}
	return nil
}

func writeBatches(w io.Writer, list []usermerge.Batch, total, offset int) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No batches.")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tROWS\tMERGED\tREFUSED\tLEFT\tBY\tCREATED")
	for _, b := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", b.ID, b.Name, b.Status, b.Rows, b.Merged, b.Refused, b.Left, b.By, fmtTime(b.Created))
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "Batches %d to %d of %d.\n", offset+1, offset+len(list), total)
	return err
}

func writeBatch(w io.Writer, b usermerge.Batch, page usermerge.BatchRowPage, offset int) error {
	fmt.Fprintln(w, batchLine(b))
	tw := newTable(w)
	fmt.Fprintf(tw, "Origin\t%s, by %s, created %s\n", b.Origin, b.By, fmtTime(b.Created))
	if b.Started != nil {
		fmt.Fprintf(tw, "Started\t%s\n", fmtTime(*b.Started))
	}
	if b.Finished != nil {
		fmt.Fprintf(tw, "Finished\t%s\n", fmtTime(*b.Finished))
	}
	if b.RevertedAt != nil {
		fmt.Fprintf(tw, "Reverted\t%s by %s\n", fmtTime(*b.RevertedAt), b.RevertedBy)
	}
	tw.Flush()
	if len(page.Rows) == 0 {
		_, err := fmt.Fprintln(w, "\nNo rows.")
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "ORDER\tLINE\tSTATUS\tTARGET\tSOURCES\tOPERATION\tMERGES\tREASON")
	for _, r := range page.Rows {
		op, why := "-", ""
		if r.Operation != 0 {
			op = strconv.FormatInt(r.Operation, 10)
		}
		if r.Problem != nil {
			why = r.Problem.Message
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Order, r.Line, r.Status, r.Target, strings.Join(r.Sources, ", "), op,
			or(usermerge.JoinIDs(r.Merges), "-"), why)
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "Rows %d to %d of %d. The whole report: usermerge batch report %d\n", offset+1, offset+len(page.Rows), page.Total, b.ID)
	return err
}

// batchProgress shows a batch's progress on standard error: on a terminal a
// bar redrawn in place, otherwise a line every progressLineEvery.
type batchProgress struct {
	w      io.Writer
	tty    bool
	last   time.Time
	shown  bool
	status usermerge.BatchStatus
}

func (m *Main) newProgress() *batchProgress {
	return &batchProgress{w: m.Stderr, tty: m.isTerminal(m.Stderr)}
}

func (p *batchProgress) show(b usermerge.Batch) {
	every := progressLineEvery
	if p.tty {
		every = 200 * time.Millisecond
	}
	if p.shown && b.Status == p.status && time.Since(p.last) < every {
		return
	}
	p.last, p.status = time.Now(), b.Status
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", progressBar(b))
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "batch %d: %s\n", b.ID, batchProgressText(b))
	p.shown = true
}

// note writes a line of its own, under the bar.
func (p *batchProgress) note(s string) {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, s)
}

func (p *batchProgress) end() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}

// batchProgressText is rows done of all, merged, refused, left, pace and
// time left.
func batchProgressText(b usermerge.Batch) string {
	done := b.Rows - b.Left
	s := fmt.Sprintf("%s, %s of %s rows done: %s merged, %s refused", b.Status, grouped(int64(done)), grouped(int64(b.Rows)),
		grouped(int64(b.Merged)), grouped(int64(b.Refused)))
	if b.Cancelled > 0 {
		s += fmt.Sprintf(", %s cancelled", grouped(int64(b.Cancelled)))
	}
	if b.Status == usermerge.BatchReverting || b.Reverted > 0 {
		s += fmt.Sprintf(", %s reverted", grouped(int64(b.Reverted)))
	}
	s += fmt.Sprintf(", %s left", grouped(int64(b.Left)))
	if b.RowsPerSecond > 0 {
		s += fmt.Sprintf(", %.1f rows/s", b.RowsPerSecond)
	}
	if b.SecondsLeft != nil && b.Left > 0 {
		s += ", " + (time.Duration(*b.SecondsLeft) * time.Second).Round(time.Second).String() + " left"
	}
	return s
}

func progressBar(b usermerge.Batch) string {
	const width = 24
	done := b.Rows - b.Left
	filled := 0
	if b.Rows > 0 {
		filled = done * width / b.Rows
	}
	eta := ""
	if b.SecondsLeft != nil && b.Left > 0 {
		eta = " " + (time.Duration(*b.SecondsLeft) * time.Second).Round(time.Second).String() + " left"
	}
	rate := ""
	if b.RowsPerSecond > 0 {
		rate = fmt.Sprintf(" %.1f/s", b.RowsPerSecond)
	}
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
	return fmt.Sprintf("batch %d %s %s/%s  merged %s  refused %s  left %s%s%s", b.ID, bar, grouped(int64(done)), grouped(int64(b.Rows)), grouped(int64(b.Merged)),
		grouped(int64(b.Refused)), grouped(int64(b.Left)), rate, eta)
}
