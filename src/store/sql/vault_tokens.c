/*
 * vault_tokens.c - the Vault door's token attributes in the SQL backends
 * (migration 0019): insert and get, taking one use, a token's subtree and
 * orphaning its children, renewals; and forgetting a renewed token's
 * notices for its old expiry.
 *
 * Decides nothing: who may revoke a subtree, what a policy allows, when a
 * spent token is revoked are svc's (svc/vault_tokens.c). A token's secret
 * never comes here; its row in tokens is tokens.c's.
 */
#include <stdlib.h>

#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define VAULT_COLS                                                                                                     \
    "token_id, parent_id, display_name, meta, policies, acl, renewable, creation_ttl, explicit_max_ttl, period, "      \
    "num_uses, uses_left, last_renewal_at"

/* VAULT_COLS, in order; a NULL meta reads as NULL, a NULL last_renewal_at as 0. */
static const struct col_map vault_cols[] = {
    MAP_TEXT(struct vault_token_rec, token_id),
    MAP_TEXT(struct vault_token_rec, parent_id),
    MAP_TEXT(struct vault_token_rec, display_name),
    MAP_DUP(struct vault_token_rec, meta, NULL),
    MAP_NAMES_DUP(struct vault_token_rec, policies, npolicies, STORE_POLICIES_MAX),
    MAP_BOOL(struct vault_token_rec, acl),
    MAP_BOOL(struct vault_token_rec, renewable),
    MAP_INT(struct vault_token_rec, creation_ttl),
    MAP_INT(struct vault_token_rec, explicit_max_ttl),
    MAP_INT(struct vault_token_rec, period),
    MAP_INT(struct vault_token_rec, num_uses),
    MAP_INT(struct vault_token_rec, uses_left),
    MAP_INT(struct vault_token_rec, last_renewal_at),
};
static const struct row_map vault_map = ROW_MAP(struct vault_token_rec, vault_cols);

int sql_vault_token_insert(struct store *s, const struct vault_token_rec *r) {
    /* Through tokens, so that a token that is not there reads as not found. */
    static const struct stmt_def def = {.sql = "INSERT INTO vault_tokens (" VAULT_COLS
                                               ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 "
                                               "FROM tokens WHERE id = ?1"};
    char *policies = NULL;
    size_t changed = 0;
    int rc = names_json(r->policies != NULL ? r->policies[0] : NULL, STORE_POLICY_NAME_MAX, r->npolicies, &policies);
    if (rc != 0)
        return rc;
    rc = sql_run_count(sc_of(s), &def, &changed, sql_text(r->token_id), sql_text(r->parent_id),
                       sql_text(r->display_name), sql_text(r->meta), sql_text(policies), sql_int(r->acl),
                       sql_int(r->renewable), sql_int(r->creation_ttl), sql_int(r->explicit_max_ttl),
                       sql_int(r->period), sql_int(r->num_uses), sql_int(r->uses_left), sql_time(r->last_renewal_at));
    free(policies);
    if (rc == 0 && changed == 0)
        return LK_ENOTFOUND;
    return rc;
}

int sql_vault_token_get(struct store *s, const char *token_id, struct vault_token_rec *ret) {
    static const struct stmt_def def = {.sql = "SELECT " VAULT_COLS " FROM vault_tokens WHERE token_id = ?1"};
    return sql_get(sc_of(s), &def, &vault_map, ret, sql_text(token_id));
}

int sql_vault_token_use(struct store *s, const char *token_id, int64_t *ret_left) {
    /* One statement, so the test and the decrement are one step for every
     * connection (SQLite's write lock; PostgreSQL's row lock, the test
     * re-checked on the row as updated by whoever held it). */
    static const struct stmt_def def = {
        .sql = "UPDATE vault_tokens SET uses_left = uses_left - 1 "
               "WHERE token_id = ?1 AND num_uses > 0 AND uses_left > 0 RETURNING uses_left"};
    return sql_get(sc_of(s), &def, &row_int64, ret_left, sql_text(token_id));
}

/* A public id, as store.h hands it out in a name_list. */
typedef char id_buf[STORE_NAME_MAX];
static const struct col_map id_col = {COL_TEXT, 0, sizeof(id_buf), NULL, 0, 0};
static const struct row_map id_map = {sizeof(id_buf), &id_col, 1, NULL};

int sql_vault_token_subtree(struct store *s, const char *token_id, int limit, struct name_list *ret) {
    /* UNION (not UNION ALL) stops at a row seen before, should a cycle
     * ever be written; the depth bound stops the rest. */
    static const struct stmt_def def = {
        .sql = "WITH RECURSIVE below (id, depth) AS ("
               " SELECT token_id, 1 FROM vault_tokens WHERE parent_id = ?1 AND parent_id != ''"
               " UNION"
               " SELECT v.token_id, b.depth + 1 FROM vault_tokens v JOIN below b ON v.parent_id = b.id"
               " WHERE b.depth < ?2) "
               "SELECT id FROM below GROUP BY id ORDER BY MAX(depth) DESC, id LIMIT ?3"};
    return sql_list(sc_of(s), &def, &id_map, limit, ret, sql_text(token_id), sql_int(STORE_VAULT_SUBTREE_DEPTH),
                    sql_int(limit));
}

int sql_vault_token_orphan_children(struct store *s, const char *token_id, size_t *ret_count) {
    static const struct stmt_def def = {.sql = "UPDATE vault_tokens SET parent_id = '' WHERE parent_id = ?1"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(token_id));
}

int sql_vault_token_renewed(struct store *s, const char *token_id, int64_t at) {
    static const struct stmt_def def = {.sql = "UPDATE vault_tokens SET last_renewal_at = ?2 WHERE token_id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(token_id), sql_time(at));
}

int sql_notice_forget_token(struct store *s, const char *token_id, int64_t expires_at, size_t *ret_count) {
    static const struct stmt_def def = {.sql = "DELETE FROM notices WHERE token_id = ?1 AND expires_at != ?2"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(token_id), sql_int(expires_at));
}
