package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/mattn/go-sqlite3"

	"usermerge"
)

//go:embed migrations
var migrations embed.FS

// dialect is everything that differs between SQLite and PostgreSQL. The SQL
// text itself is shared: both accept UPDATE ... FROM, ON CONFLICT ...
// RETURNING, window functions, partial indexes and IS NOT DISTINCT FROM;
// parameters in a SELECT list carry a CAST so PostgreSQL knows their type.
type dialect struct {
	name      string
	driver    string
	numbered  bool // placeholders are $1, $2, ... instead of ?
	rebinds   sync.Map
	configure func(w, r *sql.DB)
	txOptions func(readOnly bool) *sql.TxOptions
	mapDriver func(err error) error
	// nextID allocates an id numbered per tenant from the counters table.
	// SQLite counts inside the transaction (writers are serialised anyway),
	// so ids have no gaps. PostgreSQL counts in a statement of its own on a
	// pool of its own (db.ids), so merges of different accounts in one
	// tenant never wait on the counter row for longer than that statement,
	// and the pool a merge holds a connection of can never be exhausted by
	// merges waiting for one; an id of a transaction that rolls back is not
	// reused, as with a sequence.
	nextID func(ctx context.Context, tx *Tx, tenant, name string) (int64, error)
	// lockAccount takes a merge's lock on one account (PostgreSQL: a row
	// lock with a timeout; SQLite: nothing, the transaction holds the
	// database's write lock from its first statement).
	lockAccount func(ctx context.Context, tx *Tx, tenant, id string) error
	// busy is how long an SQLite writer waits for the write lock (0 on
	// PostgreSQL): for another process's writer in SQLite's busy handler,
	// for this process's writers in the DB's queue of writers.
	busy time.Duration
	// byteCollate makes ORDER BY compare text byte by byte (SQLite's
	// default), so exports do not depend on a PostgreSQL server's locale.
	byteCollate string
}

// IsPostgres reports whether a database URL selects PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

func pickDialect(rawURL string) (d *dialect, dsnW, dsnR string, err error) {
	if IsPostgres(rawURL) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, "", "", usermerge.Errorf(usermerge.Invalid, "invalid_database", "the PostgreSQL URL is malformed")
		}
		// lock_timeout bounds how long a merge waits for another merge on the
		// same account before it is refused as "in progress"; a URL may set
		// its own (milliseconds).
		q := u.Query()
		if q.Get("lock_timeout") == "" {
			q.Set("lock_timeout", "5000")
		}
		u.RawQuery = q.Encode()
		return postgresDialect(), u.String(), u.String(), nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "file:")
	busy := "10000"
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err != nil {
			return nil, "", "", usermerge.Errorf(usermerge.Invalid, "invalid_database", "the database parameters are malformed")
		}
		if v := q.Get("busy_timeout"); v != "" {
			if _, err := strconv.Atoi(v); err != nil {
				return nil, "", "", usermerge.Errorf(usermerge.Invalid, "invalid_database", "busy_timeout must be milliseconds")
			}
			busy = v
		}
		path = path[:i]
	}
	if path == "" {
		return nil, "", "", usermerge.Errorf(usermerge.Invalid, "invalid_database", "no database path given")
	}
	// Pragmas in the DSN so every pooled connection gets them. Writers take
	// the lock when they begin (_txlock=immediate) so two merges never
	// interleave and never deadlock upgrading a read lock; a writer waits
	// busy_timeout ms (default 10 s) for another before it is refused.
	// Readers use a second pool with deferred transactions and see a WAL
	// snapshot.
	common := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_synchronous=NORMAL&_busy_timeout=" + busy
	d = sqliteDialect()
	ms, _ := strconv.Atoi(busy)
	d.busy = time.Duration(ms) * time.Millisecond
	return d, common + "&_txlock=immediate", common + "&_txlock=deferred", nil
}

func sqliteDialect() *dialect {
	return &dialect{
		name:   "sqlite",
		driver: sqliteDriver,
		configure: func(w, r *sql.DB) {
			w.SetMaxOpenConns(4)
			r.SetMaxOpenConns(8)
		},
		txOptions: func(bool) *sql.TxOptions { return nil },
		mapDriver: mapSQLiteError,
		nextID: func(ctx context.Context, tx *Tx, tenant, name string) (int64, error) {
			var v int64
			err := tx.QueryRow(ctx, `INSERT INTO counters (tenant_id, name, value) VALUES (?, ?, 1)
				ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value`, tenant, name).Scan(&v)
			return v, err
		},
		lockAccount: func(context.Context, *Tx, string, string) error { return nil },
	}
}

func postgresDialect() *dialect {
	return &dialect{
		name:        "postgres",
		driver:      "pgx",
		numbered:    true,
		byteCollate: ` COLLATE "C"`,
		configure: func(w, r *sql.DB) {
			w.SetMaxOpenConns(16)
			w.SetMaxIdleConns(16)
		},
		txOptions: func(readOnly bool) *sql.TxOptions {
			if readOnly { // one consistent snapshot for the whole read
				return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
			}
			return nil // READ COMMITTED; merges serialise on account row locks
		},
		mapDriver: mapPostgresError,
		nextID: func(ctx context.Context, tx *Tx, tenant, name string) (int64, error) {
			var v int64
			err := tx.ids.QueryRowContext(ctx, `INSERT INTO counters (tenant_id, name, value) VALUES ($1, $2, 1)
				ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value`, tenant, name).Scan(&v)
			if err != nil {
				return 0, fmt.Errorf("allocate a %s id: %w", name, err)
			}
			return v, nil
		},
		lockAccount: func(ctx context.Context, tx *Tx, tenant, id string) error {
			var got string
			err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE tenant_id = ? AND id = ? FOR NO KEY UPDATE`, tenant, id).Scan(&got)
			if err == nil || errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "55P03" {
				return &usermerge.Error{Code: usermerge.Conflict, Reason: "merge_in_progress",
					Message: fmt.Sprintf("another merge is in progress for account %s; try again when it has finished", id), Err: err}
			}
			return err
		},
	}
}

func mapPostgresError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if connectionLost(err) {
			return errUnavailable(err)
		}
		return nil
	}
	switch {
	case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
		// connection exception; the server shutting down or starting up
		return errUnavailable(err)
	case pe.Code == "40001":
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "serialization", Message: "a concurrent change got in the way; try again", Err: err}
	case pe.Code == "40P01":
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "deadlock", Message: "a concurrent change got in the way; try again", Err: err}
	case pe.Code == "55P03":
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "merge_in_progress", Message: "another merge is in progress on these accounts; try again when it has finished", Err: err}
	case pe.Code == "57014":
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "timeout", Message: "the operation took too long and was cancelled; nothing was changed", Err: err}
	case pe.Code == "23505":
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "duplicate", Message: "a record with the same key already exists", Err: err}
	case pe.Code == "23503":
		return &usermerge.Error{Code: usermerge.Invalid, Reason: "missing_reference", Message: "a record refers to something that does not exist", Err: err}
	case pe.Code == "22021" || pe.Code == "22P05":
		return &usermerge.Error{Code: usermerge.Invalid, Reason: "invalid_text", Message: "the text holds a character that cannot be stored (NUL or invalid UTF-8)", Err: err}
	case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
		return &usermerge.Error{Code: usermerge.Invalid, Reason: "constraint", Message: "the change breaks a data constraint", Err: err}
	}
	return nil
}

// connectionLost reports whether a PostgreSQL driver error means the
// connection to the server is gone or cannot be made: by type, never by
// message.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

func errUnavailable(err error) error {
	return &usermerge.Error{Code: usermerge.Unavailable, Reason: "database_unavailable",
		Message: "the database cannot be reached just now; nothing was changed; try again shortly", Err: err}
}

// exhausted is the error of a transaction that kept failing on
// serialization failures or deadlocks: the database is too busy with
// concurrent changes to this data; trying later may work.
func exhausted(err error) error {
	return &usermerge.Error{Code: usermerge.Unavailable, Reason: "too_busy",
		Message: "concurrent changes kept getting in the way; nothing was changed; try again shortly", Err: err}
}

// retryable reports whether a failed transaction may simply run again.
func retryable(err error) bool {
	r := usermerge.ErrorReason(err)
	return r == "serialization" || r == "deadlock"
}

// sqliteBusy reports whether an SQLite error is the file being locked by
// another connection.
func sqliteBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

func mapSQLiteError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return &usermerge.Error{Code: usermerge.Conflict, Reason: "merge_in_progress", Message: "another merge or change is in progress on this database; try again when it has finished", Err: err}
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
	if db.dialect.name == "postgres" {
		unlock, err := db.lockForMigration(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
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

// lockForMigration makes instances that start at once on one PostgreSQL
// schema migrate one after the other: it takes a session advisory lock
// named after the schema on a connection of its own, held until unlock,
// waiting up to 300 s (not lock_timeout, which is for merges).
// Migrations of other schemas go on meanwhile; where one installs an
// extension, which belongs to the whole database, it takes a second lock for
// that (007_search.sql). (On SQLite every migration's transaction takes the
// write lock up front.) Under the lock it creates the schema the search path
// names when there is none yet, so a URL may name a new schema.
func (db *DB) lockForMigration(ctx context.Context) (unlock func(), err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var path string
	if err := conn.QueryRowContext(ctx, `SELECT current_setting('search_path')`).Scan(&path); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate: read the search path: %w", err)
	}
	// Wait for another instance's migrations longer than the lock timeout
	// that guards merges: a fresh database takes a few seconds to migrate,
	// and several instances (or test schemas) may start at once.
	if _, err := conn.ExecContext(ctx, `SET lock_timeout = '300s'`); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	unlock = func() {
		// A fresh context: the lock must go even when ctx is done, or the
		// connection returns to the pool still holding it.
		bg := context.Background()
		if _, err := conn.ExecContext(bg, `SELECT pg_advisory_unlock_all()`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the connection, and the lock with it
		} else if _, err := conn.ExecContext(bg, `RESET lock_timeout`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}
	key := firstSchema(path)
	if key == "" {
		key = path
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('usermerge migrate ' || $1))`, key); err != nil {
		unlock()
		return nil, fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	var current sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		unlock()
		return nil, fmt.Errorf("migrate: read the search path: %w", err)
	}
	if !current.Valid { // no schema of the search path exists: create the first
		schema := firstSchema(path)
		if schema == "" {
			unlock()
			return nil, usermerge.Errorf(usermerge.Invalid, "invalid_database", "the PostgreSQL search_path %q names no schema to create the tables in", path)
		}
		if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			unlock()
			return nil, fmt.Errorf("migrate: create schema %s: %w", schema, err)
		}
	}
	return unlock, nil
}

// firstSchema is the first schema a PostgreSQL search_path names, unquoted;
// "" for none, or for "$user" (the role's schema, which is not created).
func firstSchema(path string) string {
	first, _, _ := strings.Cut(path, ",")
	first = strings.TrimSpace(first)
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		first = strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
	}
	if first == "$user" {
		return ""
	}
	return first
}

// byteOrder is the collation suffix for ORDER BY on text that must sort the
// same on both databases.
func (tx *Tx) byteOrder() string { return tx.d.byteCollate }
