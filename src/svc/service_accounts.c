/*
 * service_accounts.c - service-account use cases (see the header).
 *
 * Never grants a role carrying a permission the granting caller lacks, and
 * revokes a deleted account's tokens at once (store and cache).
 */
#include "svc/service_accounts.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "core/perm.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/notices.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

void sa_roles_permsets(const struct sa_rec *a, uint64_t *ret_team, uint64_t *ret_org) {
    permset_t team = 0, org = 0;
    for (size_t i = 0; i < a->nroles; i++) {
        int r = perm_builtin_role_index(a->roles[i]);
        if (r == PERM_ROLE_ORG_ADMIN)
            org |= perm_builtin_role_set(PERM_ROLE_ORG_ADMIN);
        else if (r >= 0)
            team |= perm_builtin_role_set((enum perm_builtin_role)r);
    }
    *ret_team = team;
    *ret_org = org;
}

/* Checks that caller may grant role (a built-in role name) in this scope. */
static int may_grant(const struct principal *caller, const struct svc_scope *sc, const char *role,
                     struct lk_error *err) {
    int idx = perm_builtin_role_index(role);
    if (idx < 0) {
        char q[STR_ECHO_BUFSZ];
        str_echo(role, strlen(role), q);
        return lk_error_set(err, LK_EINVAL,
                            "roles: unknown role \"%s\" (built-in roles: org-admin, team-owner, "
                            "team-member, viewer)",
                            q);
    }
    char what[96];
    snprintf(what, sizeof(what), "role %s", role);
    return authz_require_within(authz_team_permissions(caller, &sc->org, sc->role),
                                perm_builtin_role_set((enum perm_builtin_role)idx), what, err);
}

_Static_assert(SA_ROLES_MAX <= STORE_ROLES_MAX, "a service account's roles fit its record");

/* Adds (add=1) or removes role in a's roles, keeping their order. Roles
 * added are built-in role names (may_grant checked them). */
static int edit_roles(struct sa_rec *a, const char *role, int add, struct lk_error *err) {
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < a->nroles; i++)
        if (strcmp(a->roles[i], role) == 0)
            found = i;
    if (add && found == SIZE_MAX) {
        if (a->nroles >= SA_ROLES_MAX)
            return lk_error_set(err, LK_EINVAL, "roles: at most %d", SA_ROLES_MAX);
        if (strlen(role) >= sizeof(a->roles[0]))
            return lk_error_set(err, LK_EINVAL, "roles: too many");
        str_copy(a->roles[a->nroles++], sizeof(a->roles[0]), role);
    } else if (!add) {
        if (found == SIZE_MAX) {
            char q[STR_ECHO_BUFSZ];
            str_echo(role, strlen(role), q);
            return lk_error_set(err, LK_ENOTFOUND, "the service account does not have role %s", q);
        }
        memmove(a->roles[found], a->roles[found + 1], (a->nroles - found - 1) * sizeof(a->roles[0]));
        a->nroles--;
    }
    return 0;
}

/* Scope + permission within the team + the named account. */
static int load(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                const char *perm, struct svc_scope *sc, struct sa_rec *ret, struct lk_error *err) {
    int r = svc_scope_require(svc, caller, org, team, perm, sc, err);
    if (r < 0 || name == NULL)
        return r;
    r = store_sa_get_by_name(svc->store, sc->team.id, name, ret);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(name, strlen(name), q);
        return lk_error_set(err, r, "no service account %s in team %s", q, sc->team.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the service account") : 0;
}

/* As load, for managing the account's tokens (tokens.create_for_others in
 * the team); fills ret_owner with the account as a token owner. */
static int load_owner(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                      const char *name, struct svc_scope *sc, struct sa_rec *a, struct token_owner *ret_owner,
                      struct lk_error *err) {
    int r = load(svc, caller, org, team, name, "tokens.create_for_others", sc, a, err);
    if (r < 0)
        return r;
    ret_owner->type = PRINCIPAL_SA;
    ret_owner->id = a->id;
    ret_owner->org_id = sc->org.id;
    ret_owner->session = 0;
    return 0;
}

int sa_create(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              const char *description, const char *const *roles, size_t nroles, struct sa_rec *ret,
              struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    memset(&a, 0, sizeof(a));
    int r = load(svc, caller, org, team, NULL, "service_accounts.manage", &sc, NULL, err);
    if (r == 0)
        r = name_check_slug("name", name, err);
    if (r < 0)
        return r;
    if (description != NULL && strlen(description) >= sizeof(a.description))
        return lk_error_set(err, LK_EINVAL, "description: at most %zu bytes", sizeof(a.description) - 1);
    a.nroles = 0;
    if (nroles > SA_ROLES_MAX)
        return lk_error_set(err, LK_EINVAL, "roles: at most %d", SA_ROLES_MAX);
    for (size_t i = 0; i < nroles; i++) {
        r = may_grant(caller, &sc, roles[i], err);
        if (r == 0)
            r = edit_roles(&a, roles[i], 1, err);
        if (r < 0)
            return r;
    }
    if (orgs_new_id("sa_", a.id, sizeof(a.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(a.org_id, sizeof(a.org_id), sc.org.id);
    str_copy(a.team_id, sizeof(a.team_id), sc.team.id);
    str_copy(a.name, sizeof(a.name), name);
    str_copy(a.description, sizeof(a.description), description ? description : "");
    a.created_at = a.updated_at = svc->now;
    r = store_sa_insert(svc->store, &a);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: a service account named %s already exists in team %s", name, sc.team.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the service account");
    r = store_sa_get(svc->store, a.id, ret);
    return r < 0 ? lk_error_set(err, r, "could not read the service account") : 0;
}

int sa_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, int64_t after_seq,
            int limit, struct sa_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = load(svc, caller, org, team, NULL, "service_accounts.view", &sc, NULL, err);
    if (r < 0)
        return r;
    r = store_sa_list(svc->store, sc.team.id, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list service accounts") : 0;
}

int sa_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
           struct sa_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    return load(svc, caller, org, team, name, "service_accounts.view", &sc, ret, err);
}

int sa_update(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              const char *description, struct sa_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    int r = load(svc, caller, org, team, name, "service_accounts.manage", &sc, &a, err);
    if (r < 0)
        return r;
    if (description != NULL) {
        if (strlen(description) >= sizeof(a.description))
            return lk_error_set(err, LK_EINVAL, "description: at most %zu bytes", sizeof(a.description) - 1);
        str_copy(a.description, sizeof(a.description), description);
    }
    a.updated_at = svc->now;
    r = store_sa_update(svc->store, &a);
    if (r < 0)
        return lk_error_set(err, r, "could not update the service account");
    *ret = a;
    return 0;
}

int sa_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    int r = load(svc, caller, org, team, name, "service_accounts.manage", &sc, &a, err);
    if (r < 0)
        return r;
    /* Its tokens go with it, and so do those tokens' pending notices. */
    r = notices_cancel_owner(svc, "service_account", a.id, NULL);
    if (r == 0)
        r = store_sa_delete(svc->store, a.id);
    svc_cache_remove_where(svc, NULL, "service_account", a.id);
    return r < 0 ? lk_error_set(err, r, "could not delete the service account") : 0;
}

static int role_change(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                       const char *name, const char *role, int add, struct sa_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    int r = load(svc, caller, org, team, name, "service_accounts.manage", &sc, &a, err);
    if (r == 0 && add)
        r = may_grant(caller, &sc, role, err);
    if (r == 0)
        r = edit_roles(&a, role, add, err);
    if (r < 0)
        return r;
    a.updated_at = svc->now;
    r = store_sa_update(svc->store, &a);
    if (r < 0)
        return lk_error_set(err, r, "could not update the service account");
    /* Its cached tokens carry the old grants. */
    svc_cache_remove_where(svc, NULL, "service_account", a.id);
    *ret = a;
    return 0;
}

int sa_role_put(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                const char *role, struct sa_rec *ret, struct lk_error *err) {
    return role_change(svc, caller, org, team, name, role, 1, ret, err);
}

int sa_role_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                   const char *role, struct sa_rec *ret, struct lk_error *err) {
    return role_change(svc, caller, org, team, name, role, 0, ret, err);
}

int sa_token_create(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                    const char *name, const struct token_create_in *in, struct token_created *ret,
                    struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    int r = load(svc, caller, org, team, name, "tokens.create_for_others", &sc, &a, err);
    if (r < 0)
        return r;
    /* Its org-wide grants act outside the team too: only who holds them
     * there may mint its tokens. */
    uint64_t team_grants = 0, org_grants = 0;
    sa_roles_permsets(&a, &team_grants, &org_grants);
    char what[STORE_NAME_MAX + 48];
    snprintf(what, sizeof(what), "service account %s (its org-wide roles)", a.name);
    r = authz_require_within(authz_org_effective(caller, &sc.org), org_grants, what, err);
    if (r < 0)
        return r;
    struct token_owner owner = {PRINCIPAL_SA, a.id, sc.org.id, 0};
    return tokens_create_for(svc, caller, &owner, authz_team_permissions(caller, &sc.org, sc.role), in, ret, err);
}

int sa_token_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                  int64_t after_seq, int limit, struct token_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    struct token_owner owner;
    /* Its team's owners (and org admins) manage its tokens, so they list them. */
    int r = load_owner(svc, caller, org, team, name, &sc, &a, &owner, err);
    return r < 0 ? r : tokens_list_for(svc, &owner, after_seq, limit, ret, err);
}

int sa_token_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                    const char *name, const char *id, struct lk_error *err) {
    struct svc_scope sc;
    struct sa_rec a;
    struct token_owner owner;
    int r = load_owner(svc, caller, org, team, name, &sc, &a, &owner, err);
    return r < 0 ? r : tokens_delete_for(svc, &owner, id, err);
}
