package usermerge

import (
	"encoding/json"
	"time"
)

// Events and integration (PRODUCT.md §13): every merge, revert, deletion
// and batch end is an event, written in the same transaction as the change
// (the outbox) and delivered after commit, to webhooks and to a pull feed.
// docs/events.md documents each payload, the signature and the retries.

// EventVersion is the version of the payloads this release writes. A
// change that removes or renames a field raises it; added fields do not.
const EventVersion = 1

// The event types. A merge is never reported as a deletion: the merged
// account's data moved to the kept account, nothing was erased.
const (
	EventMergeCompleted = "merge.completed"
	EventMergeReverted  = "merge.reverted"
	EventAccountDeleted = "account.deleted"
	EventBatchCompleted = "batch.completed"
	EventBatchReverted  = "batch.reverted"
	// EventWebhookTest is sent to one endpoint only, when an administrator
	// asks for a test delivery; it is not in the feed.
	EventWebhookTest = "webhook.test"
)

// EventTypes lists the types an endpoint may subscribe to, in the order
// the screens show them.
var EventTypes = []string{EventMergeCompleted, EventMergeReverted, EventAccountDeleted, EventBatchCompleted, EventBatchReverted}

// Event is one entry of a tenant's feed. ID orders a tenant's events in
// commit order and is the feed's cursor.
type Event struct {
	ID      int64           `json:"id"`
	Type    string          `json:"type"`
	Version int             `json:"version"`
	At      time.Time       `json:"timestamp"`
	Data    json.RawMessage `json:"data"`
}

// EventPage is one page of the feed: events after a cursor, oldest first.
// Next is the cursor for the following page (the last event's id, or the
// cursor asked for when the page is empty); More says whether one is there.
type EventPage struct {
	Events []Event `json:"events"`
	Next   int64   `json:"next"`
	More   bool    `json:"more"`
}

// EventFilter selects events of the feed.
type EventFilter struct {
	After int64    // cursor: events with a greater id
	Types []string // none: every type
	Limit int      // 1..1000; 0: 100
}

// Webhook is an endpoint a tenant registered for its events.
type Webhook struct {
	ID          int64    `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	Types       []string `json:"types"` // empty: every type
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why an endpoint is not enabled: "by_admin", or
	// "gone" when it answered 410 Gone.
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	// SecretRotatedAt is when the secret last changed; until
	// PreviousSecretUntil, deliveries are signed with both secrets.
	SecretRotatedAt     *time.Time `json:"secret_rotated_at,omitempty"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	// Counts of its deliveries by status.
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// WebhookInput creates or changes an endpoint. On a change, a nil field
// keeps its value.
type WebhookInput struct {
	URL         *string   `json:"url,omitempty"`
	Description *string   `json:"description,omitempty"`
	Types       *[]string `json:"types,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its first or next attempt
	DeliveryDelivered = "delivered" // a 2xx answer
	DeliveryFailed    = "failed"    // retries used up, or the endpoint gone or removed
)

// WebhookDelivery is one event on its way to one endpoint. MessageID is
// the webhook-id header: the same on every attempt and replay, so that a
// receiver dedupes by it.
type WebhookDelivery struct {
	ID         int64      `json:"id"`
	Webhook    int64      `json:"webhook"`
	Event      int64      `json:"event"` // 0 for a test delivery
	EventType  string     `json:"event_type"`
	MessageID  string     `json:"message_id"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	NextAt     *time.Time `json:"next_at,omitempty"` // pending: when the next attempt is due
	LastStatus int        `json:"last_status,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
}

// WebhookAttempt is one attempt of a delivery, as logged.
type WebhookAttempt struct {
	N        int       `json:"n"`
	At       time.Time `json:"at"`
	Status   int       `json:"status"`          // HTTP status; 0: no answer
	Error    string    `json:"error,omitempty"` // no answer: why (timeout, refused, ...)
	Response string    `json:"response"`        // the answer's first KiB
	Millis   int64     `json:"millis"`
}

// DeliveryFilter selects deliveries to list.
type DeliveryFilter struct {
	Webhook int64  // 0: every endpoint
	Status  string // "": every status
	Limit   int
	Offset  int
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	Total      int               `json:"total"`
}

// Resolution states: what became of the account a reference named.
const (
	ResolvedActive   = "active"  // the account holds its own data
	ResolvedMerged   = "merged"  // merged away: Account holds its data now
	ResolvedDeleted  = "deleted" // deleted: nobody holds its data
	ResolvedNotFound = "not_found"
)

// Resolution answers one reference (id, login or system:value) with the
// account that holds its data now, following chains of merges.
type Resolution struct {
	Ref   string `json:"ref"`
	State string `json:"state"`
	// Named is the account the reference named (nil: not found).
	Named *ResolvedAccount `json:"named,omitempty"`
	// Account holds the data now (nil when deleted, not found, or, for a
	// group manager, outside their groups).
	Account *ResolvedAccount `json:"account,omitempty"`
	// Chain lists the merges followed, oldest first.
	Chain []ResolutionStep `json:"chain,omitempty"`
	// Reverted lists merges of the named account that were reverted: it
	// holds its data again.
	Reverted []int64 `json:"reverted,omitempty"`
}

// AccountRef names an account in the platform's own ids, as events and
// resolutions show it.
type AccountRef struct {
	ID          string       `json:"id"`
	Login       string       `json:"login"`
	ExternalIDs []ExternalID `json:"external_ids"`
}

// ResolvedAccount names an account of a resolution.
type ResolvedAccount struct {
	ID    string `json:"id"`
	Login string `json:"login"`
}

// ResolutionStep is one merge of a chain.
type ResolutionStep struct {
	Merge int64     `json:"merge"`
	From  string    `json:"from"` // account ids
	Into  string    `json:"into"`
	At    time.Time `json:"at"`
}

// MaxResolveRefs is the most references one resolve call takes.
const MaxResolveRefs = 1000

// MergeCompletedData is the data of a merge.completed event: one merge
// operation, every source merged into the kept account. The merged
// accounts' data moved to the kept account; nothing was erased.
type MergeCompletedData struct {
	Tenant    string     `json:"tenant"`
	Operation int64      `json:"operation"`
	Batch     int64      `json:"batch,omitempty"`
	By        string     `json:"by"`
	At        time.Time  `json:"at"`
	Reason    string     `json:"reason,omitempty"`
	Kept      AccountRef `json:"kept"` // as it is after the merge
	// DataMoved is always true: a merge moves the data, it never deletes it.
	DataMoved bool           `json:"data_moved"`
	Merged    []MergedSource `json:"merged"`
	// Merges is the short form of Merged, kept from before version 1's
	// other fields.
	Merges []MergeBrief `json:"merges"`
}

// MergedSource is one account merged into the kept one.
type MergedSource struct {
	Merge int64 `json:"merge"`
	// Account is the merged account as it was before the merge, its
	// external IDs included; ExternalIDsMoved says whether they moved to
	// the kept account.
	Account          AccountRef      `json:"account"`
	ExternalIDsMoved bool            `json:"external_ids_moved"`
	Counts           map[Kind]Counts `json:"counts"`
}

// MergeBrief names one merge by ids.
type MergeBrief struct {
	Merge     int64  `json:"merge"`
	Operation int64  `json:"operation"`
	Batch     int64  `json:"batch,omitempty"`
	Source    string `json:"source"`
	Target    string `json:"target"`
}

// MergeRevertedData is the data of a merge.reverted event: each reverted
// merge's account holds its own data again.
type MergeRevertedData struct {
	Tenant   string           `json:"tenant"`
	Batch    int64            `json:"batch,omitempty"`
	By       string           `json:"by"`
	At       time.Time        `json:"at"`
	Merges   []int64          `json:"merges"`
	Restored []RevertedSource `json:"restored"`
}

// RevertedSource is one account a revert gave its data back to.
type RevertedSource struct {
	Merge   int64      `json:"merge"`
	Account AccountRef `json:"account"` // as it is after the revert
	From    AccountRef `json:"from"`    // the account that held its data
}

// AccountDeletedData is the data of an account.deleted event.
type AccountDeletedData struct {
	Tenant  string     `json:"tenant"`
	Account AccountRef `json:"account"` // as it was before the deletion
	By      string     `json:"by"`
	At      time.Time  `json:"at"`
}

// BatchEventData is the data of batch.completed (a bulk merge ended: done
// or cancelled) and batch.reverted events. The merges a batch made each
// wrote their own merge.completed event, its reverts merge.reverted ones.
type BatchEventData struct {
	Tenant string      `json:"tenant"`
	Batch  int64       `json:"batch"`
	Name   string      `json:"name"`
	Status BatchStatus `json:"status"`
	// By is who submitted the batch (batch.completed) or reverted it
	// (batch.reverted).
	By            string    `json:"by"`
	At            time.Time `json:"at"`
	Rows          int       `json:"rows"`
	Merged        int       `json:"merged"`
	Refused       int       `json:"refused"`
	Cancelled     int       `json:"cancelled"`
	Merges        int       `json:"merges"`
	Reverted      int       `json:"reverted"`
	RevertRefused int       `json:"revert_refused"`
	Partial       bool      `json:"partial,omitempty"`
}
