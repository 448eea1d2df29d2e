/*
 * secret.h - hashing and comparing secrets.
 *
 * Tokens carry >= 160 random bits, so a single SHA-256 is the right at-rest
 * hash (a slow KDF adds nothing against brute force of that much entropy and
 * would cost every request). Passwords use a memory-hard KDF instead.
 * Comparisons of secret material are constant-time.
 */
#ifndef LK_CORE_SECRET_H
#define LK_CORE_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_HASH_LEN 32

/* SHA-256 of data[0..len) into out. */
void secret_hash(const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]);

/* HMAC-SHA256 of data under key into out. Returns 0 or LK_EINTERNAL. */
/* SHA-256 of a followed by b (a's end must be unambiguous: a string with
 * its NUL, say). */
void secret_hash2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[SECRET_HASH_LEN]);

int secret_hmac(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]);

/* 1 if a and b (n bytes each) are equal, in time independent of content. */
int secret_equal(const void *a, const void *b, size_t n);

/* Fills buf with n bytes from the CSPRNG. Returns 0 or LK_EINTERNAL. */
int secret_random(void *buf, size_t n);

/* Lower-case hex of data into out (2*len+1 bytes, NUL-terminated). */
void secret_hex(const uint8_t *data, size_t len, char *out);

/* The inverse for lower-case hex only: hex (2*len characters) into out (len
 * bytes). 0, or LK_EINVAL if hex holds anything else (out is then undefined). */
int secret_unhex(const char *hex, size_t len, uint8_t *out);

#endif
