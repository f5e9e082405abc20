package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"usermerge"
)

// The merge screen ("Manage user merge" / "Merge Members"): a Browse
// accounts column and the selection (Keep account, Accounts to merge). Its
// whole state lives in the URL, so that every button is a plain GET form
// submit that works without JavaScript, and a reload shows the same screen.

// browsePage is how many accounts the Browse column lists at once.
const browsePage = 20

// mergeState is the merge screen's state, read from and written to the URL.
type mergeState struct {
	Q       string
	Keep    string
	Sources []string
	Ext     bool
	Reason  string
	Offset  int
	Profile map[string]string // field -> source id whose value the kept account takes (ui_profile.go)
}

// parseMergeState reads the state; ext defaults to the tenant's setting
// until the form has been submitted once (the hidden field "form").
func parseMergeState(q url.Values, extDefault bool) mergeState {
	st := mergeState{Q: strings.TrimSpace(q.Get("q")), Keep: q.Get("keep"), Reason: q.Get("reason"), Ext: extDefault}
	if len(st.Q) > 200 {
		st.Q = st.Q[:200]
	}
	if len(st.Reason) > 2000 {
		st.Reason = st.Reason[:2000]
	}
	if q.Has("form") || q.Has("ext") {
		st.Ext = q.Get("ext") == "1"
	}
	// The accounts to merge stay exactly as sent: the screen's own buttons
	// never pick one twice or more than ten, and a form that does (edited,
	// replayed, scripted) is refused by the merge's own rules with the
	// API's messages, never quietly trimmed to something else.
	st.Sources = slices.Clone(q["src"])
	st.Profile = parseProfileChoice(q)
	st.Offset, _ = strconv.Atoi(q.Get("offset"))
	if q.Has("page_to") { // the Browse column's Previous and Next
		st.Offset, _ = strconv.Atoi(q.Get("page_to"))
	}
	if q.Has("search") { // a new search starts at its first account
		st.Offset = 0
	}
	st.Offset = max(0, min(st.Offset, 1_000_000))
	return st
}

// apply carries out one selection button: add (the plus), swap (make a
// source the kept account) or remove (the ×). It reports whether anything
// was asked.
func (st *mergeState) apply(q url.Values) bool {
	switch {
	case q.Get("add") != "":
		id := q.Get("add")
		switch {
		case id == st.Keep || slices.Contains(st.Sources, id):
		case st.Keep == "":
			st.Keep = id
		case len(st.Sources) < usermerge.MaxSources:
			st.Sources = append(st.Sources, id)
		}
	case q.Get("swap") != "":
		id := q.Get("swap")
		if i := slices.Index(st.Sources, id); i >= 0 {
			if st.Keep == "" {
				st.Sources = slices.Delete(st.Sources, i, i+1)
			} else {
				st.Sources[i] = st.Keep
			}
			st.Keep = id
		}
	case q.Get("remove") != "":
		id := q.Get("remove")
		if id == st.Keep {
			st.Keep = ""
		}
		st.Sources = slices.DeleteFunc(st.Sources, func(s string) bool { return s == id })
	default:
		return false
	}
	st.keepProfileChoice()
	return true
}

// values is the state's canonical query.
func (st mergeState) values() url.Values {
	v := url.Values{}
	if st.Q != "" {
		v.Set("q", st.Q)
	}
	if st.Keep != "" {
		v.Set("keep", st.Keep)
	}
	for _, s := range st.Sources {
		v.Add("src", s)
	}
	if st.Ext {
		v.Set("ext", "1")
	} else {
		v.Set("ext", "0")
	}
	if st.Reason != "" {
		v.Set("reason", st.Reason)
	}
	if st.Offset > 0 {
		v.Set("offset", strconv.Itoa(st.Offset))
	}
	st.profileValues(v)
	return v
}

func (st mergeState) url(tenantPath string, extra ...string) string {
	v := st.values()
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return tenantPath + "/merge?" + v.Encode()
}

// mergeScreen is the merge screen's page.
type mergeScreen struct {
	uiPage
	State         mergeState
	Browse        browseList
	Keep          *usermerge.AccountSummary
	Sources       []usermerge.AccountSummary
	Info          *accountInfo
	Compare       []usermerge.Comparison
	Preview       *usermerge.Preview
	Confirm       bool
	MergeEnabled  bool
	RevertAllowed bool
	MaxSources    int
	CancelURL     string
	CloseInfoURL  string
}

// Full reports whether Accounts to merge holds the most a merge takes.
func (m mergeScreen) Full() bool { return len(m.State.Sources) >= usermerge.MaxSources }

// Ready reports whether there is something to preview and merge.
func (m mergeScreen) Ready() bool { return m.State.Keep != "" && len(m.State.Sources) > 0 }

// AllWarnings are the preview's warnings for the confirmation to repeat;
// that the merge cannot be undone it says in a note of its own.
func (m mergeScreen) AllWarnings() []usermerge.Warning {
	if m.Preview == nil {
		return nil
	}
	var out []usermerge.Warning
	for _, sp := range m.Preview.Sources {
		out = append(out, sp.Warnings...)
	}
	return out
}

// SourceNames names the accounts to merge for the confirmation.
func (m mergeScreen) SourceNames() string {
	var names []string
	for _, s := range m.Sources {
		names = append(names, s.Login+" ("+s.Name+")")
	}
	return strings.Join(names, ", ")
}

type browseList struct {
	Rows       []browseRow
	Q          string
	More       bool
	Offset     int
	NextOffset int
	PrevOffset int
	Full       bool
}

// Announce is the live region's text after a search.
func (b browseList) Announce() string {
	n := len(b.Rows)
	switch {
	case n == 0 && b.Q != "":
		return fmt.Sprintf("No account matches %q.", b.Q)
	case n == 0:
		return "No accounts."
	case b.More:
		return fmt.Sprintf("Showing accounts %d to %d; more match.", b.Offset+1, b.Offset+n)
	}
	return fmt.Sprintf("%s found.", plural(b.Offset+n, "account", "accounts"))
}

type browseRow struct {
	usermerge.AccountSummary
	Selected string // "keep", "merge" or ""
	Blocked  string // why the account cannot be picked, or ""
}

// accountInfo is the info box: an account's groups, jobs, status, profile
// attributes and record counts.
type accountInfo struct {
	usermerge.AccountSummary
	Kinds      []kindCount
	Attributes []attributeRow // the profile attributes with a value, in display order
}

// attributeRow is one profile attribute as the info box lists it.
type attributeRow struct {
	Key, Label, Value string
}

type kindCount struct {
	Label string
	N     int64
}

func infoOf(a usermerge.AccountSummary) *accountInfo {
	ai := &accountInfo{AccountSummary: a}
	for _, k := range usermerge.Kinds {
		ai.Kinds = append(ai.Kinds, kindCount{Label: k.Label(), N: a.Counts[k]})
	}
	for _, k := range usermerge.AttributeKeys(a.Attributes) {
		ai.Attributes = append(ai.Attributes, attributeRow{Key: k, Label: usermerge.AttributeLabel(k), Value: a.Attributes[k]})
	}
	return ai
}

func (u *uiServer) mergeScreen(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	ctx := r.Context()
	q := r.URL.Query()
	st := parseMergeState(q, c.rights.Tenant.Policy.MoveExternalIDs)
	if st.apply(q) {
		return redirect(w, r, st.url(c.page.T()))
	}
	m := mergeScreen{uiPage: c.page, State: st, MergeEnabled: c.rights.Tenant.Policy.MergeEnabled,
		RevertAllowed: c.rights.Tenant.Policy.RevertAllowed, MaxSources: usermerge.MaxSources,
		CancelURL:    st.url(c.page.T(), "step", "preview"),
		CloseInfoURL: st.url(c.page.T())}
	m.Title, m.Section = "Merge accounts", "merge"
	if !c.page.CanEdit {
		return u.render(w, http.StatusOK, "merge", m)
	}
	list, err := u.s.eng.SearchAccounts(ctx, c.Caller, st.Q, "", browsePage+1, st.Offset)
	if err != nil {
		return err
	}
	m.Browse = browseList{Q: st.Q, Offset: st.Offset, Full: m.Full(), More: len(list) > browsePage,
		NextOffset: st.Offset + browsePage, PrevOffset: max(0, st.Offset-browsePage)}
	for i, a := range list {
		if i == browsePage {
			break
		}
		row := browseRow{AccountSummary: a}
		switch {
		case a.ID == st.Keep:
			row.Selected = "keep"
		case slices.Contains(st.Sources, a.ID):
			row.Selected = "merge"
		case a.Deleted():
			row.Blocked = "deleted"
		case a.MergedInto != "":
			row.Blocked = "already merged"
		}
		m.Browse.Rows = append(m.Browse.Rows, row)
	}
	if q.Get("fragment") == "browse" {
		return u.renderTemplate(w, http.StatusOK, "merge", "browse", m)
	}

	// The selection: each account as its info box shows it. One that cannot
	// be loaded (deleted since, or outside the caller's scope) is reported.
	var problems []string
	if st.Keep != "" {
		a, err := u.s.eng.AccountInfo(ctx, c.Caller, st.Keep)
		if err != nil {
			if usermerge.ErrorCode(err) == usermerge.Internal {
				return err
			}
			problems = append(problems, usermerge.ErrorMessage(err))
		} else {
			m.Keep = &a
		}
	}
	for _, id := range st.Sources {
		a, err := u.s.eng.AccountInfo(ctx, c.Caller, id)
		if err != nil {
			if usermerge.ErrorCode(err) == usermerge.Internal {
				return err
			}
			problems = append(problems, usermerge.ErrorMessage(err))
			continue
		}
		m.Sources = append(m.Sources, a)
	}
	if id := q.Get("info"); id != "" {
		a, err := u.s.eng.AccountInfo(ctx, c.Caller, id)
		if err != nil {
			if usermerge.ErrorCode(err) == usermerge.Internal {
				return err
			}
			problems = append(problems, usermerge.ErrorMessage(err))
		} else {
			m.Info = infoOf(a)
		}
	}
	if m.Ready() && len(problems) == 0 {
		cs, err := u.s.eng.Compare(ctx, c.Caller, st.Keep, st.Sources)
		switch usermerge.ErrorCode(err) {
		case "":
			m.Compare = cs
		case usermerge.Internal, usermerge.Unauthenticated:
			return err
		default: // the preview below reports it in the merge's words
		}
	}
	status := http.StatusOK
	if step := q.Get("step"); (step == "preview" || step == "confirm") && m.Ready() && len(problems) == 0 {
		p, err := u.s.eng.Preview(ctx, c.Caller, usermerge.MergeRequest{TenantID: c.Tenant, Target: st.Keep, Sources: st.Sources,
			MoveExternalIDs: &st.Ext, Reason: st.Reason, Profile: st.Profile})
		switch usermerge.ErrorCode(err) {
		case "":
			m.Preview = &p
			m.Confirm = step == "confirm"
		case usermerge.Internal, usermerge.Unauthenticated:
			return err
		default:
			u.s.metrics.refused(err)
			problems = append(problems, usermerge.ErrorMessage(err))
			status = statusOf[usermerge.ErrorCode(err)]
		}
	}
	m.Error = strings.Join(problems, " ")
	return u.render(w, status, "merge", m)
}

func quoted(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return "“" + s + "”"
}

func (u *uiServer) doMerge(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	f := r.PostForm
	st := parseMergeState(f, false)
	st.Ext = f.Get("ext") == "1"
	back := st.url(c.page.T())
	// A merge that cannot be undone needs the kept login typed: checked
	// here, not only in the browser.
	if !c.rights.Tenant.Policy.RevertAllowed {
		keep, err := u.s.eng.AccountInfo(r.Context(), c.Caller, st.Keep)
		if err != nil {
			return u.done(w, r, back, "", nothingDone("Nothing was merged", err))
		}
		if typed := strings.TrimSpace(f.Get("confirm_login")); typed != keep.Login {
			text := "type the kept login, " + keep.Login + ", to confirm a merge that cannot be undone"
			if typed != "" {
				text = "you typed " + quoted(typed) + ", not the kept login " + keep.Login + "; type it exactly to confirm a merge that cannot be undone"
			}
			return u.done(w, r, st.url(c.page.T(), "step", "confirm"), "",
				usermerge.Errorf(usermerge.Invalid, "confirm_login_mismatch", "Nothing was merged: %s", text))
		}
	}
	ms, err := u.s.eng.Merge(r.Context(), c.Caller, usermerge.MergeRequest{TenantID: c.Tenant, Target: st.Keep, Sources: st.Sources,
		MoveExternalIDs: &st.Ext, Reason: st.Reason, Profile: st.Profile})
	if err != nil {
		return u.done(w, r, back, "", nothingDone("Nothing was merged", err))
	}
	u.s.metrics.merges.Add(float64(len(ms)))
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s (%s) as merge %d", m.Source.Login, m.Source.Name, m.ID))
	}
	text := fmt.Sprintf("Merged into %s (%s): %s.", ms[0].Target.Login, ms[0].Target.Name, strings.Join(parts, ", "))
	if c.rights.Tenant.Policy.RevertAllowed {
		text += " You can revert it from this list."
	}
	return u.done(w, r, c.page.T()+"/merges", text, nil)
}
