package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"usermerge/engine"
	"usermerge/server"
	"usermerge/store"
)

// remote runs the same commands on two identical copies of the demo
// database: one directly (--db, --as admin), the other through a real
// server in process (--server, --token of admin).
type remote struct {
	t      *testing.T
	local  *cli
	url    string
	tokens map[string]string // admin login → API token secret
	ids    map[string]string // admin login → token id
	served *engine.Engine    // the server's engine
}

func newRemote(t *testing.T) *remote {
	t.Helper()
	ctx := context.Background()
	base := newCLI(t)
	r := &remote{t: t, tokens: map[string]string{}, ids: map[string]string{}}
	// The tokens go into the database before it is copied, so that both
	// copies list the same tokens; using each once sets its "last used" in
	// both (the server touches it at most once a minute, and the clock is
	// fixed).
	db, err := store.Open(ctx, base.db)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return clock }
	eng := engine.New(db, nil)
	for _, login := range []string{"admin", "eng-viewer"} {
		if err := eng.SetPassword(ctx, "acme", login, "a long test passphrase"); err != nil {
			t.Fatal(err)
		}
		secret, tok, err := eng.CreateToken(ctx, engine.Caller{Tenant: "acme", Admin: login}, "cli test "+login, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.TokenAdmin(ctx, "acme", secret); err != nil {
			t.Fatal(err)
		}
		r.tokens[login], r.ids[login] = secret, tok.ID
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	served := filepath.Join(t.TempDir(), "served.db")
	copyDB(t, base.db, served)
	r.local = base

	sdb, err := store.Open(ctx, served)
	if err != nil {
		t.Fatal(err)
	}
	sdb.Now = func() time.Time { return clock }
	r.served = engine.New(sdb, nil)
	srv := httptest.NewServer(server.New(server.Config{Engine: r.served}).Handler())
	t.Cleanup(func() {
		srv.Close()
		sdb.Close()
	})
	r.url = srv.URL
	return r
}

func copyDB(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		if err == nil {
			if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// missingDB proves that a remote run opens no database: opening it would
// fail with "database ... does not exist".
const missingDB = "/nonexistent/usermerge.db"

// remoteRun runs a command through the server as the token of login.
func (r *remote) remoteRun(login, stdin string, args ...string) result {
	return runMain(nil, missingDB, stdin, append([]string{"--server", r.url, "--token", r.tokens[login], "--tenant", "acme"}, args...)...)
}

// same runs args locally as --as admin and remotely with admin's token,
// and wants the same stdout, stderr and exit status; it returns the
// remote result.
func (r *remote) same(args ...string) result {
	r.t.Helper()
	return r.sameAs("admin", "", args...)
}

func (r *remote) sameAs(login, stdin string, args ...string) result {
	r.t.Helper()
	local := runMain(nil, r.local.db, stdin, append([]string{"--tenant", "acme", "--as", login}, args...)...)
	got := r.remoteRun(login, stdin, args...)
	cmd := strings.Join(args, " ")
	if got.code != local.code {
		r.t.Errorf("%s: exit %d remotely, %d locally\nremote stderr:\n%s\nlocal stderr:\n%s", cmd, got.code, local.code, got.stderr, local.stderr)
	}
	if got.stdout != local.stdout {
		r.t.Errorf("%s: stdout differs\nremote:\n%s\nlocal:\n%s", cmd, got.stdout, local.stdout)
	}
	if got.stderr != local.stderr {
		r.t.Errorf("%s: stderr differs\nremote:\n%s\nlocal:\n%s", cmd, got.stderr, local.stderr)
	}
	return got
}

func TestRemoteSameAsLocal(t *testing.T) {
	r := newRemote(t)
	keep, source, query := pair(t)

	contains(t, "accounts", r.same("accounts", query).stdout, keep, source)
	r.same("accounts", "--status", "inactive", "--limit", "700")
	r.same("--json", "accounts", query)
	r.same("account", keep)
	r.same("--json", "account", source)
	r.same("account", "nobody-at-all")
	contains(t, "preview", r.same("preview", "--target", keep, source).stdout, "Nothing has been changed")
	r.same("--json", "preview", "--target", keep, "--external-ids", source)
	r.same("preview", "--target", keep, keep)

	contains(t, "merge", r.same("merge", "--yes", "--reason", "same person", "--target", keep, source).stdout, "Merged 1 account")
	r.same("merge", "--target", keep, source) // no terminal, no --yes: refused
	r.same("merges")
	r.same("--json", "merges", "--source", source, "--from", "2026-05-01", "--to", "2026-05-01")
	r.same("merges", "--per-page", "0")
	r.same("merges", "--state", "bogus")
	r.same("accounts", "--status", "bogus")
	r.same("show", "1")
	r.same("show", "1", "--kind", "badge", "--limit", "3")
	r.same("show", "1", "--kind", "signin", "--limit", "2", "--offset", "2")
	r.same("--json", "show", "1", "--kind", "signin", "--limit", "2", "--offset", "4")
	r.same("show", "1", "--kind", "signin", "--offset", "100000")
	r.same("merges", "--operation", "1")
	r.same("--json", "show", "1")
	r.same("show", "99")

	act := r.same("activate", source)
	if act.code != exitConflict || !strings.Contains(act.stderr, "merged into") {
		t.Errorf("activate of a merged account: exit %d, want %d\n%s", act.code, exitConflict, act.stderr)
	}
	contains(t, "revert", r.same("revert", "--yes", "1").stdout, "Reverted 1 merge")
	r.same("revert", "--yes", "1") // again: refused
	r.same("show", "1")
	r.same("deactivate", source)
	r.same("activate", source)
	r.same("--json", "deactivate", source)

	contains(t, "delete", r.same("delete", "--yes", source).stdout, "is deleted")
	r.same("account", source)
	r.same("delete", keep) // no terminal, no --yes: refused after the impact

	r.same("settings")
	r.same("settings", "--preset", "schoox")
	r.same("--json", "settings", "revert_allowed=true", "credits=transfer")
	r.same("settings", "badges=sideways")
	r.same("settings")

	r.sameAs("eng-viewer", "", "merge", "--yes", "--target", "katherine.lee", "kate.lee")
	r.sameAs("eng-viewer", "", "settings", "--preset", "learningbox")
	r.same("token", "list")
	r.sameAs("eng-viewer", "", "token", "list")
}

func TestRemoteExportImport(t *testing.T) {
	r := newRemote(t)
	keep, source, _ := pair(t)
	r.same("merge", "--yes", "--target", keep, source)

	whole := r.same("export")
	if len(whole.stdout) < 10_000 || whole.code != 0 {
		t.Fatalf("export: %d bytes, exit %d\n%s", len(whole.stdout), whole.code, whole.stderr)
	}
	r.same("export", "--account", keep)
	r.same("export", "--format", "csv")
	r.same("export", "--account", "nobody-at-all")
	// Locally export and import are operator commands on the file; through
	// the server they need a tenant administrator's token.
	viewer := r.remoteRun("eng-viewer", "", "export")
	if viewer.code != exitForbidden || viewer.stdout != "" || !strings.Contains(viewer.stderr, "only a tenant administrator may export the whole tenant") {
		t.Errorf("export as a viewer: exit %d\n%s%s", viewer.code, viewer.stdout, viewer.stderr)
	}

	dir := t.TempDir()
	remoteFile := filepath.Join(dir, "remote.ndjson")
	out := r.remoteRun("admin", "", "export", "-o", remoteFile)
	contains(t, "export -o", out.stdout, "Exported", remoteFile)
	if b, err := os.ReadFile(remoteFile); err != nil || string(b) != whole.stdout {
		t.Errorf("export -o through the server differs from export to stdout (%v)", err)
	}

	bad := filepath.Join(dir, "bad.ndjson")
	data := `{"kind":"group","tenant":"acme","id":"g-new","name":"New group"}
{"kind":"account","tenant":"acme","id":"u-new","login":"newbie","email":"newbie@acme.test","name":"New Bie","status":"active","created_at":"2026-04-01T08:00:00.000Z"}
{"kind":"account","tenant":"acme","id":"u-new2","login":"newbie2","email":"newbie2@acme.test","name":"New Bie 2","status":"sleeping","created_at":"2026-04-01T08:00:00.000Z"}
`
	if err := os.WriteFile(bad, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.same("import", bad)
	if res.code != exitUsage || !strings.Contains(res.stderr, "usermerge: import: line 3:") {
		t.Errorf("import of a bad file: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	r.same("account", "newbie") // all or nothing: not there

	good := filepath.Join(dir, "good.ndjson")
	if err := os.WriteFile(good, []byte(strings.Join(strings.Split(data, "\n")[:2], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.same("import", good)
	r.same("account", "newbie")
	r.same("import", "-", "--format", "csv") // empty CSV on stdin
	badCSV := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(badCSV, []byte("id,login,colour\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = r.same("import", badCSV)
	if res.code != exitUsage || !strings.Contains(res.stderr, "usermerge: import: line 1: ") {
		t.Errorf("import of a bad CSV file: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	r.same("import", filepath.Join(dir, "missing.ndjson"))
	viewer = r.remoteRun("eng-viewer", "", "import", good)
	if viewer.code != exitForbidden || !strings.Contains(viewer.stderr, "usermerge: import: only a tenant administrator may import data") {
		t.Errorf("import as a viewer: exit %d\n%s%s", viewer.code, viewer.stdout, viewer.stderr)
	}
	r.same("export")
}

func TestRemoteRefusals(t *testing.T) {
	r := newRemote(t)
	run := func(env map[string]string, args ...string) result {
		return runMain(env, missingDB, "", args...)
	}
	want := func(what string, res result, code int, msg string) {
		t.Helper()
		if res.code != code || !strings.Contains(res.stderr, msg) {
			t.Errorf("%s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", what, res.code, code, msg, res.stdout, res.stderr)
		}
	}
	srv := []string{"--server", r.url, "--tenant", "acme"}

	want("no token", run(nil, append(srv, "accounts")...), exitUnauthenticated, "give an API token with --token or USERMERGE_TOKEN")
	want("wrong token", run(nil, append(srv, "--token", "umt_nothing.wrong", "accounts")...), exitUnauthenticated,
		"usermerge: the API token is not valid for this tenant, or was revoked")
	want("other tenant", run(nil, "--server", r.url, "--tenant", "globex", "--token", r.tokens["admin"], "accounts"), exitUnauthenticated,
		"not valid for this tenant")
	want("no tenant", run(nil, "--server", r.url, "--token", r.tokens["admin"], "accounts"), exitUsage,
		"with --server, name the tenant with --tenant or USERMERGE_TENANT")
	want("not a URL", run(nil, "--server", "localhost:8080", "--tenant", "acme", "--token", "x", "accounts"), exitUsage,
		`--server "localhost:8080" is not a server's URL`)
	for _, cmd := range [][]string{{"demo"}, {"serve"}, {"password", "admin"}, {"bench"}} {
		want(cmd[0], run(nil, append(append(srv, "--token", r.tokens["admin"]), cmd...)...), exitUsage,
			cmd[0]+" works on a database only, not through --server")
	}
	want("help", run(nil, append(srv, "help", "merge")...), exitOK, "")

	// The environment names the server, the token and the tenant; --as is
	// ignored (the token's administrator acts).
	env := map[string]string{"USERMERGE_SERVER": r.url, "USERMERGE_TOKEN": r.tokens["admin"], "USERMERGE_TENANT": "acme"}
	res := run(env, "--as", "eng-viewer", "settings", "--preset", "schoox")
	want("environment", res, exitOK, "")
	contains(t, "settings through the environment", res.stdout, "schoox preset")

	// A token cannot make tokens.
	want("token create", r.remoteRun("admin", "", "token", "create", "second"), exitForbidden, "an API token cannot create API tokens")

	// A revoked token is refused at once.
	secret, tok, err := r.served.CreateToken(context.Background(), engine.Caller{Tenant: "acme", Admin: "admin"}, "second", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := tok.ID
	want("the new token", run(nil, append(srv, "--token", secret, "merges")...), exitOK, "")
	want("token revoke", r.remoteRun("admin", "", "token", "revoke", id), exitOK, "")
	res = run(nil, append(srv, "--token", secret, "--json", "merges")...)
	want("revoked token", res, exitUnauthenticated, "the API token is not valid for this tenant, or was revoked, or has expired")
	contains(t, "revoked token --json", res.stdout, `"code": "unauthenticated"`, `"reason": "bad_token"`)

	// An unreachable server.
	gone := httptest.NewServer(nil)
	url := gone.URL
	gone.Close()
	res = run(nil, "--server", url, "--tenant", "acme", "--token", r.tokens["admin"], "accounts")
	want("unreachable", res, exitInternal, "usermerge: cannot reach the server at "+url+": ")
	if strings.Contains(res.stderr, "USERMERGE_DEBUG") {
		t.Errorf("unreachable: the message is the whole story, no debug hint:\n%s", res.stderr)
	}
}

func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
}
