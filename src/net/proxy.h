/*
 * proxy.h - a reverse proxy on the loopback interface for one person:
 * `latchkey api proxy` (docs/cli.md). It listens on 127.0.0.1 only,
 * forwards every request to one server with a credential of its own added
 * (a request that brings its own Authorization keeps it), and refuses any
 * request a web page of another origin could have sent:
 *
 *   - Host must name the proxy itself (127.0.0.1:PORT or localhost:PORT),
 *     which defeats DNS rebinding (a page of evil.example whose name now
 *     points at 127.0.0.1 sends Host: evil.example:PORT);
 *   - Origin, when present, must be the proxy's own origin;
 *   - Sec-Fetch-Site, when present, must be same-origin or none (a
 *     cross-site <img> or form sends no Origin on a GET, but browsers send
 *     this).
 *
 * Cookies are dropped on the way in: the credential is the one given, and
 * a cookie the server set on the proxy's origin never stands in for it.
 * GET / redirects to a landing path (the server's GraphQL playground).
 *
 * An https server is reached by its DNS name (h2o checks the certificate
 * against DNS names only); --insecure skips the chain's check, not the
 * name's.
 *
 * One thread, one event loop (h2o's reverse proxy), until SIGINT or
 * SIGTERM. Holds no h2o type in this header: callers above the network
 * layer include it.
 */
#ifndef LK_NET_PROXY_H
#define LK_NET_PROXY_H

#include <stddef.h>
#include <stdint.h>

struct net_proxy_config {
    uint16_t port;             /* on 127.0.0.1; 0 = any free port */
    const char *upstream;      /* http(s)://host[:port][/prefix], no trailing '/' */
    const char *authorization; /* the Authorization header's value added ("Bearer ...") */
    const char *ca_file;       /* "" = the system's CAs */
    int insecure;              /* 1 = the upstream certificate's chain is not checked */
    const char *landing;       /* where GET / redirects: "/graphiql/" */
    /* Called once the listener is bound, with its port, before the first
     * request is accepted. */
    void (*ready)(uint16_t port, void *arg);
    /* Called for each request refused, with a line that says what and why
     * (its path without the query, unprintable bytes as '?'). */
    void (*refused)(const char *line, void *arg);
    void *arg;
};

/* Serves until SIGINT or SIGTERM: 0 then. -1 with why in err when it
 * cannot start (the port taken, a bad URL or CA file). */
int net_proxy_run(const struct net_proxy_config *cfg, char *err, size_t errcap);

#endif
