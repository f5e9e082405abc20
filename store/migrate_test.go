package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"

	"usermerge/store"
	"usermerge/store/storetest"
)

// TestConcurrentMigrations starts three instances at once on each of a few
// fresh, empty databases (PostgreSQL: schemas): every one must open, and
// every migration must be applied once.
func TestConcurrentMigrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		for round := 0; round < 3; round++ {
			u := storetest.URL(t)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := store.Open(ctx, u)
					if err == nil {
						db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d: instance %d: %v", round, i, err)
				}
			}
			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			err = db.View(ctx, func(tx *store.Tx) error {
				n, err := tx.Count(ctx, `SELECT COUNT(*) FROM schema_migrations`)
				if err != nil {
					return err
				}
				d, err := tx.Count(ctx, `SELECT COUNT(DISTINCT version) FROM schema_migrations`)
				if n != d || n < 4 {
					t.Errorf("round %d: %d migrations recorded, %d distinct", round, n, d)
				}
				return err
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestOpenCreatesMissingSchema: a PostgreSQL URL whose search_path names a
// schema that does not exist yet gets it created and migrated.
func TestOpenCreatesMissingSchema(t *testing.T) {
	base := storetest.PostgresURL(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("test_new_%x", rand.Uint64())
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	for i := 0; i < 2; i++ { // the second open finds it migrated
		db, err := store.Open(ctx, u.String())
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		db.Close()
	}
	var tables int
	if err := admin.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables < 10 {
		t.Errorf("schema %s holds %d tables after open", schema, tables)
	}
}
