/*
 * ops.c - the SQLite backend as store_impl.h wants it: the connection's own
 * operations (db.c) and the SQL backends' shared entity operations
 * (src/store/sql/), in one table for store.c's dispatcher (scheme
 * "sqlite", DSN "sqlite:PATH").
 */
#include "store/sqlite/sqlite_internal.h"

#define SQLITE_CONN_ENTRY_(ret, name, params) .name = sqlite_##name,
#define SQL_ENTITY_ENTRY_(ret, name, params) .name = sql_##name,
const struct store_ops store_sqlite_ops = {.scheme = "sqlite",
                                           STORE_CONN_OPS(SQLITE_CONN_ENTRY_) STORE_ENTITY_OPS(SQL_ENTITY_ENTRY_)};
