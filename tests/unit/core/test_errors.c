/*
 * test_errors.c - unit tests for the error table and struct lk_error
 * (core/errors.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"

#include "unit_assert.h"

struct row {
    int code;
    int num;
    int status;
    const char *name;
    const char *msg;
};

static const struct row rows[] = {
#define ROW_(name, num, status, msg) {LK_E##name, num, status, #name, msg},
    LK_ERRNO_MAP(ROW_)
#undef ROW_
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void test_codes_are_minus_their_number(void **state) {
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].code != -rows[i].num)
            fail_msg("LK_E%s is %d, expected %d", rows[i].name, rows[i].code, -rows[i].num);
}

static void test_codes_are_distinct(void **state) {
    for (size_t i = 0; i < NROWS; i++)
        for (size_t j = i + 1; j < NROWS; j++)
            if (rows[i].code == rows[j].code)
                fail_msg("LK_E%s and LK_E%s share code %d", rows[i].name, rows[j].name, rows[i].code);
}

static void test_every_code_maps_to_its_row(void **state) {
    for (size_t i = 0; i < NROWS; i++) {
        if (strcmp(lk_errname(rows[i].code), rows[i].name) != 0)
            fail_msg("lk_errname(%d) is \"%s\", expected \"%s\"", rows[i].code, lk_errname(rows[i].code), rows[i].name);
        if (strcmp(lk_strerror(rows[i].code), rows[i].msg) != 0)
            fail_msg("lk_strerror(LK_E%s) is \"%s\", expected \"%s\"", rows[i].name, lk_strerror(rows[i].code),
                     rows[i].msg);
        if (lk_err_status(rows[i].code) != rows[i].status)
            fail_msg("lk_err_status(LK_E%s) is %d, expected %d", rows[i].name, lk_err_status(rows[i].code),
                     rows[i].status);
    }
}

static void test_every_status_is_an_http_error(void **state) {
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].status < 400 || rows[i].status > 599)
            fail_msg("LK_E%s has status %d, expected 4xx or 5xx", rows[i].name, rows[i].status);
}

static void test_known_codes_have_expected_status(void **state) {
    assert_i64_eq(lk_err_status(LK_EINVAL), 400);
    assert_i64_eq(lk_err_status(LK_EBADTOKEN), 401);
    assert_i64_eq(lk_err_status(LK_ENOTFOUND), 404);
    assert_i64_eq(lk_err_status(LK_ERATE), 429);
    assert_i64_eq(lk_err_status(LK_ERANGE), 400);
    assert_i64_eq(lk_err_status(LK_EINTEGRITY), 500);
}

static void test_zero_is_ok(void **state) {
    assert_string_equal(lk_strerror(0), "ok");
    assert_string_equal(lk_errname(0), "OK");
    assert_i64_eq(lk_err_status(0), 200);
}

static void test_unknown_code_falls_back(void **state) {
    assert_string_equal(lk_strerror(-9999), "unknown error");
    assert_string_equal(lk_errname(-9999), "UNKNOWN");
    assert_i64_eq(lk_err_status(-9999), 500);
    assert_string_equal(lk_errname(5), "UNKNOWN");
}

static void test_error_set_records_code_and_message(void **state) {
    struct lk_error e = {0};
    int r = lk_error_set(&e, LK_EINVAL, "expires: %s is %d", "P1X", 7);
    assert_i64_eq(r, LK_EINVAL);
    assert_i64_eq(e.code, LK_EINVAL);
    assert_string_equal(e.msg, "expires: P1X is 7");
    assert_string_equal(lk_error_message(&e), "expires: P1X is 7");
}

static void test_error_set_with_null_error_returns_code(void **state) {
    assert_i64_eq(lk_error_set(NULL, LK_ENOTFOUND, "no %s", "such thing"), LK_ENOTFOUND);
}

static void test_error_set_null_fmt_uses_default_message(void **state) {
    struct lk_error e;
    memset(&e, 'x', sizeof(e));
    lk_error_set(&e, LK_ENOTFOUND, NULL);
    assert_i64_eq(e.code, LK_ENOTFOUND);
    assert_string_equal(e.msg, "");
    assert_string_equal(lk_error_message(&e), "not found");
}

static void test_error_set_truncates_long_message(void **state) {
    char big[LK_ERRMSG_MAX * 2];
    struct lk_error e = {0};
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lk_error_set(&e, LK_EINVAL, "%s", big);
    assert_i64_eq(strlen(e.msg), LK_ERRMSG_MAX - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_are_minus_their_number),
        cmocka_unit_test(test_codes_are_distinct),
        cmocka_unit_test(test_every_code_maps_to_its_row),
        cmocka_unit_test(test_every_status_is_an_http_error),
        cmocka_unit_test(test_known_codes_have_expected_status),
        cmocka_unit_test(test_zero_is_ok),
        cmocka_unit_test(test_unknown_code_falls_back),
        cmocka_unit_test(test_error_set_records_code_and_message),
        cmocka_unit_test(test_error_set_with_null_error_returns_code),
        cmocka_unit_test(test_error_set_null_fmt_uses_default_message),
        cmocka_unit_test(test_error_set_truncates_long_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
