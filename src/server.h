/*
 * server.h - the one documented home of global mutable state.
 *
 * struct server is created once in main, filled before any worker starts,
 * and then read-only except for the members marked "shared", each of which
 * carries its own locking rule in its own header.
 *
 * The server is where the layers meet: it opens each worker's store
 * connection, makes its api context over it (api/api.h) and hands the
 * network layer (net/http.h) a table of callbacks into the api, so neither
 * layer includes the other (server_workers.c). Each worker's loop, h2o
 * context and listener are net's; its svc, access-log buffer and held
 * answers are its api context's; both are touched by that worker's thread
 * only (but for messages through h2o's thread-safe queue).
 */
#ifndef LK_SERVER_H
#define LK_SERVER_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "api/api.h"
#include "config.h"
#include "svc/svc.h"

struct ratelimiter;
struct token_cache;
struct store_cache;
struct audit_log;
struct notices_cfg;
struct notifier;
struct store;
struct http;
struct server_worker;

struct server {
    struct config cfg; /* read-only after start-up */
    char store_dsn[PATH_MAX + 16];
    struct api_config api;         /* read-only once the workers start; points into cfg and below */
    struct http *http;             /* listeners and worker loops (net/http.h) */
    struct server_worker *workers; /* per worker: its store connection and api context */
    int nworkers;
    struct token_cache *cache;            /* shared: see token_cache.h */
    struct store_cache *read_cache;       /* shared by the workers' connections: store.h, "Read cache"; NULL = off */
    struct seal *seal;                    /* shared: see svc/seal.h */
    struct oidc *oidc;                    /* shared: identity-token keys, see svc/oidc.h */
    struct federation *fed;               /* shared: token exchange's JWKS cache, see svc/federation.h */
    struct ratelimiter *rl_token;         /* shared: see ratelimiter.h */
    struct ratelimiter *rl_ip;            /* shared: see ratelimiter.h */
    struct ratelimiter *rl_login_account; /* shared: see ratelimiter.h */
    struct ratelimiter *rl_login_ip;      /* shared: see ratelimiter.h */
    struct ratelimiter *rl_signup;        /* shared: see ratelimiter.h */
    struct audit_log *audit;              /* shared: see svc/audit.h */
    struct api_asset_cache *assets;       /* shared: plain copies of embedded files, see api/assets.h */
    atomic_int stopping;                  /* set once by the signal thread */
    pthread_t flusher;                    /* writes last_used_at every touch_interval */
    pthread_mutex_t flusher_lock;
    pthread_cond_t flusher_cond;
    struct notices_cfg
        *notices_cfg; /* read-only after start-up, but for its secrets: the notifier's, re-read there on SIGHUP */
    struct notifier *notifier; /* the expiry-notice thread (jobs/notices.h) */
};

/* Runs `latchkey server` with the given configuration until SIGTERM/SIGINT.
 * Returns the process exit status. */
int server_run(struct config *cfg);

/* Opens the store cfg->store names or, without one, the store under
 * cfg->data_dir (creating the directory 0700 if create_dir), and migrates
 * it. Fills dsn; logs why it failed. */
int server_open_store(const struct config *cfg, int create_dir, char *dsn, size_t dsncap, struct store **ret);

/*
 * The workers (server_workers.c). _start opens each worker's store
 * connection, makes its api context, binds the listeners and starts the
 * loops with the api as their handler; 0, or -1 after logging why, and
 * then, as after 0, _stop and _free follow. _stop stops accepting and
 * drains; _free, once the audit writer has stopped, tears the loops down,
 * then frees the api contexts and closes the store connections. Both
 * accept a server whose workers never started.
 */
int server_workers_start(struct server *srv);
void server_workers_stop(struct server *srv);
void server_workers_free(struct server *srv);

/* Opens the seal from the store and unseals it in dev mode (one share kept
 * in the data dir) or from --unseal-key-file (server_seal.c). 0, or -1
 * after logging why (a key file that cannot unseal stops the start). */
struct seal;
int server_seal_start(const struct config *cfg, struct store *s, struct seal **ret);

#endif
