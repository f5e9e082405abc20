package server

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// These tests check the admin UI's rules over plain HTTP on both databases:
// sign-in, CSRF, view-only refusals and scope. The browser tests
// (ui_test.go) drive the same pages as a person would.

// uiClient is a browser stand-in: cookies, no automatic redirects.
type uiClient struct {
	t  *testing.T
	e  *env
	hc *http.Client
}

func (e *env) uiClient() *uiClient {
	jar, _ := cookiejar.New(nil)
	return &uiClient{t: e.t, e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type uiAnswer struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (c *uiClient) get(path string) uiAnswer {
	c.t.Helper()
	resp, err := c.hc.Get(c.e.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return answerOf(c.t, resp)
}

func (c *uiClient) post(path string, form url.Values) uiAnswer {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.e.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	return answerOf(c.t, resp)
}

// follow GETs a redirect's target.
func (c *uiClient) follow(a uiAnswer) uiAnswer {
	c.t.Helper()
	if a.status != http.StatusSeeOther {
		c.t.Fatalf("status %d, want a redirect; body:\n%s", a.status, a.body)
	}
	return c.get(a.location)
}

func answerOf(t *testing.T, resp *http.Response) uiAnswer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return uiAnswer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b), header: resp.Header}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token field on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs login in through the sign-in form and returns the session's
// CSRF token as the pages carry it.
func (c *uiClient) signIn(login string) string {
	c.t.Helper()
	form := c.get("/ui/signin")
	a := c.post("/ui/signin", url.Values{"csrf_token": {csrfOf(c.t, form.body)}, "tenant": {"acme"}, "login": {login}, "password": {testPassword}})
	if a.status != http.StatusSeeOther || a.location != "/ui/t/acme/" {
		c.t.Fatalf("sign in %s: status %d to %q; want a redirect to /ui/t/acme/", login, a.status, a.location)
	}
	return csrfOf(c.t, c.get("/ui/t/acme/merges").body)
}

func TestUISignInAndCSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()

		if a := c.get("/"); a.status != http.StatusSeeOther || a.location != "/ui/signin" {
			t.Errorf("GET / signed out: %d to %q; want the sign-in page", a.status, a.location)
		}
		if a := c.get("/ui/t/acme/merges?source=x"); a.status != http.StatusSeeOther || a.location != "/ui/signin?next="+url.QueryEscape("/ui/t/acme/merges?source=x") {
			t.Errorf("a page signed out: %d to %q; want the sign-in page, then back", a.status, a.location)
		}

		// The sign-in form needs the token of its own page.
		form := c.get("/ui/signin")
		if csp := form.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("Content-Security-Policy = %q; want default-src 'self'", csp)
		}
		if a := c.post("/ui/signin", url.Values{"csrf_token": {"forged"}, "tenant": {"acme"}, "login": {"admin"}, "password": {testPassword}}); a.status != http.StatusForbidden {
			t.Errorf("sign-in with a forged form token: status %d, want 403", a.status)
		}
		token := csrfOf(t, c.get("/ui/signin").body)
		if a := c.post("/ui/signin", url.Values{"csrf_token": {token}, "tenant": {"acme"}, "login": {"admin"}, "password": {"wrong password"}}); a.status != http.StatusUnauthorized ||
			!strings.Contains(a.body, "wrong tenant, login or password") {
			t.Errorf("sign-in with a wrong password: status %d; want 401 saying so", a.status)
		}
		csrf := c.signIn("admin")

		// A post without this session's CSRF token changes nothing.
		before := e.snapshotAll()
		merge := url.Values{"keep": {"T"}, "src": {"S"}, "ext": {"1"}}
		for _, tok := range []string{"", "not-the-token"} {
			f := url.Values{"keep": {"T"}, "src": {"S"}}
			if tok != "" {
				f.Set("csrf_token", tok)
			}
			if a := c.post("/ui/t/acme/merge", f); a.status != http.StatusForbidden || !strings.Contains(a.body, "reload the page") {
				t.Errorf("merge posted with CSRF token %q: status %d; want 403 with the reason", tok, a.status)
			}
		}
		if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
			t.Errorf("refused posts changed the database (-before +after):\n%s", diff)
		}

		merge.Set("csrf_token", csrf)
		a := c.post("/ui/t/acme/merge", merge)
		if a.status != http.StatusSeeOther || a.location != "/ui/t/acme/merges" {
			t.Fatalf("merge: status %d to %q; want a redirect to the list", a.status, a.location)
		}
		list := c.follow(a)
		if !strings.Contains(list.body, "Merged into t.login (Learner T): s.login (Learner S) as merge 1.") {
			t.Errorf("the list after the merge does not say what was merged:\n%s", list.body)
		}

		// Signing out needs the token too, and ends the session.
		if a := c.post("/ui/signout", url.Values{}); a.status != http.StatusForbidden {
			t.Errorf("sign-out without the token: status %d, want 403", a.status)
		}
		if a := c.post("/ui/signout", url.Values{"csrf_token": {csrf}}); a.status != http.StatusSeeOther || a.location != "/ui/signin" {
			t.Errorf("sign-out: %d to %q", a.status, a.location)
		}
		if a := c.get("/ui/t/acme/merges"); a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/ui/signin") {
			t.Errorf("after sign-out the list answers %d to %q; want the sign-in page", a.status, a.location)
		}
	})
}

func TestUIViewOnlyIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := engine.Caller{Tenant: "acme", Admin: "admin"}
		ms, err := e.eng.Merge(context.Background(), admin, usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S"}})
		if err != nil {
			t.Fatal(err)
		}
		c := e.uiClient()
		csrf := c.signIn("viewer")
		if a := c.get("/ui/t/acme/"); a.location != "/ui/t/acme/merges" {
			t.Errorf("a viewer's home is %q; want the merge list", a.location)
		}
		list := c.get("/ui/t/acme/merges")
		for _, control := range []string{`id="revert-selected"`, `name="revert"`, `/ui/t/acme/merge"`} {
			if strings.Contains(list.body, control) {
				t.Errorf("the viewer's merge list holds %s", control)
			}
		}
		if screen := c.get("/ui/t/acme/merge"); !strings.Contains(screen.body, `id="view-only"`) || strings.Contains(screen.body, `id="merge-form"`) {
			t.Errorf("the viewer's merge screen offers merging:\n%s", screen.body)
		}

		before := e.snapshotAll()
		for _, tc := range []struct {
			path string
			form url.Values
		}{
			{"/ui/t/acme/merges/revert", url.Values{"merge": {"1"}}},
			{"/ui/t/acme/merge", url.Values{"keep": {"T"}, "src": {"S2"}}},
			{"/ui/t/acme/accounts/S2/deactivate", nil},
			{"/ui/t/acme/accounts/S2/delete", url.Values{"confirm": {"true"}}},
			{"/ui/t/acme/settings", url.Values{"action": {"preset"}, "preset": {"schoox"}}},
		} {
			f := url.Values{"csrf_token": {csrf}}
			for k, v := range tc.form {
				f[k] = v
			}
			a := c.post(tc.path, f)
			page := c.follow(a)
			if !strings.Contains(page.body, `class="msg error"`) {
				t.Errorf("POST %s by the viewer: no refusal shown:\n%s", tc.path, page.body)
			}
		}
		if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
			t.Errorf("the viewer's posts changed the database (-before +after):\n%s", diff)
		}
		if d, err := e.eng.MergeDetails(context.Background(), admin, ms[0].ID, 1); err != nil || d.Merge.State != usermerge.StateActive {
			t.Errorf("merge %d: %v, %v; want it still active", ms[0].ID, d.Merge.State, err)
		}
	})
}

func TestUIScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		c.signIn("editor")
		browse := c.get("/ui/t/acme/merge?q=login")
		if !strings.Contains(browse.body, `data-login="s.login"`) || strings.Contains(browse.body, `data-login="e1.login"`) {
			t.Errorf("the sales editor's Browse column: want Sales accounts only:\n%s", browse.body)
		}
		out := c.get("/ui/t/acme/merge?keep=E1")
		if !strings.Contains(out.body, "account &#34;E1&#34; does not exist") || strings.Contains(out.body, "Learner E1") {
			t.Errorf("an account outside scope, named in the URL: want a refusal that shows nothing of it:\n%s", out.body)
		}
		if _, err := e.eng.Merge(context.Background(), engine.Caller{Tenant: "acme", Admin: "editor"},
			usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S"}}); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]bool{"from=2026-06-01&to=2026-06-01": true, "from=2026-06-02": false, "to=2026-05-31": false,
			"source=Learner+S": true, "source=Learner+T": false, "target=t.login": true} {
			list := c.get("/ui/t/acme/merges?" + q)
			if got := strings.Contains(list.body, `id="merge-1"`); got != want {
				t.Errorf("merge list ?%s lists merge 1: %v, want %v", q, got, want)
			}
		}
		if a := c.get("/ui/t/acme/merges?from=June"); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "must be a date") {
			t.Errorf("a malformed date: status %d; want 422 saying what is wrong", a.status)
		}
		if a := c.get("/ui/t/globex/merges"); a.status != http.StatusSeeOther || a.location != "/ui/signin?next="+url.QueryEscape("/ui/t/globex/merges") {
			t.Errorf("another tenant's list: status %d to %q, want the sign-in page for that tenant", a.status, a.location)
		}
		if a := c.get("/ui/t/acme/merges/999"); a.status != http.StatusNotFound {
			t.Errorf("a merge that does not exist: status %d, want 404", a.status)
		}
	})
}

func TestMergeScreenSelection(t *testing.T) {
	many := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, tc := range []struct {
		name       string
		query      string
		keep       string
		sources    []string
		wantAction bool
	}{
		{"the first pick is kept", "add=x", "x", nil, true},
		{"the next picks are to merge", "keep=x&src=y&add=z", "x", []string{"y", "z"}, true},
		{"a pick is taken once", "keep=x&src=y&add=y", "x", []string{"y"}, true},
		{"after the kept one is removed the next pick is kept", "src=y&add=z", "z", []string{"y"}, true},
		{"swap makes a source the kept one", "keep=x&src=y&src=z&swap=z", "z", []string{"y", "x"}, true},
		{"remove the kept account", "keep=x&src=y&remove=x", "", []string{"y"}, true},
		{"remove a source", "keep=x&src=y&src=z&remove=y", "x", []string{"z"}, true},
		{"at most ten to merge", "keep=x&src=" + strings.Join(many, "&src=") + "&add=k", "x", many, true},
		{"no button", "keep=x&src=y&q=garcia", "x", []string{"y"}, false},
		{"the sources stay as sent", "keep=x&src=x&src=y&src=y", "x", []string{"x", "y", "y"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			st := parseMergeState(q, false)
			if got := st.apply(q); got != tc.wantAction {
				t.Errorf("apply = %v, want %v", got, tc.wantAction)
			}
			if st.Keep != tc.keep || !cmp.Equal(st.Sources, tc.sources) {
				t.Errorf("keep %q, sources %v; want %q, %v", st.Keep, st.Sources, tc.keep, tc.sources)
			}
		})
	}
}

// The merge form is checked like the API: an eleventh account to merge and
// an account named twice are refused with the API's messages, not dropped.
func TestUIMergeFormIsValidatedLikeTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		csrf := c.signIn("admin")
		api := e.withToken("acme", "admin")
		eleven := []string{"S", "S2", "S3", "E1", "E2", "x1", "x2", "x3", "x4", "x5", "x6"}
		err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
			for _, id := range eleven[5:] {
				if err := tx.PutAccount(context.Background(), usermerge.Account{TenantID: "acme", ID: id, Login: id + ".login", Name: "Learner " + id,
					Status: usermerge.Active, CreatedAt: testNow}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			sources []string
		}{
			{"eleven sources", eleven},
			{"a source twice", []string{"S", "S2", "S"}},
			{"a source twice, by id and by login", []string{"S", "s.login"}},
			{"the kept account as a source", []string{"T", "S"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, body := api.raw("POST", "/api/v1/tenants/acme/merges/preview", "application/json",
					[]byte(`{"target":"T","sources":["`+strings.Join(tc.sources, `","`)+`"]}`))
				if st != http.StatusUnprocessableEntity {
					t.Fatalf("the API took it: %d %s", st, body)
				}
				want := errorOf(t, body).Error.Message

				before := e.snapshotAll()
				a := c.post("/ui/t/acme/merge", url.Values{"csrf_token": {csrf}, "keep": {"T"}, "src": tc.sources, "ext": {"1"}})
				if a.status != http.StatusSeeOther {
					t.Fatalf("merge form: status %d, want a redirect back with the refusal", a.status)
				}
				back := c.follow(a)
				if !strings.Contains(back.body, "Nothing was merged: "+htmlEscape(want)) {
					t.Errorf("after the refused merge the page does not say %q:\n%s", want, back.body)
				}
				if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
					t.Errorf("a refused merge changed the database (-before +after):\n%s", diff)
				}

				q := url.Values{"keep": {"T"}, "src": tc.sources, "step": {"preview"}}
				p := c.get("/ui/t/acme/merge?" + q.Encode())
				if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, htmlEscape(want)) {
					t.Errorf("preview step: status %d, want 422 saying %q", p.status, want)
				}
			})
		}
	})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestUIMessagesReadAsWritten drives the notices that used to read as code:
// a refusal that opens with a login keeps it lowercase, and the deletion of
// a merge's source names the merge in words, not as Go's [1].
func TestUIMessagesReadAsWritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		csrf := c.signIn("admin")
		if a := c.post("/ui/t/acme/merge", url.Values{"csrf_token": {csrf}, "keep": {"T"}, "src": {"S"}}); a.status != http.StatusSeeOther {
			t.Fatalf("merge: status %d; body:\n%s", a.status, a.body)
		}
		back := "/ui/t/acme/accounts"
		notice := func(label string, a uiAnswer, want string) {
			t.Helper()
			page := c.follow(a).body
			if !strings.Contains(page, htmlEscape(want)) {
				t.Errorf("%s: the page does not say %q:\n%s", label, want, page)
			}
			if m := regexp.MustCompile(`\[\d|S\.login|T\.login`).FindString(page); m != "" {
				t.Errorf("%s: the page shows %q", label, m)
			}
		}
		a := c.post("/ui/t/acme/accounts/S/activate", url.Values{"csrf_token": {csrf}, "back": {back}})
		notice("activate a merged account", a, "s.login (Learner S) was merged into t.login (Learner T) by merge 1 on ")
		a = c.post("/ui/t/acme/accounts/S/delete", url.Values{"csrf_token": {csrf}, "back": {back}, "confirm": {"true"}})
		notice("delete a merge's source", a, "s.login (Learner S) is deleted. Its merge 1 is now permanent; the data stays with the kept account.")
	})
}

// TestCountColumnsOneOrder: the preview and the details show a merge's
// counts under the same headers in the same order, usermerge.CountColumns
// (the CLI's tables are held to the same list in cmd/usermerge).
func TestCountColumnsOneOrder(t *testing.T) {
	e := newEnv(t)
	c := e.uiClient()
	csrf := c.signIn("admin")
	var want []string
	for _, col := range usermerge.CountColumns {
		want = append(want, col.Label)
	}
	if diff := cmp.Diff([]string{"Moved", "Combined", "Retired", "Stayed", "Changed"}, want); diff != "" {
		t.Errorf("the count columns (-want +got):\n%s", diff)
	}
	heads := regexp.MustCompile(`<th scope="col" class="n"[^>]*>([^<]+)</th>`)
	headersOf := func(label, page string) {
		t.Helper()
		var got []string
		for _, m := range heads.FindAllStringSubmatch(page, -1) {
			got = append(got, m[1])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: count headers (-want +got):\n%s", label, diff)
		}
	}
	preview := c.get("/ui/t/acme/merge?keep=T&src=S&step=preview")
	headersOf("preview", preview.body)
	if a := c.post("/ui/t/acme/merge", url.Values{"csrf_token": {csrf}, "keep": {"T"}, "src": {"S"}}); a.status != http.StatusSeeOther {
		t.Fatalf("merge: status %d; body:\n%s", a.status, a.body)
	}
	headersOf("details", c.get("/ui/t/acme/merges/1").body)
}
