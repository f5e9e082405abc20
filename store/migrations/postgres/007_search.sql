-- 007: searches that fold case as SQLite does, through an index; every
-- index leads with tenant_id, and merge ids are numbered per tenant as on
-- SQLite (PRODUCT.md §10, TestSchemaLeadsWithTenant).
--
-- lower() follows the database's locale: under "C" it folds ASCII only, so
-- the answer to a search depended on how the server was set up. The search
-- columns are now computed by usermerge_fold, lower() under the ICU root
-- collation, which is what the store's Go fold (store/search.go) does for
-- SQLite. A server built without ICU falls back to lower(), with a notice.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        CREATE FUNCTION usermerge_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN lower(t COLLATE pg_catalog."und-x-icu");
    ELSE
        RAISE NOTICE 'PostgreSQL has no ICU collation: searches fold case by the database locale';
        CREATE FUNCTION usermerge_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN lower(t);
    END IF;
END $$;

ALTER TABLE accounts DROP COLUMN search;
ALTER TABLE accounts ADD COLUMN search TEXT GENERATED ALWAYS AS (usermerge_fold(name || E'\n' || login || E'\n' || email)) STORED;
ALTER TABLE external_ids DROP COLUMN search;
ALTER TABLE external_ids ADD COLUMN search TEXT GENERATED ALWAYS AS (usermerge_fold(value)) STORED;

-- The trigram indexes lead with tenant_id (btree_gin gives GIN an operator
-- class for text equality), so a search reads one tenant's entries only and
-- the index can live on the tenant's shard. Both extensions are installed
-- in schema public, shared by every schema of the database; where they
-- cannot be, searches scan the tenant's accounts, with a notice.
DO $$
DECLARE
    trgm text;
BEGIN
    -- Extensions belong to the database: migrations of two schemas at once
    -- take turns creating them (the migration lock is per schema).
    SET LOCAL lock_timeout = '300s';
    PERFORM pg_advisory_xact_lock(hashtext('usermerge extensions'));
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;
    SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX accounts_search ON accounts USING gin (tenant_id, search %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX external_ids_search ON external_ids USING gin (tenant_id, search %I.gin_trgm_ops)', trgm);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'no trigram indexes (%): account searches scan the accounts', SQLERRM;
END $$;

-- Merge, operation and event ids come from the per-tenant counters, as on
-- SQLite, instead of database-wide sequences: each tenant's first merge is
-- merge 1, and nothing is shared between tenants. Each counter starts after
-- the tenant's largest id so far.
INSERT INTO counters (tenant_id, name, value)
SELECT tenant_id, 'merge', MAX(id) FROM merges GROUP BY tenant_id
UNION ALL SELECT tenant_id, 'operation', MAX(operation_id) FROM merges GROUP BY tenant_id
UNION ALL SELECT tenant_id, 'event', MAX(id) FROM events GROUP BY tenant_id
ON CONFLICT (tenant_id, name) DO UPDATE SET value = GREATEST(counters.value, excluded.value);
DROP SEQUENCE merge_ids;
DROP SEQUENCE operation_ids;
DROP SEQUENCE event_ids;

-- Sessions were also found by their hash alone, across tenants; an index
-- that does not lead with tenant_id cannot live on one tenant's shard. The
-- lookups by hash alone read the (small) table.
DROP INDEX sessions_hash;
