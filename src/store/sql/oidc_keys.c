/*
 * oidc_keys.c - the signing keys of identity tokens in the SQL backends
 * (migration 0021): insert, list, mark superseded keys for retirement and
 * delete retired ones.
 *
 * Never opens a private key (it holds sealed bytes only) and never decides
 * when a key is published, signs or retires (svc/oidc.c does).
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define KEY_COLS "seq, kid, alg, private_sealed, public_jwk, created_at, publish_from, sign_from, retire_after"

/* KEY_COLS, in order. */
static const struct col_map key_cols[] = {
    MAP_INT(struct oidc_key_rec, seq),
    MAP_TEXT(struct oidc_key_rec, kid),
    MAP_TEXT(struct oidc_key_rec, alg),
    MAP_BYTES_DUP(struct oidc_key_rec, private_sealed, private_sealed_len, STORE_OIDC_SEALED_MAX),
    MAP_DUP(struct oidc_key_rec, public_jwk, NULL),
    MAP_INT(struct oidc_key_rec, created_at),
    MAP_INT(struct oidc_key_rec, publish_from),
    MAP_INT(struct oidc_key_rec, sign_from),
    MAP_INT(struct oidc_key_rec, retire_after),
};
static const struct row_map key_map = ROW_MAP(struct oidc_key_rec, key_cols);

int sql_oidc_key_insert(struct store *s, const struct oidc_key_rec *k) {
    static const struct stmt_def def = {.sql =
                                            "INSERT INTO oidc_keys (kid, alg, private_sealed, public_jwk, created_at, "
                                            "publish_from, sign_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
    return sql_run(sc_of(s), &def, sql_text(k->kid), sql_text(k->alg),
                   sql_blob(k->private_sealed, (int)k->private_sealed_len), sql_text(k->public_jwk),
                   sql_int(k->created_at), sql_int(k->publish_from), sql_int(k->sign_from));
}

int sql_oidc_key_list(struct store *s, struct oidc_key_list *ret) {
    /* The newest STORE_OIDC_KEYS_MAX, oldest first. */
    static const struct stmt_def def = {.sql = "SELECT " KEY_COLS " FROM (SELECT " KEY_COLS
                                               " FROM oidc_keys ORDER BY seq DESC LIMIT ?1) AS k ORDER BY seq"};
    return sql_list(sc_of(s), &def, &key_map, STORE_OIDC_KEYS_MAX, ret, sql_int(STORE_OIDC_KEYS_MAX));
}

int sql_oidc_key_retire(struct store *s, const char *except_kid, int64_t now, int64_t retire_after,
                        size_t *ret_changed) {
    static const struct stmt_def def = {
        .sql = "UPDATE oidc_keys SET retire_after = CASE WHEN sign_from > ?2 THEN ?2 ELSE ?3 END "
               "WHERE retire_after IS NULL AND kid != ?1"};
    return sql_run_count(sc_of(s), &def, ret_changed, sql_text(except_kid), sql_int(now), sql_int(retire_after));
}

int sql_oidc_key_delete_retired(struct store *s, int64_t now, size_t *ret_deleted) {
    static const struct stmt_def def = {
        .sql = "DELETE FROM oidc_keys WHERE retire_after IS NOT NULL AND retire_after <= ?1"};
    return sql_run_count(sc_of(s), &def, ret_deleted, sql_int(now));
}
