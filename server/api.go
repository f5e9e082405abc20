package server

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
)

func (s *Server) apiRoutes() []route {
	const t = "/api/v1/tenants/{tenant}"
	routes := []route{
		{"GET", "/api/v1/openapi.json", public, s.openAPI},
		{"POST", "/api/v1/session", public, s.signIn},
		{"GET", "/api/v1/session", session, s.whoAmI},
		{"DELETE", "/api/v1/session", session, s.signOut},

		{"GET", t + "/accounts", tenant, s.searchAccounts},
		{"GET", t + "/accounts/{id}", tenant, s.account},
		{"POST", t + "/accounts/{id}/activate", tenant, s.activate},
		{"POST", t + "/accounts/{id}/deactivate", tenant, s.deactivate},
		{"GET", t + "/accounts/{id}/deletion", tenant, s.deletionImpact},
		{"DELETE", t + "/accounts/{id}", tenant, s.deleteAccount},

		{"POST", t + "/merges/preview", tenant, s.preview},
		{"POST", t + "/merges", tenant, s.merge},
		{"GET", t + "/merges", tenant, s.listMerges},
		{"GET", t + "/merges/{id}", tenant, s.mergeDetails},
		{"POST", t + "/merges/revert", tenant, s.revert},

		{"GET", t + "/settings", tenant, s.settings},
		{"PUT", t + "/settings", tenant, s.updateSettings},

		{"GET", t + "/export", tenant, s.export},
		{"POST", t + "/import", tenant, s.importData},

		{"GET", t + "/tokens", tenant, s.tokens},
		{"POST", t + "/tokens", tenant, s.createToken},
		{"DELETE", t + "/tokens/{id}", tenant, s.revokeToken},
	}
	routes = append(routes, s.duplicateRoutes(t)...)
	routes = append(routes, s.eventRoutes(t)...)
	routes = append(routes, s.webhookRoutes(t)...)
	return append(routes, s.batchRoutes(t)...)
}

// queryParams lists the query parameters each API route takes, by
// "METHOD pattern"; a route not listed takes none. Any other parameter is
// refused (checkQuery), so a misspelt filter is never silently ignored.
var queryParams = map[string][]string{
	"GET /api/v1/tenants/{tenant}/accounts":         {"q", "status", "limit", "offset"},
	"DELETE /api/v1/tenants/{tenant}/accounts/{id}": {"confirm"},
	"GET /api/v1/tenants/{tenant}/merges":           {"source", "target", "operation", "batch", "state", "from", "to", "page", "per_page"},
	"GET /api/v1/tenants/{tenant}/merges/{id}":      {"kind", "limit", "offset"},
	"GET /api/v1/tenants/{tenant}/export":           {"account", "format"},
	"GET /api/v1/tenants/{tenant}/duplicates":       {"grade", "limit", "offset"},
	"GET /api/v1/tenants/{tenant}/dismissals":       {"limit", "offset"},

	"POST /api/v1/tenants/{tenant}/batches/check":      {"name"},
	"POST /api/v1/tenants/{tenant}/batches/dry-run":    {"name", "format"},
	"POST /api/v1/tenants/{tenant}/batches":            {"name", "start"},
	"GET /api/v1/tenants/{tenant}/batches":             {"limit", "offset"},
	"GET /api/v1/tenants/{tenant}/batches/{id}/rows":   {"status", "limit", "offset"},
	"GET /api/v1/tenants/{tenant}/batches/{id}/report": {"format"},

	"GET /api/v1/tenants/{tenant}/events":     {"after", "type", "limit"},
	"GET /api/v1/tenants/{tenant}/resolve":    {"ref"},
	"GET /api/v1/tenants/{tenant}/deliveries": {"webhook", "status", "limit", "offset"},
}

// checkQuery refuses query parameters that route rt does not take, naming
// them and the ones it takes.
func checkQuery(r *http.Request, rt route) error {
	takes := queryParams[rt.method+" "+rt.pattern]
	var unknown []string
	for name := range r.URL.Query() {
		if !slices.Contains(takes, name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	what := "unknown query parameter "
	if len(unknown) > 1 {
		what = "unknown query parameters "
	}
	accepts := "this endpoint takes no query parameters"
	if len(takes) > 0 {
		accepts = "this endpoint takes " + strings.Join(takes, ", ")
	}
	return &usermerge.Error{Code: badRequestCode, Reason: "unknown_parameter",
		Message: what + usermerge.JoinWords(unknown) + "; " + accepts}
}

// --- sign-in ---

type sessionInfo struct {
	Login   string    `json:"login"`
	Tenants []string  `json:"tenants"`
	CSRF    string    `json:"csrf_token"`
	Expires time.Time `json:"expires_at"`
}

func (s *Server) whoAmI(w http.ResponseWriter, r *http.Request, c *call) error {
	all, err := s.eng.SessionTenants(r.Context(), c.secret)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return usermerge.Errorf(usermerge.Unauthenticated, "no_session", "your session has ended; sign in again")
	}
	info := sessionInfo{Login: all[0].Login, CSRF: all[0].CSRF, Expires: all[0].Expires, Tenants: []string{}}
	for _, x := range all {
		info.Tenants = append(info.Tenants, x.Tenant)
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.eng.SignOut(r.Context(), c.secret); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- accounts ---

func (s *Server) searchAccounts(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := queryInt(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000_000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if len(q.Get("q")) > 200 {
		return badRequest("q is limited to 200 bytes")
	}
	switch q.Get("status") {
	case "", "active", "inactive", "deleted":
	default:
		return badRequest("status must be active, inactive or deleted, not %q", q.Get("status"))
	}
	list, err := s.eng.SearchAccounts(r.Context(), c.Caller, q.Get("q"), q.Get("status"), limit, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usermerge.AccountsAnswer{Accounts: list})
	return nil
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.eng.AccountInfo(r.Context(), c.Caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.eng.Activate(r.Context(), c.Caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.eng.Deactivate(r.Context(), c.Caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deletionImpact(w http.ResponseWriter, r *http.Request, c *call) error {
	im, err := s.eng.DeletionImpact(r.Context(), c.Caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	confirm := false
	switch r.URL.Query().Get("confirm") {
	case "", "false":
	case "true":
		confirm = true
	default:
		return badRequest("confirm must be true or false")
	}
	im, err := s.eng.Delete(r.Context(), c.Caller, r.PathValue("id"), confirm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

// --- merges ---

// MergeBody is the body of preview and merge requests.
type MergeBody struct {
	Target          string   `json:"target"`
	Sources         []string `json:"sources"`
	MoveExternalIDs *bool    `json:"move_external_ids,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	// Profile: field ("name", "email") -> the source (login or id) whose value the kept account takes.
	Profile map[string]string `json:"profile,omitempty"`
}

func (b MergeBody) request(tenant string) usermerge.MergeRequest {
	return usermerge.MergeRequest{TenantID: tenant, Target: b.Target, Sources: b.Sources, MoveExternalIDs: b.MoveExternalIDs, Reason: b.Reason,
		Profile: b.Profile}
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, c *call) error {
	var b MergeBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	p, err := s.eng.Preview(r.Context(), c.Caller, b.request(c.Tenant))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) merge(w http.ResponseWriter, r *http.Request, c *call) error {
	var b MergeBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ms, err := s.eng.Merge(r.Context(), c.Caller, b.request(c.Tenant))
	if err != nil {
		return err
	}
	s.metrics.merges.Add(float64(len(ms)))
	writeJSON(w, http.StatusCreated, usermerge.MergesAnswer{Merges: ms})
	return nil
}

func (s *Server) listMerges(w http.ResponseWriter, r *http.Request, c *call) error {
	var f usermerge.MergeFilter
	var err error
	if f.From, err = queryTime(r, "from", false); err != nil {
		return err
	}
	if f.To, err = queryTime(r, "to", true); err != nil {
		return err
	}
	if f.Page, err = queryInt(r, "page", 1, 1, 1_000_000); err != nil {
		return err
	}
	if f.PerPage, err = queryInt(r, "per_page", 50, 1, 500); err != nil {
		return err
	}
	q := r.URL.Query()
	if s := q.Get("operation"); s != "" {
		if f.Operation, err = strconv.ParseInt(s, 10, 64); err != nil || f.Operation < 1 {
			return badRequest("operation must be an operation's number, a whole number from 1")
		}
	}
	if s := q.Get("batch"); s != "" {
		if f.Batch, err = strconv.ParseInt(s, 10, 64); err != nil || f.Batch < 1 {
			return badRequest("batch must be a batch's number, a whole number from 1")
		}
	}
	f.Source, f.Target, f.State = q.Get("source"), q.Get("target"), usermerge.MergeState(q.Get("state"))
	if len(f.Source) > 200 || len(f.Target) > 200 {
		return badRequest("source and target searches are limited to 200 bytes")
	}
	switch f.State {
	case "", "all", usermerge.StateActive, usermerge.StateReverted, usermerge.StatePermanent, usermerge.StateIrreversible, usermerge.StateTargetDeleted:
	default:
		return badRequest("state must be one of active, reverted, permanent, irreversible, target_deleted or all, not %q", f.State)
	}
	page, err := s.eng.ListMerges(r.Context(), c.Caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) mergeDetails(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	pg := usermerge.DetailsPage{}
	if pg.Limit, err = queryInt(r, "limit", 100, 1, usermerge.MaxDetailsLimit); err != nil {
		return err
	}
	if pg.Offset, err = queryInt(r, "offset", 0, 0, 1_000_000_000); err != nil {
		return err
	}
	if name := r.URL.Query().Get("kind"); name != "" {
		k, ok := usermerge.KindNamed(name)
		if !ok {
			return badRequest("kind must be a record kind such as signin, badge or attempt, not %q", name)
		}
		pg.Kind = k
	}
	if pg.Offset > 0 && pg.Kind == "" {
		return badRequest("offset pages one kind's records: name the kind too (kind=signin)")
	}
	d, err := s.eng.MergeDetailsPage(r.Context(), c.Caller, id, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// RevertBody is the body of a revert request.
type RevertBody struct {
	Merges []int64 `json:"merges"`
}

func (s *Server) revert(w http.ResponseWriter, r *http.Request, c *call) error {
	var b RevertBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	for _, id := range b.Merges {
		if id <= 0 {
			return badRequest("merge ids are positive whole numbers")
		}
	}
	rep, err := s.eng.Revert(r.Context(), c.Caller, b.Merges)
	if err != nil {
		return err
	}
	s.metrics.reverts.Add(float64(len(rep.Reverted)))
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// --- settings ---

// SettingsAnswer is the settings answer, shared with the CLI.
type SettingsAnswer = usermerge.SettingsAnswer

func settingsAnswer(t usermerge.Tenant) SettingsAnswer { return usermerge.NewSettingsAnswer(t) }

func (s *Server) settings(w http.ResponseWriter, r *http.Request, c *call) error {
	t, err := s.eng.Settings(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsAnswer(t))
	return nil
}

func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	var ch engine.SettingsChange
	if err := decode(w, r, &ch); err != nil {
		return err
	}
	if ch.Preset == "" && len(ch.Set) == 0 {
		return badRequest(`name a preset ("preset": "schoox") or settings ("set": {"badges": "stay"})`)
	}
	t, err := s.eng.UpdateSettings(r.Context(), c.Caller, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsAnswer(t))
	return nil
}

// --- import and export ---

func (s *Server) export(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "ndjson"
	}
	// Check first, so that a refusal is still a JSON error, not half a file.
	if _, err := s.eng.CheckExport(r.Context(), c.Caller, q.Get("account"), format); err != nil {
		return err
	}
	ctype, ext := "application/x-ndjson", "ndjson"
	if format == "csv" {
		ctype, ext = "text/csv; charset=utf-8", "csv"
	}
	// The export streams for as long as it takes, each chunk within the
	// write timeout.
	bw := bufio.NewWriterSize(stallWriter{w: w, rc: http.NewResponseController(w), d: s.timeouts.Write}, 64<<10)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.Tenant+`.`+ext+`"`)
	if err := s.eng.Export(r.Context(), c.Caller, bw, q.Get("account"), format); err != nil {
		// The status is already sent: abort the connection so the client
		// sees a failed transfer instead of a file that merely ends early.
		s.log.Error("export failed after the answer started", "tenant", c.Tenant, "err", err)
		panic(http.ErrAbortHandler)
	}
	return bw.Flush()
}

// --- tokens ---

func (s *Server) tokens(w http.ResponseWriter, r *http.Request, c *call) error {
	list, err := s.eng.Tokens(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

type tokenBody struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	var b tokenBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	secret, tok, err := s.eng.CreateToken(r.Context(), c.Caller, b.Name, b.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "info": tok,
		"note": usermerge.TokenNote})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.eng.RevokeToken(r.Context(), c.Caller, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
