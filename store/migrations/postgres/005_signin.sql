-- 005: sign-in names its tenant. Failed sign-ins are counted per tenant and
-- login in a row of their own, for logins that exist and logins that do not
-- alike, so that a lockout says nothing about which logins exist and one
-- tenant's failures never touch another's. The counters move off the admins
-- table. API tokens may expire.

CREATE TABLE signin_throttle (
    tenant_id    TEXT NOT NULL,
    login        TEXT NOT NULL,
    failures     BIGINT NOT NULL,      -- attempts since the last success
    locked_until BIGINT,               -- no sign-in before this time
    PRIMARY KEY (tenant_id, login),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id)
);

ALTER TABLE admins DROP COLUMN failed_signins;
ALTER TABLE admins DROP COLUMN locked_until;

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
