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
#include <zlib.h>

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const char *const kind_names[TOK_KIND__COUNT] = {
    [TOK_KIND_ROOT] = "root",    [TOK_KIND_USER] = "user",   [TOK_KIND_SA] = "sa",
    [TOK_KIND_SESSION] = "sess", [TOK_KIND_WORKLOAD] = "wl",
};

const char *tokfmt_kind_name(enum tok_kind kind) {
    if ((unsigned)kind >= TOK_KIND__COUNT)
        return NULL;
    return kind_names[kind];
}

/* CRC-32 (IEEE 802.3), computed by zlib. */
uint32_t tokfmt_crc32(const void *data, size_t len) {
    return (uint32_t)crc32(0L, data, (uInt)len);
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

static int is_token_char(char c) {
    return is_base62(c) || c == '_';
}

/* Appends src[0..n) to out[*o..cap-1), as much as fits. */
static void put(char *out, size_t cap, size_t *o, const char *src, size_t n) {
    size_t room = cap - 1 - *o;
    if (n > room)
        n = room;
    memcpy(out + *o, src, n);
    *o += n;
}

size_t tokfmt_redact(const char *in, size_t n, char *out, size_t cap) {
    static const char marker[] = "_[redacted]";
    size_t o = 0, i = 0;
    if (cap == 0)
        return 0;
    while (i < n) {
        /* Copy up to the next "lk_" in one go. */
        size_t j = i;
        for (;;) {
            const char *l = memchr(in + j, 'l', n - j);
            j = l != NULL ? (size_t)(l - in) : n;
            if (j == n || (n - j >= 3 && in[j + 1] == 'k' && in[j + 2] == '_'))
                break;
            j++;
        }
        put(out, cap, &o, in + i, j - i);
        if (j == n)
            break;
        i = j;
        size_t end = i;
        while (end < n && is_token_char(in[end]))
            end++;
        size_t run = end - i, keep = run;
        for (size_t k = 0, us = 0; k < run; k++)
            if (in[i + k] == '_' && ++us == 3) {
                keep = k;
                break;
            }
        if (keep > TOKFMT_PUBID_MAX)
            keep = TOKFMT_PUBID_MAX;
        /* Nothing past the id but one '_' (as in a redacted run): keep it. */
        if (run == keep + 1 && in[i + keep] == '_')
            keep = run;
        put(out, cap, &o, in + i, keep);
        if (keep < run)
            put(out, cap, &o, marker, sizeof(marker) - 1);
        i = end;
    }
    out[o] = '\0';
    return o;
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

int tokfmt_find(const char *s, size_t n, struct tokfmt_parsed *ret) {
    const size_t tail = TOKFMT_ID_CHARS + 1 + TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS;
    for (const char *l = s; n >= 3 && (l = memchr(l, 'l', n - 2 - (size_t)(l - s))) != NULL; l++) {
        size_t pos, left = n - (size_t)(l - s);
        int kind = match_prefix(l, left, &pos);
        if (kind < 0 || left - pos < tail || !all_base62(l + pos, TOKFMT_ID_CHARS) || l[pos + TOKFMT_ID_CHARS] != '_' ||
            !all_base62(l + pos + TOKFMT_ID_CHARS + 1, TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS))
            continue;
        if (ret != NULL) {
            ret->kind = (enum tok_kind)kind;
            ret->pubid_len = pos + TOKFMT_ID_CHARS;
            memcpy(ret->pubid, l, ret->pubid_len);
            ret->pubid[ret->pubid_len] = '\0';
        }
        return 1;
    }
    return 0;
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
