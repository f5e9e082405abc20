-- 008: the profile fields a merge gave the kept account from its source
-- (MergeRequest.Profile): per merge and field, the target's value before and
-- the value the merge wrote, so that a revert restores the value before
-- where the account still holds the one the merge wrote (compare-and-restore).
CREATE TABLE merge_profile (
    tenant_id TEXT NOT NULL,
    merge_id  INTEGER NOT NULL,
    field     TEXT NOT NULL,
    before    TEXT NOT NULL,
    after     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, merge_id, field)
);
