/*
 * jwt.h - JSON Web Tokens: compact JWS (RFC 7515) signed and verified with
 * asymmetric keys only, JWKs and JWK sets (RFC 7517), JWK thumbprints
 * (RFC 7638) and the claim checks of RFC 7519 (pure: no I/O, no clock; the
 * CSPRNG aside, for key generation and ECDSA nonces).
 *
 * Algorithms (RFC 7518, RFC 8037):
 *
 *   alg     key                         sign  verify
 *   ES256   EC P-256                    yes   yes     (latchkey's own keys)
 *   EdDSA   OKP Ed25519                 yes   yes     (foreign issuers)
 *   RS256   RSA, 2048..8192-bit modulus no    yes     (foreign issuers)
 *
 * Every key carries exactly one algorithm, fixed when the key is made or
 * imported, and a token is verified only with its key's algorithm: the
 * header's "alg" must equal it. So "none", every HS* (including an HMAC
 * keyed with a public key's bytes) and any switch between RS, ES and EdDSA
 * are refused before a signature is looked at. There is no symmetric
 * algorithm at all, so no key can be used as an HMAC secret.
 *
 * Every key also carries a key id ("kid"): the RFC 7638 thumbprint for keys
 * made or imported here as private keys, and for JWKS keys the document's
 * "kid" (its thumbprint when the document gives none). jwt_verify() requires
 * the header's "kid" and looks it up in the key set it is given; it never
 * takes a key from the token (jwk, jku, x5u, x5c are ignored) and refuses
 * any "crit" header.
 *
 * Refusals of a token return LK_EBADTOKEN, or LK_EEXPIRED for an expired
 * one, with a message in the struct lk_error naming the failing check
 * ("malformed token: ...", "unknown kid", "algorithm X not allowed for this
 * key (ES256)", "signature", "expired at T", "not yet valid", "issued in the
 * future", "issuer", "audience"). Messages never contain the token or any
 * string taken from it (an "alg" is named only when it is one of the
 * registered JWS algorithm names). Bad arguments from the caller (a NULL
 * issuer, a buffer too small) return LK_EINVAL or LK_ERANGE.
 *
 * Claims are jansson objects. Keys and key sets are immutable once built
 * and may be used by many threads at once; _free needs the caller to
 * exclude every other use.
 */
#ifndef LK_CORE_JWT_H
#define LK_CORE_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"

/* Longest compact token accepted (header, payload and signature with dots). */
#define JWT_TOKEN_MAX 16384
/* Longest decoded protected header: room for an x5c chain, which is ignored. */
#define JWT_HEADER_MAX 8192
/* Longest signature: an RSA signature is as long as the modulus. */
#define JWT_RSA_MIN_BITS 2048
#define JWT_RSA_MAX_BITS 8192
#define JWT_SIG_MAX (JWT_RSA_MAX_BITS / 8)
/* Longest "kid"; a thumbprint takes JWT_THUMBPRINT_LEN. */
#define JWT_KID_MAX 128
#define JWT_THUMBPRINT_LEN 43
/* The most leeway jwt_verify() allows for clock skew, in seconds. */
#define JWT_LEEWAY_MAX 60
/* Most keys in a key set, and the longest JWKS document read. */
#define JWT_KEYSET_MAX 32
#define JWT_JWKS_MAX 65536
/* Longest private key export (PKCS#8 DER of a P-256 or Ed25519 key). */
#define JWT_PRIVATE_DER_MAX 256
/* Longest public JWK jwt_key_public_jwk() writes (an 8192-bit RSA key). */
#define JWT_JWK_MAX 2048
/* Latest NumericDate accepted: 9999-12-31T23:59:59Z. */
#define JWT_TIME_MAX INT64_C(253402300799)

enum jwt_alg {
    JWT_ALG_ES256 = 1,
    JWT_ALG_EDDSA = 2,
    JWT_ALG_RS256 = 3,
};

/* The JWS name of alg ("ES256", "EdDSA", "RS256"), or NULL. */
const char *jwt_alg_name(enum jwt_alg alg);

/* ---- base64url (RFC 4648 section 5, without padding, RFC 7515 section 2) ---- */

/* How many of s[0..n) from the start are base64url characters. */
size_t jwt_b64url_span(const char *s, size_t n);

/* Characters base64url takes for n bytes, without padding or NUL. */
size_t jwt_b64url_len(size_t n);

/*
 * Encodes in[0..n) into out (cap bytes) without padding, NUL-terminated,
 * and sets *ret_len (may be NULL) to the length without the NUL.
 * Returns 0, or LK_ERANGE if cap < jwt_b64url_len(n) + 1 (out untouched).
 */
int jwt_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap, size_t *ret_len);

/*
 * Decodes in[0..n) into out (cap bytes) and sets *ret_len. Only the
 * canonical unpadded form is accepted: the alphabet A-Z a-z 0-9 - _, no
 * '=', no whitespace, no length of the form 4k+1, and the unused low bits of
 * the last character zero (so each byte string has exactly one encoding).
 * Returns 0; LK_EINVAL for anything else, LK_ERANGE if cap is too small
 * (*ret_len untouched in both; out may have been written).
 */
int jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *ret_len);

/* ---- keys ---- */

struct jwt_key;

/* Makes a fresh ES256 (P-256) key pair, kid = its thumbprint, into *ret_key.
 * Returns 0, LK_ENOMEM or LK_EINTERNAL (*ret_key untouched). */
int jwt_key_generate_es256(struct jwt_key **ret_key);

/*
 * Writes the private key as unencrypted PKCS#8 DER into out (cap bytes;
 * JWT_PRIVATE_DER_MAX always suffices) and sets *ret_len. This is secret
 * material: the caller seals it (core/aead.h) before it goes anywhere, and
 * wipes out afterwards. Returns 0; LK_EINVAL if the key has no private part,
 * LK_ERANGE if cap is too small, LK_ENOMEM or LK_EINTERNAL (out is zeroed
 * on every failure after it was written to).
 */
int jwt_key_export_private(const struct jwt_key *key, uint8_t *out, size_t cap, size_t *ret_len);

/*
 * Reads a PKCS#8 DER private key of a P-256 (ES256) or Ed25519 (EdDSA) key
 * from der[0..len) into *ret_key, kid = its thumbprint. Returns 0; LK_EINVAL
 * for anything else (other curves, RSA, trailing bytes, malformed DER),
 * LK_ENOMEM (*ret_key untouched on failure).
 */
int jwt_key_import_private(const uint8_t *der, size_t len, struct jwt_key **ret_key);

/* Destroys key (wiping any private part). NULL is a no-op. */
void jwt_key_free(struct jwt_key *key);

enum jwt_alg jwt_key_alg(const struct jwt_key *key);
/* The key's kid, NUL-terminated; valid while key lives. */
const char *jwt_key_kid(const struct jwt_key *key);
/* 1 if the key can sign. */
int jwt_key_has_private(const struct jwt_key *key);

/*
 * The RFC 7638 thumbprint of the key's public part: SHA-256 over the
 * required JWK members in lexicographic order, base64url, into out
 * (JWT_THUMBPRINT_LEN + 1 bytes, NUL-terminated). Returns 0 or
 * LK_EINTERNAL/LK_ENOMEM.
 */
int jwt_key_thumbprint(const struct jwt_key *key, char out[JWT_THUMBPRINT_LEN + 1]);

/*
 * Writes the public key as one JWK JSON object into out (cap bytes,
 * NUL-terminated; JWT_JWK_MAX suffices) and sets *ret_len (may be NULL):
 * EC {"kty","crv","x","y","kid","alg","use":"sig"}, OKP {"kty","crv","x",
 * ...}, RSA {"kty","n","e",...}. Never any private member.
 * Returns 0, LK_ERANGE if cap is too small, LK_ENOMEM or LK_EINTERNAL.
 */
int jwt_key_public_jwk(const struct jwt_key *key, char *out, size_t cap, size_t *ret_len);

/* ---- key sets ---- */

struct jwt_keyset;

/* An empty key set. Returns 0 or LK_ENOMEM. */
int jwt_keyset_new(struct jwt_keyset **ret_set);

/*
 * Adds key to set, which takes ownership of it (also on failure: the key
 * is then freed). Returns 0; LK_CONFLICT if the set holds a key with the
 * same kid; LK_ERANGE if it holds JWT_KEYSET_MAX keys.
 */
int jwt_keyset_add(struct jwt_keyset *set, struct jwt_key *key);

/* The key whose kid is kid[0..len), or NULL. */
const struct jwt_key *jwt_keyset_find(const struct jwt_keyset *set, const char *kid, size_t len);

size_t jwt_keyset_count(const struct jwt_keyset *set);

/*
 * Reads a JWK set ({"keys": [...]}, RFC 7517 section 5) from json[0..len)
 * into a new key set *ret_set, public parts only. A key whose kty, crv,
 * alg or use latchkey does not verify with (kty oct, P-384, PS256,
 * "use":"enc", ...) is skipped; a key it would use must be well formed:
 * canonical base64url, an EC point on P-256, an Ed25519 point, an RSA
 * modulus of JWT_RSA_MIN_BITS..JWT_RSA_MAX_BITS bits without leading zero
 * octets and an odd exponent of at most 4 octets above 1, "alg" (if given)
 * matching the key's type; a missing "alg" is the one algorithm latchkey
 * uses with that type. A key without "kid" gets its thumbprint.
 * Returns 0; LK_EINVAL with a message naming the key (by index) and the
 * fault for a malformed document, a malformed usable key, two keys with one
 * kid, more than JWT_KEYSET_MAX usable keys, or no usable key at all;
 * LK_TOOBIG above JWT_JWKS_MAX bytes; LK_ENOMEM. *ret_set is untouched on
 * failure.
 */
int jwt_keyset_from_jwks(const char *json, size_t len, struct jwt_keyset **ret_set, struct lk_error *err);

/*
 * Writes set as a JWK set {"keys":[...]} of public JWKs into out (cap
 * bytes, NUL-terminated) and sets *ret_len (may be NULL). Returns 0,
 * LK_ERANGE if cap is too small, LK_ENOMEM or LK_EINTERNAL.
 */
int jwt_keyset_to_jwks(const struct jwt_keyset *set, char *out, size_t cap, size_t *ret_len);

/* Destroys set and its keys. NULL is a no-op. */
void jwt_keyset_free(struct jwt_keyset *set);

/* ---- signing and verifying ---- */

/*
 * Signs claims (a JSON object) with key: the protected header is
 * {"alg":<key's alg>,"kid":<key's kid>,"typ":"JWT"}, the payload the claims
 * in compact JSON. Writes the compact JWS into out (cap bytes,
 * NUL-terminated) and sets *ret_len (may be NULL). ES256 signatures are in
 * JOSE's 64-byte R||S form. The claims are not checked here (the caller
 * sets iss, sub, aud, exp, iat).
 * Returns 0; LK_EINVAL if key cannot sign, claims is not an object or
 * would not read back as the same JSON (a string that is not UTF-8 or holds
 * a NUL: jwt_verify() refuses those);
 * LK_ERANGE if the token would not fit out or exceed JWT_TOKEN_MAX;
 * LK_ENOMEM or LK_EINTERNAL. out is untouched on every failure.
 */
int jwt_sign(const struct jwt_key *key, const json_t *claims, char *out, size_t cap, size_t *ret_len);

/*
 * Checks sig[0..sig_len) over input[0..input_len) with key, by the key's
 * algorithm only (ES256: 64-byte R||S). The raw JWS primitive under
 * jwt_verify(), without any header or claim check. Returns 0, or
 * LK_EBADTOKEN if the signature does not verify or has the wrong length;
 * LK_ENOMEM or LK_EINTERNAL.
 */
int jwt_signature_verify(const struct jwt_key *key, const char *input, size_t input_len, const uint8_t *sig,
                         size_t sig_len);

/* What jwt_verify() holds a token's claims to. */
struct jwt_expect {
    const char *issuer;   /* "iss" must equal it; required */
    const char *audience; /* "aud" (a string or an array of strings) must hold it; required */
    int64_t now;          /* the caller's clock, Unix seconds */
    int64_t leeway;       /* allowed clock skew in seconds, clamped to 0..JWT_LEEWAY_MAX */
};

/*
 * Verifies the compact JWS token[0..len) against keys and want, in this
 * order: the compact form (exactly three non-empty base64url parts, at most
 * JWT_TOKEN_MAX bytes), the header (a JSON object with string "alg" and
 * "kid", no "crit", no duplicate member), the kid (must name a key of
 * keys), the algorithm (must be the key's), the signature, then the claims
 * (a JSON object; "exp" required, "exp", "nbf" and "iat" NumericDates in
 * 0..JWT_TIME_MAX where present; now < exp + leeway; now >= nbf - leeway;
 * iat <= now + leeway; "iss" equal to want->issuer; "aud" holding
 * want->audience).
 * On success returns 0 and, if ret_claims is not NULL, sets *ret_claims to
 * the claims (a new reference: json_decref() it). On failure returns
 * LK_EBADTOKEN or LK_EEXPIRED with err naming the check (see the top of
 * this file), LK_EINVAL if want lacks an issuer or audience, LK_ENOMEM or
 * LK_EINTERNAL; *ret_claims is untouched.
 */
int jwt_verify(const struct jwt_keyset *keys, const char *token, size_t len, const struct jwt_expect *want,
               json_t **ret_claims, struct lk_error *err);

#endif
