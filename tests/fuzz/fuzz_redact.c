/*
 * fuzz_redact.c - libFuzzer harness for tokfmt_redact(), tokfmt_find() and
 * audit_field_copy(), which stand between what clients send (paths, user
 * agents, names tried, body fields) and the access log, the audit trail
 * and the store.
 *
 * Input layout: byte 0 picks the output size, byte 1 where a well-formed
 * token goes, bytes 2.. are the text; the token's kind, id and secret are
 * drawn from the text too (random fuzzing almost never hits a valid CRC).
 * Invariants, for the raw text and for the text with the token inserted:
 *   - the output is NUL-terminated inside its buffer, the returned length
 *     is its length, and nothing past the buffer is written;
 *   - no substring of the output is a token (tokfmt_parse), and the
 *     inserted token's secret does not appear in it (unless the text
 *     itself spells it out);
 *   - text with no "lk_" in it comes out unchanged; redacting an output
 *     again changes nothing; tokfmt_find sees the inserted token, and no
 *     token's shape in any output;
 *   - audit_field_copy gives the same text with every byte outside
 *     printable ASCII turned into '?' - of the text's wholly decoded form
 *     (str_percent_decode_all of its first 768 bytes) when that shows a
 *     token, so a token sent encoded, once or many times, is cut too;
 *   - str_percent_decode_all leaves no %XX behind and never grows the
 *     text, and decoding its output again changes nothing.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/audit.h"
#include "core/tokfmt.h"
#include "lib/str.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 1024
/* A redacted run of 5 bytes ("lk___") becomes 15: output never grows past 3x + NUL. */
#define OUT_MAX (3 * (TEXT_MAX + TOKFMT_TOKEN_MAX) + 1)
#define CANARY 0x5C

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Redacts text into a buffer of exactly cap bytes followed by canaries and checks the framing. */
static size_t redact_checked(const char *text, size_t n, char *out, size_t cap) {
    static char buf[OUT_MAX + 16];
    memset(buf, CANARY, sizeof(buf));
    size_t len = tokfmt_redact(text, n, buf, cap);
    if (cap == 0) {
        CHECK(len == 0);
        CHECK((unsigned char)buf[0] == CANARY);
        return 0;
    }
    CHECK(len < cap);
    CHECK(buf[len] == '\0');
    for (size_t i = cap; i < sizeof(buf); i++)
        CHECK((unsigned char)buf[i] == CANARY);
    memcpy(out, buf, len + 1);
    return len;
}

static void check_no_token(const char *out, size_t len) {
    struct tokfmt_parsed p;
    for (size_t i = 0; i + 3 <= len; i++) {
        if (memcmp(out + i, "lk_", 3) != 0)
            continue;
        for (size_t l = 1; l <= TOKFMT_TOKEN_MAX && i + l <= len; l++)
            CHECK(tokfmt_parse(out + i, l, &p) != 0);
    }
}

static int has_lk(const char *s, size_t n) {
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(s + i, "lk_", 3) == 0)
            return 1;
    return 0;
}

static void check_text(const char *text, size_t n, size_t cap, const char *secret) {
    static char out[OUT_MAX], again[OUT_MAX], field[OUT_MAX];

    /* At the chosen size: framing, no token, never the secret. */
    size_t len = redact_checked(text, n, out, cap);
    if (cap > 0) {
        check_no_token(out, len);
        if (secret != NULL)
            CHECK(memmem(out, len, secret, TOKFMT_SECRET_CHARS) == NULL);
    }

    /* With room for everything: the same checks, plus unchanged text and a fixed point. */
    len = redact_checked(text, n, out, OUT_MAX);
    check_no_token(out, len);
    CHECK(!tokfmt_find(out, len, NULL)); /* not even a token's shape survives */
    if (secret != NULL)
        CHECK(memmem(out, len, secret, TOKFMT_SECRET_CHARS) == NULL);
    if (!has_lk(text, n))
        CHECK(len == n && memcmp(out, text, n) == 0);
    size_t len2 = redact_checked(out, len, again, OUT_MAX);
    CHECK(len2 == len && memcmp(again, out, len) == 0);

    /* audit_field_copy: the redacted text (decoded first where that shows
     * a token), bytes outside printable ASCII as '?'. */
    static char decoded[3 * AUDIT_RESOURCE_MAX], twice[3 * AUDIT_RESOURCE_MAX];
    size_t dn = str_percent_decode_all(text, n < sizeof(decoded) ? n : sizeof(decoded), decoded);
    CHECK(dn <= n);
    for (size_t i = 0; i + 2 < dn; i++)
        CHECK(!(decoded[i] == '%' && str_hex_digit(decoded[i + 1]) >= 0 && str_hex_digit(decoded[i + 2]) >= 0));
    CHECK(str_percent_decode_all(decoded, dn, twice) == dn && memcmp(twice, decoded, dn) == 0);
    if (memchr(text, '%', n) != NULL && tokfmt_find(decoded, dn, NULL)) {
        len = redact_checked(decoded, dn, out, OUT_MAX);
        check_no_token(out, len);
    }
    memset(field, CANARY, sizeof(field));
    audit_field_copy(field, OUT_MAX, text, n);
    CHECK(strlen(field) == len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        CHECK(field[i] == ((c >= 0x20 && c < 0x7f) ? (char)c : '?'));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char text[TEXT_MAX + TOKFMT_TOKEN_MAX];
    if (size < 2)
        return 0;
    size_t cap = data[0] == 0xff ? 0 : (size_t)data[0] + 1;
    size_t at = data[1];
    const char *raw = (const char *)data + 2;
    size_t n = size - 2;
    if (n > TEXT_MAX)
        n = TEXT_MAX;

    check_text(raw, n, cap, NULL);

    /* A well-formed token from the text's bytes, inserted at `at`. */
    char id[TOKFMT_ID_CHARS], secret[TOKFMT_SECRET_CHARS];
    for (size_t i = 0; i < TOKFMT_ID_CHARS; i++)
        id[i] = b62[(n > 0 ? (unsigned char)raw[i % n] : 0) % 62];
    for (size_t i = 0; i < TOKFMT_SECRET_CHARS; i++)
        secret[i] = b62[(n > 0 ? (unsigned char)raw[(i * 7 + 3) % n] + i : i) % 62];
    char tok[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
    enum tok_kind kind = (enum tok_kind)(at % TOK_KIND__COUNT);
    CHECK(tokfmt_build(kind, id, secret, tok, pubid) == 0);
    size_t tl = strlen(tok);
    if (at > n)
        at = n;
    memcpy(text, raw, at);
    memcpy(text + at, tok, tl);
    memcpy(text + at + tl, raw + at, n - at);
    /* The text may hold the secret's characters on its own (the fuzzer can
     * aim at them); only the inserted token's copy must go. */
    struct tokfmt_parsed found;
    CHECK(tokfmt_find(text, n + tl, &found));
    CHECK(found.pubid_len <= TOKFMT_PUBID_MAX && found.pubid[found.pubid_len] == '\0');
    check_text(text, n + tl, cap, memmem(raw, n, secret, TOKFMT_SECRET_CHARS) == NULL ? secret : NULL);

    /* The same token percent-encoded ('_' as %5F, as a client library may
     * send it), then encoded again and again ("%255F", "%25255F"): the
     * audit field keeps its public id, never its secret. */
    static const char *const underscore[] = {"%5F", "%255F", "%25255F", "%2525255f"};
    static char etext[TEXT_MAX + 9 * TOKFMT_TOKEN_MAX], field[OUT_MAX];
    const char *u = underscore[(n > 0 ? (unsigned char)raw[0] : 0) % 4];
    size_t el = 0, ul = strlen(u);
    memcpy(etext, raw, at);
    el = at;
    for (size_t i = 0; i < tl; i++) {
        if (tok[i] == '_') {
            memcpy(etext + el, u, ul);
            el += ul;
        } else {
            etext[el++] = tok[i];
        }
    }
    memcpy(etext + el, raw + at, n - at);
    el += n - at;
    audit_field_copy(field, OUT_MAX, etext, el);
    if (memmem(raw, n, secret, TOKFMT_SECRET_CHARS) == NULL)
        CHECK(memmem(field, strlen(field), secret, TOKFMT_SECRET_CHARS) == NULL);
    return 0;
}
