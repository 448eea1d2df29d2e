/*
 * driver.c - PostgreSQL as the SQL layer's driver (sql/sql_internal.h),
 * over libpq.
 *
 * A statement is prepared once per connection (PQprepare, named "lk<N>"),
 * its ?N parameters rewritten as $N (a bare ? as the next number, as SQLite
 * counts them). Parameters go as text, binary ones (bytea) in binary; the
 * first step runs it (PQexecPrepared) and holds the whole result, later
 * steps walk its rows; reset lets the result go. Results are text: integers
 * are parsed, bytea is unescaped from its hex form once per value read.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "store/postgres/pg_internal.h"

#define BYTEA_OID 17
#define INT8_OID 20
#define INT2_OID 21
#define INT4_OID 23

struct pg_stmt {
    struct sql_stmt base;
    struct pg_store *ps;
    char name[16];
    char *sql;  /* as prepared ($N), to prepare it again after a reconnection */
    Oid *types; /* its declared parameter types */
    int ntypes;
    unsigned gen; /* the connection's generation it was prepared in */
    int nparams;
    /* The bound values: params[i] points into args (text) or into
     * nums[i] (an integer as text). */
    const char **params;
    int *lengths;
    int *formats;
    char (*nums)[24];
    PGresult *res;
    int row;                   /* the current row; -1 before the first step */
    int ran;                   /* executed since the last reset */
    size_t change;             /* rows the last run changed */
    unsigned char **unescaped; /* per column, bytea of the current row, or NULL */
    size_t *unescaped_len;
    int ncols;
};

static struct pg_stmt *ps_stmt(struct sql_stmt *st) {
    return (struct pg_stmt *)st;
}

int pg_map_error(const PGresult *res) {
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL)
        return LK_ESTORE;
    if (strcmp(state, "23505") == 0) /* unique_violation */
        return LK_ECONFLICT;
    if (strcmp(state, "23503") == 0) /* foreign_key_violation: the parent is gone */
        return LK_ENOTFOUND;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return LK_EBUSY; /* serialization failure, deadlock, lock not available */
    if (strncmp(state, "53", 2) == 0 && strcmp(state, "53200") == 0)
        return LK_ENOMEM;
    return LK_ESTORE;
}

/*
 * sql with ?N as $N and a bare ? as the next number after the highest so
 * far (SQLite's rule), outside quoted strings and identifiers: a new
 * string, or NULL when out of memory or a number is out of range.
 */
static char *dollar_params(const char *sql) {
    size_t len = strlen(sql);
    char *out = malloc(len * 6 + 1); /* a lone "?" becomes at most "$65535" */
    if (out == NULL)
        return NULL;
    size_t o = 0;
    long highest = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        if (quote != 0 || ch == '\'' || ch == '"' || ch != '?') {
            if (quote != 0 && ch == quote)
                quote = 0;
            else if (quote == 0 && (ch == '\'' || ch == '"'))
                quote = ch;
            out[o++] = ch;
            continue;
        }
        long n = highest + 1;
        if (sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            char *end;
            errno = 0;
            n = strtol(sql + i + 1, &end, 10);
            if (errno != 0 || n < 1 || n > 65535) {
                free(out);
                return NULL;
            }
            i = (size_t)(end - sql) - 1;
        }
        if (n > highest)
            highest = n;
        o += (size_t)snprintf(out + o, 8, "$%ld", n);
    }
    out[o] = '\0';
    return out;
}

static void finalize(struct sql_stmt *st) {
    struct pg_stmt *p = ps_stmt(st);
    if (p == NULL)
        return;
    PQclear(p->res);
    free(p->sql);
    free(p->types);
    free(p->params);
    free(p->lengths);
    free(p->formats);
    free(p->nums);
    free(p->unescaped);
    free(p->unescaped_len);
    free(p);
}

/*
 * Integers and bytea are declared (int8, bytea), so that an integer is
 * never taken for a 4-byte one where only a literal is beside it ("?6 = 0");
 * text is left for the server to infer from where it stands (a column's
 * type, a CAST).
 */
static Oid *param_types(const struct sql_arg *args, size_t n) {
    Oid *types = calloc(n > 0 ? n : 1, sizeof(*types));
    for (size_t i = 0; types != NULL && i < n; i++) {
        int t = args[i].type == SQL_NULL ? (int)args[i].n : (int)args[i].type;
        types[i] = t == SQL_INT ? INT8_OID : t == SQL_BLOB ? BYTEA_OID : 0;
    }
    return types;
}

/* Prepares p on the server, in the connection's current generation;
 * outside a transaction, on a connection the server cut, made again first. */
static int server_prepare(struct pg_stmt *p) {
    struct pg_store *ps = p->ps;
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQprepare(ps->pg, p->name, p->sql, p->ntypes, p->types);
        int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_map_error(res);
        int again = r != 0 && attempt == 0 && !ps->conn.base.in_tx && pg_conn_lost(ps, res);
        PQclear(res);
        if (again && pg_reconnect(ps) == 0)
            continue;
        if (r == 0)
            p->gen = ps->gen;
        return r;
    }
}

static int prepare(struct sql_conn *c, const struct stmt_def *def, const struct sql_arg *args, size_t n,
                   struct sql_stmt **ret) {
    struct pg_store *ps = (struct pg_store *)c;
    char *sql = dollar_params(def->pg != NULL ? def->pg : def->sql);
    Oid *types = param_types(args, n);
    struct pg_stmt *p = calloc(1, sizeof(*p));
    int r = 0;
    if (sql == NULL || types == NULL || p == NULL || n > INT_MAX) {
        r = LK_ENOMEM;
        goto out;
    }
    p->base.drv = &pg_driver;
    p->ps = ps;
    p->row = -1;
    p->sql = sql;
    p->types = types;
    p->ntypes = (int)n;
    sql = NULL;
    types = NULL;
    snprintf(p->name, sizeof(p->name), "lk%u", ps->next_stmt++);
    if ((r = server_prepare(p)) != 0)
        goto out;
    PGresult *res = PQdescribePrepared(ps->pg, p->name);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        r = pg_map_error(res);
        PQclear(res);
        goto out;
    }
    p->nparams = PQnparams(res);
    p->ncols = PQnfields(res);
    PQclear(res);
    size_t np = p->nparams > 0 ? (size_t)p->nparams : 1, nc = p->ncols > 0 ? (size_t)p->ncols : 1;
    p->params = calloc(np, sizeof(*p->params));
    p->lengths = calloc(np, sizeof(*p->lengths));
    p->formats = calloc(np, sizeof(*p->formats));
    p->nums = calloc(np, sizeof(*p->nums));
    p->unescaped = calloc(nc, sizeof(*p->unescaped));
    p->unescaped_len = calloc(nc, sizeof(*p->unescaped_len));
    if (p->params == NULL || p->lengths == NULL || p->formats == NULL || p->nums == NULL || p->unescaped == NULL ||
        p->unescaped_len == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    *ret = &p->base;
    p = NULL;
out:
    free(sql);
    free(types);
    if (p != NULL)
        finalize(&p->base);
    return r;
}

static int bind(struct sql_stmt *st, const struct sql_arg *args, size_t n) {
    struct pg_stmt *p = ps_stmt(st);
    if ((size_t)p->nparams != n)
        return LK_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        const struct sql_arg *a = &args[i];
        p->formats[i] = 0;
        p->lengths[i] = 0;
        switch (a->type) {
        case SQL_NULL: p->params[i] = NULL; break;
        case SQL_TEXT: p->params[i] = a->p; break;
        case SQL_INT:
            snprintf(p->nums[i], sizeof(p->nums[i]), "%lld", (long long)a->n);
            p->params[i] = p->nums[i];
            break;
        case SQL_BLOB:
            p->params[i] = a->p != NULL ? a->p : "";
            p->lengths[i] = (int)a->n;
            p->formats[i] = 1;
            break;
        }
    }
    return 0;
}

static void clear_unescaped(struct pg_stmt *p) {
    for (int i = 0; i < p->ncols; i++) {
        PQfreemem(p->unescaped[i]);
        p->unescaped[i] = NULL;
    }
}

/* Runs p: its result in p->res. Outside a transaction, a connection the
 * server cut (a restart, a failover) is made again and p run once more, so
 * the caller never sees it; inside one, the transaction is lost with it. */
static void run(struct pg_stmt *p) {
    struct pg_store *ps = p->ps;
    for (int attempt = 0;; attempt++) {
        if (p->gen != ps->gen && server_prepare(p) != 0) {
            p->res = NULL; /* fails as a lost connection */
        } else {
            p->res = PQexecPrepared(ps->pg, p->name, p->nparams, p->params, p->lengths, p->formats, 0);
        }
        ExecStatusType status = PQresultStatus(p->res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || attempt > 0 || ps->conn.base.in_tx ||
            !pg_conn_lost(ps, p->res) || pg_reconnect(ps) != 0)
            return;
        PQclear(p->res);
        p->res = NULL;
    }
}

static int step(struct sql_stmt *st) {
    struct pg_stmt *p = ps_stmt(st);
    if (!p->ran) {
        p->ran = 1;
        run(p);
        ExecStatusType status = PQresultStatus(p->res);
        if (status == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(p->res);
            p->change = t[0] != '\0' ? strtoul(t, NULL, 10) : 0;
            return 0;
        }
        if (status != PGRES_TUPLES_OK)
            return pg_map_error(p->res);
        const char *t = PQcmdTuples(p->res); /* INSERT ... RETURNING, UPDATE ... RETURNING */
        p->change = t[0] != '\0' ? strtoul(t, NULL, 10) : 0;
    }
    if (p->res == NULL || PQresultStatus(p->res) != PGRES_TUPLES_OK)
        return 0;
    clear_unescaped(p);
    if (p->row + 1 >= PQntuples(p->res))
        return 0;
    p->row++;
    return 1;
}

static void reset(struct sql_stmt *st) {
    struct pg_stmt *p = ps_stmt(st);
    clear_unescaped(p);
    PQclear(p->res);
    p->res = NULL;
    p->row = -1;
    p->ran = 0;
}

static size_t changes(struct sql_stmt *st) {
    return ps_stmt(st)->change;
}

static int ncols(struct sql_stmt *st) {
    return ps_stmt(st)->ncols;
}

static int is_null(struct sql_stmt *st, int col) {
    struct pg_stmt *p = ps_stmt(st);
    return PQgetisnull(p->res, p->row, col);
}

static int64_t int64(struct sql_stmt *st, int col) {
    struct pg_stmt *p = ps_stmt(st);
    if (PQgetisnull(p->res, p->row, col))
        return 0;
    const char *v = PQgetvalue(p->res, p->row, col);
    if (v[0] == 't' && v[1] == '\0') /* a boolean: EXISTS (...) */
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    return strtoll(v, NULL, 10);
}

static int text(struct sql_stmt *st, int col, const char **out, size_t *len) {
    struct pg_stmt *p = ps_stmt(st);
    *out = NULL;
    *len = 0;
    if (PQgetisnull(p->res, p->row, col))
        return 0;
    *out = PQgetvalue(p->res, p->row, col);
    *len = (size_t)PQgetlength(p->res, p->row, col);
    return 0;
}

static int blob(struct sql_stmt *st, int col, const void **out, size_t *len) {
    struct pg_stmt *p = ps_stmt(st);
    *out = NULL;
    *len = 0;
    if (PQgetisnull(p->res, p->row, col))
        return 0;
    if (PQftype(p->res, col) != BYTEA_OID)
        return LK_ESTORE;
    if (p->unescaped[col] == NULL) {
        p->unescaped[col] =
            PQunescapeBytea((const unsigned char *)PQgetvalue(p->res, p->row, col), &p->unescaped_len[col]);
        if (p->unescaped[col] == NULL)
            return LK_ENOMEM;
    }
    *out = p->unescaped[col];
    *len = p->unescaped_len[col];
    return 0;
}

/* PostgreSQL dooms a transaction at its first error: every later
 * statement fails until it is rolled back. A lost connection ends it. */
static int tx_lost(struct sql_conn *c) {
    PGTransactionStatusType t = PQtransactionStatus(((struct pg_store *)c)->pg);
    return t != PQTRANS_INTRANS && t != PQTRANS_ACTIVE;
}

static int type(struct sql_stmt *st, int col) {
    struct pg_stmt *p = ps_stmt(st);
    if (PQgetisnull(p->res, p->row, col))
        return SQL_NULL;
    switch (PQftype(p->res, col)) {
    case INT8_OID:
    case INT4_OID:
    case INT2_OID: return SQL_INT;
    case BYTEA_OID: return SQL_BLOB;
    default: return SQL_TEXT;
    }
}

/* An identity does not move when a row brings its own seq: set it past
 * the highest (a table without one is left alone). */
static int copied(struct sql_conn *c, const char *table) {
    struct pg_store *ps = (struct pg_store *)c;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('%s', 'seq') AS s, MAX(seq) AS m FROM %s) AS x "
             "WHERE s IS NOT NULL AND m IS NOT NULL",
             table, table);
    PGresult *res = PQexec(ps->pg, sql);
    int r = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : pg_map_error(res);
    PQclear(res);
    return r;
}

int pg_conn_lost(struct pg_store *ps, const PGresult *res) {
    if (PQstatus(ps->pg) == CONNECTION_BAD)
        return 1;
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state != NULL && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                             strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

int pg_reconnect(struct pg_store *ps) {
    PQreset(ps->pg);
    if (PQstatus(ps->pg) != CONNECTION_OK)
        return LK_ESTORE;
    /* The server's prepared statements went with the old connection: each
     * is prepared again at its next use. */
    ps->gen++;
    return pg_session_setup(ps);
}

int pg_revive(struct sql_conn *c) {
    struct pg_store *ps = (struct pg_store *)c;
    return PQstatus(ps->pg) == CONNECTION_OK ? 0 : pg_reconnect(ps);
}

const struct sql_driver pg_driver = {
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
    .revive = pg_revive,
    .type = type,
    .copied = copied,
};
