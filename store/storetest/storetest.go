// Package storetest opens real databases for tests: SQLite in a temporary
// directory, always.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"usermerge/store"
)

// Open returns a fresh, migrated SQLite database that is closed when the
// test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
