package server

import (
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"usermerge"
	"usermerge/engine"
)

// Sign-in over the API, and what guards every sign-in (API and UI): the
// request must come from this site, and each client address has a budget
// of failed sign-ins.

type signInRequest struct {
	Tenant   string `json:"tenant"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	if err := sameSite(r); err != nil {
		return err
	}
	var req signInRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Tenant == "" {
		return badRequest(`name the tenant to sign in to: {"tenant": "acme", "login": "...", "password": "..."}`)
	}
	in := engine.SignInRequest{Tenant: req.Tenant, Login: req.Login, Password: req.Password}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		in.Secret = ck.Value // a live session this tenant joins
	}
	out, err := s.checkSignIn(w, r, in)
	if err != nil {
		return err
	}
	// The browser keeps the cookie for the session's lifetime; the server
	// checks the session's own expiry on every request.
	s.setSessionCookie(w, out.Secret)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(engine.SessionLifetime.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// checkSignIn runs a sign-in within the client address's budget of
// failures: over budget, it is refused before any password is checked.
func (s *Server) checkSignIn(w http.ResponseWriter, r *http.Request, req engine.SignInRequest) (engine.SignedIn, error) {
	addr := clientAddr(r)
	if wait := s.signInLimit.wait(addr); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return engine.SignedIn{}, usermerge.Errorf(usermerge.RateLimited, "too_many_attempts",
			"too many failed sign-ins from your address; try again in %ds", secs)
	}
	out, err := s.eng.SignIn(r.Context(), req)
	if usermerge.ErrorCode(err) == usermerge.Unauthenticated {
		s.signInLimit.failed(addr)
	}
	return out, err
}

// clientAddr is the address the connection comes from. Forwarding headers
// are not trusted: behind a reverse proxy, every client shares the proxy's
// budget.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

const unsupportedMediaCode usermerge.Code = "unsupported_media_type"

// requireJSON refuses a sign-in body that is not declared JSON: a
// cross-site HTML form can send text/plain, x-www-form-urlencoded or
// multipart, never application/json.
func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &usermerge.Error{Code: unsupportedMediaCode, Reason: "unsupported_media_type",
			Message: "send the sign-in as JSON with the header \"Content-Type: application/json\""}
	}
	return nil
}

var errCrossSite = usermerge.Errorf(usermerge.Forbidden, "cross_site",
	"sign-in is refused from another site: open this server's own sign-in page")

// sameSite refuses a request a browser sent on behalf of another site
// (login CSRF): by Sec-Fetch-Site when the browser sends it, else by
// Origin. Requests with neither (programs, curl) pass.
func sameSite(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errCrossSite
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Host != r.Host {
		return errCrossSite
	}
	return nil
}

// AddressLimit is the budget of failed sign-ins per client address: Burst
// failures at once, and one more each Every.
type AddressLimit struct {
	Burst int
	Every time.Duration
}

// DefaultAddressLimit allows 20 failed sign-ins at once and then one every
// 30 seconds per client address.
var DefaultAddressLimit = AddressLimit{Burst: 20, Every: 30 * time.Second}

// addrLimiter counts failed sign-ins per client address in this process's
// memory (a leaky bucket): each instance of a deployment counts on its
// own. The per-tenant-and-login lockout is in the database and shared.
type addrLimiter struct {
	mu    sync.Mutex
	lim   AddressLimit
	now   func() time.Time
	level map[string]bucket
}

type bucket struct {
	level float64 // failures not yet forgiven
	at    time.Time
}

func newAddrLimiter(lim AddressLimit, now func() time.Time) *addrLimiter {
	if lim.Burst <= 0 || lim.Every <= 0 {
		lim = DefaultAddressLimit
	}
	return &addrLimiter{lim: lim, now: now, level: map[string]bucket{}}
}

// current is the bucket's level now.
func (l *addrLimiter) current(b bucket, now time.Time) float64 {
	return max(0, b.level-float64(now.Sub(b.at))/float64(l.lim.Every))
}

// wait says how long addr must wait before its next sign-in (0: now).
func (l *addrLimiter) wait(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.level[addr]
	if !ok {
		return 0
	}
	over := l.current(b, l.now()) - float64(l.lim.Burst-1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.lim.Every))
}

// failed counts a failed sign-in from addr.
func (l *addrLimiter) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.level) >= 100_000 { // forget addresses whose failures are all forgiven
		for a, b := range l.level {
			if l.current(b, now) == 0 {
				delete(l.level, a)
			}
		}
	}
	l.level[addr] = bucket{level: l.current(l.level[addr], now) + 1, at: now}
}
