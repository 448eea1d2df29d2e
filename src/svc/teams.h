/*
 * teams.h - teams (a.k.a. namespaces, projects) within an org, and their
 * members as owner, member or viewer.
 */
#ifndef LK_SVC_TEAMS_H
#define LK_SVC_TEAMS_H

#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

#define TEAMS_LIST_DEFAULT 50
#define TEAMS_LIST_MAX 200

/* teams.manage on the org (org admins). */
int teams_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 const char *description, struct team_rec *ret, struct lk_error *err);
/* teams.view on the org. */
int teams_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
               struct team_list *ret, struct lk_error *err);
int teams_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, struct team_rec *ret,
              struct lk_error *err);
/* teams.manage within the team (its owners, org admins). */
int teams_update(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                 const char *description, struct team_rec *ret, struct lk_error *err);
/* teams.manage on the org. */
int teams_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                 struct lk_error *err);

/* teams.view on the org. */
int teams_members(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                  struct team_member_list *ret, struct lk_error *err);
/* teams.manage within the team; role "owner", "member" or "viewer". */
int teams_member_put(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *username, const char *role, struct lk_error *err);
int teams_member_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                        const char *username, struct lk_error *err);

#endif
