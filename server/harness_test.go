package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// The HTTP tests run against the real server on a small fixture:
//
//	tenant acme (learningbox):  root ── sales ── east      accounts T, S, S2, S3 (east), E1, E2 (eng)
//	                                 └─ eng
//	  admins: admin (tenant administrator), editor (edit over sales),
//	          viewer (view over eng, and view over sales)
//	tenant globex (schoox): its own admin "gadmin" and accounts G1, G2
//
// Every admin's password is testPassword.
const testPassword = "correct horse battery"

var testHash = sync.OnceValue(func() string {
	h, err := usermerge.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	t    *testing.T
	db   *store.DB
	eng  *engine.Engine
	srv  *httptest.Server
	base string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Open(t)
	db.Now = func() time.Time { return testNow }
	e := &env{t: t, db: db, eng: engine.New(db, nil)}
	seedHTTPFixture(t, db)
	e.srv = httptest.NewServer(New(Config{Engine: e.eng}).Handler())
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	return e
}

func seedHTTPFixture(t *testing.T, db *store.DB) {
	ctx := context.Background()
	day := func(n int) int64 { return testNow.Add(-time.Duration(n) * 24 * time.Hour).UnixMilli() }
	err := db.Transact(ctx, func(tx *store.Tx) error {
		for _, tn := range []usermerge.Tenant{{ID: "acme", Name: "Acme", Policy: usermerge.Presets["learningbox"]},
			{ID: "globex", Name: "Globex", Policy: usermerge.Presets["schoox"]}} {
			if err := tx.PutTenant(ctx, tn); err != nil {
				return err
			}
		}
		for _, g := range []usermerge.Group{{TenantID: "acme", ID: "root", Name: "Company"}, {TenantID: "acme", ID: "sales", Name: "Sales", ParentID: "root"},
			{TenantID: "acme", ID: "east", Name: "Sales East", ParentID: "sales"}, {TenantID: "acme", ID: "eng", Name: "Engineering", ParentID: "root"},
			{TenantID: "globex", ID: "groot", Name: "Globex"}} {
			if err := tx.PutGroup(ctx, g); err != nil {
				return err
			}
		}
		accounts := map[string][]string{"east": {"T", "S", "S2", "S3"}, "eng": {"E1", "E2"}, "groot": {"G1", "G2"}}
		for group, ids := range accounts {
			tenant := "acme"
			if group == "groot" {
				tenant = "globex"
			}
			for _, id := range ids {
				if err := tx.PutAccount(ctx, usermerge.Account{TenantID: tenant, ID: id, Login: strings.ToLower(id) + ".login", Email: strings.ToLower(id) + "@example.test",
					Name: "Learner " + id, Status: usermerge.Active, CreatedAt: testNow.Add(-500 * 24 * time.Hour)}); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, tenant, id, group); err != nil {
					return err
				}
			}
		}
		for _, a := range []usermerge.Admin{
			{TenantID: "acme", ID: "a1", Login: "admin", Role: usermerge.TenantAdmin},
			{TenantID: "acme", ID: "a2", Login: "editor", Role: usermerge.GroupManager, Scopes: []usermerge.Scope{{GroupID: "sales", Right: usermerge.RightEdit}}},
			{TenantID: "acme", ID: "a3", Login: "viewer", Role: usermerge.GroupManager, Scopes: []usermerge.Scope{{GroupID: "eng", Right: usermerge.RightView}, {GroupID: "sales", Right: usermerge.RightView}}},
			{TenantID: "globex", ID: "g1", Login: "gadmin", Role: usermerge.TenantAdmin},
		} {
			if err := tx.PutAdmin(ctx, a, testHash()); err != nil {
				return err
			}
		}
		recs := []string{
			`INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES ('acme', 'si1', 'S', %d, '10.0.0.1', 'web'), ('acme', 'si2', 'T', %d, '10.0.0.2', 'app'), ('globex', 'gsi', 'G2', %d, '10.0.0.3', 'web')`,
			`INSERT INTO badges (tenant_id, id, account_id, badge_id, acquired_at) VALUES ('acme', 'b1', 'S', 'gold', %d), ('acme', 'b2', 'T', 'gold', %d), ('acme', 'b3', 'S2', 'gold', %d)`,
			`INSERT INTO attempts (tenant_id, id, account_id, content_id, content_type, attempt_no, score, max_score, started_at) VALUES ('acme', 'at1', 'S', 'q1', 'quiz', 1, 5, 10, %d), ('acme', 'at2', 'T', 'q1', 'quiz', 1, 7, 10, %d), ('acme', 'at3', 'E2', 'q1', 'quiz', 1, 7, 10, %d)`,
		}
		for _, q := range recs {
			if _, err := tx.Exec(ctx, fmt.Sprintf(q, day(3), day(5), day(40))); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO external_ids (tenant_id, id, account_id, system, value) VALUES ('acme', 'x1', 'S', 'sso', 'SSO-S')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// client talks to the server as one person or program.
type client struct {
	e     *env
	hc    *http.Client
	csrf  string
	token string
}

// anon is a client with no credentials.
func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}}
}

// fixtureTenantOf is the tenant of a fixture admin's login.
func fixtureTenantOf(login string) string {
	if strings.HasPrefix(login, "g") {
		return "globex"
	}
	return "acme"
}

// signIn signs login in to its fixture tenant with the test password and
// fails the test otherwise.
func (e *env) signIn(login string) *client {
	e.t.Helper()
	return e.signInTo(fixtureTenantOf(login), login)
}

// signInTo signs login in to tenant with the test password.
func (e *env) signInTo(tenant, login string) *client {
	e.t.Helper()
	c := e.anon()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if st := c.call("POST", "/api/v1/session", map[string]string{"tenant": tenant, "login": login, "password": testPassword}, &out); st != http.StatusOK {
		e.t.Fatalf("sign in %s to %s: status %d", login, tenant, st)
	}
	c.csrf = out.CSRF
	return c
}

// withToken is a client using a fresh API token of login in tenant.
func (e *env) withToken(tenant, login string) *client {
	e.t.Helper()
	secret, _, err := e.eng.CreateToken(context.Background(), engine.Caller{Tenant: tenant, Admin: login}, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := e.anon()
	c.token = secret
	return c
}

// raw sends a request with a raw body and returns status and body.
func (c *client) raw(method, path, contentType string, body []byte) (int, []byte) {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.base+path, bytes.NewReader(body))
	if err != nil {
		c.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// call sends JSON (body nil: none) and decodes the JSON answer into out
// (out nil: ignored). It returns the status.
func (c *client) call(method, path string, body, out any) int {
	c.e.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			c.e.t.Fatal(err)
		}
	}
	st, resp := c.raw(method, path, "application/json", b)
	if out != nil && len(resp) > 0 {
		if err := json.Unmarshal(resp, out); err != nil {
			c.e.t.Fatalf("%s %s: answer is not JSON (%v): %s", method, path, err, resp)
		}
	}
	return st
}

// errorOf decodes an error answer.
func errorOf(t *testing.T, body []byte) ErrorBody {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error answer: %s", body)
	}
	return e
}

// snapshotAll renders every table of the database (bookkeeping included,
// sessions and tokens' last use excluded), so a call that must change
// nothing can be checked.
func (e *env) snapshotAll() map[string][]string {
	e.t.Helper()
	var tables []string
	for _, table := range append(store.DataTables(), store.JournalTables()...) {
		if table != "admins" { // failed sign-ins are counted there
			tables = append(tables, table)
		}
	}
	var out map[string][]string
	err := e.db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = storetest.Snapshot(context.Background(), tx, tables, "")
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
