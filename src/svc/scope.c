/*
 * scope.c - the org/team a request addresses (see scope.h). Never tells a
 * caller more about an org or team than that it is not theirs to see.
 */
#include "svc/scope.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/svc.h"

int svc_scope_load(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   struct svc_scope *sc, struct lk_error *err) {
    char qo[STR_ECHO_BUFSZ], qt[STR_ECHO_BUFSZ];
    memset(sc, 0, sizeof(*sc));
    str_echo(org, strlen(org), qo);
    if (team != NULL) {
        str_echo(team, strlen(team), qt);
        snprintf(sc->notfound, sizeof(sc->notfound), "no team %s in organisation %s", qt, qo);
    } else {
        snprintf(sc->notfound, sizeof(sc->notfound), "no organisation %s", qo);
    }
    int r = store_org_get_by_name(svc->store, org, &sc->org);
    if (r == LK_ENOTFOUND || (r == 0 && !authz_org_visible(caller, &sc->org)))
        return lk_error_set(err, LK_ENOTFOUND, "%s", sc->notfound);
    if (r < 0)
        return lk_error_set(err, r, "could not read the organisation");
    if (team == NULL)
        return 0;
    r = store_team_get(svc->store, sc->org.id, team, &sc->team);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, r, "%s", sc->notfound);
    if (r < 0)
        return lk_error_set(err, r, "could not read the team");
    if ((caller->type == PRINCIPAL_SA || caller->type == PRINCIPAL_WORKLOAD) &&
        strcmp(caller->org_id, sc->org.id) == 0 && strcmp(caller->team, sc->team.name) == 0)
        str_copy(sc->role, sizeof(sc->role), "service_account");
    if (caller->type == PRINCIPAL_USER) {
        r = store_team_member_role(svc->store, sc->team.id, caller->id, sc->role);
        if (r < 0 && r != LK_ENOTFOUND)
            return lk_error_set(err, r, "could not read the team's members");
    }
    return 0;
}

int svc_scope_require(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                      const char *perm, struct svc_scope *sc, struct lk_error *err) {
    int r = svc_scope_load(svc, caller, org, team, sc, err);
    if (r < 0)
        return r;
    if (team != NULL)
        return authz_require_in_team(caller, &sc->org, sc->role, perm, sc->notfound, err);
    return authz_require(caller, &sc->org, perm, sc->notfound, err);
}

int svc_reach(struct svc *svc, const struct principal *p, int narrowed, permset_t *ret, struct lk_error *err) {
    struct principal bare;
    struct org_rec own;
    if (!narrowed) {
        bare = *p;
        bare.token = NULL; /* no token: no policies narrow it; never released */
        p = &bare;
    }
    memset(&own, 0, sizeof(own));
    str_copy(own.id, sizeof(own.id), p->org_id);
    permset_t set = authz_effective(p);
    if (p->type == PRINCIPAL_USER && p->org_id[0] != '\0') {
        char roles[4][STORE_STATUS_MAX];
        size_t n = 0;
        int r = store_team_member_roles(svc->store, p->org_id, p->id, roles, 4, &n);
        if (r < 0)
            return lk_error_set(err, r, "could not read the caller's team roles");
        for (size_t i = 0; i < n; i++)
            set |= authz_team_permissions(p, &own, roles[i]);
    }
    *ret = set;
    return 0;
}
