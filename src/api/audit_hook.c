/*
 * audit_hook.c - where every API request becomes an audit record, and
 * where replies wait for their record to be durable.
 *
 * One call per request (api_audit_finish, from the single reply path) so
 * no route can forget it. Never records a body, a query string, a header
 * other than User-Agent, or a credential: a presented credential that
 * failed is recorded as its public id (when it has the token shape) and an
 * HMAC under the audit key.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_internal.h"
#include "core/tokfmt.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "svc/audit.h"
#include "svc/orgs.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

enum pending_kind { PENDING_RECORD, PENDING_MARKER };

struct pending_ref;

/* A reply held back until its ticket is done. Owned by the worker's list (struct api_ctx). */
struct api_pending {
    struct api_pending *next;
    uint64_t ticket;
    enum pending_kind kind;
    h2o_req_t *req;          /* NULL once the connection went away */
    struct pending_ref *ref; /* in req's pool; tells us when req goes away */
    h2o_socket_t *polled;    /* req's connection, kept polled while held (see keep_polled) */
    int status;
    const char *body; /* in req's pool */
    size_t len;
    char request_id[API_REQUEST_ID_LEN + 1];
};

struct pending_ref {
    struct api_pending *p;
};

/* The audit writer's news for one worker; freed by the worker. */
struct audit_msg {
    h2o_multithread_message_t super;
    uint64_t through;
    int records_ok, markers_ok;
};

static void on_req_dispose(void *obj) {
    struct pending_ref *ref = obj;
    if (ref->p != NULL) {
        ref->p->req = NULL;
        ref->p->ref = NULL;
        ref->p->polled = NULL;
    }
}

static void reply_unavailable(h2o_req_t *req, const char *request_id, const char *what) {
    char msg[256];
    char body[384];
    size_t len = 0;
    snprintf(msg, sizeof(msg), "%s (request %s)", what, request_id);
    /* Small fixed shape; the message has no characters that need escaping. */
    int n = snprintf(body, sizeof(body), "{\"errors\":[\"%s\"]}", msg);
    if (n > 0 && (size_t)n < sizeof(body))
        len = (size_t)n;
    char *copy = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(copy, body, len);
    api_transmit(req, request_id, 503, copy, len);
}

/*
 * h2o 2.2's HTTP/1 stops reading a connection while its request is in
 * flight and starts again once the answer is written. Within one turn of
 * the event loop the two cancel out, but a held answer spans turns, so
 * each one cost an epoll_ctl delete and an add (about a tenth of a
 * worker's time per durable read). Instead the connection stays polled
 * with reading suspended: DONT_READ makes h2o call back without reading,
 * so nothing moves the held request's bytes in its input buffer. A client
 * that sends before its answer (pipelining, or closing) is rare; the first
 * sign of it does the stop h2o would have done.
 */
static void on_held_readable(h2o_socket_t *sock, const char *err) {
    (void)err; /* h2o reports it again once it reads for the next request */
    h2o_socket_read_stop(sock);
}

static void keep_polled(struct api_pending *p) {
    h2o_conn_t *conn = p->req->conn;
    if (p->req->version >= 0x200 || conn->callbacks->get_socket == NULL)
        return; /* HTTP/2 reads its connection for every stream */
    h2o_socket_t *sock = conn->callbacks->get_socket(conn);
    if (sock == NULL || h2o_socket_is_reading(sock))
        return;
    h2o_socket_dont_read(sock, 1);
    h2o_socket_read_start(sock, on_held_readable);
    p->polled = sock;
}

/* Hands the connection back to h2o as it left it; its answer's write
 * completes in this turn and starts reading again, so no epoll_ctl. */
static void release_polled(struct api_pending *p) {
    if (p->polled == NULL)
        return;
    h2o_socket_dont_read(p->polled, 0);
    h2o_socket_read_stop(p->polled);
    p->polled = NULL;
}

static void complete(struct api_pending *p, int ok) {
    if (p->req == NULL)
        return; /* the client went away; nothing to send */
    p->ref->p = NULL;
    release_polled(p);
    if (ok)
        api_transmit(p->req, p->request_id, p->status, p->body, p->len);
    else if (p->kind == PENDING_MARKER)
        reply_unavailable(p->req, p->request_id,
                          "service unavailable: the change was made but could not be confirmed on disk");
    else
        reply_unavailable(p->req, p->request_id,
                          "service unavailable: the audit trail cannot be written, so the request was refused");
}

static void on_audit_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    struct api_ctx *ctx = H2O_STRUCT_FROM_MEMBER(struct api_ctx, audit_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct audit_msg *m = H2O_STRUCT_FROM_MEMBER(struct audit_msg, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        while (ctx->pending_head != NULL && ctx->pending_head->ticket <= m->through) {
            struct api_pending *p = ctx->pending_head;
            ctx->pending_head = p->next;
            if (ctx->pending_head == NULL)
                ctx->pending_tail = NULL;
            complete(p, p->kind == PENDING_MARKER ? m->markers_ok : m->records_ok);
            free(p);
        }
        free(m);
    }
}

/* Runs on the audit writer thread. */
static void notify(void *arg, uint64_t through, int records_ok, int markers_ok) {
    struct api_ctx *ctx = arg;
    struct audit_msg *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        /* Cannot tell the worker; its replies stay held until the drain
         * times out. Out of memory is fatal for this process anyway. */
        lk_log(LOG_ERROR, "audit: out of memory telling worker %d about ticket %llu", ctx->idx,
               (unsigned long long)through);
        return;
    }
    m->through = through;
    m->records_ok = records_ok;
    m->markers_ok = markers_ok;
    h2o_multithread_send_message(&ctx->audit_receiver, &m->super);
}

int api_audit_start(struct api_ctx *ctx) {
    h2o_multithread_register_receiver(ctx->queue, &ctx->audit_receiver, on_audit_message);
    ctx->audit_sub = audit_log_subscribe(ctx->cfg->audit, notify, ctx);
    return ctx->audit_sub >= 0 ? 0 : -1;
}

void api_audit_stop(struct api_ctx *ctx) {
    /* On the worker's own thread, after the writer stopped: deliver what it
     * last said, then drop the rest. */
    h2o_evloop_run(ctx->loop, 0);
    while (ctx->pending_head != NULL) {
        struct api_pending *p = ctx->pending_head;
        ctx->pending_head = p->next;
        if (p->ref != NULL)
            p->ref->p = NULL;
        free(p);
    }
    ctx->pending_tail = NULL;
    h2o_multithread_unregister_receiver(ctx->queue, &ctx->audit_receiver);
}

void api_audit_subject(struct api_req *ar, const char *org, const char *actor) {
    if (org != NULL)
        ar->audit_org = h2o_strdup(&ar->req->pool, org, SIZE_MAX).base;
    if (actor != NULL)
        ar->audit_actor = h2o_strdup(&ar->req->pool, actor, SIZE_MAX).base;
}

void api_audit_file_under(struct api_req *ar, const char *org_id, const char *org_name) {
    ar->audit_filed_org_id = h2o_strdup(&ar->req->pool, org_id, SIZE_MAX).base;
    ar->audit_filed_org = h2o_strdup(&ar->req->pool, org_name, SIZE_MAX).base;
}

/* The {org} and {team} placeholders of the matched route, if any. */
static void scope_of(const struct api_req *ar, const char **ret_org, const char **ret_team) {
    *ret_org = ar->route != NULL ? api_param_find(ar, "org") : NULL;
    *ret_team = ar->route != NULL ? api_param_find(ar, "team") : NULL;
}

/*
 * Which org the record is filed under (org_id, and org, its name) and which
 * team it names. An org's view shows the records filed under its id, so a
 * caller puts records there only by belonging to the org
 * (docs/audit.md, "Which org a record is filed under"):
 *   - a user, service account or workload: its own org, whatever org the
 *     request named: a probe of another org's routes is in the prober's
 *     own org's trail, where its admins see it, and in no other. The
 *     path's team only when the path names the caller's own org (else a
 *     service account's own team): another org's team name means nothing
 *     in the caller's org and must not reach a same-named team's owners;
 *   - the partner admin: the org it named (path, else body: org creation),
 *     by the id that name has now, or had (a deletion, api_audit_file_under);
 *     a name no org holds is kept for the partner admin to read, under no org;
 *   - no principal (no credential, a failed one, a request refused before
 *     it was authenticated): only the org a handler vouched for
 *     (api_audit_file_under: a sign-up's new org, a login's), else none,
 *     which leaves the record to the partner admin's view alone.
 */
static void file_under(struct api_req *ar, struct audit_rec *rec) {
    const struct principal *pr = &ar->principal;
    const char *org, *team;
    scope_of(ar, &org, &team);
    switch (pr->type) {
    case PRINCIPAL_USER:
    case PRINCIPAL_SA:
    case PRINCIPAL_WORKLOAD:
        str_copy(rec->org, sizeof(rec->org), pr->org);
        str_copy(rec->org_id, sizeof(rec->org_id), pr->org_id);
        if (team != NULL && org != NULL && strcmp(org, pr->org) == 0)
            audit_field_copy(rec->team, sizeof(rec->team), team, strlen(team));
        else if (pr->type == PRINCIPAL_SA || pr->type == PRINCIPAL_WORKLOAD)
            str_copy(rec->team, sizeof(rec->team), pr->team);
        return;
    case PRINCIPAL_ROOT:
        if (org == NULL)
            org = ar->audit_org;
        if (team != NULL)
            audit_field_copy(rec->team, sizeof(rec->team), team, strlen(team));
        if (ar->audit_filed_org_id != NULL)
            break;
        if (org != NULL) {
            struct org_rec o;
            struct lk_error err = {0};
            if (orgs_find(ar->svc, pr, org, &o, &err) == 0) {
                str_copy(rec->org, sizeof(rec->org), o.name);
                str_copy(rec->org_id, sizeof(rec->org_id), o.id);
            } else {
                audit_field_copy(rec->org, sizeof(rec->org), org, strlen(org));
            }
        }
        return;
    case PRINCIPAL_NONE: break;
    }
    if (ar->audit_filed_org_id != NULL) {
        str_copy(rec->org, sizeof(rec->org), ar->audit_filed_org);
        str_copy(rec->org_id, sizeof(rec->org_id), ar->audit_filed_org_id);
    }
}

static void build(struct api_req *ar, int status, struct audit_rec *rec) {
    h2o_req_t *req = ar->req;
    const struct principal *pr = &ar->principal;
    memset(rec, 0, sizeof(*rec));
    rec->time_ms = clock_now_ms();
    str_copy(rec->request_id, sizeof(rec->request_id), ar->request_id);
    if (pr->type != PRINCIPAL_NONE) {
        str_copy(rec->actor_type, sizeof(rec->actor_type), principal_type_name(pr->type));
        str_copy(rec->actor_name, sizeof(rec->actor_name), pr->name);
        str_copy(rec->actor_org, sizeof(rec->actor_org), pr->org);
        if (pr->token != NULL)
            str_copy(rec->token_id, sizeof(rec->token_id), pr->token->id);
    } else {
        /* A login or sign-up that worked names its user; one that failed
         * names only what was tried. */
        str_copy(rec->actor_type, sizeof(rec->actor_type),
                 ar->audit_actor != NULL && status < 400 ? "user" : "anonymous");
        if (ar->audit_actor != NULL) {
            audit_field_copy(rec->actor_name, sizeof(rec->actor_name), ar->audit_actor, strlen(ar->audit_actor));
            if (ar->audit_org != NULL)
                audit_field_copy(rec->actor_org, sizeof(rec->actor_org), ar->audit_org, strlen(ar->audit_org));
        }
    }
    if (ar->credential_failed && ar->credential.len > 0) {
        struct tokfmt_parsed parsed;
        if (tokfmt_parse(ar->credential.base, ar->credential.len, &parsed) == 0)
            str_copy(rec->token_id, sizeof(rec->token_id), parsed.pubid);
        audit_log_credential_hmac(ar->ctx->cfg->audit, ar->credential.base, ar->credential.len, rec->credential_hmac);
    }
    file_under(ar, rec);
    /* A request refused before routing (the per-address limit) still names
     * the route it asked for. */
    const struct api_route *route = ar->route;
    if (route == NULL) {
        unsigned allowed = 0, method = api_method_parse(req->method);
        if (method != 0)
            route = api_route_match(method, req->path_normalized.base, req->path_normalized.len, NULL, &allowed);
    }
    str_copy(rec->action, sizeof(rec->action),
             ar->audit_action != NULL ? ar->audit_action
             : route != NULL          ? route->action
                                      : "request.unrouted");
    /* Reading a route's help is not doing what the route does. */
    if (ar->help && strlen(rec->action) + 5 < sizeof(rec->action))
        memcpy(rec->action + strlen(rec->action), ".help", 6);
    audit_field_copy(rec->method, sizeof(rec->method), req->method.base, req->method.len);
    h2o_iovec_t path = ar->audit_resource != NULL ? h2o_iovec_init(ar->audit_resource, strlen(ar->audit_resource))
                                                  : api_logged_path(req);
    audit_field_copy(rec->resource, sizeof(rec->resource), path.base, path.len);
    str_copy(rec->outcome, sizeof(rec->outcome),
             ar->audit_outcome != NULL && status < 400 ? ar->audit_outcome : audit_outcome_of(status));
    rec->status = status;
    const char *addr = api_client_addr(ar);
    audit_field_copy(rec->source_ip, sizeof(rec->source_ip), addr, strlen(addr));
    ssize_t ua = h2o_find_header(&req->headers, H2O_TOKEN_USER_AGENT, -1);
    if (ua >= 0)
        audit_field_copy(rec->user_agent, sizeof(rec->user_agent), req->headers.entries[ua].value.base,
                         req->headers.entries[ua].value.len);
}

/* Holds the reply back until ticket is done. */
static void hold(struct api_req *ar, uint64_t ticket, enum pending_kind kind, int status, const char *body,
                 size_t len) {
    struct api_ctx *ctx = ar->ctx;
    struct api_pending *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        /* Out of memory: answer now rather than never. */
        api_transmit(ar->req, ar->request_id, status, body, len);
        return;
    }
    struct pending_ref *ref = h2o_mem_alloc_shared(&ar->req->pool, sizeof(*ref), on_req_dispose);
    ref->p = p;
    p->ticket = ticket;
    p->kind = kind;
    p->req = ar->req;
    p->ref = ref;
    p->status = status;
    p->body = body;
    p->len = len;
    memcpy(p->request_id, ar->request_id, sizeof(p->request_id));
    keep_polled(p);
    if (ctx->pending_tail != NULL)
        ctx->pending_tail->next = p;
    else
        ctx->pending_head = p;
    ctx->pending_tail = p;
}

void api_audit_finish(struct api_req *ar, int status, const char *body, size_t len) {
    struct api_ctx *ctx = ar->ctx;
    struct audit_log *log = ctx->cfg->audit;
    struct audit_rec rec;
    uint64_t ticket = 0;
    int r;

    build(ar, status, &rec);
    if (ar->mutating && status < 400 && !ar->rollback) {
        /* The record commits with the change, or neither does. */
        r = audit_request_commit(&ctx->svc, &rec);
        audit_log_note_append(log, r == 0);
        if (r != 0) {
            lk_log(LOG_ERROR, "request %s: audit record could not be written (%s); change rolled back", ar->request_id,
                   lk_strerror(r));
            reply_unavailable(ar->req, ar->request_id,
                              "service unavailable: the audit trail cannot be written, so the change was not "
                              "applied");
            return;
        }
        /* Committed, not yet durable: one sync of the writer covers it. */
        if (audit_log_enqueue(log, ctx->audit_sub, &rec, AUDIT_SYNC | AUDIT_STORED, &ticket) == 0) {
            hold(ar, ticket, PENDING_MARKER, status, body, len);
            return;
        }
        /* The writer is behind: make it durable here rather than not at all. */
        if (audit_request_sync(&ctx->svc) != 0) {
            reply_unavailable(ar->req, ar->request_id,
                              "service unavailable: the change was made but could not be confirmed on disk");
            return;
        }
        api_transmit(ar->req, ar->request_id, status, body, len);
        return;
    }
    /* Reads wait for their record when configured to, and whenever the
     * writer is behind: back-pressure rather than refusals. A mutating
     * method refused before its handler ran (credentials, limits, routing)
     * waits like every mutation does. */
    int sync = ctx->cfg->audit_sync_reads || audit_log_behind(log) ||
               (!(api_method_parse(ar->req->method) & API_READ_METHODS) &&
                !(ar->route != NULL && (ar->route->auth & API_TX_SELF)));
    if (ar->mutating) {
        /* A refused mutation: nothing of it stays, and its record is durable before the answer. */
        audit_request_abort(&ctx->svc);
        sync = 1;
    }
    if (audit_log_enqueue(log, ctx->audit_sub, &rec, sync ? AUDIT_SYNC : 0, &ticket) != 0) {
        lk_log(LOG_ERROR, "request %s: audit queue full; request refused", ar->request_id);
        reply_unavailable(ar->req, ar->request_id,
                          "service unavailable: the audit trail is not keeping up, so the request was refused");
        return;
    }
    if (sync)
        hold(ar, ticket, PENDING_RECORD, status, body, len);
    else
        api_transmit(ar->req, ar->request_id, status, body, len);
}

void api_audit_h2o_answer(struct api_req *ar, int status) {
    struct audit_rec rec;
    uint64_t ticket;
    build(ar, status, &rec);
    if (audit_log_enqueue(ar->ctx->cfg->audit, ar->ctx->audit_sub, &rec, 0, &ticket) != 0)
        lk_log(LOG_ERROR, "request %s: audit queue full; h2o's %d answer is not recorded", ar->request_id, status);
}
