/*
 * str.c - bounded string helpers. Never allocates; never writes past the
 * stated buffer sizes; never hands back client bytes that are not
 * well-formed UTF-8 from the escaping helpers (str_escape, str_echo).
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

size_t str_utf8_len(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (u[0] < 0x80)
        return 1;
    size_t len;
    /* The second byte's range is narrower after the leads that could start
     * an overlong form (E0, F0), a surrogate (ED) or a value past U+10FFFF
     * (F4); RFC 3629, section 4. */
    unsigned char lo = 0x80, hi = 0xbf;
    if (u[0] >= 0xc2 && u[0] <= 0xdf)
        len = 2;
    else if (u[0] >= 0xe0 && u[0] <= 0xef)
        len = 3;
    else if (u[0] >= 0xf0 && u[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (u[0] == 0xe0)
        lo = 0xa0;
    else if (u[0] == 0xed)
        hi = 0x9f;
    else if (u[0] == 0xf0)
        lo = 0x90;
    else if (u[0] == 0xf4)
        hi = 0x8f;
    if (n < len || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (u[i] < 0x80 || u[i] > 0xbf)
            return 0;
    return len;
}

int str_utf8_valid(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t k = str_utf8_len(s + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

size_t str_utf8_prefix(const char *s, size_t n, size_t max) {
    size_t i = 0;
    while (i < n) {
        size_t k = str_utf8_len(s + i, n - i);
        if (k == 0)
            k = 1;
        if (k > max - i)
            break;
        i += k;
    }
    return i;
}

/* 1 for the characters str_escape shows as bytes although they are
 * well-formed: C0 controls, DEL and C1 controls (U+0080-U+009F, which
 * terminals act on as they do on C0). */
static int is_control(const unsigned char *u, size_t k) {
    if (k == 1)
        return u[0] < 0x20 || u[0] == 0x7f;
    return k == 2 && u[0] == 0xc2 && u[1] < 0xa0;
}

size_t str_escape(const char *s, size_t n, char *out, size_t cap, size_t *ret_used) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, o = 0;
    while (i < n) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t k = str_utf8_len(s + i, n - i);
        if (k != 0 && !is_control(u, k)) {
            if (k >= cap - o)
                break;
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        /* A control character's bytes, or one byte outside any character. */
        size_t nb = k != 0 ? k : 1;
        if (nb * 4 >= cap - o)
            break;
        for (size_t j = 0; j < nb; j++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[u[j] >> 4];
            out[o++] = hex[u[j] & 0xf];
        }
        i += nb;
    }
    out[o] = '\0';
    if (ret_used != NULL)
        *ret_used = i;
    return o;
}

size_t str_echo_n(const char *s, size_t len, size_t max, char *out, size_t cap) {
    size_t used = 0;
    if (cap <= 3) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    /* Room is kept for "..." after the escaped text. */
    size_t o = str_escape(s, str_utf8_prefix(s, len, max), out, cap - 3, &used);
    if (used < len) {
        memcpy(out + o, "...", 4);
        o += 3;
    }
    return o;
}

void str_echo(const char *s, size_t len, char out[STR_ECHO_BUFSZ]) {
    str_echo_n(s, len, STR_ECHO_MAX, out, STR_ECHO_BUFSZ);
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

size_t str_percent_decode_all(const char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = in[i];
        /* Each step shortens out by two, so this is linear overall. */
        while (o >= 3 && out[o - 3] == '%') {
            int hi = str_hex_digit(out[o - 2]), lo = str_hex_digit(out[o - 1]);
            if (hi < 0 || lo < 0)
                break;
            out[o - 3] = (char)(hi << 4 | lo);
            o -= 2;
        }
    }
    return o;
}
