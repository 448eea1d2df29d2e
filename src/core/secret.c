/*
 * secret.c - SHA-256, HMAC-SHA256, constant-time comparison and CSPRNG
 * output, all delegated to OpenSSL.
 *
 * This module must never log, print or keep a copy of the material it is
 * given, never compare secret material with memcmp(), and never fall back to
 * a weaker random source when the CSPRNG fails.
 */
#include "core/secret.h"

#include "core/errors.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 fetched once: an implicit fetch on every call would take OpenSSL's
 * method-store lock on the hot path. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void) {
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void secret_hash(const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]) {
    unsigned int n = 0;

    pthread_once(&sha256_once, fetch_sha256);
    /*
     * EVP_Digest() with the built-in SHA-256 can only fail if OpenSSL cannot
     * allocate a digest context. The interface gives no way to report that,
     * and handing back an unset buffer to a caller about to compare hashes
     * would be worse than stopping, so the process stops.
     */
    if (sha256_md == NULL || EVP_Digest(data, len, out, &n, sha256_md, NULL) != 1 || n != SECRET_HASH_LEN)
        abort();
}

void secret_hash2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[SECRET_HASH_LEN]) {
    unsigned int n = 0;
    pthread_once(&sha256_once, fetch_sha256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* As secret_hash: a failure here is an allocation failure, and an unset
     * digest must never reach a comparison. */
    if (sha256_md == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, alen) != 1 || EVP_DigestUpdate(ctx, b, blen) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != SECRET_HASH_LEN)
        abort();
    EVP_MD_CTX_free(ctx);
}

int secret_hmac(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[SECRET_HASH_LEN]) {
    /*
     * An empty key or message may arrive as NULL; hand OpenSSL a real (unread)
     * byte instead, so the result never depends on how a given OpenSSL
     * release treats NULL with length 0.
     */
    static const unsigned char empty = 0;
    uint8_t mac[SECRET_HASH_LEN];
    size_t n = 0;
    int r = 0;

    if (key == NULL)
        key = &empty;
    if (data == NULL)
        data = &empty;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len, mac, sizeof(mac), &n) == NULL ||
        n != SECRET_HASH_LEN) {
        r = LK_EINTERNAL;
        goto out;
    }
    memcpy(out, mac, sizeof(mac));
out:
    explicit_bzero(mac, sizeof(mac));
    return r;
}

int secret_equal(const void *a, const void *b, size_t n) {
    return CRYPTO_memcmp(a, b, n) == 0;
}

int secret_random(void *buf, size_t n) {
    unsigned char *p = buf;

    /* RAND_bytes() takes an int, so draw larger requests in chunks. */
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return LK_EINTERNAL;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

void secret_hex(const uint8_t *data, size_t len, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[data[i] >> 4];
        out[2 * i + 1] = hex[data[i] & 0xf];
    }
    out[2 * len] = '\0';
}

/* Value + 1 of each lower-case hex digit, 0 for every other byte: a table,
 * because branches on random digits mispredict (the audit writer decodes a
 * hash per record). */
static const uint8_t hex_value[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

int secret_unhex(const char *hex, size_t len, uint8_t *out) {
    for (size_t i = 0; i < len; i++) {
        /* One at a time: a string that ends early stops at its NUL. */
        unsigned hi = hex_value[(unsigned char)hex[2 * i]];
        if (hi == 0)
            return LK_EINVAL;
        unsigned lo = hex_value[(unsigned char)hex[2 * i + 1]];
        if (lo == 0)
            return LK_EINVAL;
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return 0;
}
