/*
 * orgs.c - organisations in the SQL backends: insert, get (by id or
 * name), list, update, delete (with their tokens), and whether one exists.
 *
 * Holds no lifecycle rule (which status may follow which is svc/orgs.c's).
 */
#include "store/sql/sql_internal.h"

#define ORG_COLS                                                                                                       \
    "seq, id, name, display_name, status, token_expiry_hours, allow_non_expiring_tokens, created_at, updated_at, "     \
    "audit_after, notify_short_lived_tokens"

/* ORG_COLS, in order. */
static const struct col_map org_cols[] = {
    MAP_INT(struct org_rec, seq),
    MAP_TEXT(struct org_rec, id),
    MAP_TEXT(struct org_rec, name),
    MAP_TEXT(struct org_rec, display_name),
    MAP_TEXT(struct org_rec, status),
    MAP_INT(struct org_rec, token_expiry_hours),
    MAP_BOOL(struct org_rec, allow_non_expiring_tokens),
    MAP_INT(struct org_rec, created_at),
    MAP_INT(struct org_rec, updated_at),
    MAP_INT(struct org_rec, audit_after),
    MAP_BOOL(struct org_rec, notify_short_lived_tokens),
};
static const struct row_map org_map = ROW_MAP(struct org_rec, org_cols);

int sql_org_exists(struct sql_conn *sc, const char *org_id) {
    static const struct stmt_def def = {.sql = "SELECT 1 FROM orgs WHERE id = ?1"};
    return sql_exists(sc, &def, sql_text(org_id));
}

int sql_org_insert(struct store *s, const struct org_rec *o) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO orgs (id, name, display_name, status, token_expiry_hours, "
               "allow_non_expiring_tokens, created_at, updated_at, notify_short_lived_tokens, "
               "audit_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " AUDIT_HEAD_SEQ ")"};
    return sql_run(sc_of(s), &def, sql_text(o->id), sql_text(o->name), sql_text(o->display_name), sql_text(o->status),
                   sql_int(o->token_expiry_hours), sql_int(o->allow_non_expiring_tokens ? 1 : 0),
                   sql_int(o->created_at), sql_int(o->updated_at), sql_int(o->notify_short_lived_tokens ? 1 : 0));
}

int sql_org_get(struct store *s, const char *id, const char *name, struct org_rec *ret) {
    static const struct stmt_def by_id = {.sql = "SELECT " ORG_COLS " FROM orgs WHERE id = ?1"};
    static const struct stmt_def by_name = {.sql = "SELECT " ORG_COLS " FROM orgs WHERE name = ?1"};
    if (id != NULL)
        return sql_get(sc_of(s), &by_id, &org_map, ret, sql_text(id));
    return sql_get(sc_of(s), &by_name, &org_map, ret, sql_text(name));
}

int sql_org_list(struct store *s, int64_t after_seq, int limit, struct org_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " ORG_COLS " FROM orgs WHERE seq > ?1 ORDER BY seq LIMIT ?2"};
    return sql_list(sc_of(s), &def, &org_map, limit, ret, sql_int(after_seq), sql_int(limit));
}

int sql_org_update(struct store *s, const struct org_rec *o) {
    static const struct stmt_def def = {.sql =
                                            "UPDATE orgs SET display_name = ?2, status = ?3, token_expiry_hours = ?4, "
                                            "allow_non_expiring_tokens = ?5, updated_at = ?6, "
                                            "notify_short_lived_tokens = ?7 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(o->id), sql_text(o->display_name), sql_text(o->status),
                      sql_int(o->token_expiry_hours), sql_int(o->allow_non_expiring_tokens ? 1 : 0),
                      sql_int(o->updated_at), sql_int(o->notify_short_lived_tokens ? 1 : 0));
}

int sql_org_delete(struct store *s, const char *id) {
    /* Users go by the foreign key's ON DELETE CASCADE; tokens have no
     * foreign key (root's tokens belong to no org), so they go explicitly. */
    static const struct stmt_def tokens = {.sql = "DELETE FROM tokens WHERE org_id = ?1"};
    static const struct stmt_def org = {.sql = "DELETE FROM orgs WHERE id = ?1"};
    return sql_delete_with(s, &tokens, &org, id);
}
