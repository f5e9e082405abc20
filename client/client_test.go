package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
)

var acme = engine.Caller{Tenant: "acme", Admin: "ignored"}

// fake serves h and returns a client of it with token "t0k".
func fake(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return New(srv.URL+"/", "t0k", nil)
}

func domainError(t *testing.T, err error) *usermerge.Error {
	t.Helper()
	var e *usermerge.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *usermerge.Error", err, err)
	}
	return e
}

func TestErrorAnswersBecomeDomainErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		body        string
		code        usermerge.Code
		reason, msg string
	}{
		{"conflict", 409, `{"error":{"code":"conflict","reason":"source_merged","message":"mgarcia is merged into maria.garcia (merge 1 on 2026-05-01)"}}`,
			usermerge.Conflict, "source_merged", "mgarcia is merged into maria.garcia (merge 1 on 2026-05-01)"},
		{"not found", 404, `{"error":{"code":"not_found","reason":"account_not_found","message":"no account nobody"}}`,
			usermerge.NotFound, "account_not_found", "no account nobody"},
		{"forbidden", 403, `{"error":{"code":"forbidden","reason":"view_only","message":"view only"}}`, usermerge.Forbidden, "view_only", "view only"},
		{"invalid", 422, `{"error":{"code":"invalid","reason":"too_many_sources","message":"at most 10"}}`, usermerge.Invalid, "too_many_sources", "at most 10"},
		{"malformed request is invalid input", 400, `{"error":{"code":"bad_request","reason":"bad_request","message":"limit must be a whole number from 1 to 500"}}`,
			usermerge.Invalid, "bad_request", "limit must be a whole number from 1 to 500"},
		{"bad token", 401, `{"error":{"code":"unauthenticated","reason":"bad_token","message":"the API token is not valid"}}`,
			usermerge.Unauthenticated, "bad_token", "the API token is not valid"},
		{"rate limited", 429, `{"error":{"code":"rate_limited","reason":"too_many","message":"later"}}`, usermerge.RateLimited, "too_many", "later"},
		{"internal", 500, `{"error":{"code":"internal","reason":"internal","message":"internal error"}}`, usermerge.Internal, "internal", "internal error"},
		{"unknown code, by status", 409, `{"error":{"code":"newfangled","reason":"r","message":"m"}}`, usermerge.Conflict, "r", "m"},
		{"not the API", 502, `<html>Bad Gateway</html>`, Unavailable, "bad_answer", `answered "502 Bad Gateway", which is not a usermerge API answer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.AccountInfo(context.Background(), acme, "x")
			e := domainError(t, err)
			if e.Code != tc.code || e.Reason != tc.reason || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %q %q %q, want %q %q %q", e.Code, e.Reason, e.Message, tc.code, tc.reason, tc.msg)
			}
			if tc.code != Unavailable && e.Message != tc.msg {
				t.Errorf("message %q, want the server's %q exactly", e.Message, tc.msg)
			}
			if (tc.code == usermerge.Internal) != (e.Err != nil) {
				t.Errorf("internal detail %v: only an internal error points to the server's log", e.Err)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct{ method, path, query, auth, ctype, body string }
	var got []seen
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		switch {
		case strings.HasSuffix(r.URL.Path, "/merges") && r.Method == "POST":
			io.WriteString(w, `{"merges":[{"id":7}]}`)
		case strings.HasSuffix(r.URL.Path, "/tokens/tok1"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/settings"):
			io.WriteString(w, `{"tenant":"a b/c","name":"ABC","preset":"schoox","policy":{"badges":"stay"},"presets":["learningbox","schoox"],"settings":[]}`)
		default:
			io.WriteString(w, `{}`)
		}
	})
	ctx := context.Background()
	odd := engine.Caller{Tenant: "a b/c"}
	move := true
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := c.AccountInfo(ctx, odd, "x/y z"); err != nil {
		t.Fatal(err)
	}
	ms, err := c.Merge(ctx, odd, usermerge.MergeRequest{TenantID: "ignored", Target: "t", Sources: []string{"s1", "s2"}, MoveExternalIDs: &move, Reason: "r"})
	if err != nil || len(ms) != 1 || ms[0].ID != 7 {
		t.Fatalf("Merge: %v %+v", err, ms)
	}
	if _, err := c.ListMerges(ctx, odd, usermerge.MergeFilter{From: &from, Source: "garcia", Page: 2, PerPage: 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, odd, "u1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revert(ctx, odd, []int64{3, 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, odd, "tok1"); err != nil {
		t.Fatal(err)
	}
	ten, err := c.UpdateSettings(ctx, odd, engine.SettingsChange{Preset: "schoox"})
	if err != nil || ten.ID != "a b/c" || ten.Name != "ABC" || ten.Policy.Badges != usermerge.BadgesStay {
		t.Fatalf("UpdateSettings: %v %+v", err, ten)
	}
	const p = "/api/v1/tenants/a%20b%2Fc"
	want := []seen{
		{"GET", p + "/accounts/x%2Fy%20z", "", "Bearer t0k", "", ""},
		{"POST", p + "/merges", "", "Bearer t0k", "application/json", `{"target":"t","sources":["s1","s2"],"move_external_ids":true,"reason":"r"}`},
		{"GET", p + "/merges", "from=2026-01-02T03%3A04%3A05Z&page=2&per_page=20&source=garcia", "Bearer t0k", "", ""},
		{"DELETE", p + "/accounts/u1", "confirm=true", "Bearer t0k", "", ""},
		{"POST", p + "/merges/revert", "", "Bearer t0k", "application/json", `{"merges":[3,2]}`},
		{"DELETE", p + "/tokens/tok1", "", "Bearer t0k", "", ""},
		{"PUT", p + "/settings", "", "Bearer t0k", "application/json", `{"preset":"schoox"}`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestEmptyTenantRefusedBeforeSending(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("sent %s", r.URL) })
	_, err := c.Tokens(context.Background(), engine.Caller{})
	if e := domainError(t, err); e.Code != usermerge.Invalid || e.Reason != "tenant_required" {
		t.Errorf("got %+v", e)
	}
}

// The server answers at most 500 accounts a request; the client pages.
func TestSearchAccountsPages(t *testing.T) {
	const total = 1234
	var limits []string
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limits = append(limits, q.Get("limit")+"@"+q.Get("offset"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		offset, _ := strconv.Atoi(q.Get("offset"))
		if limit > 500 {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"bad_request","reason":"bad_request","message":"limit too large"}}`)
			return
		}
		list := []usermerge.AccountSummary{}
		for i := offset; i < offset+limit && i < total; i++ {
			list = append(list, usermerge.AccountSummary{Account: usermerge.Account{ID: fmt.Sprint(i)}})
		}
		json.NewEncoder(w).Encode(map[string]any{"accounts": list})
	})
	for _, tc := range []struct {
		limit, offset, want int
		calls               string
	}{
		{50, 0, 50, "50@"},
		{1000, 0, 1000, "500@ 500@500"},
		{1000, 1000, 234, "500@1000"},
		{600, 1100, 134, "500@1100"},
		{1000, 734, 500, "500@734 500@1234"},
	} {
		limits = nil
		list, err := c.SearchAccounts(context.Background(), acme, "q", "", tc.limit, tc.offset)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != tc.want || list[0].ID != fmt.Sprint(tc.offset) || list[len(list)-1].ID != fmt.Sprint(tc.offset+tc.want-1) {
			t.Errorf("limit %d offset %d: %d accounts, want %d from %d", tc.limit, tc.offset, len(list), tc.want, tc.offset)
		}
		if got := strings.Join(limits, " "); got != tc.calls {
			t.Errorf("limit %d offset %d: requests %s, want %s", tc.limit, tc.offset, got, tc.calls)
		}
	}
	limits = nil
	list, err := c.SearchAccounts(context.Background(), acme, "none", "", 10, 5000)
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("no accounts: %v %#v, want an empty list as the engine gives", err, list)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := New(url, "t", nil).Settings(context.Background(), acme)
	e := domainError(t, err)
	if e.Code != Unavailable || e.Reason != "unreachable" || !strings.HasPrefix(e.Message, "cannot reach the server at "+url+": ") {
		t.Errorf("got %q %q %q", e.Code, e.Reason, e.Message)
	}
	if strings.Contains(e.Message, "/api/v1") {
		t.Errorf("the message repeats the request URL: %s", e.Message)
	}
}

// notifyWriter tells when the first byte arrives.
type notifyWriter struct {
	strings.Builder
	first chan struct{}
}

func (w *notifyWriter) Write(b []byte) (int, error) {
	if w.Len() == 0 && len(b) > 0 {
		close(w.first)
	}
	return w.Builder.Write(b)
}

func TestExportStreams(t *testing.T) {
	out := &notifyWriter{first: make(chan struct{})}
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") != "csv" || r.URL.Query().Get("account") != "" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		io.WriteString(w, "line 1\n")
		w.(http.Flusher).Flush()
		select { // the first line must reach the writer before the export ends
		case <-out.first:
		case <-time.After(5 * time.Second):
			t.Error("the first line did not arrive while the export was still running: the client buffers")
		}
		io.WriteString(w, "line 2\n")
	})
	if err := c.Export(context.Background(), acme, out, "", "csv"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "line 1\nline 2\n" {
		t.Errorf("export wrote %q", out.String())
	}
}

func TestExportCutShort(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"kind":"tenant"}`+"\n"+`{"kind":"acc`)
	})
	var out strings.Builder
	err := c.Export(context.Background(), acme, &out, "u1", "")
	if e := domainError(t, err); e.Code != Unavailable || e.Reason != "export_cut_short" {
		t.Errorf("got %q %q %q", e.Code, e.Reason, e.Message)
	}
}

func TestImportStreams(t *testing.T) {
	firstLine := make(chan string, 1)
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		br := bufio.NewReader(r.Body)
		line, _ := br.ReadString('\n')
		firstLine <- line
		rest, _ := io.ReadAll(br)
		json.NewEncoder(w).Encode(map[string]any{"lines": 1 + strings.Count(string(rest), "\n"), "per_kind": map[string]int{"account": 2}})
	})
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "id,login\n")
		select { // the second line only once the server has read the first
		case <-firstLine:
		case <-time.After(5 * time.Second):
			pw.CloseWithError(errors.New("the server did not get the first line while the upload was running: the client buffers"))
			return
		}
		io.WriteString(pw, "u1,one\n")
		pw.Close()
	}()
	stats, err := c.Import(context.Background(), acme, pr, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if stats.Lines != 2 || stats.PerKind["account"] != 2 {
		t.Errorf("stats %+v", stats)
	}
}

// endless is a body without end; reading it counts bytes.
type endless struct{ n int64 }

func (e *endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	e.n += int64(len(b))
	return len(b), nil
}

// A refusal answered before the body is read arrives as the refusal, and
// no data is sent: the client waits for the server's go-ahead (100
// Continue), which a refusing server never gives.
func TestImportRefusedBeforeUpload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"code":"forbidden","reason":"tenant_admin_only","message":"only a tenant administrator may import data"}}`)
	}))
	t.Cleanup(srv.Close)
	// The default transport waits a second for the go-ahead; a slow test
	// machine must not turn that into a flaky test.
	c := New(srv.URL, "t0k", &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}})
	body := &endless{}
	_, err := c.Import(context.Background(), acme, body, "")
	e := domainError(t, err)
	if e.Code != usermerge.Forbidden || e.Message != "only a tenant administrator may import data" {
		t.Errorf("got %q %q %q", e.Code, e.Reason, e.Message)
	}
	if body.n != 0 {
		t.Errorf("%d bytes of a refused import were read for sending", body.n)
	}
	_, err = c.Import(context.Background(), acme, strings.NewReader(""), "xml")
	if e := domainError(t, err); e.Code != usermerge.Invalid {
		t.Errorf("format xml: %+v", e)
	}
}
