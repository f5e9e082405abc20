package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestKilledServerRedeliversWebhook starts the real server (`usermerge
// serve --allow-private-webhooks`) with a merge's event waiting for an
// endpoint that does not answer its first request, SIGKILLs the server
// while that request hangs, starts it again, and checks that the endpoint
// gets the same event again with the same webhook-id and a valid signature,
// that the delivery ends delivered, and that its log shows the interrupted
// attempt before the one that succeeded. On SQLite and PostgreSQL.
func TestKilledServerRedeliversWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and waits for a delivery lease to run out")
	}
	bin := filepath.Join(t.TempDir(), "usermerge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		type request struct {
			id, timestamp, signature string
			body                     []byte
		}
		var mu sync.Mutex
		var got []request
		arrived := make(chan struct{}, 8)
		release := make(chan struct{})
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b := make([]byte, 0, 4096)
			buf := make([]byte, 4096)
			for {
				n, err := r.Body.Read(buf)
				b = append(b, buf[:n]...)
				if err != nil {
					break
				}
			}
			mu.Lock()
			got = append(got, request{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b})
			first := len(got) == 1
			mu.Unlock()
			arrived <- struct{}{}
			if first { // hang: the server is killed while it waits
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(func() { close(release); recv.Close() })

		url := storetest.URL(t)
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		loadCrashTenant(t, db)
		e := engine.New(db, nil)
		e.AllowPrivateWebhooks(true)
		who := engine.Caller{Tenant: "t1", Admin: "admin"}
		hook, secret, err := e.CreateWebhook(ctx, who, usermerge.WebhookInput{URL: &recv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Merge(ctx, who, usermerge.MergeRequest{TenantID: "t1", Target: "T", Sources: []string{"S"}}); err != nil {
			t.Fatal(err)
		}

		serve := func() *exec.Cmd {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			cmd := exec.Command(bin, "--db", url, "serve", "--addr", addr, "--allow-private-webhooks", "--webhook-timeout", "5s")
			cmd.Env = append(os.Environ(), "USERMERGE_DB=")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})
			return cmd
		}
		wait := func(what string, d time.Duration) {
			t.Helper()
			select {
			case <-arrived:
			case <-time.After(d):
				t.Fatalf("%s: nothing arrived within %v", what, d)
			}
		}

		first := serve()
		wait("the first attempt", 30*time.Second)
		if err := first.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		werr := first.Wait()
		if ee, ok := werr.(*exec.ExitError); !ok || !ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("the server was not killed: %v\n%s", werr, first.Stdout)
		}

		serve()
		// The killed server's lease on the delivery runs out after the
		// attempt timeout and a margin (35 s here); then the new one sends it.
		wait("the redelivery after the restart", 90*time.Second)

		mu.Lock()
		reqs := append([]request(nil), got...)
		mu.Unlock()
		if len(reqs) != 2 {
			t.Fatalf("the endpoint got %d requests, want 2", len(reqs))
		}
		if reqs[0].id == "" || reqs[1].id != reqs[0].id {
			t.Errorf("webhook-id %q then %q, want the same twice", reqs[0].id, reqs[1].id)
		}
		if string(reqs[1].body) != string(reqs[0].body) {
			t.Errorf("the redelivered body differs:\n%s\n%s", reqs[0].body, reqs[1].body)
		}
		for i, r := range reqs {
			if r.signature != engine.Sign([]string{secret}, r.id, r.timestamp, r.body) {
				t.Errorf("request %d: signature %q does not verify", i+1, r.signature)
			}
		}
		if !strings.Contains(string(reqs[0].body), `"type":"merge.completed"`) {
			t.Errorf("the body is not the merge's event: %s", reqs[0].body)
		}

		// The second server logs the answer just after it arrives.
		var d usermerge.WebhookDelivery
		var attempts []usermerge.WebhookAttempt
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			page, err := e.WebhookDeliveries(ctx, who, usermerge.DeliveryFilter{Webhook: hook.ID})
			if err != nil || len(page.Deliveries) != 1 {
				t.Fatalf("deliveries: %+v, %v", page, err)
			}
			if d, attempts, err = e.WebhookDelivery(ctx, who, page.Deliveries[0].ID); err != nil {
				t.Fatal(err)
			}
			if d.Status == usermerge.DeliveryDelivered {
				break
			}
		}
		if d.Status != usermerge.DeliveryDelivered || d.MessageID != reqs[0].id {
			t.Fatalf("delivery: %+v, want delivered as %s", d, reqs[0].id)
		}
		if len(attempts) != 2 || attempts[0].Status != 0 || !strings.Contains(attempts[0].Error, "interrupted") ||
			attempts[1].Status != http.StatusNoContent {
			t.Errorf("attempts: %+v, want the interrupted one and then 204", attempts)
		}
	})
}
