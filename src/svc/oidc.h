/*
 * oidc.h - latchkey as an issuer of identity tokens (issue 20,
 * docs/identity.md): the signing keys behind the seal, their rotation, the
 * published key set, issuing tokens to service accounts and bound
 * workloads, and verifying latchkey's own tokens when they come back as
 * Bearer credentials.
 *
 * Keys. Each key is an ES256 key pair; its private half is stored only
 * sealed by the barrier (seal_encrypt, bound to "oidc-key:<kid>"). A key is
 * published (in the JWKS) from publish_from, signs from sign_from and stays
 * published until retire_after, which a newer key's creation sets to the
 * moment that key takes over plus OIDC_TTL_MAX, OIDC_LEEWAY and
 * OIDC_REFRESH (a worker may sign with the old key until it re-reads the
 * set): so every token a key signed expires before it leaves the JWKS. A
 * scheduled rotation publishes the new key OIDC_PUBLISH_AHEAD before it
 * signs; the first key and POST /v1/sys/oidc/rotate sign at once.
 *
 * Sharing rule: one struct oidc per process, shared by every worker thread.
 * The current key set is an immutable, refcounted snapshot (struct
 * oidc_keys); o->lock guards only which snapshot is current. A reader
 * takes a reference under the lock and uses the snapshot without it; a
 * reload builds a new snapshot outside the lock and swaps it in. Private
 * keys live only in snapshots and only while unsealed: oidc_forget() (at
 * seal) drops the current one, and every oidc_keys_get() while sealed
 * drops it too and answers LK_ESEALED.
 *
 * Keys are created only outside request transactions (oidc_tick, on the
 * background flusher thread, in its own transaction) or by the rotate
 * route, whose write commits with its audit record: a key in memory is
 * never one the store rolled back.
 */
#ifndef LK_SVC_OIDC_H
#define LK_SVC_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"

struct svc;
struct store;
struct seal;
struct principal;
struct lk_error;

/* Identity-token lifetimes, in seconds. */
#define OIDC_TTL_MIN 300
#define OIDC_TTL_MAX 86400
#define OIDC_TTL_DEFAULT 3600
/* Clock skew allowed when verifying, in seconds (at most JWT_LEEWAY_MAX). */
#define OIDC_LEEWAY 60
/* Cache-Control max-age of the JWKS, the SPIFFE bundle and discovery. */
#define OIDC_JWKS_MAX_AGE 300
/* A scheduled key is published this long before it signs (at most half
 * the rotation period): verifiers that cache the JWKS see it first. */
#define OIDC_PUBLISH_AHEAD 3600
/* The in-memory key set is re-read from the store at least this often. */
#define OIDC_REFRESH 60
/* After a rotation in this process, re-read on every use for this long: the
 * rotation's transaction commits after it returns. */
#define OIDC_RELOAD_WINDOW 5
#define OIDC_ROTATION_DEFAULT (7 * 86400)
#define OIDC_ROTATION_MIN 3600
/* Longest trust domain (a DNS name) and issuer URL. */
#define OIDC_TRUST_DOMAIN_MAX 256
#define OIDC_ISSUER_MAX 600
/* Longest requested audience. */
#define OIDC_AUDIENCE_MAX 512
/* A jti: "jwt_" and 16 hex digits; also the token cache's key. */
#define OIDC_JTI_LEN 20
/* Longest identity token issued. */
#define OIDC_TOKEN_MAX 4096

struct oidc_config {
    int64_t rotation_s;                       /* OIDC_ROTATION_MIN.. */
    char trust_domain[OIDC_TRUST_DOMAIN_MAX]; /* SPIFFE trust domain */
    int64_t ttl_min_s;                        /* shortest ttl a caller may ask for; 0 = OIDC_TTL_MIN */
};

struct oidc;

/* A new issuer over seal (shared; must outlive it). 0 or LK_ENOMEM. */
int oidc_new(const struct oidc_config *cfg, struct seal *seal, struct oidc **ret);
/* Frees o and wipes its keys. NULL-safe; no other thread may use o. */
void oidc_free(struct oidc *o);

const char *oidc_trust_domain(const struct oidc *o);

/* Called by whoever creates keys in the background (the server's flusher):
 * fn(arg) asks it to run oidc_tick() soon. Set once before workers start. */
void oidc_set_waker(struct oidc *o, void (*fn)(void *arg), void *arg);
/* Asks for an oidc_tick() soon (after an unseal, or when a request found
 * no signing key). A no-op without a waker. */
void oidc_poke(struct oidc *o);

/* Drops the current key set (wiping its private keys once the last reader
 * lets go): called when latchkey seals. */
void oidc_forget(struct oidc *o);

/* ---- the current key set ---- */

struct oidc_keys;

/*
 * A reference to the current key set (as of now), loading it from s when
 * there is none or it is due for a re-read. LK_ESEALED while sealed (the
 * set is dropped); store errors; LK_EINTEGRITY when a stored key does not
 * open. Release with oidc_keys_unref().
 */
int oidc_keys_get(struct oidc *o, struct store *s, int64_t now, struct oidc_keys **ret);
void oidc_keys_unref(struct oidc_keys *k);

/* The published keys, to verify with (immutable while k lives). */
const struct jwt_keyset *oidc_keys_verify_set(const struct oidc_keys *k);
/* The signing key, or NULL when there is none yet. */
const struct jwt_key *oidc_keys_signer(const struct oidc_keys *k);
/* The JWKS document {"keys": [...]} and the SPIFFE trust bundle (keys with
 * "use": "jwt-svid", spiffe_refresh_hint, spiffe_sequence), NUL-terminated. */
const char *oidc_keys_jwks(const struct oidc_keys *k);
const char *oidc_keys_bundle(const struct oidc_keys *k);

/* ---- rotation ---- */

/*
 * Pure: given the stored keys (any order) and now, whether a key must be
 * made, and its publish_from and sign_from. 1 with the times, or 0.
 * Rules: no key that may sign (retire_after 0) -> one signing at once;
 * else N, the newest such key by sign_from: due when now >= N.sign_from +
 * rotation - ahead (ahead = min(OIDC_PUBLISH_AHEAD, rotation / 2)), and the
 * new key signs at max(now + ahead, N.sign_from + rotation).
 */
struct oidc_key_rec;
int oidc_rotation_due(const struct oidc_key_rec *keys, size_t n, int64_t now, int64_t rotation_s,
                      int64_t *ret_publish_from, int64_t *ret_sign_from);

/*
 * Makes a key through s (the caller's transaction, or its own when there
 * is none), published now and signing from sign_from, and marks every
 * other key not yet superseded for retirement (store_oidc_key_retire).
 * *ret_kid (may be NULL; JWT_KID_MAX + 1 bytes) gets its kid. LK_ESEALED,
 * store errors.
 */
int oidc_key_create(struct oidc *o, struct store *s, int64_t now, int64_t sign_from, char *ret_kid,
                    struct lk_error *err);

/*
 * The background step (the flusher calls it every few seconds; its own
 * store connection, outside any request): while unsealed, makes the first
 * key or the next scheduled one when due, and deletes keys past their
 * retire_after. 0 (also while sealed: nothing to do), or an error.
 */
int oidc_tick(struct oidc *o, struct store *s, int64_t now);

/* POST /v1/sys/oidc/rotate: the partner admin (a narrowed root token
 * too, within its policies) makes a key that signs at once. */
int oidc_rotate(struct svc *svc, const struct principal *caller, char *ret_kid, struct lk_error *err);

/* ---- issuing and verifying ---- */

struct oidc_issue_in {
    const char *org, *team, *sa; /* the path's names */
    const char *issuer;          /* --public-url, or the URL the request came to */
    const char *audience;        /* NULL: the issuer */
    const char *workload;        /* NULL: none (a workload caller: its own) */
    int64_t ttl_s;               /* 0: OIDC_TTL_DEFAULT */
};

struct oidc_issued {
    char token[OIDC_TOKEN_MAX];
    char jti[OIDC_JTI_LEN + 1];
    char spiffe_id[OIDC_ISSUER_MAX];
    int64_t expires_at;
};

/*
 * Issues an identity token for the service account in->sa of in->org's
 * team in->team to caller, who must be that service account (an API token
 * not narrowed by policies) or a workload presenting a token of its own
 * that is bound to it now (workloads_bound, in the caller's transaction).
 * in->workload names the workload the token is for (claim "workload"): the
 * account may name any workload bound to it (how a workload gets its first
 * token, from the account's API token); a workload only itself.
 * Anyone else: 404 when the org or team is out of sight, else 401. An API
 * token never gets an identity token that outlives it. ret->token is
 * secret: the caller wipes it. LK_EINVAL (ttl, audience), LK_ESEALED (no
 * signing key yet), store errors.
 */
int oidc_issue(struct svc *svc, const struct principal *caller, const struct oidc_issue_in *in, struct oidc_issued *ret,
               struct lk_error *err);

/*
 * Signs an identity token for the service account sa of team of org (all
 * names; the caller has established that they exist and that whoever asks
 * may have it: oidc_issue for the account or its workloads,
 * federation_exchange for a trusted foreign token), with workload (NULL:
 * none), issuer, audience aud and expiry exp. No authorization here.
 * ret->token is secret: the caller wipes it. LK_ESEALED (no signing key
 * yet), LK_ERANGE, LK_ENOMEM, LK_EINTERNAL, store errors.
 */
int oidc_sign_identity(struct svc *svc, const char *org, const char *team, const char *sa, const char *workload,
                       const char *issuer, const char *aud, int64_t exp, struct oidc_issued *ret, struct lk_error *err);

/*
 * 1 if tok[0..len) has the shape of a JWT (three non-empty base64url parts),
 * else 0: the pipeline sends those to auth_verify_jwt.
 */
int oidc_looks_like_jwt(const char *tok, size_t len);

#endif
