package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store/storetest"
)

func TestRevertChainNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, id := range []string{"A", "B", "C"} {
			f.account(id, "east")
		}
		seedOverlaps(f, "A", "B", "C")
		before := snapshot(t, f.db)
		m1 := f.merge("A", "B")[0] // B into A
		m2 := f.merge("C", "A")[0] // then A into C
		// B's records now sit on C, marked by m2 with m1 remembered
		if got := f.owner("signins", "si-B"); got != "C" {
			t.Fatalf("B's sign-in on %s after the chain, want C", got)
		}
		_, err := f.e.Revert(f.ctx, f.as("admin"), []int64{m1.ID})
		if usermerge.ErrorReason(err) != "later_merge" || !strings.Contains(usermerge.ErrorMessage(err), "revert merge") {
			t.Fatalf("reverting the older merge alone: err = %v, want later_merge naming what to do", err)
		}
		rep := f.revert(m1.ID, m2.ID) // given oldest first; reverted newest first
		if diff := cmp.Diff([]int64{m2.ID, m1.ID}, rep.Reverted); diff != "" {
			t.Errorf("revert order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Errorf("chain revert not exact (-before +after):\n%s", diff)
		}
		for _, id := range []int64{m1.ID, m2.ID} {
			d, err := f.e.MergeDetails(f.ctx, f.as("admin"), id, 10)
			if err != nil {
				t.Fatal(err)
			}
			if d.Merge.State != usermerge.StateReverted || d.Merge.RevertedBy != "admin" || d.Merge.RevertedAt == nil || d.Revert == nil {
				t.Errorf("merge %d after revert: state %s by %q at %v", id, d.Merge.State, d.Merge.RevertedBy, d.Merge.RevertedAt)
			}
		}
	})
}

func TestRevertChainReverseOrderOneByOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, id := range []string{"A", "B", "C"} {
			f.account(id, "east")
		}
		seedOverlaps(f, "A", "B", "C")
		before := snapshot(t, f.db)
		m1 := f.merge("A", "B")[0]
		afterFirst := snapshot(t, f.db)
		m2 := f.merge("C", "A")[0]
		f.revert(m2.ID)
		if diff := cmp.Diff(afterFirst, snapshot(t, f.db)); diff != "" {
			t.Errorf("reverting the newer merge did not give back the state after the first (-want +got):\n%s", diff)
		}
		f.revert(m1.ID)
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Errorf("not exact (-before +after):\n%s", diff)
		}
	})
}

func TestRevertKeepsNewerValuesAndReportsThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("lecture_progress", "tl", "T", "lecture_id", "l1", "course_id", "c1", "percent", 20, "last_access", day(9))
		f.rec("lecture_progress", "sl", "S", "lecture_id", "l1", "course_id", "c1", "percent", 60, "last_access", day(8))
		f.rec("badges", "tb", "T", "badge_id", "gold", "acquired_at", day(5))
		f.rec("badges", "sb", "S", "badge_id", "gold", "acquired_at", day(50))
		m := f.merge("T", "S")[0]
		// after the merge the learner keeps studying on the kept account
		f.exec(`UPDATE lecture_progress SET percent = 90, last_access = ? WHERE id = 'tl'`, day(0))
		f.rec("signins", "new", "T", "at", day(0), "ip", "9.9.9.9", "client", "app") // created after the merge
		rep := f.revert(m.ID)
		if len(rep.KeptNewer) != 1 {
			t.Fatalf("kept newer = %+v, want the one changed lecture", rep.KeptNewer)
		}
		k := rep.KeptNewer[0]
		if k.Kind != usermerge.KindLectures || k.RecordID != "tl" || k.Current["percent"] != "90" || k.Merged["percent"] != "60" || k.Before["percent"] != "20" {
			t.Errorf("kept newer = %+v", k)
		}
		if got := int64v(f.val("lecture_progress", "tl", "percent")); got != 90 {
			t.Errorf("changed lecture percent = %d, want the newer 90 kept", got)
		}
		if got := int64v(f.val("badges", "tb", "acquired_at")); got != day(5) {
			t.Errorf("badge time = %d, want restored %d", got, day(5))
		}
		if got := f.owner("lecture_progress", "sl"); got != "S" {
			t.Errorf("source's lecture: %s, want live on S again", got)
		}
		if got := f.owner("signins", "new"); got != "T" {
			t.Errorf("sign-in created after the merge: %s, want to stay on T", got)
		}
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if d.Revert == nil || len(d.Revert.KeptNewer) != 1 || d.Revert.KeptNewer[0].RecordID != "tl" {
			t.Errorf("details revert report = %+v", d.Revert)
		}
	})
}

func TestRevertRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		cases := []struct {
			name   string
			setup  func(f *fixture, m usermerge.Merge) []int64
			as     string
			reason string
		}{
			{"tenant forbids reverts", func(f *fixture, m usermerge.Merge) []int64 {
				f.exec(`UPDATE tenants SET revert_allowed = 0`)
				return []int64{m.ID}
			}, "admin", "revert_not_allowed"},
			{"already reverted", func(f *fixture, m usermerge.Merge) []int64 { f.revert(m.ID); return []int64{m.ID} }, "admin", "already_reverted"},
			{"source deleted makes it permanent", func(f *fixture, m usermerge.Merge) []int64 {
				if _, err := f.e.Delete(f.ctx, f.as("admin"), "S", false); err != nil {
					f.t.Fatal(err)
				}
				return []int64{m.ID}
			}, "admin", "merge_permanent"},
			{"target deleted", func(f *fixture, m usermerge.Merge) []int64 {
				if _, err := f.e.Delete(f.ctx, f.as("admin"), "T", true); err != nil {
					f.t.Fatal(err)
				}
				return []int64{m.ID}
			}, "admin", "target_deleted"},
			{"view right only", func(f *fixture, m usermerge.Merge) []int64 { return []int64{m.ID} }, "eng-viewer", "no_merge_permission"},
			{"unknown merge", func(f *fixture, m usermerge.Merge) []int64 { return []int64{m.ID, 999} }, "admin", "merge_not_found"},
			{"named twice", func(f *fixture, m usermerge.Merge) []int64 { return []int64{m.ID, m.ID} }, "admin", "duplicate_merge"},
			{"empty batch", func(f *fixture, m usermerge.Merge) []int64 { return nil }, "admin", "merges_required"},
			{"later merge on the target", func(f *fixture, m usermerge.Merge) []int64 {
				f.account("S9", "east")
				f.merge("T", "S9")
				return []int64{m.ID}
			}, "admin", "later_merge"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := pair(t, "learningbox")
				f.rec("signins", "s1", "S", "at", day(1), "ip", "1.1.1.1", "client", "x")
				m := f.merge("T", "S")[0]
				ids := c.setup(f, m)
				before := snapshot(t, f.db)
				_, err := f.e.Revert(f.ctx, f.as(c.as), ids)
				if usermerge.ErrorReason(err) != c.reason {
					t.Fatalf("err = %v, want reason %s", err, c.reason)
				}
				if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
					t.Errorf("refused revert changed data (-before +after):\n%s", diff)
				}
			})
		}
	})
}

func TestSchooxPresetMergesAreIrreversible(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		m := f.merge("T", "S")[0]
		if m.DisplayState != usermerge.StateIrreversible {
			t.Errorf("display state = %s, want irreversible", m.DisplayState)
		}
		page, err := f.e.ListMerges(f.ctx, f.as("admin"), usermerge.MergeFilter{State: usermerge.StateIrreversible})
		if err != nil || page.Total != 1 {
			t.Errorf("irreversible filter: %+v, %v", page, err)
		}
	})
}
