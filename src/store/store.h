/*
 * store.h - the one interface to persistent state.
 *
 * svc/ talks to the database only through these functions; nothing above
 * this layer sees SQL. A `struct store` is ONE connection and is used by one
 * thread at a time: each worker thread opens its own. Implementations:
 * store_sqlite.c (embedded default). A PostgreSQL implementation plugs in
 * through struct store_ops without touching svc/ or api/.
 *
 * Conventions: every function returns 0 or a negative LK_E* code
 * (LK_ENOTFOUND, LK_ECONFLICT, LK_ESTORE, LK_EBUSY, LK_ENOMEM). Out
 * parameters are only written on success. Strings handed in are copied;
 * strings handed out are owned by the caller and freed with the matching
 * _done() or _free() function. Times are Unix seconds, 0 meaning "none".
 */
#ifndef LK_STORE_STORE_H
#define LK_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/secret.h"
#include "core/tokfmt.h"

struct store;

/* Who a token belongs to. */
#define STORE_OWNER_TYPE_MAX 24 /* "root", "user", "service_account", ... */
#define STORE_OWNER_ID_MAX 64

struct token_rec {
    int64_t seq;                   /* store-assigned, increasing; listing order and cursor */
    char id[TOKFMT_PUBID_BUFSZ];   /* public key id */
    uint8_t hash[SECRET_HASH_LEN]; /* SHA-256 of the whole token */
    char owner_type[STORE_OWNER_TYPE_MAX];
    char owner_id[STORE_OWNER_ID_MAX];
    char org_id[STORE_OWNER_ID_MAX];     /* "" when the owner has no org (root) */
    char created_by[STORE_OWNER_ID_MAX]; /* principal that created it, "type:id" */
    char *description;                   /* owned; may be "" but not NULL after a get */
    char *policies_json;                 /* owned; a JSON array of strings */
    int64_t created_at;
    int64_t expires_at;   /* 0 = never */
    int64_t last_used_at; /* 0 = never */
};

/* Frees what rec owns (not rec itself) and resets the pointers. NULL-safe. */
void token_rec_done(struct token_rec *rec);

/* A list of token records; free with token_list_done(). */
struct token_list {
    struct token_rec *items;
    size_t count;
};
void token_list_done(struct token_list *list);

/* One last-used update for store_token_touch(). */
struct token_touch {
    const char *id;
    int64_t last_used_at;
};

/*
 * Opens a connection. dsn is "sqlite:PATH" (PATH a file, created if missing).
 * Returns 0 and *ret, or LK_EINVAL (unknown scheme) / LK_ESTORE.
 * Does not migrate: call store_migrate() once at start-up.
 */
int store_open(const char *dsn, struct store **ret);

/* Closes the connection (checkpointing where the backend does). NULL-safe. */
void store_close(struct store *s);

/*
 * Applies every embedded migration newer than the stored version, each in
 * its own transaction, recording it in the schema version table.
 * *ret_version (may be NULL) gets the version now in force.
 */
int store_migrate(struct store *s, int *ret_version);

/* Runs fn inside one transaction: commits if fn returns 0, else rolls back
 * and returns fn's code. Nested calls are not supported (LK_EINTERNAL). */
int store_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);

/* --- tokens --------------------------------------------------------------- */

/* Inserts rec (rec->seq is ignored). LK_ECONFLICT if the id exists. */
int store_token_insert(struct store *s, const struct token_rec *rec);

/* Fetches the token with public id. LK_ENOTFOUND if none. */
int store_token_get(struct store *s, const char *id, struct token_rec *ret);

/*
 * Lists tokens of (owner_type, owner_id) with seq > after_seq, in seq order,
 * at most limit (1..1000) of them; LK_EINVAL for a limit outside that range.
 */
int store_token_list(struct store *s, const char *owner_type, const char *owner_id, int64_t after_seq, int limit,
                     struct token_list *ret);

/* Deletes the token with public id. LK_ENOTFOUND if none. */
int store_token_delete(struct store *s, const char *id);

/*
 * Deletes every token of (owner_type, owner_id) except keep_id (may be NULL).
 * *ret_count (may be NULL) gets the number deleted.
 */
int store_token_delete_owner(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                             size_t *ret_count);

/*
 * Raises last_used_at of each listed token to the given time (never lowers
 * it), in one transaction. Unknown ids are skipped silently.
 */
int store_token_touch(struct store *s, const struct token_touch *touches, size_t n);

/* --- server metadata (small key/value settings, e.g. keys) ---------------- */

/* Gets the value of key into *ret (caller frees with free()). LK_ENOTFOUND if unset. */
int store_meta_get(struct store *s, const char *key, char **ret);

/* Sets key to value, replacing any previous value. */
int store_meta_set(struct store *s, const char *key, const char *value);

#endif
