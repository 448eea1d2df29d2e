/*
 * svc.h - what every use case receives: the calling thread's store
 * connection, the shared caches, and the time of the request.
 *
 * svc never sees HTTP: the api layer builds a struct svc per worker thread
 * and a struct principal per request, and maps the LK_E* codes and
 * struct lk_error messages that come back onto responses.
 */
#ifndef LK_SVC_SVC_H
#define LK_SVC_SVC_H

#include <stdint.h>

struct store;
struct token_cache;
struct ratelimiter;

struct svc {
    struct store *store;          /* this thread's connection; not shared */
    struct token_cache *cache;    /* shared by all threads (see token_cache.h) */
    struct ratelimiter *rl_login; /* shared: login attempts per account; NULL = unlimited */
    int64_t now;                  /* Unix seconds, set once per request */
    int64_t now_us;               /* monotonic microseconds, set once per request */
};

#endif
