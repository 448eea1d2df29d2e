/*
 * test_ratelimit.c - unit tests for the GCRA arithmetic and policy parsing
 * (core/ratelimit.h). Times are microseconds on an arbitrary monotonic scale.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/ratelimit.h"

#include "unit_assert.h"

#define SEC INT64_C(1000000)
/* An arbitrary, realistic monotonic start time. */
#define T0 (INT64_C(3600) * SEC)

/* Sends n requests at now, which must all be allowed; returns the last result. */
static struct rl_result send_allowed(const struct rl_policy *p, struct rl_state *st, int64_t now, uint32_t n) {
    struct rl_result r = {0};
    for (uint32_t i = 0; i < n; i++) {
        rl_check(p, st, now, &r);
        if (!r.allowed)
            fail_msg("request %u of %u at t=%lldus was refused (retry_after %u s)", i + 1, n, (long long)now,
                     r.retry_after_s);
    }
    return r;
}

/* ---- bursts ---- */

static void test_fresh_key_gets_exactly_quota_in_a_burst(void **state) {
    struct rl_policy p = {10, 1};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 10);
    rl_check(&p, &st, T0, &r);
    assert_i64_eq(r.allowed, 0);
}

static void test_remaining_counts_down_through_a_burst(void **state) {
    struct rl_policy p = {5, 60};
    struct rl_state st = {0};
    for (uint32_t i = 0; i < 5; i++) {
        struct rl_result r;
        rl_check(&p, &st, T0, &r);
        assert_i64_eq(r.allowed, 1);
        if (r.remaining != 4 - i)
            fail_msg("after request %u remaining is %u, expected %u", i + 1, r.remaining, 4 - i);
    }
}

static void test_refusal_gives_retry_after(void **state) {
    /* 6 per minute: one every 10 s. */
    struct rl_policy p = {6, 60};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 6);
    rl_check(&p, &st, T0, &r);
    assert_i64_eq(r.allowed, 0);
    assert_i64_eq(r.remaining, 0);
    assert_i64_eq(r.retry_after_s, 10);
    assert_i64_eq(r.reset_s, 60);
}

static void test_retry_after_shrinks_with_time(void **state) {
    struct rl_policy p = {6, 60};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 6);
    rl_check(&p, &st, T0 + 3 * SEC, &r);
    assert_i64_eq(r.allowed, 0);
    assert_i64_eq(r.retry_after_s, 7);
    assert_i64_eq(r.reset_s, 57);
}

static void test_retry_after_is_at_least_one_second(void **state) {
    /* 10 per second: one every 100 ms, so the true wait is under a second. */
    struct rl_policy p = {10, 1};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 10);
    rl_check(&p, &st, T0 + 99999, &r);
    assert_i64_eq(r.allowed, 0);
    assert_i64_eq(r.retry_after_s, 1);
}

static void test_refusal_does_not_change_state(void **state) {
    struct rl_policy p = {3, 60};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 3);
    int64_t tat = st.tat_us;
    for (int i = 0; i < 100; i++)
        rl_check(&p, &st, T0 + i * SEC / 10, &r);
    assert_i64_eq(st.tat_us, tat);
}

/* ---- refill ---- */

static void test_one_request_refills_after_emission_interval(void **state) {
    struct rl_policy p = {6, 60}; /* T = 10 s */
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 6);
    rl_check(&p, &st, T0 + 10 * SEC - 1, &r);
    assert_i64_eq(r.allowed, 0);
    rl_check(&p, &st, T0 + 10 * SEC, &r);
    assert_i64_eq(r.allowed, 1);
    assert_i64_eq(r.remaining, 0);
    rl_check(&p, &st, T0 + 10 * SEC, &r);
    assert_i64_eq(r.allowed, 0);
}

static void test_full_quota_back_after_window(void **state) {
    struct rl_policy p = {6, 60};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 6);
    r = send_allowed(&p, &st, T0 + 60 * SEC, 1);
    assert_i64_eq(r.remaining, 5);
    send_allowed(&p, &st, T0 + 60 * SEC, 5);
}

static void test_steady_rate_at_interval_is_always_allowed(void **state) {
    struct rl_policy p = {6, 60};
    struct rl_state st = {0};
    for (int i = 0; i < 1000; i++)
        send_allowed(&p, &st, T0 + i * 10 * SEC, 1);
}

static void test_idle_key_does_not_bank_more_than_quota(void **state) {
    struct rl_policy p = {4, 10};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 1);
    send_allowed(&p, &st, T0 + 3600 * SEC, 4);
    rl_check(&p, &st, T0 + 3600 * SEC, &r);
    assert_i64_eq(r.allowed, 0);
}

/* ---- remaining / reset values ---- */

static void test_first_request_remaining_and_reset(void **state) {
    struct rl_policy p = {600, 60}; /* T = 100 ms */
    struct rl_state st = {0};
    struct rl_result r;
    rl_check(&p, &st, T0, &r);
    assert_i64_eq(r.allowed, 1);
    assert_i64_eq(r.remaining, 599);
    assert_i64_eq(r.reset_s, 1); /* 100 ms, rounded up */
    assert_i64_eq(r.retry_after_s, 0);
}

static void test_reset_rounds_up(void **state) {
    struct rl_policy p = {600, 60};
    struct rl_state st = {0};
    struct rl_result r = send_allowed(&p, &st, T0, 10);
    assert_i64_eq(r.reset_s, 1); /* exactly 1 s of backlog */
    r = send_allowed(&p, &st, T0, 1);
    assert_i64_eq(r.reset_s, 2); /* 1.1 s */
    assert_i64_eq(r.remaining, 589);
}

static void test_remaining_recovers_with_time(void **state) {
    struct rl_policy p = {600, 60};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 600);
    rl_check(&p, &st, T0 + 30 * SEC, &r); /* 300 intervals recovered, one spent now */
    assert_i64_eq(r.allowed, 1);
    assert_i64_eq(r.remaining, 299);
    assert_i64_eq(r.reset_s, 31); /* 30 s of backlog left plus this request's 100 ms */
}

/* ---- rounding ---- */

static void test_uneven_quota_still_bursts_exactly_quota(void **state) {
    /* 60 s / 7 and 60 s / 70000 are not whole microseconds. */
    static const struct rl_policy policies[] = {{7, 60}, {70000, 60}, {3, 1}, {999999, 86400}};
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        struct rl_state st = {0};
        struct rl_result r;
        send_allowed(&policies[i], &st, T0, policies[i].quota);
        rl_check(&policies[i], &st, T0, &r);
        if (r.allowed)
            fail_msg("policy %u/%u allowed request %u in a burst", policies[i].quota, policies[i].window_s,
                     policies[i].quota + 1);
    }
}

static void test_quota_above_one_per_microsecond_bursts_exactly_quota(void **state) {
    struct rl_policy p = {2000000, 1};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, T0, 2000000);
    rl_check(&p, &st, T0, &r);
    assert_i64_eq(r.allowed, 0);
    assert_i64_eq(r.retry_after_s, 1);
}

/* ---- disabled, fresh state, clock edges ---- */

static void test_disabled_policy_always_allows(void **state) {
    struct rl_policy p = {0, 1};
    struct rl_state st = {0};
    for (int i = 0; i < 10000; i++) {
        struct rl_result r;
        memset(&r, 0xff, sizeof(r));
        rl_check(&p, &st, T0, &r);
        if (!r.allowed || r.remaining != 0 || r.reset_s != 0 || r.retry_after_s != 0)
            fail_msg("request %d: allowed %d remaining %u reset %u retry %u, expected 1 0 0 0", i, r.allowed,
                     r.remaining, r.reset_s, r.retry_after_s);
    }
    assert_i64_eq(st.tat_us, 0);
}

static void test_fresh_state_at_time_zero(void **state) {
    struct rl_policy p = {2, 1};
    struct rl_state st = {0};
    struct rl_result r;
    send_allowed(&p, &st, 0, 2);
    rl_check(&p, &st, 0, &r);
    assert_i64_eq(r.allowed, 0);
}

static void test_fresh_state_with_negative_clock(void **state) {
    /* The monotonic origin is arbitrary; tat 0 must still mean "fresh", not "a backlog until 0". */
    struct rl_policy p = {2, 1};
    struct rl_state st = {0};
    send_allowed(&p, &st, -10 * SEC, 2);
}

static void test_extreme_clock_values_do_not_overflow(void **state) {
    /* UBSan turns any signed overflow here into a failure. */
    struct rl_policy p = {5, 86400};
    struct rl_result r;
    struct rl_state st = {0};
    send_allowed(&p, &st, INT64_MAX - 1, 1);
    assert_i64_eq(st.tat_us, INT64_MAX); /* saturated, not wrapped */

    st.tat_us = INT64_MAX;
    rl_check(&p, &st, INT64_MIN + 1, &r);
    assert_i64_eq(r.allowed, 0);
    assert_true(r.retry_after_s >= 1);

    st.tat_us = INT64_MIN + 1;
    rl_check(&p, &st, INT64_MAX, &r);
    assert_i64_eq(r.allowed, 1);
}

/* ---- policy parsing ---- */

struct policy_case {
    const char *in;
    uint32_t quota, window_s;
};

static const struct policy_case valid_policies[] = {
    {"600/60", 600, 60}, {"1/1", 1, 1},      {"6000/60", 6000, 60}, {"1000000000/86400", 1000000000, 86400},
    {"0", 0, 1},         {"007/060", 7, 60},
};

static void test_policy_parse_valid(void **state) {
    for (size_t i = 0; i < sizeof(valid_policies) / sizeof(valid_policies[0]); i++) {
        struct rl_policy p = {12345, 12345};
        int r = rl_policy_parse(valid_policies[i].in, &p);
        if (r != 0)
            fail_msg("rl_policy_parse(\"%s\") returned %s", valid_policies[i].in, lk_errname(r));
        if (p.quota != valid_policies[i].quota || p.window_s != valid_policies[i].window_s)
            fail_msg("rl_policy_parse(\"%s\") gave %u/%u, expected %u/%u", valid_policies[i].in, p.quota, p.window_s,
                     valid_policies[i].quota, valid_policies[i].window_s);
    }
}

static const char *const invalid_policies[] = {
    "",
    "0/60",
    "60/0",
    "0/0",
    "00",
    "60",
    "/60",
    "60/",
    "-1/60",
    "+1/60",
    "1/-60",
    " 60/60",
    "60/60 ",
    "60 /60",
    "6a/60",
    "60/6a",
    "60/60/60",
    "1000000001/60",
    "60/86401",
    "99999999999999999999/60",
    "60/99999999999999999999",
    "0x10/60",
    "1e3/60",
    "600:60",
};

static void test_policy_parse_invalid(void **state) {
    for (size_t i = 0; i < sizeof(invalid_policies) / sizeof(invalid_policies[0]); i++) {
        struct rl_policy p = {12345, 54321};
        int r = rl_policy_parse(invalid_policies[i], &p);
        if (r != LK_EINVAL)
            fail_msg("rl_policy_parse(\"%s\") returned %s (%u/%u), expected EINVAL", invalid_policies[i], lk_errname(r),
                     p.quota, p.window_s);
        if (p.quota != 12345 || p.window_s != 54321)
            fail_msg("rl_policy_parse(\"%s\") changed ret on failure", invalid_policies[i]);
    }
}

static void test_policy_parse_null(void **state) {
    struct rl_policy p = {1, 1};
    assert_i64_eq(rl_policy_parse(NULL, &p), LK_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_key_gets_exactly_quota_in_a_burst),
        cmocka_unit_test(test_remaining_counts_down_through_a_burst),
        cmocka_unit_test(test_refusal_gives_retry_after),
        cmocka_unit_test(test_retry_after_shrinks_with_time),
        cmocka_unit_test(test_retry_after_is_at_least_one_second),
        cmocka_unit_test(test_refusal_does_not_change_state),
        cmocka_unit_test(test_one_request_refills_after_emission_interval),
        cmocka_unit_test(test_full_quota_back_after_window),
        cmocka_unit_test(test_steady_rate_at_interval_is_always_allowed),
        cmocka_unit_test(test_idle_key_does_not_bank_more_than_quota),
        cmocka_unit_test(test_first_request_remaining_and_reset),
        cmocka_unit_test(test_reset_rounds_up),
        cmocka_unit_test(test_remaining_recovers_with_time),
        cmocka_unit_test(test_uneven_quota_still_bursts_exactly_quota),
        cmocka_unit_test(test_quota_above_one_per_microsecond_bursts_exactly_quota),
        cmocka_unit_test(test_disabled_policy_always_allows),
        cmocka_unit_test(test_fresh_state_at_time_zero),
        cmocka_unit_test(test_fresh_state_with_negative_clock),
        cmocka_unit_test(test_extreme_clock_values_do_not_overflow),
        cmocka_unit_test(test_policy_parse_valid),
        cmocka_unit_test(test_policy_parse_invalid),
        cmocka_unit_test(test_policy_parse_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
