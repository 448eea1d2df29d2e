/*
 * fuzz_jwt.c - libFuzzer harness for the token verifier and base64url
 * (core/jwt.h).
 *
 * The input is used three ways:
 *   1. As base64url: jwt_b64url_decode() must accept exactly what a
 *      reference reader written here accepts (alphabet, length not 4k+1,
 *      zero spare bits), leave *ret_len untouched on refusal, and an
 *      accepted input must encode back to exactly itself.
 *   2. As a compact token, verified against a set holding one fixed ES256
 *      key: the answer is 0, LK_EBADTOKEN or LK_EEXPIRED; *ret_claims is
 *      untouched on refusal; the message is one of the fixed texts (digits
 *      aside) or names a registered algorithm, so it never echoes the input;
 *      an accepted token has three parts, claims that pass the checks, and
 *      stops verifying when any byte of its signature part changes.
 *   3. As claims material: a token signed here with iss, aud, sub and exp
 *      taken from the input must verify exactly when exp is not past, and
 *      must not verify with one byte (chosen by the input) changed.
 * Invariant failures abort(). The only state kept between inputs is the
 * fixed key set, built once.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/jwt.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW INT64_C(1700000000)
#define ISS "https://latchkey.example"
#define AUD "spiffe://example.org"
/* The thumbprint of fixed_der's key. */
#define FIXED_KID "2aL181Fo3KOmePIDy_b6sOkVZfq-vIprqGv9swjaP6s"

/* A P-256 key made for this harness only (PKCS#8 DER); its kid is
 * 2aL181Fo3KOmePIDy_b6sOkVZfq-vIprqGv9swjaP6s, which the seed tokens carry. */
static const uint8_t fixed_der[] = {
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
    0xee, 0xb9, 0x98, 0x0b, 0x60, 0xea, 0x0d, 0x87, 0x5b, 0x18, 0xd9, 0x3c, 0x8e, 0x83, 0x80, 0xe5, 0x5a, 0x83,
    0x75, 0xea, 0xb4, 0xd6, 0xf0, 0x9f, 0xaf, 0x2b, 0xf6, 0x6c, 0xec, 0x4a, 0x99, 0xa6, 0xa1, 0x44, 0x03, 0x42,
    0x00, 0x04, 0x97, 0x06, 0x15, 0x70, 0x6f, 0xc9, 0x26, 0x8f, 0xd4, 0xb0, 0x35, 0xec, 0x5d, 0xda, 0x30, 0x71,
    0xca, 0xaa, 0x34, 0x15, 0x56, 0xda, 0xa8, 0x5f, 0xc5, 0xef, 0x76, 0x5b, 0x95, 0x4d, 0x4a, 0xcc, 0xd8, 0x72,
    0xdc, 0xfb, 0x9c, 0x00, 0x17, 0x9a, 0xc5, 0x18, 0xb7, 0xe5, 0x40, 0x76, 0xa8, 0x80, 0xfb, 0x85, 0xee, 0xe3,
    0x6e, 0xef, 0x00, 0x92, 0x31, 0x8c, 0xc4, 0x7b, 0xf3, 0xff, 0xa3, 0xef,
};

static struct jwt_keyset *fixed_set;

static void setup(void) {
    struct jwt_key *key = NULL;
    if (fixed_set != NULL)
        return;
    CHECK(jwt_key_import_private(fixed_der, sizeof(fixed_der), &key) == 0);
    CHECK(strcmp(jwt_key_kid(key), FIXED_KID) == 0);
    CHECK(jwt_keyset_new(&fixed_set) == 0);
    CHECK(jwt_keyset_add(fixed_set, key) == 0);
}

static int ref_value(uint8_t c) {
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = c != 0 ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

static int ref_b64_valid(const uint8_t *in, size_t n) {
    if (n % 4 == 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ref_value(in[i]) < 0)
            return 0;
    if (n % 4 == 2 && (ref_value(in[n - 1]) & 0x0f) != 0)
        return 0;
    if (n % 4 == 3 && (ref_value(in[n - 1]) & 0x03) != 0)
        return 0;
    return 1;
}

static void check_b64(const uint8_t *data, size_t size) {
    static uint8_t out[JWT_TOKEN_MAX];
    static char back[JWT_TOKEN_MAX * 2];
    size_t len = 7777, blen = 0;
    if (size > JWT_TOKEN_MAX)
        return;
    int r = jwt_b64url_decode((const char *)data, size, out, sizeof(out), &len);
    CHECK(r == 0 || r == LK_EINVAL);
    CHECK((r == 0) == ref_b64_valid(data, size));
    if (r != 0) {
        CHECK(len == 7777);
        return;
    }
    CHECK(len == size / 4 * 3 + (size % 4 == 0 ? 0 : size % 4 - 1));
    CHECK(jwt_b64url_encode(out, len, back, sizeof(back), &blen) == 0);
    CHECK(blen == size && memcmp(back, data, size) == 0);
}

/* Digits aside (times, limits), the message is one of these, or the
 * algorithm message with a registered name. */
static const char *const fixed_messages[] = {
    "malformed token: empty",
    "malformed token: longer than  bytes",
    "malformed token: not three dot-separated parts",
    "malformed token: an empty part",
    "malformed token: header is not base64url",
    "malformed token: header is not a JSON object",
    "malformed token: crit header not supported",
    "malformed token: header has no alg",
    "malformed token: header has no kid",
    "unknown kid",
    "malformed token: signature is not base64url",
    "signature does not verify",
    "malformed token: payload is not base64url",
    "malformed token: claims are not a JSON object",
    "malformed token: exp, nbf and iat must be NumericDates",
    "malformed token: no exp claim",
    "token expired at ",
    "token not yet valid (until )",
    "token issued in the future",
    "issuer: the token is not from the expected issuer",
    "malformed token: aud is neither a string nor strings",
    "audience: the token is not meant for this audience",
};

/* in without its digits into out (LK_ERRMSG_MAX bytes). */
static void strip_digits(const char *in, char *out) {
    size_t o = 0;
    for (const char *p = in; *p != '\0' && o + 1 < LK_ERRMSG_MAX; p++)
        if (*p < '0' || *p > '9')
            out[o++] = *p;
    out[o] = '\0';
}

static void check_message(const char *msg) {
    static const char *const algs[] = {"none",  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                       "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA", "(unregistered)"};
    char stripped[LK_ERRMSG_MAX], fixed[LK_ERRMSG_MAX];
    strip_digits(msg, stripped);
    for (size_t i = 0; i < sizeof(fixed_messages) / sizeof(fixed_messages[0]); i++) {
        strip_digits(fixed_messages[i], fixed);
        if (strcmp(stripped, fixed) == 0)
            return;
    }
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "algorithm %s not allowed for this key (ES256)", algs[i]);
        if (strcmp(msg, want) == 0)
            return;
    }
    fprintf(stderr, "unexpected message: %s\n", msg);
    CHECK(0);
}

static const struct jwt_expect want = {.issuer = ISS, .audience = AUD, .now = NOW, .leeway = 30};

static void check_verify(const uint8_t *data, size_t size) {
    struct lk_error err = {0};
    json_t *sentinel = (json_t *)&err, *claims = sentinel;
    int r = jwt_verify(fixed_set, (const char *)data, size, &want, &claims, &err);
    CHECK(r == 0 || r == LK_EBADTOKEN || r == LK_EEXPIRED);
    if (r != 0) {
        CHECK(claims == sentinel);
        CHECK(err.code == r);
        check_message(err.msg);
        return;
    }
    CHECK(claims != sentinel && json_is_object(claims));
    json_int_t exp = json_integer_value(json_object_get(claims, "exp"));
    CHECK(!json_is_integer(json_object_get(claims, "exp")) || exp + 30 > NOW);
    CHECK(strcmp(json_string_value(json_object_get(claims, "iss")), ISS) == 0);
    json_decref(claims);
    /* Any change to the signature part undoes it. */
    const uint8_t *dot = memchr(data, '.', size);
    CHECK(dot != NULL);
    dot = memchr(dot + 1, '.', size - (size_t)(dot + 1 - data));
    CHECK(dot != NULL && memchr(dot + 1, '.', size - (size_t)(dot + 1 - data)) == NULL);
    static char copy[JWT_TOKEN_MAX];
    memcpy(copy, data, size);
    for (size_t i = (size_t)(dot + 1 - data); i < size; i++) {
        char keep = copy[i];
        copy[i] = keep == 'A' ? 'Q' : 'A';
        CHECK(jwt_verify(fixed_set, copy, size, &want, NULL, NULL) != 0);
        copy[i] = keep;
    }
}

static void check_round_trip(const uint8_t *data, size_t size) {
    static char tok[JWT_TOKEN_MAX + 1];
    size_t len = 0;
    if (size < 4 || size > 512)
        return;
    /* exp within ±2^15 s of NOW, from the first two bytes. */
    int64_t exp = NOW + (int64_t)(int16_t)(data[0] << 8 | data[1]);
    json_t *sub = json_stringn_nocheck((const char *)data + 4, size - 4);
    json_t *claims =
        json_pack("{s:s, s:[s,s], s:o, s:I}", "iss", ISS, "aud", "x", AUD, "sub", sub, "exp", (json_int_t)exp);
    CHECK(claims != NULL);
    const struct jwt_key *key = jwt_keyset_find(fixed_set, FIXED_KID, strlen(FIXED_KID));
    CHECK(key != NULL);
    /* A sub that is not UTF-8, or holds a NUL, would not read back: jwt_sign refuses it. */
    int r = jwt_sign(key, claims, tok, sizeof(tok), &len);
    if (r == LK_EINVAL) {
        json_object_del(claims, "sub");
        r = jwt_sign(key, claims, tok, sizeof(tok), &len);
    }
    CHECK(r == 0 && len == strlen(tok));
    json_decref(claims);
    r = jwt_verify(fixed_set, tok, len, &want, NULL, NULL);
    CHECK(r == (NOW < exp + 30 ? 0 : LK_EEXPIRED));
    size_t i = ((size_t)data[2] << 8 | data[3]) % len;
    uint8_t flip = (uint8_t)(data[2] ^ data[3]);
    tok[i] = (char)(tok[i] ^ (flip == 0 ? 1 : flip));
    CHECK(jwt_verify(fixed_set, tok, len, &want, NULL, NULL) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    check_b64(data, size);
    check_verify(data, size);
    check_round_trip(data, size);
    return 0;
}
