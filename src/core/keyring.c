/*
 * keyring.c - versioned data-encryption keys, their byte layout, and their
 * wrapping under the root key (keyring.h).
 *
 * This module must never log, print or keep a copy of a key outside the
 * keyring (every buffer that held serialized keys is wiped before it is
 * freed or goes out of scope), never accept a serialized keyring it does not
 * fully understand, and never read past the bytes it is given.
 */
#include "core/keyring.h"

#include "core/errors.h"
#include "core/secret.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t magic[4] = {'L', 'K', 'K', 'R'};

struct keyring_key {
    uint32_t version;
    int64_t created_at;
    uint8_t key[KEYRING_KEY_LEN];
};

/* keys[0..count) in strictly increasing version order; count >= 1. */
struct keyring {
    size_t count;
    struct keyring_key keys[KEYRING_MAX_KEYS];
};

static void put_be32(uint8_t *p, uint32_t v) {
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p) {
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Two's complement without the implementation-defined conversion of a
 * uint64_t above INT64_MAX. */
static int64_t to_int64(uint64_t u) {
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
}

static void keyring_wipe(struct keyring *kr) {
    explicit_bzero(kr, sizeof(*kr));
}

int keyring_new(int64_t created_at, struct keyring **ret_kr) {
    struct keyring *kr = calloc(1, sizeof(*kr));
    if (kr == NULL)
        return LK_ENOMEM;
    if (secret_random(kr->keys[0].key, KEYRING_KEY_LEN) != 0) {
        keyring_free(kr);
        return LK_EINTERNAL;
    }
    kr->keys[0].version = 1;
    kr->keys[0].created_at = created_at;
    kr->count = 1;
    *ret_kr = kr;
    return 0;
}

void keyring_free(struct keyring *kr) {
    if (kr == NULL)
        return;
    keyring_wipe(kr);
    free(kr);
}

int keyring_rotate(struct keyring *kr, int64_t created_at, uint32_t *ret_version) {
    uint32_t cur = keyring_current(kr);
    struct keyring_key *k;

    if (kr->count >= KEYRING_MAX_KEYS || cur == UINT32_MAX)
        return LK_ERANGE;
    k = &kr->keys[kr->count];
    /* The slot counts only once count covers it, so a failure leaves kr as it was. */
    if (secret_random(k->key, KEYRING_KEY_LEN) != 0) {
        explicit_bzero(k, sizeof(*k));
        return LK_EINTERNAL;
    }
    k->version = cur + 1;
    k->created_at = created_at;
    kr->count++;
    if (ret_version != NULL)
        *ret_version = k->version;
    return 0;
}

uint32_t keyring_current(const struct keyring *kr) {
    return kr->keys[kr->count - 1].version;
}

size_t keyring_count(const struct keyring *kr) {
    return kr->count;
}

static const struct keyring_key *lookup(const struct keyring *kr, uint32_t version) {
    /* Versions are not secret, so a plain search is fine; 64 entries at most. */
    for (size_t i = 0; i < kr->count; i++)
        if (kr->keys[i].version == version)
            return &kr->keys[i];
    return NULL;
}

int keyring_find(const struct keyring *kr, uint32_t version, const uint8_t **ret_key, int64_t *ret_created_at) {
    const struct keyring_key *k = lookup(kr, version);
    if (k == NULL)
        return LK_ENOTFOUND;
    if (ret_key != NULL)
        *ret_key = k->key;
    if (ret_created_at != NULL)
        *ret_created_at = k->created_at;
    return 0;
}

int keyring_seal(const struct keyring *kr, const void *aad, size_t aad_len, const void *plaintext, size_t len,
                 uint8_t *out, size_t out_cap) {
    const struct keyring_key *k = &kr->keys[kr->count - 1];
    return aead_seal(k->key, k->version, aad, aad_len, plaintext, len, out, out_cap);
}

int keyring_open(const struct keyring *kr, const void *aad, size_t aad_len, const uint8_t *env, size_t env_len,
                 uint8_t *out, size_t out_cap, size_t *ret_len) {
    const struct keyring_key *k;
    uint32_t version;
    int r = aead_key_version(env, env_len, &version);

    if (r != 0)
        return r;
    k = lookup(kr, version);
    if (k == NULL)
        return LK_EINTEGRITY;
    return aead_open(k->key, aad, aad_len, env, env_len, out, out_cap, ret_len);
}

size_t keyring_serialized_size(const struct keyring *kr) {
    return KEYRING_HEADER_LEN + kr->count * KEYRING_ENTRY_LEN;
}

int keyring_serialize(const struct keyring *kr, uint8_t *out, size_t out_cap, size_t *ret_len) {
    size_t len = keyring_serialized_size(kr);
    uint8_t *p = out;

    if (out_cap < len)
        return LK_ERANGE;
    memcpy(p, magic, sizeof(magic));
    p[4] = KEYRING_FORMAT_V1;
    p[5] = (uint8_t)kr->count;
    p += KEYRING_HEADER_LEN;
    for (size_t i = 0; i < kr->count; i++, p += KEYRING_ENTRY_LEN) {
        const struct keyring_key *k = &kr->keys[i];
        put_be32(p, k->version);
        put_be64(p + 4, (uint64_t)k->created_at);
        memcpy(p + 12, k->key, KEYRING_KEY_LEN);
    }
    *ret_len = len;
    return 0;
}

int keyring_parse(const uint8_t *buf, size_t len, struct keyring **ret_kr) {
    struct keyring *kr;
    const uint8_t *p;
    size_t count;

    /* Every length is checked before a byte it covers is read. */
    if (len < KEYRING_HEADER_LEN || memcmp(buf, magic, sizeof(magic)) != 0 || buf[4] != KEYRING_FORMAT_V1)
        return LK_EINVAL;
    count = buf[5];
    if (count == 0 || count > KEYRING_MAX_KEYS || len != KEYRING_HEADER_LEN + count * KEYRING_ENTRY_LEN)
        return LK_EINVAL;
    /* Versions are checked before any key is copied, so a refusal leaves no copy behind. */
    p = buf + KEYRING_HEADER_LEN;
    for (size_t i = 0; i < count; i++) {
        uint32_t v = get_be32(p + i * KEYRING_ENTRY_LEN);
        if (v == 0 || (i > 0 && v <= get_be32(p + (i - 1) * KEYRING_ENTRY_LEN)))
            return LK_EINVAL;
    }
    kr = calloc(1, sizeof(*kr));
    if (kr == NULL)
        return LK_ENOMEM;
    for (size_t i = 0; i < count; i++, p += KEYRING_ENTRY_LEN) {
        struct keyring_key *k = &kr->keys[i];
        k->version = get_be32(p);
        k->created_at = to_int64(get_be64(p + 4));
        memcpy(k->key, p + 12, KEYRING_KEY_LEN);
    }
    kr->count = count;
    *ret_kr = kr;
    return 0;
}

size_t keyring_wrapped_size(const struct keyring *kr) {
    return aead_sealed_size(keyring_serialized_size(kr));
}

int keyring_wrap(const struct keyring *kr, const uint8_t root_key[AEAD_KEY_LEN], uint8_t *out, size_t out_cap,
                 size_t *ret_len) {
    uint8_t plain[KEYRING_SERIALIZED_MAX];
    size_t len = 0;
    int r;

    if (out_cap < keyring_wrapped_size(kr))
        return LK_ERANGE;
    r = keyring_serialize(kr, plain, sizeof(plain), &len);
    if (r == 0)
        r = aead_seal(root_key, KEYRING_ROOT_VERSION, KEYRING_WRAP_AAD, strlen(KEYRING_WRAP_AAD), plain, len, out,
                      out_cap);
    if (r == 0)
        *ret_len = aead_sealed_size(len);
    explicit_bzero(plain, sizeof(plain));
    return r;
}

/*
 * Opens blob under root_key into a heap buffer sized from blob (a newer
 * format may be longer than this build's largest keyring: it should still
 * authenticate, and then fail to parse). Sets *ret_plain (wipe, then free)
 * and *ret_len. Returns aead_open()'s codes, or LK_ENOMEM.
 */
static int open_wrapped(const uint8_t root_key[AEAD_KEY_LEN], const uint8_t *blob, size_t len, uint8_t **ret_plain,
                        size_t *ret_len) {
    uint8_t *plain;
    size_t cap;
    int r;

    /* Too short, or longer than any envelope: refused before any allocation. */
    if (len < AEAD_OVERHEAD || len - AEAD_OVERHEAD > AEAD_PLAINTEXT_MAX)
        return LK_EINTEGRITY;
    cap = len - AEAD_OVERHEAD;
    plain = malloc(cap > 0 ? cap : 1);
    if (plain == NULL)
        return LK_ENOMEM;
    r = aead_open(root_key, KEYRING_WRAP_AAD, strlen(KEYRING_WRAP_AAD), blob, len, plain, cap, ret_len);
    if (r != 0) {
        /* aead_open() already zeroed what it wrote. */
        free(plain);
        return r;
    }
    *ret_plain = plain;
    return 0;
}

int keyring_unwrap(const uint8_t root_key[AEAD_KEY_LEN], const uint8_t *blob, size_t len, struct keyring **ret_kr) {
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int r = open_wrapped(root_key, blob, len, &plain, &plain_len);

    if (r != 0)
        return r;
    r = keyring_parse(plain, plain_len, ret_kr);
    explicit_bzero(plain, plain_len);
    free(plain);
    return r;
}

int keyring_root_check(const uint8_t root_key[AEAD_KEY_LEN], const uint8_t *blob, size_t len) {
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int r = open_wrapped(root_key, blob, len, &plain, &plain_len);

    if (r != 0)
        return r;
    explicit_bzero(plain, plain_len);
    free(plain);
    return 0;
}
