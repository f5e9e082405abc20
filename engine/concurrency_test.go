package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestConcurrentOverlappingMergesAndReverts fires hundreds of random,
// overlapping merges and reverts from many goroutines at two engines, each
// with its own connection pool, on one database. Afterwards nothing is lost
// or duplicated, no account is both merged away and active, there is no
// merge cycle, and reverting every merge still in force gives back the
// initial data exactly, which also shows that no refused call changed
// anything.
func TestConcurrentOverlappingMergesAndReverts(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		url := storetest.URL(t)
		open := func() *store.DB {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		db1, db2 := open(), open()
		f := &fixture{t: t, ctx: ctx, db: db1, e: New(db1, nil), tenant: "p000"}
		accounts := seedRandomTenant(t, f, "p000", rand.New(rand.NewPCG(7, 7)))
		for i := range 6 { // more accounts, so that chains and collisions are both common
			id := fmt.Sprintf("x%d", i)
			f.tx(func(tx *store.Tx) error {
				if err := tx.PutAccount(ctx, usermerge.Account{TenantID: "p000", ID: id, Login: id, Name: id, Status: usermerge.Active, CreatedAt: base}); err != nil {
					return err
				}
				return tx.PutMembership(ctx, "p000", id, "g")
			})
			f.rec("signins", id+"-s", id, "at", day(i), "ip", "1.1.1.1", "client", "web")
			f.tenant = "p000"
			accounts = append(accounts, id)
		}
		initial := tenantSnapshot(t, db1, "p000")
		counts := recordCounts(t, db1, "p000")
		engines := []*Engine{New(db1, nil), New(db2, nil)}
		who := Caller{Tenant: "p000", Admin: "admin"}

		const workers, opsEach = 12, 40 // 480 calls
		var merged, reverted, refused atomic.Int64
		var mu sync.Mutex
		reasons := map[string]int{}
		refuse := func(err error) {
			refused.Add(1)
			mu.Lock()
			reasons[usermerge.ErrorReason(err)]++
			mu.Unlock()
		}
		var known []int64 // merge ids seen, for random reverts
		var wg sync.WaitGroup
		errs := make(chan error, workers*opsEach)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 99))
				for range opsEach {
					e := engines[rng.IntN(2)]
					// pick among the accounts active right now, so most merges
					// are valid, yet racing workers still collide; revert when
					// too few are left
					live, err := e.SearchAccounts(ctx, who, "", "active", 100, 0)
					if err != nil {
						errs <- err
						continue
					}
					if rng.IntN(2) > 0 && len(live) >= 3 {
						perm := rng.Perm(len(live))
						req := usermerge.MergeRequest{Target: live[perm[0]].ID, Sources: []string{live[perm[1]].ID}}
						if rng.IntN(3) == 0 {
							req.Sources = append(req.Sources, live[perm[2]].ID)
						}
						ms, err := e.Merge(ctx, who, req)
						if err != nil {
							if usermerge.ErrorCode(err) == usermerge.Internal {
								errs <- fmt.Errorf("merge %+v: %w", req, err)
							}
							refuse(err)
							continue
						}
						merged.Add(int64(len(ms)))
						mu.Lock()
						for _, m := range ms {
							known = append(known, m.ID)
						}
						mu.Unlock()
						continue
					}
					mu.Lock()
					if len(known) == 0 {
						mu.Unlock()
						continue
					}
					// mostly the newest merges (revertable), sometimes any
					pick := func() int64 {
						if rng.IntN(4) == 0 {
							return known[rng.IntN(len(known))]
						}
						return known[max(0, len(known)-1-rng.IntN(3))]
					}
					batch := []int64{pick()}
					if rng.IntN(2) == 0 {
						batch = append(batch, pick())
					}
					mu.Unlock()
					slices.Sort(batch)
					batch = slices.Compact(batch)
					rep, err := e.Revert(ctx, who, batch)
					if err != nil {
						if usermerge.ErrorCode(err) == usermerge.Internal {
							errs <- fmt.Errorf("revert %v: %w", batch, err)
						}
						refuse(err)
						continue
					}
					reverted.Add(int64(len(rep.Reverted)))
					mu.Lock()
					known = slices.DeleteFunc(known, func(id int64) bool { return slices.Contains(rep.Reverted, id) })
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%d merges, %d reverts, %d refused calls %v", merged.Load(), reverted.Load(), refused.Load(), reasons)
		if merged.Load() == 0 || reverted.Load() == 0 || refused.Load() == 0 {
			t.Errorf("the run did not exercise merges, reverts and refusals all")
		}
		checkNothingLost(t, db1, "p000", counts)
		checkNoCycles(t, db1, "p000")

		// revert everything still in force, newest first, in one batch
		page, err := engines[0].ListMerges(ctx, who, usermerge.MergeFilter{State: usermerge.StateActive, PerPage: 500})
		if err != nil {
			t.Fatal(err)
		}
		var active []int64
		for _, m := range page.Merges {
			active = append(active, m.ID)
		}
		if len(active) > 0 {
			if _, err := engines[1].Revert(ctx, who, active); err != nil {
				t.Fatalf("revert all %v: %v", active, err)
			}
		}
		if diff := cmp.Diff(initial, tenantSnapshot(t, db1, "p000")); diff != "" {
			t.Errorf("after reverting everything the data differs from the start (-want +got):\n%s", diff)
		}
	})
}

// checkNoCycles: following merged_into from any account ends at an account
// that is not merged, within as many steps as there are accounts.
func checkNoCycles(t *testing.T, db *store.DB, tenant string) {
	t.Helper()
	next := map[string]string{}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT id, COALESCE(merged_into, '') FROM accounts WHERE tenant_id = ?`, tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, into string
			if err := rows.Scan(&id, &into); err != nil {
				return err
			}
			next[id] = into
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range next {
		cur := id
		for steps := 0; next[cur] != ""; steps++ {
			if steps > len(next) {
				t.Fatalf("merge cycle through %s", id)
			}
			cur = next[cur]
		}
	}
}
