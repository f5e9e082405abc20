package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/match"
)

// TestDuplicatesCommand: the first listing runs detection (the data
// changed: there was no run), the next does not; --grade, --limit and
// --json; show explains; dismiss takes a suggestion or two accounts and
// the suggestion leaves the list.
func TestDuplicatesCommand(t *testing.T) {
	c := newCLI(t)
	r := c.run(append(acme, "duplicates")...)
	if r.code != 0 {
		t.Fatalf("duplicates: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "the first listing", r.stdout, "running detection first", "Detection run 1 over every account", "ID", "GRADE", "KEEP", "certain")
	contains(t, "the first listing", r.stdout, "Explain one: usermerge duplicates show ID")
	if again := c.acme("duplicates"); strings.Contains(again, "running detection") {
		t.Errorf("the second listing ran detection again with no change:\n%s", again)
	}

	var page usermerge.SuggestionPage
	c.json(&page, append(acme, "duplicates", "--limit", "500")...)
	if page.Total == 0 || len(page.Suggestions) != page.Total || page.Stale || page.Run == nil {
		t.Fatalf("duplicates --json: total %d, %d suggestions, stale %v, run %v", page.Total, len(page.Suggestions), page.Stale, page.Run)
	}
	if got := shapeOf(t, "duplicates --json", []byte(c.ok(append([]string{"--json"}, append(acme, "duplicates")...)...))); !slices.Contains(got, "suggestions[].pairs") || !slices.Contains(got, "counts") {
		t.Errorf("duplicates --json keys: %v", got)
	}
	var certain usermerge.SuggestionPage
	c.json(&certain, append(acme, "duplicates", "--grade", "certain", "--limit", "2")...)
	if len(certain.Suggestions) != 2 || certain.Total != page.Counts[match.GradeCertain] {
		t.Errorf("--grade certain --limit 2: %d of %d, want 2 of %d", len(certain.Suggestions), certain.Total, page.Counts[match.GradeCertain])
	}
	for _, s := range certain.Suggestions {
		if s.Grade != match.GradeCertain {
			t.Errorf("--grade certain lists a %s suggestion", s.Grade)
		}
	}
	c.fails(exitUsage, append(acme, "duplicates", "--grade", "sure")...)
	c.fails(exitUsage, append(acme, "duplicates", "--limit", "0")...)
	c.fails(exitUsage, append(acme, "duplicates", "frobnicate")...)

	// show: the accounts and, per pair, each field's outcome and weight.
	sg := page.Suggestions[0]
	out := c.acme("duplicates", "show", fmt.Sprint(sg.ID))
	contains(t, "duplicates show", out, fmt.Sprintf("Suggestion %d: %s", sg.ID, sg.Grade), "keep ", "merge ", "FIELD", "OUTCOME", "WEIGHT", "name", "agreed")
	var shown usermerge.DuplicateSuggestion
	c.json(&shown, append(acme, "duplicates", "show", fmt.Sprint(sg.ID))...)
	if diff := cmp.Diff(sg.Accounts[0].Login, shown.Accounts[0].Login); diff != "" || len(shown.Pairs) == 0 {
		t.Errorf("show --json: %s, %d pairs", diff, len(shown.Pairs))
	}
	c.fails(exitUsage, append(acme, "duplicates", "show", "x")...)
	c.fails(exitNotFound, append(acme, "duplicates", "show", "99999")...)

	// dismiss a suggestion, then a pair by logins.
	var ds usermerge.DismissalsAnswer
	c.json(&ds, append(acme, "duplicates", "dismiss", fmt.Sprint(sg.ID))...)
	if len(ds.Dismissals) == 0 || ds.Dismissals[0].By != "admin" {
		t.Fatalf("dismiss --json: %+v", ds)
	}
	c.fails(exitNotFound, append(acme, "duplicates", "show", fmt.Sprint(sg.ID))...)
	other := page.Suggestions[1]
	out = c.acme("duplicates", "dismiss", other.Accounts[0].Login, other.Accounts[1].Login)
	contains(t, "dismiss A B", out, "not the same person")
	c.fails(exitUsage, append(acme, "duplicates", "dismiss", "mgarcia", "mgarcia")...)
	var after usermerge.SuggestionPage
	c.json(&after, append(acme, "duplicates", "--no-run", "--limit", "500")...)
	if after.Total != page.Total-2 {
		t.Errorf("after two dismissals: %d suggestions, want %d", after.Total, page.Total-2)
	}
	c.json(&ds, append(acme, "duplicates", "dismissals")...)
	if len(ds.Dismissals) < 2 {
		t.Errorf("dismissals: %+v, want both", ds)
	}

	// A group manager with view rights cannot dismiss.
	var seen usermerge.SuggestionPage
	c.json(&seen, "--tenant", "acme", "--as", "eng-viewer", "duplicates", "--no-run")
	if len(seen.Suggestions) == 0 {
		t.Fatal("eng-viewer sees no suggestion to try dismissing")
	}
	c.fails(exitForbidden, "--tenant", "acme", "--as", "eng-viewer", "duplicates", "dismiss", fmt.Sprint(seen.Suggestions[0].ID))
}

// TestDuplicatesCheck: an existing account, and a new one described by
// flags, answer their likely duplicates; bad input is refused.
func TestDuplicatesCheck(t *testing.T) {
	c := newCLI(t)
	c.acme("duplicates", "run", "--full")
	var got usermerge.CandidatesAnswer
	c.json(&got, append(acme, "duplicates", "check", "maria.garcia")...)
	if !slices.ContainsFunc(got.Candidates, func(d usermerge.DuplicateCandidate) bool { return d.Account.Login == "mgarcia" }) {
		t.Errorf("check maria.garcia: %+v, want mgarcia", got)
	}
	out := c.acme("duplicates", "check", "--name", "Maria Garcia", "--email", "maria.garcia@acme.test", "--birth-date", "1967-05-25")
	contains(t, "check a new account", out, "ACCOUNT", "GRADE", "mgarcia")
	c.fails(exitUsage, append(acme, "duplicates", "check", "--birth-date", "1990-13-01", "--name", "X")...)
	c.fails(exitUsage, append(acme, "duplicates", "check", "maria.garcia", "--name", "Maria")...)
	c.fails(exitUsage, append(acme, "duplicates", "check")...)
	c.fails(exitUsage, append(acme, "duplicates", "check", "--external-id", "nocolon")...)
}

// TestDuplicatesCheckBeforeAnyRun: on a tenant that never had a run the
// check answers with the default parameters and runs no detection: María
// García's other account shares her address and employee number.
func TestDuplicatesCheckBeforeAnyRun(t *testing.T) {
	c := newCLI(t)
	r := c.run(append(acme, "--json", "duplicates", "check", "maria.garcia")...)
	if r.code != 0 {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "running detection") {
		t.Errorf("the check ran detection first:\n%s%s", r.stdout, r.stderr)
	}
	var got usermerge.CandidatesAnswer
	c.json(&got, append(acme, "duplicates", "check", "maria.garcia")...)
	if !slices.ContainsFunc(got.Candidates, func(d usermerge.DuplicateCandidate) bool {
		return d.Account.Login == "mgarcia" && d.Grade == match.GradeCertain
	}) {
		t.Errorf("check maria.garcia before any run: %+v, want mgarcia certain", got)
	}
	// The first run is run 1: the checks made none.
	contains(t, "the first run", c.acme("duplicates", "run", "--full"), "Detection run 1 ")
}

// TestDuplicatesRules: rules shows; a change shows its preview and saves
// nothing until --yes.
func TestDuplicatesRules(t *testing.T) {
	c := newCLI(t)
	out := c.acme("duplicates", "rules")
	contains(t, "rules", out, "FIELD", "COMPARED", "birth_date", "certain from 0.999")
	c.acme("duplicates", "run")
	out = c.acme("duplicates", "rules", "--probable", "0.99")
	contains(t, "rules preview", out, "What these rules would change", "Nothing was saved")
	var now usermerge.MatchingRulesAnswer
	c.json(&now, append(acme, "duplicates", "rules")...)
	if now.Rules.Probable != match.DefaultRules().Probable {
		t.Errorf("a preview saved the rules: %+v", now.Rules)
	}
	var p usermerge.RulesPreview
	c.json(&p, append(acme, "duplicates", "rules", "--probable", "0.99")...)
	if p.Current[match.GradeCertain] == 0 {
		t.Errorf("rules preview --json: %+v", p)
	}
	c.acme("duplicates", "rules", "--probable", "0.99", "--fields", "name,email,birth_date", "--yes")
	c.json(&now, append(acme, "duplicates", "rules")...)
	if now.Rules.Probable != 0.99 || len(now.Rules.Fields) != 3 {
		t.Errorf("saved rules: %+v", now.Rules)
	}
	c.fails(exitUsage, append(acme, "duplicates", "rules", "--possible", "0.999", "--yes")...)
	c.fails(exitUsage, append(acme, "duplicates", "rules", "--fields", "shoe_size", "--yes")...)
	c.fails(exitUsage, append(acme, "duplicates", "rules", "--yes")...)
	c.fails(exitForbidden, "--tenant", "acme", "--as", "sales-editor", "duplicates", "rules", "--probable", "0.97", "--yes")
}

// TestRemoteDuplicates: through --server, the duplicates commands answer
// what they answer on the database itself.
func TestRemoteDuplicates(t *testing.T) {
	r := newRemote(t)
	r.same("duplicates", "run", "--full")
	r.same("duplicates")
	r.same("--json", "duplicates", "--grade", "probable")
	r.same("duplicates", "show", "1")
	r.same("--json", "duplicates", "check", "maria.garcia")
	r.same("duplicates", "check", "--name", "Maria Garcia", "--birth-date", "1967-05-25")
	r.same("duplicates", "rules")
	r.same("duplicates", "rules", "--probable", "0.99")
	r.same("duplicates", "dismiss", "1")
	r.same("duplicates", "dismiss", "lnowak", "lukasz.nowak")
	r.same("--json", "duplicates", "dismissals")
	r.same("duplicates", "show", "1")
	r.sameAs("eng-viewer", "", "duplicates", "run")
}
