-- 0017_audit_checkpoints.sql - signed checkpoints of the audit chain
-- (docs/audit.md, "Checkpoints"). Conventions as in 0001.
--
-- A row vouches for the chain's head at some moment: record seq had hash
-- (64 hex), and mac is HMAC-SHA256 under the audit key of "<seq>:<hash>"
-- (64 hex). The audit key is kept sealed by the barrier (store meta
-- "seal.audit_key") and is in memory only while latchkey is unsealed, so
-- only a holder of the unseal keys can write a checkpoint that verifies.
-- Each record's hash covers every record before it, so a valid checkpoint
-- at seq authenticates records 1..seq. Records are hashed as before: no
-- record changes.
--
-- seq is the chain's seq, not an identity of this table: one checkpoint per
-- record at most. Like the trail, checkpoints are never updated or deleted;
-- the triggers make a stray statement fail loudly (someone with write access
-- to the file can drop them, which is what verify is for).

CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT    NOT NULL,
    mac        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
