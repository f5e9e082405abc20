package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsGracefullyOnSIGTERM builds the program, starts `serve` as a
// real process, opens a request whose body is still being sent, sends the
// process SIGTERM, and then finishes the body: the request in flight must be
// answered, and the process must exit 0 after saying it is stopping.
func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "usermerge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "serve.db"), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "USERMERGE_DB=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	// The notes (listening address, "Stopping") go to stdout or stderr
	// depending on the output mode; read both.
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	addrRE := regexp.MustCompile(`serving http://(127\.0\.0\.1:\d+)`)
	var addr string
	deadline := time.After(60 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case <-time.After(100 * time.Millisecond):
			if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
				addr = m[1]
			}
		case err := <-exited:
			t.Fatalf("serve exited before listening: %v\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("serve did not listen within a minute:\n%s", stderr.String())
		}
	}

	// A sign-in whose body has only half arrived is in flight.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"login":"nobody","password":"not the password"}`
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		addr, len(body), body[:10])
	// Let the server read the headers and start the handler, which now
	// waits for the rest of the body.
	time.Sleep(300 * time.Millisecond)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopping := false
	for i := 0; i < 200 && !stopping; i++ {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
			}
			stopping = strings.Contains(l, "Stopping")
		case <-time.After(50 * time.Millisecond):
			stopping = strings.Contains(stderr.String(), "Stopping")
		case err := <-exited:
			t.Fatalf("serve exited on SIGTERM before finishing the request in flight: %v\n%s", err, stderr.String())
		}
	}
	if !stopping {
		t.Fatalf("serve did not start stopping on SIGTERM:\n%s", stderr.String())
	}
	select {
	case err := <-exited:
		t.Fatalf("serve exited with a request in flight: %v\n%s", err, stderr.String())
	case <-time.After(200 * time.Millisecond):
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finishing the body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v\n%s", err, stderr.String())
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 || !strings.Contains(string(got), `"error"`) {
		t.Errorf("request in flight: status %d, body %s", resp.StatusCode, got)
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit within 20 s of SIGTERM:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "path=/api/v1/session") {
		t.Errorf("the request in flight was not logged:\n%s", stderr.String())
	}
}
