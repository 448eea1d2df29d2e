-- 0007_audit.sql - the audit trail: append-only, hash-chained (docs/audit.md).
-- seq is assigned by the appender (previous seq + 1) inside the write
-- transaction that also reads the chain head, so the chain has no gaps.
-- No foreign keys: records outlive the orgs, users and tokens they name.

CREATE TABLE audit (
    seq              INTEGER PRIMARY KEY,
    time_ms          INTEGER NOT NULL,
    request_id       TEXT    NOT NULL,
    actor_type       TEXT    NOT NULL,
    actor_name       TEXT    NOT NULL,
    actor_org        TEXT    NOT NULL,
    token_id         TEXT    NOT NULL,
    credential_hmac  TEXT    NOT NULL,
    org              TEXT    NOT NULL,
    team             TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    resource         TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    status           INTEGER NOT NULL,
    source_ip        TEXT    NOT NULL,
    user_agent       TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL
);

CREATE INDEX audit_org ON audit (org, seq);
CREATE INDEX audit_time ON audit (time_ms);

-- Nothing in latchkey updates or deletes a record; these make an accidental
-- attempt fail loudly. Someone with the file can drop them, which is what
-- the hash chain (latchkey operator audit verify) is for.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are immutable');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are immutable');
END;
