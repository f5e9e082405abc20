package engine

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// dataSnapshot is the tenant's data and merge bookkeeping (not the batch
// tables), moved_by left out as in snapshot.
func dataSnapshot(t *testing.T, f *fixture) map[string][]string {
	t.Helper()
	var out map[string][]string
	err := f.db.View(f.ctx, func(tx *store.Tx) error {
		var err error
		out, err = storetest.Snapshot(f.ctx, tx, append(store.DataTables(), "merges", "merge_counts"), "", "moved_by")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) runBatch(as string, id int64) usermerge.Batch {
	f.t.Helper()
	b, err := f.e.RunBatch(f.ctx, f.as(as), id, nil)
	if err != nil {
		f.t.Fatalf("run batch %d: %v", id, err)
	}
	return b
}

func TestBatchRevertWholeRefusedThenDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 3)
		f.account("X", "east")
		before := dataSnapshot(t, f)
		b := f.createBatch("admin", pairRows(1, 2, 3))
		if _, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, false); usermerge.ErrorReason(err) != "batch_not_finished" {
			t.Errorf("revert of a ready batch: %v, want batch_not_finished", err)
		}
		f.startBatch(b.ID)
		f.runBatch("admin", b.ID)
		out := f.merge("X", "T2")[0] // a later merge outside the batch on row 2's account
		held := dataSnapshot(t, f)
		heldRows := f.batchRows(b.ID)
		_, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, false)
		var probs *usermerge.BatchProblems
		if usermerge.ErrorReason(err) != "batch_refused" || usermerge.ErrorCode(err) != usermerge.Conflict || !errors.As(err, &probs) {
			t.Fatalf("whole revert with a later merge: %v, want a conflict batch_refused with problems", err)
		}
		if len(probs.Problems) != 1 || probs.Problems[0].Line != 3 || probs.Problems[0].Reason != "later_merge" {
			t.Errorf("problems: %+v, want line 3 later_merge", probs.Problems)
		}
		if diff := cmp.Diff(held, dataSnapshot(t, f)); diff != "" {
			t.Errorf("a refused revert changed data (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(heldRows, f.batchRows(b.ID)); diff != "" || f.job(b.ID).Status != usermerge.BatchDone {
			t.Errorf("a refused revert changed the batch (%s):\n%s", f.job(b.ID).Status, diff)
		}
		f.revert(out.ID)
		rev, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Batch.Status != usermerge.BatchReverting || len(rev.Refused) != 0 || rev.Batch.RevertedBy != "admin" {
			t.Errorf("revert asked: %s refused %v by %q", rev.Batch.Status, rev.Refused, rev.Batch.RevertedBy)
		}
		if _, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, false); usermerge.ErrorReason(err) != "batch_not_finished" {
			t.Errorf("second revert: %v", err)
		}
		got := f.runBatch("admin", b.ID)
		if c, want := counts(got), "reverted rows=3 merged=3 refused=0 cancelled=0 left=0 merges=3 reverted=3 revert_refused=0"; c != want || got.RevertedAt == nil {
			t.Errorf("reverted: %s at %v, want %s", c, got.RevertedAt, want)
		}
		if diff := cmp.Diff(stateless(before), stateless(dataSnapshot(t, f))); diff != "" {
			t.Errorf("the batch revert is not exact (-before +after):\n%s", diff)
		}
		// newest first: the rows' merge.reverted events come last row first
		var order []float64
		for _, ev := range f.events("merge.reverted") {
			if ev["batch"] == float64(b.ID) {
				order = append(order, ev["merges"].([]any)[0].(float64))
			}
		}
		rows := f.batchRows(b.ID)
		want := []float64{float64(rows[2].Merges[0]), float64(rows[1].Merges[0]), float64(rows[0].Merges[0])}
		if !cmp.Equal(order, want) {
			t.Errorf("reverted merges in order %v, want %v (newest first)", order, want)
		}
		for _, r := range rows {
			if r.Status != usermerge.RowReverted || len(r.Merges) != 1 {
				t.Errorf("row %d: %s merges %v", r.Line, r.Status, r.Merges)
			}
		}
		if ev := f.events("batch.reverted"); len(ev) != 1 || ev[0]["reverted"] != 3.0 || ev[0]["revert_refused"] != 0.0 || ev[0]["by"] != "admin" {
			t.Errorf("batch.reverted: %v", ev)
		}
	})
}

// stateless drops the merges and their counts, which a revert keeps (as
// reverted) but the state before the batch did not have.
func stateless(s map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range s {
		if k != "merges" && k != "merge_counts" {
			out[k] = v
		}
	}
	return out
}

func TestBatchRevertPartial(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 3)
		f.account("X", "east")
		b := f.createBatch("admin", pairRows(1, 2, 3))
		f.startBatch(b.ID)
		f.runBatch("admin", b.ID)
		f.merge("X", "T2")
		rev, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(rev.Refused) != 1 || rev.Refused[0].Line != 3 || rev.Refused[0].Reason != "later_merge" || !rev.Batch.PartialRevert {
			t.Errorf("partial revert: refused %+v partial %v", rev.Refused, rev.Batch.PartialRevert)
		}
		got := f.runBatch("admin", b.ID)
		if c, want := counts(got), "reverted rows=3 merged=3 refused=0 cancelled=0 left=0 merges=3 reverted=2 revert_refused=1"; c != want {
			t.Errorf("reverted: %s, want %s", c, want)
		}
		rows := f.batchRows(b.ID)
		if r := rows[1]; r.Status != usermerge.RowRevertRefused || r.Problem == nil || r.Problem.Reason != "later_merge" {
			t.Errorf("row 3: %s %+v", r.Status, r.Problem)
		}
		if f.acct("S2").MergedInto != "T2" || f.acct("S1").MergedInto != "" || f.acct("S3").MergedInto != "" {
			t.Errorf("after a partial revert: S1 in %q, S2 in %q, S3 in %q", f.acct("S1").MergedInto, f.acct("S2").MergedInto, f.acct("S3").MergedInto)
		}
	})
}

// A row whose merge changed between the revert's check and its turn is
// left merged, revert_refused with the reason; the rest are reverted.
func TestBatchRevertRowChangedSinceTheCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 2)
		b := f.createBatch("admin", pairRows(1, 2))
		f.startBatch(b.ID)
		f.runBatch("admin", b.ID)
		if _, err := f.e.RevertBatch(f.ctx, f.as("admin"), b.ID, false); err != nil {
			t.Fatal(err)
		}
		rows := f.batchRows(b.ID)
		f.revert(rows[0].Merges[0]) // row 1's merge reverted by hand meanwhile
		got := f.runBatch("admin", b.ID)
		if c, want := counts(got), "reverted rows=2 merged=2 refused=0 cancelled=0 left=0 merges=2 reverted=1 revert_refused=1"; c != want {
			t.Errorf("reverted: %s, want %s", c, want)
		}
		if r := f.batchRows(b.ID)[0]; r.Status != usermerge.RowRevertRefused || r.Problem == nil || r.Problem.Reason != "already_reverted" {
			t.Errorf("row 1: %s %+v", r.Status, r.Problem)
		}
	})
}

func TestRevertOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		f.account("S2", "east")
		f.account("E1", "eng")
		f.account("E2", "eng")
		ms := f.merge("T", "S", "S2")
		eng := f.merge("E1", "E2")[0]
		if _, err := f.e.RevertOperation(f.ctx, f.as("sales-editor"), eng.OperationID); usermerge.ErrorReason(err) != "operation_not_found" {
			t.Errorf("a group manager reverting another group's operation: %v, want operation_not_found", err)
		}
		if _, err := f.e.RevertOperation(f.ctx, f.as("admin"), 999); usermerge.ErrorReason(err) != "operation_not_found" {
			t.Errorf("an unknown operation: %v", err)
		}
		rep, err := f.e.RevertOperation(f.ctx, f.as("sales-editor"), ms[0].OperationID)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(rep.Reverted, []int64{ms[1].ID, ms[0].ID}) || rep.By != "sales-editor" {
			t.Errorf("reverted %v by %s, want %d %d", rep.Reverted, rep.By, ms[1].ID, ms[0].ID)
		}
		if f.acct("S").MergedInto != "" || f.acct("S2").MergedInto != "" || f.acct("E2").MergedInto != "E1" {
			t.Error("RevertOperation reverted the wrong merges")
		}
		if _, err := f.e.RevertOperation(f.ctx, f.as("admin"), ms[0].OperationID); usermerge.ErrorReason(err) != "already_reverted" {
			t.Errorf("a reverted operation again: %v", err)
		}
	})
}

// A group manager's batch runs with their rights, row by row: a row whose
// account left their groups after the check is refused. Other group
// managers do not see the batch; the tenant administrator does.
func TestBatchOfAGroupManager(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _ := runFixture(t, 3)
		if _, err := f.e.CreateBatch(f.ctx, f.as("eng-viewer"), "x.csv", pairRows(1)); usermerge.ErrorCode(err) != usermerge.Forbidden {
			t.Errorf("a viewer creating a batch: %v, want forbidden", err)
		}
		b := f.createBatch("sales-editor", pairRows(1, 2, 3))
		f.exec(`UPDATE memberships SET group_id = 'eng' WHERE tenant_id = ? AND account_id = ?`, f.tenant, "S2")
		if _, err := f.e.Batch(f.ctx, f.as("eng-viewer"), b.ID); usermerge.ErrorReason(err) != "batch_not_found" {
			t.Errorf("another group manager reading the batch: %v, want batch_not_found", err)
		}
		if list, total, err := f.e.Batches(f.ctx, f.as("eng-viewer"), 10, 0); err != nil || total != 0 || len(list) != 0 {
			t.Errorf("another group manager's list: %v total %d, %v", list, total, err)
		}
		if _, err := f.e.StartBatch(f.ctx, f.as("eng-viewer"), b.ID); usermerge.ErrorReason(err) != "batch_not_found" {
			t.Errorf("another group manager starting it: %v", err)
		}
		if _, err := f.e.StartBatch(f.ctx, f.as("sales-editor"), b.ID); err != nil {
			t.Fatal(err)
		}
		got := f.runBatch("admin", b.ID) // the tenant admin works it; the rows run as its submitter
		if c, want := counts(got), "done rows=3 merged=2 refused=1 cancelled=0 left=0 merges=2 reverted=0 revert_refused=0"; c != want {
			t.Errorf("run: %s, want %s", c, want)
		}
		rows := f.batchRows(b.ID)
		if r := rows[1]; r.Status != usermerge.RowRefused || r.Problem == nil || r.Problem.Reason != "not_found" {
			t.Errorf("the row out of scope: %s %+v", r.Status, r.Problem)
		}
		page, err := f.e.ListMerges(f.ctx, f.as("sales-editor"), usermerge.MergeFilter{Batch: b.ID})
		if err != nil || page.Total != 2 {
			t.Fatalf("the manager's merges of the batch: %d, %v", page.Total, err)
		}
		for _, m := range page.Merges {
			if m.By != "sales-editor" {
				t.Errorf("merge %d by %s, want sales-editor", m.ID, m.By)
			}
		}
		if list, total, err := f.e.Batches(f.ctx, f.as("sales-editor"), 10, 0); err != nil || total != 1 || list[0].ID != b.ID {
			t.Errorf("the manager's list: %v total %d, %v", list, total, err)
		}
	})
}
