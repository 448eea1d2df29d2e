/*
 * test_vault_tokens.c - the Vault door's token rules (svc/vault_tokens.c)
 * against a real store: children within their parent (policies, expiry),
 * limited-use tokens, renewal caps and the notices of a renewed token,
 * subtree revocation, the door's Vault-policy check, and a spent token's
 * revocation.
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
#include "svc/token_cache.h"
#include "svc/tokens.h"
#include "core/vault_acl.h"
#include "svc/vault_policies.h"
#include "svc/vault_tokens.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define HOUR INT64_C(3600)
#define SESSION "lk_sess_000000000001"

/* A principal for the stored token id of user u, flagged as the token
 * loader flags it (auth.c). Release with principal_done(). */
static void as_token(struct fx_acme *w, const struct user_rec *u, const char *id, struct principal *p) {
    struct token_rec t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(store_token_get(w->fx->svc.store, id, &t), 0);
    fx_user_principal(w->fx, &w->acme, u, id, "[\"*\"]", t.expires_at, p);
    token_rec_done(&t);
    struct vault_token_rec vt;
    memset(&vt, 0, sizeof(vt));
    if (store_vault_token_get(w->fx->svc.store, id, &vt) == 0)
        token_entry_set_vault(p->token, vt.num_uses > 0, vt.acl);
    vault_token_rec_done(&vt);
}

/* A native API token of u (made from a login session), its id into id. */
static void native_token(struct fx_acme *w, const struct user_rec *u, const char *expires,
                         char id[TOKFMT_PUBID_BUFSZ]) {
    struct principal sess;
    fx_user_principal(w->fx, &w->acme, u, SESSION, "[\"*\"]", 0, &sess);
    struct token_create_in in;
    memset(&in, 0, sizeof(in));
    in.expiry.expires = expires;
    in.expiry.expires_len = expires != NULL ? strlen(expires) : 0;
    struct token_created c;
    struct lk_error err = {0};
    assert_int_equal(tokens_create(&w->fx->svc, &sess, &in, &c, &err), 0);
    memcpy(id, c.rec.id, TOKFMT_PUBID_BUFSZ);
    tokens_created_done(&c);
    principal_done(&sess);
}

static struct vault_token_create_in vin(void) {
    struct vault_token_create_in in;
    memset(&in, 0, sizeof(in));
    in.renewable = 1;
    return in;
}

/* A child of p, which must be made; its id into id. */
static void child_ok(struct fx_acme *w, const struct principal *p, const struct vault_token_create_in *in,
                     char id[TOKFMT_PUBID_BUFSZ]) {
    struct vault_token_view v;
    struct lk_error err = {0};
    int r = vault_tokens_create(&w->fx->svc, p, in, &v, &err);
    if (r != 0)
        fail_msg("vault_tokens_create: %d %s", r, lk_error_message(&err));
    memcpy(id, v.tok.id, TOKFMT_PUBID_BUFSZ);
    vault_token_view_done(&v);
}

static int exists(struct fx_acme *w, const char *id) {
    struct token_rec t;
    memset(&t, 0, sizeof(t));
    int r = store_token_get(w->fx->svc.store, id, &t);
    token_rec_done(&t);
    return r == 0;
}

static void test_children_stay_within_their_parent(void **state) {
    struct fx_acme *w = *state;
    char parent[TOKFMT_PUBID_BUFSZ], kid[TOKFMT_PUBID_BUFSZ];
    native_token(w, &w->bob, "PT2H", parent);
    struct principal p, k;
    as_token(w, &w->bob, parent, &p);
    struct vault_token_create_in in = vin();
    static const char *const p1[] = {"P1"};
    in.has_policies = 1;
    in.policies = p1;
    in.npolicies = 1;
    in.ttl = 24 * HOUR;
    struct vault_token_view v;
    struct lk_error err = {0};
    assert_int_equal(vault_tokens_create(&w->fx->svc, &p, &in, &v, &err), 0);
    /* Never past the API token that made it; "default" added, names lowered. */
    assert_int_equal(v.tok.expires_at, FX_NOW + 2 * HOUR);
    assert_int_equal(v.vt.npolicies, 2);
    assert_string_equal(v.vt.policies[0], "default");
    assert_string_equal(v.vt.policies[1], "p1");
    assert_string_equal(v.vt.parent_id, parent);
    assert_int_equal(v.nwarnings, 1);
    assert_string_equal(v.warnings[0], "Policy \"p1\" does not exist");
    memcpy(kid, v.tok.id, sizeof(kid));
    vault_token_view_done(&v);

    as_token(w, &w->bob, kid, &k);
    static const char *const p2[] = {"p2"};
    in.policies = p2;
    assert_error_with(vault_tokens_create(&w->fx->svc, &k, &in, &v, &err), &err, LK_EINVAL,
                      "child policies must be subset of parent");
    in.has_policies = 0;
    in.period = HOUR;
    assert_error_with(vault_tokens_create(&w->fx->svc, &k, &in, &v, &err), &err, LK_EINVAL,
                      "root or sudo privileges required to create periodic token");
    in.period = 0;
    in.no_parent = 1;
    assert_error_with(vault_tokens_create(&w->fx->svc, &k, &in, &v, &err), &err, LK_EINVAL,
                      "root or sudo privileges required to create orphan token");
    principal_done(&k);
    principal_done(&p);
}

static void test_a_limited_use_token_makes_no_children_and_is_spent(void **state) {
    struct fx_acme *w = *state;
    char parent[TOKFMT_PUBID_BUFSZ], kid[TOKFMT_PUBID_BUFSZ];
    native_token(w, &w->bob, NULL, parent);
    struct principal p, k;
    as_token(w, &w->bob, parent, &p);
    struct vault_token_create_in in = vin();
    in.num_uses = 1;
    child_ok(w, &p, &in, kid);
    as_token(w, &w->bob, kid, &k);
    assert_true(k.token->vault_limited);
    struct vault_token_view v;
    struct lk_error err = {0};
    in.num_uses = 0;
    assert_error_with(vault_tokens_create(&w->fx->svc, &k, &in, &v, &err), &err, LK_EINVAL,
                      "restricted use token cannot generate child tokens");
    int64_t left = -1;
    assert_int_equal(store_vault_token_use(w->fx->svc.store, kid, &left), 0);
    assert_int_equal(left, 0);
    k.token_spent = 1;
    assert_int_equal(vault_tokens_spent(&w->fx->svc, &k), 0);
    assert_false(exists(w, kid));
    assert_true(exists(w, parent));
    principal_done(&k);
    principal_done(&p);
}

static void test_renewal_is_capped_and_reschedules_notices(void **state) {
    struct fx_acme *w = *state;
    char parent[TOKFMT_PUBID_BUFSZ], kid[TOKFMT_PUBID_BUFSZ];
    native_token(w, &w->bob, NULL, parent);
    struct principal p, k;
    as_token(w, &w->bob, parent, &p);
    struct vault_token_create_in in = vin();
    in.ttl = HOUR;
    in.explicit_max_ttl = 3 * HOUR;
    child_ok(w, &p, &in, kid);
    /* A notice announcing the current expiry. */
    struct notice_rec n;
    memset(&n, 0, sizeof(n));
    snprintf(n.id, sizeof(n.id), "ntc_test1");
    snprintf(n.token_id, sizeof(n.token_id), "%s", kid);
    snprintf(n.org_id, sizeof(n.org_id), "%s", w->acme.id);
    snprintf(n.owner_type, sizeof(n.owner_type), "user");
    snprintf(n.owner_id, sizeof(n.owner_id), "%s", w->bob.id);
    snprintf(n.channel, sizeof(n.channel), "webhook");
    snprintf(n.status, sizeof(n.status), "pending");
    n.days_before = 1;
    n.expires_at = FX_NOW + HOUR;
    n.next_attempt_at = n.created_at = n.updated_at = FX_NOW;
    assert_int_equal(store_notice_insert(w->fx->svc.store, &n, NULL), 0);

    as_token(w, &w->bob, kid, &k);
    w->fx->svc.now = FX_NOW + HOUR / 2;
    struct vault_token_view v;
    struct lk_error err = {0};
    assert_int_equal(vault_tokens_renew(&w->fx->svc, &k, VAULT_TARGET_SELF, NULL, "x", 10 * HOUR, &v, &err), 0);
    assert_int_equal(v.tok.expires_at, FX_NOW + 3 * HOUR);
    assert_int_equal(v.nwarnings, 1);
    assert_non_null(strstr(v.warnings[0], "TTL of \"10h0m0s\" exceeded the effective max_ttl of \"2h30m0s\""));
    vault_token_view_done(&v);
    struct notice_list l = {0};
    assert_int_equal(store_notice_list(w->fx->svc.store, NULL, NULL, 0, 100, &l), 0);
    assert_int_equal(l.count, 0); /* forgotten: the passes schedule the new expiry's */
    notice_list_done(&l);
    /* A native token is not renewable. */
    assert_error_with(vault_tokens_renew(&w->fx->svc, &p, VAULT_TARGET_SELF, NULL, "x", HOUR, &v, &err), &err,
                      LK_EINVAL, "lease is not renewable");
    w->fx->svc.now = FX_NOW;
    principal_done(&k);
    principal_done(&p);
}

static void test_revoking_takes_the_subtree_and_nobody_elses(void **state) {
    struct fx_acme *w = *state;
    char top[TOKFMT_PUBID_BUFSZ], a[TOKFMT_PUBID_BUFSZ], b[TOKFMT_PUBID_BUFSZ], other[TOKFMT_PUBID_BUFSZ];
    native_token(w, &w->bob, NULL, top);
    native_token(w, &w->carol, NULL, other);
    struct principal p, pa, c;
    as_token(w, &w->bob, top, &p);
    struct vault_token_create_in in = vin();
    child_ok(w, &p, &in, a);
    as_token(w, &w->bob, a, &pa);
    child_ok(w, &pa, &in, b);
    /* carol cannot revoke bob's token by accessor: as if unknown. */
    as_token(w, &w->carol, other, &c);
    struct lk_error err = {0};
    assert_error_with(vault_tokens_revoke(&w->fx->svc, &c, VAULT_TARGET_ACCESSOR, a, 0, &err), &err, LK_EINVAL,
                      "invalid accessor");
    assert_true(exists(w, a));
    /* Revoking a takes b; top stays. */
    assert_int_equal(vault_tokens_revoke(&w->fx->svc, &p, VAULT_TARGET_ACCESSOR, a, 0, &err), 0);
    assert_false(exists(w, a));
    assert_false(exists(w, b));
    assert_true(exists(w, top));
    principal_done(&c);
    principal_done(&pa);
    principal_done(&p);
}

static void test_vault_policies_hold_on_door_paths(void **state) {
    struct fx_acme *w = *state;
    char top[TOKFMT_PUBID_BUFSZ], named[TOKFMT_PUBID_BUFSZ], inherited[TOKFMT_PUBID_BUFSZ];
    native_token(w, &w->bob, NULL, top);
    struct principal p, n, i;
    as_token(w, &w->bob, top, &p);
    struct vault_token_create_in in = vin();
    child_ok(w, &p, &in, inherited);
    static const char *const p1[] = {"p1"};
    in.has_policies = 1;
    in.policies = p1;
    in.npolicies = 1;
    child_ok(w, &p, &in, named);
    as_token(w, &w->bob, named, &n);
    as_token(w, &w->bob, inherited, &i);
    struct lk_error err = {0};
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &p, "secret/a", VAULT_CAP_READ, &err), 0);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &i, "secret/a", VAULT_CAP_READ, &err), 0);
    assert_error_with(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a", VAULT_CAP_READ, &err), &err, LK_EDENIED,
                      "permission denied");
    /* Once acme writes p1, the child holds what it grants, merged with
     * "default", and nothing more; a deny in it wins. */
    struct principal admin;
    fx_user_principal(w->fx, &w->acme, &w->alice, SESSION, "[\"*\"]", 0, &admin);
    static const char text[] = "path \"secret/a/*\" { capabilities = [\"read\", \"list\"] }\n"
                               "path \"secret/a/hidden\" { capabilities = [\"deny\"] }\n";
    assert_int_equal(vault_policies_write(&w->fx->svc, &admin, "acme", "p1", text, strlen(text), &err), 0);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a/x", VAULT_CAP_READ, &err), 0);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a/", VAULT_CAP_LIST, &err), 0);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a/x", VAULT_CAP_UPDATE, &err), LK_EDENIED);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a/x", VAULT_CAP_CREATE, &err), LK_EDENIED);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/a/hidden", VAULT_CAP_READ, &err), LK_EDENIED);
    assert_int_equal(vault_tokens_acl_check(&w->fx->svc, &n, "secret/b", VAULT_CAP_READ, &err), LK_EDENIED);
    principal_done(&admin);
    principal_done(&i);
    principal_done(&n);
    principal_done(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_children_stay_within_their_parent, fx_acme_setup, fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_a_limited_use_token_makes_no_children_and_is_spent, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_renewal_is_capped_and_reschedules_notices, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_revoking_takes_the_subtree_and_nobody_elses, fx_acme_setup,
                                        fx_acme_teardown),
        cmocka_unit_test_setup_teardown(test_vault_policies_hold_on_door_paths, fx_acme_setup, fx_acme_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
