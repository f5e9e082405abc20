package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"usermerge"
	"usermerge/store"
)

// location is where a run keeps its data: an SQLite file, or a PostgreSQL
// schema (the URL's search_path, else defaultSchema).
type location struct {
	url    string // for store.Open
	path   string // SQLite file; "" for PostgreSQL
	base   string // PostgreSQL URL without search_path
	schema string
}

const defaultSchema = "usermerge_bench"

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

func parseLocation(raw string) (location, error) {
	if !store.IsPostgres(raw) {
		p := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "file:")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p == "" {
			return location{}, usermerge.Errorf(usermerge.Invalid, "invalid_database", "no database path given")
		}
		return location{url: raw, path: p}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return location{}, usermerge.Errorf(usermerge.Invalid, "invalid_database", "the PostgreSQL URL is malformed")
	}
	q := u.Query()
	schema := q.Get("search_path")
	if schema == "" {
		schema = defaultSchema
	}
	if !identifier.MatchString(schema) {
		return location{}, usermerge.Errorf(usermerge.Invalid, "invalid_database",
			"bench: search_path must name one schema (lower-case letters, digits, _), not %q", schema)
	}
	q.Del("search_path")
	u.RawQuery = q.Encode()
	l := location{base: u.String(), schema: schema}
	q.Set("search_path", schema)
	q.Set("application_name", appName(schema))
	u.RawQuery = q.Encode()
	l.url = u.String()
	return l, nil
}

// appName names a run's PostgreSQL connections, so that the CPU time of
// the server processes serving them can be found (cpu.go).
func appName(schema string) string { return "usermerge-bench-" + schema }

// bare is the location of the copy the bare baseline runs on.
func (l location) bare() location {
	if l.path != "" {
		return location{url: l.path + ".bare", path: l.path + ".bare"}
	}
	b := l
	b.schema = l.schema + "_bare"
	u, _ := url.Parse(l.url)
	q := u.Query()
	q.Set("search_path", b.schema)
	q.Set("application_name", appName(b.schema))
	u.RawQuery = q.Encode()
	b.url = u.String()
	return b
}

func (l location) String() string {
	if l.path != "" {
		return l.path
	}
	return "schema " + l.schema + " of " + redact(l.base)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the PostgreSQL URL"
	}
	return u.Redacted()
}

// prepare makes sure the location holds no data: a missing or empty
// database is fine; one with data is refused, unless force, which deletes
// the file or drops and recreates the schema.
func (l location) prepare(ctx context.Context, force bool) error {
	has, err := l.hasData(ctx)
	if err != nil {
		return err
	}
	if has && !force {
		return usermerge.Errorf(usermerge.Conflict, "database_not_empty",
			"bench: %s already holds data; the benchmark needs a fresh database: name another with --db, or pass --force to delete it", l)
	}
	if !has && !force {
		if l.path == "" {
			return l.exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+l.schema)
		}
		return nil
	}
	return l.drop(ctx, true)
}

// drop deletes the file or the schema, and recreates an empty schema when
// recreate is set.
func (l location) drop(ctx context.Context, recreate bool) error {
	if l.path != "" {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if err := os.Remove(l.path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("bench: delete %s: %w", l.path+suffix, err)
			}
		}
		return nil
	}
	if err := l.exec(ctx, `DROP SCHEMA IF EXISTS `+l.schema+` CASCADE`); err != nil {
		return err
	}
	if recreate {
		return l.exec(ctx, `CREATE SCHEMA `+l.schema)
	}
	return nil
}

func (l location) exec(ctx context.Context, q string) error {
	c, err := sql.Open("pgx", l.base)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("bench: %s on %s: %w", q, redact(l.base), err)
	}
	return nil
}

// hasData reports whether the location holds any table other than an empty
// usermerge schema.
func (l location) hasData(ctx context.Context) (bool, error) {
	var c *sql.DB
	var err error
	var tablesQ string
	if l.path != "" {
		if fi, err := os.Stat(l.path); errors.Is(err, os.ErrNotExist) {
			return false, nil
		} else if err != nil {
			return false, err
		} else if fi.Size() == 0 {
			return false, nil
		}
		c, err = sql.Open("sqlite3", "file:"+l.path+"?mode=ro")
		tablesQ = `SELECT name FROM sqlite_master WHERE type = 'table'`
	} else {
		c, err = sql.Open("pgx", l.base)
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = '` + l.schema + `'`
	}
	if err != nil {
		return false, err
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, tablesQ)
	if err != nil {
		return false, fmt.Errorf("bench: read %s: %w", l, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return false, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(tables) == 0 {
		return false, nil
	}
	q := `SELECT COUNT(*) FROM tenants`
	if l.path == "" {
		q = `SELECT COUNT(*) FROM ` + l.schema + `.tenants`
	}
	var n int64
	if err := c.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return true, nil // not a usermerge database: it holds something else
	}
	return n > 0, nil
}

// copyTo makes dst an identical copy of the heavy pair's data in src (the
// tenant, its accounts, org structure and records; not the merge list), for
// the bare baseline. SQLite copies the file; PostgreSQL copies the tables
// server-side into dst's schema.
func copyTo(ctx context.Context, src *store.DB, srcLoc, dst location, tables []table) (*store.DB, error) {
	if err := dst.drop(ctx, dst.path == ""); err != nil {
		return nil, err
	}
	if srcLoc.path != "" {
		if _, err := src.SQL().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return nil, fmt.Errorf("bench: checkpoint: %w", err)
		}
		if err := copyFile(srcLoc.path, dst.path); err != nil {
			return nil, err
		}
		return store.Open(ctx, dst.url)
	}
	db, err := store.Open(ctx, dst.url)
	if err != nil {
		return nil, err
	}
	copies := []string{"tenants", "groups", "jobs"}
	for _, t := range copies {
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO `+dst.schema+`.`+t+` SELECT * FROM `+srcLoc.schema+`.`+t); err != nil {
			db.Close()
			return nil, fmt.Errorf("bench: copy %s: %w", t, err)
		}
	}
	for _, t := range tables {
		if t.name == "merges" || t.name == "merge_counts" {
			continue
		}
		cols := strings.Join(t.cols, ", ")
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO `+dst.schema+`.`+t.name+` (`+cols+`) SELECT `+cols+` FROM `+srcLoc.schema+`.`+t.name); err != nil {
			db.Close()
			return nil, fmt.Errorf("bench: copy %s: %w", t.name, err)
		}
	}
	return db, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Written to disk now, so that the kernel's write-back of a gigabyte
	// does not run during the measured bare baseline.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// settle brings a database to a steady state before a measured step, so
// that no step pays for the previous one's leftovers: PostgreSQL vacuums
// and analyzes the tables (as autovacuum would have by the time an
// administrator merges) and checkpoints; SQLite checkpoints its WAL.
func settle(ctx context.Context, db *store.DB, tables []string) error {
	if db.Dialect() == "postgres" {
		for _, t := range tables {
			if _, err := db.SQL().ExecContext(ctx, `VACUUM (ANALYZE) `+t); err != nil {
				return fmt.Errorf("bench: vacuum %s: %w", t, err)
			}
		}
		// CHECKPOINT needs superuser or pg_checkpoint; without it the step
		// may pay for a checkpoint, which only adds noise.
		db.SQL().ExecContext(ctx, `CHECKPOINT`)
		return nil
	}
	_, err := db.SQL().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
