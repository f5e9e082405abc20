package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"usermerge/demo"
)

// TestServeDemo starts `usermerge serve --demo` on a free port, checks the
// health endpoint, signs in with the demo password, and stops it the way
// Ctrl-C does; the command must then return without error.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	urls := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		OnListen: func(u string) { urls <- u }}
	done := make(chan int, 1)
	db := filepath.Join(t.TempDir(), "serve.db")
	go func() { done <- m.Execute(ctx, []string{"--db", db, "serve", "--demo", "--addr", "127.0.0.1:0"}) }()
	var base string
	select {
	case base = <-urls:
	case code := <-done:
		t.Fatalf("serve exited %d before listening:\n%s%s", code, out.String(), errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening within a minute")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"tenant":"acme","login":"admin","password":"`+demo.DemoPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var who struct {
		Tenants []string `json:"tenants"`
	}
	json.NewDecoder(resp.Body).Decode(&who)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Join(who.Tenants, ",") != "acme" {
		t.Fatalf("demo sign-in: status %d, tenants %v", resp.StatusCode, who.Tenants)
	}
	for _, want := range []string{base, "demo-password", "/api/v1/openapi.json",
		"Created the demo data in " + db, "Duplicate accounts (the first is the one to keep):", "maria.garcia  <-  mgarcia",
		"katherine.lee  <-  kate.lee, klee", "Tenant globex: Globex Academy, schoox preset"} {
		if !strings.Contains(out.String()+errb.String(), want) {
			t.Errorf("serve output lacks %q:\n%s", want, out.String()+errb.String())
		}
	}
	checkServingLine(t, out.String(), base, db)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve after Ctrl-C: exit %d\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of Ctrl-C")
	}
	if !strings.Contains(errb.String(), "method=POST path=/api/v1/session status=200") {
		t.Errorf("no structured request log line for the sign-in:\n%s", errb.String())
	}
}

// syncBuffer is a strings.Builder safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkServingLine checks that serve announces its address once, with the
// database it serves: "usermerge is serving http://127.0.0.1:PORT (database
// FILE)", not the URL and then the same address again.
func checkServingLine(t *testing.T, out, base, db string) {
	t.Helper()
	line := regexp.MustCompile(`(?m)^usermerge is serving .*$`).FindString(out)
	if want := "usermerge is serving " + base + " (database " + db + ")"; line != want {
		t.Errorf("serving line %q, want %q", line, want)
	}
	if hostPort := strings.TrimPrefix(base, "http://"); strings.Count(line, hostPort) != 1 {
		t.Errorf("the serving line names %s %d times: %q", hostPort, strings.Count(line, hostPort), line)
	}
}

// serveUntilListening runs serve with args on db until it listens, calls
// during with its base URL, stops it as Ctrl-C does and returns its
// standard output.
func serveUntilListening(t *testing.T, db string, during func(base string), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	urls := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return clock }, IsTerminal: func(any) bool { return false },
		OnListen: func(u string) { urls <- u }}
	done := make(chan int, 1)
	go func() {
		done <- m.Execute(ctx, append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case base := <-urls:
		checkServingLine(t, out.String(), base, db)
		if during != nil {
			during(base)
		}
	case code := <-done:
		t.Fatalf("serve %s exited %d before listening:\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening within a minute")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve after Ctrl-C: exit %d\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of Ctrl-C")
	}
	return out.String()
}

// TestServeDemoExistingDatabase: a second serve --demo serves the database
// it finds as it is and says so, naming the file and how to start afresh;
// --fresh deletes it and loads new demo data; --fresh needs --demo.
func TestServeDemoExistingDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	c := newCLI(t)
	keep, source, _ := pair(t)
	c.acme("merge", "--yes", "--target", keep, source)

	out := serveUntilListening(t, c.db, nil, "--demo")
	contains(t, "serve --demo on a database with tenants", out,
		"Using the existing database "+c.db+" as it is, with tenants acme and globex and the merges made so far: no demo data was added.", "usermerge --db "+c.db+" serve --demo --fresh")
	for _, unwanted := range []string{"Created the demo data", "Deleted"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("serve --demo on an existing database says %q:\n%s", unwanted, out)
		}
	}
	if got := c.acme("merges"); !strings.Contains(got, source) {
		t.Errorf("serve --demo lost the merge of %s made before it:\n%s", source, got)
	}

	out = serveUntilListening(t, c.db, nil, "--demo", "--fresh")
	contains(t, "serve --demo --fresh", out, "Deleted the database "+c.db+", with tenants acme and globex, to start afresh.", "Created the demo data in "+c.db,
		"maria.garcia  <-  mgarcia")
	if got := c.acme("merges"); !strings.Contains(got, "No merges found.") {
		t.Errorf("after serve --demo --fresh the earlier merge is still there:\n%s", got)
	}

	r := c.run("serve", "--fresh")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--fresh goes with --demo") {
		t.Errorf("serve --fresh without --demo: exit %d, want %d with a message\n%s", r.code, exitUsage, r.stderr)
	}
	if got := c.acme("accounts", "garcia"); !strings.Contains(got, "maria.garcia") {
		t.Errorf("serve --fresh without --demo changed the database:\n%s", got)
	}
}
