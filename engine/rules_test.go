package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store/storetest"
)

// pair makes a fixture with target T and source S in the same group.
func pair(t *testing.T, preset string) *fixture {
	f := newFixture(t, preset)
	f.account("T", "east")
	f.account("S", "east")
	return f
}

func int64v(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case int16:
		return int64(x)
	}
	return -1
}

// mergeRevertExact merges S into T, runs check, reverts and demands the
// data tables equal what they were before the merge.
func mergeRevertExact(t *testing.T, f *fixture, check func(m usermerge.Merge)) {
	t.Helper()
	before := snapshot(t, f.db)
	ms := f.merge("T", "S")
	check(ms[0])
	if !f.acctPolicy().RevertAllowed {
		return
	}
	rep := f.revert(ms[0].ID)
	if len(rep.KeptNewer) != 0 {
		t.Errorf("revert kept newer records although nothing changed: %+v", rep.KeptNewer)
	}
	if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
		t.Errorf("revert is not exact (-before +after):\n%s", diff)
	}
}

func (f *fixture) acctPolicy() usermerge.Policy {
	t, err := f.e.Settings(f.ctx, f.as("admin"))
	if err != nil {
		f.t.Fatal(err)
	}
	return t.Policy
}

func TestRuleSignInsMoveAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		for _, preset := range usermerge.PresetNames {
			t.Run(preset, func(t *testing.T) {
				f := pair(t, preset)
				f.rec("signins", "s1", "S", "at", day(3), "ip", "10.0.0.1", "client", "firefox")
				f.rec("signins", "s2", "S", "at", day(2), "ip", "10.0.0.2", "client", "app")
				f.rec("signins", "t1", "T", "at", day(1), "ip", "10.0.0.3", "client", "chrome")
				mergeRevertExact(t, f, func(m usermerge.Merge) {
					for _, id := range []string{"s1", "s2", "t1"} {
						if got := f.owner("signins", id); got != "T" {
							t.Errorf("sign-in %s belongs to %s, want T", id, got)
						}
					}
					if c := m.Counts[usermerge.KindSignIns]; c.Moved != 2 {
						t.Errorf("counts = %+v, want 2 moved", c)
					}
				})
			})
		}
	})
}

func TestRuleAttemptsRenumberedInTimeOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		// quiz q1: T attempted on days 10 and 4, S on days 12 and 6 → time order S1, T1, S2, T2
		f.rec("attempts", "t-a1", "T", "content_id", "q1", "content_type", "quiz", "attempt_no", 1, "score", 50, "max_score", 100, "started_at", day(10))
		f.rec("attempts", "t-a2", "T", "content_id", "q1", "content_type", "quiz", "attempt_no", 2, "score", 70, "max_score", 100, "started_at", day(4))
		f.rec("attempts", "s-a1", "S", "content_id", "q1", "content_type", "quiz", "attempt_no", 1, "score", 40, "max_score", 100, "started_at", day(12))
		f.rec("attempts", "s-a2", "S", "content_id", "q1", "content_type", "quiz", "attempt_no", 2, "score", 90, "max_score", 100, "passed", 1, "started_at", day(6))
		// exam e1 only on S: numbers stay
		f.rec("attempts", "s-e1", "S", "content_id", "e1", "content_type", "exam", "attempt_no", 1, "score", 8, "max_score", 10, "started_at", day(9))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			want := map[string]int64{"s-a1": 1, "t-a1": 2, "s-a2": 3, "t-a2": 4, "s-e1": 1}
			for id, n := range want {
				if got := int64v(f.val("attempts", id, "attempt_no")); got != n {
					t.Errorf("attempt %s number = %d, want %d", id, got, n)
				}
				if got := f.owner("attempts", id); got != "T" {
					t.Errorf("attempt %s belongs to %s, want T", id, got)
				}
			}
			if c := m.Counts[usermerge.KindAttempts]; c.Moved != 3 || c.Changed != 3 {
				t.Errorf("counts = %+v, want 3 moved, 3 renumbered", c)
			}
		})
	})
}

func TestRuleBadgesTransferTakeSourceTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("badges", "tb", "T", "badge_id", "gold", "acquired_at", day(5))
		f.rec("badges", "sb", "S", "badge_id", "gold", "acquired_at", day(50))
		f.rec("badges", "sb2", "S", "badge_id", "silver", "acquired_at", day(40))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := int64v(f.val("badges", "tb", "acquired_at")); got != day(50) {
				t.Errorf("target's gold badge acquired at %d, want the source's time %d", got, day(50))
			}
			if got := f.owner("badges", "sb"); got != "S (retired)" {
				t.Errorf("source's gold badge: %s, want retired on S", got)
			}
			if got := f.owner("badges", "sb2"); got != "T" {
				t.Errorf("source's silver badge: %s, want moved to T", got)
			}
		})
		// the revert (checked exact above) restored the target's own time
		if got := int64v(f.val("badges", "tb", "acquired_at")); got != day(5) {
			t.Errorf("after revert the badge time is %d, want the target's original %d", got, day(5))
		}
	})
}

func TestRuleBadgesAndCreditsStayWithSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("badges", "sb", "S", "badge_id", "gold", "acquired_at", day(50))
		f.rec("credits", "sc", "S", "points", 30, "reason", "course", "awarded_at", day(20))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("badges", "sb"); got != "S" {
				t.Errorf("badge: %s, want left on S", got)
			}
			if got := f.owner("credits", "sc"); got != "S" {
				t.Errorf("credit: %s, want left on S", got)
			}
			if c := m.Counts[usermerge.KindBadges]; c.Left != 1 || c.Moved != 0 {
				t.Errorf("badge counts = %+v, want 1 left", c)
			}
			if c := m.Counts[usermerge.KindCredits]; c.Left != 1 {
				t.Errorf("credit counts = %+v, want 1 left", c)
			}
		})
	})
}

func TestRuleCreditsTransferWhenSet(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		if _, err := f.e.UpdateSettings(f.ctx, f.as("admin"), SettingsChange{Set: map[string]string{"credits": "transfer"}}); err != nil {
			t.Fatal(err)
		}
		f.rec("credits", "sc", "S", "points", 30, "reason", "course", "awarded_at", day(20))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("credits", "sc"); got != "T" {
				t.Errorf("credit: %s, want moved to T", got)
			}
		})
	})
}

func TestRuleCertificatesNotMerged(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("certificates", "sc", "S", "subject_type", "course", "subject_id", "c1", "number", "CERT-1", "issued_at", day(20))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("certificates", "sc"); got != "S" {
				t.Errorf("certificate: %s, want left on S", got)
			}
		})
	})
}

func TestRuleCertificatesTransferAllKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("certificates", "tc", "T", "subject_type", "course", "subject_id", "c1", "number", "CERT-T", "issued_at", day(10))
		f.rec("certificates", "sc", "S", "subject_type", "course", "subject_id", "c1", "number", "CERT-S", "issued_at", day(20))
		f.rec("certificates", "sp", "S", "subject_type", "path", "subject_id", "p1", "number", "CERT-P", "issued_at", day(30))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			for _, id := range []string{"tc", "sc", "sp"} {
				if got := f.owner("certificates", id); got != "T" {
					t.Errorf("certificate %s: %s, want kept on T", id, got)
				}
			}
		})
	})
}

func progressCase(t *testing.T, table, key string) {
	type row struct {
		status    string
		percent   int
		enrolled  int64
		completed any
	}
	cases := []struct {
		name   string
		tr, sr row
		want   row
	}{
		{"completion beats incompletion", row{"in_progress", 60, day(100), nil}, row{"completed", 100, day(90), day(30)},
			row{"completed", 100, day(100), day(30)}},
		{"both complete keeps earliest completion", row{"completed", 100, day(80), day(10)}, row{"completed", 100, day(120), day(40)},
			row{"completed", 100, day(120), day(40)}},
		{"neither complete keeps highest percent", row{"in_progress", 25, day(50), nil}, row{"in_progress", 75, day(60), nil},
			row{"in_progress", 75, day(60), nil}},
		{"earliest enrolment", row{"enrolled", 0, day(200), nil}, row{"in_progress", 10, day(20), nil},
			row{"in_progress", 10, day(200), nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := pair(t, "learningbox")
			f.rec(table, "tr", "T", key, "x1", "status", c.tr.status, "percent", c.tr.percent, "enrolled_at", c.tr.enrolled, "completed_at", c.tr.completed)
			f.rec(table, "sr", "S", key, "x1", "status", c.sr.status, "percent", c.sr.percent, "enrolled_at", c.sr.enrolled, "completed_at", c.sr.completed)
			f.rec(table, "only", "S", key, "x2", "status", "in_progress", "percent", 5, "enrolled_at", day(3))
			mergeRevertExact(t, f, func(m usermerge.Merge) {
				got := row{f.val(table, "tr", "status").(string), int(int64v(f.val(table, "tr", "percent"))),
					int64v(f.val(table, "tr", "enrolled_at")), f.val(table, "tr", "completed_at")}
				if got.completed != nil {
					got.completed = int64v(got.completed)
				}
				if got != c.want {
					t.Errorf("combined = %+v, want %+v", got, c.want)
				}
				if o := f.owner(table, "sr"); o != "S (retired)" {
					t.Errorf("source's record: %s, want retired on S", o)
				}
				if o := f.owner(table, "only"); o != "T" {
					t.Errorf("source-only record: %s, want moved to T", o)
				}
			})
		})
	}
}

func TestRuleCourseProgressCombined(t *testing.T) { progressCase(t, "course_progress", "course_id") }

func TestRuleLearningPathProgressCombined(t *testing.T) { progressCase(t, "path_progress", "path_id") }

func TestRuleLectureHighestPercentLatestAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("lecture_progress", "tl", "T", "lecture_id", "l1", "course_id", "c1", "percent", 25, "last_access", day(2))
		f.rec("lecture_progress", "sl", "S", "lecture_id", "l1", "course_id", "c1", "percent", 75, "last_access", day(9))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := int64v(f.val("lecture_progress", "tl", "percent")); got != 75 {
				t.Errorf("percent = %d, want 75", got)
			}
			if got := int64v(f.val("lecture_progress", "tl", "last_access")); got != day(2) {
				t.Errorf("last access = %d, want the latest %d", got, day(2))
			}
		})
	})
}

func TestRuleLatestSuspendedQuizSessionKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("quiz_sessions", "tq", "T", "quiz_id", "q1", "answers", `{"1":"a"}`, "last_studied_at", day(8))
		f.rec("quiz_sessions", "sq", "S", "quiz_id", "q1", "answers", `{"1":"b","2":"c"}`, "last_studied_at", day(1))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("quiz_sessions", "sq"); got != "T" {
				t.Errorf("latest (source's) session: %s, want kept on T", got)
			}
			if got := f.owner("quiz_sessions", "tq"); got != "T (retired)" {
				t.Errorf("older (target's) session: %s, want retired", got)
			}
			if _, err := f.e.ResumeSession(f.ctx, f.as("admin"), "tq"); usermerge.ErrorReason(err) != "session_retired" {
				t.Errorf("resume retired session: err = %v, want session_retired", err)
			}
			if _, err := f.e.ResumeSession(f.ctx, f.as("admin"), "sq"); err != nil {
				t.Errorf("resume kept session: %v", err)
			}
			// forced grading is checked on a copy of this state below
		})
		// forced grading acts only on the kept session
		f2 := pair(t, "learningbox")
		f2.rec("quiz_sessions", "tq", "T", "quiz_id", "q1", "answers", "{}", "last_studied_at", day(8))
		f2.rec("quiz_sessions", "sq", "S", "quiz_id", "q1", "answers", "{}", "last_studied_at", day(1))
		f2.merge("T", "S")
		graded, err := f2.e.ForceGrade(f2.ctx, f2.as("admin"), "T", "q1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"sq"}, graded); diff != "" {
			t.Errorf("forced grading graded (-want +got):\n%s", diff)
		}
		if f2.val("quiz_sessions", "tq", "graded_at") != nil {
			t.Error("the retired session was graded")
		}
	})
}

func TestRuleLatestMasterModeStateKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.rec("master_states", "tm", "T", "quiz_id", "q1", "results", "T-results", "last_studied_at", day(1))
		f.rec("master_states", "sm", "S", "quiz_id", "q1", "results", "S-results", "last_studied_at", day(7))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("master_states", "tm"); got != "T" {
				t.Errorf("latest (target's) state: %s, want T", got)
			}
			if got := f.owner("master_states", "sm"); got != "S (retired)" {
				t.Errorf("older (source's) state: %s, want retired on S", got)
			}
		})
	})
}

func TestRuleLatestPollAnswerKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("poll_responses", "tp", "T", "poll_id", "p1", "answer", "old answer", "answered_at", day(30))
		f.rec("poll_responses", "sp", "S", "poll_id", "p1", "answer", "new answer", "answered_at", day(3))
		f.rec("poll_responses", "sp2", "S", "poll_id", "p2", "answer", "only", "answered_at", day(3))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := f.owner("poll_responses", "sp"); got != "T" {
				t.Errorf("latest answer: %s, want on T", got)
			}
			if got := f.owner("poll_responses", "tp"); got != "T (retired)" {
				t.Errorf("older answer: %s, want retired", got)
			}
			if c := m.Counts[usermerge.KindPolls]; c.Moved != 2 || c.Retired != 1 {
				t.Errorf("counts = %+v, want 2 moved, 1 retired", c)
			}
		})
	})
}

func TestRuleEventAttendedIfEitherEarliestRegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("event_registrations", "te", "T", "event_id", "e1", "registered_at", day(5), "attended", 0)
		f.rec("event_registrations", "se", "S", "event_id", "e1", "registered_at", day(15), "attended", 1)
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			if got := int64v(f.val("event_registrations", "te", "attended")); got != 1 {
				t.Errorf("attended = %d, want 1", got)
			}
			if got := int64v(f.val("event_registrations", "te", "registered_at")); got != day(15) {
				t.Errorf("registered at %d, want the earliest %d", got, day(15))
			}
		})
	})
}

func TestRuleExternalIDsMovedOnlyWhenAsked(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		for _, move := range []bool{false, true} {
			t.Run(map[bool]string{false: "not asked", true: "asked"}[move], func(t *testing.T) {
				f := pair(t, "schoox")
				f.rec("external_ids", "x1", "S", "system", "sso", "value", "S-SSO-1")
				ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}, MoveExternalIDs: &move})
				if err != nil {
					t.Fatal(err)
				}
				want := map[bool]string{false: "S", true: "T"}[move]
				acc, err := f.e.ResolveExternalID(f.ctx, f.as("admin"), "sso", "S-SSO-1")
				if err != nil {
					t.Fatal(err)
				}
				if acc.ID != want {
					t.Errorf("sso:S-SSO-1 resolves to %s, want %s", acc.ID, want)
				}
				if ms[0].MoveExternalIDs != move {
					t.Errorf("merge record says move_external_ids=%v", ms[0].MoveExternalIDs)
				}
			})
		}
	})
}

func TestRuleFinancialRecordsMoveAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "schoox")
		f.rec("financial_records", "f1", "S", "type", "order", "amount_cents", 1999, "currency", "USD", "at", day(9))
		f.rec("financial_records", "f2", "S", "type", "refund", "amount_cents", -1999, "currency", "USD", "at", day(8))
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			for _, id := range []string{"f1", "f2"} {
				if got := f.owner("financial_records", id); got != "T" {
					t.Errorf("%s: %s, want T", id, got)
				}
			}
		})
	})
}

func TestRuleTargetOrgStructureAndProfileKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("T", "east")
		f.account("S", "east")
		f.exec(`INSERT INTO memberships (tenant_id, account_id, group_id) VALUES ('t1', 'S', 'eng')`)
		f.exec(`INSERT INTO account_jobs (tenant_id, account_id, job_id) VALUES ('t1', 'S', 'dev'), ('t1', 'T', 'rep')`)
		mergeRevertExact(t, f, func(m usermerge.Merge) {
			info, err := f.e.AccountInfo(f.ctx, f.as("admin"), "T")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"Sales East"}, info.Groups); diff != "" {
				t.Errorf("target groups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"Sales rep"}, info.Jobs); diff != "" {
				t.Errorf("target jobs (-want +got):\n%s", diff)
			}
			if info.Name != "Name T" || info.Email != "T@example.test" || info.Login != "login-T" {
				t.Errorf("target profile changed: %+v", info.Account)
			}
			if c := m.Counts[usermerge.KindMemberships]; c.Left != 2 {
				t.Errorf("membership counts = %+v, want 2 left on the source", c)
			}
		})
	})
}
