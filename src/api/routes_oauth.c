/*
 * routes_oauth.c - POST /v1/oauth/token: OAuth 2.0 Token Exchange
 * (RFC 8693) of a foreign platform's JWT for a latchkey identity token
 * (docs/federation.md). The rules live in svc/federation.c; this file
 * speaks OAuth's wire format:
 *
 *   - the request is application/x-www-form-urlencoded (RFC 6749 section
 *     4.1.3, RFC 8693 section 2.1), read by core/form.c: percent-decoding,
 *     a parameter given twice refused (RFC 6749 section 3.2);
 *   - answers are {"access_token", "issued_token_type", "token_type":
 *     "Bearer" or "N_A", "expires_in"} (RFC 8693 section 2.2.1), and refusals
 *     {"error", "error_description"} with 400 (RFC 6749 section 5.2). The
 *     refusal also carries latchkey's {"errors": [description]}, so
 *     clients of both conventions read it; answers the pipeline gives
 *     before this handler (429, 503 sealed, 413) are latchkey's alone.
 *
 * The route is unauthenticated (its credential is the subject token in
 * the body) and is marked API_BODY_CREDENTIAL: the pipeline reads no
 * cookie for it and skips the CSRF check (see csrf.c). Never logs or
 * audits a token; the audit record names the org, the trusted issuer, the
 * service account and the new token's jti, and is filed under the org.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "core/form.h"
#include "lib/str.h"
#include "svc/federation.h"

#define GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define TOKEN_TYPE_JWT "urn:ietf:params:oauth:token-type:jwt"
#define TOKEN_TYPE_ID_TOKEN "urn:ietf:params:oauth:token-type:id_token"
#define TOKEN_TYPE_ACCESS "urn:ietf:params:oauth:token-type:access_token"

static void oauth_error(struct api_req *ar, int status, const char *code, const char *desc) {
    api_reply_json(ar, status,
                   json_pack("{s:s, s:s, s:[s]}", "error", code, "error_description", desc, "errors", desc));
}

/* 1 if the Content-Type is application/x-www-form-urlencoded (parameters allowed). */
static int is_form(h2o_req_t *req) {
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;
    return v.len >= n && strncasecmp(v.base, want, n) == 0 && (v.len == n || v.base[n] == ';' || v.base[n] == ' ');
}

static void h_token(struct api_req *ar) {
    static const char *const known[] = {"grant_type", "subject_token", "subject_token_type", "requested_token_type",
                                        "audience",   "org",           "resource",           "scope",
                                        NULL};
    h2o_req_t *req = ar->req;
    struct form f = {0};
    struct lk_error ferr = {0};
    char msg[LK_ERRMSG_MAX];

    if (!is_form(req)) {
        oauth_error(ar, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded (RFC 6749)");
        return;
    }
    if (form_parse(req->entity.base != NULL ? req->entity.base : "", req->entity.len, &f, &ferr) != 0) {
        oauth_error(ar, 400, "invalid_request", lk_error_message(&ferr));
        goto out;
    }
    for (size_t i = 0; i < f.count; i++) {
        size_t k = 0;
        while (known[k] != NULL && strcmp(known[k], f.fields[i].name) != 0)
            k++;
        if (known[k] == NULL) {
            char q[STR_ECHO_BUFSZ];
            str_echo(f.fields[i].name, strlen(f.fields[i].name), q);
            snprintf(msg, sizeof(msg), "unknown parameter %s", q);
            oauth_error(ar, 400, "invalid_request", msg);
            goto out;
        }
    }
    const char *grant = form_get(&f, "grant_type");
    if (grant == NULL) {
        oauth_error(ar, 400, "invalid_request", "grant_type: required");
        goto out;
    }
    if (strcmp(grant, GRANT_TOKEN_EXCHANGE) != 0) {
        oauth_error(ar, 400, "unsupported_grant_type", "grant_type: only " GRANT_TOKEN_EXCHANGE " is supported");
        goto out;
    }
    const char *subject = form_get(&f, "subject_token");
    const char *stype = form_get(&f, "subject_token_type");
    const char *org = form_get(&f, "org");
    const char *rtype = form_get(&f, "requested_token_type");
    const char *aud = form_get(&f, "audience");
    if (subject == NULL || subject[0] == '\0' || stype == NULL || org == NULL || org[0] == '\0') {
        oauth_error(ar, 400, "invalid_request",
                    subject == NULL || subject[0] == '\0' ? "subject_token: required"
                    : stype == NULL                       ? "subject_token_type: required"
                                                          : "org: required (the organisation whose trusted issuers "
                                                            "apply)");
        goto out;
    }
    if (strcmp(stype, TOKEN_TYPE_JWT) != 0 && strcmp(stype, TOKEN_TYPE_ID_TOKEN) != 0) {
        oauth_error(ar, 400, "invalid_request",
                    "subject_token_type: expected " TOKEN_TYPE_JWT " (or " TOKEN_TYPE_ID_TOKEN ")");
        goto out;
    }
    if (rtype != NULL && strcmp(rtype, TOKEN_TYPE_JWT) != 0 && strcmp(rtype, TOKEN_TYPE_ACCESS) != 0) {
        oauth_error(ar, 400, "invalid_request",
                    "requested_token_type: latchkey issues " TOKEN_TYPE_JWT " (an identity token) only");
        goto out;
    }
    if (form_get(&f, "resource") != NULL || form_get(&f, "scope") != NULL) {
        oauth_error(ar, 400, "invalid_target",
                    "resource and scope are not supported: the rules of the trusted issuer decide the service "
                    "account, and audience names who the new token is for");
        goto out;
    }
    const char *issuer = api_issuer(ar);
    if (issuer == NULL)
        goto out;
    /* On the loop: a key set to fetch is fetched off it, and the request
     * runs again once it is here (rerun.c). */
    struct federation_exchange_in in = {org, subject, strlen(subject), issuer, aud, 1};
    struct federation_exchanged *x = h2o_mem_alloc_pool(&req->pool, sizeof(*x));
    int r = federation_exchange(ar->svc, &in, x, &ar->err);
    if (r == LK_EAGAIN && api_rerun_after_fetch(ar, x->fetch_uri) == 0)
        goto out;
    if (r == LK_EAGAIN)
        r = lk_error_set(&ar->err, LK_EUNAVAIL, "the issuer's key set is being fetched; try again");
    if (r != 0) {
        const char *m = lk_error_message(&ar->err);
        if (r == LK_EBADTOKEN || r == LK_EEXPIRED)
            oauth_error(ar, 400, "invalid_grant", m);
        else if (r == LK_EINVAL)
            oauth_error(ar, 400, "invalid_request", m);
        else if (r == LK_EUNAVAIL || r == LK_ESEALED || r == LK_EBUSY)
            oauth_error(ar, 503, "temporarily_unavailable", m);
        else
            api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    h2o_iovec_t path = api_logged_path(req);
    size_t n = path.len + 3 * STORE_NAME_MAX + OIDC_JTI_LEN + 64;
    char *res = h2o_mem_alloc_pool(&req->pool, n);
    snprintf(res, n, "%.*s issuer=%s sa=%s/%s jti=%s", (int)path.len, path.base, x->trusted_issuer, x->team, x->sa,
             x->token.jti);
    ar->audit_resource = res;
    api_audit_file_under(ar, x->org_id, x->org);
    /* RFC 8693 section 2.2.1: "Bearer" where the token is usable as an
     * access token (here, at latchkey itself: its audience is the
     * issuer), else "N_A". */
    const char *type = aud == NULL || strcmp(aud, issuer) == 0 ? "Bearer" : "N_A";
    api_reply_json(ar, 200,
                   json_pack("{s:s, s:s, s:s, s:I}", "access_token", x->token.token, "issued_token_type",
                             TOKEN_TYPE_JWT, "token_type", type, "expires_in",
                             (json_int_t)(x->token.expires_at - ar->svc->now)));
    explicit_bzero(x->token.token, sizeof(x->token.token));
out:
    form_done(&f);
}

const struct api_route api_routes_oauth[] = {
    {M_POST, "/v1/oauth/token", API_BODY_CREDENTIAL, "oauth.token_exchange", h_token,
     "OAuth 2.0 Token Exchange (RFC 8693), application/x-www-form-urlencoded: grant_type="
     "urn:ietf:params:oauth:grant-type:token-exchange, subject_token (a foreign JWT), subject_token_type="
     "urn:ietf:params:oauth:token-type:jwt, org (whose trusted issuers apply), audience (optional, of the new "
     "token). Answers {\"access_token\" (a latchkey identity token), \"issued_token_type\", \"token_type\": "
     "\"Bearer\" (for latchkey) or \"N_A\" (another audience), \"expires_in\"}; refusals are OAuth errors {\"error\", "
     "\"error_description\"} naming the failing "
     "check."},
};
API_ROUTES_END(oauth);
