/*
 * token_cache.h - the in-memory token cache of the hot path.
 *
 * Keyed by public token id. A verified request with a cached token touches
 * no database. Entries are immutable after insertion except for the atomic
 * last_used / last_flushed times, and are refcounted: a request holds a
 * reference for its whole lifetime, so removal never frees an entry in use.
 *
 * Sharing rule: one instance per server, shared by all worker threads. The
 * table is split into shards, each under its own rwlock; lookups take the
 * read lock, put/remove the write lock. Refcounts and times are atomics.
 *
 * Staleness: an entry older than the TTL is treated as absent, so a change
 * made by another process (an operator command, another node) is seen
 * within the TTL. A change made through this process removes the entry at
 * once.
 *
 * Removal races with loading (generations): a worker that misses reads
 * several rows (token, org, owner, team, groups) in separate statements
 * while another worker's transaction may be revoking them. Each shard
 * counts its removals; a loader takes token_cache_generation() before its
 * first read and hands it to token_cache_put(), which inserts only if no
 * removal touched the shard since. token_cache_remove() counts in the id's
 * shard, token_cache_remove_where() in every shard (whether or not anything
 * matched), so removal by owner or org covers loads too. Counting and
 * checking both happen under the shard's write lock, so a put is either
 * refused or ordered before the removal, which then unlinks it.
 *
 * The rule for revokers (svc_cache_remove* in svc.c): remove once the
 * change is made, and again after it commits. The second removal is what
 * makes this safe: a load that began after the first one but read before
 * the commit carries the old rows with a current generation; the
 * post-commit removal either unlinks what it put or makes its put fail.
 * A load whose generation postdates the post-commit removal began its reads
 * after the commit, so it sees the change. Cache hits take no part in this:
 * a hit costs one shard read lock, as before.
 */
#ifndef LK_SVC_TOKEN_CACHE_H
#define LK_SVC_TOKEN_CACHE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct token_entry {
    atomic_int refcnt;
    char id[TOKFMT_PUBID_BUFSZ];
    uint8_t hash[SECRET_HASH_LEN];
    char owner_type[STORE_OWNER_TYPE_MAX];
    char owner_id[STORE_OWNER_ID_MAX];
    char org_id[STORE_OWNER_ID_MAX];
    int64_t created_at;
    int64_t expires_at;                /* 0 = never */
    char *policies_json;               /* owned, immutable */
    json_t *policies;                  /* the same, parsed once; immutable, share with json_incref
                                        * (jansson's refcounts are atomic in Debian's build) */
    char owner_name[STORE_NAME_MAX];   /* username or "root"; set before the entry is shared */
    char owner_role[STORE_STATUS_MAX]; /* a user's org role when loaded; "" otherwise */
    char org_name[STORE_NAME_MAX];     /* "" when the owner has no org */
    char org_status[STORE_STATUS_MAX]; /* the org's status when loaded; "" when no org */
    char team_name[STORE_NAME_MAX];    /* a service account's team; "" otherwise */
    uint64_t extra_perms;              /* a service account's grants within its team (permset_t) */
    uint64_t org_extra_perms;          /* a service account's org-wide grants (org-admin) */
    int vault_limited;                 /* made by the Vault door with num_uses: each use is taken in the store */
    int vault_acl;                     /* made by the Vault door with Vault policies of its own (acl 1) */
    int identity;                      /* an identity token (a JWT verified offline): it calls APIs, and never
                                        * makes a credential (tokens_create_for) */
    char workload[STORE_NAME_MAX];     /* identity: the workload that presented it, "" for the account itself */
    atomic_llong last_used;            /* Unix seconds of the latest verified use */
    atomic_llong last_flushed;         /* last_used as last written to the store */
    int64_t loaded_us;                 /* monotonic time the entry was loaded */
    struct token_entry *next;          /* shard chain; guarded by the shard lock */
};

/* A new entry with refcount 1 built from rec, or NULL on out of memory. */
struct token_entry *token_entry_new(const struct token_rec *rec, int64_t now_us);
/* Fills the identity fields; only before the entry is put into the cache. */
void token_entry_set_identity(struct token_entry *e, const char *owner_name, const char *owner_role,
                              const char *org_name, const char *org_status);
/* A service account's team and granted permissions; only before sharing. */
void token_entry_set_team(struct token_entry *e, const char *team_name, uint64_t extra_perms, uint64_t org_extra_perms);
/* The Vault door's flags of the token (store_vault_token_get): limited
 * uses, Vault policies of its own; only before sharing. */
void token_entry_set_vault(struct token_entry *e, int limited, int acl);
void token_entry_ref(struct token_entry *e);
/* Drops one reference; frees at zero. NULL-safe. */
void token_entry_unref(struct token_entry *e);

struct token_cache;

/* max_entries bounds memory; ttl_us is the staleness bound described above. */
struct token_cache *token_cache_new(size_t max_entries, int64_t ttl_us);
void token_cache_free(struct token_cache *c);

/* A referenced entry for id, or NULL if absent or older than the TTL. */
struct token_entry *token_cache_get(struct token_cache *c, const char *id, int64_t now_us);

/*
 * The removal count of id's shard: take it before the first store read of
 * a load, and pass it to token_cache_put(). Lock-free (one atomic load).
 */
uint64_t token_cache_generation(struct token_cache *c, const char *id);

/*
 * Inserts e (the cache takes its own reference), replacing an entry with the
 * same id, unless a removal ran in e's shard since gen was taken (see
 * "generations" above). The newer entry inherits the older one's last_used
 * if later. When the shard is full, its oldest entry is evicted. Returns 1
 * if e was inserted, 0 if not; either way the caller keeps its reference
 * and may still use e for the request it loaded it for.
 */
int token_cache_put(struct token_cache *c, struct token_entry *e, uint64_t gen);

/* Removes id if present, and counts a removal: loads of id in flight will
 * not be cached. For revocations. */
void token_cache_remove(struct token_cache *c, const char *id);

/* Removes id if present without counting a removal: for an entry found to
 * be gone from the store. Whoever deleted it counted its own removals
 * (svc_cache_remove*), or is another process the TTL bounds; counting here
 * would let unknown tokens keep every load of the shard out of the cache. */
void token_cache_discard(struct token_cache *c, const char *id);

/*
 * Removes every entry matching all the given fields (NULL matches anything):
 * used when an org changes status or an owner is deleted, so the next
 * request re-reads the store. Counts a removal in every shard, so no load in
 * flight anywhere will be cached.
 */
void token_cache_remove_where(struct token_cache *c, const char *org_id, const char *owner_type, const char *owner_id);

/* Number of entries (for tests and metrics; takes every shard lock). */
size_t token_cache_count(struct token_cache *c);

/*
 * Collects every entry whose last_used is newer than what was last flushed
 * and hands the batch to fn (which writes it to a store). If fn returns 0
 * the entries are marked flushed; otherwise they stay dirty for the next
 * call. Returns fn's result, or 0 if nothing was dirty.
 */
int token_cache_flush_touches(struct token_cache *c, int (*fn)(void *arg, const struct token_touch *t, size_t n),
                              void *arg);

#endif
