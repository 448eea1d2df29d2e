/*
 * password.h - password hashing with scrypt (memory-hard), via OpenSSL.
 *
 * Stored form: "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64>$<hash, base64>",
 * so parameters can be raised later and old hashes still verify.
 */
#ifndef LK_CORE_PASSWORD_H
#define LK_CORE_PASSWORD_H

#include <stddef.h>

struct lk_error;

#define PASSWORD_MIN 12
#define PASSWORD_MAX 1024
#define PASSWORD_HASH_MAX 160

/* 0 if pw is acceptable (length PASSWORD_MIN..PASSWORD_MAX, no NUL); else
 * LK_EINVAL with a message that never repeats the password. */
int password_check(const char *field, const char *pw, struct lk_error *err);

/* Hashes pw with a fresh salt into out (NUL-terminated). 0 or LK_EINTERNAL. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);

/* 1 if pw matches the stored hash, 0 if not or if stored is malformed.
 * Takes the same time for a wrong password as for a right one. */
int password_verify(const char *pw, const char *stored);

/* Burns the time of one verification, for answers about users that do not
 * exist, so timing does not reveal whether a user exists. */
void password_verify_dummy(const char *pw);

#endif
