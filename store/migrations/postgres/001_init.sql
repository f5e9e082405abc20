-- 001 (PostgreSQL): the same data model as migrations/sqlite/001_init.sql,
-- with PostgreSQL types. Keep the two files in step.
-- 001: the whole data model. Every table carries tenant_id and leads its
-- primary key with it, so that a deployment can distribute tenants over shards
-- with tenant_id as the distribution column. Times are integer milliseconds
-- since the Unix epoch (UTC) and booleans are 0/1 integers, so that the same
-- SQL text runs on SQLite and PostgreSQL.

CREATE TABLE tenants (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    merge_enabled     SMALLINT NOT NULL DEFAULT 1,
    revert_allowed    SMALLINT NOT NULL DEFAULT 1,
    badges            TEXT NOT NULL DEFAULT 'transfer',
    credits           TEXT NOT NULL DEFAULT 'stay',
    certificates      TEXT NOT NULL DEFAULT 'not_merged',
    move_external_ids SMALLINT NOT NULL DEFAULT 0
);

-- Per-tenant counters are SQLite's way to number merges; PostgreSQL uses
-- the sequences below instead, so merges of different accounts in one
-- tenant never wait on a shared counter row.
CREATE TABLE counters (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name      TEXT NOT NULL,
    value     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE groups (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id        TEXT NOT NULL,
    name      TEXT NOT NULL,
    parent_id TEXT,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE jobs (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id        TEXT NOT NULL,
    title     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE accounts (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    login       TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT,
    merged_into TEXT,
    merged_by   BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX accounts_login ON accounts (tenant_id, login);
CREATE INDEX accounts_email ON accounts (tenant_id, email);
CREATE INDEX accounts_merged_into ON accounts (tenant_id, merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE memberships (
    tenant_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_id, group_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);
CREATE INDEX memberships_group ON memberships (tenant_id, group_id);

CREATE TABLE account_jobs (
    tenant_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_id, job_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id)
);

CREATE TABLE admins (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    login         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    account_id    TEXT,
    password_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE UNIQUE INDEX admins_login ON admins (tenant_id, login);
CREATE INDEX admins_account ON admins (tenant_id, account_id) WHERE account_id IS NOT NULL;

CREATE TABLE admin_scopes (
    tenant_id TEXT NOT NULL,
    admin_id  TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    right_    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, admin_id, group_id),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);

-- One row per source merged into a target. id is per tenant.
CREATE TABLE merges (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 BIGINT NOT NULL,
    operation_id       BIGINT NOT NULL,
    source_id          TEXT NOT NULL,
    target_id          TEXT NOT NULL,
    by_admin           TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    at                 BIGINT NOT NULL,
    move_external_ids  SMALLINT NOT NULL,
    policy             TEXT NOT NULL,
    state              TEXT NOT NULL,
    source_prev_status TEXT NOT NULL,
    reverted_at        BIGINT,
    reverted_by        TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, target_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX merges_at ON merges (tenant_id, at);
CREATE INDEX merges_source ON merges (tenant_id, source_id);
CREATE INDEX merges_target ON merges (tenant_id, target_id);

CREATE TABLE merge_counts (
    tenant_id TEXT NOT NULL,
    merge_id  BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    moved     BIGINT NOT NULL DEFAULT 0,
    combined  BIGINT NOT NULL DEFAULT 0,
    retired   BIGINT NOT NULL DEFAULT 0,
    left_     BIGINT NOT NULL DEFAULT 0,
    changed   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, merge_id, kind),
    FOREIGN KEY (tenant_id, merge_id) REFERENCES merges (tenant_id, id)
);

-- The value journal: every record whose values a merge changed (combined
-- target rows, renumbered attempts) with its values before and after, in
-- typed slots whose meaning each kind defines (store/kinds.go). Records a
-- rule keeps one of (quiz sessions, master states, polls) appear with
-- action 'kept' and the retired one in other_id.
CREATE TABLE journal_values (
    tenant_id TEXT NOT NULL,
    merge_id  BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    other_id  TEXT,
    b1 BIGINT, b2 BIGINT, b3 BIGINT, b4 BIGINT, bt TEXT,
    a1 BIGINT, a2 BIGINT, a3 BIGINT, a4 BIGINT, at_ TEXT,
    PRIMARY KEY (tenant_id, merge_id, kind, record_id)
);

-- Records a merge moved that an earlier merge had moved before: their
-- previous moved_by, so a revert can hand them back to that merge.
CREATE TABLE journal_moves (
    tenant_id     TEXT NOT NULL,
    merge_id      BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    prev_moved_by BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, merge_id, kind, record_id)
);

-- What a revert kept newer on the target, per merge.
CREATE TABLE revert_kept (
    tenant_id TEXT NOT NULL,
    merge_id  BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    record_id TEXT NOT NULL,
    merged    TEXT NOT NULL,
    current_  TEXT NOT NULL,
    before    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, merge_id, kind, record_id)
);

-- Outbox of domain events (merge.completed, merge.reverted, ...), written in
-- the transaction that caused them; delivery happens after commit.
CREATE TABLE events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id        BIGINT NOT NULL,
    type      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    at        BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);

-- Record kinds (PRODUCT.md §3). moved_by: the merge that moved the record to
-- its current account; retired_by: the merge that retired it.
CREATE SEQUENCE merge_ids;
CREATE SEQUENCE operation_ids;
CREATE SEQUENCE event_ids;

CREATE TABLE signins (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at         BIGINT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    client     TEXT NOT NULL DEFAULT '',
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
-- (at) in the index answers "latest sign-in" for the preview warning without a scan.
CREATE INDEX signins_account ON signins (tenant_id, account_id, at);
CREATE INDEX signins_retired ON signins (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE attempts (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    content_id TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    attempt_no BIGINT NOT NULL DEFAULT 0,
    score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_score  DOUBLE PRECISION NOT NULL DEFAULT 0,
    passed     SMALLINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX attempts_account ON attempts (tenant_id, account_id);
CREATE INDEX attempts_retired ON attempts (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE badges (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    badge_id   TEXT NOT NULL DEFAULT '',
    acquired_at BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX badges_account ON badges (tenant_id, account_id);
CREATE INDEX badges_retired ON badges (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX badges_one_per_item ON badges (tenant_id, account_id, badge_id) WHERE retired_by IS NULL;
CREATE TABLE credits (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    points     BIGINT NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    awarded_at BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX credits_account ON credits (tenant_id, account_id);
CREATE INDEX credits_retired ON credits (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE certificates (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    subject_type TEXT NOT NULL DEFAULT '',
    subject_id TEXT NOT NULL DEFAULT '',
    number     TEXT NOT NULL DEFAULT '',
    issued_at  BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX certificates_account ON certificates (tenant_id, account_id);
CREATE INDEX certificates_retired ON certificates (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE course_progress (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    course_id  TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT '',
    percent    BIGINT NOT NULL DEFAULT 0,
    enrolled_at BIGINT NOT NULL,
    completed_at BIGINT,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX course_progress_account ON course_progress (tenant_id, account_id);
CREATE INDEX course_progress_retired ON course_progress (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX course_progress_one_per_item ON course_progress (tenant_id, account_id, course_id) WHERE retired_by IS NULL;
CREATE TABLE lecture_progress (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    lecture_id TEXT NOT NULL DEFAULT '',
    course_id  TEXT NOT NULL DEFAULT '',
    percent    BIGINT NOT NULL DEFAULT 0,
    last_access BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX lecture_progress_account ON lecture_progress (tenant_id, account_id);
CREATE INDEX lecture_progress_retired ON lecture_progress (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX lecture_progress_one_per_item ON lecture_progress (tenant_id, account_id, lecture_id) WHERE retired_by IS NULL;
CREATE TABLE path_progress (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    path_id    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT '',
    percent    BIGINT NOT NULL DEFAULT 0,
    enrolled_at BIGINT NOT NULL,
    completed_at BIGINT,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX path_progress_account ON path_progress (tenant_id, account_id);
CREATE INDEX path_progress_retired ON path_progress (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX path_progress_one_per_item ON path_progress (tenant_id, account_id, path_id) WHERE retired_by IS NULL;
CREATE TABLE quiz_sessions (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    quiz_id    TEXT NOT NULL DEFAULT '',
    answers    TEXT NOT NULL DEFAULT '',
    last_studied_at BIGINT NOT NULL,
    graded_at  BIGINT,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX quiz_sessions_account ON quiz_sessions (tenant_id, account_id);
CREATE INDEX quiz_sessions_retired ON quiz_sessions (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE master_states (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    quiz_id    TEXT NOT NULL DEFAULT '',
    results    TEXT NOT NULL DEFAULT '',
    last_studied_at BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX master_states_account ON master_states (tenant_id, account_id);
CREATE INDEX master_states_retired ON master_states (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX master_states_one_per_item ON master_states (tenant_id, account_id, quiz_id) WHERE retired_by IS NULL;
CREATE TABLE poll_responses (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    poll_id    TEXT NOT NULL DEFAULT '',
    answer     TEXT NOT NULL DEFAULT '',
    answered_at BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX poll_responses_account ON poll_responses (tenant_id, account_id);
CREATE INDEX poll_responses_retired ON poll_responses (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX poll_responses_one_per_item ON poll_responses (tenant_id, account_id, poll_id) WHERE retired_by IS NULL;
CREATE TABLE event_registrations (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event_id   TEXT NOT NULL DEFAULT '',
    registered_at BIGINT NOT NULL,
    attended   SMALLINT NOT NULL DEFAULT 0,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX event_registrations_account ON event_registrations (tenant_id, account_id);
CREATE INDEX event_registrations_retired ON event_registrations (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX event_registrations_one_per_item ON event_registrations (tenant_id, account_id, event_id) WHERE retired_by IS NULL;
CREATE TABLE external_ids (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    system     TEXT NOT NULL DEFAULT '',
    value      TEXT NOT NULL DEFAULT '',
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX external_ids_account ON external_ids (tenant_id, account_id);
CREATE INDEX external_ids_retired ON external_ids (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE TABLE financial_records (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    account_id TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    amount_cents BIGINT NOT NULL DEFAULT 0,
    currency   TEXT NOT NULL DEFAULT '',
    reference  TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL,
    moved_by   BIGINT,
    retired_by BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX financial_records_account ON financial_records (tenant_id, account_id);
CREATE INDEX financial_records_retired ON financial_records (tenant_id, retired_by) WHERE retired_by IS NOT NULL;
CREATE UNIQUE INDEX quiz_sessions_one_suspended ON quiz_sessions (tenant_id, account_id, quiz_id) WHERE retired_by IS NULL AND graded_at IS NULL;
CREATE UNIQUE INDEX external_ids_value ON external_ids (tenant_id, system, value);
