/*
 * tokfmt.c - building, generating and checking latchkey tokens
 * ("lk_<kind>_<id>_<secret><crc>", see tokfmt.h and docs/token-format.md).
 *
 * Parsing is a pure syntax and checksum check: this module must never look a
 * token up, log it, or keep a copy of it, and must never accept a token whose
 * CRC does not match. Its only I/O is the CSPRNG in tokfmt_generate().
 */
#include "core/tokfmt.h"

#include "core/errors.h"

#include <openssl/rand.h>
#include <string.h>

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const char *const kind_names[TOK_KIND__COUNT] = {
    [TOK_KIND_ROOT] = "root",    [TOK_KIND_USER] = "user",   [TOK_KIND_SA] = "sa",
    [TOK_KIND_SESSION] = "sess", [TOK_KIND_WORKLOAD] = "wl",
};

/* CRC-32/IEEE (reflected polynomial 0xEDB88320), one entry per byte value. */
static const uint32_t crc_table[256] = {
    0x00000000U, 0x77073096U, 0xee0e612cU, 0x990951baU, 0x076dc419U, 0x706af48fU, 0xe963a535U, 0x9e6495a3U, 0x0edb8832U,
    0x79dcb8a4U, 0xe0d5e91eU, 0x97d2d988U, 0x09b64c2bU, 0x7eb17cbdU, 0xe7b82d07U, 0x90bf1d91U, 0x1db71064U, 0x6ab020f2U,
    0xf3b97148U, 0x84be41deU, 0x1adad47dU, 0x6ddde4ebU, 0xf4d4b551U, 0x83d385c7U, 0x136c9856U, 0x646ba8c0U, 0xfd62f97aU,
    0x8a65c9ecU, 0x14015c4fU, 0x63066cd9U, 0xfa0f3d63U, 0x8d080df5U, 0x3b6e20c8U, 0x4c69105eU, 0xd56041e4U, 0xa2677172U,
    0x3c03e4d1U, 0x4b04d447U, 0xd20d85fdU, 0xa50ab56bU, 0x35b5a8faU, 0x42b2986cU, 0xdbbbc9d6U, 0xacbcf940U, 0x32d86ce3U,
    0x45df5c75U, 0xdcd60dcfU, 0xabd13d59U, 0x26d930acU, 0x51de003aU, 0xc8d75180U, 0xbfd06116U, 0x21b4f4b5U, 0x56b3c423U,
    0xcfba9599U, 0xb8bda50fU, 0x2802b89eU, 0x5f058808U, 0xc60cd9b2U, 0xb10be924U, 0x2f6f7c87U, 0x58684c11U, 0xc1611dabU,
    0xb6662d3dU, 0x76dc4190U, 0x01db7106U, 0x98d220bcU, 0xefd5102aU, 0x71b18589U, 0x06b6b51fU, 0x9fbfe4a5U, 0xe8b8d433U,
    0x7807c9a2U, 0x0f00f934U, 0x9609a88eU, 0xe10e9818U, 0x7f6a0dbbU, 0x086d3d2dU, 0x91646c97U, 0xe6635c01U, 0x6b6b51f4U,
    0x1c6c6162U, 0x856530d8U, 0xf262004eU, 0x6c0695edU, 0x1b01a57bU, 0x8208f4c1U, 0xf50fc457U, 0x65b0d9c6U, 0x12b7e950U,
    0x8bbeb8eaU, 0xfcb9887cU, 0x62dd1ddfU, 0x15da2d49U, 0x8cd37cf3U, 0xfbd44c65U, 0x4db26158U, 0x3ab551ceU, 0xa3bc0074U,
    0xd4bb30e2U, 0x4adfa541U, 0x3dd895d7U, 0xa4d1c46dU, 0xd3d6f4fbU, 0x4369e96aU, 0x346ed9fcU, 0xad678846U, 0xda60b8d0U,
    0x44042d73U, 0x33031de5U, 0xaa0a4c5fU, 0xdd0d7cc9U, 0x5005713cU, 0x270241aaU, 0xbe0b1010U, 0xc90c2086U, 0x5768b525U,
    0x206f85b3U, 0xb966d409U, 0xce61e49fU, 0x5edef90eU, 0x29d9c998U, 0xb0d09822U, 0xc7d7a8b4U, 0x59b33d17U, 0x2eb40d81U,
    0xb7bd5c3bU, 0xc0ba6cadU, 0xedb88320U, 0x9abfb3b6U, 0x03b6e20cU, 0x74b1d29aU, 0xead54739U, 0x9dd277afU, 0x04db2615U,
    0x73dc1683U, 0xe3630b12U, 0x94643b84U, 0x0d6d6a3eU, 0x7a6a5aa8U, 0xe40ecf0bU, 0x9309ff9dU, 0x0a00ae27U, 0x7d079eb1U,
    0xf00f9344U, 0x8708a3d2U, 0x1e01f268U, 0x6906c2feU, 0xf762575dU, 0x806567cbU, 0x196c3671U, 0x6e6b06e7U, 0xfed41b76U,
    0x89d32be0U, 0x10da7a5aU, 0x67dd4accU, 0xf9b9df6fU, 0x8ebeeff9U, 0x17b7be43U, 0x60b08ed5U, 0xd6d6a3e8U, 0xa1d1937eU,
    0x38d8c2c4U, 0x4fdff252U, 0xd1bb67f1U, 0xa6bc5767U, 0x3fb506ddU, 0x48b2364bU, 0xd80d2bdaU, 0xaf0a1b4cU, 0x36034af6U,
    0x41047a60U, 0xdf60efc3U, 0xa867df55U, 0x316e8eefU, 0x4669be79U, 0xcb61b38cU, 0xbc66831aU, 0x256fd2a0U, 0x5268e236U,
    0xcc0c7795U, 0xbb0b4703U, 0x220216b9U, 0x5505262fU, 0xc5ba3bbeU, 0xb2bd0b28U, 0x2bb45a92U, 0x5cb36a04U, 0xc2d7ffa7U,
    0xb5d0cf31U, 0x2cd99e8bU, 0x5bdeae1dU, 0x9b64c2b0U, 0xec63f226U, 0x756aa39cU, 0x026d930aU, 0x9c0906a9U, 0xeb0e363fU,
    0x72076785U, 0x05005713U, 0x95bf4a82U, 0xe2b87a14U, 0x7bb12baeU, 0x0cb61b38U, 0x92d28e9bU, 0xe5d5be0dU, 0x7cdcefb7U,
    0x0bdbdf21U, 0x86d3d2d4U, 0xf1d4e242U, 0x68ddb3f8U, 0x1fda836eU, 0x81be16cdU, 0xf6b9265bU, 0x6fb077e1U, 0x18b74777U,
    0x88085ae6U, 0xff0f6a70U, 0x66063bcaU, 0x11010b5cU, 0x8f659effU, 0xf862ae69U, 0x616bffd3U, 0x166ccf45U, 0xa00ae278U,
    0xd70dd2eeU, 0x4e048354U, 0x3903b3c2U, 0xa7672661U, 0xd06016f7U, 0x4969474dU, 0x3e6e77dbU, 0xaed16a4aU, 0xd9d65adcU,
    0x40df0b66U, 0x37d83bf0U, 0xa9bcae53U, 0xdebb9ec5U, 0x47b2cf7fU, 0x30b5ffe9U, 0xbdbdf21cU, 0xcabac28aU, 0x53b39330U,
    0x24b4a3a6U, 0xbad03605U, 0xcdd70693U, 0x54de5729U, 0x23d967bfU, 0xb3667a2eU, 0xc4614ab8U, 0x5d681b02U, 0x2a6f2b94U,
    0xb40bbe37U, 0xc30c8ea1U, 0x5a05df1bU, 0x2d02ef8dU,
};

const char *tokfmt_kind_name(enum tok_kind kind) {
    if ((unsigned)kind >= TOK_KIND__COUNT)
        return NULL;
    return kind_names[kind];
}

uint32_t tokfmt_crc32(const void *data, size_t len) {
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFU;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFU;
}

static int is_base62(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int all_base62(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_base62(s[i]))
            return 0;
    return 1;
}

/* Writes crc as TOKFMT_CRC_CHARS base62 digits, most significant first. 62^6 > 2^32, so it always fits. */
static void crc_encode(uint32_t crc, char out[TOKFMT_CRC_CHARS]) {
    for (int i = TOKFMT_CRC_CHARS - 1; i >= 0; i--) {
        out[i] = base62[crc % 62];
        crc /= 62;
    }
}

/*
 * Matches "lk_<kind>_" at the start of s[0..len). Returns the kind and sets
 * *ret_pos to the byte after the second '_', or returns -1.
 */
static int match_prefix(const char *s, size_t len, size_t *ret_pos) {
    if (len < 3 || memcmp(s, "lk_", 3) != 0)
        return -1;
    for (int k = 0; k < TOK_KIND__COUNT; k++) {
        size_t kl = strlen(kind_names[k]);
        if (len - 3 > kl && memcmp(s + 3, kind_names[k], kl) == 0 && s[3 + kl] == '_') {
            *ret_pos = 3 + kl + 1;
            return k;
        }
    }
    return -1;
}

int tokfmt_build(enum tok_kind kind, const char id[TOKFMT_ID_CHARS], const char secret[TOKFMT_SECRET_CHARS],
                 char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_pubid[TOKFMT_PUBID_BUFSZ]) {
    char tok[TOKFMT_TOKEN_BUFSZ];
    const char *name = tokfmt_kind_name(kind);
    size_t n = 0;

    if (name == NULL || id == NULL || secret == NULL || !all_base62(id, TOKFMT_ID_CHARS) ||
        !all_base62(secret, TOKFMT_SECRET_CHARS))
        return LK_EINVAL;

    size_t kl = strlen(name);
    memcpy(tok + n, "lk_", 3);
    n += 3;
    memcpy(tok + n, name, kl);
    n += kl;
    tok[n++] = '_';
    memcpy(tok + n, id, TOKFMT_ID_CHARS);
    n += TOKFMT_ID_CHARS;
    size_t pubid_len = n;
    tok[n++] = '_';
    memcpy(tok + n, secret, TOKFMT_SECRET_CHARS);
    n += TOKFMT_SECRET_CHARS;
    crc_encode(tokfmt_crc32(tok, n), tok + n);
    n += TOKFMT_CRC_CHARS;
    tok[n] = '\0';

    memcpy(ret_pubid, tok, pubid_len);
    ret_pubid[pubid_len] = '\0';
    memcpy(ret_token, tok, n + 1);
    explicit_bzero(tok, sizeof(tok));
    return 0;
}

/*
 * Fills out[0..n) with uniformly random base62 characters. A byte below 248
 * (4 * 62) maps to byte % 62 with no bias; larger bytes are rejected and
 * redrawn. Returns 0 or LK_EINTERNAL.
 */
static int random_base62(char *out, size_t n) {
    unsigned char buf[64];
    size_t have = 0, used = 0, i = 0;
    int r = 0;

    while (i < n) {
        if (used == have) {
            if (RAND_bytes(buf, (int)sizeof(buf)) != 1) {
                r = LK_EINTERNAL;
                goto out;
            }
            have = sizeof(buf);
            used = 0;
        }
        unsigned char b = buf[used++];
        if (b < 248)
            out[i++] = base62[b % 62];
    }
out:
    explicit_bzero(buf, sizeof(buf));
    return r;
}

int tokfmt_generate(enum tok_kind kind, char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_pubid[TOKFMT_PUBID_BUFSZ]) {
    char id[TOKFMT_ID_CHARS];
    char secret[TOKFMT_SECRET_CHARS];
    int r;

    if (tokfmt_kind_name(kind) == NULL)
        return LK_EINVAL;
    r = random_base62(id, sizeof(id));
    if (r < 0)
        goto out;
    r = random_base62(secret, sizeof(secret));
    if (r < 0)
        goto out;
    r = tokfmt_build(kind, id, secret, ret_token, ret_pubid);
out:
    explicit_bzero(secret, sizeof(secret));
    return r;
}

int tokfmt_parse(const char *s, size_t len, struct tokfmt_parsed *ret) {
    char want[TOKFMT_CRC_CHARS];
    size_t pos;

    if (s == NULL || len > TOKFMT_TOKEN_MAX)
        return LK_EBADTOKEN;
    int kind = match_prefix(s, len, &pos);
    if (kind < 0)
        return LK_EBADTOKEN;
    size_t pubid_len = pos + TOKFMT_ID_CHARS;
    if (len != pubid_len + 1 + TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS)
        return LK_EBADTOKEN;
    if (!all_base62(s + pos, TOKFMT_ID_CHARS) || s[pubid_len] != '_' ||
        !all_base62(s + pubid_len + 1, TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS))
        return LK_EBADTOKEN;
    /* Comparing the canonical encoding also rejects digit strings that decode above 2^32. */
    size_t body = len - TOKFMT_CRC_CHARS;
    crc_encode(tokfmt_crc32(s, body), want);
    if (memcmp(want, s + body, TOKFMT_CRC_CHARS) != 0)
        return LK_EBADTOKEN;

    ret->kind = (enum tok_kind)kind;
    memcpy(ret->pubid, s, pubid_len);
    ret->pubid[pubid_len] = '\0';
    ret->pubid_len = pubid_len;
    return 0;
}

int tokfmt_parse_pubid(const char *s, size_t len, struct tokfmt_parsed *ret) {
    size_t pos;

    if (s == NULL || len > TOKFMT_PUBID_MAX)
        return LK_EINVAL;
    int kind = match_prefix(s, len, &pos);
    if (kind < 0 || len != pos + TOKFMT_ID_CHARS || !all_base62(s + pos, TOKFMT_ID_CHARS))
        return LK_EINVAL;

    ret->kind = (enum tok_kind)kind;
    memcpy(ret->pubid, s, len);
    ret->pubid[len] = '\0';
    ret->pubid_len = len;
    return 0;
}
