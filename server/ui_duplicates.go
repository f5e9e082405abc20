package server

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
)

// The "Likely duplicates" screen (PRODUCT.md §11): the review queue with
// each suggestion's accounts side by side, the explanation of a suggestion
// field by field, "Open as merge" (the merge screen prepared, at its
// preview) and "Not the same person" (dismiss, after a confirmation), and
// detection runs with their progress. Everything works without JavaScript;
// static/app.js only refreshes the progress bar.

// duplicatesPerPage is how many suggestions the queue shows at once.
const duplicatesPerPage = 20

type duplicatesPage struct {
	uiPage
	Grade       match.Grade
	Filters     []gradeFilter
	Suggestions []suggestionView
	Total       int
	Offset      int
	PrevURL     string
	NextURL     string
	Run         *runView
	Stale       bool
	HasRun      bool
	// Certain counts the certain suggestions, which "Merge every certain
	// suggestion" makes a batch of.
	Certain int
}

type gradeFilter struct {
	Label   string
	URL     string
	N       int
	Current bool
}

// runView is a detection run as the screen shows it.
type runView struct {
	usermerge.DetectionRun
	Running  bool
	Percent  int // of the current phase
	Text     string
	PollURL  string // the API's run status, for the script
	Finished string
}

func newRunView(r usermerge.DetectionRun, tenant string) *runView {
	v := &runView{DetectionRun: r, Running: r.Status == usermerge.RunRunning,
		PollURL: "/api/v1/tenants/" + url.PathEscape(tenant) + "/duplicates/runs/" + strconv.FormatInt(r.ID, 10)}
	if r.Total > 0 {
		v.Percent = int(math.Min(100, math.Floor(float64(r.Done)*100/float64(r.Total))))
	}
	v.Finished = whenPtr(r.Finished)
	v.Text = runText(r)
	return v
}

// runText says where a run is, in a sentence.
func runText(r usermerge.DetectionRun) string {
	scope := "over every account"
	if r.Scope == "changed" {
		scope = "over the accounts changed since the last run"
	}
	switch r.Status {
	case usermerge.RunRunning:
		phase := r.Phase
		if phase == "" {
			phase = "starting"
		}
		if r.Total > 0 {
			return fmt.Sprintf("Detection run %d %s is running: %s, %s of %s.", r.ID, scope, phase, num(r.Done), num(r.Total))
		}
		return fmt.Sprintf("Detection run %d %s is running: %s.", r.ID, scope, phase)
	case usermerge.RunDone:
		return fmt.Sprintf("Detection run %d %s, started by %s, finished %s: %s compared, %s.", r.ID, scope, r.By, whenPtr(r.Finished),
			plural(int(r.Stats.PairsCompared), "pair", "pairs"), plural(r.Suggestions, "suggestion", "suggestions"))
	case usermerge.RunFailed:
		msg := fmt.Sprintf("Detection run %d failed", r.ID)
		if r.Error != "" {
			msg += ": " + strings.TrimSuffix(r.Error, ".")
		}
		return msg + ". The queue shows the last run that finished."
	case usermerge.RunInterrupted:
		return fmt.Sprintf("Detection run %d was interrupted when the server stopped; start a new run.", r.ID)
	}
	return fmt.Sprintf("Detection run %d: %s.", r.ID, r.Status)
}

// suggestionView is one suggestion: its accounts side by side and what to
// do with it.
type suggestionView struct {
	usermerge.DuplicateSuggestion
	Percent    string
	Rows       []sideRow
	MergeURL   string
	DismissURL string
	DetailURL  string
	Pairs      []pairView
	// Beyond: more accounts to merge than one merge takes; Open as merge
	// prepares the first MaxSources of them.
	Beyond int
}

// KeepLogin is the login of the account to keep.
func (v suggestionView) KeepLogin() string {
	for _, a := range v.Accounts {
		if a.ID == v.Keep {
			return a.Login
		}
	}
	return v.Keep
}

// sideRow is one line of the accounts side by side: a field and each
// account's value.
type sideRow struct {
	Label  string
	Values []string
}

// pairView is one scored pair with its explanation, field by field.
type pairView struct {
	A, B     string // logins
	Percent  string
	Weight   string
	Evidence []evidenceView
}

type evidenceView struct {
	Field, Outcome, A, B, Weight, Direction string
}

// outcomeText is an explanation's outcome in words, so that the table reads
// without colour.
func outcomeText(e match.Evidence) string {
	words := match.LevelWords(e.Field, e.Level)
	switch e.Outcome {
	case "agreed":
		if words != "" {
			return "Agreed: " + words
		}
		return "Agreed"
	case "close":
		if words != "" {
			return "Close: " + words
		}
		if e.Similarity > 0 {
			return fmt.Sprintf("Close (%.0f %% alike)", math.Floor(e.Similarity*100))
		}
		return "Close"
	case "disagreed":
		if words != "" {
			return "Disagreed: " + words
		}
		return "Disagreed"
	case "missing":
		return "Missing"
	}
	return e.Outcome
}

// weightText is a weight with its sign, and the direction it pulls.
func weightText(w float64) (string, string) {
	switch {
	case w > 0.005:
		return fmt.Sprintf("+%.1f", w), "for"
	case w < -0.005:
		return fmt.Sprintf("−%.1f", -w), "against"
	}
	return "0.0", "neutral"
}

func (u *uiServer) suggestionView(c *uiCall, sg usermerge.DuplicateSuggestion, back string) suggestionView {
	v := suggestionView{DuplicateSuggestion: sg, Percent: usermerge.Percent(sg.Probability)}
	id := strconv.FormatInt(sg.ID, 10)
	v.DetailURL = c.page.T() + "/duplicates/" + id
	v.DismissURL = v.DetailURL + "/dismiss?back=" + url.QueryEscape(back)
	v.MergeURL = openAsMergeURL(c.page.T(), sg, c.rights.Tenant.Policy.MoveExternalIDs)
	v.Beyond = max(0, len(sg.Accounts)-1-usermerge.MaxSources)
	logins := map[string]string{}
	for _, a := range sg.Accounts {
		logins[a.ID] = a.Login
	}
	row := func(label string, value func(a usermerge.AccountSummary) string) {
		r := sideRow{Label: label}
		any := false
		for _, a := range sg.Accounts {
			s := value(a)
			any = any || s != ""
			r.Values = append(r.Values, s)
		}
		if any {
			v.Rows = append(v.Rows, r)
		}
	}
	row("Name", func(a usermerge.AccountSummary) string { return a.Name })
	row("Email", func(a usermerge.AccountSummary) string { return a.Email })
	row("Status", func(a usermerge.AccountSummary) string { return statusText(a.Account) })
	row("Groups", func(a usermerge.AccountSummary) string { return strings.Join(a.Groups, ", ") })
	for _, k := range usermerge.KnownAttributes {
		if k.Name == usermerge.AttrGivenName || k.Name == usermerge.AttrFamilyName {
			continue // the name row shows them
		}
		row(k.Label, func(a usermerge.AccountSummary) string { return a.Attributes[k.Name] })
	}
	// Learning records, as the keep reason counts them: not the
	// memberships and jobs, which the Groups row shows.
	row("Learning records", func(a usermerge.AccountSummary) string {
		if a.Counts == nil {
			return ""
		}
		var n int64
		for k, c := range a.Counts {
			if k != usermerge.KindMemberships && k != usermerge.KindAccountJobs {
				n += c
			}
		}
		return num(n)
	})
	for _, p := range sg.Pairs {
		pv := pairView{A: loginOr(logins, p.A), B: loginOr(logins, p.B), Percent: usermerge.Percent(p.Probability)}
		pv.Weight, _ = weightText(p.Weight)
		for _, e := range p.Evidence {
			ev := evidenceView{Field: usermerge.MatchFieldLabel(e.Field), Outcome: outcomeText(e), A: e.A, B: e.B}
			ev.Weight, ev.Direction = weightText(e.Weight)
			pv.Evidence = append(pv.Evidence, ev)
		}
		v.Pairs = append(v.Pairs, pv)
	}
	return v
}

func loginOr(logins map[string]string, id string) string {
	if l := logins[id]; l != "" {
		return l
	}
	return id
}

// openAsMergeURL is the merge screen prepared with the suggestion: the
// account to keep as the target, the others as sources, at the preview.
func openAsMergeURL(tenantPath string, sg usermerge.DuplicateSuggestion, ext bool) string {
	st := mergeState{Keep: sg.Keep, Ext: ext, Reason: fmt.Sprintf("Likely duplicate (suggestion %d, %s)", sg.ID, sg.Grade)}
	for _, a := range sg.Accounts {
		if a.ID != sg.Keep && len(st.Sources) < usermerge.MaxSources {
			st.Sources = append(st.Sources, a.ID)
		}
	}
	return st.url(tenantPath, "step", "preview")
}

func (u *uiServer) duplicates(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	ctx := r.Context()
	q := r.URL.Query()
	grade, err := parseGrade(q.Get("grade"))
	if err != nil {
		return err
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(0, min(offset, 1_000_000))
	page, err := u.s.eng.Suggestions(ctx, c.Caller, usermerge.SuggestionFilter{Grade: grade, Limit: duplicatesPerPage, Offset: offset})
	if err != nil {
		return err
	}
	page = normalPage(page)
	p := duplicatesPage{uiPage: c.page, Grade: grade, Total: page.Total, Offset: offset, Stale: page.Stale}
	p.Title, p.Section = "Likely duplicates", "duplicates"
	p.Certain = page.Counts[match.GradeCertain]
	base := c.page.T() + "/duplicates"
	all := 0
	for _, g := range usermerge.Grades {
		all += page.Counts[g]
	}
	p.Filters = append(p.Filters, gradeFilter{Label: "All", URL: base, N: all, Current: grade == ""})
	for _, g := range usermerge.Grades {
		p.Filters = append(p.Filters, gradeFilter{Label: capitalise(string(g)), URL: base + "?grade=" + string(g), N: page.Counts[g], Current: grade == g})
	}
	pageURL := func(off int) string {
		v := url.Values{}
		if grade != "" {
			v.Set("grade", string(grade))
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	back := pageURL(offset)
	for _, sg := range page.Suggestions {
		p.Suggestions = append(p.Suggestions, u.suggestionView(c, sg, back))
	}
	if offset > 0 {
		p.PrevURL = pageURL(max(0, offset-duplicatesPerPage))
	}
	if offset+len(page.Suggestions) < page.Total {
		p.NextURL = pageURL(offset + duplicatesPerPage)
	}
	// The latest run, running or not: its progress, or why it failed.
	run, err := u.s.eng.DetectionRun(ctx, c.Caller, 0)
	switch usermerge.ErrorCode(err) {
	case "":
		p.Run, p.HasRun = newRunView(run, c.Tenant), true
	case usermerge.NotFound:
	default:
		return err
	}
	if page.Run != nil {
		p.HasRun = true
	}
	return u.render(w, http.StatusOK, "duplicates", p)
}

type duplicatePage struct {
	uiPage
	S    suggestionView
	Back string
}

func (u *uiServer) duplicate(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	sg, err := u.s.eng.Suggestion(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	back := c.page.T() + "/duplicates"
	p := duplicatePage{uiPage: c.page, S: u.suggestionView(c, normalSuggestion(sg), back), Back: back}
	p.Title, p.Section = "Likely duplicate "+strconv.FormatInt(id, 10), "duplicates"
	return u.render(w, http.StatusOK, "duplicate", p)
}

// dismissConfirm asks before dismissing, for browsers without the script.
func (u *uiServer) dismissConfirm(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	sg, err := u.s.eng.Suggestion(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	back := c.page.T() + "/duplicates"
	if b := r.URL.Query().Get("back"); strings.HasPrefix(b, back) && !strings.ContainsAny(b, "\\\r\n") {
		back = b
	}
	p := duplicatePage{uiPage: c.page, S: u.suggestionView(c, normalSuggestion(sg), back), Back: back}
	p.Title, p.Section = "Not the same person?", "duplicates"
	return u.render(w, http.StatusOK, "dismiss", p)
}

func (u *uiServer) doDismiss(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	back := backTo(r, c.Tenant, c.page.T()+"/duplicates")
	id, err := pathInt(r, "id")
	if err != nil {
		return u.done(w, r, back, "", err)
	}
	ds, err := u.s.eng.DismissSuggestion(r.Context(), c.Caller, id)
	if err != nil {
		return u.done(w, r, back, "", nothingDone("Nothing was dismissed", err))
	}
	text := fmt.Sprintf("Dismissed suggestion %d as not the same person: %s will not be suggested together again.", id,
		plural(len(ds), "pair of accounts", "pairs of accounts"))
	return u.done(w, r, back, text, nil)
}

func (u *uiServer) doStartRun(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	back := c.page.T() + "/duplicates"
	run, err := u.s.startRun(r.Context(), c.Caller, engine.DetectOptions{Full: r.PostForm.Get("full") == "1"})
	if err != nil {
		return u.done(w, r, back, "", nothingDone("No run was started", err))
	}
	return u.done(w, r, back, fmt.Sprintf("Detection run %d started; its progress shows below.", run.ID), nil)
}
