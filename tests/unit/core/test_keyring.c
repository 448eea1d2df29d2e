/*
 * test_keyring.c - unit tests for the keyring (core/keyring.h): versions and
 * rotation, sealing across rotations, the serialized layout and its parser
 * (round trips, and a table of truncated and garbled bytes checked against a
 * reference reader written here from the header's layout), and wrapping
 * under the root key.
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
#include "core/keyring.h"

#include "unit_assert.h"

#define SENTINEL 0xA5

static const char row_aad[] = "secret|org_1|db/password|3";

/* Stands for "not set by the call". */
static struct keyring *const untouched_kr = (struct keyring *)&row_aad;

static struct keyring *new_ring(int64_t created_at) {
    struct keyring *kr = NULL;
    assert_i64_eq(keyring_new(created_at, &kr), 0);
    assert_non_null(kr);
    return kr;
}

static void fill_root(uint8_t root[AEAD_KEY_LEN], uint8_t first) {
    for (size_t i = 0; i < AEAD_KEY_LEN; i++)
        root[i] = (uint8_t)(first + 7 * i);
}

/* Seals row_aad's value under kr's current key into a new buffer. */
static uint8_t *seal_new(const struct keyring *kr, const char *value, size_t *ret_len) {
    size_t n = aead_sealed_size(strlen(value));
    uint8_t *env = malloc(n);
    assert_non_null(env);
    assert_i64_eq(keyring_seal(kr, row_aad, strlen(row_aad), value, strlen(value), env, n), 0);
    *ret_len = n;
    return env;
}

/* Opens env with kr and checks it gives value. */
static void assert_opens_to(const struct keyring *kr, const uint8_t *env, size_t env_len, const char *value) {
    uint8_t out[128];
    size_t out_len = 0;
    int r = keyring_open(kr, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len);
    if (r != 0)
        fail_msg("keyring_open gave %s, expected it to open to \"%s\"", lk_errname(r), value);
    assert_i64_eq(out_len, strlen(value));
    assert_memory_equal(out, value, out_len);
}

/* Serializes kr into a new exact-size buffer; sets *ret_len. */
static uint8_t *serialize_new(const struct keyring *kr, size_t *ret_len) {
    size_t n = keyring_serialized_size(kr);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_i64_eq(keyring_serialize(kr, buf, n, ret_len), 0);
    assert_i64_eq(*ret_len, n);
    return buf;
}

/* Fails unless a and b hold the same versions, times and keys. */
static void assert_same_ring(const struct keyring *a, const struct keyring *b) {
    assert_i64_eq(keyring_count(a), keyring_count(b));
    assert_i64_eq(keyring_current(a), keyring_current(b));
    size_t la = 0, lb = 0;
    uint8_t *sa = serialize_new(a, &la), *sb = serialize_new(b, &lb);
    assert_i64_eq(la, lb);
    assert_memory_equal(sa, sb, la);
    free(sa);
    free(sb);
}

/* ---- versions and rotation ---- */

static void test_new_holds_version_1(void **state) {
    struct keyring *kr = new_ring(1700000000);
    const uint8_t *key = NULL, *sentinel_key = (const uint8_t *)row_aad;
    int64_t created_at = 0;
    assert_i64_eq(keyring_count(kr), 1);
    assert_i64_eq(keyring_current(kr), 1);
    assert_i64_eq(keyring_find(kr, 1, &key, &created_at), 0);
    assert_non_null(key);
    assert_i64_eq(created_at, 1700000000);

    key = sentinel_key;
    created_at = -5;
    assert_i64_eq(keyring_find(kr, 0, &key, &created_at), LK_ENOTFOUND);
    assert_i64_eq(keyring_find(kr, 2, &key, &created_at), LK_ENOTFOUND);
    assert_ptr_equal(key, sentinel_key);
    assert_i64_eq(created_at, -5);
    /* Either output may be left out. */
    assert_i64_eq(keyring_find(kr, 1, NULL, NULL), 0);
    keyring_free(kr);
}

static void test_two_new_keyrings_have_different_keys(void **state) {
    struct keyring *a = new_ring(0), *b = new_ring(0);
    const uint8_t *ka = NULL, *kb = NULL;
    assert_i64_eq(keyring_find(a, 1, &ka, NULL), 0);
    assert_i64_eq(keyring_find(b, 1, &kb, NULL), 0);
    assert_memory_not_equal(ka, kb, KEYRING_KEY_LEN);
    keyring_free(a);
    keyring_free(b);
}

static void test_rotate_adds_the_next_version(void **state) {
    struct keyring *kr = new_ring(100);
    uint32_t v = 0;
    const uint8_t *k1 = NULL, *k2 = NULL, *k3 = NULL;
    int64_t t = 0;
    assert_i64_eq(keyring_rotate(kr, 200, &v), 0);
    assert_i64_eq(v, 2);
    assert_i64_eq(keyring_rotate(kr, 300, NULL), 0);
    assert_i64_eq(keyring_current(kr), 3);
    assert_i64_eq(keyring_count(kr), 3);
    assert_i64_eq(keyring_find(kr, 1, &k1, &t), 0);
    assert_i64_eq(t, 100);
    assert_i64_eq(keyring_find(kr, 2, &k2, &t), 0);
    assert_i64_eq(t, 200);
    assert_i64_eq(keyring_find(kr, 3, &k3, &t), 0);
    assert_i64_eq(t, 300);
    assert_memory_not_equal(k1, k2, KEYRING_KEY_LEN);
    assert_memory_not_equal(k2, k3, KEYRING_KEY_LEN);
    assert_memory_not_equal(k1, k3, KEYRING_KEY_LEN);
    keyring_free(kr);
}

static void test_rotate_stops_at_the_maximum(void **state) {
    struct keyring *kr = new_ring(0);
    uint32_t v = 0;
    for (int i = 2; i <= KEYRING_MAX_KEYS; i++)
        assert_i64_eq(keyring_rotate(kr, i, &v), 0);
    assert_i64_eq(v, KEYRING_MAX_KEYS);
    v = 0;
    assert_i64_eq(keyring_rotate(kr, 0, &v), LK_ERANGE);
    assert_i64_eq(v, 0);
    assert_i64_eq(keyring_count(kr), KEYRING_MAX_KEYS);
    assert_i64_eq(keyring_current(kr), KEYRING_MAX_KEYS);
    keyring_free(kr);
}

static void test_rotate_stops_at_the_last_version(void **state) {
    /* One key, version UINT32_MAX: only a parsed keyring gets there. */
    uint8_t buf[KEYRING_HEADER_LEN + KEYRING_ENTRY_LEN] = {'L', 'K', 'K', 'R', 1, 1, 0xff, 0xff, 0xff, 0xff};
    struct keyring *kr = NULL;
    assert_i64_eq(keyring_parse(buf, sizeof(buf), &kr), 0);
    assert_i64_eq(keyring_current(kr), UINT32_MAX);
    assert_i64_eq(keyring_rotate(kr, 0, NULL), LK_ERANGE);
    assert_i64_eq(keyring_count(kr), 1);
    keyring_free(kr);
}

static void test_free_accepts_null(void **state) {
    keyring_free(NULL);
}

/* ---- sealing across versions ---- */

static void test_value_sealed_under_v1_opens_after_rotation_to_v3(void **state) {
    struct keyring *kr = new_ring(0);
    size_t old_len = 0, new_len = 0;
    uint32_t v = 0;
    uint8_t *old = seal_new(kr, "sealed under one", &old_len);
    assert_i64_eq(aead_key_version(old, old_len, &v), 0);
    assert_i64_eq(v, 1);

    assert_i64_eq(keyring_rotate(kr, 1, NULL), 0);
    assert_i64_eq(keyring_rotate(kr, 2, NULL), 0);
    assert_opens_to(kr, old, old_len, "sealed under one");

    uint8_t *fresh = seal_new(kr, "sealed under three", &new_len);
    assert_i64_eq(aead_key_version(fresh, new_len, &v), 0);
    assert_i64_eq(v, 3);
    assert_opens_to(kr, fresh, new_len, "sealed under three");

    /* And the v3 key really is what sealed it: aead_open with it agrees. */
    const uint8_t *k3 = NULL;
    uint8_t out[64];
    size_t out_len = 0;
    assert_i64_eq(keyring_find(kr, 3, &k3, NULL), 0);
    assert_i64_eq(aead_open(k3, row_aad, strlen(row_aad), fresh, new_len, out, sizeof(out), &out_len), 0);
    free(old);
    free(fresh);
    keyring_free(kr);
}

static void test_open_with_a_version_not_in_the_ring_fails(void **state) {
    struct keyring *kr = new_ring(0);
    const uint8_t *k1 = NULL;
    uint8_t env[AEAD_OVERHEAD + 5], out[5];
    size_t out_len = 777;
    assert_i64_eq(keyring_find(kr, 1, &k1, NULL), 0);

    /* Sealed with the ring's own key, but naming versions the ring lacks. */
    static const uint32_t absent[] = {0, 2, 9, UINT32_MAX};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        assert_i64_eq(aead_seal(k1, absent[i], row_aad, strlen(row_aad), "value", 5, env, sizeof(env)), 0);
        memset(out, SENTINEL, sizeof(out));
        int r = keyring_open(kr, row_aad, strlen(row_aad), env, sizeof(env), out, sizeof(out), &out_len);
        if (r != LK_EINTEGRITY)
            fail_msg("an envelope naming version %u gave %s, expected INTEGRITY", absent[i], lk_errname(r));
        for (size_t j = 0; j < sizeof(out); j++)
            assert_i64_eq(out[j], SENTINEL);
    }
    assert_i64_eq(out_len, 777);
    keyring_free(kr);
}

static void test_relabelled_version_fails(void **state) {
    struct keyring *kr = new_ring(0);
    size_t env_len = 0, out_len = 777;
    uint8_t out[32];
    uint8_t *env = seal_new(kr, "under version one", &env_len);
    assert_i64_eq(keyring_rotate(kr, 1, NULL), 0);
    /* Name version 2 instead of 1: the header is authenticated. */
    env[4] = 2;
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(keyring_open(kr, row_aad, strlen(row_aad), env, env_len, out, sizeof(out), &out_len), LK_EINTEGRITY);
    for (size_t i = 0; i < sizeof(out); i++)
        if (out[i] != 0 && out[i] != SENTINEL)
            fail_msg("out[%zu] was left behind", i);
    assert_i64_eq(out_len, 777);
    free(env);
    keyring_free(kr);
}

static void test_open_of_a_malformed_envelope_fails(void **state) {
    struct keyring *kr = new_ring(0);
    uint8_t env[AEAD_OVERHEAD] = {2}, out[1];
    size_t out_len = 777;
    assert_i64_eq(keyring_open(kr, NULL, 0, env, sizeof(env), out, sizeof(out), &out_len), LK_EINTEGRITY);
    assert_i64_eq(keyring_open(kr, NULL, 0, env, 3, out, sizeof(out), &out_len), LK_EINTEGRITY);
    assert_i64_eq(out_len, 777);
    keyring_free(kr);
}

/* ---- serialized layout ---- */

static void test_serialize_layout(void **state) {
    struct keyring *kr = new_ring(-2);
    const uint8_t *k1 = NULL;
    size_t len = 0;
    assert_i64_eq(keyring_rotate(kr, 0x0102030405060708, NULL), 0);
    assert_i64_eq(keyring_find(kr, 1, &k1, NULL), 0);
    uint8_t *buf = serialize_new(kr, &len);
    assert_i64_eq(len, 6 + 2 * 44);
    static const uint8_t header[] = {'L', 'K', 'K', 'R', 1, 2}; /* magic, format, count */
    static const uint8_t first[] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}; /* v1, made at -2 */
    static const uint8_t second[] = {0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};                        /* v2 */
    assert_memory_equal(buf, header, sizeof(header));
    assert_memory_equal(buf + 6, first, sizeof(first));
    assert_memory_equal(buf + 18, k1, KEYRING_KEY_LEN);
    assert_memory_equal(buf + 50, second, sizeof(second));
    free(buf);
    keyring_free(kr);
}

static void test_serialize_parse_round_trip(void **state) {
    static const int64_t times[] = {INT64_MIN, -1, 0, 1700000000, INT64_MAX};
    struct keyring *kr = new_ring(times[0]);
    for (size_t i = 1; i < sizeof(times) / sizeof(times[0]); i++)
        assert_i64_eq(keyring_rotate(kr, times[i], NULL), 0);
    size_t len = 0;
    uint8_t *buf = serialize_new(kr, &len);
    struct keyring *back = NULL;
    assert_i64_eq(keyring_parse(buf, len, &back), 0);
    assert_same_ring(kr, back);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        int64_t t = 0;
        assert_i64_eq(keyring_find(back, (uint32_t)i + 1, NULL, &t), 0);
        assert_i64_eq(t, times[i]);
    }
    /* A value sealed by one opens with the other. */
    size_t env_len = 0;
    uint8_t *env = seal_new(kr, "either", &env_len);
    assert_opens_to(back, env, env_len, "either");
    free(env);
    free(buf);
    keyring_free(back);
    keyring_free(kr);
}

static void test_serialize_refuses_a_short_output_untouched(void **state) {
    struct keyring *kr = new_ring(0);
    uint8_t out[KEYRING_HEADER_LEN + KEYRING_ENTRY_LEN];
    size_t len = 777;
    memset(out, SENTINEL, sizeof(out));
    assert_i64_eq(keyring_serialize(kr, out, sizeof(out) - 1, &len), LK_ERANGE);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_i64_eq(out[i], SENTINEL);
    assert_i64_eq(len, 777);
    keyring_free(kr);
}

static void test_parse_accepts_gaps_between_versions(void **state) {
    /* Versions 3 and 7: increasing, not consecutive (old keys dropped). */
    uint8_t buf[KEYRING_HEADER_LEN + 2 * KEYRING_ENTRY_LEN] = {'L', 'K', 'K', 'R', 1, 2, 0, 0, 0, 3};
    buf[KEYRING_HEADER_LEN + KEYRING_ENTRY_LEN + 3] = 7;
    struct keyring *kr = NULL;
    assert_i64_eq(keyring_parse(buf, sizeof(buf), &kr), 0);
    assert_i64_eq(keyring_current(kr), 7);
    assert_i64_eq(keyring_find(kr, 3, NULL, NULL), 0);
    assert_i64_eq(keyring_find(kr, 5, NULL, NULL), LK_ENOTFOUND);
    uint32_t v = 0;
    assert_i64_eq(keyring_rotate(kr, 0, &v), 0);
    assert_i64_eq(v, 8);
    keyring_free(kr);
}

/*
 * The layout read a second way, from keyring.h's table rather than from
 * keyring.c: 1 if buf[0..len) is a serialized keyring.
 */
static int ref_valid(const uint8_t *buf, size_t len) {
    if (len < 6 || memcmp(buf, "LKKR", 4) != 0 || buf[4] != 1)
        return 0;
    size_t n = buf[5];
    if (n < 1 || n > 64 || len != 6 + 44 * n)
        return 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = buf + 6 + 44 * i;
        uint64_t v = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        if (v <= prev)
            return 0;
        prev = v;
    }
    return 1;
}

/* Parses buf[0..len) from an exact-size copy (so a sanitizer build catches
 * any read past it) and checks the verdict against ref_valid; an accepted
 * input must serialize back to itself. what names the case. */
static void check_parse(const uint8_t *buf, size_t len, const char *what, size_t i) {
    uint8_t *copy = malloc(len > 0 ? len : 1);
    struct keyring *kr = untouched_kr;
    assert_non_null(copy);
    memcpy(copy, buf, len);
    int r = keyring_parse(copy, len, &kr);
    int want = ref_valid(buf, len);
    if (want ? r != 0 : r != LK_EINVAL)
        fail_msg("%s %zu: keyring_parse gave %s, the reference says %s", what, i, lk_errname(r),
                 want ? "valid" : "invalid");
    if (r != 0) {
        assert_ptr_equal(kr, untouched_kr);
    } else {
        size_t n = 0;
        uint8_t *again = serialize_new(kr, &n);
        assert_i64_eq(n, len);
        assert_memory_equal(again, buf, len);
        free(again);
        keyring_free(kr);
    }
    free(copy);
}

/* A three-key keyring (versions 1, 2, 3) in serialized form; sets *ret_len. */
static uint8_t *three_keys(size_t *ret_len) {
    struct keyring *kr = new_ring(10);
    assert_i64_eq(keyring_rotate(kr, 20, NULL), 0);
    assert_i64_eq(keyring_rotate(kr, 30, NULL), 0);
    uint8_t *buf = serialize_new(kr, ret_len);
    keyring_free(kr);
    return buf;
}

static void test_parse_rejects_every_truncation_and_extension(void **state) {
    size_t len = 0;
    uint8_t *buf = three_keys(&len);
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    for (size_t n = 0; n < len; n++)
        check_parse(buf, n, "cut to", n);
    memcpy(longer, buf, len);
    longer[len] = 0;
    check_parse(longer, len + 1, "one byte longer, byte", len);
    check_parse(buf, len, "whole, length", len);
    free(longer);
    free(buf);
}

static void test_parse_rejects_garbled_headers_and_versions(void **state) {
    size_t len = 0;
    uint8_t *buf = three_keys(&len);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);

    /* Every value of every header byte and of every version byte: a few are
     * still valid (a larger version 3, say), the reference says which. */
    static const size_t positions[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 53, 94, 97};
    for (size_t p = 0; p < sizeof(positions) / sizeof(positions[0]); p++) {
        for (int b = 0; b < 256; b++) {
            memcpy(copy, buf, len);
            copy[positions[p]] = (uint8_t)b;
            check_parse(copy, len, "byte changed at", positions[p]);
        }
    }

    /* Named cases, each refused. */
    struct keyring *kr = untouched_kr;
    memcpy(copy, buf, len);
    copy[5] = 0; /* count 0 */
    assert_i64_eq(keyring_parse(copy, KEYRING_HEADER_LEN, &kr), LK_EINVAL);
    memcpy(copy, buf, len);
    copy[6 + 44 + 3] = 1; /* version 2 becomes 1: equal to the one before */
    assert_i64_eq(keyring_parse(copy, len, &kr), LK_EINVAL);
    memcpy(copy, buf, len);
    copy[6 + 3] = 0; /* version 0 */
    assert_i64_eq(keyring_parse(copy, len, &kr), LK_EINVAL);
    memcpy(copy, buf, len);
    copy[6 + 88 + 3] = 2; /* 1, 2, 2 */
    assert_i64_eq(keyring_parse(copy, len, &kr), LK_EINVAL);
    assert_ptr_equal(kr, untouched_kr);
    free(copy);
    free(buf);
}

static void test_parse_rejects_a_count_above_the_maximum(void **state) {
    /* 65 well-ordered keys, with the length that count would need. */
    size_t len = KEYRING_HEADER_LEN + (KEYRING_MAX_KEYS + 1) * KEYRING_ENTRY_LEN;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    memcpy(buf, "LKKR\x01", 5);
    buf[5] = KEYRING_MAX_KEYS + 1;
    for (size_t i = 0; i <= KEYRING_MAX_KEYS; i++)
        buf[KEYRING_HEADER_LEN + i * KEYRING_ENTRY_LEN + 3] = (uint8_t)(i + 1);
    check_parse(buf, len, "count", KEYRING_MAX_KEYS + 1);
    /* 64 of them are fine. */
    buf[5] = KEYRING_MAX_KEYS;
    check_parse(buf, len - KEYRING_ENTRY_LEN, "count", KEYRING_MAX_KEYS);
    free(buf);
}

static void test_parse_rejects_pseudo_random_bytes(void **state) {
    /* A fixed xorshift stream: the same inputs on every run. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    uint8_t buf[KEYRING_HEADER_LEN + 3 * KEYRING_ENTRY_LEN];
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        /* Half of the rounds get a right header, so the checks behind it run too. */
        if (round % 2 == 0)
            memcpy(buf, "LKKR\x01\x03", 6);
        check_parse(buf, (size_t)(x >> 32) % (sizeof(buf) + 1), "pseudo-random round", (size_t)round);
        check_parse(buf, sizeof(buf), "pseudo-random full round", (size_t)round);
    }
}

/* ---- wrapping under the root key ---- */

static void test_wrap_unwrap_round_trip(void **state) {
    uint8_t root[AEAD_KEY_LEN], blob[KEYRING_WRAPPED_MAX];
    size_t blob_len = 0;
    uint32_t v = 99;
    struct keyring *kr = new_ring(5), *back = NULL;
    fill_root(root, 1);
    assert_i64_eq(keyring_rotate(kr, 6, NULL), 0);
    assert_i64_eq(keyring_wrap(kr, root, blob, sizeof(blob), &blob_len), 0);
    assert_i64_eq(blob_len, keyring_wrapped_size(kr));
    assert_i64_eq(blob_len, keyring_serialized_size(kr) + AEAD_OVERHEAD);
    assert_i64_eq(aead_key_version(blob, blob_len, &v), 0);
    assert_i64_eq(v, KEYRING_ROOT_VERSION);

    assert_i64_eq(keyring_root_check(root, blob, blob_len), 0);
    assert_i64_eq(keyring_unwrap(root, blob, blob_len, &back), 0);
    assert_same_ring(kr, back);
    keyring_free(back);
    keyring_free(kr);
}

static void test_the_largest_keyring_wraps(void **state) {
    uint8_t root[AEAD_KEY_LEN], blob[KEYRING_WRAPPED_MAX];
    size_t blob_len = 0;
    struct keyring *kr = new_ring(0), *back = NULL;
    fill_root(root, 2);
    for (int i = 2; i <= KEYRING_MAX_KEYS; i++)
        assert_i64_eq(keyring_rotate(kr, i, NULL), 0);
    assert_i64_eq(keyring_wrapped_size(kr), KEYRING_WRAPPED_MAX);
    assert_i64_eq(keyring_wrap(kr, root, blob, sizeof(blob), &blob_len), 0);
    assert_i64_eq(blob_len, KEYRING_WRAPPED_MAX);
    assert_i64_eq(keyring_unwrap(root, blob, blob_len, &back), 0);
    assert_same_ring(kr, back);
    keyring_free(back);
    keyring_free(kr);
}

static void test_wrong_root_key_is_an_integrity_failure(void **state) {
    uint8_t root[AEAD_KEY_LEN], other[AEAD_KEY_LEN], blob[KEYRING_WRAPPED_MAX];
    size_t blob_len = 0;
    struct keyring *kr = new_ring(0), *back = untouched_kr;
    fill_root(root, 1);
    assert_i64_eq(keyring_wrap(kr, root, blob, sizeof(blob), &blob_len), 0);
    for (size_t i = 0; i < AEAD_KEY_LEN; i++) {
        memcpy(other, root, sizeof(other));
        other[i] ^= 0x01;
        int r = keyring_unwrap(other, blob, blob_len, &back);
        if (r != LK_EINTEGRITY)
            fail_msg("a root key differing in byte %zu unwrapped with %s, expected INTEGRITY", i, lk_errname(r));
        r = keyring_root_check(other, blob, blob_len);
        if (r != LK_EINTEGRITY)
            fail_msg("a root key differing in byte %zu checked %s, expected INTEGRITY", i, lk_errname(r));
    }
    assert_ptr_equal(back, untouched_kr);
    keyring_free(kr);
}

static void test_altered_wrapped_keyring_is_an_integrity_failure(void **state) {
    uint8_t root[AEAD_KEY_LEN], blob[KEYRING_WRAPPED_MAX];
    size_t blob_len = 0;
    struct keyring *kr = new_ring(0), *back = untouched_kr;
    fill_root(root, 1);
    assert_i64_eq(keyring_wrap(kr, root, blob, sizeof(blob), &blob_len), 0);
    for (size_t i = 0; i < blob_len; i++) {
        blob[i] ^= 0x10;
        int r = keyring_unwrap(root, blob, blob_len, &back);
        if (r != LK_EINTEGRITY)
            fail_msg("changing byte %zu of the wrapped keyring gave %s, expected INTEGRITY", i, lk_errname(r));
        assert_i64_eq(keyring_root_check(root, blob, blob_len), LK_EINTEGRITY);
        blob[i] ^= 0x10;
    }
    for (size_t n = 0; n < blob_len; n++)
        assert_i64_eq(keyring_unwrap(root, blob, n, &back), LK_EINTEGRITY);
    assert_i64_eq(keyring_root_check(root, blob, AEAD_OVERHEAD - 1), LK_EINTEGRITY);
    assert_ptr_equal(back, untouched_kr);
    keyring_free(kr);
}

static void test_a_value_envelope_is_not_a_wrapped_keyring(void **state) {
    /* The keyring's bytes sealed under the root key, but as a value would be
     * (other associated data, a keyring version): refused. */
    uint8_t root[AEAD_KEY_LEN], env[KEYRING_WRAPPED_MAX];
    size_t len = 0;
    struct keyring *kr = new_ring(0), *back = untouched_kr;
    fill_root(root, 1);
    uint8_t *plain = serialize_new(kr, &len);
    assert_i64_eq(aead_seal(root, KEYRING_ROOT_VERSION, row_aad, strlen(row_aad), plain, len, env, sizeof(env)), 0);
    assert_i64_eq(keyring_unwrap(root, env, aead_sealed_size(len), &back), LK_EINTEGRITY);
    assert_i64_eq(keyring_root_check(root, env, aead_sealed_size(len)), LK_EINTEGRITY);
    assert_ptr_equal(back, untouched_kr);
    explicit_bzero(plain, len);
    free(plain);
    keyring_free(kr);
}

static void test_authentic_but_unreadable_keyring_is_not_an_integrity_failure(void **state) {
    /* What a newer format would look like to this build: the root key is
     * right (the check passes), the contents are not a keyring it reads. */
    static const uint8_t newer[] = {'L', 'K', 'K', 'R', 2, 0};
    uint8_t root[AEAD_KEY_LEN], env[sizeof(newer) + AEAD_OVERHEAD];
    struct keyring *back = untouched_kr;
    fill_root(root, 1);
    assert_i64_eq(aead_seal(root, KEYRING_ROOT_VERSION, KEYRING_WRAP_AAD, strlen(KEYRING_WRAP_AAD), newer,
                            sizeof(newer), env, sizeof(env)),
                  0);
    assert_i64_eq(keyring_root_check(root, env, sizeof(env)), 0);
    assert_i64_eq(keyring_unwrap(root, env, sizeof(env), &back), LK_EINVAL);
    assert_ptr_equal(back, untouched_kr);
}

static void test_wrap_refuses_a_short_output_untouched(void **state) {
    uint8_t root[AEAD_KEY_LEN], blob[KEYRING_WRAPPED_MAX];
    size_t blob_len = 777;
    struct keyring *kr = new_ring(0);
    fill_root(root, 1);
    memset(blob, SENTINEL, sizeof(blob));
    assert_i64_eq(keyring_wrap(kr, root, blob, keyring_wrapped_size(kr) - 1, &blob_len), LK_ERANGE);
    for (size_t i = 0; i < sizeof(blob); i++)
        assert_i64_eq(blob[i], SENTINEL);
    assert_i64_eq(blob_len, 777);
    keyring_free(kr);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_holds_version_1),
        cmocka_unit_test(test_two_new_keyrings_have_different_keys),
        cmocka_unit_test(test_rotate_adds_the_next_version),
        cmocka_unit_test(test_rotate_stops_at_the_maximum),
        cmocka_unit_test(test_rotate_stops_at_the_last_version),
        cmocka_unit_test(test_free_accepts_null),
        cmocka_unit_test(test_value_sealed_under_v1_opens_after_rotation_to_v3),
        cmocka_unit_test(test_open_with_a_version_not_in_the_ring_fails),
        cmocka_unit_test(test_relabelled_version_fails),
        cmocka_unit_test(test_open_of_a_malformed_envelope_fails),
        cmocka_unit_test(test_serialize_layout),
        cmocka_unit_test(test_serialize_parse_round_trip),
        cmocka_unit_test(test_serialize_refuses_a_short_output_untouched),
        cmocka_unit_test(test_parse_accepts_gaps_between_versions),
        cmocka_unit_test(test_parse_rejects_every_truncation_and_extension),
        cmocka_unit_test(test_parse_rejects_garbled_headers_and_versions),
        cmocka_unit_test(test_parse_rejects_a_count_above_the_maximum),
        cmocka_unit_test(test_parse_rejects_pseudo_random_bytes),
        cmocka_unit_test(test_wrap_unwrap_round_trip),
        cmocka_unit_test(test_the_largest_keyring_wraps),
        cmocka_unit_test(test_wrong_root_key_is_an_integrity_failure),
        cmocka_unit_test(test_altered_wrapped_keyring_is_an_integrity_failure),
        cmocka_unit_test(test_a_value_envelope_is_not_a_wrapped_keyring),
        cmocka_unit_test(test_authentic_but_unreadable_keyring_is_not_an_integrity_failure),
        cmocka_unit_test(test_wrap_refuses_a_short_output_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
