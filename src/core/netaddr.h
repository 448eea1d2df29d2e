/*
 * netaddr.h - IP addresses and CIDR ranges as values, and the walk that
 * finds a client's address in X-Forwarded-For. Pure: no I/O, no allocation,
 * no logging.
 *
 * Inputs are {ptr, len} slices of untrusted bytes; nothing here relies on a
 * NUL terminator. An IPv4-mapped IPv6 address (::ffff:192.0.2.7) is always
 * held as the IPv4 address it maps, so a dual-stack listener's peers and a
 * proxy's header entries compare alike.
 */
#ifndef LK_CORE_NETADDR_H
#define LK_CORE_NETADDR_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* Longest textual address accepted (an IPv6 address with an IPv4 tail,
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", is 45 bytes). */
#define NETADDR_TEXT_MAX 45
/* Buffer for netaddr_format (text, NUL). */
#define NETADDR_BUFSZ 46
/* Buffer for netaddr_key: an IPv6 /64 prefix as "2001:db8:1:2::/64". */
#define NETADDR_KEY_BUFSZ (NETADDR_BUFSZ + 4)
/* Most ranges one list holds (--trusted-proxy). */
#define NETADDR_CIDRS_MAX 64
/* Most X-Forwarded-For entries examined, right to left, per request: a
 * chain of proxies is a handful long; a longer list is someone's padding. */
#define NETADDR_FORWARDED_MAX 32

struct netaddr {
    uint8_t family;    /* 4 or 6; 0 = none */
    uint8_t bytes[16]; /* network order; IPv4 in the first 4 */
};

struct netaddr_cidr {
    struct netaddr addr; /* host bits are zero */
    uint8_t prefix;      /* 0..32 (IPv4), 0..128 (IPv6) */
};

struct netaddr_cidrs {
    struct netaddr_cidr items[NETADDR_CIDRS_MAX];
    size_t count;
};

/* A slice of header bytes. */
struct netaddr_span {
    const char *ptr;
    size_t len;
};

/*
 * Parses a bare numeric address: dotted-quad IPv4 (no leading zeros, no
 * short forms) or IPv6 text (no zone id, no brackets). Returns 0 and fills
 * *ret, or LK_EINVAL leaving *ret untouched.
 */
int netaddr_parse(const char *s, size_t len, struct netaddr *ret);

/*
 * Parses one X-Forwarded-For entry, as proxies write them: an address as
 * netaddr_parse takes it, "[IPv6]", "[IPv6]:port" or "IPv4:port" (the port
 * is checked and dropped). Surrounding spaces and tabs are ignored.
 * Returns 0 or LK_EINVAL (*ret untouched).
 */
int netaddr_parse_forwarded(const char *s, size_t len, struct netaddr *ret);

/*
 * Parses "ADDRESS/PREFIX" or a bare address (a /32 or /128). The prefix is
 * 1 to 3 decimal digits within the family's width; host bits must be zero
 * ("10.1.2.3/8" is refused: it is ambiguous whether 10.0.0.0/8 or the one
 * host was meant). "::ffff:a.b.c.d/N" with N >= 96 is the IPv4 range /N-96.
 * Returns 0, or LK_EINVAL with *ret untouched.
 */
int netaddr_cidr_parse(const char *s, size_t len, struct netaddr_cidr *ret);

/* 1 if a lies in c (same family, same first c->prefix bits), else 0. */
int netaddr_cidr_contains(const struct netaddr_cidr *c, const struct netaddr *a);

/* 1 if a lies in any range of l, else 0 (an empty list contains nothing). */
int netaddr_cidrs_contain(const struct netaddr_cidrs *l, const struct netaddr *a);

/*
 * Fills *ret from an AF_INET or AF_INET6 socket address (IPv4-mapped becomes
 * IPv4). Returns 0, or LK_EINVAL for another family (*ret untouched).
 */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret);

/*
 * 1 when a is a public unicast address a server may be sent to fetch from
 * on a tenant's word; 0 for the unspecified, loopback, private (RFC 1918,
 * fc00::/7), shared (100.64/10), link-local (169.254/16 with the cloud
 * metadata services, fe80::/10), benchmarking, documentation, multicast,
 * reserved and broadcast ranges, and for IPv4-mapped, -compatible and
 * NAT64-style IPv6 forms of those (the IPv4 inside is judged).
 */
int netaddr_is_public(const struct netaddr *a);

/* Canonical text of a ("192.0.2.7", "2001:db8::1") into out; its length. */
size_t netaddr_format(const struct netaddr *a, char out[NETADDR_BUFSZ]);

/*
 * The rate-limit key of a client address: an IPv4 address as itself, an
 * IPv6 address as its /64 ("2001:db8:1:2::/64"), the smallest block one
 * subscriber is normally given, so that walking through the addresses of
 * one's own /64 does not reset a per-address limit. Returns the length.
 */
size_t netaddr_key(const struct netaddr *a, char out[NETADDR_KEY_BUFSZ]);

/*
 * The client address behind a chain of trusted proxies. values are the
 * X-Forwarded-For header values in the order received (several headers
 * count as one comma-separated list). Walking the entries right to left,
 * the first address not in trusted is the client; entries that are in
 * trusted are proxies of ours and are passed over. If every entry is
 * trusted, the leftmost is the client. An entry that cannot be parsed, or
 * the NETADDR_FORWARDED_MAX-th, ends the walk: what lies left of it cannot
 * be trusted, so the last trusted entry passed over is the answer.
 *
 * Returns 1 and *ret when an address was found; 0 (nothing usable, *ret
 * untouched) when the header is empty or its rightmost entry is malformed,
 * in which case the caller keeps the peer's address.
 */
int netaddr_forwarded_client(const struct netaddr_cidrs *trusted, const struct netaddr_span *values, size_t nvalues,
                             struct netaddr *ret);

#endif
