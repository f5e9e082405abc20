package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"usermerge"
	"usermerge/store"
)

// Webhooks (PRODUCT.md §13): a tenant's endpoints, their deliveries and the
// worker that delivers them after commit, signed as the Standard Webhooks
// specification says. Only tenant administrators (not group managers)
// manage endpoints: an endpoint hears of the whole tenant.

// MaxWebhooks is the most endpoints one tenant may register.
const MaxWebhooks = 20

// RetrySchedule is how long a delivery waits after each failed attempt
// before the next: ten attempts over about three days (2 d 20 h 36 min
// after the first). After the last, the delivery has failed.
var RetrySchedule = []time.Duration{
	5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 24 * time.Hour,
}

// MaxAttempts is how many attempts a delivery gets.
func maxAttempts() int { return len(RetrySchedule) + 1 }

// DeliveryOptions tunes the delivery worker.
type DeliveryOptions struct {
	// Poll is how often an idle worker looks for due deliveries (0: 1 s).
	// A commit that writes an event also wakes this process's worker.
	Poll time.Duration
	// Workers is how many deliveries this process sends at once (0: 8).
	Workers int
	// Timeout bounds one attempt, connection to last byte (0: 10 s).
	Timeout time.Duration
	// Client, when set, sends the requests (tests); its transport must
	// still refuse private addresses unless AllowPrivateWebhooks.
	Client *http.Client
}

// AllowPrivateWebhooks lets endpoints on loopback, link-local and private
// addresses be registered and delivered to (serve --allow-private-webhooks;
// the tests need loopback). Off by default.
func (e *Engine) AllowPrivateWebhooks(allow bool) { e.allowPrivate.Store(allow) }

func requireTenantAdmin(a *actor) error {
	if !a.all {
		return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only",
			"only a tenant administrator may manage webhooks: an endpoint hears of the whole tenant")
	}
	return nil
}

// Webhooks lists the tenant's endpoints, oldest first.
func (e *Engine) Webhooks(ctx context.Context, c Caller) ([]usermerge.Webhook, error) {
	out := []usermerge.Webhook{}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		rows, err := tx.Webhooks(ctx, a.tenant.ID)
		for _, w := range rows {
			out = append(out, w.Webhook)
		}
		return err
	})
	return out, err
}

// Webhook returns one endpoint.
func (e *Engine) Webhook(ctx context.Context, c Caller, id int64) (usermerge.Webhook, error) {
	var w store.WebhookRow
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		w, err = tx.GetWebhook(ctx, a.tenant.ID, id)
		return err
	})
	return w.Webhook, err
}

// CreateWebhook registers an endpoint and answers it with its secret
// ("whsec_" + base64), which is shown this once and never again.
func (e *Engine) CreateWebhook(ctx context.Context, c Caller, in usermerge.WebhookInput) (usermerge.Webhook, string, error) {
	if in.URL == nil || strings.TrimSpace(*in.URL) == "" {
		return usermerge.Webhook{}, "", usermerge.Errorf(usermerge.Invalid, "url_required", "give the endpoint's URL, such as https://lms.example.com/hooks/usermerge")
	}
	w := store.WebhookRow{Webhook: usermerge.Webhook{Enabled: true, Types: []string{}}}
	if err := e.applyWebhookInput(ctx, &w, in); err != nil {
		return usermerge.Webhook{}, "", err
	}
	secret := newWebhookSecret()
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		n, err := tx.CountWebhooks(ctx, a.tenant.ID)
		if err != nil {
			return err
		}
		if n >= MaxWebhooks {
			return usermerge.Errorf(usermerge.Invalid, "too_many_webhooks", "a tenant may register at most %d endpoints; remove one first", MaxWebhooks)
		}
		if w.ID, err = tx.NextID(ctx, a.tenant.ID, "webhook"); err != nil {
			return err
		}
		w.Tenant, w.Secret, w.CreatedAt, w.CreatedBy = a.tenant.ID, secret, tx.Now, a.admin.Login
		return tx.InsertWebhook(ctx, w)
	})
	if err != nil {
		return usermerge.Webhook{}, "", err
	}
	return w.Webhook, secret, nil
}

// UpdateWebhook changes an endpoint's URL, description, types or enabled
// state (enabling one disabled as gone clears the reason; its deliveries
// that waited resume).
func (e *Engine) UpdateWebhook(ctx context.Context, c Caller, id int64, in usermerge.WebhookInput) (usermerge.Webhook, error) {
	var w store.WebhookRow
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		if w, err = tx.GetWebhook(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		if err := e.applyWebhookInput(ctx, &w, in); err != nil {
			return err
		}
		return tx.UpdateWebhook(ctx, w)
	})
	return w.Webhook, err
}

// applyWebhookInput checks the given fields and sets them on w.
func (e *Engine) applyWebhookInput(ctx context.Context, w *store.WebhookRow, in usermerge.WebhookInput) error {
	if in.URL != nil {
		u, err := e.checkWebhookURL(ctx, *in.URL)
		if err != nil {
			return err
		}
		w.URL = u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > 500 {
			return usermerge.Errorf(usermerge.Invalid, "description_too_long", "a description takes at most 500 characters")
		}
		w.Description = d
	}
	if in.Types != nil {
		types := []string{}
		for _, t := range *in.Types {
			if !slices.Contains(usermerge.EventTypes, t) {
				return usermerge.Errorf(usermerge.Invalid, "unknown_event_type", "there is no event type %q; an endpoint may want %s",
					t, usermerge.JoinWords(usermerge.EventTypes))
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		w.Types = types
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
		w.DisabledReason = ""
		if !w.Enabled {
			w.DisabledReason = "by_admin"
		}
	}
	return nil
}

// checkWebhookURL answers the URL as stored, or why it is refused: it must
// be absolute http or https, without credentials, and (unless private
// addresses are allowed) on a public address.
func (e *Engine) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(format string, args ...any) error {
		return usermerge.Errorf(usermerge.Invalid, "bad_url", format, args...)
	}
	if len(raw) > 2000 {
		return "", bad("a webhook URL takes at most 2000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", bad("%q is not an http or https URL, such as https://lms.example.com/hooks/usermerge", raw)
	}
	if u.User != nil {
		return "", bad("a webhook URL may not carry a user name or password; the signature proves who sends")
	}
	if u.Fragment != "" {
		return "", bad("a webhook URL may not have a #fragment")
	}
	if e.allowPrivate.Load() {
		return u.String(), nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if privateAddr(ip) {
			return "", privateRefusal(host)
		}
		return u.String(), nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return "", privateRefusal(host)
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "", usermerge.Errorf(usermerge.Invalid, "unknown_host", "the host %s cannot be found; check the URL", host)
	}
	for _, ip := range addrs {
		if privateAddr(ip) {
			return "", privateRefusal(host)
		}
	}
	return u.String(), nil
}

func privateRefusal(host string) error {
	return usermerge.Errorf(usermerge.Invalid, "private_address",
		"%s is a loopback, link-local or private address; webhooks go to public addresses unless the operator serves with --allow-private-webhooks", host)
}

// notPublic are the address ranges besides those netip classifies that
// no public endpoint uses: "this network", carrier-grade NAT, IETF
// protocol assignments, benchmarking, reserved and NAT64 of private ones
// is caught by unmapping.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// privateAddr reports whether ip is loopback, link-local, private,
// unspecified, multicast or otherwise not a public unicast address.
func privateAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid() {
		return true
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// errPrivateDial is the error of a connection the guard refused.
type errPrivateDial struct{ addr string }

func (e errPrivateDial) Error() string {
	return "refused: " + e.addr + " is a loopback, link-local or private address (serve --allow-private-webhooks allows it)"
}

// webhookClient sends deliveries: no proxy, no redirects followed (a 3xx
// is a failed attempt), and every connection checked against the private
// ranges after DNS, so a name that resolves to a private address later
// (DNS rebinding) is refused too.
func (e *Engine) webhookClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			if e.allowPrivate.Load() {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || privateAddr(ap.Addr()) {
				return errPrivateDial{address}
			}
			return nil
		}}
	tr := &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 5 * time.Second}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Sign answers the webhook-signature header of a message as the Standard
// Webhooks specification defines it: for each secret, "v1," and the
// base64 of the HMAC-SHA256, keyed with the secret's bytes (base64 after
// "whsec_"), of "id.timestamp.body"; several are separated by spaces.
func Sign(secrets []string, msgID, timestamp string, body []byte) string {
	var sigs []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msgID + "." + timestamp + "."))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// DeleteWebhook removes an endpoint; its pending deliveries fail.
func (e *Engine) DeleteWebhook(ctx context.Context, c Caller, id int64) error {
	return e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		return tx.DeleteWebhook(ctx, a.tenant.ID, id, "the endpoint was removed by "+a.admin.Login)
	})
}

// MaxSecretOverlap is the longest time a rotated secret keeps signing.
const MaxSecretOverlap = 7 * 24 * time.Hour

// RotateWebhookSecret gives an endpoint a new secret, answered once; for
// overlap (0: 24 h; at most 7 days) deliveries carry both signatures.
func (e *Engine) RotateWebhookSecret(ctx context.Context, c Caller, id int64, overlap time.Duration) (usermerge.Webhook, string, error) {
	if overlap == 0 {
		overlap = 24 * time.Hour
	}
	if overlap < 0 || overlap > MaxSecretOverlap {
		return usermerge.Webhook{}, "", usermerge.Errorf(usermerge.Invalid, "bad_overlap",
			"the old secret may keep signing for up to 7 days (168h), not %s", overlap)
	}
	secret := newWebhookSecret()
	var w store.WebhookRow
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		if w, err = tx.GetWebhook(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		now := tx.Now
		until := now.Add(overlap)
		w.PreviousSecret, w.PreviousUntil, w.Secret = w.Secret, until, secret
		w.SecretRotatedAt, w.PreviousSecretUntil = &now, &until
		return tx.UpdateWebhook(ctx, w)
	})
	if err != nil {
		return usermerge.Webhook{}, "", err
	}
	return w.Webhook, secret, nil
}

// TestData is the data of a webhook.test delivery.
type TestData struct {
	Tenant  string `json:"tenant"`
	Webhook int64  `json:"webhook"`
	By      string `json:"by"`
	Message string `json:"message"`
}

// TestWebhook queues a webhook.test delivery to one endpoint.
func (e *Engine) TestWebhook(ctx context.Context, c Caller, id int64) (usermerge.WebhookDelivery, error) {
	var d usermerge.WebhookDelivery
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		w, err := tx.WebhookRowOf(ctx, a.tenant.ID, id)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return usermerge.Errorf(usermerge.Conflict, "webhook_disabled", "webhook %d is disabled; enable it to send it a test", id)
		}
		data, _ := json.Marshal(TestData{Tenant: a.tenant.ID, Webhook: id, By: a.admin.Login,
			Message: "a test delivery from usermerge: the endpoint is reachable and the signature can be checked"})
		body, err := json.Marshal(usermerge.Event{Type: usermerge.EventWebhookTest, Version: usermerge.EventVersion, At: tx.Now, Data: data})
		if err != nil {
			return err
		}
		did, err := tx.InsertDelivery(ctx, a.tenant.ID, id, 0, usermerge.EventWebhookTest, "", string(body))
		if err != nil {
			return err
		}
		d, err = tx.GetDelivery(ctx, a.tenant.ID, did)
		return err
	})
	if err == nil {
		e.wakeDelivery()
	}
	return d, err
}

// WebhookDeliveries lists deliveries, newest first.
func (e *Engine) WebhookDeliveries(ctx context.Context, c Caller, f usermerge.DeliveryFilter) (usermerge.DeliveryPage, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 1000 || f.Offset < 0 {
		return usermerge.DeliveryPage{}, usermerge.Errorf(usermerge.Invalid, "bad_limit", "limit is 1 to 1000 and offset 0 or more")
	}
	if f.Status != "" && f.Status != usermerge.DeliveryPending && f.Status != usermerge.DeliveryDelivered && f.Status != usermerge.DeliveryFailed {
		return usermerge.DeliveryPage{}, usermerge.Errorf(usermerge.Invalid, "bad_status", "a delivery is pending, delivered or failed, not %q", f.Status)
	}
	var page usermerge.DeliveryPage
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		page, err = tx.Deliveries(ctx, a.tenant.ID, f)
		return err
	})
	return page, err
}

// WebhookDelivery returns one delivery with its attempts, oldest first.
func (e *Engine) WebhookDelivery(ctx context.Context, c Caller, id int64) (usermerge.WebhookDelivery, []usermerge.WebhookAttempt, error) {
	var d usermerge.WebhookDelivery
	var at []usermerge.WebhookAttempt
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		if d, err = tx.GetDelivery(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		at, err = tx.Attempts(ctx, a.tenant.ID, id)
		return err
	})
	return d, at, err
}

// ReplayDelivery sends a delivery again, whatever its status, with the same
// message id: it becomes pending, due now, its attempts kept.
func (e *Engine) ReplayDelivery(ctx context.Context, c Caller, id int64) (usermerge.WebhookDelivery, error) {
	var d usermerge.WebhookDelivery
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		if err := requireTenantAdmin(a); err != nil {
			return err
		}
		var err error
		if d, err = tx.GetDelivery(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		w, err := tx.WebhookRowOf(ctx, a.tenant.ID, d.Webhook)
		if usermerge.ErrorCode(err) == usermerge.NotFound {
			return usermerge.Errorf(usermerge.Conflict, "webhook_removed", "delivery %d went to webhook %d, which was removed", id, d.Webhook)
		}
		if err != nil {
			return err
		}
		if !w.Enabled {
			return usermerge.Errorf(usermerge.Conflict, "webhook_disabled", "delivery %d goes to webhook %d, which is disabled; enable it first", id, d.Webhook)
		}
		if err := tx.ReplayDelivery(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		d, err = tx.GetDelivery(ctx, a.tenant.ID, id)
		return err
	})
	if err == nil {
		e.wakeDelivery()
	}
	return d, err
}

// wakeDelivery tells this process's worker a delivery is due now.
func (e *Engine) wakeDelivery() {
	select {
	case e.deliveryWake <- struct{}{}:
	default:
	}
}

// DeliverWebhooks runs the delivery worker until ctx ends; the attempts
// under way then finish (each bounded by the timeout). Several processes
// on one database share the work: each due delivery is claimed by one of
// them at a time (FOR UPDATE SKIP LOCKED on PostgreSQL, a lease on both),
// and a crash mid-attempt means a redelivery with the same webhook-id,
// never a lost event.
//
// One transaction claims up to Workers deliveries and reads what sending
// them needs; the attempts that end while another is being logged are
// logged together in one transaction. A commit is what a delivery costs
// the database, so a backlog costs a few commits per Workers deliveries
// rather than two for each.
func (e *Engine) DeliverWebhooks(ctx context.Context, opt DeliveryOptions) {
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	client := opt.Client
	if client == nil {
		client = e.webhookClient()
	}
	lease := opt.Timeout + 30*time.Second
	inflight := 0
	done := make(chan struct{}, opt.Workers)            // an attempt was logged
	finished := make(chan finishedAttempt, opt.Workers) // an attempt ended
	logged := make(chan struct{})
	go func() {
		e.logAttempts(finished, done)
		close(logged)
	}()
	defer func() {
		close(finished)
		<-logged
	}()
	var claimErrs int
	for {
		for len(done) > 0 {
			<-done
			inflight--
		}
		if ctx.Err() != nil {
			for ; inflight > 0; inflight-- {
				<-done
			}
			return
		}
		var claimed []sendable
		if n := opt.Workers - inflight; n > 0 {
			err := e.db.Transact(ctx, func(tx *store.Tx) error {
				cs, err := tx.ClaimDeliveries(ctx, e.batchOwner, tx.Now.Add(lease), n)
				if err != nil {
					return err
				}
				claimed, err = e.readSendable(ctx, tx, cs)
				return err
			})
			if err != nil && ctx.Err() == nil {
				claimed = nil
				if claimErrs++; claimErrs == 1 || claimErrs%60 == 0 {
					e.log.Error("webhook deliveries: claim failed", "err", err, "times", claimErrs)
				}
			} else {
				claimErrs = 0
			}
			for _, s := range claimed {
				inflight++
				go func() { finished <- e.attempt(client, s, opt.Timeout) }()
			}
			if len(claimed) == n {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
		case <-e.db.Events():
		case <-e.deliveryWake:
		case <-done:
			inflight--
		case <-time.After(opt.Poll):
		}
	}
}

// sendable is a claimed delivery with what sending it needs.
type sendable struct {
	c    store.Claimed
	hook store.WebhookRow
	body []byte
}

// finishedAttempt is an attempt that ended, to be logged.
type finishedAttempt struct {
	c store.Claimed
	o store.Outcome
}

// readSendable reads the endpoint and the body of each claimed delivery,
// inside the claim's transaction. A delivery whose endpoint is gone (it
// was removed meanwhile, and its pending deliveries failed with it) is
// left out: its lease runs out and nothing is sent.
func (e *Engine) readSendable(ctx context.Context, tx *store.Tx, cs []store.Claimed) ([]sendable, error) {
	type key struct {
		tenant string
		id     int64
	}
	hooks := map[key]store.WebhookRow{}
	bodies := map[key][]byte{}
	out := make([]sendable, 0, len(cs))
	for _, c := range cs {
		hk := key{c.Tenant, c.Webhook}
		hook, ok := hooks[hk]
		if !ok {
			var err error
			if hook, err = tx.WebhookRowOf(ctx, c.Tenant, c.Webhook); usermerge.ErrorCode(err) == usermerge.NotFound {
				continue
			} else if err != nil {
				return nil, err
			}
			hooks[hk] = hook
		}
		s := sendable{c: c, hook: hook, body: []byte(c.Body)}
		if c.Body == "" {
			ek := key{c.Tenant, c.Event}
			if s.body = bodies[ek]; s.body == nil {
				ev, err := tx.EventRow(ctx, c.Tenant, c.Event)
				if err != nil {
					return nil, err
				}
				if s.body, err = json.Marshal(envelope(ev)); err != nil {
					return nil, err
				}
				bodies[ek] = s.body
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// attempt sends one claimed delivery and answers how it went.
func (e *Engine) attempt(client *http.Client, s sendable, timeout time.Duration) finishedAttempt {
	c := s.c
	o := store.Outcome{}
	o.At, o.N = e.db.Now().UTC(), c.Attempt
	start := time.Now()
	status, excerpt, sendErr := send(client, s.hook, c.MessageID, s.body, timeout)
	o.Millis = time.Since(start).Milliseconds()
	o.WebhookAttempt.Status, o.Response = status, excerpt
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		o.Status = usermerge.DeliveryDelivered
	case sendErr == nil && status == http.StatusGone:
		o.Status, o.Gone, o.Error = usermerge.DeliveryFailed, true, "the endpoint answered 410 Gone: it is disabled"
	default:
		if sendErr != nil {
			o.Error = describeSendError(sendErr, timeout)
		} else {
			o.Error = fmt.Sprintf("the endpoint answered %d %s", status, http.StatusText(status))
		}
		if c.Attempt >= maxAttempts() {
			o.Status = usermerge.DeliveryFailed
			o.Error += fmt.Sprintf("; that was the last of %d attempts", maxAttempts())
		} else {
			o.Status, o.NextAt = usermerge.DeliveryPending, o.At.Add(RetrySchedule[c.Attempt-1])
		}
	}
	return finishedAttempt{c, o}
}

// logAttempts logs the attempts that end, until finished is closed: the
// first waiting one with every other already waiting, in one transaction,
// and tells done once per attempt logged. When that transaction fails
// each attempt is logged in its own, so one bad row cannot lose the
// others' logs; an attempt whose log still fails keeps its lease until it
// runs out and is then sent again, under its webhook-id.
func (e *Engine) logAttempts(finished <-chan finishedAttempt, done chan<- struct{}) {
	ctx := context.Background()
	write := func(fs []finishedAttempt) error {
		return e.db.Transact(ctx, func(tx *store.Tx) error {
			for _, f := range fs {
				if _, err := tx.FinishAttempt(ctx, f.c, e.batchOwner, f.o); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var fs []finishedAttempt
	for f := range finished {
		fs = append(fs[:0], f)
	more:
		for len(fs) < cap(done) {
			select {
			case f, ok := <-finished:
				if !ok {
					break more
				}
				fs = append(fs, f)
			default:
				break more
			}
		}
		if err := write(fs); err != nil && len(fs) > 1 {
			for _, f := range fs {
				if err := write([]finishedAttempt{f}); err != nil {
					e.log.Error("webhook delivery: log attempt", "tenant", f.c.Tenant, "delivery", f.c.ID, "err", err)
				}
			}
		} else if err != nil {
			e.log.Error("webhook delivery: log attempt", "tenant", fs[0].c.Tenant, "delivery", fs[0].c.ID, "err", err)
		}
		for _, f := range fs {
			if e.afterAttempt != nil {
				e.afterAttempt(f.c, f.o)
			}
			done <- struct{}{}
		}
	}
}

// send posts body to the endpoint, signed, and answers the status and the
// answer's first KiB.
func send(client *http.Client, hook store.WebhookRow, msgID string, body []byte, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, strings.NewReader(string(body)))
	if err != nil {
		return 0, "", err
	}
	now := time.Now()
	ts := fmt.Sprint(now.Unix())
	secrets := []string{hook.Secret}
	if hook.PreviousSecret != "" && now.Before(hook.PreviousUntil) {
		secrets = append(secrets, hook.PreviousSecret)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "usermerge-webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", Sign(secrets, msgID, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	buf := make([]byte, 1024)
	n, _ := readFull(resp.Body, buf)
	return resp.StatusCode, strings.ToValidUTF8(string(buf[:n]), "\uFFFD"), nil
}

func readFull(r interface{ Read([]byte) (int, error) }, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// describeSendError says in a line why an attempt got no answer.
func describeSendError(err error, timeout time.Duration) string {
	var pd errPrivateDial
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &pd):
		return pd.Error()
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("timeout: no complete answer within %s", timeout)
	case errors.As(err, &dns):
		return "the host " + dns.Name + " cannot be found"
	case errors.As(err, &op) && op.Op == "dial":
		return "the connection was refused or could not be made"
	default:
		return "no answer: the connection failed"
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
