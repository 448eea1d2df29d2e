-- 0019_vault_tokens.sql - the Vault door's attributes of a token (issue 19:
-- /v1/auth/token/*), one row per token made through the door. A token
-- without a row is a native token: the door shows defaults for it.
-- Conventions as in 0001.
--
-- The token itself (its secret's hash, owner, expiry, latchkey policies) is
-- the row in tokens; this table only adds what Vault says about it. The row
-- goes with its token (ON DELETE CASCADE).
--
-- parent_id is the public id of the token that made it ('' for an orphan),
-- not a foreign key: a parent revoked with revoke-orphan leaves its
-- children, which become orphans in the same transaction (svc's rule).
-- meta is a JSON object of strings (NULL: none), policies a JSON array of
-- Vault policy names. acl 1: the token is held to those policies on the
-- door's paths; 0: it has no Vault policies of its own and only its
-- latchkey rights apply. num_uses is as created (0 = unlimited), uses_left
-- what remains of it.

CREATE TABLE vault_tokens (
    token_id         TEXT    PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    parent_id        TEXT    NOT NULL DEFAULT '',
    display_name     TEXT    NOT NULL DEFAULT '',
    meta             TEXT,
    policies         TEXT    NOT NULL DEFAULT '[]',
    acl              INTEGER NOT NULL CHECK (acl IN (0, 1)),
    renewable        INTEGER NOT NULL CHECK (renewable IN (0, 1)),
    creation_ttl     INTEGER NOT NULL DEFAULT 0 CHECK (creation_ttl >= 0),
    explicit_max_ttl INTEGER NOT NULL DEFAULT 0 CHECK (explicit_max_ttl >= 0),
    period           INTEGER NOT NULL DEFAULT 0 CHECK (period >= 0),
    num_uses         INTEGER NOT NULL DEFAULT 0 CHECK (num_uses >= 0),
    uses_left        INTEGER NOT NULL DEFAULT 0 CHECK (uses_left >= 0 AND uses_left <= num_uses),
    last_renewal_at  INTEGER                                  -- NULL = never renewed
);

-- A token's children, for revoking a subtree and orphaning one.
CREATE INDEX vault_tokens_parent ON vault_tokens (parent_id);
