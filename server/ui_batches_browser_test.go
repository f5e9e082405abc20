package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"usermerge"
	"usermerge/engine"
)

// TestBrowserBatch drives Bulk merges as an administrator would: a bad
// file refused with its rows by line, a good file's dry run, Run this
// batch with the progress bar following the run, the report, the batch's
// merges in the merge list grouped by operation, the revert with its
// confirmation, and a batch of every certain suggestion.
func TestBrowserBatch(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := context.Background()
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Rows of the demo's accounts, paired, kept to those the check takes.
	accts, err := e.eng.SearchAccounts(ctx, admin, "", "active", 60, 0)
	if err != nil || len(accts) < 20 {
		t.Fatalf("the demo's accounts: %v, %d", err, len(accts))
	}
	var rows []usermerge.BatchRow
	for i := 0; i+1 < len(accts) && len(rows) < 12; i += 2 {
		rows = append(rows, usermerge.BatchRow{Line: len(rows) + 2, Target: accts[i].Login, Sources: []string{accts[i+1].Login}, Reason: "SSO migration"})
	}
	for range 3 {
		_, err := e.eng.CheckBatch(ctx, admin, rows)
		var bp *usermerge.BatchProblems
		if !errors.As(err, &bp) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		bad := map[int]bool{}
		for _, p := range bp.Problems {
			bad[p.Line] = true
		}
		var kept []usermerge.BatchRow
		for _, r := range rows {
			if !bad[r.Line] {
				r.Line = len(kept) + 2
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if len(rows) < 5 {
		t.Fatalf("only %d good rows of the demo's accounts", len(rows))
	}
	var good strings.Builder
	good.WriteString("target,sources,reason\n")
	for _, r := range rows {
		fmt.Fprintf(&good, "%s,%s,%s\n", r.Target, r.Sources[0], r.Reason)
	}
	goodFile := write("june-sso.csv", good.String())
	badFile := write("june-bad.csv", "target,sources,reason\n"+rows[0].Target+","+rows[0].Sources[0]+",ok\n"+
		rows[1].Target+",nobody-at-all,typo\n"+rows[2].Target+","+rows[0].Sources[0]+",twice\n")

	p := e.person(t)
	p.signIn("admin")
	p.press(`nav.sections a[href$="/batches"]`)
	p.waitFor("#upload")
	p.contains("#batch-empty", "No bulk merge yet")

	// A bad file: every bad row with its line; nothing stored.
	p.do(chromedp.SetUploadFiles("#batch-file", []string{badFile}))
	p.press("#check-file")
	p.waitFor("#problems")
	p.contains("#problems", "june-bad.csv", "Line 3", "nothing was stored")
	p.contains("#error", "Nothing was stored")
	p.shot("30-batch-refused")
	if _, n, err := e.eng.Batches(ctx, admin, 10, 0); err != nil || n != 0 {
		t.Fatalf("a refused file stored a batch: %d %v", n, err)
	}

	// A good file: its dry run, row by row.
	p.do(chromedp.SetUploadFiles("#batch-file", []string{goodFile}))
	p.press("#check-file")
	p.waitFor("#dry-run")
	p.contains("#flash", "Every row of june-sso.csv is good")
	p.contains("#plan-summary", fmt.Sprintf("%d rows would merge", len(rows)))
	p.contains("#plan-table", "Line 2", rows[0].Target, rows[0].Sources[0], "Ready")
	p.shot("31-batch-dry-run")

	// Run this batch: the page follows the run (the worker starts after
	// the first look, so the running state is seen).
	p.press("#run-batch")
	p.waitFor("#batch-progress")
	p.contains("#batch-status", "Running")
	p.contains("#progress-text", fmt.Sprintf("of %d rows", len(rows)))
	p.contains("#batch-left", fmt.Sprint(len(rows)))
	p.shot("32-batch-running")
	wctx, stop := context.WithCancel(ctx)
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); e.eng.WorkBatches(wctx, 50*time.Millisecond) }()
	t.Cleanup(func() { stop(); <-workerDone })
	p.waitText("#batch-status", "Done", 30*time.Second)
	p.contains("#batch-merged", fmt.Sprint(len(rows)))
	p.contains("#batch-left", "0")
	p.contains("#report-table", "Line 2", "Merged", "Operation", "merge ")
	p.shot("33-batch-report")

	// Its merges in the merge list, grouped by operation.
	p.press("#batch-merges")
	p.waitFor("#batch-filter")
	if n := p.count("tr.group-head"); n != len(rows) {
		p.fail("the merge list shows %d operations of the batch; want %d", n, len(rows))
	}
	p.contains("#batch-filter", "Only the merges of batch 1")
	p.shot("34-merges-of-batch")

	// Revert the batch: a confirmation, then the revert runs.
	p.open("/ui/t/acme/batches/1")
	p.press("#revert-batch")
	p.waitFor("#confirm-revert-batch")
	p.contains("#revert-h", "Revert batch 1?")
	p.shot("35-batch-revert")
	p.press("#confirm-revert-batch")
	p.waitText("#batch-status", "Reverted", 30*time.Second)
	p.contains("#batch-reverted", fmt.Sprint(len(rows)))
	p.shot("36-batch-reverted")

	// Every certain suggestion, from Likely duplicates, to its dry run.
	if run, err := e.eng.Detect(ctx, admin, engine.DetectOptions{Full: true}, nil); err != nil || run.Status != usermerge.RunDone {
		t.Fatalf("detection: %v %+v", err, run)
	}
	p.open("/ui/t/acme/duplicates")
	p.press("#merge-certain")
	// Some certain suggestions of the demo cannot be merged as they are
	// (a kept account that is not active): the selection is refused with
	// each one's reason, and a batch of the others is offered.
	if p.count("#problems") > 0 {
		p.contains("#problems", "certain suggestions", "Line ")
		p.shot("37-batch-of-suggestions-refused")
		p.press("#batch-others")
	}
	p.waitFor("#dry-run")
	p.contains("#plan-summary", "would merge")
	p.contains("h1", "suggestions")
	p.shot("38-batch-of-suggestions")
}

// waitText waits until the element's text holds want (a page the script
// reloads may replace the element meanwhile).
func (p *person) waitText(sel, want string, limit time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		txt, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
		if strings.Contains(txt, want) {
			return
		}
		if time.Now().After(deadline) {
			p.fail("%s never shows %q: %q", sel, want, txt)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
