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

// TestBenchDuplicates runs `usermerge bench duplicates` at a small size and
// reads its JSON: every figure the issue asks for is there.
func TestBenchDuplicates(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dup.db")
	r := runMain(nil, db, "", "--json", "bench", "duplicates", "--accounts", "2000", "--checks", "20")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		Database  string               `json:"database"`
		Accounts  int                  `json:"accounts"`
		Load      struct{ Rows int64 } `json:"load"`
		Detection struct {
			Seconds float64 `json:"seconds"`
		} `json:"detection"`
		Memory struct {
			PeakRSS   int64 `json:"peak_rss_bytes"`
			Supported bool  `json:"supported"`
		} `json:"memory"`
		Stats struct {
			PairsCompared *int64 `json:"pairs_compared"`
		} `json:"stats"`
		Quality struct {
			Accounts       int      `json:"accounts"`
			TruePairs      int64    `json:"true_pairs"`
			BlockingRecall *float64 `json:"blocking_recall"`
			Grades         []struct {
				Grades    string   `json:"grades"`
				Precision *float64 `json:"precision"`
				Recall    *float64 `json:"recall"`
			} `json:"grades"`
		} `json:"quality"`
		Check struct {
			Queries int      `json:"queries"`
			P50     *float64 `json:"p50_ms"`
			P95     *float64 `json:"p95_ms"`
		} `json:"check"`
		Run struct {
			Status string `json:"status"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	q := out.Quality
	if out.Database != "sqlite" || out.Accounts != 2000 || q.Accounts != 2000 || q.TruePairs == 0 || out.Load.Rows <= 2000 ||
		out.Detection.Seconds <= 0 || out.Stats.PairsCompared == nil || q.BlockingRecall == nil || *q.BlockingRecall < 0 ||
		out.Check.Queries != 20 || out.Check.P50 == nil || out.Check.P95 == nil || *out.Check.P95 < *out.Check.P50 || out.Run.Status != "done" {
		t.Errorf("unexpected result:\n%s", r.stdout)
	}
	if out.Memory.Supported && out.Memory.PeakRSS <= 0 {
		t.Errorf("peak RSS %d", out.Memory.PeakRSS)
	}
	if len(q.Grades) != 3 || q.Grades[0].Grades != "certain" || q.Grades[1].Grades != "certain+probable" || q.Grades[2].Grades != "all" {
		t.Errorf("grades %+v", q.Grades)
	}
	for _, g := range q.Grades {
		if g.Precision == nil || g.Recall == nil {
			t.Errorf("%s: no precision or recall", g.Grades)
		}
	}
	text := runMain(nil, filepath.Join(t.TempDir(), "dup.db"), "", "bench", "duplicates", "--accounts", "500", "--checks", "5")
	if text.code != 0 || !strings.Contains(text.stdout, "blocking recall") || !strings.Contains(text.stdout, "certain+probable") {
		t.Errorf("text output: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
	again := runMain(nil, db, "", "bench", "duplicates", "--accounts", "500")
	if again.code != exitConflict || !strings.Contains(again.stderr, "already holds data") {
		t.Errorf("second run on the same database: exit %d, %s", again.code, again.stderr)
	}
	bad := runMain(nil, filepath.Join(t.TempDir(), "x.db"), "", "bench", "triplicates")
	if bad.code == 0 || !strings.Contains(bad.stderr, "unknown benchmark") {
		t.Errorf("bench triplicates: exit %d, %s", bad.code, bad.stderr)
	}
}
