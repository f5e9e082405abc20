package usermerge

import (
	"fmt"
	"strings"
	"time"

	"usermerge/match"
)

// Bulk merges (PRODUCT.md §12): a batch is many merge operations submitted
// at once, from a file or from a selection of duplicate suggestions,
// checked as a whole, then run row by row, each row one operation in one
// transaction. The engine runs them; these are the shapes every surface
// shows. docs/batches.md documents the file formats.

const (
	// MaxBatchRows is the most rows one batch may hold.
	MaxBatchRows = 100_000
	// MaxBatchBytes is the largest batch file accepted.
	MaxBatchBytes = 32 << 20
	// MaxRowProblems is the most problems a refused batch lists; the rest
	// are counted in BatchProblems.More.
	MaxRowProblems = 1000
)

// BatchRow is one row of a batch: one merge operation. Accounts are named
// by id, login or external ID (written system:value).
type BatchRow struct {
	// Line is the row's line in its file, 1-based, the header counted (for
	// a batch made of suggestions, the row's position in the selection).
	Line            int      `json:"line"`
	Target          string   `json:"target"`
	Sources         []string `json:"sources"`
	MoveExternalIDs *bool    `json:"move_external_ids,omitempty"` // nil: the tenant's default
	Reason          string   `json:"reason,omitempty"`
	// Suggestion is the duplicate suggestion the row was made of (0: none).
	Suggestion int64 `json:"suggestion,omitempty"`
}

// Request is the row as a merge request.
func (r BatchRow) Request() MergeRequest {
	return MergeRequest{Target: r.Target, Sources: r.Sources, MoveExternalIDs: r.MoveExternalIDs, Reason: r.Reason}
}

// RowProblem is why a row is refused: by the file's parser, by the check of
// the whole batch, or when it runs.
type RowProblem struct {
	Line    int    `json:"line"`
	Reason  string `json:"reason"` // stable, machine-readable: "account_not_found", "source_in_two_rows", ...
	Message string `json:"message"`
}

// BatchProblems is a batch refused as a whole: nothing was written. It is
// carried as the Err of an Error (Code Invalid or Conflict, Reason
// "batch_refused"); surfaces find it with errors.As and list every row.
type BatchProblems struct {
	Rows     int          `json:"rows"` // rows in the file
	Problems []RowProblem `json:"problems"`
	// More counts the problems left out of the list (past MaxRowProblems).
	More int `json:"more,omitempty"`
}

func (p *BatchProblems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in %d rows", len(p.Problems)+p.More, p.Rows)
	for i, pr := range p.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(p.Problems)+p.More-5)
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", pr.Line, pr.Message)
	}
	return b.String()
}

// BatchStatus is the state of a batch.
type BatchStatus string

const (
	BatchReady     BatchStatus = "ready"     // checked and stored; not started
	BatchRunning   BatchStatus = "running"   // rows are being merged (or will be, by the next worker)
	BatchPaused    BatchStatus = "paused"    // stopped between rows by an admin; resume goes on
	BatchCancelled BatchStatus = "cancelled" // stopped by an admin; the rows not run are cancelled
	BatchDone      BatchStatus = "done"      // every row merged or refused
	BatchReverting BatchStatus = "reverting" // its merges are being reverted, newest first
	BatchReverted  BatchStatus = "reverted"  // every merge of it that could be reverted was
)

// RowStatus is the state of one row.
type RowStatus string

const (
	RowPending       RowStatus = "pending"
	RowMerged        RowStatus = "merged"
	RowRefused       RowStatus = "refused"   // when it ran: the reason says why; nothing of it was written
	RowCancelled     RowStatus = "cancelled" // the batch was cancelled before it ran
	RowReverted      RowStatus = "reverted"
	RowRevertRefused RowStatus = "revert_refused" // a partial batch revert left it merged: the reason says why
)

// Batch is one bulk merge: a job whose state lives in the database.
type Batch struct {
	ID     int64       `json:"id"`
	Tenant string      `json:"-"`
	Name   string      `json:"name"`   // the file's name, or the selection ("certain suggestions")
	Origin string      `json:"origin"` // "file" or "suggestions"
	Status BatchStatus `json:"status"`
	By     string      `json:"by"` // the admin who submitted it
	// Counts of rows.
	Rows      int `json:"rows"`
	Merged    int `json:"merged"`
	Refused   int `json:"refused"`
	Cancelled int `json:"cancelled"`
	Left      int `json:"left"` // pending
	Reverted  int `json:"reverted"`
	// RevertRefused counts the rows a batch revert left merged (they
	// count in Merged too, as Reverted does).
	RevertRefused int `json:"revert_refused,omitempty"`
	// Merges is the number of merge records the batch made (a row of
	// three sources makes three).
	Merges   int        `json:"merges"`
	Created  time.Time  `json:"created"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	// SecondsLeft estimates the time left of a running batch from its
	// pace so far (nil when unknown).
	SecondsLeft *float64 `json:"seconds_left,omitempty"`
	// RowsPerSecond is the pace of the run so far (0 before any row ran).
	RowsPerSecond float64    `json:"rows_per_second"`
	RevertedAt    *time.Time `json:"reverted_at,omitempty"`
	RevertedBy    string     `json:"reverted_by,omitempty"`
	// PartialRevert: the revert was asked to revert what it can and report
	// the rest.
	PartialRevert bool `json:"partial_revert,omitempty"`
}

// BatchRowResult is one row of a batch's report.
type BatchRowResult struct {
	BatchRow
	// Order is the row's place in the working order (1-based): a row
	// whose target another row merges away runs before it.
	Order     int       `json:"order"`
	Status    RowStatus `json:"status"`
	TargetID  string    `json:"target_id"`  // as the check resolved it
	SourceIDs []string  `json:"source_ids"` // as the check resolved them
	Operation int64     `json:"operation,omitempty"`
	Merges    []int64   `json:"merges,omitempty"` // one per source, in order
	// Problem says why the row was refused (or its revert refused).
	Problem *RowProblem `json:"problem,omitempty"`
	At      *time.Time  `json:"at,omitempty"` // when it was merged or refused
}

// BatchRowFilter selects rows of a batch's report.
type BatchRowFilter struct {
	Status RowStatus // "" for every row
	Limit  int
	Offset int
}

// BatchRowPage is one page of a batch's report, in working order.
type BatchRowPage struct {
	Rows  []BatchRowResult `json:"rows"`
	Total int              `json:"total"`
}

// BatchPlan is the dry run of a batch: per row, what the merge would do or
// why it is refused. Nothing is written.
type BatchPlan struct {
	Rows    int            `json:"rows"`
	Ready   int            `json:"ready"`
	Refused int            `json:"refused"`
	Plans   []BatchRowPlan `json:"plans"` // in working order
	// Total adds up the counts of every ready row, per kind.
	Total map[Kind]Counts `json:"total"`
}

// BatchRowPlan is one row of a dry run.
type BatchRowPlan struct {
	BatchRow
	Order     int      `json:"order"`
	TargetID  string   `json:"target_id,omitempty"`
	SourceIDs []string `json:"source_ids,omitempty"`
	// After is the line of the row that must run first (a chain: this
	// row's source is that row's target), 0 when none. A row's counts are
	// of the data as it is now, before any row of the batch.
	After   int             `json:"after,omitempty"`
	Counts  map[Kind]Counts `json:"counts,omitempty"` // summed over the row's sources
	Problem *RowProblem     `json:"problem,omitempty"`
}

// SuggestionSelection makes a batch of duplicate suggestions: every
// suggestion of a grade, or the ones named, each merged into its
// suggested kept account.
type SuggestionSelection struct {
	Grade           match.Grade `json:"grade,omitempty"` // "" with IDs
	IDs             []int64     `json:"ids,omitempty"`
	MoveExternalIDs *bool       `json:"move_external_ids,omitempty"`
	Reason          string      `json:"reason,omitempty"`
}

// BatchRevert answers a batch revert request.
type BatchRevert struct {
	Batch Batch `json:"batch"`
	// Refused lists the rows whose merges cannot be reverted: with a
	// partial revert they stay merged; without, nothing was reverted.
	Refused []RowProblem `json:"refused"`
}
