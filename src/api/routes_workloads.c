/*
 * routes_workloads.c - a team's workloads
 * (/v1/orgs/{org}/teams/{team}/workloads) and their bindings to the team's
 * service accounts (.../workloads/{workload}/bindings/{sa}). JSON in and
 * out only: every rule (team owners decide, same team only, the subset
 * rule for binding) lives in svc/workloads.c.
 */
#include <stddef.h>

#include "api/api_internal.h"
#include "svc/workloads.h"

static json_t *workload_item(struct api_req *ar, const void *item) {
    const struct workload_rec *w = item;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", w->id, "org", api_param(ar, "org"), "team",
                     api_param(ar, "team"), "name", w->name, "description", w->description, "created_at",
                     api_time(w->created_at), "created_by", w->created_by, "updated_at", api_time(w->updated_at));
}

static json_t *binding_item(struct api_req *ar, const void *item) {
    const struct workload_binding_rec *b = item;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "workload", b->workload, "service_account", b->sa,
                     "service_account_id", b->sa_id, "team", api_param(ar, "team"), "created_at",
                     api_time(b->created_at), "created_by", b->created_by);
}

static void h_workload_create(struct api_req *ar) {
    static const char *const fields[] = {"name", "description", NULL};
    const char *name = NULL, *desc = NULL;
    struct workload_rec w;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "name", &name) >= 0 && api_body_string(ar, body, "description", &desc) >= 0 &&
        api_required(ar, "name", name) == 0) {
        int r = workloads_create(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), name, desc, &w,
                                 &ar->err);
        api_reply_item(ar, r, &w, workload_item);
    }
    json_decref(body);
}

static void h_workload_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct workload_list list = {0};
    if (api_paging(ar, WORKLOADS_LIST_DEFAULT, WORKLOADS_LIST_MAX, &limit, &after) < 0)
        return;
    int r = workloads_list(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"), after, limit + 1,
                           &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct workload_rec, seq), limit,
                   workload_item);
    workload_list_done(&list);
}

static void h_workload_get(struct api_req *ar) {
    struct workload_rec w;
    int r = workloads_get(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                          api_param(ar, "workload"), &w, &ar->err);
    api_reply_item(ar, r, &w, workload_item);
}

static void h_workload_patch(struct api_req *ar) {
    static const char *const fields[] = {"description", NULL};
    const char *desc = NULL;
    struct workload_rec w;
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    if (api_body_string(ar, body, "description", &desc) >= 0) {
        int r = workloads_update(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                                 api_param(ar, "workload"), desc, &w, &ar->err);
        api_reply_item(ar, r, &w, workload_item);
    }
    json_decref(body);
}

static void h_workload_delete(struct api_req *ar) {
    int r = workloads_delete(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                             api_param(ar, "workload"), &ar->err);
    api_reply_done(ar, r);
}

static void h_binding_list(struct api_req *ar) {
    int limit;
    int64_t after;
    struct workload_binding_list list = {0};
    if (api_paging(ar, WORKLOADS_LIST_DEFAULT, WORKLOADS_LIST_MAX, &limit, &after) < 0)
        return;
    int r = workloads_bindings_list(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                                    api_param(ar, "workload"), after, limit + 1, &list, &ar->err);
    api_reply_list(ar, r, list.items, list.count, sizeof(*list.items), offsetof(struct workload_binding_rec, seq),
                   limit, binding_item);
    workload_binding_list_done(&list);
}

static void h_binding_put(struct api_req *ar) {
    int r = workloads_bind(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                           api_param(ar, "workload"), api_param(ar, "sa"), &ar->err);
    api_reply_done(ar, r);
}

static void h_binding_delete(struct api_req *ar) {
    int r = workloads_unbind(ar->svc, &ar->principal, api_param(ar, "org"), api_param(ar, "team"),
                             api_param(ar, "workload"), api_param(ar, "sa"), &ar->err);
    api_reply_done(ar, r);
}

const struct api_route api_routes_workloads[] = {
    {M_POST, "/v1/orgs/{org}/teams/{team}/workloads", 1, "workload.create", h_workload_create,
     "Creates a workload (team owners and org admins): {\"name\": slug unique in the team, \"description\"}. "
     "Bind it to a service account of the team to let it act as that account."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/workloads", 1, "workload.list", h_workload_list,
     "The team's workloads (workloads.view). Query: limit, cursor."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/workloads/{workload}", 1, "workload.read", h_workload_get, "One workload."},
    {M_PATCH, "/v1/orgs/{org}/teams/{team}/workloads/{workload}", 1, "workload.update", h_workload_patch,
     "Changes the description (team owners and org admins): {\"description\"}."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/workloads/{workload}", 1, "workload.delete", h_workload_delete,
     "Deletes the workload and its bindings; 204."},
    {M_GET, "/v1/orgs/{org}/teams/{team}/workloads/{workload}/bindings", 1, "workload.binding.list", h_binding_list,
     "The service accounts the workload is bound to (workloads.view). Query: limit, cursor."},
    {M_PUT, "/v1/orgs/{org}/teams/{team}/workloads/{workload}/bindings/{sa}", 1, "workload.binding.put", h_binding_put,
     "Binds the workload to service account {sa} of the same team (team owners and org admins, holding everything "
     "the account holds); binding again changes nothing; 204."},
    {M_DELETE, "/v1/orgs/{org}/teams/{team}/workloads/{workload}/bindings/{sa}", 1, "workload.binding.delete",
     h_binding_delete,
     "Unbinds them: no new identity token for the pair from this answer on; unbinding a pair not bound changes "
     "nothing; 204."},
};
API_ROUTES_END(workloads);
