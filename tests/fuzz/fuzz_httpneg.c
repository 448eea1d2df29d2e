/*
 * fuzz_httpneg.c - libFuzzer harness for httpneg_etag_listed(),
 * httpneg_coding_q() and httpneg_media_q(), which read the If-None-Match,
 * Accept-Encoding and Accept headers a client sends.
 *
 * The input is one header value, copied into a buffer of exactly its size
 * (a read past it is an ASan report). Invariants:
 *   - etag_listed answers 0 or 1, and 0 when the value holds neither '*'
 *     nor the tag's opaque text; the value with ", <tag>" added after it
 *     or "<tag>, " before it (or W/ forms) always answers 1;
 *   - coding_q answers -1 (not named) or 0..1000, and -1 when the value
 *     does not hold the coding's name in any case; the value with
 *     ", gzip;q=0" added after it answers 0 and with ", gzip" 1000, unless
 *     the value names gzip already (the first naming counts).
 * Invariant failures abort(). No global state.
 */
#include "fuzz_check.h"
#include "core/httpneg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TAG "\"aB3-_x\""

static int holds(const uint8_t *s, size_t n, const char *what, int nocase) {
    size_t w = strlen(what);
    for (size_t i = 0; i + w <= n; i++)
        if (nocase ? strncasecmp((const char *)s + i, what, w) == 0 : memcmp(s + i, what, w) == 0)
            return 1;
    return 0;
}

/* data with pre before it and post after it, in a buffer of exactly that size. */
static char *joined(const char *pre, const uint8_t *data, size_t size, const char *post, size_t *ret_len) {
    size_t a = strlen(pre), b = strlen(post);
    char *s = malloc(a + size + b + 1);
    CHECK(s != NULL);
    memcpy(s, pre, a);
    memcpy(s + a, data, size);
    memcpy(s + a + size, post, b);
    *ret_len = a + size + b;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *v = malloc(size ? size : 1);
    CHECK(v != NULL);
    memcpy(v, data, size);

    int r = httpneg_etag_listed(v, size, TAG);
    CHECK(r == 0 || r == 1);
    if (memchr(data, '*', size) == NULL && !holds(data, size, "aB3-_x", 0))
        CHECK(r == 0);
    static const char *const after[] = {", " TAG, "," TAG, ", W/" TAG, "\t,\t" TAG " "};
    for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
        size_t n;
        char *s = joined("", data, size, after[i], &n);
        CHECK(httpneg_etag_listed(s, n, TAG) == 1);
        free(s);
    }
    size_t n;
    char *s = joined(TAG ", ", data, size, "", &n);
    CHECK(httpneg_etag_listed(s, n, TAG) == 1);
    free(s);
    CHECK(httpneg_etag_listed(v, size, "W/" TAG) == r);

    int q = httpneg_coding_q(v, size, "gzip");
    CHECK(q >= -1 && q <= 1000);
    int named = holds(data, size, "gzip", 1);
    if (!named)
        CHECK(q == -1);
    s = joined("", data, size, ", gzip;q=0", &n);
    CHECK(httpneg_coding_q(s, n, "gzip") == (q >= 0 ? q : 0));
    free(s);
    s = joined("", data, size, ",gzip", &n);
    CHECK(httpneg_coding_q(s, n, "gzip") == (q >= 0 ? q : 1000));
    free(s);

    /* Accept: a q in range, "named" only when the type itself is there,
     * and the type named at the end with no q decides unless the type
     * itself was already named. */
    int mnamed = -1;
    int mq = httpneg_media_q(v, size, "application/json", &mnamed);
    CHECK(mq >= -1 && mq <= 1000);
    CHECK(mnamed == 0 || mnamed == 1);
    if (!holds(data, size, "application/json", 1))
        CHECK(mnamed == 0);
    if (!holds(data, size, "/", 1))
        CHECK(mq == -1);
    s = joined("", data, size, ",application/json", &n);
    int named2 = 0;
    int mq2 = httpneg_media_q(s, n, "application/json", &named2);
    CHECK(named2 == 1);
    CHECK(mnamed ? mq2 == mq : mq2 == 1000);
    free(s);

    free(v);
    return 0;
}
