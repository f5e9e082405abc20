// Package storetest opens real databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when USERMERGE_TEST_POSTGRES holds a
// connection URL. Each test gets a database (SQLite) or schema (PostgreSQL)
// of its own, dropped when it ends, so tests may run in parallel. When CI is
// set, a missing or unreachable PostgreSQL fails the tests instead of
// skipping them.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"usermerge/store"
)

// EnvPostgres names the variable holding the PostgreSQL URL for tests.
const EnvPostgres = "USERMERGE_TEST_POSTGRES"

// Each runs fn as the subtests "sqlite" and "postgres". The postgres one is
// skipped when EnvPostgres is empty, unless CI is set: then it fails.
func Each(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	t.Run("sqlite", fn)
	t.Run("postgres", func(t *testing.T) {
		PostgresURL(t)
		fn(t)
	})
}

// PostgresURL returns the test server's URL, skipping the test (or failing
// it in CI) when there is none.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL tests", EnvPostgres)
		}
		t.Skipf("%s is not set", EnvPostgres)
	}
	return u
}

// IsPostgres reports whether the running test is a "postgres" subtest of Each.
func IsPostgres(t testing.TB) bool {
	for _, part := range strings.Split(t.Name(), "/") {
		if part == "postgres" {
			return true
		}
	}
	return false
}

// Open returns a fresh, migrated database of the kind the running test is
// for (see Each), closed and removed when the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// URL returns the URL of a fresh empty database of the running test's kind:
// an SQLite file in a temporary directory, or a new PostgreSQL schema (its
// search_path set in the URL) dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	if !IsPostgres(t) {
		return filepath.Join(t.TempDir(), "test.db")
	}
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("test_%x", rand.Uint64())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("PostgreSQL at %s is unreachable: %v", base, err)
		}
		t.Fatalf("PostgreSQL at %s: %v", base, err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close()
		if _, err := c.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Tests do not need a commit to survive a crash of the database server
	// (a killed client still finds every commit): not waiting for the disk
	// makes their thousands of small transactions several times faster.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// Lines runs a query and renders each row as "column=value|..." with the
// rows sorted: a stable text form of database state for tests to compare.
func Lines(ctx context.Context, tx *store.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out, rows.Err()
}

// Snapshot renders the tables (store.DataTables when nil) as sorted lines,
// only one tenant's rows when tenant is not "", leaving out the columns
// named in skip: a stable text form of database state for tests to compare.
func Snapshot(ctx context.Context, tx *store.Tx, tables []string, tenant string, skip ...string) (map[string][]string, error) {
	if tables == nil {
		tables = store.DataTables()
	}
	out := map[string][]string{}
	for _, table := range tables {
		q, args := "SELECT * FROM "+table, []any{}
		if tenant != "" {
			col := "tenant_id"
			if table == "tenants" {
				col = "id"
			}
			q, args = q+" WHERE "+col+" = ?", []any{tenant}
		}
		lines, err := Lines(ctx, tx, q, args...)
		if err != nil {
			return nil, err
		}
		for i, l := range lines {
			for _, col := range skip {
				if j := strings.Index(l, col+"="); j >= 0 && (j == 0 || l[j-1] == '|') {
					end := strings.IndexByte(l[j:], '|')
					l = l[:j] + l[j+end+1:]
				}
			}
			lines[i] = l
		}
		sort.Strings(lines)
		out[table] = lines
	}
	return out, nil
}
