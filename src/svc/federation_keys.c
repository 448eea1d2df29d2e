/*
 * federation_keys.c - the shared JWKS cache of the token exchange and its
 * fetcher thread (svc/federation_keys.h).
 *
 * One fetch at a time per process, on the fetcher thread for requests on
 * an event loop: jobs are per URI, and every request waiting on the same
 * URI joins its job. A fetch that failed is remembered for
 * FEDERATION_FETCH_RETRY seconds, so a dead issuer is asked at most that
 * often and the requests that waited on it find the failure.
 */
#include "svc/federation_keys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/errors.h"
#include "core/netaddr.h"
#include "lib/clock.h"
#include "lib/str.h"
#include "lib/transfer.h"
#include "store/store.h"
#include "svc/federation.h"

/* ---- the shared JWKS cache ---- */

struct jwks_entry {
    char uri[STORE_URL_MAX]; /* "" = free */
    char *doc;               /* malloc'd JWKS text; NULL if no fetch succeeded yet */
    size_t len;
    int64_t fetched_at;        /* of doc */
    int64_t failed_at;         /* the last failed fetch; 0 = none since doc */
    char error[LK_ERRMSG_MAX]; /* its message */
    int64_t used_at;           /* for eviction */
};

/* Someone waiting on a fetch: done(arg) runs once, on the fetcher thread
 * (or the one stopping it), when the fetch has ended either way. */
struct waiter {
    void (*done)(void *arg);
    void *arg;
    struct waiter *next;
};

struct job {
    char uri[STORE_URL_MAX];
    struct waiter *waiters;
    struct job *next;
};

struct federation {
    struct federation_config cfg;
    pthread_mutex_t lock; /* guards cache and the jobs; never held during a fetch */
    struct jwks_entry cache[FEDERATION_JWKS_CACHE_MAX];
    atomic_uint_fast64_t fetches;
    pthread_cond_t cond; /* a job was queued, or stopping */
    struct job *jobs;    /* queued, the one being fetched first */
    size_t njobs;
    atomic_int stopping; /* also read by a fetch under way, which it ends */
    int started;
    pthread_t tid;
};

static void *fetcher_main(void *arg);

int federation_new(const struct federation_config *cfg, struct federation **ret) {
    struct federation *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return LK_ENOMEM;
    f->cfg = *cfg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    atomic_init(&f->fetches, 0);
    atomic_init(&f->stopping, 0);
    if (transfer_global_init() != 0) {
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return LK_EINTERNAL;
    }
    if (pthread_create(&f->tid, NULL, fetcher_main, f) != 0) {
        federation_free(f);
        return LK_EINTERNAL;
    }
    pthread_setname_np(f->tid, "lk-jwks");
    f->started = 1;
    *ret = f;
    return 0;
}

/* Runs every waiter of the jobs still queued; takes the jobs. */
static void fire_all(struct job *jobs) {
    while (jobs != NULL) {
        struct job *j = jobs;
        jobs = j->next;
        while (j->waiters != NULL) {
            struct waiter *w = j->waiters;
            j->waiters = w->next;
            w->done(w->arg);
            free(w);
        }
        free(j);
    }
}

void federation_stop(struct federation *f) {
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->stopping, 1);
    pthread_cond_signal(&f->cond);
    struct job *left = NULL;
    pthread_mutex_unlock(&f->lock);
    if (f->started) {
        pthread_join(f->tid, NULL);
        f->started = 0;
    }
    pthread_mutex_lock(&f->lock);
    left = f->jobs;
    f->jobs = NULL;
    f->njobs = 0;
    pthread_mutex_unlock(&f->lock);
    /* Nobody fetches them now: their waiters hear so (and find no keys). */
    fire_all(left);
}

void federation_free(struct federation *f) {
    if (f == NULL)
        return;
    federation_stop(f);
    for (size_t i = 0; i < FEDERATION_JWKS_CACHE_MAX; i++)
        free(f->cache[i].doc);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
    transfer_global_done();
}

int fedkeys_allow_loopback(const struct federation *f) {
    return f != NULL && f->cfg.allow_http_loopback;
}

uint64_t federation_fetch_count(const struct federation *f) {
    return f == NULL ? 0 : atomic_load(&((struct federation *)f)->fetches);
}

/* Outside --dev the server connects only to public addresses: an org
 * admin names the jwks_uri, and must not be able to make latchkey fetch
 * from its own network (a metadata service, an admin port). Checked on the
 * address libcurl is about to connect to, so a name that resolves to a
 * private address, or is re-bound to one, is refused too. */
struct guard {
    int allow_private;
    int refused;
};

static curl_socket_t guarded_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
    struct guard *g = arg;
    struct netaddr na;
    if (!g->allow_private && (netaddr_from_sockaddr(&a->addr, &na) != 0 || !netaddr_is_public(&na))) {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    struct federation *f = arg;
    return atomic_load(&f->stopping) ? 1 : 0;
}

/* GETs uri into a new malloc'd buffer. */
static int fetch(struct federation *f, const char *uri, char **ret_doc, size_t *ret_len, struct lk_error *err) {
    struct transfer t;
    struct transfer_opts o = {f->cfg.ca_file, FEDERATION_FETCH_CONNECT_TIMEOUT, FEDERATION_FETCH_TIMEOUT};
    /* One byte more than the limit, for the NUL. */
    struct transfer_body b = {malloc(JWT_JWKS_MAX + 1), JWT_JWKS_MAX, 0, 0};
    if (b.data == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    transfer_init(&t, &o, NULL);
    CURL *c = transfer_begin(&t);
    if (c == NULL) {
        free(b.data);
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    }
    atomic_fetch_add(&f->fetches, 1);
    curl_easy_setopt(c, CURLOPT_URL, uri);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, f->cfg.allow_http_loopback ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, transfer_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "latchkey");
    struct guard g = {f->cfg.allow_http_loopback, 0};
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, guarded_open);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &g);
    /* A stop ends a fetch under way at once rather than after its timeout. */
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    transfer_done(&t);
    if (rc != CURLE_OK || status != 200) {
        free(b.data);
        if (b.too_big)
            return lk_error_set(err, LK_EUNAVAIL, "the key set at jwks_uri is larger than %d bytes", JWT_JWKS_MAX);
        if (g.refused)
            return lk_error_set(
                err, LK_EUNAVAIL,
                "could not fetch the key set from jwks_uri: it resolves to an address that is not "
                "public (loopback, private, link-local or reserved), which latchkey does not fetch from");
        if (rc != CURLE_OK)
            return lk_error_set(err, LK_EUNAVAIL, "could not fetch the key set from jwks_uri: %s",
                                curl_easy_strerror(rc));
        return lk_error_set(err, LK_EUNAVAIL, "could not fetch the key set from jwks_uri: it answered %ld", status);
    }
    b.data[b.len] = '\0';
    *ret_doc = b.data;
    *ret_len = b.len;
    return 0;
}

/* The entry of uri, or NULL; under f->lock. */
static struct jwks_entry *entry_of(struct federation *f, const char *uri) {
    for (size_t i = 0; i < FEDERATION_JWKS_CACHE_MAX; i++)
        if (f->cache[i].uri[0] != '\0' && strcmp(f->cache[i].uri, uri) == 0)
            return &f->cache[i];
    return NULL;
}

/* Fetches uri and keeps what came back (or the failure) in the cache. */
static void refresh(struct federation *f, const char *uri, int64_t now) {
    char *doc = NULL;
    size_t len = 0;
    struct lk_error ferr = {0};
    int r = fetch(f, uri, &doc, &len, &ferr);
    pthread_mutex_lock(&f->lock);
    struct jwks_entry *e = entry_of(f, uri);
    if (e == NULL) {
        /* A free entry, else the one used longest ago. */
        for (size_t i = 0; i < FEDERATION_JWKS_CACHE_MAX; i++) {
            struct jwks_entry *c = &f->cache[i];
            if (e == NULL || c->uri[0] == '\0' || (e->uri[0] != '\0' && c->used_at < e->used_at))
                e = c;
            if (c->uri[0] == '\0')
                break;
        }
        free(e->doc);
        memset(e, 0, sizeof(*e));
        str_copy(e->uri, sizeof(e->uri), uri);
        e->used_at = now;
    }
    if (r == 0) {
        free(e->doc);
        e->doc = doc;
        e->len = len;
        e->fetched_at = now;
        e->failed_at = 0;
        doc = NULL;
    } else {
        e->failed_at = now;
        str_copy(e->error, sizeof(e->error), lk_error_message(&ferr));
    }
    pthread_mutex_unlock(&f->lock);
    free(doc);
}

/* What the cache holds for uri now: 1 with a copy of the document (fresh,
 * or the last one after a recent failure), 0 when a fetch is due, or the
 * recent failure's code with its message. */
static int lookup(struct federation *f, const char *uri, int64_t now, int64_t refetch_older_than, char **ret_doc,
                  size_t *ret_len, int64_t *ret_fetched_at, struct lk_error *err) {
    int out = 0;
    pthread_mutex_lock(&f->lock);
    struct jwks_entry *e = entry_of(f, uri);
    if (e != NULL) {
        e->used_at = now;
        int64_t age = now - e->fetched_at;
        int fresh = e->doc != NULL && age < FEDERATION_JWKS_TTL && (refetch_older_than < 0 || age < refetch_older_than);
        int failed = e->failed_at != 0 && now - e->failed_at < FEDERATION_FETCH_RETRY;
        if (fresh || (failed && e->doc != NULL)) {
            /* Stale if error: the issuer's keys as last seen. */
            *ret_doc = malloc(e->len + 1);
            if (*ret_doc != NULL) {
                memcpy(*ret_doc, e->doc, e->len + 1);
                *ret_len = e->len;
                *ret_fetched_at = e->fetched_at;
                out = 1;
            } else {
                out = lk_error_set(err, LK_ENOMEM, "out of memory");
            }
        } else if (failed) {
            out = lk_error_set(err, LK_EUNAVAIL, "%s", e->error);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return out;
}

int fedkeys_get(struct federation *f, const char *uri, int64_t now, int64_t refetch_older_than, int may_fetch,
                struct jwt_keyset **ret, int64_t *ret_age, struct lk_error *err) {
    char *doc = NULL;
    size_t len = 0;
    int64_t fetched_at = 0;
    int found = lookup(f, uri, now, refetch_older_than, &doc, &len, &fetched_at, err);
    if (found == 0 && !may_fetch)
        return lk_error_set(err, LK_EAGAIN, "the key set at jwks_uri is being fetched");
    if (found == 0) {
        refresh(f, uri, now);
        found = lookup(f, uri, now, refetch_older_than, &doc, &len, &fetched_at, err);
        if (found == 0) /* evicted meanwhile by other issuers' fetches */
            return lk_error_set(err, LK_EUNAVAIL, "the key set at jwks_uri could not be kept; try again");
    }
    if (found < 0)
        return found;
    struct lk_error kerr = {0};
    int r = jwt_keyset_from_jwks(doc, len, ret, &kerr);
    free(doc);
    if (r != 0)
        return lk_error_set(err, LK_EUNAVAIL, "the key set at jwks_uri is not usable: %s", lk_error_message(&kerr));
    *ret_age = now - fetched_at;
    return 0;
}

/* ---- the fetcher thread ---- */

static void *fetcher_main(void *arg) {
    struct federation *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (f->jobs == NULL && !f->stopping)
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stopping)
            break;
        struct job *j = f->jobs;
        char uri[STORE_URL_MAX];
        str_copy(uri, sizeof(uri), j->uri);
        pthread_mutex_unlock(&f->lock);
        refresh(f, uri, clock_now());
        pthread_mutex_lock(&f->lock);
        /* Waiters that joined during the fetch are answered by it too. */
        f->jobs = j->next;
        f->njobs--;
        j->next = NULL;
        pthread_mutex_unlock(&f->lock);
        fire_all(j);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int federation_fetch_then(struct federation *f, const char *uri, void (*done)(void *arg), void *arg) {
    struct waiter *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return LK_ENOMEM;
    w->done = done;
    w->arg = arg;
    pthread_mutex_lock(&f->lock);
    struct job *j = f->jobs;
    while (j != NULL && strcmp(j->uri, uri) != 0)
        j = j->next;
    int r = 0;
    if (f->stopping) {
        r = LK_EUNAVAIL;
    } else if (j == NULL && f->njobs >= FEDERATION_FETCH_QUEUE_MAX) {
        r = LK_EBUSY;
    } else if (j == NULL && (j = calloc(1, sizeof(*j))) == NULL) {
        r = LK_ENOMEM;
    } else {
        if (j->uri[0] == '\0') {
            str_copy(j->uri, sizeof(j->uri), uri);
            struct job **tail = &f->jobs;
            while (*tail != NULL)
                tail = &(*tail)->next;
            *tail = j;
            f->njobs++;
            pthread_cond_signal(&f->cond);
        }
        w->next = j->waiters;
        j->waiters = w;
        w = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    free(w);
    return r;
}
