package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
)

// The duplicate-detection calls (PRODUCT.md §11), with the engine's
// signatures.

// pollEvery is how often Detect asks the server how its run is going.
const pollEvery = 500 * time.Millisecond

func suggestionPath(id int64, rest string) string {
	return "/duplicates/" + strconv.FormatInt(id, 10) + rest
}

// Suggestions is engine.Engine.Suggestions.
func (c *Client) Suggestions(ctx context.Context, caller engine.Caller, f usermerge.SuggestionFilter) (usermerge.SuggestionPage, error) {
	q := url.Values{}
	if f.Grade != "" {
		q.Set("grade", string(f.Grade))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	var out usermerge.SuggestionPage
	err := c.call(ctx, caller, "GET", "/duplicates", q, nil, &out)
	return out, err
}

// Suggestion is engine.Engine.Suggestion.
func (c *Client) Suggestion(ctx context.Context, caller engine.Caller, id int64) (usermerge.DuplicateSuggestion, error) {
	var out usermerge.DuplicateSuggestion
	err := c.call(ctx, caller, "GET", suggestionPath(id, ""), nil, nil, &out)
	return out, err
}

// DismissSuggestion is engine.Engine.DismissSuggestion.
func (c *Client) DismissSuggestion(ctx context.Context, caller engine.Caller, id int64) ([]usermerge.Dismissal, error) {
	var out usermerge.DismissalsAnswer
	err := c.call(ctx, caller, "POST", suggestionPath(id, "/dismiss"), nil, nil, &out)
	return out.Dismissals, err
}

// DismissPair is engine.Engine.DismissPair.
func (c *Client) DismissPair(ctx context.Context, caller engine.Caller, a, b string) (usermerge.Dismissal, error) {
	var out usermerge.Dismissal
	err := c.call(ctx, caller, "POST", "/dismissals", nil, map[string]string{"a": a, "b": b}, &out)
	return out, err
}

// Dismissals is engine.Engine.Dismissals.
func (c *Client) Dismissals(ctx context.Context, caller engine.Caller, limit, offset int) ([]usermerge.Dismissal, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, 500)))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	var out usermerge.DismissalsAnswer
	err := c.call(ctx, caller, "GET", "/dismissals", q, nil, &out)
	return out.Dismissals, err
}

// StartDetection is engine.Engine.StartDetection: the server starts the
// run and does its work in the background.
func (c *Client) StartDetection(ctx context.Context, caller engine.Caller, opt engine.DetectOptions) (usermerge.DetectionRun, error) {
	var out usermerge.DetectionRun
	err := c.call(ctx, caller, "POST", "/duplicates/runs", nil, map[string]bool{"full": opt.Full}, &out)
	return out, err
}

// Detect is engine.Engine.Detect: it starts a run on the server and
// follows it until it ends, calling progress as it goes. Leaving (ctx
// ending) leaves the run going on the server.
func (c *Client) Detect(ctx context.Context, caller engine.Caller, opt engine.DetectOptions, progress func(usermerge.DetectionRun)) (usermerge.DetectionRun, error) {
	run, err := c.StartDetection(ctx, caller, opt)
	for err == nil && run.Status == usermerge.RunRunning {
		if progress != nil {
			progress(run)
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(pollEvery):
		}
		run, err = c.DetectionRun(ctx, caller, run.ID)
	}
	if err == nil && progress != nil {
		progress(run)
	}
	return run, err
}

// DetectionRun is engine.Engine.DetectionRun (id 0: the latest).
func (c *Client) DetectionRun(ctx context.Context, caller engine.Caller, id int64) (usermerge.DetectionRun, error) {
	path := "/duplicates/runs/latest"
	if id != 0 {
		path = "/duplicates/runs/" + strconv.FormatInt(id, 10)
	}
	var out usermerge.DetectionRun
	err := c.call(ctx, caller, "GET", path, nil, nil, &out)
	return out, err
}

// DuplicatesStale is engine.Engine.DuplicatesStale, as the queue's answer
// says it.
func (c *Client) DuplicatesStale(ctx context.Context, caller engine.Caller) (bool, error) {
	p, err := c.Suggestions(ctx, caller, usermerge.SuggestionFilter{Limit: 1})
	return p.Stale, err
}

// checkBody is the server's check request.
type checkBody struct {
	Account     string                 `json:"account,omitempty"`
	Login       string                 `json:"login,omitempty"`
	Name        string                 `json:"name,omitempty"`
	Email       string                 `json:"email,omitempty"`
	Attributes  map[string]string      `json:"attributes,omitempty"`
	ExternalIDs []usermerge.ExternalID `json:"external_ids,omitempty"`
}

// CheckAccount is engine.Engine.CheckAccount.
func (c *Client) CheckAccount(ctx context.Context, caller engine.Caller, ref string, candidate usermerge.Account) ([]usermerge.DuplicateCandidate, error) {
	in := checkBody{Account: ref}
	if ref == "" {
		in = checkBody{Login: candidate.Login, Name: candidate.Name, Email: candidate.Email, Attributes: candidate.Attributes, ExternalIDs: candidate.ExternalIDs}
	}
	var out usermerge.CandidatesAnswer
	err := c.call(ctx, caller, "POST", "/duplicates/check", nil, in, &out)
	return out.Candidates, err
}

// MatchingRules is engine.Engine.MatchingRules.
func (c *Client) MatchingRules(ctx context.Context, caller engine.Caller) (match.Rules, error) {
	var out usermerge.MatchingRulesAnswer
	err := c.call(ctx, caller, "GET", "/settings/matching", nil, nil, &out)
	return out.Rules, err
}

// PreviewMatchingRules is engine.Engine.PreviewMatchingRules.
func (c *Client) PreviewMatchingRules(ctx context.Context, caller engine.Caller, rules match.Rules) (usermerge.RulesPreview, error) {
	var out usermerge.RulesPreview
	err := c.call(ctx, caller, "POST", "/settings/matching/preview", nil, rules, &out)
	return out, err
}

// UpdateMatchingRules is engine.Engine.UpdateMatchingRules.
func (c *Client) UpdateMatchingRules(ctx context.Context, caller engine.Caller, rules match.Rules) (match.Rules, error) {
	var out usermerge.MatchingRulesAnswer
	err := c.call(ctx, caller, "PUT", "/settings/matching", nil, rules, &out)
	return out.Rules, err
}
