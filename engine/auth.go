package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"usermerge"
	"usermerge/store"
)

// SessionLifetime is how long a sign-in lasts.
const SessionLifetime = 12 * time.Hour

// SignedIn is the outcome of a sign-in: the cookie secret (shown once) and
// the tenants the person may act in, each with its CSRF token.
type SignedIn struct {
	Secret  string    `json:"-"`
	Login   string    `json:"login"`
	Tenants []string  `json:"tenants"`
	CSRF    string    `json:"csrf_token"`
	Expires time.Time `json:"expires_at"`
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is the stored form of a session or token secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

var errBadCredentials = usermerge.Errorf(usermerge.Unauthenticated, "bad_credentials", "wrong login or password")

// SignIn checks a login and password against every tenant where the login
// is an administrator and opens a session in each tenant whose password
// matches. Failures are counted per admin; from the third on, the admin is
// locked out for a time that doubles with each further failure.
func (e *Engine) SignIn(ctx context.Context, login, password string) (SignedIn, error) {
	var out SignedIn
	if login == "" || password == "" || len(login) > 200 || len(password) > 1000 || !usermerge.Storable(login) {
		return out, errBadCredentials
	}
	var cands []store.SignInCandidate
	if err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		cands, err = tx.SignInCandidates(ctx, login)
		return err
	}); err != nil {
		return out, err
	}
	if len(cands) == 0 {
		usermerge.CheckNoPassword(password)
		return out, errBadCredentials
	}
	now := e.db.Now()
	var ok, locked []store.SignInCandidate
	for _, c := range cands {
		if c.LockedUntil != nil && now.Before(*c.LockedUntil) {
			locked = append(locked, c)
			continue
		}
		if c.Hash != "" && usermerge.CheckPassword(c.Hash, password) {
			ok = append(ok, c)
		}
	}
	secret := randomToken(32)
	csrf := randomToken(24)
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		out = SignedIn{Secret: secret, Login: login, CSRF: csrf, Expires: tx.Now.Add(SessionLifetime), Tenants: []string{}}
		for _, c := range cands {
			if contains(ok, c) {
				if err := tx.SignInSucceeded(ctx, c.Tenant, c.AdminID); err != nil {
					return err
				}
				if err := tx.CreateSession(ctx, c.Tenant, HashSecret(secret), c.AdminID, csrf, out.Expires); err != nil {
					return err
				}
				out.Tenants = append(out.Tenants, c.Tenant)
			} else if !contains(locked, c) {
				if err := tx.SignInFailed(ctx, c.Tenant, c.AdminID, c.FailedSignIns+1); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return SignedIn{}, err
	}
	if len(out.Tenants) == 0 {
		if len(locked) > 0 {
			wait := locked[0].LockedUntil.Sub(now).Round(time.Second)
			return SignedIn{}, usermerge.Errorf(usermerge.RateLimited, "too_many_failures",
				"too many failed sign-ins for %s; try again in %s", login, max(wait, time.Second))
		}
		return SignedIn{}, errBadCredentials
	}
	return out, nil
}

func contains(cs []store.SignInCandidate, c store.SignInCandidate) bool {
	for _, x := range cs {
		if x.Tenant == c.Tenant && x.AdminID == c.AdminID {
			return true
		}
	}
	return false
}

// Session returns who a session cookie belongs to in a tenant.
func (e *Engine) Session(ctx context.Context, tenant, secret string) (store.Session, error) {
	var s store.Session
	if secret == "" || len(secret) > 200 || !tokenChars(secret) {
		return s, usermerge.Errorf(usermerge.Unauthenticated, "no_session", "sign in first")
	}
	err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		s, err = tx.SessionIn(ctx, tenant, HashSecret(secret))
		return err
	})
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		// signed in, but not for this tenant? say so rather than "sign in"
		if all, _ := e.SessionTenants(ctx, secret); len(all) > 0 {
			return s, usermerge.Errorf(usermerge.Forbidden, "no_tenant_access", "you have no access to tenant %q", tenant)
		}
		return s, usermerge.Errorf(usermerge.Unauthenticated, "no_session", "your session has ended; sign in again")
	}
	return s, err
}

// SessionTenants lists the tenants of a live session.
func (e *Engine) SessionTenants(ctx context.Context, secret string) ([]store.Session, error) {
	var out []store.Session
	if secret == "" || len(secret) > 200 || !tokenChars(secret) {
		return nil, nil
	}
	err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.SessionTenants(ctx, HashSecret(secret))
		return err
	})
	return out, err
}

// SignOut ends a session in every tenant.
func (e *Engine) SignOut(ctx context.Context, secret string) error {
	return e.db.Transact(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, HashSecret(secret)) })
}

// TokenPrefix starts every API token, so that leaked tokens are easy to find.
const TokenPrefix = "umt_"

// CreateToken makes an API token acting as the caller. The token is
// returned once; only its hash is stored.
func (e *Engine) CreateToken(ctx context.Context, c Caller, name string) (string, store.Token, error) {
	var tok store.Token
	var secret string
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", tok, usermerge.Errorf(usermerge.Invalid, "invalid_name", "give the token a name of 1 to 100 characters, e.g. the script that uses it")
	}
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		id := strings.ToLower(randomToken(9))
		id = strings.NewReplacer("-", "x", "_", "y").Replace(id)
		secret = TokenPrefix + id + "." + randomToken(32)
		if err := tx.CreateToken(ctx, a.tenant.ID, a.admin.Login, id, name, HashSecret(secret)); err != nil {
			return err
		}
		var err error
		tok, err = tx.TokenByID(ctx, a.tenant.ID, id)
		return err
	})
	if err != nil {
		return "", store.Token{}, err
	}
	return secret, tok, nil
}

// TokenAdmin returns the admin login an API token acts as in a tenant. The
// secret is compared in constant time; revoked tokens are refused.
func (e *Engine) TokenAdmin(ctx context.Context, tenant, token string) (string, error) {
	bad := usermerge.Errorf(usermerge.Unauthenticated, "bad_token", "the API token is not valid for this tenant, or was revoked")
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	id, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || id == "" || len(token) > 200 || !tokenChars(token) {
		return "", bad
	}
	var tok store.Token
	err := e.db.View(ctx, func(tx *store.Tx) error {
		var err error
		tok, err = tx.TokenByID(ctx, tenant, id)
		return err
	})
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return "", bad
	}
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(tok.Hash()), []byte(HashSecret(token))) != 1 || tok.RevokedAt != nil {
		return "", bad
	}
	if tok.LastUsed == nil || e.db.Now().Sub(*tok.LastUsed) > time.Minute { // at most one write a minute per token
		_ = e.db.Transact(ctx, func(tx *store.Tx) error { return tx.TouchToken(ctx, tenant, id) })
	}
	return tok.Admin, nil
}

// Tokens lists the caller's tokens (a tenant administrator sees all).
func (e *Engine) Tokens(ctx context.Context, c Caller) ([]store.Token, error) {
	var out []store.Token
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		login := a.admin.Login
		if a.all {
			login = ""
		}
		var err error
		out, err = tx.Tokens(ctx, a.tenant.ID, login)
		return err
	})
	return out, err
}

// RevokeToken revokes a token: the caller's own, or any as tenant administrator.
func (e *Engine) RevokeToken(ctx context.Context, c Caller, id string) error {
	return e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		tok, err := tx.TokenByID(ctx, a.tenant.ID, id)
		if err != nil {
			return err
		}
		if !a.all && tok.Admin != a.admin.Login {
			return usermerge.Errorf(usermerge.Forbidden, "not_your_token", "only a tenant administrator may revoke another administrator's token")
		}
		return tx.RevokeToken(ctx, a.tenant.ID, id)
	})
}

// SetPassword sets an admin's password (an operator action: the command
// line has the database, so no caller is checked).
func (e *Engine) SetPassword(ctx context.Context, tenant, login, password string) error {
	hash, err := usermerge.HashPassword(password)
	if err != nil {
		return err
	}
	return e.db.Transact(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, tenant, login, hash) })
}

// tokenChars reports whether s holds only the characters our session
// secrets and API tokens are made of (base64url, '.' and '_'), so that
// garbage never reaches a query.
func tokenChars(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
