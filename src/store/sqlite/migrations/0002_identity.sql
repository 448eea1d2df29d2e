-- 0002_identity.sql - organisations and their users.
--
-- Same conventions as 0001: Unix-second times, NULL for "none", code-managed
-- schema_version. PostgreSQL twin: AUTOINCREMENT -> identity, INTEGER ->
-- BIGINT; the CHECKs and the foreign key carry over as written.

CREATE TABLE orgs (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    id                         TEXT    NOT NULL UNIQUE,   -- "org_<hex>"
    name                       TEXT    NOT NULL UNIQUE,   -- slug
    display_name               TEXT    NOT NULL DEFAULT '',
    status                     TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'deactivated')),
    token_expiry_hours         INTEGER NOT NULL CHECK (token_expiry_hours >= 1),
    allow_non_expiring_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (allow_non_expiring_tokens IN (0, 1)),
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);

CREATE TABLE users (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT    NOT NULL UNIQUE,          -- "usr_<hex>"
    org_id              TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    username            TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    password_hash       TEXT,                              -- scrypt string; NULL = no password
    role                TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    programmatic_only   INTEGER NOT NULL DEFAULT 0 CHECK (programmatic_only IN (0, 1)),
    token_expiry_hours  INTEGER CHECK (token_expiry_hours IS NULL OR token_expiry_hours >= 1),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (org_id, username)
);

-- Listing an org's users in seq order, with seq as the cursor.
CREATE INDEX users_org ON users (org_id, seq);

-- Deleting an org's tokens with the org.
CREATE INDEX tokens_org ON tokens (org_id);
