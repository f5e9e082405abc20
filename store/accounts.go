package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"usermerge"
)

// PutTenant inserts or updates a tenant and its policy.
func (tx *Tx) PutTenant(ctx context.Context, t usermerge.Tenant) error {
	if err := cleanIDs(ids{"tenant id", &t.ID}); err != nil {
		return err
	}
	if err := t.Policy.Validate(); err != nil {
		return err
	}
	p := t.Policy
	_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, merge_enabled, revert_allowed, badges, credits, certificates, move_external_ids)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, merge_enabled = excluded.merge_enabled,
		revert_allowed = excluded.revert_allowed, badges = excluded.badges, credits = excluded.credits,
		certificates = excluded.certificates, move_external_ids = excluded.move_external_ids`,
		t.ID, t.Name, b2i(p.MergeEnabled), b2i(p.RevertAllowed), string(p.Badges), string(p.Credits), string(p.Certificates), b2i(p.MoveExternalIDs))
	return err
}

const tenantCols = `id, name, merge_enabled, revert_allowed, badges, credits, certificates, move_external_ids`

func scanTenant(row interface{ Scan(...any) error }) (usermerge.Tenant, error) {
	var t usermerge.Tenant
	var badges, credits, certs string
	err := row.Scan(&t.ID, &t.Name, &t.Policy.MergeEnabled, &t.Policy.RevertAllowed, &badges, &credits, &certs, &t.Policy.MoveExternalIDs)
	t.Policy.Badges, t.Policy.Credits, t.Policy.Certificates = usermerge.BadgePolicy(badges), usermerge.CreditPolicy(credits), usermerge.CertificatePolicy(certs)
	return t, err
}

// Tenant returns one tenant.
func (tx *Tx) Tenant(ctx context.Context, id string) (usermerge.Tenant, error) {
	t, err := scanTenant(tx.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if err != nil {
		return t, notFound(err, "tenant %q does not exist", id)
	}
	return t, nil
}

// Tenants lists all tenants by id.
func (tx *Tx) Tenants(ctx context.Context) ([]usermerge.Tenant, error) {
	rows, err := tx.Query(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// PutGroup inserts or updates a group.
func (tx *Tx) PutGroup(ctx context.Context, g usermerge.Group) error {
	if err := cleanIDs(ids{"tenant", &g.TenantID}, ids{"group id", &g.ID}, ids{"parent", &g.ParentID}); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO groups (tenant_id, id, name, parent_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id`,
		g.TenantID, g.ID, g.Name, nullString(g.ParentID))
	return err
}

// Groups lists a tenant's groups by id.
func (tx *Tx) Groups(ctx context.Context, tenant string) ([]usermerge.Group, error) {
	rows, err := tx.Query(ctx, `SELECT id, name, COALESCE(parent_id, '') FROM groups WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.Group
	for rows.Next() {
		g := usermerge.Group{TenantID: tenant}
		if err := rows.Scan(&g.ID, &g.Name, &g.ParentID); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// PutTitle inserts or updates the title of an item of a catalog.
func (tx *Tx) PutTitle(ctx context.Context, tenant, catalog, id, title string) error {
	if err := cleanIDs(ids{"tenant", &tenant}, ids{"id", &id}); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO titles (tenant_id, catalog, id, title) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, catalog, id) DO UPDATE SET title = excluded.title`, tenant, catalog, id, title)
	return err
}

// PutJob inserts or updates a job.
func (tx *Tx) PutJob(ctx context.Context, j usermerge.Job) error {
	if err := cleanIDs(ids{"tenant", &j.TenantID}, ids{"job id", &j.ID}); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO jobs (tenant_id, id, title) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET title = excluded.title`, j.TenantID, j.ID, j.Title)
	return err
}

// Jobs lists a tenant's jobs by id.
func (tx *Tx) Jobs(ctx context.Context, tenant string) ([]usermerge.Job, error) {
	rows, err := tx.Query(ctx, `SELECT id, title FROM jobs WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.Job
	for rows.Next() {
		j := usermerge.Job{TenantID: tenant}
		if err := rows.Scan(&j.ID, &j.Title); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// PutAccount inserts or updates an account, merge markers included.
func (tx *Tx) PutAccount(ctx context.Context, a usermerge.Account) error {
	if err := cleanIDs(ids{"tenant", &a.TenantID}, ids{"account id", &a.ID}, ids{"login", &a.Login}, ids{"merged_into", &a.MergedInto}); err != nil {
		return err
	}
	var mergedBy any
	if a.MergedBy != 0 || a.MergedInto != "" {
		mergedBy = a.MergedBy
	}
	if err := usermerge.ValidateAttributes(a.Attributes); err != nil {
		return err
	}
	attrs, err := attrValues(a.Attributes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO accounts (tenant_id, id, login, email, name, status, created_at, deleted_at, merged_into, merged_by,
		`+attrSelect("")+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET login = excluded.login, email = excluded.email, name = excluded.name,
		status = excluded.status, created_at = excluded.created_at, deleted_at = excluded.deleted_at,
		merged_into = excluded.merged_into, merged_by = excluded.merged_by,
		given_name = excluded.given_name, family_name = excluded.family_name, birth_date = excluded.birth_date,
		phone = excluded.phone, employee_number = excluded.employee_number, postcode = excluded.postcode, attrs = excluded.attrs`,
		append([]any{a.TenantID, a.ID, a.Login, a.Email, a.Name, string(a.Status), Millis(a.CreatedAt), nullMillis(a.DeletedAt),
			nullString(a.MergedInto), mergedBy}, attrs...)...)
	return err
}

const accountCols = `a.tenant_id, a.id, a.login, a.email, a.name, a.status, a.created_at, a.deleted_at,
	COALESCE(a.merged_into, ''), COALESCE(a.merged_by, 0),
	EXISTS (SELECT 1 FROM admins ad WHERE ad.tenant_id = a.tenant_id AND ad.account_id = a.id),
	a.given_name, a.family_name, a.birth_date, a.phone, a.employee_number, a.postcode, a.attrs`

func scanAccount(row interface{ Scan(...any) error }) (usermerge.Account, error) {
	var a usermerge.Account
	var status string
	var created int64
	var deleted sql.NullInt64
	var at attrScan
	err := row.Scan(append([]any{&a.TenantID, &a.ID, &a.Login, &a.Email, &a.Name, &status, &created, &deleted, &a.MergedInto, &a.MergedBy, &a.IsAdmin},
		at.dest()...)...)
	a.Status, a.CreatedAt, a.DeletedAt = usermerge.AccountStatus(status), FromMillis(created), timePtr(deleted)
	if err == nil {
		a.Attributes, err = at.attributes()
	}
	return a, err
}

// Account returns one account (deleted ones included: they are tombstones).
func (tx *Tx) Account(ctx context.Context, tenant, id string) (usermerge.Account, error) {
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.tenant_id = ? AND a.id = ?`, tenant, id))
	if err != nil {
		return a, notFound(err, "account %q does not exist", id)
	}
	return a, nil
}

// AccountByRef finds an account by id or, failing that, by login.
func (tx *Tx) AccountByRef(ctx context.Context, tenant, ref string) (usermerge.Account, error) {
	if err := cleanIDs(ids{"account", &ref}); err != nil {
		return usermerge.Account{}, err
	}
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.tenant_id = ? AND (a.id = ? OR a.login = ?)
		ORDER BY CASE WHEN a.id = ? THEN 0 ELSE 1 END LIMIT 1`, tenant, ref, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return a, AccountNotFound(ref)
	}
	return a, err
}

// AccountQuery selects accounts for search.
type AccountQuery struct {
	Tenant string
	Q      string   // substring of name, login, email or external ID value; "" for all
	Groups []string // nil: any; otherwise the account must belong to one of these groups
	Status string   // "", "active", "inactive", "deleted"
	Limit  int
	Offset int
}

// SearchAccounts finds accounts, with their groups and jobs, ordered by name.
func (tx *Tx) SearchAccounts(ctx context.Context, q AccountQuery) ([]usermerge.AccountSummary, error) {
	where, args := []string{"a.tenant_id = ?"}, []any{q.Tenant}
	if q.Q != "" {
		match, margs, err := tx.accountMatchSQL(ctx, q.Tenant, q.Q)
		if err != nil {
			return nil, err
		}
		where, args = append(where, `a.id IN (`+match+`)`), append(args, margs...)
	}
	if q.Groups != nil {
		if len(q.Groups) == 0 {
			return nil, nil
		}
		where = append(where, `EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id AND m.group_id IN (`+placeholders(len(q.Groups))+`))`)
		for _, g := range q.Groups {
			args = append(args, g)
		}
	}
	switch q.Status {
	case "":
	case "deleted":
		where = append(where, "a.deleted_at IS NOT NULL")
	case "active", "inactive":
		where = append(where, "a.deleted_at IS NULL AND a.status = ?")
		args = append(args, q.Status)
	default:
		return nil, usermerge.Errorf(usermerge.Invalid, "invalid_status", "status must be active, inactive or deleted, not %q", q.Status)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := tx.Query(ctx, `SELECT `+accountCols+` FROM accounts a WHERE `+strings.Join(where, " AND ")+`
		ORDER BY a.name, a.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, err
	}
	var out []usermerge.AccountSummary
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, usermerge.AccountSummary{Account: a})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Groups, out[i].Jobs, err = tx.OrgOf(ctx, q.Tenant, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OrgOf returns the group names and job titles of an account.
func (tx *Tx) OrgOf(ctx context.Context, tenant, account string) (groups, jobs []string, err error) {
	groups, err = tx.strings(ctx, `SELECT g.name FROM memberships m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
		WHERE m.tenant_id = ? AND m.account_id = ? ORDER BY g.name`, tenant, account)
	if err != nil {
		return nil, nil, err
	}
	jobs, err = tx.strings(ctx, `SELECT j.title FROM account_jobs aj JOIN jobs j ON j.tenant_id = aj.tenant_id AND j.id = aj.job_id
		WHERE aj.tenant_id = ? AND aj.account_id = ? ORDER BY j.title`, tenant, account)
	return groups, jobs, err
}

// GroupIDsOf returns the ids of the groups an account belongs to.
func (tx *Tx) GroupIDsOf(ctx context.Context, tenant, account string) ([]string, error) {
	return tx.strings(ctx, `SELECT group_id FROM memberships WHERE tenant_id = ? AND account_id = ? ORDER BY group_id`, tenant, account)
}

// RecordCounts counts an account's live (not retired) records per kind.
func (tx *Tx) RecordCounts(ctx context.Context, tenant, account string) (map[usermerge.Kind]int64, error) {
	out := map[usermerge.Kind]int64{}
	for _, t := range recordTables {
		n, err := tx.Count(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL`, tenant, account)
		if err != nil {
			return nil, err
		}
		out[t.kind] = n
	}
	var err error
	if out[usermerge.KindMemberships], err = tx.Count(ctx, `SELECT COUNT(*) FROM memberships WHERE tenant_id = ? AND account_id = ?`, tenant, account); err != nil {
		return nil, err
	}
	if out[usermerge.KindAccountJobs], err = tx.Count(ctx, `SELECT COUNT(*) FROM account_jobs WHERE tenant_id = ? AND account_id = ?`, tenant, account); err != nil {
		return nil, err
	}
	return out, nil
}

// PutMembership adds an account to a group (idempotent).
func (tx *Tx) PutMembership(ctx context.Context, tenant, account, group string) error {
	_, err := tx.Exec(ctx, `INSERT INTO memberships (tenant_id, account_id, group_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, tenant, account, group)
	return err
}

// PutAccountJob gives an account a job (idempotent).
func (tx *Tx) PutAccountJob(ctx context.Context, tenant, account, job string) error {
	_, err := tx.Exec(ctx, `INSERT INTO account_jobs (tenant_id, account_id, job_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, tenant, account, job)
	return err
}

// SetAccountStatus changes an account's status.
func (tx *Tx) SetAccountStatus(ctx context.Context, tenant, id string, s usermerge.AccountStatus) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET status = ? WHERE tenant_id = ? AND id = ?`, string(s), tenant, id)
	return err
}

// PutAdmin inserts or updates an admin and replaces its scopes. The password
// hash is kept when the given one is empty.
func (tx *Tx) PutAdmin(ctx context.Context, a usermerge.Admin, passwordHash string) error {
	switch a.Role {
	case usermerge.TenantAdmin, usermerge.GroupManager:
	default:
		return usermerge.Errorf(usermerge.Invalid, "invalid_role", "role must be tenant_admin or group_manager, not %q", a.Role)
	}
	if err := cleanIDs(ids{"tenant", &a.TenantID}, ids{"admin id", &a.ID}, ids{"login", &a.Login}, ids{"account", &a.AccountID}); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO admins (tenant_id, id, login, name, role, account_id, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET login = excluded.login, name = excluded.name, role = excluded.role,
		account_id = excluded.account_id,
		password_hash = CASE WHEN excluded.password_hash = '' THEN admins.password_hash ELSE excluded.password_hash END`,
		a.TenantID, a.ID, a.Login, a.Name, string(a.Role), nullString(a.AccountID), passwordHash)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM admin_scopes WHERE tenant_id = ? AND admin_id = ?`, a.TenantID, a.ID); err != nil {
		return err
	}
	for _, s := range a.Scopes {
		if s.Right != usermerge.RightEdit && s.Right != usermerge.RightView {
			return usermerge.Errorf(usermerge.Invalid, "invalid_right", "right must be edit or view, not %q", s.Right)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO admin_scopes (tenant_id, admin_id, group_id, right_) VALUES (?, ?, ?, ?)`,
			a.TenantID, a.ID, s.GroupID, string(s.Right)); err != nil {
			return err
		}
	}
	return nil
}

// AdminByLogin returns an admin with its scopes.
func (tx *Tx) AdminByLogin(ctx context.Context, tenant, login string) (usermerge.Admin, string, error) {
	a := usermerge.Admin{TenantID: tenant}
	if err := cleanIDs(ids{"login", &login}); err != nil {
		return a, "", err
	}
	var role, hash string
	err := tx.QueryRow(ctx, `SELECT id, login, name, role, COALESCE(account_id, ''), password_hash FROM admins WHERE tenant_id = ? AND login = ?`,
		tenant, login).Scan(&a.ID, &a.Login, &a.Name, &role, &a.AccountID, &hash)
	if err != nil {
		return a, "", notFound(err, "no administrator %q in tenant %q", login, tenant)
	}
	a.Role = usermerge.Role(role)
	a.Scopes, err = tx.scopes(ctx, tenant, a.ID)
	return a, hash, err
}

// Admins lists a tenant's admins with their scopes.
func (tx *Tx) Admins(ctx context.Context, tenant string) ([]usermerge.Admin, []string, error) {
	rows, err := tx.Query(ctx, `SELECT id, login, name, role, COALESCE(account_id, ''), password_hash FROM admins WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, nil, err
	}
	var out []usermerge.Admin
	var hashes []string
	for rows.Next() {
		a := usermerge.Admin{TenantID: tenant}
		var role, hash string
		if err := rows.Scan(&a.ID, &a.Login, &a.Name, &role, &a.AccountID, &hash); err != nil {
			rows.Close()
			return nil, nil, err
		}
		a.Role = usermerge.Role(role)
		out, hashes = append(out, a), append(hashes, hash)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for i := range out {
		if out[i].Scopes, err = tx.scopes(ctx, tenant, out[i].ID); err != nil {
			return nil, nil, err
		}
	}
	return out, hashes, nil
}

// TenantsOfAdmin lists the tenants where an admin login exists.
func (tx *Tx) TenantsOfAdmin(ctx context.Context, login string) ([]string, error) {
	return tx.strings(ctx, `SELECT tenant_id FROM admins WHERE login = ? ORDER BY tenant_id`, login)
}

func (tx *Tx) scopes(ctx context.Context, tenant, admin string) ([]usermerge.Scope, error) {
	rows, err := tx.Query(ctx, `SELECT group_id, right_ FROM admin_scopes WHERE tenant_id = ? AND admin_id = ? ORDER BY group_id`, tenant, admin)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usermerge.Scope
	for rows.Next() {
		var s usermerge.Scope
		var r string
		if err := rows.Scan(&s.GroupID, &r); err != nil {
			return nil, err
		}
		s.Right = usermerge.Right(r)
		out = append(out, s)
	}
	return out, rows.Err()
}

func (tx *Tx) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// inList is the condition "col is one of values" and its arguments: on
// PostgreSQL col = ANY(?) with the values as one array, so that the
// statement's text is the same for any number of values and is prepared
// (and planned) once, not once per length of an IN list; on SQLite an IN
// list.
func inList[T string | int64](tx *Tx, col string, values []T) (string, []any) {
	if tx.d.name == "postgres" {
		return col + ` = ANY(?)`, []any{values}
	}
	return col + ` IN (` + placeholders(len(values)) + `)`, anys(values)
}

func placeholders(n int) string {
	if n <= 0 {
		panic(fmt.Sprintf("placeholders(%d)", n))
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ids names one id or login for cleanIDs.
type ids struct {
	field string
	v     *string
}

// cleanIDs puts each id in its stored form (usermerge.CleanID), so that
// every write and lookup agrees with what import stores.
func cleanIDs(list ...ids) error {
	for _, x := range list {
		c, err := usermerge.CleanID(x.field, *x.v)
		if err != nil {
			return err
		}
		*x.v = c
	}
	return nil
}

// GroupPathsOf returns each group an account belongs to with its path up
// the tree, the group first: "Madrid › Europe › Sales", as the merge
// screen's comparison shows them (the Schoox info icon: unit and above).
func (tx *Tx) GroupPathsOf(ctx context.Context, tenant, account string) ([]string, error) {
	ids, err := tx.GroupIDsOf(ctx, tenant, account)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, id := range ids {
		var names []string
		seen := map[string]bool{}
		for cur := id; cur != "" && !seen[cur] && len(names) < 50; { // a cycle or a runaway tree stops the walk
			seen[cur] = true
			var name string
			var parent sql.NullString
			err := tx.QueryRow(ctx, `SELECT name, parent_id FROM groups WHERE tenant_id = ? AND id = ?`, tenant, cur).Scan(&name, &parent)
			if errors.Is(err, sql.ErrNoRows) {
				break
			}
			if err != nil {
				return nil, err
			}
			names = append(names, name)
			cur = parent.String
		}
		out = append(out, strings.Join(names, " › "))
	}
	slices.Sort(out)
	return out, nil
}

// ExternalIDsOf returns an account's live external IDs, by system and value.
func (tx *Tx) ExternalIDsOf(ctx context.Context, tenant, account string) ([]usermerge.ExternalID, error) {
	rows, err := tx.Query(ctx, `SELECT system, value FROM external_ids WHERE tenant_id = ? AND account_id = ? AND retired_by IS NULL
		ORDER BY system, value`, tenant, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []usermerge.ExternalID{}
	for rows.Next() {
		var x usermerge.ExternalID
		if err := rows.Scan(&x.System, &x.Value); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
