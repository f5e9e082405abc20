package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

const crashPairs = 1000

// TestKilledBatchResumesExactly starts the real program on a batch of
// 1,000 merges (`usermerge batch run FILE --yes`), SIGKILLs it at random
// moments ten times, each time going on with `usermerge batch resume ID`,
// lets the last resume finish, and compares the database with that of an
// uninterrupted run of the same file on an identical database: accounts,
// merges with their counts, every record kind's rows, the journal and the
// batch rows' statuses are equal; every row merged once. On SQLite and
// PostgreSQL; the seed of the kill times is logged.
func TestKilledBatchResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a batch of 1,000 merges a dozen times")
	}
	if _, _, err := engine.New(storetest.Open(t), nil).Batches(context.Background(), engine.Caller{Tenant: "x", Admin: "x"}, 1, 0); usermerge.ErrorReason(err) == "not_built" {
		t.Skip("the batch's run is not built yet") // until b-run's engine/batch_run.go is merged
	}
	bin := filepath.Join(t.TempDir(), "usermerge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "pairs.csv")
	var csv strings.Builder
	csv.WriteString("target,sources,reason\n")
	for i := 1; i <= crashPairs; i++ {
		fmt.Fprintf(&csv, "T%d,S%d,crash test\n", i, i)
	}
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("USERMERGE_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("kill times from seed %d (rerun with USERMERGE_CRASH_SEED=%d)", seed, seed)

	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(seed, 1))
		start := func(url string, args ...string) *exec.Cmd {
			cmd := exec.Command(bin, append([]string{"--db", url, "--tenant", "t1", "--as", "admin", "batch"}, args...)...)
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
		open := func() (string, *store.DB) {
			url := storetest.URL(t)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			loadBatchCrashTenant(t, db)
			return url, db
		}
		who := engine.Caller{Tenant: "t1", Admin: "admin"}

		// The uninterrupted run, on its own database.
		wholeURL, wholeDB := open()
		began := time.Now()
		cmd := start(wholeURL, "run", file, "--yes")
		if err := cmd.Wait(); err != nil {
			t.Fatalf("uninterrupted batch run: %v\n%s", err, cmd.Stdout)
		}
		whole := time.Since(began)
		t.Logf("an uninterrupted run (process start to exit) takes %v", whole.Round(time.Millisecond))

		// The killed one.
		url, db := open()
		e := engine.New(db, nil)
		batch := func() (usermerge.Batch, bool) {
			bs, _, err := e.Batches(ctx, who, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) > 1 {
				t.Fatalf("%d batches: a restart made a second batch", len(bs))
			}
			if len(bs) == 0 {
				return usermerge.Batch{}, false
			}
			return bs[0], true
		}
		midway, last := 0, -1
		for kill := 1; kill <= 10; kill++ {
			b, made := batch()
			if made && b.Status == usermerge.BatchDone {
				break
			}
			var cmd *exec.Cmd
			if made {
				cmd = start(url, "resume", fmt.Sprint(b.ID))
			} else {
				cmd = start(url, "run", file, "--yes")
			}
			// Between 2 % and 12 % of a whole run: ten kills fit in one run,
			// some before the batch is made, most in the middle of it.
			wait := time.Duration((0.02 + 0.1*rng.Float64()) * float64(whole))
			time.Sleep(wait)
			cmd.Process.Signal(syscall.SIGKILL)
			werr := cmd.Wait()
			killed := false
			if ee, ok := werr.(*exec.ExitError); ok {
				ws, ok := ee.Sys().(syscall.WaitStatus)
				killed = ok && ws.Signaled()
			}
			b, made = batch()
			t.Logf("kill %d after %v: killed=%v batch made=%v status=%s merged=%d left=%d", kill, wait.Round(time.Millisecond), killed, made, b.Status, b.Merged, b.Left)
			if !killed && werr != nil {
				t.Fatalf("the batch process failed on its own: %v\n%s", werr, cmd.Stdout)
			}
			if killed && made && b.Merged > max(last, 0) && b.Left > 0 {
				midway++
			}
			last = b.Merged
			// The killed process's lease would run out after some seconds;
			// the test does not wait for that but frees it, as time would.
			if _, err := db.SQL().ExecContext(ctx, `UPDATE batches SET lease_until = 0 WHERE tenant_id = 't1'`); err != nil {
				t.Fatal(err)
			}
		}
		if b, made := batch(); !made || b.Status != usermerge.BatchDone {
			if !made {
				cmd = start(url, "run", file, "--yes")
			} else {
				cmd = start(url, "resume", fmt.Sprint(b.ID))
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("the last resume: %v\n%s", err, cmd.Stdout)
			}
		}
		if midway < 3 {
			t.Errorf("only %d kills landed in the middle of the batch; the test proved little", midway)
		}
		t.Logf("%d of the kills stopped the batch part-way", midway)

		b, _ := batch()
		if b.Status != usermerge.BatchDone || b.Merged != crashPairs || b.Refused != 0 || b.Merges != crashPairs {
			t.Errorf("after the kills: %+v; want done with every row merged once", b)
		}
		got, want := crashSnapshot(t, db), crashSnapshot(t, wholeDB)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the killed and resumed database differs from the uninterrupted one (-uninterrupted +killed):\n%s", diff)
		}
		var twice int64
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			twice, err = tx.Count(ctx, `SELECT COUNT(*) FROM (SELECT source_id FROM merges WHERE tenant_id = 't1' GROUP BY source_id HAVING COUNT(*) > 1) x`)
			return err
		})
		if err != nil || twice != 0 {
			t.Errorf("%d sources merged more than once (%v)", twice, err)
		}
	})
}

// crashSnapshot is the state the two runs must share: every data and
// journal table of tenant t1 and the batch's rows, without the columns
// that hold wall-clock times of the run (merged, reverted, created, leased
// at) and the events' payloads (which carry them).
func crashSnapshot(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	var snap map[string][]string
	err := db.View(context.Background(), func(tx *store.Tx) error {
		tables := slices.DeleteFunc(append(store.DataTables(), store.JournalTables()...), func(s string) bool { return s == "events" })
		var err error
		if snap, err = storetest.Snapshot(context.Background(), tx, tables, "t1", "at", "reverted_at", "deleted_at"); err != nil {
			return err
		}
		rows, err := storetest.Lines(context.Background(), tx, `SELECT ord, line, target, sources, target_id, source_ids, status,
			operation_id, merge_ids, merges, problem_reason FROM batch_rows WHERE tenant_id = 't1'`)
		snap["batch_rows"] = rows
		if err != nil {
			return err
		}
		snap["events"], err = storetest.Lines(context.Background(), tx, `SELECT type FROM events WHERE tenant_id = 't1'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return stableIDs(snap)
}

// mergeIDColumns hold a merge's id; opIDColumns an operation's.
var (
	mergeIDColumns = map[string]bool{"merge_id": true, "merged_by": true, "moved_by": true, "retired_by": true, "merge_ids": true}
	opIDColumns    = map[string]bool{"operation_id": true}
)

// stableIDs names every merge by its accounts (source>target), every
// operation by its merges and every batch by its rank instead of by
// number: PostgreSQL allocates ids outside the transaction, as a sequence
// does, so a transaction killed with its process (the batch's creation,
// too) leaves a gap and the two runs' numbers differ.
func stableIDs(snap map[string][]string) map[string][]string {
	merge, opMerges := map[string]string{}, map[string][]string{}
	var batchIDs []int64
	for _, l := range snap["merges"] {
		f := fields(l)
		key := f["source_id"] + ">" + f["target_id"]
		merge[f["id"]] = key
		opMerges[f["operation_id"]] = append(opMerges[f["operation_id"]], key)
		var b int64
		if _, err := fmt.Sscan(f["batch_id"], &b); err == nil {
			batchIDs = append(batchIDs, b)
		}
	}
	slices.Sort(batchIDs)
	batch := map[string]string{}
	for i, b := range slices.Compact(batchIDs) {
		batch[fmt.Sprint(b)] = fmt.Sprintf("batch#%d", i+1)
	}
	op := map[string]string{}
	for id, ms := range opMerges {
		slices.Sort(ms)
		op[id] = "op(" + strings.Join(ms, ",") + ")"
	}
	out := map[string][]string{}
	for table, lines := range snap {
		for _, l := range lines {
			parts := strings.Split(strings.TrimSuffix(l, "|"), "|")
			for i, p := range parts {
				col, val, _ := strings.Cut(p, "=")
				switch {
				case col == "id" && table == "merges", mergeIDColumns[col] && !strings.HasPrefix(val, "["):
					if k, ok := merge[val]; ok {
						parts[i] = col + "=" + k
					}
				case col == "merge_ids":
					var ids []string
					for _, id := range strings.Split(strings.Trim(val, "[]"), ",") {
						ids = append(ids, merge[strings.TrimSpace(id)])
					}
					parts[i] = col + "=" + strings.Join(ids, ",")
				case opIDColumns[col]:
					if k, ok := op[val]; ok {
						parts[i] = col + "=" + k
					}
				case col == "batch_id":
					if k, ok := batch[val]; ok {
						parts[i] = col + "=" + k
					}
				}
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		slices.Sort(out[table])
	}
	return out
}

// fields splits a line of storetest.Lines into its columns.
func fields(line string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(line, "|") {
		if col, val, ok := strings.Cut(p, "="); ok {
			out[col] = val
		}
	}
	return out
}

// loadBatchCrashTenant makes tenant t1 with 1,000 pairs (targets T1..,
// sources S1..) holding a few records of several kinds each, some on the
// same items, with set-based inserts so the load is quick on both
// databases.
func loadBatchCrashTenant(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "Crash", Policy: usermerge.Presets["learningbox"]}); err != nil {
			return err
		}
		if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: "t1", ID: "a", Login: "admin", Role: usermerge.TenantAdmin}, ""); err != nil {
			return err
		}
		n := fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `, crashPairs)
		stmts := []string{
			n + `INSERT INTO accounts (tenant_id, id, login, email, name, status, created_at)
				SELECT 't1', p || i, lower(p) || '.login' || i, lower(p) || i || '@example.org', 'Learner ' || i, 'active', 1500000000000 + i
				FROM n, (SELECT 'T' AS p UNION ALL SELECT 'S') x`,
			n + `INSERT INTO signins (tenant_id, id, account_id, at, ip, client)
				SELECT 't1', a.id || '-s' || i, a.id, 1600000000000 + i, '10.0.0.1', 'web' FROM accounts a, n
				WHERE a.tenant_id = 't1' AND i <= 4`,
			n + `INSERT INTO lecture_progress (tenant_id, id, account_id, lecture_id, course_id, percent, last_access)
				SELECT 't1', a.id || '-l' || i, a.id, 'l' || (i + CASE WHEN a.id LIKE 'T%' THEN 2 ELSE 0 END), 'c1',
					CASE WHEN a.id LIKE 'S%' THEN 80 ELSE 20 END, 1600000000000 + i
				FROM accounts a, n WHERE a.tenant_id = 't1' AND i <= 3`,
			`INSERT INTO external_ids (tenant_id, id, account_id, system, value)
				SELECT 't1', id || '-x', id, 'sso', id FROM accounts WHERE tenant_id = 't1' AND id LIKE 'S%'`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
