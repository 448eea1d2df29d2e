/*
 * keyring.h - the versioned data-encryption keys and their wrapping under
 * the root key (pure: no I/O, no clock; the CSPRNG aside).
 *
 * A keyring holds 1..KEYRING_MAX_KEYS keys, each a version (1, 2, 3, ...),
 * 32 random bytes and the time it was made (Unix seconds, given by the
 * caller). The current key is the one with the highest version: every seal
 * uses it, and an envelope is opened with whichever key its header names, so
 * values sealed before a rotation keep opening after it. At rest the keyring
 * is serialized and sealed under the root key (keyring_wrap); the root key
 * itself is never stored.
 *
 * Keys come from the CSPRNG here (core/secret.h), not from the caller: no
 * caller then needs to hold key material before it is in the keyring.
 *
 * Serialized layout (KEYRING_FORMAT_V1; all integers big-endian):
 *
 *   offset  size  field
 *   0       4     magic "LKKR"
 *   4       1     format version, KEYRING_FORMAT_V1 (1)
 *   5       1     count of keys, 1..KEYRING_MAX_KEYS
 *   6       44*n  per key, in strictly increasing version order:
 *                   version (4, >= 1), created_at (8, two's complement), key (32)
 *
 * The length must be exactly 6 + 44 * count. Versions need not be
 * consecutive, so a later release may drop old keys from the front.
 *
 * Wrapped: an envelope (core/aead.h) of those bytes under the root key, with
 * key version KEYRING_ROOT_VERSION (0) and the associated data
 * KEYRING_WRAP_AAD, so no envelope of a value (sealed with other associated
 * data, by versions from 1) is ever taken for a keyring.
 *
 * Locking: none inside. Seal, open, find and the other readers only read and
 * may run on many threads at once; keyring_rotate() and keyring_free() need
 * the caller to exclude every other use of that keyring.
 */
#ifndef LK_CORE_KEYRING_H
#define LK_CORE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "core/aead.h"

#define KEYRING_KEY_LEN AEAD_KEY_LEN
#define KEYRING_MAX_KEYS 64
#define KEYRING_FORMAT_V1 1
#define KEYRING_HEADER_LEN 6
#define KEYRING_ENTRY_LEN (4 + 8 + KEYRING_KEY_LEN)
#define KEYRING_SERIALIZED_MAX (KEYRING_HEADER_LEN + KEYRING_MAX_KEYS * KEYRING_ENTRY_LEN)
#define KEYRING_WRAPPED_MAX (KEYRING_SERIALIZED_MAX + AEAD_OVERHEAD)
/* The key version a wrapped keyring's envelope names: the root key's. */
#define KEYRING_ROOT_VERSION 0
/* The associated data of a wrapped keyring (without a NUL). */
#define KEYRING_WRAP_AAD "latchkey keyring"

struct keyring;

/*
 * Makes a keyring with one fresh key, version 1, made at created_at.
 * Returns 0 and sets *ret_kr (the caller's, freed with keyring_free); else
 * LK_ENOMEM, or LK_EINTERNAL if the CSPRNG fails, with *ret_kr untouched.
 */
int keyring_new(int64_t created_at, struct keyring **ret_kr);

/* Zeroes every key of kr, then frees it. NULL is allowed. */
void keyring_free(struct keyring *kr);

/*
 * Adds a fresh key, version current + 1, made at created_at; it becomes the
 * current key. Sets *ret_version to it if ret_version is not NULL.
 * Returns 0; LK_ERANGE if kr already holds KEYRING_MAX_KEYS keys or its
 * current version is UINT32_MAX; LK_EINTERNAL if the CSPRNG fails. On
 * failure kr is unchanged.
 */
int keyring_rotate(struct keyring *kr, int64_t created_at, uint32_t *ret_version);

/* The current (highest) version: at least 1. */
uint32_t keyring_current(const struct keyring *kr);

/* How many keys kr holds: 1..KEYRING_MAX_KEYS. */
size_t keyring_count(const struct keyring *kr);

/*
 * The key of the given version. Sets *ret_key to it (KEYRING_KEY_LEN bytes
 * inside kr, valid until keyring_free(kr): the caller must not copy it out
 * without wiping the copy) and *ret_created_at, each if not NULL.
 * Returns 0, or LK_ENOTFOUND if kr has no such version (outputs untouched).
 */
int keyring_find(const struct keyring *kr, uint32_t version, const uint8_t **ret_key, int64_t *ret_created_at);

/* aead_seal() under kr's current key, naming its version. Same returns. */
int keyring_seal(const struct keyring *kr, const void *aad, size_t aad_len, const void *plaintext, size_t len,
                 uint8_t *out, size_t out_cap);

/*
 * aead_open() with the key of the version env names. Same returns and the
 * same promise about out; a version kr does not hold (never made, or dropped,
 * or a changed byte) is LK_EINTEGRITY as well, not LK_ENOTFOUND: to the
 * caller, stored data that cannot be opened is one failure, never a missing
 * value.
 */
int keyring_open(const struct keyring *kr, const void *aad, size_t aad_len, const uint8_t *env, size_t env_len,
                 uint8_t *out, size_t out_cap, size_t *ret_len);

/* Bytes keyring_serialize() writes for kr (at most KEYRING_SERIALIZED_MAX). */
size_t keyring_serialized_size(const struct keyring *kr);

/*
 * Writes kr in the serialized layout into out (out_cap bytes) and sets
 * *ret_len. The output holds every key in plaintext: the caller wipes it
 * (explicit_bzero) when done. Returns 0, or LK_ERANGE if out_cap is smaller
 * than keyring_serialized_size(kr) (out untouched).
 */
int keyring_serialize(const struct keyring *kr, uint8_t *out, size_t out_cap, size_t *ret_len);

/*
 * Reads a serialized keyring from buf[0..len), reading no byte outside it.
 * Returns 0 and sets *ret_kr (the caller's); LK_EINVAL if the bytes are not
 * exactly the layout above (wrong magic or format, a count of 0 or above
 * KEYRING_MAX_KEYS, a length other than the count's, a version of 0 or not
 * above the one before); LK_ENOMEM. On failure *ret_kr is untouched and no
 * copy of a key is left behind.
 */
int keyring_parse(const uint8_t *buf, size_t len, struct keyring **ret_kr);

/* Bytes keyring_wrap() writes for kr (at most KEYRING_WRAPPED_MAX). */
size_t keyring_wrapped_size(const struct keyring *kr);

/*
 * Serializes kr and seals it under root_key (see "Wrapped" above) into out
 * (out_cap bytes), setting *ret_len. Returns 0; LK_ERANGE if out_cap is
 * smaller than keyring_wrapped_size(kr); otherwise aead_seal()'s errors.
 * The serialized bytes never leave this call unwiped.
 */
int keyring_wrap(const struct keyring *kr, const uint8_t root_key[AEAD_KEY_LEN], uint8_t *out, size_t out_cap,
                 size_t *ret_len);

/*
 * Opens a wrapped keyring blob[0..len) with root_key and parses it.
 * Returns 0 and sets *ret_kr (the caller's); LK_EINTEGRITY if the envelope
 * does not authenticate (a wrong root key, or blob altered, truncated or not
 * a keyring envelope); LK_EINVAL if it authenticates but is not a keyring
 * this build reads (the root key is right: a newer format, or a writer's
 * bug); LK_ENOMEM or LK_EINTERNAL. On failure *ret_kr is untouched.
 */
int keyring_unwrap(const uint8_t root_key[AEAD_KEY_LEN], const uint8_t *blob, size_t len, struct keyring **ret_kr);

/*
 * Whether root_key is the key blob[0..len) was wrapped under: the check the
 * unseal code makes on a root key rebuilt from shares before using it.
 * Only the envelope's tag decides (the contents are not parsed): 0 if it
 * authenticates, LK_EINTEGRITY if not — with a wrong key, GCM's tag fails
 * but for a chance of 2^-128, so no other verifier is stored. LK_ENOMEM or
 * LK_EINTERNAL if that cannot be decided. Nothing decrypted outlives the call.
 */
int keyring_root_check(const uint8_t root_key[AEAD_KEY_LEN], const uint8_t *blob, size_t len);

#endif
