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

/* The 6-bit value of each byte, -1 outside the base64url alphabet
 * (A-Z a-z 0-9 - _): a table, since every credential that looks like a
 * JWT is scanned with it on the hot path. */
static const signed char b64url_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
    -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, -1, -1, -1, -1, 63, -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64url_value(unsigned char c) {
    return b64url_values[c];
}

size_t jwt_b64url_span(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && b64url_values[(unsigned char)s[i]] >= 0)
        i++;
    return i;
}

int jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *ret_len) {
    size_t rem = n % 4, need = n / 4 * 3 + (rem == 0 ? 0 : rem - 1), o = 0;
    uint32_t acc = 0;
    if (rem == 1)
        return LK_EINVAL;
    if (jwt_b64url_span(in, n) != n)
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
