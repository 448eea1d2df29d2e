/*
 * tokens.c - API tokens in the SQL backends: insert, get, list, expiry
 * and rotation, deletes (one, expired, an owner's) and last-use times.
 *
 * A token's policies are kept as a JSON array of strings in one column,
 * read and written through the column maps (COL_NAMES_DUP, names_json).
 *
 * Sees a token's SHA-256, never its secret. Touches no expiry notice:
 * cancelling a deleted or shortened token's notices is svc's
 * (svc/notices.c); only its retirement from notices goes with a deleted
 * token, by the foreign key of migration 0014.
 */
#include <stdlib.h>

#include "store/sql/sql_internal.h"

#define TOKEN_COLS                                                                                                     \
    "seq, id, hash, owner_type, owner_id, org_id, created_by, description, policies, created_at, expires_at, "         \
    "last_used_at, replaced_by"

/* TOKEN_COLS, in order; a NULL expires_at or last_used_at reads as 0. */
static const struct col_map token_cols[] = {
    MAP_INT(struct token_rec, seq),
    MAP_TEXT(struct token_rec, id),
    MAP_BLOB(struct token_rec, hash),
    MAP_TEXT(struct token_rec, owner_type),
    MAP_TEXT(struct token_rec, owner_id),
    MAP_TEXT(struct token_rec, org_id),
    MAP_TEXT(struct token_rec, created_by),
    MAP_DUP(struct token_rec, description, ""),
    MAP_NAMES_DUP(struct token_rec, policies, npolicies, STORE_POLICIES_MAX),
    MAP_INT(struct token_rec, created_at),
    MAP_INT(struct token_rec, expires_at),
    MAP_INT(struct token_rec, last_used_at),
    MAP_TEXT(struct token_rec, replaced_by),
};
static const struct row_map token_map = ROW_MAP(struct token_rec, token_cols);

int sql_token_insert(struct store *s, const struct token_rec *rec) {
    static const struct stmt_def def = {.sql =
                                            "INSERT INTO tokens (id, hash, owner_type, owner_id, org_id, created_by, "
                                            "description, policies, created_at, expires_at, last_used_at) "
                                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};
    char *policies = NULL;
    int r =
        names_json(rec->policies != NULL ? rec->policies[0] : NULL, STORE_POLICY_NAME_MAX, rec->npolicies, &policies);
    if (r != 0)
        return r;
    r = sql_run(sc_of(s), &def, sql_text(rec->id), sql_blob(rec->hash, (int)sizeof(rec->hash)),
                sql_text(rec->owner_type), sql_text(rec->owner_id), sql_text(rec->org_id), sql_text(rec->created_by),
                sql_text(rec->description != NULL ? rec->description : ""), sql_text(policies),
                sql_int(rec->created_at), sql_time(rec->expires_at), sql_time(rec->last_used_at));
    free(policies);
    return r;
}

int sql_token_get(struct store *s, const char *id, struct token_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1"};
    return sql_get(sc_of(s), &def, &token_map, ret, sql_text(id));
}

int sql_token_list(struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq, int limit,
                   struct token_list *ret) {
    static const struct stmt_def def = {.sql =
                                            "SELECT " TOKEN_COLS " FROM tokens WHERE owner_type = ?1 AND owner_id = ?2 "
                                            "AND seq > ?3 ORDER BY seq LIMIT ?4"};
    return sql_list(sc_of(s), &def, &token_map, limit, ret, sql_text(owner_type), sql_text(owner_id),
                    sql_int(after_seq), sql_int(limit));
}

int sql_token_set_expiry(struct store *s, const char *id, int64_t expires_at) {
    static const struct stmt_def def = {.sql = "UPDATE tokens SET expires_at = ?2 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(id), sql_time(expires_at));
}

/* Once: a token already replaced is not found (the rotation lost a race). */
int sql_token_retire(struct store *s, const char *id, const char *replaced_by, int64_t expires_at) {
    static const struct stmt_def def = {
        .sql = "UPDATE tokens SET expires_at = ?2, replaced_by = ?3 WHERE id = ?1 AND replaced_by = ''"};
    return sql_change(sc_of(s), &def, sql_text(id), sql_time(expires_at), sql_text(replaced_by));
}

int sql_token_delete_expired(struct store *s, int64_t cutoff, size_t *ret_count) {
    static const struct stmt_def def = {.sql = "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?1"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_int(cutoff));
}

int sql_token_delete(struct store *s, const char *id) {
    static const struct stmt_def def = {.sql = "DELETE FROM tokens WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(id));
}

int sql_token_delete_owner(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                           size_t *ret_count) {
    /* keep_id NULL binds NULL: keep none. */
    static const struct stmt_def def = {.sql = "DELETE FROM tokens WHERE owner_type = ?1 AND "
                                               "owner_id = ?2 AND (CAST(?3 AS TEXT) IS NULL OR id <> ?3)"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(owner_type), sql_text(owner_id), sql_text(keep_id));
}

int sql_token_delete_owner_prefix(struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix,
                                  size_t *ret_count) {
    static const struct stmt_def def = {.sql = "DELETE FROM tokens WHERE owner_type = ?1 AND owner_id = ?2 "
                                               "AND substr(id, 1, length(CAST(?3 AS TEXT))) = ?3"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(owner_type), sql_text(owner_id), sql_text(id_prefix));
}

int sql_token_touch(struct store *s, const struct token_touch *touches, size_t n) {
    /* Only ever later: the WHERE guard skips rows the update would not
     * move forward, so a flush of stale times writes nothing. */
    static const struct stmt_def def = {.sql = "UPDATE tokens SET last_used_at = ?2 "
                                               "WHERE id = ?1 AND COALESCE(last_used_at, 0) < ?2"};
    struct sql_conn *sc = sc_of(s);
    /* Inside store_tx the caller's transaction covers the batch. */
    int own_tx = !s->in_tx;
    int r = own_tx ? sql_begin(sc) : 0;
    if (r != 0)
        return r;
    /* No row changed: unknown id or not newer. Both are fine. */
    for (size_t i = 0; r == 0 && i < n; i++)
        r = sql_run(sc, &def, sql_text(touches[i].id), sql_int(touches[i].last_used_at));
    return own_tx ? sql_tx_end(sc, r) : r;
}
