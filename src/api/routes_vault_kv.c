/*
 * routes_vault_kv.c - Vault's KV version 1 at /v1/secret/{path...}, over
 * the native secrets store (svc/secrets.h) of the caller's organisation:
 * "teams/<team>/<path>" is the team's secret <path>, anything else an
 * org-wide one. GET reads (?list=<bool> lists), LIST lists, PUT and POST
 * write, DELETE deletes. Vault's shapes: a read is enveloped with
 * lease_duration 2764800 (or the secret's own "ttl"), a write or delete
 * answers 204, a readable path with nothing there 404 {"errors":[]}, and a
 * refusal 403 whether or not the path exists (secrets_may first).
 *
 * JSON in and out only; the rules are svc/secrets.c's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/duration.h"
#include "core/errors.h"
#include "svc/secrets.h"
#include "core/vault_acl.h"
#include "svc/token_cache.h"
#include "svc/vault_tokens.h"

/* Vault's default lease for a KV v1 read: 768 hours. */
#define KV_LEASE_SECONDS 2764800

enum kv_op { KV_READ, KV_LIST, KV_WRITE, KV_DELETE };

static const char *const kv_perm[] = {
    [KV_READ] = "secrets.read",
    [KV_LIST] = "secrets.view",
    [KV_WRITE] = "secrets.manage",
    [KV_DELETE] = "secrets.manage",
};

/* What a token's Vault policies must grant for op (a token made with
 * Vault policies of its own; vault_tokens_acl_check). A write is "create"
 * where nothing is, "update" where something is, as in Vault. */
static const unsigned kv_cap[] = {
    [KV_READ] = VAULT_CAP_READ,
    [KV_LIST] = VAULT_CAP_LIST,
    [KV_WRITE] = VAULT_CAP_UPDATE,
    [KV_DELETE] = VAULT_CAP_DELETE,
};

/* Where a door path lives: the org, the team (NULL: org-wide) and the
 * path within (for a list, a folder: "" or ending in '/'). */
struct kv_where {
    const char *org;
    const char *team;
    char path[STORE_SECRET_PATH_MAX + 2];
};

/* Splits rest ("" for the top) into w for op, and checks that the caller
 * may do op there: 0, or -1 after replying (400, 403). */
static int kv_locate(struct api_req *ar, const char *rest, enum kv_op op, struct kv_where *w) {
    if (api_vault_org(ar, &w->org) != 0)
        return -1;
    w->team = NULL;
    if (strncmp(rest, "teams/", 6) == 0 || strcmp(rest, "teams") == 0) {
        const char *t = rest[5] == '/' ? rest + 6 : rest + 5;
        const char *slash = strchr(t, '/');
        size_t tn = slash != NULL ? (size_t)(slash - t) : strlen(t);
        if (tn == 0 || (slash == NULL && op != KV_LIST)) {
            api_reply_error(ar, LK_EINVAL,
                            "path: \"teams/<team>/<path>\" names a team's secret; \"teams/\" itself holds none");
            return -1;
        }
        w->team = h2o_strdup(&ar->req->pool, t, tn).base;
        rest = slash != NULL ? slash + 1 : "";
    }
    size_t n = strlen(rest);
    if (n + 2 > sizeof(w->path)) {
        api_reply_error(ar, LK_EINVAL, "path: at most %d bytes", STORE_SECRET_PATH_MAX - 1);
        return -1;
    }
    memcpy(w->path, rest, n + 1);
    if (op == KV_LIST && n > 0 && w->path[n - 1] != '/') {
        /* hvac strips the trailing '/': a list is of the folder either way. */
        w->path[n] = '/';
        w->path[n + 1] = '\0';
    }
    if (secrets_path_check(w->path, op == KV_LIST, &ar->err) != 0 ||
        secrets_may(ar->svc, &ar->principal, w->org, w->team, kv_perm[op], &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return -1;
    }
    /* Vault's path for its policies: the door's, as the client sent it. */
    char vpath[sizeof(w->path) + 96];
    snprintf(vpath, sizeof(vpath), "secret/%s%s%s%s", w->team != NULL ? "teams/" : "", w->team != NULL ? w->team : "",
             w->team != NULL ? "/" : "", w->path);
    unsigned cap = kv_cap[op];
    if (op == KV_WRITE && ar->principal.token != NULL && ar->principal.token->vault_acl) {
        struct secret_meta meta;
        int r = secrets_metadata(ar->svc, &ar->principal, w->org, w->team, w->path, &meta, &ar->err);
        if (r == 0)
            secret_meta_done(&meta);
        if (r == 0 ? meta.deleted : r == LK_ENOTFOUND)
            cap = VAULT_CAP_CREATE;
    }
    if (vault_tokens_acl_check(ar->svc, &ar->principal, vpath, cap, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return -1;
    }
    return 0;
}

static void kv_list(struct api_req *ar, const char *rest) {
    struct kv_where w;
    if (kv_locate(ar, rest, KV_LIST, &w) != 0)
        return;
    struct secret_path_list keys = {0};
    if (secrets_list(ar->svc, &ar->principal, w.org, w.team, w.path, &keys, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    if (keys.count == 0) {
        secret_path_list_done(&keys);
        api_vault_not_found(ar);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < keys.count; i++)
        json_array_append_new(arr, json_string(keys.items[i]));
    secret_path_list_done(&keys);
    api_vault_reply(ar, json_pack("{s:o}", "keys", arr != NULL ? arr : json_array()), NULL, NULL, 0, 0);
}

/* The lease a read reports: the secret's own "ttl" when it is a duration,
 * else Vault's default. */
static int64_t kv_lease(const json_t *data) {
    const json_t *ttl = json_object_get(data, "ttl");
    int64_t s = 0;
    if (json_is_string(ttl) && duration_parse_seconds(json_string_value(ttl), json_string_length(ttl), &s, NULL) == 0)
        return s;
    return KV_LEASE_SECONDS;
}

static void kv_read(struct api_req *ar, const char *rest) {
    struct kv_where w;
    if (kv_locate(ar, rest, KV_READ, &w) != 0)
        return;
    char *value = NULL;
    size_t len = 0;
    struct secret_meta meta;
    if (secrets_read(ar->svc, &ar->principal, w.org, w.team, w.path, 0, &value, &len, &meta, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    secret_meta_done(&meta);
    json_t *data = json_loadb(value, len, 0, NULL);
    explicit_bzero(value, len);
    free(value);
    if (data == NULL) {
        api_reply_error(ar, LK_EINTEGRITY, "the stored value of %s is not the JSON object it was written as", w.path);
        return;
    }
    api_vault_reply(ar, data, NULL, NULL, kv_lease(data), 0);
}

static void h_read(struct api_req *ar) {
    int list = api_vault_list_query(ar);
    if (list < 0)
        return;
    if (list)
        kv_list(ar, api_param(ar, "path"));
    else
        kv_read(ar, api_param(ar, "path"));
}

static void h_top(struct api_req *ar) {
    int list = api_vault_list_query(ar);
    if (list < 0)
        return;
    if (!list) {
        /* Vault: the mount itself holds no secret. */
        struct kv_where w;
        if (kv_locate(ar, "", KV_LIST, &w) == 0)
            api_vault_not_found(ar);
        return;
    }
    kv_list(ar, "");
}

static void h_list(struct api_req *ar) {
    kv_list(ar, api_param(ar, "path"));
}

static void h_list_top(struct api_req *ar) {
    kv_list(ar, "");
}

static void h_write(struct api_req *ar) {
    struct kv_where w;
    if (kv_locate(ar, api_param(ar, "path"), KV_WRITE, &w) != 0)
        return;
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        return;
    if (json_object_size(body) == 0) {
        json_decref(body);
        api_reply_error(ar, LK_EINVAL, "missing data fields");
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        api_reply_error(ar, LK_ENOMEM, "out of memory");
        return;
    }
    size_t len = strlen(text);
    struct secret_meta meta;
    int r = secrets_write(ar->svc, &ar->principal, w.org, w.team, w.path, text, len, &meta, &ar->err);
    explicit_bzero(text, len);
    free(text);
    if (r == 0)
        secret_meta_done(&meta);
    api_reply_done(ar, r);
}

static void h_delete(struct api_req *ar) {
    struct kv_where w;
    if (kv_locate(ar, api_param(ar, "path"), KV_DELETE, &w) != 0)
        return;
    struct secret_meta meta;
    int r = secrets_delete(ar->svc, &ar->principal, w.org, w.team, w.path, &meta, &ar->err);
    if (r == 0)
        secret_meta_done(&meta);
    /* Vault: deleting what is not there is done too. */
    api_reply_done(ar, r == LK_ENOTFOUND ? 0 : r);
}

#define KV_HELP                                                                                                        \
    "Vault's KV version 1 over the organisation's secrets: GET reads ({\"data\": {...}}, lease_duration 2764800 or "   \
    "the secret's own \"ttl\"), LIST or GET ?list=true lists the keys under a folder, PUT or POST writes a JSON "      \
    "object of string values (204), DELETE deletes (204). \"teams/<team>/<path>\" is the team's secret. Token in "     \
    "X-Vault-Token; 403 when refused, 404 {\"errors\":[]} when nothing is there."

const struct api_route api_routes_vault_kv[] = {
    {M_GET, "/v1/secret", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.list", h_top, KV_HELP},
    {M_LIST, "/v1/secret", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.list", h_list_top, KV_HELP},
    {M_GET, "/v1/secret/{path...}", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.read", h_read, KV_HELP},
    {M_LIST, "/v1/secret/{path...}", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.list", h_list, KV_HELP},
    {M_PUT, "/v1/secret/{path...}", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.write", h_write, KV_HELP},
    {M_POST, "/v1/secret/{path...}", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.write", h_write, KV_HELP},
    {M_DELETE, "/v1/secret/{path...}", API_AUTH | API_VAULT | API_VAULT_ACL_SELF, "vault.secret.delete", h_delete,
     KV_HELP},
};
API_ROUTES_END(vault_kv);
