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

#include <stddef.h>
#include <stdint.h>

struct store;
struct token_cache;
struct ratelimiter;

#define SVC_INVALIDATIONS_MAX 8

/* A cache invalidation made during a request transaction, replayed after it commits. */
struct svc_invalidation {
    char token_id[64]; /* "" = by owner/org instead */
    char org_id[64];   /* "" = any */
    char owner_type[24];
    char owner_id[64];
};

struct seal;
struct oidc;
struct federation;

struct svc {
    struct store *store;          /* this thread's connection; not shared */
    struct token_cache *cache;    /* shared by all threads (see token_cache.h) */
    struct ratelimiter *rl_login; /* shared: login attempts per account; NULL = unlimited */
    struct seal *seal;            /* shared: the barrier's keys (svc/seal.h); NULL = no seal (unit tests) */
    struct oidc *oidc;            /* shared: identity-token keys (svc/oidc.h); NULL = none (unit tests) */
    struct federation *fed;       /* shared: the JWKS cache of token exchange (svc/federation.h); NULL = none */
    int secret_versions;          /* versions kept per secret (--secret-versions); 0 = SECRETS_KEEP_VERSIONS */
    int64_t now;                  /* Unix seconds, set once per request */
    int64_t now_us;               /* monotonic microseconds, set once per request */
    /* Invalidations of this request, replayed once its transaction commits:
     * another worker may re-read a row the transaction deleted until then. */
    struct svc_invalidation inval[SVC_INVALIDATIONS_MAX];
    size_t ninval;
    int inval_overflow; /* more than fit: replay drops the whole cache */
};

/*
 * Removes cached tokens (token id; or every entry of org/owner, NULL
 * matching anything) now, and again when svc_cache_replay() runs after the
 * request's transaction commits. Use these, not token_cache_remove*, in svc:
 * without the post-commit removal a worker that read the rows before the
 * commit may cache them (token_cache.h, "generations"). Call them after the
 * change is written and before the request ends; outside a request
 * transaction (start-up, operator commands) nothing runs concurrently.
 */
void svc_cache_remove(struct svc *svc, const char *token_id);
void svc_cache_remove_where(struct svc *svc, const char *org_id, const char *owner_type, const char *owner_id);

/* Applies the recorded invalidations once more and forgets them. */
void svc_cache_replay(struct svc *svc);

/* Forgets the recorded invalidations (the request ended without a commit). */
void svc_cache_forget(struct svc *svc);

/*
 * A store connection of its own for a background job (jobs/), which
 * reaches the store only through svc: opens dsn into *ret. Returns 0 or an
 * LK_E* code. svc_store_close() closes it (NULL-safe).
 */
int svc_store_open(const char *dsn, struct store **ret);
void svc_store_close(struct store *s);

#endif
