package store

import (
	"context"
	"strings"

	"usermerge"
)

// PlanPair is one source-into-target merge of a batch's dry run, with the
// policy's decision for the kind planned.
type PlanPair struct {
	Source, Target string
	Decision       Decision
}

// planChunk bounds the pairs of one statement (two parameters each).
const planChunk = 250

// PlanKindMany answers PlanKind for many merges at once, one answer per
// pair in order, each counted against the data as it is now: the same
// counts, by a few statements per chunk of pairs instead of a few per pair
// (per pair, a dry run of 10,000 rows made about 400,000 queries). The renumbering count
// of attempts is still one statement per pair that has attempts.
func (tx *Tx) PlanKindMany(ctx context.Context, tenant string, k usermerge.Kind, pairs []PlanPair) ([]usermerge.Counts, error) {
	out := make([]usermerge.Counts, len(pairs))
	for i := 0; i < len(pairs); i += planChunk {
		chunk := pairs[i:min(i+planChunk, len(pairs))]
		if err := tx.planChunk(ctx, tenant, k, chunk, out[i:i+len(chunk)]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (tx *Tx) planChunk(ctx context.Context, tenant string, k usermerge.Kind, pairs []PlanPair, out []usermerge.Counts) error {
	sources := make([]string, 0, len(pairs))
	seen := map[string]bool{}
	for _, p := range pairs {
		if !seen[p.Source] {
			seen[p.Source] = true
			sources = append(sources, p.Source)
		}
	}
	t, ok := tableOf[k]
	if !ok { // org structure: counted, never moved
		ot, ok := orgTableOf[k]
		if !ok {
			return usermerge.Errorf(usermerge.Internal, "unknown_kind", "no table for kind %q", k)
		}
		in, inArgs := inList(tx, "account_id", sources)
		n, err := tx.countBy(ctx, `SELECT account_id, COUNT(*) FROM `+ot.table+` WHERE tenant_id = ? AND `+in+`
			GROUP BY account_id`, append([]any{tenant}, inArgs...)...)
		for i, p := range pairs {
			out[i].Left = n[p.Source]
		}
		return err
	}
	in, inArgs := inList(tx, "account_id", sources)
	live, err := tx.countBy(ctx, `SELECT account_id, COUNT(*) FROM `+t.table+` WHERE tenant_id = ? AND `+in+`
		AND retired_by IS NULL GROUP BY account_id`, append([]any{tenant}, inArgs...)...)
	if err != nil {
		return err
	}
	var apply []PlanPair // the pairs whose kind's rule runs
	for _, p := range pairs {
		if p.Decision == Apply {
			apply = append(apply, p)
		}
	}
	var paired, wins map[[2]string]int64
	if len(apply) > 0 && (t.shape == shapeCombine || t.shape == shapeKeep) {
		with, args := pairList(apply)
		cond := `s.tenant_id = ? AND s.account_id = p.src AND s.retired_by IS NULL` + liveCond(t, "s") + `
			AND EXISTS (SELECT 1 FROM ` + t.table + ` x WHERE x.tenant_id = s.tenant_id AND x.` + t.key + ` = s.` + t.key + `
			AND x.retired_by IS NULL AND x.account_id = p.tgt` + liveCond(t, "x") + `)`
		// A count per pair, as a subquery correlated with the pair: each is
		// then an index range of the source's records and a probe of the
		// target's per record. Joined to the pairs instead, PostgreSQL made
		// the EXISTS a hash of every live record of the table, once per
		// chunk and kind (0.35 s a chunk of course progress at 100,000
		// accounts; the dry run of 10,000 rows took 52 s).
		if paired, err = tx.countPairs(ctx, with+` SELECT p.src, p.tgt, (SELECT COUNT(*) FROM `+t.table+` s WHERE `+cond+`) FROM p`,
			append(args, tenant)...); err != nil {
			return err
		}
		if t.shape == shapeKeep {
			if wins, err = tx.countPairs(ctx, with+` SELECT p.src, p.tgt, (SELECT COUNT(*) FROM `+t.table+` s WHERE `+cond+`
				AND s.`+t.latest+` > (SELECT MAX(x.`+t.latest+`) FROM `+t.table+` x WHERE x.tenant_id = s.tenant_id AND x.`+t.key+` = s.`+t.key+`
				AND x.retired_by IS NULL AND x.account_id = p.tgt`+liveCond(t, "x")+`)) FROM p`, append(args, tenant)...); err != nil {
				return err
			}
		}
	}
	for i, p := range pairs {
		c := &out[i]
		n := live[p.Source]
		if p.Decision == Leave {
			c.Left = n
			continue
		}
		switch t.shape {
		case shapeMove:
			c.Moved = n
		case shapeRenumber:
			c.Moved = n
			if n > 0 {
				if c.Changed, err = tx.Count(ctx, `SELECT COUNT(*) FROM (`+renumberSelect(t, 1)+`) x WHERE x.rn <> x.`+t.spec.Renumber,
					renumberArgs(tenant, []string{p.Target}, p.Source)...); err != nil {
					return err
				}
			}
		case shapeCombine, shapeKeep:
			key := [2]string{p.Source, p.Target}
			c.Combined, c.Retired, c.Moved = paired[key], paired[key], n-paired[key]
			c.Moved += wins[key]
		}
	}
	return nil
}

// pairList is a WITH clause naming the pairs p(src, tgt), and its args.
func pairList(pairs []PlanPair) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(pairs))
	b.WriteString(`WITH p (src, tgt) AS (VALUES `)
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`(CAST(? AS TEXT), CAST(? AS TEXT))`)
		args = append(args, p.Source, p.Target)
	}
	b.WriteString(`)`)
	return b.String(), args
}

// countBy reads (key, count) rows.
func (tx *Tx) countBy(ctx context.Context, query string, args ...any) (map[string]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// countPairs reads (source, target, count) rows.
func (tx *Tx) countPairs(ctx context.Context, query string, args ...any) (map[[2]string]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int64{}
	for rows.Next() {
		var s, t string
		var n int64
		if err := rows.Scan(&s, &t, &n); err != nil {
			return nil, err
		}
		out[[2]string{s, t}] = n
	}
	return out, rows.Err()
}
