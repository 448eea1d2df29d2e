/*
 * framing.c - reading an HTTP/1 request head again, as it was sent, for
 * framing that could be read two ways (see framing.h).
 *
 * Pure and allocation-free; one pass over the head. h2o has parsed the
 * head already (picohttpparser), so only what it accepts and then folds
 * away needs looking at here. Must never decide on anything but the head's
 * framing, and never echo client bytes but through str_echo.
 */
#include "net/framing.h"

#include <string.h>

#include "core/errors.h"
#include "lib/str.h"

/* The one Transfer-Encoding accepted, exactly, and what the request line
 * ends with before its minor version. */
#define CHUNKED "chunked"
#define HTTP1_VERSION "HTTP/1."

/* Framing headers counted as they go by. */
struct framing_seen {
    size_t content_length, transfer_encoding, host;
    const char *cl, *te; /* the first one's value */
    size_t cl_len, te_len;
};

/* 1 if p[0..n) is the lower-case name, in any case. */
static int name_is(const char *p, size_t n, const char *name) {
    size_t k = strlen(name);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return 1;
}

static int all_digits(const char *p, size_t n) {
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static int unreadable(struct lk_error *err) {
    return lk_error_set(err, LK_EINVAL, "invalid request: its head could not be read again to check its framing");
}

/* Finds the line starting at p: *ret_len is its length without CRLF.
 * Returns the start of the next line, or NULL (no LF in buf: unreadable;
 * a bare LF: *ret_bare is set). */
static const char *line_end(const char *p, const char *end, size_t *ret_len, int *ret_bare) {
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    *ret_bare = 0;
    if (lf == NULL)
        return NULL;
    if (lf == p || lf[-1] != '\r') {
        *ret_bare = 1;
        return NULL;
    }
    *ret_len = (size_t)(lf - 1 - p);
    return lf + 1;
}

/* Notes one header line (without CRLF) in seen. */
static int header_line(const char *p, size_t n, struct framing_seen *seen, struct lk_error *err) {
    if (p[0] == ' ' || p[0] == '\t')
        return lk_error_set(err, LK_EINVAL,
                            "invalid request: a header line starts with a space or tab (obsolete line folding); "
                            "send each header on one line");
    const char *colon = memchr(p, ':', n);
    if (colon == NULL)
        return unreadable(err);
    size_t nlen = (size_t)(colon - p);
    /* The value as h2o sees it: leading blanks dropped, trailing kept. */
    const char *v = colon + 1, *vend = p + n;
    while (v < vend && (*v == ' ' || *v == '\t'))
        v++;
    if (name_is(p, nlen, "content-length")) {
        if (seen->content_length++ == 0) {
            seen->cl = v;
            seen->cl_len = (size_t)(vend - v);
        }
    } else if (name_is(p, nlen, "transfer-encoding")) {
        if (seen->transfer_encoding++ == 0) {
            seen->te = v;
            seen->te_len = (size_t)(vend - v);
        }
    } else if (name_is(p, nlen, "host")) {
        seen->host++;
    }
    return 0;
}

/* The verdict on the framing headers of a whole head. */
static int judge(const struct framing_seen *seen, int minor, struct lk_error *err) {
    char q[STR_ECHO_BUFSZ];
    if (seen->content_length > 0 && seen->transfer_encoding > 0)
        return lk_error_set(err, LK_EINVAL,
                            "invalid request: both Content-Length and Transfer-Encoding are present; send only one");
    if (seen->content_length > 1)
        return lk_error_set(err, LK_EINVAL, "invalid request: Content-Length appears %zu times; send it once",
                            seen->content_length);
    if (seen->transfer_encoding > 1)
        return lk_error_set(err, LK_EINVAL, "invalid request: Transfer-Encoding appears %zu times; send it once",
                            seen->transfer_encoding);
    if (seen->transfer_encoding > 0 && minor == 0)
        return lk_error_set(err, LK_EINVAL, "invalid request: Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (seen->transfer_encoding > 0 &&
        !(seen->te_len == sizeof(CHUNKED) - 1 && memcmp(seen->te, CHUNKED, sizeof(CHUNKED) - 1) == 0)) {
        str_echo(seen->te, seen->te_len, q);
        return lk_error_set(err, LK_EINVAL,
                            "invalid request: Transfer-Encoding \"%s\" is not supported: the only one accepted is "
                            "\"chunked\"",
                            q);
    }
    if (seen->content_length > 0 && !all_digits(seen->cl, seen->cl_len)) {
        str_echo(seen->cl, seen->cl_len, q);
        return lk_error_set(err, LK_EINVAL, "invalid request: Content-Length \"%s\" is not a decimal number", q);
    }
    if (seen->host > 1)
        return lk_error_set(err, LK_EINVAL, "invalid request: Host appears %zu times; send it once", seen->host);
    if (seen->host == 0 && minor == 1)
        return lk_error_set(err, LK_EINVAL, "invalid request: an HTTP/1.1 request needs a Host header");
    return 0;
}

int framing_check(const char *buf, size_t len, const char *method, size_t method_len, struct lk_error *err) {
    static const char bare_lf[] = "invalid request: a line of the head ends in LF without CR; end each line with CRLF";
    const char *p = buf, *end = buf + len, *next;
    struct framing_seen seen;
    size_t n;
    int bare;
    memset(&seen, 0, sizeof(seen));

    /* Some clients send an empty line after a body; h2o skips one. */
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    else if (p < end && p[0] == '\n')
        p++;
    if ((size_t)(end - p) <= method_len || memcmp(p, method, method_len) != 0 || p[method_len] != ' ')
        return unreadable(err);
    if ((next = line_end(p, end, &n, &bare)) == NULL)
        return bare ? lk_error_set(err, LK_EINVAL, "%s", bare_lf) : unreadable(err);
    /* "... HTTP/1.x": h2o has checked the form; the minor version decides. */
    size_t vlen = sizeof(HTTP1_VERSION) - 1;
    if (n <= vlen || memcmp(p + n - vlen - 1, HTTP1_VERSION, vlen) != 0 || (p[n - 1] != '0' && p[n - 1] != '1'))
        return unreadable(err);
    int minor = p[n - 1] - '0';

    for (p = next;; p = next) {
        if ((next = line_end(p, end, &n, &bare)) == NULL)
            return bare ? lk_error_set(err, LK_EINVAL, "%s", bare_lf) : unreadable(err);
        if (n == 0)
            break;
        int r = header_line(p, n, &seen, err);
        if (r != 0)
            return r;
    }
    return judge(&seen, minor, err);
}
