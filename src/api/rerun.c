/*
 * rerun.c - a request that must wait for the network runs again once it
 * has come, without its loop waiting (docs/architecture.md, "Concurrency").
 *
 * The first run answers nothing and keeps no trace: its request
 * transaction is abandoned before anything was written, and no audit
 * record is made. A svc call hands the slow part (today: fetching a trusted
 * issuer's key set) to a thread of its own, which, once done, posts a
 * message to the worker's loop; the loop then runs the whole request again
 * from the start (authentication, limits, routing), and this time the svc
 * call finds what was fetched in its cache. A second run never waits
 * again: what is still missing is answered as unavailable.
 *
 * Lifetimes: the rerun is the worker's, freed on its loop when the message
 * comes (or when the worker stops). If the connection goes away first,
 * the request pool's dispose hook clears rerun->req, and the message only
 * frees it. The other thread touches nothing but the message it posts.
 */
#include <stdlib.h>

#include "api/api_internal.h"
#include "svc/audit.h"
#include "svc/federation.h"

struct rerun_ref;

struct api_rerun {
    h2o_multithread_message_t msg; /* first: posted by the fetching thread */
    struct api_ctx *ctx;
    h2o_req_t *req;        /* NULL once the request went away */
    struct rerun_ref *ref; /* in req's pool */
};

struct rerun_ref {
    struct api_rerun *r;
};

static void on_req_dispose(void *obj) {
    struct rerun_ref *ref = obj;
    if (ref->r != NULL) {
        ref->r->req = NULL;
        ref->r->ref = NULL;
    }
}

/* On the fetching thread. */
static void on_fetched(void *arg) {
    struct api_rerun *r = arg;
    h2o_multithread_send_message(&r->ctx->rerun_receiver, &r->msg);
}

static void on_rerun_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    struct api_ctx *ctx = H2O_STRUCT_FROM_MEMBER(struct api_ctx, rerun_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct api_rerun *r = H2O_STRUCT_FROM_MEMBER(struct api_rerun, msg.link, messages->next);
        h2o_linklist_unlink(&r->msg.link);
        h2o_req_t *req = r->req;
        if (r->ref != NULL)
            r->ref->r = NULL;
        free(r);
        if (req != NULL && !ctx->stopping)
            api_handle_again(ctx, req);
    }
}

int api_rerun_after_fetch(struct api_req *ar, const char *uri) {
    if (ar->rerun || ar->svc->fed == NULL)
        return LK_EUNAVAIL;
    struct api_rerun *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return LK_ENOMEM;
    r->ctx = ar->ctx;
    r->req = ar->req;
    r->ref = h2o_mem_alloc_shared(&ar->req->pool, sizeof(*r->ref), on_req_dispose);
    r->ref->r = r;
    int rc = federation_fetch_then(ar->svc->fed, uri, on_fetched, r);
    if (rc != 0) {
        r->ref->r = NULL;
        free(r);
        return rc;
    }
    /* Nothing was written (the fetch comes before any write): no trace. */
    if (ar->mutating) {
        audit_request_abort(ar->svc);
        ar->mutating = 0;
    }
    ar->deferred = 1;
    return 0;
}

void api_rerun_start(struct api_ctx *ctx) {
    h2o_multithread_register_receiver(ctx->queue, &ctx->rerun_receiver, on_rerun_message);
}

void api_rerun_stop(struct api_ctx *ctx) {
    /* On the worker's own thread, after the fetcher stopped (every waiter
     * answered): deliver what is queued, running nothing again. */
    ctx->stopping = 1;
    h2o_evloop_run(ctx->loop, 0);
    h2o_multithread_unregister_receiver(ctx->queue, &ctx->rerun_receiver);
}
