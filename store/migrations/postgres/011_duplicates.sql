-- 011: finding duplicates (PRODUCT.md §11, engine/duplicates.go).
--
-- A detection run is a job: one row per run with its progress, written in
-- tiny transactions while it works, so that the UI follows it and a merge
-- never waits on it. At most one run of a tenant is running (the partial
-- unique index): a second start is refused as a conflict. The latest done
-- run is the review queue; its scored pairs, suggestions and the accounts
-- of each suggestion are keyed by the run, so that a new run is written
-- beside the queue and takes its place by flipping its status, atomically.
CREATE TABLE duplicate_runs (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               BIGINT NOT NULL,
    scope            TEXT NOT NULL,               -- full, changed
    status           TEXT NOT NULL,               -- running, done, failed, interrupted
    phase            TEXT NOT NULL DEFAULT '',
    done             BIGINT NOT NULL DEFAULT 0,
    total            BIGINT NOT NULL DEFAULT 0,
    started_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    heartbeat        BIGINT NOT NULL,            -- the last sign of life of its process
    by_admin         TEXT NOT NULL,
    stats            TEXT NOT NULL DEFAULT '',    -- match.Stats, JSON
    params           TEXT NOT NULL DEFAULT '',    -- match.Params, JSON: scores one account later
    rules            TEXT NOT NULL DEFAULT '',    -- match.Rules the run applied, JSON
    first_suggestion BIGINT NOT NULL DEFAULT 0,  -- suggestion ids are first_suggestion ..+suggestions-1
    suggestions      BIGINT NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',    -- for an administrator, never internal text
    data_stamp       TEXT NOT NULL DEFAULT '',    -- see store.DuplicateDataStamp
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX duplicate_runs_status ON duplicate_runs (tenant_id, status, id);
CREATE UNIQUE INDEX duplicate_runs_one_running ON duplicate_runs (tenant_id) WHERE status = 'running';

-- The pairs a run scored at or above the possible threshold: a "changed"
-- run keeps those of unchanged accounts, re-scores the changed ones and
-- clusters both; a preview of new rules re-grades them.
CREATE TABLE duplicate_pairs (
    tenant_id   TEXT NOT NULL,
    run_id      BIGINT NOT NULL,
    a           TEXT NOT NULL,
    b           TEXT NOT NULL,
    weight      DOUBLE PRECISION NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    evidence    TEXT NOT NULL,                    -- each field's weight: "name=3.25 email=-1.5" (store.fieldWeights)
    PRIMARY KEY (tenant_id, run_id, a, b)
);

CREATE TABLE duplicate_suggestions (
    tenant_id   TEXT NOT NULL,
    run_id      BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    grade       TEXT NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    keep_id     TEXT NOT NULL,
    keep_reason TEXT NOT NULL DEFAULT '',
    accounts    TEXT NOT NULL,                    -- []string, Keep first, JSON
    pairs       TEXT NOT NULL,                    -- []match.Pair, JSON
    PRIMARY KEY (tenant_id, id)
);
-- The queue: one run's suggestions, strongest first, by grade or all. A
-- run numbers its suggestions strongest first, so the order is the id's.
CREATE INDEX duplicate_suggestions_queue ON duplicate_suggestions (tenant_id, run_id, id);
CREATE INDEX duplicate_suggestions_grade ON duplicate_suggestions (tenant_id, run_id, grade, id);

-- Each suggestion's accounts, to leave out a suggestion with an account
-- merged away or deleted since, one with a dismissed pair, and, for a group
-- manager, one with an account outside their groups.
CREATE TABLE duplicate_suggestion_accounts (
    tenant_id     TEXT NOT NULL,
    suggestion_id BIGINT NOT NULL,
    account_id    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, suggestion_id, account_id)
);
CREATE INDEX duplicate_suggestion_accounts_account ON duplicate_suggestion_accounts (tenant_id, account_id);

-- "Not the same person", with who and when; a < b.
CREATE TABLE duplicate_dismissals (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    a         TEXT NOT NULL,
    b         TEXT NOT NULL,
    by_admin  TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, a, b),
    CHECK (a < b)
);
CREATE INDEX duplicate_dismissals_b ON duplicate_dismissals (tenant_id, b);
CREATE INDEX duplicate_dismissals_at ON duplicate_dismissals (tenant_id, at);

-- Each account's blocking keys (match.BlockingKeys) as of the latest run,
-- so that one account is checked against the tenant (CheckAccount) by
-- index lookups instead of a run; and each account's fingerprint (a hash of
-- the facts the finder reads), so that a "changed" run finds what changed.
CREATE TABLE duplicate_keys (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key, account_id)
);
CREATE INDEX duplicate_keys_account ON duplicate_keys (tenant_id, account_id);

CREATE TABLE duplicate_fingerprints (
    tenant_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);

-- The data stamp (store.DuplicateDataStamp) counts deleted accounts and
-- reverted merges from these small indexes instead of reading the tables.
CREATE INDEX accounts_deleted ON accounts (tenant_id) WHERE deleted_at IS NOT NULL;
CREATE INDEX merges_reverted ON merges (tenant_id) WHERE reverted_at IS NOT NULL;

-- The tenant's matching rules (match.Rules as JSON; '' for the defaults).
ALTER TABLE tenants ADD COLUMN matching_rules TEXT NOT NULL DEFAULT '';
