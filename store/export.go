package store

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"strconv"
	"strings"

	"usermerge"
)

// Export writes a tenant's data (account "") or one account's as NDJSON in
// the canonical order of docs/import-format.md. Rows stream from one read
// snapshot straight to w; the output imports back into an empty database and
// exports again byte for byte.
//
// One account's export holds what an empty database needs to take it: the
// tenant, the account's groups and their ancestors (and those of the scopes
// of admins linked to it), its jobs, the account and the accounts it is
// merged into, its memberships and jobs, the admins linked to it, and all its
// records, retired ones included.
func (db *DB) Export(ctx context.Context, w io.Writer, tenant, account string) error {
	return db.ExportScoped(ctx, w, tenant, account, nil)
}

// ExportScope is what a group manager's export of one account may hold:
// no admin lines (so no password hash), and no account outside the
// manager's groups.
type ExportScope struct {
	// Groups are the groups the manager sees (with their subgroups). An
	// account it is merged into that is in none of them is left out, and
	// so is the merged_into that would name it; the chain of merges stops
	// there.
	Groups []string
}

// ExportScoped is Export limited by scope (nil: everything, as Export).
func (db *DB) ExportScoped(ctx context.Context, w io.Writer, tenant, account string, scope *ExportScope) error {
	if scope != nil && account == "" {
		return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may export the whole tenant")
	}
	return db.View(ctx, func(tx *Tx) error {
		ex := &exporter{ctx: ctx, tx: tx, w: bufio.NewWriterSize(w, 64<<10), tenant: tenant, account: account, c: tx.byteOrder(), scope: scope}
		return ex.run()
	})
}

type exporter struct {
	ctx     context.Context
	tx      *Tx
	w       *bufio.Writer
	tenant  string
	account string // "" for the whole tenant
	c       string // collation for ORDER BY on text: byte order
	scope   *ExportScope
	l       jsonLine
}

func (ex *exporter) run() error {
	t, err := ex.tx.Tenant(ex.ctx, ex.tenant)
	if err != nil {
		return err
	}
	if ex.account != "" {
		if _, err := ex.tx.Account(ex.ctx, ex.tenant, ex.account); err != nil {
			return err
		}
	}
	if err := ex.tenantLine(t); err != nil {
		return err
	}
	steps := []func() error{ex.groups, ex.jobs, ex.titles, ex.accounts, ex.memberships, ex.accountJobs, ex.admins}
	if ex.scope != nil {
		steps = steps[:len(steps)-1] // only tenant administrators export admins
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	for _, rt := range recordTables {
		if err := ex.records(rt); err != nil {
			return err
		}
	}
	return ex.w.Flush()
}

func (ex *exporter) emit() error {
	_, err := ex.w.Write(ex.l.end())
	return err
}

// pick returns the whole-tenant or the one-account variant of a query with
// its arguments.
func (ex *exporter) pick(whole string, wholeArgs []any, one string, oneArgs []any) (string, []any) {
	if ex.account == "" {
		return whole, wholeArgs
	}
	return one, oneArgs
}

// each runs a query and calls fn after scanning each row into dest.
func (ex *exporter) each(query string, args []any, dest []any, fn func() error) error {
	rows, err := ex.tx.Query(ex.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (ex *exporter) tenantLine(t usermerge.Tenant) error {
	l := &ex.l
	l.reset("tenant")
	l.str("id", t.ID)
	l.optStr("name", t.Name)
	p := t.Policy
	l.key("policy")
	l.b = append(l.b, `{"merge_enabled":`...)
	l.b = strconv.AppendBool(l.b, p.MergeEnabled)
	l.b = append(l.b, `,"revert_allowed":`...)
	l.b = strconv.AppendBool(l.b, p.RevertAllowed)
	l.b = append(l.b, `,"badges":`...)
	l.b = appendString(l.b, string(p.Badges))
	l.b = append(l.b, `,"credits":`...)
	l.b = appendString(l.b, string(p.Credits))
	l.b = append(l.b, `,"certificates":`...)
	l.b = appendString(l.b, string(p.Certificates))
	l.b = append(l.b, `,"move_external_ids":`...)
	l.b = strconv.AppendBool(l.b, p.MoveExternalIDs)
	l.b = append(l.b, '}')
	return ex.emit()
}

// groupsSQL orders groups parents first (by depth, the number of ancestors),
// then by id. Depth is found by walking up through the primary key, so the
// cost is groups × depth. Groups in a parent loop (which import refuses) end
// up last rather than missing.
const groupsSQL = `up(id, cur, depth) AS (
	SELECT id, parent_id, 0 FROM groups WHERE tenant_id = ? {{filter}}
	UNION ALL
	SELECT up.id, g.parent_id, up.depth + 1 FROM up JOIN groups g ON g.tenant_id = ? AND g.id = up.cur
	WHERE up.depth < 1000
)
SELECT g.id, g.name, COALESCE(g.parent_id, '') FROM groups g
JOIN (SELECT id, MAX(depth) AS depth FROM up GROUP BY id) d ON d.id = g.id
WHERE g.tenant_id = ?
ORDER BY d.depth, g.id{{c}}`

// accountGroupsSQL selects an account's groups, the groups its admins'
// scopes name, and all their ancestors.
const accountGroupsSQL = `sel(id) AS (
	SELECT group_id FROM memberships WHERE tenant_id = ? AND account_id = ?
	UNION
	SELECT s.group_id FROM admin_scopes s JOIN admins a ON a.tenant_id = s.tenant_id AND a.id = s.admin_id
	WHERE a.tenant_id = ? AND a.account_id = ?
	UNION
	SELECT g.parent_id FROM sel JOIN groups g ON g.tenant_id = ? AND g.id = sel.id WHERE g.parent_id IS NOT NULL
), `

// accountOwnGroupsSQL selects an account's groups and their ancestors.
const accountOwnGroupsSQL = `sel(id) AS (
	SELECT group_id FROM memberships WHERE tenant_id = ? AND account_id = ?
	UNION
	SELECT g.parent_id FROM sel JOIN groups g ON g.tenant_id = ? AND g.id = sel.id WHERE g.parent_id IS NOT NULL
), `

func (ex *exporter) groups() error {
	t, a := ex.tenant, ex.account
	q := strings.ReplaceAll(groupsSQL, "{{c}}", ex.c)
	whole := `WITH RECURSIVE ` + strings.ReplaceAll(q, "{{filter}}", "")
	sel, selArgs := accountGroupsSQL, []any{t, a, t, a, t}
	if ex.scope != nil { // no admins, so not the groups of their scopes
		sel, selArgs = accountOwnGroupsSQL, []any{t, a, t}
	}
	one := `WITH RECURSIVE ` + sel + strings.ReplaceAll(q, "{{filter}}", "AND id IN (SELECT id FROM sel)")
	q, args := ex.pick(whole, []any{t, t, t}, one, append(selArgs, t, t, t))
	var id, name, parent string
	return ex.each(q, args, []any{&id, &name, &parent}, func() error {
		ex.l.reset("group")
		ex.l.str("tenant", t)
		ex.l.str("id", id)
		ex.l.optStr("name", name)
		ex.l.optStr("parent", parent)
		return ex.emit()
	})
}

func (ex *exporter) jobs() error {
	t, a := ex.tenant, ex.account
	q, args := ex.pick(`SELECT id, title FROM jobs WHERE tenant_id = ? ORDER BY id`+ex.c, []any{t},
		`SELECT id, title FROM jobs WHERE tenant_id = ?
		AND id IN (SELECT job_id FROM account_jobs WHERE tenant_id = ? AND account_id = ?) ORDER BY id`+ex.c, []any{t, t, a})
	var id, title string
	return ex.each(q, args, []any{&id, &title}, func() error {
		ex.l.reset("job")
		ex.l.str("tenant", t)
		ex.l.str("id", id)
		ex.l.optStr("title", title)
		return ex.emit()
	})
}

// titles writes the catalog titles. An export of one account leaves them
// out: they are the platform's catalog, not the learner's data.
func (ex *exporter) titles() error {
	if ex.account != "" {
		return nil
	}
	t := ex.tenant
	var catalog, id, title string
	return ex.each(`SELECT catalog, id, title FROM titles WHERE tenant_id = ? ORDER BY catalog, id`+ex.c, []any{t},
		[]any{&catalog, &id, &title}, func() error {
			ex.l.reset("title")
			ex.l.str("tenant", t)
			ex.l.str("catalog", catalog)
			ex.l.str("id", id)
			ex.l.str("title", title)
			return ex.emit()
		})
}

// accounts writes the accounts; for one account also the accounts it is
// merged into, so that its merged_into resolves in an empty database.
func (ex *exporter) accounts() error {
	t, a := ex.tenant, ex.account
	cols := `SELECT id, login, email, name, status, created_at, deleted_at, COALESCE(merged_into, ''), ` + attrSelect("") + ` FROM accounts`
	// In a scoped export the chain follows merged_into only to accounts in
	// the scope's groups, and a merged_into outside the chain is left out.
	follow, followArgs, into := "", []any{}, "COALESCE(merged_into, '')"
	if ex.scope != nil {
		follow = ` AND 1 = 0`
		if len(ex.scope.Groups) > 0 {
			follow = ` AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.merged_into
			AND m.group_id IN (` + placeholders(len(ex.scope.Groups)) + `))`
		}
		for _, g := range ex.scope.Groups {
			followArgs = append(followArgs, g)
		}
		into = `CASE WHEN merged_into IN (SELECT id FROM chain) THEN merged_into ELSE '' END`
	}
	oneCols := `SELECT id, login, email, name, status, created_at, deleted_at, ` + into + `, ` + attrSelect("") + ` FROM accounts`
	q, args := ex.pick(cols+` WHERE tenant_id = ? ORDER BY id`+ex.c, []any{t},
		`WITH RECURSIVE chain(id) AS (
			SELECT CAST(? AS TEXT)
			UNION
			SELECT a.merged_into FROM chain JOIN accounts a ON a.tenant_id = ? AND a.id = chain.id WHERE a.merged_into IS NOT NULL`+follow+`
		) `+oneCols+` WHERE tenant_id = ? AND id IN (SELECT id FROM chain) ORDER BY id`+ex.c, append(append([]any{a, t}, followArgs...), t))
	var id, login, email, name, status, target string
	var created int64
	var deleted sql.NullInt64
	var at attrScan
	return ex.each(q, args, append([]any{&id, &login, &email, &name, &status, &created, &deleted, &target}, at.dest()...), func() error {
		attrs, err := at.attributes()
		if err != nil {
			return err
		}
		l := &ex.l
		l.reset("account")
		l.str("tenant", t)
		l.str("id", id)
		l.str("login", login)
		l.optStr("email", email)
		l.optStr("name", name)
		l.str("status", status)
		l.time("created_at", created)
		if deleted.Valid {
			l.time("deleted_at", deleted.Int64)
		}
		l.optStr("merged_into", target)
		if len(attrs) > 0 {
			l.key("attributes")
			l.b = append(l.b, '{')
			for i, k := range usermerge.AttributeKeys(attrs) {
				if i > 0 {
					l.b = append(l.b, ',')
				}
				l.b = appendString(l.b, k)
				l.b = append(l.b, ':')
				l.b = appendString(l.b, attrs[k])
			}
			l.b = append(l.b, '}')
		}
		return ex.emit()
	})
}

func (ex *exporter) memberships() error {
	return ex.pairs("membership", "memberships", "group_id", "group")
}

func (ex *exporter) accountJobs() error {
	return ex.pairs("account_job", "account_jobs", "job_id", "job")
}

// pairs writes the rows of an account-to-org link table by account, then item.
func (ex *exporter) pairs(kind, table, col, field string) error {
	t, a := ex.tenant, ex.account
	base := `SELECT account_id, ` + col + ` FROM ` + table + ` WHERE tenant_id = ?`
	order := ` ORDER BY account_id` + ex.c + `, ` + col + ex.c
	q, args := ex.pick(base+order, []any{t}, base+` AND account_id = ?`+order, []any{t, a})
	var account, item string
	return ex.each(q, args, []any{&account, &item}, func() error {
		ex.l.reset(kind)
		ex.l.str("tenant", t)
		ex.l.str("account", account)
		ex.l.str(field, item)
		return ex.emit()
	})
}

// admins writes admins by id with their scopes by group, from one joined
// query so that only one cursor is open at a time.
func (ex *exporter) admins() error {
	t, a := ex.tenant, ex.account
	base := `SELECT a.id, a.login, a.name, a.role, COALESCE(a.account_id, ''), a.password_hash,
		COALESCE(s.group_id, ''), COALESCE(s.right_, '')
		FROM admins a LEFT JOIN admin_scopes s ON s.tenant_id = a.tenant_id AND s.admin_id = a.id
		WHERE a.tenant_id = ?`
	order := ` ORDER BY a.id` + ex.c + `, s.group_id` + ex.c
	q, args := ex.pick(base+order, []any{t}, base+` AND a.account_id = ?`+order, []any{t, a})
	var cur usermerge.Admin
	var curHash string
	have := false
	flush := func() error {
		if !have {
			return nil
		}
		l := &ex.l
		l.reset("admin")
		l.str("tenant", t)
		l.str("id", cur.ID)
		l.str("login", cur.Login)
		l.optStr("name", cur.Name)
		l.str("role", string(cur.Role))
		l.optStr("account", cur.AccountID)
		if len(cur.Scopes) > 0 {
			l.key("scopes")
			l.b = append(l.b, '[')
			for i, s := range cur.Scopes {
				if i > 0 {
					l.b = append(l.b, ',')
				}
				l.b = append(l.b, `{"group":`...)
				l.b = appendString(l.b, s.GroupID)
				l.b = append(l.b, `,"right":`...)
				l.b = appendString(l.b, string(s.Right))
				l.b = append(l.b, '}')
			}
			l.b = append(l.b, ']')
		}
		l.optStr("password_hash", curHash)
		return ex.emit()
	}
	var id, login, name, role, account, hash, group, right string
	err := ex.each(q, args, []any{&id, &login, &name, &role, &account, &hash, &group, &right}, func() error {
		if !have || id != cur.ID {
			if err := flush(); err != nil {
				return err
			}
			cur = usermerge.Admin{ID: id, Login: login, Name: name, Role: usermerge.Role(role), AccountID: account}
			curHash, have = hash, true
		}
		if group != "" {
			cur.Scopes = append(cur.Scopes, usermerge.Scope{GroupID: group, Right: usermerge.Right(right)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// records writes one record table by id, retired records included.
func (ex *exporter) records(rt *recordTable) error {
	t, a := ex.tenant, ex.account
	base := `SELECT id, account_id, ` + prefixed(rt.table, rt.colNames()) + `,
		CASE WHEN retired_by IS NULL THEN 0 ELSE 1 END FROM ` + rt.table + ` WHERE tenant_id = ?`
	q, args := ex.pick(base+` ORDER BY id`+ex.c, []any{t}, base+` AND account_id = ? ORDER BY id`+ex.c, []any{t, a})
	var id, account string
	var retired int64
	dest := []any{&id, &account}
	for _, c := range rt.cols {
		switch c.typ {
		case cText:
			dest = append(dest, new(string))
		case cReal:
			dest = append(dest, new(float64))
		case cTimeNull:
			dest = append(dest, new(sql.NullInt64))
		default:
			dest = append(dest, new(int64))
		}
	}
	dest = append(dest, &retired)
	return ex.each(q, args, dest, func() error {
		l := &ex.l
		l.reset(string(rt.kind))
		l.str("tenant", t)
		l.str("id", id)
		l.str("account", account)
		for i, c := range rt.cols {
			switch v := dest[2+i].(type) {
			case *string:
				if c.f.Required {
					l.str(c.name, *v)
				} else {
					l.optStr(c.name, *v)
				}
			case *float64:
				l.float(c.name, *v)
			case *sql.NullInt64:
				if v.Valid {
					l.time(c.name, v.Int64)
				}
			case *int64:
				switch c.typ {
				case cBool:
					l.bool(c.name, *v != 0)
				case cTime:
					l.time(c.name, *v)
				default:
					l.int(c.name, *v)
				}
			}
		}
		if retired != 0 {
			l.bool("retired", true)
		}
		return ex.emit()
	})
}
