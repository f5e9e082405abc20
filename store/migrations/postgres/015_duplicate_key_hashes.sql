-- 015: blocking keys and fingerprints as 64-bit numbers (docs/duplicates.md).
--
-- A run stored each account's blocking keys as their text ("n:S535a") and
-- its fingerprint as 24 hex digits, and to write them it read every
-- account a second time. It now keeps, while it reads the tenant, the
-- 64-bit hash of each key (match.KeyHash, the hash the finder blocks by)
-- and of each fingerprint (store.Fingerprint), and writes those: rows a
-- third the size, indexes of numbers, no second read. A hash shared by two
-- different keys only adds a candidate that the check then scores.
--
-- The index of the keys by account is gone: a tenant's first run writes
-- its keys in key order, so the primary key fills page after page, which
-- an index in account order would undo (10 s instead of 3.7 s for 1.9
-- million keys on PostgreSQL). An account's keys are found, to be
-- replaced or dropped, from the list its fingerprint's row keeps.
--
-- The tables hold what a run derives, nothing else: they are made again
-- empty, and a tenant's next detection run stores them again (with none
-- stored, every account counts as changed). Until then the check at
-- account creation finds candidates by external ID, e-mail and employee
-- number only, and the tenant's duplicates read as stale.
DROP TABLE duplicate_keys;
DROP TABLE duplicate_fingerprints;

CREATE TABLE duplicate_keys (
    tenant_id  TEXT NOT NULL,
    key        BIGINT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key, account_id)
);

CREATE TABLE duplicate_fingerprints (
    tenant_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    fingerprint BIGINT NOT NULL,
    keys        BYTEA NOT NULL,                   -- the account's keys as stored: 8 bytes each, little-endian
    PRIMARY KEY (tenant_id, account_id)
);
