package server

import (
	"net/http"
	"strconv"

	"usermerge"
)

// The events API (PRODUCT.md §13): the pull feed, for systems that cannot
// receive webhooks, and resolve, for systems that still hold old ids.

func (s *Server) eventRoutes(t string) []route {
	return []route{
		{"GET", t + "/events", tenant, s.events},
		{"GET", t + "/resolve", tenant, s.resolveQuery},
		{"POST", t + "/resolve", tenant, s.resolve},
	}
}

// ResolveBody names the references to resolve.
type ResolveBody struct {
	Refs []string `json:"refs"`
}

// ResolveAnswer answers each reference, in the order given.
type ResolveAnswer struct {
	Resolutions []usermerge.Resolution `json:"resolutions"`
}

// events answers GET /events?after=N&type=T&limit=N: the feed in commit
// order; "next" is the cursor of the following page.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *call) error {
	f := usermerge.EventFilter{Types: r.URL.Query()["type"]}
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			return badRequest("after must be the cursor of an earlier page (an event id, 0 or more), not %q", a)
		}
		f.After = n
	}
	var err error
	if f.Limit, err = queryInt(r, "limit", 100, 1, 1000); err != nil {
		return err
	}
	for _, t := range f.Types {
		if t == "" {
			return badRequest("type must name an event type, such as %s", usermerge.EventMergeCompleted)
		}
	}
	page, err := s.eng.Events(r.Context(), c.Caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) resolveQuery(w http.ResponseWriter, r *http.Request, c *call) error {
	refs := r.URL.Query()["ref"]
	if len(refs) == 0 {
		return badRequest("name the accounts to resolve with ref=, once for each")
	}
	return s.answerResolve(w, r, c, refs)
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, c *call) error {
	var b ResolveBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if len(b.Refs) == 0 {
		return badRequest(`refs must list the accounts to resolve: {"refs": ["id", "login", "system:value"]}`)
	}
	return s.answerResolve(w, r, c, b.Refs)
}

func (s *Server) answerResolve(w http.ResponseWriter, r *http.Request, c *call, refs []string) error {
	if len(refs) > usermerge.MaxResolveRefs {
		return badRequest("one call resolves at most %d references, not %d", usermerge.MaxResolveRefs, len(refs))
	}
	res, err := s.eng.Resolve(r.Context(), c.Caller, refs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ResolveAnswer{Resolutions: res})
	return nil
}
