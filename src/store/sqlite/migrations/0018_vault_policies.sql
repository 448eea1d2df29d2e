-- 0018_vault_policies.sql - Vault ACL policies per organisation, for the
-- Vault-compatible door (svc/vault_policies.c). Conventions as in 0001.
--
-- text is the policy document as written (Vault's HCL subset, parsed and
-- checked by core/vault_acl.c before it is stored); the store never reads
-- it. The built-ins "root" and "default" are not rows: an org's own
-- "default" may be stored and then replaces the built-in one for it.
-- Deleting an org deletes its policies.

CREATE TABLE vault_policies (
    org_id      TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 63),
    text        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    PRIMARY KEY (org_id, name)
);
