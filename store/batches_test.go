package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

func newBatch(t *testing.T, ctx context.Context, db *store.DB, tenant string, id int64, rows []usermerge.BatchRowResult, status usermerge.BatchStatus) {
	t.Helper()
	err := db.Transact(ctx, func(tx *store.Tx) error {
		b := usermerge.Batch{ID: id, Tenant: tenant, Name: "b.csv", Origin: "file", Status: status, By: "admin", Rows: len(rows), Created: tx.Now}
		if err := tx.InsertBatch(ctx, b); err != nil {
			return err
		}
		return tx.InsertBatchRows(ctx, tenant, id, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Rows are stored in chunks of one INSERT each: every row, over several
// chunks, reads back as written, in working order, a page at a time.
func TestBatchRowsStoredInChunksReadBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		putTenant(t, db, "t1")
		yes := true
		var rows []usermerge.BatchRowResult
		for i := 1; i <= 1201; i++ {
			r := usermerge.BatchRowResult{BatchRow: usermerge.BatchRow{Line: i + 1, Target: fmt.Sprintf("login-t%d", i), Sources: []string{fmt.Sprintf("s%d", i), "x"},
				Reason: "r", Suggestion: int64(i % 3)}, Order: i, Status: usermerge.RowPending, TargetID: fmt.Sprintf("t%d", i), SourceIDs: []string{fmt.Sprintf("s%d", i), "x"}}
			if i%2 == 0 {
				r.MoveExternalIDs = &yes
			}
			rows = append(rows, r)
		}
		newBatch(t, ctx, db, "t1", 1, rows, usermerge.BatchReady)
		var got []usermerge.BatchRowResult
		err := db.View(ctx, func(tx *store.Tx) error {
			for after := 0; ; {
				page, err := tx.BatchRowsAfter(ctx, "t1", 1, "", after, false, 500)
				if err != nil || len(page) == 0 {
					return err
				}
				got = append(got, page...)
				after = page[len(page)-1].Order
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows, got); diff != "" {
			t.Errorf("rows read back (-written +read):\n%s", diff)
		}
		var j store.BatchJob
		db.View(ctx, func(tx *store.Tx) error { j, err = tx.GetBatch(ctx, "t1", 1); return err })
		if err != nil || j.Rows != 1201 || j.Left != 1201 || j.Merged != 0 {
			t.Errorf("counts: rows %d left %d merged %d, %v", j.Rows, j.Left, j.Merged, err)
		}
	})
}

// A free batch is claimed by one worker only, and the claim takes one
// batch at a time; a held lease is not taken until it runs out.
func TestClaimFreeBatchTakesOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		putTenant(t, db, "t1")
		for id := int64(1); id <= 3; id++ {
			newBatch(t, ctx, db, "t1", id, []usermerge.BatchRowResult{{Order: 1, TargetID: "a", SourceIDs: []string{"b"}}}, usermerge.BatchRunning)
		}
		newBatch(t, ctx, db, "t1", 4, []usermerge.BatchRowResult{{Order: 1, TargetID: "a", SourceIDs: []string{"b"}}}, usermerge.BatchPaused)
		claim := func(owner string) int64 {
			var id int64
			err := db.Transact(ctx, func(tx *store.Tx) error {
				_, got, ok, err := tx.ClaimFreeBatch(ctx, owner, now.Add(15*time.Second))
				if ok {
					id = got
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		seen := map[int64]bool{}
		for _, owner := range []string{"w1", "w2", "w3"} {
			id := claim(owner)
			if id == 0 || seen[id] {
				t.Fatalf("%s claimed %d (seen %v)", owner, id, seen)
			}
			seen[id] = true
		}
		if id := claim("w4"); id != 0 {
			t.Errorf("w4 claimed %d: held leases or a paused batch", id)
		}
		var n int64
		db.View(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.Count(ctx, `SELECT COUNT(*) FROM batches WHERE lease_owner <> ''`)
			return err
		})
		if n != 3 {
			t.Errorf("%d batches leased, want 3", n)
		}
		now = now.Add(16 * time.Second)
		if id := claim("w4"); id == 0 {
			t.Error("a lease that ran out was not taken")
		}
	})
}

func putTenant(t *testing.T, db *store.DB, id string) {
	t.Helper()
	err := db.Transact(context.Background(), func(tx *store.Tx) error {
		return tx.PutTenant(context.Background(), usermerge.Tenant{ID: id, Name: id, Policy: usermerge.Presets["learningbox"]})
	})
	if err != nil {
		t.Fatal(err)
	}
}
