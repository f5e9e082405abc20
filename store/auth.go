package store

import (
	"context"
	"database/sql"
	"time"

	"usermerge"
)

// SignInCandidate is an admin of some tenant with a given login, as a
// sign-in sees it.
type SignInCandidate struct {
	Tenant        string
	AdminID       string
	Hash          string
	FailedSignIns int
	LockedUntil   *time.Time
}

// SignInCandidates returns, per tenant, the admins with a login.
func (tx *Tx) SignInCandidates(ctx context.Context, login string) ([]SignInCandidate, error) {
	// The login in its stored form; one that cannot be stored (invisible
	// characters) matches nobody, and is answered as any unknown login.
	login, err := usermerge.CleanID("login", login)
	if err != nil {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT tenant_id, id, password_hash, failed_signins, locked_until FROM admins WHERE login = ? ORDER BY tenant_id`, login)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SignInCandidate
	for rows.Next() {
		var c SignInCandidate
		var locked sql.NullInt64
		if err := rows.Scan(&c.Tenant, &c.AdminID, &c.Hash, &c.FailedSignIns, &locked); err != nil {
			return nil, err
		}
		c.LockedUntil = timePtr(locked)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetPassword stores an admin's password hash and clears its failures.
func (tx *Tx) SetPassword(ctx context.Context, tenant, login, hash string) error {
	if err := cleanIDs(ids{"login", &login}); err != nil {
		return err
	}
	n, err := tx.Exec(ctx, `UPDATE admins SET password_hash = ?, failed_signins = 0, locked_until = NULL WHERE tenant_id = ? AND login = ?`, hash, tenant, login)
	if err == nil && n == 0 {
		err = usermerge.Errorf(usermerge.NotFound, "unknown_admin", "no administrator %q in tenant %q", login, tenant)
	}
	return err
}

// SignInFailed counts a failed sign-in and locks the admin out for a while
// that doubles with each failure from the third on (at most 15 minutes).
func (tx *Tx) SignInFailed(ctx context.Context, tenant, adminID string, failures int) error {
	var until any
	if failures >= 3 {
		d := time.Second << min(failures-3, 10)
		until = Millis(tx.Now.Add(min(d, 15*time.Minute)))
	}
	_, err := tx.Exec(ctx, `UPDATE admins SET failed_signins = ?, locked_until = ? WHERE tenant_id = ? AND id = ?`, failures, until, tenant, adminID)
	return err
}

// SignInSucceeded clears an admin's failures.
func (tx *Tx) SignInSucceeded(ctx context.Context, tenant, adminID string) error {
	_, err := tx.Exec(ctx, `UPDATE admins SET failed_signins = 0, locked_until = NULL WHERE tenant_id = ? AND id = ?`, tenant, adminID)
	return err
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
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	hash      string
}

// Hash is the stored SHA-256 of the token's secret.
func (t Token) Hash() string { return t.hash }

// CreateToken stores a token for an admin (by login).
func (tx *Tx) CreateToken(ctx context.Context, tenant, login, id, name, hash string) error {
	adm, _, err := tx.AdminByLogin(ctx, tenant, login)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO api_tokens (tenant_id, id, admin_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tenant, id, adm.ID, name, hash, Millis(tx.Now))
	return err
}

const tokenCols = `t.tenant_id, t.id, a.login, t.name, t.hash, t.created_at, t.revoked_at, t.last_used_at`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	var revoked, used sql.NullInt64
	err := row.Scan(&t.Tenant, &t.ID, &t.Admin, &t.Name, &t.hash, &created, &revoked, &used)
	t.CreatedAt, t.RevokedAt, t.LastUsed = FromMillis(created), timePtr(revoked), timePtr(used)
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
