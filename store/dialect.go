package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"

	"usermerge"
)

//go:embed migrations
var migrations embed.FS

// dialect is everything that differs between SQLite and PostgreSQL. The SQL
// text itself is shared: both accept ?-free UPDATE ... FROM, ON CONFLICT,
// window functions, partial indexes and IS NOT DISTINCT FROM.
type dialect struct {
	name      string
	driver    string
	numbered  bool // placeholders are $1, $2, ... instead of ?
	rebinds   sync.Map
	configure func(w, r *sql.DB)
	txOptions func(readOnly bool) *sql.TxOptions
	mapDriver func(err error) error
}

func pickDialect(url string) (d *dialect, dsnW, dsnR string, err error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return nil, "", "", usermerge.Errorf(usermerge.Invalid, "unsupported_database", "PostgreSQL is not supported by this build yet")
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if path == "" {
		return nil, "", "", usermerge.Errorf(usermerge.Invalid, "invalid_database", "no database path given")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	// Pragmas in the DSN so every pooled connection gets them. Writers take
	// the lock when they begin (_txlock=immediate) so two merges never
	// interleave and never deadlock upgrading a read lock; readers use a
	// second pool with deferred transactions and see a WAL snapshot.
	common := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL"
	return sqliteDialect(), common + "&_txlock=immediate", common + "&_txlock=deferred", nil
}

func sqliteDialect() *dialect {
	return &dialect{
		name:   "sqlite",
		driver: "sqlite3",
		configure: func(w, r *sql.DB) {
			w.SetMaxOpenConns(4)
			r.SetMaxOpenConns(8)
		},
		txOptions: func(bool) *sql.TxOptions { return nil },
		mapDriver: mapSQLiteError,
	}
}

func mapSQLiteError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "busy", Message: "another merge or change is in progress on this database; try again in a moment", Err: err}
	case sqlite3.ErrConstraint:
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return &usermerge.Error{Code: usermerge.Conflict, Reason: "duplicate", Message: "a record with the same key already exists", Err: err}
		case sqlite3.ErrConstraintForeignKey:
			return &usermerge.Error{Code: usermerge.Invalid, Reason: "missing_reference", Message: "a record refers to something that does not exist", Err: err}
		}
		return &usermerge.Error{Code: usermerge.Invalid, Reason: "constraint", Message: "the change breaks a data constraint", Err: err}
	}
	return nil
}

// mapError turns driver errors into domain errors by code; domain errors
// pass through; anything else becomes an internal error.
func (d *dialect) mapError(err error) error {
	if err == nil {
		return nil
	}
	var de *usermerge.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "timeout", Message: "the operation was cancelled or timed out; nothing was changed", Err: err}
	}
	if m := d.mapDriver(err); m != nil {
		return m
	}
	return usermerge.InternalError(err)
}

// rebind rewrites ? placeholders to $n for PostgreSQL. Queries never hold a
// literal question mark, so the rewrite is a plain scan.
func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	if v, ok := d.rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	d.rebinds.Store(q, b.String())
	return b.String()
}

// migrate applies the embedded numbered .sql files not yet applied, each in
// its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + db.dialect.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, err := migrations.ReadFile(dir + "/" + name)
		if err != nil {
			return err
		}
		err = db.Transact(ctx, func(tx *Tx) error {
			n, err := tx.Count(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, v)
			if err != nil || n > 0 {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", name, err)
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, v, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}
