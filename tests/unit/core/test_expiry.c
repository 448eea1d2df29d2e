/*
 * test_expiry.c - unit tests for resolving a token request's expiry fields
 * (core/expiry.h). "now" is fixed at 2027-01-31T10:00:00Z throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/expiry.h"
#include "core/rfc3339.h"

#include "unit_assert.h"

#define assert_contains(haystack, needle)                                                                              \
    do {                                                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                                                   \
        if (strstr(h_, n_) == NULL)                                                                                    \
            fail_msg("\"%s\" does not contain \"%s\"", h_, n_);                                                        \
    } while (0)

/* 2027-01-31T10:00:00Z */
#define NOW INT64_C(1801389600)
#define UNTOUCHED INT64_C(-777)

static int64_t at(const char *s) {
    int64_t t = 0;
    if (rfc3339_parse(s, strlen(s), &t) != 0)
        fail_msg("test bug: cannot parse %s", s);
    return t;
}

static struct expiry_request with_expires(const char *s) {
    struct expiry_request req = {.expires = s, .expires_len = strlen(s)};
    return req;
}

static struct expiry_request with_hours(int64_t h) {
    struct expiry_request req = {.has_hours = 1, .hours = h};
    return req;
}

/*
 * Resolves req, which must succeed, and checks the result against want
 * (formatted in the failure message).
 */
static void expect_ok(const struct expiry_request *req, int64_t now, int64_t want) {
    struct lk_error e = {0};
    int64_t t = UNTOUCHED;
    int r = expiry_resolve(req, now, &t, &e);
    if (r != 0)
        fail_msg("expiry_resolve failed with %s: %s", lk_errname(r), lk_error_message(&e));
    if (t != want) {
        char got_s[RFC3339_BUFSZ], want_s[RFC3339_BUFSZ];
        rfc3339_format(t, got_s);
        rfc3339_format(want, want_s);
        fail_msg("expires_at is %lld (%s), expected %lld (%s)", (long long)t, got_s, (long long)want, want_s);
    }
}

/* Resolves req, which must fail with EINVAL and exactly the message want, leaving the result untouched. */
static void expect_error(const struct expiry_request *req, int64_t now, const char *want) {
    struct lk_error e = {0};
    int64_t t = UNTOUCHED;
    int r = expiry_resolve(req, now, &t, &e);
    if (r != LK_EINVAL || e.code != LK_EINVAL)
        fail_msg("expiry_resolve returned %s (err.code %s, message \"%s\"), expected EINVAL \"%s\"", lk_errname(r),
                 lk_errname(e.code), e.msg, want);
    assert_string_equal(e.msg, want);
    assert_i64_eq(t, UNTOUCHED);
}

/* ---- success ---- */

static void test_no_expiry_gives_zero(void **state) {
    struct expiry_request req = {0};
    expect_ok(&req, NOW, 0);
}

static void test_duration_days(void **state) {
    struct expiry_request req = with_expires("P30D");
    expect_ok(&req, NOW, NOW + 30 * 86400);
}

static void test_duration_hours(void **state) {
    struct expiry_request req = with_expires("PT12H");
    expect_ok(&req, NOW, NOW + 12 * 3600);
}

static void test_duration_month_clamps_to_month_end(void **state) {
    struct expiry_request req = with_expires("P1M");
    expect_ok(&req, NOW, at("2027-02-28T10:00:00Z"));
}

static void test_duration_uses_only_expires_len(void **state) {
    struct expiry_request req = {.expires = "P1DXXX", .expires_len = 3};
    expect_ok(&req, NOW, NOW + 86400);
}

static void test_rfc3339_time_in_future(void **state) {
    struct expiry_request req = with_expires("2027-06-01T00:00:00Z");
    expect_ok(&req, NOW, at("2027-06-01T00:00:00Z"));
}

static void test_rfc3339_time_with_offset(void **state) {
    struct expiry_request req = with_expires("2027-06-01T05:30:00+05:30");
    expect_ok(&req, NOW, at("2027-06-01T00:00:00Z"));
}

static void test_rfc3339_one_second_ahead(void **state) {
    struct expiry_request req = with_expires("2027-01-31T10:00:01Z");
    expect_ok(&req, NOW, NOW + 1);
}

static void test_expiry_hours(void **state) {
    struct expiry_request req = with_hours(24);
    expect_ok(&req, NOW, NOW + 86400);
}

static void test_expiry_hours_minimum(void **state) {
    struct expiry_request req = with_hours(1);
    expect_ok(&req, NOW, NOW + 3600);
}

static void test_expiry_hours_maximum(void **state) {
    struct expiry_request req = with_hours(EXPIRY_MAX_HOURS);
    expect_ok(&req, NOW, NOW + EXPIRY_MAX_HOURS * 3600);
}

/* ---- errors ---- */

static void test_both_fields_is_error(void **state) {
    struct expiry_request req = {.expires = "P1D", .expires_len = 3, .has_hours = 1, .hours = 24};
    expect_error(&req, NOW, "give either expires or expiry_hours, not both");
}

static void test_bad_duration_names_field_and_problem(void **state) {
    struct expiry_request req = with_expires("P1X");
    expect_error(&req, NOW, "expires: \"P1X\" is not an ISO 8601 duration: unknown designator 'X'");
}

static void test_lower_case_duration_explains_case(void **state) {
    struct expiry_request req = with_expires("p30d");
    expect_error(&req, NOW,
                 "expires: \"p30d\" is not an ISO 8601 duration: designators must be upper case ('p' "
                 "should be 'P')");
}

static void test_zero_duration_is_error(void **state) {
    struct expiry_request req = with_expires("PT0S");
    expect_error(&req, NOW, "expires: \"PT0S\" is a zero duration; give a positive duration");
}

static void test_duration_past_9999_is_error(void **state) {
    struct expiry_request req = with_expires("P8000Y");
    expect_error(&req, NOW, "expires: \"P8000Y\" from now ends after 9999-12-31T23:59:59Z");
}

static void test_time_in_past_is_error(void **state) {
    struct expiry_request req = with_expires("2020-01-01T00:00:00Z");
    expect_error(&req, NOW, "expires: 2020-01-01T00:00:00Z is not in the future");
}

static void test_time_equal_to_now_is_error(void **state) {
    struct expiry_request req = with_expires("2027-01-31T10:00:00Z");
    expect_error(&req, NOW, "expires: 2027-01-31T10:00:00Z is not in the future");
}

static void test_garbage_is_error(void **state) {
    struct expiry_request req = with_expires("tomorrow");
    expect_error(&req, NOW,
                 "expires: \"tomorrow\" is neither an ISO 8601 duration (e.g. P30D) nor an RFC 3339 time between 1970 "
                 "and 9999 (e.g. 2027-01-01T00:00:00Z)");
}

static void test_invalid_date_is_error(void **state) {
    struct expiry_request req = with_expires("2027-02-29T00:00:00Z");
    struct lk_error e = {0};
    int64_t t = UNTOUCHED;
    assert_i64_eq(expiry_resolve(&req, NOW, &t, &e), LK_EINVAL);
    assert_contains(e.msg, "expires: \"2027-02-29T00:00:00Z\" is neither");
    assert_i64_eq(t, UNTOUCHED);
}

static void test_empty_expires_is_error(void **state) {
    struct expiry_request req = with_expires("");
    struct lk_error e = {0};
    int64_t t = UNTOUCHED;
    assert_i64_eq(expiry_resolve(&req, NOW, &t, &e), LK_EINVAL);
    assert_contains(e.msg, "expires: \"\" is neither");
    assert_i64_eq(t, UNTOUCHED);
}

static void test_long_expires_is_truncated_in_message(void **state) {
    char in[1000];
    struct lk_error e = {0};
    int64_t t = UNTOUCHED;
    memset(in, 'x', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    struct expiry_request req = with_expires(in);
    assert_i64_eq(expiry_resolve(&req, NOW, &t, &e), LK_EINVAL);
    assert_contains(e.msg, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
    if (strlen(e.msg) > 200)
        fail_msg("message is %zu bytes: \"%s\"", strlen(e.msg), e.msg);
}

static void test_hours_zero_is_error(void **state) {
    struct expiry_request req = with_hours(0);
    expect_error(&req, NOW, "expiry_hours: must be at least 1");
}

static void test_hours_negative_is_error(void **state) {
    struct expiry_request req = with_hours(-5);
    expect_error(&req, NOW, "expiry_hours: must be at least 1");
}

static void test_hours_above_maximum_is_error(void **state) {
    struct expiry_request req = with_hours(EXPIRY_MAX_HOURS + 1);
    expect_error(&req, NOW, "expiry_hours: must be at most 878400 (100 years)");
}

static void test_hours_int64_max_is_error(void **state) {
    struct expiry_request req = with_hours(INT64_MAX);
    expect_error(&req, NOW, "expiry_hours: must be at most 878400 (100 years)");
}

static void test_hours_past_9999_is_error(void **state) {
    struct expiry_request req = with_hours(48);
    expect_error(&req, at("9999-12-31T00:00:00Z"), "expiry_hours: 48 hours from now ends after 9999-12-31T23:59:59Z");
}

static void test_null_error_is_allowed(void **state) {
    struct expiry_request req = with_hours(0);
    int64_t t = UNTOUCHED;
    assert_i64_eq(expiry_resolve(&req, NOW, &t, NULL), LK_EINVAL);
    assert_i64_eq(t, UNTOUCHED);
}

/* --- expiry_apply_policy -------------------------------------------------- */

static void test_policy_default_is_the_higher_setting(void **state) {
    (void)state;
    struct expiry_policy p = {48, 100, 0, 0};
    int64_t at = -1;
    assert_int_equal(expiry_apply_policy(&p, 1000, 0, 0, NULL, &at, NULL), 0);
    assert_int_equal(at, 1000 + 100 * 3600);
    p.user_hours = 2; /* lower than the org's: the org's wins */
    assert_int_equal(expiry_apply_policy(&p, 1000, 0, 0, NULL, &at, NULL), 0);
    assert_int_equal(at, 1000 + 48 * 3600);
}

static void test_policy_caps_requests_and_names_the_limit(void **state) {
    (void)state;
    struct expiry_policy p = {48, 0, 0, 0};
    struct lk_error err = {0};
    int64_t at = -1;
    assert_int_equal(expiry_apply_policy(&p, 0, 48 * 3600, 0, "PT48H", &at, &err), 0);
    assert_int_equal(at, 48 * 3600);
    at = -1;
    assert_int_equal(expiry_apply_policy(&p, 0, 48 * 3600 + 1, 0, "P3D", &at, &err), LK_EINVAL);
    assert_int_equal(at, -1);
    assert_string_equal(err.msg, "expires: P3D exceeds the maximum of 48 hours for this user");
    p.unrestricted = 1;
    assert_int_equal(expiry_apply_policy(&p, 0, 10 * 48 * 3600, 0, "P20D", &at, &err), 0);
}

static void test_policy_never_needs_permission(void **state) {
    (void)state;
    struct expiry_policy p = {48, 0, 0, 0};
    int64_t at = -1;
    assert_int_equal(expiry_apply_policy(&p, 0, 0, 1, "never", &at, NULL), LK_EINVAL);
    p.allow_never = 1;
    assert_int_equal(expiry_apply_policy(&p, 0, 0, 1, "never", &at, NULL), 0);
    assert_int_equal(at, 0);
    p.allow_never = 0;
    p.unrestricted = 1;
    at = -1;
    assert_int_equal(expiry_apply_policy(&p, 0, 0, 1, "never", &at, NULL), 0);
    assert_int_equal(at, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_default_is_the_higher_setting),
        cmocka_unit_test(test_policy_caps_requests_and_names_the_limit),
        cmocka_unit_test(test_policy_never_needs_permission),
        cmocka_unit_test(test_no_expiry_gives_zero),
        cmocka_unit_test(test_duration_days),
        cmocka_unit_test(test_duration_hours),
        cmocka_unit_test(test_duration_month_clamps_to_month_end),
        cmocka_unit_test(test_duration_uses_only_expires_len),
        cmocka_unit_test(test_rfc3339_time_in_future),
        cmocka_unit_test(test_rfc3339_time_with_offset),
        cmocka_unit_test(test_rfc3339_one_second_ahead),
        cmocka_unit_test(test_expiry_hours),
        cmocka_unit_test(test_expiry_hours_minimum),
        cmocka_unit_test(test_expiry_hours_maximum),
        cmocka_unit_test(test_both_fields_is_error),
        cmocka_unit_test(test_bad_duration_names_field_and_problem),
        cmocka_unit_test(test_lower_case_duration_explains_case),
        cmocka_unit_test(test_zero_duration_is_error),
        cmocka_unit_test(test_duration_past_9999_is_error),
        cmocka_unit_test(test_time_in_past_is_error),
        cmocka_unit_test(test_time_equal_to_now_is_error),
        cmocka_unit_test(test_garbage_is_error),
        cmocka_unit_test(test_invalid_date_is_error),
        cmocka_unit_test(test_empty_expires_is_error),
        cmocka_unit_test(test_long_expires_is_truncated_in_message),
        cmocka_unit_test(test_hours_zero_is_error),
        cmocka_unit_test(test_hours_negative_is_error),
        cmocka_unit_test(test_hours_above_maximum_is_error),
        cmocka_unit_test(test_hours_int64_max_is_error),
        cmocka_unit_test(test_hours_past_9999_is_error),
        cmocka_unit_test(test_null_error_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
