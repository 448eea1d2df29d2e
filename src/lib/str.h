/*
 * str.h - small string helpers shared by every layer: bounded copies,
 * integer formatting without printf, and safe echoes of untrusted input.
 */
#ifndef LK_LIB_STR_H
#define LK_LIB_STR_H

#include <stddef.h>
#include <stdint.h>

/* Longest echo of untrusted input in a message, before "...". */
#define STR_ECHO_MAX 64
/* Worst case: every echoed byte as \xNN, plus "..." and NUL. */
#define STR_ECHO_BUFSZ (STR_ECHO_MAX * 4 + 4)
/* "-9223372036854775808" and NUL. */
#define STR_INT64_BUFSZ 21

/* Copies src into dst[0..cap), truncating, always NUL-terminated (cap >= 1). */
void str_copy(char *dst, size_t cap, const char *src);

/* Decimal digits of v into out (NUL-terminated); returns the length. */
size_t str_fmt_int64(int64_t v, char out[STR_INT64_BUFSZ]);

/*
 * Renders untrusted s[0..len) for an error message: printable ASCII as is,
 * other bytes as \xNN, at most STR_ECHO_MAX input bytes and then "...".
 * Output never contains a quote-breaking control byte.
 */
void str_echo(const char *s, size_t len, char out[STR_ECHO_BUFSZ]);

/* The value of a hex digit (either case), or -1. */
int str_hex_digit(char c);

/*
 * Percent-decodes in[0..n) into out (at least n bytes; not NUL-terminated):
 * each %XX (either case) becomes its byte, anything else (a '%' without two
 * hex digits after it included) is copied as is. Returns the length.
 */
size_t str_percent_decode(const char *in, size_t n, char *out);

#endif
