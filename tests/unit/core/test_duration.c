/*
 * test_duration.c - unit tests for ISO 8601 duration parsing, calendar
 * arithmetic and durations in words (core/duration.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/duration.h"
#include "core/errors.h"
#include "core/rfc3339.h"

#include "unit_assert.h"

#define assert_contains(haystack, needle)                                                                              \
    do {                                                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                                                   \
        if (strstr(h_, n_) == NULL)                                                                                    \
            fail_msg("\"%s\" does not contain \"%s\"", h_, n_);                                                        \
    } while (0)

static int64_t at(const char *s) {
    int64_t t = 0;
    if (rfc3339_parse(s, strlen(s), &t) != 0)
        fail_msg("test bug: cannot parse %s", s);
    return t;
}

static int parse_str(const char *s, struct iso_duration *d, struct lk_error *e) {
    return duration_parse(s, strlen(s), d, e);
}

static void fmt_duration(const struct iso_duration *d, char *buf, size_t cap) {
    snprintf(buf, cap, "{Y=%lld M=%lld W=%lld D=%lld H=%lld Mi=%lld S=%lld}", (long long)d->years, (long long)d->months,
             (long long)d->weeks, (long long)d->days, (long long)d->hours, (long long)d->minutes,
             (long long)d->seconds);
}

/* ---- parsing: valid ---- */

struct valid_case {
    const char *in;
    struct iso_duration want;
};

static const struct valid_case valid_cases[] = {
    {"P1Y", {.years = 1}},
    {"P2M", {.months = 2}},
    {"P2W", {.weeks = 2}},
    {"P30D", {.days = 30}},
    {"PT12H", {.hours = 12}},
    {"PT5M", {.minutes = 5}},
    {"PT5S", {.seconds = 5}},
    {"P1Y2M10DT2H30M", {.years = 1, .months = 2, .days = 10, .hours = 2, .minutes = 30}},
    {"P1Y2M3W4DT5H6M7S", {1, 2, 3, 4, 5, 6, 7}},
    {"P1MT1M", {.months = 1, .minutes = 1}},
    {"PT0S", {0}},
    {"P0D", {0}},
    {"P999999999Y", {.years = 999999999}},
    {"PT999999999S", {.seconds = 999999999}},
    {"P000000007D", {.days = 7}},
};

static void test_parse_valid(void **state) {
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        struct iso_duration d;
        struct lk_error e = {0};
        char got[160], want[160];
        memset(&d, 0x55, sizeof(d));
        int r = parse_str(valid_cases[i].in, &d, &e);
        if (r != 0)
            fail_msg("duration_parse(\"%s\") failed: %s", valid_cases[i].in, lk_error_message(&e));
        if (memcmp(&d, &valid_cases[i].want, sizeof(d)) != 0) {
            fmt_duration(&d, got, sizeof(got));
            fmt_duration(&valid_cases[i].want, want, sizeof(want));
            fail_msg("duration_parse(\"%s\") gave %s, expected %s", valid_cases[i].in, got, want);
        }
    }
}

/* ---- parsing: invalid ---- */

struct invalid_case {
    const char *in;
    const char *why; /* expected to appear in the message */
};

static const struct invalid_case invalid_cases[] = {
    {"", "is empty"},
    {"P", "no components"},
    {"PT", "'T' must be followed by"},
    {"P1DT", "'T' must be followed by"},
    {"P1", "no designator"},
    {"PT1", "no designator"},
    {"1D", "must start with 'P'"},
    {"D", "must start with 'P'"},
    {" P1D", "must start with 'P'"},
    {"P-1D", "signs are not allowed"},
    {"P+1D", "signs are not allowed"},
    {"P1.5D", "fractions are not allowed"},
    {"P1,5D", "fractions are not allowed"},
    {"PT0.5S", "fractions are not allowed"},
    {"P.5D", "fractions are not allowed"},
    {"PT1H1H", "'H' appears more than once"},
    {"P1D1D", "'D' appears more than once"},
    {"P1M1M", "'M' appears more than once"},
    {"P1D1Y", "out of order ('Y' must come before 'D')"},
    {"P1D1W", "out of order ('W' must come before 'D')"},
    {"PT1S1H", "out of order ('H' must come before 'S')"},
    {"PT1HT1M", "'T' appears more than once"},
    {"p1d", "upper case ('p' should be 'P')"},
    {"P1d", "upper case ('d' should be 'D')"},
    {"Pt1H", "upper case ('t' should be 'T')"},
    {"PT1h", "upper case ('h' should be 'H')"},
    {"P1X", "unknown designator 'X'"},
    {"PX", "unknown designator 'X'"},
    {"P1H", "'H' is a time part and must come after 'T'"},
    {"P1S", "'S' is a time part and must come after 'T'"},
    {"PT1D", "'D' is a date part and must come before 'T'"},
    {"PT1W", "'W' is a date part and must come before 'T'"},
    {"PT1Y", "'Y' is a date part and must come before 'T'"},
    {"PD", "'D' has no number before it"},
    {"PTH", "'H' has no number before it"},
    {"P1D ", "unexpected character ' '"},
    {"P1 D", "unexpected character ' ' after a number"},
    {"P1DX", "unknown designator 'X'"},
    {"P1234567890D", "more than 9 digits"},
    {"P99999999999999999999999Y", "more than 9 digits"},
    {"PT0000000001S", "more than 9 digits"},
};

static void test_parse_invalid(void **state) {
    for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        struct iso_duration d;
        struct lk_error e = {0};
        int r = parse_str(invalid_cases[i].in, &d, &e);
        if (r != LK_EINVAL)
            fail_msg("duration_parse(\"%s\") returned %s, expected EINVAL", invalid_cases[i].in, lk_errname(r));
        if (e.code != LK_EINVAL)
            fail_msg("duration_parse(\"%s\") set err.code %s, expected EINVAL", invalid_cases[i].in,
                     lk_errname(e.code));
        if (strstr(e.msg, invalid_cases[i].why) == NULL)
            fail_msg("duration_parse(\"%s\") said \"%s\", expected it to mention \"%s\"", invalid_cases[i].in, e.msg,
                     invalid_cases[i].why);
    }
}

static void test_parse_message_reads_well_after_a_field_prefix(void **state) {
    struct iso_duration d;
    struct lk_error e = {0};
    parse_str("P1X", &d, &e);
    assert_string_equal(e.msg, "\"P1X\" is not an ISO 8601 duration: unknown designator 'X'");
}

static void test_parse_message_truncates_long_input(void **state) {
    char in[300];
    struct iso_duration d;
    struct lk_error e = {0};
    in[0] = 'P';
    memset(in + 1, '1', sizeof(in) - 2);
    in[sizeof(in) - 1] = '\0';
    in[sizeof(in) - 2] = 'X';
    parse_str(in, &d, &e);
    /* 64 echoed bytes, "...", the quotes and the reason. */
    assert_contains(e.msg, "\"P111111111111111111111111111111111111111111111111111111111111111...\"");
    if (strlen(e.msg) > 150)
        fail_msg("message is %zu bytes: \"%s\"", strlen(e.msg), e.msg);
}

static void test_parse_message_escapes_control_bytes(void **state) {
    static const char in[] = "P1\n\x01\xff";
    struct iso_duration d;
    struct lk_error e = {0};
    duration_parse(in, sizeof(in) - 1, &d, &e);
    assert_contains(e.msg, "\"P1\\x0a\\x01\\xff\"");
    assert_contains(e.msg, "unexpected character \\x0a after a number");
}

static void test_parse_rejects_embedded_nul(void **state) {
    static const char in[] = "P1D\0";
    struct iso_duration d;
    struct lk_error e = {0};
    assert_i64_eq(duration_parse(in, sizeof(in) - 1, &d, &e), LK_EINVAL);
    assert_contains(e.msg, "\\x00");
}

static void test_parse_uses_only_len_bytes(void **state) {
    struct iso_duration d = {0};
    assert_i64_eq(duration_parse("P1DXXXX", 3, &d, NULL), 0);
    assert_i64_eq(d.days, 1);
}

static void test_parse_accepts_null_error(void **state) {
    struct iso_duration d;
    assert_i64_eq(duration_parse("P1X", 3, &d, NULL), LK_EINVAL);
}

static void test_parse_failure_leaves_ret_untouched(void **state) {
    struct iso_duration d, before;
    memset(&d, 0x5a, sizeof(d));
    before = d;
    assert_i64_eq(parse_str("P1D1Y", &d, NULL), LK_EINVAL);
    assert_memory_equal(&d, &before, sizeof(d));
}

/* ---- duration_is_zero ---- */

static void test_is_zero(void **state) {
    struct iso_duration zero = {0};
    assert_true(duration_is_zero(&zero));
    for (int i = 0; i < 7; i++) {
        struct iso_duration d = {0};
        int64_t *parts[] = {&d.years, &d.months, &d.weeks, &d.days, &d.hours, &d.minutes, &d.seconds};
        *parts[i] = 1;
        if (duration_is_zero(&d))
            fail_msg("a duration with only component %d set to 1 is reported as zero", i);
    }
}

/* ---- duration_add ---- */

struct add_case {
    const char *from;
    const char *dur;
    const char *want;
};

static const struct add_case add_cases[] = {
    {"2027-01-31T00:00:00Z", "P1M", "2027-02-28T00:00:00Z"}, /* clamped to February's end */
    {"2028-01-31T00:00:00Z", "P1M", "2028-02-29T00:00:00Z"}, /* leap February */
    {"2028-02-29T00:00:00Z", "P1Y", "2029-02-28T00:00:00Z"}, /* leap day to a common year */
    {"2028-02-29T00:00:00Z", "P4Y", "2032-02-29T00:00:00Z"}, /* leap day to a leap year */
    {"2027-03-31T10:20:30Z", "P1M", "2027-04-30T10:20:30Z"}, /* time of day kept */
    {"2027-01-15T00:00:00Z", "P1M", "2027-02-15T00:00:00Z"},
    {"2027-11-30T00:00:00Z", "P3M", "2028-02-29T00:00:00Z"}, /* across a year */
    {"2027-12-31T00:00:00Z", "P1M", "2028-01-31T00:00:00Z"},
    {"2027-01-01T00:00:00Z", "P25M", "2029-02-01T00:00:00Z"},
    {"2027-01-31T00:00:00Z", "P1M1D", "2027-03-01T00:00:00Z"}, /* months first, then days */
    {"2027-01-31T00:00:00Z", "P30D", "2027-03-02T00:00:00Z"},  /* days are exact */
    {"2027-01-01T00:00:00Z", "P2W", "2027-01-15T00:00:00Z"},
    {"2027-01-01T00:00:00Z", "PT36H", "2027-01-02T12:00:00Z"},
    {"2027-01-01T00:00:00Z", "PT90M", "2027-01-01T01:30:00Z"},
    {"2027-01-01T00:00:00Z", "PT3661S", "2027-01-01T01:01:01Z"},
    {"2027-01-01T00:00:00Z", "P1Y2M3W4DT5H6M7S", "2028-03-26T05:06:07Z"},
    {"2099-02-28T00:00:00Z", "P1Y", "2100-02-28T00:00:00Z"}, /* 2100 is not a leap year */
    {"2099-03-29T00:00:00Z", "P11M", "2100-02-28T00:00:00Z"},
    {"1970-01-01T00:00:00Z", "PT0S", "1970-01-01T00:00:00Z"},
    {"9999-12-31T23:59:58Z", "PT1S", "9999-12-31T23:59:59Z"}, /* the last representable second */
    {"2027-01-01T00:00:00Z", "P7972Y11M30DT23H59M59S", "9999-12-31T23:59:59Z"},
};

static void test_add(void **state) {
    for (size_t i = 0; i < sizeof(add_cases) / sizeof(add_cases[0]); i++) {
        const struct add_case *c = &add_cases[i];
        struct iso_duration d;
        struct lk_error e = {0};
        int64_t t = -1;
        char got[RFC3339_BUFSZ];

        if (parse_str(c->dur, &d, &e) != 0)
            fail_msg("test bug: %s", lk_error_message(&e));
        int r = duration_add(at(c->from), &d, &t);
        if (r != 0)
            fail_msg("%s + %s failed with %s, expected %s", c->from, c->dur, lk_errname(r), c->want);
        rfc3339_format(t, got);
        if (t != at(c->want))
            fail_msg("%s + %s = %s, expected %s", c->from, c->dur, got, c->want);
    }
}

static void test_add_past_9999_is_range_error(void **state) {
    static const char *const durs[] = {"P7973Y", "P999999999Y", "P999999999M", "P999999999W", "P999999999D"};
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        struct iso_duration d;
        int64_t t = 777;
        parse_str(durs[i], &d, NULL);
        int r = duration_add(at("2027-01-01T00:00:00Z"), &d, &t);
        if (r != LK_ERANGE || t != 777)
            fail_msg("2027-01-01 + %s returned %s and t = %lld, expected ERANGE and t untouched", durs[i],
                     lk_errname(r), (long long)t);
    }
}

static void test_add_one_second_past_9999_is_range_error(void **state) {
    struct iso_duration d = {.seconds = 1};
    int64_t t = 777;
    assert_i64_eq(duration_add(at("9999-12-31T23:59:59Z"), &d, &t), LK_ERANGE);
    assert_i64_eq(t, 777);
}

static void test_add_before_1970_is_range_error(void **state) {
    struct iso_duration d = {.seconds = -1};
    int64_t t = 777;
    assert_i64_eq(duration_add(0, &d, &t), LK_ERANGE);
    assert_i64_eq(t, 777);
}

static void test_add_negative_months_moves_back(void **state) {
    /* Not produced by the parser, but a hand-built duration must still be exact. */
    struct iso_duration d = {.months = -1};
    int64_t t = 0;
    assert_i64_eq(duration_add(at("2027-03-31T00:00:00Z"), &d, &t), 0);
    assert_i64_eq(t, at("2027-02-28T00:00:00Z"));
}

static void test_add_extreme_components_do_not_overflow(void **state) {
    /* Each of these would overflow int64 if multiplied unchecked; UBSan watches. */
    const struct iso_duration cases[] = {
        {.years = INT64_MAX},
        {.years = INT64_MIN},
        {.months = INT64_MAX},
        {.months = INT64_MIN},
        {.weeks = INT64_MAX},
        {.days = INT64_MAX},
        {.hours = INT64_MAX},
        {.minutes = INT64_MAX},
        {.seconds = INT64_MAX},
        {.seconds = INT64_MIN},
        {.years = INT64_MAX / 12, .months = INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = 777;
        int r = duration_add(at("2027-01-01T00:00:00Z"), &cases[i], &t);
        if (r != LK_ERANGE || t != 777)
            fail_msg("case %zu returned %s and t = %lld, expected ERANGE and t untouched", i, lk_errname(r),
                     (long long)t);
    }
}

static void test_add_extreme_from_does_not_overflow(void **state) {
    struct iso_duration d = {.years = 1};
    int64_t t = 777;
    assert_i64_eq(duration_add(INT64_MAX, &d, &t), LK_ERANGE);
    assert_i64_eq(duration_add(INT64_MIN, &d, &t), LK_ERANGE);
    assert_i64_eq(t, 777);
}

/* ---- in words ---- */

#define MIN 60
#define HOUR 3600
#define DAY 86400

struct words_case {
    int64_t seconds;
    const char *want;
};

static void check_words(const struct words_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char got[DURATION_WORDS_BUFSZ];
        memset(got, 'x', sizeof(got));
        int r = duration_words(cases[i].seconds, got, sizeof(got));
        if (r != 0 || strcmp(got, cases[i].want) != 0)
            fail_msg("duration_words(%lld) returned %d and \"%s\", expected 0 and \"%s\"", (long long)cases[i].seconds,
                     r, r == 0 ? got : "", cases[i].want);
    }
}

static void test_words_under_a_minute(void **state) {
    const struct words_case cases[] = {
        {0, "less than a minute"},  {1, "less than a minute"},         {59, "less than a minute"},
        {-1, "less than a minute"}, {INT64_MIN, "less than a minute"},
    };
    check_words(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_words_minutes_round_down(void **state) {
    const struct words_case cases[] = {
        {MIN, "1 minute"},        {MIN + 59, "1 minute"},   {2 * MIN, "2 minutes"},
        {59 * MIN, "59 minutes"}, {HOUR - 1, "59 minutes"},
    };
    check_words(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_words_hours_below_48_round_down(void **state) {
    const struct words_case cases[] = {
        {HOUR, "1 hour"},      {2 * HOUR - 1, "1 hour"}, {2 * HOUR, "2 hours"},   {23 * HOUR + 59 * MIN, "23 hours"},
        {DAY - 1, "23 hours"}, {DAY, "24 hours"},        {30 * HOUR, "30 hours"}, {48 * HOUR - 1, "47 hours"},
    };
    check_words(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_words_days_and_hours(void **state) {
    const struct words_case cases[] = {
        {2 * DAY, "2 days"},
        {2 * DAY + HOUR - 1, "2 days"},
        {2 * DAY + HOUR, "2 days and 1 hour"},
        {2 * DAY + 2 * HOUR, "2 days and 2 hours"},
        {5 * DAY, "5 days"},
        {7 * DAY - 1, "6 days and 23 hours"},
        {6 * DAY + 23 * HOUR, "6 days and 23 hours"},
        {7 * DAY, "7 days"},
        {7 * DAY + 59 * MIN, "7 days"},
        {30 * DAY + 12 * HOUR + 30 * MIN, "30 days and 12 hours"},
        {INT64_MAX, "106751991167300 days and 15 hours"},
    };
    check_words(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_words_too_small_a_buffer_fails_empty(void **state) {
    char out[8];
    memset(out, 'x', sizeof(out));
    assert_i64_eq(duration_words(7 * DAY, out, sizeof(out)), 0);
    assert_string_equal(out, "7 days");
    memset(out, 'x', sizeof(out));
    assert_i64_eq(duration_words(7 * DAY - 1, out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_i64_eq(duration_words(0, out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_i64_eq(duration_words(0, NULL, 0), -1);
}

/* Vault's durations: Go's units plus days, bare digits as seconds. */
static void test_seconds_table(void **state) {
    (void)state;
    static const struct {
        const char *in;
        int64_t want; /* -1: refused */
    } cases[] = {
        {"0", 0},
        {"3600", 3600},
        {"1h", 3600},
        {"768h", 2764800},
        {"1h30m", 5400},
        {"90s", 90},
        {"1.5h", 5400},
        {".5m", 30},
        {"2.m", 120},
        {"2d", 172800},
        {"1500ms", 1},
        {"999ms", 0},
        {"1m500ms", 60},
        {"0.5s0.5s", 1},
        {"10us", 0},
        {"1h1h", 7200},
        {"", -1},
        {"h", -1},
        {"1", 1},
        {"1x", -1},
        {"-1h", -1},
        {"+1h", -1},
        {"1h ", -1},
        {" 1h", -1},
        {".h", -1},
        {"1.2.3h", -1},
        {"99999999999999999999", -1},
        {"9999999999999h", -1},
        {"3153600000", 3153600000},
        {"3153600001", -1},
        {"36500d", 3153600000},
        {"36501d", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -7;
        struct lk_error err = {0};
        int r = duration_parse_seconds(cases[i].in, strlen(cases[i].in), &got, &err);
        if (cases[i].want < 0) {
            if (r != LK_EINVAL)
                fail_msg("%s: accepted as %lld", cases[i].in, (long long)got);
            assert_true(err.msg[0] != '\0');
            assert_int_equal(got, -7);
        } else {
            if (r != 0 || got != cases[i].want)
                fail_msg("%s: r=%d got %lld want %lld (%s)", cases[i].in, r, (long long)got, (long long)cases[i].want,
                         err.msg);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_message_reads_well_after_a_field_prefix),
        cmocka_unit_test(test_parse_message_truncates_long_input),
        cmocka_unit_test(test_parse_message_escapes_control_bytes),
        cmocka_unit_test(test_parse_rejects_embedded_nul),
        cmocka_unit_test(test_parse_uses_only_len_bytes),
        cmocka_unit_test(test_parse_accepts_null_error),
        cmocka_unit_test(test_parse_failure_leaves_ret_untouched),
        cmocka_unit_test(test_is_zero),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_add_past_9999_is_range_error),
        cmocka_unit_test(test_add_one_second_past_9999_is_range_error),
        cmocka_unit_test(test_add_before_1970_is_range_error),
        cmocka_unit_test(test_add_negative_months_moves_back),
        cmocka_unit_test(test_add_extreme_components_do_not_overflow),
        cmocka_unit_test(test_add_extreme_from_does_not_overflow),
        cmocka_unit_test(test_words_under_a_minute),
        cmocka_unit_test(test_words_minutes_round_down),
        cmocka_unit_test(test_words_hours_below_48_round_down),
        cmocka_unit_test(test_words_days_and_hours),
        cmocka_unit_test(test_words_too_small_a_buffer_fails_empty),
        cmocka_unit_test(test_seconds_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
