/*
 * respond.c - every response latchkey sends goes through here: JSON bodies
 * with Content-Type exactly "application/json", the {"errors": [...]}
 * envelope for every status >= 400, X-Request-Id, no-store caching, and one
 * access-log line.
 *
 * Never logs headers, bodies or query strings; path segments that look like
 * a token are cut back to their public id before logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/api_internal.h"
#include "core/audit.h"
#include "core/tokfmt.h"
#include "lib/clock.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/str.h"
#include "svc/token_cache.h"

/* The access log shows at most this much of a path, and of a method. */
#define ACCESS_PATH_MAX 512
#define ACCESS_METHOD_MAX 16

/* The path, with any token in it cut back to its public id: a client that
 * pasted a whole token into a URL must not get it written to the log. */
static void log_path(struct logbuf *b, const char *p, size_t n) {
    char redacted[ACCESS_PATH_MAX + 16];
    size_t len = tokfmt_redact(p, n, redacted, sizeof(redacted));
    logbuf_put_json_str(b, redacted, len);
}

h2o_iovec_t api_logged_path(h2o_req_t *req) {
    size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    h2o_iovec_t raw = h2o_iovec_init(req->path.base, n);
    if (memchr(raw.base, '%', raw.len) == NULL)
        return raw;
    /* Wholly decoded, however many times it was encoded ("lk%255F..."), so
     * that no token hides from the cut under a layer of encoding. */
    char *dec = h2o_mem_alloc_pool(&req->pool, raw.len);
    size_t dn = str_percent_decode_all(raw.base, raw.len, dec);
    if (!tokfmt_find(dec, dn, NULL))
        return raw;
    return h2o_iovec_init(dec, dn);
}

static const char *cached_time(struct api_ctx *ctx) {
    int64_t now = clock_now();
    if (now != ctx->time_cached_s) {
        struct tm tm;
        time_t t = (time_t)now;
        gmtime_r(&t, &tm);
        strftime(ctx->time_cached, sizeof(ctx->time_cached), "%Y-%m-%dT%H:%M:%SZ", &tm);
        ctx->time_cached_s = now;
    }
    return ctx->time_cached;
}

static void access_log(struct api_req *ar, int status, size_t bytes) {
    struct api_ctx *ctx = ar->ctx;
    if (!ctx->cfg->access_log)
        return;
    h2o_req_t *req = ar->req;
    struct logbuf *b = &ctx->access;
    const char *peer = api_client_addr(ar);

    h2o_iovec_t path = api_logged_path(req);
    logbuf_puts(b, "{\"time\":\"");
    logbuf_puts(b, cached_time(ctx));
    logbuf_puts(b, "\",\"type\":\"access\",\"request_id\":\"");
    logbuf_puts(b, ar->request_id);
    logbuf_puts(b, "\",\"method\":\"");
    /* Cut between characters; logbuf_put_json_str escapes what is not UTF-8. */
    logbuf_put_json_str(b, req->method.base, str_utf8_prefix(req->method.base, req->method.len, ACCESS_METHOD_MAX));
    logbuf_puts(b, "\",\"path\":\"");
    log_path(b, path.base, str_utf8_prefix(path.base, path.len, ACCESS_PATH_MAX));
    /* Hand-formatted: printf measured as the access log's main cost. */
    logbuf_puts(b, "\",\"status\":");
    logbuf_put_int(b, status);
    logbuf_puts(b, ",\"bytes\":");
    logbuf_put_int(b, (int64_t)bytes);
    logbuf_puts(b, ",\"duration_us\":");
    logbuf_put_int(b, clock_mono_us() - ar->start_us);
    logbuf_puts(b, ",\"remote\":\"");
    logbuf_puts(b, peer);
    logbuf_puts(b, "\"");
    if (ar->principal.token != NULL) {
        logbuf_puts(b, ",\"token_id\":\"");
        logbuf_puts(b, ar->principal.token->id);
        logbuf_puts(b, "\"");
    }
    if (ar->route != NULL) {
        logbuf_puts(b, ",\"action\":\"");
        logbuf_puts(b, ar->route->action);
        logbuf_puts(b, "\"");
    }
    logbuf_puts(b, "}\n");
    if (b->len >= 16384)
        logbuf_flush(b);
}

static void common_headers(h2o_req_t *req, const char *request_id) {
    /* Header values must live as long as the request: copy into its pool. */
    h2o_iovec_t id = h2o_strdup(&req->pool, request_id, strlen(request_id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, "X-Request-Id", id.base,
                          id.len);
    /* no-store, unless the route said its success may be cached
     * (api_cacheable) and this is a success. */
    ssize_t cc = h2o_find_header(&req->res.headers, H2O_TOKEN_CACHE_CONTROL, -1);
    if (cc >= 0 && req->res.status < 400)
        return;
    if (cc >= 0)
        h2o_delete_header(&req->res.headers, cc);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, "Cache-Control", H2O_STRLIT("no-store"));
}

void api_cacheable(struct api_req *ar, unsigned max_age) {
    char v[48];
    int n = snprintf(v, sizeof(v), "public, max-age=%u", max_age);
    h2o_req_t *req = ar->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, "Cache-Control",
                   h2o_strdup(&req->pool, v, (size_t)n).base, (size_t)n);
}

static const char *reason_of(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "OK";
    }
}

/* An error message with any token in it cut back to its public id: a
 * message that names what the client sent ("no token <id>") may hold one
 * the client pasted where an id goes (percent-encoded, even), and neither
 * an answer nor a log line may carry its secret. Then escaped (str_escape):
 * a message whose author echoed client bytes without str_echo still goes
 * out as well-formed UTF-8 without control characters. Returns the length
 * written to cut. */
#define CUT_MESSAGE_MAX (LK_ERRMSG_MAX + 16)
static size_t cut_message(const char *msg, char cut[CUT_MESSAGE_MAX]) {
    char redacted[CUT_MESSAGE_MAX];
    char decoded[LK_ERRMSG_MAX];
    size_t n = strnlen(msg, LK_ERRMSG_MAX);
    if (memchr(msg, '%', n) != NULL) {
        size_t dn = str_percent_decode_all(msg, n, decoded);
        if (tokfmt_find(decoded, dn, NULL)) {
            msg = decoded;
            n = dn;
        }
    }
    n = tokfmt_redact(msg, n, redacted, sizeof(redacted));
    return str_escape(redacted, n, cut, CUT_MESSAGE_MAX, NULL);
}

/* {"errors":[msg]} into buf, msg cut; its length, or 0 if it does not fit.
 * Room for a cut message whose every byte JSON doubles ('"', '\\'). */
#define ERRORS_BODY_MAX (CUT_MESSAGE_MAX * 2 + 32)
static size_t errors_body(const char *msg, char *buf, size_t cap) {
    struct jsonw w;
    size_t len;
    char cut[CUT_MESSAGE_MAX];
    size_t n = cut_message(msg, cut);
    jsonw_init(&w, buf, cap);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "errors");
    jsonw_arr_begin(&w);
    jsonw_strn(&w, cut, n);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    return jsonw_finish(&w, &len) == 0 ? len : 0;
}

/* --- answers h2o gives itself (api.h) ------------------------------------ */

struct h2o_answer {
    h2o_ostream_t super;
    struct api_ctx *ctx;
    const char *framing; /* in req's pool; NULL unless the framing is at fault */
};

/* Replaces h2o's text/plain body with the errors envelope; the headers are
 * not sent yet (the next stream sends them with the first bytes). */
static void h2o_answer_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state) {
    struct h2o_answer *a = (struct h2o_answer *)self;
    struct api_req ar;
    api_req_init(&ar, a->ctx, req);
    int status = req->res.status;
    char msg[LK_ERRMSG_MAX];
    if (a->framing != NULL) {
        /* h2o stumbled on framing that could be read two ways: say so. */
        status = 400;
        req->res.status = status;
        req->res.reason = reason_of(status);
        str_copy(msg, sizeof(msg), a->framing);
    } else if (status == 413) {
        snprintf(msg, sizeof(msg), "request body exceeds the limit of %zu bytes", a->ctx->cfg->max_body);
    } else {
        /* h2o's own words ("broken chunked-encoding"), kept to printable ASCII. */
        char what[96];
        size_t n = bufcnt > 0 ? bufs[0].len : 0;
        audit_field_copy(what, sizeof(what), n ? bufs[0].base : "", n);
        snprintf(msg, sizeof(msg), "invalid request: %s", what[0] ? what : "the body could not be read");
    }
    char body[ERRORS_BODY_MAX];
    size_t len = errors_body(msg, body, sizeof(body));
    ssize_t ct;
    while ((ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1)) != -1)
        h2o_delete_header(&req->res.headers, ct);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                   H2O_STRLIT("application/json"));
    common_headers(req, ar.request_id);
    h2o_iovec_t out = h2o_strdup(&req->pool, body, len);
    req->res.content_length = out.len;
    access_log(&ar, status, out.len);
    api_audit_h2o_answer(&ar, status);
    principal_done(&ar.principal);
    h2o_ostream_send_next(self, req, &out, 1, state);
}

void api_h2o_answer(struct api_ctx *ctx, h2o_req_t *req, h2o_ostream_t **slot, const struct lk_error *framing) {
    struct h2o_answer *a = (struct h2o_answer *)h2o_add_ostream(req, sizeof(*a), slot);
    a->super.do_send = h2o_answer_send;
    a->ctx = ctx;
    a->framing = framing != NULL ? h2o_strdup(&req->pool, lk_error_message(framing), SIZE_MAX).base : NULL;
    h2o_setup_next_ostream(req, &a->super.next);
}

void api_refuse(struct api_ctx *ctx, h2o_req_t *req, const struct lk_error *e) {
    struct api_req ar;
    api_req_init(&ar, ctx, req);
    api_reply_lkerr(&ar, e);
    principal_done(&ar.principal);
}

/* Headers that describe a body a handler meant to send (an embedded
 * file's): an error sent instead, such as the 503 of an audit trail that
 * cannot be written, must not go out under them. A JSON flavour of the
 * handler's own ("application/graphql-response+json") stays: every error
 * body is JSON, and a GraphQL client reads its errors under that type. */
static int json_flavour(h2o_req_t *req) {
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->res.headers.entries[i].value;
    return v.len < 64 && memmem(v.base, v.len, "+json", 5) != NULL;
}

static void drop_representation(h2o_req_t *req) {
    static const h2o_token_t *const tokens[] = {H2O_TOKEN_CONTENT_TYPE, H2O_TOKEN_CONTENT_ENCODING, H2O_TOKEN_ETAG};
    for (size_t t = json_flavour(req) ? 1 : 0; t < sizeof(tokens) / sizeof(tokens[0]); t++) {
        ssize_t i;
        while ((i = h2o_find_header(&req->res.headers, tokens[t], -1)) != -1)
            h2o_delete_header(&req->res.headers, i);
    }
}

void api_transmit(h2o_req_t *req, const char *request_id, int status, const char *body, size_t len) {
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (status >= 400)
        drop_representation(req);
    common_headers(req, request_id);
    if (status == 304) {
        len = 0; /* no body, and no length: a 304 describes the 200 it stands for */
    } else if (status == 301 && len == 0) {
        req->res.content_length = 0;
    } else if (len > 0 || status != 204) {
        /* JSON, unless the handler said otherwise (api_reply_bytes). */
        if (h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1) == -1)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                           H2O_STRLIT("application/json"));
        req->res.content_length = len;
    }
    /* HEAD: the headers a GET would have (Content-Length included), no body. */
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        len = 0;
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, len > 0 ? 1 : 0, 1);
}

/* Every reply ends here: logged, audited (which may hold it back until its
 * record is durable, or replace it when the record cannot be written), sent. */
static void send_body(struct api_req *ar, int status, const char *body, size_t len) {
    if (ar->replied)
        return;
    ar->replied = 1;
    if (ar->capture != NULL) {
        ar->capture->status = status;
        ar->capture->body = body;
        ar->capture->len = len;
        return;
    }
    access_log(ar, status, len);
    api_audit_finish(ar, status, body, len);
}

void api_reply_json(struct api_req *ar, int status, json_t *body) {
    h2o_req_t *req = ar->req;
    if (ar->capture != NULL && body != NULL && !ar->replied) {
        /* A subrequest's caller reads the value itself: no text between. */
        ar->replied = 1;
        ar->capture->status = status;
        ar->capture->json = body;
        return;
    }
    /* One encoding pass for the common small answer; a second only when it
     * does not fit the first guess. */
    size_t cap = 2048;
    char *buf = h2o_mem_alloc_pool(&req->pool, cap);
    size_t need = body ? json_dumpb(body, buf, cap, JSON_COMPACT) : 0;
    if (need > cap) {
        buf = h2o_mem_alloc_pool(&req->pool, need);
        if (json_dumpb(body, buf, need, JSON_COMPACT) != need)
            need = 0;
    }
    json_decref(body);
    if (need == 0) {
        static const char oom[] = "{\"errors\":[\"internal error: could not encode the response\"]}";
        send_body(ar, 500, oom, sizeof(oom) - 1);
        return;
    }
    send_body(ar, status, buf, need);
}

void api_reply_bytes(struct api_req *ar, int status, const char *body, size_t len) {
    send_body(ar, status, body, len);
}

void api_reply_empty(struct api_req *ar) {
    send_body(ar, 204, "", 0);
}

void api_reply_item(struct api_req *ar, int r, const void *item, api_item_json_fn json_of) {
    if (r != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, json_of(ar, item));
}

void api_reply_done(struct api_req *ar, int r) {
    if (r != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

void api_jsonw_begin(struct api_req *ar, struct jsonw *w, char *buf, size_t cap) {
    if (ar->capture != NULL)
        jsonw_init_tree(w);
    else
        jsonw_init(w, buf, cap);
}

void api_reply_jsonw(struct api_req *ar, int status, struct jsonw *w) {
    size_t len;
    if (w->tree) {
        json_t *v = jsonw_finish_tree(w);
        if (v != NULL)
            api_reply_json(ar, status, v);
        else
            api_reply_error(ar, LK_EINTERNAL, "internal error: the answer could not be built (request %s)",
                            ar->request_id);
        return;
    }
    if (jsonw_finish(w, &len) != 0) {
        api_reply_error(ar, LK_EINTERNAL, "internal error: answer too large (request %s)", ar->request_id);
        return;
    }
    api_reply_raw(ar, status, w->buf, len);
}

void api_reply_raw(struct api_req *ar, int status, const char *json, size_t len) {
    char *copy = h2o_mem_alloc_pool(&ar->req->pool, len);
    memcpy(copy, json, len);
    send_body(ar, status, copy, len);
}

static void reply_errmsg(struct api_req *ar, int code, const char *msg) {
    int status = lk_err_status(code);
    /* The Vault door: Vault's 403 for a refused credential or permission
     * (its clients raise Forbidden on it), and 404 {"errors":[]} for a
     * missing thing. */
    if (ar->route != NULL && (ar->route->auth & API_VAULT)) {
        if (code == LK_ENOTFOUND) {
            api_vault_not_found(ar);
            return;
        }
        if (status == 401)
            status = 403;
    }
    char buf[ERRORS_BODY_MAX];
    size_t len = errors_body(msg, buf, sizeof(buf));
    if (len == 0) {
        static const char fallback[] = "{\"errors\":[\"internal error: could not encode the error\"]}";
        send_body(ar, 500, fallback, sizeof(fallback) - 1);
        return;
    }
    api_reply_raw(ar, status, buf, len);
}

void api_reply_error(struct api_req *ar, int code, const char *fmt, ...) {
    char msg[LK_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_errmsg(ar, code, msg);
}

void api_reply_lkerr(struct api_req *ar, const struct lk_error *e) {
    int code = e->code != 0 ? e->code : LK_EINTERNAL;
    if (lk_err_status(code) >= 500 && code != LK_ESEALED && code != LK_EBUSY && code != LK_EUNAVAIL) {
        /* Internal detail goes to the server log (cut), the client gets the id to quote. */
        char cut[CUT_MESSAGE_MAX];
        cut_message(lk_error_message(e), cut);
        lk_log(LOG_ERROR, "request %s: %s: %s", ar->request_id, lk_errname(code), cut);
        api_reply_error(ar, code, "%s (request %s)", lk_strerror(code), ar->request_id);
        return;
    }
    reply_errmsg(ar, code, e->msg[0] ? e->msg : lk_strerror(code));
}

void api_add_ratelimit_headers(struct api_req *ar, const char *name, const struct rl_policy *p,
                               const struct rl_result *r) {
    h2o_req_t *req = ar->req;
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "\"%s\";q=%u;w=%u", name, p->quota, p->window_s);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ratelimit-policy"), 0, "RateLimit-Policy",
                          h2o_strdup(&req->pool, buf, (size_t)n).base, (size_t)n);
    n = snprintf(buf, sizeof(buf), "\"%s\";r=%u;t=%u", name, r->remaining, r->reset_s);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ratelimit"), 0, "RateLimit",
                          h2o_strdup(&req->pool, buf, (size_t)n).base, (size_t)n);
}
