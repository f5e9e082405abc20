package engine

import (
	"context"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
)

// SuggestionRows turns a selection of duplicate suggestions into batch
// rows, each suggestion merged into its suggested kept account: every
// suggestion of a grade in the caller's review queue (the latest done
// detection run's, wholly in the caller's scope), or the ones named by id.
// A row's Line is its place in the selection, its Suggestion the
// suggestion's id. An id not in the queue refuses the selection. The rows
// name accounts by login, as a file would, where the login names the same
// account back (by id otherwise). Selecting needs the merge-edit right; a
// group manager's grade selects the suggestions wholly in the groups they
// may edit.
func (e *Engine) SuggestionRows(ctx context.Context, c Caller, sel usermerge.SuggestionSelection) ([]usermerge.BatchRow, error) {
	if (sel.Grade == "") == (len(sel.IDs) == 0) {
		return nil, usermerge.Errorf(usermerge.Invalid, "selection_required", "select the suggestions by grade or by their ids (one of the two)")
	}
	if err := validGrade(sel.Grade); err != nil {
		return nil, err
	}
	if len(sel.IDs) > usermerge.MaxBatchRows {
		return nil, usermerge.Errorf(usermerge.Invalid, "too_many_rows", "a batch holds at most %d rows, not %d", usermerge.MaxBatchRows, len(sel.IDs))
	}
	var rows []usermerge.BatchRow
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		rows = nil
		if err := a.requireEdit(); err != nil {
			return err
		}
		var list []store.StoredSuggestion
		var err error
		if sel.Grade != "" {
			list, err = gradeSuggestions(ctx, tx, a, sel.Grade)
		} else {
			list, err = namedSuggestions(ctx, tx, a, sel.IDs)
		}
		if err != nil {
			return err
		}
		for i, s := range list {
			r := usermerge.BatchRow{Line: i + 1, Target: s.Keep, Sources: []string{}, MoveExternalIDs: sel.MoveExternalIDs,
				Reason: sel.Reason, Suggestion: s.ID}
			for _, acc := range s.Accounts {
				if acc != s.Keep {
					r.Sources = append(r.Sources, acc)
				}
			}
			rows = append(rows, r)
		}
		return nameByLogin(ctx, tx, a.tenant.ID, rows)
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, usermerge.Errorf(usermerge.NotFound, "selection_empty", "no suggestion of grade %s is in the review queue", sel.Grade)
	}
	return rows, nil
}

// nameByLogin names each row's accounts by login where the login resolves
// back to the same account (an id of another account could shadow it).
func nameByLogin(ctx context.Context, tx *store.Tx, tenant string, rows []usermerge.BatchRow) error {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.Target)
		ids = append(ids, r.Sources...)
	}
	byID, err := tx.AccountsByRefs(ctx, tenant, ids)
	if err != nil {
		return err
	}
	logins := make([]string, 0, len(byID))
	for _, acc := range byID {
		if acc.Login != "" {
			logins = append(logins, acc.Login)
		}
	}
	byLogin, err := tx.AccountsByRefs(ctx, tenant, logins)
	if err != nil {
		return err
	}
	name := func(id string) string {
		acc, ok := byID[id]
		if !ok || acc.ID != id || acc.Login == "" {
			return id
		}
		if back, ok := byLogin[acc.Login]; ok && back.ID == id {
			return acc.Login
		}
		return id
	}
	for i := range rows {
		rows[i].Target = name(rows[i].Target)
		for j, src := range rows[i].Sources {
			rows[i].Sources[j] = name(src)
		}
	}
	return nil
}

// gradeSuggestions reads every suggestion of a grade in the caller's
// queue, a page at a time, in id order.
func gradeSuggestions(ctx context.Context, tx *store.Tx, a *actor, g match.Grade) ([]store.StoredSuggestion, error) {
	run, err := tx.LatestDuplicateRun(ctx, a.tenant.ID, usermerge.RunDone)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []store.StoredSuggestion
	for {
		page, _, _, err := tx.DuplicateSuggestions(ctx, store.SuggestionQuery{Tenant: a.tenant.ID, Run: run.ID, Grade: g,
			Groups: a.editGroups(), Limit: MaxSuggestionsPage, Offset: len(out)})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) > usermerge.MaxBatchRows {
			return nil, usermerge.Errorf(usermerge.Invalid, "too_many_rows", "more than %d suggestions are %s: a batch holds at most %d rows; select them by id",
				usermerge.MaxBatchRows, g, usermerge.MaxBatchRows)
		}
		if len(page) < MaxSuggestionsPage {
			return out, nil
		}
	}
}

// namedSuggestions reads the suggestions named, in the order named; each
// must be in the caller's queue, and named once.
func namedSuggestions(ctx context.Context, tx *store.Tx, a *actor, list []int64) ([]store.StoredSuggestion, error) {
	var l problemList
	var out []store.StoredSuggestion
	seen := make(map[int64]bool, len(list))
	for i, id := range list {
		if seen[id] {
			l.add(i+1, "suggestion_named_twice", "suggestion %d is named twice", id)
			continue
		}
		seen[id] = true
		s, err := queued(ctx, tx, a, id)
		if err != nil {
			p := rowProblem(i+1, err)
			if p == nil {
				return nil, err
			}
			l.add(p.Line, p.Reason, "%s", p.Message)
			continue
		}
		out = append(out, s)
	}
	if l.bad() {
		return nil, l.refused(len(list), "suggestions of it are not in the review queue")
	}
	return out, nil
}
