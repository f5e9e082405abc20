package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// Duplicate detection's job, queue, dismissals, check and rules
// (PRODUCT.md §11), on both databases. The tests that need real scores
// skip while the matcher is the contract's stub (needMatcher).

// needMatcher skips a test that needs the finder's real scores while
// package match is still the contract's stub (branch i12-match not merged).
func needMatcher(t *testing.T) {
	t.Helper()
	r := match.Record{ID: "x", Name: "Ann Lee", Given: "Ann", Family: "Lee", Email: "ann.lee@example.test", BirthDate: "1990-01-02"}
	if len(match.BlockingKeys(r, match.DefaultRules())) == 0 {
		t.Skip("the matcher is the contract's stub: merge branch i12-match to run this test")
	}
}

// person creates an active account with a name, an e-mail address and
// attributes, in a group.
func (f *fixture) person(id, group, name, email string, attrs map[string]string) {
	f.t.Helper()
	f.tx(func(tx *store.Tx) error {
		err := tx.PutAccount(f.ctx, usermerge.Account{TenantID: f.tenant, ID: id, Login: "login-" + id, Email: email, Name: name,
			Status: usermerge.Active, CreatedAt: base.Add(-400 * 24 * time.Hour), Attributes: attrs})
		if err != nil {
			return err
		}
		return tx.PutMembership(f.ctx, f.tenant, id, group)
	})
}

func (f *fixture) detect(full bool) usermerge.DetectionRun {
	f.t.Helper()
	run, err := f.e.Detect(f.ctx, f.as("admin"), DetectOptions{Full: full}, nil)
	if err != nil {
		f.t.Fatalf("detect: %v", err)
	}
	if run.Status != usermerge.RunDone {
		f.t.Fatalf("run %d is %s (%s), want done", run.ID, run.Status, run.Error)
	}
	return run
}

func (f *fixture) queue(login string) usermerge.SuggestionPage {
	f.t.Helper()
	p, err := f.e.Suggestions(f.ctx, f.as(login), usermerge.SuggestionFilter{Limit: 100})
	if err != nil {
		f.t.Fatalf("suggestions as %s: %v", login, err)
	}
	return p
}

// accountSets are the suggestions' accounts, each sorted, the list sorted.
func accountSets(p usermerge.SuggestionPage) [][]string {
	out := [][]string{}
	for _, s := range p.Suggestions {
		var ids []string
		for _, a := range s.Accounts {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		out = append(out, ids)
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// fabricate makes a done run whose queue holds the given suggestions, as
// if the finder had answered them, so that the queue's filters are tested
// without depending on scores.
func (f *fixture) fabricate(list ...match.Suggestion) usermerge.DetectionRun {
	f.t.Helper()
	run := f.detect(true)
	f.tx(func(tx *store.Tx) error {
		first, err := tx.ReserveSuggestions(f.ctx, f.tenant, run.ID, len(list))
		if err != nil {
			return err
		}
		return tx.PutDuplicateSuggestions(f.ctx, f.tenant, run.ID, first, list)
	})
	return run
}

func sugg(grade match.Grade, p float64, ids ...string) match.Suggestion {
	s := match.Suggestion{Accounts: ids, Keep: ids[0], KeepReason: "holds the most records", Probability: p, Grade: grade}
	for i, a := range ids {
		for _, b := range ids[i+1:] {
			x, y := a, b
			if y < x {
				x, y = y, x
			}
			s.Pairs = append(s.Pairs, match.Pair{A: x, B: y, Probability: p, Evidence: []match.Evidence{{Field: match.FieldEmail, Outcome: "agreed", Weight: 8}}})
		}
	}
	return s
}

func TestDuplicateQueueLeavesOutMergedDeletedDismissedAndOutOfScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		// Nine people with nothing alike, so that the run itself suggests
		// nothing and the queue holds the fabricated suggestions only.
		for i, id := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "e1"} {
			group := "sales"
			if id == "e1" {
				group = "eng"
			}
			f.person(id, group, fillerGiven[i]+" "+fillerFamily[i], fmt.Sprintf("%s@host%d.example", id, i), nil)
		}
		run := f.fabricate(
			sugg(match.GradeCertain, 0.9999, "s1", "s2"),
			sugg(match.GradeProbable, 0.97, "s3", "s4"),
			sugg(match.GradePossible, 0.7, "s5", "e1"),
			sugg(match.GradeProbable, 0.96, "s6", "s7"),
			sugg(match.GradePossible, 0.65, "s8", "s2"),
		)
		p := f.queue("admin")
		if p.Run == nil || p.Run.ID != run.ID || p.Stale {
			t.Fatalf("queue run %+v stale %v, want run %d not stale", p.Run, p.Stale, run.ID)
		}
		want := map[match.Grade]int{match.GradeCertain: 1, match.GradeProbable: 2, match.GradePossible: 2}
		if diff := cmp.Diff(want, p.Counts); diff != "" || p.Total != 5 {
			t.Fatalf("counts (-want +got):\n%s total %d", diff, p.Total)
		}
		if p.Suggestions[0].Grade != match.GradeCertain || p.Suggestions[0].Accounts[0].ID != "s1" || p.Suggestions[0].Keep != "s1" {
			t.Errorf("first suggestion %+v, want the certain one with s1 kept first", p.Suggestions[0])
		}
		// A group manager sees only suggestions wholly in their groups.
		if got := accountSets(f.queue("sales-editor")); slices.ContainsFunc(got, func(s []string) bool { return slices.Contains(s, "e1") }) || len(got) != 4 {
			t.Errorf("sales-editor sees %v, want the four wholly in sales", got)
		}
		if got := f.queue("eng-viewer"); len(got.Suggestions) != 0 || got.Total != 0 {
			t.Errorf("eng-viewer sees %v, want nothing (no suggestion is wholly in eng)", accountSets(got))
		}
		// Merged away, deleted, dismissed: out of the queue.
		f.merge("s3", "s4")
		if _, err := f.e.Delete(f.ctx, f.as("admin"), "s6", true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.DismissPair(f.ctx, f.as("admin"), "login-s8", "s2"); err != nil {
			t.Fatal(err)
		}
		p = f.queue("admin")
		if diff := cmp.Diff([][]string{{"e1", "s5"}, {"s1", "s2"}}, accountSets(p)); diff != "" {
			t.Errorf("queue after merge, deletion and dismissal (-want +got):\n%s", diff)
		}
		if !p.Stale {
			t.Error("the queue is not stale after a merge and a deletion")
		}
		// Filter by grade, paging.
		pg, err := f.e.Suggestions(f.ctx, f.as("admin"), usermerge.SuggestionFilter{Grade: match.GradePossible, Limit: 1})
		if err != nil || pg.Total != 1 || len(pg.Suggestions) != 1 || pg.Suggestions[0].Grade != match.GradePossible {
			t.Errorf("possible page: %+v, %v", pg, err)
		}
		if _, err := f.e.Suggestions(f.ctx, f.as("admin"), usermerge.SuggestionFilter{Grade: "maybe"}); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("unknown grade: %v, want invalid", err)
		}
		// One suggestion, with record counts; one outside the caller's scope reads as not there.
		s, err := f.e.Suggestion(f.ctx, f.as("admin"), p.Suggestions[0].ID)
		if err != nil || s.Accounts[0].Counts == nil {
			t.Errorf("suggestion: %+v, %v", s, err)
		}
		id := p.Suggestions[0].ID
		if p.Suggestions[0].Accounts[0].ID != "s1" {
			id = p.Suggestions[1].ID
		}
		var mixed int64
		for _, x := range p.Suggestions {
			if x.ID != id {
				mixed = x.ID
			}
		}
		if _, err := f.e.Suggestion(f.ctx, f.as("sales-editor"), mixed); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("sales-editor opens a suggestion with an eng account: %v, want not found", err)
		}
		// Dismissing a suggestion takes it out, with who and when; again changes nothing.
		ds, err := f.e.DismissSuggestion(f.ctx, f.as("sales-editor"), id)
		if err != nil || len(ds) != 1 || ds[0].By != "sales-editor" || ds[0].A != "s1" || ds[0].B != "s2" || !ds[0].At.Equal(base) {
			t.Fatalf("dismiss suggestion: %+v, %v", ds, err)
		}
		if _, err := f.e.DismissSuggestion(f.ctx, f.as("admin"), id); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("dismissing a dismissed suggestion: %v, want not found (it left the queue)", err)
		}
		if got := accountSets(f.queue("admin")); len(got) != 1 {
			t.Errorf("queue after dismissal: %v", got)
		}
	})
}

func TestDismissPairIsIdempotentScopedAndListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("s1", "sales")
		f.account("s2", "east")
		f.account("e1", "eng")
		d1, err := f.e.DismissPair(f.ctx, f.as("sales-editor"), "s2", "s1")
		if err != nil || d1.A != "s1" || d1.B != "s2" || d1.By != "sales-editor" {
			t.Fatalf("dismiss: %+v, %v", d1, err)
		}
		f.db.Now = func() time.Time { return base.Add(time.Hour) }
		d2, err := f.e.DismissPair(f.ctx, f.as("admin"), "s1", "s2")
		if err != nil || d2 != d1 {
			t.Errorf("second dismissal %+v, %v; want the first kept: %+v", d2, err, d1)
		}
		if _, err := f.e.DismissPair(f.ctx, f.as("sales-editor"), "s1", "e1"); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("group manager dismisses an account outside their groups: %v, want not found", err)
		}
		if _, err := f.e.DismissPair(f.ctx, f.as("eng-viewer"), "e1", "e1"); err == nil {
			t.Error("dismissing an account with itself succeeded")
		}
		if _, err := f.e.DismissPair(f.ctx, f.as("admin"), "s1", "nobody"); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("dismissing with a missing account: %v, want not found", err)
		}
		if _, err := f.e.DismissPair(f.ctx, f.as("admin"), "s1", "e1"); err != nil {
			t.Fatal(err)
		}
		all, err := f.e.Dismissals(f.ctx, f.as("admin"), 10, 0)
		if err != nil || len(all) != 2 || all[0].B != "s1" && all[0].A != "e1" {
			t.Errorf("admin's dismissals %+v, %v; want two, newest first", all, err)
		}
		mine, err := f.e.Dismissals(f.ctx, f.as("sales-editor"), 10, 0)
		if err != nil || len(mine) != 1 || mine[0].A != "s1" || mine[0].B != "s2" {
			t.Errorf("sales-editor's dismissals %+v, %v; want only s1/s2", mine, err)
		}
		if _, err := f.e.Dismissals(f.ctx, f.as("admin"), 10, -1); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("negative offset: %v", err)
		}
	})
}

func TestDetectionRecordsProgress(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("s1", "sales")
		f.account("s2", "sales")
		var mu sync.Mutex
		var phases []string
		run, err := f.e.Detect(f.ctx, f.as("admin"), DetectOptions{}, func(r usermerge.DetectionRun) {
			// The progress is in the database before it is reported.
			got, err := f.e.DetectionRun(f.ctx, f.as("eng-viewer"), r.ID)
			mu.Lock()
			defer mu.Unlock()
			want := usermerge.RunRunning
			if r.Phase == phaseDone {
				want = usermerge.RunDone
			}
			if err != nil || got.Phase != r.Phase || got.Status != want {
				t.Errorf("run while %s: %+v, %v", r.Phase, got, err)
			}
			if len(phases) == 0 || phases[len(phases)-1] != r.Phase {
				phases = append(phases, r.Phase)
			}
		})
		if err != nil || run.Status != usermerge.RunDone || run.Scope != "full" || run.By != "admin" || run.Finished == nil {
			t.Fatalf("run %+v, %v", run, err)
		}
		if phases[0] != phaseLoading || !slices.Contains(phases, phaseWriting) || run.Phase != phaseDone {
			t.Errorf("phases %v, final %q", phases, run.Phase)
		}
		latest, err := f.e.DetectionRun(f.ctx, f.as("admin"), 0)
		if err != nil || latest.ID != run.ID || latest.Status != usermerge.RunDone {
			t.Errorf("latest run %+v, %v", latest, err)
		}
		if stale, err := f.e.DuplicatesStale(f.ctx, f.as("admin")); err != nil || stale {
			t.Errorf("stale right after a run: %v, %v", stale, err)
		}
		f.account("s3", "sales")
		if stale, err := f.e.DuplicatesStale(f.ctx, f.as("admin")); err != nil || !stale {
			t.Errorf("stale after a new account: %v, %v", stale, err)
		}
		// The next run starts from this one: changed scope.
		if next := f.detect(false); next.Scope != "changed" {
			t.Errorf("second run's scope %q, want changed", next.Scope)
		}
		if _, err := f.e.StartDetection(f.ctx, f.as("eng-viewer"), DetectOptions{}); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("a viewer starts detection: %v, want forbidden", err)
		}
	})
}

func TestDetectionRunConflictsAndStaleRunsAreInterrupted(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("s1", "sales")
		first, err := f.e.StartDetection(f.ctx, f.as("admin"), DetectOptions{})
		if err != nil || first.Status != usermerge.RunRunning {
			t.Fatalf("start: %+v, %v", first, err)
		}
		if _, err := f.e.StartDetection(f.ctx, f.as("sales-editor"), DetectOptions{}); usermerge.ErrorCode(err) != usermerge.Conflict {
			t.Fatalf("second start while one runs: %v, want conflict", err)
		}
		// The first run's process died: no heartbeat for longer than staleAfter.
		f.exec(`UPDATE duplicate_runs SET heartbeat = ? WHERE tenant_id = ? AND id = ?`, base.Add(-staleAfter-time.Second).UnixMilli(), f.tenant, first.ID)
		second, err := f.e.StartDetection(f.ctx, f.as("admin"), DetectOptions{})
		if err != nil || second.Status != usermerge.RunRunning || second.ID == first.ID {
			t.Fatalf("start after a stale run: %+v, %v", second, err)
		}
		old, err := f.e.DetectionRun(f.ctx, f.as("admin"), first.ID)
		if err != nil || old.Status != usermerge.RunInterrupted || old.Error == "" || old.Finished == nil {
			t.Errorf("stale run: %+v, %v; want interrupted with a reason", old, err)
		}
		if _, err := f.e.RunDetection(f.ctx, f.as("admin"), first.ID, nil); usermerge.ErrorCode(err) != usermerge.Conflict {
			t.Errorf("running an interrupted run: %v, want conflict", err)
		}
		done, err := f.e.RunDetection(f.ctx, f.as("admin"), second.ID, nil)
		if err != nil || done.Status != usermerge.RunDone {
			t.Fatalf("second run: %+v, %v", done, err)
		}
		// A run after an interrupted one starts over in full.
		if r := f.detect(false); r.Scope != "changed" {
			t.Errorf("run after a done one: scope %q, want changed", r.Scope)
		}
		// Server start: a stale running run is interrupted, a fresh one is left.
		third, err := f.e.StartDetection(f.ctx, f.as("admin"), DetectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.e.RecoverDetections(f.ctx); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.e.DetectionRun(f.ctx, f.as("admin"), third.ID); r.Status != usermerge.RunRunning {
			t.Errorf("a fresh run after recovery is %s, want running", r.Status)
		}
		f.exec(`UPDATE duplicate_runs SET heartbeat = ? WHERE tenant_id = ? AND id = ?`, base.Add(-time.Hour).UnixMilli(), f.tenant, third.ID)
		if err := f.e.RecoverDetections(f.ctx); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.e.DetectionRun(f.ctx, f.as("admin"), third.ID); r.Status != usermerge.RunInterrupted {
			t.Errorf("a stale run after recovery is %s, want interrupted", r.Status)
		}
		if r := f.detect(false); r.Scope != "full" {
			t.Errorf("run after an interrupted one: scope %q, want full", r.Scope)
		}
	})
}

func TestMergeDuringDetectionIsNotBlocked(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("s1", "sales")
		f.account("s2", "sales")
		merged := false
		f.e.duringLoad = func() {
			// The run holds its snapshot open: a merge must go through now,
			// not wait for it (a wait would end in a busy or lock timeout).
			ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
			defer cancel()
			if _, err := f.e.Merge(ctx, f.as("admin"), usermerge.MergeRequest{Target: "s1", Sources: []string{"s2"}}); err != nil {
				t.Errorf("merge during a detection run: %v", err)
			}
			merged = true
		}
		run := f.detect(true)
		if !merged {
			t.Fatal("the hook did not run")
		}
		if f.acct("s2").MergedInto != "s1" {
			t.Error("the merge during the run is not in the database")
		}
		if stale, _ := f.e.DuplicatesStale(f.ctx, f.as("admin")); !stale {
			t.Errorf("run %d read its snapshot before the merge, so it is stale; got not stale", run.ID)
		}
	})
}

func TestCancelledDetectionIsMarkedFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.account("s1", "sales")
		ctx, cancel := context.WithCancel(f.ctx)
		f.e.duringLoad = cancel
		run, err := f.e.Detect(ctx, f.as("admin"), DetectOptions{}, nil)
		if err == nil {
			t.Fatal("a cancelled run succeeded")
		}
		if run.Status != usermerge.RunFailed || run.Error != "the run was cancelled before it finished; the review queue is unchanged" {
			t.Errorf("cancelled run %+v", run)
		}
		// The tenant may start again at once.
		f.e.duringLoad = nil
		f.detect(false)
	})
}

func TestMatchingRulesAreValidatedAndForTenantAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		got, err := f.e.MatchingRules(f.ctx, f.as("eng-viewer"))
		if err != nil || !cmp.Equal(got, match.DefaultRules()) {
			t.Fatalf("default rules %+v, %v", got, err)
		}
		r := match.DefaultRules()
		r.Fields = []string{match.FieldGroups, match.FieldEmail, match.FieldName, match.FieldEmail}
		r.Certain = 0.99
		if _, err := f.e.UpdateMatchingRules(f.ctx, f.as("sales-editor"), r); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("group manager changes rules: %v, want forbidden", err)
		}
		for name, bad := range map[string]func(*match.Rules){
			"thresholds out of order": func(r *match.Rules) { r.Possible = 0.99 },
			"certain of 1":            func(r *match.Rules) { r.Certain = 1 },
			"unknown field":           func(r *match.Rules) { r.Fields = append(r.Fields, "shoe_size") },
			"no field":                func(r *match.Rules) { r.Fields = nil },
			"block of 1":              func(r *match.Rules) { r.MaxBlock = 1 },
		} {
			b := r
			b.Fields = slices.Clone(r.Fields)
			bad(&b)
			if _, err := f.e.UpdateMatchingRules(f.ctx, f.as("admin"), b); usermerge.ErrorCode(err) != usermerge.Invalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
			if _, err := f.e.PreviewMatchingRules(f.ctx, f.as("admin"), b); usermerge.ErrorCode(err) != usermerge.Invalid {
				t.Errorf("preview, %s: %v, want invalid", name, err)
			}
		}
		if got, _ := f.e.MatchingRules(f.ctx, f.as("admin")); !cmp.Equal(got, match.DefaultRules()) {
			t.Errorf("refused changes changed the rules: %+v", got)
		}
		saved, err := f.e.UpdateMatchingRules(f.ctx, f.as("admin"), r)
		want := []string{match.FieldName, match.FieldEmail, match.FieldGroups}
		if err != nil || !slices.Equal(saved.Fields, want) || saved.Certain != 0.99 {
			t.Fatalf("saved %+v, %v; want fields %v once each in their order", saved, err, want)
		}
		if got, _ := f.e.MatchingRules(f.ctx, f.as("sales-editor")); !cmp.Equal(got, saved) {
			t.Errorf("read back %+v, want %+v", got, saved)
		}
	})
}

func TestPreviewMatchingRulesWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.person("s1", "sales", "Ann Lee", "ann@one.example", nil)
		f.person("s2", "sales", "Bo Chen", "bo@two.example", nil) // nothing alike: the finder pairs them not
		if _, err := f.e.PreviewMatchingRules(f.ctx, f.as("admin"), match.DefaultRules()); usermerge.ErrorCode(err) != usermerge.NotFound {
			t.Errorf("preview before any run: %v, want not found", err)
		}
		run := f.detect(true)
		f.tx(func(tx *store.Tx) error {
			return tx.PutDuplicatePairs(f.ctx, f.tenant, run.ID, []match.Pair{{A: "s1", B: "s2", Weight: 7, Probability: 0.992,
				Evidence: []match.Evidence{{Field: match.FieldEmail, Outcome: "agreed", Weight: 8}, {Field: match.FieldName, Outcome: "disagreed", Weight: -1}}}})
		})
		before := snapshot(t, f.db)
		r := match.DefaultRules()
		r.Fields = []string{match.FieldName}
		p, err := f.e.PreviewMatchingRules(f.ctx, f.as("admin"), r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, snapshot(t, f.db)); diff != "" {
			t.Errorf("preview changed the database (-before +after):\n%s", diff)
		}
		if _, err := f.e.PreviewMatchingRules(f.ctx, f.as("sales-editor"), r); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("group manager previews: %v, want forbidden", err)
		}
		needMatcher(t) // the counts need the real Cluster
		// Without the e-mail's 8 bits the pair's weight is -1: below possible.
		if p.Current[match.GradeProbable] != 1 || p.Proposed[match.GradePossible]+p.Proposed[match.GradeProbable]+p.Proposed[match.GradeCertain] != 0 {
			t.Errorf("preview %+v", p)
		}
		if len(p.Changes) != 1 || p.Changes[0].To != "" || !slices.Contains(p.Changes[0].Accounts, "login-s1") {
			t.Errorf("changes %+v", p.Changes)
		}
	})
}

func TestRegradeTakesOutTheEvidenceOfFieldsLeftOut(t *testing.T) {
	r := match.DefaultRules()
	r.Fields = []string{match.FieldName}
	pairs := []match.Pair{
		{A: "a", B: "b", Weight: 7, Probability: 0.992, Evidence: []match.Evidence{{Field: match.FieldEmail, Weight: 8}, {Field: match.FieldName, Weight: -1}}},
		{A: "a", B: "c", Weight: 12, Probability: 0.9998, Evidence: []match.Evidence{{Field: match.FieldName, Weight: 12}}},
	}
	got := regrade(pairs, r)
	if len(got) != 1 || got[0].B != "c" || got[0].Probability != 0.9998 {
		t.Errorf("regrade %+v: want only a/c, untouched (a/b falls to weight -1, below possible)", got)
	}
	if p := probability(1); p < 0.666 || p > 0.667 {
		t.Errorf("probability(1) = %v, want 2/3", p)
	}
	if p := probability(-2000); p != 0 {
		t.Errorf("probability(-2000) = %v", p)
	}
	if p := probability(2000); p != 1 {
		t.Errorf("probability(2000) = %v", p)
	}
}

// TestAccountChangedDuringRunIsComparedNextTime: a run writes, after its
// finder, the keys and fingerprints of the facts in its snapshot; an
// account whose facts changed since has no fingerprint of its new facts
// stored, so that the next changed run takes it for changed (this run
// scored its older facts), while an unchanged account's is its facts'.
func TestAccountChangedDuringRunIsComparedNextTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.person("p1", "sales", "Siobhan O'Brien", "siobhan.obrien@example.org", nil)
		f.person("p2", "sales", "Marcus Feld", "marcus.feld@example.net", nil)
		f.e.duringLoad = func() {
			f.exec(`UPDATE accounts SET name = ?, email = ? WHERE tenant_id = ? AND id = ?`, "Siobhan OBrien", "siobhan.obrien+x@example.org", f.tenant, "p2")
		}
		f.detect(true)
		f.e.duringLoad = nil
		f.tx(func(tx *store.Tx) error {
			fps, err := tx.DuplicateFingerprints(f.ctx, f.tenant)
			if err != nil {
				return err
			}
			recs, err := tx.DuplicateRecords(f.ctx, f.tenant, []string{"p1", "p2"})
			if err != nil {
				return err
			}
			for _, r := range recs {
				stored, now := fps[r.ID], store.Fingerprint(r)
				switch r.ID {
				case "p1":
					if stored != now {
						t.Errorf("unchanged account p1: stored fingerprint %x, its facts' %x", stored, now)
					}
				case "p2":
					if stored == now {
						t.Errorf("account p2, changed during the run, has its new facts' fingerprint stored: the next changed run would skip it")
					}
				}
			}
			if len(recs) != 2 {
				t.Errorf("read %d records, want 2", len(recs))
			}
			return nil
		})
	})
}

// TestStoredKeysFollowTheAccounts: the blocking keys and fingerprints a run
// stores are, for every live account and for no other, those of its facts
// (match.BlockingKeyHashes, store.Fingerprint), with the fingerprint's row
// listing the account's keys: after a first run (written in key order),
// after a changed run that replaced a changed account's keys and dropped a
// merged account's, after the tables were emptied (as an upgrade does),
// which reads as stale until a run stores them again, and after a run that
// follows a failed one which left keys half written.
func TestStoredKeysFollowTheAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		f.person("p1", "sales", "Siobhan O'Brien", "siobhan.obrien@example.org", map[string]string{"birth_date": "1990-04-05", "phone": "+44 20 7946 0001"})
		f.person("p2", "sales", "Marcus Feld", "marcus.feld@example.net", nil)
		f.person("p3", "sales", "Siobhan OBrien", "s.obrien@example.org", map[string]string{"birth_date": "1990-04-05"})
		f.person("p4", "sales", "Ann Lee", "ann.lee@example.com", map[string]string{"employee_number": "E77"})
		check := func(when string) {
			t.Helper()
			f.tx(func(tx *store.Tx) error {
				rules, _, err := tx.MatchingRules(f.ctx, f.tenant)
				if err != nil {
					return err
				}
				recs, err := tx.DuplicateRecords(f.ctx, f.tenant, nil)
				if err != nil {
					return err
				}
				want := map[string]string{}
				for _, r := range recs {
					keys := match.BlockingKeyHashes(r, rules)
					slices.Sort(keys)
					want[r.ID] = fmt.Sprintf("fp=%x keys=%x", store.Fingerprint(r), keys)
				}
				got := map[string]string{}
				rows, err := storetest.Lines(f.ctx, tx, `SELECT account_id, key FROM duplicate_keys WHERE tenant_id = '`+f.tenant+`' ORDER BY account_id, key`)
				if err != nil {
					return err
				}
				keysOf := map[string][]uint64{}
				for _, l := range rows {
					var acc string
					var k int64
					for _, p := range strings.Split(strings.TrimSuffix(l, "|"), "|") {
						col, val, _ := strings.Cut(p, "=")
						switch col {
						case "account_id":
							acc = val
						case "key":
							fmt.Sscan(val, &k)
						}
					}
					keysOf[acc] = append(keysOf[acc], uint64(k))
				}
				fps, err := tx.Query(f.ctx, `SELECT account_id, fingerprint, keys FROM duplicate_fingerprints WHERE tenant_id = ?`, f.tenant)
				if err != nil {
					return err
				}
				defer fps.Close()
				for fps.Next() {
					var acc string
					var fp int64
					var packed []byte
					if err := fps.Scan(&acc, &fp, &packed); err != nil {
						return err
					}
					var listed []uint64
					for ; len(packed) >= 8; packed = packed[8:] {
						listed = append(listed, binary.LittleEndian.Uint64(packed))
					}
					slices.Sort(listed)
					keys := keysOf[acc]
					slices.Sort(keys)
					if !slices.Equal(listed, keys) {
						t.Errorf("%s: %s's fingerprint row lists keys %x, the key rows are %x", when, acc, listed, keys)
					}
					got[acc] = fmt.Sprintf("fp=%x keys=%x", uint64(fp), keys)
					delete(keysOf, acc)
				}
				for acc := range keysOf {
					t.Errorf("%s: keys stored for %s, which has no fingerprint", when, acc)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: stored keys and fingerprints (-the accounts' facts +stored):\n%s", when, diff)
				}
				return fps.Err()
			})
		}
		f.detect(true)
		check("after the first run")

		f.exec(`UPDATE accounts SET name = ?, email = ? WHERE tenant_id = ? AND id = ?`, "Marcus Feldmann", "m.feldmann@example.net", f.tenant, "p2")
		if _, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "p1", Sources: []string{"p3"}}); err != nil {
			t.Fatal(err)
		}
		if run := f.detect(false); run.Scope != "changed" {
			t.Fatalf("second run's scope %q, want changed", run.Scope)
		}
		check("after a changed run (p2 changed, p3 merged into p1)")

		f.exec(`DELETE FROM duplicate_keys WHERE tenant_id = ?`, f.tenant)
		f.exec(`DELETE FROM duplicate_fingerprints WHERE tenant_id = ?`, f.tenant)
		if stale, err := f.e.DuplicatesStale(f.ctx, f.as("admin")); err != nil || !stale {
			t.Errorf("no keys stored after a run that read accounts: stale %v, %v; want stale", stale, err)
		}
		f.detect(false)
		check("after a run on emptied tables")
		if stale, err := f.e.DuplicatesStale(f.ctx, f.as("admin")); err != nil || stale {
			t.Errorf("stale right after the run: %v, %v", stale, err)
		}

		// What a run that failed while writing its keys leaves: an
		// account's keys without its fingerprint, a key of no fingerprint's
		// list. The run after the failed one writes them all again.
		f.exec(`DELETE FROM duplicate_fingerprints WHERE tenant_id = ? AND account_id = 'p1'`, f.tenant)
		f.exec(`INSERT INTO duplicate_keys (tenant_id, key, account_id) VALUES (?, 12345, 'p4')`, f.tenant)
		ctx, cancel := context.WithCancel(f.ctx)
		f.e.duringLoad = cancel
		if _, err := f.e.Detect(ctx, f.as("admin"), DetectOptions{Full: true}, nil); err == nil {
			t.Fatal("a cancelled run succeeded")
		}
		f.e.duringLoad = nil
		f.detect(true)
		check("after a run that follows a failed one")
	})
}
