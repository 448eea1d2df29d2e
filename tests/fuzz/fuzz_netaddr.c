/*
 * fuzz_netaddr.c - libFuzzer harness for the parsers of what a client or a
 * proxy may put in front of us: addresses and X-Forwarded-For entries,
 * CIDR ranges (core/netaddr.h) and web origins (core/origin.h).
 *
 * The input is tried whole as each kind. Invariants: a failed parse leaves
 * its output untouched; an accepted address formats to text that parses
 * back to the same address; an accepted range contains its own base and
 * has host bits zero; an accepted origin is canonical text of allowed
 * characters that parses back to itself, and one made from a Host matches
 * the origin "scheme://" + that host parses to. The input, split at '\n',
 * is also walked as X-Forwarded-For header values with a few trusted
 * ranges: an answer is an address, and the untrusted-only walk (no trusted
 * ranges) answers the rightmost entry or nothing. Invariant failures abort().
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/netaddr.h"
#include "core/origin.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int untouched(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0xa5)
            return 0;
    return 1;
}

static void check_address(const char *s, size_t n) {
    struct netaddr a, b;
    memset(&a, 0xa5, sizeof(a));
    if (netaddr_parse(s, n, &a) != 0) {
        CHECK(untouched(&a, sizeof(a)));
    } else {
        char text[NETADDR_BUFSZ];
        size_t len = netaddr_format(&a, text);
        CHECK(a.family == 4 || a.family == 6);
        CHECK(len > 0 && len < NETADDR_BUFSZ && strlen(text) == len);
        CHECK(netaddr_parse(text, len, &b) == 0 && memcmp(&a, &b, sizeof(a)) == 0);
        char key[NETADDR_KEY_BUFSZ];
        size_t klen = netaddr_key(&a, key);
        CHECK(klen > 0 && klen < NETADDR_KEY_BUFSZ && strlen(key) == klen);
    }
    memset(&a, 0xa5, sizeof(a));
    if (netaddr_parse_forwarded(s, n, &a) != 0)
        CHECK(untouched(&a, sizeof(a)));
    else
        CHECK(a.family == 4 || a.family == 6);
}

static void check_cidr(const char *s, size_t n) {
    struct netaddr_cidr c;
    memset(&c, 0xa5, sizeof(c));
    if (netaddr_cidr_parse(s, n, &c) != 0) {
        CHECK(untouched(&c, sizeof(c)));
        return;
    }
    CHECK(c.addr.family == 4 || c.addr.family == 6);
    CHECK(c.prefix <= (c.addr.family == 4 ? 32 : 128));
    CHECK(netaddr_cidr_contains(&c, &c.addr));
    /* Flipping a bit inside the prefix leaves the range; past it, not. */
    unsigned width = c.addr.family == 4 ? 32 : 128;
    for (unsigned bit = 0; bit < width; bit++) {
        struct netaddr x = c.addr;
        x.bytes[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        CHECK(netaddr_cidr_contains(&c, &x) == (bit >= c.prefix));
    }
}

static int origin_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == ':' ||
           ch == '/' || ch == '[' || ch == ']';
}

static void check_origin(const char *s, size_t n) {
    struct origin o, again;
    memset(&o, 0xa5, sizeof(o));
    if (origin_parse(s, n, &o) != 0) {
        CHECK(untouched(&o, sizeof(o)));
    } else {
        CHECK(o.len < ORIGIN_BUFSZ && strlen(o.text) == o.len);
        for (size_t i = 0; i < o.len; i++)
            CHECK(origin_char(o.text[i]));
        CHECK(origin_parse(o.text, o.len, &again) == 0 && origin_equal(&o, &again));
    }
    /* The same bytes as a Host: agrees with parsing "http://" + them. */
    struct origin h;
    memset(&h, 0xa5, sizeof(h));
    if (n > ORIGIN_BUFSZ)
        return;
    char url[ORIGIN_BUFSZ + 8];
    memcpy(url, "http://", 7);
    memcpy(url + 7, s, n);
    int hr = origin_from_host(0, s, n, &h);
    int ur = origin_parse(url, n + 7, &again);
    CHECK(hr == ur);
    if (hr != 0)
        CHECK(untouched(&h, sizeof(h)));
    else
        CHECK(origin_equal(&h, &again));
}

static void check_walk(const char *s, size_t n) {
    struct netaddr_span values[8];
    size_t nv = 0, start = 0;
    for (size_t i = 0; i <= n && nv < 8; i++) {
        if (i == n || s[i] == '\n') {
            values[nv].ptr = s + start;
            values[nv].len = i - start;
            nv++;
            start = i + 1;
        }
    }
    static struct netaddr_cidrs trusted, none;
    if (trusted.count == 0) {
        static const char *const ranges[] = {"10.0.0.0/8", "127.0.0.1", "fd00::/8", "192.0.2.0/24"};
        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
            CHECK(netaddr_cidr_parse(ranges[i], strlen(ranges[i]), &trusted.items[trusted.count++]) == 0);
    }
    struct netaddr a;
    memset(&a, 0xa5, sizeof(a));
    if (netaddr_forwarded_client(&trusted, values, nv, &a))
        CHECK(a.family == 4 || a.family == 6);
    else
        CHECK(untouched(&a, sizeof(a)));
    /* Trusting nothing, the answer is the rightmost non-blank entry, if it parses. */
    memset(&a, 0xa5, sizeof(a));
    if (netaddr_forwarded_client(&none, values, nv, &a))
        CHECK(a.family == 4 || a.family == 6);
    else
        CHECK(untouched(&a, sizeof(a)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    check_address(s, size);
    check_cidr(s, size);
    check_origin(s, size);
    check_walk(s, size);
    return 0;
}
