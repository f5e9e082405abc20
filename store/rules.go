package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"usermerge"
)

// The merge rules of PRODUCT.md §3 as set-based SQL. Each kind is handled
// by a few statements whose cost depends on the number of rows they touch,
// never on a loop in Go:
//
//   - moved rows get account_id = target and moved_by = merge in the same
//     UPDATE, so the bulk of a merge (sign-ins, attempts, payments) needs no
//     journal row at all; only rows an earlier merge had moved get a
//     journal_moves row with their previous moved_by;
//   - rows a rule combines or renumbers get a journal_values row with their
//     values before and after, then are updated from it;
//   - rows a rule drops from the live set are marked retired_by = merge and
//     stay where they are, so nothing is ever deleted.
//
// Revert runs the same steps backwards (revert.go).

// MergeRef names one source-into-target merge.
type MergeRef struct {
	Tenant string
	ID     int64
	Source string
	Target string
	// SourceHasMarks is true when the source took part in an earlier merge
	// (as source or target, reverted or not); only then can its rows carry a
	// moved_by mark that must be journaled.
	SourceHasMarks bool
}

// Decision is how a policy applies to one kind in one merge.
type Decision int

const (
	Apply Decision = iota // the kind's rule runs
	Leave                 // the policy leaves every record with the source
)

// DecisionFor says whether the policy moves or leaves a kind; the kind's
// descriptor decides (usermerge.KindSpec.Moves).
func DecisionFor(k usermerge.Kind, p usermerge.Policy, moveExternalIDs bool) Decision {
	if s := k.Spec(); s != nil && s.Moves(p, moveExternalIDs) {
		return Apply
	}
	return Leave
}

// PlanKind counts, without writing, what merging m would do with kind k
// now. (A preview of several sources applies each source's merge before it
// counts the next, in a transaction it rolls back: engine.Preview.)
func (tx *Tx) PlanKind(ctx context.Context, m MergeRef, k usermerge.Kind, d Decision) (usermerge.Counts, error) {
	var c usermerge.Counts
	var err error
	t, ok := tableOf[k]
	if !ok { // org structure
		c.Left, err = tx.orgCount(ctx, m.Tenant, m.Source, k)
		return c, err
	}
	live, err := tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL`, m.Tenant, m.Source)
	if err != nil {
		return c, err
	}
	if d == Leave {
		c.Left = live
		return c, nil
	}
	holders := []string{m.Target}
	switch t.shape {
	case shapeMove:
		c.Moved = live
	case shapeRenumber:
		c.Moved = live
		c.Changed, err = tx.Count(ctx, `SELECT COUNT(*) FROM (`+renumberSelect(t, len(holders))+`) x WHERE x.rn <> x.`+t.spec.Renumber,
			renumberArgs(m.Tenant, holders, m.Source)...)
	case shapeCombine, shapeKeep:
		cond, args := pairExists(t, m, holders)
		var pairs int64
		if pairs, err = tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` s WHERE `+cond, args...); err != nil {
			return c, err
		}
		c.Combined, c.Retired, c.Moved = pairs, pairs, live-pairs
		if t.shape == shapeKeep {
			// the source's record still moves where it is the latest
			var wins int64
			wins, err = tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` s WHERE `+cond+` AND s.`+t.latest+` > (SELECT MAX(x.`+t.latest+`)
				FROM `+t.table+` x WHERE x.tenant_id = s.tenant_id AND x.`+t.key+` = s.`+t.key+` AND x.retired_by IS NULL
				AND x.account_id IN (`+placeholders(len(holders))+`)`+liveCond(t, "x")+`)`, append(args, anys(holders)...)...)
			c.Moved += wins
		}
	}
	return c, err
}

// pairExists selects the source's live records s whose item a holder also holds.
func pairExists(t *recordTable, m MergeRef, holders []string) (string, []any) {
	cond := `s.tenant_id = ? AND s.account_id = ? AND s.retired_by IS NULL` + liveCond(t, "s") + `
		AND EXISTS (SELECT 1 FROM ` + t.table + ` x WHERE x.tenant_id = s.tenant_id AND x.` + t.key + ` = s.` + t.key + `
		AND x.retired_by IS NULL AND x.account_id IN (` + placeholders(len(holders)) + `)` + liveCond(t, "x") + `)`
	return cond, append([]any{m.Tenant, m.Source}, anys(holders)...)
}

func liveCond(t *recordTable, alias string) string {
	if t.live == "" {
		return ""
	}
	return " AND " + alias + "." + t.live
}

func anys[T any](ss []T) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// orgCount counts an account's org structure records of kind k.
func (tx *Tx) orgCount(ctx context.Context, tenant, account string, k usermerge.Kind) (int64, error) {
	t, ok := orgTableOf[k]
	if !ok {
		return 0, fmt.Errorf("no table for kind %q", k)
	}
	return tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE tenant_id = ? AND account_id = ?`, tenant, account)
}

// pairJoin is "<table> t JOIN <table> s ... WHERE ..." pairing the target's
// and the source's live records of the same item. Args: tenant, target, source.
func pairJoin(t *recordTable) string {
	q := t.table + ` t JOIN ` + t.table + ` s ON s.tenant_id = t.tenant_id AND s.` + t.key + ` = t.` + t.key + `
		WHERE t.tenant_id = ? AND t.account_id = ? AND t.retired_by IS NULL AND s.account_id = ? AND s.retired_by IS NULL`
	if t.live != "" {
		q += ` AND t.` + t.live + ` AND s.` + t.live
	}
	return q
}

// renumberSelect numbers the attempts of the holders and the source per
// content in time order, for the contents both sides hold. Args:
// renumberArgs.
//
// The shared contents are found first, from the source's side: the
// distinct contents of its live attempts (one range of the account index,
// read in content order), each looked up once among the holders' attempts.
// The set is materialized, so that only the attempts of those contents are
// then read and numbered: the cost follows the source's attempts, never
// their product with the target's.
func renumberSelect(t *recordTable, holders int) string {
	ph := placeholders(holders)
	it, item, num, order := t.spec.ItemType, t.spec.Item, t.spec.Renumber, t.spec.OrderBy
	return `WITH shared AS MATERIALIZED (SELECT c.` + it + `, c.` + item + `
			FROM (SELECT DISTINCT y.` + it + `, y.` + item + ` FROM ` + t.table + ` y
				WHERE y.tenant_id = ? AND y.account_id = ? AND y.retired_by IS NULL) c
			WHERE EXISTS (SELECT 1 FROM ` + t.table + ` x WHERE x.tenant_id = ? AND x.account_id IN (` + ph + `) AND x.retired_by IS NULL
				AND x.` + it + ` = c.` + it + ` AND x.` + item + ` = c.` + item + `))
		SELECT a.tenant_id, a.id, a.` + num + `,
		ROW_NUMBER() OVER (PARTITION BY a.` + it + `, a.` + item + ` ORDER BY a.` + order + `, a.` + num + `, a.id) AS rn
		FROM shared JOIN ` + t.table + ` a ON a.tenant_id = ? AND a.account_id IN (` + ph + `, ?) AND a.retired_by IS NULL
			AND a.` + it + ` = shared.` + it + ` AND a.` + item + ` = shared.` + item
}

func renumberArgs(tenant string, holders []string, source string) []any {
	args := []any{tenant, source, tenant}
	args = append(args, anys(holders)...)
	args = append(args, tenant)
	args = append(args, anys(holders)...)
	return append(args, source)
}

// ApplyKind merges kind k of m.Source into m.Target and returns the counts.
func (tx *Tx) ApplyKind(ctx context.Context, m MergeRef, k usermerge.Kind, d Decision) (usermerge.Counts, error) {
	cs, err := tx.ApplyKinds(ctx, m, []usermerge.Kind{k}, func(usermerge.Kind) Decision { return d })
	return cs[k], err
}

// ApplyKinds merges the kinds of m.Source into m.Target, each as decide
// says, and returns the counts per kind. The statements of the kinds that
// move go to the database as one pipeline (on PostgreSQL one round trip
// for all of them, on SQLite one call each): each kind's statements run in
// order and read only that kind's table and journal rows, so no statement
// needs another's answer before it is sent. The counts and the checks
// (every paired record retired) are read from the answers after.
func (tx *Tx) ApplyKinds(ctx context.Context, m MergeRef, kinds []usermerge.Kind, decide func(usermerge.Kind) Decision) (map[usermerge.Kind]usermerge.Counts, error) {
	out := make(map[usermerge.Kind]usermerge.Counts, len(kinds))
	var p pipeline
	type queued struct {
		k                      usermerge.Kind
		changed, paired, moved *int64
		retired                *int64 // nil: the shape retires nothing
	}
	var qs []queued
	for _, k := range kinds {
		t, ok := tableOf[k]
		if d := decide(k); !ok || d == Leave {
			c, err := tx.PlanKind(ctx, m, k, d) // nothing moves; count what stays
			if err != nil {
				return out, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = c
			continue
		}
		q := queued{k: k}
		switch t.shape {
		case shapeRenumber:
			q.changed = queueRenumber(&p, m, t)
		case shapeCombine:
			q.paired, q.retired = queueCombine(&p, m, t)
		case shapeKeep:
			q.paired, q.retired = queueKeepLatest(&p, m, t)
		}
		q.moved = queueMove(&p, m, t)
		qs = append(qs, q)
	}
	if err := tx.pipeline(ctx, p); err != nil {
		return out, err
	}
	for _, q := range qs {
		var c usermerge.Counts
		if q.changed != nil {
			c.Changed = *q.changed
		}
		if q.paired != nil {
			c.Combined, c.Retired = *q.paired, *q.paired
			if *q.retired != *q.paired {
				return out, fmt.Errorf("%s: retired %d records of %d pairs", q.k, *q.retired, *q.paired)
			}
		}
		c.Moved = *q.moved
		out[q.k] = c
	}
	return out, nil
}

// pipeline is statements to run in order in one transaction, each with
// where its count of rows affected goes.
type pipeline struct {
	steps []pipeStep
}

type pipeStep struct {
	q    string
	args []any
	n    *int64
}

// add queues a statement; its count of rows affected lands in the answer
// once the pipeline has run.
func (p *pipeline) add(q string, args ...any) *int64 {
	n := new(int64)
	p.steps = append(p.steps, pipeStep{q: q, args: args, n: n})
	return n
}

// pipeline runs p's statements in order, inside tx. On PostgreSQL they are
// sent as one batch (pgx's pipeline mode: one round trip, each statement
// still run in turn by the server, the first error ending the batch and
// the transaction); on SQLite, in process, one after the other.
func (tx *Tx) pipeline(ctx context.Context, p pipeline) error {
	if len(p.steps) == 0 {
		return nil
	}
	if tx.d.name != "postgres" {
		for _, s := range p.steps {
			n, err := tx.Exec(ctx, s.q, s.args...)
			if err != nil {
				return err
			}
			*s.n = n
		}
		return nil
	}
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pipeline: the connection is a %T, not pgx's", dc)
		}
		b := &pgx.Batch{}
		for _, s := range p.steps {
			b.Queue(tx.d.rebind(s.q), s.args...)
		}
		br := c.Conn().SendBatch(ctx, b)
		for _, s := range p.steps {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("%s: %w", firstLine(s.q), err)
			}
			*s.n = tag.RowsAffected()
		}
		return br.Close()
	})
}

// queueMove hands every live record of the source to the target, marking
// it with the merge in the same statement.
func queueMove(p *pipeline, m MergeRef, t *recordTable) *int64 {
	if m.SourceHasMarks {
		p.add(`INSERT INTO journal_moves (tenant_id, merge_id, kind, record_id, prev_moved_by)
			SELECT tenant_id, CAST(? AS BIGINT), CAST(? AS TEXT), id, moved_by FROM `+t.table+`
			WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL AND moved_by IS NOT NULL`,
			m.ID, string(t.kind), m.Tenant, m.Source)
	}
	return p.add(`UPDATE `+t.table+` SET account_id = ?, moved_by = ?
		WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL`, m.Target, m.ID, m.Tenant, m.Source)
}

// queueCombine journals each pair (target row before and combined after),
// updates the target rows from the journal and retires the source rows of
// the pairs; it answers the pairs and the records retired.
func queueCombine(p *pipeline, m MergeRef, t *recordTable) (paired, retired *int64) {
	bcols, acols := t.slotNames()
	exprs := make([]string, len(t.slots))
	for i, c := range t.slots {
		exprs[i] = t.combined[c]
	}
	paired = p.add(`INSERT INTO journal_values (tenant_id, merge_id, kind, record_id, action, other_id, `+
		strings.Join(bcols, ", ")+`, `+strings.Join(acols, ", ")+`)
		SELECT t.tenant_id, CAST(? AS BIGINT), CAST(? AS TEXT), t.id, 'combined', s.id, `+prefixed("t", t.slots)+`, `+strings.Join(exprs, ", ")+`
		FROM `+pairJoin(t), m.ID, string(t.kind), m.Tenant, m.Target, m.Source)
	sets := make([]string, len(t.slots))
	for i, c := range t.slots {
		sets[i] = c + " = j." + acols[i]
	}
	p.add(`UPDATE `+t.table+` SET `+strings.Join(sets, ", ")+`
		FROM journal_values j
		WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? AND j.action = 'combined'
		AND `+t.table+`.tenant_id = j.tenant_id AND `+t.table+`.id = j.record_id`, m.Tenant, m.ID, string(t.kind))
	return paired, queueRetireOthers(p, m, t)
}

// queueKeepLatest journals each pair as (kept record, retired other), the
// kept record with its values, and retires the older of the two; a tie
// keeps the target's. The source's unpaired live records are journaled
// too, as kept from the source with no other: they move, and a revert must
// tell whether they changed on the target since (PRODUCT.md §6).
func queueKeepLatest(p *pipeline, m MergeRef, t *recordTable) (paired, retired *int64) {
	_, acols := t.slotNames()
	win := `s.` + t.latest + ` > t.` + t.latest
	vals := make([]string, len(t.slots))
	for i, c := range t.slots {
		vals[i] = `CASE WHEN ` + win + ` THEN s.` + c + ` ELSE t.` + c + ` END`
	}
	paired = p.add(`INSERT INTO journal_values (tenant_id, merge_id, kind, record_id, action, other_id, `+strings.Join(acols, ", ")+`)
		SELECT t.tenant_id, CAST(? AS BIGINT), CAST(? AS TEXT),
			CASE WHEN `+win+` THEN s.id ELSE t.id END,
			CASE WHEN `+win+` THEN 'kept_source' ELSE 'kept_target' END,
			CASE WHEN `+win+` THEN t.id ELSE s.id END, `+strings.Join(vals, ", ")+`
		FROM `+pairJoin(t), m.ID, string(t.kind), m.Tenant, m.Target, m.Source)
	retired = queueRetireOthers(p, m, t)
	// the source's records that move without a pair (the retired ones of
	// the pairs are no longer live)
	p.add(`INSERT INTO journal_values (tenant_id, merge_id, kind, record_id, action, `+strings.Join(acols, ", ")+`)
		SELECT s.tenant_id, CAST(? AS BIGINT), CAST(? AS TEXT), s.id, 'kept_source', `+prefixed("s", t.slots)+`
		FROM `+t.table+` s WHERE s.tenant_id = ? AND s.account_id = ? AND s.retired_by IS NULL
		AND NOT EXISTS (SELECT 1 FROM journal_values j WHERE j.tenant_id = s.tenant_id AND j.merge_id = ? AND j.kind = ? AND j.record_id = s.id)`,
		m.ID, string(t.kind), m.Tenant, m.Source, m.ID, string(t.kind))
	return paired, retired
}

// queueRetireOthers retires the other record of each of the merge's
// journaled pairs of t.
func queueRetireOthers(p *pipeline, m MergeRef, t *recordTable) *int64 {
	return p.add(`UPDATE `+t.table+` SET retired_by = ?
		WHERE tenant_id = ? AND id IN (SELECT other_id FROM journal_values WHERE tenant_id = ? AND merge_id = ? AND kind = ? AND other_id IS NOT NULL)`,
		m.ID, m.Tenant, m.Tenant, m.ID, string(t.kind))
}

// queueRenumber journals and applies the new attempt numbers; it answers
// the attempts renumbered.
func queueRenumber(p *pipeline, m MergeRef, t *recordTable) *int64 {
	args := append([]any{m.ID, string(t.kind)}, renumberArgs(m.Tenant, []string{m.Target}, m.Source)...)
	num := t.spec.Renumber
	n := p.add(`INSERT INTO journal_values (tenant_id, merge_id, kind, record_id, action, b1, a1)
		SELECT x.tenant_id, CAST(? AS BIGINT), CAST(? AS TEXT), x.id, 'renumbered', x.`+num+`, x.rn FROM (`+renumberSelect(t, 1)+`) x
		WHERE x.rn <> x.`+num, args...)
	p.add(`UPDATE `+t.table+` SET `+num+` = j.a1 FROM journal_values j
		WHERE j.tenant_id = ? AND j.merge_id = ? AND j.kind = ? AND j.action = 'renumbered'
		AND `+t.table+`.tenant_id = j.tenant_id AND `+t.table+`.id = j.record_id`, m.Tenant, m.ID, string(t.kind))
	return n
}
