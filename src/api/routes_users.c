/*
 * routes_users.c - the users of an org (/v1/orgs/{org}/users) and the API
 * tokens made on a user's behalf. JSON in and out only: every rule lives in
 * svc/users.c.
 *
 * Never puts a password or its hash into an answer (only whether there is
 * one), and leaves no new password in freed memory.
 */
#include <stddef.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/users.h"

json_t *api_user_json(const struct user_rec *u, const char *org) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "id", u->id, "org", org, "username", u->username,
                     "email", u->email, "role", u->role, "programmatic_only", u->programmatic_only, "has_password",
                     u->password_hash != NULL, "token_expiry_hours",
                     u->token_expiry_hours ? json_integer(u->token_expiry_hours) : json_null(), "created_at",
                     api_time(u->created_at));
}

static json_t *user_item(struct api_req *ar, const void *item) {
    return api_user_json(item, api_param(ar, "org"));
}

static void h_user_create(struct api_req *ar) {
    static const char *const fields[] = {"username", "email", "password", "role", "programmatic_only", NULL};
    struct user_create_in in;
    struct user_rec u;
    memset(&in, 0, sizeof(in));
    memset(&u, 0, sizeof(u));
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "username", &in.username) >= 0 &&
        api_body_string(ar, body, "email", &in.email) >= 0 &&
        api_body_string(ar, body, "password", &in.password) >= 0 && api_body_string(ar, body, "role", &in.role) >= 0 &&
        api_body_bool(ar, body, "programmatic_only", &in.programmatic_only) >= 0 &&
        api_required(ar, "username", in.username) == 0 && api_required(ar, "email", in.email) == 0) {
        int r = users_create(ar->svc, &ar->principal, api_param(ar, "org"), &in, &u, &ar->err);
        api_reply_item(ar, r, &u, user_item);
    }
    user_rec_done(&u);
    json_decref(body);
}

static void h_user_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct user_list list = {0};
    if (api_paging(ar, USERS_LIST_DEFAULT, USERS_LIST_MAX, &limit, &after) < 0)
        return;
    int r = users_list(ar->svc, &ar->principal, api_param(ar, "org"), after, limit + 1, &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct user_rec, seq), limit,
                   user_item);
    user_list_done(&list);
}

static void h_user_get(struct api_req *ar) {
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = users_get(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"), &u, &ar->err);
    api_reply_item(ar, r, &u, user_item);
    user_rec_done(&u);
}

static void h_user_patch(struct api_req *ar) {
    static const char *const fields[] = {"email", "role", "password", "programmatic_only", "token_expiry_hours", NULL};
    struct user_update_in in = {NULL, NULL, NULL, -1, 0, 0};
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    json_t *teh = json_object_get(body, "token_expiry_hours");
    if (api_body_string(ar, body, "email", &in.email) < 0 || api_body_string(ar, body, "role", &in.role) < 0 ||
        api_body_string(ar, body, "password", &in.password) < 0 ||
        api_body_bool(ar, body, "programmatic_only", &in.programmatic_only) < 0)
        goto out;
    if (teh != NULL) {
        if (!json_is_null(teh) && (!json_is_integer(teh) || json_integer_value(teh) < 1)) {
            api_reply_error(ar, LK_EINVAL, "token_expiry_hours: expected a whole number of hours >= 1, or null");
            goto out;
        }
        in.set_token_expiry = 1;
        in.token_expiry_hours = json_is_null(teh) ? 0 : json_integer_value(teh);
    }
    int r = users_update(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"), &in, &u, &ar->err);
    api_reply_item(ar, r, &u, user_item);
out:
    if (in.password != NULL)
        explicit_bzero((char *)in.password, strlen(in.password));
    user_rec_done(&u);
    json_decref(body);
}

static void h_user_delete(struct api_req *ar) {
    api_reply_done(ar, users_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"), &ar->err));
}

static int create_for_user(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return users_token_create(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"), in, out, &ar->err);
}

static int list_for_user(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return users_token_list(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"), after, limit, out,
                            &ar->err);
}

static void h_user_token_create(struct api_req *ar) {
    api_token_create(ar, create_for_user);
}

static void h_user_token_list(struct api_req *ar) {
    api_token_list(ar, list_for_user);
}

static void h_user_token_delete(struct api_req *ar) {
    int r = users_token_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "user"),
                               api_param(ar, "id"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_users[] = {
    {M_POST, "/v1/orgs/{org}/users", 1, "user.create", h_user_create,
     "Adds a user (users.manage): {\"username\", \"email\", \"password\"?, \"role\": \"admin\"|\"member\", "
     "\"programmatic_only\": bool}. Programmatic-only users have no password and use API keys only."},
    {M_GET, "/v1/orgs/{org}/users", 1, "user.list", h_user_list, "The org's users (users.view). Query: limit, cursor."},
    {M_GET, "/v1/orgs/{org}/users/{user}", 1, "user.read", h_user_get, "One user of the org (users.view)."},
    {M_PATCH, "/v1/orgs/{org}/users/{user}", 1, "user.update", h_user_patch,
     "Changes a user (users.manage): {\"email\", \"role\", \"password\", \"programmatic_only\", "
     "\"token_expiry_hours\": N >= 1 or null}. A role change applies from the user's next request."},
    {M_DELETE, "/v1/orgs/{org}/users/{user}", 1, "user.delete", h_user_delete,
     "Removes a user (users.manage); their tokens stop working at once."},
    {M_POST, "/v1/orgs/{org}/users/{user}/tokens", 1, "user.token.create", h_user_token_create,
     "An API token for this user, made by an org admin or the partner admin (tokens.create_for_others). Same body "
     "as POST /v1/tokens; the secret is shown once."},
    {M_GET, "/v1/orgs/{org}/users/{user}/tokens", 1, "user.token.list", h_user_token_list,
     "This user's tokens, never their secrets: for the user themself, org admins and the partner admin "
     "(tokens.create_for_others); other members get 401."},
    {M_DELETE, "/v1/orgs/{org}/users/{user}/tokens/{id}", 1, "user.token.delete", h_user_token_delete,
     "Incident response: revokes one of this user's tokens at once, sessions included (org admins and the partner "
     "admin: tokens.create_for_others); 204. A token that is not this user's answers 404."},
};
API_ROUTES_END(users);
