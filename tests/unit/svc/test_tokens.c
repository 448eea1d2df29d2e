/*
 * test_tokens.c - the rules of svc/tokens.h against a real SQLite store:
 * the subset rule (a narrowed caller's new token is cut to its set; "*" is
 * stored as "*" only for an unnarrowed caller's own token or by a caller
 * holding everything; dropped_policies), the expiry bound (a token made by
 * an API token never outlives it, a default is cut to it, a login session
 * may make one that outlives it), rotation once, and rotate/delete only
 * within the calling token and only of the caller's own tokens.
 *
 * The callers are principals built by hand (svc_fixture.h), each with the
 * token_entry that carries its policies and expiry; the org and its users
 * are made through the svc use cases, as the server makes them.
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
#include "svc/authz.h"
#include "svc/tokens.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define HOUR INT64_C(3600)

/* Public ids of the calling tokens: an API token and a login session. */
#define API_TOKEN "lk_user_000000000001"
#define SESSION "lk_sess_000000000001"
#define UNNARROWED "[\"*\"]"

/* u calling with the token token_id (policies, expiry). */
static void caller(struct fx_acme *w, const struct user_rec *u, const char *token_id, const char *policies,
                   int64_t expires_at, struct principal *p) {
    fx_user_principal(w->fx, &w->acme, u, token_id, policies, expires_at, p);
}

/* What a request body would carry: policies (NULL = none given) and an
 * expiry (NULL = none asked for). */
static struct token_create_in request(const char *const *policies, size_t n, const char *expires) {
    struct token_create_in in;
    memset(&in, 0, sizeof(in));
    in.has_policies = policies != NULL;
    in.policies = policies;
    in.npolicies = n;
    in.expiry.expires = expires;
    in.expiry.expires_len = expires ? strlen(expires) : 0;
    return in;
}

/* tokens_create by p, which must succeed. */
static void create_ok(struct fx_acme *w, const struct principal *p, const struct token_create_in *in,
                      struct token_created *ret) {
    struct lk_error err = {0};
    memset(ret, 0, sizeof(*ret));
    int r = tokens_create(&w->fx->svc, p, in, ret, &err);
    if (r != 0)
        fail_msg("tokens_create by %s: %d %s", p->name, r, err.msg);
}

/* ---- the subset rule ---- */

static void test_a_narrowed_caller_gets_only_the_requested_policies_it_holds(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, API_TOKEN, "[\"users.view\",\"tokens.manage\"]", 0, &p);
    static const char *const want[] = {"users.view", "users.manage", "teams.manage"};
    struct token_create_in in = request(want, 3, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), "[\"users.view\"]");
    assert_string_equal(t.dropped_json, "[\"users.manage\",\"teams.manage\"]");
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_narrowed_callers_token_without_policies_is_cut_to_its_set(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, API_TOKEN, "[\"users.view\",\"tokens.manage\"]", 0, &p);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), fx_names_json(fx_perms("users.view", "tokens.manage")));
    assert_string_equal(t.dropped_json, "[]");
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_narrowed_caller_asking_for_star_gets_its_set_by_name(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, API_TOKEN, "[\"users.view\",\"tokens.manage\"]", 0, &p);
    static const char *const star[] = {"*"};
    struct token_create_in in = request(star, 1, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), fx_names_json(fx_perms("users.view", "tokens.manage")));
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_an_unnarrowed_callers_own_token_is_stored_as_star(void **state) {
    struct fx_acme *w = *state;
    struct principal p; /* a member: not everything, but an unnarrowed token of its own */
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &p);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), "[\"*\"]");
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_caller_holding_everything_stores_star_for_another_owner(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, API_TOKEN, UNNARROWED, 0, &p);
    permset_t ceiling = authz_org_effective(&p, &w->acme);
    assert_perms_eq(ceiling, perm_all());
    struct token_owner bob = {PRINCIPAL_USER, w->bob.id, w->acme.id, 0};
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    struct lk_error err = {0};
    memset(&t, 0, sizeof(t));
    assert_i64_eq(tokens_create_for(&w->fx->svc, &p, &bob, ceiling, &in, &t, &err), 0);
    assert_string_equal(fx_policies_json(&t.rec), "[\"*\"]");
    assert_string_equal(t.rec.owner_id, w->bob.id);
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_caller_not_holding_everything_stores_anothers_token_by_name(void **state) {
    struct fx_acme *w = *state;
    struct principal p; /* unnarrowed, but the token is carol's and bob holds the member set only */
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &p);
    permset_t ceiling = authz_org_effective(&p, &w->acme);
    assert_perms_eq(ceiling, perm_org_member_set());
    struct token_owner carol = {PRINCIPAL_USER, w->carol.id, w->acme.id, 0};
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    struct lk_error err = {0};
    memset(&t, 0, sizeof(t));
    assert_i64_eq(tokens_create_for(&w->fx->svc, &p, &carol, ceiling, &in, &t, &err), 0);
    assert_string_equal(fx_policies_json(&t.rec), fx_names_json(perm_org_member_set()));
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_dropped_policies_name_each_unheld_or_unknown_policy_once(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &p);
    static const char *const want[] = {"users.view", "users.manage", "nosuch.perm", "users.manage"};
    struct token_create_in in = request(want, 4, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), "[\"users.view\"]");
    assert_string_equal(t.dropped_json, "[\"users.manage\",\"nosuch.perm\"]");
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_role_name_expands_to_the_roles_permissions(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &p);
    static const char *const want[] = {"viewer", "team-owner"};
    struct token_create_in in = request(want, 2, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_string_equal(fx_policies_json(&t.rec), fx_names_json(perm_builtin_role_set(PERM_ROLE_VIEWER)));
    assert_string_equal(t.dropped_json, "[\"team-owner\"]");
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_token_without_tokens_manage_creates_nothing(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->alice, API_TOKEN, "[\"users.view\"]", 0, &p);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    struct lk_error err = {0};
    memset(&t, 0, sizeof(t));
    int r = tokens_create(&w->fx->svc, &p, &in, &t, &err);
    assert_error_with(r, &err, LK_EDENIED, "this needs tokens.manage");
    principal_done(&p);
}

/* ---- the expiry bound ---- */

static void test_a_token_made_by_an_api_token_may_not_outlive_it(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, FX_NOW + HOUR, &p);
    struct token_create_in in = request(NULL, 0, "P1D");
    struct token_created t;
    struct lk_error err = {0};
    memset(&t, 0, sizeof(t));
    int r = tokens_create(&w->fx->svc, &p, &in, &t, &err);
    assert_error_with(r, &err, LK_EINVAL, "would outlive the token making this request (" API_TOKEN);
    principal_done(&p);
}

static void test_a_default_expiry_is_cut_to_the_calling_tokens(void **state) {
    struct fx_acme *w = *state;
    struct principal p; /* the org default (720 hours) would outlive it */
    caller(w, &w->bob, API_TOKEN, UNNARROWED, FX_NOW + HOUR, &p);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_i64_eq(t.rec.expires_at, FX_NOW + HOUR);
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_an_expiry_within_the_calling_tokens_is_kept(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, FX_NOW + HOUR, &p);
    struct token_create_in in = request(NULL, 0, "PT30M");
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_i64_eq(t.rec.expires_at, FX_NOW + HOUR / 2);
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_login_session_may_make_a_token_that_outlives_it(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, SESSION, UNNARROWED, FX_NOW + HOUR, &p);
    struct token_create_in in = request(NULL, 0, "P1D");
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_i64_eq(t.rec.expires_at, FX_NOW + 24 * HOUR);
    tokens_created_done(&t);
    principal_done(&p);
}

static void test_a_login_sessions_default_expiry_is_the_orgs(void **state) {
    struct fx_acme *w = *state;
    struct principal p;
    caller(w, &w->bob, SESSION, UNNARROWED, FX_NOW + HOUR, &p);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created t;
    create_ok(w, &p, &in, &t);
    assert_i64_eq(t.rec.expires_at, FX_NOW + w->acme.token_expiry_hours * HOUR);
    tokens_created_done(&t);
    principal_done(&p);
}

/* ---- rotate and delete ---- */

/* One of bob's tokens with the given policies (NULL = all), made by bob
 * through an unnarrowed, never-expiring token. */
static void bobs_token(struct fx_acme *w, const char *const *policies, size_t n, struct token_created *ret) {
    struct principal p;
    caller(w, &w->bob, "lk_user_00000000000b", UNNARROWED, 0, &p);
    struct token_create_in in = request(policies, n, NULL);
    create_ok(w, &p, &in, ret);
    principal_done(&p);
}

static void test_a_token_rotates_once(void **state) {
    struct fx_acme *w = *state;
    struct token_created old, fresh, again;
    bobs_token(w, NULL, 0, &old);
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &p);
    struct lk_error err = {0};
    memset(&fresh, 0, sizeof(fresh));
    memset(&again, 0, sizeof(again));
    assert_i64_eq(tokens_rotate(&w->fx->svc, &p, old.rec.id, 60, &fresh, &err), 0);
    assert_string_not_equal(fresh.rec.id, old.rec.id);
    assert_i64_eq(fresh.rec.expires_at, old.rec.expires_at);
    char want[STORE_POLICIES_MAX * (STORE_POLICY_NAME_MAX + 3) + 3];
    snprintf(want, sizeof(want), "%s", fx_policies_json(&old.rec));
    assert_string_equal(fx_policies_json(&fresh.rec), want);
    int r = tokens_rotate(&w->fx->svc, &p, old.rec.id, 60, &again, &err);
    assert_error_with(r, &err, LK_ECONFLICT, "was rotated already");
    tokens_created_done(&old);
    tokens_created_done(&fresh);
    principal_done(&p);
}

static void test_a_narrowed_token_cannot_delete_a_wider_sibling(void **state) {
    struct fx_acme *w = *state;
    static const char *const wide[] = {"users.view", "tokens.manage"};
    struct token_created sibling;
    bobs_token(w, wide, 2, &sibling);
    struct principal p;
    caller(w, &w->bob, API_TOKEN, "[\"tokens.manage\"]", 0, &p);
    struct lk_error err = {0};
    int r = tokens_delete(&w->fx->svc, &p, sibling.rec.id, &err);
    char want[128];
    snprintf(want, sizeof(want), "token %s carries users.view", sibling.rec.id);
    assert_error_with(r, &err, LK_EDENIED, want);
    struct token_rec still;
    memset(&still, 0, sizeof(still));
    assert_i64_eq(store_token_get(w->fx->svc.store, sibling.rec.id, &still), 0);
    token_rec_done(&still);
    tokens_created_done(&sibling);
    principal_done(&p);
}

static void test_a_narrowed_token_cannot_rotate_a_wider_sibling(void **state) {
    struct fx_acme *w = *state;
    struct token_created sibling, fresh;
    bobs_token(w, NULL, 0, &sibling); /* "*": everything bob holds */
    struct principal p;
    caller(w, &w->bob, API_TOKEN, "[\"tokens.manage\"]", 0, &p);
    struct lk_error err = {0};
    memset(&fresh, 0, sizeof(fresh));
    int r = tokens_rotate(&w->fx->svc, &p, sibling.rec.id, 0, &fresh, &err);
    char want[128];
    snprintf(want, sizeof(want), "token %s carries", sibling.rec.id);
    assert_error_with(r, &err, LK_EDENIED, want);
    tokens_created_done(&sibling);
    principal_done(&p);
}

static void test_a_narrowed_token_deletes_a_sibling_within_it(void **state) {
    struct fx_acme *w = *state;
    static const char *const narrow[] = {"tokens.view"};
    struct token_created sibling;
    bobs_token(w, narrow, 1, &sibling);
    struct principal p;
    caller(w, &w->bob, API_TOKEN, "[\"tokens.manage\"]", 0, &p);
    struct lk_error err = {0};
    assert_i64_eq(tokens_delete(&w->fx->svc, &p, sibling.rec.id, &err), 0);
    struct token_rec gone;
    memset(&gone, 0, sizeof(gone));
    assert_i64_eq(store_token_get(w->fx->svc.store, sibling.rec.id, &gone), LK_ENOTFOUND);
    tokens_created_done(&sibling);
    principal_done(&p);
}

static void test_another_users_token_answers_like_a_missing_one(void **state) {
    struct fx_acme *w = *state;
    struct principal carol, bob;
    caller(w, &w->carol, "lk_user_00000000000c", UNNARROWED, 0, &carol);
    struct token_create_in in = request(NULL, 0, NULL);
    struct token_created theirs, fresh;
    create_ok(w, &carol, &in, &theirs);
    caller(w, &w->bob, API_TOKEN, UNNARROWED, 0, &bob);
    struct lk_error err = {0};
    char want[96];
    snprintf(want, sizeof(want), "no token %s", theirs.rec.id);
    assert_error_with(tokens_delete(&w->fx->svc, &bob, theirs.rec.id, &err), &err, LK_ENOTFOUND, want);
    memset(&err, 0, sizeof(err));
    memset(&fresh, 0, sizeof(fresh));
    assert_error_with(tokens_rotate(&w->fx->svc, &bob, theirs.rec.id, 0, &fresh, &err), &err, LK_ENOTFOUND, want);
    tokens_created_done(&theirs);
    principal_done(&carol);
    principal_done(&bob);
}

static void test_a_shorter_lived_token_cannot_rotate_a_longer_lived_sibling(void **state) {
    struct fx_acme *w = *state;
    struct token_created sibling, fresh;
    bobs_token(w, NULL, 0, &sibling); /* expires with the org default, 720 hours */
    struct principal p;
    caller(w, &w->bob, API_TOKEN, UNNARROWED, FX_NOW + HOUR, &p);
    struct lk_error err = {0};
    memset(&fresh, 0, sizeof(fresh));
    int r = tokens_rotate(&w->fx->svc, &p, sibling.rec.id, 0, &fresh, &err);
    assert_error_with(r, &err, LK_EDENIED, "outlives the token making this request (" API_TOKEN);
    tokens_created_done(&sibling);
    principal_done(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_narrowed_caller_gets_only_the_requested_policies_it_holds, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_narrowed_callers_token_without_policies_is_cut_to_its_set, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_narrowed_caller_asking_for_star_gets_its_set_by_name, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_an_unnarrowed_callers_own_token_is_stored_as_star, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_caller_holding_everything_stores_star_for_another_owner, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_caller_not_holding_everything_stores_anothers_token_by_name,
                                        fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_policies_name_each_unheld_or_unknown_policy_once, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_role_name_expands_to_the_roles_permissions, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_token_without_tokens_manage_creates_nothing, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_token_made_by_an_api_token_may_not_outlive_it, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_default_expiry_is_cut_to_the_calling_tokens, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_an_expiry_within_the_calling_tokens_is_kept, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_login_session_may_make_a_token_that_outlives_it, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_login_sessions_default_expiry_is_the_orgs, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_token_rotates_once, fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_narrowed_token_cannot_delete_a_wider_sibling, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_narrowed_token_cannot_rotate_a_wider_sibling, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_narrowed_token_deletes_a_sibling_within_it, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_another_users_token_answers_like_a_missing_one, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_shorter_lived_token_cannot_rotate_a_longer_lived_sibling, fx_acme_setup,
                                        fx_acme_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
