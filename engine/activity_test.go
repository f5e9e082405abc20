package engine

import (
	"slices"
	"testing"

	"usermerge"
	"usermerge/store/storetest"
)

// keptReasons indexes a revert report as record → reason.
func keptReasons(rep usermerge.RevertReport) map[string]string {
	out := map[string]string{}
	for _, k := range rep.KeptNewer {
		out[string(k.Kind)+"/"+k.RecordID] = k.Reason
	}
	return out
}

// Merge → activity after the merge on every keep-latest kind → revert: the
// revert succeeds, a kept record that changed since stays on the target
// with its newer value and the record it was kept over stays retired, both
// reported; unchanged records go back exactly (PRODUCT.md §6).
func TestRevertAfterActivityOnKeepLatestKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		// q1: the source's session is later and kept; studied further after the merge
		f.rec("quiz_sessions", "tq1", "T", "quiz_id", "q1", "answers", `{"1":"a"}`, "last_studied_at", day(8))
		f.rec("quiz_sessions", "sq1", "S", "quiz_id", "q1", "answers", `{"1":"b"}`, "last_studied_at", day(2))
		// q2: the source's session is kept, graded after the merge, then a new
		// suspended session of the same quiz starts on the target
		f.rec("quiz_sessions", "tq2", "T", "quiz_id", "q2", "answers", `{}`, "last_studied_at", day(8))
		f.rec("quiz_sessions", "sq2", "S", "quiz_id", "q2", "answers", `{"1":"c"}`, "last_studied_at", day(2))
		// q3: the target's session is kept and graded after the merge; the
		// source's goes back to the source
		f.rec("quiz_sessions", "tq3", "T", "quiz_id", "q3", "answers", `{}`, "last_studied_at", day(1))
		f.rec("quiz_sessions", "sq3", "S", "quiz_id", "q3", "answers", `{}`, "last_studied_at", day(6))
		// q4: the source's only session of quiz q4 moves and is not touched again
		f.rec("quiz_sessions", "sq4", "S", "quiz_id", "q4", "answers", `{"1":"d"}`, "last_studied_at", day(3))
		// master state: the source's kept and advanced after the merge
		f.rec("master_states", "tm", "T", "quiz_id", "q1", "results", "3/10", "last_studied_at", day(9))
		f.rec("master_states", "sm", "S", "quiz_id", "q1", "results", "5/10", "last_studied_at", day(4))
		// polls: p1 the source's answer kept and changed after; p2 the
		// target's kept and changed after; p3 the source's only answer moves,
		// and the source answers p3 again after the merge
		f.rec("poll_responses", "tp1", "T", "poll_id", "p1", "answer", "yes", "answered_at", day(9))
		f.rec("poll_responses", "sp1", "S", "poll_id", "p1", "answer", "no", "answered_at", day(3))
		f.rec("poll_responses", "tp2", "T", "poll_id", "p2", "answer", "red", "answered_at", day(1))
		f.rec("poll_responses", "sp2", "S", "poll_id", "p2", "answer", "blue", "answered_at", day(7))
		f.rec("poll_responses", "sp3", "S", "poll_id", "p3", "answer", "maybe", "answered_at", day(5))

		m := f.merge("T", "S")[0]
		// activity after the merge
		f.exec(`UPDATE quiz_sessions SET answers = '{"1":"b","2":"e"}', last_studied_at = ? WHERE tenant_id = ? AND id = 'sq1'`, day(0), f.tenant)
		graded, err := f.e.ForceGrade(f.ctx, f.as("admin"), "T", "q2")
		if err != nil || !slices.Equal(graded, []string{"sq2"}) {
			t.Fatalf("force grading q2 graded %v (%v), want only the kept sq2", graded, err)
		}
		f.rec("quiz_sessions", "new-q2", "T", "quiz_id", "q2", "answers", `{}`, "last_studied_at", day(0))
		if graded, err := f.e.ForceGrade(f.ctx, f.as("admin"), "T", "q3"); err != nil || !slices.Equal(graded, []string{"tq3"}) {
			t.Fatalf("force grading q3 graded %v (%v), want only the kept tq3", graded, err)
		}
		f.exec(`UPDATE master_states SET results = '7/10', last_studied_at = ? WHERE tenant_id = ? AND id = 'sm'`, day(0), f.tenant)
		f.exec(`UPDATE poll_responses SET answer = 'no, never', answered_at = ? WHERE tenant_id = ? AND id = 'sp1'`, day(0), f.tenant)
		f.exec(`UPDATE poll_responses SET answer = 'green', answered_at = ? WHERE tenant_id = ? AND id = 'tp2'`, day(0), f.tenant)
		f.rec("poll_responses", "sp3-again", "S", "poll_id", "p3", "answer", "no", "answered_at", day(0))

		rep := f.revert(m.ID) // never refused because of later activity
		got := keptReasons(rep)
		want := map[string]string{
			"quiz_session/sq1":  usermerge.KeptChanged,   // studied further: stays, newer
			"quiz_session/tq1":  usermerge.KeptItemTaken, // stays retired
			"quiz_session/sq2":  usermerge.KeptChanged,   // graded after the merge
			"quiz_session/tq2":  usermerge.KeptItemTaken,
			"master_state/sm":   usermerge.KeptChanged,
			"master_state/tm":   usermerge.KeptItemTaken,
			"poll_response/sp1": usermerge.KeptChanged,
			"poll_response/tp1": usermerge.KeptItemTaken,
			"poll_response/sp3": usermerge.KeptItemTaken, // the source answered p3 again
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("revert report for %s = %q, want %q", k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("revert report names %s (%s), which went back unchanged", k, got[k])
			}
		}
		owners := map[string]string{
			"quiz_sessions/sq1": "T", "quiz_sessions/tq1": "T (retired)",
			"quiz_sessions/sq2": "T", "quiz_sessions/tq2": "T (retired)", "quiz_sessions/new-q2": "T",
			"quiz_sessions/tq3": "T", "quiz_sessions/sq3": "S", // the target's kept one stays, graded; the source's returns
			"quiz_sessions/sq4": "S", // unchanged: back to the source
			"master_states/sm":  "T", "master_states/tm": "T (retired)",
			"poll_responses/sp1": "T", "poll_responses/tp1": "T (retired)",
			"poll_responses/tp2": "T", "poll_responses/sp2": "S", // the target's kept answer stays with its newer value
			"poll_responses/sp3": "T", "poll_responses/sp3-again": "S",
		}
		for rec, want := range owners {
			table, id, _ := cut(rec)
			if got := f.owner(table, id); got != want {
				t.Errorf("%s belongs to %s after the revert, want %s", rec, got, want)
			}
		}
		if v := f.val("quiz_sessions", "sq1", "answers"); string(asBytes(v)) != `{"1":"b","2":"e"}` {
			t.Errorf("sq1 answers = %s, want the newer ones", asBytes(v))
		}
		if v := f.val("poll_responses", "tp2", "answer"); string(asBytes(v)) != "green" {
			t.Errorf("tp2 answer = %s, want green", asBytes(v))
		}
		if a := f.acct("S"); a.MergedInto != "" || a.Status != usermerge.Active {
			t.Errorf("source after revert: %+v", a)
		}
		// the report is kept with the merge
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if d.Revert == nil || len(d.Revert.KeptNewer) != len(want) {
			t.Errorf("stored revert report = %+v, want %d records", d.Revert, len(want))
		}
	})
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// detailRecords lists a merge's detail records as kind/record → actions,
// failing on a record listed twice.
func detailRecords(t *testing.T, f *fixture, id int64) map[string]usermerge.RecordChange {
	t.Helper()
	d, err := f.e.MergeDetails(f.ctx, f.as("admin"), id, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]usermerge.RecordChange{}
	for _, k := range d.Kinds {
		for _, r := range k.Records {
			key := string(k.Kind) + "/" + r.RecordID
			if _, dup := out[key]; dup {
				t.Errorf("merge %d lists %s twice", id, key)
			}
			out[key] = r
		}
	}
	return out
}

// Details are read from what the merge recorded: after a revert they still
// list every record, with where it is now; after a chain (B into A, then A
// into C) the first merge still lists all it moved.
func TestDetailsCompleteAfterRevertAndChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for _, a := range []string{"A", "B", "C"} {
			f.account(a, "east")
		}
		seedOverlaps(f, "A", "B")
		m1 := f.merge("A", "B")[0]
		first := detailRecords(t, f, m1.ID)
		if len(first) == 0 {
			t.Fatal("merge 1 lists nothing")
		}
		wantMoved := []string{"signin/si-B", "attempt/at-B", "quiz_session/qs-B"}
		for _, k := range wantMoved {
			if r, ok := first[k]; !ok || !slices.Contains(r.Actions, usermerge.Moved) || r.Account != "A" {
				t.Errorf("merge 1 details of %s = %+v, want moved to A", k, r)
			}
		}
		if r := first["attempt/at-B"]; !slices.Contains(r.Actions, usermerge.Changed) {
			t.Errorf("moved and renumbered attempt lists %v, want both", r.Actions)
		}
		if r := first["badge/ba-B"]; !slices.Contains(r.Actions, usermerge.Retired) || !r.Retired {
			t.Errorf("retired badge: %+v", r)
		}

		m2 := f.merge("C", "A")[0]
		chained := detailRecords(t, f, m1.ID)
		sameRecords(t, "after the chain", first, chained)
		if r := chained["signin/si-B"]; r.Account != "C" {
			t.Errorf("si-B is now on %s per merge 1's details, want C", r.Account)
		}

		f.revert(m2.ID, m1.ID)
		reverted := detailRecords(t, f, m1.ID)
		sameRecords(t, "after the revert", first, reverted)
		if r := reverted["signin/si-B"]; r.Account != "B" {
			t.Errorf("si-B is now on %s per the reverted merge's details, want B", r.Account)
		}
		if r := reverted["badge/ba-B"]; r.Retired {
			t.Errorf("ba-B still shown retired after the revert: %+v", r)
		}
		if r := reverted["badge/ba-A"]; field(r, "acquired_at").Before == nil {
			t.Errorf("combined badge lost its before/after after the revert: %+v", r)
		}
		// merge 2 lists what it moved too, merge 1's records among them
		second := detailRecords(t, f, m2.ID)
		if _, ok := second["signin/si-B"]; !ok {
			t.Errorf("merge 2 does not list si-B, which it moved from A to C")
		}
	})
}

// sameRecords demands that a merge's details still list every record of
// first, with the same actions.
func sameRecords(t *testing.T, when string, first, now map[string]usermerge.RecordChange) {
	t.Helper()
	for k, r := range first {
		c, ok := now[k]
		if !ok {
			t.Errorf("%s merge 1 no longer lists %s", when, k)
			continue
		}
		if !slices.Equal(c.Actions, r.Actions) {
			t.Errorf("%s %s lists %v, before %v", when, k, c.Actions, r.Actions)
		}
	}
}
