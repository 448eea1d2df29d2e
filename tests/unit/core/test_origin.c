/*
 * test_origin.c - unit tests for web origins (core/origin.h): the canonical
 * form, what is refused, and matching an Origin against the Host a request
 * was sent to and an allow-list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/origin.h"

#include "unit_assert.h"

static void assert_canon(const char *in, const char *want) {
    struct origin o;
    if (origin_parse(in, strlen(in), &o) != 0)
        fail_msg("origin_parse(\"%s\") failed, expected \"%s\"", in, want);
    if (strcmp(o.text, want) != 0 || o.len != strlen(want))
        fail_msg("origin_parse(\"%s\") gave \"%s\" (len %zu), expected \"%s\"", in, o.text, o.len, want);
}

static void assert_refused(const char *in) {
    struct origin o;
    memset(&o, 0x5a, sizeof(o));
    int r = origin_parse(in, strlen(in), &o);
    if (r != LK_EINVAL)
        fail_msg("origin_parse(\"%s\") returned %d, expected LK_EINVAL", in, r);
    for (size_t i = 0; i < sizeof(o); i++)
        if (((unsigned char *)&o)[i] != 0x5a)
            fail_msg("origin_parse(\"%s\") failed but wrote its output", in);
}

static void test_canonical_form(void **state) {
    assert_canon("https://console.example.com", "https://console.example.com");
    assert_canon("HTTPS://Console.Example.COM", "https://console.example.com");
    assert_canon("http://127.0.0.1:8420", "http://127.0.0.1:8420");
    assert_canon("https://a.example:8443", "https://a.example:8443");
    assert_canon("http://under_score.example", "http://under_score.example");
}

static void test_default_ports_are_dropped(void **state) {
    assert_canon("https://a.example:443", "https://a.example");
    assert_canon("http://a.example:80", "http://a.example");
    assert_canon("http://a.example:443", "http://a.example:443");
    assert_canon("https://a.example:80", "https://a.example:80");
    assert_canon("https://a.example:00443", "https://a.example");
    assert_canon("http://a.example:08420", "http://a.example:8420");
}

static void test_ipv6_literals(void **state) {
    assert_canon("http://[::1]:8420", "http://[::1]:8420");
    assert_canon("https://[2001:DB8:0:0::1]", "https://[2001:db8::1]");
    assert_canon("https://[2001:db8::1]:443", "https://[2001:db8::1]");
}

static void test_refusals(void **state) {
    static const char *const bad[] = {
        "",
        "null",
        "*",
        "https://*.example.com",
        "https://",
        "https://:443",
        "console.example.com",
        "//console.example.com",
        "ftp://console.example.com",
        "file://",
        "javascript:alert(1)",
        "chrome-extension://abcdef",
        "https://console.example.com/",
        "https://console.example.com/path",
        "https://console.example.com?q",
        "https://console.example.com#f",
        "https://user@console.example.com",
        "https://user:pw@console.example.com",
        "https://console.example.com:",
        "https://console.example.com:0",
        "https://console.example.com:65536",
        "https://console.example.com:123456",
        "https://console.example.com:8a",
        "https://console.example.com:+80",
        "https://console example.com",
        "https://console.example.com ",
        "https://[::1",
        "https://[::1]x",
        "https://[fe80::1%25eth0]",
        "https://[not:an:address]",
        "https://[]",
        "https://a.example,https://b.example",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused(bad[i]);
}

static void test_a_long_host_is_refused(void **state) {
    char buf[ORIGIN_HOST_MAX + 32];
    memcpy(buf, "https://", 8);
    memset(buf + 8, 'a', ORIGIN_HOST_MAX);
    struct origin o;
    assert_i64_eq(origin_parse(buf, 8 + ORIGIN_HOST_MAX, &o), 0);
    assert_i64_eq(o.len, 8 + ORIGIN_HOST_MAX);
    buf[8 + ORIGIN_HOST_MAX] = 'a';
    assert_i64_eq(origin_parse(buf, 8 + ORIGIN_HOST_MAX + 1, &o), LK_EINVAL);
    /* The longest host with a port still fits the buffer. */
    memcpy(buf + 8 + ORIGIN_HOST_MAX, ":65535", 6);
    assert_i64_eq(origin_parse(buf, 8 + ORIGIN_HOST_MAX + 6, &o), 0);
    assert_i64_eq(o.len, 8 + ORIGIN_HOST_MAX + 6);
}

static void test_does_not_read_past_the_slice(void **state) {
    struct origin o;
    const char *s = "https://a.example/evil";
    assert_i64_eq(origin_parse(s, strlen("https://a.example"), &o), 0);
    assert_string_equal(o.text, "https://a.example");
}

static int matches_host(const char *origin, int https, const char *host) {
    struct origin a, b;
    if (origin_parse(origin, strlen(origin), &a) != 0)
        fail_msg("origin_parse(\"%s\") failed", origin);
    if (origin_from_host(https, host, strlen(host), &b) != 0)
        return -1;
    return origin_equal(&a, &b);
}

static void test_own_origin_from_host(void **state) {
    assert_i64_eq(matches_host("http://127.0.0.1:8420", 0, "127.0.0.1:8420"), 1);
    assert_i64_eq(matches_host("https://latchkey.corp.example", 1, "latchkey.corp.example"), 1);
    assert_i64_eq(matches_host("https://latchkey.corp.example", 1, "LATCHKEY.corp.example:443"), 1);
    assert_i64_eq(matches_host("http://[::1]:8420", 0, "[::1]:8420"), 1);
    /* Scheme, port and host must all agree. */
    assert_i64_eq(matches_host("https://127.0.0.1:8420", 0, "127.0.0.1:8420"), 0);
    assert_i64_eq(matches_host("http://127.0.0.1:8421", 0, "127.0.0.1:8420"), 0);
    assert_i64_eq(matches_host("http://127.0.0.1", 0, "127.0.0.1:8420"), 0);
    assert_i64_eq(matches_host("https://evil.latchkey.corp.example", 1, "latchkey.corp.example"), 0);
    assert_i64_eq(matches_host("https://latchkey.corp.example.evil", 1, "latchkey.corp.example"), 0);
    /* A Host that is not one is no origin at all. */
    assert_i64_eq(matches_host("http://a.example", 0, "a.example/x"), -1);
    assert_i64_eq(matches_host("http://a.example", 0, "user@a.example"), -1);
    assert_i64_eq(matches_host("http://a.example", 0, ""), -1);
}

static void test_allow_list(void **state) {
    struct origin_list l;
    struct origin o;
    memset(&l, 0, sizeof(l));
    assert_i64_eq(origin_parse("https://a.example", 17, &o), 0);
    assert_i64_eq(origin_list_contains(&l, &o), 0);
    assert_i64_eq(origin_parse("https://b.example:8443", 22, &l.items[l.count++]), 0);
    assert_i64_eq(origin_parse("https://A.example:443", 21, &l.items[l.count++]), 0);
    assert_i64_eq(origin_list_contains(&l, &o), 1);
    assert_i64_eq(origin_parse("https://b.example", 17, &o), 0);
    assert_i64_eq(origin_list_contains(&l, &o), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_form),         cmocka_unit_test(test_default_ports_are_dropped),
        cmocka_unit_test(test_ipv6_literals),          cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_a_long_host_is_refused), cmocka_unit_test(test_does_not_read_past_the_slice),
        cmocka_unit_test(test_own_origin_from_host),   cmocka_unit_test(test_allow_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
