/*
 * fuzz_keyring.c - libFuzzer harness for the keyring parser and the envelope
 * reader (core/keyring.h, core/aead.h).
 *
 * The input is used four ways:
 *   1. As a serialized keyring: keyring_parse() must agree with a reference
 *      reader written here from keyring.h's layout table, leave *ret_kr
 *      untouched on refusal, and an accepted input must serialize back to
 *      exactly itself.
 *   2. As an envelope: aead_key_version() must accept exactly what has the
 *      length and format byte of one; aead_open(), keyring_unwrap() and
 *      keyring_root_check() under a fixed key must refuse it with
 *      LK_EINTEGRITY (forging a tag is the one thing nobody can do) and leave
 *      no output behind.
 *   3. As a plaintext and associated data: sealed, it must open to itself,
 *      and with one byte changed (the input picks which) must not.
 *   4. As material for a well-formed keyring (header forced, versions made
 *      increasing): it must parse, and wrapped under a fixed root key it must
 *      unwrap to the same bytes.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/aead.h"
#include "core/errors.h"
#include "core/keyring.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENTINEL 0xA5

static const uint8_t fixed_key[AEAD_KEY_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* The layout read from keyring.h's table, not from keyring.c. */
static int ref_keyring_valid(const uint8_t *buf, size_t len) {
    if (len < 6 || memcmp(buf, "LKKR", 4) != 0 || buf[4] != 1)
        return 0;
    size_t n = buf[5];
    if (n < 1 || n > 64 || len != 6 + 44 * n)
        return 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = buf + 6 + 44 * i;
        uint64_t v = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        if (v <= prev)
            return 0;
        prev = v;
    }
    return 1;
}

static void check_parse(const uint8_t *data, size_t size) {
    struct keyring *kr = (struct keyring *)&fixed_key;
    int r = keyring_parse(data, size, &kr);
    int ok = ref_keyring_valid(data, size);
    CHECK(r == 0 || r == LK_EINVAL);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(kr == (struct keyring *)&fixed_key);
        return;
    }
    uint8_t out[KEYRING_SERIALIZED_MAX];
    size_t len = 0;
    CHECK(keyring_serialize(kr, out, sizeof(out), &len) == 0);
    CHECK(len == size && memcmp(out, data, size) == 0);
    CHECK(keyring_count(kr) == data[5]);
    keyring_free(kr);
}

static void check_envelope(const uint8_t *data, size_t size) {
    uint32_t version = 0xdeadbeef;
    int r = aead_key_version(data, size, &version);
    int ok = size >= AEAD_OVERHEAD && data[0] == AEAD_FORMAT_V1;
    CHECK(r == 0 || r == LK_EINTEGRITY);
    CHECK((r == 0) == ok);
    if (ok)
        CHECK(version == ((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4]));
    else
        CHECK(version == 0xdeadbeef);

    static uint8_t out[1 << 16];
    size_t out_len = 777;
    size_t cap = size < sizeof(out) ? size : sizeof(out);
    memset(out, SENTINEL, cap);
    r = aead_open(fixed_key, "fuzz", 4, data, size, out, cap, &out_len);
    CHECK(r == LK_EINTEGRITY || (r == LK_ERANGE && size > sizeof(out)));
    CHECK(out_len == 777);
    for (size_t i = 0; i < cap; i++)
        CHECK(out[i] == 0 || out[i] == SENTINEL);

    struct keyring *kr = (struct keyring *)&fixed_key;
    CHECK(keyring_unwrap(fixed_key, data, size, &kr) == LK_EINTEGRITY);
    CHECK(kr == (struct keyring *)&fixed_key);
    CHECK(keyring_root_check(fixed_key, data, size) == LK_EINTEGRITY);
}

static void check_seal(const uint8_t *data, size_t size) {
    static uint8_t env[(1 << 16) + AEAD_OVERHEAD], out[1 << 16];
    if (size > sizeof(out))
        return;
    /* The first half is the associated data, the whole input the plaintext. */
    size_t aad_len = size / 2, env_len = aead_sealed_size(size), out_len = 0;
    CHECK(aead_seal(fixed_key, (uint32_t)size, data, aad_len, data, size, env, sizeof(env)) == 0);
    CHECK(aead_open(fixed_key, data, aad_len, env, env_len, out, sizeof(out), &out_len) == 0);
    CHECK(out_len == size && memcmp(out, data, size) == 0);

    size_t pos = size > 0 ? (data[0] | (size_t)data[size - 1] << 8) % env_len : 0;
    uint8_t delta = size > 1 && data[1] != 0 ? data[1] : 1;
    env[pos] ^= delta;
    memset(out, SENTINEL, size);
    out_len = 777;
    CHECK(aead_open(fixed_key, data, aad_len, env, env_len, out, sizeof(out), &out_len) == LK_EINTEGRITY);
    CHECK(out_len == 777);
    for (size_t i = 0; i < size; i++)
        CHECK(out[i] == 0 || out[i] == SENTINEL);
}

static void check_wrap(const uint8_t *data, size_t size) {
    uint8_t buf[KEYRING_SERIALIZED_MAX], again[KEYRING_SERIALIZED_MAX], blob[KEYRING_WRAPPED_MAX];
    size_t n = 1 + (size > 0 ? data[0] % KEYRING_MAX_KEYS : 0);
    size_t len = KEYRING_HEADER_LEN + n * KEYRING_ENTRY_LEN, blob_len = 0, again_len = 0;
    uint32_t version = 0;

    for (size_t i = 0; i < len; i++)
        buf[i] = size > 0 ? data[i % size] : 0;
    memcpy(buf, "LKKR\x01", 5);
    buf[5] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + KEYRING_HEADER_LEN + i * KEYRING_ENTRY_LEN;
        version += 1 + p[3] % 4; /* increasing, with gaps the input chooses */
        p[0] = (uint8_t)(version >> 24);
        p[1] = (uint8_t)(version >> 16);
        p[2] = (uint8_t)(version >> 8);
        p[3] = (uint8_t)version;
    }

    struct keyring *kr = NULL, *back = NULL;
    CHECK(keyring_parse(buf, len, &kr) == 0);
    CHECK(keyring_current(kr) == version);
    CHECK(keyring_wrap(kr, fixed_key, blob, sizeof(blob), &blob_len) == 0);
    CHECK(blob_len == len + AEAD_OVERHEAD);
    CHECK(keyring_root_check(fixed_key, blob, blob_len) == 0);
    CHECK(keyring_unwrap(fixed_key, blob, blob_len, &back) == 0);
    CHECK(keyring_serialize(back, again, sizeof(again), &again_len) == 0);
    CHECK(again_len == len && memcmp(again, buf, len) == 0);
    keyring_free(back);
    keyring_free(kr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_parse(data, size);
    check_envelope(data, size);
    check_seal(data, size);
    check_wrap(data, size);
    return 0;
}
