/*
 * server_workers.c - where the layers meet for the worker threads: each
 * worker gets its own store connection and an api context over it, and
 * the network layer gets a table of callbacks into the api. So net never
 * includes api, api never opens the store or reads struct server, and
 * neither knows of the other.
 *
 * Runs on the main thread at start-up and shutdown only; the callbacks run
 * on the workers' threads and are one call each, nothing more.
 */
#include <stdlib.h>

#include "api/api.h"
#include "config.h"
#include "lib/log.h"
#include "net/http.h"
#include "server.h"
#include "store/store.h"
#include "svc/svc.h"

/* One worker as the server holds it: net holds its loop, the api context
 * its svc, log buffer and held answers. */
struct server_worker {
    struct store *store; /* its own connection, opened and closed here */
    struct api_ctx *api;
};

static int app_start(void *ctx, h2o_evloop_t *loop, h2o_multithread_queue_t *queue) {
    return api_ctx_start(ctx, loop, queue);
}

static int app_handle(void *ctx, h2o_req_t *req) {
    return api_handle(ctx, req);
}

static void app_refuse(void *ctx, h2o_req_t *req, const struct lk_error *e) {
    api_refuse(ctx, req, e);
}

static void app_h2o_answer(void *ctx, h2o_req_t *req, h2o_ostream_t **slot, const struct lk_error *framing) {
    api_h2o_answer(ctx, req, slot, framing);
}

static void app_drained(void *ctx) {
    api_ctx_drained(ctx);
}

static void app_stop(void *ctx) {
    api_ctx_stop(ctx);
}

static const struct http_app api_app = {
    .start = app_start,
    .handle = app_handle,
    .refuse = app_refuse,
    .h2o_answer = app_h2o_answer,
    .drained = app_drained,
    .stop = app_stop,
};

/* Plain HTTP only on loopback, unless the operator says TLS ends in front. */
static int plain_http_allowed(const struct config *cfg) {
    if (cfg->tls_cert[0] != '\0' || config_host_is_loopback(cfg->listen_host))
        return 1;
    if (!cfg->allow_plain_http) {
        lk_log(LOG_ERROR,
               "refusing plain HTTP on non-loopback address %s: give --tls-cert/--tls-key, or "
               "--allow-plain-http if TLS ends in front of latchkey",
               cfg->listen_host);
        return 0;
    }
    lk_log(LOG_WARN,
           "WARNING: serving PLAIN HTTP on non-loopback address %s: tokens cross the network "
           "unencrypted. Use only behind a TLS-terminating proxy.",
           cfg->listen_host);
    return 1;
}

static int worker_open(struct server *srv, int idx, struct server_worker *w) {
    if (store_open(srv->store_dsn, &w->store) != 0) {
        lk_log(LOG_ERROR, "worker %d: cannot open the store", idx);
        return -1;
    }
    store_use_cache(w->store, srv->read_cache);
    /* Checkpoints sync the disk: the audit writer runs them, not the loop. */
    if (store_background_writes(w->store, 0) != 0) {
        lk_log(LOG_ERROR, "worker %d: cannot configure the store", idx);
        return -1;
    }
    struct svc svc = {.store = w->store,
                      .cache = srv->cache,
                      .rl_login = srv->rl_login_account,
                      .seal = srv->seal,
                      .oidc = srv->oidc,
                      .fed = srv->fed,
                      .secret_versions = (int)srv->cfg.secret_versions};
    return api_ctx_new(&srv->api, idx, &svc, &w->api);
}

int server_workers_start(struct server *srv) {
    const struct config *cfg = &srv->cfg;
    void **ctxs = NULL;
    int r = -1;

    if (!plain_http_allowed(cfg))
        return -1;
    srv->api = (struct api_config){
        .max_body = cfg->max_body,
        .access_log = cfg->access_log,
        .audit_sync_reads = cfg->audit_sync_reads,
        .https = cfg->tls_cert[0] != '\0',
        .rl_ip = cfg->rl_ip,
        .rl_token = cfg->rl_token,
        .trusted_proxies = &cfg->trusted_proxies,
        .allowed_origins = &cfg->allowed_origins,
        .limit_ip = srv->rl_ip,
        .limit_token = srv->rl_token,
        .limit_login_ip = srv->rl_login_ip,
        .limit_signup = srv->rl_signup,
        .audit = srv->audit,
        .vault_default_org = cfg->vault_default_org,
        .public_url = cfg->public_url,
        .assets = srv->assets,
    };
    srv->workers = calloc((size_t)cfg->threads, sizeof(*srv->workers));
    ctxs = calloc((size_t)cfg->threads, sizeof(*ctxs));
    if (srv->workers == NULL || ctxs == NULL) {
        lk_log(LOG_ERROR, "out of memory starting the workers");
        goto out;
    }
    srv->nworkers = cfg->threads;
    for (int i = 0; i < srv->nworkers; i++) {
        if (worker_open(srv, i, &srv->workers[i]) != 0)
            goto out;
        ctxs[i] = srv->workers[i].api;
    }

    struct http_config hc = {
        .listen_host = cfg->listen_host,
        .listen_port = cfg->listen_port,
        .threads = cfg->threads,
        .tls_cert = cfg->tls_cert,
        .tls_key = cfg->tls_key,
        .max_body = cfg->max_body,
        .request_timeout_s = cfg->request_timeout_s,
        .cpu_affinity = cfg->cpu_affinity,
        /* When every read waits for its record, the audit writer is on
         * every answer's path: its CPU is left to it (and the disk's
         * interrupts) if another remains for the workers. When reads do
         * not wait, the writer needs a fraction of a CPU and the workers
         * use them all. */
        .reserved_cpu = cfg->audit_sync_reads ? cfg->audit_cpu : -1,
    };
    if (http_new(&hc, &api_app, ctxs, &srv->http) != 0)
        goto out;
    r = http_start(srv->http);
out:
    free(ctxs);
    return r;
}

void server_workers_stop(struct server *srv) {
    if (srv->http != NULL)
        http_stop(srv->http);
}

void server_workers_free(struct server *srv) {
    http_free(srv->http);
    srv->http = NULL;
    for (int i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        api_ctx_free(srv->workers[i].api);
        store_close(srv->workers[i].store);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->nworkers = 0;
}
