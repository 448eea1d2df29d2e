/*
 * test_tokfmt.c - unit tests for the token format (core/tokfmt.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/tokfmt.h"

#include "unit_assert.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Built with Python: body + base62(zlib.crc32(body)), 6 digits, most significant first. */
#define GOLDEN_USER "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl"
#define GOLDEN_USER_PUBID "lk_user_0123456789ab"
#define GOLDEN_WL "lk_wl_zzzzzzzzzzzz_000000000000000000000000000000004QYfq1"

/*
 * Appends the checksum to body[0..len) the way the format defines it, so a
 * test can build strings that are wrong in some other way but carry a valid
 * CRC. Returns the new length.
 */
static size_t append_crc(char *body, size_t len) {
    uint32_t crc = tokfmt_crc32(body, len);
    for (int i = TOKFMT_CRC_CHARS - 1; i >= 0; i--) {
        body[len + (size_t)i] = alphabet[crc % 62];
        crc /= 62;
    }
    body[len + TOKFMT_CRC_CHARS] = '\0';
    return len + TOKFMT_CRC_CHARS;
}

static int parse_str(const char *s, struct tokfmt_parsed *p) {
    return tokfmt_parse(s, strlen(s), p);
}

static void expect_bad(const char *s, size_t len, const char *what) {
    struct tokfmt_parsed p, before;
    memset(&p, 0xa5, sizeof(p));
    before = p;
    int r = tokfmt_parse(s, len, &p);
    if (r != LK_EBADTOKEN)
        fail_msg("%s: tokfmt_parse(\"%.*s\", %zu) returned %s, expected BADTOKEN", what,
                 s ? (int)(len > 80 ? 80 : len) : 0, s ? s : "", len, lk_errname(r));
    if (memcmp(&p, &before, sizeof(p)) != 0)
        fail_msg("%s: tokfmt_parse changed ret on failure", what);
}

/* ---- CRC32 ---- */

static void test_crc32_check_value(void **state) {
    assert_i64_eq(tokfmt_crc32("123456789", 9), 0xCBF43926U);
}

static void test_crc32_empty_is_zero(void **state) {
    assert_i64_eq(tokfmt_crc32("", 0), 0);
}

static void test_crc32_matches_zlib(void **state) {
    const char *s = "The quick brown fox jumps over the lazy dog";
    assert_i64_eq(tokfmt_crc32(s, strlen(s)), 0x414FA339U);
    static const unsigned char bytes[] = {0x00, 0xff, 0x80, 0x7f};
    assert_i64_eq(tokfmt_crc32(bytes, sizeof(bytes)), 0x64E51F17U);
}

/* ---- kinds ---- */

static void test_kind_names(void **state) {
    assert_string_equal(tokfmt_kind_name(TOK_KIND_ROOT), "root");
    assert_string_equal(tokfmt_kind_name(TOK_KIND_USER), "user");
    assert_string_equal(tokfmt_kind_name(TOK_KIND_SA), "sa");
    assert_string_equal(tokfmt_kind_name(TOK_KIND_SESSION), "sess");
    assert_string_equal(tokfmt_kind_name(TOK_KIND_WORKLOAD), "wl");
}

static void test_invalid_kind_has_no_name(void **state) {
    assert_null(tokfmt_kind_name(TOK_KIND__COUNT));
    assert_null(tokfmt_kind_name((enum tok_kind) - 1));
}

/* ---- build ---- */

static void test_build_matches_golden_token(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
    assert_i64_eq(tokfmt_build(TOK_KIND_USER, "0123456789ab", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", tok, pubid), 0);
    assert_string_equal(tok, GOLDEN_USER);
    assert_string_equal(pubid, GOLDEN_USER_PUBID);
}

static void test_build_zero_pads_checksum(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
    assert_i64_eq(tokfmt_build(TOK_KIND_WORKLOAD, "zzzzzzzzzzzz", "00000000000000000000000000000000", tok, pubid), 0);
    assert_string_equal(tok, GOLDEN_WL);
}

static void test_build_rejects_bad_kind(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ] = "untouched", pubid[TOKFMT_PUBID_BUFSZ] = "untouched";
    assert_i64_eq(tokfmt_build(TOK_KIND__COUNT, "0123456789ab", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", tok, pubid),
                  LK_EINVAL);
    assert_string_equal(tok, "untouched");
    assert_string_equal(pubid, "untouched");
}

static void test_build_rejects_non_base62_material(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ] = "untouched", pubid[TOKFMT_PUBID_BUFSZ] = "untouched";
    assert_i64_eq(tokfmt_build(TOK_KIND_USER, "0123456789a_", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", tok, pubid),
                  LK_EINVAL);
    assert_i64_eq(tokfmt_build(TOK_KIND_USER, "0123456789ab", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcde-", tok, pubid),
                  LK_EINVAL);
    assert_string_equal(tok, "untouched");
    assert_string_equal(pubid, "untouched");
}

/* ---- generate ---- */

static void test_generate_round_trips_every_kind(void **state) {
    for (int k = 0; k < TOK_KIND__COUNT; k++) {
        char tok[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
        struct tokfmt_parsed p;
        assert_i64_eq(tokfmt_generate((enum tok_kind)k, tok, pubid), 0);
        int r = parse_str(tok, &p);
        if (r != 0)
            fail_msg("generated %s token does not parse: %s", tokfmt_kind_name((enum tok_kind)k), lk_errname(r));
        assert_i64_eq(p.kind, k);
        assert_string_equal(p.pubid, pubid);
        assert_i64_eq(p.pubid_len, strlen(pubid));
        if (strncmp(tok, pubid, strlen(pubid)) != 0 || tok[strlen(pubid)] != '_')
            fail_msg("pubid %s is not a prefix of the token", pubid);
        assert_i64_eq(strlen(tok), 3 + strlen(tokfmt_kind_name((enum tok_kind)k)) + 1 + TOKFMT_ID_CHARS + 1 +
                                       TOKFMT_SECRET_CHARS + TOKFMT_CRC_CHARS);
    }
}

static void test_generate_gives_distinct_tokens(void **state) {
    char a[TOKFMT_TOKEN_BUFSZ], b[TOKFMT_TOKEN_BUFSZ], pa[TOKFMT_PUBID_BUFSZ], pb[TOKFMT_PUBID_BUFSZ];
    assert_i64_eq(tokfmt_generate(TOK_KIND_USER, a, pa), 0);
    assert_i64_eq(tokfmt_generate(TOK_KIND_USER, b, pb), 0);
    assert_string_not_equal(pa, pb);
    assert_string_not_equal(a, b);
}

static void test_generate_rejects_bad_kind(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ] = "untouched", pubid[TOKFMT_PUBID_BUFSZ] = "untouched";
    assert_i64_eq(tokfmt_generate(TOK_KIND__COUNT, tok, pubid), LK_EINVAL);
    assert_string_equal(tok, "untouched");
}

/*
 * Counts every random character over many tokens. Uniform draws give each of
 * the 62 characters 1/62 of the total (about 14,194 of 880,000, sd ~118); a
 * plain "byte % 62" would give '0'..'7' 5/256 (+21%). A 6% band is over 7 sd
 * wide, so this does not flake, and still catches that bias.
 */
static void test_generate_is_unbiased(void **state) {
    enum { N = 20000 };
    unsigned long count[62] = {0};
    unsigned long total = 0;

    for (int i = 0; i < N; i++) {
        char tok[TOKFMT_TOKEN_BUFSZ], pubid[TOKFMT_PUBID_BUFSZ];
        assert_i64_eq(tokfmt_generate(TOK_KIND_SA, tok, pubid), 0);
        size_t start = strlen("lk_sa_");
        size_t end = strlen(tok) - TOKFMT_CRC_CHARS;
        for (size_t j = start; j < end; j++) {
            if (tok[j] == '_')
                continue;
            const char *p = tok[j] != '\0' ? strchr(alphabet, tok[j]) : NULL;
            if (p == NULL) {
                fail_msg("generated token contains non-base62 byte 0x%02x", (unsigned char)tok[j]);
                continue;
            }
            count[p - alphabet]++;
            total++;
        }
    }
    assert_i64_eq(total, (unsigned long)N * (TOKFMT_ID_CHARS + TOKFMT_SECRET_CHARS));
    double expect = (double)total / 62;
    for (int c = 0; c < 62; c++)
        if (count[c] < expect * 0.94 || count[c] > expect * 1.06)
            fail_msg("character '%c' drawn %lu times, expected %.0f +- 6%%", alphabet[c], count[c], expect);
}

/* ---- parse ---- */

static void test_parse_golden_token(void **state) {
    struct tokfmt_parsed p;
    assert_i64_eq(parse_str(GOLDEN_USER, &p), 0);
    assert_i64_eq(p.kind, TOK_KIND_USER);
    assert_string_equal(p.pubid, GOLDEN_USER_PUBID);
    assert_i64_eq(p.pubid_len, strlen(GOLDEN_USER_PUBID));
}

static void test_parse_uses_only_len_bytes(void **state) {
    struct tokfmt_parsed p;
    const char *s = GOLDEN_USER "trailing";
    assert_i64_eq(tokfmt_parse(s, strlen(GOLDEN_USER), &p), 0);
}

/* Every single-byte change anywhere in a valid token must be caught (CRC32 detects all single-byte errors). */
static void test_parse_rejects_every_single_char_mutation(void **state) {
    static const char extra[] = "_-.+/=: \x00\x7f\x80\xff";
    char tok[TOKFMT_TOKEN_BUFSZ];
    size_t len = strlen(GOLDEN_USER);
    size_t tried = 0;

    for (size_t i = 0; i < len; i++) {
        for (size_t c = 0; c < sizeof(alphabet) - 1 + sizeof(extra) - 1; c++) {
            char ch = c < sizeof(alphabet) - 1 ? alphabet[c] : extra[c - (sizeof(alphabet) - 1)];
            memcpy(tok, GOLDEN_USER, len + 1);
            if (tok[i] == ch)
                continue;
            tok[i] = ch;
            char what[64];
            snprintf(what, sizeof(what), "byte %zu changed to 0x%02x", i, (unsigned char)ch);
            expect_bad(tok, len, what);
            tried++;
        }
    }
    assert_true(tried > len * 60);
}

static void test_parse_rejects_swapped_adjacent_chars(void **state) {
    char tok[TOKFMT_TOKEN_BUFSZ];
    size_t len = strlen(GOLDEN_USER);
    for (size_t i = 0; i + 1 < len; i++) {
        memcpy(tok, GOLDEN_USER, len + 1);
        if (tok[i] == tok[i + 1])
            continue;
        char t = tok[i];
        tok[i] = tok[i + 1];
        tok[i + 1] = t;
        expect_bad(tok, len, "adjacent swap");
    }
}

static void test_parse_rejects_unknown_kinds(void **state) {
    static const char *const kinds[] = {"admin", "USER", "User", "us", "users", "", "s", "sesss", "w"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "lk_%s_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", kinds[i]);
        size_t len = append_crc(buf, (size_t)n);
        expect_bad(buf, len, kinds[i]);
    }
}

static void test_parse_rejects_wrong_prefix(void **state) {
    static const char *const prefixes[] = {"LK_", "lk-", "xk_", "l_", "lkk_", "_lk_"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "%suser_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", prefixes[i]);
        size_t len = append_crc(buf, (size_t)n);
        expect_bad(buf, len, prefixes[i]);
    }
}

/* Each of these has a valid checksum, so only the structural checks can reject it. */
static void test_parse_rejects_wrong_part_lengths(void **state) {
    static const char *const bodies[] = {
        "lk_user_0123456789a_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg",  /* id 11, secret 33 */
        "lk_user_0123456789abc_BCDEFGHIJKLMNOPQRSTUVWXYZabcdef",  /* id 13, secret 31 */
        "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcde",   /* secret 31 */
        "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg", /* secret 33 */
        "lk_user_0123456789ab__BCDEFGHIJKLMNOPQRSTUVWXYZabcdef",  /* '_' inside the secret */
        "lk_user_0123456789abXABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",  /* no separator */
        "lk_user_0123456789ab",                                   /* public id only */
        "lk_user_",
        "",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char buf[128];
        size_t n = strlen(bodies[i]);
        memcpy(buf, bodies[i], n + 1);
        size_t len = append_crc(buf, n);
        expect_bad(buf, len, bodies[i]);
    }
}

static void test_parse_rejects_non_base62_with_valid_crc(void **state) {
    static const char *const bodies[] = {
        "lk_user_0123456789a-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",
        "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcd+f",
        "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZ\303\251bcde", /* a two-byte UTF-8 letter */
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char buf[128];
        size_t n = strlen(bodies[i]);
        memcpy(buf, bodies[i], n + 1);
        size_t len = append_crc(buf, n);
        expect_bad(buf, len, bodies[i]);
    }
}

static void test_parse_rejects_embedded_nul_with_valid_crc(void **state) {
    char buf[128];
    size_t n = strlen("lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef");
    memcpy(buf, "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", n);
    buf[30] = '\0';
    size_t len = append_crc(buf, n);
    expect_bad(buf, len, "NUL in secret");
}

static void test_parse_rejects_truncated_and_extended(void **state) {
    char buf[128];
    size_t len = strlen(GOLDEN_USER);
    for (size_t n = 0; n < len; n++)
        expect_bad(GOLDEN_USER, n, "truncated");
    memcpy(buf, GOLDEN_USER, len);
    buf[len] = 'x';
    expect_bad(buf, len + 1, "one byte appended");
}

static void test_parse_rejects_longer_than_max(void **state) {
    char buf[256];
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, GOLDEN_USER, strlen(GOLDEN_USER));
    expect_bad(buf, TOKFMT_TOKEN_MAX + 1, "TOKFMT_TOKEN_MAX + 1");
    expect_bad(buf, sizeof(buf), "256 bytes");
    expect_bad(buf, SIZE_MAX, "SIZE_MAX");
}

static void test_parse_rejects_null(void **state) {
    expect_bad(NULL, 0, "NULL");
}

/* ---- parse_pubid ---- */

static void test_parse_pubid_valid(void **state) {
    struct tokfmt_parsed p;
    assert_i64_eq(tokfmt_parse_pubid("lk_sess_AbCdEfGhIjKl", 20, &p), 0);
    assert_i64_eq(p.kind, TOK_KIND_SESSION);
    assert_string_equal(p.pubid, "lk_sess_AbCdEfGhIjKl");
    assert_i64_eq(p.pubid_len, 20);
}

static void test_parse_pubid_rejects_malformed(void **state) {
    static const char *const bad[] = {
        "",
        "lk_sess_AbCdEfGhIjK",   /* id too short */
        "lk_sess_AbCdEfGhIjKlm", /* id too long */
        "lk_sess_AbCdEfGhIjK_",  /* '_' in id */
        "lk_boss_AbCdEfGhIjKl",  /* unknown kind */
        "LK_sess_AbCdEfGhIjKl",
        "lk_sess_AbCdEfGhIjKl_",
        GOLDEN_USER, /* a whole token is not a public id */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tokfmt_parsed p, before;
        memset(&p, 0xa5, sizeof(p));
        before = p;
        int r = tokfmt_parse_pubid(bad[i], strlen(bad[i]), &p);
        if (r != LK_EINVAL)
            fail_msg("tokfmt_parse_pubid(\"%s\") returned %s, expected EINVAL", bad[i], lk_errname(r));
        if (memcmp(&p, &before, sizeof(p)) != 0)
            fail_msg("tokfmt_parse_pubid(\"%s\") changed ret on failure", bad[i]);
    }
}

static void test_redact_cuts_every_token_to_its_public_id(void **state) {
    (void)state;
    struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"/v1/tokens/" GOLDEN_USER, "/v1/tokens/" GOLDEN_USER_PUBID "_[redacted]"},
        {"/v1/x=" GOLDEN_USER "/y", "/v1/x=" GOLDEN_USER_PUBID "_[redacted]/y"},
        {"curl/8 " GOLDEN_USER " (x)", "curl/8 " GOLDEN_USER_PUBID "_[redacted] (x)"},
        {"a" GOLDEN_USER "b", "a" GOLDEN_USER_PUBID "_[redacted]"},
        {GOLDEN_USER "-" GOLDEN_WL, GOLDEN_USER_PUBID "_[redacted]-lk_wl_zzzzzzzzzzzz_[redacted]"},
        /* No third '_' within the public id's length: cut at that length. */
        {"lk_0123456789012345678901234567890123456789", "lk_01234567890123456_[redacted]"},
        /* A token inside what looks like one is cut with it. */
        {"lk_user_lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", "lk_user_lk_[redacted]"},
        /* Public ids, short runs and everything else stay as they are. */
        {"/v1/tokens/" GOLDEN_USER_PUBID, "/v1/tokens/" GOLDEN_USER_PUBID},
        {"lk_ lk lk_user", "lk_ lk lk_user"},
        {"/v1/orgs/acme/teams/web", "/v1/orgs/acme/teams/web"},
        {"", ""},
    };
    char out[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = tokfmt_redact(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, cases[i].want);
        assert_int_equal(n, strlen(out));
    }
}

static void test_redact_cuts_to_fit_and_never_past_the_public_id(void **state) {
    (void)state;
    const char *in = "x " GOLDEN_USER;
    char out[64];
    /* Every size: NUL-terminated, and never more of the token than its id. */
    for (size_t cap = 1; cap <= sizeof(out); cap++) {
        memset(out, '#', sizeof(out));
        size_t n = tokfmt_redact(in, strlen(in), out, cap);
        assert_true(n < cap);
        assert_int_equal(out[n], '\0');
        assert_null(strstr(out, "ABCDEFGH"));
        if (cap < sizeof(out))
            assert_int_equal(out[cap], '#');
    }
    assert_int_equal(tokfmt_redact(in, strlen(in), out, 0), 0);
    /* Bytes of any value pass through; only the length counts. */
    char bin[] = {'a', '\0', 'b', (char)0xff};
    assert_int_equal(tokfmt_redact(bin, sizeof(bin), out, sizeof(out)), sizeof(bin));
    assert_memory_equal(out, bin, sizeof(bin));
}

static void test_find_spots_a_whole_token_anywhere(void **state) {
    (void)state;
    struct tokfmt_parsed p;
    const char *yes[] = {
        GOLDEN_USER,          "my token is " GOLDEN_USER " for ci", "x" GOLDEN_USER "yz", "lk_lk_" GOLDEN_USER,
        "lk_user_" GOLDEN_WL,
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        memset(&p, 0, sizeof(p));
        if (!tokfmt_find(yes[i], strlen(yes[i]), &p))
            fail_msg("case %zu: no token found in \"%s\"", i, yes[i]);
        assert_true(strcmp(p.pubid, GOLDEN_USER_PUBID) == 0 || strcmp(p.pubid, "lk_wl_zzzzzzzzzzzz") == 0);
    }
    /* A typo in the checksum (or the secret) leaves the secret there: still found. */
    char typo[] = GOLDEN_USER;
    typo[sizeof(typo) - 2] ^= 1;
    assert_true(tokfmt_find(typo, strlen(typo), &p));
    assert_string_equal(p.pubid, GOLDEN_USER_PUBID);
    const char *no[] = {"",
                        "lk_",
                        GOLDEN_USER_PUBID,
                        "a public id " GOLDEN_USER_PUBID " and more",
                        "lk_user_0123456789ab_[redacted]",
                        "lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWik", /* one short */
                        "lk_bot_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl", /* no such kind */
                        "lk_user_0123456789a-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (tokfmt_find(no[i], strlen(no[i]), NULL))
            fail_msg("case %zu: a token found in \"%s\"", i, no[i]);
    /* Only n bytes count: a token cut short by n is not one. */
    assert_false(tokfmt_find(GOLDEN_USER, strlen(GOLDEN_USER) - 1, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_crc32_empty_is_zero),
        cmocka_unit_test(test_crc32_matches_zlib),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_invalid_kind_has_no_name),
        cmocka_unit_test(test_build_matches_golden_token),
        cmocka_unit_test(test_build_zero_pads_checksum),
        cmocka_unit_test(test_build_rejects_bad_kind),
        cmocka_unit_test(test_build_rejects_non_base62_material),
        cmocka_unit_test(test_generate_round_trips_every_kind),
        cmocka_unit_test(test_generate_gives_distinct_tokens),
        cmocka_unit_test(test_generate_rejects_bad_kind),
        cmocka_unit_test(test_generate_is_unbiased),
        cmocka_unit_test(test_parse_golden_token),
        cmocka_unit_test(test_parse_uses_only_len_bytes),
        cmocka_unit_test(test_parse_rejects_every_single_char_mutation),
        cmocka_unit_test(test_parse_rejects_swapped_adjacent_chars),
        cmocka_unit_test(test_parse_rejects_unknown_kinds),
        cmocka_unit_test(test_parse_rejects_wrong_prefix),
        cmocka_unit_test(test_parse_rejects_wrong_part_lengths),
        cmocka_unit_test(test_parse_rejects_non_base62_with_valid_crc),
        cmocka_unit_test(test_parse_rejects_embedded_nul_with_valid_crc),
        cmocka_unit_test(test_parse_rejects_truncated_and_extended),
        cmocka_unit_test(test_parse_rejects_longer_than_max),
        cmocka_unit_test(test_parse_rejects_null),
        cmocka_unit_test(test_parse_pubid_valid),
        cmocka_unit_test(test_parse_pubid_rejects_malformed),
        cmocka_unit_test(test_redact_cuts_every_token_to_its_public_id),
        cmocka_unit_test(test_redact_cuts_to_fit_and_never_past_the_public_id),
        cmocka_unit_test(test_find_spots_a_whole_token_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
