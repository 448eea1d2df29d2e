/*
 * test_oidc.c - the identity-token keys of svc/oidc.h over a real store and
 * seal: the rotation schedule (first key at once, the next published ahead
 * of its turn, none due in between), the overlap (a new key is published
 * before it signs; the old one signs until then and stays published until
 * every token it signed has expired, then is deleted), a manual rotation
 * signs at once, and while sealed there are no keys at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/jwt.h"
#include "store/store.h"
#include "svc/oidc.h"
#include "svc/seal.h"
#include "svc_fixture.h"

#define WEEK (7 * 86400)

struct world {
    struct svc_fixture *fx;
    struct seal *seal;
    struct oidc *oidc;
    char text[3][SEAL_SHARE_TEXT_MAX];
};

static void unseal_all(struct world *w) {
    struct seal_status st;
    struct lk_error err = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(seal_unseal(w->seal, w->fx->svc.store, w->text[i], &st, &err), 0);
    assert_false(st.sealed);
}

static int setup(void **state) {
    if (svc_fixture_setup(state) != 0)
        return -1;
    struct world *w = calloc(1, sizeof(*w));
    w->fx = *state;
    uint8_t shares[3][SEAL_SHARE_LEN];
    struct lk_error err = {0};
    if (seal_new(w->fx->svc.store, &w->seal) != 0 ||
        seal_init(w->seal, w->fx->svc.store, 3, 3, FX_NOW, shares, &err) != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        char b64[SEAL_SHARE_TEXT_MAX];
        seal_share_format(shares[i], w->text[i], b64);
    }
    struct oidc_config cfg = {.rotation_s = WEEK};
    snprintf(cfg.trust_domain, sizeof(cfg.trust_domain), "example.org");
    if (oidc_new(&cfg, w->seal, &w->oidc) != 0)
        return -1;
    *state = w;
    return 0;
}

static int teardown(void **state) {
    struct world *w = *state;
    oidc_free(w->oidc);
    seal_free(w->seal);
    void *fx = w->fx;
    free(w);
    return svc_fixture_teardown(&fx);
}

/* The kid the set signs with at now ("" when none) and how many keys it publishes. */
static size_t current(struct world *w, int64_t now, char kid[JWT_KID_MAX + 1]) {
    struct oidc_keys *k = NULL;
    assert_int_equal(oidc_keys_get(w->oidc, w->fx->svc.store, now, &k), 0);
    const struct jwt_key *s = oidc_keys_signer(k);
    snprintf(kid, JWT_KID_MAX + 1, "%s", s != NULL ? jwt_key_kid(s) : "");
    size_t n = jwt_keyset_count(oidc_keys_verify_set(k));
    oidc_keys_unref(k);
    return n;
}

static size_t stored(struct world *w) {
    struct oidc_key_list l = {0};
    assert_int_equal(store_oidc_key_list(w->fx->svc.store, &l), 0);
    size_t n = l.count;
    oidc_key_list_done(&l);
    return n;
}

static void test_rotation_due_rules(void **state) {
    (void)state;
    int64_t pub, sign;
    /* No key: one signing at once. */
    assert_int_equal(oidc_rotation_due(NULL, 0, 1000, WEEK, &pub, &sign), 1);
    assert_int_equal(pub, 1000);
    assert_int_equal(sign, 1000);
    struct oidc_key_rec k = {.sign_from = 1000, .publish_from = 1000};
    /* Not due until an hour before the period ends. */
    assert_int_equal(oidc_rotation_due(&k, 1, 1000 + WEEK - OIDC_PUBLISH_AHEAD - 1, WEEK, &pub, &sign), 0);
    assert_int_equal(oidc_rotation_due(&k, 1, 1000 + WEEK - OIDC_PUBLISH_AHEAD, WEEK, &pub, &sign), 1);
    assert_int_equal(sign, 1000 + WEEK);
    assert_true(sign - pub == OIDC_PUBLISH_AHEAD);
    /* Long overdue (the server was down): the new key still waits its hour. */
    assert_int_equal(oidc_rotation_due(&k, 1, 1000 + 3 * WEEK, WEEK, &pub, &sign), 1);
    assert_int_equal(sign, 1000 + 3 * WEEK + OIDC_PUBLISH_AHEAD);
    /* A superseded key does not count: only keys not yet retired do. */
    k.retire_after = 5000;
    assert_int_equal(oidc_rotation_due(&k, 1, 2000, WEEK, &pub, &sign), 1);
    assert_int_equal(sign, 2000);
}

static void test_sealed_means_no_keys(void **state) {
    struct world *w = *state;
    struct oidc_keys *k = NULL;
    assert_int_equal(oidc_keys_get(w->oidc, w->fx->svc.store, FX_NOW, &k), LK_ESEALED);
    assert_null(k);
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, FX_NOW), 0);
    assert_int_equal(stored(w), 0); /* nothing made while sealed */
    unseal_all(w);
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, FX_NOW), 0);
    char kid[JWT_KID_MAX + 1];
    assert_int_equal(current(w, FX_NOW, kid), 1);
    assert_true(kid[0] != '\0');
    /* Sealing drops the set: nothing is answered until unsealed again. */
    seal_seal(w->seal, w->fx->svc.store);
    oidc_forget(w->oidc);
    assert_int_equal(oidc_keys_get(w->oidc, w->fx->svc.store, FX_NOW, &k), LK_ESEALED);
    unseal_all(w);
    char again[JWT_KID_MAX + 1];
    current(w, FX_NOW + 1, again);
    assert_string_equal(kid, again); /* the same key, opened from the store */
}

static void test_scheduled_rotation_overlaps_and_retires(void **state) {
    struct world *w = *state;
    unseal_all(w);
    int64_t t0 = FX_NOW;
    char first[JWT_KID_MAX + 1], kid[JWT_KID_MAX + 1];
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, t0), 0);
    assert_int_equal(current(w, t0, first), 1);
    /* Nothing due mid-period. */
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, t0 + WEEK / 2), 0);
    assert_int_equal(stored(w), 1);
    /* An hour before the period ends the next key appears, published, not signing. */
    int64_t t1 = t0 + WEEK - OIDC_PUBLISH_AHEAD;
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, t1), 0);
    assert_int_equal(stored(w), 2);
    assert_int_equal(current(w, t1 + 1, kid), 2);
    assert_string_equal(kid, first);
    /* At its turn it signs; the old one is still published. */
    char second[JWT_KID_MAX + 1];
    assert_int_equal(current(w, t0 + WEEK, second), 2);
    assert_string_not_equal(second, first);
    /* Until every token the old one signed has expired. */
    int64_t gone = t0 + WEEK + OIDC_TTL_MAX + OIDC_LEEWAY + OIDC_REFRESH;
    assert_int_equal(current(w, gone - 1, kid), 2);
    assert_int_equal(current(w, gone, kid), 1);
    assert_string_equal(kid, second);
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, gone), 0);
    assert_int_equal(stored(w), 1); /* deleted from the store too */
}

static void test_manual_rotation_signs_at_once(void **state) {
    struct world *w = *state;
    unseal_all(w);
    int64_t t0 = FX_NOW;
    char first[JWT_KID_MAX + 1], made[JWT_KID_MAX + 1], kid[JWT_KID_MAX + 1];
    struct lk_error err = {0};
    assert_int_equal(oidc_tick(w->oidc, w->fx->svc.store, t0), 0);
    current(w, t0, first);
    assert_int_equal(oidc_key_create(w->oidc, w->fx->svc.store, t0 + 10, t0 + 10, made, &err), 0);
    assert_int_equal(current(w, t0 + 10, kid), 2);
    assert_string_equal(kid, made);
    assert_string_not_equal(kid, first);
    /* A key published ahead that never signed is retired at once by a
     * manual rotation. */
    assert_int_equal(oidc_key_create(w->oidc, w->fx->svc.store, t0 + 20, t0 + 3600, NULL, &err), 0);
    assert_int_equal(oidc_key_create(w->oidc, w->fx->svc.store, t0 + 30, t0 + 30, made, &err), 0);
    assert_int_equal(current(w, t0 + 31, kid), 3);
    assert_string_equal(kid, made);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_due_rules),
        cmocka_unit_test_setup_teardown(test_sealed_means_no_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduled_rotation_overlaps_and_retires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_rotation_signs_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
