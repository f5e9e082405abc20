package store

import (
	"context"
	"slices"
	"strings"

	"usermerge"
)

// Set-based lookups for checking a batch of merges: a batch names
// thousands of accounts, and one query per account and per question would
// make its check cost more than its run.

// lookupChunk bounds an IN list (SQLite's default limit of bound
// parameters is far above it, PostgreSQL's 65,535).
const lookupChunk = 500

// AccountsByRefs resolves many account references at once as
// AccountByRef and ExternalIDHolders resolve one: by id, then by login,
// then by external ID written system:value (only when exactly one live
// account holds it). The answer maps each reference, as given, to its
// account; a reference that is not found (or not valid) is left out, so
// that the caller asks for it again one at a time and gets the one-account
// answer, the same words for the same reason.
func (tx *Tx) AccountsByRefs(ctx context.Context, tenant string, refs []string) (map[string]usermerge.Account, error) {
	out := make(map[string]usermerge.Account, len(refs))
	clean := map[string][]string{} // cleaned ref → the refs as given
	for _, r := range refs {
		c, err := usermerge.CleanID("account", r)
		if err != nil || c == "" {
			continue
		}
		if _, ok := clean[c]; !ok || !containsStr(clean[c], r) {
			clean[c] = append(clean[c], r)
		}
	}
	pending := make([]string, 0, len(clean))
	for c := range clean {
		pending = append(pending, c)
	}
	found := func(key string, a usermerge.Account) {
		for _, r := range clean[key] {
			out[r] = a
		}
		delete(clean, key)
	}
	// No ORDER BY in these lookups: with one, SQLite walks the tenant's
	// accounts in id order instead of looking each login up in
	// accounts_login (a million rows read for 500 logins). Several holders
	// of one external ID are put in id order here instead.
	for _, col := range []string{"id", "login"} {
		for i := 0; i < len(pending); i += lookupChunk {
			chunk := pending[i:min(i+lookupChunk, len(pending))]
			in, args := inList(tx, `a.`+col, chunk)
			rows, err := tx.Query(ctx, `SELECT `+accountCols+`, a.`+col+` FROM accounts a WHERE a.tenant_id = ? AND `+in,
				append([]any{tenant}, args...)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var key string
				a, err := scanAccount(scanPlus{rows, &key})
				if err != nil {
					rows.Close()
					return nil, err
				}
				if _, ok := clean[key]; ok {
					found(key, a)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		pending = pending[:0]
		for c := range clean {
			pending = append(pending, c)
		}
	}
	// What is left may be external IDs: group them by system.
	bySystem := map[string][]string{}
	for _, c := range pending {
		if system, value, ok := strings.Cut(c, ":"); ok && system != "" && value != "" {
			bySystem[system] = append(bySystem[system], value)
		}
	}
	for system, values := range bySystem {
		for i := 0; i < len(values); i += lookupChunk {
			chunk := values[i:min(i+lookupChunk, len(values))]
			in, args := inList(tx, `x.value`, chunk)
			rows, err := tx.Query(ctx, `SELECT `+accountCols+`, x.value FROM external_ids x JOIN accounts a ON a.tenant_id = x.tenant_id AND a.id = x.account_id
				WHERE x.tenant_id = ? AND x.system = ? AND x.retired_by IS NULL AND `+in,
				append([]any{tenant, system}, args...)...)
			if err != nil {
				return nil, err
			}
			holders := map[string][]usermerge.Account{}
			for rows.Next() {
				var value string
				a, err := scanAccount(scanPlus{rows, &value})
				if err != nil {
					rows.Close()
					return nil, err
				}
				holders[value] = append(holders[value], a)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			for value, list := range holders {
				slices.SortFunc(list, func(a, b usermerge.Account) int { return strings.Compare(a.ID, b.ID) })
				if a, err := pickHolder(system, value, list); err == nil {
					found(system+":"+value, a)
				}
			}
		}
	}
	return out, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scanPlus scans an account's columns and one more value after them.
type scanPlus struct {
	row  interface{ Scan(...any) error }
	more any
}

func (s scanPlus) Scan(dest ...any) error { return s.row.Scan(append(dest, s.more)...) }

// ExternalIDHolder resolves an external ID (system, value) to the account
// that holds it live. When several accounts hold it (the tenant's data
// allows no such thing today: the value is unique per system, but an
// import may change that), the one live account (not deleted, not merged
// away) is the answer, and two or more live ones are refused as
// ambiguous.
func (tx *Tx) ExternalIDHolder(ctx context.Context, tenant, system, value string) (usermerge.Account, error) {
	rows, err := tx.Query(ctx, `SELECT `+accountCols+` FROM external_ids x JOIN accounts a ON a.tenant_id = x.tenant_id AND a.id = x.account_id
		WHERE x.tenant_id = ? AND x.system = ? AND x.value = ? AND x.retired_by IS NULL ORDER BY a.id`, tenant, system, value)
	if err != nil {
		return usermerge.Account{}, err
	}
	var list []usermerge.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return a, err
		}
		list = append(list, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return usermerge.Account{}, err
	}
	return pickHolder(system, value, list)
}

// pickHolder chooses among the accounts holding one external ID.
func pickHolder(system, value string, list []usermerge.Account) (usermerge.Account, error) {
	if len(list) == 0 {
		return usermerge.Account{}, AccountNotFound(system + ":" + value)
	}
	if len(list) == 1 {
		return list[0], nil
	}
	var live []usermerge.Account
	for _, a := range list {
		if !a.Deleted() && a.MergedInto == "" {
			live = append(live, a)
		}
	}
	switch len(live) {
	case 0:
		return list[0], nil // the check says why it cannot be merged
	case 1:
		return live[0], nil
	}
	return usermerge.Account{}, usermerge.Errorf(usermerge.Conflict, "external_id_ambiguous",
		"external ID %s:%s is held by %d accounts; name the account by id or login", system, value, len(live))
}

// GroupIDsOfAccounts answers GroupIDsOf for many accounts at once (an
// account in no group maps to an empty list).
func (tx *Tx) GroupIDsOfAccounts(ctx context.Context, tenant string, accounts []string) (map[string][]string, error) {
	out := make(map[string][]string, len(accounts))
	for _, a := range accounts {
		out[a] = []string{}
	}
	for i := 0; i < len(accounts); i += lookupChunk {
		chunk := accounts[i:min(i+lookupChunk, len(accounts))]
		in, inArgs := inList(tx, "account_id", chunk)
		rows, err := tx.Query(ctx, `SELECT account_id, group_id FROM memberships WHERE tenant_id = ? AND `+in+`
			ORDER BY account_id, group_id`, append([]any{tenant}, inArgs...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var acc, g string
			if err := rows.Scan(&acc, &g); err != nil {
				rows.Close()
				return nil, err
			}
			out[acc] = append(out[acc], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
