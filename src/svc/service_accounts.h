/*
 * service_accounts.h - non-human identities owned by a team.
 *
 * Only team owners (and org admins) create, change and delete them. By
 * default a service account reads everything a human member of its org may
 * read, except secrets; owners may grant it built-in roles, but never one
 * that carries a permission the granting owner does not hold.
 */
#ifndef LK_SVC_SERVICE_ACCOUNTS_H
#define LK_SVC_SERVICE_ACCOUNTS_H

#include <stdint.h>

#include "store/store.h"
#include "svc/tokens.h"

struct svc;
struct principal;
struct lk_error;

#define SA_LIST_DEFAULT 50
#define SA_LIST_MAX 200
#define SA_ROLES_MAX 8

/*
 * The permissions granted by the built-in roles a's roles name: org-admin
 * applies org-wide (only an org admin can grant it, by the subset rule), the
 * other roles within the account's own team. Both are permset_t values.
 */
void sa_roles_permsets(const struct sa_rec *a, uint64_t *ret_team, uint64_t *ret_org);

int sa_create(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              const char *description, const char *const *roles, size_t nroles, struct sa_rec *ret,
              struct lk_error *err);
int sa_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, int64_t after_seq,
            int limit, struct sa_list *ret, struct lk_error *err);
int sa_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
           struct sa_rec *ret, struct lk_error *err);
int sa_update(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              const char *description, struct sa_rec *ret, struct lk_error *err);
/* Revokes its tokens at once. */
int sa_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
              struct lk_error *err);
int sa_role_put(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                const char *role, struct sa_rec *ret, struct lk_error *err);
int sa_role_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                   const char *role, struct sa_rec *ret, struct lk_error *err);
int sa_token_create(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                    const char *name, const struct token_create_in *in, struct token_created *ret,
                    struct lk_error *err);
int sa_token_list(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                  int64_t after_seq, int limit, struct token_list *ret, struct lk_error *err);
/* Revokes one of the account's tokens at once (its team's owners and org
 * admins: tokens.create_for_others in the team). Incident response: any
 * token of the account, whatever it carries. */
int sa_token_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                    const char *name, const char *id, struct lk_error *err);

#endif
