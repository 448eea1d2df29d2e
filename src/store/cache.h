/*
 * cache.h - the read cache's table (cache.c), for the dispatcher only:
 * store.c decides what is cached and when an entry may be used
 * (store.h, "Read cache"); this only keeps copies.
 */
#ifndef LK_STORE_CACHE_H
#define LK_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * 1 and a copy of the entry under key if it was stored with exactly epoch
 * and is younger than the TTL: its fixed part into fixed (which must be
 * flen bytes, as it was stored), its tail into *ret_tail (malloc'd, the
 * caller's; NULL when it has none) and *ret_tlen. 0 otherwise (also when
 * the copy cannot be allocated).
 */
int store_cache_get(struct store_cache *c, const void *key, size_t klen, uint64_t epoch, int64_t now_us, void *fixed,
                    size_t flen, uint8_t **ret_tail, size_t *ret_tlen);

/* Stores a copy of fixed[0..flen) and tail[0..tlen) under key, tagged
 * with epoch and now_us, replacing what key held. Best effort: an entry
 * too large for its share of the budget, or a bucket full of others, is
 * simply not kept. */
void store_cache_put(struct store_cache *c, const void *key, size_t klen, uint64_t epoch, int64_t now_us,
                     const void *fixed, size_t flen, const void *tail, size_t tlen);

#endif
