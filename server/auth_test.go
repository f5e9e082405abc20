package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

func apiSignInBody(login, password string) []byte {
	return apiSignInBodyTo(fixtureTenantOf(login), login, password)
}

func apiSignInBodyTo(tenant, login, password string) []byte {
	b, _ := json.Marshal(map[string]string{"tenant": tenant, "login": login, "password": password})
	return b
}

var apiJSONHeader = http.Header{"Content-Type": {"application/json"}}

// TestAPISession: sign-in sets an HttpOnly, SameSite=Lax session cookie for
// the whole site; who-am-I answers with the session; sign-out ends it, after
// which the same cookie no longer works anywhere.
func TestAPISession(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		clock := apiUseClock(e)
		resp, body := apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, apiSignInBody("admin", testPassword))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign in: %s", apiOutcome(resp.StatusCode, body))
		}
		var ck *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == SessionCookie {
				ck = c
			}
		}
		if ck == nil || ck.Value == "" {
			t.Fatalf("sign in set no session cookie: %v", resp.Header["Set-Cookie"])
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
			t.Errorf("cookie flags: HttpOnly %v, SameSite %v, Path %q, Secure %v; want HttpOnly, Lax, /, not Secure (plain HTTP)",
				ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
		}
		if want := int(engine.SessionLifetime.Seconds()); ck.MaxAge != want {
			t.Errorf("cookie Max-Age %d, want %d", ck.MaxAge, want)
		}
		in := apiDecode[engine.SignedIn](t, body)
		if in.Login != "admin" || len(in.Tenants) != 1 || in.Tenants[0] != "acme" || in.CSRF == "" || !in.Expires.Equal(testNow.Add(engine.SessionLifetime)) {
			t.Errorf("sign-in answer: %+v", in)
		}
		if strings.Contains(string(body), ck.Value) {
			t.Errorf("the sign-in answer repeats the cookie's secret: %s", body)
		}

		withCookie := http.Header{"Cookie": {SessionCookie + "=" + ck.Value}}
		resp, body = apiDo(t, e, "GET", "/api/v1/session", withCookie, nil)
		apiExpect(t, "who am I", resp.StatusCode, body, "200")
		who := apiDecode[sessionInfo](t, body)
		if who.Login != "admin" || len(who.Tenants) != 1 || who.Tenants[0] != "acme" || who.CSRF != in.CSRF {
			t.Errorf("who am I: %+v, want admin in [acme] with the sign-in's CSRF token", who)
		}
		resp, body = apiDo(t, e, "GET", apiAcme+"/accounts/S", withCookie, nil)
		apiExpect(t, "GET account with the cookie", resp.StatusCode, body, "200")

		// Sign-out needs the cookie, ends the session and clears the cookie.
		resp, body = apiDo(t, e, "DELETE", "/api/v1/session", nil, nil)
		apiExpect(t, "sign out without a cookie", resp.StatusCode, body, "401 no_credentials")
		resp, body = apiDo(t, e, "DELETE", "/api/v1/session", withCookie, nil)
		apiExpect(t, "sign out", resp.StatusCode, body, "204")
		cleared := false
		for _, c := range resp.Cookies() {
			if c.Name == SessionCookie && c.Value == "" && c.MaxAge < 0 {
				cleared = true
			}
		}
		if !cleared {
			t.Errorf("sign-out did not clear the cookie: %v", resp.Header["Set-Cookie"])
		}
		for _, r := range []struct{ method, path, want string }{
			{"GET", "/api/v1/session", "401 no_session"},
			{"GET", apiAcme + "/accounts/S", "401 no_session"},
			{"GET", apiAcme + "/merges", "401 no_session"},
		} {
			resp, body = apiDo(t, e, r.method, r.path, withCookie, nil)
			apiExpect(t, r.method+" "+r.path+" with the signed-out cookie", resp.StatusCode, body, r.want)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: a 401 without WWW-Authenticate", r.method, r.path)
			}
		}
		resp, body = apiDo(t, e, "GET", "/api/v1/session", nil, nil)
		apiExpect(t, "who am I without a cookie", resp.StatusCode, body, "401 no_credentials")

		// A session signed in elsewhere is not this tenant's.
		g := e.signIn("gadmin")
		st, body := g.raw("GET", "/api/v1/session", "", nil)
		if apiExpect(t, "who am I (gadmin)", st, body, "200") {
			if who := apiDecode[sessionInfo](t, body); who.Login != "gadmin" || len(who.Tenants) != 1 || who.Tenants[0] != "globex" {
				t.Errorf("who am I (gadmin): %+v", who)
			}
		}

		// A session ends after its lifetime.
		c := e.signIn("admin")
		clock.add(engine.SessionLifetime - time.Millisecond)
		st, body = c.raw("GET", apiAcme+"/accounts/S", "", nil)
		apiExpect(t, "GET account just before the session ends", st, body, "200")
		clock.add(time.Millisecond)
		st, body = c.raw("GET", apiAcme+"/accounts/S", "", nil)
		apiExpect(t, "GET account once the session ended", st, body, "401 no_session")
		st, body = c.raw("GET", "/api/v1/session", "", nil)
		apiExpect(t, "who am I once the session ended", st, body, "401 no_session")

		// Malformed sign-ins are 400; wrong ones 401, with no cookie.
		for _, tc := range []struct{ name, body, want string }{
			{"empty body", "", "400 bad_request"},
			{"not JSON", "login=admin", "400 bad_request"},
			{"unknown field", `{"login":"admin","password":"x","remember":true}`, "400 bad_request"},
			{"wrong type", `{"login":"admin","password":12}`, "400 bad_request"},
			{"wrong password", string(apiSignInBody("admin", "wrong password!")), "401 bad_credentials"},
			{"empty password", string(apiSignInBody("admin", "")), "401 bad_credentials"},
		} {
			resp, body := apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, []byte(tc.body))
			apiExpect(t, "sign in with "+tc.name, resp.StatusCode, body, tc.want)
			if len(resp.Cookies()) > 0 {
				t.Errorf("sign in with %s set a cookie: %v", tc.name, resp.Header["Set-Cookie"])
			}
		}
	})
}

// TestAPISignInThrottle: from the third attempt in a row, a tenant's login
// is locked out for a time that doubles with each further failure. A
// locked-out login, a wrong password, an unknown login and an unknown
// tenant all get the same answer, byte for byte; unknown logins are
// counted and locked out like known ones; a sign-in resets the count.
func TestAPISignInThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		clock := apiUseClock(e)
		signInTo := func(tenant, login, password string) (int, []byte) {
			resp, body := apiDo(t, e, "POST", "/api/v1/session", apiJSONHeader, apiSignInBodyTo(tenant, login, password))
			return resp.StatusCode, body
		}
		signIn := func(login, password string) (int, []byte) { return signInTo("acme", login, password) }
		st, wrongPassword := signIn("admin", "not the password")
		apiExpect(t, "wrong password 1", st, wrongPassword, "401 bad_credentials")
		same := func(label string, st int, body []byte) {
			t.Helper()
			if st != http.StatusUnauthorized || !bytes.Equal(body, wrongPassword) {
				t.Errorf("%s answers %d %s; want exactly the answer to a wrong password: %s", label, st, body, wrongPassword)
			}
		}
		st, body := signIn("nobody", "not the password")
		same("a wrong login", st, body)
		st, body = signInTo("nowhere", "admin", testPassword)
		same("an unknown tenant", st, body)
		for i := 2; i <= 3; i++ {
			st, body := signIn("admin", "not the password")
			same("wrong password", st, body)
		}
		// Three failures: locked out for a second, even with the right
		// password, and the answer says nothing more than a wrong password's.
		st, body = signIn("admin", testPassword)
		same("the right password while locked out", st, body)
		st, body = signIn("admin", "not the password")
		same("a wrong password while locked out", st, body)
		// Others are not locked out.
		st, body = signIn("editor", testPassword)
		apiExpect(t, "another admin while admin is locked out", st, body, "200")

		// An unknown login is counted and locked out like a known one.
		for i := 2; i <= 3; i++ {
			st, body := signIn("nobody", "not the password")
			same("a wrong login again", st, body)
		}
		if n, until := apiThrottle(t, e, "acme", "nobody"); n != 3 || until == nil || !until.Equal(testNow.Add(time.Second)) {
			t.Errorf("the unknown login's throttle: %d failures, locked until %v; want 3, locked for 1 s", n, until)
		}

		clock.add(999 * time.Millisecond)
		st, body = signIn("admin", testPassword)
		same("the right password 999 ms into a 1 s lockout", st, body)
		clock.add(time.Millisecond)
		st, body = signIn("admin", testPassword)
		apiExpect(t, "right password once the lockout passed", st, body, "200")

		// The sign-in reset the count: two failures do not lock out.
		for i := 1; i <= 2; i++ {
			st, body = signIn("admin", "not the password")
			same("a wrong password after a sign-in", st, body)
		}
		st, body = signIn("admin", testPassword)
		apiExpect(t, "right password after two failures", st, body, "200")

		// The lockout doubles: the fourth failure locks out for 2 s.
		for i := 1; i <= 3; i++ {
			signIn("admin", "not the password")
		}
		clock.add(time.Second)
		st, body = signIn("admin", "not the password") // the fourth failure
		same("the fourth wrong password", st, body)
		clock.add(1999 * time.Millisecond)
		st, body = signIn("admin", testPassword)
		same("the right password 1.999 s into a 2 s lockout", st, body)
		clock.add(time.Millisecond)
		st, body = signIn("admin", testPassword)
		apiExpect(t, "right password once the 2 s lockout passed", st, body, "200")
	})
}

// TestAPITokens: a token is shown once, works as a bearer token without a
// CSRF token, is listed without its secret, and answers 401 once revoked.
func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		editor := e.signIn("editor")
		type created struct {
			Token string      `json:"token"`
			Info  store.Token `json:"info"`
			Note  string      `json:"note"`
		}
		st, body := apiSend(admin, "POST", apiAcme+"/tokens", map[string]string{"name": "nightly sync"})
		if !apiExpect(t, "create token", st, body, "201") {
			t.FailNow()
		}
		tok := apiDecode[created](t, body)
		if !strings.HasPrefix(tok.Token, engine.TokenPrefix+tok.Info.ID+".") || tok.Info.Name != "nightly sync" || tok.Info.Admin != "admin" ||
			tok.Info.RevokedAt != nil || !tok.Info.CreatedAt.Equal(testNow) || tok.Note == "" {
			t.Errorf("created token: %+v", tok)
		}
		secret := tok.Token[strings.IndexByte(tok.Token, '.')+1:]

		st, body = editor.raw("POST", apiAcme+"/tokens", "application/json", []byte(`{"name":"editor's"}`))
		apiExpect(t, "editor creates a token", st, body, "201")
		edTok := apiDecode[created](t, body)

		listOf := func(c *client) []store.Token {
			st, body := c.raw("GET", apiAcme+"/tokens", "", nil)
			apiExpect(t, "list tokens", st, body, "200")
			if strings.Contains(string(body), secret) || strings.Contains(string(body), `"hash"`) {
				t.Errorf("the token list shows a secret: %s", body)
			}
			return apiDecode[struct {
				Tokens []store.Token `json:"tokens"`
			}](t, body).Tokens
		}
		if l := listOf(admin); len(l) != 2 {
			t.Errorf("the tenant admin sees %d tokens, want 2 (everyone's): %+v", len(l), l)
		}
		if l := listOf(editor); len(l) != 1 || l[0].ID != edTok.Info.ID {
			t.Errorf("the editor sees %+v, want only their own token", l)
		}

		bearer := e.anon()
		bearer.token = tok.Token
		st, body = bearer.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "GET accounts with the token", st, body, "200")
		st, body = bearer.raw("POST", apiAcme+"/accounts/S/deactivate", "", nil)
		apiExpect(t, "POST deactivate with the token, no CSRF", st, body, "200")
		st, body = bearer.raw("GET", "/api/v1/tenants/globex/accounts", "", nil)
		apiExpect(t, "the acme token on globex", st, body, "401 bad_token")

		tampered := tok.Token[:len(tok.Token)-1] + "A"
		if strings.HasSuffix(tok.Token, "A") {
			tampered = tok.Token[:len(tok.Token)-1] + "B"
		}
		for _, tc := range []struct{ name, header string }{
			{"another scheme", "Basic " + tok.Token},
			{"a tampered secret", "Bearer " + tampered},
			{"no secret", "Bearer " + engine.TokenPrefix + tok.Info.ID},
			{"garbage", "Bearer garbage"},
		} {
			resp, body := apiDo(t, e, "GET", apiAcme+"/accounts", http.Header{"Authorization": {tc.header}}, nil)
			apiExpect(t, "token with "+tc.name, resp.StatusCode, body, "401 bad_token")
		}

		before := apiState(e)
		for _, tc := range []struct {
			name string
			c    *client
			path string
			body any
			want string
		}{
			{"the editor revokes the admin's token", editor, "/tokens/" + tok.Info.ID, nil, "403 not_your_token"},
			{"revoke an unknown token", admin, "/tokens/nosuchtoken", nil, "404 not_found"},
			{"create a token without a name", admin, "/tokens", map[string]string{"name": " "}, "422 invalid_name"},
			{"create a token with a long name", admin, "/tokens", map[string]string{"name": strings.Repeat("n", 101)}, "422 invalid_name"},
			{"create a token with no body", admin, "/tokens", "", "400 bad_request"},
		} {
			method := "POST"
			if strings.HasPrefix(tc.path, "/tokens/") {
				method = "DELETE"
			}
			st, body := apiSend(tc.c, method, apiAcme+tc.path, tc.body)
			apiExpect(t, tc.name, st, body, tc.want)
			apiUnchanged(t, e, tc.name, before)
		}

		st, body = admin.raw("DELETE", apiAcme+"/tokens/"+tok.Info.ID, "", nil)
		apiExpect(t, "revoke the token", st, body, "204")
		st, body = bearer.raw("GET", apiAcme+"/accounts", "", nil)
		apiExpect(t, "GET accounts with the revoked token", st, body, "401 bad_token")
		for _, l := range listOf(admin) {
			if l.ID == tok.Info.ID && (l.RevokedAt == nil || !l.RevokedAt.Equal(testNow)) {
				t.Errorf("the revoked token is listed as %+v", l)
			}
		}
		st, body = editor.raw("DELETE", apiAcme+"/tokens/"+edTok.Info.ID, "", nil)
		apiExpect(t, "the editor revokes their own token", st, body, "204")
	})
}

// TestAPIInternalErrorsHidden: when the database fails, every answer is a
// 500 whose message is exactly "internal error".
func TestAPIInternalErrorsHidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		session := e.signIn("admin")
		token := e.withToken("acme", "admin")
		e.db.Close()
		for _, r := range []struct {
			name   string
			c      *client
			method string
			path   string
			body   any
		}{
			{"session", session, "GET", apiAcme + "/accounts", nil},
			{"session", session, "POST", apiAcme + "/merges", MergeBody{Target: "T", Sources: []string{"S"}}},
			{"token", token, "GET", apiAcme + "/merges/1", nil},
			{"token", token, "POST", apiAcme + "/merges/revert", RevertBody{Merges: []int64{1}}},
			{"token", token, "GET", apiAcme + "/export", nil},
			{"no credentials", e.anon(), "POST", "/api/v1/session", map[string]string{"tenant": "acme", "login": "admin", "password": testPassword}},
		} {
			label := r.name + ": " + r.method + " " + r.path
			st, body := apiSend(r.c, r.method, r.path, r.body)
			if st != http.StatusInternalServerError {
				t.Errorf("%s: status %d, want 500: %s", label, st, body)
				continue
			}
			got := errorOf(t, body)
			if got.Error.Message != "internal error" || got.Error.Code != "internal" || got.Error.Reason != "internal" {
				t.Errorf("%s: error %+v, want code and reason internal, message \"internal error\"", label, got.Error)
			}
			for _, leak := range []string{"sql", "closed", "database", "SELECT", "sqlite", "pgx"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("%s: the answer shows internal text %q: %s", label, leak, body)
				}
			}
		}
		resp, body := apiDo(t, e, "GET", "/healthz", nil, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "closed") {
			t.Errorf("health with the database closed: %d %s", resp.StatusCode, body)
		}
	})
}

// TestAPIOpenAPIAndUnknownRoutes: the OpenAPI document is public JSON; an
// unknown API path is a JSON 404.
func TestAPIOpenAPIAndUnknownRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		resp, body := apiDo(t, e, "GET", "/api/v1/openapi.json", nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			!json.Valid(body) || !bytes.Equal(body, OpenAPI) {
			t.Errorf("openapi.json: %d %q, %d bytes, valid JSON %v", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), json.Valid(body))
		}
		for _, p := range []string{"/api/v1/nope", apiAcme + "/nope", apiAcme + "/merges/1/undo"} {
			resp, body := apiDo(t, e, "GET", p, nil, nil)
			apiExpect(t, "GET "+p, resp.StatusCode, body, "404 no_such_endpoint")
		}
	})
}

// apiThrottle reads the counted sign-in attempts of a tenant's login.
func apiThrottle(t *testing.T, e *env, tenant, login string) (int, *time.Time) {
	t.Helper()
	var n int
	var until *time.Time
	if err := e.db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		n, until, err = tx.SignInFailures(context.Background(), tenant, login)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n, until
}
