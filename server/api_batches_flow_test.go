package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

const batchT = "/api/v1/tenants/acme"

// The batch API end to end on both databases: a refused file with its
// problems by line, nothing written; a good file checked, dry-run (as JSON
// and as a CSV report) writing nothing, stored, started, run, reported,
// listed in the merge list by batch, and reverted.
func TestBatchAPIFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		admin := e.signIn("admin")

		// A bad file: an unknown account (line 3) and a source in two rows
		// (lines 2 and 4). Refused whole, each bad row named, nothing written.
		before := e.snapshotAll()
		bad := []byte("target,sources,reason\nt.login,s.login,ok\nt.login,nobody.login,x\ns2.login,s.login,dup\n")
		for _, path := range []string{"/batches/check", "/batches?name=bad.csv", "/batches/dry-run"} {
			st, body := admin.raw("POST", batchT+path, "text/csv", bad)
			if path == "/batches/dry-run" {
				// Bad rows do not refuse a dry run: they are in it.
				if !apiExpect(t, "dry run of a bad file", st, body, "200") {
					continue
				}
				plan := apiDecode[usermerge.BatchPlan](t, body)
				if plan.Rows != 3 || plan.Refused < 1 || plan.Ready+plan.Refused != 3 {
					t.Errorf("dry run of a bad file: %d rows, %d ready, %d refused", plan.Rows, plan.Ready, plan.Refused)
				}
				continue
			}
			if !apiExpect(t, "bad file "+path, st, body, "422 batch_refused") {
				continue
			}
			eb := errorOf(t, body)
			lines := map[int]bool{}
			for _, p := range eb.Error.Problems {
				lines[p.Line] = true
				if p.Reason == "" || p.Message == "" {
					t.Errorf("%s: a problem without reason or message: %+v", path, p)
				}
			}
			if !lines[3] || !(lines[2] || lines[4]) || lines[1] {
				t.Errorf("%s: problems on lines %v, want line 3 and line 2 or 4: %s", path, lines, body)
			}
		}
		if diff := snapshotDiff(before, e.snapshotAll()); diff != "" {
			t.Errorf("a refused batch or a dry run wrote: %s", diff)
		}

		// A good file, NDJSON: two rows, one of two sources.
		good := []byte(`{"target":"t.login","sources":["s.login","s2.login"],"reason":"SSO"}` + "\n" + `{"target":"e1.login","sources":["e2.login"]}` + "\n")
		st, body := admin.raw("POST", batchT+"/batches/check", "application/x-ndjson", good)
		if apiExpect(t, "check", st, body, "200") {
			res := apiDecode[BatchCheckAnswer](t, body)
			if len(res.Rows) != 2 || res.Rows[0].TargetID == "" || len(res.Rows[0].SourceIDs) == 0 {
				t.Errorf("check: %+v", res.Rows)
			}
		}
		st, body = admin.raw("POST", batchT+"/batches/dry-run?format=csv&name=june.ndjson", "application/x-ndjson", good)
		if apiExpect(t, "dry run as CSV", st, body, "200") {
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(usermerge.PlanColumns, ",") {
				t.Errorf("dry-run CSV: %v %q", err, recs)
			} else if recs[1][2] != "ready" || recs[2][2] != "ready" {
				t.Errorf("dry-run CSV rows: %q", recs[1:])
			}
		}
		if diff := snapshotDiff(before, e.snapshotAll()); diff != "" {
			t.Errorf("a check or dry run wrote: %s", diff)
		}

		st, body = admin.raw("POST", batchT+"/batches?name=june.ndjson", "application/x-ndjson", good)
		if !apiExpect(t, "create", st, body, "201") {
			return
		}
		b := apiDecode[usermerge.Batch](t, body)
		if b.Status != usermerge.BatchReady || b.Rows != 2 || b.Name != "june.ndjson" || b.By != "admin" {
			t.Errorf("created: %+v", b)
		}
		path := fmt.Sprintf("%s/batches/%d", batchT, b.ID)
		var list BatchesAnswer
		if st := admin.call("GET", batchT+"/batches", nil, &list); st != 200 || list.Total != 1 || len(list.Batches) != 1 || list.Batches[0].ID != b.ID {
			t.Errorf("list: %d %+v", st, list)
		}
		st, body = admin.raw("POST", path+"/start", "", nil)
		if apiExpect(t, "start", st, body, "200") && apiDecode[usermerge.Batch](t, body).Status != usermerge.BatchRunning {
			t.Errorf("started: %s", body)
		}
		st, body = admin.raw("POST", path+"/start", "", nil)
		if st < 400 {
			t.Errorf("a second start: %d %s", st, body)
		}
		// The server's worker is not running in this test: run it here.
		if _, err := e.eng.RunBatch(ctx, engine.Caller{Tenant: "acme", Admin: "admin"}, b.ID, nil); err != nil {
			t.Fatal(err)
		}
		var done usermerge.Batch
		st, body = admin.raw("GET", path, "", nil)
		for _, p := range openAPICheckAnswer(openAPIDoc(t), "GET /api/v1/tenants/{tenant}/batches/{id}", st, body) {
			t.Errorf("a done batch: %s", p)
		}
		if st := admin.call("GET", path, nil, &done); st != 200 || done.Status != usermerge.BatchDone || done.Merged != 2 || done.Merges != 3 || done.Left != 0 {
			t.Errorf("done: %d %+v", st, done)
		}

		var page usermerge.BatchRowPage
		if st := admin.call("GET", path+"/rows?status=merged&limit=1", nil, &page); st != 200 || page.Total != 2 || len(page.Rows) != 1 {
			t.Errorf("rows: %d %+v", st, page)
		} else if r := page.Rows[0]; r.Operation == 0 || len(r.Merges) != len(r.Sources) {
			t.Errorf("a merged row without its operation or merges: %+v", r)
		}
		st, body = admin.raw("GET", path+"/rows", "", nil)
		for _, p := range openAPICheckAnswer(openAPIDoc(t), "GET /api/v1/tenants/{tenant}/batches/{id}/rows", st, body) {
			t.Errorf("rows of a done batch: %s", p)
		}
		if st := admin.call("GET", path+"/rows?status=refused", nil, &page); st != 200 || page.Total != 0 || page.Rows == nil {
			t.Errorf("refused rows: %d %+v", st, page)
		}

		// The report, both formats.
		resp, rb := apiDo(t, e, "GET", path+"/report?format=csv", http.Header{"Authorization": {"Bearer " + e.withToken("acme", "admin").token}}, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), fmt.Sprintf("batch-%d-report.csv", b.ID)) {
			t.Errorf("CSV report: %d %v", resp.StatusCode, resp.Header)
		}
		recs, err := csv.NewReader(bytes.NewReader(rb)).ReadAll()
		if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(usermerge.ReportColumns, ",") {
			t.Fatalf("CSV report: %v %q", err, recs)
		}
		var allMerges []int64
		for _, r := range recs[1:] {
			if r[2] != "merged" || r[7] == "" || r[8] == "" || r[12] == "" {
				t.Errorf("CSV report row: %q", r)
			}
			for _, m := range strings.Split(r[8], ";") {
				var id int64
				fmt.Sscan(m, &id)
				allMerges = append(allMerges, id)
			}
		}
		if recs[1][0] != "1" && recs[1][0] != "2" || recs[1][4] != "s.login;s2.login" && recs[2][4] != "s.login;s2.login" {
			t.Errorf("CSV report rows: %q", recs[1:])
		}
		st, body = admin.raw("GET", path+"/report?format=ndjson", "", nil)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if st != 200 || len(lines) != 2 {
			t.Errorf("NDJSON report: %d %s", st, body)
		}
		for _, l := range lines {
			var r usermerge.BatchRowResult
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Status != usermerge.RowMerged {
				t.Errorf("NDJSON report line %q: %v", l, err)
			}
		}

		// The merge list by batch: its three merges, each naming it.
		ids, total := apiListIDs(t, admin, fmt.Sprintf("?batch=%d&state=all", b.ID))
		slices.Sort(ids)
		slices.Sort(allMerges)
		if total != 3 || !slices.Equal(ids, allMerges) {
			t.Errorf("merges of the batch: %v (%d), the report says %v", ids, total, allMerges)
		}
		if _, total := apiListIDs(t, admin, fmt.Sprintf("?batch=%d", b.ID+1)); total != 0 {
			t.Errorf("merges of a batch that does not exist: %d", total)
		}

		// Revert the batch, then work the revert.
		st, body = admin.raw("POST", path+"/revert", "application/json", []byte(`{"partial":false}`))
		for _, p := range openAPICheckAnswer(openAPIDoc(t), "POST /api/v1/tenants/{tenant}/batches/{id}/revert", st, body) {
			t.Errorf("revert answer: %s", p)
		}
		if apiExpect(t, "revert", st, body, "200") {
			rev := apiDecode[usermerge.BatchRevert](t, body)
			if rev.Batch.ID != b.ID || len(rev.Refused) != 0 {
				t.Errorf("revert: %+v", rev)
			}
		}
		if _, err := e.eng.RunBatch(ctx, engine.Caller{Tenant: "acme", Admin: "admin"}, b.ID, nil); err != nil {
			t.Fatal(err)
		}
		if st := admin.call("GET", path, nil, &done); st != 200 || done.Status != usermerge.BatchReverted {
			t.Errorf("after the revert: %d %+v", st, done)
		}
		st, body = admin.raw("GET", batchT+"/batches/999", "", nil)
		apiExpect(t, "no such batch", st, body, "404 batch_not_found")
	})
}

// snapshotDiff names the tables whose rows differ.
func snapshotDiff(a, b map[string][]string) string {
	var out []string
	for k := range b {
		if !slices.Equal(a[k], b[k]) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// A group manager sees only the batches whose accounts are all in their
// groups, and cannot act on another group's batch.
func TestBatchAPIScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		editor := e.signIn("editor") // edit over sales (T, S, S2, S3), nothing over eng (E1, E2)
		st, body := admin.raw("POST", batchT+"/batches?name=eng.csv", "text/csv", []byte("target,sources\ne1.login,e2.login\n"))
		if !apiExpect(t, "admin creates an eng batch", st, body, "201") {
			return
		}
		b := apiDecode[usermerge.Batch](t, body)
		path := fmt.Sprintf("%s/batches/%d", batchT, b.ID)
		for _, c := range []struct{ method, path string }{
			{"GET", path}, {"GET", path + "/rows"}, {"GET", path + "/report"}, {"POST", path + "/start"}, {"POST", path + "/cancel"}, {"POST", path + "/revert"},
		} {
			st, body := editor.raw(c.method, c.path, "", nil)
			if st != http.StatusNotFound && st != http.StatusForbidden {
				t.Errorf("editor %s %s: %d %s; want 403 or 404", c.method, c.path, st, body)
			}
		}
		var list BatchesAnswer
		if st := editor.call("GET", batchT+"/batches", nil, &list); st != 200 || slices.ContainsFunc(list.Batches, func(x usermerge.Batch) bool { return x.ID == b.ID }) {
			t.Errorf("the editor's list shows the eng batch: %d %+v", st, list)
		}
		// The editor's own file naming eng accounts is refused by row.
		st, body = editor.raw("POST", batchT+"/batches/check", "text/csv", []byte("target,sources\nt.login,s.login\ne1.login,e2.login\n"))
		if apiExpect(t, "editor checks eng rows", st, body, "422 batch_refused") {
			if ps := errorOf(t, body).Error.Problems; len(ps) != 1 || ps[0].Line != 3 {
				t.Errorf("editor's problems: %+v", ps)
			}
		}
		// Another tenant's admin does not see it at all.
		g := e.signIn("gadmin")
		st, body = g.raw("GET", fmt.Sprintf("/api/v1/tenants/globex/batches/%d", b.ID), "", nil)
		apiExpect(t, "another tenant", st, body, "404 batch_not_found")
		st, body = g.raw("GET", path, "", nil)
		if st != http.StatusForbidden {
			t.Errorf("gadmin on acme's path: %d %s", st, body)
		}
	})
}

// POST /operations/{op}/revert reverts every merge of one operation.
func TestOperationRevertAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		ids := apiMerge(t, admin, "T", "S", "S2")
		var m usermerge.MergeDetails
		if st := admin.call("GET", fmt.Sprintf("%s/merges/%d", batchT, ids[0]), nil, &m); st != 200 {
			t.Fatalf("details: %d", st)
		}
		op := m.Merge.OperationID
		st, body := e.signIn("viewer").raw("POST", fmt.Sprintf("%s/operations/%d/revert", batchT, op), "", nil)
		if st != http.StatusForbidden {
			t.Errorf("viewer reverts an operation: %d %s", st, body)
		}
		st, body = admin.raw("POST", fmt.Sprintf("%s/operations/%d/revert", batchT, op), "", nil)
		if apiExpect(t, "revert operation", st, body, "200") {
			rep := apiDecode[usermerge.RevertReport](t, body)
			got := slices.Clone(rep.Reverted)
			slices.Sort(got)
			want := slices.Clone(ids)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("reverted %v, want %v", rep.Reverted, ids)
			}
		}
		st, body = admin.raw("POST", fmt.Sprintf("%s/operations/%d/revert", batchT, op), "", nil)
		if st != http.StatusConflict {
			t.Errorf("revert it again: %d %s", st, body)
		}
		st, body = admin.raw("POST", batchT+"/operations/9999/revert", "", nil)
		if st != http.StatusNotFound {
			t.Errorf("no such operation: %d %s", st, body)
		}
	})
}

// The UI's upload: without the CSRF token refused; a bad file shows every
// bad row by line and stores nothing; a good one becomes a ready batch
// whose page shows the dry run and Run this batch.
func TestUIBatchUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		csrf := c.signIn("admin")
		upload := func(token, name string, file []byte) uiAnswer {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			if token != "" {
				mw.WriteField("csrf_token", token)
			}
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write(file)
			mw.Close()
			resp, err := c.hc.Post(e.base+"/ui/t/acme/batches", mw.FormDataContentType(), &buf)
			if err != nil {
				t.Fatal(err)
			}
			return answerOf(t, resp)
		}
		before := e.snapshotAll()
		if a := upload("", "x.csv", []byte("target,sources\nt.login,s.login\n")); a.status != http.StatusForbidden {
			t.Errorf("upload without CSRF: %d", a.status)
		}
		a := upload(csrf, "june.csv", []byte("target,sources\nt.login,s.login\nt.login,nobody.login\n"))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Line 3") || !strings.Contains(a.body, "Nothing was stored") {
			t.Errorf("a bad file: %d\n%s", a.status, a.body)
		}
		if diff := snapshotDiff(before, e.snapshotAll()); diff != "" {
			t.Errorf("a refused upload wrote: %s", diff)
		}
		a = upload(csrf, "june.csv", []byte("target,sources\nt.login,s.login\ne1.login,e2.login\n"))
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/ui/t/acme/batches/") {
			t.Fatalf("a good file: %d %q\n%s", a.status, a.location, a.body)
		}
		page := c.follow(a)
		for _, want := range []string{"Dry run", "Run this batch", "2 rows would merge", "Line 2", "Line 3", "dry-run.csv"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the ready batch's page lacks %q", want)
			}
		}
		dl := c.get(a.location + "/dry-run.csv")
		if dl.status != 200 || !strings.HasPrefix(dl.body, strings.Join(usermerge.PlanColumns, ",")) {
			t.Errorf("dry-run download: %d %.200s", dl.status, dl.body)
		}
		start := c.post(a.location+"/start", map[string][]string{"csrf_token": {csrf}})
		if start.status != http.StatusSeeOther {
			t.Errorf("run this batch: %d %s", start.status, start.body)
		}
		running := c.follow(start)
		for _, want := range []string{"batch-progress", "data-batch-poll", "Pause", `http-equiv="refresh"`} {
			if !strings.Contains(running.body, want) {
				t.Errorf("the running batch's page lacks %q", want)
			}
		}
		list := c.get("/ui/t/acme/batches")
		if !strings.Contains(list.body, "june.csv") || !strings.Contains(list.body, "Running") {
			t.Errorf("the list of batches: %s", list.body)
		}
	})
}

// TestBatchStartAtOnceAndDiscard: ?start=true stores the batch running; a
// start that is neither true nor false is refused with nothing stored; and
// "Do not run it" on a ready batch's dry run cancels it, merging nothing.
func TestBatchStartAtOnceAndDiscard(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		file := []byte("target,sources\nt.login,s.login\n")
		before := e.snapshotAll()
		st, body := admin.raw("POST", batchT+"/batches?name=x.csv&start=maybe", "text/csv", file)
		apiExpect(t, "start=maybe", st, body, "400 bad_request")
		if diff := snapshotDiff(before, e.snapshotAll()); diff != "" {
			t.Errorf("a refused start wrote: %s", diff)
		}
		st, body = admin.raw("POST", batchT+"/batches?name=now.csv&start=true", "text/csv", file)
		if apiExpect(t, "create and start", st, body, "201") {
			if b := apiDecode[usermerge.Batch](t, body); b.Status != usermerge.BatchRunning || b.Name != "now.csv" {
				t.Errorf("created with start=true: %s %q", b.Status, b.Name)
			}
		}
		st, body = admin.raw("POST", batchT+"/batches?name=later.csv", "text/csv", []byte("target,sources\ne1.login,e2.login\n"))
		if apiExpect(t, "create without start", st, body, "201") {
			if b := apiDecode[usermerge.Batch](t, body); b.Status != usermerge.BatchReady {
				t.Errorf("created without start: %s", b.Status)
			}
		}

		c := e.uiClient()
		csrf := c.signIn("admin")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf_token", csrf)
		fw, _ := mw.CreateFormFile("file", "discard.csv")
		fw.Write([]byte("target,sources\ne1.login,e2.login\n"))
		mw.Close()
		resp, err := c.hc.Post(e.base+"/ui/t/acme/batches", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		up := answerOf(t, resp)
		if up.status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", up.status, up.body)
		}
		page := c.follow(up)
		if !strings.Contains(page.body, `id="discard-batch"`) || !strings.Contains(page.body, "Do not run it") {
			t.Fatalf("the dry run lacks Do not run it:\n%s", page.body)
		}
		merges := func() int64 {
			var n int64
			e.db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				n, err = tx.Count(context.Background(), `SELECT COUNT(*) FROM merges WHERE tenant_id = ?`, "acme")
				return err
			})
			return n
		}
		had := merges()
		discard := c.post(up.location+"/cancel", map[string][]string{"csrf_token": {csrf}})
		if discard.status != http.StatusSeeOther {
			t.Fatalf("Do not run it: %d %s", discard.status, discard.body)
		}
		after := c.follow(discard)
		if !strings.Contains(after.body, "Cancelled") || strings.Contains(after.body, `id="run-batch"`) {
			t.Errorf("the discarded batch's page:\n%s", after.body)
		}
		id := strings.TrimPrefix(up.location, "/ui/t/acme/batches/")
		var b usermerge.Batch
		if st := admin.call("GET", batchT+"/batches/"+id, nil, &b); st != 200 || b.Status != usermerge.BatchCancelled || b.Merged != 0 || b.Cancelled != 1 {
			t.Errorf("the discarded batch: %d %+v", st, b)
		}
		st, body = admin.raw("POST", batchT+"/batches/"+id+"/start", "", nil)
		if st < 400 {
			t.Errorf("starting a discarded batch: %d %s", st, body)
		}
		if got := merges(); got != had {
			t.Errorf("discarding a batch made %d merges", got-had)
		}
	})
}
