package store

import (
	"context"
	"slices"
	"time"
)

// Set lookups for resolving old references (PRODUCT.md §13): what the
// chains of merges need, a chunk of ids per statement.

// MergeTimes answers when each merge was made.
func (tx *Tx) MergeTimes(ctx context.Context, tenant string, ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	for i := 0; i < len(ids); i += lookupChunk {
		chunk := ids[i:min(i+lookupChunk, len(ids))]
		in, args := inList(tx, `id`, chunk)
		// state is read though unused: merges_at (tenant_id, at, id) covers
		// id and at, and SQLite without statistics would rather read every
		// merge of the tenant through it than look each id up by the
		// primary key (a million index entries for 500 ids).
		rows, err := tx.Query(ctx, `SELECT id, at, state FROM merges WHERE tenant_id = ? AND `+in, append([]any{tenant}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, at int64
			var state string
			if err := rows.Scan(&id, &at, &state); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = FromMillis(at)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RevertedMergesOf answers, for each account, the reverted merges that had
// it as their source, oldest first.
func (tx *Tx) RevertedMergesOf(ctx context.Context, tenant string, accounts []string) (map[string][]int64, error) {
	out := map[string][]int64{}
	for i := 0; i < len(accounts); i += lookupChunk {
		chunk := accounts[i:min(i+lookupChunk, len(accounts))]
		in, args := inList(tx, `source_id`, chunk)
		rows, err := tx.Query(ctx, `SELECT source_id, id FROM merges WHERE tenant_id = ? AND state = 'reverted' AND `+in,
			append([]any{tenant}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var src string
			var id int64
			if err := rows.Scan(&src, &id); err != nil {
				rows.Close()
				return nil, err
			}
			out[src] = append(out[src], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Sorted here, not by the statement: ORDER BY id would lead SQLite
	// to walk the tenant's merges in id order (its primary key) rather
	// than look each source up in merges_source, 50 times slower at a
	// million merges.
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}
