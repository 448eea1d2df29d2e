/*
 * test_shamir.c - unit tests for Shamir's secret sharing over GF(2^8)
 * (core/shamir.h): the field against FIPS-197 and an independent multiply,
 * hand-computed shares, every subset of shares at and past the threshold,
 * fewer than the threshold, and the arguments refused.
 *
 * Coefficients come from a fixed-seed generator, so every run splits the
 * same way and a failure names the case that reproduces it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "core/errors.h"
#include "core/shamir.h"

#include "unit_assert.h"

#define RANDOM_MAX ((SHAMIR_SHARES_MAX - 1) * SHAMIR_SECRET_MAX)
#define SHARES_BUF (SHAMIR_SHARES_MAX * SHAMIR_SHARE_LEN(SHAMIR_SECRET_MAX))

/* splitmix64: a fixed-seed stream standing in for the CSPRNG. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void fill(uint64_t *s, uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(next_u64(s) >> 56);
}

/* Pointers to the shares whose bit is set in mask, in share order. */
static size_t pick(const uint8_t *shares, size_t share_len, unsigned n, unsigned mask, const uint8_t **ret) {
    size_t count = 0;
    for (unsigned k = 0; k < n; k++)
        if (mask & (1u << k))
            ret[count++] = shares + (size_t)k * share_len;
    return count;
}

/* Carry-less product, then reduction by long division: a different route
 * from the module's interleaved shift-and-reduce, to check it against. */
static uint8_t textbook_mul(uint8_t a, uint8_t b) {
    unsigned p = 0;
    for (int i = 0; i < 8; i++)
        if (b & (1u << i))
            p ^= (unsigned)a << i;
    for (int deg = 14; deg >= 8; deg--)
        if (p & (1u << deg))
            p ^= 0x11Bu << (deg - 8);
    return (uint8_t)p;
}

/* ---- GF(2^8) ---- */

static void test_gf256_mul_fips197_examples(void **state) {
    /* FIPS-197 section 4.2 and 4.2.1. */
    assert_i64_eq(shamir_gf256_mul(0x57, 0x83), 0xC1);
    assert_i64_eq(shamir_gf256_mul(0x57, 0x13), 0xFE);
    assert_i64_eq(shamir_gf256_mul(0x57, 0x02), 0xAE);
    assert_i64_eq(shamir_gf256_mul(0x57, 0x04), 0x47);
    assert_i64_eq(shamir_gf256_mul(0x57, 0x08), 0x8E);
    assert_i64_eq(shamir_gf256_mul(0x57, 0x10), 0x07);
}

static void test_gf256_mul_matches_textbook_multiply_for_all_pairs(void **state) {
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            uint8_t got = shamir_gf256_mul((uint8_t)a, (uint8_t)b), want = textbook_mul((uint8_t)a, (uint8_t)b);
            if (got != want)
                fail_msg("0x%02x * 0x%02x is 0x%02x, expected 0x%02x", a, b, got, want);
        }
}

static void test_gf256_mul_is_commutative_with_identity_and_zero(void **state) {
    for (unsigned a = 0; a < 256; a++) {
        assert_i64_eq(shamir_gf256_mul((uint8_t)a, 1), a);
        assert_i64_eq(shamir_gf256_mul((uint8_t)a, 0), 0);
        for (unsigned b = 0; b < 256; b++)
            if (shamir_gf256_mul((uint8_t)a, (uint8_t)b) != shamir_gf256_mul((uint8_t)b, (uint8_t)a))
                fail_msg("0x%02x * 0x%02x differs from 0x%02x * 0x%02x", a, b, b, a);
    }
}

static void test_gf256_inv_of_every_nonzero_element(void **state) {
    for (unsigned a = 1; a < 256; a++) {
        uint8_t inv = shamir_gf256_inv((uint8_t)a);
        if (shamir_gf256_mul((uint8_t)a, inv) != 1)
            fail_msg("0x%02x * inv(0x%02x) = 0x%02x * 0x%02x is 0x%02x, expected 1", a, a, a, inv,
                     shamir_gf256_mul((uint8_t)a, inv));
    }
    assert_i64_eq(shamir_gf256_inv(0), 0);
    assert_i64_eq(shamir_gf256_inv(1), 1);
    assert_i64_eq(shamir_gf256_inv(0x02), 0x8D); /* 0x02 * 0x8D = 0x11A, minus 0x11B is 1 */
    assert_i64_eq(shamir_gf256_inv(0x53), 0xCA); /* the classic AES S-box example */
}

/* ---- known answers, computed by hand ---- */

/*
 * Secret 0x42, t = 2, n = 3, coefficient c1 = 0x80: share x is
 * 0x42 ^ 0x80 * x.
 *   x = 1: 0x80                             -> 0x42 ^ 0x80 = 0xC2
 *   x = 2: 0x80 << 1 = 0x100, ^ 0x11B = 0x1B -> 0x42 ^ 0x1B = 0x59
 *   x = 3: 0x80 * 2 ^ 0x80 = 0x1B ^ 0x80 = 0x9B -> 0x42 ^ 0x9B = 0xD9
 * Back from shares 2 and 3: l2 = 3 / (2 ^ 3) = 3, l3 = 2 / (3 ^ 2) = 2, and
 * 3 * 0x59 ^ 2 * 0xD9 = (0xB2 ^ 0x59) ^ (0x1B2 ^ 0x11B) = 0xEB ^ 0xA9 = 0x42.
 */
static void test_known_answer_one_byte_threshold_2(void **state) {
    static const uint8_t secret[1] = {0x42}, random[1] = {0x80};
    static const uint8_t want[3][2] = {{0x01, 0xC2}, {0x02, 0x59}, {0x03, 0xD9}};
    uint8_t shares[3][2], back[1] = {0};
    const uint8_t *two_and_three[2] = {shares[1], shares[2]};

    assert_i64_eq(shamir_split(secret, 1, 3, 2, random, 1, &shares[0][0]), 0);
    assert_memory_equal(shares, want, sizeof(want));
    assert_i64_eq(shamir_combine(two_and_three, 2, 2, back), 0);
    assert_i64_eq(back[0], 0x42);
}

/*
 * The coefficient layout: random[(j - 1) * len + i] multiplies x^j in byte
 * i. Secret {0x42, 0x00}, t = 3, random {0x80, 0x00, 0x01, 0x01}: byte 0
 * has c1 = 0x80, c2 = 0x01; byte 1 has c1 = 0x00, c2 = 0x01. With x^2 being
 * 1, 4 and 3 * 3 = (x + 1)^2 = x^2 + 1 = 5 for x = 1, 2, 3, and 0x80 * x
 * from the example above:
 *   byte 0: x = 1: 0x42 ^ 0x80 ^ 0x01 = 0xC3
 *           x = 2: 0x42 ^ 0x1B ^ 0x04 = 0x5D
 *           x = 3: 0x42 ^ 0x9B ^ 0x05 = 0xDC
 *   byte 1: x^2, so 0x01, 0x04, 0x05.
 */
static void test_known_answer_coefficient_layout_threshold_3(void **state) {
    static const uint8_t secret[2] = {0x42, 0x00}, random[4] = {0x80, 0x00, 0x01, 0x01};
    static const uint8_t want[3][3] = {{0x01, 0xC3, 0x01}, {0x02, 0x5D, 0x04}, {0x03, 0xDC, 0x05}};
    uint8_t shares[3][3], back[2] = {0};
    const uint8_t *all[3] = {shares[2], shares[0], shares[1]};

    assert_i64_eq(shamir_split(secret, 2, 3, 3, random, 4, &shares[0][0]), 0);
    assert_memory_equal(shares, want, sizeof(want));
    assert_i64_eq(shamir_combine(all, 3, 3, back), 0);
    assert_memory_equal(back, secret, sizeof(secret));
}

static void test_threshold_1_every_share_is_the_secret(void **state) {
    static const uint8_t secret[4] = {0xde, 0xad, 0xbe, 0xef};
    uint8_t shares[3][5], back[4] = {0};

    assert_i64_eq(shamir_split(secret, 4, 3, 1, NULL, 0, &shares[0][0]), 0);
    for (unsigned k = 0; k < 3; k++) {
        const uint8_t *one[1] = {shares[k]};
        assert_i64_eq(shares[k][0], k + 1);
        assert_memory_equal(&shares[k][1], secret, sizeof(secret));
        memset(back, 0, sizeof(back));
        assert_i64_eq(shamir_combine(one, 1, 5, back), 0);
        assert_memory_equal(back, secret, sizeof(secret));
    }
}

/* ---- thresholds ---- */

static void test_every_subset_of_t_or_more_shares_rebuilds_the_secret(void **state) {
    static const unsigned cases[][2] = {{1, 1}, {2, 1}, {2, 2}, {3, 2}, {5, 3}, {6, 6}};
    static const size_t lens[] = {1, 16, 32, 64};
    uint64_t seed = 1;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned n = cases[c][0], t = cases[c][1];
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            size_t len = lens[l], share_len = SHAMIR_SHARE_LEN(len);
            uint8_t secret[SHAMIR_SECRET_MAX], random[RANDOM_MAX], shares[SHARES_BUF];
            unsigned rebuilt = 0;

            fill(&seed, secret, len);
            fill(&seed, random, (t - 1) * len);
            assert_i64_eq(shamir_split(secret, len, n, t, random, (t - 1) * len, shares), 0);
            for (unsigned k = 0; k < n; k++)
                assert_i64_eq(shares[k * share_len], k + 1);

            for (unsigned mask = 1; mask < (1u << n); mask++) {
                const uint8_t *subset[6];
                uint8_t back[SHAMIR_SECRET_MAX] = {0};
                size_t count = pick(shares, share_len, n, mask, subset);
                if (count < t)
                    continue;
                assert_i64_eq(shamir_combine(subset, count, share_len, back), 0);
                if (memcmp(back, secret, len) != 0)
                    fail_msg("n=%u t=%u len=%zu: shares 0x%x (%zu of them) do not rebuild the secret", n, t, len, mask,
                             count);
                rebuilt++;
            }
            /* Not vacuous: at least every t-subset was tried. */
            assert_true(rebuilt >= 1);
        }
    }
}

/*
 * With f(x) = s + c1 x + c2 x^2, the line through two shares x1, x2 meets
 * x = 0 at s + c2 x1 x2 (the c1 terms cancel in characteristic 2): two
 * shares give s exactly where c2 is 0, one share gives f(x1).
 */
static void test_fewer_than_3_of_5_shares_do_not_rebuild_the_secret(void **state) {
    const size_t len = 32, share_len = SHAMIR_SHARE_LEN(32);
    uint8_t secret[32], random[2 * 32], shares[5 * SHAMIR_SHARE_LEN(32)];
    const uint8_t *c2 = random + len;
    uint64_t seed = 0x5eed;

    fill(&seed, secret, len);
    fill(&seed, random, sizeof(random));
    assert_i64_eq(shamir_split(secret, len, 5, 3, random, sizeof(random), shares), 0);

    for (unsigned mask = 1; mask < (1u << 5); mask++) {
        const uint8_t *subset[5];
        uint8_t back[32] = {0};
        size_t count = pick(shares, share_len, 5, mask, subset);
        if (count >= 3)
            continue;
        assert_i64_eq(shamir_combine(subset, count, share_len, back), 0);
        if (memcmp(back, secret, len) == 0)
            fail_msg("shares 0x%x (%zu of 5, threshold 3) rebuild the secret", mask, count);
        if (count == 2) {
            uint8_t x1x2 = shamir_gf256_mul(subset[0][0], subset[1][0]);
            for (size_t i = 0; i < len; i++) {
                uint8_t want = secret[i] ^ shamir_gf256_mul(c2[i], x1x2);
                if (back[i] != want)
                    fail_msg("shares 0x%x byte %zu is 0x%02x, expected s + c2 x1 x2 = 0x%02x", mask, i, back[i], want);
            }
        } else {
            assert_memory_equal(back, subset[0] + 1, len);
        }
    }
}

/*
 * Two shares of a threshold-3 split say nothing about the secret: for a
 * fixed secret, the 65536 choices of (c1, c2) give each of the 65536 pairs
 * of y values at x = 1, 2 exactly once, whatever the secret is.
 */
static void test_two_shares_below_threshold_3_are_uniform_for_any_secret(void **state) {
    static const uint8_t secrets[] = {0x00, 0x42, 0xff};
    static uint8_t hits[256][256];

    for (size_t s = 0; s < sizeof(secrets); s++) {
        memset(hits, 0, sizeof(hits));
        for (unsigned c = 0; c < 65536; c++) {
            uint8_t random[2] = {(uint8_t)(c >> 8), (uint8_t)c}, shares[3][2];
            assert_i64_eq(shamir_split(&secrets[s], 1, 3, 3, random, 2, &shares[0][0]), 0);
            hits[shares[0][1]][shares[1][1]]++;
        }
        for (unsigned y1 = 0; y1 < 256; y1++)
            for (unsigned y2 = 0; y2 < 256; y2++)
                if (hits[y1][y2] != 1)
                    fail_msg("secret 0x%02x: shares (1, 0x%02x), (2, 0x%02x) arise %u times, expected once", secrets[s],
                             y1, y2, hits[y1][y2]);
    }
}

static void test_combine_is_order_independent(void **state) {
    const size_t len = 32, share_len = SHAMIR_SHARE_LEN(32);
    uint8_t secret[32], random[2 * 32], shares[5 * SHAMIR_SHARE_LEN(32)];
    uint64_t seed = 7;
    unsigned tried = 0;

    fill(&seed, secret, len);
    fill(&seed, random, sizeof(random));
    assert_i64_eq(shamir_split(secret, len, 5, 3, random, sizeof(random), shares), 0);

    /* Every ordered choice of 3 distinct shares out of 5. */
    for (unsigned a = 0; a < 5; a++)
        for (unsigned b = 0; b < 5; b++)
            for (unsigned c = 0; c < 5; c++) {
                if (a == b || b == c || a == c)
                    continue;
                const uint8_t *order[3] = {shares + a * share_len, shares + b * share_len, shares + c * share_len};
                uint8_t back[32] = {0};
                assert_i64_eq(shamir_combine(order, 3, share_len, back), 0);
                if (memcmp(back, secret, len) != 0)
                    fail_msg("shares in order %u, %u, %u do not rebuild the secret", a + 1, b + 1, c + 1);
                tried++;
            }
    assert_i64_eq(tried, 60);

    /* All five, backwards. */
    const uint8_t *backwards[5];
    uint8_t back[32] = {0};
    for (unsigned k = 0; k < 5; k++)
        backwards[k] = shares + (4 - k) * share_len;
    assert_i64_eq(shamir_combine(backwards, 5, share_len, back), 0);
    assert_memory_equal(back, secret, len);
}

static void test_all_255_shares_rebuild_a_64_byte_secret(void **state) {
    static uint8_t secret[64], random[RANDOM_MAX], shares[SHARES_BUF];
    static const uint8_t *all[SHAMIR_SHARES_MAX];
    const size_t share_len = SHAMIR_SHARE_LEN(64);
    uint8_t back[64] = {0};
    uint64_t seed = 255;

    fill(&seed, secret, sizeof(secret));
    fill(&seed, random, RANDOM_MAX);
    assert_i64_eq(shamir_split(secret, 64, 255, 255, random, RANDOM_MAX, shares), 0);
    for (unsigned k = 0; k < SHAMIR_SHARES_MAX; k++) {
        assert_i64_eq(shares[k * share_len], k + 1);
        all[k] = shares + k * share_len;
    }
    assert_i64_eq(shamir_combine(all, SHAMIR_SHARES_MAX, share_len, back), 0);
    assert_memory_equal(back, secret, sizeof(secret));
    /* 254 of them are one short. */
    assert_i64_eq(shamir_combine(all + 1, SHAMIR_SHARES_MAX - 1, share_len, back), 0);
    assert_memory_not_equal(back, secret, sizeof(secret));
}

static void test_combine_may_write_over_a_share(void **state) {
    static const uint8_t secret[4] = {1, 2, 3, 4}, random[4] = {9, 8, 7, 6};
    uint8_t shares[2][5];
    const uint8_t *both[2] = {shares[0], shares[1]};

    assert_i64_eq(shamir_split(secret, 4, 2, 2, random, 4, &shares[0][0]), 0);
    assert_i64_eq(shamir_combine(both, 2, 5, &shares[0][1]), 0);
    assert_memory_equal(&shares[0][1], secret, sizeof(secret));
}

/* ---- arguments refused ---- */

static void test_split_refuses_bad_arguments_and_writes_nothing(void **state) {
    static const struct {
        const char *what;
        size_t len;
        unsigned n, t;
        size_t random_len;
        int null_secret, null_random, null_shares;
    } cases[] = {
        {"n = 0", 32, 0, 1, 0, 0, 0, 0},
        {"n = 0, t = 0", 32, 0, 0, 0, 0, 0, 0},
        {"t = 0", 32, 3, 0, 0, 0, 0, 0},
        {"t > n", 32, 3, 4, 3 * 32, 0, 0, 0},
        {"n = 256", 32, 256, 2, 32, 0, 0, 0},
        {"n = t = UINT_MAX", 32, UINT_MAX, UINT_MAX, 0, 0, 0, 0},
        {"len = 0", 0, 3, 2, 0, 0, 0, 0},
        {"len = 65", 65, 3, 2, 65, 0, 0, 0},
        {"random one byte short", 32, 5, 3, 2 * 32 - 1, 0, 0, 0},
        {"random one byte long", 32, 5, 3, 2 * 32 + 1, 0, 0, 0},
        {"random given with t = 1", 32, 3, 1, 1, 0, 0, 0},
        {"random NULL", 32, 5, 3, 2 * 32, 0, 1, 0},
        {"secret NULL", 32, 5, 3, 2 * 32, 1, 0, 0},
        {"shares NULL", 32, 5, 3, 2 * 32, 0, 0, 1},
    };
    static uint8_t secret[65], random[RANDOM_MAX], shares[SHARES_BUF + 256], untouched[SHARES_BUF + 256];

    memset(secret, 0x11, sizeof(secret));
    memset(random, 0x22, sizeof(random));
    memset(untouched, 0xAA, sizeof(untouched));
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memcpy(shares, untouched, sizeof(shares));
        int r = shamir_split(cases[c].null_secret ? NULL : secret, cases[c].len, cases[c].n, cases[c].t,
                             cases[c].null_random ? NULL : random, cases[c].random_len,
                             cases[c].null_shares ? NULL : shares);
        if (r != LK_EINVAL)
            fail_msg("%s: shamir_split returned %d, expected LK_EINVAL (%d)", cases[c].what, r, LK_EINVAL);
        if (memcmp(shares, untouched, sizeof(shares)) != 0)
            fail_msg("%s: shamir_split wrote to shares", cases[c].what);
    }
}

static void test_combine_refuses_bad_arguments_and_writes_nothing(void **state) {
    static const uint8_t secret[4] = {1, 2, 3, 4}, random[8] = {5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t untouched[SHAMIR_SECRET_MAX + 1], shares[3][5], x0[5], same_x[5];
    const uint8_t *list[SHAMIR_SHARES_MAX + 1];

    memset(untouched, 0xAA, sizeof(untouched));
    assert_i64_eq(shamir_split(secret, 4, 3, 3, random, 8, &shares[0][0]), 0);
    memcpy(x0, shares[2], sizeof(x0));
    x0[0] = 0;
    memcpy(same_x, shares[2], sizeof(same_x));
    same_x[0] = shares[0][0];
    same_x[1] ^= 0x01;
    for (size_t k = 0; k < SHAMIR_SHARES_MAX + 1; k++)
        list[k] = shares[0];

    const struct {
        const char *what;
        const uint8_t *s[3];
        size_t nshares, share_len;
    } cases[] = {
        {"nshares = 0", {shares[0], shares[1], shares[2]}, 0, 5},
        {"share_len = 0", {shares[0], shares[1], shares[2]}, 3, 0},
        {"share_len = 1", {shares[0], shares[1], shares[2]}, 3, 1},
        {"share_len = 66", {shares[0], shares[1], shares[2]}, 3, SHAMIR_SHARE_LEN(SHAMIR_SECRET_MAX) + 1},
        {"one share given twice", {shares[0], shares[1], shares[0]}, 3, 5},
        {"two shares with one x", {shares[0], shares[1], same_x}, 3, 5},
        {"x = 0", {shares[0], shares[1], x0}, 3, 5},
        {"x = 0 first", {x0, shares[0], shares[1]}, 3, 5},
        {"a NULL share", {shares[0], NULL, shares[2]}, 3, 5},
    };
    uint8_t back[SHAMIR_SECRET_MAX + 1];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memcpy(back, untouched, sizeof(back));
        int r = shamir_combine(cases[c].s, cases[c].nshares, cases[c].share_len, back);
        if (r != LK_EINVAL)
            fail_msg("%s: shamir_combine returned %d, expected LK_EINVAL (%d)", cases[c].what, r, LK_EINVAL);
        if (memcmp(back, untouched, sizeof(back)) != 0)
            fail_msg("%s: shamir_combine wrote to secret", cases[c].what);
    }

    memcpy(back, untouched, sizeof(back));
    assert_i64_eq(shamir_combine(list, SHAMIR_SHARES_MAX + 1, 5, back), LK_EINVAL);
    assert_i64_eq(shamir_combine(NULL, 3, 5, back), LK_EINVAL);
    assert_memory_equal(back, untouched, sizeof(back));
    const uint8_t *ok[3] = {shares[0], shares[1], shares[2]};
    assert_i64_eq(shamir_combine(ok, 3, 5, NULL), LK_EINVAL);
    /* The same shares, well formed, do rebuild it: the refusals above were the arguments'. */
    assert_i64_eq(shamir_combine(ok, 3, 5, back), 0);
    assert_memory_equal(back, secret, sizeof(secret));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gf256_mul_fips197_examples),
        cmocka_unit_test(test_gf256_mul_matches_textbook_multiply_for_all_pairs),
        cmocka_unit_test(test_gf256_mul_is_commutative_with_identity_and_zero),
        cmocka_unit_test(test_gf256_inv_of_every_nonzero_element),
        cmocka_unit_test(test_known_answer_one_byte_threshold_2),
        cmocka_unit_test(test_known_answer_coefficient_layout_threshold_3),
        cmocka_unit_test(test_threshold_1_every_share_is_the_secret),
        cmocka_unit_test(test_every_subset_of_t_or_more_shares_rebuilds_the_secret),
        cmocka_unit_test(test_fewer_than_3_of_5_shares_do_not_rebuild_the_secret),
        cmocka_unit_test(test_two_shares_below_threshold_3_are_uniform_for_any_secret),
        cmocka_unit_test(test_combine_is_order_independent),
        cmocka_unit_test(test_all_255_shares_rebuild_a_64_byte_secret),
        cmocka_unit_test(test_combine_may_write_over_a_share),
        cmocka_unit_test(test_split_refuses_bad_arguments_and_writes_nothing),
        cmocka_unit_test(test_combine_refuses_bad_arguments_and_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
