/*
 * test_str.c - unit tests for the string helpers every echo of client
 * bytes goes through (lib/str.h): UTF-8 checks, cutting between
 * characters, escaping, and decoding percent-encoding all the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/str.h"

#include "unit_assert.h"

#define S(lit) lit, sizeof(lit) - 1

static void assert_echo(const char *in, size_t n, const char *want) {
    char out[STR_ECHO_BUFSZ];
    str_echo(in, n, out);
    if (strcmp(out, want) != 0)
        fail_msg("str_echo gave \"%s\", expected \"%s\"", out, want);
}

static void test_utf8_len_accepts_each_width(void **state) {
    (void)state;
    assert_i64_eq(str_utf8_len(S("a")), 1);
    assert_i64_eq(str_utf8_len(S("\xc3\xa9")), 2);         /* é */
    assert_i64_eq(str_utf8_len(S("\xe2\x82\xac")), 3);     /* € */
    assert_i64_eq(str_utf8_len(S("\xf0\x9f\x94\x91")), 4); /* 🔑 */
    assert_i64_eq(str_utf8_len(S("\xf4\x8f\xbf\xbf")), 4); /* U+10FFFF */
}

static void test_utf8_len_refuses_what_is_not_utf8(void **state) {
    (void)state;
    assert_i64_eq(str_utf8_len("", 0), 0);
    assert_i64_eq(str_utf8_len(S("\x80")), 0);             /* stray continuation */
    assert_i64_eq(str_utf8_len(S("\xc0\xaf")), 0);         /* overlong '/' */
    assert_i64_eq(str_utf8_len(S("\xe0\x80\xaf")), 0);     /* overlong '/' */
    assert_i64_eq(str_utf8_len(S("\xed\xa0\x80")), 0);     /* surrogate */
    assert_i64_eq(str_utf8_len(S("\xf4\x90\x80\x80")), 0); /* past U+10FFFF */
    assert_i64_eq(str_utf8_len(S("\xff")), 0);
    assert_i64_eq(str_utf8_len(S("\xc3")), 0);     /* cut short */
    assert_i64_eq(str_utf8_len(S("\xe2\x82")), 0); /* cut short */
    assert_i64_eq(str_utf8_len(S("\xc3x")), 0);    /* no continuation */
    assert_int_equal(str_utf8_valid(S("ok \xc3\xa9")), 1);
    assert_int_equal(str_utf8_valid(S("ac\xffme")), 0);
}

static void test_prefix_never_ends_inside_a_character(void **state) {
    (void)state;
    /* "a" then three é: 7 bytes. */
    const char s[] = "a\xc3\xa9\xc3\xa9\xc3\xa9";
    assert_i64_eq(str_utf8_prefix(s, 7, 7), 7);
    assert_i64_eq(str_utf8_prefix(s, 7, 6), 5);
    assert_i64_eq(str_utf8_prefix(s, 7, 4), 3);
    assert_i64_eq(str_utf8_prefix(s, 7, 0), 0);
    /* A byte outside any character is a unit of its own. */
    assert_i64_eq(str_utf8_prefix(S("\xff\xff\xff"), 2), 2);
}

static void test_escape_shows_bytes_that_are_not_text(void **state) {
    (void)state;
    char out[64];
    assert_i64_eq(str_escape(S("ac\xffme"), out, sizeof(out), NULL), 8);
    assert_string_equal(out, "ac\\xffme");
    str_escape(S("caf\xc3\xa9"), out, sizeof(out), NULL);
    assert_string_equal(out, "caf\xc3\xa9");
    str_escape(S("a\nb\x7f\x00"), out, sizeof(out), NULL);
    assert_string_equal(out, "a\\x0ab\\x7f\\x00");
    /* A C1 control (U+009B, CSI) is shown as its two bytes. */
    str_escape(S("x\xc2\x9b[2J"), out, sizeof(out), NULL);
    assert_string_equal(out, "x\\xc2\\x9b[2J");
    /* A character cut short at the end is shown byte by byte. */
    str_escape(S("\xe2\x82"), out, sizeof(out), NULL);
    assert_string_equal(out, "\\xe2\\x82");
}

static void test_escape_stops_between_characters(void **state) {
    (void)state;
    char out[64];
    size_t used = 0;
    /* Room for "é" and NUL is 3 bytes: a second é does not fit. */
    assert_i64_eq(str_escape(S("\xc3\xa9\xc3\xa9"), out, 4, &used), 2);
    assert_i64_eq(used, 2);
    assert_string_equal(out, "\xc3\xa9");
    /* An escape is all four characters or nothing. */
    assert_i64_eq(str_escape(S("a\xff"), out, 5, &used), 1);
    assert_i64_eq(used, 1);
    assert_string_equal(out, "a");
    assert_i64_eq(str_escape(S("abc"), out, 1, &used), 0);
    assert_i64_eq(used, 0);
    assert_string_equal(out, "");
}

static void test_echo_cuts_at_a_character_boundary(void **state) {
    (void)state;
    /* "a" + 40 é is 81 bytes: the cut at 64 would split the 32nd é. */
    char in[128];
    char want[128];
    size_t n = 0, w = 0;
    in[n++] = 'a';
    want[w++] = 'a';
    for (int i = 0; i < 40; i++) {
        memcpy(in + n, "\xc3\xa9", 2);
        n += 2;
        if (i < 31) {
            memcpy(want + w, "\xc3\xa9", 2);
            w += 2;
        }
    }
    memcpy(want + w, "...", 4);
    assert_echo(in, n, want);
    assert_echo(S("short"), "short");
    assert_echo(S("ac\xffme"), "ac\\xffme");
}

static void test_echo_n_limits(void **state) {
    (void)state;
    char out[16];
    assert_i64_eq(str_echo_n(S("abcdefgh"), 4, out, sizeof(out)), 7);
    assert_string_equal(out, "abcd...");
    /* A buffer too small for all of max stops early, still with "...". */
    assert_i64_eq(str_echo_n(S("\xff\xff\xff"), 3, out, 10), 7);
    assert_string_equal(out, "\\xff...");
    assert_i64_eq(str_echo_n(S("abc"), 3, out, 3), 0);
    assert_string_equal(out, "");
}

static void assert_decode_all(const char *in, size_t n, const char *want) {
    char out[128];
    size_t len = str_percent_decode_all(in, n, out);
    if (len != strlen(want) || memcmp(out, want, len) != 0)
        fail_msg("str_percent_decode_all gave \"%.*s\", expected \"%s\"", (int)len, out, want);
}

static void test_decode_all_undoes_every_layer(void **state) {
    (void)state;
    assert_decode_all(S("lk%5Fuser"), "lk_user");
    assert_decode_all(S("lk%255Fuser"), "lk_user");
    assert_decode_all(S("lk%25255Fuser"), "lk_user");
    assert_decode_all(S("%25%35%66"), "_"); /* "%5f" spelled out byte by byte */
    assert_decode_all(S("100%"), "100%");
    assert_decode_all(S("%zz%4"), "%zz%4");
    assert_decode_all(S("%%41"), "%A");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_len_accepts_each_width),
        cmocka_unit_test(test_utf8_len_refuses_what_is_not_utf8),
        cmocka_unit_test(test_prefix_never_ends_inside_a_character),
        cmocka_unit_test(test_escape_shows_bytes_that_are_not_text),
        cmocka_unit_test(test_escape_stops_between_characters),
        cmocka_unit_test(test_echo_cuts_at_a_character_boundary),
        cmocka_unit_test(test_echo_n_limits),
        cmocka_unit_test(test_decode_all_undoes_every_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
