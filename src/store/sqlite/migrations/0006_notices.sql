-- 0006_notices.sql - the outbox of token expiry notices (seed 003: e-mail
-- 7 days and 1 day before a token expires). Conventions as in 0001.
--
-- One row per (token, offset in days, channel): the UNIQUE constraint is
-- what makes each notice scheduled once, whatever the number of passes,
-- processes or restarts. Rows never hold a secret: token ids are public ids,
-- recipients are e-mail addresses, last_error is written by code that never
-- puts a password, token or signing secret into it.
--
-- status: pending   scheduled, waiting for its next attempt (next_attempt_at)
--         delivered sent and acknowledged (delivered_at)
--         failed    gave up after the maximum number of attempts
--         skipped   never to be sent: a more imminent notice superseded it,
--                   or there is no one to send it to
--         cancelled the token was deleted, rotated away or expired first
--
-- PostgreSQL twin: AUTOINCREMENT -> identity, INTEGER -> BIGINT, and the two
-- triggers become plpgsql trigger functions with the same bodies.

CREATE TABLE notices (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,            -- "ntc_<hex>", derived from (token_id, days_before, channel)
    token_id         TEXT    NOT NULL,                   -- public id; no foreign key: rows outlive the token
    org_id           TEXT    NOT NULL DEFAULT '',        -- '' for root tokens
    owner_type       TEXT    NOT NULL,
    owner_id         TEXT    NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    days_before      INTEGER NOT NULL CHECK (days_before >= 1),
    expires_at       INTEGER NOT NULL,                   -- the token's expiry this notice announces
    recipients       TEXT    NOT NULL DEFAULT '[]',      -- JSON array of e-mail addresses ('[]' for webhooks)
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER,                            -- NULL until delivered
    UNIQUE (token_id, days_before, channel)
);

-- The delivery pass: pending rows whose next attempt is due.
CREATE INDEX notices_due ON notices (status, next_attempt_at);
-- The org admin listing, in seq order.
CREATE INDEX notices_org ON notices (org_id, seq);

-- Tokens that must get no further notices: their expiry was shortened,
-- which is what rotation does to the old token (it keeps working for the
-- grace period only). Filled by the trigger below, never by hand.
CREATE TABLE notice_retired_tokens (
    token_id    TEXT    PRIMARY KEY,
    retired_at  INTEGER NOT NULL
);

CREATE TRIGGER notices_token_shortened AFTER UPDATE OF expires_at ON tokens
WHEN NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at <= OLD.expires_at)
BEGIN
    INSERT OR IGNORE INTO notice_retired_tokens (token_id, retired_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
    UPDATE notices SET status = 'cancelled', last_error = 'token rotated or its expiry shortened',
                       updated_at = CAST(strftime('%s', 'now') AS INTEGER)
     WHERE token_id = NEW.id AND status = 'pending';
END;

CREATE TRIGGER notices_token_deleted AFTER DELETE ON tokens
BEGIN
    UPDATE notices SET status = 'cancelled', last_error = 'token deleted',
                       updated_at = CAST(strftime('%s', 'now') AS INTEGER)
     WHERE token_id = OLD.id AND status = 'pending';
    DELETE FROM notice_retired_tokens WHERE token_id = OLD.id;
END;
