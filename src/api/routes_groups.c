/*
 * routes_groups.c - an org's custom roles (/v1/orgs/{org}/roles, listed
 * with the built-in ones) and groups of users (/v1/orgs/{org}/groups) with
 * their members. JSON in and out only: every rule (the subset rule, which
 * role names resolve) lives in svc/groups.c.
 */
#include "api/api_internal.h"
#include "core/perm.h"
#include "svc/groups.h"

/* Most permission names a role or a request lists. */
#define PERMS_MAX 64

static json_t *role_json(const char *name, int builtin, json_t *perms) {
    return json_pack("{s:s, s:b, s:o}", "name", name, "builtin", builtin, "permissions", perms ? perms : json_array());
}

json_t *api_builtin_role_json(int role) {
    const char *names[PERMS_MAX];
    json_t *perms = json_array();
    size_t n = perm_names(perm_builtin_role_set((enum perm_builtin_role)role), names, PERMS_MAX);
    for (size_t k = 0; k < n && k < PERMS_MAX; k++)
        json_array_append_new(perms, json_string(names[k]));
    return role_json(perm_builtin_role_name((enum perm_builtin_role)role), 1, perms);
}

static json_t *custom_role_item(struct api_req *ar, const void *item) {
    const struct role_rec *r = item;
    return role_json(r->name, 0, api_names(r->permissions, sizeof(r->permissions[0]), r->npermissions));
}

static json_t *group_json(const struct group_rec *g, const struct name_list *members) {
    json_t *roles = api_names(g->roles, sizeof(g->roles[0]), g->nroles);
    json_t *m = api_names(members->items, sizeof(*members->items), members->count);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", g->id, "name", g->name, "description", g->description,
                     "roles", roles ? roles : json_array(), "members", m ? m : json_array(), "created_at",
                     api_time(g->created_at));
}

/* A group just made has no members yet. */
static json_t *new_group_item(struct api_req *ar, const void *item) {
    static const struct name_list none = {NULL, 0};
    return group_json(item, &none);
}

static void h_role_list(struct api_req *ar) {
    struct role_list list = {0};
    if (roles_list(ar->svc, &ar->principal, api_param(ar, "org"), &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *items = json_array();
    for (int r = 0; r < PERM_ROLE__COUNT; r++)
        json_array_append_new(items, api_builtin_role_json(r));
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(items, custom_role_item(ar, &list.items[i]));
    role_list_done(&list);
    api_reply_page(ar, items, 0, 0);
}

static void h_role_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "permissions", NULL};
    const char *name = NULL, *perms[PERMS_MAX];
    size_t n = 0;
    struct role_rec r;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 &&
        api_body_strings(ar, body, "permissions", "strings", perms, PERMS_MAX, &n) == 0 &&
        api_required(ar, "name", name) == 0) {
        int rc = roles_create(ar->svc, &ar->principal, api_param(ar, "org"), name, perms, n, &r, &ar->err);
        api_reply_item(ar, rc, &r, custom_role_item);
    }
    json_decref(body);
}

static void h_role_delete(struct api_req *ar) {
    api_reply_done(ar, roles_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "role"), &ar->err));
}

static void h_group_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", "roles", NULL};
    const char *name = NULL, *desc = NULL, *roles[GROUPS_ROLES_MAX];
    size_t n = 0;
    struct group_rec g;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 && api_body_string(ar, body, "description", &desc) >= 0 &&
        api_body_strings(ar, body, "roles", "strings", roles, GROUPS_ROLES_MAX, &n) == 0 &&
        api_required(ar, "name", name) == 0) {
        int r = groups_create(ar->svc, &ar->principal, api_param(ar, "org"), name, desc, roles, n, &g, &ar->err);
        api_reply_item(ar, r, &g, new_group_item);
    }
    json_decref(body);
}

static void h_group_list(struct api_req *ar) {
    struct group_info_list list = {0};
    if (groups_list(ar->svc, &ar->principal, api_param(ar, "org"), &list, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(items, group_json(&list.items[i].group, &list.items[i].members));
    group_info_list_done(&list);
    api_reply_page(ar, items, 0, 0);
}

static void h_group_member_put(struct api_req *ar) {
    int r = groups_member_put(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "group"),
                              api_param(ar, "user"), &ar->err);
    api_reply_done(ar, r);
}

static void h_group_member_delete(struct api_req *ar) {
    int r = groups_member_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "group"),
                                 api_param(ar, "user"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_groups[] = {
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
API_ROUTES_END(groups);
