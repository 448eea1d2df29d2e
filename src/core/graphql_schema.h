/*
 * graphql_schema.h - a GraphQL schema built from SDL text, and the lookups
 * validation, execution and introspection make in it (docs/graphql.md).
 *
 * A schema is the server's SDL document together with the specification's
 * built-ins: the scalars Int, Float, String, Boolean and ID, the
 * directives @skip, @include, @deprecated and @specifiedBy, and the
 * introspection types (__Schema, __Type, ...). Its types are the parser's
 * definitions (core/graphql.h): a type is a struct gql_definition of kind
 * SCALAR, OBJECT, INTERFACE, UNION, ENUM or INPUT_OBJECT, a field a struct
 * gql_field_def, an argument or input field a struct gql_input_value_def.
 *
 * Built once at start and never changed, so every thread may read it.
 * Pure: no I/O.
 */
#ifndef LK_CORE_GRAPHQL_SCHEMA_H
#define LK_CORE_GRAPHQL_SCHEMA_H

#include <stddef.h>

#include "core/graphql.h"

struct gql_schema;

/*
 * Builds a schema from sdl[0..len): type-system definitions only (no
 * operation, fragment or `extend`), every type and directive named once,
 * no name of the user's starting with "__", every type a field, argument
 * or union refers to defined, fields of objects and interfaces of output
 * types and arguments and input fields of input types, union members
 * objects, implemented interfaces interfaces whose fields the implementer
 * has, and a query root that is an object type (the `schema` definition's,
 * or the types named Query, Mutation and Subscription). 0 with *ret (free
 * with gql_schema_free), or LK_EINVAL / LK_ERANGE / LK_ENOMEM with the
 * reason in err (err may be NULL).
 */
int gql_schema_build(const char *sdl, size_t len, struct gql_schema **ret, struct gql_error *err);

/* NULL-safe. */
void gql_schema_free(struct gql_schema *s);

/* The schema's description (the `schema` definition's), or a NULL s. */
struct gql_str gql_schema_description(const struct gql_schema *s);

/* The named type (built-ins and introspection types included), or NULL. */
const struct gql_definition *gql_schema_type(const struct gql_schema *s, const char *name, size_t len);

/* The named type a reference ends in ([Foo!]! gives Foo), or NULL. */
const struct gql_definition *gql_schema_named(const struct gql_schema *s, const struct gql_type *t);

/* The root type of an operation type, or NULL (no mutation root, say). */
const struct gql_definition *gql_schema_root(const struct gql_schema *s, enum gql_operation_type op);

/* Every named type, user types in the SDL's order then the built-ins;
 * *ret points into the schema. */
size_t gql_schema_types(const struct gql_schema *s, const struct gql_definition *const **ret);

/* The directive named name (without '@'), or NULL; every directive, the
 * built-ins last. */
const struct gql_definition *gql_schema_directive(const struct gql_schema *s, const char *name, size_t len);
size_t gql_schema_directives(const struct gql_schema *s, const struct gql_definition *const **ret);

/*
 * The field name of an object or interface type t, or NULL. With meta
 * set, also the introspection meta-fields: __typename on any object,
 * interface or union, and __schema and __type on the query root.
 */
const struct gql_field_def *gql_schema_field(const struct gql_schema *s, const struct gql_definition *t,
                                             const char *name, size_t len, int meta);

/* The argument (or input field) name among defs[0..n), or NULL. */
const struct gql_input_value_def *gql_schema_input_value(const struct gql_input_value_def *defs, size_t n,
                                                         const char *name, size_t len);

/* The enum value name of enum type t, or NULL. */
const struct gql_enum_value_def *gql_schema_enum_value(const struct gql_definition *t, const char *name, size_t len);

/* 1 if object type obj is a possible type of t: t itself, an interface obj
 * implements, or a union obj is a member of. */
int gql_schema_possible(const struct gql_schema *s, const struct gql_definition *t, const struct gql_definition *obj);

/* The object types a type may be at run time (itself for an object), in
 * the SDL's order, into out[0..max); returns how many there are. */
size_t gql_schema_possible_types(const struct gql_schema *s, const struct gql_definition *t,
                                 const struct gql_definition **out, size_t max);

/* Kinds of named types. */
int gql_type_is_input(const struct gql_definition *t);     /* scalar, enum, input object */
int gql_type_is_output(const struct gql_definition *t);    /* scalar, enum, object, interface, union */
int gql_type_is_leaf(const struct gql_definition *t);      /* scalar, enum */
int gql_type_is_composite(const struct gql_definition *t); /* object, interface, union */
int gql_type_is_abstract(const struct gql_definition *t);  /* interface, union */

/* The reason of a definition's @deprecated, or NULL when it has none:
 * its `reason` argument, or the default "No longer supported". */
const char *gql_deprecation_reason(const struct gql_directive *dirs, size_t n);

/* 1 if a and b are the same reference (names, lists and non-null alike). */
int gql_type_equal(const struct gql_type *a, const struct gql_type *b);

#endif
