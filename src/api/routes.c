/*
 * routes.c - the REST route table and its handlers: translate JSON to svc
 * calls and svc results to JSON. No rules live here: authorization,
 * validation of meaning and storage are svc's.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/perm.h"
#include "core/rfc3339.h"
#include "lib/jsonw.h"
#include "server.h"
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

static json_t *nullable_str(const char *s) {
    return (s == NULL || *s == '\0') ? json_null() : json_string(s);
}

static json_t *policies_of(const char *policies_json) {
    json_t *v = json_loads(policies_json ? policies_json : "[]", 0, NULL);
    return v != NULL ? v : json_array();
}

static json_t *owner_json(const char *type, const char *id) {
    return json_pack("{s:s, s:s}", "type", type, "id", id);
}

/* A token record as listings and get answer it (never the secret). */
static json_t *token_json(const struct token_rec *r, int64_t now) {
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "id", r->id, "description",
                     r->description ? r->description : "", "owner", owner_json(r->owner_type, r->owner_id),
                     "created_by", r->created_by, "created_at", api_time(r->created_at), "expires_at",
                     api_time(r->expires_at), "last_used_at", api_time(r->last_used_at), "policies",
                     policies_of(r->policies_json), "status", tokens_status(r->expires_at, now), "org",
                     nullable_str(r->org_id), "replaced_by", nullable_str(r->replaced_by));
}

/* 503 while the audit trail is not being written: mutations are refused
 * then, so a load balancer or readiness probe should send traffic elsewhere. */
static void h_health(struct api_req *ar) {
    static const char body[] = "{\"status\":\"ok\",\"version\":\"" LATCHKEY_VERSION "\"}";
    switch (audit_log_health(ar->w->srv->audit)) {
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
    default: api_reply_raw(ar, 200, body, sizeof(body) - 1);
    }
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
    size_t len;

    jsonw_init(&w, buf, sizeof(buf));
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
    if (jsonw_finish(&w, &len) != 0) {
        api_reply_error(ar, LK_EINTERNAL, "internal error: answer too large (request %s)", ar->request_id);
        return;
    }
    api_reply_raw(ar, 200, buf, len);
}

/* Reads a token-create body (the same on every token-creating route) and
 * hands it to create; replies with the one-time secret. */
void api_token_create(struct api_req *ar, api_token_create_fn create) {
    static const char *const fields[] = {"description", "expires", "expiry_hours", "policies", NULL};
    struct token_create_in in;
    struct token_created out;
    const char *policies[TOKENS_POLICIES_MAX + 1];
    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));

    json_t *body = api_body_object(ar, 1);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "description", &in.description) < 0 ||
        api_body_string(ar, body, "expires", &in.expiry.expires) < 0)
        goto out;
    if (in.expiry.expires != NULL)
        in.expiry.expires_len = strlen(in.expiry.expires);
    int h = api_body_int(ar, body, "expiry_hours", &in.expiry.hours);
    if (h < 0)
        goto out;
    in.expiry.has_hours = h;

    json_t *pol = json_object_get(body, "policies");
    if (pol != NULL && !json_is_null(pol)) {
        if (!json_is_array(pol)) {
            api_reply_error(ar, LK_EINVAL, "policies: expected an array of strings");
            goto out;
        }
        if (json_array_size(pol) > TOKENS_POLICIES_MAX) {
            api_reply_error(ar, LK_EINVAL, "policies: at most %d entries", TOKENS_POLICIES_MAX);
            goto out;
        }
        size_t i;
        json_t *v;
        json_array_foreach(pol, i, v) {
            if (!json_is_string(v)) {
                api_reply_error(ar, LK_EINVAL, "policies[%zu]: expected a string", i);
                goto out;
            }
            policies[i] = json_string_value(v);
        }
        in.has_policies = 1;
        in.policies = policies;
        in.npolicies = json_array_size(pol);
    }

    if (create(ar, &in, &out) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    json_t *resp = token_json(&out.rec, ar->w->svc.now);
    json_object_set_new(resp, "token", json_string(out.token));
    json_t *dropped = out.dropped_json ? json_loads(out.dropped_json, 0, NULL) : NULL;
    json_object_set_new(resp, "dropped_policies", dropped ? dropped : json_array());
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    json_decref(body);
}

static json_t *token_item(struct api_req *ar, const void *item) {
    return token_json(item, ar->w->svc.now);
}

/* Pages through a token listing with ?limit= and ?cursor=. */
void api_token_list(struct api_req *ar, api_token_list_fn list_fn) {
    int limit;
    int64_t after;
    struct token_list list = {0};
    if (api_paging(ar, TOKENS_LIST_DEFAULT, TOKENS_LIST_MAX, &limit, &after) < 0)
        return;
    /* Ask for one more than the page to know whether a next page exists. */
    if (list_fn(ar, after, limit + 1, &list) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_list(ar, list.items, list.count, sizeof(*list.items), offsetof(struct token_rec, seq), limit, token_item);
    token_list_done(&list);
}

static int create_own(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return tokens_create(&ar->w->svc, &ar->principal, in, out, &ar->err);
}

static int list_own(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return tokens_list(&ar->w->svc, &ar->principal, after, limit, out, &ar->err);
}

static void h_token_create(struct api_req *ar) {
    api_token_create(ar, create_own);
}

static void h_token_list(struct api_req *ar) {
    api_token_list(ar, list_own);
}

static void h_token_get(struct api_req *ar) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    if (tokens_get(&ar->w->svc, &ar->principal, ar->params[0], &rec, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_json(ar, 200, token_json(&rec, ar->w->svc.now));
    token_rec_done(&rec);
}

static void h_token_rotate(struct api_req *ar) {
    static const char *const fields[] = {"grace_seconds", NULL};
    int64_t grace = 0;
    struct token_created out;
    memset(&out, 0, sizeof(out));
    json_t *body = api_body_object(ar, 1);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_int(ar, body, "grace_seconds", &grace) < 0)
        goto out;
    if (tokens_rotate(&ar->w->svc, &ar->principal, ar->params[0], grace, &out, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    json_t *resp = token_json(&out.rec, ar->w->svc.now);
    json_object_set_new(resp, "token", json_string(out.token));
    json_object_set_new(resp, "rotated_from", json_string(ar->params[0]));
    json_object_set_new(resp, "dropped_policies", json_array());
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    json_decref(body);
}

static void h_token_delete(struct api_req *ar) {
    if (tokens_delete(&ar->w->svc, &ar->principal, ar->params[0], &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_empty(ar);
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

static void h_login(struct api_req *ar) {
    static const char *const fields[] = {"org", "username", "password", NULL};
    const char *org = NULL, *user = NULL, *pw = NULL;
    struct token_created out;
    struct rl_result rl;
    memset(&out, 0, sizeof(out));

    /* Per address, on top of the per-account limit in svc. */
    if (api_rate_limit_client(ar, ar->w->srv->rl_login_ip, "login", &rl) != 0)
        return;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "org", &org) < 0 ||
        api_body_string(ar, body, "username", &user) < 0 || api_body_string(ar, body, "password", &pw) < 0)
        goto out;
    if (org == NULL || user == NULL || pw == NULL) {
        api_reply_error(ar, LK_EINVAL, "org, username and password are required");
        goto out;
    }
    api_audit_subject(ar, org, user);
    if (sessions_login(&ar->w->svc, org, user, pw, &out, &rl, &ar->err) != 0) {
        if (ar->err.code == LK_ERATE) {
            api_reply_rate_limited(ar, "login-account", ratelimiter_policy(ar->w->svc.rl_login), &rl,
                                   lk_error_message(&ar->err));
            goto out;
        }
        /* A refused attempt on a real account is its org's to see (guessing
         * shows there); the per-account limit bounds how many a client can
         * put there, so one refused by that limit is not filed. Attempts on
         * names nobody holds stay out of every org's trail. */
        char org_id[STORE_OWNER_ID_MAX];
        if ((ar->err.code == LK_EBADCRED || ar->err.code == LK_EINACTIVE) &&
            sessions_account_org(&ar->w->svc, org, user, org_id) == 0)
            api_audit_file_under(ar, org_id, org);
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    api_audit_file_under(ar, out.rec.org_id, org);
    set_token_cookie(ar, out.token, SESSIONS_TTL_SECONDS);
    json_t *resp =
        json_pack("{s:s, s:s, s:o}", "token", out.token, "id", out.rec.id, "expires_at", api_time(out.rec.expires_at));
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    /* Don't leave the password in freed memory: wipe jansson's copy and the
     * request body it came from. */
    if (pw != NULL)
        explicit_bzero((char *)pw, strlen(pw));
    json_decref(body);
    if (ar->req->entity.base != NULL)
        explicit_bzero((char *)ar->req->entity.base, ar->req->entity.len);
}

static void h_logout(struct api_req *ar) {
    if (sessions_logout(&ar->w->svc, &ar->principal, &ar->err) != 0) {
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
    for (int r = 0; r < PERM_ROLE__COUNT; r++) {
        const char *names[64];
        json_t *perms = json_array();
        size_t n = perm_names(perm_builtin_role_set(r), names, 64);
        for (size_t k = 0; k < n && k < 64; k++)
            json_array_append_new(perms, json_string(names[k]));
        json_array_append_new(
            roles, json_pack("{s:s, s:b, s:o}", "name", perm_builtin_role_name(r), "builtin", 1, "permissions", perms));
    }
    api_reply_json(ar, 200, json_pack("{s:o, s:o}", "items", items, "builtin_roles", roles));
}

const struct api_route api_routes[] = {
    {M_GET, "/v1/sys/health", 0, "sys.health", h_health,
     "Liveness and readiness, without credentials: {\"status\":\"ok\",\"version\":...}, or 503 with the reason "
     "while the audit trail is not being written (changes are refused then)."},
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
    {M_POST, "/v1/tokens", 1, "token.create", h_token_create,
     "Creates an API token for the caller. Body: {\"description\", \"expires\": ISO 8601 duration (P30D, PT12H) or "
     "RFC 3339 time, or \"expiry_hours\": N (at most one of the two), \"policies\": [...]}. The answer's \"token\" "
     "is shown this once and never again. Needs tokens.manage; the new token's policies lie within the calling "
     "token's (the rest are dropped), and a token made by an API token never outlives it."},
    {M_GET, "/v1/tokens", 1, "token.list", h_token_list,
     "Lists the caller's tokens (never their secrets): {\"items\":[...],\"next_cursor\"}. Query: limit (1-200), "
     "cursor."},
    {M_GET, "/v1/tokens/{id}", 1, "token.read", h_token_get,
     "One of the caller's tokens by public id: status (active, expiring, expired), expiry and last use."},
    {M_POST, "/v1/tokens/{id}/rotate", 1, "token.rotate", h_token_rotate,
     "Replaces one of the caller's tokens with a new secret keeping owner, policies, description and expiry: "
     "{\"grace_seconds\": N} keeps the old secret working N more seconds (default 0), never past its expiry. "
     "Needs tokens.manage and a token within the calling token's permissions and lifetime."},
    {M_DELETE, "/v1/tokens/{id}", 1, "token.delete", h_token_delete,
     "Revokes one of the caller's tokens at once (tokens.manage; one within the calling token's permissions); "
     "204."},
};
const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

const struct api_route_table api_route_tables[] = {
    {api_routes, &api_routes_count},
    {api_org_routes, &api_org_routes_count},
    {api_audit_routes, &api_audit_routes_count},
    {api_notice_routes, &api_notice_routes_count},
};
const size_t api_route_tables_count = sizeof(api_route_tables) / sizeof(api_route_tables[0]);
