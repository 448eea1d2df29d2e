/*
 * assets.c - answering requests for files embedded at build time
 * (assets.h): lookup by name, content negotiation, validators and the
 * headers a served page carries.
 *
 * Never touches the file system and never turns a request path into one:
 * a name either is in the table or answers 404. The bytes sent are the
 * table's own static data, not copied; a gzipped file's plain form, for
 * the rare client that refuses gzip, is inflated once and kept in the
 * shared cache (assets.h, struct api_asset_cache).
 */
#include "api/assets.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/api_internal.h"
#include "core/httpneg.h"
#include "lib/str.h"

/* Most of a requested name that a 404 repeats. */
#define ASSET_ECHO_MAX 120

const struct api_asset *api_asset_find(const struct api_asset_table *t, const char *name, size_t len) {
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = t->files[mid].name;
        size_t nlen = strlen(n);
        int c = memcmp(n, name, nlen < len ? nlen : len);
        if (c == 0)
            c = nlen < len ? -1 : nlen > len;
        if (c == 0)
            return &t->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether the client takes a gzipped body: Accept-Encoding names gzip
 * (or x-gzip, or "*" when it names neither) with a quality above 0. No
 * Accept-Encoding at all gets the plain file: the RFC allows gzip then,
 * but a plain curl would print compressed bytes. */
static int accepts_gzip(h2o_req_t *req) {
    static const char *const names[] = {"gzip", "x-gzip", "*"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_ENCODING, i)) != -1;) {
            h2o_iovec_t v = req->headers.entries[i].value;
            int q = httpneg_coding_q(v.base, v.len, names[k]);
            if (q >= 0)
                return q > 0;
        }
    }
    return 0;
}

static int none_match(h2o_req_t *req, const char *etag) {
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (httpneg_etag_listed(v.base, v.len, etag))
            return 1;
    }
    return 0;
}

/* Inflates a gzipped asset into out (a->size bytes): 0, or -1 if the
 * stored bytes do not inflate to exactly its size (a broken build). */
static int inflate_asset(const struct api_asset *a, char *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)a->data;
    zs.avail_in = (uInt)a->len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)a->size;
    int r = inflate(&zs, Z_FINISH);
    int ok = r == Z_STREAM_END && zs.total_out == a->size && zs.avail_in == 0;
    inflateEnd(&zs);
    return ok ? 0 : -1;
}

struct plain_copy {
    struct plain_copy *next;
    const struct api_asset *asset;
    char data[]; /* asset->size bytes */
};

struct api_asset_cache {
    pthread_mutex_t lock; /* guards head; a copy's data never changes once listed */
    struct plain_copy *head;
};

struct api_asset_cache *api_asset_cache_new(void) {
    struct api_asset_cache *c = calloc(1, sizeof(*c));
    if (c != NULL)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void api_asset_cache_free(struct api_asset_cache *c) {
    if (c == NULL)
        return;
    for (struct plain_copy *p = c->head, *next; p != NULL; p = next) {
        next = p->next;
        free(p);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const char *cache_find(struct api_asset_cache *c, const struct api_asset *a) {
    const char *found = NULL;
    pthread_mutex_lock(&c->lock);
    for (struct plain_copy *p = c->head; p != NULL && found == NULL; p = p->next)
        if (p->asset == a)
            found = p->data;
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* The plain file of a gzipped asset: the cache's copy, made now if it has
 * none (two workers may both inflate the first time; one copy is kept),
 * or without a cache (or memory for it) a copy in the request's pool.
 * NULL if it does not inflate. */
static const char *plain_of(struct api_asset_cache *c, h2o_req_t *req, const struct api_asset *a) {
    const char *found = c != NULL ? cache_find(c, a) : NULL;
    if (found != NULL)
        return found;
    struct plain_copy *p = c != NULL ? malloc(sizeof(*p) + a->size) : NULL;
    if (p == NULL) {
        char *out = h2o_mem_alloc_pool(&req->pool, a->size > 0 ? a->size : 1);
        return inflate_asset(a, out) == 0 ? out : NULL;
    }
    if (inflate_asset(a, p->data) != 0) {
        free(p);
        return NULL;
    }
    p->asset = a;
    pthread_mutex_lock(&c->lock);
    for (struct plain_copy *q = c->head; q != NULL && found == NULL; q = q->next)
        if (q->asset == a)
            found = q->data;
    if (found == NULL) {
        p->next = c->head;
        c->head = p;
        found = p->data;
        p = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    free(p);
    return found;
}

/* Header values here are static strings or the table's: nothing to copy. */
static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *name, const char *value) {
    h2o_add_header(&req->pool, &req->res.headers, token, name, value, strlen(value));
}

/* A header h2o has no token for; lower is its name in lower case. */
static void add_header_str(h2o_req_t *req, const char *lower, const char *name, const char *value) {
    h2o_add_header_by_str(&req->pool, &req->res.headers, lower, strlen(lower), 0, name, value, strlen(value));
}

void api_asset_serve(struct api_req *ar, const struct api_asset_mount *m, const char *name) {
    h2o_req_t *req = ar->req;
    const struct api_asset *a = api_asset_find(m->table, name, strlen(name));
    if (a == NULL) {
        char echo[ASSET_ECHO_MAX * 4 + 4];
        str_echo_n(name, strlen(name), ASSET_ECHO_MAX, echo, sizeof(echo));
        api_reply_error(ar, LK_ENOTFOUND, "no file %s%s", m->prefix, echo);
        return;
    }
    int gz = a->gzip && accepts_gzip(req);
    const char *etag = a->gzip && !gz ? a->etag_identity : a->etag;

    /* What a 304 repeats of the 200 (RFC 9110 15.4.5), and what every
     * answer of a mount carries. */
    add_header(req, H2O_TOKEN_ETAG, "ETag", etag);
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "Cache-Control", m->cache_control);
    if (a->gzip)
        add_header(req, H2O_TOKEN_VARY, "Vary", "Accept-Encoding");
    add_header_str(req, "x-content-type-options", "X-Content-Type-Options", "nosniff");
    if (m->csp != NULL) {
        add_header_str(req, "content-security-policy", "Content-Security-Policy", m->csp);
        add_header_str(req, "x-frame-options", "X-Frame-Options", "DENY");
        add_header_str(req, "referrer-policy", "Referrer-Policy", "no-referrer");
    }
    if (none_match(req, etag)) {
        api_reply_bytes(ar, 304, NULL, 0);
        return;
    }

    const char *body = a->data;
    size_t len = a->len;
    if (a->gzip && !gz) {
        if ((body = plain_of(ar->ctx->cfg->assets, req, a)) == NULL) {
            api_reply_error(ar, LK_EINTERNAL, "internal error: embedded file %s%s does not inflate", m->prefix,
                            a->name);
            return;
        }
        len = a->size;
    }
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "Content-Type", a->content_type);
    if (gz)
        add_header(req, H2O_TOKEN_CONTENT_ENCODING, "Content-Encoding", "gzip");
    api_reply_bytes(ar, 200, body, len);
}
