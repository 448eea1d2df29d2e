/*
 * fuzz_graphql_validate.c - libFuzzer harness for the GraphQL validator
 * (core/graphql_validate.h).
 *
 * The input is a request document, parsed with the default limits (a
 * refused one is skipped) and validated against two schemas built once:
 * the server's own (api/schema.graphql) and a small one with interfaces,
 * unions, an input object, a custom scalar and a subscription root, so
 * the rules about abstract types run too. For each:
 *   1. Without limits the answer is 0 with no diagnostics, or LK_EINVAL
 *      with 1 to GQL_DIAGS_MAX of them, truncated exactly when there are
 *      GQL_DIAGS_MAX and the last then saying so; each message is
 *      non-empty UTF-8 without control characters, each place inside the
 *      input, at most GQL_DIAG_LOCS of them, and only the truncation
 *      notice has none.
 *   2. With tight cost limits the rules' verdict is unchanged: the same
 *      diagnostics when the document breaks a rule; otherwise 0 or only
 *      cost diagnostics ("...; the limit is N.") placed at an operation.
 *   3. Validating again gives the same diagnostics (nothing is kept).
 * Any crash, leak or sanitizer report is a finding; invariant failures
 * abort().
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/graphql.h"
#include "core/graphql_schema.h"
#include "core/graphql_validate.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const char api_graphql_schema[];
extern const size_t api_graphql_schema_len;

static const char small_sdl[] = "scalar JSON\n"
                                "enum Color { RED GREEN }\n"
                                "interface Pet { name: String! }\n"
                                "type Dog implements Pet { name: String! barks: Boolean nick(short: Boolean): String "
                                "owner: Human }\n"
                                "type Cat implements Pet { name: String! meows: Boolean }\n"
                                "type Human { name: String! pets: [Pet] dog: Dog }\n"
                                "union CatOrDog = Cat | Dog\n"
                                "input Filter { name: String! color: Color = RED tags: [String!] sub: Filter }\n"
                                "type Query { dog: Dog pet: Pet catOrDog: CatOrDog human(id: ID!): Human "
                                "req(nn: Int!): String args(i: Int, f: Float, s: String, b: Boolean, id: ID, c: Color, "
                                "l: [Int], d: Int! = 1, filter: Filter, json: JSON): String }\n"
                                "type Subscription { a: String b: String }\n"
                                "directive @rep repeatable on FIELD\n";

static struct gql_schema *schemas[2];

static void build_schemas(void) {
    if (schemas[0] != NULL)
        return;
    CHECK(gql_schema_build(api_graphql_schema, api_graphql_schema_len, &schemas[0], NULL) == 0);
    CHECK(gql_schema_build(small_sdl, sizeof(small_sdl) - 1, &schemas[1], NULL) == 0);
}

/* The last line of the input and the most columns any line has, plus one
 * (columns count characters). */
static void extent(const char *s, size_t len, uint32_t *ret_lines, uint32_t *ret_cols) {
    uint32_t line = 1, col = 1, cols = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
            line++;
            col = 1;
        } else if (c != '\r' && (c & 0xC0) != 0x80) {
            col++;
        }
        if (col > cols)
            cols = col;
    }
    *ret_lines = line;
    *ret_cols = cols;
}

static void check_diags(int r, const struct gql_diags *d, uint32_t lines, uint32_t cols) {
    CHECK(r == 0 || r == LK_EINVAL);
    CHECK((r == 0) == (d->count == 0));
    CHECK(d->count <= GQL_DIAGS_MAX);
    CHECK(d->truncated == (d->count == GQL_DIAGS_MAX));
    for (size_t i = 0; i < d->count; i++) {
        const struct gql_diag *g = &d->items[i];
        size_t n = strnlen(g->message, sizeof(g->message));
        CHECK(n > 0 && n < sizeof(g->message));
        CHECK(str_utf8_valid(g->message, n));
        for (size_t k = 0; k < n; k++)
            CHECK((unsigned char)g->message[k] >= 0x20 && g->message[k] != 0x7F);
        CHECK(g->nloc <= GQL_DIAG_LOCS);
        int last_notice = d->truncated && i + 1 == d->count;
        if (last_notice)
            CHECK(strcmp(g->message, "Too many validation errors, error limit reached. Validation aborted.") == 0);
        CHECK((g->nloc == 0) == last_notice);
        for (size_t k = 0; k < g->nloc; k++)
            CHECK(g->loc[k].line >= 1 && g->loc[k].line <= lines && g->loc[k].column >= 1 && g->loc[k].column <= cols);
    }
}

static int same_diags(const struct gql_diags *a, const struct gql_diags *b) {
    if (a->count != b->count || a->truncated != b->truncated)
        return 0;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i].message, b->items[i].message) != 0 || a->items[i].nloc != b->items[i].nloc ||
            memcmp(a->items[i].loc, b->items[i].loc, a->items[i].nloc * sizeof(a->items[i].loc[0])) != 0)
            return 0;
    return 1;
}

static int at_an_operation(const struct gql_document *doc, const struct gql_diag *g) {
    for (size_t i = 0; i < doc->count; i++)
        if (doc->definitions[i].kind == GQL_DEF_OPERATION && g->nloc == 1 &&
            g->loc[0].line == doc->definitions[i].loc.line && g->loc[0].column == doc->definitions[i].loc.column)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    if (size > GQL_DEFAULT_MAX_BYTES)
        return 0;
    build_schemas();
    struct gql_document *doc = NULL;
    if (gql_parse(s, size, NULL, &doc, NULL) != 0)
        return 0;
    uint32_t lines, cols;
    extent(s, size, &lines, &cols);
    for (int k = 0; k < 2; k++) {
        /* 1. the rules alone */
        struct gql_diags plain, again, limited;
        int r = gql_validate(schemas[k], doc, NULL, &plain);
        check_diags(r, &plain, lines, cols);

        /* 2. tight limits change nothing the rules decide */
        static const struct gql_cost_limits lim = {.max_depth = 3, .max_aliases = 2, .max_fields = 8};
        int r2 = gql_validate(schemas[k], doc, &lim, &limited);
        check_diags(r2, &limited, lines, cols);
        if (r != 0) {
            CHECK(r2 == r && same_diags(&plain, &limited));
        } else {
            for (size_t i = 0; i < limited.count; i++) {
                CHECK(strstr(limited.items[i].message, "; the limit is ") != NULL);
                CHECK(at_an_operation(doc, &limited.items[i]));
            }
        }

        /* 3. nothing is kept between calls */
        int r3 = gql_validate(schemas[k], doc, NULL, &again);
        CHECK(r3 == r && same_diags(&plain, &again));
        gql_diags_free(&plain);
        gql_diags_free(&limited);
        gql_diags_free(&again);
    }
    gql_document_free(doc);
    return 0;
}
