/*
 * seal.c - the seal (svc/seal.h): init, unseal, seal, and the barrier's
 * encrypt/decrypt over the unsealed keyring.
 *
 * Kept in the store's meta table: "seal.config" ("shamir N T"),
 * "seal.keyring" (the keyring wrapped under the root key, hex) and the
 * seal's own keys sealed by the barrier (hex): "seal.audit_key" (audit
 * checkpoints) and "seal.credential_key" (audit credential HMACs). Never
 * stored: the root key and the shares. The root key is kept while unsealed
 * (for rotation); the unsealed keyring and the seal's keys live in memory
 * until seal_seal() or exit, and are wiped then.
 */
#include "svc/seal.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/keyring.h"
#include "core/secret.h"
#include "core/shamir.h"
#include "store/store.h"

#define META_CONFIG "seal.config"
#define META_KEYRING "seal.keyring"
#define SHARES_MAX 255

/* The seal's own keys: where each is stored, and the associated data its
 * envelope is bound to, so no other sealed value copied into its place
 * opens as it. The credential key was kept in the clear under "legacy"
 * before the seal existed: the same bytes are sealed (so old records'
 * HMACs still match) and the clear copy deleted in that transaction. */
static const struct key_use {
    const char *meta, *aad, *legacy;
} key_uses[SEAL_KEY_USES] = {
    [SEAL_KEY_CHECKPOINT] = {"seal.audit_key", "latchkey audit checkpoint key", NULL},
    [SEAL_KEY_CREDENTIAL] = {"seal.credential_key", "latchkey audit credential key", "audit_hmac_key"},
};

struct seal {
    pthread_rwlock_t lock; /* readers: status, encrypt, decrypt; writers: the rest */
    int initialized;
    unsigned t, n;
    struct keyring *kr;         /* NULL while sealed */
    uint8_t root[SEAL_KEY_LEN]; /* while unsealed: to wrap a rotated keyring; zeros while sealed */
    uint8_t given[SHARES_MAX][SEAL_SHARE_LEN];
    unsigned ngiven;
    char nonce[SEAL_NONCE_LEN + 1];            /* "" until a share is given */
    uint8_t keys[SEAL_KEY_USES][SEAL_KEY_LEN]; /* while unsealed and has_key; zeros otherwise */
    int has_key[SEAL_KEY_USES];
};

static void forget_keys(struct seal *seal) {
    explicit_bzero(seal->keys, sizeof(seal->keys));
    memset(seal->has_key, 0, sizeof(seal->has_key));
}

static void forget_progress(struct seal *seal) {
    explicit_bzero(seal->given, sizeof(seal->given));
    seal->ngiven = 0;
    seal->nonce[0] = '\0';
}

static void new_nonce(struct seal *seal) {
    uint8_t r[16];
    char hex[33];
    if (secret_random(r, sizeof(r)) != 0)
        memset(r, 0, sizeof(r));
    secret_hex(r, sizeof(r), hex);
    snprintf(seal->nonce, sizeof(seal->nonce), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* "shamir N T" into n and t; 0 or LK_ESTORE. */
static int config_parse(const char *text, unsigned *n, unsigned *t) {
    unsigned a = 0, b = 0;
    char tail;
    if (sscanf(text, "shamir %u %u%c", &a, &b, &tail) != 2 || b < 1 || b > a || a > SHARES_MAX)
        return LK_ESTORE;
    *n = a;
    *t = b;
    return 0;
}

int seal_new(struct store *s, struct seal **ret) {
    struct seal *seal = calloc(1, sizeof(*seal));
    if (seal == NULL)
        return LK_ENOMEM;
    char *config = NULL;
    int r = store_meta_get(s, META_CONFIG, &config);
    if (r == 0) {
        r = config_parse(config, &seal->n, &seal->t);
        seal->initialized = r == 0;
    } else if (r == LK_ENOTFOUND) {
        r = 0;
    }
    free(config);
    if (r != 0) {
        free(seal);
        return r;
    }
    pthread_rwlock_init(&seal->lock, NULL);
    *ret = seal;
    return 0;
}

void seal_free(struct seal *seal) {
    if (seal == NULL)
        return;
    keyring_free(seal->kr);
    explicit_bzero(seal->root, sizeof(seal->root));
    forget_keys(seal);
    forget_progress(seal);
    pthread_rwlock_destroy(&seal->lock);
    free(seal);
}

static void status_locked(const struct seal *seal, struct seal_status *ret) {
    memset(ret, 0, sizeof(*ret));
    ret->initialized = seal->initialized;
    ret->sealed = seal->kr == NULL;
    ret->t = seal->t;
    ret->n = seal->n;
    ret->progress = seal->ngiven;
    memcpy(ret->nonce, seal->nonce, sizeof(ret->nonce));
    ret->keyring_version = seal->kr != NULL ? (int64_t)keyring_current(seal->kr) : 0;
}

void seal_status(struct seal *seal, struct seal_status *ret) {
    pthread_rwlock_rdlock(&seal->lock);
    status_locked(seal, ret);
    pthread_rwlock_unlock(&seal->lock);
}

int seal_is_sealed(struct seal *seal) {
    pthread_rwlock_rdlock(&seal->lock);
    int sealed = seal->kr == NULL;
    pthread_rwlock_unlock(&seal->lock);
    return sealed;
}

/* --- the seal's own keys: stored sealed, opened at unseal -------------------- */

/* The stored envelope of the key for use (hex) into a malloc'd byte
 * string. 0, LK_ENOTFOUND, LK_EINTEGRITY (not hex) or the store's error. */
static int read_key_envelope(struct store *s, enum seal_key_use use, uint8_t **ret, size_t *ret_len) {
    char *hex = NULL;
    int r = store_meta_get(s, key_uses[use].meta, &hex);
    if (r != 0)
        return r;
    size_t hlen = strlen(hex);
    uint8_t *env = hlen % 2 == 0 && hlen > 0 ? malloc(hlen / 2) : NULL;
    if (env == NULL || secret_unhex(hex, hlen / 2, env) != 0) {
        free(env);
        free(hex);
        return LK_EINTEGRITY;
    }
    free(hex);
    *ret = env;
    *ret_len = hlen / 2;
    return 0;
}

/* Opens the envelope of the key for use with kr into key. 0 or LK_EINTEGRITY. */
static int open_key(const struct keyring *kr, enum seal_key_use use, const uint8_t *env, size_t len,
                    uint8_t key[SEAL_KEY_LEN]) {
    uint8_t out[SEAL_KEY_LEN + 1];
    size_t got = 0;
    const char *aad = key_uses[use].aad;
    int r = keyring_open(kr, aad, strlen(aad), env, len, out, sizeof(out), &got);
    if (r == 0 && got != SEAL_KEY_LEN)
        r = LK_EINTEGRITY;
    if (r == 0)
        memcpy(key, out, SEAL_KEY_LEN);
    explicit_bzero(out, sizeof(out));
    return r != 0 ? LK_EINTEGRITY : 0;
}

/* At unseal, under the write lock: the stored keys, those there are and
 * that open. Nothing is written here (an unseal may run inside a request's
 * transaction, which may yet roll back): seal_key() makes one where none
 * is stored. */
static void load_keys_locked(struct seal *seal, struct store *s) {
    forget_keys(seal);
    for (int use = 0; use < SEAL_KEY_USES; use++) {
        uint8_t *env = NULL;
        size_t len = 0;
        if (read_key_envelope(s, use, &env, &len) != 0)
            continue;
        seal->has_key[use] = open_key(seal->kr, use, env, len, seal->keys[use]) == 0;
        if (!seal->has_key[use])
            explicit_bzero(seal->keys[use], SEAL_KEY_LEN);
        free(env);
    }
}

/* The bytes a new key for use starts from: the clear copy kept before the
 * seal existed, when s holds a well-formed one (hex), else random ones. */
static int fresh_key(struct store *s, enum seal_key_use use, uint8_t key[SEAL_KEY_LEN]) {
    char *hex = NULL;
    int r = key_uses[use].legacy != NULL ? store_meta_get(s, key_uses[use].legacy, &hex) : LK_ENOTFOUND;
    if (r == 0) {
        int ok = strlen(hex) == 2 * SEAL_KEY_LEN && secret_unhex(hex, SEAL_KEY_LEN, key) == 0;
        explicit_bzero(hex, strlen(hex));
        free(hex);
        if (ok)
            return 0;
    } else if (r != LK_ENOTFOUND) {
        return r;
    }
    return secret_random(key, SEAL_KEY_LEN) != 0 ? LK_EINTERNAL : 0;
}

/* A new key for use (fresh_key) sealed under kr, bound to its use, as hex
 * into *ret (malloc'd). */
static int new_key_envelope(const struct keyring *kr, struct store *s, enum seal_key_use use, char **ret) {
    uint8_t key[SEAL_KEY_LEN];
    size_t len = aead_sealed_size(SEAL_KEY_LEN);
    uint8_t *env = malloc(len);
    char *hex = malloc(2 * len + 1);
    int r = env == NULL || hex == NULL ? LK_ENOMEM : fresh_key(s, use, key);
    if (r == 0)
        r = keyring_seal(kr, key_uses[use].aad, strlen(key_uses[use].aad), key, sizeof(key), env, len);
    explicit_bzero(key, sizeof(key));
    if (r == 0) {
        secret_hex(env, len, hex);
        *ret = hex;
        hex = NULL;
    }
    free(env);
    free(hex);
    return r;
}

/* Stores the envelope of the key for use unless one is (the first stays:
 * a second key would make every checkpoint or HMAC of the first fail to
 * match), and deletes the key's clear copy, if any, either way. */
static int put_key_if_absent(struct store *s, enum seal_key_use use, const char *hex) {
    char *have = NULL;
    int r = store_meta_get(s, key_uses[use].meta, &have);
    free(have);
    if (r == LK_ENOTFOUND)
        r = store_meta_set(s, key_uses[use].meta, hex);
    if (r == 0 && key_uses[use].legacy != NULL) {
        r = store_meta_delete(s, key_uses[use].legacy);
        if (r == LK_ENOTFOUND)
            r = 0;
    }
    return r;
}

/* --- init ------------------------------------------------------------------- */

struct init_write {
    const char *config;
    const char *keyring_hex;
    char *key_hex[SEAL_KEY_USES]; /* at init only: the seal's keys, sealed under the new keyring */
};

static int write_init(struct store *s, void *arg) {
    const struct init_write *w = arg;
    int r = store_meta_set(s, META_KEYRING, w->keyring_hex);
    for (int use = 0; r == 0 && use < SEAL_KEY_USES; use++)
        if (w->key_hex[use] != NULL)
            r = put_key_if_absent(s, use, w->key_hex[use]);
    return r != 0 || w->config == NULL ? r : store_meta_set(s, META_CONFIG, w->config);
}

/* A new keyring, wrapped under root, as hex into w->keyring_hex, and the
 * seal's keys sealed under it into w->key_hex (all malloc'd). */
static int new_wrapped_keyring(const uint8_t root[SEAL_KEY_LEN], int64_t now, struct store *s, struct init_write *w) {
    struct keyring *kr = NULL;
    uint8_t wrapped[KEYRING_WRAPPED_MAX];
    size_t len = 0;
    int r = keyring_new(now, &kr);
    if (r == 0)
        r = keyring_wrap(kr, root, wrapped, sizeof(wrapped), &len);
    for (int use = 0; r == 0 && use < SEAL_KEY_USES; use++)
        r = new_key_envelope(kr, s, use, &w->key_hex[use]);
    keyring_free(kr);
    char *hex = r == 0 ? malloc(2 * len + 1) : NULL;
    if (r == 0 && hex == NULL)
        r = LK_ENOMEM;
    if (r == 0) {
        secret_hex(wrapped, len, hex);
        w->keyring_hex = hex;
    }
    return r;
}

int seal_init(struct seal *seal, struct store *s, unsigned n, unsigned t, int64_t now,
              uint8_t (*shares)[SEAL_SHARE_LEN], struct lk_error *err) {
    if (t < 1 || t > n || n > SHARES_MAX)
        return lk_error_set(err, LK_EINVAL, "need 1 <= threshold <= shares <= %d", SHARES_MAX);
    uint8_t root[SEAL_KEY_LEN], coeffs[(SHARES_MAX - 1) * SEAL_KEY_LEN];
    size_t flat_len = (size_t)n * SEAL_SHARE_LEN;
    uint8_t *flat = calloc(1, flat_len);
    struct init_write w = {0};
    if (flat == NULL)
        return LK_ENOMEM;
    char config[32];
    size_t ncoeffs = (size_t)(t - 1) * SEAL_KEY_LEN;
    pthread_rwlock_wrlock(&seal->lock);
    int r = 0;
    if (seal->initialized) {
        r = lk_error_set(err, LK_ECONFLICT, "latchkey is already initialized");
        goto out;
    }
    if (secret_random(root, sizeof(root)) != 0 || (ncoeffs > 0 && secret_random(coeffs, ncoeffs) != 0)) {
        r = lk_error_set(err, LK_EINTERNAL, "no randomness for the root key");
        goto out;
    }
    r = shamir_split(root, SEAL_KEY_LEN, n, t, ncoeffs > 0 ? coeffs : NULL, ncoeffs, flat);
    if (r == 0)
        r = new_wrapped_keyring(root, now, s, &w);
    if (r != 0) {
        lk_error_set(err, r, "could not make the root key's shares and keyring");
        goto out;
    }
    snprintf(config, sizeof(config), "shamir %u %u", n, t);
    w.config = config;
    r = store_tx(s, write_init, &w);
    if (r != 0) {
        lk_error_set(err, r, "could not store the seal's configuration");
        goto out;
    }
    for (unsigned i = 0; i < n; i++)
        memcpy(shares[i], flat + (size_t)i * SEAL_SHARE_LEN, SEAL_SHARE_LEN);
    seal->initialized = 1;
    seal->n = n;
    seal->t = t;
    forget_progress(seal);
out:
    explicit_bzero(root, sizeof(root));
    explicit_bzero(coeffs, sizeof(coeffs));
    explicit_bzero(flat, flat_len);
    free(flat);
    free((char *)w.keyring_hex);
    for (int use = 0; use < SEAL_KEY_USES; use++)
        free(w.key_hex[use]);
    pthread_rwlock_unlock(&seal->lock);
    return r;
}

/* --- unseal, reset, seal ------------------------------------------------------- */

/* Re-reads "seal.config": an operator rekey may have changed n and t. */
static void reload_config(struct seal *seal, struct store *s) {
    char *config = NULL;
    unsigned n = 0, t = 0;
    if (s != NULL && store_meta_get(s, META_CONFIG, &config) == 0 && config_parse(config, &n, &t) == 0) {
        seal->n = n;
        seal->t = t;
    }
    free(config);
}

int seal_share_parse(const char *text, uint8_t share[SEAL_SHARE_LEN]) {
    size_t len = text != NULL ? strlen(text) : 0;
    if (len == 2 * SEAL_SHARE_LEN)
        return secret_unhex(text, SEAL_SHARE_LEN, share) == 0 ? 0 : LK_EINVAL;
    /* 33 bytes are exactly 44 base64 characters, without padding. */
    if (len == 4 * ((SEAL_SHARE_LEN + 2) / 3)) {
        unsigned char tmp[SEAL_SHARE_LEN + 3];
        int n = EVP_DecodeBlock(tmp, (const unsigned char *)text, (int)len);
        int ok = n == SEAL_SHARE_LEN;
        if (ok)
            memcpy(share, tmp, SEAL_SHARE_LEN);
        explicit_bzero(tmp, sizeof(tmp));
        return ok ? 0 : LK_EINVAL;
    }
    return LK_EINVAL;
}

void seal_share_format(const uint8_t share[SEAL_SHARE_LEN], char hex[SEAL_SHARE_TEXT_MAX],
                       char b64[SEAL_SHARE_TEXT_MAX]) {
    secret_hex(share, SEAL_SHARE_LEN, hex);
    EVP_EncodeBlock((unsigned char *)b64, share, SEAL_SHARE_LEN);
}

/* The stored wrapped keyring into wrapped (KEYRING_WRAPPED_MAX bytes). */
static int read_wrapped(struct store *s, uint8_t *wrapped, size_t *ret_len, struct lk_error *err) {
    char *hex = NULL;
    int r = store_meta_get(s, META_KEYRING, &hex);
    if (r != 0)
        return lk_error_set(err, r == LK_ENOTFOUND ? LK_ESTORE : r, "could not read the wrapped keyring");
    size_t hlen = strlen(hex);
    if (hlen % 2 != 0 || hlen / 2 > KEYRING_WRAPPED_MAX || secret_unhex(hex, hlen / 2, wrapped) != 0) {
        free(hex);
        return lk_error_set(err, LK_EINTEGRITY, "the stored keyring is not readable");
    }
    free(hex);
    *ret_len = hlen / 2;
    return 0;
}

/* Wraps kr under root and stores it as hex, with config when not NULL,
 * in one transaction. */
static int store_wrapped(struct store *s, const struct keyring *kr, const uint8_t root[SEAL_KEY_LEN],
                         const char *config) {
    uint8_t wrapped[KEYRING_WRAPPED_MAX];
    char hex[2 * KEYRING_WRAPPED_MAX + 1];
    size_t len = 0;
    int r = keyring_wrap(kr, root, wrapped, sizeof(wrapped), &len);
    if (r != 0)
        return r;
    secret_hex(wrapped, len, hex);
    struct init_write w = {.config = config, .keyring_hex = hex};
    return store_tx(s, write_init, &w);
}

/* With t shares given: the root key they rebuild unwraps the stored
 * keyring, or they do not belong together. */
static int try_unseal(struct seal *seal, struct store *s, struct lk_error *err) {
    const uint8_t *ptrs[SHARES_MAX];
    uint8_t root[SEAL_KEY_LEN], wrapped[KEYRING_WRAPPED_MAX];
    size_t wlen = 0;
    for (unsigned i = 0; i < seal->ngiven; i++)
        ptrs[i] = seal->given[i];
    int r = read_wrapped(s, wrapped, &wlen, err);
    if (r != 0)
        return r;
    r = shamir_combine(ptrs, seal->ngiven, SEAL_SHARE_LEN, root);
    struct keyring *kr = NULL;
    if (r == 0)
        r = keyring_unwrap(root, wrapped, wlen, &kr);
    if (r == 0)
        memcpy(seal->root, root, sizeof(root));
    explicit_bzero(root, sizeof(root));
    if (r != 0) {
        unsigned got = seal->ngiven;
        forget_progress(seal);
        return lk_error_set(err, LK_EINVAL,
                            "unseal failed: these %u key shares do not rebuild the root key; give %u shares again", got,
                            seal->t);
    }
    seal->kr = kr;
    load_keys_locked(seal, s);
    forget_progress(seal);
    return 0;
}

int seal_unseal(struct seal *seal, struct store *s, const char *text, struct seal_status *ret, struct lk_error *err) {
    uint8_t share[SEAL_SHARE_LEN];
    if (seal_share_parse(text, share) != 0)
        return lk_error_set(err, LK_EINVAL, "'key' must be a valid hex or base64 string (one unseal key share)");
    pthread_rwlock_wrlock(&seal->lock);
    int r = 0;
    if (!seal->initialized) {
        r = lk_error_set(err, LK_ESEALED, "latchkey is not initialized: there is nothing to unseal yet");
        goto out;
    }
    if (seal->kr != NULL)
        goto out; /* unsealed already: nothing to do */
    for (unsigned i = 0; i < seal->ngiven; i++) {
        if (seal->given[i][0] == share[0]) {
            r = lk_error_set(err, LK_EINVAL, "this key share was already given in this unseal attempt");
            goto out;
        }
    }
    if (seal->ngiven == 0) {
        reload_config(seal, s);
        new_nonce(seal);
    }
    memcpy(seal->given[seal->ngiven++], share, SEAL_SHARE_LEN);
    if (seal->ngiven >= seal->t)
        r = try_unseal(seal, s, err);
out:
    explicit_bzero(share, sizeof(share));
    if (ret != NULL)
        status_locked(seal, ret);
    pthread_rwlock_unlock(&seal->lock);
    return r;
}

void seal_reset(struct seal *seal) {
    pthread_rwlock_wrlock(&seal->lock);
    forget_progress(seal);
    pthread_rwlock_unlock(&seal->lock);
}

void seal_seal(struct seal *seal, struct store *s) {
    pthread_rwlock_wrlock(&seal->lock);
    reload_config(seal, s);
    keyring_free(seal->kr); /* wipes its keys */
    seal->kr = NULL;
    explicit_bzero(seal->root, sizeof(seal->root));
    forget_keys(seal);
    forget_progress(seal);
    pthread_rwlock_unlock(&seal->lock);
}

/* --- rotation and rekeying ---------------------------------------------------- */

int seal_rotate(struct seal *seal, struct store *s, int64_t now, uint32_t *ret_version, struct lk_error *err) {
    uint8_t wrapped[KEYRING_WRAPPED_MAX], buf[KEYRING_SERIALIZED_MAX];
    size_t wlen = 0, blen = 0;
    struct keyring *next = NULL;
    pthread_rwlock_wrlock(&seal->lock);
    int r = 0;
    if (seal->kr == NULL) {
        r = lk_error_set(err, LK_ESEALED, "latchkey is sealed");
        goto out;
    }
    /* The stored keyring must still be this one's: after a rekey this
     * server's root key no longer opens it, and a rotation wrapped under
     * the old root key would lock every share out. */
    r = read_wrapped(s, wrapped, &wlen, err);
    if (r == 0 && keyring_root_check(seal->root, wrapped, wlen) != 0)
        r = lk_error_set(err, LK_ECONFLICT,
                         "the root key was changed (operator rekey) since this server was unsealed: seal it and "
                         "unseal it with the new shares first");
    if (r != 0)
        goto out;
    /* Rotate a copy: the keyring in use changes only once the new one is stored. */
    r = keyring_serialize(seal->kr, buf, sizeof(buf), &blen);
    if (r == 0)
        r = keyring_parse(buf, blen, &next);
    if (r == 0)
        r = keyring_rotate(next, now, ret_version);
    if (r == LK_ERANGE)
        r = lk_error_set(err, LK_ECONFLICT, "the keyring holds the most keys it can; no rotation is possible");
    else if (r != 0)
        r = lk_error_set(err, r, "could not rotate the keyring");
    if (r == 0 && (r = store_wrapped(s, next, seal->root, NULL)) != 0)
        lk_error_set(err, r, "could not store the rotated keyring");
    if (r == 0) {
        keyring_free(seal->kr);
        seal->kr = next;
        next = NULL;
    }
out:
    keyring_free(next);
    explicit_bzero(buf, sizeof(buf));
    pthread_rwlock_unlock(&seal->lock);
    return r;
}

int seal_rekey(struct store *s, const char *const *old_shares, size_t nold, unsigned n, unsigned t,
               uint8_t (*shares)[SEAL_SHARE_LEN], struct lk_error *err) {
    uint8_t given[SHARES_MAX][SEAL_SHARE_LEN], root[SEAL_KEY_LEN], next_root[SEAL_KEY_LEN];
    uint8_t coeffs[(SHARES_MAX - 1) * SEAL_KEY_LEN], wrapped[KEYRING_WRAPPED_MAX];
    const uint8_t *ptrs[SHARES_MAX];
    size_t wlen = 0, ncoeffs = (size_t)(t - 1) * SEAL_KEY_LEN;
    struct keyring *kr = NULL;
    uint8_t *flat = NULL;
    int r = 0;
    if (t < 1 || t > n || n > SHARES_MAX || nold < 1 || nold > SHARES_MAX)
        return lk_error_set(err, LK_EINVAL, "need 1 <= threshold <= shares <= %d, and the old shares", SHARES_MAX);
    for (size_t i = 0; r == 0 && i < nold; i++) {
        if (seal_share_parse(old_shares[i], given[i]) != 0)
            r = lk_error_set(err, LK_EINVAL, "old share %zu: not a valid hex or base64 key share", i + 1);
        ptrs[i] = given[i];
    }
    if (r == 0)
        r = read_wrapped(s, wrapped, &wlen, err);
    if (r == 0 &&
        (shamir_combine(ptrs, nold, SEAL_SHARE_LEN, root) != 0 || keyring_unwrap(root, wrapped, wlen, &kr) != 0))
        r = lk_error_set(err, LK_EINVAL, "these %zu old key shares do not rebuild the root key", nold);
    flat = r == 0 ? calloc(n, SEAL_SHARE_LEN) : NULL;
    if (r == 0 && flat == NULL)
        r = lk_error_set(err, LK_ENOMEM, "out of memory");
    if (r == 0 &&
        (secret_random(next_root, sizeof(next_root)) != 0 || (ncoeffs > 0 && secret_random(coeffs, ncoeffs) != 0)))
        r = lk_error_set(err, LK_EINTERNAL, "no randomness for the new root key");
    if (r == 0 && shamir_split(next_root, SEAL_KEY_LEN, n, t, ncoeffs > 0 ? coeffs : NULL, ncoeffs, flat) != 0)
        r = lk_error_set(err, LK_EINTERNAL, "could not split the new root key");
    char config[32];
    snprintf(config, sizeof(config), "shamir %u %u", n, t);
    if (r == 0 && (r = store_wrapped(s, kr, next_root, config)) != 0)
        lk_error_set(err, r, "could not store the keyring under the new root key");
    for (unsigned i = 0; r == 0 && i < n; i++)
        memcpy(shares[i], flat + (size_t)i * SEAL_SHARE_LEN, SEAL_SHARE_LEN);
    keyring_free(kr);
    if (flat != NULL)
        explicit_bzero(flat, (size_t)n * SEAL_SHARE_LEN);
    free(flat);
    explicit_bzero(given, sizeof(given));
    explicit_bzero(root, sizeof(root));
    explicit_bzero(next_root, sizeof(next_root));
    explicit_bzero(coeffs, sizeof(coeffs));
    return r;
}

/* --- the barrier --------------------------------------------------------------- */

int seal_encrypt(struct seal *seal, const void *aad, size_t aad_len, const void *pt, size_t len, uint8_t **ret,
                 size_t *ret_len) {
    size_t cap = aead_sealed_size(len);
    uint8_t *out = malloc(cap);
    if (out == NULL)
        return LK_ENOMEM;
    pthread_rwlock_rdlock(&seal->lock);
    int r = seal->kr == NULL ? LK_ESEALED : keyring_seal(seal->kr, aad, aad_len, pt, len, out, cap);
    pthread_rwlock_unlock(&seal->lock);
    if (r != 0) {
        free(out);
        return r;
    }
    *ret = out;
    *ret_len = cap;
    return 0;
}

int seal_decrypt(struct seal *seal, const void *aad, size_t aad_len, const uint8_t *env, size_t env_len, uint8_t **ret,
                 size_t *ret_len) {
    size_t cap = env_len > AEAD_OVERHEAD ? env_len - AEAD_OVERHEAD : 1;
    uint8_t *out = malloc(cap);
    size_t len = 0;
    if (out == NULL)
        return LK_ENOMEM;
    pthread_rwlock_rdlock(&seal->lock);
    int r = seal->kr == NULL ? LK_ESEALED : keyring_open(seal->kr, aad, aad_len, env, env_len, out, cap, &len);
    pthread_rwlock_unlock(&seal->lock);
    if (r != 0) {
        explicit_bzero(out, cap);
        free(out);
        return r;
    }
    *ret = out;
    *ret_len = len;
    return 0;
}

/* --- the seal's own keys: made where none is stored -------------------------- */

struct key_write {
    enum seal_key_use use;
    const char *hex;
};

static int put_key_tx(struct store *s, void *arg) {
    const struct key_write *w = arg;
    return put_key_if_absent(s, w->use, w->hex);
}

int seal_key(struct seal *seal, struct store *s, enum seal_key_use use, int create) {
    if ((unsigned)use >= SEAL_KEY_USES)
        return LK_EINVAL;
    pthread_rwlock_rdlock(&seal->lock);
    int r = seal->kr == NULL ? LK_ESEALED : 0, have = seal->has_key[use];
    pthread_rwlock_unlock(&seal->lock);
    if (r != 0 || have)
        return r;
    /* The store is read and written outside the lock: encrypting threads
     * never wait on it. Whatever is stored then is what is opened, ours or
     * another process's, under the keyring held when it is opened (a seal
     * and unseal meanwhile hold the same keyring, or none). */
    uint8_t *env = NULL;
    size_t len = 0;
    r = read_key_envelope(s, use, &env, &len);
    if (r == LK_ENOTFOUND && create) {
        char *hex = NULL;
        uint8_t key[SEAL_KEY_LEN];
        /* Its bytes are chosen outside the lock; only the sealing needs it. */
        uint8_t *fresh_env = NULL;
        size_t elen = 0;
        r = fresh_key(s, use, key);
        if (r == 0)
            r = seal_encrypt(seal, key_uses[use].aad, strlen(key_uses[use].aad), key, sizeof(key), &fresh_env, &elen);
        explicit_bzero(key, sizeof(key));
        hex = r == 0 ? malloc(2 * elen + 1) : NULL;
        if (r == 0 && hex == NULL)
            r = LK_ENOMEM;
        if (r == 0) {
            secret_hex(fresh_env, elen, hex);
            struct key_write w = {use, hex};
            r = store_tx(s, put_key_tx, &w);
        }
        free(fresh_env);
        free(hex);
        if (r == 0)
            r = read_key_envelope(s, use, &env, &len);
    }
    if (r != 0)
        return r;
    uint8_t key[SEAL_KEY_LEN];
    pthread_rwlock_wrlock(&seal->lock);
    if (seal->kr == NULL)
        r = LK_ESEALED;
    else if (!seal->has_key[use] && (r = open_key(seal->kr, use, env, len, key)) == 0) {
        memcpy(seal->keys[use], key, sizeof(key));
        seal->has_key[use] = 1;
    }
    pthread_rwlock_unlock(&seal->lock);
    explicit_bzero(key, sizeof(key));
    free(env);
    return r;
}

int seal_key_mac(struct seal *seal, enum seal_key_use use, const void *data, size_t len, uint8_t out[SEAL_KEY_LEN]) {
    if ((unsigned)use >= SEAL_KEY_USES)
        return LK_EINVAL;
    pthread_rwlock_rdlock(&seal->lock);
    int r = seal->kr == NULL ? LK_ESEALED : !seal->has_key[use] ? LK_ENOTFOUND : 0;
    if (r == 0)
        r = secret_hmac(seal->keys[use], SEAL_KEY_LEN, data, len, out);
    pthread_rwlock_unlock(&seal->lock);
    return r;
}
