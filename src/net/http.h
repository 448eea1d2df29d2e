/*
 * http.h - the network layer: listeners (SO_REUSEPORT, one per worker
 * thread), TLS, h2o configuration (body limit, timeouts) and the worker
 * event loops with graceful shutdown.
 */
#ifndef LK_NET_HTTP_H
#define LK_NET_HTTP_H

struct server;

/*
 * Configures h2o and TLS for srv, binds every worker's listener, and starts
 * the workers. Returns 0 or -1 after logging why (the caller exits).
 */
int http_start(struct server *srv);

/* Asks every worker to stop accepting and finish in-flight requests, then
 * joins them (at most request_timeout seconds of drain each). */
void http_stop(struct server *srv);

/* Frees what http_start made, after http_stop and after the audit writer
 * has stopped (workers still receive its last answers). */
void http_free(struct server *srv);

#endif
