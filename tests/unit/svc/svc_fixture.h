/*
 * svc_fixture.h - what the svc rule suites share (test_tokens.c and
 * test_groups.c all of it; test_authz.c, whose rules read no store, the
 * principal and permission-set helpers): a real SQLite store, migrated, in
 * a temporary directory, a token cache, a struct svc at a fixed time, and
 * principals built the way auth_verify_token builds them, with a
 * token_entry carrying the token's policies and expiry. Include after
 * <cmocka.h>.
 *
 * The org, users and teams are made through the svc use cases as the
 * partner admin, so they are stored exactly as the server stores them.
 */
#ifndef LK_TESTS_UNIT_SVC_FIXTURE_H
#define LK_TESTS_UNIT_SVC_FIXTURE_H

#include <limits.h>
#include <stdint.h>

#include "core/perm.h"
#include "store/store.h"
#include "svc/principal.h"
#include "svc/svc.h"

/* The time every request of a suite runs at: 2026-01-01T00:00:00Z. */
#define FX_NOW INT64_C(1767225600)

struct lk_error;

struct svc_fixture {
    char dir[PATH_MAX];
    char dsn[PATH_MAX + 32];
    struct svc svc;
    struct principal root; /* the partner admin, with no token (operator-like) */
};

/* acme, with alice (admin), bob and carol (members): the world of the
 * token and group suites. */
struct fx_acme {
    struct svc_fixture *fx;
    struct org_rec acme;
    struct user_rec alice, bob, carol;
};

/* cmocka setup/teardown: a fresh store with acme per test. */
int fx_acme_setup(void **state);
int fx_acme_teardown(void **state);

/* cmocka setup/teardown: a fresh store per test. */
int svc_fixture_setup(void **state);
int svc_fixture_teardown(void **state);

/* An active org made by the partner admin; fails the test otherwise. */
void fx_org(struct svc_fixture *fx, const char *name, struct org_rec *ret);

/* A user of org with org role "admin" or "member"; fails the test otherwise. */
void fx_user(struct svc_fixture *fx, const char *org, const char *username, const char *role, struct user_rec *ret);

/* A team of org, and username's role ("owner", "member", "viewer") in it. */
void fx_team(struct svc_fixture *fx, const char *org, const char *team);
void fx_member(struct svc_fixture *fx, const char *org, const char *team, const char *username, const char *role);

/*
 * Fills p as the user of org calling with a token: token_id is its public
 * id (its kind matters: "lk_sess_..." is a login session), policies_json
 * its stored policies ("[\"*\"]" = not narrowed), expires_at its expiry
 * (0 = never). org_extra_perms is what the user's groups grant, as the
 * token loader reads it. Release with principal_done().
 */
void fx_user_principal(struct svc_fixture *fx, const struct org_rec *org, const struct user_rec *u,
                       const char *token_id, const char *policies_json, int64_t expires_at, struct principal *p);

/* A token_entry (refcount 1) for a principal built by hand. */
struct token_entry *fx_token_entry(const char *token_id, const char *owner_type, const char *owner_id,
                                   const char *org_id, const char *policies_json, int64_t expires_at);

/* A record's list of names (names[0..n), rows of width bytes) as a JSON
 * array, compact (a static buffer, overwritten by the next call of either):
 * what the answers show. fx_policies_json is a token's policies. */
const char *fx_list_json(const void *names, size_t width, size_t n);
const char *fx_policies_json(const struct token_rec *rec);

/* The JSON array of set's names in catalogue order, as tokens.c stores
 * policies (a static buffer, overwritten by the next call). */
const char *fx_names_json(permset_t set);

/* The set of the named permissions, closed under implication:
 * fx_perms("users.view", "tokens.manage"); fails the test on an unknown name. */
#define fx_perms(...) fx_perms_of((const char *const[]){__VA_ARGS__, NULL})
permset_t fx_perms_of(const char *const *names);

/* Fails with both sets' names unless actual == expected. */
#define assert_perms_eq(actual, expected)                                                                              \
    fx_assert_perms_eq((actual), (expected), #actual, #expected, __FILE__, __LINE__)
void fx_assert_perms_eq(permset_t actual, permset_t expected, const char *actual_expr, const char *expected_expr,
                        const char *file, int line);

/* Fails with the message unless rc == code and the message contains want. */
#define assert_error_with(rc, err, code, want) fx_assert_error_with((rc), (err), (code), (want), __FILE__, __LINE__)
void fx_assert_error_with(int rc, const struct lk_error *err, int code, const char *want, const char *file, int line);

#endif
