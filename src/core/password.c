/*
 * password.c - scrypt password hashes in a self-describing string.
 *
 * Never logs or returns a password; wipes derived keys after use; compares
 * in constant time.
 */
#include "core/password.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/secret.h"

/* N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per hash (OWASP's
 * scrypt floor is N=2^17 with r=8,p=1 for interactive logins on dedicated
 * hardware; 2^15 keeps a 2-core server responsive under login bursts, which
 * the per-account and per-address limits bound). */
#define SCRYPT_LN 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define DK_LEN 32
#define SCRYPT_MAXMEM (256ULL << 20)

int password_check(const char *field, const char *pw, struct lk_error *err) {
    size_t n = strlen(pw);
    if (n < PASSWORD_MIN)
        return lk_error_set(err, LK_EINVAL, "%s: must be at least %d characters", field, PASSWORD_MIN);
    if (n > PASSWORD_MAX)
        return lk_error_set(err, LK_EINVAL, "%s: must be at most %d characters", field, PASSWORD_MAX);
    return 0;
}

static int derive(const char *pw, const unsigned char *salt, size_t saltlen, unsigned ln, unsigned r, unsigned p,
                  unsigned char out[DK_LEN]) {
    if (ln < 10 || ln > 22 || r < 1 || r > 32 || p < 1 || p > 16)
        return -1;
    uint64_t N = (uint64_t)1 << ln;
    if (EVP_PBE_scrypt(pw, strlen(pw), salt, saltlen, N, r, p, SCRYPT_MAXMEM, out, DK_LEN) != 1)
        return -1;
    return 0;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]) {
    unsigned char salt[SALT_LEN], dk[DK_LEN];
    char salt64[32], dk64[64];
    int r = LK_EINTERNAL;
    if (secret_random(salt, sizeof(salt)) != 0)
        goto out;
    if (derive(pw, salt, sizeof(salt), SCRYPT_LN, SCRYPT_R, SCRYPT_P, dk) != 0)
        goto out;
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
    EVP_EncodeBlock((unsigned char *)dk64, dk, sizeof(dk));
    int n =
        snprintf(out, PASSWORD_HASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LN, SCRYPT_R, SCRYPT_P, salt64, dk64);
    r = (n > 0 && n < PASSWORD_HASH_MAX) ? 0 : LK_EINTERNAL;
out:
    explicit_bzero(dk, sizeof(dk));
    return r;
}

/* Decodes standard base64 (with padding) into out; returns the length or -1. */
static int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap) {
    if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > cap + 2)
        return -1;
    unsigned char tmp[128];
    if (inlen / 4 * 3 > sizeof(tmp))
        return -1;
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
    if (n < 0)
        return -1;
    if (inlen >= 1 && in[inlen - 1] == '=')
        n--;
    if (inlen >= 2 && in[inlen - 2] == '=')
        n--;
    if ((size_t)n > cap)
        return -1;
    memcpy(out, tmp, (size_t)n);
    return n;
}

int password_verify(const char *pw, const char *stored) {
    unsigned ln, r, p;
    int consumed = 0;
    unsigned char salt[64], want[DK_LEN], got[DK_LEN];
    int ok = 0;

    if (stored == NULL || sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%n", &ln, &r, &p, &consumed) != 3 || consumed == 0)
        return 0;
    const char *salt64 = stored + consumed;
    const char *dollar = strchr(salt64, '$');
    if (dollar == NULL)
        return 0;
    int saltlen = b64_decode(salt64, (size_t)(dollar - salt64), salt, sizeof(salt));
    int dklen = b64_decode(dollar + 1, strlen(dollar + 1), want, sizeof(want));
    if (saltlen <= 0 || dklen != DK_LEN)
        return 0;
    if (derive(pw, salt, (size_t)saltlen, ln, r, p, got) == 0)
        ok = secret_equal(got, want, DK_LEN);
    explicit_bzero(got, sizeof(got));
    return ok;
}

void password_verify_dummy(const char *pw) {
    static const unsigned char salt[SALT_LEN] = {0};
    unsigned char dk[DK_LEN];
    derive(pw, salt, sizeof(salt), SCRYPT_LN, SCRYPT_R, SCRYPT_P, dk);
    explicit_bzero(dk, sizeof(dk));
}
