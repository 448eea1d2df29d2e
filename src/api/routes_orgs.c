/*
 * routes_orgs.c - handlers for organisations (the partner API), org
 * settings, users and tokens made on a user's behalf. JSON in and out only:
 * every rule lives in svc/orgs.c and svc/users.c.
 *
 * Never puts a password or its hash into an answer.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "server.h"
#include "core/perm.h"
#include "svc/groups.h"
#include "svc/orgs.h"
#include "svc/service_accounts.h"
#include "svc/teams.h"
#include "svc/users.h"

json_t *api_org_json(const struct org_rec *o) {
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:b}, s:o, s:o}", "id", o->id, "name", o->name, "display_name",
                     o->display_name, "status", o->status, "settings", "token_expiry_hours",
                     (json_int_t)o->token_expiry_hours, "allow_non_expiring_tokens", o->allow_non_expiring_tokens,
                     "created_at", api_time(o->created_at), "updated_at", api_time(o->updated_at));
}

static json_t *user_json(const struct user_rec *u, const char *org) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "id", u->id, "org", org, "username", u->username,
                     "email", u->email, "role", u->role, "programmatic_only", u->programmatic_only, "has_password",
                     u->password_hash != NULL, "token_expiry_hours",
                     u->token_expiry_hours ? json_integer(u->token_expiry_hours) : json_null(), "created_at",
                     api_time(u->created_at));
}

static void h_org_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "display_name", NULL};
    const char *name = NULL, *display = NULL;
    struct org_rec o;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &name) < 0 ||
        api_body_string(ar, body, "display_name", &display) < 0)
        goto out;
    if (name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
    api_audit_subject(ar, name, NULL);
    if (orgs_create(&ar->w->svc, &ar->principal, name, display, &o, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, api_org_json(&o));
out:
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
    if (api_rate_limit_client(ar, ar->w->srv->rl_signup, "signup", &rl) != 0)
        return;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    json_t *a = json_object_get(body, "admin");
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &in.name) < 0 ||
        api_body_string(ar, body, "display_name", &in.display_name) < 0)
        goto out;
    if (in.name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
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
    if (orgs_signup(&ar->w->svc, &in, &o, &admin, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    /* The caller is now the new org's first admin: its record is the org's.
     * A sign-up that failed (the name is taken) stays out of every org's. */
    api_audit_file_under(ar, o.id, o.name);
    json_t *resp = api_org_json(&o);
    json_object_set_new(resp, "admin", user_json(&admin, o.name));
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

static json_t *org_item(struct api_req *ar, const void *item) {
    return api_org_json(item);
}

static void h_org_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct org_list list = {0};
    if (api_paging(ar, ORGS_LIST_DEFAULT, ORGS_LIST_MAX, &limit, &after) < 0)
        return;
    if (orgs_list(&ar->w->svc, &ar->principal, after, limit + 1, &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_list(ar, list.items, list.count, sizeof(*list.items), offsetof(struct org_rec, seq), limit, org_item);
    org_list_done(&list);
}

static void h_org_get(struct api_req *ar) {
    struct org_rec o;
    if (orgs_find(&ar->w->svc, &ar->principal, ar->params[0], &o, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, api_org_json(&o));
}

static void h_org_delete(struct api_req *ar) {
    struct org_rec o;
    if (orgs_delete(&ar->w->svc, &ar->principal, ar->params[0], &o, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    /* Gone by the time the record is made: name it by the id it had. */
    api_audit_file_under(ar, o.id, o.name);
    api_reply_empty(ar);
}

static void transition(struct api_req *ar, enum org_transition t) {
    struct org_rec o;
    json_t *body = api_body_object(ar, 1);
    static const char *const none[] = {NULL};
    if (body == NULL)
        return;
    if (api_body_only(ar, body, none) == 0) {
        if (orgs_transition(&ar->w->svc, &ar->principal, ar->params[0], t, &o, &ar->err) != 0)
            api_reply_lkerr(ar, &ar->err);
        else
            api_reply_json(ar, 200, api_org_json(&o));
    }
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

static json_t *settings_json(const struct org_rec *o) {
    return json_pack("{s:s, s:I, s:b}", "display_name", o->display_name, "token_expiry_hours",
                     (json_int_t)o->token_expiry_hours, "allow_non_expiring_tokens", o->allow_non_expiring_tokens);
}

static void h_settings_get(struct api_req *ar) {
    struct org_rec o;
    if (orgs_settings_get(&ar->w->svc, &ar->principal, ar->params[0], &o, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, settings_json(&o));
}

static void h_settings_patch(struct api_req *ar) {
    static const char *const fields[] = {"token_expiry_hours", "allow_non_expiring_tokens", "display_name", NULL};
    struct org_settings_in in = {-1, -1, NULL};
    struct org_rec o;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    json_t *ane = json_object_get(body, "allow_non_expiring_tokens");
    int h;
    if (api_body_only(ar, body, fields) < 0 ||
        (h = api_body_int(ar, body, "token_expiry_hours", &in.token_expiry_hours)) < 0 ||
        api_body_string(ar, body, "display_name", &in.display_name) < 0)
        goto out;
    if (ane != NULL) {
        if (!json_is_boolean(ane)) {
            api_reply_error(ar, LK_EINVAL, "allow_non_expiring_tokens: expected true or false");
            goto out;
        }
        in.allow_non_expiring_tokens = json_is_true(ane);
    }
    if (h == 1 && in.token_expiry_hours == -1)
        in.token_expiry_hours = 0; /* -1 is "unchanged": send the svc an invalid value instead */
    if (orgs_settings_update(&ar->w->svc, &ar->principal, ar->params[0], &in, &o, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, settings_json(&o));
out:
    json_decref(body);
}

static void h_user_create(struct api_req *ar) {
    static const char *const fields[] = {"username", "email", "password", "role", "programmatic_only", NULL};
    struct user_create_in in;
    struct user_rec u;
    memset(&in, 0, sizeof(in));
    memset(&u, 0, sizeof(u));
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    json_t *po = json_object_get(body, "programmatic_only");
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "username", &in.username) < 0 ||
        api_body_string(ar, body, "email", &in.email) < 0 || api_body_string(ar, body, "password", &in.password) < 0 ||
        api_body_string(ar, body, "role", &in.role) < 0)
        goto out;
    if (po != NULL) {
        if (!json_is_boolean(po)) {
            api_reply_error(ar, LK_EINVAL, "programmatic_only: expected true or false");
            goto out;
        }
        in.programmatic_only = json_is_true(po);
    }
    if (in.username == NULL || in.email == NULL) {
        api_reply_error(ar, LK_EINVAL, "%s: required", in.username == NULL ? "username" : "email");
        goto out;
    }
    if (users_create(&ar->w->svc, &ar->principal, ar->params[0], &in, &u, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, user_json(&u, ar->params[0]));
out:
    user_rec_done(&u);
    json_decref(body);
}

static json_t *user_item(struct api_req *ar, const void *item) {
    return user_json(item, ar->params[0]);
}

static void h_user_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct user_list list = {0};
    if (api_paging(ar, USERS_LIST_DEFAULT, USERS_LIST_MAX, &limit, &after) < 0)
        return;
    if (users_list(&ar->w->svc, &ar->principal, ar->params[0], after, limit + 1, &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_list(ar, list.items, list.count, sizeof(*list.items), offsetof(struct user_rec, seq), limit, user_item);
    user_list_done(&list);
}

static void h_user_get(struct api_req *ar) {
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    if (users_get(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &u, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, user_json(&u, ar->params[0]));
    user_rec_done(&u);
}

static void h_user_patch(struct api_req *ar) {
    static const char *const fields[] = {"email", "role", "password", "programmatic_only", "token_expiry_hours", NULL};
    struct user_update_in in = {NULL, NULL, NULL, -1, 0, 0};
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    json_t *po = json_object_get(body, "programmatic_only");
    json_t *teh = json_object_get(body, "token_expiry_hours");
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "email", &in.email) < 0 ||
        api_body_string(ar, body, "role", &in.role) < 0 || api_body_string(ar, body, "password", &in.password) < 0)
        goto out;
    if (po != NULL) {
        if (!json_is_boolean(po)) {
            api_reply_error(ar, LK_EINVAL, "programmatic_only: expected true or false");
            goto out;
        }
        in.programmatic_only = json_is_true(po);
    }
    if (teh != NULL) {
        if (!json_is_null(teh) && (!json_is_integer(teh) || json_integer_value(teh) < 1)) {
            api_reply_error(ar, LK_EINVAL, "token_expiry_hours: expected a whole number of hours >= 1, or null");
            goto out;
        }
        in.set_token_expiry = 1;
        in.token_expiry_hours = json_is_null(teh) ? 0 : json_integer_value(teh);
    }
    if (users_update(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &in, &u, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, user_json(&u, ar->params[0]));
out:
    if (in.password != NULL)
        explicit_bzero((char *)in.password, strlen(in.password));
    user_rec_done(&u);
    json_decref(body);
}

static void h_user_delete(struct api_req *ar) {
    if (users_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static int create_for_user(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return users_token_create(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], in, out, &ar->err);
}

static int list_for_user(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return users_token_list(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], after, limit, out, &ar->err);
}

static void h_user_token_create(struct api_req *ar) {
    api_token_create(ar, create_for_user);
}

static void h_user_token_list(struct api_req *ar) {
    api_token_list(ar, list_for_user);
}

static void h_user_token_delete(struct api_req *ar) {
    if (users_token_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], ar->params[2], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static json_t *team_json(const struct team_rec *t, const char *org) {
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", t->id, "org", org, "name", t->name, "description",
                     t->description, "created_at", api_time(t->created_at), "updated_at", api_time(t->updated_at));
}

static void h_team_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", NULL};
    const char *name = NULL, *desc = NULL;
    struct team_rec t;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &name) < 0 ||
        api_body_string(ar, body, "description", &desc) < 0)
        goto out;
    if (name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
    if (teams_create(&ar->w->svc, &ar->principal, ar->params[0], name, desc, &t, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, team_json(&t, ar->params[0]));
out:
    json_decref(body);
}

static json_t *team_item(struct api_req *ar, const void *item) {
    return team_json(item, ar->params[0]);
}

static void h_team_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct team_list list = {0};
    if (api_paging(ar, TEAMS_LIST_DEFAULT, TEAMS_LIST_MAX, &limit, &after) < 0)
        return;
    if (teams_list(&ar->w->svc, &ar->principal, ar->params[0], after, limit + 1, &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_list(ar, list.items, list.count, sizeof(*list.items), offsetof(struct team_rec, seq), limit, team_item);
    team_list_done(&list);
}

static void h_team_get(struct api_req *ar) {
    struct team_rec t;
    if (teams_get(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &t, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, team_json(&t, ar->params[0]));
}

static void h_team_patch(struct api_req *ar) {
    static const char *const fields[] = {"description", NULL};
    const char *desc = NULL;
    struct team_rec t;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) == 0 && api_body_string(ar, body, "description", &desc) >= 0) {
        if (teams_update(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], desc, &t, &ar->err) != 0)
            api_reply_lkerr(ar, &ar->err);
        else
            api_reply_json(ar, 200, team_json(&t, ar->params[0]));
    }
    json_decref(body);
}

static void h_team_delete(struct api_req *ar) {
    if (teams_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static void h_team_members(struct api_req *ar) {
    struct team_member_list list = {0};
    if (teams_members(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:o}", "username", list.items[i].username, "role",
                                               list.items[i].role, "since", api_time(list.items[i].created_at)));
    team_member_list_done(&list);
    api_reply_page(ar, items, 0, 0);
}

static void h_team_member_put(struct api_req *ar) {
    static const char *const fields[] = {"role", NULL};
    const char *role = NULL;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) == 0 && api_body_string(ar, body, "role", &role) >= 0) {
        if (teams_member_put(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], ar->params[2], role,
                             &ar->err) != 0)
            api_reply_lkerr(ar, &ar->err);
        else
            api_reply_json(ar, 200, json_pack("{s:s, s:s}", "username", ar->params[2], "role", role));
    }
    json_decref(body);
}

static void h_team_member_delete(struct api_req *ar) {
    if (teams_member_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], ar->params[2], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static json_t *sa_json(const struct sa_rec *a, const char *org, const char *team) {
    json_t *roles = json_loads(a->roles_json, 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id, "org", org, "team", team, "name", a->name,
                     "description", a->description, "roles", roles ? roles : json_array(), "created_at",
                     api_time(a->created_at), "updated_at", api_time(a->updated_at));
}

#define SA_ARGS ar->params[0], ar->params[1]

static void h_sa_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", "roles", NULL};
    const char *name = NULL, *desc = NULL;
    const char *roles[SA_ROLES_MAX];
    size_t nroles = 0;
    struct sa_rec a;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &name) < 0 ||
        api_body_string(ar, body, "description", &desc) < 0)
        goto out;
    if (name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
    json_t *jr = json_object_get(body, "roles");
    if (jr != NULL) {
        size_t i;
        json_t *v;
        if (!json_is_array(jr) || json_array_size(jr) > SA_ROLES_MAX) {
            api_reply_error(ar, LK_EINVAL, "roles: expected an array of at most %d role names", SA_ROLES_MAX);
            goto out;
        }
        json_array_foreach(jr, i, v) {
            if (!json_is_string(v)) {
                api_reply_error(ar, LK_EINVAL, "roles[%zu]: expected a string", i);
                goto out;
            }
            roles[nroles++] = json_string_value(v);
        }
    }
    if (sa_create(&ar->w->svc, &ar->principal, SA_ARGS, name, desc, roles, nroles, &a, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, sa_json(&a, ar->params[0], ar->params[1]));
out:
    json_decref(body);
}

static json_t *sa_item(struct api_req *ar, const void *item) {
    return sa_json(item, ar->params[0], ar->params[1]);
}

static void h_sa_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct sa_list list = {0};
    if (api_paging(ar, SA_LIST_DEFAULT, SA_LIST_MAX, &limit, &after) < 0)
        return;
    if (sa_list(&ar->w->svc, &ar->principal, SA_ARGS, after, limit + 1, &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_list(ar, list.items, list.count, sizeof(*list.items), offsetof(struct sa_rec, seq), limit, sa_item);
    sa_list_done(&list);
}

static void h_sa_get(struct api_req *ar) {
    struct sa_rec a;
    if (sa_get(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], &a, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, sa_json(&a, ar->params[0], ar->params[1]));
}

static void h_sa_patch(struct api_req *ar) {
    static const char *const fields[] = {"description", NULL};
    const char *desc = NULL;
    struct sa_rec a;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) == 0 && api_body_string(ar, body, "description", &desc) >= 0) {
        if (sa_update(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], desc, &a, &ar->err) != 0)
            api_reply_lkerr(ar, &ar->err);
        else
            api_reply_json(ar, 200, sa_json(&a, ar->params[0], ar->params[1]));
    }
    json_decref(body);
}

static void h_sa_delete(struct api_req *ar) {
    if (sa_delete(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static void h_sa_role_put(struct api_req *ar) {
    struct sa_rec a;
    if (sa_role_put(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], ar->params[3], &a, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, sa_json(&a, ar->params[0], ar->params[1]));
}

static void h_sa_role_delete(struct api_req *ar) {
    struct sa_rec a;
    if (sa_role_delete(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], ar->params[3], &a, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, sa_json(&a, ar->params[0], ar->params[1]));
}

static int create_for_sa(struct api_req *ar, const struct token_create_in *in, struct token_created *out) {
    return sa_token_create(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], in, out, &ar->err);
}

static int list_for_sa(struct api_req *ar, int64_t after, int limit, struct token_list *out) {
    return sa_token_list(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], after, limit, out, &ar->err);
}

static void h_sa_token_create(struct api_req *ar) {
    api_token_create(ar, create_for_sa);
}

static void h_sa_token_list(struct api_req *ar) {
    api_token_list(ar, list_for_sa);
}

static void h_sa_token_delete(struct api_req *ar) {
    if (sa_token_delete(&ar->w->svc, &ar->principal, SA_ARGS, ar->params[2], ar->params[3], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

/* Reads an optional array of strings member into out[0..max); replies 400 on a bad shape. */
static int string_array(struct api_req *ar, json_t *body, const char *key, const char **out, size_t max,
                        size_t *ret_n) {
    json_t *a = json_object_get(body, key);
    size_t i;
    json_t *v;
    *ret_n = 0;
    if (a == NULL)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > max) {
        api_reply_error(ar, LK_EINVAL, "%s: expected an array of at most %zu strings", key, max);
        return -1;
    }
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) {
            api_reply_error(ar, LK_EINVAL, "%s[%zu]: expected a string", key, i);
            return -1;
        }
        out[i] = json_string_value(v);
    }
    *ret_n = json_array_size(a);
    return 0;
}

static void h_role_list(struct api_req *ar) {
    struct role_list list = {0};
    if (roles_list(&ar->w->svc, &ar->principal, ar->params[0], &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *items = json_array();
    for (int r = 0; r < PERM_ROLE__COUNT; r++) {
        const char *names[64];
        json_t *perms = json_array();
        size_t n = perm_names(perm_builtin_role_set((enum perm_builtin_role)r), names, 64);
        for (size_t k = 0; k < n && k < 64; k++)
            json_array_append_new(perms, json_string(names[k]));
        json_array_append_new(items,
                              json_pack("{s:s, s:b, s:o}", "name", perm_builtin_role_name((enum perm_builtin_role)r),
                                        "builtin", 1, "permissions", perms));
    }
    for (size_t i = 0; i < list.count; i++) {
        json_t *perms = json_loads(list.items[i].permissions_json, 0, NULL);
        json_array_append_new(items, json_pack("{s:s, s:b, s:o}", "name", list.items[i].name, "builtin", 0,
                                               "permissions", perms ? perms : json_array()));
    }
    role_list_done(&list);
    api_reply_page(ar, items, 0, 0);
}

static void h_role_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "permissions", NULL};
    const char *name = NULL, *perms[64];
    size_t n = 0;
    struct role_rec r;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &name) < 0 ||
        string_array(ar, body, "permissions", perms, 64, &n) < 0)
        goto out;
    if (name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
    if (roles_create(&ar->w->svc, &ar->principal, ar->params[0], name, perms, n, &r, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    json_t *p = json_loads(r.permissions_json, 0, NULL);
    api_reply_json(ar, 200,
                   json_pack("{s:s, s:b, s:o}", "name", r.name, "builtin", 0, "permissions", p ? p : json_array()));
out:
    json_decref(body);
}

static void h_role_delete(struct api_req *ar) {
    if (roles_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static json_t *group_json(struct api_req *ar, const struct group_rec *g) {
    char *members = NULL;
    json_t *m = NULL;
    if (store_group_member_names(ar->w->svc.store, g->id, &members) == 0)
        m = json_loads(members, 0, NULL);
    free(members);
    json_t *roles = json_loads(g->roles_json, 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", g->id, "name", g->name, "description", g->description,
                     "roles", roles ? roles : json_array(), "members", m ? m : json_array(), "created_at",
                     api_time(g->created_at));
}

static void h_group_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", "roles", NULL};
    const char *name = NULL, *desc = NULL, *roles[GROUPS_ROLES_MAX];
    size_t n = 0;
    struct group_rec g;
    json_t *body = api_body_object(ar, 0);
    if (body == NULL)
        return;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "name", &name) < 0 ||
        api_body_string(ar, body, "description", &desc) < 0 ||
        string_array(ar, body, "roles", roles, GROUPS_ROLES_MAX, &n) < 0)
        goto out;
    if (name == NULL) {
        api_reply_error(ar, LK_EINVAL, "name: required");
        goto out;
    }
    if (groups_create(&ar->w->svc, &ar->principal, ar->params[0], name, desc, roles, n, &g, &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_json(ar, 200, group_json(ar, &g));
out:
    json_decref(body);
}

static void h_group_list(struct api_req *ar) {
    struct group_list list = {0};
    if (groups_list(&ar->w->svc, &ar->principal, ar->params[0], &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(items, group_json(ar, &list.items[i]));
    group_list_done(&list);
    api_reply_page(ar, items, 0, 0);
}

static void h_group_member_put(struct api_req *ar) {
    if (groups_member_put(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], ar->params[2], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

static void h_group_member_delete(struct api_req *ar) {
    if (groups_member_delete(&ar->w->svc, &ar->principal, ar->params[0], ar->params[1], ar->params[2], &ar->err) != 0)
        api_reply_lkerr(ar, &ar->err);
    else
        api_reply_empty(ar);
}

const struct api_route api_org_routes[] = {
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
     "Org settings (settings.view): token_expiry_hours, allow_non_expiring_tokens, display_name."},
    {M_PATCH, "/v1/orgs/{org}/settings", 1, "org.settings.update", h_settings_patch,
     "Changes org settings (settings.manage): {\"token_expiry_hours\": N >= 1, \"allow_non_expiring_tokens\": bool, "
     "\"display_name\"}."},
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
    {M_POST, "/v1/orgs/{org}/teams", 1, "team.create", h_team_create,
     "Creates a team (teams.manage on the org): {\"name\": slug, \"description\"}."},
    {M_GET, "/v1/orgs/{org}/teams", 1, "team.list", h_team_list, "The org's teams (teams.view). Query: limit, cursor."},
    {M_GET, "/v1/orgs/{org}/teams/{team}", 1, "team.read", h_team_get, "One team (teams.view)."},
    {M_PATCH, "/v1/orgs/{org}/teams/{team}", 1, "team.update", h_team_patch,
     "Changes a team's description (teams.manage: its owners and org admins): {\"description\"}."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}", 1, "team.delete", h_team_delete,
     "Deletes a team and its memberships (teams.manage on the org)."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/members", 1, "team.member.list", h_team_members,
     "The team's members with their roles (teams.view)."},
    {M_PUT, "/v1/orgs/{org}/teams/{team}/members/{user}", 1, "team.member.put", h_team_member_put,
     "Adds a user of the org to the team or changes their role (teams.manage in the team): {\"role\": "
     "\"owner\"|\"member\"|\"viewer\"}."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/members/{user}", 1, "team.member.delete", h_team_member_delete,
     "Removes a user from the team (teams.manage in the team)."},
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
    {M_GET, "/v1/orgs/{org}/roles", 1, "role.list", h_role_list,
     "Built-in and custom roles of the org with their permissions (roles.view)."},
    {M_POST, "/v1/orgs/{org}/roles", 1, "role.create", h_role_create,
     "Defines a custom role (roles.manage): {\"name\", \"permissions\": [...]}; only permissions you hold."},
    {M_DELETE, "/v1/orgs/{org}/roles/{role}", 1, "role.delete", h_role_delete,
     "Deletes a custom role (roles.manage); groups that named it grant nothing through it from the next request."},
    {M_POST, "/v1/orgs/{org}/groups", 1, "group.create", h_group_create,
     "Creates a group (groups.manage): {\"name\", \"description\", \"roles\": [built-in or custom role names]}; "
     "its roles apply to every member, within the org; only roles whose permissions you hold."},
    {M_GET, "/v1/orgs/{org}/groups", 1, "group.list", h_group_list, "The org's groups with roles and members."},
    {M_PUT, "/v1/orgs/{org}/groups/{group}/members/{user}", 1, "group.member.put", h_group_member_put,
     "Adds a user to the group (groups.manage); 204."},
    {M_DELETE, "/v1/orgs/{org}/groups/{group}/members/{user}", 1, "group.member.delete", h_group_member_delete,
     "Removes a user from the group (groups.manage); 204."},
};
const size_t api_org_routes_count = sizeof(api_org_routes) / sizeof(api_org_routes[0]);
