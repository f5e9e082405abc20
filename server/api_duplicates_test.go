package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// The duplicates API and screens are tested on the demo data, whose
// duplicate groups the finder suggests, after one full detection run.

// newDupEnv is a server on a copy of the demo data with every demo
// administrator's password set and a finished detection run in acme and
// globex.
func newDupEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	db.Now = func() time.Time { return testNow }
	sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, eng: engine.New(db, nil)}
	for _, tn := range sum.Tenants {
		for _, a := range tn.Admins {
			if err := e.eng.SetPassword(ctx, tn.ID, a.Login, demo.DemoPassword); err != nil {
				t.Fatal(err)
			}
		}
		run, err := e.eng.Detect(ctx, engine.Caller{Tenant: tn.ID, Admin: "admin"}, engine.DetectOptions{Full: true}, nil)
		if err != nil || run.Status != usermerge.RunDone {
			t.Fatalf("detection in %s: %v (%+v)", tn.ID, err, run)
		}
	}
	srv := New(Config{Engine: e.eng})
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		srv.Close()
	})
	e.base = e.srv.URL
	return e
}

// demoSignIn signs a demo administrator in with the demo password.
func (e *env) demoSignIn(tenant, login string) *client {
	e.t.Helper()
	c := e.anon()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if st := c.call("POST", "/api/v1/session", map[string]string{"tenant": tenant, "login": login, "password": demo.DemoPassword}, &out); st != http.StatusOK {
		e.t.Fatalf("sign in %s to %s: status %d", login, tenant, st)
	}
	c.csrf = out.CSRF
	return c
}

const acmeAPI = "/api/v1/tenants/acme"

func queue(t *testing.T, c *client, query string) usermerge.SuggestionPage {
	t.Helper()
	var p usermerge.SuggestionPage
	if st := c.call("GET", acmeAPI+"/duplicates"+query, nil, &p); st != http.StatusOK {
		t.Fatalf("GET duplicates%s: status %d", query, st)
	}
	return p
}

// findSuggestion is the queue's suggestion holding login, or fails.
func findSuggestion(t *testing.T, p usermerge.SuggestionPage, login string) usermerge.DuplicateSuggestion {
	t.Helper()
	for _, s := range p.Suggestions {
		for _, a := range s.Accounts {
			if a.Login == login {
				return s
			}
		}
	}
	t.Fatalf("no suggestion holds %s", login)
	return usermerge.DuplicateSuggestion{}
}

func TestDuplicatesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newDupEnv(t)
		admin := e.demoSignIn("acme", "admin")
		doc := openAPIDoc(t)
		checkShape := func(route string, status int, body []byte) {
			t.Helper()
			for _, p := range openAPICheckAnswer(doc, route, status, body) {
				t.Errorf("%s (%d): %s", route, status, p)
			}
		}
		const T = "GET /api/v1/tenants/{tenant}"

		st, body := admin.raw("GET", acmeAPI+"/duplicates?limit=500", "", nil)
		checkShape(T+"/duplicates", st, body)
		all := queue(t, admin, "?limit=500")
		if all.Total == 0 || len(all.Suggestions) != all.Total || all.Counts[match.GradeCertain] == 0 || all.Stale {
			t.Fatalf("queue: total %d, %d suggestions, counts %v, stale %v", all.Total, len(all.Suggestions), all.Counts, all.Stale)
		}
		sum := 0
		for _, g := range usermerge.Grades {
			sum += all.Counts[g]
		}
		if sum != all.Total {
			t.Errorf("counts %v add up to %d, not the total %d", all.Counts, sum, all.Total)
		}
		for i := 1; i < len(all.Suggestions); i++ {
			if all.Suggestions[i].Probability > all.Suggestions[i-1].Probability {
				t.Errorf("suggestion %d comes after a weaker one", all.Suggestions[i].ID)
			}
		}
		certain := queue(t, admin, "?grade=certain&limit=2")
		if len(certain.Suggestions) != 2 || certain.Total != all.Counts[match.GradeCertain] {
			t.Errorf("grade=certain&limit=2: %d suggestions of %d, want 2 of %d", len(certain.Suggestions), certain.Total, all.Counts[match.GradeCertain])
		}
		for _, s := range certain.Suggestions {
			if s.Grade != match.GradeCertain {
				t.Errorf("grade=certain answers suggestion %d graded %s", s.ID, s.Grade)
			}
		}
		if next := queue(t, admin, "?grade=certain&limit=2&offset=2"); len(next.Suggestions) == 0 || next.Suggestions[0].ID == certain.Suggestions[0].ID {
			t.Errorf("offset=2 does not page on")
		}

		// Refused without a change.
		before := e.dupSnapshot()
		for _, bad := range []struct {
			method, path, body string
			status             int
			reason             string
		}{
			{"GET", "/duplicates?grade=sure", "", 400, "bad_request"},
			{"GET", "/duplicates?limit=0", "", 400, "bad_request"},
			{"GET", "/duplicates?order=score", "", 400, "unknown_parameter"},
			{"GET", "/duplicates/x", "", 400, "bad_request"},
			{"GET", "/duplicates/999999", "", 404, ""},
			{"POST", "/duplicates/999999/dismiss", "", 404, ""},
			{"POST", "/dismissals", `{"a":"mgarcia"}`, 400, "bad_request"},
			{"POST", "/dismissals", `{"a":"mgarcia","b":"mgarcia"}`, 422, "same_account"},
			{"POST", "/dismissals", `{"a":"mgarcia","b":"nobody-here"}`, 404, ""},
			{"POST", "/dismissals", `{"a":"mgarcia","b":"maria.garcia","why":"x"}`, 400, "bad_request"},
			{"POST", "/duplicates/check", `{}`, 400, "bad_request"},
			{"POST", "/duplicates/check", `{"account":"mgarcia","name":"Maria"}`, 400, "bad_request"},
			{"POST", "/duplicates/check", `{"name":"Ann","attributes":{"birth_date":"1990-13-01"}}`, 422, ""},
			{"POST", "/duplicates/check", `{"account":"nobody-here"}`, 404, ""},
			{"POST", "/duplicates/runs", `{"full":"yes"}`, 400, "bad_request"},
			{"PUT", "/settings/matching", `{"fields":["name"],"certain":0.9,"probable":0.95,"possible":0.6,"max_block":200}`, 422, "invalid_rules"},
			{"PUT", "/settings/matching", `{"fields":["shoe_size"],"certain":0.999,"probable":0.95,"possible":0.6,"max_block":200}`, 422, "unknown_field"},
			{"PUT", "/settings/matching", `{"fields":["name"],"certain":0.999,"probable":0.95,"possible":0.6,"max_block":1}`, 422, "invalid_max_block"},
			{"POST", "/settings/matching/preview", `{"fields":[],"certain":0.999,"probable":0.95,"possible":0.6,"max_block":200}`, 422, "no_fields"},
			{"GET", "/dismissals?limit=501", "", 400, "bad_request"},
		} {
			var b []byte
			if bad.body != "" {
				b = []byte(bad.body)
			}
			st, got := admin.raw(bad.method, acmeAPI+bad.path, "application/json", b)
			if st != bad.status {
				t.Errorf("%s %s %s: status %d, want %d: %s", bad.method, bad.path, bad.body, st, bad.status, got)
				continue
			}
			if eb := errorOf(t, got); bad.reason != "" && eb.Error.Reason != bad.reason {
				t.Errorf("%s %s: reason %q, want %q (%s)", bad.method, bad.path, eb.Error.Reason, bad.reason, eb.Error.Message)
			}
		}
		if d := cmpSnapshots(before, e.dupSnapshot()); d != "" {
			t.Errorf("refused requests changed the database:\n%s", d)
		}

		// One suggestion, with its explanation.
		sg := findSuggestion(t, all, "maria.garcia")
		st, body = admin.raw("GET", fmt.Sprintf("%s/duplicates/%d", acmeAPI, sg.ID), "", nil)
		checkShape(T+"/duplicates/{id}", st, body)
		var one usermerge.DuplicateSuggestion
		if admin.call("GET", fmt.Sprintf("%s/duplicates/%d", acmeAPI, sg.ID), nil, &one); one.ID != sg.ID || len(one.Pairs) == 0 || len(one.Pairs[0].Evidence) == 0 || one.Keep != one.Accounts[0].ID {
			t.Fatalf("suggestion %d: %+v", sg.ID, one)
		}

		// The check of one account, existing and new.
		var cands usermerge.CandidatesAnswer
		st, body = admin.raw("POST", acmeAPI+"/duplicates/check", "application/json", []byte(`{"account":"maria.garcia"}`))
		checkShape("POST /api/v1/tenants/{tenant}/duplicates/check", st, body)
		if admin.call("POST", acmeAPI+"/duplicates/check", map[string]string{"account": "maria.garcia"}, &cands); !slices.ContainsFunc(cands.Candidates, func(c usermerge.DuplicateCandidate) bool { return c.Account.Login == "mgarcia" }) {
			t.Errorf("check maria.garcia: %+v, want mgarcia among the candidates", cands)
		}
		cands = usermerge.CandidatesAnswer{}
		admin.call("POST", acmeAPI+"/duplicates/check", map[string]any{"name": "Maria Garcia", "email": "maria.garcia@acme.test", "attributes": map[string]string{"birth_date": "1967-05-25"}}, &cands)
		if len(cands.Candidates) == 0 || cands.Candidates[0].Grade == "" {
			t.Errorf("check of a new Maria Garcia: %+v, want the Maria Garcias", cands)
		}

		// Dismissing needs the session's CSRF token; then the suggestion
		// leaves the queue and its pairs are listed.
		noCSRF := *admin
		noCSRF.csrf = ""
		before = e.dupSnapshot()
		if st, _ := noCSRF.raw("POST", fmt.Sprintf("%s/duplicates/%d/dismiss", acmeAPI, sg.ID), "", nil); st != http.StatusForbidden {
			t.Errorf("dismiss without CSRF: status %d, want 403", st)
		}
		if d := cmpSnapshots(before, e.dupSnapshot()); d != "" {
			t.Errorf("a refused dismissal changed the database:\n%s", d)
		}
		st, body = admin.raw("POST", fmt.Sprintf("%s/duplicates/%d/dismiss", acmeAPI, sg.ID), "", nil)
		checkShape("POST /api/v1/tenants/{tenant}/duplicates/{id}/dismiss", st, body)
		if st != http.StatusOK {
			t.Fatalf("dismiss: %d %s", st, body)
		}
		if st, _ := admin.raw("GET", fmt.Sprintf("%s/duplicates/%d", acmeAPI, sg.ID), "", nil); st != http.StatusNotFound {
			t.Errorf("a dismissed suggestion answers %d, want 404", st)
		}
		if after := queue(t, admin, "?limit=500"); after.Total != all.Total-1 {
			t.Errorf("after dismissing one: total %d, want %d", after.Total, all.Total-1)
		}
		other := findSuggestion(t, all, "lnowak")
		st, body = admin.raw("POST", acmeAPI+"/dismissals", "application/json", []byte(fmt.Sprintf(`{"a":%q,"b":%q}`, other.Accounts[0].Login, other.Accounts[1].Login)))
		checkShape("POST /api/v1/tenants/{tenant}/dismissals", st, body)
		var ds usermerge.DismissalsAnswer
		st, body = admin.raw("GET", acmeAPI+"/dismissals", "", nil)
		checkShape(T+"/dismissals", st, body)
		admin.call("GET", acmeAPI+"/dismissals", nil, &ds)
		if len(ds.Dismissals) < 2 || ds.Dismissals[0].By != "admin" {
			t.Errorf("dismissals: %+v, want both, by admin", ds)
		}

		// Matching rules: read, preview, save.
		var rules usermerge.MatchingRulesAnswer
		st, body = admin.raw("GET", acmeAPI+"/settings/matching", "", nil)
		checkShape(T+"/settings/matching", st, body)
		admin.call("GET", acmeAPI+"/settings/matching", nil, &rules)
		if len(rules.Rules.Fields) == 0 || rules.Rules.Certain != match.DefaultRules().Certain {
			t.Errorf("rules: %+v, want the defaults", rules.Rules)
		}
		strict := rules.Rules
		strict.Probable = 0.99
		st, body = admin.raw("POST", acmeAPI+"/settings/matching/preview", "application/json", mustJSON(t, strict))
		checkShape("POST /api/v1/tenants/{tenant}/settings/matching/preview", st, body)
		if st != http.StatusOK {
			t.Fatalf("preview: %d %s", st, body)
		}
		if st, got := e.demoSignIn("acme", "sales-editor").raw("PUT", acmeAPI+"/settings/matching", "application/json", mustJSON(t, strict)); st != http.StatusForbidden {
			t.Errorf("a group manager saving rules: %d, want 403: %s", st, got)
		}
		st, body = admin.raw("PUT", acmeAPI+"/settings/matching", "application/json", mustJSON(t, strict))
		checkShape("PUT /api/v1/tenants/{tenant}/settings/matching", st, body)
		admin.call("GET", acmeAPI+"/settings/matching", nil, &rules)
		if rules.Rules.Probable != 0.99 {
			t.Errorf("saved rules: probable %v, want 0.99", rules.Rules.Probable)
		}

		// A run in the background: 202 at once, then followed to its end.
		var run usermerge.DetectionRun
		st, body = admin.raw("POST", acmeAPI+"/duplicates/runs", "application/json", []byte(`{"full":true}`))
		checkShape("POST /api/v1/tenants/{tenant}/duplicates/runs", st, body)
		if st != http.StatusAccepted {
			t.Fatalf("start a run: %d %s", st, body)
		}
		admin.call("GET", acmeAPI+"/duplicates/runs/latest", nil, &run)
		for i := 0; run.Status == usermerge.RunRunning && i < 600; i++ {
			time.Sleep(50 * time.Millisecond)
			admin.call("GET", fmt.Sprintf("%s/duplicates/runs/%d", acmeAPI, run.ID), nil, &run)
		}
		st, body = admin.raw("GET", fmt.Sprintf("%s/duplicates/runs/%d", acmeAPI, run.ID), "", nil)
		checkShape(T+"/duplicates/runs/{id}", st, body)
		st, body = admin.raw("GET", acmeAPI+"/duplicates/runs/latest", "", nil)
		checkShape(T+"/duplicates/runs/latest", st, body)
		if run.Status != usermerge.RunDone || run.Scope != "full" || run.By != "admin" {
			t.Errorf("the background run: %+v, want done, full, by admin", run)
		}
		if p := queue(t, admin, "?limit=500"); slices.ContainsFunc(p.Suggestions, func(s usermerge.DuplicateSuggestion) bool { return s.ID == sg.ID }) {
			t.Errorf("a new run suggests the dismissed pair again")
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDuplicatesScopeAndTenants: a group manager sees only the suggestions
// wholly in their scope and gets 404 for the others; a viewer cannot
// dismiss; another tenant's administrator sees none of acme's.
func TestDuplicatesScopeAndTenants(t *testing.T) {
	e := newDupEnv(t)
	admin := e.demoSignIn("acme", "admin")
	editor := e.demoSignIn("acme", "sales-editor")
	viewer := e.demoSignIn("acme", "eng-viewer")
	all := queue(t, admin, "?limit=500")
	mine := queue(t, editor, "?limit=500")
	if mine.Total >= all.Total {
		t.Fatalf("sales-editor sees %d suggestions of %d; the demo has some outside sales", mine.Total, all.Total)
	}
	scoped := map[int64]bool{}
	for _, s := range mine.Suggestions {
		scoped[s.ID] = true
		for _, a := range s.Accounts {
			var info usermerge.AccountSummary
			if st := editor.call("GET", acmeAPI+"/accounts/"+a.ID, nil, &info); st != http.StatusOK {
				t.Errorf("sales-editor sees suggestion %d with %s, outside their scope (%d)", s.ID, a.Login, st)
			}
		}
	}
	var outside *usermerge.DuplicateSuggestion
	for i, s := range all.Suggestions {
		if !scoped[s.ID] {
			outside = &all.Suggestions[i]
			break
		}
	}
	if outside == nil {
		t.Fatal("no suggestion outside the sales scope")
	}
	before := e.dupSnapshot()
	path := fmt.Sprintf("%s/duplicates/%d", acmeAPI, outside.ID)
	if st, _ := editor.raw("GET", path, "", nil); st != http.StatusNotFound {
		t.Errorf("sales-editor opens suggestion %d outside their scope: %d, want 404", outside.ID, st)
	}
	if st, _ := editor.raw("POST", path+"/dismiss", "", nil); st != http.StatusNotFound && st != http.StatusForbidden {
		t.Errorf("sales-editor dismisses suggestion %d outside their scope: %d, want 403 or 404", outside.ID, st)
	}
	// The check of one account: one outside the scope reads as not there,
	// and a new one's candidates are all in the scope.
	if st, _ := editor.raw("POST", acmeAPI+"/duplicates/check", "application/json", []byte(fmt.Sprintf(`{"account":%q}`, outside.Accounts[0].ID))); st != http.StatusNotFound {
		t.Errorf("sales-editor checks %s outside their scope: %d, want 404", outside.Accounts[0].Login, st)
	}
	var cands usermerge.CandidatesAnswer
	editor.call("POST", acmeAPI+"/duplicates/check", map[string]string{"name": outside.Accounts[0].Name, "email": outside.Accounts[0].Email}, &cands)
	for _, c := range cands.Candidates {
		if st := editor.call("GET", acmeAPI+"/accounts/"+c.Account.ID, nil, nil); st != http.StatusOK {
			t.Errorf("sales-editor's check answers %s, outside their scope", c.Account.Login)
		}
	}
	if st, _ := viewer.raw("POST", acmeAPI+"/duplicates/runs", "", nil); st != http.StatusForbidden {
		t.Errorf("a viewer starts a run: %d, want 403", st)
	}
	if len(mine.Suggestions) > 0 {
		if st, _ := viewer.raw("POST", fmt.Sprintf("%s/duplicates/%d/dismiss", acmeAPI, mine.Suggestions[0].ID), "", nil); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("a viewer dismisses: %d, want 403 or 404", st)
		}
	}

	// globex's administrator: its own queue only, and no way into acme's.
	gadmin := e.demoSignIn("globex", "admin")
	var gp usermerge.SuggestionPage
	gadmin.call("GET", "/api/v1/tenants/globex/duplicates?limit=500", nil, &gp)
	acmeLogins := map[string]bool{}
	for _, s := range all.Suggestions {
		for _, a := range s.Accounts {
			acmeLogins[a.ID] = true
		}
	}
	for _, s := range gp.Suggestions {
		for _, a := range s.Accounts {
			if a.TenantID != "globex" {
				t.Errorf("globex's queue holds %s of tenant %s", a.Login, a.TenantID)
			}
		}
	}
	if st, _ := gadmin.raw("GET", fmt.Sprintf("/api/v1/tenants/globex/duplicates/%d", outside.ID), "", nil); st == http.StatusOK {
		var s usermerge.DuplicateSuggestion
		gadmin.call("GET", fmt.Sprintf("/api/v1/tenants/globex/duplicates/%d", outside.ID), nil, &s)
		if acmeLogins[s.Keep] {
			t.Errorf("globex's path answers acme's suggestion %d", outside.ID)
		}
	}
	if st, _ := gadmin.raw("GET", path, "", nil); st != http.StatusForbidden {
		t.Errorf("globex's administrator on acme's path: %d, want 403", st)
	}
	if d := cmpSnapshots(before, e.dupSnapshot()); d != "" {
		t.Errorf("refused requests changed the database:\n%s", d)
	}
	// The demo's tenants use the same account ids: a dismissal in globex
	// is of globex's accounts and leaves acme's queue and dismissals alone.
	if st, got := gadmin.raw("POST", "/api/v1/tenants/globex/dismissals", "application/json", []byte(fmt.Sprintf(`{"a":%q,"b":%q}`, outside.Accounts[0].ID, outside.Accounts[1].ID))); st != http.StatusCreated {
		t.Errorf("globex dismisses two of its accounts: %d %s", st, got)
	}
	var ds usermerge.DismissalsAnswer
	admin.call("GET", acmeAPI+"/dismissals", nil, &ds)
	if len(ds.Dismissals) != 0 {
		t.Errorf("acme lists globex's dismissal: %+v", ds)
	}
	if after := queue(t, admin, "?limit=500"); after.Total != all.Total {
		t.Errorf("a dismissal in globex changed acme's queue: %d suggestions, want %d", after.Total, all.Total)
	}
}

// dupSnapshot is snapshotAll with the tables of duplicate detection, so
// that a refused request can be shown to have changed nothing there either.
func (e *env) dupSnapshot() map[string][]string {
	e.t.Helper()
	out := e.snapshotAll()
	err := e.db.View(context.Background(), func(tx *store.Tx) error {
		more, err := storetest.Snapshot(context.Background(), tx, []string{"duplicate_runs", "duplicate_suggestions",
			"duplicate_suggestion_accounts", "duplicate_dismissals"}, "")
		for k, v := range more {
			out[k] = v
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func cmpSnapshots(before, after map[string][]string) string { return cmp.Diff(before, after) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// TestDetectionStopsWithTheServer: a run started over the API works in the
// server's background, and once the server is closed no run is left
// running (it finished, or it stopped and says so).
func TestDetectionStopsWithTheServer(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	db.Now = func() time.Time { return testNow }
	sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, nil)
	if err := eng.SetPassword(ctx, sum.Tenants[0].ID, "admin", demo.DemoPassword); err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Engine: eng})
	hs := httptest.NewServer(srv.Handler())
	e := &env{t: t, db: db, eng: eng, srv: hs, base: hs.URL}
	admin := e.demoSignIn(sum.Tenants[0].ID, "admin")
	var run usermerge.DetectionRun
	if st := admin.call("POST", "/api/v1/tenants/"+sum.Tenants[0].ID+"/duplicates/runs", map[string]bool{"full": true}, &run); st != http.StatusAccepted || run.Status != usermerge.RunRunning {
		t.Fatalf("start a run: %d %+v", st, run)
	}
	hs.Close()
	srv.Close()
	got, err := eng.DetectionRun(ctx, engine.Caller{Tenant: sum.Tenants[0].ID, Admin: "admin"}, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == usermerge.RunRunning {
		t.Errorf("after the server closed, run %d is still running: %+v", run.ID, got)
	}
}
