/*
 * fuzz_framing.c - libFuzzer harness for framing_check(), which reads an
 * HTTP/1 request head again, as sent, for framing that could be read two
 * ways.
 *
 * Input layout: byte 0 says how long the method at the start of the head
 * is (1 to 8 bytes), the rest is the head (and whatever follows it).
 * Invariants:
 *   - the head is read from a buffer of exactly its size (a read past it
 *     is an ASan report), and the verdict is 0 or LK_EINVAL;
 *   - a refusal's message starts "invalid request: " and is well-formed
 *     UTF-8 without control characters (client bytes are escaped);
 *   - for a head it accepts, each of these, added as header lines just
 *     before the empty line that ends it, makes it refused: Content-Length
 *     with Transfer-Encoding; two Host headers; a folded line; a second
 *     Transfer-Encoding; a Transfer-Encoding that is not "chunked"; a
 *     header line ending in a bare LF;
 *   - and changing the case of a framing header's name changes nothing.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "lib/str.h"
#include "net/framing.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "invalid request: "

/* framing_check on a copy of buf[0..len) of exactly that size. */
static int check_exact(const char *buf, size_t len, const char *method, size_t mlen, struct lk_error *err) {
    char *copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, buf, len);
    memset(err, 0, sizeof(*err));
    int r = framing_check(copy, len, method, mlen, err);
    free(copy);
    CHECK(r == 0 || r == LK_EINVAL);
    if (r != 0) {
        size_t ml = strlen(err->msg);
        CHECK(ml > strlen(PREFIX) && memcmp(err->msg, PREFIX, strlen(PREFIX)) == 0);
        CHECK(str_utf8_valid(err->msg, ml));
        for (size_t i = 0; i < ml; i++)
            CHECK((unsigned char)err->msg[i] >= 0x20 && err->msg[i] != 0x7f);
    }
    return r;
}

/* The head with extra inserted at the empty line that ends it (at), then
 * checked. */
static int with_lines(const char *buf, size_t len, size_t at, const char *extra, const char *method, size_t mlen) {
    size_t el = strlen(extra);
    char *h = malloc(len + el);
    CHECK(h != NULL);
    memcpy(h, buf, at);
    memcpy(h + at, extra, el);
    memcpy(h + at + el, buf + at, len - at);
    struct lk_error err;
    int r = check_exact(h, len + el, method, mlen, &err);
    free(h);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    size_t mlen = 1 + data[0] % 8;
    if (mlen > len)
        mlen = len;
    char method[8];
    memcpy(method, buf, mlen);

    struct lk_error err;
    int r = check_exact(buf, len, method, mlen, &err);
    if (r != 0)
        return 0;

    /* Accepted: the head ends at the first CRLF CRLF (a bare LF was
     * refused; an empty line skipped before the request line is followed
     * by the method, so it is not that). */
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    CHECK(end != NULL);
    size_t at = (size_t)(end - buf) + 2; /* after the last header line's CRLF */
    static const char *const breakers[] = {
        "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
        "Host: a\r\nHost: b\r\n",
        "X-A: b\r\n folded\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "X-A: b\n",
        "Content-Length: 1\r\nContent-Length: 1\r\n",
    };
    for (size_t i = 0; i < sizeof(breakers) / sizeof(breakers[0]); i++)
        CHECK(with_lines(buf, len, at, breakers[i], method, mlen) == LK_EINVAL);

    /* Header names in any case are the same headers: upper-casing every
     * letter of the header section changes no verdict. */
    char *up = malloc(len ? len : 1);
    CHECK(up != NULL);
    memcpy(up, buf, len);
    const char *first_lf = memchr(buf, '\n', at);
    size_t from = first_lf != NULL ? (size_t)(first_lf - buf) + 1 : at;
    if (from < 3) { /* the skipped empty line: the request line is next */
        const char *lf2 = memchr(buf + from, '\n', at - from);
        from = lf2 != NULL ? (size_t)(lf2 - buf) + 1 : at;
    }
    for (size_t i = from; i < at; i++) {
        /* Names only: up to each line's colon. */
        if (i == from || buf[i - 1] == '\n') {
            for (size_t k = i; k < at && buf[k] != ':' && buf[k] != '\r'; k++)
                if (up[k] >= 'a' && up[k] <= 'z')
                    up[k] = (char)(up[k] - 'a' + 'A');
        }
    }
    CHECK(check_exact(up, len, method, mlen, &err) == 0);
    free(up);
    return 0;
}
