/*
 * fuzz_urlpath.c - libFuzzer harness for urlpath_check(), which stands
 * between a request's path and the router, its parameters, messages and
 * logs.
 *
 * The input is a path as sent. A reference written here, independently
 * and simply (decode a whole segment, then look at it), says whether it is
 * canonical; urlpath_check must agree. Further invariants:
 *   - a refusal is LK_EINVAL with a message in printable ASCII that never
 *     holds the path's last segment (when that is 6 bytes or more);
 *   - an accepted path, once decoded, has exactly its raw segment
 *     structure: decoding adds no '/' anywhere.
 * The input is copied into a buffer of exactly its size, so a read past it
 * is an ASan report. Invariant failures abort(). No global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/urlpath.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Well-formed UTF-8 per RFC 3629's table: 1 if s[0..n) is. */
static int utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4;
        else
            return 0;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

/* The reference: 1 if raw segment s[0..n) is canonical. */
static int segment_ok(const uint8_t *s, size_t n, uint8_t *dec) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            dec[d++] = s[i];
            continue;
        }
        if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
            return 0;
        uint8_t b = (uint8_t)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
        if (b == '/')
            return 0;
        dec[d++] = b;
        i += 2;
    }
    for (size_t i = 0; i < d; i++) {
        if (dec[i] < 0x20 || dec[i] == 0x7F)
            return 0;
        if (dec[i] == '%' && i + 2 < d && hexval(dec[i + 1]) >= 0 && hexval(dec[i + 2]) >= 0)
            return 0;
    }
    if ((d == 1 && dec[0] == '.') || (d == 2 && dec[0] == '.' && dec[1] == '.'))
        return 0;
    return utf8_ok(dec, d);
}

static int reference(const uint8_t *p, size_t n, uint8_t *scratch) {
    if (n == 0 || p[0] != '/')
        return 0;
    size_t start = 1;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (!segment_ok(p + start, i - start, scratch))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = malloc(size ? size : 1);
    uint8_t *scratch = malloc(size ? size : 1);
    CHECK(path != NULL && scratch != NULL);
    memcpy(path, data, size);

    struct lk_error err = {0};
    int r = urlpath_check(path, size, &err);
    CHECK(r == 0 || r == LK_EINVAL);
    int want = reference(data, size, scratch);
    if ((r == 0) != want)
        fprintf(stderr, "urlpath_check says %d (%s), the reference %s\n", r, err.msg, want ? "accepts" : "refuses");
    CHECK((r == 0) == want);

    if (r != 0) {
        size_t ml = strlen(err.msg);
        CHECK(ml > 0);
        for (size_t i = 0; i < ml; i++)
            CHECK(err.msg[i] >= 0x20 && err.msg[i] < 0x7f);
        const char *last = size > 0 ? memrchr(path, '/', size) : NULL;
        size_t seg = last != NULL ? (size_t)(path + size - last - 1) : 0;
        if (seg >= 6)
            CHECK(memmem(err.msg, ml, last + 1, seg) == NULL);
    } else {
        /* As many '/' after decoding as before: no segment splits in two. */
        size_t raw_slashes = 0, dec_slashes = 0;
        for (size_t i = 0; i < size; i++) {
            raw_slashes += path[i] == '/';
            if (path[i] == '%' && i + 2 < size && hexval(data[i + 1]) >= 0 && hexval(data[i + 2]) >= 0) {
                dec_slashes += (hexval(data[i + 1]) << 4 | hexval(data[i + 2])) == '/';
                i += 2;
            } else {
                dec_slashes += path[i] == '/';
            }
        }
        CHECK(raw_slashes == dec_slashes);
    }
    free(scratch);
    free(path);
    return 0;
}
