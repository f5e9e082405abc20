package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBench runs `usermerge bench` at the small size of the issue and reads
// its JSON; the bench package's own test checks the run on both databases.
func TestBench(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	r := runMain(nil, db, "", "--json", "bench", "--accounts", "1000", "--signins", "10000", "--merges", "10000", "--samples", "3")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		Database string `json:"database"`
		Steps    []struct {
			Name    string  `json:"name"`
			Seconds float64 `json:"seconds"`
		} `json:"steps"`
		MergeBare  float64 `json:"merge_vs_bare"`
		RevertBare float64 `json:"revert_vs_bare"`
		List       []struct {
			Filter string `json:"filter"`
		} `json:"list"`
		Checks []string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if out.Database != "sqlite" || len(out.Steps) != 4 || out.MergeBare <= 0 || out.RevertBare <= 0 || len(out.List) != 3 || len(out.Checks) != 4 {
		t.Errorf("unexpected result: %+v", out)
	}
	again := runMain(nil, db, "", "bench", "--accounts", "1000")
	if again.code != exitConflict || !strings.Contains(again.stderr, "already holds data") {
		t.Errorf("second run on the same database: exit %d, %s", again.code, again.stderr)
	}
	help := runMain(nil, "", "", "help", "bench")
	if help.code != 0 || !strings.Contains(help.stdout, "--signins") {
		t.Errorf("help bench: exit %d\n%s", help.code, help.stdout)
	}
}
