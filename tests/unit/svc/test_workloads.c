/*
 * test_workloads.c - the rules of svc/workloads.h against a real SQLite
 * store: team owners and org admins manage workloads, members see them;
 * a workload binds only to a service account of its own team, and only
 * by a caller holding everything the account holds; binding twice and
 * unbinding twice succeed; workloads_bound, the identity issuer's
 * question, sees an unbinding inside the transaction that makes it.
 *
 * In acme: alice (org admin); team payments with bob (owner) and carol
 * (member); team other. Service accounts deployer and boss (granted
 * org-admin) in payments, elsewhere in other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "svc/service_accounts.h"
#include "svc/workloads.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define UNNARROWED "[\"*\"]"

static void as(struct fx_acme *w, const struct user_rec *u, const char *policies, struct principal *p) {
    fx_user_principal(w->fx, &w->acme, u, "lk_user_000000000001", policies, 0, p);
}

static void new_sa(struct fx_acme *w, const char *team, const char *name, const char *role) {
    struct sa_rec a;
    struct lk_error err = {0};
    const char *roles[1] = {role};
    if (sa_create(&w->fx->svc, &w->fx->root, "acme", team, name, "", roles, role != NULL ? 1 : 0, &a, &err) != 0)
        fail_msg("sa_create(%s, %s): %s", team, name, err.msg);
}

static int setup(void **state) {
    if (fx_acme_setup(state) != 0)
        return -1;
    struct fx_acme *w = *state;
    fx_team(w->fx, "acme", "payments");
    fx_team(w->fx, "acme", "other");
    fx_member(w->fx, "acme", "payments", "bob", "owner");
    fx_member(w->fx, "acme", "payments", "carol", "member");
    new_sa(w, "payments", "deployer", NULL);
    new_sa(w, "payments", "boss", "org-admin");
    new_sa(w, "other", "elsewhere", NULL);
    return 0;
}

static const struct team_rec *team_of(struct fx_acme *w, const char *name, struct team_rec *t) {
    if (store_team_get(w->fx->svc.store, w->acme.id, name, t) != 0)
        fail_msg("no team %s", name);
    return t;
}

static int is_bound(struct fx_acme *w, const char *team, const char *workload, const char *sa) {
    struct team_rec t;
    int b = -1;
    assert_i64_eq(workloads_bound(&w->fx->svc, w->acme.id, team_of(w, team, &t)->id, workload, sa, &b), 0);
    return b;
}

static void make(struct fx_acme *w, const struct principal *p, const char *name) {
    struct workload_rec rec;
    struct lk_error err = {0};
    if (workloads_create(&w->fx->svc, p, "acme", "payments", name, "d", &rec, &err) != 0)
        fail_msg("workloads_create(%s): %s", name, err.msg);
}

static void test_owners_and_admins_manage_members_see(void **state) {
    struct fx_acme *w = *state;
    struct principal bob, carol, alice;
    struct workload_rec rec;
    struct lk_error err = {0};
    as(w, &w->bob, UNNARROWED, &bob);
    as(w, &w->carol, UNNARROWED, &carol);
    as(w, &w->alice, UNNARROWED, &alice);
    assert_i64_eq(workloads_create(&w->fx->svc, &bob, "acme", "payments", "web", "The shop", &rec, &err), 0);
    assert_string_equal(rec.name, "web");
    assert_string_equal(rec.description, "The shop");
    assert_true(strncmp(rec.id, "wl_", 3) == 0);
    char by[STORE_PRINCIPAL_MAX];
    snprintf(by, sizeof(by), "user:%s", w->bob.id);
    assert_string_equal(rec.created_by, by);
    memset(&err, 0, sizeof(err));
    assert_i64_eq(workloads_create(&w->fx->svc, &alice, "acme", "payments", "batch", NULL, &rec, &err), 0);
    int rc = workloads_create(&w->fx->svc, &carol, "acme", "payments", "mine", NULL, &rec, &err);
    assert_error_with(rc, &err, LK_EDENIED, "workloads.manage");
    rc = workloads_update(&w->fx->svc, &carol, "acme", "payments", "web", "x", &rec, &err);
    assert_error_with(rc, &err, LK_EDENIED, "workloads.manage");
    rc = workloads_delete(&w->fx->svc, &carol, "acme", "payments", "web", &err);
    assert_error_with(rc, &err, LK_EDENIED, "workloads.manage");
    assert_i64_eq(workloads_get(&w->fx->svc, &carol, "acme", "payments", "web", &rec, &err), 0);
    struct workload_list l = {0};
    assert_i64_eq(workloads_list(&w->fx->svc, &carol, "acme", "payments", 0, 10, &l, &err), 0);
    assert_int_equal(l.count, 2);
    workload_list_done(&l);
    principal_done(&bob);
    principal_done(&carol);
    principal_done(&alice);
}

static void test_validation_and_conflicts(void **state) {
    struct fx_acme *w = *state;
    struct principal bob;
    struct workload_rec rec;
    struct lk_error err = {0};
    char longer[STORE_DESCRIPTION_MAX + 1];
    memset(longer, 'd', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    as(w, &w->bob, UNNARROWED, &bob);
    int rc = workloads_create(&w->fx->svc, &bob, "acme", "payments", "Not A Slug", NULL, &rec, &err);
    assert_error_with(rc, &err, LK_EINVAL, "name");
    rc = workloads_create(&w->fx->svc, &bob, "acme", "payments", "ok", longer, &rec, &err);
    assert_error_with(rc, &err, LK_EINVAL, "description: at most 511 bytes");
    make(w, &bob, "web");
    rc = workloads_create(&w->fx->svc, &bob, "acme", "payments", "web", NULL, &rec, &err);
    assert_error_with(rc, &err, LK_ECONFLICT, "a workload named web already exists in team payments");
    rc = workloads_update(&w->fx->svc, &bob, "acme", "payments", "web", longer, &rec, &err);
    assert_error_with(rc, &err, LK_EINVAL, "description");
    rc = workloads_get(&w->fx->svc, &bob, "acme", "other", "web", &rec, &err);
    assert_error_with(rc, &err, LK_ENOTFOUND, "no workload web in team other");
    principal_done(&bob);
}

static void test_bind_same_team_only_and_idempotent(void **state) {
    struct fx_acme *w = *state;
    struct principal bob;
    struct lk_error err = {0};
    as(w, &w->bob, UNNARROWED, &bob);
    make(w, &bob, "web");
    assert_i64_eq(workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_i64_eq(workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_int_equal(is_bound(w, "payments", "web", "deployer"), 1);
    int rc = workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "elsewhere", &err);
    assert_error_with(rc, &err, LK_ENOTFOUND, "no service account elsewhere in team payments");
    rc = workloads_bind(&w->fx->svc, &bob, "acme", "payments", "nothing", "deployer", &err);
    assert_error_with(rc, &err, LK_ENOTFOUND, "no workload nothing in team payments");
    struct workload_binding_list l = {0};
    assert_i64_eq(workloads_bindings_list(&w->fx->svc, &bob, "acme", "payments", "web", 0, 10, &l, &err), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].sa, "deployer");
    char sa_id[STORE_OWNER_ID_MAX];
    memcpy(sa_id, l.items[0].sa_id, sizeof(sa_id));
    workload_binding_list_done(&l);
    assert_i64_eq(workloads_of_sa(&w->fx->svc, sa_id, 0, 10, &l), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].workload, "web");
    workload_binding_list_done(&l);
    assert_i64_eq(workloads_unbind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_i64_eq(workloads_unbind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_int_equal(is_bound(w, "payments", "web", "deployer"), 0);
    principal_done(&bob);
}

static void test_binding_follows_the_subset_rule(void **state) {
    struct fx_acme *w = *state;
    struct principal bob, alice, narrow;
    struct lk_error err = {0};
    as(w, &w->bob, UNNARROWED, &bob);
    as(w, &w->alice, UNNARROWED, &alice);
    as(w, &w->bob, "[\"workloads.manage\"]", &narrow);
    make(w, &bob, "web");
    int rc = workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "boss", &err);
    assert_error_with(rc, &err, LK_EDENIED, "which you do not hold");
    assert_int_equal(is_bound(w, "payments", "web", "boss"), 0);
    rc = workloads_bind(&w->fx->svc, &narrow, "acme", "payments", "web", "deployer", &err);
    assert_error_with(rc, &err, LK_EDENIED, "service account deployer");
    assert_i64_eq(workloads_bind(&w->fx->svc, &alice, "acme", "payments", "web", "boss", &err), 0);
    assert_int_equal(is_bound(w, "payments", "web", "boss"), 1);
    /* Unbinding takes nothing away from anyone but the workload: the narrow token may. */
    assert_i64_eq(workloads_unbind(&w->fx->svc, &narrow, "acme", "payments", "web", "boss", &err), 0);
    principal_done(&bob);
    principal_done(&alice);
    principal_done(&narrow);
}

/* The identity issuer asks inside its own transaction: an unbinding made
 * earlier in it is seen at once, and a rolled-back one never. */
static void test_bound_is_read_inside_the_callers_transaction(void **state) {
    struct fx_acme *w = *state;
    struct principal bob;
    struct lk_error err = {0};
    struct store *s = w->fx->svc.store;
    as(w, &w->bob, UNNARROWED, &bob);
    make(w, &bob, "web");
    assert_i64_eq(workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    store_request_begin(s);
    assert_i64_eq(workloads_unbind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_int_equal(is_bound(w, "payments", "web", "deployer"), 0);
    assert_i64_eq(store_request_end(s, 0), 0);
    assert_int_equal(is_bound(w, "payments", "web", "deployer"), 1);
    store_request_begin(s);
    assert_i64_eq(workloads_unbind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_i64_eq(store_request_end(s, 1), 0);
    assert_int_equal(is_bound(w, "payments", "web", "deployer"), 0);
    principal_done(&bob);
}

/* Missing names, another team's account, another org: not bound, no error. */
static void test_bound_answers_no_for_anything_else(void **state) {
    struct fx_acme *w = *state;
    struct principal bob;
    struct lk_error err = {0};
    struct team_rec t;
    as(w, &w->bob, UNNARROWED, &bob);
    make(w, &bob, "web");
    assert_i64_eq(workloads_bind(&w->fx->svc, &bob, "acme", "payments", "web", "deployer", &err), 0);
    assert_int_equal(is_bound(w, "payments", "nothing", "deployer"), 0);
    assert_int_equal(is_bound(w, "payments", "web", "nobody"), 0);
    assert_int_equal(is_bound(w, "payments", "web", "elsewhere"), 0);
    assert_int_equal(is_bound(w, "other", "web", "deployer"), 0);
    int b = -1;
    assert_i64_eq(workloads_bound(&w->fx->svc, "org_other", team_of(w, "payments", &t)->id, "web", "deployer", &b), 0);
    assert_int_equal(b, 0);
    assert_i64_eq(workloads_bound(&w->fx->svc, w->acme.id, t.id, "web", "deployer", NULL), LK_EINVAL);
    principal_done(&bob);
}

/* Another org's workload answers as a missing org does, word for word. */
static void test_another_orgs_workload_reads_as_missing(void **state) {
    struct fx_acme *w = *state;
    struct org_rec globex;
    struct workload_rec rec;
    struct principal alice;
    struct lk_error e1 = {0}, e2 = {0};
    fx_org(w->fx, "globex", &globex);
    fx_team(w->fx, "globex", "t");
    assert_i64_eq(workloads_create(&w->fx->svc, &w->fx->root, "globex", "t", "hidden", NULL, &rec, &e1), 0);
    as(w, &w->alice, UNNARROWED, &alice);
    int r1 = workloads_get(&w->fx->svc, &alice, "globex", "t", "hidden", &rec, &e1);
    int r2 = workloads_get(&w->fx->svc, &alice, "nosuch", "t", "hidden", &rec, &e2);
    assert_error_with(r1, &e1, LK_ENOTFOUND, "no team t in organisation globex");
    assert_error_with(r2, &e2, LK_ENOTFOUND, "no team t in organisation nosuch");
    principal_done(&alice);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_owners_and_admins_manage_members_see, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_conflicts, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_bind_same_team_only_and_idempotent, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_binding_follows_the_subset_rule, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_bound_is_read_inside_the_callers_transaction, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_bound_answers_no_for_anything_else, setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_another_orgs_workload_reads_as_missing, setup, fx_acme_teardown),
    };
    return cmocka_run_group_tests_name("workloads", tests, NULL, NULL);
}
