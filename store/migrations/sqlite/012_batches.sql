-- 012: bulk merges (PRODUCT.md §12, engine/batch_run.go).
--
-- A batch is a job whose whole state lives here: one row per batch and one
-- per batch row, in working order (ord). Each row is merged in one
-- transaction that also writes the row's status, so after a crash the
-- batch resumes at its first pending row with no row lost and none merged
-- twice. The counts (merged, refused, ...) are counted from batch_rows, so
-- they are exact whatever happened. One worker at a time holds a batch's
-- lease (lease_owner until lease_until); each row's transaction first
-- renews it with an UPDATE that must find this worker still the owner (the
-- fence), so a worker that lost its lease writes nothing.
CREATE TABLE batches (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             INTEGER NOT NULL,
    name           TEXT NOT NULL,
    origin         TEXT NOT NULL,               -- file, suggestions
    status         TEXT NOT NULL,               -- usermerge.BatchStatus
    by_admin       TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    INTEGER NOT NULL DEFAULT 0,  -- 0: free
    rows_          INTEGER NOT NULL,
    run_micros     INTEGER NOT NULL DEFAULT 0,  -- time spent working rows (µs), for the pace
    run_rows       INTEGER NOT NULL DEFAULT 0,  -- rows worked in that time
    partial_revert INTEGER NOT NULL DEFAULT 0,
    reverted_at    INTEGER,
    reverted_by    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
-- The workers look for running or reverting batches of any tenant: few,
-- in this small partial index (tenant_id first, as every key: see
-- store/tenantkeys_test.go).
CREATE INDEX batches_work ON batches (tenant_id, lease_until) WHERE status IN ('running', 'reverting');

CREATE TABLE batch_rows (
    tenant_id         TEXT NOT NULL,
    batch_id          INTEGER NOT NULL,
    ord               INTEGER NOT NULL,         -- working order, 1-based
    line              INTEGER NOT NULL,
    target            TEXT NOT NULL,            -- as the file named it
    sources           TEXT NOT NULL,            -- []string, JSON
    move_external_ids INTEGER,                  -- NULL: the tenant's default
    reason            TEXT NOT NULL DEFAULT '',
    suggestion        INTEGER NOT NULL DEFAULT 0,
    target_id         TEXT NOT NULL,            -- as the check resolved it
    source_ids        TEXT NOT NULL,            -- []string, JSON
    status            TEXT NOT NULL,            -- usermerge.RowStatus
    operation_id      INTEGER NOT NULL DEFAULT 0,
    merge_ids         TEXT NOT NULL DEFAULT '', -- []int64, JSON
    merges            INTEGER NOT NULL DEFAULT 0,
    problem_reason    TEXT NOT NULL DEFAULT '',
    problem_message   TEXT NOT NULL DEFAULT '',
    at                INTEGER,
    PRIMARY KEY (tenant_id, batch_id, ord),
    FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
);
CREATE INDEX batch_rows_status ON batch_rows (tenant_id, batch_id, status, ord);

-- The merges a batch made: the merge list filters by batch (?batch=N).
ALTER TABLE merges ADD COLUMN batch_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX merges_batch ON merges (tenant_id, batch_id);
