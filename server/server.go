// Package server is usermerge over HTTP: the JSON API under /api/v1, the
// web admin UI under /ui, sign-in with sessions and API tokens, health and
// Prometheus metrics. Handlers parse the request, call the engine, and
// write the answer; every rule lives in the engine.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"usermerge/engine"
	"usermerge/store"
)

// Server serves one engine.
type Server struct {
	eng     *engine.Engine
	db      *store.DB
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	routes  []route
	// SecureCookies marks cookies Secure (set when served over HTTPS or
	// behind a TLS-terminating proxy).
	secure bool

	timeouts       Timeouts
	importTimeout  time.Duration
	maxImportBytes int64
	tempDir        string
	importing      sync.Map // tenant → struct{}: an import is being received or written
	signInLimit    *addrLimiter

	// bgCtx is the context of work the server does in the background
	// (detection runs); Close ends it and waits for that work.
	bgCtx      context.Context
	stopBG     context.CancelFunc
	background sync.WaitGroup
}

// Config configures a Server.
type Config struct {
	Engine        *engine.Engine
	Logger        *slog.Logger
	Registry      *prometheus.Registry // nil: a new one
	SecureCookies bool

	// Timeouts of HTTPServer; zero fields take the defaults.
	Timeouts Timeouts
	// ImportTimeout bounds how long an import's body may take to arrive
	// (0: DefaultImportTimeout).
	ImportTimeout time.Duration
	// MaxImportBytes caps an import's body (0: DefaultMaxImportBytes).
	MaxImportBytes int64
	// TempDir holds uploads while they are checked ("": os.TempDir()).
	TempDir string
	// SignInLimit is the budget of failed sign-ins per client address
	// (zero: DefaultAddressLimit).
	SignInLimit AddressLimit
}

// auth says who may call a route.
type auth int

const (
	public  auth = iota // anyone
	session             // a signed-in person (cookie, no tenant)
	tenant              // a session or API token valid for the path's tenant
)

type route struct {
	method, pattern string
	auth            auth
	h               func(w http.ResponseWriter, r *http.Request, c *call) error
}

// New builds a server and registers its routes.
func New(cfg Config) *Server {
	s := &Server{eng: cfg.Engine, db: cfg.Engine.DB(), log: cfg.Logger, mux: http.NewServeMux(), secure: cfg.SecureCookies,
		timeouts: cfg.Timeouts.orDefaults(), importTimeout: cfg.ImportTimeout, maxImportBytes: cfg.MaxImportBytes, tempDir: cfg.TempDir}
	if s.importTimeout <= 0 {
		s.importTimeout = DefaultImportTimeout
	}
	if s.maxImportBytes <= 0 {
		s.maxImportBytes = DefaultMaxImportBytes
	}
	s.bgCtx, s.stopBG = context.WithCancel(context.Background())
	s.signInLimit = newAddrLimiter(cfg.SignInLimit, func() time.Time { return s.db.Now() })
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)
	s.routes = s.apiRoutes()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.mux.Handle("GET /metrics", s.metrics.handler(reg))
	s.mux.HandleFunc("GET /healthz", s.health)
	s.registerUI()
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, errNotFoundRoute)
	})
	return s
}

// Close stops the server's background work (a detection run in progress
// stops where it is, and the next run starts over) and waits for it to end.
// Call it after the HTTP server has shut down.
func (s *Server) Close() {
	s.stopBG()
	s.background.Wait()
}

// WorkBatches runs the engine's batch worker (engine.WorkBatches) in the
// background for the server's lifetime: it merges the rows of running
// batches and works reverting ones, polling every poll. Shutting the HTTP
// server down or Close stops it between rows; Close waits for it.
func (s *Server) WorkBatches(poll time.Duration) {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		s.eng.WorkBatches(s.bgCtx, poll)
	}()
}

// DeliverWebhooks runs the webhook delivery worker in the background
// until the server closes; attempts under way then finish.
func (s *Server) DeliverWebhooks(opt engine.DeliveryOptions) {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		s.eng.DeliverWebhooks(s.bgCtx, opt)
	}()
}

// Handler is the server's root handler with request logging.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		s.mux.ServeHTTP(rw, r)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rw.status,
			"duration_ms", time.Since(start).Milliseconds(), "bytes", rw.bytes)
	})
}

// Routes lists the registered API routes as "METHOD pattern".
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.pattern)
	}
	return out
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.SQL().PingContext(ctx); err != nil {
		s.log.Error("health: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": s.db.Dialect()})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
