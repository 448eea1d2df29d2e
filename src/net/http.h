/*
 * http.h - the network layer: listeners (SO_REUSEPORT, one per worker
 * thread), TLS, h2o configuration (body limit, timeouts) and the worker
 * event loops with graceful shutdown.
 *
 * The layer knows nothing of what answers a request: it calls the
 * application it is given (struct http_app, wired by the server) with the
 * worker's own context pointer.
 */
#ifndef LK_NET_HTTP_H
#define LK_NET_HTTP_H

#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

struct lk_error;

/* What the listeners and loops are made with; read during http_new only,
 * but its strings must outlive the struct http. */
struct http_config {
    const char *listen_host; /* numeric address or "localhost" */
    uint16_t listen_port;    /* 0 = pick a free port (http_port says which) */
    int threads;             /* worker threads, one event loop and listener each */
    const char *tls_cert;    /* PEM chain; "" = plain HTTP */
    const char *tls_key;
    size_t max_body;            /* the application's limit: h2o's own sits a little above it */
    uint32_t request_timeout_s; /* header/body/idle timeout, and the drain bound at stop */
    int cpu_affinity;           /* 1 = worker i stays on the i-th CPU allowed */
    int reserved_cpu;           /* with cpu_affinity: a CPU the workers leave alone if another remains; -1 = none */
};

/*
 * The application behind the listeners. Every call is made on a worker's
 * own thread, with the ctx pointer given for that worker in http_new, so
 * an application's per-worker state needs no lock.
 */
struct http_app {
    /* The worker's loop and queue exist; it does not accept yet. 0, or -1
     * to fail start-up (http_start then returns -1). */
    int (*start)(void *ctx, h2o_evloop_t *loop, h2o_multithread_queue_t *queue);
    /* A request whose HTTP/1 framing has one reading. Answers it; returns 0. */
    int (*handle)(void *ctx, h2o_req_t *req);
    /* A request refused before any handler ran (its framing, e): answers it. */
    void (*refuse)(void *ctx, h2o_req_t *req, const struct lk_error *e);
    /* An answer h2o gives by itself (a body over its limit, broken framing),
     * from the fallback path's on_setup_ostream; framing is not NULL when
     * the request's framing is at fault (net/framing.h). */
    void (*h2o_answer)(void *ctx, h2o_req_t *req, h2o_ostream_t **slot, const struct lk_error *framing);
    /* The worker stopped accepting and its connections finished (or the
     * drain bound passed). */
    void (*drained)(void *ctx);
    /* Teardown (http_free): the loop still exists and is run no more by net. */
    void (*stop)(void *ctx);
};

struct http;

/*
 * Configures h2o and TLS and binds every worker's listener; starts no
 * thread. app is copied; ctxs holds cfg->threads pointers, ctxs[i] given
 * to worker i's every call. Returns 0 with *ret set, or -1 after logging
 * why (nothing to free).
 */
int http_new(const struct http_config *cfg, const struct http_app *app, void *const *ctxs, struct http **ret);

/* Starts the workers, each set up (app->start) before the next. Returns 0
 * or -1 after logging why; either way http_stop and http_free follow. */
int http_start(struct http *h);

/* The port the listeners are bound to. */
uint16_t http_port(const struct http *h);

/* Asks every worker to stop accepting and finish in-flight requests, then
 * waits until each has drained (at most request_timeout seconds each). */
void http_stop(struct http *h);

/* Tears the workers down (app->stop on each) and frees h; after http_stop,
 * and after whatever answers them from another thread has stopped.
 * Accepts NULL. */
void http_free(struct http *h);

#endif
