/*
 * test_graphql_parse.c - unit tests for the GraphQL parser (core/graphql.h):
 * each production of the executable and type-system grammar and the tree
 * it builds, the places of nodes, each syntax error in graphql-js's words
 * with its line and column, and each limit (size, tokens, depth).
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

static struct gql_document *parse_limited(const char *src, const struct gql_limits *lim) {
    struct gql_document *doc = NULL;
    struct gql_error err = {0};
    int r = gql_parse(src, strlen(src), lim, &doc, &err);
    if (r != 0)
        fail_msg("refused (%d, %u:%u %s):\n%s", r, err.line, err.column, err.message, src);
    assert_non_null(doc);
    return doc;
}

static struct gql_document *parse_ok(const char *src) {
    return parse_limited(src, NULL);
}

static void expect_error_limited(const char *src, size_t len, const struct gql_limits *lim, int code, const char *msg,
                                 uint32_t line, uint32_t col) {
    struct gql_document *doc = (struct gql_document *)(uintptr_t)1;
    struct gql_error err = {0};
    int r = gql_parse(src, len, lim, &doc, &err);
    if (r != code || err.code != code || strcmp(err.message, msg) != 0 || err.line != line || err.column != col)
        fail_msg("\"%.60s\":\n  got      %d %u:%u %s\n  expected %d %u:%u %s", src, r, err.line, err.column,
                 err.message, code, line, col, msg);
    /* *ret untouched on failure */
    assert_true(doc == (struct gql_document *)(uintptr_t)1);
}

static void expect_error(const char *src, const char *msg, uint32_t line, uint32_t col) {
    expect_error_limited(src, strlen(src), NULL, LK_EINVAL, msg, line, col);
}

static void expect_name(const struct gql_name *n, const char *want) {
    if (want == NULL) {
        if (n->s != NULL)
            fail_msg("name \"%s\", expected none", n->s);
        return;
    }
    if (n->s == NULL)
        fail_msg("no name, expected \"%s\"", want);
    if (n->len != strlen(want) || strcmp(n->s, want) != 0)
        fail_msg("name \"%s\" (%zu), expected \"%s\"", n->s, n->len, want);
}

static void expect_loc(const struct gql_loc *l, uint32_t line, uint32_t col, uint32_t start, uint32_t end) {
    if (l->line != line || l->column != col || l->start != start || l->end != end)
        fail_msg("at %u:%u [%u,%u), expected %u:%u [%u,%u)", l->line, l->column, l->start, l->end, line, col, start,
                 end);
}

/* The printed form of a value or type, to check nested trees in one line. */
static void expect_value_text(const struct gql_value *v, const char *want) {
    char *s = NULL;
    assert_i64_eq(gql_print_value(v, &s, NULL), 0);
    if (strcmp(s, want) != 0)
        fail_msg("value %s, expected %s", s, want);
    free(s);
}

static void expect_type_text(const struct gql_type *t, const char *want) {
    char *s = NULL;
    assert_i64_eq(gql_print_type(t, &s, NULL), 0);
    if (strcmp(s, want) != 0)
        fail_msg("type %s, expected %s", s, want);
    free(s);
}

/* ---- operations ---- */

static void test_shorthand_and_operation_types(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("{ a }");
    assert_i64_eq(doc->count, 1);
    const struct gql_definition *d = &doc->definitions[0];
    assert_i64_eq(d->kind, GQL_DEF_OPERATION);
    assert_i64_eq(d->operation, GQL_OP_QUERY);
    expect_name(&d->name, NULL);
    assert_i64_eq(d->selections.count, 1);
    assert_i64_eq(doc->tokens, 3);
    gql_document_free(doc);

    doc = parse_ok("query { a } mutation M { b } subscription S { c } query Q { d }");
    assert_i64_eq(doc->count, 4);
    assert_i64_eq(doc->definitions[0].operation, GQL_OP_QUERY);
    expect_name(&doc->definitions[0].name, NULL);
    assert_i64_eq(doc->definitions[1].operation, GQL_OP_MUTATION);
    expect_name(&doc->definitions[1].name, "M");
    assert_i64_eq(doc->definitions[2].operation, GQL_OP_SUBSCRIPTION);
    expect_name(&doc->definitions[2].name, "S");
    expect_name(&doc->definitions[3].name, "Q");
    gql_document_free(doc);
    gql_document_free(NULL);

    assert_string_equal(gql_operation_type_name(GQL_OP_QUERY), "query");
    assert_string_equal(gql_operation_type_name(GQL_OP_MUTATION), "mutation");
    assert_string_equal(gql_operation_type_name(GQL_OP_SUBSCRIPTION), "subscription");
}

static void test_variable_definitions(void **state) {
    (void)state;
    struct gql_document *doc =
        parse_ok("query Q($a: Int, $b: [String!]! = [\"x\"] @dir(c: 1), $c: In = {k: ENUM, l: null}, $d: Boolean = "
                 "false @x @y) @op(v: $a) { f }");
    const struct gql_definition *d = &doc->definitions[0];
    assert_i64_eq(d->nvariables, 4);
    const struct gql_variable_def *v = d->variables;
    expect_name(&v[0].name, "a");
    expect_type_text(v[0].type, "Int");
    assert_null(v[0].default_value);
    assert_i64_eq(v[0].ndirectives, 0);
    expect_name(&v[1].name, "b");
    assert_i64_eq(v[1].type->kind, GQL_TYPE_NON_NULL);
    assert_i64_eq(v[1].type->of->kind, GQL_TYPE_LIST);
    assert_i64_eq(v[1].type->of->of->kind, GQL_TYPE_NON_NULL);
    expect_name(&v[1].type->of->of->of->name, "String");
    expect_type_text(v[1].type, "[String!]!");
    expect_value_text(v[1].default_value, "[\"x\"]");
    assert_i64_eq(v[1].ndirectives, 1);
    expect_name(&v[1].directives[0].name, "dir");
    expect_value_text(v[2].default_value, "{k: ENUM, l: null}");
    expect_value_text(v[3].default_value, "false");
    assert_i64_eq(v[3].ndirectives, 2);
    assert_i64_eq(d->ndirectives, 1);
    expect_name(&d->directives[0].name, "op");
    assert_i64_eq(d->directives[0].args[0].value.kind, GQL_VALUE_VARIABLE);
    expect_name(&d->directives[0].args[0].value.name, "a");
    gql_document_free(doc);

    /* an anonymous operation may have variables */
    doc = parse_ok("query ($id: ID!) { node(id: $id) { id } }");
    expect_name(&doc->definitions[0].name, NULL);
    assert_i64_eq(doc->definitions[0].nvariables, 1);
    gql_document_free(doc);

    expect_error("query Q() { a }", "Syntax Error: Expected \"$\", found \")\".", 1, 9);
    expect_error("query Q($a) { a }", "Syntax Error: Expected \":\", found \")\".", 1, 11);
    expect_error("query Q($a: ) { a }", "Syntax Error: Expected Name, found \")\".", 1, 13);
    expect_error("query Q(a: Int) { a }", "Syntax Error: Expected \"$\", found Name \"a\".", 1, 9);
    expect_error("query Q($a: Int = ) { a }", "Syntax Error: Unexpected \")\".", 1, 19);
    expect_error("query Q($a: Int = $b) { a }", "Syntax Error: Unexpected variable \"$b\" in constant value.", 1, 19);
    expect_error("query Q($a: Int = [$ ]) { a }", "Syntax Error: Unexpected \"$\".", 1, 20);
    expect_error("query Q($a: Int = [1, {b: $c}]) { a }", "Syntax Error: Unexpected variable \"$c\" in constant value.",
                 1, 27);
    expect_error("query Q($a: Int @d(x: $b)) { a }", "Syntax Error: Unexpected variable \"$b\" in constant value.", 1,
                 23);
    expect_error("query Q($a: Int", "Syntax Error: Expected \"$\", found <EOF>.", 1, 16);
}

/* ---- selections ---- */

static void test_fields_aliases_arguments_directives(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("{ a b: c d(x: 1) e: f(x: 1, y: \"s\") @g h @i(j: true) @k { l m { n } } }");
    const struct gql_selection_set *set = &doc->definitions[0].selections;
    assert_i64_eq(set->count, 5);
    const struct gql_selection *s = set->items;
    for (size_t i = 0; i < 5; i++)
        assert_i64_eq(s[i].kind, GQL_SEL_FIELD);
    expect_name(&s[0].alias, NULL);
    expect_name(&s[0].name, "a");
    assert_i64_eq(s[0].nargs, 0);
    assert_null(s[0].args);
    assert_i64_eq(s[0].selections.count, 0);
    expect_name(&s[1].alias, "b");
    expect_name(&s[1].name, "c");
    expect_name(&s[2].name, "d");
    assert_i64_eq(s[2].nargs, 1);
    expect_name(&s[2].args[0].name, "x");
    expect_value_text(&s[2].args[0].value, "1");
    expect_name(&s[3].alias, "e");
    expect_name(&s[3].name, "f");
    assert_i64_eq(s[3].nargs, 2);
    expect_name(&s[3].args[1].name, "y");
    assert_i64_eq(s[3].args[1].value.kind, GQL_VALUE_STRING);
    assert_i64_eq(s[3].ndirectives, 1);
    expect_name(&s[3].directives[0].name, "g");
    assert_i64_eq(s[3].directives[0].nargs, 0);
    expect_name(&s[4].name, "h");
    assert_i64_eq(s[4].ndirectives, 2);
    expect_name(&s[4].directives[0].args[0].name, "j");
    assert_i64_eq(s[4].selections.count, 2);
    expect_name(&s[4].selections.items[1].name, "m");
    expect_name(&s[4].selections.items[1].selections.items[0].name, "n");
    gql_document_free(doc);

    /* keywords are names wherever a name goes */
    doc =
        parse_ok("{ query fragment: on(on: on, true: null) type @on { null true false extend schema subscription } }");
    s = doc->definitions[0].selections.items;
    expect_name(&s[0].name, "query");
    expect_name(&s[1].alias, "fragment");
    expect_name(&s[1].name, "on");
    expect_name(&s[1].args[0].name, "on");
    assert_i64_eq(s[1].args[0].value.kind, GQL_VALUE_ENUM);
    expect_name(&s[1].args[1].name, "true");
    assert_i64_eq(s[1].args[1].value.kind, GQL_VALUE_NULL);
    expect_name(&s[2].name, "type");
    assert_i64_eq(s[2].selections.count, 6);
    gql_document_free(doc);

    expect_error("{", "Syntax Error: Expected Name, found <EOF>.", 1, 2);
    expect_error("{}", "Syntax Error: Expected Name, found \"}\".", 1, 2);
    expect_error("{ a", "Syntax Error: Expected Name, found <EOF>.", 1, 4);
    expect_error("{ field: {} }", "Syntax Error: Expected Name, found \"{\".", 1, 10);
    expect_error("{ a: }", "Syntax Error: Expected Name, found \"}\".", 1, 6);
    expect_error("{ a() }", "Syntax Error: Expected Name, found \")\".", 1, 5);
    expect_error("{ a(b) }", "Syntax Error: Expected \":\", found \")\".", 1, 6);
    expect_error("{ a(b:) }", "Syntax Error: Unexpected \")\".", 1, 7);
    expect_error("{ a(b: 1 }", "Syntax Error: Expected Name, found \"}\".", 1, 10);
    expect_error("{ a @ }", "Syntax Error: Expected Name, found \"}\".", 1, 7);
    expect_error("{ a @d( }", "Syntax Error: Expected Name, found \"}\".", 1, 9);
    expect_error("{ a } }", "Syntax Error: Unexpected \"}\".", 1, 7);
    expect_error("{ 1 }", "Syntax Error: Expected Name, found Int \"1\".", 1, 3);
    expect_error("{ a(b: 1 \"c\\u0007\") }", "Syntax Error: Expected Name, found String \"c\\x07\".", 1, 10);
}

static void test_fragments(void **state) {
    (void)state;
    struct gql_document *doc =
        parse_ok("query { ...A ...B @d(x: 1) ... on T { a } ... @include(if: $v) { b } ... { c } "
                 "...on_ }\nfragment A on T @e { f }");
    const struct gql_selection *s = doc->definitions[0].selections.items;
    assert_i64_eq(doc->definitions[0].selections.count, 6);
    assert_i64_eq(s[0].kind, GQL_SEL_FRAGMENT_SPREAD);
    expect_name(&s[0].name, "A");
    assert_i64_eq(s[1].kind, GQL_SEL_FRAGMENT_SPREAD);
    expect_name(&s[1].name, "B");
    assert_i64_eq(s[1].ndirectives, 1);
    assert_i64_eq(s[2].kind, GQL_SEL_INLINE_FRAGMENT);
    expect_name(&s[2].type_condition, "T");
    expect_name(&s[2].selections.items[0].name, "a");
    assert_i64_eq(s[3].kind, GQL_SEL_INLINE_FRAGMENT);
    expect_name(&s[3].type_condition, NULL);
    expect_name(&s[3].directives[0].name, "include");
    assert_i64_eq(s[4].kind, GQL_SEL_INLINE_FRAGMENT);
    assert_i64_eq(s[4].ndirectives, 0);
    assert_i64_eq(s[5].kind, GQL_SEL_FRAGMENT_SPREAD);
    expect_name(&s[5].name, "on_");
    const struct gql_definition *f = &doc->definitions[1];
    assert_i64_eq(f->kind, GQL_DEF_FRAGMENT);
    expect_name(&f->name, "A");
    expect_name(&f->type_condition, "T");
    expect_name(&f->directives[0].name, "e");
    expect_name(&f->selections.items[0].name, "f");
    gql_document_free(doc);

    /* a document of fragments alone parses (validation rejects it later) */
    doc = parse_ok("fragment X on Y { z }");
    gql_document_free(doc);

    expect_error("{ ...MissingOn }\nfragment MissingOn Type", "Syntax Error: Expected \"on\", found Name \"Type\".", 2,
                 20);
    expect_error("fragment on on T { a }", "Syntax Error: Unexpected Name \"on\".", 1, 10);
    expect_error("fragment F on { a }", "Syntax Error: Expected Name, found \"{\".", 1, 15);
    expect_error("fragment F on T", "Syntax Error: Expected \"{\", found <EOF>.", 1, 16);
    expect_error("{ ... on }", "Syntax Error: Expected Name, found \"}\".", 1, 10);
    expect_error("{ ... }", "Syntax Error: Expected \"{\", found \"}\".", 1, 7);
    expect_error("{ ... @d }", "Syntax Error: Expected \"{\", found \"}\".", 1, 10);
    expect_error("{ ...A { b } }", "Syntax Error: Expected Name, found \"{\".", 1, 8);
    expect_error("...", "Syntax Error: Unexpected \"...\".", 1, 1);
}

/* ---- values and types ---- */

static void test_values(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok(
        "{ f(i: -12, f: 1.5e-3, s: \"a\\nb\", b: \"\"\"\n  x\n  y\"\"\", t: true, u: false, n: null, e: RED, v: $var, "
        "l: [1, [2, []], $w], o: {a: 1, b: {c: [$x]}, d: {}}) }");
    const struct gql_argument *a = doc->definitions[0].selections.items[0].args;
    assert_i64_eq(doc->definitions[0].selections.items[0].nargs, 11);
    assert_i64_eq(a[0].value.kind, GQL_VALUE_INT);
    assert_string_equal(a[0].value.str.s, "-12");
    assert_i64_eq(a[1].value.kind, GQL_VALUE_FLOAT);
    assert_string_equal(a[1].value.str.s, "1.5e-3");
    assert_i64_eq(a[2].value.kind, GQL_VALUE_STRING);
    assert_string_equal(a[2].value.str.s, "a\nb");
    assert_i64_eq(a[2].value.block, 0);
    assert_i64_eq(a[3].value.kind, GQL_VALUE_STRING);
    assert_string_equal(a[3].value.str.s, "x\ny");
    assert_i64_eq(a[3].value.block, 1);
    assert_i64_eq(a[4].value.kind, GQL_VALUE_BOOLEAN);
    assert_i64_eq(a[4].value.boolean, 1);
    assert_i64_eq(a[5].value.kind, GQL_VALUE_BOOLEAN);
    assert_i64_eq(a[5].value.boolean, 0);
    assert_i64_eq(a[6].value.kind, GQL_VALUE_NULL);
    assert_i64_eq(a[7].value.kind, GQL_VALUE_ENUM);
    expect_name(&a[7].value.name, "RED");
    assert_i64_eq(a[8].value.kind, GQL_VALUE_VARIABLE);
    expect_name(&a[8].value.name, "var");
    assert_i64_eq(a[9].value.kind, GQL_VALUE_LIST);
    assert_i64_eq(a[9].value.list.count, 3);
    assert_i64_eq(a[9].value.list.items[1].list.items[1].kind, GQL_VALUE_LIST);
    assert_i64_eq(a[9].value.list.items[1].list.items[1].list.count, 0);
    expect_value_text(&a[9].value, "[1, [2, []], $w]");
    assert_i64_eq(a[10].value.kind, GQL_VALUE_OBJECT);
    assert_i64_eq(a[10].value.object.count, 3);
    expect_name(&a[10].value.object.fields[1].name, "b");
    expect_value_text(&a[10].value, "{a: 1, b: {c: [$x]}, d: {}}");
    gql_document_free(doc);

    /* a string may hold NUL: the length is the truth */
    doc = parse_ok("{ f(s: \"a\\u0000b\") }");
    const struct gql_value *v = &doc->definitions[0].selections.items[0].args[0].value;
    assert_i64_eq(v->str.len, 3);
    assert_memory_equal(v->str.s, "a\0b", 4);
    gql_document_free(doc);

    expect_error("{ f(a: [1, 2) }", "Syntax Error: Unexpected \")\".", 1, 13);
    expect_error("{ f(a: {b}) }", "Syntax Error: Expected \":\", found \"}\".", 1, 10);
    expect_error("{ f(a: {1: 2}) }", "Syntax Error: Expected Name, found Int \"1\".", 1, 9);
    expect_error("{ f(a: {b: 1) }", "Syntax Error: Expected Name, found \")\".", 1, 13);
    expect_error("{ f(a: $) }", "Syntax Error: Expected Name, found \")\".", 1, 9);
    expect_error("{ f(a: $ 1) }", "Syntax Error: Expected Name, found Int \"1\".", 1, 10);
    expect_error("{ f(a: @) }", "Syntax Error: Unexpected \"@\".", 1, 8);
    expect_error("{ f(a: [1", "Syntax Error: Unexpected <EOF>.", 1, 10);
}

static void test_types(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("query ($a: A, $b: B!, $c: [C], $d: [D]!, $e: [E!], $f: [[[F!]!]]!) { x }");
    static const char *const want[] = {"A", "B!", "[C]", "[D]!", "[E!]", "[[[F!]!]]!"};
    const struct gql_definition *d = &doc->definitions[0];
    for (size_t i = 0; i < 6; i++)
        expect_type_text(d->variables[i].type, want[i]);
    assert_i64_eq(d->variables[5].type->kind, GQL_TYPE_NON_NULL);
    assert_i64_eq(d->variables[5].type->of->kind, GQL_TYPE_LIST);
    gql_document_free(doc);

    expect_error("query ($a: [A) { x }", "Syntax Error: Expected \"]\", found \")\".", 1, 14);
    expect_error("query ($a: A!!) { x }", "Syntax Error: Expected \"$\", found \"!\".", 1, 14);
    expect_error("query ($a: !A) { x }", "Syntax Error: Expected Name, found \"!\".", 1, 12);
    expect_error("query ($a: []) { x }", "Syntax Error: Expected Name, found \"]\".", 1, 13);
}

/* ---- documents ---- */

static void test_document_level_errors(void **state) {
    (void)state;
    expect_error("", "Syntax Error: Unexpected <EOF>.", 1, 1);
    expect_error("  # nothing\n", "Syntax Error: Unexpected <EOF>.", 2, 1);
    expect_error("notAnOperation Foo { field }", "Syntax Error: Unexpected Name \"notAnOperation\".", 1, 1);
    expect_error("{ a } extra", "Syntax Error: Unexpected Name \"extra\".", 1, 7);
    expect_error("query", "Syntax Error: Expected \"{\", found <EOF>.", 1, 6);
    expect_error("query Q", "Syntax Error: Expected \"{\", found <EOF>.", 1, 8);
    expect_error("query Q R { a }", "Syntax Error: Expected \"{\", found Name \"R\".", 1, 9);
    expect_error("1", "Syntax Error: Unexpected Int \"1\".", 1, 1);
    expect_error("\"desc\" query { a }",
                 "Syntax Error: Unexpected description, descriptions are supported only on type definitions.", 1, 1);
    expect_error("\"desc\" fragment F on T { a }",
                 "Syntax Error: Unexpected description, descriptions are supported only on type definitions.", 1, 1);
    expect_error("\"desc\" { a }", "Syntax Error: Unexpected \"{\".", 1, 8);
    expect_error("\"desc\"", "Syntax Error: Unexpected <EOF>.", 1, 7);
    /* the echo of a token is bounded and escaped */
    char src[300];
    memset(src, 'a', sizeof(src));
    memcpy(src, "{ a } ", 6);
    src[sizeof(src) - 1] = '\0';
    expect_error(src, "Syntax Error: Unexpected Name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\".", 1, 7);
}

/* ---- type-system definitions ---- */

static void test_schema_definitions(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("\"\"\"\n  The schema.\n\"\"\"\nschema @a { query: Q mutation: M "
                                        "subscription: S }\nextend schema @b\nextend schema { mutation: M2 }");
    const struct gql_definition *d = doc->definitions;
    assert_i64_eq(doc->count, 3);
    assert_i64_eq(d[0].kind, GQL_DEF_SCHEMA);
    assert_string_equal(d[0].description.s, "The schema.");
    assert_i64_eq(d[0].ndirectives, 1);
    assert_i64_eq(d[0].nroot_operations, 3);
    assert_i64_eq(d[0].root_operations[1].operation, GQL_OP_MUTATION);
    expect_name(&d[0].root_operations[1].type, "M");
    assert_i64_eq(d[0].root_operations[2].operation, GQL_OP_SUBSCRIPTION);
    assert_i64_eq(d[1].kind, GQL_DEF_SCHEMA);
    assert_i64_eq(d[1].extension, 1);
    assert_i64_eq(d[1].nroot_operations, 0);
    assert_i64_eq(d[1].ndirectives, 1);
    assert_i64_eq(d[2].nroot_operations, 1);
    gql_document_free(doc);

    expect_error("schema { foo: Bar }", "Syntax Error: Unexpected Name \"foo\".", 1, 10);
    expect_error("schema { }", "Syntax Error: Unexpected \"}\".", 1, 10);
    expect_error("schema @a", "Syntax Error: Expected \"{\", found <EOF>.", 1, 10);
    expect_error("extend schema", "Syntax Error: Unexpected <EOF>.", 1, 14);
    expect_error("schema { query Q }", "Syntax Error: Expected \":\", found Name \"Q\".", 1, 16);
}

static void test_type_definitions(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("\"A date.\" scalar Date @specifiedBy(url: \"https://example.com\")\n"
                                        "type Org implements & Node & Named @key(fields: \"id\") {\n"
                                        "  \"The id.\" id: ID!\n"
                                        "  teams(first: Int = 10, \"\"\"cursor\"\"\" after: String @deprecated): "
                                        "TeamConnection! @auth(requires: ADMIN)\n"
                                        "}\n"
                                        "type Empty\n"
                                        "interface Node { id: ID! }\n"
                                        "interface Named implements Node { id: ID! name: String }\n"
                                        "union Principal @u = | User | ServiceAccount\n"
                                        "union Bare\n"
                                        "enum Role { \"Admin.\" ADMIN @x MEMBER VIEWER }\n"
                                        "input TokenInput { name: String! = \"t\" @d ttl: Int }\n");
    const struct gql_definition *d = doc->definitions;
    assert_i64_eq(doc->count, 9);

    assert_i64_eq(d[0].kind, GQL_DEF_SCALAR);
    assert_string_equal(d[0].description.s, "A date.");
    expect_name(&d[0].name, "Date");
    expect_name(&d[0].directives[0].name, "specifiedBy");

    assert_i64_eq(d[1].kind, GQL_DEF_OBJECT);
    assert_null(d[1].description.s);
    expect_name(&d[1].name, "Org");
    assert_i64_eq(d[1].ninterfaces, 2);
    expect_name(&d[1].interfaces[0], "Node");
    expect_name(&d[1].interfaces[1], "Named");
    assert_i64_eq(d[1].ndirectives, 1);
    assert_i64_eq(d[1].nfields, 2);
    const struct gql_field_def *f = d[1].fields;
    assert_string_equal(f[0].description.s, "The id.");
    expect_name(&f[0].name, "id");
    expect_type_text(f[0].type, "ID!");
    assert_i64_eq(f[0].nargs, 0);
    expect_name(&f[1].name, "teams");
    assert_i64_eq(f[1].nargs, 2);
    expect_name(&f[1].args[0].name, "first");
    expect_type_text(f[1].args[0].type, "Int");
    expect_value_text(f[1].args[0].default_value, "10");
    assert_string_equal(f[1].args[1].description.s, "cursor");
    assert_null(f[1].args[1].default_value);
    expect_name(&f[1].args[1].directives[0].name, "deprecated");
    expect_type_text(f[1].type, "TeamConnection!");
    expect_name(&f[1].directives[0].name, "auth");

    assert_i64_eq(d[2].kind, GQL_DEF_OBJECT);
    assert_i64_eq(d[2].nfields, 0);
    assert_i64_eq(d[3].kind, GQL_DEF_INTERFACE);
    assert_i64_eq(d[3].nfields, 1);
    assert_i64_eq(d[4].kind, GQL_DEF_INTERFACE);
    assert_i64_eq(d[4].ninterfaces, 1);
    assert_i64_eq(d[4].nfields, 2);

    assert_i64_eq(d[5].kind, GQL_DEF_UNION);
    assert_i64_eq(d[5].ndirectives, 1);
    assert_i64_eq(d[5].nmembers, 2);
    expect_name(&d[5].members[0], "User");
    expect_name(&d[5].members[1], "ServiceAccount");
    assert_i64_eq(d[6].kind, GQL_DEF_UNION);
    assert_i64_eq(d[6].nmembers, 0);

    assert_i64_eq(d[7].kind, GQL_DEF_ENUM);
    assert_i64_eq(d[7].nenum_values, 3);
    assert_string_equal(d[7].enum_values[0].description.s, "Admin.");
    expect_name(&d[7].enum_values[0].name, "ADMIN");
    assert_i64_eq(d[7].enum_values[0].ndirectives, 1);
    expect_name(&d[7].enum_values[2].name, "VIEWER");
    gql_document_free(doc);

    doc = parse_ok("input TokenInput { name: String! = \"t\" @d ttl: Int }");
    d = doc->definitions;
    assert_i64_eq(d->kind, GQL_DEF_INPUT_OBJECT);
    assert_i64_eq(d->ninput_fields, 2);
    expect_value_text(d->input_fields[0].default_value, "\"t\"");
    assert_i64_eq(d->input_fields[0].ndirectives, 1);
    expect_name(&d->input_fields[1].name, "ttl");
    gql_document_free(doc);

    expect_error("type Foo {}", "Syntax Error: Expected Name, found \"}\".", 1, 11);
    expect_error("type Foo { a }", "Syntax Error: Expected \":\", found \"}\".", 1, 14);
    expect_error("type Foo { a(): Int }", "Syntax Error: Expected Name, found \")\".", 1, 14);
    expect_error("type Foo { a(b: Int = $v): Int }", "Syntax Error: Unexpected variable \"$v\" in constant value.", 1,
                 23);
    expect_error("type Foo @d(a: $v)", "Syntax Error: Unexpected variable \"$v\" in constant value.", 1, 16);
    expect_error("type Foo implements { a: Int }", "Syntax Error: Expected Name, found \"{\".", 1, 21);
    expect_error("type Foo implements A & { a: Int }", "Syntax Error: Expected Name, found \"{\".", 1, 25);
    expect_error("type { a: Int }", "Syntax Error: Expected Name, found \"{\".", 1, 6);
    expect_error("union U = ", "Syntax Error: Expected Name, found <EOF>.", 1, 11);
    expect_error("union U = A |", "Syntax Error: Expected Name, found <EOF>.", 1, 14);
    expect_error("enum E { }", "Syntax Error: Expected Name, found \"}\".", 1, 10);
    expect_error("enum E { A, true }", "Syntax Error: Name \"true\" is reserved and cannot be used for an enum value.",
                 1, 13);
    expect_error("enum E { null }", "Syntax Error: Name \"null\" is reserved and cannot be used for an enum value.", 1,
                 10);
    expect_error("enum E { \"d\" false }",
                 "Syntax Error: Name \"false\" is reserved and cannot be used for an enum value.", 1, 14);
    expect_error("input I { a }", "Syntax Error: Expected \":\", found \"}\".", 1, 13);
    expect_error("input I { a(b: Int): Int }", "Syntax Error: Expected \":\", found \"(\".", 1, 12);
    expect_error("scalar", "Syntax Error: Expected Name, found <EOF>.", 1, 7);
}

static void test_directive_definitions(void **state) {
    (void)state;
    struct gql_document *doc =
        parse_ok("\"Skips.\" directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
                 "directive @tag(name: String = \"x\") repeatable on | OBJECT\n"
                 "directive @all on QUERY|MUTATION|SUBSCRIPTION|FIELD|FRAGMENT_DEFINITION|FRAGMENT_SPREAD|"
                 "INLINE_FRAGMENT|VARIABLE_DEFINITION|SCHEMA|SCALAR|OBJECT|FIELD_DEFINITION|ARGUMENT_DEFINITION|"
                 "INTERFACE|UNION|ENUM|ENUM_VALUE|INPUT_OBJECT|INPUT_FIELD_DEFINITION");
    const struct gql_definition *d = doc->definitions;
    assert_i64_eq(d[0].kind, GQL_DEF_DIRECTIVE);
    assert_string_equal(d[0].description.s, "Skips.");
    expect_name(&d[0].name, "skip");
    assert_i64_eq(d[0].nargs, 1);
    expect_type_text(d[0].args[0].type, "Boolean!");
    assert_i64_eq(d[0].repeatable, 0);
    assert_i64_eq(d[0].nlocations, 3);
    expect_name(&d[0].locations[2], "INLINE_FRAGMENT");
    assert_i64_eq(d[1].repeatable, 1);
    assert_i64_eq(d[1].nlocations, 1);
    expect_name(&d[1].locations[0], "OBJECT");
    assert_i64_eq(d[2].nlocations, 19);
    gql_document_free(doc);

    /* "repeatable" and "on" are names elsewhere */
    doc = parse_ok("directive @on(repeatable: Int) on FIELD");
    expect_name(&doc->definitions[0].name, "on");
    gql_document_free(doc);

    expect_error("directive @d on FIELD | BOGUS", "Syntax Error: Unexpected Name \"BOGUS\".", 1, 25);
    expect_error("directive @d on field", "Syntax Error: Unexpected Name \"field\".", 1, 17);
    expect_error("directive @d(a: Int) FIELD", "Syntax Error: Expected \"on\", found Name \"FIELD\".", 1, 22);
    expect_error("directive @d repeatable FIELD", "Syntax Error: Expected \"on\", found Name \"FIELD\".", 1, 25);
    expect_error("directive d on FIELD", "Syntax Error: Expected \"@\", found Name \"d\".", 1, 11);
    expect_error("directive @d on", "Syntax Error: Expected Name, found <EOF>.", 1, 16);
    expect_error("directive @d on FIELD |", "Syntax Error: Expected Name, found <EOF>.", 1, 24);
    expect_error("directive @d() on FIELD", "Syntax Error: Expected Name, found \")\".", 1, 14);
}

static void test_extensions(void **state) {
    (void)state;
    struct gql_document *doc = parse_ok("extend scalar S @a\n"
                                        "extend type T implements I\n"
                                        "extend type T @b\n"
                                        "extend type T { f: Int }\n"
                                        "extend interface I @c\n"
                                        "extend interface I implements J { g: Int }\n"
                                        "extend union U @d\n"
                                        "extend union U = V | W\n"
                                        "extend enum E @e\n"
                                        "extend enum E { X }\n"
                                        "extend input In @f\n"
                                        "extend input In { h: Int }\n");
    static const enum gql_definition_kind kinds[] = {
        GQL_DEF_SCALAR, GQL_DEF_OBJECT, GQL_DEF_OBJECT, GQL_DEF_OBJECT, GQL_DEF_INTERFACE,    GQL_DEF_INTERFACE,
        GQL_DEF_UNION,  GQL_DEF_UNION,  GQL_DEF_ENUM,   GQL_DEF_ENUM,   GQL_DEF_INPUT_OBJECT, GQL_DEF_INPUT_OBJECT,
    };
    assert_i64_eq(doc->count, 12);
    for (size_t i = 0; i < 12; i++) {
        assert_i64_eq(doc->definitions[i].kind, kinds[i]);
        assert_i64_eq(doc->definitions[i].extension, 1);
    }
    assert_i64_eq(doc->definitions[1].ninterfaces, 1);
    assert_i64_eq(doc->definitions[7].nmembers, 2);
    assert_i64_eq(doc->definitions[11].ninput_fields, 1);
    gql_document_free(doc);

    /* an extension must add something */
    expect_error("extend scalar S", "Syntax Error: Unexpected <EOF>.", 1, 16);
    expect_error("extend type T", "Syntax Error: Unexpected <EOF>.", 1, 14);
    expect_error("extend type T { a }", "Syntax Error: Expected \":\", found \"}\".", 1, 19);
    expect_error("extend interface I\n{ a }", "Syntax Error: Expected \":\", found \"}\".", 2, 5);
    expect_error("extend union U", "Syntax Error: Unexpected <EOF>.", 1, 15);
    expect_error("extend enum E { }", "Syntax Error: Expected Name, found \"}\".", 1, 17);
    expect_error("extend input In\n{ a }", "Syntax Error: Expected \":\", found \"}\".", 2, 5);
    expect_error("extend input In extend", "Syntax Error: Unexpected Name \"extend\".", 1, 17);
    /* no descriptions on extensions; directives are not extended */
    expect_error("\"d\" extend type T @a",
                 "Syntax Error: Unexpected description, descriptions are supported only on type definitions.", 1, 1);
    expect_error("extend directive @a on FIELD", "Syntax Error: Unexpected Name \"directive\".", 1, 8);
    expect_error("extend query { a }", "Syntax Error: Unexpected Name \"query\".", 1, 8);
    expect_error("extend", "Syntax Error: Unexpected <EOF>.", 1, 7);
}

/* A schema in the shape api/schema.graphql takes: executable and SDL in
 * the parser's one grammar. */
static void test_a_schema_file(void **state) {
    (void)state;
    static const char sdl[] = "\"\"\"\n"
                              "The latchkey API.\n"
                              "\"\"\"\n"
                              "schema { query: Query mutation: Mutation }\n"
                              "\n"
                              "# A comment, then a type.\n"
                              "type Query {\n"
                              "  \"The caller.\"\n"
                              "  me: Principal!\n"
                              "  org(id: ID!): Org\n"
                              "  orgs(first: Int = 20, after: String): OrgConnection!\n"
                              "}\n"
                              "\n"
                              "interface Node { id: ID! }\n"
                              "union Principal = User | ServiceAccount\n"
                              "type User implements Node { id: ID! name: String! }\n"
                              "type ServiceAccount implements Node { id: ID! name: String! team: Team! }\n"
                              "type Team implements Node { id: ID! }\n"
                              "type Org implements Node {\n"
                              "  id: ID!\n"
                              "  \"\"\"\n"
                              "  Teams of the org,\n"
                              "    newest first.\n"
                              "  \"\"\"\n"
                              "  teams(first: Int = 20, after: String): TeamConnection!\n"
                              "  status: OrgStatus! @deprecated(reason: \"Use state.\")\n"
                              "}\n"
                              "enum OrgStatus { PENDING ACTIVE DEACTIVATED }\n"
                              "type OrgConnection { edges: [OrgEdge!]! pageInfo: PageInfo! }\n"
                              "type OrgEdge { cursor: String! node: Org! }\n"
                              "type TeamConnection { edges: [TeamEdge!]! pageInfo: PageInfo! }\n"
                              "type TeamEdge { cursor: String! node: Team! }\n"
                              "type PageInfo { hasNextPage: Boolean! endCursor: String }\n"
                              "input CreateTokenInput { description: String expires: String = \"P30D\" }\n"
                              "type Mutation { createToken(input: CreateTokenInput!): String! }\n"
                              "scalar DateTime\n";
    struct gql_document *doc = parse_ok(sdl);
    assert_i64_eq(doc->count, 17);
    const struct gql_definition *org = &doc->definitions[7];
    expect_name(&org->name, "Org");
    assert_string_equal(org->fields[1].description.s, "Teams of the org,\n  newest first.");
    gql_document_free(doc);
}

/* ---- places ---- */

static void test_node_locations(void **state) {
    (void)state;
    /* line 1 is bytes 0-27, line 2 28-55, line 3 56-64, line 4 65-68, line 5 69-70, line 6 from 71 */
    const char *src = "query Q($v: [Int!] = [1]) {\n  alias: f(a: {b: $v}) @d {\n    ...F\n  }\n}\n"
                      "fragment F on T { g }";
    struct gql_document *doc = parse_ok(src);
    const struct gql_definition *q = &doc->definitions[0];
    expect_loc(&q->loc, 1, 1, 0, 70);
    expect_loc(&q->name.loc, 1, 7, 6, 7);
    expect_loc(&q->variables[0].loc, 1, 9, 8, 24);
    expect_loc(&q->variables[0].name.loc, 1, 10, 9, 10);
    expect_loc(&q->variables[0].type->loc, 1, 13, 12, 18);
    expect_loc(&q->variables[0].type->of->loc, 1, 14, 13, 17);
    expect_loc(&q->variables[0].type->of->of->loc, 1, 14, 13, 16);
    expect_loc(&q->variables[0].default_value->loc, 1, 22, 21, 24);
    expect_loc(&q->selections.loc, 1, 27, 26, 70);
    const struct gql_selection *f = &q->selections.items[0];
    expect_loc(&f->loc, 2, 3, 30, 68);
    expect_loc(&f->alias.loc, 2, 3, 30, 35);
    expect_loc(&f->name.loc, 2, 10, 37, 38);
    expect_loc(&f->args[0].loc, 2, 12, 39, 49);
    expect_loc(&f->args[0].value.loc, 2, 15, 42, 49);
    expect_loc(&f->args[0].value.object.fields[0].loc, 2, 16, 43, 48);
    expect_loc(&f->args[0].value.object.fields[0].value.loc, 2, 19, 46, 48);
    expect_loc(&f->args[0].value.object.fields[0].value.name.loc, 2, 20, 47, 48);
    expect_loc(&f->directives[0].loc, 2, 24, 51, 53);
    expect_loc(&f->selections.loc, 2, 27, 54, 68);
    expect_loc(&f->selections.items[0].loc, 3, 5, 60, 64);
    const struct gql_definition *frag = &doc->definitions[1];
    expect_loc(&frag->loc, 6, 1, 71, 92);
    expect_loc(&frag->type_condition.loc, 6, 15, 85, 86);
    gql_document_free(doc);
}

/* ---- limits ---- */

static void test_size_limit(void **state) {
    (void)state;
    struct gql_limits lim = {.max_bytes = 9};
    struct gql_document *doc = parse_limited("{ a { b }}", &(struct gql_limits){.max_bytes = 10});
    gql_document_free(doc);
    expect_error_limited("{ a { b }}", 10, &lim, LK_ERANGE, "Syntax Error: Document is larger than 9 bytes.", 0, 0);
    /* the default */
    size_t n = GQL_DEFAULT_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{ a }", 5);
    big[n] = '\0';
    expect_error_limited(big, n, NULL, LK_ERANGE, "Syntax Error: Document is larger than 131072 bytes.", 0, 0);
    doc = parse_limited(big, &(struct gql_limits){.max_bytes = n});
    gql_document_free(doc);
    free(big);
}

static void test_token_limit(void **state) {
    (void)state;
    /* "{ a b c }" is 5 tokens; comments and commas do not count */
    struct gql_document *doc = parse_limited("{ a, b, # c d e\n c }", &(struct gql_limits){.max_tokens = 5});
    assert_i64_eq(doc->tokens, 5);
    gql_document_free(doc);
    struct gql_limits lim = {.max_tokens = 4};
    expect_error_limited("{ a b c }", 9, &lim, LK_ERANGE,
                         "Syntax Error: Document contains more than 4 tokens. Parsing aborted.", 1, 9);
    /* the default */
    size_t n = GQL_DEFAULT_MAX_TOKENS;
    char *src = malloc(2 * n + 8);
    size_t k = 0;
    src[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        src[k++] = ' ';
        src[k++] = 'a';
    }
    src[k++] = '}';
    src[k] = '\0';
    expect_error_limited(src, k, NULL, LK_ERANGE,
                         "Syntax Error: Document contains more than 20000 tokens. Parsing aborted.", 1, 40001);
    doc = parse_limited(src, &(struct gql_limits){.max_tokens = n + 2});
    gql_document_free(doc);
    free(src);
}

/* "{a" n times, then "}" n times: selection sets n deep. */
static char *nested_selections(size_t n) {
    char *s = malloc(3 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        s[k++] = '{';
        s[k++] = 'a';
    }
    for (size_t i = 0; i < n; i++)
        s[k++] = '}';
    s[k] = '\0';
    return s;
}

/* "{ f(a: " + open n times + "1" + close n times + ") }" */
static char *nested_values(size_t n, const char *open, const char *close) {
    size_t lo = strlen(open), lc = strlen(close);
    char *s = malloc(16 + n * (lo + lc));
    size_t k = 0;
    memcpy(s, "{ f(a: ", 7);
    k = 7;
    for (size_t i = 0; i < n; i++, k += lo)
        memcpy(s + k, open, lo);
    s[k++] = '1';
    for (size_t i = 0; i < n; i++, k += lc)
        memcpy(s + k, close, lc);
    memcpy(s + k, ") }", 4);
    return s;
}

static void test_depth_limit(void **state) {
    (void)state;
    struct gql_limits lim = {.max_depth = 5};
    /* selection sets */
    char *s = nested_selections(5);
    gql_document_free(parse_limited(s, &lim));
    free(s);
    s = nested_selections(6);
    expect_error_limited(s, strlen(s), &lim, LK_ERANGE, "Syntax Error: Document is nested more than 5 levels deep.", 1,
                         11);
    free(s);
    /* lists, inside one selection set */
    s = nested_values(4, "[", "]");
    gql_document_free(parse_limited(s, &lim));
    free(s);
    s = nested_values(5, "[", "]");
    expect_error_limited(s, strlen(s), &lim, LK_ERANGE, "Syntax Error: Document is nested more than 5 levels deep.", 1,
                         12);
    free(s);
    /* objects */
    s = nested_values(4, "{b: ", "}");
    gql_document_free(parse_limited(s, &lim));
    free(s);
    s = nested_values(5, "{b: ", "}");
    expect_error_limited(s, strlen(s), &lim, LK_ERANGE, "Syntax Error: Document is nested more than 5 levels deep.", 1,
                         24);
    free(s);
    /* list types */
    gql_document_free(parse_limited("query ($a: [[[[[Int]]]]]) { a }", &lim));
    expect_error_limited("query ($a: [[[[[[Int]]]]]]) { a }", 33, &lim, LK_ERANGE,
                         "Syntax Error: Document is nested more than 5 levels deep.", 1, 17);
    /* levels of different kinds add up: 3 selection sets + 2 lists + 1 object */
    expect_error_limited("{ a { b { c(x: [[{y: 1}]]) } } }", 32, &lim, LK_ERANGE,
                         "Syntax Error: Document is nested more than 5 levels deep.", 1, 18);
    /* SDL default values too */
    expect_error_limited("type T { f(a: [Int] = [[[[[[1]]]]]]): Int }", 43, &lim, LK_ERANGE,
                         "Syntax Error: Document is nested more than 5 levels deep.", 1, 28);

    /* the default, and a limit above the hard maximum is cut to it */
    s = nested_selections(GQL_DEFAULT_MAX_DEPTH + 1);
    expect_error_limited(s, strlen(s), NULL, LK_ERANGE, "Syntax Error: Document is nested more than 64 levels deep.", 1,
                         129);
    free(s);
    s = nested_selections(GQL_HARD_MAX_DEPTH);
    gql_document_free(parse_limited(s, &(struct gql_limits){.max_depth = 100000}));
    free(s);
    s = nested_selections(GQL_HARD_MAX_DEPTH + 1);
    lim = (struct gql_limits){.max_depth = 100000};
    expect_error_limited(s, strlen(s), &lim, LK_ERANGE, "Syntax Error: Document is nested more than 512 levels deep.",
                         1, 1025);
    free(s);
    /* a hostile document far deeper than any limit stops at the limit */
    s = nested_values(200000, "[", "]");
    lim = (struct gql_limits){.max_bytes = GQL_HARD_MAX_BYTES, .max_tokens = GQL_HARD_MAX_TOKENS, .max_depth = 100000};
    expect_error_limited(s, strlen(s), &lim, LK_ERANGE, "Syntax Error: Document is nested more than 512 levels deep.",
                         1, 519);
    free(s);
}

static void test_errors_without_an_error_struct(void **state) {
    (void)state;
    struct gql_document *doc = NULL;
    assert_i64_eq(gql_parse("{", 1, NULL, &doc, NULL), LK_EINVAL);
    assert_i64_eq(gql_parse("\"\\u{D800}\"", 10, NULL, &doc, NULL), LK_EINVAL);
    assert_i64_eq(gql_parse("{ a }", 5, &(struct gql_limits){.max_bytes = 2}, &doc, NULL), LK_ERANGE);
    assert_null(doc);
    /* the source is not kept */
    char src[] = "{ abc(x: \"s\") }";
    assert_i64_eq(gql_parse(src, strlen(src), NULL, &doc, NULL), 0);
    memset(src, 'z', strlen(src));
    assert_string_equal(doc->definitions[0].selections.items[0].name.s, "abc");
    assert_string_equal(doc->definitions[0].selections.items[0].args[0].value.str.s, "s");
    gql_document_free(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shorthand_and_operation_types),
        cmocka_unit_test(test_variable_definitions),
        cmocka_unit_test(test_fields_aliases_arguments_directives),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_document_level_errors),
        cmocka_unit_test(test_schema_definitions),
        cmocka_unit_test(test_type_definitions),
        cmocka_unit_test(test_directive_definitions),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_a_schema_file),
        cmocka_unit_test(test_node_locations),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_token_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_errors_without_an_error_struct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
