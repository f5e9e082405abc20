-- 007: searches that fold case as PostgreSQL does, through an index; every
-- index leads with tenant_id (PRODUCT.md §10, TestSchemaLeadsWithTenant).
--
-- SQLite's lower() folds ASCII only, so "élodie" did not find "Élodie". The
-- search columns are now computed by usermerge_fold, the Go function the
-- store registers on every connection (store/search.go): Unicode lower-casing
-- as PostgreSQL's lower() does under ICU.
--
-- A search for a part of a name is LIKE '%term%', which no B-tree answers.
-- FTS5's trigram tokenizer would, but mattn/go-sqlite3 compiles FTS5 only
-- under a build tag, which plain `go build` and `go test` do not set. So the
-- store keeps its own trigram index, as PostgreSQL's pg_trgm does: the
-- distinct 3-character pieces of each account's search text (and of each
-- external ID's value), computed by usermerge_grams and kept by the triggers
-- below. A search of 3 characters or more reads the accounts holding all of
-- its pieces and compares only those.
DROP TRIGGER accounts_search_insert;
DROP TRIGGER accounts_search_update;
DROP TRIGGER external_ids_search_insert;
DROP TRIGGER external_ids_search_update;

CREATE TABLE account_grams (
    tenant_id  TEXT NOT NULL,
    gram       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, gram, account_id)
) WITHOUT ROWID;
CREATE INDEX account_grams_account ON account_grams (tenant_id, account_id);

CREATE TABLE external_id_grams (
    tenant_id   TEXT NOT NULL,
    gram        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, gram, external_id)
) WITHOUT ROWID;
CREATE INDEX external_id_grams_record ON external_id_grams (tenant_id, external_id);

CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    UPDATE accounts SET search = usermerge_fold(NEW.name || char(10) || NEW.login || char(10) || NEW.email)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    INSERT OR IGNORE INTO account_grams (tenant_id, gram, account_id)
    SELECT NEW.tenant_id, value, NEW.id FROM json_each(usermerge_grams(NEW.name || char(10) || NEW.login || char(10) || NEW.email));
END;
CREATE TRIGGER accounts_search_update AFTER UPDATE OF name, login, email ON accounts BEGIN
    UPDATE accounts SET search = usermerge_fold(NEW.name || char(10) || NEW.login || char(10) || NEW.email)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    DELETE FROM account_grams WHERE tenant_id = OLD.tenant_id AND account_id = OLD.id;
    INSERT OR IGNORE INTO account_grams (tenant_id, gram, account_id)
    SELECT NEW.tenant_id, value, NEW.id FROM json_each(usermerge_grams(NEW.name || char(10) || NEW.login || char(10) || NEW.email));
END;
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    DELETE FROM account_grams WHERE tenant_id = OLD.tenant_id AND account_id = OLD.id;
END;

CREATE TRIGGER external_ids_search_insert AFTER INSERT ON external_ids BEGIN
    UPDATE external_ids SET search = usermerge_fold(NEW.value) WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    INSERT OR IGNORE INTO external_id_grams (tenant_id, gram, external_id)
    SELECT NEW.tenant_id, value, NEW.id FROM json_each(usermerge_grams(NEW.value));
END;
CREATE TRIGGER external_ids_search_update AFTER UPDATE OF value ON external_ids BEGIN
    UPDATE external_ids SET search = usermerge_fold(NEW.value) WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    DELETE FROM external_id_grams WHERE tenant_id = OLD.tenant_id AND external_id = OLD.id;
    INSERT OR IGNORE INTO external_id_grams (tenant_id, gram, external_id)
    SELECT NEW.tenant_id, value, NEW.id FROM json_each(usermerge_grams(NEW.value));
END;
CREATE TRIGGER external_ids_search_delete AFTER DELETE ON external_ids BEGIN
    DELETE FROM external_id_grams WHERE tenant_id = OLD.tenant_id AND external_id = OLD.id;
END;

UPDATE accounts SET search = usermerge_fold(name || char(10) || login || char(10) || email);
INSERT OR IGNORE INTO account_grams (tenant_id, gram, account_id)
SELECT a.tenant_id, g.value, a.id FROM accounts a, json_each(usermerge_grams(a.name || char(10) || a.login || char(10) || a.email)) g;
UPDATE external_ids SET search = usermerge_fold(value);
INSERT OR IGNORE INTO external_id_grams (tenant_id, gram, external_id)
SELECT x.tenant_id, g.value, x.id FROM external_ids x, json_each(usermerge_grams(x.value)) g;

-- Sessions were also found by their hash alone, across tenants; an index
-- that does not lead with tenant_id cannot live on one tenant's shard. The
-- lookups by hash alone read the (small) table.
DROP INDEX sessions_hash;
