/*
 * workloads.h - a team's workloads and their bindings to the team's
 * service accounts: a binding says a workload may obtain identity tokens
 * as that service account (issue 20).
 *
 * Team owners (and org admins) create, change and delete workloads and
 * bind them (workloads.manage in the team); whoever sees the team sees
 * them (workloads.view). A workload or service account of another team or
 * org answers exactly like a missing one. Binding gives the workload what
 * the service account may do, so it follows the subset rule: only a caller
 * holding everything the account holds may bind it.
 */
#ifndef LK_SVC_WORKLOADS_H
#define LK_SVC_WORKLOADS_H

#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

#define WORKLOADS_LIST_DEFAULT 50
#define WORKLOADS_LIST_MAX 200

/* Each returns 0 or a negative LK_E* code with err set (404 for anything
 * out of the caller's sight, 401 naming the missing permission, 400 for a
 * bad name or description, 409 for a name taken in the team). Records are
 * the caller's; lists are freed with their _done(). */
int workloads_create(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, const char *description, struct workload_rec *ret, struct lk_error *err);
int workloads_list(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   int64_t after_seq, int limit, struct workload_list *ret, struct lk_error *err);
int workloads_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                  struct workload_rec *ret, struct lk_error *err);
/* description NULL keeps it. */
int workloads_update(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, const char *description, struct workload_rec *ret, struct lk_error *err);
/* Deletes the workload and its bindings. */
int workloads_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, struct lk_error *err);

/* Binds workload to the service account sa of the same team; binding a
 * bound pair again changes nothing and succeeds. */
int workloads_bind(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   const char *workload, const char *sa, struct lk_error *err);
/* Unbinds them, in the caller's transaction: from its commit on,
 * workloads_bound answers 0. Unbinding a pair not bound succeeds (both
 * must exist). */
int workloads_unbind(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *workload, const char *sa, struct lk_error *err);
/* The workload's bindings (workloads.view), in binding order. */
int workloads_bindings_list(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                            const char *workload, int64_t after_seq, int limit, struct workload_binding_list *ret,
                            struct lk_error *err);

/*
 * For the identity-token issuer, which has authorized its caller already:
 * no principal, no permission checked.
 *
 * workloads_bound: *ret_bound is 1 if the workload named workload in team
 * team_id of org org_id is bound to the service account named sa of that
 * team right now, else 0 (also when either, or the team in that org, does
 * not exist). Reads through svc->store, so inside the caller's transaction
 * it sees that transaction's own changes: an unbinding is seen at once.
 * 0, or a store error (LK_ESTORE, LK_EBUSY, LK_ENOMEM).
 */
int workloads_bound(struct svc *svc, const char *org_id, const char *team_id, const char *workload, const char *sa,
                    int *ret_bound);
/* The bindings of the service account sa_id (which workloads may act as
 * it), in binding order, at most limit (1..1000) after after_seq. */
int workloads_of_sa(struct svc *svc, const char *sa_id, int64_t after_seq, int limit,
                    struct workload_binding_list *ret);

#endif
