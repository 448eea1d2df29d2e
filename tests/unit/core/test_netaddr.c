/*
 * test_netaddr.c - unit tests for addresses, CIDR ranges and the
 * X-Forwarded-For walk (core/netaddr.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/errors.h"
#include "core/netaddr.h"

#include "unit_assert.h"

/* Parses s (must succeed) and returns its canonical text in a static buffer. */
static const char *canon(const char *s) {
    static char buf[NETADDR_BUFSZ];
    struct netaddr a;
    if (netaddr_parse(s, strlen(s), &a) != 0)
        fail_msg("netaddr_parse(\"%s\") failed, expected success", s);
    netaddr_format(&a, buf);
    return buf;
}

static void assert_parse_fails(const char *s) {
    struct netaddr a;
    memset(&a, 0x5a, sizeof(a));
    int r = netaddr_parse(s, strlen(s), &a);
    if (r != LK_EINVAL)
        fail_msg("netaddr_parse(\"%s\") returned %d, expected LK_EINVAL", s, r);
    for (size_t i = 0; i < sizeof(a); i++)
        if (((unsigned char *)&a)[i] != 0x5a)
            fail_msg("netaddr_parse(\"%s\") failed but wrote its output", s);
}

static struct netaddr_cidr cidr(const char *s) {
    struct netaddr_cidr c;
    if (netaddr_cidr_parse(s, strlen(s), &c) != 0)
        fail_msg("netaddr_cidr_parse(\"%s\") failed, expected success", s);
    return c;
}

static struct netaddr addr(const char *s) {
    struct netaddr a;
    if (netaddr_parse(s, strlen(s), &a) != 0)
        fail_msg("netaddr_parse(\"%s\") failed, expected success", s);
    return a;
}

static void assert_contains(const char *range, const char *a, int want) {
    struct netaddr_cidr c = cidr(range);
    struct netaddr x = addr(a);
    int got = netaddr_cidr_contains(&c, &x);
    if (got != want)
        fail_msg("%s contains %s: got %d, expected %d", range, a, got, want);
}

static void test_parse_ipv4(void **state) {
    assert_string_equal(canon("192.0.2.7"), "192.0.2.7");
    assert_string_equal(canon("0.0.0.0"), "0.0.0.0");
    assert_string_equal(canon("255.255.255.255"), "255.255.255.255");
}

static void test_parse_ipv4_refuses_other_spellings(void **state) {
    static const char *const bad[] = {"",         "1.2.3",      "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04",
                                      "1..3.4",   "1.2.3.",     ".1.2.3",    "1.2.3.4 ",  " 1.2.3.4", "0x7f.0.0.1",
                                      "1.2.3.4a", "1234.1.1.1", "-1.2.3.4",  "1.2.3.4/8", "localhost"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_parse_fails(bad[i]);
}

static void test_parse_ipv6(void **state) {
    assert_string_equal(canon("2001:DB8::1"), "2001:db8::1");
    assert_string_equal(canon("::1"), "::1");
    assert_string_equal(canon("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    assert_string_equal(canon("::"), "::");
}

static void test_ipv4_mapped_becomes_ipv4(void **state) {
    assert_string_equal(canon("::ffff:192.0.2.7"), "192.0.2.7");
    assert_string_equal(canon("::FFFF:c000:0207"), "192.0.2.7");
    struct netaddr a = addr("::ffff:10.1.2.3");
    assert_i64_eq(a.family, 4);
}

static void test_parse_ipv6_refuses_zones_and_junk(void **state) {
    static const char *const bad[] = {"fe80::1%eth0", "[::1]", "2001:db8::g",   "1:2:3:4:5:6:7:8:9",
                                      ":::",          "::1 ",  "2001:db8::1/64"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_parse_fails(bad[i]);
}

static void test_parse_does_not_read_past_the_slice(void **state) {
    struct netaddr a;
    /* "10.0.0.1" followed by more digits that are not part of the slice. */
    assert_i64_eq(netaddr_parse("10.0.0.12345", 8, &a), 0);
    char buf[NETADDR_BUFSZ];
    netaddr_format(&a, buf);
    assert_string_equal(buf, "10.0.0.1");
}

static void test_forwarded_entry_forms(void **state) {
    static const struct {
        const char *in, *want;
    } ok[] = {{"192.0.2.7", "192.0.2.7"},       {" 192.0.2.7\t", "192.0.2.7"},        {"192.0.2.7:8080", "192.0.2.7"},
              {"[2001:db8::1]", "2001:db8::1"}, {"[2001:db8::1]:443", "2001:db8::1"}, {"2001:db8::1", "2001:db8::1"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct netaddr a;
        char buf[NETADDR_BUFSZ];
        if (netaddr_parse_forwarded(ok[i].in, strlen(ok[i].in), &a) != 0)
            fail_msg("netaddr_parse_forwarded(\"%s\") failed", ok[i].in);
        netaddr_format(&a, buf);
        if (strcmp(buf, ok[i].want) != 0)
            fail_msg("netaddr_parse_forwarded(\"%s\") gave %s, expected %s", ok[i].in, buf, ok[i].want);
    }
    static const char *const bad[] = {"",
                                      "unknown",
                                      "_hidden",
                                      "192.0.2.7:",
                                      "192.0.2.7:0",
                                      "192.0.2.7:65536",
                                      "[2001:db8::1",
                                      "[2001:db8::1]:",
                                      "[192.0.2.7]",
                                      "[2001:db8::1]x",
                                      "2001:db8::1:443x",
                                      "1.2.3.4:80:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct netaddr a;
        if (netaddr_parse_forwarded(bad[i], strlen(bad[i]), &a) == 0)
            fail_msg("netaddr_parse_forwarded(\"%s\") succeeded, expected a refusal", bad[i]);
    }
}

static void test_cidr_match_ipv4(void **state) {
    assert_contains("10.0.0.0/8", "10.255.1.2", 1);
    assert_contains("10.0.0.0/8", "11.0.0.0", 0);
    assert_contains("192.0.2.0/25", "192.0.2.127", 1);
    assert_contains("192.0.2.0/25", "192.0.2.128", 0);
    assert_contains("192.0.2.10/32", "192.0.2.10", 1);
    assert_contains("192.0.2.10/32", "192.0.2.11", 0);
    assert_contains("192.0.2.10", "192.0.2.10", 1); /* a bare address is a /32 */
    assert_contains("0.0.0.0/0", "203.0.113.9", 1);
    assert_contains("172.16.0.0/12", "172.31.255.255", 1);
    assert_contains("172.16.0.0/12", "172.32.0.0", 0);
}

static void test_cidr_match_ipv6(void **state) {
    assert_contains("fd00::/8", "fd12:3456::1", 1);
    assert_contains("fd00::/8", "fe80::1", 0);
    assert_contains("2001:db8::/33", "2001:db8:7fff::1", 1);
    assert_contains("2001:db8::/33", "2001:db8:8000::1", 0);
    assert_contains("::1", "::1", 1);
    assert_contains("::/0", "2001:db8::1", 1);
}

static void test_cidr_families_never_match_each_other(void **state) {
    assert_contains("::/0", "192.0.2.7", 0);
    assert_contains("0.0.0.0/0", "2001:db8::1", 0);
    /* An IPv4-mapped peer is IPv4, and so is an IPv4-mapped range. */
    assert_contains("10.0.0.0/8", "::ffff:10.1.2.3", 1);
    assert_contains("::ffff:10.0.0.0/104", "10.9.9.9", 1);
    assert_contains("::ffff:10.0.0.0/104", "11.0.0.1", 0);
}

static void test_cidr_parse_refusals(void **state) {
    static const char *const bad[] = {
        "",           "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8",   "10.0.0.0/-1", "10.0.0.0/08a", "10.0.0.0/1000",
        "fd00::/129", "fd00::1/8", "/8",          "10.0.0.0/8/8", "nonsense",    "fe80::%1/64",  "::ffff:10.0.0.0/95"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct netaddr_cidr c;
        memset(&c, 0x5a, sizeof(c));
        if (netaddr_cidr_parse(bad[i], strlen(bad[i]), &c) == 0)
            fail_msg("netaddr_cidr_parse(\"%s\") succeeded, expected a refusal", bad[i]);
        for (size_t k = 0; k < sizeof(c); k++)
            if (((unsigned char *)&c)[k] != 0x5a)
                fail_msg("netaddr_cidr_parse(\"%s\") failed but wrote its output", bad[i]);
    }
}

static void test_cidr_list(void **state) {
    struct netaddr_cidrs l;
    memset(&l, 0, sizeof(l));
    struct netaddr a = addr("10.1.1.1");
    assert_i64_eq(netaddr_cidrs_contain(&l, &a), 0); /* empty trusts nothing */
    l.items[l.count++] = cidr("192.0.2.0/24");
    l.items[l.count++] = cidr("10.0.0.0/8");
    assert_i64_eq(netaddr_cidrs_contain(&l, &a), 1);
    a = addr("172.16.0.1");
    assert_i64_eq(netaddr_cidrs_contain(&l, &a), 0);
}

static void test_key_is_the_address_or_the_ipv6_64(void **state) {
    char buf[NETADDR_KEY_BUFSZ];
    struct netaddr a = addr("192.0.2.7");
    assert_i64_eq(netaddr_key(&a, buf), strlen("192.0.2.7"));
    assert_string_equal(buf, "192.0.2.7");
    a = addr("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
    netaddr_key(&a, buf);
    assert_string_equal(buf, "2001:db8:1:2::/64");
    struct netaddr b = addr("2001:db8:1:2::1");
    char buf2[NETADDR_KEY_BUFSZ];
    netaddr_key(&b, buf2);
    assert_string_equal(buf, buf2);
    a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    size_t n = netaddr_key(&a, buf);
    assert_string_equal(buf, "ffff:ffff:ffff:ffff::/64");
    assert_i64_eq(n, strlen(buf));
}

static void test_from_sockaddr(void **state) {
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    in6.sin6_addr.s6_addr[10] = 0xff;
    in6.sin6_addr.s6_addr[11] = 0xff;
    in6.sin6_addr.s6_addr[12] = 127;
    in6.sin6_addr.s6_addr[15] = 1;
    struct netaddr a;
    assert_i64_eq(netaddr_from_sockaddr((struct sockaddr *)&in6, &a), 0);
    char buf[NETADDR_BUFSZ];
    netaddr_format(&a, buf);
    assert_string_equal(buf, "127.0.0.1");
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_i64_eq(netaddr_from_sockaddr(&un, &a), LK_EINVAL);
}

/* Runs the walk over the given header values with trusted ranges; returns
 * the answer's text, or "-" when there is none. */
static const char *walk(const char *const *ranges, const char *const *values) {
    static char buf[NETADDR_BUFSZ];
    struct netaddr_cidrs l;
    struct netaddr_span spans[8];
    size_t n = 0;
    memset(&l, 0, sizeof(l));
    for (; ranges[l.count] != NULL; l.count++)
        l.items[l.count] = cidr(ranges[l.count]);
    for (; values[n] != NULL; n++)
        spans[n] = (struct netaddr_span){values[n], strlen(values[n])};
    struct netaddr a;
    if (!netaddr_forwarded_client(&l, spans, n, &a))
        return "-";
    netaddr_format(&a, buf);
    return buf;
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void test_forwarded_rightmost_untrusted_wins(void **state) {
    /* The client's own claims sit left of what our proxy appended. */
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("6.6.6.6, 198.51.100.1")), "198.51.100.1");
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("198.51.100.1")), "198.51.100.1");
    /* A chain of our proxies is passed over. */
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("6.6.6.6, 198.51.100.1, 10.0.0.2, 10.0.0.3")), "198.51.100.1");
}

static void test_forwarded_several_headers_are_one_list(void **state) {
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("6.6.6.6", "198.51.100.1, 10.0.0.2")), "198.51.100.1");
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("198.51.100.1", "10.0.0.2", "10.0.0.3")), "198.51.100.1");
}

static void test_forwarded_all_trusted_gives_the_leftmost(void **state) {
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("10.0.0.9, 10.0.0.2")), "10.0.0.9");
}

static void test_forwarded_malformed_entry_stops_the_walk(void **state) {
    /* Garbage right of every real address: nothing usable. */
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("198.51.100.1, garbage")), "-");
    /* Garbage past a trusted hop: that hop is the answer, nothing left of it. */
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("198.51.100.1, unknown, 10.0.0.2")), "10.0.0.2");
}

static void test_forwarded_empty_and_blank(void **state) {
    assert_string_equal(walk(LIST("10.0.0.0/8"), NONE), "-");
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("")), "-");
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST(" , ,")), "-");
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST("198.51.100.1, , 10.0.0.2,")), "198.51.100.1");
}

static void test_forwarded_ipv6_and_ports(void **state) {
    assert_string_equal(walk(LIST("fd00::/8"), LIST("[2001:db8::7]:51234, fd00::2")), "2001:db8::7");
    assert_string_equal(walk(LIST("127.0.0.1"), LIST("203.0.113.5:443")), "203.0.113.5");
}

static void test_forwarded_walk_is_bounded(void **state) {
    /* NETADDR_FORWARDED_MAX trusted hops and then the real client: the walk
     * gives up at the limit and answers the last trusted hop it saw. */
    char big[NETADDR_FORWARDED_MAX * 16 + 32];
    size_t off = 0;
    off += (size_t)snprintf(big + off, sizeof(big) - off, "198.51.100.1");
    for (int i = 0; i < NETADDR_FORWARDED_MAX; i++)
        off += (size_t)snprintf(big + off, sizeof(big) - off, ", 10.0.0.%d", i + 1);
    assert_string_equal(walk(LIST("10.0.0.0/8"), LIST(big)), "10.0.0.1");
}

/* Which addresses a server may be sent to fetch from on a tenant's word. */
static void test_is_public(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"8.8.8.8", 1},
        {"1.1.1.1", 1},
        {"93.184.216.34", 1},
        {"2606:4700::1111", 1},
        {"2001:4860::8888", 1},
        {"0.0.0.0", 0},
        {"10.1.2.3", 0},
        {"100.64.0.1", 0},
        {"127.0.0.1", 0},
        {"127.255.255.254", 0},
        {"169.254.169.254", 0},
        {"172.16.0.1", 0},
        {"172.31.255.255", 0},
        {"172.32.0.1", 1},
        {"192.168.1.1", 0},
        {"192.0.2.1", 0},
        {"198.18.0.1", 0},
        {"198.51.100.7", 0},
        {"203.0.113.9", 0},
        {"224.0.0.1", 0},
        {"255.255.255.255", 0},
        {"240.0.0.1", 0},
        {"::", 0},
        {"::1", 0},
        {"::ffff:127.0.0.1", 0},
        {"::ffff:8.8.8.8", 1},
        {"::ffff:169.254.169.254", 0},
        {"64:ff9b::a9fe:a9fe", 0},
        {"fc00::1", 0},
        {"fd12:3456::1", 0},
        {"fe80::1", 0},
        {"fec0::1", 0},
        {"ff02::1", 0},
        {"2001:db8::1", 0},
        {"2002:a00:1::1", 0},
        {"2002:808:808::1", 1},
        {"3fff::1", 0},
        {"3ffe::1", 1},
        {"4000::1", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct netaddr a;
        assert_int_equal(netaddr_parse(cases[i].text, strlen(cases[i].text), &a), 0);
        if (netaddr_is_public(&a) != cases[i].want)
            fail_msg("%s: want %d", cases[i].text, cases[i].want);
    }
    struct netaddr none = {0};
    assert_int_equal(netaddr_is_public(&none), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_parse_ipv4_refuses_other_spellings),
        cmocka_unit_test(test_parse_ipv6),
        cmocka_unit_test(test_ipv4_mapped_becomes_ipv4),
        cmocka_unit_test(test_parse_ipv6_refuses_zones_and_junk),
        cmocka_unit_test(test_parse_does_not_read_past_the_slice),
        cmocka_unit_test(test_forwarded_entry_forms),
        cmocka_unit_test(test_cidr_match_ipv4),
        cmocka_unit_test(test_cidr_match_ipv6),
        cmocka_unit_test(test_cidr_families_never_match_each_other),
        cmocka_unit_test(test_cidr_parse_refusals),
        cmocka_unit_test(test_cidr_list),
        cmocka_unit_test(test_key_is_the_address_or_the_ipv6_64),
        cmocka_unit_test(test_from_sockaddr),
        cmocka_unit_test(test_forwarded_rightmost_untrusted_wins),
        cmocka_unit_test(test_forwarded_several_headers_are_one_list),
        cmocka_unit_test(test_forwarded_all_trusted_gives_the_leftmost),
        cmocka_unit_test(test_forwarded_malformed_entry_stops_the_walk),
        cmocka_unit_test(test_forwarded_empty_and_blank),
        cmocka_unit_test(test_forwarded_ipv6_and_ports),
        cmocka_unit_test(test_forwarded_walk_is_bounded),
        cmocka_unit_test(test_is_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
