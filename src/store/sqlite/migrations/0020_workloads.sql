-- 0020_workloads.sql - workloads (issue 20): named workloads of a team
-- and their bindings to the team's service accounts, which say which
-- service account a workload may obtain identity tokens as. Conventions as
-- in 0001.
--
-- A binding holds its team beside both ids, and each id is a foreign key
-- together with that team (service_accounts_team_id, below, is the parent
-- key the second one needs): a workload is bound only to a service account
-- of its own team, whatever writes the row. Everything cascades: deleting
-- the team, the workload or the service account deletes its bindings.

CREATE TABLE workloads (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,                 -- "wl_<hex>"
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    team_id      TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,                        -- slug, unique in the team
    description  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,                        -- "type:id" of the principal that made it
    updated_at   INTEGER NOT NULL,
    UNIQUE (team_id, name),
    UNIQUE (id, team_id)
);

CREATE INDEX workloads_team ON workloads (team_id, seq);

CREATE UNIQUE INDEX service_accounts_team_id ON service_accounts (id, team_id);

CREATE TABLE workload_bindings (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id      TEXT    NOT NULL,
    workload_id  TEXT    NOT NULL,
    sa_id        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,                        -- "type:id" of the principal that bound them
    UNIQUE (workload_id, sa_id),
    FOREIGN KEY (workload_id, team_id) REFERENCES workloads (id, team_id) ON DELETE CASCADE,
    FOREIGN KEY (sa_id, team_id) REFERENCES service_accounts (id, team_id) ON DELETE CASCADE
);

CREATE INDEX workload_bindings_sa ON workload_bindings (sa_id, seq);
