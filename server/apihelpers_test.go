package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// Helpers shared by the HTTP API tests (api_test.go, authz_test.go,
// auth_test.go, refusal_test.go, lifecycle_test.go), on top of the harness.

const apiAcme = "/api/v1/tenants/acme"

var (
	apiAcmeAdmin   = engine.Caller{Tenant: "acme", Admin: "admin"}
	apiGlobexAdmin = engine.Caller{Tenant: "globex", Admin: "gadmin"}
)

// apiClock is an engine clock the test can move. Install it with apiUseClock
// right after newEnv, before the first request.
type apiClock struct{ ms atomic.Int64 }

func apiUseClock(e *env) *apiClock {
	c := &apiClock{}
	c.set(testNow)
	e.db.Now = func() time.Time { return time.UnixMilli(c.ms.Load()).UTC() }
	return c
}

func (c *apiClock) set(t time.Time)     { c.ms.Store(t.UnixMilli()) }
func (c *apiClock) add(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func (c *apiClock) now() time.Time      { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *apiClock) setDay(day string)   { c.set(apiTime(day + "T10:00:00Z")) }
func apiTime(s string) time.Time        { t, _ := time.Parse(time.RFC3339, s); return t }

// send sends a JSON body (nil: none; a string or []byte: sent as is) and
// returns the status and the raw answer.
func apiSend(c *client, method, path string, body any) (int, []byte) {
	c.e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.e.t.Fatal(err)
		}
	}
	return c.raw(method, path, "application/json", b)
}

// decodeAs decodes a JSON answer, failing the test when it is not one.
func apiDecode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer is not the expected JSON (%v): %s", err, body)
	}
	return v
}

// outcome renders a status and, for error answers, the reason: "200",
// "403 no_merge_permission". Tables compare against it.
func apiOutcome(st int, body []byte) string {
	if st < 400 {
		return fmt.Sprint(st)
	}
	var e ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Reason == "" {
		return fmt.Sprintf("%d (not an error body: %.200s)", st, body)
	}
	return fmt.Sprintf("%d %s", st, e.Error.Reason)
}

// expect checks an answer's outcome (see outcome) and reports label on a
// mismatch. It returns whether it matched.
func apiExpect(t *testing.T, label string, st int, body []byte, want string) bool {
	t.Helper()
	if got := apiOutcome(st, body); got != want {
		t.Errorf("%s: got %s, want %s; body: %.600s", label, got, want, body)
		return false
	}
	if st >= 400 {
		if m := codeInMessage.FindString(errorMessageOf(body)); m != "" {
			t.Errorf("%s: the message reads as code (%q): %s", label, m, body)
		}
	}
	return true
}

// codeInMessage finds what a person should never read in a message: Go's
// list syntax ([5], [2 7]), "(s)" plurals, capitalised demo logins.
var codeInMessage = regexp.MustCompile(`\[\d|\w\(s\)|\b[A-Z][a-z0-9]*\.login\b`)

func errorMessageOf(body []byte) string {
	var e ErrorBody
	json.Unmarshal(body, &e)
	return e.Error.Message
}

// apiMergeAnswer is the body of POST /merges.
type apiMergeAnswer struct {
	Merges []usermerge.Merge `json:"merges"`
}

// apiMerge merges over HTTP and returns the new merge ids.
func apiMerge(t *testing.T, c *client, target string, sources ...string) []int64 {
	t.Helper()
	st, b := apiSend(c, "POST", apiAcme+"/merges", MergeBody{Target: target, Sources: sources})
	if st != http.StatusCreated {
		t.Fatalf("merge %v into %s: %s", sources, target, apiOutcome(st, b))
	}
	var ids []int64
	for _, m := range apiDecode[apiMergeAnswer](t, b).Merges {
		ids = append(ids, m.ID)
	}
	return ids
}

// apiListIDs returns the ids of a merge list page, in order, and its total.
func apiListIDs(t *testing.T, c *client, query string) ([]int64, int64) {
	t.Helper()
	st, b := c.raw("GET", apiAcme+"/merges"+query, "", nil)
	if st != http.StatusOK {
		t.Fatalf("GET merges%s: %s", query, apiOutcome(st, b))
	}
	p := apiDecode[usermerge.MergePage](t, b)
	ids := []int64{}
	for _, m := range p.Merges {
		ids = append(ids, m.ID)
	}
	return ids, p.Total
}

// state is snapshotAll plus what it leaves out but a forbidden call must
// not change either: admins and their sign-in failures, API tokens
// (without their last use) and sessions.
func apiState(e *env) map[string][]string {
	e.t.Helper()
	out := e.snapshotAll()
	extra := map[string]string{
		"admins":          `SELECT tenant_id, id, login, name, role, COALESCE(account_id, ''), password_hash FROM admins`,
		"signin_throttle": `SELECT tenant_id, login, failures, COALESCE(locked_until, 0) FROM signin_throttle`,
		"api_tokens":      `SELECT tenant_id, id, admin_id, name, hash, created_at, COALESCE(revoked_at, 0) FROM api_tokens`,
		"sessions":        `SELECT tenant_id, id_hash, admin_id, csrf, created_at, expires_at FROM sessions`,
	}
	err := e.db.View(context.Background(), func(tx *store.Tx) error {
		for table, q := range extra {
			lines, err := storetest.Lines(context.Background(), tx, q)
			if err != nil {
				return err
			}
			out[table] = lines
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// unchanged reports label when the database differs from before.
func apiUnchanged(t *testing.T, e *env, label string, before map[string][]string) {
	t.Helper()
	if d := cmp.Diff(before, apiState(e)); d != "" {
		t.Errorf("%s changed the database (-before +after):\n%s", label, d)
	}
}

// do sends a request with full control over headers (no cookie jar) and
// returns the response with its body read.
func apiDo(t *testing.T, e *env, method, path string, hdr http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// apiLinkAdmin makes an administrator of acme who is also the learner account
// account (admins are never merged away or deleted).
func apiLinkAdmin(t *testing.T, e *env, account string) {
	t.Helper()
	err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
		return tx.PutAdmin(context.Background(), usermerge.Admin{TenantID: "acme", ID: "a-" + account, Login: "learner-admin-" + account,
			Role: usermerge.GroupManager, AccountID: account, Scopes: []usermerge.Scope{{GroupID: "eng", Right: usermerge.RightView}}}, "")
	})
	if err != nil {
		t.Fatal(err)
	}
}
