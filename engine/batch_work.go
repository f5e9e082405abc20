package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"usermerge"
	"usermerge/store"
)

// The worker of a batch (RunBatch, WorkBatches). Each row is one
// transaction that (a) renews the worker's lease with an UPDATE that must
// find it still the holder of a batch still running (the fence), (b) checks
// the row again as a single merge does, (c) merges it and (d) writes the
// row's status, operation and merges: a crash leaves the row wholly done or
// wholly pending. A row refused at run time (a domain error: an account
// changed since the check) is marked refused in a short transaction of its
// own, fenced too, and the run goes on. An internal error stops the run;
// the batch stays running for a later worker.

// errFenced ends a run whose worker no longer holds the batch, or whose
// batch is no longer in the status it works (paused, cancelled).
var errFenced = usermerge.Errorf(usermerge.Conflict, "batch_fenced", "the batch is no longer this worker's to run")

// batchPage is how many rows the worker reads at a time.
const batchPage = 100

// analyzeFirst is how many rows a worker works before it first refreshes
// the planner's statistics of the merge tables (store.DB.AnalyzeMergeTables);
// it does so again each time the rows it worked grow by analyzeGrowth times.
// A batch grows those tables from a few rows to tens of thousands in
// minutes: plans made while they were small, the foreign-key checks' among
// them, scan them whole, so that on PostgreSQL without a fresh ANALYZE
// every row of a 10,000-row batch read more of them than the one before.
const (
	analyzeFirst  = 64
	analyzeGrowth = 4
)

type worker struct {
	e         *Engine
	job       store.BatchJob
	caller    Caller // the admin the rows run as
	progress  func(usermerge.Batch)
	last      time.Time // the end of the previous row, for the pace
	worked    int       // rows worked by this worker
	analyzeAt int       // the next count of worked rows to analyze at
}

// count counts a row worked (merged, reverted or refused) and refreshes
// the merge tables' statistics when the count reaches analyzeAt. A failed
// ANALYZE is logged, not the batch's failure: statistics are an aid.
func (w *worker) count(ctx context.Context) {
	w.worked++
	if w.worked < w.analyzeAt {
		return
	}
	w.analyzeAt *= analyzeGrowth
	if err := w.e.db.AnalyzeMergeTables(ctx); err != nil && ctx.Err() == nil {
		w.e.log.Warn("analyzing the merge tables", "tenant", w.job.Tenant, "batch", w.job.ID, "err", err)
	}
}

// work runs a batch whose lease the engine holds until its rows are done
// or the run stops; the lease is given up when the run stops early.
func (e *Engine) work(ctx context.Context, job store.BatchJob, progress func(usermerge.Batch)) (usermerge.Batch, error) {
	key := fmt.Sprintf("%s/%d", job.Tenant, job.ID)
	if _, busy := e.working.LoadOrStore(key, true); busy {
		return withPace(job), usermerge.Errorf(usermerge.Conflict, "batch_busy", "batch %d is being worked already; its progress shows here as it goes", job.ID)
	}
	defer e.working.Delete(key)
	w := &worker{e: e, job: job, progress: progress, last: time.Now(), caller: Caller{Tenant: job.Tenant, Admin: job.By}, analyzeAt: analyzeFirst}
	if job.Status == usermerge.BatchReverting {
		w.caller.Admin = job.RevertedBy
	}
	w.report()
	finished, err := w.loop(ctx)
	if !finished {
		// Free the batch for the next worker at once, even when ctx ended.
		bg := context.WithoutCancel(ctx)
		if rerr := e.db.Transact(bg, func(tx *store.Tx) error { return tx.ReleaseBatch(bg, job.Tenant, job.ID, e.batchOwner) }); rerr != nil {
			e.log.Error("release batch lease", "tenant", job.Tenant, "batch", job.ID, "err", rerr)
		}
	}
	if err != nil {
		e.log.Error("batch run stopped", "tenant", job.Tenant, "batch", job.ID, "err", err)
		return withPace(w.job), err
	}
	var out usermerge.Batch
	bg := context.WithoutCancel(ctx)
	rerr := e.db.View(bg, func(tx *store.Tx) error {
		j, err := tx.GetBatch(bg, job.Tenant, job.ID)
		out = withPace(j)
		return err
	})
	return out, rerr
}

func (w *worker) report() {
	if w.progress != nil {
		w.progress(withPace(w.job))
	}
}

// loop works the rows page by page: pending rows in working order for a
// run, merged rows newest first for a revert. It answers whether the batch
// reached its end (its lease given up with the final status).
func (w *worker) loop(ctx context.Context) (bool, error) {
	reverting := w.job.Status == usermerge.BatchReverting
	after, status := 0, usermerge.RowPending
	if reverting {
		after, status = math.MaxInt32, usermerge.RowMerged // ord is a 32-bit integer on PostgreSQL
	}
	for {
		var rows []usermerge.BatchRowResult
		err := w.e.db.View(ctx, func(tx *store.Tx) error {
			var err error
			rows, err = tx.BatchRowsAfter(ctx, w.job.Tenant, w.job.ID, status, after, reverting, batchPage)
			return err
		})
		if ctx.Err() != nil {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(rows) == 0 {
			return w.finish(ctx)
		}
		for _, r := range rows {
			if ctx.Err() != nil {
				return false, nil
			}
			var err error
			if reverting {
				err = w.revertRow(ctx, r)
			} else {
				err = w.runRow(ctx, r)
			}
			if ctx.Err() != nil || err == errFenced {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			after = r.Order
			w.count(ctx)
			w.report()
		}
	}
}

// fence renews the lease and records the time the row took.
func (w *worker) fence(ctx context.Context, tx *store.Tx) error {
	us := time.Since(w.last).Microseconds()
	ok, err := tx.FenceBatch(ctx, w.job.Tenant, w.job.ID, w.e.batchOwner, w.job.Status, tx.Now.Add(w.e.leaseFor), us, 1)
	if err != nil {
		return err
	}
	if !ok {
		return errFenced
	}
	return nil
}

// done counts a row worked in the in-memory copy of the batch.
func (w *worker) done() {
	now := time.Now()
	w.job.RunMicros += now.Sub(w.last).Microseconds()
	w.job.RunRows++
	w.last = now
}

// transient reports whether an error is the database's state just now
// (busy, unreachable, a lock held too long) rather than the row's: the run
// stops and the row stays pending for a later try.
func transient(err error) bool {
	switch usermerge.ErrorCode(err) {
	case usermerge.Internal, usermerge.Unavailable:
		return true
	}
	switch usermerge.ErrorReason(err) {
	case "merge_in_progress", "timeout", "serialization", "deadlock", "too_busy", "batch_fenced":
		return true
	}
	return false
}

func (w *worker) runRow(ctx context.Context, r usermerge.BatchRowResult) error {
	req := usermerge.MergeRequest{Target: r.TargetID, Sources: r.SourceIDs, MoveExternalIDs: r.MoveExternalIDs, Reason: r.Reason}
	if req.Target == "" || len(req.Sources) != len(r.Sources) { // not resolved by the check: as the file named them
		req.Target, req.Sources = r.Target, r.Sources
	}
	var ms []usermerge.Merge
	err := w.e.db.Transact(ctx, func(tx *store.Tx) error {
		if err := w.fence(ctx, tx); err != nil {
			return err
		}
		a, err := loadActor(ctx, tx, w.caller)
		if err != nil {
			return err
		}
		if ms, err = w.e.mergeTx(ctx, tx, a, req, w.job.ID); err != nil {
			return err
		}
		if w.e.afterBatchRow != nil { // tests stop a run here
			if err := w.e.afterBatchRow(w.job.ID, r.Order); err != nil {
				return err
			}
		}
		ids := make([]int64, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		return w.setRow(ctx, tx, r, usermerge.RowPending, store.BatchRowUpdate{Status: usermerge.RowMerged, Operation: ms[0].OperationID, Merges: ids})
	})
	if err == nil {
		w.done()
		w.job.Merged++
		w.job.Left--
		w.job.Merges += len(ms)
		return nil
	}
	if ctx.Err() != nil || transient(err) {
		return unfence(err)
	}
	if err := w.refuse(ctx, r, usermerge.RowPending, usermerge.RowRefused, err); err != nil {
		return err
	}
	w.job.Refused++
	w.job.Left--
	return nil
}

// unfence turns the fence's error back into errFenced, whatever the
// transaction made of it.
func unfence(err error) error {
	if usermerge.ErrorReason(err) == "batch_fenced" {
		return errFenced
	}
	return err
}

func (w *worker) setRow(ctx context.Context, tx *store.Tx, r usermerge.BatchRowResult, from usermerge.RowStatus, u store.BatchRowUpdate) error {
	ok, err := tx.SetBatchRow(ctx, w.job.Tenant, w.job.ID, r.Order, from, u)
	if err == nil && !ok {
		err = fmt.Errorf("batch %d row %d is no longer %s", w.job.ID, r.Order, from)
	}
	return err
}

// refuse marks a row refused (or its revert refused) with the reason, in a
// transaction of its own.
func (w *worker) refuse(ctx context.Context, r usermerge.BatchRowResult, from, to usermerge.RowStatus, why error) error {
	p := &usermerge.RowProblem{Line: r.Line, Reason: usermerge.ErrorReason(why), Message: usermerge.ErrorMessage(why)}
	err := w.e.db.Transact(ctx, func(tx *store.Tx) error {
		if err := w.fence(ctx, tx); err != nil {
			return err
		}
		return w.setRow(ctx, tx, r, from, store.BatchRowUpdate{Status: to, Problem: p})
	})
	if err != nil {
		return unfence(err)
	}
	w.done()
	return nil
}

func (w *worker) revertRow(ctx context.Context, r usermerge.BatchRowResult) error {
	err := w.e.db.Transact(ctx, func(tx *store.Tx) error {
		if err := w.fence(ctx, tx); err != nil {
			return err
		}
		a, err := loadActor(ctx, tx, w.caller)
		if err != nil {
			return err
		}
		if _, err := revertTx(ctx, tx, a, r.Merges, w.job.ID); err != nil {
			return err
		}
		if w.e.afterBatchRow != nil {
			if err := w.e.afterBatchRow(w.job.ID, r.Order); err != nil {
				return err
			}
		}
		return w.setRow(ctx, tx, r, usermerge.RowMerged, store.BatchRowUpdate{Status: usermerge.RowReverted})
	})
	if err == nil {
		w.done()
		w.job.Reverted++
		return nil
	}
	if ctx.Err() != nil || transient(err) {
		return unfence(err)
	}
	if err := w.refuse(ctx, r, usermerge.RowMerged, usermerge.RowRevertRefused, err); err != nil {
		return err
	}
	w.job.RevertRefused++
	return nil
}

// finish gives the batch its final status, frees its lease and adds the
// event saying how it ended, in one transaction.
func (w *worker) finish(ctx context.Context) (bool, error) {
	err := w.e.db.Transact(ctx, func(tx *store.Tx) error {
		ch := store.BatchChange{To: usermerge.BatchDone, From: []usermerge.BatchStatus{usermerge.BatchRunning}, ClearLease: true, Finish: true, Owner: w.e.batchOwner}
		typ := "batch.completed"
		if w.job.Status == usermerge.BatchReverting {
			ch = store.BatchChange{To: usermerge.BatchReverted, From: []usermerge.BatchStatus{usermerge.BatchReverting}, ClearLease: true, RevertedAt: true, Owner: w.e.batchOwner}
			typ = "batch.reverted"
		}
		ok, err := tx.SetBatchStatus(ctx, w.job.Tenant, w.job.ID, ch)
		if err != nil {
			return err
		}
		if !ok {
			return errFenced
		}
		j, err := tx.GetBatch(ctx, w.job.Tenant, w.job.ID)
		if err != nil {
			return err
		}
		if j.Left > 0 && typ == "batch.completed" { // cannot be under the fence; never end a batch with rows to run
			return fmt.Errorf("batch %d: %d rows still pending at its end", j.ID, j.Left)
		}
		w.job = j
		by := j.By
		if typ == usermerge.EventBatchReverted {
			by = j.RevertedBy
		}
		return tx.AddEvent(ctx, j.Tenant, typ, batchEvent(j, by, tx.Now))
	})
	if ctx.Err() != nil || unfence(err) == errFenced {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	w.report()
	return true, nil
}

// workOne claims a free batch of any tenant and works it; it answers
// whether it worked one to its end (then the loop looks for the next at
// once).
func (e *Engine) workOne(ctx context.Context) bool {
	var job store.BatchJob
	var got bool
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		tenant, id, ok, err := tx.ClaimFreeBatch(ctx, e.batchOwner, tx.Now.Add(e.leaseFor))
		if err != nil || !ok {
			return err
		}
		got = true
		job, err = tx.GetBatch(ctx, tenant, id)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("claim a batch", "err", err)
		}
		return false
	}
	if !got {
		return false
	}
	b, err := e.work(ctx, job, nil)
	return err == nil && (b.Status == usermerge.BatchDone || b.Status == usermerge.BatchReverted)
}

// revertBatch checks every merged row of a batch against §6's rules (the
// engine's revertable; a later merge outside the batch on one of its
// accounts) and, when none is refused or the revert is partial, marks the
// refused rows and the batch reverting, for a worker to revert row by row.
func (e *Engine) revertBatch(ctx context.Context, c Caller, id int64, partial bool) (usermerge.BatchRevert, error) {
	var out usermerge.BatchRevert
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		j, err := batchFor(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.requireEdit(); err != nil {
			return err
		}
		if !a.tenant.Policy.RevertAllowed {
			return usermerge.Errorf(usermerge.Forbidden, "revert_not_allowed", "tenant %s does not allow reverting merges: its merges are irreversible", a.tenant.Name)
		}
		if j.Status != usermerge.BatchDone && j.Status != usermerge.BatchCancelled {
			return usermerge.Errorf(usermerge.Conflict, "batch_not_finished", "batch %d is %s: only a done or cancelled batch can be reverted", id, j.Status)
		}
		out.Refused = []usermerge.RowProblem{}
		var refused []usermerge.BatchRowResult
		after := 0
		for {
			rows, err := tx.BatchRowsAfter(ctx, a.tenant.ID, id, usermerge.RowMerged, after, false, MaxBatchRowPage)
			if err != nil {
				return err
			}
			for _, r := range rows {
				after = r.Order
				p, err := rowRevertable(ctx, tx, a, id, r)
				if err != nil {
					return err
				}
				if p != nil {
					refused = append(refused, r)
					out.Refused = append(out.Refused, *p)
				}
			}
			if len(rows) < MaxBatchRowPage {
				break
			}
		}
		if len(refused) > 0 && !partial {
			return &usermerge.Error{Code: usermerge.Conflict, Reason: "batch_refused",
				Message: fmt.Sprintf("batch %d cannot be reverted: the merges of %d rows cannot be; nothing was reverted", id, len(refused)),
				Err:     &usermerge.BatchProblems{Rows: j.Rows, Problems: out.Refused}}
		}
		for i, r := range refused {
			p := out.Refused[i]
			if ok, err := tx.SetBatchRow(ctx, a.tenant.ID, id, r.Order, usermerge.RowMerged, store.BatchRowUpdate{Status: usermerge.RowRevertRefused, Problem: &p}); err != nil || !ok {
				return cmpErr(err, fmt.Errorf("batch %d row %d is no longer merged", id, r.Order))
			}
		}
		ch := store.BatchChange{To: usermerge.BatchReverting, From: []usermerge.BatchStatus{usermerge.BatchDone, usermerge.BatchCancelled},
			ClearLease: true, RevertedBy: a.admin.Login, Partial: partial}
		if ok, err := tx.SetBatchStatus(ctx, a.tenant.ID, id, ch); err != nil || !ok {
			return cmpErr(err, fmt.Errorf("batch %d changed status during its revert", id))
		}
		if j, err = tx.GetBatch(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		out.Batch = withPace(j)
		return nil
	})
	if err != nil {
		return usermerge.BatchRevert{}, err
	}
	return out, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// rowRevertable answers why a merged row's merges cannot be reverted (nil:
// they can), as Revert would refuse them, except that a later merge made
// by the same batch is no reason: the revert goes newest first.
func rowRevertable(ctx context.Context, tx *store.Tx, a *actor, batch int64, r usermerge.BatchRowResult) (*usermerge.RowProblem, error) {
	problem := func(why error) *usermerge.RowProblem {
		return &usermerge.RowProblem{Line: r.Line, Reason: usermerge.ErrorReason(why), Message: usermerge.ErrorMessage(why)}
	}
	ids := slices.Clone(r.Merges)
	slices.Sort(ids)
	slices.Reverse(ids)
	for _, id := range ids {
		m, err := tx.Merge(ctx, a.tenant.ID, id)
		if err != nil {
			return nil, err
		}
		if err := revertable(ctx, tx, a, m); err != nil {
			if transient(err) {
				return nil, err
			}
			return problem(err), nil
		}
		later, err := tx.LaterMergesOutside(ctx, a.tenant.ID, m.ID, batch, m.Source.ID, m.Target.ID)
		if err != nil {
			return nil, err
		}
		if len(later) > 0 {
			return problem(usermerge.Errorf(usermerge.Conflict, "later_merge",
				"merge %d (%s into %s) cannot be reverted while the later merge %d, not of this batch, also involves one of its accounts; revert merge %d first",
				m.ID, m.Source.Login, m.Target.Login, later[0], later[0])), nil
		}
	}
	return nil, nil
}
