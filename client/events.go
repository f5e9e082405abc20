package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"usermerge"
	"usermerge/engine"
)

// The events calls (PRODUCT.md §13): the feed, resolve and webhooks, with
// the engine's signatures.

// Events is engine.Engine.Events.
func (c *Client) Events(ctx context.Context, caller engine.Caller, f usermerge.EventFilter) (usermerge.EventPage, error) {
	q := url.Values{}
	if f.After > 0 {
		q.Set("after", strconv.FormatInt(f.After, 10))
	}
	for _, t := range f.Types {
		q.Add("type", t)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out usermerge.EventPage
	err := c.call(ctx, caller, "GET", "/events", q, nil, &out)
	return out, err
}

// Resolve is engine.Engine.Resolve.
func (c *Client) Resolve(ctx context.Context, caller engine.Caller, refs []string) ([]usermerge.Resolution, error) {
	var out struct {
		Resolutions []usermerge.Resolution `json:"resolutions"`
	}
	err := c.call(ctx, caller, "POST", "/resolve", nil, map[string][]string{"refs": refs}, &out)
	return out.Resolutions, err
}

func webhookPath(id int64, rest string) string {
	return "/webhooks/" + strconv.FormatInt(id, 10) + rest
}

type webhookSecret struct {
	Webhook usermerge.Webhook `json:"webhook"`
	Secret  string            `json:"secret"`
}

// Webhooks is engine.Engine.Webhooks.
func (c *Client) Webhooks(ctx context.Context, caller engine.Caller) ([]usermerge.Webhook, error) {
	var out struct {
		Webhooks []usermerge.Webhook `json:"webhooks"`
	}
	err := c.call(ctx, caller, "GET", "/webhooks", nil, nil, &out)
	return out.Webhooks, err
}

// Webhook is engine.Engine.Webhook.
func (c *Client) Webhook(ctx context.Context, caller engine.Caller, id int64) (usermerge.Webhook, error) {
	var out usermerge.Webhook
	err := c.call(ctx, caller, "GET", webhookPath(id, ""), nil, nil, &out)
	return out, err
}

// CreateWebhook is engine.Engine.CreateWebhook.
func (c *Client) CreateWebhook(ctx context.Context, caller engine.Caller, in usermerge.WebhookInput) (usermerge.Webhook, string, error) {
	var out webhookSecret
	err := c.call(ctx, caller, "POST", "/webhooks", nil, in, &out)
	return out.Webhook, out.Secret, err
}

// UpdateWebhook is engine.Engine.UpdateWebhook.
func (c *Client) UpdateWebhook(ctx context.Context, caller engine.Caller, id int64, in usermerge.WebhookInput) (usermerge.Webhook, error) {
	var out usermerge.Webhook
	err := c.call(ctx, caller, "PATCH", webhookPath(id, ""), nil, in, &out)
	return out, err
}

// DeleteWebhook is engine.Engine.DeleteWebhook.
func (c *Client) DeleteWebhook(ctx context.Context, caller engine.Caller, id int64) error {
	return c.call(ctx, caller, "DELETE", webhookPath(id, ""), nil, nil, nil)
}

// RotateWebhookSecret is engine.Engine.RotateWebhookSecret.
func (c *Client) RotateWebhookSecret(ctx context.Context, caller engine.Caller, id int64, overlap time.Duration) (usermerge.Webhook, string, error) {
	body := map[string]string{}
	if overlap != 0 {
		body["overlap"] = overlap.String()
	}
	var out webhookSecret
	err := c.call(ctx, caller, "POST", webhookPath(id, "/rotate-secret"), nil, body, &out)
	return out.Webhook, out.Secret, err
}

// TestWebhook is engine.Engine.TestWebhook.
func (c *Client) TestWebhook(ctx context.Context, caller engine.Caller, id int64) (usermerge.WebhookDelivery, error) {
	var out usermerge.WebhookDelivery
	err := c.call(ctx, caller, "POST", webhookPath(id, "/test"), nil, nil, &out)
	return out, err
}

// WebhookDeliveries is engine.Engine.WebhookDeliveries.
func (c *Client) WebhookDeliveries(ctx context.Context, caller engine.Caller, f usermerge.DeliveryFilter) (usermerge.DeliveryPage, error) {
	q := url.Values{}
	if f.Webhook > 0 {
		q.Set("webhook", strconv.FormatInt(f.Webhook, 10))
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	var out usermerge.DeliveryPage
	err := c.call(ctx, caller, "GET", "/deliveries", q, nil, &out)
	return out, err
}

// WebhookDelivery is engine.Engine.WebhookDelivery.
func (c *Client) WebhookDelivery(ctx context.Context, caller engine.Caller, id int64) (usermerge.WebhookDelivery, []usermerge.WebhookAttempt, error) {
	var out struct {
		Delivery usermerge.WebhookDelivery  `json:"delivery"`
		Attempts []usermerge.WebhookAttempt `json:"attempts"`
	}
	err := c.call(ctx, caller, "GET", "/deliveries/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out.Delivery, out.Attempts, err
}

// ReplayDelivery is engine.Engine.ReplayDelivery.
func (c *Client) ReplayDelivery(ctx context.Context, caller engine.Caller, id int64) (usermerge.WebhookDelivery, error) {
	var out usermerge.WebhookDelivery
	err := c.call(ctx, caller, "POST", "/deliveries/"+strconv.FormatInt(id, 10)+"/replay", nil, nil, &out)
	return out, err
}
