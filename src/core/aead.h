/*
 * aead.h - the sealed envelope: AES-256-GCM with associated data, in a
 * self-describing byte string (pure: no I/O, no clock; the CSPRNG aside).
 *
 * Layout (AEAD_OVERHEAD = 33 bytes besides the ciphertext):
 *
 *   offset  size  field
 *   0       1     format version, AEAD_FORMAT_V1 (1)
 *   1       4     key version, big-endian (the keyring's; 0 for the root key)
 *   5       12    nonce, 96 random bits drawn for this seal
 *   17      n     ciphertext, as long as the plaintext
 *   17+n    16    GCM tag
 *
 * GCM authenticates the 5 header bytes followed by the caller's associated
 * data (the header has a fixed length, so the two cannot run into each
 * other), and the nonce through GCM itself: changing any bit of an envelope,
 * or opening it with another key or other associated data, fails with
 * LK_EINTEGRITY. The associated data is not stored; the caller rebuilds it
 * from the row the envelope belongs to ("secret|org_id|path|version"), so an
 * envelope copied to another row does not open.
 *
 * Nonces are random, so a key must seal far fewer than 2^32 values: at that
 * count two nonces coincide with probability about 2^-33, and a repeated
 * nonce under one key gives away the XOR of two plaintexts and lets an
 * attacker forge tags (NIST SP 800-38D, 8.3). latchkey keeps far below it by
 * rotating the keyring (core/keyring.h): every new seal uses the newest key.
 */
#ifndef LK_CORE_AEAD_H
#define LK_CORE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN 32
#define AEAD_FORMAT_V1 1
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16
#define AEAD_HEADER_LEN (1 + 4 + AEAD_NONCE_LEN)
#define AEAD_OVERHEAD (AEAD_HEADER_LEN + AEAD_TAG_LEN)
/* Largest plaintext sealed or opened (16 MiB): far above any stored value,
 * and small enough that no size below overflows or exceeds OpenSSL's int. */
#define AEAD_PLAINTEXT_MAX ((size_t)1 << 24)
/* NIST's limit on seals under one key with random 96-bit nonces; rotate long
 * before it. */
#define AEAD_RANDOM_NONCE_SEALS_MAX (UINT64_C(1) << 32)

/* Bytes an envelope of a len-byte plaintext takes: len + AEAD_OVERHEAD; 0 if
 * len exceeds AEAD_PLAINTEXT_MAX (no envelope is ever 0 bytes). */
size_t aead_sealed_size(size_t len);

/*
 * Encrypts plaintext[0..len) under key into out, as an envelope naming
 * key_version, with a fresh random nonce, authenticating aad[0..aad_len) too.
 * aad and plaintext may be NULL when their length is 0. out (out_cap bytes)
 * must not overlap plaintext and takes aead_sealed_size(len) bytes; the
 * envelope's length is exactly that.
 * Returns 0; LK_ETOOBIG if len or aad_len exceeds AEAD_PLAINTEXT_MAX,
 * LK_ERANGE if out_cap is too small (out untouched in both); LK_ENOMEM, or
 * LK_EINTERNAL if the CSPRNG or OpenSSL fails (out[0..aead_sealed_size(len))
 * is then zeroed: no envelope, and nothing of the plaintext).
 */
int aead_seal(const uint8_t key[AEAD_KEY_LEN], uint32_t key_version, const void *aad, size_t aad_len,
              const void *plaintext, size_t len, uint8_t *out, size_t out_cap);

/*
 * Checks and decrypts the envelope env[0..env_len) under key with
 * aad[0..aad_len) into out (out_cap bytes, not overlapping env), and sets
 * *ret_len to the plaintext's length (env_len - AEAD_OVERHEAD).
 * Returns 0; LK_EINTEGRITY if env is shorter than AEAD_OVERHEAD, names an
 * unknown format, is longer than any envelope aead_seal makes, or its tag does
 * not verify (wrong key, wrong associated data, any changed or missing byte);
 * LK_ETOOBIG if aad_len exceeds AEAD_PLAINTEXT_MAX; LK_ERANGE if out_cap is
 * smaller than the plaintext (out untouched in these); LK_ENOMEM or
 * LK_EINTERNAL if OpenSSL fails. The key version is not checked against
 * anything here: it is authenticated, and choosing the key is the caller's.
 * On failure *ret_len is untouched and out holds no plaintext, not even a
 * part: every byte decryption wrote is zeroed again.
 */
int aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aad_len, const uint8_t *env, size_t env_len,
              uint8_t *out, size_t out_cap, size_t *ret_len);

/*
 * The key version env[0..env_len) names, read without any key, so the
 * caller can pick the key to open it with. Not authenticated by itself:
 * aead_open() checks it with the rest. Returns 0, or LK_EINTEGRITY if env is
 * shorter than AEAD_OVERHEAD or names an unknown format (*ret_version is then
 * untouched).
 */
int aead_key_version(const uint8_t *env, size_t env_len, uint32_t *ret_version);

#endif
