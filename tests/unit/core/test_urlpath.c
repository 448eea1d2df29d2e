/*
 * test_urlpath.c - unit tests for the canonical request path
 * (core/urlpath.h): what passes, each rule that refuses, and that a
 * refusal never echoes the path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/urlpath.h"

#include "unit_assert.h"

static void assert_ok(const char *path) {
    struct lk_error err = {0};
    int r = urlpath_check(path, strlen(path), &err);
    if (r != 0)
        fail_msg("%s refused: %s", path, err.msg);
}

/* Refused, with a message holding want and not the path's last segment. */
static void assert_refused(const char *path, size_t n, const char *want) {
    struct lk_error err = {0};
    int r = urlpath_check(path, n, &err);
    if (r != LK_EINVAL)
        fail_msg("%.*s: expected LK_EINVAL, got %d", (int)n, path, r);
    if (strstr(err.msg, want) == NULL)
        fail_msg("%.*s: \"%s\" does not say \"%s\"", (int)n, path, err.msg, want);
    const char *last = memrchr(path, '/', n);
    size_t seg = last != NULL ? (size_t)(path + n - last - 1) : 0;
    if (seg >= 6 && memmem(err.msg, strlen(err.msg), last + 1, seg) != NULL)
        fail_msg("%.*s: the message echoes the path: %s", (int)n, path, err.msg);
}

#define REFUSED(lit, want) assert_refused(lit, sizeof(lit) - 1, want)

static void test_ordinary_paths_pass(void **state) {
    (void)state;
    assert_ok("/");
    assert_ok("/v1/orgs/acme/users/alice");
    assert_ok("/v1/orgs/acme/");
    assert_ok("/v1/tokens/lk%5Fuser%5FAbC"); /* one layer: what a client library may send */
    assert_ok("/v1/orgs/caf%C3%A9");         /* UTF-8, encoded */
    assert_ok("/v1/orgs/caf\xc3\xa9");       /* UTF-8, raw */
    assert_ok("/v1/orgs/a%20b");
    assert_ok("/v1/orgs/.well");
    assert_ok("/v1/orgs/...");
    assert_ok("/v1/orgs//x"); /* empty segment: the router's 404 */
    assert_ok("/v1/orgs/100%25");
}

static void test_an_encoded_slash_is_refused(void **state) {
    (void)state;
    REFUSED("/v1/orgs/acme%2fusers", "segment 3 holds an encoded '/'");
    REFUSED("/v1/orgs/acme%2Fusers", "encoded '/'");
}

static void test_nul_and_control_bytes_are_refused(void **state) {
    (void)state;
    REFUSED("/v1/orgs/acme%00x", "segment 3 holds a control character");
    REFUSED("/v1/orgs/acme%0a", "control character");
    REFUSED("/v1/orgs/acme%7F", "control character");
    REFUSED("/v1/orgs/ac\tme", "control character");
    assert_refused("/v1/orgs/ac\0me", 14, "control character");
}

static void test_dot_segments_are_refused(void **state) {
    (void)state;
    REFUSED("/v1/orgs/../tokens", "segment 3 is '.' or '..'");
    REFUSED("/v1/orgs/%2e%2e/tokens", "'.' or '..'");
    REFUSED("/v1/orgs/.%2E", "'.' or '..'");
    REFUSED("/v1/./orgs", "segment 2 is '.' or '..'");
    REFUSED("/v1/orgs/..", "'.' or '..'");
}

static void test_double_encoding_is_refused(void **state) {
    (void)state;
    REFUSED("/v1/tokens/lk%255Fuser%255Fabcdefghijkl", "segment 3 is percent-encoded twice");
    REFUSED("/v1/tokens/%25%34%31", "percent-encoded twice");
    REFUSED("/v1/tokens/%2541", "percent-encoded twice");
}

static void test_malformed_escapes_are_refused(void **state) {
    (void)state;
    REFUSED("/v1/orgs/ac%zzme", "'%' that is not followed by two hex digits");
    REFUSED("/v1/orgs/acme%4", "two hex digits");
    REFUSED("/v1/orgs/acme%", "two hex digits");
}

static void test_bytes_that_are_not_utf8_are_refused(void **state) {
    (void)state;
    REFUSED("/v1/orgs/ac%FFme", "segment 3 is not valid UTF-8");
    REFUSED("/v%E91/orgs", "segment 1 is not valid UTF-8");
    REFUSED("/v1/orgs/caf%C3", "not valid UTF-8");
    REFUSED("/v1/orgs/%C0%AF", "not valid UTF-8"); /* overlong '/' */
    REFUSED("/v1/orgs/ac\xffme", "not valid UTF-8");
}

static void test_a_path_must_start_with_a_slash(void **state) {
    (void)state;
    REFUSED("v1/orgs", "must start with '/'");
    REFUSED("*", "must start with '/'");
    assert_refused("", 0, "must start with '/'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_paths_pass),
        cmocka_unit_test(test_an_encoded_slash_is_refused),
        cmocka_unit_test(test_nul_and_control_bytes_are_refused),
        cmocka_unit_test(test_dot_segments_are_refused),
        cmocka_unit_test(test_double_encoding_is_refused),
        cmocka_unit_test(test_malformed_escapes_are_refused),
        cmocka_unit_test(test_bytes_that_are_not_utf8_are_refused),
        cmocka_unit_test(test_a_path_must_start_with_a_slash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
