//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"usermerge"
	"usermerge/store"
)

// openPTY opens a pseudo-terminal pair: what is written to the master is
// typed on the terminal, and what the terminal echoes can be read from it.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestPasswordPromptDoesNotEcho types a password on a real (pseudo)
// terminal: the prompt shows, the password is set, and the terminal never
// echoes it.
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	master, tty := openPTY(t)
	c := newCLI(t)
	const pw = "a very secret passphrase"
	var out, errb syncBuffer
	m := &Main{Stdin: tty, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return clock }}
	done := make(chan int, 1)
	go func() {
		done <- m.Execute(context.Background(), []string{"--db", c.db, "--tenant", "acme", "password", "admin"})
	}()
	// Type the password once the prompt shows (echo is off by then).
	for i := 0; !strings.Contains(errb.String(), "New password for admin"); i++ {
		if i > 600 {
			t.Fatalf("no prompt on the terminal:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := io.WriteString(master, pw+"\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("password: exit %d\n%s%s", code, out.String(), errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("password did not finish within a minute")
	}
	// Whatever the terminal echoed is waiting on the master side.
	echoed := make(chan string, 1)
	go func() {
		b := make([]byte, 4096)
		master.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := master.Read(b)
		echoed <- string(b[:n])
	}()
	select {
	case got := <-echoed:
		if strings.Contains(got, "secret") {
			t.Errorf("the terminal echoed the password: %q", got)
		}
	case <-time.After(5 * time.Second): // nothing echoed, and no deadline support
	}
	db, err := store.Open(context.Background(), c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash string
	if err := db.SQL().QueryRow(`SELECT password_hash FROM admins WHERE tenant_id = 'acme' AND login = 'admin'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !usermerge.CheckPassword(hash, pw) {
		t.Errorf("the password typed on the terminal was not the one set")
	}
}

// TestPasswordFromPipe keeps a password piped on standard input working.
func TestPasswordFromPipe(t *testing.T) {
	c := newCLI(t)
	if r := runMain(nil, c.db, "another long passphrase\n", "--tenant", "acme", "password", "admin"); r.code != 0 {
		t.Fatalf("password from a pipe: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
