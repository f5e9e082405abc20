package usermerge

import "time"

// MaxSources is the most sources one merge operation may name.
const MaxSources = 10

// MergeRequest is one merge operation: one target, one or more sources.
type MergeRequest struct {
	TenantID        string   `json:"-"`
	Target          string   `json:"target"`
	Sources         []string `json:"sources"`
	MoveExternalIDs *bool    `json:"move_external_ids,omitempty"` // nil: the tenant's default
	Reason          string   `json:"reason,omitempty"`
	// Profile takes profile fields from a source: field ("email") -> the
	// login or id of the source whose value the kept account takes. A field
	// left out keeps the target's value.
	Profile map[string]string `json:"profile,omitempty"`
}

// Counts is what a merge does (or did) with one kind of record. Surfaces
// show them in the order and words of CountColumns (words.go).
type Counts struct {
	Moved    int64 `json:"moved"`    // source records now belonging to the target
	Combined int64 `json:"combined"` // target records whose values were combined with a source record
	Retired  int64 `json:"retired"`  // records kept for revert only (either account's)
	Left     int64 `json:"left"`     // records staying with the source by rule
	Changed  int64 `json:"changed"`  // records of either account whose values changed other than by combining (attempts renumbered); may overlap Moved
}

// Total adds up a merge's counts over every kind.
func Total(counts map[Kind]Counts) Counts {
	var t Counts
	for _, c := range counts {
		t.Moved += c.Moved
		t.Combined += c.Combined
		t.Retired += c.Retired
		t.Left += c.Left
		t.Changed += c.Changed
	}
	return t
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Moved + o.Moved, c.Combined + o.Combined, c.Retired + o.Retired, c.Left + o.Left, c.Changed + o.Changed}
}

// IsZero reports whether nothing happens to the kind.
func (c Counts) IsZero() bool { return c == Counts{} }

// KindPlan is one kind's line of a preview or a merge record.
type KindPlan struct {
	Kind   Kind   `json:"kind"`
	Label  string `json:"label"`
	Rule   string `json:"rule"`
	Counts Counts `json:"counts"`
}

// SourcePlan is the preview for one source.
type SourcePlan struct {
	Source     Account     `json:"source"`
	Kinds      []KindPlan  `json:"kinds"`
	Warnings   []Warning   `json:"warnings,omitempty"`
	Comparison *Comparison `json:"comparison,omitempty"` // the kept account beside this source, before any merge
}

// Preview answers "what would this merge do", with nothing written.
type Preview struct {
	Target          Account         `json:"target"`
	MoveExternalIDs bool            `json:"move_external_ids"`
	RevertAllowed   bool            `json:"revert_allowed"`
	Sources         []SourcePlan    `json:"sources"`
	Profile         []ProfileChange `json:"profile"` // the profile fields the target takes from a source
	Warnings        []Warning       `json:"warnings,omitempty"`
}

// MergeState is the stored state of a merge.
type MergeState string

const (
	StateActive        MergeState = "active"
	StateReverted      MergeState = "reverted"
	StatePermanent     MergeState = "permanent"      // the source was deleted: no revert
	StateTargetDeleted MergeState = "target_deleted" // out of the default list, kept for audit
	// StateIrreversible is shown, never stored: an active merge in a tenant
	// whose policy does not allow reverts.
	StateIrreversible MergeState = "irreversible"
)

// Merge is the record of one source merged into one target.
type Merge struct {
	TenantID        string          `json:"tenant"`
	ID              int64           `json:"id"`
	OperationID     int64           `json:"operation"`
	Batch           int64           `json:"batch,omitempty"` // the bulk merge it was part of (0: none)
	Source          Account         `json:"source"`
	Target          Account         `json:"target"`
	By              string          `json:"by"` // admin login
	Reason          string          `json:"reason,omitempty"`
	At              time.Time       `json:"at"`
	MoveExternalIDs bool            `json:"move_external_ids"`
	Policy          Policy          `json:"policy"`
	State           MergeState      `json:"state"`         // stored state
	DisplayState    MergeState      `json:"display_state"` // what an administrator sees
	SourcePrev      AccountStatus   `json:"source_previous_status"`
	RevertedAt      *time.Time      `json:"reverted_at,omitempty"`
	RevertedBy      string          `json:"reverted_by,omitempty"`
	Counts          map[Kind]Counts `json:"counts"`
	Profile         []ProfileChange `json:"profile"` // the profile fields the target took from the source
}

// MergeFilter selects merges for the list.
type MergeFilter struct {
	From, To       *time.Time // merged at in [From, To)
	Source, Target string     // matches name, login, email or external ID (substring, case-insensitive)
	Operation      int64      // only the merges of this operation (0: any)
	Batch          int64      // only the merges of this batch (0: any)
	State          MergeState // "" for the default list (everything but target_deleted); "all" for everything
	Page, PerPage  int        // 1-based
}

// MergePage is one page of the merge list, newest first.
type MergePage struct {
	Merges  []Merge `json:"merges"`
	Total   int64   `json:"total"`
	Page    int     `json:"page"`
	PerPage int     `json:"per_page"`
}

// Disposition says what a merge did with one record.
type Disposition string

const (
	Moved    Disposition = "moved"
	Combined Disposition = "combined"
	Retired  Disposition = "retired"
	Left     Disposition = "left"
	Changed  Disposition = "changed"
)

// FieldValue is one field of a record in a merge's details: its value now,
// and where the merge changed it, the value before and the value it wrote.
type FieldValue struct {
	Name   string  `json:"name"`
	Label  string  `json:"label"`
	Value  string  `json:"value"`           // now, as an administrator reads it ("" when absent)
	Title  string  `json:"title,omitempty"` // the catalog title of the value (a course's name), where the import gave one
	Before *string `json:"before,omitempty"`
	After  *string `json:"after,omitempty"`
}

// RecordChange is one record of a merge's details, once, with everything
// the merge did to it.
type RecordChange struct {
	Kind        Kind          `json:"kind"`
	RecordID    string        `json:"record"`
	Disposition Disposition   `json:"disposition"` // the main thing the merge did
	Actions     []Disposition `json:"actions"`     // everything it did: moved and changed (renumbered), say
	Account     string        `json:"account"`     // the account holding the record now
	Retired     bool          `json:"retired"`     // the record is retired now (kept for revert only)
	Fields      []FieldValue  `json:"fields"`
	Other       string        `json:"other,omitempty"`     // the record it was combined with or kept over
	KeptFrom    string        `json:"kept_from,omitempty"` // keep-latest rules: "target" or "source", whose record was kept
}

// KindDetails lists one page of one kind's records of a merge.
type KindDetails struct {
	Kind    Kind           `json:"kind"`
	Label   string         `json:"label"`
	Rule    string         `json:"rule"`
	Counts  Counts         `json:"counts"`
	Records []RecordChange `json:"records"`
	Total   int64          `json:"total"`  // records listed for the kind, on every page
	Offset  int            `json:"offset"` // records of the kind before this page
	More    int64          `json:"more"`   // records after this page
	// NextOffset is the offset of the next page, when there is one.
	NextOffset *int `json:"next_offset,omitempty"`
}

// MaxDetailsLimit is the most records of one kind a page of a merge's
// details lists.
const MaxDetailsLimit = 10_000

// DetailsPage chooses what a merge's details list: every kind or one, and
// which page of each kind's records.
type DetailsPage struct {
	Kind   Kind // "" for every kind
	Limit  int  // records per kind, 1 to MaxDetailsLimit
	Offset int  // records of the kind to skip; more than 0 only with Kind
}

// MergeDetails is everything about one merge.
type MergeDetails struct {
	Merge  Merge         `json:"merge"`
	Kinds  []KindDetails `json:"kinds"`
	Revert *RevertReport `json:"revert,omitempty"`
}

// Why a revert left a record as the merge left it.
const (
	// KeptChanged: the record changed after the merge; it keeps its newer
	// value on the target.
	KeptChanged = "changed_after_merge"
	// KeptItemTaken: giving the record back would collide with a newer
	// record of the same item; it stays retired and the newer one stays.
	KeptItemTaken = "item_taken"
)

// KeptReasonText says a KeptNewer reason in words.
func KeptReasonText(reason string) string {
	switch reason {
	case KeptChanged:
		return "changed after the merge: keeps its newer value"
	case KeptItemTaken:
		return "a newer record of the same item holds its place: stays as the merge left it"
	}
	return reason
}

// KeptNewer is a record a revert did not restore because of activity after
// the merge (PRODUCT.md §6), with the reason.
type KeptNewer struct {
	MergeID  int64             `json:"merge"`
	Kind     Kind              `json:"kind"`
	RecordID string            `json:"record"`
	Reason   string            `json:"reason"`  // KeptChanged or KeptItemTaken
	Account  string            `json:"account"` // the account holding it after the revert
	Merged   map[string]string `json:"merged"`  // the values the merge wrote
	Current  map[string]string `json:"current"` // the values kept
	Before   map[string]string `json:"before"`  // the values the merge replaced
}

// RevertReport is the outcome of one revert batch.
type RevertReport struct {
	Reverted  []int64     `json:"reverted"` // merge ids, in the order reverted (newest first)
	KeptNewer []KeptNewer `json:"kept_newer"`
	At        time.Time   `json:"at"`
	By        string      `json:"by"`
}
