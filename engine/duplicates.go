package engine

import (
	"context"

	"usermerge"
	"usermerge/match"
)

// Duplicate detection (PRODUCT.md §11). This file is the contract the
// server and the command line call; see docs/matching.md.

// DetectOptions say what a detection run covers.
type DetectOptions struct {
	// Full compares every account; otherwise only the accounts changed
	// since the last finished run are compared against every account (a
	// first run is always full).
	Full bool
}

// StartDetection records a new detection run for the caller's tenant and
// answers it (status running) without doing its work; RunDetection does the
// work. It refuses (Conflict) while another run of the tenant is running.
func (e *Engine) StartDetection(ctx context.Context, c Caller, opt DetectOptions) (usermerge.DetectionRun, error) {
	return usermerge.DetectionRun{}, usermerge.Errorf(usermerge.Internal, "", "not built yet")
}

// RunDetection does run id's work, updating its progress in the database
// as it goes (and calling progress, if not nil), and answers the finished
// run. It reads in short snapshots and writes suggestions in short
// transactions, so merges go on meanwhile.
func (e *Engine) RunDetection(ctx context.Context, c Caller, id int64, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error) {
	return usermerge.DetectionRun{}, usermerge.Errorf(usermerge.Internal, "", "not built yet")
}

// Detect is StartDetection then RunDetection: the command line's form.
func (e *Engine) Detect(ctx context.Context, c Caller, opt DetectOptions, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error) {
	r, err := e.StartDetection(ctx, c, opt)
	if err != nil {
		return r, err
	}
	return e.RunDetection(ctx, c, r.ID, progress)
}

// DetectionRun answers run id of the caller's tenant (id 0: the latest).
func (e *Engine) DetectionRun(ctx context.Context, c Caller, id int64) (usermerge.DetectionRun, error) {
	return usermerge.DetectionRun{}, usermerge.Errorf(usermerge.NotFound, "", "no detection run yet")
}

// DuplicatesStale reports whether the tenant's data changed since its
// latest finished run (true when there is none).
func (e *Engine) DuplicatesStale(ctx context.Context, c Caller) (bool, error) {
	return true, nil
}

// Suggestions is one page of the caller's review queue: the latest finished
// run's suggestions wholly in the caller's scope, none with a dismissed
// pair or an account merged away or deleted since, strongest first.
func (e *Engine) Suggestions(ctx context.Context, c Caller, f usermerge.SuggestionFilter) (usermerge.SuggestionPage, error) {
	return usermerge.SuggestionPage{}, nil
}

// Suggestion answers one suggestion of the queue.
func (e *Engine) Suggestion(ctx context.Context, c Caller, id int64) (usermerge.DuplicateSuggestion, error) {
	return usermerge.DuplicateSuggestion{}, usermerge.Errorf(usermerge.NotFound, "", "no such suggestion")
}

// DismissSuggestion remembers every pair of suggestion id's accounts as
// "not the same person" (with the caller and the time), so that no run
// suggests them together again.
func (e *Engine) DismissSuggestion(ctx context.Context, c Caller, id int64) ([]usermerge.Dismissal, error) {
	return nil, usermerge.Errorf(usermerge.NotFound, "", "no such suggestion")
}

// DismissPair remembers two accounts (ids, logins or external IDs) as not
// the same person.
func (e *Engine) DismissPair(ctx context.Context, c Caller, a, b string) (usermerge.Dismissal, error) {
	return usermerge.Dismissal{}, usermerge.Errorf(usermerge.NotFound, "", "no such account")
}

// Dismissals lists the tenant's dismissed pairs in the caller's scope,
// newest first.
func (e *Engine) Dismissals(ctx context.Context, c Caller, limit, offset int) ([]usermerge.Dismissal, error) {
	return nil, nil
}

// CheckAccount answers the likely duplicates of one account, existing (ref
// names it) or new (ref empty, candidate describes it), in the caller's
// scope, strongest first: what a platform calls when it creates or imports
// an account.
func (e *Engine) CheckAccount(ctx context.Context, c Caller, ref string, candidate usermerge.Account) ([]usermerge.DuplicateCandidate, error) {
	return nil, nil
}

// MatchingRules answers the tenant's matching rules (the defaults when it
// set none).
func (e *Engine) MatchingRules(ctx context.Context, c Caller) (match.Rules, error) {
	return match.DefaultRules(), nil
}

// PreviewMatchingRules answers what rules would change in the tenant's
// suggestions, writing nothing.
func (e *Engine) PreviewMatchingRules(ctx context.Context, c Caller, rules match.Rules) (usermerge.RulesPreview, error) {
	return usermerge.RulesPreview{}, nil
}

// UpdateMatchingRules saves the tenant's matching rules (tenant admins only).
func (e *Engine) UpdateMatchingRules(ctx context.Context, c Caller, rules match.Rules) (match.Rules, error) {
	return rules, nil
}
