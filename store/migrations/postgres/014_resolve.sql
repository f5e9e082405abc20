-- 014: resolving old references (PRODUCT.md §13, store/resolve.go).
--
-- Resolve lists, for each of up to 1,000 named accounts, the reverted
-- merges that had it as their source. Through merges_source that reads
-- every merge of each account and then its row for the state, when most
-- accounts have no reverted merge at all; this index holds the reverted
-- merges only, so the common answer (none) is one probe of a small index
-- and the others never touch the table (state is a column too, so that
-- SQLite sees the index covers the statement).
CREATE INDEX merges_reverted_source ON merges (tenant_id, source_id, id, state) WHERE state = 'reverted';
