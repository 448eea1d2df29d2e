/*
 * stmt.c - the SQL backends' one statement helper, over their driver
 * (sql_internal.h): the per-connection statement cache, binding, the
 * runners for the shapes every entity repeats (run, change one row, get
 * one row, list rows) and column maps that read a row into a record.
 *
 * Statements are prepared once per connection and reset right after use,
 * so no statement keeps a read snapshot or a result open between calls
 * (in SQLite that would pin the WAL and hide other connections' commits).
 * Never builds SQL from caller data: everything is a bound parameter.
 * Knows no table and no engine.
 */
#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/sql/sql_internal.h"

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
static int stmt_get(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
                    struct sql_stmt **ret) {
    /* An engine may end a transaction by itself after an error (SQLite on
     * disk full, I/O, out of memory; PostgreSQL dooms it). Inside store_tx
     * that must not let later writes run, and commit, on their own. */
    if (c->base.in_tx && c->drv->tx_lost(c))
        return LK_ESTORE;
    if (!c->base.in_tx && c->drv->revive != NULL) {
        int r = c->drv->revive(c);
        if (r != 0)
            return r;
    }
    struct stmt_cache *cache = &c->cache;
    size_t h = cache_slot(cache, def);
    if (cache->defs[h] == NULL) {
        /* Half full at most, so a probe always ends at an empty slot. */
        if (cache->used >= STMT_CACHE_CAP / 2)
            return LK_EINTERNAL;
        struct sql_stmt *st = NULL;
        int r = c->drv->prepare(c, def, args, n, &st);
        if (r != 0)
            return r;
        cache->defs[h] = def;
        cache->stmts[h] = st;
        cache->used++;
    }
    *ret = cache->stmts[h];
    return 0;
}

void stmt_cache_free(struct sql_conn *c) {
    for (size_t i = 0; i < STMT_CACHE_CAP; i++)
        if (c->cache.stmts[i] != NULL)
            c->drv->finalize(c->cache.stmts[i]);
    memset(&c->cache, 0, sizeof(c->cache));
}

void stmt_done(struct sql_stmt *st) {
    st->drv->reset(st);
}

int stmt_step_done(struct sql_stmt *st) {
    int r = stmt_step(st);
    return r == 1 ? LK_ESTORE : r;
}

int stmt_bind(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
              struct sql_stmt **ret) {
    struct sql_stmt *st = NULL;
    int r = stmt_get(c, def, args, n, &st);
    if (r != 0)
        return r;
    /* A call with more or fewer arguments than the SQL has parameters is a
     * mistake in this backend, whatever the values: the driver refuses it. */
    r = st->drv->bind(st, args, n);
    if (r != 0) {
        stmt_done(st);
        return r;
    }
    *ret = st;
    return 0;
}

int sql_run_(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
             size_t *ret_changes) {
    struct sql_stmt *st = NULL;
    int r = stmt_bind(c, def, args, n, &st);
    if (r != 0)
        return r;
    r = stmt_step_done(st);
    if (r == 0 && ret_changes != NULL)
        *ret_changes = st->drv->changes(st);
    stmt_done(st);
    return r;
}

int sql_insert_under_(struct sql_conn *c, int (*exists)(struct sql_conn *c, const char *id), const char *parent_id,
                      const struct stmt_def *def, const struct sql_arg *args, size_t n) {
    int r = exists(c, parent_id);
    return r != 0 ? r : sql_run_(c, def, args, n, NULL);
}

int sql_change_(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n) {
    size_t changed = 0;
    int r = sql_run_(c, def, args, n, &changed);
    return r == 0 && changed == 0 ? LK_ENOTFOUND : r;
}

int sql_begin(struct sql_conn *c) {
    return c->base.ops->begin(&c->base);
}

int sql_tx_end(struct sql_conn *c, int r) {
    if (r == 0) {
        r = c->base.ops->commit(&c->base);
        if (r == 0)
            return 0;
    }
    c->base.ops->rollback(&c->base);
    return r;
}

int sql_delete_with(struct store *s, const struct stmt_def *dep, const struct stmt_def *del, const char *id) {
    struct sql_conn *c = sc_of(s);
    int own_tx = !s->in_tx;
    int r = own_tx ? sql_begin(c) : 0;
    if (r != 0)
        return r;
    r = sql_run(c, dep, sql_text(id));
    if (r == 0)
        r = sql_change(c, del, sql_text(id));
    return own_tx ? sql_tx_end(c, r) : r;
}

int col_copy(struct sql_stmt *st, int col, char *buf, size_t cap) {
    const char *t = NULL;
    size_t n = 0;
    int r = st->drv->text(st, col, &t, &n);
    if (r != 0)
        return r;
    if (t == NULL) {
        buf[0] = '\0';
        return 0;
    }
    /* Too long for the record or holding a NUL: not something we wrote. */
    if (n >= cap || memchr(t, '\0', n) != NULL)
        return LK_ESTORE;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return 0;
}

/* Copies a TEXT column into a new string in *ret; NULL reads as dflt. */
static int col_dup(struct sql_stmt *st, int col, const char *dflt, char **ret) {
    const char *src = NULL;
    size_t n = 0;
    int r = st->drv->text(st, col, &src, &n);
    if (r != 0)
        return r;
    if (src == NULL) {
        src = dflt;
        n = strlen(dflt);
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
static int col_blob(struct sql_stmt *st, int col, void *buf, size_t cap) {
    const void *b = NULL;
    size_t len = 0;
    int r = st->drv->blob(st, col, &b, &len);
    if (r != 0)
        return r;
    if (b == NULL || len != cap)
        return LK_ESTORE;
    memcpy(buf, b, cap);
    return 0;
}

/* A BLOB column of at most cap bytes into a malloc'd copy and its length;
 * NULL reads as NULL and 0. */
static int col_bytes_dup(struct sql_stmt *st, int col, size_t cap, uint8_t **ret, size_t *ret_len) {
    if (st->drv->is_null(st, col)) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    const void *b = NULL;
    size_t len = 0;
    int r = st->drv->blob(st, col, &b, &len);
    if (r != 0)
        return r;
    if (len > cap)
        return LK_ESTORE;
    if (b == NULL && len > 0)
        return LK_ENOMEM;
    uint8_t *p = malloc(len > 0 ? len : 1);
    if (p == NULL)
        return LK_ENOMEM;
    if (len > 0)
        memcpy(p, b, len);
    *ret = p;
    *ret_len = len;
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
static int col_names(struct sql_stmt *st, int col, char *fixed, size_t width, size_t cap, char **ret_dup,
                     size_t *ret_n) {
    const char *text = NULL;
    size_t len = 0;
    int tr = st->drv->text(st, col, &text, &len);
    if (tr != 0)
        return tr;
    if (text == NULL) {
        *ret_n = 0;
        return 0;
    }
    json_t *arr = json_loadb(text, len, 0, NULL);
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
static int col_read(struct sql_stmt *st, int i, const struct col_map *c, char *rec) {
    void *field = rec + c->offset;
    switch (c->kind) {
    case COL_INT: {
        int64_t v = st->drv->int64(st, i); /* NULL reads as 0 */
        if (c->size == sizeof(int64_t))
            memcpy(field, &v, sizeof(v));
        else {
            int iv = (int)v;
            memcpy(field, &iv, sizeof(iv));
        }
        return 0;
    }
    case COL_BOOL: {
        int b = st->drv->int64(st, i) != 0;
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    case COL_TEXT: return col_copy(st, i, field, c->size);
    case COL_DUP:
        if (c->dflt == NULL && st->drv->is_null(st, i))
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
static int row_read(struct sql_stmt *st, const struct row_map *m, void *rec) {
    if (m->read != NULL)
        return m->read(st, rec);
    /* A map that does not match the statement's columns is a mistake in
     * this backend, like an argument too many. */
    if ((size_t)st->drv->ncols(st) != m->ncols)
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

int sql_get_(struct sql_conn *c, const struct stmt_def *def, const struct row_map *m, size_t size, void *ret,
             const struct sql_arg *args, size_t n) {
    if (m != NULL && (m->size != size || size > ROW_MAX))
        return LK_EINTERNAL;
    struct sql_stmt *st = NULL;
    int r = stmt_bind(c, def, args, n, &st);
    if (r != 0)
        return r;
    int rc = stmt_step(st);
    if (rc == 1 && m != NULL) {
        /* Read aside, so that *ret is written on success only. */
        _Alignas(max_align_t) char rec[ROW_MAX];
        r = row_read(st, m, rec);
        if (r == 0)
            memcpy(ret, rec, size);
    } else if (rc != 1) {
        r = rc == 0 ? LK_ENOTFOUND : rc;
    }
    stmt_done(st);
    return r;
}

int stmt_collect(struct sql_stmt *st, const struct row_map *m, size_t elem, int limit, void **ret_items,
                 size_t *ret_count) {
    char *items = NULL;
    size_t count = 0, cap = 0;
    int rc, r = 0;
    while ((rc = stmt_step(st)) == 1) {
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
    if (rc != 0) {
        r = rc;
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

int sql_list_(struct sql_conn *c, const struct stmt_def *def, const struct row_map *m, size_t elem, int limit,
              void **ret_items, size_t *ret_count, const struct sql_arg *args, size_t n) {
    if (m->size != elem)
        return LK_EINTERNAL;
    struct sql_stmt *st = NULL;
    int r = stmt_bind(c, def, args, n, &st);
    if (r != 0)
        return r;
    r = stmt_collect(st, m, elem, limit, ret_items, ret_count);
    stmt_done(st);
    return r;
}
