package server

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// addSignIns gives an account n more sign-ins, si-00000 upwards.
func addSignIns(t *testing.T, e *env, account string, n int) {
	t.Helper()
	ctx := context.Background()
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		for i := range n {
			if _, err := tx.Exec(ctx, `INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES ('acme', ?, ?, ?, '10.0.0.9', 'web')`,
				fmt.Sprintf("si-%05d", i), account, testNow.Add(-48*3600e9).UnixMilli()+int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAPIMergeDetailsPaging: GET .../merges/{id} pages one kind's records
// with kind, limit and offset, says each kind's total and next offset, and
// refuses bad pages with 400.
func TestAPIMergeDetailsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		addSignIns(t, e, "S", 1000) // with si1: 1,001 sign-ins
		m := apiMerge(t, admin, "T", "S")[0]
		get := func(query string) usermerge.MergeDetails {
			t.Helper()
			st, body := admin.raw("GET", fmt.Sprintf("%s/merges/%d%s", apiAcme, m, query), "", nil)
			if !apiExpect(t, "GET details"+query, st, body, "200") {
				t.FailNow()
			}
			return apiDecode[usermerge.MergeDetails](t, body)
		}
		one := func(query string) usermerge.KindDetails {
			t.Helper()
			d := get(query)
			if len(d.Kinds) != 1 || d.Kinds[0].Kind != usermerge.KindSignIns {
				t.Fatalf("GET details%s: %d kinds, want sign-ins only", query, len(d.Kinds))
			}
			return d.Kinds[0]
		}
		p1 := one("?kind=signins&limit=1000")
		if len(p1.Records) != 1000 || p1.Total != 1001 || p1.NextOffset == nil || *p1.NextOffset != 1000 || p1.More != 1 {
			t.Fatalf("first page: %d records of %d, next %v, more %d", len(p1.Records), p1.Total, p1.NextOffset, p1.More)
		}
		p2 := one(fmt.Sprintf("?kind=signins&limit=1000&offset=%d", *p1.NextOffset))
		if len(p2.Records) != 1 || p2.Total != 1001 || p2.NextOffset != nil || p2.Offset != 1000 {
			t.Errorf("last page: %d records of %d, next %v, offset %d", len(p2.Records), p2.Total, p2.NextOffset, p2.Offset)
		}
		var ids []string
		for _, r := range append(p1.Records, p2.Records...) {
			ids = append(ids, r.RecordID)
		}
		if slices.Sort(ids); len(slices.Compact(ids)) != 1001 {
			t.Errorf("the two pages list %d distinct sign-ins, want 1001", len(ids))
		}
		if k := one("?kind=sign-in&limit=5&offset=1000"); len(k.Records) != 1 { // an alias names the kind too
			t.Errorf("kind=sign-in: %d records", len(k.Records))
		}
		if k := one("?kind=signins&offset=2000"); len(k.Records) != 0 || k.Total != 1001 || k.NextOffset != nil {
			t.Errorf("offset past the end: %d records of %d, next %v", len(k.Records), k.Total, k.NextOffset)
		}
		all := get("?limit=10")
		if len(all.Kinds) != len(usermerge.Kinds) {
			t.Errorf("without kind: %d kinds, want every one", len(all.Kinds))
		}
		for _, q := range []string{"?limit=0", "?limit=10001", "?limit=x", "?offset=-1&kind=signins", "?offset=x&kind=signins",
			"?offset=10", "?kind=nonsense", "?kind=signins&offset=1.5"} {
			st, body := admin.raw("GET", fmt.Sprintf("%s/merges/%d%s", apiAcme, m, q), "", nil)
			apiExpect(t, "GET details"+q, st, body, "400 bad_request")
		}
	})
}

// TestAPIMergeListByOperation: the merges of one operation (several sources
// merged at once) share its number, and the list filters by it.
func TestAPIMergeListByOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		admin := e.signIn("admin")
		single := apiMerge(t, admin, "E1", "E2")
		both := apiMerge(t, admin, "T", "S2", "S3")
		st, body := admin.raw("GET", apiAcme+"/merges", "", nil)
		if !apiExpect(t, "GET merges", st, body, "200") {
			return
		}
		ops := map[int64]int64{}
		for _, mg := range apiDecode[usermerge.MergePage](t, body).Merges {
			ops[mg.ID] = mg.OperationID
		}
		if ops[both[0]] != ops[both[1]] || ops[both[0]] == ops[single[0]] || ops[both[0]] == 0 {
			t.Fatalf("operations of the merges: %v (S2 and S3 were merged at once: %v)", ops, both)
		}
		ids, n := apiListIDs(t, admin, fmt.Sprintf("?operation=%d", ops[both[0]]))
		if n != 2 || !slices.Equal(ids, []int64{both[1], both[0]}) {
			t.Errorf("operation %d lists %v of %d, want %v", ops[both[0]], ids, n, both)
		}
		if ids, n := apiListIDs(t, admin, fmt.Sprintf("?operation=%d", ops[single[0]])); n != 1 || ids[0] != single[0] {
			t.Errorf("operation %d lists %v", ops[single[0]], ids)
		}
		if _, n := apiListIDs(t, admin, "?operation=999"); n != 0 {
			t.Errorf("an unknown operation lists %d merges", n)
		}
		for _, q := range []string{"?operation=0", "?operation=-1", "?operation=x"} {
			st, body := admin.raw("GET", apiAcme+"/merges"+q, "", nil)
			apiExpect(t, "GET merges"+q, st, body, "400 bad_request")
		}
	})
}
