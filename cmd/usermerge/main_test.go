package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
)

// clock is the fixed time of every in-process run.
var clock = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// template is a demo database made once; tests get copies of it.
var template struct {
	path string
	sum  demo.Summary
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usermerge-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		template.path = filepath.Join(dir, "template.db")
		r := runMain(nil, template.path, "", "--json", "demo")
		if r.code != 0 {
			fmt.Fprintf(os.Stderr, "demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			return 1
		}
		if err := json.Unmarshal([]byte(r.stdout), &template.sum); err != nil {
			fmt.Fprintf(os.Stderr, "demo --json: %v\n%s", err, r.stdout)
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// runMain runs the program in process on db with stdin as standard input
// (not a terminal) and the fixed clock.
func runMain(env map[string]string, db, stdin string, args ...string) result {
	var out, errb strings.Builder
	m := &Main{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv:     func(k string) string { return env[k] },
		Now:        func() time.Time { return clock },
		IsTerminal: func(any) bool { return false },
	}
	if db != "" {
		args = append([]string{"--db", db}, args...)
	}
	code := m.Execute(context.Background(), args)
	return result{out.String(), errb.String(), code}
}

// cli runs commands on one copy of the demo database.
type cli struct {
	t  *testing.T
	db string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(template.path + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		if err == nil {
			if err := os.WriteFile(db+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &cli{t: t, db: db}
}

func (c *cli) run(args ...string) result {
	return runMain(nil, c.db, "", args...)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("usermerge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with the exit status want.
func (c *cli) fails(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != want {
		c.t.Fatalf("usermerge %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("usermerge --json %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

var acme = []string{"--tenant", "acme", "--as", "admin"}

func (c *cli) acme(args ...string) string {
	c.t.Helper()
	return c.ok(append(append([]string{}, acme...), args...)...)
}

// pair returns a duplicate pair of acme (keep, source) and a search query
// that finds both: the last part of the kept login, when the source's login
// holds it too.
func pair(t *testing.T) (keep, source, query string) {
	t.Helper()
	for _, tn := range template.sum.Tenants {
		if tn.ID != "acme" {
			continue
		}
		for _, d := range tn.Duplicates {
			if len(d) < 2 {
				continue
			}
			parts := strings.FieldsFunc(d[0], func(r rune) bool { return r == '.' || r == '-' || r == '_' })
			last := parts[len(parts)-1]
			if len(last) >= 4 && strings.Contains(d[1], last) {
				return d[0], d[1], last
			}
		}
	}
	t.Fatalf("no acme duplicate pair whose logins share a part: %+v", template.sum)
	return
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func TestDemo(t *testing.T) {
	if len(template.sum.Tenants) != 2 {
		t.Fatalf("demo made %d tenants, want acme and globex", len(template.sum.Tenants))
	}
	db := filepath.Join(t.TempDir(), "d.db")
	r := runMain(nil, db, "", "demo", "--seed", "3")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.stderr)
	}
	contains(t, "demo output", r.stdout, "Tenant acme", "Tenant globex", "learningbox preset", "schoox preset",
		"Duplicate accounts", "eng-viewer", "sales-editor", "view over Engineering", "Try next:",
		"--tenant acme --as admin preview --target ")

	// Each "Try next" line works as printed, pasted into a script (standard
	// input is not a terminal, so a merge or revert without --yes would stop).
	_, next, _ := strings.Cut(r.stdout, "Try next:\n")
	ran := 0
	for _, line := range strings.Split(strings.TrimSpace(next), "\n") {
		args := strings.Fields(line)
		if len(args) < 2 || args[0] != "usermerge" {
			t.Fatalf("a Try next line that is not a command: %q", line)
		}
		if got := runMain(nil, "", "", args[1:]...); got.code != 0 {
			t.Errorf("%s: exit %d\n%s", line, got.code, got.stderr)
		}
		ran++
	}
	if ran < 5 {
		t.Errorf("only %d Try next lines:\n%s", ran, next)
	}

	r = runMain(nil, db, "", "demo")
	if r.code != exitConflict {
		t.Fatalf("demo on a database with tenants: exit %d, want %d\n%s", r.code, exitConflict, r.stderr)
	}
	contains(t, "refusal", r.stderr, "--force", "acme")

	c := &cli{t: t, db: db}
	keep, source, _ := pair(t)
	c.acme("merge", "--yes", "--target", keep, source)
	if r := runMain(nil, db, "", "demo", "--force"); r.code != 0 {
		t.Fatalf("demo --force: exit %d\n%s", r.code, r.stderr)
	}
	if out := c.acme("merges"); !strings.Contains(out, "No merges found.") {
		t.Errorf("after demo --force the merges are still there:\n%s", out)
	}
}

func TestAccountsFindsDuplicatePair(t *testing.T) {
	c := newCLI(t)
	keep, source, q := pair(t)
	out := c.acme("accounts", q)
	contains(t, "accounts "+q, out, "ID", "LOGIN", "NAME", "EMAIL", "STATUS", "GROUPS", "JOBS", " "+keep+" ", " "+source+" ")

	var ans usermerge.AccountsAnswer
	c.json(&ans, append(append([]string{}, acme...), "accounts", q, "--limit", "1")...)
	if list := ans.Accounts; len(list) != 1 {
		t.Errorf("--limit 1 gave %d accounts", len(list))
	}
	info := c.acme("account", source)
	contains(t, "account "+source, info, "Login", source, "Groups", "Jobs", "Status", "active", "Badges", "Sign-ins")
	c.fails(exitNotFound, append(append([]string{}, acme...), "account", "no-such-login")...)
}

func TestPreviewCounts(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	out := c.acme("preview", "--target", keep, source)
	contains(t, "preview", out, "KIND", "MOVED", "COMBINED", "RETIRED", "STAYED", "CHANGED", "Scores (assessment attempts)", "Badges",
		"Sign-ins", "Reverting: allowed", "Source "+source, "will be deactivated")

	var p usermerge.Preview
	c.json(&p, append(append([]string{}, acme...), "preview", "--target", keep, source)...)
	if len(p.Sources) != 1 || p.Target.Login != keep {
		t.Fatalf("preview --json: %+v", p)
	}
	var total usermerge.Counts
	for _, k := range p.Sources[0].Kinds {
		total.Moved += k.Counts.Moved
		total.Combined += k.Counts.Combined
		total.Retired += k.Counts.Retired
		total.Left += k.Counts.Left
		total.Changed += k.Counts.Changed
	}
	if total.Moved == 0 {
		t.Fatalf("the demo pair has nothing to move: %+v", p)
	}
	want := regexp.MustCompile(fmt.Sprintf(`(?m)^Total\s+%d\s+%d\s+%d\s+%d\s+%d$`, total.Moved, total.Combined, total.Retired, total.Left, total.Changed))
	if !want.MatchString(out) {
		t.Errorf("preview total line does not match %v:\n%s", want, out)
	}
	// Nothing was written.
	var a usermerge.AccountSummary
	c.json(&a, append(append([]string{}, acme...), "account", source)...)
	if a.Status != usermerge.Active || a.MergedInto != "" {
		t.Errorf("preview changed %s: %+v", source, a.Account)
	}
}

func TestMergeListShowActivateRevert(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)

	out := c.acme("merge", "--target", keep, "--yes", "--reason", "same person", source)
	contains(t, "merge", out, "Merged 1 account into "+keep, "merge 1", source, "moved", "usermerge revert 1")

	out = c.acme("merges", "--source", source)
	contains(t, "merges --source", out, "ID", "AT", "SOURCE", "TARGET", "BY", "STATE", source, keep, "admin", "active", "2026-05-01 12:00 UTC", "Page 1 of 1: 1 merge of 1 (1 active)")
	if out := c.acme("merges", "--source", "nobody-like-this"); !strings.Contains(out, "No merges found.") {
		t.Errorf("merges --source nobody: %s", out)
	}
	if out := c.acme("merges", "--from", "2026-05-02"); !strings.Contains(out, "No merges found.") {
		t.Errorf("merges --from after the merge: %s", out)
	}
	if out := c.acme("merges", "--to", "2026-05-01"); !strings.Contains(out, source) {
		t.Errorf("merges --to the merge's date must include that day: %s", out)
	}

	var page usermerge.MergePage
	c.json(&page, append(append([]string{}, acme...), "merges", "--source", source)...)
	if page.Total != 1 || len(page.Merges) != 1 {
		t.Fatalf("merges --json: %+v", page)
	}
	id := page.Merges[0].ID
	sid := strconv.FormatInt(id, 10)

	out = c.acme("show", sid)
	contains(t, "show", out, "Merge "+sid, "same person", "learningbox", "Score details", "Badge details", "Sign-in details",
		"moved", "Rule:")
	out = c.acme("show", sid, "--kind", "badge")
	contains(t, "show --kind badge", out, "Badge details")
	if strings.Contains(out, "Sign-in details") {
		t.Errorf("show --kind badge shows other kinds:\n%s", out)
	}
	var d usermerge.MergeDetails
	c.json(&d, append(append([]string{}, acme...), "show", sid)...)
	if d.Merge.ID != id || len(d.Kinds) != len(usermerge.Kinds) {
		t.Errorf("show --json: merge %d with %d kinds", d.Merge.ID, len(d.Kinds))
	}

	r := c.fails(exitConflict, append(append([]string{}, acme...), "activate", source)...)
	contains(t, "activate of a merged source", r.stderr, "usermerge: ", keep, "merge "+sid, "Revert merge "+sid)
	r = c.fails(exitConflict, append(append([]string{}, acme...), "merge", "--yes", "--target", keep, source)...)
	contains(t, "merging again", r.stderr, "already merged")

	out = c.acme("revert", "--yes", sid)
	contains(t, "revert", out, "Reverted 1 merge: "+sid)
	var a usermerge.AccountSummary
	c.json(&a, append(append([]string{}, acme...), "account", source)...)
	if a.Status != usermerge.Active || a.MergedInto != "" {
		t.Errorf("after revert %s is %s, merged into %q; want active again", source, a.Status, a.MergedInto)
	}
	out = c.acme("merges", "--state", "reverted")
	contains(t, "merges --state reverted", out, source, "reverted")
	out = c.acme("show", sid)
	contains(t, "show of a reverted merge", out, "reverted by admin", "== Revert ==")
	r = c.fails(exitConflict, append(append([]string{}, acme...), "revert", "--yes", sid)...)
	contains(t, "second revert", r.stderr, "already reverted")
	out = c.acme("deactivate", source)
	contains(t, "deactivate", out, source, "is now inactive")
	out = c.acme("activate", source)
	contains(t, "activate", out, source, "is now active")
}

func TestRevertRestoresPreviousStatus(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("deactivate", source)
	var ma usermerge.MergesAnswer
	c.json(&ma, append(append([]string{}, acme...), "merge", "--yes", "--target", keep, source)...)
	ms := ma.Merges
	if len(ms) != 1 {
		t.Fatalf("merge --json: %+v", ms)
	}
	var rep usermerge.RevertReport
	c.json(&rep, append(append([]string{}, acme...), "revert", "--yes", strconv.FormatInt(ms[0].ID, 10))...)
	if len(rep.Reverted) != 1 || rep.Reverted[0] != ms[0].ID {
		t.Fatalf("revert --json: %+v", rep)
	}
	var a usermerge.AccountSummary
	c.json(&a, append(append([]string{}, acme...), "account", source)...)
	if a.Status != usermerge.Inactive || a.MergedInto != "" {
		t.Errorf("after revert %s is %s, merged into %q; want inactive as before", source, a.Status, a.MergedInto)
	}
}

func TestConfirmation(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	merge := append(append([]string{}, acme...), "merge", "--target", keep, source)

	r := c.fails(exitUsage, merge...)
	contains(t, "merge without --yes, no terminal", r.stderr, "--yes", "not a terminal")
	if strings.Contains(r.stdout, "Merged") {
		t.Errorf("merged without confirmation:\n%s", r.stdout)
	}

	onTerminal := func(answer string, args ...string) result {
		var out, errb strings.Builder
		m := &Main{Stdin: strings.NewReader(answer), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
			Now: func() time.Time { return clock }, IsTerminal: func(any) bool { return true }}
		code := m.Execute(context.Background(), append([]string{"--db", c.db}, args...))
		return result{out.String(), errb.String(), code}
	}
	r = onTerminal("n\n", merge...)
	if r.code != exitConflict {
		t.Fatalf("answering n: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "prompt", r.stdout, "KIND", "Merge "+source, "into "+keep, "It can be reverted later.", "[y/N]")
	contains(t, "cancel", r.stderr, "cancelled")

	r = onTerminal("y\n", merge...)
	if r.code != 0 {
		t.Fatalf("answering y: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "confirmed merge", r.stdout, "Merged 1 account")

	r = c.fails(exitUsage, append(append([]string{}, acme...), "revert", "1")...)
	contains(t, "revert without --yes", r.stderr, "--yes")
	r = onTerminal("yes\n", append(append([]string{}, acme...), "revert", "1")...)
	if r.code != 0 {
		t.Fatalf("revert answering yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	contains(t, "revert prompt", r.stdout, "Revert 1 merge?", "merge 1: "+source, "Reverted 1 merge")
}

func TestDelete(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("merge", "--yes", "--target", keep, source)
	r := c.fails(exitUsage, append(append([]string{}, acme...), "delete", keep)...)
	contains(t, "delete without --yes", r.stdout, "Warning:", "1 merged account")
	contains(t, "delete without --yes", r.stderr, "--yes")

	out := c.acme("delete", "--yes", source)
	contains(t, "delete --yes", out, "is the source of merge 1, which becomes permanent", source, "is deleted")
	out = c.acme("accounts", "--status", "deleted")
	contains(t, "accounts --status deleted", out, source, "deleted")
	out = c.acme("merges", "--state", "permanent")
	contains(t, "merges --state permanent", out, source+" (deleted)", "permanent")
}

func TestSettings(t *testing.T) {
	c := newCLI(t)
	out := c.acme("settings")
	contains(t, "settings", out, "learningbox preset", "revert_allowed", "true", "Whether merges may be reverted", "badges", "transfer")

	out = c.acme("settings", "--preset", "schoox")
	contains(t, "settings --preset schoox", out, "schoox preset")
	var tn usermerge.SettingsAnswer
	c.json(&tn, append(append([]string{}, acme...), "settings")...)
	if tn.Policy != usermerge.Presets["schoox"] || tn.Preset != "schoox" {
		t.Errorf("policy after --preset schoox: %+v", tn.Policy)
	}
	keep, source, _ := pair(t)
	out = c.acme("preview", "--target", keep, source)
	contains(t, "preview under schoox", out, "Reverting: NOT allowed")

	out = c.acme("settings", "revert_allowed=true")
	contains(t, "settings revert_allowed=true", out, "custom")
	out = c.acme("settings", "--preset", "learningbox")
	contains(t, "back to learningbox", out, "learningbox preset")

	r := c.fails(exitUsage, append(append([]string{}, acme...), "settings", "colour=blue")...)
	contains(t, "unknown setting", r.stderr, "unknown setting")
	c.fails(exitUsage, append(append([]string{}, acme...), "settings", "badges")...)
	c.fails(exitForbidden, "--tenant", "acme", "--as", "sales-editor", "settings", "--preset", "schoox")

	// With an active merge, stopping reverts needs --yes.
	c.acme("merge", "--yes", "--target", keep, source)
	r = c.fails(exitConflict, append(append([]string{}, acme...), "settings", "revert_allowed=false")...)
	contains(t, "stopping reverts with a merge active", r.stderr, "1 active merge becomes irreversible", "--yes")
	c.json(&tn, append(append([]string{}, acme...), "settings")...)
	if !tn.Policy.RevertAllowed {
		t.Error("the refused change stopped reverts")
	}
	out = c.acme("settings", "--yes", "revert_allowed=false")
	contains(t, "settings --yes revert_allowed=false", out, "custom")
}

func TestImportBadLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.ndjson")
	data := `{"kind":"tenant","id":"t1","name":"T one","preset":"learningbox"}
{"kind":"group","tenant":"t1","id":"g1","name":"G"}
{"kind":"account","tenant":"t1","id":"a1","login":"one","email":"one@example.test","name":"One","status":"sleeping"}
`
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "new.db")
	r := runMain(nil, db, "", "import", file)
	if r.code != exitUsage {
		t.Fatalf("import of a bad file: exit %d, want %d\n%s%s", r.code, exitUsage, r.stdout, r.stderr)
	}
	contains(t, "import error", r.stderr, "usermerge: import: line 3:")

	// All or nothing: the tenant of line 1 was not written.
	r = runMain(nil, db, "", "accounts")
	if r.code != exitNotFound {
		t.Errorf("after a failed import: exit %d, want %d (no tenants)\n%s", r.code, exitNotFound, r.stderr)
	}
	contains(t, "empty database", r.stderr, "no tenants")

	r = runMain(nil, db, "", "import", filepath.Join(dir, "missing.ndjson"))
	if r.code != exitNotFound {
		t.Errorf("import of a missing file: exit %d, want %d", r.code, exitNotFound)
	}
	r = runMain(nil, db, "", "import", filepath.Join(dir, "data.txt"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "--format") {
		t.Errorf("import of an unknown extension: exit %d\n%s", r.code, r.stderr)
	}
}

func TestExportImportExport(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("merge", "--yes", "--target", keep, source)
	dir := t.TempDir()
	first := filepath.Join(dir, "acme.ndjson")
	out := c.ok("--tenant", "acme", "export", "-o", first)
	contains(t, "export -o", out, "Exported", first)
	stdout := c.ok("--tenant", "acme", "export")
	b1, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != stdout || len(b1) == 0 {
		t.Fatalf("export -o and export to stdout differ (%d and %d bytes)", len(b1), len(stdout))
	}

	fresh := &cli{t: t, db: filepath.Join(dir, "fresh.db")}
	out = fresh.ok("import", first)
	contains(t, "import", out, "Imported", "account", "badge")
	again := fresh.ok("export") // one tenant: no --tenant needed
	if again != string(b1) {
		t.Errorf("export → import → export is not identical (%d and %d bytes)", len(b1), len(again))
	}

	// Progress goes to stderr when it is a terminal, and only there.
	var prog strings.Builder
	m := &Main{Stdout: io.Discard, Stderr: &prog, Getenv: func(string) string { return "" },
		IsTerminal: func(s any) bool { return s == io.Writer(&prog) }}
	if code := m.Execute(context.Background(), []string{"--db", c.db, "--tenant", "acme", "export"}); code != 0 {
		t.Fatalf("export with a terminal: exit %d\n%s", code, prog.String())
	}
	lines := strings.Count(string(b1), "\n")
	contains(t, "export progress", prog.String(), fmt.Sprintf("export: %d lines written\n", lines))

	csv := filepath.Join(dir, "accounts.csv")
	c.ok("--tenant", "acme", "export", "-o", csv)
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines < 10 || !strings.Contains(string(b), source) {
		t.Errorf("CSV export has %d lines:\n%.500s", lines, b)
	}
	one := c.ok("--tenant", "acme", "export", "--account", source)
	if !strings.Contains(one, source) || len(one) >= len(b1) {
		t.Errorf("export --account: %d bytes of %d", len(one), len(b1))
	}
}

func TestJSON(t *testing.T) {
	c := newCLI(t)
	var ans usermerge.AccountsAnswer
	c.json(&ans, append(append([]string{}, acme...), "accounts")...)
	if list := ans.Accounts; len(list) == 0 || list[0].ID == "" {
		t.Fatalf("accounts --json: %+v", list)
	}
	var tn usermerge.SettingsAnswer
	c.json(&tn, append(append([]string{}, acme...), "settings")...)
	if tn.Tenant != "acme" || tn.Preset == "" {
		t.Errorf("settings --json: %+v", tn)
	}

	r := c.fails(exitNotFound, append(append([]string{"--json"}, acme...), "show", "999")...)
	var e struct {
		Error struct{ Code, Reason, Message string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		t.Fatalf("error as JSON: %v\n%s", err, r.stdout)
	}
	if e.Error.Code != string(usermerge.NotFound) || e.Error.Reason == "" || !strings.Contains(e.Error.Message, "999") {
		t.Errorf("error JSON: %+v", e)
	}
	contains(t, "stderr", r.stderr, "usermerge: merge 999 does not exist")

	keep, source, _ := pair(t)
	var im engine.DeleteImpact
	c.json(&im, append(append([]string{}, acme...), "delete", "--yes", source)...)
	if im.Account.Login != source || im.Account.DeletedAt == nil {
		t.Errorf("delete --json: %+v", im)
	}
	_ = keep
}

func TestForbidden(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	r := c.fails(exitForbidden, "--tenant", "acme", "--as", "eng-viewer", "merge", "--yes", "--target", keep, source)
	contains(t, "viewer merge", r.stderr, "usermerge: ", "view rights only")
	c.fails(exitForbidden, "--tenant", "acme", "--as", "nobody", "merges")
	// The viewer may still list merges.
	c.ok("--tenant", "acme", "--as", "eng-viewer", "merges")
}

func TestUsage(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{nil, "name a command"},
		{[]string{"--tenant", "acme", "--as", "admin", "show"}, "usage: usermerge show"},
		{[]string{"--tenant", "acme", "--as", "admin", "account", "a", "b"}, "usage: usermerge account"},
		{[]string{"--tenant", "acme", "--as", "admin", "preview", "--target", "x"}, "usage: usermerge preview"},
		{[]string{"--tenant", "acme", "--as", "admin", "merge", "--yes", "somebody"}, "--target"},
		{[]string{"--tenant", "acme", "--as", "admin", "merge", "--bogus"}, "merge has no flag --bogus"},
		{[]string{"--bogus", "accounts"}, "there is no global flag --bogus"},
		{[]string{"--tenant", "acme", "--as", "admin", "accounts", "--limit", "x"}, `--limit must be a whole number, got "x"`},
		{[]string{"--tenant", "acme", "--as", "admin", "accounts", "garcia", "--limit"}, "--limit needs a value"},
		{[]string{"--json=maybe", "--tenant", "acme", "--as", "admin", "accounts"}, `--json must be true or false, got "maybe"`},
		{[]string{"--tenant", "acme", "--as", "admin", "merges", "--page", "1.5"}, `--page must be a whole number, got "1.5"`},
		{[]string{"--tenant", "acme", "--as", "admin", "show", "abc"}, "not a merge id"},
		{[]string{"--tenant", "acme", "--as", "admin", "show", "1", "--kind", "nonsense"}, "unknown kind"},
		{[]string{"--tenant", "acme", "--as", "admin", "merges", "--from", "yesterday"}, "RFC 3339"},
		{[]string{"--tenant", "acme", "--as", "admin", "merges", "--state", "odd"}, "state must be"},
		{[]string{"--tenant", "acme", "--as", "admin", "preview", "--target", "x", "--external-ids", "--no-external-ids", "y"}, "not both"},
		{[]string{"--as", "admin", "accounts"}, "acme (Acme"},
		{[]string{"--tenant", "acme", "accounts"}, "--as"},
	} {
		r := c.run(tc.args...)
		if strings.Contains(r.stderr, "for flag -") || strings.Contains(r.stderr, "parse error") || strings.Contains(r.stderr, "flag provided") {
			t.Errorf("usermerge %s: stderr %q is in Go's words", strings.Join(tc.args, " "), r.stderr)
		}
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("usermerge %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, exitUsage, tc.want)
		}
	}
	r := c.fails(exitNotFound, "--tenant", "nope", "--as", "admin", "accounts")
	contains(t, "unknown tenant", r.stderr, "nope", "acme", "globex")
	r = runMain(nil, filepath.Join(t.TempDir(), "missing.db"), "", "--tenant", "acme", "--as", "admin", "accounts")
	if r.code != exitNotFound || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing database: exit %d\n%s", r.code, r.stderr)
	}

	// Global flags after the command, and the environment.
	out := c.ok("accounts", "--tenant", "acme", "--as", "admin", "--limit", "3")
	if n := strings.Count(out, "\n"); n != 5 {
		t.Errorf("accounts --limit 3 printed %d lines:\n%s", n, out)
	}
	env := map[string]string{"USERMERGE_DB": c.db, "USERMERGE_TENANT": "globex", "USERMERGE_AS": "admin"}
	if r := runMain(env, "", "", "settings"); r.code != 0 || !strings.Contains(r.stdout, "schoox preset") {
		t.Errorf("settings from the environment: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := runMain(nil, "", "", args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d", args, r.code)
		}
		contains(t, strings.Join(args, " "), r.stdout, "Commands:", "Exit status:", "preview", "revert", "USERMERGE_DB")
	}
	for _, c := range commands {
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}, {c.name, "--help"}} {
			r := runMain(nil, "", "", args...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
			contains(t, strings.Join(args, " "), r.stdout, "Usage: usermerge "+c.name)
			if c.name != "help" && !strings.Contains(r.stdout, "usermerge ") {
				t.Errorf("%s help has no example", c.name)
			}
		}
	}
	r := runMain(nil, "", "", "help", "merge")
	contains(t, "help merge", r.stdout, "--target", "--yes", "--reason", "--external-ids", "Examples:")
	r = runMain(nil, "", "", "help", "nothing")
	if r.code != exitUsage {
		t.Errorf("help nothing: exit %d", r.code)
	}
}

func TestInternalErrorHint(t *testing.T) {
	dir := t.TempDir() // a directory is no database
	r := runMain(nil, dir, "", "--tenant", "acme", "--as", "admin", "accounts")
	if r.code != exitInternal {
		t.Fatalf("database is a directory: exit %d\n%s", r.code, r.stderr)
	}
	contains(t, "internal error", r.stderr, "usermerge: internal error", "USERMERGE_DEBUG=1")
	r = runMain(map[string]string{"USERMERGE_DEBUG": "1"}, dir, "", "--tenant", "acme", "--as", "admin", "accounts")
	contains(t, "debug", r.stderr, "detail:", dir)
}

// TestBinary builds the real program and runs it as an operator would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "usermerge")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USERMERGE_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run("demo")
	if code != 0 {
		t.Fatalf("usermerge demo: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "usermerge.db")); err != nil {
		t.Errorf("demo did not create usermerge.db in the working directory: %v", err)
	}
	keep, source, q := pair(t)
	out, code = run("--tenant", "acme", "--as", "admin", "accounts", q)
	if code != 0 || !strings.Contains(out, keep) || !strings.Contains(out, source) {
		t.Errorf("usermerge accounts %s: exit %d\n%s", q, code, out)
	}
	out, code = run("--tenant", "acme", "--as", "admin", "merge", "--target", keep, source)
	if code != exitUsage || !strings.Contains(out, "--yes") {
		t.Errorf("merge with no terminal: exit %d\n%s", code, out)
	}
	out, code = run("nonsense")
	if code != exitUsage {
		t.Errorf("unknown command: exit %d\n%s", code, out)
	}
}

// TestHelpExamples runs every example of the commands' help that works on
// the demo database alone, each on its own copy, answering "n" at any
// prompt: the accounts and merges they name must exist in the demo data.
func TestHelpExamples(t *testing.T) {
	keep, source, _ := pair(t)
	n := 0
	for _, cmd := range commands {
		for _, line := range strings.Split(cmd.help, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "usermerge ") || strings.ContainsAny(line, "<>|") ||
				strings.Contains(line, "--db") || strings.Contains(line, " -o ") || cmd.db == createDB || cmd.db == noDB {
				continue
			}
			args := splitArgs(t, strings.TrimPrefix(line, "usermerge "))
			c := newCLI(t)
			if cmd.name == "batch" || strings.Contains(line, "--operation") {
				// the file the examples name, in the working directory
				t.Chdir(t.TempDir())
				csv := "target,sources,reason\n" + keep + "," + source + ",help example\n"
				if err := os.WriteFile("merges.csv", []byte(csv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if strings.Contains(line, "from-suggestions") {
				c.acme("duplicates", "run", "--full") // suggestions to merge
			}
			if cmd.name == "revert" || cmd.name == "show" {
				// a merge for the example to name
				c.acme("merge", "--yes", "--target", keep, source)
				c.acme("merge", "--yes", "--target", "katherine.lee", "kate.lee", "klee")
			}
			var out, errb strings.Builder
			m := &Main{Stdin: strings.NewReader("n\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
				Now: func() time.Time { return clock }, IsTerminal: func(any) bool { return true }}
			code := m.Execute(context.Background(), append([]string{"--db", c.db}, args...))
			cancelled := code == exitConflict && strings.Contains(errb.String(), "cancelled")
			if code != 0 && !cancelled {
				t.Errorf("help example %q: exit %d\n%s", line, code, errb.String())
			}
			n++
		}
	}
	if n < 15 {
		t.Errorf("ran only %d help examples", n)
	}
}

// splitArgs splits a command line on spaces, keeping "double quoted" words.
func splitArgs(t *testing.T, s string) []string {
	var args []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}

// TestTokenExpires: token create --expires takes a duration in days or
// hours or a date; the token carries it, the list shows it, and bad values
// and past dates are refused.
func TestTokenExpires(t *testing.T) {
	c := newCLI(t)
	var out struct {
		Token string `json:"token"`
		Info  struct {
			ExpiresAt *time.Time `json:"expires_at"`
		} `json:"info"`
	}
	c.json(&out, append(append([]string{}, acme...), "token", "create", "--expires", "30d", "monthly")...)
	if out.Info.ExpiresAt == nil || !out.Info.ExpiresAt.Equal(clock.Add(30*24*time.Hour)) {
		t.Errorf("--expires 30d: expires at %v, want %v", out.Info.ExpiresAt, clock.Add(30*24*time.Hour))
	}
	c.json(&out, append(append([]string{}, acme...), "token", "create", "--expires", "2026-06-30", "june")...)
	if want := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC); out.Info.ExpiresAt == nil || !out.Info.ExpiresAt.Equal(want) {
		t.Errorf("--expires 2026-06-30: expires at %v, want %v", out.Info.ExpiresAt, want)
	}
	contains(t, "token list", c.acme("token", "list"), "active until 2026-05-31 12:00", "active until 2026-06-30 00:00")
	r := c.fails(exitUsage, append(append([]string{}, acme...), "token", "create", "--expires", "soon", "x")...)
	contains(t, "--expires soon", r.stderr, "neither a duration")
	r = c.fails(exitUsage, append(append([]string{}, acme...), "token", "create", "--expires", "2026-04-01", "x")...)
	contains(t, "--expires in the past", r.stderr, "must be in the future")
}

// TestExportAsAdministrator: without --as the operator exports everything,
// admin lines and hashes included; with --as a group manager, the export of
// an account of theirs has no admin line and no hash, and the whole tenant
// is refused; an account outside their groups is not found.
func TestExportAsAdministrator(t *testing.T) {
	c := newCLI(t)
	var ans struct {
		Accounts []struct {
			ID string `json:"id"`
		} `json:"accounts"`
	}
	c.json(&ans, "--tenant", "acme", "--as", "sales-editor", "accounts", "--limit", "1")
	list := ans.Accounts
	if len(list) != 1 {
		t.Fatalf("sales-editor sees %d accounts", len(list))
	}
	acct := list[0].ID
	hash, err := usermerge.HashPassword("a long test passphrase")
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(`{"kind":"admin","tenant":"acme","id":"adm-linked","login":"linked","role":"tenant_admin","account":%q,"password_hash":%q}`, acct, hash)
	file := filepath.Join(t.TempDir(), "admin.ndjson")
	if err := os.WriteFile(file, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("--tenant", "acme", "import", file)

	for _, as := range [][]string{nil, {"--as", "admin"}} {
		out := c.ok(append(append([]string{"--tenant", "acme"}, as...), "export", "--account", acct)...)
		contains(t, fmt.Sprintf("export %v of a linked account", as), out, `"kind":"admin"`, `"password_hash":"$argon2id$`)
	}
	out := c.ok("--tenant", "acme", "--as", "sales-editor", "export", "--account", acct)
	if strings.Contains(out, `"kind":"admin"`) || strings.Contains(out, "password_hash") || !strings.Contains(out, `"id":"`+acct+`"`) {
		t.Errorf("sales-editor's export of %s: want the account without admin lines or hashes:\n%s", acct, out)
	}
	r := c.fails(exitForbidden, "--tenant", "acme", "--as", "sales-editor", "export")
	contains(t, "sales-editor exports the tenant", r.stderr, "only a tenant administrator may export the whole tenant")
	r = c.fails(exitNotFound, "--tenant", "acme", "--as", "sales-editor", "export", "--account", "olivia.bennett")
	contains(t, "sales-editor exports an account outside Sales", r.stderr, `account "`)
}

// TestCLICountColumns: preview and show name a merge's counts in the order
// and words of usermerge.CountColumns, the UI's column headers.
func TestCLICountColumns(t *testing.T) {
	c := newCLI(t)
	keep, source, _ := pair(t)
	var heads, words []string
	for _, col := range usermerge.CountColumns {
		heads = append(heads, strings.ToUpper(col.Label))
		words = append(words, col.Word+` \d+`)
	}
	out := c.acme("preview", "--target", keep, source)
	if want := regexp.MustCompile(`(?m)^KIND\s+` + strings.Join(heads, `\s+`) + `\s+RULE$`); !want.MatchString(out) {
		t.Errorf("preview header does not match %v:\n%s", want, out)
	}
	c.acme("merge", "--yes", "--target", keep, source)
	words[0] = usermerge.CountColumns[0].Label + ` \d+`
	out = c.acme("show", "1")
	if want := regexp.MustCompile(`(?m)^` + strings.Join(words, ", ") + `\.$`); !want.MatchString(out) {
		t.Errorf("show's counts line does not match %v:\n%s", want, out)
	}
	// Records name the account holding them by login, not by internal id.
	contains(t, "show 1", out, keep+" (kept)")
}
