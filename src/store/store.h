/*
 * store.h - the one interface to persistent state.
 *
 * svc/ talks to the database only through these functions; nothing above
 * this layer sees SQL. A `struct store` is ONE connection and is used by one
 * thread at a time: each worker thread opens its own. Implementations:
 * src/store/sqlite/ (embedded default). A PostgreSQL implementation plugs in
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

#include "core/audit.h"
#include "core/secret.h"
#include "core/tokfmt.h"

struct store;

/* Who a token belongs to. */
#define STORE_OWNER_TYPE_MAX 24 /* "root", "user", "service_account", ... */
#define STORE_OWNER_ID_MAX 64

/* A token's policies: at most STORE_POLICIES_MAX names ("*", permission or
 * role names), each at most STORE_POLICY_NAME_MAX - 1 bytes. */
#define STORE_POLICIES_MAX 64
#define STORE_POLICY_NAME_MAX 129

struct token_rec {
    int64_t seq;                   /* store-assigned, increasing; listing order and cursor */
    char id[TOKFMT_PUBID_BUFSZ];   /* public key id */
    uint8_t hash[SECRET_HASH_LEN]; /* SHA-256 of the whole token */
    char owner_type[STORE_OWNER_TYPE_MAX];
    char owner_id[STORE_OWNER_ID_MAX];
    char org_id[STORE_OWNER_ID_MAX];         /* "" when the owner has no org (root) */
    char created_by[STORE_OWNER_ID_MAX];     /* principal that created it, "type:id" */
    char *description;                       /* owned; may be "" but not NULL after a get */
    char (*policies)[STORE_POLICY_NAME_MAX]; /* owned; npolicies names, in the order given (NULL: none) */
    size_t npolicies;                        /* at most STORE_POLICIES_MAX */
    int64_t created_at;
    int64_t expires_at;                   /* 0 = never */
    int64_t last_used_at;                 /* 0 = never */
    char replaced_by[TOKFMT_PUBID_BUFSZ]; /* the token a rotation replaced it with; "" if none */
};

/* Frees what rec owns (not rec itself) and resets the pointers. NULL-safe. */
void token_rec_done(struct token_rec *rec);

/*
 * Makes rec->policies an owned copy of names[0..n), freeing what it held:
 * 0, LK_EINVAL (more than STORE_POLICIES_MAX, or a name empty or longer
 * than STORE_POLICY_NAME_MAX - 1 bytes; rec unchanged) or LK_ENOMEM.
 */
int token_rec_set_policies(struct token_rec *rec, const char *const *names, size_t n);

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

/*
 * Copies every row of from into to (`latchkey operator migrate-store`):
 * both open and migrated, to new (no org, token or audit record; its meta
 * is replaced by from's), from read in one snapshot and left unchanged.
 * Rows keep their seq, so cursors and the audit chain are as they were.
 * All of it in one transaction of to's, or nothing. progress (may be NULL)
 * is told each table's name and row count as it is done. 0, LK_ECONFLICT
 * when to is not new, LK_EINVAL when the two are not both SQL stores (or
 * one store twice), LK_EBUSY inside a transaction, or another LK_E* code.
 */
int store_copy(struct store *from, struct store *to, void (*progress)(const char *table, int64_t rows, void *arg),
               void *arg);

/* Runs fn inside one transaction: commits if fn returns 0, else rolls back
 * and returns fn's code. Inside a request transaction (below) it runs as a
 * savepoint of it; other nesting is not supported (LK_EINTERNAL). */
int store_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);

/* Runs fn's reads in one read transaction: they all see the store as it was
 * at the first of them (what other connections commit meanwhile shows after
 * fn), and the backend takes its read locks once instead of once a
 * statement. It takes no write lock and never waits for a writer. fn must
 * not write: every write inside answers LK_EINTERNAL. Inside a transaction
 * or a request (store_request_begin) fn runs as it is, without one of its
 * own. Returns fn's code, or the backend's when it could not begin or end.
 * fn may run twice (the read cache, below, found a row of an older moment
 * than the backend's snapshot): it must pass every store error on, and
 * release what it got before returning one. */
int store_read_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);

/*
 * Request transactions: everything one API request writes commits together
 * with its audit record, or not at all. store_request_begin() opens no
 * transaction yet; the first write through this connection does (so work
 * before it, such as hashing a password, holds no lock). Until
 * store_request_end(), every write and every store_tx() joins it.
 * store_request_active() says whether a write has opened it.
 * store_request_end(s, commit) commits (commit = 1) or rolls back; it
 * returns 0 or the failed commit's code (the transaction is then rolled
 * back). Both are no-ops without a matching begin.
 */
void store_request_begin(struct store *s);
int store_request_active(const struct store *s);
/* In request mode, opens the request's transaction now if no write has (so
 * what is read next cannot change before it is written); else a no-op. */
int store_request_lock(struct store *s);
int store_request_end(struct store *s, int commit);

/*
 * Read cache. The rows nearly every request names first (an organisation
 * by name, a team by name, a member's role in a team) and a secret's row
 * and versions, kept in memory and shared by every connection given the
 * same cache, so that a read served whole from it takes no store lock and
 * makes no query. Sealed values stay sealed in it: it holds what the
 * store holds, never a plaintext.
 *
 * Never stale within this process: every write that changes data counts a
 * change epoch (one for the process, kept by the dispatcher for every
 * connection, cached or not) before its commit and after it, and a cached
 * row counts only if it was read in the current epoch with no commit under
 * way. Writes that change nothing a cached read returns (audit records,
 * their checkpoints, last-use times) do not count, so audited reads keep
 * the cache warm. A connection with a write of its own pending neither
 * reads from nor fills the cache. Changes made by another process or node
 * are seen once an entry is older than ttl_us.
 */
struct store_cache;

struct store_cache_stats {
    uint64_t hits, misses;
    size_t entries, bytes;
};

/* A cache of at most about max_bytes whose entries are trusted for ttl_us;
 * NULL if either is 0 or on out of memory. */
struct store_cache *store_cache_new(size_t max_bytes, int64_t ttl_us);
/* Frees it; no connection may use it any more. NULL-safe. */
void store_cache_free(struct store_cache *c);
/* s reads through c from now on (NULL: through none). */
void store_use_cache(struct store *s, struct store_cache *c);
void store_cache_stats(struct store_cache *c, struct store_cache_stats *ret);

/* --- tokens --------------------------------------------------------------- */

/*
 * Tokens and their expiry notices: an operation here changes tokens and
 * nothing else. Deleting a token (by any operation that deletes tokens,
 * including store_user_delete, store_sa_delete, store_team_delete and
 * store_org_delete) leaves its notices as they are: they outlive the token
 * (store_notice_list shows them with token_exists 0), and cancelling the
 * pending ones is the caller's, through store_notice_cancel_* in the same
 * transaction. Only its retirement from notices (store_notice_retire) goes
 * with it. Shortening an expiry (store_token_set_expiry,
 * store_token_retire) retires nothing and cancels nothing by itself.
 */

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

/* Sets the expiry of the token with public id (0 = never). LK_ENOTFOUND if none. */
int store_token_set_expiry(struct store *s, const char *id, int64_t expires_at);

/* Deletes every token that expired before cutoff (expires_at != 0 and
 * expires_at < cutoff); *ret_count (may be NULL) gets how many. */
int store_token_delete_expired(struct store *s, int64_t cutoff, size_t *ret_count);

/*
 * Marks token id as replaced by the token replaced_by and sets its expiry
 * (0 = never), once: LK_ENOTFOUND if there is no such token or it has been
 * replaced already (a rotation that lost a race).
 */
int store_token_retire(struct store *s, const char *id, const char *replaced_by, int64_t expires_at);

/* Deletes the token with public id. LK_ENOTFOUND if none. */
int store_token_delete(struct store *s, const char *id);

/*
 * Deletes every token of (owner_type, owner_id) except keep_id (may be NULL).
 * *ret_count (may be NULL) gets the number deleted.
 */
int store_token_delete_owner(struct store *s, const char *owner_type, const char *owner_id, const char *keep_id,
                             size_t *ret_count);

/*
 * Deletes every token of (owner_type, owner_id) whose public id starts with
 * id_prefix (one kind of token: "lk_sess_" ends a user's login sessions).
 * *ret_count (may be NULL) gets the number deleted.
 */
int store_token_delete_owner_prefix(struct store *s, const char *owner_type, const char *owner_id,
                                    const char *id_prefix, size_t *ret_count);

/*
 * Raises last_used_at of each listed token to the given time (never lowers
 * it), in one transaction. Unknown ids are skipped silently.
 */
int store_token_touch(struct store *s, const struct token_touch *touches, size_t n);

/* --- organisations ------------------------------------------------------ */

#define STORE_NAME_MAX 64 /* slugs: [a-z0-9][a-z0-9-]{0,62} */
#define STORE_DISPLAY_NAME_MAX 256
#define STORE_EMAIL_MAX 256
#define STORE_STATUS_MAX 16

struct org_rec {
    int64_t seq;                 /* store-assigned; listing order and cursor */
    char id[STORE_OWNER_ID_MAX]; /* stable random id, "org_..." */
    char name[STORE_NAME_MAX];   /* unique slug */
    char display_name[STORE_DISPLAY_NAME_MAX];
    char status[STORE_STATUS_MAX]; /* "pending", "active", "deactivated" */
    int64_t token_expiry_hours;    /* org-wide default and cap, >= 1 */
    int allow_non_expiring_tokens; /* 0 or 1 */
    int notify_short_lived_tokens; /* 0 or 1: expiry notices for tokens born inside the final window (0015) */
    int64_t created_at;
    int64_t updated_at;
    int64_t audit_after; /* store-assigned at insert: the audit chain's head then (migration 0008) */
};

struct org_list {
    struct org_rec *items;
    size_t count;
};
void org_list_done(struct org_list *list);

/* Inserts rec (seq ignored). LK_ECONFLICT if the id or the name exists. */
int store_org_insert(struct store *s, const struct org_rec *rec);

/* By id, or by name. LK_ENOTFOUND if none. */
int store_org_get(struct store *s, const char *id, struct org_rec *ret);
int store_org_get_by_name(struct store *s, const char *name, struct org_rec *ret);

/* Orgs with seq > after_seq in seq order, at most limit (1..1000). */
int store_org_list(struct store *s, int64_t after_seq, int limit, struct org_list *ret);

/* Rewrites display_name, status, token_expiry_hours, allow_non_expiring_tokens
 * and updated_at of the org with rec->id. LK_ENOTFOUND if none. */
int store_org_update(struct store *s, const struct org_rec *rec);

/*
 * Deletes the org with id and, in the same transaction, every user and
 * every token whose org_id is id. LK_ENOTFOUND if none.
 */
int store_org_delete(struct store *s, const char *id);

/* --- users --------------------------------------------------------------- */

struct user_rec {
    int64_t seq;                 /* store-assigned; listing order and cursor */
    char id[STORE_OWNER_ID_MAX]; /* stable random id, "usr_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char username[STORE_NAME_MAX]; /* unique within the org */
    char email[STORE_EMAIL_MAX];
    char *password_hash;         /* owned; NULL = no password (programmatic-only or unset) */
    char role[STORE_STATUS_MAX]; /* org role: "admin" or "member" */
    int programmatic_only;       /* 1 = API keys only, never a password login */
    int64_t token_expiry_hours;  /* per-user setting, 0 = none */
    int64_t created_at;
    int64_t updated_at;
};

/* Frees what rec owns. NULL-safe. */
void user_rec_done(struct user_rec *rec);

struct user_list {
    struct user_rec *items;
    size_t count;
};
void user_list_done(struct user_list *list);

/* Inserts rec (seq ignored). LK_ECONFLICT if the id exists or the username is
 * taken in the org; LK_ENOTFOUND if the org does not exist. */
int store_user_insert(struct store *s, const struct user_rec *rec);

/* By id, or by (org_id, username). LK_ENOTFOUND if none. */
int store_user_get(struct store *s, const char *id, struct user_rec *ret);
int store_user_get_by_name(struct store *s, const char *org_id, const char *username, struct user_rec *ret);

/* Users of org_id with seq > after_seq in seq order, at most limit (1..1000). */
int store_user_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct user_list *ret);

/* Rewrites email, password_hash, role, programmatic_only, token_expiry_hours
 * and updated_at of the user with rec->id. LK_ENOTFOUND if none. */
int store_user_update(struct store *s, const struct user_rec *rec);

/* Deletes the user with id and, in the same transaction, every token owned
 * by ("user", id). LK_ENOTFOUND if none. */
int store_user_delete(struct store *s, const char *id);

/* --- teams ---------------------------------------------------------------- */

#define STORE_DESCRIPTION_MAX 512

struct team_rec {
    int64_t seq;
    char id[STORE_OWNER_ID_MAX]; /* "team_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX]; /* unique in the org */
    char description[STORE_DESCRIPTION_MAX];
    int64_t created_at;
    int64_t updated_at;
};

struct team_list {
    struct team_rec *items;
    size_t count;
};
void team_list_done(struct team_list *list);

struct team_member_rec {
    char user_id[STORE_OWNER_ID_MAX];
    char username[STORE_NAME_MAX];
    char role[STORE_STATUS_MAX]; /* "owner", "member", "viewer" */
    int64_t created_at;
};

struct team_member_list {
    struct team_member_rec *items;
    size_t count;
};
void team_member_list_done(struct team_member_list *list);

/* LK_ECONFLICT if the name is taken in the org; LK_ENOTFOUND if no such org. */
int store_team_insert(struct store *s, const struct team_rec *rec);
/* By (org_id, name). LK_ENOTFOUND if none. */
int store_team_get(struct store *s, const char *org_id, const char *name, struct team_rec *ret);
/* By id. LK_ENOTFOUND if none. */
int store_team_get_by_id(struct store *s, const char *id, struct team_rec *ret);
int store_team_list(struct store *s, const char *org_id, int64_t after_seq, int limit, struct team_list *ret);
/* Rewrites description and updated_at. LK_ENOTFOUND if none. */
int store_team_update(struct store *s, const struct team_rec *rec);
/* Deletes the team, its memberships, its service accounts and their tokens.
 * LK_ENOTFOUND if none. */
int store_team_delete(struct store *s, const char *id);

/* Adds user_id to the team with role, or changes their role. */
int store_team_member_put(struct store *s, const char *team_id, const char *user_id, const char *role, int64_t now);
/* LK_ENOTFOUND if user_id is not a member. */
int store_team_member_delete(struct store *s, const char *team_id, const char *user_id);
/* The member's role into ret_role (STORE_STATUS_MAX). LK_ENOTFOUND if none. */
int store_team_member_role(struct store *s, const char *team_id, const char *user_id, char *ret_role);
/* The distinct roles user_id holds in the org's teams, in name order: the
 * first cap of them into ret_roles, their number (at most cap) into
 * *ret_count. */
int store_team_member_roles(struct store *s, const char *org_id, const char *user_id,
                            char (*ret_roles)[STORE_STATUS_MAX], size_t cap, size_t *ret_count);
/* Where a team's records begin in the audit trail, for audit_filter.teams. */
struct team_scope {
    char name[STORE_NAME_MAX];
    int64_t after;   /* the team's audit_after: its records have seq > after */
    int64_t from_ms; /* the team's created_at, in ms: its records have time_ms >= from_ms */
};

struct team_scope_list {
    struct team_scope *items;
    size_t count;
};
void team_scope_list_done(struct team_scope_list *list);

/* The scopes of the org's teams in which user_id has role, named after
 * `after` (NULL: from the first), in name order, at most limit (1..1000):
 * page on with the last one's name. */
int store_team_scopes_for_member(struct store *s, const char *org_id, const char *user_id, const char *role,
                                 const char *after, int limit, struct team_scope_list *ret);
/* Members in username order, at most 1000. */
int store_team_member_list(struct store *s, const char *team_id, struct team_member_list *ret);

/* --- service accounts ------------------------------------------------------- */

/* Roles granted to a service account or a group: at most this many role
 * names (built-in or custom, slugs of at most STORE_NAME_MAX - 1 bytes). */
#define STORE_ROLES_MAX 8

struct sa_rec {
    int64_t seq;
    char id[STORE_OWNER_ID_MAX]; /* "sa_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char team_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX]; /* unique in the team */
    char description[STORE_DESCRIPTION_MAX];
    char roles[STORE_ROLES_MAX][STORE_NAME_MAX]; /* granted built-in role names, in order */
    size_t nroles;
    int64_t created_at;
    int64_t updated_at;
};

struct sa_list {
    struct sa_rec *items;
    size_t count;
};
void sa_list_done(struct sa_list *list);

/* LK_ECONFLICT if the name is taken in the team; LK_ENOTFOUND if no such team. */
int store_sa_insert(struct store *s, const struct sa_rec *rec);
/* By id, or by (team_id, name). LK_ENOTFOUND if none. */
int store_sa_get(struct store *s, const char *id, struct sa_rec *ret);
int store_sa_get_by_name(struct store *s, const char *team_id, const char *name, struct sa_rec *ret);
int store_sa_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct sa_list *ret);
/* Rewrites description, roles and updated_at. LK_ENOTFOUND if none. */
int store_sa_update(struct store *s, const struct sa_rec *rec);
/* Deletes the service account and, in the same transaction, its tokens. */
int store_sa_delete(struct store *s, const char *id);

/* --- custom roles and groups ---------------------------------------------- */

/* A custom role's permissions: at most this many names (a permission set
 * has 64 bits), each at most STORE_PERMISSION_NAME_MAX - 1 bytes. */
#define STORE_PERMISSIONS_MAX 64
#define STORE_PERMISSION_NAME_MAX 48

struct role_rec {
    int64_t seq;
    char org_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX];
    char permissions[STORE_PERMISSIONS_MAX][STORE_PERMISSION_NAME_MAX]; /* permission names, in order */
    size_t npermissions;
    int64_t created_at;
};

struct role_list {
    struct role_rec *items;
    size_t count;
};
void role_list_done(struct role_list *list);

/* LK_ECONFLICT if the name is taken in the org. */
int store_role_insert(struct store *s, const struct role_rec *rec);
int store_role_get(struct store *s, const char *org_id, const char *name, struct role_rec *ret);
/* Every custom role of the org, by name (at most 1000). */
int store_role_list(struct store *s, const char *org_id, struct role_list *ret);
int store_role_delete(struct store *s, const char *org_id, const char *name);

struct group_rec {
    int64_t seq;
    char id[STORE_OWNER_ID_MAX]; /* "grp_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX];
    char description[STORE_DESCRIPTION_MAX];
    char roles[STORE_ROLES_MAX][STORE_NAME_MAX]; /* role names (built-in or custom), in order */
    size_t nroles;
    int64_t created_at;
};

struct group_list {
    struct group_rec *items;
    size_t count;
};
void group_list_done(struct group_list *list);

/* LK_ECONFLICT if the name is taken in the org. */
int store_group_insert(struct store *s, const struct group_rec *rec);
int store_group_get(struct store *s, const char *org_id, const char *name, struct group_rec *ret);
/* Every group of the org, by name (at most 1000). */
int store_group_list(struct store *s, const char *org_id, struct group_list *ret);
/* The groups user_id belongs to (at most 1000). */
int store_group_list_for_user(struct store *s, const char *user_id, struct group_list *ret);
/* Deletes the group and its memberships. LK_ENOTFOUND if none. */
int store_group_delete(struct store *s, const char *id);
/* Adds user_id to the group (no-op if already in it). */
int store_group_member_put(struct store *s, const char *group_id, const char *user_id, int64_t now);
/* LK_ENOTFOUND if user_id is not a member. */
int store_group_member_delete(struct store *s, const char *group_id, const char *user_id);
/* Names handed out by the store, owned: free with name_list_done(). */
struct name_list {
    char (*items)[STORE_NAME_MAX];
    size_t count;
};
void name_list_done(struct name_list *list);

/* Usernames of the group's members after `after` (NULL: from the first),
 * in username order, at most limit (1..1000): page on with the last one. */
int store_group_member_names(struct store *s, const char *group_id, const char *after, int limit,
                             struct name_list *ret);

/* --- audit trail ----------------------------------------------------------- */

/* The last record's seq and hash: 0 and the genesis hash when empty.
 * Call it inside the write transaction that appends, so the head cannot move. */
int store_audit_head(struct store *s, int64_t *ret_seq, char ret_hash[AUDIT_HASH_HEX]);

/*
 * Makes every transaction committed so far, through any connection to the
 * same store, durable (survives power loss). Commits do not wait for the
 * disk themselves; one store_sync() covers every commit before it, which is
 * what group commit builds on. 0 or LK_ESTORE.
 */
int store_sync(struct store *s);

/*
 * Checkpoints: copying committed work from the log into the database file
 * (SQLite's WAL) costs syncs of its own. store_background_writes(s, 0) makes
 * this connection leave that to others (the connections of event loops
 * must never wait on a disk flush): its commits only note that one is due.
 * store_checkpoint() runs a pass that waits for nobody when one is due, and
 * is a cheap no-op otherwise; store_checkpoint_due() says whether one is
 * (1 or 0, without a system call). A pass that ran beside commits leaves
 * their part of the log behind, and the log can start over only once all
 * of it is copied: store_checkpoint_finish(), called by a committing
 * thread between its commits, copies what the last pass left (a no-op
 * when it left nothing). Backends without such a log treat all four as
 * no-ops.
 */
int store_background_writes(struct store *s, int enabled);
int store_checkpoint(struct store *s);
int store_checkpoint_due(struct store *s);
int store_checkpoint_finish(struct store *s);

/* Appends rec as it is (seq and hashes already set). LK_ECONFLICT if seq
 * exists. rec->prev_hash must be the hash of record seq - 1 (the head it was
 * sealed against): a backend may keep only hash and give prev_hash back from
 * the record before, as the SQLite one does. */
int store_audit_insert(struct store *s, const struct audit_rec *rec);
/* recs[0..n) at once (sealed, in seq order): cheaper per record than one by one. */
int store_audit_insert_many(struct store *s, const struct audit_rec *const *recs, size_t n);

/* Where org ids begin in the trail (migration 0013), in store meta: records
 * with a lower seq were written before records carried them. */
#define STORE_AUDIT_ORG_IDS_FROM_META "audit_org_ids_from"

/* Which records store_audit_list() returns. Empty strings and zeros mean "any". */
struct audit_filter {
    /*
     * org_id: the records filed under that org. Records from before org ids
     * (seq < org_ids_from, no org_id) count as filed under the org named
     * org when their actor is a user, service account or workload of an
     * org of that name (actor_org), or the partner admin naming it (org);
     * anonymous ones under none. A record's team counts (teams) only
     * when its org field is org.
     * Without org_id, org alone selects the records whose org field is that
     * name, whoever held it (the operator's export).
     */
    const char *org_id;
    const char *org;      /* org name */
    int64_t org_ids_from; /* STORE_AUDIT_ORG_IDS_FROM_META; 0: no record predates org ids */
    /* NULL: any team. Else only records of one of teams[0..nteams) (none: no
     * record), each after its scope's seq and time (store_team_scopes_for_member). */
    const struct team_scope *teams;
    size_t nteams;
    const char *actor; /* actor name */
    const char *action;
    const char *outcome;
    int64_t since_ms, until_ms; /* time_ms >= since, time_ms < until */
    int64_t cursor;             /* seq > cursor (ascending) or seq < cursor (descending) */
    int64_t after_seq;          /* seq > after_seq: where the org's scope begins (org_rec.audit_after) */
    int descending;
    int limit;           /* 1..1000 */
    int64_t scan_budget; /* > 0: examine at most about this many records, then stop (audit_list.resume); 0: all */
};

struct audit_list {
    struct audit_rec *items;
    size_t count;
    /* Set when the scan budget ran out before limit records matched: the
     * cursor to go on from (seq > resume ascending, seq < resume descending).
     * 0 when the scan reached the end. */
    int64_t resume;
};
void audit_list_done(struct audit_list *list);

/* Records matching f, in seq order (or reverse). With f->scan_budget the
 * work is bounded whatever the filters: a page may hold fewer than limit
 * records and still have more to come (ret->resume). */
int store_audit_list(struct store *s, const struct audit_filter *f, struct audit_list *ret);

/* --- audit checkpoints (migration 0017; docs/audit.md) ------------------- */

/*
 * A checkpoint vouches for the chain's head at some moment: record seq had
 * hash, and mac is HMAC-SHA256 under the audit key (svc/seal.h) of
 * "<seq>:<hash>". Both as 64 lower-case hex characters. The store keeps
 * them as they are and decides nothing about what they prove.
 */
struct audit_checkpoint {
    int64_t seq;
    char hash[AUDIT_HASH_HEX];
    char mac[AUDIT_HASH_HEX];
    int64_t created_at; /* Unix seconds */
};

struct audit_checkpoint_list {
    struct audit_checkpoint *items;
    size_t count;
};
void audit_checkpoint_list_done(struct audit_checkpoint_list *list);

/* Adds cp (seq >= 1, hash and mac of 64 characters). LK_ECONFLICT if a
 * checkpoint at seq exists. */
int store_audit_checkpoint_insert(struct store *s, const struct audit_checkpoint *cp);

/* The checkpoints with seq > after_seq, oldest first, at most limit
 * (1..1000): page on with the last one's seq. A stored field that is not
 * what this store writes (not 64 characters of text) reads as "", so a
 * checkpoint altered in the file reads and fails its check. */
int store_audit_checkpoint_list(struct store *s, int64_t after_seq, int limit, struct audit_checkpoint_list *ret);

/* --- server metadata (small key/value settings, e.g. keys) ---------------- */

/* Gets the value of key into *ret (caller frees with free()). LK_ENOTFOUND if unset. */
int store_meta_get(struct store *s, const char *key, char **ret);

/* Sets key to value, replacing any previous value. */
int store_meta_set(struct store *s, const char *key, const char *value);

/* Deletes key. LK_ENOTFOUND if unset. */
int store_meta_delete(struct store *s, const char *key);

/* --- expiry notices: the outbox (migrations 0006, 0014; docs/notices.md) -- */

#define STORE_NOTICE_ID_MAX 32
#define STORE_CHANNEL_MAX 16
#define STORE_NOTICE_ERROR_MAX 256

struct notice_rec {
    int64_t seq;
    char id[STORE_NOTICE_ID_MAX]; /* "ntc_...", stable for (token_id, days_before, channel) */
    char token_id[TOKFMT_PUBID_BUFSZ];
    char org_id[STORE_OWNER_ID_MAX]; /* "" for root tokens */
    char owner_type[STORE_OWNER_TYPE_MAX];
    char owner_id[STORE_OWNER_ID_MAX];
    char channel[STORE_CHANNEL_MAX]; /* "email" or "webhook" */
    int days_before;
    int64_t expires_at;              /* the expiry this notice announces */
    char recipient[STORE_EMAIL_MAX]; /* e-mail: the one address; "" for webhooks or nobody */
    char status[STORE_STATUS_MAX];   /* pending, delivered, failed, skipped, cancelled */
    int attempts;
    char last_error[STORE_NOTICE_ERROR_MAX]; /* never holds a secret */
    int64_t next_attempt_at;
    int64_t created_at;
    int64_t updated_at;
    int64_t delivered_at; /* 0 until delivered */
    /* Read-only context filled by the reads below (ignored by writes): */
    char org_name[STORE_NAME_MAX];     /* "" for root tokens or a deleted org */
    char org_status[STORE_STATUS_MAX]; /* "" likewise */
    int token_exists;                  /* 1 while the token row exists */
    int64_t token_expires_at;          /* its current expiry (0 = never or gone) */
};

/* A list of notices; notice_list_done() releases the array. */
struct notice_list {
    struct notice_rec *items;
    size_t count;
};
void notice_list_done(struct notice_list *list);

/* A token that may need a notice: it expires within the horizon. */
struct notice_candidate {
    int64_t seq; /* the token's seq: the cursor */
    char token_id[TOKFMT_PUBID_BUFSZ];
    char owner_type[STORE_OWNER_TYPE_MAX];
    char owner_id[STORE_OWNER_ID_MAX];
    char org_id[STORE_OWNER_ID_MAX];
    int64_t created_at;
    int64_t expires_at;
    int notify_short_lived; /* the org's notify_short_lived_tokens; 0 for root tokens */
};

struct notice_candidate_list {
    struct notice_candidate *items;
    size_t count;
};
void notice_candidate_list_done(struct notice_candidate_list *list);

/*
 * Tokens with now < expires_at <= horizon and seq > after_seq, in seq order,
 * at most limit (1..1000): only tokens of active orgs (or without an org,
 * root), and never a token retired from notices (store_notice_retire).
 */
int store_notice_candidates(struct store *s, int64_t now, int64_t horizon, int64_t after_seq, int limit,
                            struct notice_candidate_list *ret);

/* Schedules rec unless a row for (token_id, days_before, channel, recipient)
 * exists; *ret_inserted (may be NULL) gets 1 if this call inserted it. A
 * webhook notice has recipient "", an e-mail one a row per address. */
int store_notice_insert(struct store *s, const struct notice_rec *rec, int *ret_inserted);

/* Marks every pending notice of token_id with days_before > days as
 * skipped (a more imminent one is due). */
int store_notice_supersede(struct store *s, const char *token_id, int days, int64_t now);

/* Pending notices of channel (NULL = any) with next_attempt_at <= now,
 * oldest due first, at most limit (1..1000). */
int store_notice_due(struct store *s, int64_t now, const char *channel, int limit, struct notice_list *ret);

/*
 * Claims the pending notice id for one delivery attempt: counts the attempt
 * and moves next_attempt_at to lease_until, so no other process picks it up
 * meanwhile and a crash mid-delivery leaves it to be retried then.
 * *ret_claimed gets 1, or 0 if it was not pending and due at now.
 */
int store_notice_claim(struct store *s, const char *id, int64_t now, int64_t lease_until, int *ret_claimed);

/* Writes rec's status, attempts, last_error, next_attempt_at, delivered_at
 * and updated_at to the notice rec->id. LK_ENOTFOUND if none. */
int store_notice_finish(struct store *s, const struct notice_rec *rec);

/* Notices of org_id (NULL = every org) with the given status (NULL = any),
 * seq > after_seq, in seq order, at most limit (1..1000). */
int store_notice_list(struct store *s, const char *org_id, const char *status, int64_t after_seq, int limit,
                      struct notice_list *ret);

/* Deletes notices announcing an expiry before cutoff; *ret_count (may be NULL). */
int store_notice_purge(struct store *s, int64_t cutoff, size_t *ret_count);

/*
 * Cancelling and retiring. Which notices a deleted or shortened token
 * loses, and in what words, is the caller's rule (svc/notices.c); these
 * only do what they are told, and nothing else calls them.
 *
 * Each store_notice_cancel_* sets the *pending* notices of the tokens it
 * names to status "cancelled", last_error reason (at most
 * STORE_NOTICE_ERROR_MAX - 1 bytes, else LK_EINVAL) and updated_at now;
 * notices in any other state are left as they are. *ret_count (may be
 * NULL) gets how many changed. The tokens are named by the notices' own
 * columns (token_id, owner, org_id), so a token deleted already still
 * counts, except where a call says "as they are now": that one reads
 * tokens or service accounts, so call it before deleting them.
 */

/* The notices of token_id. */
int store_notice_cancel_token(struct store *s, const char *token_id, const char *reason, int64_t now,
                              size_t *ret_count);

/* The notices of the tokens of (owner_type, owner_id) whose public id
 * starts with id_prefix (NULL: every one of them). */
int store_notice_cancel_owner(struct store *s, const char *owner_type, const char *owner_id, const char *id_prefix,
                              const char *reason, int64_t now, size_t *ret_count);

/* The notices of the tokens of org org_id (not "": root's tokens have no org). */
int store_notice_cancel_org(struct store *s, const char *org_id, const char *reason, int64_t now, size_t *ret_count);

/* The notices of the tokens of the service accounts of team_id, as they are now. */
int store_notice_cancel_team(struct store *s, const char *team_id, const char *reason, int64_t now, size_t *ret_count);

/* The notices of the tokens that expired before cutoff (expires_at != 0
 * and expires_at < cutoff), as they are now. */
int store_notice_cancel_expired(struct store *s, int64_t cutoff, const char *reason, int64_t now, size_t *ret_count);

/*
 * Retires token_id from notices as of now: store_notice_candidates never
 * lists it again. Once: a token retired already keeps its first time. The
 * retirement belongs to the token and is deleted with it; retiring a token
 * that does not exist does nothing.
 */
int store_notice_retire(struct store *s, const char *token_id, int64_t now);

/*
 * Rescheduling: deletes the notices of token_id that announce an expiry
 * other than expires_at (whatever their state), so that the token's new
 * expiry gets its notices (the outbox key does not hold the expiry).
 * *ret_count (may be NULL) gets how many. For a use case that changes an
 * expiry and keeps the token (a Vault renewal), in its transaction.
 */
int store_notice_forget_token(struct store *s, const char *token_id, int64_t expires_at, size_t *ret_count);

/* --- the Vault door's token attributes (migration 0019; svc/vault_tokens.c) -- */

/*
 * What the Vault door says about a token it made, beside the token's own
 * row (the secret's hash, owner, expiry, latchkey policies), which it
 * follows: deleting a token deletes this too. A token without one is a
 * native token. The store decides nothing about parents: revoking a
 * subtree, orphaning, or what the attributes allow are svc's.
 */
#define STORE_VAULT_DISPLAY_NAME_MAX 257 /* bytes, with the NUL */
#define STORE_VAULT_META_MAX 8192        /* bytes of meta's JSON text */
#define STORE_VAULT_SUBTREE_DEPTH 64     /* levels store_vault_token_subtree follows */

struct vault_token_rec {
    char token_id[TOKFMT_PUBID_BUFSZ];               /* the token's public id (Vault's accessor) */
    char parent_id[TOKFMT_PUBID_BUFSZ];              /* the token that made it; "" for an orphan */
    char display_name[STORE_VAULT_DISPLAY_NAME_MAX]; /* "token-<name>", as Vault shows it */
    char *meta;                                      /* owned: a JSON object of strings, or NULL for none */
    char (*policies)[STORE_POLICY_NAME_MAX];         /* owned; npolicies Vault policy names (NULL: none) */
    size_t npolicies;                                /* at most STORE_POLICIES_MAX */
    int acl;                                         /* 1: held to its Vault policies; 0: latchkey rights only */
    int renewable;                                   /* 0 or 1 */
    int64_t creation_ttl;                            /* seconds, as created */
    int64_t explicit_max_ttl;                        /* seconds from creation; 0 = none */
    int64_t period;                                  /* seconds; 0 = not periodic */
    int64_t num_uses;                                /* as created; 0 = unlimited */
    int64_t uses_left;                               /* what remains of num_uses */
    int64_t last_renewal_at;                         /* Unix seconds; 0 = never renewed */
};

/* Frees what rec owns (not rec itself) and resets the pointers. NULL-safe. */
void vault_token_rec_done(struct vault_token_rec *rec);

/* Makes rec->policies an owned copy of names[0..n), as token_rec_set_policies does. */
int vault_token_rec_set_policies(struct vault_token_rec *rec, const char *const *names, size_t n);

/*
 * Inserts rec for its token (uses_left <= num_uses, meta at most
 * STORE_VAULT_META_MAX bytes; LK_EINVAL otherwise). LK_ENOTFOUND if the
 * token does not exist, LK_ECONFLICT if it has attributes already.
 */
int store_vault_token_insert(struct store *s, const struct vault_token_rec *rec);

/* The attributes of token_id. LK_ENOTFOUND if it has none (a native token, or gone). */
int store_vault_token_get(struct store *s, const char *token_id, struct vault_token_rec *ret);

/*
 * Takes one use of token_id, atomically: of any number of concurrent
 * callers (on any connection) at most uses_left succeed. 0 with what is
 * left in *ret_left; LK_ENOTFOUND if the token has no use left, has
 * unlimited uses (num_uses 0) or no attributes.
 */
int store_vault_token_use(struct store *s, const char *token_id, int64_t *ret_left);

/*
 * The public ids of the tokens below token_id (its children, theirs, ...,
 * at most STORE_VAULT_SUBTREE_DEPTH levels down), deepest first, at most
 * limit (1..1000) of them: deleting them in that order never cuts a later
 * one off from the tree, so a caller deletes a page and asks again.
 */
int store_vault_token_subtree(struct store *s, const char *token_id, int limit, struct name_list *ret);

/* Makes token_id's children orphans (parent_id ""); *ret_count (may be
 * NULL) gets how many. */
int store_vault_token_orphan_children(struct store *s, const char *token_id, size_t *ret_count);

/* Records a renewal of token_id at `at`. LK_ENOTFOUND if it has no attributes. */
int store_vault_token_renewed(struct store *s, const char *token_id, int64_t at);

/* --- secrets (migration 0016; svc/secrets.c) -------------------------------- */

/*
 * A secret is versioned under a path, in a scope: an org's own (team_id
 * "") or one of its teams. The store keeps values opaque: `value` is what
 * the barrier sealed (svc never hands the store a plaintext), NULL for a
 * deletion, which is a version of its own (a tombstone). Versions count
 * from 1 per (scope, path) and are chosen by the caller (the newest + 1,
 * read in the same write transaction); deleting an org or a team deletes
 * its secrets.
 */
#define STORE_SECRET_PATH_MAX 512
#define STORE_SECRET_VALUE_MAX (128 * 1024)
#define STORE_PRINCIPAL_MAX (STORE_OWNER_TYPE_MAX + STORE_OWNER_ID_MAX) /* "type:id" */

struct secret_rec {
    int64_t seq;
    char org_id[STORE_OWNER_ID_MAX];
    char team_id[STORE_OWNER_ID_MAX]; /* "" for an org-wide secret */
    char path[STORE_SECRET_PATH_MAX]; /* a/b/c, checked by svc */
    int64_t version;                  /* >= 1 */
    uint8_t *value;                   /* owned; NULL for a tombstone (and in version listings) */
    size_t value_len;                 /* at most STORE_SECRET_VALUE_MAX */
    int64_t created_at;
    char created_by[STORE_PRINCIPAL_MAX];
};

/* Frees what rec owns (not rec itself). NULL-safe. */
void secret_rec_done(struct secret_rec *rec);

struct secret_list {
    struct secret_rec *items;
    size_t count;
};
void secret_list_done(struct secret_list *list);

struct secret_path_list {
    char (*items)[STORE_SECRET_PATH_MAX];
    size_t count;
};
void secret_path_list_done(struct secret_path_list *list);

/* The newest version of the path in the scope, tombstones included; 0 when
 * it has none. */
int store_secret_latest(struct store *s, const char *org_id, const char *team_id, const char *path,
                        int64_t *ret_version);

/* Inserts rec (seq ignored). LK_ECONFLICT if that version of the path
 * exists; LK_ENOTFOUND if the org or the team does not. */
int store_secret_insert(struct store *s, const struct secret_rec *rec);

/* One version of the path (version 0: the newest), value included.
 * LK_ENOTFOUND if there is none. */
int store_secret_get(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t version,
                     struct secret_rec *ret);

/* The versions kept of the path, newest first, without their values
 * (value NULL; value_len 0 for a tombstone, else the sealed size). */
int store_secret_versions(struct store *s, const char *org_id, const char *team_id, const char *path,
                          struct secret_list *ret);

/* Deletes the versions of the path older than keep_from; *ret_count (may
 * be NULL) gets how many. */
int store_secret_prune(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t keep_from,
                       size_t *ret_count);

/* The paths of the scope that start with prefix ("" for all) and whose
 * newest version is not a tombstone, in byte order, after `after` ("" from
 * the first), at most limit (1..1000). */
int store_secret_paths(struct store *s, const char *org_id, const char *team_id, const char *prefix, const char *after,
                       int limit, struct secret_path_list *ret);

/* Every stored value (tombstones left out), in seq order after after_seq,
 * at most limit (1..1000), values included: for re-encryption. */
int store_secret_scan(struct store *s, int64_t after_seq, int limit, struct secret_list *ret);

/* Replaces the value of the row seq with value[0..len) (the same secret
 * and version, sealed again), if it still holds old[0..old_len): 1 in
 * *ret_changed, else 0 (it was deleted or rewritten meanwhile). */
int store_secret_rewrap(struct store *s, int64_t seq, const uint8_t *old, size_t old_len, const uint8_t *value,
                        size_t len, int *ret_changed);

/* --- Vault ACL policies (migration 0018; svc/vault_policies.c) ------------- */

/*
 * An org's Vault ACL policy: a name unique in the org (checked and
 * lowercased by svc, at most STORE_NAME_MAX - 1 bytes) and the document as
 * written, which the store keeps verbatim and never reads. Deleting an org
 * deletes its policies.
 */
#define STORE_VAULT_POLICY_TEXT_MAX (64 * 1024)

struct vault_policy_rec {
    char org_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX];
    char *text; /* owned, NUL-terminated; at most STORE_VAULT_POLICY_TEXT_MAX bytes */
    int64_t created_at;
    int64_t updated_at;
    char updated_by[STORE_PRINCIPAL_MAX]; /* "type:id" */
};

/* Frees what rec owns (not rec itself). NULL-safe. */
void vault_policy_rec_done(struct vault_policy_rec *rec);

/*
 * Creates the policy, or replaces the text of the one with its name in
 * its org (keeping that one's created_at; updated_at and updated_by are
 * rec's). LK_ENOTFOUND if the org does not exist.
 */
int store_vault_policy_put(struct store *s, const struct vault_policy_rec *rec);

/* The policy name of org_id. LK_ENOTFOUND if there is none. */
int store_vault_policy_get(struct store *s, const char *org_id, const char *name, struct vault_policy_rec *ret);

/* The names of org_id's policies after `after` ("" from the first), in
 * byte order, at most limit (1..1000): page on with the last one. */
int store_vault_policy_names(struct store *s, const char *org_id, const char *after, int limit, struct name_list *ret);

/* LK_ENOTFOUND if org_id has no policy name. */
int store_vault_policy_delete(struct store *s, const char *org_id, const char *name);

/* --- workloads (migration 0020; svc/workloads.c) ----------------------------- */

/*
 * A team's workloads and their bindings to the team's service accounts. A
 * workload's name is unique in its team; a binding joins a workload and a
 * service account of the same team (the store refuses any other pair as
 * not found). Deleting the team, the workload or the service account
 * deletes its bindings in the same statement.
 */
struct workload_rec {
    int64_t seq;
    char id[STORE_OWNER_ID_MAX]; /* "wl_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char team_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX]; /* unique in the team */
    char description[STORE_DESCRIPTION_MAX];
    int64_t created_at;
    char created_by[STORE_PRINCIPAL_MAX]; /* "type:id" */
    int64_t updated_at;
};

struct workload_list {
    struct workload_rec *items;
    size_t count;
};
void workload_list_done(struct workload_list *list);

/* A binding as listings show it: both ids and both names. */
struct workload_binding_rec {
    int64_t seq; /* store-assigned, increasing; listing order and cursor */
    char workload_id[STORE_OWNER_ID_MAX];
    char workload[STORE_NAME_MAX];
    char sa_id[STORE_OWNER_ID_MAX];
    char sa[STORE_NAME_MAX];
    int64_t created_at;
    char created_by[STORE_PRINCIPAL_MAX]; /* "type:id" */
};

struct workload_binding_list {
    struct workload_binding_rec *items;
    size_t count;
};
void workload_binding_list_done(struct workload_binding_list *list);

/* Inserts rec (rec->seq is ignored). LK_ECONFLICT if the name (or the id)
 * is taken; LK_ENOTFOUND if the team does not exist. */
int store_workload_insert(struct store *s, const struct workload_rec *rec);
/* The workload named name in team_id. LK_ENOTFOUND if none. */
int store_workload_get(struct store *s, const char *team_id, const char *name, struct workload_rec *ret);
/* team_id's workloads with seq > after_seq, in seq order, at most limit (1..1000). */
int store_workload_list(struct store *s, const char *team_id, int64_t after_seq, int limit, struct workload_list *ret);
/* Rewrites description and updated_at of the workload rec->id. LK_ENOTFOUND if none. */
int store_workload_update(struct store *s, const struct workload_rec *rec);
/* Deletes the workload and its bindings. LK_ENOTFOUND if none. */
int store_workload_delete(struct store *s, const char *id);

/*
 * Binds workload_id to sa_id, recording created_by ("type:id") and now;
 * a pair already bound keeps its binding as it was. *ret_created (may be
 * NULL) is 1 if this call made the binding, 0 if it was there. LK_ENOTFOUND
 * unless both exist and belong to the same team.
 */
int store_workload_bind(struct store *s, const char *workload_id, const char *sa_id, const char *created_by,
                        int64_t now, int *ret_created);
/* Deletes the binding of workload_id and sa_id. *ret_deleted (may be NULL)
 * is 1 if there was one, else 0 (not an error). */
int store_workload_unbind(struct store *s, const char *workload_id, const char *sa_id, int *ret_deleted);
/* *ret_bound: 1 if workload_id is bound to sa_id now, else 0 (also when
 * either does not exist). Read through this connection, so inside an open
 * transaction it sees that transaction's writes. */
int store_workload_bound(struct store *s, const char *workload_id, const char *sa_id, int *ret_bound);
/* The bindings of workload_id (workload_id set, sa_id NULL) or of sa_id
 * (workload_id NULL), with seq > after_seq, in seq order, at most limit
 * (1..1000). Exactly one of the two ids is given (else LK_EINVAL). */
int store_workload_bindings(struct store *s, const char *workload_id, const char *sa_id, int64_t after_seq, int limit,
                            struct workload_binding_list *ret);

/* --- trusted foreign issuers (migration 0022; svc/federation.c) ------------- */

/*
 * An org's trusted issuers for token exchange (docs/federation.md). The
 * store keeps the rules and the inline JWK set as text: their shape, and
 * that the rules' service accounts exist, are svc/federation.c's checks.
 * A name and an issuer are each unique in the org. Deleting the org
 * deletes its trusted issuers.
 */
#define STORE_URL_MAX 512
#define STORE_AUDIENCE_MAX 512
#define STORE_TRUSTED_JWKS_MAX 16384 /* bytes of an inline JWK set */
#define STORE_TRUSTED_RULES_MAX 8192 /* bytes of the rules' JSON text */

struct trusted_issuer_rec {
    int64_t seq;
    char id[STORE_OWNER_ID_MAX]; /* "ti_..." */
    char org_id[STORE_OWNER_ID_MAX];
    char name[STORE_NAME_MAX];    /* slug, unique in the org */
    char issuer[STORE_URL_MAX];   /* the exact "iss", unique in the org */
    char *jwks;                   /* malloc'd: inline JWK set (at most STORE_TRUSTED_JWKS_MAX - 1 bytes), or "" */
    char jwks_uri[STORE_URL_MAX]; /* or where to fetch it, or "" */
    char audience[STORE_AUDIENCE_MAX];
    char *rules; /* malloc'd: JSON array (at most STORE_TRUSTED_RULES_MAX - 1 bytes) */
    int64_t created_at;
    char created_by[STORE_PRINCIPAL_MAX]; /* "type:id" */
    int64_t updated_at;
};

struct trusted_issuer_list {
    struct trusted_issuer_rec *items;
    size_t count;
};
void trusted_issuer_list_done(struct trusted_issuer_list *list);
/* Frees rec's strings (NULL-safe); a read overwrites them without freeing. */
void trusted_issuer_rec_done(struct trusted_issuer_rec *rec);

/* Inserts rec (rec->seq is ignored). LK_ECONFLICT if its name or issuer is
 * taken in the org (or the id); LK_ENOTFOUND if the org does not exist. */
int store_trusted_issuer_insert(struct store *s, const struct trusted_issuer_rec *rec);
/* The trusted issuer named name in org_id. LK_ENOTFOUND if none. */
int store_trusted_issuer_get(struct store *s, const char *org_id, const char *name, struct trusted_issuer_rec *ret);
/* The trusted issuer of org_id whose issuer is exactly issuer. LK_ENOTFOUND if none. */
int store_trusted_issuer_by_issuer(struct store *s, const char *org_id, const char *issuer,
                                   struct trusted_issuer_rec *ret);
/* org_id's trusted issuers with seq > after_seq, in seq order, at most limit (1..1000). */
int store_trusted_issuer_list(struct store *s, const char *org_id, int64_t after_seq, int limit,
                              struct trusted_issuer_list *ret);
/* Rewrites issuer, jwks, jwks_uri, audience, rules and updated_at of rec->id.
 * LK_ENOTFOUND if none; LK_ECONFLICT if the issuer is another's in the org. */
int store_trusted_issuer_update(struct store *s, const struct trusted_issuer_rec *rec);
/* LK_ENOTFOUND if none. */
int store_trusted_issuer_delete(struct store *s, const char *id);

/* --- identity-token signing keys (migration 0021; svc/oidc.c) --------------- */

/* Most signing keys kept at once (published, pending or not yet deleted). */
#define STORE_OIDC_KEYS_MAX 32
/* Longest sealed private key and public JWK a row holds. */
#define STORE_OIDC_SEALED_MAX 1024
#define STORE_OIDC_JWK_MAX 2048

/*
 * One signing key. The private key is opaque bytes here (sealed by svc
 * before it reaches the store); the times are Unix seconds, retire_after 0
 * while the key has not been superseded (NULL in the store).
 */
struct oidc_key_rec {
    int64_t seq;
    char kid[STORE_NAME_MAX];
    char alg[16];
    uint8_t *private_sealed; /* owned */
    size_t private_sealed_len;
    char *public_jwk; /* owned, JSON */
    int64_t created_at;
    int64_t publish_from;
    int64_t sign_from;
    int64_t retire_after; /* 0 = none yet */
};
/* Frees what rec owns (not rec itself). NULL-safe. */
void oidc_key_rec_done(struct oidc_key_rec *rec);

struct oidc_key_list {
    struct oidc_key_rec *items;
    size_t count;
};
void oidc_key_list_done(struct oidc_key_list *list);

/* Inserts rec (seq and retire_after ignored: a new key is never retired).
 * LK_ECONFLICT if the kid is taken. */
int store_oidc_key_insert(struct store *s, const struct oidc_key_rec *rec);
/* Every key, in seq order (at most STORE_OIDC_KEYS_MAX: the oldest beyond
 * are not returned). */
int store_oidc_key_list(struct store *s, struct oidc_key_list *ret);
/*
 * Sets retire_after on every key but except_kid that has none yet: to now
 * for a key whose sign_from is after now (it never signed), else to
 * retire_after. *ret_changed (may be NULL) gets the number of keys changed.
 */
int store_oidc_key_retire(struct store *s, const char *except_kid, int64_t now, int64_t retire_after,
                          size_t *ret_changed);
/* Deletes every key whose retire_after is set and <= now. */
int store_oidc_key_delete_retired(struct store *s, int64_t now, size_t *ret_deleted);

#endif
