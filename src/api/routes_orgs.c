/*
 * routes_orgs.c - organisations (the partner API): creation, self-service
 * sign-up, listing, the lifecycle (approve, activate, deactivate, delete)
 * and org settings. JSON in and out only: every rule lives in svc/orgs.c.
 *
 * Never puts a password or its hash into an answer, and leaves no sign-up
 * password in freed memory.
 */
#include <stddef.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/orgs.h"
#include "svc/users.h"

json_t *api_org_json(const struct org_rec *o) {
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:b, s:b}, s:o, s:o}", "id", o->id, "name", o->name, "display_name",
                     o->display_name, "status", o->status, "settings", "token_expiry_hours",
                     (json_int_t)o->token_expiry_hours, "allow_non_expiring_tokens", o->allow_non_expiring_tokens,
                     "notify_short_lived_tokens", o->notify_short_lived_tokens, "created_at", api_time(o->created_at),
                     "updated_at", api_time(o->updated_at));
}

static json_t *org_item(struct api_req *ar, const void *item) {
    return api_org_json(item);
}

static json_t *settings_item(struct api_req *ar, const void *item) {
    const struct org_rec *o = item;
    return json_pack("{s:s, s:I, s:b, s:b}", "display_name", o->display_name, "token_expiry_hours",
                     (json_int_t)o->token_expiry_hours, "allow_non_expiring_tokens", o->allow_non_expiring_tokens,
                     "notify_short_lived_tokens", o->notify_short_lived_tokens);
}

static void h_org_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "display_name", NULL};
    const char *name = NULL, *display = NULL;
    struct org_rec o;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 && api_body_string(ar, body, "display_name", &display) >= 0 &&
        api_required(ar, "name", name) == 0) {
        api_audit_subject(ar, name, NULL);
        api_reply_item(ar, orgs_create(ar->svc, &ar->principal, name, display, &o, &ar->err), &o, org_item);
    }
    json_decref(body);
}

static void h_org_signup(struct api_req *ar) {
    static const char *const fields[] = {"name", "display_name", "admin", NULL};
    static const char *const admin_fields[] = {"username", "email", "password", NULL};
    struct org_signup_in in;
    struct org_rec o;
    struct user_rec admin;
    struct rl_result rl;
    memset(&in, 0, sizeof(in));
    memset(&admin, 0, sizeof(admin));
    /* Anyone may sign up, so it has its own per-address limit, counted
     * before any work (a sign-up hashes a password and adds an org). */
    if (api_rate_limit_client(ar, ar->ctx->cfg->limit_signup, "signup", &rl) != 0)
        return;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL || api_body_string(ar, body, "name", &in.name) < 0 ||
        api_body_string(ar, body, "display_name", &in.display_name) < 0 || api_required(ar, "name", in.name) < 0)
        goto out;
    json_t *a = json_object_get(body, "admin");
    if (!json_is_object(a)) {
        api_reply_error(ar, LK_EINVAL, "admin: required, an object with username, email and password");
        goto out;
    }
    if (api_body_only(ar, a, admin_fields) < 0 || api_body_string(ar, a, "username", &in.admin_username) < 0 ||
        api_body_string(ar, a, "email", &in.admin_email) < 0 ||
        api_body_string(ar, a, "password", &in.admin_password) < 0)
        goto out;
    if (!in.admin_username || !in.admin_email || !in.admin_password) {
        api_reply_error(ar, LK_EINVAL, "admin: username, email and password are required");
        goto out;
    }
    api_audit_subject(ar, in.name, in.admin_username);
    if (orgs_signup(ar->svc, &in, &o, &admin, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    /* The caller is now the new org's first admin: its record is the org's.
     * A sign-up that failed (the name is taken) stays out of every org's. */
    api_audit_file_under(ar, o.id, o.name);
    json_t *resp = api_org_json(&o);
    json_object_set_new(resp, "admin", api_user_json(&admin, o.name));
    api_reply_json(ar, 200, resp);
out:
    user_rec_done(&admin);
    /* As at login: no password left behind in freed memory. */
    if (in.admin_password != NULL)
        explicit_bzero((char *)in.admin_password, strlen(in.admin_password));
    json_decref(body);
    if (ar->req->entity.base != NULL)
        explicit_bzero((char *)ar->req->entity.base, ar->req->entity.len);
}

static void h_org_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct org_list list = {0};
    if (api_paging(ar, ORGS_LIST_DEFAULT, ORGS_LIST_MAX, &limit, &after) < 0)
        return;
    int r = orgs_list(ar->svc, &ar->principal, after, limit + 1, &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct org_rec, seq), limit, org_item);
    org_list_done(&list);
}

static void h_org_get(struct api_req *ar) {
    struct org_rec o;
    api_reply_item(ar, orgs_find(ar->svc, &ar->principal, api_param(ar, "org"), &o, &ar->err), &o, org_item);
}

static void h_org_delete(struct api_req *ar) {
    struct org_rec o;
    if (orgs_delete(ar->svc, &ar->principal, api_param(ar, "org"), &o, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    /* Gone by the time the record is made: name it by the id it had. */
    api_audit_file_under(ar, o.id, o.name);
    api_reply_empty(ar);
}

static void transition(struct api_req *ar, enum org_transition t) {
    static const char *const none[] = {NULL};
    struct org_rec o;
    json_t *body = api_body_fields(ar, 1, none);
    if (body == NULL)
        return;
    api_reply_item(ar, orgs_transition(ar->svc, &ar->principal, api_param(ar, "org"), t, &o, &ar->err), &o, org_item);
    json_decref(body);
}

static void h_org_approve(struct api_req *ar) {
    transition(ar, ORG_APPROVE);
}
static void h_org_activate(struct api_req *ar) {
    transition(ar, ORG_ACTIVATE);
}
static void h_org_deactivate(struct api_req *ar) {
    transition(ar, ORG_DEACTIVATE);
}

static void h_settings_get(struct api_req *ar) {
    struct org_rec o;
    int r = orgs_settings_get(ar->svc, &ar->principal, api_param(ar, "org"), &o, &ar->err);
    api_reply_item(ar, r, &o, settings_item);
}

static void h_settings_patch(struct api_req *ar) {
    static const char *const fields[] = {"token_expiry_hours", "allow_non_expiring_tokens", "display_name",
                                         "notify_short_lived_tokens", NULL};
    struct org_settings_in in = {-1, -1, NULL, -1};
    struct org_rec o;
    int h;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if ((h = api_body_int(ar, body, "token_expiry_hours", &in.token_expiry_hours)) < 0 ||
        api_body_string(ar, body, "display_name", &in.display_name) < 0 ||
        api_body_bool(ar, body, "allow_non_expiring_tokens", &in.allow_non_expiring_tokens) < 0 ||
        api_body_bool(ar, body, "notify_short_lived_tokens", &in.notify_short_lived_tokens) < 0)
        goto out;
    if (h == 1 && in.token_expiry_hours == -1)
        in.token_expiry_hours = 0; /* -1 is "unchanged": send the svc an invalid value instead */
    int r = orgs_settings_update(ar->svc, &ar->principal, api_param(ar, "org"), &in, &o, &ar->err);
    api_reply_item(ar, r, &o, settings_item);
out:
    json_decref(body);
}

const struct api_route api_routes_orgs[] = {
    {M_POST, "/v1/orgs", 1, "org.create", h_org_create,
     "Partner admin: creates an organisation, active at once. Body: {\"name\": slug, \"display_name\"}."},
    {M_GET, "/v1/orgs", 1, "org.list", h_org_list,
     "Organisations: every one for the partner admin, your own otherwise. Query: limit, cursor."},
    {M_POST, "/v1/orgs/signup", 0, "org.signup", h_org_signup,
     "Self-service sign-up: {\"name\", \"display_name\", \"admin\": {\"username\", \"email\", \"password\"}}. "
     "The organisation starts pending; its users cannot authenticate until a partner admin approves it."},
    {M_GET, "/v1/orgs/{org}", 1, "org.read", h_org_get, "One organisation: status and settings."},
    {M_DELETE, "/v1/orgs/{org}", 1, "org.delete", h_org_delete,
     "Partner admin: deletes the organisation with its users and their tokens; audit records stay."},
    {M_POST, "/v1/orgs/{org}/approve", 1, "org.approve", h_org_approve,
     "Partner admin: approves a pending organisation (pending -> active)."},
    {M_POST, "/v1/orgs/{org}/activate", 1, "org.activate", h_org_activate,
     "Partner admin: activates a deactivated organisation; its principals authenticate again, nothing is re-issued."},
    {M_POST, "/v1/orgs/{org}/deactivate", 1, "org.deactivate", h_org_deactivate,
     "Partner admin: deactivates an organisation; its principals get 401 saying so from the next request on."},
    {M_GET, "/v1/orgs/{org}/settings", 1, "org.settings.read", h_settings_get,
     "Org settings (settings.view): token_expiry_hours, allow_non_expiring_tokens, notify_short_lived_tokens, "
     "display_name."},
    {M_PATCH, "/v1/orgs/{org}/settings", 1, "org.settings.update", h_settings_patch,
     "Changes org settings (settings.manage): {\"token_expiry_hours\": N >= 1, \"allow_non_expiring_tokens\": bool, "
     "\"notify_short_lived_tokens\": bool (expiry notices for tokens whose whole life is shorter than the final "
     "notice offset; default false), \"display_name\"}."},
};
API_ROUTES_END(orgs);
