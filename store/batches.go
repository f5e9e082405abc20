package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"usermerge"
)

// Bulk merges (PRODUCT.md §12): the batches and their rows. The engine
// (engine/batch_run.go) decides; this file only reads and writes. The
// counts of a batch are counted from its rows, so they are exact after a
// crash whatever was running.

// BatchJob is a stored batch with what its workers need besides what
// administrators see.
type BatchJob struct {
	usermerge.Batch
	LeaseOwner string
	LeaseUntil time.Time // zero: free
	RunMicros  int64     // time spent working rows, µs
	RunRows    int64     // rows worked in that time
}

// InsertBatch stores a new batch (its rows with InsertBatchRows).
func (tx *Tx) InsertBatch(ctx context.Context, b usermerge.Batch) error {
	_, err := tx.Exec(ctx, `INSERT INTO batches (tenant_id, id, name, origin, status, by_admin, created_at, rows_)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.Tenant, b.ID, b.Name, b.Origin, string(b.Status), b.By, Millis(b.Created), b.Rows)
	return err
}

// batchRowChunk is how many rows one INSERT of InsertBatchRows writes: 13
// parameters a row stays well under both databases' limits.
const batchRowChunk = 500

// InsertBatchRows stores a batch's rows, status pending, with one
// multi-row INSERT per batchRowChunk rows. r.Order is the row's ord.
func (tx *Tx) InsertBatchRows(ctx context.Context, tenant string, batch int64, rows []usermerge.BatchRowResult) error {
	const cols = 13
	one := "(" + placeholders(cols) + ")"
	for start := 0; start < len(rows); start += batchRowChunk {
		chunk := rows[start:min(start+batchRowChunk, len(rows))]
		vals := strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ")
		args := make([]any, 0, len(chunk)*cols)
		for _, r := range chunk {
			srcs, err := json.Marshal(nonNil(r.Sources))
			if err != nil {
				return err
			}
			ids, err := json.Marshal(nonNil(r.SourceIDs))
			if err != nil {
				return err
			}
			var move any
			if r.MoveExternalIDs != nil {
				move = b2i(*r.MoveExternalIDs)
			}
			args = append(args, tenant, batch, r.Order, r.Line, r.Target, string(srcs), move, r.Reason, r.Suggestion,
				r.TargetID, string(ids), string(usermerge.RowPending), 0)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO batch_rows (tenant_id, batch_id, ord, line, target, sources, move_external_ids, reason,
			suggestion, target_id, source_ids, status, merges) VALUES `+vals, args...); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const batchCols = `tenant_id, id, name, origin, status, by_admin, created_at, started_at, finished_at, lease_owner, lease_until,
	rows_, run_micros, run_rows, partial_revert, reverted_at, reverted_by`

func scanBatch(sc interface{ Scan(...any) error }) (BatchJob, error) {
	var b BatchJob
	var status string
	var created, until int64
	var started, finished, reverted sql.NullInt64
	var partial int
	err := sc.Scan(&b.Tenant, &b.ID, &b.Name, &b.Origin, &status, &b.By, &created, &started, &finished, &b.LeaseOwner, &until,
		&b.Rows, &b.RunMicros, &b.RunRows, &partial, &reverted, &b.RevertedBy)
	if err != nil {
		return b, err
	}
	b.Status, b.Created, b.Started, b.Finished, b.RevertedAt = usermerge.BatchStatus(status), FromMillis(created), timePtr(started), timePtr(finished), timePtr(reverted)
	b.PartialRevert = partial != 0
	if until != 0 {
		b.LeaseUntil = FromMillis(until)
	}
	return b, nil
}

// BatchNotFound answers a batch id that names no batch (or one the caller
// may not see).
func BatchNotFound(id int64) *usermerge.Error {
	return usermerge.Errorf(usermerge.NotFound, "batch_not_found", "batch %d does not exist", id)
}

// GetBatch returns one batch with its counts.
func (tx *Tx) GetBatch(ctx context.Context, tenant string, id int64) (BatchJob, error) {
	b, err := scanBatch(tx.QueryRow(ctx, `SELECT `+batchCols+` FROM batches WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err == sql.ErrNoRows {
		return b, BatchNotFound(id)
	}
	if err != nil {
		return b, err
	}
	list := []*BatchJob{&b}
	return b, tx.fillBatchCounts(ctx, tenant, list)
}

// ListBatches returns a tenant's batches, newest first, with the total;
// by, when not "", only the batches that admin submitted.
func (tx *Tx) ListBatches(ctx context.Context, tenant, by string, limit, offset int) ([]BatchJob, int, error) {
	where, args := `tenant_id = ?`, []any{tenant}
	if by != "" {
		where, args = where+` AND by_admin = ?`, append(args, by)
	}
	total, err := tx.Count(ctx, `SELECT COUNT(*) FROM batches WHERE `+where, args...)
	if err != nil {
		return nil, 0, err
	}
	rows, err := tx.Query(ctx, `SELECT `+batchCols+` FROM batches WHERE `+where+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	var out []BatchJob
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	list := make([]*BatchJob, len(out))
	for i := range out {
		list[i] = &out[i]
	}
	return out, int(total), tx.fillBatchCounts(ctx, tenant, list)
}

// fillBatchCounts counts the batches' rows by status, in one query.
func (tx *Tx) fillBatchCounts(ctx context.Context, tenant string, bs []*BatchJob) error {
	if len(bs) == 0 {
		return nil
	}
	byID := map[int64]*BatchJob{}
	args := []any{tenant}
	for _, b := range bs {
		byID[b.ID] = b
		args = append(args, b.ID)
	}
	rows, err := tx.Query(ctx, `SELECT batch_id, status, COUNT(*), COALESCE(SUM(merges), 0) FROM batch_rows
		WHERE tenant_id = ? AND batch_id IN (`+placeholders(len(bs))+`) GROUP BY batch_id, status`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n, merges int64
		var status string
		if err := rows.Scan(&id, &status, &n, &merges); err != nil {
			return err
		}
		b := byID[id]
		b.Merges += int(merges)
		switch usermerge.RowStatus(status) {
		case usermerge.RowPending:
			b.Left += int(n)
		case usermerge.RowMerged:
			b.Merged += int(n)
		case usermerge.RowRefused:
			b.Refused += int(n)
		case usermerge.RowCancelled:
			b.Cancelled += int(n)
		case usermerge.RowReverted: // merged by the run, reverted since
			b.Merged += int(n)
			b.Reverted += int(n)
		case usermerge.RowRevertRefused:
			b.Merged += int(n)
			b.RevertRefused += int(n)
		}
	}
	return rows.Err()
}

// BatchChange is a change of a batch's status by SetBatchStatus.
type BatchChange struct {
	To         usermerge.BatchStatus
	From       []usermerge.BatchStatus // the change happens only from one of these
	ClearLease bool                    // the batch is free for any worker (or needs none)
	Start      bool                    // started_at = now, unless set already
	Finish     bool                    // finished_at = now
	RevertedBy string                  // with Partial: the revert was asked by this admin
	Partial    bool
	RevertedAt bool // reverted_at = now
	// Owner, when not "", makes the change only while this worker holds
	// the lease (the end of a run).
	Owner string
}

// SetBatchStatus changes a batch's status as c says, and reports whether
// the batch was in one of c.From (else nothing changed).
func (tx *Tx) SetBatchStatus(ctx context.Context, tenant string, id int64, c BatchChange) (bool, error) {
	set, args := []string{"status = ?"}, []any{string(c.To)}
	if c.ClearLease {
		set = append(set, "lease_owner = ''", "lease_until = 0")
	}
	if c.Start {
		set, args = append(set, "started_at = COALESCE(started_at, ?)"), append(args, Millis(tx.Now))
	}
	if c.Finish {
		set, args = append(set, "finished_at = ?"), append(args, Millis(tx.Now))
	}
	if c.RevertedBy != "" {
		set, args = append(set, "reverted_by = ?", "partial_revert = ?"), append(args, c.RevertedBy, b2i(c.Partial))
	}
	if c.RevertedAt {
		set, args = append(set, "reverted_at = ?"), append(args, Millis(tx.Now))
	}
	where := `tenant_id = ? AND id = ?`
	args = append(args, tenant, id)
	if len(c.From) > 0 {
		where += ` AND status IN (` + placeholders(len(c.From)) + `)`
		for _, s := range c.From {
			args = append(args, string(s))
		}
	}
	if c.Owner != "" {
		where, args = where+` AND lease_owner = ?`, append(args, c.Owner)
	}
	n, err := tx.Exec(ctx, `UPDATE batches SET `+strings.Join(set, ", ")+` WHERE `+where, args...)
	return n == 1, err
}

// CancelPendingRows marks a batch's pending rows cancelled.
func (tx *Tx) CancelPendingRows(ctx context.Context, tenant string, id int64) (int64, error) {
	return tx.Exec(ctx, `UPDATE batch_rows SET status = 'cancelled', at = ? WHERE tenant_id = ? AND batch_id = ? AND status = 'pending'`,
		Millis(tx.Now), tenant, id)
}

// FenceBatch is the first statement of each row's transaction: it renews
// the lease of a worker that still holds the batch in the given status
// (until), adds the time worked since the previous row to the pace, and
// reports whether it did. On PostgreSQL it also locks the batch's row
// until the transaction ends, so no pause, cancel or other worker's claim
// lands in the middle of a row.
func (tx *Tx) FenceBatch(ctx context.Context, tenant string, id int64, owner string, status usermerge.BatchStatus, until time.Time, addMicros int64, addRows int) (bool, error) {
	n, err := tx.Exec(ctx, `UPDATE batches SET lease_until = ?, run_micros = run_micros + ?, run_rows = run_rows + ?
		WHERE tenant_id = ? AND id = ? AND lease_owner = ? AND status = ?`, Millis(until), addMicros, addRows, tenant, id, owner, string(status))
	return n == 1, err
}

// ClaimBatch gives a running or reverting batch's lease to owner until
// the time given when it is free, ran out, or is owner's already; it
// reports whether owner holds it now.
func (tx *Tx) ClaimBatch(ctx context.Context, tenant string, id int64, owner string, until time.Time) (bool, error) {
	n, err := tx.Exec(ctx, `UPDATE batches SET lease_owner = ?, lease_until = ?
		WHERE tenant_id = ? AND id = ? AND status IN ('running', 'reverting') AND (lease_owner = ? OR lease_until < ?)`,
		owner, Millis(until), tenant, id, owner, Millis(tx.Now))
	return n == 1, err
}

// ClaimFreeBatch gives owner the lease of one running or reverting batch
// of any tenant whose lease is free or ran out, and answers it (ok false:
// none). On PostgreSQL a batch another transaction is claiming is skipped,
// so two workers never claim one batch.
func (tx *Tx) ClaimFreeBatch(ctx context.Context, owner string, until time.Time) (tenant string, id int64, ok bool, err error) {
	now := Millis(tx.Now)
	// The candidate is chosen once, in a CTE: as a subquery of the UPDATE,
	// PostgreSQL may run it again per row it scans, each run skipping the
	// rows the earlier ones locked, and so claim several batches.
	lock := ""
	if tx.d.name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err = tx.QueryRow(ctx, `WITH c AS MATERIALIZED (SELECT tenant_id, id FROM batches WHERE status IN ('running', 'reverting') AND lease_until < ?
			ORDER BY lease_until LIMIT 1`+lock+`)
		UPDATE batches SET lease_owner = ?, lease_until = ? FROM c
		WHERE batches.tenant_id = c.tenant_id AND batches.id = c.id AND batches.status IN ('running', 'reverting') AND batches.lease_until < ?
		RETURNING batches.tenant_id, batches.id`, now, owner, Millis(until), now).Scan(&tenant, &id)
	if err == sql.ErrNoRows {
		return "", 0, false, nil
	}
	return tenant, id, err == nil, err
}

// ReleaseBatch frees a batch's lease if owner holds it.
func (tx *Tx) ReleaseBatch(ctx context.Context, tenant string, id int64, owner string) error {
	_, err := tx.Exec(ctx, `UPDATE batches SET lease_owner = '', lease_until = 0 WHERE tenant_id = ? AND id = ? AND lease_owner = ?`,
		tenant, id, owner)
	return err
}

const batchRowCols = `ord, line, target, sources, move_external_ids, reason, suggestion, target_id, source_ids, status,
	operation_id, merge_ids, problem_reason, problem_message, at`

func scanBatchRows(rows *sql.Rows) ([]usermerge.BatchRowResult, error) {
	defer rows.Close()
	out := []usermerge.BatchRowResult{}
	for rows.Next() {
		var r usermerge.BatchRowResult
		var srcs, ids, merges, status, preason, pmsg string
		var move sql.NullInt64
		var at sql.NullInt64
		if err := rows.Scan(&r.Order, &r.Line, &r.Target, &srcs, &move, &r.Reason, &r.Suggestion, &r.TargetID, &ids, &status,
			&r.Operation, &merges, &preason, &pmsg, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(srcs), &r.Sources); err != nil {
			return nil, fmt.Errorf("batch row %d sources: %w", r.Order, err)
		}
		if err := json.Unmarshal([]byte(ids), &r.SourceIDs); err != nil {
			return nil, fmt.Errorf("batch row %d source ids: %w", r.Order, err)
		}
		if merges != "" {
			if err := json.Unmarshal([]byte(merges), &r.Merges); err != nil {
				return nil, fmt.Errorf("batch row %d merges: %w", r.Order, err)
			}
		}
		if move.Valid {
			v := move.Int64 != 0
			r.MoveExternalIDs = &v
		}
		r.Status, r.At = usermerge.RowStatus(status), timePtr(at)
		if preason != "" {
			r.Problem = &usermerge.RowProblem{Line: r.Line, Reason: preason, Message: pmsg}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// BatchRowPage answers a page of a batch's rows in working order, with
// the number of rows the filter selects.
func (tx *Tx) BatchRowPage(ctx context.Context, tenant string, batch int64, f usermerge.BatchRowFilter) (usermerge.BatchRowPage, error) {
	var page usermerge.BatchRowPage
	where, args := `tenant_id = ? AND batch_id = ?`, []any{tenant, batch}
	if f.Status != "" {
		where, args = where+` AND status = ?`, append(args, string(f.Status))
	}
	total, err := tx.Count(ctx, `SELECT COUNT(*) FROM batch_rows WHERE `+where, args...)
	if err != nil {
		return page, err
	}
	page.Total = int(total)
	rows, err := tx.Query(ctx, `SELECT `+batchRowCols+` FROM batch_rows WHERE `+where+` ORDER BY ord LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return page, err
	}
	page.Rows, err = scanBatchRows(rows)
	return page, err
}

// BatchRowsAfter answers up to limit rows of a batch after the ord given
// in working order (desc: before it, newest first), only those of status
// when it is not "": the keyset pages a run and a download read.
func (tx *Tx) BatchRowsAfter(ctx context.Context, tenant string, batch int64, status usermerge.RowStatus, after int, desc bool, limit int) ([]usermerge.BatchRowResult, error) {
	where, args := `tenant_id = ? AND batch_id = ?`, []any{tenant, batch}
	if status != "" {
		where, args = where+` AND status = ?`, append(args, string(status))
	}
	order := ` ORDER BY ord`
	if desc {
		where, order = where+` AND ord < ?`, ` ORDER BY ord DESC`
	} else {
		where = where + ` AND ord > ?`
	}
	rows, err := tx.Query(ctx, `SELECT `+batchRowCols+` FROM batch_rows WHERE `+where+order+` LIMIT ?`, append(args, after, limit)...)
	if err != nil {
		return nil, err
	}
	return scanBatchRows(rows)
}

// BatchRowUpdate is the outcome of one row.
type BatchRowUpdate struct {
	Status    usermerge.RowStatus
	Operation int64
	Merges    []int64 // nil leaves them as they are
	Problem   *usermerge.RowProblem
}

// SetBatchRow writes a row's outcome if the row is in status from, and
// reports whether it was.
func (tx *Tx) SetBatchRow(ctx context.Context, tenant string, batch int64, ord int, from usermerge.RowStatus, u BatchRowUpdate) (bool, error) {
	set, args := []string{"status = ?", "at = ?"}, []any{string(u.Status), Millis(tx.Now)}
	if u.Operation != 0 {
		set, args = append(set, "operation_id = ?"), append(args, u.Operation)
	}
	if u.Merges != nil {
		b, err := json.Marshal(u.Merges)
		if err != nil {
			return false, err
		}
		set, args = append(set, "merge_ids = ?", "merges = ?"), append(args, string(b), len(u.Merges))
	}
	if u.Problem != nil {
		set, args = append(set, "problem_reason = ?", "problem_message = ?"), append(args, u.Problem.Reason, u.Problem.Message)
	}
	n, err := tx.Exec(ctx, `UPDATE batch_rows SET `+strings.Join(set, ", ")+` WHERE tenant_id = ? AND batch_id = ? AND ord = ? AND status = ?`,
		append(args, tenant, batch, ord, string(from))...)
	return n == 1, err
}

// OperationMerges answers the ids of one operation's merges, oldest first.
func (tx *Tx) OperationMerges(ctx context.Context, tenant string, op int64) ([]int64, error) {
	return tx.int64s(ctx, `SELECT id FROM merges WHERE tenant_id = ? AND operation_id = ? ORDER BY id`, tenant, op)
}

// LaterMergesOutside is LaterMerges leaving out the merges of one batch.
func (tx *Tx) LaterMergesOutside(ctx context.Context, tenant string, id, batch int64, accounts ...string) ([]int64, error) {
	ph := placeholders(len(accounts))
	args := []any{tenant, id, batch}
	for range 2 {
		for _, a := range accounts {
			args = append(args, a)
		}
	}
	return tx.int64s(ctx, `SELECT id FROM merges WHERE tenant_id = ? AND id > ? AND batch_id <> ? AND state <> 'reverted'
		AND (source_id IN (`+ph+`) OR target_id IN (`+ph+`)) ORDER BY id`, args...)
}
