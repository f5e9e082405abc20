package engine

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

var propTenants = flag.Int("prop.tenants", 200, "random tenants in TestPropertyMergeRevert")

// TestPropertyMergeRevert runs random sequences of merges, reverts and
// refused calls on hundreds of random tenants sharing one database, and
// checks after every step that:
//
//	(a) no record is lost: every record exists exactly once, live on an
//	    account or retired under a merge, and record counts never change;
//	(b) reverting the newest operation gives back the tenant's data exactly
//	    as it was before that operation;
//	(c) a refused call changes nothing, in its tenant or any other.
func TestPropertyMergeRevert(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		n := *propTenants
		if testing.Short() {
			n = 20
		}
		f := newFixture(t, "learningbox")
		ctx := f.ctx
		// a neighbour tenant with data of every kind, which no step touches
		seedRandomTenant(t, f, "neighbour", rand.New(rand.NewPCG(7, 7)))
		for i := range n {
			tenant := fmt.Sprintf("p%03d", i)
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			accounts := seedRandomTenant(t, f, tenant, rng)
			runRandomSequence(t, f, tenant, accounts, rng)
			if t.Failed() {
				t.Fatalf("tenant %s (seed %d) failed; rerun with -run TestPropertyMergeRevert", tenant, i)
			}
		}
		_ = ctx
	})
}

var propKinds = []struct {
	table, key string
	extra      func(rng *rand.Rand, at int64) []any
}{
	{"signins", "", func(r *rand.Rand, at int64) []any { return []any{"at", at, "ip", "10.0.0.1", "client", "web"} }},
	{"badges", "badge_id", func(r *rand.Rand, at int64) []any { return []any{"acquired_at", at} }},
	{"credits", "", func(r *rand.Rand, at int64) []any {
		return []any{"points", r.IntN(50), "reason", "r", "awarded_at", at}
	}},
	{"certificates", "", func(r *rand.Rand, at int64) []any {
		return []any{"subject_type", "course", "subject_id", "c1", "number", fmt.Sprint(r.IntN(1e6)), "issued_at", at}
	}},
	{"course_progress", "course_id", progressCols},
	{"path_progress", "path_id", progressCols},
	{"lecture_progress", "lecture_id", func(r *rand.Rand, at int64) []any {
		return []any{"course_id", "c1", "percent", r.IntN(101), "last_access", at}
	}},
	{"quiz_sessions", "quiz_id", func(r *rand.Rand, at int64) []any { return []any{"answers", "{}", "last_studied_at", at} }},
	{"master_states", "quiz_id", func(r *rand.Rand, at int64) []any { return []any{"results", "r", "last_studied_at", at} }},
	{"poll_responses", "poll_id", func(r *rand.Rand, at int64) []any { return []any{"answer", fmt.Sprint(r.IntN(5)), "answered_at", at} }},
	{"event_registrations", "event_id", func(r *rand.Rand, at int64) []any { return []any{"registered_at", at, "attended", r.IntN(2)} }},
	{"financial_records", "", func(r *rand.Rand, at int64) []any {
		return []any{"type", "payment", "amount_cents", r.IntN(10000), "currency", "USD", "at", at}
	}},
}

func progressCols(r *rand.Rand, at int64) []any {
	switch r.IntN(3) {
	case 0:
		return []any{"status", "completed", "percent", 100, "enrolled_at", at, "completed_at", at + int64(r.IntN(1000))}
	case 1:
		return []any{"status", "in_progress", "percent", r.IntN(100), "enrolled_at", at}
	}
	return []any{"status", "enrolled", "percent", 0, "enrolled_at", at}
}

func seedRandomTenant(t *testing.T, f *fixture, tenant string, rng *rand.Rand) []string {
	ctx := context.Background()
	preset := usermerge.PresetNames[rng.IntN(2)]
	policy := usermerge.Presets[preset]
	policy.RevertAllowed = true // reverts are what this test exercises
	policy.Credits = []usermerge.CreditPolicy{usermerge.CreditsStay, usermerge.CreditsTransfer}[rng.IntN(2)]
	var accounts []string
	f.tx(func(tx *store.Tx) error {
		if err := tx.PutTenant(ctx, usermerge.Tenant{ID: tenant, Name: tenant, Policy: policy}); err != nil {
			return err
		}
		if err := tx.PutGroup(ctx, usermerge.Group{TenantID: tenant, ID: "g", Name: "G"}); err != nil {
			return err
		}
		if err := tx.PutAdmin(ctx, usermerge.Admin{TenantID: tenant, ID: "a", Login: "admin", Role: usermerge.TenantAdmin}, ""); err != nil {
			return err
		}
		nacc := 4 + rng.IntN(5)
		for i := range nacc {
			id := fmt.Sprintf("u%d", i)
			status := usermerge.Active
			if rng.IntN(6) == 0 {
				status = usermerge.Inactive
			}
			if err := tx.PutAccount(ctx, usermerge.Account{TenantID: tenant, ID: id, Login: id, Name: id, Email: id + "@example.test", Status: status, CreatedAt: base}); err != nil {
				return err
			}
			if err := tx.PutMembership(ctx, tenant, id, "g"); err != nil {
				return err
			}
			accounts = append(accounts, id)
			for ki, k := range propKinds {
				items := rng.Perm(3)[:rng.IntN(4)] // distinct items per account
				for j, item := range items {
					cols := []string{"tenant_id", "id", "account_id"}
					vals := []any{tenant, fmt.Sprintf("%s-%d-%d", id, ki, j), id}
					if k.key != "" {
						cols, vals = append(cols, k.key), append(vals, fmt.Sprintf("i%d", item))
					}
					extra := k.extra(rng, day(rng.IntN(300)))
					for x := 0; x < len(extra); x += 2 {
						cols, vals = append(cols, extra[x].(string)), append(vals, extra[x+1])
					}
					q := "INSERT INTO " + k.table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
					if _, err := tx.Exec(ctx, q, vals...); err != nil {
						return err
					}
				}
			}
			for c := range rng.IntN(3) { // attempts, numbered in a random order
				for a := range 1 + rng.IntN(3) {
					if _, err := tx.Exec(ctx, `INSERT INTO attempts (tenant_id, id, account_id, content_id, content_type, attempt_no, score, max_score, started_at)
						VALUES (?, ?, ?, ?, 'quiz', ?, 1, 2, ?)`, tenant, fmt.Sprintf("%s-at-%d-%d", id, c, a), id, fmt.Sprintf("q%d", c), a+1, day(rng.IntN(300))); err != nil {
						return err
					}
				}
			}
			if rng.IntN(2) == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO external_ids (tenant_id, id, account_id, system, value) VALUES (?, ?, ?, 'sso', ?)`,
					tenant, id+"-x", id, tenant+"-"+id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return accounts
}

type propOp struct {
	merges []int64
	before map[string][]string
	dirty  bool // activity came after it: its revert keeps newer values, so before no longer holds
}

// activity is one value set after a merge.
type activity struct {
	table, id, col string
	value          any
}

// randomActivity is what learners do after merges: a new sign-in on a
// random account, and new values on up to three live records of the kinds
// a merge combines or keeps (a later study time, a new answer, a higher
// percent), taken from the kinds' descriptors. It returns the values set
// and the number of records added.
func randomActivity(t *testing.T, f *fixture, tenant string, accounts []string, rng *rand.Rand, step int) ([]activity, int64) {
	t.Helper()
	var out []activity
	acc := accounts[rng.IntN(len(accounts))]
	f.tx(func(tx *store.Tx) error {
		_, err := tx.Exec(f.ctx, `INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES (?, ?, ?, ?, '10.9.9.9', 'after')`,
			tenant, fmt.Sprintf("new-%d", step), acc, day(-step))
		return err
	})
	for range 3 {
		spec := usermerge.Specs[rng.IntN(len(usermerge.Specs))]
		var fields []usermerge.Field
		for _, fl := range spec.Fields {
			changeable := spec.Shape == usermerge.ShapeCombine || spec.Shape == usermerge.ShapeKeep
			if changeable && fl.Enum == nil && fl.Name != spec.Item && (fl.Type == usermerge.Time || fl.Type == usermerge.Int || fl.Type == usermerge.Answers) {
				fields = append(fields, fl)
			}
		}
		if len(fields) == 0 {
			continue
		}
		fl := fields[rng.IntN(len(fields))]
		var id string
		f.tx(func(tx *store.Tx) error {
			err := tx.QueryRow(f.ctx, `SELECT id FROM `+spec.Table+` WHERE tenant_id = ? AND retired_by IS NULL ORDER BY id LIMIT 1 OFFSET ?`,
				tenant, rng.IntN(5)).Scan(&id)
			if err != nil {
				id = "" // fewer live records than the offset
			}
			return nil
		})
		if id == "" {
			continue
		}
		var v any = day(-step - 1) // later than anything before
		switch fl.Type {
		case usermerge.Int:
			v = int64(1 + rng.IntN(100))
		case usermerge.Answers:
			v = fmt.Sprintf("changed at step %d", step)
		}
		f.exec(`UPDATE `+spec.Table+` SET `+fl.Name+` = ? WHERE tenant_id = ? AND id = ?`, v, tenant, id)
		out = append(out, activity{spec.Table, id, fl.Name, v})
	}
	return out, 1
}

func runRandomSequence(t *testing.T, f *fixture, tenant string, accounts []string, rng *rand.Rand) {
	ctx := context.Background()
	who := Caller{Tenant: tenant, Admin: "admin"}
	initial := tenantSnapshot(t, f.db, tenant)
	counts := recordCounts(t, f.db, tenant)
	var stack []propOp
	others := tenantSnapshot(t, f.db, "neighbour")
	if len(others["signins"]) == 0 {
		t.Fatal("the neighbour tenant holds no data: the isolation check would prove nothing")
	}
	acts := map[string]activity{} // values set after merges, which reverts must keep
	for step := range 14 {
		before := tenantSnapshot(t, f.db, tenant)
		switch r := rng.IntN(10); {
		case r < 5: // merge 1-3 random accounts into a random target
			perm := rng.Perm(len(accounts))
			target := accounts[perm[0]]
			var sources []string
			for _, p := range perm[1 : 2+rng.IntN(min(3, len(perm)-1))] {
				sources = append(sources, accounts[p])
			}
			move := rng.IntN(2) == 0
			var profile map[string]string // half the merges take a profile field or two from a source
			for _, pf := range usermerge.ProfileFields {
				if rng.IntN(3) == 0 {
					if profile == nil {
						profile = map[string]string{}
					}
					profile[pf.Name] = sources[rng.IntN(len(sources))]
				}
			}
			ms, err := f.e.Merge(ctx, who, usermerge.MergeRequest{Target: target, Sources: sources, MoveExternalIDs: &move, Profile: profile})
			if err != nil {
				if c := usermerge.ErrorCode(err); c != usermerge.Conflict && c != usermerge.Invalid {
					t.Fatalf("step %d merge %v into %s: unexpected %v", step, sources, target, err)
				}
				assertUnchanged(t, f.db, tenant, before, fmt.Sprintf("step %d refused merge (%v)", step, err))
				continue
			}
			var ids []int64
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			stack = append(stack, propOp{merges: ids, before: before})
		case r < 6 && len(stack) > 0: // activity after the merges: new records, changed ones
			a, added := randomActivity(t, f, tenant, accounts, rng, step)
			for _, x := range a {
				acts[x.table+"/"+x.id+"/"+x.col] = x
			}
			counts["signin"] += added
			for i := range stack { // the states before them no longer hold
				stack[i].dirty = true
			}
		case r < 8 && len(stack) > 0: // revert the newest operation: exact unless activity came after it
			op := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, err := f.e.Revert(ctx, who, op.merges); err != nil {
				t.Fatalf("step %d revert %v: %v", step, op.merges, err)
			}
			if diff := cmp.Diff(op.before, tenantSnapshot(t, f.db, tenant)); !op.dirty && diff != "" {
				t.Fatalf("step %d: revert of %v is not exact (-before +after):\n%s", step, op.merges, diff)
			}
		case len(stack) > 1: // revert an older operation alone: refused if a later one shares an account
			op := stack[rng.IntN(len(stack)-1)]
			_, err := f.e.Revert(ctx, who, op.merges)
			if err == nil {
				// independent of every later operation: allowed; the stack
				// above it no longer describes exact states, so drop it, and
				// the merges left in force may combine the values set since
				stack = nil
				clear(acts)
				continue
			}
			if usermerge.ErrorReason(err) != "later_merge" {
				t.Fatalf("step %d revert older %v: %v", step, op.merges, err)
			}
			assertUnchanged(t, f.db, tenant, before, fmt.Sprintf("step %d refused revert", step))
		default: // a call that must be refused: a source that is the target
			a := accounts[rng.IntN(len(accounts))]
			_, err := f.e.Merge(ctx, who, usermerge.MergeRequest{Target: a, Sources: []string{a}})
			if err == nil {
				t.Fatalf("step %d: merging %s into itself was accepted", step, a)
			}
			assertUnchanged(t, f.db, tenant, before, "self merge")
		}
		checkNothingLost(t, f.db, tenant, counts)
	}
	for len(stack) > 0 { // unwind: every state on the way back is exact
		op := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, err := f.e.Revert(ctx, who, op.merges); err != nil {
			t.Fatalf("unwind revert %v: %v", op.merges, err)
		}
		if diff := cmp.Diff(op.before, tenantSnapshot(t, f.db, tenant)); !op.dirty && diff != "" {
			t.Fatalf("unwind: revert of %v not exact (-before +after):\n%s", op.merges, diff)
		}
	}
	_ = initial
	for _, a := range acts { // no revert gave back an older value over activity after a merge
		if got := fmt.Sprint(norm(valIn(t, f, tenant, a.table, a.id, a.col))); got != fmt.Sprint(norm(a.value)) {
			t.Fatalf("after every revert %s %s.%s = %s, want the value set after the merge, %v", a.table, a.id, a.col, got, a.value)
		}
	}
	if diff := cmp.Diff(others, tenantSnapshot(t, f.db, "neighbour")); diff != "" {
		t.Fatalf("another tenant changed:\n%s", diff)
	}
}

func assertUnchanged(t *testing.T, db *store.DB, tenant string, before map[string][]string, what string) {
	t.Helper()
	if diff := cmp.Diff(before, tenantSnapshot(t, db, tenant)); diff != "" {
		t.Fatalf("%s changed data (-before +after):\n%s", what, diff)
	}
}

// checkNothingLost: record counts are constant; every retired record names
// a merge of the tenant; every moved mark names a merge whose target holds
// the record, or a reverted merge whose source holds it again.
func checkNothingLost(t *testing.T, db *store.DB, tenant string, want map[string]int64) {
	t.Helper()
	if diff := cmp.Diff(want, recordCounts(t, db, tenant)); diff != "" {
		t.Fatalf("record counts changed (-want +got):\n%s", diff)
	}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		for _, k := range store.RecordKinds() {
			table := store.RecordTable(k)
			// a record stays retired by a reverted merge only where its
			// revert reported it (a newer record of the item holds its place)
			bad, err := tx.Count(context.Background(), `SELECT COUNT(*) FROM `+table+` r WHERE r.tenant_id = ? AND r.retired_by IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM merges m WHERE m.tenant_id = r.tenant_id AND m.id = r.retired_by AND m.state <> 'reverted')
				AND NOT EXISTS (SELECT 1 FROM revert_kept k WHERE k.tenant_id = r.tenant_id AND k.merge_id = r.retired_by AND k.record_id = r.id)`, tenant)
			if err != nil {
				return err
			}
			if bad > 0 {
				t.Errorf("%s: %d records retired by a missing merge, or by a reverted one that did not report them", table, bad)
			}
			// a live merge's target holds what it moved; a reverted
			// merge's mark stays as audit, on the source it went back to
			// or on the target where the revert kept it newer
			bad, err = tx.Count(context.Background(), `SELECT COUNT(*) FROM `+table+` r WHERE r.tenant_id = ? AND r.moved_by IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM merges m WHERE m.tenant_id = r.tenant_id AND m.id = r.moved_by
				AND (m.target_id = r.account_id OR (m.state = 'reverted' AND m.source_id = r.account_id)))`, tenant)
			if err != nil {
				return err
			}
			if bad > 0 {
				t.Errorf("%s: %d records marked moved by a merge that does not hold them", table, bad)
			}
		}
		// no account is both merged away and active; no merge cycle
		bad, err := tx.Count(context.Background(), `SELECT COUNT(*) FROM accounts WHERE tenant_id = ? AND merged_into IS NOT NULL AND status = 'active'`, tenant)
		if err != nil {
			return err
		}
		if bad > 0 {
			t.Errorf("%d accounts are merged away yet active", bad)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func recordCounts(t *testing.T, db *store.DB, tenant string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		for _, k := range store.RecordKinds() {
			n, err := tx.Count(context.Background(), `SELECT COUNT(*) FROM `+store.RecordTable(k)+` WHERE tenant_id = ?`, tenant)
			if err != nil {
				return err
			}
			out[string(k)] = n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tenantSnapshot is snapshot limited to one tenant's rows.
func tenantSnapshot(t testing.TB, db *store.DB, tenant string) map[string][]string {
	t.Helper()
	var out map[string][]string
	err := db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = storetest.Snapshot(context.Background(), tx, nil, tenant, "moved_by")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// valIn reads one column of one record of a tenant.
func valIn(t *testing.T, f *fixture, tenant, table, id, col string) any {
	t.Helper()
	var v any
	f.tx(func(tx *store.Tx) error {
		return tx.QueryRow(f.ctx, "SELECT "+col+" FROM "+table+" WHERE tenant_id = ? AND id = ?", tenant, id).Scan(&v)
	})
	return v
}
