package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
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
	for _, want := range []string{base, "demo-password", "/api/v1/openapi.json"} {
		if !strings.Contains(out.String()+errb.String(), want) {
			t.Errorf("serve output lacks %q:\n%s", want, out.String()+errb.String())
		}
	}
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
