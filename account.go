package usermerge

import "time"

// AccountStatus is an account's status. Deletion is a tombstone (DeletedAt),
// not a status, so that the status before deletion stays visible for audit.
type AccountStatus string

const (
	Active   AccountStatus = "active"
	Inactive AccountStatus = "inactive"
)

// Account is a learner's user account.
type Account struct {
	TenantID   string        `json:"tenant"`
	ID         string        `json:"id"`
	Login      string        `json:"login"`
	Email      string        `json:"email"`
	Name       string        `json:"name"`
	Status     AccountStatus `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	DeletedAt  *time.Time    `json:"deleted_at,omitempty"`
	MergedInto string        `json:"merged_into,omitempty"` // target account id while merged
	MergedBy   int64         `json:"merged_by,omitempty"`   // merge id while merged
	IsAdmin    bool          `json:"is_admin,omitempty"`    // the account holds admin rights
	// Attributes are the optional profile attributes (attributes.go): the
	// known keys and free keys, only those with a value.
	Attributes map[string]string `json:"attributes,omitempty"`
	// ExternalIDs are set only on an account that is checked for
	// duplicates before it exists (engine.CheckAccount's candidate); stored
	// accounts keep theirs apart (AccountFacts).
	ExternalIDs []ExternalID `json:"external_ids,omitempty"`
}

// Deleted reports whether the account has been deleted (tombstoned).
func (a Account) Deleted() bool { return a.DeletedAt != nil }

// Group is a node of the tenant's organisational tree.
type Group struct {
	TenantID string `json:"tenant"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parent,omitempty"`
}

// Job is a job title inside the org structure.
type Job struct {
	TenantID string `json:"tenant"`
	ID       string `json:"id"`
	Title    string `json:"title"`
}

// Role is an administrator's role inside a tenant.
type Role string

const (
	TenantAdmin  Role = "tenant_admin"  // everything, whole tenant
	GroupManager Role = "group_manager" // rights over a set of groups and their subgroups
)

// Right is a group manager's right over a group subtree.
type Right string

const (
	RightEdit Right = "edit" // merge-edit: preview, merge, revert
	RightView Right = "view" // list merges and open details only
)

// Scope grants a right over a group and its subgroups.
type Scope struct {
	GroupID string `json:"group"`
	Right   Right  `json:"right"`
}

// Admin is a person or program acting on a tenant.
type Admin struct {
	TenantID  string  `json:"tenant"`
	ID        string  `json:"id"`
	Login     string  `json:"login"`
	Name      string  `json:"name"`
	Role      Role    `json:"role"`
	AccountID string  `json:"account,omitempty"` // the learner account this admin also is, if any
	Scopes    []Scope `json:"scopes,omitempty"`
}

// AccountSummary is an account with what the merge screen's info button
// shows: groups, jobs and record counts.
type AccountSummary struct {
	Account
	Groups []string       `json:"groups"`
	Jobs   []string       `json:"jobs"`
	Counts map[Kind]int64 `json:"counts,omitempty"`
}
