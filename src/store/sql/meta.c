/*
 * meta.c - server metadata in the SQL backends: small key/value settings
 * (e.g. where org ids begin in the audit trail).
 *
 * Holds no secret in the clear and decides nothing about what a key means.
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

int sql_meta_get(struct store *s, const char *key, char **ret) {
    static const struct stmt_def def = {.sql = "SELECT value FROM meta WHERE key = ?1"};
    return sql_get(sc_of(s), &def, &row_string, ret, sql_text(key));
}

int sql_meta_set(struct store *s, const char *key, const char *value) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"};
    return sql_run(sc_of(s), &def, sql_text(key), sql_text(value));
}

int sql_meta_delete(struct store *s, const char *key) {
    static const struct stmt_def def = {.sql = "DELETE FROM meta WHERE key = ?1"};
    size_t changed = 0;
    int r = sql_run_count(sc_of(s), &def, &changed, sql_text(key));
    return r != 0 ? r : changed == 0 ? LK_ENOTFOUND : 0;
}
