package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// feed reads the whole feed of the fixture's tenant as the admin.
func (f *fixture) feed(types ...string) []usermerge.Event {
	f.t.Helper()
	page, err := f.e.Events(f.ctx, f.as("admin"), usermerge.EventFilter{Types: types, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return page.Events
}

// TestMergeEventSaysWhatMovedWhere: a merge.completed event names the kept
// account and each merged one in the platform's ids, with the merged
// account's external IDs as they were before the merge and whether they
// moved, the counts per kind, and that the data moved; a refused merge
// writes no event.
func TestMergeEventSaysWhatMovedWhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("T", "sales")
		f.account("S", "sales")
		f.account("R", "sales")
		f.rec("external_ids", "x1", "S", "system", "sso", "value", "s-1")
		f.rec("external_ids", "x2", "T", "system", "hr", "value", "t-9")
		f.rec("signins", "g1", "S", "at", day(3))
		f.rec("signins", "g2", "S", "at", day(2))
		yes := true
		ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}, MoveExternalIDs: &yes, Reason: "SSO"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"T"}}); err == nil {
			t.Fatal("a merge of an account into itself went through")
		}
		evs := f.feed()
		if len(evs) != 1 || evs[0].Type != usermerge.EventMergeCompleted || evs[0].Version != usermerge.EventVersion {
			t.Fatalf("feed after one merge and one refusal: %+v", evs)
		}
		var d usermerge.MergeCompletedData
		if err := json.Unmarshal(evs[0].Data, &d); err != nil {
			t.Fatal(err)
		}
		if !d.DataMoved || d.Operation != ms[0].OperationID || d.By != "admin" || d.Reason != "SSO" || d.Tenant != f.tenant || d.At.IsZero() {
			t.Errorf("merge event: %+v", d)
		}
		wantKept := usermerge.AccountRef{ID: "T", Login: "login-T", ExternalIDs: []usermerge.ExternalID{{System: "hr", Value: "t-9"}, {System: "sso", Value: "s-1"}}}
		if diff := cmp.Diff(wantKept, d.Kept); diff != "" {
			t.Errorf("kept account (-want +got):\n%s", diff)
		}
		if len(d.Merged) != 1 {
			t.Fatalf("merged: %+v", d.Merged)
		}
		m := d.Merged[0]
		wantSrc := usermerge.AccountRef{ID: "S", Login: "login-S", ExternalIDs: []usermerge.ExternalID{{System: "sso", Value: "s-1"}}}
		if diff := cmp.Diff(wantSrc, m.Account); diff != "" {
			t.Errorf("merged account as before the merge (-want +got):\n%s", diff)
		}
		if m.Merge != ms[0].ID || !m.ExternalIDsMoved || m.Counts[usermerge.Kind("signin")].Moved != 2 {
			t.Errorf("merged source: %+v", m)
		}
		if low := strings.ToLower(string(evs[0].Data)); strings.Contains(low, "delet") || strings.Contains(low, "erase") {
			t.Errorf("a merge event reads as a deletion: %s", evs[0].Data)
		}

		// Revert: the account holds its data and its external ID again.
		f.revert(ms[0].ID)
		evs = f.feed(usermerge.EventMergeReverted)
		if len(evs) != 1 {
			t.Fatalf("revert events: %+v", evs)
		}
		var rd usermerge.MergeRevertedData
		json.Unmarshal(evs[0].Data, &rd)
		if len(rd.Restored) != 1 || rd.Restored[0].Account.ID != "S" || len(rd.Restored[0].Account.ExternalIDs) != 1 ||
			rd.Restored[0].From.ID != "T" || len(rd.Merges) != 1 || rd.Merges[0] != ms[0].ID {
			t.Errorf("revert event: %+v", rd)
		}

		// Deletion: the account as it was.
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "R", true); err != nil {
			t.Fatal(err)
		}
		evs = f.feed(usermerge.EventAccountDeleted)
		var dd usermerge.AccountDeletedData
		if len(evs) != 1 || json.Unmarshal(evs[0].Data, &dd) != nil || dd.Account.ID != "R" || dd.Account.Login != "login-R" || dd.By != "admin" {
			t.Errorf("deletion event: %+v %+v", evs, dd)
		}
	})
}

// TestEventFeed: the feed pages by cursor in commit order, filters by type,
// refuses bad input, serves tenant admins only, and never another
// tenant's events.
func TestEventFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, id := range []string{"T", "A", "B", "C"} {
			f.account(id, "sales")
		}
		var merges []int64
		for _, s := range []string{"A", "B", "C"} {
			merges = append(merges, f.merge("T", s)[0].ID)
		}
		f.revert(merges[2])
		page, err := f.e.Events(f.ctx, f.as("admin"), usermerge.EventFilter{Limit: 2})
		if err != nil || len(page.Events) != 2 || !page.More || page.Next != page.Events[1].ID {
			t.Fatalf("first page: %+v %v", page, err)
		}
		next, err := f.e.Events(f.ctx, f.as("admin"), usermerge.EventFilter{After: page.Next, Limit: 2})
		if err != nil || len(next.Events) != 2 || next.More || next.Events[0].ID <= page.Next || next.Events[1].Type != usermerge.EventMergeReverted {
			t.Fatalf("second page: %+v %v", next, err)
		}
		last, err := f.e.Events(f.ctx, f.as("admin"), usermerge.EventFilter{After: next.Next})
		if err != nil || len(last.Events) != 0 || last.More || last.Next != next.Next {
			t.Errorf("past the end: %+v %v", last, err)
		}
		if got := f.feed(usermerge.EventMergeCompleted); len(got) != 3 {
			t.Errorf("merge.completed only: %d events", len(got))
		}
		for _, bad := range []struct {
			f      usermerge.EventFilter
			reason string
		}{
			{usermerge.EventFilter{Limit: 1001}, "bad_limit"},
			{usermerge.EventFilter{Limit: -1}, "bad_limit"},
			{usermerge.EventFilter{After: -5}, "bad_cursor"},
			{usermerge.EventFilter{Types: []string{"merge.done"}}, "unknown_event_type"},
			{usermerge.EventFilter{Types: []string{"tenant.settings_changed"}}, "unknown_event_type"},
		} {
			if _, err := f.e.Events(f.ctx, f.as("admin"), bad.f); usermerge.ErrorReason(err) != bad.reason {
				t.Errorf("%+v: %v, want %s", bad.f, err, bad.reason)
			}
		}
		if _, err := f.e.Events(f.ctx, f.as("sales-editor"), usermerge.EventFilter{}); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("group manager: %v, want forbidden", err)
		}
		other := f.otherTenant()
		page, err = f.e.Events(f.ctx, other, usermerge.EventFilter{})
		if err != nil || len(page.Events) != 0 {
			t.Errorf("another tenant's feed: %+v %v", page, err)
		}
	})
}

// TestResolve: each reference answers the account that holds its data now.
func TestResolve(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, id := range []string{"A", "B", "C", "D", "E", "F", "G"} {
			f.account(id, "sales")
		}
		f.account("X", "eng")
		f.rec("external_ids", "x1", "A", "system", "sso", "value", "a-1")
		yes := true
		// A chain: A into B, B into C, C into D; A's external ID moves.
		var chain []int64
		for _, p := range [][2]string{{"B", "A"}, {"C", "B"}, {"D", "C"}} {
			ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: p[0], Sources: []string{p[1]}, MoveExternalIDs: &yes})
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, ms[0].ID)
		}
		m := f.merge("F", "E")
		f.revert(m[0].ID)
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "G", true); err != nil {
			t.Fatal(err)
		}
		refs := []string{"A", "login-B", "sso:a-1", "D", "E", "G", "nobody", "X", "A"}
		got, err := f.e.Resolve(f.ctx, f.as("admin"), refs)
		if err != nil {
			t.Fatal(err)
		}
		type brief struct {
			State, Named, Account string
			Chain                 []int64
			Reverted              []int64
		}
		short := func(rs []usermerge.Resolution) []brief {
			var out []brief
			for _, r := range rs {
				b := brief{State: r.State, Reverted: r.Reverted}
				if r.Named != nil {
					b.Named = r.Named.ID
				}
				if r.Account != nil {
					b.Account = r.Account.ID
				}
				for _, s := range r.Chain {
					b.Chain = append(b.Chain, s.Merge)
					if s.At.IsZero() {
						t.Errorf("%s: a step without its time", r.Ref)
					}
				}
				out = append(out, b)
			}
			return out
		}
		want := []brief{
			{State: "merged", Named: "A", Account: "D", Chain: chain},
			{State: "merged", Named: "B", Account: "D", Chain: chain[1:]},
			{State: "merged", Named: "D", Account: "D"}, // the moved external ID is held by the chain's end now
			{State: "active", Named: "D", Account: "D"},
			{State: "active", Named: "E", Account: "E", Reverted: []int64{m[0].ID}},
			{State: "deleted", Named: "G"},
			{State: "not_found"},
			{State: "active", Named: "X", Account: "X"},
			{State: "merged", Named: "A", Account: "D", Chain: chain},
		}
		want[2].State = "active"
		if d := cmp.Diff(want, short(got)); d != "" {
			t.Errorf("resolutions (-want +got):\n%s", d)
		}
		for i, r := range got {
			if r.Ref != refs[i] {
				t.Errorf("answer %d is for %q, not %q", i, r.Ref, refs[i])
			}
		}
		// E named first and last of 600 references, X between (two lookup chunks of
		// 500): its reverted merge is listed once in both answers.
		many := make([]string, 600)
		for i := range many {
			many[i] = "X"
		}
		many[0], many[599] = "E", "login-E"
		got, err = f.e.Resolve(f.ctx, f.as("admin"), many)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 599} {
			if !slices.Equal(got[i].Reverted, []int64{m[0].ID}) {
				t.Errorf("%s among 600 references: reverted %v, want [%d]", many[i], got[i].Reverted, m[0].ID)
			}
		}
		// A group manager of sales does not see X (eng): not found.
		got, err = f.e.Resolve(f.ctx, f.as("sales-editor"), []string{"X", "A"})
		if err != nil || got[0].State != "not_found" || got[0].Named != nil || got[1].Account == nil || got[1].Account.ID != "D" {
			t.Errorf("group manager: %+v %v", got, err)
		}
		if _, err := f.e.Resolve(f.ctx, f.as("admin"), nil); usermerge.ErrorReason(err) != "refs_required" {
			t.Errorf("no refs: %v", err)
		}
		if _, err := f.e.Resolve(f.ctx, f.as("admin"), make([]string, usermerge.MaxResolveRefs+1)); usermerge.ErrorReason(err) != "too_many_refs" {
			t.Errorf("1,001 refs: %v", err)
		}
		if _, err := f.e.Resolve(f.ctx, f.as("admin"), []string{"A", " "}); usermerge.ErrorReason(err) != "empty_ref" {
			t.Errorf("an empty ref: %v", err)
		}
	})
}

// otherTenant makes a second tenant t2 with its own administrator "admin".
func (f *fixture) otherTenant() Caller {
	f.t.Helper()
	f.tx(func(tx *store.Tx) error {
		if err := tx.PutTenant(f.ctx, usermerge.Tenant{ID: "t2", Name: "Tenant Two", Policy: usermerge.Presets["learningbox"]}); err != nil {
			return err
		}
		return tx.PutAdmin(f.ctx, usermerge.Admin{TenantID: "t2", ID: "b1", Login: "admin", Role: usermerge.TenantAdmin}, "")
	})
	return Caller{Tenant: "t2", Admin: "admin"}
}
