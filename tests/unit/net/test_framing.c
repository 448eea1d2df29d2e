/*
 * test_framing.c - unit tests for reading an HTTP/1 head again for
 * framing that could be read two ways (net/framing.h): each rule that
 * refuses, and the ordinary heads that pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "net/framing.h"

#include "unit_assert.h"

#define SMUGGLED "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n"

static int check(const char *head, const char *method, struct lk_error *err) {
    return framing_check(head, strlen(head), method, strlen(method), err);
}

static void assert_ok(const char *head, const char *method) {
    struct lk_error err = {0};
    if (check(head, method, &err) != 0)
        fail_msg("refused: %s\n%s", err.msg, head);
}

static void assert_refused(const char *head, const char *method, const char *want) {
    struct lk_error err = {0};
    int r = check(head, method, &err);
    if (r != LK_EINVAL)
        fail_msg("expected LK_EINVAL, got %d for\n%s", r, head);
    if (strstr(err.msg, want) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", err.msg, want);
}

static void test_ordinary_heads_pass(void **state) {
    (void)state;
    assert_ok("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n", "GET");
    assert_ok("POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" SMUGGLED, "POST");
    assert_ok("POST /v1/tokens HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", "POST");
    assert_ok("POST /v1/tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n", "POST");
    assert_ok("GET / HTTP/1.0\r\n\r\n", "GET");
    /* One empty line before the request line is skipped, as h2o does. */
    assert_ok("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET");
    /* A header merely named like one, or holding the words. */
    assert_ok("GET / HTTP/1.1\r\nHost: x\r\nX-Content-Length: 5\r\nX-Note: Transfer-Encoding: chunked\r\n\r\n", "GET");
}

static void test_both_lengths_are_refused(void **state) {
    (void)state;
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 45\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "0\r\n\r\n" SMUGGLED,
                   "POST", "both Content-Length and Transfer-Encoding");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\ntransfer-ENCODING: chunked\r\ncontent-length: 3\r\n\r\n", "POST",
                   "both Content-Length and Transfer-Encoding");
}

static void test_repeated_content_length_is_refused(void **state) {
    (void)state;
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n", "POST",
                   "Content-Length appears 2 times");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "POST",
                   "Content-Length appears 2 times");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}", "POST",
                   "Content-Length \"2, 2\" is not a decimal number");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}", "POST", "not a decimal number");
}

static void test_transfer_encoding_other_than_chunked_is_refused(void **state) {
    (void)state;
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", "POST",
                   "Transfer-Encoding \"chunked, identity\" is not supported");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", "POST", "\"identity\"");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", "POST", "\"Chunked\"");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked \r\n\r\n", "POST", "\"chunked \"");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                   "POST", "Transfer-Encoding appears 2 times");
    assert_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "not allowed in an HTTP/1.0");
    /* Client bytes in the message are escaped. */
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \xff\r\n\r\n", "POST", "\"\\xff\"");
}

static void test_line_folding_and_bare_lf_are_refused(void **state) {
    (void)state;
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n", "POST",
                   "obsolete line folding");
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n", "POST",
                   "obsolete line folding");
    assert_refused("GET / HTTP/1.1\nHost: x\n\n", "GET", "LF without CR");
    assert_refused("GET / HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\n\r\n", "GET", "LF without CR");
    assert_refused("GET / HTTP/1.1\r\nHost: x\r\n\n", "GET", "LF without CR");
}

static void test_host_must_be_there_once(void **state) {
    (void)state;
    assert_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET", "Host appears 2 times");
    assert_refused("GET / HTTP/1.1\r\n\r\n", "GET", "needs a Host header");
}

static void test_a_head_that_is_not_there_fails_closed(void **state) {
    (void)state;
    assert_refused("", "GET", "could not be read");
    assert_refused("GET / HTTP/1.1\r\nHost: x\r\n", "GET", "could not be read");      /* no end */
    assert_refused("POST / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "could not be read"); /* not this request */
    assert_refused("GET / HTTP/2.0\r\nHost: x\r\n\r\n", "GET", "could not be read");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_heads_pass),
        cmocka_unit_test(test_both_lengths_are_refused),
        cmocka_unit_test(test_repeated_content_length_is_refused),
        cmocka_unit_test(test_transfer_encoding_other_than_chunked_is_refused),
        cmocka_unit_test(test_line_folding_and_bare_lf_are_refused),
        cmocka_unit_test(test_host_must_be_there_once),
        cmocka_unit_test(test_a_head_that_is_not_there_fails_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
