-- 004: what exact reverts of every kind and complete merge details need.
--
-- Keep-latest kinds (quiz sessions, master states, polls) now journal the
-- kept record's values, so that a revert can tell a record changed after the
-- merge; whose record was kept moves from the text slot into the action
-- ('kept_target', 'kept_source'). Rows journaled before this migration did
-- not hold the values; they get the record's values as they are now, which
-- is what a revert compared against before (nothing).
UPDATE journal_values SET action = 'kept_' || bt, bt = NULL WHERE action = 'kept';
UPDATE journal_values SET at_ = r.answers, a1 = r.last_studied_at, a2 = r.graded_at
    FROM quiz_sessions r
    WHERE journal_values.kind = 'quiz_session' AND journal_values.action LIKE 'kept_%' AND journal_values.a1 IS NULL
    AND r.tenant_id = journal_values.tenant_id AND r.id = journal_values.record_id;
UPDATE journal_values SET at_ = r.results, a1 = r.last_studied_at
    FROM master_states r
    WHERE journal_values.kind = 'master_state' AND journal_values.action LIKE 'kept_%' AND journal_values.a1 IS NULL
    AND r.tenant_id = journal_values.tenant_id AND r.id = journal_values.record_id;
UPDATE journal_values SET at_ = r.answer, a1 = r.answered_at
    FROM poll_responses r
    WHERE journal_values.kind = 'poll_response' AND journal_values.action LIKE 'kept_%' AND journal_values.a1 IS NULL
    AND r.tenant_id = journal_values.tenant_id AND r.id = journal_values.record_id;

-- Details list a merge's retired records from the journal (other_id), and
-- the records it moved that later merges moved on (prev_moved_by).
CREATE INDEX journal_values_other ON journal_values (tenant_id, merge_id, kind, other_id) WHERE other_id IS NOT NULL;
CREATE INDEX journal_moves_prev ON journal_moves (tenant_id, prev_moved_by, kind);

-- A revert's report says why each record stayed as the merge left it, and
-- where it is.
ALTER TABLE revert_kept ADD COLUMN reason TEXT NOT NULL DEFAULT 'changed_after_merge';
ALTER TABLE revert_kept ADD COLUMN account_id TEXT NOT NULL DEFAULT '';

-- Titles of the items records name (courses, contents, badges, polls...),
-- as the platform's import gave them, for merge details.
CREATE TABLE titles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    catalog   TEXT NOT NULL,
    id        TEXT NOT NULL,
    title     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, catalog, id)
);
