package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"usermerge"
	"usermerge/match"
)

// The settings screen's "Matching rules": which fields duplicate detection
// compares, the grades' thresholds and the block cap, with a preview of
// their effect on the tenant's own suggestions before they are saved.

type matchingView struct {
	Fields        []fieldToggle
	StripPlusTags bool
	Certain       string
	Probable      string
	Possible      string
	MaxBlock      string
	Preview       *previewView
	Defaults      match.Rules
}

type fieldToggle struct {
	usermerge.MatchField
	On bool
}

// previewView is a rules preview as the screen shows it: per grade the
// count now and under the proposed rules.
type previewView struct {
	Rows    []previewRow
	Changes []changeView
}

type previewRow struct {
	Grade             string
	Current, Proposed int
	Diff              string
}

type changeView struct {
	Accounts, From, To string
}

func threshold(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func newMatchingView(r match.Rules) *matchingView {
	v := &matchingView{StripPlusTags: r.StripPlusTags, Certain: threshold(r.Certain), Probable: threshold(r.Probable),
		Possible: threshold(r.Possible), MaxBlock: strconv.Itoa(r.MaxBlock), Defaults: match.DefaultRules()}
	for _, f := range usermerge.MatchFields {
		v.Fields = append(v.Fields, fieldToggle{MatchField: f, On: slices.Contains(r.Fields, f.Name)})
	}
	return v
}

func newPreviewView(p usermerge.RulesPreview) *previewView {
	p = usermerge.NormalRulesPreview(p)
	v := &previewView{}
	for _, g := range usermerge.Grades {
		row := previewRow{Grade: capitalise(string(g)), Current: p.Current[g], Proposed: p.Proposed[g]}
		switch d := row.Proposed - row.Current; {
		case d > 0:
			row.Diff = "+" + strconv.Itoa(d)
		case d < 0:
			row.Diff = "−" + strconv.Itoa(-d)
		default:
			row.Diff = "no change"
		}
		v.Rows = append(v.Rows, row)
	}
	for _, c := range p.Changes {
		v.Changes = append(v.Changes, changeView{Accounts: strings.Join(c.Accounts, ", "), From: usermerge.GradeText(c.From), To: usermerge.GradeText(c.To)})
	}
	return v
}

// parseRulesForm reads the rules the form sends; the view keeps what was
// typed, so that a refused form shows it again.
func parseRulesForm(f map[string][]string) (match.Rules, *matchingView, error) {
	get := func(k string) string {
		if vs := f[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	var r match.Rules
	for _, name := range f["field"] {
		if !slices.Contains(r.Fields, name) {
			r.Fields = append(r.Fields, name)
		}
	}
	r.StripPlusTags = get("strip_plus_tags") == "1"
	v := newMatchingView(r)
	v.Certain, v.Probable, v.Possible, v.MaxBlock = get("certain"), get("probable"), get("possible"), get("max_block")
	for _, t := range []struct {
		label, text string
		to          *float64
	}{{"certain", v.Certain, &r.Certain}, {"probable", v.Probable, &r.Probable}, {"possible", v.Possible, &r.Possible}} {
		x, err := strconv.ParseFloat(strings.TrimSuffix(t.text, "%"), 64)
		if err != nil {
			return r, v, usermerge.Errorf(usermerge.Invalid, "invalid_rules", "the %s threshold must be a number between 0 and 1, such as 0.95, not %s", t.label, quoted(t.text))
		}
		*t.to = x
	}
	n, err := strconv.Atoi(v.MaxBlock)
	if err != nil {
		return r, v, usermerge.Errorf(usermerge.Invalid, "invalid_rules", "the block size must be a whole number of accounts, not %s", quoted(v.MaxBlock))
	}
	r.MaxBlock = n
	return r, v, nil
}

func (u *uiServer) saveMatching(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	ctx := r.Context()
	rules, view, err := parseRulesForm(r.PostForm)
	action := r.PostForm.Get("action")
	if err == nil {
		switch action {
		case "preview":
			var p usermerge.RulesPreview
			if p, err = u.s.eng.PreviewMatchingRules(ctx, c.Caller, rules); err == nil {
				view.Preview = newPreviewView(p)
			}
		case "save":
			if _, err = u.s.eng.UpdateMatchingRules(ctx, c.Caller, rules); err == nil {
				return u.done(w, r, c.page.T()+"/settings#matching", "Matching rules saved: the next detection run applies them.", nil)
			}
		default:
			return badRequest("the form names no action")
		}
	}
	status := http.StatusOK
	if err != nil {
		switch usermerge.ErrorCode(err) {
		case usermerge.Internal, usermerge.Unauthenticated:
			return err
		}
		u.s.metrics.refused(err)
		status = statusOf[usermerge.ErrorCode(err)]
	}
	t, terr := u.s.eng.Settings(ctx, c.Caller)
	if terr != nil {
		return terr
	}
	p := u.newSettingsPage(c, t)
	p.Matching = view
	if err != nil {
		p.MatchingError = capitalise(usermerge.ErrorMessage(err))
		if action == "save" {
			p.MatchingError = "Nothing was saved: " + usermerge.ErrorMessage(err)
		}
	}
	return u.render(w, status, "settings", p)
}
