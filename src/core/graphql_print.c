/*
 * graphql_print.c - syntax trees back to canonical GraphQL text, and
 * their comparison (graphql.h).
 *
 * The text must parse back to an equal tree: every string is written as a
 * quoted string with the escapes it needs (never as a block string, whose
 * value depends on indentation), and nothing the parser keeps is left
 * out. Recursion is bounded by GQL_HARD_MAX_DEPTH and the output by
 * GQL_PRINT_MAX.
 */
#include "core/graphql.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

struct out {
    char *buf;
    size_t len, cap;
    int err; /* the first failure; once set, nothing more is written */
};

static void put(struct out *o, const char *s, size_t n) {
    if (o->err != 0 || n == 0)
        return;
    if (n > GQL_PRINT_MAX - o->len) {
        o->err = LK_ERANGE;
        return;
    }
    if (o->cap - o->len <= n) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap - o->len <= n)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL) {
            o->err = LK_ENOMEM;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_name(struct out *o, const struct gql_name *n) {
    put(o, n->s, n->len);
}

static void indent(struct out *o, unsigned level) {
    for (unsigned i = 0; i < level; i++)
        put(o, "  ", 2);
}

/* One level deeper; LK_ERANGE past GQL_HARD_MAX_DEPTH. */
static int deeper(struct out *o, unsigned depth) {
    if (depth >= GQL_HARD_MAX_DEPTH) {
        if (o->err == 0)
            o->err = LK_ERANGE;
        return 0;
    }
    return 1;
}

/* A quoted string with escapes for '"', '\\' and control characters (C0,
 * DEL and C1); other UTF-8 as it is. */
static void put_string(struct out *o, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    put(o, "\"", 1);
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        unsigned code = 0x100;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F)
                code = c;
            else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9F)
                code = (unsigned char)s[i + 1];
        }
        if (esc == NULL && code == 0x100)
            continue;
        put(o, s + run, i - run);
        if (esc != NULL) {
            puts_(o, esc);
        } else {
            memcpy(u, "\\u00", 4);
            u[4] = hex[code >> 4];
            u[5] = hex[code & 15];
            put(o, u, 6);
            if (code >= 0x80)
                i++; /* the C1 character's second byte */
        }
        run = i + 1;
    }
    put(o, s + run, n - run);
    put(o, "\"", 1);
}

/* --- values, types, directives ------------------------------------------------------ */

static void print_value(struct out *o, const struct gql_value *v, unsigned depth);

static void print_arguments(struct out *o, const struct gql_argument *a, size_t n, const char *open, const char *close,
                            unsigned depth) {
    puts_(o, open);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(o, ", ", 2);
        put_name(o, &a[i].name);
        put(o, ": ", 2);
        print_value(o, &a[i].value, depth);
    }
    puts_(o, close);
}

static void print_value(struct out *o, const struct gql_value *v, unsigned depth) {
    switch (v->kind) {
    case GQL_VALUE_VARIABLE:
        put(o, "$", 1);
        put_name(o, &v->name);
        break;
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT: put(o, v->str.s, v->str.len); break;
    case GQL_VALUE_STRING: put_string(o, v->str.s, v->str.len); break;
    case GQL_VALUE_BOOLEAN: puts_(o, v->boolean ? "true" : "false"); break;
    case GQL_VALUE_NULL: puts_(o, "null"); break;
    case GQL_VALUE_ENUM: put_name(o, &v->name); break;
    case GQL_VALUE_LIST:
        if (!deeper(o, depth))
            return;
        put(o, "[", 1);
        for (size_t i = 0; i < v->list.count; i++) {
            if (i > 0)
                put(o, ", ", 2);
            print_value(o, &v->list.items[i], depth + 1);
        }
        put(o, "]", 1);
        break;
    case GQL_VALUE_OBJECT:
        if (!deeper(o, depth))
            return;
        print_arguments(o, v->object.fields, v->object.count, "{", "}", depth + 1);
        break;
    }
}

static void print_type(struct out *o, const struct gql_type *t, unsigned depth) {
    switch (t->kind) {
    case GQL_TYPE_NAMED: put_name(o, &t->name); break;
    case GQL_TYPE_LIST:
        if (!deeper(o, depth))
            return;
        put(o, "[", 1);
        print_type(o, t->of, depth + 1);
        put(o, "]", 1);
        break;
    case GQL_TYPE_NON_NULL:
        print_type(o, t->of, depth);
        put(o, "!", 1);
        break;
    }
}

/* Each directive with a space before it. */
static void print_directives(struct out *o, const struct gql_directive *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        put(o, " @", 2);
        put_name(o, &d[i].name);
        if (d[i].nargs > 0)
            print_arguments(o, d[i].args, d[i].nargs, "(", ")", 0);
    }
}

static void print_default(struct out *o, const struct gql_value *v) {
    if (v != NULL) {
        put(o, " = ", 3);
        print_value(o, v, 0);
    }
}

/* --- executable definitions ------------------------------------------------------------ */

static void print_selection_set(struct out *o, const struct gql_selection_set *set, unsigned level);

static void print_selection(struct out *o, const struct gql_selection *s, unsigned level) {
    indent(o, level);
    switch (s->kind) {
    case GQL_SEL_FIELD:
        if (s->alias.s != NULL) {
            put_name(o, &s->alias);
            put(o, ": ", 2);
        }
        put_name(o, &s->name);
        if (s->nargs > 0)
            print_arguments(o, s->args, s->nargs, "(", ")", 0);
        print_directives(o, s->directives, s->ndirectives);
        break;
    case GQL_SEL_FRAGMENT_SPREAD:
        put(o, "...", 3);
        put_name(o, &s->name);
        print_directives(o, s->directives, s->ndirectives);
        break;
    case GQL_SEL_INLINE_FRAGMENT:
        put(o, "...", 3);
        if (s->type_condition.s != NULL) {
            put(o, " on ", 4);
            put_name(o, &s->type_condition);
        }
        print_directives(o, s->directives, s->ndirectives);
        break;
    }
    if (s->selections.count > 0) {
        put(o, " ", 1);
        print_selection_set(o, &s->selections, level);
    }
}

/* `{`, the selections one a line at level + 1, `}` at level. */
static void print_selection_set(struct out *o, const struct gql_selection_set *set, unsigned level) {
    if (!deeper(o, level))
        return;
    put(o, "{\n", 2);
    for (size_t i = 0; i < set->count; i++) {
        print_selection(o, &set->items[i], level + 1);
        put(o, "\n", 1);
    }
    indent(o, level);
    put(o, "}", 1);
}

/* 1 if a '{' printed after d would be read as part of it: a type, an
 * interface, an enum, an input or a schema extension without its braces. */
static int takes_brace(const struct gql_definition *d) {
    switch (d->kind) {
    case GQL_DEF_OBJECT:
    case GQL_DEF_INTERFACE: return d->nfields == 0;
    case GQL_DEF_ENUM: return d->nenum_values == 0;
    case GQL_DEF_INPUT_OBJECT: return d->ninput_fields == 0;
    case GQL_DEF_SCHEMA: return d->nroot_operations == 0;
    default: return 0;
    }
}

/* The shorthand `{ ... }` for an anonymous query without variables or
 * directives, unless prev (NULL for none) would take its '{'. */
static void print_operation(struct out *o, const struct gql_definition *d, const struct gql_definition *prev) {
    if (d->operation == GQL_OP_QUERY && d->name.s == NULL && d->nvariables == 0 && d->ndirectives == 0 &&
        (prev == NULL || !takes_brace(prev))) {
        print_selection_set(o, &d->selections, 0);
        return;
    }
    puts_(o, gql_operation_type_name(d->operation));
    if (d->name.s != NULL) {
        put(o, " ", 1);
        put_name(o, &d->name);
    }
    if (d->nvariables > 0) {
        put(o, d->name.s != NULL ? "(" : " (", d->name.s != NULL ? 1 : 2);
        for (size_t i = 0; i < d->nvariables; i++) {
            const struct gql_variable_def *v = &d->variables[i];
            if (i > 0)
                put(o, ", ", 2);
            put(o, "$", 1);
            put_name(o, &v->name);
            put(o, ": ", 2);
            print_type(o, v->type, 0);
            print_default(o, v->default_value);
            print_directives(o, v->directives, v->ndirectives);
        }
        put(o, ")", 1);
    }
    print_directives(o, d->directives, d->ndirectives);
    put(o, " ", 1);
    print_selection_set(o, &d->selections, 0);
}

/* --- type-system definitions ------------------------------------------------------------- */

/* A description on its own line at level, when there is one. */
static void print_description(struct out *o, const struct gql_str *s, unsigned level) {
    if (s->s == NULL)
        return;
    indent(o, level);
    put_string(o, s->s, s->len);
    put(o, "\n", 1);
}

/* Input values on one line, each description (a quoted string) before
 * its name. */
static void print_input_values(struct out *o, const struct gql_input_value_def *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(o, ", ", 2);
        if (v[i].description.s != NULL) {
            put_string(o, v[i].description.s, v[i].description.len);
            put(o, " ", 1);
        }
        put_name(o, &v[i].name);
        put(o, ": ", 2);
        print_type(o, v[i].type, 0);
        print_default(o, v[i].default_value);
        print_directives(o, v[i].directives, v[i].ndirectives);
    }
}

static void print_names(struct out *o, const struct gql_name *n, size_t count, const char *sep) {
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            puts_(o, sep);
        put_name(o, &n[i]);
    }
}

static void print_type_system(struct out *o, const struct gql_definition *d) {
    print_description(o, &d->description, 0);
    if (d->extension)
        puts_(o, "extend ");
    switch (d->kind) {
    case GQL_DEF_SCHEMA:
        puts_(o, "schema");
        print_directives(o, d->directives, d->ndirectives);
        if (d->nroot_operations > 0) {
            put(o, " {\n", 3);
            for (size_t i = 0; i < d->nroot_operations; i++) {
                indent(o, 1);
                puts_(o, gql_operation_type_name(d->root_operations[i].operation));
                put(o, ": ", 2);
                put_name(o, &d->root_operations[i].type);
                put(o, "\n", 1);
            }
            put(o, "}", 1);
        }
        return;
    case GQL_DEF_SCALAR: puts_(o, "scalar "); break;
    case GQL_DEF_OBJECT: puts_(o, "type "); break;
    case GQL_DEF_INTERFACE: puts_(o, "interface "); break;
    case GQL_DEF_UNION: puts_(o, "union "); break;
    case GQL_DEF_ENUM: puts_(o, "enum "); break;
    case GQL_DEF_INPUT_OBJECT: puts_(o, "input "); break;
    case GQL_DEF_DIRECTIVE:
        puts_(o, "directive @");
        put_name(o, &d->name);
        if (d->nargs > 0) {
            put(o, "(", 1);
            print_input_values(o, d->args, d->nargs);
            put(o, ")", 1);
        }
        if (d->repeatable)
            puts_(o, " repeatable");
        puts_(o, " on ");
        print_names(o, d->locations, d->nlocations, " | ");
        return;
    default: return;
    }
    put_name(o, &d->name);
    if (d->ninterfaces > 0) {
        puts_(o, " implements ");
        print_names(o, d->interfaces, d->ninterfaces, " & ");
    }
    print_directives(o, d->directives, d->ndirectives);
    if (d->nmembers > 0) {
        put(o, " = ", 3);
        print_names(o, d->members, d->nmembers, " | ");
    }
    if (d->nfields > 0) {
        put(o, " {\n", 3);
        for (size_t i = 0; i < d->nfields; i++) {
            const struct gql_field_def *f = &d->fields[i];
            print_description(o, &f->description, 1);
            indent(o, 1);
            put_name(o, &f->name);
            if (f->nargs > 0) {
                put(o, "(", 1);
                print_input_values(o, f->args, f->nargs);
                put(o, ")", 1);
            }
            put(o, ": ", 2);
            print_type(o, f->type, 0);
            print_directives(o, f->directives, f->ndirectives);
            put(o, "\n", 1);
        }
        put(o, "}", 1);
    }
    if (d->nenum_values > 0) {
        put(o, " {\n", 3);
        for (size_t i = 0; i < d->nenum_values; i++) {
            print_description(o, &d->enum_values[i].description, 1);
            indent(o, 1);
            put_name(o, &d->enum_values[i].name);
            print_directives(o, d->enum_values[i].directives, d->enum_values[i].ndirectives);
            put(o, "\n", 1);
        }
        put(o, "}", 1);
    }
    if (d->ninput_fields > 0) {
        put(o, " {\n", 3);
        for (size_t i = 0; i < d->ninput_fields; i++) {
            const struct gql_input_value_def *v = &d->input_fields[i];
            print_description(o, &v->description, 1);
            indent(o, 1);
            /* Its description is printed above: print the rest alone. */
            struct gql_input_value_def bare = *v;
            bare.description.s = NULL;
            print_input_values(o, &bare, 1);
            put(o, "\n", 1);
        }
        put(o, "}", 1);
    }
}

/* --- entry points --------------------------------------------------------------------------- */

/* Hands the text over (put always leaves room for the NUL). */
static int finish(struct out *o, char **ret, size_t *ret_len) {
    if (o->err == 0 && o->buf == NULL) {
        o->buf = malloc(1);
        if (o->buf == NULL)
            o->err = LK_ENOMEM;
    }
    if (o->err != 0) {
        free(o->buf);
        return o->err;
    }
    o->buf[o->len] = '\0';
    *ret = o->buf;
    if (ret_len != NULL)
        *ret_len = o->len;
    return 0;
}

int gql_print(const struct gql_document *doc, char **ret, size_t *ret_len) {
    struct out o = {0};
    for (size_t i = 0; i < doc->count; i++) {
        const struct gql_definition *d = &doc->definitions[i];
        if (i > 0)
            put(&o, "\n", 1);
        switch (d->kind) {
        case GQL_DEF_OPERATION: print_operation(&o, d, i > 0 ? d - 1 : NULL); break;
        case GQL_DEF_FRAGMENT:
            puts_(&o, "fragment ");
            put_name(&o, &d->name);
            puts_(&o, " on ");
            put_name(&o, &d->type_condition);
            print_directives(&o, d->directives, d->ndirectives);
            put(&o, " ", 1);
            print_selection_set(&o, &d->selections, 0);
            break;
        default: print_type_system(&o, d); break;
        }
        put(&o, "\n", 1);
    }
    return finish(&o, ret, ret_len);
}

int gql_print_value(const struct gql_value *v, char **ret, size_t *ret_len) {
    struct out o = {0};
    print_value(&o, v, 0);
    return finish(&o, ret, ret_len);
}

int gql_print_type(const struct gql_type *t, char **ret, size_t *ret_len) {
    struct out o = {0};
    print_type(&o, t, 0);
    return finish(&o, ret, ret_len);
}

/* --- equality --------------------------------------------------------------------------------- */

static int name_eq(const struct gql_name *a, const struct gql_name *b) {
    if (a->s == NULL || b->s == NULL)
        return a->s == b->s;
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static int str_eq(const struct gql_str *a, const struct gql_str *b) {
    if (a->s == NULL || b->s == NULL)
        return a->s == b->s;
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static int names_eq(const struct gql_name *a, size_t na, const struct gql_name *b, size_t nb) {
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!name_eq(&a[i], &b[i]))
            return 0;
    return 1;
}

static int args_eq(const struct gql_argument *a, size_t na, const struct gql_argument *b, size_t nb) {
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!name_eq(&a[i].name, &b[i].name) || !gql_value_equal(&a[i].value, &b[i].value))
            return 0;
    return 1;
}

int gql_value_equal(const struct gql_value *a, const struct gql_value *b) {
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case GQL_VALUE_VARIABLE:
    case GQL_VALUE_ENUM: return name_eq(&a->name, &b->name);
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT:
    case GQL_VALUE_STRING: return str_eq(&a->str, &b->str);
    case GQL_VALUE_BOOLEAN: return !a->boolean == !b->boolean;
    case GQL_VALUE_NULL: return 1;
    case GQL_VALUE_LIST:
        if (a->list.count != b->list.count)
            return 0;
        for (size_t i = 0; i < a->list.count; i++)
            if (!gql_value_equal(&a->list.items[i], &b->list.items[i]))
                return 0;
        return 1;
    case GQL_VALUE_OBJECT: return args_eq(a->object.fields, a->object.count, b->object.fields, b->object.count);
    }
    return 0;
}

static int type_eq(const struct gql_type *a, const struct gql_type *b) {
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind)
        return 0;
    return a->kind == GQL_TYPE_NAMED ? name_eq(&a->name, &b->name) : type_eq(a->of, b->of);
}

static int directives_eq(const struct gql_directive *a, size_t na, const struct gql_directive *b, size_t nb) {
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!name_eq(&a[i].name, &b[i].name) || !args_eq(a[i].args, a[i].nargs, b[i].args, b[i].nargs))
            return 0;
    return 1;
}

static int selections_eq(const struct gql_selection_set *a, const struct gql_selection_set *b) {
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const struct gql_selection *x = &a->items[i], *y = &b->items[i];
        if (x->kind != y->kind || !name_eq(&x->alias, &y->alias) || !name_eq(&x->name, &y->name) ||
            !name_eq(&x->type_condition, &y->type_condition) || !args_eq(x->args, x->nargs, y->args, y->nargs) ||
            !directives_eq(x->directives, x->ndirectives, y->directives, y->ndirectives) ||
            !selections_eq(&x->selections, &y->selections))
            return 0;
    }
    return 1;
}

static int input_values_eq(const struct gql_input_value_def *a, size_t na, const struct gql_input_value_def *b,
                           size_t nb) {
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(&a[i].description, &b[i].description) || !name_eq(&a[i].name, &b[i].name) ||
            !type_eq(a[i].type, b[i].type) || !gql_value_equal(a[i].default_value, b[i].default_value) ||
            !directives_eq(a[i].directives, a[i].ndirectives, b[i].directives, b[i].ndirectives))
            return 0;
    return 1;
}

static int definition_eq(const struct gql_definition *a, const struct gql_definition *b) {
    if (a->kind != b->kind || a->extension != b->extension || !str_eq(&a->description, &b->description) ||
        !name_eq(&a->name, &b->name) || !name_eq(&a->type_condition, &b->type_condition) ||
        !directives_eq(a->directives, a->ndirectives, b->directives, b->ndirectives) ||
        !selections_eq(&a->selections, &b->selections) ||
        !names_eq(a->interfaces, a->ninterfaces, b->interfaces, b->ninterfaces) ||
        !names_eq(a->members, a->nmembers, b->members, b->nmembers) ||
        !names_eq(a->locations, a->nlocations, b->locations, b->nlocations) ||
        !input_values_eq(a->input_fields, a->ninput_fields, b->input_fields, b->ninput_fields) ||
        !input_values_eq(a->args, a->nargs, b->args, b->nargs) || !a->repeatable != !b->repeatable)
        return 0;
    if (a->kind == GQL_DEF_OPERATION && a->operation != b->operation)
        return 0;
    if (a->nvariables != b->nvariables || a->nroot_operations != b->nroot_operations || a->nfields != b->nfields ||
        a->nenum_values != b->nenum_values)
        return 0;
    for (size_t i = 0; i < a->nvariables; i++) {
        const struct gql_variable_def *x = &a->variables[i], *y = &b->variables[i];
        if (!name_eq(&x->name, &y->name) || !type_eq(x->type, y->type) ||
            !gql_value_equal(x->default_value, y->default_value) ||
            !directives_eq(x->directives, x->ndirectives, y->directives, y->ndirectives))
            return 0;
    }
    for (size_t i = 0; i < a->nroot_operations; i++)
        if (a->root_operations[i].operation != b->root_operations[i].operation ||
            !name_eq(&a->root_operations[i].type, &b->root_operations[i].type))
            return 0;
    for (size_t i = 0; i < a->nfields; i++) {
        const struct gql_field_def *x = &a->fields[i], *y = &b->fields[i];
        if (!str_eq(&x->description, &y->description) || !name_eq(&x->name, &y->name) ||
            !input_values_eq(x->args, x->nargs, y->args, y->nargs) || !type_eq(x->type, y->type) ||
            !directives_eq(x->directives, x->ndirectives, y->directives, y->ndirectives))
            return 0;
    }
    for (size_t i = 0; i < a->nenum_values; i++) {
        const struct gql_enum_value_def *x = &a->enum_values[i], *y = &b->enum_values[i];
        if (!str_eq(&x->description, &y->description) || !name_eq(&x->name, &y->name) ||
            !directives_eq(x->directives, x->ndirectives, y->directives, y->ndirectives))
            return 0;
    }
    return 1;
}

int gql_document_equal(const struct gql_document *a, const struct gql_document *b) {
    if (a == NULL || b == NULL)
        return a == b;
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++)
        if (!definition_eq(&a->definitions[i], &b->definitions[i]))
            return 0;
    return 1;
}
