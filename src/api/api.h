/*
 * api.h - the REST front door: routing, JSON in/out, the error envelope,
 * ?help=1, credential extraction, rate limits and the access log.
 *
 * What the server wires to the network layer: one struct api_ctx per
 * worker thread (its svc, access-log buffer, request ids and the answers
 * it holds for the audit writer), and the calls net makes on that thread.
 * The api layer never opens the store and never sees the server's globals:
 * it is given an api_config and a ready struct svc.
 */
#ifndef LK_API_API_H
#define LK_API_API_H

#include <h2o.h>
#include <stddef.h>
#include <stdio.h>

#include "core/ratelimit.h"

struct lk_error;
struct svc;
struct ratelimiter;
struct audit_log;
struct netaddr_cidrs;
struct origin_list;
struct api_asset_cache;

/*
 * What the api layer reads of the server: set before any worker starts,
 * read-only afterwards. The objects pointed to are shared by every worker
 * by design, each with its locking rule in its own header.
 */
struct api_config {
    size_t max_body;                             /* bytes; larger bodies answer 413 */
    int access_log;                              /* 1 = JSON access log on stderr */
    int audit_sync_reads;                        /* reads wait for their audit record to be durable */
    int https;                                   /* the listener serves TLS (the session cookie is Secure) */
    struct rl_policy rl_ip;                      /* per client address; quota 0 = off */
    struct rl_policy rl_token;                   /* per token; quota 0 = off */
    const struct netaddr_cidrs *trusted_proxies; /* peers whose X-Forwarded-For and -Proto are believed */
    const struct origin_list *allowed_origins;   /* besides the server's own (csrf.c) */
    struct ratelimiter *limit_ip;                /* shared: see svc/ratelimiter.h */
    struct ratelimiter *limit_token;             /* shared */
    struct ratelimiter *limit_login_ip;          /* shared */
    struct ratelimiter *limit_signup;            /* shared */
    struct audit_log *audit;                     /* shared: see svc/audit.h */
    const char *vault_default_org;               /* the Vault door's org when none is named; "" = none */
    const char *public_url;                      /* --public-url (the identity-token issuer); "" = from the request */
    struct api_asset_cache *assets;              /* shared: see api/assets.h; NULL = inflate per request */
};

/* One worker thread's api state; used by that thread only. */
struct api_ctx;

/*
 * Makes worker idx's context over cfg (which must outlive it) and svc (its
 * own store connection, the shared cache and login limiter; copied, the
 * store stays the caller's to close). Called on the main thread before the
 * worker starts. 0, or -1 after logging why.
 */
int api_ctx_new(const struct api_config *cfg, int idx, const struct svc *svc, struct api_ctx **ret);

/* Flushes the access log and frees ctx, after its worker has stopped. Accepts NULL. */
void api_ctx_free(struct api_ctx *ctx);

/*
 * On the worker's thread, once its loop and multithread queue exist:
 * registers for the audit writer's answers and starts the access log's
 * flush timer. 0 or -1.
 */
int api_ctx_start(struct api_ctx *ctx, h2o_evloop_t *loop, h2o_multithread_queue_t *queue);

/* The worker's connections are drained: stops the flush timer and flushes. */
void api_ctx_drained(struct api_ctx *ctx);

/* After the audit writer has stopped, on the worker's thread: delivers its
 * last answers, drops replies still held and unregisters. */
void api_ctx_stop(struct api_ctx *ctx);

/* Every request net routes here. Always answers; returns 0. */
int api_handle(struct api_ctx *ctx, h2o_req_t *req);

/* Answers req with e (its status and message) without running any step of
 * the pipeline: for a request the network layer refuses before routing
 * (framing), still with the errors envelope, X-Request-Id, the access log
 * and an audit record. */
void api_refuse(struct api_ctx *ctx, h2o_req_t *req, const struct lk_error *e);

/*
 * h2o answers a few requests itself, before any handler runs: a body over
 * --max-body (refused as soon as Content-Length says so, or once a chunked
 * body passes the limit, so nothing over it is buffered) and broken body
 * framing. Those answers pass through the host's fallback path; its filter
 * calls this from on_setup_ostream to make them latchkey answers: the
 * errors envelope, X-Request-Id, the access log and an audit record. When
 * framing is not NULL the request's framing is at fault (net/framing.h):
 * the answer is a 400 with that message instead of h2o's.
 */
void api_h2o_answer(struct api_ctx *ctx, h2o_req_t *req, h2o_ostream_t **slot, const struct lk_error *framing);

/* Prints every route as "METHOD PATTERN ACTION" lines to f (for operators,
 * and for the test that keeps api/openapi.yaml in step with the server). */
void api_routes_print(FILE *f);

#endif
