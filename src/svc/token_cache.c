/*
 * token_cache.c - sharded, refcounted cache of verified-token metadata.
 *
 * Holds no secrets: only the SHA-256 of each token. Never touches the store
 * itself; the flusher hands batches to a caller-supplied writer. Never
 * inserts an entry loaded before a removal that could cover it (the
 * shard generations, see token_cache.h).
 */
#include "lib/str.h"
#include "svc/token_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define BUCKETS_PER_SHARD 256

struct shard {
    pthread_rwlock_t lock;
    struct token_entry *buckets[BUCKETS_PER_SHARD];
    size_t count;
    /* Removals so far. Changed only under the write lock (with release, so
     * a load that sees the new value also sees what was committed before
     * the removal); read without the lock by token_cache_generation. */
    atomic_ullong gen;
};

struct token_cache {
    struct shard shards[SHARDS];
    size_t max_per_shard;
    int64_t ttl_us;
};

static uint64_t hash_id(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: ids are random, so any mix will do */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct token_entry *token_entry_new(const struct token_rec *rec, int64_t now_us) {
    struct token_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    /* Built once, with a compact copy, so the api layer may embed
     * policies_json in answers as-is. */
    e->policies = json_array();
    for (size_t i = 0; e->policies != NULL && i < rec->npolicies; i++)
        if (json_array_append_new(e->policies, json_string(rec->policies[i])) != 0)
            e->policies = (json_decref(e->policies), NULL);
    e->policies_json = e->policies ? json_dumps(e->policies, JSON_COMPACT) : NULL;
    if (e->policies_json == NULL || e->policies == NULL) {
        json_decref(e->policies);
        free(e->policies_json);
        free(e);
        return NULL;
    }
    atomic_init(&e->refcnt, 1);
    str_copy(e->id, sizeof(e->id), rec->id);
    memcpy(e->hash, rec->hash, sizeof(e->hash));
    str_copy(e->owner_type, sizeof(e->owner_type), rec->owner_type);
    str_copy(e->owner_id, sizeof(e->owner_id), rec->owner_id);
    str_copy(e->org_id, sizeof(e->org_id), rec->org_id);
    e->created_at = rec->created_at;
    e->expires_at = rec->expires_at;
    atomic_init(&e->last_used, rec->last_used_at);
    atomic_init(&e->last_flushed, rec->last_used_at);
    e->loaded_us = now_us;
    return e;
}

void token_entry_set_identity(struct token_entry *e, const char *owner_name, const char *owner_role,
                              const char *org_name, const char *org_status) {
    str_copy(e->owner_name, sizeof(e->owner_name), owner_name);
    str_copy(e->owner_role, sizeof(e->owner_role), owner_role);
    str_copy(e->org_name, sizeof(e->org_name), org_name);
    str_copy(e->org_status, sizeof(e->org_status), org_status);
}

void token_entry_set_team(struct token_entry *e, const char *team_name, uint64_t extra_perms,
                          uint64_t org_extra_perms) {
    str_copy(e->team_name, sizeof(e->team_name), team_name);
    e->extra_perms = extra_perms;
    e->org_extra_perms = org_extra_perms;
}

void token_entry_set_vault(struct token_entry *e, int limited, int acl) {
    e->vault_limited = limited != 0;
    e->vault_acl = acl != 0;
}

void token_entry_ref(struct token_entry *e) {
    atomic_fetch_add_explicit(&e->refcnt, 1, memory_order_relaxed);
}

void token_entry_unref(struct token_entry *e) {
    if (e == NULL)
        return;
    if (atomic_fetch_sub_explicit(&e->refcnt, 1, memory_order_acq_rel) == 1) {
        json_decref(e->policies);
        free(e->policies_json);
        free(e);
    }
}

struct token_cache *token_cache_new(size_t max_entries, int64_t ttl_us) {
    struct token_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    for (int i = 0; i < SHARDS; i++) {
        pthread_rwlock_init(&c->shards[i].lock, NULL);
        atomic_init(&c->shards[i].gen, 0);
    }
    c->max_per_shard = max_entries / SHARDS;
    if (c->max_per_shard == 0)
        c->max_per_shard = 1;
    c->ttl_us = ttl_us;
    return c;
}

void token_cache_free(struct token_cache *c) {
    if (c == NULL)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        for (int b = 0; b < BUCKETS_PER_SHARD; b++) {
            struct token_entry *e = s->buckets[b];
            while (e != NULL) {
                struct token_entry *next = e->next;
                token_entry_unref(e);
                e = next;
            }
        }
        pthread_rwlock_destroy(&s->lock);
    }
    free(c);
}

static struct shard *shard_for(struct token_cache *c, const char *id, struct token_entry ***ret_bucket) {
    uint64_t h = hash_id(id);
    struct shard *s = &c->shards[h % SHARDS];
    *ret_bucket = &s->buckets[(h / SHARDS) % BUCKETS_PER_SHARD];
    return s;
}

struct token_entry *token_cache_get(struct token_cache *c, const char *id, int64_t now_us) {
    struct token_entry **bucket;
    struct shard *s = shard_for(c, id, &bucket);
    struct token_entry *found = NULL;

    pthread_rwlock_rdlock(&s->lock);
    for (struct token_entry *e = *bucket; e != NULL; e = e->next) {
        if (strcmp(e->id, id) == 0) {
            if (now_us - e->loaded_us < c->ttl_us) {
                token_entry_ref(e);
                found = e;
            }
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return found;
}

/* Unlinks and returns the entry with id from bucket, or NULL. Caller holds the write lock. */
static struct token_entry *unlink_id(struct token_entry **bucket, const char *id) {
    for (struct token_entry **pp = bucket; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            struct token_entry *e = *pp;
            *pp = e->next;
            e->next = NULL;
            return e;
        }
    }
    return NULL;
}

static void evict_oldest(struct shard *s) {
    struct token_entry **victim = NULL;
    for (int b = 0; b < BUCKETS_PER_SHARD; b++)
        for (struct token_entry **pp = &s->buckets[b]; *pp != NULL; pp = &(*pp)->next)
            if (victim == NULL || (*pp)->loaded_us < (*victim)->loaded_us)
                victim = pp;
    if (victim == NULL)
        return;
    struct token_entry *e = *victim;
    *victim = e->next;
    s->count--;
    token_entry_unref(e);
}

uint64_t token_cache_generation(struct token_cache *c, const char *id) {
    struct token_entry **bucket;
    struct shard *s = shard_for(c, id, &bucket);
    return atomic_load_explicit(&s->gen, memory_order_acquire);
}

/* Counts a removal in s. Caller holds the write lock. */
static void bump(struct shard *s) {
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
}

int token_cache_put(struct token_cache *c, struct token_entry *e, uint64_t gen) {
    struct token_entry **bucket;
    struct shard *s = shard_for(c, e->id, &bucket);

    pthread_rwlock_wrlock(&s->lock);
    if (atomic_load_explicit(&s->gen, memory_order_relaxed) != gen) {
        /* A removal ran since the caller's reads began: they may predate
         * the change it stands for. */
        pthread_rwlock_unlock(&s->lock);
        return 0;
    }
    token_entry_ref(e);
    struct token_entry *old = unlink_id(bucket, e->id);
    if (old != NULL) {
        s->count--;
        long long used = atomic_load(&old->last_used);
        if (used > atomic_load(&e->last_used))
            atomic_store(&e->last_used, used);
        long long flushed = atomic_load(&old->last_flushed);
        if (flushed > atomic_load(&e->last_flushed))
            atomic_store(&e->last_flushed, flushed);
    }
    if (s->count >= c->max_per_shard)
        evict_oldest(s);
    e->next = *bucket;
    *bucket = e;
    s->count++;
    pthread_rwlock_unlock(&s->lock);
    token_entry_unref(old);
    return 1;
}

static void remove_id(struct token_cache *c, const char *id, int revocation) {
    struct token_entry **bucket;
    struct shard *s = shard_for(c, id, &bucket);

    pthread_rwlock_wrlock(&s->lock);
    struct token_entry *old = unlink_id(bucket, id);
    if (old != NULL)
        s->count--;
    if (revocation)
        bump(s);
    pthread_rwlock_unlock(&s->lock);
    token_entry_unref(old);
}

void token_cache_remove(struct token_cache *c, const char *id) {
    remove_id(c, id, 1);
}

void token_cache_discard(struct token_cache *c, const char *id) {
    remove_id(c, id, 0);
}

static int field_matches(const char *want, const char *have) {
    return want == NULL || strcmp(want, have) == 0;
}

void token_cache_remove_where(struct token_cache *c, const char *org_id, const char *owner_type, const char *owner_id) {
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        struct token_entry *dead = NULL;
        pthread_rwlock_wrlock(&s->lock);
        for (int b = 0; b < BUCKETS_PER_SHARD; b++) {
            struct token_entry **pp = &s->buckets[b];
            while (*pp != NULL) {
                struct token_entry *e = *pp;
                if (field_matches(org_id, e->org_id) && field_matches(owner_type, e->owner_type) &&
                    field_matches(owner_id, e->owner_id)) {
                    *pp = e->next;
                    e->next = dead;
                    dead = e;
                    s->count--;
                } else {
                    pp = &e->next;
                }
            }
        }
        bump(s); /* also with nothing matched: a load in flight may be about to put a match */
        pthread_rwlock_unlock(&s->lock);
        while (dead != NULL) {
            struct token_entry *next = dead->next;
            dead->next = NULL;
            token_entry_unref(dead);
            dead = next;
        }
    }
}

size_t token_cache_count(struct token_cache *c) {
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_rwlock_rdlock(&c->shards[i].lock);
        n += c->shards[i].count;
        pthread_rwlock_unlock(&c->shards[i].lock);
    }
    return n;
}

int token_cache_flush_touches(struct token_cache *c, int (*fn)(void *arg, const struct token_touch *t, size_t n),
                              void *arg) {
    struct token_entry **dirty = NULL;
    struct token_touch *touches = NULL;
    size_t n = 0, cap = 0;
    int r = 0;

    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_rwlock_rdlock(&s->lock);
        for (int b = 0; b < BUCKETS_PER_SHARD; b++) {
            for (struct token_entry *e = s->buckets[b]; e != NULL; e = e->next) {
                if (atomic_load(&e->last_used) <= atomic_load(&e->last_flushed))
                    continue;
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 64;
                    struct token_entry **nd = realloc(dirty, ncap * sizeof(*nd));
                    if (nd == NULL)
                        break;
                    dirty = nd;
                    cap = ncap;
                }
                token_entry_ref(e);
                dirty[n++] = e;
            }
        }
        pthread_rwlock_unlock(&s->lock);
    }
    if (n == 0)
        goto out;

    touches = calloc(n, sizeof(*touches));
    if (touches == NULL) {
        r = -1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        touches[i].id = dirty[i]->id;
        touches[i].last_used_at = atomic_load(&dirty[i]->last_used);
    }
    r = fn(arg, touches, n);
    if (r == 0)
        for (size_t i = 0; i < n; i++)
            atomic_store(&dirty[i]->last_flushed, touches[i].last_used_at);

out:
    for (size_t i = 0; i < n; i++)
        token_entry_unref(dirty[i]);
    free(dirty);
    free(touches);
    return r;
}
