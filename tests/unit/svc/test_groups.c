/*
 * test_groups.c - the subset rule of svc/groups.h against a real SQLite
 * store: nobody defines a custom role, gives a group a role, or puts
 * someone in a group, carrying a permission the calling token does not
 * hold; what is within it is stored (roles closed under implication) and
 * a group's roles reach its members.
 *
 * The callers are principals built by hand (svc_fixture.h); a user's group
 * grants are read with groups_user_permset, as the token loader reads them.
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
#include "svc/groups.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define UNNARROWED "[\"*\"]"

/* u calling with an API token of the given policies; the org-wide grants
 * of u's groups as the token loader reads them. */
static void caller(struct fx_acme *w, const struct user_rec *u, const char *policies, struct principal *p) {
    fx_user_principal(w->fx, &w->acme, u, "lk_user_000000000001", policies, 0, p);
    p->org_extra_perms = groups_user_permset(&w->fx->svc, w->acme.id, u->id);
}

static int new_role(struct fx_acme *w, const struct principal *p, const char *name, const char *const *perms, size_t n,
                    struct role_rec *ret, struct lk_error *err) {
    memset(ret, 0, sizeof(*ret));
    return roles_create(&w->fx->svc, p, "acme", name, perms, n, ret, err);
}

static int new_group(struct fx_acme *w, const struct principal *p, const char *name, const char *const *roles, size_t n,
                     struct lk_error *err) {
    struct group_rec g;
    memset(&g, 0, sizeof(g));
    return groups_create(&w->fx->svc, p, "acme", name, "", roles, n, &g, err);
}

/* As alice through an unnarrowed token (she holds everything): must succeed. */
static void admin_role(struct fx_acme *w, const char *name, const char *const *perms, size_t n) {
    struct principal alice;
    struct role_rec r;
    struct lk_error err = {0};
    caller(w, &w->alice, UNNARROWED, &alice);
    if (new_role(w, &alice, name, perms, n, &r, &err) != 0)
        fail_msg("roles_create(%s) by the org admin: %s", name, err.msg);
    principal_done(&alice);
}

static void admin_group(struct fx_acme *w, const char *name, const char *const *roles, size_t n) {
    struct principal alice;
    struct lk_error err = {0};
    caller(w, &w->alice, UNNARROWED, &alice);
    if (new_group(w, &alice, name, roles, n, &err) != 0)
        fail_msg("groups_create(%s) by the org admin: %s", name, err.msg);
    principal_done(&alice);
}

/* ---- custom roles ---- */

static void test_a_custom_role_within_the_caller_is_stored_closed(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, UNNARROWED, &p);
    static const char *const perms[] = {"audit.view", "users.manage"};
    struct role_rec r;
    struct lk_error err = {0};
    assert_i64_eq(new_role(w, &p, "auditor", perms, 2, &r, &err), 0);
    permset_t want = fx_perms("audit.view", "users.manage");
    char got[1024];
    snprintf(got, sizeof(got), "%s", fx_list_json(r.permissions, sizeof(r.permissions[0]), r.npermissions));
    assert_string_equal(got, fx_names_json(want));
    uint64_t resolved = 0;
    assert_i64_eq(roles_resolve(&w->fx->svc, w->acme.id, "auditor", &resolved), 0);
    assert_perms_eq(resolved, want);
    principal_done(&p);
}

static void test_a_custom_role_beyond_the_calling_token_is_refused(void **state) {
    struct fx_acme *w = *state;
    struct principal p; /* an admin, through a token narrowed to roles.manage and users.view */
    caller(w, &w->alice, "[\"roles.manage\",\"users.view\"]", &p);
    static const char *const perms[] = {"users.view", "users.manage"};
    struct role_rec r;
    struct lk_error err = {0};
    int rc = new_role(w, &p, "hr", perms, 2, &r, &err);
    assert_error_with(rc, &err, LK_EDENIED, "role hr carries users.manage, which you do not hold");
    uint64_t resolved = 0;
    assert_i64_eq(roles_resolve(&w->fx->svc, w->acme.id, "hr", &resolved), LK_ENOTFOUND);
    principal_done(&p);
}

static void test_a_member_without_roles_manage_defines_no_role(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, UNNARROWED, &p);
    static const char *const perms[] = {"users.view"};
    struct role_rec r;
    struct lk_error err = {0};
    int rc = new_role(w, &p, "reader", perms, 1, &r, &err);
    assert_error_with(rc, &err, LK_EDENIED, "this needs roles.manage on organisation acme");
    principal_done(&p);
}

/* ---- groups and their roles ---- */

static void test_a_group_with_a_role_beyond_the_caller_is_refused(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, "[\"groups.manage\",\"users.view\"]", &p);
    static const char *const roles[] = {"org-admin"};
    struct lk_error err = {0};
    int rc = new_group(w, &p, "admins", roles, 1, &err);
    assert_error_with(rc, &err, LK_EDENIED, "role org-admin carries");
    principal_done(&p);
}

static void test_a_group_with_roles_within_the_caller_is_created(void **state) {
    struct fx_acme *w = *state;
    static const char *const perms[] = {"users.view"};
    admin_role(w, "user-reader", perms, 1);
    struct principal p;
    caller(w, &w->alice, "[\"groups.manage\",\"users.view\"]", &p);
    static const char *const roles[] = {"user-reader"};
    struct lk_error err = {0};
    assert_i64_eq(new_group(w, &p, "readers", roles, 1, &err), 0);
    principal_done(&p);
}

static void test_a_group_names_only_roles_that_exist(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, UNNARROWED, &p);
    static const char *const roles[] = {"nosuch"};
    struct lk_error err = {0};
    int rc = new_group(w, &p, "ghosts", roles, 1, &err);
    assert_error_with(rc, &err, LK_EINVAL, "roles[0]: no role nosuch in organisation acme");
    principal_done(&p);
}

/* ---- membership ---- */

static void test_joining_a_group_beyond_the_caller_is_refused(void **state) {
    struct fx_acme *w = *state;
    static const char *const roles[] = {"org-admin"};
    admin_group(w, "admins", roles, 1);
    struct principal p;
    caller(w, &w->alice, "[\"groups.manage\",\"users.view\"]", &p);
    struct lk_error err = {0};
    int rc = groups_member_put(&w->fx->svc, &p, "acme", "admins", "bob", &err);
    assert_error_with(rc, &err, LK_EDENIED, "group admins carries");
    assert_perms_eq(groups_user_permset(&w->fx->svc, w->acme.id, w->bob.id), 0);
    principal_done(&p);
}

static void test_joining_a_group_within_the_caller_grants_its_roles(void **state) {
    struct fx_acme *w = *state;
    static const char *const roles[] = {"org-admin"};
    admin_group(w, "admins", roles, 1);
    struct principal p;
    caller(w, &w->alice, UNNARROWED, &p);
    struct lk_error err = {0};
    assert_i64_eq(groups_member_put(&w->fx->svc, &p, "acme", "admins", "bob", &err), 0);
    assert_perms_eq(groups_user_permset(&w->fx->svc, w->acme.id, w->bob.id),
                    perm_builtin_role_set(PERM_ROLE_ORG_ADMIN));
    principal_done(&p);
}

static void test_a_member_cannot_put_himself_in_a_group(void **state) {
    struct fx_acme *w = *state;
    static const char *const roles[] = {"viewer"};
    admin_group(w, "viewers", roles, 1);
    struct principal p;
    caller(w, &w->bob, UNNARROWED, &p);
    struct lk_error err = {0};
    int rc = groups_member_put(&w->fx->svc, &p, "acme", "viewers", "bob", &err);
    assert_error_with(rc, &err, LK_EDENIED, "this needs groups.manage on organisation acme");
    principal_done(&p);
}

static void test_a_member_given_groups_manage_fills_only_groups_within_his_set(void **state) {
    struct fx_acme *w = *state;
    static const char *const gm[] = {"groups.manage"};
    admin_role(w, "group-keeper", gm, 1);
    static const char *const keepers[] = {"group-keeper"}, *const admins[] = {"org-admin"};
    admin_group(w, "keepers", keepers, 1);
    admin_group(w, "admins", admins, 1);
    struct principal alice;
    struct lk_error err = {0};
    caller(w, &w->alice, UNNARROWED, &alice);
    assert_i64_eq(groups_member_put(&w->fx->svc, &alice, "acme", "keepers", "bob", &err), 0);
    principal_done(&alice);

    struct principal bob; /* holds groups.manage now, through his group */
    caller(w, &w->bob, UNNARROWED, &bob);
    assert_perms_eq(bob.org_extra_perms, fx_perms("groups.manage"));
    assert_i64_eq(groups_member_put(&w->fx->svc, &bob, "acme", "keepers", "carol", &err), 0);
    int rc = groups_member_put(&w->fx->svc, &bob, "acme", "admins", "carol", &err);
    assert_error_with(rc, &err, LK_EDENIED, "group admins carries");
    assert_perms_eq(groups_user_permset(&w->fx->svc, w->acme.id, w->carol.id), fx_perms("groups.manage"));
    principal_done(&bob);
}

/* A group's roles, as a JSON list, fit 511 bytes: so it has always been,
 * and the typed record keeps it so ("roles: too many"). */
static void test_a_groups_roles_fit_the_text_they_always_had(void **state) {
    struct fx_acme *w = *state;
    static const char *const perms[] = {"users.view"};
    char names[8][64];
    const char *roles[8];
    for (int i = 0; i < 8; i++) {
        /* 63-character slugs: eight of them in JSON take 2 + 8 * 65 + 7 = 529 bytes. */
        snprintf(names[i], sizeof(names[i]), "r%d-%060d", i, 0);
        roles[i] = names[i];
        admin_role(w, names[i], perms, 1);
    }
    struct principal alice;
    struct lk_error err = {0};
    caller(w, &w->alice, UNNARROWED, &alice);
    assert_error_with(new_group(w, &alice, "wide", roles, 8, &err), &err, LK_EINVAL, "roles: too many");
    /* Seven take 2 + 7 * 65 + 6 = 463. */
    memset(&err, 0, sizeof(err));
    assert_i64_eq(new_group(w, &alice, "wide", roles, 7, &err), 0);
    principal_done(&alice);
}

/* Puts 1200 new users of acme (u0000 ... u1199) into group_id, in one transaction. */
static int fill_group(struct store *s, void *arg) {
    const struct group_rec *g = arg;
    for (int i = 0; i < 1200; i++) {
        struct user_rec u;
        memset(&u, 0, sizeof(u));
        snprintf(u.id, sizeof(u.id), "usr_fill%04d", i);
        snprintf(u.org_id, sizeof(u.org_id), "%s", g->org_id);
        snprintf(u.username, sizeof(u.username), "u%04d", 1199 - i); /* stored out of order */
        snprintf(u.email, sizeof(u.email), "u%d@example.com", i);
        snprintf(u.role, sizeof(u.role), "member");
        int r = store_user_insert(s, &u);
        if (r == 0)
            r = store_group_member_put(s, g->id, u.id, FX_NOW);
        if (r != 0)
            return r;
    }
    return 0;
}

/* A group lists every member, in username order, however many pages the
 * store reads them in. */
static void test_a_group_lists_all_its_members(void **state) {
    struct fx_acme *w = *state;
    static const char *const roles[] = {"viewer"};
    admin_group(w, "everyone", roles, 1);
    struct group_rec g;
    assert_i64_eq(store_group_get(w->fx->svc.store, w->acme.id, "everyone", &g), 0);
    assert_i64_eq(store_tx(w->fx->svc.store, fill_group, &g), 0);
    struct principal alice;
    caller(w, &w->alice, UNNARROWED, &alice);
    struct group_info_list l = {0};
    struct lk_error err = {0};
    assert_i64_eq(groups_list(&w->fx->svc, &alice, "acme", &l, &err), 0);
    assert_i64_eq(l.count, 1);
    assert_i64_eq(l.items[0].members.count, 1200);
    for (size_t i = 0; i < 1200; i++) {
        char want[16];
        snprintf(want, sizeof(want), "u%04zu", i);
        assert_string_equal(l.items[0].members.items[i], want);
    }
    group_info_list_done(&l);
    principal_done(&alice);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_custom_role_within_the_caller_is_stored_closed, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_custom_role_beyond_the_calling_token_is_refused, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_member_without_roles_manage_defines_no_role, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_group_with_a_role_beyond_the_caller_is_refused, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_group_with_roles_within_the_caller_is_created, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_group_names_only_roles_that_exist, fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_groups_roles_fit_the_text_they_always_had, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_group_lists_all_its_members, fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_joining_a_group_beyond_the_caller_is_refused, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_joining_a_group_within_the_caller_grants_its_roles, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_member_cannot_put_himself_in_a_group, fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_member_given_groups_manage_fills_only_groups_within_his_set,
                                        fx_acme_setup, fx_acme_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
