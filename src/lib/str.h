/*
 * str.h - small string helpers shared by every layer: bounded copies,
 * integer formatting without printf, UTF-8 checks, and safe echoes of
 * untrusted input.
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
 * Renders untrusted s[0..len) for an error message or a log line, through
 * str_escape: at most STR_ECHO_MAX input bytes, cut between characters,
 * and then "..." when there was more. The output is well-formed UTF-8 with
 * no control character. Every echo of client bytes goes through this (or
 * through str_escape when it needs another length).
 */
void str_echo(const char *s, size_t len, char out[STR_ECHO_BUFSZ]);

/*
 * str_echo with another limit: at most max input bytes of s[0..len), cut
 * between characters and escaped, into out[0..cap), then "..." when there
 * was more. With cap >= 4 * max + 4 all of those max bytes fit; with less,
 * the text stops earlier (between characters). Returns the length written.
 */
size_t str_echo_n(const char *s, size_t len, size_t max, char *out, size_t cap);

/*
 * Bytes of the well-formed UTF-8 character (RFC 3629) that s[0..n) starts
 * with: 1 to 4. 0 when it starts with none: a stray continuation byte, a
 * byte that never occurs in UTF-8 (0xC0, 0xC1, 0xF5-0xFF), an overlong
 * form, a surrogate, a value past U+10FFFF, a character n cuts short, or
 * n == 0.
 */
size_t str_utf8_len(const char *s, size_t n);

/* 1 if s[0..n) is well-formed UTF-8 from end to end, else 0. */
int str_utf8_valid(const char *s, size_t n);

/*
 * The length of the longest prefix of s[0..n), at most max bytes, that
 * does not end inside a well-formed character (a byte that is part of
 * none counts as one character). For cutting client text to a length.
 */
size_t str_utf8_prefix(const char *s, size_t n, size_t max);

/*
 * Writes untrusted s[0..n) into out[0..cap) (cap >= 1; always
 * NUL-terminated) so that it is safe in a message or a log line: each
 * well-formed UTF-8 character that is not a control character as it is,
 * and each other byte (C0 controls, DEL, the bytes of a C1 control, and
 * bytes outside well-formed UTF-8) as the four characters \xNN. Stops
 * before the first character whose rendering does not fit, so the output
 * is always well-formed UTF-8. Returns the length written; *ret_used (may
 * be NULL) gets the number of input bytes rendered.
 */
size_t str_escape(const char *s, size_t n, char *out, size_t cap, size_t *ret_used);

/* The value of a hex digit (either case), or -1. */
int str_hex_digit(char c);

/*
 * Percent-decodes in[0..n) into out (at least n bytes; not NUL-terminated):
 * each %XX (either case) becomes its byte, anything else (a '%' without two
 * hex digits after it included) is copied as is. Returns the length.
 */
size_t str_percent_decode(const char *in, size_t n, char *out);

/*
 * Percent-decodes in[0..n) into out (at least n bytes; not NUL-terminated)
 * until no %XX is left: whenever a decoded byte completes a %XX with what
 * came before it ("%255F" -> "%5F" -> "_"), that is decoded too, so text
 * encoded any number of times comes out in its plain form, in one pass.
 * Returns the length. For looking for a token a client wrapped in several
 * layers of encoding; not for reading what a request means.
 */
size_t str_percent_decode_all(const char *in, size_t n, char *out);

#endif
