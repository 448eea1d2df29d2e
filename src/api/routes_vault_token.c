/*
 * routes_vault_token.c - Vault's token endpoints at /v1/auth/token/...
 * (create, create-orphan, lookup[-self|-accessor], renew[-self|-accessor],
 * revoke[-self|-accessor|-orphan]) over latchkey tokens
 * (svc/vault_tokens.h). PUT and POST mean the same; lookup-self also
 * answers GET. Vault's shapes: create and renew answer the envelope with
 * `auth`, lookups with `data`, revokes 204; a refusal is 403 (respond.c).
 *
 * JSON in and out only; the rules are svc/vault_tokens.c's. The only
 * secrets answered are the new token's (create) and the one the caller
 * presented (lookup, renew).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "svc/vault_tokens.h"

/* The request's credential, NUL-terminated in the request pool. */
static const char *presented(struct api_req *ar) {
    return h2o_strdup(&ar->req->pool, ar->credential.base, ar->credential.len).base;
}

static json_t *policies_json(const struct vault_token_rec *vt) {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < vt->npolicies; i++)
        json_array_append_new(a, json_string(vt->policies[i]));
    return a;
}

/* meta as stored (a JSON object), or null. */
static json_t *meta_json(const struct vault_token_rec *vt) {
    json_t *m = vt->meta != NULL ? json_loads(vt->meta, 0, NULL) : NULL;
    return m != NULL ? m : json_null();
}

static json_t *warnings_json(const struct vault_token_view *v) {
    if (v->nwarnings == 0)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < v->nwarnings; i++)
        json_array_append_new(a, json_string(v->warnings[i]));
    return a;
}

static int64_t ttl_left(const struct api_req *ar, const struct vault_token_view *v) {
    return v->tok.expires_at != 0 && v->tok.expires_at > ar->svc->now ? v->tok.expires_at - ar->svc->now : 0;
}

/* Vault's `auth` object of a create or renew answer. */
static json_t *auth_json(struct api_req *ar, const struct vault_token_view *v) {
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:b, s:s, s:s, s:b, s:n, s:I}", "client_token", v->secret,
                     "accessor", v->tok.id, "policies", policies_json(&v->vt), "token_policies", policies_json(&v->vt),
                     "metadata", meta_json(&v->vt), "lease_duration", (json_int_t)ttl_left(ar, v), "renewable",
                     v->vt.renewable, "entity_id", "", "token_type", "service", "orphan", v->vt.parent_id[0] == '\0',
                     "mfa_requirement", "num_uses", (json_int_t)v->vt.num_uses);
}

/* Vault's `data` of a lookup; id is the secret the caller presented, ""
 * by accessor. */
static json_t *lookup_json(struct api_req *ar, const struct vault_token_view *v) {
    char issued[RFC3339_BUFSZ];
    rfc3339_format(v->tok.created_at, issued);
    json_t *d =
        json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:I, s:s, s:s, s:o, s:I, s:b, s:s, s:o, s:b, s:I, s:s}", "accessor",
                  v->tok.id, "creation_time", (json_int_t)v->tok.created_at, "creation_ttl",
                  (json_int_t)v->vt.creation_ttl, "display_name", v->vt.display_name, "entity_id", "", "expire_time",
                  api_time(v->tok.expires_at), "explicit_max_ttl", (json_int_t)v->vt.explicit_max_ttl, "id", v->secret,
                  "issue_time", issued, "meta", meta_json(&v->vt), "num_uses", (json_int_t)v->vt.uses_left, "orphan",
                  v->vt.parent_id[0] == '\0', "path", "auth/token/create", "policies", policies_json(&v->vt),
                  "renewable", v->vt.renewable, "ttl", (json_int_t)ttl_left(ar, v), "type", "service");
    if (d != NULL && v->vt.period > 0)
        json_object_set_new(d, "period", json_integer(v->vt.period));
    if (d != NULL && v->vt.last_renewal_at > 0) {
        char renewed[RFC3339_BUFSZ];
        rfc3339_format(v->vt.last_renewal_at, renewed);
        json_object_set_new(d, "last_renewal_time", json_integer(v->vt.last_renewal_at));
        json_object_set_new(d, "last_renewal", json_string(renewed));
    }
    return d;
}

/* --- reading a body the way Vault's clients write it ----------------------------- */

/* A boolean: JSON true/false or Go's strings. 0 absent, 1 present, -1 replied. */
static int vault_bool(struct api_req *ar, json_t *body, const char *key, int *ret) {
    json_t *v = json_object_get(body, key);
    if (v == NULL)
        return 0;
    if (json_is_boolean(v)) {
        *ret = json_is_true(v);
        return 1;
    }
    if (json_is_string(v) && api_vault_parse_bool(json_string_value(v), ret) == 0)
        return 1;
    api_reply_error(ar, LK_EINVAL, "%s: expected a boolean", key);
    return -1;
}

/* A whole number: JSON integer or a decimal string. */
static int vault_int(struct api_req *ar, json_t *body, const char *key, int64_t *ret) {
    json_t *v = json_object_get(body, key);
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        long long n = strtoll(s, &end, 10);
        if (s[0] != '\0' && end != NULL && *end == '\0' && n >= INT32_MIN && n <= INT32_MAX) {
            *ret = n;
            return 1;
        }
    }
    api_reply_error(ar, LK_EINVAL, "%s: expected a whole number", key);
    return -1;
}

/* A string member, or NULL; -1 after replying 400 for another type. */
static int vault_string(struct api_req *ar, json_t *body, const char *key, const char **ret) {
    json_t *v = json_object_get(body, key);
    *ret = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        api_reply_error(ar, LK_EINVAL, "%s: expected a string", key);
        return -1;
    }
    *ret = json_string_value(v);
    return 1;
}

/* policies: an array of strings, or one string of names separated by
 * commas (Vault takes both), into pool strings. */
static int vault_policies(struct api_req *ar, json_t *body, const char **out, size_t max, size_t *ret_n, int *ret_has) {
    json_t *v = json_object_get(body, "policies");
    *ret_n = 0;
    *ret_has = v != NULL;
    if (v == NULL)
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s != '\0') {
            const char *comma = strchr(s, ',');
            size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
            if (len > 0) {
                if (*ret_n == max) {
                    api_reply_error(ar, LK_EINVAL, "policies: at most %zu entries", max);
                    return -1;
                }
                out[(*ret_n)++] = h2o_strdup(&ar->req->pool, s, len).base;
            }
            s += len + (comma != NULL);
        }
        return 0;
    }
    return api_body_strings(ar, body, "policies", "policy names", out, max, ret_n);
}

/* Vault ignores members it does not know, and says which. */
static json_t *unknown_members(json_t *body, const char *const *known) {
    json_t *names = NULL;
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val) {
        size_t i = 0;
        while (known[i] != NULL && strcmp(known[i], key) != 0)
            i++;
        if (known[i] != NULL)
            continue;
        if (names == NULL)
            names = json_array();
        if (names != NULL)
            json_array_append_new(names, json_string(key));
    }
    if (names == NULL)
        return NULL;
    char *list = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    json_t *w = json_pack("[s+]", "Endpoint ignored these unrecognized parameters: ", list != NULL ? list : "");
    free(list);
    return w;
}

/* --- handlers ----------------------------------------------------------------------- */

static void create_one(struct api_req *ar, int orphan_route) {
    static const char *const known[] = {"policies",
                                        "meta",
                                        "no_parent",
                                        "no_default_policy",
                                        "renewable",
                                        "ttl",
                                        "explicit_max_ttl",
                                        "period",
                                        "display_name",
                                        "num_uses",
                                        "id",
                                        "type",
                                        "lease",
                                        NULL};
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        return;
    struct vault_token_create_in in;
    memset(&in, 0, sizeof(in));
    const char *policies[STORE_POLICIES_MAX + 1];
    const char *type = NULL;
    in.renewable = 1;
    in.no_parent = orphan_route;
    json_t *meta = json_object_get(body, "meta");
    if (vault_policies(ar, body, policies, STORE_POLICIES_MAX + 1, &in.npolicies, &in.has_policies) != 0 ||
        vault_bool(ar, body, "no_parent", &in.no_parent) < 0 ||
        vault_bool(ar, body, "no_default_policy", &in.no_default_policy) < 0 ||
        vault_bool(ar, body, "renewable", &in.renewable) < 0 || api_vault_duration(ar, body, "ttl", &in.ttl) < 0 ||
        api_vault_duration(ar, body, "explicit_max_ttl", &in.explicit_max_ttl) < 0 ||
        api_vault_duration(ar, body, "period", &in.period) < 0 ||
        vault_string(ar, body, "display_name", &in.display_name) < 0 ||
        vault_int(ar, body, "num_uses", &in.num_uses) < 0 || vault_string(ar, body, "id", &in.id) < 0 ||
        vault_string(ar, body, "type", &type) < 0) {
        json_decref(body);
        return;
    }
    if (orphan_route)
        in.no_parent = 1;
    if (type != NULL && strcmp(type, "service") != 0 && strcmp(type, "default") != 0) {
        json_decref(body);
        api_reply_error(ar, LK_EINVAL, "type: only \"service\" tokens are made here");
        return;
    }
    in.policies = policies;
    in.meta = meta;
    struct vault_token_view v;
    int r = vault_tokens_create(ar->svc, &ar->principal, &in, &v, &ar->err);
    json_t *ignored = unknown_members(body, known);
    json_decref(body);
    if (r != 0) {
        json_decref(ignored);
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *warnings = warnings_json(&v);
    if (ignored != NULL) {
        if (warnings == NULL)
            warnings = json_array();
        if (warnings != NULL)
            json_array_extend(warnings, ignored);
        json_decref(ignored);
    }
    json_t *auth = auth_json(ar, &v);
    vault_token_view_done(&v);
    api_vault_reply(ar, NULL, auth, warnings, 0, 0);
}

static void h_create(struct api_req *ar) {
    create_one(ar, 0);
}

static void h_create_orphan(struct api_req *ar) {
    create_one(ar, 1);
}

/* The body member naming the target ("token" or "accessor"); NULL after
 * replying 400, or when absent and absent_ok. */
static int target_of(struct api_req *ar, json_t *body, const char *key, int absent_ok, const char **ret) {
    if (vault_string(ar, body, key, ret) < 0)
        return -1;
    if (*ret == NULL || (*ret)[0] == '\0') {
        *ret = NULL;
        if (absent_ok)
            return 0;
        api_reply_error(ar, LK_EINVAL, "missing %s", key);
        return -1;
    }
    *ret = h2o_strdup(&ar->req->pool, *ret, SIZE_MAX).base;
    return 0;
}

static void lookup(struct api_req *ar, enum vault_token_target target) {
    const char *what = NULL;
    if (target != VAULT_TARGET_SELF) {
        json_t *body = api_vault_body(ar);
        if (body == NULL)
            return;
        int r = target_of(ar, body, target == VAULT_TARGET_TOKEN ? "token" : "accessor", target == VAULT_TARGET_TOKEN,
                          &what);
        json_decref(body);
        if (r < 0)
            return;
        if (what == NULL) /* Vault: lookup without a token is lookup-self */
            target = VAULT_TARGET_SELF;
    }
    struct vault_token_view v;
    if (vault_tokens_lookup(ar->svc, &ar->principal, target, what, presented(ar), &v, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    if (target == VAULT_TARGET_ACCESSOR)
        v.secret[0] = '\0';
    json_t *data = lookup_json(ar, &v);
    vault_token_view_done(&v);
    api_vault_reply(ar, data, NULL, NULL, 0, 0);
}

static void h_lookup_self(struct api_req *ar) {
    lookup(ar, VAULT_TARGET_SELF);
}

static void h_lookup(struct api_req *ar) {
    lookup(ar, VAULT_TARGET_TOKEN);
}

static void h_lookup_accessor(struct api_req *ar) {
    lookup(ar, VAULT_TARGET_ACCESSOR);
}

static void renew(struct api_req *ar, enum vault_token_target target) {
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        return;
    const char *what = NULL;
    int64_t increment = 0;
    if ((target != VAULT_TARGET_SELF &&
         target_of(ar, body, target == VAULT_TARGET_TOKEN ? "token" : "accessor", 0, &what) < 0) ||
        api_vault_duration(ar, body, "increment", &increment) < 0) {
        json_decref(body);
        return;
    }
    json_decref(body);
    struct vault_token_view v;
    if (vault_tokens_renew(ar->svc, &ar->principal, target, what, presented(ar), increment, &v, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *warnings = warnings_json(&v);
    json_t *auth = auth_json(ar, &v);
    vault_token_view_done(&v);
    api_vault_reply(ar, NULL, auth, warnings, 0, 0);
}

static void h_renew_self(struct api_req *ar) {
    renew(ar, VAULT_TARGET_SELF);
}

static void h_renew(struct api_req *ar) {
    renew(ar, VAULT_TARGET_TOKEN);
}

static void h_renew_accessor(struct api_req *ar) {
    renew(ar, VAULT_TARGET_ACCESSOR);
}

static void revoke_one(struct api_req *ar, enum vault_token_target target, int orphan) {
    const char *what = NULL;
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        return;
    int r = target == VAULT_TARGET_SELF
                ? 0
                : target_of(ar, body, target == VAULT_TARGET_TOKEN ? "token" : "accessor", 0, &what);
    json_decref(body);
    if (r < 0)
        return;
    api_reply_done(ar, vault_tokens_revoke(ar->svc, &ar->principal, target, what, orphan, &ar->err));
}

static void h_revoke_self(struct api_req *ar) {
    revoke_one(ar, VAULT_TARGET_SELF, 0);
}

static void h_revoke(struct api_req *ar) {
    revoke_one(ar, VAULT_TARGET_TOKEN, 0);
}

static void h_revoke_accessor(struct api_req *ar) {
    revoke_one(ar, VAULT_TARGET_ACCESSOR, 0);
}

static void h_revoke_orphan(struct api_req *ar) {
    revoke_one(ar, VAULT_TARGET_TOKEN, 1);
}

#define TOKEN_HELP_CREATE                                                                                              \
    "Vault's token create: a child of the calling token (create-orphan, or no_parent: an orphan; root or sudo), "      \
    "owned by the same owner, a latchkey token with Vault's attributes: policies (within the parent's), meta, "        \
    "display_name, ttl, explicit_max_ttl, period (root or sudo), num_uses, renewable. Answers Vault's envelope with "  \
    "auth.client_token (shown once) and auth.accessor (the public id)."
#define TOKEN_HELP_LOOKUP                                                                                              \
    "Vault's token lookup: the calling token (lookup-self), a token by its secret ({\"token\"}) or by its accessor "   \
    "({\"accessor\"}): Vault's data (accessor, policies, ttl, expire_time, meta, num_uses, orphan, ...). An "          \
    "unknown or foreign token: 403 bad token, or 400 invalid accessor."
#define TOKEN_HELP_RENEW                                                                                               \
    "Vault's token renew: the token's TTL becomes the increment (or its creation TTL, or its period), capped at "      \
    "its maximum, its parent's expiry and the owner's expiry rules (with a warning). 400 lease is not renewable "      \
    "for native, renewable:false or non-expiring tokens."
#define TOKEN_HELP_REVOKE                                                                                              \
    "Vault's token revoke: the token and every token made below it, at once (204, also for an unknown token). "        \
    "revoke-orphan (root or sudo) leaves its children as orphans."

#define ROUTE2(pattern, action, fn, help)                                                                              \
    {M_POST, pattern, API_AUTH | API_VAULT, action, fn, help}, {                                                       \
        M_PUT, pattern, API_AUTH | API_VAULT, action, fn, help                                                         \
    }

const struct api_route api_routes_vault_token[] = {
    ROUTE2("/v1/auth/token/create", "vault.token.create", h_create, TOKEN_HELP_CREATE),
    ROUTE2("/v1/auth/token/create-orphan", "vault.token.create", h_create_orphan, TOKEN_HELP_CREATE),
    {M_GET, "/v1/auth/token/lookup-self", API_AUTH | API_VAULT, "vault.token.lookup", h_lookup_self, TOKEN_HELP_LOOKUP},
    ROUTE2("/v1/auth/token/lookup-self", "vault.token.lookup", h_lookup_self, TOKEN_HELP_LOOKUP),
    ROUTE2("/v1/auth/token/lookup", "vault.token.lookup", h_lookup, TOKEN_HELP_LOOKUP),
    ROUTE2("/v1/auth/token/lookup-accessor", "vault.token.lookup", h_lookup_accessor, TOKEN_HELP_LOOKUP),
    ROUTE2("/v1/auth/token/renew-self", "vault.token.renew", h_renew_self, TOKEN_HELP_RENEW),
    ROUTE2("/v1/auth/token/renew", "vault.token.renew", h_renew, TOKEN_HELP_RENEW),
    ROUTE2("/v1/auth/token/renew-accessor", "vault.token.renew", h_renew_accessor, TOKEN_HELP_RENEW),
    ROUTE2("/v1/auth/token/revoke-self", "vault.token.revoke", h_revoke_self, TOKEN_HELP_REVOKE),
    ROUTE2("/v1/auth/token/revoke", "vault.token.revoke", h_revoke, TOKEN_HELP_REVOKE),
    ROUTE2("/v1/auth/token/revoke-accessor", "vault.token.revoke", h_revoke_accessor, TOKEN_HELP_REVOKE),
    ROUTE2("/v1/auth/token/revoke-orphan", "vault.token.revoke", h_revoke_orphan, TOKEN_HELP_REVOKE),
};
API_ROUTES_END(vault_token);
