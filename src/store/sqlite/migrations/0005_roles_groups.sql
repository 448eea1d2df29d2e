-- 0005_roles_groups.sql - custom roles per org, and groups of users (table
-- user_groups: GROUPS is an SQL keyword) whose
-- roles apply to every member. Conventions as in 0001.

CREATE TABLE roles (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,                        -- slug, unique in the org, never a built-in name
    permissions  TEXT    NOT NULL DEFAULT '[]',           -- JSON array of catalogue names
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE user_groups (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,                 -- "grp_<hex>"
    org_id       TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    roles        TEXT    NOT NULL DEFAULT '[]',           -- JSON array of role names (built-in or custom)
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE group_members (
    group_id    TEXT    NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX group_members_user ON group_members (user_id);
