package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// BulkInsert loads rows into one table by the fastest path the database
// offers: COPY on PostgreSQL; on SQLite multi-row INSERT statements in
// transactions of bulkTxRows rows. It is for generated data (benchmarks),
// not for input: table and cols come from code, and a failure leaves the
// rows of the transactions already committed.
//
// rows yields one row at a time, values in cols order; the slice may be
// reused once the next row is asked for. progress, when not nil, is called
// with the number of rows written so far, every few thousand rows.
func (db *DB) BulkInsert(ctx context.Context, table string, cols []string, rows iter.Seq[[]any], progress func(n int64)) (int64, error) {
	if progress == nil {
		progress = func(int64) {}
	}
	var n int64
	var err error
	if db.dialect.name == "postgres" {
		n, err = db.copyFrom(ctx, table, cols, rows, progress)
	} else {
		n, err = db.insertBatches(ctx, table, cols, rows, progress)
	}
	if err != nil {
		return n, fmt.Errorf("bulk insert into %s: %w", table, err)
	}
	progress(n)
	return n, nil
}

// bulkTxRows is how many rows one SQLite load transaction holds: large
// enough that commits cost nothing, small enough that the WAL stays small.
const bulkTxRows = 100_000

// bulkProgressRows is how often progress is reported.
const bulkProgressRows = 10_000

func (db *DB) insertBatches(ctx context.Context, table string, cols []string, rows iter.Seq[[]any], progress func(int64)) (int64, error) {
	// SQLite binds at most 32766 parameters per statement.
	per := max(1, min(500, 32000/len(cols)))
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// A large page cache keeps the pages of the indexes being filled in
	// memory instead of spilling them to the WAL page by page, and the
	// load does not wait for the disk at each checkpoint. Both go back to
	// the pool's settings when the load ends: a crash during it loses
	// generated data only.
	restore, err := sqlitePragmas(ctx, conn, map[string]string{"cache_size": "-262144", "synchronous": "OFF"})
	if err != nil {
		return 0, err
	}
	defer restore()
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	var tx *sql.Tx
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
	}()
	// A table whose insert trigger fills its search grams row by row is
	// loaded without it: each transaction drops the trigger, inserts its
	// rows, fills their search text and grams in set-based statements (the
	// grams in key order, so the index fills page by page instead of at
	// random) and creates the trigger again before it commits, so no
	// committed state lacks the trigger.
	deferred, hasDeferred := bulkDeferred[table]
	var triggerSQL string
	if hasDeferred {
		if err := conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, deferred.trigger).Scan(&triggerSQL); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return 0, err
			}
			hasDeferred = false // no such trigger in this schema: nothing to defer
		}
	}
	var lastRowid int64
	begin := func() error {
		var err error
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return err
		}
		if !hasDeferred {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM `+table).Scan(&lastRowid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DROP TRIGGER `+deferred.trigger)
		return err
	}
	commit := func() error {
		if hasDeferred {
			for _, q := range deferred.fill {
				if _, err := tx.ExecContext(ctx, q, lastRowid); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, triggerSQL); err != nil {
				return err
			}
		}
		err := tx.Commit()
		tx = nil
		return err
	}
	args := make([]any, 0, per*len(cols))
	var n, inTx int64
	flush := func() error {
		k := len(args) / len(cols)
		if k == 0 {
			return nil
		}
		if tx == nil {
			if err := begin(); err != nil {
				return err
			}
		}
		s := stmts[k]
		if s == nil {
			row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
			q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
				strings.TrimSuffix(strings.Repeat(row+", ", k), ", ")
			if s, err = conn.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[k] = s
		}
		if _, err := tx.StmtContext(ctx, s).ExecContext(ctx, args...); err != nil {
			return err
		}
		args = args[:0]
		inTx += int64(k)
		if inTx >= bulkTxRows {
			if err := commit(); err != nil {
				return err
			}
			inTx = 0
		}
		return nil
	}
	for row := range rows {
		if len(row) != len(cols) {
			return n, fmt.Errorf("row %d has %d values for %d columns", n+1, len(row), len(cols))
		}
		args = append(args, row...)
		n++
		if n%bulkProgressRows == 0 {
			progress(n)
		}
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	if tx != nil {
		return n, commit()
	}
	return n, nil
}

// bulkDeferred names, per table, the SQLite insert trigger a bulk load
// drops in each of its transactions, and the statements that do the
// trigger's work for the rows the transaction inserted (rowid above ?).
// They must do what the triggers of migration 007_search do; the test
// TestBulkInsertFillsSearchLikeTriggers compares the two.
var bulkDeferred = map[string]struct {
	trigger string
	fill    []string
}{
	"accounts": {"accounts_search_insert", []string{
		`UPDATE accounts SET search = usermerge_fold(name || char(10) || login || char(10) || email) WHERE rowid > ?`,
		`INSERT OR IGNORE INTO account_grams (tenant_id, gram, account_id)
		 SELECT a.tenant_id, g.value, a.id FROM accounts a, json_each(usermerge_grams(a.name || char(10) || a.login || char(10) || a.email)) g
		 WHERE a.rowid > ? ORDER BY 1, 2, 3`,
	}},
	"external_ids": {"external_ids_search_insert", []string{
		`UPDATE external_ids SET search = usermerge_fold(value) WHERE rowid > ?`,
		`INSERT OR IGNORE INTO external_id_grams (tenant_id, gram, external_id)
		 SELECT x.tenant_id, g.value, x.id FROM external_ids x, json_each(usermerge_grams(x.value)) g
		 WHERE x.rowid > ? ORDER BY 1, 2, 3`,
	}},
}

// sqlitePragmas sets pragmas on one connection and returns a function that
// sets them back.
func sqlitePragmas(ctx context.Context, conn *sql.Conn, set map[string]string) (func(), error) {
	var undo []string
	restore := func() {
		for _, q := range undo {
			conn.ExecContext(context.WithoutCancel(ctx), q)
		}
	}
	for name, v := range set {
		var old string
		if err := conn.QueryRowContext(ctx, `PRAGMA `+name).Scan(&old); err != nil {
			restore()
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, `PRAGMA `+name+` = `+v); err != nil {
			restore()
			return nil, err
		}
		undo = append(undo, `PRAGMA `+name+` = `+old)
	}
	return restore, nil
}

func (db *DB) copyFrom(ctx context.Context, table string, cols []string, rows iter.Seq[[]any], progress func(int64)) (int64, error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	next, stop := iter.Pull(rows)
	defer stop()
	src := &pullSource{next: next, progress: progress}
	var n int64
	err = conn.Raw(func(c any) error {
		var err error
		n, err = c.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		return err
	})
	return n, err
}

// pullSource adapts a pulled row sequence to pgx.CopyFromSource.
type pullSource struct {
	next     func() ([]any, bool)
	row      []any
	n        int64
	progress func(int64)
}

func (p *pullSource) Next() bool {
	var ok bool
	p.row, ok = p.next()
	if ok {
		p.n++
		if p.n%bulkProgressRows == 0 {
			p.progress(p.n)
		}
	}
	return ok
}

func (p *pullSource) Values() ([]any, error) { return p.row, nil }

func (p *pullSource) Err() error { return nil }
