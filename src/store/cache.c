/*
 * cache.c - the store's read cache (store.h, "Read cache"): copies of rows
 * the hot read paths ask for again and again, each tagged with the change
 * epoch it was read in, shared by every connection given it.
 *
 * An entry is one block: the key, then the value's fixed part (a record
 * struct, copied as bytes), then its tail (a record's owned bytes, such as
 * a sealed value). Readers copy out under the shard's read lock, so an
 * entry is never used after it is replaced; writers take the write lock.
 *
 * Keys carry names chosen by callers (org names, secret paths), so the
 * bucket hash is keyed with a random seed drawn at creation, and no chain
 * grows past CHAIN_MAX: a crafted set of colliding keys costs only misses.
 * Memory is bounded by bytes per shard; the oldest entries go first.
 */
#include "store/cache.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 32
#define BUCKETS 256
#define CHAIN_MAX 8

struct entry {
    struct entry *next;          /* bucket chain */
    struct entry *older, *newer; /* the shard's age list */
    uint64_t hash;
    uint64_t epoch;
    int64_t loaded_us;
    size_t klen, flen, tlen;
    unsigned char data[]; /* key, fixed part, tail */
};

struct shard {
    pthread_rwlock_t lock;
    struct entry *buckets[BUCKETS];
    struct entry *oldest, *newest;
    size_t bytes;
};

struct store_cache {
    struct shard shards[SHARDS];
    uint64_t seed;
    size_t max_bytes_per_shard;
    int64_t ttl_us;
    atomic_ullong hits, misses;
};

struct store_cache *store_cache_new(size_t max_bytes, int64_t ttl_us) {
    if (max_bytes == 0 || ttl_us <= 0)
        return NULL;
    struct store_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (RAND_bytes((unsigned char *)&c->seed, sizeof(c->seed)) != 1) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < SHARDS; i++)
        pthread_rwlock_init(&c->shards[i].lock, NULL);
    c->max_bytes_per_shard = max_bytes / SHARDS > 0 ? max_bytes / SHARDS : 1;
    c->ttl_us = ttl_us;
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    return c;
}

static void unlink_entry(struct shard *sh, struct entry *e) {
    struct entry **pp = &sh->buckets[e->hash % BUCKETS];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        sh->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        sh->newest = e->older;
    sh->bytes -= sizeof(*e) + e->klen + e->flen + e->tlen;
    /* A tail may be a sealed value: ciphertext, but wiped all the same. */
    explicit_bzero(e->data, e->klen + e->flen + e->tlen);
    free(e);
}

void store_cache_free(struct store_cache *c) {
    if (c == NULL)
        return;
    for (int i = 0; i < SHARDS; i++) {
        while (c->shards[i].oldest != NULL)
            unlink_entry(&c->shards[i], c->shards[i].oldest);
        pthread_rwlock_destroy(&c->shards[i].lock);
    }
    free(c);
}

/* FNV-1a over the key, started from the random seed. */
static uint64_t key_hash(const struct store_cache *c, const void *key, size_t klen) {
    uint64_t h = 1469598103934665603ULL ^ c->seed;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static struct entry *find(struct shard *sh, uint64_t h, const void *key, size_t klen) {
    for (struct entry *e = sh->buckets[h % BUCKETS]; e != NULL; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            return e;
    return NULL;
}

int store_cache_get(struct store_cache *c, const void *key, size_t klen, uint64_t epoch, int64_t now_us, void *fixed,
                    size_t flen, uint8_t **ret_tail, size_t *ret_tlen) {
    uint64_t h = key_hash(c, key, klen);
    struct shard *sh = &c->shards[(h >> 32) % SHARDS];
    int hit = 0;
    pthread_rwlock_rdlock(&sh->lock);
    struct entry *e = find(sh, h, key, klen);
    if (e != NULL && e->epoch == epoch && now_us - e->loaded_us < c->ttl_us && e->flen == flen) {
        uint8_t *tail = NULL;
        if (e->tlen > 0)
            tail = malloc(e->tlen);
        if (e->tlen == 0 || tail != NULL) {
            memcpy(fixed, e->data + e->klen, flen);
            if (tail != NULL)
                memcpy(tail, e->data + e->klen + flen, e->tlen);
            *ret_tail = tail;
            *ret_tlen = e->tlen;
            hit = 1;
        }
    }
    pthread_rwlock_unlock(&sh->lock);
    atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return hit;
}

void store_cache_put(struct store_cache *c, const void *key, size_t klen, uint64_t epoch, int64_t now_us,
                     const void *fixed, size_t flen, const void *tail, size_t tlen) {
    size_t size = sizeof(struct entry) + klen + flen + tlen;
    if (size > c->max_bytes_per_shard / 4)
        return; /* one entry never takes more than a quarter of its shard */
    struct entry *e = malloc(size);
    if (e == NULL)
        return;
    e->hash = key_hash(c, key, klen);
    e->epoch = epoch;
    e->loaded_us = now_us;
    e->klen = klen;
    e->flen = flen;
    e->tlen = tlen;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, fixed, flen);
    if (tlen > 0)
        memcpy(e->data + klen + flen, tail, tlen);
    struct shard *sh = &c->shards[(e->hash >> 32) % SHARDS];
    pthread_rwlock_wrlock(&sh->lock);
    struct entry *old = find(sh, e->hash, key, klen);
    if (old != NULL)
        unlink_entry(sh, old);
    size_t chain = 0;
    for (struct entry *x = sh->buckets[e->hash % BUCKETS]; x != NULL; x = x->next)
        chain++;
    if (chain >= CHAIN_MAX) {
        pthread_rwlock_unlock(&sh->lock);
        free(e);
        return;
    }
    while (sh->oldest != NULL && sh->bytes + size > c->max_bytes_per_shard)
        unlink_entry(sh, sh->oldest);
    e->next = sh->buckets[e->hash % BUCKETS];
    sh->buckets[e->hash % BUCKETS] = e;
    e->older = sh->newest;
    e->newer = NULL;
    if (sh->newest != NULL)
        sh->newest->newer = e;
    else
        sh->oldest = e;
    sh->newest = e;
    sh->bytes += size;
    pthread_rwlock_unlock(&sh->lock);
}

void store_cache_stats(struct store_cache *c, struct store_cache_stats *ret) {
    memset(ret, 0, sizeof(*ret));
    ret->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    ret->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &c->shards[i];
        pthread_rwlock_rdlock(&sh->lock);
        for (struct entry *e = sh->oldest; e != NULL; e = e->newer)
            ret->entries++;
        ret->bytes += sh->bytes;
        pthread_rwlock_unlock(&sh->lock);
    }
}
