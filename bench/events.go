package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// EventsOptions configures `usermerge bench events`.
type EventsOptions struct {
	DB    string
	Force bool
	// Accounts and Merges make the resolve tenant (default 1,000,000
	// each); Pairs the duplicate pairs of the merge tenant (default
	// 1,200): a third for the merge cost, half for the delivery backlog,
	// a sixth for the latency.
	Accounts, Merges, Pairs int
	// Samples is how many resolve calls of Refs references are timed
	// (default 50 of 1,000).
	Samples, Refs int
	// Workers is the delivery worker's concurrency (0: the server's
	// default).
	Workers  int
	Seed     uint64
	Now      time.Time
	Progress io.Writer
}

// EventsResult is what an events bench measured.
type EventsResult struct {
	Database         string    `json:"database"`
	At               time.Time `json:"at"`
	Accounts         int       `json:"resolve_accounts"`
	Merges           int       `json:"resolve_merges"`
	Pairs            int       `json:"pairs"`
	RecordsPerSource int       `json:"records_per_source"`
	Load             Step      `json:"load"`
	MergeCost        MergeCost `json:"merge_cost"`
	Throughput       Delivery  `json:"throughput"`
	Latency          Latency   `json:"latency"`
	Resolve          Resolve   `json:"resolve"`
	Checks           []string  `json:"checks"`
}

// MergeCost compares merges with three enabled endpoints against merges
// with none, in alternating blocks, the delivery worker stopped: the
// difference is what the merge's own transaction pays for its
// deliveries.
type MergeCost struct {
	MergesEach  int     `json:"merges_each"`
	NoneMeanMS  float64 `json:"none_mean_ms"`
	NoneP50MS   float64 `json:"none_p50_ms"`
	WithMeanMS  float64 `json:"with_mean_ms"`
	WithP50MS   float64 `json:"with_p50_ms"`
	Ratio       float64 `json:"ratio_mean"`
	RatioMedian float64 `json:"ratio_median"`
}

// Delivery is the worker's throughput on a backlog of deliveries to a
// local receiver: from the worker's start to the last delivery logged.
type Delivery struct {
	Endpoints  int     `json:"endpoints"`
	Workers    int     `json:"workers"`
	Deliveries int     `json:"deliveries"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
}

// Latency is from a merge's commit to its delivery's arrival at the
// receiver, the worker running as the server runs it, three endpoints.
// FromCall counts from before the merge was called (an upper bound: the
// commit comes later), FromAnswer from its answer (a lower bound).
type Latency struct {
	Merges          int     `json:"merges"`
	Deliveries      int     `json:"deliveries"`
	P50MS           float64 `json:"p50_ms"`
	P95MS           float64 `json:"p95_ms"`
	MaxMS           float64 `json:"max_ms"`
	P95FromAnswerMS float64 `json:"p95_from_answer_ms"`
	// MergeMeanMS is the merges' mean time with the worker running beside
	// them, and WorkerRatio that over MergeCost's NoneMeanMS (taken in an
	// earlier phase, so noisier than MergeCost's ratio).
	MergeMeanMS float64 `json:"merge_mean_ms"`
	WorkerRatio float64 `json:"merge_with_worker_vs_none"`
}

// Resolve is the latency of resolve calls of Refs references each.
type Resolve struct {
	// WarmUp calls come first and are checked but not timed: the first
	// calls of a process fault in the database's mapped pages and prepare
	// statements. ColdMS is the very first call's time.
	WarmUp int            `json:"warm_up_calls"`
	ColdMS float64        `json:"cold_ms"`
	Calls  int            `json:"calls"`
	Refs   int            `json:"refs"`
	P50MS  float64        `json:"p50_ms"`
	P95MS  float64        `json:"p95_ms"`
	MaxMS  float64        `json:"max_ms"`
	States map[string]int `json:"states"`
}

func (o EventsOptions) withDefaults() (EventsOptions, error) {
	if o.Accounts == 0 {
		o.Accounts = 1_000_000
	}
	if o.Merges == 0 {
		o.Merges = 1_000_000
	}
	if o.Pairs == 0 {
		o.Pairs = 1_200
	}
	if o.Samples == 0 {
		o.Samples = 50
	}
	if o.Refs == 0 {
		o.Refs = usermerge.MaxResolveRefs
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Millisecond)
	switch {
	case o.Accounts < 20:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench events: --accounts must be 20 or more")
	case o.Pairs < 12:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench events: --rows (pairs) must be 12 or more")
	case o.Refs < 1 || o.Refs > usermerge.MaxResolveRefs:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench events: --refs must be from 1 to %d", usermerge.MaxResolveRefs)
	case o.Samples < 1:
		return o, usermerge.Errorf(usermerge.Invalid, "invalid_size", "bench events: --samples must be 1 or more")
	}
	return o, nil
}

// RunEvents generates the two tenants into a fresh database and measures
// the merge's cost of its deliveries, the delivery worker's throughput
// and latency to a local receiver, and resolving at scale; it checks every
// delivery and every resolution as it goes.
func RunEvents(ctx context.Context, o EventsOptions) (*EventsResult, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	loc, err := parseLocation(o.DB)
	if err != nil {
		return nil, err
	}
	if err := loc.prepare(ctx, o.Force); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, loc.url)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", loc, err)
	}
	defer db.Close()
	src, _ := recordsPerSource()
	r := &EventsResult{Database: db.Dialect(), At: time.Now().UTC(), Pairs: o.Pairs, RecordsPerSource: src}
	base := newDataset(Options{Accounts: 2*o.Pairs + 1_000, Seed: o.Seed, Now: o.Now})
	pairs := &batchDataset{dataset: base, rows: o.Pairs}
	res := newResolveDataset(newDataset(Options{Accounts: o.Accounts, Seed: o.Seed + 1, Now: o.Now}), o.Accounts, o.Merges)
	r.Accounts, r.Merges = 5*res.groups, res.merges
	bar := newBar(o.Progress)
	tables := pairs.tables()
	if r.Load, err = loadTables(ctx, db, tables, bar); err != nil {
		return nil, err
	}
	more, err := loadResolveTenant(ctx, db, res, bar)
	if err != nil {
		return nil, err
	}
	r.Load.Seconds += more.Seconds
	r.Load.Rows += more.Rows
	r.Load.RowsPerSecond = float64(r.Load.Rows) / r.Load.Seconds
	if err := settle(ctx, db, tableNames(tables)); err != nil {
		return nil, err
	}

	rc, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer rc.close()
	eng := engine.New(db, nil)
	eng.AllowPrivateWebhooks(true)
	m := &eventsMeasurer{db: db, eng: eng, o: o, r: r, bar: bar, rc: rc}
	if err := m.mergeCost(ctx); err != nil {
		return nil, err
	}
	if err := m.throughput(ctx); err != nil {
		return nil, err
	}
	if err := m.latency(ctx); err != nil {
		return nil, err
	}
	m.stopWorker()
	if err := m.resolve(ctx, res); err != nil {
		return nil, err
	}
	bar.note("")
	return r, nil
}

// loadResolveTenant writes the resolve tenant and its administrator, then
// its accounts, external IDs and merges by the bulk path.
func loadResolveTenant(ctx context.Context, db *store.DB, d *resolveDataset, bar *bar) (Step, error) {
	start := time.Now()
	err := db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: resolveTenant, Name: "Resolve Academy", Policy: policy}); err != nil {
			return err
		}
		return tx.PutAdmin(ctx, usermerge.Admin{TenantID: resolveTenant, ID: adminID, Login: adminID, Name: "Bench Admin", Role: usermerge.TenantAdmin}, "")
	})
	if err != nil {
		return Step{}, fmt.Errorf("bench: create the resolve tenant: %w", err)
	}
	ts := d.tables()
	var total, done int64
	for _, t := range ts {
		total += t.rows
	}
	bar.start("loading the resolve tenant", total)
	for _, t := range ts {
		n, err := db.BulkInsert(ctx, t.name, t.cols, t.gen, func(n int64) { bar.set(t.name, done+n) })
		if err != nil {
			return Step{}, err
		}
		if n != t.rows {
			return Step{}, fmt.Errorf("bench: %s: generated %d rows, want %d", t.name, n, t.rows)
		}
		done += n
	}
	bar.finish()
	if err := settle(ctx, db, tableNames(ts)); err != nil {
		return Step{}, err
	}
	return Step{Name: "load", Seconds: time.Since(start).Seconds(), Rows: done}, nil
}

type eventsMeasurer struct {
	db       *store.DB
	eng      *engine.Engine
	o        EventsOptions
	r        *EventsResult
	bar      *bar
	rc       *receiver
	hooks    []int64 // the endpoints, in creation order
	next     int     // the next pair to merge
	stop     context.CancelFunc
	finished chan struct{}
	// started is when each merge was called and answered, by merge id.
	mu       sync.Mutex
	started  map[int64][2]time.Time
	expected int // deliveries the receiver should have had so far
}

func (m *eventsMeasurer) check(format string, args ...any) {
	m.r.Checks = append(m.r.Checks, fmt.Sprintf(format, args...))
}

// addHook registers an endpoint of the receiver, every event type.
func (m *eventsMeasurer) addHook(ctx context.Context) error {
	url := m.rc.url(len(m.hooks) + 1)
	desc := "bench receiver"
	w, secret, err := m.eng.CreateWebhook(ctx, caller, usermerge.WebhookInput{URL: &url, Description: &desc})
	if err != nil {
		return fmt.Errorf("bench: register an endpoint: %w", err)
	}
	m.rc.setSecret(len(m.hooks)+1, secret)
	m.hooks = append(m.hooks, w.ID)
	return nil
}

// enable turns the first n endpoints on and the others off.
func (m *eventsMeasurer) enable(ctx context.Context, n int) error {
	for i, id := range m.hooks {
		on := i < n
		if _, err := m.eng.UpdateWebhook(ctx, caller, id, usermerge.WebhookInput{Enabled: &on}); err != nil {
			return fmt.Errorf("bench: enable endpoint %d: %w", id, err)
		}
	}
	return nil
}

// merge merges the next pair and answers how long it took.
func (m *eventsMeasurer) merge(ctx context.Context) (time.Duration, error) {
	i := m.next
	if i >= m.o.Pairs {
		return 0, fmt.Errorf("bench: out of pairs (%d)", m.o.Pairs)
	}
	m.next++
	move := true
	start := time.Now()
	ms, err := m.eng.Merge(ctx, caller, usermerge.MergeRequest{Target: batchTarget(i), Sources: []string{batchSource(i)}, MoveExternalIDs: &move, Reason: "bench"})
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("bench: merge pair %d: %w", i, err)
	}
	m.mu.Lock()
	for _, mg := range ms {
		m.started[mg.ID] = [2]time.Time{start, start.Add(took)}
	}
	m.mu.Unlock()
	return took, nil
}

// mergeCost merges a third of the pairs in blocks of ten (fewer for a
// small run), alternately with
// no endpoint and with three enabled, the worker stopped.
func (m *eventsMeasurer) mergeCost(ctx context.Context) error {
	m.started = map[int64][2]time.Time{}
	for range 3 {
		if err := m.addHook(ctx); err != nil {
			return err
		}
	}
	n := m.o.Pairs / 3
	block := max(1, min(10, n/4))
	var none, with []time.Duration
	m.bar.start("merges with 3 endpoints and without", int64(n))
	for b := 0; len(none)+len(with) < n; b++ {
		on := b%2 == 1
		if err := m.enable(ctx, map[bool]int{false: 0, true: 3}[on]); err != nil {
			return err
		}
		for k := 0; k < block && len(none)+len(with) < n; k++ {
			d, err := m.merge(ctx)
			if err != nil {
				return err
			}
			if on {
				with = append(with, d)
			} else {
				none = append(none, d)
			}
			m.bar.set("merges", int64(len(none)+len(with)))
		}
	}
	m.bar.finish()
	c := &m.r.MergeCost
	c.MergesEach = min(len(none), len(with))
	c.NoneMeanMS, c.NoneP50MS = meanMS(none), medianMS(none)
	c.WithMeanMS, c.WithP50MS = meanMS(with), medianMS(with)
	c.Ratio, c.RatioMedian = c.WithMeanMS/c.NoneMeanMS, c.WithP50MS/c.NoneP50MS
	m.expected = 3 * len(with)
	pending, err := m.pending(ctx)
	if err != nil {
		return err
	}
	if pending != int64(m.expected) {
		return fmt.Errorf("bench: %d deliveries pending after %d merges with 3 endpoints, want %d", pending, len(with), m.expected)
	}
	m.check("each merge with 3 endpoints queued 3 deliveries in its transaction (%d in all), the merges without none", m.expected)
	return nil
}

// throughput queues a backlog (half the pairs merged with ten endpoints,
// beside what the cost phase left), then starts the worker and times it
// until every delivery has reached the receiver.
func (m *eventsMeasurer) throughput(ctx context.Context) error {
	for len(m.hooks) < 10 {
		if err := m.addHook(ctx); err != nil {
			return err
		}
	}
	if err := m.enable(ctx, 10); err != nil {
		return err
	}
	n := m.o.Pairs / 2
	m.bar.start("merges queuing the backlog", int64(n))
	for k := range n {
		if _, err := m.merge(ctx); err != nil {
			return err
		}
		m.bar.set("merges", int64(k+1))
	}
	m.bar.finish()
	m.expected += 10 * n
	backlog, err := m.pending(ctx)
	if err != nil {
		return err
	}
	if backlog != int64(m.expected) {
		return fmt.Errorf("bench: %d deliveries pending, want %d", backlog, m.expected)
	}
	if err := settle(ctx, m.db, []string{"webhook_deliveries", "events"}); err != nil {
		return err
	}
	m.bar.note(fmt.Sprintf("delivering a backlog of %s", thousands(backlog)))
	start := time.Now()
	m.startWorker()
	if err := m.waitDelivered(ctx, 5*time.Minute); err != nil {
		return err
	}
	took := time.Since(start)
	workers := m.o.Workers
	if workers == 0 {
		workers = 8
	}
	m.r.Throughput = Delivery{Endpoints: 10, Workers: workers, Deliveries: int(backlog), Seconds: took.Seconds(), PerSecond: float64(backlog) / took.Seconds()}
	return m.checkDeliveries(ctx, "the backlog")
}

// latency merges the last sixth of the pairs one after another with three
// endpoints, the worker running, and reads when each delivery arrived.
func (m *eventsMeasurer) latency(ctx context.Context) error {
	if err := m.enable(ctx, 3); err != nil {
		return err
	}
	from := m.rc.count()
	n := m.o.Pairs - m.next
	var took []time.Duration
	m.bar.start("merges with the worker running", int64(n))
	first := int64(0)
	for k := range n {
		d, err := m.merge(ctx)
		if err != nil {
			return err
		}
		took = append(took, d)
		if k == 0 {
			m.mu.Lock()
			for id := range m.started {
				first = max(first, id)
			}
			m.mu.Unlock()
		}
		m.bar.set("merges", int64(k+1))
	}
	m.bar.finish()
	m.expected += 3 * n
	if err := m.waitDelivered(ctx, time.Minute); err != nil {
		return err
	}
	var fromCall, fromAnswer []time.Duration
	for _, a := range m.rc.arrivals()[from:] {
		m.mu.Lock()
		s, ok := m.started[a.merge]
		m.mu.Unlock()
		if !ok || a.merge < first {
			return fmt.Errorf("bench: a delivery of merge %d arrived during the latency phase", a.merge)
		}
		fromCall = append(fromCall, a.at.Sub(s[0]))
		fromAnswer = append(fromAnswer, a.at.Sub(s[1]))
	}
	if len(fromCall) != 3*n {
		return fmt.Errorf("bench: %d deliveries arrived for %d merges with 3 endpoints", len(fromCall), n)
	}
	slices.Sort(fromCall)
	slices.Sort(fromAnswer)
	l := &m.r.Latency
	l.Merges, l.Deliveries = n, len(fromCall)
	l.P50MS, l.P95MS, l.MaxMS = ms(percentile(fromCall, 50)), ms(percentile(fromCall, 95)), ms(fromCall[len(fromCall)-1])
	l.P95FromAnswerMS = ms(percentile(fromAnswer, 95))
	l.MergeMeanMS = meanMS(took)
	l.WorkerRatio = l.MergeMeanMS / m.r.MergeCost.NoneMeanMS
	return m.checkDeliveries(ctx, "the latency phase")
}

func (m *eventsMeasurer) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.finished = cancel, make(chan struct{})
	go func() {
		defer close(m.finished)
		m.eng.DeliverWebhooks(ctx, engine.DeliveryOptions{Workers: m.o.Workers, Timeout: 10 * time.Second})
	}()
}

func (m *eventsMeasurer) stopWorker() {
	if m.stop != nil {
		m.stop()
		<-m.finished
		m.stop = nil
	}
}

// waitDelivered waits until the receiver has had every expected delivery
// and the database shows none pending.
func (m *eventsMeasurer) waitDelivered(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if m.rc.count() >= m.expected {
			p, err := m.pending(ctx)
			if err != nil {
				return err
			}
			if p == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p, _ := m.pending(ctx)
			return fmt.Errorf("bench: after %s the receiver has %d deliveries of %d and %d are pending", limit, m.rc.count(), m.expected, p)
		}
		m.bar.set("delivered", int64(m.rc.count()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (m *eventsMeasurer) pending(ctx context.Context) (int64, error) {
	var n int64
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.Count(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND status = 'pending'`, tenantID)
		return err
	})
	return n, err
}

// checkDeliveries: every delivery so far arrived once, signed right, and
// the database logged it delivered at its first attempt.
func (m *eventsMeasurer) checkDeliveries(ctx context.Context, phase string) error {
	got, unique, bad := m.rc.stats()
	if got != m.expected || unique != m.expected || bad != 0 {
		return fmt.Errorf("bench: %s: the receiver had %d deliveries (%d distinct webhook-ids, %d badly signed), want %d", phase, got, unique, bad, m.expected)
	}
	var delivered, attempts int64
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if delivered, err = tx.Count(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND status = 'delivered' AND attempts = 1`, tenantID); err != nil {
			return err
		}
		attempts, err = tx.Count(ctx, `SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = ?`, tenantID)
		return err
	})
	if err != nil {
		return err
	}
	if delivered != int64(m.expected) || attempts != int64(m.expected) {
		return fmt.Errorf("bench: %s: %d deliveries delivered at the first attempt and %d attempts logged, want %d", phase, delivered, attempts, m.expected)
	}
	m.check("%s: every delivery (%s so far) reached the receiver once, with a valid signature, and is logged delivered at its first attempt", phase, thousands(int64(m.expected)))
	return nil
}

// resolveWarmUp is how many resolve calls go untimed before the Samples:
// on a new PostgreSQL connection the server's own execution time of a call
// falls from about 180 ms to 30 ms over its first ten calls (its log's
// durations); a server's pooled connections pay that once.
const resolveWarmUp = 10

// resolve times Samples calls of Refs references each, drawn at random
// (ids, logins and external IDs, and a few unknown), and checks every
// answer against the generated truth.
func (m *eventsMeasurer) resolve(ctx context.Context, d *resolveDataset) error {
	rc := engine.Caller{Tenant: resolveTenant, Admin: adminID}
	rng := rand.New(rand.NewPCG(m.o.Seed, 99))
	accounts := 5 * d.groups
	res := &m.r.Resolve
	res.Calls, res.Refs, res.States = m.o.Samples, m.o.Refs, map[string]int{}
	res.WarmUp = resolveWarmUp
	var took []time.Duration
	m.bar.start("resolving", int64(res.WarmUp+m.o.Samples))
	for s := range res.WarmUp + m.o.Samples {
		refs := make([]string, m.o.Refs)
		who := make([]int, m.o.Refs)
		for k := range refs {
			i := rng.IntN(accounts)
			who[k] = i
			switch x := rng.IntN(100); {
			case x < 2:
				refs[k], who[k] = fmt.Sprintf("nobody%d", rng.IntN(1_000_000)), -1
			case x < 35:
				refs[k] = resolveAccount(i)
			case x < 68:
				refs[k] = resolveLogin(i)
			default:
				refs[k] = resolveExternal(i)
			}
		}
		start := time.Now()
		out, err := m.eng.Resolve(ctx, rc, refs)
		if d := time.Since(start); s == 0 {
			res.ColdMS = ms(d)
		} else if s >= res.WarmUp {
			took = append(took, d)
		}
		if err != nil {
			return fmt.Errorf("bench: resolve: %w", err)
		}
		for k, got := range out {
			res.States[got.State]++
			if err := checkResolution(d, refs[k], who[k], got); err != nil {
				return err
			}
		}
		m.bar.set("calls", int64(s+1))
	}
	m.bar.finish()
	slices.Sort(took)
	res.P50MS, res.P95MS, res.MaxMS = ms(percentile(took, 50)), ms(percentile(took, 95)), ms(took[len(took)-1])
	m.check("every one of %s resolutions answered the generated truth: its state, the account that holds the data, the chain's length and the reverted merges",
		thousands(int64((res.WarmUp+m.o.Samples)*m.o.Refs)))
	return nil
}

func checkResolution(d *resolveDataset, ref string, i int, got usermerge.Resolution) error {
	if i < 0 {
		if got.State != usermerge.ResolvedNotFound {
			return fmt.Errorf("bench: resolve %q: %s, want not_found", ref, got.State)
		}
		return nil
	}
	w := d.want(i)
	end := ""
	if got.Account != nil {
		end = got.Account.ID
	}
	wantEnd := ""
	if w.end >= 0 {
		wantEnd = resolveAccount(w.end)
	}
	if got.State != w.state || end != wantEnd || len(got.Chain) != w.chain || len(got.Reverted) != w.reverted ||
		got.Named == nil || got.Named.ID != resolveAccount(i) {
		return fmt.Errorf("bench: resolve %q: %s to %q through %d merges, %d reverted; want %s to %q through %d, %d reverted",
			ref, got.State, end, len(got.Chain), len(got.Reverted), w.state, wantEnd, w.chain, w.reverted)
	}
	return nil
}

func meanMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return ms(sum / time.Duration(len(ds)))
}

func medianMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	return ms(median(ds))
}

// receiver is the local webhook endpoint: it checks each delivery's
// signature by the Standard Webhooks rule and notes when it arrived.
type receiver struct {
	srv     *http.Server
	ln      net.Listener
	mu      sync.Mutex
	secrets map[int][]byte
	seen    map[string]bool
	got     []arrival
	bad     int
}

type arrival struct {
	merge int64
	at    time.Time
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: receiver: %w", err)
	}
	rc := &receiver{ln: ln, secrets: map[int][]byte{}, seen: map[string]bool{}}
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serve), ReadHeaderTimeout: 10 * time.Second}
	go rc.srv.Serve(ln)
	return rc, nil
}

func (rc *receiver) url(hook int) string {
	return fmt.Sprintf("http://%s/hooks/%d", rc.ln.Addr(), hook)
}

func (rc *receiver) setSecret(hook int, secret string) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	rc.mu.Lock()
	rc.secrets[hook] = key
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var hook int
	fmt.Sscanf(r.URL.Path, "/hooks/%d", &hook)
	rc.mu.Lock()
	key := rc.secrets[hook]
	rc.mu.Unlock()
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	valid := false
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			valid = true
		}
	}
	var ev struct {
		Data struct {
			Merged []struct {
				Merge int64 `json:"merge"`
			} `json:"merged"`
		} `json:"data"`
	}
	json.Unmarshal(body, &ev)
	rc.mu.Lock()
	if !valid || len(ev.Data.Merged) == 0 {
		rc.bad++
	}
	rc.seen[id] = true
	a := arrival{at: at}
	if len(ev.Data.Merged) > 0 {
		a.merge = ev.Data.Merged[0].Merge
	}
	rc.got = append(rc.got, a)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func (rc *receiver) arrivals() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func (rc *receiver) stats() (got, unique, bad int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got), len(rc.seen), rc.bad
}

func (rc *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc.srv.Shutdown(ctx)
}

// WriteEventsText writes an events bench's result for a person.
func WriteEventsText(w io.Writer, r *EventsResult) error {
	fmt.Fprintf(w, "Events bench on %s: a merge tenant of %s duplicate pairs (each source holding %d records over every kind) and a resolve tenant of %s accounts and %s merges.\n",
		r.Database, thousands(int64(r.Pairs)), r.RecordsPerSource, thousands(int64(r.Accounts)), thousands(int64(r.Merges)))
	fmt.Fprintf(w, "Loaded %s rows in %.1f s.\n\n", thousands(r.Load.Rows), r.Load.Seconds)
	c := r.MergeCost
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MERGE (worker stopped)\tMERGES\tMEAN MS\tMEDIAN MS")
	fmt.Fprintf(tw, "no endpoint\t%d\t%.1f\t%.1f\n", c.MergesEach, c.NoneMeanMS, c.NoneP50MS)
	fmt.Fprintf(tw, "3 endpoints\t%d\t%.1f\t%.1f\n", c.MergesEach, c.WithMeanMS, c.WithP50MS)
	tw.Flush()
	fmt.Fprintf(w, "With 3 endpoints / without: %.3f (mean), %.3f (median).\n\n", c.Ratio, c.RatioMedian)
	t := r.Throughput
	fmt.Fprintf(w, "Delivery throughput: a backlog of %s deliveries to %d local endpoints sent in %.2f s by %d workers: %.0f deliveries per second.\n",
		thousands(int64(t.Deliveries)), t.Endpoints, t.Seconds, t.Workers, t.PerSecond)
	l := r.Latency
	fmt.Fprintf(w, "Commit to receiver, %s deliveries of %d merges, worker running: p50 %.1f ms, p95 %.1f ms, max %.1f ms (from the merge's call; p95 from its answer %.1f ms).\n",
		thousands(int64(l.Deliveries)), l.Merges, l.P50MS, l.P95MS, l.MaxMS, l.P95FromAnswerMS)
	fmt.Fprintf(w, "Merges with the worker running beside them: %.1f ms mean, %.3f × the merges without endpoints.\n\n", l.MergeMeanMS, l.WorkerRatio)
	s := r.Resolve
	states := make([]string, 0, len(s.States))
	for k, v := range s.States {
		states = append(states, fmt.Sprintf("%s %s", thousands(int64(v)), k))
	}
	slices.Sort(states)
	fmt.Fprintf(w, "Resolve, %d calls of %s references after %d untimed warm-up calls (the first took %.1f ms): p50 %.1f ms, p95 %.1f ms, max %.1f ms (answers: %s).\n",
		s.Calls, thousands(int64(s.Refs)), s.WarmUp, s.ColdMS, s.P50MS, s.P95MS, s.MaxMS, strings.Join(states, ", "))
	for _, c := range r.Checks {
		fmt.Fprintf(w, "Checked: %s.\n", c)
	}
	return nil
}
