/*
 * test_authz.c - the rules of svc/authz.h: org members hold the org member
 * set org-wide and nothing in another org; team roles add their built-in
 * role only inside their team; a team viewer holds the viewer set there;
 * service accounts read what a member may but secrets, plus what their
 * team's owners granted (in the team, or org-wide); a narrowed token holds
 * what both it and its owner hold; and the messages of authz_require and
 * authz_require_within.
 *
 * authz reads nothing but the principal and the records handed in, so the
 * orgs here are records built by hand and no store is opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/token_cache.h"

#include "svc_fixture.h"
#include "unit_assert.h"

static struct org_rec org_of(const char *id, const char *name) {
    struct org_rec o;
    memset(&o, 0, sizeof(o));
    str_copy(o.id, sizeof(o.id), id);
    str_copy(o.name, sizeof(o.name), name);
    str_copy(o.status, sizeof(o.status), "active");
    return o;
}

/* acme and globex, as a request would have loaded them. */
#define ACME org_of("org_acme", "acme")
#define GLOBEX org_of("org_globex", "globex")

/* The token a principal calls with: policies NULL = none (a principal
 * without a token, such as one being logged in, holds all of its set). */
static void with_token(struct principal *p, const char *owner_type, const char *policies) {
    p->token = policies ? fx_token_entry("lk_user_000000000001", owner_type, p->id, p->org_id, policies, 0) : NULL;
}

/* A user of acme with org role "admin" or "member". */
static struct principal user(const char *role, const char *policies) {
    struct principal p;
    memset(&p, 0, sizeof(p));
    p.type = PRINCIPAL_USER;
    str_copy(p.id, sizeof(p.id), "usr_1");
    str_copy(p.name, sizeof(p.name), "bob");
    str_copy(p.org, sizeof(p.org), "acme");
    str_copy(p.org_id, sizeof(p.org_id), "org_acme");
    str_copy(p.org_role, sizeof(p.org_role), role);
    with_token(&p, "user", policies);
    return p;
}

/* A service account of acme's team payments with the given grants. */
static struct principal service_account(permset_t team_grants, permset_t org_grants) {
    struct principal p;
    memset(&p, 0, sizeof(p));
    p.type = PRINCIPAL_SA;
    str_copy(p.id, sizeof(p.id), "sa_1");
    str_copy(p.name, sizeof(p.name), "deployer");
    str_copy(p.org, sizeof(p.org), "acme");
    str_copy(p.org_id, sizeof(p.org_id), "org_acme");
    str_copy(p.team, sizeof(p.team), "payments");
    p.extra_perms = team_grants;
    p.org_extra_perms = org_grants;
    with_token(&p, "service_account", "[\"*\"]");
    return p;
}

static struct principal root(const char *policies) {
    struct principal p;
    memset(&p, 0, sizeof(p));
    p.type = PRINCIPAL_ROOT;
    str_copy(p.id, sizeof(p.id), "root");
    str_copy(p.name, sizeof(p.name), "root");
    with_token(&p, "root", policies);
    return p;
}

static permset_t in(permset_t set, const char *perm) {
    return set & ((permset_t)1 << perm_index(perm));
}

/* ---- org members ---- */

static void test_an_org_member_holds_the_member_set_org_wide(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec acme = ACME;
    assert_perms_eq(authz_org_permissions(&p, &acme), perm_org_member_set());
    assert_perms_eq(authz_org_effective(&p, &acme), perm_org_member_set());
    principal_done(&p);
}

static void test_an_org_member_is_denied_what_the_member_set_lacks_by_name(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec acme = ACME;
    struct lk_error err = {0};
    int r = authz_require(&p, &acme, "users.manage", "no organisation acme", &err);
    assert_error_with(r, &err, LK_EDENIED, "permission denied: this needs users.manage on organisation acme");
    memset(&err, 0, sizeof(err));
    assert_i64_eq(authz_require(&p, &acme, "users.view", "no organisation acme", &err), 0);
    principal_done(&p);
}

static void test_another_org_answers_like_a_missing_one(void **state) {
    (void)state;
    struct principal p = user("admin", "[\"*\"]");
    struct org_rec globex = GLOBEX;
    struct lk_error err = {0};
    assert_perms_eq(authz_org_permissions(&p, &globex), 0);
    assert_i64_eq(authz_org_visible(&p, &globex), 0);
    int r = authz_require(&p, &globex, "orgs.view", "no organisation globex", &err);
    assert_error_with(r, &err, LK_ENOTFOUND, "no organisation globex");
    assert_string_equal(err.msg, "no organisation globex");
    principal_done(&p);
}

static void test_an_org_admin_holds_everything_in_the_org(void **state) {
    (void)state;
    struct principal p = user("admin", "[\"*\"]");
    struct org_rec acme = ACME;
    assert_perms_eq(authz_org_effective(&p, &acme), perm_builtin_role_set(PERM_ROLE_ORG_ADMIN));
    principal_done(&p);
}

static void test_a_members_groups_add_their_grants_org_wide(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    p.org_extra_perms = fx_perms("users.manage"); /* what the user's groups grant */
    struct org_rec acme = ACME;
    assert_perms_eq(authz_org_permissions(&p, &acme), perm_org_member_set() | fx_perms("users.manage"));
    principal_done(&p);
}

/* ---- team roles ---- */

static void test_a_team_members_role_applies_only_in_its_team(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec acme = ACME;
    struct lk_error err = {0};
    assert_i64_eq(authz_require_in_team(&p, &acme, "member", "secrets.read", "no team payments", &err), 0);
    int r = authz_require_in_team(&p, &acme, "", "secrets.read", "no team other", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs secrets.read on organisation acme");
    assert_perms_eq(authz_team_permissions(&p, &acme, "member"),
                    perm_org_member_set() | perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER));
    assert_perms_eq(authz_team_permissions(&p, &acme, ""), perm_org_member_set());
    principal_done(&p);
}

static void test_a_team_owners_role_applies_only_in_its_team(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec acme = ACME;
    struct lk_error err = {0};
    assert_i64_eq(authz_require_in_team(&p, &acme, "owner", "service_accounts.manage", "no team payments", &err), 0);
    int r = authz_require_in_team(&p, &acme, "member", "service_accounts.manage", "no team payments", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs service_accounts.manage on organisation acme");
    memset(&err, 0, sizeof(err));
    r = authz_require(&p, &acme, "teams.manage", "no organisation acme", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs teams.manage");
    principal_done(&p);
}

/* A team viewer reads what a viewer reads, and its team's secrets' keys
 * and metadata (secrets.view), never their values. */
static void test_a_team_viewer_holds_the_viewer_set_in_its_team(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec acme = ACME;
    permset_t viewer = authz_team_permissions(&p, &acme, "viewer");
    assert_perms_eq(viewer,
                    perm_org_member_set() | perm_builtin_role_set(PERM_ROLE_VIEWER) | perm_team_role_set("viewer"));
    assert_true(in(viewer, "secrets.view"));
    assert_perms_eq(in(viewer, "secrets.read"), 0);
    principal_done(&p);
}

static void test_a_team_role_in_another_org_gives_nothing(void **state) {
    (void)state;
    struct principal p = user("member", "[\"*\"]");
    struct org_rec globex = GLOBEX;
    struct lk_error err = {0};
    assert_perms_eq(authz_team_permissions(&p, &globex, "owner"), 0);
    int r = authz_require_in_team(&p, &globex, "owner", "teams.view", "no team payments in organisation globex", &err);
    assert_error_with(r, &err, LK_ENOTFOUND, "no team payments in organisation globex");
    principal_done(&p);
}

/* ---- service accounts ---- */

static void test_a_service_account_reads_what_a_member_may_but_secrets(void **state) {
    (void)state;
    struct principal p = service_account(0, 0);
    struct org_rec acme = ACME;
    permset_t set = authz_org_permissions(&p, &acme);
    assert_perms_eq(set, perm_service_account_default());
    assert_perms_eq(in(set, "secrets.view"), 0);
    assert_perms_eq(in(set, "users.view"), fx_perms("users.view"));
    assert_perms_eq(authz_team_permissions(&p, &acme, "service_account"), perm_service_account_default());
    principal_done(&p);
}

static void test_a_service_accounts_team_grants_apply_in_its_team_only(void **state) {
    (void)state;
    struct principal p = service_account(perm_builtin_role_set(PERM_ROLE_TEAM_OWNER), 0);
    struct org_rec acme = ACME;
    struct lk_error err = {0};
    assert_i64_eq(authz_require_in_team(&p, &acme, "service_account", "service_accounts.manage", "no team", &err), 0);
    int r = authz_require(&p, &acme, "service_accounts.manage", "no organisation acme", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs service_accounts.manage on organisation acme");
    principal_done(&p);
}

static void test_a_service_accounts_org_grants_apply_org_wide(void **state) {
    (void)state;
    struct principal p = service_account(0, perm_builtin_role_set(PERM_ROLE_ORG_ADMIN));
    struct org_rec acme = ACME, globex = GLOBEX;
    assert_perms_eq(authz_org_permissions(&p, &acme), perm_builtin_role_set(PERM_ROLE_ORG_ADMIN));
    assert_perms_eq(authz_org_permissions(&p, &globex), 0);
    principal_done(&p);
}

/* ---- narrowed tokens ---- */

static void test_a_narrowed_token_holds_what_both_it_and_its_owner_hold(void **state) {
    (void)state;
    struct principal admin = user("admin", "[\"users.view\",\"tokens.manage\"]");
    struct principal member = user("member", "[\"users.manage\"]");
    struct org_rec acme = ACME;
    assert_perms_eq(authz_org_effective(&admin, &acme), fx_perms("users.view", "tokens.manage"));
    assert_perms_eq(authz_effective(&admin), fx_perms("users.view", "tokens.manage"));
    /* users.manage is the token's, not the member's: only its implied users.view remains. */
    assert_perms_eq(authz_org_effective(&member, &acme), fx_perms("users.view"));
    struct lk_error err = {0};
    int r = authz_require(&admin, &acme, "users.manage", "no organisation acme", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs users.manage on organisation acme");
    assert_i64_eq(authz_token_unbounded(&admin), 0);
    principal_done(&admin);
    principal_done(&member);
}

static void test_a_narrowed_tokens_unknown_policy_names_grant_nothing(void **state) {
    (void)state;
    struct principal p = user("admin", "[\"deleteNamespace\",\"nosuch.perm\"]");
    struct org_rec acme = ACME;
    assert_perms_eq(authz_token_policies(&p), 0);
    assert_perms_eq(authz_org_effective(&p, &acme), 0);
    principal_done(&p);
}

static void test_a_narrowed_token_keeps_its_team_role_narrowed(void **state) {
    (void)state;
    struct principal p = user("member", "[\"teams.view\"]");
    struct org_rec acme = ACME;
    assert_perms_eq(authz_team_permissions(&p, &acme, "owner"), fx_perms("teams.view"));
    principal_done(&p);
}

static void test_root_holds_everything_everywhere_unless_narrowed(void **state) {
    (void)state;
    struct principal full = root("[\"*\"]"), narrowed = root("[\"orgs.view\"]");
    struct org_rec globex = GLOBEX;
    assert_perms_eq(authz_org_effective(&full, &globex), perm_all());
    assert_i64_eq(authz_token_unbounded(&full), 1);
    assert_perms_eq(authz_org_effective(&narrowed, &globex), fx_perms("orgs.view"));
    struct lk_error err = {0};
    int r = authz_require(&narrowed, &globex, "users.manage", "no organisation globex", &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs users.manage on organisation globex");
    memset(&err, 0, sizeof(err));
    r = authz_require_root(&narrowed, NULL, "create organisations", "", &err);
    assert_error_with(r, &err, LK_EDENIED, "policies do not include orgs.manage");
    principal_done(&full);
    principal_done(&narrowed);
}

static void test_a_principal_without_a_token_is_not_narrowed(void **state) {
    (void)state;
    struct principal p = user("member", NULL);
    struct org_rec acme = ACME;
    assert_perms_eq(authz_token_policies(&p), perm_all());
    assert_perms_eq(authz_org_effective(&p, &acme), perm_org_member_set());
}

/* ---- authz_require_within ---- */

static void test_require_within_names_the_first_missing_permission(void **state) {
    (void)state;
    struct lk_error err = {0};
    int r =
        authz_require_within(fx_perms("users.view"), fx_perms("users.manage", "teams.manage"), "role auditor", &err);
    assert_error_with(r, &err, LK_EDENIED, "carries users.manage");
    assert_string_equal(err.msg, "permission denied: role auditor carries users.manage, which you do not hold with "
                                 "this credential; you can grant only what you have");
}

static void test_require_within_accepts_a_subset_and_implied_permissions(void **state) {
    (void)state;
    struct lk_error err = {0};
    permset_t have = fx_perms("users.manage", "tokens.manage");
    assert_i64_eq(authz_require_within(have, fx_perms("users.view"), "role r", &err), 0);
    assert_i64_eq(authz_require_within(have, have, "role r", &err), 0);
    assert_i64_eq(authz_require_within(have, 0, "role r", &err), 0);
    assert_i64_eq(err.code, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_org_member_holds_the_member_set_org_wide),
        cmocka_unit_test(test_an_org_member_is_denied_what_the_member_set_lacks_by_name),
        cmocka_unit_test(test_another_org_answers_like_a_missing_one),
        cmocka_unit_test(test_an_org_admin_holds_everything_in_the_org),
        cmocka_unit_test(test_a_members_groups_add_their_grants_org_wide),
        cmocka_unit_test(test_a_team_members_role_applies_only_in_its_team),
        cmocka_unit_test(test_a_team_owners_role_applies_only_in_its_team),
        cmocka_unit_test(test_a_team_viewer_holds_the_viewer_set_in_its_team),
        cmocka_unit_test(test_a_team_role_in_another_org_gives_nothing),
        cmocka_unit_test(test_a_service_account_reads_what_a_member_may_but_secrets),
        cmocka_unit_test(test_a_service_accounts_team_grants_apply_in_its_team_only),
        cmocka_unit_test(test_a_service_accounts_org_grants_apply_org_wide),
        cmocka_unit_test(test_a_narrowed_token_holds_what_both_it_and_its_owner_hold),
        cmocka_unit_test(test_a_narrowed_tokens_unknown_policy_names_grant_nothing),
        cmocka_unit_test(test_a_narrowed_token_keeps_its_team_role_narrowed),
        cmocka_unit_test(test_root_holds_everything_everywhere_unless_narrowed),
        cmocka_unit_test(test_a_principal_without_a_token_is_not_narrowed),
        cmocka_unit_test(test_require_within_names_the_first_missing_permission),
        cmocka_unit_test(test_require_within_accepts_a_subset_and_implied_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
