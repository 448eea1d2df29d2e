/*
 * test_log.c - unit tests for the log writer's JSON strings
 * (logbuf_put_json_str): every line stays valid JSON in UTF-8, whatever
 * bytes a client put in a path or a method.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "lib/log.h"

#include "unit_assert.h"

/* "<in, escaped>" as logbuf_put_json_str writes it, then read by jansson. */
static void assert_logged(const char *in, size_t n, const char *want_raw, const char *want_read) {
    struct logbuf b;
    logbuf_init(&b, 4096);
    logbuf_puts(&b, "\"");
    logbuf_put_json_str(&b, in, n);
    logbuf_puts(&b, "\"");
    if (b.len != strlen(want_raw) + 2 || memcmp(b.data + 1, want_raw, b.len - 2) != 0)
        fail_msg("wrote %.*s, expected \"%s\"", (int)b.len, b.data, want_raw);
    json_error_t err;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &err);
    if (v == NULL)
        fail_msg("not JSON: %.*s (%s)", (int)b.len, b.data, err.text);
    assert_string_equal(json_string_value(v), want_read);
    json_decref(v);
    logbuf_done(&b);
}

#define S(lit) lit, sizeof(lit) - 1

static void test_text_and_utf8_pass_as_they_are(void **state) {
    (void)state;
    assert_logged(S("/v1/orgs/caf\xc3\xa9"), "/v1/orgs/caf\xc3\xa9", "/v1/orgs/caf\xc3\xa9");
    assert_logged(S("q\"b\\s"), "q\\\"b\\\\s", "q\"b\\s");
}

static void test_controls_are_escaped(void **state) {
    (void)state;
    assert_logged(S("a\nb\x7f"), "a\\u000ab\\u007f", "a\nb\x7f");
    /* A C1 control (CSI) is valid UTF-8; written as its code point. */
    assert_logged(S("x\xc2\x9b[2J"), "x\\u009b[2J", "x\xc2\x9b[2J");
}

static void test_bytes_outside_utf8_are_shown_not_copied(void **state) {
    (void)state;
    assert_logged(S("/v\xe9"
                    "1/orgs"),
                  "/v\\\\xe91/orgs", "/v\\xe91/orgs");
    assert_logged(S("ac\xff\xfeme"), "ac\\\\xff\\\\xfeme", "ac\\xff\\xfeme");
    assert_logged(S("cut \xe2\x82"), "cut \\\\xe2\\\\x82", "cut \\xe2\\x82");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_utf8_pass_as_they_are),
        cmocka_unit_test(test_controls_are_escaped),
        cmocka_unit_test(test_bytes_outside_utf8_are_shown_not_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
