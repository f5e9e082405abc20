package engine

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"usermerge"
)

// maxReason is the longest reason a merge takes (check in merge.go).
const maxReason = 2000

// problemList gathers a batch's problems, keeping at most
// usermerge.MaxRowProblems and counting the rest.
type problemList struct {
	p usermerge.BatchProblems
}

func (l *problemList) add(line int, reason, format string, args ...any) {
	if len(l.p.Problems) >= usermerge.MaxRowProblems {
		l.p.More++
		return
	}
	l.p.Problems = append(l.p.Problems, usermerge.RowProblem{Line: line, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (l *problemList) bad() bool { return len(l.p.Problems) > 0 }

// refused is the answer for a batch refused whole.
func (l *problemList) refused(rows int, what string) error {
	l.p.Rows = rows
	p := l.p
	n := len(p.Problems) + p.More
	return &usermerge.Error{Code: usermerge.Invalid, Reason: "batch_refused",
		Message: fmt.Sprintf("the batch was refused: %s (%d %s); nothing was written", what, n, plural(n, "problem", "problems")), Err: &p}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ParseBatch reads a batch file: CSV (a header naming the columns target,
// sources, move_external_ids, reason) or NDJSON (one object per line with
// those keys), format "csv", "ndjson" or "" (told apart by the first
// byte). A file that cannot be read as rows is refused with every bad line
// named (a *usermerge.BatchProblems as the Err of the answer).
func ParseBatch(r io.Reader, format string) ([]usermerge.BatchRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, usermerge.MaxBatchBytes+1))
	if err != nil {
		return nil, usermerge.Errorf(usermerge.Invalid, "batch_unreadable", "the batch file could not be read")
	}
	var l problemList
	if len(data) > usermerge.MaxBatchBytes {
		l.add(0, "file_too_large", "the file is larger than %d MiB", usermerge.MaxBatchBytes>>20)
		return nil, l.refused(0, "the file is too large")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "":
		format = sniff(data)
	case "csv", "text/csv":
		format = "csv"
	case "ndjson", "jsonl", "application/x-ndjson":
		format = "ndjson"
	default:
		return nil, usermerge.Errorf(usermerge.Invalid, "unknown_format", "a batch file is csv or ndjson, not %q", format)
	}
	var rows []usermerge.BatchRow
	var n int
	if format == "ndjson" {
		rows, n = parseNDJSON(data, &l)
	} else {
		rows, n = parseCSV(data, &l)
	}
	if l.bad() {
		return nil, l.refused(n, "the file has lines that cannot be read")
	}
	if len(rows) == 0 {
		return nil, usermerge.Errorf(usermerge.Invalid, "batch_empty", "the batch file holds no rows")
	}
	return rows, nil
}

// sniff tells NDJSON (the first byte that is not white space opens an
// object) from CSV.
func sniff(data []byte) string {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return "ndjson"
	}
	return "csv"
}

// rowFields are a row's values as read, before they are checked.
type rowFields struct {
	line    int
	target  string
	sources []string
	move    string // CSV: the text of the column
	moveSet bool
	moveVal *bool // NDJSON: the decoded value
	reason  string
}

// row checks what can be checked of a row without the data.
func (f rowFields) row(l *problemList) (usermerge.BatchRow, bool) {
	r := usermerge.BatchRow{Line: f.line, Target: strings.TrimSpace(f.target), Reason: strings.TrimSpace(f.reason), Sources: []string{}}
	ok := true
	for _, s := range f.sources {
		if s = strings.TrimSpace(s); s != "" {
			r.Sources = append(r.Sources, s)
		}
	}
	if r.Target == "" {
		l.add(f.line, "target_required", "the row names no target (the account to keep)")
		ok = false
	}
	if len(r.Sources) == 0 {
		l.add(f.line, "sources_required", "the row names no source (an account to merge)")
		ok = false
	}
	if f.moveSet {
		b, valid := parseBool(f.move)
		if !valid {
			l.add(f.line, "bad_boolean", "move_external_ids is %q; write true or false (or leave it empty for the tenant's default)", clip(f.move))
			ok = false
		}
		r.MoveExternalIDs = b
	} else {
		r.MoveExternalIDs = f.moveVal
	}
	if len(r.Reason) > maxReason {
		l.add(f.line, "reason_too_long", "the reason is %d characters long; the limit is %d", len(r.Reason), maxReason)
		ok = false
	}
	return r, ok
}

// parseBool reads a CSV boolean; empty is nil (the tenant's default).
func parseBool(s string) (*bool, bool) {
	t, f := true, false
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, true
	case "true", "yes", "y", "1":
		return &t, true
	case "false", "no", "n", "0":
		return &f, true
	}
	return nil, false
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// tooMany reports the row past MaxBatchRows; reading stops there.
func tooMany(l *problemList, n, line int) bool {
	if n < usermerge.MaxBatchRows {
		return false
	}
	l.add(line, "too_many_rows", "a batch holds at most %d rows; this line is one more", usermerge.MaxBatchRows)
	return true
}

var csvColumns = []string{"target", "sources", "source", "move_external_ids", "reason"}

// parseCSV answers the good rows and the number of rows read.
func parseCSV(data []byte, l *problemList) ([]usermerge.BatchRow, int) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var header []string
	var rows []usermerge.BatchRow
	n := 0 // rows read, good or bad
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				l.add(pe.StartLine, "csv_syntax", "the line is not valid CSV: %v", pe.Err)
				continue
			}
			l.add(0, "csv_syntax", "the file is not valid CSV")
			break
		}
		line, _ := cr.FieldPos(0) // only after a record was read: FieldPos panics otherwise
		if !validFields(rec) {
			l.add(line, "invalid_utf8", "the line is not valid UTF-8 text")
			if header == nil {
				return nil, 0
			}
			continue
		}
		if header == nil {
			if header = csvHeader(rec, line, l); header == nil {
				return nil, 0 // without a header no row can be read
			}
			continue
		}
		if tooMany(l, n, line) {
			break
		}
		n++
		if len(rec) > len(header) {
			l.add(line, "too_many_fields", "the line has %d fields; the header names %d columns", len(rec), len(header))
			continue
		}
		f := rowFields{line: line}
		for i, v := range rec {
			switch header[i] {
			case "target":
				f.target = v
			case "sources":
				f.sources = append(f.sources, strings.Split(v, ";")...)
			case "source":
				f.sources = append(f.sources, v)
			case "move_external_ids":
				f.move, f.moveSet = v, true
			case "reason":
				f.reason = v
			}
		}
		if r, ok := f.row(l); ok {
			rows = append(rows, r)
		}
	}
	if header == nil && !l.bad() {
		l.add(1, "header_required", "the file has no header line (target,sources,move_external_ids,reason)")
	}
	return rows, n
}

func validFields(rec []string) bool {
	for _, v := range rec {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// csvHeader checks the header line; nil when no row can be read with it.
func csvHeader(rec []string, line int, l *problemList) []string {
	h := make([]string, len(rec))
	ok, seen := true, map[string]bool{}
	for i, name := range rec {
		h[i] = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !slices.Contains(csvColumns, h[i]):
			l.add(line, "unknown_column", "column %q is not one of %s", clip(name), strings.Join(csvColumns, ", "))
			ok = false
		case seen[h[i]] && h[i] != "source":
			l.add(line, "duplicate_column", "column %q is named twice", h[i])
			ok = false
		}
		seen[h[i]] = true
	}
	if !seen["target"] {
		l.add(line, "target_column_required", "the header names no target column")
		ok = false
	}
	if !seen["sources"] && !seen["source"] {
		l.add(line, "sources_column_required", "the header names no sources column")
		ok = false
	}
	if !ok {
		return nil
	}
	return h
}

// parseNDJSON answers the good rows and the number of rows read.
func parseNDJSON(data []byte, l *problemList) ([]usermerge.BatchRow, int) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), usermerge.MaxBatchBytes+1)
	var rows []usermerge.BatchRow
	n := 0 // rows read, good or bad
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if tooMany(l, n, line) {
			break
		}
		n++
		if !utf8.Valid(text) {
			l.add(line, "invalid_utf8", "the line is not valid UTF-8 text")
			continue
		}
		f, ok := ndjsonRow(text, line, l)
		if !ok {
			continue
		}
		if r, ok := f.row(l); ok {
			rows = append(rows, r)
		}
	}
	return rows, n
}

// ndjsonRow reads one line's object.
func ndjsonRow(text []byte, line int, l *problemList) (rowFields, bool) {
	f := rowFields{line: line}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		l.add(line, "json_syntax", "the line is not one JSON object")
		return f, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		l.add(line, "json_syntax", "the line is not one JSON object")
		return f, false
	}
	ok := true
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := obj[k]
		var err error
		switch k {
		case "target":
			err = json.Unmarshal(v, &f.target)
		case "sources":
			err = json.Unmarshal(v, &f.sources)
		case "move_external_ids":
			err = json.Unmarshal(v, &f.moveVal)
		case "reason":
			err = json.Unmarshal(v, &f.reason)
		default:
			l.add(line, "unknown_key", "key %q is not one of target, sources, move_external_ids, reason", clip(k))
			ok = false
			continue
		}
		if err != nil {
			want := map[string]string{"target": "a string", "sources": "an array of strings", "move_external_ids": "true, false or null", "reason": "a string"}[k]
			reason := "bad_value"
			if k == "move_external_ids" {
				reason = "bad_boolean"
			}
			l.add(line, reason, "%s must be %s", k, want)
			ok = false
		}
	}
	return f, ok
}
