// Package engine is the merge engine: it checks who may do what, validates
// merge and revert requests against the rules of PRODUCT.md §4, §6 and §7,
// and runs previews, merges, reverts and account lifecycle changes as single
// transactions over the store. It knows nothing of HTTP or the command line.
package engine

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"usermerge"
	"usermerge/store"
)

// Engine runs merge operations on one database.
type Engine struct {
	db  *store.DB
	log *slog.Logger
	// afterSource, set only by tests, runs after each source of a merge
	// operation is merged, inside the transaction.
	afterSource func(n int) error
	// verifyHook, set only by tests, sees the hash of each password check
	// of a sign-in ("" for a check against the dummy hash).
	verifyHook func(hash string)
	// duringLoad, set only by tests, runs inside a detection run's
	// snapshot read, after the records are read.
	duringLoad func()
	// batchOwner names this engine as a batch worker (a batch's
	// lease_owner); leaseFor is how long a lease lasts unless renewed.
	batchOwner string
	leaseFor   time.Duration
	// allowPrivate lets webhooks go to private addresses; deliveryWake
	// wakes the delivery worker; afterAttempt, set only by tests, sees
	// each delivery attempt once it is logged.
	allowPrivate atomic.Bool
	deliveryWake chan struct{}
	afterAttempt func(store.Claimed, store.Outcome)
	// working holds the batches this engine's goroutines work now
	// ("tenant/id"): two of them share the owner id, so the lease alone
	// cannot keep them off one batch.
	working sync.Map
	// afterBatchRow, set only by tests, runs inside each batch row's
	// transaction after its merges (or revert), before the row's status.
	afterBatchRow func(batch int64, ord int) error
	// checkRows checks a batch's rows before CreateBatch stores them:
	// CheckBatch, unless a test replaces it.
	checkRows func(ctx context.Context, c Caller, rows []usermerge.BatchRow) ([]usermerge.BatchRowResult, error)
	// params keeps the fitted parameters of each tenant's latest done run
	// for the one-account check (tenant → runParams).
	params sync.Map
}

// New returns an engine on db.
func New(db *store.DB, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{db: db, log: log, batchOwner: rand.Text(), leaseFor: defaultLease, deliveryWake: make(chan struct{}, 1)}
	e.checkRows = e.CheckBatch
	return e
}

// DB returns the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

// Caller names who acts: an administrator's login inside a tenant.
type Caller struct {
	Tenant string
	Admin  string
	// ViaToken marks a caller authenticated by an API token (not by a
	// session or as the operator of the command line).
	ViaToken bool
}

// call runs fn in a write transaction with the caller resolved inside it, so
// that rights and data are read in the same snapshot as the change.
func (e *Engine) call(ctx context.Context, c Caller, write bool, fn func(*store.Tx, *actor) error) error {
	run := e.db.View
	if write {
		run = e.db.Transact
	}
	err := run(ctx, func(tx *store.Tx) error {
		a, err := loadActor(ctx, tx, c)
		if err != nil {
			return err
		}
		return fn(tx, a)
	})
	if usermerge.ErrorCode(err) == usermerge.Internal {
		e.log.Error("internal error", "tenant", c.Tenant, "admin", c.Admin, "err", err)
	}
	return err
}
