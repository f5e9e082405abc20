package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usermerge"
	"usermerge/demo"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestPlanKindManyCountsAsPlanKind: on the demo's tenants, whose duplicate
// people hold overlapping records of every kind, the counts of many merges
// planned at once equal PlanKind's of each merge alone, for every kind and
// both decisions; pairs with nothing in common and a chunk boundary are
// among them.
func TestPlanKindManyCountsAsPlanKind(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo data")
	}
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		for _, ten := range sum.Tenants {
			err := db.View(ctx, func(tx *store.Tx) error {
				id := func(login string) string {
					a, err := tx.AccountByRef(ctx, ten.ID, login)
					if err != nil {
						t.Fatal(err)
					}
					return a.ID
				}
				var pairs []store.PlanPair
				for _, group := range ten.Duplicates {
					for _, src := range group[1:] {
						pairs = append(pairs, store.PlanPair{Source: id(src), Target: id(group[0])})
					}
				}
				// Unrelated pairs, enough to cross a chunk of 250.
				all, err := storetest.Lines(ctx, tx, `SELECT id FROM accounts WHERE tenant_id = ? ORDER BY id`, ten.ID)
				if err != nil {
					return err
				}
				for i := 0; i+1 < len(all) && len(pairs) < 300; i += 2 {
					pairs = append(pairs, store.PlanPair{Source: all[i+1], Target: all[i]})
				}
				checked := 0
				for _, k := range usermerge.Kinds {
					for _, d := range []store.Decision{store.Apply, store.Leave} {
						for i := range pairs {
							pairs[i].Decision = d
						}
						got, err := tx.PlanKindMany(ctx, ten.ID, k, pairs)
						if err != nil {
							return fmt.Errorf("%s: %w", k, err)
						}
						for i, p := range pairs {
							want, err := tx.PlanKind(ctx, store.MergeRef{Tenant: ten.ID, ID: -1, Source: p.Source, Target: p.Target}, k, d)
							if err != nil {
								return err
							}
							if got[i] != want {
								t.Errorf("%s %s, %s into %s, decision %d: %+v, PlanKind %+v", ten.ID, k, p.Source, p.Target, d, got[i], want)
							}
							if want != (usermerge.Counts{}) {
								checked++
							}
						}
					}
				}
				if checked < 100 {
					t.Errorf("%s: only %d non-zero counts compared", ten.ID, checked)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
