-- 0022_trusted_issuers.sql - federation (issue 20 item 7, docs/federation.md):
-- an org's trusted foreign token issuers. Conventions as in 0001.
--
-- Each row says: tokens whose "iss" is issuer, signed by a key of jwks (an
-- inline JWK set, JSON text) or of the set fetched from jwks_uri (exactly
-- one of the two is non-empty), whose "aud" holds audience, may be
-- exchanged for an identity token of the service account the first
-- matching rule names. rules is JSON text, a list of {"claims": {name:
-- value}, "team", "service_account"}; svc/federation.c checks its shape
-- and that the accounts exist. The rules name accounts by team and name,
-- not by id: a rule whose account was deleted matches nothing until the
-- account is made again, and the exchange says so.

CREATE TABLE trusted_issuers (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,                 -- "ti_<hex>"
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,                        -- slug, unique in the org
    issuer       TEXT    NOT NULL,                        -- exact "iss", unique in the org
    jwks         TEXT    NOT NULL DEFAULT '',             -- inline JWK set, or ''
    jwks_uri     TEXT    NOT NULL DEFAULT '',             -- https URL of the JWK set, or ''
    audience     TEXT    NOT NULL,
    rules        TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,                        -- "type:id" of the principal that made it
    updated_at   INTEGER NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, issuer)
);

CREATE INDEX trusted_issuers_org ON trusted_issuers (org_id, seq);
