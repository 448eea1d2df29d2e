/*
 * proxy.c - the loopback reverse proxy of `latchkey api proxy` (proxy.h):
 * a guard handler that refuses what a web page could have sent, adds the
 * credential and drops cookies, then h2o's reverse proxy to the server.
 */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <h2o.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bodies the proxy takes from its client (it holds a body whole before
 * forwarding it); the server's own limit is lower. */
#define PROXY_MAX_BODY (64u << 20)
#define PROXY_IO_TIMEOUT_MS 60000
#define PROXY_KEEPALIVE_MS 2000
/* After SIGINT or SIGTERM, how long open connections may finish. */
#define PROXY_DRAIN_MS 2000

struct guard {
    h2o_handler_t super;
    const struct net_proxy_config *cfg;
    char origin_ip[40];   /* http://127.0.0.1:PORT */
    char origin_name[40]; /* http://localhost:PORT */
    h2o_iovec_t authorization;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* 1 if the header name (lower case) is in req and its first value is a or
 * b; *present says whether it is there at all. */
static int header_is(h2o_req_t *req, const char *name, const char *a, const char *b, int *present) {
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    *present = i >= 0;
    if (i < 0)
        return 0;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    return (a != NULL && h2o_lcstris(v->base, v->len, a, strlen(a))) ||
           (b != NULL && h2o_lcstris(v->base, v->len, b, strlen(b)));
}

/* Host (the authority) names the proxy: 127.0.0.1:PORT or localhost:PORT. */
static int host_ok(const struct guard *g, h2o_req_t *req) {
    const char *ip = g->origin_ip + strlen("http://"), *name = g->origin_name + strlen("http://");
    return h2o_lcstris(req->authority.base, req->authority.len, ip, strlen(ip)) ||
           h2o_lcstris(req->authority.base, req->authority.len, name, strlen(name));
}

static void refuse(struct guard *g, h2o_req_t *req, const char *why) {
    char line[256], path[101];
    size_t n = 0;
    for (size_t i = 0; i < req->path.len && n + 1 < sizeof(path) && req->path.base[i] != '?'; i++) {
        unsigned char c = (unsigned char)req->path.base[i];
        path[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    path[n] = '\0';
    char method[16];
    size_t m = 0;
    for (size_t i = 0; i < req->method.len && m + 1 < sizeof(method); i++) {
        unsigned char c = (unsigned char)req->method.base[i];
        method[m++] = c >= 'A' && c <= 'Z' ? (char)c : '?';
    }
    method[m] = '\0';
    snprintf(line, sizeof(line), "refused %s %s: %s", method, path, why);
    if (g->cfg->refused != NULL)
        g->cfg->refused(line, g->cfg->arg);
    char body[320];
    int len = snprintf(body, sizeof(body), "{\"errors\":[\"latchkey api proxy: %s\"]}\n", why);
    req->res.status = 403;
    req->res.reason = "Forbidden";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, (size_t)len);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
    struct guard *g = (struct guard *)self;
    int present;
    if (!host_ok(g, req)) {
        refuse(g, req, "the Host header must name the proxy (127.0.0.1 or localhost, and its port)");
        return 0;
    }
    if (!header_is(req, "origin", g->origin_ip, g->origin_name, &present) && present) {
        refuse(g, req, "a request from another origin (a web page) may not use the proxy");
        return 0;
    }
    if (!header_is(req, "sec-fetch-site", "same-origin", "none", &present) && present) {
        refuse(g, req, "a request a web page of another site started may not use the proxy");
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/")) &&
        (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
         h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))) {
        h2o_send_redirect(req, 302, "Found", g->cfg->landing, strlen(g->cfg->landing));
        return 0;
    }
    ssize_t i;
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, -1)) >= 0)
        h2o_delete_header(&req->headers, i);
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) < 0)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_AUTHORIZATION, NULL, g->authorization.base,
                       g->authorization.len);
    return -1; /* on to the reverse proxy */
}

static void on_accept(h2o_socket_t *listener, const char *err) {
    h2o_accept_ctx_t *actx = listener->data;
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    for (int i = 0; i < 16 && (sock = h2o_evloop_socket_accept(listener)) != NULL; i++)
        h2o_accept(actx, sock);
}

static int listen_loopback(uint16_t port, uint16_t *bound, char *err, size_t errcap) {
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* SO_REUSEADDR only: a second proxy on the same port must fail, not share it. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0)
        goto fail;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        goto fail;
    *bound = ntohs(sa.sin_port);
    return fd;
fail:
    snprintf(err, errcap, "cannot listen on 127.0.0.1:%u: %s", port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static SSL_CTX *client_tls(const struct net_proxy_config *cfg, char *err, size_t errcap) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errcap, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = cfg->ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                                     : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        snprintf(err, errcap, "ca-file %s: cannot load the certificates", cfg->ca_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int has_connections(h2o_context_t *ctx) {
    return !h2o_linklist_is_empty(&ctx->http1._conns) || !h2o_linklist_is_empty(&ctx->http2._conns);
}

int net_proxy_run(const struct net_proxy_config *cfg, char *err, size_t errcap) {
    char upstream[600];
    h2o_url_t url;
    int n = snprintf(upstream, sizeof(upstream), "%s/", cfg->upstream);
    if (n <= 0 || (size_t)n >= sizeof(upstream) || h2o_url_parse(upstream, (size_t)n, &url) != 0) {
        snprintf(err, errcap, "%s: not an http:// or https:// URL the proxy can forward to", cfg->upstream);
        return -1;
    }
    SSL_CTX *tls = NULL;
    if (url.scheme == &H2O_URL_SCHEME_HTTPS) {
        /* h2o matches a certificate against DNS names only: an address
         * would fail every request, so say so now. */
        char host[64];
        unsigned char addr[16];
        snprintf(host, sizeof(host), "%.*s", (int)url.host.len, url.host.base);
        if (url.host.len < sizeof(host) &&
            (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)) {
            snprintf(err, errcap, "%s: the proxy reaches an https server by its DNS name, not an address",
                     cfg->upstream);
            return -1;
        }
        if ((tls = client_tls(cfg, err, errcap)) == NULL)
            return -1;
    }
    uint16_t port;
    int fd = listen_loopback(cfg->port, &port, err, errcap);
    if (fd < 0) {
        if (tls != NULL)
            SSL_CTX_free(tls);
        return -1;
    }

    h2o_globalconf_t conf;
    h2o_config_init(&conf);
    conf.server_name = h2o_iovec_init(H2O_STRLIT("latchkey-proxy"));
    conf.max_request_entity_size = PROXY_MAX_BODY;
    conf.http1.upgrade_to_http2 = 0;
    conf.proxy.io_timeout = PROXY_IO_TIMEOUT_MS;
    conf.proxy.emit_x_forwarded_headers = 0; /* the client is this machine: nothing to tell */
    h2o_hostconf_t *host = h2o_config_register_host(&conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct guard *g = (struct guard *)h2o_create_handler(path, sizeof(*g));
    g->super.on_req = on_req;
    g->cfg = cfg;
    snprintf(g->origin_ip, sizeof(g->origin_ip), "http://127.0.0.1:%u", port);
    snprintf(g->origin_name, sizeof(g->origin_name), "http://localhost:%u", port);
    g->authorization = h2o_iovec_init(cfg->authorization, strlen(cfg->authorization));
    h2o_proxy_config_vars_t vars;
    memset(&vars, 0, sizeof(vars));
    vars.io_timeout = PROXY_IO_TIMEOUT_MS;
    vars.keepalive_timeout = PROXY_KEEPALIVE_MS;
    vars.ssl_ctx = tls; /* the handler takes its own reference */
    h2o_proxy_register_reverse_proxy(path, &url, &vars);
    if (tls != NULL)
        SSL_CTX_free(tls);

    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the loop's wait returns */
    sigemptyset(&sa.sa_mask);
    stopping = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_t ctx;
    h2o_context_init(&ctx, loop, &conf);
    h2o_accept_ctx_t actx;
    memset(&actx, 0, sizeof(actx));
    actx.ctx = &ctx;
    actx.hosts = conf.hosts;
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = &actx;
    h2o_socket_read_start(listener, on_accept);
    if (cfg->ready != NULL)
        cfg->ready(port, cfg->arg);

    /* A signal interrupts the wait; the bound covers one that comes just
     * before it begins. */
    while (!stopping)
        h2o_evloop_run(loop, 1000);

    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    h2o_context_request_shutdown(&ctx);
    uint64_t deadline = h2o_now(loop) + PROXY_DRAIN_MS;
    while (has_connections(&ctx) && h2o_now(loop) < deadline)
        h2o_evloop_run(loop, 100);
    if (h2o_timeout_is_linked(&ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&ctx);
    /* Before the loop goes: the handler's socket pool closes its idle
     * connections and unlinks its timer on it. */
    h2o_config_dispose(&conf);
    h2o_evloop_destroy(loop);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return 0;
}
