package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"usermerge"
	"usermerge/store/storetest"
)

// TestAPIMergeRefusals: each refusal rule of PRODUCT.md §4 over HTTP, for
// preview and merge alike, with its status and reason; nothing changes.
// (A merge already running on an account is tested in engine.)
func TestAPIMergeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")
		apiMerge(t, admin, "T", "S") // S is merged
		for _, r := range []struct{ method, path string }{
			{"DELETE", "/accounts/S2"},          // S2 is deleted
			{"POST", "/accounts/E1/deactivate"}, // E1 is not active
		} {
			if st, body := admin.raw(r.method, apiAcme+r.path, "", nil); st != 200 {
				t.Fatalf("%s %s: %s", r.method, r.path, apiOutcome(st, body))
			}
		}
		apiLinkAdmin(t, e, "S3") // S3 is also an administrator

		eleven := []string{"E2", "S3", "a", "b", "c", "d", "e", "f", "g", "h", "i"}
		before := apiState(e)
		for _, tc := range []struct {
			rule string
			c    *client
			who  string
			req  MergeBody
			want string
		}{
			{"view right only", viewer, "viewer", MergeBody{Target: "T", Sources: []string{"S3"}}, "403 no_merge_permission"},
			{"view right only, in eng", viewer, "viewer", MergeBody{Target: "E2", Sources: []string{"E1"}}, "403 no_merge_permission"},
			{"source out of scope", editor, "editor", MergeBody{Target: "T", Sources: []string{"E2"}}, "404 not_found"},
			{"target out of scope", editor, "editor", MergeBody{Target: "E2", Sources: []string{"S3"}}, "404 not_found"},
			{"unknown source", admin, "admin", MergeBody{Target: "T", Sources: []string{"nobody"}}, "404 not_found"},
			{"unknown target", admin, "admin", MergeBody{Target: "nobody", Sources: []string{"E2"}}, "404 not_found"},
			{"deleted source", admin, "admin", MergeBody{Target: "T", Sources: []string{"S2"}}, "409 account_deleted"},
			{"deleted target", admin, "admin", MergeBody{Target: "S2", Sources: []string{"E2"}}, "409 account_deleted"},
			{"source already merged", admin, "admin", MergeBody{Target: "T", Sources: []string{"S"}}, "409 source_already_merged"},
			{"source already merged, by login", editor, "editor", MergeBody{Target: "T", Sources: []string{"s.login"}}, "409 source_already_merged"},
			{"target merged away", admin, "admin", MergeBody{Target: "S", Sources: []string{"E2"}}, "409 target_merged"},
			{"target not active", admin, "admin", MergeBody{Target: "E1", Sources: []string{"E2"}}, "409 target_not_active"},
			{"source is the target", admin, "admin", MergeBody{Target: "T", Sources: []string{"T"}}, "422 source_is_target"},
			{"source is the target, by login", admin, "admin", MergeBody{Target: "T", Sources: []string{"E2", "t.login"}}, "422 source_is_target"},
			{"source named twice", admin, "admin", MergeBody{Target: "T", Sources: []string{"E2", "E2"}}, "422 duplicate_source"},
			{"source named twice, by id and login", editor, "editor", MergeBody{Target: "T", Sources: []string{"S3", "s3.login"}}, "422 duplicate_source"},
			{"admin source", admin, "admin", MergeBody{Target: "T", Sources: []string{"S3"}}, "409 source_is_admin"},
			{"admin source (editor)", editor, "editor", MergeBody{Target: "T", Sources: []string{"S3"}}, "409 source_is_admin"},
			{"too many sources", admin, "admin", MergeBody{Target: "T", Sources: eleven}, "422 too_many_sources"},
			{"no target", admin, "admin", MergeBody{Target: " ", Sources: []string{"E2"}}, "422 target_required"},
			{"no sources", admin, "admin", MergeBody{Target: "T"}, "422 sources_required"},
			{"an empty source", admin, "admin", MergeBody{Target: "T", Sources: []string{""}}, "422 account_required"},
			{"a long reason", admin, "admin", MergeBody{Target: "T", Sources: []string{"E2"}, Reason: strings.Repeat("r", 2001)}, "422 reason_too_long"},
		} {
			for _, p := range []string{"/merges/preview", "/merges"} {
				label := fmt.Sprintf("%s (%s, POST %s)", tc.rule, tc.who, p)
				st, body := apiSend(tc.c, "POST", apiAcme+p, tc.req)
				apiExpect(t, label, st, body, tc.want)
				apiUnchanged(t, e, label, before)
			}
		}

		// The refusal names the accounts it is about.
		st, body := apiSend(admin, "POST", apiAcme+"/merges", MergeBody{Target: "T", Sources: []string{"S"}})
		if apiExpect(t, "already merged", st, body, "409 source_already_merged") {
			if msg := errorOf(t, body).Error.Message; !strings.Contains(msg, "s.login") || !strings.Contains(msg, "merge 1") {
				t.Errorf("the refusal does not name the account and its merge: %q", msg)
			}
		}
		// Admins are not deleted either.
		st, body = admin.raw("DELETE", apiAcme+"/accounts/S3?confirm=true", "", nil)
		apiExpect(t, "delete an admin's account", st, body, "409 account_is_admin")
		apiUnchanged(t, e, "delete an admin's account", before)

		// Merging switched off for the tenant.
		st, body = apiSend(admin, "PUT", apiAcme+"/settings", map[string]any{"set": map[string]string{"merge_enabled": "false"}})
		apiExpect(t, "switch merging off", st, body, "200")
		before = apiState(e)
		for _, c := range []struct {
			c   *client
			who string
		}{{admin, "admin"}, {editor, "editor"}} {
			for _, p := range []string{"/merges/preview", "/merges"} {
				label := fmt.Sprintf("merging switched off (%s, POST %s)", c.who, p)
				st, body := apiSend(c.c, "POST", apiAcme+p, MergeBody{Target: "T", Sources: []string{"S3"}})
				apiExpect(t, label, st, body, "403 merging_disabled")
				apiUnchanged(t, e, label, before)
			}
		}
	})
}

// TestAPIRevertRefusals: each revert refusal of PRODUCT.md §6 over HTTP:
// the tenant's policy, already reverted, a later merge, permanent (source
// deleted), target deleted, rights and scope. The batch is refused whole
// and nothing changes.
func TestAPIRevertRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")
		revert := func(c *client, ids ...int64) (int, []byte) {
			return apiSend(c, "POST", apiAcme+"/merges/revert", RevertBody{Merges: ids})
		}
		refused := func(label string, c *client, want string, ids ...int64) string {
			t.Helper()
			before := apiState(e)
			st, body := revert(c, ids...)
			apiExpect(t, label, st, body, want)
			apiUnchanged(t, e, label, before)
			if st >= 400 {
				return errorOf(t, body).Error.Message
			}
			return ""
		}

		// globex (schoox) does not allow reverts: its merges are irreversible.
		g := e.signIn("gadmin")
		st, body := apiSend(g, "POST", "/api/v1/tenants/globex/merges", MergeBody{Target: "G1", Sources: []string{"G2"}})
		if !apiExpect(t, "globex merge", st, body, "201") {
			t.FailNow()
		}
		gm := apiDecode[apiMergeAnswer](t, body).Merges[0]
		if gm.DisplayState != usermerge.StateIrreversible {
			t.Errorf("globex merge shows as %s, want irreversible", gm.DisplayState)
		}
		before := apiState(e)
		st, body = apiSend(g, "POST", "/api/v1/tenants/globex/merges/revert", RevertBody{Merges: []int64{gm.ID}})
		apiExpect(t, "revert in globex", st, body, "403 revert_not_allowed")
		apiUnchanged(t, e, "revert in globex", before)
		st, body = g.raw("GET", "/api/v1/tenants/globex/merges?state=irreversible", "", nil)
		if apiExpect(t, "globex irreversible list", st, body, "200") {
			if p := apiDecode[usermerge.MergePage](t, body); p.Total != 1 || p.Merges[0].ID != gm.ID {
				t.Errorf("globex irreversible merges: %s", body)
			}
		}

		// Already reverted.
		m1 := apiMerge(t, admin, "T", "S")[0]
		if st, body := revert(admin, m1); st != 200 {
			t.Fatalf("revert m1: %s", apiOutcome(st, body))
		}
		if msg := refused("revert m1 again", admin, "409 already_reverted", m1); !strings.Contains(msg, "by admin") {
			t.Errorf("the refusal does not say who reverted it: %q", msg)
		}
		refused("a batch with a reverted merge", admin, "409 already_reverted", m1)

		// A later merge involves the target: revert it first, or both together.
		m2 := apiMerge(t, admin, "T", "S2")[0]
		m3 := apiMerge(t, admin, "T", "S")[0]
		if msg := refused("revert before a later merge", admin, "409 later_merge", m2); !strings.Contains(msg, fmt.Sprintf("later merge %d", m3)) {
			t.Errorf("the refusal does not name the later merge: %q", msg)
		}
		// Rights and scope.
		refused("the viewer reverts", viewer, "403 no_merge_permission", m3)
		m4 := apiMerge(t, admin, "E1", "E2")[0]
		refused("the editor reverts outside sales", editor, "404 merge_not_found", m4)
		refused("the editor's batch with a merge outside sales", editor, "404 merge_not_found", m3, m4)
		refused("a batch with an unknown merge", admin, "404 merge_not_found", m3, 999)

		st, body = revert(editor, m2, m3)
		if apiExpect(t, "revert both together", st, body, "200") {
			if rep := apiDecode[usermerge.RevertReport](t, body); fmt.Sprint(rep.Reverted) != fmt.Sprint([]int64{m3, m2}) {
				t.Errorf("reverted %v, want newest first %v", rep.Reverted, []int64{m3, m2})
			}
		}

		// Permanent: the source was deleted.
		m5 := apiMerge(t, admin, "T", "S")[0]
		if st, body := admin.raw("DELETE", apiAcme+"/accounts/S", "", nil); st != 200 {
			t.Fatalf("delete S: %s", apiOutcome(st, body))
		}
		refused("revert a merge whose source was deleted", admin, "409 merge_permanent", m5)

		// The target was deleted.
		if st, body := admin.raw("DELETE", apiAcme+"/accounts/E1?confirm=true", "", nil); st != 200 {
			t.Fatalf("delete E1: %s", apiOutcome(st, body))
		}
		refused("revert a merge whose target was deleted", admin, "409 target_deleted", m4)
		m7 := apiMerge(t, admin, "T", "S2")[0]
		refused("a batch with a revertible and a permanent merge", admin, "409 merge_permanent", m5, m7)

		// Reverts switched off for acme: refused until confirmed, as m7
		// becomes irreversible.
		st, body = apiSend(admin, "PUT", apiAcme+"/settings", map[string]any{"set": map[string]string{"revert_allowed": "false"}})
		if st != 409 || !strings.Contains(string(body), `"confirm_irreversible"`) || !strings.Contains(string(body), "1 active merge becomes irreversible") {
			t.Errorf("switch reverts off with an active merge, unconfirmed: %s, want 409 confirm_irreversible", apiOutcome(st, body))
		}
		if _, body := admin.raw("GET", apiAcme+"/settings", "", nil); !apiDecode[SettingsAnswer](t, body).Policy.RevertAllowed {
			t.Errorf("the unconfirmed change changed the settings: %s", body)
		}
		if st, body := apiSend(admin, "PUT", apiAcme+"/settings", map[string]any{"set": map[string]string{"revert_allowed": "false"}, "confirm_irreversible": true}); st != 200 {
			t.Fatalf("switch reverts off: %s", apiOutcome(st, body))
		}
		m6 := apiMerge(t, admin, "T", "S3")[0]
		refused("revert with reverts switched off", admin, "403 revert_not_allowed", m6)
	})
}

// TestAPIMergeRefusalsAreAtomic: a refusal of the last source of a
// multi-source merge leaves the earlier sources untouched.
func TestAPIMergeRefusalsAreAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		apiLinkAdmin(t, e, "S3")
		before := apiState(e)
		st, body := apiSend(admin, "POST", apiAcme+"/merges", MergeBody{Target: "T", Sources: []string{"S", "S2", "S3"}})
		apiExpect(t, "merge with an admin as the last source", st, body, "409 source_is_admin")
		apiUnchanged(t, e, "merge with an admin as the last source", before)
		if _, err := e.eng.Merge(context.Background(), apiAcmeAdmin, usermerge.MergeRequest{TenantID: "acme", Target: "T", Sources: []string{"S", "S2"}}); err != nil {
			t.Errorf("the accounts are still free to merge: %v", err)
		}
	})
}

// TestAPIRevertOutOfScopeNamesNoAccount: a group manager who selects a
// merge outside their scope is refused without learning which accounts it
// involves (as merge details answer 404 for it, and as the engine's
// account lookup promises: "refused without showing its name or anything
// else about it").
func TestAPIRevertOutOfScopeNamesNoAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin, editor := e.signIn("admin"), e.signIn("editor")
		m := apiMerge(t, admin, "E1", "E2")[0]
		before := apiState(e)
		st, body := apiSend(editor, "POST", apiAcme+"/merges/revert", RevertBody{Merges: []int64{m}})
		if apiExpect(t, "the editor reverts a merge in eng", st, body, "404 merge_not_found") {
			msg := errorOf(t, body).Error.Message
			for _, s := range []string{"E1", "E2", "e1.login", "e2.login", "Learner E"} {
				if strings.Contains(msg, s) {
					t.Errorf("the refusal names %q, an account outside the editor's scope: %q", s, msg)
				}
			}
		}
		apiUnchanged(t, e, "the editor reverts a merge in eng", before)
	})
}
