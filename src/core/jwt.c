/*
 * jwt.c - compact JWS signing and verification, JWKs and JWK sets over
 * OpenSSL 3's EVP interface (jwt.h).
 *
 * This module must never accept a token under an algorithm its key was not
 * made for (the key pins the algorithm; there is no "none" and no HMAC),
 * never take a key from the token itself, never look at the claims before
 * the signature verified, never put the token or a string from it into an
 * error message, and never keep, log or return private key material except
 * through jwt_key_export_private(). No I/O and no clock: the caller passes
 * "now".
 */
#include "core/jwt.h"

#include "core/errors.h"
#include "core/secret.h"
#include "lib/jsonw.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

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

const char *jwt_alg_name(enum jwt_alg alg) {
    switch (alg) {
    case JWT_ALG_ES256: return "ES256";
    case JWT_ALG_EDDSA: return "EdDSA";
    case JWT_ALG_RS256: return "RS256";
    }
    return NULL;
}

/* ---- base64url ---- */

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t jwt_b64url_len(size_t n) {
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int jwt_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap, size_t *ret_len) {
    size_t need = jwt_b64url_len(n), o = 0, i = 0;
    if (n > SIZE_MAX / 2 || cap < need + 1)
        return LK_ERANGE;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    if (ret_len != NULL)
        *ret_len = o;
    return 0;
}

/* The 6-bit value of c, or -1 outside the base64url alphabet. */
static int b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *ret_len) {
    size_t rem = n % 4, need = n / 4 * 3 + (rem == 0 ? 0 : rem - 1), o = 0;
    uint32_t acc = 0;
    if (rem == 1)
        return LK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (b64url_value((unsigned char)in[i]) < 0)
            return LK_EINVAL;
    /* The bits the last character carries beyond the last byte must be zero. */
    if (rem == 2 && (b64url_value((unsigned char)in[n - 1]) & 0x0f) != 0)
        return LK_EINVAL;
    if (rem == 3 && (b64url_value((unsigned char)in[n - 1]) & 0x03) != 0)
        return LK_EINVAL;
    if (cap < need)
        return LK_ERANGE;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 6 | (uint32_t)b64url_value((unsigned char)in[i]);
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (rem == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (rem == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    *ret_len = o;
    return 0;
}

/* ---- keys ---- */

static struct jwt_key *key_wrap(EVP_PKEY *pkey, enum jwt_alg alg, int has_private) {
    struct jwt_key *key = calloc(1, sizeof(*key));
    if (key == NULL)
        return NULL;
    key->pkey = pkey;
    key->alg = alg;
    key->has_private = has_private;
    return key;
}

void jwt_key_free(struct jwt_key *key) {
    if (key == NULL)
        return;
    /* OpenSSL cleanses private key material when it frees it. */
    EVP_PKEY_free(key->pkey);
    free(key);
}

enum jwt_alg jwt_key_alg(const struct jwt_key *key) {
    return key->alg;
}

const char *jwt_key_kid(const struct jwt_key *key) {
    return key->kid;
}

int jwt_key_has_private(const struct jwt_key *key) {
    return key->has_private;
}

/* A big-number parameter of pkey as minimal big-endian bytes (pad 0) or
 * left-padded to pad bytes. Returns the length, or 0 on failure. */
static size_t bn_param(const EVP_PKEY *pkey, const char *name, uint8_t *out, size_t cap, size_t pad) {
    BIGNUM *bn = NULL;
    size_t r = 0;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return 0;
    int bytes = BN_num_bytes(bn);
    if (bytes <= 0 || (size_t)bytes > cap || (pad > 0 && (pad > cap || (size_t)bytes > pad)))
        goto out;
    if (pad > 0)
        r = BN_bn2binpad(bn, out, (int)pad) == (int)pad ? pad : 0;
    else
        r = BN_bn2bin(bn, out) == bytes ? (size_t)bytes : 0;
out:
    BN_free(bn);
    return r;
}

/* The base64url public members of key, each NUL-terminated. */
struct pub_members {
    char a[MEMBER_B64_MAX + 1]; /* EC x, OKP x, RSA n */
    char b[MEMBER_B64_MAX + 1]; /* EC y, RSA e; empty for OKP */
};

static int pub_members(const struct jwt_key *key, struct pub_members *m) {
    uint8_t buf[JWT_SIG_MAX];
    size_t len = 0;
    m->a[0] = m->b[0] = '\0';
    switch (key->alg) {
    case JWT_ALG_ES256:
        if (bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, buf, sizeof(buf), ES256_COORD_LEN) != ES256_COORD_LEN ||
            jwt_b64url_encode(buf, ES256_COORD_LEN, m->a, sizeof(m->a), NULL) != 0 ||
            bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, buf, sizeof(buf), ES256_COORD_LEN) != ES256_COORD_LEN ||
            jwt_b64url_encode(buf, ES256_COORD_LEN, m->b, sizeof(m->b), NULL) != 0)
            return LK_EINTERNAL;
        return 0;
    case JWT_ALG_EDDSA:
        len = ED25519_LEN;
        if (EVP_PKEY_get_raw_public_key(key->pkey, buf, &len) != 1 || len != ED25519_LEN ||
            jwt_b64url_encode(buf, len, m->a, sizeof(m->a), NULL) != 0)
            return LK_EINTERNAL;
        return 0;
    case JWT_ALG_RS256:
        if ((len = bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, buf, sizeof(buf), 0)) == 0 ||
            jwt_b64url_encode(buf, len, m->a, sizeof(m->a), NULL) != 0 ||
            (len = bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, buf, sizeof(buf), 0)) == 0 ||
            jwt_b64url_encode(buf, len, m->b, sizeof(m->b), NULL) != 0)
            return LK_EINTERNAL;
        return 0;
    }
    return LK_EINTERNAL;
}

/* Writes the required JWK members of key (RFC 7638 section 3.2) into w, in
 * lexicographic order; with the extra members too when full is set. */
static void write_jwk(struct jsonw *w, const struct jwt_key *key, const struct pub_members *m, int full) {
    jsonw_obj_begin(w);
    switch (key->alg) {
    case JWT_ALG_ES256:
        jsonw_key(w, "crv");
        jsonw_str(w, "P-256");
        jsonw_key(w, "kty");
        jsonw_str(w, "EC");
        jsonw_key(w, "x");
        jsonw_str(w, m->a);
        jsonw_key(w, "y");
        jsonw_str(w, m->b);
        break;
    case JWT_ALG_EDDSA:
        jsonw_key(w, "crv");
        jsonw_str(w, "Ed25519");
        jsonw_key(w, "kty");
        jsonw_str(w, "OKP");
        jsonw_key(w, "x");
        jsonw_str(w, m->a);
        break;
    case JWT_ALG_RS256:
        jsonw_key(w, "e");
        jsonw_str(w, m->b);
        jsonw_key(w, "kty");
        jsonw_str(w, "RSA");
        jsonw_key(w, "n");
        jsonw_str(w, m->a);
        break;
    }
    if (full) {
        jsonw_key(w, "kid");
        jsonw_str(w, key->kid);
        jsonw_key(w, "alg");
        jsonw_str(w, jwt_alg_name(key->alg));
        jsonw_key(w, "use");
        jsonw_str(w, "sig");
    }
    jsonw_obj_end(w);
}

int jwt_key_thumbprint(const struct jwt_key *key, char out[JWT_THUMBPRINT_LEN + 1]) {
    struct pub_members m;
    char json[JWT_JWK_MAX];
    uint8_t digest[SECRET_HASH_LEN];
    struct jsonw w;
    size_t len = 0;
    int r = pub_members(key, &m);
    if (r != 0)
        return r;
    jsonw_init(&w, json, sizeof(json));
    write_jwk(&w, key, &m, 0);
    if (jsonw_finish(&w, &len) != 0)
        return LK_EINTERNAL;
    secret_hash(json, len, digest);
    return jwt_b64url_encode(digest, sizeof(digest), out, JWT_THUMBPRINT_LEN + 1, NULL) == 0 ? 0 : LK_EINTERNAL;
}

static int set_kid_thumbprint(struct jwt_key *key) {
    return jwt_key_thumbprint(key, key->kid);
}

int jwt_key_public_jwk(const struct jwt_key *key, char *out, size_t cap, size_t *ret_len) {
    struct pub_members m;
    struct jsonw w;
    size_t len = 0;
    int r = pub_members(key, &m);
    if (r != 0)
        return r;
    if (cap == 0)
        return LK_ERANGE;
    jsonw_init(&w, out, cap - 1);
    write_jwk(&w, key, &m, 1);
    if (jsonw_finish(&w, &len) != 0)
        return LK_ERANGE;
    out[len] = '\0';
    if (ret_len != NULL)
        *ret_len = len;
    return 0;
}

int jwt_key_generate_es256(struct jwt_key **ret_key) {
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct jwt_key *key;
    if (pkey == NULL)
        return LK_EINTERNAL;
    key = key_wrap(pkey, JWT_ALG_ES256, 1);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return LK_ENOMEM;
    }
    if (set_kid_thumbprint(key) != 0) {
        jwt_key_free(key);
        return LK_EINTERNAL;
    }
    *ret_key = key;
    return 0;
}

int jwt_key_export_private(const struct jwt_key *key, uint8_t *out, size_t cap, size_t *ret_len) {
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    unsigned char *p = out;
    int n, r = 0;
    if (!key->has_private)
        return LK_EINVAL;
    p8 = EVP_PKEY2PKCS8(key->pkey);
    if (p8 == NULL)
        return LK_EINTERNAL;
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
    if (n <= 0) {
        r = LK_EINTERNAL;
        goto out;
    }
    if ((size_t)n > cap) {
        r = LK_ERANGE;
        goto out;
    }
    if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
        explicit_bzero(out, (size_t)n);
        r = LK_EINTERNAL;
        goto out;
    }
    *ret_len = (size_t)n;
out:
    /* Freeing a PKCS8_PRIV_KEY_INFO cleanses the key octets it holds. */
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

/* 1 if pkey is an EC key on P-256. */
static int is_p256(const EVP_PKEY *pkey) {
    char group[64];
    size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1)
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

int jwt_key_import_private(const uint8_t *der, size_t len, struct jwt_key **ret_key) {
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *check = NULL;
    struct jwt_key *key = NULL;
    enum jwt_alg alg;
    int r = LK_EINVAL;

    if (len == 0 || len > JWT_PRIVATE_DER_MAX)
        return LK_EINVAL;
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    if (p8 == NULL || p != der + len)
        goto out;
    pkey = EVP_PKCS82PKEY(p8);
    if (pkey == NULL)
        goto out;
    if (is_p256(pkey))
        alg = JWT_ALG_ES256;
    else if (EVP_PKEY_is_a(pkey, "ED25519"))
        alg = JWT_ALG_EDDSA;
    else
        goto out;
    /* The public point must belong to the private scalar (an EC key's DER
     * may carry both). */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    if (alg == JWT_ALG_ES256 && EVP_PKEY_check(check) != 1)
        goto out;
    key = key_wrap(pkey, alg, 1);
    if (key == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    pkey = NULL;
    if (set_kid_thumbprint(key) != 0) {
        r = LK_EINTERNAL;
        goto out;
    }
    *ret_key = key;
    key = NULL;
    r = 0;
out:
    if (r != 0)
        ERR_clear_error();
    jwt_key_free(key);
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_free(pkey);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

/* ---- public keys from JWK members ---- */

/* A public key from a param builder's params, of OpenSSL type name. */
static EVP_PKEY *pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld) {
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    if (params == NULL)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/* An ES256 public key from the 32-byte coordinates; NULL if the point is
 * not on P-256 (or is the point at infinity). */
static EVP_PKEY *ec_public(const uint8_t x[ES256_COORD_LEN], const uint8_t y[ES256_COORD_LEN]) {
    uint8_t point[1 + 2 * ES256_COORD_LEN];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *check = NULL;
    if (bld == NULL)
        return NULL;
    point[0] = 0x04; /* uncompressed (SEC 1, 2.3.3) */
    memcpy(point + 1, x, ES256_COORD_LEN);
    memcpy(point + 1 + ES256_COORD_LEN, y, ES256_COORD_LEN);
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1)
        goto out;
    pkey = pkey_fromdata("EC", bld);
    if (pkey == NULL)
        goto out;
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(check);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *rsa_public(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len) {
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL), *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    EVP_PKEY *pkey = NULL;
    if (bld == NULL || bn_n == NULL || bn_e == NULL)
        goto out;
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
        goto out;
    pkey = pkey_fromdata("RSA", bld);
out:
    BN_free(bn_n);
    BN_free(bn_e);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* ---- key sets ---- */

int jwt_keyset_new(struct jwt_keyset **ret_set) {
    struct jwt_keyset *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return LK_ENOMEM;
    *ret_set = set;
    return 0;
}

void jwt_keyset_free(struct jwt_keyset *set) {
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        jwt_key_free(set->keys[i]);
    free(set);
}

size_t jwt_keyset_count(const struct jwt_keyset *set) {
    return set->n;
}

const struct jwt_key *jwt_keyset_find(const struct jwt_keyset *set, const char *kid, size_t len) {
    for (size_t i = 0; i < set->n; i++) {
        const char *k = set->keys[i]->kid;
        if (strlen(k) == len && memcmp(k, kid, len) == 0)
            return set->keys[i];
    }
    return NULL;
}

int jwt_keyset_add(struct jwt_keyset *set, struct jwt_key *key) {
    if (jwt_keyset_find(set, key->kid, strlen(key->kid)) != NULL) {
        jwt_key_free(key);
        return LK_ECONFLICT;
    }
    if (set->n >= JWT_KEYSET_MAX) {
        jwt_key_free(key);
        return LK_ERANGE;
    }
    set->keys[set->n++] = key;
    return 0;
}

int jwt_keyset_to_jwks(const struct jwt_keyset *set, char *out, size_t cap, size_t *ret_len) {
    struct jsonw w;
    size_t len = 0;
    if (cap == 0)
        return LK_ERANGE;
    jsonw_init(&w, out, cap - 1);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "keys");
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < set->n; i++) {
        struct pub_members m;
        int r = pub_members(set->keys[i], &m);
        if (r != 0)
            return r;
        write_jwk(&w, set->keys[i], &m, 1);
    }
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    if (jsonw_finish(&w, &len) != 0)
        return LK_ERANGE;
    out[len] = '\0';
    if (ret_len != NULL)
        *ret_len = len;
    return 0;
}

/*
 * Decodes the base64url string member name of jwk into out (cap bytes).
 * Returns the length, or -1 (with err set naming key index i) if the member
 * is missing, not a string or not canonical base64url, or decodes to more
 * than cap bytes.
 */
static long jwk_bytes(const json_t *jwk, const char *name, size_t i, uint8_t *out, size_t cap, struct lk_error *err) {
    const json_t *v = json_object_get(jwk, name);
    size_t len = 0;
    if (!json_is_string(v)) {
        lk_error_set(err, LK_EINVAL, "JWKS key %zu: \"%s\" missing or not a string", i, name);
        return -1;
    }
    if (jwt_b64url_decode(json_string_value(v), json_string_length(v), out, cap, &len) != 0) {
        lk_error_set(err, LK_EINVAL, "JWKS key %zu: \"%s\" is not base64url of the right size", i, name);
        return -1;
    }
    return (long)len;
}

/* The string member name of jwk, NULL if absent; *bad set if present but
 * not a string. */
static const char *jwk_str(const json_t *jwk, const char *name, int *bad) {
    const json_t *v = json_object_get(jwk, name);
    if (v == NULL)
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/*
 * Reads the JWK at index i. Returns 0 with *ret_key set (or NULL when the
 * key is not one latchkey verifies with, so it is skipped), or a negative
 * code with err set.
 */
static int jwk_read(const json_t *jwk, size_t i, struct jwt_key **ret_key, struct lk_error *err) {
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    uint8_t a[JWT_SIG_MAX], b[JWT_SIG_MAX];
    EVP_PKEY *pkey = NULL;
    struct jwt_key *key = NULL;
    enum jwt_alg alg;
    int bad = 0;
    long alen, blen;

    *ret_key = NULL;
    if (!json_is_object(jwk))
        return lk_error_set(err, LK_EINVAL, "JWKS key %zu is not a JSON object", i);
    const char *kty = jwk_str(jwk, "kty", &bad), *crv = jwk_str(jwk, "crv", &bad);
    const char *use = jwk_str(jwk, "use", &bad), *alg_s = jwk_str(jwk, "alg", &bad);
    const char *kid = jwk_str(jwk, "kid", &bad);
    if (bad || kty == NULL)
        return lk_error_set(err, LK_EINVAL, "JWKS key %zu: kty, crv, use, alg and kid must be strings (kty required)",
                            i);
    for (size_t k = 0; k < sizeof(private_members) / sizeof(private_members[0]); k++)
        if (json_object_get(jwk, private_members[k]) != NULL)
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu holds private key material", i);
    if (use != NULL && strcmp(use, "sig") != 0)
        return 0;
    if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
        alg = JWT_ALG_ES256;
    else if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0)
        alg = JWT_ALG_EDDSA;
    else if (strcmp(kty, "RSA") == 0)
        alg = JWT_ALG_RS256;
    else
        return 0; /* oct, P-384, X25519, ...: not ours to verify with */
    if (alg_s != NULL && strcmp(alg_s, jwt_alg_name(alg)) != 0) {
        /* RS384 or ES512 on a key we could read is only not ours; an alg of
         * another family is a contradiction in the document. */
        if ((alg == JWT_ALG_RS256 &&
             (strcmp(alg_s, "RS384") == 0 || strcmp(alg_s, "RS512") == 0 || strncmp(alg_s, "PS", 2) == 0)))
            return 0;
        return lk_error_set(err, LK_EINVAL, "JWKS key %zu: alg does not match kty %s", i, kty);
    }
    if (kid != NULL && (kid[0] == '\0' || strlen(kid) > JWT_KID_MAX))
        return lk_error_set(err, LK_EINVAL, "JWKS key %zu: kid must be 1..%d characters", i, JWT_KID_MAX);

    switch (alg) {
    case JWT_ALG_ES256:
        if ((alen = jwk_bytes(jwk, "x", i, a, ES256_COORD_LEN, err)) < 0 ||
            (blen = jwk_bytes(jwk, "y", i, b, ES256_COORD_LEN, err)) < 0)
            return err != NULL ? err->code : LK_EINVAL;
        if (alen != ES256_COORD_LEN || blen != ES256_COORD_LEN)
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: x and y must be 32 bytes each", i);
        pkey = ec_public(a, b);
        if (pkey == NULL) {
            ERR_clear_error();
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: not a point on P-256", i);
        }
        break;
    case JWT_ALG_EDDSA:
        if ((alen = jwk_bytes(jwk, "x", i, a, ED25519_LEN, err)) < 0)
            return err != NULL ? err->code : LK_EINVAL;
        if (alen != ED25519_LEN)
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: x must be 32 bytes", i);
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, ED25519_LEN);
        if (pkey == NULL) {
            ERR_clear_error();
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: not an Ed25519 public key", i);
        }
        break;
    case JWT_ALG_RS256:
        if ((alen = jwk_bytes(jwk, "n", i, a, sizeof(a), err)) < 0 ||
            (blen = jwk_bytes(jwk, "e", i, b, RSA_E_MAX, err)) < 0)
            return err != NULL ? err->code : LK_EINVAL;
        if (alen == 0 || a[0] == 0 || blen == 0 || b[0] == 0)
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: n and e must have no leading zero octet", i);
        if ((b[blen - 1] & 1) == 0 || (blen == 1 && b[0] == 1))
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: e must be odd and above 1", i);
        pkey = rsa_public(a, (size_t)alen, b, (size_t)blen);
        if (pkey == NULL) {
            ERR_clear_error();
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: not an RSA public key", i);
        }
        if (EVP_PKEY_get_bits(pkey) < JWT_RSA_MIN_BITS || EVP_PKEY_get_bits(pkey) > JWT_RSA_MAX_BITS) {
            EVP_PKEY_free(pkey);
            return lk_error_set(err, LK_EINVAL, "JWKS key %zu: RSA modulus must be %d..%d bits", i, JWT_RSA_MIN_BITS,
                                JWT_RSA_MAX_BITS);
        }
        break;
    }
    key = key_wrap(pkey, alg, 0);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return lk_error_set(err, LK_ENOMEM, NULL);
    }
    if (kid != NULL) {
        memcpy(key->kid, kid, strlen(kid) + 1);
    } else if (set_kid_thumbprint(key) != 0) {
        jwt_key_free(key);
        return lk_error_set(err, LK_EINTERNAL, NULL);
    }
    *ret_key = key;
    return 0;
}

int jwt_keyset_from_jwks(const char *json, size_t len, struct jwt_keyset **ret_set, struct lk_error *err) {
    struct jwt_keyset *set = NULL;
    json_t *doc = NULL;
    const json_t *keys;
    json_error_t jerr;
    int r;

    if (len > JWT_JWKS_MAX)
        return lk_error_set(err, LK_ETOOBIG, "JWKS longer than %d bytes", JWT_JWKS_MAX);
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc)) {
        r = lk_error_set(err, LK_EINVAL, "JWKS is not a JSON object");
        goto out;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        r = lk_error_set(err, LK_EINVAL, "JWKS has no \"keys\" array");
        goto out;
    }
    if ((r = jwt_keyset_new(&set)) != 0) {
        lk_error_set(err, r, NULL);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        struct jwt_key *key = NULL;
        if ((r = jwk_read(json_array_get(keys, i), i, &key, err)) != 0)
            goto out;
        if (key == NULL)
            continue;
        r = jwt_keyset_add(set, key);
        if (r == LK_ECONFLICT) {
            r = lk_error_set(err, LK_EINVAL, "JWKS key %zu: a second key with the same kid", i);
            goto out;
        }
        if (r != 0) {
            r = lk_error_set(err, LK_EINVAL, "JWKS holds more than %d usable keys", JWT_KEYSET_MAX);
            goto out;
        }
    }
    if (set->n == 0) {
        r = lk_error_set(err, LK_EINVAL, "JWKS holds no key latchkey can verify with");
        goto out;
    }
    *ret_set = set;
    set = NULL;
    r = 0;
out:
    jwt_keyset_free(set);
    json_decref(doc);
    return r;
}

/* ---- signatures ---- */

static const char *md_name(enum jwt_alg alg) {
    return alg == JWT_ALG_EDDSA ? NULL : "SHA256";
}

int jwt_signature_verify(const struct jwt_key *key, const char *input, size_t input_len, const uint8_t *sig,
                         size_t sig_len) {
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    unsigned char *der = NULL;
    const unsigned char *check = sig;
    size_t check_len = sig_len;
    int r = LK_EBADTOKEN;

    switch (key->alg) {
    case JWT_ALG_ES256:
        if (sig_len != ES256_SIG_LEN)
            return LK_EBADTOKEN;
        /* JOSE's R||S (RFC 7518 section 3.4) as the DER OpenSSL verifies. */
        es = ECDSA_SIG_new();
        br = BN_bin2bn(sig, ES256_COORD_LEN, NULL);
        bs = BN_bin2bn(sig + ES256_COORD_LEN, ES256_COORD_LEN, NULL);
        if (es == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(es, br, bs) != 1) {
            BN_free(br);
            BN_free(bs);
            r = LK_ENOMEM;
            goto out;
        }
        int n = i2d_ECDSA_SIG(es, &der);
        if (n <= 0) {
            r = LK_EINTERNAL;
            goto out;
        }
        check = der;
        check_len = (size_t)n;
        break;
    case JWT_ALG_EDDSA:
        if (sig_len != ED25519_SIG_LEN)
            return LK_EBADTOKEN;
        break;
    case JWT_ALG_RS256:
        if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey))
            return LK_EBADTOKEN;
        break;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit_ex(ctx, &pctx, md_name(key->alg), NULL, NULL, key->pkey, NULL) != 1 ||
        (key->alg == JWT_ALG_RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
        r = LK_EINTERNAL;
        goto out;
    }
    r = EVP_DigestVerify(ctx, check, check_len, (const unsigned char *)input, input_len) == 1 ? 0 : LK_EBADTOKEN;
out:
    if (r != 0)
        ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return r;
}

/* Signs input[0..len) with key into sig (JWT_SIG_MAX bytes) in JOSE form.
 * Returns 0 with *ret_len set, or LK_ENOMEM/LK_EINTERNAL. */
static int sign_raw(const struct jwt_key *key, const char *input, size_t len, uint8_t *sig, size_t *ret_len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[JWT_SIG_MAX];
    size_t der_len = sizeof(der);
    const unsigned char *p = der;
    ECDSA_SIG *es = NULL;
    int r = LK_EINTERNAL;
    if (ctx == NULL)
        return LK_ENOMEM;
    if (EVP_DigestSignInit_ex(ctx, NULL, md_name(key->alg), NULL, NULL, key->pkey, NULL) != 1 ||
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, len) != 1)
        goto out;
    if (key->alg == JWT_ALG_EDDSA) {
        if (der_len != ED25519_SIG_LEN)
            goto out;
        memcpy(sig, der, der_len);
        *ret_len = der_len;
        r = 0;
        goto out;
    }
    /* OpenSSL's DER ECDSA-Sig-Value to JOSE's fixed-width R||S. */
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (es == NULL || p != der + der_len)
        goto out;
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, ES256_COORD_LEN) != ES256_COORD_LEN ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + ES256_COORD_LEN, ES256_COORD_LEN) != ES256_COORD_LEN)
        goto out;
    *ret_len = ES256_SIG_LEN;
    r = 0;
out:
    if (r != 0)
        ERR_clear_error();
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return r;
}

int jwt_sign(const struct jwt_key *key, const json_t *claims, char *out, size_t cap, size_t *ret_len) {
    char header[JWT_KID_MAX + 64], *payload = NULL, *buf = NULL;
    uint8_t sig[JWT_SIG_MAX];
    size_t header_len = 0, payload_len, sig_len = 0, total, o, n = 0;
    struct jsonw w;
    int r;

    if (!key->has_private || key->alg == JWT_ALG_RS256 || !json_is_object(claims))
        return LK_EINVAL;
    jsonw_init(&w, header, sizeof(header));
    jsonw_obj_begin(&w);
    jsonw_key(&w, "alg");
    jsonw_str(&w, jwt_alg_name(key->alg));
    jsonw_key(&w, "kid");
    jsonw_str(&w, key->kid);
    jsonw_key(&w, "typ");
    jsonw_str(&w, "JWT");
    jsonw_obj_end(&w);
    if (jsonw_finish(&w, &header_len) != 0)
        return LK_EINTERNAL;
    /* NULL also for a string that is not UTF-8 (jansson's nocheck strings). */
    payload = json_dumps(claims, JSON_COMPACT);
    if (payload == NULL)
        return LK_EINVAL;
    payload_len = strlen(payload);
    if (payload_len > JWT_TOKEN_MAX) {
        r = LK_ERANGE;
        goto out;
    }
    /* Sign only what jwt_verify() reads back (no NUL in a string, no
     * duplicate member). */
    json_error_t jerr;
    json_t *back = json_loadb(payload, payload_len, JSON_REJECT_DUPLICATES, &jerr);
    if (back == NULL) {
        r = LK_EINVAL;
        goto out;
    }
    json_decref(back);
    total = jwt_b64url_len(header_len) + 1 + jwt_b64url_len(payload_len) + 1 + jwt_b64url_len(ES256_SIG_LEN);
    if (total > JWT_TOKEN_MAX || total + 1 > cap) {
        r = LK_ERANGE;
        goto out;
    }
    buf = malloc(total + 1);
    if (buf == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    o = 0;
    if ((r = jwt_b64url_encode((const uint8_t *)header, header_len, buf, total + 1, &n)) != 0)
        goto out;
    o += n;
    buf[o++] = '.';
    if ((r = jwt_b64url_encode((const uint8_t *)payload, payload_len, buf + o, total + 1 - o, &n)) != 0)
        goto out;
    o += n;
    if ((r = sign_raw(key, buf, o, sig, &sig_len)) != 0)
        goto out;
    buf[o++] = '.';
    if ((r = jwt_b64url_encode(sig, sig_len, buf + o, total + 1 - o, &n)) != 0)
        goto out;
    o += n;
    memcpy(out, buf, o + 1);
    if (ret_len != NULL)
        *ret_len = o;
    r = 0;
out:
    free(buf);
    free(payload);
    return r;
}

/* ---- verification ---- */

/* Registered JWS "alg" names (RFC 7518 section 3.1, RFC 8037): the only
 * header values an error message repeats. */
static const char *known_alg(const char *alg) {
    static const char *const names[] = {"none",  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                        "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(alg, names[i]) == 0)
            return names[i];
    return NULL;
}

/* Decodes one base64url part into a new buffer of at most max bytes. */
static int decode_part(const char *part, size_t len, size_t max, uint8_t **ret_buf, size_t *ret_len) {
    uint8_t *buf;
    int r;
    if (len == 0 || len > jwt_b64url_len(max))
        return LK_EBADTOKEN;
    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL)
        return LK_ENOMEM;
    r = jwt_b64url_decode(part, len, buf, len / 4 * 3 + 3, ret_len);
    if (r != 0 || *ret_len > max) {
        free(buf);
        return LK_EBADTOKEN;
    }
    *ret_buf = buf;
    return 0;
}

/* A NumericDate claim as whole seconds: 1 if present, 0 if absent, -1 if
 * malformed. round_up chooses ceil for fractions (else floor). */
static int numeric_date(const json_t *claims, const char *name, int round_up, int64_t *ret) {
    const json_t *v = json_object_get(claims, name);
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        if (t < 0 || t > JWT_TIME_MAX)
            return -1;
        *ret = (int64_t)t;
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0 && d <= (double)JWT_TIME_MAX))
            return -1;
        int64_t t = (int64_t)d;
        if (round_up && (double)t < d)
            t++;
        *ret = t;
        return 1;
    }
    return -1;
}

static int audience_holds(const json_t *aud, const char *want, int *malformed) {
    size_t i;
    const json_t *v;
    *malformed = 0;
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud)) {
        *malformed = aud != NULL;
        return 0;
    }
    int found = 0;
    json_array_foreach(aud, i, v) {
        if (!json_is_string(v)) {
            *malformed = 1;
            return 0;
        }
        if (strcmp(json_string_value(v), want) == 0)
            found = 1;
    }
    return found;
}

/* Checks the claims of a token whose signature verified. */
static int check_claims(const json_t *claims, const struct jwt_expect *want, struct lk_error *err) {
    int64_t exp = 0, nbf = 0, iat = 0, now = want->now, leeway = want->leeway;
    int has_exp, has_nbf, has_iat, malformed;
    const json_t *iss;

    if (leeway < 0)
        leeway = 0;
    if (leeway > JWT_LEEWAY_MAX)
        leeway = JWT_LEEWAY_MAX;
    /* Far outside any NumericDate either way; keeps the sums below exact. */
    if (now < -JWT_TIME_MAX)
        now = -JWT_TIME_MAX;
    if (now > 2 * JWT_TIME_MAX)
        now = 2 * JWT_TIME_MAX;
    has_exp = numeric_date(claims, "exp", 0, &exp);
    has_nbf = numeric_date(claims, "nbf", 1, &nbf);
    has_iat = numeric_date(claims, "iat", 0, &iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: exp, nbf and iat must be NumericDates");
    if (has_exp == 0)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: no exp claim");
    if (now >= exp + leeway)
        return lk_error_set(err, LK_EEXPIRED, "token expired at %lld", (long long)exp);
    if (has_nbf && now + leeway < nbf)
        return lk_error_set(err, LK_EBADTOKEN, "token not yet valid (until %lld)", (long long)nbf);
    if (has_iat && iat > now + leeway)
        return lk_error_set(err, LK_EBADTOKEN, "token issued in the future");
    iss = json_object_get(claims, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), want->issuer) != 0)
        return lk_error_set(err, LK_EBADTOKEN, "issuer: the token is not from the expected issuer");
    if (!audience_holds(json_object_get(claims, "aud"), want->audience, &malformed)) {
        if (malformed)
            return lk_error_set(err, LK_EBADTOKEN, "malformed token: aud is neither a string nor strings");
        return lk_error_set(err, LK_EBADTOKEN, "audience: the token is not meant for this audience");
    }
    return 0;
}

int jwt_verify(const struct jwt_keyset *keys, const char *token, size_t len, const struct jwt_expect *want,
               json_t **ret_claims, struct lk_error *err) {
    const char *dot1, *dot2, *end = token + len;
    uint8_t *hbuf = NULL, *pbuf = NULL, *sbuf = NULL;
    size_t hlen = 0, plen = 0, slen = 0;
    json_t *header = NULL, *claims = NULL;
    const json_t *alg, *kid;
    const struct jwt_key *key;
    json_error_t jerr;
    int r;

    if (keys == NULL || want == NULL || want->issuer == NULL || want->audience == NULL)
        return lk_error_set(err, LK_EINVAL, "jwt_verify: key set, issuer and audience are required");
    if (token == NULL || len == 0)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: empty");
    if (len > JWT_TOKEN_MAX)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: longer than %d bytes", JWT_TOKEN_MAX);
    dot1 = memchr(token, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: not three dot-separated parts");
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == end)
        return lk_error_set(err, LK_EBADTOKEN, "malformed token: an empty part");

    r = decode_part(token, (size_t)(dot1 - token), JWT_HEADER_MAX, &hbuf, &hlen);
    if (r != 0) {
        r = lk_error_set(err, r, r == LK_EBADTOKEN ? "malformed token: header is not base64url" : NULL);
        goto out;
    }
    header = json_loadb((const char *)hbuf, hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(header)) {
        r = lk_error_set(err, LK_EBADTOKEN, "malformed token: header is not a JSON object");
        goto out;
    }
    /* No extension is understood, so a critical one can never be honoured
     * (RFC 7515 section 4.1.11). */
    if (json_object_get(header, "crit") != NULL) {
        r = lk_error_set(err, LK_EBADTOKEN, "malformed token: crit header not supported");
        goto out;
    }
    alg = json_object_get(header, "alg");
    if (!json_is_string(alg)) {
        r = lk_error_set(err, LK_EBADTOKEN, "malformed token: header has no alg");
        goto out;
    }
    kid = json_object_get(header, "kid");
    if (!json_is_string(kid)) {
        r = lk_error_set(err, LK_EBADTOKEN, "malformed token: header has no kid");
        goto out;
    }
    key = jwt_keyset_find(keys, json_string_value(kid), json_string_length(kid));
    if (key == NULL) {
        r = lk_error_set(err, LK_EBADTOKEN, "unknown kid");
        goto out;
    }
    /* The key decides the algorithm; the header may only agree with it. */
    if (strcmp(json_string_value(alg), jwt_alg_name(key->alg)) != 0) {
        const char *shown = known_alg(json_string_value(alg));
        r = lk_error_set(err, LK_EBADTOKEN, "algorithm %s not allowed for this key (%s)",
                         shown != NULL ? shown : "(unregistered)", jwt_alg_name(key->alg));
        goto out;
    }

    r = decode_part(dot2 + 1, (size_t)(end - dot2 - 1), JWT_SIG_MAX, &sbuf, &slen);
    if (r != 0) {
        r = lk_error_set(err, r, r == LK_EBADTOKEN ? "malformed token: signature is not base64url" : NULL);
        goto out;
    }
    r = jwt_signature_verify(key, token, (size_t)(dot2 - token), sbuf, slen);
    if (r != 0) {
        r = lk_error_set(err, r, r == LK_EBADTOKEN ? "signature does not verify" : NULL);
        goto out;
    }

    /* From here the payload is the issuer's. */
    r = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), JWT_TOKEN_MAX, &pbuf, &plen);
    if (r != 0) {
        r = lk_error_set(err, r, r == LK_EBADTOKEN ? "malformed token: payload is not base64url" : NULL);
        goto out;
    }
    claims = json_loadb((const char *)pbuf, plen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        r = lk_error_set(err, LK_EBADTOKEN, "malformed token: claims are not a JSON object");
        goto out;
    }
    if ((r = check_claims(claims, want, err)) != 0)
        goto out;
    if (ret_claims != NULL) {
        *ret_claims = claims;
        claims = NULL;
    }
    r = 0;
out:
    json_decref(claims);
    json_decref(header);
    free(hbuf);
    free(pbuf);
    free(sbuf);
    return r;
}
