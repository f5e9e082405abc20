package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"usermerge/engine"
)

// TestBrowserWebhooks drives Webhooks as a tenant administrator would: a
// refused URL kept in the form with the reason, an endpoint added and its
// secret shown once, a test delivery followed to "delivered" with its
// attempt logged and replayed, the secret rotated with an overlap, the
// endpoint disabled and removed; and an editor who is not a tenant
// administrator sees no Webhooks section and is refused the page.
func TestBrowserWebhooks(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := context.Background()
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	var mu sync.Mutex
	var ids []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		mu.Unlock()
		w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(recv.Close)
	e.eng.AllowPrivateWebhooks(true)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.eng.DeliverWebhooks(wctx, engine.DeliveryOptions{Poll: 50 * time.Millisecond, Timeout: 5 * time.Second})
	}()
	t.Cleanup(func() { stop(); <-done })

	p := e.person(t)
	p.signIn("admin")
	p.press(`nav.sections a[href$="/webhooks"]`)
	p.waitFor("#add")
	p.contains("#webhook-empty", "No endpoint yet")
	p.shot("40-webhooks-empty")

	// A URL the server refuses: the form keeps what was typed.
	p.do(chromedp.SendKeys(chromedp.CSS("#hook-url"), "ftp://files.example.com/hooks"),
		chromedp.SendKeys(chromedp.CSS("#hook-desc"), "LMS gradebook"))
	p.press("#add-webhook")
	p.waitFor("#error")
	if v := p.value("#hook-url"); v != "ftp://files.example.com/hooks" {
		t.Errorf("the refused URL is not kept: %q", v)
	}
	if n, _ := e.eng.Webhooks(ctx, admin); len(n) != 0 {
		t.Fatalf("a refused endpoint was stored: %v", n)
	}
	p.shot("41-webhook-refused")

	// The endpoint: its secret once.
	p.do(chromedp.SetValue(chromedp.CSS("#hook-url"), recv.URL+"/hooks"),
		chromedp.Click(chromedp.CSS(`input[name="type"][value="merge.completed"]`)),
		chromedp.Click(chromedp.CSS(`input[name="type"][value="merge.reverted"]`)))
	p.press("#add-webhook")
	p.waitFor("#secret")
	p.contains("#secret-h", "is added")
	p.contains("main", "only time it is shown")
	secret := p.value("#secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret shown: %q", secret)
	}
	hooks, err := e.eng.Webhooks(ctx, admin)
	if err != nil || len(hooks) != 1 || hooks[0].URL != recv.URL+"/hooks" || hooks[0].Description != "LMS gradebook" ||
		strings.Join(hooks[0].Types, ",") != "merge.completed,merge.reverted" {
		t.Fatalf("the endpoint stored: %+v, %v", hooks, err)
	}
	p.shot("42-webhook-secret")
	p.press("#secret-done")
	p.waitFor("#edit-form")
	if strings.Contains(p.text("main"), secret) {
		t.Error("the endpoint's page shows the secret")
	}

	// A test delivery, followed until delivered.
	p.press("#test-webhook")
	p.waitFor("#delivery-status")
	p.contains("#flash", "webhook.test delivery is on its way")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.text("#delivery-status"), "delivered") {
		if time.Now().After(deadline) {
			t.Fatalf("the test delivery is %q after 20 s", p.text("#delivery-status"))
		}
		time.Sleep(100 * time.Millisecond)
		p.do(chromedp.Reload())
	}
	p.contains("#attempt-table", "HTTP 200", `{"received":true}`)
	msgID := p.text("#message-id")
	p.shot("43-webhook-delivery")
	p.press("#replay")
	p.waitFor("#delivery-status")
	p.contains("#flash", "same webhook-id")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(ids)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replay did not arrive")
		}
	}
	mu.Lock()
	if len(ids) != 2 || ids[0] != msgID || ids[1] != msgID {
		t.Errorf("webhook-ids received: %v, want %s twice", ids, msgID)
	}
	mu.Unlock()

	// The endpoint's page lists the delivery; rotate the secret.
	p.press(`.crumbs a[href$="/webhooks/` + strconv.FormatInt(hooks[0].ID, 10) + `"]`)
	p.waitFor("#delivery-table")
	p.contains("#delivery-table", "webhook.test", "delivered")
	p.shot("44-webhook")
	p.do(chromedp.SetValue(chromedp.CSS("#overlap"), "12"))
	p.press("#rotate-webhook")
	p.waitFor("#secret")
	p.contains("#secret-h", "new secret")
	p.contains("#overlap-note", "two signatures")
	if s := p.value("#secret"); s == secret || !strings.HasPrefix(s, "whsec_") {
		t.Errorf("the rotated secret: %q (was %q)", s, secret)
	}
	h, _ := e.eng.Webhook(ctx, admin, hooks[0].ID)
	if h.PreviousSecretUntil == nil || h.SecretRotatedAt == nil || h.PreviousSecretUntil.Sub(*h.SecretRotatedAt) != 12*time.Hour {
		t.Errorf("rotation: %+v", h)
	}
	p.shot("45-webhook-rotated")

	// Disable it: the page says its deliveries wait.
	p.press("#secret-done")
	p.waitFor("#edit-form")
	p.do(chromedp.Click(chromedp.CSS("#hook-enabled")))
	p.press("#save-webhook")
	p.waitFor("#disabled-note")
	p.contains("#flash", "disabled")
	if h, _ := e.eng.Webhook(ctx, admin, hooks[0].ID); h.Enabled || h.DisabledReason != "by_admin" {
		t.Errorf("after disabling: %+v", h)
	}

	// Remove it, after a confirmation.
	p.press("#remove-webhook")
	p.waitFor("#confirm-remove")
	p.shot("46-webhook-remove")
	p.press("#confirm-remove")
	p.waitFor("#webhook-empty")
	p.contains("#flash", "is removed")

	// Someone who is not the tenant's administrator.
	q := e.person(t)
	q.signIn("sales-editor")
	if n := q.count(`nav.sections a[href$="/webhooks"]`); n != 0 {
		t.Error("an editor sees the Webhooks section")
	}
	q.open("/ui/t/acme/webhooks")
	q.waitFor("main")
	if txt := q.text("main"); !strings.Contains(txt, "Not allowed") {
		t.Errorf("an editor's webhook page: %q", txt)
	}
}

// value is the current value of a form control.
func (p *person) value(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.fail("value of %s: %v", sel, err)
	}
	return v
}
