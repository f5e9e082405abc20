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

// BenchmarkMerge100kSignIns measures one merge, and its revert, of an
// account holding 100,000 sign-ins into another, on SQLite and (with
// USERMERGE_TEST_POSTGRES) PostgreSQL. Each iteration merges and reverts;
// the two are reported separately as ms/merge and ms/revert.
func BenchmarkMerge100kSignIns(b *testing.B) {
	// storetest.Open picks PostgreSQL for a "postgres" sub-benchmark.
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b)
			if err := db.Transact(ctx, func(tx *store.Tx) error {
				if err := tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "Bench", Policy: usermerge.Presets["learningbox"]}); err != nil {
					return err
				}
				if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: "t1", ID: "a", Login: "admin", Role: usermerge.TenantAdmin}, ""); err != nil {
					return err
				}
				for _, id := range []string{"T", "S"} {
					if err := tx.PutAccount(ctx, usermerge.Account{TenantID: "t1", ID: id, Login: id, Name: id, Status: usermerge.Active, CreatedAt: time.Unix(0, 0)}); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
					INSERT INTO signins (tenant_id, id, account_id, at, ip, client) SELECT 't1', 's' || i, 'S', 1600000000000 + i, '10.0.0.1', 'web' FROM n`, 100_000))
				return err
			}); err != nil {
				b.Fatal(err)
			}
			e := New(db, nil)
			who := Caller{Tenant: "t1", Admin: "admin"}
			var merging, reverting time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				ms, err := e.Merge(ctx, who, usermerge.MergeRequest{Target: "T", Sources: []string{"S"}})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := e.Revert(ctx, who, []int64{ms[0].ID}); err != nil {
					b.Fatal(err)
				}
				merging, reverting = merging+t1.Sub(t0), reverting+time.Since(t1)
			}
			b.ReportMetric(float64(merging.Milliseconds())/float64(b.N), "ms/merge")
			b.ReportMetric(float64(reverting.Milliseconds())/float64(b.N), "ms/revert")
		})
	}
}
