/*
 * notices.c - the use cases over the expiry-notice outbox: listing for org
 * admins (their org) and the partner admin (every org), the outbox reads
 * and writes of the notifier (jobs/notices.c), and the rules that cancel
 * or retire a token's notices when it is deleted or cut short (called by
 * the use cases that do that).
 *
 * Never shows a notice of an org the caller may not see, and never has a
 * secret to show: the outbox holds public token ids and addresses only.
 */
#include "svc/notices.h"

#include <string.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"

int notices_status_valid(const char *status) {
    static const char *const states[] = {"pending", "delivered", "failed", "skipped", "cancelled"};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(status, states[i]) == 0)
            return 1;
    return 0;
}

int notices_list(struct svc *svc, const struct principal *caller, const char *org_name, const char *status,
                 int64_t after, int limit, struct notice_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    const char *org_id = NULL;
    int r;
    if (status != NULL && !notices_status_valid(status))
        return lk_error_set(err, LK_EINVAL, "status: expected pending, delivered, failed, skipped or cancelled");
    if (org_name == NULL) {
        r = authz_require_root(caller, NULL, "list the notices of every organisation", NULL, err);
        if (r < 0)
            return r;
    } else {
        r = svc_scope_load(svc, caller, org_name, NULL, &sc, err);
        if (r < 0)
            return r;
        /* Notices name owners and their e-mail addresses: org admins only. */
        r = authz_require(caller, &sc.org, "settings.manage", sc.notfound, err);
        if (r < 0)
            return r;
        org_id = sc.org.id;
    }
    r = store_notice_list(svc->store, org_id, status, after, limit, ret);
    if (r < 0)
        return lk_error_set(err, r, "could not read the notices");
    return 0;
}

/* --- the notifier's side --------------------------------------------------------- */

int notices_tokens_expiring(struct svc *svc, int64_t horizon, int64_t after_seq, int limit,
                            struct notice_candidate_list *ret) {
    return store_notice_candidates(svc->store, svc->now, horizon, after_seq, limit, ret);
}

int notices_outbox_insert(struct svc *svc, const struct notice_rec *rec, int *ret_inserted) {
    return store_notice_insert(svc->store, rec, ret_inserted);
}

int notices_outbox_supersede(struct svc *svc, const char *token_id, int days) {
    return store_notice_supersede(svc->store, token_id, days, svc->now);
}

int notices_outbox_due(struct svc *svc, const char *channel, int limit, struct notice_list *ret) {
    return store_notice_due(svc->store, svc->now, channel, limit, ret);
}

int notices_outbox_claim(struct svc *svc, const char *id, int64_t lease_until, int *ret_claimed) {
    return store_notice_claim(svc->store, id, svc->now, lease_until, ret_claimed);
}

int notices_outbox_finish(struct svc *svc, const struct notice_rec *rec) {
    return store_notice_finish(svc->store, rec);
}

int notices_outbox_purge(struct svc *svc, int64_t cutoff) {
    return store_notice_purge(svc->store, cutoff, NULL);
}

/* --- the rules that follow a token's life ------------------------------------------ */

int notices_cancel_token(struct svc *svc, const char *token_id) {
    return store_notice_cancel_token(svc->store, token_id, NOTICES_WHY_DELETED, svc->now, NULL);
}

int notices_cancel_owner(struct svc *svc, const char *owner_type, const char *owner_id, const char *id_prefix) {
    return store_notice_cancel_owner(svc->store, owner_type, owner_id, id_prefix, NOTICES_WHY_DELETED, svc->now, NULL);
}

int notices_cancel_team(struct svc *svc, const char *team_id) {
    return store_notice_cancel_team(svc->store, team_id, NOTICES_WHY_DELETED, svc->now, NULL);
}

int notices_cancel_org(struct svc *svc, const char *org_id) {
    return store_notice_cancel_org(svc->store, org_id, NOTICES_WHY_DELETED, svc->now, NULL);
}

int notices_cancel_expired(struct svc *svc, int64_t cutoff) {
    return store_notice_cancel_expired(svc->store, cutoff, NOTICES_WHY_DELETED, svc->now, NULL);
}

int notices_retire_token(struct svc *svc, const char *token_id) {
    int r = store_notice_retire(svc->store, token_id, svc->now);
    return r != 0 ? r : store_notice_cancel_token(svc->store, token_id, NOTICES_WHY_SHORTENED, svc->now, NULL);
}

int notices_reschedule_token(struct svc *svc, const char *token_id, int64_t expires_at) {
    return store_notice_forget_token(svc->store, token_id, expires_at, NULL);
}

/* 0 for found and not found (the caller keeps its fallback), else the store's code. */
static int read_ok(int r) {
    return r == LK_ENOTFOUND ? 0 : r;
}

static int context_description(struct svc *svc, const struct notice_rec *n, struct notice_context *ret) {
    struct token_rec t;
    memset(&t, 0, sizeof(t));
    int r = store_token_get(svc->store, n->token_id, &t);
    if (r == 0 && t.description != NULL) {
        size_t len = str_utf8_prefix(t.description, strlen(t.description), sizeof(ret->description) - 1);
        memcpy(ret->description, t.description, len);
        ret->description[len] = '\0';
    }
    token_rec_done(&t);
    return read_ok(r);
}

static int context_user(struct svc *svc, const struct notice_rec *n, struct notice_context *ret) {
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    str_copy(ret->owner_name, sizeof(ret->owner_name), n->owner_id);
    int r = store_user_get(svc->store, n->owner_id, &u);
    if (r == 0)
        str_copy(ret->owner_name, sizeof(ret->owner_name), u.username);
    user_rec_done(&u);
    return read_ok(r);
}

static int context_sa(struct svc *svc, const struct notice_rec *n, struct notice_context *ret) {
    struct sa_rec sa;
    struct team_rec team;
    str_copy(ret->sa_name, sizeof(ret->sa_name), n->owner_id);
    int r = store_sa_get(svc->store, n->owner_id, &sa);
    if (r == 0) {
        str_copy(ret->sa_name, sizeof(ret->sa_name), sa.name);
        str_copy(ret->team_name, sizeof(ret->team_name), sa.team_id);
        r = store_team_get_by_id(svc->store, sa.team_id, &team);
        if (r == 0)
            str_copy(ret->team_name, sizeof(ret->team_name), team.name);
    }
    str_copy(ret->owner_name, sizeof(ret->owner_name), ret->sa_name);
    return read_ok(r);
}

int notices_context(struct svc *svc, const struct notice_rec *n, struct notice_context *ret) {
    memset(ret, 0, sizeof(*ret));
    str_copy(ret->org_name, sizeof(ret->org_name), n->org_name);
    int r = context_description(svc, n, ret);
    if (r != 0)
        return r;
    if (strcmp(n->owner_type, "user") == 0) {
        ret->recipients_rule = NOTICES_RULE_OWNER;
        return context_user(svc, n, ret);
    }
    if (strcmp(n->owner_type, "service_account") == 0) {
        ret->recipients_rule = NOTICES_RULE_TEAM_OWNERS;
        return context_sa(svc, n, ret);
    }
    ret->recipients_rule = NOTICES_RULE_NONE;
    str_copy(ret->owner_name, sizeof(ret->owner_name), n->owner_type);
    return 0;
}

const char *notices_owner_label(const char *owner_type) {
    if (strcmp(owner_type, "service_account") == 0)
        return "service account";
    return owner_type;
}
