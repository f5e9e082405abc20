package usermerge

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
)

// A batch's report and a dry run's report, as CSV or NDJSON: one writer for
// every surface (the server's downloads, the command line's files), so the
// columns read the same wherever the file came from. docs/batches.md
// documents the columns.

// ReportColumns are the columns of a batch report in CSV.
var ReportColumns = []string{"line", "order", "status", "target", "sources", "target_id", "source_ids", "operation",
	"merges", "reason", "problem_reason", "problem_message", "at"}

// PlanColumns are the columns of a dry run's report in CSV; the counts are
// summed over the row's sources and every kind.
var PlanColumns = []string{"line", "order", "status", "target", "sources", "target_id", "source_ids", "after",
	"moved", "combined", "retired", "left", "reason", "problem_reason", "problem_message"}

// ListSep joins a row's sources (and ids, and merges) in one CSV field.
const ListSep = ";"

// ReportWriter writes a batch report row by row, as CSV ("csv", the header
// first) or NDJSON (any other format).
type ReportWriter struct {
	csv  *csv.Writer
	json *json.Encoder
}

// NewReportWriter starts a report on w.
func NewReportWriter(w io.Writer, format string) *ReportWriter {
	rw := &ReportWriter{}
	if format == "csv" {
		rw.csv = csv.NewWriter(w)
		rw.csv.Write(ReportColumns)
	} else {
		rw.json = json.NewEncoder(w)
	}
	return rw
}

// Row writes one row of the report.
func (rw *ReportWriter) Row(res BatchRowResult) error {
	if rw.json != nil {
		return rw.json.Encode(res)
	}
	var pr, pm, at, op string
	if res.Problem != nil {
		pr, pm = res.Problem.Reason, res.Problem.Message
	}
	if res.At != nil {
		at = res.At.UTC().Format(time.RFC3339)
	}
	if res.Operation != 0 {
		op = strconv.FormatInt(res.Operation, 10)
	}
	return rw.csv.Write([]string{strconv.Itoa(res.Line), strconv.Itoa(res.Order), string(res.Status), CSVSafe(res.Target),
		CSVSafe(strings.Join(res.Sources, ListSep)), CSVSafe(res.TargetID), CSVSafe(strings.Join(res.SourceIDs, ListSep)), op,
		JoinIDs(res.Merges), CSVSafe(res.Reason), pr, CSVSafe(pm), at})
}

// Flush writes what the CSV writer holds; the caller flushes w.
func (rw *ReportWriter) Flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		return rw.csv.Error()
	}
	return nil
}

// WritePlanReport writes a dry run, a row per batch row: "ready" with its
// counts or "refused" with its reason; CSV ("csv") or NDJSON.
func WritePlanReport(w io.Writer, plan BatchPlan, format string) error {
	if format != "csv" {
		enc := json.NewEncoder(w)
		for _, p := range plan.Plans {
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	cw.Write(PlanColumns)
	for _, p := range plan.Plans {
		cw.Write(planRecord(p))
	}
	cw.Flush()
	return cw.Error()
}

func planRecord(p BatchRowPlan) []string {
	status, pr, pm := "ready", "", ""
	if p.Problem != nil {
		status, pr, pm = "refused", p.Problem.Reason, p.Problem.Message
	}
	t := Total(p.Counts)
	n := func(v int64) string {
		if p.Problem != nil {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	after := ""
	if p.After != 0 {
		after = strconv.Itoa(p.After)
	}
	return []string{strconv.Itoa(p.Line), strconv.Itoa(p.Order), status, CSVSafe(p.Target), CSVSafe(strings.Join(p.Sources, ListSep)),
		CSVSafe(p.TargetID), CSVSafe(strings.Join(p.SourceIDs, ListSep)), after, n(t.Moved), n(t.Combined), n(t.Retired), n(t.Left),
		CSVSafe(p.Reason), pr, CSVSafe(pm)}
}

// CSVSafe keeps a text field from being read as a formula by a spreadsheet
// (=, +, -, @, tab or carriage return at its start).
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// JoinIDs joins ids with ListSep.
func JoinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ListSep)
}
