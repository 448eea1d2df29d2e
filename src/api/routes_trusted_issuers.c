/*
 * routes_trusted_issuers.c - an org's trusted foreign token issuers
 * (/v1/orgs/{org}/trusted-issuers[/{name}], docs/federation.md). JSON in
 * and out only: who may manage them and what is valid live in
 * svc/federation.c.
 *
 * "jwks" and "rules" travel as JSON values and are stored as their
 * compact text.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/federation.h"

static json_t *issuer_item(struct api_req *ar, const void *item) {
    const struct trusted_issuer_rec *t = item;
    json_t *rules = json_loads(t->rules, 0, NULL);
    json_t *jwks = t->jwks[0] != '\0' ? json_loads(t->jwks, 0, NULL) : json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:o}", "id", t->id, "org",
                     api_param(ar, "org"), "name", t->name, "issuer", t->issuer, "jwks", jwks ? jwks : json_null(),
                     "jwks_uri", t->jwks_uri[0] != '\0' ? json_string(t->jwks_uri) : json_null(), "audience",
                     t->audience, "rules", rules ? rules : json_array(), "created_at", api_time(t->created_at),
                     "created_by", t->created_by, "updated_at", api_time(t->updated_at));
}

/* Reads the body's members into in; the JSON texts of jwks and rules go
 * into *jwks_text / *rules_text (malloc'd). -1 after replying 400. */
static int read_in(struct api_req *ar, json_t *body, struct federation_issuer_in *in, char **jwks_text,
                   char **rules_text) {
    memset(in, 0, sizeof(*in));
    if (api_body_string(ar, body, "name", &in->name) < 0 || api_body_string(ar, body, "issuer", &in->issuer) < 0 ||
        api_body_string(ar, body, "audience", &in->audience) < 0)
        return -1;
    json_t *uri = json_object_get(body, "jwks_uri");
    if (uri != NULL && !json_is_null(uri) && !json_is_string(uri)) {
        api_reply_error(ar, LK_EINVAL, "jwks_uri: expected a string or null");
        return -1;
    }
    if (uri != NULL)
        in->jwks_uri = json_is_null(uri) ? "" : json_string_value(uri);
    json_t *jwks = json_object_get(body, "jwks");
    if (jwks != NULL && !json_is_null(jwks) && !json_is_object(jwks)) {
        api_reply_error(ar, LK_EINVAL, "jwks: expected a JWK set object {\"keys\": [...]} or null");
        return -1;
    }
    if (jwks != NULL) {
        *jwks_text = json_is_null(jwks) ? strdup("") : json_dumps(jwks, JSON_COMPACT);
        if (*jwks_text == NULL) {
            api_reply_error(ar, LK_ENOMEM, "out of memory");
            return -1;
        }
        in->jwks = *jwks_text;
    }
    json_t *rules = json_object_get(body, "rules");
    if (rules != NULL) {
        if (!json_is_array(rules)) {
            api_reply_error(ar, LK_EINVAL, "rules: expected an array of rules");
            return -1;
        }
        if ((*rules_text = json_dumps(rules, JSON_COMPACT)) == NULL) {
            api_reply_error(ar, LK_ENOMEM, "out of memory");
            return -1;
        }
        in->rules = *rules_text;
    }
    return 0;
}

static void write_issuer(struct api_req *ar, int create) {
    static const char *const create_fields[] = {"name", "issuer", "jwks", "jwks_uri", "audience", "rules", NULL};
    static const char *const patch_fields[] = {"issuer", "jwks", "jwks_uri", "audience", "rules", NULL};
    struct federation_issuer_in in;
    char *jwks = NULL, *rules = NULL;
    json_t *body = api_body_fields(ar, 0, create ? create_fields : patch_fields);
    if (body == NULL)
        return;
    struct trusted_issuer_rec *t = h2o_mem_alloc_pool(&ar->req->pool, sizeof(*t));
    memset(t, 0, sizeof(*t));
    if (read_in(ar, body, &in, &jwks, &rules) == 0) {
        int r;
        if (create) {
            if (api_required(ar, "name", in.name) != 0)
                goto out;
            r = federation_create(ar->svc, &ar->principal, api_param(ar, "org"), &in, t, &ar->err);
        } else {
            r = federation_update(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "name"), &in, t,
                                  &ar->err);
        }
        api_reply_item(ar, r, t, issuer_item);
        trusted_issuer_rec_done(t);
    }
out:
    free(jwks);
    free(rules);
    json_decref(body);
}

static void h_create(struct api_req *ar) {
    write_issuer(ar, 1);
}

static void h_patch(struct api_req *ar) {
    write_issuer(ar, 0);
}

static void h_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct trusted_issuer_list list = {0};
    if (api_paging(ar, FEDERATION_LIST_DEFAULT, FEDERATION_LIST_MAX, &limit, &after) < 0)
        return;
    int r = federation_list(ar->svc, &ar->principal, api_param(ar, "org"), after, limit + 1, &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct trusted_issuer_rec, seq), limit,
                   issuer_item);
    trusted_issuer_list_done(&list);
}

static void h_get(struct api_req *ar) {
    struct trusted_issuer_rec *t = h2o_mem_alloc_pool(&ar->req->pool, sizeof(*t));
    memset(t, 0, sizeof(*t));
    int r = federation_get(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "name"), t, &ar->err);
    api_reply_item(ar, r, t, issuer_item);
    trusted_issuer_rec_done(t);
}

static void h_delete(struct api_req *ar) {
    int r = federation_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "name"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_trusted_issuers[] = {
    {M_POST, "/v1/orgs/{org}/trusted-issuers", API_AUTH, "trusted_issuer.create", h_create,
     "Trusts a foreign token issuer for token exchange (org admins): {\"name\", \"issuer\" (its exact iss, https), "
     "\"jwks\" (a JWK set, inline) or \"jwks_uri\" (https, fetched and cached), \"audience\" (its tokens' aud must "
     "hold it), \"rules\": [{\"claims\": {claim: exact value}, \"team\", \"service_account\"}] (first match "
     "wins)}."},
    {M_GET, "/v1/orgs/{org}/trusted-issuers", API_AUTH, "trusted_issuer.list", h_list,
     "The org's trusted issuers (org admins). Query: limit, cursor."},
    {M_GET, "/v1/orgs/{org}/trusted-issuers/{name}", API_AUTH, "trusted_issuer.read", h_get, "One trusted issuer."},
    {M_PATCH, "/v1/orgs/{org}/trusted-issuers/{name}", API_AUTH, "trusted_issuer.update", h_patch,
     "Changes issuer, jwks, jwks_uri, audience or rules (org admins); setting jwks clears jwks_uri and the other "
     "way round."},
    {M_DELETE, "/v1/orgs/{org}/trusted-issuers/{name}", API_AUTH, "trusted_issuer.delete", h_delete,
     "Stops trusting the issuer: its tokens are refused from this answer on; 204."},
};
API_ROUTES_END(trusted_issuers);
