/*
 * ops.c - the PostgreSQL backend as store_impl.h wants it: the connection's
 * own operations (db.c) and the SQL backends' shared entity operations
 * (src/store/sql/), in one table for store.c's dispatcher (scheme
 * "postgres", DSN "postgres://[user@]host[:port]/db?..." as libpq takes it).
 */
#include "store/postgres/pg_internal.h"

#define PG_CONN_ENTRY_(ret, name, params) .name = pg_##name,
#define SQL_ENTITY_ENTRY_(ret, name, params) .name = sql_##name,
const struct store_ops store_postgres_ops = {.scheme = "postgres",
                                             STORE_CONN_OPS(PG_CONN_ENTRY_) STORE_ENTITY_OPS(SQL_ENTITY_ENTRY_)};
