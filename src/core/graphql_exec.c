/*
 * graphql_exec.c - executing a validated request (graphql_exec.h).
 *
 * The specification's algorithms, section 6, one function each where it
 * has one: CoerceVariableValues (coerce_variables), CollectFields
 * (collect_fields), ExecuteSelectionSet (execute_set), ExecuteField
 * (execute_field), CoerceArgumentValues (coerce_args), CompleteValue
 * (complete). Introspection (section 4) resolves from the schema:
 * its objects are small JSON values that carry a pointer into the schema
 * ({"k": kind, "p": pointer}), never leave the process, and are read only
 * by intro_resolve.
 *
 * Null propagation: a completion answers 0 with a value, or -1 when its
 * position must be null because of an error already recorded (a non-null
 * position that got null, or a value that did not fit its type); each
 * nullable position turns -1 into null, so the error travels up to the
 * nearest nullable field, as section 6.4.4 says.
 */
#include "core/graphql_exec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

/* One step of a response path, on the C stack. */
struct path {
    const struct path *prev;
    const char *key; /* a response key, or NULL for an index */
    size_t index;
};

struct exec {
    const struct gql_exec_in *in;
    const struct gql_schema *s;
    json_t *vars;    /* coerced variables; NULL when the operation has none */
    json_t *errors;  /* field errors, in the order raised */
    json_t *no_args; /* the arguments of every field that has none: one empty object */
};

/* --- errors ------------------------------------------------------------------- */

json_t *gql_error_json(const char *message, const struct gql_loc *loc) {
    json_t *e = json_object();
    json_object_set_new(e, "message", json_string(message));
    if (loc != NULL && loc->line > 0)
        json_object_set_new(e, "locations",
                            json_pack("[{s:i, s:i}]", "line", (int)loc->line, "column", (int)loc->column));
    return e;
}

static json_t *path_json(const struct path *p) {
    json_t *a = json_array();
    for (; p != NULL; p = p->prev)
        json_array_insert_new(a, 0, p->key ? json_string(p->key) : json_integer((json_int_t)p->index));
    return a;
}

/* Records a field error at path p for the field node at loc. */
static void field_error(struct exec *x, const struct gql_loc *loc, const struct path *p, const char *msg,
                        json_t *extensions) {
    json_t *e = gql_error_json(msg, loc);
    json_object_set_new(e, "path", path_json(p));
    if (extensions != NULL)
        json_object_set_new(e, "extensions", extensions);
    json_array_append_new(x->errors, e);
}

/* --- collecting fields --------------------------------------------------------- */

/* The fields of one response key, in document order; most have one,
 * held inline. */
struct group {
    const char *key;
    const struct gql_selection **fields;
    size_t n, cap;
    const struct gql_selection *one[1];
};

/* A selection set's groups; the first GROUPS_INLINE held inline. */
#define GROUPS_INLINE 8
struct groups {
    struct group *v;
    size_t n, cap;
    struct group inline_v[GROUPS_INLINE];
};

static void groups_free(struct groups *g) {
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].fields != g->v[i].one)
            free(g->v[i].fields);
    if (g->v != g->inline_v)
        free(g->v);
}

static int groups_add(struct groups *g, const struct gql_selection *f) {
    const char *key = f->alias.s ? f->alias.s : f->name.s;
    struct group *grp = NULL;
    for (size_t i = 0; i < g->n && grp == NULL; i++)
        if (strcmp(g->v[i].key, key) == 0)
            grp = &g->v[i];
    if (grp == NULL) {
        if (g->v == NULL) {
            g->v = g->inline_v;
            g->cap = GROUPS_INLINE;
        }
        if (g->n == g->cap) {
            size_t cap = g->cap * 2;
            struct group *v = g->v == g->inline_v ? malloc(cap * sizeof(*v)) : realloc(g->v, cap * sizeof(*v));
            if (v == NULL)
                return LK_ENOMEM;
            if (g->v == g->inline_v)
                memcpy(v, g->inline_v, sizeof(g->inline_v));
            /* A group whose one field is inline must point into its new place. */
            for (size_t i = 0; i < g->n; i++)
                if (v[i].cap == 1)
                    v[i].fields = v[i].one;
            g->v = v;
            g->cap = cap;
        }
        grp = &g->v[g->n++];
        memset(grp, 0, sizeof(*grp));
        grp->key = key;
        grp->fields = grp->one;
        grp->cap = 1;
    }
    if (grp->n == grp->cap) {
        size_t cap = grp->cap * 2;
        const struct gql_selection **v =
            grp->fields == grp->one ? malloc(cap * sizeof(*v)) : realloc(grp->fields, cap * sizeof(*v));
        if (v == NULL)
            return LK_ENOMEM;
        if (grp->fields == grp->one)
            v[0] = grp->one[0];
        grp->fields = v;
        grp->cap = cap;
    }
    grp->fields[grp->n++] = f;
    return 0;
}

static json_t *value_from_ast(struct exec *x, const struct gql_value *v);

/* @skip(if:) and @include(if:): 1 when the selection is left out. */
static int skipped(struct exec *x, const struct gql_directive *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int skip = strcmp(d[i].name.s, "skip") == 0;
        if (!skip && strcmp(d[i].name.s, "include") != 0)
            continue;
        for (size_t j = 0; j < d[i].nargs; j++) {
            if (strcmp(d[i].args[j].name.s, "if") != 0)
                continue;
            json_t *b = value_from_ast(x, &d[i].args[j].value);
            int yes = json_is_true(b);
            json_decref(b);
            if (skip == yes)
                return 1;
        }
    }
    return 0;
}

static const struct gql_definition *fragment_named(const struct gql_document *doc, const char *name) {
    for (size_t i = 0; i < doc->count; i++)
        if (doc->definitions[i].kind == GQL_DEF_FRAGMENT && strcmp(doc->definitions[i].name.s, name) == 0)
            return &doc->definitions[i];
    return NULL;
}

struct visited {
    const char **names;
    size_t n, cap;
};

static int visited_add(struct visited *v, const char *name) {
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0)
            return 1;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        const char **p = realloc(v->names, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        v->names = p;
        v->cap = cap;
    }
    v->names[v->n++] = name;
    return 0;
}

static int type_applies(struct exec *x, const struct gql_definition *obj, const struct gql_name *cond) {
    if (cond->s == NULL)
        return 1;
    const struct gql_definition *t = gql_schema_type(x->s, cond->s, cond->len);
    return gql_schema_possible(x->s, t, obj);
}

static int collect_fields(struct exec *x, const struct gql_definition *obj, const struct gql_selection_set *ss,
                          struct groups *g, struct visited *seen) {
    for (size_t i = 0; i < ss->count; i++) {
        const struct gql_selection *sel = &ss->items[i];
        if (skipped(x, sel->directives, sel->ndirectives))
            continue;
        int r = 0;
        if (sel->kind == GQL_SEL_FIELD) {
            r = groups_add(g, sel);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            if (type_applies(x, obj, &sel->type_condition))
                r = collect_fields(x, obj, &sel->selections, g, seen);
        } else {
            int dup = visited_add(seen, sel->name.s);
            if (dup < 0)
                return LK_ENOMEM;
            const struct gql_definition *f = dup ? NULL : fragment_named(x->in->doc, sel->name.s);
            if (f != NULL && type_applies(x, obj, &f->type_condition))
                r = collect_fields(x, obj, &f->selections, g, seen);
        }
        if (r != 0)
            return r;
    }
    return 0;
}

/* --- input values ---------------------------------------------------------------- */

/* A literal (validated) as JSON, variables replaced by their values (an
 * unset variable: NULL, which callers read as absent). Int and Float come
 * from the digits as written; the validator has range-checked them. */
static json_t *value_from_ast(struct exec *x, const struct gql_value *v) {
    switch (v->kind) {
    case GQL_VALUE_VARIABLE: {
        json_t *val = x->vars ? json_object_get(x->vars, v->name.s) : NULL;
        return val ? json_incref(val) : NULL;
    }
    case GQL_VALUE_INT: return json_integer((json_int_t)strtoll(v->str.s, NULL, 10));
    case GQL_VALUE_FLOAT: return json_real(strtod(v->str.s, NULL));
    case GQL_VALUE_STRING: return json_stringn_nocheck(v->str.s, v->str.len);
    case GQL_VALUE_BOOLEAN: return json_boolean(v->boolean);
    case GQL_VALUE_NULL: return json_null();
    case GQL_VALUE_ENUM: return json_string(v->name.s);
    case GQL_VALUE_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->list.count; i++) {
            json_t *item = value_from_ast(x, &v->list.items[i]);
            json_array_append_new(a, item ? item : json_null());
        }
        return a;
    }
    case GQL_VALUE_OBJECT: {
        json_t *o = json_object();
        for (size_t i = 0; i < v->object.count; i++) {
            json_t *item = value_from_ast(x, &v->object.fields[i].value);
            if (item != NULL)
                json_object_set_new(o, v->object.fields[i].name.s, item);
        }
        return o;
    }
    }
    return NULL;
}

/* Int's range: 32-bit signed (section 3.5.1). */
static int int32_of(json_t *v, json_int_t *ret) {
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        /* In range first (NaN fails it), so the cast is defined. */
        if (!(d >= INT32_MIN && d <= INT32_MAX) || d != (double)(int32_t)d)
            return -1;
        *ret = (json_int_t)d;
    } else {
        return -1;
    }
    return *ret >= INT32_MIN && *ret <= INT32_MAX ? 0 : -1;
}

/* A short, safe rendering of a JSON value for messages. */
static void value_echo(json_t *v, char *buf, size_t cap) {
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s == NULL) {
        snprintf(buf, cap, "(a value)");
        return;
    }
    if (strlen(s) > 40)
        snprintf(buf, cap, "%.37s...", s);
    else
        snprintf(buf, cap, "%s", s);
    free(s);
}

/*
 * Input coercion of a variable's JSON value v to type t (section 3.5 and
 * 3.10's input coercion): 0 with *ret (new reference), or -1 with msg.
 * where names the variable and the place inside it, for the message.
 */
static int coerce_input(struct exec *x, const struct gql_type *t, json_t *v, const char *where, json_t **ret,
                        char *msg) {
    char echo[64];
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (v == NULL || json_is_null(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: expected a non-null value.", where);
            return -1;
        }
        return coerce_input(x, t->of, v, where, ret, msg);
    }
    if (v == NULL || json_is_null(v)) {
        *ret = json_null();
        return 0;
    }
    if (t->kind == GQL_TYPE_LIST) {
        json_t *out = json_array();
        if (!json_is_array(v)) {
            json_t *one;
            if (coerce_input(x, t->of, v, where, &one, msg) != 0) {
                json_decref(out);
                return -1;
            }
            json_array_append_new(out, one);
        } else {
            for (size_t i = 0; i < json_array_size(v); i++) {
                char w[GQL_ERRMSG_MAX / 2];
                json_t *one;
                snprintf(w, sizeof(w), "%s[%zu]", where, i);
                if (coerce_input(x, t->of, json_array_get(v, i), w, &one, msg) != 0) {
                    json_decref(out);
                    return -1;
                }
                json_array_append_new(out, one);
            }
        }
        *ret = out;
        return 0;
    }
    const struct gql_definition *d = gql_schema_named(x->s, t);
    value_echo(v, echo, sizeof(echo));
    if (d->kind == GQL_DEF_ENUM) {
        if (!json_is_string(v) || gql_schema_enum_value(d, json_string_value(v), json_string_length(v)) == NULL) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: Value %s does not exist in \"%s\" enum.", where, echo, d->name.s);
            return -1;
        }
        *ret = json_incref(v);
        return 0;
    }
    if (d->kind == GQL_DEF_INPUT_OBJECT) {
        if (!json_is_object(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: Expected type \"%s\" to be an object.", where, d->name.s);
            return -1;
        }
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            if (gql_schema_input_value(d->input_fields, d->ninput_fields, key, strlen(key)) == NULL) {
                char k[40];
                snprintf(k, sizeof(k), "%.36s", key);
                snprintf(msg, GQL_ERRMSG_MAX, "%s: Field \"%s\" is not defined by type \"%s\".", where, k, d->name.s);
                return -1;
            }
        }
        json_t *out = json_object();
        for (size_t i = 0; i < d->ninput_fields; i++) {
            const struct gql_input_value_def *f = &d->input_fields[i];
            json_t *fv = json_object_get(v, f->name.s), *one;
            char w[GQL_ERRMSG_MAX / 2];
            snprintf(w, sizeof(w), "%s.%s", where, f->name.s);
            if (fv == NULL) {
                if (f->default_value != NULL) {
                    json_object_set_new(out, f->name.s, value_from_ast(x, f->default_value));
                } else if (f->type->kind == GQL_TYPE_NON_NULL) {
                    snprintf(msg, GQL_ERRMSG_MAX, "%s: Field \"%s\" of required type is not provided.", where,
                             f->name.s);
                    json_decref(out);
                    return -1;
                }
                continue;
            }
            if (coerce_input(x, f->type, fv, w, &one, msg) != 0) {
                json_decref(out);
                return -1;
            }
            json_object_set_new(out, f->name.s, one);
        }
        *ret = out;
        return 0;
    }
    /* Scalars. */
    const char *n = d->name.s;
    json_int_t i;
    if (strcmp(n, "Int") == 0) {
        if (int32_of(v, &i) != 0) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: Int cannot represent %s.", where, echo);
            return -1;
        }
        *ret = json_integer(i);
    } else if (strcmp(n, "Float") == 0) {
        if (!json_is_number(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: Float cannot represent %s.", where, echo);
            return -1;
        }
        *ret = json_real(json_number_value(v));
    } else if (strcmp(n, "String") == 0) {
        if (!json_is_string(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: String cannot represent a non string value: %s", where, echo);
            return -1;
        }
        *ret = json_incref(v);
    } else if (strcmp(n, "Boolean") == 0) {
        if (!json_is_boolean(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: Boolean cannot represent a non boolean value: %s", where, echo);
            return -1;
        }
        *ret = json_incref(v);
    } else if (strcmp(n, "ID") == 0) {
        if (json_is_integer(v)) {
            char b[32];
            snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            *ret = json_string(b);
        } else if (json_is_string(v)) {
            *ret = json_incref(v);
        } else {
            snprintf(msg, GQL_ERRMSG_MAX, "%s: ID cannot represent %s.", where, echo);
            return -1;
        }
    } else {
        /* A custom scalar: the resolver (and the svc call behind it) reads it. */
        *ret = json_incref(v);
    }
    return 0;
}

/* CoerceVariableValues: x->vars from the request's variables. */
static int coerce_variables(struct exec *x, const struct gql_definition *op, json_t **err) {
    json_t *given = x->in->variables;
    if (op->nvariables == 0)
        return 0; /* x->vars stays NULL: no variable can be used */
    x->vars = json_object();
    for (size_t i = 0; i < op->nvariables; i++) {
        const struct gql_variable_def *vd = &op->variables[i];
        json_t *v = given ? json_object_get(given, vd->name.s) : NULL;
        char msg[GQL_ERRMSG_MAX], where[GQL_ERRMSG_MAX / 2];
        snprintf(where, sizeof(where), "Variable \"$%s\"", vd->name.s);
        if (v == NULL) {
            if (vd->default_value != NULL) {
                json_object_set_new(x->vars, vd->name.s, value_from_ast(x, vd->default_value));
                continue;
            }
            if (vd->type->kind == GQL_TYPE_NON_NULL) {
                char *tn = NULL;
                gql_print_type(vd->type, &tn, NULL);
                snprintf(msg, GQL_ERRMSG_MAX, "Variable \"$%s\" of required type \"%s\" was not provided.", vd->name.s,
                         tn ? tn : "?");
                free(tn);
                *err = gql_error_json(msg, &vd->loc);
                return LK_EINVAL;
            }
            continue;
        }
        json_t *out;
        if (coerce_input(x, vd->type, v, where, &out, msg) != 0) {
            *err = gql_error_json(msg, &vd->loc);
            return LK_EINVAL;
        }
        json_object_set_new(x->vars, vd->name.s, out);
    }
    return 0;
}

/* CoerceArgumentValues: the arguments defs of a field or directive, from
 * the nodes given, into a new object (absent ones left out). */
static json_t *coerce_args(struct exec *x, const struct gql_input_value_def *defs, size_t ndefs,
                           const struct gql_argument *args, size_t nargs) {
    if (ndefs == 0)
        return json_incref(x->no_args);
    json_t *o = json_object();
    for (size_t i = 0; i < ndefs; i++) {
        const struct gql_argument *a = NULL;
        for (size_t j = 0; j < nargs && a == NULL; j++)
            if (strcmp(args[j].name.s, defs[i].name.s) == 0)
                a = &args[j];
        json_t *v = a ? value_from_ast(x, &a->value) : NULL;
        if (v == NULL && defs[i].default_value != NULL)
            v = value_from_ast(x, defs[i].default_value);
        if (v != NULL)
            json_object_set_new(o, defs[i].name.s, v);
    }
    return o;
}

/* --- introspection ------------------------------------------------------------- */

enum intro_kind { K_SCHEMA = 1, K_NAMED, K_WRAP, K_FIELD, K_INPUT, K_ENUM, K_DIRECTIVE };

static json_t *intro(enum intro_kind k, const void *p) {
    return json_pack("{s:i, s:I}", "k", (int)k, "p", (json_int_t)(intptr_t)p);
}

static const void *intro_ptr(json_t *v, enum intro_kind *k) {
    *k = (enum intro_kind)json_integer_value(json_object_get(v, "k"));
    return (const void *)(intptr_t)json_integer_value(json_object_get(v, "p"));
}

static json_t *type_ref(struct exec *x, const struct gql_type *t) {
    if (t->kind == GQL_TYPE_NAMED)
        return intro(K_NAMED, gql_schema_type(x->s, t->name.s, t->name.len));
    return intro(K_WRAP, t);
}

static json_t *str_or_null(struct gql_str s) {
    return s.s ? json_stringn_nocheck(s.s, s.len) : json_null();
}

static int include_deprecated(json_t *args) {
    return json_is_true(json_object_get(args, "includeDeprecated"));
}

static json_t *input_values(const struct gql_input_value_def *v, size_t n, int all) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        if (all || gql_deprecation_reason(v[i].directives, v[i].ndirectives) == NULL)
            json_array_append_new(a, intro(K_INPUT, &v[i]));
    return a;
}

static json_t *deprecation(const struct gql_directive *d, size_t n, int reason) {
    const char *r = gql_deprecation_reason(d, n);
    if (reason)
        return r ? json_string(r) : json_null();
    return json_boolean(r != NULL);
}

static const char *const type_kind_names[] = {
    [GQL_DEF_SCALAR] = "SCALAR", [GQL_DEF_OBJECT] = "OBJECT", [GQL_DEF_INTERFACE] = "INTERFACE",
    [GQL_DEF_UNION] = "UNION",   [GQL_DEF_ENUM] = "ENUM",     [GQL_DEF_INPUT_OBJECT] = "INPUT_OBJECT",
};

static json_t *intro_type_field(struct exec *x, const struct gql_definition *d, const struct gql_type *w, const char *f,
                                json_t *args) {
    if (strcmp(f, "kind") == 0)
        return json_string(w ? (w->kind == GQL_TYPE_LIST ? "LIST" : "NON_NULL") : type_kind_names[d->kind]);
    if (strcmp(f, "ofType") == 0)
        return w ? type_ref(x, w->of) : json_null();
    if (w != NULL)
        return json_null();
    if (strcmp(f, "name") == 0)
        return json_string(d->name.s);
    if (strcmp(f, "description") == 0)
        return str_or_null(d->description);
    if (strcmp(f, "specifiedByURL") == 0) {
        for (size_t i = 0; i < d->ndirectives; i++)
            if (strcmp(d->directives[i].name.s, "specifiedBy") == 0 && d->directives[i].nargs > 0 &&
                d->directives[i].args[0].value.kind == GQL_VALUE_STRING)
                return json_string(d->directives[i].args[0].value.str.s);
        return json_null();
    }
    int all = include_deprecated(args);
    if (strcmp(f, "fields") == 0) {
        if (d->kind != GQL_DEF_OBJECT && d->kind != GQL_DEF_INTERFACE)
            return json_null();
        json_t *a = json_array();
        for (size_t i = 0; i < d->nfields; i++)
            if (all || gql_deprecation_reason(d->fields[i].directives, d->fields[i].ndirectives) == NULL)
                json_array_append_new(a, intro(K_FIELD, &d->fields[i]));
        return a;
    }
    if (strcmp(f, "interfaces") == 0) {
        if (d->kind != GQL_DEF_OBJECT && d->kind != GQL_DEF_INTERFACE)
            return json_null();
        json_t *a = json_array();
        for (size_t i = 0; i < d->ninterfaces; i++)
            json_array_append_new(a, intro(K_NAMED, gql_schema_type(x->s, d->interfaces[i].s, d->interfaces[i].len)));
        return a;
    }
    if (strcmp(f, "possibleTypes") == 0) {
        if (!gql_type_is_abstract(d))
            return json_null();
        const struct gql_definition *const *types;
        size_t n = gql_schema_types(x->s, &types);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            if (gql_schema_possible(x->s, d, types[i]))
                json_array_append_new(a, intro(K_NAMED, types[i]));
        return a;
    }
    if (strcmp(f, "enumValues") == 0) {
        if (d->kind != GQL_DEF_ENUM)
            return json_null();
        json_t *a = json_array();
        for (size_t i = 0; i < d->nenum_values; i++)
            if (all || gql_deprecation_reason(d->enum_values[i].directives, d->enum_values[i].ndirectives) == NULL)
                json_array_append_new(a, intro(K_ENUM, &d->enum_values[i]));
        return a;
    }
    if (strcmp(f, "inputFields") == 0)
        return d->kind == GQL_DEF_INPUT_OBJECT ? input_values(d->input_fields, d->ninput_fields, all) : json_null();
    return json_null();
}

/* A field of an introspection type on parent value v. */
static json_t *intro_resolve(struct exec *x, const struct gql_definition *type, json_t *v, const char *f,
                             json_t *args) {
    enum intro_kind k;
    const void *p = intro_ptr(v, &k);
    const char *tn = type->name.s;
    if (strcmp(tn, "__Schema") == 0) {
        if (strcmp(f, "description") == 0)
            return str_or_null(gql_schema_description(x->s));
        if (strcmp(f, "types") == 0) {
            const struct gql_definition *const *types;
            size_t n = gql_schema_types(x->s, &types);
            json_t *a = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, intro(K_NAMED, types[i]));
            return a;
        }
        if (strcmp(f, "directives") == 0) {
            const struct gql_definition *const *dirs;
            size_t n = gql_schema_directives(x->s, &dirs);
            json_t *a = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, intro(K_DIRECTIVE, dirs[i]));
            return a;
        }
        enum gql_operation_type op = strcmp(f, "queryType") == 0      ? GQL_OP_QUERY
                                     : strcmp(f, "mutationType") == 0 ? GQL_OP_MUTATION
                                                                      : GQL_OP_SUBSCRIPTION;
        const struct gql_definition *root = gql_schema_root(x->s, op);
        return root ? intro(K_NAMED, root) : json_null();
    }
    if (strcmp(tn, "__Type") == 0)
        return intro_type_field(x, k == K_NAMED ? p : NULL, k == K_WRAP ? p : NULL, f, args);
    if (strcmp(tn, "__Field") == 0) {
        const struct gql_field_def *fd = p;
        if (strcmp(f, "name") == 0)
            return json_string(fd->name.s);
        if (strcmp(f, "description") == 0)
            return str_or_null(fd->description);
        if (strcmp(f, "args") == 0)
            return input_values(fd->args, fd->nargs, include_deprecated(args));
        if (strcmp(f, "type") == 0)
            return type_ref(x, fd->type);
        return deprecation(fd->directives, fd->ndirectives, strcmp(f, "deprecationReason") == 0);
    }
    if (strcmp(tn, "__InputValue") == 0) {
        const struct gql_input_value_def *iv = p;
        if (strcmp(f, "name") == 0)
            return json_string(iv->name.s);
        if (strcmp(f, "description") == 0)
            return str_or_null(iv->description);
        if (strcmp(f, "type") == 0)
            return type_ref(x, iv->type);
        if (strcmp(f, "defaultValue") == 0) {
            char *s = NULL;
            if (iv->default_value == NULL || gql_print_value(iv->default_value, &s, NULL) != 0)
                return json_null();
            json_t *out = json_string(s);
            free(s);
            return out;
        }
        return deprecation(iv->directives, iv->ndirectives, strcmp(f, "deprecationReason") == 0);
    }
    if (strcmp(tn, "__EnumValue") == 0) {
        const struct gql_enum_value_def *ev = p;
        if (strcmp(f, "name") == 0)
            return json_string(ev->name.s);
        if (strcmp(f, "description") == 0)
            return str_or_null(ev->description);
        return deprecation(ev->directives, ev->ndirectives, strcmp(f, "deprecationReason") == 0);
    }
    if (strcmp(tn, "__Directive") == 0) {
        const struct gql_definition *d = p;
        if (strcmp(f, "name") == 0)
            return json_string(d->name.s);
        if (strcmp(f, "description") == 0)
            return str_or_null(d->description);
        if (strcmp(f, "isRepeatable") == 0)
            return json_boolean(d->repeatable);
        if (strcmp(f, "args") == 0)
            return input_values(d->args, d->nargs, include_deprecated(args));
        json_t *a = json_array();
        for (size_t i = 0; i < d->nlocations; i++)
            json_array_append_new(a, json_string(d->locations[i].s));
        return a;
    }
    return json_null();
}

/* --- execution ------------------------------------------------------------------- */

static int execute_set(struct exec *x, const struct gql_definition *obj, json_t *value, const struct groups *g,
                       const struct path *path, json_t **ret);

/* Serializes a leaf value (section 3.5's result coercion); -1 when it
 * does not fit, with msg. */
static int serialize_leaf(const struct gql_definition *d, json_t *v, json_t **ret, char *msg) {
    char echo[64];
    value_echo(v, echo, sizeof(echo));
    if (d->kind == GQL_DEF_ENUM) {
        if (!json_is_string(v) || gql_schema_enum_value(d, json_string_value(v), json_string_length(v)) == NULL) {
            snprintf(msg, GQL_ERRMSG_MAX, "Enum \"%s\" cannot represent value: %s", d->name.s, echo);
            return -1;
        }
        *ret = json_incref(v);
        return 0;
    }
    const char *n = d->name.s;
    json_int_t i;
    if (strcmp(n, "Int") == 0) {
        if (int32_of(v, &i) != 0) {
            snprintf(msg, GQL_ERRMSG_MAX, "Int cannot represent non 32-bit signed integer value: %s", echo);
            return -1;
        }
        *ret = json_integer(i);
    } else if (strcmp(n, "Float") == 0) {
        if (!json_is_number(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "Float cannot represent non numeric value: %s", echo);
            return -1;
        }
        *ret = json_real(json_number_value(v));
    } else if (strcmp(n, "String") == 0 || strcmp(n, "ID") == 0) {
        if (json_is_string(v)) {
            *ret = json_incref(v);
        } else if (json_is_integer(v) || json_is_boolean(v) || json_is_real(v)) {
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            *ret = json_string(s ? s : "");
            free(s);
        } else {
            snprintf(msg, GQL_ERRMSG_MAX, "%s cannot represent value: %s", n, echo);
            return -1;
        }
    } else if (strcmp(n, "Boolean") == 0) {
        if (!json_is_boolean(v)) {
            snprintf(msg, GQL_ERRMSG_MAX, "Boolean cannot represent a non boolean value: %s", echo);
            return -1;
        }
        *ret = json_incref(v);
    } else {
        *ret = json_incref(v); /* a custom scalar: as the resolver gave it */
    }
    return 0;
}

/* CompleteValue for type t of the field group g (parent type ptype) on
 * value v (borrowed; NULL is null): 0 with *ret, or -1 with *ret NULL
 * when an error was recorded for this position or below it and the
 * position is null; the nearest nullable position (a list item, a field)
 * turns that into null. */
static int complete(struct exec *x, const struct gql_definition *ptype, const struct group *g, const struct gql_type *t,
                    json_t *v, const struct path *path, json_t **ret) {
    const struct gql_selection *f0 = g->fields[0];
    char msg[GQL_ERRMSG_MAX];
    *ret = NULL;
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (complete(x, ptype, g, t->of, v, path, ret) != 0)
            return -1;
        if (json_is_null(*ret)) {
            json_decref(*ret);
            *ret = NULL;
            snprintf(msg, sizeof(msg), "Cannot return null for non-nullable field %s.%s.", ptype->name.s, f0->name.s);
            field_error(x, &f0->loc, path, msg, NULL);
            return -1;
        }
        return 0;
    }
    if (v == NULL || json_is_null(v)) {
        *ret = json_null();
        return 0;
    }
    if (t->kind == GQL_TYPE_LIST) {
        if (!json_is_array(v)) {
            snprintf(msg, sizeof(msg), "Expected Iterable, but did not find one for field \"%s.%s\".", ptype->name.s,
                     f0->name.s);
            field_error(x, &f0->loc, path, msg, NULL);
            return -1;
        }
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++) {
            struct path p = {path, NULL, i};
            json_t *item;
            if (complete(x, ptype, g, t->of, json_array_get(v, i), &p, &item) != 0) {
                if (t->of->kind == GQL_TYPE_NON_NULL) {
                    json_decref(a);
                    return -1;
                }
                item = json_null();
            }
            json_array_append_new(a, item);
        }
        *ret = a;
        return 0;
    }
    const struct gql_definition *d = gql_schema_named(x->s, t);
    if (gql_type_is_leaf(d)) {
        if (serialize_leaf(d, v, ret, msg) != 0) {
            field_error(x, &f0->loc, path, msg, NULL);
            return -1;
        }
        return 0;
    }
    const struct gql_definition *obj = d;
    if (gql_type_is_abstract(d)) {
        json_t *tn = json_object_get(v, "__typename");
        obj = json_is_string(tn) ? gql_schema_type(x->s, json_string_value(tn), json_string_length(tn)) : NULL;
        if (obj == NULL || !gql_schema_possible(x->s, d, obj)) {
            snprintf(msg, sizeof(msg),
                     "Abstract type \"%s\" must resolve to an Object type at runtime for field \"%s.%s\".", d->name.s,
                     ptype->name.s, f0->name.s);
            field_error(x, &f0->loc, path, msg, NULL);
            return -1;
        }
    }
    if (!json_is_object(v)) {
        snprintf(msg, sizeof(msg), "Expected an object for field \"%s.%s\".", ptype->name.s, f0->name.s);
        field_error(x, &f0->loc, path, msg, NULL);
        return -1;
    }
    /* CollectSubfields: the sub-selections of every field of the group. */
    struct groups sub = {0};
    struct visited seen = {0};
    int r = 0;
    for (size_t i = 0; i < g->n && r == 0; i++)
        r = collect_fields(x, obj, &g->fields[i]->selections, &sub, &seen);
    free(seen.names);
    if (r != 0) {
        field_error(x, &f0->loc, path, "out of memory", NULL);
    } else {
        r = execute_set(x, obj, v, &sub, path, ret);
    }
    groups_free(&sub);
    return r == 0 ? 0 : -1;
}

/* ExecuteField: 0 with the field's value in *ret, or -1 when it is null
 * in a non-null position (the parent becomes null). */
static int execute_field(struct exec *x, const struct gql_definition *obj, json_t *value, const struct group *g,
                         const struct path *path, json_t **ret) {
    const struct gql_selection *f0 = g->fields[0];
    const struct gql_field_def *fd = gql_schema_field(x->s, obj, f0->name.s, f0->name.len, 1);
    json_t *v = NULL;
    if (fd == NULL) { /* the validator has refused this; never trust it blindly */
        *ret = json_null();
        return 0;
    }
    json_t *args = coerce_args(x, fd->args, fd->nargs, f0->args, f0->nargs);
    if (f0->name.s[0] == '_' && f0->name.s[1] == '_') {
        if (strcmp(f0->name.s, "__typename") == 0) {
            v = json_string(obj->name.s);
        } else if (strcmp(f0->name.s, "__schema") == 0) {
            v = intro(K_SCHEMA, NULL);
        } else {
            json_t *n = json_object_get(args, "name");
            const struct gql_definition *t =
                json_is_string(n) ? gql_schema_type(x->s, json_string_value(n), json_string_length(n)) : NULL;
            v = t ? intro(K_NAMED, t) : json_null();
        }
    } else if (obj->name.s[0] == '_' && obj->name.s[1] == '_') {
        v = intro_resolve(x, obj, value, f0->name.s, args);
    } else {
        struct gql_field_ctx fc = {x->s, obj, fd, value, args, x->in->operation};
        struct gql_field_error err = {{0}, NULL};
        if (x->in->resolve(x->in->ud, &fc, &v, &err) != 0) {
            json_decref(args);
            field_error(x, &f0->loc, path, err.message[0] ? err.message : "internal error", err.extensions);
            *ret = NULL;
            if (fd->type->kind == GQL_TYPE_NON_NULL)
                return -1;
            *ret = json_null();
            return 0;
        }
    }
    json_decref(args);
    int r = complete(x, obj, g, fd->type, v, path, ret);
    json_decref(v);
    if (r != 0 && fd->type->kind != GQL_TYPE_NON_NULL) {
        *ret = json_null();
        return 0;
    }
    return r;
}

/* ExecuteSelectionSet: the groups g of object type obj on value into a
 * new object; -1 when a non-null field was null (the object is null). */
static int execute_set(struct exec *x, const struct gql_definition *obj, json_t *value, const struct groups *g,
                       const struct path *path, json_t **ret) {
    json_t *out = json_object();
    int mutation = path == NULL && x->in->operation->operation == GQL_OP_MUTATION;
    for (size_t i = 0; i < g->n; i++) {
        struct path p = {path, g->v[i].key, 0};
        json_t *v;
        size_t before = json_array_size(x->errors);
        if (execute_field(x, obj, value, &g->v[i], &p, &v) != 0) {
            json_decref(out);
            *ret = NULL;
            return -1;
        }
        json_object_set_new(out, g->v[i].key, v);
        if (mutation && json_array_size(x->errors) > before)
            break; /* a mutation stops at its first failing field */
    }
    *ret = out;
    return 0;
}

int gql_operation_select(const struct gql_document *doc, const char *name, const struct gql_definition **ret,
                         char *msg) {
    const struct gql_definition *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++) {
        const struct gql_definition *d = &doc->definitions[i];
        if (d->kind != GQL_DEF_OPERATION)
            continue;
        n++;
        if (name == NULL ? found == NULL : (d->name.s != NULL && strcmp(d->name.s, name) == 0))
            found = d;
    }
    if (name == NULL && n > 1) {
        snprintf(msg, GQL_ERRMSG_MAX, "Must provide operation name if query contains multiple operations.");
        return LK_EINVAL;
    }
    if (found == NULL) {
        if (name != NULL) {
            char echo[48];
            snprintf(echo, sizeof(echo), "%.40s", name);
            snprintf(msg, GQL_ERRMSG_MAX, "Unknown operation named \"%s\".", echo);
        } else {
            snprintf(msg, GQL_ERRMSG_MAX, "Must provide an operation.");
        }
        return LK_EINVAL;
    }
    *ret = found;
    return 0;
}

int gql_execute(const struct gql_exec_in *in, json_t **ret, size_t *errors_out) {
    struct exec x = {in, in->schema, NULL, json_array(), json_object()};
    const struct gql_definition *op = in->operation;
    json_t *err = NULL, *data = NULL;
    if (errors_out != NULL)
        *errors_out = 0;
    if (x.errors == NULL || x.no_args == NULL) {
        json_decref(x.errors);
        json_decref(x.no_args);
        return LK_ENOMEM;
    }
    if (coerce_variables(&x, op, &err) != 0) {
        json_decref(x.vars);
        json_decref(x.no_args);
        json_array_append_new(x.errors, err);
        *ret = json_pack("{s:o}", "errors", x.errors);
        return LK_EINVAL;
    }
    const struct gql_definition *root = gql_schema_root(x.s, op->operation);
    struct groups g = {0};
    struct visited seen = {0};
    int r = root ? collect_fields(&x, root, &op->selections, &g, &seen) : LK_EINVAL;
    free(seen.names);
    if (r == 0) {
        json_t *root_value = json_object();
        if (execute_set(&x, root, root_value, &g, NULL, &data) != 0)
            data = NULL;
        json_decref(root_value);
    }
    groups_free(&g);
    json_decref(x.vars);
    json_decref(x.no_args);
    if (r != 0) {
        json_decref(x.errors);
        return r;
    }
    json_t *out = json_object();
    if (json_array_size(x.errors) > 0) {
        if (errors_out != NULL)
            *errors_out = json_array_size(x.errors);
        json_object_set_new(out, "errors", x.errors);
    } else {
        json_decref(x.errors);
    }
    json_object_set_new(out, "data", data ? data : json_null());
    *ret = out;
    return 0;
}
