package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"usermerge"
	"usermerge/engine"
)

// Accounts: list and search; activate, deactivate and delete with the
// messages of PRODUCT.md §7, which come from the engine.

const accountsPerPage = 25

type accountsPage struct {
	uiPage
	Q        string
	Status   string
	Statuses []uiOption
	Rows     []usermerge.AccountSummary
	Offset   int
	PrevURL  string
	NextURL  string
	Back     string
	// Refused says, per account id, why activating it would be refused:
	// such a row shows the reason instead of an Activate button.
	Refused map[string]string
	// CanRevert: the admin may revert merges here (offer the merge's revert
	// next to the reason).
	CanRevert bool
}

// Activatable reports whether a row offers an ordinary Activate button.
func (p accountsPage) Activatable(a usermerge.AccountSummary) bool {
	_, refused := p.Refused[a.ID]
	return !a.Deleted() && a.Status != usermerge.Active && !refused
}

// RevertURL opens the revert confirmation of the merge that holds a merged
// account, when the admin may revert it.
func (p accountsPage) RevertURL(a usermerge.AccountSummary) string {
	if !p.CanRevert || a.MergedBy == 0 {
		return ""
	}
	return p.T() + "/merges?revert=" + strconv.FormatInt(a.MergedBy, 10)
}

func (u *uiServer) accounts(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	q := r.URL.Query()
	p := accountsPage{uiPage: c.page, Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status")}
	p.Title, p.Section = "Accounts", "accounts"
	if len(p.Q) > 200 {
		p.Q = p.Q[:200]
	}
	p.Offset, _ = strconv.Atoi(q.Get("offset"))
	p.Offset = max(0, min(p.Offset, 1_000_000))
	for _, o := range []uiOption{{"", "Any status", false}, {"active", "Active", false}, {"inactive", "Inactive", false}, {"deleted", "Deleted", false}} {
		o.Selected = o.Value == p.Status
		p.Statuses = append(p.Statuses, o)
	}
	at := func(offset int) string {
		v := url.Values{}
		if p.Q != "" {
			v.Set("q", p.Q)
		}
		if p.Status != "" {
			v.Set("status", p.Status)
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		return c.page.T() + "/accounts?" + v.Encode()
	}
	p.Back = at(p.Offset)
	list, err := u.s.eng.SearchAccounts(r.Context(), c.Caller, p.Q, p.Status, accountsPerPage+1, p.Offset)
	status := http.StatusOK
	if err != nil {
		if c := usermerge.ErrorCode(err); c == usermerge.Internal || c == usermerge.Unauthenticated {
			return err
		}
		p.Error, status = usermerge.ErrorMessage(err), statusOf[usermerge.ErrorCode(err)]
	}
	if len(list) > accountsPerPage {
		list = list[:accountsPerPage]
		p.NextURL = at(p.Offset + accountsPerPage)
	}
	if p.Offset > 0 {
		p.PrevURL = at(max(0, p.Offset-accountsPerPage))
	}
	p.Rows = list
	// Ask the engine which Activate buttons it would refuse, so the page
	// says why before the click.
	if c.page.CanEdit {
		p.CanRevert = c.rights.Tenant.Policy.RevertAllowed
		var inactive []string
		for _, a := range list {
			if !a.Deleted() && a.Status != usermerge.Active {
				inactive = append(inactive, a.ID)
			}
		}
		if len(inactive) > 0 {
			if p.Refused, err = u.s.eng.ActivationRefusals(r.Context(), c.Caller, inactive); err != nil {
				return err
			}
		}
	}
	return u.render(w, status, "accounts", p)
}

func (u *uiServer) doActivate(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	a, err := u.s.eng.Activate(r.Context(), c.Caller, r.PathValue("id"))
	return u.done(w, r, backTo(r, c.Tenant, c.page.T()+"/accounts"), a.Login+" ("+a.Name+") is active.", err)
}

func (u *uiServer) doDeactivate(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	a, err := u.s.eng.Deactivate(r.Context(), c.Caller, r.PathValue("id"))
	return u.done(w, r, backTo(r, c.Tenant, c.page.T()+"/accounts"), a.Login+" ("+a.Name+") is inactive.", err)
}

type deletePage struct {
	uiPage
	Impact engine.DeleteImpact
	Back   string
}

// deletePage says what deleting an account does before it is done: how many
// merged accounts' data goes with a target, which merges become permanent.
func (u *uiServer) deleteConfirm(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	im, err := u.s.eng.DeletionImpact(r.Context(), c.Caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := deletePage{uiPage: c.page, Impact: im, Back: c.page.T() + "/accounts?q=" + url.QueryEscape(im.Account.Login)}
	if b := r.URL.Query().Get("back"); strings.HasPrefix(b, c.page.T()+"/") && !strings.ContainsAny(b, "\\\r\n") {
		p.Back = b
	}
	p.Title, p.Section = "Delete "+im.Account.Login, "accounts"
	return u.render(w, http.StatusOK, "delete", p)
}

func (u *uiServer) doDelete(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	back := backTo(r, c.Tenant, c.page.T()+"/accounts")
	im, err := u.s.eng.Delete(r.Context(), c.Caller, r.PathValue("id"), r.PostForm.Get("confirm") == "true")
	if err != nil {
		return u.done(w, r, back, "", err)
	}
	text := im.Account.Login + " (" + im.Account.Name + ") is deleted."
	if im.MergedAccounts > 0 {
		text += fmt.Sprintf(" The data of %s went with it; those accounts may be activated again.", plural(im.MergedAccounts, "merged account", "merged accounts"))
	}
	if len(im.AsSource) > 0 {
		if len(im.AsSource) == 1 {
			text += fmt.Sprintf(" Its %s is now permanent; the data stays with the kept account.", usermerge.MergeList(im.AsSource))
		} else {
			text += fmt.Sprintf(" Its %s are now permanent; their data stays with the kept accounts.", usermerge.MergeList(im.AsSource))
		}
	}
	return u.done(w, r, back, text, nil)
}
