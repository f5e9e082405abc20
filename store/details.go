package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"usermerge"
)

// KindRecords lists, for merge m and kind k, every record the merge moved,
// combined, retired or left on the source, in record id order, offset and
// at most limit of them, and how many it lists in all.
//
// The list is read from what the merge recorded, never from live marks that
// later merges overwrite: the moved_by marks (which a revert leaves in
// place), the journal of moves that later merges made of the same records,
// and the value journal (combined, renumbered, kept and retired records).
// So a reverted merge lists every record it touched, with the account that
// holds it now, and an earlier merge in a chain still lists all it moved.
// Each record appears once with everything the merge did to it.
func (tx *Tx) KindRecords(ctx context.Context, m MergeRef, k usermerge.Kind, d Decision, limit, offset int) ([]usermerge.RecordChange, int64, error) {
	if limit <= 0 {
		limit = 100
	}
	offset = max(offset, 0)
	if t, ok := orgTableOf[k]; ok {
		return tx.leftRecords(ctx, m, t, limit, offset)
	}
	t, ok := tableOf[k]
	if !ok {
		return nil, 0, fmt.Errorf("no table for kind %q", k)
	}
	if d == Leave {
		return tx.leftRecords(ctx, m, t, limit, offset)
	}
	kind := string(t.kind)
	ids := `SELECT id AS rid FROM ` + t.table + ` WHERE tenant_id = ? AND account_id IN (?, ?) AND moved_by = ?
		UNION SELECT record_id FROM journal_moves WHERE tenant_id = ? AND merge_id = ? AND kind = ?
		UNION SELECT record_id FROM journal_moves WHERE tenant_id = ? AND prev_moved_by = ? AND kind = ?
		UNION SELECT record_id FROM journal_values WHERE tenant_id = ? AND merge_id = ? AND kind = ?
		UNION SELECT other_id FROM journal_values WHERE tenant_id = ? AND merge_id = ? AND kind = ? AND other_id IS NOT NULL`
	idArgs := []any{m.Tenant, m.Target, m.Source, m.ID, m.Tenant, m.ID, kind, m.Tenant, m.ID, kind,
		m.Tenant, m.ID, kind, m.Tenant, m.ID, kind}
	total, err := tx.Count(ctx, `SELECT COUNT(*) FROM (`+ids+`) x`, idArgs...)
	if err != nil || total == 0 {
		return nil, total, err
	}
	if int64(offset) >= total {
		return nil, total, nil
	}
	bcols, acols := t.slotNames()
	slots := ""
	if len(t.slots) > 0 {
		slots = ", " + prefixed("jv", bcols) + ", " + prefixed("jv", acols)
	}
	titles, titleJoins := t.titleSQL("r")
	args := append(idArgs, m.Tenant, m.ID, kind, m.ID, kind)
	rows, err := tx.Query(ctx, `SELECT r.id, r.account_id, CASE WHEN r.retired_by IS NULL THEN 0 ELSE 1 END,
		CASE WHEN r.moved_by = ? OR EXISTS (SELECT 1 FROM journal_moves jm WHERE jm.tenant_id = r.tenant_id AND jm.kind = ? AND jm.record_id = r.id
			AND (jm.merge_id = ? OR jm.prev_moved_by = ?)) THEN 1 ELSE 0 END,
		COALESCE(jv.action, ''), COALESCE(jv.other_id, ''), COALESCE(jo.action, '')`+slots+`, `+prefixed("r", t.colNames())+titles+`
		FROM (`+ids+`) x JOIN `+t.table+` r ON r.tenant_id = ? AND r.id = x.rid
		LEFT JOIN journal_values jv ON jv.tenant_id = r.tenant_id AND jv.merge_id = ? AND jv.kind = ? AND jv.record_id = r.id
		LEFT JOIN journal_values jo ON jo.tenant_id = r.tenant_id AND jo.merge_id = ? AND jo.kind = ? AND jo.other_id = r.id`+titleJoins+`
		ORDER BY r.id LIMIT ? OFFSET ?`, append(append([]any{m.ID, kind, m.ID, m.ID}, args...), limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []usermerge.RecordChange
	n := len(t.slots)
	for rows.Next() {
		rc := usermerge.RecordChange{Kind: t.kind}
		var retired, moved int
		var action, asOther string
		journal := slotDest(t, 2)
		vals, names := t.valueDest()
		dest := append([]any{&rc.RecordID, &rc.Account, &retired, &moved, &action, &rc.Other, &asOther}, journal...)
		if err := rows.Scan(append(dest, append(vals, names...)...)...); err != nil {
			return nil, 0, err
		}
		rc.Retired = retired == 1
		if moved == 1 {
			rc.Actions = append(rc.Actions, usermerge.Moved)
		}
		switch action {
		case "combined":
			rc.Actions = append(rc.Actions, usermerge.Combined)
		case "renumbered":
			rc.Actions = append(rc.Actions, usermerge.Changed)
		case "kept_target":
			rc.Actions, rc.KeptFrom = append(rc.Actions, usermerge.Combined), "target"
		case "kept_source":
			if rc.Other != "" {
				rc.Actions, rc.KeptFrom = append(rc.Actions, usermerge.Combined), "source"
			}
		}
		if asOther != "" {
			rc.Actions = append(rc.Actions, usermerge.Retired)
		}
		if len(rc.Actions) == 0 { // a journaled move whose mark a later revert gave back
			rc.Actions = []usermerge.Disposition{usermerge.Moved}
		}
		rc.Disposition = rc.Actions[0]
		var before, after map[string]string
		if action == "combined" || action == "renumbered" {
			before, after = t.slotMap(journal[:n]), t.slotMap(journal[n:])
		}
		rc.Fields = t.fieldValues(vals, names, before, after)
		out = append(out, rc)
	}
	return out, total, rows.Err()
}

// leftRecords lists the source's live records of a kind the policy leaves
// with it (and its org structure, which never moves).
func (tx *Tx) leftRecords(ctx context.Context, m MergeRef, t *recordTable, limit, offset int) ([]usermerge.RecordChange, int64, error) {
	id, live := "id", " AND r.retired_by IS NULL"
	if t.org {
		id, live = t.cols[0].name, ""
	}
	where := `r.tenant_id = ? AND r.account_id = ?` + live
	total, err := tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` r WHERE `+where, m.Tenant, m.Source)
	if err != nil || int64(offset) >= total {
		return nil, total, err
	}
	titles, titleJoins := t.titleSQL("r")
	rows, err := tx.Query(ctx, `SELECT r.`+id+`, r.account_id, `+prefixed("r", t.colNames())+titles+` FROM `+t.table+` r`+titleJoins+`
		WHERE `+where+` ORDER BY r.`+id+` LIMIT ? OFFSET ?`, m.Tenant, m.Source, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []usermerge.RecordChange
	for rows.Next() {
		rc := usermerge.RecordChange{Kind: t.kind, Disposition: usermerge.Left, Actions: []usermerge.Disposition{usermerge.Left}}
		vals, names := t.valueDest()
		if err := rows.Scan(append([]any{&rc.RecordID, &rc.Account}, append(vals, names...)...)...); err != nil {
			return nil, 0, err
		}
		rc.Fields = t.fieldValues(vals, names, nil, nil)
		out = append(out, rc)
	}
	return out, total, rows.Err()
}

// catalogTables are the catalogs kept in their own tables; every other
// catalog's titles are in titles.
var catalogTables = map[string][2]string{"group": {"groups", "name"}, "job": {"jobs", "title"}}

// titleSQL returns the select list and joins that give each catalog field
// of t its title (in field order, "" where none was given).
func (t *recordTable) titleSQL(r string) (sel, joins string) {
	for i, c := range t.cols {
		if c.f.Catalog == "" {
			continue
		}
		a := "ti" + strconv.Itoa(i)
		if tbl, ok := catalogTables[c.f.Catalog]; ok {
			sel += ", COALESCE(" + a + "." + tbl[1] + ", '')"
			joins += " LEFT JOIN " + tbl[0] + " " + a + " ON " + a + ".tenant_id = " + r + ".tenant_id AND " + a + ".id = " + r + "." + c.name
			continue
		}
		sel += ", COALESCE(" + a + ".title, '')"
		joins += " LEFT JOIN titles " + a + " ON " + a + ".tenant_id = " + r + ".tenant_id AND " + a + ".catalog = '" + c.f.Catalog +
			"' AND " + a + ".id = " + r + "." + c.name
	}
	return sel, joins
}

// valueDest returns scan destinations for t's columns and their titles.
func (t *recordTable) valueDest() (vals, titles []any) {
	for _, c := range t.cols {
		vals = append(vals, scanTarget(c.typ))
		if c.f.Catalog != "" {
			titles = append(titles, new(string))
		}
	}
	return vals, titles
}

// fieldValues renders a record's scanned columns as the domain's fields,
// with the values before and after where the merge changed them.
func (t *recordTable) fieldValues(vals, titles []any, before, after map[string]string) []usermerge.FieldValue {
	out := make([]usermerge.FieldValue, len(t.cols))
	ti := 0
	for i, c := range t.cols {
		fv := usermerge.FieldValue{Name: c.name, Label: c.f.Label, Value: formatValue(c.typ, vals[i])}
		if c.f.Type == usermerge.Answers {
			fv.Value = usermerge.AnswersText(fv.Value)
		}
		if c.f.Catalog != "" {
			fv.Title = *titles[ti].(*string)
			ti++
		}
		if b, ok := before[c.name]; ok {
			a := after[c.name]
			if c.f.Type == usermerge.Answers {
				b, a = usermerge.AnswersText(b), usermerge.AnswersText(a)
			}
			fv.Before, fv.After = &b, &a
		}
		out[i] = fv
	}
	return out
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
