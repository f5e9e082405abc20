package store

import (
	"context"
	"fmt"

	"usermerge"
)

// profileColumn is the accounts column of a profile field: the field's name,
// once the name is known to be one of usermerge.ProfileFields (never text
// from a request).
func profileColumn(field string) (string, error) {
	f, ok := usermerge.ProfileFieldByName(field)
	if !ok {
		return "", usermerge.Errorf(usermerge.Invalid, "unknown_profile_field", "%q is not a profile field", field)
	}
	return f.Name, nil
}

// ApplyProfileChange gives the target of merge m the value c.After of field
// c.Field and records it with the merge, with the value it replaced.
func (tx *Tx) ApplyProfileChange(ctx context.Context, m MergeRef, c usermerge.ProfileChange) error {
	col, err := profileColumn(c.Field)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET `+col+` = ? WHERE tenant_id = ? AND id = ?`, c.After, m.Tenant, m.Target); err != nil {
		return fmt.Errorf("merge %d, profile %s: %w", m.ID, c.Field, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO merge_profile (tenant_id, merge_id, field, before, after) VALUES (?, ?, ?, ?, ?)`,
		m.Tenant, m.ID, c.Field, c.Before, c.After)
	return err
}

// RevertProfile gives the target of merge m back the profile values the
// merge replaced, where the target still holds the values the merge wrote;
// a field changed since keeps its newer value and is reported (and stored
// with the merge, as records kept newer are).
func (tx *Tx) RevertProfile(ctx context.Context, m MergeRef) ([]usermerge.KeptNewer, error) {
	changes, err := tx.profileChanges(ctx, m.Tenant, []any{m.ID})
	if err != nil {
		return nil, err
	}
	var kept []usermerge.KeptNewer
	for _, c := range changes[m.ID] {
		col, err := profileColumn(c.Field)
		if err != nil {
			return nil, err
		}
		var now string
		if err := tx.QueryRow(ctx, `SELECT `+col+` FROM accounts WHERE tenant_id = ? AND id = ?`, m.Tenant, m.Target).Scan(&now); err != nil {
			return nil, fmt.Errorf("revert merge %d, profile %s: %w", m.ID, c.Field, err)
		}
		if now != c.After {
			k := usermerge.KeptNewer{MergeID: m.ID, Kind: usermerge.ProfileKind, RecordID: c.Field, Reason: usermerge.KeptChanged, Account: m.Target,
				Merged: map[string]string{c.Field: c.After}, Current: map[string]string{c.Field: now}, Before: map[string]string{c.Field: c.Before}}
			if err := tx.PutKeptNewer(ctx, m.Tenant, k); err != nil {
				return nil, err
			}
			kept = append(kept, k)
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET `+col+` = ? WHERE tenant_id = ? AND id = ?`, c.Before, m.Tenant, m.Target); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// profileChanges returns the profile changes of the given merges, by merge,
// in the order of usermerge.ProfileFields.
func (tx *Tx) profileChanges(ctx context.Context, tenant string, ids []any) (map[int64][]usermerge.ProfileChange, error) {
	rows, err := tx.Query(ctx, `SELECT merge_id, field, before, after FROM merge_profile
		WHERE tenant_id = ? AND merge_id IN (`+placeholders(len(ids))+`)`, append([]any{tenant}, ids...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byField := map[int64]map[string]usermerge.ProfileChange{}
	for rows.Next() {
		var id int64
		var c usermerge.ProfileChange
		if err := rows.Scan(&id, &c.Field, &c.Before, &c.After); err != nil {
			return nil, err
		}
		if byField[id] == nil {
			byField[id] = map[string]usermerge.ProfileChange{}
		}
		byField[id][c.Field] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[int64][]usermerge.ProfileChange{}
	for id, cs := range byField {
		for _, f := range usermerge.ProfileFields {
			if c, ok := cs[f.Name]; ok {
				c.Label = f.Label
				out[id] = append(out[id], c)
			}
		}
	}
	return out, nil
}
