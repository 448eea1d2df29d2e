/*
 * routes_service_accounts.c - a team's service accounts
 * (/v1/orgs/{org}/teams/{team}/service-accounts): the accounts, the
 * built-in roles granted to them and their API tokens. JSON in and out
 * only: every rule (team owners decide, the subset rule for grants) lives
 * in svc/service_accounts.c.
 */
#include <stddef.h>

#include "api/api_internal.h"
#include "svc/service_accounts.h"

static json_t *sa_item(struct api_req *ar, const void *item) {
    const struct sa_rec *a = item;
    json_t *roles = api_names(a->roles, sizeof(a->roles[0]), a->nroles);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id, "org", api_param(ar, "org"), "team",
                     api_param(ar, "team"), "name", a->name, "description", a->description, "roles",
                     roles ? roles : json_array(), "created_at", api_time(a->created_at), "updated_at",
                     api_time(a->updated_at));
}

static void h_sa_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", "roles", NULL};
    const char *name = NULL, *desc = NULL;
    const char *roles[SA_ROLES_MAX];
    size_t nroles = 0;
    struct sa_rec a;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 && api_body_string(ar, body, "description", &desc) >= 0 &&
        api_required(ar, "name", name) == 0 &&
        api_body_strings(ar, body, "roles", "role names", roles, SA_ROLES_MAX, &nroles) == 0) {
        int r = sa_create(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), name, desc, roles,
                          nroles, &a, &ar->err);
        api_reply_item(ar, r, &a, sa_item);
    }
    json_decref(body);
}

static void h_sa_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct sa_list list = {0};
    if (api_paging(ar, SA_LIST_DEFAULT, SA_LIST_MAX, &limit, &after) < 0)
        return;
    int r = sa_list(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), after, limit + 1, &list,
                    &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct sa_rec, seq), limit, sa_item);
    sa_list_done(&list);
}

static void h_sa_get(struct api_req *ar) {
    struct sa_rec a;
    int r =
        sa_get(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"), &a, &ar->err);
    api_reply_item(ar, r, &a, sa_item);
}

static void h_sa_patch(struct api_req *ar) {
    static const char *const fields[] = {"description", NULL};
    const char *desc = NULL;
    struct sa_rec a;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "description", &desc) >= 0) {
        int r = sa_update(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                          desc, &a, &ar->err);
        api_reply_item(ar, r, &a, sa_item);
    }
    json_decref(body);
}

static void h_sa_delete(struct api_req *ar) {
    int r =
        sa_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"), &ar->err);
    api_reply_done(ar, r);
}

static void h_sa_role_put(struct api_req *ar) {
    struct sa_rec a;
    int r = sa_role_put(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                        api_param(ar, "role"), &a, &ar->err);
    api_reply_item(ar, r, &a, sa_item);
}

static void h_sa_role_delete(struct api_req *ar) {
    struct sa_rec a;
    int r = sa_role_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                           api_param(ar, "role"), &a, &ar->err);
    api_reply_item(ar, r, &a, sa_item);
}

static int create_for_sa(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return sa_token_create(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                           in, out, &ar->err);
}

static int list_for_sa(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return sa_token_list(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                         after, limit, out, &ar->err);
}

static void h_sa_token_create(struct api_req *ar) {
    api_token_create(ar, create_for_sa);
}

static void h_sa_token_list(struct api_req *ar) {
    api_token_list(ar, list_for_sa);
}

static void h_sa_token_delete(struct api_req *ar) {
    int r = sa_token_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), api_param(ar, "sa"),
                            api_param(ar, "id"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_service_accounts[] = {
    {M_POST, "/v1/orgs/{org}/teams/{team}/service-accounts", 1, "sa.create", h_sa_create,
     "Creates a service account (team owners and org admins): {\"name\": slug unique in the team, "
     "\"description\", \"roles\": [built-in role names]}. By default it reads what a human member of the org "
     "may, except secrets; a role can be granted only if it carries no permission the granter lacks."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/service-accounts", 1, "sa.list", h_sa_list,
     "The team's service accounts (service_accounts.view). Query: limit, cursor."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}", 1, "sa.read", h_sa_get, "One service account."},
    {M_PATCH, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}", 1, "sa.update", h_sa_patch,
     "Changes the description (team owners and org admins): {\"description\"}."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}", 1, "sa.delete", h_sa_delete,
     "Deletes the service account; its tokens stop working at once."},
    {M_PUT, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/roles/{role}", 1, "sa.role.put", h_sa_role_put,
     "Grants a built-in role (subset rule: only roles whose permissions the granter holds)."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/roles/{role}", 1, "sa.role.delete", h_sa_role_delete,
     "Takes a granted role away; its tokens are narrowed at once."},
    {M_POST, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/tokens", 1, "sa.token.create", h_sa_token_create,
     "An API token for the service account (team owners and org admins); same body as POST /v1/tokens, "
     "expiry optional; the secret is shown once."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/tokens", 1, "sa.token.list", h_sa_token_list,
     "The service account's tokens, never their secrets."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/service-accounts/{sa}/tokens/{id}", 1, "sa.token.delete", h_sa_token_delete,
     "Incident response: revokes one of the service account's tokens at once (its team's owners and org admins: "
     "tokens.create_for_others in the team); 204. A token that is not this account's answers 404."},
};
API_ROUTES_END(service_accounts);
