-- 0015_notice_recipients.sql - one outbox row per e-mail recipient, and the
-- org setting for notices of short-lived tokens.
--
-- Until now an e-mail notice was one row with a JSON list of recipients,
-- sent as one message to all of them: one address the relay refused failed
-- the whole row, and nobody got the notice. Now each recipient is a row of
-- its own (recipient: one address; '' for webhooks and for an e-mail notice
-- with nobody to send to), delivered, retried and given up on its own. The
-- row's key becomes (token_id, days_before, channel, recipient).
--
-- Existing rows are split: a row keeps its seq, id and state for its first
-- recipient; each further recipient gets a row with the same state, the id
-- of the row and three hex digits of the recipient's position (so it
-- cannot collide with a derived 28-character id), and a new seq.
--
-- orgs.notify_short_lived_tokens: whether a token whose whole life is
-- shorter than the smallest notice offset (a CI token of an hour) gets the
-- final notice; default off (docs/notices.md).

CREATE TABLE notices_0015 (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    token_id         TEXT    NOT NULL,
    org_id           TEXT    NOT NULL DEFAULT '',
    owner_type       TEXT    NOT NULL,
    owner_id         TEXT    NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    days_before      INTEGER NOT NULL CHECK (days_before >= 1),
    expires_at       INTEGER NOT NULL,
    recipient        TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (token_id, days_before, channel, recipient)
);

INSERT INTO notices_0015 (seq, id, token_id, org_id, owner_type, owner_id, channel, days_before, expires_at,
                          recipient, status, attempts, last_error, next_attempt_at, created_at, updated_at,
                          delivered_at)
    SELECT seq, id, token_id, org_id, owner_type, owner_id, channel, days_before, expires_at,
           COALESCE(json_extract(recipients, '$[0]'), ''), status, attempts, last_error, next_attempt_at,
           created_at, updated_at, delivered_at
      FROM notices ORDER BY seq;

INSERT INTO notices_0015 (id, token_id, org_id, owner_type, owner_id, channel, days_before, expires_at,
                          recipient, status, attempts, last_error, next_attempt_at, created_at, updated_at,
                          delivered_at)
    SELECT n.id || printf('%03x', j.key), n.token_id, n.org_id, n.owner_type, n.owner_id, n.channel,
           n.days_before, n.expires_at, j.value, n.status, n.attempts, n.last_error, n.next_attempt_at,
           n.created_at, n.updated_at, n.delivered_at
      FROM notices n, json_each(n.recipients) j
     WHERE j.key >= 1
     ORDER BY n.seq, j.key;

DROP TABLE notices;
ALTER TABLE notices_0015 RENAME TO notices;
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_org ON notices (org_id, seq);

ALTER TABLE orgs ADD COLUMN notify_short_lived_tokens INTEGER NOT NULL DEFAULT 0
    CHECK (notify_short_lived_tokens IN (0, 1));
