package bench

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"usermerge/match"
	"usermerge/match/synth"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestDuplicatesRun runs the duplicate benchmark small on both databases:
// it checks what the run did, never how long it took.
func TestDuplicatesRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		r, err := RunDuplicates(context.Background(), DuplicatesOptions{DB: storetest.URL(t), Accounts: 1500, Checks: 10,
			Now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Run.Status != "done" || r.Run.Stats.Records != 1500 || r.Quality.Accounts != 1500 || r.Quality.TruePairs == 0 {
			t.Errorf("run %+v, quality %+v", r.Run, r.Quality)
		}
		if r.Quality.BlockingRecall < 0 || r.Quality.BlockingRecall > 1 || len(r.Quality.Grades) != 3 {
			t.Errorf("quality %+v", r.Quality)
		}
		if r.Check.Queries != 10 || r.Check.P95ms < r.Check.P50ms {
			t.Errorf("check %+v", r.Check)
		}
		// The anonymous peak is part of the resident one, and a Go heap
		// that large is anonymous memory.
		if m := r.Memory; m.Supported && (m.PeakAnon <= 0 || m.PeakAnon > m.PeakRSS || m.PeakAnon < m.PeakHeap/2) {
			t.Errorf("memory %+v: the anonymous peak is not between half the Go heap and the resident peak", m)
		}
	})
}

// TestDuplicatesLoad: the engine reads back from the database exactly the
// accounts the generator made, so that the truth is about what the finder
// sees.
func TestDuplicatesLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		loc, err := parseLocation(storetest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := loc.prepare(ctx, false); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, loc.url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		set := synth.Generate(synth.Config{Accounts: 800, Seed: 9})
		if _, err := loadSet(ctx, db, set, newBar(nil)); err != nil {
			t.Fatal(err)
		}
		var got []match.Record
		var streamed []match.Record
		defer func(n int) { store.DuplicateRecordPage = n }(store.DuplicateRecordPage)
		store.DuplicateRecordPage = 37 // many pages, the last one short
		err = db.View(ctx, func(tx *store.Tx) error {
			if got, err = tx.DuplicateRecords(ctx, dupTenant, nil); err != nil {
				return err
			}
			return tx.EachDuplicateRecord(ctx, dupTenant, func(r match.Record) error {
				streamed = append(streamed, r)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		// The run streams the records page by page, in id order: the same
		// records, every fact included, as the whole tenant read at once.
		byID := slices.Clone(got)
		sort.Slice(byID, func(i, j int) bool { return byID[i].ID < byID[j].ID })
		if !reflect.DeepEqual(streamed, byID) {
			t.Errorf("EachDuplicateRecord answered %d records, not the %d DuplicateRecords answers in id order", len(streamed), len(byID))
			for i := range min(len(streamed), len(byID)) {
				if !reflect.DeepEqual(streamed[i], byID[i]) {
					t.Errorf("first difference at %d:\n got %+v\nwant %+v", i, streamed[i], byID[i])
					break
				}
			}
		}
		canon := func(rs []match.Record) []match.Record {
			out := make([]match.Record, len(rs))
			for i, r := range rs {
				r.Records, r.LastSignIn = 0, 0
				r.ExternalIDs = slices.Clone(r.ExternalIDs)
				sort.Slice(r.ExternalIDs, func(a, b int) bool {
					return r.ExternalIDs[a].System+r.ExternalIDs[a].Value < r.ExternalIDs[b].System+r.ExternalIDs[b].Value
				})
				r.Groups = slices.Sorted(slices.Values(r.Groups))
				r.SignIns = slices.Clone(r.SignIns)
				sort.Slice(r.SignIns, func(a, b int) bool {
					x, y := r.SignIns[a], r.SignIns[b]
					return x.Period > y.Period || x.Period == y.Period && (x.Address+x.Client < y.Address+y.Client)
				})
				if len(r.ExternalIDs) == 0 {
					r.ExternalIDs = nil
				}
				if len(r.SignIns) == 0 {
					r.SignIns = nil
				}
				if len(r.Groups) == 0 {
					r.Groups = nil
				}
				out[i] = r
			}
			slices.SortFunc(out, func(a, b match.Record) int { return cmpString(a.ID, b.ID) })
			return out
		}
		if d := cmp.Diff(canon(set.Records), canon(got)); d != "" {
			t.Errorf("records read back (-generated +read):\n%s", d)
		}
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
