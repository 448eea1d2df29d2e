/*
 * test_graphql_validate.c - unit tests for core/graphql_validate.h: each
 * rule of the specification's section 5 with graphql-js's message and the
 * line:column of a document breaking it, next to a close document that
 * passes; each cost limit (through fragments, and a fragment bomb that
 * must be refused fast); documents that nest or chain deep; the cap on
 * diagnostics; and the server's own schema with a realistic query and
 * GraphiQL's introspection query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errors.h"
#include "core/graphql_validate.h"

#include "unit_assert.h"

extern const char api_graphql_schema[];
extern const size_t api_graphql_schema_len;

static const char test_sdl[] =
    "scalar JSON\n"
    "enum Color { RED GREEN }\n"
    "interface Pet { name: String! }\n"
    "type Dog implements Pet { name: String! barks: Boolean nick(short: Boolean): String "
    "owner: Human }\n"
    "type Cat implements Pet { name: String! meows: Boolean }\n"
    "type Human { name: String! pets: [Pet] dog: Dog }\n"
    "union CatOrDog = Cat | Dog\n"
    "input Filter { name: String! color: Color = RED tags: [String!] sub: Filter }\n"
    "type Query {\n"
    "  dog: Dog\n"
    "  pet: Pet\n"
    "  catOrDog: CatOrDog\n"
    "  human(id: ID!): Human\n"
    "  req(nn: Int!): String\n"
    "  args(i: Int, f: Float, s: String, b: Boolean, id: ID, c: Color, l: [Int], ll: [[Int!]],\n"
    "       d: Int! = 1, filter: Filter, json: JSON): String\n"
    "}\n"
    "type Subscription { a: String b: String }\n"
    "directive @rep repeatable on FIELD\n";

static struct gql_schema *S;

static int setup(void **state) {
    (void)state;
    struct gql_error err = {0};
    if (gql_schema_build(test_sdl, sizeof(test_sdl) - 1, &S, &err) != 0) {
        fprintf(stderr, "test schema: %u:%u %s\n", err.line, err.column, err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    gql_schema_free(S);
    return 0;
}

static struct gql_document *parse_with(const char *src, const struct gql_limits *lim) {
    struct gql_document *doc = NULL;
    struct gql_error err = {0};
    int r = gql_parse(src, strlen(src), lim, &doc, &err);
    if (r != 0)
        fail_msg("parse refused (%u:%u %s):\n%.200s", err.line, err.column, err.message, src);
    return doc;
}

static int run(const struct gql_schema *s, const char *src, const struct gql_cost_limits *lim,
               const struct gql_limits *plim, struct gql_diags *out) {
    struct gql_document *doc = parse_with(src, plim);
    int r = gql_validate(s, doc, lim, out);
    gql_document_free(doc);
    return r;
}

static void print_diags(const struct gql_diags *d) {
    for (size_t i = 0; i < d->count && i < 10; i++)
        fprintf(stderr, "  [%zu] %u:%u %s\n", i, d->items[i].nloc ? d->items[i].loc[0].line : 0,
                d->items[i].nloc ? d->items[i].loc[0].column : 0, d->items[i].message);
}

/* src is refused with n diagnostics, the first msg at line:col. */
static void expect_n(const struct gql_schema *s, const char *src, size_t n, const char *msg, uint32_t line,
                     uint32_t col) {
    struct gql_diags d;
    int r = run(s, src, NULL, NULL, &d);
    if (r != LK_EINVAL || d.count != n || strcmp(d.items[0].message, msg) != 0 || d.items[0].nloc == 0 ||
        d.items[0].loc[0].line != line || d.items[0].loc[0].column != col) {
        fprintf(stderr, "document: %s\ngot %d, %zu diagnostics:\n", src, r, d.count);
        print_diags(&d);
        fail_msg("expected %zu, the first %u:%u %s", n, line, col, msg);
    }
    gql_diags_free(&d);
}

static void expect(const struct gql_schema *s, const char *src, const char *msg, uint32_t line, uint32_t col) {
    expect_n(s, src, 1, msg, line, col);
}

/* The diagnostic's k-th place. */
static void expect_loc(const char *src, size_t k, uint32_t line, uint32_t col) {
    struct gql_diags d;
    assert_int_equal(run(S, src, NULL, NULL, &d), LK_EINVAL);
    if (d.items[0].nloc <= k || d.items[0].loc[k].line != line || d.items[0].loc[k].column != col)
        fail_msg("%s: place %zu is not %u:%u (%zu places)", src, k, line, col, d.items[0].nloc);
    gql_diags_free(&d);
}

static void valid_with(const struct gql_schema *s, const char *src, const struct gql_cost_limits *lim) {
    struct gql_diags d;
    int r = run(s, src, lim, NULL, &d);
    if (r != 0 || d.count != 0) {
        fprintf(stderr, "document: %.300s\ngot %d:\n", src, r);
        print_diags(&d);
        fail_msg("expected valid");
    }
    gql_diags_free(&d);
}

static void valid(const char *src) {
    valid_with(S, src, NULL);
}

#define MERGE_TAIL " Use different aliases on the fields to fetch both if this was intentional."

static void test_executable_definitions(void **state) {
    (void)state;
    expect(S, "{ dog { name } }\ntype Foo { a: Int }", "The \"Foo\" definition is not executable.", 2, 1);
    expect(S, "{ dog { name } }\nschema { query: Query }", "The schema definition is not executable.", 2, 1);
    expect(S, "{ dog { name } }\ndirective @d on FIELD", "The \"d\" definition is not executable.", 2, 1);
    valid("query A { dog { ...F } }\nfragment F on Dog { name }");
}

static void test_operation_name_uniqueness(void **state) {
    (void)state;
    const char *src = "query A { dog { name } }\nquery A { pet { name } }";
    expect(S, src, "There can be only one operation named \"A\".", 1, 7);
    expect_loc(src, 1, 2, 7);
    valid("query A { dog { name } }\nquery B { pet { name } }");
}

static void test_lone_anonymous_operation(void **state) {
    (void)state;
    expect(S, "{ dog { name } }\nquery B { pet { name } }",
           "This anonymous operation must be the only defined operation.", 1, 1);
    valid("{ dog { name } }");
}

static void test_operation_type_has_a_root(void **state) {
    (void)state;
    expect(S, "mutation M { a }", "Schema is not configured to execute mutation operation.", 1, 1);
    valid("subscription M { a }");
}

static void test_subscription_single_root_field(void **state) {
    (void)state;
    expect(S, "subscription S { a b }", "Subscription \"S\" must select only one top level field.", 1, 20);
    expect(S, "subscription { a ...F }\nfragment F on Subscription { b }",
           "Anonymous Subscription must select only one top level field.", 2, 30);
    expect(S, "subscription { __typename }", "Anonymous Subscription must not select an introspection top level field.",
           1, 16);
    valid("subscription S { a a @skip(if: false) ...F }\nfragment F on Subscription { a }");
}

static void test_fields_on_correct_type(void **state) {
    (void)state;
    expect(S, "{ dog { meows } }", "Cannot query field \"meows\" on type \"Dog\".", 1, 9);
    expect(S, "{ catOrDog { name } }", "Cannot query field \"name\" on type \"CatOrDog\".", 1, 14);
    expect(S, "{ dog { __schema { description } } }", "Cannot query field \"__schema\" on type \"Dog\".", 1, 9);
    valid("{ dog { __typename name } catOrDog { __typename } __schema { types { name } } __type(name: \"Dog\") "
          "{ name } }");
}

static void test_field_selection_merging(void **state) {
    (void)state;
    expect(S, "{ dog { name: nick name } }",
           "Fields \"name\" conflict because \"nick\" and \"name\" are different fields." MERGE_TAIL, 1, 9);
    expect_loc("{ dog { name: nick name } }", 1, 1, 20);
    expect(S, "{ dog { nick(short: true) nick(short: false) } }",
           "Fields \"nick\" conflict because they have differing arguments." MERGE_TAIL, 1, 9);
    expect(S, "{ pet { ... on Dog { x: barks } ... on Cat { x: name } } }",
           "Fields \"x\" conflict because they return conflicting types \"Boolean\" and \"String!\"." MERGE_TAIL, 1,
           22);
    expect(S, "{ human(id: 1) { dog { name } } human(id: 1) { dog { name: nick } } }",
           "Fields \"human\" conflict because subfields \"dog\" conflict because subfields \"name\" conflict because "
           "\"name\" and \"nick\" are different fields." MERGE_TAIL,
           1, 3);
    expect_loc("{ human(id: 1) { dog { name } } human(id: 1) { dog { name: nick } } }", 3, 1, 33);
    expect(S, "{ dog { ...A ...B } }\nfragment A on Dog { x: name }\nfragment B on Dog { x: barks }",
           "Fields \"x\" conflict because \"name\" and \"barks\" are different fields." MERGE_TAIL, 2, 21);
    valid("{ dog { name name nick(short: true) nick(short: true) } }");
    valid("{ pet { ... on Dog { x: barks } ... on Cat { x: meows } } }");
    valid("{ args(filter: {name: \"a\", color: RED}) args(filter: {color: RED, name: \"a\"}) }");
    valid("{ dog { ...A ...B } }\nfragment A on Dog { x: name }\nfragment B on Dog { x: name }");
}

static void test_leaf_field_selections(void **state) {
    (void)state;
    expect(S, "{ dog { name { x } } }",
           "Field \"name\" must not have a selection since type \"String!\" has no subfields.", 1, 14);
    expect(S, "{ dog }",
           "Field \"dog\" of type \"Dog\" must have a selection of subfields. Did you mean \"dog { ... }\"?", 1, 3);
    valid("{ dog { name } }");
}

static void test_argument_names(void **state) {
    (void)state;
    expect(S, "{ dog { nick(long: true) } }", "Unknown argument \"long\" on field \"Dog.nick\".", 1, 14);
    expect(S, "{ dog @skip(if: true, unless: false) { name } }", "Unknown argument \"unless\" on directive \"@skip\".",
           1, 23);
    valid("{ dog { nick(short: true) } }");
}

static void test_argument_uniqueness(void **state) {
    (void)state;
    const char *src = "{ dog { nick(short: true, short: false) } }";
    expect(S, src, "There can be only one argument named \"short\".", 1, 14);
    expect_loc(src, 1, 1, 27);
    valid("{ dog { a: nick(short: true) b: nick(short: false) } }");
}

static void test_required_arguments(void **state) {
    (void)state;
    expect(S, "{ human { name } }",
           "Field \"human\" argument \"id\" of type \"ID!\" is required, but it was not provided.", 1, 3);
    expect(S, "{ dog @include { name } }",
           "Directive \"@include\" argument \"if\" of type \"Boolean!\" is required, but it was not provided.", 1, 7);
    valid("{ human(id: \"1\") { name } args dog @include(if: true) { name } }");
}

static void test_fragment_name_uniqueness(void **state) {
    (void)state;
    const char *src = "{ dog { ...A } }\nfragment A on Dog { name }\nfragment A on Dog { name }";
    expect(S, src, "There can be only one fragment named \"A\".", 2, 10);
    expect_loc(src, 1, 3, 10);
    valid("{ dog { ...A ...B } }\nfragment A on Dog { name }\nfragment B on Dog { name }");
}

static void test_fragment_spread_type_existence(void **state) {
    (void)state;
    expect(S, "{ dog { ...A } }\nfragment A on Nope { name }", "Unknown type \"Nope\".", 2, 15);
    expect(S, "{ dog { ... on Nope { name } } }", "Unknown type \"Nope\".", 1, 16);
    expect(S, "query Q($a: [Nope!]) { args(json: $a) }", "Unknown type \"Nope\".", 1, 14);
    valid("{ dog { ... on Dog { name } ... { name } } }");
}

static void test_fragments_on_composite_types(void **state) {
    (void)state;
    expect(S, "{ dog { ...A } }\nfragment A on Color { name }",
           "Fragment \"A\" cannot condition on non composite type \"Color\".", 2, 15);
    expect(S, "{ dog { ... on String { x } } }", "Fragment cannot condition on non composite type \"String\".", 1, 16);
    valid("{ dog { ...A } }\nfragment A on Pet { name }");
}

static void test_fragments_must_be_used(void **state) {
    (void)state;
    expect(S, "{ dog { name } }\nfragment A on Dog { name }", "Fragment \"A\" is never used.", 2, 1);
    valid("{ dog { ...A } }\nfragment A on Dog { ...B }\nfragment B on Dog { name }");
}

static void test_fragment_spread_target_defined(void **state) {
    (void)state;
    expect(S, "{ dog { ...Nope } }", "Unknown fragment \"Nope\".", 1, 12);
    valid("{ dog { ...Yes } }\nfragment Yes on Dog { name }");
}

static void test_fragment_spreads_no_cycles(void **state) {
    (void)state;
    const char *src = "{ dog { ...A } }\nfragment A on Dog { ...B }\nfragment B on Dog { name ...A }";
    expect(S, src, "Cannot spread fragment \"A\" within itself via \"B\".", 2, 21);
    expect_loc(src, 1, 3, 26);
    expect(S, "{ dog { ...A } }\nfragment A on Dog { name ...A }", "Cannot spread fragment \"A\" within itself.", 2,
           26);
    valid("{ dog { ...A ...B } }\nfragment A on Dog { ...B }\nfragment B on Dog { name }");
}

static void test_fragment_spread_possible(void **state) {
    (void)state;
    expect(S, "{ dog { ... on Cat { meows } } }",
           "Fragment cannot be spread here as objects of type \"Dog\" can never be of type \"Cat\".", 1, 9);
    expect(S, "{ dog { ...C } }\nfragment C on Cat { meows }",
           "Fragment \"C\" cannot be spread here as objects of type \"Dog\" can never be of type \"Cat\".", 1, 9);
    expect(S, "{ human(id: 1) { ... on CatOrDog { __typename } } }",
           "Fragment cannot be spread here as objects of type \"Human\" can never be of type \"CatOrDog\".", 1, 18);
    valid("{ pet { ... on Dog { barks } } catOrDog { ... on Pet { name } } dog { ... on Pet { name } } }");
}

static void test_values_of_correct_type(void **state) {
    (void)state;
    expect(S, "{ args(i: \"x\") }", "Int cannot represent non-integer value: \"x\"", 1, 11);
    expect(S, "{ args(i: 2147483648) }", "Int cannot represent non 32-bit signed integer value: 2147483648", 1, 11);
    expect(S, "{ args(i: -2147483649) }", "Int cannot represent non 32-bit signed integer value: -2147483649", 1, 11);
    expect(S, "{ args(i: 1.0) }", "Int cannot represent non-integer value: 1.0", 1, 11);
    expect(S, "{ args(f: \"1\") }", "Float cannot represent non numeric value: \"1\"", 1, 11);
    expect(S, "{ args(f: 1e400) }", "Float cannot represent non numeric value: 1e400", 1, 11);
    expect(S, "{ args(s: 1) }", "String cannot represent a non string value: 1", 1, 11);
    expect(S, "{ args(b: 1) }", "Boolean cannot represent a non boolean value: 1", 1, 11);
    expect(S, "{ args(id: 1.5) }", "ID cannot represent a non-string and non-integer value: 1.5", 1, 12);
    expect(S, "{ args(c: BLUE) }", "Value \"BLUE\" does not exist in \"Color\" enum.", 1, 11);
    expect(S, "{ args(c: \"RED\") }", "Enum \"Color\" cannot represent non-enum value: \"RED\".", 1, 11);
    expect(S, "{ args(l: [1, \"x\"]) }", "Int cannot represent non-integer value: \"x\"", 1, 15);
    expect(S, "{ args(ll: [[1, null]]) }", "Expected value of type \"Int!\", found null.", 1, 17);
    expect(S, "{ req(nn: null) }", "Expected value of type \"Int!\", found null.", 1, 11);
    expect(S, "{ args(filter: \"x\") }", "Expected value of type \"Filter\", found \"x\".", 1, 16);
    expect(S, "{ args(s: {a: 1}) }", "String cannot represent a non string value: {a: 1}", 1, 11);
    expect(S, "query Q($i: Int = \"x\") { args(i: $i) }", "Int cannot represent non-integer value: \"x\"", 1, 19);
    valid("{ args(i: -2147483648, f: 1, s: \"x\", b: false, id: 7, c: GREEN, l: 1, ll: [[1], [2, 3]], d: 2, "
          "json: {a: [1, \"x\", {b: null}], c: RED}) a: args(l: [1, null], id: \"x\", f: 1.5e300, s: null) }");
}

static void test_input_object_fields(void **state) {
    (void)state;
    expect(S, "{ args(filter: {name: \"a\", nope: 1}) }", "Field \"nope\" is not defined by type \"Filter\".", 1, 28);
    const char *dup = "{ args(filter: {name: \"a\", name: \"b\"}) }";
    expect(S, dup, "There can be only one input field named \"name\".", 1, 17);
    expect_loc(dup, 1, 1, 28);
    expect(S, "{ args(filter: {color: RED}) }", "Field \"Filter.name\" of required type \"String!\" was not provided.",
           1, 16);
    expect(S, "{ args(filter: {name: \"a\", sub: {tags: [\"x\"]}}) }",
           "Field \"Filter.name\" of required type \"String!\" was not provided.", 1, 33);
    valid("{ args(filter: {name: \"a\", tags: \"one\", sub: {name: \"b\", color: GREEN}}) }");
}

static void test_directives(void **state) {
    (void)state;
    expect(S, "{ dog @nope { name } }", "Unknown directive \"@nope\".", 1, 7);
    expect(S, "query Q @skip(if: true) { dog { name } }", "Directive \"@skip\" may not be used on QUERY.", 1, 9);
    expect(S, "{ dog { ... @rep { name } } }", "Directive \"@rep\" may not be used on INLINE_FRAGMENT.", 1, 13);
    const char *dup = "{ dog { name @skip(if: true) @skip(if: false) } }";
    expect(S, dup, "The directive \"@skip\" can only be used once at this location.", 1, 14);
    expect_loc(dup, 1, 1, 30);
    valid("{ dog { name @rep @rep @skip(if: true) @include(if: true) } }");
}

static void test_variables(void **state) {
    (void)state;
    const char *dup = "query Q($a: Int, $a: Int) { args(i: $a) }";
    expect(S, dup, "There can be only one variable named \"$a\".", 1, 10);
    expect_loc(dup, 1, 1, 19);
    /* graphql-js also finds Dog no subtype of JSON */
    expect_n(S, "query Q($a: Dog) { args(json: $a) }", 2, "Variable \"$a\" cannot be non-input type \"Dog\".", 1, 13);
    expect(S, "query Q { args(i: $x) }", "Variable \"$x\" is not defined by operation \"Q\".", 1, 19);
    expect_loc("query Q { args(i: $x) }", 1, 1, 1);
    expect(S, "{ dog { ...F } }\nfragment F on Dog { nick(short: $s) }", "Variable \"$s\" is not defined.", 2, 33);
    expect(S, "query Q($x: Int) { dog { name } }", "Variable \"$x\" is never used in operation \"Q\".", 1, 9);
    expect(S, "query ($x: Int) { dog { name } }", "Variable \"$x\" is never used.", 1, 8);
    valid("query Q($a: Int, $f: Filter, $c: Color!, $j: JSON) { args(i: $a, filter: $f, json: $j) "
          "more: args(l: [$a, 2], filter: {name: \"x\", tags: [\"a\"], color: $c}) ...F }\n"
          "fragment F on Query { other: args(c: RED) }");
}

static void test_variables_in_allowed_position(void **state) {
    (void)state;
    const char *src = "query Q($x: Int) { req(nn: $x) }";
    expect(S, src, "Variable \"$x\" of type \"Int\" used in position expecting type \"Int!\".", 1, 9);
    expect_loc(src, 1, 1, 28);
    expect(S, "query Q($x: [Int]) { args(ll: $x) }",
           "Variable \"$x\" of type \"[Int]\" used in position expecting type \"[[Int!]]\".", 1, 9);
    expect(S, "query Q($x: Int) { ...F }\nfragment F on Query { req(nn: $x) }",
           "Variable \"$x\" of type \"Int\" used in position expecting type \"Int!\".", 1, 9);
    expect(S, "query Q($x: Int = null) { req(nn: $x) }",
           "Variable \"$x\" of type \"Int\" used in position expecting type \"Int!\".", 1, 9);
    /* the default-value exception: a default on the variable or on the position */
    valid("query Q($x: Int = 1) { req(nn: $x) }");
    valid("query Q($x: Int) { args(d: $x) }");
    valid("query Q($x: Int!, $y: [Int!]!) { args(i: $x, l: $y, ll: [$y]) }");
}

/* --- limits --------------------------------------------------------------------------------------- */

static void expect_cost(const char *src, const struct gql_cost_limits *lim, const char *msg) {
    struct gql_diags d;
    int r = run(S, src, lim, NULL, &d);
    if (r != LK_EINVAL || d.count != 1 || strcmp(d.items[0].message, msg) != 0 || d.items[0].loc[0].line != 1 ||
        d.items[0].loc[0].column != 1) {
        print_diags(&d);
        fail_msg("%s: expected %s", src, msg);
    }
    gql_diags_free(&d);
}

static void test_depth_limit(void **state) {
    (void)state;
    struct gql_cost_limits lim = {.max_depth = 3};
    expect_cost("{ dog { owner { dog { name } } } }", &lim, "Anonymous query is 4 fields deep; the limit is 3.");
    /* through fragments, inline ones and spreads */
    expect_cost("query Q { dog { ...A } }\nfragment A on Dog { owner { ... on Human { ...B } } }\n"
                "fragment B on Human { dog { name } }",
                &lim, "Query \"Q\" is 4 fields deep; the limit is 3.");
    valid_with(S, "{ dog { owner { name } } }", &lim);
    valid_with(S, "query Q { dog { ...A } }\nfragment A on Dog { owner { name } }", &lim);
}

static void test_alias_limit(void **state) {
    (void)state;
    struct gql_cost_limits lim = {.max_aliases = 2};
    expect_cost("query Q { a: dog { n: name } b: dog { ...F } }\nfragment F on Dog { m: name }", &lim,
                "Query \"Q\" has 4 aliases; the limit is 2.");
    valid_with(S, "query Q { a: dog { name } b: dog { name } }", &lim);
}

static void test_field_limit(void **state) {
    (void)state;
    struct gql_cost_limits lim = {.max_fields = 5};
    /* dog, name, barks, a: owner and G's dog; then F twice: 2 * (nick, owner, name) */
    expect_cost("{ dog { name barks ...F a: owner { ...G } } }\nfragment F on Dog { nick owner { name } }\n"
                "fragment G on Human { dog { ...F } }",
                &lim, "Anonymous query selects 11 fields; the limit is 5.");
    valid_with(S, "{ dog { name barks ...F } }\nfragment F on Dog { __typename nick }", &lim);
    /* limits are checked only once the rules pass */
    struct gql_diags d;
    assert_int_equal(run(S, "{ dog { name barks nick owner { name nope } } }", &lim, NULL, &d), LK_EINVAL);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].message, "Cannot query field \"nope\" on type \"Human\".");
    gql_diags_free(&d);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_fragment_bomb_is_refused_fast(void **state) {
    (void)state;
    char *src = malloc(64 * 1024);
    assert_non_null(src);
    size_t n = (size_t)snprintf(src, 64 * 1024, "query Q { dog { ...F0 } }\n");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(src + n, 64 * 1024 - n, "fragment F%d on Dog { name ...F%d ...F%d }\n", i, i + 1, i + 1);
    snprintf(src + n, 64 * 1024 - n, "fragment F30 on Dog { name }\n");
    struct gql_cost_limits lim = {.max_depth = 10, .max_aliases = 10, .max_fields = 1000};
    struct gql_diags d;
    double t0 = now();
    int r = run(S, src, &lim, NULL, &d);
    double dt = now() - t0;
    fprintf(stderr, "fragment bomb: %.3f ms\n", dt * 1e3);
    assert_int_equal(r, LK_EINVAL);
    assert_int_equal(d.count, 1);
    /* dog, then 2^31 - 1 name fields: counted, which only memoising each
     * fragment's count makes possible (expanding them would not end). The
     * time is printed for the record, not asserted: timings belong in
     * benchmarks, and sanitizer builds run many times slower. */
    assert_string_equal(d.items[0].message, "Query \"Q\" selects 2147483648 fields; the limit is 1000.");
    gql_diags_free(&d);
    free(src);
}

/* --- deep and long documents ------------------------------------------------------------------------- */

static char *chain(size_t n, int cycle) {
    size_t cap = 64 * (n + 2);
    char *src = malloc(cap);
    assert_non_null(src);
    size_t k = (size_t)snprintf(src, cap, "query { ...F1 }\n");
    for (size_t i = 1; i < n; i++)
        k += (size_t)snprintf(src + k, cap - k, "fragment F%zu on Query { ...F%zu }\n", i, i + 1);
    snprintf(src + k, cap - k, cycle ? "fragment F%zu on Query { ...F1 }\n" : "fragment F%zu on Query { __typename }\n",
             n);
    return src;
}

static void test_a_long_chain_of_fragments_does_not_recurse(void **state) {
    (void)state;
    struct gql_limits hard = {GQL_HARD_MAX_BYTES, GQL_HARD_MAX_TOKENS, GQL_HARD_MAX_DEPTH};
    struct gql_cost_limits lim = {.max_depth = 10, .max_fields = 100};
    struct gql_diags d;
    char *src = chain(10000, 0);
    assert_int_equal(run(S, src, &lim, &hard, &d), 0);
    gql_diags_free(&d);
    free(src);
    src = chain(10000, 1);
    assert_int_equal(run(S, src, &lim, &hard, &d), LK_EINVAL);
    assert_int_equal(d.count, 1);
    assert_true(strncmp(d.items[0].message, "Cannot spread fragment \"F1\" within itself via \"F2\", \"F3\"", 56) == 0);
    assert_int_equal(d.items[0].nloc, GQL_DIAG_LOCS);
    gql_diags_free(&d);
    free(src);
}

static void test_deep_documents(void **state) {
    (void)state;
    /* 500 levels of fields, and the same nesting through 500 fragments
     * compared pairwise by field merging */
    struct gql_limits hard = {GQL_HARD_MAX_BYTES, GQL_HARD_MAX_TOKENS, GQL_HARD_MAX_DEPTH};
    size_t cap = 1 << 20, k = 0;
    char *src = malloc(cap);
    assert_non_null(src);
    k += (size_t)snprintf(src + k, cap - k, "{ ");
    for (int i = 0; i < 250; i++)
        k += (size_t)snprintf(src + k, cap - k, "dog { owner { ");
    k += (size_t)snprintf(src + k, cap - k, "name ");
    for (int i = 0; i < 500; i++)
        k += (size_t)snprintf(src + k, cap - k, "} ");
    snprintf(src + k, cap - k, "}");
    struct gql_diags d;
    assert_int_equal(run(S, src, NULL, &hard, &d), 0);
    struct gql_cost_limits lim = {.max_depth = 100};
    assert_int_equal(run(S, src, &lim, &hard, &d), LK_EINVAL);
    assert_string_equal(d.items[0].message, "Anonymous query is 501 fields deep; the limit is 100.");
    gql_diags_free(&d);
    /* A { dog { ...A1 } } and B { dog { ...B1 } } each 600 fragments deep:
     * merging them nests past its bound and says so */
    k = (size_t)snprintf(src, cap, "{ dog { ...A0 ...B0 } }\n");
    for (int i = 0; i < 600; i++) {
        k += (size_t)snprintf(src + k, cap - k, "fragment A%d on Dog { owner { dog { ...A%d } } }\n", i, i + 1);
        k += (size_t)snprintf(src + k, cap - k, "fragment B%d on Dog { owner { dog { ...B%d } } }\n", i, i + 1);
    }
    snprintf(src + k, cap - k, "fragment A600 on Dog { name }\nfragment B600 on Dog { name: nick }\n");
    assert_int_equal(run(S, src, NULL, &hard, &d), LK_EINVAL);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].message, "Fields nest more than 512 levels deep through fragments, too deep to "
                                            "check that they can be merged.");
    gql_diags_free(&d);
    free(src);
}

static void test_many_same_named_fields_are_bounded(void **state) {
    (void)state;
    struct gql_limits hard = {GQL_HARD_MAX_BYTES, GQL_HARD_MAX_TOKENS, GQL_HARD_MAX_DEPTH};
    size_t cap = 1 << 20, k = 0;
    char *src = malloc(cap);
    assert_non_null(src);
    k += (size_t)snprintf(src + k, cap - k, "{ dog { ");
    for (int i = 0; i < 20000; i++)
        k += (size_t)snprintf(src + k, cap - k, "name ");
    snprintf(src + k, cap - k, "} }");
    struct gql_diags d;
    double t0 = now();
    assert_int_equal(run(S, src, NULL, &hard, &d), LK_EINVAL);
    fprintf(stderr, "20000 same-named fields: %.0f ms\n", (now() - t0) * 1e3);
    /* The work bound, not the clock, is what is checked: the refusal says it was reached. */
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].message,
                        "Too many fields to check that they can be merged: more than 1000000 comparisons.");
    gql_diags_free(&d);
    free(src);
}

static void test_many_operations_sharing_fragments(void **state) {
    (void)state;
    /* 3000 operations over a chain of 3000 fragments: each operation's
     * variable checks walk the chain, in time and memory that stay
     * proportional to what is walked. Field merging would compare each
     * operation's fields with every fragment of the chain (as graphql-js
     * does): 9 million steps, past its bound, so it stops and says so. */
    struct gql_limits hard = {GQL_HARD_MAX_BYTES, GQL_HARD_MAX_TOKENS, GQL_HARD_MAX_DEPTH};
    size_t cap = 1 << 20, k = 0;
    char *src = malloc(cap);
    assert_non_null(src);
    for (int i = 0; i < 3000; i++)
        k += (size_t)snprintf(src + k, cap - k, "query Q%d($v: Boolean!) { ...F0 dog @skip(if: $v) { name } }\n", i);
    for (int i = 0; i < 3000; i++)
        k += (size_t)snprintf(src + k, cap - k, "fragment F%d on Query { dog { name } ...F%d }\n", i, i + 1);
    snprintf(src + k, cap - k, "fragment F3000 on Query { dog { name } }\n");
    struct gql_diags d;
    double t0 = now();
    assert_int_equal(run(S, src, NULL, &hard, &d), LK_EINVAL);
    double dt = now() - t0;
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].message,
                        "Too many fields to check that they can be merged: more than 1000000 comparisons.");
    fprintf(stderr, "3000 operations x 3000 fragments: %.0f ms\n", dt * 1e3);
    gql_diags_free(&d);
    free(src);
}

static void test_diagnostics_are_capped(void **state) {
    (void)state;
    size_t cap = 1 << 16, k = 0;
    char *src = malloc(cap);
    assert_non_null(src);
    k += (size_t)snprintf(src + k, cap - k, "{ ");
    for (int i = 0; i < 150; i++)
        k += (size_t)snprintf(src + k, cap - k, "f%d ", i);
    snprintf(src + k, cap - k, "}");
    struct gql_diags d;
    assert_int_equal(run(S, src, NULL, NULL, &d), LK_EINVAL);
    assert_int_equal(d.count, GQL_DIAGS_MAX);
    assert_int_equal(d.truncated, 1);
    assert_string_equal(d.items[0].message, "Cannot query field \"f0\" on type \"Query\".");
    assert_string_equal(d.items[GQL_DIAGS_MAX - 2].message, "Cannot query field \"f98\" on type \"Query\".");
    assert_string_equal(d.items[GQL_DIAGS_MAX - 1].message,
                        "Too many validation errors, error limit reached. Validation aborted.");
    gql_diags_free(&d);
    free(src);
}

/* --- the server's schema ---------------------------------------------------------------------------- */

static const char introspection_query[] = "query IntrospectionQuery {\n"
                                          "  __schema {\n"
                                          "    description\n"
                                          "    queryType { name }\n"
                                          "    mutationType { name }\n"
                                          "    subscriptionType { name }\n"
                                          "    types {\n"
                                          "      ...FullType\n"
                                          "    }\n"
                                          "    directives {\n"
                                          "      name\n"
                                          "      description\n"
                                          "      isRepeatable\n"
                                          "      locations\n"
                                          "      args(includeDeprecated: true) {\n"
                                          "        ...InputValue\n"
                                          "      }\n"
                                          "    }\n"
                                          "  }\n"
                                          "}\n"
                                          "\n"
                                          "fragment FullType on __Type {\n"
                                          "  kind\n"
                                          "  name\n"
                                          "  description\n"
                                          "  specifiedByURL\n"
                                          "  fields(includeDeprecated: true) {\n"
                                          "    name\n"
                                          "    description\n"
                                          "    args(includeDeprecated: true) {\n"
                                          "      ...InputValue\n"
                                          "    }\n"
                                          "    type {\n"
                                          "      ...TypeRef\n"
                                          "    }\n"
                                          "    isDeprecated\n"
                                          "    deprecationReason\n"
                                          "  }\n"
                                          "  inputFields(includeDeprecated: true) {\n"
                                          "    ...InputValue\n"
                                          "  }\n"
                                          "  interfaces {\n"
                                          "    ...TypeRef\n"
                                          "  }\n"
                                          "  enumValues(includeDeprecated: true) {\n"
                                          "    name\n"
                                          "    description\n"
                                          "    isDeprecated\n"
                                          "    deprecationReason\n"
                                          "  }\n"
                                          "  possibleTypes {\n"
                                          "    ...TypeRef\n"
                                          "  }\n"
                                          "}\n"
                                          "\n"
                                          "fragment InputValue on __InputValue {\n"
                                          "  name\n"
                                          "  description\n"
                                          "  type { ...TypeRef }\n"
                                          "  defaultValue\n"
                                          "  isDeprecated\n"
                                          "  deprecationReason\n"
                                          "}\n"
                                          "\n"
                                          "fragment TypeRef on __Type {\n"
                                          "  kind\n"
                                          "  name\n"
                                          "  ofType {\n"
                                          "    kind\n"
                                          "    name\n"
                                          "    ofType {\n"
                                          "      kind\n"
                                          "      name\n"
                                          "      ofType {\n"
                                          "        kind\n"
                                          "        name\n"
                                          "        ofType {\n"
                                          "          kind\n"
                                          "          name\n"
                                          "          ofType {\n"
                                          "            kind\n"
                                          "            name\n"
                                          "            ofType {\n"
                                          "              kind\n"
                                          "              name\n"
                                          "              ofType {\n"
                                          "                kind\n"
                                          "                name\n"
                                          "              }\n"
                                          "            }\n"
                                          "          }\n"
                                          "        }\n"
                                          "      }\n"
                                          "    }\n"
                                          "  }\n"
                                          "}\n";

static void test_the_servers_schema_and_real_queries(void **state) {
    (void)state;
    struct gql_schema *api = NULL;
    struct gql_error err = {0};
    assert_int_equal(gql_schema_build(api_graphql_schema, api_graphql_schema_len, &api, &err), 0);
    /* the introspection query is 13 deep: __schema types fields args type, 7 ofType, kind */
    struct gql_cost_limits lim = {.max_depth = 13, .max_aliases = 30, .max_fields = 2000};
    valid_with(api, "{ __schema { types { name } } }", &lim);
    valid_with(api, introspection_query, &lim);
    valid_with(api,
               "query Org($name: String!, $first: Int = 10, $after: String, $since: Time, $status: NoticeStatus) {\n"
               "  me { ...Who }\n"
               "  organization(name: $name) {\n"
               "    id name status settings { tokenExpiryHours allowNonExpiringTokens }\n"
               "    users(first: $first, after: $after) { nodes { ...UserFields } pageInfo { ...Page } }\n"
               "    recent: auditRecords(first: 5, filter: {since: $since, outcome: \"denied\"}) {\n"
               "      edges { cursor node { seq time actor { type name } action } }\n"
               "    }\n"
               "    notices(status: $status) { nodes { id channel status } }\n"
               "    secretKeys\n"
               "    __typename\n"
               "  }\n"
               "  __type(name: \"Token\") { name fields { name } }\n"
               "}\n"
               "fragment Who on Me { type name org team token { id expiresAt policies } permissions }\n"
               "fragment UserFields on User { id username email role createdAt tokens { nodes { id status } } }\n"
               "fragment Page on PageInfo { hasNextPage endCursor }\n"
               "mutation Create($input: CreateTokenInput!) {\n"
               "  createToken(input: $input) { secret id owner { type id } droppedPolicies }\n"
               "  other: createToken(input: {description: \"ci\", expires: \"P30D\", policies: \"read\"}) { secret }\n"
               "}\n",
               &lim);
    expect(api, "{ organization(name: \"x\") { users(first: \"10\") { nodes { id } } } }",
           "Int cannot represent non-integer value: \"10\"", 1, 42);
    expect(api, "subscription { me { name } }", "Schema is not configured to execute subscription operation.", 1, 1);
    expect(api,
           "query ($t: String) { tokens(first: 1) { nodes { id } } auditRecords(filter: {since: $t}) { "
           "nodes { seq } } }",
           "Variable \"$t\" of type \"String\" used in position expecting type \"Time\".", 1, 8);
    gql_schema_free(api);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executable_definitions),
        cmocka_unit_test(test_operation_name_uniqueness),
        cmocka_unit_test(test_lone_anonymous_operation),
        cmocka_unit_test(test_operation_type_has_a_root),
        cmocka_unit_test(test_subscription_single_root_field),
        cmocka_unit_test(test_fields_on_correct_type),
        cmocka_unit_test(test_field_selection_merging),
        cmocka_unit_test(test_leaf_field_selections),
        cmocka_unit_test(test_argument_names),
        cmocka_unit_test(test_argument_uniqueness),
        cmocka_unit_test(test_required_arguments),
        cmocka_unit_test(test_fragment_name_uniqueness),
        cmocka_unit_test(test_fragment_spread_type_existence),
        cmocka_unit_test(test_fragments_on_composite_types),
        cmocka_unit_test(test_fragments_must_be_used),
        cmocka_unit_test(test_fragment_spread_target_defined),
        cmocka_unit_test(test_fragment_spreads_no_cycles),
        cmocka_unit_test(test_fragment_spread_possible),
        cmocka_unit_test(test_values_of_correct_type),
        cmocka_unit_test(test_input_object_fields),
        cmocka_unit_test(test_directives),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_variables_in_allowed_position),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_alias_limit),
        cmocka_unit_test(test_field_limit),
        cmocka_unit_test(test_fragment_bomb_is_refused_fast),
        cmocka_unit_test(test_a_long_chain_of_fragments_does_not_recurse),
        cmocka_unit_test(test_deep_documents),
        cmocka_unit_test(test_many_same_named_fields_are_bounded),
        cmocka_unit_test(test_many_operations_sharing_fragments),
        cmocka_unit_test(test_diagnostics_are_capped),
        cmocka_unit_test(test_the_servers_schema_and_real_queries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
