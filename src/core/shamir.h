/*
 * shamir.h - Shamir's secret sharing over GF(2^8), to split the root key
 * into N unseal shares of which any T rebuild it.
 *
 * Each byte of the secret is the constant term of its own polynomial of
 * degree T-1 over GF(2^8) (the AES field, modulus x^8 + x^4 + x^3 + x + 1,
 * 0x11B); a share is that polynomial evaluated at the share's x coordinate.
 * Any T shares determine the polynomial and so the secret; T-1 shares are
 * consistent with every possible secret, equally often, and say nothing
 * about it.
 *
 * Pure: no I/O, no clock, no allocation. The random polynomial coefficients
 * come from the caller (secret_random() in production), so the arithmetic
 * can be tested with fixed ones. Field arithmetic on secret bytes neither
 * branches on them nor indexes tables with them. The x coordinates are
 * public (they are printed with each share) and may be branched on.
 *
 * A share is SHAMIR_SHARE_LEN(len) bytes: its x coordinate (1..255, never
 * 0, which is where the secret lies), then len bytes, one per byte of the
 * secret. These shares are not interchangeable with Vault's, which put the
 * x coordinate last.
 */
#ifndef LK_CORE_SHAMIR_H
#define LK_CORE_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

/* At most this many shares: the nonzero elements of GF(2^8). */
#define SHAMIR_SHARES_MAX 255
/* Longest secret split, in bytes (the root key is 32). */
#define SHAMIR_SECRET_MAX 64
/* Bytes in one share of a secret of len bytes. */
#define SHAMIR_SHARE_LEN(len) ((len) + 1)

/*
 * Splits secret[0..len) into n shares, any t of which rebuild it, written
 * one after the other to shares[0 .. n * SHAMIR_SHARE_LEN(len)). Share k
 * (0-based) gets the x coordinate k + 1.
 *
 * random holds the polynomial coefficients and must be exactly
 * (t - 1) * len bytes from a CSPRNG, used as given: the coefficient of x^j
 * (1 <= j < t) for byte i of the secret is random[(j - 1) * len + i]. A zero
 * coefficient, even the leading one, is as likely as any other and must not
 * be redrawn: excluding it would exclude one candidate secret for every
 * t - 1 shares. The caller wipes random after the call; it is as secret as
 * the secret. With t == 1 no random bytes are used (random may be NULL) and
 * every share is its x coordinate followed by the secret itself.
 *
 * Requires 1 <= t <= n <= SHAMIR_SHARES_MAX and 1 <= len <=
 * SHAMIR_SECRET_MAX. shares must not overlap secret or random.
 *
 * Returns 0, or LK_EINVAL for arguments outside those rules, a NULL
 * pointer or a random_len other than (t - 1) * len; nothing is written
 * then.
 */
int shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned t, const uint8_t *random, size_t random_len,
                 uint8_t *shares);

/*
 * Rebuilds a secret of share_len - 1 bytes into secret from nshares shares
 * (each share_len bytes, as shamir_split writes them, in any order) by
 * Lagrange interpolation at x = 0. secret may overlap a share; it is
 * written only on success.
 *
 * This cannot know T. Given at least T shares of one split it returns the
 * secret; given fewer, or shares of different splits, it returns a wrong
 * value of the same length and still 0. The caller must check the result
 * against a stored verifier (for the root key, an HMAC or hash of it kept
 * when it was split) before using it, and must check that every share it
 * was handed is share_len bytes long: this function sees one length only.
 *
 * Returns 0, or LK_EINVAL when nshares is 0 or over SHAMIR_SHARES_MAX,
 * share_len is under 2 or over SHAMIR_SHARE_LEN(SHAMIR_SECRET_MAX), a
 * pointer is NULL, a share's x coordinate is 0, or two shares have the same
 * x coordinate (a share given twice is refused, never counted twice); secret
 * is untouched then.
 */
int shamir_combine(const uint8_t *const *shares, size_t nshares, size_t share_len, uint8_t *secret);

/* a * b in GF(2^8) modulo 0x11B, in time independent of a and b. */
uint8_t shamir_gf256_mul(uint8_t a, uint8_t b);

/* The multiplicative inverse of a in GF(2^8) (a^254), in time independent
 * of a; 0 for 0, which has none. */
uint8_t shamir_gf256_inv(uint8_t a);

#endif
