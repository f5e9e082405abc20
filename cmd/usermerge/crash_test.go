package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

const crashSignIns = 100_000

// TestKilledMergeIsAllOrNothing starts the real program merging an account
// with 100,000 sign-ins (and combinable records), kills it with SIGKILL at
// several points of its run, and shows that the database then holds either
// the whole merge or none of it, on SQLite and on PostgreSQL.
func TestKilledMergeIsAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 sign-ins and builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "usermerge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		url := storetest.URL(t)
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		loadCrashTenant(t, db)
		e := engine.New(db, nil)
		who := engine.Caller{Tenant: "t1", Admin: "admin"}

		merge := func() (*exec.Cmd, time.Time) {
			cmd := exec.Command(bin, "--db", url, "--tenant", "t1", "--as", "admin", "merge", "--yes", "--target", "T", "S")
			cmd.Env = append(os.Environ(), "USERMERGE_DB=")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd, time.Now()
		}
		// outcome inspects the database: "none" or "all"; anything else fails.
		outcome := func() string {
			var onT, onS, merges int64
			var status string
			err := db.View(ctx, func(tx *store.Tx) error {
				var err error
				if onT, err = tx.Count(ctx, `SELECT COUNT(*) FROM signins WHERE tenant_id = 't1' AND account_id = 'T'`); err != nil {
					return err
				}
				if onS, err = tx.Count(ctx, `SELECT COUNT(*) FROM signins WHERE tenant_id = 't1' AND account_id = 'S'`); err != nil {
					return err
				}
				if merges, err = tx.Count(ctx, `SELECT COUNT(*) FROM merges WHERE tenant_id = 't1' AND state = 'active'`); err != nil {
					return err
				}
				return tx.QueryRow(ctx, `SELECT status FROM accounts WHERE tenant_id = 't1' AND id = 'S'`).Scan(&status)
			})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case onT == crashSignIns+1 && onS == 0 && merges == 1 && status == "inactive":
				return "all"
			case onT == 1 && onS == crashSignIns && merges == 0 && status == "active":
				return "none"
			}
			t.Fatalf("partial merge after kill: %d sign-ins on T, %d on S, %d active merges, source %s", onT, onS, merges, status)
			return ""
		}
		undo := func() { // back to the start for the next trial
			page, err := e.ListMerges(ctx, who, usermerge.MergeFilter{State: usermerge.StateActive})
			if err != nil || len(page.Merges) != 1 {
				t.Fatalf("active merges: %+v %v", page.Merges, err)
			}
			if _, err := e.Revert(ctx, who, []int64{page.Merges[0].ID}); err != nil {
				t.Fatal(err)
			}
		}

		// a run to completion gives the length of a whole run
		cmd, start := merge()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("uninterrupted merge: %v", err)
		}
		full := time.Since(start)
		if outcome() != "all" {
			t.Fatal("the uninterrupted merge did not complete")
		}
		undo()
		if outcome() != "none" {
			t.Fatal("revert did not restore the start")
		}
		t.Logf("a whole run (process start to exit) takes %v", full)

		killedMidway := 0
		for _, frac := range []float64{0.3, 0.5, 0.65, 0.8, 0.9} {
			cmd, start := merge()
			time.Sleep(time.Duration(frac * float64(full)))
			exited := cmd.ProcessState != nil
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "finished") {
				t.Fatal(err)
			}
			werr := cmd.Wait()
			killed := false
			if ee, ok := werr.(*exec.ExitError); ok {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					killed = true
				}
			}
			got := outcome()
			t.Logf("killed at %.0f%% (%v after start): killed=%v exited=%v outcome=%s", frac*100, time.Since(start).Round(time.Millisecond), killed, exited, got)
			if killed && got == "none" {
				killedMidway++
			}
			if got == "all" {
				undo()
			}
		}
		if killedMidway == 0 {
			t.Errorf("no trial killed the process before its merge committed; the test proved nothing")
		}
	})
}

// loadCrashTenant makes tenant t1 with target T (one sign-in) and source S
// (100,000 sign-ins and a few hundred combinable records), with set-based
// inserts so the load is quick on both databases.
func loadCrashTenant(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "Crash", Policy: usermerge.Presets["learningbox"]}); err != nil {
			return err
		}
		if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: "t1", ID: "a", Login: "admin", Role: usermerge.TenantAdmin}, ""); err != nil {
			return err
		}
		for _, id := range []string{"T", "S"} {
			if err := tx.PutAccount(ctx, usermerge.Account{TenantID: "t1", ID: id, Login: id, Name: id, Status: usermerge.Active, CreatedAt: time.Unix(0, 0)}); err != nil {
				return err
			}
		}
		stmts := []string{
			fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
				INSERT INTO signins (tenant_id, id, account_id, at, ip, client) SELECT 't1', 's' || i, 'S', 1600000000000 + i, '10.0.0.1', 'web' FROM n`, crashSignIns),
			`INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES ('t1', 'target-sign-in', 'T', 1, '10.0.0.2', 'web')`,
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
				INSERT INTO lecture_progress (tenant_id, id, account_id, lecture_id, course_id, percent, last_access)
				SELECT 't1', a.id || '-l' || i, a.id, 'l' || i, 'c1', CASE WHEN a.id = 'S' THEN 80 ELSE 20 END, 1600000000000 + i
				FROM n, accounts a WHERE a.tenant_id = 't1'`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
