/*
 * vault.c - the wire conventions of the Vault-compatible door
 * (docs/vault-compatibility.md), for the routes marked API_VAULT: Go's
 * booleans in ?list=, bodies that may be absent or null, durations as "1h"
 * or seconds, Vault's response envelope and its 404 {"errors":[]}, and the
 * organisation a request addresses. The status mapping (a refused
 * credential or permission is 403) is respond.c's, the X-Vault-Token
 * header and the help shape api.c's: every answer of a door route goes
 * through them.
 *
 * No rule lives here: what a caller may do is svc's.
 */
#include <string.h>

#include "api/api_internal.h"
#include "core/duration.h"
#include "core/names.h"
#include "core/vault_acl.h"
#include "lib/str.h"
#include "svc/token_cache.h"
#include "svc/vault_tokens.h"

int api_vault_parse_bool(const char *s, int *ret) {
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *ret = 1;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *ret = 0;
            return 0;
        }
    }
    return -1;
}

int api_vault_list_query(struct api_req *ar) {
    const char *v = api_query(ar, "list");
    int on = 0;
    if (v == NULL)
        return 0;
    if (api_vault_parse_bool(v, &on) != 0) {
        char q[STR_ECHO_BUFSZ];
        str_echo(v, strlen(v), q);
        api_reply_error(ar, LK_EINVAL, "list: \"%s\" is not a boolean (1, t, true, 0, f, false, ...)", q);
        return -1;
    }
    return on;
}

json_t *api_vault_body(struct api_req *ar) {
    h2o_req_t *req = ar->req;
    size_t n = req->entity.base != NULL ? req->entity.len : 0;
    /* "null", alone and with whitespace around it, is no body. */
    size_t a = 0, b = n;
    while (a < b && strchr(" \t\r\n", req->entity.base[a]) != NULL)
        a++;
    while (b > a && strchr(" \t\r\n", req->entity.base[b - 1]) != NULL)
        b--;
    if (b - a == 4 && memcmp(req->entity.base + a, "null", 4) == 0)
        return json_object();
    json_t *body = api_body_object(ar, 1);
    if (body == NULL)
        return NULL;
    /* A member set to null is one not sent (hvac sends them). */
    const char *key;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(body, tmp, key, val) {
        if (json_is_null(val))
            json_object_del(body, key);
    }
    return body;
}

int api_vault_duration(struct api_req *ar, json_t *obj, const char *key, int64_t *ret) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= DURATION_SECONDS_MAX) {
        *ret = json_integer_value(v);
        return 1;
    }
    struct lk_error err = {0};
    if (json_is_string(v) && duration_parse_seconds(json_string_value(v), json_string_length(v), ret, &err) == 0)
        return 1;
    api_reply_error(ar, LK_EINVAL, "%s: %s", key,
                    json_is_string(v) ? lk_error_message(&err)
                                      : "expected a duration such as \"1h\" or a whole number of seconds");
    return -1;
}

void api_vault_reply(struct api_req *ar, json_t *data, json_t *auth, json_t *warnings, int64_t lease_duration,
                     int renewable) {
    json_t *body = json_pack("{s:s, s:s, s:b, s:I, s:o, s:n, s:o, s:o}", "request_id", ar->request_id, "lease_id", "",
                             "renewable", renewable, "lease_duration", (json_int_t)lease_duration, "data",
                             data != NULL ? data : json_null(), "wrap_info", "warnings",
                             warnings != NULL ? warnings : json_null(), "auth", auth != NULL ? auth : json_null());
    if (body == NULL) {
        api_reply_error(ar, LK_ENOMEM, "out of memory");
        return;
    }
    api_reply_json(ar, 200, body);
}

void api_vault_not_found(struct api_req *ar) {
    static const char empty[] = "{\"errors\":[]}";
    api_reply_raw(ar, 404, empty, sizeof(empty) - 1);
}

int api_vault_org(struct api_req *ar, const char **ret) {
    const struct principal *p = &ar->principal;
    /* A principal of an org acts in it; the namespace header may only
     * name that one. The partner admin names one, or gets the default. */
    const char *ns = NULL;
    ssize_t i = h2o_find_header_by_str(&ar->req->headers, H2O_STRLIT("x-vault-namespace"), -1);
    if (i >= 0) {
        h2o_iovec_t v = ar->req->headers.entries[i].value;
        while (v.len > 0 && v.base[v.len - 1] == '/')
            v.len--; /* Vault's clients send "ns/" */
        ns = h2o_strdup(&ar->req->pool, v.base, v.len).base;
    }
    if (p->type != PRINCIPAL_ROOT && p->org[0] != '\0') {
        if (ns != NULL && ns[0] != '\0' && strcmp(ns, p->org) != 0) {
            api_reply_error(ar, LK_EDENIED, "permission denied: this token acts in its own organisation only");
            return -1;
        }
        *ret = p->org;
        return 0;
    }
    if (ns == NULL || ns[0] == '\0')
        ns = ar->ctx->cfg->vault_default_org;
    if (ns == NULL || ns[0] == '\0') {
        api_reply_error(ar, LK_EINVAL,
                        "no organisation: send X-Vault-Namespace: <org>, or start latchkey with --vault-default-org");
        return -1;
    }
    if (name_check_slug("X-Vault-Namespace", ns, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return -1;
    }
    *ret = ns;
    return 0;
}

int api_vault_acl_gate(struct api_req *ar, unsigned method) {
    const struct token_entry *t = ar->principal.token;
    if (!(ar->route->auth & API_VAULT)) {
        api_reply_error(ar, LK_EDENIED,
                        "token %s was made by the Vault-compatible door with Vault policies: it works on the door's "
                        "paths only",
                        t->id);
        return -1;
    }
    if (ar->route->auth & API_VAULT_ACL_SELF)
        return 0;
    /* Vault's path: the request's, without /v1/ and its trailing '/'. */
    h2o_iovec_t p = ar->req->path_normalized;
    size_t off = p.len >= 4 && memcmp(p.base, "/v1/", 4) == 0 ? 4 : 0;
    size_t n = p.len - off;
    while (n > 0 && p.base[off + n - 1] == '/')
        n--;
    int list = method == M_LIST;
    if (method == M_GET || method == M_HEAD) {
        const char *q = api_query(ar, "list");
        int on = 0;
        list = q != NULL && api_vault_parse_bool(q, &on) == 0 && on;
    }
    char *path = h2o_mem_alloc_pool(&ar->req->pool, n + 2);
    memcpy(path, p.base + off, n);
    if (list)
        path[n++] = '/';
    path[n] = '\0';
    unsigned caps[2] = {list                                  ? VAULT_CAP_LIST
                        : method == M_DELETE                  ? VAULT_CAP_DELETE
                        : method == M_PUT || method == M_POST ? VAULT_CAP_UPDATE
                                                              : VAULT_CAP_READ,
                        strcmp(path, "sys/seal") == 0 ? VAULT_CAP_SUDO : 0};
    for (size_t i = 0; i < 2 && caps[i] != 0; i++) {
        if (vault_tokens_acl_check(ar->svc, &ar->principal, path, caps[i], &ar->err) != 0) {
            api_reply_lkerr(ar, &ar->err);
            return -1;
        }
    }
    return 0;
}
