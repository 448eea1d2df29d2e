/*
 * roles_groups.c - an organisation's custom roles and user groups in the
 * SQL backends: insert, get, list, delete, and group memberships.
 *
 * Keeps a role's permissions and a group's granted roles as JSON arrays of
 * names, one column each; never resolves or checks a permission or role
 * (core/perm.c and svc/groups.c do).
 */
#include <stdlib.h>

#include "store/sql/sql_internal.h"

#define ROLE_COLS "seq, org_id, name, permissions, created_at"
#define GROUP_COLS "seq, id, org_id, name, description, roles, created_at"

/* ROLE_COLS, in order. */
static const struct col_map role_cols[] = {
    MAP_INT(struct role_rec, seq),        MAP_TEXT(struct role_rec, org_id),
    MAP_TEXT(struct role_rec, name),      MAP_NAMES(struct role_rec, permissions, npermissions),
    MAP_INT(struct role_rec, created_at),
};
static const struct row_map role_map = ROW_MAP(struct role_rec, role_cols);

/* GROUP_COLS, in order. */
static const struct col_map group_cols[] = {
    MAP_INT(struct group_rec, seq),          MAP_TEXT(struct group_rec, id),
    MAP_TEXT(struct group_rec, org_id),      MAP_TEXT(struct group_rec, name),
    MAP_TEXT(struct group_rec, description), MAP_NAMES(struct group_rec, roles, nroles),
    MAP_INT(struct group_rec, created_at),
};
static const struct row_map group_map = ROW_MAP(struct group_rec, group_cols);

int sql_role_insert(struct store *s, const struct role_rec *r) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO roles (org_id, name, permissions, created_at) VALUES (?1, ?2, ?3, ?4)"};
    char *permissions = NULL;
    int rc = names_json(r->permissions[0], sizeof(r->permissions[0]), r->npermissions, &permissions);
    if (rc == 0)
        rc = sql_run(sc_of(s), &def, sql_text(r->org_id), sql_text(r->name), sql_text(permissions),
                     sql_int(r->created_at));
    free(permissions);
    return rc;
}

int sql_role_get(struct store *s, const char *org_id, const char *name, struct role_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " ROLE_COLS " FROM roles WHERE org_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &role_map, ret, sql_text(org_id), sql_text(name));
}

int sql_role_list(struct store *s, const char *org_id, struct role_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " ROLE_COLS
                                               " FROM roles WHERE org_id = ?1 ORDER BY name LIMIT 1000"};
    return sql_list(sc_of(s), &def, &role_map, 1000, ret, sql_text(org_id));
}

int sql_role_delete(struct store *s, const char *org_id, const char *name) {
    static const struct stmt_def def = {.sql = "DELETE FROM roles WHERE org_id = ?1 AND name = ?2"};
    return sql_change(sc_of(s), &def, sql_text(org_id), sql_text(name));
}

int sql_group_insert(struct store *s, const struct group_rec *g) {
    static const struct stmt_def def = {.sql = "INSERT INTO user_groups (id, org_id, name, description, roles, "
                                               "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
    char *roles = NULL;
    int r = names_json(g->roles[0], sizeof(g->roles[0]), g->nroles, &roles);
    if (r == 0)
        r = sql_insert_under(sc_of(s), sql_org_exists, g->org_id, &def, sql_text(g->id), sql_text(g->org_id),
                             sql_text(g->name), sql_text(g->description), sql_text(roles), sql_int(g->created_at));
    free(roles);
    return r;
}

int sql_group_get(struct store *s, const char *org_id, const char *name, struct group_rec *ret) {
    static const struct stmt_def def = {.sql =
                                            "SELECT " GROUP_COLS " FROM user_groups WHERE org_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &group_map, ret, sql_text(org_id), sql_text(name));
}

/* The org's groups, or (org_id NULL) the groups user_id belongs to. */
int sql_group_list(struct store *s, const char *org_id, const char *user_id, struct group_list *ret) {
    static const struct stmt_def by_org = {.sql = "SELECT " GROUP_COLS
                                                  " FROM user_groups WHERE org_id = ?1 ORDER BY name LIMIT 1000"};
    static const struct stmt_def by_user = {.sql =
                                                "SELECT " GROUP_COLS " FROM user_groups WHERE id IN (SELECT group_id "
                                                "FROM group_members WHERE user_id = ?1) ORDER BY name LIMIT 1000"};
    if (org_id != NULL)
        return sql_list(sc_of(s), &by_org, &group_map, 1000, ret, sql_text(org_id));
    return sql_list(sc_of(s), &by_user, &group_map, 1000, ret, sql_text(user_id));
}

int sql_group_delete(struct store *s, const char *id) {
    static const struct stmt_def group = {.sql = "DELETE FROM user_groups WHERE id = ?1"};
    static const struct stmt_def members = {.sql = "DELETE FROM group_members WHERE group_id = ?1"};
    return sql_delete_with(s, &members, &group, id);
}

int sql_group_member_put(struct store *s, const char *group_id, const char *user_id, int64_t now) {
    static const struct stmt_def def = {.sql = "INSERT INTO group_members (group_id, user_id, created_at) VALUES "
                                               "(?1, ?2, ?3) ON CONFLICT (group_id, user_id) DO NOTHING"};
    return sql_run(sc_of(s), &def, sql_text(group_id), sql_text(user_id), sql_int(now));
}

int sql_group_member_delete(struct store *s, const char *group_id, const char *user_id) {
    static const struct stmt_def def = {.sql = "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2"};
    return sql_change(sc_of(s), &def, sql_text(group_id), sql_text(user_id));
}

/* A username, as store.h hands it out in a name_list. */
typedef char name_buf[STORE_NAME_MAX];
static const struct col_map name_col = {COL_TEXT, 0, sizeof(name_buf), NULL, 0, 0};
static const struct row_map name_map = {sizeof(name_buf), &name_col, 1, NULL};

int sql_group_member_names(struct store *s, const char *group_id, const char *after, int limit, struct name_list *ret) {
    static const struct stmt_def def = {.sql =
                                            "SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id "
                                            "WHERE m.group_id = ?1 AND u.username > ?2 ORDER BY u.username LIMIT ?3"};
    return sql_list(sc_of(s), &def, &name_map, limit, ret, sql_text(group_id), sql_text(after), sql_int(limit));
}
