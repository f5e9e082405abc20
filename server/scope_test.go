package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// scopeExport is the body of a one-account export by a client.
func scopeExport(t *testing.T, e *env, c *client, account string) string {
	t.Helper()
	resp, body := apiDo(t, e, "GET", apiAcme+"/export?account="+account, http.Header{"Cookie": {apiCookieOf(t, c)}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export of %s: %d %s", account, resp.StatusCode, body)
	}
	return string(body)
}

// TestAPIExportSecretsAndScope: an account that is also a tenant
// administrator (T) exports with the admin line and its hash only for a tenant
// administrator; a group manager's export of it has no admin line and no
// hash, and does not name the account it was merged into when that
// account is outside the manager's groups (the chain stops there), while
// a manager who sees that account gets it.
func TestAPIExportSecretsAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		if err := e.db.Transact(ctx, func(tx *store.Tx) error {
			return tx.PutAdmin(ctx, usermerge.Admin{TenantID: "acme", ID: "a-S", Login: "learner-admin", Role: usermerge.TenantAdmin, AccountID: "T"}, testHash())
		}); err != nil {
			t.Fatal(err)
		}
		// S (Sales East) goes into E1 (Engineering): outside the editor's groups.
		if _, err := e.eng.Merge(ctx, apiAcmeAdmin, usermerge.MergeRequest{TenantID: "acme", Target: "E1", Sources: []string{"S"}}); err != nil {
			t.Fatal(err)
		}
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")

		full := scopeExport(t, e, admin, "T")
		for _, want := range []string{`"kind":"admin"`, `"password_hash":"$argon2id$`, "learner-admin"} {
			if !strings.Contains(full, want) {
				t.Errorf("the tenant administrator's export of T lacks %s:\n%s", want, full)
			}
		}
		if full := scopeExport(t, e, admin, "S"); !strings.Contains(full, `"merged_into":"E1"`) || !strings.Contains(full, `"id":"E1"`) {
			t.Errorf("the tenant administrator's export of S leaves out E1:\n%s", full)
		}
		for _, who := range []struct {
			name string
			c    *client
		}{{"editor (edit over sales)", editor}, {"viewer (view over sales and eng)", viewer}} {
			body := scopeExport(t, e, who.c, "T")
			for _, leak := range []string{`"kind":"admin"`, "password_hash", "argon2", "learner-admin"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s: the export of T holds %s:\n%s", who.name, leak, body)
				}
			}
		}
		body := scopeExport(t, e, editor, "S")
		for _, leak := range []string{"E1", "e1.login", "Learner E1", "e1@example.test"} {
			if strings.Contains(body, leak) {
				t.Errorf("the editor's export of S names %q, outside the editor's groups:\n%s", leak, body)
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
			var x map[string]any
			if err := json.Unmarshal([]byte(l), &x); err != nil {
				t.Fatal(err)
			}
			if x["kind"] == "account" && x["id"] == "S" && (x["status"] == nil || x["merged_into"] != nil) {
				t.Errorf("the editor's export of S: %s; want S without merged_into", l)
			}
		}
		if body := scopeExport(t, e, viewer, "S"); !strings.Contains(body, `"merged_into":"E1"`) || !strings.Contains(body, `"id":"E1"`) {
			t.Errorf("the viewer sees E1, yet the export of S leaves it out:\n%s", body)
		}
	})
}

// TestAPIActivateRefusalInScope: activating a merged source tells a
// manager who sees the target which account and merge hold it, and a
// manager who does not see the target neither its name nor the merge; nor
// does a merge refusal for that source.
func TestAPIActivateRefusalInScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		if _, err := e.eng.Merge(ctx, apiAcmeAdmin, usermerge.MergeRequest{TenantID: "acme", Target: "E1", Sources: []string{"S"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Merge(ctx, apiAcmeAdmin, usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S2"}}); err != nil {
			t.Fatal(err)
		}
		admin, editor := e.signIn("admin"), e.signIn("editor")
		st, body := admin.raw("POST", apiAcme+"/accounts/S/activate", "", nil)
		if apiExpect(t, "admin activates S", st, body, "409 account_merged") && !strings.Contains(string(body), "e1.login (Learner E1) by merge 1") {
			t.Errorf("the tenant administrator is not told where S went: %s", body)
		}
		st, body = editor.raw("POST", apiAcme+"/accounts/S2/activate", "", nil)
		if apiExpect(t, "editor activates S2 (merged into T, in scope)", st, body, "409 account_merged") && !strings.Contains(string(body), "t.login (Learner T) by merge 2") {
			t.Errorf("the editor is not told where S2 went, though T is in scope: %s", body)
		}
		st, body = editor.raw("POST", apiAcme+"/accounts/S/activate", "", nil)
		if apiExpect(t, "editor activates S (merged into E1, out of scope)", st, body, "409 account_merged") {
			for _, leak := range []string{"E1", "e1.login", "Learner E1", "merge 1"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("the editor's refusal names %q, outside the editor's groups: %s", leak, body)
				}
			}
			if !strings.Contains(string(body), "outside your groups") {
				t.Errorf("the editor's refusal does not say why: %s", body)
			}
		}
		// Nor do the account's own answers: it shows as merged into nothing
		// the editor may know of.
		for _, path := range []string{"/accounts/S", "/accounts?q=s.login", "/accounts/S/deletion"} {
			st, body := editor.raw("GET", apiAcme+path, "", nil)
			if apiExpect(t, "editor GET "+path, st, body, "200") && (strings.Contains(string(body), "E1") || strings.Contains(string(body), `"merged_by"`)) {
				t.Errorf("editor GET %s names the account S went into, outside the editor's groups: %s", path, body)
			}
		}
		if st, body := admin.raw("GET", apiAcme+"/accounts/S", "", nil); st != http.StatusOK || !strings.Contains(string(body), `"merged_into": "E1"`) {
			t.Errorf("the tenant administrator is not shown where S went: %d %s", st, body)
		}
		// So does a merge naming S as a source.
		st, body = apiSend(editor, "POST", apiAcme+"/merges/preview", MergeBody{Target: "S3", Sources: []string{"S"}})
		if apiExpect(t, "editor previews merging S (merged into E1)", st, body, "409 source_already_merged") &&
			(strings.Contains(string(body), "E1") || strings.Contains(string(body), "merge 1") || !strings.Contains(string(body), "outside your groups")) {
			t.Errorf("the editor's merge refusal names what is outside the editor's groups: %s", body)
		}
	})
}

// TestAPIOutOfScopeReadsAsNotFound: to a group manager, an account or a
// merge outside their groups gets exactly the answer (status, code,
// reason, message) of one that does not exist, on every route that names
// one, and searches find as little for it as for a name nobody has.
func TestAPIOutOfScopeReadsAsNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor := e.signIn("admin"), e.signIn("editor")
		hidden := apiMerge(t, admin, "E1", "E2")[0] // Engineering: outside the editor's groups
		missing := hidden + 1000
		before := apiState(e)
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/accounts/{ref}", ""},
			{"GET", "/accounts/{ref}/deletion", ""},
			{"POST", "/accounts/{ref}/activate", ""},
			{"POST", "/accounts/{ref}/deactivate", ""},
			{"DELETE", "/accounts/{ref}", ""},
			{"DELETE", "/accounts/{ref}?confirm=true", ""},
			{"POST", "/merges/preview", `{"target":"T","sources":["{ref}"]}`},
			{"POST", "/merges/preview", `{"target":"{ref}","sources":["S3"]}`},
			{"POST", "/merges", `{"target":"T","sources":["{ref}"]}`},
			{"POST", "/merges", `{"target":"{ref}","sources":["S3"]}`},
			{"GET", "/export?account={ref}", ""},
			{"GET", "/merges/{id}", ""},
			{"POST", "/merges/revert", `{"merges":[{id}]}`},
			{"GET", "/accounts?q={login}", ""},
			{"GET", "/merges?source={login}", ""},
			{"GET", "/merges?target={name}", ""},
		} {
			call := func(ref, login, name string, id int64) (int, string) {
				fill := strings.NewReplacer("{ref}", ref, "{login}", login, "{name}", name, "{id}", fmt.Sprint(id))
				st, body := editor.raw(r.method, apiAcme+fill.Replace(r.path), "application/json", []byte(fill.Replace(r.body)))
				return st, string(body)
			}
			label := r.method + " " + r.path + " " + r.body
			for _, ref := range []string{"E1", "e1.login", "E2"} {
				stHidden, bodyHidden := call(ref, "e2.login", "Learner+E1", hidden)
				stMissing, bodyMissing := call("NOPE", "nope.login", "Nobody+At+All", missing)
				norm := strings.NewReplacer(`\"`+ref+`\"`, `\"NOPE\"`, fmt.Sprintf("merge %d", hidden), fmt.Sprintf("merge %d", missing))
				if stHidden != stMissing || norm.Replace(bodyHidden) != bodyMissing {
					t.Errorf("%s: out of scope (%s) answers %d %s\nwhere one that does not exist answers %d %s", label, ref, stHidden, bodyHidden, stMissing, bodyMissing)
				}
				if !strings.Contains(r.path, "{ref}") && !strings.Contains(r.body, "{ref}") {
					break
				}
			}
		}
		apiUnchanged(t, e, "a manager naming what is outside their groups", before)
	})
}

// TestAPIManagerDeleteStaysInScope: a group manager may not delete an
// account when that would free an account or change a merge outside the
// groups they may edit, and its deletion impact names neither; inside
// their groups the delete goes on as before, and a tenant administrator
// deletes anything.
func TestAPIManagerDeleteStaysInScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor := e.signIn("admin"), e.signIn("editor")
		intoT := apiMerge(t, admin, "T", "E2")[0]  // an Engineering account merged into T (Sales East)
		s3Out := apiMerge(t, admin, "E1", "S3")[0] // S3 (Sales East) merged into E1 (Engineering)
		inside := apiMerge(t, admin, "S2", "S")[0] // both in Sales East
		before := apiState(e)
		for _, tc := range []struct{ account, hidden string }{{"T", fmt.Sprint(intoT)}, {"S3", fmt.Sprint(s3Out)}} {
			st, body := editor.raw("GET", apiAcme+"/accounts/"+tc.account+"/deletion", "", nil)
			if apiExpect(t, "the editor's deletion impact of "+tc.account, st, body, "200") {
				im := apiDecode[struct {
					MergedInto     []int64 `json:"merged_into"`
					MergedAccounts int     `json:"merged_accounts"`
					AsSource       []int64 `json:"as_source"`
					Warning        string  `json:"warning"`
				}](t, body)
				if len(im.MergedInto) != 0 || len(im.AsSource) != 0 || im.MergedAccounts != 0 {
					t.Errorf("the editor's deletion impact of %s lists merges outside the editor's groups: %s", tc.account, body)
				}
				for _, leak := range []string{"E1", "E2", "e1.login", "e2.login", "Learner E", "merge " + tc.hidden, "[" + tc.hidden + "]"} {
					if strings.Contains(string(body), leak) {
						t.Errorf("the editor's deletion impact of %s names %q: %s", tc.account, leak, body)
					}
				}
				if !strings.Contains(im.Warning, "only a tenant administrator may delete it") {
					t.Errorf("the editor's deletion impact of %s does not say the delete is refused: %s", tc.account, body)
				}
			}
			for _, q := range []string{"", "?confirm=true"} {
				st, body := editor.raw("DELETE", apiAcme+"/accounts/"+tc.account+q, "", nil)
				if apiExpect(t, "the editor deletes "+tc.account+q, st, body, "403 out_of_scope") &&
					(strings.Contains(string(body), "E1") || strings.Contains(string(body), "E2") || strings.Contains(string(body), "merge "+tc.hidden)) {
					t.Errorf("the refusal names what is outside the editor's groups: %s", body)
				}
				apiUnchanged(t, e, "the editor deleting "+tc.account+q, before)
			}
		}
		// Inside the editor's groups: the impact names the merge, and the
		// delete goes on once confirmed.
		st, body := editor.raw("GET", apiAcme+"/accounts/S2/deletion", "", nil)
		if apiExpect(t, "the editor's deletion impact of S2", st, body, "200") && !strings.Contains(string(body), fmt.Sprintf(`"merged_into": [
    %d
  ]`, inside)) {
			t.Errorf("the editor's deletion impact of S2 does not list merge %d: %s", inside, body)
		}
		st, body = editor.raw("DELETE", apiAcme+"/accounts/S2?confirm=true", "", nil)
		apiExpect(t, "the editor deletes S2", st, body, "200")
		st, body = admin.raw("DELETE", apiAcme+"/accounts/T?confirm=true", "", nil)
		apiExpect(t, "the tenant administrator deletes T", st, body, "200")
	})
}
