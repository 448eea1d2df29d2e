/*
 * driver.c - SQLite as the SQL layer's driver (sql/sql_internal.h): each
 * statement is prepared once per connection (persistent), bound without
 * copies, stepped row by row and reset after use.
 */
#include <stdlib.h>

#include "core/errors.h"
#include "store/sqlite/sqlite_internal.h"

struct sqlite_stmt {
    struct sql_stmt base;
    sqlite3_stmt *st;
};

static sqlite3_stmt *raw(struct sql_stmt *st) {
    return ((struct sqlite_stmt *)st)->st;
}

int sqlite_map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LK_EBUSY;
    case SQLITE_NOMEM: return LK_ENOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return LK_ECONFLICT;
        /* A row that names a parent which is gone (another connection
         * deleted it between the check and the write). */
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return LK_ENOTFOUND;
        return LK_ESTORE;
    default: return LK_ESTORE;
    }
}

static int prepare(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
                   struct sql_stmt **ret) {
    (void)args; /* SQLite's values carry their own types */
    (void)n;
    struct sqlite_stmt *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return LK_ENOMEM;
    int rc = sqlite3_prepare_v3(ss_of(&c->base)->db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s->st);
        free(s);
        return sqlite_map_rc(rc);
    }
    s->base.drv = &sqlite_driver;
    *ret = &s->base;
    return 0;
}

static void finalize(struct sql_stmt *st) {
    sqlite3_finalize(raw(st));
    free(st);
}

static int bind(struct sql_stmt *stmt, const struct sql_arg *args, size_t n) {
    sqlite3_stmt *st = raw(stmt);
    if ((size_t)sqlite3_bind_parameter_count(st) != n)
        return LK_EINTERNAL;
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        int idx = (int)i + 1;
        const struct sql_arg *a = &args[i];
        switch (a->type) {
        case SQL_NULL: rc = sqlite3_bind_null(st, idx); break;
        /* SQLITE_STATIC: the statement is reset before the caller regains control. */
        case SQL_TEXT: rc = sqlite3_bind_text(st, idx, a->p, -1, SQLITE_STATIC); break;
        case SQL_INT: rc = sqlite3_bind_int64(st, idx, a->n); break;
        case SQL_BLOB: rc = sqlite3_bind_blob(st, idx, a->p, (int)a->n, SQLITE_STATIC); break;
        }
    }
    return rc == SQLITE_OK ? 0 : sqlite_map_rc(rc);
}

static int step(struct sql_stmt *st) {
    int rc = sqlite3_step(raw(st));
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlite_map_rc(rc);
}

static void reset(struct sql_stmt *st) {
    sqlite3_reset(raw(st));
    sqlite3_clear_bindings(raw(st));
}

static size_t changes(struct sql_stmt *st) {
#if SQLITE_VERSION_NUMBER >= 3037000
    return (size_t)sqlite3_changes64(sqlite3_db_handle(raw(st)));
#else
    return (size_t)sqlite3_changes(sqlite3_db_handle(raw(st)));
#endif
}

static int ncols(struct sql_stmt *st) {
    return sqlite3_column_count(raw(st));
}

static int is_null(struct sql_stmt *st, int col) {
    return sqlite3_column_type(raw(st), col) == SQLITE_NULL;
}

static int64_t int64(struct sql_stmt *st, int col) {
    return sqlite3_column_int64(raw(st), col);
}

static int text(struct sql_stmt *st, int col, const char **p, size_t *len) {
    *p = NULL;
    *len = 0;
    if (sqlite3_column_type(raw(st), col) == SQLITE_NULL)
        return 0;
    const unsigned char *t = sqlite3_column_text(raw(st), col);
    int n = sqlite3_column_bytes(raw(st), col);
    if (t == NULL || n < 0)
        return LK_ENOMEM;
    *p = (const char *)t;
    *len = (size_t)n;
    return 0;
}

static int blob(struct sql_stmt *st, int col, const void **p, size_t *len) {
    *p = NULL;
    *len = 0;
    int type = sqlite3_column_type(raw(st), col);
    if (type == SQLITE_NULL)
        return 0;
    if (type != SQLITE_BLOB)
        return LK_ESTORE;
    const void *b = sqlite3_column_blob(raw(st), col);
    int n = sqlite3_column_bytes(raw(st), col);
    if (n < 0 || (b == NULL && n > 0))
        return LK_ENOMEM;
    *p = b;
    *len = (size_t)n;
    return 0;
}

static int type(struct sql_stmt *st, int col) {
    switch (sqlite3_column_type(raw(st), col)) {
    case SQLITE_NULL: return SQL_NULL;
    case SQLITE_INTEGER: return SQL_INT;
    case SQLITE_BLOB: return SQL_BLOB;
    default: return SQL_TEXT;
    }
}

/* AUTOINCREMENT keeps the highest seq inserted, given or not. */
static int copied(struct sql_conn *c, const char *table) {
    (void)c;
    (void)table;
    return 0;
}

/* SQLite rolls a transaction back by itself on some errors (disk full,
 * I/O, out of memory): the connection is in autocommit again. */
static int tx_lost(struct sql_conn *c) {
    return sqlite3_get_autocommit(ss_of(&c->base)->db);
}

const struct sql_driver sqlite_driver = {
    .prepare = prepare,
    .finalize = finalize,
    .bind = bind,
    .step = step,
    .reset = reset,
    .changes = changes,
    .ncols = ncols,
    .is_null = is_null,
    .int64 = int64,
    .text = text,
    .blob = blob,
    .tx_lost = tx_lost,
    .revive = NULL, /* a file does not go away */
    .type = type,
    .copied = copied,
};
