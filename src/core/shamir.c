/*
 * shamir.c - Shamir's secret sharing over GF(2^8): split by evaluating one
 * random polynomial per secret byte at x = 1..n, combine by Lagrange
 * interpolation at x = 0.
 *
 * Pure: the caller supplies the coefficients. This module must never
 * branch on or index a table with a secret byte, a coefficient or a share's
 * y bytes (no log/exp tables: their lookups leak through the cache), must
 * never write an output before every argument is checked, and must wipe
 * every buffer that held secret bytes before returning. Scalar locals that
 * the compiler keeps in registers cannot be wiped from C; no secret lives
 * in a local buffer past its function.
 */
#include "core/shamir.h"

#include "core/errors.h"

#include <string.h>

/* x^8 + x^4 + x^3 + x + 1, the AES modulus. */
#define GF256_POLY 0x11Bu

uint8_t shamir_gf256_mul(uint8_t a, uint8_t b) {
    unsigned x = a, y = b, r = 0;

    /*
     * Shift-and-add, eight rounds whatever the operands: each round adds x
     * when the low bit of y is set and doubles x, reducing when it reaches
     * degree 8. Both conditions are masks (0 or all ones), not branches.
     */
    for (int i = 0; i < 8; i++) {
        r ^= x & (0u - (y & 1u));
        y >>= 1;
        x = (x << 1) ^ (GF256_POLY & (0u - (x >> 7)));
    }
    return (uint8_t)r;
}

uint8_t shamir_gf256_inv(uint8_t a) {
    /*
     * The multiplicative group has 255 elements, so a^255 = 1 and a^254 is
     * the inverse (and 0^254 = 0). Square-and-multiply over the bits of the
     * public exponent 254: the branch is on the exponent, never on a.
     */
    const unsigned e = 254;
    uint8_t r = 1;

    for (int bit = 7; bit >= 0; bit--) {
        r = shamir_gf256_mul(r, r);
        if ((e >> bit) & 1u)
            r = shamir_gf256_mul(r, a);
    }
    return r;
}

int shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned t, const uint8_t *random, size_t random_len,
                 uint8_t *shares) {
    if (secret == NULL || shares == NULL || len < 1 || len > SHAMIR_SECRET_MAX || t < 1 || t > n ||
        n > SHAMIR_SHARES_MAX)
        return LK_EINVAL;
    /* Bounded by the checks above: (255 - 1) * 64. */
    if (random_len != (size_t)(t - 1) * len || (random_len > 0 && random == NULL))
        return LK_EINVAL;

    for (unsigned k = 0; k < n; k++) {
        uint8_t *out = shares + (size_t)k * SHAMIR_SHARE_LEN(len);
        uint8_t x = (uint8_t)(k + 1);

        out[0] = x;
        /*
         * Horner's rule, highest coefficient first, accumulated in the share
         * itself so no copy of secret-derived bytes is left elsewhere:
         * y = (((c[t-1]) x + c[t-2]) x + ... + c[1]) x + secret.
         */
        for (size_t i = 0; i < len; i++) {
            uint8_t *y = &out[1 + i];
            *y = 0;
            for (unsigned j = t - 1; j >= 1; j--)
                *y = shamir_gf256_mul(*y, x) ^ random[(size_t)(j - 1) * len + i];
            *y = shamir_gf256_mul(*y, x) ^ secret[i];
        }
    }
    return 0;
}

int shamir_combine(const uint8_t *const *shares, size_t nshares, size_t share_len, uint8_t *secret) {
    uint8_t seen[256 / 8] = {0};
    uint8_t basis[SHAMIR_SHARES_MAX];
    uint8_t acc[SHAMIR_SECRET_MAX] = {0};
    size_t len;

    /* More than 255 shares must repeat an x, which the loop below refuses
     * too; the bound is checked first so basis[] needs no other proof. */
    if (shares == NULL || secret == NULL || nshares == 0 || nshares > SHAMIR_SHARES_MAX || share_len < 2 ||
        share_len > SHAMIR_SHARE_LEN(SHAMIR_SECRET_MAX))
        return LK_EINVAL;
    len = share_len - 1;

    /* The x coordinates are public: indexing a table with them leaks nothing. */
    for (size_t j = 0; j < nshares; j++) {
        if (shares[j] == NULL)
            return LK_EINVAL;
        uint8_t x = shares[j][0];
        if (x == 0 || (seen[x / 8] & (1u << (x % 8))) != 0)
            return LK_EINVAL;
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }

    /*
     * Lagrange basis at 0: l_j = prod_{m != j} x_m / (x_m - x_j), where
     * subtraction is XOR. It depends on the x coordinates only. The x are
     * distinct, so no denominator is 0.
     */
    for (size_t j = 0; j < nshares; j++) {
        uint8_t num = 1, den = 1, xj = shares[j][0];
        for (size_t m = 0; m < nshares; m++) {
            if (m == j)
                continue;
            num = shamir_gf256_mul(num, shares[m][0]);
            den = shamir_gf256_mul(den, shares[m][0] ^ xj);
        }
        basis[j] = shamir_gf256_mul(num, shamir_gf256_inv(den));
    }

    /* secret = sum_j l_j * y_j, byte by byte; built aside so that secret may
     * overlap a share. */
    for (size_t j = 0; j < nshares; j++)
        for (size_t i = 0; i < len; i++)
            acc[i] ^= shamir_gf256_mul(basis[j], shares[j][1 + i]);
    memcpy(secret, acc, len);
    explicit_bzero(acc, sizeof(acc));
    return 0;
}
