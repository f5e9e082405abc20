package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestMergeRefusedWhileAnotherRunsOnTheAccount holds the lock another
// merge would hold on an account and shows that a merge touching it is
// refused as "in progress" after the configured wait, changing nothing,
// and goes through once the lock is released.
func TestMergeRefusedWhileAnotherRunsOnTheAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		url := storetest.URL(t)
		short := url + "?busy_timeout=200"
		if storetest.IsPostgres(t) {
			short = url + "&lock_timeout=200"
		}
		f := newFixtureAt(t, "learningbox", short)
		f.account("T", "east")
		f.account("S", "east")
		f.rec("signins", "s1", "S", "at", day(1), "ip", "1.1.1.1", "client", "x")
		other, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()

		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
		go func() {
			done <- other.Transact(ctx, func(tx *store.Tx) error {
				if err := tx.LockAccounts(ctx, "t1", []string{"S"}); err != nil {
					return err
				}
				// on SQLite the write lock is taken by the first write
				if _, err := tx.Exec(ctx, `UPDATE accounts SET name = name WHERE tenant_id = 't1' AND id = 'S'`); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		before := snapshot(t, other)
		_, err = f.e.Merge(ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}})
		if usermerge.ErrorReason(err) != "merge_in_progress" || !strings.Contains(usermerge.ErrorMessage(err), "in progress") {
			t.Errorf("merge while another holds the account: err = %v, want merge_in_progress", err)
		}
		if storetest.IsPostgres(t) && !strings.Contains(usermerge.ErrorMessage(err), "account S") {
			t.Errorf("message %q does not name the account", usermerge.ErrorMessage(err))
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, snapshot(t, other)); diff != "" {
			t.Errorf("the refused merge changed data:\n%s", diff)
		}
		if _, err := f.e.Merge(ctx, f.as("admin"), usermerge.MergeRequest{Target: "T", Sources: []string{"S"}}); err != nil {
			t.Errorf("merge after the lock was released: %v", err)
		}
	})
}
