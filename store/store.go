// Package store keeps usermerge's data in SQLite (embedded, the default) or
// PostgreSQL. It holds all SQL: migrations, the reads and writes of tenants,
// accounts and records, the set-based statements that apply each merge rule
// and undo it, and import/export. Queries are written once, with ? for
// parameters; the few dialect differences live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"usermerge"
)

// DB is an open usermerge database.
type DB struct {
	w       *sql.DB // writes: every transaction takes the write lock up front
	r       *sql.DB // reads: snapshot reads that never block writers
	ids     *sql.DB // PostgreSQL: id allocation outside the transactions (dialect.nextID)
	dialect *dialect
	url     string
	Now     func() time.Time // the clock; one reading per transaction
	events  chan struct{}    // a commit wrote events (see Events)
	// writers queues this process's SQLite write transactions (nil on
	// PostgreSQL): SQLite lets one writer in at a time, and its busy
	// handler makes the others sleep and poll, so that a writer that
	// begins again at once (a batch's next row, a loop of merges) would
	// win the lock over and over and the others (the webhook worker
	// logging an attempt) would starve. A channel's waiters are served in
	// order.
	writers chan struct{}
}

// Events is signalled after a commit that wrote events, so that this
// process's delivery workers need not wait for their next poll. A signal
// may stand for several commits.
func (db *DB) Events() <-chan struct{} { return db.events }

// Open opens (creating if needed) the database named by url and applies any
// pending migrations. A url starting with postgres:// or postgresql:// selects
// PostgreSQL; anything else is an SQLite file path (optionally "sqlite:" or
// "file:" prefixed).
func Open(ctx context.Context, url string) (*DB, error) {
	d, dsnW, dsnR, err := pickDialect(url)
	if err != nil {
		return nil, err
	}
	w, err := sql.Open(d.driver, dsnW)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.name, err)
	}
	r := w
	if dsnR != dsnW {
		if r, err = sql.Open(d.driver, dsnR); err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s: %w", d.name, err)
		}
	}
	d.configure(w, r)
	db := &DB{w: w, r: r, dialect: d, url: url, Now: func() time.Time { return time.Now().UTC() }, events: make(chan struct{}, 1)}
	if d.name == "sqlite" {
		db.writers = make(chan struct{}, 1)
	}
	if d.name == "postgres" {
		// An id's commit need not wait for the disk: the transaction that
		// uses it commits later and durably, which flushes the log up to and
		// past the counter's change; if that transaction fails, a counter
		// lost in a crash only means the id is handed out again.
		if db.ids, err = sql.Open(d.driver, withParam(dsnW, "synchronous_commit", "off")); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", d.name, err)
		}
		db.ids.SetMaxOpenConns(2)
	}
	if err := db.ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d.name, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ping makes the first connection. On SQLite that connection turns the
// file to WAL mode, which takes the file's lock outside any busy handler:
// when several instances open a new file at once, the losers are told
// "database is locked" at once. They try again for up to ten seconds.
func (db *DB) ping(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	wait := 5 * time.Millisecond
	for {
		err := db.w.PingContext(ctx)
		if err == nil || db.dialect.name != "sqlite" || !sqliteBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// withParam adds a run-time parameter to a PostgreSQL URL.
func withParam(rawURL, name, value string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.w.Close()
	for _, p := range []*sql.DB{db.r, db.ids} {
		if p != nil && p != db.w {
			if e := p.Close(); err == nil {
				err = e
			}
		}
	}
	return err
}

// Dialect names the database kind: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// SQL exposes the write pool for tests and benchmarks that need raw access.
func (db *DB) SQL() *sql.DB { return db.w }

// Tx is one transaction. Every statement goes through its helpers so that
// placeholders are rebound for the dialect.
type Tx struct {
	tx *sql.Tx
	// conn is the connection the transaction runs on, for statements sent
	// as one pipeline (Tx.pipeline, PostgreSQL).
	conn *sql.Conn
	d    *dialect
	ids  *sql.DB   // see DB.ids
	Now  time.Time // the transaction's one clock reading
	// wroteEvent: AddEvent ran; a commit wakes the delivery workers.
	wroteEvent bool
}

// Transact runs fn in a write transaction: it commits when fn returns nil and
// rolls back on an error or a panic. Driver errors come back as domain errors
// (busy → conflict, constraint → conflict/invalid).
//
// A transaction that fails on a serialization failure or a deadlock
// (PostgreSQL) is run again, up to MaxAttempts times in all, so fn must not
// keep state between calls.
func (db *DB) Transact(ctx context.Context, fn func(*Tx) error) (err error) {
	for attempt := 1; ; attempt++ {
		err = db.transact(ctx, db.w, false, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= MaxAttempts {
			return exhausted(err)
		}
		select {
		case <-ctx.Done():
			return exhausted(err)
		case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
		}
	}
}

// TransactOnce is Transact without the retry, for callbacks that consume
// input (an import reads its stream once): a serialization failure or
// deadlock is returned to the caller as unavailable (try again), and
// nothing was written.
func (db *DB) TransactOnce(ctx context.Context, fn func(*Tx) error) error {
	err := db.transact(ctx, db.w, false, fn)
	if retryable(err) {
		return exhausted(err)
	}
	return err
}

// MaxAttempts bounds how often Transact runs a transaction that failed on a
// serialization failure or deadlock.
const MaxAttempts = 4

// View runs fn in a read-only snapshot; it never commits anything.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	return db.transact(ctx, db.r, true, fn)
}

func (db *DB) transact(ctx context.Context, pool *sql.DB, readOnly bool, fn func(*Tx) error) (err error) {
	if !readOnly && db.writers != nil {
		if err := db.queueWriter(ctx); err != nil {
			return err
		}
		defer func() { <-db.writers }() // after the commit or rollback below
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return db.dialect.mapError(fmt.Errorf("begin: %w", err))
	}
	defer conn.Close() // back to the pool, after the commit or rollback below
	sqlTx, err := conn.BeginTx(ctx, db.dialect.txOptions(readOnly))
	if err != nil {
		return db.dialect.mapError(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{tx: sqlTx, conn: conn, d: db.dialect, ids: db.ids, Now: db.Now().UTC().Truncate(time.Millisecond)}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil || readOnly {
			sqlTx.Rollback()
			return
		}
		if cerr := sqlTx.Commit(); cerr != nil {
			err = db.dialect.mapError(fmt.Errorf("commit: %w", cerr))
		} else if tx.wroteEvent {
			select {
			case db.events <- struct{}{}:
			default:
			}
		}
	}()
	if err := fn(tx); err != nil {
		return db.dialect.mapError(err)
	}
	return nil
}

// queueWriter waits for this process's turn to write, as long as SQLite's
// busy_timeout, and answers as SQLite does when the lock stays taken.
func (db *DB) queueWriter(ctx context.Context) error {
	select {
	case db.writers <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(db.dialect.busy)
	defer t.Stop()
	select {
	case db.writers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return db.dialect.mapError(fmt.Errorf("begin: %w", ctx.Err()))
	case <-t.C:
		return db.dialect.mapError(fmt.Errorf("begin: waited %s for this process's other writers: %w", db.dialect.busy, sqlite3.Error{Code: sqlite3.ErrBusy}))
	}
}

// Exec runs a statement and returns the number of rows it affected.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.tx.ExecContext(ctx, tx.d.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", firstLine(query), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Query runs a query.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := tx.tx.QueryContext(ctx, tx.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstLine(query), err)
	}
	return rows, nil
}

// QueryRow runs a query expected to return at most one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.d.rebind(query), args...)
}

// Count runs a query returning one integer.
func (tx *Tx) Count(ctx context.Context, query string, args ...any) (int64, error) {
	var n sql.NullInt64
	if err := tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", firstLine(query), err)
	}
	return n.Int64, nil
}

// Dialect names the transaction's database kind.
func (tx *Tx) Dialect() string { return tx.d.name }

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i > 0 {
		q = q[:i]
	}
	if len(q) > 80 {
		q = q[:80]
	}
	return q
}

// Millis converts a time to the stored form.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts the stored form back to a UTC time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := FromMillis(n.Int64)
	return &t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound turns sql.ErrNoRows into a domain not-found error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return usermerge.Errorf(usermerge.NotFound, "not_found", format, args...)
	}
	return err
}

// AccountNotFound is the answer for an account reference (id or login)
// that names no account, and, to a group manager, for one outside their
// scope: the two must not be told apart.
func AccountNotFound(ref string) *usermerge.Error {
	return usermerge.Errorf(usermerge.NotFound, "not_found", "account %q does not exist", ref)
}

// MergeNotFound is the answer for a merge id that names no merge, and, to a
// group manager, for a merge they may not see.
func MergeNotFound(id int64) *usermerge.Error {
	return usermerge.Errorf(usermerge.NotFound, "merge_not_found", "merge %d does not exist", id)
}
