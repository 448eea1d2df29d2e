/*
 * test_graphql_schema.c - unit tests for core/graphql_schema.h: the
 * server's own schema builds, lookups answer what the SDL says (built-ins
 * and meta-fields included), and each way an SDL can be wrong is refused
 * with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/errors.h"
#include "core/graphql_schema.h"

#include "unit_assert.h"

extern const char api_graphql_schema[];
extern const size_t api_graphql_schema_len;

static void test_the_servers_schema_builds(void **state) {
    (void)state;
    struct gql_schema *s = NULL;
    struct gql_error err = {0};
    int r = gql_schema_build(api_graphql_schema, api_graphql_schema_len, &s, &err);
    if (r != 0)
        fail_msg("%u:%u %s", err.line, err.column, err.message);
    const struct gql_definition *q = gql_schema_root(s, GQL_OP_QUERY);
    assert_non_null(q);
    assert_string_equal(q->name.s, "Query");
    assert_string_equal(gql_schema_root(s, GQL_OP_MUTATION)->name.s, "Mutation");
    assert_null(gql_schema_root(s, GQL_OP_SUBSCRIPTION));
    const struct gql_field_def *me = gql_schema_field(s, q, "me", 2, 0);
    assert_non_null(me);
    const struct gql_definition *mt = gql_schema_named(s, me->type);
    assert_string_equal(mt->name.s, "Me");
    assert_non_null(gql_schema_field(s, mt, "name", 4, 0));
    /* Meta-fields: __typename anywhere composite, __schema on the query root only. */
    assert_non_null(gql_schema_field(s, mt, "__typename", 10, 1));
    assert_null(gql_schema_field(s, mt, "__typename", 10, 0));
    assert_null(gql_schema_field(s, mt, "__schema", 8, 1));
    assert_non_null(gql_schema_field(s, q, "__schema", 8, 1));
    assert_non_null(gql_schema_field(s, q, "__type", 6, 1));
    /* Built-ins are there; __Meta is not a type anyone sees. */
    assert_non_null(gql_schema_type(s, "Int", 3));
    assert_non_null(gql_schema_type(s, "__Type", 6));
    assert_null(gql_schema_type(s, "__Meta", 6));
    assert_null(gql_schema_type(s, "Nope", 4));
    assert_non_null(gql_schema_directive(s, "skip", 4));
    assert_non_null(gql_schema_directive(s, "deprecated", 10));
    const struct gql_definition *const *types;
    size_t n = gql_schema_types(s, &types);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(gql_schema_type(s, types[i]->name.s, types[i]->name.len), types[i]);
    assert_true(gql_type_is_leaf(gql_schema_type(s, "OrgRole", 7)));
    assert_non_null(gql_schema_enum_value(gql_schema_type(s, "OrgRole", 7), "ADMIN", 5));
    assert_null(gql_schema_enum_value(gql_schema_type(s, "OrgRole", 7), "admin", 5));
    gql_schema_free(s);
}

static void test_lookups_and_possible_types(void **state) {
    (void)state;
    static const char sdl[] = "interface Node { id: ID! }\n"
                              "type A implements Node { id: ID! a: Int @deprecated }\n"
                              "type B implements Node { id: ID! b(x: Int = 1): String }\n"
                              "type C { c: Int }\n"
                              "union U = A | C\n"
                              "type Query { node: Node u: U }\n";
    struct gql_schema *s = NULL;
    struct gql_error err = {0};
    assert_int_equal(gql_schema_build(sdl, sizeof(sdl) - 1, &s, &err), 0);
    const struct gql_definition *node = gql_schema_type(s, "Node", 4), *a = gql_schema_type(s, "A", 1),
                                *b = gql_schema_type(s, "B", 1), *c = gql_schema_type(s, "C", 1),
                                *u = gql_schema_type(s, "U", 1);
    assert_true(gql_schema_possible(s, node, a));
    assert_true(gql_schema_possible(s, node, b));
    assert_false(gql_schema_possible(s, node, c));
    assert_true(gql_schema_possible(s, u, c));
    assert_false(gql_schema_possible(s, u, b));
    const struct gql_definition *out[4];
    assert_int_equal(gql_schema_possible_types(s, node, out, 4), 2);
    assert_ptr_equal(out[0], a);
    assert_ptr_equal(out[1], b);
    assert_true(gql_type_is_abstract(u));
    assert_true(gql_type_is_composite(c));
    const struct gql_field_def *fa = gql_schema_field(s, a, "a", 1, 0);
    assert_string_equal(gql_deprecation_reason(fa->directives, fa->ndirectives), "No longer supported");
    const struct gql_field_def *fb = gql_schema_field(s, b, "b", 1, 0);
    assert_null(gql_deprecation_reason(fb->directives, fb->ndirectives));
    assert_non_null(gql_schema_input_value(fb->args, fb->nargs, "x", 1));
    assert_null(gql_schema_input_value(fb->args, fb->nargs, "y", 1));
    assert_true(gql_type_equal(fa->type, gql_schema_field(s, c, "c", 1, 0)->type));
    assert_false(gql_type_equal(fa->type, node->fields[0].type));
    gql_schema_free(s);
}

static void refused(const char *sdl, const char *want) {
    struct gql_schema *s = NULL;
    struct gql_error err = {0};
    int r = gql_schema_build(sdl, strlen(sdl), &s, &err);
    if (r == 0)
        fail_msg("built: %s", sdl);
    assert_null(s);
    assert_int_equal(r, LK_EINVAL);
    if (strstr(err.message, want) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", err.message, want);
}

static void test_wrong_schemas_are_refused(void **state) {
    (void)state;
    refused("type Foo { a: Int }", "Query root type must be provided");
    refused("type Query { a: Nope }", "Unknown type \"Nope\" in Query.a");
    refused("type Query { a: Int } type Query { b: Int }", "only one type named \"Query\"");
    refused("type Query { a(x: Query): Int }", "must be an input type");
    refused("input I { x: Int } type Query { a: I }", "must be an output type");
    refused("type Query { __a: Int } type __X { a: Int }", "must not begin with \"__\"");
    refused("type Query { a: Int a: Int }", "Field Query.a is defined twice");
    refused("interface N { id: ID! } type Query implements N { a: Int }", "Interface field N.id");
    refused("interface N { id: ID! } type Query implements N { id: ID }", "Interface field N.id");
    refused("union U = Int type Query { u: U }", "can only include object types");
    refused("enum E { A A } type Query { e: E }", "Enum value E.A is defined twice");
    refused("type Query { a: Int } query { a }", "type-system definitions only");
    refused("type Query { a: Int } extend type Query { b: Int }", "extensions are not supported");
    refused("schema { query: Q } type Query { a: Int }", "must be a defined object type");
    refused("directive @skip on FIELD type Query { a: Int }", "only one directive named \"skip\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_servers_schema_builds),
        cmocka_unit_test(test_lookups_and_possible_types),
        cmocka_unit_test(test_wrong_schemas_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
