/*
 * routes_teams.c - the teams of an org (/v1/orgs/{org}/teams) and their
 * members. JSON in and out only: every rule (who may change a team, which
 * roles a member may hold) lives in svc/teams.c.
 */
#include <stddef.h>

#include "api/api_internal.h"
#include "svc/teams.h"

static json_t *team_item(struct api_req *ar, const void *item) {
    const struct team_rec *t = item;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", t->id, "org", api_param(ar, "org"), "name", t->name,
                     "description", t->description, "created_at", api_time(t->created_at), "updated_at",
                     api_time(t->updated_at));
}

/* A membership as PUT answers it: the user named by the path, with role. */
static json_t *member_item(struct api_req *ar, const void *role) {
    return json_pack("{s:s, s:s}", "username", api_param(ar, "user"), "role", (const char *)role);
}

static void h_team_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", NULL};
    const char *name = NULL, *desc = NULL;
    struct team_rec t;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 && api_body_string(ar, body, "description", &desc) >= 0 &&
        api_required(ar, "name", name) == 0) {
        int r = teams_create(ar->svc, &ar->principal, api_param(ar, "org"), name, desc, &t, &ar->err);
        api_reply_item(ar, r, &t, team_item);
    }
    json_decref(body);
}

static void h_team_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct team_list list = {0};
    if (api_paging(ar, TEAMS_LIST_DEFAULT, TEAMS_LIST_MAX, &limit, &after) < 0)
        return;
    int r = teams_list(ar->svc, &ar->principal, api_param(ar, "org"), after, limit + 1, &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct team_rec, seq), limit,
                   team_item);
    team_list_done(&list);
}

static void h_team_get(struct api_req *ar) {
    struct team_rec t;
    int r = teams_get(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), &t, &ar->err);
    api_reply_item(ar, r, &t, team_item);
}

static void h_team_patch(struct api_req *ar) {
    static const char *const fields[] = {"description", NULL};
    const char *desc = NULL;
    struct team_rec t;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "description", &desc) >= 0) {
        int r = teams_update(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), desc, &t, &ar->err);
        api_reply_item(ar, r, &t, team_item);
    }
    json_decref(body);
}

static void h_team_delete(struct api_req *ar) {
    api_reply_done(ar, teams_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), &ar->err));
}

static void h_team_members(struct api_req *ar) {
    struct team_member_list list = {0};
    if (teams_members(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), &list, &ar->err) != 0) {
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
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "role", &role) >= 0) {
        int r = teams_member_put(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                                 api_param(ar, "user"), role, &ar->err);
        api_reply_item(ar, r, role, member_item);
    }
    json_decref(body);
}

static void h_team_member_delete(struct api_req *ar) {
    int r = teams_member_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                                api_param(ar, "user"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_teams[] = {
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
};
API_ROUTES_END(teams);
