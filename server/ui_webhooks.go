package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
)

// The webhook screens (tenant administrators only; the engine checks):
// endpoints, a secret shown once when made or rotated, each endpoint's
// deliveries, and each delivery's attempts with a replay.

type webhooksPage struct {
	uiPage
	Webhooks []usermerge.Webhook
	Types    []string
	// Form is what the add form shows again after a refusal.
	Form webhookForm
}

type webhookForm struct {
	URL, Description string
	Types            map[string]bool
}

type webhookPage struct {
	uiPage
	Webhook    usermerge.Webhook
	Types      []string
	Selected   map[string]bool
	Deliveries []usermerge.WebhookDelivery
	Total      int
	Status     string // the deliveries' filter
	Statuses   []string
	NextURL    string
	PrevURL    string
}

type webhookSecretPage struct {
	uiPage
	Webhook usermerge.Webhook
	Secret  string
	Rotated bool
}

type deliveryPage struct {
	uiPage
	Delivery usermerge.WebhookDelivery
	Attempts []usermerge.WebhookAttempt
}

// pathID reads the {id} of a webhook's or a delivery's page: what is
// "webhook" or "delivery", for the not-found answer.
func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usermerge.Errorf(usermerge.NotFound, "no_such_"+what, "there is no %s %q", what, r.PathValue("id"))
	}
	return id, nil
}

func webhookID(r *http.Request) (int64, error)  { return pathID(r, "webhook") }
func deliveryID(r *http.Request) (int64, error) { return pathID(r, "delivery") }

// deliveryStatusClass is the pill of a delivery's status.
func deliveryStatusClass(status string) string {
	switch status {
	case usermerge.DeliveryDelivered:
		return "pill ok"
	case usermerge.DeliveryFailed:
		return "pill bad"
	}
	return "pill info"
}

func (u *uiServer) webhooks(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	return u.renderWebhooks(w, r, c, http.StatusOK, webhookForm{}, "")
}

func (u *uiServer) renderWebhooks(w http.ResponseWriter, r *http.Request, c *uiCall, status int, f webhookForm, problem string) error {
	hooks, err := u.s.eng.Webhooks(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	p := webhooksPage{uiPage: c.page, Webhooks: hooks, Types: usermerge.EventTypes, Form: f}
	p.Title, p.Section, p.Error = "Webhooks", "webhooks", problem
	return u.render(w, status, "webhooks", p)
}

// formTypes reads the event-type checkboxes: none ticked is every type.
func formTypes(r *http.Request) []string {
	types := []string{}
	for _, t := range r.PostForm["type"] {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	return types
}

func selected(types []string) map[string]bool {
	m := map[string]bool{}
	for _, t := range types {
		m[t] = true
	}
	return m
}

func (u *uiServer) doAddWebhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	in := usermerge.WebhookInput{}
	raw, desc, types := strings.TrimSpace(r.PostForm.Get("url")), strings.TrimSpace(r.PostForm.Get("description")), formTypes(r)
	in.URL, in.Description, in.Types = &raw, &desc, &types
	hook, secret, err := u.s.eng.CreateWebhook(r.Context(), c.Caller, in)
	if err != nil {
		if code := usermerge.ErrorCode(err); code == usermerge.Internal || code == usermerge.Unauthenticated || code == usermerge.Forbidden {
			return err
		}
		u.s.metrics.refused(err)
		return u.renderWebhooks(w, r, c, statusOf[usermerge.ErrorCode(err)], webhookForm{URL: raw, Description: desc, Types: selected(types)},
			usermerge.ErrorSentence(err))
	}
	return u.showSecret(w, c, hook, secret, false)
}

// showSecret answers the page that shows a new secret, the only time it is
// shown: it is never put in a redirect or a cookie, and the page is not
// stored by the browser.
func (u *uiServer) showSecret(w http.ResponseWriter, c *uiCall, hook usermerge.Webhook, secret string, rotated bool) error {
	w.Header().Set("Cache-Control", "no-store")
	p := webhookSecretPage{uiPage: c.page, Webhook: hook, Secret: secret, Rotated: rotated}
	p.Title, p.Section = "The secret of webhook "+strconv.FormatInt(hook.ID, 10), "webhooks"
	return u.render(w, http.StatusOK, "webhook_secret", p)
}

const deliveriesPerPage = 50

func (u *uiServer) webhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	hook, err := u.s.eng.Webhook(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", usermerge.DeliveryPending, usermerge.DeliveryDelivered, usermerge.DeliveryFailed:
	default:
		return usermerge.Errorf(usermerge.Invalid, "bad_status", "status must be pending, delivered or failed, not %q", status)
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	page, err := u.s.eng.WebhookDeliveries(r.Context(), c.Caller, usermerge.DeliveryFilter{Webhook: id, Status: status, Limit: deliveriesPerPage, Offset: offset})
	if err != nil {
		return err
	}
	p := webhookPage{uiPage: c.page, Webhook: hook, Types: usermerge.EventTypes, Selected: selected(hook.Types),
		Deliveries: page.Deliveries, Total: page.Total, Status: status,
		Statuses: []string{usermerge.DeliveryPending, usermerge.DeliveryDelivered, usermerge.DeliveryFailed}}
	base := c.page.T() + "/webhooks/" + strconv.FormatInt(id, 10) + "?"
	v := url.Values{}
	if status != "" {
		v.Set("status", status)
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(max(offset-deliveriesPerPage, 0)))
		p.PrevURL = base + v.Encode()
	}
	if offset+len(page.Deliveries) < page.Total {
		v.Set("offset", strconv.Itoa(offset+deliveriesPerPage))
		p.NextURL = base + v.Encode()
	}
	p.Title, p.Section = "Webhook "+strconv.FormatInt(id, 10), "webhooks"
	return u.render(w, http.StatusOK, "webhook", p)
}

func (u *uiServer) webhookURL(c *uiCall, id int64) string {
	return c.page.T() + "/webhooks/" + strconv.FormatInt(id, 10)
}

func (u *uiServer) doUpdateWebhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	raw, desc, types := strings.TrimSpace(r.PostForm.Get("url")), strings.TrimSpace(r.PostForm.Get("description")), formTypes(r)
	enabled := r.PostForm.Get("enabled") == "true"
	_, err = u.s.eng.UpdateWebhook(r.Context(), c.Caller, id, usermerge.WebhookInput{URL: &raw, Description: &desc, Types: &types, Enabled: &enabled})
	text := "The endpoint is saved."
	if !enabled {
		text = "The endpoint is saved and disabled: its deliveries wait until it is enabled again."
	}
	return u.done(w, r, u.webhookURL(c, id), text, err)
}

func (u *uiServer) doTestWebhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	d, err := u.s.eng.TestWebhook(r.Context(), c.Caller, id)
	if err != nil {
		return u.done(w, r, u.webhookURL(c, id), "", err)
	}
	u.setFlash(w, "ok", "A webhook.test delivery is on its way; this page shows its attempts.")
	return redirect(w, r, c.page.T()+"/deliveries/"+strconv.FormatInt(d.ID, 10))
}

func (u *uiServer) doRotateWebhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	hours, perr := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("overlap_hours")))
	if perr != nil || hours < 1 || hours > int(engine.MaxSecretOverlap/time.Hour) {
		return u.done(w, r, u.webhookURL(c, id), "", usermerge.Errorf(usermerge.Invalid, "bad_overlap",
			"the overlap is a whole number of hours from 1 to %d", int(engine.MaxSecretOverlap/time.Hour)))
	}
	overlap := time.Duration(hours) * time.Hour
	hook, secret, err := u.s.eng.RotateWebhookSecret(r.Context(), c.Caller, id, overlap)
	if err != nil {
		return u.done(w, r, u.webhookURL(c, id), "", err)
	}
	return u.showSecret(w, c, hook, secret, true)
}

func (u *uiServer) webhookRemoveConfirm(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	hook, err := u.s.eng.Webhook(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	p := webhookSecretPage{uiPage: c.page, Webhook: hook}
	p.Title, p.Section = "Remove webhook "+strconv.FormatInt(id, 10), "webhooks"
	return u.render(w, http.StatusOK, "webhook_remove", p)
}

func (u *uiServer) doRemoveWebhook(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	if err := u.s.eng.DeleteWebhook(r.Context(), c.Caller, id); err != nil {
		return u.done(w, r, u.webhookURL(c, id), "", err)
	}
	return u.done(w, r, c.page.T()+"/webhooks", "Webhook "+strconv.FormatInt(id, 10)+" is removed; its pending deliveries are marked failed.", nil)
}

func (u *uiServer) delivery(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := deliveryID(r)
	if err != nil {
		return err
	}
	d, attempts, err := u.s.eng.WebhookDelivery(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	p := deliveryPage{uiPage: c.page, Delivery: d, Attempts: attempts}
	if d.Status == usermerge.DeliveryPending {
		p.Refresh = 5
	}
	p.Title, p.Section = "Delivery "+strconv.FormatInt(id, 10), "webhooks"
	return u.render(w, http.StatusOK, "delivery", p)
}

func (u *uiServer) doReplayDelivery(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := deliveryID(r)
	if err != nil {
		return err
	}
	_, err = u.s.eng.ReplayDelivery(r.Context(), c.Caller, id)
	return u.done(w, r, c.page.T()+"/deliveries/"+strconv.FormatInt(id, 10),
		"The delivery is sent again, with the same webhook-id: a receiver that already has it can tell.", err)
}
