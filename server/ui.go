package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
)

// The web admin UI: server-rendered pages under /ui, signed in with the
// session cookie. Every page works without JavaScript; static/app.js only
// adds search as you type and modal confirmations. Pages hold no rules:
// each one calls the engine, which checks the caller again.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// contentSecurityPolicy keeps every page to the server's own files: no
// inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// flashCookie carries one message across the redirect after a form post.
const flashCookie = "usermerge_flash"

// signInCookie holds the token that the sign-in form must echo, so that
// another site cannot sign a browser in to an account of its choosing.
const signInCookie = "usermerge_signin"

// uiServer renders the admin UI for one Server.
type uiServer struct {
	s     *Server
	pages map[string]*template.Template
	plans planCache // dry runs of ready batches, while they are paged
}

// registerUI adds the admin UI's routes to the server's mux. They stay out
// of s.routes, which lists the JSON API only.
func (s *Server) registerUI() {
	u := &uiServer{s: s, pages: parsePages()}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/ui/static/", http.FileServerFS(static))
	s.mux.Handle("GET /ui/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}))
	s.mux.Handle("GET /favicon.ico", http.RedirectHandler("/ui/static/favicon.svg", http.StatusMovedPermanently))
	s.mux.Handle("GET /{$}", u.public("/", u.home))
	s.mux.Handle("GET /ui/{$}", u.public("/ui/", u.home))
	s.mux.Handle("/ui/", u.public("/ui/*", u.notFound))
	s.mux.Handle("GET /ui/signin", u.public("/ui/signin", u.signInForm))
	s.mux.Handle("POST /ui/signin", u.public("/ui/signin", u.signIn))
	s.mux.Handle("POST /ui/signout", u.public("/ui/signout", u.signOut))
	s.mux.Handle("GET /ui/switch", u.public("/ui/switch", u.switchTenant))

	const t = "/ui/t/{tenant}"
	for _, rt := range []struct {
		method, pattern string
		h               uiHandler
	}{
		{"GET", t + "/{$}", u.tenantHome},
		{"GET", t + "/merge", u.mergeScreen},
		{"POST", t + "/merge", u.doMerge},
		{"GET", t + "/merges", u.mergeList},
		{"POST", t + "/merges/revert", u.doRevert},
		{"GET", t + "/merges/{id}", u.mergeDetails},
		{"GET", t + "/accounts", u.accounts},
		{"POST", t + "/accounts/{id}/activate", u.doActivate},
		{"POST", t + "/accounts/{id}/deactivate", u.doDeactivate},
		{"GET", t + "/accounts/{id}/delete", u.deleteConfirm},
		{"POST", t + "/accounts/{id}/delete", u.doDelete},
		{"GET", t + "/duplicates", u.duplicates},
		{"POST", t + "/duplicates/runs", u.doStartRun},
		{"GET", t + "/duplicates/{id}", u.duplicate},
		{"GET", t + "/duplicates/{id}/dismiss", u.dismissConfirm},
		{"POST", t + "/duplicates/{id}/dismiss", u.doDismiss},
		{"GET", t + "/settings", u.settings},
		{"POST", t + "/settings", u.saveSettings},
		{"POST", t + "/settings/matching", u.saveMatching},
		{"GET", t + "/batches", u.batches},
		{"POST", t + "/batches/from-suggestions", u.doFromSuggestions},
		{"GET", t + "/batches/{id}", u.batch},
		{"GET", t + "/batches/{id}/dry-run.csv", u.planDownload},
		{"POST", t + "/batches/{id}/start", u.batchStep((*engine.Engine).StartBatch, "The batch is running: its rows are merged one by one.")},
		{"POST", t + "/batches/{id}/pause", u.batchStep((*engine.Engine).PauseBatch, "The batch is paused after the row in progress; resume it to go on.")},
		{"POST", t + "/batches/{id}/resume", u.batchStep((*engine.Engine).ResumeBatch, "The batch is running again.")},
		{"POST", t + "/batches/{id}/cancel", u.batchStep((*engine.Engine).CancelBatch, "The batch is cancelled: the rows merged stay merged, the rest will not run.")},
		{"GET", t + "/batches/{id}/revert", u.batchRevertConfirm},
		{"POST", t + "/batches/{id}/revert", u.doBatchRevert},
		{"GET", t + "/webhooks", u.webhooks},
		{"POST", t + "/webhooks", u.doAddWebhook},
		{"GET", t + "/webhooks/{id}", u.webhook},
		{"POST", t + "/webhooks/{id}", u.doUpdateWebhook},
		{"POST", t + "/webhooks/{id}/test", u.doTestWebhook},
		{"POST", t + "/webhooks/{id}/rotate", u.doRotateWebhook},
		{"GET", t + "/webhooks/{id}/remove", u.webhookRemoveConfirm},
		{"POST", t + "/webhooks/{id}/remove", u.doRemoveWebhook},
		{"GET", t + "/deliveries/{id}", u.delivery},
		{"POST", t + "/deliveries/{id}/replay", u.doReplayDelivery},
		{"GET", t + "/operations/{op}/revert", u.operationRevertConfirm},
		{"POST", t + "/operations/{op}/revert", u.doOperationRevert},
	} {
		s.mux.Handle(rt.method+" "+rt.pattern, u.tenant(rt.method+" "+rt.pattern, rt.h))
	}
	// The upload of a batch file: a multipart form, up to a batch file's size.
	s.mux.Handle("POST "+t+"/batches", u.tenantUpload("POST "+t+"/batches", u.doUpload))
}

// partials are the templates every page may include, not pages themselves.
var partials = []string{"profile", "suggestion"}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || slices.Contains(partials, base) {
			continue
		}
		t := template.New(base).Funcs(uiFuncs)
		files := []string{"templates/layout.html"}
		for _, p := range partials {
			files = append(files, "templates/"+p+".html")
		}
		pages[base] = template.Must(t.ParseFS(templateFS, append(files, n)...))
	}
	return pages
}

// uiPage is what every page shows around its content: the signed-in person,
// the tenant and its switcher, the navigation, and a message.
type uiPage struct {
	Title       string
	Section     string // the navigation entry to mark as current
	Tenant      usermerge.Tenant
	Tenants     []tenantChoice
	Admin       usermerge.Admin
	Role        string
	CanEdit     bool // merge-edit: preview, merge, revert, account changes
	TenantAdmin bool
	CSRF        string
	Flash       *flash
	Error       string // an error message shown above the content
	// Refresh reloads the page every so many seconds when the browser runs
	// no script (a batch in progress); 0: never.
	Refresh int
}

// SignedIn reports whether the page is for a signed-in person.
func (p uiPage) SignedIn() bool { return p.Admin.Login != "" }

// T is the tenant's path prefix, "/ui/t/acme".
func (p uiPage) T() string { return "/ui/t/" + url.PathEscape(p.Tenant.ID) }

type tenantChoice struct {
	ID, Name string
	Current  bool
}

type flash struct {
	Kind string `json:"k"` // "ok" or "error"
	Text string `json:"t"`
}

// uiCall is what a tenant page's handler knows about its caller.
type uiCall struct {
	engine.Caller
	secret string
	rights engine.Rights
	page   uiPage
}

type uiHandler func(w http.ResponseWriter, r *http.Request, c *uiCall) error

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// observe recovers from a panic in a UI handler and records the request's
// latency under its route pattern.
func (u *uiServer) observe(route string, w http.ResponseWriter, r *http.Request, fn func(sw *statusWriter)) {
	start := time.Now()
	sw, ok := w.(*statusWriter)
	if !ok {
		sw = &statusWriter{ResponseWriter: w, status: http.StatusOK}
	}
	defer func() {
		if p := recover(); p != nil {
			u.s.log.Error("panic", "route", route, "panic", p, "stack", string(debug.Stack()))
			u.showError(sw, r, nil, usermerge.InternalError(fmt.Errorf("panic: %v", p)))
		}
		u.s.metrics.observe("UI "+route, sw.status, time.Since(start))
	}()
	securityHeaders(sw)
	sw.Header().Set("Cache-Control", "no-store")
	fn(sw)
}

// public wraps a handler that needs no sign-in.
func (u *uiServer) public(route string, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.observe(route, w, r, func(sw *statusWriter) {
			if err := h(sw, r); err != nil {
				u.showError(sw, r, nil, err)
			}
		})
	})
}

// tenant wraps a tenant page: it needs a session in the path's tenant, and
// on a POST this session's CSRF token in the form field csrf_token.
func (u *uiServer) tenant(route string, h uiHandler) http.Handler {
	return u.tenantPage(route, h, false)
}

// tenantUpload wraps a tenant page whose form is multipart, with a file of
// up to usermerge.MaxBatchBytes.
func (u *uiServer) tenantUpload(route string, h uiHandler) http.Handler {
	return u.tenantPage(route, h, true)
}

func (u *uiServer) tenantPage(route string, h uiHandler, upload bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.observe(route, w, r, func(sw *statusWriter) {
			c, err := u.authenticate(sw, r, upload)
			if err == nil {
				err = h(sw, r, c)
			}
			if err != nil {
				if usermerge.ErrorCode(err) == usermerge.Unauthenticated || usermerge.ErrorReason(err) == "no_tenant_access" {
					u.toSignIn(sw, r) // signed in elsewhere: sign in to this tenant too
					return
				}
				u.s.metrics.refused(err)
				var p *uiPage
				if c != nil {
					p = &c.page
				}
				u.showError(sw, r, p, err)
			}
		})
	})
}

func (u *uiServer) authenticate(w http.ResponseWriter, r *http.Request, upload bool) (*uiCall, error) {
	ctx := r.Context()
	c := &uiCall{}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		c.secret = ck.Value
	}
	c.Tenant = r.PathValue("tenant")
	sess, err := u.s.eng.Session(ctx, c.Tenant, c.secret)
	if err != nil {
		return nil, err
	}
	c.Admin = sess.Login
	if r.Method == http.MethodPost && upload {
		r.Body = http.MaxBytesReader(w, r.Body, usermerge.MaxBatchBytes+1<<20)
		if err := r.ParseMultipartForm(uploadMemory); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, usermerge.Errorf(usermerge.Invalid, "too_large",
					"the file is larger than %d bytes; split it into several batches", usermerge.MaxBatchBytes)
			}
			return nil, badRequest("the upload could not be read: send the file with the upload form")
		}
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return nil, badRequest("the form could not be read")
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf_token")), []byte(sess.CSRF)) != 1 {
			return nil, errCSRF
		}
	}
	if c.rights, err = u.s.eng.Rights(ctx, c.Caller); err != nil {
		return nil, err
	}
	c.page = uiPage{Tenant: c.rights.Tenant, Admin: c.rights.Admin, CanEdit: c.rights.MergeEdit,
		TenantAdmin: c.rights.TenantAdmin, CSRF: sess.CSRF, Role: roleText(c.rights)}
	c.page.Tenants, err = u.tenantChoices(ctx, c.secret, c.Tenant)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet {
		c.page.Flash = takeFlash(w, r)
	}
	return c, nil
}

var errCSRF = usermerge.Errorf(usermerge.Forbidden, "csrf_failed",
	"this form is out of date or did not come from this site; reload the page and try again")

func roleText(r engine.Rights) string {
	switch {
	case r.TenantAdmin:
		return "Tenant administrator"
	case r.MergeEdit:
		return "Group manager (edit)"
	}
	return "Group manager (view only)"
}

// tenantChoices lists the tenants of the session for the switcher.
func (u *uiServer) tenantChoices(ctx context.Context, secret, current string) ([]tenantChoice, error) {
	all, err := u.s.eng.SessionTenants(ctx, secret)
	if err != nil {
		return nil, err
	}
	var out []tenantChoice
	for _, x := range all {
		t, err := u.s.eng.Settings(ctx, engine.Caller{Tenant: x.Tenant, Admin: x.Login})
		if err != nil {
			return nil, err
		}
		out = append(out, tenantChoice{ID: t.ID, Name: t.Name, Current: t.ID == current})
	}
	return out, nil
}

// render executes a page template into a buffer first, so that a template
// error never leaves half a page.
func (u *uiServer) render(w http.ResponseWriter, status int, name string, data any) error {
	return u.renderTemplate(w, status, name, "layout", data)
}

func (u *uiServer) renderTemplate(w http.ResponseWriter, status int, name, tmpl string, data any) error {
	t, ok := u.pages[name]
	if !ok {
		return usermerge.InternalError(fmt.Errorf("no page template %q", name))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		return usermerge.InternalError(fmt.Errorf("render %s: %w", name, err))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// errorPage shows an error: its safe message, and a status from the same
// table as the API's.
type errorPage struct {
	uiPage
	Status  int
	Heading string
}

func (u *uiServer) showError(w http.ResponseWriter, r *http.Request, p *uiPage, err error) {
	status := statusOf[usermerge.ErrorCode(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		u.s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	setRetryAfter(w, status)
	ep := errorPage{Status: status}
	if p != nil {
		ep.uiPage = *p
	}
	ep.Title, ep.Error = http.StatusText(status), usermerge.ErrorMessage(err)
	switch status {
	case http.StatusNotFound:
		ep.Heading = "Not found"
	case http.StatusForbidden:
		ep.Heading = "Not allowed"
	case http.StatusInternalServerError:
		ep.Heading = "Something went wrong"
	default:
		ep.Heading = "That did not work"
	}
	if rerr := u.render(w, status, "error", ep); rerr != nil {
		u.s.log.Error("render error page", "err", rerr)
		http.Error(w, http.StatusText(status), status)
	}
}

func (u *uiServer) notFound(w http.ResponseWriter, r *http.Request) error {
	return usermerge.Errorf(usermerge.NotFound, "no_such_page", "there is no page at %s", r.URL.Path)
}

// redirect answers a form post (or a state change of the merge screen) with
// "see other", so that reloading the next page repeats nothing.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (u *uiServer) toSignIn(w http.ResponseWriter, r *http.Request) {
	next := ""
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	q := url.Values{}
	if next != "" {
		q.Set("next", next)
	} else if t := r.PathValue("tenant"); t != "" {
		q.Set("tenant", t)
	}
	to := "/ui/signin"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// setFlash stores a message for the next page the browser opens.
func (u *uiServer) setFlash(w http.ResponseWriter, kind, text string) {
	b, _ := json.Marshal(flash{Kind: kind, Text: text})
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/ui/",
		MaxAge: 60, HttpOnly: true, Secure: u.s.secure, SameSite: http.SameSiteLaxMode})
}

func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || f.Text == "" || (f.Kind != "ok" && f.Kind != "error") {
		return nil
	}
	return &f
}

// done sets a flash for err (or the success text) and redirects back.
func (u *uiServer) done(w http.ResponseWriter, r *http.Request, back string, ok string, err error) error {
	if err != nil {
		switch usermerge.ErrorCode(err) {
		case usermerge.Internal, usermerge.Unauthenticated:
			return err
		}
		u.s.metrics.refused(err)
		u.setFlash(w, "error", usermerge.ErrorSentence(err))
	} else {
		u.setFlash(w, "ok", ok)
	}
	return redirect(w, r, back)
}

// backTo returns the form's "back" field when it is a page of the tenant,
// else def: a form can never send the browser elsewhere.
func backTo(r *http.Request, tenant, def string) string {
	b := r.PostForm.Get("back")
	prefix := "/ui/t/" + url.PathEscape(tenant) + "/"
	if strings.HasPrefix(b, prefix) && !strings.ContainsAny(b, "\\\r\n") {
		return b
	}
	return def
}
