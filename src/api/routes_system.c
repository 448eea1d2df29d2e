/*
 * routes_system.c - the system and sign-in routes (health, whoami, login,
 * logout, the permission catalogue).
 *
 * Handlers here, as in every routes_*.c, translate JSON to svc calls and
 * svc results to JSON. No rules live here: authorization, validation of
 * meaning and storage are svc's. Never logs or echoes a password; the
 * session token leaves only in the login answer and its cookie.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/seal.h"
#include "core/perm.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "lib/jsonw.h"
#include "svc/audit.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/ratelimiter.h"
#include "svc/sessions.h"
#include "svc/token_cache.h"
#include "svc/tokens.h"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "dev"
#endif

/* 503 while the audit trail is not being written: mutations are refused
 * then, so a load balancer or readiness probe should send traffic elsewhere. */
static void h_health(struct api_req *ar) {
    switch (audit_log_health(ar->ctx->cfg->audit)) {
    case AUDIT_HEALTH_FAILING:
        api_reply_error(ar, LK_EUNAVAIL,
                        "unavailable: the last audit records could not be written to the store; changes are refused "
                        "while that lasts");
        return;
    case AUDIT_HEALTH_BROKEN:
        api_reply_error(ar, LK_EUNAVAIL,
                        "unavailable: the audit store could not be synced to disk; changes are refused until latchkey "
                        "is restarted");
        return;
    default: break;
    }
    /* Vault's fields beside latchkey's own, and Vault's codes: 501 before
     * init, 503 while sealed, so a load balancer takes the node out. */
    struct seal_status st = {.initialized = 1, .sealed = 0};
    if (ar->svc->seal != NULL)
        seal_status(ar->svc->seal, &st);
    const char *status = !st.initialized ? "not initialized" : st.sealed ? "sealed" : "ok";
    /* Vault's ?activecode=, ?sealedcode=, ?uninitcode= choose the status
     * for each state (a load balancer that wants 200 while sealed); a node
     * is never a standby here, so ?standbyok= and ?standbycode= change
     * nothing but are accepted. */
    static const char *const params[] = {"uninitcode", "sealedcode", "activecode"};
    int code = !st.initialized ? 501 : st.sealed ? 503 : 200;
    const char *want = api_query(ar, params[!st.initialized ? 0 : st.sealed ? 1 : 2]);
    if (want != NULL) {
        char *end = NULL;
        long v = strtol(want, &end, 10);
        if (end == want || *end != '\0' || v < 100 || v > 599) {
            api_reply_error(ar, LK_EINVAL, "%s: an HTTP status code (100 to 599)",
                            params[!st.initialized ? 0
                                   : st.sealed     ? 1
                                                   : 2]);
            return;
        }
        code = (int)v;
        if (code == 204 || code == 304) { /* no body is allowed with these */
            api_reply_raw(ar, code, "", 0);
            return;
        }
    }
    api_reply_json(ar, code,
                   json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}", "status", status, "version", LATCHKEY_VERSION,
                             "initialized", st.initialized, "sealed", st.sealed, "standby", 0, "server_time_utc",
                             (json_int_t)ar->svc->now));
}

static void jsonw_time(struct jsonw *w, int64_t t) {
    char buf[RFC3339_BUFSZ];
    if (t == 0) {
        jsonw_null(w);
        return;
    }
    jsonw_strn(w, buf, rfc3339_format(t, buf));
}

/* The verify path's answer, written without building a JSON tree (see jsonw.h). */
static void h_whoami(struct api_req *ar) {
    const struct principal *p = &ar->principal;
    const struct token_entry *t = p->token;
    char buf[8192];
    struct jsonw w;

    api_jsonw_begin(ar, &w, buf, sizeof(buf));
    jsonw_obj_begin(&w);
    jsonw_key(&w, "principal");
    jsonw_obj_begin(&w);
    jsonw_key(&w, "type");
    jsonw_str(&w, principal_type_name(p->type));
    jsonw_key(&w, "name");
    jsonw_str(&w, p->name);
    jsonw_key(&w, "org");
    jsonw_str_or_null(&w, p->org);
    jsonw_key(&w, "team");
    jsonw_str_or_null(&w, p->team);
    jsonw_obj_end(&w);
    jsonw_key(&w, "token");
    jsonw_obj_begin(&w);
    jsonw_key(&w, "id");
    jsonw_str(&w, t->id);
    jsonw_key(&w, "expires_at");
    jsonw_time(&w, t->expires_at);
    jsonw_key(&w, "policies");
    jsonw_raw(&w, t->policies_json, strlen(t->policies_json));
    jsonw_obj_end(&w);
    jsonw_key(&w, "permissions");
    if (p->type == PRINCIPAL_ROOT) {
        jsonw_raw(&w, "[\"*\"]", 5);
    } else {
        const char *names[64];
        size_t n = perm_names(authz_effective(p), names, 64);
        jsonw_arr_begin(&w);
        for (size_t i = 0; i < n && i < 64; i++)
            jsonw_str(&w, names[i]);
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);
    api_reply_jsonw(ar, 200, &w);
}

static void set_token_cookie(struct api_req *ar, const char *value, int64_t max_age) {
    h2o_req_t *req = ar->req;
    char buf[TOKFMT_TOKEN_BUFSZ + 128];
    int n = snprintf(buf, sizeof(buf), "token=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", value,
                     (long long)max_age, api_request_https(ar) ? "; Secure" : "");
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    h2o_iovec_t v = h2o_strdup(&req->pool, buf, (size_t)n);
    explicit_bzero(buf, sizeof(buf));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, "Set-Cookie", v.base, v.len);
}

int api_login(struct api_req *ar, const char *org, const char *user, const char *pw, struct token_created *out) {
    struct rl_result rl;
    api_audit_subject(ar, org, user);
    if (sessions_login(ar->svc, org, user, pw, out, &rl, &ar->err) != 0) {
        if (ar->err.code == LK_ERATE) {
            api_reply_rate_limited(ar, "login-account", ratelimiter_policy(ar->svc->rl_login), &rl,
                                   lk_error_message(&ar->err));
            return -1;
        }
        /* A refused attempt on a real account is its org's to see (guessing
         * shows there); the per-account limit bounds how many a client can
         * put there, so one refused by that limit is not filed. Attempts on
         * names nobody holds stay out of every org's trail. */
        char org_id[STORE_OWNER_ID_MAX];
        if ((ar->err.code == LK_EBADCRED || ar->err.code == LK_EINACTIVE) &&
            sessions_account_org(ar->svc, org, user, org_id) == 0)
            api_audit_file_under(ar, org_id, org);
        /* Vault answers a refused login 400, and its clients expect that. */
        if ((ar->route->auth & API_VAULT) && (ar->err.code == LK_EBADCRED || ar->err.code == LK_EINACTIVE))
            ar->err.code = LK_EINVAL;
        api_reply_lkerr(ar, &ar->err);
        return -1;
    }
    api_audit_file_under(ar, out->rec.org_id, org);
    return 0;
}

void api_login_wipe(struct api_req *ar, const char *pw) {
    if (pw != NULL)
        explicit_bzero((char *)pw, strlen(pw));
    if (ar->req->entity.base != NULL)
        explicit_bzero((char *)ar->req->entity.base, ar->req->entity.len);
}

static void h_login(struct api_req *ar) {
    static const char *const fields[] = {"org", "username", "password", NULL};
    const char *org = NULL, *user = NULL, *pw = NULL;
    struct token_created out;
    struct rl_result rl;
    memset(&out, 0, sizeof(out));

    /* Per address, on top of the per-account limit in svc. */
    if (api_rate_limit_client(ar, ar->ctx->cfg->limit_login_ip, "login", &rl) != 0)
        return;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        goto out;
    if (api_body_string(ar, body, "org", &org) < 0 || api_body_string(ar, body, "username", &user) < 0 ||
        api_body_string(ar, body, "password", &pw) < 0)
        goto out;
    if (org == NULL || user == NULL || pw == NULL) {
        api_reply_error(ar, LK_EINVAL, "org, username and password are required");
        goto out;
    }
    if (api_login(ar, org, user, pw, &out) != 0)
        goto out;
    set_token_cookie(ar, out.token, SESSIONS_TTL_SECONDS);
    json_t *resp =
        json_pack("{s:s, s:s, s:o}", "token", out.token, "id", out.rec.id, "expires_at", api_time(out.rec.expires_at));
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    /* Don't leave the password in freed memory: wipe jansson's copy and the
     * request body it came from. */
    api_login_wipe(ar, pw);
    json_decref(body);
}

static void h_logout(struct api_req *ar) {
    if (sessions_logout(ar->svc, &ar->principal, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    set_token_cookie(ar, "", 0);
    api_reply_empty(ar);
}

/* The permission catalogue, with implications, and the built-in roles. Any
 * principal may read it: it describes the server, not anyone's data. */
static void h_permissions(struct api_req *ar) {
    json_t *items = json_array();
    for (size_t i = 0; i < perm_catalogue_count; i++) {
        const struct perm_def *d = &perm_catalogue[i];
        json_t *implies = json_array();
        const char *names[64];
        size_t n = perm_names(perm_closure((permset_t)1 << i) & ~((permset_t)1 << i), names, 64);
        for (size_t k = 0; k < n && k < 64; k++)
            json_array_append_new(implies, json_string(names[k]));
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:o}", "name", d->name, "description", d->description, "implies", implies));
    }
    json_t *roles = json_array();
    for (int r = 0; r < PERM_ROLE__COUNT; r++)
        json_array_append_new(roles, api_builtin_role_json(r));
    api_reply_json(ar, 200, json_pack("{s:o, s:o}", "items", items, "builtin_roles", roles));
}

const struct api_route api_routes_system[] = {
    {M_GET, "/v1/sys/health", API_SEALED_OK, "sys.health", h_health,
     "Liveness and readiness, without credentials: {\"status\":\"ok\", \"version\", \"initialized\", "
     "\"sealed\", \"standby\", \"server_time_utc\"}: 200 when serving, 501 before init, 503 while sealed (status "
     "\"sealed\"), and 503 with the reason while the audit trail is not being written (changes are refused then)."},
    {M_GET, "/v1/auth/whoami", 1, "auth.whoami", h_whoami,
     "Who the presented credential belongs to: {\"principal\":{type,name,org,team},\"token\":{id,expires_at,"
     "policies},\"permissions\":[...]}."},
    {M_POST, "/v1/auth/login", 0, "auth.login", h_login,
     "Password login: {\"org\", \"username\", \"password\"} -> {\"token\", \"id\", \"expires_at\"} and the same "
     "token as an HttpOnly, SameSite=Strict cookie. Programmatic-only users cannot log in. Failures never say "
     "whether the user exists; attempts are limited per account and per address."},
    {M_POST, "/v1/auth/logout", 1, "auth.logout", h_logout,
     "Ends the login session of the presented session token; 204."},
    {M_GET, "/v1/permissions", 1, "permission.list", h_permissions,
     "The permission catalogue: each \"resource.action\" with what it implies (X.manage implies X.view), and the "
     "built-in roles with their permissions."},
};
API_ROUTES_END(system);
