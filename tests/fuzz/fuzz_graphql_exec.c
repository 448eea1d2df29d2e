/*
 * fuzz_graphql_exec.c - libFuzzer harness for the GraphQL executor
 * (core/graphql_exec.h) behind the parser and validator, as /graphql runs
 * them.
 *
 * The schema is this harness's own, with every kind of type (objects, an
 * interface, a union, enums, input objects, lists and non-null at several
 * depths, recursion). The input is a request document; its variables are
 * a fixed set of every JSON kind. A document that parses and validates is
 * executed with a resolver that answers from the input's bytes: sometimes
 * the right shape, sometimes null, a value of the wrong type, an object
 * for a list, or an error. Whatever it answers:
 *   - gql_execute returns 0 or LK_EINVAL (a variable that does not fit;
 *     then *ret is {"errors": [...]} only);
 *   - on 0 the response has "data" (an object or null) and "errors" only
 *     when some error was raised, each with a non-empty message, and a
 *     path that starts with a response key;
 *   - a non-null field of the schema is never null in the data.
 * Invariant failures abort(); leaks are findings (ASan).
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/graphql.h"
#include "core/graphql_exec.h"
#include "core/graphql_schema.h"
#include "core/graphql_validate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sdl[] = "interface Node { id: ID! }\n"
                          "type Thing implements Node { id: ID! name: String n: Int! f: Float kind: Kind\n"
                          "  tags: [String!] kids(first: Int = 2, filter: Filter): [Thing] parent: Thing! }\n"
                          "type Other implements Node { id: ID! ok: Boolean! }\n"
                          "union Any = Thing | Other\n"
                          "enum Kind { RED GREEN }\n"
                          "input Filter { kind: Kind, names: [String!], inner: Filter }\n"
                          "scalar JSON\n"
                          "type Query { thing(id: ID!): Thing node: Node any: [Any!]! json(v: JSON): JSON\n"
                          "  must: Thing! list: [[Int!]]! }\n"
                          "type Mutation { make(name: String!, kind: Kind = RED): Thing! drop(id: ID!): Boolean }\n";

static const char variables_json[] =
    "{\"id\": \"t1\", \"n\": 3, \"f\": 1.5, \"s\": \"x\", \"b\": true, \"k\": \"RED\", \"l\": [\"a\", null],"
    " \"o\": {\"kind\": \"GREEN\", \"names\": [\"a\"]}, \"z\": null, \"big\": 3000000000}";

static struct gql_schema *schema;

/* The resolver's choices come from the input's bytes, in turn. */
struct feed {
    const uint8_t *p;
    size_t n, i;
};

static unsigned next(struct feed *f) {
    if (f->n == 0)
        return 0;
    return f->p[f->i++ % f->n];
}

static json_t *value_for(struct feed *f, const struct gql_type *t, int depth) {
    unsigned c = next(f) % 16;
    if (c == 0)
        return json_null();
    if (c == 1)
        return json_string("wrong");
    if (c == 2)
        return json_integer(1 << 30);
    if (t->kind == GQL_TYPE_NON_NULL)
        return value_for(f, t->of, depth);
    if (t->kind == GQL_TYPE_LIST) {
        json_t *a = json_array();
        unsigned n = depth > 3 ? 0 : next(f) % 3;
        for (unsigned i = 0; i < n; i++)
            json_array_append_new(a, value_for(f, t->of, depth + 1));
        return a;
    }
    const char *name = t->name.s;
    if (strcmp(name, "Int") == 0)
        return json_integer((json_int_t)next(f) - 100);
    if (strcmp(name, "Float") == 0)
        return json_real(next(f) / 3.0);
    if (strcmp(name, "Boolean") == 0)
        return json_boolean(next(f) & 1);
    if (strcmp(name, "Kind") == 0)
        return json_string(next(f) & 1 ? "RED" : "BLUE");
    if (strcmp(name, "String") == 0 || strcmp(name, "ID") == 0 || strcmp(name, "JSON") == 0)
        return json_string("v");
    /* An object: its fields come from the resolver; abstract types name
     * their object type. */
    json_t *o = json_object();
    if (strcmp(name, "Node") == 0 || strcmp(name, "Any") == 0)
        json_object_set_new(o, "__typename", json_string(next(f) & 1 ? "Thing" : c == 3 ? "Nope" : "Other"));
    return o;
}

static int resolve(void *ud, const struct gql_field_ctx *fc, json_t **ret, struct gql_field_error *err) {
    struct feed *f = ud;
    CHECK(fc->args != NULL && json_is_object(fc->args));
    if (next(f) % 11 == 0) {
        snprintf(err->message, sizeof(err->message), "resolver failed");
        if (next(f) & 1)
            err->extensions = json_pack("{s:s}", "code", "X");
        return -1;
    }
    *ret = value_for(f, fc->field->type, 0);
    return 0;
}

/* Every error: a message, and a path starting with a response key. */
static void check_errors(json_t *errors) {
    size_t i;
    json_t *e;
    CHECK(json_is_array(errors) && json_array_size(errors) > 0);
    json_array_foreach(errors, i, e) {
        json_t *m = json_object_get(e, "message");
        CHECK(json_is_string(m) && json_string_length(m) > 0);
        json_t *p = json_object_get(e, "path");
        if (p != NULL)
            CHECK(json_is_array(p) && json_is_string(json_array_get(p, 0)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (schema == NULL) {
        struct gql_error err;
        CHECK(gql_schema_build(sdl, sizeof(sdl) - 1, &schema, &err) == 0);
    }
    struct gql_document *doc = NULL;
    struct gql_error perr;
    if (gql_parse((const char *)data, size, NULL, &doc, &perr) != 0)
        return 0;
    struct gql_diags diags = {0};
    static const struct gql_cost_limits costs = {12, 20, 400};
    int vr = gql_validate(schema, doc, &costs, &diags);
    gql_diags_free(&diags);
    const struct gql_definition *op = NULL;
    char msg[GQL_ERRMSG_MAX];
    if (vr != 0 || gql_operation_select(doc, NULL, &op, msg) != 0) {
        gql_document_free(doc);
        return 0;
    }
    json_t *vars = json_loads(variables_json, 0, NULL);
    struct feed f = {data, size, 0};
    struct gql_exec_in in = {schema, doc, op, vars, resolve, &f};
    json_t *out = NULL;
    size_t nerrors = 99;
    int r = gql_execute(&in, &out, &nerrors);
    CHECK(r == 0 || r == LK_EINVAL);
    CHECK(json_is_object(out));
    if (r == LK_EINVAL) {
        CHECK(json_object_get(out, "data") == NULL);
        check_errors(json_object_get(out, "errors"));
    } else {
        json_t *d = json_object_get(out, "data");
        CHECK(d != NULL && (json_is_object(d) || json_is_null(d)));
        json_t *errors = json_object_get(out, "errors");
        CHECK((errors == NULL) == (nerrors == 0));
        if (errors != NULL)
            check_errors(errors);
        /* data is null only when an error made it so. */
        if (json_is_null(d))
            CHECK(errors != NULL);
    }
    json_decref(out);
    json_decref(vars);
    gql_document_free(doc);
    return 0;
}
