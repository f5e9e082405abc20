package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/store/storetest"
)

func TestActivatingMergedSourceIsRefusedWithTheMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		m := f.merge("T", "S")[0]
		_, err := f.e.Activate(f.ctx, f.as("admin"), "S")
		msg := usermerge.ErrorMessage(err)
		if usermerge.ErrorReason(err) != "account_merged" {
			t.Fatalf("err = %v, want account_merged", err)
		}
		for _, want := range []string{"login-T", "merge 1", base.Format("2006-01-02"), "Revert merge 1"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not mention %q", msg, want)
			}
		}
		f.revert(m.ID)
		if _, err := f.e.Activate(f.ctx, f.as("admin"), "S"); err != nil {
			t.Errorf("activate after revert: %v", err)
		}
	})
}

func TestRevertRestoresSourceStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.exec(`UPDATE accounts SET status = 'inactive' WHERE id = 'S'`)
		m := f.merge("T", "S")[0]
		if m.SourcePrev != usermerge.Inactive {
			t.Errorf("recorded previous status %s", m.SourcePrev)
		}
		f.revert(m.ID)
		if a := f.acct("S"); a.Status != usermerge.Inactive || a.MergedInto != "" || a.MergedBy != 0 {
			t.Errorf("source after revert: %+v, want inactive and unmarked", a)
		}
	})
}

func TestDeletingSourceMakesMergePermanent(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("signins", "s1", "S", "at", day(1), "ip", "1.1.1.1", "client", "x")
		m := f.merge("T", "S")[0]
		im, err := f.e.Delete(f.ctx, f.as("admin"), "S", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(im.AsSource) != 1 || im.AsSource[0] != m.ID {
			t.Errorf("impact = %+v", im)
		}
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if d.Merge.State != usermerge.StatePermanent || !d.Merge.Source.Deleted() {
			t.Errorf("merge after source deletion: state %s, source deleted %v", d.Merge.State, d.Merge.Source.Deleted())
		}
		page, err := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{})
		if err != nil || page.Total != 1 {
			t.Errorf("the merge must stay in the default list: %+v %v", page.Total, err)
		}
		if got := f.owner("signins", "s1"); got != "T" {
			t.Errorf("data must stay with the target, sign-in on %s", got)
		}
		if _, err := f.e.Activate(f.ctx, f.as("admin"), "S"); usermerge.ErrorReason(err) != "account_deleted" {
			t.Errorf("activate deleted: %v", err)
		}
	})
}

func TestDeletingTargetWarnsHidesMergesAndFreesSources(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.account("S2", "east")
		ms := f.merge("T", "S", "S2")
		im, err := f.e.DeletionImpact(f.ctx, f.as("admin"), "T")
		if err != nil {
			t.Fatal(err)
		}
		if im.MergedAccounts != 2 || !strings.Contains(im.Warning, "2 merged account") {
			t.Errorf("impact = %+v, want a warning about 2 merged accounts", im)
		}
		before := snapshot(t, f.db)
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "T", false); usermerge.ErrorReason(err) != "confirm_required" {
			t.Fatalf("unconfirmed delete: %v, want confirm_required", err)
		}
		if after := snapshot(t, f.db); len(after["accounts"]) != len(before["accounts"]) || after["accounts"][0] != before["accounts"][0] {
			t.Fatal("unconfirmed delete changed accounts")
		}
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "T", true); err != nil {
			t.Fatal(err)
		}
		page, _ := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{})
		if page.Total != 0 {
			t.Errorf("default list still shows %d merges into the deleted target", page.Total)
		}
		all, _ := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{State: "all"})
		if all.Total != 2 || all.Merges[0].State != usermerge.StateTargetDeleted {
			t.Errorf("audit list = %d merges (state %v), want 2 target_deleted", all.Total, all.Merges)
		}
		for _, m := range ms {
			if _, err := f.e.Activate(f.ctx, f.as("admin"), m.Source.ID); err != nil {
				t.Errorf("activate freed source %s: %v", m.Source.ID, err)
			}
		}
		if a := f.acct("T"); !a.Deleted() || a.Login != "login-T" {
			t.Errorf("tombstone lost the account: %+v", a)
		}
	})
}

func TestGroupManagerScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("T", "east")
		f.account("S", "east")
		f.account("E1", "eng")
		f.account("E2", "eng")
		f.merge("E1", "E2")
		list, err := f.e.SearchAccounts(f.ctx, f.as("sales-editor"), "", "", 50, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range list {
			ids = append(ids, a.ID)
		}
		if strings.Join(ids, ",") != "S,T" {
			t.Errorf("sales-editor sees %v, want only S and T (subgroup east of sales)", ids)
		}
		if _, err := f.e.Merge(f.ctx, f.as("sales-editor"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}}); err != nil {
			t.Errorf("sales-editor merging inside scope: %v", err)
		}
		page, _ := f.e.ListMerges(f.ctx, f.as("sales-editor"), usermerge.MergeFilter{})
		if page.Total != 1 || page.Merges[0].Target.ID != "T" {
			t.Errorf("sales-editor's merge list = %+v, want only the sales merge", page.Merges)
		}
		view, _ := f.e.ListMerges(f.ctx, f.as("eng-viewer"), usermerge.MergeFilter{})
		if view.Total != 1 || view.Merges[0].Target.ID != "E1" {
			t.Errorf("eng-viewer's merge list = %+v", view.Merges)
		}
		if _, err := f.e.MergeDetails(f.ctx, f.as("eng-viewer"), view.Merges[0].ID, 10); err != nil {
			t.Errorf("eng-viewer opening details: %v", err)
		}
		if _, err := f.e.MergeDetails(f.ctx, f.as("eng-viewer"), page.Merges[0].ID, 10); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("eng-viewer opening an out-of-scope merge: %v, want not found", err)
		}
		if _, err := f.e.Revert(f.ctx, f.as("eng-viewer"), []int64{view.Merges[0].ID}); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("eng-viewer reverting: %v, want forbidden", err)
		}
		if _, err := f.e.Deactivate(f.ctx, f.as("sales-editor"), "E1"); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("sales-editor deactivating outside scope: %v, want not found (out of scope reads as not there)", err)
		}
		if _, err := f.e.UpdateSettings(f.ctx, f.as("sales-editor"), SettingsChange{Preset: "schoox"}); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("group manager changing settings: %v, want forbidden", err)
		}
	})
}

func TestMergeListSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, id := range []string{"T", "S", "T2", "S2"} {
			f.account(id, "east")
		}
		f.rec("external_ids", "x", "S2", "system", "hris", "value", "EMP-4242")
		m1 := f.merge("T", "S")[0]
		f.db.Now = func() time.Time { return base.Add(48 * time.Hour) }
		m2 := f.merge("T2", "S2")[0]
		cases := []struct {
			name string
			f    usermerge.MergeFilter
			want []int64
		}{
			{"all newest first", usermerge.MergeFilter{}, []int64{m2.ID, m1.ID}},
			{"by source name", usermerge.MergeFilter{Source: "name s2"}, []int64{m2.ID}},
			{"by target login", usermerge.MergeFilter{Target: "LOGIN-T2"}, []int64{m2.ID}},
			{"by target email", usermerge.MergeFilter{Target: "t@example"}, []int64{m1.ID}},
			{"by external id", usermerge.MergeFilter{Source: "emp-4242"}, []int64{m2.ID}},
			{"by time range", usermerge.MergeFilter{From: ptr(base.Add(-time.Hour)), To: ptr(base.Add(time.Hour))}, []int64{m1.ID}},
			{"paged", usermerge.MergeFilter{Page: 2, PerPage: 1}, []int64{m1.ID}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				page, err := f.e.ListMerges(f.ctx, f.as("admin"), c.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, m := range page.Merges {
					got = append(got, m.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}
		if _, err := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{State: "bogus"}); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("bogus state: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
