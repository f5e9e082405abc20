package engine

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/demo"
	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestDemoDuplicatesAreSuggested: on the demo data, every duplicate group
// the demo made is suggested (all its accounts in one suggestion), and no
// certain suggestion joins accounts of two people (the demo's accounts outside its groups are one person each).
func TestDemoDuplicatesAreSuggested(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	e := New(db, nil)
	for _, ten := range sum.Tenants {
		t.Run(ten.ID, func(t *testing.T) {
			var c Caller
			for _, a := range ten.Admins {
				if a.Role == string(usermerge.TenantAdmin) {
					c = Caller{Tenant: ten.ID, Admin: a.Login}
				}
			}
			if _, err := e.Detect(ctx, c, DetectOptions{Full: true}, nil); err != nil {
				t.Fatal(err)
			}
			page, err := e.Suggestions(ctx, c, usermerge.SuggestionFilter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			person := map[string]int{} // login → 1 + the index of its demo group
			for gi, g := range ten.Duplicates {
				for _, l := range g {
					person[l] = gi + 1
				}
			}
			found := map[int]bool{}
			for _, s := range page.Suggestions {
				var logins []string
				for _, a := range s.Accounts {
					logins = append(logins, a.Login)
				}
				sort.Strings(logins)
				// One person: every account in the same demo group (an
				// account outside the groups is a person of its own).
				p := person[logins[0]]
				for _, l := range logins[1:] {
					if person[l] != p {
						p = 0
					}
				}
				if p == 0 {
					if s.Grade == match.GradeCertain {
						t.Errorf("false certain suggestion: %s (%.4f)", strings.Join(logins, ", "), s.Probability)
					}
					continue
				}
				if len(logins) == len(ten.Duplicates[p-1]) {
					found[p] = true
				}
			}
			for gi, g := range ten.Duplicates {
				if !found[gi+1] {
					t.Errorf("demo group %v is not suggested whole", g)
				}
			}
			t.Logf("%d of %d demo groups suggested", len(found), len(ten.Duplicates))
		})
	}
}
