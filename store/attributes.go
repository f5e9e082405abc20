package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"usermerge"
)

// attrColumns are the accounts columns of the known attributes, in the
// order of usermerge.KnownAttributes (migration 010). The free keys are one
// JSON object in the attrs column (empty for none).
var attrColumns = func() []string {
	cols := make([]string, len(usermerge.KnownAttributes))
	for i, k := range usermerge.KnownAttributes {
		cols[i] = k.Name
	}
	return cols
}()

// attrSelect is the attribute columns for a SELECT on accounts aliased p
// ("a."), free keys last.
func attrSelect(p string) string {
	return p + strings.Join(attrColumns, ", "+p) + ", " + p + "attrs"
}

// attrValues splits m into the values of attrColumns and the free keys'
// JSON (empty for none).
func attrValues(m map[string]string) ([]any, error) {
	vals := make([]any, 0, len(attrColumns)+1)
	for _, c := range attrColumns {
		vals = append(vals, m[c])
	}
	free := map[string]string{}
	for k, v := range m {
		if v != "" && !usermerge.KnownAttribute(k) {
			free[k] = v
		}
	}
	js := ""
	if len(free) > 0 {
		b, err := json.Marshal(free) // sorted keys: the same map, the same text
		if err != nil {
			return nil, err
		}
		js = string(b)
	}
	return append(vals, js), nil
}

// attrScan holds the scanned attribute columns of one row.
type attrScan struct {
	known []string
	free  string
}

func (s *attrScan) dest() []any {
	s.known = make([]string, len(attrColumns))
	d := make([]any, 0, len(s.known)+1)
	for i := range s.known {
		d = append(d, &s.known[i])
	}
	return append(d, &s.free)
}

// attributes is the scanned row's attributes, nil if it has none.
func (s *attrScan) attributes() (map[string]string, error) {
	m := map[string]string{}
	if s.free != "" {
		if err := json.Unmarshal([]byte(s.free), &m); err != nil {
			return nil, fmt.Errorf("account attributes: %w", err)
		}
	}
	for i, c := range attrColumns {
		m[c] = s.known[i]
	}
	return usermerge.CompactAttributes(m), nil
}

// usedAttributeKeys returns the attribute keys the tenant's accounts have
// a value for: the known ones in the order of attrColumns, then the free
// ones sorted. They are the CSV export's attribute columns, so that a
// tenant without attributes exports the columns it always did.
func (tx *Tx) usedAttributeKeys(ctx context.Context, tenant string) ([]string, error) {
	var q strings.Builder
	q.WriteString("SELECT ")
	for _, c := range attrColumns {
		q.WriteString("COALESCE(MAX(CASE WHEN " + c + " <> '' THEN 1 ELSE 0 END), 0), ")
	}
	q.WriteString("COUNT(*) FROM accounts WHERE tenant_id = ?")
	used := make([]int, len(attrColumns)+1)
	dest := make([]any, len(used))
	for i := range used {
		dest[i] = &used[i]
	}
	if err := tx.QueryRow(ctx, q.String(), tenant).Scan(dest...); err != nil {
		return nil, err
	}
	var keys []string
	for i, c := range attrColumns {
		if used[i] == 1 {
			keys = append(keys, c)
		}
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT attrs FROM accounts WHERE tenant_id = ? AND attrs <> ''`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			return nil, fmt.Errorf("account attributes: %w", err)
		}
		for k := range m {
			seen[k] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	free := make([]string, 0, len(seen))
	for k := range seen {
		free = append(free, k)
	}
	sort.Strings(free)
	return append(keys, free...), nil
}
