/*
 * db.c - the PostgreSQL backend's connection: open (a libpq URI), close,
 * migrations, transactions and savepoints. Durability is the server's
 * (a commit returns once PostgreSQL has it, synchronous_commit as the
 * operator set it), so sync and the checkpoint operations do nothing.
 *
 * One libpq connection per struct store, used by one thread at a time.
 * Never logs (libpq's notices are dropped), and never reads or writes an
 * entity's table: that is src/store/sql/.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errors.h"
#include "store/postgres/pg_internal.h"
#include "store/sql/migrations.h"

/* libpq prints NOTICE and WARNING messages on stderr by default; the
 * server's log is the place for them. */
static void quiet(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/* Runs SQL without parameters (BEGIN, COMMIT, a migration): 0 or an LK_E*
 * code. Several statements may be given at once. */
static int exec(struct pg_store *ps, const char *sql) {
    PGresult *res = PQexec(ps->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_map_error(res);
    PQclear(res);
    return r;
}

/* A transaction's first statement: on a connection the server cut (a
 * restart, a failover), made again and run once more. */
static int exec_first(struct pg_store *ps, const char *sql) {
    PGresult *res = PQexec(ps->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    int again = !ok && pg_conn_lost(ps, res);
    int r = ok ? 0 : pg_map_error(res);
    PQclear(res);
    if (again) {
        /* A half-begun transaction went with the old connection. */
        r = pg_reconnect(ps);
        if (r == 0)
            r = exec(ps, sql);
    }
    return r;
}

int pg_session_setup(struct pg_store *ps) {
    /* Times and text are the store's own (Unix seconds, UTF-8); nothing
     * depends on the server's zone or on the client's locale. */
    return exec(ps, "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on");
}

void pg_close(struct store *s) {
    struct pg_store *ps = ps_of(s);
    if (ps == NULL)
        return;
    stmt_cache_free(&ps->conn);
    PQfinish(ps->pg);
    free(ps);
}

int pg_open(const char *rest, struct store **ret) {
    /* store.c hands over what follows "postgres:"; libpq takes the URI whole. */
    size_t n = strlen(rest);
    if (strncmp(rest, "//", 2) != 0)
        return LK_EINVAL;
    char *uri = malloc(n + sizeof("postgres:"));
    if (uri == NULL)
        return LK_ENOMEM;
    memcpy(uri, "postgres:", sizeof("postgres:") - 1);
    memcpy(uri + sizeof("postgres:") - 1, rest, n + 1);
    struct pg_store *ps = calloc(1, sizeof(*ps));
    int r = 0;
    if (ps == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    ps->conn.base.ops = &store_postgres_ops;
    ps->conn.drv = &pg_driver;
    ps->pg = PQconnectdb(uri);
    if (ps->pg == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    if (PQstatus(ps->pg) != CONNECTION_OK) {
        r = LK_ESTORE;
        goto out;
    }
    PQsetNoticeProcessor(ps->pg, quiet, NULL);
    if ((r = pg_session_setup(ps)) != 0)
        goto out;
    *ret = &ps->conn.base;
    ps = NULL;
out:
    explicit_bzero(uri, n + sizeof("postgres:"));
    free(uri);
    if (ps != NULL)
        pg_close(&ps->conn.base);
    return r;
}

/* --- transactions --------------------------------------------------------- */

int pg_begin(struct store *s) {
    /* Writes are serial across every node (pg_internal.h, PG_LOCK_WRITE):
     * the lock is held until the transaction ends. */
    char sql[96];
    int rv = pg_revive(&ps_of(s)->conn);
    if (rv != 0)
        return rv;
    snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d)", PG_LOCK_WRITE);
    int r = exec_first(ps_of(s), sql);
    if (r != 0)
        exec(ps_of(s), "ROLLBACK");
    return r;
}

int pg_read_begin(struct store *s) {
    /* One snapshot for the whole read, taken by the SELECT (store_impl.h:
     * by the time read_begin returns). */
    int r = pg_revive(&ps_of(s)->conn);
    if (r != 0)
        return r;
    r = exec_first(ps_of(s), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1");
    if (r != 0)
        exec(ps_of(s), "ROLLBACK");
    return r;
}

int pg_commit(struct store *s) {
    struct pg_store *ps = ps_of(s);
    /* A doomed transaction's COMMIT rolls back and says so only in its
     * tag: look first. */
    if (PQtransactionStatus(ps->pg) != PQTRANS_INTRANS) {
        exec(ps, "ROLLBACK");
        return LK_ESTORE;
    }
    return exec(ps, "COMMIT");
}

int pg_rollback(struct store *s) {
    struct pg_store *ps = ps_of(s);
    if (PQtransactionStatus(ps->pg) == PQTRANS_IDLE)
        return 0;
    return exec(ps, "ROLLBACK");
}

int pg_savepoint(struct store *s) {
    return exec(ps_of(s), "SAVEPOINT lk_nested");
}

int pg_release(struct store *s) {
    return exec(ps_of(s), "RELEASE SAVEPOINT lk_nested");
}

int pg_rollback_to(struct store *s) {
    return exec(ps_of(s), "ROLLBACK TO SAVEPOINT lk_nested");
}

/* --- migrations ------------------------------------------------------------ */

static int version_get(struct pg_store *ps, int *ret) {
    static const struct stmt_def def = {.sql = "SELECT COALESCE(MAX(version), 0) FROM schema_version"};
    int64_t v = 0;
    int r = sql_get_(&ps->conn, &def, &row_int64, sizeof(v), &v, NULL, 0);
    if (r != 0)
        return r == LK_ENOTFOUND ? LK_ESTORE : r;
    if (v < 0 || v > INT_MAX)
        return LK_ESTORE;
    *ret = (int)v;
    return 0;
}

/* Applies m in its own transaction unless it is already in force. */
static int migrate_one(struct pg_store *ps, const struct store_migration *m, int *current) {
    static const struct stmt_def def = {
        .sql = "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)"};
    int v = 0;
    int r = exec(ps, "BEGIN");
    if (r != 0)
        return r;
    r = version_get(ps, &v);
    if (r == 0 && v < m->version) {
        r = exec(ps, m->sql);
        if (r == 0)
            r = sql_run(&ps->conn, &def, sql_int(m->version), sql_text(m->name), sql_int((int64_t)time(NULL)));
        v = m->version;
    }
    r = sql_tx_end(&ps->conn, r);
    if (r == 0)
        *current = v;
    return r;
}

/*
 * Several nodes may start at once on a fresh database: a session advisory
 * lock lets one migrate while the others wait, then see the new version
 * and skip.
 */
int pg_migrate(struct store *s, int *ret_version) {
    struct pg_store *ps = ps_of(s);
    char sql[96];
    int current = 0, r;
    for (unsigned i = 0; i < postgres_migrations_count; i++)
        if (postgres_migrations[i].version <= 0 ||
            (i > 0 && postgres_migrations[i].version <= postgres_migrations[i - 1].version))
            return LK_EINTERNAL;
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", PG_LOCK_MIGRATE);
    if ((r = exec(ps, sql)) != 0)
        return r;
    r = exec(ps, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at BIGINT NOT NULL)");
    if (r == 0)
        r = version_get(ps, &current);
    for (unsigned i = 0; r == 0 && i < postgres_migrations_count; i++)
        if (postgres_migrations[i].version > current)
            r = migrate_one(ps, &postgres_migrations[i], &current);
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", PG_LOCK_MIGRATE);
    exec(ps, sql);
    if (r == 0 && ret_version != NULL)
        *ret_version = current;
    return r;
}

/* --- durability: PostgreSQL's own ------------------------------------------ */

int pg_sync(struct store *s) {
    (void)s;
    return 0;
}

int pg_background_writes(struct store *s, int enabled) {
    (void)s;
    (void)enabled;
    return 0;
}

int pg_checkpoint(struct store *s) {
    (void)s;
    return 0;
}

int pg_checkpoint_due(struct store *s) {
    (void)s;
    return 0;
}

int pg_checkpoint_finish(struct store *s) {
    (void)s;
    return 0;
}
