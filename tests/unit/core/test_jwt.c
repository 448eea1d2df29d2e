/*
 * test_jwt.c - unit tests for JWS/JWT (core/jwt.h): base64url against
 * RFC 4648 and RFC 7515 vectors, thumbprints against RFC 7638 and RFC 8037,
 * signatures against RFC 7515 A.3 (ES256) and tokens made outside latchkey
 * (RS256 and EdDSA, by Python's cryptography package), sign/verify round
 * trips, key export and import, JWKS reading, and a table of tokens that
 * must be refused, each with the message naming the check that failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/jwt.h"
#include "core/secret.h"

#include "unit_assert.h"

#define NOW INT64_C(1700000000)
#define ISS "https://latchkey.example"
#define AUD "spiffe://example.org"

/* ---- RFC and outside vectors ---- */

/* RFC 7515 A.3: ES256 key and token (its header has no kid). */
static const char rfc7515_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char rfc7515_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char rfc7515_es256[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7638 section 3.1: an RSA key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB"
    "ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8"
    "KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_"
    "xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 8037 A.2 and A.3: an Ed25519 public key and its thumbprint. */
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc8037_thumbprint[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/*
 * Tokens signed by Python's cryptography package, both with the claims
 * {"iss":"https://issuer.example","aud":["other","latchkey"],
 * "sub":"spiffe://example.org/w","exp":2000000000,"nbf":1600000000,
 * "iat":1600000000}: RS256 under a fresh 2048-bit key (kid "rsa-1"), EdDSA
 * under RFC 8037's key (kid "ed-1"). Both schemes are deterministic.
 */
static const char outside_rsa_n[] =
    "qek_PPvbwbpbj5kEZpgrjT-0nvEFPIzb0dqcWMNWrt5BadsBRiBmBPRL3P_83Iz6WBwkXns1hrbKkUx3IDurnxJ8zl9r9RYYfFF-"
    "7rZWauQtrUIoXqAJkKk9RnvmVTovt-7uEbhSYa4ovny2rvBsgMzewd7RRiYKBkcLUcgANUuMcYCCBesBY-waUBEp2ur4_bJfjLpt"
    "riQ0LZwUw8AmNjYvjUb6DcnzQDEkUqzv7eNWL_rq0g1IaKec5wtiM0SWP2XbXaFeMEOmFd6n2LPy58fZmZAI7uq9CyWAOU1wXdMz"
    "FYVIIH6nlufAV2kJTrIPfbw2rnihl6kkctXYL6KR9w";
static const char outside_rs256[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwi"
    "YXVkIjpbIm90aGVyIiwibGF0Y2hrZXkiXSwic3ViIjoic3BpZmZlOi8vZXhhbXBsZS5vcmcvdyIsImV4cCI6MjAwMDAwMDAwMCwi"
    "bmJmIjoxNjAwMDAwMDAwLCJpYXQiOjE2MDAwMDAwMDB9.PmDhT_ev-bzD8tFlH-rPe90TzE0Ra0kNqMOMOwenJM5sxEz-ROs8Q4r"
    "ZECqF9ORj3C3H7c5tQrFUKNN3iOJMfnC84ANYDPiowMN6lXcTJ26cEykR8SwHetw6zVRcgloshIISFtY_IuDWshGWgfZ5iJ4BQZx"
    "GYleSWEzrqsozuT2LCaVtPuf9JqVMFtZvemsxxwhq8gB4nc7JbfIB1bgmrDeZknxs8qLHQJzRKOzlF3GFeqt1dDjPQWSX4sBrZ_s"
    "Y8-2gKCKTxiIELzmrw7twMOZmy6jKQ5gMCrFBr3WO3xabHRNsfc-aNqafEk2qyj8TCVkV_MhoHP3NCUSpVlCLuQ";
static const char outside_eddsa[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiY"
    "XVkIjpbIm90aGVyIiwibGF0Y2hrZXkiXSwic3ViIjoic3BpZmZlOi8vZXhhbXBsZS5vcmcvdyIsImV4cCI6MjAwMDAwMDAwMCwib"
    "mJmIjoxNjAwMDAwMDAwLCJpYXQiOjE2MDAwMDAwMDB9.C983nS37_v3A044iBmyllY-EN7HFTgrQTUAmV7J8ou-i9tkRRVM9Zm3s"
    "FlfIRbmq2dsdOFxmhBQaHIP5OvDbAQ";
/* A 1024-bit modulus: below JWT_RSA_MIN_BITS. */
static const char rsa1024_n[] =
    "vRNe0ap-DIKEaO3WaacnUGIEPMBjSlJtjMPm7TT9f1Iq8Og6vaNH-0l1nMmLyVryhWRFclIyD9uqSDpHtQss-hE6owKj2u0b4_Di"
    "FSL9wEIB185Yp4-73jANV7kjqv2gv0fk0MIQqJyOE8-14CTI0No4q8mNAMBA7b18sq-OKuU";

/* ---- helpers ---- */

static char *b64(const void *data, size_t n) {
    size_t cap = jwt_b64url_len(n) + 1;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_i64_eq(jwt_b64url_encode(data, n, out, cap, NULL), 0);
    return out;
}

/* header.payload.sig from the JSON texts and the already-encoded signature. */
static char *make_token(const char *header, const char *payload, const char *sig_b64) {
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    size_t cap = strlen(h) + strlen(p) + strlen(sig_b64) + 3;
    char *t = malloc(cap);
    assert_non_null(t);
    snprintf(t, cap, "%s.%s.%s", h, p, sig_b64);
    free(h);
    free(p);
    return t;
}

static struct jwt_keyset *jwks_set(const char *jwks) {
    struct jwt_keyset *set = NULL;
    struct lk_error err = {0};
    int r = jwt_keyset_from_jwks(jwks, strlen(jwks), &set, &err);
    if (r != 0)
        fail_msg("jwt_keyset_from_jwks: %s (%d)", lk_error_message(&err), r);
    return set;
}

/* A signing key and a verifying set read back from its published JWKS. */
struct fixture {
    struct jwt_keyset *signers; /* owns the private key */
    const struct jwt_key *key;
    struct jwt_keyset *verifiers; /* public only, from JWKS text */
    char kid[JWT_KID_MAX + 1];
};

static void fixture_init(struct fixture *f) {
    struct jwt_key *key = NULL;
    char jwks[4096];
    assert_i64_eq(jwt_key_generate_es256(&key), 0);
    assert_i64_eq(jwt_keyset_new(&f->signers), 0);
    assert_i64_eq(jwt_keyset_add(f->signers, key), 0);
    f->key = key;
    snprintf(f->kid, sizeof(f->kid), "%s", jwt_key_kid(key));
    assert_i64_eq(jwt_keyset_to_jwks(f->signers, jwks, sizeof(jwks), NULL), 0);
    f->verifiers = jwks_set(jwks);
    assert_i64_eq(jwt_keyset_count(f->verifiers), 1);
}

static void fixture_done(struct fixture *f) {
    jwt_keyset_free(f->signers);
    jwt_keyset_free(f->verifiers);
}

static json_t *claims_std(void) {
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", ISS, "aud", AUD, "sub", "spiffe://example.org/ns/w",
                          "exp", (json_int_t)(NOW + 300), "iat", (json_int_t)NOW);
    assert_non_null(c);
    return c;
}

static char *sign_claims(const struct fixture *f, json_t *claims) {
    char *tok = malloc(JWT_TOKEN_MAX + 1);
    size_t len = 0;
    assert_non_null(tok);
    assert_i64_eq(jwt_sign(f->key, claims, tok, JWT_TOKEN_MAX + 1, &len), 0);
    assert_i64_eq(strlen(tok), len);
    json_decref(claims);
    return tok;
}

static const struct jwt_expect want_std = {.issuer = ISS, .audience = AUD, .now = NOW, .leeway = 0};

/* Verifies tok against set and want; fails unless it returns code with a
 * message containing needle, and the message holds no part of the token. */
static void expect_refusal(const struct jwt_keyset *set, const char *tok, const struct jwt_expect *want, int code,
                           const char *needle) {
    struct lk_error err = {0};
    json_t *claims = (json_t *)&err; /* sentinel: must stay untouched */
    int r = jwt_verify(set, tok, strlen(tok), want, &claims, &err);
    if (r != code)
        fail_msg("verify returned %s (%d), expected %s (%d); message: %s", lk_errname(r), r, lk_errname(code), code,
                 lk_error_message(&err));
    assert_ptr_equal(claims, (json_t *)&err);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" does not name \"%s\"", err.msg, needle);
    /* No 8-character run of the token appears in the message. */
    size_t tl = strlen(tok);
    for (size_t i = 0; i + 8 <= tl; i++) {
        char run[9];
        memcpy(run, tok + i, 8);
        run[8] = '\0';
        if (strstr(err.msg, run) != NULL)
            fail_msg("message \"%s\" echoes the token (\"%s\")", err.msg, run);
    }
}

static void expect_ok(const struct jwt_keyset *set, const char *tok, const struct jwt_expect *want) {
    struct lk_error err = {0};
    json_t *claims = NULL;
    int r = jwt_verify(set, tok, strlen(tok), want, &claims, &err);
    if (r != 0)
        fail_msg("verify refused a good token: %s (%d)", lk_error_message(&err), r);
    assert_non_null(claims);
    json_decref(claims);
}

/* ---- base64url ---- */

static void check_encode(const char *in, size_t n, const char *want) {
    char out[64];
    size_t len = 0;
    uint8_t back[64];
    assert_i64_eq(jwt_b64url_encode((const uint8_t *)in, n, out, sizeof(out), &len), 0);
    assert_string_equal(out, want);
    assert_i64_eq(len, strlen(want));
    assert_i64_eq(jwt_b64url_len(n), strlen(want));
    assert_i64_eq(jwt_b64url_decode(want, len, back, sizeof(back), &len), 0);
    assert_i64_eq(len, n);
    assert_memory_equal(back, in, n);
}

static void test_b64url_vectors(void **state) {
    /* RFC 4648 section 10, padding dropped. */
    check_encode("", 0, "");
    check_encode("f", 1, "Zg");
    check_encode("fo", 2, "Zm8");
    check_encode("foo", 3, "Zm9v");
    check_encode("foob", 4, "Zm9vYg");
    check_encode("fooba", 5, "Zm9vYmE");
    check_encode("foobar", 6, "Zm9vYmFy");
    /* RFC 7515 appendix C: the octets 3 236 255 224 193, using - and _. */
    check_encode("\x03\xec\xff\xe0\xc1", 5, "A-z_4ME");
    /* RFC 7515 A.1.1: the example header, CRLF and all. */
    const char hdr[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    check_encode(hdr, strlen(hdr), "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
}

static void test_b64url_refuses_non_canonical(void **state) {
    static const char *const bad[] = {
        "Zg==", "Zg=", "Zm9v=", "Zm 9v", "Zm9v\n", " Zm9v", "Zm+v", "Zm/v", "Z", "Zm9vY", "Zh", "Zm9", "Zm\0v", "Zm.v",
    };
    static const size_t lens[] = {4, 3, 5, 5, 5, 5, 4, 4, 1, 5, 2, 3, 4, 4};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = 777;
        int r = jwt_b64url_decode(bad[i], lens[i], out, sizeof(out), &len);
        if (r != LK_EINVAL)
            fail_msg("decode of bad[%zu] returned %d, expected LK_EINVAL", i, r);
        assert_i64_eq(len, 777);
    }
    /* "Zm8" is canonical ("fo"); "Zm9" carries non-zero spare bits. */
    size_t len = 0;
    assert_i64_eq(jwt_b64url_decode("Zm8", 3, out, sizeof(out), &len), 0);
    assert_i64_eq(len, 2);
}

static void test_b64url_sizes(void **state) {
    char small[5];
    uint8_t two[2];
    size_t len = 777;
    assert_i64_eq(jwt_b64url_encode((const uint8_t *)"foo", 3, small, 4, NULL), LK_ERANGE); /* no room for NUL */
    assert_i64_eq(jwt_b64url_encode((const uint8_t *)"foo", 3, small, 5, NULL), 0);
    assert_i64_eq(jwt_b64url_decode("Zm9v", 4, two, sizeof(two), &len), LK_ERANGE);
    assert_i64_eq(len, 777);
}

/* ---- keys, thumbprints, JWKs ---- */

static void test_rfc7638_thumbprint_of_rsa_key(void **state) {
    char jwks[1024], tp[JWT_THUMBPRINT_LEN + 1];
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"alg\":\"RS256\"}]}",
             rfc7638_n);
    struct jwt_keyset *set = jwks_set(jwks);
    const struct jwt_key *key = jwt_keyset_find(set, rfc7638_thumbprint, strlen(rfc7638_thumbprint));
    assert_non_null(key); /* a JWK without kid is known by its thumbprint */
    assert_i64_eq(jwt_key_thumbprint(key, tp), 0);
    assert_string_equal(tp, rfc7638_thumbprint);
    assert_i64_eq(jwt_key_alg(key), JWT_ALG_RS256);
    assert_false(jwt_key_has_private(key));
    jwt_keyset_free(set);
}

static void test_rfc8037_thumbprint_of_ed25519_key(void **state) {
    char jwks[512], tp[JWT_THUMBPRINT_LEN + 1];
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}]}", rfc8037_x);
    struct jwt_keyset *set = jwks_set(jwks);
    const struct jwt_key *key = jwt_keyset_find(set, rfc8037_thumbprint, strlen(rfc8037_thumbprint));
    assert_non_null(key);
    assert_i64_eq(jwt_key_thumbprint(key, tp), 0);
    assert_string_equal(tp, rfc8037_thumbprint);
    assert_i64_eq(jwt_key_alg(key), JWT_ALG_EDDSA);
    jwt_keyset_free(set);
}

static void test_generated_key_publishes_its_jwk(void **state) {
    struct jwt_key *key = NULL;
    char jwk[JWT_JWK_MAX], tp[JWT_THUMBPRINT_LEN + 1];
    json_error_t jerr;
    assert_i64_eq(jwt_key_generate_es256(&key), 0);
    assert_true(jwt_key_has_private(key));
    assert_i64_eq(jwt_key_alg(key), JWT_ALG_ES256);
    assert_i64_eq(jwt_key_thumbprint(key, tp), 0);
    assert_string_equal(jwt_key_kid(key), tp);
    assert_i64_eq(strlen(tp), JWT_THUMBPRINT_LEN);

    assert_i64_eq(jwt_key_public_jwk(key, jwk, sizeof(jwk), NULL), 0);
    json_t *j = json_loads(jwk, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(j, "crv")), "P-256");
    assert_string_equal(json_string_value(json_object_get(j, "kid")), tp);
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(j, "use")), "sig");
    assert_i64_eq(strlen(json_string_value(json_object_get(j, "x"))), 43);
    assert_i64_eq(strlen(json_string_value(json_object_get(j, "y"))), 43);
    assert_null(json_object_get(j, "d"));
    assert_i64_eq(json_object_size(j), 7);
    json_decref(j);

    /* Too small a buffer is LK_ERANGE, not a cut JWK. */
    assert_i64_eq(jwt_key_public_jwk(key, jwk, 40, NULL), LK_ERANGE);
    jwt_key_free(key);
}

static void test_private_key_export_import_round_trip(void **state) {
    struct fixture f;
    struct jwt_key *back = NULL;
    uint8_t der[JWT_PRIVATE_DER_MAX];
    size_t len = 0;
    char tok[1024];
    fixture_init(&f);
    assert_i64_eq(jwt_key_export_private(f.key, der, sizeof(der), &len), 0);
    assert_true(len > 32 && len <= JWT_PRIVATE_DER_MAX);
    assert_i64_eq(jwt_key_export_private(f.key, der, 10, &len), LK_ERANGE);
    assert_i64_eq(jwt_key_import_private(der, len, &back), 0);
    assert_string_equal(jwt_key_kid(back), f.kid);
    assert_true(jwt_key_has_private(back));
    /* The imported key signs what the published key verifies. */
    json_t *c = claims_std();
    assert_i64_eq(jwt_sign(back, c, tok, sizeof(tok), NULL), 0);
    json_decref(c);
    expect_ok(f.verifiers, tok, &want_std);
    jwt_key_free(back);

    /* Trailing bytes, a cut key and garbage are refused; *ret_key untouched. */
    back = (struct jwt_key *)&f;
    assert_i64_eq(jwt_key_import_private(der, len - 1, &back), LK_EINVAL);
    der[len] = 0;
    assert_i64_eq(jwt_key_import_private(der, len + 1, &back), LK_EINVAL);
    memset(der, 0x30, sizeof(der));
    assert_i64_eq(jwt_key_import_private(der, 100, &back), LK_EINVAL);
    assert_ptr_equal(back, (struct jwt_key *)&f);
    explicit_bzero(der, sizeof(der));

    /* A public key cannot be exported as private nor sign. */
    const struct jwt_key *pub = jwt_keyset_find(f.verifiers, f.kid, strlen(f.kid));
    assert_non_null(pub);
    assert_false(jwt_key_has_private(pub));
    assert_i64_eq(jwt_key_export_private(pub, der, sizeof(der), &len), LK_EINVAL);
    c = claims_std();
    assert_i64_eq(jwt_sign(pub, c, tok, sizeof(tok), NULL), LK_EINVAL);
    json_decref(c);
    fixture_done(&f);
}

/* ---- JWKS reading ---- */

static void expect_jwks_refused(const char *jwks, const char *needle) {
    struct jwt_keyset *set = (struct jwt_keyset *)&needle;
    struct lk_error err = {0};
    int r = jwt_keyset_from_jwks(jwks, strlen(jwks), &set, &err);
    if (r != LK_EINVAL)
        fail_msg("JWKS %s: returned %d, expected LK_EINVAL", jwks, r);
    assert_ptr_equal(set, (struct jwt_keyset *)&needle);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("JWKS message \"%s\" does not name \"%s\"", err.msg, needle);
}

static void test_jwks_skips_keys_it_does_not_verify_with(void **state) {
    char jwks[2048];
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":["
             "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"enc\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kty\":\"RSA\",\"alg\":\"PS256\",\"n\":\"AA\",\"e\":\"AQAB\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":\"%s\",\"y\":\"%s\"}]}",
             rfc7515_x, rfc7515_y);
    /* ...but an "oct" key with "k" is private material: refused outright. */
    expect_jwks_refused(jwks, "private key material");
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":["
             "{\"kty\":\"oct\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"enc\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kty\":\"RSA\",\"alg\":\"PS256\",\"n\":\"AA\",\"e\":\"AQAB\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":\"%s\",\"y\":\"%s\"}]}",
             rfc7515_x, rfc7515_y);
    struct jwt_keyset *set = jwks_set(jwks);
    assert_i64_eq(jwt_keyset_count(set), 1);
    assert_non_null(jwt_keyset_find(set, "k1", 2));
    assert_i64_eq(jwt_key_alg(jwt_keyset_find(set, "k1", 2)), JWT_ALG_ES256);
    jwt_keyset_free(set);
}

static void test_jwks_refusals(void **state) {
    char jwks[2048];
    expect_jwks_refused("[]", "not a JSON object");
    expect_jwks_refused("{\"keys\":{}}", "no \"keys\" array");
    expect_jwks_refused("{\"keys\":[]}", "no key");
    expect_jwks_refused("{\"keys\":[{\"kty\":\"oct\"}]}", "no key");
    expect_jwks_refused("{\"keys\":[1]}", "key 0 is not a JSON object");
    expect_jwks_refused("{\"keys\":[{\"crv\":\"P-256\"}]}", "kty");
    expect_jwks_refused("{\"keys\":[],\"keys\":[]}", "not a JSON object"); /* duplicate member */
    /* A point off the curve (y of another point). */
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", rfc7515_x,
             rfc7515_x);
    expect_jwks_refused(jwks, "not a point on P-256");
    /* Padding in a member. */
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s=\",\"y\":\"%s\"}]}",
             rfc7515_x, rfc7515_y);
    expect_jwks_refused(jwks, "\"x\" is not base64url");
    /* A coordinate of the wrong size. */
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"%s\"}]}",
             rfc7515_y);
    expect_jwks_refused(jwks, "32 bytes");
    /* A private key published by mistake. */
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"AAAA\"}]}", rfc7515_x,
             rfc7515_y);
    expect_jwks_refused(jwks, "private key material");
    /* alg of another family than kty. */
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RS256\",\"x\":\"%s\",\"y\":\"%s\"}]}", rfc7515_x,
             rfc7515_y);
    expect_jwks_refused(jwks, "alg does not match kty");
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"HS256\",\"x\":\"%s\",\"y\":\"%s\"}]}", rfc7515_x,
             rfc7515_y);
    expect_jwks_refused(jwks, "alg does not match kty");
    /* Two keys under one kid. */
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\",\"x\":\"%s\"}]}",
             rfc7515_x, rfc7515_y, rfc8037_x);
    expect_jwks_refused(jwks, "same kid");
    /* RSA below 2048 bits, and an even exponent. */
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", rsa1024_n);
    expect_jwks_refused(jwks, "RSA modulus must be 2048..8192 bits");
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}]}", rfc7638_n);
    expect_jwks_refused(jwks, "e must be odd");
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AA%s\",\"e\":\"AQAB\"}]}", rfc7638_n);
    expect_jwks_refused(jwks, "no leading zero");
}

/* ---- known signatures ---- */

static void test_rfc7515_es256_signature_verifies(void **state) {
    char jwks[512];
    uint8_t sig[64];
    size_t sig_len = 0;
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"rfc\",\"x\":\"%s\",\"y\":\"%s\"}]}", rfc7515_x,
             rfc7515_y);
    struct jwt_keyset *set = jwks_set(jwks);
    const struct jwt_key *key = jwt_keyset_find(set, "rfc", 3);
    const char *dot2 = strrchr(rfc7515_es256, '.');
    assert_i64_eq(jwt_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig), &sig_len), 0);
    assert_i64_eq(sig_len, 64); /* JOSE's R||S, not DER */
    assert_i64_eq(jwt_signature_verify(key, rfc7515_es256, (size_t)(dot2 - rfc7515_es256), sig, sig_len), 0);
    sig[10] ^= 1;
    assert_i64_eq(jwt_signature_verify(key, rfc7515_es256, (size_t)(dot2 - rfc7515_es256), sig, sig_len), LK_EBADTOKEN);
    sig[10] ^= 1;
    assert_i64_eq(jwt_signature_verify(key, rfc7515_es256, (size_t)(dot2 - rfc7515_es256) - 1, sig, sig_len),
                  LK_EBADTOKEN);
    assert_i64_eq(jwt_signature_verify(key, rfc7515_es256, (size_t)(dot2 - rfc7515_es256), sig, 63), LK_EBADTOKEN);
    /* The RFC's token has no kid, so jwt_verify() refuses it. */
    expect_refusal(set, rfc7515_es256, &want_std, LK_EBADTOKEN, "header has no kid");
    jwt_keyset_free(set);
}

static void test_outside_rs256_and_eddsa_tokens_verify(void **state) {
    char jwks[2048];
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"AQAB\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed-1\",\"alg\":\"EdDSA\",\"x\":\"%s\"}]}",
             outside_rsa_n, rfc8037_x);
    struct jwt_keyset *set = jwks_set(jwks);
    struct jwt_expect want = {.issuer = "https://issuer.example", .audience = "latchkey", .now = NOW};
    struct lk_error err = {0};
    json_t *claims = NULL;
    assert_i64_eq(jwt_verify(set, outside_rs256, strlen(outside_rs256), &want, &claims, &err), 0);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "spiffe://example.org/w");
    json_decref(claims);
    expect_ok(set, outside_eddsa, &want);

    /* The other audience in the array works too; one not in it does not. */
    want.audience = "other";
    expect_ok(set, outside_rs256, &want);
    want.audience = "late";
    expect_refusal(set, outside_eddsa, &want, LK_EBADTOKEN, "audience");
    want.audience = "latchkey";
    /* Before nbf (1600000000) and after exp (2000000000). */
    want.now = 1600000000 - 61;
    want.leeway = 60;
    expect_refusal(set, outside_rs256, &want, LK_EBADTOKEN, "not yet valid");
    want.now = 2000000000;
    want.leeway = 0;
    expect_refusal(set, outside_eddsa, &want, LK_EEXPIRED, "expired at 2000000000");
    jwt_keyset_free(set);
}

/* ---- round trips ---- */

static void test_sign_verify_round_trip(void **state) {
    struct fixture f;
    struct lk_error err = {0};
    json_t *claims = NULL;
    uint8_t sig[128];
    size_t sig_len = 0;
    fixture_init(&f);
    char *tok = sign_claims(&f, claims_std());

    assert_i64_eq(jwt_verify(f.verifiers, tok, strlen(tok), &want_std, &claims, &err), 0);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "spiffe://example.org/ns/w");
    json_decref(claims);
    /* Also with the signing set itself, and without asking for the claims. */
    assert_i64_eq(jwt_verify(f.signers, tok, strlen(tok), &want_std, NULL, &err), 0);

    /* The header is exactly {"alg","kid","typ"}; the signature is R||S. */
    char *hdr_want = NULL;
    size_t hl = strlen("{\"alg\":\"ES256\",\"kid\":\"\",\"typ\":\"JWT\"}") + strlen(f.kid) + 1;
    hdr_want = malloc(hl);
    assert_non_null(hdr_want);
    snprintf(hdr_want, hl, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", f.kid);
    char *h = b64(hdr_want, strlen(hdr_want));
    assert_memory_equal(tok, h, strlen(h));
    assert_i64_eq(tok[strlen(h)], '.');
    const char *dot2 = strrchr(tok, '.');
    assert_i64_eq(jwt_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig), &sig_len), 0);
    assert_i64_eq(sig_len, 64);
    free(h);
    free(hdr_want);

    /* Two signatures of the same claims differ (ECDSA's random k) and both verify. */
    char *tok2 = sign_claims(&f, claims_std());
    assert_string_not_equal(tok, tok2);
    expect_ok(f.verifiers, tok2, &want_std);
    free(tok2);

    /* Many tokens: an R or S with leading zero bytes is padded right. */
    for (int i = 0; i < 200; i++) {
        char *t = sign_claims(&f, claims_std());
        expect_ok(f.verifiers, t, &want_std);
        free(t);
    }
    free(tok);
    fixture_done(&f);
}

static void test_sign_refusals(void **state) {
    struct fixture f;
    char small[64];
    fixture_init(&f);
    json_t *arr = json_array();
    assert_i64_eq(jwt_sign(f.key, arr, small, sizeof(small), NULL), LK_EINVAL);
    json_decref(arr);
    /* A string jwt_verify() would not read back (a NUL, not UTF-8) is not signed. */
    char tok[1024];
    json_t *c = claims_std();
    assert_i64_eq(json_object_set_new(c, "sub", json_stringn("a\0b", 3)), 0);
    assert_i64_eq(jwt_sign(f.key, c, tok, sizeof(tok), NULL), LK_EINVAL);
    assert_i64_eq(json_object_set_new(c, "sub", json_string_nocheck("\xff")), 0);
    assert_i64_eq(jwt_sign(f.key, c, tok, sizeof(tok), NULL), LK_EINVAL);
    json_decref(c);
    c = claims_std();
    memset(small, 'Z', sizeof(small));
    assert_i64_eq(jwt_sign(f.key, c, small, sizeof(small), NULL), LK_ERANGE);
    assert_i64_eq(small[0], 'Z'); /* out untouched */
    json_decref(c);
    fixture_done(&f);
}

/* ---- the refusal table ---- */

static void test_algorithm_confusion(void **state) {
    struct fixture f;
    char hdr[256], jwk[JWT_JWK_MAX];
    const char *payload = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000300}";
    uint8_t mac[SECRET_HASH_LEN];
    fixture_init(&f);
    char *good = sign_claims(&f, claims_std());
    const char *good_sig = strrchr(good, '.') + 1;

    /* alg none, with an empty signature and with one. */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"JWT\"}", f.kid);
    char *t = make_token(hdr, payload, "");
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "malformed token: an empty part");
    free(t);
    t = make_token(hdr, payload, "AAAA");
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "algorithm none not allowed for this key (ES256)");
    free(t);

    /* HS256 keyed with the public key's JWK and with its thumbprint. */
    assert_i64_eq(jwt_key_public_jwk(jwt_keyset_find(f.verifiers, f.kid, strlen(f.kid)), jwk, sizeof(jwk), NULL), 0);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", f.kid);
    t = make_token(hdr, payload, "x");
    *strrchr(t, '.') = '\0';
    assert_i64_eq(secret_hmac(jwk, strlen(jwk), t, strlen(t), mac), 0);
    char *mac_b64 = b64(mac, sizeof(mac));
    free(t);
    t = make_token(hdr, payload, mac_b64);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "algorithm HS256 not allowed for this key (ES256)");
    free(t);
    free(mac_b64);

    /* Switched to RS256, EdDSA, ES384, and a name nobody registered. */
    static const char *const switched[] = {"RS256", "EdDSA", "ES384", "PS256", "HS512"};
    for (size_t i = 0; i < sizeof(switched) / sizeof(switched[0]); i++) {
        char want_msg[128];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\"}", switched[i], f.kid);
        t = make_token(hdr, payload, good_sig);
        snprintf(want_msg, sizeof(want_msg), "algorithm %s not allowed for this key (ES256)", switched[i]);
        expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, want_msg);
        free(t);
    }
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"es256\",\"kid\":\"%s\"}", f.kid);
    t = make_token(hdr, payload, good_sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "algorithm (unregistered) not allowed");
    free(t);

    /* The other way round: ES256 presented to an RSA key. */
    char jwks[1024];
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", rfc7638_n);
    struct jwt_keyset *rsa = jwks_set(jwks);
    t = make_token("{\"alg\":\"ES256\",\"kid\":\"r\"}", payload, good_sig);
    expect_refusal(rsa, t, &want_std, LK_EBADTOKEN, "algorithm ES256 not allowed for this key (RS256)");
    free(t);
    t = make_token("{\"alg\":\"HS256\",\"kid\":\"r\"}", payload, good_sig);
    expect_refusal(rsa, t, &want_std, LK_EBADTOKEN, "algorithm HS256 not allowed for this key (RS256)");
    free(t);
    jwt_keyset_free(rsa);
    free(good);
    fixture_done(&f);
}

static void test_kid_and_header_refusals(void **state) {
    struct fixture f;
    char hdr[256];
    const char *payload = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000300}";
    fixture_init(&f);
    char *good = sign_claims(&f, claims_std());
    const char *sig = strrchr(good, '.') + 1;

    char *t = make_token("{\"alg\":\"ES256\",\"kid\":\"EVIL-KID-not-here\"}", payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "unknown kid");
    free(t);
    t = make_token("{\"alg\":\"ES256\"}", payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header has no kid");
    free(t);
    t = make_token("{\"alg\":\"ES256\",\"kid\":7}", payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header has no kid");
    free(t);
    snprintf(hdr, sizeof(hdr), "{\"kid\":\"%s\"}", f.kid);
    t = make_token(hdr, payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header has no alg");
    free(t);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[\"b64\"],\"b64\":false}", f.kid);
    t = make_token(hdr, payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "crit");
    free(t);
    /* A duplicate alg could be read two ways: refused. */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"alg\":\"none\"}", f.kid);
    t = make_token(hdr, payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header is not a JSON object");
    free(t);
    t = make_token("[\"ES256\"]", payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header is not a JSON object");
    free(t);
    t = make_token("not json", payload, sig);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header is not a JSON object");
    free(t);
    free(good);
    fixture_done(&f);
}

/* tok with the character at i replaced by c. */
static char *with_char(const char *tok, size_t i, char c) {
    char *t = strdup(tok);
    assert_non_null(t);
    t[i] = c;
    return t;
}

static void test_tampering_and_framing(void **state) {
    struct fixture f;
    fixture_init(&f);
    char *good = sign_claims(&f, claims_std());
    size_t len = strlen(good);
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    size_t p = (size_t)(dot1 - good) + 5, s = (size_t)(dot2 - good) + 5;
    expect_ok(f.verifiers, good, &want_std);

    char *t = with_char(good, p, good[p] == 'A' ? 'B' : 'A');
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature does not verify");
    free(t);
    t = with_char(good, s, good[s] == 'A' ? 'B' : 'A');
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature does not verify");
    free(t);
    /* A signature one byte short: still canonical base64url, wrong length. */
    t = strdup(good);
    assert_non_null(t);
    t[len - 2] = '\0'; /* 86 -> 84 characters: 63 bytes */
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature does not verify");
    free(t);

    /* Two parts, four parts, empty parts. */
    t = strdup(good);
    assert_non_null(t);
    t[dot2 - good] = '\0';
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "not three dot-separated parts");
    free(t);
    size_t cap = len + 8;
    t = malloc(cap);
    assert_non_null(t);
    snprintf(t, cap, "%s.AAAA", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "not three dot-separated parts");
    snprintf(t, cap, "%s.", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "not three dot-separated parts");
    snprintf(t, cap, ".%s", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "not three dot-separated parts");
    /* Padding and whitespace in a part. */
    snprintf(t, cap, "%s=", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature is not base64url");
    snprintf(t, cap, "%.*s=%s", (int)(dot1 - good), good, dot1);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header is not base64url");
    snprintf(t, cap, "%.*s==%s", (int)(dot2 - good), good, dot2);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature does not verify"); /* payload is signed */
    snprintf(t, cap, "%s\n", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "signature is not base64url");
    snprintf(t, cap, " %s", good);
    expect_refusal(f.verifiers, t, &want_std, LK_EBADTOKEN, "header is not base64url");
    free(t);
    expect_refusal(f.verifiers, "..", &want_std, LK_EBADTOKEN, "an empty part");
    expect_refusal(f.verifiers, "a..b", &want_std, LK_EBADTOKEN, "an empty part");
    expect_refusal(f.verifiers, "", &want_std, LK_EBADTOKEN, "malformed token");

    /* Longer than JWT_TOKEN_MAX. */
    char *big = malloc(JWT_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'A', JWT_TOKEN_MAX + 1);
    big[JWT_TOKEN_MAX + 1] = '\0';
    expect_refusal(f.verifiers, big, &want_std, LK_EBADTOKEN, "longer than");
    free(big);
    free(good);
    fixture_done(&f);
}

static char *signed_with(const struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *signed_with(const struct fixture *f, const char *fmt, ...) {
    char text[512];
    json_error_t jerr;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    json_t *c = json_loads(text, 0, &jerr);
    if (c == NULL)
        fail_msg("bad test claims %s: %s", text, jerr.text);
    return sign_claims(f, c);
}

static void test_claim_refusals(void **state) {
    struct fixture f;
    struct jwt_expect want = want_std;
    char *t;
    fixture_init(&f);

    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"other\",\"exp\":1700000300}", ISS);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "audience");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":[\"a\",\"b\"],\"exp\":1700000300}", ISS);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "audience");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":[],\"exp\":1700000300}", ISS);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "audience");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"exp\":1700000300}", ISS);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "audience");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":[\"%s\",3],\"exp\":1700000300}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "malformed token: aud");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":[\"x\",\"%s\"],\"exp\":1700000300}", ISS, AUD);
    expect_ok(f.verifiers, t, &want);
    free(t);

    t = signed_with(&f, "{\"iss\":\"https://evil.example\",\"aud\":\"%s\",\"exp\":1700000300}", AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "issuer");
    free(t);
    t = signed_with(&f, "{\"aud\":\"%s\",\"exp\":1700000300}", AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "issuer");
    free(t);
    t = signed_with(&f, "{\"iss\":[\"%s\"],\"aud\":\"%s\",\"exp\":1700000300}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "issuer");
    free(t);

    /* exp: required, numeric, in range. */
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\"}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "no exp claim");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":\"1700000300\"}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "NumericDate");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":-1}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "NumericDate");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1e300}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "NumericDate");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"nbf\":null}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "NumericDate");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"iat\":true}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "NumericDate");
    free(t);
    fixture_done(&f);
}

static void test_time_checks_and_leeway(void **state) {
    struct fixture f;
    struct jwt_expect want = want_std;
    fixture_init(&f);
    /* exp = NOW: expired at NOW exactly, valid a second before. */
    char *t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000000}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EEXPIRED, "expired at 1700000000");
    want.now = NOW - 1;
    expect_ok(f.verifiers, t, &want);
    /* Within leeway, then beyond it. */
    want.now = NOW + 29;
    want.leeway = 30;
    expect_ok(f.verifiers, t, &want);
    want.now = NOW + 30;
    expect_refusal(f.verifiers, t, &want, LK_EEXPIRED, "expired at 1700000000");
    /* A leeway above the maximum is clamped to 60 s; a negative one to 0. */
    want.leeway = 3600;
    want.now = NOW + 59;
    expect_ok(f.verifiers, t, &want);
    want.now = NOW + 60;
    expect_refusal(f.verifiers, t, &want, LK_EEXPIRED, "expired at");
    want.leeway = -100;
    want.now = NOW;
    expect_refusal(f.verifiers, t, &want, LK_EEXPIRED, "expired at");
    /* A clock far out of range does not overflow. */
    want.now = INT64_MAX;
    want.leeway = 60;
    expect_refusal(f.verifiers, t, &want, LK_EEXPIRED, "expired at");
    want.now = INT64_MIN;
    expect_ok(f.verifiers, t, &want);
    free(t);

    /* nbf = NOW + 100. */
    want = want_std;
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"nbf\":1700000100}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "not yet valid");
    want.leeway = 60;
    want.now = NOW + 39;
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "not yet valid");
    want.now = NOW + 40;
    expect_ok(f.verifiers, t, &want);
    free(t);
    /* A fractional nbf counts from the next whole second. */
    want = want_std;
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"nbf\":1700000000.5}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "not yet valid");
    want.now = NOW + 1;
    expect_ok(f.verifiers, t, &want);
    free(t);

    /* iat in the future beyond leeway. */
    want = want_std;
    want.leeway = 60;
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"iat\":1700000061}", ISS, AUD);
    expect_refusal(f.verifiers, t, &want, LK_EBADTOKEN, "issued in the future");
    free(t);
    t = signed_with(&f, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":1700000300,\"iat\":1700000060}", ISS, AUD);
    expect_ok(f.verifiers, t, &want);
    free(t);
    fixture_done(&f);
}

static void test_caller_mistakes(void **state) {
    struct fixture f;
    struct lk_error err = {0};
    struct jwt_expect want = want_std;
    fixture_init(&f);
    char *t = sign_claims(&f, claims_std());
    want.issuer = NULL;
    assert_i64_eq(jwt_verify(f.verifiers, t, strlen(t), &want, NULL, &err), LK_EINVAL);
    want = want_std;
    want.audience = NULL;
    assert_i64_eq(jwt_verify(f.verifiers, t, strlen(t), &want, NULL, &err), LK_EINVAL);
    assert_i64_eq(jwt_verify(f.verifiers, t, strlen(t), NULL, NULL, &err), LK_EINVAL);
    /* A NULL error record is fine. */
    assert_i64_eq(jwt_verify(f.verifiers, t, strlen(t) - 1, &want_std, NULL, NULL), LK_EBADTOKEN);
    free(t);
    fixture_done(&f);
}

static void test_keyset_limits(void **state) {
    struct jwt_keyset *set = NULL;
    assert_i64_eq(jwt_keyset_new(&set), 0);
    for (int i = 0; i < JWT_KEYSET_MAX; i++) {
        struct jwt_key *k = NULL;
        assert_i64_eq(jwt_key_generate_es256(&k), 0);
        assert_i64_eq(jwt_keyset_add(set, k), 0);
    }
    struct jwt_key *k = NULL;
    assert_i64_eq(jwt_key_generate_es256(&k), 0);
    assert_i64_eq(jwt_keyset_add(set, k), LK_ERANGE); /* and k is freed */
    assert_i64_eq(jwt_keyset_count(set), JWT_KEYSET_MAX);
    char *jwks = malloc(JWT_JWKS_MAX);
    assert_non_null(jwks);
    assert_i64_eq(jwt_keyset_to_jwks(set, jwks, JWT_JWKS_MAX, NULL), 0);
    struct jwt_keyset *back = jwks_set(jwks);
    assert_i64_eq(jwt_keyset_count(back), JWT_KEYSET_MAX);
    jwt_keyset_free(back);
    free(jwks);
    jwt_keyset_free(set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_b64url_refuses_non_canonical),
        cmocka_unit_test(test_b64url_sizes),
        cmocka_unit_test(test_rfc7638_thumbprint_of_rsa_key),
        cmocka_unit_test(test_rfc8037_thumbprint_of_ed25519_key),
        cmocka_unit_test(test_generated_key_publishes_its_jwk),
        cmocka_unit_test(test_private_key_export_import_round_trip),
        cmocka_unit_test(test_jwks_skips_keys_it_does_not_verify_with),
        cmocka_unit_test(test_jwks_refusals),
        cmocka_unit_test(test_rfc7515_es256_signature_verifies),
        cmocka_unit_test(test_outside_rs256_and_eddsa_tokens_verify),
        cmocka_unit_test(test_sign_verify_round_trip),
        cmocka_unit_test(test_sign_refusals),
        cmocka_unit_test(test_algorithm_confusion),
        cmocka_unit_test(test_kid_and_header_refusals),
        cmocka_unit_test(test_tampering_and_framing),
        cmocka_unit_test(test_claim_refusals),
        cmocka_unit_test(test_time_checks_and_leeway),
        cmocka_unit_test(test_caller_mistakes),
        cmocka_unit_test(test_keyset_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
