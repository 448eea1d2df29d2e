/*
 * origin.c - web origins in one canonical text (see origin.h).
 *
 * Pure; never allocates; never reads past a slice; outputs untouched on
 * failure. Deliberately narrow: it accepts what browsers send and what an
 * operator means, and refuses anything else rather than guess, because a
 * lenient reading of an origin is how an allow-list gets bypassed.
 */
#include "core/origin.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "core/errors.h"

/* Longest IPv6 literal inside brackets (with an IPv4 tail). */
#define ORIGIN_V6_TEXT_MAX 45

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

/* Appends n bytes at *off in out (room is checked by the caller's bounds). */
static void put(char *out, size_t *off, const char *s, size_t n) {
    memcpy(out + *off, s, n);
    *off += n;
}

/*
 * host[:port] into out after the scheme prefix already written at *off.
 * default_port is the scheme's (80 or 443).
 */
static int put_hostport(const char *s, size_t len, unsigned default_port, char *out, size_t *off) {
    size_t hlen;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return LK_EINVAL;
        size_t inner = (size_t)(close - s) - 1;
        char buf[ORIGIN_V6_TEXT_MAX + 1];
        unsigned char bin[16];
        if (inner == 0 || inner > ORIGIN_V6_TEXT_MAX)
            return LK_EINVAL;
        for (size_t i = 0; i < inner; i++) {
            char c = s[1 + i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return LK_EINVAL;
            buf[i] = c;
        }
        buf[inner] = '\0';
        if (inet_pton(AF_INET6, buf, bin) != 1 || inet_ntop(AF_INET6, bin, buf, sizeof(buf)) == NULL)
            return LK_EINVAL;
        out[(*off)++] = '[';
        put(out, off, buf, strlen(buf));
        out[(*off)++] = ']';
        hlen = inner + 2;
    } else {
        hlen = 0;
        while (hlen < len && s[hlen] != ':') {
            if (!name_char(s[hlen]))
                return LK_EINVAL;
            hlen++;
        }
        if (hlen == 0 || hlen > ORIGIN_HOST_MAX)
            return LK_EINVAL;
        for (size_t i = 0; i < hlen; i++)
            out[(*off)++] = lower(s[i]);
    }
    if (hlen == len)
        return 0;
    if (s[hlen] != ':')
        return LK_EINVAL;
    const char *p = s + hlen + 1;
    size_t plen = len - hlen - 1;
    unsigned port = 0;
    if (plen == 0 || plen > 5)
        return LK_EINVAL;
    for (size_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return LK_EINVAL;
        port = port * 10 + (unsigned)(p[i] - '0');
    }
    if (port == 0 || port > 65535)
        return LK_EINVAL;
    if (port != default_port) {
        char digits[5];
        size_t n = 0;
        for (unsigned v = port; v > 0; v /= 10)
            digits[n++] = (char)('0' + v % 10);
        out[(*off)++] = ':';
        while (n > 0)
            out[(*off)++] = digits[--n];
    }
    return 0;
}

/* Writes the canonical origin into ret; 0 or LK_EINVAL (ret untouched). */
static int build(int https, const char *hostport, size_t len, struct origin *ret) {
    char out[ORIGIN_BUFSZ];
    size_t off = 0;
    /* The bracketed IPv6 form may be longer in canonical text than as sent
     * only up to ORIGIN_V6_TEXT_MAX + 2, well under ORIGIN_HOST_MAX. */
    if (https)
        put(out, &off, "https://", 8);
    else
        put(out, &off, "http://", 7);
    if (put_hostport(hostport, len, https ? 443 : 80, out, &off) != 0)
        return LK_EINVAL;
    out[off] = '\0';
    memcpy(ret->text, out, off + 1);
    ret->len = off;
    return 0;
}

int origin_parse(const char *s, size_t len, struct origin *ret) {
    static const char http[] = "http://", https[] = "https://";
    if (len >= sizeof(https) - 1 && strncasecmp(s, https, sizeof(https) - 1) == 0)
        return build(1, s + sizeof(https) - 1, len - (sizeof(https) - 1), ret);
    if (len >= sizeof(http) - 1 && strncasecmp(s, http, sizeof(http) - 1) == 0)
        return build(0, s + sizeof(http) - 1, len - (sizeof(http) - 1), ret);
    return LK_EINVAL;
}

int origin_from_host(int https, const char *host, size_t len, struct origin *ret) {
    return build(https, host, len, ret);
}

int origin_equal(const struct origin *a, const struct origin *b) {
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

int origin_list_contains(const struct origin_list *l, const struct origin *o) {
    for (size_t i = 0; i < l->count && i < ORIGIN_LIST_MAX; i++)
        if (origin_equal(&l->items[i], o))
            return 1;
    return 0;
}
