package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// BenchmarkCheckBatch10k measures the check and the dry run of a batch of
// 10,000 rows (each a target and a source, named by login, id and external
// ID in turn, each source with 20 sign-ins) on a tenant of 20,000
// accounts, as a group manager (so that scope is checked too), on SQLite
// and (with USERMERGE_TEST_POSTGRES) PostgreSQL. `usermerge bench batch`
// measures the whole of it against the run.
func BenchmarkCheckBatch10k(b *testing.B) {
	const n = 10_000
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b)
			if err := db.Transact(ctx, func(tx *store.Tx) error {
				if err := tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "Bench", Policy: usermerge.Presets["learningbox"]}); err != nil {
					return err
				}
				if err := tx.PutGroup(ctx, usermerge.Group{TenantID: "t1", ID: "g", Name: "G"}); err != nil {
					return err
				}
				if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: "t1", ID: "a", Login: "manager", Role: usermerge.GroupManager,
					Scopes: []usermerge.Scope{{GroupID: "g", Right: usermerge.RightEdit}}}, ""); err != nil {
					return err
				}
				for i := range 2 * n {
					id := fmt.Sprintf("u%05d", i)
					if err := tx.PutAccount(ctx, usermerge.Account{TenantID: "t1", ID: id, Login: "l-" + id, Name: id, Status: usermerge.Active,
						CreatedAt: time.Unix(0, 0)}); err != nil {
						return err
					}
					if err := tx.PutMembership(ctx, "t1", id, "g"); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO external_ids (tenant_id, id, account_id, system, value) SELECT tenant_id, 'x' || id, id, 'sso', id FROM accounts`); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 20)
					INSERT INTO signins (tenant_id, id, account_id, at, ip, client)
					SELECT a.tenant_id, 's' || a.id || '-' || k.j, a.id, 1600000000000 + k.j, '10.0.0.1', 'web' FROM accounts a, k WHERE a.id >= 'u10000'`)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			if storetest.IsPostgres(b) { // as autovacuum would have: the planner needs the tables' statistics
				if err := db.Transact(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, `ANALYZE`); return err }); err != nil {
					b.Fatal(err)
				}
			}
			rows := make([]usermerge.BatchRow, n)
			for i := range rows {
				target, source := fmt.Sprintf("u%05d", i), fmt.Sprintf("u%05d", n+i)
				switch i % 3 {
				case 0:
					target, source = "l-"+target, "l-"+source
				case 1:
					target, source = "sso:"+target, "sso:"+source
				}
				rows[i] = usermerge.BatchRow{Line: i + 2, Target: target, Sources: []string{source}}
			}
			e := New(db, nil)
			who := Caller{Tenant: "t1", Admin: "manager"}
			var checking, dry time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := e.CheckBatch(ctx, who, rows); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				plan, err := e.DryRunBatch(ctx, who, rows)
				if err != nil || plan.Ready != n {
					b.Fatal(plan.Ready, err)
				}
				checking, dry = checking+t1.Sub(t0), dry+time.Since(t1)
			}
			b.ReportMetric(float64(checking.Milliseconds())/float64(b.N), "ms/check")
			b.ReportMetric(float64(dry.Milliseconds())/float64(b.N), "ms/dryrun")
		})
	}
}
