/*
 * sqlite_internal.h - what the files of the SQLite backend share: its
 * connection (struct sqlite_store, an SQL connection of sql/sql_internal.h)
 * and its driver (driver.c). The entities' operations are the SQL
 * backends' shared ones (src/store/sql/); db.c holds the connection's own
 * (open, migrations, transactions, durability). Only src/store/sqlite/
 * includes this.
 */
#ifndef LK_STORE_SQLITE_INTERNAL_H
#define LK_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <sys/types.h>

#include "store/sql/sql_internal.h"

struct sqlite_store {
    struct sql_conn conn; /* first: a struct store * and a struct sql_conn * are one */
    sqlite3 *db;
    char *wal_path; /* the database's "-wal" file, for sqlite_sync */
    int wal_fd;     /* open on wal_path, or -1 */
    dev_t wal_dev;
    ino_t wal_ino;
};

static inline struct sqlite_store *ss_of(struct store *s) {
    return (struct sqlite_store *)s;
}

/* The driver the SQL layer runs statements through (driver.c). */
extern const struct sql_driver sqlite_driver;

/* SQLite's result code rc (an error, possibly extended) as an LK_E* code. */
int sqlite_map_rc(int rc);

/* The connection's own operations (db.c). */
#define SQLITE_OP_DECLARE_(ret, name, params) ret sqlite_##name params;
STORE_CONN_OPS(SQLITE_OP_DECLARE_)
#undef SQLITE_OP_DECLARE_

#endif
