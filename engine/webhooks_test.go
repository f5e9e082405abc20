package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// verifySignature checks a delivery as a receiver would, written from the
// text of the Standard Webhooks specification alone: the signed content
// is the webhook-id, the webhook-timestamp and the raw body joined by
// full stops; the key is the base64 part of the whsec_ secret; the
// webhook-signature header is a space-separated list of "v1,<base64
// HMAC-SHA256>" of which one must match; the timestamp must be within
// five minutes of now.
func verifySignature(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("a webhook header is missing")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not whole seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s away from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret %q is not whsec_ and base64", secret)
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+ts+".")
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// received is one request the test receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real HTTP endpoint on loopback that records every request
// and answers what answer says (200 when nil).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request) int // n: 1-based count of requests so far
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, at: time.Now()})
		n, answer := len(rc.got), rc.answer
		rc.mu.Unlock()
		status := http.StatusOK
		if answer != nil {
			status = answer(n, r)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d to request %d", status, n)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// hookFixture is a fixture whose clock the test moves, with private
// addresses allowed, a delivery worker running and a hook that tells each
// logged attempt.
type hookFixture struct {
	*fixture
	clock    atomic.Int64 // ms
	attempts chan store.Outcome
}

func newHookFixture(t *testing.T) *hookFixture {
	return newHookFixtureAt(t, storetest.URL(t))
}

func newHookFixtureAt(t *testing.T, url string) *hookFixture {
	h := &hookFixture{fixture: newFixtureAt(t, "learningbox", url), attempts: make(chan store.Outcome, 1000)}
	h.clock.Store(base.UnixMilli())
	h.db.Now = func() time.Time { return time.UnixMilli(h.clock.Load()).UTC() }
	h.e.AllowPrivateWebhooks(true)
	h.e.afterAttempt = func(_ store.Claimed, o store.Outcome) { h.attempts <- o }
	h.account("T", "sales")
	h.account("S", "sales")
	h.account("R", "sales")
	h.rec("external_ids", "x1", "S", "system", "sso", "value", "s-1")
	return h
}

// work runs the delivery worker until the test ends.
func (h *hookFixture) work(t *testing.T, timeout time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.e.DeliverWebhooks(ctx, DeliveryOptions{Poll: 20 * time.Millisecond, Timeout: timeout})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func (h *hookFixture) advance(d time.Duration) { h.clock.Add(d.Milliseconds()) }

// nextAttempt waits for the next logged attempt.
func (h *hookFixture) nextAttempt(t *testing.T) store.Outcome {
	t.Helper()
	select {
	case o := <-h.attempts:
		return o
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery attempt within 15 s")
		return store.Outcome{}
	}
}

// noAttempt checks that no attempt happens for a while.
func (h *hookFixture) noAttempt(t *testing.T, why string) {
	t.Helper()
	select {
	case o := <-h.attempts:
		t.Fatalf("%s: an attempt happened: %+v", why, o)
	case <-time.After(300 * time.Millisecond):
	}
}

func (h *hookFixture) hook(t *testing.T, url string, types ...string) (usermerge.Webhook, string) {
	t.Helper()
	in := usermerge.WebhookInput{URL: &url}
	if types != nil {
		in.Types = &types
	}
	w, secret, err := h.e.CreateWebhook(h.ctx, h.as("admin"), in)
	if err != nil {
		t.Fatal(err)
	}
	return w, secret
}

func (h *hookFixture) deliveries(t *testing.T, hook int64) []usermerge.WebhookDelivery {
	t.Helper()
	page, err := h.e.WebhookDeliveries(h.ctx, h.as("admin"), usermerge.DeliveryFilter{Webhook: hook, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Deliveries
}

// TestWebhookDeliveredSigned: a merge reaches a real receiver after commit,
// signed so that a verifier written from the specification accepts it,
// with the feed's envelope as its body; the attempt is logged with its
// status and the answer's first bytes.
func TestWebhookDeliveredSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		w, secret := h.hook(t, rc.srv.URL+"/hooks")
		if !strings.HasPrefix(secret, "whsec_") || !w.Enabled || len(w.Types) != 0 {
			t.Fatalf("new webhook %+v, secret %q", w, secret)
		}
		h.work(t, 2*time.Second)
		ms := h.merge("T", "S")
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryDelivered || o.WebhookAttempt.Status != 200 || o.N != 1 {
			t.Fatalf("attempt: %+v", o)
		}
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		if err := verifySignature(secret, r.header, r.body, r.at); err != nil {
			t.Errorf("signature: %v", err)
		}
		if err := verifySignature(newWebhookSecret(), r.header, r.body, r.at); err == nil {
			t.Error("a signature verified with another secret")
		}
		tampered := append([]byte(nil), r.body...)
		tampered[len(tampered)-2] = ' '
		if err := verifySignature(secret, r.header, tampered, r.at); err == nil {
			t.Error("a changed body verified")
		}
		if err := verifySignature(secret, r.header, r.body, r.at.Add(6*time.Minute)); err == nil {
			t.Error("a six-minute-old timestamp verified")
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		var ev usermerge.Event
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		feed := h.feed()
		if len(feed) != 1 || ev.ID != feed[0].ID || ev.Type != usermerge.EventMergeCompleted || ev.Version != 1 || !ev.At.Equal(feed[0].At) ||
			string(ev.Data) != string(feed[0].Data) {
			t.Errorf("body %s, feed %+v", r.body, feed)
		}
		if id := r.header.Get("webhook-id"); id != fmt.Sprintf("msg_%s_%d_%d", h.tenant, ev.ID, w.ID) {
			t.Errorf("webhook-id %q", id)
		}
		var data usermerge.MergeCompletedData
		json.Unmarshal(ev.Data, &data)
		if data.Kept.ID != "T" || len(data.Merged) != 1 || data.Merged[0].Merge != ms[0].ID || !data.DataMoved {
			t.Errorf("data %s", ev.Data)
		}
		ds := h.deliveries(t, w.ID)
		if len(ds) != 1 || ds[0].Status != usermerge.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].LastStatus != 200 || ds[0].DoneAt == nil ||
			ds[0].Event != ev.ID || ds[0].MessageID != r.header.Get("webhook-id") {
			t.Fatalf("deliveries %+v", ds)
		}
		d, at, err := h.e.WebhookDelivery(h.ctx, h.as("admin"), ds[0].ID)
		if err != nil || d.ID != ds[0].ID || len(at) != 1 || at[0].N != 1 || at[0].Status != 200 || at[0].Response != "answer 200 to request 1" || at[0].Error != "" {
			t.Errorf("delivery %+v, attempts %+v, %v", d, at, err)
		}
		if w, _ := h.e.Webhook(h.ctx, h.as("admin"), w.ID); w.Delivered != 1 || w.Pending != 0 || w.Failed != 0 {
			t.Errorf("counts %+v", w)
		}
	})
}

// TestWebhookRetries: failed attempts are retried on the growing schedule
// with the same webhook-id, each logged; 2xx ends it; after the last
// attempt the delivery has failed.
func TestWebhookRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		rc.answer = func(n int, r *http.Request) int {
			if strings.HasPrefix(r.URL.Path, "/never") || n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		}
		w, secret := h.hook(t, rc.srv.URL+"/once")
		h.work(t, 2*time.Second)
		h.merge("T", "S")
		start := time.UnixMilli(h.clock.Load())
		o := h.nextAttempt(t)
		if o.Status != usermerge.DeliveryPending || o.WebhookAttempt.Status != 503 || !o.NextAt.Equal(start.Add(5*time.Second)) {
			t.Fatalf("first attempt %+v", o)
		}
		h.noAttempt(t, "before the retry is due")
		h.advance(5 * time.Second)
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryPending || o.N != 2 || !o.NextAt.Equal(start.Add(5*time.Second+time.Minute)) {
			t.Fatalf("second attempt %+v", o)
		}
		h.advance(time.Minute)
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryDelivered || o.N != 3 || o.WebhookAttempt.Status != 204 {
			t.Fatalf("third attempt %+v", o)
		}
		got := rc.requests()
		if len(got) != 3 {
			t.Fatalf("%d requests, want 3", len(got))
		}
		for _, r := range got {
			if r.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
				t.Errorf("webhook-id changed between attempts: %q, %q", got[0].header.Get("webhook-id"), r.header.Get("webhook-id"))
			}
			if err := verifySignature(secret, r.header, r.body, r.at); err != nil {
				t.Error(err)
			}
		}
		ds := h.deliveries(t, w.ID)
		_, at, _ := h.e.WebhookDelivery(h.ctx, h.as("admin"), ds[0].ID)
		if len(at) != 3 || at[0].Status != 503 || at[0].Error != "the endpoint answered 503 Service Unavailable" || at[2].Status != 204 {
			t.Errorf("attempts %+v", at)
		}

		// An endpoint that never succeeds: ten attempts over the schedule,
		// then failed.
		never, _ := h.hook(t, rc.srv.URL+"/never", usermerge.EventMergeReverted)
		h.e.UpdateWebhook(h.ctx, h.as("admin"), w.ID, usermerge.WebhookInput{Enabled: ptr(false)})
		h.revert(h.feedMerges()...)
		var total time.Duration
		for n := 1; n <= maxAttempts(); n++ {
			o := h.nextAttempt(t)
			if o.N != n {
				t.Fatalf("attempt %d numbered %d", n, o.N)
			}
			if n < maxAttempts() {
				if o.Status != usermerge.DeliveryPending {
					t.Fatalf("attempt %d: %+v", n, o)
				}
				h.advance(RetrySchedule[n-1])
				total += RetrySchedule[n-1]
			} else if o.Status != usermerge.DeliveryFailed || !strings.Contains(o.Error, "last of 10 attempts") {
				t.Fatalf("last attempt %+v", o)
			}
		}
		if total < 60*time.Hour || total > 84*time.Hour {
			t.Errorf("the retries span %s, not about three days", total)
		}
		if ds := h.deliveries(t, never.ID); len(ds) != 1 || ds[0].Status != usermerge.DeliveryFailed || ds[0].Attempts != 10 || ds[0].NextAt != nil {
			t.Errorf("never-deliverable: %+v", ds)
		}
	})
}

// feedMerges lists the merge ids of the merge.completed events.
func (h *hookFixture) feedMerges() []int64 {
	var ids []int64
	for _, ev := range h.feed(usermerge.EventMergeCompleted) {
		var d usermerge.MergeCompletedData
		json.Unmarshal(ev.Data, &d)
		for _, m := range d.Merged {
			ids = append(ids, m.Merge)
		}
	}
	return ids
}

// TestWebhookGoneTimeoutReplay: a 410 disables the endpoint (no new
// deliveries until enabled again); a slow receiver times out and is
// retried; a replay sends a delivery again with the same webhook-id.
func TestWebhookGoneTimeoutReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		slow := make(chan struct{})
		t.Cleanup(func() { close(slow) })
		rc.answer = func(n int, r *http.Request) int {
			switch r.URL.Path {
			case "/gone":
				return http.StatusGone
			case "/slow":
				select {
				case <-slow:
				case <-r.Context().Done():
				}
			}
			return http.StatusOK
		}
		gone, _ := h.hook(t, rc.srv.URL+"/gone")
		h.work(t, 300*time.Millisecond)
		ms := h.merge("T", "S")
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryFailed || !o.Gone || o.WebhookAttempt.Status != 410 {
			t.Fatalf("410 attempt %+v", o)
		}
		w, _ := h.e.Webhook(h.ctx, h.as("admin"), gone.ID)
		if w.Enabled || w.DisabledReason != "gone" || w.Failed != 1 {
			t.Fatalf("after 410: %+v", w)
		}
		h.revert(ms[0].ID)
		h.noAttempt(t, "a disabled endpoint")
		if ds := h.deliveries(t, gone.ID); len(ds) != 1 {
			t.Errorf("a disabled endpoint got new deliveries: %+v", ds)
		}
		if w, err := h.e.UpdateWebhook(h.ctx, h.as("admin"), gone.ID, usermerge.WebhookInput{Enabled: ptr(true)}); err != nil || !w.Enabled || w.DisabledReason != "" {
			t.Fatalf("enable again: %+v, %v", w, err)
		}
		h.e.UpdateWebhook(h.ctx, h.as("admin"), gone.ID, usermerge.WebhookInput{URL: ptr(rc.srv.URL + "/ok")})
		// Replay of the failed delivery: same id, pending, then delivered.
		first := h.deliveries(t, gone.ID)[0]
		d, err := h.e.ReplayDelivery(h.ctx, h.as("admin"), first.ID)
		if err != nil || d.Status != usermerge.DeliveryPending || d.NextAt == nil {
			t.Fatalf("replay: %+v, %v", d, err)
		}
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryDelivered || o.N != 2 {
			t.Fatalf("replayed attempt %+v", o)
		}
		got := rc.requests()
		if len(got) != 2 || got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") || string(got[0].body) != string(got[1].body) {
			t.Errorf("replay sent another message: %+v", got)
		}

		// A receiver slower than the timeout: the attempt is cut off,
		// logged as a timeout and retried.
		h.e.UpdateWebhook(h.ctx, h.as("admin"), gone.ID, usermerge.WebhookInput{URL: ptr(rc.srv.URL + "/slow")})
		h.merge("T", "S")
		o := h.nextAttempt(t)
		if o.Status != usermerge.DeliveryPending || o.WebhookAttempt.Status != 0 || !strings.HasPrefix(o.Error, "timeout") || o.Millis > 5000 {
			t.Fatalf("slow attempt %+v", o)
		}
	})
}

// TestWebhookTypesAndTests: an endpoint hears only the types it wants; a
// test delivery goes to one endpoint and not into the feed.
func TestWebhookTypesAndTests(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		reverts, _ := h.hook(t, rc.srv.URL+"/reverts", usermerge.EventMergeReverted)
		all, secret := h.hook(t, rc.srv.URL+"/all")
		h.work(t, 2*time.Second)
		ms := h.merge("T", "S")
		h.nextAttempt(t)
		h.revert(ms[0].ID)
		h.nextAttempt(t)
		h.nextAttempt(t)
		paths := map[string][]string{}
		for _, r := range rc.requests() {
			var ev usermerge.Event
			json.Unmarshal(r.body, &ev)
			paths[ev.Type] = append(paths[ev.Type], r.header.Get("webhook-id"))
		}
		if len(paths[usermerge.EventMergeCompleted]) != 1 || len(paths[usermerge.EventMergeReverted]) != 2 {
			t.Errorf("deliveries by type: %v", paths)
		}
		if ds := h.deliveries(t, reverts.ID); len(ds) != 1 || ds[0].EventType != usermerge.EventMergeReverted {
			t.Errorf("the revert-only endpoint: %+v", ds)
		}
		d, err := h.e.TestWebhook(h.ctx, h.as("admin"), all.ID)
		if err != nil || d.Event != 0 || d.EventType != usermerge.EventWebhookTest {
			t.Fatalf("test delivery %+v, %v", d, err)
		}
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryDelivered {
			t.Fatalf("test attempt %+v", o)
		}
		got := rc.requests()
		last := got[len(got)-1]
		var ev usermerge.Event
		json.Unmarshal(last.body, &ev)
		if ev.Type != usermerge.EventWebhookTest || verifySignature(secret, last.header, last.body, last.at) != nil ||
			last.header.Get("webhook-id") != fmt.Sprintf("msg_%s_test_%d", h.tenant, d.ID) {
			t.Errorf("test delivery: %s %v", last.body, last.header)
		}
		for _, e := range h.feed() {
			if e.Type == usermerge.EventWebhookTest {
				t.Error("a test delivery is in the feed")
			}
		}
	})
}

// TestWebhookRotation: after a rotation, deliveries carry a signature of
// each secret until the overlap ends, then of the new one only.
func TestWebhookRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		w, old := h.hook(t, rc.srv.URL)
		rotated, fresh, err := h.e.RotateWebhookSecret(h.ctx, h.as("admin"), w.ID, 2*time.Hour)
		if err != nil || fresh == old || !strings.HasPrefix(fresh, "whsec_") || rotated.PreviousSecretUntil == nil ||
			!rotated.PreviousSecretUntil.Equal(base.Add(2*time.Hour)) {
			t.Fatalf("rotate: %+v, %v", rotated, err)
		}
		for _, bad := range []time.Duration{-time.Second, 8 * 24 * time.Hour} {
			if _, _, err := h.e.RotateWebhookSecret(h.ctx, h.as("admin"), w.ID, bad); usermerge.ErrorReason(err) != "bad_overlap" {
				t.Errorf("overlap %s: %v", bad, err)
			}
		}
		h.work(t, 2*time.Second)
		// The worker signs with the wall clock's now against the stored
		// overlap, which the fixture's clock set two hours after base.
		h.tx(func(tx *store.Tx) error {
			_, err := tx.Exec(h.ctx, `UPDATE webhooks SET previous_until = ? WHERE tenant_id = ? AND id = ?`, time.Now().Add(time.Hour).UnixMilli(), h.tenant, w.ID)
			return err
		})
		h.merge("T", "S")
		h.nextAttempt(t)
		r := rc.requests()[0]
		if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
			t.Errorf("%d signatures during the overlap, want 2", n)
		}
		if verifySignature(old, r.header, r.body, r.at) != nil || verifySignature(fresh, r.header, r.body, r.at) != nil {
			t.Error("during the overlap, old and new secret must both verify")
		}
		h.tx(func(tx *store.Tx) error {
			_, err := tx.Exec(h.ctx, `UPDATE webhooks SET previous_until = ? WHERE tenant_id = ? AND id = ?`, time.Now().Add(-time.Second).UnixMilli(), h.tenant, w.ID)
			return err
		})
		h.revert(h.feedMerges()...)
		h.nextAttempt(t)
		r = rc.requests()[1]
		if verifySignature(old, r.header, r.body, r.at) == nil || verifySignature(fresh, r.header, r.body, r.at) != nil {
			t.Errorf("after the overlap only the new secret verifies: %q", r.header.Get("webhook-signature"))
		}
	})
}

// TestWebhookRedeliveryAfterCrash: a delivery claimed by a worker that
// never finished (its process died) is sent again with the same
// webhook-id once the lease runs out, and the lost attempt is logged as
// interrupted.
func TestWebhookRedeliveryAfterCrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		h := newHookFixture(t)
		rc := newReceiver(t)
		w, _ := h.hook(t, rc.srv.URL)
		h.merge("T", "S")
		var claimed []store.Claimed
		h.tx(func(tx *store.Tx) error {
			var err error
			claimed, err = tx.ClaimDeliveries(h.ctx, "dead-worker", tx.Now.Add(40*time.Second), 8)
			return err
		})
		if len(claimed) != 1 || claimed[0].Attempt != 1 || claimed[0].Interrupted {
			t.Fatalf("claimed %+v", claimed)
		}
		h.work(t, 2*time.Second)
		h.noAttempt(t, "while the dead worker's lease lasts")
		h.advance(41 * time.Second)
		if o := h.nextAttempt(t); o.Status != usermerge.DeliveryDelivered || o.N != 2 {
			t.Fatalf("redelivery %+v", o)
		}
		got := rc.requests()
		if len(got) != 1 || got[0].header.Get("webhook-id") != claimed[0].MessageID {
			t.Fatalf("redelivered %d requests, id %q, want %q", len(got), got[0].header.Get("webhook-id"), claimed[0].MessageID)
		}
		ds := h.deliveries(t, w.ID)
		_, at, _ := h.e.WebhookDelivery(h.ctx, h.as("admin"), ds[0].ID)
		if len(at) != 2 || !strings.HasPrefix(at[0].Error, "interrupted") || at[1].Status != 200 {
			t.Errorf("attempts %+v", at)
		}
		// The dead worker, were it to come back, cannot log over it.
		h.tx(func(tx *store.Tx) error {
			ok, err := tx.FinishAttempt(h.ctx, claimed[0], "dead-worker", store.Outcome{Status: usermerge.DeliveryFailed})
			if ok {
				t.Error("a worker whose lease ran out logged its attempt")
			}
			return err
		})
	})
}

// TestWebhookPrivateAddresses: without the operator's flag, endpoints on
// loopback, private, link-local and other non-public addresses are
// refused at registration, and a connection to one is refused at
// delivery (a name that later resolves to one: DNS rebinding).
func TestWebhookPrivateAddresses(t *testing.T) {
	h := newHookFixture(t)
	rc := newReceiver(t)
	h.e.AllowPrivateWebhooks(false)
	for _, u := range []string{"http://127.0.0.1:9/x", "https://10.1.2.3/x", "https://192.168.0.10/", "https://172.16.5.4/", "http://169.254.169.254/latest/meta-data",
		"http://[::1]:8080/", "http://[fe80::1]/", "http://[fd00::1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://localhost:8080/", "http://api.localhost/",
		"http://[::ffff:127.0.0.1]/", "http://224.0.0.1/"} {
		_, _, err := h.e.CreateWebhook(h.ctx, h.as("admin"), usermerge.WebhookInput{URL: ptr(u)})
		if usermerge.ErrorReason(err) != "private_address" {
			t.Errorf("%s: %v, want private_address", u, err)
		}
	}
	if _, _, err := h.e.CreateWebhook(h.ctx, h.as("admin"), usermerge.WebhookInput{URL: ptr("https://93.184.216.34/hooks")}); err != nil {
		t.Errorf("a public address was refused: %v", err)
	}
	// Registered while allowed, delivered while not: the dialer refuses.
	h.e.AllowPrivateWebhooks(true)
	h.hook(t, rc.srv.URL)
	h.e.AllowPrivateWebhooks(false)
	h.e.UpdateWebhook(h.ctx, h.as("admin"), 1, usermerge.WebhookInput{Enabled: ptr(false)})
	h.work(t, 2*time.Second)
	h.merge("T", "S")
	o := h.nextAttempt(t)
	if o.Status != usermerge.DeliveryPending || !strings.Contains(o.Error, "private address") || len(rc.requests()) != 0 {
		t.Errorf("delivery to loopback without the flag: %+v, %d requests", o, len(rc.requests()))
	}
	if _, _, err := h.e.CreateWebhook(h.ctx, h.as("admin"), usermerge.WebhookInput{URL: ptr("https://no-such-host.invalid/x")}); usermerge.ErrorReason(err) != "unknown_host" {
		t.Errorf("unknown host: %v", err)
	}
}

// TestWebhookInputAndAccess: bad input is refused with a reason and no
// change; group managers cannot see or manage endpoints; another tenant's
// endpoint is not found.
func TestWebhookInputAndAccess(t *testing.T) {
	h := newHookFixture(t)
	long := strings.Repeat("d", 501)
	for _, c := range []struct {
		in     usermerge.WebhookInput
		reason string
	}{
		{usermerge.WebhookInput{}, "url_required"},
		{usermerge.WebhookInput{URL: ptr("  ")}, "url_required"},
		{usermerge.WebhookInput{URL: ptr("ftp://example.com/x")}, "bad_url"},
		{usermerge.WebhookInput{URL: ptr("/relative")}, "bad_url"},
		{usermerge.WebhookInput{URL: ptr("https://user:pw@example.com/")}, "bad_url"},
		{usermerge.WebhookInput{URL: ptr("https://example.com/" + strings.Repeat("x", 2000))}, "bad_url"},
		{usermerge.WebhookInput{URL: ptr("http://127.0.0.1/"), Types: &[]string{"merge.deleted"}}, "unknown_event_type"},
		{usermerge.WebhookInput{URL: ptr("http://127.0.0.1/"), Types: &[]string{usermerge.EventWebhookTest}}, "unknown_event_type"},
		{usermerge.WebhookInput{URL: ptr("http://127.0.0.1/"), Description: &long}, "description_too_long"},
	} {
		if _, _, err := h.e.CreateWebhook(h.ctx, h.as("admin"), c.in); usermerge.ErrorReason(err) != c.reason {
			t.Errorf("%+v: %v, want %s", c.in, err, c.reason)
		}
	}
	if ws, _ := h.e.Webhooks(h.ctx, h.as("admin")); len(ws) != 0 {
		t.Fatalf("refused input registered %+v", ws)
	}
	w, _ := h.hook(t, "http://127.0.0.1:9/a", usermerge.EventMergeCompleted, usermerge.EventMergeCompleted)
	if len(w.Types) != 1 {
		t.Errorf("types not deduplicated: %v", w.Types)
	}
	if _, err := h.e.UpdateWebhook(h.ctx, h.as("admin"), w.ID, usermerge.WebhookInput{URL: ptr("nope")}); usermerge.ErrorReason(err) != "bad_url" {
		t.Errorf("update with a bad URL: %v", err)
	}
	if got, _ := h.e.Webhook(h.ctx, h.as("admin"), w.ID); got.URL != "http://127.0.0.1:9/a" {
		t.Errorf("a refused update changed the URL to %q", got.URL)
	}
	for _, who := range []string{"sales-editor", "eng-viewer"} {
		if _, err := h.e.Webhooks(h.ctx, h.as(who)); usermerge.ErrorReason(err) != "tenant_admin_only" {
			t.Errorf("%s lists webhooks: %v", who, err)
		}
		if _, _, err := h.e.CreateWebhook(h.ctx, h.as(who), usermerge.WebhookInput{URL: ptr("http://127.0.0.1/")}); usermerge.ErrorReason(err) != "tenant_admin_only" {
			t.Errorf("%s creates a webhook: %v", who, err)
		}
		if _, err := h.e.WebhookDeliveries(h.ctx, h.as(who), usermerge.DeliveryFilter{}); usermerge.ErrorReason(err) != "tenant_admin_only" {
			t.Errorf("%s lists deliveries: %v", who, err)
		}
	}
	other := h.otherTenant()
	if _, err := h.e.Webhook(h.ctx, other, w.ID); usermerge.ErrorCode(err) != usermerge.NotFound {
		t.Errorf("another tenant reads webhook %d: %v", w.ID, err)
	}
	if err := h.e.DeleteWebhook(h.ctx, other, w.ID); usermerge.ErrorCode(err) != usermerge.NotFound {
		t.Errorf("another tenant deletes webhook %d: %v", w.ID, err)
	}
	for i := 1; i < MaxWebhooks; i++ {
		h.hook(t, fmt.Sprintf("http://127.0.0.1:9/%d", i))
	}
	if _, _, err := h.e.CreateWebhook(h.ctx, h.as("admin"), usermerge.WebhookInput{URL: ptr("http://127.0.0.1/")}); usermerge.ErrorReason(err) != "too_many_webhooks" {
		t.Errorf("endpoint %d: %v", MaxWebhooks+1, err)
	}
	if _, err := h.e.WebhookDeliveries(h.ctx, h.as("admin"), usermerge.DeliveryFilter{Status: "lost"}); usermerge.ErrorReason(err) != "bad_status" {
		t.Errorf("bad status filter: %v", err)
	}
	// Deleting an endpoint fails its pending deliveries; a replay of one
	// is refused.
	h.merge("T", "S")
	if err := h.e.DeleteWebhook(h.ctx, h.as("admin"), w.ID); err != nil {
		t.Fatal(err)
	}
	ds := h.deliveries(t, w.ID)
	if len(ds) != 1 || ds[0].Status != usermerge.DeliveryFailed || !strings.Contains(ds[0].LastError, "removed by admin") {
		t.Fatalf("after delete: %+v", ds)
	}
	if _, err := h.e.ReplayDelivery(h.ctx, h.as("admin"), ds[0].ID); usermerge.ErrorReason(err) != "webhook_removed" {
		t.Errorf("replay to a removed endpoint: %v", err)
	}
}

// TestWebhookTwoInstances: two engines on two connections to one database,
// both delivering, send each event once (PostgreSQL: FOR UPDATE SKIP
// LOCKED; SQLite: one writer at a time).
func TestWebhookTwoInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		url := storetest.URL(t)
		h := newHookFixtureAt(t, url)
		second := newHookFixtureAt2(t, url, h)
		rc := newReceiver(t)
		rc.answer = func(int, *http.Request) int { time.Sleep(5 * time.Millisecond); return http.StatusOK }
		for i := 0; i < 3; i++ {
			h.hook(t, fmt.Sprintf("%s/%d", rc.srv.URL, i))
		}
		h.work(t, 2*time.Second)
		second.work(t, 2*time.Second)
		const rounds = 15
		for i := 0; i < rounds; i++ {
			on := h.fixture
			if i%2 == 1 {
				on = second.fixture
			}
			ms := on.merge("T", "S")
			on.revert(ms[0].ID)
		}
		want := rounds * 2 * 3
		deadline := time.Now().Add(30 * time.Second)
		for len(rc.requests()) < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		seen := map[string]int{}
		for _, r := range rc.requests() {
			seen[r.header.Get("webhook-id")]++
		}
		if len(seen) != want {
			t.Errorf("%d distinct messages, want %d", len(seen), want)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s delivered %d times", id, n)
			}
		}
		by := [2]int{}
		for len(h.attempts) > 0 {
			<-h.attempts
			by[0]++
		}
		for len(second.attempts) > 0 {
			<-second.attempts
			by[1]++
		}
		t.Logf("deliveries by instance: %v", by)
		if by[0]+by[1] != want {
			t.Errorf("attempts %v, want %d in all", by, want)
		}
		if h.db.Dialect() == "postgres" && (by[0] == 0 || by[1] == 0) {
			t.Errorf("one instance did all the work: %v", by)
		}
	})
}

// newHookFixtureAt2 opens a second engine on the database of h (a second
// instance): same clock, its own connections and worker.
func newHookFixtureAt2(t *testing.T, url string, h *hookFixture) *hookFixture {
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = h.db.Now
	f := &fixture{t: t, ctx: context.Background(), db: db, tenant: h.tenant, e: New(db, nil)}
	s := &hookFixture{fixture: f, attempts: make(chan store.Outcome, 1000)}
	s.e.AllowPrivateWebhooks(true)
	s.e.afterAttempt = func(_ store.Claimed, o store.Outcome) { s.attempts <- o }
	return s
}
