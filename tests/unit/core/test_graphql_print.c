/*
 * test_graphql_print.c - unit tests for the GraphQL printer and tree
 * comparison (core/graphql.h): the canonical text, string escapes, the
 * round trip parse(print(parse(x))) == parse(x) on hand-written documents
 * and as a property over documents generated at random from the grammar
 * (with ignored tokens, escapes and block strings anywhere they may go),
 * and the printer's own bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/graphql.h"

#include "unit_assert.h"

static struct gql_document *parse_n(const char *src, size_t len) {
    struct gql_document *doc = NULL;
    struct gql_error err = {0};
    struct gql_limits lim = {.max_bytes = GQL_HARD_MAX_BYTES, .max_tokens = GQL_HARD_MAX_TOKENS};
    int r = gql_parse(src, len, &lim, &doc, &err);
    if (r != 0)
        fail_msg("refused (%d, %u:%u %s):\n%.*s", r, err.line, err.column, err.message, (int)len, src);
    return doc;
}

static char *print_doc(const struct gql_document *doc, size_t *ret_len) {
    char *s = NULL;
    int r = gql_print(doc, &s, ret_len);
    if (r != 0)
        fail_msg("gql_print: %d", r);
    assert_i64_eq(strlen(s), *ret_len);
    return s;
}

/*
 * The round trip: the text printed from src's tree parses to an equal
 * tree, and printing that tree gives the same text again.
 */
static void check_round_trip(const char *src, size_t len) {
    struct gql_document *a = parse_n(src, len);
    size_t n1, n2;
    char *p1 = print_doc(a, &n1);
    struct gql_document *b = parse_n(p1, n1);
    if (!gql_document_equal(a, b))
        fail_msg("the printed text parses to another tree.\nsource:\n%.*s\nprinted:\n%s", (int)len, src, p1);
    char *p2 = print_doc(b, &n2);
    if (n1 != n2 || memcmp(p1, p2, n1) != 0)
        fail_msg("printing is not stable:\n%s\n---\n%s", p1, p2);
    free(p1);
    free(p2);
    gql_document_free(a);
    gql_document_free(b);
}

static void expect_printed(const char *src, const char *want) {
    struct gql_document *doc = parse_n(src, strlen(src));
    size_t n;
    char *s = print_doc(doc, &n);
    if (strcmp(s, want) != 0)
        fail_msg("printed:\n%s\nexpected:\n%s", s, want);
    free(s);
    gql_document_free(doc);
    check_round_trip(src, strlen(src));
}

/* ---- the canonical text ---- */

static void test_canonical_text_of_operations(void **state) {
    (void)state;
    expect_printed("{a}", "{\n  a\n}\n");
    expect_printed("query { a }", "{\n  a\n}\n");
    expect_printed("query Q($a:Int=1@d,$b:[String!]!){x}", "query Q($a: Int = 1 @d, $b: [String!]!) {\n  x\n}\n");
    expect_printed(
        "query($id: ID!) @live { n: node(id: $id) { ...F ... on User @skip(if: true) { name } ... { id } } }",
        "query ($id: ID!) @live {\n"
        "  n: node(id: $id) {\n"
        "    ...F\n"
        "    ... on User @skip(if: true) {\n"
        "      name\n"
        "    }\n"
        "    ... {\n"
        "      id\n"
        "    }\n"
        "  }\n"
        "}\n");
    expect_printed("mutation { a } subscription S @d { b }\nfragment F on T @e { c(x: [1, 2.5, \"s\", true, null, E, "
                   "{a: $v, b: []}, {}]) }",
                   "mutation {\n  a\n}\n\n"
                   "subscription S @d {\n  b\n}\n\n"
                   "fragment F on T @e {\n  c(x: [1, 2.5, \"s\", true, null, E, {a: $v, b: []}, {}])\n}\n");
    /* block strings come back as quoted strings of their value */
    expect_printed("{ a(s: \"\"\"\n    two\n      lines\n  \"\"\") }", "{\n  a(s: \"two\\n  lines\")\n}\n");
}

static void test_canonical_text_of_type_system(void **state) {
    (void)state;
    expect_printed("\"\"\"Desc.\"\"\" schema @a { query: Q, mutation: M }\nextend schema @b",
                   "\"Desc.\"\nschema @a {\n  query: Q\n  mutation: M\n}\n\nextend schema @b\n");
    expect_printed("\"S\" scalar Date @specifiedBy(url: \"u\")", "\"S\"\nscalar Date @specifiedBy(url: \"u\")\n");
    expect_printed("type T implements & A & B @k { \"f\" f(\"a\" a: Int = 1 @x, b: [S!]): R! @deprecated g: G }",
                   "type T implements A & B @k {\n"
                   "  \"f\"\n"
                   "  f(\"a\" a: Int = 1 @x, b: [S!]): R! @deprecated\n"
                   "  g: G\n"
                   "}\n");
    expect_printed("interface I implements J { a: A } type Bare",
                   "interface I implements J {\n  a: A\n}\n\ntype Bare\n");
    expect_printed("union U @d = | A | B", "union U @d = A | B\n");
    /* a shorthand query after a type without fields would become its fields */
    expect_printed("type T query { a } enum E @d query { b } { c }",
                   "type T\n\nquery {\n  a\n}\n\nenum E @d\n\nquery {\n  b\n}\n\n{\n  c\n}\n");
    expect_printed("extend schema @a query { a } union U query { b }",
                   "extend schema @a\n\nquery {\n  a\n}\n\nunion U\n\n{\n  b\n}\n");
    expect_printed("enum E { \"a\" A @d B }", "enum E {\n  \"a\"\n  A @d\n  B\n}\n");
    expect_printed("input In { \"x\" x: Int = 3 @d y: [In] }", "input In {\n  \"x\"\n  x: Int = 3 @d\n  y: [In]\n}\n");
    expect_printed("directive @d(a: Int = 1) repeatable on | FIELD | QUERY",
                   "directive @d(a: Int = 1) repeatable on FIELD | QUERY\n");
    expect_printed("extend type T implements I @a { f: Int } extend union U = V extend enum E @b extend input In @c "
                   "extend scalar S @d extend interface I { g: Int }",
                   "extend type T implements I @a {\n  f: Int\n}\n\n"
                   "extend union U = V\n\n"
                   "extend enum E @b\n\n"
                   "extend input In @c\n\n"
                   "extend scalar S @d\n\n"
                   "extend interface I {\n  g: Int\n}\n");
}

static void test_string_escapes(void **state) {
    (void)state;
    /* quotes, backslashes and control characters are escaped; other
     * characters, non-ASCII ones included, are written as they are */
    expect_printed("{ a(s: \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f \\u0085 \\u00a0 \\u00e9 "
                   "\\uD83D\\uDE00 \\u{0}\") }",
                   "{\n  a(s: \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001F\\u007F \\u0085 \xc2\xa0 \xc3\xa9 "
                   "\xf0\x9f\x98\x80 \\u0000\")\n}\n");
    expect_printed("{ a(s: \"\") }", "{\n  a(s: \"\")\n}\n");
    /* a description holding a block string's quotes */
    expect_printed("\"\"\"a \\\"\"\" b\"\"\" scalar S", "\"a \\\"\\\"\\\" b\"\nscalar S\n");
}

/* ---- round trips of written documents ---- */

static void test_round_trip_of_written_documents(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{ a }",
        "\xef\xbb\xbf# comment\r\n{ a, b,, c }\r\n",
        "query getZuckProfile($devicePicSize: Int) {\n  user(id: 4) {\n    id\n    name\n"
        "    profilePic(size: $devicePicSize)\n  }\n}",
        "mutation {\n  sendEmail(message: \"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\")\n}",
        "query withNestedFragments {\n  user(id: 4) {\n    friends(first: 10) { ...friendFields }\n"
        "    mutualFriends(first: 10) { ...friendFields }\n  }\n}\n\nfragment friendFields on User {\n"
        "  id\n  name\n  ...standardProfilePic\n}\n\nfragment standardProfilePic on User {\n"
        "  profilePic(size: 50)\n}",
        "query inlineFragmentNoType($expandedInfo: Boolean) {\n  user(handle: \"zuck\") {\n    id\n    name\n"
        "    ... @include(if: $expandedInfo) {\n      firstName\n      lastName\n      birthday\n    }\n  }\n}",
        "{ nearestThing(location: { lon: 12.43, lat: -53.211 }) }",
        "query ($a: [[Int!]]! = [[1], [2, 3]], $b: In = {x: {y: [\"z\", ENUM, null, false]}}) @q { f(a: $a) }",
        "{ a(x: -0, y: 0.0, z: 1e10, w: -1.5E-10, v: 123456789012345678901234567890) }",
        "{ a(s: \"\\u{10FFFF}\\u{0}\\uDBFF\\uDFFF\\\\u\") }",
        "\"\"\"\n  Multi\n    line\n\"\"\"\ntype T { \"\"\"x\"\"\" f(\"\"\"\n  y\n\"\"\" a: Int): Int }",
        "schema { query: Q } extend schema @a { mutation: M } directive @d repeatable on FIELD_DEFINITION",
        "type Query { me: User } \"a union\" union U = A | B enum E { A B } input I { a: [Int!]! = [] }",
        "{ query: query(query: query) { on fragment type } }",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        check_round_trip(docs[i], strlen(docs[i]));
}

/* ---- the property over random documents ---- */

struct gen {
    uint64_t rng;
    char *buf;
    size_t len, cap;
};

static uint32_t rnd(struct gen *g, uint32_t n) {
    /* xorshift64*: fixed seed, so a failure repeats */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * UINT64_C(2685821657736338717)) >> 33) % n;
}

static void emit(struct gen *g, const char *s) {
    size_t n = strlen(s);
    if (g->len + n + 1 > g->cap) {
        g->cap = (g->len + n + 1) * 2;
        g->buf = realloc(g->buf, g->cap);
        assert_non_null(g->buf);
    }
    memcpy(g->buf + g->len, s, n + 1);
    g->len += n;
}

/* Ignored tokens: always at least one, so tokens never run together. */
static void sep(struct gen *g) {
    static const char *const ignored[] = {
        " ", "\n", "\r\n", "\r", "\t", ",", " , ", "# c\xc3\xa9 \"x\" {\n", "\xef\xbb\xbf", "  \n\t"};
    int k = 1 + (int)rnd(g, 3);
    for (int i = 0; i < k; i++)
        emit(g, ignored[rnd(g, sizeof(ignored) / sizeof(ignored[0]))]);
}

static void tok(struct gen *g, const char *s) {
    emit(g, s);
    sep(g);
}

static const char *name(struct gen *g) {
    static const char *const names[] = {"a",  "b_1",        "_x",   "Name", "query",  "mutation", "fragment", "type",
                                        "on", "__typename", "true", "null", "extend", "input",    "z9"};
    return names[rnd(g, sizeof(names) / sizeof(names[0]))];
}

/* A name that is not "on", "true", "false" or "null". */
static const char *plain_name(struct gen *g) {
    static const char *const names[] = {"A", "B", "User", "Org", "x", "_y", "schema", "query", "type"};
    return names[rnd(g, sizeof(names) / sizeof(names[0]))];
}

static void string_value(struct gen *g) {
    static const char *const parts[] = {
        "a",       " ",       "\\n",        "\\\"",           "\\\\",    "\\/",      "\\b\\f\\r\\t",
        "\\u0041", "\\u00e9", "\\u{1F600}", "\\uD83D\\uDE00", "\\u0000", "\xc3\xa9", "\xf0\x9f\x98\x80",
        "\t",      "#",       "\"\"",       "\\u{0}",         "\xc2\x85"};
    emit(g, "\"");
    for (int i = (int)rnd(g, 6); i > 0; i--) {
        const char *p = parts[rnd(g, sizeof(parts) / sizeof(parts[0]))];
        if (strcmp(p, "\"\"") == 0)
            p = "\\\"";
        emit(g, p);
    }
    tok(g, "\"");
}

static void block_string(struct gen *g) {
    static const char *const parts[] = {"text",     " ",  "\t",  "\n",       "\r\n",   "\r",     "  ",
                                        "\\\"\"\"", "\"", "\\n", "\xc3\xa9", "\n    ", "\n  \n", "\\"};
    emit(g, "\"\"\"");
    const char *last = "";
    for (int i = (int)rnd(g, 10); i > 0; i--) {
        const char *p = parts[rnd(g, sizeof(parts) / sizeof(parts[0]))];
        if (strcmp(p, "\"") == 0 && strcmp(last, "\"") == 0)
            p = "text"; /* never three quotes in a row */
        emit(g, p);
        last = p;
    }
    /* not ending in a backslash or quote that would run into the end */
    tok(g, "x\"\"\"");
}

static void value(struct gen *g, int depth, int is_const) {
    static const char *const numbers[] = {"0", "-0", "42", "-17", "1.5", "-0.0e10", "6.02E23", "1e-3", "9e+9"};
    switch (rnd(g, depth > 0 ? 10 : 8)) {
    case 0: tok(g, numbers[rnd(g, sizeof(numbers) / sizeof(numbers[0]))]); break;
    case 1: string_value(g); break;
    case 2: block_string(g); break;
    case 3: tok(g, rnd(g, 2) ? "true" : "false"); break;
    case 4: tok(g, "null"); break;
    case 5: tok(g, plain_name(g)); break;
    case 6:
    case 7:
        if (is_const) {
            tok(g, "RED");
        } else {
            tok(g, "$");
            tok(g, name(g));
        }
        break;
    case 8:
        tok(g, "[");
        for (int i = (int)rnd(g, 4); i > 0; i--)
            value(g, depth - 1, is_const);
        tok(g, "]");
        break;
    default:
        tok(g, "{");
        for (int i = (int)rnd(g, 4); i > 0; i--) {
            tok(g, name(g));
            tok(g, ":");
            value(g, depth - 1, is_const);
        }
        tok(g, "}");
        break;
    }
}

static void arguments(struct gen *g, int is_const) {
    if (rnd(g, 2) == 0)
        return;
    tok(g, "(");
    for (int i = 1 + (int)rnd(g, 3); i > 0; i--) {
        tok(g, name(g));
        tok(g, ":");
        value(g, 3, is_const);
    }
    tok(g, ")");
}

static void directives(struct gen *g, int is_const) {
    for (int i = (int)rnd(g, 4) - 1; i > 0; i--) {
        tok(g, "@");
        tok(g, name(g));
        arguments(g, is_const);
    }
}

static void type_ref(struct gen *g, int depth) {
    if (depth > 0 && rnd(g, 3) == 0) {
        tok(g, "[");
        type_ref(g, depth - 1);
        tok(g, "]");
    } else {
        tok(g, name(g));
    }
    if (rnd(g, 2))
        tok(g, "!");
}

static void selection_set(struct gen *g, int depth) {
    tok(g, "{");
    for (int i = 1 + (int)rnd(g, 4); i > 0; i--) {
        uint32_t k = rnd(g, 5);
        if (k == 1 && depth <= 0)
            k = 2; /* inline fragments nest too: only while depth lasts */
        switch (k) {
        case 0:
            tok(g, "...");
            tok(g, plain_name(g));
            directives(g, 0);
            break;
        case 1:
            tok(g, "...");
            if (rnd(g, 2)) {
                tok(g, "on");
                tok(g, name(g));
            }
            directives(g, 0);
            selection_set(g, depth - 1);
            break;
        default:
            if (rnd(g, 3) == 0) {
                tok(g, name(g));
                tok(g, ":");
            }
            tok(g, name(g));
            arguments(g, 0);
            directives(g, 0);
            if (depth > 0 && rnd(g, 2))
                selection_set(g, depth - 1);
        }
    }
    tok(g, "}");
}

static void description(struct gen *g) {
    switch (rnd(g, 3)) {
    case 0: string_value(g); break;
    case 1: block_string(g); break;
    default: break;
    }
}

static void input_values(struct gen *g, const char *open, const char *close) {
    tok(g, open);
    for (int i = 1 + (int)rnd(g, 3); i > 0; i--) {
        description(g);
        tok(g, name(g));
        tok(g, ":");
        type_ref(g, 2);
        if (rnd(g, 2)) {
            tok(g, "=");
            value(g, 2, 1);
        }
        directives(g, 1);
    }
    tok(g, close);
}

/* Returns 1 when the definition would take a '{' after it as its own. */
static int type_system(struct gen *g) {
    int open = 0;
    int ext = rnd(g, 4) == 0;
    if (ext)
        tok(g, "extend");
    else
        description(g);
    switch (rnd(g, 8)) {
    case 0:
        tok(g, "scalar");
        tok(g, name(g));
        if (ext)
            tok(g, "@x");
        directives(g, 1);
        break;
    case 1:
    case 2:
        tok(g, rnd(g, 2) ? "type" : "interface");
        tok(g, name(g));
        tok(g, "implements");
        if (rnd(g, 2))
            tok(g, "&");
        tok(g, name(g));
        if (rnd(g, 2)) {
            tok(g, "&");
            tok(g, name(g));
        }
        directives(g, 1);
        open = 1;
        if (rnd(g, 2)) {
            open = 0;
            tok(g, "{");
            for (int i = 1 + (int)rnd(g, 3); i > 0; i--) {
                description(g);
                tok(g, name(g));
                if (rnd(g, 2))
                    input_values(g, "(", ")");
                tok(g, ":");
                type_ref(g, 2);
                directives(g, 1);
            }
            tok(g, "}");
        }
        break;
    case 3:
        tok(g, "union");
        tok(g, name(g));
        directives(g, 1);
        tok(g, "=");
        if (rnd(g, 2))
            tok(g, "|");
        tok(g, name(g));
        for (int i = (int)rnd(g, 3); i > 0; i--) {
            tok(g, "|");
            tok(g, name(g));
        }
        break;
    case 4:
        tok(g, "enum");
        tok(g, name(g));
        directives(g, 1);
        tok(g, "{");
        for (int i = 1 + (int)rnd(g, 3); i > 0; i--) {
            description(g);
            tok(g, plain_name(g));
            directives(g, 1);
        }
        tok(g, "}");
        break;
    case 5:
        tok(g, "input");
        tok(g, name(g));
        directives(g, 1);
        input_values(g, "{", "}");
        break;
    case 6:
        tok(g, "schema");
        directives(g, 1);
        tok(g, "{");
        tok(g, "query");
        tok(g, ":");
        tok(g, name(g));
        if (rnd(g, 2)) {
            tok(g, "subscription");
            tok(g, ":");
            tok(g, name(g));
        }
        tok(g, "}");
        break;
    default:
        if (ext) { /* directives are not extended: an input instead */
            tok(g, "input");
            tok(g, name(g));
            tok(g, "@x");
            open = 1;
            break;
        }
        tok(g, "directive");
        tok(g, "@");
        tok(g, name(g));
        if (rnd(g, 2))
            input_values(g, "(", ")");
        if (rnd(g, 2))
            tok(g, "repeatable");
        tok(g, "on");
        if (rnd(g, 2))
            tok(g, "|");
        tok(g, "FIELD");
        if (rnd(g, 2)) {
            tok(g, "|");
            tok(g, "INPUT_FIELD_DEFINITION");
        }
        break;
    }
    return open;
}

static void document(struct gen *g) {
    if (rnd(g, 2))
        sep(g);
    int open = 0;
    for (int i = 1 + (int)rnd(g, 3); i > 0; i--) {
        uint32_t k = rnd(g, 5);
        if (k == 0 && open)
            tok(g, "query"); /* a shorthand '{' would be the type's fields */
        open = 0;
        switch (k) {
        case 0: selection_set(g, 3); break;
        case 1:
            tok(g, rnd(g, 3) == 0 ? "mutation" : rnd(g, 2) ? "query" : "subscription");
            if (rnd(g, 2))
                tok(g, name(g));
            if (rnd(g, 2)) {
                tok(g, "(");
                for (int v = 1 + (int)rnd(g, 3); v > 0; v--) {
                    tok(g, "$");
                    tok(g, name(g));
                    tok(g, ":");
                    type_ref(g, 3);
                    if (rnd(g, 2)) {
                        tok(g, "=");
                        value(g, 3, 1);
                    }
                    directives(g, 1);
                }
                tok(g, ")");
            }
            directives(g, 0);
            selection_set(g, 3);
            break;
        case 2:
            tok(g, "fragment");
            tok(g, plain_name(g));
            tok(g, "on");
            tok(g, name(g));
            directives(g, 0);
            selection_set(g, 3);
            break;
        default: open = type_system(g); break;
        }
    }
}

static void test_round_trip_property(void **state) {
    (void)state;
    struct gen g = {.rng = UINT64_C(0x9E3779B97F4A7C15)};
    size_t bytes = 0;
    for (int i = 0; i < 3000; i++) {
        g.len = 0;
        emit(&g, "");
        document(&g);
        bytes += g.len;
        check_round_trip(g.buf, g.len);
    }
    /* the generator made documents of some size */
    assert_true(bytes > 3000 * 100);
    free(g.buf);
}

/* ---- comparison ---- */

static int equal_texts(const char *a, const char *b) {
    struct gql_document *x = parse_n(a, strlen(a)), *y = parse_n(b, strlen(b));
    int eq = gql_document_equal(x, y);
    gql_document_free(x);
    gql_document_free(y);
    return eq;
}

static void test_equality(void **state) {
    (void)state;
    assert_true(equal_texts("{ a }", "query { a }"));
    assert_true(equal_texts("{ a(s: \"x\\ny\") }", "{ a(s: \"\"\"\n   x\n   y\n\"\"\") }"));
    assert_true(equal_texts("{ a(x: \"\\u00e9\") }", "{ a(x: \"\xc3\xa9\") }"));
    assert_false(equal_texts("{ a }", "{ b }"));
    assert_false(equal_texts("{ a }", "{ a b }"));
    assert_false(equal_texts("{ a }", "{ x: a }"));
    assert_false(equal_texts("{ a }", "mutation { a }"));
    assert_false(equal_texts("query A { a }", "query B { a }"));
    assert_false(equal_texts("{ a(x: 1, y: 2) }", "{ a(y: 2, x: 1) }"));
    assert_false(equal_texts("{ a(x: 1) }", "{ a(x: 1.0) }"));
    assert_false(equal_texts("{ a(x: \"E\") }", "{ a(x: E) }"));
    assert_false(equal_texts("{ a(x: [1]) }", "{ a(x: [[1]]) }"));
    assert_false(equal_texts("{ a(x: {b: 1}) }", "{ a(x: {c: 1}) }"));
    assert_false(equal_texts("{ a(x: true) }", "{ a(x: false) }"));
    assert_false(equal_texts("{ a(x: $v) }", "{ a(x: $w) }"));
    assert_false(equal_texts("{ a @d }", "{ a @e }"));
    assert_false(equal_texts("{ ... on A { a } }", "{ ... on B { a } }"));
    assert_false(equal_texts("{ ... { a } }", "{ ... on B { a } }"));
    assert_false(equal_texts("query ($a: Int) { a }", "query ($a: Int!) { a }"));
    assert_false(equal_texts("query ($a: Int = 1) { a }", "query ($a: Int) { a }"));
    assert_false(equal_texts("type T { a: Int }", "extend type T { a: Int }"));
    assert_false(equal_texts("\"x\" scalar S", "scalar S"));
    assert_false(equal_texts("type T { a(b: Int): Int }", "type T { a(c: Int): Int }"));
    assert_false(equal_texts("enum E { A }", "enum E { B }"));
    assert_false(equal_texts("directive @d on FIELD", "directive @d repeatable on FIELD"));
    assert_false(equal_texts("union U = A", "union U = B"));
    assert_true(gql_value_equal(NULL, NULL));
    assert_true(gql_document_equal(NULL, NULL));
    struct gql_document *x = parse_n("{ a }", 5);
    assert_false(gql_document_equal(x, NULL));
    assert_false(gql_value_equal(NULL, &(struct gql_value){.kind = GQL_VALUE_NULL}));
    gql_document_free(x);
}

/* ---- the printer's bounds ---- */

static void test_printer_bounds(void **state) {
    (void)state;
    /* a list deeper than any parsed tree: refused, not a deep recursion */
    size_t n = GQL_HARD_MAX_DEPTH + 5;
    struct gql_value *v = calloc(n, sizeof(*v));
    for (size_t i = 0; i + 1 < n; i++) {
        v[i].kind = GQL_VALUE_LIST;
        v[i].list.items = &v[i + 1];
        v[i].list.count = 1;
    }
    v[n - 1].kind = GQL_VALUE_NULL;
    char *s = (char *)(uintptr_t)1;
    assert_i64_eq(gql_print_value(v, &s, NULL), LK_ERANGE);
    assert_true(s == (char *)(uintptr_t)1);
    /* as deep as a parse allows prints */
    v[GQL_HARD_MAX_DEPTH - 1].kind = GQL_VALUE_NULL;
    size_t len = 0;
    assert_i64_eq(gql_print_value(v, &s, &len), 0);
    assert_i64_eq(len, 2 * (GQL_HARD_MAX_DEPTH - 1) + 4);
    free(s);
    free(v);

    /* a type and a value alone */
    struct gql_document *doc = parse_n("query ($a: [[A!]]! = [{b: \"c\"}]) { a }", 38);
    assert_i64_eq(gql_print_type(doc->definitions[0].variables[0].type, &s, &len), 0);
    assert_string_equal(s, "[[A!]]!");
    assert_i64_eq(len, 7);
    free(s);
    assert_i64_eq(gql_print_value(doc->definitions[0].variables[0].default_value, &s, NULL), 0);
    assert_string_equal(s, "[{b: \"c\"}]");
    free(s);
    gql_document_free(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_text_of_operations),
        cmocka_unit_test(test_canonical_text_of_type_system),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_round_trip_of_written_documents),
        cmocka_unit_test(test_round_trip_property),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_printer_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
