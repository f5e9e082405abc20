package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// signInAt signs login in to tenant and returns the session's CSRF token.
func (c *uiClient) signInAt(tenant, login string) string {
	c.t.Helper()
	form := c.get("/ui/signin")
	a := c.post("/ui/signin", url.Values{"csrf_token": {csrfOf(c.t, form.body)}, "tenant": {tenant}, "login": {login}, "password": {testPassword}})
	if a.status != http.StatusSeeOther {
		c.t.Fatalf("sign in %s at %s: status %d", login, tenant, a.status)
	}
	return csrfOf(c.t, c.get("/ui/t/"+tenant+"/merges").body)
}

// The merge screen sets the kept account beside each account to merge
// before any preview, with the differences marked in words and the
// warnings the engine computes.
func TestUIMergeComparison(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		c.signIn("admin")

		p := c.get("/ui/t/acme/merge?keep=T")
		if strings.Contains(p.body, `id="compare"`) {
			t.Error("a comparison with no account to merge")
		}
		p = c.get("/ui/t/acme/merge?keep=T&src=S")
		if p.status != http.StatusOK || !strings.Contains(p.body, `id="compare"`) {
			t.Fatalf("no comparison for T and S (status %d)", p.status)
		}
		for _, want := range []string{
			`<th scope="col">Keep: t.login</th>`, `<th scope="col">Merge: s.login</th>`,
			`Sales East › Sales › Company`, // the group with its path up the tree
			`<tr class="differs">`, `<span class="tag diff">differs</span>`,
			`data-code="different_names"`, `data-code="different_emails"`, `data-code="both_signed_in_recently"`,
			`sso: SSO-S`, `Last sign-in`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the comparison lacks %q", want)
			}
		}
		if strings.Contains(p.body, `id="preview-h"`) {
			t.Error("the preview shown before it was asked for")
		}

		// The same person by the data: nothing warned, nothing marked.
		err := e.db.Transact(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Exec(context.Background(), `UPDATE accounts SET name = 'Learner T', email = 't@example.test' WHERE tenant_id = 'acme' AND id = 'S3'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		p = c.get("/ui/t/acme/merge?keep=T&src=S3")
		if !strings.Contains(p.body, "Nothing here suggests two different people.") || strings.Contains(p.body, `<tr class="differs">`) {
			t.Errorf("T beside S3 (same name, same email, S3 never signed in) warns or marks a difference")
		}
	})
}

// A merge that cannot be undone needs the kept login typed; the server
// refuses it otherwise, and a tenant that allows reverts asks nothing.
func TestUIIrreversibleMergeNeedsTypedLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		csrf := c.signInAt("globex", "gadmin")

		p := c.get("/ui/t/globex/merge?keep=G1&src=G2&step=confirm")
		for _, want := range []string{`id="confirm-login"`, `name="confirm_login"`, `data-must-match="g1.login"`, `id="confirm-warnings"`,
			`data-code="still_active"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the confirmation lacks %q", want)
			}
		}
		for _, tc := range []struct{ typed, want string }{
			{"", "Nothing was merged: type the kept login, g1.login, to confirm a merge that cannot be undone"},
			{"G1.LOGIN", "Nothing was merged: you typed “G1.LOGIN”, not the kept login g1.login"},
			{"g2.login", "Nothing was merged: you typed “g2.login”, not the kept login g1.login"},
		} {
			before := e.snapshotAll()
			a := c.post("/ui/t/globex/merge", url.Values{"csrf_token": {csrf}, "keep": {"G1"}, "src": {"G2"}, "ext": {"0"}, "confirm_login": {tc.typed}})
			back := c.follow(a)
			if !strings.Contains(back.body, htmlEscape(tc.want)) {
				t.Errorf("typed %q: the page does not say %q", tc.typed, tc.want)
			}
			if !strings.Contains(back.body, `id="confirm-login"`) {
				t.Errorf("typed %q: the confirmation is not shown again", tc.typed)
			}
			if diff := cmp.Diff(before, e.snapshotAll()); diff != "" {
				t.Errorf("typed %q: the database changed:\n%s", tc.typed, diff)
			}
		}
		a := c.post("/ui/t/globex/merge", url.Values{"csrf_token": {csrf}, "keep": {"G1"}, "src": {"G2"}, "ext": {"0"}, "confirm_login": {" g1.login "}})
		if back := c.follow(a); !strings.Contains(back.body, "Merged into g1.login") {
			t.Errorf("the typed login did not merge:\n%s", back.body)
		}

		// acme allows reverts: no login to type.
		ca := e.uiClient()
		csrfA := ca.signIn("admin")
		if p := ca.get("/ui/t/acme/merge?keep=T&src=S&step=confirm"); strings.Contains(p.body, `id="confirm-login"`) || !strings.Contains(p.body, `id="confirm-warnings"`) {
			t.Error("acme's confirmation asks for the login, or does not repeat the warnings")
		}
		a = ca.post("/ui/t/acme/merge", url.Values{"csrf_token": {csrfA}, "keep": {"T"}, "src": {"S"}, "ext": {"0"}})
		if back := ca.follow(a); !strings.Contains(back.body, "Merged into t.login") {
			t.Errorf("acme merge without a typed login refused:\n%s", back.body)
		}
	})
}

// Stopping reverts while merges are active says how many become
// irreversible and changes nothing until confirmed.
func TestUISettingsIrreversibleNeedsConfirm(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		c := e.uiClient()
		csrf := c.signIn("admin")
		policy := func() usermerge.Policy {
			t.Helper()
			tn, err := e.eng.Settings(context.Background(), apiAcmeAdmin)
			if err != nil {
				t.Fatal(err)
			}
			return tn.Policy
		}

		// No active merge: nothing to confirm.
		a := c.post("/ui/t/acme/settings", url.Values{"csrf_token": {csrf}, "action": {"rules"}, "revert_allowed": {"false"}})
		if a.status != http.StatusSeeOther || policy().RevertAllowed {
			t.Fatalf("no active merge: status %d, reverts allowed %v; want saved at once", a.status, policy().RevertAllowed)
		}
		c.post("/ui/t/acme/settings", url.Values{"csrf_token": {csrf}, "action": {"rules"}, "revert_allowed": {"true"}})

		apiMerge(t, e.withToken("acme", "admin"), "T", "S")
		apiMerge(t, e.withToken("acme", "admin"), "T", "S2")
		before := e.snapshotAll()
		p := c.post("/ui/t/acme/settings", url.Values{"csrf_token": {csrf}, "action": {"preset"}, "preset": {"schoox"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, "2 active merges become irreversible") || !strings.Contains(p.body, `id="confirm-settings"`) {
			t.Fatalf("schoox preset with two active merges: status %d, want 409 asking to confirm:\n%s", p.status, p.body)
		}
		if !strings.Contains(p.body, `name="preset" value="schoox"`) || !strings.Contains(p.body, `name="confirm_irreversible" value="1"`) {
			t.Error("the confirmation does not resend the change")
		}
		if diff := cmp.Diff(before, e.snapshotAll()); diff != "" || !policy().RevertAllowed {
			t.Errorf("the unconfirmed change changed something:\n%s", diff)
		}
		a = c.post("/ui/t/acme/settings", url.Values{"csrf_token": {csrf}, "action": {"preset"}, "preset": {"schoox"}, "confirm_irreversible": {"1"}})
		if a.status != http.StatusSeeOther || policy().RevertAllowed {
			t.Errorf("confirmed: status %d, reverts still allowed %v", a.status, policy().RevertAllowed)
		}
	})
}
