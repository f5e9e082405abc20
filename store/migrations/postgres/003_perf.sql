-- 003: indexes and search columns for merges of long histories and for a
-- merge list of millions (docs/performance.md explains each with its query
-- plans). The PostgreSQL file has the same intent; index shapes differ
-- where the two planners differ.
--
-- Record tables: every account index gains retired_by, so that the live
-- records of an account (retired_by IS NULL) are found and counted from the
-- index alone: the preview counts a million sign-ins without reading the
-- table, and the merge's UPDATE finds the rows it moves without reading the
-- retired ones. retired_by comes last: PostgreSQL does not treat IS NULL as
-- an equality, so a column after it would not give its order. attempts
-- also carry the content, so the renumbering reads the source's contents in
-- order and finds the ones the target shares by index lookups instead of
-- comparing every attempt of one account with every attempt of the other.
-- An index whose key is only (tenant, account, retired_by) stores the
-- sign-ins of one account as one deduplicated posting list, 15 times
-- smaller than with the time in the key: counting a million sign-ins for
-- the preview reads a few hundred pages. The latest live sign-in has an
-- index of its own (the shape SQLite uses for both).
DROP INDEX signins_account;
CREATE INDEX signins_account ON signins (tenant_id, account_id, retired_by);
CREATE INDEX signins_latest ON signins (tenant_id, account_id, at, retired_by);
DROP INDEX attempts_account;
CREATE INDEX attempts_account ON attempts (tenant_id, account_id, content_type, content_id, retired_by);
DROP INDEX badges_account;
CREATE INDEX badges_account ON badges (tenant_id, account_id, retired_by);
DROP INDEX credits_account;
CREATE INDEX credits_account ON credits (tenant_id, account_id, retired_by);
DROP INDEX certificates_account;
CREATE INDEX certificates_account ON certificates (tenant_id, account_id, retired_by);
DROP INDEX course_progress_account;
CREATE INDEX course_progress_account ON course_progress (tenant_id, account_id, retired_by);
DROP INDEX lecture_progress_account;
CREATE INDEX lecture_progress_account ON lecture_progress (tenant_id, account_id, retired_by);
DROP INDEX path_progress_account;
CREATE INDEX path_progress_account ON path_progress (tenant_id, account_id, retired_by);
DROP INDEX quiz_sessions_account;
CREATE INDEX quiz_sessions_account ON quiz_sessions (tenant_id, account_id, retired_by);
DROP INDEX master_states_account;
CREATE INDEX master_states_account ON master_states (tenant_id, account_id, retired_by);
DROP INDEX poll_responses_account;
CREATE INDEX poll_responses_account ON poll_responses (tenant_id, account_id, retired_by);
DROP INDEX event_registrations_account;
CREATE INDEX event_registrations_account ON event_registrations (tenant_id, account_id, retired_by);
DROP INDEX external_ids_account;
CREATE INDEX external_ids_account ON external_ids (tenant_id, account_id, retired_by);
DROP INDEX financial_records_account;
CREATE INDEX financial_records_account ON financial_records (tenant_id, account_id, retired_by);

-- The merge list: newest first (ORDER BY at DESC, id DESC) is a backward
-- scan of (tenant_id, at, id); the default list leaves out merges whose
-- target was deleted, so a partial index holds exactly the listed merges
-- and counts them without reading the table. A search by source or target
-- reads the merges of the matching accounts in time order.
DROP INDEX merges_at;
CREATE INDEX merges_at ON merges (tenant_id, at, id);
CREATE INDEX merges_listed ON merges (tenant_id, at, id) WHERE state <> 'target_deleted';
DROP INDEX merges_source;
CREATE INDEX merges_source ON merges (tenant_id, source_id, at);
DROP INDEX merges_target;
CREATE INDEX merges_target ON merges (tenant_id, target_id, at);

-- Searching accounts by a part of their name, login, email or external ID
-- compares one stored lower-cased column per row instead of lower-casing
-- three (E'\n' keeps a search from matching across two fields). Where the
-- pg_trgm extension is available, a trigram index answers LIKE '%...%'
-- without reading every account; it is installed in schema public (shared
-- by every schema of the database, so dropping one schema never drops it)
-- and skipped, with a notice, where it cannot be.
ALTER TABLE accounts ADD COLUMN search TEXT GENERATED ALWAYS AS (lower(name || E'\n' || login || E'\n' || email)) STORED;
ALTER TABLE external_ids ADD COLUMN search TEXT GENERATED ALWAYS AS (lower(value)) STORED;
DO $$
DECLARE
    trgm text;
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX accounts_search ON accounts USING gin (search %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX external_ids_search ON external_ids USING gin (search %I.gin_trgm_ops)', trgm);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'no trigram indexes (%): account searches scan the accounts', SQLERRM;
END $$;
