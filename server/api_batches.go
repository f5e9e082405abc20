package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"usermerge"
	"usermerge/engine"
)

// Bulk merges over the API (PRODUCT.md §12): a batch file is checked,
// dry-run or stored as a batch; a batch is started, paused, resumed,
// cancelled, reported and reverted. Every rule is the engine's; handlers
// read the body, call and answer.

func (s *Server) batchRoutes(t string) []route {
	return []route{
		{"POST", t + "/batches/check", tenant, s.checkBatch},
		{"POST", t + "/batches/dry-run", tenant, s.dryRunBatch},
		{"POST", t + "/batches", tenant, s.createBatch},
		{"POST", t + "/batches/from-suggestions", tenant, s.batchFromSuggestions},
		{"GET", t + "/batches", tenant, s.listBatches},
		{"GET", t + "/batches/{id}", tenant, s.getBatch},
		{"POST", t + "/batches/{id}/start", tenant, s.batchAction((*engine.Engine).StartBatch)},
		{"POST", t + "/batches/{id}/pause", tenant, s.batchAction((*engine.Engine).PauseBatch)},
		{"POST", t + "/batches/{id}/resume", tenant, s.batchAction((*engine.Engine).ResumeBatch)},
		{"POST", t + "/batches/{id}/cancel", tenant, s.batchAction((*engine.Engine).CancelBatch)},
		{"POST", t + "/batches/{id}/revert", tenant, s.revertBatch},
		{"GET", t + "/batches/{id}/rows", tenant, s.batchRows},
		{"GET", t + "/batches/{id}/report", tenant, s.batchReport},
		{"POST", t + "/operations/{op}/revert", tenant, s.revertOperation},
	}
}

// BatchRowsBody is a batch sent as JSON (Content-Type application/json).
type BatchRowsBody struct {
	Rows []usermerge.BatchRow `json:"rows"`
}

// BatchCheckAnswer answers a check: the rows in working order.
type BatchCheckAnswer struct {
	Rows []usermerge.BatchRowResult `json:"rows"`
}

// BatchesAnswer is a page of the tenant's batches, newest first.
type BatchesAnswer struct {
	Batches []usermerge.Batch `json:"batches"`
	Total   int               `json:"total"`
}

// BatchRevertBody is the body of a batch revert.
type BatchRevertBody struct {
	Partial bool `json:"partial"`
}

// batchFormat tells a batch file's format by its content type: "csv",
// "ndjson" or "json" (a {"rows": [...]} object).
func batchFormat(ct string) (string, error) {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "text/csv":
		return "csv", nil
	case "application/x-ndjson", "application/jsonl", "application/ndjson":
		return "ndjson", nil
	case "application/json":
		return "json", nil
	case "":
		return "", &usermerge.Error{Code: unsupportedMediaCode, Reason: "unsupported_media_type",
			Message: "say what the batch file is: Content-Type text/csv, application/x-ndjson, or application/json ({\"rows\": [...]})"}
	}
	return "", &usermerge.Error{Code: unsupportedMediaCode, Reason: "unsupported_media_type",
		Message: "send a batch as text/csv, application/x-ndjson or application/json ({\"rows\": [...]}), not " + strconv.Quote(ct)}
}

// readBatchBody reads a whole batch file (at most usermerge.MaxBatchBytes)
// and parses it into rows; a file that cannot be read as rows is refused
// with each bad line (the engine's BatchProblems).
func readBatchBody(w http.ResponseWriter, r *http.Request) ([]usermerge.BatchRow, error) {
	format, err := batchFormat(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, usermerge.MaxBatchBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, usermerge.Errorf(usermerge.Invalid, "too_large",
				"the batch file is larger than %d bytes; split it into several batches", usermerge.MaxBatchBytes)
		}
		return nil, badRequest("the batch file could not be read; nothing was written")
	}
	return parseBatchFile(body, format)
}

// parseBatchFile parses a batch file of a known format ("csv", "ndjson",
// "json", or "" to tell CSV from NDJSON by the content).
func parseBatchFile(body []byte, format string) ([]usermerge.BatchRow, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, usermerge.Errorf(usermerge.Invalid, "empty_batch", "the batch file is empty; send at least one row")
	}
	if format != "json" {
		return engine.ParseBatch(bytes.NewReader(body), format)
	}
	var b BatchRowsBody
	if err := decodeBytes(body, &b); err != nil {
		return nil, err
	}
	for i := range b.Rows {
		if b.Rows[i].Line == 0 {
			b.Rows[i].Line = i + 1
		}
	}
	return b.Rows, nil
}

// batchName reads ?name=, the file's name as the admin knows it.
func batchName(r *http.Request) (string, error) {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if len(name) > 200 {
		return "", badRequest("name is limited to 200 bytes")
	}
	return name, nil
}

func (s *Server) checkBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := batchName(r); err != nil {
		return err
	}
	rows, err := readBatchBody(w, r)
	if err != nil {
		return err
	}
	res, err := s.eng.CheckBatch(r.Context(), c.Caller, rows)
	if err != nil {
		return err
	}
	if res == nil {
		res = []usermerge.BatchRowResult{}
	}
	writeJSON(w, http.StatusOK, BatchCheckAnswer{Rows: res})
	return nil
}

func (s *Server) dryRunBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	name, err := batchName(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "csv", "ndjson":
	default:
		return badRequest("format must be json, csv or ndjson, not %q", format)
	}
	rows, err := readBatchBody(w, r)
	if err != nil {
		return err
	}
	plan, err := s.eng.DryRunBatch(r.Context(), c.Caller, rows)
	if err != nil {
		return err
	}
	if format == "" || format == "json" {
		if plan.Plans == nil {
			plan.Plans = []usermerge.BatchRowPlan{}
		}
		writeJSON(w, http.StatusOK, plan)
		return nil
	}
	return writePlanReport(w, plan, name, format)
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	name, err := batchName(r)
	if err != nil {
		return err
	}
	start := false
	switch r.URL.Query().Get("start") {
	case "", "false":
	case "true":
		start = true
	default:
		return badRequest("start must be true or false")
	}
	rows, err := readBatchBody(w, r)
	if err != nil {
		return err
	}
	b, err := s.eng.CreateBatch(r.Context(), c.Caller, name, rows)
	if err != nil {
		return err
	}
	if start {
		if b, err = s.eng.StartBatch(r.Context(), c.Caller, b.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

func (s *Server) batchFromSuggestions(w http.ResponseWriter, r *http.Request, c *call) error {
	var sel usermerge.SuggestionSelection
	if err := decode(w, r, &sel); err != nil {
		return err
	}
	if _, err := parseGrade(string(sel.Grade)); err != nil {
		return err
	}
	if sel.Grade == "" && len(sel.IDs) == 0 {
		return badRequest(`choose suggestions: a grade ("grade": "certain") or the suggestions' ids ("ids", a list of numbers)`)
	}
	for _, id := range sel.IDs {
		if id <= 0 {
			return badRequest("suggestion ids are positive whole numbers")
		}
	}
	b, err := s.createFromSuggestions(r, c.Caller, sel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

// suggestionsBatchName names a batch made of a selection of suggestions.
func suggestionsBatchName(sel usermerge.SuggestionSelection) string {
	if sel.Grade != "" {
		return string(sel.Grade) + " suggestions"
	}
	return "selected suggestions"
}

func (s *Server) createFromSuggestions(r *http.Request, c engine.Caller, sel usermerge.SuggestionSelection) (usermerge.Batch, error) {
	rows, err := s.eng.SuggestionRows(r.Context(), c, sel)
	if err != nil {
		return usermerge.Batch{}, err
	}
	return s.eng.CreateBatch(r.Context(), c, suggestionsBatchName(sel), rows)
}

func (s *Server) listBatches(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := queryInt(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000_000)
	if err != nil {
		return err
	}
	list, total, err := s.eng.Batches(r.Context(), c.Caller, limit, offset)
	if err != nil {
		return err
	}
	if list == nil {
		list = []usermerge.Batch{}
	}
	writeJSON(w, http.StatusOK, BatchesAnswer{Batches: list, Total: total})
	return nil
}

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	b, err := s.eng.Batch(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

type batchStep func(*engine.Engine, context.Context, engine.Caller, int64) (usermerge.Batch, error)

func (s *Server) batchAction(step batchStep) func(w http.ResponseWriter, r *http.Request, c *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		b, err := step(s.eng, r.Context(), c.Caller, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, b)
		return nil
	}
}

func (s *Server) revertBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var b BatchRevertBody
	if r.ContentLength != 0 { // an empty body reverts whole
		if err := decode(w, r, &b); err != nil {
			return err
		}
	}
	rev, err := s.eng.RevertBatch(r.Context(), c.Caller, id, b.Partial)
	if err != nil {
		return err
	}
	if rev.Refused == nil {
		rev.Refused = []usermerge.RowProblem{}
	}
	writeJSON(w, http.StatusOK, rev)
	return nil
}

// parseRowStatus reads a report's status filter ("" for every row).
func parseRowStatus(s string) (usermerge.RowStatus, error) {
	for _, st := range rowStatuses {
		if string(st) == s {
			return st, nil
		}
	}
	if s == "" {
		return "", nil
	}
	return "", badRequest("status must be pending, merged, refused, cancelled, reverted or revert_refused, not %q", s)
}

var rowStatuses = []usermerge.RowStatus{usermerge.RowPending, usermerge.RowMerged, usermerge.RowRefused,
	usermerge.RowCancelled, usermerge.RowReverted, usermerge.RowRevertRefused}

func (s *Server) batchRows(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var f usermerge.BatchRowFilter
	if f.Status, err = parseRowStatus(r.URL.Query().Get("status")); err != nil {
		return err
	}
	if f.Limit, err = queryInt(r, "limit", 100, 1, 1000); err != nil {
		return err
	}
	if f.Offset, err = queryInt(r, "offset", 0, 0, 1_000_000_000); err != nil {
		return err
	}
	page, err := s.eng.BatchRows(r.Context(), c.Caller, id, f)
	if err != nil {
		return err
	}
	if page.Rows == nil {
		page.Rows = []usermerge.BatchRowResult{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) batchReport(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "csv"
	case "csv", "ndjson":
	default:
		return badRequest("format must be csv or ndjson, not %q", format)
	}
	return s.streamReport(w, r, c.Caller, id, format)
}

// streamReport writes a batch's whole report as a download, a page of rows
// at a time. The batch is read first, so that a refusal is still a JSON
// (or HTML) error, not half a file.
func (s *Server) streamReport(w http.ResponseWriter, r *http.Request, c engine.Caller, id int64, format string) error {
	if _, err := s.eng.Batch(r.Context(), c, id); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(stallWriter{w: w, rc: http.NewResponseController(w), d: s.timeouts.Write}, 64<<10)
	setDownload(w, format, "batch-"+strconv.FormatInt(id, 10)+"-report")
	rw := usermerge.NewReportWriter(bw, format)
	err := s.eng.EachBatchRow(r.Context(), c, id, rw.Row)
	if err == nil {
		err = rw.Flush()
	}
	if err != nil {
		s.log.Error("batch report failed after the answer started", "tenant", c.Tenant, "batch", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return bw.Flush()
}

func setDownload(w http.ResponseWriter, format, base string) {
	ctype := "application/x-ndjson"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", `attachment; filename="`+base+`.`+format+`"`)
}

// writePlanReport writes a dry run as a download: a row per batch row,
// "ready" with its counts or "refused" with its reason.
func writePlanReport(w http.ResponseWriter, plan usermerge.BatchPlan, name, format string) error {
	base := "dry-run"
	if name != "" {
		base = downloadBase(name) + "-dry-run"
	}
	setDownload(w, format, base)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	if err := usermerge.WritePlanReport(bw, plan, format); err != nil {
		return nil // the answer has started: nothing more can be said
	}
	bw.Flush()
	return nil
}

// downloadBase makes a file name safe for a Content-Disposition header:
// its extension dropped, anything but letters, digits, '-', '_' and '.'
// replaced.
func downloadBase(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return "batch"
	}
	return b.String()
}

func (s *Server) revertOperation(w http.ResponseWriter, r *http.Request, c *call) error {
	op, err := pathInt(r, "op")
	if err != nil {
		return err
	}
	rep, err := s.eng.RevertOperation(r.Context(), c.Caller, op)
	if err != nil {
		return err
	}
	s.metrics.reverts.Add(float64(len(rep.Reverted)))
	writeJSON(w, http.StatusOK, rep)
	return nil
}
