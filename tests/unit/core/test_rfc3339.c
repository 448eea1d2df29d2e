/*
 * test_rfc3339.c - unit tests for RFC 3339 parsing and formatting and the
 * civil-date conversions (core/rfc3339.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/rfc3339.h"

#include "unit_assert.h"

static int parse_str(const char *s, int64_t *ret) {
    return rfc3339_parse(s, strlen(s), ret);
}

/* ---- civil-date conversions ---- */

static void test_days_from_civil_known_dates(void **state) {
    assert_i64_eq(rfc3339_days_from_civil(1970, 1, 1), 0);
    assert_i64_eq(rfc3339_days_from_civil(1969, 12, 31), -1);
    assert_i64_eq(rfc3339_days_from_civil(2000, 2, 29), 11016);
    assert_i64_eq(rfc3339_days_from_civil(2000, 3, 1), 11017);
    assert_i64_eq(rfc3339_days_from_civil(9999, 12, 31), 2932896);
    assert_i64_eq(rfc3339_days_from_civil(0, 1, 1), -719528);
}

static void test_civil_from_days_known_dates(void **state) {
    int64_t y;
    unsigned m, d;
    rfc3339_civil_from_days(11016, &y, &m, &d);
    assert_i64_eq(y, 2000);
    assert_i64_eq(m, 2);
    assert_i64_eq(d, 29);
    rfc3339_civil_from_days(-1, &y, &m, &d);
    assert_i64_eq(y, 1969);
    assert_i64_eq(m, 12);
    assert_i64_eq(d, 31);
}

/* Walks every day from year -400 to 10400 and checks each is the day after the previous one. */
static void test_civil_days_round_trip_and_are_consecutive(void **state) {
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = rfc3339_days_from_civil(-400, 1, 1);
    int64_t last = rfc3339_days_from_civil(10400, 12, 31);
    int64_t py = -401;
    unsigned pm = 12, pd = 31;

    for (int64_t z = first; z <= last; z++) {
        int64_t y;
        unsigned m, d;
        rfc3339_civil_from_days(z, &y, &m, &d);
        if (rfc3339_days_from_civil(y, m, d) != z)
            fail_msg("day %lld -> %lld-%02u-%02u -> %lld", (long long)z, (long long)y, m, d,
                     (long long)rfc3339_days_from_civil(y, m, d));
        int leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
        unsigned plen = pm == 2 && leap ? 29 : mdays[pm - 1];
        int ok = pd < plen ? (y == py && m == pm && d == pd + 1)
                           : (pm < 12 ? (y == py && m == pm + 1 && d == 1) : (y == py + 1 && m == 1 && d == 1));
        if (!ok)
            fail_msg("day %lld is %lld-%02u-%02u, which does not follow %lld-%02u-%02u", (long long)z, (long long)y, m,
                     d, (long long)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

/* ---- parsing ---- */

struct valid_case {
    const char *in;
    int64_t want;
};

static const struct valid_case valid_cases[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2000-02-29T00:00:00Z", 951782400},  /* leap year divisible by 400 */
    {"2024-02-29T12:00:00Z", 1709208000}, /* ordinary leap year */
    {"2027-01-01T00:00:00Z", 1798761600},
    {"9999-12-31T23:59:59Z", 253402300799},      /* the last accepted instant */
    {"2027-01-01t00:00:00z", 1798761600},        /* lower-case separators */
    {"2027-01-01 00:00:00Z", 1798761600},        /* space separator */
    {"2027-01-01T00:00:00.999999Z", 1798761600}, /* fraction truncated, not rounded */
    {"2027-01-01T00:00:00.5+00:00", 1798761600},
    {"2027-01-01T05:30:00+05:30", 1798761600}, /* positive offset */
    {"2026-12-31T19:00:00-05:00", 1798761600}, /* negative offset crossing a year */
    {"2027-01-01T00:00:00-00:00", 1798761600}, /* unknown local offset */
    {"2027-07-04T18:30:00-08:00", 1814754600},
    {"2016-12-31T23:59:60Z", 1483228799}, /* leap second read as :59 */
    {"1970-01-01T05:00:00+05:00", 0},
};

static void test_parse_valid(void **state) {
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        int64_t t = -1;
        int r = parse_str(valid_cases[i].in, &t);
        if (r != 0)
            fail_msg("rfc3339_parse(\"%s\") failed with %s, expected %lld", valid_cases[i].in, lk_errname(r),
                     (long long)valid_cases[i].want);
        if (t != valid_cases[i].want)
            fail_msg("rfc3339_parse(\"%s\") gave %lld, expected %lld", valid_cases[i].in, (long long)t,
                     (long long)valid_cases[i].want);
    }
}

static const char *const invalid_cases[] = {
    "",
    "2023-02-29T00:00:00Z", /* 2023 is not a leap year */
    "1900-02-29T00:00:00Z", /* divisible by 100 but not 400 (and before 1970) */
    "2100-02-29T00:00:00Z", /* divisible by 100 but not 400 */
    "2023-04-31T00:00:00Z", /* April has 30 days */
    "2023-13-01T00:00:00Z",
    "2023-00-10T00:00:00Z",
    "2023-01-00T00:00:00Z",
    "2023-01-32T00:00:00Z",
    "2023-01-01T24:00:00Z",
    "2023-01-01T23:60:00Z",
    "2023-01-01T23:59:61Z",
    "1969-12-31T23:59:59Z",      /* before 1970 */
    "1970-01-01T00:00:00+00:01", /* written in 1970 but an instant in 1969 */
    "9999-12-31T23:59:59-00:01", /* an instant in year 10000 */
    "10000-01-01T00:00:00Z",
    "2023-01-01T00:00:00",  /* no offset */
    "2023-01-01",           /* date only */
    "2023-01-01_00:00:00Z", /* bad separator */
    "2023-01-01x00:00:00Z",
    "2023/01/01T00:00:00Z",
    "2023-01-01T00-00-00Z",
    "2023-1-01T00:00:00Z",      /* one-digit month */
    "2023-01-01T0:00:00Z",      /* one-digit hour */
    "2023-01-01T00:00Z",        /* no seconds */
    "2023-01-01T00:00:00.Z",    /* fraction without digits */
    "2023-01-01T00:00:00,5Z",   /* comma fraction */
    "2023-01-01T00:00:00+0530", /* offset without colon */
    "2023-01-01T00:00:00+05",
    "2023-01-01T00:00:00+24:00",
    "2023-01-01T00:00:00+05:60",
    "2023-01-01T00:00:00 Z",
    "2023-01-01T00:00:00ZZ", /* trailing bytes */
    "2023-01-01T00:00:00Z ",
    " 2023-01-01T00:00:00Z",
    "+2023-01-01T00:00:00Z",
    "２023-01-01T00:00:00Z", /* non-ASCII digit */
};

static void test_parse_invalid(void **state) {
    for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        int64_t t = 0;
        int r = parse_str(invalid_cases[i], &t);
        if (r != LK_EINVAL)
            fail_msg("rfc3339_parse(\"%s\") returned %s (t = %lld), expected EINVAL", invalid_cases[i], lk_errname(r),
                     (long long)t);
    }
}

static void test_parse_rejects_embedded_nul(void **state) {
    static const char s[] = "2027-01-01T00:00:00Z\0garbage";
    int64_t t;
    assert_i64_eq(rfc3339_parse(s, sizeof(s) - 1, &t), LK_EINVAL);
    static const char s2[] = "2027-01-01T00:00\0:00Z";
    assert_i64_eq(rfc3339_parse(s2, sizeof(s2) - 1, &t), LK_EINVAL);
}

static void test_parse_uses_only_len_bytes(void **state) {
    /* The first 20 bytes are a complete timestamp; what follows must not be read. */
    const char *s = "2027-01-01T00:00:00Zjunk";
    int64_t t = 0;
    assert_i64_eq(rfc3339_parse(s, 20, &t), 0);
    assert_i64_eq(t, 1798761600);
    assert_i64_eq(rfc3339_parse(s, 19, &t), LK_EINVAL);
}

static void test_parse_failure_leaves_ret_untouched(void **state) {
    int64_t t = 12345;
    assert_i64_eq(parse_str("2023-02-29T00:00:00Z", &t), LK_EINVAL);
    assert_i64_eq(t, 12345);
}

/* ---- formatting ---- */

static void test_format_known_times(void **state) {
    char buf[RFC3339_BUFSZ];
    assert_i64_eq(rfc3339_format(0, buf), 20);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    rfc3339_format(951782400, buf);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    rfc3339_format(1814754600, buf);
    assert_string_equal(buf, "2027-07-05T02:30:00Z");
    rfc3339_format(253402300799, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void test_format_before_1970(void **state) {
    char buf[RFC3339_BUFSZ];
    rfc3339_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void test_format_clamps_out_of_range(void **state) {
    char buf[RFC3339_BUFSZ];
    assert_i64_eq(rfc3339_format(INT64_MAX, buf), 20);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    assert_i64_eq(rfc3339_format(INT64_MIN, buf), 20);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
}

static void test_format_then_parse_round_trips(void **state) {
    static const int64_t times[] = {0, 1, 59, 86399, 86400, 951782399, 951782400, 1709208000, 4107542400, 253402300799};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char buf[RFC3339_BUFSZ];
        int64_t t = -1;
        rfc3339_format(times[i], buf);
        if (parse_str(buf, &t) != 0 || t != times[i])
            fail_msg("%lld formats as %s, which parses back as %lld", (long long)times[i], buf, (long long)t);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil_known_dates),
        cmocka_unit_test(test_civil_from_days_known_dates),
        cmocka_unit_test(test_civil_days_round_trip_and_are_consecutive),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_rejects_embedded_nul),
        cmocka_unit_test(test_parse_uses_only_len_bytes),
        cmocka_unit_test(test_parse_failure_leaves_ret_untouched),
        cmocka_unit_test(test_format_known_times),
        cmocka_unit_test(test_format_before_1970),
        cmocka_unit_test(test_format_clamps_out_of_range),
        cmocka_unit_test(test_format_then_parse_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
