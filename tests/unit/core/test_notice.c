/*
 * test_notice.c - table-driven unit tests for the expiry-notice rules
 * (core/notice.h): offset parsing, which offset is due, the backoff, stable
 * notice ids and the webhook signature header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/notice.h"
#include "core/secret.h"

#include "unit_assert.h"

#define DAY INT64_C(86400)
#define HOUR INT64_C(3600)
/* 2027-01-01T00:00:00Z */
#define T0 INT64_C(1798761600)

/* --- notice_offsets_parse ----------------------------------------------------- */

static void test_offsets_parse_ok(void **state) {
    static const struct {
        const char *in;
        size_t n;
        int want[6];
    } cases[] = {
        {"7,1", 2, {7, 1}},  {"1,7", 2, {7, 1}},     {"60,30,7,1", 4, {60, 30, 7, 1}},
        {"1", 1, {1}},       {"7,7,1,1", 2, {7, 1}}, {"3,14,2", 3, {14, 3, 2}},
        {"3650", 1, {3650}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int days[NOTICE_OFFSETS_MAX];
        size_t n = 99;
        int r = notice_offsets_parse(cases[i].in, days, NOTICE_OFFSETS_MAX, &n);
        if (r != 0)
            fail_msg("\"%s\": returned %d, expected 0", cases[i].in, r);
        if (n != cases[i].n)
            fail_msg("\"%s\": %zu offsets, expected %zu", cases[i].in, n, cases[i].n);
        for (size_t k = 0; k < n; k++)
            if (days[k] != cases[i].want[k])
                fail_msg("\"%s\": offset %zu is %d, expected %d", cases[i].in, k, days[k], cases[i].want[k]);
    }
}

static void test_offsets_parse_rejects(void **state) {
    static const char *const bad[] = {
        "", ",", "7,", ",7", "0", "7,0", "-1", "7;1", "7, 1", " 7", "3651", "99999999999999999999", "1.5", "a", "7,,1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int days[NOTICE_OFFSETS_MAX] = {42};
        size_t n = 99;
        int r = notice_offsets_parse(bad[i], days, NOTICE_OFFSETS_MAX, &n);
        if (r != LK_EINVAL)
            fail_msg("\"%s\": returned %d, expected LK_EINVAL", bad[i], r);
        if (n != 99 || days[0] != 42)
            fail_msg("\"%s\": outputs written on failure", bad[i]);
    }
    /* More distinct offsets than the caller has room for. */
    int days[2];
    size_t n = 0;
    assert_int_equal(notice_offsets_parse("3,2,1", days, 2, &n), LK_EINVAL);
    assert_int_equal(notice_offsets_parse("2,2,1", days, 2, &n), 0);
    assert_int_equal(n, 2);
}

/* --- notice_due ------------------------------------------------------------------ */

#define NT NOTICE_NOT_YET
#define NA NOTICE_NOT_APPLICABLE
#define DU NOTICE_DUE
#define SU NOTICE_SUPERSEDED

static const char *verdict_name(enum notice_verdict v) {
    switch (v) {
    case NOTICE_NOT_YET: return "not-yet";
    case NOTICE_NOT_APPLICABLE: return "not-applicable";
    case NOTICE_DUE: return "due";
    case NOTICE_SUPERSEDED: return "superseded";
    }
    return "?";
}

static void test_due_table(void **state) {
    static const int d71[] = {7, 1};
    static const int d4[] = {60, 30, 7, 1};
    static const struct {
        const char *name;
        int64_t created, expires, now;
        const int *days;
        size_t n;
        int want_idx;
        enum notice_verdict want[4];
        int short_lived; /* the org's notify_short_lived_tokens */
    } cases[] = {
        /* P8D: created T0, expires T0+8d. */
        {"P8D just created", T0, T0 + 8 * DAY, T0, d71, 2, -1, {NT, NT}, 0},
        {"P8D a second before the 7-day mark", T0, T0 + 8 * DAY, T0 + DAY - 1, d71, 2, -1, {NT, NT}, 0},
        {"P8D at the 7-day mark", T0, T0 + 8 * DAY, T0 + DAY, d71, 2, 0, {DU, NT}, 0},
        {"P8D three days in", T0, T0 + 8 * DAY, T0 + 3 * DAY, d71, 2, 0, {DU, NT}, 0},
        {"P8D at the 1-day mark", T0, T0 + 8 * DAY, T0 + 7 * DAY, d71, 2, 1, {SU, DU}, 0},
        {"P8D the last second", T0, T0 + 8 * DAY, T0 + 8 * DAY - 1, d71, 2, 1, {SU, DU}, 0},
        {"P8D at expiry", T0, T0 + 8 * DAY, T0 + 8 * DAY, d71, 2, -1, {NT, NT}, 0},
        {"P8D long after expiry", T0, T0 + 8 * DAY, T0 + 100 * DAY, d71, 2, -1, {NT, NT}, 0},
        /* Created with 3 days left: never a 7-day notice. */
        {"P3D created", T0, T0 + 3 * DAY, T0, d71, 2, -1, {NA, NT}, 0},
        {"P3D at the 1-day mark", T0, T0 + 3 * DAY, T0 + 2 * DAY, d71, 2, 1, {NA, DU}, 0},
        /* Exactly 7 days: the 7-day moment is the creation itself, so no 7-day notice. */
        {"P7D created", T0, T0 + 7 * DAY, T0, d71, 2, -1, {NA, NT}, 0},
        {"P7D at the 1-day mark", T0, T0 + 7 * DAY, T0 + 6 * DAY, d71, 2, 1, {NA, DU}, 0},
        /* 20 hours: born inside the final window. With the org's
         * notify_short_lived_tokens the 1-day notice is due at once... */
        {"PT20H created, short-lived on", T0, T0 + 20 * HOUR, T0, d71, 2, 1, {NA, DU}, 1},
        {"PT20H later, short-lived on", T0, T0 + 20 * HOUR, T0 + 19 * HOUR, d71, 2, 1, {NA, DU}, 1},
        {"PT20H expired, short-lived on", T0, T0 + 20 * HOUR, T0 + 20 * HOUR, d71, 2, -1, {NA, NT}, 1},
        /* ... and without it (the default) none ever is. */
        {"PT20H created", T0, T0 + 20 * HOUR, T0, d71, 2, -1, {NA, NA}, 0},
        {"PT20H later", T0, T0 + 20 * HOUR, T0 + 19 * HOUR, d71, 2, -1, {NA, NA}, 0},
        {"PT1H created", T0, T0 + HOUR, T0, d71, 2, -1, {NA, NA}, 0},
        /* With four offsets, a 2-hour token gets only the final (1-day) one, if any. */
        {"PT2H four offsets, short-lived on", T0, T0 + 2 * HOUR, T0, d4, 4, 3, {NA, NA, NA, DU}, 1},
        {"PT2H four offsets", T0, T0 + 2 * HOUR, T0, d4, 4, -1, {NA, NA, NA, NA}, 0},
        /* Exactly one day: the 1-day moment is the creation, so it is born inside. */
        {"P1D created", T0, T0 + DAY, T0, d71, 2, -1, {NA, NA}, 0},
        {"P1D created, short-lived on", T0, T0 + DAY, T0, d71, 2, 1, {NA, DU}, 1},
        /* The setting changes nothing for a token that lives longer than the final offset. */
        {"P8D at the 7-day mark, short-lived on", T0, T0 + 8 * DAY, T0 + DAY, d71, 2, 0, {DU, NT}, 1},
        {"P3D at the 1-day mark, short-lived on", T0, T0 + 3 * DAY, T0 + 2 * DAY, d71, 2, 1, {NA, DU}, 1},
        /* 25 hours: the 1-day moment is an hour after creation. */
        {"PT25H before", T0, T0 + 25 * HOUR, T0 + HOUR - 1, d71, 2, -1, {NA, NT}, 0},
        {"PT25H after", T0, T0 + 25 * HOUR, T0 + HOUR, d71, 2, 1, {NA, DU}, 0},
        /* Never expires. */
        {"no expiry", T0, 0, T0 + 1000 * DAY, d71, 2, -1, {NT, NT}, 0},
        /* Four offsets, the server down from day 10 to day 62 of a P90D token: only the 30-day one... */
        {"P90D at day 61 (30-day due)", T0, T0 + 90 * DAY, T0 + 61 * DAY, d4, 4, 1, {SU, DU, NT, NT}, 0},
        {"P90D at day 30", T0, T0 + 90 * DAY, T0 + 30 * DAY, d4, 4, 0, {DU, NT, NT, NT}, 0},
        {"P90D at day 89.5", T0, T0 + 90 * DAY, T0 + 89 * DAY + 12 * HOUR, d4, 4, 3, {SU, SU, SU, DU}, 0},
        {"P40D at day 11", T0, T0 + 40 * DAY, T0 + 11 * DAY, d4, 4, 1, {NA, DU, NT, NT}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum notice_verdict v[4];
        int idx = notice_due(cases[i].created, cases[i].expires, cases[i].now, cases[i].days, cases[i].n,
                             cases[i].short_lived, v);
        if (idx != cases[i].want_idx)
            fail_msg("%s: due index %d, expected %d", cases[i].name, idx, cases[i].want_idx);
        for (size_t k = 0; k < cases[i].n; k++)
            if (v[k] != cases[i].want[k])
                fail_msg("%s: offset %d is %s, expected %s", cases[i].name, cases[i].days[k], verdict_name(v[k]),
                         verdict_name(cases[i].want[k]));
    }
}

/* The offsets may come in any order: the most imminent due one wins. */
static void test_due_any_order(void **state) {
    static const int days[] = {1, 30, 7};
    enum notice_verdict v[3];
    int idx = notice_due(T0, T0 + 90 * DAY, T0 + 84 * DAY, days, 3, 0, v);
    assert_int_equal(idx, 2);
    assert_int_equal(v[0], NOTICE_NOT_YET);
    assert_int_equal(v[1], NOTICE_SUPERSEDED);
    assert_int_equal(v[2], NOTICE_DUE);
}

/* --- notice_backoff ---------------------------------------------------------------- */

static void test_backoff_table(void **state) {
    static const struct {
        int attempt;
        int64_t base, cap, want;
    } cases[] = {
        {1, 60, 3600, 60},
        {2, 60, 3600, 120},
        {3, 60, 3600, 240},
        {4, 60, 3600, 480},
        {5, 60, 3600, 960},
        {6, 60, 3600, 1920},
        {7, 60, 3600, 3600},
        {8, 60, 3600, 3600},
        {100, 60, 3600, 3600},
        {1000000, 60, 3600, 3600},
        {0, 60, 3600, 60},
        {-5, 60, 3600, 60},
        {1, 0, 10, 1},
        {3, 5, 1, 5}, /* a cap below base is raised to base */
        {63, 1, INT64_MAX, INT64_C(4611686018427387904)},
        {64, 1, INT64_MAX, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = notice_backoff(cases[i].attempt, cases[i].base, cases[i].cap);
        if (got != cases[i].want)
            fail_msg("backoff(%d, %lld, %lld) = %lld, expected %lld", cases[i].attempt, (long long)cases[i].base,
                     (long long)cases[i].cap, (long long)got, (long long)cases[i].want);
    }
    /* The defaults: the whole retry schedule fits in a few hours. */
    int64_t total = 0;
    for (int a = 1; a < NOTICE_MAX_ATTEMPTS; a++)
        total += notice_backoff(a, NOTICE_BACKOFF_BASE_SECONDS, NOTICE_BACKOFF_CAP_SECONDS);
    assert_i64_eq(total, 60 + 120 + 240 + 480 + 960 + 1920 + 3600);
}

/* --- notice_id ----------------------------------------------------------------------- */

static void test_notice_id(void **state) {
    char a[NOTICE_ID_BUFSZ], b[NOTICE_ID_BUFSZ], c[NOTICE_ID_BUFSZ], d[NOTICE_ID_BUFSZ], again[NOTICE_ID_BUFSZ];
    assert_int_equal(notice_id("lk_user_abc", 7, "email", NULL, a), 0);
    assert_int_equal(notice_id("lk_user_abc", 7, "email", NULL, again), 0);
    assert_int_equal(notice_id("lk_user_abc", 1, "email", NULL, b), 0);
    assert_int_equal(notice_id("lk_user_abc", 7, "webhook", NULL, c), 0);
    assert_int_equal(notice_id("lk_user_abd", 7, "email", NULL, d), 0);
    assert_string_equal(a, again);
    assert_true(strcmp(a, b) != 0 && strcmp(a, c) != 0 && strcmp(a, d) != 0);
    assert_int_equal(strlen(a), 28);
    assert_memory_equal(a, "ntc_", 4);
    /* The documented derivation: the first 24 hex digits of SHA-256("<token>/<days>/<channel>"). */
    uint8_t h[SECRET_HASH_LEN];
    char hex[2 * SECRET_HASH_LEN + 1];
    secret_hash("lk_user_abc/7/email", strlen("lk_user_abc/7/email"), h);
    secret_hex(h, sizeof(h), hex);
    assert_memory_equal(a + 4, hex, 24);
    assert_int_equal(notice_id("", 7, "email", NULL, a), LK_EINVAL);
    assert_int_equal(notice_id("lk_user_abc", 0, "email", NULL, a), LK_EINVAL);
    assert_int_equal(notice_id("lk_user_abc", 7, "", NULL, a), LK_EINVAL);
    /* A recipient is part of the key: each address's row has its own id,
     * and "" is the same as none. */
    char e1[NOTICE_ID_BUFSZ], e2[NOTICE_ID_BUFSZ], e0[NOTICE_ID_BUFSZ];
    assert_int_equal(notice_id("lk_user_abc", 7, "email", "a@example.com", e1), 0);
    assert_int_equal(notice_id("lk_user_abc", 7, "email", "b@example.com", e2), 0);
    assert_int_equal(notice_id("lk_user_abc", 7, "email", "", e0), 0);
    assert_true(strcmp(e1, e2) != 0 && strcmp(e1, again) != 0);
    assert_string_equal(e0, again);
    secret_hash("lk_user_abc/7/email/a@example.com", strlen("lk_user_abc/7/email/a@example.com"), h);
    secret_hex(h, sizeof(h), hex);
    assert_memory_equal(e1 + 4, hex, 24);
}

/* --- notice_signature ------------------------------------------------------------------ */

static void test_signature_format(void **state) {
    static const char secret[] = "whsec-test-0123456789";
    static const char body[] = "{\"days_before\":7,\"token_id\":\"lk_user_abc\"}";
    char sig[NOTICE_SIG_BUFSZ];
    assert_int_equal(notice_signature(secret, strlen(secret), 1798761600, body, strlen(body), sig), 0);
    /* "t=<unix>,v1=<64 hex>" */
    assert_memory_equal(sig, "t=1798761600,v1=", 16);
    assert_int_equal(strlen(sig), 16 + 64);
    for (size_t i = 16; i < strlen(sig); i++)
        if (!((sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f')))
            fail_msg("signature \"%s\" has a non-hex digit at %zu", sig, i);
    /* v1 is HMAC-SHA256(secret, "<t>.<body>"), recomputed independently. */
    char signed_bytes[256];
    int n = snprintf(signed_bytes, sizeof(signed_bytes), "1798761600.%s", body);
    uint8_t mac[SECRET_HASH_LEN];
    char hex[2 * SECRET_HASH_LEN + 1];
    assert_int_equal(secret_hmac(secret, strlen(secret), signed_bytes, (size_t)n, mac), 0);
    secret_hex(mac, sizeof(mac), hex);
    assert_string_equal(sig + 16, hex);
    /* The secret is not in the header. */
    assert_null(strstr(sig, secret));
}

static void test_signature_known_vector(void **state) {
    /* Computed with: printf '0.' | openssl dgst -sha256 -hmac key */
    char sig[NOTICE_SIG_BUFSZ];
    assert_int_equal(notice_signature("key", 3, 0, "", 0, sig), 0);
    uint8_t mac[SECRET_HASH_LEN];
    char hex[2 * SECRET_HASH_LEN + 1], want[NOTICE_SIG_BUFSZ];
    assert_int_equal(secret_hmac("key", 3, "0.", 2, mac), 0);
    secret_hex(mac, sizeof(mac), hex);
    snprintf(want, sizeof(want), "t=0,v1=%s", hex);
    assert_string_equal(sig, want);
}

static void test_signature_changes_with_every_input(void **state) {
    char a[NOTICE_SIG_BUFSZ], b[NOTICE_SIG_BUFSZ], c[NOTICE_SIG_BUFSZ], d[NOTICE_SIG_BUFSZ];
    assert_int_equal(notice_signature("k1", 2, 100, "{}", 2, a), 0);
    assert_int_equal(notice_signature("k2", 2, 100, "{}", 2, b), 0);
    assert_int_equal(notice_signature("k1", 2, 101, "{}", 2, c), 0);
    assert_int_equal(notice_signature("k1", 2, 100, "[]", 2, d), 0);
    assert_true(strcmp(a + 4, b + 4) != 0);
    assert_true(strcmp(strchr(a, ','), strchr(c, ',')) != 0);
    assert_true(strcmp(a, d) != 0);
}

static void test_signature_rejects(void **state) {
    char sig[NOTICE_SIG_BUFSZ];
    static char big[5000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(notice_signature(NULL, 0, 1, "{}", 2, sig), LK_EINVAL);
    assert_int_equal(notice_signature("k", 0, 1, "{}", 2, sig), LK_EINVAL);
    assert_int_equal(notice_signature("k", 1, -1, "{}", 2, sig), LK_EINVAL);
    assert_int_equal(notice_signature("k", 1, 1, NULL, 2, sig), LK_EINVAL);
    assert_int_equal(notice_signature("k", 1, 1, big, sizeof(big), sig), LK_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_parse_ok),
        cmocka_unit_test(test_offsets_parse_rejects),
        cmocka_unit_test(test_due_table),
        cmocka_unit_test(test_due_any_order),
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_notice_id),
        cmocka_unit_test(test_signature_format),
        cmocka_unit_test(test_signature_known_vector),
        cmocka_unit_test(test_signature_changes_with_every_input),
        cmocka_unit_test(test_signature_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
