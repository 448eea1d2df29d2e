/*
 * httpneg.c - If-None-Match and Accept-Encoding, read as RFC 9110 says
 * (httpneg.h). Never allocates, never reads past the slice it is given,
 * and never decides what to send: the caller does.
 */
#include "core/httpneg.h"

#include <string.h>
#include <strings.h>

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* The element of a comma-separated list starting at *pos: its bounds
 * without surrounding whitespace; *pos moves past its comma. */
static void next_element(const char *v, size_t n, size_t *pos, size_t *ret_start, size_t *ret_end) {
    size_t i = *pos;
    while (i < n && (is_ows(v[i]) || v[i] == ','))
        i++;
    size_t start = i;
    while (i < n && v[i] != ',')
        i++;
    size_t end = i;
    while (end > start && is_ows(v[end - 1]))
        end--;
    *ret_start = start;
    *ret_end = end;
    *pos = i;
}

/* The opaque part of an entity-tag, its quotes included, without a "W/". */
static int opaque_tag(const char *s, size_t n, const char **ret, size_t *ret_len) {
    if (n >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        n -= 2;
    }
    if (n < 2 || s[0] != '"' || s[n - 1] != '"' || memchr(s + 1, '"', n - 2) != NULL)
        return -1;
    *ret = s;
    *ret_len = n;
    return 0;
}

int httpneg_etag_listed(const char *v, size_t n, const char *etag) {
    const char *want;
    size_t want_len;
    if (opaque_tag(etag, strlen(etag), &want, &want_len) != 0)
        return 0;
    size_t pos = 0;
    while (pos < n) {
        size_t s, e;
        next_element(v, n, &pos, &s, &e);
        if (e == s)
            continue;
        if (e - s == 1 && v[s] == '*')
            return 1;
        const char *got;
        size_t got_len;
        if (opaque_tag(v + s, e - s, &got, &got_len) == 0 && got_len == want_len && memcmp(got, want, want_len) == 0)
            return 1;
    }
    return 0;
}

/* A qvalue ("0", "0.5", "1.000") in thousandths; 0 when malformed. */
static int qvalue(const char *s, size_t n) {
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return 0;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return 0;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? 0 : q;
}

/* The q parameter among the parameters v[t..e) of one element, 1000
 * without one. */
static int element_q(const char *v, size_t t, size_t e) {
    int q = 1000;
    while (t < e) {
        while (t < e && (is_ows(v[t]) || v[t] == ';'))
            t++;
        size_t ps = t;
        while (t < e && v[t] != ';')
            t++;
        size_t pe = t;
        while (pe > ps && is_ows(v[pe - 1]))
            pe--;
        if (pe - ps >= 2 && (v[ps] == 'q' || v[ps] == 'Q') && v[ps + 1] == '=')
            q = qvalue(v + ps + 2, pe - ps - 2);
        else if (pe > ps && (v[ps] == 'q' || v[ps] == 'Q') && (pe - ps == 1 || is_ows(v[ps + 1])))
            q = 0; /* "q" with its value lost: garbled */
    }
    return q;
}

int httpneg_coding_q(const char *v, size_t n, const char *coding) {
    size_t clen = strlen(coding);
    size_t pos = 0;
    while (pos < n) {
        size_t s, e;
        next_element(v, n, &pos, &s, &e);
        size_t t = s;
        while (t < e && v[t] != ';' && !is_ows(v[t]))
            t++;
        if (t - s != clen || strncasecmp(v + s, coding, clen) != 0)
            continue;
        /* Parameters: only q means anything for a coding. */
        return element_q(v, t, e);
    }
    return -1;
}

int httpneg_media_q(const char *v, size_t n, const char *type, int *named) {
    const char *slash = strchr(type, '/');
    size_t tlen = strlen(type), major = slash ? (size_t)(slash - type) : tlen;
    int best = 0, q = -1;
    size_t pos = 0;
    while (pos < n) {
        size_t s, e;
        next_element(v, n, &pos, &s, &e);
        size_t t = s;
        while (t < e && v[t] != ';' && !is_ows(v[t]))
            t++;
        size_t len = t - s;
        int level = 0;
        if (len == tlen && strncasecmp(v + s, type, tlen) == 0)
            level = 3;
        else if (len == major + 2 && strncasecmp(v + s, type, major) == 0 && v[s + major] == '/' &&
                 v[s + major + 1] == '*')
            level = 2;
        else if (len == 3 && memcmp(v + s, "*/*", 3) == 0)
            level = 1;
        if (level > best) {
            best = level;
            q = element_q(v, t, e);
        }
    }
    if (named != NULL)
        *named = best == 3;
    return q;
}
