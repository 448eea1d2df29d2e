/*
 * teams.c - team use cases. A team of another org, or of an org the caller
 * cannot see, answers exactly like a missing one.
 */
#include "svc/teams.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/notices.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

static int check_description(const char *d, struct lk_error *err) {
    if (d != NULL && strlen(d) >= STORE_DESCRIPTION_MAX)
        return lk_error_set(err, LK_EINVAL, "description: at most %d bytes", STORE_DESCRIPTION_MAX - 1);
    return 0;
}

int teams_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 const char *description, struct team_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, NULL, "teams.manage", &sc, err);
    if (r == 0)
        r = name_check_slug("name", name, err);
    if (r == 0)
        r = check_description(description, err);
    if (r < 0)
        return r;
    struct team_rec t;
    memset(&t, 0, sizeof(t));
    if (orgs_new_id("team_", t.id, sizeof(t.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(t.org_id, sizeof(t.org_id), sc.org.id);
    str_copy(t.name, sizeof(t.name), name);
    str_copy(t.description, sizeof(t.description), description ? description : "");
    t.created_at = t.updated_at = svc->now;
    r = store_team_insert(svc->store, &t);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: a team named %s already exists in organisation %s", name, sc.org.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the team");
    return store_team_get(svc->store, sc.org.id, name, ret) < 0
               ? lk_error_set(err, LK_ESTORE, "could not read the team")
               : 0;
}

int teams_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
               struct team_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, NULL, "teams.view", &sc, err);
    if (r < 0)
        return r;
    r = store_team_list(svc->store, sc.org.id, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list teams") : 0;
}

int teams_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, struct team_rec *ret,
              struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, team, "teams.view", &sc, err);
    if (r < 0)
        return r;
    *ret = sc.team;
    return 0;
}

int teams_update(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                 const char *description, struct team_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, team, "teams.manage", &sc, err);
    if (r == 0)
        r = check_description(description, err);
    if (r < 0)
        return r;
    if (description != NULL)
        str_copy(sc.team.description, sizeof(sc.team.description), description);
    sc.team.updated_at = svc->now;
    r = store_team_update(svc->store, &sc.team);
    if (r < 0)
        return lk_error_set(err, r, "could not update the team");
    *ret = sc.team;
    return 0;
}

int teams_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                 struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_load(svc, caller, org, team, &sc, err);
    if (r == 0)
        r = authz_require(caller, &sc.org, "teams.manage", sc.notfound, err);
    if (r < 0)
        return r;
    /* Its service accounts' tokens go with it, and so do their pending
     * notices (named while the accounts are still there). */
    r = notices_cancel_team(svc, sc.team.id);
    if (r == 0)
        r = store_team_delete(svc->store, sc.team.id);
    /* Its service accounts' tokens are gone from the store; drop every cached
     * service-account token of the org (they reload on next use). */
    svc_cache_remove_where(svc, sc.org.id, "service_account", NULL);
    return r < 0 ? lk_error_set(err, r, "could not delete the team") : 0;
}

int teams_members(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                  struct team_member_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = svc_scope_require(svc, caller, org, team, "teams.view", &sc, err);
    if (r < 0)
        return r;
    r = store_team_member_list(svc->store, sc.team.id, ret);
    return r < 0 ? lk_error_set(err, r, "could not list the team's members") : 0;
}

/* Loads the scope, requires teams.manage in the team, and finds username in the org. */
static int member_scope(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                        const char *username, struct svc_scope *sc, struct user_rec *u, struct lk_error *err) {
    int r = svc_scope_require(svc, caller, org, team, "teams.manage", sc, err);
    if (r < 0)
        return r;
    r = store_user_get_by_name(svc->store, sc->org.id, username, u);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(username, strlen(username), q);
        return lk_error_set(err, r, "no user %s in organisation %s", q, sc->org.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the user") : 0;
}

int teams_member_put(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *username, const char *role, struct lk_error *err) {
    struct svc_scope sc;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    if (role == NULL || (strcmp(role, "owner") != 0 && strcmp(role, "member") != 0 && strcmp(role, "viewer") != 0))
        return lk_error_set(err, LK_EINVAL, "role: must be \"owner\", \"member\" or \"viewer\"");
    int r = member_scope(svc, caller, org, team, username, &sc, &u, err);
    if (r == 0) {
        /* The role's rights in the team go to the user: only who holds them may give them. */
        char what[32];
        snprintf(what, sizeof(what), "team role %s", role);
        r = authz_require_within(authz_team_permissions(caller, &sc.org, sc.role), perm_team_role_set(role), what, err);
    }
    if (r < 0) {
        user_rec_done(&u);
        return r;
    }
    r = store_team_member_put(svc->store, sc.team.id, u.id, role, svc->now);
    user_rec_done(&u);
    return r < 0 ? lk_error_set(err, r, "could not change the team's members") : 0;
}

int teams_member_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                        const char *username, struct lk_error *err) {
    struct svc_scope sc;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = member_scope(svc, caller, org, team, username, &sc, &u, err);
    if (r < 0)
        return r;
    r = store_team_member_delete(svc->store, sc.team.id, u.id);
    user_rec_done(&u);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, r, "%s is not a member of team %s", username, team);
    return r < 0 ? lk_error_set(err, r, "could not change the team's members") : 0;
}
