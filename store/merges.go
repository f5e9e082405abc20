package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"usermerge"
)

// NextID allocates the next value of a per-tenant counter ("merge",
// "operation", "event"). Called inside the transaction after the accounts
// are locked, so merge ids follow commit order on overlapping accounts.
func (tx *Tx) NextID(ctx context.Context, tenant, name string) (int64, error) {
	return tx.d.nextID(ctx, tx, tenant, name)
}

// LockAccounts takes the locks a merge, revert or deletion needs on its
// accounts, one by one in sorted order so that two operations never wait on
// each other in a cycle. A lock that cannot be had in time is refused with
// "another merge is in progress for account X".
func (tx *Tx) LockAccounts(ctx context.Context, tenant string, ids []string) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for _, id := range slices.Compact(sorted) {
		if err := tx.d.lockAccount(ctx, tx, tenant, id); err != nil {
			return err
		}
	}
	return nil
}

// InsertMerge records a merge (state active) and its counts.
func (tx *Tx) InsertMerge(ctx context.Context, m usermerge.Merge) error {
	pol, err := json.Marshal(m.Policy)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO merges (tenant_id, id, operation_id, source_id, target_id, by_admin, reason, at,
		move_external_ids, policy, state, source_prev_status, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TenantID, m.ID, m.OperationID, m.Source.ID, m.Target.ID, m.By, m.Reason, Millis(m.At),
		b2i(m.MoveExternalIDs), string(pol), string(usermerge.StateActive), string(m.SourcePrev), m.Batch)
	return err
}

// PutCounts records a merge's counts, one row per kind, in one statement
// (kinds in the order of usermerge.Kinds; absent kinds count zero).
func (tx *Tx) PutCounts(ctx context.Context, tenant string, merge int64, counts map[usermerge.Kind]usermerge.Counts) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO merge_counts (tenant_id, merge_id, kind, moved, combined, retired, left_, changed) VALUES `)
	args := make([]any, 0, 8*len(usermerge.Kinds))
	for i, k := range usermerge.Kinds {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		c := counts[k]
		args = append(args, tenant, merge, string(k), c.Moved, c.Combined, c.Retired, c.Left, c.Changed)
	}
	_, err := tx.Exec(ctx, q.String(), args...)
	return err
}

// MarkMerged deactivates a source and marks it as merged into target.
func (tx *Tx) MarkMerged(ctx context.Context, tenant, source, target string, merge int64) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET status = 'inactive', merged_into = ?, merged_by = ? WHERE tenant_id = ? AND id = ?`,
		target, merge, tenant, source)
	return err
}

// UnmarkMerged gives a source back its status from before the merge.
func (tx *Tx) UnmarkMerged(ctx context.Context, tenant, source string, status usermerge.AccountStatus) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET status = ?, merged_into = NULL, merged_by = NULL WHERE tenant_id = ? AND id = ?`,
		string(status), tenant, source)
	return err
}

// SetMergeState changes a merge's stored state; for reverts it records who and when.
func (tx *Tx) SetMergeState(ctx context.Context, tenant string, id int64, s usermerge.MergeState, by string) error {
	if s == usermerge.StateReverted {
		_, err := tx.Exec(ctx, `UPDATE merges SET state = ?, reverted_at = ?, reverted_by = ? WHERE tenant_id = ? AND id = ?`,
			string(s), Millis(tx.Now), by, tenant, id)
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE merges SET state = ? WHERE tenant_id = ? AND id = ?`, string(s), tenant, id)
	return err
}

// InEarlierMerge reports whether an account took part in a merge, as source
// or target, reverted or not: only then may its rows carry moved_by marks
// (a revert leaves the mark, so that the reverted merge's details can still
// list the records it moved).
func (tx *Tx) InEarlierMerge(ctx context.Context, tenant, account string) (bool, error) {
	n, err := tx.Count(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM merges WHERE tenant_id = ? AND target_id = ?)
		OR EXISTS (SELECT 1 FROM merges WHERE tenant_id = ? AND source_id = ?) THEN 1 ELSE 0 END`, tenant, account, tenant, account)
	return n > 0, err
}

// LaterMerges returns the ids of merges after id that are not reverted and
// involve one of the accounts, oldest first.
func (tx *Tx) LaterMerges(ctx context.Context, tenant string, id int64, accounts ...string) ([]int64, error) {
	ph := placeholders(len(accounts))
	args := []any{tenant, id}
	for range 2 {
		for _, a := range accounts {
			args = append(args, a)
		}
	}
	return tx.int64s(ctx, `SELECT id FROM merges WHERE tenant_id = ? AND id > ? AND state <> 'reverted'
		AND (source_id IN (`+ph+`) OR target_id IN (`+ph+`)) ORDER BY id`, args...)
}

// MergesInvolving returns the ids of merges (any state) where the account is
// the source or the target, with the given states; empty states means all.
func (tx *Tx) MergesInvolving(ctx context.Context, tenant, account, role string, states ...usermerge.MergeState) ([]int64, error) {
	col := "source_id"
	if role == "target" {
		col = "target_id"
	}
	q := `SELECT id FROM merges WHERE tenant_id = ? AND ` + col + ` = ?`
	args := []any{tenant, account}
	if len(states) > 0 {
		q += ` AND state IN (` + placeholders(len(states)) + `)`
		for _, s := range states {
			args = append(args, string(s))
		}
	}
	return tx.int64s(ctx, q+` ORDER BY id`, args...)
}

// int64s runs a query returning one integer column.
func (tx *Tx) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const mergeCols = `m.tenant_id, m.id, m.operation_id, m.source_id, m.target_id, m.by_admin, m.reason, m.at, m.move_external_ids,
	m.policy, m.state, m.source_prev_status, m.reverted_at, COALESCE(m.reverted_by, ''), m.batch_id`

func (tx *Tx) scanMerges(ctx context.Context, rows *sql.Rows) ([]usermerge.Merge, error) {
	var out []usermerge.Merge
	for rows.Next() {
		var m usermerge.Merge
		var at int64
		var pol, state, prev string
		var rev sql.NullInt64
		if err := rows.Scan(&m.TenantID, &m.ID, &m.OperationID, &m.Source.ID, &m.Target.ID, &m.By, &m.Reason, &at,
			&m.MoveExternalIDs, &pol, &state, &prev, &rev, &m.RevertedBy, &m.Batch); err != nil {
			rows.Close()
			return nil, err
		}
		m.At, m.State, m.SourcePrev, m.RevertedAt = FromMillis(at), usermerge.MergeState(state), usermerge.AccountStatus(prev), timePtr(rev)
		if err := json.Unmarshal([]byte(pol), &m.Policy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("merge %d policy: %w", m.ID, err)
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, tx.fillMerges(ctx, out)
}

// fillMerges loads the merges' accounts and counts and computes their
// display state, with one query for all the accounts and one for all the
// counts (a page of the list is 50 merges: a query per merge would make the
// round trips cost more than the search).
func (tx *Tx) fillMerges(ctx context.Context, ms []usermerge.Merge) error {
	if len(ms) == 0 {
		return nil
	}
	tenant := ms[0].TenantID
	var ids []any
	var accIDs []string
	for _, m := range ms {
		if m.TenantID != tenant {
			return fmt.Errorf("fill merges: merges of tenants %s and %s", tenant, m.TenantID)
		}
		ids = append(ids, m.ID)
		accIDs = append(accIDs, m.Source.ID, m.Target.ID)
	}
	slices.Sort(accIDs)
	accIDs = slices.Compact(accIDs)
	in, inArgs := inList(tx, "a.id", accIDs)
	rows, err := tx.Query(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.tenant_id = ? AND `+in, append([]any{tenant}, inArgs...)...)
	if err != nil {
		return err
	}
	accounts := map[string]usermerge.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return err
		}
		accounts[a.ID] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT merge_id, kind, moved, combined, retired, left_, changed FROM merge_counts
		WHERE tenant_id = ? AND merge_id IN (`+placeholders(len(ids))+`)`, append([]any{tenant}, ids...)...)
	if err != nil {
		return err
	}
	counts := map[int64]map[usermerge.Kind]usermerge.Counts{}
	for rows.Next() {
		var id int64
		var k string
		var c usermerge.Counts
		if err := rows.Scan(&id, &k, &c.Moved, &c.Combined, &c.Retired, &c.Left, &c.Changed); err != nil {
			rows.Close()
			return err
		}
		if counts[id] == nil {
			counts[id] = map[usermerge.Kind]usermerge.Counts{}
		}
		counts[id][usermerge.Kind(k)] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	profile, err := tx.profileChanges(ctx, tenant, ids)
	if err != nil {
		return err
	}
	t, err := tx.Tenant(ctx, tenant)
	if err != nil {
		return err
	}
	for i := range ms {
		m := &ms[i]
		for _, acc := range []*usermerge.Account{&m.Source, &m.Target} {
			a, ok := accounts[acc.ID]
			if !ok {
				return usermerge.Errorf(usermerge.NotFound, "not_found", "account %q does not exist", acc.ID)
			}
			*acc = a
		}
		m.Counts = counts[m.ID]
		if m.Counts == nil {
			m.Counts = map[usermerge.Kind]usermerge.Counts{}
		}
		m.Profile = profile[m.ID]
		for j := range m.Profile {
			m.Profile[j].Source = m.Source.Login
		}
		if m.Profile == nil {
			m.Profile = []usermerge.ProfileChange{}
		}
		m.DisplayState = m.State
		if m.State == usermerge.StateActive && !t.Policy.RevertAllowed {
			m.DisplayState = usermerge.StateIrreversible
		}
	}
	return nil
}

// Merge returns one merge with its accounts and counts.
func (tx *Tx) Merge(ctx context.Context, tenant string, id int64) (usermerge.Merge, error) {
	rows, err := tx.Query(ctx, `SELECT `+mergeCols+` FROM merges m WHERE m.tenant_id = ? AND m.id = ?`, tenant, id)
	if err != nil {
		return usermerge.Merge{}, err
	}
	ms, err := tx.scanMerges(ctx, rows)
	if err != nil {
		return usermerge.Merge{}, err
	}
	if len(ms) == 0 {
		return usermerge.Merge{}, MergeNotFound(id)
	}
	return ms[0], nil
}

// ListMerges searches the merge list, newest first. groups, when not nil,
// limits it to merges whose source and target both belong to one of them.
func (tx *Tx) ListMerges(ctx context.Context, tenant string, f usermerge.MergeFilter, groups []string) (usermerge.MergePage, error) {
	page := usermerge.MergePage{Page: f.Page, PerPage: f.PerPage}
	if page.Page < 1 {
		page.Page = 1
	}
	if page.PerPage < 1 || page.PerPage > 500 {
		page.PerPage = 50
	}
	where, args := []string{"m.tenant_id = ?"}, []any{tenant}
	// Newest first is the order of the (tenant_id, at, id) indexes, which a
	// time range walks. A search by name matches a few accounts whose
	// merges are found by account and sorted: the unary + keeps the
	// planner from walking the whole list in time order looking for them.
	order := `m.at DESC, m.id DESC`
	if f.From != nil {
		where, args = append(where, "m.at >= ?"), append(args, Millis(*f.From))
	}
	if f.To != nil {
		where, args = append(where, "m.at < ?"), append(args, Millis(*f.To))
	}
	if f.Operation != 0 {
		where, args = append(where, "m.operation_id = ?"), append(args, f.Operation)
	}
	if f.Batch != 0 {
		where, args = append(where, "m.batch_id = ?"), append(args, f.Batch)
	}
	switch f.State {
	case "":
		where = append(where, "m.state <> 'target_deleted'")
	case "all":
	case usermerge.StateIrreversible:
		t, err := tx.Tenant(ctx, tenant)
		if err != nil {
			return page, err
		}
		if t.Policy.RevertAllowed {
			where = append(where, "1 = 0")
		} else {
			where = append(where, "m.state = 'active'")
		}
	case usermerge.StateActive, usermerge.StateReverted, usermerge.StatePermanent, usermerge.StateTargetDeleted:
		where, args = append(where, "m.state = ?"), append(args, string(f.State))
	default:
		return page, usermerge.Errorf(usermerge.Invalid, "invalid_state", "state must be one of active, reverted, permanent, irreversible, target_deleted or all, not %q", f.State)
	}
	for _, side := range []struct{ col, q string }{{"m.source_id", f.Source}, {"m.target_id", f.Target}} {
		if side.q == "" {
			continue
		}
		cond, cargs, sub, err := tx.accountMatch(ctx, tenant, side.q)
		if err != nil {
			return page, err
		}
		if cond == "" { // no account matches: no merge does
			page.Merges = []usermerge.Merge{}
			return page, nil
		}
		if !sub {
			order = `+m.at DESC, +m.id DESC`
		}
		where, args = append(where, side.col+` IN (`+cond+`)`), append(args, cargs...)
	}
	if groups != nil {
		if len(groups) == 0 {
			return page, nil
		}
		ph := placeholders(len(groups))
		for _, col := range []string{"m.source_id", "m.target_id"} {
			where = append(where, `EXISTS (SELECT 1 FROM memberships g WHERE g.tenant_id = m.tenant_id AND g.account_id = `+col+` AND g.group_id IN (`+ph+`))`)
			for _, g := range groups {
				args = append(args, g)
			}
		}
	}
	cond := strings.Join(where, " AND ")
	var err error
	if page.Total, err = tx.Count(ctx, `SELECT COUNT(*) FROM merges m WHERE `+cond, args...); err != nil {
		return page, err
	}
	rows, err := tx.Query(ctx, `SELECT `+mergeCols+` FROM merges m WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, page.PerPage, (page.Page-1)*page.PerPage)...)
	if err != nil {
		return page, err
	}
	if page.Merges, err = tx.scanMerges(ctx, rows); err != nil {
		return page, err
	}
	if page.Merges == nil {
		page.Merges = []usermerge.Merge{}
	}
	return page, nil
}

// matchLimit is how many matching accounts a merge-list search names by id;
// a search matching more is left to the database as a subquery.
const matchLimit = 500

// accountMatch resolves a merge-list search term to the accounts it
// matches, once per search instead of once in the count and again in the
// page: it returns "?, ?, ..." with their ids, "" when none matches, or the
// matching subquery (accountMatchSQL, sub true) when more than matchLimit do.
func (tx *Tx) accountMatch(ctx context.Context, tenant, q string) (cond string, args []any, sub bool, err error) {
	match, margs, err := tx.accountMatchSQL(ctx, tenant, q)
	if err != nil {
		return "", nil, false, err
	}
	ids, err := tx.strings(ctx, `SELECT id FROM (`+match+`) m LIMIT ?`, append(margs, matchLimit+1)...)
	if err != nil {
		return "", nil, false, err
	}
	switch {
	case len(ids) == 0:
		return "", nil, false, nil
	case len(ids) > matchLimit:
		return match, margs, true, nil
	}
	return placeholders(len(ids)), anys(ids), false, nil
}

// PutKeptNewer stores the records a revert kept newer.
func (tx *Tx) PutKeptNewer(ctx context.Context, tenant string, k usermerge.KeptNewer) error {
	enc := func(m map[string]string) string { b, _ := json.Marshal(m); return string(b) }
	_, err := tx.Exec(ctx, `INSERT INTO revert_kept (tenant_id, merge_id, kind, record_id, merged, current_, before, reason, account_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenant, k.MergeID, string(k.Kind), k.RecordID, enc(k.Merged), enc(k.Current), enc(k.Before), k.Reason, k.Account)
	return err
}

// KeptNewerOf returns what the revert of a merge kept newer.
func (tx *Tx) KeptNewerOf(ctx context.Context, tenant string, merge int64) ([]usermerge.KeptNewer, error) {
	rows, err := tx.Query(ctx, `SELECT kind, record_id, merged, current_, before, reason, account_id FROM revert_kept WHERE tenant_id = ? AND merge_id = ? ORDER BY kind, record_id`, tenant, merge)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []usermerge.KeptNewer{}
	for rows.Next() {
		k := usermerge.KeptNewer{MergeID: merge}
		var kind, merged, cur, before string
		if err := rows.Scan(&kind, &k.RecordID, &merged, &cur, &before, &k.Reason, &k.Account); err != nil {
			return nil, err
		}
		k.Kind = usermerge.Kind(kind)
		if err := json.Unmarshal([]byte(merged), &k.Merged); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(cur), &k.Current); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(before), &k.Before); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Event is a domain event waiting in the outbox.
type Event struct {
	Tenant  string
	ID      int64
	Type    string
	Payload json.RawMessage
	At      time.Time
}

// AddEvent records a domain event in the transaction's outbox.
func (tx *Tx) AddEvent(ctx context.Context, tenant, typ string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	id, err := tx.NextID(ctx, tenant, "event")
	if err != nil {
		return err
	}
	if _, err = tx.Exec(ctx, `INSERT INTO events (tenant_id, id, type, payload, at) VALUES (?, ?, ?, ?, ?)`, tenant, id, typ, string(body), Millis(tx.Now)); err != nil {
		return err
	}
	tx.wroteEvent = true
	return tx.fanOut(ctx, tenant, id, typ)
}

// Events lists a tenant's events after an id, oldest first.
func (tx *Tx) Events(ctx context.Context, tenant string, after int64, limit int) ([]Event, error) {
	rows, err := tx.Query(ctx, `SELECT id, type, payload, at FROM events WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`, tenant, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{Tenant: tenant}
		var p string
		var at int64
		if err := rows.Scan(&e.ID, &e.Type, &p, &at); err != nil {
			return nil, err
		}
		e.Payload, e.At = json.RawMessage(p), FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventsOf lists a tenant's events of the given types after an id, oldest
// first (the feed).
func (tx *Tx) EventsOf(ctx context.Context, tenant string, after int64, types []string, limit int) ([]Event, error) {
	q := `SELECT id, type, payload, at FROM events WHERE tenant_id = ? AND id > ? AND type IN (` + placeholders(len(types)) + `) ORDER BY id LIMIT ?`
	args := []any{tenant, after}
	for _, t := range types {
		args = append(args, t)
	}
	rows, err := tx.Query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{Tenant: tenant}
		var p string
		var at int64
		if err := rows.Scan(&e.ID, &e.Type, &p, &at); err != nil {
			return nil, err
		}
		e.Payload, e.At = json.RawMessage(p), FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteAccount tombstones an account.
func (tx *Tx) DeleteAccount(ctx context.Context, tenant, id string) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET deleted_at = ? WHERE tenant_id = ? AND id = ?`, Millis(tx.Now), tenant, id)
	return err
}

// LastSignIn returns an account's latest live sign-in time, if any.
func (tx *Tx) LastSignIn(ctx context.Context, tenant, account string) (*time.Time, error) {
	var n sql.NullInt64
	if err := tx.QueryRow(ctx, `SELECT MAX(at) FROM signins WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL`, tenant, account).Scan(&n); err != nil {
		return nil, err
	}
	return timePtr(n), nil
}

// AnalyzeMergeTables refreshes PostgreSQL's statistics of the tables a
// merge writes to (JournalTables), so that the plans of a batch that grows
// them fast, the foreign-key checks' included, are made again for their
// size: ANALYZE invalidates the cached plans that read them. On SQLite it
// does nothing: its foreign-key checks and the merge's statements go by
// their indexes whatever the tables' size.
func (db *DB) AnalyzeMergeTables(ctx context.Context) error {
	if db.dialect.name != "postgres" {
		return nil
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE `+strings.Join(JournalTables(), ", ")); err != nil {
		return db.dialect.mapError(fmt.Errorf("analyze: %w", err))
	}
	return nil
}
