package demo_test

import (
	"context"
	"testing"

	"usermerge"
	"usermerge/demo"
	"usermerge/store"
)

// The demo's accounts carry plausible attributes, not all of them, and a
// duplicate person's accounts share a birth date and vary in the rest.
func TestDemoAttributes(t *testing.T) {
	for _, seed := range []uint64{1, 42} {
		db, sum := load(t, demo.Options{Seed: seed, Now: testNow})
		ctx := context.Background()
		for _, ten := range sum.Tenants {
			var accounts []usermerge.AccountSummary
			err := db.View(ctx, func(tx *store.Tx) error {
				var err error
				accounts, err = tx.SearchAccounts(ctx, store.AccountQuery{Tenant: ten.ID, Limit: 1000})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			byLogin := map[string]usermerge.Account{}
			keys := map[string]int{}
			none := 0
			for _, a := range accounts {
				byLogin[a.Login] = a.Account
				if len(a.Attributes) == 0 {
					none++
				}
				for k := range a.Attributes {
					keys[k]++
				}
				if err := usermerge.ValidateAttributes(a.Attributes); err != nil {
					t.Errorf("seed %d %s %s: %v", seed, ten.ID, a.Login, err)
				}
			}
			n := len(accounts)
			if n != ten.Accounts {
				t.Fatalf("seed %d %s: read %d accounts of %d", seed, ten.ID, n, ten.Accounts)
			}
			if none == 0 || none > n/4 {
				t.Errorf("seed %d %s: %d of %d accounts without attributes, want some but few", seed, ten.ID, none, n)
			}
			for _, k := range append([]string{"cost_centre"}, attrNames()...) {
				if keys[k] == 0 || keys[k] == n {
					t.Errorf("seed %d %s: %d of %d accounts have %s, want some but not all", seed, ten.ID, keys[k], n, k)
				}
			}
			if keys[usermerge.AttrBirthDate] < n/2 {
				t.Errorf("seed %d %s: only %d of %d accounts have a birth date", seed, ten.ID, keys[usermerge.AttrBirthDate], n)
			}
			sharing := 0
			for _, logins := range ten.Duplicates {
				keep, ok := byLogin[logins[0]]
				if !ok {
					t.Fatalf("seed %d %s: no account %s", seed, ten.ID, logins[0])
				}
				birth := keep.Attributes[usermerge.AttrBirthDate]
				if birth == "" || keep.Attributes[usermerge.AttrEmployeeNumber] == "" {
					t.Errorf("seed %d %s: the kept account %s lacks birth date or employee number: %v", seed, ten.ID, keep.Login, keep.Attributes)
				}
				shared := false
				for _, l := range logins[1:] {
					other := byLogin[l].Attributes[usermerge.AttrBirthDate]
					if other != "" && other != birth {
						t.Errorf("seed %d %s: %s and %s have birth dates %s and %s", seed, ten.ID, logins[0], l, birth, other)
					}
					shared = shared || other == birth
				}
				if shared {
					sharing++
				}
			}
			if sharing < len(ten.Duplicates)/2 {
				t.Errorf("seed %d %s: %d of %d duplicate groups share a birth date", seed, ten.ID, sharing, len(ten.Duplicates))
			}
		}
	}
}

func attrNames() []string {
	var out []string
	for _, k := range usermerge.KnownAttributes {
		out = append(out, k.Name)
	}
	return out
}
