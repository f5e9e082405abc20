package server

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store/storetest"
)

// TestAPIPreviewAndMerge: a preview answers per source and kind with
// warnings and writes nothing; a merge answers 201 with one merge per
// source sharing one operation id.
func TestAPIPreviewAndMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		before := apiState(e)
		yes := true
		st, body := apiSend(admin, "POST", apiAcme+"/merges/preview", MergeBody{Target: "T", Sources: []string{"S", "S3"}, MoveExternalIDs: &yes})
		if apiExpect(t, "preview", st, body, "200") {
			p := apiDecode[usermerge.Preview](t, body)
			if p.Target.ID != "T" || !p.MoveExternalIDs || !p.RevertAllowed || len(p.Sources) != 2 ||
				p.Sources[0].Source.ID != "S" || p.Sources[1].Source.ID != "S3" {
				t.Fatalf("preview: %s", body)
			}
			counts := map[usermerge.Kind]usermerge.Counts{}
			for i, k := range p.Sources[0].Kinds {
				if k.Kind != usermerge.Kinds[i] || k.Label == "" || k.Rule == "" {
					t.Errorf("preview kind %d: %+v, want %s with a label and rule", i, k, usermerge.Kinds[i])
				}
				counts[k.Kind] = k.Counts
			}
			want := map[usermerge.Kind]usermerge.Counts{
				usermerge.KindSignIns:     {Moved: 1},
				usermerge.KindAttempts:    {Moved: 1, Changed: 1},
				usermerge.KindBadges:      {Combined: 1, Retired: 1},
				usermerge.KindExternalIDs: {Moved: 1},
				usermerge.KindMemberships: {Left: 1},
			}
			for _, k := range usermerge.Kinds {
				if counts[k] != want[k] {
					t.Errorf("preview of S, %s: %+v, want %+v", k, counts[k], want[k])
				}
			}
			w := strings.Join(usermerge.Messages(p.Sources[0].Warnings), "\n")
			if !strings.Contains(w, "still active") || !strings.Contains(w, "signed in recently") {
				t.Errorf("preview warnings for S: %q, want still active and signed in recently", w)
			}
			if w := strings.Join(usermerge.Messages(p.Sources[1].Warnings), "\n"); strings.Contains(w, "signed in recently") {
				t.Errorf("preview warnings for S3, who never signed in: %q", w)
			}
		}
		apiUnchanged(t, e, "preview", before)

		for _, tc := range []struct{ name, body string }{
			{"empty body", ""},
			{"not JSON", "target=T"},
			{"unknown field", `{"target":"T","sources":["S"],"keep":"T"}`},
			{"sources not a list", `{"target":"T","sources":"S"}`},
			{"two objects", `{"target":"T","sources":["S"]}{}`},
		} {
			for _, p := range []string{"/merges/preview", "/merges"} {
				st, body := admin.raw("POST", apiAcme+p, "application/json", []byte(tc.body))
				apiExpect(t, "POST "+p+" with "+tc.name, st, body, "400 bad_request")
				apiUnchanged(t, e, "POST "+p+" with "+tc.name, before)
			}
		}

		st, body = apiSend(admin, "POST", apiAcme+"/merges", MergeBody{Target: "t.login", Sources: []string{"S", "s2.login"}, Reason: "same person"})
		if !apiExpect(t, "merge", st, body, "201") {
			t.FailNow()
		}
		ms := apiDecode[apiMergeAnswer](t, body).Merges
		if len(ms) != 2 || ms[0].ID == ms[1].ID || ms[0].OperationID != ms[1].OperationID || ms[0].OperationID == 0 {
			t.Fatalf("merge answered %s", body)
		}
		for i, src := range []string{"S", "S2"} {
			m := ms[i]
			if m.Source.ID != src || m.Target.ID != "T" || m.By != "admin" || m.Reason != "same person" || m.State != usermerge.StateActive ||
				m.DisplayState != usermerge.StateActive || !m.At.Equal(testNow) || m.Source.Status != usermerge.Inactive ||
				m.Source.MergedInto != "T" || m.Source.MergedBy != m.ID || m.SourcePrev != usermerge.Active {
				t.Errorf("merge %d: %+v", i, m)
			}
		}
		if c := ms[0].Counts[usermerge.KindSignIns]; c.Moved != 1 {
			t.Errorf("merge of S moved %d sign-ins, want 1", c.Moved)
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/S", "", nil)
		if apiExpect(t, "GET merged source", st, body, "200") {
			if a := apiDecode[usermerge.AccountSummary](t, body); a.Status != usermerge.Inactive || a.MergedInto != "T" || a.Counts[usermerge.KindSignIns] != 0 {
				t.Errorf("merged source: %+v", a)
			}
		}
	})
}

// TestAPIMergeListAndDetails: the list's filters (time, source, target,
// state, paging), newest first and within the caller's scope; bad filter
// values are 400; the details of a merge per kind.
func TestAPIMergeListAndDetails(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		clock := apiUseClock(e)
		admin, editor, viewer := e.signIn("admin"), e.signIn("editor"), e.signIn("viewer")
		clock.setDay("2026-05-01")
		m1 := apiMerge(t, admin, "T", "S")[0]
		clock.setDay("2026-05-15")
		m2 := apiMerge(t, admin, "T", "S2")[0]
		clock.setDay("2026-06-01")
		m3 := apiMerge(t, admin, "E1", "E2")[0]

		check := func(c *client, who, query string, want []int64, total int64) {
			t.Helper()
			ids, n := apiListIDs(t, c, query)
			if !slices.Equal(ids, want) || n != total {
				t.Errorf("(%s, GET merges%s): %v of %d, want %v of %d", who, query, ids, n, want, total)
			}
		}
		for _, tc := range []struct {
			query string
			want  []int64
			total int64
		}{
			{"", []int64{m3, m2, m1}, 3},
			{"?from=2026-05-10", []int64{m3, m2}, 2},
			{"?to=2026-05-10", []int64{m1}, 1},
			{"?from=2026-05-01&to=2026-05-01", []int64{m1}, 1}, // the end date is included
			{"?from=2026-05-01T10:00:00Z&to=2026-05-15T10:00:00Z", []int64{m1}, 1},
			{"?from=2026-05-15T10:00:00%2B02:00&to=2026-06-01T10:00:00.001Z", []int64{m3, m2}, 2},
			{"?source=s2.login", []int64{m2}, 1},
			{"?source=" + url.QueryEscape("Learner S2"), []int64{m2}, 1},
			{"?source=S@EXAMPLE.TEST", []int64{m1}, 1},
			{"?source=sso-s", []int64{m1}, 1}, // S's external ID
			{"?source=E2", []int64{m3}, 1},
			{"?target=t.login", []int64{m2, m1}, 2},
			{"?target=" + url.QueryEscape("learner e1"), []int64{m3}, 1},
			{"?target=t.login&source=s.login", []int64{m1}, 1},
			{"?source=nobody", []int64{}, 0},
			{"?state=active", []int64{m3, m2, m1}, 3},
			{"?state=reverted", []int64{}, 0},
			{"?state=irreversible", []int64{}, 0}, // acme allows reverts
			{"?state=all", []int64{m3, m2, m1}, 3},
			{"?per_page=2", []int64{m3, m2}, 3},
			{"?per_page=2&page=2", []int64{m1}, 3},
			{"?per_page=2&page=3", []int64{}, 3},
		} {
			check(admin, "admin", tc.query, tc.want, tc.total)
		}
		check(editor, "editor", "", []int64{m2, m1}, 2) // m3 is in eng
		check(viewer, "viewer", "", []int64{m3, m2, m1}, 3)
		check(viewer, "viewer", "?source=e2.login", []int64{m3}, 1)

		for _, q := range []string{"?from=yesterday", "?to=2026-13-01", "?from=2026-05-01T10:00", "?page=0", "?page=x", "?page=-1",
			"?per_page=0", "?per_page=501", "?per_page=ten", "?source=" + strings.Repeat("s", 201), "?target=" + strings.Repeat("t", 201),
			"?state=bogus", "?state=ACTIVE"} {
			st, body := admin.raw("GET", apiAcme+"/merges"+q, "", nil)
			apiExpect(t, "GET merges"+q[:min(len(q), 24)], st, body, "400 bad_request")
		}
		st, body := admin.raw("GET", apiAcme+"/merges?from=2026-06-01&to=2026-05-01", "", nil)
		apiExpect(t, "GET merges with from after to", st, body, "422 invalid_range")

		// Details: per kind, which records moved, were combined, retired or left.
		st, body = viewer.raw("GET", fmt.Sprintf("%s/merges/%d", apiAcme, m1), "", nil)
		if apiExpect(t, "details of m1", st, body, "200") {
			d := apiDecode[usermerge.MergeDetails](t, body)
			if d.Merge.ID != m1 || d.Merge.Source.ID != "S" || d.Merge.Target.ID != "T" || d.Revert != nil || len(d.Kinds) != len(usermerge.Kinds) {
				t.Fatalf("details of m1: %s", body)
			}
			got := map[string]bool{}
			for i, k := range d.Kinds {
				if k.Kind != usermerge.Kinds[i] || k.Label == "" || k.Rule == "" || k.Records == nil {
					t.Errorf("details kind %d: %+v", i, k)
				}
				for _, r := range k.Records {
					for _, a := range r.Actions {
						got[fmt.Sprintf("%s %s %s on %s", r.Kind, r.RecordID, a, r.Account)] = true
					}
				}
			}
			for _, w := range []string{"signin si1 moved on T", "attempt at1 moved on T", "attempt at1 changed on T", "badge b2 combined on T",
				"badge b1 retired on S", "external_id x1 left on S", "membership east left on S"} {
				if !got[w] {
					t.Errorf("details of m1 lack %q; have %v", w, got)
				}
			}
		}
		st, body = editor.raw("GET", fmt.Sprintf("%s/merges/%d", apiAcme, m3), "", nil)
		apiExpect(t, "editor opens a merge outside their scope", st, body, "404 merge_not_found")
		for _, tc := range []struct{ path, want string }{
			{"/merges/999", "404 merge_not_found"},
			{"/merges/abc", "400 bad_request"},
			{"/merges/0", "400 bad_request"},
			{"/merges/-1", "400 bad_request"},
			{fmt.Sprintf("/merges/%d?limit=0", m1), "400 bad_request"},
			{fmt.Sprintf("/merges/%d?limit=10001", m1), "400 bad_request"},
			{fmt.Sprintf("/merges/%d?limit=1", m1), "200"},
		} {
			st, body := admin.raw("GET", apiAcme+tc.path, "", nil)
			apiExpect(t, "GET "+tc.path, st, body, tc.want)
		}

		// A revert shows in the list's state filter and in the details.
		clock.set(testNow.Add(time.Hour)) // within the sessions' lifetime
		st, body = apiSend(admin, "POST", apiAcme+"/merges/revert", RevertBody{Merges: []int64{m3}})
		apiExpect(t, "revert m3", st, body, "200")
		check(admin, "admin", "?state=reverted", []int64{m3}, 1)
		check(admin, "admin", "?state=active", []int64{m2, m1}, 2)
		check(admin, "admin", "", []int64{m3, m2, m1}, 3)
		st, body = admin.raw("GET", fmt.Sprintf("%s/merges/%d", apiAcme, m3), "", nil)
		if apiExpect(t, "details of the reverted m3", st, body, "200") {
			d := apiDecode[usermerge.MergeDetails](t, body)
			if d.Merge.State != usermerge.StateReverted || d.Merge.RevertedBy != "admin" || d.Revert == nil ||
				!slices.Equal(d.Revert.Reverted, []int64{m3}) || d.Revert.By != "admin" || !d.Revert.At.Equal(clock.now()) {
				t.Errorf("details of the reverted m3: merge %+v, revert %+v", d.Merge, d.Revert)
			}
		}
	})
}

// TestAPIRevert: a revert answers its report and gives the source back;
// malformed and impossible batches change nothing.
func TestAPIRevert(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		m1 := apiMerge(t, admin, "T", "S")[0]
		var ids []string
		for i := 1; i <= engine.MaxRevertBatch+1; i++ {
			ids = append(ids, fmt.Sprint(i))
		}
		tooMany := `{"merges":[` + strings.Join(ids, ",") + `]}`
		before := apiState(e)
		for _, tc := range []struct{ name, body, want string }{
			{"empty body", "", "400 bad_request"},
			{"no merges", `{}`, "422 merges_required"},
			{"an empty list", `{"merges":[]}`, "422 merges_required"},
			{"merge 0", `{"merges":[0]}`, "400 bad_request"},
			{"a negative id", `{"merges":[-1]}`, "400 bad_request"},
			{"a string id", `{"merges":["1"]}`, "400 bad_request"},
			{"an unknown merge", `{"merges":[999]}`, "404 merge_not_found"},
			{"a merge twice", fmt.Sprintf(`{"merges":[%d,%d]}`, m1, m1), "422 duplicate_merge"},
			{"too many merges", tooMany, "422 too_many_merges"},
		} {
			st, body := admin.raw("POST", apiAcme+"/merges/revert", "application/json", []byte(tc.body))
			apiExpect(t, "revert with "+tc.name, st, body, tc.want)
			apiUnchanged(t, e, "revert with "+tc.name, before)
		}

		st, body := apiSend(admin, "POST", apiAcme+"/merges/revert", RevertBody{Merges: []int64{m1}})
		if apiExpect(t, "revert", st, body, "200") {
			rep := apiDecode[usermerge.RevertReport](t, body)
			if !slices.Equal(rep.Reverted, []int64{m1}) || rep.By != "admin" || !rep.At.Equal(testNow) || rep.KeptNewer == nil || len(rep.KeptNewer) != 0 {
				t.Errorf("revert report: %s", body)
			}
		}
		st, body = admin.raw("GET", apiAcme+"/accounts/S", "", nil)
		if apiExpect(t, "GET the source after the revert", st, body, "200") {
			a := apiDecode[usermerge.AccountSummary](t, body)
			if a.Status != usermerge.Active || a.MergedInto != "" || a.MergedBy != 0 || a.Counts[usermerge.KindSignIns] != 1 || a.Counts[usermerge.KindBadges] != 1 {
				t.Errorf("source after the revert: %+v", a)
			}
		}
		st, body = admin.raw("GET", apiAcme+"/merges?state=reverted", "", nil)
		if apiExpect(t, "list reverted", st, body, "200") {
			p := apiDecode[usermerge.MergePage](t, body)
			if len(p.Merges) != 1 || p.Merges[0].RevertedBy != "admin" || p.Merges[0].RevertedAt == nil {
				t.Errorf("reverted merges: %s", body)
			}
		}
	})
}
