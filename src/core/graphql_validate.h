/*
 * graphql_validate.h - a request's document checked against the schema:
 * the validation rules of the GraphQL specification (October 2021,
 * section 5) and the server's cost limits (docs/graphql.md).
 *
 * Run after gql_parse and before execution; an invalid document is not
 * executed at all. Pure: no I/O.
 */
#ifndef LK_CORE_GRAPHQL_VALIDATE_H
#define LK_CORE_GRAPHQL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/graphql.h"
#include "core/graphql_schema.h"

/* One problem: a message in graphql-js's words ("Cannot query field
 * \"x\" on type \"Query\".") and the places in the document it concerns
 * (nloc of them, at most GQL_DIAG_LOCS, in the order graphql-js lists
 * them). */
#define GQL_DIAG_LOCS 4
struct gql_diag {
    char message[GQL_ERRMSG_MAX];
    size_t nloc;
    struct {
        uint32_t line, column;
    } loc[GQL_DIAG_LOCS];
};

/* The problems found, in document order as the rules meet them; at most
 * GQL_DIAGS_MAX (then truncated is 1, and the last says so). */
#define GQL_DIAGS_MAX 100
struct gql_diags {
    struct gql_diag *items; /* malloc'd; gql_diags_free */
    size_t count;
    int truncated;
};

void gql_diags_free(struct gql_diags *d);

/*
 * What one request's operations may cost, counted with every fragment
 * spread expanded (fragments are counted once and multiplied, so a
 * document of nested spreads cannot make the count itself expensive):
 *
 *   max_depth    nesting of fields: `{ a { b } }` is 2 deep
 *   max_aliases  fields written with an alias
 *   max_fields   fields selected in all (leaves and composites, meta-fields
 *                included)
 *
 * 0 leaves a limit off. Past one, a diagnostic names the operation, the
 * limit and what it counted ("Query \"Q\" is 14 fields deep; the limit
 * is 12.").
 */
struct gql_cost_limits {
    unsigned max_depth;
    unsigned max_aliases;
    unsigned max_fields;
};

/*
 * Checks doc against s by every rule below and, when it breaks none, its
 * operations against lim (may be NULL: no limits). 0 when valid (*out is
 * empty), LK_EINVAL with the problems in *out, or LK_ENOMEM. The caller
 * frees *out with gql_diags_free either way.
 *
 * Rules (section 5 of the specification): executable definitions only;
 * operation name uniqueness; lone anonymous operation; an operation type
 * the schema has a root for; subscriptions with a single root field;
 * field selections on existing fields (meta-fields included); field
 * selection merging; leaf field selections; argument names, uniqueness
 * and required arguments; fragment name uniqueness, spread type
 * existence, fragments on composite types, fragments must be used,
 * spread target defined, no spread cycles, spread possible; values of
 * the correct type, input object field names, uniqueness and required
 * fields; directives defined, in valid locations, unique per location;
 * variable uniqueness, variables of input types, all variable uses
 * defined, all variables used, all variable usages allowed.
 */
int gql_validate(const struct gql_schema *s, const struct gql_document *doc, const struct gql_cost_limits *lim,
                 struct gql_diags *out);

#endif
