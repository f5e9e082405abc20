package engine

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"usermerge"
	"usermerge/match"
	"usermerge/match/synth"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestDuplicateDetectionAtScale measures a detection run and the
// one-account check on a generated tenant of USERMERGE_DUP_SCALE accounts
// (skipped when unset): how long the run's phases take, and the check's
// latencies. It reports, never asserts on time; `usermerge bench
// duplicates` is the measurement of record.
func TestDuplicateDetectionAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("USERMERGE_DUP_SCALE"))
	if n <= 0 {
		t.Skip("USERMERGE_DUP_SCALE is not set")
	}
	needMatcher(t)
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		// USERMERGE_DUP_DB keeps the generated SQLite database for the next
		// measurement.
		url := os.Getenv("USERMERGE_DUP_DB")
		if url == "" || storetest.IsPostgres(t) {
			url = storetest.URL(t)
		}
		f := newFixtureAt(t, "learningbox", url)
		set := synth.Generate(synth.Config{Accounts: n, Seed: 1})
		start := time.Now()
		var have int64
		f.tx(func(tx *store.Tx) error {
			var err error
			have, err = tx.Count(ctx, `SELECT COUNT(*) FROM accounts WHERE tenant_id = ?`, f.tenant)
			return err
		})
		seq := func(fn func(r match.Record, yield func([]any) bool) bool) func(func([]any) bool) {
			return func(yield func([]any) bool) {
				for _, r := range set.Records {
					if !fn(r, yield) {
						return
					}
				}
			}
		}
		load := func(table string, cols []string, rows func(func([]any) bool)) {
			if have > 0 {
				return
			}
			if _, err := f.db.BulkInsert(ctx, table, cols, rows, nil); err != nil {
				t.Fatal(err)
			}
		}
		load("accounts", []string{"tenant_id", "id", "login", "email", "name", "status", "created_at", "given_name", "family_name",
			"birth_date", "phone", "employee_number", "postcode"}, seq(func(r match.Record, y func([]any) bool) bool {
			return y([]any{f.tenant, r.ID, r.Login, r.Email, r.Name, "active", r.Created * 1000, r.Given, r.Family, r.BirthDate, r.Phone, r.EmployeeNumber, r.Postcode})
		}))
		xid := 0
		load("external_ids", []string{"tenant_id", "id", "account_id", "system", "value"}, seq(func(r match.Record, y func([]any) bool) bool {
			for _, x := range r.ExternalIDs {
				xid++
				if !y([]any{f.tenant, "x" + strconv.Itoa(xid), r.ID, x.System, x.Value + "#" + strconv.Itoa(xid)}) {
					return false
				}
			}
			return true
		}))
		groups := []string{"root", "sales", "east", "eng"}
		load("memberships", []string{"tenant_id", "account_id", "group_id"}, seq(func(r match.Record, y func([]any) bool) bool {
			return y([]any{f.tenant, r.ID, groups[len(r.ID)%4]})
		}))
		sid := 0
		load("signins", []string{"tenant_id", "id", "account_id", "at", "ip", "client"}, seq(func(r match.Record, y func([]any) bool) bool {
			for _, s := range r.SignIns {
				sid++
				if !y([]any{f.tenant, "s" + strconv.Itoa(sid), r.ID, s.Period * synth.PeriodSeconds * 1000, s.Address, s.Client}) {
					return false
				}
			}
			return true
		}))
		t.Logf("%d accounts, %d external IDs, %d sign-ins loaded in %v", n, xid, sid, time.Since(start).Round(time.Millisecond))

		f.db.Now = func() time.Time { return time.Now().UTC() } // the heartbeat is real here
		var phases []string
		var last time.Time
		lastPhase := ""
		start = time.Now()
		full := os.Getenv("USERMERGE_DUP_CHANGED") == ""
		if os.Getenv("USERMERGE_DUP_NORUN") != "" {
			goto check
		}
		{
			run, err := f.e.Detect(ctx, f.as("admin"), DetectOptions{Full: full}, func(r usermerge.DetectionRun) {
				if r.Phase != lastPhase {
					now := time.Now()
					if lastPhase != "" {
						phases = append(phases, lastPhase+" "+now.Sub(last).Round(time.Millisecond).String())
					}
					lastPhase, last = r.Phase, now
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("run %s in %v: %v; stats %+v, %d suggestions", run.Status, time.Since(start).Round(time.Millisecond), phases, run.Stats, run.Suggestions)

		}
	check:
		rng := rand.New(rand.NewPCG(1, 2))
		var lat []time.Duration
		for range 200 {
			r := set.Records[rng.IntN(len(set.Records))]
			t0 := time.Now()
			if _, err := f.e.CheckAccount(ctx, f.as("admin"), r.ID, usermerge.Account{}); err != nil {
				t.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		for range 200 {
			r := set.Records[rng.IntN(len(set.Records))]
			t0 := time.Now()
			_, err := f.e.CheckAccount(ctx, f.as("admin"), "", usermerge.Account{Name: r.Name, Email: r.Email,
				Attributes: map[string]string{usermerge.AttrBirthDate: r.BirthDate}})
			if err != nil && usermerge.ErrorCode(err) != usermerge.Invalid {
				t.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		t.Logf("check of 200 existing and 200 new accounts: p50 %v, p95 %v, max %v", lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1])
		var q time.Duration
		t0 := time.Now()
		if _, err := f.e.Suggestions(ctx, f.as("sales-editor"), usermerge.SuggestionFilter{Limit: 50}); err != nil {
			t.Fatal(err)
		}
		q = time.Since(t0)
		t0 = time.Now()
		if _, err := f.e.DuplicatesStale(ctx, f.as("admin")); err != nil {
			t.Fatal(err)
		}
		t.Logf("a group manager's first queue page %v; the stale check %v", q, time.Since(t0))
	})
}
