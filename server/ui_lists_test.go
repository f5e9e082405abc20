package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"usermerge"
	"usermerge/engine"
	"usermerge/store/storetest"
)

// The merge list's selection, reason and operation, the details tabs'
// paging and the Accounts screen's activation rule, over plain HTTP on both
// databases; ui_test.go drives the same in Chromium.

var acmeAdmin = engine.Caller{Tenant: "acme", Admin: "admin"}

func uiMerge(t *testing.T, e *env, req usermerge.MergeRequest) []usermerge.Merge {
	t.Helper()
	req.TenantID = "acme"
	ms, err := e.eng.Merge(context.Background(), acmeAdmin, req)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%.3000s", what, w, body)
		}
	}
}

func mustLack(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("%s holds %q", what, n)
		}
	}
}

// checkbox finds merge id's box on the merge list: absent, ticked or not.
func checkbox(body string, id int64) (present, ticked bool) {
	m := regexp.MustCompile(fmt.Sprintf(`<input type="checkbox" name="revert" value="%d" id="sel-%d"( checked)?`, id, id)).FindStringSubmatch(body)
	return m != nil, m != nil && m[1] != ""
}

func TestUIDetailsTabPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		addSignIns(t, e, "S", 1000) // with si1: 1,001 sign-ins
		m := uiMerge(t, e, usermerge.MergeRequest{Target: "T", Sources: []string{"S"}})[0]
		c := e.uiClient()
		c.signIn("viewer")
		tab := fmt.Sprintf("/ui/t/acme/merges/%d?tab=signin", m.ID)

		first := c.get(tab)
		mustContain(t, "the first page", first.body, "Records 1–100 of 1,001", `href="`+tab+`&amp;offset=100" rel="next"`,
			`href="`+tab+`&amp;limit=1000"`, "si-00099")
		mustLack(t, "the first page", first.body, `rel="prev"`, "si-00100") // si1 sorts after si-00999
		long := c.get(tab + "&limit=1000")
		mustContain(t, "pages of 1,000", long.body, "Records 1–1,000 of 1,001", `href="`+tab+`&amp;limit=1000&amp;offset=1000" rel="next"`)
		last := c.get(tab + "&limit=1000&offset=1000")
		mustContain(t, "the last page", last.body, "Records 1,001–1,001 of 1,001", `href="`+tab+`&amp;limit=1000" rel="prev"`, ">si1<")
		mustLack(t, "the last page", last.body, `rel="next"`)
		past := c.get(tab + "&offset=5000")
		mustContain(t, "past the end", past.body, `id="past-end"`, "this kind lists 1,001 records", `href="`+tab+`">Go to the first page`)
		empty := c.get(fmt.Sprintf("/ui/t/acme/merges/%d?tab=financial_record&offset=100", m.ID))
		mustContain(t, "an empty kind past the end", empty.body, "No records of this kind are listed")
		mustLack(t, "an empty kind past the end", empty.body, `id="past-end"`)
		// A kind that fits on one page has no pager.
		mustLack(t, "the badge tab", c.get(fmt.Sprintf("/ui/t/acme/merges/%d?tab=badge", m.ID)).body, `id="records-pager"`)
		// The summary still counts every kind.
		mustContain(t, "the summary", c.get(fmt.Sprintf("/ui/t/acme/merges/%d", m.ID)).body, `<span class="n-badge">1001</span>`)

		for _, tc := range []struct {
			query  string
			status int
		}{{"&offset=-1", http.StatusBadRequest}, {"&offset=x", http.StatusBadRequest}, {"&offset=1.5", http.StatusBadRequest}} {
			if a := c.get(tab + tc.query); a.status != tc.status {
				t.Errorf("GET %s%s: %d, want %d", tab, tc.query, a.status, tc.status)
			}
		}
		if a := c.get(fmt.Sprintf("/ui/t/acme/merges/%d?tab=nonsense", m.ID)); a.status != http.StatusNotFound {
			t.Errorf("an unknown tab: %d", a.status)
		}
	})
}

// TestUIMergeListSelection: "Select all on this page" ticks every box
// without JavaScript, and a refused batch revert comes back with the
// admin's boxes still ticked and the reason.
func TestUIMergeListSelection(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		m1 := uiMerge(t, e, usermerge.MergeRequest{Target: "T", Sources: []string{"S"}, Reason: "same person, HR import"})[0]
		m2 := uiMerge(t, e, usermerge.MergeRequest{Target: "T", Sources: []string{"S2"}})[0]
		c := e.uiClient()
		csrf := c.signIn("admin")

		list := c.get("/ui/t/acme/merges")
		for _, id := range []int64{m1.ID, m2.ID} {
			if present, ticked := checkbox(list.body, id); !present || ticked {
				t.Errorf("merge %d's box on a fresh list: present %v, ticked %v", id, present, ticked)
			}
		}
		mustContain(t, "the list", list.body, `id="select-all"`, `value="all"`, "Select all on this page")

		// Without JavaScript the button submits the form with tick=all.
		all := c.get(fmt.Sprintf("/ui/t/acme/merges?tick=all&revert=%d", m1.ID))
		for _, id := range []int64{m1.ID, m2.ID} {
			if _, ticked := checkbox(all.body, id); !ticked {
				t.Errorf("after select all, merge %d is not ticked", id)
			}
		}
		mustContain(t, "the list with every box ticked", all.body, `value="none"`, "Clear selection")
		mustLack(t, "select all", all.body, `id="confirm-revert"`) // ticking asks nothing
		none := c.get("/ui/t/acme/merges?tick=none&revert=1&revert=2")
		if _, ticked := checkbox(none.body, m1.ID); ticked {
			t.Errorf("clear selection left merge %d ticked", m1.ID)
		}
		// Revert selected still asks first.
		mustContain(t, "revert selected", c.get(fmt.Sprintf("/ui/t/acme/merges?revert=%d&select=1", m1.ID)).body, `id="confirm-revert"`)

		// m2 is a later merge into T: reverting m1 alone is refused, and the
		// page comes back with m1 still ticked and m2 not.
		back := "/ui/t/acme/merges?source=login"
		a := c.post("/ui/t/acme/merges/revert", url.Values{"csrf_token": {csrf}, "merge": {fmt.Sprint(m1.ID)}, "back": {back}})
		if a.status != http.StatusSeeOther || !strings.Contains(a.location, fmt.Sprintf("ticked=%d", m1.ID)) || !strings.Contains(a.location, "source=login") {
			t.Fatalf("refused revert: %d to %q; want back to the list with the selection", a.status, a.location)
		}
		page := c.follow(a)
		mustContain(t, "the list after the refused revert", page.body, `class="msg error"`, "Nothing was reverted")
		if _, ticked := checkbox(page.body, m1.ID); !ticked {
			t.Errorf("after the refused revert, merge %d is no longer ticked", m1.ID)
		}
		if _, ticked := checkbox(page.body, m2.ID); ticked {
			t.Errorf("after the refused revert, merge %d is ticked though it was not selected", m2.ID)
		}
		if d, err := e.eng.MergeDetails(context.Background(), acmeAdmin, m1.ID, 1); err != nil || d.Merge.State != usermerge.StateActive {
			t.Errorf("merge %d after the refused revert: %v, %v", m1.ID, d.Merge.State, err)
		}
		// Both together are allowed (newest first); success ticks nothing.
		a = c.post("/ui/t/acme/merges/revert", url.Values{"csrf_token": {csrf}, "merge": {fmt.Sprint(m1.ID), fmt.Sprint(m2.ID)}, "back": {back}})
		if strings.Contains(a.location, "ticked") {
			t.Errorf("a successful revert goes back to %q", a.location)
		}
		mustContain(t, "after the revert", c.follow(a).body, `class="msg ok"`)
	})
}

// TestUIMergeListReasonAndOperation: the list shows each merge's reason and
// operation, and lists an operation's merges together.
func TestUIMergeListReasonAndOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		single := uiMerge(t, e, usermerge.MergeRequest{Target: "E1", Sources: []string{"E2"}})[0]
		both := uiMerge(t, e, usermerge.MergeRequest{Target: "T", Sources: []string{"S2", "S3"}, Reason: "one person, three sign-ups"})
		c := e.uiClient()
		c.signIn("admin")
		list := c.get("/ui/t/acme/merges")
		opURL := fmt.Sprintf("/ui/t/acme/merges?operation=%d&amp;state=all", both[0].OperationID)
		mustContain(t, "the list", list.body, "<th scope=\"col\">Reason</th>", "one person, three sign-ups", "none given",
			fmt.Sprintf(`href="%s"`, opURL), fmt.Sprintf("operation %d</a>", single.OperationID))
		op := c.get(fmt.Sprintf("/ui/t/acme/merges?operation=%d&state=all", both[0].OperationID))
		mustContain(t, "one operation", op.body, `id="operation-filter"`, "2 merges", fmt.Sprintf(`id="merge-%d"`, both[0].ID), fmt.Sprintf(`id="merge-%d"`, both[1].ID),
			fmt.Sprintf(`name="operation" value="%d"`, both[0].OperationID))
		mustLack(t, "one operation", op.body, fmt.Sprintf(`id="merge-%d"`, single.ID))
		details := c.get(fmt.Sprintf("/ui/t/acme/merges/%d", both[1].ID))
		mustContain(t, "the details", details.body, `id="operation-link"`, opURL)
		if bad := c.get("/ui/t/acme/merges?operation=x"); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "an operation is a number") {
			t.Errorf("operation=x: %d", bad.status)
		}
	})
}

// TestUIAccountsActivateSaysWhy: a merged account offers no Activate
// button but says why and offers its merge's revert; an inactive account
// that may be activated keeps its button; the server still refuses.
func TestUIAccountsActivateSaysWhy(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		e := newEnv(t)
		m := uiMerge(t, e, usermerge.MergeRequest{Target: "T", Sources: []string{"S"}})[0]
		if _, err := e.eng.Deactivate(context.Background(), acmeAdmin, "S3"); err != nil {
			t.Fatal(err)
		}
		c := e.uiClient()
		csrf := c.signIn("admin")
		page := c.get("/ui/t/acme/accounts")
		row := func(login string) string {
			t.Helper()
			i := strings.Index(page.body, `data-login="`+login+`"`)
			if i < 0 {
				t.Fatalf("no row for %s:\n%s", login, page.body)
			}
			end := strings.Index(page.body[i:], "</tr>")
			return page.body[i : i+end]
		}
		merged := row("s.login")
		mustLack(t, "the merged account's row", merged, "/accounts/S/activate", ">Activate<")
		mustContain(t, "the merged account's row", merged, `id="why-S"`, "Cannot be activated:", "merged into t.login", fmt.Sprintf("merge %d", m.ID),
			fmt.Sprintf(`href="/ui/t/acme/merges?revert=%d"`, m.ID))
		mustContain(t, "the inactive account's row", row("s3.login"), "/accounts/S3/activate", "Activate s3.login")
		mustLack(t, "the inactive account's row", row("s3.login"), "Cannot be activated")
		mustContain(t, "the active account's row", row("t.login"), "Deactivate")

		// The server refuses the post all the same.
		a := c.post("/ui/t/acme/accounts/S/activate", url.Values{"csrf_token": {csrf}, "back": {"/ui/t/acme/accounts"}})
		mustContain(t, "activating the merged account", c.follow(a).body, `class="msg error"`, fmt.Sprintf("Revert merge %d", m.ID))
		if acc, err := e.eng.AccountInfo(context.Background(), acmeAdmin, "S"); err != nil || acc.Status == usermerge.Active || acc.MergedInto != "T" {
			t.Errorf("S after the refused activation: %+v, %v", acc.Account, err)
		}
		// Where the tenant allows no reverts, the reason stays and the
		// revert link goes.
		if _, err := e.eng.UpdateSettings(context.Background(), acmeAdmin, engine.SettingsChange{Set: map[string]string{"revert_allowed": "false"}, ConfirmIrreversible: true}); err != nil {
			t.Fatal(err)
		}
		page = c.get("/ui/t/acme/accounts")
		mustContain(t, "S without reverts", row("s.login"), "Cannot be activated:")
		mustLack(t, "S without reverts", row("s.login"), "merges?revert=")
		// Reverted, S may be activated like any other account.
		if _, err := e.eng.UpdateSettings(context.Background(), acmeAdmin, engine.SettingsChange{Set: map[string]string{"revert_allowed": "true"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Revert(context.Background(), acmeAdmin, []int64{m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Deactivate(context.Background(), acmeAdmin, "S"); err != nil {
			t.Fatal(err)
		}
		page = c.get("/ui/t/acme/accounts")
		mustContain(t, "S after the revert", row("s.login"), "/accounts/S/activate")
		mustLack(t, "S after the revert", row("s.login"), "Cannot be activated")
	})
}
