/*
 * secrets.c - versioned secrets in the SQL backends (migration 0016):
 * the newest version of a path, insert, get, the kept versions, prune, and
 * the live paths of a scope.
 *
 * Holds opaque values only: what is sealed, how and with which key is
 * svc's (svc/secrets.c over the barrier); no statement here ever sees a
 * plaintext. A row's scope is its team's id, or its org's for an org-wide
 * secret (team_id NULL).
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define SECRET_COLS "seq, org_id, COALESCE(team_id, ''), path, version, value, created_at, created_by"

/* SECRET_COLS, in order. */
static const struct col_map secret_cols[] = {
    MAP_INT(struct secret_rec, seq),        MAP_TEXT(struct secret_rec, org_id),
    MAP_TEXT(struct secret_rec, team_id),   MAP_TEXT(struct secret_rec, path),
    MAP_INT(struct secret_rec, version),    MAP_BYTES_DUP(struct secret_rec, value, value_len, STORE_SECRET_VALUE_MAX),
    MAP_INT(struct secret_rec, created_at), MAP_TEXT(struct secret_rec, created_by),
};
static const struct row_map secret_map = ROW_MAP(struct secret_rec, secret_cols);

/* Versions are listed without values: the value column reads as NULL and
 * value_len carries the sealed size (0 for a tombstone). */
#define VERSION_COLS                                                                                                   \
    "seq, org_id, COALESCE(team_id, ''), path, version, NULL, created_at, created_by, COALESCE(length(value), 0)"
static const struct col_map version_cols[] = {
    MAP_INT(struct secret_rec, seq),
    MAP_TEXT(struct secret_rec, org_id),
    MAP_TEXT(struct secret_rec, team_id),
    MAP_TEXT(struct secret_rec, path),
    MAP_INT(struct secret_rec, version),
    MAP_BYTES_DUP(struct secret_rec, value, value_len, 0),
    MAP_INT(struct secret_rec, created_at),
    MAP_TEXT(struct secret_rec, created_by),
    {COL_INT, offsetof(struct secret_rec, value_len), sizeof(int64_t), NULL, 0, 0},
};
static const struct row_map version_map = ROW_MAP(struct secret_rec, version_cols);

/* The row's scope: the team's id, or the org's for an org-wide secret. */
static const char *scope_of(const char *org_id, const char *team_id) {
    return team_id[0] != '\0' ? team_id : org_id;
}

int sql_secret_latest(struct store *s, const char *org_id, const char *team_id, const char *path,
                      int64_t *ret_version) {
    static const struct stmt_def def = {
        .sql = "SELECT COALESCE(MAX(version), 0) FROM secrets WHERE scope_id = ?1 AND path = ?2 AND org_id = ?3"};
    return sql_get(sc_of(s), &def, &row_int64, ret_version, sql_text(scope_of(org_id, team_id)), sql_text(path),
                   sql_text(org_id));
}

int sql_secret_insert(struct store *s, const struct secret_rec *r) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO secrets (org_id, team_id, scope_id, path, version, value, created_at, created_by) "
               "SELECT ?1, NULLIF(?2, ''), ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM orgs WHERE id = ?1) AND "
               "(?2 = '' OR EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND org_id = ?1))"};
    size_t changed = 0;
    /* A tombstone binds NULL. */
    struct sql_arg value =
        r->value != NULL ? sql_blob(r->value, (int)r->value_len) : (struct sql_arg){SQL_NULL, NULL, 0};
    int rc = sql_run_count(sc_of(s), &def, &changed, sql_text(r->org_id), sql_text(r->team_id),
                           sql_text(scope_of(r->org_id, r->team_id)), sql_text(r->path), sql_int(r->version), value,
                           sql_int(r->created_at), sql_text(r->created_by));
    if (rc == 0 && changed == 0)
        return LK_ENOTFOUND;
    return rc;
}

int sql_secret_get(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t version,
                   struct secret_rec *ret) {
    static const struct stmt_def def = {.sql =
                                            "SELECT " SECRET_COLS " FROM secrets WHERE scope_id = ?1 AND path = ?2 AND "
                                            "org_id = ?3 AND (?4 = 0 OR version = ?4) ORDER BY version DESC LIMIT 1"};
    return sql_get(sc_of(s), &def, &secret_map, ret, sql_text(scope_of(org_id, team_id)), sql_text(path),
                   sql_text(org_id), sql_int(version));
}

int sql_secret_versions(struct store *s, const char *org_id, const char *team_id, const char *path,
                        struct secret_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " VERSION_COLS
                                               " FROM secrets WHERE scope_id = ?1 AND path = ?2 AND "
                                               "org_id = ?3 ORDER BY version DESC LIMIT ?4"};
    enum { MOST = 1000 };
    return sql_list(sc_of(s), &def, &version_map, MOST, ret, sql_text(scope_of(org_id, team_id)), sql_text(path),
                    sql_text(org_id), sql_int(MOST));
}

int sql_secret_prune(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t keep_from,
                     size_t *ret_count) {
    static const struct stmt_def def = {
        .sql = "DELETE FROM secrets WHERE scope_id = ?1 AND path = ?2 AND org_id = ?3 AND version < ?4"};
    return sql_run_count(sc_of(s), &def, ret_count, sql_text(scope_of(org_id, team_id)), sql_text(path),
                         sql_text(org_id), sql_int(keep_from));
}

int sql_secret_paths(struct store *s, const char *org_id, const char *team_id, const char *prefix, const char *after,
                     int limit, struct secret_path_list *ret) {
    /* The newest row of each path, live (not a tombstone), in byte order. */
    static const struct stmt_def def = {
        .sql = "SELECT n.path FROM secrets n WHERE n.scope_id = ?1 AND n.org_id = ?2 AND "
               "substr(n.path, 1, length(CAST(?3 AS TEXT))) = ?3 AND n.path > ?4 AND n.value IS NOT NULL AND "
               "n.version = (SELECT MAX(m.version) FROM secrets m WHERE m.scope_id = n.scope_id AND m.path = n.path) "
               "ORDER BY n.path LIMIT ?5"};
    static const struct col_map path_col = {COL_TEXT, 0, STORE_SECRET_PATH_MAX, NULL, 0, 0};
    static const struct row_map path_map = {STORE_SECRET_PATH_MAX, &path_col, 1, NULL};
    return sql_list(sc_of(s), &def, &path_map, limit, ret, sql_text(scope_of(org_id, team_id)), sql_text(org_id),
                    sql_text(prefix), sql_text(after), sql_int(limit));
}

int sql_secret_scan(struct store *s, int64_t after_seq, int limit, struct secret_list *ret) {
    static const struct stmt_def def = {
        .sql = "SELECT " SECRET_COLS " FROM secrets WHERE seq > ?1 AND value IS NOT NULL ORDER BY seq LIMIT ?2"};
    return sql_list(sc_of(s), &def, &secret_map, limit, ret, sql_int(after_seq), sql_int(limit));
}

int sql_secret_rewrap(struct store *s, int64_t seq, const uint8_t *old, size_t old_len, const uint8_t *value,
                      size_t len, int *ret_changed) {
    static const struct stmt_def def = {.sql = "UPDATE secrets SET value = ?2 WHERE seq = ?1 AND value = ?3"};
    size_t changed = 0;
    int r =
        sql_run_count(sc_of(s), &def, &changed, sql_int(seq), sql_blob(value, (int)len), sql_blob(old, (int)old_len));
    if (r == 0)
        *ret_changed = changed > 0;
    return r;
}
