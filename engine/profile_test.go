package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// profileFixture: T kept, S and S2 to merge, each with its own name and email.
func profileFixture(t *testing.T) *fixture {
	f := pair(t, "learningbox")
	f.account("S2", "east")
	return f
}

func (f *fixture) mergeProfile(profile map[string]string, target string, sources ...string) []usermerge.Merge {
	f.t.Helper()
	ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: target, Sources: sources, Profile: profile})
	if err != nil {
		f.t.Fatalf("merge %v into %s with profile %v: %v", sources, target, profile, err)
	}
	return ms
}

func TestProfileTargetValueStaysWhenNotChosen(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := profileFixture(t)
		ms := f.mergeProfile(map[string]string{"email": ""}, "T", "S") // a field naming no one is left out
		if a := f.acct("T"); a.Name != "Name T" || a.Email != "T@example.test" {
			t.Errorf("kept account after a merge choosing nothing: %q <%s>, want its own values", a.Name, a.Email)
		}
		if len(ms[0].Profile) != 0 {
			t.Errorf("merge records profile changes %+v, want none", ms[0].Profile)
		}
	})
}

func TestProfileSourceValueTakenPreviewedRecordedReverted(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := profileFixture(t)
		before := snapshot(t, f.db)
		req := usermerge.MergeRequest{Target: "T", Sources: []string{"S"}, Profile: map[string]string{"email": "login-S"}}
		p, err := f.e.Preview(f.ctx, f.as("admin"), req)
		if err != nil {
			t.Fatal(err)
		}
		want := []usermerge.ProfileChange{{Field: "email", Label: "Email", Before: "T@example.test", After: "S@example.test", Source: "login-S"}}
		if diff := cmp.Diff(want, p.Profile); diff != "" {
			t.Errorf("preview profile (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Fatalf("the preview wrote (-before +after):\n%s", diff)
		}
		m := f.mergeProfile(req.Profile, "T", "S")[0]
		if a := f.acct("T"); a.Email != "S@example.test" || a.Name != "Name T" {
			t.Errorf("kept account after taking the source's email: %q <%s>, want Name T <S@example.test>", a.Name, a.Email)
		}
		if diff := cmp.Diff(want, m.Profile); diff != "" {
			t.Errorf("merge's profile (-want +got):\n%s", diff)
		}
		if m.Target.Email != "S@example.test" {
			t.Errorf("the merge's record shows the kept account's email as %s, want the one the merge gave it", m.Target.Email)
		}
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, d.Merge.Profile); diff != "" {
			t.Errorf("merge details' profile (-want +got):\n%s", diff)
		}
		rep := f.revert(m.ID)
		if len(rep.KeptNewer) != 0 {
			t.Errorf("revert kept %+v, want nothing kept", rep.KeptNewer)
		}
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Errorf("revert not exact (-before +after):\n%s", diff)
		}
	})
}

func TestProfileTieChangesAndRecordsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := profileFixture(t)
		f.exec("UPDATE accounts SET name = 'Maria Garcia' WHERE tenant_id = ? AND id IN ('T', 'S')", f.tenant)
		req := usermerge.MergeRequest{Target: "T", Sources: []string{"S"}, Profile: map[string]string{"name": "S", "email": "S"}}
		p, err := f.e.Preview(f.ctx, f.as("admin"), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Profile) != 1 || p.Profile[0].Field != "email" {
			t.Errorf("preview of a tie on the name: %+v, want the email change only", p.Profile)
		}
		m := f.mergeProfile(req.Profile, "T", "S")[0]
		if len(m.Profile) != 1 || m.Profile[0].Field != "email" {
			t.Errorf("merge with a tie on the name recorded %+v, want the email change only", m.Profile)
		}
		var n int
		f.tx(func(tx *store.Tx) error {
			return tx.QueryRow(f.ctx, "SELECT COUNT(*) FROM merge_profile WHERE tenant_id = ? AND merge_id = ? AND field = 'name'", f.tenant, m.ID).Scan(&n)
		})
		if n != 0 {
			t.Errorf("%d rows stored for the tied name, want none", n)
		}
		if a := f.acct("T"); a.Name != "Maria Garcia" {
			t.Errorf("name after the tie: %q", a.Name)
		}
	})
}

func TestProfileRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := profileFixture(t)
		f.account("X", "east")
		f.exec("UPDATE accounts SET email = '' WHERE tenant_id = ? AND id = 'S2'", f.tenant)
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
		for _, c := range []struct {
			name, reason, says string
			profile            map[string]string
		}{
			{"unknown field", "unknown_profile_field", `"phone" is not a profile field`, map[string]string{"phone": "S"}},
			{"account not merged", "profile_source_not_merged", `"login-X", which is not one of the accounts to merge`, map[string]string{"email": "login-X"}},
			{"the target itself", "profile_source_not_merged", `"T", which is not one of`, map[string]string{"name": "T"}},
			{"no such account", "profile_source_not_merged", `"nobody"`, map[string]string{"name": "nobody"}},
			{"empty value", "profile_value_empty", "login-S2 has no email to keep", map[string]string{"email": "S2"}},
		} {
			req := usermerge.MergeRequest{Target: "T", Sources: []string{"S", "S2"}, Profile: c.profile}
			_, perr := f.e.Preview(f.ctx, f.as("admin"), req)
			_, merr := f.e.Merge(f.ctx, f.as("admin"), req)
			for what, err := range map[string]error{"preview": perr, "merge": merr} {
				if usermerge.ErrorCode(err) != usermerge.Invalid || usermerge.ErrorReason(err) != c.reason || !strings.Contains(usermerge.ErrorMessage(err), c.says) {
					t.Errorf("%s, %s: err = %v, want %s saying %q", c.name, what, err, c.reason, c.says)
				}
			}
		}
		if diff := cmp.Diff(before, snap()); diff != "" {
			t.Errorf("refused merges wrote (-before +after):\n%s", diff)
		}
	})
}

func TestProfileSeveralSourcesRevertedInAnyOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		for _, order := range [][]int{{0, 1}, {1, 0}, {-1}} { // -1: both in one batch
			f := profileFixture(t)
			before := snapshot(t, f.db)
			ms := f.mergeProfile(map[string]string{"name": "S", "email": "login-S2"}, "T", "S", "S2")
			if a := f.acct("T"); a.Name != "Name S" || a.Email != "S2@example.test" {
				t.Fatalf("kept account: %q <%s>, want the name of S and the email of S2", a.Name, a.Email)
			}
			if len(ms[0].Profile) != 1 || ms[0].Profile[0].Field != "name" || len(ms[1].Profile) != 1 || ms[1].Profile[0].Source != "login-S2" {
				t.Errorf("each merge records its own source's field: %+v / %+v", ms[0].Profile, ms[1].Profile)
			}
			if order[0] == -1 {
				f.revert(ms[0].ID, ms[1].ID)
			} else {
				// one at a time: the newer merge must go first; the older alone is refused
				if _, err := f.e.Revert(f.ctx, f.as("admin"), []int64{ms[order[0]].ID}); order[0] == 0 && usermerge.ErrorReason(err) != "later_merge" {
					t.Fatalf("reverting the older merge first: err = %v, want later_merge", err)
				} else if order[0] == 1 && err != nil {
					t.Fatal(err)
				}
				if order[0] == 1 {
					if a := f.acct("T"); a.Name != "Name S" || a.Email != "T@example.test" {
						t.Errorf("after reverting the second merge: %q <%s>, want S's name and T's own email", a.Name, a.Email)
					}
					f.revert(ms[0].ID)
				} else {
					f.revert(ms[1].ID, ms[0].ID)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
				t.Errorf("order %v: revert not exact (-before +after):\n%s", order, diff)
			}
		}
	})
}

func TestProfileRevertKeepsValueChangedAfterMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := profileFixture(t)
		m := f.mergeProfile(map[string]string{"name": "S", "email": "S"}, "T", "S")[0]
		f.exec("UPDATE accounts SET email = 'new@example.test' WHERE tenant_id = ? AND id = 'T'", f.tenant)
		rep := f.revert(m.ID)
		a := f.acct("T")
		if a.Name != "Name T" {
			t.Errorf("name, unchanged since the merge: %q, want the one before the merge back", a.Name)
		}
		if a.Email != "new@example.test" {
			t.Errorf("email, changed after the merge: %q, want the newer value kept", a.Email)
		}
		want := []usermerge.KeptNewer{{MergeID: m.ID, Kind: usermerge.ProfileKind, RecordID: "email", Reason: usermerge.KeptChanged, Account: "T",
			Merged: map[string]string{"email": "S@example.test"}, Current: map[string]string{"email": "new@example.test"}, Before: map[string]string{"email": "T@example.test"}}}
		if diff := cmp.Diff(want, rep.KeptNewer); diff != "" {
			t.Errorf("revert report (-want +got):\n%s", diff)
		}
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if d.Revert == nil || cmp.Diff(want, d.Revert.KeptNewer) != "" {
			t.Errorf("details' revert: %+v, want the kept email stored with the merge", d.Revert)
		}
	})
}
