-- 0008_audit_scope.sql - audit records name orgs and teams by name, and a
-- name can be taken again once its holder is deleted. So each org and team
-- remembers where in the chain it began: records with seq <= audit_after
-- belong to an earlier holder of its name and are not shown in its trail
-- (docs/audit.md, "Who sees what").

ALTER TABLE orgs ADD COLUMN audit_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN audit_after INTEGER NOT NULL DEFAULT 0;

-- Orgs and teams that already hold a reused name: everything up to the
-- last successful deletion of that name was its earlier holder's. (A
-- team's trail is also bounded by its org's.)
UPDATE orgs SET audit_after = COALESCE(
    (SELECT MAX(a.seq) FROM audit a
      WHERE a.action = 'org.delete' AND a.outcome = 'success' AND a.org = orgs.name), 0);

UPDATE teams SET audit_after = COALESCE(
    (SELECT MAX(a.seq) FROM audit a JOIN orgs o ON o.id = teams.org_id
      WHERE a.action = 'team.delete' AND a.outcome = 'success'
        AND a.org = o.name AND a.team = teams.name), 0);
