package server

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store/storetest"
)

// TestAPILifecycle: the account lifecycle messages of PRODUCT.md §7 over
// HTTP — activating a merged source, deleting a source, deleting a target.
func TestAPILifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		clock := apiUseClock(e)
		admin := e.signIn("admin")
		get := func(path string) []byte {
			t.Helper()
			st, body := admin.raw("GET", apiAcme+path, "", nil)
			if st != 200 {
				t.Fatalf("GET %s: %s", path, apiOutcome(st, body))
			}
			return body
		}
		listed := func(query string) map[int64]usermerge.Merge {
			t.Helper()
			out := map[int64]usermerge.Merge{}
			for _, m := range apiDecode[usermerge.MergePage](t, get("/merges"+query)).Merges {
				out[m.ID] = m
			}
			return out
		}

		// Activating a merged source names the target, the merge and its date.
		clock.set(time.Date(2026, 5, 20, 9, 30, 0, 0, time.UTC))
		m1 := apiMerge(t, admin, "T", "S")[0]
		clock.set(testNow)
		before := apiState(e)
		st, body := admin.raw("POST", apiAcme+"/accounts/S/activate", "", nil)
		if apiExpect(t, "activate a merged source", st, body, "409 account_merged") {
			msg := errorOf(t, body).Error.Message
			for _, want := range []string{"t.login", "Learner T", fmt.Sprintf("merge %d", m1), "2026-05-20", "Revert merge"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the refusal %q does not say %q", msg, want)
				}
			}
		}
		apiUnchanged(t, e, "activate a merged source", before)

		// Deleting a source: its merge becomes permanent and stays listed
		// with the source shown as deleted; the data stays with the target.
		st, body = admin.raw("GET", apiAcme+"/accounts/S/deletion", "", nil)
		if apiExpect(t, "impact of deleting a source", st, body, "200") {
			im := apiDecode[engine.DeleteImpact](t, body)
			if !slices.Equal(im.AsSource, []int64{m1}) || im.MergedAccounts != 0 || !strings.Contains(im.Warning, "permanent") {
				t.Errorf("impact of deleting a source: %+v", im)
			}
		}
		st, body = admin.raw("DELETE", apiAcme+"/accounts/S", "", nil)
		apiExpect(t, "delete a source", st, body, "200")
		for _, q := range []string{"", "?state=permanent", "?source=s.login"} {
			m, ok := listed(q)[m1]
			if !ok {
				t.Errorf("GET merges%s does not list the merge of the deleted source", q)
				continue
			}
			if m.State != usermerge.StatePermanent || m.DisplayState != usermerge.StatePermanent || m.Source.DeletedAt == nil || m.Source.ID != "S" {
				t.Errorf("GET merges%s: the merge of the deleted source shows state %s/%s, source %+v", q, m.State, m.DisplayState, m.Source)
			}
		}
		if a := apiDecode[usermerge.AccountSummary](t, get("/accounts/T")); a.Counts[usermerge.KindSignIns] != 2 {
			t.Errorf("the target holds %d sign-ins after the source's deletion, want 2", a.Counts[usermerge.KindSignIns])
		}
		before = apiState(e)
		st, body = apiSend(admin, "POST", apiAcme+"/merges/revert", RevertBody{Merges: []int64{m1}})
		apiExpect(t, "revert the permanent merge", st, body, "409 merge_permanent")
		st, body = admin.raw("POST", apiAcme+"/accounts/S/activate", "", nil)
		apiExpect(t, "activate the deleted source", st, body, "409 account_deleted")
		apiUnchanged(t, e, "refusals after deleting a source", before)

		// Deleting a target warns how many merged accounts' data goes with
		// it; then its merges leave the default list and its sources are free.
		m2 := apiMerge(t, admin, "E1", "E2")[0]
		m3 := apiMerge(t, admin, "E1", "S3")[0]
		st, body = admin.raw("GET", apiAcme+"/accounts/E1/deletion", "", nil)
		if apiExpect(t, "impact of deleting a target", st, body, "200") {
			im := apiDecode[engine.DeleteImpact](t, body)
			if im.MergedAccounts != 2 || !slices.Equal(im.MergedInto, []int64{m2, m3}) || !strings.Contains(im.Warning, "2 merged accounts (merges 2 and 3)") {
				t.Errorf("impact of deleting a target: %+v", im)
			}
		}
		before = apiState(e)
		st, body = admin.raw("DELETE", apiAcme+"/accounts/E1", "", nil)
		if apiExpect(t, "delete a target without confirming", st, body, "409 confirm_required") &&
			!strings.Contains(errorOf(t, body).Error.Message, "2 merged accounts (merges 2 and 3)") {
			t.Errorf("the refusal does not warn how many: %s", body)
		}
		apiUnchanged(t, e, "delete a target without confirming", before)
		st, body = admin.raw("DELETE", apiAcme+"/accounts/E1?confirm=true", "", nil)
		apiExpect(t, "delete a target", st, body, "200")

		if l := listed(""); len(l) != 1 || l[m1].ID != m1 {
			t.Errorf("the default list after deleting a target holds %v, want only merge %d", slices.Sorted(maps.Keys(l)), m1)
		}
		for _, q := range []string{"?state=all", "?state=target_deleted"} {
			l := listed(q)
			for _, id := range []int64{m2, m3} {
				if m, ok := l[id]; !ok || m.State != usermerge.StateTargetDeleted || m.Target.DeletedAt == nil {
					t.Errorf("GET merges%s: merge %d is %+v, want it listed as target_deleted", q, id, l[id])
				}
			}
		}
		d := apiDecode[usermerge.MergeDetails](t, get(fmt.Sprintf("/merges/%d", m2)))
		if d.Merge.State != usermerge.StateTargetDeleted || len(d.Kinds) != len(usermerge.Kinds) {
			t.Errorf("details of a merge into a deleted target: %+v", d.Merge)
		}
		for _, src := range []string{"E2", "S3"} {
			a := apiDecode[usermerge.AccountSummary](t, get("/accounts/"+src))
			if a.MergedInto != "" || a.MergedBy != 0 || a.Status != usermerge.Inactive || a.DeletedAt != nil {
				t.Errorf("freed source %s: %+v", src, a.Account)
			}
			st, body := admin.raw("POST", apiAcme+"/accounts/"+src+"/activate", "", nil)
			if apiExpect(t, "activate the freed source "+src, st, body, "200") {
				if a := apiDecode[usermerge.Account](t, body); a.Status != usermerge.Active {
					t.Errorf("activated %s: %+v", src, a)
				}
			}
		}
		// A freed source can be merged again.
		apiMerge(t, admin, "T", "E2")
	})
}
