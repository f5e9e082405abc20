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
-- The time in the index answers the preview's latest live sign-in
-- (MAX(at)) from the index's last entries.
DROP INDEX signins_account;
CREATE INDEX signins_account ON signins (tenant_id, account_id, at, retired_by);
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
-- compares one lower-cased column per row instead of lower-casing three
-- (char(10) keeps a search from matching across two fields). The columns
-- are kept by triggers (PostgreSQL computes them as generated columns): an
-- index on a stored column covers the search, so it reads the narrow index
-- alone, a quarter faster than SQLite's virtual generated columns, whose
-- index it cannot use without reading the table too.
ALTER TABLE accounts ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE accounts SET search = lower(name || char(10) || login || char(10) || email);
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    UPDATE accounts SET search = lower(NEW.name || char(10) || NEW.login || char(10) || NEW.email)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
END;
CREATE TRIGGER accounts_search_update AFTER UPDATE OF name, login, email ON accounts BEGIN
    UPDATE accounts SET search = lower(NEW.name || char(10) || NEW.login || char(10) || NEW.email)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
END;
CREATE INDEX accounts_search ON accounts (tenant_id, search, id);
ALTER TABLE external_ids ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE external_ids SET search = lower(value);
CREATE TRIGGER external_ids_search_insert AFTER INSERT ON external_ids BEGIN
    UPDATE external_ids SET search = lower(NEW.value) WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
END;
CREATE TRIGGER external_ids_search_update AFTER UPDATE OF value ON external_ids BEGIN
    UPDATE external_ids SET search = lower(NEW.value) WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
END;
CREATE INDEX external_ids_search ON external_ids (tenant_id, search, account_id);
