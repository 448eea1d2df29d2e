/*
 * graphql_exec.h - executing a validated GraphQL request (the
 * specification's section 6) over values a resolver supplies, and
 * introspection (section 4) from the schema itself (docs/graphql.md).
 *
 * Values are JSON (jansson): the resolver answers each field with a JSON
 * value, the executor coerces variables and arguments into JSON, completes
 * values by the field's type (non-null, lists, scalars, enums, objects)
 * and builds the response { "data": ..., "errors": [...] } with each
 * field error at its path and null propagated as the specification says.
 * The executor knows nothing of where values come from: the api layer's
 * resolver (api/graphql.c) runs the REST route a field names.
 *
 * Pure: no I/O of its own. Synchronous: fields run one after another in
 * document order, so a mutation's fields run serially as required.
 */
#ifndef LK_CORE_GRAPHQL_EXEC_H
#define LK_CORE_GRAPHQL_EXEC_H

#include <jansson.h>

#include "core/graphql.h"
#include "core/graphql_schema.h"

/* One field to resolve. */
struct gql_field_ctx {
    const struct gql_schema *schema;
    const struct gql_definition *parent_type; /* an object type */
    const struct gql_field_def *field;        /* its definition in the schema */
    json_t *parent;                           /* the parent object's value (borrowed) */
    json_t *args;                             /* coerced arguments: an object (borrowed) */
    const struct gql_definition *operation;   /* the operation being executed */
};

/* A field error a resolver raises: its message, and extensions (a JSON
 * object, new reference, or NULL) such as {"code": "NOT_FOUND"}. */
struct gql_field_error {
    char message[GQL_ERRMSG_MAX];
    json_t *extensions;
};

/*
 * A resolver: 0 with *ret the field's value (a new reference; NULL or JSON
 * null for null), or -1 with *err filled (the field becomes null with an
 * error at its path). Called for every field of the schema's own types;
 * meta-fields and the introspection types are the executor's.
 */
typedef int (*gql_resolve_fn)(void *ud, const struct gql_field_ctx *fc, json_t **ret, struct gql_field_error *err);

struct gql_exec_in {
    const struct gql_schema *schema;
    const struct gql_document *doc;         /* valid (gql_validate) */
    const struct gql_definition *operation; /* from gql_operation_select */
    json_t *variables;                      /* the request's "variables": an object, or NULL */
    gql_resolve_fn resolve;
    void *ud;
    /* A mutation stops at its first root field that raised an error: the
     * ones after it are not run (the caller rolls the operation back). */
};

/*
 * The operation a request runs: the one named name, or with name NULL the
 * document's only operation. 0 with *ret, or LK_EINVAL with the reason in
 * msg (GQL_ERRMSG_MAX bytes), in graphql-js's words ("Unknown operation
 * named \"X\".", "Must provide operation name if query contains multiple
 * operations.").
 */
int gql_operation_select(const struct gql_document *doc, const char *name, const struct gql_definition **ret,
                         char *msg);

/*
 * Executes in->operation. 0 with *ret the response (new reference):
 * {"data": ...} with "errors" when a field raised one; or LK_EINVAL when
 * the request cannot run (a variable's value does not fit its type), with
 * *ret {"errors": [...]} and no data; LK_ENOMEM. *errors_out (may be NULL)
 * counts the field errors.
 */
int gql_execute(const struct gql_exec_in *in, json_t **ret, size_t *errors_out);

/* A JSON error object {"message", "locations"?: [{line, column}]} for a
 * request error at loc (NULL: no location). New reference. */
json_t *gql_error_json(const char *message, const struct gql_loc *loc);

#endif
