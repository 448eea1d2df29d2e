/*
 * graphql.h - GraphQL documents: the parser, the syntax tree it builds,
 * and a printer back to canonical GraphQL text (docs/graphql.md).
 *
 * The grammar is the GraphQL specification's (October 2021 edition):
 * executable definitions (operations, fragments) and type-system
 * definitions and extensions (schema, scalar, type, interface, union,
 * enum, input, directive), so one parser reads both requests and the SDL
 * schema. Lexical rules are in graphql_lex.h.
 *
 * A document lives in one arena: every node, name and string of it is
 * freed by gql_document_free. Nodes hold their children as arrays (a
 * pointer and a count; count 0 and the pointer NULL when there are none),
 * names and strings as NUL-terminated copies with their length, and each
 * node its place in the source (struct gql_loc). A parsed document is
 * never changed by this module, so several threads may read one at once.
 *
 * Pure: no I/O.
 */
#ifndef LK_CORE_GRAPHQL_H
#define LK_CORE_GRAPHQL_H

#include <stddef.h>
#include <stdint.h>

/* --- limits ------------------------------------------------------------------ */

/*
 * What one parse may cost. A request's document is held to the defaults;
 * a caller that trusts its input (the server's own schema) may raise them
 * up to the hard maxima. Over any of them the parse stops with LK_ERANGE
 * and a message naming the limit.
 *
 *   max_bytes   the document's size
 *   max_tokens  lexical tokens (punctuators, names, numbers, strings; not
 *               ignored tokens such as comments and commas)
 *   max_depth   nesting of selection sets, list and object values and
 *               list types, counted together: `{ a(x: [1]) }` is 2 deep.
 *               It bounds the parser's recursion (and the printer's).
 */
#define GQL_DEFAULT_MAX_BYTES (128 * 1024)
#define GQL_DEFAULT_MAX_TOKENS 20000
#define GQL_DEFAULT_MAX_DEPTH 64
#define GQL_HARD_MAX_BYTES (64 * 1024 * 1024)
#define GQL_HARD_MAX_TOKENS (16 * 1024 * 1024)
#define GQL_HARD_MAX_DEPTH 512

/* A field left 0 takes its default; one above its hard maximum is cut to it. */
struct gql_limits {
    size_t max_bytes;
    size_t max_tokens;
    unsigned max_depth;
};

/* --- errors ------------------------------------------------------------------ */

/* Longest message, NUL included. Messages echo at most GQL_ECHO_MAX input
 * bytes, escaped (lib/str.h: str_echo_n). */
#define GQL_ERRMSG_MAX 256
#define GQL_ECHO_MAX 32

/*
 * The first error of a parse, in graphql-js's words:
 *     "Syntax Error: Expected Name, found <EOF>."
 * code is LK_EINVAL (the text breaks the grammar), LK_ERANGE (a limit
 * was passed) or LK_ENOMEM. line and column (from 1; columns count Unicode
 * characters, a tab as one) say where; both are 0 when the error has no
 * place (out of memory, or the document's size).
 */
struct gql_error {
    int code;
    uint32_t line, column;
    char message[GQL_ERRMSG_MAX];
};

/* --- the tree ----------------------------------------------------------------- */

/* Where a node is: line and column (from 1) of its first character, and
 * the byte offsets [start, end) of its text in the source. */
struct gql_loc {
    uint32_t line, column;
    uint32_t start, end;
};

/* A name, NUL-terminated; s is NULL when an optional name is absent. */
struct gql_name {
    const char *s;
    size_t len;
    struct gql_loc loc;
};

/* Bytes, NUL-terminated but possibly holding NUL bytes (a string value
 * with \u0000): len is the length. s is NULL when absent. */
struct gql_str {
    const char *s;
    size_t len;
};

enum gql_value_kind {
    GQL_VALUE_VARIABLE,
    GQL_VALUE_INT,
    GQL_VALUE_FLOAT,
    GQL_VALUE_STRING,
    GQL_VALUE_BOOLEAN,
    GQL_VALUE_NULL,
    GQL_VALUE_ENUM,
    GQL_VALUE_LIST,
    GQL_VALUE_OBJECT,
};

struct gql_value;
struct gql_argument;

/*
 * An input value. VARIABLE and ENUM: name (a variable's without its '$');
 * INT and FLOAT: str, the digits as written (for the executor to convert
 * and range-check); STRING: str, the value with escapes decoded and a
 * block string's indentation removed (block says which it was written
 * as); BOOLEAN: boolean; LIST: items; OBJECT: fields, in source order.
 */
struct gql_value {
    enum gql_value_kind kind;
    struct gql_loc loc;
    union {
        struct gql_name name;
        struct gql_str str;
        int boolean;
        struct {
            struct gql_value *items;
            size_t count;
        } list;
        struct {
            struct gql_argument *fields;
            size_t count;
        } object;
    };
    int block;
};

/* `name: value`: an argument, or a field of an object value. */
struct gql_argument {
    struct gql_name name;
    struct gql_value value;
    struct gql_loc loc;
};

/* `@name(args)` */
struct gql_directive {
    struct gql_name name;
    struct gql_argument *args;
    size_t nargs;
    struct gql_loc loc;
};

enum gql_type_kind { GQL_TYPE_NAMED, GQL_TYPE_LIST, GQL_TYPE_NON_NULL };

/* A type reference: NAMED has name; LIST and NON_NULL wrap of. */
struct gql_type {
    enum gql_type_kind kind;
    struct gql_name name;
    struct gql_type *of;
    struct gql_loc loc;
};

enum gql_selection_kind { GQL_SEL_FIELD, GQL_SEL_FRAGMENT_SPREAD, GQL_SEL_INLINE_FRAGMENT };

struct gql_selection;

/* `{ ... }`; count 0 when absent (a leaf field). */
struct gql_selection_set {
    struct gql_selection *items;
    size_t count;
    struct gql_loc loc;
};

/*
 * One selection. FIELD: alias (s NULL without one), name, args,
 * directives, selections (count 0 for a leaf). FRAGMENT_SPREAD: name (the
 * fragment's), directives. INLINE_FRAGMENT: type_condition (s NULL
 * without `on`), directives, selections.
 */
struct gql_selection {
    enum gql_selection_kind kind;
    struct gql_name alias;
    struct gql_name name;
    struct gql_name type_condition;
    struct gql_argument *args;
    size_t nargs;
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_selection_set selections;
    struct gql_loc loc;
};

enum gql_operation_type { GQL_OP_QUERY, GQL_OP_MUTATION, GQL_OP_SUBSCRIPTION };

/* `$name: Type = default @directives` */
struct gql_variable_def {
    struct gql_name name; /* without the '$' */
    struct gql_type *type;
    struct gql_value *default_value; /* NULL without one */
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_loc loc;
};

/* `Description? name(args): Type = default @directives`, for the arguments
 * of fields and directives and the fields of input types. */
struct gql_input_value_def {
    struct gql_str description;
    struct gql_name name;
    struct gql_type *type;
    struct gql_value *default_value; /* NULL without one */
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_loc loc;
};

/* A field of an object type or interface. */
struct gql_field_def {
    struct gql_str description;
    struct gql_name name;
    struct gql_input_value_def *args;
    size_t nargs;
    struct gql_type *type;
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_loc loc;
};

struct gql_enum_value_def {
    struct gql_str description;
    struct gql_name name;
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_loc loc;
};

/* `query: Query` inside a schema definition. */
struct gql_root_operation {
    enum gql_operation_type operation;
    struct gql_name type;
    struct gql_loc loc;
};

enum gql_definition_kind {
    GQL_DEF_OPERATION,
    GQL_DEF_FRAGMENT,
    GQL_DEF_SCHEMA,
    GQL_DEF_SCALAR,
    GQL_DEF_OBJECT,
    GQL_DEF_INTERFACE,
    GQL_DEF_UNION,
    GQL_DEF_ENUM,
    GQL_DEF_INPUT_OBJECT,
    GQL_DEF_DIRECTIVE,
};

/*
 * One definition; which members mean something depends on kind:
 *
 *   OPERATION     operation, name (s NULL: anonymous, shorthand `{...}`
 *                 included), variables, directives, selections
 *   FRAGMENT      name, type_condition, directives, selections
 *   SCHEMA        description, directives, root_operations
 *   SCALAR        description, name, directives
 *   OBJECT,       description, name, interfaces, directives, fields
 *   INTERFACE
 *   UNION         description, name, directives, members
 *   ENUM          description, name, directives, enum_values
 *   INPUT_OBJECT  description, name, directives, input_fields
 *   DIRECTIVE     description, name (without '@'), args, repeatable,
 *                 locations (each checked to be a DirectiveLocation)
 *
 * extension is 1 for `extend ...` (schema and the six type kinds); an
 * extension has no description.
 */
struct gql_definition {
    enum gql_definition_kind kind;
    int extension;
    struct gql_str description;
    struct gql_name name;
    enum gql_operation_type operation;
    struct gql_variable_def *variables;
    size_t nvariables;
    struct gql_name type_condition;
    struct gql_directive *directives;
    size_t ndirectives;
    struct gql_selection_set selections;
    struct gql_root_operation *root_operations;
    size_t nroot_operations;
    struct gql_name *interfaces;
    size_t ninterfaces;
    struct gql_field_def *fields;
    size_t nfields;
    struct gql_name *members;
    size_t nmembers;
    struct gql_enum_value_def *enum_values;
    size_t nenum_values;
    struct gql_input_value_def *input_fields;
    size_t ninput_fields;
    struct gql_input_value_def *args;
    size_t nargs;
    int repeatable;
    struct gql_name *locations;
    size_t nlocations;
    struct gql_loc loc;
};

struct arena;

/* A parsed document: its definitions in source order (at least one). */
struct gql_document {
    struct gql_definition *definitions;
    size_t count;
    size_t tokens;       /* lexical tokens read */
    struct arena *arena; /* owns the document and all it points to */
};

/* --- parsing and printing ------------------------------------------------------ */

/*
 * Parses src[0..len) (UTF-8, not NUL-terminated) into *ret, free with
 * gql_document_free. limits may be NULL (the defaults). 0 on success;
 * otherwise the code in err (see struct gql_error; err may be NULL) and
 * *ret untouched. The document keeps no pointer into src.
 */
int gql_parse(const char *src, size_t len, const struct gql_limits *limits, struct gql_document **ret,
              struct gql_error *err);

/* Frees doc and everything in it. NULL-safe. */
void gql_document_free(struct gql_document *doc);

/* "query", "mutation" or "subscription". */
const char *gql_operation_type_name(enum gql_operation_type t);

/* Longest text gql_print and its kin make; past it they answer LK_ERANGE. */
#define GQL_PRINT_MAX (64 * 1024 * 1024)

/*
 * doc as canonical GraphQL text: definitions separated by a blank line,
 * two-space indentation, one selection or field per line, every string
 * as a quoted string with the escapes it needs (so parsing the text gives
 * a document gql_document_equal to doc). *ret (malloc'd, NUL-terminated;
 * the caller frees it) and *ret_len (may be NULL). 0, LK_ENOMEM,
 * LK_ERANGE (longer than GQL_PRINT_MAX, or nested deeper than
 * GQL_HARD_MAX_DEPTH: a tree the parser never makes); *ret is untouched
 * on failure.
 */
int gql_print(const struct gql_document *doc, char **ret, size_t *ret_len);

/* One value (`{a: [1, "x"], b: $v}`) or type reference (`[Int!]!`) on one
 * line, as gql_print writes them; same ownership and errors. */
int gql_print_value(const struct gql_value *v, char **ret, size_t *ret_len);
int gql_print_type(const struct gql_type *t, char **ret, size_t *ret_len);

/*
 * 1 if a and b have the same meaning as syntax: the same kinds, names,
 * values and order throughout, locations and the block flag of strings
 * aside; else 0. Object fields compare in order (as graphql-js compares
 * printed arguments). NULL equals only NULL.
 */
int gql_value_equal(const struct gql_value *a, const struct gql_value *b);
int gql_document_equal(const struct gql_document *a, const struct gql_document *b);

#endif
