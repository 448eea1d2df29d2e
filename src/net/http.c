/*
 * http.c - listeners, TLS and the worker event loops.
 *
 * One h2o event loop per worker thread, each with its own SO_REUSEPORT
 * listening socket, so the kernel spreads connections across threads with
 * no shared accept lock. Handlers run on the loop; nothing here blocks on
 * the network. Never logs request content (the application owns the
 * access log), and never names the application: it is a table of
 * callbacks (struct http_app) with one context pointer per worker.
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/errors.h"
#include "lib/cpu.h"
#include "lib/log.h"
#include "net/framing.h"

#define LISTEN_BACKLOG 1024
/* h2o refuses a body over its own limit as soon as it knows, and closes the
 * connection; a client still sending then often sees a reset instead of the
 * answer. So its limit stays a little above ours: a body up to 1 MiB over
 * --max-body is read and answered 413 by the handler (cleanly, keep-alive),
 * while h2o still bounds what it buffers. */
#define H2O_BODY_SLACK (1u << 20)

/* One worker thread: its loop, listener and h2o context, touched by no
 * other thread (but for the stop message, through h2o's thread-safe queue). */
struct http_worker {
    int idx;
    int cpu; /* cpu_affinity: the CPU it stays on; -1 = wherever the scheduler puts it */
    struct http *http;
    void *app_ctx; /* the application's context for this worker */
    pthread_t tid;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t stop_receiver;
    h2o_multithread_message_t stop_msg;
    int stop_requested; /* set on this worker's loop by the stop message */
    int started;        /* its thread runs (http_start) */
    int setup_failed;   /* its thread could not set its loop up */
    sem_t phase_done;   /* posted by the worker: set up, then drained */
    sem_t teardown;     /* posted by http_free: destroy the loop and exit */
};

struct http {
    struct http_config cfg;
    struct http_app app;
    h2o_globalconf_t h2o;
    SSL_CTX *ssl_ctx; /* NULL for plain HTTP */
    struct http_worker *workers;
    int nworkers;
    uint16_t bound_port; /* the port actually bound */
};

static struct http_worker *worker_of(h2o_req_t *req) {
    return H2O_STRUCT_FROM_MEMBER(struct http_worker, ctx, req->conn->ctx);
}

/*
 * The request's head, as it came over HTTP/1, through framing_check. h2o
 * keeps a request's bytes at the start of its connection's input buffer
 * until its answer is written (and decodes a chunked body in place, after
 * the head), so they are read there. Returns 0 for HTTP/2 (framed by its
 * frames) and for a head with one reading; else LK_EINVAL with err set,
 * and the connection closes once the answer is written, so nothing sent
 * after this request on it is ever read as a request.
 */
static int check_framing(h2o_req_t *req, struct lk_error *err) {
    if (req->version >= 0x200)
        return 0;
    h2o_conn_t *conn = req->conn;
    h2o_socket_t *sock = conn->callbacks->get_socket != NULL ? conn->callbacks->get_socket(conn) : NULL;
    const char *head = ""; /* no buffer to read: framing_check fails closed */
    size_t len = 0;
    if (sock != NULL && sock->input != NULL) {
        head = sock->input->bytes;
        len = sock->input->size;
    }
    int r = framing_check(head, len, req->input.method.base, req->input.method.len, err);
    if (r != 0)
        req->http1_is_persistent = 0;
    return r;
}

static void on_h2o_answer(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot) {
    struct http_worker *w = worker_of(req);
    struct lk_error err = {0};
    w->http->app.h2o_answer(w->app_ctx, req, slot, check_framing(req, &err) != 0 ? &err : NULL);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
    struct http_worker *w = worker_of(req);
    struct lk_error err = {0};
    /* Before anything else, so no step of any route answers a request
     * that may not be the one the client (or a proxy) meant. */
    if (check_framing(req, &err) != 0) {
        w->http->app.refuse(w->app_ctx, req, &err);
        return 0;
    }
    return w->http->app.handle(w->app_ctx, req);
}

static void on_accept(h2o_socket_t *listener, const char *err) {
    struct http_worker *w = listener->data;
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    /* Accept a bounded batch per wake-up so one busy listener can't starve the loop. */
    for (int i = 0; i < 16; i++) {
        if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
            break;
        h2o_accept(&w->accept_ctx, sock);
    }
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", port);
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0 || res == NULL) {
        lk_log(LOG_ERROR, "cannot resolve listen address %s: %s", host, gai_strerror(r));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_listener(const struct http_config *cfg, uint16_t port, uint16_t *ret_port) {
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd = -1, one = 1;

    if (resolve(cfg->listen_host, port, &ss, &sslen) != 0)
        return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0)
        goto fail;
    if (listen(fd, LISTEN_BACKLOG) != 0)
        goto fail;
    if (ret_port != NULL) {
        struct sockaddr_storage got;
        socklen_t gl = sizeof(got);
        getsockname(fd, (struct sockaddr *)&got, &gl);
        *ret_port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                    : ((struct sockaddr_in *)&got)->sin_port);
    }
    return fd;
fail:
    lk_log(LOG_ERROR, "cannot listen on %s:%u: %s", cfg->listen_host, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static SSL_CTX *make_ssl_ctx(const struct http_config *cfg) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        lk_log(LOG_ERROR, "tls-cert %s: cannot load the certificate chain", cfg->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        lk_log(LOG_ERROR, "tls-key %s: cannot load the key, or it does not match the certificate", cfg->tls_key);
        goto fail;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void on_stop_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    struct http_worker *w = H2O_STRUCT_FROM_MEMBER(struct http_worker, stop_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
    }
    if (w->listener != NULL) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener); /* closes the listening socket */
        w->listener = NULL;
    }
    h2o_context_request_shutdown(&w->ctx);
    w->stop_requested = 1;
}

static int has_connections(struct http_worker *w) {
    return !h2o_linklist_is_empty(&w->ctx.http1._conns) || !h2o_linklist_is_empty(&w->ctx.http2._conns);
}

/* The calling worker stays on w->cpu from now on. A refusal is logged and
 * the worker runs unpinned: pinning is a tuning, not a condition for
 * serving. */
static void pin_self(const struct http_worker *w) {
    int r = cpu_pin_self(w->cpu);
    if (r != 0)
        lk_log(LOG_WARN, "cpu-affinity: cannot pin worker %d to CPU %d (%s); it runs unpinned", w->idx, w->cpu,
               strerror(r));
    else
        lk_log(LOG_DEBUG, "cpu-affinity: worker %d runs on CPU %d", w->idx, w->cpu);
}

/*
 * Everything h2o makes for a loop (the loop, its context, the multithread
 * queue and its socket) is made, used and destroyed on the worker's own
 * thread: h2o's socket buffers come from a thread-local recycling allocator,
 * and a buffer of one thread's allocator handled on another races with
 * that thread (measured: heap corruption as soon as the audit writer sent
 * messages to loops whose queues the main thread had made).
 *
 * Phases, each acknowledged on w->phase_done: set up (ready), run until
 * the stop message and drain (drained), then wait for w->teardown, let the
 * application finish on the loop (app.stop) and destroy.
 */
static void *worker_main(void *arg) {
    struct http_worker *w = arg;
    struct http *h = w->http;
    char name[16];
    snprintf(name, sizeof(name), "lk-worker-%d", w->idx);
    pthread_setname_np(pthread_self(), name);
    if (w->cpu >= 0)
        pin_self(w);

    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, &h->h2o);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = h->h2o.hosts;
    w->accept_ctx.ssl_ctx = h->ssl_ctx;
    w->queue = h2o_multithread_create_queue(w->loop);
    h2o_multithread_register_receiver(w->queue, &w->stop_receiver, on_stop_message);
    w->setup_failed = h->app.start(w->app_ctx, w->loop, w->queue) != 0;
    sem_post(&w->phase_done);
    if (w->setup_failed)
        goto teardown;

    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listen_fd = -1; /* the listener's now */
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);

    /* Runs until the stop message has been handled on this loop, so the
     * listener is closed here, by its own thread. */
    while (!w->stop_requested)
        h2o_evloop_run(w->loop, INT32_MAX);

    /* Drain: the listener is closed; let open connections finish what they
     * are doing, bounded by the request timeout. */
    uint64_t deadline = h2o_now(w->loop) + (uint64_t)h->cfg.request_timeout_s * 1000;
    while (has_connections(w) && h2o_now(w->loop) < deadline)
        h2o_evloop_run(w->loop, 100);
    /* h2o arms this when asked to shut down; nothing is left for it to close. */
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    h->app.drained(w->app_ctx);
    sem_post(&w->phase_done);

teardown:
    /* Whatever answers the application from other threads has stopped when
     * teardown is posted. */
    sem_wait(&w->teardown);
    h->app.stop(w->app_ctx);
    h2o_multithread_unregister_receiver(w->queue, &w->stop_receiver);
    h2o_multithread_destroy_queue(w->queue);
    h2o_context_dispose(&w->ctx);
    h2o_evloop_destroy(w->loop);
    return NULL;
}

int http_new(const struct http_config *cfg, const struct http_app *app, void *const *ctxs, struct http **ret) {
    struct http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -1;
    h->cfg = *cfg;
    h->app = *app;
    h2o_config_init(&h->h2o);
    if (cfg->tls_cert[0] != '\0') {
        h->ssl_ctx = make_ssl_ctx(cfg);
        if (h->ssl_ctx == NULL)
            goto fail;
    }

    h->h2o.server_name = h2o_iovec_init(H2O_STRLIT("latchkey"));
    /* Beyond this h2o refuses by itself; the fallback path's filter below
     * makes that refusal an answer of the application's too. */
    h->h2o.max_request_entity_size = cfg->max_body + H2O_BODY_SLACK;
    h->h2o.http1.req_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    h->h2o.http2.idle_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    h->h2o.http2.graceful_shutdown_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    h->h2o.handshake_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    /* HTTP/2 only by ALPN under TLS. Cleartext h2c would hand an HTTP/1
     * request, its body framed by HTTP/1 rules, to an HTTP/2 connection,
     * past the framing check (check_framing). */
    h->h2o.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(&h->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;
    /* Answers h2o gives before any handler runs (a body over the limit,
     * broken framing) are bound to the host's fallback path. */
    h2o_filter_t *f = h2o_create_filter(&host->fallback_path, sizeof(*f));
    f->on_setup_ostream = on_h2o_answer;

    h->workers = calloc((size_t)cfg->threads, sizeof(struct http_worker));
    if (h->workers == NULL)
        goto fail;
    h->nworkers = cfg->threads;
    for (int i = 0; i < h->nworkers; i++) {
        h->workers[i].listen_fd = -1;
        sem_init(&h->workers[i].phase_done, 0, 0);
        sem_init(&h->workers[i].teardown, 0, 0);
    }

    uint16_t port = cfg->listen_port;
    for (int i = 0; i < h->nworkers; i++) {
        struct http_worker *w = &h->workers[i];
        w->idx = i;
        w->http = h;
        w->app_ctx = ctxs[i];
        /* Port 0: the first listener picks a port and the others share it. */
        w->listen_fd = open_listener(cfg, port, i == 0 ? &h->bound_port : NULL);
        if (w->listen_fd < 0)
            goto fail;
        if (i == 0)
            port = h->bound_port;
    }
    *ret = h;
    return 0;
fail:
    for (int i = 0; h->workers != NULL && i < h->nworkers; i++) {
        if (h->workers[i].listen_fd >= 0)
            close(h->workers[i].listen_fd);
        sem_destroy(&h->workers[i].phase_done);
        sem_destroy(&h->workers[i].teardown);
    }
    free(h->workers);
    h2o_config_dispose(&h->h2o);
    if (h->ssl_ctx != NULL)
        SSL_CTX_free(h->ssl_ctx);
    free(h);
    return -1;
}

uint16_t http_port(const struct http *h) {
    return h->bound_port;
}

int http_start(struct http *h) {
    const struct http_config *cfg = &h->cfg;
    int cpus[CPU_SETSIZE];
    int ncpus = cfg->cpu_affinity ? cpu_allowed(cpus) : 0;
    if (cfg->cpu_affinity && ncpus == 0)
        lk_log(LOG_WARN, "cpu-affinity: cannot read the CPUs this process may use; workers are not pinned");
    if (ncpus > 1 && cfg->reserved_cpu >= 0) {
        int k = 0;
        for (int i = 0; i < ncpus; i++)
            if (cpus[i] != cfg->reserved_cpu)
                cpus[k++] = cpus[i];
        ncpus = k;
    }
    for (int i = 0; i < h->nworkers; i++) {
        struct http_worker *w = &h->workers[i];
        w->cpu = ncpus > 0 ? cpus[i % ncpus] : -1;
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
            return -1;
        w->started = 1;
        sem_wait(&w->phase_done); /* set up */
        if (w->setup_failed)
            return -1;
    }
    return 0;
}

void http_stop(struct http *h) {
    for (int i = 0; i < h->nworkers; i++) {
        struct http_worker *w = &h->workers[i];
        if (w->started && !w->setup_failed)
            h2o_multithread_send_message(&w->stop_receiver, &w->stop_msg);
    }
    for (int i = 0; i < h->nworkers; i++) {
        struct http_worker *w = &h->workers[i];
        if (w->started && !w->setup_failed)
            sem_wait(&w->phase_done); /* drained */
    }
}

void http_free(struct http *h) {
    if (h == NULL)
        return;
    for (int i = 0; i < h->nworkers; i++) {
        struct http_worker *w = &h->workers[i];
        if (w->started) {
            sem_post(&w->teardown);
            pthread_join(w->tid, NULL);
        }
        if (w->listen_fd >= 0)
            close(w->listen_fd); /* never handed to a loop */
        sem_destroy(&w->phase_done);
        sem_destroy(&w->teardown);
    }
    free(h->workers);
    h2o_config_dispose(&h->h2o);
    if (h->ssl_ctx != NULL)
        SSL_CTX_free(h->ssl_ctx);
    free(h);
}
