/*
 * groups.h - custom roles per org, and groups of users whose roles apply to
 * every member (within the org).
 *
 * Both follow the subset rule: nobody defines a custom role, or gives a
 * group a role, carrying a permission they do not hold themselves.
 */
#ifndef LK_SVC_GROUPS_H
#define LK_SVC_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

#define GROUPS_ROLES_MAX 8

/* The permissions of role `name` in org_id: a built-in role, or a custom one.
 * LK_ENOTFOUND if neither. */
int roles_resolve(struct svc *svc, const char *org_id, const char *name, uint64_t *ret);

/* The union of the roles of every group user_id belongs to (a permset_t). */
uint64_t groups_user_permset(struct svc *svc, const char *org_id, const char *user_id);

/* roles.view / roles.manage on the org. */
int roles_list(struct svc *svc, const struct principal *caller, const char *org, struct role_list *ret,
               struct lk_error *err);
int roles_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 const char *const *perms, size_t nperms, struct role_rec *ret, struct lk_error *err);
int roles_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 struct lk_error *err);

/* A group with the usernames of its members. */
struct group_info {
    struct group_rec group;
    struct name_list members; /* every member's username, in order; owned */
};

struct group_info_list {
    struct group_info *items;
    size_t count;
};
void group_info_list_done(struct group_info_list *list);

/* groups.view / groups.manage on the org. groups_list answers every group
 * of the org (at most 1000) with its members; failing to read either is an
 * error, never a shorter answer. */
int groups_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                  const char *description, const char *const *roles, size_t nroles, struct group_rec *ret,
                  struct lk_error *err);
int groups_list(struct svc *svc, const struct principal *caller, const char *org, struct group_info_list *ret,
                struct lk_error *err);
int groups_member_put(struct svc *svc, const struct principal *caller, const char *org, const char *group,
                      const char *username, struct lk_error *err);
int groups_member_delete(struct svc *svc, const struct principal *caller, const char *org, const char *group,
                         const char *username, struct lk_error *err);

#endif
