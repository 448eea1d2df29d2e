/*
 * str.c - bounded string helpers. Never allocates; never writes past the
 * stated buffer sizes.
 */
#include "lib/str.h"

#include <string.h>

void str_copy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

size_t str_fmt_int64(int64_t v, char out[STR_INT64_BUFSZ]) {
    char tmp[STR_INT64_BUFSZ];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[--i] = '-';
    size_t n = sizeof(tmp) - i;
    memcpy(out, tmp + i, n);
    out[n] = '\0';
    return n;
}

void str_echo(const char *s, size_t len, char out[STR_ECHO_BUFSZ]) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t n = len > STR_ECHO_MAX ? STR_ECHO_MAX : len;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        }
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

int str_hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t str_percent_decode(const char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = in[i] == '%' && i + 2 < n ? str_hex_digit(in[i + 1]) : -1;
        int lo = hi >= 0 ? str_hex_digit(in[i + 2]) : -1;
        if (lo >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}
