/*
 * seal.h - the seal: whether latchkey holds the keys to what it keeps
 * encrypted at rest, and the ways in and out (init, unseal, seal).
 *
 * At init a random 32-byte root key is split into N shares (Shamir, any T
 * rebuild it; core/shamir.h) that are shown once and never stored, and a
 * keyring of data-encryption keys (core/barrier.h) is stored wrapped under
 * the root key. Unsealing collects T shares, rebuilds the root key and
 * unwraps the keyring with it, and opens the seal's own keys (audit
 * checkpoints, audit credential HMACs) sealed under the keyring; sealing
 * wipes them all from memory. While sealed (or
 * before init) nothing can be decrypted and the API answers 503 except
 * health, seal status, init and unseal.
 *
 * One struct seal per process, shared by every thread: every call takes
 * its lock. Never logs a share, a key or a plaintext.
 */
#ifndef LK_SVC_SEAL_H
#define LK_SVC_SEAL_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct lk_error;

#define SEAL_KEY_LEN 32
/* A share: its x coordinate and the 32 bytes of its polynomial values. */
#define SEAL_SHARE_LEN (SEAL_KEY_LEN + 1)
/* Shares as text: hex (2 per byte) or base64, and NUL. */
#define SEAL_SHARE_TEXT_MAX 96
#define SEAL_NONCE_LEN 36 /* a UUID-shaped random id of the unseal attempt */

struct seal;

struct seal_status {
    int initialized;
    int sealed;
    unsigned t, n;     /* 0 before init */
    unsigned progress; /* shares given towards the next unseal */
    char nonce[SEAL_NONCE_LEN + 1];
    int64_t keyring_version; /* the keyring's current key version; 0 while sealed */
};

/* Reads the seal's configuration from the store: initialized or not, and
 * always sealed at first. 0, LK_ENOMEM or the store's error. */
int seal_new(struct store *s, struct seal **ret);
void seal_free(struct seal *seal);

void seal_status(struct seal *seal, struct seal_status *ret);
int seal_is_sealed(struct seal *seal);

/*
 * Initialises: a new root key split into n shares (any t rebuild it), a new
 * keyring wrapped under it and stored with the configuration, in one
 * transaction. The shares go to shares[0..n) and nowhere else; the caller
 * shows them once and wipes them. The seal stays sealed. LK_ECONFLICT if
 * it is initialised already; LK_EINVAL for 1 <= t <= n <= 255 broken.
 */
int seal_init(struct seal *seal, struct store *s, unsigned n, unsigned t, int64_t now,
              uint8_t (*shares)[SEAL_SHARE_LEN], struct lk_error *err);

/*
 * Gives one share, as text (hex or base64 of SEAL_SHARE_LEN bytes). When
 * it is the t-th, rebuilds the root key and unwraps the keyring with it:
 * unsealed on success; otherwise the progress starts over and the error
 * says the shares did not rebuild the key, never which share was wrong.
 * A share given twice in one attempt is refused. *ret gets the status
 * after the call. LK_EINVAL (bad share, or the rebuild failed), LK_ESEALED
 * before init; 0 when the share was taken (or already unsealed).
 */
int seal_unseal(struct seal *seal, struct store *s, const char *share, struct seal_status *ret, struct lk_error *err);

/* Forgets the shares given so far (a new nonce). */
void seal_reset(struct seal *seal);

/* Seals: wipes the keyring and the root key from memory, forgets any
 * progress, and re-reads n and t from s (NULL: keeps them), which an
 * operator rekey may have changed. */
void seal_seal(struct seal *seal, struct store *s);

/*
 * Adds a keyring version that new writes use (values sealed under older
 * ones stay readable) and stores the keyring, wrapped under the root key
 * held since the unseal. *ret_version gets the new version. LK_ESEALED;
 * LK_ECONFLICT when the stored keyring is no longer this root key's (a
 * rekey happened since the unseal) or the keyring is full.
 */
int seal_rotate(struct seal *seal, struct store *s, int64_t now, uint32_t *ret_version, struct lk_error *err);

/*
 * Rekeys a store offline: from enough old shares (text, as seal_unseal
 * takes them), a new root key split into n shares (any t rebuild it) into
 * shares[0..n); the keyring is wrapped under the new root key and stored
 * with the new configuration in one transaction. The data keys do not
 * change, so nothing is re-encrypted. A server unsealed before a rekey
 * keeps serving (its keyring is the same); it must seal and unseal with
 * the new shares before it can rotate.
 */
int seal_rekey(struct store *s, const char *const *old_shares, size_t nold, unsigned n, unsigned t,
               uint8_t (*shares)[SEAL_SHARE_LEN], struct lk_error *err);

/*
 * The barrier, for svc: encrypts pt[0..len) under the keyring's current
 * key, bound to aad (the row it belongs to), into a malloc'd envelope; and
 * opens one. LK_ESEALED while sealed; opening fails with LK_EINTEGRITY for
 * an envelope that was altered, moved to another row (another aad) or
 * sealed under a key this keyring does not hold.
 */
int seal_encrypt(struct seal *seal, const void *aad, size_t aad_len, const void *pt, size_t len, uint8_t **ret,
                 size_t *ret_len);
int seal_decrypt(struct seal *seal, const void *aad, size_t aad_len, const uint8_t *env, size_t env_len, uint8_t **ret,
                 size_t *ret_len);

/*
 * The seal's own keys, 32 random bytes each, stored sealed by the barrier
 * (store meta, each bound to its use by associated data) and in memory only
 * while unsealed: SEAL_KEY_CHECKPOINT signs audit checkpoints (docs/audit.md
 * "Checkpoints"), SEAL_KEY_CREDENTIAL keys the HMAC an audit record keeps
 * of a credential that failed (a store from before the seal kept that one
 * in the clear as "audit_hmac_key": the same bytes are sealed and the clear
 * copy deleted, so old records' HMACs still match). seal_init() stores
 * both with the keyring; an unseal opens the stored ones and writes
 * nothing.
 *
 * seal_key() makes one available: 0 when it is (loaded at the unseal, or
 * now from s); with create, when s holds none, makes one and stores it in
 * its own transaction (so s must not be in a request's: a key in memory
 * must never be one the store rolled back), keeping the one another
 * process stored first. LK_ESEALED; LK_ENOTFOUND (none stored, create 0);
 * LK_EINTEGRITY when the stored one does not open (altered, or not sealed
 * by this keyring): it is never replaced, since what was made under it
 * would all fail; or the store's error.
 *
 * seal_key_mac() is HMAC-SHA256 of data[0..len) under it into out.
 * LK_ESEALED while sealed; LK_ENOTFOUND while the key is not loaded.
 */
enum seal_key_use { SEAL_KEY_CHECKPOINT, SEAL_KEY_CREDENTIAL };
#define SEAL_KEY_USES 2
int seal_key(struct seal *seal, struct store *s, enum seal_key_use use, int create);
int seal_key_mac(struct seal *seal, enum seal_key_use use, const void *data, size_t len, uint8_t out[SEAL_KEY_LEN]);

/* Parses a share's text (hex or base64) into share; 0 or LK_EINVAL. */
int seal_share_parse(const char *text, uint8_t share[SEAL_SHARE_LEN]);
/* Writes a share as hex and as base64 (each NUL-terminated). */
void seal_share_format(const uint8_t share[SEAL_SHARE_LEN], char hex[SEAL_SHARE_TEXT_MAX],
                       char b64[SEAL_SHARE_TEXT_MAX]);

#endif
