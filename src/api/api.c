/*
 * api.c - the request pipeline every REST call goes through:
 *
 *   request id -> per-address rate limit -> route (404/405) -> body limit
 *   (413) -> credential (401) -> per-token rate limit (429) -> ?help=1 ->
 *   CSRF check for changes without a header credential (400, csrf.c) ->
 *   handler
 *
 * Handlers never repeat these steps. Nothing here logs or echoes a
 * presented credential. The client's address is worked out here and only
 * here (api_client_addr), believing X-Forwarded-For only from a
 * --trusted-proxy peer.
 *
 * Also the life of a worker's api context (api.h): made by the server over
 * a ready svc, started and stopped on the worker's loop. It never opens or
 * closes the store.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/secret.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "svc/audit.h"
#include "svc/auth.h"
#include "svc/oidc.h"
#include "svc/ratelimiter.h"
#include "svc/seal.h"
#include "svc/svc.h"
#include "svc/token_cache.h"
#include "svc/vault_tokens.h"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "dev"
#endif

/* Access-log lines wait at most this long in a worker's buffer. */
#define ACCESS_FLUSH_MS 250
/* A worker's access-log buffer. */
#define ACCESS_BUFFER_MAX (1 << 20)

int api_ctx_new(const struct api_config *cfg, int idx, const struct svc *svc, struct api_ctx **ret) {
    uint8_t rnd[4];
    struct api_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        lk_log(LOG_ERROR, "worker %d: out of memory", idx);
        return -1;
    }
    if (secret_random(rnd, sizeof(rnd)) != 0) {
        lk_log(LOG_ERROR, "worker %d: cannot read random bytes for request ids", idx);
        free(ctx);
        return -1;
    }
    secret_hex(rnd, sizeof(rnd), ctx->request_prefix);
    ctx->cfg = cfg;
    ctx->idx = idx;
    ctx->svc = *svc;
    logbuf_init(&ctx->access, ACCESS_BUFFER_MAX);
    *ret = ctx;
    return 0;
}

void api_ctx_free(struct api_ctx *ctx) {
    if (ctx == NULL)
        return;
    logbuf_flush(&ctx->access);
    logbuf_done(&ctx->access);
    api_graphql_docs_free(ctx->graphql_docs);
    free(ctx);
}

static void on_flush_timer(h2o_timeout_entry_t *entry) {
    struct api_ctx *ctx = H2O_STRUCT_FROM_MEMBER(struct api_ctx, flush_entry, entry);
    logbuf_flush(&ctx->access);
    h2o_timeout_link(ctx->loop, &ctx->flush_timeout, &ctx->flush_entry);
}

int api_ctx_start(struct api_ctx *ctx, h2o_evloop_t *loop, h2o_multithread_queue_t *queue) {
    ctx->loop = loop;
    ctx->queue = queue;
    h2o_timeout_init(loop, &ctx->flush_timeout, ACCESS_FLUSH_MS);
    ctx->flush_entry.cb = on_flush_timer;
    if (api_audit_start(ctx) != 0)
        return -1;
    api_rerun_start(ctx);
    h2o_timeout_link(loop, &ctx->flush_timeout, &ctx->flush_entry);
    return 0;
}

void api_ctx_drained(struct api_ctx *ctx) {
    if (h2o_timeout_is_linked(&ctx->flush_entry))
        h2o_timeout_unlink(&ctx->flush_entry);
    logbuf_flush(&ctx->access);
}

void api_ctx_stop(struct api_ctx *ctx) {
    api_rerun_stop(ctx);
    api_audit_stop(ctx);
    if (h2o_timeout_is_linked(&ctx->flush_entry))
        h2o_timeout_unlink(&ctx->flush_entry);
    h2o_timeout_dispose(ctx->loop, &ctx->flush_timeout);
}

/* "<8 hex: random per worker start>-<2 hex: worker>-<12 hex: counter>":
 * unique across workers and restarts, cheap (no printf on the hot path). */
static void make_request_id(struct api_req *ar) {
    static const char hex[] = "0123456789abcdef";
    struct api_ctx *ctx = ar->ctx;
    char *p = ar->request_id;
    memcpy(p, ctx->request_prefix, 8);
    p += 8;
    *p++ = '-';
    *p++ = hex[(ctx->idx >> 4) & 15];
    *p++ = hex[ctx->idx & 15];
    *p++ = '-';
    uint64_t seq = ++ctx->request_seq;
    for (int i = 11; i >= 0; i--, seq >>= 4)
        p[i] = hex[seq & 15];
    p[12] = '\0';
}

/* Finds the presented credential: on the Vault door X-Vault-Token first,
 * then Authorization: Bearer, X-Latchkey-Token, or the "token" cookie, in
 * that order. Returns 0 with the slice and where it came from, 1 if none,
 * -1 for a malformed Authorization header. */
static int find_credential(h2o_req_t *req, int vault, h2o_iovec_t *ret, enum api_cred_source *ret_source) {
    ssize_t i;
    if (vault && (i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-vault-token"), -1)) >= 0 &&
        req->headers.entries[i].value.len > 0) {
        *ret = req->headers.entries[i].value;
        *ret_source = API_CRED_HEADER;
        return 0;
    }
    i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0) {
            size_t off = 7;
            while (off < v.len && v.base[off] == ' ')
                off++;
            *ret = h2o_iovec_init(v.base + off, v.len - off);
            *ret_source = API_CRED_HEADER;
            return 0;
        }
        return -1;
    }
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-latchkey-token"), -1);
    if (i >= 0) {
        *ret = req->headers.entries[i].value;
        *ret_source = API_CRED_HEADER;
        return 0;
    }
    for (i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        const char *p = v.base, *end = v.base + v.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *cend = semi ? semi : end;
            if (cend - p > 6 && memcmp(p, "token=", 6) == 0) {
                *ret = h2o_iovec_init(p + 6, (size_t)(cend - p - 6));
                *ret_source = API_CRED_COOKIE;
                return 0;
            }
            p = cend;
        }
    }
    return 1;
}

/* Most X-Forwarded-For headers looked at (each may list several hops). */
#define API_FORWARDED_HEADERS_MAX 8

/* Resolves the client once: the peer, or behind a trusted proxy the
 * address X-Forwarded-For names; formats it for the log and the audit. */
static void client_resolve(struct api_req *ar) {
    if (ar->client_addr_done)
        return;
    ar->client_addr_done = 1;
    struct sockaddr_storage ss;
    struct netaddr peer;
    socklen_t sl = ar->req->conn->callbacks->get_peername(ar->req->conn, (struct sockaddr *)&ss);
    if (sl == 0 || netaddr_from_sockaddr((struct sockaddr *)&ss, &peer) != 0)
        return;
    ar->client = peer;
    const struct netaddr_cidrs *trusted = ar->ctx->cfg->trusted_proxies;
    if (trusted->count > 0 && netaddr_cidrs_contain(trusted, &peer)) {
        h2o_headers_t *hs = &ar->req->headers;
        struct netaddr_span values[API_FORWARDED_HEADERS_MAX];
        size_t n = 0;
        for (ssize_t i = -1;
             n < API_FORWARDED_HEADERS_MAX && (i = h2o_find_header(hs, H2O_TOKEN_X_FORWARDED_FOR, i)) != -1;) {
            values[n].ptr = hs->entries[i].value.base;
            values[n].len = hs->entries[i].value.len;
            n++;
        }
        ar->peer_trusted = 1;
        netaddr_forwarded_client(trusted, values, n, &ar->client);
    }
    netaddr_format(&ar->client, ar->client_addr);
}

const char *api_client_addr(struct api_req *ar) {
    client_resolve(ar);
    return ar->client_addr;
}

size_t api_client_key(struct api_req *ar, char out[NETADDR_KEY_BUFSZ]) {
    client_resolve(ar);
    if (ar->client.family == 0) {
        out[0] = '\0';
        return 0;
    }
    return netaddr_key(&ar->client, out);
}

int api_request_https(struct api_req *ar) {
    client_resolve(ar);
    if (ar->peer_trusted) {
        /* The first proxy's word, leftmost: it is the one the browser
         * talked to. A client can lie here only about its own connection. */
        ssize_t i = h2o_find_header_by_str(&ar->req->headers, H2O_STRLIT("x-forwarded-proto"), -1);
        if (i >= 0) {
            h2o_iovec_t v = ar->req->headers.entries[i].value;
            size_t n = 0;
            while (n < v.len && v.base[n] != ',')
                n++;
            while (n > 0 && (v.base[n - 1] == ' ' || v.base[n - 1] == '\t'))
                n--;
            size_t off = 0;
            while (off < n && (v.base[off] == ' ' || v.base[off] == '\t'))
                off++;
            if (h2o_lcstris(v.base + off, n - off, H2O_STRLIT("https")))
                return 1;
            if (h2o_lcstris(v.base + off, n - off, H2O_STRLIT("http")))
                return 0;
        }
    }
    return ar->ctx->cfg->https;
}

void api_reply_rate_limited(struct api_req *ar, const char *name, const struct rl_policy *p,
                            const struct rl_result *res, const char *what) {
    char ra[16];
    uint32_t retry = res->retry_after_s > 0 ? res->retry_after_s : 1;
    int n = snprintf(ra, sizeof(ra), "%u", retry);
    h2o_add_header(&ar->req->pool, &ar->req->res.headers, H2O_TOKEN_RETRY_AFTER, "Retry-After",
                   h2o_strdup(&ar->req->pool, ra, (size_t)n).base, (size_t)n);
    api_add_ratelimit_headers(ar, name, p, res);
    api_reply_error(ar, LK_ERATE, "%s: %u requests per %u seconds; retry in %u seconds", what, p->quota, p->window_s,
                    retry);
}

int api_rate_limit(struct api_req *ar, struct ratelimiter *rl, const char *name, const char *key, size_t keylen,
                   struct rl_result *res) {
    ratelimiter_check(rl, key, keylen, clock_mono_us(), res);
    if (res->allowed)
        return 0;
    api_reply_rate_limited(ar, name, ratelimiter_policy(rl), res,
                           strcmp(name, "token") == 0 ? "rate limit exceeded for this token"
                                                      : "rate limit exceeded for this client address");
    return -1;
}

int api_rate_limit_client(struct api_req *ar, struct ratelimiter *rl, const char *name, struct rl_result *res) {
    char key[NETADDR_KEY_BUFSZ];
    size_t n = api_client_key(ar, key);
    return n == 0 ? 0 : api_rate_limit(ar, rl, name, key, n, res);
}

/* Longest Host header taken as the issuer's authority. */
#define API_HOST_MAX 256

const char *api_issuer(struct api_req *ar) {
    const char *pub = ar->ctx->cfg->public_url;
    if (pub != NULL && pub[0] != '\0')
        return pub;
    h2o_iovec_t host = ar->req->authority;
    int ok = host.len > 0 && host.len <= API_HOST_MAX;
    for (size_t i = 0; ok && i < host.len; i++) {
        char c = host.base[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
             c == ':' || c == '[' || c == ']';
    }
    if (!ok) {
        api_reply_error(ar, LK_EINVAL, "the Host header is not host[:port]: it cannot name the token issuer");
        return NULL;
    }
    const char *scheme = api_request_https(ar) ? "https://" : "http://";
    size_t n = strlen(scheme) + host.len + 1;
    char *out = h2o_mem_alloc_pool(&ar->req->pool, n);
    snprintf(out, n, "%s%.*s", scheme, (int)host.len, host.base);
    return out;
}

static void pipeline(struct api_req *ar) {
    const struct api_config *cfg = ar->ctx->cfg;
    struct svc *svc = ar->svc;
    h2o_req_t *req = ar->req;
    struct rl_result rl;

    if (cfg->rl_ip.quota != 0 && api_rate_limit_client(ar, cfg->limit_ip, "ip", &rl) != 0)
        return;

    unsigned method = api_method_parse(req->method);
    const char *path = req->path_normalized.base;
    size_t plen = req->path_normalized.len;
    if ((ar->route = api_route_request(ar, method)) == NULL)
        return;

    if (req->entity.base != NULL && req->entity.len > cfg->max_body) {
        api_reply_error(ar, LK_ETOOBIG, "request body of %zu bytes exceeds the limit of %zu bytes", req->entity.len,
                        cfg->max_body);
        return;
    }

    svc->now = clock_now();
    svc->now_us = clock_mono_us();

    /* Sealed (or not initialised yet): nothing can be decrypted, and the
     * API answers only what it takes to unseal. */
    if (!(ar->route->auth & API_SEALED_OK) && svc->seal != NULL && seal_is_sealed(svc->seal)) {
        struct seal_status st;
        seal_status(svc->seal, &st);
        if (!st.initialized)
            api_reply_error(ar, LK_ESEALED,
                            "latchkey is sealed: it is not initialized yet (latchkey operator init, or PUT "
                            "/v1/sys/init)");
        else
            api_reply_error(ar, LK_ESEALED,
                            "latchkey is sealed: give %u of its %u unseal key shares to PUT "
                            "/v1/sys/unseal",
                            st.t, st.n);
        return;
    }

    if (ar->route->auth & API_AUTH) {
        h2o_iovec_t cred;
        int vault = (ar->route->auth & API_VAULT) != 0;
        int f = find_credential(req, vault, &cred, &ar->cred_source);
        if (f == 1) {
            if (vault)
                api_reply_error(ar, LK_ENOAUTH, "permission denied: missing client token (send it in X-Vault-Token)");
            else
                api_reply_error(ar, LK_ENOAUTH,
                                "missing credentials: send a token as \"Authorization: Bearer <token>\", in the "
                                "X-Latchkey-Token header, or as the \"token\" cookie");
            return;
        }
        if (f < 0) {
            ar->credential_failed = 1;
            api_reply_error(ar, LK_EBADTOKEN, "malformed Authorization header: expected \"Bearer <token>\"");
            return;
        }
        ar->credential = cred;
        /* Three base64url parts: one of latchkey's own identity tokens
         * (svc/oidc.h), verified offline; anything else an API token. */
        const char *issuer = NULL;
        int jwt = oidc_looks_like_jwt(cred.base, cred.len);
        if (jwt && (issuer = api_issuer(ar)) == NULL) {
            ar->credential_failed = 1;
            return;
        }
        if (jwt ? auth_verify_jwt(svc, cred.base, cred.len, issuer, &ar->principal, &ar->err) != 0
                : auth_verify_token(svc, cred.base, cred.len, &ar->principal, &ar->err) != 0) {
            ar->credential_failed = 1;
            api_reply_lkerr(ar, &ar->err);
            return;
        }
        if (cfg->rl_token.quota != 0) {
            const char *id = ar->principal.token->id;
            if (api_rate_limit(ar, cfg->limit_token, "token", id, strlen(id), &ar->token_limit) != 0)
                return;
            ar->have_token_limit = 1;
            api_add_ratelimit_headers(ar, "token", &cfg->rl_token, &ar->token_limit);
        }
    }

    const char *help = api_query(ar, "help");
    if (help != NULL && strcmp(help, "0") != 0 && strcmp(help, "false") != 0) {
        ar->help = 1;
        if (ar->route->auth & API_VAULT) {
            /* Vault's help shape, not enveloped. */
            api_reply_json(ar, 200,
                           json_pack("{s:s, s:[], s:{s:s, s:{s:s, s:s}, s:{}}}", "help", ar->route->help, "see_also",
                                     "openapi", "openapi", "3.0.2", "info", "title", "latchkey", "version",
                                     LATCHKEY_VERSION, "paths"));
            return;
        }
        char allowed_list[64];
        unsigned mask = 0;
        api_route_match(0, path, plen, NULL, &mask);
        api_methods_format(mask, allowed_list, sizeof(allowed_list));
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:s, s:b}", "help", ar->route->help, "path", ar->route->pattern, "methods",
                      allowed_list, "action", ar->route->action, "authenticated", (ar->route->auth & API_AUTH) != 0);
        api_reply_json(ar, 200, body);
        return;
    }

    /* A token the Vault door made with Vault policies is held to them. */
    if (ar->principal.token != NULL && ar->principal.token->vault_acl && api_vault_acl_gate(ar, method) != 0)
        return;

    /* Cross-site request forgery: a browser adds the cookie on its own, and
     * reaches an unauthenticated route from any page. Checked just before
     * the handler, the only step that changes anything. */
    if (!(method & API_READ_METHODS) && ar->cred_source != API_CRED_HEADER &&
        !(ar->route->auth & API_BODY_CREDENTIAL) && api_csrf_check(ar) != 0)
        return;

    /* A mutation writes in one transaction that commits with its audit record
     * (audit_hook.c); reads take no transaction. */
    if (!(method & API_READ_METHODS) && !(ar->route->auth & API_TX_SELF))
        api_begin_change(ar);
    ar->route->fn(ar);
    if (!ar->replied && !ar->deferred) {
        lk_log(LOG_ERROR, "handler for %s sent no reply", ar->route->pattern);
        api_reply_error(ar, LK_EINTERNAL, "internal error (request %s)", ar->request_id);
    }
}

void api_begin_change(struct api_req *ar) {
    if (ar->mutating)
        return;
    ar->mutating = 1;
    audit_request_begin(ar->svc);
}

int api_subrequest(struct api_req *parent, unsigned method, const char *path, const char *query, const char *body,
                   size_t body_len, struct api_capture *out) {
    struct api_req ar;
    unsigned allowed = 0;
    memset(&ar, 0, sizeof(ar));
    ar.req = parent->req;
    ar.ctx = parent->ctx;
    ar.svc = parent->svc;
    ar.start_us = parent->start_us;
    memcpy(ar.request_id, parent->request_id, sizeof(ar.request_id));
    /* The parent's principal, borrowed: released with the parent. */
    ar.principal = parent->principal;
    ar.cred_source = parent->cred_source;
    ar.mutating = parent->mutating;
    ar.capture = out;
    ar.sub_query = query;
    ar.sub_body = h2o_iovec_init(body, body ? body_len : 0);
    ar.route = api_route_match(method, path, strlen(path), &ar, &allowed);
    if (ar.route == NULL || !(ar.route->auth & API_AUTH) ||
        (ar.route->auth & (API_VAULT | API_BODY_CREDENTIAL | API_TX_SELF)))
        return -1;
    out->status = 0;
    out->body = NULL;
    out->len = 0;
    out->json = NULL;
    ar.route->fn(&ar);
    if (!ar.replied || ar.deferred) {
        static const char none[] = "{\"errors\":[\"internal error: the route gave no answer\"]}";
        out->status = 500;
        out->body = none;
        out->len = sizeof(none) - 1;
    }
    return 0;
}

void api_req_init(struct api_req *ar, struct api_ctx *ctx, h2o_req_t *req) {
    memset(ar, 0, sizeof(*ar));
    ar->req = req;
    ar->ctx = ctx;
    ar->svc = &ctx->svc;
    ar->start_us = clock_mono_us();
    make_request_id(ar);
}

static void handle(struct api_ctx *ctx, h2o_req_t *req, int rerun) {
    struct api_req ar;
    api_req_init(&ar, ctx, req);
    ar.rerun = rerun;
    pipeline(&ar);
    /* The request took its token's last use (num_uses): the token is
     * revoked now that the request is done. Refused already either way. */
    if (ar.principal.token_spent && vault_tokens_spent(ar.svc, &ar.principal) != 0)
        lk_log(LOG_WARN, "request %s: token %s used up, but its revocation failed; it stays refused", ar.request_id,
               ar.principal.token->id);
    principal_done(&ar.principal);
}

int api_handle(struct api_ctx *ctx, h2o_req_t *req) {
    handle(ctx, req, 0);
    return 0;
}

void api_handle_again(struct api_ctx *ctx, h2o_req_t *req) {
    handle(ctx, req, 1);
}
