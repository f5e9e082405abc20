package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

var benchNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// TestBatchDataLoads: the batch bench's tenant loads on both databases
// (its records keep every unique index) with the generated volumes: every
// source and target holds its records of every kind, the background
// accounts their sign-ins, and every row of the batch names its pair.
func TestBatchDataLoads(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db, err := store.Open(ctx, storetest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		d := &batchDataset{dataset: newDataset(Options{Accounts: 60, Seed: 1, Now: benchNow}), rows: 20}
		if _, err := loadTables(ctx, db, d.tables(), newBar(nil)); err != nil {
			t.Fatal(err)
		}
		err = db.View(ctx, func(tx *store.Tx) error {
			for k, v := range batchVolumes {
				for _, c := range []struct {
					id   string
					want int
				}{{batchSource(7), v.source}, {batchTarget(7), v.target}, {bgAccount(3), 0}} {
					want := c.want
					if k == usermerge.KindSignIns && c.id == bgAccount(3) {
						want = bgBatchSignIns
					}
					n, err := tx.Count(ctx, `SELECT COUNT(*) FROM `+k.Spec().Table+` WHERE tenant_id = ? AND account_id = ?`, tenantID, c.id)
					if err != nil {
						return err
					}
					if n != int64(want) {
						t.Errorf("%s of %s: %d, want %d", k, c.id, n, want)
					}
				}
			}
			n, err := tx.Count(ctx, `SELECT COUNT(*) FROM accounts WHERE tenant_id = ?`, tenantID)
			if err == nil && n != 60 {
				t.Errorf("%d accounts, want 60", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Each row names its pair (by id, by login, by external ID).
		resolve := func(ref string) string {
			var id string
			err := db.View(ctx, func(tx *store.Tx) error {
				if sys, val, ok := strings.Cut(ref, ":"); ok {
					return tx.QueryRow(ctx, `SELECT account_id FROM external_ids WHERE tenant_id = ? AND system = ? AND value = ?`, tenantID, sys, val).Scan(&id)
				}
				a, err := tx.AccountByRef(ctx, tenantID, ref)
				id = a.ID
				return err
			})
			if err != nil {
				t.Fatalf("%q: %v", ref, err)
			}
			return id
		}
		for _, row := range d.batchRows(0, 3) {
			i := row.Line - 2
			if tgt, src := resolve(row.Target), resolve(row.Sources[0]); tgt != batchTarget(i) || src != batchSource(i) {
				t.Errorf("row %d names %s and %s, want %s and %s", row.Line, tgt, src, batchTarget(i), batchSource(i))
			}
		}
	})
}

// TestBatchBenchTiny runs the batch bench at a tiny size on both databases
// so that the command cannot rot: it checks what was measured and
// verified, never how long anything took.
func TestBatchBenchTiny(t *testing.T) {
	if _, _, err := engine.New(storetest.Open(t), nil).Batches(context.Background(), engine.Caller{Tenant: "x", Admin: "x"}, 1, 0); usermerge.ErrorReason(err) == "not_built" {
		t.Skip("the batch's run is not built yet") // until b-run's engine/batch_run.go is merged
	}
	storetest.Each(t, func(t *testing.T) {
		r, err := RunBatch(context.Background(), BatchOptions{DB: storetest.URL(t), Accounts: 100, Rows: 30, MemoryAt: 10, Now: benchNow})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range r.Steps {
			names = append(names, s.Name)
			if s.Seconds <= 0 || s.Rows <= 0 {
				t.Errorf("step %s: %v s, %d rows", s.Name, s.Seconds, s.Rows)
			}
		}
		if got := strings.Join(names, " "); got != "check dry_run create run bare" {
			t.Errorf("steps %q", got)
		}
		if want := int64(30 * batchVolumes[usermerge.KindSignIns].source); r.Moved[usermerge.KindSignIns] != want || r.BareRows[usermerge.KindSignIns] != want {
			t.Errorf("sign-ins moved by the batch %d, by the baseline %d, want %d", r.Moved[usermerge.KindSignIns], r.BareRows[usermerge.KindSignIns], want)
		}
		if r.MergesPerSecond <= 0 || r.RunBare <= 0 || r.CheckShare <= 0 {
			t.Errorf("merges/s %v, run/bare %v, check share %v", r.MergesPerSecond, r.RunBare, r.CheckShare)
		}
		if r.Memory.Supported && (r.Memory.EarlyRows < 10 || r.Memory.EarlyPeakRSS <= 0 || r.Memory.PeakRSS < r.Memory.EarlyPeakRSS) {
			t.Errorf("memory %+v", r.Memory)
		}
		if len(r.Checks) != 3 {
			t.Errorf("checks %q", r.Checks)
		}
		var b strings.Builder
		WriteBatchText(&b, r)
		for _, want := range []string{"each source holds", "Merges per second", "Run / bare baseline", "(Check + dry run) / run"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("text lacks %q:\n%s", want, b.String())
			}
		}
	})
	if _, err := RunBatch(context.Background(), BatchOptions{DB: t.TempDir() + "/x.db", Accounts: 10, Rows: 10}); usermerge.ErrorCode(err) != usermerge.Invalid {
		t.Errorf("accounts fewer than twice the rows: %v", err)
	}
}
