-- 0011_audit_org_blocks.sql - which stretches of the trail name each org.
-- A block is 4096 consecutive seqs (seq >> 12, the windows store_audit_list
-- scans); a row here says the org has at least one record in that block.
-- An org-scoped listing then scans only those blocks instead of paging
-- through every stretch of a large multi-tenant trail (docs/audit.md,
-- "Reading the trail"). It is written with the records, in the same
-- transaction, once per org and batch, so it costs the writer a lookup
-- per batch, not an index entry per record. It is derived data, outside
-- the hash chain: verify and export read the trail itself.

CREATE TABLE audit_org_blocks (
    org   TEXT    NOT NULL,
    block INTEGER NOT NULL,
    PRIMARY KEY (org, block)
) WITHOUT ROWID;

INSERT OR IGNORE INTO audit_org_blocks (org, block)
    SELECT DISTINCT org, seq >> 12 FROM audit WHERE org != '';
