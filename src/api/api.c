/*
 * api.c - the request pipeline every REST call goes through:
 *
 *   request id -> per-address rate limit -> route (404/405) -> body limit
 *   (413) -> credential (401) -> per-token rate limit (429) -> ?help=1 ->
 *   handler
 *
 * Handlers never repeat these steps. Nothing here logs or echoes a
 * presented credential.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/secret.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "server.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/auth.h"
#include "svc/ratelimiter.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

int api_worker_init(struct worker *w) {
    uint8_t rnd[4];
    struct store *s = NULL;
    if (store_open(w->srv->store_dsn, &s) != 0) {
        lk_log(LOG_ERROR, "worker %d: cannot open the store", w->idx);
        return -1;
    }
    /* Checkpoints sync the disk: the audit writer runs them, not the loop. */
    if (store_background_writes(s, 0) != 0) {
        lk_log(LOG_ERROR, "worker %d: cannot configure the store", w->idx);
        store_close(s);
        return -1;
    }
    w->svc.store = s;
    w->svc.cache = w->srv->cache;
    w->svc.rl_login = w->srv->rl_login_account;
    logbuf_init(&w->access, 1 << 20);
    if (secret_random(rnd, sizeof(rnd)) != 0)
        return -1;
    secret_hex(rnd, sizeof(rnd), w->request_prefix);
    return 0;
}

void api_worker_done(struct worker *w) {
    logbuf_flush(&w->access);
    logbuf_done(&w->access);
    store_close(w->svc.store);
    w->svc.store = NULL;
}

/* "<8 hex: random per worker start>-<2 hex: worker>-<12 hex: counter>":
 * unique across workers and restarts, cheap (no printf on the hot path). */
static void make_request_id(struct api_req *ar) {
    static const char hex[] = "0123456789abcdef";
    struct worker *w = ar->w;
    char *p = ar->request_id;
    memcpy(p, w->request_prefix, 8);
    p += 8;
    *p++ = '-';
    *p++ = hex[(w->idx >> 4) & 15];
    *p++ = hex[w->idx & 15];
    *p++ = '-';
    uint64_t seq = ++w->request_seq;
    for (int i = 11; i >= 0; i--, seq >>= 4)
        p[i] = hex[seq & 15];
    p[12] = '\0';
}

/* Finds the presented credential: Authorization: Bearer, X-Latchkey-Token,
 * or the "token" cookie, in that order. Returns 0 and the slice, 1 if none,
 * -1 for a malformed Authorization header. */
static int find_credential(h2o_req_t *req, h2o_iovec_t *ret) {
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0) {
            size_t off = 7;
            while (off < v.len && v.base[off] == ' ')
                off++;
            *ret = h2o_iovec_init(v.base + off, v.len - off);
            return 0;
        }
        return -1;
    }
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-latchkey-token"), -1);
    if (i >= 0) {
        *ret = req->headers.entries[i].value;
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
                return 0;
            }
            p = cend;
        }
    }
    return 1;
}

/* Dotted quad without printf (measured: h2o's sprintf-based formatting was
 * ~2% of a worker's time, called for the access log and the audit record). */
static void format_ipv4(const uint8_t a[4], char *out) {
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

const char *api_client_addr(struct api_req *ar) {
    if (ar->client_addr_done)
        return ar->client_addr;
    ar->client_addr_done = 1;
    struct sockaddr_storage ss;
    socklen_t sl = ar->req->conn->callbacks->get_peername(ar->req->conn, (struct sockaddr *)&ss);
    if (sl == 0)
        return ar->client_addr;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        format_ipv4((const uint8_t *)&in->sin_addr.s_addr, ar->client_addr);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, ar->client_addr, sizeof(ar->client_addr)) == NULL)
            ar->client_addr[0] = '\0';
    }
    return ar->client_addr;
}

int api_rate_limit(struct api_req *ar, struct ratelimiter *rl, const char *name, const char *key, size_t keylen,
                   struct rl_result *res) {
    ratelimiter_check(rl, key, keylen, clock_mono_us(), res);
    if (res->allowed)
        return 0;
    char ra[16];
    int n = snprintf(ra, sizeof(ra), "%u", res->retry_after_s);
    h2o_add_header(&ar->req->pool, &ar->req->res.headers, H2O_TOKEN_RETRY_AFTER, "Retry-After",
                   h2o_strdup(&ar->req->pool, ra, (size_t)n).base, (size_t)n);
    api_add_ratelimit_headers(ar, name, ratelimiter_policy(rl), res);
    api_reply_error(ar, LK_ERATE, "rate limit exceeded for this %s: %u requests per %u seconds; retry in %u seconds",
                    strcmp(name, "token") == 0 ? "token" : "client address", ratelimiter_policy(rl)->quota,
                    ratelimiter_policy(rl)->window_s, res->retry_after_s);
    return -1;
}

static void pipeline(struct api_req *ar) {
    struct worker *w = ar->w;
    struct server *srv = w->srv;
    h2o_req_t *req = ar->req;
    struct rl_result rl;

    if (srv->cfg.rl_ip.quota != 0) {
        const char *addr = api_client_addr(ar);
        if (addr[0] != '\0' && api_rate_limit(ar, srv->rl_ip, "ip", addr, strlen(addr), &rl) != 0)
            return;
    }

    unsigned method = api_method_parse(req->method);
    const char *path = req->path_normalized.base;
    size_t plen = req->path_normalized.len;
    if ((ar->route = api_route_request(ar, method)) == NULL)
        return;

    if (req->entity.base != NULL && req->entity.len > srv->cfg.max_body) {
        api_reply_error(ar, LK_ETOOBIG, "request body of %zu bytes exceeds the limit of %zu bytes", req->entity.len,
                        srv->cfg.max_body);
        return;
    }

    w->svc.now = clock_now();
    w->svc.now_us = clock_mono_us();

    if (ar->route->auth) {
        h2o_iovec_t cred;
        int f = find_credential(req, &cred);
        if (f == 1) {
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
        if (auth_verify_token(&w->svc, cred.base, cred.len, &ar->principal, &ar->err) != 0) {
            ar->credential_failed = 1;
            api_reply_lkerr(ar, &ar->err);
            return;
        }
        if (srv->cfg.rl_token.quota != 0) {
            const char *id = ar->principal.token->id;
            if (api_rate_limit(ar, srv->rl_token, "token", id, strlen(id), &ar->token_limit) != 0)
                return;
            ar->have_token_limit = 1;
            api_add_ratelimit_headers(ar, "token", &srv->cfg.rl_token, &ar->token_limit);
        }
    }

    const char *help = api_query(ar, "help");
    if (help != NULL && strcmp(help, "0") != 0 && strcmp(help, "false") != 0) {
        ar->help = 1;
        char allowed_list[64];
        unsigned mask = 0;
        api_route_match(0, path, plen, NULL, &mask);
        api_methods_format(mask, allowed_list, sizeof(allowed_list));
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:s, s:b}", "help", ar->route->help, "path", ar->route->pattern, "methods",
                      allowed_list, "action", ar->route->action, "authenticated", ar->route->auth);
        api_reply_json(ar, 200, body);
        return;
    }

    /* A mutation writes in one transaction that commits with its audit record
     * (audit_hook.c); reads take no transaction. */
    if (method != M_GET) {
        ar->mutating = 1;
        audit_request_begin(&w->svc);
    }
    ar->route->fn(ar);
    if (!ar->replied) {
        lk_log(LOG_ERROR, "handler for %s sent no reply", ar->route->pattern);
        api_reply_error(ar, LK_EINTERNAL, "internal error (request %s)", ar->request_id);
    }
}

void api_req_init(struct api_req *ar, struct worker *w, h2o_req_t *req) {
    memset(ar, 0, sizeof(*ar));
    ar->req = req;
    ar->w = w;
    ar->start_us = clock_mono_us();
    make_request_id(ar);
}

int api_handle(struct worker *w, h2o_req_t *req) {
    struct api_req ar;
    api_req_init(&ar, w, req);
    pipeline(&ar);
    principal_done(&ar.principal);
    return 0;
}
