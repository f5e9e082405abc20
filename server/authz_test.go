package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"usermerge"
	"usermerge/engine"
	"usermerge/store/storetest"
)

// authzRoute is one row of the authorization matrix: a request on tenant
// acme and the outcome (see apiOutcome) expected for each acme role. The
// rows run in order, so that the writes the admin and the editor may make
// do not get in the way of the rows after them.
type authzRoute struct {
	route        string // the route's pattern, as Server.Routes lists it
	method, path string // path below /api/v1/tenants/acme; {m1} and {tok} are filled in
	ctype, body  string
	admin        string // tenant administrator
	editor       string // group manager with edit over sales (T, S, S2, S3 are in sales/east)
	viewer       string // group manager with view over sales and eng
}

const (
	authzNoEdit = "403 no_merge_permission"
	// Out of scope reads as not there (PRODUCT.md §8).
	authzOutOfScope = "404 not_found"
	authzAdminOnly  = "403 tenant_admin_only"
	// The viewer cannot make a batch, so its database has none.
	authzNoBatch = "404 batch_not_found"
)

func authzRoutes() []authzRoute {
	const p = "/api/v1/tenants/{tenant}"
	ndjson := `{"kind":"account","tenant":"acme","id":"N1","login":"n1.login","name":"Learner N1","created_at":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"kind":"membership","tenant":"acme","account":"N1","group":"east"}` + "\n"
	return []authzRoute{
		{p + "/accounts", "GET", "/accounts", "", "", "200", "200", "200"},
		{p + "/accounts/{id}", "GET", "/accounts/S", "", "", "200", "200", "200"},
		{p + "/accounts/{id}", "GET", "/accounts/E1", "", "", "200", authzOutOfScope, "200"},
		{p + "/accounts/{id}/deletion", "GET", "/accounts/S2/deletion", "", "", "200", "200", authzNoEdit},
		{p + "/accounts/{id}/deactivate", "POST", "/accounts/S2/deactivate", "", "", "200", "200", authzNoEdit},
		{p + "/accounts/{id}/activate", "POST", "/accounts/S2/activate", "", "", "200", "200", authzNoEdit},
		{p + "/accounts/{id}/deactivate", "POST", "/accounts/E2/deactivate", "", "", "200", authzOutOfScope, authzNoEdit},
		{p + "/accounts/{id}", "DELETE", "/accounts/S2", "", "", "200", "200", authzNoEdit},
		{p + "/merges/preview", "POST", "/merges/preview", "application/json", `{"target":"T","sources":["S"]}`, "200", "200", authzNoEdit},
		{p + "/merges/preview", "POST", "/merges/preview", "application/json", `{"target":"E1","sources":["E2"]}`, "200", authzOutOfScope, authzNoEdit},
		{p + "/merges", "GET", "/merges", "", "", "200", "200", "200"},
		{p + "/merges/{id}", "GET", "/merges/{m1}", "", "", "200", "200", "200"},
		{p + "/merges/revert", "POST", "/merges/revert", "application/json", `{"merges":[{m1}]}`, "200", "200", authzNoEdit},
		{p + "/merges", "POST", "/merges", "application/json", `{"target":"T","sources":["S"]}`, "201", "201", authzNoEdit},
		{p + "/merges", "POST", "/merges", "application/json", `{"target":"E1","sources":["E2"]}`, "201", authzOutOfScope, authzNoEdit},
		{p + "/settings", "GET", "/settings", "", "", "200", "200", "200"},
		{p + "/settings", "PUT", "/settings", "application/json", `{"set":{"move_external_ids":"true"}}`, "200", authzAdminOnly, authzAdminOnly},
		{p + "/export", "GET", "/export", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/export", "GET", "/export?format=csv", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/export", "GET", "/export?account=S", "", "", "200", "200", "200"},
		{p + "/export", "GET", "/export?account=E1", "", "", "200", authzOutOfScope, "200"},
		{p + "/import", "POST", "/import", "application/x-ndjson", ndjson, "200", authzAdminOnly, authzAdminOnly},
		{p + "/tokens", "GET", "/tokens", "", "", "200", "200", "200"},
		{p + "/tokens", "POST", "/tokens", "application/json", `{"name":"matrix"}`, "201", "201", "201"},
		{p + "/tokens/{id}", "DELETE", "/tokens/{tok}", "", "", "204", "204", "403 not_your_token"},
		{p + "/duplicates", "GET", "/duplicates", "", "", "200", "200", "200"},
		{p + "/duplicates/{id}", "GET", "/duplicates/999", "", "", "404 suggestion_not_found", "404 suggestion_not_found", "404 suggestion_not_found"},
		{p + "/duplicates/{id}/dismiss", "POST", "/duplicates/999/dismiss", "", "", "404 suggestion_not_found", "404 suggestion_not_found", "404 suggestion_not_found"},
		{p + "/duplicates/check", "POST", "/duplicates/check", "application/json", `{"account":"T"}`, "200", "200", "200"},
		{p + "/duplicates/check", "POST", "/duplicates/check", "application/json", `{"account":"E1"}`, "200", authzOutOfScope, "200"},
		{p + "/duplicates/runs/latest", "GET", "/duplicates/runs/latest", "", "", "404 no_detection_run", "404 no_detection_run", "404 no_detection_run"},
		{p + "/duplicates/runs/{id}", "GET", "/duplicates/runs/1", "", "", "404 run_not_found", "404 run_not_found", "404 run_not_found"},
		{p + "/dismissals", "POST", "/dismissals", "application/json", `{"a":"S","b":"S2"}`, "201", "201", authzNoEdit},
		{p + "/dismissals", "POST", "/dismissals", "application/json", `{"a":"E1","b":"E2"}`, "201", authzOutOfScope, authzNoEdit},
		{p + "/dismissals", "GET", "/dismissals", "", "", "200", "200", "200"},
		{p + "/settings/matching", "GET", "/settings/matching", "", "", "200", "200", "200"},
		{p + "/settings/matching/preview", "POST", "/settings/matching/preview", "application/json", `{"fields":["name","email"],"certain":0.999,"probable":0.95,"possible":0.6,"max_block":200}`, "404 no_detection_run", authzAdminOnly, authzAdminOnly},
		{p + "/settings/matching", "PUT", "/settings/matching", "application/json", `{"fields":["name","email"],"certain":0.999,"probable":0.95,"possible":0.6,"max_block":200}`, "200", authzAdminOnly, authzAdminOnly},
		{p + "/batches/check", "POST", "/batches/check", "text/csv", "target,sources\nt.login,s3.login\n", "200", "200", authzNoEdit},
		{p + "/batches/dry-run", "POST", "/batches/dry-run", "text/csv", "target,sources\nt.login,s3.login\n", "200", "200", authzNoEdit},
		{p + "/batches", "POST", "/batches?name=m.csv", "text/csv", "target,sources\nt.login,s3.login\n", "201", "201", authzNoEdit},
		{p + "/batches", "GET", "/batches", "", "", "200", "200", "200"},
		{p + "/batches/{id}", "GET", "/batches/1", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/rows", "GET", "/batches/1/rows", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/report", "GET", "/batches/1/report", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/start", "POST", "/batches/1/start", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/pause", "POST", "/batches/1/pause", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/resume", "POST", "/batches/1/resume", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/cancel", "POST", "/batches/1/cancel", "", "", "200", "200", authzNoBatch},
		{p + "/batches/{id}/revert", "POST", "/batches/1/revert", "", "", "200", "200", authzNoBatch},
		{p + "/batches/from-suggestions", "POST", "/batches/from-suggestions", "application/json", `{"grade":"certain"}`, "404 selection_empty", "404 selection_empty", authzNoEdit},
		{p + "/events", "GET", "/events?limit=5", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/resolve", "GET", "/resolve?ref=S&ref=nobody", "", "", "200", "200", "200"},
		{p + "/resolve", "POST", "/resolve", "application/json", `{"refs":["S","T"]}`, "200", "200", "200"},
		{p + "/webhooks", "POST", "/webhooks", "application/json", `{"url":"https://93.184.216.34/hooks"}`, "201", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks", "GET", "/webhooks", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks/{id}", "GET", "/webhooks/1", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks/{id}", "PATCH", "/webhooks/1", "application/json", `{"description":"LMS"}`, "200", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks/{id}/rotate-secret", "POST", "/webhooks/1/rotate-secret", "application/json", `{"overlap":"1h"}`, "200", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks/{id}/test", "POST", "/webhooks/1/test", "", "", "202", authzAdminOnly, authzAdminOnly},
		{p + "/deliveries", "GET", "/deliveries?webhook=1", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/deliveries/{id}", "GET", "/deliveries/1", "", "", "200", authzAdminOnly, authzAdminOnly},
		{p + "/deliveries/{id}/replay", "POST", "/deliveries/1/replay", "", "", "202", authzAdminOnly, authzAdminOnly},
		{p + "/webhooks/{id}", "DELETE", "/webhooks/1", "", "", "204", authzAdminOnly, authzAdminOnly},
		{p + "/operations/{op}/revert", "POST", "/operations/999/revert", "", "", "404 operation_not_found", "404 operation_not_found", "404 operation_not_found"},
		// Last: the run goes on in the background.
		{p + "/duplicates/runs", "POST", "/duplicates/runs", "application/json", `{"full":true}`, "202", "202", authzNoEdit},
	}
}

// authzCaller is one caller of the matrix. want picks its expected outcome
// of a row; callers without access to acme expect the authzSame for every row.
type authzCaller struct {
	name   string
	client func(e *env) *client
	want   func(r authzRoute) string
}

func authzSame(outcome string) func(authzRoute) string {
	return func(authzRoute) string { return outcome }
}

// authzFixture is what every matrix database holds besides the harness
// fixture: merge m1 (S3 into T, by the admin) and a token of the editor.
type authzFixture struct {
	m1  int64
	tok string
}

func authzSetup(t *testing.T, e *env) authzFixture {
	t.Helper()
	ctx := context.Background()
	ms, err := e.eng.Merge(ctx, apiAcmeAdmin, usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S3"}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := e.eng.CreateToken(ctx, engine.Caller{Tenant: "acme", Admin: "editor"}, "editor's script", nil)
	if err != nil {
		t.Fatal(err)
	}
	return authzFixture{m1: ms[0].ID, tok: tok.ID}
}

// authzRevoked is a client with an acme admin token that has been revoked.
func authzRevoked(e *env) *client {
	c := e.withToken("acme", "admin")
	id, _, _ := strings.Cut(strings.TrimPrefix(c.token, engine.TokenPrefix), ".")
	if err := e.eng.RevokeToken(context.Background(), apiAcmeAdmin, id); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// authzForged is a client sending a session cookie no sign-in created.
func authzForged(e *env) *client {
	c := e.anon()
	u, _ := url.Parse(e.base)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: "forged-0123456789abcdefghijklmnopqrstuvwxyzABCDEF", Path: "/"}})
	return c
}

// TestAPIAuthorizationMatrix calls every tenant route as every kind of
// caller and checks the exact status and reason; a refused call must
// change nothing (sessions, tokens and admins included).
func TestAPIAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		admin := authzCaller{"tenant admin", func(e *env) *client { return e.signIn("admin") }, func(r authzRoute) string { return r.admin }}
		editor := authzCaller{"group manager (edit)", func(e *env) *client { return e.signIn("editor") }, func(r authzRoute) string { return r.editor }}
		viewer := authzCaller{"group manager (view)", func(e *env) *client { return e.signIn("viewer") }, func(r authzRoute) string { return r.viewer }}
		outsiders := []authzCaller{
			{"other tenant's admin (session)", func(e *env) *client { return e.signIn("gadmin") }, authzSame("403 no_tenant_access")},
			{"other tenant's admin (token)", func(e *env) *client { return e.withToken("globex", "gadmin") }, authzSame("401 bad_token")},
			{"no credentials", func(e *env) *client { return e.anon() }, authzSame("401 no_credentials")},
			{"revoked token", authzRevoked, authzSame("401 bad_token")},
			{"forged session cookie", authzForged, authzSame("401 no_session")},
		}
		// The admin and the editor change data, so each gets a database of
		// its own; the viewer and the outsiders change nothing and share one.
		for _, group := range [][]authzCaller{{admin}, {editor}, append([]authzCaller{viewer}, outsiders...)} {
			e := newEnv(t)
			fx := authzSetup(t, e)
			for _, c := range group {
				runAuthzCaller(t, e, fx, c)
			}
		}
	})
}

func runAuthzCaller(t *testing.T, e *env, fx authzFixture, caller authzCaller) {
	t.Helper()
	c := caller.client(e)
	fill := strings.NewReplacer("{m1}", fmt.Sprint(fx.m1), "{tok}", fx.tok)
	before := apiState(e)
	for _, r := range authzRoutes() {
		label := fmt.Sprintf("(%s, %s %s)", caller.name, r.method, fill.Replace(r.path))
		want := caller.want(r)
		st, body := c.raw(r.method, apiAcme+fill.Replace(r.path), r.ctype, []byte(fill.Replace(r.body)))
		apiExpect(t, label, st, body, want)
		if st < 400 {
			before = apiState(e) // an allowed call may change data
			continue
		}
		if strings.Contains(string(body), "Learner ") {
			t.Errorf("%s: the refusal shows account data: %s", label, body)
		}
		if r.method != "GET" {
			apiUnchanged(t, e, label, before)
		}
	}
	apiUnchanged(t, e, fmt.Sprintf("(%s, refused reads)", caller.name), before)
}

// TestAPIAuthorizationMatrixCoversEveryRoute keeps the matrix complete: a
// new tenant route must get a row.
func TestAPIAuthorizationMatrixCoversEveryRoute(t *testing.T) {
	e := newEnv(t) // SQLite: the routes do not depend on the database
	var covered []string
	for _, r := range authzRoutes() {
		covered = append(covered, r.method+" "+r.route)
	}
	for _, r := range New(Config{Engine: e.eng}).Routes() {
		if strings.Contains(r, " /api/v1/tenants/{tenant}") && !slices.Contains(covered, r) {
			t.Errorf("route %s has no row in the authorization matrix", r)
		}
	}
}

// TestAPICSRF: an unsafe request made with a session cookie needs the
// session's CSRF token; without it (or with a wrong one) every unsafe route
// answers 403 csrf_failed and changes nothing. API tokens need none.
func TestAPICSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		fx := authzSetup(t, e)
		fill := strings.NewReplacer("{m1}", fmt.Sprint(fx.m1), "{tok}", fx.tok)
		admin := e.signIn("admin")
		other := e.signIn("admin") // a second session: its token is not this one's
		noToken, wrong, foreign := *admin, *admin, *admin
		noToken.csrf, wrong.csrf, foreign.csrf = "", admin.csrf+"x", other.csrf
		before := apiState(e)
		for _, r := range authzRoutes() {
			if r.method == "GET" {
				continue
			}
			for _, c := range []struct {
				name string
				c    *client
			}{{"no CSRF token", &noToken}, {"a wrong CSRF token", &wrong}, {"another session's CSRF token", &foreign}} {
				label := fmt.Sprintf("%s %s with %s", r.method, fill.Replace(r.path), c.name)
				st, body := c.c.raw(r.method, apiAcme+fill.Replace(r.path), r.ctype, []byte(fill.Replace(r.body)))
				apiExpect(t, label, st, body, "403 csrf_failed")
				apiUnchanged(t, e, label, before)
			}
		}

		// Safe methods need no token.
		st, body := noToken.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "GET /accounts without CSRF token", st, body, "200")
		// The UI's forms post the token as a field.
		st, body = noToken.raw("POST", apiAcme+"/accounts/S2/deactivate", "application/x-www-form-urlencoded",
			[]byte("csrf_token="+url.QueryEscape(admin.csrf)))
		apiExpect(t, "POST deactivate with the token as a form field", st, body, "200")

		// Never from the query string, where logs and Referer headers keep it.
		st, body = noToken.raw("POST", apiAcme+"/accounts/S2/activate?csrf_token="+url.QueryEscape(admin.csrf), "", nil)
		apiExpect(t, "POST activate with the token in the query string", st, body, "403 csrf_failed")
		st, body = noToken.raw("POST", apiAcme+"/accounts/S2/activate?csrf_token="+url.QueryEscape(admin.csrf), "application/x-www-form-urlencoded", nil)
		apiExpect(t, "POST activate, a form without the token, the token in the query string", st, body, "403 csrf_failed")

		// A bearer token needs no CSRF token, even with a session cookie beside it.
		tok := e.withToken("acme", "admin")
		st, body = tok.raw("POST", apiAcme+"/accounts/S2/activate", "", nil)
		apiExpect(t, "POST activate with a bearer token", st, body, "200")
		both := noToken
		both.token = tok.token
		st, body = apiSend(&both, "PUT", apiAcme+"/settings", map[string]any{"set": map[string]string{"badges": "stay"}})
		apiExpect(t, "PUT settings with a bearer token and a session cookie, no CSRF token", st, body, "200")
		st, body = apiSend(tok, "POST", apiAcme+"/merges", MergeBody{Target: "T", Sources: []string{"S"}})
		apiExpect(t, "POST merges with a bearer token", st, body, "201")
	})
}

// TestAPITenantIsolation: acme's credentials never reach globex data, not
// by guessing globex ids on acme paths, nor by naming globex in the path.
func TestAPITenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		gm, err := e.eng.Merge(ctx, apiGlobexAdmin, usermerge.MergeRequest{TenantID: "globex", Target: "G1", Sources: []string{"G2"}})
		if err != nil {
			t.Fatal(err)
		}
		_, gtok, err := e.eng.CreateToken(ctx, apiGlobexAdmin, "globex script", nil)
		if err != nil {
			t.Fatal(err)
		}
		globexData := []string{"Learner G", "g1@example.test", "g2@example.test", "g1.login", "10.0.0.3", "Globex", "gsi", gtok.ID}
		gm1 := fmt.Sprint(gm[0].ID)
		callers := map[string]*client{"acme admin (session)": e.signIn("admin"), "acme admin (token)": e.withToken("acme", "admin")}
		before := apiState(e)
		cases := []struct {
			method, path, ctype, body string
			want                      string
			echoes                    string // a globex value the request names, which an error message may repeat
		}{
			{"GET", "/accounts/G1", "", "", "404 not_found", ""},
			{"GET", "/accounts/g1.login", "", "", "404 not_found", "g1.login"},
			{"GET", "/accounts/G1/deletion", "", "", "404 not_found", ""},
			{"POST", "/accounts/G1/activate", "", "", "404 not_found", ""},
			{"POST", "/accounts/G2/deactivate", "", "", "404 not_found", ""},
			{"DELETE", "/accounts/G1?confirm=true", "", "", "404 not_found", ""},
			{"GET", "/merges/" + gm1, "", "", "404 merge_not_found", ""},
			{"POST", "/merges/revert", "application/json", `{"merges":[` + gm1 + `]}`, "404 merge_not_found", ""},
			{"POST", "/merges/preview", "application/json", `{"target":"G1","sources":["G2"]}`, "404 not_found", ""},
			{"POST", "/merges", "application/json", `{"target":"G1","sources":["G2"]}`, "404 not_found", ""},
			{"POST", "/merges", "application/json", `{"target":"T","sources":["G2"]}`, "404 not_found", ""},
			{"GET", "/export?account=G1", "", "", "404 not_found", ""},
			{"DELETE", "/tokens/" + gtok.ID, "", "", "404 not_found", gtok.ID},
			{"GET", "/accounts?q=G1", "", "", "200", ""},
			{"GET", "/accounts?q=example.test", "", "", "200", ""},
			{"GET", "/merges?state=all&source=G2", "", "", "200", ""},
			{"GET", "/merges?state=all", "", "", "200", ""},
			{"GET", "/export", "", "", "200", ""},
			{"GET", "/tokens", "", "", "200", ""},
		}
		for name, c := range callers {
			for _, tc := range cases {
				label := fmt.Sprintf("(%s, %s %s)", name, tc.method, tc.path)
				st, body := c.raw(tc.method, apiAcme+tc.path, tc.ctype, []byte(tc.body))
				apiExpect(t, label, st, body, tc.want)
				for _, s := range globexData {
					if s != tc.echoes && strings.Contains(string(body), s) {
						t.Errorf("%s: the answer shows globex data %q: %.400s", label, s, body)
					}
				}
			}
			// Naming globex in the path does not help either.
			want := map[string]string{"acme admin (session)": "403 no_tenant_access", "acme admin (token)": "401 bad_token"}[name]
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/api/v1/tenants/globex/accounts", ""},
				{"GET", "/api/v1/tenants/globex/merges/" + gm1, ""},
				{"GET", "/api/v1/tenants/globex/export", ""},
				{"POST", "/api/v1/tenants/globex/accounts/G1/deactivate", ""},
				{"POST", "/api/v1/tenants/globex/merges/revert", `{"merges":[` + gm1 + `]}`},
				{"PUT", "/api/v1/tenants/globex/settings", `{"preset":"learningbox"}`},
			} {
				label := fmt.Sprintf("(%s, %s %s)", name, r.method, r.path)
				st, body := c.raw(r.method, r.path, "application/json", []byte(r.body))
				apiExpect(t, label, st, body, want)
				if strings.Contains(string(body), "Learner G") {
					t.Errorf("%s: the answer shows globex data: %s", label, body)
				}
			}
		}
		apiUnchanged(t, e, "calls across tenants", before)
	})
}
