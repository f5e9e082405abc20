package engine

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/match"
	"usermerge/store"
	"usermerge/store/storetest"
)

// batchFixture is refusalFixture (T, S, S2, T2, M merged into T2, X
// inactive, D deleted, ADM an admin's account, all in east; O in eng) with
// more accounts in east (A, B, C, E, F, G, H), external IDs sso:s-1 on S
// and hr:o-9 on O, and "mixed", a group manager who edits sales and only
// views eng.
func batchFixture(t *testing.T) *fixture {
	f := refusalFixture(t)
	for _, id := range []string{"A", "B", "C", "E", "F", "G", "H"} {
		f.account(id, "east")
	}
	f.rec("external_ids", "x1", "S", "system", "sso", "value", "s-1")
	f.rec("external_ids", "x2", "O", "system", "hr", "value", "o-9")
	f.tx(func(tx *store.Tx) error {
		return tx.PutAdmin(f.ctx, usermerge.Admin{TenantID: f.tenant, ID: "a8", Login: "mixed", Role: usermerge.GroupManager,
			Scopes: []usermerge.Scope{{GroupID: "sales", Right: usermerge.RightEdit}, {GroupID: "eng", Right: usermerge.RightView}}}, "")
	})
	return f
}

func row(line int, target string, sources ...string) usermerge.BatchRow {
	return usermerge.BatchRow{Line: line, Target: target, Sources: sources}
}

// order renders checked rows as their lines in working order.
func order(rs []usermerge.BatchRowResult) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Line)
	}
	return out
}

// TestCheckBatchRules: each rule of the check, from both sides: the batch
// with the good rows passes; with the bad row added it is refused, naming
// that row's line and reason only.
func TestCheckBatchRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		good := []usermerge.BatchRow{row(2, "A", "B"), row(3, "C", "E")}
		if _, err := f.e.CheckBatch(f.ctx, f.as("admin"), good); err != nil {
			t.Fatalf("good rows: %v", err)
		}
		many := []string{"S", "S2", "F", "G", "H", "B", "C", "E", "T2", "X", "login-A"}
		cases := []struct {
			name string
			as   string
			bad  []usermerge.BatchRow
			want []string
		}{
			{"unknown account", "admin", []usermerge.BatchRow{row(4, "T", "nope")}, []string{"4:account_not_found"}},
			{"unknown target", "admin", []usermerge.BatchRow{row(4, "nope", "S")}, []string{"4:account_not_found"}},
			{"unknown external ID", "admin", []usermerge.BatchRow{row(4, "T", "sso:nobody")}, []string{"4:account_not_found"}},
			{"deleted source", "admin", []usermerge.BatchRow{row(4, "T", "D")}, []string{"4:account_deleted"}},
			{"deleted target", "admin", []usermerge.BatchRow{row(4, "D", "S")}, []string{"4:account_deleted"}},
			{"admin source", "admin", []usermerge.BatchRow{row(4, "T", "ADM")}, []string{"4:source_is_admin"}},
			{"merged-away source", "admin", []usermerge.BatchRow{row(4, "T", "M")}, []string{"4:source_already_merged"}},
			{"merged-away target", "admin", []usermerge.BatchRow{row(4, "M", "S")}, []string{"4:target_merged"}},
			{"inactive target", "admin", []usermerge.BatchRow{row(4, "X", "S")}, []string{"4:target_not_active"}},
			{"too many sources", "admin", []usermerge.BatchRow{row(4, "T", many...)}, []string{"4:too_many_sources"}},
			{"source is target", "admin", []usermerge.BatchRow{row(4, "T", "S", "login-T")}, []string{"4:source_is_target"}},
			{"source named twice in a row", "admin", []usermerge.BatchRow{row(4, "T", "S", "sso:s-1")}, []string{"4:duplicate_source"}},
			{"source in two rows", "admin", []usermerge.BatchRow{row(4, "T", "S"), row(5, "T2", "login-S")}, []string{"5:source_in_two_rows"}},
			{"source of a good row again", "admin", []usermerge.BatchRow{row(4, "T", "B")}, []string{"4:source_in_two_rows"}},
			{"outside the caller's view", "sales-editor", []usermerge.BatchRow{row(4, "T", "O")}, []string{"4:account_not_found"}},
			{"seen but not editable", "mixed", []usermerge.BatchRow{row(4, "T", "hr:o-9")}, []string{"4:out_of_scope"}},
			{"cycle of two", "admin", []usermerge.BatchRow{row(4, "T", "S"), row(5, "S", "T")}, []string{"4:chain_cycle", "5:chain_cycle"}},
			{"cycle of three", "admin", []usermerge.BatchRow{row(4, "T", "S"), row(5, "S2", "T"), row(6, "S", "S2")},
				[]string{"4:chain_cycle", "5:chain_cycle", "6:chain_cycle"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rows := append(append([]usermerge.BatchRow{}, good...), c.bad...)
				_, err := f.e.CheckBatch(f.ctx, f.as(c.as), rows)
				bp := problems(t, err)
				if d := cmp.Diff(c.want, lineReasons(bp)); d != "" {
					t.Errorf("problems (-want +got):\n%s", d)
				}
				if bp.Rows != len(rows) {
					t.Errorf("Rows = %d, want %d", bp.Rows, len(rows))
				}
			})
		}
	})
}

// TestCheckBatchWholeRefusals: what refuses a batch before any row.
func TestCheckBatchWholeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		rows := []usermerge.BatchRow{row(2, "A", "B")}
		for _, c := range []struct {
			name, as, reason string
			rows             []usermerge.BatchRow
		}{
			{"view right only", "eng-viewer", "no_merge_permission", rows},
			{"no rows", "admin", "batch_empty", nil},
			{"too many rows", "admin", "too_many_rows", make([]usermerge.BatchRow, usermerge.MaxBatchRows+1)},
		} {
			if _, err := f.e.CheckBatch(f.ctx, f.as(c.as), c.rows); usermerge.ErrorReason(err) != c.reason {
				t.Errorf("%s: err = %v, want %s", c.name, err, c.reason)
			}
		}
		f.exec(`UPDATE tenants SET merge_enabled = 0`)
		if _, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows); usermerge.ErrorReason(err) != "merging_disabled" {
			t.Errorf("merging off: err = %v", err)
		}
	})
}

// TestCheckBatchRefs: an account is named by id, login or external ID, as
// a single merge names it; an id wins over another account's login.
func TestCheckBatchRefs(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		f.tx(func(tx *store.Tx) error { // account "P" whose login is "A", another account's id
			return tx.PutAccount(f.ctx, usermerge.Account{TenantID: f.tenant, ID: "P", Login: "A", Name: "P", Status: usermerge.Active, CreatedAt: base})
		})
		f.exec(`INSERT INTO memberships (tenant_id, account_id, group_id) VALUES (?, 'P', 'east')`, f.tenant)
		rows := []usermerge.BatchRow{row(2, "login-T", "sso:s-1", "S2"), row(3, "A", "login-B"), row(4, "login-C", "  E ")}
		got, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows)
		if err != nil {
			t.Fatal(err)
		}
		var ids [][]string
		for _, r := range got {
			ids = append(ids, append([]string{r.TargetID}, r.SourceIDs...))
		}
		if d := cmp.Diff([][]string{{"T", "S", "S2"}, {"A", "B"}, {"C", "E"}}, ids); d != "" {
			t.Errorf("resolved ids (-want +got):\n%s", d)
		}
		// The single merge reads the same refs the same way.
		ms, err := f.e.Merge(f.ctx, f.as("admin"), usermerge.MergeRequest{Target: "A", Sources: []string{"sso:s-1"}})
		if err != nil || ms[0].Target.ID != "A" || ms[0].Source.ID != "S" {
			t.Fatalf("single merge by external ID: %v %v", ms, err)
		}
	})
}

// TestCheckBatchGroupManager: a group manager's batch passes with accounts
// of their groups and is refused, row by row, with others.
func TestCheckBatchGroupManager(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		f.account("R", "root") // above the manager's groups
		in := []usermerge.BatchRow{row(2, "A", "B"), row(3, "login-C", "sso:s-1")}
		if _, err := f.e.CheckBatch(f.ctx, f.as("sales-editor"), in); err != nil {
			t.Fatalf("rows in scope: %v", err)
		}
		if _, err := f.e.CheckBatch(f.ctx, f.as("admin"), append(in, row(4, "R", "E"))); err != nil {
			t.Fatalf("the tenant admin: %v", err)
		}
		_, err := f.e.CheckBatch(f.ctx, f.as("sales-editor"), append(in, row(4, "R", "E"), row(5, "F", "hr:o-9")))
		if d := cmp.Diff([]string{"4:account_not_found", "5:account_not_found"}, lineReasons(problems(t, err))); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
	})
}

// TestCheckBatchChainOrder: a row whose target another row merges away
// runs before it; the rest keep the file's order.
func TestCheckBatchChainOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		rows := []usermerge.BatchRow{
			row(2, "F", "A"),  // merges A away: after line 4 (A's row) ...
			row(3, "G", "H"),  // free
			row(4, "A", "B"),  // ... which merges B away: after line 5
			row(5, "B", "C"),  // keeps B
			row(6, "T", "S"),  // free
			row(7, "S2", "E"), // free
		}
		got, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]int{3, 5, 4, 2, 6, 7}, order(got)); d != "" {
			t.Errorf("working order (-want +got):\n%s", d)
		}
		for i, r := range got {
			if r.Order != i+1 || r.Status != usermerge.RowPending {
				t.Errorf("line %d: order %d status %s, want %d pending", r.Line, r.Order, r.Status, i+1)
			}
		}
		// Without a chain the order is the file's.
		got, err = f.e.CheckBatch(f.ctx, f.as("admin"), []usermerge.BatchRow{row(2, "F", "A"), row(3, "G", "H"), row(4, "T", "S")})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]int{2, 3, 4}, order(got)); d != "" {
			t.Errorf("no chain (-want +got):\n%s", d)
		}
	})
}

// TestBatchChainRunsInOrder: merging the rows one by one in the working
// order the check answers succeeds, where the file's order would not.
func TestBatchChainRunsInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		f.rec("signins", "sig-b", "B", "at", day(2), "ip", "2.2.2.2", "client", "x")
		rows := []usermerge.BatchRow{row(2, "F", "A"), row(3, "A", "B")}
		got, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if _, err := f.e.Merge(f.ctx, f.as("admin"), r.Request()); err != nil {
				t.Fatalf("line %d in working order: %v", r.Line, err)
			}
		}
		if o := f.owner("signins", "sig-b"); o != "F" {
			t.Errorf("B's sign-in belongs to %s, want F (through A)", o)
		}
	})
}

// TestCheckBatchCycleOnlyNamesItsRows: a good row beside a cycle is not
// named; a row waiting on a cycle's row is not named either.
func TestCheckBatchCycleOnlyNamesItsRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		rows := []usermerge.BatchRow{row(2, "A", "B"), row(3, "B", "C"), row(4, "C", "A"), row(5, "T", "S"), row(6, "F", "T")}
		_, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows)
		if d := cmp.Diff([]string{"2:chain_cycle", "3:chain_cycle", "4:chain_cycle"}, lineReasons(problems(t, err))); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
	})
}

// TestDryRunBatch: the dry run answers per row, in working order, the
// counts a merge would make or the row's problem, and writes nothing.
func TestDryRunBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := batchFixture(t)
		f.rec("signins", "sig-b", "B", "at", day(2), "ip", "2.2.2.2", "client", "x")
		f.rec("signins", "sig-c", "C", "at", day(3), "ip", "3.3.3.3", "client", "x")
		f.rec("signins", "sig-e", "E", "at", day(3), "ip", "3.3.3.4", "client", "x")
		rows := []usermerge.BatchRow{row(2, "F", "A"), row(3, "A", "B", "C"), row(4, "T", "D"), row(5, "G", "E")}
		before := snapshot(t, f.db)
		plan, err := f.e.DryRunBatch(f.ctx, f.as("admin"), rows)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(before, snapshot(t, f.db)); d != "" {
			t.Errorf("the dry run changed the database (-before +after):\n%s", d)
		}
		if plan.Rows != 4 || plan.Ready != 3 || plan.Refused != 1 {
			t.Errorf("rows %d ready %d refused %d, want 4 3 1", plan.Rows, plan.Ready, plan.Refused)
		}
		var lines, after []int
		for _, p := range plan.Plans {
			lines, after = append(lines, p.Line), append(after, p.After)
		}
		if d := cmp.Diff([]int{3, 2, 4, 5}, lines); d != "" {
			t.Errorf("order (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]int{0, 3, 0, 0}, after); d != "" {
			t.Errorf("After (-want +got):\n%s", d)
		}
		if p := plan.Plans[2]; p.Problem == nil || p.Problem.Reason != "account_deleted" || p.Counts != nil {
			t.Errorf("line 4: %+v, want refused as account_deleted without counts", p)
		}
		if got := plan.Plans[0].Counts[usermerge.KindSignIns].Moved; got != 2 {
			t.Errorf("line 3 moves %d sign-ins, want 2 (B's and C's)", got)
		}
		if got := plan.Total[usermerge.KindSignIns].Moved; got != 3 {
			t.Errorf("total sign-ins moved %d, want 3", got)
		}
		// A single-source row counts what the preview counts.
		pv, err := f.e.Preview(f.ctx, f.as("admin"), rows[3].Request())
		if err != nil {
			t.Fatal(err)
		}
		for _, kp := range pv.Sources[0].Kinds {
			if got := plan.Plans[3].Counts[kp.Kind]; got != kp.Counts {
				t.Errorf("line 5, %s: %+v, preview %+v", kp.Kind, got, kp.Counts)
			}
		}
		// Bad rows do not refuse the dry run, but the caller's rights do.
		if _, err := f.e.DryRunBatch(f.ctx, f.as("eng-viewer"), rows); usermerge.ErrorReason(err) != "no_merge_permission" {
			t.Errorf("viewer: %v", err)
		}
	})
}

// TestSuggestionRows: a grade selects every suggestion of it in the
// caller's queue; ids select those named; an unknown id refuses.
func TestSuggestionRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := newFixture(t, "learningbox")
		for i, id := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "e1"} {
			group := "sales"
			if id == "e1" {
				group = "eng"
			}
			f.person(id, group, fillerGiven[i]+" "+fillerFamily[i], fmt.Sprintf("%s@host%d.example", id, i), nil)
		}
		if _, err := f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{Grade: match.GradeCertain}); usermerge.ErrorReason(err) != "selection_empty" {
			t.Errorf("before any run: %v, want selection_empty", err)
		}
		f.fabricate(
			sugg(match.GradeCertain, 0.9999, "s2", "s1", "s3"),
			sugg(match.GradeProbable, 0.97, "s4", "s5"),
			sugg(match.GradeCertain, 0.999, "s6", "e1"),
		)
		page := f.queue("admin")
		id := map[string]int64{}
		for _, s := range page.Suggestions {
			id[s.Keep] = s.ID
		}
		rows, err := f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{Grade: match.GradeCertain, Reason: "certain", MoveExternalIDs: yes()})
		if err != nil {
			t.Fatal(err)
		}
		want := []usermerge.BatchRow{
			{Line: 1, Target: "login-s2", Sources: []string{"login-s1", "login-s3"}, Reason: "certain", MoveExternalIDs: yes(), Suggestion: id["s2"]},
			{Line: 2, Target: "login-s6", Sources: []string{"login-e1"}, Reason: "certain", MoveExternalIDs: yes(), Suggestion: id["s6"]},
		}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("certain rows (-want +got):\n%s", d)
		}
		if _, err := f.e.CheckBatch(f.ctx, f.as("admin"), rows); err != nil {
			t.Errorf("the rows check: %v", err)
		}
		// The group manager's queue leaves out the suggestion reaching eng.
		rows, err = f.e.SuggestionRows(f.ctx, f.as("sales-editor"), usermerge.SuggestionSelection{Grade: match.GradeCertain})
		if err != nil || len(rows) != 1 || rows[0].Target != "login-s2" {
			t.Errorf("sales-editor: %+v %v", rows, err)
		}
		// A view-only manager may not make merges of them.
		if _, err := f.e.SuggestionRows(f.ctx, f.as("eng-viewer"), usermerge.SuggestionSelection{Grade: match.GradeCertain}); usermerge.ErrorReason(err) != "no_merge_permission" {
			t.Errorf("eng-viewer: %v, want no_merge_permission", err)
		}
		rows, err = f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{IDs: []int64{id["s4"], id["s2"]}})
		if err != nil || len(rows) != 2 || rows[0].Target != "login-s4" || rows[1].Target != "login-s2" || rows[1].Line != 2 {
			t.Errorf("by ids: %+v %v", rows, err)
		}
		_, err = f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{IDs: []int64{id["s4"], 999, id["s4"]}})
		if d := cmp.Diff([]string{"2:suggestion_not_found", "3:suggestion_named_twice"}, lineReasons(problems(t, err))); d != "" {
			t.Errorf("unknown id (-want +got):\n%s", d)
		}
		if _, err := f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{}); usermerge.ErrorReason(err) != "selection_required" {
			t.Errorf("nothing selected: %v", err)
		}
		f.merge("s4", "s5")
		if _, err := f.e.SuggestionRows(f.ctx, f.as("admin"), usermerge.SuggestionSelection{Grade: match.GradeProbable}); usermerge.ErrorReason(err) != "selection_empty" {
			t.Errorf("the probable one merged: %v, want selection_empty", err)
		}
	})
}
