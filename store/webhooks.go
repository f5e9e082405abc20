package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"usermerge"
)

// Webhooks (migration 013): endpoints, their deliveries and the attempts
// of each. Deliveries are written with their event (fanOut, from
// AddEvent), claimed under a lease by the delivery workers of any
// instance, and finished with one logged attempt each.

// WebhookRow is an endpoint as stored, its secrets included.
type WebhookRow struct {
	usermerge.Webhook
	Tenant         string
	Secret         string
	PreviousSecret string    // "" none
	PreviousUntil  time.Time // zero: none
}

const webhookCols = `id, url, description, types, enabled, disabled_reason, secret, previous_secret, previous_until,
	secret_rotated_at, created_at, created_by`

func scanWebhook(tenant string, sc interface{ Scan(...any) error }) (WebhookRow, error) {
	w := WebhookRow{Tenant: tenant}
	var types string
	var enabled int
	var prevUntil, created int64
	var rotated sql.NullInt64
	if err := sc.Scan(&w.ID, &w.URL, &w.Description, &types, &enabled, &w.DisabledReason, &w.Secret, &w.PreviousSecret, &prevUntil,
		&rotated, &created, &w.CreatedBy); err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
		return w, fmt.Errorf("webhook %d: types: %w", w.ID, err)
	}
	if w.Types == nil {
		w.Types = []string{}
	}
	w.Enabled, w.CreatedAt, w.SecretRotatedAt = enabled == 1, FromMillis(created), timePtr(rotated)
	if prevUntil > 0 {
		w.PreviousUntil = FromMillis(prevUntil)
		w.PreviousSecretUntil = &w.PreviousUntil
	}
	return w, nil
}

// WebhookNotFound is the error for an endpoint id the tenant does not have.
func WebhookNotFound(id int64) *usermerge.Error {
	return usermerge.Errorf(usermerge.NotFound, "webhook_not_found", "there is no webhook %d", id)
}

// DeliveryNotFound is the error for a delivery id the tenant does not have.
func DeliveryNotFound(id int64) *usermerge.Error {
	return usermerge.Errorf(usermerge.NotFound, "delivery_not_found", "there is no webhook delivery %d", id)
}

// InsertWebhook stores a new endpoint (w.ID set by the caller).
func (tx *Tx) InsertWebhook(ctx context.Context, w WebhookRow) error {
	types, err := json.Marshal(nonNil(w.Types))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO webhooks (tenant_id, id, url, description, types, enabled, disabled_reason, secret, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, w.Tenant, w.ID, w.URL, w.Description, string(types), b2i(w.Enabled), w.DisabledReason,
		w.Secret, Millis(w.CreatedAt), w.CreatedBy)
	return err
}

// UpdateWebhook writes an endpoint's URL, description, types, state and
// secrets.
func (tx *Tx) UpdateWebhook(ctx context.Context, w WebhookRow) error {
	types, err := json.Marshal(nonNil(w.Types))
	if err != nil {
		return err
	}
	var prevUntil int64
	if !w.PreviousUntil.IsZero() {
		prevUntil = Millis(w.PreviousUntil)
	}
	n, err := tx.Exec(ctx, `UPDATE webhooks SET url = ?, description = ?, types = ?, enabled = ?, disabled_reason = ?, secret = ?,
		previous_secret = ?, previous_until = ?, secret_rotated_at = ? WHERE tenant_id = ? AND id = ?`,
		w.URL, w.Description, string(types), b2i(w.Enabled), w.DisabledReason, w.Secret, w.PreviousSecret, prevUntil,
		nullMillis(w.SecretRotatedAt), w.Tenant, w.ID)
	if err == nil && n == 0 {
		return WebhookNotFound(w.ID)
	}
	return err
}

// WebhookRowOf reads one endpoint without its counts (the delivery
// workers' read).
func (tx *Tx) WebhookRowOf(ctx context.Context, tenant string, id int64) (WebhookRow, error) {
	w, err := scanWebhook(tenant, tx.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err == sql.ErrNoRows {
		return w, WebhookNotFound(id)
	}
	return w, err
}

// CountWebhooks counts a tenant's endpoints.
func (tx *Tx) CountWebhooks(ctx context.Context, tenant string) (int64, error) {
	return tx.Count(ctx, `SELECT COUNT(*) FROM webhooks WHERE tenant_id = ?`, tenant)
}

// GetWebhook reads one endpoint with its delivery counts.
func (tx *Tx) GetWebhook(ctx context.Context, tenant string, id int64) (WebhookRow, error) {
	w, err := scanWebhook(tenant, tx.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err == sql.ErrNoRows {
		return w, WebhookNotFound(id)
	}
	if err != nil {
		return w, err
	}
	ws := []*WebhookRow{&w}
	return w, tx.fillDeliveryCounts(ctx, tenant, ws)
}

// Webhooks lists a tenant's endpoints, oldest first, with their delivery
// counts.
func (tx *Tx) Webhooks(ctx context.Context, tenant string) ([]WebhookRow, error) {
	rows, err := tx.Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, err
	}
	var out []WebhookRow
	for rows.Next() {
		w, err := scanWebhook(tenant, rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ws := make([]*WebhookRow, len(out))
	for i := range out {
		ws[i] = &out[i]
	}
	return out, tx.fillDeliveryCounts(ctx, tenant, ws)
}

func (tx *Tx) fillDeliveryCounts(ctx context.Context, tenant string, ws []*WebhookRow) error {
	if len(ws) == 0 {
		return nil
	}
	byID := map[int64]*WebhookRow{}
	for _, w := range ws {
		byID[w.ID] = w
	}
	rows, err := tx.Query(ctx, `SELECT webhook_id, status, COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? GROUP BY webhook_id, status`, tenant)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return err
		}
		w := byID[id]
		if w == nil {
			continue
		}
		switch status {
		case usermerge.DeliveryPending:
			w.Pending = n
		case usermerge.DeliveryDelivered:
			w.Delivered = n
		case usermerge.DeliveryFailed:
			w.Failed = n
		}
	}
	return rows.Err()
}

// DeleteWebhook removes an endpoint; its pending deliveries fail with
// why. The deliveries and their attempts stay, to be read.
func (tx *Tx) DeleteWebhook(ctx context.Context, tenant string, id int64, why string) error {
	n, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return WebhookNotFound(id)
	}
	_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET status = ?, last_error = ?, done_at = ?, lease_owner = '', lease_until = 0
		WHERE tenant_id = ? AND webhook_id = ? AND status = ?`, usermerge.DeliveryFailed, why, Millis(tx.Now), tenant, id, usermerge.DeliveryPending)
	return err
}

// fanOut writes one delivery of an event to each enabled endpoint of the
// tenant that wants its type: in the event's transaction, so deliveries
// exist exactly for committed events. Types outside usermerge.EventTypes
// (settings changes, dismissals) stay in the outbox only.
func (tx *Tx) fanOut(ctx context.Context, tenant string, event int64, typ string) error {
	if !slices.Contains(usermerge.EventTypes, typ) {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id, types FROM webhooks WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenant)
	if err != nil {
		return err
	}
	var hooks []int64
	for rows.Next() {
		var id int64
		var types string
		if err := rows.Scan(&id, &types); err != nil {
			rows.Close()
			return err
		}
		var want []string
		if err := json.Unmarshal([]byte(types), &want); err != nil {
			rows.Close()
			return fmt.Errorf("webhook %d: types: %w", id, err)
		}
		if len(want) == 0 || slices.Contains(want, typ) {
			hooks = append(hooks, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, hook := range hooks {
		if _, err := tx.InsertDelivery(ctx, tenant, hook, event, typ, EventMessageID(tenant, event, hook), ""); err != nil {
			return err
		}
	}
	return nil
}

// EventMessageID is the webhook-id of an event's delivery to an endpoint:
// the same on every attempt and replay, and unique (the two numbers end
// it, so no tenant id can make two alike).
func EventMessageID(tenant string, event, webhook int64) string {
	return fmt.Sprintf("msg_%s_%d_%d", tenant, event, webhook)
}

// InsertDelivery queues a delivery, due now, and answers its id. A test
// delivery (no event) gets the message id msg_TENANT_test_ID.
func (tx *Tx) InsertDelivery(ctx context.Context, tenant string, webhook, event int64, typ, messageID, body string) (int64, error) {
	id, err := tx.NextID(ctx, tenant, "delivery")
	if err != nil {
		return 0, err
	}
	if messageID == "" {
		messageID = fmt.Sprintf("msg_%s_test_%d", tenant, id)
	}
	now := Millis(tx.Now)
	_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, message_id, body, status, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tenant, id, webhook, event, typ, messageID, body, usermerge.DeliveryPending, now, now)
	return id, err
}

const deliveryCols = `id, webhook_id, event_id, event_type, message_id, status, attempts, next_at, last_status, last_error, created_at, done_at`

func scanDelivery(sc interface{ Scan(...any) error }) (usermerge.WebhookDelivery, error) {
	var d usermerge.WebhookDelivery
	var next, created int64
	var done sql.NullInt64
	if err := sc.Scan(&d.ID, &d.Webhook, &d.Event, &d.EventType, &d.MessageID, &d.Status, &d.Attempts, &next, &d.LastStatus, &d.LastError,
		&created, &done); err != nil {
		return d, err
	}
	d.CreatedAt, d.DoneAt = FromMillis(created), timePtr(done)
	if d.Status == usermerge.DeliveryPending {
		t := FromMillis(next)
		d.NextAt = &t
	}
	return d, nil
}

// GetDelivery reads one delivery.
func (tx *Tx) GetDelivery(ctx context.Context, tenant string, id int64) (usermerge.WebhookDelivery, error) {
	d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err == sql.ErrNoRows {
		return d, DeliveryNotFound(id)
	}
	return d, err
}

// Deliveries lists deliveries, newest first, and counts all that match.
func (tx *Tx) Deliveries(ctx context.Context, tenant string, f usermerge.DeliveryFilter) (usermerge.DeliveryPage, error) {
	where := ` FROM webhook_deliveries WHERE tenant_id = ?`
	args := []any{tenant}
	if f.Webhook > 0 {
		where += ` AND webhook_id = ?`
		args = append(args, f.Webhook)
	}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, f.Status)
	}
	page := usermerge.DeliveryPage{Deliveries: []usermerge.WebhookDelivery{}}
	n, err := tx.Count(ctx, `SELECT COUNT(*)`+where, args...)
	if err != nil {
		return page, err
	}
	page.Total = int(n)
	rows, err := tx.Query(ctx, `SELECT `+deliveryCols+where+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return page, err
		}
		page.Deliveries = append(page.Deliveries, d)
	}
	return page, rows.Err()
}

// Attempts lists a delivery's attempts, oldest first.
func (tx *Tx) Attempts(ctx context.Context, tenant string, delivery int64) ([]usermerge.WebhookAttempt, error) {
	rows, err := tx.Query(ctx, `SELECT n, at, status, error, response, millis FROM webhook_attempts WHERE tenant_id = ? AND delivery_id = ? ORDER BY n`,
		tenant, delivery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []usermerge.WebhookAttempt{}
	for rows.Next() {
		var a usermerge.WebhookAttempt
		var at int64
		if err := rows.Scan(&a.N, &at, &a.Status, &a.Error, &a.Response, &a.Millis); err != nil {
			return nil, err
		}
		a.At = FromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReplayDelivery makes a delivery pending and due now, whatever its
// status; its attempts stay. A delivery being sent just now is refused.
func (tx *Tx) ReplayDelivery(ctx context.Context, tenant string, id int64) error {
	now := Millis(tx.Now)
	n, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = ?, next_at = ?, done_at = NULL
		WHERE tenant_id = ? AND id = ? AND lease_until < ?`, usermerge.DeliveryPending, now, tenant, id, now)
	if err != nil || n > 0 {
		return err
	}
	if _, err := tx.GetDelivery(ctx, tenant, id); err != nil {
		return err
	}
	return usermerge.Errorf(usermerge.Conflict, "delivery_in_progress", "delivery %d is being sent just now; replay it when this attempt has ended", id)
}

// Claimed is a delivery a worker claimed: what it needs to send it.
type Claimed struct {
	Tenant    string
	ID        int64
	Webhook   int64
	Event     int64
	EventType string
	MessageID string
	Body      string // a test delivery's body; "" for events
	Attempt   int    // this attempt's number, 1-based
	// Interrupted: an earlier attempt was claimed and never finished (its
	// worker stopped); it is logged as such when this one ends.
	Interrupted bool
}

// ClaimDeliveries claims up to n due deliveries of enabled endpoints of
// any tenant, oldest due first, for owner until the lease ends; each
// claim begins an attempt. On PostgreSQL rows another worker is claiming
// are skipped (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time.
func (tx *Tx) ClaimDeliveries(ctx context.Context, owner string, until time.Time, n int) ([]Claimed, error) {
	now := Millis(tx.Now)
	lock := ""
	if tx.d.name == "postgres" {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	rows, err := tx.Query(ctx, `WITH c AS MATERIALIZED (SELECT d.tenant_id, d.id FROM webhook_deliveries d
			JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled = 1
			WHERE d.status = 'pending' AND d.next_at <= ? AND d.lease_until < ? ORDER BY d.next_at LIMIT ?`+lock+`)
		UPDATE webhook_deliveries SET attempts = webhook_deliveries.attempts + 1, lease_until = ?,
			lease_owner = CASE WHEN webhook_deliveries.lease_owner = '' THEN ? ELSE '!' || ? END
		FROM c WHERE webhook_deliveries.tenant_id = c.tenant_id AND webhook_deliveries.id = c.id
		RETURNING webhook_deliveries.tenant_id, webhook_deliveries.id, webhook_deliveries.webhook_id, webhook_deliveries.event_id,
			webhook_deliveries.event_type, webhook_deliveries.message_id, webhook_deliveries.body, webhook_deliveries.attempts,
			webhook_deliveries.lease_owner`,
		now, now, n, Millis(until), owner, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Claimed
	for rows.Next() {
		var c Claimed
		var lease string
		if err := rows.Scan(&c.Tenant, &c.ID, &c.Webhook, &c.Event, &c.EventType, &c.MessageID, &c.Body, &c.Attempt, &lease); err != nil {
			return nil, err
		}
		c.Interrupted = len(lease) > 0 && lease[0] == '!'
		out = append(out, c)
	}
	return out, rows.Err()
}

// Outcome is how an attempt ended.
type Outcome struct {
	usermerge.WebhookAttempt
	Status string    // the delivery's status after it
	NextAt time.Time // pending: when the next attempt is due
	// Gone: the endpoint answered 410 and is disabled.
	Gone bool
}

// FinishAttempt logs an attempt and sets its delivery's status, if owner
// still holds the delivery's lease (false: it ran out and another worker
// took the delivery, whose attempt will be logged instead).
func (tx *Tx) FinishAttempt(ctx context.Context, c Claimed, owner string, o Outcome) (bool, error) {
	var done any
	next := int64(0)
	if o.Status == usermerge.DeliveryPending {
		next = Millis(o.NextAt)
	} else {
		done = Millis(tx.Now)
	}
	n, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = ?, next_at = ?, done_at = ?, last_status = ?, last_error = ?,
			lease_owner = '', lease_until = 0
		WHERE tenant_id = ? AND id = ? AND attempts = ? AND (lease_owner = ? OR lease_owner = ?)`,
		o.Status, next, done, o.WebhookAttempt.Status, o.Error, c.Tenant, c.ID, c.Attempt, owner, "!"+owner)
	if err != nil || n == 0 {
		return false, err
	}
	if c.Interrupted {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (tenant_id, delivery_id, n, at, status, error, response, millis)
			VALUES (?, ?, ?, ?, 0, ?, '', 0) ON CONFLICT DO NOTHING`, c.Tenant, c.ID, c.Attempt-1, Millis(o.At),
			"interrupted: the instance sending it stopped before the answer was logged"); err != nil {
			return false, err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (tenant_id, delivery_id, n, at, status, error, response, millis)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Tenant, c.ID, c.Attempt, Millis(o.At), o.WebhookAttempt.Status, o.Error, o.Response, o.Millis); err != nil {
		return false, err
	}
	if o.Gone {
		if _, err := tx.Exec(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = 'gone' WHERE tenant_id = ? AND id = ?`, c.Tenant, c.Webhook); err != nil {
			return false, err
		}
	}
	return true, nil
}

// EventRow reads one event of a tenant.
func (tx *Tx) EventRow(ctx context.Context, tenant string, id int64) (Event, error) {
	e := Event{Tenant: tenant, ID: id}
	var p string
	var at int64
	err := tx.QueryRow(ctx, `SELECT type, payload, at FROM events WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&e.Type, &p, &at)
	e.Payload, e.At = json.RawMessage(p), FromMillis(at)
	return e, err
}
