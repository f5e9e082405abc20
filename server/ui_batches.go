package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"usermerge"
	"usermerge/match"
)

// "Bulk merges" (PRODUCT.md §12): the tenant's batches; the upload of a
// batch file, checked as a whole (a refused file lists every bad row, and
// nothing is stored); a stored batch, ready, shows its dry run and "Run
// this batch"; a running one its progress (static/app.js follows the API;
// without the script the page refreshes itself), pause, resume and cancel;
// then its report, downloads and revert.

const (
	batchesPerPage    = 20
	batchRowsPerPage  = 50
	batchPlansPerPage = 50
	// uploadMemory is how much of an upload is held in memory; the rest
	// of it waits in a temporary file until the request ends.
	uploadMemory = 4 << 20
)

type batchesPage struct {
	uiPage
	Batches  []batchView
	Total    int
	Offset   int
	PrevURL  string
	NextURL  string
	FileName string
	Problems *usermerge.BatchProblems
	Shown    []usermerge.RowProblem // the problems listed (at most maxProblemsShown)
	// A refused selection of suggestions offers a batch of the others.
	FromSuggestions bool
	GoodIDs         []int64
}

// maxProblemsShown bounds the problems a refused upload lists on the page.
const maxProblemsShown = 1000

// batchView is a batch as the pages show it.
type batchView struct {
	usermerge.Batch
	URL          string
	Done         int // rows merged, refused or cancelled (of a revert: reverted)
	Of           int // the rows Done counts towards: every row (of a revert: the ones the run merged)
	Percent      int
	CreatedText  string
	FinishedText string
	TimeLeft     string
}

func newBatchView(tp string, b usermerge.Batch) batchView {
	v := batchView{Batch: b, URL: tp + "/batches/" + strconv.FormatInt(b.ID, 10), CreatedText: when(b.Created), FinishedText: whenPtr(b.Finished)}
	v.Done, v.Of = b.Merged+b.Refused+b.Cancelled, b.Rows
	if b.Status == usermerge.BatchReverting || b.Status == usermerge.BatchReverted {
		v.Done, v.Of = b.Reverted, b.Merged // Merged counts the rows the run merged, reverted since or not
	}
	if v.Of > 0 {
		v.Percent = int(math.Min(100, math.Floor(float64(v.Done)*100/float64(v.Of))))
	}
	if b.SecondsLeft != nil {
		v.TimeLeft = secondsText(*b.SecondsLeft)
	}
	return v
}

// secondsText is a time left in words, rounded up.
func secondsText(s float64) string {
	switch {
	case s < 1:
		return "less than a second"
	case s < 90:
		return plural(int(math.Ceil(s)), "second", "seconds")
	case s < 90*60:
		return "about " + plural(int(math.Ceil(s/60)), "minute", "minutes")
	}
	return "about " + plural(int(math.Ceil(s/3600)), "hour", "hours")
}

// batchStatusText is a batch's state in words (never colour alone).
func batchStatusText(s usermerge.BatchStatus) string {
	switch s {
	case usermerge.BatchReady:
		return "Ready: not started"
	case usermerge.BatchRunning:
		return "Running"
	case usermerge.BatchPaused:
		return "Paused"
	case usermerge.BatchCancelled:
		return "Cancelled"
	case usermerge.BatchDone:
		return "Done"
	case usermerge.BatchReverting:
		return "Reverting"
	case usermerge.BatchReverted:
		return "Reverted"
	}
	return string(s)
}

func batchStatusClass(s usermerge.BatchStatus) string {
	switch s {
	case usermerge.BatchDone:
		return "pill ok"
	case usermerge.BatchRunning, usermerge.BatchReverting, usermerge.BatchReady:
		return "pill info"
	case usermerge.BatchPaused, usermerge.BatchCancelled:
		return "pill warn"
	}
	return "pill muted"
}

func rowStatusText(s usermerge.RowStatus) string {
	switch s {
	case usermerge.RowPending:
		return "Pending"
	case usermerge.RowMerged:
		return "Merged"
	case usermerge.RowRefused:
		return "Refused"
	case usermerge.RowCancelled:
		return "Cancelled"
	case usermerge.RowReverted:
		return "Reverted"
	case usermerge.RowRevertRefused:
		return "Revert refused: still merged"
	}
	return string(s)
}

func rowStatusClass(s usermerge.RowStatus) string {
	switch s {
	case usermerge.RowMerged:
		return "pill ok"
	case usermerge.RowRefused, usermerge.RowRevertRefused:
		return "pill warn"
	case usermerge.RowPending:
		return "pill info"
	}
	return "pill muted"
}

func (u *uiServer) batches(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	p := batchesPage{uiPage: c.page}
	p.Title, p.Section = "Bulk merges", "batches"
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	p.Offset = max(0, min(off, 1_000_000_000))
	return u.renderBatches(w, r, c, http.StatusOK, p)
}

func (u *uiServer) renderBatches(w http.ResponseWriter, r *http.Request, c *uiCall, status int, p batchesPage) error {
	list, total, err := u.s.eng.Batches(r.Context(), c.Caller, batchesPerPage, p.Offset)
	if err != nil {
		return err
	}
	p.Total = total
	for _, b := range list {
		p.Batches = append(p.Batches, newBatchView(c.page.T(), b))
	}
	base := c.page.T() + "/batches"
	if p.Offset > 0 {
		p.PrevURL = base + pageQuery(max(0, p.Offset-batchesPerPage))
	}
	if p.Offset+len(list) < total {
		p.NextURL = base + pageQuery(p.Offset+batchesPerPage)
	}
	return u.render(w, status, "batches", p)
}

func pageQuery(offset int) string {
	if offset == 0 {
		return ""
	}
	return "?offset=" + strconv.Itoa(offset)
}

// doUpload receives a batch file (a multipart form: the field "file" and
// the CSRF token), and stores it as a ready batch if every row is good; a
// refused file is shown row by row and nothing is stored.
func (u *uiServer) doUpload(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	p := batchesPage{uiPage: c.page}
	p.Title, p.Section = "Bulk merges", "batches"
	refuse := func(err error) error {
		switch usermerge.ErrorCode(err) {
		case usermerge.Internal, usermerge.Unauthenticated:
			return err
		}
		u.s.metrics.refused(err)
		var bp *usermerge.BatchProblems
		if errors.As(err, &bp) {
			p.Problems = bp
			p.Shown = bp.Problems[:min(len(bp.Problems), maxProblemsShown)]
			p.Error = "Nothing was stored: " + usermerge.ErrorMessage(err)
		} else {
			p.Error = usermerge.ErrorSentence(err)
		}
		status := statusOf[usermerge.ErrorCode(err)]
		if status == 0 {
			status = http.StatusUnprocessableEntity
		}
		return u.renderBatches(w, r, c, status, p)
	}
	if r.MultipartForm == nil {
		return refuse(badRequest("send the batch file with the upload form"))
	}
	fhs := r.MultipartForm.File["file"]
	if len(fhs) != 1 {
		return refuse(usermerge.Errorf(usermerge.Invalid, "no_file", "choose one batch file (CSV or NDJSON) to upload"))
	}
	fh := fhs[0]
	p.FileName = path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
	if len(p.FileName) > 200 || !usermerge.Storable(p.FileName) {
		p.FileName = "upload"
	}
	if fh.Size > usermerge.MaxBatchBytes {
		return refuse(usermerge.Errorf(usermerge.Invalid, "too_large", "the batch file is larger than %d bytes; split it into several batches", usermerge.MaxBatchBytes))
	}
	f, err := fh.Open()
	if err != nil {
		return usermerge.InternalError(err)
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		return usermerge.InternalError(err)
	}
	format := ""
	switch strings.ToLower(path.Ext(p.FileName)) {
	case ".csv":
		format = "csv"
	case ".ndjson", ".jsonl":
		format = "ndjson"
	}
	rows, err := parseBatchFile(body, format)
	if err != nil {
		return refuse(err)
	}
	b, err := u.s.eng.CreateBatch(r.Context(), c.Caller, p.FileName, rows)
	if err != nil {
		return refuse(err)
	}
	u.setFlash(w, "ok", fmt.Sprintf("Every row of %s is good: %s stored as batch %d, not started. Read the dry run below, then run it.",
		p.FileName, plural(b.Rows, "row", "rows"), b.ID))
	return redirect(w, r, newBatchView(c.page.T(), b).URL)
}

// doFromSuggestions makes a batch of every certain suggestion (or those of
// the grade the form names) and shows its dry run.
func (u *uiServer) doFromSuggestions(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	var sel usermerge.SuggestionSelection
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("suggestion ids are positive whole numbers")
		}
		sel.IDs = append(sel.IDs, id)
	}
	if len(sel.IDs) == 0 {
		g, err := parseGrade(r.PostForm.Get("grade"))
		if err != nil || g == "" {
			g = match.GradeCertain
		}
		sel.Grade = g
	}
	back := c.page.T() + "/duplicates"
	rows, err := u.s.eng.SuggestionRows(r.Context(), c.Caller, sel)
	if err != nil {
		return u.done(w, r, back, "", nothingDone("No batch was made", err))
	}
	b, err := u.s.eng.CreateBatch(r.Context(), c.Caller, suggestionsBatchName(sel), rows)
	if err != nil {
		var bp *usermerge.BatchProblems
		if !errors.As(err, &bp) {
			return u.done(w, r, back, "", nothingDone("No batch was made", err))
		}
		// Refused whole: each refused suggestion's reason, and a batch of
		// the others offered.
		p := batchesPage{uiPage: c.page, Problems: bp, Shown: bp.Problems[:min(len(bp.Problems), maxProblemsShown)],
			FileName: suggestionsBatchName(sel), FromSuggestions: true}
		p.Title, p.Section = "Bulk merges", "batches"
		p.Error = "No batch was made: " + usermerge.ErrorMessage(err)
		bad := map[int]bool{}
		for _, pr := range bp.Problems {
			bad[pr.Line] = true
		}
		for _, row := range rows {
			if !bad[row.Line] && row.Suggestion > 0 {
				p.GoodIDs = append(p.GoodIDs, row.Suggestion)
			}
		}
		u.s.metrics.refused(err)
		return u.renderBatches(w, r, c, http.StatusUnprocessableEntity, p)
	}
	u.setFlash(w, "ok", fmt.Sprintf("Batch %d holds the %s (%s), not started. Read the dry run below, then run it.", b.ID, suggestionsBatchName(sel), plural(b.Rows, "row", "rows")))
	return redirect(w, r, newBatchView(c.page.T(), b).URL)
}

type batchPage struct {
	uiPage
	B       batchView
	PollURL string // the API's batch, for the script
	// A ready batch shows its dry run.
	Plan      *usermerge.BatchPlan
	Plans     []usermerge.BatchRowPlan
	PlanTotal usermerge.Counts
	// The report.
	Rows       []usermerge.BatchRowResult
	RowTotal   int
	Offset     int
	Status     usermerge.RowStatus
	Filters    []gradeFilter
	PrevURL    string
	NextURL    string
	PageText   string
	ReportCSV  string
	ReportJSON string
	PlanCSV    string
	MergesURL  string
	Running    bool
	CanRevert  bool
	CanPause   bool
	CanResume  bool
	CanCancel  bool
	CanStart   bool
}

// OpURL lists the merges of an operation.
func (p batchPage) OpURL(op int64) string {
	return p.T() + "/merges?" + url.Values{"operation": {strconv.FormatInt(op, 10)}, "state": {"all"}}.Encode()
}

func batchID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usermerge.Errorf(usermerge.NotFound, "batch_not_found", "there is no batch %q", r.PathValue("id"))
	}
	return id, nil
}

func (u *uiServer) batch(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := batchID(r)
	if err != nil {
		return err
	}
	b, err := u.s.eng.Batch(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := batchPage{uiPage: c.page, B: newBatchView(c.page.T(), b)}
	p.Title, p.Section = fmt.Sprintf("Batch %d", b.ID), "batches"
	apiBase := "/api/v1/tenants/" + url.PathEscape(c.Tenant) + "/batches/" + strconv.FormatInt(b.ID, 10)
	p.PollURL = apiBase
	p.ReportCSV, p.ReportJSON = apiBase+"/report?format=csv", apiBase+"/report?format=ndjson"
	p.MergesURL = c.page.T() + "/merges?" + url.Values{"batch": {strconv.FormatInt(b.ID, 10)}, "state": {"all"}}.Encode()
	p.Running = b.Status == usermerge.BatchRunning || b.Status == usermerge.BatchReverting
	p.Refresh = 0
	if p.Running {
		p.Refresh = 2
	}
	edit := c.page.CanEdit
	p.CanStart = edit && b.Status == usermerge.BatchReady
	p.CanPause = edit && b.Status == usermerge.BatchRunning
	p.CanResume = edit && b.Status == usermerge.BatchPaused
	p.CanCancel = edit && (b.Status == usermerge.BatchRunning || b.Status == usermerge.BatchPaused || b.Status == usermerge.BatchReady)
	p.CanRevert = edit && c.rights.Tenant.Policy.RevertAllowed && b.Merges > 0 &&
		(b.Status == usermerge.BatchDone || b.Status == usermerge.BatchCancelled)
	off, _ := strconv.Atoi(q.Get("offset"))
	p.Offset = max(0, min(off, 1_000_000_000))
	if b.Status == usermerge.BatchReady {
		plan, err := u.plan(r, c, b)
		if err != nil {
			return err
		}
		p.Plan = &plan
		p.PlanTotal = usermerge.Total(plan.Total)
		p.PlanCSV = p.B.URL + "/dry-run.csv"
		end := min(len(plan.Plans), p.Offset+batchPlansPerPage)
		if p.Offset < end {
			p.Plans = plan.Plans[p.Offset:end]
		}
		p.pager(p.B.URL, "", len(plan.Plans), len(p.Plans), batchPlansPerPage, "Rows")
		return u.render(w, http.StatusOK, "batch", p)
	}
	if p.Status, err = parseRowStatus(q.Get("status")); err != nil {
		return err
	}
	all := gradeFilter{Label: "Every row", URL: p.B.URL, N: b.Rows, Current: p.Status == ""}
	p.Filters = append(p.Filters, all)
	counts := map[usermerge.RowStatus]int{usermerge.RowPending: b.Left, usermerge.RowMerged: max(0, b.Merged-b.Reverted), usermerge.RowRefused: b.Refused,
		usermerge.RowCancelled: b.Cancelled, usermerge.RowReverted: b.Reverted}
	for _, st := range rowStatuses {
		n, known := counts[st]
		if (!known || n == 0) && st != p.Status {
			continue
		}
		p.Filters = append(p.Filters, gradeFilter{Label: rowStatusText(st), URL: p.B.URL + "?status=" + string(st), N: n, Current: st == p.Status})
	}
	page, err := u.s.eng.BatchRows(r.Context(), c.Caller, b.ID, usermerge.BatchRowFilter{Status: p.Status, Limit: batchRowsPerPage, Offset: p.Offset})
	if err != nil {
		return err
	}
	p.Rows, p.RowTotal = page.Rows, page.Total
	p.pager(p.B.URL, string(p.Status), page.Total, len(page.Rows), batchRowsPerPage, "Rows")
	return u.render(w, http.StatusOK, "batch", p)
}

func (p *batchPage) pager(base, status string, total, n, per int, what string) {
	at := func(off int) string {
		v := url.Values{}
		if status != "" {
			v.Set("status", status)
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	if p.Offset > 0 {
		p.PrevURL = at(max(0, p.Offset-per))
	}
	if p.Offset+n < total {
		p.NextURL = at(p.Offset + per)
	}
	if total > n && n > 0 {
		p.PageText = fmt.Sprintf("%s %s–%s of %s", what, grouped(int64(p.Offset+1)), grouped(int64(p.Offset+n)), grouped(int64(total)))
	}
}

// planCache keeps the dry runs of the last ready batches shown, so that
// paging through a dry run of 10,000 rows does not compute it again for
// every page; a dry run is of the data as it is, so it is kept briefly.
type planCache struct {
	mu      sync.Mutex
	entries []planEntry
}

type planEntry struct {
	key  string
	at   time.Time
	plan usermerge.BatchPlan
}

const (
	planCacheSize = 8
	planCacheTTL  = 2 * time.Minute
)

func (pc *planCache) get(key string, now time.Time) (usermerge.BatchPlan, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, e := range pc.entries {
		if e.key == key && now.Sub(e.at) < planCacheTTL {
			return e.plan, true
		}
	}
	return usermerge.BatchPlan{}, false
}

func (pc *planCache) put(key string, now time.Time, plan usermerge.BatchPlan) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	kept := pc.entries[:0]
	for _, e := range pc.entries {
		if e.key != key && now.Sub(e.at) < planCacheTTL {
			kept = append(kept, e)
		}
	}
	if len(kept) >= planCacheSize {
		kept = kept[1:]
	}
	pc.entries = append(kept, planEntry{key: key, at: now, plan: plan})
}

// plan answers the dry run of a stored batch: its rows read back, dry-run
// by the engine (the caller's scope applies again).
func (u *uiServer) plan(r *http.Request, c *uiCall, b usermerge.Batch) (usermerge.BatchPlan, error) {
	key := c.Tenant + "\x00" + c.Admin + "\x00" + strconv.FormatInt(b.ID, 10)
	now := time.Now()
	if p, ok := u.plans.get(key, now); ok {
		return p, nil
	}
	var rows []usermerge.BatchRow
	err := u.s.eng.EachBatchRow(r.Context(), c.Caller, b.ID, func(res usermerge.BatchRowResult) error {
		rows = append(rows, res.BatchRow)
		return nil
	})
	if err != nil {
		return usermerge.BatchPlan{}, err
	}
	p, err := u.s.eng.DryRunBatch(r.Context(), c.Caller, rows)
	if err != nil {
		return p, err
	}
	u.plans.put(key, now, p)
	return p, nil
}

// planDownload answers a ready batch's dry run as a CSV file.
func (u *uiServer) planDownload(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := batchID(r)
	if err != nil {
		return err
	}
	b, err := u.s.eng.Batch(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	plan, err := u.plan(r, c, b)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	rec := &bufferWriter{h: w.Header(), buf: &buf}
	writePlanReport(rec, plan, fmt.Sprintf("batch-%d", b.ID), "csv")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}

// bufferWriter collects an answer before it is sent, so that a failure
// is still an error page.
type bufferWriter struct {
	h   http.Header
	buf *bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.h }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferWriter) WriteHeader(int)             {}

// batchStep runs one of the batch's buttons and goes back to its page.
func (u *uiServer) batchStep(step batchStep, done string) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *uiCall) error {
		id, err := batchID(r)
		if err != nil {
			return err
		}
		back := c.page.T() + "/batches/" + strconv.FormatInt(id, 10)
		_, err = step(u.s.eng, r.Context(), c.Caller, id)
		return u.done(w, r, back, done, err)
	}
}

type batchRevertPage struct {
	uiPage
	B        batchView
	Partial  bool
	Problems []usermerge.RowProblem
	Back     string
}

func (u *uiServer) batchRevertConfirm(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := batchID(r)
	if err != nil {
		return err
	}
	b, err := u.s.eng.Batch(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	p := batchRevertPage{uiPage: c.page, B: newBatchView(c.page.T(), b)}
	p.Title, p.Section, p.Back = fmt.Sprintf("Revert batch %d", b.ID), "batches", p.B.URL
	return u.render(w, http.StatusOK, "batch_revert", p)
}

func (u *uiServer) doBatchRevert(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := batchID(r)
	if err != nil {
		return err
	}
	partial := r.PostForm.Get("partial") == "1"
	back := c.page.T() + "/batches/" + strconv.FormatInt(id, 10)
	rev, err := u.s.eng.RevertBatch(r.Context(), c.Caller, id, partial)
	if err != nil {
		var bp *usermerge.BatchProblems
		if !errors.As(err, &bp) {
			return u.done(w, r, back, "", nothingDone("Nothing was reverted", err))
		}
		// Refused whole: the confirmation again, each row's reason listed.
		b, berr := u.s.eng.Batch(r.Context(), c.Caller, id)
		if berr != nil {
			return berr
		}
		u.s.metrics.refused(err)
		p := batchRevertPage{uiPage: c.page, B: newBatchView(c.page.T(), b), Problems: bp.Problems, Partial: true, Back: back}
		p.Title, p.Section = fmt.Sprintf("Revert batch %d", b.ID), "batches"
		p.Error = "Nothing was reverted: " + usermerge.ErrorMessage(err)
		return u.render(w, statusOf[usermerge.ErrorCode(err)], "batch_revert", p)
	}
	text := fmt.Sprintf("Batch %d is being reverted, newest merge first.", id)
	if n := len(rev.Refused); n > 0 {
		text += fmt.Sprintf(" %s cannot be reverted and stay merged; the report says why.", plural(n, "row", "rows"))
	}
	return u.done(w, r, back, text, nil)
}

// --- operations ---

type operationRevertPage struct {
	uiPage
	Op     int64
	Merges []usermerge.Merge
	Back   string
}

func opID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("op"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usermerge.Errorf(usermerge.NotFound, "operation_not_found", "there is no operation %q", r.PathValue("op"))
	}
	return id, nil
}

func (u *uiServer) operationRevertConfirm(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	op, err := opID(r)
	if err != nil {
		return err
	}
	mp, err := u.s.eng.ListMerges(r.Context(), c.Caller, usermerge.MergeFilter{Operation: op, State: usermerge.StateActive, Page: 1, PerPage: usermerge.MaxSources + 1})
	if err != nil {
		return err
	}
	if len(mp.Merges) == 0 {
		return usermerge.Errorf(usermerge.NotFound, "operation_not_found", "operation %d has no merge left to revert in your scope", op)
	}
	p := operationRevertPage{uiPage: c.page, Op: op, Merges: mp.Merges}
	p.Title, p.Section = fmt.Sprintf("Revert operation %d", op), "merges"
	p.Back = c.page.T() + "/merges?" + url.Values{"operation": {strconv.FormatInt(op, 10)}, "state": {"all"}}.Encode()
	return u.render(w, http.StatusOK, "operation_revert", p)
}

func (u *uiServer) doOperationRevert(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	op, err := opID(r)
	if err != nil {
		return err
	}
	back := c.page.T() + "/merges?" + url.Values{"operation": {strconv.FormatInt(op, 10)}, "state": {"all"}}.Encode()
	rep, err := u.s.eng.RevertOperation(r.Context(), c.Caller, op)
	if err != nil {
		return u.done(w, r, back, "", nothingDone("Nothing was reverted", err))
	}
	u.s.metrics.reverts.Add(float64(len(rep.Reverted)))
	text := fmt.Sprintf("Reverted operation %d: %s went back to their accounts.", op, plural(len(rep.Reverted), "merge", "merges"))
	if n := len(rep.KeptNewer); n > 0 {
		text += fmt.Sprintf(" %s changed after the merge and kept the newer value; the merge details list them.", plural(n, "record", "records"))
	}
	return u.done(w, r, back, text, nil)
}
