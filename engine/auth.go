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

// errBadCredentials is the one answer to every sign-in that fails: a wrong
// password, a login or tenant that does not exist, a locked-out login. The
// same status and text for all, so an answer never tells which logins
// exist or are locked.
var errBadCredentials = usermerge.Errorf(usermerge.Unauthenticated, "bad_credentials",
	"wrong tenant, login or password, or too many failed sign-ins (wait a minute before trying again)")

// SignInRequest names the tenant, the login and the password of a sign-in.
// Secret, when it is the secret of a live session, adds the tenant to that
// session (so one browser can switch between the tenants it signed in to)
// instead of opening a new one.
type SignInRequest struct {
	Tenant   string
	Login    string
	Password string
	Secret   string
}

// SignIn checks a login and password against the administrator of that
// login in the named tenant only, and opens a session in that tenant.
//
// Each attempt is counted for the tenant and login before the password is
// checked (store.Tx.SignInAttempt), whether or not the login exists; from
// the third attempt since the last success the login is locked out for a
// time that doubles with each further attempt. A locked-out, unknown or
// wrong sign-in answers errBadCredentials after exactly one Argon2id
// computation at the server's parameters (against a dummy hash when there
// is nothing to check), so neither the answer nor its time tells them apart.
func (e *Engine) SignIn(ctx context.Context, req SignInRequest) (SignedIn, error) {
	var out SignedIn
	if req.Tenant == "" || req.Login == "" || req.Password == "" || len(req.Tenant) > 200 || len(req.Login) > 200 ||
		len(req.Password) > 1000 || !usermerge.Storable(req.Tenant) || !usermerge.Storable(req.Login) {
		usermerge.CheckNoPassword(req.Password)
		return out, errBadCredentials
	}
	// The tenant and login in their stored form; ones that cannot be stored
	// (invisible characters) match nobody and are answered as unknown.
	tenant, err1 := usermerge.CleanID("tenant", req.Tenant)
	login, err2 := usermerge.CleanID("login", req.Login)
	if err1 != nil || err2 != nil {
		usermerge.CheckNoPassword(req.Password)
		return out, errBadCredentials
	}
	req.Tenant, req.Login = tenant, login
	var allowed bool
	var adminID, hash string
	if err := e.db.Transact(ctx, func(tx *store.Tx) error {
		var err error
		if allowed, err = tx.SignInAttempt(ctx, req.Tenant, req.Login); err != nil || !allowed {
			return err
		}
		adminID, hash, err = tx.SignInAdmin(ctx, req.Tenant, req.Login)
		if usermerge.ErrorCode(err) == usermerge.NotFound {
			return nil
		}
		return err
	}); err != nil {
		return out, err
	}
	if !allowed || adminID == "" {
		hash = "" // nothing to check: spend the time of a check all the same
	}
	if !e.verify(hash, req.Password) {
		return out, errBadCredentials
	}
	// A fresh secret every time; the tenants of a session the browser holds
	// move over to it, so a secret planted in the browser beforehand never
	// gains the tenant signed in to now.
	secret, csrf := randomToken(32), randomToken(24)
	err := e.db.Transact(ctx, func(tx *store.Tx) error {
		if err := tx.SignInSucceeded(ctx, req.Tenant, req.Login); err != nil {
			return err
		}
		if req.Secret != "" && len(req.Secret) <= 200 && tokenChars(req.Secret) {
			if err := tx.RekeySession(ctx, HashSecret(req.Secret), HashSecret(secret), csrf, req.Tenant); err != nil {
				return err
			}
		}
		out = SignedIn{Secret: secret, Login: req.Login, CSRF: csrf, Expires: tx.Now.Add(SessionLifetime)}
		if err := tx.CreateSession(ctx, req.Tenant, HashSecret(secret), adminID, csrf, out.Expires); err != nil {
			return err
		}
		all, err := tx.SessionTenants(ctx, HashSecret(secret))
		for _, s := range all {
			out.Tenants = append(out.Tenants, s.Tenant)
		}
		return err
	})
	if err != nil {
		return SignedIn{}, err
	}
	return out, nil
}

// verify checks a password against a hash with one Argon2id computation at
// the server's parameters, against a dummy hash when hash is empty or one
// this server refuses.
func (e *Engine) verify(hash, password string) bool {
	if e.verifyHook != nil {
		e.verifyHook(hash)
	}
	return usermerge.VerifyPassword(hash, password)
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

// MaxTokenLifetime bounds a token's expiry.
const MaxTokenLifetime = 5 * 366 * 24 * time.Hour

// CreateToken makes an API token acting as the caller, valid until expires
// (nil: until revoked). The token is returned once; only its hash is
// stored. Only a signed-in person or the operator on the command line makes
// tokens: a caller acting through an API token may not (a leaked token
// must not be able to outlive its revocation through tokens it made).
func (e *Engine) CreateToken(ctx context.Context, c Caller, name string, expires *time.Time) (string, store.Token, error) {
	var tok store.Token
	var secret string
	if c.ViaToken {
		return "", tok, usermerge.Errorf(usermerge.Forbidden, "token_cannot_create_tokens",
			"an API token cannot create API tokens; sign in with a password (POST /api/v1/session) or use the command line on the database")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", tok, usermerge.Errorf(usermerge.Invalid, "invalid_name", "give the token a name of 1 to 100 characters, e.g. the script that uses it")
	}
	if now := e.db.Now(); expires != nil && (!expires.After(now) || expires.Sub(now) > MaxTokenLifetime) {
		return "", tok, usermerge.Errorf(usermerge.Invalid, "invalid_expiry",
			"a token's expiry must be in the future and at most %d days away, not %s", int(MaxTokenLifetime.Hours()/24), expires.UTC().Format(time.RFC3339))
	}
	err := e.call(ctx, c, true, func(tx *store.Tx, a *actor) error {
		id := strings.ToLower(randomToken(9))
		id = strings.NewReplacer("-", "x", "_", "y").Replace(id)
		secret = TokenPrefix + id + "." + randomToken(32)
		if err := tx.CreateToken(ctx, a.tenant.ID, a.admin.Login, id, name, HashSecret(secret), expires); err != nil {
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
// secret is compared in constant time; revoked and expired tokens are
// refused alike.
func (e *Engine) TokenAdmin(ctx context.Context, tenant, token string) (string, error) {
	bad := usermerge.Errorf(usermerge.Unauthenticated, "bad_token", "the API token is not valid for this tenant, or was revoked, or has expired")
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
	if subtle.ConstantTimeCompare([]byte(tok.Hash()), []byte(HashSecret(token))) != 1 || tok.RevokedAt != nil ||
		(tok.ExpiresAt != nil && !e.db.Now().Before(*tok.ExpiresAt)) {
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
