/*
 * server.h - the one documented home of global mutable state.
 *
 * struct server is created once in main, filled before any worker starts,
 * and then read-only except for the members marked "shared", each of which
 * carries its own locking rule in its own header. Each worker thread owns a
 * struct worker: its event loop, h2o context, store connection and log
 * buffer, touched by no other thread (except the stop message, which goes
 * through h2o's thread-safe queue).
 */
#ifndef LK_SERVER_H
#define LK_SERVER_H

#include <h2o.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "config.h"
#include "lib/log.h"
#include "svc/svc.h"

struct ratelimiter;
struct token_cache;
struct audit_log;
struct api_pending;
struct notices_cfg;
struct notifier;

struct worker {
    int idx;
    int cpu; /* --cpu-affinity: the CPU it stays on; -1 = wherever the scheduler puts it */
    struct server *srv;
    pthread_t tid;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t stop_receiver;
    h2o_multithread_message_t stop_msg;
    int stop_requested;   /* set on this worker's loop by the stop message */
    int started;          /* its thread runs (http_start) */
    int setup_failed;     /* its thread could not set its loop up */
    sem_t phase_done;     /* posted by the worker: set up, then drained */
    sem_t teardown;       /* posted by http_free: destroy the loop and exit */
    struct svc svc;       /* svc.store is this worker's own connection */
    struct logbuf access; /* access-log lines waiting for the next flush */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    int audit_sub;                             /* this worker's subscriber id in srv->audit */
    h2o_multithread_receiver_t audit_receiver; /* "your tickets are durable" from the audit writer */
    struct api_pending *pending_head;          /* answers waiting for their audit record, in ticket order */
    struct api_pending *pending_tail;
    uint64_t request_seq;   /* for request ids */
    char request_prefix[9]; /* random per worker start, for request ids */
    int64_t time_cached_s;  /* access-log timestamp cache */
    char time_cached[24];
};

struct server {
    struct config cfg; /* read-only after start-up */
    char store_dsn[PATH_MAX + 16];
    h2o_globalconf_t h2o; /* read-only after start-up */
    h2o_handler_t *handler;
    SSL_CTX *ssl_ctx;                     /* NULL for plain HTTP */
    struct token_cache *cache;            /* shared: see token_cache.h */
    struct ratelimiter *rl_token;         /* shared: see ratelimiter.h */
    struct ratelimiter *rl_ip;            /* shared: see ratelimiter.h */
    struct ratelimiter *rl_login_account; /* shared: see ratelimiter.h */
    struct ratelimiter *rl_login_ip;      /* shared: see ratelimiter.h */
    struct ratelimiter *rl_signup;        /* shared: see ratelimiter.h */
    struct audit_log *audit;              /* shared: see svc/audit.h */
    struct worker *workers;
    int nworkers;
    uint16_t bound_port; /* the port actually bound */
    atomic_int stopping; /* set once by the signal thread */
    pthread_t flusher;   /* writes last_used_at every touch_interval */
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

#endif
