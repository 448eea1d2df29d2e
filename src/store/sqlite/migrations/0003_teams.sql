-- 0003_teams.sql - teams (Nais's team, Direktiv's namespace, Rafay's project)
-- and their members. Conventions as in 0001.

CREATE TABLE teams (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,                 -- "team_<hex>"
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,                        -- slug, unique in the org
    description  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id     TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX teams_org ON teams (org_id, seq);
CREATE INDEX team_members_user ON team_members (user_id);
