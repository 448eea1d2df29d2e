-- 0021_oidc_keys.sql - the signing keys of identity tokens (issue 20,
-- docs/identity.md). Conventions as in 0001.
--
-- A key's private half is stored only sealed by the barrier (svc/seal.h),
-- bound by associated data to its kid, so a row copied under another kid
-- does not open; its public half is the JWK the JWKS publishes. The times
-- say when the key is published (publish_from), when it starts signing
-- (sign_from: after publish_from for a scheduled rotation, so verifiers
-- that cache the JWKS see it before any token it signed), and until when it
-- stays published (retire_after: NULL while it may still sign; set when a
-- newer key takes over, to cover every token it signed). The store decides
-- none of this: svc/oidc.c does.

CREATE TABLE oidc_keys (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    kid             TEXT    NOT NULL UNIQUE,   -- RFC 7638 thumbprint
    alg             TEXT    NOT NULL,          -- "ES256"
    private_sealed  BLOB    NOT NULL,          -- seal_encrypt(PKCS#8 DER), aad "oidc-key:" || kid
    public_jwk      TEXT    NOT NULL,          -- the public JWK, JSON
    created_at      INTEGER NOT NULL,
    publish_from    INTEGER NOT NULL,
    sign_from       INTEGER NOT NULL,
    retire_after    INTEGER                    -- NULL: not superseded yet
);
