package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// refusalFixture: T, S, S2 in sales/east; O in eng; X inactive; D deleted;
// M already merged into T2; ADM linked to an admin.
func refusalFixture(t *testing.T) *fixture {
	f := newFixture(t, "learningbox")
	for _, id := range []string{"T", "S", "S2", "T2", "M", "X", "D", "ADM"} {
		f.account(id, "east")
	}
	f.account("O", "eng")
	f.rec("signins", "sig", "S", "at", day(1), "ip", "1.1.1.1", "client", "x")
	f.merge("T2", "M")
	f.exec(`UPDATE accounts SET status = 'inactive' WHERE id = 'X'`)
	f.exec(`UPDATE accounts SET deleted_at = ? WHERE id = 'D'`, day(1))
	f.tx(func(tx *store.Tx) error {
		return tx.PutAdmin(f.ctx, usermerge.Admin{TenantID: f.tenant, ID: "a9", Login: "learner-admin", Role: usermerge.TenantAdmin, AccountID: "ADM"}, "")
	})
	return f
}

func TestMergeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		many := make([]string, 11)
		for i := range many {
			many[i] = "S"
		}
		cases := []struct {
			name    string
			as      string
			target  string
			sources []string
			setup   func(f *fixture)
			code    usermerge.Code
			reason  string
			mention string
			message string // the exact sentence, where it names accounts
		}{
			{name: "merging switched off", as: "admin", target: "T", sources: []string{"S"},
				setup: func(f *fixture) { f.exec(`UPDATE tenants SET merge_enabled = 0`) }, code: usermerge.Forbidden, reason: "merging_disabled"},
			{name: "view right only", as: "eng-viewer", target: "T", sources: []string{"S"}, code: usermerge.Forbidden, reason: "no_merge_permission"},
			{name: "unknown admin", as: "nobody", target: "T", sources: []string{"S"}, code: usermerge.Forbidden, reason: "unknown_admin"},
			{name: "account outside scope", as: "sales-editor", target: "T", sources: []string{"O"}, code: usermerge.NotFound, reason: "not_found"},
			{name: "account does not exist", as: "admin", target: "T", sources: []string{"nope"}, code: usermerge.NotFound, reason: "not_found"},
			{name: "source deleted", as: "admin", target: "T", sources: []string{"D"}, code: usermerge.Conflict, reason: "account_deleted"},
			{name: "target deleted", as: "admin", target: "D", sources: []string{"S"}, code: usermerge.Conflict, reason: "account_deleted"},
			{name: "source already merged", as: "admin", target: "T", sources: []string{"M"}, code: usermerge.Conflict, reason: "source_already_merged",
				message: "login-M (Name M) is already merged into login-T2 (Name T2) by merge 1"},
			{name: "target not active", as: "admin", target: "X", sources: []string{"S"}, code: usermerge.Conflict, reason: "target_not_active"},
			{name: "target merged away", as: "admin", target: "M", sources: []string{"S"}, code: usermerge.Conflict, reason: "target_merged",
				message: "login-M (Name M) was itself merged into login-T2 (Name T2); choose that account to keep"},
			{name: "source is the target", as: "admin", target: "T", sources: []string{"T"}, code: usermerge.Invalid, reason: "source_is_target"},
			{name: "source named twice", as: "admin", target: "T", sources: []string{"S", "login-S"}, code: usermerge.Invalid, reason: "duplicate_source"},
			{name: "source holds admin rights", as: "admin", target: "T", sources: []string{"ADM"}, code: usermerge.Conflict, reason: "source_is_admin"},
			{name: "no sources", as: "admin", target: "T", code: usermerge.Invalid, reason: "sources_required"},
			{name: "no target", as: "admin", sources: []string{"S"}, code: usermerge.Invalid, reason: "target_required"},
			{name: "more than ten sources", as: "admin", target: "T", sources: many, code: usermerge.Invalid, reason: "too_many_sources"},
			{name: "third source refused leaves first two untouched", as: "admin", target: "T", sources: []string{"S", "S2", "D"},
				code: usermerge.Conflict, reason: "account_deleted"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := refusalFixture(t)
				if c.setup != nil {
					c.setup(f)
				}
				before := snapshot(t, f.db)
				req := usermerge.MergeRequest{Target: c.target, Sources: c.sources}
				_, perr := f.e.Preview(f.ctx, f.as(c.as), req)
				_, err := f.e.Merge(f.ctx, f.as(c.as), req)
				for what, err := range map[string]error{"preview": perr, "merge": err} {
					var de *usermerge.Error
					if !errors.As(err, &de) || de.Code != c.code || de.Reason != c.reason {
						t.Errorf("%s: err = %v, want %s/%s", what, err, c.code, c.reason)
						continue
					}
					if de.Message == "" || strings.Contains(de.Message, "sql") {
						t.Errorf("%s: message %q is not for administrators", what, de.Message)
					}
					if c.message != "" && de.Message != c.message {
						t.Errorf("%s: message %q, want %q", what, de.Message, c.message)
					}
					if c.mention != "" && !strings.Contains(de.Message, c.mention) {
						t.Errorf("%s: message %q does not mention %q", what, de.Message, c.mention)
					}
				}
				if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
					t.Errorf("refused merge changed data (-before +after):\n%s", diff)
				}
			})
		}
	})
}

func TestThreeSourcesOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := refusalFixture(t)
		f.rec("signins", "sig2", "S2", "at", day(2), "ip", "2.2.2.2", "client", "x")
		f.account("S3", "east")
		f.rec("signins", "sig3", "S3", "at", day(3), "ip", "3.3.3.3", "client", "x")
		before := snapshot(t, f.db)
		f.e.afterSource = func(n int) error {
			if n == 3 {
				return errors.New("disk on fire")
			}
			return nil
		}
		_, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S", "S2", "S3"}})
		if usermerge.ErrorCode(err) != usermerge.Internal || usermerge.ErrorMessage(err) != "internal error" {
			t.Fatalf("failing third source: err = %v, want an internal error with a generic message", err)
		}
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Fatalf("a failure in the third source left changes (-before +after):\n%s", diff)
		}
		f.e.afterSource = nil
		ms := f.merge("T", "S", "S2", "S3")
		if len(ms) != 3 {
			t.Fatalf("got %d merge records, want 3", len(ms))
		}
		for i, m := range ms {
			if m.OperationID != ms[0].OperationID {
				t.Errorf("merge %d has operation %d, want %d", m.ID, m.OperationID, ms[0].OperationID)
			}
			if i > 0 && m.ID <= ms[i-1].ID {
				t.Errorf("merge ids not increasing: %d after %d", m.ID, ms[i-1].ID)
			}
			if a := f.acct(m.Source.ID); a.Status != usermerge.Inactive || a.MergedInto != "T" || a.MergedBy != m.ID {
				t.Errorf("source %s after merge: %+v", m.Source.ID, a)
			}
		}
		for _, id := range []string{"sig", "sig2", "sig3"} {
			if got := f.owner("signins", id); got != "T" {
				t.Errorf("%s on %s, want T", id, got)
			}
		}
	})
}

func TestPreviewCountsMatchMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.account("S2", "east")
		seedOverlaps(f, "T", "S", "S2")
		p, err := f.e.Preview(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S", "S2"}})
		if err != nil {
			t.Fatal(err)
		}
		ms := f.merge("T", "S", "S2")
		for i, sp := range p.Sources {
			for _, kp := range sp.Kinds {
				if got := ms[i].Counts[kp.Kind]; got != kp.Counts {
					t.Errorf("source %s %s: preview %+v, merge %+v", sp.Source.ID, kp.Kind, kp.Counts, got)
				}
			}
		}
		if len(p.Sources[0].Warnings) == 0 || !strings.Contains(strings.Join(usermerge.Messages(p.Sources[0].Warnings), " "), "signed in recently") {
			t.Errorf("preview warnings = %v, want a recent sign-in warning", p.Sources[0].Warnings)
		}
		if !strings.Contains(strings.Join(usermerge.Messages(p.Sources[0].Warnings), " "), "still active") {
			t.Errorf("preview warnings = %v, want a still-active warning", p.Sources[0].Warnings)
		}
	})
}

// seedOverlaps gives every account a record of every kind on shared items.
func seedOverlaps(f *fixture, accounts ...string) {
	for i, a := range accounts {
		n := int64(i + 1)
		f.rec("signins", "si-"+a, a, "at", day(int(n)), "ip", "10.0.0.1", "client", "web")
		f.rec("attempts", "at-"+a, a, "content_id", "q1", "content_type", "quiz", "attempt_no", 1, "score", 5*n, "max_score", 10, "started_at", day(int(10-n)))
		f.rec("badges", "ba-"+a, a, "badge_id", "gold", "acquired_at", day(int(20*n)))
		f.rec("credits", "cr-"+a, a, "points", 10*n, "reason", "x", "awarded_at", day(5))
		f.rec("certificates", "ce-"+a, a, "subject_type", "course", "subject_id", "c1", "number", "N-"+a, "issued_at", day(5))
		f.rec("course_progress", "co-"+a, a, "course_id", "c1", "status", "in_progress", "percent", 10*n, "enrolled_at", day(int(30*n)))
		f.rec("lecture_progress", "le-"+a, a, "lecture_id", "l1", "course_id", "c1", "percent", 10*n, "last_access", day(int(n)))
		f.rec("path_progress", "pa-"+a, a, "path_id", "p1", "status", "completed", "percent", 100, "enrolled_at", day(90), "completed_at", day(int(10*n)))
		f.rec("quiz_sessions", "qs-"+a, a, "quiz_id", "q1", "answers", "{}", "last_studied_at", day(int(4-n)))
		f.rec("master_states", "ms-"+a, a, "quiz_id", "q1", "results", "r", "last_studied_at", day(int(n)))
		f.rec("poll_responses", "po-"+a, a, "poll_id", "p1", "answer", "a-"+a, "answered_at", day(int(n)))
		f.rec("event_registrations", "ev-"+a, a, "event_id", "e1", "registered_at", day(int(n)), "attended", n%2)
		f.rec("external_ids", "ex-"+a, a, "system", "sso", "value", "SSO-"+a)
		f.rec("financial_records", "fi-"+a, a, "type", "payment", "amount_cents", 100*n, "currency", "EUR", "at", day(3))
	}
}

// Several sources: each is previewed against the target as the earlier
// sources leave it, so the preview's counts equal the merge's for every
// source and kind, renumbered attempts included; and the preview writes
// nothing, not even a merge id.
func TestPreviewOfSeveralSourcesIsExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.account("S2", "east")
		f.account("S3", "east")
		seedOverlaps(f, "T", "S", "S2", "S3")
		// content q9 only the sources share: S2's and S3's renumbering
		// depends on S's attempts having moved first; two start at once
		f.rec("attempts", "q9-S", "S", "content_id", "q9", "content_type", "quiz", "attempt_no", 1, "started_at", day(6))
		f.rec("attempts", "q9-S2", "S2", "content_id", "q9", "content_type", "quiz", "attempt_no", 1, "started_at", day(6))
		f.rec("attempts", "q9-S2b", "S2", "content_id", "q9", "content_type", "quiz", "attempt_no", 2, "started_at", day(2))
		f.rec("attempts", "q9-S3", "S3", "content_id", "q9", "content_type", "quiz", "attempt_no", 1, "started_at", day(9))
		// a poll only S2 and S3 answered, and a quiz session only S and S3 hold
		f.rec("poll_responses", "p9-S2", "S2", "poll_id", "p9", "answer", "a", "answered_at", day(3))
		f.rec("poll_responses", "p9-S3", "S3", "poll_id", "p9", "answer", "b", "answered_at", day(4))
		f.rec("quiz_sessions", "q9s-S", "S", "quiz_id", "q9", "answers", "{}", "last_studied_at", day(4))
		f.rec("quiz_sessions", "q9s-S3", "S3", "quiz_id", "q9", "answers", "{}", "last_studied_at", day(1))
		req := usermerge.MergeRequest{Target: "T", Sources: []string{"S", "S2", "S3"}}
		all := append(store.DataTables(), store.JournalTables()...)
		snap := func() map[string][]string {
			var out map[string][]string
			f.tx(func(tx *store.Tx) error {
				var err error
				out, err = storetest.Snapshot(f.ctx, tx, append(all, "counters"), "")
				return err
			})
			return out
		}
		before := snap()
		p, err := f.e.Preview(f.ctx, f.as("admin"), req)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, snap()); diff != "" {
			t.Fatalf("the preview wrote (-before +after):\n%s", diff)
		}
		ms := f.merge("T", "S", "S2", "S3")
		if ms[0].ID != 1 {
			t.Errorf("first merge id %d: the preview consumed ids", ms[0].ID)
		}
		changed := 0
		for i, sp := range p.Sources {
			for _, kp := range sp.Kinds {
				if got := ms[i].Counts[kp.Kind]; got != kp.Counts {
					t.Errorf("source %s %s: preview %+v, merge %+v", sp.Source.ID, kp.Kind, kp.Counts, got)
				}
				if i > 0 && kp.Kind == usermerge.KindAttempts {
					changed += int(kp.Counts.Changed)
				}
			}
		}
		if changed == 0 {
			t.Errorf("the later sources renumber nothing: the case does not test the sequence")
		}
	})
}
