/*
 * netaddr.c - IP addresses, CIDR ranges and the X-Forwarded-For walk.
 *
 * Pure: never allocates, never logs, never reads past a slice. Every parser
 * leaves its output untouched on failure. IPv4 is parsed here, strictly
 * (four decimal parts, no leading zeros, so "010.0.0.1" is not quietly
 * octal somewhere else); IPv6 text goes to inet_pton on a bounded copy.
 */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/errors.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int parse_v4(const char *s, size_t len, uint8_t out[4]) {
    uint8_t b[4];
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return LK_EINVAL;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t digits = i - start;
        if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0'))
            return LK_EINVAL;
        b[part] = (uint8_t)v;
    }
    if (i != len)
        return LK_EINVAL;
    memcpy(out, b, 4);
    return 0;
}

/* Stores a 16-byte IPv6 address, as IPv4 when it is IPv4-mapped. */
static void set_v6(struct netaddr *a, const uint8_t b[16]) {
    memset(a, 0, sizeof(*a));
    if (memcmp(b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
        a->family = 4;
        memcpy(a->bytes, b + 12, 4);
    } else {
        a->family = 6;
        memcpy(a->bytes, b, 16);
    }
}

int netaddr_parse(const char *s, size_t len, struct netaddr *ret) {
    if (len == 0 || len > NETADDR_TEXT_MAX)
        return LK_EINVAL;
    if (memchr(s, ':', len) == NULL) {
        uint8_t b[4];
        if (parse_v4(s, len, b) != 0)
            return LK_EINVAL;
        memset(ret, 0, sizeof(*ret));
        ret->family = 4;
        memcpy(ret->bytes, b, 4);
        return 0;
    }
    /* inet_pton wants a C string: a bounded copy of only the characters an
     * IPv6 address is written with (this also keeps out a NUL and '%'). */
    char buf[NETADDR_TEXT_MAX + 1];
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
            return LK_EINVAL;
        buf[i] = c;
    }
    buf[len] = '\0';
    uint8_t b[16];
    if (inet_pton(AF_INET6, buf, b) != 1)
        return LK_EINVAL;
    set_v6(ret, b);
    return 0;
}

/* 1 to 5 digits, 1..65535. */
static int port_ok(const char *s, size_t len) {
    if (len == 0 || len > 5)
        return 0;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int netaddr_parse_forwarded(const char *s, size_t len, struct netaddr *ret) {
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return LK_EINVAL;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return LK_EINVAL;
        size_t inner = (size_t)(close - s) - 1;
        size_t rest = len - inner - 2;
        struct netaddr a;
        if (memchr(s + 1, ':', inner) == NULL || netaddr_parse(s + 1, inner, &a) != 0)
            return LK_EINVAL;
        if (rest != 0 && (close[1] != ':' || !port_ok(close + 2, rest - 1)))
            return LK_EINVAL;
        *ret = a;
        return 0;
    }
    const char *colon = memchr(s, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL) {
        /* Exactly one colon: IPv4:port (IPv6 text has at least two). */
        size_t host = (size_t)(colon - s);
        struct netaddr a;
        if (!port_ok(colon + 1, len - host - 1) || netaddr_parse(s, host, &a) != 0 || a.family != 4)
            return LK_EINVAL;
        *ret = a;
        return 0;
    }
    return netaddr_parse(s, len, ret);
}

/* 1 if the bits of a past prefix are all zero. */
static int host_bits_zero(const struct netaddr *a, unsigned prefix) {
    unsigned width = a->family == 4 ? 32 : 128;
    for (unsigned bit = prefix; bit < width; bit++)
        if (a->bytes[bit / 8] & (0x80 >> (bit % 8)))
            return 0;
    return 1;
}

int netaddr_cidr_parse(const char *s, size_t len, struct netaddr_cidr *ret) {
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    struct netaddr a;
    unsigned prefix;
    int mapped = 0;

    if (netaddr_parse(s, alen, &a) != 0)
        return LK_EINVAL;
    /* netaddr_parse turned ::ffff:a.b.c.d into IPv4: its prefix counts 96 more bits. */
    if (a.family == 4 && memchr(s, ':', alen) != NULL)
        mapped = 1;
    if (slash == NULL) {
        prefix = a.family == 4 ? 32 : 128;
    } else {
        const char *p = slash + 1;
        size_t plen = len - alen - 1;
        if (plen == 0 || plen > 3)
            return LK_EINVAL;
        prefix = 0;
        for (size_t i = 0; i < plen; i++) {
            if (p[i] < '0' || p[i] > '9')
                return LK_EINVAL;
            prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (mapped) {
            if (prefix < 96 || prefix > 128)
                return LK_EINVAL;
            prefix -= 96;
        }
        if (prefix > (a.family == 4 ? 32u : 128u))
            return LK_EINVAL;
    }
    if (!host_bits_zero(&a, prefix))
        return LK_EINVAL;
    ret->addr = a;
    ret->prefix = (uint8_t)prefix;
    return 0;
}

int netaddr_cidr_contains(const struct netaddr_cidr *c, const struct netaddr *a) {
    if (c->addr.family == 0 || c->addr.family != a->family)
        return 0;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr.bytes, a->bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

int netaddr_cidrs_contain(const struct netaddr_cidrs *l, const struct netaddr *a) {
    for (size_t i = 0; i < l->count && i < NETADDR_CIDRS_MAX; i++)
        if (netaddr_cidr_contains(&l->items[i], a))
            return 1;
    return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret) {
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memset(ret, 0, sizeof(*ret));
        ret->family = 4;
        memcpy(ret->bytes, &in->sin_addr.s_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        set_v6(ret, in6->sin6_addr.s6_addr);
        return 0;
    }
    return LK_EINVAL;
}

/* Dotted quad without printf: this runs for every request. */
static size_t format_v4(const uint8_t b[4], char *out) {
    char *p = out;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i < 3)
            *p++ = '.';
    }
    *p = '\0';
    return (size_t)(p - out);
}

size_t netaddr_format(const struct netaddr *a, char out[NETADDR_BUFSZ]) {
    if (a->family == 4)
        return format_v4(a->bytes, out);
    if (a->family == 6 && inet_ntop(AF_INET6, a->bytes, out, NETADDR_BUFSZ) != NULL)
        return strlen(out);
    out[0] = '\0';
    return 0;
}

size_t netaddr_key(const struct netaddr *a, char out[NETADDR_KEY_BUFSZ]) {
    if (a->family != 6)
        return netaddr_format(a, out);
    struct netaddr net = *a;
    memset(net.bytes + 8, 0, 8);
    size_t n = netaddr_format(&net, out);
    memcpy(out + n, "/64", 4);
    return n + 3;
}

int netaddr_forwarded_client(const struct netaddr_cidrs *trusted, const struct netaddr_span *values, size_t nvalues,
                             struct netaddr *ret) {
    struct netaddr last_trusted;
    int have = 0;
    memset(&last_trusted, 0, sizeof(last_trusted));
    size_t seen = 0;
    for (size_t v = nvalues; v-- > 0;) {
        const char *p = values[v].ptr;
        size_t end = values[v].len;
        /* Entries of this value, right to left: (start, end]. */
        while (end > 0) {
            size_t start = end;
            while (start > 0 && p[start - 1] != ',')
                start--;
            size_t n = end - start;
            end = start > 0 ? start - 1 : 0;
            int blank = 1;
            for (size_t i = 0; i < n; i++)
                if (p[start + i] != ' ' && p[start + i] != '\t')
                    blank = 0;
            if (blank) /* "a, , b": an empty list element (RFC 9110 5.6.1) */
                continue;
            struct netaddr a;
            if (++seen > NETADDR_FORWARDED_MAX || netaddr_parse_forwarded(p + start, n, &a) != 0)
                goto out;
            if (!netaddr_cidrs_contain(trusted, &a)) {
                *ret = a;
                return 1;
            }
            last_trusted = a;
            have = 1;
        }
    }
out:
    if (have)
        *ret = last_trusted;
    return have;
}

/* --- public or not --------------------------------------------------------------- */

static int v4_public(const uint8_t *b) {
    static const struct {
        uint8_t net[4];
        uint8_t prefix;
    } blocked[] = {
        {{0, 0, 0, 0}, 8},       /* "this" network */
        {{10, 0, 0, 0}, 8},      /* private */
        {{100, 64, 0, 0}, 10},   /* shared (carrier-grade NAT) */
        {{127, 0, 0, 0}, 8},     /* loopback */
        {{169, 254, 0, 0}, 16},  /* link-local, cloud metadata */
        {{172, 16, 0, 0}, 12},   /* private */
        {{192, 0, 0, 0}, 24},    /* IETF protocol assignments */
        {{192, 0, 2, 0}, 24},    /* documentation */
        {{192, 88, 99, 0}, 24},  /* 6to4 relay anycast */
        {{192, 168, 0, 0}, 16},  /* private */
        {{198, 18, 0, 0}, 15},   /* benchmarking */
        {{198, 51, 100, 0}, 24}, /* documentation */
        {{203, 0, 113, 0}, 24},  /* documentation */
        {{224, 0, 0, 0}, 4},     /* multicast */
        {{240, 0, 0, 0}, 4},     /* reserved, broadcast */
    };
    uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
        const uint8_t *n = blocked[i].net;
        uint32_t net = (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 | (uint32_t)n[2] << 8 | n[3];
        uint32_t mask = blocked[i].prefix == 0 ? 0 : 0xffffffffu << (32 - blocked[i].prefix);
        if ((v & mask) == net)
            return 0;
    }
    return 1;
}

int netaddr_is_public(const struct netaddr *a) {
    if (a->family == 4)
        return v4_public(a->bytes);
    if (a->family != 6)
        return 0;
    const uint8_t *b = a->bytes;
    static const uint8_t zero[12] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* ::, ::1 and the IPv4-compatible ::a.b.c.d; ::ffff:a.b.c.d; 64:ff9b::a.b.c.d */
    if (memcmp(b, zero, 12) == 0 || memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public(b + 12);
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
        return 0;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return 0;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
        return 0;
    if (b[0] == 0xff) /* multicast */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 documentation */
        return 0;
    if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) /* 3fff::/20 documentation (RFC 9637) */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: the IPv4 inside */
        return v4_public(b + 2);
    return (b[0] & 0xe0) == 0x20; /* global unicast is 2000::/3 */
}
