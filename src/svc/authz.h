/*
 * authz.h - the one authorization function. Every use case asks it, with
 * the calling principal, the permission it needs and the org (and later
 * team) the resource lives in; no route carries its own check.
 *
 * Outcomes:
 *   allowed                           -> 0
 *   resource outside the caller's reach -> LK_ENOTFOUND, exactly as if it did
 *                                        not exist (the caller passes the
 *                                        not-found message it would use)
 *   visible but not permitted          -> LK_EDENIED (401) naming the missing
 *                                        permission
 */
#ifndef LK_SVC_AUTHZ_H
#define LK_SVC_AUTHZ_H

#include "core/perm.h"

struct svc;
struct principal;
struct org_rec;
struct lk_error;

/* What p may do within org (NULL = outside any org: only root has anything). */
permset_t authz_org_permissions(const struct principal *p, const struct org_rec *org);

/*
 * What p may do in its own org right now: its role's permissions narrowed to
 * its token's policies (unknown policy names grant nothing). Root: all.
 */
permset_t authz_effective(const struct principal *p);

/* The permissions the presented token's policies name ("*" = all; a
 * principal without a token, such as one being logged in, has all). */
permset_t authz_token_policies(const struct principal *p);

/* 1 if p's token is not narrowed by policies ("*"). */
int authz_token_unbounded(const struct principal *p);

/* What p may do org-wide in org, narrowed to its token's policies; 0 when
 * org is out of p's reach. */
permset_t authz_org_effective(const struct principal *p, const struct org_rec *org);

/*
 * The rule that nothing widens a credential: want (a set something would
 * give, a role, a group's grants, a new token) must lie within have (what
 * the calling token holds where it would act). LK_EDENIED naming the
 * first missing permission and what carries it otherwise.
 */
int authz_require_within(permset_t have, permset_t want, const char *what, struct lk_error *err);

/* 1 if p can see that org exists at all (root, or a member of it). */
int authz_org_visible(const struct principal *p, const struct org_rec *org);

/*
 * Requires permission perm (a catalogue name) on org for p. notfound_msg is
 * the message a missing resource would get, used verbatim when the org is
 * out of p's reach.
 */
int authz_require(const struct principal *p, const struct org_rec *org, const char *perm, const char *notfound_msg,
                  struct lk_error *err);

/*
 * As authz_require, within a team: team_role ("owner", "member", "viewer" or
 * "" when p is not in the team) adds its built-in role's permissions.
 */
int authz_require_in_team(const struct principal *p, const struct org_rec *org, const char *team_role, const char *perm,
                          const char *notfound_msg, struct lk_error *err);

/* What p may do within a team where it has team_role ("" for none), narrowed
 * to its token's policies. */
permset_t authz_team_permissions(const struct principal *p, const struct org_rec *org, const char *team_role);

/* Requires the partner admin (root). Others get LK_EDENIED, or LK_ENOTFOUND
 * with notfound_msg when org is given and invisible to them. */
int authz_require_root(const struct principal *p, const struct org_rec *org, const char *what, const char *notfound_msg,
                       struct lk_error *err);

#endif
