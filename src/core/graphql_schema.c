/*
 * graphql_schema.c - a schema from SDL text and its lookups
 * (graphql_schema.h).
 *
 * Two parsed documents make a schema: the built-ins below and the
 * server's SDL. Types and directives are indexed by name in arrays sorted
 * for binary search; a type's fields are searched in order (a type has
 * tens of them at most).
 */
#include "core/graphql_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

/* The specification's built-ins (October 2021, sections 3.5, 3.13 and
 * 4.2), with graphql-js's descriptions in our words, and the deprecation
 * arguments later editions add to introspection (includeDeprecated on
 * args and inputFields), which GraphiQL asks for. */
static const char builtin_sdl[] =
    "\"A signed 32-bit integer.\"\n"
    "scalar Int\n"
    "\"A double-precision floating-point number.\"\n"
    "scalar Float\n"
    "\"UTF-8 text.\"\n"
    "scalar String\n"
    "\"true or false.\"\n"
    "scalar Boolean\n"
    "\"A unique identifier, serialized as a string.\"\n"
    "scalar ID\n"
    "\"Includes this field or fragment only when `if` is true.\"\n"
    "directive @include(\"Included when true.\" if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\"Skips this field or fragment when `if` is true.\"\n"
    "directive @skip(\"Skipped when true.\" if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\"Marks an element of the schema as no longer supported.\"\n"
    "directive @deprecated(\"Why, and what to use instead.\" reason: String = \"No longer supported\") "
    "on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE\n"
    "\"Where a custom scalar's behaviour is specified.\"\n"
    "directive @specifiedBy(\"The specification's URL.\" url: String!) on SCALAR\n"
    "type __Schema {\n"
    "  description: String\n"
    "  types: [__Type!]!\n"
    "  queryType: __Type!\n"
    "  mutationType: __Type\n"
    "  subscriptionType: __Type\n"
    "  directives: [__Directive!]!\n"
    "}\n"
    "type __Type {\n"
    "  kind: __TypeKind!\n"
    "  name: String\n"
    "  description: String\n"
    "  specifiedByURL: String\n"
    "  fields(includeDeprecated: Boolean = false): [__Field!]\n"
    "  interfaces: [__Type!]\n"
    "  possibleTypes: [__Type!]\n"
    "  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]\n"
    "  inputFields(includeDeprecated: Boolean = false): [__InputValue!]\n"
    "  ofType: __Type\n"
    "}\n"
    "enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }\n"
    "type __Field {\n"
    "  name: String!\n"
    "  description: String\n"
    "  args(includeDeprecated: Boolean = false): [__InputValue!]!\n"
    "  type: __Type!\n"
    "  isDeprecated: Boolean!\n"
    "  deprecationReason: String\n"
    "}\n"
    "type __InputValue {\n"
    "  name: String!\n"
    "  description: String\n"
    "  type: __Type!\n"
    "  defaultValue: String\n"
    "  isDeprecated: Boolean!\n"
    "  deprecationReason: String\n"
    "}\n"
    "type __EnumValue {\n"
    "  name: String!\n"
    "  description: String\n"
    "  isDeprecated: Boolean!\n"
    "  deprecationReason: String\n"
    "}\n"
    "type __Directive {\n"
    "  name: String!\n"
    "  description: String\n"
    "  isRepeatable: Boolean!\n"
    "  locations: [__DirectiveLocation!]!\n"
    "  args(includeDeprecated: Boolean = false): [__InputValue!]!\n"
    "}\n"
    "enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD\n"
    "  INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE\n"
    "  UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }\n"
    /* The meta-fields, as fields of a type no one can name. */
    "type __Meta {\n"
    "  \"The name of the current object type.\"\n"
    "  __typename: String!\n"
    "  \"The schema: its types, directives and roots.\"\n"
    "  __schema: __Schema!\n"
    "  \"The type named name, or null.\"\n"
    "  __type(name: String!): __Type\n"
    "}\n";

/* SDL is trusted input: the server's own file. */
#define SCHEMA_MAX_BYTES (4 * 1024 * 1024)
#define SCHEMA_MAX_TOKENS (1024 * 1024)
#define SCHEMA_MAX_DEPTH 64

struct named {
    const char *name;
    const struct gql_definition *def;
};

struct gql_schema {
    struct gql_document *builtins;
    struct gql_document *user;
    struct gql_str description;
    const struct gql_definition **types; /* user order, then built-ins */
    size_t ntypes;
    struct named *types_by_name; /* sorted */
    const struct gql_definition **directives;
    size_t ndirectives;
    struct named *directives_by_name; /* sorted */
    const struct gql_definition *roots[3];
    const struct gql_definition *meta; /* __Meta */
};

static int fail(struct gql_error *err, int code, const struct gql_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct gql_error *err, int code, const struct gql_loc *loc, const char *fmt, ...) {
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        err->code = code;
        err->line = loc ? loc->line : 0;
        err->column = loc ? loc->column : 0;
    }
    return code;
}

static int is_type_def(enum gql_definition_kind k) {
    return k == GQL_DEF_SCALAR || k == GQL_DEF_OBJECT || k == GQL_DEF_INTERFACE || k == GQL_DEF_UNION ||
           k == GQL_DEF_ENUM || k == GQL_DEF_INPUT_OBJECT;
}

static int named_cmp(const void *a, const void *b) {
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static const struct gql_definition *lookup(const struct named *v, size_t n, const char *name, size_t len) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(v[mid].name, name, len);
        if (c == 0 && v[mid].name[len] != '\0')
            c = 1;
        if (c == 0)
            return v[mid].def;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int gql_type_is_input(const struct gql_definition *t) {
    return t != NULL && (t->kind == GQL_DEF_SCALAR || t->kind == GQL_DEF_ENUM || t->kind == GQL_DEF_INPUT_OBJECT);
}

int gql_type_is_output(const struct gql_definition *t) {
    return t != NULL && is_type_def(t->kind) && t->kind != GQL_DEF_INPUT_OBJECT;
}

int gql_type_is_leaf(const struct gql_definition *t) {
    return t != NULL && (t->kind == GQL_DEF_SCALAR || t->kind == GQL_DEF_ENUM);
}

int gql_type_is_composite(const struct gql_definition *t) {
    return t != NULL && (t->kind == GQL_DEF_OBJECT || t->kind == GQL_DEF_INTERFACE || t->kind == GQL_DEF_UNION);
}

int gql_type_is_abstract(const struct gql_definition *t) {
    return t != NULL && (t->kind == GQL_DEF_INTERFACE || t->kind == GQL_DEF_UNION);
}

const struct gql_definition *gql_schema_type(const struct gql_schema *s, const char *name, size_t len) {
    return lookup(s->types_by_name, s->ntypes, name, len);
}

const struct gql_definition *gql_schema_named(const struct gql_schema *s, const struct gql_type *t) {
    while (t != NULL && t->kind != GQL_TYPE_NAMED)
        t = t->of;
    return t == NULL ? NULL : gql_schema_type(s, t->name.s, t->name.len);
}

const struct gql_definition *gql_schema_root(const struct gql_schema *s, enum gql_operation_type op) {
    return (unsigned)op < 3 ? s->roots[op] : NULL;
}

struct gql_str gql_schema_description(const struct gql_schema *s) {
    return s->description;
}

size_t gql_schema_types(const struct gql_schema *s, const struct gql_definition *const **ret) {
    *ret = s->types;
    return s->ntypes;
}

const struct gql_definition *gql_schema_directive(const struct gql_schema *s, const char *name, size_t len) {
    return lookup(s->directives_by_name, s->ndirectives, name, len);
}

size_t gql_schema_directives(const struct gql_schema *s, const struct gql_definition *const **ret) {
    *ret = s->directives;
    return s->ndirectives;
}

static const struct gql_field_def *field_in(const struct gql_definition *t, const char *name, size_t len) {
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].name.len == len && memcmp(t->fields[i].name.s, name, len) == 0)
            return &t->fields[i];
    return NULL;
}

const struct gql_field_def *gql_schema_field(const struct gql_schema *s, const struct gql_definition *t,
                                             const char *name, size_t len, int meta) {
    if (t == NULL)
        return NULL;
    if (meta && len > 2 && name[0] == '_' && name[1] == '_') {
        if (len == 10 && memcmp(name, "__typename", 10) == 0)
            return gql_type_is_composite(t) ? field_in(s->meta, name, len) : NULL;
        if (t == s->roots[GQL_OP_QUERY] &&
            ((len == 8 && memcmp(name, "__schema", 8) == 0) || (len == 6 && memcmp(name, "__type", 6) == 0)))
            return field_in(s->meta, name, len);
    }
    if (t->kind != GQL_DEF_OBJECT && t->kind != GQL_DEF_INTERFACE)
        return NULL;
    return field_in(t, name, len);
}

const struct gql_input_value_def *gql_schema_input_value(const struct gql_input_value_def *defs, size_t n,
                                                         const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (defs[i].name.len == len && memcmp(defs[i].name.s, name, len) == 0)
            return &defs[i];
    return NULL;
}

const struct gql_enum_value_def *gql_schema_enum_value(const struct gql_definition *t, const char *name, size_t len) {
    if (t == NULL || t->kind != GQL_DEF_ENUM)
        return NULL;
    for (size_t i = 0; i < t->nenum_values; i++)
        if (t->enum_values[i].name.len == len && memcmp(t->enum_values[i].name.s, name, len) == 0)
            return &t->enum_values[i];
    return NULL;
}

static int names_have(const struct gql_name *v, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].s, name) == 0)
            return 1;
    return 0;
}

int gql_schema_possible(const struct gql_schema *s, const struct gql_definition *t, const struct gql_definition *obj) {
    (void)s;
    if (t == NULL || obj == NULL || obj->kind != GQL_DEF_OBJECT)
        return 0;
    if (t == obj)
        return 1;
    if (t->kind == GQL_DEF_INTERFACE)
        return names_have(obj->interfaces, obj->ninterfaces, t->name.s);
    if (t->kind == GQL_DEF_UNION)
        return names_have(t->members, t->nmembers, obj->name.s);
    return 0;
}

size_t gql_schema_possible_types(const struct gql_schema *s, const struct gql_definition *t,
                                 const struct gql_definition **out, size_t max) {
    size_t n = 0;
    if (t == NULL)
        return 0;
    if (t->kind == GQL_DEF_OBJECT) {
        if (max > 0)
            out[0] = t;
        return 1;
    }
    if (!gql_type_is_abstract(t))
        return 0;
    for (size_t i = 0; i < s->ntypes; i++)
        if (gql_schema_possible(s, t, s->types[i])) {
            if (n < max)
                out[n] = s->types[i];
            n++;
        }
    return n;
}

const char *gql_deprecation_reason(const struct gql_directive *dirs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(dirs[i].name.s, "deprecated") != 0)
            continue;
        for (size_t j = 0; j < dirs[i].nargs; j++)
            if (strcmp(dirs[i].args[j].name.s, "reason") == 0 && dirs[i].args[j].value.kind == GQL_VALUE_STRING)
                return dirs[i].args[j].value.str.s;
        return "No longer supported";
    }
    return NULL;
}

int gql_type_equal(const struct gql_type *a, const struct gql_type *b) {
    while (a != NULL && b != NULL) {
        if (a->kind != b->kind)
            return 0;
        if (a->kind == GQL_TYPE_NAMED)
            return a->name.len == b->name.len && memcmp(a->name.s, b->name.s, a->name.len) == 0;
        a = a->of;
        b = b->of;
    }
    return a == b;
}

/* --- building ------------------------------------------------------------------ */

static int check_type_ref(const struct gql_schema *s, const struct gql_type *t, int want_input, const char *where,
                          struct gql_error *err) {
    const struct gql_definition *d = gql_schema_named(s, t);
    const struct gql_type *n = t;
    while (n->kind != GQL_TYPE_NAMED)
        n = n->of;
    if (d == NULL)
        return fail(err, LK_EINVAL, &n->loc, "Unknown type \"%s\" in %s.", n->name.s, where);
    if (want_input ? !gql_type_is_input(d) : !gql_type_is_output(d))
        return fail(err, LK_EINVAL, &n->loc, "The type of %s must be an %s type, not \"%s\".", where,
                    want_input ? "input" : "output", n->name.s);
    return 0;
}

static int check_args(const struct gql_schema *s, const struct gql_input_value_def *args, size_t n, const char *owner,
                      struct gql_error *err) {
    char where[GQL_ERRMSG_MAX / 2];
    for (size_t i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "%s(%s:)", owner, args[i].name.s);
        for (size_t j = 0; j < i; j++)
            if (strcmp(args[i].name.s, args[j].name.s) == 0)
                return fail(err, LK_EINVAL, &args[i].loc, "%s is defined twice.", where);
        int r = check_type_ref(s, args[i].type, 1, where, err);
        if (r != 0)
            return r;
    }
    return 0;
}

/* An implementer's field type is the interface's or a subtype of it. */
static int field_type_fits(const struct gql_schema *s, const struct gql_type *impl, const struct gql_type *want) {
    if (want->kind == GQL_TYPE_NON_NULL) {
        if (impl->kind != GQL_TYPE_NON_NULL)
            return 0;
        return field_type_fits(s, impl->of, want->of);
    }
    if (impl->kind == GQL_TYPE_NON_NULL)
        return field_type_fits(s, impl->of, want);
    if (want->kind == GQL_TYPE_LIST)
        return impl->kind == GQL_TYPE_LIST && field_type_fits(s, impl->of, want->of);
    if (impl->kind == GQL_TYPE_LIST)
        return 0;
    const struct gql_definition *a = gql_schema_named(s, impl), *b = gql_schema_named(s, want);
    return a == b || gql_schema_possible(s, b, a) ||
           (a && b && a->kind == GQL_DEF_INTERFACE && names_have(a->interfaces, a->ninterfaces, b->name.s));
}

static int check_type(const struct gql_schema *s, const struct gql_definition *d, struct gql_error *err) {
    char where[GQL_ERRMSG_MAX / 2];
    int r;
    if (d->kind == GQL_DEF_OBJECT || d->kind == GQL_DEF_INTERFACE) {
        if (d->nfields == 0)
            return fail(err, LK_EINVAL, &d->loc, "Type %s must define one or more fields.", d->name.s);
        for (size_t i = 0; i < d->nfields; i++) {
            const struct gql_field_def *f = &d->fields[i];
            snprintf(where, sizeof(where), "%s.%s", d->name.s, f->name.s);
            for (size_t j = 0; j < i; j++)
                if (strcmp(f->name.s, d->fields[j].name.s) == 0)
                    return fail(err, LK_EINVAL, &f->loc, "Field %s is defined twice.", where);
            if ((r = check_type_ref(s, f->type, 0, where, err)) != 0 ||
                (r = check_args(s, f->args, f->nargs, where, err)) != 0)
                return r;
        }
        for (size_t i = 0; i < d->ninterfaces; i++) {
            const struct gql_definition *in = gql_schema_type(s, d->interfaces[i].s, d->interfaces[i].len);
            if (in == NULL || in->kind != GQL_DEF_INTERFACE)
                return fail(err, LK_EINVAL, &d->interfaces[i].loc,
                            "Type %s can only implement an interface; %s is not one.", d->name.s, d->interfaces[i].s);
            for (size_t j = 0; j < in->nfields; j++) {
                const struct gql_field_def *want = &in->fields[j];
                const struct gql_field_def *have = field_in(d, want->name.s, want->name.len);
                if (have == NULL || !field_type_fits(s, have->type, want->type))
                    return fail(err, LK_EINVAL, &d->loc, "Interface field %s.%s is missing or of another type in %s.",
                                in->name.s, want->name.s, d->name.s);
            }
        }
    } else if (d->kind == GQL_DEF_UNION) {
        if (d->nmembers == 0)
            return fail(err, LK_EINVAL, &d->loc, "Union %s must have one or more member types.", d->name.s);
        for (size_t i = 0; i < d->nmembers; i++) {
            const struct gql_definition *m = gql_schema_type(s, d->members[i].s, d->members[i].len);
            if (m == NULL || m->kind != GQL_DEF_OBJECT)
                return fail(err, LK_EINVAL, &d->members[i].loc,
                            "Union %s can only include object types; %s is not one.", d->name.s, d->members[i].s);
        }
    } else if (d->kind == GQL_DEF_ENUM) {
        if (d->nenum_values == 0)
            return fail(err, LK_EINVAL, &d->loc, "Enum %s must define one or more values.", d->name.s);
        for (size_t i = 0; i < d->nenum_values; i++) {
            const char *v = d->enum_values[i].name.s;
            if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "null") == 0)
                return fail(err, LK_EINVAL, &d->enum_values[i].loc, "Enum %s cannot include value: %s.", d->name.s, v);
            for (size_t j = 0; j < i; j++)
                if (strcmp(v, d->enum_values[j].name.s) == 0)
                    return fail(err, LK_EINVAL, &d->enum_values[i].loc, "Enum value %s.%s is defined twice.", d->name.s,
                                v);
        }
    } else if (d->kind == GQL_DEF_INPUT_OBJECT) {
        if (d->ninput_fields == 0)
            return fail(err, LK_EINVAL, &d->loc, "Input object %s must define one or more fields.", d->name.s);
        if ((r = check_args(s, d->input_fields, d->ninput_fields, d->name.s, err)) != 0)
            return r;
    }
    return 0;
}

/* Adds doc's types and directives to s's lists; user says names may not
 * start with "__". */
static int collect(struct gql_schema *s, const struct gql_document *doc, int user, struct gql_error *err) {
    for (size_t i = 0; i < doc->count; i++) {
        const struct gql_definition *d = &doc->definitions[i];
        if (d->extension)
            return fail(err, LK_EINVAL, &d->loc, "Type extensions are not supported in the server's schema.");
        if (d->kind == GQL_DEF_OPERATION || d->kind == GQL_DEF_FRAGMENT)
            return fail(err, LK_EINVAL, &d->loc, "A schema holds type-system definitions only.");
        if (d->kind == GQL_DEF_SCHEMA) {
            if (s->description.s != NULL || s->roots[0] != NULL)
                return fail(err, LK_EINVAL, &d->loc, "Must provide only one schema definition.");
            s->description = d->description;
            continue;
        }
        if (user && d->name.len >= 2 && d->name.s[0] == '_' && d->name.s[1] == '_')
            return fail(err, LK_EINVAL, &d->name.loc, "Name \"%s\" must not begin with \"__\", which is reserved.",
                        d->name.s);
        if (d->kind == GQL_DEF_DIRECTIVE)
            s->directives[s->ndirectives++] = d;
        else if (!(d->name.len == 6 && strcmp(d->name.s, "__Meta") == 0))
            s->types[s->ntypes++] = d;
        else
            s->meta = d;
    }
    return 0;
}

static int index_names(const struct gql_definition **defs, size_t n, struct named **ret, const char *what,
                       struct gql_error *err) {
    struct named *v = calloc(n ? n : 1, sizeof(*v));
    if (v == NULL)
        return fail(err, LK_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        v[i].name = defs[i]->name.s;
        v[i].def = defs[i];
    }
    qsort(v, n, sizeof(*v), named_cmp);
    *ret = v;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i].name, v[i - 1].name) == 0)
            return fail(err, LK_EINVAL, &v[i].def->name.loc, "There can be only one %s named \"%s\".", what, v[i].name);
    return 0;
}

static int set_roots(struct gql_schema *s, struct gql_error *err) {
    static const char *const names[3] = {"Query", "Mutation", "Subscription"};
    const struct gql_definition *schema_def = NULL;
    for (size_t i = 0; i < s->user->count; i++)
        if (s->user->definitions[i].kind == GQL_DEF_SCHEMA)
            schema_def = &s->user->definitions[i];
    if (schema_def != NULL) {
        for (size_t i = 0; i < schema_def->nroot_operations; i++) {
            const struct gql_root_operation *ro = &schema_def->root_operations[i];
            const struct gql_definition *t = gql_schema_type(s, ro->type.s, ro->type.len);
            if (s->roots[ro->operation] != NULL)
                return fail(err, LK_EINVAL, &ro->loc, "There can be only one %s type in schema.",
                            gql_operation_type_name(ro->operation));
            if (t == NULL || t->kind != GQL_DEF_OBJECT)
                return fail(err, LK_EINVAL, &ro->loc, "The %s root type %s must be a defined object type.",
                            gql_operation_type_name(ro->operation), ro->type.s);
            s->roots[ro->operation] = t;
        }
    } else {
        for (int op = 0; op < 3; op++) {
            const struct gql_definition *t = gql_schema_type(s, names[op], strlen(names[op]));
            if (t != NULL && t->kind == GQL_DEF_OBJECT)
                s->roots[op] = t;
        }
    }
    if (s->roots[GQL_OP_QUERY] == NULL)
        return fail(err, LK_EINVAL, NULL, "Query root type must be provided.");
    return 0;
}

int gql_schema_build(const char *sdl, size_t len, struct gql_schema **ret, struct gql_error *err) {
    static const struct gql_limits lim = {SCHEMA_MAX_BYTES, SCHEMA_MAX_TOKENS, SCHEMA_MAX_DEPTH};
    struct gql_schema *s = calloc(1, sizeof(*s));
    int r;
    if (s == NULL)
        return fail(err, LK_ENOMEM, NULL, "out of memory");
    if ((r = gql_parse(builtin_sdl, sizeof(builtin_sdl) - 1, &lim, &s->builtins, err)) != 0 ||
        (r = gql_parse(sdl, len, &lim, &s->user, err)) != 0)
        goto out;
    size_t cap = s->builtins->count + s->user->count;
    s->types = calloc(cap, sizeof(*s->types));
    s->directives = calloc(cap, sizeof(*s->directives));
    if (s->types == NULL || s->directives == NULL) {
        r = fail(err, LK_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if ((r = collect(s, s->user, 1, err)) != 0 || (r = collect(s, s->builtins, 0, err)) != 0 ||
        (r = index_names(s->types, s->ntypes, &s->types_by_name, "type", err)) != 0 ||
        (r = index_names(s->directives, s->ndirectives, &s->directives_by_name, "directive", err)) != 0 ||
        (r = set_roots(s, err)) != 0)
        goto out;
    for (size_t i = 0; i < s->ntypes; i++)
        if ((r = check_type(s, s->types[i], err)) != 0)
            goto out;
    for (size_t i = 0; i < s->ndirectives; i++) {
        char where[GQL_ERRMSG_MAX / 2];
        snprintf(where, sizeof(where), "@%s", s->directives[i]->name.s);
        if ((r = check_args(s, s->directives[i]->args, s->directives[i]->nargs, where, err)) != 0)
            goto out;
    }
    *ret = s;
    return 0;
out:
    gql_schema_free(s);
    return r;
}

void gql_schema_free(struct gql_schema *s) {
    if (s == NULL)
        return;
    gql_document_free(s->builtins);
    gql_document_free(s->user);
    free(s->types);
    free(s->types_by_name);
    free(s->directives);
    free(s->directives_by_name);
    free(s);
}
