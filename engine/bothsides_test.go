package engine

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge/store/storetest"
)

// Every combine operator and every keep-latest comparison, from both sides:
// the target's value winning, the source's winning, a tie (the target's
// record is kept, PRODUCT.md §3) and a missing value. Each case merges one
// target record with one source record of the same item, checks the live
// record's values, then reverts and demands the data back exactly.

type sideCase struct {
	name       string
	t, s       []any          // the two records' columns (name, value pairs)
	want       map[string]any // the live record's columns after the merge (nil: NULL)
	keptFrom   string         // keep-latest: "T" or "S", whose record stays live
	liveRecord string         // combine: the record that holds the combined values
}

func checkSides(t *testing.T, preset, table, item string, cases []sideCase) {
	storetest.Each(t, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := pair(t, preset)
				f.rec(table, "rt", "T", append([]any{item, "x1"}, c.t...)...)
				f.rec(table, "rs", "S", append([]any{item, "x1"}, c.s...)...)
				before := snapshot(t, f.db)
				ms := f.merge("T", "S")
				live := c.liveRecord
				if c.keptFrom != "" {
					live = map[string]string{"T": "rt", "S": "rs"}[c.keptFrom]
					other := map[string]string{"rt": "rs", "rs": "rt"}[live]
					if got := f.owner(table, live); got != "T" {
						t.Errorf("kept record %s belongs to %s, want T (live)", live, got)
					}
					if got := f.owner(table, other); got == "T" || got == "S" {
						t.Errorf("the other record %s is live on %s, want it retired", other, got)
					}
				}
				for col, want := range c.want {
					got := f.val(table, live, col)
					if fmt.Sprint(norm(got)) != fmt.Sprint(norm(want)) {
						t.Errorf("%s.%s = %v, want %v", live, col, got, want)
					}
				}
				rep := f.revert(ms[0].ID)
				if len(rep.KeptNewer) != 0 {
					t.Errorf("revert kept records although nothing changed: %+v", rep.KeptNewer)
				}
				if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
					t.Errorf("revert is not exact (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// norm makes database integers of either driver comparable with Go ints.
func norm(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case []byte:
		return string(x)
	}
	return v
}

func TestCombineCourseProgressBothSides(t *testing.T) {
	progressSides(t, "course_progress", "course_id")
}

func TestCombinePathProgressBothSides(t *testing.T) {
	progressSides(t, "path_progress", "path_id")
}

func progressSides(t *testing.T, table, item string) {
	rec := func(status string, percent int, enrolled int64, completed any) []any {
		return []any{"status", status, "percent", percent, "enrolled_at", enrolled, "completed_at", completed}
	}
	checkSides(t, "learningbox", table, item, []sideCase{
		{name: "source completed, target not", t: rec("in_progress", 40, day(30), nil), s: rec("completed", 100, day(20), day(5)),
			want: map[string]any{"status": "completed", "percent": 100, "enrolled_at": day(30), "completed_at": day(5)}, liveRecord: "rt"},
		{name: "target completed, source not", t: rec("completed", 100, day(20), day(5)), s: rec("in_progress", 90, day(30), nil),
			want: map[string]any{"status": "completed", "percent": 100, "enrolled_at": day(30), "completed_at": day(5)}, liveRecord: "rt"},
		{name: "both completed, source earlier", t: rec("completed", 100, day(10), day(2)), s: rec("completed", 100, day(40), day(8)),
			want: map[string]any{"status": "completed", "completed_at": day(8), "enrolled_at": day(40)}, liveRecord: "rt"},
		{name: "both completed, target earlier", t: rec("completed", 100, day(40), day(8)), s: rec("completed", 100, day(10), day(2)),
			want: map[string]any{"status": "completed", "completed_at": day(8), "enrolled_at": day(40)}, liveRecord: "rt"},
		{name: "both completed, same time", t: rec("completed", 100, day(40), day(8)), s: rec("completed", 100, day(40), day(8)),
			want: map[string]any{"status": "completed", "completed_at": day(8), "enrolled_at": day(40)}, liveRecord: "rt"},
		{name: "both completed, target's time missing", t: rec("completed", 100, day(40), nil), s: rec("completed", 100, day(40), day(8)),
			want: map[string]any{"completed_at": day(8)}, liveRecord: "rt"},
		{name: "both completed, source's time missing", t: rec("completed", 100, day(40), day(8)), s: rec("completed", 100, day(40), nil),
			want: map[string]any{"completed_at": day(8)}, liveRecord: "rt"},
		{name: "neither, source higher", t: rec("in_progress", 30, day(10), nil), s: rec("in_progress", 70, day(10), nil),
			want: map[string]any{"status": "in_progress", "percent": 70, "completed_at": nil}, liveRecord: "rt"},
		{name: "neither, target higher", t: rec("in_progress", 70, day(10), nil), s: rec("enrolled", 30, day(10), nil),
			want: map[string]any{"status": "in_progress", "percent": 70}, liveRecord: "rt"},
		{name: "source in progress beats enrolled", t: rec("enrolled", 0, day(10), nil), s: rec("in_progress", 10, day(12), nil),
			want: map[string]any{"status": "in_progress", "percent": 10, "enrolled_at": day(12)}, liveRecord: "rt"},
		{name: "same percent", t: rec("in_progress", 50, day(10), nil), s: rec("in_progress", 50, day(10), nil),
			want: map[string]any{"percent": 50, "enrolled_at": day(10)}, liveRecord: "rt"},
	})
}

func TestCombineLectureBothSides(t *testing.T) {
	rec := func(percent int, access int64) []any {
		return []any{"course_id", "c1", "percent", percent, "last_access", access}
	}
	checkSides(t, "learningbox", "lecture_progress", "lecture_id", []sideCase{
		{name: "source higher and later", t: rec(20, day(9)), s: rec(80, day(1)), want: map[string]any{"percent": 80, "last_access": day(1)}, liveRecord: "rt"},
		{name: "target higher and later", t: rec(80, day(1)), s: rec(20, day(9)), want: map[string]any{"percent": 80, "last_access": day(1)}, liveRecord: "rt"},
		{name: "source higher, target later", t: rec(20, day(1)), s: rec(80, day(9)), want: map[string]any{"percent": 80, "last_access": day(1)}, liveRecord: "rt"},
		{name: "tie", t: rec(50, day(3)), s: rec(50, day(3)), want: map[string]any{"percent": 50, "last_access": day(3)}, liveRecord: "rt"},
	})
}

func TestCombineEventBothSides(t *testing.T) {
	rec := func(reg int64, attended int) []any { return []any{"registered_at", reg, "attended", attended} }
	checkSides(t, "learningbox", "event_registrations", "event_id", []sideCase{
		{name: "source attended, registered earlier", t: rec(day(2), 0), s: rec(day(9), 1), want: map[string]any{"attended": 1, "registered_at": day(9)}, liveRecord: "rt"},
		{name: "target attended, registered earlier", t: rec(day(9), 1), s: rec(day(2), 0), want: map[string]any{"attended": 1, "registered_at": day(9)}, liveRecord: "rt"},
		{name: "neither attended", t: rec(day(3), 0), s: rec(day(3), 0), want: map[string]any{"attended": 0, "registered_at": day(3)}, liveRecord: "rt"},
		{name: "both attended", t: rec(day(3), 1), s: rec(day(4), 1), want: map[string]any{"attended": 1, "registered_at": day(4)}, liveRecord: "rt"},
	})
}

func TestCombineBadgeBothSides(t *testing.T) {
	checkSides(t, "learningbox", "badges", "badge_id", []sideCase{
		{name: "source earlier", t: []any{"acquired_at", day(2)}, s: []any{"acquired_at", day(9)}, want: map[string]any{"acquired_at": day(9)}, liveRecord: "rt"},
		{name: "source later", t: []any{"acquired_at", day(9)}, s: []any{"acquired_at", day(2)}, want: map[string]any{"acquired_at": day(2)}, liveRecord: "rt"},
		{name: "same time", t: []any{"acquired_at", day(5)}, s: []any{"acquired_at", day(5)}, want: map[string]any{"acquired_at": day(5)}, liveRecord: "rt"},
	})
}

func TestKeepLatestQuizSessionBothSides(t *testing.T) {
	rec := func(at int64, answers string) []any { return []any{"answers", answers, "last_studied_at", at} }
	checkSides(t, "learningbox", "quiz_sessions", "quiz_id", []sideCase{
		{name: "source later", t: rec(day(5), `{"1":"t"}`), s: rec(day(1), `{"1":"s"}`), keptFrom: "S", want: map[string]any{"answers": `{"1":"s"}`}},
		{name: "target later", t: rec(day(1), `{"1":"t"}`), s: rec(day(5), `{"1":"s"}`), keptFrom: "T", want: map[string]any{"answers": `{"1":"t"}`}},
		{name: "tie keeps the target's", t: rec(day(3), `{"1":"t"}`), s: rec(day(3), `{"1":"s"}`), keptFrom: "T", want: map[string]any{"answers": `{"1":"t"}`}},
	})
}

func TestKeepLatestMasterStateBothSides(t *testing.T) {
	rec := func(at int64, r string) []any { return []any{"results", r, "last_studied_at", at} }
	checkSides(t, "learningbox", "master_states", "quiz_id", []sideCase{
		{name: "source later", t: rec(day(5), "t"), s: rec(day(1), "s"), keptFrom: "S", want: map[string]any{"results": "s"}},
		{name: "target later", t: rec(day(1), "t"), s: rec(day(5), "s"), keptFrom: "T", want: map[string]any{"results": "t"}},
		{name: "tie keeps the target's", t: rec(day(3), "t"), s: rec(day(3), "s"), keptFrom: "T", want: map[string]any{"results": "t"}},
	})
}

func TestKeepLatestPollBothSides(t *testing.T) {
	rec := func(at int64, a string) []any { return []any{"answer", a, "answered_at", at} }
	checkSides(t, "learningbox", "poll_responses", "poll_id", []sideCase{
		{name: "source later", t: rec(day(5), "yes"), s: rec(day(1), "no"), keptFrom: "S", want: map[string]any{"answer": "no"}},
		{name: "target later", t: rec(day(1), "yes"), s: rec(day(5), "no"), keptFrom: "T", want: map[string]any{"answer": "yes"}},
		{name: "tie keeps the target's", t: rec(day(3), "yes"), s: rec(day(3), "no"), keptFrom: "T", want: map[string]any{"answer": "yes"}},
	})
}

// Only suspended (ungraded) sessions are paired: a graded session is a
// result, not an open session, so it neither retires nor is retired; it
// moves with the rest. Forced grading after the merge grades the kept
// suspended session and no other.
func TestKeepLatestQuizSessionGradedAndUngraded(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		for _, c := range []struct {
			name             string
			tGraded, sGraded bool
			wantRetired      string // "" none
		}{
			{"both suspended", false, false, "rt"},
			{"target's graded", true, false, ""},
			{"source's graded", false, true, ""},
			{"both graded", true, true, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := pair(t, "learningbox")
				graded := func(g bool) any {
					if g {
						return day(0)
					}
					return nil
				}
				// the source's is the later: where both are open it is kept
				f.rec("quiz_sessions", "rt", "T", "quiz_id", "q1", "answers", "{}", "last_studied_at", day(6), "graded_at", graded(c.tGraded))
				f.rec("quiz_sessions", "rs", "S", "quiz_id", "q1", "answers", "{}", "last_studied_at", day(2), "graded_at", graded(c.sGraded))
				before := snapshot(t, f.db)
				m := f.merge("T", "S")[0]
				for _, id := range []string{"rt", "rs"} {
					want := "T"
					if id == c.wantRetired {
						want = "T (retired)"
					}
					if got := f.owner("quiz_sessions", id); got != want {
						t.Errorf("%s belongs to %s, want %s", id, got, want)
					}
				}
				open := []string{}
				if !c.sGraded {
					open = append(open, "rs")
				} else if !c.tGraded {
					open = append(open, "rt")
				}
				got, err := f.e.ForceGrade(f.ctx, f.as("admin"), "T", "q1")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(open, append([]string{}, got...)); diff != "" {
					t.Errorf("forced grading graded (-want +got):\n%s", diff)
				}
				if c.wantRetired != "" && f.val("quiz_sessions", c.wantRetired, "graded_at") != nil {
					t.Errorf("the retired session was graded")
				}
				rep := f.revert(m.ID)
				// grading after the merge changed the kept session: it stays
				if len(open) > 0 && open[0] == "rs" && len(rep.KeptNewer) == 0 {
					t.Errorf("revert restored a session graded after the merge")
				}
				if len(open) == 0 {
					if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
						t.Errorf("revert is not exact (-before +after):\n%s", diff)
					}
				}
			})
		}
	})
}
