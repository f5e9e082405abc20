-- 009: the merge list filters by operation (?operation=N, merges --operation):
-- the merges made by one request share an operation id. Without this index
-- that filter read every merge of the tenant.
CREATE INDEX merges_operation ON merges (tenant_id, operation_id);
