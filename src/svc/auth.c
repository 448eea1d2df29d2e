/*
 * auth.c - credential verification on the hot path.
 *
 * Never puts the presented token into a message or a log: messages name the
 * public id only. Never compares secret material with memcmp.
 */
#include "lib/str.h"
#include "svc/auth.h"

#include <string.h>

#include "core/errors.h"
#include "core/jwt.h"
#include "core/rfc3339.h"
#include "core/secret.h"
#include "core/tokfmt.h"
#include "svc/groups.h"
#include "svc/oidc.h"
#include "svc/principal.h"
#include "svc/service_accounts.h"
#include "svc/svc.h"
#include "svc/token_cache.h"
#include "svc/workloads.h"

/* How often a load that raced a revocation reads the store again before it
 * settles for its last reading (used for this request, not cached). */
#define AUTH_LOAD_TRIES 3

/* Reads id and what its entry needs from the store. Returns a new entry
 * (refcount 1), not yet cached. */
static int read_entry(struct svc *svc, const char *id, struct token_entry **ret, struct lk_error *err) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    int r = store_token_get(svc->store, id, &rec);
    if (r == LK_ENOTFOUND) {
        /* Not a revocation: it must not keep other loads from caching. */
        token_cache_discard(svc->cache, id);
        return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", id);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not verify the token");
    /* Who the owner is and the state of their org, read once per load so
     * a cache hit needs neither. */
    struct org_rec org;
    struct user_rec user;
    struct sa_rec sa;
    struct team_rec team;
    uint64_t extra = 0, extra_org = 0;
    memset(&sa, 0, sizeof(sa));
    memset(&team, 0, sizeof(team));
    memset(&org, 0, sizeof(org));
    memset(&user, 0, sizeof(user));
    const char *owner_name = strcmp(rec.owner_type, "root") == 0 ? "root" : rec.owner_id;
    if (rec.org_id[0] != '\0') {
        r = store_org_get(svc->store, rec.org_id, &org);
        if (r == 0 && strcmp(rec.owner_type, "user") == 0) {
            r = store_user_get(svc->store, rec.owner_id, &user);
            owner_name = user.username;
            if (r == 0) /* what the user's groups grant, org-wide */
                extra_org = groups_user_permset(svc, rec.org_id, user.id);
        } else if (r == 0 && strcmp(rec.owner_type, "service_account") == 0) {
            r = store_sa_get(svc->store, rec.owner_id, &sa);
            if (r == 0)
                r = store_team_get_by_id(svc->store, sa.team_id, &team);
            owner_name = sa.name;
            sa_roles_permsets(&sa, &extra, &extra_org);
        }
        if (r == LK_ENOTFOUND) { /* the org or the owner is gone: so is the token */
            token_rec_done(&rec);
            user_rec_done(&user);
            return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", id);
        }
        if (r < 0) {
            token_rec_done(&rec);
            user_rec_done(&user);
            return lk_error_set(err, r, "could not verify the token");
        }
    }
    /* What the Vault door made it with, if it did: limited uses are taken
     * on every request, Vault policies bound the door's paths. */
    struct vault_token_rec vt;
    memset(&vt, 0, sizeof(vt));
    int vr = store_vault_token_get(svc->store, id, &vt);
    if (vr < 0 && vr != LK_ENOTFOUND) {
        token_rec_done(&rec);
        user_rec_done(&user);
        return lk_error_set(err, vr, "could not verify the token");
    }
    struct token_entry *e = token_entry_new(&rec, svc->now_us);
    if (e != NULL)
        token_entry_set_identity(e, owner_name, user.role, org.name, org.status);
    if (e != NULL)
        token_entry_set_team(e, team.name, extra, extra_org);
    if (e != NULL && vr == 0)
        token_entry_set_vault(e, vt.num_uses > 0, vt.acl);
    vault_token_rec_done(&vt);
    token_rec_done(&rec);
    user_rec_done(&user);
    if (e == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    *ret = e;
    return 0;
}

/*
 * Loads id from the store into the cache. Returns a referenced entry.
 *
 * The reads are several statements, not one snapshot, and a revocation may
 * commit on another connection meanwhile: the generation taken before
 * them keeps a possibly stale entry out of the cache (token_cache.h). Such
 * a load is read again, since the revocation may have committed by now;
 * only a load that keeps racing revocations uses its last reading, for
 * this request alone: it began before they were answered.
 */
static int load(struct svc *svc, const char *id, struct token_entry **ret, struct lk_error *err) {
    for (int attempt = 1;; attempt++) {
        uint64_t gen = token_cache_generation(svc->cache, id);
        struct token_entry *e = NULL;
        int r = read_entry(svc, id, &e, err);
        if (r < 0)
            return r;
        if (token_cache_put(svc->cache, e, gen) || attempt == AUTH_LOAD_TRIES) {
            *ret = e;
            return 0;
        }
        token_entry_unref(e);
    }
}

int auth_verify_token(struct svc *svc, const char *tok, size_t len, struct principal *ret, struct lk_error *err) {
    struct tokfmt_parsed parsed;
    uint8_t hash[SECRET_HASH_LEN];
    int r;

    if (tokfmt_parse(tok, len, &parsed) < 0)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: not a latchkey token (wrong format or checksum)");

    struct token_entry *e = token_cache_get(svc->cache, parsed.pubid, svc->now_us);
    if (e == NULL) {
        r = load(svc, parsed.pubid, &e, err);
        if (r < 0)
            return r;
    }

    secret_hash(tok, len, hash);
    if (!secret_equal(hash, e->hash, sizeof(hash))) {
        token_entry_unref(e);
        return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", parsed.pubid);
    }
    if (e->expires_at != 0 && svc->now >= e->expires_at) {
        char when[RFC3339_BUFSZ];
        rfc3339_format(e->expires_at, when);
        token_entry_unref(e);
        return lk_error_set(err, LK_EEXPIRED, "token %s expired at %s", parsed.pubid, when);
    }

    if (e->org_status[0] != '\0' && strcmp(e->org_status, "active") != 0) {
        int pending = strcmp(e->org_status, "pending") == 0;
        lk_error_set(err, LK_EINACTIVE,
                     pending ? "organisation %s is pending approval: its users and service accounts cannot "
                               "authenticate until a partner admin approves it"
                             : "organisation %s has been deactivated: its users and service accounts cannot "
                               "authenticate until a partner admin activates it again",
                     e->org_name);
        token_entry_unref(e);
        return LK_EINACTIVE;
    }

    enum principal_type type = principal_type_from_name(e->owner_type);
    if (type == PRINCIPAL_NONE) {
        token_entry_unref(e);
        return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", parsed.pubid);
    }
    /* A token with limited uses takes one now, in the store, so that every
     * worker and process counts the same uses: the request after the last
     * one is refused as a revoked token is, and the one that took the last
     * use revokes the token when it ends (principal.token_spent). */
    int64_t uses_left = -1;
    if (e->vault_limited) {
        r = store_vault_token_use(svc->store, parsed.pubid, &uses_left);
        if (r < 0) {
            token_entry_unref(e);
            if (r == LK_ENOTFOUND)
                return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", parsed.pubid);
            return lk_error_set(err, r, "could not verify the token");
        }
    }
    if (atomic_load_explicit(&e->last_used, memory_order_relaxed) < svc->now)
        atomic_store_explicit(&e->last_used, svc->now, memory_order_relaxed);

    memset(ret, 0, sizeof(*ret));
    ret->token_spent = uses_left == 0;
    ret->type = type;
    str_copy(ret->id, sizeof(ret->id), e->owner_id);
    str_copy(ret->name, sizeof(ret->name), e->owner_name[0] ? e->owner_name : e->owner_id);
    str_copy(ret->org, sizeof(ret->org), e->org_name);
    str_copy(ret->org_id, sizeof(ret->org_id), e->org_id);
    str_copy(ret->org_role, sizeof(ret->org_role), e->owner_role);
    str_copy(ret->team, sizeof(ret->team), e->team_name);
    ret->extra_perms = e->extra_perms;
    ret->org_extra_perms = e->org_extra_perms;
    ret->token = e;
    return 0;
}

/* The claims a verified identity token must carry, as strings. */
struct jwt_who {
    const char *jti, *org, *team, *sa, *workload; /* workload NULL when none */
    int64_t exp;
};

static int jwt_claims(json_t *claims, struct jwt_who *w, struct lk_error *err) {
    json_t *wl = json_object_get(claims, "workload");
    w->jti = json_string_value(json_object_get(claims, "jti"));
    w->org = json_string_value(json_object_get(claims, "org"));
    w->team = json_string_value(json_object_get(claims, "team"));
    w->sa = json_string_value(json_object_get(claims, "sa"));
    w->workload = json_string_value(wl);
    w->exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
    if (w->jti == NULL || strlen(w->jti) != OIDC_JTI_LEN || strncmp(w->jti, "jwt_", 4) != 0 || w->org == NULL ||
        w->team == NULL || w->sa == NULL || (wl != NULL && w->workload == NULL))
        return lk_error_set(err, LK_EBADTOKEN, "identity token refused: claims (jti, org, team, sa)");
    return 0;
}

/* Reads the account the token names (and the workload's binding) into a
 * new entry keyed by its jti. */
static int jwt_read_entry(struct svc *svc, const struct jwt_who *w, const uint8_t hash[SECRET_HASH_LEN],
                          struct token_entry **ret, struct lk_error *err) {
    struct org_rec org;
    struct team_rec team;
    struct sa_rec sa;
    uint64_t extra = 0, extra_org = 0;
    int r = store_org_get_by_name(svc->store, w->org, &org);
    if (r == 0)
        r = store_team_get(svc->store, org.id, w->team, &team);
    if (r == 0)
        r = store_sa_get_by_name(svc->store, team.id, w->sa, &sa);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, LK_EBADCRED, "identity token %s: its service account no longer exists", w->jti);
    if (r < 0)
        return lk_error_set(err, r, "could not verify the token");
    if (w->workload != NULL) {
        int bound = 0;
        r = workloads_bound(svc, org.id, team.id, w->workload, sa.name, &bound);
        if (r < 0)
            return lk_error_set(err, r, "could not verify the token");
        if (!bound)
            return lk_error_set(err, LK_EBADCRED,
                                "identity token %s: its workload is no longer bound to the service account", w->jti);
    }
    sa_roles_permsets(&sa, &extra, &extra_org);
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    static const char *const all[] = {"*"};
    str_copy(rec.id, sizeof(rec.id), w->jti);
    memcpy(rec.hash, hash, SECRET_HASH_LEN);
    str_copy(rec.owner_type, sizeof(rec.owner_type), "service_account");
    str_copy(rec.owner_id, sizeof(rec.owner_id), sa.id);
    str_copy(rec.org_id, sizeof(rec.org_id), org.id);
    rec.expires_at = w->exp;
    rec.created_at = svc->now;
    struct token_entry *e = NULL;
    if (token_rec_set_policies(&rec, all, 1) == 0)
        e = token_entry_new(&rec, svc->now_us);
    token_rec_done(&rec);
    if (e == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    token_entry_set_identity(e, sa.name, "", org.name, org.status);
    token_entry_set_team(e, team.name, extra, extra_org);
    e->identity = 1;
    if (w->workload != NULL)
        str_copy(e->workload, sizeof(e->workload), w->workload);
    *ret = e;
    return 0;
}

/*
 * An identity token's jti read from its payload without verifying anything:
 * only a hint for the token cache. An entry found with it counts only if
 * its digest, taken over this very token and issuer when the signature was
 * verified, is this one's (token_digest), so a token altered in any byte,
 * or presented to another issuer, misses and is verified in full.
 */
static int jti_hint(const char *tok, size_t len, char out[OIDC_JTI_LEN + 1]) {
    static const char key[] = "\"jti\":\"";
    uint8_t payload[2048];
    size_t n = 0;
    const char *p = memchr(tok, '.', len);
    const char *q = p != NULL ? memchr(p + 1, '.', len - (size_t)(p + 1 - tok)) : NULL;
    if (q == NULL || jwt_b64url_decode(p + 1, (size_t)(q - p - 1), payload, sizeof(payload), &n) != 0)
        return -1;
    for (size_t i = 0; i + sizeof(key) - 1 + OIDC_JTI_LEN < n; i++) {
        const uint8_t *v = payload + i + sizeof(key) - 1;
        if (memcmp(payload + i, key, sizeof(key) - 1) == 0 && v[OIDC_JTI_LEN] == '"' && memcmp(v, "jwt_", 4) == 0) {
            memcpy(out, v, OIDC_JTI_LEN);
            out[OIDC_JTI_LEN] = '\0';
            return 0;
        }
    }
    return -1;
}

/* What ties a cache entry to one token as one issuer accepted it: SHA-256
 * of the issuer (with its NUL) and the token. */
static void token_digest(const char *tok, size_t len, const char *issuer, uint8_t out[SECRET_HASH_LEN]) {
    secret_hash2(issuer, strlen(issuer) + 1, tok, len, out);
}

/* The principal a verified identity token's entry stands for; takes e. */
static int jwt_principal(struct token_entry *e, struct principal *ret, struct lk_error *err) {
    if (e->org_status[0] != '\0' && strcmp(e->org_status, "active") != 0) {
        int r = lk_error_set(err, LK_EINACTIVE,
                             "organisation %s is not active: its service accounts cannot authenticate until a "
                             "partner admin activates it",
                             e->org_name);
        token_entry_unref(e);
        return r;
    }
    memset(ret, 0, sizeof(*ret));
    ret->type = e->workload[0] != '\0' ? PRINCIPAL_WORKLOAD : PRINCIPAL_SA;
    str_copy(ret->id, sizeof(ret->id), e->owner_id);
    str_copy(ret->name, sizeof(ret->name), e->workload[0] != '\0' ? e->workload : e->owner_name);
    str_copy(ret->org, sizeof(ret->org), e->org_name);
    str_copy(ret->org_id, sizeof(ret->org_id), e->org_id);
    str_copy(ret->team, sizeof(ret->team), e->team_name);
    ret->extra_perms = e->extra_perms;
    ret->org_extra_perms = e->org_extra_perms;
    ret->token = e;
    return 0;
}

/* The cached entry of a token verified before, or NULL: same token, same
 * issuer, not expired (with the leeway the full check allows; nbf and iat
 * were checked then, and time only moved on). */
static struct token_entry *jwt_cached(struct svc *svc, const char *tok, size_t len,
                                      const uint8_t digest[SECRET_HASH_LEN]) {
    char jti[OIDC_JTI_LEN + 1];
    if (jti_hint(tok, len, jti) != 0)
        return NULL;
    struct token_entry *e = token_cache_get(svc->cache, jti, svc->now_us);
    if (e != NULL && (!e->identity || !secret_equal(digest, e->hash, SECRET_HASH_LEN) ||
                      strcmp(e->owner_type, "service_account") != 0 || svc->now >= e->expires_at + OIDC_LEEWAY)) {
        token_entry_unref(e);
        e = NULL;
    }
    return e;
}

int auth_verify_jwt(struct svc *svc, const char *tok, size_t len, const char *issuer, struct principal *ret,
                    struct lk_error *err) {
    struct oidc_keys *keys = NULL;
    json_t *claims = NULL;
    struct jwt_who w;
    struct lk_error why = {0};
    uint8_t digest[SECRET_HASH_LEN];
    if (svc->oidc == NULL)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: identity tokens are not accepted here");
    token_digest(tok, len, issuer, digest);
    /* Seen and verified before: as an API token's cached verify, a digest
     * compared in constant time instead of a signature checked. */
    struct token_entry *e = jwt_cached(svc, tok, len, digest);
    if (e != NULL)
        return jwt_principal(e, ret, err);

    int r = oidc_keys_get(svc->oidc, svc->store, svc->now, &keys);
    if (r != 0)
        return lk_error_set(err, r, "could not load the identity-token keys");
    struct jwt_expect want = {issuer, issuer, svc->now, OIDC_LEEWAY};
    r = jwt_verify(oidc_keys_verify_set(keys), tok, len, &want, &claims, &why);
    oidc_keys_unref(keys);
    if (r != 0)
        return lk_error_set(err, r == LK_EBADTOKEN || r == LK_EEXPIRED ? r : LK_EBADTOKEN, "identity token refused: %s",
                            lk_error_message(&why));
    r = jwt_claims(claims, &w, err);
    if (r != 0)
        goto out;

    /* The token is ours and verified; the cache spares the store reads and,
     * next time, the signature. Its digest ties an entry to this very token
     * and issuer. */
    e = token_cache_get(svc->cache, w.jti, svc->now_us);
    if (e != NULL &&
        (!secret_equal(digest, e->hash, sizeof(digest)) || strcmp(e->owner_type, "service_account") != 0)) {
        token_entry_unref(e);
        e = NULL;
    }
    for (int attempt = 1; e == NULL; attempt++) {
        uint64_t gen = token_cache_generation(svc->cache, w.jti);
        r = jwt_read_entry(svc, &w, digest, &e, err);
        if (r != 0)
            goto out;
        if (!token_cache_put(svc->cache, e, gen) && attempt < AUTH_LOAD_TRIES) {
            token_entry_unref(e);
            e = NULL;
        }
    }
    r = jwt_principal(e, ret, err);
out:
    json_decref(claims);
    return r;
}
