package bench

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestResolveDataConsistent: the resolve tenant's accounts and merges agree
// (every merged account points at an active merge with it as the source
// and its target as the target; the merge ids are unique and complete),
// and the generated truth of a few accounts is what their shapes say.
func TestResolveDataConsistent(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db, err := store.Open(ctx, storetest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		d := newResolveDataset(newDataset(Options{Accounts: 40, Seed: 1, Now: benchNow}), 40, 50)
		if _, err := loadResolveTenant(ctx, db, d, newBar(nil)); err != nil {
			t.Fatal(err)
		}
		err = db.View(ctx, func(tx *store.Tx) error {
			n, err := tx.Count(ctx, `SELECT COUNT(*) FROM merges WHERE tenant_id = ?`, resolveTenant)
			if err != nil || n != 50 {
				t.Errorf("%d merges, want 50 (%v)", n, err)
			}
			n, err = tx.Count(ctx, `SELECT COUNT(DISTINCT id) FROM merges WHERE tenant_id = ? AND id BETWEEN 1 AND 50`, resolveTenant)
			if err != nil || n != 50 {
				t.Errorf("%d distinct merge ids in 1..50, want 50 (%v)", n, err)
			}
			n, err = tx.Count(ctx, `SELECT COUNT(*) FROM accounts a WHERE a.tenant_id = ? AND a.merged_into IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM merges m WHERE m.tenant_id = a.tenant_id AND m.id = a.merged_by AND m.source_id = a.id
					AND m.target_id = a.merged_into AND m.state = 'active')`, resolveTenant)
			if err != nil || n != 0 {
				t.Errorf("%d merged accounts without their active merge (%v)", n, err)
			}
			n, err = tx.Count(ctx, `SELECT COUNT(*) FROM merges WHERE tenant_id = ? AND state = 'active'`, resolveTenant)
			if err != nil || n != 8 { // 8 groups: 2 of shape 0 (3 merges each), 2 of shape 1 (1 each)
				t.Errorf("%d active merges, want 8 (%v)", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	d := newResolveDataset(newDataset(Options{Accounts: 40, Seed: 1, Now: benchNow}), 40, 50)
	// 42 reverted merges over 8 groups: 6 in the first two, 5 in the rest.
	for _, c := range []struct {
		i    int
		want wantResolution
	}{
		{0, wantResolution{state: usermerge.ResolvedMerged, end: 2, chain: 2}},
		{1, wantResolution{state: usermerge.ResolvedMerged, end: 2, chain: 1}},
		{2, wantResolution{state: usermerge.ResolvedActive, end: 2}},
		{3, wantResolution{state: usermerge.ResolvedMerged, end: 2, chain: 1, reverted: 3}},
		{4, wantResolution{state: usermerge.ResolvedActive, end: 4, reverted: 3}},
		{5, wantResolution{state: usermerge.ResolvedMerged, end: 6, chain: 1}},
		{9, wantResolution{state: usermerge.ResolvedDeleted, end: -1, reverted: 3}},
		{13, wantResolution{state: usermerge.ResolvedActive, end: 13, reverted: 2}},
		{14, wantResolution{state: usermerge.ResolvedActive, end: 14, reverted: 3}},
	} {
		if got := d.want(c.i); got != c.want {
			t.Errorf("account %d: %+v, want %+v", c.i, got, c.want)
		}
	}
}

// TestReceiverChecksSignatures: the bench's receiver counts a delivery
// whose signature is not the Standard Webhooks HMAC of id.timestamp.body
// as bad, so the bench's checks can fail.
func TestReceiverChecksSignatures(t *testing.T) {
	rc, err := startReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rc.setSecret(1, secret)
	body := `{"type":"merge.completed","data":{"merged":[{"merge":7}]}}`
	post := func(sig string) {
		req, _ := http.NewRequest(http.MethodPost, rc.url(1), strings.NewReader(body))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", "1700000000")
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(engine.Sign([]string{secret}, "msg_1", "1700000000", []byte(body)))
	if got, unique, bad := rc.stats(); got != 1 || unique != 1 || bad != 0 {
		t.Fatalf("a good signature: %d got, %d unique, %d bad", got, unique, bad)
	}
	post("v1,bm90IHRoZSBzaWduYXR1cmU=")
	if got, unique, bad := rc.stats(); got != 2 || unique != 1 || bad != 1 {
		t.Fatalf("a wrong signature: %d got, %d unique, %d bad", got, unique, bad)
	}
	if a := rc.arrivals(); a[0].merge != 7 {
		t.Errorf("the arrival's merge %d, want 7", a[0].merge)
	}
}

// TestEventsBenchTiny runs the events bench at a tiny size on both
// databases so that the command cannot rot: it checks what was measured
// and verified, never how long anything took.
func TestEventsBenchTiny(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		r, err := RunEvents(context.Background(), EventsOptions{DB: storetest.URL(t), Accounts: 500, Merges: 800, Pairs: 24, Samples: 3, Refs: 200, Now: benchNow})
		if err != nil {
			t.Fatal(err)
		}
		c := r.MergeCost
		if c.MergesEach != 4 || c.NoneMeanMS <= 0 || c.WithMeanMS <= 0 || c.Ratio <= 0 {
			t.Errorf("merge cost %+v", c)
		}
		// 8 merges with 3 endpoints are left pending by the cost phase;
		// 12 merges with 10 endpoints make the backlog.
		if th := r.Throughput; th.Deliveries != 4*3+12*10 || th.PerSecond <= 0 || th.Endpoints != 10 {
			t.Errorf("throughput %+v", th)
		}
		if l := r.Latency; l.Merges != 4 || l.Deliveries != 12 || l.P95MS < l.P50MS || l.MaxMS < l.P95MS || l.P95FromAnswerMS > l.P95MS {
			t.Errorf("latency %+v", l)
		}
		s := r.Resolve
		if s.Calls != 3 || s.Refs != 200 || s.P95MS <= 0 || s.WarmUp != 10 || s.ColdMS <= 0 {
			t.Errorf("resolve %+v", s)
		}
		var total int
		for _, st := range []string{usermerge.ResolvedActive, usermerge.ResolvedMerged, usermerge.ResolvedDeleted, usermerge.ResolvedNotFound} {
			if s.States[st] == 0 {
				t.Errorf("no %s answer among %v", st, s.States)
			}
			total += s.States[st]
		}
		if total != (10+3)*200 { // the warm-up calls' answers are checked too
			t.Errorf("%d answers, want %d", total, (10+3)*200)
		}
		if len(r.Checks) != 4 || r.Accounts != 500 || r.Merges != 800 {
			t.Errorf("checks %q, %d accounts, %d merges", r.Checks, r.Accounts, r.Merges)
		}
		var b strings.Builder
		WriteEventsText(&b, r)
		for _, want := range []string{"With 3 endpoints / without", "deliveries per second", "Commit to receiver", "Resolve, 3 calls of 200 references"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("text lacks %q:\n%s", want, b.String())
			}
		}
	})
	for _, o := range []EventsOptions{{Pairs: 5}, {Accounts: 10}, {Refs: usermerge.MaxResolveRefs + 1}} {
		o.DB = t.TempDir() + "/x.db"
		if _, err := RunEvents(context.Background(), o); usermerge.ErrorCode(err) != usermerge.Invalid {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
