package server

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/match"
)

// The Likely duplicates screen over plain HTTP, on the demo data.

var hrefs = regexp.MustCompile(`href="([^"]+)"`)

// demoSignIn signs a demo administrator in to acme through the form and
// answers the session's CSRF token.
func (c *uiClient) demoSignIn(login string) string {
	c.t.Helper()
	form := c.get("/ui/signin")
	a := c.post("/ui/signin", url.Values{"csrf_token": {csrfOf(c.t, form.body)}, "tenant": {"acme"}, "login": {login}, "password": {demo.DemoPassword}})
	if a.status != http.StatusSeeOther {
		c.t.Fatalf("sign in %s: status %d", login, a.status)
	}
	return csrfOf(c.t, c.get("/ui/t/acme/merges").body)
}

func TestUIDuplicates(t *testing.T) {
	e := newDupEnv(t)
	ctx := context.Background()
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	page, err := e.eng.Suggestions(ctx, admin, usermerge.SuggestionFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	ui := e.uiClient()
	csrf := ui.demoSignIn("admin")

	q := ui.get("/ui/t/acme/duplicates")
	if q.status != http.StatusOK {
		t.Fatalf("the queue: %d\n%s", q.status, q.body)
	}
	for _, want := range []string{"Likely duplicates", `aria-current="page">All <span class="n-badge">` + fmt.Sprint(page.Total),
		fmt.Sprintf(`Certain <span class="n-badge">%d`, page.Counts[match.GradeCertain]), "Run detection", "keep", "Open as merge", "Not the same person"} {
		if !strings.Contains(q.body, want) {
			t.Errorf("the queue lacks %q", want)
		}
	}
	if strings.Contains(q.body, `id="stale"`) {
		t.Errorf("the queue says the data changed right after a run")
	}

	// The grade filter shows that grade only.
	f := ui.get("/ui/t/acme/duplicates?grade=possible")
	if n := strings.Count(f.body, `class="pill grade-`); n != page.Counts[match.GradePossible] || strings.Contains(f.body, "pill grade-certain") {
		t.Errorf("grade=possible shows %d suggestions (certain among them: %v), want %d", n, strings.Contains(f.body, "pill grade-certain"), page.Counts[match.GradePossible])
	}
	if a := ui.get("/ui/t/acme/duplicates?grade=nope"); a.status != http.StatusBadRequest {
		t.Errorf("grade=nope: %d, want 400", a.status)
	}

	// "Open as merge" carries the kept account as the target and the others
	// as sources, to the preview; the link leads to a merge preview.
	sg := page.Suggestions[0]
	want := url.Values{"keep": {sg.Keep}, "step": {"preview"}}
	for _, a := range sg.Accounts[1:] {
		want.Add("src", a.ID)
	}
	link := ""
	for _, m := range hrefs.FindAllStringSubmatch(q.body, -1) {
		if strings.Contains(m[1], "/merge?") && strings.Contains(html.UnescapeString(m[1]), "keep="+sg.Keep+"&") {
			link = html.UnescapeString(m[1])
			break
		}
	}
	if link == "" {
		t.Fatalf("no Open as merge link for suggestion %d", sg.ID)
	}
	u, _ := url.Parse(link)
	got := u.Query()
	for k, v := range want {
		if strings.Join(got[k], ",") != strings.Join(v, ",") {
			t.Errorf("Open as merge: %s = %v, want %v (%s)", k, got[k], v, link)
		}
	}
	if pv := ui.get(link); pv.status != http.StatusOK || !strings.Contains(pv.body, `id="preview" `) {
		t.Errorf("the merge screen from Open as merge: %d, no preview", pv.status)
	}

	// The explanation page: every pair, each field with its outcome in words.
	d := ui.get(fmt.Sprintf("/ui/t/acme/duplicates/%d", sg.ID))
	if d.status != http.StatusOK {
		t.Fatalf("explanation: %d", d.status)
	}
	for _, p := range sg.Pairs {
		for _, ev := range p.Evidence {
			if !strings.Contains(d.body, ">"+html.EscapeString(usermerge.MatchFieldLabel(ev.Field))+"<") {
				t.Errorf("the explanation lacks the field %s", ev.Field)
			}
		}
	}
	if !strings.Contains(d.body, "Agreed") {
		t.Errorf("the explanation names no agreed field")
	}

	// Dismissing: a confirmation page, then a POST that needs the CSRF token.
	conf := ui.get(fmt.Sprintf("/ui/t/acme/duplicates/%d/dismiss", sg.ID))
	if conf.status != http.StatusOK || !strings.Contains(conf.body, "Not the same person?") {
		t.Fatalf("the dismissal's confirmation: %d", conf.status)
	}
	before := e.dupSnapshot()
	path := fmt.Sprintf("/ui/t/acme/duplicates/%d/dismiss", sg.ID)
	if a := ui.post(path, url.Values{"csrf_token": {"wrong"}}); a.status != http.StatusForbidden {
		t.Errorf("dismiss with a wrong CSRF token: %d, want 403", a.status)
	}
	if a := ui.post(path, url.Values{}); a.status != http.StatusForbidden {
		t.Errorf("dismiss without a CSRF token: %d, want 403", a.status)
	}
	if diff := cmpSnapshots(before, e.dupSnapshot()); diff != "" {
		t.Errorf("a refused dismissal changed the database:\n%s", diff)
	}
	done := ui.follow(ui.post(path, url.Values{"csrf_token": {csrf}, "back": {"/ui/t/acme/duplicates"}}))
	if !strings.Contains(done.body, fmt.Sprintf("Dismissed suggestion %d", sg.ID)) || strings.Contains(done.body, fmt.Sprintf(`id="dup-%d"`, sg.ID)) {
		t.Errorf("after dismissing: no message, or the suggestion is still listed")
	}
	ds, err := e.eng.Dismissals(ctx, admin, 10, 0)
	if err != nil || len(ds) == 0 || ds[0].By != "admin" {
		t.Errorf("dismissals after the UI's: %+v %v", ds, err)
	}

	// A run from the button: the page shows it, and a viewer gets no button.
	before = e.dupSnapshot()
	if a := ui.post("/ui/t/acme/duplicates/runs", url.Values{"full": {"1"}}); a.status != http.StatusForbidden {
		t.Errorf("start a run without CSRF: %d, want 403", a.status)
	}
	if diff := cmpSnapshots(before, e.dupSnapshot()); diff != "" {
		t.Errorf("a refused run changed the database:\n%s", diff)
	}
	r := ui.follow(ui.post("/ui/t/acme/duplicates/runs", url.Values{"csrf_token": {csrf}, "full": {"1"}}))
	if !strings.Contains(r.body, "Detection run 2") {
		t.Errorf("after starting a run the queue does not name it:\n%s", r.body)
	}
	// A run in progress: a progress bar the script follows, and a refresh
	// link without it; the button waits for the run.
	for i := 0; i < 600; i++ { // the button's run, in the background
		if r, err := e.eng.DetectionRun(ctx, admin, 0); err != nil || r.Status != usermerge.RunRunning {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	run, err := e.eng.StartDetection(ctx, admin, engine.DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running := ui.get("/ui/t/acme/duplicates")
	for _, want := range []string{`id="run-progress"`, `id="run-refresh"`, fmt.Sprintf(`data-run-poll="/api/v1/tenants/acme/duplicates/runs/%d"`, run.ID), "is running"} {
		if !strings.Contains(running.body, want) {
			t.Errorf("while a run is running, the queue lacks %s", want)
		}
	}
	if !regexp.MustCompile(`id="run-detection" disabled`).MatchString(running.body) {
		t.Errorf("Run detection is offered while a run is running")
	}
	if _, err := e.eng.RunDetection(ctx, admin, run.ID, nil); err != nil {
		t.Fatal(err)
	}
	if done := ui.get("/ui/t/acme/duplicates"); strings.Contains(done.body, `id="run-progress"`) || strings.Contains(done.body, `id="stale"`) {
		t.Errorf("after the run: a progress bar or the data-changed note is still shown")
	}

	// A merge changes the data: the queue says so.
	merged := false
	for _, s := range page.Suggestions[1:] {
		if _, err := e.eng.Merge(ctx, admin, usermerge.MergeRequest{TenantID: "acme", Target: s.Keep, Sources: []string{s.Accounts[1].ID}}); err == nil {
			merged = true
			break
		}
	}
	if !merged {
		t.Fatal("no suggestion of the demo could be merged")
	}
	if st := ui.get("/ui/t/acme/duplicates"); !strings.Contains(st.body, `id="stale"`) || !strings.Contains(st.body, "The data changed since the last run") {
		t.Errorf("after a merge the queue does not say the data changed")
	}

	viewer := e.uiClient()
	viewer.demoSignIn("eng-viewer")
	if v := viewer.get("/ui/t/acme/duplicates"); strings.Contains(v.body, `id="run-detection"`) || strings.Contains(v.body, "Open as merge") {
		t.Errorf("a viewer is offered Run detection or Open as merge")
	}
}

func TestUIMatchingRules(t *testing.T) {
	e := newDupEnv(t)
	ui := e.uiClient()
	csrf := ui.demoSignIn("admin")
	s := ui.get("/ui/t/acme/settings")
	if !strings.Contains(s.body, "Matching rules") || !strings.Contains(s.body, `id="field-name"`) {
		t.Fatalf("settings lack the matching rules")
	}
	form := url.Values{"csrf_token": {csrf}, "field": {"name", "email", "birth_date"}, "certain": {"0.999"}, "probable": {"0.99"},
		"possible": {"0.6"}, "max_block": {"200"}}
	before := e.dupSnapshot()
	form.Set("action", "preview")
	p := ui.post("/ui/t/acme/settings/matching", form)
	if p.status != http.StatusOK || !strings.Contains(p.body, "What these rules would change") || !strings.Contains(p.body, "Nothing has been saved yet") {
		t.Fatalf("preview: %d\n%s", p.status, p.body)
	}
	if diff := cmpSnapshots(before, e.dupSnapshot()); diff != "" {
		t.Errorf("a preview changed the database:\n%s", diff)
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("possible", "0.999")
	bad.Set("action", "save")
	if a := ui.post("/ui/t/acme/settings/matching", bad); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Nothing was saved") || !strings.Contains(a.body, `value="0.999"`) {
		t.Errorf("saving thresholds out of order: %d, want 422 with the form as typed", a.status)
	}
	bad.Set("possible", "lots")
	if a := ui.post("/ui/t/acme/settings/matching", bad); a.status != http.StatusUnprocessableEntity {
		t.Errorf("a threshold that is no number: %d, want 422", a.status)
	}
	form.Set("action", "save")
	ui.follow(ui.post("/ui/t/acme/settings/matching", form))
	rules, err := e.eng.MatchingRules(context.Background(), engine.Caller{Tenant: "acme", Admin: "admin"})
	if err != nil || rules.Probable != 0.99 || len(rules.Fields) != 3 {
		t.Errorf("saved rules: %+v %v", rules, err)
	}
	editor := e.uiClient()
	ecsrf := editor.demoSignIn("sales-editor")
	form.Set("csrf_token", ecsrf)
	form.Set("probable", "0.97")
	a := editor.post("/ui/t/acme/settings/matching", form)
	if a.status == http.StatusSeeOther {
		a = editor.follow(a)
	}
	if rules, _ := e.eng.MatchingRules(context.Background(), engine.Caller{Tenant: "acme", Admin: "admin"}); rules.Probable != 0.99 {
		t.Errorf("a group manager changed the rules: %+v", rules)
	}
	if !strings.Contains(a.body, "only a tenant administrator") {
		t.Errorf("a group manager's save does not say why it was refused")
	}
}

// TestOpenAsMergeURL: the kept account is the target and every other one a
// source, up to what one merge takes, at the preview.
func TestOpenAsMergeURL(t *testing.T) {
	for _, n := range []int{2, 3, usermerge.MaxSources + 1, usermerge.MaxSources + 3} {
		sg := usermerge.DuplicateSuggestion{ID: 7, Grade: match.GradeProbable, Keep: "k"}
		sg.Accounts = append(sg.Accounts, usermerge.AccountSummary{Account: usermerge.Account{ID: "k"}})
		var want []string
		for i := 1; i < n; i++ {
			id := fmt.Sprintf("s%d", i)
			sg.Accounts = append(sg.Accounts, usermerge.AccountSummary{Account: usermerge.Account{ID: id}})
			if len(want) < usermerge.MaxSources {
				want = append(want, id)
			}
		}
		u, err := url.Parse(openAsMergeURL("/ui/t/acme", sg, true))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Path != "/ui/t/acme/merge" || q.Get("keep") != "k" || q.Get("step") != "preview" || q.Get("ext") != "1" ||
			strings.Join(q["src"], ",") != strings.Join(want, ",") || !strings.Contains(q.Get("reason"), "suggestion 7") {
			t.Errorf("%d accounts: %s", n, u)
		}
	}
}
