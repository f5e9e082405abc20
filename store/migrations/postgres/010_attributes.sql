-- 010: profile attributes (PRODUCT.md §11, usermerge.KnownAttributes). The
-- known keys are columns, '' for no value, so that duplicate detection can
-- block on them with an index per tenant; the free keys a tenant names are
-- one JSON object in attrs ('' for none), read and written whole with the
-- account and never queried by key.
ALTER TABLE accounts ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN family_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN birth_date TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN employee_number TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN attrs TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_birth_date ON accounts (tenant_id, birth_date);
CREATE INDEX accounts_employee_number ON accounts (tenant_id, employee_number);
CREATE INDEX accounts_family_name ON accounts (tenant_id, family_name);
