/*
 * test_seal.c - the seal's rules over a real store: every T-subset of the
 * shares unseals and fewer never do; shares from another init never
 * unseal and the progress starts over; the barrier answers LK_ESEALED
 * while sealed and LK_EINTEGRITY for a value moved to another row;
 * rotation keeps old values readable; rekey retires the old shares; the
 * audit checkpoint key is made once, opened again at every unseal, gone
 * while sealed and never replaced; and threads encrypting, decrypting and
 * MACing while another seals and unseals only ever see a right answer or
 * LK_ESEALED (run under ThreadSanitizer by make test-tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/secret.h"
#include "svc/seal.h"
#include "svc_fixture.h"

struct world {
    struct svc_fixture *fx;
    struct seal *seal;
    uint8_t shares[5][SEAL_SHARE_LEN];
    char text[5][SEAL_SHARE_TEXT_MAX];
};

static int setup(void **state) {
    int r = svc_fixture_setup(state);
    if (r != 0)
        return r;
    struct world *w = calloc(1, sizeof(*w));
    w->fx = *state;
    struct lk_error err = {0};
    if (seal_new(w->fx->svc.store, &w->seal) != 0 ||
        seal_init(w->seal, w->fx->svc.store, 5, 3, FX_NOW, w->shares, &err) != 0)
        return -1;
    for (int i = 0; i < 5; i++) {
        char b64[SEAL_SHARE_TEXT_MAX];
        seal_share_format(w->shares[i], w->text[i], b64);
    }
    *state = w;
    return 0;
}

static int teardown(void **state) {
    struct world *w = *state;
    seal_free(w->seal);
    void *fx = w->fx;
    free(w);
    return svc_fixture_teardown(&fx);
}

static int give(struct world *w, const char *text, struct seal_status *st) {
    struct lk_error err = {0};
    return seal_unseal(w->seal, w->fx->svc.store, text, st, &err);
}

static void test_every_three_of_five_unseal_and_two_never_do(void **state) {
    struct world *w = *state;
    struct seal_status st;
    seal_status(w->seal, &st);
    assert_true(st.initialized && st.sealed);
    assert_int_equal(st.t, 3);
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++) {
            assert_int_equal(give(w, w->text[a], &st), 0);
            assert_int_equal(give(w, w->text[b], &st), 0);
            assert_true(st.sealed);
            assert_int_equal(st.progress, 2);
            seal_reset(w->seal);
            for (int c = b + 1; c < 5; c++) {
                assert_int_equal(give(w, w->text[a], &st), 0);
                assert_int_equal(give(w, w->text[b], &st), 0);
                assert_int_equal(give(w, w->text[c], &st), 0);
                assert_false(st.sealed);
                seal_seal(w->seal, w->fx->svc.store);
            }
        }
}

static void test_shares_of_another_init_start_the_progress_over(void **state) {
    struct world *w = *state;
    uint8_t other[5][SEAL_SHARE_LEN];
    struct seal *second = NULL;
    struct svc_fixture *fx2 = NULL;
    void *st2 = NULL;
    assert_int_equal(svc_fixture_setup(&st2), 0);
    fx2 = st2;
    struct lk_error err = {0};
    assert_int_equal(seal_new(fx2->svc.store, &second), 0);
    assert_int_equal(seal_init(second, fx2->svc.store, 5, 3, FX_NOW, other, &err), 0);
    char hex[SEAL_SHARE_TEXT_MAX], b64[SEAL_SHARE_TEXT_MAX];
    seal_share_format(other[1], hex, b64);
    struct seal_status st;
    assert_int_equal(give(w, w->text[0], &st), 0);
    assert_int_equal(give(w, b64, &st), 0); /* base64 is taken too */
    assert_int_equal(give(w, w->text[2], &st), LK_EINVAL);
    assert_true(st.sealed);
    assert_int_equal(st.progress, 0);
    /* A malformed share and a repeated one are refused without counting. */
    assert_int_equal(give(w, "nothex", &st), LK_EINVAL);
    assert_int_equal(give(w, w->text[0], &st), 0);
    assert_int_equal(give(w, w->text[0], &st), LK_EINVAL);
    assert_int_equal(st.progress, 1);
    seal_free(second);
    svc_fixture_teardown(&st2);
}

static void unseal_all(struct world *w) {
    struct seal_status st;
    for (int i = 0; i < 3; i++)
        assert_int_equal(give(w, w->text[i], &st), 0);
    assert_false(st.sealed);
}

static void test_the_barrier_binds_values_to_their_row(void **state) {
    struct world *w = *state;
    uint8_t *env = NULL, *pt = NULL;
    size_t elen = 0, plen = 0;
    assert_int_equal(seal_encrypt(w->seal, "row-a", 5, "value", 5, &env, &elen), LK_ESEALED);
    unseal_all(w);
    assert_int_equal(seal_encrypt(w->seal, "row-a", 5, "value", 5, &env, &elen), 0);
    assert_int_equal(seal_decrypt(w->seal, "row-a", 5, env, elen, &pt, &plen), 0);
    assert_int_equal(plen, 5);
    assert_memory_equal(pt, "value", 5);
    free(pt);
    assert_int_equal(seal_decrypt(w->seal, "row-b", 5, env, elen, &pt, &plen), LK_EINTEGRITY);
    /* Rotation: new values use the new key; the old one still opens. */
    uint32_t v = 0;
    struct lk_error err = {0};
    assert_int_equal(seal_rotate(w->seal, w->fx->svc.store, FX_NOW, &v, &err), 0);
    assert_int_equal(v, 2);
    uint8_t *env2 = NULL;
    size_t elen2 = 0;
    assert_int_equal(seal_encrypt(w->seal, "row-c", 5, "later", 5, &env2, &elen2), 0);
    assert_int_equal(env2[4], 2); /* the key version, big-endian in bytes 1..4 */
    assert_int_equal(seal_decrypt(w->seal, "row-a", 5, env, elen, &pt, &plen), 0);
    free(pt);
    /* Sealed: nothing opens; unsealed again (the rotated keyring was stored): both do. */
    seal_seal(w->seal, w->fx->svc.store);
    assert_int_equal(seal_decrypt(w->seal, "row-a", 5, env, elen, &pt, &plen), LK_ESEALED);
    unseal_all(w);
    assert_int_equal(seal_decrypt(w->seal, "row-c", 5, env2, elen2, &pt, &plen), 0);
    assert_memory_equal(pt, "later", 5);
    free(pt);
    free(env);
    free(env2);
}

static void test_rekey_retires_the_old_shares(void **state) {
    struct world *w = *state;
    uint8_t fresh[2][SEAL_SHARE_LEN];
    const char *old[] = {w->text[4], w->text[1], w->text[3]};
    struct lk_error err = {0};
    assert_int_equal(seal_rekey(w->fx->svc.store, old, 2, 2, 2, fresh, &err), LK_EINVAL); /* too few */
    assert_int_equal(seal_rekey(w->fx->svc.store, old, 3, 2, 2, fresh, &err), 0);
    seal_seal(w->seal, w->fx->svc.store); /* re-reads n and t */
    struct seal_status st;
    assert_int_equal(give(w, w->text[0], &st), 0);
    assert_int_equal(st.t, 2);
    assert_int_equal(give(w, w->text[1], &st), LK_EINVAL); /* old shares no longer unseal */
    char hex[2][SEAL_SHARE_TEXT_MAX], b64[SEAL_SHARE_TEXT_MAX];
    seal_share_format(fresh[0], hex[0], b64);
    seal_share_format(fresh[1], hex[1], b64);
    assert_int_equal(give(w, hex[1], &st), 0);
    assert_int_equal(give(w, hex[0], &st), 0);
    assert_false(st.sealed);
}

/* A store initialised before the seal's keys existed: none stored. */
static void forget_stored_keys(struct world *w) {
    struct store *s = w->fx->svc.store;
    int r = store_meta_delete(s, "seal.audit_key");
    assert_true(r == 0 || r == LK_ENOTFOUND);
    assert_int_equal(store_meta_delete(s, "seal.credential_key"), 0);
    seal_seal(w->seal, s);
    unseal_all(w);
}

/* The seal's keys: stored sealed at init, one per use, each opened at the
 * unseal and gone while sealed. */
static void test_init_stores_the_seals_keys_sealed(void **state) {
    struct world *w = *state;
    struct store *s = w->fx->svc.store;
    char *ckpt = NULL, *cred = NULL;
    uint8_t a[SEAL_KEY_LEN], b[SEAL_KEY_LEN];
    assert_int_equal(store_meta_get(s, "seal.audit_key", &ckpt), 0);
    assert_int_equal(store_meta_get(s, "seal.credential_key", &cred), 0);
    assert_true(strlen(ckpt) > 2 * SEAL_KEY_LEN && strlen(cred) > 2 * SEAL_KEY_LEN); /* envelopes */
    assert_string_not_equal(ckpt, cred);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_x", 4, a), LK_ESEALED);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "lk_x", 4, a), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_x", 4, b), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    /* Each envelope is bound to its use: swapped, neither opens. */
    assert_int_equal(store_meta_set(s, "seal.audit_key", cred), 0);
    assert_int_equal(store_meta_set(s, "seal.credential_key", ckpt), 0);
    seal_seal(w->seal, s);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "lk_x", 4, a), LK_ENOTFOUND);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_x", 4, a), LK_ENOTFOUND);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CREDENTIAL, 1), LK_EINTEGRITY);
    assert_int_equal(seal_key_mac(w->seal, 7, "lk_x", 4, a), LK_EINVAL);
    free(ckpt);
    free(cred);
}

/* The credential key of a store from before the seal, kept in the clear,
 * becomes the sealed one: the same HMACs, and the clear copy is gone. A
 * clear copy that is not a key is dropped for a new one. */
static void test_the_clear_credential_key_moves_behind_the_seal(void **state) {
    struct world *w = *state;
    struct store *s = w->fx->svc.store;
    forget_stored_keys(w);
    uint8_t old[SEAL_KEY_LEN], want[SEAL_KEY_LEN], got[SEAL_KEY_LEN];
    char hex[2 * SEAL_KEY_LEN + 1], *left = NULL;
    for (size_t i = 0; i < sizeof(old); i++)
        old[i] = (uint8_t)(i * 7 + 1);
    secret_hex(old, sizeof(old), hex);
    assert_int_equal(store_meta_set(s, "audit_hmac_key", hex), 0);
    assert_int_equal(secret_hmac(old, sizeof(old), "lk_user_secret", 14, want), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_user_secret", 14, got), LK_ENOTFOUND);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CREDENTIAL, 1), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_user_secret", 14, got), 0);
    assert_memory_equal(want, got, sizeof(want));
    assert_int_equal(store_meta_get(s, "audit_hmac_key", &left), LK_ENOTFOUND);
    char *env = NULL;
    assert_int_equal(store_meta_get(s, "seal.credential_key", &env), 0);
    assert_null(strstr(env, hex));
    free(env);
    /* After a seal and unseal: opened from the store, the same key. */
    seal_seal(w->seal, s);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_user_secret", 14, got), 0);
    assert_memory_equal(want, got, sizeof(want));
    /* A damaged clear copy is not taken, and is deleted all the same. */
    forget_stored_keys(w);
    assert_int_equal(store_meta_set(s, "audit_hmac_key", "not a key"), 0);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CREDENTIAL, 1), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "lk_user_secret", 14, got), 0);
    assert_memory_not_equal(want, got, sizeof(want));
    assert_int_equal(store_meta_get(s, "audit_hmac_key", &left), LK_ENOTFOUND);
}

/* The audit checkpoint key where none is stored (a store initialised
 * before it existed): none until made, made once and stored sealed (never
 * its bytes), the same after a seal and unseal and in another process's
 * seal, gone while sealed, and never replaced when the stored one does not
 * open. */
static void test_the_audit_key_lives_and_dies_with_the_seal(void **state) {
    struct world *w = *state;
    struct store *s = w->fx->svc.store;
    uint8_t mac[SEAL_KEY_LEN], again[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, mac), LK_ESEALED);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CHECKPOINT, 1), LK_ESEALED);
    forget_stored_keys(w);
    /* No key is stored, and an unseal writes none. */
    char *stored = NULL;
    assert_int_equal(store_meta_get(s, "seal.audit_key", &stored), LK_ENOTFOUND);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, mac), LK_ENOTFOUND);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CHECKPOINT, 0), LK_ENOTFOUND);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CHECKPOINT, 1), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, mac), 0);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ac", 4, other), 0);
    assert_memory_not_equal(mac, other, sizeof(mac));
    assert_int_equal(store_meta_get(s, "seal.audit_key", &stored), 0);
    assert_true(strlen(stored) > 2 * SEAL_KEY_LEN); /* an envelope, not the key */
    /* Made once: asking again changes nothing. */
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CHECKPOINT, 1), 0);
    char *same = NULL;
    assert_int_equal(store_meta_get(s, "seal.audit_key", &same), 0);
    assert_string_equal(same, stored);
    free(same);
    /* Sealed: gone. Unsealed: opened again from the store, the same key. */
    seal_seal(w->seal, s);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, again), LK_ESEALED);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, again), 0);
    assert_memory_equal(mac, again, sizeof(mac));
    /* After a rotation too: the keyring's older key still opens it. */
    uint32_t v = 0;
    struct lk_error err = {0};
    assert_int_equal(seal_rotate(w->seal, s, FX_NOW, &v, &err), 0);
    seal_seal(w->seal, s);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, again), 0);
    assert_memory_equal(mac, again, sizeof(mac));
    /* Another process (its own seal over the same store) gets the same key. */
    struct seal *second = NULL;
    struct seal_status st;
    assert_int_equal(seal_new(s, &second), 0);
    for (int i = 2; i < 5; i++)
        assert_int_equal(seal_unseal(second, s, w->text[i], &st, &err), 0);
    assert_false(st.sealed);
    assert_int_equal(seal_key_mac(second, SEAL_KEY_CHECKPOINT, "1:ab", 4, again), 0);
    assert_memory_equal(mac, again, sizeof(mac));
    seal_free(second);
    /* An altered envelope: not opened at the unseal, never replaced. */
    char *bent = strdup(stored);
    bent[strlen(bent) - 1] = bent[strlen(bent) - 1] == '0' ? '1' : '0';
    assert_int_equal(store_meta_set(s, "seal.audit_key", bent), 0);
    seal_seal(w->seal, s);
    unseal_all(w);
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "1:ab", 4, again), LK_ENOTFOUND);
    assert_int_equal(seal_key(w->seal, s, SEAL_KEY_CHECKPOINT, 1), LK_EINTEGRITY);
    assert_int_equal(store_meta_get(s, "seal.audit_key", &same), 0);
    assert_string_equal(same, bent);
    free(same);
    free(bent);
    free(stored);
}

/* Two seals over one store (two processes) each making the key at once
 * end up with one key, the first stored. */
struct maker {
    struct seal *seal;
    struct store *s;
    int r;
};

static void *make_key(void *arg) {
    struct maker *m = arg;
    m->r = seal_key(m->seal, m->s, SEAL_KEY_CHECKPOINT, 1);
    return NULL;
}

static void test_two_processes_making_the_audit_key_agree_on_one(void **state) {
    struct world *w = *state;
    struct maker m[2];
    pthread_t tid[2];
    struct seal_status st;
    struct lk_error err = {0};
    forget_stored_keys(w);
    struct seal *second = NULL;
    struct store *s2 = NULL;
    assert_int_equal(store_open(w->fx->dsn, &s2), 0);
    assert_int_equal(seal_new(s2, &second), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(seal_unseal(second, s2, w->text[i], &st, &err), 0);
    m[0] = (struct maker){w->seal, w->fx->svc.store, -1};
    m[1] = (struct maker){second, s2, -1};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, make_key, &m[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(m[i].r, 0);
    }
    uint8_t a[SEAL_KEY_LEN], b[SEAL_KEY_LEN];
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CHECKPOINT, "7:cd", 4, a), 0);
    assert_int_equal(seal_key_mac(second, SEAL_KEY_CHECKPOINT, "7:cd", 4, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    seal_free(second);
    store_close(s2);
}

/* Threads encrypt and decrypt while the main thread seals and unseals: each
 * call answers the right plaintext or LK_ESEALED, nothing else. */
struct worker {
    struct seal *seal;
    const uint8_t *mac; /* the audit key's MAC of "1:ab" */
    int ok, sealed, wrong;
};

static void *churn(void *arg) {
    struct worker *wk = arg;
    for (int i = 0; i < 2000; i++) {
        uint8_t *env = NULL, *pt = NULL;
        size_t elen = 0, plen = 0;
        int r = seal_encrypt(wk->seal, "aad", 3, "payload", 7, &env, &elen);
        if (r == 0)
            r = seal_decrypt(wk->seal, "aad", 3, env, elen, &pt, &plen);
        uint8_t mac[SEAL_KEY_LEN];
        int m = seal_key_mac(wk->seal, SEAL_KEY_CREDENTIAL, "1:ab", 4, mac);
        /* Each call right or sealed (the seal may close between them). */
        int pt_right = r == 0 && plen == 7 && memcmp(pt, "payload", 7) == 0;
        int mac_right = m == 0 && memcmp(mac, wk->mac, sizeof(mac)) == 0;
        if (pt_right && mac_right)
            wk->ok++;
        else if ((pt_right || r == LK_ESEALED) && (mac_right || m == LK_ESEALED))
            wk->sealed++;
        else
            wk->wrong++;
        free(env);
        free(pt);
    }
    return NULL;
}

static void test_sealing_under_load_never_gives_a_wrong_answer(void **state) {
    struct world *w = *state;
    unseal_all(w);
    uint8_t mac[SEAL_KEY_LEN];
    assert_int_equal(seal_key_mac(w->seal, SEAL_KEY_CREDENTIAL, "1:ab", 4, mac), 0);
    struct worker wk[3];
    pthread_t tid[3];
    for (int i = 0; i < 3; i++) {
        wk[i] = (struct worker){w->seal, mac, 0, 0, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, churn, &wk[i]), 0);
    }
    for (int round = 0; round < 20; round++) {
        seal_seal(w->seal, w->fx->svc.store);
        unseal_all(w);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(wk[i].wrong, 0);
        assert_int_equal(wk[i].ok + wk[i].sealed, 2000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_three_of_five_unseal_and_two_never_do, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shares_of_another_init_start_the_progress_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_barrier_binds_values_to_their_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_retires_the_old_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_stores_the_seals_keys_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_clear_credential_key_moves_behind_the_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_audit_key_lives_and_dies_with_the_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_making_the_audit_key_agree_on_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealing_under_load_never_gives_a_wrong_answer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
