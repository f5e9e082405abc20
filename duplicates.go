package usermerge

import (
	"time"

	"usermerge/match"
)

// Finding duplicates (PRODUCT.md §11): the shapes the engine answers and the
// API, the UI and the command line show. The matching itself is package
// match.

// DetectionRun is one run of duplicate detection over a tenant: a job with
// progress that the UI, the API and the CLI follow.
type DetectionRun struct {
	ID     int64  `json:"id"`
	Tenant string `json:"-"`
	// Scope is "full" (every account) or "changed" (the accounts changed
	// since the last finished run, against every account).
	Scope string `json:"scope"`
	// Status is "running", "done", "failed" or "interrupted" (its process
	// stopped; the next run starts over).
	Status      string      `json:"status"`
	Phase       string      `json:"phase,omitempty"` // see match.Progress
	Done        int64       `json:"done"`
	Total       int64       `json:"total"`
	Started     time.Time   `json:"started"`
	Finished    *time.Time  `json:"finished,omitempty"`
	By          string      `json:"by"` // the admin who started it
	Stats       match.Stats `json:"stats"`
	Suggestions int         `json:"suggestions"`
	Error       string      `json:"error,omitempty"` // why it failed, in words for an admin
}

// Run statuses.
const (
	RunRunning     = "running"
	RunDone        = "done"
	RunFailed      = "failed"
	RunInterrupted = "interrupted"
)

// DuplicateSuggestion is one suggestion of the review queue: a person with
// several accounts, the account to keep, the grade and the explanation.
type DuplicateSuggestion struct {
	ID          int64            `json:"id"`
	Run         int64            `json:"run"`
	Grade       match.Grade      `json:"grade"`
	Probability float64          `json:"probability"`
	Keep        string           `json:"keep"` // account id, also Accounts[0]
	KeepReason  string           `json:"keep_reason"`
	Accounts    []AccountSummary `json:"accounts"` // Keep first
	Pairs       []match.Pair     `json:"pairs"`
}

// SuggestionFilter selects suggestions of the review queue.
type SuggestionFilter struct {
	Grade  match.Grade // "" for every grade
	Limit  int
	Offset int
}

// SuggestionPage is one page of the review queue.
type SuggestionPage struct {
	Suggestions []DuplicateSuggestion `json:"suggestions"`
	Total       int                   `json:"total"` // in the caller's scope, dismissed pairs left out
	// Counts per grade, in the caller's scope.
	Counts map[match.Grade]int `json:"counts"`
	Run    *DetectionRun       `json:"run,omitempty"` // the run the suggestions come from
	// Stale: the tenant's data changed since that run.
	Stale bool `json:"stale"`
}

// Dismissal remembers that two accounts are not the same person.
type Dismissal struct {
	A  string    `json:"a"` // account ids, A < B
	B  string    `json:"b"`
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// DuplicateCandidate is one likely duplicate of a checked account.
type DuplicateCandidate struct {
	Account     AccountSummary `json:"account"`
	Grade       match.Grade    `json:"grade"`
	Probability float64        `json:"probability"`
	Pair        match.Pair     `json:"pair"`
}

// RulesPreview is what a change of matching rules would do to the
// tenant's suggestions, before it is saved.
type RulesPreview struct {
	Current  map[match.Grade]int `json:"current"`  // suggestions per grade under the saved rules
	Proposed map[match.Grade]int `json:"proposed"` // under the proposed rules
	// Examples of suggestions whose grade the change moves (at most 10).
	Changes []RuleChange `json:"changes"`
}

// RuleChange is one suggestion a rules change regrades.
type RuleChange struct {
	Accounts []string    `json:"accounts"` // logins
	From     match.Grade `json:"from"`     // "" for not suggested
	To       match.Grade `json:"to"`
}
