package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"usermerge"
)

// csvHeader is the column order CSV exports write; imports take any order.
// The known attributes follow (attrColumns), then a column csvAttrPrefix+KEY
// for each free attribute key of the tenant, by key.
var csvHeader = []string{"id", "login", "email", "name", "status", "created_at", "groups", "jobs"}

// csvAttrPrefix starts the column of a free attribute key: "attr:locker".
const csvAttrPrefix = "attr:"

// ImportAccountsCSV reads accounts of one tenant from CSV with a header row
// (docs/import-format.md) in one transaction; a bad row aborts the import
// with a bad_line error naming its line, and nothing is written.
//
// A row creates or updates an account. Of an existing account, columns the
// file does not have and empty status / created_at cells keep their stored
// values, and its deletion and merge markers are never touched. Groups and
// jobs (';'-separated ids, which must exist) are added; none are removed.
func (db *DB) ImportAccountsCSV(ctx context.Context, tenant string, r io.Reader) (ImportStats, error) {
	stats := ImportStats{PerKind: map[string]int{}}
	err := db.TransactOnce(ctx, func(tx *Tx) error {
		if _, err := tx.Tenant(ctx, tenant); err != nil {
			return err
		}
		im := newImporter(ctx, tx)
		defer im.close()
		cr, col, err := openCSV(r)
		if err != nil {
			return err
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return csvErr(err)
			}
			n, _ := cr.FieldPos(0)
			if err := im.csvRow(n, tenant, col, rec, &stats); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ImportStats{PerKind: map[string]int{}}, err
	}
	db.analyze(ctx, stats.tables())
	return stats, nil
}

// csvColumns maps the header's column names to their positions.
func csvColumns(header []string) (map[string]int, error) {
	known := map[string]bool{}
	for _, h := range csvHeader {
		known[h] = true
	}
	col := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // spreadsheets write a byte-order mark
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if !utf8.ValidString(h) {
			return nil, badLine(1, "not valid UTF-8 text")
		}
		if key, ok := strings.CutPrefix(h, csvAttrPrefix); ok {
			if why := usermerge.ValidAttributeKey(key); why != "" {
				return nil, badLine(1, "column %q: attribute key %q %s", cut(h), cut(key), why)
			}
			if usermerge.KnownAttribute(key) {
				return nil, badLine(1, "column %q: %s is a known attribute, its column is %q", cut(h), key, key)
			}
		} else if !known[h] && !usermerge.KnownAttribute(h) {
			return nil, badLine(1, "unknown column %q (the columns are %s, %s and %sKEY for any other attribute)",
				cut(h), strings.Join(csvHeader, ","), strings.Join(attrColumns, ","), csvAttrPrefix)
		}
		if _, dup := col[h]; dup {
			return nil, badLine(1, "column %q appears twice", h)
		}
		col[h] = i
	}
	for _, need := range []string{"id", "login"} {
		if _, ok := col[need]; !ok {
			return nil, badLine(1, "missing column %q", need)
		}
	}
	return col, nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		n := pe.StartLine
		if n == 0 {
			n = pe.Line
		}
		return badLine(n, "%v", pe.Err)
	}
	return err
}

func (im *importer) csvRow(n int, tenant string, col map[string]int, rec []string, stats *ImportStats) error {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return badLine(n, "not valid UTF-8 text")
		}
	}
	get := func(name string) (string, bool) {
		i, ok := col[name]
		if !ok {
			return "", false
		}
		return unescapeCell(strings.TrimSpace(rec[i])), true
	}
	id, _ := get("id")
	login, _ := get("login")
	var err error
	for _, f := range []struct {
		name string
		v    *string
	}{{"id", &id}, {"login", &login}} {
		if *f.v, err = usermerge.CleanID(f.name, *f.v); err != nil {
			return badLine(n, "%s", usermerge.ErrorMessage(err))
		}
		if *f.v == "" {
			return badLine(n, "%s must not be empty", f.name)
		}
	}
	a := usermerge.Account{TenantID: tenant, ID: id, Status: usermerge.Active, CreatedAt: im.tx.Now}
	cur, err := im.tx.Account(im.ctx, tenant, id)
	switch {
	case err == nil:
		a = cur
	case usermerge.ErrorCode(err) != usermerge.NotFound:
		return err
	}
	a.Login = login
	if v, ok := get("email"); ok {
		a.Email = v
	}
	if v, ok := get("name"); ok {
		a.Name = v
	}
	if v, _ := get("status"); v != "" {
		if err := oneOf(n, "status", v, string(usermerge.Active), string(usermerge.Inactive)); err != nil {
			return err
		}
		a.Status = usermerge.AccountStatus(v)
	}
	if v, _ := get("created_at"); v != "" {
		ms, err := parseTime(v)
		if err != nil {
			return badLine(n, "created_at must be an RFC 3339 time such as \"2024-05-01T09:30:00Z\", not %q", cut(v))
		}
		a.CreatedAt = FromMillis(ms)
	}
	set := map[string]string{}
	for h := range col {
		key, free := strings.CutPrefix(h, csvAttrPrefix)
		if !free && !usermerge.KnownAttribute(h) {
			continue
		}
		v, _ := get(h)
		if err := usermerge.ValidateAttribute(key, v); err != nil {
			return badLine(n, "%s", usermerge.ErrorMessage(err))
		}
		set[key] = v
	}
	a.Attributes = applyAttributes(a.Attributes, set)
	if err := usermerge.ValidateAttributes(a.Attributes); err != nil {
		return badLine(n, "%s", usermerge.ErrorMessage(err))
	}
	if err := im.checkLogin(n, `accounts`, "account", tenant, id, login); err != nil {
		return err
	}
	if err := im.tx.PutAccount(im.ctx, a); err != nil {
		return im.writeErr(n, err, nil)
	}
	for _, link := range []struct {
		column, kind string
		check        func(n int, tenant, id string) error
		put          func(ctx context.Context, tenant, account, item string) error
	}{
		{"groups", "membership", im.checkGroup, im.tx.PutMembership},
		{"jobs", "account_job", im.checkJob, im.tx.PutAccountJob},
	} {
		list, _ := get(link.column)
		for _, item := range strings.Split(list, ";") {
			item, err := usermerge.CleanID(link.column, item)
			if err != nil {
				return badLine(n, "%s", usermerge.ErrorMessage(err))
			}
			if item == "" {
				continue
			}
			if err := link.check(n, tenant, item); err != nil {
				return err
			}
			if err := link.put(im.ctx, tenant, id, item); err != nil {
				return im.writeErr(n, err, nil)
			}
			stats.PerKind[link.kind]++
		}
	}
	stats.Lines++
	stats.PerKind["account"]++
	return nil
}

// lineLimit fails a read once a line grows past maxLineBytes, so that a file
// without newlines cannot fill memory.
type lineLimit struct {
	r    io.Reader
	line int // complete lines read
	cur  int // bytes of the current line so far
}

func (l *lineLimit) Read(p []byte) (int, error) {
	k, err := l.r.Read(p)
	chunk := p[:k]
	if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
		l.line += bytes.Count(chunk, []byte{'\n'})
		l.cur = len(chunk) - i - 1
	} else {
		l.cur += len(chunk)
	}
	if l.cur > maxLineBytes {
		return 0, badLine(l.line+1, "line is longer than 16 MiB")
	}
	return k, err
}

// ExportAccountsCSV writes a tenant's accounts as CSV, by id, with the header
// of csvHeader, then a column for each attribute key an account of the
// tenant has a value for (attr:KEY for a free key); groups and jobs are ';'-separated ids in id order. Deletion
// and merge markers are not in CSV: the NDJSON export carries them.
func (db *DB) ExportAccountsCSV(ctx context.Context, w io.Writer, tenant string) error {
	return db.View(ctx, func(tx *Tx) error {
		if _, err := tx.Tenant(ctx, tenant); err != nil {
			return err
		}
		used, err := tx.usedAttributeKeys(ctx, tenant)
		if err != nil {
			return err
		}
		header := append([]string{}, csvHeader...)
		for _, k := range used {
			if !usermerge.KnownAttribute(k) {
				k = csvAttrPrefix + k
			}
			header = append(header, k)
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		cw := csv.NewWriter(bw)
		if err := cw.Write(header); err != nil {
			return err
		}
		// One cursor, grouped by account: its row (part 0), then its groups
		// (1) and jobs (2), so that nothing is held but one account.
		c := tx.byteOrder()
		blanks := strings.Repeat(", ''", len(attrColumns)+1)
		rows, err := tx.Query(ctx, `SELECT account, part, item, email, name, status, created_at, `+attrSelect("")+` FROM (
			SELECT id AS account, 0 AS part, login AS item, email, name, status, created_at, `+attrSelect("")+` FROM accounts WHERE tenant_id = ?
			UNION ALL SELECT account_id, 1, group_id, '', '', '', 0`+blanks+` FROM memberships WHERE tenant_id = ?
			UNION ALL SELECT account_id, 2, job_id, '', '', '', 0`+blanks+` FROM account_jobs WHERE tenant_id = ?
			) u ORDER BY account`+c+`, part, item`+c, tenant, tenant, tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		row := make([]string, len(header))
		var at attrScan
		dest := at.dest()
		var groups, jobs []string
		have := false
		flush := func() error {
			if !have {
				return nil
			}
			row[6], row[7] = strings.Join(groups, ";"), strings.Join(jobs, ";")
			for i := range row {
				row[i] = escapeCell(row[i])
			}
			return cw.Write(row)
		}
		for rows.Next() {
			var id, item, email, name, status string
			var part int
			var created int64
			if err := rows.Scan(append([]any{&id, &part, &item, &email, &name, &status, &created}, dest...)...); err != nil {
				return err
			}
			switch part {
			case 0:
				if err := flush(); err != nil {
					return err
				}
				row[0], row[1], row[2], row[3], row[4] = id, item, email, name, status
				row[5] = FromMillis(created).Format(exportTime)
				attrs, err := at.attributes()
				if err != nil {
					return err
				}
				for i, k := range header[len(csvHeader):] {
					row[len(csvHeader)+i] = attrs[strings.TrimPrefix(k, csvAttrPrefix)]
				}
				groups, jobs, have = groups[:0], jobs[:0], true
			case 1:
				groups = append(groups, item)
			case 2:
				jobs = append(jobs, item)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// formulaStart reports whether a spreadsheet would read a cell that starts
// with c as a formula (OWASP, "CSV Injection"): = + - @, tab and carriage
// return.
func formulaStart(c byte) bool {
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'
}

// escapeCell neutralises formula injection as OWASP recommends: a cell that
// would start a formula gets a leading single quote, which spreadsheets
// show as text. So that import can undo exactly what export did, a cell of
// single quotes followed by a formula character gets one more quote too:
// the cell '=x is written with two quotes in front of the =.
func escapeCell(v string) string {
	i := 0
	for i < len(v) && v[i] == '\'' {
		i++
	}
	if i < len(v) && formulaStart(v[i]) {
		return "'" + v
	}
	return v
}

// unescapeCell undoes escapeCell: one leading quote comes off a cell whose
// quotes are followed by a formula character. Other cells, "'Tis" among
// them, are read as they are.
func unescapeCell(v string) string {
	i := 0
	for i < len(v) && v[i] == '\'' {
		i++
	}
	if i > 0 && i < len(v) && formulaStart(v[i]) {
		return v[1:]
	}
	return v
}

// openCSV starts reading an accounts CSV: it reads and checks the header
// and returns the reader, positioned at the first row, with the columns.
func openCSV(r io.Reader) (*csv.Reader, map[string]int, error) {
	cr := csv.NewReader(&lineLimit{r: r})
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, badLine(1, "the file is empty; the first line must be a header such as %s", strings.Join(csvHeader, ","))
	}
	if err != nil {
		return nil, nil, csvErr(err)
	}
	col, err := csvColumns(header)
	if err != nil {
		return nil, nil, err
	}
	return cr, col, nil
}
