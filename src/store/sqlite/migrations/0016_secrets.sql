-- 0016_secrets.sql - the secrets store: versioned values under a path, per
-- organisation (org-wide) or per team. Conventions as in 0001.
--
-- A value is never stored in the clear: `value` is the barrier's sealed
-- envelope (AES-256-GCM under the keyring's current key, bound to its row
-- by associated data), written and read by svc/secrets.c; the store never
-- sees a plaintext. A deletion is a version of its own with value NULL (a
-- tombstone), so a deleted secret can be read back by version until it
-- leaves the kept window.
--
-- scope_id is the row's namespace: the team's id for a team secret, the
-- org's id for an org-wide one. Both ids cascade: deleting an org or a
-- team deletes its secrets.

CREATE TABLE secrets (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    team_id     TEXT             REFERENCES teams (id) ON DELETE CASCADE, -- NULL: org-wide
    scope_id    TEXT    NOT NULL,
    path        TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 511),
    version     INTEGER NOT NULL CHECK (version >= 1),
    value       BLOB,                                                   -- NULL: deleted (a tombstone)
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    CHECK (scope_id = COALESCE(team_id, org_id)),
    UNIQUE (scope_id, path, version)
);
