/*
 * jwt_internal.h - what core/jwt.c (JWS signing and verification) and
 * core/jwk.c (keys, JWKs and JWK sets) share: the key and key-set
 * structures and their size limits. Not for other modules: they use
 * core/jwt.h.
 */
#ifndef LK_CORE_JWT_INTERNAL_H
#define LK_CORE_JWT_INTERNAL_H

#include <openssl/evp.h>

#include "core/jwt.h"

#define ES256_COORD_LEN 32
#define ES256_SIG_LEN 64
#define ED25519_LEN 32
#define ED25519_SIG_LEN 64
/* Largest RSA public exponent accepted, in octets. */
#define RSA_E_MAX 4
/* The longest base64url text of a JWK member (an 8192-bit modulus). */
#define MEMBER_B64_MAX (JWT_SIG_MAX / 3 * 4 + 4)

struct jwt_key {
    EVP_PKEY *pkey;
    enum jwt_alg alg;
    int has_private;
    char kid[JWT_KID_MAX + 1];
};

struct jwt_keyset {
    size_t n;
    struct jwt_key *keys[JWT_KEYSET_MAX];
};

#endif
