-- 0010_audit_compact.sql - a smaller audit record: the hash as its 32 bytes
-- instead of 64 hex characters, and no prev_hash column. A record's
-- prev_hash is by definition the hash of the record before it, so reads
-- take it from there (store_sqlite.c, audit_links); the hash still
-- covers it, so a changed, removed or inserted record breaks the chain as
-- before. Records shrink by about a third (docs/performance.md, "A
-- smaller audit record"), and every page the writer appends, syncs and
-- checkpoints holds more of them.
--
-- The table is rebuilt: SQLite cannot change a column's type in place.
-- lk_unhex() is registered by latchkey on its connections (SQLite 3.40 has
-- no unhex()); a value that is not 64 lower-case hex digits (a tampered
-- record) is kept as it is, so that `audit verify` names it afterwards
-- rather than the migration failing. Dropping the old table fires no
-- triggers; the immutability triggers are made again on the new one.
-- The old table's pages become free pages that new records reuse
-- (docs/audit.md, "The chain": VACUUM gives them back at once).

CREATE TABLE audit_compact (
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
    hash             BLOB    NOT NULL
);

INSERT INTO audit_compact (seq, time_ms, request_id, actor_type, actor_name, actor_org, token_id, credential_hmac,
                           org, team, action, method, resource, outcome, status, source_ip, user_agent, hash)
    SELECT seq, time_ms, request_id, actor_type, actor_name, actor_org, token_id, credential_hmac,
           org, team, action, method, resource, outcome, status, source_ip, user_agent, lk_unhex(hash)
      FROM audit ORDER BY seq;

DROP TABLE audit;
ALTER TABLE audit_compact RENAME TO audit;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are immutable');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are immutable');
END;
