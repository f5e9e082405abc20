package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Searches fold case the same way on both databases: Unicode lower-casing
// with the root locale, which is what PostgreSQL's lower() does under the ICU
// collation "und-x-icu" (migration 007 computes its search columns so).
// SQLite's own lower() folds ASCII only, so the SQLite driver is registered
// with Fold as the SQL function usermerge_fold, which its triggers call.
// TestSearchFoldsLikePostgres compares the two on every letter.

var lowers = sync.Pool{New: func() any { return cases.Lower(language.Und) }}

// Fold lower-cases s for search, as both databases do.
func Fold(s string) string {
	c := lowers.Get().(cases.Caser)
	defer lowers.Put(c)
	return c.String(s)
}

// gramLen is the length (in characters) of the pieces of text SQLite's
// search index holds, as PostgreSQL's pg_trgm does: a search term of at
// least gramLen characters is looked up in the index, a shorter one scans.
const gramLen = 3

// grams returns the distinct gramLen-character pieces of s, sorted.
func grams(s string) []string {
	rs := []rune(s)
	var out []string
	for i := 0; i+gramLen <= len(rs); i++ {
		out = append(out, string(rs[i:i+gramLen]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sqlGrams is usermerge_grams(text): the grams of the folded text as a JSON
// array, which the triggers expand with json_each into the gram tables.
func sqlGrams(s string) string {
	g := grams(Fold(s))
	if g == nil {
		g = []string{}
	}
	b, _ := json.Marshal(g)
	return string(b)
}

// sqliteDriver is mattn/go-sqlite3 with the search functions on every
// connection, and the database file memory-mapped (up to SQLite's 2 GiB
// limit): a read then finds its pages in the kernel's page cache without
// a read call and a copy into each connection's own 2 MB cache, which at
// a million accounts made a resolve of 1,000 references twice as slow
// (docs/performance.md, Events). The mapping is address space shared by
// the connections, not memory each one holds.
const sqliteDriver = "sqlite3_usermerge"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec("PRAGMA mmap_size = 2147418112", nil); err != nil {
			return err
		}
		if err := c.RegisterFunc("usermerge_fold", Fold, true); err != nil {
			return err
		}
		return c.RegisterFunc("usermerge_grams", sqlGrams, true)
	}})
}

// likeEscaper makes a search term literal inside LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern is the LIKE pattern (with ESCAPE '\') matching folded
// text that contains the folded term: %, _ and \ in the term are literal.
func containsPattern(term string) string {
	return "%" + likeEscaper.Replace(Fold(term)) + "%"
}

// accountMatchSQL returns a subquery selecting the ids of the accounts of a
// tenant a search term matches: by id, or by a part of the name, login or
// email (the folded search column), or of an external ID's value.
// PostgreSQL reads its trigram indexes for the LIKE by itself. On SQLite a
// term of gramLen characters or more is looked up in the gram tables
// (migration 007): see gramMatch.
func (tx *Tx) accountMatchSQL(ctx context.Context, tenant, term string) (string, []any, error) {
	like := containsPattern(term)
	folded := Fold(term)
	if tx.d.name != "sqlite" || utf8.RuneCountInString(folded) < gramLen {
		return `SELECT a.id FROM accounts a WHERE a.tenant_id = ? AND (a.id = ? OR a.search LIKE ? ESCAPE '\')
	UNION SELECT x.account_id FROM external_ids x WHERE x.tenant_id = ? AND x.search LIKE ? ESCAPE '\'`,
			[]any{tenant, term, like, tenant, like}, nil
	}
	q, args := `SELECT a.id FROM accounts a WHERE a.tenant_id = ? AND a.id = ?`, []any{tenant, term}
	for _, side := range []struct{ grams, key, table, owner string }{
		{"account_grams", "account_id", "accounts", "id"},
		{"external_id_grams", "external_id", "external_ids", "account_id"},
	} {
		sub, sargs, err := tx.gramMatch(ctx, side.grams, side.key, side.table, side.owner, tenant, grams(folded), like)
		if err != nil {
			return "", nil, err
		}
		if sub != "" {
			q, args = q+"\n\tUNION "+sub, append(args, sargs...)
		}
	}
	return q, args, nil
}

// gramProbe bounds how many index entries finding a gram's frequency reads.
const gramProbe = 5000

// gramMatch selects the owners (accounts) of the rows of table whose search
// column contains the pattern, through the gram table: the rows holding
// the term's rarest gram are read from the index, each is kept only if it
// holds the term's next rarest grams too (lookups by primary key), and the
// few that are left are compared with LIKE. A gram's frequency is counted
// up to gramProbe entries first, so the cost is that of the rarest gram,
// not of the common ones ("son", "ari"); when even the rarest is common,
// the search column is scanned instead. It returns "" when some gram occurs
// in no row, so nothing can match.
func (tx *Tx) gramMatch(ctx context.Context, gramTable, key, table, owner, tenant string, gs []string, like string) (string, []any, error) {
	type freq struct {
		gram string
		n    int64
	}
	fs := make([]freq, len(gs))
	for i, g := range gs {
		n, err := tx.Count(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+gramTable+` WHERE tenant_id = ? AND gram = ? LIMIT ?) p`, tenant, g, gramProbe)
		if err != nil {
			return "", nil, err
		}
		if n == 0 {
			return "", nil, nil
		}
		fs[i] = freq{g, n}
	}
	slices.SortStableFunc(fs, func(a, b freq) int { return int(a.n - b.n) })
	if fs[0].n >= gramProbe {
		// Every gram is common ("john"): the index saves nothing, and a
		// scan of the search column finds the first matches soonest.
		return `SELECT t.` + owner + ` FROM ` + table + ` t WHERE t.tenant_id = ? AND t.search LIKE ? ESCAPE '\'`, []any{tenant, like}, nil
	}
	// Three more grams narrow the candidates enough; LIKE decides.
	q := `SELECT t.` + owner + ` FROM ` + gramTable + ` g CROSS JOIN ` + table + ` t
		WHERE g.tenant_id = ? AND g.gram = ?`
	args := []any{tenant, fs[0].gram}
	for _, f := range fs[1:min(len(fs), 4)] {
		q += ` AND EXISTS (SELECT 1 FROM ` + gramTable + ` h WHERE h.tenant_id = g.tenant_id AND h.gram = ? AND h.` + key + ` = g.` + key + `)`
		args = append(args, f.gram)
	}
	q += ` AND t.tenant_id = g.tenant_id AND t.id = g.` + key + ` AND t.search LIKE ? ESCAPE '\'`
	return q, append(args, like), nil
}
