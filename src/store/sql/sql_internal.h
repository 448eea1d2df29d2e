/*
 * sql_internal.h - what the SQL backends share (src/store/sql/): every
 * entity's operations, written once as SQL over a driver (SQLite in
 * src/store/sqlite/, PostgreSQL in src/store/postgres/), the statement
 * helper (stmt.c), column maps that read rows into records, and the
 * driver interface each backend implements. Only src/store/sql/ and the
 * drivers include this.
 *
 * Every statement is a static struct stmt_def in the function that binds
 * it (its SQL beside its arguments), prepared once per connection on first
 * use (the cache below, keyed by the definition's address) and reset right
 * after each use. SQL is written with ?1, ?2, ... parameters in the
 * dialect both engines speak; where they differ, the definition carries
 * the PostgreSQL text too (pg), and each driver takes its own.
 */
#ifndef LK_STORE_SQL_INTERNAL_H
#define LK_STORE_SQL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_impl.h"

/* Where a new org or team begins in the audit chain: the head, read inside
 * the inserting transaction (which holds the write lock). */
#define AUDIT_HEAD_SEQ "(SELECT COALESCE(MAX(seq), 0) FROM audit)"

/* A statement: its SQL (parameters ?1, ?2, ... or ?), and PostgreSQL's
 * where it differs (NULL: the same). Static and const, one per statement:
 * the per-connection cache is keyed by its address, so a new statement
 * needs nothing but its definition. */
struct stmt_def {
    const char *sql;
    const char *pg;
};

/* A prepared statement of a driver: each driver's begins with this. */
struct sql_stmt {
    const struct sql_driver *drv;
};

/* The per-connection cache: open addressing on the definition's address. */
#define STMT_CACHE_CAP 512 /* a power of two; at most half of it is used */
struct stmt_cache {
    const struct stmt_def *defs[STMT_CACHE_CAP];
    struct sql_stmt *stmts[STMT_CACHE_CAP];
    size_t used;
};

/* A connection of an SQL backend: each driver's struct begins with this. */
struct sql_conn {
    struct store base; /* first, so a struct store * is a struct sql_conn * */
    const struct sql_driver *drv;
    struct stmt_cache cache;
};

static inline struct sql_conn *sc_of(struct store *s) {
    return (struct sql_conn *)s;
}

struct sql_arg;

/*
 * What a driver does with statements. Every function is given statements
 * of its own driver only. Errors are LK_E* codes (negative).
 */
struct sql_driver {
    /* Prepares def's SQL (or its pg text) on c, for arguments of the types
     * of args[0..n) (those of its first use: a statement's are fixed by its
     * caller): 0 and *ret, or an LK_E* code. */
    int (*prepare)(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
                   struct sql_stmt **ret);
    void (*finalize)(struct sql_stmt *st);
    /* Binds args[0..n) to ?1..?n, borrowed until reset; LK_EINTERNAL when
     * the statement has another number of parameters. */
    int (*bind)(struct sql_stmt *st, const struct sql_arg *args, size_t n);
    /* The next row: 1 (a row), 0 (no more), or an LK_E* code. */
    int (*step)(struct sql_stmt *st);
    /* Ready for its next use; bindings and results let go. */
    void (*reset)(struct sql_stmt *st);
    /* Rows the statement's last run inserted, changed or deleted. */
    size_t (*changes)(struct sql_stmt *st);
    /* The current row's columns. */
    int (*ncols)(struct sql_stmt *st);
    int (*is_null)(struct sql_stmt *st, int col);
    int64_t (*int64)(struct sql_stmt *st, int col); /* NULL reads as 0 */
    /* A text column: 0 with *p and *len (NULL and 0 for NULL), or LK_ENOMEM. */
    int (*text)(struct sql_stmt *st, int col, const char **p, size_t *len);
    /* A binary column: 0 with *p and *len (NULL and 0 for NULL), LK_ESTORE
     * when the column is not binary, or LK_ENOMEM. */
    int (*blob)(struct sql_stmt *st, int col, const void **p, size_t *len);
    /* 1 when c is inside store_tx but the engine has already ended or
     * doomed that transaction after an error (later writes must not run). */
    int (*tx_lost)(struct sql_conn *c);
    /* Outside a transaction, before a statement: a connection to a server
     * that went away (a restart, a failover) is made again (the driver
     * prepares its statements again as they are used). 0, or an LK_E* code
     * when the server is still out of reach. NULL: never needed. */
    int (*revive)(struct sql_conn *c);
    /* The type of column col's value in the current row: SQL_NULL,
     * SQL_INT, SQL_TEXT or SQL_BLOB (copy.c copies values as they are). */
    int (*type)(struct sql_stmt *st, int col);
    /* After rows were inserted into table with their own seq (copy.c): the
     * engine's next seq moved past them. 0 or an LK_E* code. */
    int (*copied)(struct sql_conn *c, const char *table);
};

/* --- the statement helper (stmt.c) ---------------------------------------- */

/*
 * One bound parameter. Made only by the typed constructors below, so the
 * compiler checks every argument's type; the runners check that a statement
 * gets exactly as many as it has parameters.
 */
struct sql_arg {
    enum { SQL_NULL, SQL_TEXT, SQL_INT, SQL_BLOB } type;
    const void *p; /* SQL_TEXT: a string; SQL_BLOB: its bytes */
    /* SQL_INT: the value; SQL_BLOB: the length; SQL_NULL: the type the
     * value has when there is one (a driver that declares types uses it) */
    int64_t n;
};

/* A string; NULL binds NULL. Bound without a copy: it must live until the
 * runner returns (the statement is reset before that). */
static inline struct sql_arg sql_text(const char *s) {
    return (struct sql_arg){s != NULL ? SQL_TEXT : SQL_NULL, s, s != NULL ? 0 : SQL_TEXT};
}

static inline struct sql_arg sql_int(int64_t v) {
    return (struct sql_arg){SQL_INT, NULL, v};
}

/* A time: 0 ("never", "none") binds NULL. */
static inline struct sql_arg sql_time(int64_t t) {
    return (struct sql_arg){t != 0 ? SQL_INT : SQL_NULL, NULL, t != 0 ? t : SQL_INT};
}

static inline struct sql_arg sql_blob(const void *p, int len) {
    return (struct sql_arg){SQL_BLOB, p, len};
}

/* The arguments of a runner call as an array and its length (the second
 * mention is only measured by sizeof, never evaluated). */
#define SQL_ARGS(...)                                                                                                  \
    ((const struct sql_arg[]){__VA_ARGS__}), (sizeof((const struct sql_arg[]){__VA_ARGS__}) / sizeof(struct sql_arg))

/*
 * The cached statement of def, prepared on first use (the tables it names
 * exist only after migration), with args[0..n) bound to ?1..?n: 0 and *ret,
 * or an LK_E* code (the statement reset). After stepping it, the caller
 * hands it back with stmt_done(). For the shapes the runners below do not
 * cover.
 */
int stmt_bind(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
              struct sql_stmt **ret);

/* Finalizes every statement c's cache holds (when c closes). */
void stmt_cache_free(struct sql_conn *c);

/* Makes st ready for its next use; its step result was already taken. */
void stmt_done(struct sql_stmt *st);

/* The next row of st: 1, 0 when there is none, or an LK_E* code. */
static inline int stmt_step(struct sql_stmt *st) {
    return st->drv->step(st);
}

/* Column col of st's current row as an integer (NULL reads as 0). */
static inline int64_t col_int64(struct sql_stmt *st, int col) {
    return st->drv->int64(st, col);
}

/* Steps a statement that returns no rows: 0 or an LK_E* code. */
int stmt_step_done(struct sql_stmt *st);

/* Runs def (no rows); *ret_changes (may be NULL) gets the rows it changed. */
int sql_run_(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n, size_t *ret_changes);
#define sql_run(ss, def, ...) sql_run_((ss), (def), SQL_ARGS(__VA_ARGS__), NULL)
#define sql_run_count(ss, def, ret_changes, ...) sql_run_((ss), (def), SQL_ARGS(__VA_ARGS__), (ret_changes))

/*
 * Runs def, an INSERT of a row that belongs to the row parent_id (an org, a
 * team), once exists says that one is there: LK_ENOTFOUND if it is not, so
 * that an unknown parent reads as "not found", not as a broken constraint.
 */
int sql_insert_under_(struct sql_conn *c, int (*exists)(struct sql_conn *c, const char *id), const char *parent_id,
                      const struct stmt_def *def, const struct sql_arg *args, size_t n);
#define sql_insert_under(ss, exists, parent_id, def, ...)                                                              \
    sql_insert_under_((ss), (exists), (parent_id), (def), SQL_ARGS(__VA_ARGS__))

/* Runs def, an UPDATE or DELETE of one row: LK_ENOTFOUND if it changed none. */
int sql_change_(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n);
#define sql_change(ss, def, ...) sql_change_((ss), (def), SQL_ARGS(__VA_ARGS__))

/* --- reading rows ------------------------------------------------------------ */

/* How one column reads into a record field. */
enum col_kind {
    COL_INT,  /* an int or int64_t (NULL reads as 0) */
    COL_BOOL, /* an int, 0 or 1 */
    COL_TEXT, /* a char array; NULL reads as "", too long as an error */
    COL_DUP,  /* a char *, malloc'd; NULL reads as dflt (dflt NULL: stays NULL) */
    COL_BLOB, /* a uint8_t array, exactly its size */
    /* a uint8_t *, malloc'd, and its size_t length beside it, at most cap
     * bytes; NULL reads as NULL and 0: */
    COL_BYTES_DUP,
    /* A list of names (store.h's typed lists), kept in the column as a JSON
     * array of strings; NULL reads as none, anything else as LK_ESTORE: */
    COL_NAMES,     /* into a char[cap][size] array and its size_t count */
    COL_NAMES_DUP, /* into a malloc'd char (*)[size] (NULL when none) and its size_t count, at most cap */
};

struct col_map {
    enum col_kind kind;
    size_t offset;
    size_t size; /* of the field; of one name for COL_NAMES* */
    const char *dflt;
    size_t count_offset; /* COL_NAMES*, COL_BYTES_DUP: the size_t count beside the names, or the length */
    size_t cap;          /* COL_NAMES*: the most names the field takes; COL_BYTES_DUP: the most bytes */
};

/*
 * The column maps, each checking the field's type at compile time: a
 * _Generic with no matching association does not compile.
 */
#define MAP_FIELD_(T, f) (((T *)0)->f)
#define MAP_INT(T, f)                                                                                                      \
    {                                                                                                                      \
        COL_INT, offsetof(T, f), _Generic(&MAP_FIELD_(T, f), int * : sizeof(int), int64_t * : sizeof(int64_t)), NULL, 0, 0 \
    }
#define MAP_BOOL(T, f)                                                                                                 \
    { COL_BOOL, offsetof(T, f), _Generic(&MAP_FIELD_(T, f), int * : sizeof(int)), NULL, 0, 0 }
/* A field that is an array of elem, exactly. */
#define MAP_ARRAY_(kind, elem, T, f)                                                                                   \
    {                                                                                                                  \
        kind, offsetof(T, f),                                                                                          \
            _Generic(&MAP_FIELD_(T, f), elem(*)[sizeof(MAP_FIELD_(T, f))]                                              \
                     : sizeof(MAP_FIELD_(T, f))),                                                                      \
            NULL, 0, 0                                                                                                 \
    }
#define MAP_TEXT(T, f) MAP_ARRAY_(COL_TEXT, char, T, f)
#define MAP_DUP(T, f, dflt)                                                                                            \
    { COL_DUP, offsetof(T, f), _Generic(&MAP_FIELD_(T, f), char ** : sizeof(char *)), (dflt), 0, 0 }
#define MAP_BLOB(T, f) MAP_ARRAY_(COL_BLOB, uint8_t, T, f)
/* f: uint8_t *f, malloc'd; n its size_t length, at most max bytes. */
#define MAP_BYTES_DUP(T, f, n, max)                                                                                               \
    {                                                                                                                             \
        COL_BYTES_DUP, offsetof(T, f), _Generic(&MAP_FIELD_(T, f), uint8_t ** : sizeof(uint8_t *)), NULL, MAP_COUNT_(T, n), (max) \
    }
/* The size_t count n of a list of names. */
#define MAP_COUNT_(T, n) _Generic(&MAP_FIELD_(T, n), size_t * : offsetof(T, n))
/* f: char f[CAP][W], exactly; n its count. */
#define MAP_NAMES(T, f, n)                                                                                             \
    {                                                                                                                  \
        COL_NAMES, offsetof(T, f),                                                                                     \
            _Generic(&MAP_FIELD_(T, f),                                                                                \
                     char(*)[sizeof(MAP_FIELD_(T, f)) / sizeof(MAP_FIELD_(T, f)[0])][sizeof(MAP_FIELD_(T, f)[0])]      \
                     : sizeof(MAP_FIELD_(T, f)[0])),                                                                   \
            NULL, MAP_COUNT_(T, n), sizeof(MAP_FIELD_(T, f)) / sizeof(MAP_FIELD_(T, f)[0])                             \
    }
/* f: char (*f)[W], malloc'd; n its count, at most max. */
#define MAP_NAMES_DUP(T, f, n, max)                                                                                    \
    {                                                                                                                  \
        COL_NAMES_DUP, offsetof(T, f),                                                                                 \
            _Generic(&MAP_FIELD_(T, f), char(**)[sizeof(*MAP_FIELD_(T, f))]                                            \
                     : sizeof(*MAP_FIELD_(T, f))),                                                                     \
            NULL, MAP_COUNT_(T, n), (max)                                                                              \
    }

/* Largest record a single-row read holds while it is read (store.h: out
 * parameters are only written on success). */
#define ROW_MAX 4096

/*
 * How a row reads into a record: by its columns, in the order the statement
 * selects them, or (read) by a function, for reads a column map cannot say
 * (audit.c). read returns 0 or an LK_E* code, leaving nothing owned on
 * failure.
 */
struct row_map {
    size_t size; /* of the record */
    const struct col_map *cols;
    size_t ncols;
    int (*read)(struct sql_stmt *st, void *ret);
};
#define ROW_MAP(T, cols)                                                                                               \
    { sizeof(T) + 0 * sizeof(char[sizeof(T) <= ROW_MAX ? 1 : -1]), (cols), sizeof(cols) / sizeof((cols)[0]), NULL }

/* One TEXT column into a char * (malloc'd): NULL reads as "[]" (row_json,
 * for JSON arrays SQL builds) or "" (row_string). */
extern const struct row_map row_json;
extern const struct row_map row_string;
/* One INTEGER column into an int64_t. */
extern const struct row_map row_int64;

/* Frees the COL_DUP fields of rec (a record of m) and sets them to NULL. */
void row_free(const struct row_map *m, void *rec);

/*
 * Runs def and reads its first row into *ret by m (NULL: only whether there
 * is one): 0, LK_ENOTFOUND when there is no row, or another LK_E* code with
 * *ret untouched. size is sizeof(*ret), checked against m.
 */
int sql_get_(struct sql_conn *c, const struct stmt_def *def, const struct row_map *m, size_t size, void *ret,
             const struct sql_arg *args, size_t n);
#define sql_get(ss, def, m, ret, ...) sql_get_((ss), (def), (m), sizeof(*(ret)), (ret), SQL_ARGS(__VA_ARGS__))
#define sql_exists(ss, def, ...) sql_get_((ss), (def), NULL, 0, NULL, SQL_ARGS(__VA_ARGS__))

/*
 * Steps st (bound) to its end, reading each row by m into a new array of
 * elem-byte records, at most limit of them (its LIMIT bounds the rows: more
 * means a broken query). On success hands the array and its length out; on
 * failure frees what was read and leaves the outputs alone.
 */
int stmt_collect(struct sql_stmt *st, const struct row_map *m, size_t elem, int limit, void **ret_items,
                 size_t *ret_count);

/* Runs def and reads every row by m into list (a struct *_list): its items
 * and count are set on success only. */
int sql_list_(struct sql_conn *c, const struct stmt_def *def, const struct row_map *m, size_t elem, int limit,
              void **ret_items, size_t *ret_count, const struct sql_arg *args, size_t n);
#define sql_list(ss, def, m, limit, list, ...)                                                                         \
    sql_list_((ss), (def), (m), sizeof(*(list)->items), (limit), (void **)&(list)->items, &(list)->count,              \
              SQL_ARGS(__VA_ARGS__))

/* Copies a TEXT column into buf (cap bytes); NULL reads as "". LK_ESTORE if
 * it does not fit or holds a NUL. */
int col_copy(struct sql_stmt *st, int col, char *buf, size_t cap);

/*
 * names[0..n), rows of width bytes each holding a string, as the JSON text
 * COL_NAMES* read back (an array of strings, compact): 0 and *ret
 * (malloc'd), or LK_ENOMEM. Bind it with sql_text and free it after.
 */
int names_json(const char *names, size_t width, size_t n, char **ret);

/* --- the operations ---------------------------------------------------------- */

/*
 * Every entity operation of store_impl.h as sql_<name>, each in its
 * entity's file (sql_token_* in tokens.c, sql_org_*
 * in orgs.c, ...); ops.c tables them.
 */
#define SQL_OP_DECLARE_(ret, name, params) ret sql_##name params;
STORE_ENTITY_OPS(SQL_OP_DECLARE_)
#undef SQL_OP_DECLARE_

/* --- shared between the files --------------------------------------------- */

/* Begins a transaction of the backend's own (its begin op). */
int sql_begin(struct sql_conn *c);

/* Ends a transaction the backend began itself: commits if r is 0, else (or
 * if the commit fails) rolls back. Returns r or the commit's code. */
int sql_tx_end(struct sql_conn *c, int r);

/*
 * Deletes the rows that depend on the row id with dep (one parameter, id),
 * then the row with del, in one transaction (the caller's, or one of its
 * own). LK_ENOTFOUND if del deleted nothing.
 */
int sql_delete_with(struct store *s, const struct stmt_def *dep, const struct stmt_def *del, const char *id);

/* 0 if the org (orgs.c) or team (teams.c) exists, LK_ENOTFOUND if not, or
 * another LK_E* code. */
int sql_org_exists(struct sql_conn *c, const char *org_id);
int sql_team_exists(struct sql_conn *c, const char *team_id);

#endif
