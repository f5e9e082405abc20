package engine

import (
	"context"

	"usermerge"
	"usermerge/store"
)

// ResumeSession returns a suspended quiz session for the learner to resume.
// A session retired by a merge (the older of two) cannot be resumed.
func (e *Engine) ResumeSession(ctx context.Context, c Caller, id string) (store.QuizSession, error) {
	var s store.QuizSession
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		var err error
		if s, err = tx.QuizSession(ctx, a.tenant.ID, id); err != nil {
			return err
		}
		if _, err := a.account(ctx, tx, s.Account, false); err != nil {
			return err
		}
		if s.RetiredBy != nil {
			return usermerge.Errorf(usermerge.Conflict, "session_retired",
				"quiz session %s was retired by merge %d (a later session of the same quiz was kept) and cannot be resumed", id, *s.RetiredBy)
		}
		if s.GradedAt != nil {
			return usermerge.Errorf(usermerge.Conflict, "session_graded", "quiz session %s has been graded and cannot be resumed", id)
		}
		return nil
	})
	return s, err
}

// ForceGrade grades an account's suspended sessions of a quiz. After a
// merge only the kept session (latest study time) is graded; retired ones
// are not gradeable.
func (e *Engine) ForceGrade(ctx context.Context, c Caller, account, quiz string) ([]string, error) {
	var ids []string
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		acc, err := a.account(ctx, tx, account, true)
		if err != nil {
			return err
		}
		ids, err = tx.GradeSuspended(ctx, a.tenant.ID, acc.ID, quiz)
		return err
	})
	return ids, err
}

// ResolveExternalID returns the account an external ID resolves to now; a
// moved external ID resolves to the merge's target.
func (e *Engine) ResolveExternalID(ctx context.Context, c Caller, system, value string) (usermerge.Account, error) {
	var acc usermerge.Account
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		id, err := tx.ResolveExternalID(ctx, a.tenant.ID, system, value)
		if err != nil {
			return err
		}
		acc, err = a.account(ctx, tx, id, false)
		return err
	})
	return acc, err
}
