-- 002: sign-in for people and programs. Both tables lead with tenant_id: a
-- session has one row per tenant its person may act in (sharing the secret's
-- hash), so every lookup names the tenant of the request.

CREATE TABLE sessions (
    tenant_id  TEXT NOT NULL,
    id_hash    TEXT NOT NULL,          -- SHA-256 of the cookie's secret, hex
    admin_id   TEXT NOT NULL,
    csrf       TEXT NOT NULL,          -- the session's CSRF token
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id_hash),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id)
);
CREATE INDEX sessions_hash ON sessions (id_hash);

CREATE TABLE api_tokens (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,        -- public part of the token
    admin_id     TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL,        -- SHA-256 of the secret part, hex
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id)
);

ALTER TABLE admins ADD COLUMN failed_signins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admins ADD COLUMN locked_until INTEGER;
