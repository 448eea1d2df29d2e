/*
 * federation.h - token exchange (RFC 8693) of foreign platforms' tokens
 * for latchkey identity tokens, and the per-org trusted issuers it relies
 * on (issue 20 item 7, docs/federation.md).
 *
 * Trusted issuers. Org admins (federation.manage; the partner admin in any
 * org) create, read, change and delete them; anyone else in the org gets
 * 401 naming the permission, another org's answers exactly like a missing
 * one. A trusted issuer hands the rules' service accounts to whoever holds
 * a matching foreign token, so it obeys the subset rule: the caller must
 * hold everything each named account holds, and each account must exist.
 *
 * The exchange. The subject token's unverified "iss" only picks the trusted
 * issuer of the named org; the token is then verified by core/jwt against
 * that issuer's keys (inline, or fetched from its jwks_uri through the
 * shared cache) with the issuer and the required audience expected; its
 * claims pick the first matching rule, whose service account gets a fresh
 * identity token (oidc_sign_identity). Every refusal names its check.
 *
 * Sharing rule: one struct federation per process; its JWKS cache is
 * guarded by its mutex, which is never held during a fetch.
 */
#ifndef LK_SVC_FEDERATION_H
#define LK_SVC_FEDERATION_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "svc/oidc.h"

struct svc;
struct principal;
struct lk_error;

#define FEDERATION_LIST_DEFAULT 50
#define FEDERATION_LIST_MAX 100
/* Fetched key sets: kept this long, at most this many (the oldest goes). */
#define FEDERATION_JWKS_TTL 300
#define FEDERATION_JWKS_CACHE_MAX 64
/* An unknown kid refetches a set at most this often (a rotation). */
#define FEDERATION_JWKS_REFETCH_MIN 30
/* A fetch runs on the fetcher thread for requests on an event loop
 * (svc/federation_keys.h), bounded all the same. A failed one is
 * remembered, and not tried again, for FEDERATION_FETCH_RETRY seconds; at
 * most FEDERATION_FETCH_QUEUE_MAX URIs wait to be fetched. */
#define FEDERATION_FETCH_CONNECT_TIMEOUT 2
#define FEDERATION_FETCH_TIMEOUT 3
#define FEDERATION_FETCH_RETRY 10
#define FEDERATION_FETCH_QUEUE_MAX 16
/* Identity tokens from an exchange live this long (OIDC_TTL_DEFAULT). */
#define FEDERATION_TTL OIDC_TTL_DEFAULT

struct federation_config {
    /* --dev: issuers and jwks_uris may be http://127.0.0.1, http://[::1]
     * or http://localhost (a test's mock issuer); otherwise https only. */
    int allow_http_loopback;
    const char *ca_file; /* PEM CA bundle for fetching JWKS; NULL/"" = the system's */
};

struct federation;

/* 0, LK_ENOMEM or LK_EINTERNAL (libcurl would not start). cfg is copied
 * (ca_file must outlive fed). */
int federation_new(const struct federation_config *cfg, struct federation **ret);
void federation_free(struct federation *fed);
/* Stops the fetcher thread: the fetch under way ends, and every waiter
 * (federation_fetch_then) still queued is answered without one. Before the
 * waiters' owners go away; federation_free does it too. */
void federation_stop(struct federation *fed);
/*
 * Queues a fetch of uri (joining one queued already) and has done(arg) run
 * once it ended, on the fetcher thread: then the cache holds the key set,
 * or the failure, for a request run again. 0, or LK_EBUSY (too many
 * fetches queued), LK_EUNAVAIL (stopping), LK_ENOMEM; done is not run then.
 */
int federation_fetch_then(struct federation *fed, const char *uri, void (*done)(void *arg), void *arg);
/* How many JWKS fetches this process made (tests and diagnostics). */
uint64_t federation_fetch_count(const struct federation *fed);

/* What a create or change sets; NULL members are left as they are (a
 * change) or absent (a create: issuer, audience, rules and one of jwks or
 * jwks_uri are required). jwks is the JSON text of a JWK set; "" clears it
 * on a change (to switch to jwks_uri). */
struct federation_issuer_in {
    const char *name;
    const char *issuer;
    const char *jwks;
    const char *jwks_uri;
    const char *audience;
    const char *rules; /* JSON text of the rules array */
};

int federation_create(struct svc *svc, const struct principal *caller, const char *org,
                      const struct federation_issuer_in *in, struct trusted_issuer_rec *ret, struct lk_error *err);
int federation_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
                    struct trusted_issuer_list *ret, struct lk_error *err);
int federation_get(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                   struct trusted_issuer_rec *ret, struct lk_error *err);
int federation_update(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                      const struct federation_issuer_in *in, struct trusted_issuer_rec *ret, struct lk_error *err);
int federation_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                      struct lk_error *err);

struct federation_exchange_in {
    const char *org;           /* the org whose trusted issuers apply */
    const char *subject_token; /* the foreign JWT */
    size_t subject_len;
    const char *issuer;   /* latchkey's issuer (api_issuer) */
    const char *audience; /* of the new token; NULL: the issuer */
    /* The caller runs on an event loop: a key set to fetch is not fetched
     * here, the answer is LK_EAGAIN with fetch_uri set (federation_fetch_then). */
    int no_fetch;
};

struct federation_exchanged {
    struct oidc_issued token; /* secret: the caller wipes it */
    char org_id[STORE_OWNER_ID_MAX];
    char org[STORE_NAME_MAX];
    char trusted_issuer[STORE_NAME_MAX];
    char team[STORE_NAME_MAX];
    char sa[STORE_NAME_MAX];
    int rule;                      /* the index of the rule that matched */
    char fetch_uri[STORE_URL_MAX]; /* LK_EAGAIN: the key set to fetch first */
};

/*
 * The exchange. 0 with *ret filled. Refusals of the subject token:
 * LK_EBADTOKEN (or LK_EEXPIRED) with a message that starts with the
 * failing check: "issuer not trusted", "signature", "unknown kid",
 * "algorithm", "audience", "expired", "not yet valid", "malformed token",
 * "no rule matched", "service account". LK_EINVAL for a bad request
 * (audience), LK_EUNAVAIL when the issuer's key set cannot be fetched,
 * LK_EAGAIN (in->no_fetch) when it must be fetched first,
 * LK_ESEALED (no signing key yet), store errors.
 */
int federation_exchange(struct svc *svc, const struct federation_exchange_in *in, struct federation_exchanged *ret,
                        struct lk_error *err);

#endif
