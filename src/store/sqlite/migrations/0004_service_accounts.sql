-- 0004_service_accounts.sql - service accounts (seed 000): non-human
-- identities owned by a team. Conventions as in 0001.

CREATE TABLE service_accounts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,                 -- "sa_<hex>"
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    team_id      TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,                        -- human-readable slug, unique in the team
    description  TEXT    NOT NULL DEFAULT '',
    roles        TEXT    NOT NULL DEFAULT '[]',           -- JSON array of built-in role names granted
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (team_id, name)
);

CREATE INDEX service_accounts_team ON service_accounts (team_id, seq);
