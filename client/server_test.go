package client

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/server"
	"usermerge/store"
	"usermerge/store/storetest"
)

// TestSameAsEngine calls the real server through the client and the engine
// directly on the same database, and wants the same values and errors.
func TestSameAsEngine(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	db := storetest.Open(t)
	db.Now = func() time.Time { return now }
	sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, nil)
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	secret, _, err := eng.CreateToken(ctx, admin, "client test", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Engine: eng}).Handler())
	t.Cleanup(srv.Close)
	c := New(srv.URL, secret, nil)
	// The token decides who acts: an Admin in the caller is not sent.
	remote := engine.Caller{Tenant: "acme", Admin: "eng-viewer"}

	var keep, source string
	for _, tn := range sum.Tenants {
		if tn.ID == "acme" {
			keep, source = tn.Duplicates[0][0], tn.Duplicates[0][1]
		}
	}
	same := func(what string, want, got any, werr, gerr error) {
		t.Helper()
		if werr != nil {
			want = got // with an error, the value means nothing
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(store.Token{})); diff != "" {
			t.Errorf("%s: client and engine differ (-engine +client):\n%s", what, diff)
		}
		if usermerge.ErrorCode(werr) != usermerge.ErrorCode(gerr) || usermerge.ErrorReason(werr) != usermerge.ErrorReason(gerr) ||
			usermerge.ErrorMessage(werr) != usermerge.ErrorMessage(gerr) {
			t.Errorf("%s: engine error %v, client error %v", what, werr, gerr)
		}
	}
	req := usermerge.MergeRequest{Target: keep, Sources: []string{source}, Reason: "same person"}

	l1, e1 := eng.SearchAccounts(ctx, admin, "", "", 1000, 0)
	l2, e2 := c.SearchAccounts(ctx, remote, "", "", 1000, 0)
	same("SearchAccounts", l1, l2, e1, e2)
	if len(l1) < 100 {
		t.Fatalf("only %d accounts", len(l1))
	}
	a1, e1 := eng.AccountInfo(ctx, admin, keep)
	a2, e2 := c.AccountInfo(ctx, remote, keep)
	same("AccountInfo", a1, a2, e1, e2)
	a1, e1 = eng.AccountInfo(ctx, admin, "nobody-at-all")
	a2, e2 = c.AccountInfo(ctx, remote, "nobody-at-all")
	same("AccountInfo of nobody", a1, a2, e1, e2)
	if e2 == nil {
		t.Error("AccountInfo of nobody: no error")
	}
	p1, e1 := eng.Preview(ctx, admin, req)
	p2, e2 := c.Preview(ctx, remote, req)
	same("Preview", p1, p2, e1, e2)
	s1, e1 := eng.Settings(ctx, admin)
	s2, e2 := c.Settings(ctx, remote)
	same("Settings", s1, s2, e1, e2)

	ms, err := c.Merge(ctx, remote, req)
	if err != nil || len(ms) != 1 || ms[0].By != "admin" {
		t.Fatalf("Merge: %v %+v", err, ms)
	}
	g1, e1 := eng.ListMerges(ctx, admin, usermerge.MergeFilter{Source: source})
	g2, e2 := c.ListMerges(ctx, remote, usermerge.MergeFilter{Source: source})
	same("ListMerges", g1, g2, e1, e2)
	if len(g1.Merges) != 1 || g1.Merges[0].ID != ms[0].ID {
		t.Errorf("the list does not hold the merge: %+v", g1)
	}
	d1, e1 := eng.MergeDetails(ctx, admin, ms[0].ID, 5)
	d2, e2 := c.MergeDetails(ctx, remote, ms[0].ID, 5)
	same("MergeDetails", d1, d2, e1, e2)
	x1, e1 := eng.Activate(ctx, admin, source)
	x2, e2 := c.Activate(ctx, remote, source)
	same("Activate of a merged account", x1, x2, e1, e2)
	if usermerge.ErrorCode(e2) != usermerge.Conflict {
		t.Errorf("Activate of a merged account: %v", e2)
	}
	rep, err := c.Revert(ctx, remote, []int64{ms[0].ID})
	if err != nil || len(rep.Reverted) != 1 {
		t.Fatalf("Revert: %v %+v", err, rep)
	}
	d1, e1 = eng.MergeDetails(ctx, admin, ms[0].ID, 5)
	d2, e2 = c.MergeDetails(ctx, remote, ms[0].ID, 5)
	same("MergeDetails after revert", d1, d2, e1, e2)
	i1, e1 := eng.DeletionImpact(ctx, admin, keep)
	i2, e2 := c.DeletionImpact(ctx, remote, keep)
	same("DeletionImpact", i1, i2, e1, e2)

	var b1, b2 bytes.Buffer
	e1 = eng.Export(ctx, admin, &b1, keep, "ndjson")
	e2 = c.Export(ctx, remote, &b2, keep, "ndjson")
	same("Export", b1.String(), b2.String(), e1, e2)
	if b1.Len() == 0 {
		t.Error("empty export")
	}
	st, err := c.Import(ctx, remote, strings.NewReader(b1.String()), "ndjson")
	if err != nil || st.Lines != strings.Count(b1.String(), "\n") {
		t.Errorf("Import of the export: %v %+v", err, st)
	}
	k1, e1 := eng.Tokens(ctx, admin)
	k2, e2 := c.Tokens(ctx, remote)
	same("Tokens", k1, k2, e1, e2)

	// A token cannot make tokens: the server refuses, and the client
	// returns the refusal as the engine's error.
	if _, _, err := c.CreateToken(ctx, remote, "second", nil); usermerge.ErrorCode(err) != usermerge.Forbidden ||
		usermerge.ErrorReason(err) != "token_cannot_create_tokens" {
		t.Errorf("CreateToken through a token: %v, want forbidden token_cannot_create_tokens", err)
	}

	// A revoked token is refused at once.
	second, tok, err := eng.CreateToken(ctx, admin, "second", nil)
	if err != nil || tok.Admin != "admin" || !strings.HasPrefix(second, engine.TokenPrefix) {
		t.Fatalf("CreateToken: %v %+v", err, tok)
	}
	if err := c.RevokeToken(ctx, remote, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = New(srv.URL, second, nil).Settings(ctx, remote)
	if usermerge.ErrorCode(err) != usermerge.Unauthenticated || usermerge.ErrorReason(err) != "bad_token" {
		t.Errorf("a revoked token: %v", err)
	}
}
