package engine

import "usermerge"

// Bulk merges (PRODUCT.md §12). A batch is checked as a whole before
// anything is written, stored with its rows in working order, then run row
// by row: each row is one merge operation in one transaction, and the row's
// status is written in that same transaction, so that after a crash the
// batch resumes at the first pending row with no row lost and none merged
// twice. One worker at a time holds a batch's lease; a worker whose lease
// ran out (its process died) loses the batch to the next.

// errNotBuilt marks the calls of the contract not built yet.
var errNotBuilt = usermerge.Errorf(usermerge.Unavailable, "not_built", "bulk merges are not built yet")
