package server

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"usermerge"
	"usermerge/engine"
)

// Sign-in and sign-out with the session cookie, the home redirect and the
// tenant switcher.

func (u *uiServer) home(w http.ResponseWriter, r *http.Request) error {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return redirect(w, r, "/ui/signin")
	}
	all, err := u.s.eng.SessionTenants(r.Context(), ck.Value)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return redirect(w, r, "/ui/signin")
	}
	return redirect(w, r, "/ui/t/"+url.PathEscape(all[0].Tenant)+"/")
}

// tenantHome opens the merge screen for those who may merge, else the list.
func (u *uiServer) tenantHome(w http.ResponseWriter, r *http.Request, c *uiCall) error {
	if c.page.CanEdit {
		return redirect(w, r, c.page.T()+"/merge")
	}
	return redirect(w, r, c.page.T()+"/merges")
}

type signInPage struct {
	uiPage
	SignInTenant string
	Login        string
	Next         string
	Token        string
}

// signInTenant is the tenant a sign-in page is for: named by ?tenant=, or
// by the tenant page it returns to.
func signInTenant(tenant, next string) string {
	if tenant != "" {
		return tenant
	}
	if rest, ok := strings.CutPrefix(next, "/ui/t/"); ok {
		t, _, _ := strings.Cut(rest, "/")
		if t, err := url.PathUnescape(t); err == nil {
			return t
		}
	}
	return ""
}

func (u *uiServer) signInForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := signInPage{Next: safeNext(q.Get("next"))}
	p.SignInTenant = signInTenant(q.Get("tenant"), p.Next)
	if ck, err := r.Cookie(SessionCookie); err == nil {
		if all, _ := u.s.eng.SessionTenants(r.Context(), ck.Value); len(all) > 0 {
			if p.SignInTenant == "" && q.Get("add") == "" {
				return redirect(w, r, "/")
			}
			for _, s := range all {
				if s.Tenant == p.SignInTenant { // already signed in there
					return redirect(w, r, cmpOr(p.Next, "/ui/t/"+url.PathEscape(s.Tenant)+"/"))
				}
			}
		}
	}
	p.Token = u.signInToken(w)
	p.Title = "Sign in"
	p.Flash = takeFlash(w, r)
	return u.render(w, http.StatusOK, "signin", p)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (u *uiServer) signInToken(w http.ResponseWriter) string {
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: tok, Path: "/ui/signin", MaxAge: 3600,
		HttpOnly: true, Secure: u.s.secure, SameSite: http.SameSiteStrictMode})
	return tok
}

func (u *uiServer) signIn(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read")
	}
	p := signInPage{SignInTenant: strings.TrimSpace(r.PostForm.Get("tenant")), Login: r.PostForm.Get("login"), Next: safeNext(r.PostForm.Get("next"))}
	p.Title = "Sign in"
	ck, err := r.Cookie(signInCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("csrf_token"))) != 1 || sameSite(r) != nil {
		p.Error = "The sign-in form had expired. Please sign in again."
		p.Token = u.signInToken(w)
		return u.render(w, http.StatusForbidden, "signin", p)
	}
	req := engine.SignInRequest{Tenant: p.SignInTenant, Login: p.Login, Password: r.PostForm.Get("password")}
	if sc, err := r.Cookie(SessionCookie); err == nil {
		req.Secret = sc.Value
	}
	out, err := u.s.checkSignIn(w, r, req)
	if err != nil {
		if c := usermerge.ErrorCode(err); c != usermerge.Unauthenticated && c != usermerge.RateLimited {
			return err
		}
		u.s.metrics.refused(err)
		p.Error = usermerge.ErrorMessage(err)
		p.Token = ck.Value
		return u.render(w, statusOf[usermerge.ErrorCode(err)], "signin", p)
	}
	u.s.setSessionCookie(w, out.Secret)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/ui/signin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	home := "/ui/t/" + url.PathEscape(p.SignInTenant) + "/"
	if p.Next != "" && signInTenant("", p.Next) == p.SignInTenant {
		return redirect(w, r, p.Next)
	}
	return redirect(w, r, home)
}

// safeNext keeps a post-sign-in destination only when it is a UI page.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/ui/t/") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return ""
}

func (u *uiServer) signOut(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read")
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return redirect(w, r, "/ui/signin")
	}
	all, err := u.s.eng.SessionTenants(r.Context(), ck.Value)
	if err != nil {
		return err
	}
	if len(all) > 0 {
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf_token")), []byte(all[0].CSRF)) != 1 {
			return errCSRF
		}
		if err := u.s.eng.SignOut(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: u.s.secure, SameSite: http.SameSiteLaxMode})
	u.setFlash(w, "ok", "You have signed out.")
	return redirect(w, r, "/ui/signin")
}

// switchTenant opens the same section in another tenant of the session.
func (u *uiServer) switchTenant(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	t := q.Get("tenant")
	if t == "" {
		return redirect(w, r, "/")
	}
	section := q.Get("section")
	switch section {
	case "merge", "merges", "accounts", "settings":
	default:
		section = ""
	}
	return redirect(w, r, "/ui/t/"+url.PathEscape(t)+"/"+section)
}
