package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"usermerge"
)

// RevertKind undoes what merge m did to kind k, exactly (PRODUCT.md §6):
//
//  1. combined and renumbered records get their values from before the merge
//     back, but only where they still hold the values the merge wrote
//     (compare-and-restore); the others keep their newer values;
//  2. a record a keep-latest rule kept from the source that changed since
//     the merge (studied further, graded, answered again) stays on the
//     target with its newer value, and the record it was kept over stays
//     retired;
//  3. records the merge moved go back to the source, unless the source holds
//     a live record of the same item again; records an earlier merge had
//     moved get that merge's mark back;
//  4. records the merge retired become live again, unless a live record of
//     the same item holds their place.
//
// Every record left as the merge left it is reported, with the reason, and
// stored with the merge (revert_kept). Records created on the target after
// the merge carry no mark and stay. The moved_by marks stay on the records
// that went back: they are the audit trail from which the merge's details
// still list what it moved.
func (tx *Tx) RevertKind(ctx context.Context, m MergeRef, k usermerge.Kind) ([]usermerge.KeptNewer, error) {
	t, ok := tableOf[k]
	if !ok {
		return nil, nil // org structure never moves
	}
	var kept []usermerge.KeptNewer
	keep := func(kn []usermerge.KeptNewer, err error) error {
		if err != nil {
			return err
		}
		for _, x := range kn {
			if err := tx.PutKeptNewer(ctx, m.Tenant, x); err != nil {
				return err
			}
		}
		kept = append(kept, kn...)
		return nil
	}
	switch t.shape {
	case shapeCombine, shapeRenumber:
		if err := keep(tx.restoreValues(ctx, m, t)); err != nil {
			return nil, err
		}
	case shapeKeep:
		if err := keep(tx.changedKept(ctx, m, t)); err != nil {
			return nil, err
		}
	}
	stays := "" // records of this kind the revert leaves where they are
	if t.key != "" {
		stays = ` AND NOT EXISTS (SELECT 1 FROM revert_kept rk WHERE rk.tenant_id = ` + t.table + `.tenant_id AND rk.merge_id = ` +
			strconv.FormatInt(m.ID, 10) + ` AND rk.kind = '` + string(t.kind) + `' AND rk.record_id = ` + t.table + `.id)`
		moved := t.table + `.tenant_id = ? AND ` + t.table + `.account_id = ? AND ` + t.table + `.moved_by = ?`
		if err := keep(tx.itemTaken(ctx, m, t, moved+stays, m.Source, m.Tenant, m.Target, m.ID)); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET account_id = ?
		WHERE tenant_id = ? AND account_id = ? AND moved_by = ?`+stays, m.Source, m.Tenant, m.Target, m.ID); err != nil {
		return nil, err
	}
	// the records that went back get their earlier mark back (those that
	// stayed on the target keep this merge's)
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET moved_by = jm.prev_moved_by FROM journal_moves jm
		WHERE jm.tenant_id = ? AND jm.merge_id = ? AND jm.kind = ?
		AND `+t.table+`.tenant_id = jm.tenant_id AND `+t.table+`.id = jm.record_id AND `+t.table+`.account_id = ?`,
		m.Tenant, m.ID, string(t.kind), m.Source); err != nil {
		return nil, err
	}
	if t.key != "" {
		retired := t.table + `.tenant_id = ? AND ` + t.table + `.retired_by = ?`
		if err := keep(tx.itemTaken(ctx, m, t, retired+stays, "", m.Tenant, m.ID)); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET retired_by = NULL WHERE tenant_id = ? AND retired_by = ?`+stays, m.Tenant, m.ID); err != nil {
		return nil, err
	}
	return kept, nil
}

// unchangedSince compares a record r's slot columns with the values journal
// row j says the merge left.
func unchangedSince(t *recordTable, r string) string {
	_, acols := t.slotNames()
	same := make([]string, len(t.slots))
	for i, c := range t.slots {
		same[i] = r + "." + c + " IS NOT DISTINCT FROM j." + acols[i]
	}
	return strings.Join(same, " AND ")
}

// slotDest returns scan destinations for groups of t's slot values.
func slotDest(t *recordTable, groups int) []any {
	n := len(t.slots)
	vals := make([]any, groups*n)
	for i := range vals {
		if t.colType(t.slots[i%n]) == cText {
			vals[i] = new(sql.NullString)
		} else {
			vals[i] = new(sql.NullInt64)
		}
	}
	return vals
}

func (tx *Tx) restoreValues(ctx context.Context, m MergeRef, t *recordTable) ([]usermerge.KeptNewer, error) {
	bcols, acols := t.slotNames()
	sets := make([]string, len(t.slots))
	for i, c := range t.slots {
		sets[i] = c + " = j." + bcols[i]
	}
	unchanged := unchangedSince(t, t.table)
	journal := `journal_values j WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? AND j.action IN ('combined', 'renumbered')
		AND ` + t.table + `.tenant_id = j.tenant_id AND ` + t.table + `.id = j.record_id`
	args := []any{m.Tenant, m.ID, string(t.kind)}

	rows, err := tx.Query(ctx, `SELECT j.record_id, `+t.table+`.account_id, `+prefixed("j", bcols)+`, `+prefixed("j", acols)+`, `+prefixed(t.table, t.slots)+`
		FROM `+t.table+`, `+journal+` AND NOT (`+unchanged+`) ORDER BY j.record_id`, args...)
	if err != nil {
		return nil, err
	}
	var kept []usermerge.KeptNewer
	n := len(t.slots)
	for rows.Next() {
		var id, acc string
		vals := slotDest(t, 3)
		if err := rows.Scan(append([]any{&id, &acc}, vals...)...); err != nil {
			rows.Close()
			return nil, err
		}
		kept = append(kept, usermerge.KeptNewer{MergeID: m.ID, Kind: t.kind, RecordID: id, Reason: usermerge.KeptChanged, Account: acc,
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

// changedKept reports the records a keep-latest rule kept from the source
// that changed on the target since the merge: they stay there, newer, and
// the record each was kept over stays retired.
func (tx *Tx) changedKept(ctx context.Context, m MergeRef, t *recordTable) ([]usermerge.KeptNewer, error) {
	_, acols := t.slotNames()
	rows, err := tx.Query(ctx, `SELECT r.id, r.account_id, COALESCE(j.other_id, ''), COALESCE(o.account_id, ''), `+prefixed("j", acols)+`, `+prefixed("r", t.slots)+`
		FROM journal_values j JOIN `+t.table+` r ON r.tenant_id = j.tenant_id AND r.id = j.record_id
		LEFT JOIN `+t.table+` o ON o.tenant_id = j.tenant_id AND o.id = j.other_id
		WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? AND j.action = 'kept_source'
		AND r.account_id = ? AND r.moved_by = ? AND NOT (`+unchangedSince(t, "r")+`) ORDER BY r.id`,
		m.Tenant, m.ID, string(t.kind), m.Target, m.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out, others []usermerge.KeptNewer
	n := len(t.slots)
	for rows.Next() {
		var id, acc, other, otherAcc string
		vals := slotDest(t, 2)
		if err := rows.Scan(append([]any{&id, &acc, &other, &otherAcc}, vals...)...); err != nil {
			return nil, err
		}
		merged := t.slotMap(vals[:n])
		out = append(out, usermerge.KeptNewer{MergeID: m.ID, Kind: t.kind, RecordID: id, Reason: usermerge.KeptChanged, Account: acc,
			Merged: merged, Current: t.slotMap(vals[n:]), Before: merged})
		if other != "" {
			others = append(others, usermerge.KeptNewer{MergeID: m.ID, Kind: t.kind, RecordID: other, Reason: usermerge.KeptItemTaken, Account: otherAcc,
				Merged: map[string]string{}, Current: map[string]string{}, Before: map[string]string{}})
		}
	}
	return append(out, others...), rows.Err()
}

// itemTaken reports the records selected by where (over t's table) whose
// item a live record other than themselves holds on the account they would
// be live on (to, or their own account when to is ""): giving them back
// would break one-live-record-per-item, so they stay as the merge left them.
func (tx *Tx) itemTaken(ctx context.Context, m MergeRef, t *recordTable, where, to string, args ...any) ([]usermerge.KeptNewer, error) {
	r := t.table
	on := r + `.account_id`
	var qargs []any
	if to != "" {
		on = `?`
		qargs = append(qargs, to)
	}
	open := ""
	if t.live != "" {
		open = ` AND ` + r + `.` + t.live + ` AND x.` + t.live
	}
	q := `SELECT ` + r + `.id, ` + r + `.account_id, ` + prefixed(r, t.slots) + ` FROM ` + r + ` WHERE ` + where + `
		AND EXISTS (SELECT 1 FROM ` + r + ` x WHERE x.tenant_id = ` + r + `.tenant_id AND x.account_id = ` + on + `
			AND x.` + t.key + ` = ` + r + `.` + t.key + ` AND x.retired_by IS NULL AND x.id <> ` + r + `.id` + open + `)
		ORDER BY ` + r + `.id`
	rows, err := tx.Query(ctx, q, append(args, qargs...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.KeptNewer
	for rows.Next() {
		var id, acc string
		vals := slotDest(t, 1)
		if err := rows.Scan(append([]any{&id, &acc}, vals...)...); err != nil {
			return nil, err
		}
		out = append(out, usermerge.KeptNewer{MergeID: m.ID, Kind: t.kind, RecordID: id, Reason: usermerge.KeptItemTaken, Account: acc,
			Merged: map[string]string{}, Current: t.slotMap(vals), Before: map[string]string{}})
	}
	return out, rows.Err()
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
