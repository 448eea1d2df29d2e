/*
 * scope.h - loading the org and team a request addresses, with the
 * caller's role in the team: the common first step of every team-scoped use
 * case. A scope outside the caller's reach is LK_ENOTFOUND with the same
 * message as a missing one.
 */
#ifndef LK_SVC_SCOPE_H
#define LK_SVC_SCOPE_H

#include "lib/str.h"
#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

struct svc_scope {
    struct org_rec org;
    struct team_rec team;                   /* zeroed when no team was asked for */
    char role[STORE_STATUS_MAX];            /* the caller's role in the team, "" if none */
    char notfound[2 * STR_ECHO_BUFSZ + 32]; /* the message a missing org/team gets */
};

/* Loads org (404 if invisible) and, when team is not NULL, the team and the
 * caller's role in it. Checks no permission. */
int svc_scope_load(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   struct svc_scope *sc, struct lk_error *err);

/* svc_scope_load, then requires perm in the team (with the caller's role
 * there) or, when team is NULL, on the org. */
int svc_scope_require(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                      const char *perm, struct svc_scope *sc, struct lk_error *err);

/*
 * Everything p may do anywhere it acts: org-wide, and in each team where it
 * has a role (a service account: in its own team). narrowed: within its
 * token's policies; otherwise all its owner holds. For the rule that no
 * credential makes or takes over one wider than itself.
 */
int svc_reach(struct svc *svc, const struct principal *p, int narrowed, uint64_t *ret, struct lk_error *err);

#endif
