-- 0013_audit_org_ids.sql - records are filed under an org by its id
-- (docs/audit.md, "Which org a record is filed under"). A name can be taken
-- again once its holder is deleted; an id never is, so an org's view
-- selects the records carrying its id and a new holder of a name sees none
-- of the old one's.
--
-- The column is hashed for the records that carry one (their canonical
-- encoding's tag is "LKA2"); adding it with a default of '' rewrites no
-- record, and every record written before it keeps its hash ("LKA1").
-- Those older records stay scoped by what they recorded (store_sqlite.c,
-- AUDIT_WHERE): the actor's org for users and service accounts, the
-- named org for the partner admin, nothing for anonymous requests.
-- The seq where org ids begin is kept in meta, so that rule never applies
-- to a later record without an id (one filed under no org).

ALTER TABLE audit ADD COLUMN org_id TEXT NOT NULL DEFAULT '';

INSERT OR REPLACE INTO meta (key, value)
    SELECT 'audit_org_ids_from', CAST(COALESCE(MAX(seq), 0) + 1 AS TEXT) FROM audit;

-- audit_org_blocks (0011) is keyed by org id from now on. For the older
-- records, the blocks of each org that exists now, by the same rule and
-- within its scope (after its name's earlier holders, migration 0008);
-- one statement per kind of actor, so each is a lookup of orgs by name.

DROP TABLE audit_org_blocks;

CREATE TABLE audit_org_blocks (
    org_id TEXT    NOT NULL,
    block  INTEGER NOT NULL,
    PRIMARY KEY (org_id, block)
) WITHOUT ROWID;

INSERT OR IGNORE INTO audit_org_blocks (org_id, block)
    SELECT o.id, a.seq >> 12 FROM audit a JOIN orgs o ON o.name = a.actor_org
     WHERE a.actor_type IN ('user', 'service_account', 'workload')
       AND a.seq > o.audit_after AND a.time_ms >= o.created_at * 1000;

INSERT OR IGNORE INTO audit_org_blocks (org_id, block)
    SELECT o.id, a.seq >> 12 FROM audit a JOIN orgs o ON o.name = a.org
     WHERE a.actor_type = 'root'
       AND a.seq > o.audit_after AND a.time_ms >= o.created_at * 1000;
