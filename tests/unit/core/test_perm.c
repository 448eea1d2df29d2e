/* Unit tests for the permission algebra: catalogue invariants, closure,
 * parsing, the subset rule (a token receives only the permissions its
 * creator holds) and the built-in roles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/errors.h"
#include "core/perm.h"

static permset_t one(const char *name) {
    int i = perm_index(name);
    assert_true(i >= 0);
    return (permset_t)1 << i;
}

static void test_catalogue_names_are_unique_and_implications_exist(void **state) {
    (void)state;
    assert_true(perm_catalogue_count > 0 && perm_catalogue_count <= 64);
    for (size_t i = 0; i < perm_catalogue_count; i++) {
        assert_int_equal(perm_index(perm_catalogue[i].name), (int)i);
        assert_non_null(strchr(perm_catalogue[i].name, '.'));
        assert_true(strlen(perm_catalogue[i].description) > 10);
        for (const char *const *imp = perm_catalogue[i].implies; *imp != NULL; imp++)
            assert_true(perm_index(*imp) >= 0);
    }
}

static void test_every_manage_implies_view(void **state) {
    (void)state;
    for (size_t i = 0; i < perm_catalogue_count; i++) {
        const char *name = perm_catalogue[i].name;
        const char *dot = strrchr(name, '.');
        if (strcmp(dot, ".manage") != 0)
            continue;
        char view[PERM_NAME_MAX];
        snprintf(view, sizeof(view), "%.*s.view", (int)(dot - name), name);
        permset_t c = perm_closure((permset_t)1 << i);
        assert_true(c & one(view));
    }
}

static void test_implication_graph_is_acyclic(void **state) {
    (void)state;
    /* A permission's closure, minus itself, must not imply it back. */
    for (size_t i = 0; i < perm_catalogue_count; i++) {
        permset_t self = (permset_t)1 << i;
        permset_t direct = 0;
        for (const char *const *imp = perm_catalogue[i].implies; *imp != NULL; imp++)
            direct |= one(*imp);
        assert_false(perm_closure(direct) & self);
    }
}

static void test_closure_is_transitive_and_idempotent(void **state) {
    (void)state;
    permset_t c = perm_closure(one("secrets.manage"));
    assert_true(c & one("secrets.read"));
    assert_true(c & one("secrets.view")); /* two steps away */
    assert_int_equal(perm_closure(c), c);
    assert_int_equal(perm_closure(0), 0);
    assert_int_equal(perm_closure(perm_all()), perm_all());
}

/* The closure, worked out here from the catalogue's names the slow way:
 * add what any member implies until nothing changes. */
static permset_t closure_by_hand(permset_t set) {
    set &= perm_all();
    permset_t prev;
    do {
        prev = set;
        for (size_t i = 0; i < perm_catalogue_count; i++)
            if (set & ((permset_t)1 << i))
                for (const char *const *imp = perm_catalogue[i].implies; *imp != NULL; imp++)
                    set |= (permset_t)1 << perm_index(*imp);
    } while (set != prev);
    return set;
}

/* perm_closure agrees with it on 1000 pseudo-random sets (bits past the
 * catalogue included, which both drop). */
static void test_closure_matches_the_fixpoint_of_the_catalogue(void **state) {
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 1000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_int_equal(perm_closure((permset_t)x), closure_by_hand((permset_t)x));
    }
}

static void test_parse(void **state) {
    (void)state;
    const char *star[] = {"*"};
    const char *some[] = {"tokens.manage", "users.view", "tokens.manage"};
    const char *bad[] = {"users.view", "tokens.fly"};
    permset_t s = 0;
    struct lk_error err = {0};
    assert_int_equal(perm_parse(star, 1, &s, NULL), 0);
    assert_int_equal(s, perm_all());
    assert_int_equal(perm_parse(some, 3, &s, NULL), 0);
    assert_int_equal(s, one("tokens.manage") | one("tokens.view") | one("users.view"));
    assert_int_equal(perm_parse(NULL, 0, &s, NULL), 0);
    assert_int_equal(s, 0);
    s = 42;
    assert_int_equal(perm_parse(bad, 2, &s, &err), LK_EINVAL);
    assert_int_equal(s, 42); /* untouched on failure */
    assert_non_null(strstr(err.msg, "\"tokens.fly\" (entry 1)"));
}

static void test_grant_drops_what_the_holder_lacks(void **state) {
    (void)state;
    permset_t dropped = 0;
    permset_t holder = perm_closure(one("tokens.manage"));
    permset_t want = one("tokens.view") | one("users.manage");
    permset_t got = perm_grant(want, holder, &dropped);
    assert_int_equal(got, one("tokens.view"));
    assert_int_equal(dropped, one("users.manage") | one("users.view"));
    /* Asking for less than the holder has drops nothing. */
    got = perm_grant(one("tokens.view"), holder, &dropped);
    assert_int_equal(got, one("tokens.view"));
    assert_int_equal(dropped, 0);
    /* manage held => view granted */
    assert_int_equal(perm_grant(one("users.view"), one("users.manage"), NULL), one("users.view"));
}

static void test_subset(void **state) {
    (void)state;
    assert_true(perm_subset(one("users.view"), one("users.manage")));
    assert_false(perm_subset(one("users.manage"), one("users.view")));
    assert_true(perm_subset(0, 0));
    assert_true(perm_subset(perm_all(), perm_all()));
}

static void test_names_in_catalogue_order_with_cap(void **state) {
    (void)state;
    const char *out[2] = {NULL, NULL};
    permset_t s = one("users.view") | one("orgs.view") | one("audit.view");
    assert_int_equal(perm_names(s, out, 2), 3);
    assert_string_equal(out[0], "orgs.view");
    assert_string_equal(out[1], "users.view");
}

static void test_builtin_roles(void **state) {
    (void)state;
    permset_t admin = perm_builtin_role_set(PERM_ROLE_ORG_ADMIN);
    permset_t owner = perm_builtin_role_set(PERM_ROLE_TEAM_OWNER);
    permset_t member = perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER);
    permset_t viewer = perm_builtin_role_set(PERM_ROLE_VIEWER);
    assert_int_equal(admin, perm_all());
    assert_true(perm_subset(viewer, member));
    assert_true(perm_subset(member, owner));
    assert_true(perm_subset(owner, admin));
    assert_false(owner & one("orgs.manage"));
    assert_false(owner & one("users.manage"));
    assert_false(viewer & (one("secrets.view") | one("audit.view")));
    for (int r = 0; r < PERM_ROLE__COUNT; r++) {
        assert_int_equal(perm_closure(perm_builtin_role_set(r)), perm_builtin_role_set(r));
        assert_int_equal(perm_builtin_role_index(perm_builtin_role_name(r)), r);
    }
    assert_int_equal(perm_builtin_role_index("superuser"), -1);
}

static void test_service_account_default_reads_all_but_secrets(void **state) {
    (void)state;
    permset_t sa = perm_service_account_default();
    assert_true(sa & one("users.view"));
    assert_true(sa & one("teams.view"));
    assert_false(sa & (one("secrets.view") | one("secrets.read") | one("secrets.manage")));
    assert_true(perm_subset(sa, perm_builtin_role_set(PERM_ROLE_VIEWER)));
}

/* Org-wide, a member reads what a viewer reads and manages their own tokens;
 * nothing a team role adds (secrets, team management, others' tokens). */
static void test_org_member_set_is_the_viewer_set_and_own_tokens(void **state) {
    (void)state;
    permset_t m = perm_org_member_set();
    assert_true(perm_subset(perm_builtin_role_set(PERM_ROLE_VIEWER), m));
    assert_true(m & one("tokens.manage"));
    assert_int_equal(m & ~perm_builtin_role_set(PERM_ROLE_VIEWER), one("tokens.manage"));
    assert_false(m & (one("secrets.view") | one("secrets.read") | one("teams.manage") |
                      one("tokens.create_for_others") | one("audit.view")));
    assert_true(perm_subset(m, perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER)));
    assert_int_equal(perm_closure(m), m);
}

/* Workloads: owners manage them, every other built-in role (and a service
 * account by default, and any org member org-wide) sees them. */
static void test_workload_permissions_in_the_builtin_roles(void **state) {
    (void)state;
    assert_true(perm_closure(one("workloads.manage")) & one("workloads.view"));
    assert_true(perm_builtin_role_set(PERM_ROLE_ORG_ADMIN) & one("workloads.manage"));
    assert_true(perm_builtin_role_set(PERM_ROLE_TEAM_OWNER) & one("workloads.manage"));
    assert_false(perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER) & one("workloads.manage"));
    assert_true(perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER) & one("workloads.view"));
    assert_true(perm_builtin_role_set(PERM_ROLE_VIEWER) & one("workloads.view"));
    assert_false(perm_team_role_set("viewer") & one("workloads.manage"));
    assert_true(perm_service_account_default() & one("workloads.view"));
    assert_false(perm_org_member_set() & one("workloads.manage"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_names_are_unique_and_implications_exist),
        cmocka_unit_test(test_org_member_set_is_the_viewer_set_and_own_tokens),
        cmocka_unit_test(test_workload_permissions_in_the_builtin_roles),
        cmocka_unit_test(test_every_manage_implies_view),
        cmocka_unit_test(test_implication_graph_is_acyclic),
        cmocka_unit_test(test_closure_is_transitive_and_idempotent),
        cmocka_unit_test(test_closure_matches_the_fixpoint_of_the_catalogue),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_grant_drops_what_the_holder_lacks),
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_names_in_catalogue_order_with_cap),
        cmocka_unit_test(test_builtin_roles),
        cmocka_unit_test(test_service_account_default_reads_all_but_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
