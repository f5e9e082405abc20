package engine

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
)

// The detection job (PRODUCT.md §11, "runs as a background job ... never
// holds locks that block merges"). A run reads the tenant in one snapshot
// (store.DB.View: a WAL snapshot on SQLite, a read-only repeatable-read
// transaction on PostgreSQL), which takes no lock a merge waits for; it
// works in memory; it writes its progress, every second, and its results,
// in chunks, each in a transaction of its own that lasts milliseconds; and
// it becomes the review queue by one UPDATE of its status.

// Timing of the job; variables so that tests can shorten them.
var (
	// heartbeatEvery is how often a running run records its progress and
	// that its process is alive.
	heartbeatEvery = time.Second
	// staleAfter is how long a running run may give no sign of life before
	// another process takes it for dead and marks it interrupted.
	staleAfter = 30 * time.Second
)

// Phases of a run besides match.Progress's.
const (
	phaseLoading  = "loading"
	phaseChoosing = "choosing"
	phaseWriting  = "writing"
	phaseDone     = "done"
)

// requireDetect checks that the caller may run detection: any
// administrator with merge-edit rights (a run covers the whole tenant, but
// each caller reads only the suggestions wholly in their scope).
func requireDetect(a *actor) error {
	if !a.canEdit() {
		return usermerge.Errorf(usermerge.Forbidden, "no_merge_permission",
			"%s has view rights only: looking for duplicates needs the merge-edit right", a.admin.Login)
	}
	return nil
}

// StartDetection records a new detection run for the caller's tenant and
// answers it (status running) without doing its work; RunDetection does the
// work. It refuses (Conflict) while another run of the tenant is running;
// a running run whose process stopped (no heartbeat for staleAfter) is
// marked interrupted first. The run is full when asked, when there is no
// finished run to start from, when a run after the latest finished one
// failed or was interrupted (it may have written part of its keys), or when
// the matching rules changed since.
func (e *Engine) StartDetection(ctx context.Context, c Caller, opt DetectOptions) (usermerge.DetectionRun, error) {
	var run store.DuplicateRun
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireDetect(a); err != nil {
			return err
		}
		if _, err := tx.InterruptStaleRuns(ctx, a.tenant.ID, tx.Now.Add(-staleAfter)); err != nil {
			return err
		}
		scope := "full"
		if !opt.Full {
			ok, err := canRunChanged(ctx, tx, a.tenant.ID)
			if err != nil {
				return err
			}
			if ok {
				scope = "changed"
			}
		}
		var err error
		run, err = tx.InsertDuplicateRun(ctx, a.tenant.ID, scope, a.admin.Login)
		return err
	})
	return run.DetectionRun, err
}

// canRunChanged reports whether a "changed" run can start from the latest
// done run.
func canRunChanged(ctx context.Context, tx *store.Tx, tenant string) (bool, error) {
	done, err := tx.LatestDuplicateRun(ctx, tenant, usermerge.RunDone)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	latest, err := tx.LatestDuplicateRun(ctx, tenant, "")
	if err != nil || latest.ID != done.ID {
		return false, err
	}
	rules, _, err := tx.MatchingRules(ctx, tenant)
	if err != nil {
		return false, err
	}
	return sameRules(rules, done.Rules), nil
}

func sameRules(a, b match.Rules) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i] != b.Fields[i] {
			return false
		}
	}
	return a.StripPlusTags == b.StripPlusTags && a.Certain == b.Certain && a.Probable == b.Probable &&
		a.Possible == b.Possible && a.MaxBlock == b.MaxBlock
}

// RecoverDetections marks interrupted, in every tenant, the running runs
// whose process stopped (no heartbeat for staleAfter): what a server does
// when it starts, so that the runs of a process that died do not show as
// running for ever. A run of another live process keeps its heartbeat fresh
// and is left alone.
func (e *Engine) RecoverDetections(ctx context.Context) error {
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		n, err := tx.InterruptStaleRuns(ctx, "", tx.Now.Add(-staleAfter))
		if n > 0 {
			e.log.Info("detection runs interrupted by a stopped process", "runs", n)
		}
		return err
	})
	if usermerge.ErrorCode(err) == usermerge.Internal {
		e.log.Error("internal error", "op", "recover detections", "err", err)
	}
	return err
}

// RunDetection does run id's work, updating its progress in the database
// as it goes (and calling progress, if not nil), and answers the finished
// run. It reads in short snapshots and writes suggestions in short
// transactions, so merges go on meanwhile. A failure marks the run failed
// with a message for an administrator. progress is called at each new
// phase and every second, one call at a time but possibly from another
// goroutine than the caller's.
func (e *Engine) RunDetection(ctx context.Context, c Caller, id int64, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error) {
	var run store.DuplicateRun
	// The run is loaded even when ctx is already cancelled (a server that
	// shut down just after starting it), so that the cancellation below
	// marks it failed instead of leaving it running until the next start.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := e.call(lctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := requireDetect(a); err != nil {
			return err
		}
		var err error
		if run, err = tx.DuplicateRun(lctx, a.tenant.ID, id); err != nil {
			return err
		}
		if run.Status != usermerge.RunRunning {
			return usermerge.Errorf(usermerge.Conflict, "run_not_running", "detection run %d is %s, not running: start a new run", id, run.Status)
		}
		return nil
	})
	if err != nil {
		return run.DetectionRun, err
	}
	hb := &heartbeat{e: e, run: run.DetectionRun, progress: progress}
	stop := hb.start(ctx)
	res, err := e.detect(ctx, run, hb)
	stop()
	if err != nil {
		return e.failRun(run, hb, err)
	}
	return res, nil
}

// failRun marks the run failed with a message for an administrator and
// answers the error (internal detail logged, never shown).
func (e *Engine) failRun(run store.DuplicateRun, hb *heartbeat, err error) (usermerge.DetectionRun, error) {
	msg := "the run stopped on an internal error; the review queue is unchanged; the server log has the details"
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || usermerge.ErrorReason(err) == "timeout":
		msg = "the run was cancelled before it finished; the review queue is unchanged"
	case usermerge.ErrorCode(err) != usermerge.Internal:
		var de *usermerge.Error
		if errors.As(err, &de) {
			msg = de.Message
		}
	default:
		e.log.Error("internal error", "tenant", run.Tenant, "op", "detection run", "run", run.ID, "err", err)
		err = usermerge.InternalError(err)
	}
	// A fresh context: the caller's may be the reason it failed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run.Status, run.Error = usermerge.RunFailed, msg
	run.Phase, run.Done, run.Total = hb.snapshot()
	if ferr := e.db.Transact(ctx, func(tx *store.Tx) error { return tx.FinishDuplicateRun(ctx, run) }); ferr != nil &&
		usermerge.ErrorCode(ferr) != usermerge.Conflict {
		e.log.Error("internal error", "tenant", run.Tenant, "op", "mark detection run failed", "run", run.ID, "err", ferr)
	}
	e.prune(ctx, run.Tenant)
	out := run.DetectionRun
	e.db.View(ctx, func(tx *store.Tx) error {
		if r, err := tx.DuplicateRun(ctx, run.Tenant, run.ID); err == nil {
			out = r.DetectionRun
		}
		return nil
	})
	return out, err
}

// prune deletes, in small transactions, the pairs and suggestions of every
// run but the queue (the latest done run).
func (e *Engine) prune(ctx context.Context, tenant string) {
	var keep int64
	err := e.db.View(ctx, func(tx *store.Tx) error {
		r, err := tx.LatestDuplicateRun(ctx, tenant, usermerge.RunDone)
		keep = r.ID
		if usermerge.ErrorCode(err) == usermerge.NotFound {
			return nil
		}
		return err
	})
	for err == nil {
		var n int64
		err = e.db.Transact(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.PruneDuplicateRuns(ctx, tenant, keep, 500)
			return err
		})
		if n == 0 {
			break
		}
	}
	if err != nil {
		e.log.Warn("pruning old detection runs", "tenant", tenant, "err", err)
	}
}

// detection is what a run read from its snapshot. It does not hold the
// tenant's records: load streams them into the finder (a million accounts'
// records would take more memory than the finder's compact copies of them)
// and writes their blocking keys as it goes; the run reads back, after the
// finder, only the records of the accounts in its suggestions (and, for a
// changed run, in its pairs), for the account to keep and the explanations.
type detection struct {
	rules     match.Rules
	stamp     string
	finder    *match.Finder
	dismissed map[[2]string]bool
	prev      *store.DuplicateRun // the latest done run, for a changed run
	changed   map[string]bool     // changed or new accounts (changed run only)
	keptPairs []match.Pair        // the previous run's pairs of unchanged accounts (changed run)
	freshKeys bool                // the tenant had no keys stored before this run
	// keys are, page by page of the accounts the run read, the blocking
	// keys and fingerprints it writes: those of the accounts whose facts
	// changed, or all when the rules did or none are stored. They are
	// computed from the run's snapshot, as its scores are, so an account
	// that changes during the run is taken for changed by the next one.
	// keyAccounts counts them.
	keys        []store.KeySet
	keyAccounts int
	// records holds the records read back after the finder (readRecords),
	// by account id.
	records map[string]match.Record
}

// keyFlush is how many accounts' keys a later run writes per transaction
// (some 6 keys each, replacing theirs): each holds the write lock for
// milliseconds. The pairs and suggestions are chunked by the store
// (store.DB.WriteDuplicatePairs).
const keyFlush = 625

func (e *Engine) load(ctx context.Context, run store.DuplicateRun) (*detection, error) {
	d := &detection{dismissed: map[[2]string]bool{}, records: map[string]match.Record{}}
	err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if d.rules, _, err = tx.MatchingRules(ctx, run.Tenant); err != nil {
			return err
		}
		if d.stamp, err = tx.DuplicateDataStamp(ctx, run.Tenant); err != nil {
			return err
		}
		// The keys and fingerprints of an account are written again when
		// its facts changed, or when the rules changed since the latest
		// done run (the keys depend on them); none are stored before the
		// first run.
		prev, err := tx.LatestDuplicateRun(ctx, run.Tenant, usermerge.RunDone)
		if err != nil && usermerge.ErrorCode(err) != usermerge.NotFound {
			return err
		}
		stored, err := tx.HasDuplicateKeys(ctx, run.Tenant)
		if err != nil {
			return err
		}
		// A run that failed or was interrupted since the latest done one
		// may have written part of its keys: they are all written again.
		unfinished, err := tx.UnfinishedRunsSince(ctx, run.Tenant, prev.ID, run.ID)
		if err != nil {
			return err
		}
		stored = stored && !unfinished
		d.freshKeys = !stored
		var fps map[string]uint64
		if stored && prev.ID != 0 && sameRules(prev.Rules, d.rules) {
			if fps, err = tx.DuplicateFingerprints(ctx, run.Tenant); err != nil {
				return err
			}
		}
		changedRun := run.Scope == "changed"
		var live map[string]bool
		if changedRun {
			d.changed, live = map[string]bool{}, map[string]bool{}
		}
		d.finder = match.NewFinder(d.rules)
		// Room for every record at once, counted in the run's snapshot.
		n, err := tx.LiveAccountCount(ctx, run.Tenant)
		if err != nil {
			return err
		}
		d.finder.Grow(int(n))
		// The finder takes in one page while the next is read: reading
		// waits on the database, Add on a core.
		pages := make(chan []match.Record, 1)
		added := make(chan struct{})
		go func() {
			defer close(added)
			for recs := range pages {
				var page store.KeySet
				for _, r := range recs {
					d.finder.Add(r)
					fp := store.Fingerprint(r)
					if stored, ok := fps[r.ID]; !ok || stored != fp {
						if changedRun {
							d.changed[r.ID] = true
						}
						page.Add(r.ID, fp, d.finder.AddedKeys())
					}
					if live != nil {
						live[r.ID] = true
					}
				}
				if page.Len() > 0 {
					d.keys = append(d.keys, page)
					d.keyAccounts += page.Len()
				}
			}
		}()
		err = tx.EachDuplicateRecordPage(ctx, run.Tenant, func(_, _ string, recs []match.Record) error {
			select {
			case pages <- recs:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(pages)
		<-added
		if err != nil {
			return err
		}
		fps = nil
		if e.duringLoad != nil {
			e.duringLoad()
		}
		if err := tx.AllDismissals(ctx, run.Tenant, func(a, b string) { d.dismissed[[2]string{a, b}] = true }); err != nil {
			return err
		}
		if !changedRun {
			return nil
		}
		d.prev = &prev
		// Pairs of the previous run are kept when neither account changed
		// and both are still live; a removed account's pairs are dropped.
		return tx.DuplicatePairs(ctx, run.Tenant, prev.ID, func(p match.Pair) error {
			if live[p.A] && live[p.B] && !d.changed[p.A] && !d.changed[p.B] {
				d.keptPairs = append(d.keptPairs, p)
			}
			return nil
		})
	})
	return d, err
}

// keyWrite is a run's write of its keys (writeKeys) in a goroutine of its
// own: n counts the accounts written, err is its outcome once done is
// closed.
type keyWrite struct {
	n      atomic.Int64
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// startKeys starts writing d's keys; d.keys is let go when they are.
func (e *Engine) startKeys(ctx context.Context, tenant string, d *detection) *keyWrite {
	ctx, cancel := context.WithCancel(ctx)
	w := &keyWrite{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(w.done)
		w.err = e.writeKeys(ctx, tenant, d, func(n int) { w.n.Add(int64(n)) })
		d.keys = nil
	}()
	return w
}

// wait waits for the keys, calling progress every tick meanwhile, and
// answers the write's error.
func (w *keyWrite) wait(ctx context.Context, tick time.Duration, progress func()) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			progress()
			return w.err
		case <-ctx.Done():
			w.stop()
			return ctx.Err()
		case <-t.C:
			progress()
		}
	}
}

// stop stops the write, if it still runs, and waits for it to end.
func (w *keyWrite) stop() {
	w.cancel()
	<-w.done
}

// writeKeys stores the blocking keys and fingerprints of d.keys: all at
// once in key order when the tenant had none or a run since the latest
// done one did not finish (PutFreshDuplicateKeys, after clearing any), else
// in transactions of keyFlush accounts that replace theirs. An account gone
// since the run's snapshot gets keys too; DropDuplicateKeysOfGone drops
// them after.
func (e *Engine) writeKeys(ctx context.Context, tenant string, d *detection, done func(n int)) error {
	if d.freshKeys {
		// Keys without fingerprints (a first run that failed while
		// writing them) or of an unfinished run go first.
		if err := e.db.ClearDuplicateKeys(ctx, tenant); err != nil {
			return err
		}
		return e.db.PutFreshDuplicateKeys(ctx, tenant, d.keys, done)
	}
	for _, page := range d.keys {
		for start := 0; start < page.Len(); start += keyFlush {
			chunk := page.Slice(start, min(start+keyFlush, page.Len()))
			if err := e.db.Transact(ctx, func(tx *store.Tx) error { return tx.PutDuplicateKeys(ctx, tenant, chunk) }); err != nil {
				return err
			}
			done(chunk.Len())
		}
	}
	return nil
}

// readRecords reads, in a snapshot of its own, the records of the accounts
// of ids that the run has not read back yet. An account merged away or
// deleted since the run's snapshot is not found.
func (e *Engine) readRecords(ctx context.Context, tenant string, d *detection, ids []string) error {
	var want []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := d.records[id]; !ok && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil
	}
	return e.db.View(ctx, func(tx *store.Tx) error {
		recs, err := tx.DuplicateRecords(ctx, tenant, want)
		for _, r := range recs {
			d.records[r.ID] = r
		}
		return err
	})
}

func (d *detection) record(id string) (match.Record, bool) {
	r, ok := d.records[id]
	return r, ok
}

func (d *detection) isDismissed(a, b string) bool {
	if b < a {
		a, b = b, a
	}
	return d.dismissed[[2]string{a, b}]
}

// detect is the run's work after its start.

func (e *Engine) detect(ctx context.Context, run store.DuplicateRun, hb *heartbeat) (usermerge.DetectionRun, error) {
	hb.set(phaseLoading, 0, 0)
	d, err := e.load(ctx, run)
	if err != nil {
		return run.DetectionRun, err
	}
	f := d.finder
	d.finder = nil
	for p := range d.dismissed {
		f.Dismiss(p[0], p[1])
	}
	if d.prev != nil {
		f.Focus(d.changed, d.prev.Params)
	}
	res, err := f.Run(ctx, func(p match.Progress) { hb.set(p.Phase, p.Done, p.Total) })
	if err != nil {
		return run.DetectionRun, err
	}
	pairs := f.Pairs()
	suggestions := res.Suggestions
	params := res.Params
	if d.prev != nil {
		// The focused run scored the changed accounts only: the previous
		// run's pairs of the others join them, and all are clustered again.
		params = d.prev.Params
		seen := map[[2]string]bool{}
		for _, p := range pairs {
			seen[[2]string{p.A, p.B}] = true
		}
		for _, p := range d.keptPairs {
			if !seen[[2]string{p.A, p.B}] {
				pairs = append(pairs, p)
			}
		}
		ids := make([]string, 0, 2*len(pairs))
		for _, p := range pairs {
			ids = append(ids, p.A, p.B)
		}
		if err := e.readRecords(ctx, run.Tenant, d, ids); err != nil {
			return run.DetectionRun, err
		}
		suggestions = match.Cluster(pairs, d.rules, d.record, d.isDismissed)
		res.Stats.PairsScored = int64(len(pairs))
		explain(suggestions, params, d)
	}
	// The keys are written while the accounts to keep are chosen and the
	// suggestions written: those wait on the database's reads and the
	// keys on its writes, and at a million accounts each takes seconds. A
	// run that fails before its end stops the writer first; the keys it
	// wrote are written again by the next run (an unfinished run's are).
	kw := e.startKeys(ctx, run.Tenant, d)
	defer kw.stop()
	hb.set(phaseChoosing, 0, int64(len(suggestions)))
	if err := e.chooseKeeps(ctx, run.Tenant, f, suggestions); err != nil {
		return run.DetectionRun, err
	}
	if err := e.write(ctx, run, d, pairs, suggestions, kw, hb); err != nil {
		return run.DetectionRun, err
	}
	run.Status, run.Stats, run.Params, run.Rules, run.DataStamp = usermerge.RunDone, res.Stats, params, d.rules, d.stamp
	run.Suggestions = len(suggestions)
	run.Phase, run.Done, run.Total = phaseDone, int64(len(suggestions)), int64(len(suggestions))
	if err := e.db.Transact(ctx, func(tx *store.Tx) error { return tx.FinishDuplicateRun(ctx, run) }); err != nil {
		return run.DetectionRun, err
	}
	hb.set(phaseDone, run.Done, run.Total)
	e.prune(ctx, run.Tenant)
	var out usermerge.DetectionRun
	err = e.db.View(ctx, func(tx *store.Tx) error {
		r, err := tx.DuplicateRun(ctx, run.Tenant, run.ID)
		out = r.DetectionRun
		return err
	})
	return out, err
}

// explain gives the kept pairs of the suggestions their full explanation
// again (the store keeps only each field's weight): scored anew from the
// records, with the score the pair was clustered by.
func explain(list []match.Suggestion, params match.Params, d *detection) {
	for i := range list {
		for j, p := range list[i].Pairs {
			if len(p.Evidence) > 0 && p.Evidence[0].Level != "" {
				continue // scored by this run
			}
			a, okA := d.record(p.A)
			b, okB := d.record(p.B)
			if okA && okB {
				list[i].Pairs[j].Evidence = match.Score(params, d.rules, a, b).Evidence
			}
		}
	}
}

// chooseKeeps counts the learning records of the suggestions' accounts
// (only theirs: counting every account's would read every record table of
// the tenant), reads which of them are still live and which are an
// administrator's, and has the finder choose again the account to keep
// with those facts and the rest of what it read in the run's snapshot. A
// cluster with an administrator's own account keeps the finder's choice,
// which never makes that account a source.
func (e *Engine) chooseKeeps(ctx context.Context, tenant string, f *match.Finder, list []match.Suggestion) error {
	var ids []string
	for _, s := range list {
		ids = append(ids, s.Accounts...)
	}
	if len(ids) == 0 {
		return nil
	}
	// In id order, without repeats: each chunk of the reads then covers a
	// narrow range of every index it probes, rather than pages all over it
	// (at a million accounts the indexes outgrow the database's cache).
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var totals map[string]int64
	var live map[string]bool
	err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if live, err = tx.LiveAccounts(ctx, tenant, ids); err != nil {
			return err
		}
		totals, err = tx.RecordTotals(ctx, tenant, ids)
		return err
	})
	if err != nil {
		return err
	}
	f.ChooseKeeps(list, func(id string) (match.Live, bool) {
		admin, ok := live[id]
		return match.Live{Records: totals[id], NotSource: admin}, ok
	})
	return nil
}

// write stores the run's pairs, suggestions, keys and fingerprints, each
// chunk in a transaction of its own, beside the queue (which reads only
// the latest done run).
func (e *Engine) write(ctx context.Context, run store.DuplicateRun, d *detection, pairs []match.Pair, list []match.Suggestion, kw *keyWrite, hb *heartbeat) error {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Probability != list[j].Probability {
			return list[i].Probability > list[j].Probability
		}
		return list[i].Accounts[0] < list[j].Accounts[0]
	})
	total := int64(len(pairs) + len(list) + d.keyAccounts)
	var written int64 // pairs and suggestions; kw counts the keys' accounts
	progress := func() { hb.set(phaseWriting, written+kw.n.Load(), total) }
	progress()
	var first int64
	if err := e.db.Transact(ctx, func(tx *store.Tx) error {
		var err error
		first, err = tx.ReserveSuggestions(ctx, run.Tenant, run.ID, len(list))
		return err
	}); err != nil {
		return err
	}
	wrote := func(n int) {
		written += int64(n)
		progress()
	}
	if err := e.db.WriteDuplicatePairs(ctx, run.Tenant, run.ID, pairs, wrote); err != nil {
		return err
	}
	if err := e.db.WriteDuplicateSuggestions(ctx, run.Tenant, run.ID, first, list, wrote); err != nil {
		return err
	}
	if err := kw.wait(ctx, time.Second, progress); err != nil {
		return err
	}
	if err := e.db.Transact(ctx, func(tx *store.Tx) error { return tx.DropDuplicateKeysOfGone(ctx, run.Tenant) }); err != nil {
		return err
	}
	// Statistics are a help to the planner, not the run's result: a
	// failure is logged, not the run's.
	if err := e.db.AnalyzeDuplicates(ctx); err != nil {
		e.log.Warn("analyzing the duplicate tables", "tenant", run.Tenant, "err", err)
	}
	return nil
}

// heartbeat keeps a running run's row alive: it records a new phase at
// once, and the progress within a phase every heartbeatEvery, each in a
// transaction of a single UPDATE.
type heartbeat struct {
	e        *Engine
	progress func(usermerge.DetectionRun)

	wmu         sync.Mutex // one write (and progress call) at a time
	mu          sync.Mutex
	run         usermerge.DetectionRun
	lastWritten string
}

func (h *heartbeat) snapshot() (string, int64, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.run.Phase, h.run.Done, h.run.Total
}

// set records the progress; a new phase is written at once.
func (h *heartbeat) set(phase string, done, total int64) {
	h.mu.Lock()
	h.run.Phase, h.run.Done, h.run.Total = phase, done, total
	changed := phase != h.lastWritten
	h.mu.Unlock()
	if changed {
		h.write(context.Background())
	}
}

// write records the current progress and calls the progress function.
func (h *heartbeat) write(ctx context.Context) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	r := h.run
	h.lastWritten = r.Phase
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := h.e.db.Transact(ctx, func(tx *store.Tx) error {
		_, err := tx.DuplicateProgress(ctx, r.Tenant, r.ID, r.Phase, r.Done, r.Total)
		return err
	})
	if err != nil {
		// A missed heartbeat is not the run's failure: the next one may
		// succeed; the run fails if it is taken for dead and interrupted.
		h.e.log.Warn("recording detection progress", "tenant", r.Tenant, "run", r.ID, "err", err)
	}
	if h.progress != nil {
		h.progress(r)
	}
}

// start writes the progress every heartbeatEvery until the answered stop
// is called.
func (h *heartbeat) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.write(ctx)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
