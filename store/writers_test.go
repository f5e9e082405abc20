package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
)

// TestSQLiteWritersTakeTurns: while one goroutine writes transaction after
// transaction, another writer of the process gets in at the next turn, not
// when SQLite's busy handler happens to wake in a gap (it starved the
// webhook worker behind a loop of merges).
func TestSQLiteWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/writers.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Transact(ctx, func(tx *store.Tx) error {
		return tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "T", Policy: usermerge.Presets["schoox"]})
	}); err != nil {
		t.Fatal(err)
	}
	var loops atomic.Int64
	stop, stopped := make(chan struct{}), make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				stopped <- nil
				return
			default:
			}
			err := db.Transact(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE tenants SET name = name WHERE id = ?`, "t1")
				time.Sleep(2 * time.Millisecond) // a merge's work, holding the lock
				return err
			})
			if err != nil {
				stopped <- err
				return
			}
			loops.Add(1)
		}
	}()
	for loops.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	worst := int64(0)
	for range 30 {
		before := loops.Load()
		err := db.Transact(ctx, func(tx *store.Tx) error {
			worst = max(worst, loops.Load()-before)
			_, err := tx.Exec(ctx, `UPDATE tenants SET name = name WHERE id = ?`, "t1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	// The loop's transaction under way when this writer began may finish,
	// and one more may slip in as the turn passes; never a run of them.
	if worst > 2 {
		t.Errorf("a writer waited while the other writer committed %d transactions in a row", worst)
	}
}
