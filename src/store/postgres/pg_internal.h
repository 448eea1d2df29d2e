/*
 * pg_internal.h - what the files of the PostgreSQL backend share: its
 * connection (struct pg_store, an SQL connection of sql/sql_internal.h,
 * over libpq) and its driver (driver.c). The entities' operations are the
 * SQL backends' shared ones (src/store/sql/); db.c holds the connection's
 * own (open, migrations, transactions). Only src/store/postgres/ includes
 * this. docs/scaling.md says how it is meant to run.
 */
#ifndef LK_STORE_PG_INTERNAL_H
#define LK_STORE_PG_INTERNAL_H

#include <libpq-fe.h>

#include "store/sql/sql_internal.h"

struct pg_store {
    struct sql_conn conn; /* first: a struct store * and a struct sql_conn * are one */
    PGconn *pg;
    unsigned next_stmt; /* names the next prepared statement: "lk<N>" */
    unsigned gen;       /* counts reconnections: a statement prepared in an older one is prepared again */
};

static inline struct pg_store *ps_of(struct store *s) {
    return (struct pg_store *)s;
}

/* The driver the SQL layer runs statements through (driver.c). */
extern const struct sql_driver pg_driver;

/* A failed result's SQLSTATE as an LK_E* code (NULL: the connection failed). */
int pg_map_error(const PGresult *res);

/* The session settings every connection starts with (db.c): 0 or an LK_E* code. */
int pg_session_setup(struct pg_store *ps);

/* Makes ps's connection again if the server went away (driver.c; the
 * driver's revive): 0, or LK_ESTORE while it is out of reach. */
int pg_revive(struct sql_conn *c);

/* 1 when res failed because ps's connection is gone: the socket closed,
 * or the server said so (SQLSTATE 08xxx, or 57P01-57P03 when it was shut
 * down or the session terminated) before libpq noticed. */
int pg_conn_lost(struct pg_store *ps, const PGresult *res);

/* Makes ps's connection again now (PQreset, the session's settings, a new
 * generation): 0 or LK_ESTORE. */
int pg_reconnect(struct pg_store *ps);

/*
 * Advisory lock keys (pg_advisory_xact_lock). Every write transaction of
 * every node takes PG_LOCK_WRITE first, so writes are serial across the
 * cluster as they are in one SQLite file: the audit chain's next seq and
 * every check-then-write rule hold without retries. PG_LOCK_MIGRATE is
 * held (per session) while migrating.
 */
#define PG_LOCK_WRITE 0x6c6b0001   /* "lk" 1 */
#define PG_LOCK_MIGRATE 0x6c6b0002 /* "lk" 2 */

/* The connection's own operations (db.c). */
#define PG_OP_DECLARE_(ret, name, params) ret pg_##name params;
STORE_CONN_OPS(PG_OP_DECLARE_)
#undef PG_OP_DECLARE_

#endif
