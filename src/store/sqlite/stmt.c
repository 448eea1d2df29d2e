/*
 * stmt.c - the SQLite backend's one statement helper: the per-connection
 * statement cache, typed binding, the runners for the shapes every entity
 * repeats (run, change one row, get one row, list rows) and column maps
 * that read a row into a record.
 *
 * Statements are prepared once per connection and reset right after use,
 * so no statement keeps a read snapshot open between calls (that would pin
 * the WAL and hide other connections' commits). Never builds SQL from
 * caller data: everything is a bound parameter. Knows no table.
 */
#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/sqlite/sqlite_internal.h"

int sqlite_map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return LK_EBUSY;
    case SQLITE_NOMEM: return LK_ENOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return LK_ECONFLICT;
        return LK_ESTORE;
    default: return LK_ESTORE;
    }
}

/* The slot of def in the cache: where it is, or the empty one where it
 * goes. The address is hashed by its upper bits (definitions are a few
 * dozen bytes apart in the data segment). */
static size_t cache_slot(const struct stmt_cache *c, const struct stmt_def *def) {
    size_t h = (size_t)(((uintptr_t)def >> 3) * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (STMT_CACHE_CAP - 1);
    while (c->defs[h] != NULL && c->defs[h] != def)
        h = (h + 1) & (STMT_CACHE_CAP - 1);
    return h;
}

/* The cached statement of def, prepared on first use. */
static int stmt_get(struct sqlite_store *ss, const struct stmt_def *def, sqlite3_stmt **ret) {
    /* SQLite rolls a transaction back by itself on some errors (disk full,
     * I/O, out of memory). Inside store_tx that must not let later writes
     * run, and commit, on their own. (BEGIN runs outside a transaction;
     * sqlite_commit and _rollback look at autocommit before this.) */
    if (ss->base.in_tx && sqlite3_get_autocommit(ss->db))
        return LK_ESTORE;
    struct stmt_cache *c = &ss->cache;
    size_t h = cache_slot(c, def);
    if (c->defs[h] == NULL) {
        /* Half full at most, so a probe always ends at an empty slot. */
        if (c->used >= STMT_CACHE_CAP / 2)
            return LK_EINTERNAL;
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v3(ss->db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return sqlite_map_rc(rc);
        }
        c->defs[h] = def;
        c->stmts[h] = st;
        c->used++;
    }
    *ret = c->stmts[h];
    return 0;
}

void stmt_done(sqlite3_stmt *st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int stmt_step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    return rc == SQLITE_ROW ? LK_ESTORE : sqlite_map_rc(rc);
}

int stmt_bind(struct sqlite_store *ss, const struct stmt_def *def, const struct sql_arg *args, size_t n,
              sqlite3_stmt **ret) {
    sqlite3_stmt *st = NULL;
    int r = stmt_get(ss, def, &st);
    if (r != 0)
        return r;
    /* A call with more or fewer arguments than the SQL has parameters is a
     * mistake in this backend, whatever the values. */
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
    if (rc != SQLITE_OK) {
        stmt_done(st);
        return sqlite_map_rc(rc);
    }
    *ret = st;
    return 0;
}

static size_t changes(struct sqlite_store *ss) {
#if SQLITE_VERSION_NUMBER >= 3037000
    return (size_t)sqlite3_changes64(ss->db);
#else
    return (size_t)sqlite3_changes(ss->db);
#endif
}

int sql_run_(struct sqlite_store *ss, const struct stmt_def *def, const struct sql_arg *args, size_t n,
             size_t *ret_changes) {
    sqlite3_stmt *st = NULL;
    int r = stmt_bind(ss, def, args, n, &st);
    if (r != 0)
        return r;
    r = stmt_step_done(st);
    if (r == 0 && ret_changes != NULL)
        *ret_changes = changes(ss);
    stmt_done(st);
    return r;
}

int sql_insert_under_(struct sqlite_store *ss, int (*exists)(struct sqlite_store *ss, const char *id),
                      const char *parent_id, const struct stmt_def *def, const struct sql_arg *args, size_t n) {
    int r = exists(ss, parent_id);
    return r != 0 ? r : sql_run_(ss, def, args, n, NULL);
}

int sql_change_(struct sqlite_store *ss, const struct stmt_def *def, const struct sql_arg *args, size_t n) {
    size_t changed = 0;
    int r = sql_run_(ss, def, args, n, &changed);
    return r == 0 && changed == 0 ? LK_ENOTFOUND : r;
}

int col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        buf[0] = '\0';
        return 0;
    }
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t == NULL)
        return LK_ENOMEM;
    int n = sqlite3_column_bytes(st, col);
    /* Too long for the record or holding a NUL: not something we wrote. */
    if (n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n) != NULL)
        return LK_ESTORE;
    memcpy(buf, t, (size_t)n);
    buf[n] = '\0';
    return 0;
}

/* Copies a TEXT column into a new string in *ret; NULL reads as dflt. */
static int col_dup(sqlite3_stmt *st, int col, const char *dflt, char **ret) {
    const char *src = dflt;
    size_t n = strlen(dflt);
    if (sqlite3_column_type(st, col) != SQLITE_NULL) {
        src = (const char *)sqlite3_column_text(st, col);
        if (src == NULL)
            return LK_ENOMEM;
        int len = sqlite3_column_bytes(st, col);
        if (len < 0)
            return LK_ESTORE;
        n = (size_t)len;
    }
    char *p = malloc(n + 1);
    if (p == NULL)
        return LK_ENOMEM;
    memcpy(p, src, n);
    p[n] = '\0';
    *ret = p;
    return 0;
}

/* A BLOB column of exactly cap bytes into buf. */
static int col_blob(sqlite3_stmt *st, int col, void *buf, size_t cap) {
    if (sqlite3_column_type(st, col) != SQLITE_BLOB || sqlite3_column_bytes(st, col) != (int)cap)
        return LK_ESTORE;
    const void *b = sqlite3_column_blob(st, col);
    if (b == NULL)
        return LK_ENOMEM;
    memcpy(buf, b, cap);
    return 0;
}

/* A BLOB column of at most cap bytes into a malloc'd copy and its length;
 * NULL reads as NULL and 0. */
static int col_bytes_dup(sqlite3_stmt *st, int col, size_t cap, uint8_t **ret, size_t *ret_len) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    if (sqlite3_column_type(st, col) != SQLITE_BLOB)
        return LK_ESTORE;
    int len = sqlite3_column_bytes(st, col);
    const void *b = sqlite3_column_blob(st, col);
    if (len < 0 || (size_t)len > cap)
        return LK_ESTORE;
    if (b == NULL && len > 0)
        return LK_ENOMEM;
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    if (p == NULL)
        return LK_ENOMEM;
    if (len > 0)
        memcpy(p, b, (size_t)len);
    *ret = p;
    *ret_len = (size_t)len;
    return 0;
}

int names_json(const char *names, size_t width, size_t n, char **ret) {
    json_t *arr = json_array();
    int r = arr != NULL ? 0 : LK_ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        if (json_array_append_new(arr, json_string(names + i * width)) != 0)
            r = LK_ENOMEM;
    char *text = r == 0 ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (text == NULL)
        return LK_ENOMEM;
    *ret = text;
    return 0;
}

/*
 * A JSON array of strings in column col into names: into the array at
 * fixed (cap rows of width bytes), or, with fixed NULL, into a malloc'd
 * array handed out in *ret_dup (NULL when empty). *ret_n gets the count.
 * LK_ESTORE for anything but an array of at most cap non-empty strings
 * that fit their rows.
 */
static int col_names(sqlite3_stmt *st, int col, char *fixed, size_t width, size_t cap, char **ret_dup, size_t *ret_n) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        *ret_n = 0;
        return 0;
    }
    const char *text = (const char *)sqlite3_column_text(st, col);
    int len = sqlite3_column_bytes(st, col);
    if (text == NULL || len < 0)
        return LK_ENOMEM;
    json_t *arr = json_loadb(text, (size_t)len, 0, NULL);
    size_t n = json_array_size(arr);
    char *names = fixed;
    int r = json_is_array(arr) && n <= cap ? 0 : LK_ESTORE;
    if (r == 0 && fixed == NULL && n > 0 && (names = calloc(n, width)) == NULL)
        r = LK_ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t vlen = json_string_length(v);
        if (!json_is_string(v) || vlen == 0 || vlen >= width || memchr(json_string_value(v), '\0', vlen) != NULL)
            r = LK_ESTORE;
        else
            memcpy(names + i * width, json_string_value(v), vlen + 1);
    }
    json_decref(arr);
    if (r != 0) {
        if (fixed == NULL)
            free(names);
        return r;
    }
    if (fixed == NULL)
        *ret_dup = n > 0 ? names : NULL;
    *ret_n = n;
    return 0;
}

/* Column i of the current row into the field c of rec. */
static int col_read(sqlite3_stmt *st, int i, const struct col_map *c, char *rec) {
    void *field = rec + c->offset;
    switch (c->kind) {
    case COL_INT: {
        int64_t v = sqlite3_column_int64(st, i); /* NULL reads as 0 */
        if (c->size == sizeof(int64_t))
            memcpy(field, &v, sizeof(v));
        else {
            int iv = (int)v;
            memcpy(field, &iv, sizeof(iv));
        }
        return 0;
    }
    case COL_BOOL: {
        int b = sqlite3_column_int(st, i) != 0;
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    case COL_TEXT: return col_copy(st, i, field, c->size);
    case COL_DUP:
        if (c->dflt == NULL && sqlite3_column_type(st, i) == SQLITE_NULL)
            return 0;
        return col_dup(st, i, c->dflt != NULL ? c->dflt : "", field);
    case COL_BLOB: return col_blob(st, i, field, c->size);
    case COL_BYTES_DUP: {
        uint8_t *p = NULL;
        size_t n = 0;
        int r = col_bytes_dup(st, i, c->cap, &p, &n);
        if (r == 0) {
            memcpy(field, &p, sizeof(p));
            memcpy(rec + c->count_offset, &n, sizeof(n));
        }
        return r;
    }
    case COL_NAMES:
    case COL_NAMES_DUP: {
        char *names = NULL;
        size_t n = 0;
        int r = col_names(st, i, c->kind == COL_NAMES ? field : NULL, c->size, c->cap, &names, &n);
        if (r == 0) {
            if (c->kind == COL_NAMES_DUP)
                memcpy(field, &names, sizeof(names));
            memcpy(rec + c->count_offset, &n, sizeof(n));
        }
        return r;
    }
    }
    return LK_EINTERNAL;
}

static const struct col_map json_col = {COL_DUP, 0, sizeof(char *), "[]", 0, 0};
const struct row_map row_json = {sizeof(char *), &json_col, 1, NULL};
static const struct col_map string_col = {COL_DUP, 0, sizeof(char *), "", 0, 0};
const struct row_map row_string = {sizeof(char *), &string_col, 1, NULL};
static const struct col_map int64_col = {COL_INT, 0, sizeof(int64_t), NULL, 0, 0};
const struct row_map row_int64 = {sizeof(int64_t), &int64_col, 1, NULL};

void row_free(const struct row_map *m, void *rec) {
    for (size_t i = 0; i < m->ncols; i++) {
        if (m->cols[i].kind != COL_DUP && m->cols[i].kind != COL_NAMES_DUP && m->cols[i].kind != COL_BYTES_DUP)
            continue;
        char **p = (char **)((char *)rec + m->cols[i].offset);
        free(*p);
        *p = NULL;
    }
}

/* The current row of st into rec by m; on failure rec owns nothing. */
static int row_read(sqlite3_stmt *st, const struct row_map *m, void *rec) {
    if (m->read != NULL)
        return m->read(st, rec);
    /* A map that does not match the statement's columns is a mistake in
     * this backend, like an argument too many. */
    if ((size_t)sqlite3_column_count(st) != m->ncols)
        return LK_EINTERNAL;
    memset(rec, 0, m->size);
    for (size_t i = 0; i < m->ncols; i++) {
        int r = col_read(st, (int)i, &m->cols[i], rec);
        if (r != 0) {
            row_free(m, rec);
            return r;
        }
    }
    return 0;
}

int sql_get_(struct sqlite_store *ss, const struct stmt_def *def, const struct row_map *m, size_t size, void *ret,
             const struct sql_arg *args, size_t n) {
    if (m != NULL && (m->size != size || size > ROW_MAX))
        return LK_EINTERNAL;
    sqlite3_stmt *st = NULL;
    int r = stmt_bind(ss, def, args, n, &st);
    if (r != 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && m != NULL) {
        /* Read aside, so that *ret is written on success only. */
        _Alignas(max_align_t) char rec[ROW_MAX];
        r = row_read(st, m, rec);
        if (r == 0)
            memcpy(ret, rec, size);
    } else if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? LK_ENOTFOUND : sqlite_map_rc(rc);
    }
    stmt_done(st);
    return r;
}

int stmt_collect(sqlite3_stmt *st, const struct row_map *m, size_t elem, int limit, void **ret_items,
                 size_t *ret_count) {
    char *items = NULL;
    size_t count = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            if (cap >= (size_t)limit) {
                r = LK_ESTORE;
                goto out;
            }
            size_t ncap = cap == 0 ? 16 : cap * 2;
            if (ncap > (size_t)limit)
                ncap = (size_t)limit;
            char *p = reallocarray(items, ncap, elem);
            if (p == NULL) {
                r = LK_ENOMEM;
                goto out;
            }
            items = p;
            cap = ncap;
        }
        r = row_read(st, m, items + count * elem);
        if (r != 0)
            goto out;
        count++;
    }
    if (rc != SQLITE_DONE) {
        r = sqlite_map_rc(rc);
        goto out;
    }
    *ret_items = items;
    *ret_count = count;
    return 0;
out:
    for (size_t i = 0; i < count; i++)
        row_free(m, items + i * elem);
    free(items);
    return r;
}

int sql_list_(struct sqlite_store *ss, const struct stmt_def *def, const struct row_map *m, size_t elem, int limit,
              void **ret_items, size_t *ret_count, const struct sql_arg *args, size_t n) {
    if (m->size != elem)
        return LK_EINTERNAL;
    sqlite3_stmt *st = NULL;
    int r = stmt_bind(ss, def, args, n, &st);
    if (r != 0)
        return r;
    r = stmt_collect(st, m, elem, limit, ret_items, ret_count);
    stmt_done(st);
    return r;
}
