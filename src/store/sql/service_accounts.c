/*
 * service_accounts.c - a team's service accounts in the SQL backends:
 * insert, get (by id or team and name), list, update, delete (with their
 * tokens).
 *
 * Keeps the roles it is given as a JSON array of names in one column;
 * never checks which roles may be granted (svc/service_accounts.c does).
 */
#include <stdlib.h>

#include "store/sql/sql_internal.h"

#define SA_COLS "seq, id, org_id, team_id, name, description, roles, created_at, updated_at"

/* SA_COLS, in order. */
static const struct col_map sa_cols[] = {
    MAP_INT(struct sa_rec, seq),
    MAP_TEXT(struct sa_rec, id),
    MAP_TEXT(struct sa_rec, org_id),
    MAP_TEXT(struct sa_rec, team_id),
    MAP_TEXT(struct sa_rec, name),
    MAP_TEXT(struct sa_rec, description),
    MAP_NAMES(struct sa_rec, roles, nroles),
    MAP_INT(struct sa_rec, created_at),
    MAP_INT(struct sa_rec, updated_at),
};
static const struct row_map sa_map = ROW_MAP(struct sa_rec, sa_cols);

int sql_sa_insert(struct store *s, const struct sa_rec *a) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO service_accounts (id, org_id, team_id, name, description, roles, "
               "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
    char *roles = NULL;
    int r = names_json(a->roles[0], sizeof(a->roles[0]), a->nroles, &roles);
    if (r == 0)
        r = sql_insert_under(sc_of(s), sql_team_exists, a->team_id, &def, sql_text(a->id), sql_text(a->org_id),
                             sql_text(a->team_id), sql_text(a->name), sql_text(a->description), sql_text(roles),
                             sql_int(a->created_at), sql_int(a->updated_at));
    free(roles);
    return r;
}

int sql_sa_get(struct store *s, const char *id, const char *team_id, const char *name, struct sa_rec *ret) {
    static const struct stmt_def by_id = {.sql = "SELECT " SA_COLS " FROM service_accounts WHERE id = ?1"};
    static const struct stmt_def by_name = {.sql = "SELECT " SA_COLS
                                                   " FROM service_accounts WHERE team_id = ?1 AND name = ?2"};
    if (id != NULL)
        return sql_get(sc_of(s), &by_id, &sa_map, ret, sql_text(id));
    return sql_get(sc_of(s), &by_name, &sa_map, ret, sql_text(team_id), sql_text(name));
}

int sql_sa_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT " SA_COLS " FROM service_accounts WHERE team_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"};
    return sql_list(sc_of(s), &def, &sa_map, limit, ret, sql_text(team_id), sql_int(after_seq), sql_int(limit));
}

int sql_sa_update(struct store *s, const struct sa_rec *a) {
    static const struct stmt_def def = {
        .sql = "UPDATE service_accounts SET description = ?2, roles = ?3, updated_at = ?4 WHERE id = ?1"};
    char *roles = NULL;
    int r = names_json(a->roles[0], sizeof(a->roles[0]), a->nroles, &roles);
    if (r == 0)
        r = sql_change(sc_of(s), &def, sql_text(a->id), sql_text(a->description), sql_text(roles),
                       sql_int(a->updated_at));
    free(roles);
    return r;
}

int sql_sa_delete(struct store *s, const char *id) {
    static const struct stmt_def sa = {.sql = "DELETE FROM service_accounts WHERE id = ?1"};
    static const struct stmt_def tokens = {
        .sql = "DELETE FROM tokens WHERE owner_type = 'service_account' AND owner_id = ?1"};
    return sql_delete_with(s, &tokens, &sa, id);
}
