/*
 * test_vault_policies.c - an org's Vault ACL policies (svc/vault_policies.h)
 * against a real SQLite store: who may write, read, list and delete them
 * (org admin, member, another org's admin, the partner admin, a narrowed
 * token), names and texts refused with the rule they break, the built-ins
 * "default" and "root", and the sets vault_policies_acl loads.
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
#include "core/vault_acl.h"
#include "svc/vault_policies.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define UNNARROWED "[\"*\"]"
#define READ_SECRETS "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\n"

/* acme (alice admin, bob member) and globex (gina admin). */
struct world {
    struct fx_acme *w;
    struct org_rec globex;
    struct user_rec gina;
};

static int setup(void **state) {
    int r = fx_acme_setup(state);
    if (r != 0)
        return r;
    struct world *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return -1;
    v->w = *state;
    fx_org(v->w->fx, "globex", &v->globex);
    fx_user(v->w->fx, "globex", "gina", "admin", &v->gina);
    *state = v;
    return 0;
}

static int teardown(void **state) {
    struct world *v = *state;
    user_rec_done(&v->gina);
    *state = v->w;
    free(v);
    return fx_acme_teardown(state);
}

static struct svc *S(struct world *v) {
    return &v->w->fx->svc;
}

static void as_user(struct world *v, const struct org_rec *org, const struct user_rec *u, const char *policies,
                    struct principal *p) {
    fx_user_principal(v->w->fx, org, u, "lk_user_000000000001", policies, 0, p);
}

static int put_policy(struct world *v, const struct principal *p, const char *org, const char *name, const char *text,
                      struct lk_error *err) {
    return vault_policies_write(S(v), p, org, name, text, strlen(text), err);
}

static void must_write(struct world *v, const char *org, const char *name, const char *text) {
    struct lk_error err = {0};
    if (put_policy(v, &v->w->fx->root, org, name, text, &err) != 0)
        fail_msg("writing %s in %s as the partner admin: %s", name, org, err.msg);
}

/* The four operations' results for p on acme, as a string "w r l d" of
 * 0 (done), D (denied), N (not found), or the code. */
static void ops(struct world *v, const struct principal *p, char out[8], char *msgs[4]) {
    struct lk_error err[4] = {{0}};
    int r[4];
    struct vault_policy_rec rec = {0};
    struct name_list nl = {0};
    r[0] = put_policy(v, p, "acme", "web", READ_SECRETS, &err[0]);
    r[1] = vault_policies_read(S(v), p, "acme", "base", &rec, &err[1]);
    vault_policy_rec_done(&rec);
    r[2] = vault_policies_list(S(v), p, "acme", &nl, &err[2]);
    name_list_done(&nl);
    r[3] = vault_policies_delete(S(v), p, "acme", "gone", &err[3]);
    for (int i = 0; i < 4; i++) {
        out[2 * i] = r[i] == 0 ? '0' : r[i] == LK_EDENIED ? 'D' : r[i] == LK_ENOTFOUND ? 'N' : '?';
        out[2 * i + 1] = i < 3 ? ' ' : '\0';
        if (msgs != NULL)
            msgs[i] = strdup(err[i].msg);
    }
}

static void prepare(struct world *v) {
    must_write(v, "acme", "base", READ_SECRETS);
    must_write(v, "acme", "gone", READ_SECRETS);
}

static void expect_ops(struct world *v, const struct principal *p, const char *who, const char *want) {
    char got[8];
    prepare(v);
    ops(v, p, got, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("%s: write read list delete = \"%s\", expected \"%s\"", who, got, want);
}

static void test_authorization_matrix(void **state) {
    struct world *v = *state;
    struct principal p;

    as_user(v, &v->w->acme, &v->w->alice, UNNARROWED, &p);
    expect_ops(v, &p, "acme's admin", "0 0 0 0");
    principal_done(&p);

    as_user(v, &v->w->acme, &v->w->bob, UNNARROWED, &p);
    expect_ops(v, &p, "acme's member", "D 0 0 D");
    principal_done(&p);

    as_user(v, &v->globex, &v->gina, UNNARROWED, &p);
    expect_ops(v, &p, "globex's admin", "N N N N");
    principal_done(&p);

    expect_ops(v, &v->w->fx->root, "the partner admin", "0 0 0 0");

    /* the admin's token narrowed to roles.view reads and lists only */
    as_user(v, &v->w->acme, &v->w->alice, "[\"roles.view\"]", &p);
    expect_ops(v, &p, "acme's admin through a roles.view token", "D 0 0 D");
    principal_done(&p);

    /* ... and to nothing of roles, none of it */
    as_user(v, &v->w->acme, &v->w->alice, "[\"users.view\"]", &p);
    expect_ops(v, &p, "acme's admin through a users.view token", "D D D D");
    principal_done(&p);
}

static void test_denials_name_the_permission(void **state) {
    struct world *v = *state;
    struct principal p;
    struct lk_error err = {0};
    as_user(v, &v->w->acme, &v->w->bob, UNNARROWED, &p);
    assert_error_with(put_policy(v, &p, "acme", "web", READ_SECRETS, &err), &err, LK_EDENIED, "roles.manage");
    principal_done(&p);
}

/* Another org's answers are exactly those of an org that does not exist;
 * another org's policy is exactly a missing one. */
static void test_another_org_is_a_missing_one(void **state) {
    struct world *v = *state;
    struct principal gina;
    char *seen[4], *missing[4];
    char got[8], want[8];
    as_user(v, &v->globex, &v->gina, UNNARROWED, &gina);
    prepare(v);
    ops(v, &gina, got, seen);
    /* the same calls on an org nobody has, with its name in the messages */
    struct lk_error err = {0};
    struct vault_policy_rec rec = {0};
    struct name_list nl = {0};
    int r[4] = {
        put_policy(v, &gina, "nosuch", "web", READ_SECRETS, &err),
        0,
        0,
        0,
    };
    missing[0] = strdup(err.msg);
    r[1] = vault_policies_read(S(v), &gina, "nosuch", "base", &rec, &err);
    missing[1] = strdup(err.msg);
    r[2] = vault_policies_list(S(v), &gina, "nosuch", &nl, &err);
    missing[2] = strdup(err.msg);
    r[3] = vault_policies_delete(S(v), &gina, "nosuch", "gone", &err);
    missing[3] = strdup(err.msg);
    for (int i = 0; i < 4; i++) {
        want[2 * i] = r[i] == LK_ENOTFOUND ? 'N' : '?';
        want[2 * i + 1] = i < 3 ? ' ' : '\0';
        char expect[256];
        snprintf(expect, sizeof(expect), "%s", missing[i]);
        char *at = strstr(expect, "nosuch");
        assert_non_null(at);
        char fixed[256];
        snprintf(fixed, sizeof(fixed), "%.*sacme%s", (int)(at - expect), expect, at + 6);
        if (strcmp(seen[i], fixed) != 0)
            fail_msg("op %d: \"%s\" for acme, \"%s\" for an org that does not exist", i, seen[i], missing[i]);
        free(seen[i]);
        free(missing[i]);
    }
    assert_string_equal(got, want);

    /* globex's own "web" is not acme's */
    must_write(v, "globex", "web", READ_SECRETS);
    struct principal alice;
    as_user(v, &v->w->acme, &v->w->alice, UNNARROWED, &alice);
    struct lk_error e1 = {0}, e2 = {0};
    int r1 = vault_policies_read(S(v), &alice, "acme", "web", &rec, &e1);
    int r2 = vault_policies_read(S(v), &alice, "acme", "never", &rec, &e2);
    assert_i64_eq(r1, LK_ENOTFOUND);
    assert_i64_eq(r2, LK_ENOTFOUND);
    assert_string_equal(e1.msg, "no policy web in organisation acme");
    assert_string_equal(e2.msg, "no policy never in organisation acme");
    principal_done(&alice);
    principal_done(&gina);
}

static void test_names_are_lowercased_and_checked(void **state) {
    struct world *v = *state;
    const struct principal *root = &v->w->fx->root;
    struct lk_error err = {0};
    struct vault_policy_rec rec = {0};

    assert_i64_eq(put_policy(v, root, "acme", "Web-App_1.x", READ_SECRETS, &err), 0);
    assert_i64_eq(vault_policies_read(S(v), root, "acme", "WEB-APP_1.X", &rec, &err), 0);
    assert_string_equal(rec.name, "web-app_1.x");
    assert_string_equal(rec.text, READ_SECRETS);
    assert_string_equal(rec.updated_by, "root:root");
    assert_i64_eq(rec.created_at, FX_NOW);
    vault_policy_rec_done(&rec);

    static const char *const bad[] = {"",
                                      "a b",
                                      "-web",
                                      ".web",
                                      "_web",
                                      "web/x",
                                      "caf\xc3\xa9",
                                      "semi;colon",
                                      "q\"uote",
                                      "tab\tx",
                                      "a123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        int r = put_policy(v, root, "acme", bad[i], READ_SECRETS, &err);
        if (r != LK_EINVAL || strstr(err.msg, "name: 1 to 63 characters of letters, digits") == NULL)
            fail_msg("name \"%s\": %d %s", bad[i], r, err.msg);
    }
    /* 63 is fine */
    assert_i64_eq(put_policy(v, root, "acme", "a12345678901234567890123456789012345678901234567890123456789012",
                             READ_SECRETS, &err),
                  0);
    /* a name that cannot exist reads as a missing one */
    assert_error_with(vault_policies_read(S(v), root, "acme", "a b", &rec, &err), &err, LK_ENOTFOUND, "no policy");
}

static void test_texts_are_parsed_before_storing(void **state) {
    struct world *v = *state;
    const struct principal *root = &v->w->fx->root;
    struct lk_error err = {0};
    struct vault_policy_rec rec = {0};

    assert_error_with(put_policy(v, root, "acme", "bad", "path \"a\" {\n  allowed_parameters = {}\n}", &err), &err,
                      LK_EINVAL,
                      "failed to parse policy: line 2, column 3: expected 'capabilities' or '}', found "
                      "'allowed_parameters'");
    assert_error_with(put_policy(v, root, "acme", "bad", "path \"a\" { capabilities = [\"write\"] }", &err), &err,
                      LK_EINVAL, "failed to parse policy: line 1, column 28: expected a capability");
    assert_error_with(put_policy(v, root, "acme", "bad", "", &err), &err, LK_EINVAL,
                      "'policy' parameter not supplied or empty");
    assert_error_with(vault_policies_read(S(v), root, "acme", "bad", &rec, &err), &err, LK_ENOTFOUND,
                      "no policy bad in organisation acme");

    /* comments only: a policy that grants nothing, as in Vault */
    assert_i64_eq(put_policy(v, root, "acme", "nothing", "# nothing yet\n", &err), 0);
}

static void test_builtins(void **state) {
    struct world *v = *state;
    const struct principal *root = &v->w->fx->root;
    struct lk_error err = {0};
    struct vault_policy_rec rec = {0};
    struct name_list nl = {0};

    /* listed always, "root" last */
    assert_i64_eq(vault_policies_list(S(v), root, "acme", &nl, &err), 0);
    assert_i64_eq(nl.count, 2);
    assert_string_equal(nl.items[0], "default");
    assert_string_equal(nl.items[1], "root");
    name_list_done(&nl);

    must_write(v, "acme", "zeta", READ_SECRETS);
    must_write(v, "acme", "alpha", READ_SECRETS);
    assert_i64_eq(vault_policies_list(S(v), root, "acme", &nl, &err), 0);
    assert_i64_eq(nl.count, 4);
    assert_string_equal(nl.items[0], "alpha");
    assert_string_equal(nl.items[1], "default");
    assert_string_equal(nl.items[2], "zeta");
    assert_string_equal(nl.items[3], "root");
    name_list_done(&nl);

    /* read as Vault answers them */
    assert_i64_eq(vault_policies_read(S(v), root, "acme", "default", &rec, &err), 0);
    assert_string_equal(rec.text, vault_acl_default_text());
    vault_policy_rec_done(&rec);
    assert_i64_eq(vault_policies_read(S(v), root, "acme", "ROOT", &rec, &err), 0);
    assert_string_equal(rec.name, "root");
    assert_string_equal(rec.text, "");
    vault_policy_rec_done(&rec);

    /* root is never written; neither is deleted */
    assert_error_with(put_policy(v, root, "acme", "Root", READ_SECRETS, &err), &err, LK_EINVAL,
                      "cannot update \"root\" policy");
    assert_error_with(vault_policies_delete(S(v), root, "acme", "root", &err), &err, LK_EINVAL,
                      "cannot delete \"root\" policy");
    assert_error_with(vault_policies_delete(S(v), root, "acme", "default", &err), &err, LK_EINVAL,
                      "cannot delete \"default\" policy");

    /* default may be overridden per org, and is then listed once */
    must_write(v, "acme", "default", READ_SECRETS);
    assert_i64_eq(vault_policies_read(S(v), root, "acme", "default", &rec, &err), 0);
    assert_string_equal(rec.text, READ_SECRETS);
    vault_policy_rec_done(&rec);
    assert_i64_eq(vault_policies_list(S(v), root, "acme", &nl, &err), 0);
    assert_i64_eq(nl.count, 4);
    assert_string_equal(nl.items[1], "default");
    name_list_done(&nl);
    assert_i64_eq(vault_policies_read(S(v), root, "globex", "default", &rec, &err), 0);
    assert_string_equal(rec.text, vault_acl_default_text());
    vault_policy_rec_done(&rec);

    /* deleting a custom one, then again */
    assert_i64_eq(vault_policies_delete(S(v), root, "acme", "ZETA", &err), 0);
    assert_error_with(vault_policies_delete(S(v), root, "acme", "zeta", &err), &err, LK_ENOTFOUND,
                      "no policy zeta in organisation acme");
}

static void test_acl_sets(void **state) {
    struct world *v = *state;
    struct lk_error err = {0};
    struct vault_acl_set *set = NULL;
    must_write(v, "acme", "web", READ_SECRETS);
    must_write(v, "acme", "deny-private", "path \"secret/private/*\" { capabilities = [\"deny\"] }");
    must_write(v, "globex", "ops", "path \"secret/*\" { capabilities = [\"update\"] }");

    /* named policies, the built-in default, a missing name skipped, case ignored */
    const char *names[] = {"Web", "default", "missing", "bad name", "ops"};
    assert_i64_eq(vault_policies_acl(S(v), v->w->acme.id, names, 5, &set, &err), 0);
    assert_i64_eq(vault_acl_capabilities(set, "secret/foo"), VAULT_CAP_READ | VAULT_CAP_LIST);
    assert_i64_eq(vault_acl_capabilities(set, "auth/token/lookup-self"), VAULT_CAP_READ);
    assert_i64_eq(vault_acl_capabilities(set, "sys/seal"), 0);
    assert_false(vault_acl_set_is_root(set));
    vault_acl_set_free(set);

    /* merged with a deny */
    const char *names2[] = {"web", "deny-private", "web"};
    assert_i64_eq(vault_policies_acl(S(v), v->w->acme.id, names2, 3, &set, &err), 0);
    assert_i64_eq(vault_acl_capabilities(set, "secret/private/x"), 0);
    assert_i64_eq(vault_acl_capabilities(set, "secret/x"), VAULT_CAP_READ | VAULT_CAP_LIST);
    assert_i64_eq(vault_acl_capabilities(set, "auth/token/lookup-self"), 0); /* default not named */
    vault_acl_set_free(set);

    /* an org's own default replaces the built-in */
    must_write(v, "acme", "default", "path \"secret/mine\" { capabilities = [\"read\"] }");
    const char *names3[] = {"default"};
    assert_i64_eq(vault_policies_acl(S(v), v->w->acme.id, names3, 1, &set, &err), 0);
    assert_i64_eq(vault_acl_capabilities(set, "secret/mine"), VAULT_CAP_READ);
    assert_i64_eq(vault_acl_capabilities(set, "auth/token/lookup-self"), 0);
    vault_acl_set_free(set);
    assert_i64_eq(vault_policies_acl(S(v), v->globex.id, names3, 1, &set, &err), 0);
    assert_i64_eq(vault_acl_capabilities(set, "auth/token/lookup-self"), VAULT_CAP_READ);
    vault_acl_set_free(set);

    /* root */
    const char *names4[] = {"root"};
    assert_i64_eq(vault_policies_acl(S(v), v->w->acme.id, names4, 1, &set, &err), 0);
    assert_true(vault_acl_set_is_root(set));
    assert_i64_eq(vault_acl_capabilities(set, "sys/seal"), VAULT_CAP_ALL);
    vault_acl_set_free(set);

    /* nothing named: nothing granted */
    assert_i64_eq(vault_policies_acl(S(v), v->w->acme.id, NULL, 0, &set, &err), 0);
    assert_i64_eq(vault_acl_capabilities(set, "secret/foo"), 0);
    vault_acl_set_free(set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_authorization_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_denials_name_the_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_org_is_a_missing_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_are_lowercased_and_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_texts_are_parsed_before_storing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_sets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
