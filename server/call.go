package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
)

// SessionCookie names the session cookie.
const SessionCookie = "usermerge_session"

// CSRFHeader carries a session's CSRF token on every unsafe request made
// with the session cookie (API tokens need none: browsers never send them
// by themselves).
const CSRFHeader = "X-CSRF-Token"

// call is what a handler knows about the request's caller.
type call struct {
	engine.Caller
	secret string // the session cookie's secret, if signed in by cookie
	csrf   string
}

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w, status: http.StatusOK}
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // deliberate: let net/http drop the connection
					panic(p)
				}
				s.log.Error("panic", "route", rt.pattern, "panic", p, "stack", string(debug.Stack()))
				writeError(sw, r, s.log, usermerge.InternalError(fmt.Errorf("panic: %v", p)))
			}
			s.metrics.observe(rt.method+" "+rt.pattern, sw.status, time.Since(start))
		}()
		c := &call{}
		var err error
		if !usermerge.Storable(r.URL.Path) || !usermerge.Storable(r.URL.RawQuery) || !cleanQuery(r) {
			err = badRequest("the path and query must be valid UTF-8 without NUL characters")
		} else {
			err = s.authenticate(r, rt.auth, c)
		}
		if err == nil {
			err = checkQuery(r, rt)
		}
		if err == nil {
			err = rt.h(sw, r, c)
		}
		if err != nil {
			s.metrics.refused(err)
			writeError(sw, r, s.log, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request, a auth, c *call) error {
	if a == public {
		return nil
	}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		c.secret = ck.Value
	}
	if a == session {
		if c.secret == "" {
			return errNoCredentials
		}
		return nil
	}
	c.Tenant = r.PathValue("tenant")
	if c.Tenant == "" || len(c.Tenant) > 200 {
		return badRequest("the tenant in the path is missing or too long")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return usermerge.Errorf(usermerge.Unauthenticated, "bad_token", "use the header \"Authorization: Bearer <token>\"")
		}
		login, err := s.eng.TokenAdmin(r.Context(), c.Tenant, strings.TrimSpace(token))
		if err != nil {
			return err
		}
		c.Admin, c.secret, c.ViaToken = login, "", true
		return nil
	}
	if c.secret == "" {
		return errNoCredentials
	}
	sess, err := s.eng.Session(r.Context(), c.Tenant, c.secret)
	if err != nil {
		return err
	}
	c.Admin, c.csrf = sess.Login, sess.CSRF
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// From the header, or a form's body; never from the query string,
		// where it would end up in logs and Referer headers.
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			got = r.PostFormValue("csrf_token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return usermerge.Errorf(usermerge.Forbidden, "csrf_failed", "the request lacks this session's CSRF token (header %s)", CSRFHeader)
		}
	}
	return nil
}

// cleanQuery checks the decoded query values too (%00, %FF).
func cleanQuery(r *http.Request) bool {
	for k, vs := range r.URL.Query() {
		if !usermerge.Storable(k) {
			return false
		}
		for _, v := range vs {
			if !usermerge.Storable(v) {
				return false
			}
		}
	}
	return true
}

var errNoCredentials = usermerge.Errorf(usermerge.Unauthenticated, "no_credentials", "sign in (POST /api/v1/session) or send an API token (Authorization: Bearer <token>)")

var errNotFoundRoute = usermerge.Errorf(usermerge.NotFound, "no_such_endpoint", "no such endpoint; see /api/v1/openapi.json")

// badRequestCode marks malformed requests (bad JSON, wrong types, bad
// parameters): 400, as opposed to well-formed requests that break a rule
// (usermerge.Invalid, 422).
const badRequestCode usermerge.Code = "bad_request"

func badRequest(format string, args ...any) error {
	return &usermerge.Error{Code: badRequestCode, Reason: "bad_request", Message: fmt.Sprintf(format, args...)}
}

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[usermerge.Code]int{
	badRequestCode:            http.StatusBadRequest,
	unsupportedMediaCode:      http.StatusUnsupportedMediaType,
	usermerge.Unauthenticated: http.StatusUnauthorized,
	usermerge.Forbidden:       http.StatusForbidden,
	usermerge.NotFound:        http.StatusNotFound,
	usermerge.Conflict:        http.StatusConflict,
	usermerge.Invalid:         http.StatusUnprocessableEntity,
	usermerge.RateLimited:     http.StatusTooManyRequests,
	usermerge.Unavailable:     http.StatusServiceUnavailable,
	timeoutCode:               http.StatusRequestTimeout,
	usermerge.Internal:        http.StatusInternalServerError,
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
		// Problems lists each row of a batch refused whole (reason
		// batch_refused), by line.
		Problems []usermerge.RowProblem `json:"problems,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, r *http.Request, log interface {
	Error(string, ...any)
}, err error) {
	var de *usermerge.Error
	if !errors.As(err, &de) {
		de = usermerge.InternalError(err)
	}
	status, ok := statusOf[de.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var body ErrorBody
	body.Error.Code, body.Error.Reason, body.Error.Message = string(de.Code), de.Reason, de.Message
	var bp *usermerge.BatchProblems
	if errors.As(err, &bp) && status < 500 {
		body.Error.Problems = bp.Problems
		if body.Error.Problems == nil {
			body.Error.Problems = []usermerge.RowProblem{}
		}
	}
	if status == http.StatusInternalServerError {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		body.Error.Code, body.Error.Reason, body.Error.Message = string(usermerge.Internal), "internal", "internal error"
		body.Error.Problems = nil
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="usermerge"`)
	}
	setRetryAfter(w, status)
	writeJSON(w, status, body)
}

// RetryAfterSeconds is what a 503 answer (the database connection lost,
// concurrent changes in the way) tells the client to wait before trying
// the same request again.
const RetryAfterSeconds = 5

func setRetryAfter(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
}
