/*
 * ratelimiter.h - a table of GCRA states keyed by string (a token id, a
 * client address), shared by all worker threads.
 *
 * Sharing rule: one instance per limit kind per server; the table is split
 * into shards, each under its own mutex held only for one lookup and one
 * rl_check(). Memory is bounded: a full shard first drops keys whose state
 * has fully recovered (equivalent to absent), then its oldest key.
 */
#ifndef LK_SVC_RATELIMITER_H
#define LK_SVC_RATELIMITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/ratelimit.h"

struct ratelimiter;

/* A limiter for policy holding at most max_keys keys; NULL on OOM. */
struct ratelimiter *ratelimiter_new(const struct rl_policy *policy, size_t max_keys);
void ratelimiter_free(struct ratelimiter *rl);

/* The policy this limiter enforces. */
const struct rl_policy *ratelimiter_policy(const struct ratelimiter *rl);

/* Accounts one request for key at now_us; fills ret (see rl_check). */
void ratelimiter_check(struct ratelimiter *rl, const char *key, size_t keylen, int64_t now_us, struct rl_result *ret);

#endif
