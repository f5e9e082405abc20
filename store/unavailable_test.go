package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// An import leaves the planner statistics of the tables it filled fresh
// (ANALYZE), so that the first merges after a large import are planned
// for the data that is there.
func TestImportAnalyzes(t *testing.T) { storetest.Each(t, testImportAnalyzes) }

func testImportAnalyzes(t *testing.T) {
	ctx := context.Background()
	db := ieOpen(t)
	analyzed := func(table string) bool {
		t.Helper()
		q := `SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'`
		if db.Dialect() == "postgres" {
			q = `SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = '` + table + `'`
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 && db.Dialect() == "sqlite" {
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = ?`, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		return n > 0
	}
	ieImport(t, db, ieExample(t))
	for _, table := range []string{"accounts", "signins", "badges", "memberships", "admins"} {
		if !analyzed(table) {
			t.Errorf("after the import, %s has no planner statistics", table)
		}
	}
	if _, err := db.ImportAccountsCSV(ctx, "acme", strings.NewReader("id,login,jobs\nu-7,seven,j-rep\n")); err != nil {
		t.Fatal(err)
	}
	if !analyzed("account_jobs") {
		t.Errorf("after the CSV import, account_jobs has no planner statistics")
	}
}

// A transaction that keeps failing on serialization failures is retried
// MaxAttempts times and then answered as unavailable (try again), not as
// an internal error or a conflict about the data.
func TestSerializationExhaustionIsUnavailable(t *testing.T) {
	storetest.PostgresURL(t)
	t.Run("postgres", func(t *testing.T) {
		db := storetest.Open(t)
		for _, code := range []string{"40001", "40P01"} {
			runs := 0
			err := db.Transact(context.Background(), func(tx *store.Tx) error {
				runs++
				return &pgconn.PgError{Code: code}
			})
			if runs != store.MaxAttempts {
				t.Errorf("%s: ran %d times, want %d", code, runs, store.MaxAttempts)
			}
			if usermerge.ErrorCode(err) != usermerge.Unavailable || usermerge.ErrorReason(err) != "too_busy" {
				t.Errorf("%s: %v, want unavailable/too_busy", code, err)
			}
			err = db.TransactOnce(context.Background(), func(tx *store.Tx) error { return &pgconn.PgError{Code: code} })
			if usermerge.ErrorCode(err) != usermerge.Unavailable {
				t.Errorf("%s once: %v, want unavailable", code, err)
			}
		}
	})
}
