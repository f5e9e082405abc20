package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// signInShared adds the administrator "shared" to acme and to globex, with
// the same password in both.
func signInShared(t *testing.T, e *env) {
	t.Helper()
	err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
		for _, tn := range []string{"acme", "globex"} {
			if err := tx.PutAdmin(context.Background(), usermerge.Admin{TenantID: tn, ID: "shared", Login: "shared", Role: usermerge.TenantAdmin}, testHash()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAPISignInNamesTenant: a login that exists in two tenants with the
// same password opens a session only in the tenant named; its failures
// lock out that tenant's administrator only; signing in to the other
// tenant from the same browser adds it to the session under a new secret.
func TestAPISignInNamesTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		signInShared(t, e)
		a := e.signInTo("acme", "shared")
		st, body := a.raw("GET", "/api/v1/session", "", nil)
		if apiExpect(t, "who am I", st, body, "200") {
			if who := apiDecode[sessionInfo](t, body); len(who.Tenants) != 1 || who.Tenants[0] != "acme" {
				t.Errorf("signed in to acme, the session is for %v; want [acme] only", who.Tenants)
			}
		}
		st, body = a.raw("GET", "/api/v1/tenants/globex/accounts", "", nil)
		apiExpect(t, "globex with the acme session of the shared login", st, body, "403 no_tenant_access")

		// Three failures in globex lock out globex's "shared", not acme's.
		for range 3 {
			resp, body := apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, apiSignInBodyTo("globex", "shared", "not the password"))
			apiExpect(t, "wrong password in globex", resp.StatusCode, body, "401 bad_credentials")
		}
		if n, until := apiThrottle(t, e, "globex", "shared"); n != 3 || until == nil {
			t.Errorf("globex's shared: %d failures, locked until %v; want 3 and locked", n, until)
		}
		if n, until := apiThrottle(t, e, "acme", "shared"); n != 0 || until != nil {
			t.Errorf("acme's shared: %d failures, locked until %v; want untouched", n, until)
		}
		resp, body := apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, apiSignInBodyTo("acme", "shared", testPassword))
		apiExpect(t, "acme's shared while globex's is locked out", resp.StatusCode, body, "200")
		resp, body = apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, apiSignInBodyTo("globex", "shared", testPassword))
		apiExpect(t, "globex's shared while locked out", resp.StatusCode, body, "401 bad_credentials")

		// No tenant named: a clear 400 (the API no longer guesses).
		resp, body = apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, []byte(`{"login":"shared","password":"`+testPassword+`"}`))
		apiExpect(t, "a sign-in without a tenant", resp.StatusCode, body, "400 bad_request")
		if !strings.Contains(string(body), "name the tenant") {
			t.Errorf("a sign-in without a tenant does not say what is missing: %s", body)
		}

		// The same browser signs in to globex too: one session, both
		// tenants, under a new secret; the old secret is no longer valid.
		g := e.signInTo("globex", "gadmin")
		old := apiCookieOf(t, g)
		var out engine.SignedIn
		g.csrf = ""
		if st := g.call("POST", "/api/v1/session", map[string]string{"tenant": "acme", "login": "admin", "password": testPassword}, &out); st != http.StatusOK {
			t.Fatalf("second sign-in: %d", st)
		}
		if strings.Join(out.Tenants, ",") != "acme,globex" {
			t.Errorf("after signing in to globex, then acme: tenants %v, want [acme globex]", out.Tenants)
		}
		g.csrf = out.CSRF
		for _, p := range []string{"/api/v1/tenants/acme/accounts", "/api/v1/tenants/globex/accounts"} {
			st, body := g.raw("GET", p, "", nil)
			apiExpect(t, "GET "+p+" with the joined session", st, body, "200")
		}
		if cur := apiCookieOf(t, g); cur == old {
			t.Error("the second sign-in kept the session's secret; want a new one")
		}
		resp, body = apiDo(t, e, "GET", "/api/v1/tenants/globex/accounts", http.Header{"Cookie": {SessionCookie + "=" + old}}, nil)
		apiExpect(t, "the session's old secret", resp.StatusCode, body, "401 no_session")
	})
}

// TestAPISignInLoginCSRF: another site cannot sign a browser in. The body
// must be declared JSON (an HTML form cannot send that), and a browser's
// Sec-Fetch-Site or Origin must say the request comes from this site.
func TestAPISignInLoginCSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ok := apiSignInBody("admin", testPassword)
		for _, tc := range []struct {
			name string
			hdr  http.Header
			body []byte
			want string
		}{
			{"text/plain (a cross-site form)", http.Header{"Content-Type": {"text/plain"}}, ok, "415 unsupported_media_type"},
			{"a urlencoded form", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("tenant=acme&login=admin&password=x"), "415 unsupported_media_type"},
			{"multipart", http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}, ok, "415 unsupported_media_type"},
			{"no Content-Type", nil, ok, "415 unsupported_media_type"},
			{"Sec-Fetch-Site cross-site", http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"cross-site"}}, ok, "403 cross_site"},
			{"Sec-Fetch-Site same-site", http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-site"}}, ok, "403 cross_site"},
			{"another Origin", http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}}, ok, "403 cross_site"},
			{"Origin null", http.Header{"Content-Type": {"application/json"}, "Origin": {"null"}}, ok, "403 cross_site"},
			{"same origin", http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Origin": {e.base}, "Sec-Fetch-Site": {"same-origin"}}, ok, "200"},
			{"typed in (Sec-Fetch-Site none)", http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"none"}}, ok, "200"},
			{"a program (neither header)", http.Header{"Content-Type": {"application/json"}}, ok, "200"},
		} {
			resp, body := apiDo(t, e, "POST", "/api/v1/session", tc.hdr, tc.body)
			if apiExpect(t, tc.name, resp.StatusCode, body, tc.want) && tc.want != "200" {
				for _, c := range resp.Cookies() {
					if c.Name == SessionCookie {
						t.Errorf("%s: refused, yet set a session cookie", tc.name)
					}
				}
			}
		}

		// The UI's sign-in form checks the same.
		c := e.uiClient()
		form := c.get("/ui/signin")
		token := csrfOf(t, form.body)
		req, _ := http.NewRequest("POST", e.base+"/ui/signin", strings.NewReader("csrf_token="+token+"&tenant=acme&login=admin&password="+strings.ReplaceAll(testPassword, " ", "+")))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("the UI sign-in form posted from another origin: %d, want 403", resp.StatusCode)
		}
	})
}

// TestSignInPerAddress: each client address has a budget of failed
// sign-ins, whatever tenants and logins they name; over it, even a right
// password is refused with 429 and Retry-After before any check, while
// other addresses sign in; the budget refills with time.
func TestSignInPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		db := storetest.Open(t)
		now := testNow
		db.Now = func() time.Time { return now }
		seedHTTPFixture(t, db)
		h := New(Config{Engine: engine.New(db, nil), SignInLimit: AddressLimit{Burst: 3, Every: time.Minute}}).Handler()
		send := func(addr string, body []byte) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/api/v1/session", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = addr
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		for i, body := range [][]byte{apiSignInBodyTo("acme", "admin", "wrong"), apiSignInBodyTo("globex", "gadmin", "wrong"), apiSignInBodyTo("acme", "nobody", "wrong")} {
			if rec := send("10.1.1.1:4000", body); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s", i+1, rec.Code, rec.Body)
			}
		}
		rec := send("10.1.1.1:4001", apiSignInBody("editor", testPassword))
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"too_many_attempts"`) || rec.Header().Get("Retry-After") != "60" {
			t.Errorf("the right password from an address over its budget: %d %q %s; want 429 too_many_attempts, Retry-After 60", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
		if n, _ := throttleIn(t, db, "acme", "editor"); n != 0 {
			t.Errorf("a sign-in refused by the address budget was counted for the login (%d)", n)
		}
		if rec := send("10.2.2.2:4000", apiSignInBody("editor", testPassword)); rec.Code != http.StatusOK {
			t.Errorf("another address: %d %s, want 200", rec.Code, rec.Body)
		}
		now = now.Add(time.Minute)
		if rec := send("10.1.1.1:4002", apiSignInBody("editor", testPassword)); rec.Code != http.StatusOK {
			t.Errorf("a minute later: %d %s, want 200", rec.Code, rec.Body)
		}
	})
}

func throttleIn(t *testing.T, db *store.DB, tenant, login string) (int, *time.Time) {
	t.Helper()
	var n int
	var until *time.Time
	if err := db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		n, until, err = tx.SignInFailures(context.Background(), tenant, login)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n, until
}

// TestAPITokenLifetime: a token with an expiry works until then and is
// then refused exactly like a revoked one; a request authenticated by a
// token cannot create tokens; a password change ends the admin's sessions.
func TestAPITokenLifetime(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		clock := apiUseClock(e)
		admin := e.signIn("admin")
		type created struct {
			Token string      `json:"token"`
			Info  store.Token `json:"info"`
		}
		exp := testNow.Add(24 * time.Hour)
		st, body := apiSend(admin, "POST", apiAcme+"/tokens", map[string]any{"name": "a day", "expires_at": exp})
		if !apiExpect(t, "create a token that expires", st, body, "201") {
			t.FailNow()
		}
		tok := apiDecode[created](t, body)
		if tok.Info.ExpiresAt == nil || !tok.Info.ExpiresAt.Equal(exp) {
			t.Errorf("the token's expiry: %v, want %v", tok.Info.ExpiresAt, exp)
		}
		bearer := e.anon()
		bearer.token = tok.Token

		// A token cannot make tokens, with or without an expiry.
		before := apiState(e)
		for _, b := range []any{map[string]any{"name": "child"}, map[string]any{"name": "child", "expires_at": exp}} {
			st, body = apiSend(bearer, "POST", apiAcme+"/tokens", b)
			apiExpect(t, "a token creates a token", st, body, "403 token_cannot_create_tokens")
		}
		apiUnchanged(t, e, "a token creating tokens", before)

		for _, tc := range []struct {
			name string
			body any
			want string
		}{
			{"an expiry in the past", map[string]any{"name": "x", "expires_at": testNow.Add(-time.Second)}, "422 invalid_expiry"},
			{"an expiry now", map[string]any{"name": "x", "expires_at": testNow}, "422 invalid_expiry"},
			{"an expiry ten years away", map[string]any{"name": "x", "expires_at": testNow.Add(10 * 366 * 24 * time.Hour)}, "422 invalid_expiry"},
			{"an expiry that is not a time", map[string]any{"name": "x", "expires_at": "tomorrow"}, "400 bad_request"},
		} {
			st, body := apiSend(admin, "POST", apiAcme+"/tokens", tc.body)
			apiExpect(t, tc.name, st, body, tc.want)
			apiUnchanged(t, e, tc.name, before)
		}

		st, body = bearer.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "the token before it expires", st, body, "200")
		revoked := e.withToken("acme", "admin")
		if err := e.eng.RevokeToken(context.Background(), apiAcmeAdmin, revoked.token[len(engine.TokenPrefix):strings.IndexByte(revoked.token, '.')]); err != nil {
			t.Fatal(err)
		}
		_, revokedBody := revoked.raw("GET", apiAcme+"/accounts", "", nil)
		clock.add(24*time.Hour - time.Millisecond)
		st, body = bearer.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "the token a millisecond before it expires", st, body, "200")
		clock.add(time.Millisecond)
		st, body = bearer.raw("GET", apiAcme+"/accounts", "", nil)
		if apiExpect(t, "the token once expired", st, body, "401 bad_token") && !bytes.Equal(body, revokedBody) {
			t.Errorf("an expired token answers %s; want exactly what a revoked one gets: %s", body, revokedBody)
		}

		// A password change ends the admin's sessions, not others'.
		clock.set(testNow)
		admin = e.signIn("admin")
		editor := e.signIn("editor")
		if err := e.eng.SetPassword(context.Background(), "acme", "admin", "a brand new password"); err != nil {
			t.Fatal(err)
		}
		st, body = admin.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "admin's session after the password change", st, body, "401 no_session")
		st, body = editor.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "editor's session after admin's password change", st, body, "200")
	})
}

// TestUISignInNamesTenant: the sign-in page asks for the tenant, filled in
// from the page it returns to; the shared login signed in to globex opens
// globex only, and acme's pages send it to acme's sign-in.
func TestUISignInNamesTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		signInShared(t, e)
		c := e.uiClient()
		form := c.get("/ui/signin?next=" + url.QueryEscape("/ui/t/globex/merges"))
		if !strings.Contains(form.body, `id="tenant" name="tenant" type="text" value="globex"`) {
			t.Errorf("the sign-in page on the way to a globex page does not offer globex:\n%s", form.body)
		}
		a := c.post("/ui/signin", url.Values{"csrf_token": {csrfOf(t, form.body)}, "tenant": {"globex"}, "login": {"shared"},
			"password": {testPassword}, "next": {"/ui/t/globex/merges"}})
		if a.status != http.StatusSeeOther || a.location != "/ui/t/globex/merges" {
			t.Fatalf("sign in to globex: %d to %q", a.status, a.location)
		}
		if a := c.get("/ui/t/globex/merges"); a.status != http.StatusOK {
			t.Errorf("globex's merge list: %d", a.status)
		}
		a = c.get("/ui/t/acme/merges")
		if a.status != http.StatusSeeOther || a.location != "/ui/signin?next="+url.QueryEscape("/ui/t/acme/merges") {
			t.Errorf("acme's merge list with a globex session of the shared login: %d to %q; want acme's sign-in", a.status, a.location)
		}
		if form := c.get(a.location); !strings.Contains(form.body, `value="acme"`) {
			t.Errorf("the sign-in page for acme does not offer acme:\n%s", form.body)
		}
	})
}
