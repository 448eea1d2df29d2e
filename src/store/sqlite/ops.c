/*
 * ops.c - the SQLite backend as store_impl.h wants it: every entity's
 * operations, assembled in one table for store.c's dispatcher (scheme
 * "sqlite", DSN "sqlite:PATH").
 *
 * Holds nothing else: each operation lives in its entity's file.
 */
#include "store/sqlite/sqlite_internal.h"

#define SQLITE_OP_ENTRY_(ret, name, params) .name = sqlite_##name,
const struct store_ops store_sqlite_ops = {.scheme = "sqlite", STORE_OPS(SQLITE_OP_ENTRY_)};
