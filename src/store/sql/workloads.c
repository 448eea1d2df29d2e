/*
 * workloads.c - a team's workloads and their bindings to the team's service
 * accounts in the SQL backends (migration 0020): insert, get, list,
 * update and delete workloads; bind, unbind, ask and list bindings.
 *
 * Never decides who may bind what (svc/workloads.c does); it only refuses
 * a pair that is not of one team, as the schema's foreign keys would.
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define WL_COLS "seq, id, org_id, team_id, name, description, created_at, created_by, updated_at"

/* WL_COLS, in order. */
static const struct col_map wl_cols[] = {
    MAP_INT(struct workload_rec, seq),        MAP_TEXT(struct workload_rec, id),
    MAP_TEXT(struct workload_rec, org_id),    MAP_TEXT(struct workload_rec, team_id),
    MAP_TEXT(struct workload_rec, name),      MAP_TEXT(struct workload_rec, description),
    MAP_INT(struct workload_rec, created_at), MAP_TEXT(struct workload_rec, created_by),
    MAP_INT(struct workload_rec, updated_at),
};
static const struct row_map wl_map = ROW_MAP(struct workload_rec, wl_cols);

/* A binding with both names, from workload_bindings b joined to workloads
 * w and service_accounts a. */
#define BIND_COLS "b.seq, b.workload_id, w.name, b.sa_id, a.name, b.created_at, b.created_by"
#define BIND_FROM                                                                                                      \
    " FROM workload_bindings b JOIN workloads w ON w.id = b.workload_id JOIN service_accounts a ON a.id = b.sa_id"

static const struct col_map bind_cols[] = {
    MAP_INT(struct workload_binding_rec, seq),         MAP_TEXT(struct workload_binding_rec, workload_id),
    MAP_TEXT(struct workload_binding_rec, workload),   MAP_TEXT(struct workload_binding_rec, sa_id),
    MAP_TEXT(struct workload_binding_rec, sa),         MAP_INT(struct workload_binding_rec, created_at),
    MAP_TEXT(struct workload_binding_rec, created_by),
};
static const struct row_map bind_map = ROW_MAP(struct workload_binding_rec, bind_cols);

int sql_workload_insert(struct store *s, const struct workload_rec *w) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO workloads (id, org_id, team_id, name, description, created_at, "
               "created_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
    return sql_insert_under(sc_of(s), sql_team_exists, w->team_id, &def, sql_text(w->id), sql_text(w->org_id),
                            sql_text(w->team_id), sql_text(w->name), sql_text(w->description), sql_int(w->created_at),
                            sql_text(w->created_by), sql_int(w->updated_at));
}

int sql_workload_get(struct store *s, const char *team_id, const char *name, struct workload_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " WL_COLS " FROM workloads WHERE team_id = ?1 AND name = ?2"};
    return sql_get(sc_of(s), &def, &wl_map, ret, sql_text(team_id), sql_text(name));
}

int sql_workload_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct workload_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " WL_COLS
                                               " FROM workloads WHERE team_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"};
    return sql_list(sc_of(s), &def, &wl_map, limit, ret, sql_text(team_id), sql_int(after_seq), sql_int(limit));
}

int sql_workload_update(struct store *s, const struct workload_rec *w) {
    static const struct stmt_def def = {.sql = "UPDATE workloads SET description = ?2, updated_at = ?3 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(w->id), sql_text(w->description), sql_int(w->updated_at));
}

int sql_workload_delete(struct store *s, const char *id) {
    /* Its bindings go by ON DELETE CASCADE. */
    static const struct stmt_def def = {.sql = "DELETE FROM workloads WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(id));
}

int sql_workload_bind(struct store *s, const char *workload_id, const char *sa_id, const char *created_by, int64_t now,
                      int *ret_created) {
    /* The pair's team, if both exist in one: a pair across teams reads as
     * not found, as a missing one does, not as a broken constraint. */
    static const struct stmt_def pair = {
        .sql = "SELECT 1 FROM workloads w JOIN service_accounts a ON a.team_id = w.team_id "
               "WHERE w.id = ?1 AND a.id = ?2"};
    static const struct stmt_def def = {
        .sql =
            "INSERT INTO workload_bindings (team_id, workload_id, sa_id, created_at, created_by) "
            "SELECT team_id, ?1, ?2, ?3, ?4 FROM workloads WHERE id = ?1 ON CONFLICT (workload_id, sa_id) DO NOTHING"};
    struct sql_conn *sc = sc_of(s);
    size_t changed = 0;
    int r = sql_exists(sc, &pair, sql_text(workload_id), sql_text(sa_id));
    if (r == 0)
        r = sql_run_count(sc, &def, &changed, sql_text(workload_id), sql_text(sa_id), sql_int(now),
                          sql_text(created_by));
    if (r == 0 && ret_created != NULL)
        *ret_created = changed > 0;
    return r;
}

int sql_workload_unbind(struct store *s, const char *workload_id, const char *sa_id, int *ret_deleted) {
    static const struct stmt_def def = {.sql = "DELETE FROM workload_bindings WHERE workload_id = ?1 AND sa_id = ?2"};
    size_t changed = 0;
    int r = sql_run_count(sc_of(s), &def, &changed, sql_text(workload_id), sql_text(sa_id));
    if (r == 0 && ret_deleted != NULL)
        *ret_deleted = changed > 0;
    return r;
}

int sql_workload_bound(struct store *s, const char *workload_id, const char *sa_id, int *ret_bound) {
    static const struct stmt_def def = {.sql = "SELECT 1 FROM workload_bindings WHERE workload_id = ?1 AND sa_id = ?2"};
    int r = sql_exists(sc_of(s), &def, sql_text(workload_id), sql_text(sa_id));
    if (r == LK_ENOTFOUND) {
        *ret_bound = 0;
        return 0;
    }
    if (r == 0)
        *ret_bound = 1;
    return r;
}

int sql_workload_bindings(struct store *s, const char *workload_id, const char *sa_id, int64_t after_seq, int limit,
                          struct workload_binding_list *ret) {
    static const struct stmt_def of_workload = {
        .sql = "SELECT " BIND_COLS BIND_FROM " WHERE b.workload_id = ?1 AND b.seq > ?2 ORDER BY b.seq LIMIT ?3"};
    static const struct stmt_def of_sa = {.sql = "SELECT " BIND_COLS BIND_FROM
                                                 " WHERE b.sa_id = ?1 AND b.seq > ?2 ORDER BY b.seq LIMIT ?3"};
    if (workload_id != NULL)
        return sql_list(sc_of(s), &of_workload, &bind_map, limit, ret, sql_text(workload_id), sql_int(after_seq),
                        sql_int(limit));
    return sql_list(sc_of(s), &of_sa, &bind_map, limit, ret, sql_text(sa_id), sql_int(after_seq), sql_int(limit));
}
