package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// base is the fixtures' "now"; day(n) is n days before it.
var base = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func day(n int) int64 { return base.Add(-time.Duration(n) * 24 * time.Hour).UnixMilli() }

// fixture is a tenant with a small group tree and three admins:
//
//	root ── sales ── east
//	     └─ eng
//
// admin (tenant admin), sales-editor (edit over sales), eng-viewer (view over eng).
type fixture struct {
	t      testing.TB
	ctx    context.Context
	db     *store.DB
	e      *Engine
	tenant string
}

func newFixture(t testing.TB, preset string) *fixture {
	t.Helper()
	return newFixtureAt(t, preset, storetest.URL(t))
}

// newFixtureAt builds the fixture in the database at url.
func newFixtureAt(t testing.TB, preset, url string) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, ctx: context.Background(), db: db, tenant: "t1"}
	f.db.Now = func() time.Time { return base }
	f.e = New(f.db, nil)
	f.tx(func(tx *store.Tx) error {
		if err := tx.PutTenant(f.ctx, usermerge.Tenant{ID: f.tenant, Name: "Tenant One", Policy: usermerge.Presets[preset]}); err != nil {
			return err
		}
		for _, g := range []usermerge.Group{{ID: "root", Name: "Company"}, {ID: "sales", Name: "Sales", ParentID: "root"},
			{ID: "east", Name: "Sales East", ParentID: "sales"}, {ID: "eng", Name: "Engineering", ParentID: "root"}} {
			g.TenantID = f.tenant
			if err := tx.PutGroup(f.ctx, g); err != nil {
				return err
			}
		}
		for _, j := range []usermerge.Job{{ID: "rep", Title: "Sales rep"}, {ID: "dev", Title: "Developer"}} {
			j.TenantID = f.tenant
			if err := tx.PutJob(f.ctx, j); err != nil {
				return err
			}
		}
		for _, a := range []usermerge.Admin{
			{ID: "a1", Login: "admin", Role: usermerge.TenantAdmin},
			{ID: "a2", Login: "sales-editor", Role: usermerge.GroupManager, Scopes: []usermerge.Scope{{GroupID: "sales", Right: usermerge.RightEdit}}},
			{ID: "a3", Login: "eng-viewer", Role: usermerge.GroupManager, Scopes: []usermerge.Scope{{GroupID: "eng", Right: usermerge.RightView}}},
		} {
			a.TenantID = f.tenant
			if err := tx.PutAdmin(f.ctx, a, ""); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func (f *fixture) tx(fn func(*store.Tx) error) {
	f.t.Helper()
	if err := f.db.Transact(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// account creates an active account in a group.
func (f *fixture) account(id, group string) {
	f.t.Helper()
	f.tx(func(tx *store.Tx) error {
		err := tx.PutAccount(f.ctx, usermerge.Account{TenantID: f.tenant, ID: id, Login: "login-" + id, Email: id + "@example.test",
			Name: "Name " + id, Status: usermerge.Active, CreatedAt: base.Add(-400 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		return tx.PutMembership(f.ctx, f.tenant, id, group)
	})
}

// rec inserts a record row: cols are name, value pairs.
func (f *fixture) rec(table, id, account string, cols ...any) {
	f.t.Helper()
	names := []string{"tenant_id", "id", "account_id"}
	vals := []any{f.tenant, id, account}
	for i := 0; i < len(cols); i += 2 {
		names = append(names, cols[i].(string))
		vals = append(vals, cols[i+1])
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(names, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", "))
	f.tx(func(tx *store.Tx) error { _, err := tx.Exec(f.ctx, q, vals...); return err })
}

// exec runs a statement directly (to change data "after the merge").
func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	f.tx(func(tx *store.Tx) error { _, err := tx.Exec(f.ctx, q, args...); return err })
}

func (f *fixture) as(login string) Caller { return Caller{Tenant: f.tenant, Admin: login} }

func (f *fixture) merge(target string, sources ...string) []usermerge.Merge {
	f.t.Helper()
	ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: target, Sources: sources})
	if err != nil {
		f.t.Fatalf("merge %v into %s: %v", sources, target, err)
	}
	return ms
}

func (f *fixture) revert(ids ...int64) usermerge.RevertReport {
	f.t.Helper()
	rep, err := f.e.Revert(f.ctx, f.as("admin"), ids)
	if err != nil {
		f.t.Fatalf("revert %v: %v", ids, err)
	}
	return rep
}

// val reads one column of one record.
func (f *fixture) val(table, id, col string) any {
	f.t.Helper()
	var v any
	f.tx(func(tx *store.Tx) error {
		return tx.QueryRow(f.ctx, "SELECT "+col+" FROM "+table+" WHERE tenant_id = ? AND id = ?", f.tenant, id).Scan(&v)
	})
	return v
}

// owner is the account a record belongs to now, with "(retired)" appended
// when it is retired.
func (f *fixture) owner(table, id string) string {
	f.t.Helper()
	var acc string
	var ret sql.NullInt64
	f.tx(func(tx *store.Tx) error {
		return tx.QueryRow(f.ctx, "SELECT account_id, retired_by FROM "+table+" WHERE tenant_id = ? AND id = ?", f.tenant, id).Scan(&acc, &ret)
	})
	if ret.Valid {
		return acc + " (retired)"
	}
	return acc
}

func (f *fixture) acct(id string) usermerge.Account {
	f.t.Helper()
	var a usermerge.Account
	f.tx(func(tx *store.Tx) error { var err error; a, err = tx.Account(f.ctx, f.tenant, id); return err })
	return a
}

// snapshot renders every data table as sorted lines (storetest.Snapshot),
// moved_by left out: it is the audit mark of the merge that last moved a
// record, which a revert leaves so that the merge's details still list it.
func snapshot(t testing.TB, db *store.DB) map[string][]string {
	t.Helper()
	var out map[string][]string
	err := db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = storetest.Snapshot(context.Background(), tx, nil, "", "moved_by")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
