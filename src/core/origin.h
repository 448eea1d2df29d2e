/*
 * origin.h - web origins ("https://console.example.com:8443") as values:
 * parsed from an Origin header or a setting, or made from the Host a
 * request was sent to, always in one canonical text so that two spellings
 * of the same origin compare equal and two different origins never do.
 * Pure: no I/O, no allocation.
 *
 * Canonical form: scheme "http" or "https" in lower case, "://", the host
 * in lower case (an IPv6 literal in brackets, as inet_ntop writes it), and
 * ":port" only when it is not the scheme's default (80, 443). Nothing else:
 * no user, no path, no trailing slash, no wildcard.
 */
#ifndef LK_CORE_ORIGIN_H
#define LK_CORE_ORIGIN_H

#include <stddef.h>

/* Longest host: a DNS name is at most 253 bytes. */
#define ORIGIN_HOST_MAX 253
/* "https://" host ":65535" NUL. */
#define ORIGIN_BUFSZ (8 + ORIGIN_HOST_MAX + 6 + 1)
/* Most origins one list holds (--allowed-origins). */
#define ORIGIN_LIST_MAX 32

struct origin {
    char text[ORIGIN_BUFSZ]; /* canonical, NUL-terminated */
    size_t len;
};

struct origin_list {
    struct origin items[ORIGIN_LIST_MAX];
    size_t count;
};

/*
 * Parses s[0..len), an origin as an Origin header or a setting spells it:
 * "scheme://host[:port]" with scheme http or https, host a DNS name or
 * IPv4 address ([A-Za-z0-9.-_]) or an IPv6 literal in brackets, port 1 to
 * 65535. "null", other schemes, a user, a path (even "/"), a query or a
 * wildcard are refused. Returns 0 and the canonical form in *ret, or
 * LK_EINVAL with *ret untouched.
 */
int origin_parse(const char *s, size_t len, struct origin *ret);

/*
 * The origin of a request that named host[:port] (a Host header value or
 * an HTTP/2 :authority) and arrived over https or http. Returns 0, or
 * LK_EINVAL (a malformed host) with *ret untouched.
 */
int origin_from_host(int https, const char *host, size_t len, struct origin *ret);

/* 1 if a and b are the same origin, else 0. */
int origin_equal(const struct origin *a, const struct origin *b);

/* 1 if o is one of l's origins, else 0. */
int origin_list_contains(const struct origin_list *l, const struct origin *o);

#endif
