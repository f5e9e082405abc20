package store

import (
	"context"
	"database/sql"
	"strings"

	"usermerge"
)

// KindRecords lists, for merge m and kind k, the records the merge moved,
// combined, retired or left on the source, at most limit per disposition,
// and how many more there are. Moved records are listed while the merge is
// in force (a revert hands them back and clears their mark).
func (tx *Tx) KindRecords(ctx context.Context, m MergeRef, k usermerge.Kind, d Decision, limit int) ([]usermerge.RecordChange, int64, error) {
	if limit <= 0 {
		limit = 100
	}
	t, ok := tableOf[k]
	if !ok {
		return tx.orgRecords(ctx, m, k, limit)
	}
	var out []usermerge.RecordChange
	var more int64
	list := func(disp usermerge.Disposition, where string, args ...any) error {
		n, err := tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE `+where, args...)
		if err != nil {
			return err
		}
		recs, err := tx.recordList(ctx, t, disp, where, limit, args...)
		if err != nil {
			return err
		}
		out = append(out, recs...)
		more += n - int64(len(recs))
		return nil
	}
	if d == Leave {
		err := list(usermerge.Left, `tenant_id = ? AND account_id = ? AND retired_by IS NULL`, m.Tenant, m.Source)
		return out, more, err
	}
	if len(t.slots) > 0 || t.shape == shapeKeep {
		changes, n, err := tx.journalList(ctx, m, t, limit)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, changes...)
		more += n - int64(len(changes))
	}
	if err := list(usermerge.Moved, `tenant_id = ? AND account_id = ? AND moved_by = ?`, m.Tenant, m.Target, m.ID); err != nil {
		return nil, 0, err
	}
	if err := list(usermerge.Retired, `tenant_id = ? AND retired_by = ?`, m.Tenant, m.ID); err != nil {
		return nil, 0, err
	}
	return out, more, nil
}

func (tx *Tx) recordList(ctx context.Context, t *recordTable, disp usermerge.Disposition, where string, limit int, args ...any) ([]usermerge.RecordChange, error) {
	rows, err := tx.Query(ctx, `SELECT id, account_id, `+strings.Join(t.colNames(), ", ")+` FROM `+t.table+` WHERE `+where+` ORDER BY id LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.RecordChange
	for rows.Next() {
		rc := usermerge.RecordChange{Kind: t.kind, Disposition: disp}
		vals := make([]any, len(t.cols))
		for i, c := range t.cols {
			vals[i] = scanTarget(c.typ)
		}
		if err := rows.Scan(append([]any{&rc.RecordID, &rc.Account}, vals...)...); err != nil {
			return nil, err
		}
		rc.Summary = t.summary(vals)
		out = append(out, rc)
	}
	return out, rows.Err()
}

// summary renders a record's columns as "name value, ..." for lists.
func (t *recordTable) summary(vals []any) string {
	var parts []string
	for i, c := range t.cols {
		if s := formatValue(c.typ, vals[i]); s != "" {
			parts = append(parts, c.name+" "+s)
		}
	}
	return strings.Join(parts, ", ")
}

// journalList lists the combined, renumbered and kept records of a merge.
func (tx *Tx) journalList(ctx context.Context, m MergeRef, t *recordTable, limit int) ([]usermerge.RecordChange, int64, error) {
	total, err := tx.Count(ctx, `SELECT COUNT(*) FROM journal_values WHERE tenant_id = ? AND merge_id = ? AND kind = ?`, m.Tenant, m.ID, string(t.kind))
	if err != nil || total == 0 {
		return nil, total, err
	}
	bcols, acols := t.slotNames()
	if len(bcols) == 0 { // keep rules journal no values
		bcols, acols = []string{"bt"}, []string{"at_"}
	}
	rows, err := tx.Query(ctx, `SELECT j.record_id, j.action, COALESCE(j.other_id, ''), `+prefixed("j", bcols)+`, `+prefixed("j", acols)+`,
		r.account_id, `+prefixed("r", t.colNames())+`
		FROM journal_values j JOIN `+t.table+` r ON r.tenant_id = j.tenant_id AND r.id = j.record_id
		WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? ORDER BY j.record_id LIMIT ?`, m.Tenant, m.ID, string(t.kind), limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []usermerge.RecordChange
	for rows.Next() {
		rc := usermerge.RecordChange{Kind: t.kind}
		var action string
		names := append(append([]string{}, bcols...), acols...)
		slots := make([]any, len(names))
		for i, name := range names {
			if name == "bt" || name == "at_" {
				slots[i] = new(sql.NullString)
			} else {
				slots[i] = new(sql.NullInt64)
			}
		}
		vals := make([]any, len(t.cols))
		for i, c := range t.cols {
			vals[i] = scanTarget(c.typ)
		}
		dest := append([]any{&rc.RecordID, &action, &rc.Other}, slots...)
		dest = append(dest, &rc.Account)
		if err := rows.Scan(append(dest, vals...)...); err != nil {
			return nil, 0, err
		}
		rc.Summary = t.summary(vals)
		switch action {
		case "kept":
			rc.Disposition = usermerge.Combined
			side := formatValue(cText, slots[0])
			rc.Summary = "kept (latest, from the " + side + " account) over " + rc.Other + ": " + rc.Summary
		case "renumbered":
			rc.Disposition = usermerge.Changed
		default:
			rc.Disposition = usermerge.Combined
		}
		if len(t.slots) > 0 {
			n := len(t.slots)
			rc.Before, rc.After = t.slotMap(slots[:n]), t.slotMap(slots[n:])
		}
		out = append(out, rc)
	}
	return out, total, rows.Err()
}

func (tx *Tx) orgRecords(ctx context.Context, m MergeRef, k usermerge.Kind, limit int) ([]usermerge.RecordChange, int64, error) {
	q := `SELECT g.id, g.name FROM memberships x JOIN groups g ON g.tenant_id = x.tenant_id AND g.id = x.group_id
		WHERE x.tenant_id = ? AND x.account_id = ? ORDER BY g.id LIMIT ?`
	label := "group "
	if k == usermerge.KindAccountJobs {
		q = `SELECT j.id, j.title FROM account_jobs x JOIN jobs j ON j.tenant_id = x.tenant_id AND j.id = x.job_id
		WHERE x.tenant_id = ? AND x.account_id = ? ORDER BY j.id LIMIT ?`
		label = "job "
	}
	total, err := tx.orgCount(ctx, m, k)
	if err != nil {
		return nil, 0, err
	}
	rows, err := tx.Query(ctx, q, m.Tenant, m.Source, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []usermerge.RecordChange
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, 0, err
		}
		out = append(out, usermerge.RecordChange{Kind: k, RecordID: id, Disposition: usermerge.Left, Account: m.Source, Summary: label + name})
	}
	return out, total - int64(len(out)), rows.Err()
}
