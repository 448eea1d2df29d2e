/*
 * routes_tokens.c - the caller's own API tokens (/v1/tokens), and the
 * token-create and token-list shapes every owner's token routes share
 * (routes_users.c, routes_service_accounts.c). JSON to svc calls and back;
 * every rule lives in svc/tokens.c.
 *
 * Never puts a token's secret into an answer but the one that creates it,
 * once, and never its hash.
 */
#include <stddef.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/tokens.h"

static json_t *nullable_str(const char *s) {
    return (s == NULL || *s == '\0') ? json_null() : json_string(s);
}

static json_t *owner_json(const char *type, const char *id) {
    return json_pack("{s:s, s:s}", "type", type, "id", id);
}

/* A token record as listings and get answer it (never the secret). */
static json_t *token_json(const struct token_rec *r, int64_t now) {
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "id", r->id, "description",
        r->description ? r->description : "", "owner", owner_json(r->owner_type, r->owner_id), "created_by",
        r->created_by, "created_at", api_time(r->created_at), "expires_at", api_time(r->expires_at), "last_used_at",
        api_time(r->last_used_at), "policies", api_names(r->policies, sizeof(*r->policies), r->npolicies), "status",
        tokens_status(r->expires_at, now), "org", nullable_str(r->org_id), "replaced_by", nullable_str(r->replaced_by));
}

static json_t *token_item(struct api_req *ar, const void *item) {
    return token_json(item, ar->svc->now);
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

    json_t *body = api_body_fields(ar, 1, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "description", &in.description) < 0 ||
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
    json_t *resp = token_json(&out.rec, ar->svc->now);
    json_object_set_new(resp, "token", json_string(out.token));
    json_t *dropped = out.dropped_json ? json_loads(out.dropped_json, 0, NULL) : NULL;
    json_object_set_new(resp, "dropped_policies", dropped ? dropped : json_array());
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    json_decref(body);
}

/* Pages through a token listing with ?limit= and ?cursor=. */
void api_token_list(struct api_req *ar, api_token_list_fn list_fn) {
    int limit;
    int64_t after;
    struct token_list list = {0};
    if (api_paging(ar, TOKENS_LIST_DEFAULT, TOKENS_LIST_MAX, &limit, &after) < 0)
        return;
    /* Ask for one more than the page to know whether a next page exists. */
    int r = list_fn(ar, after, limit + 1, &list);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct token_rec, seq), limit,
                   token_item);
    token_list_done(&list);
}

static int create_own(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return tokens_create(ar->svc, &ar->principal, in, out, &ar->err);
}

static int list_own(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return tokens_list(ar->svc, &ar->principal, after, limit, out, &ar->err);
}

static void h_token_create(struct api_req *ar) {
    api_token_create(ar, create_own);
}

/*
 * GET /v1/auth/cli-config: a file for `latchkey login --config-file`: this
 * server's URL, the caller's org and a new token of the caller's own (as
 * POST /v1/tokens makes it: the org's expiry rules, never wider or longer
 * lived than the calling token), shown this once. A GET that creates, so
 * it runs in a transaction of its own that commits with its record, and a
 * cookie-authenticated one passes the same CSRF check as any change.
 */
static void h_cli_config(struct api_req *ar) {
    struct token_create_in in;
    struct token_created out;
    if (ar->cred_source != API_CRED_HEADER && api_csrf_check(ar) != 0)
        return;
    const char *url = api_issuer(ar);
    if (url == NULL)
        return;
    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    in.description = "latchkey CLI (downloaded configuration)";
    api_begin_change(ar);
    if (tokens_create(ar->svc, &ar->principal, &in, &out, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        tokens_created_done(&out);
        return;
    }
    const char *org = ar->principal.org;
    json_t *body = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o}", "url", url, "org", org ? json_string(org) : json_null(),
                             "profile", org ? org : "default", "token", out.token, "token_id", out.rec.id, "expires_at",
                             api_time(out.rec.expires_at));
    tokens_created_done(&out);
    h2o_add_header(&ar->req->pool, &ar->req->res.headers, H2O_TOKEN_CONTENT_DISPOSITION, "Content-Disposition",
                   H2O_STRLIT("attachment; filename=\"latchkey-cli.json\""));
    api_reply_json(ar, 200, body);
}

static void h_token_list(struct api_req *ar) {
    api_token_list(ar, list_own);
}

static void h_token_get(struct api_req *ar) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    api_reply_item(ar, tokens_get(ar->svc, &ar->principal, api_param(ar, "id"), &rec, &ar->err), &rec, token_item);
    token_rec_done(&rec);
}

static void h_token_rotate(struct api_req *ar) {
    static const char *const fields[] = {"grace_seconds", NULL};
    const char *id = api_param(ar, "id");
    int64_t grace = 0;
    struct token_created out;
    memset(&out, 0, sizeof(out));
    json_t *body = api_body_fields(ar, 1, fields);
    if (body == NULL)
        return;
    if (api_body_int(ar, body, "grace_seconds", &grace) < 0)
        goto out;
    if (tokens_rotate(ar->svc, &ar->principal, id, grace, &out, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    json_t *resp = token_json(&out.rec, ar->svc->now);
    json_object_set_new(resp, "token", json_string(out.token));
    json_object_set_new(resp, "rotated_from", json_string(id));
    json_object_set_new(resp, "dropped_policies", json_array());
    api_reply_json(ar, 200, resp);
out:
    tokens_created_done(&out);
    json_decref(body);
}

static void h_token_delete(struct api_req *ar) {
    api_reply_done(ar, tokens_delete(ar->svc, &ar->principal, api_param(ar, "id"), &ar->err));
}

const struct api_route api_routes_tokens[] = {
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
    {M_GET, "/v1/auth/cli-config", 1, "token.cli_config", h_cli_config,
     "A configuration file for `latchkey login --config-file FILE`: {\"url\", \"org\", \"profile\", \"token\", "
     "\"token_id\", \"expires_at\"} with a new token of the caller's own (as POST /v1/tokens makes it), shown once."},
    {M_POST, "/v1/tokens/{id}/rotate", 1, "token.rotate", h_token_rotate,
     "Replaces one of the caller's tokens with a new secret keeping owner, policies, description and expiry: "
     "{\"grace_seconds\": N} keeps the old secret working N more seconds (default 0), never past its expiry. "
     "Needs tokens.manage and a token within the calling token's permissions and lifetime."},
    {M_DELETE, "/v1/tokens/{id}", 1, "token.delete", h_token_delete,
     "Revokes one of the caller's tokens at once (tokens.manage; one within the calling token's permissions); "
     "204."},
};
API_ROUTES_END(tokens);
