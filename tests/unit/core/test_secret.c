/*
 * test_secret.c - unit tests for hashing, HMAC, comparison and randomness
 * (core/secret.h), against published test vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/secret.h"

#include "unit_assert.h"

/* Compares a 32-byte digest with its expected hex spelling, printing both on mismatch. */
static void assert_digest(const uint8_t d[SECRET_HASH_LEN], const char *want_hex) {
    char got[SECRET_HASH_LEN * 2 + 1];
    secret_hex(d, SECRET_HASH_LEN, got);
    assert_string_equal(got, want_hex);
}

/* ---- SHA-256 (FIPS 180-2 examples) ---- */

static void test_hash_abc(void **state) {
    uint8_t d[SECRET_HASH_LEN];
    secret_hash("abc", 3, d);
    assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_empty(void **state) {
    uint8_t d[SECRET_HASH_LEN];
    secret_hash("", 0, d);
    assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hash_two_blocks(void **state) {
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t d[SECRET_HASH_LEN];
    secret_hash(s, strlen(s), d);
    assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ---- HMAC-SHA256 (RFC 4231) ---- */

static void test_hmac_rfc4231_case_2(void **state) {
    uint8_t d[SECRET_HASH_LEN];
    const char *data = "what do ya want for nothing?";
    assert_i64_eq(secret_hmac("Jefe", 4, data, strlen(data), d), 0);
    assert_digest(d, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hmac_rfc4231_case_1(void **state) {
    uint8_t key[20], d[SECRET_HASH_LEN];
    memset(key, 0x0b, sizeof(key));
    assert_i64_eq(secret_hmac(key, sizeof(key), "Hi There", 8, d), 0);
    assert_digest(d, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_hmac_rfc4231_case_6_long_key(void **state) {
    uint8_t key[131], d[SECRET_HASH_LEN];
    const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
    memset(key, 0xaa, sizeof(key));
    assert_i64_eq(secret_hmac(key, sizeof(key), data, strlen(data), d), 0);
    assert_digest(d, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_empty_key_and_data(void **state) {
    uint8_t d[SECRET_HASH_LEN];
    assert_i64_eq(secret_hmac(NULL, 0, NULL, 0, d), 0);
    assert_digest(d, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

/* ---- constant-time comparison ---- */

static void test_equal_same_bytes(void **state) {
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    memset(a, 0x42, sizeof(a));
    memset(b, 0x42, sizeof(b));
    assert_i64_eq(secret_equal(a, b, sizeof(a)), 1);
}

static void test_equal_differs_in_any_byte(void **state) {
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    memset(a, 0x42, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++) {
        memcpy(b, a, sizeof(b));
        b[i] ^= 0x01;
        if (secret_equal(a, b, sizeof(a)) != 0)
            fail_msg("buffers differing in byte %zu compare equal", i);
    }
}

static void test_equal_zero_length(void **state) {
    assert_i64_eq(secret_equal("a", "b", 0), 1);
}

/* ---- randomness ---- */

static void test_random_fills_and_differs(void **state) {
    uint8_t a[32], b[32], zero[32] = {0};
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_i64_eq(secret_random(a, sizeof(a)), 0);
    assert_i64_eq(secret_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
}

static void test_random_zero_length(void **state) {
    uint8_t a[1] = {7};
    assert_i64_eq(secret_random(a, 0), 0);
    assert_i64_eq(a[0], 7);
}

/* ---- hex ---- */

static void test_hex(void **state) {
    static const uint8_t data[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[sizeof(data) * 2 + 1];
    secret_hex(data, sizeof(data), out);
    assert_string_equal(out, "00017f80abff");
}

static void test_hex_empty(void **state) {
    char out[1] = {'x'};
    secret_hex((const uint8_t *)"", 0, out);
    assert_string_equal(out, "");
}

static void test_unhex_round_trip(void **state) {
    uint8_t data[256], back[256];
    char hex[sizeof(data) * 2 + 1];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    secret_hex(data, sizeof(data), hex);
    assert_int_equal(secret_unhex(hex, sizeof(back), back), 0);
    assert_memory_equal(back, data, sizeof(data));
}

static void test_unhex_refuses_anything_but_lower_case_hex(void **state) {
    uint8_t out[3];
    assert_int_equal(secret_unhex("00ff7a", 3, out), 0);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(secret_unhex("00FF7a", 3, out), LK_EINVAL); /* upper case is not what secret_hex writes */
    assert_int_equal(secret_unhex("00fg7a", 3, out), LK_EINVAL);
    assert_int_equal(secret_unhex("00 f7a", 3, out), LK_EINVAL);
    /* A string shorter than asked for stops at its end, on either digit. */
    assert_int_equal(secret_unhex("00ff", 3, out), LK_EINVAL);
    assert_int_equal(secret_unhex("00ff7", 3, out), LK_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_abc),
        cmocka_unit_test(test_hash_empty),
        cmocka_unit_test(test_hash_two_blocks),
        cmocka_unit_test(test_hmac_rfc4231_case_2),
        cmocka_unit_test(test_hmac_rfc4231_case_1),
        cmocka_unit_test(test_hmac_rfc4231_case_6_long_key),
        cmocka_unit_test(test_hmac_empty_key_and_data),
        cmocka_unit_test(test_equal_same_bytes),
        cmocka_unit_test(test_equal_differs_in_any_byte),
        cmocka_unit_test(test_equal_zero_length),
        cmocka_unit_test(test_random_fills_and_differs),
        cmocka_unit_test(test_random_zero_length),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_hex_empty),
        cmocka_unit_test(test_unhex_round_trip),
        cmocka_unit_test(test_unhex_refuses_anything_but_lower_case_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
