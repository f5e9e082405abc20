package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"usermerge"
)

// The batch endpoints' input checks, which answer before the engine is
// asked anything: content types, parameters, ids, bodies, CSRF.
func TestBatchAPIInput(t *testing.T) {
	e := newEnv(t)
	admin := e.signIn("admin")
	const T = "/api/v1/tenants/acme"
	csvFile := []byte("target,sources\nt.login,s.login\n")
	for _, c := range []struct {
		label, method, path, ctype string
		body                       []byte
		want                       string
	}{
		{"xml", "POST", T + "/batches/check", "text/xml", csvFile, "415 unsupported_media_type"},
		{"no content type", "POST", T + "/batches/check", "", csvFile, "415 unsupported_media_type"},
		{"unknown parameter", "POST", T + "/batches/check?nmae=a.csv", "text/csv", csvFile, "400 unknown_parameter"},
		{"name too long", "POST", T + "/batches?name=" + strings.Repeat("n", 201), "text/csv", csvFile, "400 bad_request"},
		{"start not a bool", "POST", T + "/batches?start=soon", "text/csv", csvFile, "400 bad_request"},
		{"dry-run format", "POST", T + "/batches/dry-run?format=xlsx", "text/csv", csvFile, "400 bad_request"},
		{"empty file", "POST", T + "/batches/check", "text/csv", []byte("  \n"), "422 empty_batch"},
		{"json unknown field", "POST", T + "/batches/check", "application/json", []byte(`{"rows":[],"extra":1}`), "400 bad_request"},
		{"json not an object", "POST", T + "/batches", "application/json", []byte(`[1,2]`), "400 bad_request"},
		{"json wrong type", "POST", T + "/batches/dry-run", "application/json", []byte(`{"rows":[{"target":1}]}`), "400 bad_request"},
		{"batch id", "GET", T + "/batches/abc", "", nil, "400 bad_request"},
		{"batch id zero", "GET", T + "/batches/0", "", nil, "400 bad_request"},
		{"list limit", "GET", T + "/batches?limit=0", "", nil, "400 bad_request"},
		{"rows status", "GET", T + "/batches/1/rows?status=happy", "", nil, "400 bad_request"},
		{"rows limit", "GET", T + "/batches/1/rows?limit=1001", "", nil, "400 bad_request"},
		{"report format", "GET", T + "/batches/1/report?format=xlsx", "", nil, "400 bad_request"},
		{"start id", "POST", T + "/batches/-1/start", "", nil, "400 bad_request"},
		{"revert body", "POST", T + "/batches/1/revert", "application/json", []byte(`{"partial":"yes"}`), "400 bad_request"},
		{"suggestions: none chosen", "POST", T + "/batches/from-suggestions", "application/json", []byte(`{}`), "400 bad_request"},
		{"suggestions: bad grade", "POST", T + "/batches/from-suggestions", "application/json", []byte(`{"grade":"sure"}`), "400 bad_request"},
		{"suggestions: bad id", "POST", T + "/batches/from-suggestions", "application/json", []byte(`{"ids":[0]}`), "400 bad_request"},
		{"operation id", "POST", T + "/operations/x/revert", "", nil, "400 bad_request"},
		{"merge list batch", "GET", T + "/merges?batch=first", "", nil, "400 bad_request"},
		{"merge list batch zero", "GET", T + "/merges?batch=0", "", nil, "400 bad_request"},
	} {
		st, body := admin.raw(c.method, c.path, c.ctype, c.body)
		apiExpect(t, c.label, st, body, c.want)
	}

	// A file over the limit is refused, nothing read past it.
	big := append([]byte("target,sources\n"), bytes.Repeat([]byte("t.login,s.login\n"), usermerge.MaxBatchBytes/16+1)...)
	st, body := admin.raw("POST", T+"/batches/check", "text/csv", big)
	apiExpect(t, "too large", st, body, "422 too_large")

	// A session without its CSRF token cannot post a batch; one with it
	// gets past the check (to whatever the engine answers), and an API
	// token needs none.
	noCSRF := *admin
	noCSRF.csrf = ""
	for _, path := range []string{"/batches/check", "/batches", "/batches/dry-run", "/batches/1/start", "/batches/1/revert", "/operations/1/revert"} {
		st, body := noCSRF.raw("POST", T+path, "text/csv", csvFile)
		apiExpect(t, "no CSRF: "+path, st, body, "403 csrf_failed")
	}
	st, body = e.anon().raw("POST", T+"/batches/check", "text/csv", csvFile)
	apiExpect(t, "anonymous", st, body, "401 no_credentials")
	st, body = e.anon().raw("GET", T+"/batches", "", nil)
	apiExpect(t, "anonymous list", st, body, "401 no_credentials")
}

// The report's CSV and NDJSON, row by row, from the rows the engine
// streams: every column, lists joined by ';', text that a spreadsheet
// would run as a formula quoted.
func TestBatchReportFormats(t *testing.T) {
	at := time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)
	rows := []usermerge.BatchRowResult{
		{BatchRow: usermerge.BatchRow{Line: 2, Target: "ann", Sources: []string{"ann.old", "ann2"}, Reason: "SSO, June"}, Order: 1,
			Status: usermerge.RowMerged, TargetID: "A1", SourceIDs: []string{"A2", "A3"}, Operation: 7, Merges: []int64{11, 12}, At: &at},
		{BatchRow: usermerge.BatchRow{Line: 3, Target: "=cmd()", Sources: []string{"bob"}}, Order: 2, Status: usermerge.RowRefused,
			TargetID: "B1", SourceIDs: []string{"B2"}, Problem: &usermerge.RowProblem{Line: 3, Reason: "account_changed", Message: "bob changed since the check"}, At: &at},
		{BatchRow: usermerge.BatchRow{Line: 4, Target: "cy", Sources: []string{"cy2"}}, Order: 3, Status: usermerge.RowPending, TargetID: "C1", SourceIDs: []string{"C2"}},
	}
	var buf bytes.Buffer
	rw := usermerge.NewReportWriter(&buf, "csv")
	for _, r := range rows {
		if err := rw.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV report does not read back: %v", err)
	}
	want := [][]string{
		{"line", "order", "status", "target", "sources", "target_id", "source_ids", "operation", "merges", "reason", "problem_reason", "problem_message", "at"},
		{"2", "1", "merged", "ann", "ann.old;ann2", "A1", "A2;A3", "7", "11;12", "SSO, June", "", "", "2026-06-01T12:30:00Z"},
		{"3", "2", "refused", "'=cmd()", "bob", "B1", "B2", "", "", "", "account_changed", "bob changed since the check", "2026-06-01T12:30:00Z"},
		{"4", "3", "pending", "cy", "cy2", "C1", "C2", "", "", "", "", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("CSV report: %d lines, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("CSV report line %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}

	buf.Reset()
	rw = usermerge.NewReportWriter(&buf, "ndjson")
	for _, r := range rows {
		rw.Row(r)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("NDJSON report: %d lines, want %d", len(lines), len(rows))
	}
	for i, l := range lines {
		var back usermerge.BatchRowResult
		if err := json.Unmarshal([]byte(l), &back); err != nil {
			t.Fatalf("NDJSON line %d: %v", i+1, err)
		}
		if back.Line != rows[i].Line || back.Status != rows[i].Status || back.Target != rows[i].Target || len(back.Merges) != len(rows[i].Merges) {
			t.Errorf("NDJSON line %d reads back as %+v, want %+v", i+1, back, rows[i])
		}
	}
}

// The dry run's CSV: a ready row with its counts, a refused one with its
// reason and no counts.
func TestBatchPlanCSV(t *testing.T) {
	plan := usermerge.BatchPlan{Rows: 2, Ready: 1, Refused: 1, Plans: []usermerge.BatchRowPlan{
		{BatchRow: usermerge.BatchRow{Line: 3, Target: "ann", Sources: []string{"ann.old"}}, Order: 1, TargetID: "A1", SourceIDs: []string{"A2"},
			Counts: map[usermerge.Kind]usermerge.Counts{"signin": {Moved: 4}, "badge": {Moved: 1, Combined: 2}}},
		{BatchRow: usermerge.BatchRow{Line: 2, Target: "bob", Sources: []string{"nobody"}}, Order: 2, After: 3,
			Problem: &usermerge.RowProblem{Line: 2, Reason: "account_not_found", Message: "there is no account nobody"}},
	}}
	rec := httptestRecorder()
	if err := writePlanReport(rec, plan, "june sso.csv", "csv"); err != nil {
		t.Fatal(err)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="june_sso-dry-run.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	got, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{usermerge.PlanColumns,
		{"3", "1", "ready", "ann", "ann.old", "A1", "A2", "", "5", "2", "0", "0", "", "", ""},
		{"2", "2", "refused", "bob", "nobody", "", "", "3", "", "", "", "", "", "account_not_found", "there is no account nobody"},
	}
	for i := range want {
		if i >= len(got) || strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("dry-run CSV line %d:\n got %q\nwant %q", i+1, got[min(i, len(got)-1)], want[i])
		}
	}
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
