/*
 * jwk.c - the keys of core/jwt.h: generating and importing them, their
 * JWK form and RFC 7638 thumbprints, and JWK sets (a JWKS document in and
 * out). Never keeps, logs or returns private key material except through
 * jwt_key_export_private(); a JWK written here never holds a private
 * member, and one read here may not.
 */
#include "core/jwt.h"

#include "core/errors.h"
#include "core/jwt_internal.h"
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
