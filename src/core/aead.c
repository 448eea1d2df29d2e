/*
 * aead.c - sealing and opening envelopes with AES-256-GCM (aead.h), through
 * OpenSSL's EVP interface.
 *
 * This module must never hand out plaintext that has not been authenticated
 * (a failed open zeroes whatever decryption wrote), never reuse or derive a
 * nonce (each comes from the CSPRNG, and a seal fails rather than fall back),
 * and never log, print or keep a copy of a key or a plaintext.
 */
#include "core/aead.h"

#include "core/errors.h"
#include "core/secret.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define VERSION_OFF 1
#define NONCE_OFF 5

/* AES-256-GCM fetched once: an implicit fetch on every call would take
 * OpenSSL's method-store lock each time. */
static EVP_CIPHER *gcm_cipher;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void fetch_gcm(void) {
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

size_t aead_sealed_size(size_t len) {
    return len > AEAD_PLAINTEXT_MAX ? 0 : len + AEAD_OVERHEAD;
}

/*
 * Feeds GCM the associated data: the envelope's header (format and key
 * version), then the caller's. Returns 1 or 0 as OpenSSL does. Both lengths
 * are within int: the header is 5 bytes, the caller's at most
 * AEAD_PLAINTEXT_MAX (checked by the callers).
 */
static int gcm_aad(EVP_CIPHER_CTX *ctx, const uint8_t *header, const void *aad, size_t aad_len) {
    int n = 0;
    if (EVP_CipherUpdate(ctx, NULL, &n, header, NONCE_OFF) != 1)
        return 0;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        return 0;
    return 1;
}

int aead_seal(const uint8_t key[AEAD_KEY_LEN], uint32_t key_version, const void *aad, size_t aad_len,
              const void *plaintext, size_t len, uint8_t *out, size_t out_cap) {
    size_t need = aead_sealed_size(len);
    uint8_t scratch[EVP_MAX_BLOCK_LENGTH];
    EVP_CIPHER_CTX *ctx = NULL;
    int n = 0, r = 0;

    if (need == 0 || aad_len > AEAD_PLAINTEXT_MAX)
        return LK_ETOOBIG;
    if (out_cap < need)
        return LK_ERANGE;
    pthread_once(&gcm_once, fetch_gcm);
    if (gcm_cipher == NULL)
        return LK_EINTERNAL;

    out[0] = AEAD_FORMAT_V1;
    put_be32(out + VERSION_OFF, key_version);
    if (secret_random(out + NONCE_OFF, AEAD_NONCE_LEN) != 0) {
        r = LK_EINTERNAL;
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    /* The default IV length of GCM is the 12 bytes used here. */
    if (EVP_EncryptInit_ex2(ctx, gcm_cipher, key, out + NONCE_OFF, NULL) != 1 || !gcm_aad(ctx, out, aad, aad_len)) {
        r = LK_EINTERNAL;
        goto out;
    }
    /* GCM is a stream mode: Update writes exactly len bytes, Final none. */
    if (len > 0 && (EVP_EncryptUpdate(ctx, out + AEAD_HEADER_LEN, &n, plaintext, (int)len) != 1 || (size_t)n != len)) {
        r = LK_EINTERNAL;
        goto out;
    }
    if (EVP_EncryptFinal_ex(ctx, scratch, &n) != 1 || n != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, out + AEAD_HEADER_LEN + len) != 1) {
        r = LK_EINTERNAL;
        goto out;
    }
out:
    /* Freeing the context cleanses its key schedule (OpenSSL clears it). */
    EVP_CIPHER_CTX_free(ctx);
    explicit_bzero(scratch, sizeof(scratch));
    if (r != 0)
        explicit_bzero(out, need);
    return r;
}

int aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aad_len, const uint8_t *env, size_t env_len,
              uint8_t *out, size_t out_cap, size_t *ret_len) {
    uint8_t scratch[EVP_MAX_BLOCK_LENGTH];
    EVP_CIPHER_CTX *ctx = NULL;
    size_t len, written = 0;
    int n = 0, r = 0;

    if (env_len < AEAD_OVERHEAD || env[0] != AEAD_FORMAT_V1)
        return LK_EINTEGRITY;
    len = env_len - AEAD_OVERHEAD;
    /* aead_seal() never makes a longer one. */
    if (len > AEAD_PLAINTEXT_MAX)
        return LK_EINTEGRITY;
    if (aad_len > AEAD_PLAINTEXT_MAX)
        return LK_ETOOBIG;
    if (out_cap < len)
        return LK_ERANGE;
    pthread_once(&gcm_once, fetch_gcm);
    if (gcm_cipher == NULL)
        return LK_EINTERNAL;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        r = LK_ENOMEM;
        goto out;
    }
    if (EVP_DecryptInit_ex2(ctx, gcm_cipher, key, env + NONCE_OFF, NULL) != 1 || !gcm_aad(ctx, env, aad, aad_len)) {
        r = LK_EINTERNAL;
        goto out;
    }
    if (len > 0) {
        /* From here until the tag verifies, out holds unauthenticated plaintext. */
        written = len;
        if (EVP_DecryptUpdate(ctx, out, &n, env + AEAD_HEADER_LEN, (int)len) != 1 || (size_t)n != len) {
            r = LK_EINTERNAL;
            goto out;
        }
    }
    /* OpenSSL takes the expected tag through a non-const pointer but only reads it. */
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, (void *)(env + AEAD_HEADER_LEN + len)) != 1) {
        r = LK_EINTERNAL;
        goto out;
    }
    /* The tag is compared here, in constant time; any mismatch is the data's fault. */
    if (EVP_DecryptFinal_ex(ctx, scratch, &n) != 1) {
        r = LK_EINTEGRITY;
        goto out;
    }
    *ret_len = len;
out:
    EVP_CIPHER_CTX_free(ctx);
    explicit_bzero(scratch, sizeof(scratch));
    if (r != 0 && written > 0)
        explicit_bzero(out, written);
    return r;
}

int aead_key_version(const uint8_t *env, size_t env_len, uint32_t *ret_version) {
    if (env_len < AEAD_OVERHEAD || env[0] != AEAD_FORMAT_V1)
        return LK_EINTEGRITY;
    *ret_version = get_be32(env + VERSION_OFF);
    return 0;
}
