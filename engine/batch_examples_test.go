package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"usermerge/demo"
	"usermerge/store"
)

// TestBatchExamplesOnTheDemo: the example files of docs/batches.md read,
// check and dry-run cleanly on the demo's tenant acme (seed 1, as
// `usermerge serve --demo` loads it), every row ready.
func TestBatchExamplesOnTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	e := New(db, nil)
	c := Caller{Tenant: "acme", Admin: "admin"}
	for _, name := range []string{"batch.csv", "batch.ndjson"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "docs", "examples", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := ParseBatch(f, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 5 {
				t.Errorf("%d rows, want 5", len(rows))
			}
			if _, err := e.CheckBatch(ctx, c, rows); err != nil {
				t.Fatalf("check: %v", err)
			}
			plan, err := e.DryRunBatch(ctx, c, rows)
			if err != nil || plan.Ready != len(rows) {
				t.Fatalf("dry run: %d of %d ready, %v", plan.Ready, len(rows), err)
			}
		})
	}
}
