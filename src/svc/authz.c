/*
 * authz.c - deciding access from a principal, a permission and a scope.
 *
 * Never consults anything but the principal and the records handed in, so
 * it is cheap and has one behaviour for every front door (REST, GraphQL,
 * CLI). Never reveals, in a message, anything about a resource the caller
 * may not see.
 */
#include "svc/authz.h"

#include <string.h>

#include "core/errors.h"
#include "store/store.h"
#include "svc/principal.h"
#include "svc/token_cache.h"

static int member_of(const struct principal *p, const struct org_rec *org) {
    return org != NULL && p->org_id[0] != '\0' && strcmp(p->org_id, org->id) == 0;
}

permset_t authz_token_policies(const struct principal *p) {
    permset_t set = 0;
    json_t *v;
    size_t i;
    if (p->token == NULL)
        return perm_all();
    json_array_foreach(p->token->policies, i, v) {
        const char *name = json_string_value(v);
        if (name == NULL)
            continue;
        if (strcmp(name, "*") == 0)
            return perm_all();
        int idx = perm_index(name);
        if (idx >= 0)
            set |= (permset_t)1 << idx;
    }
    return set;
}

permset_t authz_org_permissions(const struct principal *p, const struct org_rec *org) {
    if (p->type == PRINCIPAL_ROOT)
        return perm_all();
    if (!member_of(p, org))
        return 0;
    switch (p->type) {
    case PRINCIPAL_USER:
        /* Admins: everything. Members: the org member set (read, and their
         * own tokens); team roles add to it only inside their teams
         * (team_set). Either way, plus whatever the user's groups grant. */
        return (strcmp(p->org_role, "admin") == 0 ? perm_builtin_role_set(PERM_ROLE_ORG_ADMIN)
                                                  : perm_org_member_set()) |
               (permset_t)p->org_extra_perms;
    case PRINCIPAL_SA:
    case PRINCIPAL_WORKLOAD: /* a workload acts as the service account its token names */
        /* A service account reads what a human member may read, except
         * secrets, plus whatever roles its team's owners granted. */
        return perm_service_account_default() | (permset_t)p->org_extra_perms;
    default: return 0;
    }
}

int authz_org_visible(const struct principal *p, const struct org_rec *org) {
    return p->type == PRINCIPAL_ROOT || member_of(p, org);
}

static int require_set(const struct principal *p, const struct org_rec *org, permset_t role_set, const char *perm,
                       const char *notfound_msg, struct lk_error *err) {
    if (!authz_org_visible(p, org))
        return lk_error_set(err, LK_ENOTFOUND, "%s", notfound_msg);
    int idx = perm_index(perm);
    if (idx < 0)
        return lk_error_set(err, LK_EINTERNAL, "unknown permission %s in an authorization check", perm);
    /* A token does only what both it and its owner may do now. */
    permset_t have = perm_grant(authz_token_policies(p), role_set, NULL);
    if (have & ((permset_t)1 << idx))
        return 0;
    return lk_error_set(err, LK_EDENIED, "permission denied: this needs %s on organisation %s", perm, org->name);
}

int authz_require(const struct principal *p, const struct org_rec *org, const char *perm, const char *notfound_msg,
                  struct lk_error *err) {
    return require_set(p, org, authz_org_permissions(p, org), perm, notfound_msg, err);
}

static permset_t team_set(const struct principal *p, const struct org_rec *org, const char *team_role) {
    permset_t set = authz_org_permissions(p, org) | perm_team_role_set(team_role);
    if (strcmp(team_role, "service_account") == 0)
        set |= (permset_t)p->extra_perms; /* a service account in its own team */
    return set;
}

permset_t authz_team_permissions(const struct principal *p, const struct org_rec *org, const char *team_role) {
    if (!authz_org_visible(p, org))
        return 0;
    return perm_grant(authz_token_policies(p), team_set(p, org, team_role), NULL);
}

int authz_require_in_team(const struct principal *p, const struct org_rec *org, const char *team_role, const char *perm,
                          const char *notfound_msg, struct lk_error *err) {
    return require_set(p, org, team_set(p, org, team_role), perm, notfound_msg, err);
}

int authz_require_root(const struct principal *p, const struct org_rec *org, const char *what, const char *notfound_msg,
                       struct lk_error *err) {
    if (p->type == PRINCIPAL_ROOT) {
        if (authz_token_policies(p) & ((permset_t)1 << perm_index("orgs.manage")))
            return 0;
        return lk_error_set(err, LK_EDENIED, "permission denied: this token's policies do not include orgs.manage");
    }
    if (org != NULL && !authz_org_visible(p, org))
        return lk_error_set(err, LK_ENOTFOUND, "%s", notfound_msg);
    return lk_error_set(err, LK_EDENIED, "permission denied: only the partner admin may %s", what);
}

int authz_token_unbounded(const struct principal *p) {
    return authz_token_policies(p) == perm_all();
}

permset_t authz_org_effective(const struct principal *p, const struct org_rec *org) {
    if (!authz_org_visible(p, org))
        return 0;
    return perm_grant(authz_token_policies(p), authz_org_permissions(p, org), NULL);
}

int authz_require_within(permset_t have, permset_t want, const char *what, struct lk_error *err) {
    permset_t missing = perm_closure(want) & ~perm_closure(have);
    if (missing == 0)
        return 0;
    const char *first[1];
    perm_names(missing, first, 1);
    return lk_error_set(err, LK_EDENIED,
                        "permission denied: %s carries %s, which you do not hold with this credential; you can "
                        "grant only what you have",
                        what, first[0]);
}

permset_t authz_effective(const struct principal *p) {
    struct org_rec own;
    memset(&own, 0, sizeof(own));
    memcpy(own.id, p->org_id, sizeof(own.id));
    permset_t role = authz_org_permissions(p, &own);
    if (p->type == PRINCIPAL_SA || p->type == PRINCIPAL_WORKLOAD)
        role |= (permset_t)p->extra_perms; /* its team's grants; principal.team names the team */
    return perm_grant(authz_token_policies(p), role, NULL);
}
