package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"usermerge"
)

// RevertKind undoes what merge m did to kind k, exactly:
//
//  1. combined and renumbered records get their values from before the merge
//     back, but only where they still hold the values the merge wrote
//     (compare-and-restore); the others keep their newer values and are
//     returned in the report;
//  2. records the merge moved go back to the source, and records an earlier
//     merge had moved get that merge's mark back;
//  3. records the merge retired become live again.
//
// Records created on the target after the merge carry no mark and stay.
func (tx *Tx) RevertKind(ctx context.Context, m MergeRef, k usermerge.Kind) ([]usermerge.KeptNewer, error) {
	t, ok := tableOf[k]
	if !ok {
		return nil, nil // org structure never moves
	}
	var kept []usermerge.KeptNewer
	if len(t.slots) > 0 {
		var err error
		if kept, err = tx.restoreValues(ctx, m, t); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET account_id = ?, moved_by = NULL
		WHERE tenant_id = ? AND account_id = ? AND moved_by = ?`, m.Source, m.Tenant, m.Target, m.ID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET moved_by = jm.prev_moved_by FROM journal_moves jm
		WHERE jm.tenant_id = ? AND jm.merge_id = ? AND jm.kind = ?
		AND `+t.table+`.tenant_id = jm.tenant_id AND `+t.table+`.id = jm.record_id`, m.Tenant, m.ID, string(t.kind)); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET retired_by = NULL WHERE tenant_id = ? AND retired_by = ?`, m.Tenant, m.ID); err != nil {
		return nil, err
	}
	return kept, nil
}

func (tx *Tx) restoreValues(ctx context.Context, m MergeRef, t *recordTable) ([]usermerge.KeptNewer, error) {
	bcols, acols := t.slotNames()
	same := make([]string, len(t.slots))
	sets := make([]string, len(t.slots))
	for i, c := range t.slots {
		same[i] = t.table + "." + c + " IS NOT DISTINCT FROM j." + acols[i]
		sets[i] = c + " = j." + bcols[i]
	}
	unchanged := strings.Join(same, " AND ")
	journal := `journal_values j WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? AND j.action IN ('combined', 'renumbered')
		AND ` + t.table + `.tenant_id = j.tenant_id AND ` + t.table + `.id = j.record_id`
	args := []any{m.Tenant, m.ID, string(t.kind)}

	rows, err := tx.Query(ctx, `SELECT j.record_id, `+prefixed("j", bcols)+`, `+prefixed("j", acols)+`, `+prefixed(t.table, t.slots)+`
		FROM `+t.table+`, `+journal+` AND NOT (`+unchanged+`) ORDER BY j.record_id`, args...)
	if err != nil {
		return nil, err
	}
	var kept []usermerge.KeptNewer
	n := len(t.slots)
	for rows.Next() {
		var id string
		vals := make([]any, 3*n)
		for i := range vals {
			if t.colType(t.slots[i%n]) == cText {
				vals[i] = new(sql.NullString)
			} else {
				vals[i] = new(sql.NullInt64)
			}
		}
		if err := rows.Scan(append([]any{&id}, vals...)...); err != nil {
			rows.Close()
			return nil, err
		}
		kept = append(kept, usermerge.KeptNewer{MergeID: m.ID, Kind: t.kind, RecordID: id,
			Before: t.slotMap(vals[:n]), Merged: t.slotMap(vals[n : 2*n]), Current: t.slotMap(vals[2*n:])})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET `+strings.Join(sets, ", ")+` FROM `+journal+` AND `+unchanged, args...); err != nil {
		return nil, err
	}
	return kept, nil
}

// slotMap formats scanned slot values (NullString/NullInt64) by column.
func (t *recordTable) slotMap(vals []any) map[string]string {
	out := make(map[string]string, len(vals))
	for i, v := range vals {
		out[t.slots[i]] = formatValue(t.colType(t.slots[i]), v)
	}
	return out
}

// formatValue renders a scanned column value for people: times in RFC 3339,
// booleans as yes/no, absent values as "".
func formatValue(typ colType, v any) string {
	switch v := v.(type) {
	case *sql.NullString:
		if v.Valid {
			return v.String
		}
		return ""
	case *sql.NullInt64:
		if !v.Valid {
			return ""
		}
		switch typ {
		case cTime, cTimeNull:
			return FromMillis(v.Int64).Format("2006-01-02T15:04:05.000Z")
		case cBool:
			if v.Int64 != 0 {
				return "yes"
			}
			return "no"
		}
		return strconv.FormatInt(v.Int64, 10)
	case *sql.NullFloat64:
		if v.Valid {
			return strconv.FormatFloat(v.Float64, 'f', -1, 64)
		}
		return ""
	}
	return ""
}

// scanTarget returns a destination for scanning a column of the given type.
func scanTarget(typ colType) any {
	switch typ {
	case cText:
		return new(sql.NullString)
	case cReal:
		return new(sql.NullFloat64)
	}
	return new(sql.NullInt64)
}
