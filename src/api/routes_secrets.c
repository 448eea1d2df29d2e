/*
 * routes_secrets.c - the native secrets API: org-wide secrets at
 * /v1/orgs/{org}/secrets/{path...} and team secrets at
 * /v1/orgs/{org}/teams/{team}/secrets/{path...}. GET reads (?version=N,
 * ?metadata=true for metadata only, ?list=true for the keys under a
 * folder), PUT and POST write, DELETE deletes (a new version that is a
 * deletion).
 *
 * JSON in and out only; the rules are svc/secrets.c's. A value appears in
 * exactly one place: the answer to a read. The audit record names the path
 * (the request's) and never a value.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "lib/jsonw.h"
#include "svc/secrets.h"

static json_t *meta_json(const struct secret_meta *m) {
    json_t *versions = json_array();
    for (size_t i = 0; versions != NULL && i < m->versions.count; i++) {
        const struct secret_rec *v = &m->versions.items[i];
        json_array_append_new(versions, json_pack("{s:I, s:o, s:s, s:b}", "version", (json_int_t)v->version,
                                                  "created_at", api_time(v->created_at), "created_by", v->created_by,
                                                  "deleted", v->value_len == 0));
    }
    return json_pack("{s:s, s:I, s:I, s:b, s:o, s:s, s:o, s:s, s:o}", "path", m->path, "current_version",
                     (json_int_t)m->current_version, "oldest_version", (json_int_t)m->oldest_version, "deleted",
                     m->deleted, "created_at", api_time(m->created_at), "created_by", m->created_by, "updated_at",
                     api_time(m->updated_at), "updated_by", m->updated_by, "versions",
                     versions != NULL ? versions : json_array());
}

static void jsonw_time(struct jsonw *w, int64_t t) {
    char buf[RFC3339_BUFSZ];
    if (t == 0) {
        jsonw_null(w);
        return;
    }
    jsonw_strn(w, buf, rfc3339_format(t, buf));
}

/* meta_json's text, written without a tree (lib/jsonw.h). */
static void meta_jsonw(struct jsonw *w, const struct secret_meta *m) {
    jsonw_obj_begin(w);
    jsonw_key(w, "path");
    jsonw_str(w, m->path);
    jsonw_key(w, "current_version");
    jsonw_int(w, m->current_version);
    jsonw_key(w, "oldest_version");
    jsonw_int(w, m->oldest_version);
    jsonw_key(w, "deleted");
    jsonw_bool(w, m->deleted);
    jsonw_key(w, "created_at");
    jsonw_time(w, m->created_at);
    jsonw_key(w, "created_by");
    jsonw_str(w, m->created_by);
    jsonw_key(w, "updated_at");
    jsonw_time(w, m->updated_at);
    jsonw_key(w, "updated_by");
    jsonw_str(w, m->updated_by);
    jsonw_key(w, "versions");
    jsonw_arr_begin(w);
    for (size_t i = 0; i < m->versions.count; i++) {
        const struct secret_rec *v = &m->versions.items[i];
        jsonw_obj_begin(w);
        jsonw_key(w, "version");
        jsonw_int(w, v->version);
        jsonw_key(w, "created_at");
        jsonw_time(w, v->created_at);
        jsonw_key(w, "created_by");
        jsonw_str(w, v->created_by);
        jsonw_key(w, "deleted");
        jsonw_bool(w, v->value_len == 0);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

/*
 * A read's answer, {"data", "version", "metadata"}: the text api_reply_json
 * makes of that tree, written without one. data is the value's text as
 * stored, which is jansson's compact text of it (h_write), so it goes out as
 * it is. 0, or -1 if it did not fit (it always should: the room counts every
 * string at its longest escaped).
 */
static int reply_read(struct api_req *ar, const char *value, size_t len, int64_t version, const struct secret_meta *m) {
    size_t cap = len + 1024 + 6 * STORE_SECRET_PATH_MAX + (m->versions.count + 2) * (160 + 6 * STORE_PRINCIPAL_MAX);
    char stack[16384];
    char *buf = cap <= sizeof(stack) ? stack : malloc(cap);
    if (buf == NULL)
        return -1;
    struct jsonw w;
    size_t n = 0;
    jsonw_init(&w, buf, cap);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "data");
    jsonw_raw(&w, value, len);
    jsonw_key(&w, "version");
    jsonw_int(&w, version);
    jsonw_key(&w, "metadata");
    meta_jsonw(&w, m);
    jsonw_obj_end(&w);
    int r = jsonw_finish(&w, &n);
    if (r == 0)
        api_reply_raw(ar, 200, buf, n);
    explicit_bzero(buf, r == 0 ? n : cap);
    if (buf != stack)
        free(buf);
    return r;
}

/* The team of the route, or NULL for an org-wide secret. */
static const char *team_of(struct api_req *ar) {
    return api_param_find(ar, "team");
}

static int query_true(struct api_req *ar, const char *name) {
    const char *v = api_query(ar, name);
    return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "True") == 0);
}

static void list(struct api_req *ar, const char *folder) {
    struct secret_path_list keys = {0};
    int r = secrets_list(ar->svc, &ar->principal, api_param(ar, "org"), team_of(ar), folder, &keys, &ar->err);
    if (r != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < keys.count; i++)
        json_array_append_new(arr, json_string(keys.items[i]));
    secret_path_list_done(&keys);
    api_reply_json(ar, 200, json_pack("{s:o}", "keys", arr != NULL ? arr : json_array()));
}

static void h_list_top(struct api_req *ar) {
    list(ar, "");
}

static void h_read(struct api_req *ar) {
    const char *path = api_param(ar, "path");
    if (query_true(ar, "list")) {
        /* A folder to list is named with or without its trailing '/'. */
        char folder[STORE_SECRET_PATH_MAX + 1];
        size_t n = strlen(path);
        if (n + 2 > sizeof(folder)) {
            api_reply_error(ar, LK_EINVAL, "path: at most %d bytes", STORE_SECRET_PATH_MAX - 1);
            return;
        }
        memcpy(folder, path, n);
        if (n > 0 && folder[n - 1] != '/')
            folder[n++] = '/';
        folder[n] = '\0';
        list(ar, folder);
        return;
    }
    struct secret_meta meta;
    if (query_true(ar, "metadata")) {
        if (secrets_metadata(ar->svc, &ar->principal, api_param(ar, "org"), team_of(ar), path, &meta, &ar->err) != 0) {
            api_reply_lkerr(ar, &ar->err);
            return;
        }
        api_reply_json(ar, 200, json_pack("{s:o}", "metadata", meta_json(&meta)));
        secret_meta_done(&meta);
        return;
    }
    int64_t version = 0;
    const char *vq = api_query(ar, "version");
    if (vq != NULL) {
        char *end = NULL;
        long long v = strtoll(vq, &end, 10);
        if (end == vq || *end != '\0' || v < 1) {
            api_reply_error(ar, LK_EINVAL, "version: a whole number >= 1");
            return;
        }
        version = v;
    }
    char *value = NULL;
    size_t len = 0;
    if (secrets_read(ar->svc, &ar->principal, api_param(ar, "org"), team_of(ar), path, version, &value, &len, &meta,
                     &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *data = json_loadb(value, len, 0, NULL);
    json_int_t shown = (json_int_t)(version != 0 ? version : meta.current_version);
    if (data != NULL && reply_read(ar, value, len, shown, &meta) != 0)
        api_reply_json(ar, 200,
                       json_pack("{s:O, s:I, s:o}", "data", data, "version", shown, "metadata", meta_json(&meta)));
    json_decref(data);
    explicit_bzero(value, len);
    free(value);
    if (data == NULL)
        api_reply_error(ar, LK_EINTEGRITY, "the stored value of %s is not the JSON object it was written as", path);
    secret_meta_done(&meta);
}

static void h_write(struct api_req *ar) {
    /* The body's checks (JSON, Content-Type, duplicate keys) are every
     * body's; the value stored is its compact text. */
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        api_reply_error(ar, LK_ENOMEM, "out of memory");
        return;
    }
    size_t len = strlen(text);
    struct secret_meta meta;
    int r = secrets_write(ar->svc, &ar->principal, api_param(ar, "org"), team_of(ar), api_param(ar, "path"), text, len,
                          &meta, &ar->err);
    explicit_bzero(text, len);
    free(text);
    if (r != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_json(ar, 200,
                   json_pack("{s:I, s:o}", "version", (json_int_t)meta.current_version, "metadata", meta_json(&meta)));
    secret_meta_done(&meta);
}

static void h_delete(struct api_req *ar) {
    struct secret_meta meta;
    int r = secrets_delete(ar->svc, &ar->principal, api_param(ar, "org"), team_of(ar), api_param(ar, "path"), &meta,
                           &ar->err);
    if (r == 0)
        secret_meta_done(&meta);
    api_reply_done(ar, r);
}

#define SECRET_HELP_READ                                                                                               \
    "Reads the secret at the path: {\"data\": {...}, \"version\", \"metadata\"} (secrets.read). ?version=N reads an "  \
    "older version still kept (the last 10 are); ?metadata=true answers the metadata only (secrets.view); "            \
    "?list=true lists the keys under the path as a folder: {\"keys\": [\"name\", \"folder/\"]} (secrets.view). "       \
    "Paths: segments of letters, digits, '.', '_' and '-', at most 16 deep."
#define SECRET_HELP_WRITE                                                                                              \
    "Writes a new version of the secret at the path: the body is a JSON object of string values, at most 64 KiB "      \
    "(secrets.manage). Stored encrypted, bound to its row; answers {\"version\", \"metadata\"}."
#define SECRET_HELP_DELETE                                                                                             \
    "Deletes the secret at the path (secrets.manage): a new version that is a deletion; earlier versions stay "        \
    "readable with ?version=N until they leave the window of 10. 204."

const struct api_route api_routes_secrets[] = {
    {M_GET, "/v1/orgs/{org}/secrets", API_AUTH, "secret.list", h_list_top,
     "The org-wide secrets' top-level keys: {\"keys\": [...]} (org admins: secrets.view)."},
    {M_GET, "/v1/orgs/{org}/secrets/{path...}", API_AUTH, "secret.read", h_read, SECRET_HELP_READ},
    {M_PUT, "/v1/orgs/{org}/secrets/{path...}", API_AUTH, "secret.write", h_write, SECRET_HELP_WRITE},
    {M_POST, "/v1/orgs/{org}/secrets/{path...}", API_AUTH, "secret.write", h_write, SECRET_HELP_WRITE},
    {M_DELETE, "/v1/orgs/{org}/secrets/{path...}", API_AUTH, "secret.delete", h_delete, SECRET_HELP_DELETE},
    {M_GET, "/v1/orgs/{org}/teams/{team}/secrets", API_AUTH, "team.secret.list", h_list_top,
     "The team's secrets' top-level keys: {\"keys\": [...]} (team viewers and up: secrets.view)."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/secrets/{path...}", API_AUTH, "team.secret.read", h_read, SECRET_HELP_READ},
    {M_PUT, "/v1/orgs/{org}/teams/{team}/secrets/{path...}", API_AUTH, "team.secret.write", h_write, SECRET_HELP_WRITE},
    {M_POST, "/v1/orgs/{org}/teams/{team}/secrets/{path...}", API_AUTH, "team.secret.write", h_write,
     SECRET_HELP_WRITE},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/secrets/{path...}", API_AUTH, "team.secret.delete", h_delete,
     SECRET_HELP_DELETE},
};
API_ROUTES_END(secrets);
