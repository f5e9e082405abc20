-- 013: webhooks (PRODUCT.md §13, engine/webhooks.go).
--
-- An endpoint (webhooks) hears of the event types it lists (types: a JSON
-- array; empty: every type of usermerge.EventTypes). Writing an event
-- (store.Tx.AddEvent) writes, in the same transaction, one delivery per
-- enabled endpoint that wants it, so a delivery exists exactly when its
-- event committed. The delivery workers of every instance claim due
-- deliveries (status pending, next_at passed, lease free) under a lease;
-- a crashed worker's lease runs out and the delivery is sent again with
-- the same message_id (the webhook-id header). Every attempt is logged in
-- webhook_attempts.
CREATE TABLE webhooks (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                BIGINT NOT NULL,
    url               TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    types             TEXT NOT NULL DEFAULT '[]',
    enabled           SMALLINT NOT NULL DEFAULT 1,
    disabled_reason   TEXT NOT NULL DEFAULT '',   -- by_admin, gone
    secret            TEXT NOT NULL,              -- whsec_...: the key signs, so it is kept as given
    previous_secret   TEXT NOT NULL DEFAULT '',
    previous_until    BIGINT NOT NULL DEFAULT 0,       -- ms; until then both secrets sign
    secret_rotated_at BIGINT,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          BIGINT NOT NULL,
    webhook_id  BIGINT NOT NULL,
    event_id    BIGINT NOT NULL,                 -- 0: a test delivery
    event_type  TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',     -- a test delivery's body; events are built from their row
    status      TEXT NOT NULL,                -- usermerge.Delivery*
    attempts    INTEGER NOT NULL DEFAULT 0,   -- attempts begun
    next_at     BIGINT NOT NULL,                  -- ms: when the next attempt is due
    lease_owner TEXT NOT NULL DEFAULT '',     -- the worker sending it now ('' none)
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    done_at     BIGINT,
    PRIMARY KEY (tenant_id, id)
);
-- The workers look for due deliveries of every tenant in this partial
-- index of the pending ones (tenant_id first, as every key).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (tenant_id, webhook_id, id);

CREATE TABLE webhook_attempts (
    tenant_id   TEXT NOT NULL,
    delivery_id BIGINT NOT NULL,
    n           INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    status      INTEGER NOT NULL,             -- HTTP status; 0: no answer
    error       TEXT NOT NULL DEFAULT '',
    response    TEXT NOT NULL DEFAULT '',      -- the answer's first KiB
    millis      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id, n),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
);
