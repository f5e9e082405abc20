package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"usermerge"
	"usermerge/match"
)

// Duplicate detection's runs, matching rules, dismissals and review queue
// (migration 011). The records the finder reads and the pairs, suggestions
// and keys a run writes are in duplicate_records.go.

// DuplicateRun is a detection run with what the engine keeps of it besides
// what an administrator sees: the parameters and rules it scored with, and
// the data stamp of the snapshot it read.
type DuplicateRun struct {
	usermerge.DetectionRun
	Params          match.Params
	Rules           match.Rules
	FirstSuggestion int64
	DataStamp       string
	Heartbeat       time.Time
}

const duplicateRunCols = `id, scope, status, phase, done, total, started_at, finished_at, heartbeat, by_admin,
	stats, params, rules, first_suggestion, suggestions, error, data_stamp`

func scanDuplicateRun(tenant string, row interface{ Scan(...any) error }) (DuplicateRun, error) {
	var r DuplicateRun
	var started, heartbeat int64
	var finished sql.NullInt64
	var stats, params, rules string
	err := row.Scan(&r.ID, &r.Scope, &r.Status, &r.Phase, &r.Done, &r.Total, &started, &finished, &heartbeat, &r.By,
		&stats, &params, &rules, &r.FirstSuggestion, &r.Suggestions, &r.Error, &r.DataStamp)
	if err != nil {
		return r, err
	}
	r.Tenant, r.Started, r.Finished, r.Heartbeat = tenant, FromMillis(started), timePtr(finished), FromMillis(heartbeat)
	for _, f := range []struct {
		text string
		v    any
	}{{stats, &r.Stats}, {params, &r.Params}, {rules, &r.Rules}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.v); err != nil {
			return r, fmt.Errorf("detection run %d: %w", r.ID, err)
		}
	}
	return r, nil
}

// InsertDuplicateRun records a new running run and answers it. The partial
// unique index on running runs refuses a second one of the tenant
// (Conflict), even when two starts race.
func (tx *Tx) InsertDuplicateRun(ctx context.Context, tenant, scope, by string) (DuplicateRun, error) {
	id, err := tx.NextID(ctx, tenant, "duplicate_run")
	if err != nil {
		return DuplicateRun{}, err
	}
	now := Millis(tx.Now)
	_, err = tx.Exec(ctx, `INSERT INTO duplicate_runs (tenant_id, id, scope, status, started_at, heartbeat, by_admin)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenant, id, scope, usermerge.RunRunning, now, now, by)
	if err != nil {
		if usermerge.ErrorReason(tx.d.mapError(err)) == "duplicate" {
			return DuplicateRun{}, errRunInProgress()
		}
		return DuplicateRun{}, err
	}
	return tx.DuplicateRun(ctx, tenant, id)
}

func errRunInProgress() error {
	return usermerge.Errorf(usermerge.Conflict, "detection_running",
		"a detection run of this tenant is already in progress; follow it, or start another when it has finished")
}

// DuplicateRun answers run id of the tenant.
func (tx *Tx) DuplicateRun(ctx context.Context, tenant string, id int64) (DuplicateRun, error) {
	r, err := scanDuplicateRun(tenant, tx.QueryRow(ctx, `SELECT `+duplicateRunCols+` FROM duplicate_runs WHERE tenant_id = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, usermerge.Errorf(usermerge.NotFound, "run_not_found", "detection run %d does not exist", id)
	}
	return r, err
}

// LatestDuplicateRun answers the tenant's latest run with the status ("" for
// any), or NotFound.
func (tx *Tx) LatestDuplicateRun(ctx context.Context, tenant, status string) (DuplicateRun, error) {
	q, args := `SELECT `+duplicateRunCols+` FROM duplicate_runs WHERE tenant_id = ?`, []any{tenant}
	if status != "" {
		q, args = q+` AND status = ?`, append(args, status)
	}
	r, err := scanDuplicateRun(tenant, tx.QueryRow(ctx, q+` ORDER BY id DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if status == usermerge.RunDone {
			return r, usermerge.Errorf(usermerge.NotFound, "no_detection_run", "duplicates have not been looked for yet: run a detection first")
		}
		return r, usermerge.Errorf(usermerge.NotFound, "no_detection_run", "no detection run yet")
	}
	return r, err
}

// DuplicateProgress records a running run's phase and progress and that its
// process is alive; it answers false when the run is no longer running
// (another process found it stale and marked it interrupted).
func (tx *Tx) DuplicateProgress(ctx context.Context, tenant string, id int64, phase string, done, total int64) (bool, error) {
	n, err := tx.Exec(ctx, `UPDATE duplicate_runs SET phase = ?, done = ?, total = ?, heartbeat = ?
		WHERE tenant_id = ? AND id = ? AND status = ?`, phase, done, total, Millis(tx.Now), tenant, id, usermerge.RunRunning)
	return n > 0, err
}

// InterruptStaleRuns marks interrupted the running runs whose heartbeat is
// older than before: their process stopped. tenant "" is every tenant (at
// server start). It answers how many it marked.
func (tx *Tx) InterruptStaleRuns(ctx context.Context, tenant string, before time.Time) (int64, error) {
	q, args := `UPDATE duplicate_runs SET status = ?, finished_at = ?, error = ?
		WHERE status = ? AND heartbeat < ?`, []any{usermerge.RunInterrupted, Millis(tx.Now),
		"the process running this detection stopped before it finished; the review queue is unchanged; start a new run",
		usermerge.RunRunning, Millis(before)}
	if tenant != "" {
		q, args = q+` AND tenant_id = ?`, append(args, tenant)
	}
	return tx.Exec(ctx, q, args...)
}

// ReserveSuggestions records how many suggestions run id writes and answers
// the first of their ids: suggestion ids are unique in the tenant across
// runs, so that an id of an older queue never names another suggestion.
func (tx *Tx) ReserveSuggestions(ctx context.Context, tenant string, id int64, n int) (int64, error) {
	first, err := tx.Count(ctx, `SELECT COALESCE(MAX(first_suggestion + suggestions), 0) + 1 FROM duplicate_runs WHERE tenant_id = ?`, tenant)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `UPDATE duplicate_runs SET first_suggestion = ?, suggestions = ? WHERE tenant_id = ? AND id = ?`, first, n, tenant, id)
	return first, err
}

// FinishDuplicateRun flips a running run to done, which makes it the review
// queue, or marks it failed with an administrator's message. A run that is
// no longer running (found stale meanwhile) is refused as a conflict.
func (tx *Tx) FinishDuplicateRun(ctx context.Context, r DuplicateRun) error {
	stats, err := json.Marshal(r.Stats)
	if err != nil {
		return err
	}
	params, err := json.Marshal(r.Params)
	if err != nil {
		return err
	}
	rules, err := json.Marshal(r.Rules)
	if err != nil {
		return err
	}
	n, err := tx.Exec(ctx, `UPDATE duplicate_runs SET status = ?, finished_at = ?, heartbeat = ?, phase = ?, done = ?, total = ?,
		stats = ?, params = ?, rules = ?, error = ?, data_stamp = ?
		WHERE tenant_id = ? AND id = ? AND status = ?`,
		r.Status, Millis(tx.Now), Millis(tx.Now), r.Phase, r.Done, r.Total, string(stats), string(params), string(rules), r.Error, r.DataStamp,
		r.Tenant, r.ID, usermerge.RunRunning)
	if err != nil {
		return err
	}
	if n == 0 {
		return usermerge.Errorf(usermerge.Conflict, "run_interrupted",
			"detection run %d was marked interrupted while it worked (it gave no sign of life for too long); the review queue is unchanged", r.ID)
	}
	return nil
}

// DuplicateDataStamp is a cheap summary of what duplicate detection reads,
// compared with the stamp of the latest done run to tell whether its
// suggestions are stale. It catches accounts created, deleted or restored,
// merges and reverts, external IDs added or retired, group memberships
// added or removed, and a change of the matching rules; each is a count
// read from an index. It does not catch an account's name, e-mail or
// attributes edited in place (an import updating existing accounts) or new
// sign-ins: a "changed" run finds those by the accounts' fingerprints.
func (tx *Tx) DuplicateDataStamp(ctx context.Context, tenant string) (string, error) {
	var n [6]int64
	var rules string
	err := tx.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM accounts WHERE tenant_id = ?),
		(SELECT COUNT(*) FROM accounts WHERE tenant_id = ? AND deleted_at IS NOT NULL),
		(SELECT COUNT(*) FROM merges WHERE tenant_id = ?),
		(SELECT COUNT(*) FROM merges WHERE tenant_id = ? AND reverted_at IS NOT NULL),
		(SELECT COUNT(*) FROM external_ids WHERE tenant_id = ? AND retired_by IS NULL),
		(SELECT COUNT(*) FROM memberships WHERE tenant_id = ?),
		(SELECT matching_rules FROM tenants WHERE id = ?)`,
		tenant, tenant, tenant, tenant, tenant, tenant, tenant).Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &rules)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("accounts=%d deleted=%d merges=%d reverted=%d external_ids=%d memberships=%d rules=%s",
		n[0], n[1], n[2], n[3], n[4], n[5], rules), nil
}

// MatchingRules answers the tenant's matching rules and whether it set
// them (the defaults when not).
func (tx *Tx) MatchingRules(ctx context.Context, tenant string) (match.Rules, bool, error) {
	var text string
	if err := tx.QueryRow(ctx, `SELECT matching_rules FROM tenants WHERE id = ?`, tenant).Scan(&text); err != nil {
		return match.Rules{}, false, notFound(err, "tenant %q does not exist", tenant)
	}
	if text == "" {
		return match.DefaultRules(), false, nil
	}
	var r match.Rules
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return r, false, fmt.Errorf("matching rules of tenant %s: %w", tenant, err)
	}
	return r, true, nil
}

// PutMatchingRules saves the tenant's matching rules.
func (tx *Tx) PutMatchingRules(ctx context.Context, tenant string, r match.Rules) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE tenants SET matching_rules = ? WHERE id = ?`, string(b), tenant)
	return err
}

// orderPair puts two account ids in the stored order, a < b.
func orderPair(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// PutDismissal remembers that a and b are not the same person. It is
// idempotent: a pair dismissed before keeps its first who and when, which
// it answers.
func (tx *Tx) PutDismissal(ctx context.Context, tenant, a, b, by string) (usermerge.Dismissal, error) {
	a, b = orderPair(a, b)
	if a == b {
		return usermerge.Dismissal{}, usermerge.Errorf(usermerge.Invalid, "same_account", "an account cannot be dismissed as a duplicate of itself")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO duplicate_dismissals (tenant_id, a, b, by_admin, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, a, b) DO NOTHING`, tenant, a, b, by, Millis(tx.Now)); err != nil {
		return usermerge.Dismissal{}, err
	}
	d := usermerge.Dismissal{A: a, B: b}
	var at int64
	err := tx.QueryRow(ctx, `SELECT by_admin, at FROM duplicate_dismissals WHERE tenant_id = ? AND a = ? AND b = ?`, tenant, a, b).Scan(&d.By, &at)
	d.At = FromMillis(at)
	return d, err
}

// inGroups is the SQL condition that account column col belongs to one of
// groups (nil: no condition), with its arguments.
func inGroups(col string, groups []string) (string, []any) {
	if groups == nil {
		return "", nil
	}
	if len(groups) == 0 {
		return " AND 1 = 0", nil
	}
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	return ` AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ? AND m.account_id = ` + col + ` AND m.group_id IN (` + placeholders(len(groups)) + `))`, args
}

// Dismissals lists the tenant's dismissed pairs, newest first; with groups
// (not nil) only those whose two accounts are both in one of them.
func (tx *Tx) Dismissals(ctx context.Context, tenant string, groups []string, limit, offset int) ([]usermerge.Dismissal, error) {
	q, args := `SELECT d.a, d.b, d.by_admin, d.at FROM duplicate_dismissals d WHERE d.tenant_id = ?`, []any{tenant}
	for _, col := range []string{"d.a", "d.b"} {
		cond, cargs := inGroups(col, groups)
		if cond != "" {
			q += cond
			if len(cargs) > 0 {
				args = append(append(args, tenant), cargs...)
			}
		}
	}
	rows, err := tx.Query(ctx, q+` ORDER BY d.at DESC, d.a, d.b LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []usermerge.Dismissal{}
	for rows.Next() {
		var d usermerge.Dismissal
		var at int64
		if err := rows.Scan(&d.A, &d.B, &d.By, &at); err != nil {
			return nil, err
		}
		d.At = FromMillis(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// AllDismissals streams every dismissed pair of the tenant (for a run).
func (tx *Tx) AllDismissals(ctx context.Context, tenant string, fn func(a, b string)) error {
	rows, err := tx.Query(ctx, `SELECT a, b FROM duplicate_dismissals WHERE tenant_id = ?`, tenant)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
}

// SuggestionQuery selects suggestions of one run's queue.
type SuggestionQuery struct {
	Tenant string
	Run    int64
	Grade  match.Grade // "" for every grade
	ID     int64       // one suggestion (0 for a page)
	// Groups: nil for the whole tenant; otherwise every account of a
	// suggestion must be in one of them.
	Groups        []string
	Limit, Offset int
}

// StoredSuggestion is a suggestion as a run stored it.
type StoredSuggestion struct {
	ID          int64
	Run         int64
	Grade       match.Grade
	Probability float64
	Keep        string
	KeepReason  string
	Accounts    []string // Keep first
	Pairs       []match.Pair
}

// queueWhere is the review queue's condition on duplicate_suggestions s:
// the run's suggestions none of whose accounts was merged away or deleted
// since, none of whose pairs was dismissed since, and, for a group manager,
// all of whose accounts are in their groups.
func (q SuggestionQuery) where() (string, []any) {
	w := `s.tenant_id = ? AND s.run_id = ?
		AND NOT EXISTS (SELECT 1 FROM duplicate_suggestion_accounts sa JOIN accounts a ON a.tenant_id = sa.tenant_id AND a.id = sa.account_id
			WHERE sa.tenant_id = s.tenant_id AND sa.suggestion_id = s.id AND (a.deleted_at IS NOT NULL OR a.merged_into IS NOT NULL))
		AND NOT EXISTS (SELECT 1 FROM duplicate_suggestion_accounts x
			JOIN duplicate_suggestion_accounts y ON y.tenant_id = x.tenant_id AND y.suggestion_id = x.suggestion_id AND y.account_id > x.account_id
			JOIN duplicate_dismissals d ON d.tenant_id = x.tenant_id AND d.a = x.account_id AND d.b = y.account_id
			WHERE x.tenant_id = s.tenant_id AND x.suggestion_id = s.id)`
	args := []any{q.Tenant, q.Run}
	if q.Groups != nil {
		if len(q.Groups) == 0 {
			return w + " AND 1 = 0", args
		}
		w += ` AND NOT EXISTS (SELECT 1 FROM duplicate_suggestion_accounts sa WHERE sa.tenant_id = s.tenant_id AND sa.suggestion_id = s.id
			AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = sa.tenant_id AND m.account_id = sa.account_id
				AND m.group_id IN (` + placeholders(len(q.Groups)) + `)))`
		for _, g := range q.Groups {
			args = append(args, g)
		}
	}
	if q.ID != 0 {
		w, args = w+` AND s.id = ?`, append(args, q.ID)
	}
	return w, args
}

// DuplicateSuggestions answers one page of the queue, strongest first, the
// number of suggestions the query selects in all, and per grade (the grade
// filter aside).
func (tx *Tx) DuplicateSuggestions(ctx context.Context, q SuggestionQuery) ([]StoredSuggestion, int, map[match.Grade]int, error) {
	w, args := q.where()
	counts := map[match.Grade]int{match.GradeCertain: 0, match.GradeProbable: 0, match.GradePossible: 0}
	rows, err := tx.Query(ctx, `SELECT s.grade, COUNT(*) FROM duplicate_suggestions s WHERE `+w+` GROUP BY s.grade`, args...)
	if err != nil {
		return nil, 0, nil, err
	}
	total := 0
	for rows.Next() {
		var g string
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			rows.Close()
			return nil, 0, nil, err
		}
		counts[match.Grade(g)] = n
		if q.Grade == "" || q.Grade == match.Grade(g) {
			total += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, nil, err
	}
	if q.Grade != "" {
		w, args = w+` AND s.grade = ?`, append(args, string(q.Grade))
	}
	rows, err = tx.Query(ctx, `SELECT s.id, s.run_id, s.grade, s.probability, s.keep_id, s.keep_reason, s.accounts, s.pairs
		FROM duplicate_suggestions s WHERE `+w+` ORDER BY s.probability DESC, s.id LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, nil, err
	}
	defer rows.Close()
	var out []StoredSuggestion
	for rows.Next() {
		var s StoredSuggestion
		var grade, accounts, pairs string
		if err := rows.Scan(&s.ID, &s.Run, &grade, &s.Probability, &s.Keep, &s.KeepReason, &accounts, &pairs); err != nil {
			return nil, 0, nil, err
		}
		s.Grade = match.Grade(grade)
		if err := json.Unmarshal([]byte(accounts), &s.Accounts); err != nil {
			return nil, 0, nil, fmt.Errorf("suggestion %d: %w", s.ID, err)
		}
		if err := json.Unmarshal([]byte(pairs), &s.Pairs); err != nil {
			return nil, 0, nil, fmt.Errorf("suggestion %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	return out, total, counts, rows.Err()
}

// placeholderArgs turns strings into query arguments.
func placeholderArgs(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
