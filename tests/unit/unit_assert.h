/*
 * unit_assert.h - assertions the unit suites share, on top of cmocka's
 * (include after <cmocka.h>).
 */
#ifndef LK_TESTS_UNIT_ASSERT_H
#define LK_TESTS_UNIT_ASSERT_H

/* cmocka's assert_int_equal prints hex; this prints both values in decimal. */
#define assert_i64_eq(actual, expected)                                                                                \
    do {                                                                                                               \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                                \
        if (a_ != e_)                                                                                                  \
            fail_msg("%s is %lld, expected %s = %lld", #actual, a_, #expected, e_);                                    \
    } while (0)

#endif
