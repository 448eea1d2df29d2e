/*
 * test_aead.c - unit tests for the sealed envelope (core/aead.h): its byte
 * layout against a vector computed outside latchkey, round trips, and that
 * every change to an envelope, its key or its associated data fails with
 * LK_EINTEGRITY and leaves no plaintext behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/aead.h"
#include "core/errors.h"
#include "core/secret.h"

#include "unit_assert.h"

/* What an output buffer is filled with before a call, so a test can tell
 * bytes the call wrote from bytes it left alone. */
#define SENTINEL 0xA5

static const char row_aad[] = "secret|org_1|db/password|3";

static void fill_key(uint8_t key[AEAD_KEY_LEN], uint8_t first) {
    for (size_t i = 0; i < AEAD_KEY_LEN; i++)
        key[i] = (uint8_t)(first + i);
}

/* Bytes that are never 0 and never SENTINEL, so a leaked byte stands out. */
static void fill_plaintext(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('A' + i % 26);
}

/*
 * Fails unless out[0..n) holds only zeroes (wiped) and SENTINEL (never
 * written): no plaintext, and no unauthenticated output either.
 */
static void assert_no_output(const uint8_t *out, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (out[i] != 0 && out[i] != SENTINEL)
            fail_msg("%s: out[%zu] is 0x%02x after a failed open: output was left behind", what, i, out[i]);
}

/* Seals plaintext[0..len) under key and version with row_aad into a new buffer; sets *ret_len. */
static uint8_t *seal_new(const uint8_t key[AEAD_KEY_LEN], uint32_t version, const void *plaintext, size_t len,
                         size_t *ret_len) {
    size_t n = aead_sealed_size(len);
    uint8_t *env = malloc(n);
    assert_non_null(env);
    assert_i64_eq(aead_seal(key, version, row_aad, strlen(row_aad), plaintext, len, env, n), 0);
    *ret_len = n;
    return env;
}

/* Seals and opens len bytes and checks they come back. */
static void round_trip(size_t len) {
    uint8_t key[AEAD_KEY_LEN];
    uint8_t *pt = malloc(len + 1), *back = malloc(len + 1);
    size_t env_len = 0, back_len = SIZE_MAX;
    assert_non_null(pt);
    assert_non_null(back);
    fill_key(key, 1);
    fill_plaintext(pt, len);

    uint8_t *env = seal_new(key, 1, pt, len, &env_len);
    assert_i64_eq(env_len, len + AEAD_OVERHEAD);
    memset(back, SENTINEL, len + 1);
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, env_len, back, len, &back_len), 0);
    assert_i64_eq(back_len, len);
    assert_memory_equal(back, pt, len);
    assert_i64_eq(back[len], SENTINEL); /* nothing past the plaintext */
    free(env);
    free(pt);
    free(back);
}

/* ---- sizes and layout ---- */

static void test_sealed_size(void **state) {
    assert_i64_eq(AEAD_OVERHEAD, 33);
    assert_i64_eq(aead_sealed_size(0), 33);
    assert_i64_eq(aead_sealed_size(1), 34);
    assert_i64_eq(aead_sealed_size(AEAD_PLAINTEXT_MAX), AEAD_PLAINTEXT_MAX + 33);
    assert_i64_eq(aead_sealed_size(AEAD_PLAINTEXT_MAX + 1), 0);
    assert_i64_eq(aead_sealed_size(SIZE_MAX), 0);
}

/*
 * An envelope written out by hand and sealed with Python's cryptography
 * package (AESGCM, which reproduces the GCM spec's test case 16): key
 * 00 01 .. 1f, key version 7, nonce cafebabefacedbaddecaf888, GCM associated
 * data = the 5 header bytes then row_aad. It pins the layout, the cipher
 * (AES-256, not 128), the tag length and what is authenticated, in that order.
 */
static const char kat_hex[] = "0100000007"                                         /* format 1, version 7 */
                              "cafebabefacedbaddecaf888"                           /* nonce */
                              "e2d6ce52cf087d3b2f787db31469a95e2d50a122ac6e05062a" /* ciphertext */
                              "83707145d388ced92998134330c2e38a";                  /* tag */
static const char kat_plaintext[] = "hunter2 is not a password";

static void test_known_envelope_opens(void **state) {
    uint8_t key[AEAD_KEY_LEN], env[sizeof(kat_hex) / 2], out[64];
    size_t out_len = 0;
    uint32_t version = 0;
    fill_key(key, 0);
    assert_i64_eq(sizeof(env), AEAD_OVERHEAD + strlen(kat_plaintext));
    assert_i64_eq(secret_unhex(kat_hex, sizeof(env), env), 0);

    assert_i64_eq(aead_key_version(env, sizeof(env), &version), 0);
    assert_i64_eq(version, 7);
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, sizeof(env), out, sizeof(out), &out_len), 0);
    assert_i64_eq(out_len, strlen(kat_plaintext));
    assert_memory_equal(out, kat_plaintext, out_len);
}

static void test_layout_names_format_and_version(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[10];
    size_t env_len = 0;
    uint32_t version = 0;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));

    uint8_t *env = seal_new(key, 0x01020304, pt, sizeof(pt), &env_len);
    assert_i64_eq(env[0], AEAD_FORMAT_V1);
    assert_i64_eq(env[1], 0x01);
    assert_i64_eq(env[2], 0x02);
    assert_i64_eq(env[3], 0x03);
    assert_i64_eq(env[4], 0x04);
    assert_i64_eq(aead_key_version(env, env_len, &version), 0);
    assert_i64_eq(version, 0x01020304);
    /* The plaintext does not appear where the ciphertext is. */
    assert_memory_not_equal(env + AEAD_HEADER_LEN, pt, sizeof(pt));
    free(env);

    env = seal_new(key, UINT32_MAX, pt, sizeof(pt), &env_len);
    assert_i64_eq(aead_key_version(env, env_len, &version), 0);
    assert_i64_eq(version, UINT32_MAX);
    free(env);
}

static void test_key_version_of_malformed_envelopes(void **state) {
    uint8_t env[AEAD_OVERHEAD];
    uint32_t version = 42;
    memset(env, 0, sizeof(env));
    env[0] = AEAD_FORMAT_V1;
    assert_i64_eq(aead_key_version(env, AEAD_OVERHEAD - 1, &version), LK_EINTEGRITY);
    assert_i64_eq(aead_key_version(env, 0, &version), LK_EINTEGRITY);
    env[0] = 2;
    assert_i64_eq(aead_key_version(env, sizeof(env), &version), LK_EINTEGRITY);
    env[0] = 0;
    assert_i64_eq(aead_key_version(env, sizeof(env), &version), LK_EINTEGRITY);
    assert_i64_eq(version, 42);
}

/* ---- round trips ---- */

static void test_round_trip_empty(void **state) {
    round_trip(0);
}

static void test_round_trip_one_byte(void **state) {
    round_trip(1);
}

static void test_round_trip_64_kib(void **state) {
    round_trip(64 * 1024);
}

static void test_empty_plaintext_and_aad_may_be_null(void **state) {
    uint8_t key[AEAD_KEY_LEN], env[AEAD_OVERHEAD], out[1] = {SENTINEL};
    size_t out_len = 99;
    fill_key(key, 3);
    assert_i64_eq(aead_seal(key, 1, NULL, 0, NULL, 0, env, sizeof(env)), 0);
    assert_i64_eq(aead_open(key, NULL, 0, env, sizeof(env), out, 0, &out_len), 0);
    assert_i64_eq(out_len, 0);
    assert_i64_eq(out[0], SENTINEL);
    /* Empty associated data is not the same as some. */
    assert_i64_eq(aead_open(key, "x", 1, env, sizeof(env), out, 0, &out_len), LK_EINTEGRITY);
}

static void test_two_seals_of_the_same_plaintext_differ(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[32], out[32];
    size_t a_len = 0, b_len = 0, out_len = 0;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *a = seal_new(key, 1, pt, sizeof(pt), &a_len);
    uint8_t *b = seal_new(key, 1, pt, sizeof(pt), &b_len);
    assert_i64_eq(a_len, b_len);
    assert_memory_not_equal(a + 5, b + 5, AEAD_NONCE_LEN);
    assert_memory_not_equal(a + AEAD_HEADER_LEN, b + AEAD_HEADER_LEN, sizeof(pt));
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), a, a_len, out, sizeof(out), &out_len), 0);
    assert_memory_equal(out, pt, sizeof(pt));
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), b, b_len, out, sizeof(out), &out_len), 0);
    assert_memory_equal(out, pt, sizeof(pt));
    free(a);
    free(b);
}

/* ---- integrity ---- */

static const char *field_at(size_t i, size_t env_len) {
    if (i == 0)
        return "format";
    if (i < 5)
        return "key version";
    if (i < AEAD_HEADER_LEN)
        return "nonce";
    if (i < env_len - AEAD_TAG_LEN)
        return "ciphertext";
    return "tag";
}

static void test_every_bit_flip_fails_and_leaves_no_plaintext(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[40], out[40];
    size_t env_len = 0;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 5, pt, sizeof(pt), &env_len);

    for (size_t i = 0; i < env_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            size_t out_len = 777;
            env[i] ^= (uint8_t)(1u << bit);
            memset(out, SENTINEL, sizeof(out));
            int r = aead_open(key, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len);
            if (r != LK_EINTEGRITY)
                fail_msg("flipping bit %d of byte %zu (%s) gave %s, expected INTEGRITY", bit, i, field_at(i, env_len),
                         lk_errname(r));
            if (out_len != 777)
                fail_msg("flipping bit %d of byte %zu (%s) set the length", bit, i, field_at(i, env_len));
            assert_no_output(out, sizeof(out), field_at(i, env_len));
            env[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Unflipped, it still opens: the loop restored every bit. */
    size_t out_len = 0;
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len), 0);
    assert_memory_equal(out, pt, sizeof(pt));
    free(env);
}

static void test_every_truncation_and_an_extra_byte_fail(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[20], out[21];
    size_t env_len = 0;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);

    for (size_t n = 0; n < env_len; n++) {
        /* An exact-size copy, so a sanitizer build catches any read past it. */
        uint8_t *cut = malloc(n > 0 ? n : 1);
        size_t out_len = 777;
        assert_non_null(cut);
        memcpy(cut, env, n);
        memset(out, SENTINEL, sizeof(out));
        int r = aead_open(key, row_aad, strlen(row_aad), cut, n, out, sizeof(out), &out_len);
        if (r != LK_EINTEGRITY)
            fail_msg("an envelope cut to %zu of %zu bytes gave %s, expected INTEGRITY", n, env_len, lk_errname(r));
        assert_i64_eq(out_len, 777);
        assert_no_output(out, sizeof(out), "truncated");
        free(cut);
    }

    uint8_t *longer = malloc(env_len + 1);
    size_t out_len = 777;
    assert_non_null(longer);
    memcpy(longer, env, env_len);
    longer[env_len] = 0;
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), longer, env_len + 1, out, sizeof(out), &out_len),
                  LK_EINTEGRITY);
    assert_no_output(out, sizeof(out), "one byte longer");
    free(longer);
    free(env);
}

static void test_unknown_format_version_fails(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[8], out[8];
    size_t env_len = 0, out_len = 777;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);
    for (int v = 0; v < 256; v++) {
        if (v == AEAD_FORMAT_V1)
            continue;
        env[0] = (uint8_t)v;
        memset(out, SENTINEL, sizeof(out));
        assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len),
                      LK_EINTEGRITY);
        assert_no_output(out, sizeof(out), "format");
    }
    assert_i64_eq(out_len, 777);
    free(env);
}

static void test_wrong_key_fails_and_leaves_no_plaintext(void **state) {
    uint8_t key[AEAD_KEY_LEN], other[AEAD_KEY_LEN], pt[48], out[48];
    size_t env_len = 0, out_len = 777;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);
    /* Keys differing in one bit anywhere. */
    for (size_t i = 0; i < AEAD_KEY_LEN; i++) {
        memcpy(other, key, sizeof(other));
        other[i] ^= 0x80;
        memset(out, SENTINEL, sizeof(out));
        int r = aead_open(other, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len);
        if (r != LK_EINTEGRITY)
            fail_msg("a key differing in byte %zu gave %s, expected INTEGRITY", i, lk_errname(r));
        assert_no_output(out, sizeof(out), "wrong key");
    }
    assert_i64_eq(out_len, 777);
    free(env);
}

static void test_wrong_aad_fails_and_leaves_no_plaintext(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[48], out[48];
    size_t env_len = 0, out_len = 777;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);

    /* The right key with other associated data decrypts the exact plaintext
     * before the tag is checked: only the wipe keeps it out of out. */
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(aead_open(key, "secret|org_1|db/password|", 25, env, env_len, out, sizeof(out), &out_len),
                  LK_EINTEGRITY);
    assert_no_output(out, sizeof(out), "shorter aad");
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(aead_open(key, NULL, 0, env, env_len, out, sizeof(out), &out_len), LK_EINTEGRITY);
    assert_no_output(out, sizeof(out), "no aad");
    assert_i64_eq(out_len, 777);
    free(env);
}

static void test_envelope_moved_to_another_row_fails(void **state) {
    static const char *const other_rows[] = {
        "secret|org_2|db/password|3", /* another org */
        "secret|org_1|db/passwore|3", /* another path */
        "secret|org_1|db/password|4", /* another version of the same secret */
        "webhook|org_1|db/password|3",
    };
    uint8_t key[AEAD_KEY_LEN], pt[16], out[16];
    size_t env_len = 0, out_len = 0;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);
    for (size_t i = 0; i < sizeof(other_rows) / sizeof(other_rows[0]); i++) {
        memset(out, SENTINEL, sizeof(out));
        int r = aead_open(key, other_rows[i], strlen(other_rows[i]), env, env_len, out, sizeof(out), &out_len);
        if (r != LK_EINTEGRITY)
            fail_msg("sealed for \"%s\", opened for \"%s\": %s, expected INTEGRITY", row_aad, other_rows[i],
                     lk_errname(r));
        assert_no_output(out, sizeof(out), other_rows[i]);
    }
    /* Its own row still opens it. */
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len), 0);
    free(env);
}

/* ---- buffers and limits ---- */

static void test_seal_refuses_a_short_output_untouched(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[8], out[AEAD_OVERHEAD + 8];
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(aead_seal(key, 1, NULL, 0, pt, sizeof(pt), out, sizeof(out) - 1), LK_ERANGE);
    assert_no_output(out, sizeof(out), "short seal output");
    for (size_t i = 0; i < sizeof(out); i++)
        assert_i64_eq(out[i], SENTINEL);
}

static void test_open_refuses_a_short_output_untouched(void **state) {
    uint8_t key[AEAD_KEY_LEN], pt[8], out[8];
    size_t env_len = 0, out_len = 777;
    fill_key(key, 1);
    fill_plaintext(pt, sizeof(pt));
    uint8_t *env = seal_new(key, 1, pt, sizeof(pt), &env_len);
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(aead_open(key, row_aad, strlen(row_aad), env, env_len, out, sizeof(out) - 1, &out_len), LK_ERANGE);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_i64_eq(out[i], SENTINEL);
    assert_i64_eq(out_len, 777);
    free(env);
}

static void test_limits(void **state) {
    uint8_t key[AEAD_KEY_LEN], out[AEAD_OVERHEAD + 1], pt[1] = {'x'};
    size_t out_len = 777;
    fill_key(key, 1);
    /* Refused on the length alone: neither plaintext nor aad is read. */
    assert_i64_eq(aead_seal(key, 1, NULL, 0, pt, AEAD_PLAINTEXT_MAX + 1, out, SIZE_MAX), LK_ETOOBIG);
    assert_i64_eq(aead_seal(key, 1, pt, AEAD_PLAINTEXT_MAX + 1, pt, 1, out, sizeof(out)), LK_ETOOBIG);

    /* An envelope longer than any seal makes is refused before it is decrypted. */
    size_t big_len = AEAD_PLAINTEXT_MAX + 1 + AEAD_OVERHEAD;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    big[0] = AEAD_FORMAT_V1;
    assert_i64_eq(aead_open(key, NULL, 0, big, big_len, big, big_len, &out_len), LK_EINTEGRITY);
    free(big);

    assert_i64_eq(aead_seal(key, 1, NULL, 0, pt, 1, out, sizeof(out)), 0);
    assert_i64_eq(aead_open(key, pt, AEAD_PLAINTEXT_MAX + 1, out, sizeof(out), pt, 1, &out_len), LK_ETOOBIG);
    assert_i64_eq(out_len, 777);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_size),
        cmocka_unit_test(test_known_envelope_opens),
        cmocka_unit_test(test_layout_names_format_and_version),
        cmocka_unit_test(test_key_version_of_malformed_envelopes),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_one_byte),
        cmocka_unit_test(test_round_trip_64_kib),
        cmocka_unit_test(test_empty_plaintext_and_aad_may_be_null),
        cmocka_unit_test(test_two_seals_of_the_same_plaintext_differ),
        cmocka_unit_test(test_every_bit_flip_fails_and_leaves_no_plaintext),
        cmocka_unit_test(test_every_truncation_and_an_extra_byte_fail),
        cmocka_unit_test(test_unknown_format_version_fails),
        cmocka_unit_test(test_wrong_key_fails_and_leaves_no_plaintext),
        cmocka_unit_test(test_wrong_aad_fails_and_leaves_no_plaintext),
        cmocka_unit_test(test_envelope_moved_to_another_row_fails),
        cmocka_unit_test(test_seal_refuses_a_short_output_untouched),
        cmocka_unit_test(test_open_refuses_a_short_output_untouched),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
