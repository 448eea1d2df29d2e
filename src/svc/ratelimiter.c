/*
 * ratelimiter.c - bounded, sharded key -> GCRA state table.
 *
 * Never allocates per request once a key is known; a key that cannot be
 * stored (OOM) is allowed rather than refused, so a memory shortage never
 * turns into an outage.
 */
#include "svc/ratelimiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_SHARDS 32
/* Room for the longest key used: "org/username" of two 63-byte slugs. */
#define RL_KEY_MAX 136

struct rl_slot {
    char key[RL_KEY_MAX];
    uint8_t keylen;
    uint8_t used;
    struct rl_state state;
    int64_t touched_us;
};

struct rl_shard {
    pthread_mutex_t lock;
    struct rl_slot *slots; /* open addressing, linear probing */
    size_t cap;
    size_t count;
};

struct ratelimiter {
    struct rl_policy policy;
    struct rl_shard shards[RL_SHARDS];
};

static uint64_t hash_key(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

struct ratelimiter *ratelimiter_new(const struct rl_policy *policy, size_t max_keys) {
    struct ratelimiter *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->policy = *policy;
    size_t per = max_keys / RL_SHARDS;
    if (per < 16)
        per = 16;
    /* Every lock first, so a failed allocation below frees only what exists. */
    for (int i = 0; i < RL_SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].lock, NULL);
    /* Capacity is twice the key budget so probes stay short. */
    for (int i = 0; i < RL_SHARDS; i++) {
        rl->shards[i].cap = per * 2;
        rl->shards[i].slots = calloc(per * 2, sizeof(struct rl_slot));
        if (rl->shards[i].slots == NULL) {
            ratelimiter_free(rl);
            return NULL;
        }
    }
    return rl;
}

void ratelimiter_free(struct ratelimiter *rl) {
    if (rl == NULL)
        return;
    for (int i = 0; i < RL_SHARDS; i++) {
        free(rl->shards[i].slots);
        pthread_mutex_destroy(&rl->shards[i].lock);
    }
    free(rl);
}

const struct rl_policy *ratelimiter_policy(const struct ratelimiter *rl) {
    return &rl->policy;
}

/* Rebuilds the shard without recovered keys (tat in the past) or, if none
 * recovered, without its least recently used key. Caller holds the lock. */
static void compact(struct rl_shard *sh, int64_t now_us) {
    size_t live = 0, oldest = SIZE_MAX;
    for (size_t i = 0; i < sh->cap; i++) {
        struct rl_slot *s = &sh->slots[i];
        if (!s->used)
            continue;
        if (s->state.tat_us <= now_us) {
            s->used = 0;
            continue;
        }
        live++;
        if (oldest == SIZE_MAX || s->touched_us < sh->slots[oldest].touched_us)
            oldest = i;
    }
    if (live >= sh->cap / 2 && oldest != SIZE_MAX) {
        sh->slots[oldest].used = 0;
        live--;
    }
    /* Reinsert the survivors so probe chains have no holes. */
    struct rl_slot *old = sh->slots;
    struct rl_slot *fresh = calloc(sh->cap, sizeof(*fresh));
    if (fresh == NULL) {
        sh->count = live; /* holes only cost lookups a miss; acceptable under OOM */
        return;
    }
    for (size_t i = 0; i < sh->cap; i++) {
        if (!old[i].used)
            continue;
        /* The same start slot lookups use, or survivors would be missed and reset. */
        size_t j = (hash_key(old[i].key, old[i].keylen) / RL_SHARDS) % sh->cap;
        while (fresh[j].used)
            j = (j + 1) % sh->cap;
        fresh[j] = old[i];
    }
    free(old);
    sh->slots = fresh;
    sh->count = live;
}

void ratelimiter_check(struct ratelimiter *rl, const char *key, size_t keylen, int64_t now_us, struct rl_result *ret) {
    if (rl->policy.quota == 0) {
        struct rl_state dummy = {0};
        rl_check(&rl->policy, &dummy, now_us, ret);
        return;
    }
    if (keylen > RL_KEY_MAX)
        keylen = RL_KEY_MAX; /* longer than any key latchkey builds; a longer one shares its prefix's bucket */
    uint64_t h = hash_key(key, keylen);
    struct rl_shard *sh = &rl->shards[h % RL_SHARDS];

    pthread_mutex_lock(&sh->lock);
    size_t j = (h / RL_SHARDS) % sh->cap;
    struct rl_slot *slot = NULL;
    for (size_t probe = 0; probe < sh->cap; probe++, j = (j + 1) % sh->cap) {
        struct rl_slot *s = &sh->slots[j];
        if (!s->used)
            break;
        if (s->keylen == keylen && memcmp(s->key, key, keylen) == 0) {
            slot = s;
            break;
        }
    }
    if (slot == NULL) {
        if (sh->count + 1 > sh->cap / 2) {
            compact(sh, now_us);
            j = (h / RL_SHARDS) % sh->cap;
        }
        while (sh->slots[j].used)
            j = (j + 1) % sh->cap;
        slot = &sh->slots[j];
        memset(slot, 0, sizeof(*slot));
        memcpy(slot->key, key, keylen);
        slot->keylen = (uint8_t)keylen;
        slot->used = 1;
        sh->count++;
    }
    slot->touched_us = now_us;
    rl_check(&rl->policy, &slot->state, now_us, ret);
    pthread_mutex_unlock(&sh->lock);
}
