-- 0001_init.sql - the first schema: API tokens and server metadata.
--
-- store_migrate() runs this file inside one transaction and records it in
-- schema_version, a table the code creates and manages: do not create it
-- here, and do not put BEGIN/COMMIT in a migration file.
--
-- Times are Unix seconds. A NULL expires_at or last_used_at means "never";
-- the store maps NULL to and from 0 in struct token_rec.
--
-- Kept portable so a PostgreSQL twin differs only in these places:
--   seq INTEGER PRIMARY KEY AUTOINCREMENT  ->  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY
--       (AUTOINCREMENT, like an identity, never reuses a seq, even after the
--       highest row is deleted, so list cursors stay valid.)
--   hash BLOB                              ->  hash BYTEA (length() is bytes in both)
--   INTEGER times                          ->  BIGINT (SQLite's INTEGER is already 64-bit)
--   policies TEXT                          ->  TEXT or JSONB (the store hands it out as text)
-- SQLite STRICT tables are not used: they need SQLite >= 3.37 and have no
-- PostgreSQL equivalent to mirror.

CREATE TABLE tokens (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,              -- public key id, "lk_user_XXXXXXXXXXXX"
    hash         BLOB    NOT NULL CHECK (length(hash) = 32), -- SHA-256 of the whole token
    owner_type   TEXT    NOT NULL,                     -- "root", "user", "service_account", ...
    owner_id     TEXT    NOT NULL,
    org_id       TEXT    NOT NULL DEFAULT '',          -- '' when the owner has no org (root)
    created_by   TEXT    NOT NULL DEFAULT '',          -- "type:id" of the creating principal
    description  TEXT    NOT NULL DEFAULT '',
    policies     TEXT    NOT NULL DEFAULT '[]',        -- JSON array of strings
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                              -- NULL = never
    last_used_at INTEGER                               -- NULL = never
);

-- Listing an owner's tokens in seq order, with seq as the cursor.
CREATE INDEX tokens_owner ON tokens (owner_type, owner_id, seq);

-- Expiry notices and the cleanup of long-expired tokens.
CREATE INDEX tokens_expires ON tokens (expires_at);

-- Small server-wide settings (e.g. keys), one row per key.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
