package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// Ids and logins that come in through the API take the one clean form
// (usermerge.CleanID): a decomposed or padded reference finds the account
// and counts as the same account; invisible characters are refused.
func TestAPICleansIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
			if err := tx.PutAccount(context.Background(), usermerge.Account{TenantID: "acme", ID: "J", Login: "jos\u00e9", Name: "Jos\u00e9",
				Status: usermerge.Active, CreatedAt: testNow}); err != nil {
				return err
			}
			return tx.PutMembership(context.Background(), "acme", "J", "east")
		})
		if err != nil {
			t.Fatal(err)
		}
		// Sign-in takes the login in the same form.
		e.signIn("  admin ")
		var failed ErrorBody
		if st := e.anon().call("POST", "/api/v1/session", map[string]string{"tenant": "acme", "login": "ad\u200bmin", "password": testPassword}, &failed); st != http.StatusUnauthorized {
			t.Errorf("sign-in with a zero-width space in the login: %d %+v, want 401 like any unknown login", st, failed)
		}
		c := e.withToken("acme", "admin")
		var a usermerge.Account
		if st := c.call("GET", "/api/v1/tenants/acme/accounts/jose%CC%81", nil, &a); st != http.StatusOK || a.ID != "J" {
			t.Errorf("account by its decomposed login: %d %+v", st, a)
		}
		st, body := c.raw("GET", "/api/v1/tenants/acme/accounts/S%E2%80%8B", "", nil)
		if st != http.StatusUnprocessableEntity || errorOf(t, body).Error.Reason != "invalid_id" {
			t.Errorf("account with a zero-width space: %d %s, want 422 invalid_id", st, body)
		}
		before := e.snapshotAll()
		for _, tc := range []struct {
			sources []string
			reason  string
		}{
			{[]string{"J", "jose\u0301"}, "duplicate_source"},
			{[]string{"S", " S "}, "duplicate_source"},
			{[]string{"S\u2066"}, "invalid_id"},
		} {
			b, _ := json.Marshal(map[string]any{"target": "T", "sources": tc.sources})
			st, body := c.raw("POST", "/api/v1/tenants/acme/merges/preview", "application/json", b)
			if st != http.StatusUnprocessableEntity || errorOf(t, body).Error.Reason != tc.reason {
				t.Errorf("preview of %q: %d %s, want 422 %s", tc.sources, st, body, tc.reason)
			}
		}
		if st := c.call("POST", "/api/v1/tenants/acme/merges/preview", map[string]any{"target": " T", "sources": []string{"jose\u0301"}}, nil); st != http.StatusOK {
			t.Errorf("preview by padded and decomposed references: %d", st)
		}
		if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
			t.Errorf("refused calls changed the database:\n%s", diff)
		}
	})
}
