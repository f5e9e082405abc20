package store

import (
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
// connection.
const sqliteDriver = "sqlite3_usermerge"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
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
// email (the folded search column), or of an external ID's value. On SQLite
// a term of gramLen characters or more is looked up in the gram tables
// (migration 007) and only the candidates they give are compared; PostgreSQL
// reads its trigram indexes for the same LIKE by itself.
func (tx *Tx) accountMatchSQL(tenant, term string) (string, []any) {
	like := containsPattern(term)
	folded := Fold(term)
	if tx.d.name != "sqlite" || utf8.RuneCountInString(folded) < gramLen {
		return `SELECT a.id FROM accounts a WHERE a.tenant_id = ? AND (a.id = ? OR a.search LIKE ? ESCAPE '\')
	UNION SELECT x.account_id FROM external_ids x WHERE x.tenant_id = ? AND x.search LIKE ? ESCAPE '\'`,
			[]any{tenant, term, like, tenant, like}
	}
	g := grams(folded)
	ph := placeholders(len(g))
	args := []any{tenant, term, tenant, tenant}
	args = append(append(args, anys(g)...), len(g), like, tenant, tenant)
	args = append(append(args, anys(g)...), len(g), like)
	return `SELECT a.id FROM accounts a WHERE a.tenant_id = ? AND a.id = ?
	UNION SELECT a.id FROM accounts a WHERE a.tenant_id = ? AND a.id IN (SELECT g.account_id FROM account_grams g
		WHERE g.tenant_id = ? AND g.gram IN (` + ph + `) GROUP BY g.account_id HAVING COUNT(*) = ?) AND a.search LIKE ? ESCAPE '\'
	UNION SELECT x.account_id FROM external_ids x WHERE x.tenant_id = ? AND x.id IN (SELECT g.external_id FROM external_id_grams g
		WHERE g.tenant_id = ? AND g.gram IN (` + ph + `) GROUP BY g.external_id HAVING COUNT(*) = ?) AND x.search LIKE ? ESCAPE '\'`, args
}
