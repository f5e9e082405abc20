package engine

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"usermerge"
	"usermerge/store"
)

// defaultLease is how long a worker holds a batch without renewing its
// lease; each row's transaction renews it (engine/batch_work.go).
const defaultLease = 15 * time.Second

// MaxBatchList is the most batches one page of Batches answers.
const MaxBatchList = 500

// MaxBatchRowPage is the most rows one page of BatchRows answers.
const MaxBatchRowPage = 1000

// CreateBatch checks the rows (as CheckBatch) and stores the batch, status
// ready. name is the file's name as the admin knows it. A batch whose every
// row came from a duplicate suggestion has origin "suggestions", any other
// "file".
func (e *Engine) CreateBatch(ctx context.Context, c Caller, name string, rows []usermerge.BatchRow) (usermerge.Batch, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "batch"
	}
	if len(name) > 200 || !utf8.ValidString(name) {
		return usermerge.Batch{}, usermerge.Errorf(usermerge.Invalid, "invalid_batch_name", "a batch's name is valid text of at most 200 bytes")
	}
	if len(rows) == 0 {
		return usermerge.Batch{}, usermerge.Errorf(usermerge.Invalid, "batch_empty", "the batch has no rows")
	}
	if len(rows) > usermerge.MaxBatchRows {
		return usermerge.Batch{}, usermerge.Errorf(usermerge.Invalid, "too_many_rows", "a batch takes at most %d rows, not %d", usermerge.MaxBatchRows, len(rows))
	}
	checked, err := e.checkRows(ctx, c, rows)
	if err != nil {
		return usermerge.Batch{}, err
	}
	origin := "suggestions"
	for i := range checked {
		checked[i].Order = i + 1 // the check answers the rows in working order
		if checked[i].Suggestion == 0 {
			origin = "file"
		}
	}
	var b usermerge.Batch
	err = e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := a.requireEdit(); err != nil {
			return err
		}
		id, err := tx.NextID(ctx, a.tenant.ID, "batch")
		if err != nil {
			return err
		}
		b = usermerge.Batch{ID: id, Tenant: a.tenant.ID, Name: name, Origin: origin, Status: usermerge.BatchReady, By: a.admin.Login,
			Rows: len(checked), Left: len(checked), Created: tx.Now}
		if err := tx.InsertBatch(ctx, b); err != nil {
			return err
		}
		return tx.InsertBatchRows(ctx, a.tenant.ID, id, checked)
	})
	if err != nil {
		return usermerge.Batch{}, err
	}
	return b, nil
}

// batchFor loads a batch the caller may see: a tenant administrator sees
// every batch of the tenant, a group manager the batches they submitted;
// any other is answered as one that does not exist.
func batchFor(ctx context.Context, tx *store.Tx, a *actor, id int64) (store.BatchJob, error) {
	j, err := tx.GetBatch(ctx, a.tenant.ID, id)
	if err != nil {
		return j, err
	}
	if !a.all && j.By != a.admin.Login {
		return store.BatchJob{}, store.BatchNotFound(id)
	}
	return j, nil
}

// withPace answers a stored batch as administrators see it, with its
// pace and the time left.
func withPace(j store.BatchJob) usermerge.Batch {
	b := j.Batch
	if j.RunMicros > 0 && j.RunRows > 0 {
		b.RowsPerSecond = float64(j.RunRows) / (float64(j.RunMicros) / 1e6)
	}
	if (b.Status == usermerge.BatchRunning || b.Status == usermerge.BatchPaused) && b.RowsPerSecond > 0 {
		s := float64(b.Left) / b.RowsPerSecond
		b.SecondsLeft = &s
	}
	return b
}

// setStatus moves a batch the caller may see and change from one of the
// statuses from to another, in the caller's transaction, refusing the
// change (Conflict, reason) from any other status.
func setStatus(ctx context.Context, tx *store.Tx, a *actor, id int64, ch store.BatchChange, reason, verb string) (store.BatchJob, error) {
	j, err := batchFor(ctx, tx, a, id)
	if err != nil {
		return j, err
	}
	if err := a.requireEdit(); err != nil {
		return j, err
	}
	ok, err := tx.SetBatchStatus(ctx, a.tenant.ID, id, ch)
	if err != nil {
		return j, err
	}
	if !ok {
		var from []string
		for _, s := range ch.From {
			from = append(from, string(s))
		}
		return j, usermerge.Errorf(usermerge.Conflict, reason, "batch %d is %s: only a %s batch can be %s", id, j.Status, strings.Join(from, " or "), verb)
	}
	return tx.GetBatch(ctx, a.tenant.ID, id)
}

// StartBatch marks a ready batch running; a worker (RunBatch, or the
// server's WorkBatches) merges its rows.
func (e *Engine) StartBatch(ctx context.Context, c Caller, id int64) (usermerge.Batch, error) {
	return e.changeStatus(ctx, c, id, store.BatchChange{To: usermerge.BatchRunning, From: []usermerge.BatchStatus{usermerge.BatchReady}, Start: true},
		"batch_not_ready", "started")
}

// PauseBatch stops a running batch between rows; ResumeBatch marks a
// paused batch running again; CancelBatch stops a running or paused batch
// for good, its pending rows cancelled.
func (e *Engine) PauseBatch(ctx context.Context, c Caller, id int64) (usermerge.Batch, error) {
	return e.changeStatus(ctx, c, id, store.BatchChange{To: usermerge.BatchPaused, From: []usermerge.BatchStatus{usermerge.BatchRunning}, ClearLease: true},
		"batch_not_running", "paused")
}

func (e *Engine) ResumeBatch(ctx context.Context, c Caller, id int64) (usermerge.Batch, error) {
	return e.changeStatus(ctx, c, id, store.BatchChange{To: usermerge.BatchRunning, From: []usermerge.BatchStatus{usermerge.BatchPaused}},
		"batch_not_paused", "resumed")
}

// CancelBatch also cancels a ready batch that never started. The end of a
// cancelled batch is a batch.completed event, as a done one's.
func (e *Engine) CancelBatch(ctx context.Context, c Caller, id int64) (usermerge.Batch, error) {
	var b usermerge.Batch
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		ch := store.BatchChange{To: usermerge.BatchCancelled, ClearLease: true, Finish: true,
			From: []usermerge.BatchStatus{usermerge.BatchReady, usermerge.BatchRunning, usermerge.BatchPaused}}
		if _, err := setStatus(ctx, tx, a, id, ch, "batch_not_cancellable", "cancelled"); err != nil {
			return err
		}
		if _, err := tx.CancelPendingRows(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		j, err := tx.GetBatch(ctx, a.tenant.ID, id)
		if err != nil {
			return err
		}
		b = withPace(j)
		return tx.AddEvent(ctx, a.tenant.ID, usermerge.EventBatchCompleted, batchEvent(j, j.By, tx.Now))
	})
	return b, err
}

func (e *Engine) changeStatus(ctx context.Context, c Caller, id int64, ch store.BatchChange, reason, verb string) (usermerge.Batch, error) {
	var b usermerge.Batch
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		j, err := setStatus(ctx, tx, a, id, ch, reason, verb)
		b = withPace(j)
		return err
	})
	return b, err
}

// completedEvent is the payload of batch.completed: how the batch ended.
// batchEvent is the data of a batch's batch.completed or batch.reverted
// event, at the transaction's time.
func batchEvent(j store.BatchJob, by string, at time.Time) usermerge.BatchEventData {
	return usermerge.BatchEventData{Tenant: j.Tenant, Batch: j.ID, Name: j.Name, Status: j.Status, By: by, At: at, Rows: j.Rows,
		Merged: j.Merged, Refused: j.Refused, Cancelled: j.Cancelled, Merges: j.Merges, Reverted: j.Reverted,
		RevertRefused: j.RevertRefused, Partial: j.PartialRevert}
}

// RunBatch takes the lease of a running (or reverting) batch and works its
// pending rows until none is left, the batch is paused or cancelled, or ctx
// ends; progress (if not nil) is called after each row and at least every
// second. A batch another live worker holds is refused (Conflict,
// "batch_busy"). The rows run as the admin who submitted the batch (its
// revert as the admin who asked for it), with that admin's rights checked
// row by row. A run stopped by ctx answers the batch as it stands (still
// running, for a later worker) and no error.
func (e *Engine) RunBatch(ctx context.Context, c Caller, id int64, progress func(usermerge.Batch)) (usermerge.Batch, error) {
	var job store.BatchJob
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		j, err := batchFor(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.requireEdit(); err != nil {
			return err
		}
		if j.Status != usermerge.BatchRunning && j.Status != usermerge.BatchReverting {
			return usermerge.Errorf(usermerge.Conflict, "batch_not_running", "batch %d is %s: start or resume it first", id, j.Status)
		}
		ok, err := tx.ClaimBatch(ctx, a.tenant.ID, id, e.batchOwner, tx.Now.Add(e.leaseFor))
		if err != nil {
			return err
		}
		if !ok {
			return usermerge.Errorf(usermerge.Conflict, "batch_busy", "batch %d is being worked by another worker; its progress shows here as it goes", id)
		}
		job = j
		return nil
	})
	if usermerge.ErrorReason(err) == "merge_in_progress" { // PostgreSQL: the holder is in the middle of a row
		err = usermerge.Errorf(usermerge.Conflict, "batch_busy", "batch %d is being worked by another worker; its progress shows here as it goes", id)
	}
	if err != nil {
		return usermerge.Batch{}, err
	}
	return e.work(ctx, job, progress)
}

// WorkBatches is the worker loop of a server: every poll it claims a
// running or reverting batch of any tenant whose lease is free or ran out,
// and works it, until ctx ends. Several processes on one database share
// the batches, one worker per batch at a time.
func (e *Engine) WorkBatches(ctx context.Context, poll time.Duration) {
	for ctx.Err() == nil {
		if !e.workOne(ctx) {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
}

// Batch answers one batch with its counts and pace; Batches the tenant's
// batches, newest first.
func (e *Engine) Batch(ctx context.Context, c Caller, id int64) (usermerge.Batch, error) {
	var b usermerge.Batch
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		j, err := batchFor(ctx, tx, a, id)
		b = withPace(j)
		return err
	})
	return b, err
}

func (e *Engine) Batches(ctx context.Context, c Caller, limit, offset int) ([]usermerge.Batch, int, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxBatchList || offset < 0 {
		return nil, 0, usermerge.Errorf(usermerge.Invalid, "invalid_page", "limit is at most %d and offset at least 0", MaxBatchList)
	}
	out := []usermerge.Batch{}
	var total int
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		by := ""
		if !a.all {
			by = a.admin.Login
		}
		list, n, err := tx.ListBatches(ctx, a.tenant.ID, by, limit, offset)
		for _, j := range list {
			out = append(out, withPace(j))
		}
		total = n
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// validRowStatus reports whether s names a row status ("" for any).
func validRowStatus(s usermerge.RowStatus) bool {
	switch s {
	case "", usermerge.RowPending, usermerge.RowMerged, usermerge.RowRefused, usermerge.RowCancelled, usermerge.RowReverted, usermerge.RowRevertRefused:
		return true
	}
	return false
}

// BatchRows answers a page of a batch's report; EachBatchRow streams every
// row in working order (for a download), reading a page at a time.
func (e *Engine) BatchRows(ctx context.Context, c Caller, id int64, f usermerge.BatchRowFilter) (usermerge.BatchRowPage, error) {
	if !validRowStatus(f.Status) {
		return usermerge.BatchRowPage{}, usermerge.Errorf(usermerge.Invalid, "invalid_status",
			"status must be one of pending, merged, refused, cancelled, reverted or revert_refused, not %q", f.Status)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxBatchRowPage || f.Offset < 0 {
		return usermerge.BatchRowPage{}, usermerge.Errorf(usermerge.Invalid, "invalid_page", "limit is at most %d and offset at least 0", MaxBatchRowPage)
	}
	var page usermerge.BatchRowPage
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if _, err := batchFor(ctx, tx, a, id); err != nil {
			return err
		}
		var err error
		page, err = tx.BatchRowPage(ctx, a.tenant.ID, id, f)
		return err
	})
	return page, err
}

func (e *Engine) EachBatchRow(ctx context.Context, c Caller, id int64, fn func(usermerge.BatchRowResult) error) error {
	after := 0
	for {
		var rows []usermerge.BatchRowResult
		err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
			if _, err := batchFor(ctx, tx, a, id); err != nil {
				return err
			}
			var err error
			rows, err = tx.BatchRowsAfter(ctx, a.tenant.ID, id, "", after, false, MaxBatchRowPage)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Order
		}
		if len(rows) < MaxBatchRowPage {
			return nil
		}
	}
}

// RevertBatch reverts every merge of a done or cancelled batch, newest
// first, with the rules of PRODUCT.md §6. When any of them cannot be
// reverted the revert is refused whole with each row's reason (a
// *usermerge.BatchProblems), unless partial: then the batch reverts those
// that can and reports the rest. The revert runs as a job (status
// reverting) that RunBatch or WorkBatches works, row by row.
func (e *Engine) RevertBatch(ctx context.Context, c Caller, id int64, partial bool) (usermerge.BatchRevert, error) {
	return e.revertBatch(ctx, c, id, partial)
}

// RevertOperation reverts every merge of one operation in one transaction,
// as Revert does a selection.
func (e *Engine) RevertOperation(ctx context.Context, c Caller, op int64) (usermerge.RevertReport, error) {
	var ids []int64
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		ids, err = tx.OperationMerges(ctx, a.tenant.ID, op)
		if err == nil && len(ids) == 0 {
			err = usermerge.Errorf(usermerge.NotFound, "operation_not_found", "operation %d does not exist", op)
		}
		return err
	})
	if err != nil {
		return usermerge.RevertReport{}, err
	}
	rep, err := e.Revert(ctx, c, ids)
	if usermerge.ErrorReason(err) == "merge_not_found" { // a merge of it the caller may not see: say nothing of it
		err = usermerge.Errorf(usermerge.NotFound, "operation_not_found", "operation %d does not exist", op)
	}
	return rep, err
}
