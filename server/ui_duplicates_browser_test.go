package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
)

// TestBrowserDuplicates drives Likely duplicates as an administrator would:
// the queue on the demo data, the grade filter, one suggestion's
// explanation, "Not the same person", "Open as merge" to the merge preview,
// a detection run from the button, and the matching rules' preview.
func TestBrowserDuplicates(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := context.Background()
	admin := engine.Caller{Tenant: "acme", Admin: "admin"}
	if run, err := e.eng.Detect(ctx, admin, engine.DetectOptions{Full: true}, nil); err != nil || run.Status != usermerge.RunDone {
		t.Fatalf("detection: %v %+v", err, run)
	}
	page, err := e.eng.Suggestions(ctx, admin, usermerge.SuggestionFilter{Limit: 500})
	if err != nil || len(page.Suggestions) < 3 {
		t.Fatalf("the demo's suggestions: %v, %d", err, len(page.Suggestions))
	}
	p := e.person(t)
	p.signIn("admin")
	p.press(`nav.sections a[href$="/duplicates"]`)
	p.waitFor(".suggestion")
	if n := p.count("li.suggestion"); n != min(len(page.Suggestions), duplicatesPerPage) {
		p.fail("the queue shows %d suggestions; want %d", n, min(len(page.Suggestions), duplicatesPerPage))
	}
	first := page.Suggestions[0]
	p.contains(fmt.Sprintf("#dup-%d", first.ID), "certain", first.Accounts[0].Login, first.Accounts[1].Login, "keep", "Open as merge")
	p.shot("20-duplicates-queue")

	// The grade filter, on the weakest grade the demo has.
	grade := match.GradeCertain
	for _, g := range usermerge.Grades {
		if page.Counts[g] > 0 {
			grade = g
		}
	}
	p.press(`nav.grade-filter a[href$="grade=` + string(grade) + `"]`)
	if n, all := p.count("li.suggestion .pill.grade-"+string(grade)), p.count("li.suggestion"); n == 0 || n != all {
		p.fail("filtered to %s: %d of %d suggestions are %s", grade, n, all, grade)
	}
	p.contains(`nav.grade-filter a[aria-current="page"]`, string(grade), fmt.Sprint(page.Counts[grade]))

	// One suggestion's explanation, field by field.
	p.open("/ui/t/acme/duplicates")
	p.press(fmt.Sprintf("#why-%d", first.ID))
	p.waitFor("table.explain-table")
	p.contains("table.explain-table", "Name", "Birth date", "Agreed")
	p.shot("21-duplicates-explanation")

	// Not the same person: a confirmation, then it leaves the queue.
	victim := page.Suggestions[len(page.Suggestions)-1]
	p.open("/ui/t/acme/duplicates?grade=" + string(victim.Grade))
	p.press(fmt.Sprintf("#dismiss-%d", victim.ID))
	p.waitFor("#confirm-dismiss")
	p.contains("#dismiss-h", "Not the same person?")
	p.shot("22-duplicates-dismiss")
	p.press("#confirm-dismiss")
	p.contains("#flash", fmt.Sprintf("Dismissed suggestion %d", victim.ID))
	p.absent(fmt.Sprintf("#dup-%d", victim.ID))

	// Open as merge: the merge screen, prepared, at its preview.
	p.open("/ui/t/acme/duplicates")
	p.press(fmt.Sprintf("#open-merge-%d", first.ID))
	p.waitFor("#preview")
	p.contains("#keep-account", first.Accounts[0].Login)
	p.contains("#merge-accounts", first.Accounts[1].Login)
	p.contains("#preview", "Nothing has been changed")

	// A run from the button; the page follows it to its end.
	p.open("/ui/t/acme/duplicates")
	p.do(chromedp.Click(chromedp.ID("run-full")))
	p.press("#run-detection")
	p.contains("#flash", "Detection run 2 started")
	// The script reloads the page when the run ends: read the text without
	// waiting for an element that a reload may replace.
	for i := 0; ; i++ {
		txt, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(document.getElementById("run-text") || {}).textContent || ""`))
		if strings.Contains(txt, "finished") {
			break
		}
		if i > 300 {
			p.fail("the run never shows as finished: %q", txt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.contains("#run-text", "Detection run 2", "every account")

	// The matching rules: a preview before saving.
	p.open("/ui/t/acme/settings")
	p.do(chromedp.SetValue(chromedp.ID("th-probable"), "0.99"))
	p.press("#preview-matching")
	p.waitFor("#matching-preview")
	p.contains("#matching-preview", "What these rules would change", "Nothing has been saved yet", "Certain", "Probable")
	p.shot("23-matching-preview")
	if rules, err := e.eng.MatchingRules(ctx, admin); err != nil || rules.Probable != match.DefaultRules().Probable {
		t.Errorf("a preview saved the rules: %+v %v", rules, err)
	}
}
