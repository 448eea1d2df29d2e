/*
 * workloads.c - workload use cases (see the header).
 *
 * Never binds a workload to a service account of another team, and never
 * lets a caller bind an account that holds more than the caller does: a
 * binding hands the workload the account's identity.
 */
#include "svc/workloads.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "core/perm.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/service_accounts.h"
#include "svc/svc.h"

/* Who made a record, as tokens record it: "root", or "type:id". */
static void created_by_of(const struct principal *p, char out[STORE_PRINCIPAL_MAX]) {
    if (p->type == PRINCIPAL_ROOT)
        str_copy(out, STORE_PRINCIPAL_MAX, "root");
    else
        snprintf(out, STORE_PRINCIPAL_MAX, "%s:%s", principal_type_name(p->type), p->id);
}

static int description_check(const char *description, struct lk_error *err) {
    if (description != NULL && strlen(description) >= STORE_DESCRIPTION_MAX)
        return lk_error_set(err, LK_EINVAL, "description: at most %d bytes", STORE_DESCRIPTION_MAX - 1);
    return 0;
}

/* Scope + perm within the team + (name not NULL) the named workload. */
static int load(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                const char *perm, struct svc_scope *sc, struct workload_rec *ret, struct lk_error *err) {
    int r = svc_scope_require(svc, caller, org, team, perm, sc, err);
    if (r < 0 || name == NULL)
        return r;
    r = store_workload_get(svc->store, sc->team.id, name, ret);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(name, strlen(name), q);
        return lk_error_set(err, r, "no workload %s in team %s", q, sc->team.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the workload") : 0;
}

/* As load with workloads.manage, then the service account sa of the same
 * team (another team's reads as missing: it is looked up in this one). */
static int load_pair(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *workload, const char *sa, struct svc_scope *sc, struct workload_rec *w,
                     struct sa_rec *a, struct lk_error *err) {
    int r = load(svc, caller, org, team, workload, "workloads.manage", sc, w, err);
    if (r < 0)
        return r;
    r = store_sa_get_by_name(svc->store, sc->team.id, sa, a);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(sa, strlen(sa), q);
        return lk_error_set(err, r, "no service account %s in team %s", q, sc->team.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the service account") : 0;
}

int workloads_create(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, const char *description, struct workload_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    memset(&w, 0, sizeof(w));
    int r = load(svc, caller, org, team, NULL, "workloads.manage", &sc, NULL, err);
    if (r == 0)
        r = name_check_slug("name", name, err);
    if (r == 0)
        r = description_check(description, err);
    if (r < 0)
        return r;
    if (orgs_new_id("wl_", w.id, sizeof(w.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(w.org_id, sizeof(w.org_id), sc.org.id);
    str_copy(w.team_id, sizeof(w.team_id), sc.team.id);
    str_copy(w.name, sizeof(w.name), name);
    str_copy(w.description, sizeof(w.description), description ? description : "");
    created_by_of(caller, w.created_by);
    w.created_at = w.updated_at = svc->now;
    r = store_workload_insert(svc->store, &w);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: a workload named %s already exists in team %s", name, sc.team.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the workload");
    r = store_workload_get(svc->store, sc.team.id, name, ret);
    return r < 0 ? lk_error_set(err, r, "could not read the workload") : 0;
}

int workloads_list(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   int64_t after_seq, int limit, struct workload_list *ret, struct lk_error *err) {
    struct svc_scope sc;
    int r = load(svc, caller, org, team, NULL, "workloads.view", &sc, NULL, err);
    if (r < 0)
        return r;
    r = store_workload_list(svc->store, sc.team.id, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list workloads") : 0;
}

int workloads_get(struct svc *svc, const struct principal *caller, const char *org, const char *team, const char *name,
                  struct workload_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    return load(svc, caller, org, team, name, "workloads.view", &sc, ret, err);
}

int workloads_update(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, const char *description, struct workload_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    int r = load(svc, caller, org, team, name, "workloads.manage", &sc, &w, err);
    if (r == 0)
        r = description_check(description, err);
    if (r < 0)
        return r;
    if (description != NULL)
        str_copy(w.description, sizeof(w.description), description);
    w.updated_at = svc->now;
    r = store_workload_update(svc->store, &w);
    if (r < 0)
        return lk_error_set(err, r, "could not update the workload");
    *ret = w;
    return 0;
}

int workloads_delete(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *name, struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    int r = load(svc, caller, org, team, name, "workloads.manage", &sc, &w, err);
    if (r < 0)
        return r;
    r = store_workload_delete(svc->store, w.id);
    return r < 0 ? lk_error_set(err, r, "could not delete the workload") : 0;
}

int workloads_bind(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                   const char *workload, const char *sa, struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    struct sa_rec a;
    int r = load_pair(svc, caller, org, team, workload, sa, &sc, &w, &a, err);
    if (r < 0)
        return r;
    /* The workload will act as the account: everything the account holds
     * (its default, its team roles here, its org-wide roles) must be
     * within what the caller holds where it acts. */
    uint64_t team_grants = 0, org_grants = 0;
    sa_roles_permsets(&a, &team_grants, &org_grants);
    char what[STORE_NAME_MAX + 48];
    snprintf(what, sizeof(what), "service account %s", a.name);
    r = authz_require_within(authz_team_permissions(caller, &sc.org, sc.role),
                             perm_service_account_default() | team_grants, what, err);
    if (r == 0) {
        snprintf(what, sizeof(what), "service account %s (its org-wide roles)", a.name);
        r = authz_require_within(authz_org_effective(caller, &sc.org), org_grants, what, err);
    }
    if (r < 0)
        return r;
    char by[STORE_PRINCIPAL_MAX];
    created_by_of(caller, by);
    r = store_workload_bind(svc->store, w.id, a.id, by, svc->now, NULL);
    return r < 0 ? lk_error_set(err, r, "could not bind the workload") : 0;
}

int workloads_unbind(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                     const char *workload, const char *sa, struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    struct sa_rec a;
    int r = load_pair(svc, caller, org, team, workload, sa, &sc, &w, &a, err);
    if (r < 0)
        return r;
    r = store_workload_unbind(svc->store, w.id, a.id, NULL);
    return r < 0 ? lk_error_set(err, r, "could not unbind the workload") : 0;
}

int workloads_bindings_list(struct svc *svc, const struct principal *caller, const char *org, const char *team,
                            const char *workload, int64_t after_seq, int limit, struct workload_binding_list *ret,
                            struct lk_error *err) {
    struct svc_scope sc;
    struct workload_rec w;
    int r = load(svc, caller, org, team, workload, "workloads.view", &sc, &w, err);
    if (r < 0)
        return r;
    r = store_workload_bindings(svc->store, w.id, NULL, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list the workload's bindings") : 0;
}

int workloads_bound(struct svc *svc, const char *org_id, const char *team_id, const char *workload, const char *sa,
                    int *ret_bound) {
    struct workload_rec w;
    struct sa_rec a;
    if (org_id == NULL || team_id == NULL || workload == NULL || sa == NULL || ret_bound == NULL)
        return LK_EINVAL;
    int r = store_workload_get(svc->store, team_id, workload, &w);
    if (r == 0 && strcmp(w.org_id, org_id) != 0)
        r = LK_ENOTFOUND;
    if (r == 0)
        r = store_sa_get_by_name(svc->store, team_id, sa, &a);
    if (r == LK_ENOTFOUND) {
        *ret_bound = 0;
        return 0;
    }
    return r < 0 ? r : store_workload_bound(svc->store, w.id, a.id, ret_bound);
}

int workloads_of_sa(struct svc *svc, const char *sa_id, int64_t after_seq, int limit,
                    struct workload_binding_list *ret) {
    return store_workload_bindings(svc->store, NULL, sa_id, after_seq, limit, ret);
}
