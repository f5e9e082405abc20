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
	Operation                       string // the operation's number, as typed
	Batch                           string // the batch's number, as typed
	Page                            int
}

func parseListFilter(q url.Values) listFilter {
	f := listFilter{From: q.Get("from"), To: q.Get("to"), Source: strings.TrimSpace(q.Get("source")),
		Target: strings.TrimSpace(q.Get("target")), State: q.Get("state"), Operation: strings.TrimSpace(q.Get("operation")),
		Batch: strings.TrimSpace(q.Get("batch"))}
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
	for _, kv := range [][2]string{{"from", f.From}, {"to", f.To}, {"source", f.Source}, {"target", f.Target}, {"state", f.State},
		{"operation", f.Operation}, {"batch", f.Batch}} {
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
	for _, k := range []string{"from", "to", "source", "target", "state", "operation", "batch", "page"} {
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
	if f.Operation != "" {
		if mf.Operation, err = strconv.ParseInt(f.Operation, 10, 64); err != nil || mf.Operation < 1 {
			return mf, usermerge.Errorf(usermerge.Invalid, "invalid_operation", "an operation is a number such as 3")
		}
	}
	if f.Batch != "" {
		if mf.Batch, err = strconv.ParseInt(f.Batch, 10, 64); err != nil || mf.Batch < 1 {
			return mf, usermerge.Errorf(usermerge.Invalid, "invalid_batch", "a batch is a number such as 2")
		}
	}
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
	// Ticked are the merges whose boxes are ticked when the page opens:
	// every selectable one after "Select all on this page", or those of a
	// refused revert, so that the admin can untick the one refused.
	Ticked []int64
	// AllTicked: every selectable merge of the page is ticked, so the
	// select-all button clears the selection instead.
	AllTicked  bool
	ClearOpURL string // the list without the operation filter
	// ClearBatchURL is the list without the batch filter; BatchURL the batch.
	ClearBatchURL, BatchURL string
	// Groups are the page's merges by operation, when the list is of one
	// batch or one operation (nil otherwise).
	Groups []opGroup
}

// opGroup is the merges of one operation on a page of the merge list.
type opGroup struct {
	Op        int64
	Merges    []usermerge.Merge
	RevertURL string // its confirmation, when any of them can be reverted
}

// mergeRow is what the merge-row template shows: a merge and its page.
type mergeRow struct {
	P mergeListPage
	M usermerge.Merge
}

// Row pairs a merge with the page, for the merge-row template.
func (p mergeListPage) Row(m usermerge.Merge) mergeRow { return mergeRow{P: p, M: m} }

// BatchLink is the page of a merge's batch ("" for none).
func (p mergeListPage) BatchLink(b int64) string {
	if b == 0 {
		return ""
	}
	return p.T() + "/batches/" + strconv.FormatInt(b, 10)
}

// Selectable reports whether a merge gets a checkbox.
func (p mergeListPage) Selectable(m usermerge.Merge) bool {
	return p.CanRevert && m.DisplayState == usermerge.StateActive
}

// IsTicked reports whether a merge's box is ticked when the page opens.
func (p mergeListPage) IsTicked(m usermerge.Merge) bool { return slices.Contains(p.Ticked, m.ID) }

// AnySelectable reports whether the page has a merge to select.
func (p mergeListPage) AnySelectable() bool { return slices.ContainsFunc(p.Merges, p.Selectable) }

// OpURL lists the merges of an operation (with every state: a sibling may
// be reverted already).
func (p mergeListPage) OpURL(op int64) string {
	return p.T() + "/merges?" + url.Values{"operation": {strconv.FormatInt(op, 10)}, "state": {"all"}}.Encode()
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
	if p.Filter.Operation != "" {
		f := p.Filter
		f.Operation, f.Page = "", 1
		p.ClearOpURL = base + "?" + f.values().Encode()
	}
	if p.Filter.Batch != "" {
		f := p.Filter
		f.Batch, f.Page = "", 1
		p.ClearBatchURL = base + "?" + f.values().Encode()
		if mf.Batch > 0 {
			p.BatchURL = p.BatchLink(mf.Batch)
		}
	}
	if p.Filter.Operation != "" || p.Filter.Batch != "" {
		p.Groups = groupByOperation(p.Merges, func(op int64) string {
			if !p.CanRevert {
				return ""
			}
			return fmt.Sprintf("%s/operations/%d/revert", c.page.T(), op)
		})
	}
	tick := q.Get("tick")
	if p.CanRevert {
		switch tick {
		case "all":
			for _, m := range p.Merges {
				if p.Selectable(m) {
					p.Ticked = append(p.Ticked, m.ID)
				}
			}
		case "":
			for _, s := range q["ticked"] {
				if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
					p.Ticked = append(p.Ticked, id)
				}
			}
		}
		p.AllTicked = p.AnySelectable() && !slices.ContainsFunc(p.Merges, func(m usermerge.Merge) bool { return p.Selectable(m) && !p.IsTicked(m) })
	}
	// "Revert selected" asks first: the page shows the chosen merges in a
	// confirmation whose button posts the revert. The select-all button
	// (tick) submits the same form and only ticks the boxes.
	if ids := q["revert"]; len(ids) > 0 && p.CanRevert && tick == "" {
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
	} else if len(q["revert"]) == 0 && q.Has("select") && p.CanRevert && tick == "" {
		p.Error = "Select at least one merge to revert."
	}
	return u.render(w, status, "merges", p)
}

// groupByOperation groups merges by operation, in the order each
// operation first appears; revertURL gives an operation's revert
// confirmation, offered when one of its merges is active.
func groupByOperation(ms []usermerge.Merge, revertURL func(op int64) string) []opGroup {
	var out []opGroup
	at := map[int64]int{}
	for _, m := range ms {
		i, ok := at[m.OperationID]
		if !ok {
			i = len(out)
			at[m.OperationID] = i
			out = append(out, opGroup{Op: m.OperationID})
		}
		out[i].Merges = append(out[i].Merges, m)
		if m.DisplayState == usermerge.StateActive && out[i].RevertURL == "" {
			out[i].RevertURL = revertURL(m.OperationID)
		}
	}
	return out
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
		return u.done(w, r, withTicked(back, ids), "", nothingDone("Nothing was reverted", err))
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

// withTicked adds the merges of a refused revert to the list page it goes
// back to, whose boxes then open ticked.
func withTicked(back string, ids []int64) string {
	u, err := url.Parse(back)
	if err != nil || !strings.HasSuffix(u.Path, "/merges") {
		return back
	}
	q := u.Query()
	q.Del("revert")
	q.Del("ticked")
	q.Del("tick")
	for _, id := range ids {
		q.Add("ticked", strconv.FormatInt(id, 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
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
	Pager     recordPager
	// OperationURL lists the merges of this merge's operation (its
	// siblings when several sources were merged at once).
	OperationURL string
	// RevertOpURL confirms the revert of the whole operation.
	RevertOpURL string
	// BatchURL is the merge's batch, if it was part of one.
	BatchURL string
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

// Each kind's tab lists detailsPerPage records a page, or 1,000 when the
// admin asks for longer pages.
const detailsPerPage, detailsLongPage = 100, 1000

func (u *uiServer) mergeDetails(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return usermerge.Errorf(usermerge.NotFound, "merge_not_found", "there is no merge %q", r.PathValue("id"))
	}
	q := r.URL.Query()
	p := detailsPage{uiPage: c.page, Tab: q.Get("tab")}
	pg := usermerge.DetailsPage{Limit: 1} // the summary shows counts only
	if p.Tab != "" {
		if pg.Kind = usermerge.Kind(p.Tab); !pg.Kind.Valid() {
			return usermerge.Errorf(usermerge.NotFound, "no_such_kind", "there is no record kind %q", p.Tab)
		}
		pg.Limit = detailsPerPage
		if q.Get("limit") == strconv.Itoa(detailsLongPage) {
			pg.Limit = detailsLongPage
		}
		if s := q.Get("offset"); s != "" {
			if pg.Offset, err = strconv.Atoi(s); err != nil || pg.Offset < 0 || pg.Offset > 1_000_000_000 {
				return badRequest("the offset must be a whole number of records, 0 or more")
			}
		}
	}
	d, err := u.s.eng.MergeDetailsPage(r.Context(), c.Caller, id, pg)
	if err != nil {
		return err
	}
	p.D = d
	p.Title, p.Section = fmt.Sprintf("Merge %d", d.Merge.ID), "merges"
	base := fmt.Sprintf("%s/merges/%d", c.page.T(), d.Merge.ID)
	p.OperationURL = fmt.Sprintf("%s/merges?operation=%d&state=all", c.page.T(), d.Merge.OperationID)
	if c.page.CanEdit && c.rights.Tenant.Policy.RevertAllowed && d.Merge.DisplayState == usermerge.StateActive {
		p.RevertURL = fmt.Sprintf("%s/merges?revert=%d", c.page.T(), d.Merge.ID)
		p.RevertOpURL = fmt.Sprintf("%s/operations/%d/revert", c.page.T(), d.Merge.OperationID)
	}
	if d.Merge.Batch != 0 {
		p.BatchURL = fmt.Sprintf("%s/batches/%d", c.page.T(), d.Merge.Batch)
	}
	p.Tabs = append(p.Tabs, detailsTab{Label: "Summary", URL: base, Current: p.Tab == ""})
	for _, k := range usermerge.Kinds {
		tabURL := base + "?tab=" + url.QueryEscape(string(k))
		p.Tabs = append(p.Tabs, detailsTab{Label: k.Spec().Title, URL: tabURL, N: countsTotal(d.Merge.Counts[k]), Current: p.Tab == string(k)})
	}
	for _, kd := range d.Kinds {
		tabURL := base + "?tab=" + url.QueryEscape(string(kd.Kind))
		if p.Tab == "" {
			p.Summary = append(p.Summary, kindSummary{Label: kd.Kind.Spec().Title, Rule: kd.Rule, URL: tabURL, Counts: kd.Counts})
			continue
		}
		p.Kind = newKindView(kd, d.Merge, u.loginOf(r, c))
		p.Pager = newRecordPager(kd, tabURL, pg.Limit)
	}
	if d.Revert != nil {
		for _, k := range d.Revert.KeptNewer {
			p.KeptNewer = append(p.KeptNewer, keptRow{Kind: k.Kind.Label(), Record: k.RecordID,
				Merged: valuesText(k.Merged), Current: valuesText(k.Current), Before: valuesText(k.Before)})
		}
	}
	return u.render(w, http.StatusOK, "details", p)
}

// recordPager pages one kind's records: "Records 1,001–2,000 of 5,300",
// with the previous and next pages and a link to longer pages.
type recordPager struct {
	Text             string // which records the page lists, "" when they fit on one page
	PrevURL, NextURL string
	FirstURL         string // the offset was past the last record
	LongURL          string // the same records, 1,000 a page
}

func newRecordPager(kd usermerge.KindDetails, tabURL string, limit int) recordPager {
	at := func(offset, limit int) string {
		u := tabURL
		if limit != detailsPerPage {
			u += "&limit=" + strconv.Itoa(limit)
		}
		if offset > 0 {
			u += "&offset=" + strconv.Itoa(offset)
		}
		return u
	}
	var pg recordPager
	n := len(kd.Records)
	switch {
	case n == 0 && kd.Offset > 0 && kd.Total > 0:
		pg.FirstURL = at(0, limit)
		return pg
	case kd.Offset == 0 && kd.NextOffset == nil:
		return pg // everything on one page
	}
	pg.Text = fmt.Sprintf("Records %s–%s of %s", grouped(int64(kd.Offset+1)), grouped(int64(kd.Offset+n)), grouped(kd.Total))
	if kd.Offset > 0 {
		pg.PrevURL = at(max(0, kd.Offset-limit), limit)
	}
	if kd.NextOffset != nil {
		pg.NextURL = at(*kd.NextOffset, limit)
	}
	if limit < detailsLongPage {
		pg.LongURL = at(kd.Offset, detailsLongPage)
	}
	return pg
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
