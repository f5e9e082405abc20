package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"

	"usermerge"
	"usermerge/match"
)

// What duplicate detection reads (the accounts as match.Record) and writes
// (pairs, suggestions, blocking keys and fingerprints). Every read is
// set-based: one statement per kind of fact streams the whole tenant, never
// one query per account.

// signInPeriod is the length of a sign-in period, 30 days in milliseconds
// (match.SignInKey.Period counts them since the Unix epoch).
const signInPeriod = 30 * 24 * 60 * 60 * 1000

// inChunk bounds the ids of one IN list (SQLite), arrayChunk those of one
// array parameter (PostgreSQL).
const (
	inChunk    = 500
	arrayChunk = 10_000
)

// DuplicateRecords answers the tenant's live accounts (not merged away, not
// deleted) as the finder reads them, or with only (not nil) just those of
// them. An account that is an administrator's own is NotSource. Records
// (the learning records an account holds) is left 0: RecordTotals counts
// them for the few accounts that need it.
func (tx *Tx) DuplicateRecords(ctx context.Context, tenant string, only []string) ([]match.Record, error) {
	if only == nil {
		return tx.recordsWhere(ctx, tenant, func(string) string { return "" }, nil)
	}
	var recs []match.Record
	err := tx.eachChunk(only, func(cond func(string) string, args []any) error {
		part, err := tx.recordsWhere(ctx, tenant, cond, args)
		recs = append(recs, part...)
		return err
	})
	return recs, err
}

// DuplicateRecordPage is how many accounts EachDuplicateRecord reads at a
// time.
var DuplicateRecordPage = 10_000

// EachDuplicateRecord calls fn with each of the tenant's live accounts as
// DuplicateRecords answers them, reading DuplicateRecordPage accounts (and
// their facts) at a time, so that the caller need not hold them all: a run
// streams a million accounts into the finder this way. The pages follow
// the database's order of ids, each page in byte order (the same order
// under the C collation the tests' databases use).
func (tx *Tx) EachDuplicateRecord(ctx context.Context, tenant string, fn func(match.Record) error) error {
	return tx.EachDuplicateRecordPage(ctx, tenant, func(_, _ string, recs []match.Record) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// EachDuplicateRecordPage is EachDuplicateRecord a page at a time: fn gets
// the page's records and its bounds, the ids after after and at most upto
// (DuplicateRecordsBetween reads the same page again).
func (tx *Tx) EachDuplicateRecordPage(ctx context.Context, tenant string, fn func(after, upto string, recs []match.Record) error) error {
	lo := ""
	for {
		var hi sql.NullString
		if err := tx.QueryRow(ctx, `SELECT MAX(id) FROM (SELECT id FROM accounts WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?) x`,
			tenant, lo, DuplicateRecordPage).Scan(&hi); err != nil {
			return err
		}
		if !hi.Valid {
			return nil
		}
		recs, err := tx.DuplicateRecordsBetween(ctx, tenant, lo, hi.String)
		if err != nil {
			return err
		}
		if err := fn(lo, hi.String, recs); err != nil {
			return err
		}
		lo = hi.String
	}
}

// LiveAccountCount answers how many live accounts (not merged away, not
// deleted) the tenant has: the records a whole run reads.
func (tx *Tx) LiveAccountCount(ctx context.Context, tenant string) (int64, error) {
	return tx.Count(ctx, `SELECT COUNT(*) FROM accounts WHERE tenant_id = ? AND deleted_at IS NULL AND merged_into IS NULL`, tenant)
}

// DuplicateRecordsBetween answers, as DuplicateRecords does, the live
// accounts whose ids are after after and at most upto, in id order.
func (tx *Tx) DuplicateRecordsBetween(ctx context.Context, tenant, after, upto string) ([]match.Record, error) {
	recs, err := tx.recordsWhere(ctx, tenant, func(col string) string { return " AND " + col + " > ? AND " + col + " <= ?" }, []any{after, upto})
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	return recs, err
}

// recordsWhere answers the live accounts, with their facts, that cond
// (with args) selects: cond(col) is a condition on the column of the
// account's id, empty for the whole tenant.
func (tx *Tx) recordsWhere(ctx context.Context, tenant string, cond func(string) string, args []any) ([]match.Record, error) {
	var recs []match.Record
	index := map[string]int{}
	err := func() error {
		rows, err := tx.Query(ctx, `SELECT a.id, a.login, a.name, a.email, a.given_name, a.family_name, a.birth_date, a.phone,
			a.employee_number, a.postcode, a.created_at, a.status,
			EXISTS (SELECT 1 FROM admins ad WHERE ad.tenant_id = a.tenant_id AND ad.account_id = a.id)
			FROM accounts a WHERE a.tenant_id = ? AND a.deleted_at IS NULL AND a.merged_into IS NULL`+cond("a.id"),
			append([]any{tenant}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r match.Record
			var created int64
			var status string
			if err := rows.Scan(&r.ID, &r.Login, &r.Name, &r.Email, &r.Given, &r.Family, &r.BirthDate, &r.Phone,
				&r.EmployeeNumber, &r.Postcode, &created, &status, &r.NotSource); err != nil {
				return err
			}
			r.Created, r.Active = created/1000, status == string(usermerge.Active)
			index[r.ID] = len(recs)
			recs = append(recs, r)
		}
		return rows.Err()
	}()
	if err != nil || len(recs) == 0 {
		return recs, err
	}
	err = func() error {
		return tx.eachRow(ctx, `SELECT account_id, system, value FROM external_ids
			WHERE tenant_id = ? AND retired_by IS NULL`+cond("account_id"), append([]any{tenant}, args...), func(rows *sql.Rows) error {
			var acc string
			var x match.ExternalID
			if err := rows.Scan(&acc, &x.System, &x.Value); err != nil {
				return err
			}
			if i, ok := index[acc]; ok {
				recs[i].ExternalIDs = append(recs[i].ExternalIDs, x)
			}
			return nil
		})
	}()
	if err != nil {
		return nil, err
	}
	err = func() error {
		return tx.eachRow(ctx, `SELECT account_id, group_id FROM memberships WHERE tenant_id = ?`+cond("account_id"),
			append([]any{tenant}, args...), func(rows *sql.Rows) error {
				var acc, g string
				if err := rows.Scan(&acc, &g); err != nil {
					return err
				}
				if i, ok := index[acc]; ok {
					recs[i].Groups = append(recs[i].Groups, g)
				}
				return nil
			})
	}()
	if err != nil {
		return nil, err
	}
	// The distinct (address, client, period) of each account's live
	// sign-ins with the last time of each; the newest MaxSignInKeys are kept.
	last := make(map[int][]int64)
	err = func() error {
		return tx.eachRow(ctx, `SELECT account_id, ip, client, at / `+fmt.Sprint(signInPeriod)+`, MAX(at) FROM signins
			WHERE tenant_id = ? AND retired_by IS NULL`+cond("account_id")+`
			GROUP BY account_id, ip, client, at / `+fmt.Sprint(signInPeriod),
			append([]any{tenant}, args...), func(rows *sql.Rows) error {
				var acc string
				var k match.SignInKey
				var at int64
				if err := rows.Scan(&acc, &k.Address, &k.Client, &k.Period, &at); err != nil {
					return err
				}
				if i, ok := index[acc]; ok {
					recs[i].SignIns = append(recs[i].SignIns, k)
					last[i] = append(last[i], at)
				}
				return nil
			})
	}()
	if err != nil {
		return nil, err
	}
	for i := range recs {
		r := &recs[i]
		sort.Slice(r.ExternalIDs, func(x, y int) bool {
			a, b := r.ExternalIDs[x], r.ExternalIDs[y]
			return a.System < b.System || a.System == b.System && a.Value < b.Value
		})
		slices.Sort(r.Groups)
		if ats := last[i]; len(ats) > 0 {
			order := make([]int, len(ats))
			for j := range order {
				order[j] = j
			}
			keys := r.SignIns
			sort.Slice(order, func(x, y int) bool {
				a, b := order[x], order[y]
				if ats[a] != ats[b] {
					return ats[a] > ats[b]
				}
				ka, kb := keys[a], keys[b]
				return ka.Address < kb.Address || ka.Address == kb.Address && ka.Client < kb.Client
			})
			r.LastSignIn = ats[order[0]] / 1000
			if len(order) > match.MaxSignInKeys {
				order = order[:match.MaxSignInKeys]
			}
			sorted := make([]match.SignInKey, len(order))
			for j, o := range order {
				sorted[j] = keys[o]
			}
			r.SignIns = sorted
		}
	}
	return recs, nil
}

// eachChunk runs fn once with no condition (only == nil: the whole
// tenant) or once per chunk of only with the condition that col is one of
// the chunk's: an IN list of inChunk values on SQLite, an array of
// arrayChunk on PostgreSQL (one parameter, one plan, however many).
func (tx *Tx) eachChunk(only []string, fn func(cond func(col string) string, args []any) error) error {
	if only == nil {
		return fn(func(string) string { return "" }, nil)
	}
	size := inChunk
	if tx.d.name == "postgres" {
		size = arrayChunk
	}
	for start := 0; start < len(only); start += size {
		chunk := only[start:min(start+size, len(only))]
		in, args := inList(tx, "", chunk)
		if err := fn(func(col string) string { return " AND " + col + in }, args); err != nil {
			return err
		}
	}
	return nil
}

// eachRow runs a query and calls fn for each row.
func (tx *Tx) eachRow(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Fingerprint is a 64-bit hash (FNV-1a) of the facts of r the finder
// compares (not its record count or its last sign-in, which only choose
// the account to keep), so that a "changed" run finds the accounts whose
// facts changed. Each string is hashed with its length, so that no two
// different records hash one text.
func Fingerprint(r match.Record) uint64 {
	h := fingerprint{h: 14695981039346656037}
	for _, s := range [...]string{r.ID, r.Login, r.Name, r.Email, r.Given, r.Family, r.BirthDate, r.Phone, r.EmployeeNumber, r.Postcode} {
		h.str(s)
	}
	h.num(int64(len(r.ExternalIDs)))
	for _, x := range r.ExternalIDs {
		h.str(x.System)
		h.str(x.Value)
	}
	h.num(int64(len(r.SignIns)))
	for _, k := range r.SignIns {
		h.str(k.Address)
		h.str(k.Client)
		h.num(k.Period)
	}
	h.num(int64(len(r.Groups)))
	for _, g := range r.Groups {
		h.str(g)
	}
	h.num(r.Created)
	if r.NotSource {
		h.num(1)
	} else {
		h.num(0)
	}
	return h.h
}

type fingerprint struct{ h uint64 }

func (f *fingerprint) num(n int64) {
	for i := range 8 {
		f.h = (f.h ^ uint64(byte(n>>(8*i)))) * 1099511628211
	}
}

func (f *fingerprint) str(s string) {
	f.num(int64(len(s)))
	for i := 0; i < len(s); i++ {
		f.h = (f.h ^ uint64(s[i])) * 1099511628211
	}
}

// KeySet is the blocking keys (match.KeyHash) and fingerprints of some
// accounts, flat: account IDs[i] has fingerprint Fingerprints[i] and keys
// Keys[Offsets[i]:Offsets[i+1]]. A run holds a million accounts' this
// way, some 70 bytes each.
type KeySet struct {
	IDs          []string
	Fingerprints []uint64
	Keys         []uint64
	Offsets      []uint32 // len(IDs)+1 once an account is added
}

// Add appends an account's keys (copied) and fingerprint.
func (k *KeySet) Add(id string, fp uint64, keys []uint64) {
	if len(k.Offsets) == 0 {
		k.Offsets = append(k.Offsets, 0)
	}
	k.IDs = append(k.IDs, id)
	k.Fingerprints = append(k.Fingerprints, fp)
	k.Keys = append(k.Keys, keys...)
	k.Offsets = append(k.Offsets, uint32(len(k.Keys)))
}

// Len is the number of accounts.
func (k KeySet) Len() int { return len(k.IDs) }

// KeysOf answers account i's keys.
func (k KeySet) KeysOf(i int) []uint64 { return k.Keys[k.Offsets[i]:k.Offsets[i+1]] }

// Slice answers the accounts lo to hi (excluded), sharing k's arrays.
func (k KeySet) Slice(lo, hi int) KeySet {
	return KeySet{IDs: k.IDs[lo:hi], Fingerprints: k.Fingerprints[lo:hi], Keys: k.Keys, Offsets: k.Offsets[lo : hi+1]}
}

// KeySetOf computes the keys and fingerprints of recs under rules, as a
// run stores them.
func KeySetOf(recs []match.Record, rules match.Rules) KeySet {
	var k KeySet
	for _, r := range recs {
		k.Add(r.ID, Fingerprint(r), match.BlockingKeyHashes(r, rules))
	}
	return k
}

// RecordTotals counts the live learning records of each account of ids,
// over every record kind, in one statement per kind and chunk of ids.
func (tx *Tx) RecordTotals(ctx context.Context, tenant string, ids []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range recordTables {
		err := tx.eachChunk(ids, func(cond func(string) string, args []any) error {
			return tx.eachRow(ctx, `SELECT account_id, COUNT(*) FROM `+t.table+` WHERE tenant_id = ? AND retired_by IS NULL`+cond("account_id")+`
				GROUP BY account_id`, append([]any{tenant}, args...), func(rows *sql.Rows) error {
				var acc string
				var n int64
				if err := rows.Scan(&acc, &n); err != nil {
					return err
				}
				out[acc] += n
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LiveAccounts answers which of ids are live accounts of the tenant (not
// merged away, not deleted), each with whether it is an administrator's
// (and so may not be a source): what a run needs to know of its
// suggestions' accounts after the snapshot it scored them in.
func (tx *Tx) LiveAccounts(ctx context.Context, tenant string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	err := tx.eachChunk(ids, func(cond func(string) string, args []any) error {
		return tx.eachRow(ctx, `SELECT a.id, EXISTS (SELECT 1 FROM admins ad WHERE ad.tenant_id = a.tenant_id AND ad.account_id = a.id)
			FROM accounts a WHERE a.tenant_id = ? AND a.deleted_at IS NULL AND a.merged_into IS NULL`+cond("a.id"),
			append([]any{tenant}, args...), func(rows *sql.Rows) error {
				var id string
				var admin bool
				if err := rows.Scan(&id, &admin); err != nil {
					return err
				}
				out[id] = admin
				return nil
			})
	})
	return out, err
}

// DuplicateFingerprints answers the stored fingerprint of every account the
// latest run saw.
func (tx *Tx) DuplicateFingerprints(ctx context.Context, tenant string) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := tx.eachRow(ctx, `SELECT account_id, fingerprint FROM duplicate_fingerprints WHERE tenant_id = ?`, []any{tenant}, func(rows *sql.Rows) error {
		var acc string
		var fp int64
		if err := rows.Scan(&acc, &fp); err != nil {
			return err
		}
		out[acc] = uint64(fp)
		return nil
	})
	return out, err
}

// UnfinishedRunsSince reports whether a run of the tenant numbered after
// done and before run failed or was interrupted (or runs still): one
// that may have written part of its keys.
func (tx *Tx) UnfinishedRunsSince(ctx context.Context, tenant string, done, run int64) (bool, error) {
	n, err := tx.Count(ctx, `SELECT COUNT(*) FROM duplicate_runs WHERE tenant_id = ? AND id > ? AND id < ? AND status <> ?`,
		tenant, done, run, usermerge.RunDone)
	return n > 0, err
}

// ClearDuplicateKeys deletes every blocking key and fingerprint of the
// tenant, in transactions of clearKeyRows rows each, so that no
// transaction holds SQLite's write lock for long.
func (db *DB) ClearDuplicateKeys(ctx context.Context, tenant string) error {
	for _, t := range []struct{ table, col string }{{"duplicate_keys", "key"}, {"duplicate_fingerprints", "account_id"}} {
		for {
			var n int64
			err := db.Transact(ctx, func(tx *Tx) error {
				var err error
				n, err = tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE tenant_id = ? AND `+t.col+` IN
					(SELECT `+t.col+` FROM `+t.table+` WHERE tenant_id = ? ORDER BY `+t.col+` LIMIT ?)`, tenant, tenant, clearKeyRows)
				return err
			})
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
	}
	return nil
}

const clearKeyRows = 20_000

// HasDuplicateKeys reports whether any account of the tenant has stored
// blocking keys (none before its first run).
func (tx *Tx) HasDuplicateKeys(ctx context.Context, tenant string) (bool, error) {
	n, err := tx.Count(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM duplicate_fingerprints WHERE tenant_id = ? LIMIT 1) x`, tenant)
	return n > 0, err
}

// PutDuplicateKeys replaces the blocking keys and fingerprints of the
// accounts of k (one chunk of a changed run's writes): their stored keys,
// found from the lists their fingerprints' rows keep, are deleted first.
func (tx *Tx) PutDuplicateKeys(ctx context.Context, tenant string, k KeySet) error {
	if k.Len() == 0 {
		return nil
	}
	if err := tx.eachChunk(k.IDs, func(cond func(string) string, args []any) error {
		return tx.deleteKeysWhere(ctx, tenant, cond("account_id"), args)
	}); err != nil {
		return err
	}
	rows := make([]keyRow, 0, len(k.Keys))
	for i := range k.IDs {
		for _, h := range k.KeysOf(i) {
			rows = append(rows, keyRow{h, uint32(i)})
		}
	}
	// In key order, the inserts fill neighbouring pages of the primary key.
	slices.SortFunc(rows, compareKeyRows)
	keyArgs := make([][]any, len(rows))
	for i, r := range rows {
		keyArgs[i] = []any{tenant, int64(r.key), k.IDs[r.acc]}
	}
	if err := tx.insertRows(ctx, `INSERT INTO duplicate_keys (tenant_id, key, account_id) VALUES `, 3, keyArgs); err != nil {
		return err
	}
	return tx.insertRows(ctx, `INSERT INTO duplicate_fingerprints (tenant_id, account_id, fingerprint, keys) VALUES `, 4, fingerprintRows(tenant, k))
}

// keyRow is one key of a KeySet: the key and the account's index.
type keyRow struct {
	key uint64
	acc uint32
}

func compareKeyRows(a, b keyRow) int {
	if c := cmp.Compare(int64(a.key), int64(b.key)); c != 0 { // the order the database stores BIGINTs in
		return c
	}
	return cmp.Compare(a.acc, b.acc)
}

// fingerprintRows are the rows of duplicate_fingerprints for k.
func fingerprintRows(tenant string, k KeySet) [][]any {
	rows := make([][]any, k.Len())
	for i, id := range k.IDs {
		rows[i] = []any{tenant, id, int64(k.Fingerprints[i]), packKeys(k.KeysOf(i))}
	}
	return rows
}

// packKeys is the stored list of an account's keys: 8 bytes each,
// little-endian.
func packKeys(keys []uint64) []byte {
	b := make([]byte, 0, 8*len(keys))
	for _, k := range keys {
		b = binary.LittleEndian.AppendUint64(b, k)
	}
	return b
}

// deleteKeysWhere deletes the keys and fingerprints of the accounts whose
// fingerprints' rows cond (a condition on account_id, with args) selects:
// each key by the primary key, from the list the fingerprint's row keeps.
func (tx *Tx) deleteKeysWhere(ctx context.Context, tenant, cond string, args []any) error {
	var keys []int64
	var accs []string
	err := tx.eachRow(ctx, `SELECT account_id, keys FROM duplicate_fingerprints WHERE tenant_id = ?`+cond, append([]any{tenant}, args...), func(rows *sql.Rows) error {
		var acc string
		var packed []byte
		if err := rows.Scan(&acc, &packed); err != nil {
			return err
		}
		for len(packed) >= 8 {
			keys = append(keys, int64(binary.LittleEndian.Uint64(packed)))
			accs = append(accs, acc)
			packed = packed[8:]
		}
		return nil
	})
	if err != nil {
		return err
	}
	const chunk = 400
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		if tx.d.name == "postgres" {
			_, err = tx.Exec(ctx, `DELETE FROM duplicate_keys WHERE tenant_id = ? AND (key, account_id) IN
				(SELECT * FROM unnest(?::bigint[], ?::text[]))`, tenant, keys[start:end], accs[start:end])
		} else {
			q := `DELETE FROM duplicate_keys WHERE tenant_id = ? AND (key, account_id) IN (VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?), ", end-start), ", ") + `)`
			a := []any{tenant}
			for i := start; i < end; i++ {
				a = append(a, keys[i], accs[i])
			}
			_, err = tx.Exec(ctx, q, a...)
		}
		if err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM duplicate_fingerprints WHERE tenant_id = ?`+cond, append([]any{tenant}, args...)...)
	return err
}

// DropDuplicateKeysOfGone removes the keys and fingerprints of accounts
// merged away or deleted: they are never candidates.
func (tx *Tx) DropDuplicateKeysOfGone(ctx context.Context, tenant string) error {
	return tx.deleteKeysWhere(ctx, tenant, ` AND account_id IN
		(SELECT id FROM accounts WHERE tenant_id = ? AND (deleted_at IS NOT NULL OR merged_into IS NOT NULL))`, []any{tenant})
}

// insertRows inserts rows of n columns with multi-row VALUES statements of
// at most 200 rows each.
func (tx *Tx) insertRows(ctx context.Context, head string, n int, rows [][]any) error {
	one := "(" + placeholders(n) + ")"
	for start := 0; start < len(rows); start += 200 {
		chunk := rows[start:min(start+200, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*n)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// PutDuplicatePairs stores scored pairs of run id: the accounts, the
// weight and probability, and each field's weight (fieldWeights) — what a
// later run needs to cluster them again and a preview to re-grade them.
// The rest of the explanation (levels, values compared) is not stored: a
// run explains the pairs of its suggestions from the records again
// (match.Score), which keeps a tenant's millions of pairs small.
func (tx *Tx) PutDuplicatePairs(ctx context.Context, tenant string, run int64, pairs []match.Pair) error {
	rows := make([][]any, 0, len(pairs))
	for _, p := range pairs {
		rows = append(rows, []any{tenant, run, p.A, p.B, p.Weight, p.Probability, fieldWeights(p.Evidence)})
	}
	return tx.insertRows(ctx, `INSERT INTO duplicate_pairs (`+strings.Join(pairCols, ", ")+`) VALUES `, len(pairCols), rows)
}

// fieldWeights is the stored form of a pair's evidence: "field=weight"
// for each field, space separated (field names hold no space or "=").
func fieldWeights(ev []match.Evidence) string {
	var b strings.Builder
	for i, e := range ev {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Field)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(e.Weight, 'g', 7, 64))
	}
	return b.String()
}

// parseFieldWeights reads fieldWeights back as evidence with a field and
// a weight only.
func parseFieldWeights(s string) ([]match.Evidence, error) {
	var out []match.Evidence
	for _, part := range strings.Fields(s) {
		field, w, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("stored evidence %q", part)
		}
		x, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, fmt.Errorf("stored evidence %q: %w", part, err)
		}
		out = append(out, match.Evidence{Field: field, Weight: x})
	}
	return out, nil
}

// DuplicatePairs streams the scored pairs of run id, their evidence as
// PutDuplicatePairs stored it (fields and weights).
func (tx *Tx) DuplicatePairs(ctx context.Context, tenant string, run int64, fn func(match.Pair) error) error {
	return tx.eachRow(ctx, `SELECT a, b, weight, probability, evidence FROM duplicate_pairs WHERE tenant_id = ? AND run_id = ?`,
		[]any{tenant, run}, func(rows *sql.Rows) error {
			var p match.Pair
			var ev string
			if err := rows.Scan(&p.A, &p.B, &p.Weight, &p.Probability, &ev); err != nil {
				return err
			}
			var err error
			if p.Evidence, err = parseFieldWeights(ev); err != nil {
				return fmt.Errorf("pair %s/%s: %w", p.A, p.B, err)
			}
			return fn(p)
		})
}

// PutDuplicateSuggestions stores suggestions of run id, numbered from
// first, with their accounts. list comes strongest first: the ids are the
// queue's order.
func (tx *Tx) PutDuplicateSuggestions(ctx context.Context, tenant string, run, first int64, list []match.Suggestion) error {
	var rows, accRows [][]any
	for i := range list {
		row, err := suggestionRow(tenant, run, first+int64(i), &list[i])
		if err != nil {
			return err
		}
		rows = append(rows, row)
		for _, a := range suggestionAccounts(&list[i]) {
			accRows = append(accRows, []any{tenant, first + int64(i), a})
		}
	}
	if err := tx.insertRows(ctx, `INSERT INTO duplicate_suggestions (`+strings.Join(suggestionCols, ", ")+`) VALUES `, len(suggestionCols), rows); err != nil {
		return err
	}
	return tx.insertRows(ctx, `INSERT INTO duplicate_suggestion_accounts (tenant_id, suggestion_id, account_id) VALUES `, 3, accRows)
}

var (
	pairCols       = []string{"tenant_id", "run_id", "a", "b", "weight", "probability", "evidence"}
	suggestionCols = []string{"tenant_id", "run_id", "id", "grade", "probability", "keep_id", "keep_reason", "accounts", "pairs"}
)

// suggestionRow is suggestion s's row, numbered id, in suggestionCols'
// order.
func suggestionRow(tenant string, run, id int64, s *match.Suggestion) ([]any, error) {
	accounts, err := json.Marshal(s.Accounts)
	if err != nil {
		return nil, err
	}
	pairs, err := json.Marshal(s.Pairs)
	if err != nil {
		return nil, err
	}
	return []any{tenant, run, id, string(s.Grade), s.Probability, s.Keep, s.KeepReason, string(accounts), string(pairs)}, nil
}

// suggestionAccounts answers s's accounts without repeats, in order.
func suggestionAccounts(s *match.Suggestion) []string {
	var out []string
	for _, a := range s.Accounts {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// resultChunk is how many pairs WriteDuplicatePairs writes per SQLite
// transaction (a suggestion, a few rows, counts for four): each holds the
// write lock for milliseconds.
const resultChunk = 5000

// WriteDuplicatePairs stores a run's scored pairs as PutDuplicatePairs
// does: by COPY on PostgreSQL, which writes a million accounts' 270,000
// pairs in a fraction of the time of 1,400 multi-row INSERTs and locks
// nothing a merge needs (the rows are new, and no reader sees a run's
// pairs before the run is done); on SQLite in transactions of resultChunk
// pairs. done is called with the pairs written as it goes.
func (db *DB) WriteDuplicatePairs(ctx context.Context, tenant string, run int64, pairs []match.Pair, done func(n int)) error {
	if db.dialect.name == "postgres" {
		row := make([]any, len(pairCols))
		return db.copyRows(ctx, "duplicate_pairs", pairCols, func(yield func([]any) bool) {
			for _, p := range pairs {
				row[0], row[1], row[2], row[3], row[4], row[5], row[6] = tenant, run, p.A, p.B, p.Weight, p.Probability, fieldWeights(p.Evidence)
				if !yield(row) {
					return
				}
			}
		}, done)
	}
	for start := 0; start < len(pairs); start += resultChunk {
		chunk := pairs[start:min(start+resultChunk, len(pairs))]
		if err := db.Transact(ctx, func(tx *Tx) error { return tx.PutDuplicatePairs(ctx, tenant, run, chunk) }); err != nil {
			return err
		}
		done(len(chunk))
	}
	return nil
}

// WriteDuplicateSuggestions stores a run's suggestions, numbered from
// first, as PutDuplicateSuggestions does: by COPY on PostgreSQL (the
// suggestions, then their accounts; see WriteDuplicatePairs), on SQLite in
// transactions of resultChunk/4 suggestions. done is called with the
// suggestions written as it goes.
func (db *DB) WriteDuplicateSuggestions(ctx context.Context, tenant string, run, first int64, list []match.Suggestion, done func(n int)) error {
	if db.dialect.name != "postgres" {
		step := resultChunk / 4
		for start := 0; start < len(list); start += step {
			chunk := list[start:min(start+step, len(list))]
			if err := db.Transact(ctx, func(tx *Tx) error {
				return tx.PutDuplicateSuggestions(ctx, tenant, run, first+int64(start), chunk)
			}); err != nil {
				return err
			}
			done(len(chunk))
		}
		return nil
	}
	var rowErr error
	err := db.copyRows(ctx, "duplicate_suggestions", suggestionCols, func(yield func([]any) bool) {
		for i := range list {
			row, err := suggestionRow(tenant, run, first+int64(i), &list[i])
			if err != nil {
				rowErr = err
				return
			}
			if !yield(row) {
				return
			}
		}
	}, done)
	if err == nil {
		err = rowErr
	}
	if err != nil {
		return err
	}
	row := make([]any, 3)
	return db.copyRows(ctx, "duplicate_suggestion_accounts", []string{"tenant_id", "suggestion_id", "account_id"}, func(yield func([]any) bool) {
		for i := range list {
			for _, a := range suggestionAccounts(&list[i]) {
				row[0], row[1], row[2] = tenant, first+int64(i), a
				if !yield(row) {
					return
				}
			}
		}
	}, func(int) {})
}

// copyRows loads rows into table by COPY (PostgreSQL), calling done with
// the rows written since its last call.
func (db *DB) copyRows(ctx context.Context, table string, cols []string, rows iter.Seq[[]any], done func(n int)) error {
	reported := 0
	_, err := db.BulkInsert(ctx, table, cols, rows, func(n int64) {
		if int(n) > reported {
			done(int(n) - reported)
			reported = int(n)
		}
	})
	return db.dialect.mapError(err)
}

// PruneDuplicateRuns deletes a chunk of the pairs and suggestions of every
// run but keep (the queue), at most about limit rows per table, and
// answers how many rows it deleted: the caller repeats it, each in a
// transaction of its own, until it answers 0, so that no transaction
// holds the write lock for long.
func (tx *Tx) PruneDuplicateRuns(ctx context.Context, tenant string, keep int64, limit int) (int64, error) {
	var total int64
	n, err := tx.Exec(ctx, `DELETE FROM duplicate_pairs WHERE tenant_id = ? AND run_id <> ? AND a IN
		(SELECT DISTINCT a FROM duplicate_pairs WHERE tenant_id = ? AND run_id <> ? ORDER BY a LIMIT ?)`, tenant, keep, tenant, keep, limit)
	if err != nil {
		return 0, err
	}
	total += n
	ids := `SELECT id FROM duplicate_suggestions WHERE tenant_id = ? AND run_id <> ? ORDER BY id LIMIT ?`
	n, err = tx.Exec(ctx, `DELETE FROM duplicate_suggestion_accounts WHERE tenant_id = ? AND suggestion_id IN (`+ids+`)`, tenant, tenant, keep, limit)
	if err != nil {
		return 0, err
	}
	total += n
	n, err = tx.Exec(ctx, `DELETE FROM duplicate_suggestions WHERE tenant_id = ? AND id IN (`+ids+`)`, tenant, tenant, keep, limit)
	return total + n, err
}

// DuplicateCandidates answers the live accounts that share a blocking key
// with an account, an external ID, its e-mail address or its employee
// number: the accounts a check compares it with, at most limit of them.
// Each key is read on its own, by the primary key's range; a key that more
// than maxBlock accounts share (a common surname's) is left out, as a run
// splits such a block, since the check has the other, more selective keys.
func (tx *Tx) DuplicateCandidates(ctx context.Context, tenant string, keys []uint64, ext []match.ExternalID, email, employee string, maxBlock, limit int) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !seen[id] && len(out) < limit {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	if len(keys) > inChunk {
		keys = keys[:inChunk]
	}
	for _, k := range keys {
		ids, err := tx.strings(ctx, `SELECT account_id FROM duplicate_keys WHERE tenant_id = ? AND key = ? LIMIT ?`, tenant, int64(k), maxBlock+1)
		if err != nil {
			return nil, err
		}
		if len(ids) <= maxBlock {
			add(ids)
		}
	}
	for _, x := range ext {
		ids, err := tx.strings(ctx, `SELECT account_id FROM external_ids WHERE tenant_id = ? AND system = ? AND value = ? AND retired_by IS NULL`,
			tenant, x.System, x.Value)
		if err != nil {
			return nil, err
		}
		add(ids)
	}
	for _, f := range []struct{ col, v string }{{"email", email}, {"employee_number", employee}} {
		if strings.TrimSpace(f.v) == "" {
			continue
		}
		ids, err := tx.strings(ctx, `SELECT id FROM accounts WHERE tenant_id = ? AND `+f.col+` = ? LIMIT ?`, tenant, f.v, maxBlock+1)
		if err != nil {
			return nil, err
		}
		if len(ids) <= maxBlock {
			add(ids)
		}
	}
	return out, nil
}

// AnalyzeDuplicates refreshes the planner's statistics of the tables a run
// just filled, so that the queue's and the check's queries are planned for
// the rows they now hold rather than for empty tables: PostgreSQL samples
// them (ANALYZE); SQLite runs PRAGMA optimize, which analyzes only where
// its planner would gain.
func (db *DB) AnalyzeDuplicates(ctx context.Context) error {
	// analysis_limit makes SQLite's ANALYZE read a sample of each index
	// (as PostgreSQL's does), not all of a million accounts' keys.
	q := `PRAGMA analysis_limit = 1000; PRAGMA optimize`
	if db.dialect.name == "postgres" {
		q = `ANALYZE duplicate_runs, duplicate_pairs, duplicate_suggestions, duplicate_suggestion_accounts, duplicate_keys, duplicate_fingerprints`
	}
	if _, err := db.w.ExecContext(ctx, q); err != nil {
		return db.dialect.mapError(fmt.Errorf("analyze: %w", err))
	}
	return nil
}

// PutFreshDuplicateKeys stores the blocking keys and fingerprints of sets
// for a tenant that has none stored (its first run, or its first after an
// upgrade): every key in key order, so that the primary key fills page
// after page. PostgreSQL loads them by COPY, which locks nothing a merge
// needs (no account row, no key row exists to be locked); SQLite in
// transactions of freshKeyRows rows, so that merges wait milliseconds for
// the write lock. done is called with the accounts written as it goes
// (keys count for half an account's share).
func (db *DB) PutFreshDuplicateKeys(ctx context.Context, tenant string, sets []KeySet, done func(accounts int)) error {
	type ref struct {
		key      uint64
		set, acc uint32
	}
	var n, accounts int
	for _, k := range sets {
		n += len(k.Keys)
		accounts += k.Len()
	}
	refs := make([]ref, 0, n)
	for si, k := range sets {
		for i := range k.IDs {
			for _, h := range k.KeysOf(i) {
				refs = append(refs, ref{h, uint32(si), uint32(i)})
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if c := cmp.Compare(int64(a.key), int64(b.key)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.set, b.set); c != 0 {
			return c
		}
		return cmp.Compare(a.acc, b.acc)
	})
	// Progress: the keys are the first half of the accounts' share, the
	// fingerprints the second.
	reported, keysDone, fpDone := 0, 0, 0
	report := func() {
		now := fpDone / 2
		if n > 0 {
			now += int(int64(accounts) * int64(keysDone) / int64(2*n))
		} else {
			now += accounts / 2
		}
		if keysDone == n && fpDone == accounts {
			now = accounts
		}
		if now > reported {
			done(now - reported)
			reported = now
		}
	}
	if db.dialect.name == "postgres" {
		row := make([]any, 3)
		_, err := db.BulkInsert(ctx, "duplicate_keys", []string{"tenant_id", "key", "account_id"}, func(yield func([]any) bool) {
			for _, r := range refs {
				row[0], row[1], row[2] = tenant, int64(r.key), sets[r.set].IDs[r.acc]
				if !yield(row) {
					return
				}
			}
		}, func(rows int64) { keysDone = int(rows); report() })
		if err != nil {
			return db.dialect.mapError(err)
		}
		keysDone = n
		report()
		for _, k := range sets {
			rows := fingerprintRows(tenant, k)
			if _, err := db.BulkInsert(ctx, "duplicate_fingerprints", []string{"tenant_id", "account_id", "fingerprint", "keys"}, slices.Values(rows), nil); err != nil {
				return db.dialect.mapError(err)
			}
			fpDone += k.Len()
			report()
		}
		return nil
	}
	for start := 0; start < len(refs); start += freshKeyRows {
		chunk := refs[start:min(start+freshKeyRows, len(refs))]
		rows := make([][]any, len(chunk))
		for i, r := range chunk {
			rows[i] = []any{tenant, int64(r.key), sets[r.set].IDs[r.acc]}
		}
		if err := db.Transact(ctx, func(tx *Tx) error {
			return tx.insertRows(ctx, `INSERT INTO duplicate_keys (tenant_id, key, account_id) VALUES `, 3, rows)
		}); err != nil {
			return err
		}
		keysDone = start + len(chunk)
		report()
	}
	keysDone = n
	report()
	for _, k := range sets {
		for start := 0; start < k.Len(); start += freshKeyRows / 4 {
			part := k.Slice(start, min(start+freshKeyRows/4, k.Len()))
			if err := db.Transact(ctx, func(tx *Tx) error {
				return tx.insertRows(ctx, `INSERT INTO duplicate_fingerprints (tenant_id, account_id, fingerprint, keys) VALUES `, 4, fingerprintRows(tenant, part))
			}); err != nil {
				return err
			}
			fpDone += part.Len()
			report()
		}
	}
	return nil
}

// freshKeyRows is how many keys PutFreshDuplicateKeys writes per SQLite
// transaction.
const freshKeyRows = 10_000
