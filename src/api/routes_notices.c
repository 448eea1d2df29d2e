/*
 * routes_notices.c - the read-only REST view of the expiry-notice outbox:
 * GET /v1/orgs/{org}/notices (org admins) and GET /v1/notices (partner
 * admin). JSON out only; who may see what is svc/notices.c's.
 *
 * Never shows a secret: a notice carries the token's public id only.
 */
#include <stddef.h>
#include <jansson.h>
#include <string.h>

#include "api/api_internal.h"
#include "svc/notices.h"

static json_t *notice_json(const struct notice_rec *n) {
    return json_pack(
        "{s:s, s:s, s:o, s:{s:s, s:s}, s:s, s:i, s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "id", n->id, "token_id",
        n->token_id, "org", n->org_name[0] ? json_string(n->org_name) : json_null(), "owner", "type", n->owner_type,
        "id", n->owner_id, "channel", n->channel, "days_before", n->days_before, "expires_at", api_time(n->expires_at),
        "recipient", n->recipient[0] ? json_string(n->recipient) : json_null(), "status", n->status, "attempts",
        n->attempts, "last_error", n->last_error[0] ? json_string(n->last_error) : json_null(), "next_attempt_at",
        strcmp(n->status, "pending") == 0 ? api_time(n->next_attempt_at) : json_null(), "created_at",
        api_time(n->created_at), "updated_at", api_time(n->updated_at), "delivered_at", api_time(n->delivered_at));
}

static json_t *notice_item(struct api_req *ar, const void *item) {
    return notice_json(item);
}

static void list(struct api_req *ar, const char *org) {
    int limit;
    int64_t after;
    struct notice_list l = {0};
    const char *status = api_query(ar, "status");
    if (api_paging(ar, NOTICES_LIST_DEFAULT, NOTICES_LIST_MAX, &limit, &after) < 0)
        return;
    if (status != NULL && *status == '\0')
        status = NULL;
    int r = notices_list(ar->svc, &ar->principal, org, status, after, limit + 1, &l, &ar->err);
    api_reply_list(ar, r, l.items, l.count, sizeof(*l.items), offsetof(struct notice_rec, seq), limit, notice_item);
    notice_list_done(&l);
}

static void h_org_notices(struct api_req *ar) {
    list(ar, api_param(ar, "org"));
}

static void h_all_notices(struct api_req *ar) {
    list(ar, NULL);
}

const struct api_route api_routes_notices[] = {
    {M_GET, "/v1/orgs/{org}/notices", 1, "notice.list", h_org_notices,
     "Org admins: the org's token expiry notices (the outbox), oldest first: {\"items\":[{id, token_id, owner, "
     "channel, days_before, expires_at, recipient, status, attempts, last_error, next_attempt_at, delivered_at}],"
     "\"next_cursor\"}. Query: limit (1-200), cursor, status (pending, delivered, failed, skipped, cancelled)."},
    {M_GET, "/v1/notices", 1, "notice.list_all", h_all_notices,
     "Partner admin: the token expiry notices of every organisation and of root tokens. Query as for "
     "/v1/orgs/{org}/notices."},
};
API_ROUTES_END(notices);
