/*
 * api.h - the REST front door: routing, JSON in/out, the error envelope,
 * ?help=1, credential extraction, rate limits and the access log.
 */
#ifndef LK_API_API_H
#define LK_API_API_H

#include <h2o.h>

struct worker;

struct lk_error;

/* h2o's request callback for every path. Always answers; returns 0. */
int api_handle(struct worker *w, h2o_req_t *req);

/* Answers req with e (its status and message) without running any step of
 * the pipeline: for a request the network layer refuses before routing
 * (framing), still with the errors envelope, X-Request-Id, the access log
 * and an audit record. */
void api_refuse(struct worker *w, h2o_req_t *req, const struct lk_error *e);

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
void api_h2o_answer(struct worker *w, h2o_req_t *req, h2o_ostream_t **slot, const struct lk_error *framing);

/* Prints every route as "METHOD PATTERN ACTION" lines to f (for operators,
 * and for the test that keeps api/openapi.yaml in step with the server). */
#include <stdio.h>
void api_routes_print(FILE *f);

/* Per-worker set-up (store connection, log buffer, request-id prefix);
 * called on the main thread before the worker starts. 0 or -1. */
int api_worker_init(struct worker *w);
void api_worker_done(struct worker *w);

/* Registers w (whose queue exists) for the audit writer's answers; 0 or -1.
 * _done, after the writer has stopped, delivers its last answers, drops
 * replies still held and unregisters. */
int api_audit_worker_init(struct worker *w);
void api_audit_worker_done(struct worker *w);

#endif
