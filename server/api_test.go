package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// apiAccountIDs returns the ids of a search answer, in order.
func apiAccountIDs(t *testing.T, body []byte) []string {
	t.Helper()
	ids := []string{}
	for _, a := range apiDecode[struct {
		Accounts []usermerge.AccountSummary `json:"accounts"`
	}](t, body).Accounts {
		ids = append(ids, a.ID)
	}
	return ids
}

// TestAPIAccounts: search by name, login, email and external ID, the status
// filter and the caller's scope; account info with groups, jobs and counts;
// deactivate and activate.
func TestAPIAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		if err := e.db.Transact(ctx, func(tx *store.Tx) error {
			if err := tx.PutJob(ctx, usermerge.Job{TenantID: "acme", ID: "rep", Title: "Sales representative"}); err != nil {
				return err
			}
			return tx.PutAccountJob(ctx, "acme", "S", "rep")
		}); err != nil {
			t.Fatal(err)
		}
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")

		st, body := admin.raw("POST", apiAcme+"/accounts/E2/deactivate", "", nil)
		if apiExpect(t, "deactivate E2", st, body, "200") {
			if a := apiDecode[usermerge.Account](t, body); a.ID != "E2" || a.Status != usermerge.Inactive {
				t.Errorf("deactivate answered %+v", a)
			}
		}

		all := []string{"E1", "E2", "S", "S2", "S3", "T"}
		for _, tc := range []struct {
			c     *client
			who   string
			query string
			want  []string
		}{
			{admin, "admin", "", all},
			{admin, "admin", "?q=Learner+S2", []string{"S2"}},
			{admin, "admin", "?q=LEARNER+s", []string{"S", "S2", "S3"}},
			{admin, "admin", "?q=s3.login", []string{"S3"}},
			{admin, "admin", "?q=E1@Example.test", []string{"E1"}},
			{admin, "admin", "?q=SSO-S", []string{"S"}},
			{admin, "admin", "?q=sso-s", []string{"S"}},
			{admin, "admin", "?q=T", all}, // every e-mail holds a t
			{admin, "admin", "?q=nobody", []string{}},
			{admin, "admin", "?q=G1", []string{}}, // globex's
			{admin, "admin", "?status=inactive", []string{"E2"}},
			{admin, "admin", "?status=active", []string{"E1", "S", "S2", "S3", "T"}},
			{admin, "admin", "?status=deleted", []string{}},
			{admin, "admin", "?q=learner+e&status=active", []string{"E1"}},
			{admin, "admin", "?limit=2&offset=1", []string{"E2", "S"}},
			{editor, "editor", "", []string{"S", "S2", "S3", "T"}},
			{editor, "editor", "?q=E1", []string{}},
			{viewer, "viewer", "", all},
			{viewer, "viewer", "?q=e2.login", []string{"E2"}},
		} {
			st, body := tc.c.raw("GET", apiAcme+"/accounts"+tc.query, "", nil)
			label := fmt.Sprintf("(%s, GET accounts%s)", tc.who, tc.query)
			if !apiExpect(t, label, st, body, "200") {
				continue
			}
			if d := cmp.Diff(tc.want, apiAccountIDs(t, body)); d != "" {
				t.Errorf("%s (-want +got):\n%s", label, d)
			}
		}
		for _, q := range []string{"?limit=0", "?limit=501", "?limit=x", "?offset=-1", "?q=" + strings.Repeat("x", 201)} {
			st, body := admin.raw("GET", apiAcme+"/accounts"+q, "", nil)
			apiExpect(t, "GET accounts"+q[:min(len(q), 20)], st, body, "400 bad_request")
		}
		st, body = admin.raw("GET", apiAcme+"/accounts?status=gone", "", nil)
		apiExpect(t, "GET accounts?status=gone", st, body, "400 bad_request")

		// The info button: groups, jobs and record counts, by id or login.
		for _, ref := range []string{"S", "s.login"} {
			st, body := viewer.raw("GET", apiAcme+"/accounts/"+ref, "", nil)
			if !apiExpect(t, "GET account "+ref, st, body, "200") {
				continue
			}
			a := apiDecode[usermerge.AccountSummary](t, body)
			if a.ID != "S" || a.Name != "Learner S" || a.Email != "s@example.test" || a.Status != usermerge.Active {
				t.Errorf("account %s: %+v", ref, a.Account)
			}
			if d := cmp.Diff([]string{"Sales East"}, a.Groups); d != "" {
				t.Errorf("account %s groups (-want +got):\n%s", ref, d)
			}
			if d := cmp.Diff([]string{"Sales representative"}, a.Jobs); d != "" {
				t.Errorf("account %s jobs (-want +got):\n%s", ref, d)
			}
			want := map[usermerge.Kind]int64{usermerge.KindSignIns: 1, usermerge.KindAttempts: 1, usermerge.KindBadges: 1,
				usermerge.KindExternalIDs: 1, usermerge.KindMemberships: 1, usermerge.KindAccountJobs: 1}
			for _, k := range usermerge.Kinds {
				if a.Counts[k] != want[k] {
					t.Errorf("account %s: %d %s records, want %d", ref, a.Counts[k], k, want[k])
				}
			}
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/nobody", "", nil)
		apiExpect(t, "GET unknown account", st, body, "404 not_found")
		st, body = editor.raw("GET", apiAcme+"/accounts/E1", "", nil)
		apiExpect(t, "editor GET E1", st, body, "404 not_found")

		st, body = editor.raw("POST", apiAcme+"/accounts/S/deactivate", "", nil)
		apiExpect(t, "editor deactivates S", st, body, "200")
		st, body = editor.raw("POST", apiAcme+"/accounts/s.login/activate", "", nil)
		if apiExpect(t, "editor activates S by login", st, body, "200") {
			if a := apiDecode[usermerge.Account](t, body); a.ID != "S" || a.Status != usermerge.Active {
				t.Errorf("activate answered %+v", a)
			}
		}
		before := apiState(e)
		for _, p := range []string{"/accounts/nobody/activate", "/accounts/nobody/deactivate"} {
			st, body := admin.raw("POST", apiAcme+p, "", nil)
			apiExpect(t, "POST "+p, st, body, "404 not_found")
			apiUnchanged(t, e, "POST "+p, before)
		}
	})
}

// TestAPIDelete: the deletion impact, and deleting an account that holds
// merged data only with confirm=true.
func TestAPIDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		st, body := admin.raw("GET", apiAcme+"/accounts/T/deletion", "", nil)
		if apiExpect(t, "impact before any merge", st, body, "200") {
			im := apiDecode[engine.DeleteImpact](t, body)
			if im.Account.ID != "T" || im.MergedAccounts != 0 || len(im.MergedInto) != 0 || im.Warning != "" {
				t.Errorf("impact before any merge: %+v", im)
			}
			// The lists are lists, also when empty.
			var raw map[string]json.RawMessage
			json.Unmarshal(body, &raw)
			if string(raw["merged_into"]) != "[]" || string(raw["as_source"]) != "[]" {
				t.Errorf("impact before any merge: merged_into %s, as_source %s; want [] and []", raw["merged_into"], raw["as_source"])
			}
		}
		m := apiMerge(t, admin, "T", "S")
		st, body = admin.raw("GET", apiAcme+"/accounts/T/deletion", "", nil)
		if apiExpect(t, "impact of deleting the target", st, body, "200") {
			im := apiDecode[engine.DeleteImpact](t, body)
			if im.MergedAccounts != 1 || !slices.Equal(im.MergedInto, m) || !strings.Contains(im.Warning, "1 merged account (merge 1)") {
				t.Errorf("impact of deleting the target: %+v", im)
			}
			var raw map[string]json.RawMessage
			json.Unmarshal(body, &raw)
			if string(raw["as_source"]) != "[]" {
				t.Errorf("as_source is %s, want []", raw["as_source"])
			}
		}

		before := apiState(e)
		for _, q := range []string{"", "?confirm=false"} {
			st, body = admin.raw("DELETE", apiAcme+"/accounts/T"+q, "", nil)
			if apiExpect(t, "delete the target"+q, st, body, "409 confirm_required") &&
				!strings.Contains(errorOf(t, body).Error.Message, "1 merged account (merge 1)") {
				t.Errorf("the refusal does not warn how many accounts' data goes: %s", body)
			}
			apiUnchanged(t, e, "delete the target"+q, before)
		}
		st, body = admin.raw("DELETE", apiAcme+"/accounts/T?confirm=maybe", "", nil)
		apiExpect(t, "delete with confirm=maybe", st, body, "400 bad_request")
		apiUnchanged(t, e, "delete with confirm=maybe", before)

		st, body = admin.raw("DELETE", apiAcme+"/accounts/T?confirm=true", "", nil)
		if apiExpect(t, "delete the target, confirmed", st, body, "200") {
			im := apiDecode[engine.DeleteImpact](t, body)
			if im.Account.DeletedAt == nil || !im.Account.DeletedAt.Equal(testNow) || im.MergedAccounts != 1 {
				t.Errorf("deleted: %+v", im)
			}
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/T", "", nil)
		if apiExpect(t, "GET the deleted account", st, body, "200") {
			if a := apiDecode[usermerge.AccountSummary](t, body); a.DeletedAt == nil {
				t.Errorf("the deleted account shows no deletion: %+v", a.Account)
			}
		}
		before = apiState(e)
		st, body = admin.raw("DELETE", apiAcme+"/accounts/T?confirm=true", "", nil)
		apiExpect(t, "delete again", st, body, "409 account_deleted")
		st, body = admin.raw("DELETE", apiAcme+"/accounts/nobody", "", nil)
		apiExpect(t, "delete an unknown account", st, body, "404 not_found")
		apiUnchanged(t, e, "refused deletions", before)

		// An account without merged data needs no confirmation.
		st, body = admin.raw("DELETE", apiAcme+"/accounts/S3", "", nil)
		apiExpect(t, "delete S3", st, body, "200")
		st, body = admin.raw("GET", apiAcme+"/accounts?status=deleted", "", nil)
		if apiExpect(t, "search deleted", st, body, "200") {
			if d := cmp.Diff([]string{"S3", "T"}, apiAccountIDs(t, body)); d != "" {
				t.Errorf("deleted accounts (-want +got):\n%s", d)
			}
		}
	})
}

// TestAPISettings: presets and single settings; refusals change nothing.
func TestAPISettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")
		get := func(c *client, label string) SettingsAnswer {
			t.Helper()
			st, body := c.raw("GET", apiAcme+"/settings", "", nil)
			apiExpect(t, label, st, body, "200")
			return apiDecode[SettingsAnswer](t, body)
		}
		s := get(viewer, "GET settings (viewer)")
		if s.Tenant != "acme" || s.Name != "Acme" || s.Preset != "learningbox" || s.Policy != usermerge.Presets["learningbox"] ||
			!slices.Equal(s.Presets, usermerge.PresetNames) || len(s.Settings) != len(usermerge.PolicySettings) {
			t.Errorf("settings: %+v", s)
		}

		put := func(body string) SettingsAnswer {
			t.Helper()
			st, b := admin.raw("PUT", apiAcme+"/settings", "application/json", []byte(body))
			apiExpect(t, "PUT settings "+body, st, b, "200")
			return apiDecode[SettingsAnswer](t, b)
		}
		if s := put(`{"preset":"schoox"}`); s.Preset != "schoox" || s.Policy != usermerge.Presets["schoox"] {
			t.Errorf("after the schoox preset: %+v", s)
		}
		if s := get(admin, "GET settings"); s.Preset != "schoox" {
			t.Errorf("the preset did not stay: %+v", s)
		}
		if s := put(`{"set":{"badges":"transfer","move_external_ids":"true"}}`); s.Preset != "custom" || s.Policy.Badges != usermerge.BadgesTransfer ||
			!s.Policy.MoveExternalIDs || s.Policy.RevertAllowed {
			t.Errorf("after single settings: %+v", s)
		}
		if s := put(`{"preset":"learningbox","set":{"revert_allowed":"false"}}`); s.Preset != "custom" || s.Policy.RevertAllowed ||
			s.Policy.Certificates != usermerge.CertificatesNotMerged {
			t.Errorf("after a preset and a setting: %+v", s)
		}

		before := apiState(e)
		for _, tc := range []struct {
			c         *client
			who, body string
			want      string
		}{
			{admin, "admin", "", "400 bad_request"},
			{admin, "admin", `{}`, "400 bad_request"},
			{admin, "admin", `{"set":{}}`, "400 bad_request"},
			{admin, "admin", `{"preset":1}`, "400 bad_request"},
			{admin, "admin", `{"presets":"schoox"}`, "400 bad_request"},
			{admin, "admin", `{"set":{"badges":true}}`, "400 bad_request"},
			{admin, "admin", `{"preset":"moodle"}`, "422 unknown_preset"},
			{admin, "admin", `{"set":{"badges":"sometimes"}}`, "422 invalid_policy"},
			{admin, "admin", `{"set":{"merge_enabled":"maybe"}}`, "422 invalid_policy"},
			{admin, "admin", `{"set":{"colour":"red"}}`, "422 unknown_setting"},
			{admin, "admin", `{"preset":"schoox","set":{"credits":"bogus"}}`, "422 invalid_policy"},
			{editor, "editor", `{"preset":"schoox"}`, "403 tenant_admin_only"},
			{viewer, "viewer", `{"set":{"merge_enabled":"false"}}`, "403 tenant_admin_only"},
		} {
			label := fmt.Sprintf("(%s, PUT settings %s)", tc.who, tc.body)
			st, body := tc.c.raw("PUT", apiAcme+"/settings", "application/json", []byte(tc.body))
			apiExpect(t, label, st, body, tc.want)
			apiUnchanged(t, e, label, before)
		}
	})
}

// TestAPIExport: the whole tenant as NDJSON or accounts CSV by the tenant
// administrator; one account by a manager who may see it.
func TestAPIExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")
		type line struct {
			Kind    string `json:"kind"`
			ID      string `json:"id"`
			Tenant  string `json:"tenant"`
			Account string `json:"account"`
		}
		export := func(c *client, who, query, ctype, file string) []byte {
			t.Helper()
			resp, body := apiDo(t, e, "GET", apiAcme+"/export"+query, http.Header{"Cookie": {apiCookieOf(t, c)}}, nil)
			label := fmt.Sprintf("(%s, GET export%s)", who, query)
			if !apiExpect(t, label, resp.StatusCode, body, "200") {
				return nil
			}
			if got := resp.Header.Get("Content-Type"); got != ctype {
				t.Errorf("%s: Content-Type %q, want %q", label, got, ctype)
			}
			if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="`+file+`"`; got != want {
				t.Errorf("%s: Content-Disposition %q, want %q", label, got, want)
			}
			return body
		}
		lines := func(body []byte) []line {
			var out []line
			for _, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				var x line
				if err := json.Unmarshal([]byte(l), &x); err != nil {
					t.Fatalf("export line %q: %v", l, err)
				}
				out = append(out, x)
			}
			return out
		}

		for _, q := range []string{"", "?format=ndjson"} {
			body := export(admin, "admin", q, "application/x-ndjson", "acme.ndjson")
			ls := lines(body)
			var accounts []string
			for i, l := range ls {
				if (i == 0) != (l.Kind == "tenant") || (l.Kind == "tenant" && l.ID != "acme") || (l.Kind != "tenant" && l.Tenant != "acme") {
					t.Errorf("export line %d: %+v", i+1, l)
				}
				if l.Kind == "account" {
					accounts = append(accounts, l.ID)
				}
			}
			if d := cmp.Diff([]string{"E1", "E2", "S", "S2", "S3", "T"}, accounts); d != "" {
				t.Errorf("exported accounts (-want +got):\n%s", d)
			}
			if strings.Contains(string(body), "globex") || strings.Contains(string(body), "G1") {
				t.Errorf("the acme export shows globex data")
			}
		}

		body := export(admin, "admin", "?format=csv", "text/csv; charset=utf-8", "acme.csv")
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil || len(rows) != 7 || strings.Join(rows[0], ",") != "id,login,email,name,status,created_at,groups,jobs" ||
			strings.Join(rows[3], ",") != "S,s.login,s@example.test,Learner S,active,2025-01-17T12:00:00.000Z,east," {
			t.Errorf("CSV export (%v):\n%s", err, body)
		}

		for _, tc := range []struct {
			c        *client
			who, ref string
		}{{editor, "editor", "S"}, {editor, "editor", "s.login"}, {viewer, "viewer", "S"}, {admin, "admin", "S"}} {
			body := export(tc.c, tc.who, "?account="+tc.ref, "application/x-ndjson", "acme.ndjson")
			var kinds []string
			for _, l := range lines(body) {
				if (l.Kind == "account" && l.ID != "S") || (l.Account != "" && l.Account != "S") || l.Kind == "admin" {
					t.Errorf("(%s, export of S) holds %+v", tc.who, l)
				}
				kinds = append(kinds, l.Kind)
			}
			for _, k := range []string{"tenant", "account", "membership", "signin", "attempt", "badge", "external_id"} {
				if !slices.Contains(kinds, k) {
					t.Errorf("(%s, export of S) has no %s line", tc.who, k)
				}
			}
			if strings.Contains(string(body), "password_hash") || strings.Contains(string(body), "Learner T") {
				t.Errorf("(%s, export of S) shows other data:\n%s", tc.who, body)
			}
		}
		for _, tc := range []struct {
			c          *client
			who, query string
			want       string
		}{
			{editor, "editor", "", "403 tenant_admin_only"},
			{editor, "editor", "?format=csv&account=S", "403 tenant_admin_only"},
			{viewer, "viewer", "?format=csv", "403 tenant_admin_only"},
			{editor, "editor", "?account=E1", "404 not_found"},
			{admin, "admin", "?format=xml", "422 invalid_format"},
			{admin, "admin", "?account=nobody", "404 not_found"},
		} {
			st, body := tc.c.raw("GET", apiAcme+"/export"+tc.query, "", nil)
			apiExpect(t, fmt.Sprintf("(%s, GET export%s)", tc.who, tc.query), st, body, tc.want)
		}
	})
}

// apiCookieOf returns the session cookie header value of a signed-in client.
func apiCookieOf(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.e.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == SessionCookie {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("the client is not signed in")
	return ""
}

// TestAPIImport: NDJSON and accounts CSV into the path's tenant; a line for
// another tenant, or any bad line, is refused with its line number and
// nothing is written.
func TestAPIImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor := e.signIn("admin"), e.signIn("editor")
		ndjson := `{"kind":"account","tenant":"acme","id":"N1","login":"n1.login","email":"n1@example.test","name":"Learner N1","created_at":"2026-01-01T00:00:00Z"}
{"kind":"membership","tenant":"acme","account":"N1","group":"east"}
{"kind":"signin","tenant":"acme","id":"nsi","account":"N1","at":"2026-05-01T08:00:00Z","ip":"10.9.9.9","client":"web"}
`
		st, body := admin.raw("POST", apiAcme+"/import", "application/x-ndjson", []byte(ndjson))
		if apiExpect(t, "import NDJSON", st, body, "200") {
			got := apiDecode[store.ImportStats](t, body)
			if d := cmp.Diff(store.ImportStats{Lines: 3, PerKind: map[string]int{"account": 1, "membership": 1, "signin": 1}}, got); d != "" {
				t.Errorf("import stats (-want +got):\n%s", d)
			}
		}
		st, body = editor.raw("GET", apiAcme+"/accounts/N1", "", nil)
		if apiExpect(t, "editor GET the imported account", st, body, "200") {
			a := apiDecode[usermerge.AccountSummary](t, body)
			if a.Name != "Learner N1" || !slices.Equal(a.Groups, []string{"Sales East"}) || a.Counts[usermerge.KindSignIns] != 1 {
				t.Errorf("imported account: %+v", a)
			}
		}

		st, body = admin.raw("POST", apiAcme+"/import", "text/csv; charset=utf-8",
			[]byte("id,login,email,name,groups\nC1,c1.login,c1@example.test,\"Learner C1, from CSV\",eng\n"))
		if apiExpect(t, "import CSV", st, body, "200") {
			if got := apiDecode[store.ImportStats](t, body); got.Lines != 1 {
				t.Errorf("CSV import stats: %+v", got)
			}
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/C1", "", nil)
		if apiExpect(t, "GET the CSV account", st, body, "200") {
			if a := apiDecode[usermerge.AccountSummary](t, body); a.Name != "Learner C1, from CSV" || a.Status != usermerge.Active ||
				!slices.Equal(a.Groups, []string{"Engineering"}) {
				t.Errorf("CSV account: %+v", a)
			}
		}

		before := apiState(e)
		n2 := `{"kind":"account","tenant":"acme","id":"N2","login":"n2.login","created_at":"2026-01-01T00:00:00Z"}` + "\n"
		for _, tc := range []struct {
			name, ctype, body, want, line string
			c                             *client
		}{
			{"an account of another tenant", "application/x-ndjson",
				n2 + `{"kind":"account","tenant":"globex","id":"X9","login":"x9.login","created_at":"2026-01-01T00:00:00Z"}` + "\n", "422 bad_line", "line 2:", admin},
			{"another tenant's line", "application/x-ndjson",
				n2 + `{"kind":"tenant","id":"globex","name":"Taken over"}` + "\n", "422 bad_line", "line 2:", admin},
			{"a record for another tenant's account", "application/x-ndjson",
				n2 + n2 + `{"kind":"signin","tenant":"globex","id":"zz","account":"G1","at":"2026-05-01T08:00:00Z"}` + "\n", "422 bad_line", "line 3:", admin},
			{"a bad line", "application/x-ndjson", n2 + "not json\n", "422 bad_line", "line 2:", admin},
			{"an unknown field", "application/x-ndjson", `{"kind":"account","tenant":"acme","id":"N3","login":"n3","emial":"x","created_at":"2026-01-01T00:00:00Z"}`, "422 bad_line", "line 1:", admin},
			{"a CSV row for a missing group", "text/csv", "id,login,groups\nC2,c2.login,east\nC3,c3.login,nosuchgroup\n", "422 bad_line", "line 3:", admin},
			{"an unknown CSV column", "text/csv", "id,login,tenant\nC2,c2.login,globex\n", "422 bad_line", "line 1:", admin},
			{"an unsupported content type", "application/xml", "<accounts/>", "400 bad_request", "", admin},
			{"a group manager", "application/x-ndjson", n2, "403 tenant_admin_only", "", editor},
		} {
			st, body := tc.c.raw("POST", apiAcme+"/import", tc.ctype, []byte(tc.body))
			label := "import with " + tc.name
			if apiExpect(t, label, st, body, tc.want) && tc.line != "" {
				if msg := errorOf(t, body).Error.Message; !strings.HasPrefix(msg, tc.line) {
					t.Errorf("%s: message %q does not start with %q", label, msg, tc.line)
				}
			}
			apiUnchanged(t, e, label, before)
		}
		st, body = admin.raw("GET", "/api/v1/tenants/acme/accounts/N2", "", nil)
		apiExpect(t, "GET the account of a refused import", st, body, "404 not_found")
	})
}
