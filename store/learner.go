package store

import (
	"context"
	"database/sql"
)

// QuizSession is a suspended "in-study" quiz session.
type QuizSession struct {
	ID            string
	Account       string
	Quiz          string
	Answers       string
	LastStudiedAt int64
	GradedAt      *int64
	RetiredBy     *int64
}

// QuizSession returns one quiz session.
func (tx *Tx) QuizSession(ctx context.Context, tenant, id string) (QuizSession, error) {
	var s QuizSession
	var graded, retired sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT id, account_id, quiz_id, answers, last_studied_at, graded_at, retired_by FROM quiz_sessions
		WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&s.ID, &s.Account, &s.Quiz, &s.Answers, &s.LastStudiedAt, &graded, &retired)
	if err != nil {
		return s, notFound(err, "quiz session %q does not exist", id)
	}
	if graded.Valid {
		s.GradedAt = &graded.Int64
	}
	if retired.Valid {
		s.RetiredBy = &retired.Int64
	}
	return s, nil
}

// GradeSuspended force-grades an account's suspended sessions of a quiz.
// Retired sessions are never graded: only the kept one is.
func (tx *Tx) GradeSuspended(ctx context.Context, tenant, account, quiz string) ([]string, error) {
	ids, err := tx.strings(ctx, `SELECT id FROM quiz_sessions WHERE tenant_id = ? AND account_id = ? AND quiz_id = ?
		AND retired_by IS NULL AND graded_at IS NULL ORDER BY id`, tenant, account, quiz)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `UPDATE quiz_sessions SET graded_at = ? WHERE tenant_id = ? AND account_id = ? AND quiz_id = ?
		AND retired_by IS NULL AND graded_at IS NULL`, Millis(tx.Now), tenant, account, quiz)
	return ids, err
}

// ResolveExternalID returns the account an external ID belongs to now.
func (tx *Tx) ResolveExternalID(ctx context.Context, tenant, system, value string) (string, error) {
	var acc string
	err := tx.QueryRow(ctx, `SELECT account_id FROM external_ids WHERE tenant_id = ? AND system = ? AND value = ?`, tenant, system, value).Scan(&acc)
	if err != nil {
		return "", notFound(err, "no account has external ID %s:%s", system, value)
	}
	return acc, nil
}
