/*
 * http.c - listeners, TLS and the worker event loops.
 *
 * One h2o event loop per worker thread, each with its own SO_REUSEPORT
 * listening socket, so the kernel spreads connections across threads with
 * no shared accept lock. Handlers run on the loop; nothing here blocks on
 * the network. Never logs request content (the api layer owns the access
 * log).
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "core/errors.h"
#include "lib/cpu.h"
#include "lib/log.h"
#include "net/framing.h"
#include "server.h"

#define LISTEN_BACKLOG 1024
/* h2o refuses a body over its own limit as soon as it knows, and closes the
 * connection; a client still sending then often sees a reset instead of the
 * answer. So its limit stays a little above ours: a body up to 1 MiB over
 * --max-body is read and answered 413 by the handler (cleanly, keep-alive),
 * while h2o still bounds what it buffers. */
#define H2O_BODY_SLACK (1u << 20)

struct lk_handler {
    h2o_handler_t super;
    struct server *srv;
};

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
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, req->conn->ctx);
    struct lk_error err = {0};
    api_h2o_answer(w, req, slot, check_framing(req, &err) != 0 ? &err : NULL);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
    struct worker *w = (struct worker *)((char *)req->conn->ctx - offsetof(struct worker, ctx));
    struct lk_error err = {0};
    /* Before anything else, so no step of any route answers a request
     * that may not be the one the client (or a proxy) meant. */
    if (check_framing(req, &err) != 0) {
        api_refuse(w, req, &err);
        return 0;
    }
    return api_handle(w, req);
}

static void on_accept(h2o_socket_t *listener, const char *err) {
    struct worker *w = listener->data;
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

static int open_listener(struct server *srv, uint16_t port, uint16_t *ret_port) {
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd = -1, one = 1;

    if (resolve(srv->cfg.listen_host, port, &ss, &sslen) != 0)
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
    lk_log(LOG_ERROR, "cannot listen on %s:%u: %s", srv->cfg.listen_host, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static SSL_CTX *make_ssl_ctx(const struct config *cfg) {
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

static void on_flush_timer(h2o_timeout_entry_t *entry) {
    struct worker *w = (struct worker *)((char *)entry - offsetof(struct worker, flush_entry));
    logbuf_flush(&w->access);
    if (!atomic_load(&w->srv->stopping))
        h2o_timeout_link(w->ctx.loop, &w->flush_timeout, &w->flush_entry);
}

static void on_stop_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    struct worker *w = (struct worker *)((char *)receiver - offsetof(struct worker, stop_receiver));
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
    }
    if (w->listener != NULL) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener); /* closes listen_fd */
        w->listener = NULL;
    }
    h2o_context_request_shutdown(&w->ctx);
    w->stop_requested = 1;
}

static int has_connections(struct worker *w) {
    return !h2o_linklist_is_empty(&w->ctx.http1._conns) || !h2o_linklist_is_empty(&w->ctx.http2._conns);
}

/* The calling worker stays on w->cpu from now on. A refusal is logged and
 * the worker runs unpinned: pinning is a tuning, not a condition for
 * serving. */
static void pin_self(const struct worker *w) {
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
 * the stop message and drain (drained), then wait for w->teardown, deliver
 * the audit writer's last answers and destroy.
 */
static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct server *srv = w->srv;
    char name[16];
    snprintf(name, sizeof(name), "lk-worker-%d", w->idx);
    pthread_setname_np(pthread_self(), name);
    if (w->cpu >= 0)
        pin_self(w);

    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, &srv->h2o);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = srv->h2o.hosts;
    w->accept_ctx.ssl_ctx = srv->ssl_ctx;
    w->queue = h2o_multithread_create_queue(w->loop);
    h2o_multithread_register_receiver(w->queue, &w->stop_receiver, on_stop_message);
    h2o_timeout_init(w->loop, &w->flush_timeout, 250);
    w->flush_entry.cb = on_flush_timer;
    w->setup_failed = api_audit_worker_init(w) != 0;
    sem_post(&w->phase_done);
    if (w->setup_failed)
        goto teardown;

    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    h2o_timeout_link(w->loop, &w->flush_timeout, &w->flush_entry);

    /* Runs until the stop message has been handled on this loop, so the
     * listener is closed here, by its own thread. */
    while (!w->stop_requested)
        h2o_evloop_run(w->loop, INT32_MAX);

    /* Drain: the listener is closed; let open connections finish what they
     * are doing, bounded by the request timeout. */
    uint64_t deadline = h2o_now(w->loop) + (uint64_t)srv->cfg.request_timeout_s * 1000;
    while (has_connections(w) && h2o_now(w->loop) < deadline)
        h2o_evloop_run(w->loop, 100);
    if (h2o_timeout_is_linked(&w->flush_entry))
        h2o_timeout_unlink(&w->flush_entry);
    /* h2o arms this when asked to shut down; nothing is left for it to close. */
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    logbuf_flush(&w->access);
    sem_post(&w->phase_done);

teardown:
    /* The audit writer has stopped when teardown is posted. */
    sem_wait(&w->teardown);
    api_audit_worker_done(w);
    h2o_timeout_dispose(w->loop, &w->flush_timeout);
    h2o_multithread_unregister_receiver(w->queue, &w->stop_receiver);
    h2o_multithread_destroy_queue(w->queue);
    h2o_context_dispose(&w->ctx);
    h2o_evloop_destroy(w->loop);
    api_worker_done(w);
    return NULL;
}

int http_start(struct server *srv) {
    struct config *cfg = &srv->cfg;

    if (cfg->tls_cert[0] == '\0' && !config_host_is_loopback(cfg->listen_host)) {
        if (!cfg->allow_plain_http) {
            lk_log(LOG_ERROR,
                   "refusing plain HTTP on non-loopback address %s: give --tls-cert/--tls-key, or "
                   "--allow-plain-http if TLS ends in front of latchkey",
                   cfg->listen_host);
            return -1;
        }
        lk_log(LOG_WARN,
               "WARNING: serving PLAIN HTTP on non-loopback address %s: tokens cross the network "
               "unencrypted. Use only behind a TLS-terminating proxy.",
               cfg->listen_host);
    }
    if (cfg->tls_cert[0] != '\0') {
        srv->ssl_ctx = make_ssl_ctx(cfg);
        if (srv->ssl_ctx == NULL)
            return -1;
    }

    h2o_config_init(&srv->h2o);
    srv->h2o.server_name = h2o_iovec_init(H2O_STRLIT("latchkey"));
    /* Beyond this h2o refuses by itself; the fallback path's filter below
     * makes that refusal a latchkey answer too. */
    srv->h2o.max_request_entity_size = cfg->max_body + H2O_BODY_SLACK;
    srv->h2o.http1.req_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    srv->h2o.http2.idle_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    srv->h2o.http2.graceful_shutdown_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    srv->h2o.handshake_timeout = (uint64_t)cfg->request_timeout_s * 1000;
    /* HTTP/2 only by ALPN under TLS. Cleartext h2c would hand an HTTP/1
     * request, its body framed by HTTP/1 rules, to an HTTP/2 connection,
     * past the framing check (check_framing). */
    srv->h2o.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(&srv->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct lk_handler *h = (void *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->srv = srv;
    srv->handler = &h->super;
    /* Answers h2o gives before any handler runs (a body over the limit,
     * broken framing) are bound to the host's fallback path. */
    h2o_filter_t *f = h2o_create_filter(&host->fallback_path, sizeof(*f));
    f->on_setup_ostream = on_h2o_answer;

    srv->workers = calloc((size_t)cfg->threads, sizeof(struct worker));
    if (srv->workers == NULL)
        return -1;
    srv->nworkers = cfg->threads;

    uint16_t port = cfg->listen_port;
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        w->idx = i;
        w->srv = srv;
        /* Port 0: the first listener picks a port and the others share it. */
        w->listen_fd = open_listener(srv, port, i == 0 ? &srv->bound_port : NULL);
        if (w->listen_fd < 0)
            return -1;
        if (i == 0)
            port = srv->bound_port;
    }

    int cpus[CPU_SETSIZE];
    int ncpus = cfg->cpu_affinity ? cpu_allowed(cpus) : 0;
    if (cfg->cpu_affinity && ncpus == 0)
        lk_log(LOG_WARN, "cpu-affinity: cannot read the CPUs this process may use; workers are not pinned");
    /* When every read waits for its record, the audit writer is on every
     * answer's path: its CPU is left to it (and the disk's interrupts) if
     * another remains for the workers. When reads do not wait, the writer
     * needs a fraction of a CPU and the workers use them all. */
    if (ncpus > 1 && cfg->audit_sync_reads && cfg->audit_cpu >= 0) {
        int k = 0;
        for (int i = 0; i < ncpus; i++)
            if (cpus[i] != cfg->audit_cpu)
                cpus[k++] = cpus[i];
        ncpus = k;
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (api_worker_init(w) != 0)
            return -1;
        sem_init(&w->phase_done, 0, 0);
        sem_init(&w->teardown, 0, 0);
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

void http_stop(struct server *srv) {
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started && !w->setup_failed)
            h2o_multithread_send_message(&w->stop_receiver, &w->stop_msg);
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started && !w->setup_failed)
            sem_wait(&w->phase_done); /* drained */
    }
}

void http_free(struct server *srv) {
    for (int i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started) {
            sem_post(&w->teardown);
            pthread_join(w->tid, NULL);
        }
        sem_destroy(&w->phase_done);
        sem_destroy(&w->teardown);
    }
    free(srv->workers);
    srv->workers = NULL;
    h2o_config_dispose(&srv->h2o);
    if (srv->ssl_ctx != NULL)
        SSL_CTX_free(srv->ssl_ctx);
}
