/*
 * teams.c - teams and their members in the SQL backends: insert, get,
 * list, update, delete (with their service accounts' tokens), memberships
 * and a member's roles, and the audit scopes of a member's teams.
 *
 * Holds no rule about which role may do what (svc/authz.c and svc/teams.c).
 */
#include "store/sql/sql_internal.h"

#define TEAM_COLS "seq, id, org_id, name, description, created_at, updated_at"

/* TEAM_COLS, in order. */
static const struct col_map team_cols[] = {
    MAP_INT(struct team_rec, seq),        MAP_TEXT(struct team_rec, id),          MAP_TEXT(struct team_rec, org_id),
    MAP_TEXT(struct team_rec, name),      MAP_TEXT(struct team_rec, description), MAP_INT(struct team_rec, created_at),
    MAP_INT(struct team_rec, updated_at),
};
static const struct row_map team_map = ROW_MAP(struct team_rec, team_cols);

static const struct col_map member_cols[] = {
    MAP_TEXT(struct team_member_rec, user_id),
    MAP_TEXT(struct team_member_rec, username),
    MAP_TEXT(struct team_member_rec, role),
    MAP_INT(struct team_member_rec, created_at),
};
static const struct row_map member_map = ROW_MAP(struct team_member_rec, member_cols);

/* A role, as store.h hands it out: STORE_STATUS_MAX bytes. */
typedef char role_buf[STORE_STATUS_MAX];
static const struct col_map role_col = {COL_TEXT, 0, sizeof(role_buf), NULL, 0, 0};
static const struct row_map role_map = {sizeof(role_buf), &role_col, 1, NULL};

int sql_team_exists(struct sql_conn *sc, const char *team_id) {
    static const struct stmt_def def = {.sql = "SELECT 1 FROM teams WHERE id = ?1"};
    return sql_exists(sc, &def, sql_text(team_id));
}

int sql_team_insert(struct store *s, const struct team_rec *t) {
    static const struct stmt_def def = {.sql =
                                            "INSERT INTO teams (id, org_id, name, description, created_at, updated_at, "
                                            "audit_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, " AUDIT_HEAD_SEQ ")"};
    return sql_insert_under(sc_of(s), sql_org_exists, t->org_id, &def, sql_text(t->id), sql_text(t->org_id),
                            sql_text(t->name), sql_text(t->description), sql_int(t->created_at),
                            sql_int(t->updated_at));
}

int sql_team_get(struct store *s, const char *org_id, const char *name, struct team_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " TEAM_COLS " FROM teams WHERE org_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &team_map, ret, sql_text(org_id), sql_text(name));
}

int sql_team_get_by_id(struct store *s, const char *id, struct team_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " TEAM_COLS " FROM teams WHERE id = ?1"};
    return sql_get(sc_of(s), &def, &team_map, ret, sql_text(id));
}

int sql_team_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " TEAM_COLS
                                               " FROM teams WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"};
    return sql_list(sc_of(s), &def, &team_map, limit, ret, sql_text(org_id), sql_int(after_seq), sql_int(limit));
}

int sql_team_update(struct store *s, const struct team_rec *t) {
    static const struct stmt_def def = {.sql = "UPDATE teams SET description = ?2, updated_at = ?3 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(t->id), sql_text(t->description), sql_int(t->updated_at));
}

int sql_team_delete(struct store *s, const char *id) {
    static const struct stmt_def team = {.sql = "DELETE FROM teams WHERE id = ?1"};
    /* Memberships and service accounts go by ON DELETE CASCADE; their tokens
     * have no foreign key, so they go first, explicitly. */
    static const struct stmt_def sa_tokens = {.sql =
                                                  "DELETE FROM tokens WHERE owner_type = 'service_account' AND "
                                                  "owner_id IN (SELECT id FROM service_accounts WHERE team_id = ?1)"};
    return sql_delete_with(s, &sa_tokens, &team, id);
}

int sql_team_member_put(struct store *s, const char *team_id, const char *user_id, const char *role, int64_t now) {
    static const struct stmt_def def = {.sql = "INSERT INTO team_members (team_id, user_id, role, created_at) VALUES "
                                               "(?1, ?2, ?3, ?4) ON CONFLICT (team_id, user_id) DO UPDATE SET role = "
                                               "excluded.role"};
    return sql_run(sc_of(s), &def, sql_text(team_id), sql_text(user_id), sql_text(role), sql_int(now));
}

int sql_team_member_delete(struct store *s, const char *team_id, const char *user_id) {
    static const struct stmt_def def = {.sql = "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2"};
    return sql_change(sc_of(s), &def, sql_text(team_id), sql_text(user_id));
}

int sql_team_member_role(struct store *s, const char *team_id, const char *user_id, char *ret_role) {
    static const struct stmt_def def = {.sql = "SELECT role FROM team_members WHERE team_id = ?1 AND user_id = ?2"};
    return sql_get(sc_of(s), &def, &role_map, (role_buf *)ret_role, sql_text(team_id), sql_text(user_id));
}

int sql_team_member_roles(struct store *s, const char *org_id, const char *user_id, char (*ret_roles)[STORE_STATUS_MAX],
                          size_t cap, size_t *ret_count) {
    static const struct stmt_def def = {.sql = "SELECT DISTINCT m.role FROM team_members m JOIN teams t ON t.id = "
                                               "m.team_id WHERE t.org_id = ?1 AND m.user_id = ?2 ORDER BY m.role"};
    struct sql_stmt *st = NULL;
    size_t n = 0;
    int rc = 0;
    int r = stmt_bind(sc_of(s), &def, SQL_ARGS(sql_text(org_id), sql_text(user_id)), &st);
    if (r != 0)
        return r;
    /* Every row is counted; the first cap are kept. */
    while (r == 0 && (rc = stmt_step(st)) == 1) {
        if (n < cap)
            r = col_copy(st, 0, ret_roles[n], STORE_STATUS_MAX);
        n++;
    }
    if (r == 0 && rc < 0)
        r = rc;
    stmt_done(st);
    if (r == 0)
        *ret_count = n < cap ? n : cap;
    return r;
}

/* A team scope's columns, in order. */
static const struct col_map scope_cols[] = {
    MAP_TEXT(struct team_scope, name),
    MAP_INT(struct team_scope, after),
    MAP_INT(struct team_scope, from_ms),
};
static const struct row_map scope_map = ROW_MAP(struct team_scope, scope_cols);

int sql_team_scopes_for_member(struct store *s, const char *org_id, const char *user_id, const char *role,
                               const char *after, int limit, struct team_scope_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT t.name, t.audit_after, t.created_at * 1000 FROM team_members m JOIN teams t "
               "ON t.id = m.team_id WHERE t.org_id = ?1 AND m.user_id = ?2 AND m.role = ?3 "
               "AND t.name > ?4 ORDER BY t.name LIMIT ?5"};
    return sql_list(sc_of(s), &def, &scope_map, limit, ret, sql_text(org_id), sql_text(user_id), sql_text(role),
                    sql_text(after), sql_int(limit));
}

int sql_team_member_list(struct store *s, const char *team_id, struct team_member_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT m.user_id, u.username, m.role, m.created_at FROM team_members m "
                                               "JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1 ORDER BY "
                                               "u.username LIMIT 1000"};
    return sql_list(sc_of(s), &def, &member_map, 1000, ret, sql_text(team_id));
}
