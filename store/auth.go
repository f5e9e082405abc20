package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"usermerge"
)

// SignInAttempt counts a sign-in attempt of a login in a tenant before its
// password is checked, and reports whether the attempt may go on to the
// check. Every attempt counts, whether or not the login exists; a success
// clears the count (SignInSucceeded). From the third attempt on, the login
// is locked out for a time that doubles with each further attempt (at most
// 15 minutes); while locked out, attempts are refused and not counted.
//
// The count is one UPDATE of the row under its lock (PostgreSQL) or inside
// the one write transaction (SQLite), so parallel attempts never lose an
// update: once the lock is set, every later attempt sees it. A tenant that
// does not exist gets no row, and its attempts are refused.
func (tx *Tx) SignInAttempt(ctx context.Context, tenant, login string) (bool, error) {
	now := Millis(tx.Now)
	if _, err := tx.Exec(ctx, `INSERT INTO signin_throttle (tenant_id, login, failures, locked_until)
		SELECT id, ?, 0, NULL FROM tenants WHERE id = ? ON CONFLICT (tenant_id, login) DO NOTHING`, login, tenant); err != nil {
		return false, err
	}
	n, err := tx.Exec(ctx, `UPDATE signin_throttle SET failures = failures + 1
		WHERE tenant_id = ? AND login = ? AND (locked_until IS NULL OR locked_until <= ?)`, tenant, login, now)
	if err != nil || n == 0 {
		return false, err
	}
	var failures int
	if err := tx.QueryRow(ctx, `SELECT failures FROM signin_throttle WHERE tenant_id = ? AND login = ?`, tenant, login).Scan(&failures); err != nil {
		return false, err
	}
	if failures >= 3 {
		d := time.Second << min(failures-3, 10)
		until := Millis(tx.Now.Add(min(d, 15*time.Minute)))
		if _, err := tx.Exec(ctx, `UPDATE signin_throttle SET locked_until = ? WHERE tenant_id = ? AND login = ?`, until, tenant, login); err != nil {
			return false, err
		}
	}
	return true, nil
}

// SignInFailures returns the counted attempts of a login in a tenant and
// when its lockout ends (nil: not locked).
func (tx *Tx) SignInFailures(ctx context.Context, tenant, login string) (int, *time.Time, error) {
	var n int
	var locked sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT failures, locked_until FROM signin_throttle WHERE tenant_id = ? AND login = ?`, tenant, login).Scan(&n, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return n, timePtr(locked), err
}

// SignInSucceeded clears the attempts of a login in a tenant.
func (tx *Tx) SignInSucceeded(ctx context.Context, tenant, login string) error {
	_, err := tx.Exec(ctx, `DELETE FROM signin_throttle WHERE tenant_id = ? AND login = ?`, tenant, login)
	return err
}

// SignInAdmin returns the id and password hash of a tenant's admin by login.
func (tx *Tx) SignInAdmin(ctx context.Context, tenant, login string) (id, hash string, err error) {
	err = tx.QueryRow(ctx, `SELECT id, password_hash FROM admins WHERE tenant_id = ? AND login = ?`, tenant, login).Scan(&id, &hash)
	if err != nil {
		return "", "", notFound(err, "no administrator %q in tenant %q", login, tenant)
	}
	return id, hash, nil
}

// SetPassword stores an admin's password hash, clears its failed sign-ins
// and ends its sessions: whoever signed in with the old password is out.
func (tx *Tx) SetPassword(ctx context.Context, tenant, login, hash string) error {
	if err := cleanIDs(ids{"login", &login}); err != nil {
		return err
	}
	id, _, err := tx.SignInAdmin(ctx, tenant, login)
	if usermerge.ErrorCode(err) == usermerge.NotFound {
		return usermerge.Errorf(usermerge.NotFound, "unknown_admin", "no administrator %q in tenant %q", login, tenant)
	} else if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE admins SET password_hash = ? WHERE tenant_id = ? AND id = ?`, hash, tenant, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND admin_id = ?`, tenant, id); err != nil {
		return err
	}
	return tx.SignInSucceeded(ctx, tenant, login)
}

// CreateSession stores a session row for one tenant.
func (tx *Tx) CreateSession(ctx context.Context, tenant, idHash, adminID, csrf string, expires time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (tenant_id, id_hash, admin_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tenant, idHash, adminID, csrf, Millis(tx.Now), Millis(expires))
	return err
}

// Session is a signed-in person as seen in one tenant.
type Session struct {
	Tenant  string
	Login   string
	CSRF    string
	Expires time.Time
}

// SessionIn returns the live session with the hash in a tenant.
func (tx *Tx) SessionIn(ctx context.Context, tenant, idHash string) (Session, error) {
	s := Session{Tenant: tenant}
	var exp int64
	err := tx.QueryRow(ctx, `SELECT a.login, s.csrf, s.expires_at FROM sessions s JOIN admins a ON a.tenant_id = s.tenant_id AND a.id = s.admin_id
		WHERE s.tenant_id = ? AND s.id_hash = ? AND s.expires_at > ?`, tenant, idHash, Millis(tx.Now)).Scan(&s.Login, &s.CSRF, &exp)
	if err != nil {
		return s, notFound(err, "no session")
	}
	s.Expires = FromMillis(exp)
	return s, nil
}

// SessionTenants lists the tenants a live session may act in.
func (tx *Tx) SessionTenants(ctx context.Context, idHash string) ([]Session, error) {
	rows, err := tx.Query(ctx, `SELECT s.tenant_id, a.login, s.csrf, s.expires_at FROM sessions s JOIN admins a ON a.tenant_id = s.tenant_id AND a.id = s.admin_id
		WHERE s.id_hash = ? AND s.expires_at > ? ORDER BY s.tenant_id`, idHash, Millis(tx.Now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		var exp int64
		if err := rows.Scan(&s.Tenant, &s.Login, &s.CSRF, &exp); err != nil {
			return nil, err
		}
		s.Expires = FromMillis(exp)
		out = append(out, s)
	}
	return out, rows.Err()
}

// RekeySession moves the live rows of a session to a new secret and CSRF
// token, except its row in tenant skip (which a new sign-in replaces).
func (tx *Tx) RekeySession(ctx context.Context, oldHash, newHash, csrf, skip string) error {
	if _, err := tx.Exec(ctx, `UPDATE sessions SET id_hash = ?, csrf = ? WHERE id_hash = ? AND expires_at > ? AND tenant_id <> ?`,
		newHash, csrf, oldHash, Millis(tx.Now), skip); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, oldHash)
	return err
}

// DeleteSession ends a session in every tenant, and drops expired ones.
func (tx *Tx) DeleteSession(ctx context.Context, idHash string) error {
	_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ? OR expires_at <= ?`, idHash, Millis(tx.Now))
	return err
}

// Token is an API token's stored form (never its secret).
type Token struct {
	Tenant    string     `json:"tenant"`
	ID        string     `json:"id"`
	Admin     string     `json:"admin"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: never
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	hash      string
}

// Hash is the stored SHA-256 of the token's secret.
func (t Token) Hash() string { return t.hash }

// CreateToken stores a token for an admin (by login) that expires at
// expires (nil: never).
func (tx *Tx) CreateToken(ctx context.Context, tenant, login, id, name, hash string, expires *time.Time) error {
	adm, _, err := tx.AdminByLogin(ctx, tenant, login)
	if err != nil {
		return err
	}
	var exp any
	if expires != nil {
		exp = Millis(*expires)
	}
	_, err = tx.Exec(ctx, `INSERT INTO api_tokens (tenant_id, id, admin_id, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tenant, id, adm.ID, name, hash, Millis(tx.Now), exp)
	return err
}

const tokenCols = `t.tenant_id, t.id, a.login, t.name, t.hash, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	var expires, revoked, used sql.NullInt64
	err := row.Scan(&t.Tenant, &t.ID, &t.Admin, &t.Name, &t.hash, &created, &expires, &revoked, &used)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsed = FromMillis(created), timePtr(expires), timePtr(revoked), timePtr(used)
	return t, err
}

// TokenByID returns one token of a tenant.
func (tx *Tx) TokenByID(ctx context.Context, tenant, id string) (Token, error) {
	t, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.tenant_id = t.tenant_id AND a.id = t.admin_id
		WHERE t.tenant_id = ? AND t.id = ?`, tenant, id))
	if err != nil {
		return t, notFound(err, "token %q does not exist", id)
	}
	return t, nil
}

// Tokens lists a tenant's tokens, or one admin's when login is not empty.
func (tx *Tx) Tokens(ctx context.Context, tenant, login string) ([]Token, error) {
	rows, err := tx.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.tenant_id = t.tenant_id AND a.id = t.admin_id
		WHERE t.tenant_id = ? AND (? = '' OR a.login = ?) ORDER BY t.created_at, t.id`, tenant, login, login)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken marks a token revoked.
func (tx *Tx) RevokeToken(ctx context.Context, tenant, id string) error {
	_, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, Millis(tx.Now), tenant, id)
	return err
}

// TouchToken records a token's use.
func (tx *Tx) TouchToken(ctx context.Context, tenant, id string) error {
	_, err := tx.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE tenant_id = ? AND id = ?`, Millis(tx.Now), tenant, id)
	return err
}
