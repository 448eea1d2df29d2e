/*
 * federation.c - trusted issuers and the token exchange (see the header
 * and docs/federation.md).
 *
 * Never logs or stores a subject token or an issued token; refusal
 * messages never hold either (a claim the rules compare is never echoed
 * either: only the issuer, which picks the trusted issuer, is, through
 * str_echo).
 */
#include "svc/federation.h"

#include <jansson.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/claim_rules.h"
#include "core/errors.h"
#include "core/netaddr.h"
#include "core/jwt.h"
#include "core/names.h"
#include "core/perm.h"
#include "lib/str.h"
#include "lib/transfer.h"
#include "svc/authz.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/service_accounts.h"
#include "svc/svc.h"

#include "svc/federation_keys.h"

/* 1 if url is https://host..., or (allow_loopback) http:// to 127.0.0.1,
 * [::1] or localhost, with an optional port. */
static int url_ok(const char *url, int allow_loopback) {
    if (strlen(url) >= STORE_URL_MAX)
        return 0;
    if (transfer_url_ok(url, "https://", "https://"))
        return 1;
    if (!allow_loopback || !transfer_url_ok(url, "http://", "http://"))
        return 0;
    const char *h = url + strlen("http://");
    static const char *const hosts[] = {"127.0.0.1", "[::1]", "localhost", NULL};
    for (size_t i = 0; hosts[i] != NULL; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) == 0 && (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
            return 1;
    }
    return 0;
}

/* ---- trusted issuers ---- */

/* Who made a record: "root", or "type:id". */
static void created_by_of(const struct principal *p, char out[STORE_PRINCIPAL_MAX]) {
    if (p->type == PRINCIPAL_ROOT)
        str_copy(out, STORE_PRINCIPAL_MAX, "root");
    else
        snprintf(out, STORE_PRINCIPAL_MAX, "%s:%s", principal_type_name(p->type), p->id);
}

static int load(struct svc *svc, const struct principal *caller, const char *org, const char *name, const char *perm,
                struct svc_scope *sc, struct trusted_issuer_rec *ret, struct lk_error *err) {
    int r = svc_scope_require(svc, caller, org, NULL, perm, sc, err);
    if (r < 0 || name == NULL)
        return r;
    r = store_trusted_issuer_get(svc->store, sc->org.id, name, ret);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(name, strlen(name), q);
        return lk_error_set(err, r, "no trusted issuer %s in organisation %s", q, sc->org.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the trusted issuer") : 0;
}

/* Checks t's fields (everything but ids and times) and, for each rule,
 * that its account exists in the org and holds nothing the caller lacks. */
static int validate(struct svc *svc, const struct principal *caller, const struct svc_scope *sc,
                    const struct trusted_issuer_rec *t, struct lk_error *err) {
    int dev = fedkeys_allow_loopback(svc->fed);
    if (!url_ok(t->issuer, dev))
        return lk_error_set(err, LK_EINVAL,
                            dev ? "issuer: expected an https:// URL (or http:// to 127.0.0.1, [::1] or localhost in "
                                  "--dev), exactly as the issuer's tokens say it in iss"
                                : "issuer: expected an https:// URL, exactly as the issuer's tokens say it in iss");
    if ((t->jwks[0] == '\0') == (t->jwks_uri[0] == '\0'))
        return lk_error_set(err, LK_EINVAL, "give exactly one of jwks (the key set, inline) and jwks_uri");
    if (t->jwks_uri[0] != '\0' && !url_ok(t->jwks_uri, dev))
        return lk_error_set(err, LK_EINVAL,
                            dev ? "jwks_uri: expected an https:// URL (or http:// to 127.0.0.1, [::1] or localhost in "
                                  "--dev)"
                                : "jwks_uri: expected an https:// URL");
    if (t->jwks[0] != '\0') {
        struct jwt_keyset *ks = NULL;
        struct lk_error kerr = {0};
        if (jwt_keyset_from_jwks(t->jwks, strlen(t->jwks), &ks, &kerr) != 0)
            return lk_error_set(err, LK_EINVAL, "jwks: %s", lk_error_message(&kerr));
        jwt_keyset_free(ks);
    }
    if (t->audience[0] == '\0' || !str_utf8_valid(t->audience, strlen(t->audience)))
        return lk_error_set(err, LK_EINVAL, "audience: required, the aud the issuer's tokens must hold");

    json_error_t je;
    json_t *rules = json_loads(t->rules, JSON_REJECT_DUPLICATES, &je);
    if (rules == NULL)
        return lk_error_set(err, LK_EINVAL, "rules: not valid JSON");
    int r = claim_rules_check(rules, err);
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (r != 0)
            break;
        const char *team = json_string_value(json_object_get(rule, "team"));
        const char *sa = json_string_value(json_object_get(rule, "service_account"));
        char field[48];
        snprintf(field, sizeof(field), "rules[%zu].team", i);
        if ((r = name_check_slug(field, team, err)) != 0)
            break;
        snprintf(field, sizeof(field), "rules[%zu].service_account", i);
        if ((r = name_check_slug(field, sa, err)) != 0)
            break;
        struct team_rec tm;
        struct sa_rec a;
        r = store_team_get(svc->store, sc->org.id, team, &tm);
        if (r == 0)
            r = store_sa_get_by_name(svc->store, tm.id, sa, &a);
        if (r == LK_ENOTFOUND) {
            r = lk_error_set(err, LK_EINVAL, "rules[%zu]: no service account %s in team %s of organisation %s", i, sa,
                             team, sc->org.name);
            break;
        }
        if (r < 0) {
            r = lk_error_set(err, r, "could not read the service account");
            break;
        }
        /* A matching foreign token acts as the account: the caller must
         * hold everything it holds (as binding a workload requires). */
        uint64_t team_grants = 0, org_grants = 0;
        sa_roles_permsets(&a, &team_grants, &org_grants);
        char role[STORE_STATUS_MAX] = "";
        char what[STORE_NAME_MAX + 48];
        snprintf(what, sizeof(what), "service account %s", a.name);
        if (caller->type == PRINCIPAL_USER) {
            int rr = store_team_member_role(svc->store, tm.id, caller->id, role);
            if (rr < 0 && rr != LK_ENOTFOUND) {
                r = lk_error_set(err, rr, "could not read the caller's team role");
                break;
            }
        }
        r = authz_require_within(authz_team_permissions(caller, &sc->org, role),
                                 perm_service_account_default() | team_grants, what, err);
        if (r == 0) {
            snprintf(what, sizeof(what), "service account %s (its org-wide roles)", a.name);
            r = authz_require_within(authz_org_effective(caller, &sc->org), org_grants, what, err);
        }
    }
    json_decref(rules);
    return r;
}

/* Replaces *dst (malloc'd or NULL) with a copy of v. */
static int set_text(char **dst, const char *v, size_t max, const char *field, struct lk_error *err) {
    if (strlen(v) >= max)
        return lk_error_set(err, LK_EINVAL, "%s: at most %zu bytes", field, max - 1);
    char *c = strdup(v);
    if (c == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    free(*dst);
    *dst = c;
    return 0;
}

/* Copies in's given fields into t (whose jwks and rules are malloc'd or
 * NULL); LK_EINVAL when one does not fit. */
static int apply(struct trusted_issuer_rec *t, const struct federation_issuer_in *in, struct lk_error *err) {
    struct {
        const char *v, *field;
        char *dst;
        size_t cap;
    } f[] = {
        {in->issuer, "issuer", t->issuer, sizeof(t->issuer)},
        {in->jwks_uri, "jwks_uri", t->jwks_uri, sizeof(t->jwks_uri)},
        {in->audience, "audience", t->audience, sizeof(t->audience)},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].v == NULL)
            continue;
        if (strlen(f[i].v) >= f[i].cap)
            return lk_error_set(err, LK_EINVAL, "%s: at most %zu bytes", f[i].field, f[i].cap - 1);
        str_copy(f[i].dst, f[i].cap, f[i].v);
    }
    int r = set_text(&t->jwks,
                     in->jwks != NULL  ? in->jwks
                     : t->jwks != NULL ? t->jwks
                                       : "",
                     STORE_TRUSTED_JWKS_MAX, "jwks", err);
    if (r == 0)
        r = set_text(&t->rules,
                     in->rules != NULL  ? in->rules
                     : t->rules != NULL ? t->rules
                                        : "[]",
                     STORE_TRUSTED_RULES_MAX, "rules", err);
    if (r != 0)
        return r;
    /* One source of keys: setting one clears the other. */
    if (in->jwks != NULL && in->jwks[0] != '\0' && in->jwks_uri == NULL)
        t->jwks_uri[0] = '\0';
    if (in->jwks_uri != NULL && in->jwks_uri[0] != '\0' && in->jwks == NULL)
        t->jwks[0] = '\0';
    return 0;
}

static int issuer_taken(struct svc *svc, const struct svc_scope *sc, const struct trusted_issuer_rec *t,
                        struct lk_error *err) {
    struct trusted_issuer_rec *other = calloc(1, sizeof(*other));
    if (other == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    int r = store_trusted_issuer_by_issuer(svc->store, sc->org.id, t->issuer, other);
    if (r == 0 && strcmp(other->id, t->id) != 0)
        r = lk_error_set(err, LK_ECONFLICT, "issuer: organisation %s trusts it already as %s", sc->org.name,
                         other->name);
    else if (r == 0 || r == LK_ENOTFOUND)
        r = 0;
    else
        r = lk_error_set(err, r, "could not read the trusted issuers");
    trusted_issuer_rec_done(other);
    free(other);
    return r;
}

int federation_create(struct svc *svc, const struct principal *caller, const char *org,
                      const struct federation_issuer_in *in, struct trusted_issuer_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = load(svc, caller, org, NULL, "federation.manage", &sc, NULL, err);
    if (r == 0)
        r = name_check_slug("name", in->name, err);
    if (r < 0)
        return r;
    if (in->issuer == NULL || in->audience == NULL || in->rules == NULL)
        return lk_error_set(err, LK_EINVAL, "%s: required",
                            in->issuer == NULL     ? "issuer"
                            : in->audience == NULL ? "audience"
                                                   : "rules");
    struct trusted_issuer_rec *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    if (orgs_new_id("ti_", t->id, sizeof(t->id)) != 0) {
        free(t);
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    }
    str_copy(t->org_id, sizeof(t->org_id), sc.org.id);
    str_copy(t->name, sizeof(t->name), in->name);
    created_by_of(caller, t->created_by);
    t->created_at = t->updated_at = svc->now;
    r = apply(t, in, err);
    if (r == 0)
        r = validate(svc, caller, &sc, t, err);
    if (r == 0)
        r = issuer_taken(svc, &sc, t, err);
    if (r == 0) {
        r = store_trusted_issuer_insert(svc->store, t);
        if (r == LK_ECONFLICT)
            r = lk_error_set(err, r, "name: a trusted issuer named %s already exists in organisation %s", in->name,
                             sc.org.name);
        else if (r < 0)
            r = lk_error_set(err, r, "could not store the trusted issuer");
    }
    if (r == 0) {
        r = store_trusted_issuer_get(svc->store, sc.org.id, in->name, ret);
        if (r < 0)
            r = lk_error_set(err, r, "could not read the trusted issuer");
    }
    trusted_issuer_rec_done(t);
    free(t);
    return r;
}

int federation_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
                    struct trusted_issuer_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = load(svc, caller, org, NULL, "federation.view", &sc, NULL, err);
    if (r < 0)
        return r;
    r = store_trusted_issuer_list(svc->store, sc.org.id, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list trusted issuers") : 0;
}

int federation_get(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                   struct trusted_issuer_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    return load(svc, caller, org, name, "federation.view", &sc, ret, err);
}

int federation_update(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                      const struct federation_issuer_in *in, struct trusted_issuer_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = load(svc, caller, org, name, "federation.manage", &sc, ret, err);
    if (r < 0)
        return r;
    r = apply(ret, in, err);
    if (r == 0)
        r = validate(svc, caller, &sc, ret, err);
    if (r == 0)
        r = issuer_taken(svc, &sc, ret, err);
    if (r == 0) {
        ret->updated_at = svc->now;
        r = store_trusted_issuer_update(svc->store, ret);
        if (r < 0)
            r = lk_error_set(err, r, "could not update the trusted issuer");
    }
    if (r < 0)
        trusted_issuer_rec_done(ret);
    return r;
}

int federation_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                      struct lk_error *err) {
    struct svc_scope sc;
    struct trusted_issuer_rec *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    int r = load(svc, caller, org, name, "federation.manage", &sc, t, err);
    if (r == 0) {
        r = store_trusted_issuer_delete(svc->store, t->id);
        if (r < 0)
            r = lk_error_set(err, r, "could not delete the trusted issuer");
        trusted_issuer_rec_done(t);
    }
    free(t);
    return r;
}

/* ---- the exchange ---- */

/* Puts "trusted issuer <name>: " before err's message (never formatting
 * err's buffer into itself). */
static void prefix_issuer(struct lk_error *err, const char *name) {
    char was[LK_ERRMSG_MAX];
    str_copy(was, sizeof(was), lk_error_message(err));
    lk_error_set(err, err->code, "trusted issuer %s: %s", name, was);
}

/* The subject token's "iss", unverified, into out: only to pick the
 * trusted issuer whose keys then verify it. 0 or -1. */
static int unverified_iss(const char *tok, size_t len, char *out, size_t cap) {
    const char *d1 = memchr(tok, '.', len);
    if (d1 == NULL)
        return -1;
    const char *p = d1 + 1;
    const char *d2 = memchr(p, '.', len - (size_t)(p - tok));
    if (d2 == NULL || d2 == p)
        return -1;
    size_t n = (size_t)(d2 - p);
    uint8_t *buf = malloc(n);
    size_t blen = 0;
    int r = -1;
    if (buf != NULL && jwt_b64url_decode(p, n, buf, n, &blen) == 0) {
        json_t *c = json_loadb((const char *)buf, blen, JSON_REJECT_DUPLICATES, NULL);
        const json_t *iss = json_object_get(c, "iss");
        if (json_is_string(iss) && json_string_length(iss) > 0 && json_string_length(iss) < cap &&
            strlen(json_string_value(iss)) == json_string_length(iss)) {
            memcpy(out, json_string_value(iss), json_string_length(iss) + 1);
            r = 0;
        }
        json_decref(c);
    }
    free(buf);
    return r;
}

int federation_exchange(struct svc *svc, const struct federation_exchange_in *in, struct federation_exchanged *ret,
                        struct lk_error *err) {
    struct org_rec org;
    struct trusted_issuer_rec *t = NULL;
    struct jwt_keyset *keys = NULL;
    json_t *claims = NULL, *rules = NULL;
    char iss[STORE_URL_MAX];
    char qiss[STR_ECHO_BUFSZ], qorg[STR_ECHO_BUFSZ];
    int r;

    memset(ret, 0, sizeof(*ret));
    const char *aud = in->audience != NULL ? in->audience : in->issuer;
    if (aud[0] == '\0' || strlen(aud) > OIDC_AUDIENCE_MAX || !str_utf8_valid(aud, strlen(aud)))
        return lk_error_set(err, LK_EINVAL, "audience: expected a non-empty string of at most %d bytes",
                            OIDC_AUDIENCE_MAX);
    if (in->subject_len > JWT_TOKEN_MAX)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: the subject token is longer than %d bytes",
                            JWT_TOKEN_MAX);
    if (unverified_iss(in->subject_token, in->subject_len, iss, sizeof(iss)) != 0)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: the subject token is not a JWT with an iss claim");
    str_echo(iss, strlen(iss), qiss);
    str_echo(in->org, strlen(in->org), qorg);

    /* An org that does not exist, is not active or does not trust iss:
     * one answer, so the exchange tells nobody which orgs exist. */
    r = store_org_get_by_name(svc->store, in->org, &org);
    if (r == LK_ENOTFOUND || (r == 0 && strcmp(org.status, "active") != 0))
        return lk_error_set(err, LK_EBADTOKEN, "issuer not trusted: organisation %s trusts no issuer %s", qorg, qiss);
    if (r < 0)
        return lk_error_set(err, r, "could not read the organisation");
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    r = store_trusted_issuer_by_issuer(svc->store, org.id, iss, t);
    if (r == LK_ENOTFOUND) {
        r = lk_error_set(err, LK_EBADTOKEN, "issuer not trusted: organisation %s trusts no issuer %s", qorg, qiss);
        goto out;
    }
    if (r < 0) {
        r = lk_error_set(err, r, "could not read the trusted issuers");
        goto out;
    }

    struct jwt_expect want = {t->issuer, t->audience, svc->now, OIDC_LEEWAY};
    int64_t age = 0;
    if (t->jwks[0] != '\0') {
        r = jwt_keyset_from_jwks(t->jwks, strlen(t->jwks), &keys, err);
        if (r != 0) {
            r = lk_error_set(err, LK_EINTERNAL, "trusted issuer %s: its stored jwks is not usable", t->name);
            goto out;
        }
    } else {
        if (svc->fed == NULL) {
            r = lk_error_set(err, LK_EUNAVAIL, "fetching key sets is not available");
            goto out;
        }
        r = fedkeys_get(svc->fed, t->jwks_uri, svc->now, -1, !in->no_fetch, &keys, &age, err);
        if (r == LK_EAGAIN)
            str_copy(ret->fetch_uri, sizeof(ret->fetch_uri), t->jwks_uri);
        if (r != 0) {
            prefix_issuer(err, t->name);
            goto out;
        }
    }
    struct lk_error verr = {0};
    r = jwt_verify(keys, in->subject_token, in->subject_len, &want, &claims, &verr);
    if (r == LK_EBADTOKEN && t->jwks_uri[0] != '\0' && strcmp(lk_error_message(&verr), "unknown kid") == 0 &&
        age >= FEDERATION_JWKS_REFETCH_MIN) {
        /* The issuer may have rotated its keys since the copy was fetched. */
        jwt_keyset_free(keys);
        keys = NULL;
        r = fedkeys_get(svc->fed, t->jwks_uri, svc->now, FEDERATION_JWKS_REFETCH_MIN, !in->no_fetch, &keys, &age, err);
        if (r == LK_EAGAIN)
            str_copy(ret->fetch_uri, sizeof(ret->fetch_uri), t->jwks_uri);
        if (r != 0) {
            prefix_issuer(err, t->name);
            goto out;
        }
        memset(&verr, 0, sizeof(verr));
        r = jwt_verify(keys, in->subject_token, in->subject_len, &want, &claims, &verr);
    }
    if (r == LK_EBADTOKEN || r == LK_EEXPIRED) {
        const char *m = lk_error_message(&verr);
        if (strncmp(m, "audience", 8) == 0)
            r = lk_error_set(err, r,
                             "audience: the subject token's aud does not hold %s, which trusted issuer %s "
                             "requires",
                             t->audience, t->name);
        else
            r = lk_error_set(err, r, "%s (subject token from trusted issuer %s)", m, t->name);
        goto out;
    }
    if (r != 0) {
        r = lk_error_set(err, r, "could not verify the subject token");
        goto out;
    }

    rules = json_loads(t->rules, 0, NULL);
    int idx = claim_rules_match(rules, claims);
    if (idx < 0) {
        r = lk_error_set(err, LK_EBADTOKEN,
                         "no rule matched: the subject token's claims match none of trusted issuer %s's %zu rule(s)",
                         t->name, json_array_size(rules));
        goto out;
    }
    json_t *rule = json_array_get(rules, (size_t)idx);
    const char *team = json_string_value(json_object_get(rule, "team"));
    const char *sa = json_string_value(json_object_get(rule, "service_account"));
    struct team_rec tm;
    struct sa_rec a;
    r = store_team_get(svc->store, org.id, team, &tm);
    if (r == 0)
        r = store_sa_get_by_name(svc->store, tm.id, sa, &a);
    if (r == LK_ENOTFOUND) {
        r = lk_error_set(err, LK_EBADTOKEN,
                         "service account: rule %d of trusted issuer %s names service account %s of team %s, which "
                         "does not exist",
                         idx, t->name, sa, team);
        goto out;
    }
    if (r < 0) {
        r = lk_error_set(err, r, "could not read the service account");
        goto out;
    }
    r = oidc_sign_identity(svc, org.name, tm.name, a.name, NULL, in->issuer, aud, svc->now + FEDERATION_TTL,
                           &ret->token, err);
    if (r != 0)
        goto out;
    str_copy(ret->org_id, sizeof(ret->org_id), org.id);
    str_copy(ret->org, sizeof(ret->org), org.name);
    str_copy(ret->trusted_issuer, sizeof(ret->trusted_issuer), t->name);
    str_copy(ret->team, sizeof(ret->team), tm.name);
    str_copy(ret->sa, sizeof(ret->sa), a.name);
    ret->rule = idx;
out:
    json_decref(rules);
    json_decref(claims);
    jwt_keyset_free(keys);
    if (t != NULL)
        trusted_issuer_rec_done(t);
    free(t);
    return r;
}
