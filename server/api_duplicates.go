package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"usermerge"
	"usermerge/engine"
	"usermerge/match"
)

// Finding duplicates over the API (PRODUCT.md §11): the review queue, the
// dismissals, detection runs as background jobs, the check of one account,
// and the tenant's matching rules. Every rule is the engine's; handlers
// parse, call and answer.

func (s *Server) duplicateRoutes(t string) []route {
	return []route{
		{"GET", t + "/duplicates", tenant, s.listDuplicates},
		{"GET", t + "/duplicates/{id}", tenant, s.duplicate},
		{"POST", t + "/duplicates/{id}/dismiss", tenant, s.dismissDuplicate},
		{"POST", t + "/duplicates/check", tenant, s.checkDuplicates},
		{"POST", t + "/duplicates/runs", tenant, s.startDetection},
		{"GET", t + "/duplicates/runs/latest", tenant, s.latestDetection},
		{"GET", t + "/duplicates/runs/{id}", tenant, s.detectionRun},
		{"GET", t + "/dismissals", tenant, s.listDismissals},
		{"POST", t + "/dismissals", tenant, s.dismissPair},
		{"GET", t + "/settings/matching", tenant, s.matchingRules},
		{"PUT", t + "/settings/matching", tenant, s.updateMatchingRules},
		{"POST", t + "/settings/matching/preview", tenant, s.previewMatchingRules},
	}
}

// parseGrade reads a grade filter ("" for every grade).
func parseGrade(s string) (match.Grade, error) {
	if s == "" {
		return "", nil
	}
	for _, g := range usermerge.Grades {
		if string(g) == s {
			return g, nil
		}
	}
	return "", badRequest("grade must be certain, probable or possible, not %q", s)
}

// normalPage gives a page's lists and counts their empty forms, so that a
// client always reads a list and a count for each grade, never null.
func normalPage(p usermerge.SuggestionPage) usermerge.SuggestionPage {
	if p.Suggestions == nil {
		p.Suggestions = []usermerge.DuplicateSuggestion{}
	}
	p.Counts = usermerge.GradeCounts(p.Counts)
	for i := range p.Suggestions {
		p.Suggestions[i] = normalSuggestion(p.Suggestions[i])
	}
	return p
}

func normalSuggestion(sg usermerge.DuplicateSuggestion) usermerge.DuplicateSuggestion {
	if sg.Accounts == nil {
		sg.Accounts = []usermerge.AccountSummary{}
	}
	if sg.Pairs == nil {
		sg.Pairs = []match.Pair{}
	}
	for i := range sg.Pairs {
		if sg.Pairs[i].Evidence == nil {
			sg.Pairs[i].Evidence = []match.Evidence{}
		}
	}
	return sg
}

func (s *Server) listDuplicates(w http.ResponseWriter, r *http.Request, c *call) error {
	var f usermerge.SuggestionFilter
	var err error
	if f.Limit, err = queryInt(r, "limit", 50, 1, 500); err != nil {
		return err
	}
	if f.Offset, err = queryInt(r, "offset", 0, 0, 1_000_000_000); err != nil {
		return err
	}
	if f.Grade, err = parseGrade(r.URL.Query().Get("grade")); err != nil {
		return err
	}
	page, err := s.eng.Suggestions(r.Context(), c.Caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, normalPage(page))
	return nil
}

func (s *Server) duplicate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	sg, err := s.eng.Suggestion(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, normalSuggestion(sg))
	return nil
}

func dismissalsAnswer(ds []usermerge.Dismissal) usermerge.DismissalsAnswer {
	if ds == nil {
		ds = []usermerge.Dismissal{}
	}
	return usermerge.DismissalsAnswer{Dismissals: ds}
}

func (s *Server) dismissDuplicate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	ds, err := s.eng.DismissSuggestion(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dismissalsAnswer(ds))
	return nil
}

// DismissBody names two accounts that are not the same person.
type DismissBody struct {
	A string `json:"a"`
	B string `json:"b"`
}

func (s *Server) dismissPair(w http.ResponseWriter, r *http.Request, c *call) error {
	var b DismissBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	b.A, b.B = strings.TrimSpace(b.A), strings.TrimSpace(b.B)
	if b.A == "" || b.B == "" {
		return badRequest(`name both accounts: {"a": "<id or login>", "b": "<id or login>"}`)
	}
	if len(b.A) > 200 || len(b.B) > 200 {
		return badRequest("an account reference is limited to 200 bytes")
	}
	if b.A == b.B {
		return usermerge.Errorf(usermerge.Invalid, "same_account", "a and b name the same account; name two different accounts")
	}
	d, err := s.eng.DismissPair(r.Context(), c.Caller, b.A, b.B)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) listDismissals(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := queryInt(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, 1_000_000_000)
	if err != nil {
		return err
	}
	ds, err := s.eng.Dismissals(r.Context(), c.Caller, limit, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dismissalsAnswer(ds))
	return nil
}

// RunBody is the body of a request to start a detection run; it may be
// left out (a run over what changed since the last one).
type RunBody struct {
	Full bool `json:"full"`
}

func (s *Server) startDetection(w http.ResponseWriter, r *http.Request, c *call) error {
	var b RunBody
	if r.ContentLength != 0 {
		if err := decode(w, r, &b); err != nil {
			return err
		}
	}
	run, err := s.startRun(r.Context(), c.Caller, engine.DetectOptions{Full: b.Full})
	if err != nil {
		return err
	}
	w.Header().Set("Location", r.URL.Path+"/"+strconv.FormatInt(run.ID, 10))
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

// startRun records a detection run and does its work in the background,
// in this process, until it ends or the server shuts down (the run is then
// marked failed as cancelled; a process that dies instead leaves it
// running, and the next start recovers it).
func (s *Server) startRun(ctx context.Context, c engine.Caller, opt engine.DetectOptions) (usermerge.DetectionRun, error) {
	run, err := s.eng.StartDetection(ctx, c, opt)
	if err != nil {
		return run, err
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if _, err := s.eng.RunDetection(s.bgCtx, c, run.ID, nil); err != nil && s.bgCtx.Err() == nil {
			s.log.Error("duplicate detection failed", "tenant", c.Tenant, "run", run.ID, "err", err)
		}
	}()
	return run, nil
}

func (s *Server) latestDetection(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := s.eng.DetectionRun(r.Context(), c.Caller, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (s *Server) detectionRun(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	run, err := s.eng.DetectionRun(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// CheckBody is the body of a check: an existing account (Account, its id,
// login or external ID), or a new one described by the other fields.
type CheckBody struct {
	Account     string                 `json:"account,omitempty"`
	Login       string                 `json:"login,omitempty"`
	Name        string                 `json:"name,omitempty"`
	Email       string                 `json:"email,omitempty"`
	Attributes  map[string]string      `json:"attributes,omitempty"`
	ExternalIDs []usermerge.ExternalID `json:"external_ids,omitempty"`
}

// candidate parses the body into the engine's arguments, refusing a body
// that names both an existing account and a new one's facts, or neither.
func (b CheckBody) candidate() (string, usermerge.Account, error) {
	ref := strings.TrimSpace(b.Account)
	described := b.Login != "" || b.Name != "" || b.Email != "" || len(b.Attributes) > 0 || len(b.ExternalIDs) > 0
	switch {
	case ref != "" && described:
		return "", usermerge.Account{}, badRequest("name an existing account (account) or describe a new one (name, email, attributes, …), not both")
	case ref != "":
		if len(ref) > 200 {
			return "", usermerge.Account{}, badRequest("an account reference is limited to 200 bytes")
		}
		return ref, usermerge.Account{}, nil
	case !described:
		return "", usermerge.Account{}, badRequest(`name an existing account ({"account": "<id or login>"}) or describe a new one ({"name": "…", "email": "…"})`)
	}
	for _, f := range []struct{ name, v string }{{"login", b.Login}, {"name", b.Name}, {"email", b.Email}} {
		if utf8.RuneCountInString(f.v) > usermerge.MaxAttributeValue {
			return "", usermerge.Account{}, badRequest("%s is limited to %d characters", f.name, usermerge.MaxAttributeValue)
		}
	}
	if err := usermerge.ValidateAttributes(b.Attributes); err != nil {
		return "", usermerge.Account{}, err
	}
	if len(b.ExternalIDs) > 20 {
		return "", usermerge.Account{}, badRequest("a check takes at most 20 external IDs")
	}
	for _, x := range b.ExternalIDs {
		if strings.TrimSpace(x.System) == "" || strings.TrimSpace(x.Value) == "" || len(x.System) > 200 || len(x.Value) > 200 {
			return "", usermerge.Account{}, badRequest("each external ID needs a system and a value, each at most 200 bytes")
		}
	}
	a := usermerge.Account{Login: strings.TrimSpace(b.Login), Name: strings.TrimSpace(b.Name), Email: strings.TrimSpace(b.Email),
		Attributes: usermerge.CompactAttributes(b.Attributes), ExternalIDs: b.ExternalIDs}
	return "", a, nil
}

func (s *Server) checkDuplicates(w http.ResponseWriter, r *http.Request, c *call) error {
	var b CheckBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	ref, cand, err := b.candidate()
	if err != nil {
		return err
	}
	cand.TenantID = c.Tenant
	list, err := s.eng.CheckAccount(r.Context(), c.Caller, ref, cand)
	if err != nil {
		return err
	}
	if list == nil {
		list = []usermerge.DuplicateCandidate{}
	}
	writeJSON(w, http.StatusOK, usermerge.CandidatesAnswer{Candidates: list})
	return nil
}

func (s *Server) matchingRules(w http.ResponseWriter, r *http.Request, c *call) error {
	rules, err := s.eng.MatchingRules(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usermerge.NewMatchingRulesAnswer(rules))
	return nil
}

// decodeRules reads a body of matching rules; the engine checks them.
func decodeRules(w http.ResponseWriter, r *http.Request) (match.Rules, error) {
	var rules match.Rules
	err := decode(w, r, &rules)
	return rules, err
}

func (s *Server) updateMatchingRules(w http.ResponseWriter, r *http.Request, c *call) error {
	rules, err := decodeRules(w, r)
	if err != nil {
		return err
	}
	saved, err := s.eng.UpdateMatchingRules(r.Context(), c.Caller, rules)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usermerge.NewMatchingRulesAnswer(saved))
	return nil
}

func (s *Server) previewMatchingRules(w http.ResponseWriter, r *http.Request, c *call) error {
	rules, err := decodeRules(w, r)
	if err != nil {
		return err
	}
	p, err := s.eng.PreviewMatchingRules(r.Context(), c.Caller, rules)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usermerge.NormalRulesPreview(p))
	return nil
}
