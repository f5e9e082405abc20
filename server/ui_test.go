package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"usermerge"
	"usermerge/demo"
	"usermerge/engine"
	"usermerge/store"
)

// The browser tests drive the admin UI in Debian's Chromium, as a person
// would, against the real server on a temporary SQLite database holding the
// demo data. They skip when Chromium is missing, except in CI, where they
// fail. Every screen is saved at desktop and phone width: under
// testoutput/screenshots/ at the repository root when USERMERGE_SCREENSHOTS
// is set, else in a temporary directory.

var uiNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// browserEnv is one server and one browser shared by the subtests.
type browserEnv struct {
	t       *testing.T
	db      *store.DB
	eng     *engine.Engine
	base    string
	shots   string
	browser context.Context
	mu      sync.Mutex
	foreign []string // requests to anywhere but the server
	saved   []string
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	chromiumPath := chromium(t) // skips, or fails in CI, without one
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "ui.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return uiNow }
	sum, err := demo.Load(ctx, db, demo.Options{Seed: 1, Now: uiNow})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, nil)
	for _, tn := range sum.Tenants {
		for _, a := range tn.Admins {
			if err := eng.SetPassword(ctx, tn.ID, a.Login, demo.DemoPassword); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(New(Config{Engine: eng}).Handler())
	t.Cleanup(srv.Close)

	e := &browserEnv{t: t, db: db, eng: eng, base: srv.URL, shots: t.TempDir()}
	if os.Getenv("USERMERGE_SCREENSHOTS") != "" {
		e.shots = filepath.Join("..", "testoutput", "screenshots")
		if err := os.MkdirAll(e.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	e.browser = browser
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.foreign) > 0 {
			t.Errorf("pages loaded from outside the server: %v", e.foreign)
		}
		t.Logf("screenshots in %s:\n  %s", e.shots, strings.Join(e.saved, "\n  "))
	})
	return e
}

// person is one browser profile (its own cookies) in one tab.
type person struct {
	t   *testing.T
	e   *browserEnv
	ctx context.Context
}

func (e *browserEnv) person(t *testing.T) *person {
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext(),
		chromedp.WithListener(func(ev any) {
			if r, ok := ev.(*network.EventRequestWillBeSent); ok {
				u := r.Request.URL
				if !strings.HasPrefix(u, e.base+"/") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
					e.mu.Lock()
					e.foreign = append(e.foreign, u)
					e.mu.Unlock()
				}
			}
		}))
	t.Cleanup(cancel)
	// The first action on a context opens its tab, which lives as long as
	// that action's context: so no timeout here.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &person{t: t, e: e, ctx: ctx}
}

// fail saves what the browser shows and stops the test.
func (p *person) fail(format string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		name := filepath.Join(p.e.shots, "FAILED-"+strings.ReplaceAll(p.t.Name(), "/", "_")+".png")
		if os.WriteFile(name, buf, 0o644) == nil {
			args = append(args, name)
			format += " (screen saved in %s)"
		}
	}
	p.t.Fatalf(format, args...)
}

func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("browser: %v", err)
	}
}

// open loads a page of the server.
func (p *person) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.e.base + path))
}

// press clicks what a CSS selector names and waits for the page it leads to.
func (p *person) press(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.fail("press %s: %v", sel, err)
	}
	if resp.Status >= 500 {
		p.fail("press %s: status %d", sel, resp.Status)
	}
}

func (p *person) waitFor(sel string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (p *person) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fail("text of %s: %v", sel, err)
	}
	return s
}

// count counts the elements a CSS selector names, without waiting.
func (p *person) count(sel string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		p.fail("count %s: %v", sel, err)
	}
	return n
}

func (p *person) path() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.fail("location: %v", err)
	}
	return strings.TrimPrefix(loc, p.e.base)
}

func (p *person) contains(sel string, want ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, w := range want {
		if !strings.Contains(strings.ToLower(got), strings.ToLower(w)) { // CSS may upper-case headings
			p.fail("%s says %q; want it to contain %q", sel, got, w)
		}
	}
}

func (p *person) absent(sel string) {
	p.t.Helper()
	if n := p.count(sel); n > 0 {
		p.fail("%d elements match %s; want none", n, sel)
	}
}

// overflow names the elements that reach beyond the window's right edge.
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return out;
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && r.width > 0 && !el.closest(".table-wrap, dialog:not([open])"))
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""));
    if (out.length > 8) break;
  }
  return out;
})()`

// unlabelledJS names the visible form controls that have no label.
const unlabelledJS = `(() => {
  const out = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || el.closest("dialog:not([open])")) continue;
    if (el.labels.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
      out.push(el.tagName.toLowerCase() + "[name=" + el.name + "]");
  }
  return out;
})()`

// shot saves the screen at desktop (1280×800) and phone (390×844) width,
// and fails when the phone layout is wider than the phone. A screen with an
// open modal dialog is saved as the window shows it; others as a full page.
func (p *person) shot(name string) {
	p.t.Helper()
	modal, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.querySelector("dialog:modal") !== null`))
	if err != nil {
		p.fail("screenshot %s: %v", name, err)
	}
	if bare, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](unlabelledJS)); err != nil || len(bare) > 0 {
		p.fail("%s: form controls without a label: %v %v", name, bare, err)
	}
	capture := chromedp.FullScreenshot(100)
	if modal {
		capture = chromedp.CaptureScreenshot()
	}
	save := func(suffix string) {
		buf, err := chromedp.Run(p.ctx, capture)
		if err != nil {
			p.fail("screenshot %s: %v", name, err)
		}
		file := filepath.Join(p.e.shots, name+"-"+suffix+".png")
		if err := os.WriteFile(file, buf, 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.e.mu.Lock()
		p.e.saved = append(p.e.saved, file)
		p.e.mu.Unlock()
	}
	save("desktop")
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	wide, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](overflowJS))
	if err != nil {
		p.fail("measure %s: %v", name, err)
	}
	save("phone")
	p.do(chromedp.EmulateViewport(1280, 800))
	if len(wide) > 0 {
		p.fail("%s is wider than a 390 px phone screen; too wide: %v", name, wide)
	}
}

// signIn signs login in to acme from the sign-in page.
func (p *person) signIn(login string) {
	p.t.Helper()
	p.open("/ui/signin")
	p.fillSignIn("acme", login)
}

// fillSignIn fills in and sends the sign-in form on the current page.
func (p *person) fillSignIn(tenant, login string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.ID("tenant"), tenant), chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), demo.DemoPassword))
	p.press(`form.form button[type="submit"]`)
	p.waitFor("nav.sections")
}

func TestBrowserUI(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := context.Background()
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	merge := func(target string, sources ...string) int64 {
		t.Helper()
		ms, err := e.eng.Merge(ctx, admin, usermerge.MergeRequest{TenantID: "acme", Target: target, Sources: sources})
		if err != nil {
			t.Fatal(err)
		}
		return ms[0].ID
	}

	t.Run("tenant administrator merges and reverts", func(t *testing.T) {
		before := map[string]usermerge.AccountSummary{}
		for _, login := range []string{"maria.garcia", "mgarcia"} {
			a, err := e.eng.AccountInfo(ctx, admin, login)
			if err != nil {
				t.Fatal(err)
			}
			before[login] = a
		}
		p := e.person(t)
		p.open("/")
		if got := p.path(); !strings.HasPrefix(got, "/ui/signin") {
			t.Fatalf("/ leads to %s; want the sign-in page", got)
		}
		p.shot("01-signin")
		p.signIn("admin")
		if got := p.path(); got != "/ui/t/acme/merge" {
			t.Fatalf("after sign-in: at %s; want the merge screen", got)
		}
		if n := p.count("#tenant-switch option"); n != 0 {
			t.Fatalf("signed in to acme only, the tenant switcher offers %d tenants; want none", n)
		}
		p.shot("02-merge-screen")

		// Search as you type finds the duplicate pair.
		p.do(chromedp.SendKeys(chromedp.ID("q"), "garcia"))
		p.waitFor(`#browse-list li[data-login="mgarcia"]`)
		p.waitFor(`#browse-list li[data-login="maria.garcia"]`)
		p.shot("03-merge-search")

		p.press(`li[data-login="mgarcia"] button[name="info"]`)
		p.waitFor("#info-box")
		p.contains("#info-box", "mgarcia", "Sales East", "Sales representative", "Active", "Sign-ins", "Badges")
		p.shot("04-merge-info")
		p.press("#info-box .modal-foot a")

		// The first pick is kept, the next is to merge; swap them.
		p.press(`li[data-login="mgarcia"] button[name="add"]`)
		p.contains("#keep-account .acct-login", "mgarcia")
		p.press(`li[data-login="maria.garcia"] button[name="add"]`)
		p.contains("#merge-accounts .acct-login", "maria.garcia")
		p.shot("05-merge-selected")
		p.press(`#merge-accounts button[name="swap"]`)
		if keep, src := p.text("#keep-account .acct-login"), p.text("#merge-accounts .acct-login"); keep != "maria.garcia" || src != "mgarcia" {
			p.fail("after the swap: keep %q, merge %q; want maria.garcia kept and mgarcia to merge", keep, src)
		}
		p.shot("06-merge-swapped")

		// Side by side before the preview: the same person, by the data.
		p.waitFor("#compare")
		p.contains("#compare", "maria.garcia and mgarcia", "Keep: maria.garcia", "Merge: mgarcia", "Last sign-in", "Groups", "Badges")
		p.shot("06b-merge-compare")

		p.do(chromedp.Click(chromedp.ID("ext")))
		p.press("#preview-btn")
		p.waitFor("#preview")
		p.contains("#preview", "Nothing has been changed", "External IDs: move", "Badges", "mgarcia (Maria Garcia) into maria.garcia")
		p.shot("07-merge-preview")

		p.press("#merge-btn")
		p.waitFor("#confirm-merge")
		p.contains("#confirm-merge", "mgarcia (Maria Garcia)", "maria.garcia (María García)", "allows reverting", "External IDs move")
		p.contains("#confirm-warnings", "still active")
		p.absent("#confirm-login")
		p.shot("08-merge-confirm")
		p.press("#confirm-merge-btn")
		p.contains("#flash", "Merged into maria.garcia")
		p.shot("09-merged")
		merged, err := e.eng.ListMerges(ctx, admin, usermerge.MergeFilter{Source: "mgarcia", Page: 1, PerPage: 10})
		if err != nil || len(merged.Merges) != 1 || !merged.Merges[0].MoveExternalIDs {
			t.Fatalf("after the merge: %+v, %v; want one merge of mgarcia that moved external IDs", merged, err)
		}
		id := merged.Merges[0].ID

		// Find it in the list by the source's name.
		p.do(chromedp.SendKeys(chromedp.ID("source"), "Maria Garcia"))
		p.press(`form.filters button[type="submit"]`)
		if n := p.count(`table.merges-table tbody tr[id^="merge-"]`); n != 1 {
			p.fail("searching the source Maria Garcia lists %d merges; want 1", n)
		}
		row := fmt.Sprintf("#merge-%d", id)
		p.contains(row, "mgarcia", "maria.garcia", "Active", "admin")
		p.shot("10-merge-list-search")

		p.press(row + ` a[href$="/merges/` + fmt.Sprint(id) + `"]`)
		p.contains("#summary-panel", "Badge details", "Sign-in details", "Score details", "External IDs")
		p.shot("11-details-summary")
		p.press(`nav.kind-tabs a[href$="tab=badge"]`)
		p.contains("#kind-panel", "Badge details", "Acquired before merge", "Acquired after merge", "Combined", "Moved", "Retired")
		p.shot("12-details-badges")
		p.press(`nav.kind-tabs a[href$="tab=signin"]`)
		p.contains("#kind-panel", "Sign-in details", "Moved", "IP address")
		p.shot("13-details-signins")
		p.press(`nav.kind-tabs a[href$="tab=attempt"]`)
		p.contains("#kind-panel", "Score details", "Changed", "Attempt 1 → 2")
		p.shot("14-details-scores")

		// Revert it from the list.
		p.open("/ui/t/acme/merges?source=Maria+Garcia")
		p.do(chromedp.Click(chromedp.ID(fmt.Sprintf("sel-%d", id))))
		p.press("#revert-selected")
		p.waitFor("#confirm-revert")
		p.contains("#confirm-revert", "mgarcia", "maria.garcia")
		p.shot("15-revert-confirm")
		p.press("#confirm-revert-btn")
		p.contains("#flash", fmt.Sprintf("Reverted merge %d", id))
		p.contains(row, "Reverted")
		p.shot("16-merge-list-reverted")
		p.open(fmt.Sprintf("/ui/t/acme/merges/%d", id))
		p.contains("#revert-report", "Reverted by admin")
		p.contains("#merge-state", "Reverted")
		p.shot("17-details-reverted")

		// The accounts are as before.
		p.open("/ui/t/acme/accounts?q=garcia")
		p.contains(`tr[data-login="mgarcia"]`, "Active")
		p.contains(`tr[data-login="maria.garcia"]`, "Active")
		p.shot("18-accounts")
		for login, was := range before {
			now, err := e.eng.AccountInfo(ctx, admin, login)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(was, now); diff != "" {
				t.Errorf("%s after merge and revert (-before +after):\n%s", login, diff)
			}
		}
	})

	t.Run("activating a merged source and deleting a target", func(t *testing.T) {
		id := merge("robert.johnson", "bob.johnson")
		p := e.person(t)
		p.signIn("admin")
		p.open("/ui/t/acme/accounts?q=johnson")
		p.contains(`tr[data-login="bob.johnson"]`, "Merged", fmt.Sprintf("see merge %d", id))
		// No Activate button where it would be refused: the row says why,
		// and offers the merge's revert instead.
		p.absent(`tr[data-login="bob.johnson"] form[action$="/activate"]`)
		p.contains(`tr[data-login="bob.johnson"] .why-not`, "Cannot be activated", "was merged into robert.johnson",
			fmt.Sprintf("by merge %d on %s", id, uiNow.Format("2006-01-02")), fmt.Sprintf("Revert merge %d to use this account again", id), "Revert that merge")
		p.shot("19-accounts-activate-refused")
		// The server refuses all the same, with the same reason.
		bob, err := e.eng.AccountInfo(ctx, admin, "bob.johnson")
		if err != nil {
			t.Fatal(err)
		}
		page, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch("/ui/t/acme/accounts/%s/activate", {method: "POST",
			body: new URLSearchParams({csrf_token: document.querySelector("form.signout input[name=csrf_token]").value, back: "/ui/t/acme/accounts?q=johnson"})}).then(r => r.text())`, bob.ID),
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page, fmt.Sprintf("Revert merge %d to use this account again", id)) {
			t.Errorf("activating bob.johnson by a posted form was not refused with the reason; the answer was:\n%.2000s", page)
		}
		if now, _ := e.eng.AccountInfo(ctx, admin, "bob.johnson"); now.Status == usermerge.Active || now.MergedInto == "" {
			t.Errorf("bob.johnson after the refused activation: %+v", now.Account)
		}
		p.open("/ui/t/acme/accounts?q=johnson")
		p.press(`tr[data-login="bob.johnson"] .why-not a.revert-link`)
		p.waitFor("#confirm-revert")
		p.contains("#confirm-revert", "bob.johnson", "robert.johnson")
		p.press("#confirm-revert a.btn") // Cancel: this subtest deletes the target next
		p.open("/ui/t/acme/accounts?q=johnson")

		p.press(`tr[data-login="robert.johnson"] a[href*="/delete"]`)
		p.contains("#delete-warning", "robert.johnson holds the data of 1 merged account")
		p.shot("20-accounts-delete-warning")
		p.press(`form.actions a.btn`)
		p.contains(`tr[data-login="robert.johnson"]`, "Active")
	})

	t.Run("choosing a merged account's email, then reverting", func(t *testing.T) {
		info := func(login string) usermerge.AccountSummary {
			t.Helper()
			a, err := e.eng.AccountInfo(ctx, admin, login)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		keep, src := info("katherine.lee"), info("klee")
		if keep.Email == src.Email || src.Email == "" {
			t.Fatalf("the demo's katherine.lee <%s> and klee <%s> need different emails", keep.Email, src.Email)
		}
		p := e.person(t)
		p.signIn("admin")
		p.open("/ui/t/acme/merge?keep=" + keep.ID + "&src=" + src.ID)
		p.waitFor("#profile-choice")
		p.contains("#profile-choice summary", "Name and email to keep", "the kept account's own")
		p.do(chromedp.Click(chromedp.CSS("#profile-choice summary")))
		p.waitFor("#pf-email-" + src.ID)
		p.contains("#profile-choice", "Name", "Email", keep.Email, src.Email, "kept account's own (katherine.lee)", "from klee")
		p.shot("30-profile-choice")
		p.do(chromedp.Click(chromedp.ID("pf-email-" + src.ID)))
		p.press("#preview-btn")
		p.waitFor("#preview")
		if got := p.path(); !strings.Contains(got, "pf_email="+src.ID) {
			p.fail("the merge screen's URL %s does not hold the choice of email", got)
		}
		p.contains("#profile-changes", "Email", keep.Email, src.Email, "klee")
		p.shot("31-profile-preview")
		p.press("#merge-btn")
		p.waitFor("#confirm-merge")
		p.contains("#confirm-merge #profile-changes", "Email", keep.Email, src.Email)
		p.shot("32-profile-confirm")
		p.press("#confirm-merge-btn")
		p.contains("#flash", "Merged into katherine.lee")
		if now := info("katherine.lee"); now.Email != src.Email || now.Name != keep.Name {
			t.Fatalf("kept account after the merge: %s <%s>; want %s <%s>", now.Name, now.Email, keep.Name, src.Email)
		}
		merged, err := e.eng.ListMerges(ctx, admin, usermerge.MergeFilter{Source: "klee", Page: 1, PerPage: 10})
		if err != nil || len(merged.Merges) != 1 {
			t.Fatalf("merges of klee: %+v, %v", merged, err)
		}
		id := merged.Merges[0].ID
		p.open(fmt.Sprintf("/ui/t/acme/merges/%d", id))
		p.contains("#profile-details", "Profile values taken from klee", "Email", keep.Email, src.Email)
		p.shot("33-profile-details")

		p.open("/ui/t/acme/merges?source=klee")
		p.do(chromedp.Click(chromedp.ID(fmt.Sprintf("sel-%d", id))))
		p.press("#revert-selected")
		p.press("#confirm-revert-btn")
		p.contains("#flash", fmt.Sprintf("Reverted merge %d", id))
		if now := info("katherine.lee"); now.Email != keep.Email {
			t.Errorf("kept account's email after the revert: %s; want %s back", now.Email, keep.Email)
		}
		p.open(fmt.Sprintf("/ui/t/acme/merges/%d", id))
		p.contains("#profile-details", "gave back the values from before the merge")
		p.shot("34-profile-details-reverted")
	})

	t.Run("a refused revert shows its reason and keeps the selection", func(t *testing.T) {
		first := merge("katherine.lee", "kate.lee")
		second := merge("katherine.lee", "klee")
		checked := func(p *person, id int64) bool {
			t.Helper()
			on, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById("sel-%d").checked`, id)))
			if err != nil {
				p.fail("box of merge %d: %v", id, err)
			}
			return on
		}
		p := e.person(t)
		p.signIn("admin")
		p.open("/ui/t/acme/merges?target=katherine.lee")
		p.contains(fmt.Sprintf("#merge-%d", first), "operation")
		p.do(chromedp.Click(chromedp.ID(fmt.Sprintf("sel-%d", first))))
		p.press("#revert-selected")
		p.press("#confirm-revert-btn")
		p.contains("#flash", fmt.Sprintf("merge %d", first), fmt.Sprintf("later merge %d", second), fmt.Sprintf("revert merge %d first", second))
		p.contains(fmt.Sprintf("#merge-%d", first), "Active")
		if !checked(p, first) || checked(p, second) {
			p.fail("after the refused revert: merge %d ticked %v, merge %d ticked %v; want only the one selected", first, checked(p, first), second, checked(p, second))
		}
		p.shot("21-revert-refused")

		// Select all on this page ticks both without a reload; then
		// both revert together, newest first.
		p.do(chromedp.Click(chromedp.ID("select-all")))
		if !checked(p, first) || !checked(p, second) {
			p.fail("select all left a box unticked")
		}
		p.contains("#select-all", "Clear selection")
		p.shot("21b-merge-list-select-all")
		p.do(chromedp.Click(chromedp.ID("select-all")))
		if checked(p, first) || checked(p, second) {
			p.fail("clear selection left a box ticked")
		}
		p.do(chromedp.Click(chromedp.ID("select-all")))
		p.press("#revert-selected")
		p.waitFor("#confirm-revert")
		p.contains("#confirm-revert", "kate.lee", "klee")
		p.press("#confirm-revert-btn")
		p.contains("#flash", fmt.Sprintf("Reverted merges %d, %d", second, first))

		// An operation's link lists the merges it made.
		p.press(fmt.Sprintf("#merge-%d a.op-link", first))
		p.contains("#operation-filter", "Only the merges of operation")
		if n := p.count(`table.merges-table tbody tr[id^="merge-"]`); n != 1 {
			p.fail("operation of merge %d lists %d merges; want 1", first, n)
		}
		p.shot("21c-merge-list-operation")
	})

	t.Run("a details tab pages through its records", func(t *testing.T) {
		src, err := e.eng.AccountInfo(ctx, admin, "psharma")
		if err != nil {
			t.Fatal(err)
		}
		err = e.db.Transact(ctx, func(tx *store.Tx) error {
			for i := range 230 {
				if _, err := tx.Exec(ctx, `INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES ('acme', ?, ?, ?, '198.51.100.7', 'Firefox 128 on Linux')`,
					fmt.Sprintf("si-page-%04d", i), src.ID, uiNow.Add(-time.Duration(300-i)*time.Hour).UnixMilli()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		id := merge("priya.sharma", "psharma")
		d, err := e.eng.MergeDetailsPage(ctx, admin, id, usermerge.DetailsPage{Kind: usermerge.KindSignIns, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		total := d.Kinds[0].Total
		p := e.person(t)
		p.signIn("admin")
		p.open(fmt.Sprintf("/ui/t/acme/merges/%d?tab=signin", id))
		p.contains("#records-range", fmt.Sprintf("Records 1–100 of %d", total))
		p.absent("#records-prev")
		if n := p.count("#kind-panel table.records tbody tr"); n != 100 {
			p.fail("the first page lists %d sign-ins; want 100", n)
		}
		p.press("#records-next")
		p.contains("#records-range", fmt.Sprintf("Records 101–200 of %d", total))
		p.contains("#records-range-top", fmt.Sprintf("Records 101–200 of %d", total))
		p.shot("13b-details-signins-page-2")
		p.press("#records-next")
		p.contains("#records-range", fmt.Sprintf("Records 201–%d of %d", total, total))
		p.absent("#records-next")
		if n := p.count("#kind-panel table.records tbody tr"); int64(n) != total-200 {
			p.fail("the last page lists %d sign-ins; want %d", n, total-200)
		}
		p.press("#records-prev")
		p.contains("#records-range", fmt.Sprintf("Records 101–200 of %d", total))
		p.press("#records-long")
		p.contains("#records-range", fmt.Sprintf("Records 101–%d of %d", total, total))
	})

	t.Run("settings, tenant switch and sign-out", func(t *testing.T) {
		p := e.person(t)
		p.signIn("admin")
		p.open("/ui/t/acme/settings")
		p.contains("main", "learningbox preset", "Choose a preset", "Badges", "Certificates")
		p.do(chromedp.Click(chromedp.ID("credits-transfer")))
		p.press("#save-rules")
		p.contains("#flash", "own combination of rules")
		p.contains("main", "no preset (custom)")
		p.shot("22-settings")
		p.do(chromedp.Click(chromedp.ID("preset-learningbox")))
		p.press("#apply-preset")
		p.contains("#flash", "learningBOX preset")

		// Signing in to another tenant adds it to the session; the
		// switcher then goes between the two.
		p.press("#another-tenant")
		if got := p.path(); !strings.HasPrefix(got, "/ui/signin") {
			t.Fatalf("'Another tenant' leads to %s; want the sign-in page", got)
		}
		p.shot("22b-signin-another-tenant")
		p.fillSignIn("globex", "admin")
		if got := p.path(); got != "/ui/t/globex/merge" {
			t.Fatalf("after signing in to globex: at %s; want globex's merge screen", got)
		}
		p.open("/ui/t/acme/settings")
		if n := p.count("#tenant-switch option"); n != 2 {
			t.Fatalf("signed in to both tenants, the switcher offers %d; want 2", n)
		}
		p.do(chromedp.SetValue(chromedp.ID("tenant-switch"), "globex"))
		p.press(`form.switcher button`)
		if got := p.path(); got != "/ui/t/globex/settings" {
			t.Fatalf("after switching: at %s; want globex's settings", got)
		}
		globex := engine.Caller{Tenant: "globex", Admin: "admin"}
		ms, err := e.eng.Merge(ctx, globex, usermerge.MergeRequest{TenantID: "globex", Target: "smartin", Sources: []string{"sophie.martin"}})
		if err != nil {
			t.Fatal(err)
		}
		p.open("/ui/t/globex/merges")
		p.contains("#revert-note", "does not allow reverting")
		p.contains(fmt.Sprintf("#merge-%d", ms[0].ID), "sophie.martin", "Irreversible by policy")
		p.absent(`input[name="revert"]`)
		p.shot("23-globex-merge-list")
		p.open("/ui/t/globex/merge?keep=malfarsi&src=mohamed.alfarsi&step=confirm")
		p.contains("#confirm-merge", "mohamed.alfarsi", "malfarsi", "does not allow reverting: this merge cannot be undone")
		p.contains("#confirm-warnings", "still active", "the emails differ")
		off := func() bool {
			t.Helper()
			v, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.querySelector("#confirm-merge-btn").disabled`))
			if err != nil {
				p.fail("the merge button: %v", err)
			}
			return v
		}
		if !off() {
			p.fail("the irreversible merge's button works before the kept login is typed")
		}
		p.do(chromedp.SendKeys(chromedp.ID("confirm-login"), "mohamed"))
		if !off() {
			p.fail("the irreversible merge's button works with a wrong login typed")
		}
		p.shot("24-globex-merge-confirm")
		p.do(chromedp.SendKeys(chromedp.ID("confirm-login"), strings.Repeat("\b", len("mohamed"))+"malfarsi"))
		if off() {
			p.fail("the irreversible merge's button stays off with the kept login typed")
		}
		p.press("#confirm-merge a.btn") // Cancel
		p.absent("#confirm-merge")

		p.press(`form.signout button`)
		p.contains("#flash", "signed out")
		p.shot("25-signed-out")
		p.open("/ui/t/acme/merges")
		if got := p.path(); !strings.HasPrefix(got, "/ui/signin") {
			t.Fatalf("after sign-out /ui/t/acme/merges leads to %s; want the sign-in page", got)
		}
	})

	t.Run("a view-only manager sees no merge controls", func(t *testing.T) {
		id := merge("yuki.tanaka", "tanaka.yuki")
		p := e.person(t)
		p.signIn("eng-viewer")
		if got := p.path(); got != "/ui/t/acme/merges" {
			t.Fatalf("the view-only manager lands on %s; want the merge list", got)
		}
		p.contains(fmt.Sprintf("#merge-%d", id), "tanaka.yuki", "yuki.tanaka")
		p.contains("#revert-note", "view rights only")
		p.absent(`#revert-selected`)
		p.absent(`input[name="revert"]`)
		p.absent(`nav.sections a[href$="/merge"]`)
		p.shot("26-viewer-merge-list")
		p.open(fmt.Sprintf("/ui/t/acme/merges/%d?tab=badge", id))
		p.contains("#kind-panel", "Badge details")
		p.absent("#revert-this")
		p.shot("27-viewer-details")
		p.open("/ui/t/acme/merge")
		p.contains("#view-only", "view rights only")
		p.absent("#merge-form")
		p.shot("28-viewer-merge-screen")
		p.open("/ui/t/acme/accounts?q=tanaka")
		p.absent(`form[action$="/activate"]`)
		p.absent(`a[href*="/delete"]`)

		// The server refuses anyway: a revert posted with the viewer's own
		// CSRF token changes nothing.
		page, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch("/ui/t/acme/merges/revert", {method: "POST",
			body: new URLSearchParams({csrf_token: document.querySelector("form.signout input[name=csrf_token]").value, merge: "%d"})}).then(r => r.text())`, id),
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page, "view rights only") {
			t.Errorf("a revert posted by the viewer was not refused with the reason; the answer was:\n%s", page)
		}
		m, err := e.eng.MergeDetails(ctx, admin, id, 1)
		if err != nil || m.Merge.State != usermerge.StateActive {
			t.Errorf("merge %d after the viewer's revert: %s, %v; want active", id, m.Merge.State, err)
		}
	})

	t.Run("the comparison warns of two people; settings ask before merges become irreversible", func(t *testing.T) {
		p := e.person(t)
		p.signIn("admin")
		p.open("/ui/t/acme/merge?keep=robert.johnson&src=cokafor")
		p.waitFor("#compare")
		p.contains("#compare", "the names differ", "the emails differ", "differs")
		if n := p.count("#compare tr.differs th .tag.diff"); n < 2 {
			p.fail("%d rows marked as differing in words; want at least name and email", n)
		}
		p.shot("06c-merge-compare-warnings")
		p.press("#merge-btn")
		p.waitFor("#confirm-merge")
		p.contains("#confirm-warnings", "the names differ", "the emails differ", "still active")
		p.shot("08b-merge-confirm-warnings")
		p.press("#confirm-merge a.btn") // Cancel

		p.open("/ui/t/acme/settings")
		p.do(chromedp.Click(chromedp.ID("revert_allowed-false")))
		p.press("#save-rules")
		p.waitFor("#confirm-settings")
		p.contains("#confirm-settings", "irreversible", "Nothing has been changed yet")
		p.shot("22c-settings-irreversible-confirm")
		if tn, err := e.eng.Settings(ctx, admin); err != nil || !tn.Policy.RevertAllowed {
			p.fail("settings before the confirmation: %+v, %v; want reverts still allowed", tn.Policy, err)
		}
		p.press("#confirm-settings-btn")
		p.contains("#flash", "Settings saved")
		if tn, err := e.eng.Settings(ctx, admin); err != nil || tn.Policy.RevertAllowed {
			p.fail("settings after the confirmation: %+v, %v; want reverts off", tn.Policy, err)
		}
		if _, err := e.eng.UpdateSettings(ctx, admin, engine.SettingsChange{Preset: "learningbox"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a group manager cannot find an account outside scope", func(t *testing.T) {
		p := e.person(t)
		p.signIn("sales-editor")
		if got := p.path(); got != "/ui/t/acme/merge" {
			t.Fatalf("the sales editor lands on %s; want the merge screen", got)
		}
		p.do(chromedp.SendKeys(chromedp.ID("q"), "hernandez"))
		p.waitFor(`#browse-list li[data-login="jose.hernandez"]`)
		p.absent(`li[data-login="jlhernandez"]`)
		p.shot("29-scoped-search")
		p.open("/ui/t/acme/merge?keep=jlhernandez")
		p.contains("#error", `account "jlhernandez" does not exist`) // out of scope reads as not there
		p.absent(`#keep-account .acct-login`)
	})
}
