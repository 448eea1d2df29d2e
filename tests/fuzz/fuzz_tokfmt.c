/*
 * fuzz_tokfmt.c - libFuzzer harness for tokfmt_parse() and tokfmt_parse_pubid().
 *
 * The input is used three ways:
 *   1. As raw bytes for both parsers, checked against an independent
 *      reference validator (its own kind table, bitwise CRC-32 and base62
 *      encoding): a parser must accept exactly what the reference accepts,
 *      fill ret with the input's own kind and public id, and leave ret
 *      untouched on failure. An accepted token must be rebuilt byte for byte
 *      by tokfmt_build() from its parts, and its public id must parse.
 *   2. As material for a well-formed token (random fuzzing almost never hits a
 *      matching CRC): the built token must parse, and every one-byte change,
 *      one-byte truncation or one-byte extension of it must be rejected.
 *   3. As raw id/secret for tokfmt_build(), which must accept exactly
 *      all-base62 material and not touch its outputs otherwise.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/tokfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference copies of the format's constants, written out from docs/token-format.md, not from tokfmt.c. */
static const char *const ref_kinds[TOK_KIND__COUNT] = {"root", "user", "sa", "sess", "wl"};
static const char ref_b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int ref_is_b62(unsigned char c) {
    return memchr(ref_b62, c, 62) != NULL;
}

/* Bitwise CRC-32/IEEE, independent of tokfmt.c's table. */
static uint32_t ref_crc32(const char *s, size_t n) {
    uint32_t crc = 0xFFFFFFFFU;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned char)s[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
    }
    return ~crc;
}

/* The CRC as six base62 digits, most significant first. */
static void ref_crc_text(uint32_t crc, char out[TOKFMT_CRC_CHARS]) {
    uint64_t v = crc;
    for (int i = TOKFMT_CRC_CHARS - 1; i >= 0; i--) {
        out[i] = ref_b62[v % 62];
        v /= 62;
    }
}

/* The kind whose "lk_<kind>_" prefixes s[0..len), with *ret_pos after it; or -1. */
static int ref_kind(const char *s, size_t len, size_t *ret_pos) {
    for (int k = 0; k < TOK_KIND__COUNT; k++) {
        size_t kl = strlen(ref_kinds[k]);
        if (len >= 3 + kl + 1 && memcmp(s, "lk_", 3) == 0 && memcmp(s + 3, ref_kinds[k], kl) == 0 && s[3 + kl] == '_') {
            *ret_pos = 3 + kl + 1;
            return k;
        }
    }
    return -1;
}

static int ref_all_b62(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!ref_is_b62((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 if s[0..len) is a valid full token; sets kind and the public id length. */
static int ref_token_valid(const char *s, size_t len, int *ret_kind, size_t *ret_pubid_len) {
    size_t pos;
    char want[TOKFMT_CRC_CHARS];
    int k = ref_kind(s, len, &pos);
    if (k < 0)
        return 0;
    size_t pl = pos + TOKFMT_ID_CHARS;
    if (len != pl + 1 + TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS)
        return 0;
    if (!ref_all_b62(s + pos, TOKFMT_ID_CHARS) || s[pl] != '_' ||
        !ref_all_b62(s + pl + 1, TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS))
        return 0;
    ref_crc_text(ref_crc32(s, len - TOKFMT_CRC_CHARS), want);
    if (memcmp(want, s + len - TOKFMT_CRC_CHARS, TOKFMT_CRC_CHARS) != 0)
        return 0;
    *ret_kind = k;
    *ret_pubid_len = pl;
    return 1;
}

/* 1 if s[0..len) is a valid public id. */
static int ref_pubid_valid(const char *s, size_t len, int *ret_kind) {
    size_t pos;
    int k = ref_kind(s, len, &pos);
    if (k < 0 || len != pos + TOKFMT_ID_CHARS || !ref_all_b62(s + pos, TOKFMT_ID_CHARS))
        return 0;
    *ret_kind = k;
    return 1;
}

/* Parses a token that is known to be valid (kind k, public id pubid) and checks every field. */
static void expect_token_ok(const char *tok, size_t len, int k, const char *pubid, size_t pubid_len) {
    struct tokfmt_parsed p;
    memset(&p, 0x5A, sizeof(p));
    int r = tokfmt_parse(tok, len, &p);
    if (r != 0)
        fprintf(stderr, "valid token rejected (%d): %.*s\n", r, (int)len, tok);
    CHECK(r == 0);
    CHECK((int)p.kind == k);
    CHECK(p.pubid_len == pubid_len);
    CHECK(memcmp(p.pubid, pubid, pubid_len) == 0 && p.pubid[pubid_len] == '\0');
}

/* Parses bytes that must not be accepted; ret must stay as it was. */
static void expect_token_bad(const char *tok, size_t len) {
    struct tokfmt_parsed p, sentinel;
    memset(&sentinel, 0xA5, sizeof(sentinel));
    memcpy(&p, &sentinel, sizeof(p));
    int r = tokfmt_parse(tok, len, &p);
    if (r != LK_EBADTOKEN)
        fprintf(stderr, "corrupted token accepted (%d): %.*s\n", r, (int)len, tok);
    CHECK(r == LK_EBADTOKEN);
    CHECK(memcmp(&p, &sentinel, sizeof(p)) == 0);
}

static void check_raw(const char *s, size_t size) {
    struct tokfmt_parsed p, q, sentinel;
    int k = -1;
    size_t pl = 0;

    memset(&sentinel, 0xA5, sizeof(sentinel));

    /* Full tokens. */
    memcpy(&p, &sentinel, sizeof(p));
    int r = tokfmt_parse(s, size, &p);
    int ok = ref_token_valid(s, size, &k, &pl);
    CHECK(r == 0 || r == LK_EBADTOKEN);
    if ((r == 0) != ok)
        fprintf(stderr, "tokfmt_parse=%d but reference says %s: %.*s\n", r, ok ? "valid" : "invalid", (int)size, s);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(memcmp(&p, &sentinel, sizeof(p)) == 0);
    } else {
        char tok[TOKFMT_TOKEN_BUFSZ], pub[TOKFMT_PUBID_BUFSZ];
        CHECK((int)p.kind == k);
        CHECK(p.pubid_len == pl);
        CHECK(memcmp(p.pubid, s, pl) == 0 && p.pubid[pl] == '\0');
        /* The same parts rebuild exactly the input. */
        CHECK(tokfmt_build((enum tok_kind)k, s + pl - TOKFMT_ID_CHARS, s + pl + 1, tok, pub) == 0);
        CHECK(strlen(tok) == size && memcmp(tok, s, size) == 0);
        CHECK(strcmp(pub, p.pubid) == 0);
        /* A token's prefix is its own public id. */
        memcpy(&q, &sentinel, sizeof(q));
        CHECK(tokfmt_parse_pubid(s, pl, &q) == 0);
        CHECK(q.kind == p.kind && q.pubid_len == p.pubid_len && strcmp(q.pubid, p.pubid) == 0);
    }

    /* Public ids. */
    memcpy(&q, &sentinel, sizeof(q));
    r = tokfmt_parse_pubid(s, size, &q);
    ok = ref_pubid_valid(s, size, &k);
    CHECK(r == 0 || r == LK_EINVAL);
    if ((r == 0) != ok)
        fprintf(stderr, "tokfmt_parse_pubid=%d but reference says %s: %.*s\n", r, ok ? "valid" : "invalid", (int)size,
                s);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(memcmp(&q, &sentinel, sizeof(q)) == 0);
    } else {
        CHECK((int)q.kind == k);
        CHECK(q.pubid_len == size && memcmp(q.pubid, s, size) == 0 && q.pubid[size] == '\0');
        /* A public id is never itself a full token. */
        memcpy(&p, &sentinel, sizeof(p));
        CHECK(tokfmt_parse(s, size, &p) == LK_EBADTOKEN);
    }
}

static uint8_t at(const uint8_t *data, size_t size, size_t i) {
    return size == 0 ? 0 : data[i % size];
}

static void check_built(const uint8_t *data, size_t size) {
    char id[TOKFMT_ID_CHARS], secret[TOKFMT_SECRET_CHARS];
    char tok[TOKFMT_TOKEN_BUFSZ], pub[TOKFMT_PUBID_BUFSZ];
    char buf[TOKFMT_TOKEN_BUFSZ + 1];
    size_t i = 0;

    int k = at(data, size, i++) % TOK_KIND__COUNT;
    for (size_t j = 0; j < sizeof(id); j++)
        id[j] = ref_b62[at(data, size, i++) % 62];
    for (size_t j = 0; j < sizeof(secret); j++)
        secret[j] = ref_b62[at(data, size, i++) % 62];
    CHECK(tokfmt_build((enum tok_kind)k, id, secret, tok, pub) == 0);

    size_t len = strlen(tok);
    size_t pl = strlen(pub);
    int rk = -1;
    size_t rpl = 0;
    CHECK(len <= TOKFMT_TOKEN_MAX && pl <= TOKFMT_PUBID_MAX);
    CHECK(ref_token_valid(tok, len, &rk, &rpl) && rk == k && rpl == pl);
    CHECK(memcmp(tok, pub, pl) == 0);
    expect_token_ok(tok, len, k, pub, pl);

    /* Any single changed byte: CRC-32 detects every one-byte error in the body, and the CRC text is canonical. */
    size_t pos = at(data, size, i++) % len;
    char nb = (char)at(data, size, i++);
    if (nb != tok[pos]) {
        memcpy(buf, tok, len);
        buf[pos] = nb;
        expect_token_bad(buf, len);
    }
    /* One byte short, one byte long. */
    expect_token_bad(tok, len - 1);
    memcpy(buf, tok, len);
    buf[len] = (char)at(data, size, i++);
    expect_token_bad(buf, len + 1);
}

static void check_build_raw(const uint8_t *data, size_t size) {
    char tok[TOKFMT_TOKEN_BUFSZ], pub[TOKFMT_PUBID_BUFSZ];
    char tok0[TOKFMT_TOKEN_BUFSZ], pub0[TOKFMT_PUBID_BUFSZ];

    if (size < 1 + TOKFMT_ID_CHARS + TOKFMT_SECRET_CHARS)
        return;
    const char *id = (const char *)data + 1;
    const char *secret = id + TOKFMT_ID_CHARS;
    int k = data[0] % (TOK_KIND__COUNT + 1); /* TOK_KIND__COUNT itself is invalid */
    int ok = k < TOK_KIND__COUNT && ref_all_b62(id, TOKFMT_ID_CHARS) && ref_all_b62(secret, TOKFMT_SECRET_CHARS);

    memset(tok, 0x11, sizeof(tok));
    memset(pub, 0x22, sizeof(pub));
    memcpy(tok0, tok, sizeof(tok));
    memcpy(pub0, pub, sizeof(pub));
    int r = tokfmt_build((enum tok_kind)k, id, secret, tok, pub);
    CHECK(r == 0 || r == LK_EINVAL);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(memcmp(tok, tok0, sizeof(tok)) == 0 && memcmp(pub, pub0, sizeof(pub)) == 0);
        return;
    }
    size_t len = strlen(tok);
    int rk = -1;
    size_t rpl = 0;
    CHECK(ref_token_valid(tok, len, &rk, &rpl) && rk == k && rpl == strlen(pub));
    CHECK(memcmp(tok + rpl - TOKFMT_ID_CHARS, id, TOKFMT_ID_CHARS) == 0);
    CHECK(memcmp(tok + rpl + 1, secret, TOKFMT_SECRET_CHARS) == 0);
    expect_token_ok(tok, len, k, pub, rpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_raw((const char *)data, size);
    check_built(data, size);
    check_build_raw(data, size);
    return 0;
}
