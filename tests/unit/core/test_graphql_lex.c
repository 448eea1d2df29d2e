/*
 * test_graphql_lex.c - unit tests for the GraphQL lexer (core/graphql_lex.h):
 * every kind of token with its line and column, ignored tokens, the
 * lookahead rules of numbers, string escapes (surrogate pairs, \u{...},
 * lone surrogates refused), the BlockStringValue() algorithm, UTF-8 and
 * control characters, the token limit, and each error message with its
 * place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/graphql_lex.h"
#include "lib/arena.h"

#include "unit_assert.h"

#define S(lit) lit, sizeof(lit) - 1

#define TOKS_MAX 64

struct lexed {
    struct arena *arena;
    struct gql_token t[TOKS_MAX];
    size_t n; /* tokens before EOF */
    struct gql_token eof;
};

/* Lexes src[0..len) to the end; fails the test on an error. */
static void lex_ok(struct lexed *out, const char *src, size_t len) {
    memset(out, 0, sizeof(*out));
    out->arena = arena_new(0);
    assert_non_null(out->arena);
    struct gql_lexer lx;
    gql_lexer_init(&lx, src, len, 1000, out->arena);
    for (;;) {
        struct gql_token t;
        struct gql_error err = {0};
        int r = gql_lex_next(&lx, &t, &err);
        if (r != 0)
            fail_msg("lexing \"%.*s\": %d %u:%u %s", (int)len, src, r, err.line, err.column, err.message);
        if (t.kind == GQL_TOK_EOF) {
            out->eof = t;
            return;
        }
        if (out->n == TOKS_MAX)
            fail_msg("too many tokens");
        out->t[out->n++] = t;
    }
}

static void lexed_done(struct lexed *l) {
    arena_free(l->arena);
}

/* The only token of src, which must be of kind k with value want[0..wn). */
static void expect_one(const char *src, size_t len, enum gql_token_kind k, const char *want, size_t wn) {
    struct lexed l;
    lex_ok(&l, src, len);
    if (l.n != 1)
        fail_msg("\"%s\": %zu tokens, expected 1", src, l.n);
    if (l.t[0].kind != k)
        fail_msg("\"%s\": kind %s, expected %s", src, gql_token_kind_name(l.t[0].kind), gql_token_kind_name(k));
    if (l.t[0].len != wn || memcmp(l.t[0].text, want, wn) != 0)
        fail_msg("\"%s\": value \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)", src, (int)l.t[0].len, l.t[0].text,
                 l.t[0].len, (int)wn, want, wn);
    lexed_done(&l);
}

#define EXPECT_ONE(src, kind, want) expect_one(S(src), kind, S(want))

/* Lexing src[0..len) to its end fails with code, message and place. */
static void expect_error_n(const char *src, size_t len, int code, const char *msg, uint32_t line, uint32_t col) {
    struct arena *a = arena_new(0);
    struct gql_lexer lx;
    gql_lexer_init(&lx, src, len, 1000, a);
    struct gql_error err = {0};
    int r;
    struct gql_token t;
    do
        r = gql_lex_next(&lx, &t, &err);
    while (r == 0 && t.kind != GQL_TOK_EOF);
    if (r != code)
        fail_msg("\"%.*s\": returned %d (%s), expected %d (%s)", (int)len, src, r, err.message, code, msg);
    if (err.code != code || strcmp(err.message, msg) != 0 || err.line != line || err.column != col)
        fail_msg("\"%.*s\":\n  got      %u:%u %s\n  expected %u:%u %s", (int)len, src, err.line, err.column,
                 err.message, line, col, msg);
    arena_free(a);
}

#define EXPECT_ERROR(src, msg, line, col) expect_error_n(S(src), LK_EINVAL, msg, line, col)

static void expect_loc(const struct gql_token *t, enum gql_token_kind k, uint32_t line, uint32_t col, uint32_t start,
                       uint32_t end) {
    if (t->kind != k || t->loc.line != line || t->loc.column != col || t->loc.start != start || t->loc.end != end)
        fail_msg("token %s at %u:%u [%u,%u), expected %s at %u:%u [%u,%u)", gql_token_kind_name(t->kind), t->loc.line,
                 t->loc.column, t->loc.start, t->loc.end, gql_token_kind_name(k), line, col, start, end);
}

/* ---- tokens ---- */

static void test_punctuators(void **state) {
    (void)state;
    struct lexed l;
    lex_ok(&l, S("! $ & ( ) ... : = @ [ ] { | }"));
    static const enum gql_token_kind want[] = {
        GQL_TOK_BANG,      GQL_TOK_DOLLAR,  GQL_TOK_AMP,    GQL_TOK_PAREN_L, GQL_TOK_PAREN_R,
        GQL_TOK_SPREAD,    GQL_TOK_COLON,   GQL_TOK_EQUALS, GQL_TOK_AT,      GQL_TOK_BRACKET_L,
        GQL_TOK_BRACKET_R, GQL_TOK_BRACE_L, GQL_TOK_PIPE,   GQL_TOK_BRACE_R,
    };
    assert_i64_eq(l.n, sizeof(want) / sizeof(want[0]));
    uint32_t col = 1;
    for (size_t i = 0; i < l.n; i++) {
        uint32_t w = want[i] == GQL_TOK_SPREAD ? 3 : 1;
        expect_loc(&l.t[i], want[i], 1, col, col - 1, col - 1 + w);
        assert_null(l.t[i].text);
        col += w + 1;
    }
    expect_loc(&l.eof, GQL_TOK_EOF, 1, 30, 29, 29);
    lexed_done(&l);

    /* no space needed between punctuators; "...." is a spread and a stray '.' */
    lex_ok(&l, S("{...F}"));
    assert_i64_eq(l.n, 4);
    expect_loc(&l.t[1], GQL_TOK_SPREAD, 1, 2, 1, 4);
    expect_loc(&l.t[2], GQL_TOK_NAME, 1, 5, 4, 5);
    lexed_done(&l);
    EXPECT_ERROR("....", "Syntax Error: Unexpected character: \".\".", 1, 4);
    EXPECT_ERROR("..", "Syntax Error: Unexpected character: \".\".", 1, 1);
    EXPECT_ERROR("a . b", "Syntax Error: Unexpected character: \".\".", 1, 3);
}

static void test_names(void **state) {
    (void)state;
    EXPECT_ONE("a", GQL_TOK_NAME, "a");
    EXPECT_ONE("_", GQL_TOK_NAME, "_");
    EXPECT_ONE("__typename", GQL_TOK_NAME, "__typename");
    EXPECT_ONE("aZ_09", GQL_TOK_NAME, "aZ_09");
    EXPECT_ONE("  query  ", GQL_TOK_NAME, "query");
    struct lexed l;
    /* a name is the longest run: "a1" is one token; "a-b" three */
    lex_ok(&l, S("a1 a-1"));
    assert_i64_eq(l.n, 3);
    expect_loc(&l.t[0], GQL_TOK_NAME, 1, 1, 0, 2);
    expect_loc(&l.t[1], GQL_TOK_NAME, 1, 4, 3, 4);
    expect_loc(&l.t[2], GQL_TOK_INT, 1, 5, 4, 6);
    lexed_done(&l);
    /* names are ASCII only */
    EXPECT_ERROR("caf\xc3\xa9", "Syntax Error: Unexpected character: U+00E9.", 1, 4);
}

static void test_ints_and_floats(void **state) {
    (void)state;
    EXPECT_ONE("0", GQL_TOK_INT, "0");
    EXPECT_ONE("-0", GQL_TOK_INT, "-0");
    EXPECT_ONE("4", GQL_TOK_INT, "4");
    EXPECT_ONE("-4", GQL_TOK_INT, "-4");
    EXPECT_ONE("9007199254740993", GQL_TOK_INT, "9007199254740993");
    EXPECT_ONE("4.123", GQL_TOK_FLOAT, "4.123");
    EXPECT_ONE("-4.123", GQL_TOK_FLOAT, "-4.123");
    EXPECT_ONE("0.123", GQL_TOK_FLOAT, "0.123");
    EXPECT_ONE("123e4", GQL_TOK_FLOAT, "123e4");
    EXPECT_ONE("123E4", GQL_TOK_FLOAT, "123E4");
    EXPECT_ONE("123e-4", GQL_TOK_FLOAT, "123e-4");
    EXPECT_ONE("123e+4", GQL_TOK_FLOAT, "123e+4");
    EXPECT_ONE("-1.123e4", GQL_TOK_FLOAT, "-1.123e4");
    EXPECT_ONE("-1.123E-4", GQL_TOK_FLOAT, "-1.123E-4");
    EXPECT_ONE("-1.123e4567", GQL_TOK_FLOAT, "-1.123e4567");
    EXPECT_ONE("6.0221413e23", GQL_TOK_FLOAT, "6.0221413e23");

    /* numbers end at punctuators and ignored tokens */
    struct lexed l;
    lex_ok(&l, S("1,2 3]4)-5}"));
    assert_i64_eq(l.n, 8);
    expect_loc(&l.t[0], GQL_TOK_INT, 1, 1, 0, 1);
    expect_loc(&l.t[1], GQL_TOK_INT, 1, 3, 2, 3);
    expect_loc(&l.t[6], GQL_TOK_INT, 1, 9, 8, 10);
    lexed_done(&l);

    /* the lookahead restrictions */
    EXPECT_ERROR("00", "Syntax Error: Invalid number, unexpected digit after 0: \"0\".", 1, 2);
    EXPECT_ERROR("01", "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 2);
    EXPECT_ERROR("-01", "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 3);
    EXPECT_ERROR("01.23", "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 2);
    EXPECT_ERROR("0x123", "Syntax Error: Invalid number, expected digit but got: \"x\".", 1, 2);
    EXPECT_ERROR("123L", "Syntax Error: Invalid number, expected digit but got: \"L\".", 1, 4);
    EXPECT_ERROR("123abc", "Syntax Error: Invalid number, expected digit but got: \"a\".", 1, 4);
    EXPECT_ERROR("1_000", "Syntax Error: Invalid number, expected digit but got: \"_\".", 1, 2);
    EXPECT_ERROR("1.", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1, 3);
    EXPECT_ERROR("1.A", "Syntax Error: Invalid number, expected digit but got: \"A\".", 1, 3);
    EXPECT_ERROR("1.e1", "Syntax Error: Invalid number, expected digit but got: \"e\".", 1, 3);
    EXPECT_ERROR("1e", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1, 3);
    EXPECT_ERROR("1e+", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1, 4);
    EXPECT_ERROR("1.0e", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1, 5);
    EXPECT_ERROR("1.0eA", "Syntax Error: Invalid number, expected digit but got: \"A\".", 1, 5);
    EXPECT_ERROR("1.2.3", "Syntax Error: Invalid number, expected digit but got: \".\".", 1, 4);
    EXPECT_ERROR("1.23.4", "Syntax Error: Invalid number, expected digit but got: \".\".", 1, 5);
    EXPECT_ERROR("1.2e3e", "Syntax Error: Invalid number, expected digit but got: \"e\".", 1, 6);
    EXPECT_ERROR("1.2e3.4", "Syntax Error: Invalid number, expected digit but got: \".\".", 1, 6);
    EXPECT_ERROR("0x1.2p3", "Syntax Error: Invalid number, expected digit but got: \"x\".", 1, 2);
    EXPECT_ERROR("-", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1, 2);
    EXPECT_ERROR("-A", "Syntax Error: Invalid number, expected digit but got: \"A\".", 1, 2);
    EXPECT_ERROR("- 1", "Syntax Error: Invalid number, expected digit but got: \" \".", 1, 2);
    EXPECT_ERROR("+1", "Syntax Error: Unexpected character: \"+\".", 1, 1);
    EXPECT_ERROR(".123", "Syntax Error: Unexpected character: \".\".", 1, 1);
    /* a non-ASCII character ends a number (it is no NameStart) and starts no token */
    EXPECT_ERROR("1\xc3\xa9", "Syntax Error: Unexpected character: U+00E9.", 1, 2);
    EXPECT_ERROR("1.\xff", "Syntax Error: Invalid UTF-8 byte: 0xFF.", 1, 3);
}

static void test_strings(void **state) {
    (void)state;
    EXPECT_ONE("\"\"", GQL_TOK_STRING, "");
    EXPECT_ONE("\"simple\"", GQL_TOK_STRING, "simple");
    EXPECT_ONE("\" white space \"", GQL_TOK_STRING, " white space ");
    EXPECT_ONE("\"\ttab\"", GQL_TOK_STRING, "\ttab");
    EXPECT_ONE("\"quote \\\"\"", GQL_TOK_STRING, "quote \"");
    EXPECT_ONE("\"escaped \\n\\r\\b\\t\\f\"", GQL_TOK_STRING, "escaped \n\r\b\t\f");
    EXPECT_ONE("\"slashes \\\\ \\/\"", GQL_TOK_STRING, "slashes \\ /");
    EXPECT_ONE("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", GQL_TOK_STRING, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_ONE("\"\xef\xbb\xbf bom kept\"", GQL_TOK_STRING, "\xef\xbb\xbf bom kept");
    EXPECT_ONE("\"# not a comment\"", GQL_TOK_STRING, "# not a comment");
    EXPECT_ONE("\"\x7f del\"", GQL_TOK_STRING, "\x7f del");

    struct lexed l;
    /* "" then a name: the empty string is not the start of a block string */
    lex_ok(&l, S("\"\"a"));
    assert_i64_eq(l.n, 2);
    expect_loc(&l.t[0], GQL_TOK_STRING, 1, 1, 0, 2);
    lexed_done(&l);
    /* """""" is one empty block string, not three empty strings */
    lex_ok(&l, S("\"\"\"\"\"\""));
    assert_i64_eq(l.n, 1);
    expect_loc(&l.t[0], GQL_TOK_BLOCK_STRING, 1, 1, 0, 6);
    assert_i64_eq(l.t[0].len, 0);
    lexed_done(&l);

    EXPECT_ERROR("\"", "Syntax Error: Unterminated string.", 1, 2);
    EXPECT_ERROR("\"no end", "Syntax Error: Unterminated string.", 1, 8);
    EXPECT_ERROR("\"line\nbreak\"", "Syntax Error: Unterminated string.", 1, 6);
    EXPECT_ERROR("\"line\rbreak\"", "Syntax Error: Unterminated string.", 1, 6);
    EXPECT_ERROR("\"ends in \\", "Syntax Error: Unterminated string.", 1, 11);
    EXPECT_ERROR("\"bad \\z esc\"", "Syntax Error: Invalid character escape sequence: \"\\z\".", 1, 6);
    EXPECT_ERROR("\"bad \\x esc\"", "Syntax Error: Invalid character escape sequence: \"\\x\".", 1, 6);
    EXPECT_ERROR("\"bad \\\xc3\xa9\"", "Syntax Error: Invalid character escape sequence: \"\\\xc3\xa9\".", 1, 6);
    EXPECT_ERROR("\"bad \\\nx\"", "Syntax Error: Invalid character escape sequence: \"\\\\x0a\".", 1, 6);
    EXPECT_ERROR("'single'",
                 "Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?", 1, 1);
    /* control characters are not SourceCharacters (a tab is) */
    expect_error_n(S("\"a\0b\""), LK_EINVAL, "Syntax Error: Invalid character within String: U+0000.", 1, 3);
    EXPECT_ERROR("\"a\x01\"", "Syntax Error: Invalid character within String: U+0001.", 1, 3);
    EXPECT_ERROR("\"a\x1f\"", "Syntax Error: Invalid character within String: U+001F.", 1, 3);
    /* the first problem met is the one reported */
    EXPECT_ERROR("\"\\q\n", "Syntax Error: Invalid character escape sequence: \"\\q\".", 1, 2);
    EXPECT_ERROR("\"ab\ncd \\q", "Syntax Error: Unterminated string.", 1, 4);
}

static void test_unicode_escapes(void **state) {
    (void)state;
    EXPECT_ONE("\"\\u0041\"", GQL_TOK_STRING, "A");
    EXPECT_ONE("\"unicode \\u1234\\u5678\\u90AB\\uCDEF\"", GQL_TOK_STRING,
               "unicode \xe1\x88\xb4\xe5\x99\xb8\xe9\x82\xab\xec\xb7\xaf");
    EXPECT_ONE("\"\\u00e9\\u00E9\"", GQL_TOK_STRING, "\xc3\xa9\xc3\xa9");
    EXPECT_ONE("\"\\u20AC\"", GQL_TOK_STRING, "\xe2\x82\xac");
    EXPECT_ONE("\"\\uFFFF\"", GQL_TOK_STRING, "\xef\xbf\xbf");
    /* \u0000 is a character of the value: lengths, not NULs, end strings */
    EXPECT_ONE("\"a\\u0000b\"", GQL_TOK_STRING, "a\0b");
    /* a surrogate pair is one supplementary character */
    EXPECT_ONE("\"\\uD83D\\uDCA9\"", GQL_TOK_STRING, "\xf0\x9f\x92\xa9");
    EXPECT_ONE("\"\\ud83d\\udca9\"", GQL_TOK_STRING, "\xf0\x9f\x92\xa9");
    EXPECT_ONE("\"\\uDBFF\\uDFFF\"", GQL_TOK_STRING, "\xf4\x8f\xbf\xbf");
    EXPECT_ONE("\"\\uD800\\uDC00\"", GQL_TOK_STRING, "\xf0\x90\x80\x80");
    /* the variable-width form */
    EXPECT_ONE("\"\\u{1F4A9}\"", GQL_TOK_STRING, "\xf0\x9f\x92\xa9");
    EXPECT_ONE("\"\\u{41}\\u{0041}\\u{000000041}\"", GQL_TOK_STRING, "AAA");
    EXPECT_ONE("\"\\u{0}\"", GQL_TOK_STRING, "\0");
    EXPECT_ONE("\"\\u{10FFFF}\"", GQL_TOK_STRING, "\xf4\x8f\xbf\xbf");
    EXPECT_ONE("\"\\u{D7FF}\\u{E000}\"", GQL_TOK_STRING, "\xed\x9f\xbf\xee\x80\x80");

    /* lone and misordered surrogates, and values past U+10FFFF */
    EXPECT_ERROR("\"\\uD800\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD800\".", 1, 2);
    EXPECT_ERROR("\"\\uDBFF\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uDBFF\".", 1, 2);
    EXPECT_ERROR("\"\\uDCA9\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uDCA9\".", 1, 2);
    EXPECT_ERROR("\"\\uDFFF\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uDFFF\".", 1, 2);
    EXPECT_ERROR("\"x\\uD83Dy\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 3);
    EXPECT_ERROR("\"\\uD83D\\u0041\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 2);
    EXPECT_ERROR("\"\\uD83D\\uD83D\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 2);
    EXPECT_ERROR("\"\\uDCA9\\uD83D\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uDCA9\".", 1, 2);
    EXPECT_ERROR("\"\\uD83D\\u{DCA9}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 2);
    EXPECT_ERROR("\"\\u{D800}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{D800}\".", 1, 2);
    EXPECT_ERROR("\"\\u{DFFF}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{DFFF}\".", 1, 2);
    EXPECT_ERROR("\"\\u{110000}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{110000}\".", 1, 2);
    EXPECT_ERROR("\"\\u{FFFFFFFFFFFF}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{FFFFFFFFFFFF}\".", 1,
                 2);
    /* malformed escapes */
    EXPECT_ERROR("\"\\u{}\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{}\".", 1, 2);
    EXPECT_ERROR("\"\\u{12\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{12\"\".", 1, 2);
    EXPECT_ERROR("\"\\u{12 }\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u{12 \".", 1, 2);
    EXPECT_ERROR("\"\\u{1", "Syntax Error: Invalid Unicode escape sequence: \"\\u{1\".", 1, 2);
    EXPECT_ERROR("\"\\u12G4\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u12G4\".", 1, 2);
    EXPECT_ERROR("\"bad \\uXXXF esc\"", "Syntax Error: Invalid Unicode escape sequence: \"\\uXXXF\".", 1, 6);
    EXPECT_ERROR("\"\\u12\"", "Syntax Error: Invalid Unicode escape sequence: \"\\u12\"\".", 1, 2);
    EXPECT_ERROR("\"\\u1", "Syntax Error: Invalid Unicode escape sequence: \"\\u1\".", 1, 2);
    EXPECT_ERROR("\"\\u", "Syntax Error: Invalid Unicode escape sequence: \"\\u\".", 1, 2);
    /* a long escape is echoed only in part */
    EXPECT_ONE("\"\\u{000000000000000000000000000000000000000000000041}\"", GQL_TOK_STRING, "A");
    EXPECT_ERROR("\"\\u{000000000000000000000000000000000000000000110000}\"",
                 "Syntax Error: Invalid Unicode escape sequence: \"\\u{00000000000000000000000000000...\".", 1, 2);
}

/* ---- block strings ---- */

/* The value of the block string whose text between the quotes is raw. */
static void expect_block(const char *raw, size_t n, const char *want, size_t wn) {
    char src[512];
    assert_true(n + 6 < sizeof(src));
    memcpy(src, "\"\"\"", 3);
    memcpy(src + 3, raw, n);
    memcpy(src + 3 + n, "\"\"\"", 3);
    expect_one(src, n + 6, GQL_TOK_BLOCK_STRING, want, wn);
    /* the algorithm alone agrees */
    char out[512];
    size_t k = gql_block_string_value(raw, n, out);
    if (k != wn || memcmp(out, want, wn) != 0)
        fail_msg("gql_block_string_value(\"%.*s\") = \"%.*s\", expected \"%.*s\"", (int)n, raw, (int)k, out, (int)wn,
                 want);
}

#define EXPECT_BLOCK(raw, want) expect_block(S(raw), S(want))

static void test_block_string_value(void **state) {
    (void)state;
    /* the specification's example */
    EXPECT_BLOCK("\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  ",
                 "Hello,\n  World!\n\nYours,\n  GraphQL.");
    EXPECT_BLOCK("", "");
    EXPECT_BLOCK("simple", "simple");
    EXPECT_BLOCK("  white space  ", "  white space  ");
    /* the first line keeps its indentation and sets none */
    EXPECT_BLOCK("  first\n    second\n      third", "  first\nsecond\n  third");
    EXPECT_BLOCK("first\n  second", "first\nsecond");
    /* blank first and last lines go, however many; blank middle lines stay */
    EXPECT_BLOCK("\n\n   \n  a\n\n  b\n  \n\t\n", "a\n\nb");
    EXPECT_BLOCK("   \n \t \n", "");
    EXPECT_BLOCK("\n", "");
    /* a blank line shorter than the common indentation is emptied */
    EXPECT_BLOCK("\n    a\n  \n    b", "a\n\nb");
    /* white space lines deeper than the indentation keep the rest */
    EXPECT_BLOCK("\n  a\n      \n  b", "a\n    \nb");
    /* tabs and spaces are each one character of indentation */
    EXPECT_BLOCK("\n\ta\n\t b", "a\n b");
    EXPECT_BLOCK("\n \ta\n\t b", "a\nb");
    /* trailing white space of a line stays */
    EXPECT_BLOCK("\n  a  \n  b\t", "a  \nb\t");
    /* LF, CRLF and CR all end lines; the value uses LF */
    EXPECT_BLOCK("\r\n  a\r  b\r\n    c\r\n", "a\nb\n  c");
    EXPECT_BLOCK("a\r\rb", "a\n\nb");
    /* only spaces and tabs are indentation: U+00A0 is text */
    EXPECT_BLOCK("\n  \xc2\xa0x\n  y", "\xc2\xa0x\ny");
    /* escapes are text, but \""" is """ */
    EXPECT_BLOCK("\\n \\u0041 \\ x", "\\n \\u0041 \\ x");
    EXPECT_BLOCK("contains \\\"\"\" triple", "contains \"\"\" triple");
    EXPECT_BLOCK("\\\\\"\"\"", "\\\"\"\"");
    EXPECT_BLOCK("\n  \\\"\"\"x\n  y", "\"\"\"x\ny");
    /* quotes less than three are text */
    EXPECT_BLOCK("a \" b \"\" c", "a \" b \"\" c");
    /* non-ASCII text */
    EXPECT_BLOCK("\n  caf\xc3\xa9\n   \xf0\x9f\x98\x80", "caf\xc3\xa9\n \xf0\x9f\x98\x80");

    EXPECT_ERROR("\"\"\"", "Syntax Error: Unterminated string.", 1, 4);
    EXPECT_ERROR("\"\"\"abc\"\"", "Syntax Error: Unterminated string.", 1, 9);
    EXPECT_ERROR("\"\"\"a\nb\\\"\"\"", "Syntax Error: Unterminated string.", 2, 6);
    EXPECT_ERROR("\"\"\"a\x07\"\"\"", "Syntax Error: Invalid character within String: U+0007.", 1, 5);
    EXPECT_ERROR("\"\"\"\n\n  \xc3\"\"\"", "Syntax Error: Invalid UTF-8 byte: 0xC3.", 3, 3);
}

/* ---- ignored tokens and places ---- */

static void test_ignored_tokens(void **state) {
    (void)state;
    struct lexed l;
    /* BOM, white space, commas and comments, none of them tokens */
    lex_ok(&l, S("\xef\xbb\xbf ,\t, # a comment , \"x\" { } \xc3\xa9\n,,a\xef\xbb\xbf,b # end"));
    assert_i64_eq(l.n, 2);
    expect_loc(&l.t[0], GQL_TOK_NAME, 2, 3, 35, 36);
    expect_loc(&l.t[1], GQL_TOK_NAME, 2, 6, 40, 41);
    lexed_done(&l);
    lex_ok(&l, S(""));
    assert_i64_eq(l.n, 0);
    expect_loc(&l.eof, GQL_TOK_EOF, 1, 1, 0, 0);
    lexed_done(&l);
    lex_ok(&l, S("# only\n# comments"));
    assert_i64_eq(l.n, 0);
    expect_loc(&l.eof, GQL_TOK_EOF, 2, 11, 17, 17);
    lexed_done(&l);
    /* a comment ends at CR as at LF */
    lex_ok(&l, S("#x\ra"));
    assert_i64_eq(l.n, 1);
    expect_loc(&l.t[0], GQL_TOK_NAME, 2, 1, 3, 4);
    lexed_done(&l);
    /* a BOM is ignored between tokens, not inside one */
    lex_ok(&l, S("a\xef\xbb\xbf"
                 "1"));
    assert_i64_eq(l.n, 2);
    expect_loc(&l.t[1], GQL_TOK_INT, 1, 3, 4, 5);
    lexed_done(&l);
    lex_ok(&l, S("1\xef\xbb\xbf"
                 "2"));
    assert_i64_eq(l.n, 2);
    lexed_done(&l);
    EXPECT_ONE("\"\xef\xbb\xbf\"", GQL_TOK_STRING, "\xef\xbb\xbf");
}

static void test_lines_and_columns(void **state) {
    (void)state;
    struct lexed l;
    /* LF, CR and CRLF each end one line; a tab is one column */
    lex_ok(&l, S("a\nb\rc\r\nd\n\n\te\r\r\n f"));
    assert_i64_eq(l.n, 6);
    expect_loc(&l.t[0], GQL_TOK_NAME, 1, 1, 0, 1);
    expect_loc(&l.t[1], GQL_TOK_NAME, 2, 1, 2, 3);
    expect_loc(&l.t[2], GQL_TOK_NAME, 3, 1, 4, 5);
    expect_loc(&l.t[3], GQL_TOK_NAME, 4, 1, 7, 8);
    expect_loc(&l.t[4], GQL_TOK_NAME, 6, 2, 11, 12);
    expect_loc(&l.t[5], GQL_TOK_NAME, 8, 2, 16, 17);
    lexed_done(&l);
    /* columns count characters, not bytes */
    lex_ok(&l, S("\"\xc3\xa9\" b \"\xf0\x9f\x98\x80\xe2\x82\xac\" c # \xc3\xa9\n  d"));
    assert_i64_eq(l.n, 5);
    expect_loc(&l.t[0], GQL_TOK_STRING, 1, 1, 0, 4);
    expect_loc(&l.t[1], GQL_TOK_NAME, 1, 5, 5, 6);
    expect_loc(&l.t[2], GQL_TOK_STRING, 1, 7, 7, 16);
    expect_loc(&l.t[3], GQL_TOK_NAME, 1, 12, 17, 18);
    expect_loc(&l.t[4], GQL_TOK_NAME, 2, 3, 26, 27);
    lexed_done(&l);
    /* a block string's lines count; the token is where it starts */
    lex_ok(&l, S("x \"\"\"a\r\nb\rc\n\"\"\" y"));
    assert_i64_eq(l.n, 3);
    expect_loc(&l.t[1], GQL_TOK_BLOCK_STRING, 1, 3, 2, 15);
    expect_loc(&l.t[2], GQL_TOK_NAME, 4, 5, 16, 17);
    lexed_done(&l);
    /* errors inside tokens are placed at the offending character */
    EXPECT_ERROR("{\n  a(b: \"\xc3\xa9\\q\")", "Syntax Error: Invalid character escape sequence: \"\\q\".", 2, 10);
    EXPECT_ERROR("\r\n\r\n  1.x", "Syntax Error: Invalid number, expected digit but got: \"x\".", 3, 5);
    EXPECT_ERROR("\"\"\"\r\n\r\n  \x01", "Syntax Error: Invalid character within String: U+0001.", 3, 3);
}

/* ---- characters that are not allowed ---- */

static void test_invalid_characters(void **state) {
    (void)state;
    EXPECT_ERROR("?", "Syntax Error: Unexpected character: \"?\".", 1, 1);
    EXPECT_ERROR("a ~", "Syntax Error: Unexpected character: \"~\".", 1, 3);
    EXPECT_ERROR("%", "Syntax Error: Unexpected character: \"%\".", 1, 1);
    EXPECT_ERROR("\x7f", "Syntax Error: Unexpected character: U+007F.", 1, 1);
    EXPECT_ERROR("\xe2\x80\x8b", "Syntax Error: Unexpected character: U+200B.", 1, 1);
    EXPECT_ERROR("\xc2\xa0", "Syntax Error: Unexpected character: U+00A0.", 1, 1);
    EXPECT_ERROR("\xf0\x9f\x98\x80", "Syntax Error: Unexpected character: U+1F600.", 1, 1);
    /* control characters: not SourceCharacters anywhere */
    expect_error_n(S("a\0"), LK_EINVAL, "Syntax Error: Invalid character: U+0000.", 1, 2);
    EXPECT_ERROR("\x07", "Syntax Error: Invalid character: U+0007.", 1, 1);
    EXPECT_ERROR("\x0b", "Syntax Error: Invalid character: U+000B.", 1, 1);
    EXPECT_ERROR("\x0c", "Syntax Error: Invalid character: U+000C.", 1, 1);
    EXPECT_ERROR("\x1b", "Syntax Error: Invalid character: U+001B.", 1, 1);
    EXPECT_ERROR("# a comment \x07 stops", "Syntax Error: Invalid character: U+0007.", 1, 13);
    /* bytes outside well-formed UTF-8, wherever they are */
    EXPECT_ERROR("\xff", "Syntax Error: Invalid UTF-8 byte: 0xFF.", 1, 1);
    EXPECT_ERROR("a \x80", "Syntax Error: Invalid UTF-8 byte: 0x80.", 1, 3);
    EXPECT_ERROR("\"\xc0\x80\"", "Syntax Error: Invalid UTF-8 byte: 0xC0.", 1, 2);            /* overlong NUL */
    EXPECT_ERROR("\"\xed\xa0\x80\"", "Syntax Error: Invalid UTF-8 byte: 0xED.", 1, 2);        /* a surrogate */
    EXPECT_ERROR("\"\xf4\x90\x80\x80\"", "Syntax Error: Invalid UTF-8 byte: 0xF4.", 1, 2);    /* past U+10FFFF */
    EXPECT_ERROR("\"\xe2\x82\"", "Syntax Error: Invalid UTF-8 byte: 0xE2.", 1, 2);            /* cut short */
    EXPECT_ERROR("\"\xe2\x82", "Syntax Error: Invalid UTF-8 byte: 0xE2.", 1, 2);              /* cut by the end */
    EXPECT_ERROR("# \xc3\xa9 then \xe9\n", "Syntax Error: Invalid UTF-8 byte: 0xE9.", 1, 10); /* in a comment */
    EXPECT_ERROR("\xef\xbb", "Syntax Error: Invalid UTF-8 byte: 0xEF.", 1, 1);                /* half a BOM */
}

static void test_token_limit(void **state) {
    (void)state;
    struct arena *a = arena_new(0);
    struct gql_lexer lx;
    struct gql_token t;
    struct gql_error err = {0};
    /* three tokens pass a limit of three, ignored tokens not counted */
    gql_lexer_init(&lx, S("a, # b\n b c"), 3, a);
    for (int i = 0; i < 3; i++)
        assert_i64_eq(gql_lex_next(&lx, &t, &err), 0);
    assert_i64_eq(gql_lex_next(&lx, &t, &err), 0);
    assert_i64_eq(t.kind, GQL_TOK_EOF);
    assert_i64_eq(lx.tokens, 3);
    /* the fourth is refused, at its place */
    gql_lexer_init(&lx, S("a b c d"), 3, a);
    for (int i = 0; i < 3; i++)
        assert_i64_eq(gql_lex_next(&lx, &t, &err), 0);
    assert_i64_eq(gql_lex_next(&lx, &t, &err), LK_ERANGE);
    assert_i64_eq(err.code, LK_ERANGE);
    assert_string_equal(err.message, "Syntax Error: Document contains more than 3 tokens. Parsing aborted.");
    assert_i64_eq(err.line, 1);
    assert_i64_eq(err.column, 7);
    arena_free(a);
}

static void test_token_kind_names(void **state) {
    (void)state;
    assert_string_equal(gql_token_kind_name(GQL_TOK_EOF), "<EOF>");
    assert_string_equal(gql_token_kind_name(GQL_TOK_SPREAD), "\"...\"");
    assert_string_equal(gql_token_kind_name(GQL_TOK_BRACE_L), "\"{\"");
    assert_string_equal(gql_token_kind_name(GQL_TOK_NAME), "Name");
    assert_string_equal(gql_token_kind_name(GQL_TOK_INT), "Int");
    assert_string_equal(gql_token_kind_name(GQL_TOK_FLOAT), "Float");
    assert_string_equal(gql_token_kind_name(GQL_TOK_STRING), "String");
    assert_string_equal(gql_token_kind_name(GQL_TOK_BLOCK_STRING), "BlockString");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_punctuators),        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ints_and_floats),    cmocka_unit_test(test_strings),
        cmocka_unit_test(test_unicode_escapes),    cmocka_unit_test(test_block_string_value),
        cmocka_unit_test(test_ignored_tokens),     cmocka_unit_test(test_lines_and_columns),
        cmocka_unit_test(test_invalid_characters), cmocka_unit_test(test_token_limit),
        cmocka_unit_test(test_token_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
