package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestWriteDuplicateResultsStoreWhatPutDoes: a run's pairs and
// suggestions written by WriteDuplicatePairs and WriteDuplicateSuggestions
// (COPY on PostgreSQL, transactions of a few thousand rows on SQLite) are
// stored row for row as PutDuplicatePairs and PutDuplicateSuggestions
// store them in one transaction, with a repeated account stored once and
// done told of every pair and suggestion exactly once. The sizes cross the
// SQLite chunks.
func TestWriteDuplicateResultsStoreWhatPutDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		var pairs []match.Pair
		for i := range 6001 {
			pairs = append(pairs, match.Pair{A: fmt.Sprintf("a%05d", i), B: fmt.Sprintf("b%05d", i), Weight: float64(i) / 7, Probability: 0.5 + float64(i%500)/1000,
				Evidence: []match.Evidence{{Field: "name", Level: "exact", Outcome: "agreed", Weight: 3.25, A: "Jo", B: "Jo"}, {Field: "email", Weight: -1.5}}})
		}
		var list []match.Suggestion
		for i := range 1301 {
			a, b := fmt.Sprintf("k%05d", i), fmt.Sprintf("s%05d", i)
			s := match.Suggestion{Accounts: []string{a, b}, Keep: a, KeepReason: "most records", Probability: 0.99, Grade: match.GradeCertain, Pairs: pairs[i : i+1]}
			if i%100 == 0 {
				s.Accounts = append(s.Accounts, b, "x"+b) // a repeat, stored once
				s.Grade = match.GradeProbable
			}
			list = append(list, s)
		}
		var pairsDone, suggestionsDone int
		if err := db.WriteDuplicatePairs(ctx, "w", 7, pairs, func(n int) { pairsDone += n }); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteDuplicateSuggestions(ctx, "w", 7, 100, list, func(n int) { suggestionsDone += n }); err != nil {
			t.Fatal(err)
		}
		if pairsDone != len(pairs) || suggestionsDone != len(list) {
			t.Errorf("done told of %d pairs and %d suggestions; want %d and %d", pairsDone, suggestionsDone, len(pairs), len(list))
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := tx.PutDuplicatePairs(ctx, "p", 7, pairs); err != nil {
				return err
			}
			return tx.PutDuplicateSuggestions(ctx, "p", 7, 100, list)
		}); err != nil {
			t.Fatal(err)
		}
		lines := func(table, cols, tenant string) []string {
			t.Helper()
			var out []string
			if err := db.View(ctx, func(tx *store.Tx) error {
				var err error
				out, err = storetest.Lines(ctx, tx, `SELECT `+cols+` FROM `+table+` WHERE tenant_id = ?`, tenant)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		for _, q := range []struct{ table, cols string }{
			{"duplicate_pairs", "run_id, a, b, weight, probability, evidence"},
			{"duplicate_suggestions", "run_id, id, grade, probability, keep_id, keep_reason, accounts, pairs"},
			{"duplicate_suggestion_accounts", "suggestion_id, account_id"},
		} {
			w, p := lines(q.table, q.cols, "w"), lines(q.table, q.cols, "p")
			if len(p) == 0 || !reflect.DeepEqual(w, p) {
				t.Errorf("%s: written %d rows, put %d, or they differ", q.table, len(w), len(p))
			}
		}
		if n := len(lines("duplicate_suggestion_accounts", "account_id", "w")); n != 2*len(list)+len(list)/100+1 {
			t.Errorf("%d suggestion accounts; want each account once", n)
		}
	})
}
