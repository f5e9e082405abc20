package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"usermerge"
)

// The merge list ("Integration list") with search, paging and batch revert,
// and a merge's details with a tab per record kind.

const mergesPerPage = 20

// listFilter is the merge list's search form as typed.
type listFilter struct {
	From, To, Source, Target, State string
	Page                            int
}

func parseListFilter(q url.Values) listFilter {
	f := listFilter{From: q.Get("from"), To: q.Get("to"), Source: strings.TrimSpace(q.Get("source")),
		Target: strings.TrimSpace(q.Get("target")), State: q.Get("state")}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(1, min(f.Page, 1_000_000))
	if len(f.Source) > 200 {
		f.Source = f.Source[:200]
	}
	if len(f.Target) > 200 {
		f.Target = f.Target[:200]
	}
	return f
}

func (f listFilter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"from", f.From}, {"to", f.To}, {"source", f.Source}, {"target", f.Target}, {"state", f.State}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	return v
}

// Hidden lists the filter as hidden fields, for the revert form.
func (f listFilter) Hidden() [][2]string {
	var out [][2]string
	v := f.values()
	for _, k := range []string{"from", "to", "source", "target", "state", "page"} {
		if v.Has(k) {
			out = append(out, [2]string{k, v.Get(k)})
		}
	}
	return out
}

// engineFilter turns the form into the engine's filter. Dates are days in
// UTC; "to" includes its whole day.
func (f listFilter) engineFilter() (usermerge.MergeFilter, error) {
	mf := usermerge.MergeFilter{Source: f.Source, Target: f.Target, Page: f.Page, PerPage: mergesPerPage}
	switch f.State {
	case "", "all":
		mf.State = usermerge.MergeState(f.State)
	case string(usermerge.StateActive), string(usermerge.StateReverted), string(usermerge.StatePermanent),
		string(usermerge.StateIrreversible), string(usermerge.StateTargetDeleted):
		mf.State = usermerge.MergeState(f.State)
	default:
		return mf, usermerge.Errorf(usermerge.Invalid, "invalid_state", "choose a state from the list")
	}
	day := func(s, name string) (*time.Time, error) {
		if s == "" {
			return nil, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, usermerge.Errorf(usermerge.Invalid, "invalid_date", "%s must be a date such as 2026-05-01", name)
		}
		return &t, nil
	}
	var err error
	if mf.From, err = day(f.From, "the start date"); err != nil {
		return mf, err
	}
	if mf.To, err = day(f.To, "the end date"); err != nil {
		return mf, err
	}
	if mf.To != nil {
		end := mf.To.Add(24 * time.Hour)
		mf.To = &end
	}
	return mf, nil
}

type uiOption struct {
	Value, Label string
	Selected     bool
}

var stateOptions = []uiOption{
	{"", "Any state", false},
	{"active", "Active", false},
	{"reverted", "Reverted", false},
	{"permanent", "Permanent — source deleted", false},
	{"irreversible", "Irreversible by policy", false},
	{"target_deleted", "Target deleted", false},
	{"all", "All, target deleted too", false},
}

type mergeListPage struct {
	uiPage
	Filter     listFilter
	States     []uiOption
	Merges     []usermerge.Merge
	Total      int64
	Pages      int
	PrevURL    string
	NextURL    string
	CanRevert  bool   // show checkboxes and Revert selected
	RevertNote string // why reverting is not offered, if it is not
	Confirm    []usermerge.Merge
	CancelURL  string
	Back       string
}

// Selectable reports whether a merge gets a checkbox.
func (p mergeListPage) Selectable(m usermerge.Merge) bool {
	return p.CanRevert && m.DisplayState == usermerge.StateActive
}

func (u *uiServer) mergeList(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	q := r.URL.Query()
	p := mergeListPage{uiPage: c.page, Filter: parseListFilter(q)}
	p.Title, p.Section = "Merge list", "merges"
	pol := c.rights.Tenant.Policy
	switch {
	case !c.page.CanEdit:
		p.RevertNote = "You have view rights only: you can search merges and open their details."
	case !pol.RevertAllowed:
		p.RevertNote = "This tenant does not allow reverting merges: every merge is irreversible (see Settings)."
	default:
		p.CanRevert = true
	}
	for _, o := range stateOptions {
		o.Selected = o.Value == p.Filter.State
		p.States = append(p.States, o)
	}
	base := c.page.T() + "/merges"
	p.Back = base + "?" + p.Filter.values().Encode()
	mf, err := p.Filter.engineFilter()
	status := http.StatusOK
	if err == nil {
		var mp usermerge.MergePage
		mp, err = u.s.eng.ListMerges(r.Context(), c.Caller, mf)
		if err == nil {
			p.Merges, p.Total = mp.Merges, mp.Total
			p.Pages = int((mp.Total + mergesPerPage - 1) / mergesPerPage)
			if p.Filter.Page > 1 {
				f := p.Filter
				f.Page--
				p.PrevURL = base + "?" + f.values().Encode()
			}
			if p.Filter.Page < p.Pages {
				f := p.Filter
				f.Page++
				p.NextURL = base + "?" + f.values().Encode()
			}
		}
	}
	if err != nil {
		if c := usermerge.ErrorCode(err); c == usermerge.Internal || c == usermerge.Unauthenticated {
			return err
		}
		p.Error, status = usermerge.ErrorMessage(err), statusOf[usermerge.ErrorCode(err)]
	}
	// "Revert selected" asks first: the page shows the chosen merges in a
	// confirmation whose button posts the revert.
	if ids := q["revert"]; len(ids) > 0 && p.CanRevert {
		p.CancelURL = p.Back
		for _, s := range ids {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 || slices.ContainsFunc(p.Confirm, func(m usermerge.Merge) bool { return m.ID == id }) {
				continue
			}
			i := slices.IndexFunc(p.Merges, func(m usermerge.Merge) bool { return m.ID == id })
			if i >= 0 {
				p.Confirm = append(p.Confirm, p.Merges[i])
				continue
			}
			d, err := u.s.eng.MergeDetails(r.Context(), c.Caller, id, 1)
			if err != nil {
				if c := usermerge.ErrorCode(err); c == usermerge.Internal || c == usermerge.Unauthenticated {
					return err
				}
				p.Error = usermerge.ErrorMessage(err)
				continue
			}
			p.Confirm = append(p.Confirm, d.Merge)
		}
	} else if len(q["revert"]) == 0 && q.Has("select") && p.CanRevert {
		p.Error = "Select at least one merge to revert."
	}
	return u.render(w, status, "merges", p)
}

// loginOf names, by login, an account that holds a merge's record today
// and is neither of the merge's accounts (a later merge moved the record):
// admins know logins, not internal ids.
func (u *uiServer) loginOf(r *http.Request, c *uiCall) func(id string) string {
	seen := map[string]string{}
	return func(id string) string {
		if l, ok := seen[id]; ok {
			return l
		}
		l := "an account outside your groups"
		if s, err := u.s.eng.AccountInfo(r.Context(), c.Caller, id); err == nil {
			l = s.Account.Login
		}
		seen[id] = l
		return l
	}
}

func (u *uiServer) doRevert(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	back := backTo(r, c.Tenant, c.page.T()+"/merges")
	var ids []int64
	for _, s := range r.PostForm["merge"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return u.done(w, r, back, "", badRequest("merge ids are positive whole numbers"))
		}
		ids = append(ids, id)
	}
	rep, err := u.s.eng.Revert(r.Context(), c.Caller, ids)
	if err != nil {
		return u.done(w, r, back, "", nothingDone("Nothing was reverted", err))
	}
	u.s.metrics.reverts.Add(float64(len(rep.Reverted)))
	var names []string
	for _, id := range rep.Reverted {
		names = append(names, strconv.FormatInt(id, 10))
	}
	text := fmt.Sprintf("Reverted %s %s: the records went back to their accounts and each source has its status from before the merge.",
		map[bool]string{true: "merge", false: "merges"}[len(names) == 1], strings.Join(names, ", "))
	if n := len(rep.KeptNewer); n > 0 {
		text += fmt.Sprintf(" %s changed after the merge and kept the newer value; the merge details list them.", plural(n, "record", "records"))
	}
	return u.done(w, r, back, text, nil)
}

// --- details ---

type detailsPage struct {
	uiPage
	D         usermerge.MergeDetails
	Tabs      []detailsTab
	Tab       string
	Kind      *kindView
	Summary   []kindSummary
	KeptNewer []keptRow
	RevertURL string
	MoreURL   string
}

type detailsTab struct {
	Label, URL string
	N          int64
	Current    bool
}

type kindSummary struct {
	Label, Rule, URL string
	Counts           usermerge.Counts
}

type keptRow struct {
	Kind, Record, Merged, Current, Before string
}

func countsTotal(c usermerge.Counts) int64 {
	return c.Moved + c.Combined + c.Retired + c.Left + c.Changed
}

func (u *uiServer) mergeDetails(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return usermerge.Errorf(usermerge.NotFound, "merge_not_found", "there is no merge %q", r.PathValue("id"))
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit != 1000 {
		limit = 100
	}
	d, err := u.s.eng.MergeDetails(r.Context(), c.Caller, id, limit)
	if err != nil {
		return err
	}
	p := detailsPage{uiPage: c.page, D: d, Tab: q.Get("tab")}
	p.Title, p.Section = fmt.Sprintf("Merge %d", d.Merge.ID), "merges"
	base := fmt.Sprintf("%s/merges/%d", c.page.T(), d.Merge.ID)
	if c.page.CanEdit && c.rights.Tenant.Policy.RevertAllowed && d.Merge.DisplayState == usermerge.StateActive {
		p.RevertURL = fmt.Sprintf("%s/merges?revert=%d", c.page.T(), d.Merge.ID)
	}
	p.Tabs = append(p.Tabs, detailsTab{Label: "Summary", URL: base, Current: p.Tab == ""})
	for _, kd := range d.Kinds {
		tabURL := base + "?tab=" + url.QueryEscape(string(kd.Kind))
		cur := p.Tab == string(kd.Kind)
		p.Tabs = append(p.Tabs, detailsTab{Label: kd.Kind.Spec().Title, URL: tabURL, N: countsTotal(kd.Counts), Current: cur})
		p.Summary = append(p.Summary, kindSummary{Label: kd.Kind.Spec().Title, Rule: kd.Rule, URL: tabURL, Counts: kd.Counts})
		if cur {
			p.Kind = newKindView(kd, d.Merge, u.loginOf(r, c))
			if kd.More > 0 && limit < 1000 {
				p.MoreURL = tabURL + "&limit=1000"
			}
		}
	}
	if p.Tab != "" && p.Kind == nil {
		return usermerge.Errorf(usermerge.NotFound, "no_such_kind", "there is no record kind %q", p.Tab)
	}
	if d.Revert != nil {
		for _, k := range d.Revert.KeptNewer {
			p.KeptNewer = append(p.KeptNewer, keptRow{Kind: k.Kind.Label(), Record: k.RecordID,
				Merged: valuesText(k.Merged), Current: valuesText(k.Current), Before: valuesText(k.Before)})
		}
	}
	return u.render(w, http.StatusOK, "details", p)
}

// nothingDone prefixes a refusal's message with what did not happen.
func nothingDone(what string, err error) error {
	var e *usermerge.Error
	if !errors.As(err, &e) || e.Code == usermerge.Internal || e.Code == usermerge.Unauthenticated {
		return err
	}
	c := *e
	c.Message = what + ": " + e.Message
	return &c
}
