/*
 * users.c - an organisation's users in the SQL backends: insert, get (by
 * id or org and username), list, update, delete (with their tokens).
 *
 * Stores the password hash it is given; never hashes, checks or logs one.
 */
#include "core/errors.h"
#include "store/sql/sql_internal.h"

#define USER_COLS                                                                                                      \
    "seq, id, org_id, username, email, password_hash, role, programmatic_only, token_expiry_hours, created_at, "       \
    "updated_at"

/* USER_COLS, in order; a NULL password_hash stays NULL (no password), a NULL
 * token_expiry_hours reads as 0. */
static const struct col_map user_cols[] = {
    MAP_INT(struct user_rec, seq),
    MAP_TEXT(struct user_rec, id),
    MAP_TEXT(struct user_rec, org_id),
    MAP_TEXT(struct user_rec, username),
    MAP_TEXT(struct user_rec, email),
    MAP_DUP(struct user_rec, password_hash, NULL),
    MAP_TEXT(struct user_rec, role),
    MAP_BOOL(struct user_rec, programmatic_only),
    MAP_INT(struct user_rec, token_expiry_hours),
    MAP_INT(struct user_rec, created_at),
    MAP_INT(struct user_rec, updated_at),
};
static const struct row_map user_map = ROW_MAP(struct user_rec, user_cols);

int sql_user_insert(struct store *s, const struct user_rec *u) {
    static const struct stmt_def def = {.sql = "INSERT INTO users (id, org_id, username, email, password_hash, role, "
                                               "programmatic_only, token_expiry_hours, created_at, updated_at) "
                                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"};
    struct sql_conn *sc = sc_of(s);
    /* An unknown org is "not found", not a constraint failure (as for
     * sql_insert_under, which cannot say the foreign key's failure below). */
    int r = sql_org_exists(sc, u->org_id);
    if (r != 0)
        return r;
    struct sql_stmt *st = NULL;
    r = stmt_bind(sc, &def,
                  SQL_ARGS(sql_text(u->id), sql_text(u->org_id), sql_text(u->username), sql_text(u->email),
                           sql_text(u->password_hash), sql_text(u->role), sql_int(u->programmatic_only ? 1 : 0),
                           sql_time(u->token_expiry_hours), sql_int(u->created_at), sql_int(u->updated_at)),
                  &st);
    if (r != 0)
        return r;
    /* The org went away between the check and the insert (another
     * connection deleted it): the foreign key caught it, and the driver
     * says LK_ENOTFOUND. */
    r = stmt_step_done(st);
    stmt_done(st);
    return r;
}

int sql_user_get(struct store *s, const char *id, const char *org_id, const char *username, struct user_rec *ret) {
    static const struct stmt_def by_id = {.sql = "SELECT " USER_COLS " FROM users WHERE id = ?1"};
    static const struct stmt_def by_name = {.sql =
                                                "SELECT " USER_COLS " FROM users WHERE org_id = ?1 AND username = ?2"};
    if (id != NULL)
        return sql_get(sc_of(s), &by_id, &user_map, ret, sql_text(id));
    return sql_get(sc_of(s), &by_name, &user_map, ret, sql_text(org_id), sql_text(username));
}

int sql_user_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret) {
    static const struct stmt_def def = {.sql = "SELECT " USER_COLS
                                               " FROM users WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"};
    return sql_list(sc_of(s), &def, &user_map, limit, ret, sql_text(org_id), sql_int(after_seq), sql_int(limit));
}

int sql_user_update(struct store *s, const struct user_rec *u) {
    static const struct stmt_def def = {
        .sql = "UPDATE users SET email = ?2, password_hash = ?3, role = ?4, "
               "programmatic_only = ?5, token_expiry_hours = ?6, updated_at = ?7 WHERE id = ?1"};
    return sql_change(sc_of(s), &def, sql_text(u->id), sql_text(u->email), sql_text(u->password_hash),
                      sql_text(u->role), sql_int(u->programmatic_only ? 1 : 0), sql_time(u->token_expiry_hours),
                      sql_int(u->updated_at));
}

int sql_user_delete(struct store *s, const char *id) {
    static const struct stmt_def tokens = {.sql = "DELETE FROM tokens WHERE owner_type = 'user' AND owner_id = ?1"};
    static const struct stmt_def user = {.sql = "DELETE FROM users WHERE id = ?1"};
    return sql_delete_with(s, &tokens, &user, id);
}
