/*
 * oidc.c - identity tokens: signing keys behind the seal, their rotation,
 * the published key set and issuing tokens (oidc.h says the rules).
 *
 * Never logs, stores unsealed or returns a private key; never puts an
 * issued token into a message. A private key leaves the barrier only into
 * a snapshot of the current set, which is wiped when its last reference
 * goes.
 */
#include "svc/oidc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/secret.h"
#include "lib/str.h"
#include "store/store.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/seal.h"
#include "svc/svc.h"
#include "svc/token_cache.h"
#include "svc/workloads.h"

#define AAD_PREFIX "oidc-key:"

struct oidc_keys {
    atomic_int refcnt;
    struct jwt_keyset *verify; /* the published keys, public parts */
    struct jwt_key *signer;    /* NULL when none signs yet */
    char *jwks;
    char *bundle;
    int64_t reload_at; /* re-read from the store at or after this time */
};

struct oidc {
    struct oidc_config cfg;
    struct seal *seal;
    pthread_mutex_t lock;      /* guards cur only */
    struct oidc_keys *cur;     /* NULL: none loaded */
    atomic_llong reload_until; /* re-read on every use before this time */
    void (*waker)(void *arg);
    void *waker_arg;
};

int oidc_new(const struct oidc_config *cfg, struct seal *seal, struct oidc **ret) {
    struct oidc *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return LK_ENOMEM;
    o->cfg = *cfg;
    if (o->cfg.rotation_s < OIDC_ROTATION_MIN)
        o->cfg.rotation_s = OIDC_ROTATION_MIN;
    o->seal = seal;
    pthread_mutex_init(&o->lock, NULL);
    *ret = o;
    return 0;
}

static void keys_free(struct oidc_keys *k) {
    jwt_keyset_free(k->verify);
    jwt_key_free(k->signer); /* wipes the private key */
    free(k->jwks);
    free(k->bundle);
    free(k);
}

void oidc_keys_unref(struct oidc_keys *k) {
    if (k != NULL && atomic_fetch_sub(&k->refcnt, 1) == 1)
        keys_free(k);
}

void oidc_free(struct oidc *o) {
    if (o == NULL)
        return;
    oidc_keys_unref(o->cur);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

const char *oidc_trust_domain(const struct oidc *o) {
    return o->cfg.trust_domain;
}

void oidc_set_waker(struct oidc *o, void (*fn)(void *arg), void *arg) {
    o->waker = fn;
    o->waker_arg = arg;
}

void oidc_poke(struct oidc *o) {
    if (o != NULL && o->waker != NULL)
        o->waker(o->waker_arg);
}

void oidc_forget(struct oidc *o) {
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->lock);
    struct oidc_keys *old = o->cur;
    o->cur = NULL;
    pthread_mutex_unlock(&o->lock);
    oidc_keys_unref(old);
}

const struct jwt_keyset *oidc_keys_verify_set(const struct oidc_keys *k) {
    return k->verify;
}

const struct jwt_key *oidc_keys_signer(const struct oidc_keys *k) {
    return k->signer;
}

const char *oidc_keys_jwks(const struct oidc_keys *k) {
    return k->jwks;
}

const char *oidc_keys_bundle(const struct oidc_keys *k) {
    return k->bundle;
}

static int published(const struct oidc_key_rec *k, int64_t now) {
    return k->publish_from <= now && (k->retire_after == 0 || now < k->retire_after);
}

/* The signing key's index among keys, or -1: of the keys that sign by now
 * and are published, the one with the latest sign_from, preferring keys
 * not superseded (a superseded key signs only until its successor does). */
static long signer_index(const struct oidc_key_rec *keys, size_t n, int64_t now) {
    long best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (size_t i = 0; i < n; i++) {
            const struct oidc_key_rec *k = &keys[i];
            if (!published(k, now) || k->sign_from > now || (pass == 0 && k->retire_after != 0))
                continue;
            if (best < 0 || k->sign_from >= keys[best].sign_from)
                best = (long)i;
        }
    return best;
}

static void aad_of(const char *kid, char *out, size_t cap) {
    snprintf(out, cap, AAD_PREFIX "%s", kid);
}

/* Opens the sealed private key of k. */
static int open_private(struct oidc *o, const struct oidc_key_rec *k, struct jwt_key **ret) {
    char aad[sizeof(AAD_PREFIX) + STORE_NAME_MAX];
    uint8_t *der = NULL;
    size_t der_len = 0;
    aad_of(k->kid, aad, sizeof(aad));
    int r = seal_decrypt(o->seal, aad, strlen(aad), k->private_sealed, k->private_sealed_len, &der, &der_len);
    if (r != 0)
        return r;
    r = jwt_key_import_private(der, der_len, ret);
    explicit_bzero(der, der_len);
    free(der);
    if (r == 0 && strcmp(jwt_key_kid(*ret), k->kid) != 0) {
        jwt_key_free(*ret);
        r = LK_EINTEGRITY;
    }
    return r == LK_EINVAL ? LK_EINTEGRITY : r;
}

/* Builds a snapshot from the stored keys as of now. */
static int build(struct oidc *o, const struct oidc_key_list *list, int64_t now, struct oidc_keys **ret) {
    struct oidc_keys *k = calloc(1, sizeof(*k));
    json_t *keys = json_array(), *bundle_keys = json_array();
    int r = LK_ENOMEM;
    int64_t seq = 0;
    if (k == NULL || keys == NULL || bundle_keys == NULL)
        goto out;
    atomic_init(&k->refcnt, 1);
    k->reload_at = now + OIDC_REFRESH;
    for (size_t i = 0; i < list->count; i++) {
        const struct oidc_key_rec *rec = &list->items[i];
        /* The next change of the set: a key published, signing or retired. */
        int64_t events[3] = {rec->publish_from, rec->sign_from, rec->retire_after};
        for (int e = 0; e < 3; e++)
            if (events[e] > now && events[e] < k->reload_at)
                k->reload_at = events[e];
        if (!published(rec, now))
            continue;
        json_t *jwk = json_loads(rec->public_jwk, 0, NULL);
        if (!json_is_object(jwk)) {
            json_decref(jwk);
            r = LK_EINTEGRITY;
            goto out;
        }
        json_t *svid = json_deep_copy(jwk);
        if (svid == NULL || json_object_set_new(svid, "use", json_string("jwt-svid")) != 0 ||
            json_array_append_new(bundle_keys, svid) != 0 || json_array_append_new(keys, jwk) != 0) {
            json_decref(jwk);
            goto out;
        }
        if (rec->seq > seq)
            seq = rec->seq;
    }
    json_t *doc = json_pack("{s:O}", "keys", keys);
    k->jwks = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    doc = json_pack("{s:O, s:i, s:I}", "keys", bundle_keys, "spiffe_refresh_hint", OIDC_JWKS_MAX_AGE, "spiffe_sequence",
                    (json_int_t)seq);
    k->bundle = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (k->jwks == NULL || k->bundle == NULL)
        goto out;
    struct lk_error err = {0};
    r = jwt_keyset_from_jwks(k->jwks, strlen(k->jwks), &k->verify, &err);
    if (r != 0) {
        r = LK_EINTEGRITY;
        goto out;
    }
    long si = signer_index(list->items, list->count, now);
    r = si >= 0 ? open_private(o, &list->items[si], &k->signer) : 0;
out:
    json_decref(keys);
    json_decref(bundle_keys);
    if (r != 0 && k != NULL) {
        keys_free(k);
        return r;
    }
    *ret = k;
    return 0;
}

int oidc_keys_get(struct oidc *o, struct store *s, int64_t now, struct oidc_keys **ret) {
    if (seal_is_sealed(o->seal)) {
        oidc_forget(o);
        return LK_ESEALED;
    }
    int fresh_needed = now < atomic_load(&o->reload_until);
    pthread_mutex_lock(&o->lock);
    struct oidc_keys *k = o->cur;
    if (k != NULL && !fresh_needed && now < k->reload_at) {
        atomic_fetch_add(&k->refcnt, 1);
        pthread_mutex_unlock(&o->lock);
        *ret = k;
        return 0;
    }
    pthread_mutex_unlock(&o->lock);

    struct oidc_key_list list = {0};
    int r = store_oidc_key_list(s, &list);
    if (r == 0)
        r = build(o, &list, now, &k);
    oidc_key_list_done(&list);
    if (r != 0)
        return r;
    /* The set this thread built is current now; one built meanwhile by
     * another thread is as good, and is replaced. Sealed meanwhile: drop it. */
    if (seal_is_sealed(o->seal)) {
        oidc_keys_unref(k);
        oidc_forget(o);
        return LK_ESEALED;
    }
    atomic_fetch_add(&k->refcnt, 1);
    pthread_mutex_lock(&o->lock);
    struct oidc_keys *old = o->cur;
    o->cur = k;
    pthread_mutex_unlock(&o->lock);
    oidc_keys_unref(old);
    *ret = k;
    return 0;
}

int oidc_rotation_due(const struct oidc_key_rec *keys, size_t n, int64_t now, int64_t rotation_s,
                      int64_t *ret_publish_from, int64_t *ret_sign_from) {
    const struct oidc_key_rec *newest = NULL;
    for (size_t i = 0; i < n; i++)
        if (keys[i].retire_after == 0 && (newest == NULL || keys[i].sign_from > newest->sign_from))
            newest = &keys[i];
    *ret_publish_from = now;
    if (newest == NULL) {
        *ret_sign_from = now;
        return 1;
    }
    int64_t ahead = rotation_s / 2 < OIDC_PUBLISH_AHEAD ? rotation_s / 2 : OIDC_PUBLISH_AHEAD;
    if (now < newest->sign_from + rotation_s - ahead)
        return 0;
    int64_t at = newest->sign_from + rotation_s;
    *ret_sign_from = at > now + ahead ? at : now + ahead;
    return 1;
}

struct create_args {
    struct oidc *o;
    int64_t now, sign_from;
    char *ret_kid;
};

static int create_tx(struct store *s, void *arg) {
    struct create_args *a = arg;
    struct jwt_key *key = NULL;
    uint8_t der[JWT_PRIVATE_DER_MAX];
    size_t der_len = 0;
    char jwk[JWT_JWK_MAX];
    char aad[sizeof(AAD_PREFIX) + JWT_KID_MAX];
    struct oidc_key_rec rec;
    memset(&rec, 0, sizeof(rec));
    int r = jwt_key_generate_es256(&key);
    if (r != 0)
        return r;
    r = jwt_key_export_private(key, der, sizeof(der), &der_len);
    if (r == 0)
        r = jwt_key_public_jwk(key, jwk, sizeof(jwk), NULL);
    if (r == 0) {
        aad_of(jwt_key_kid(key), aad, sizeof(aad));
        r = seal_encrypt(a->o->seal, aad, strlen(aad), der, der_len, &rec.private_sealed, &rec.private_sealed_len);
    }
    explicit_bzero(der, sizeof(der));
    if (r == 0) {
        str_copy(rec.kid, sizeof(rec.kid), jwt_key_kid(key));
        str_copy(rec.alg, sizeof(rec.alg), "ES256");
        rec.public_jwk = jwk;
        rec.created_at = a->now;
        rec.publish_from = a->now;
        rec.sign_from = a->sign_from;
        r = store_oidc_key_insert(s, &rec);
        rec.public_jwk = NULL;
    }
    /* Every key not yet superseded stops signing when this one starts, and
     * stays published until all it signed has expired (oidc.h). */
    if (r == 0)
        r = store_oidc_key_retire(s, rec.kid, a->now, a->sign_from + OIDC_TTL_MAX + OIDC_LEEWAY + OIDC_REFRESH, NULL);
    if (r == 0 && a->ret_kid != NULL)
        str_copy(a->ret_kid, JWT_KID_MAX + 1, rec.kid);
    oidc_key_rec_done(&rec);
    jwt_key_free(key);
    return r;
}

int oidc_key_create(struct oidc *o, struct store *s, int64_t now, int64_t sign_from, char *ret_kid,
                    struct lk_error *err) {
    struct create_args a = {o, now, sign_from, ret_kid};
    int r = store_tx(s, create_tx, &a);
    if (r != 0)
        return lk_error_set(err, r, r == LK_ESEALED ? "latchkey is sealed" : "could not store the new signing key");
    atomic_store(&o->reload_until, now + OIDC_RELOAD_WINDOW);
    return 0;
}

int oidc_tick(struct oidc *o, struct store *s, int64_t now) {
    if (seal_is_sealed(o->seal)) {
        oidc_forget(o);
        return 0;
    }
    struct oidc_key_list list = {0};
    int r = store_oidc_key_list(s, &list);
    if (r != 0)
        return r;
    int64_t publish_from, sign_from;
    int due = oidc_rotation_due(list.items, list.count, now, o->cfg.rotation_s, &publish_from, &sign_from);
    oidc_key_list_done(&list);
    struct lk_error err = {0};
    if (due && (r = oidc_key_create(o, s, now, sign_from, NULL, &err)) != 0)
        return r;
    size_t gone = 0;
    r = store_oidc_key_delete_retired(s, now, &gone);
    if (r == 0 && gone > 0)
        atomic_store(&o->reload_until, now + OIDC_RELOAD_WINDOW);
    return r;
}

int oidc_rotate(struct svc *svc, const struct principal *caller, char *ret_kid, struct lk_error *err) {
    int r = authz_require_root(caller, NULL, "rotate the identity-token signing key", NULL, err);
    if (r != 0)
        return r;
    if (svc->oidc == NULL)
        return lk_error_set(err, LK_ESEALED, "identity tokens are not available");
    return oidc_key_create(svc->oidc, svc->store, svc->now, svc->now, ret_kid, err);
}

int oidc_looks_like_jwt(const char *tok, size_t len) {
    size_t at = 0;
    for (int part = 0; part < 3; part++) {
        size_t run = jwt_b64url_span(tok + at, len - at);
        if (run == 0)
            return 0;
        at += run;
        if (part < 2 && (at == len || tok[at] != '.'))
            return 0;
        at += part < 2;
    }
    return at == len;
}

/* The SPIFFE ID of a service account. */
static int spiffe_id(const struct oidc *o, const char *org, const char *team, const char *sa, char *out, size_t cap) {
    int n = snprintf(out, cap, "spiffe://%s/org/%s/team/%s/sa/%s", o->cfg.trust_domain, org, team, sa);
    return n < 0 || (size_t)n >= cap ? LK_ERANGE : 0;
}

int oidc_sign_identity(struct svc *svc, const char *org, const char *team, const char *sa_name, const char *workload,
                       const char *issuer, const char *aud, int64_t exp, struct oidc_issued *ret,
                       struct lk_error *err) {
    struct oidc_keys *keys = NULL;
    json_t *claims = NULL;
    int r;

    if (svc->oidc == NULL)
        return lk_error_set(err, LK_ESEALED, "identity tokens are not available");
    r = oidc_keys_get(svc->oidc, svc->store, svc->now, &keys);
    if (r == 0 && oidc_keys_signer(keys) == NULL)
        r = LK_ESEALED;
    if (r != 0) {
        oidc_keys_unref(keys);
        if (r == LK_ESEALED) {
            oidc_poke(svc->oidc);
            return lk_error_set(err, LK_ESEALED, "no identity-token signing key yet: retry in a few seconds");
        }
        return lk_error_set(err, r, "could not load the signing keys");
    }

    uint8_t rnd[8];
    if (secret_random(rnd, sizeof(rnd)) != 0) {
        oidc_keys_unref(keys);
        return lk_error_set(err, LK_EINTERNAL, "could not read random bytes");
    }
    memcpy(ret->jti, "jwt_", 4);
    secret_hex(rnd, sizeof(rnd), ret->jti + 4);
    r = spiffe_id(svc->oidc, org, team, sa_name, ret->spiffe_id, sizeof(ret->spiffe_id));
    if (r == 0) {
        claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "iss", issuer, "sub", ret->spiffe_id,
                           "aud", aud, "iat", (json_int_t)svc->now, "nbf", (json_int_t)svc->now, "exp", (json_int_t)exp,
                           "jti", ret->jti, "org", org, "team", team, "sa", sa_name);
        if (claims == NULL)
            r = LK_ENOMEM;
    }
    if (r == 0 && workload != NULL && json_object_set_new(claims, "workload", json_string(workload)) != 0)
        r = LK_ENOMEM;
    if (r == 0)
        r = jwt_sign(oidc_keys_signer(keys), claims, ret->token, sizeof(ret->token), NULL);
    json_decref(claims);
    oidc_keys_unref(keys);
    if (r != 0)
        return lk_error_set(err, r, "could not sign the identity token");
    ret->expires_at = exp;
    return 0;
}

int oidc_issue(struct svc *svc, const struct principal *caller, const struct oidc_issue_in *in, struct oidc_issued *ret,
               struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec sa;
    int r;

    if (svc->oidc == NULL)
        return lk_error_set(err, LK_ESEALED, "identity tokens are not available");
    int64_t ttl = in->ttl_s != 0 ? in->ttl_s : OIDC_TTL_DEFAULT;
    int64_t min = svc->oidc->cfg.ttl_min_s > 0 ? svc->oidc->cfg.ttl_min_s : OIDC_TTL_MIN;
    if (ttl < min || ttl > OIDC_TTL_MAX) {
        int minutes = min % 60 == 0;
        long long n = minutes ? min / 60 : min;
        return lk_error_set(err, LK_EINVAL, "ttl: %lld seconds is outside %lld %s%s .. 24 hours", (long long)ttl, n,
                            minutes ? "minute" : "second", n == 1 ? "" : "s");
    }
    const char *aud = in->audience != NULL ? in->audience : in->issuer;
    if (aud[0] == '\0' || strlen(aud) > OIDC_AUDIENCE_MAX || !str_utf8_valid(aud, strlen(aud)))
        return lk_error_set(err, LK_EINVAL, "audience: expected a non-empty string of at most %d bytes",
                            OIDC_AUDIENCE_MAX);

    r = svc_scope_load(svc, caller, in->org, in->team, &sc, err);
    if (r != 0)
        return r;
    r = store_sa_get_by_name(svc->store, sc.team.id, in->sa, &sa);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, r, "service account %s not found in team %s", in->sa, in->team);
    if (r < 0)
        return lk_error_set(err, r, "could not read the service account");

    /* Only the account itself, or a workload acting as it. */
    int self = (caller->type == PRINCIPAL_SA || caller->type == PRINCIPAL_WORKLOAD) && strcmp(caller->id, sa.id) == 0;
    if (!self)
        return lk_error_set(err, LK_EDENIED,
                            "permission denied: only service account %s itself (its API token, or the identity token "
                            "of a workload bound to it) may obtain its identity tokens",
                            in->sa);
    int64_t exp = svc->now + ttl;
    const char *workload = in->workload;
    if (caller->type == PRINCIPAL_WORKLOAD) {
        if (workload != NULL && strcmp(workload, caller->name) != 0)
            return lk_error_set(err, LK_EDENIED, "permission denied: workload %s may obtain tokens for itself only",
                                caller->name);
        workload = caller->name;
    }
    if (workload != NULL) {
        int bound = 0;
        r = workloads_bound(svc, sc.org.id, sc.team.id, workload, sa.name, &bound);
        if (r < 0)
            return lk_error_set(err, r, "could not read the workload's bindings");
        if (!bound)
            return lk_error_set(err, LK_EDENIED, "permission denied: workload %s is not bound to service account %s",
                                workload, sa.name);
    }
    if (caller->type != PRINCIPAL_WORKLOAD) {
        /* An identity token carries all the account's rights: a token
         * narrowed by policies may not obtain one, and none outlives it. */
        uint64_t narrowed = 0, full = 0;
        r = svc_reach(svc, caller, 1, &narrowed, err);
        if (r == 0)
            r = svc_reach(svc, caller, 0, &full, err);
        if (r != 0)
            return r;
        if (narrowed != full)
            return lk_error_set(err, LK_EDENIED,
                                "permission denied: this token is narrowed by its policies, and an identity token "
                                "carries all of service account %s's rights",
                                sa.name);
        if (caller->token != NULL && caller->token->expires_at != 0 && caller->token->expires_at < exp)
            exp = caller->token->expires_at;
    }

    return oidc_sign_identity(svc, sc.org.name, sc.team.name, sa.name, workload, in->issuer, aud, exp, ret, err);
}
