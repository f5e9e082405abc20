package server

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// defaultChromium is Debian's Chromium, which the browser tests drive
// (apt-get install chromium); USERMERGE_CHROMIUM names another.
const defaultChromium = "/usr/bin/chromium"

// chromium returns the browser to drive, or skips the calling test when it
// is missing: one line says so in the plain output of `go test ./...`.
// With CI set a missing browser fails the test instead, so CI cannot pass
// without the browser tests.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("USERMERGE_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no Chromium at %s; CI must run the browser tests (.ci/run installs chromium)", path)
	}
	msg := fmt.Sprintf("usermerge/server: the browser tests of the web UI were SKIPPED: no Chromium at %s (apt-get install chromium, or set USERMERGE_CHROMIUM to its path)", path)
	skipNotice.Do(func() {
		if !testing.Verbose() { // -v and -json show the skip message itself
			tellGoTest(msg)
		}
	})
	t.Skip(msg)
	return ""
}

var skipNotice sync.Once

// tellGoTest writes a line where the person running `go test` sees it,
// although the go command shows nothing of a passing package's output but
// its "ok" line unless -v is given: to the go command's own standard output
// (the test binary's parent on Linux) when that is a terminal or a pipe,
// else to the controlling terminal, if any. A regular file is left alone:
// written through another descriptor, the line could be overwritten by the
// go command's next write.
func tellGoTest(line string) {
	line += "\n"
	out := fmt.Sprintf("/proc/%d/fd/1", os.Getppid())
	if fi, err := os.Stat(out); err == nil && fi.Mode()&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0 {
		if f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			_, err = f.WriteString(line)
			f.Close()
			if err == nil {
				return
			}
		}
	}
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		f.WriteString(line)
		f.Close()
	}
}

// TestBrowserSkipIsReported runs `go test` on this package as a person
// without Chromium would, and checks that the plain output (package-list
// mode, which hides a passing package's own output) carries the one line
// saying the browser tests were skipped; and that with CI set the same run
// fails instead.
func TestBrowserSkipIsReported(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	missing := filepath.Join(t.TempDir(), "no-chromium")
	run := func(ci string) (string, error) {
		cmd := exec.Command(goCmd, "test", "-count=1", "-run", "^TestBrowserUI$", ".")
		cmd.Env = append(withoutEnv(os.Environ(), "CI", "USERMERGE_CHROMIUM"), "USERMERGE_CHROMIUM="+missing)
		if ci != "" {
			cmd.Env = append(cmd.Env, "CI="+ci)
		}
		out, err := cmd.CombinedOutput() // a pipe, as in `go test ./... | tee log`
		return string(out), err
	}

	out, err := run("")
	if err != nil {
		t.Fatalf("go test without Chromium failed: %v\n%s", err, out)
	}
	want := "usermerge/server: the browser tests of the web UI were SKIPPED: no Chromium at " + missing +
		" (apt-get install chromium, or set USERMERGE_CHROMIUM to its path)"
	if n := strings.Count(out, "SKIPPED"); n != 1 || !strings.Contains(out, want+"\n") {
		t.Errorf("go test without Chromium: want the line %q once, got %d lines with SKIPPED:\n%s", want, n, out)
	}
	if !strings.Contains(out, "ok  \tusermerge/server") {
		t.Errorf("go test without Chromium did not pass:\n%s", out)
	}

	out, err = run("true")
	if err == nil || !strings.Contains(out, "CI must run the browser tests") {
		t.Errorf("go test without Chromium in CI: want a failure naming the browser tests, got %v:\n%s", err, out)
	}
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}
