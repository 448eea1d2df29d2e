/*
 * routes_oidc.c - latchkey as an identity-token issuer (docs/identity.md):
 * OIDC discovery, the JWKS and the SPIFFE bundle (public, cacheable),
 * issuing a service account's identity token, and rotating the signing
 * key. JSON in and out only: who may obtain a token, the keys and their
 * rotation live in svc/oidc.c.
 *
 * Never logs or audits an issued token: the audit record names the
 * service account (the path) and the token's jti.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/duration.h"
#include "core/rfc3339.h"
#include "svc/oidc.h"

/* The current key set for a public document; replies itself on failure. */
static struct oidc_keys *keys_or_reply(struct api_req *ar) {
    struct oidc_keys *k = NULL;
    int r = ar->svc->oidc != NULL ? oidc_keys_get(ar->svc->oidc, ar->svc->store, ar->svc->now, &k) : LK_ESEALED;
    if (r != 0) {
        api_reply_error(ar, r,
                        r == LK_ESEALED ? "identity-token keys are not available while latchkey is sealed"
                                        : "could not load the identity-token keys");
        return NULL;
    }
    return k;
}

static void h_jwks(struct api_req *ar) {
    struct oidc_keys *k = keys_or_reply(ar);
    if (k == NULL)
        return;
    const char *doc = oidc_keys_jwks(k);
    api_cacheable(ar, OIDC_JWKS_MAX_AGE);
    api_reply_raw(ar, 200, doc, strlen(doc));
    oidc_keys_unref(k);
}

static void h_bundle(struct api_req *ar) {
    struct oidc_keys *k = keys_or_reply(ar);
    if (k == NULL)
        return;
    const char *doc = oidc_keys_bundle(k);
    api_cacheable(ar, OIDC_JWKS_MAX_AGE);
    api_reply_raw(ar, 200, doc, strlen(doc));
    oidc_keys_unref(k);
}

static void h_discovery(struct api_req *ar) {
    const char *iss = api_issuer(ar);
    if (iss == NULL)
        return;
    size_t n = strlen(iss) + sizeof("/v1/oidc/jwks");
    char *jwks = h2o_mem_alloc_pool(&ar->req->pool, n);
    snprintf(jwks, n, "%s/v1/oidc/jwks", iss);
    json_t *body =
        json_pack("{s:s, s:s, s:[s], s:[s], s:[s], s:[s,s,s,s,s,s,s,s,s,s,s,s], s:[s]}", "issuer", iss, "jwks_uri",
                  jwks, "id_token_signing_alg_values_supported", "ES256", "subject_types_supported", "public",
                  "response_types_supported", "id_token", "claims_supported", "iss", "sub", "aud", "iat", "nbf", "exp",
                  "jti", "org", "team", "sa", "workload", "spiffe_id", "scopes_supported", "openid");
    api_cacheable(ar, OIDC_JWKS_MAX_AGE);
    api_reply_json(ar, 200, body);
}

static void h_identity_token(struct api_req *ar) {
    static const char *const fields[] = {"audience", "ttl", "workload", NULL};
    const char *aud = NULL, *ttl = NULL, *workload = NULL;
    json_t *body = api_body_fields(ar, 1, fields);
    if (body == NULL)
        return;
    struct oidc_issue_in in = {api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"), NULL, NULL, NULL, 0};
    if (api_body_string(ar, body, "audience", &aud) < 0 || api_body_string(ar, body, "ttl", &ttl) < 0 ||
        api_body_string(ar, body, "workload", &workload) < 0)
        goto out;
    if (ttl != NULL && duration_any_seconds(ttl, strlen(ttl), &in.ttl_s, &ar->err) != 0) {
        api_reply_error(ar, LK_EINVAL, "ttl: expected a duration such as \"1h\", \"30m\" or \"PT1H\"");
        goto out;
    }
    if (ttl != NULL && in.ttl_s == 0) {
        api_reply_error(ar, LK_EINVAL, "ttl: expected a duration longer than zero");
        goto out;
    }
    if ((in.issuer = api_issuer(ar)) == NULL)
        goto out;
    in.audience = aud;
    in.workload = workload;
    struct oidc_issued *t = h2o_mem_alloc_pool(&ar->req->pool, sizeof(*t));
    if (oidc_issue(ar->svc, &ar->principal, &in, t, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    h2o_iovec_t path = api_logged_path(ar->req);
    size_t n = path.len + sizeof(" jti=") + OIDC_JTI_LEN;
    char *res = h2o_mem_alloc_pool(&ar->req->pool, n);
    snprintf(res, n, "%.*s jti=%s", (int)path.len, path.base, t->jti);
    ar->audit_resource = res;
    char when[RFC3339_BUFSZ];
    rfc3339_format(t->expires_at, when);
    api_reply_json(ar, 200,
                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", t->token, "expires_at", when, "token_type", "Bearer",
                             "spiffe_id", t->spiffe_id, "jti", t->jti));
    explicit_bzero(t->token, sizeof(t->token));
out:
    json_decref(body);
}

static void h_rotate(struct api_req *ar) {
    char kid[JWT_KID_MAX + 1];
    if (oidc_rotate(ar->svc, &ar->principal, kid, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_json(ar, 200, json_pack("{s:s}", "kid", kid));
}

const struct api_route api_routes_oidc[] = {
    {M_GET, "/.well-known/openid-configuration", 0, "oidc.discovery", h_discovery,
     "OpenID Connect discovery for latchkey's identity tokens: issuer, jwks_uri, ES256. Public and cacheable."},
    {M_GET, "/v1/oidc/jwks", 0, "oidc.jwks", h_jwks,
     "The published identity-token signing keys as a JWK set (a key appears before it signs and stays until every "
     "token it signed has expired). Public and cacheable."},
    {M_GET, "/v1/oidc/spiffe-bundle", 0, "oidc.spiffe_bundle", h_bundle,
     "The same keys as a SPIFFE trust bundle (use jwt-svid, spiffe_refresh_hint, spiffe_sequence). Public and "
     "cacheable."},
    {M_POST, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/identity-token", API_AUTH, "sa.identity_token",
     h_identity_token,
     "A signed identity token (JWT, ES256, a SPIFFE JWT-SVID) for the service account: {\"audience\": default the "
     "issuer, \"ttl\": \"1h\" (5m .. 24h, ISO 8601 or Go-style), \"workload\": a workload bound to the account, "
     "for its token}. Only the account itself (its API token) or a "
     "workload bound to it (its identity token) may ask. {\"token\", \"expires_at\", \"token_type\", \"spiffe_id\", "
     "\"jti\"}."},
    {M_POST, "/v1/sys/oidc/rotate", API_AUTH, "sys.oidc.rotate", h_rotate,
     "Root only: makes a new identity-token signing key that signs at once; the old ones stay published until "
     "every token they signed has expired. {\"kid\"}."},
};
API_ROUTES_END(oidc);
