package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestSmallRun runs the benchmark at the small size of the issue on both
// databases, so that the command cannot rot: it checks what the run did and
// verified, never how long it took.
func TestSmallRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		r, err := Run(context.Background(), Options{DB: storetest.URL(t), Accounts: 1000, SignIns: 10_000, Merges: 10_000,
			Samples: 5, Now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		want := "sqlite"
		if storetest.IsPostgres(t) {
			want = "postgres"
		}
		if r.Database != want {
			t.Errorf("database %q, want %q", r.Database, want)
		}
		var names []string
		for _, s := range r.Steps {
			names = append(names, s.Name)
			if s.Seconds <= 0 || s.Rows <= 0 {
				t.Errorf("step %s: %v s, %d rows", s.Name, s.Seconds, s.Rows)
			}
		}
		if got := strings.Join(names, " "); got != "preview merge revert bare" {
			t.Errorf("steps %q, want preview merge revert bare", got)
		}
		if got := r.Counts[usermerge.KindSignIns].Moved; got != 10_000 {
			t.Errorf("the merge moved %d sign-ins, want 10000", got)
		}
		if got := r.BareRows[usermerge.KindSignIns]; got != 10_000 {
			t.Errorf("the bare baseline moved %d sign-ins, want 10000", got)
		}
		if r.MergeBare <= 0 || r.RevertBare <= 0 {
			t.Errorf("ratios merge/bare %v, revert/bare %v", r.MergeBare, r.RevertBare)
		}
		if len(r.Checks) != 4 {
			t.Errorf("checks %q, want the counts, the revert, the bare baseline and the list checked", r.Checks)
		}
		if len(r.List) != 3 {
			t.Fatalf("list measurements %+v, want three filters", r.List)
		}
		for _, l := range r.List {
			if l.Queries != 5 || l.P50ms <= 0 || l.P95ms < l.P50ms {
				t.Errorf("list by %s: %+v", l.Filter, l)
			}
		}
		if r.List[0].MedianTotal == 0 {
			t.Errorf("the time-range searches found no merges: %+v", r.List[0])
		}
		var b strings.Builder
		if err := WriteText(&b, r); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"merge / bare", "bare baseline", "time range", "source name", "target name", "peak memory"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("the report lacks %q:\n%s", want, b.String())
			}
		}
	})
}

// TestRefusesData checks that a database holding data is refused unless
// forced, so that the benchmark never writes into a real database, and that
// forcing empties it.
func TestRefusesData(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		url := storetest.URL(t)
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Transact(ctx, func(tx *store.Tx) error {
			return tx.PutTenant(ctx, usermerge.Tenant{ID: "t1", Name: "Real", Policy: usermerge.Presets["learningbox"]})
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(ctx, Options{DB: url})
		if usermerge.ErrorReason(err) != "database_not_empty" {
			t.Fatalf("run on a database with data: %v, want database_not_empty", err)
		}
		loc, err := parseLocation(url)
		if err != nil {
			t.Fatal(err)
		}
		if err := loc.prepare(ctx, true); err != nil {
			t.Fatalf("forced: %v", err)
		}
		if has, err := loc.hasData(ctx); err != nil || has {
			t.Fatalf("after forcing: data %v, %v; want none", has, err)
		}
	})
}
