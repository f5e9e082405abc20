package main

import (
	"context"
	"time"

	"usermerge"
	"usermerge/client"
	"usermerge/engine"
	"usermerge/match"
	"usermerge/store"
)

// backend is what the commands ask of the merge engine: the engine itself
// on a database file (--db), or a running server's JSON API (--server),
// whose client has the same methods and returns the same types and errors.
// Commands that need the database itself (demo, serve, password, bench)
// use Main.db and Main.local; import and export, which locally work on the
// store without an acting administrator, call Main.remote's Import and
// Export with --server.
type backend interface {
	SearchAccounts(ctx context.Context, c engine.Caller, q string, status string, limit, offset int) ([]usermerge.AccountSummary, error)
	AccountInfo(ctx context.Context, c engine.Caller, ref string) (usermerge.AccountSummary, error)
	Activate(ctx context.Context, c engine.Caller, ref string) (usermerge.Account, error)
	Deactivate(ctx context.Context, c engine.Caller, ref string) (usermerge.Account, error)
	DeletionImpact(ctx context.Context, c engine.Caller, ref string) (engine.DeleteImpact, error)
	Delete(ctx context.Context, c engine.Caller, ref string, confirm bool) (engine.DeleteImpact, error)

	Preview(ctx context.Context, c engine.Caller, req usermerge.MergeRequest) (usermerge.Preview, error)
	Merge(ctx context.Context, c engine.Caller, req usermerge.MergeRequest) ([]usermerge.Merge, error)
	ListMerges(ctx context.Context, c engine.Caller, f usermerge.MergeFilter) (usermerge.MergePage, error)
	MergeDetails(ctx context.Context, c engine.Caller, id int64, limit int) (usermerge.MergeDetails, error)
	MergeDetailsPage(ctx context.Context, c engine.Caller, id int64, pg usermerge.DetailsPage) (usermerge.MergeDetails, error)
	Revert(ctx context.Context, c engine.Caller, ids []int64) (usermerge.RevertReport, error)

	Settings(ctx context.Context, c engine.Caller) (usermerge.Tenant, error)
	UpdateSettings(ctx context.Context, c engine.Caller, ch engine.SettingsChange) (usermerge.Tenant, error)

	CreateToken(ctx context.Context, c engine.Caller, name string, expires *time.Time) (string, store.Token, error)
	Tokens(ctx context.Context, c engine.Caller) ([]store.Token, error)
	RevokeToken(ctx context.Context, c engine.Caller, id string) error

	// Finding duplicates (duplicates.go).
	Detect(ctx context.Context, c engine.Caller, opt engine.DetectOptions, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error)
	DetectionRun(ctx context.Context, c engine.Caller, id int64) (usermerge.DetectionRun, error)
	DuplicatesStale(ctx context.Context, c engine.Caller) (bool, error)
	Suggestions(ctx context.Context, c engine.Caller, f usermerge.SuggestionFilter) (usermerge.SuggestionPage, error)
	Suggestion(ctx context.Context, c engine.Caller, id int64) (usermerge.DuplicateSuggestion, error)
	DismissSuggestion(ctx context.Context, c engine.Caller, id int64) ([]usermerge.Dismissal, error)
	DismissPair(ctx context.Context, c engine.Caller, a, b string) (usermerge.Dismissal, error)
	Dismissals(ctx context.Context, c engine.Caller, limit, offset int) ([]usermerge.Dismissal, error)
	CheckAccount(ctx context.Context, c engine.Caller, ref string, candidate usermerge.Account) ([]usermerge.DuplicateCandidate, error)
	MatchingRules(ctx context.Context, c engine.Caller) (match.Rules, error)
	PreviewMatchingRules(ctx context.Context, c engine.Caller, rules match.Rules) (usermerge.RulesPreview, error)
	UpdateMatchingRules(ctx context.Context, c engine.Caller, rules match.Rules) (match.Rules, error)

	// Events out (events.go, webhooks.go).
	Events(ctx context.Context, c engine.Caller, f usermerge.EventFilter) (usermerge.EventPage, error)
	Resolve(ctx context.Context, c engine.Caller, refs []string) ([]usermerge.Resolution, error)
	Webhooks(ctx context.Context, c engine.Caller) ([]usermerge.Webhook, error)
	Webhook(ctx context.Context, c engine.Caller, id int64) (usermerge.Webhook, error)
	CreateWebhook(ctx context.Context, c engine.Caller, in usermerge.WebhookInput) (usermerge.Webhook, string, error)
	UpdateWebhook(ctx context.Context, c engine.Caller, id int64, in usermerge.WebhookInput) (usermerge.Webhook, error)
	DeleteWebhook(ctx context.Context, c engine.Caller, id int64) error
	RotateWebhookSecret(ctx context.Context, c engine.Caller, id int64, overlap time.Duration) (usermerge.Webhook, string, error)
	TestWebhook(ctx context.Context, c engine.Caller, id int64) (usermerge.WebhookDelivery, error)
	WebhookDeliveries(ctx context.Context, c engine.Caller, f usermerge.DeliveryFilter) (usermerge.DeliveryPage, error)
	WebhookDelivery(ctx context.Context, c engine.Caller, id int64) (usermerge.WebhookDelivery, []usermerge.WebhookAttempt, error)
	ReplayDelivery(ctx context.Context, c engine.Caller, id int64) (usermerge.WebhookDelivery, error)
}

var (
	_ backend = (*engine.Engine)(nil)
	_ backend = (*client.Client)(nil)
)
