/*
 * graphql_parse.c - the GraphQL parser (graphql.h): tokens from
 * graphql_lex.c to the syntax tree, by recursive descent over the
 * specification's grammar with one token of lookahead.
 *
 * It reads untrusted documents: every recursion (selection sets, list and
 * object values, list types) passes through enter(), so the depth limit
 * bounds the C stack; each token is read once and each node copied at most
 * twice (built on the scratch stack, then moved into the arena), so time
 * and memory are linear in the tokens. It stops at the first error and
 * never echoes more than GQL_ECHO_MAX bytes of the input.
 */
#include "core/graphql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/graphql_lex.h"
#include "lib/arena.h"
#include "lib/str.h"

struct parser {
    struct gql_lexer lx;
    struct gql_token tok; /* the current token, not yet consumed */
    uint32_t last_end;    /* where the last consumed token ended */
    struct arena *arena;
    struct gql_error *err;
    unsigned depth, max_depth;
    /* Items of the lists being read, innermost on top: a list is read
     * onto the stack, then moved into the arena as one array. */
    unsigned char *scratch;
    size_t top, cap;
};

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        int r_ = (expr);                                                                                               \
        if (r_ != 0)                                                                                                   \
            return r_;                                                                                                 \
    } while (0)

/* --- errors ------------------------------------------------------------------------ */

static int fail_at(struct parser *p, int code, const struct gql_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct parser *p, int code, const struct gql_loc *loc, const char *fmt, ...) {
    struct gql_error *e = p->err;
    if (e == NULL)
        return code;
    e->code = code;
    e->line = loc->line;
    e->column = loc->column;
    size_t n = (size_t)snprintf(e->message, sizeof(e->message), "Syntax Error: ");
    va_list ap;
    va_start(ap, fmt);
    if (n < sizeof(e->message))
        vsnprintf(e->message + n, sizeof(e->message) - n, fmt, ap);
    va_end(ap);
    return code;
}

static int nomem(struct parser *p) {
    if (p->err != NULL) {
        p->err->code = LK_ENOMEM;
        p->err->line = p->err->column = 0;
        str_copy(p->err->message, sizeof(p->err->message), "Out of memory while parsing the document.");
    }
    return LK_ENOMEM;
}

/* A token as messages name it: `<EOF>`, `"{"`, `Name "foo"`, `String "..."`. */
static void describe(const struct gql_token *t, char *out, size_t cap) {
    const char *kind = gql_token_kind_name(t->kind);
    if (t->text == NULL) {
        str_copy(out, cap, kind);
        return;
    }
    char ex[GQL_ECHO_MAX * 4 + 4];
    str_echo_n(t->text, t->len, GQL_ECHO_MAX, ex, sizeof(ex));
    snprintf(out, cap, "%s \"%s\"", kind, ex);
}

#define DESC_MAX (GQL_ECHO_MAX * 4 + 32)

static int unexpected(struct parser *p, const struct gql_token *t) {
    char d[DESC_MAX];
    describe(t, d, sizeof(d));
    return fail_at(p, LK_EINVAL, &t->loc, "Unexpected %s.", d);
}

static int expected(struct parser *p, const char *what) {
    char d[DESC_MAX];
    describe(&p->tok, d, sizeof(d));
    return fail_at(p, LK_EINVAL, &p->tok.loc, "Expected %s, found %s.", what, d);
}

/* --- tokens ------------------------------------------------------------------------- */

static int advance(struct parser *p) {
    p->last_end = p->tok.loc.end;
    return gql_lex_next(&p->lx, &p->tok, p->err);
}

static int expect(struct parser *p, enum gql_token_kind k) {
    if (p->tok.kind != k)
        return expected(p, gql_token_kind_name(k));
    return advance(p);
}

static int is_kw(const struct gql_token *t, const char *kw) {
    size_t n = strlen(kw);
    return t->kind == GQL_TOK_NAME && t->len == n && memcmp(t->text, kw, n) == 0;
}

static int expect_kw(struct parser *p, const char *kw) {
    if (!is_kw(&p->tok, kw)) {
        char what[32];
        snprintf(what, sizeof(what), "\"%s\"", kw);
        return expected(p, what);
    }
    return advance(p);
}

static int parse_name(struct parser *p, struct gql_name *ret) {
    if (p->tok.kind != GQL_TOK_NAME)
        return expected(p, "Name");
    char *s = arena_strndup(p->arena, p->tok.text, p->tok.len);
    if (s == NULL)
        return nomem(p);
    ret->s = s;
    ret->len = p->tok.len;
    ret->loc = p->tok.loc;
    return advance(p);
}

static int is_string(const struct gql_token *t) {
    return t->kind == GQL_TOK_STRING || t->kind == GQL_TOK_BLOCK_STRING;
}

/* Description? : a string before a definition (already in the arena). */
static int parse_description(struct parser *p, struct gql_str *ret) {
    if (!is_string(&p->tok))
        return 0;
    ret->s = p->tok.text;
    ret->len = p->tok.len;
    return advance(p);
}

/* One level deeper, at token t; LK_ERANGE past the depth limit. */
static int enter(struct parser *p, const struct gql_token *t) {
    if (p->depth >= p->max_depth)
        return fail_at(p, LK_ERANGE, &t->loc, "Document is nested more than %u levels deep.", p->max_depth);
    p->depth++;
    return 0;
}

static void leave(struct parser *p) {
    p->depth--;
}

/* The node that started at loc ends where the last consumed token ended. */
static void close_loc(const struct parser *p, struct gql_loc *loc) {
    loc->end = p->last_end;
}

/* --- lists ---------------------------------------------------------------------------- */

static int push(struct parser *p, const void *item, size_t size) {
    if (p->cap - p->top < size) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap - p->top < size)
            cap *= 2;
        unsigned char *s = realloc(p->scratch, cap);
        if (s == NULL)
            return nomem(p);
        p->scratch = s;
        p->cap = cap;
    }
    memcpy(p->scratch + p->top, item, size);
    p->top += size;
    return 0;
}

/* Moves the items pushed since mark into an arena array (*ret_items; NULL
 * when there are none) and pops them. */
static int list_finish(struct parser *p, size_t mark, size_t size, void **ret_items, size_t *ret_count) {
    size_t n = p->top - mark;
    *ret_count = n / size;
    *ret_items = NULL;
    if (n > 0) {
        void *a = arena_alloc(p->arena, n);
        if (a == NULL)
            return nomem(p);
        memcpy(a, p->scratch + mark, n);
        *ret_items = a;
    }
    p->top = mark;
    return 0;
}

#define LIST_FINISH(p, mark, items, count) list_finish((p), (mark), sizeof(*(items)), (void **)&(items), &(count))

static void *alloc(struct parser *p, size_t n) {
    return arena_alloc(p->arena, n);
}

/* --- values and types -------------------------------------------------------------------- */

static int parse_value(struct parser *p, int is_const, struct gql_value *v);

/* Name : Value, for arguments and object fields. */
static int parse_argument(struct parser *p, int is_const, struct gql_argument *a) {
    memset(a, 0, sizeof(*a));
    a->loc = p->tok.loc;
    TRY(parse_name(p, &a->name));
    TRY(expect(p, GQL_TOK_COLON));
    TRY(parse_value(p, is_const, &a->value));
    close_loc(p, &a->loc);
    return 0;
}

static int parse_value(struct parser *p, int is_const, struct gql_value *v) {
    memset(v, 0, sizeof(*v));
    v->loc = p->tok.loc;
    struct gql_token t = p->tok;
    size_t mark = p->top;
    switch (t.kind) {
    case GQL_TOK_BRACKET_L:
        TRY(enter(p, &t));
        TRY(advance(p));
        while (p->tok.kind != GQL_TOK_BRACKET_R) {
            struct gql_value item;
            TRY(parse_value(p, is_const, &item));
            TRY(push(p, &item, sizeof(item)));
        }
        v->kind = GQL_VALUE_LIST;
        TRY(LIST_FINISH(p, mark, v->list.items, v->list.count));
        TRY(advance(p));
        leave(p);
        break;
    case GQL_TOK_BRACE_L:
        TRY(enter(p, &t));
        TRY(advance(p));
        while (p->tok.kind != GQL_TOK_BRACE_R) {
            struct gql_argument f;
            TRY(parse_argument(p, is_const, &f));
            TRY(push(p, &f, sizeof(f)));
        }
        v->kind = GQL_VALUE_OBJECT;
        TRY(LIST_FINISH(p, mark, v->object.fields, v->object.count));
        TRY(advance(p));
        leave(p);
        break;
    case GQL_TOK_INT:
    case GQL_TOK_FLOAT:
        v->kind = t.kind == GQL_TOK_INT ? GQL_VALUE_INT : GQL_VALUE_FLOAT;
        v->str.s = arena_strndup(p->arena, t.text, t.len);
        if (v->str.s == NULL)
            return nomem(p);
        v->str.len = t.len;
        TRY(advance(p));
        break;
    case GQL_TOK_STRING:
    case GQL_TOK_BLOCK_STRING:
        v->kind = GQL_VALUE_STRING;
        v->str.s = t.text;
        v->str.len = t.len;
        v->block = t.kind == GQL_TOK_BLOCK_STRING;
        TRY(advance(p));
        break;
    case GQL_TOK_NAME:
        if (is_kw(&t, "true") || is_kw(&t, "false")) {
            v->kind = GQL_VALUE_BOOLEAN;
            v->boolean = is_kw(&t, "true");
            TRY(advance(p));
        } else if (is_kw(&t, "null")) {
            v->kind = GQL_VALUE_NULL;
            TRY(advance(p));
        } else {
            v->kind = GQL_VALUE_ENUM;
            TRY(parse_name(p, &v->name));
        }
        break;
    case GQL_TOK_DOLLAR:
        TRY(advance(p));
        if (is_const) {
            if (p->tok.kind != GQL_TOK_NAME)
                return unexpected(p, &t);
            char ex[GQL_ECHO_MAX * 4 + 4];
            str_echo_n(p->tok.text, p->tok.len, GQL_ECHO_MAX, ex, sizeof(ex));
            return fail_at(p, LK_EINVAL, &t.loc, "Unexpected variable \"$%s\" in constant value.", ex);
        }
        v->kind = GQL_VALUE_VARIABLE;
        TRY(parse_name(p, &v->name));
        break;
    default: return unexpected(p, &t);
    }
    close_loc(p, &v->loc);
    return 0;
}

/* Arguments[?Const]? */
static int parse_arguments(struct parser *p, int is_const, struct gql_argument **ret, size_t *ret_n) {
    if (p->tok.kind != GQL_TOK_PAREN_L)
        return 0;
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_argument a;
        TRY(parse_argument(p, is_const, &a));
        TRY(push(p, &a, sizeof(a)));
    } while (p->tok.kind != GQL_TOK_PAREN_R);
    TRY(LIST_FINISH(p, mark, *ret, *ret_n));
    return advance(p);
}

/* Directives[?Const]? */
static int parse_directives(struct parser *p, int is_const, struct gql_directive **ret, size_t *ret_n) {
    size_t mark = p->top;
    while (p->tok.kind == GQL_TOK_AT) {
        struct gql_directive d;
        memset(&d, 0, sizeof(d));
        d.loc = p->tok.loc;
        TRY(advance(p));
        TRY(parse_name(p, &d.name));
        TRY(parse_arguments(p, is_const, &d.args, &d.nargs));
        close_loc(p, &d.loc);
        TRY(push(p, &d, sizeof(d)));
    }
    return LIST_FINISH(p, mark, *ret, *ret_n);
}

/* Type: NamedType | [ Type ] , then ! for non-null. */
static int parse_type(struct parser *p, struct gql_type **ret) {
    struct gql_token start = p->tok;
    struct gql_type *t = alloc(p, sizeof(*t));
    if (t == NULL)
        return nomem(p);
    t->loc = start.loc;
    if (start.kind == GQL_TOK_BRACKET_L) {
        TRY(enter(p, &start));
        TRY(advance(p));
        t->kind = GQL_TYPE_LIST;
        TRY(parse_type(p, &t->of));
        TRY(expect(p, GQL_TOK_BRACKET_R));
        leave(p);
    } else {
        t->kind = GQL_TYPE_NAMED;
        TRY(parse_name(p, &t->name));
    }
    close_loc(p, &t->loc);
    if (p->tok.kind == GQL_TOK_BANG) {
        TRY(advance(p));
        struct gql_type *nn = alloc(p, sizeof(*nn));
        if (nn == NULL)
            return nomem(p);
        nn->kind = GQL_TYPE_NON_NULL;
        nn->of = t;
        nn->loc = start.loc;
        close_loc(p, &nn->loc);
        t = nn;
    }
    *ret = t;
    return 0;
}

/* DefaultValue? : `= Value[Const]` into a new value, or NULL. */
static int parse_default_value(struct parser *p, struct gql_value **ret) {
    if (p->tok.kind != GQL_TOK_EQUALS)
        return 0;
    TRY(advance(p));
    struct gql_value *v = alloc(p, sizeof(*v));
    if (v == NULL)
        return nomem(p);
    TRY(parse_value(p, 1, v));
    *ret = v;
    return 0;
}

/* --- executable definitions -------------------------------------------------------------- */

static int parse_selection_set(struct parser *p, struct gql_selection_set *ret);

static int parse_selection(struct parser *p, struct gql_selection *s) {
    memset(s, 0, sizeof(*s));
    s->loc = p->tok.loc;
    if (p->tok.kind == GQL_TOK_SPREAD) {
        TRY(advance(p));
        if (p->tok.kind == GQL_TOK_NAME && !is_kw(&p->tok, "on")) {
            s->kind = GQL_SEL_FRAGMENT_SPREAD;
            TRY(parse_name(p, &s->name));
            TRY(parse_directives(p, 0, &s->directives, &s->ndirectives));
        } else {
            s->kind = GQL_SEL_INLINE_FRAGMENT;
            if (is_kw(&p->tok, "on")) {
                TRY(advance(p));
                TRY(parse_name(p, &s->type_condition));
            }
            TRY(parse_directives(p, 0, &s->directives, &s->ndirectives));
            TRY(parse_selection_set(p, &s->selections));
        }
    } else {
        s->kind = GQL_SEL_FIELD;
        TRY(parse_name(p, &s->name));
        if (p->tok.kind == GQL_TOK_COLON) {
            TRY(advance(p));
            s->alias = s->name;
            TRY(parse_name(p, &s->name));
        }
        TRY(parse_arguments(p, 0, &s->args, &s->nargs));
        TRY(parse_directives(p, 0, &s->directives, &s->ndirectives));
        if (p->tok.kind == GQL_TOK_BRACE_L)
            TRY(parse_selection_set(p, &s->selections));
    }
    close_loc(p, &s->loc);
    return 0;
}

static int parse_selection_set(struct parser *p, struct gql_selection_set *ret) {
    struct gql_token open = p->tok;
    if (open.kind != GQL_TOK_BRACE_L)
        return expected(p, gql_token_kind_name(GQL_TOK_BRACE_L));
    TRY(enter(p, &open));
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_selection s;
        TRY(parse_selection(p, &s));
        TRY(push(p, &s, sizeof(s)));
    } while (p->tok.kind != GQL_TOK_BRACE_R);
    TRY(LIST_FINISH(p, mark, ret->items, ret->count));
    TRY(advance(p));
    leave(p);
    ret->loc = open.loc;
    close_loc(p, &ret->loc);
    return 0;
}

static int parse_variable_definitions(struct parser *p, struct gql_definition *d) {
    if (p->tok.kind != GQL_TOK_PAREN_L)
        return 0;
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_variable_def v;
        memset(&v, 0, sizeof(v));
        v.loc = p->tok.loc;
        TRY(expect(p, GQL_TOK_DOLLAR));
        TRY(parse_name(p, &v.name));
        TRY(expect(p, GQL_TOK_COLON));
        TRY(parse_type(p, &v.type));
        TRY(parse_default_value(p, &v.default_value));
        TRY(parse_directives(p, 1, &v.directives, &v.ndirectives));
        close_loc(p, &v.loc);
        TRY(push(p, &v, sizeof(v)));
    } while (p->tok.kind != GQL_TOK_PAREN_R);
    TRY(LIST_FINISH(p, mark, d->variables, d->nvariables));
    return advance(p);
}

/* OperationType : query | mutation | subscription; -1 for another token. */
static int operation_type(const struct gql_token *t) {
    if (is_kw(t, "query"))
        return GQL_OP_QUERY;
    if (is_kw(t, "mutation"))
        return GQL_OP_MUTATION;
    if (is_kw(t, "subscription"))
        return GQL_OP_SUBSCRIPTION;
    return -1;
}

static int parse_operation(struct parser *p, struct gql_definition *d) {
    d->kind = GQL_DEF_OPERATION;
    d->operation = (enum gql_operation_type)operation_type(&p->tok);
    TRY(advance(p));
    if (p->tok.kind == GQL_TOK_NAME)
        TRY(parse_name(p, &d->name));
    TRY(parse_variable_definitions(p, d));
    TRY(parse_directives(p, 0, &d->directives, &d->ndirectives));
    return parse_selection_set(p, &d->selections);
}

static int parse_fragment(struct parser *p, struct gql_definition *d) {
    d->kind = GQL_DEF_FRAGMENT;
    TRY(advance(p));
    if (is_kw(&p->tok, "on"))
        return unexpected(p, &p->tok);
    TRY(parse_name(p, &d->name));
    TRY(expect_kw(p, "on"));
    TRY(parse_name(p, &d->type_condition));
    TRY(parse_directives(p, 0, &d->directives, &d->ndirectives));
    return parse_selection_set(p, &d->selections);
}

/* --- type-system definitions ------------------------------------------------------------- */

static int parse_input_value_def(struct parser *p, struct gql_input_value_def *v) {
    memset(v, 0, sizeof(*v));
    v->loc = p->tok.loc;
    TRY(parse_description(p, &v->description));
    TRY(parse_name(p, &v->name));
    TRY(expect(p, GQL_TOK_COLON));
    TRY(parse_type(p, &v->type));
    TRY(parse_default_value(p, &v->default_value));
    TRY(parse_directives(p, 1, &v->directives, &v->ndirectives));
    close_loc(p, &v->loc);
    return 0;
}

/* `open InputValueDefinition+ close`, for ArgumentsDefinition and
 * InputFieldsDefinition. */
static int parse_input_value_defs(struct parser *p, enum gql_token_kind close, struct gql_input_value_def **ret,
                                  size_t *ret_n) {
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_input_value_def v;
        TRY(parse_input_value_def(p, &v));
        TRY(push(p, &v, sizeof(v)));
    } while (p->tok.kind != close);
    TRY(LIST_FINISH(p, mark, *ret, *ret_n));
    return advance(p);
}

static int parse_fields_def(struct parser *p, struct gql_definition *d) {
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_field_def f;
        memset(&f, 0, sizeof(f));
        f.loc = p->tok.loc;
        TRY(parse_description(p, &f.description));
        TRY(parse_name(p, &f.name));
        if (p->tok.kind == GQL_TOK_PAREN_L)
            TRY(parse_input_value_defs(p, GQL_TOK_PAREN_R, &f.args, &f.nargs));
        TRY(expect(p, GQL_TOK_COLON));
        TRY(parse_type(p, &f.type));
        TRY(parse_directives(p, 1, &f.directives, &f.ndirectives));
        close_loc(p, &f.loc);
        TRY(push(p, &f, sizeof(f)));
    } while (p->tok.kind != GQL_TOK_BRACE_R);
    TRY(LIST_FINISH(p, mark, d->fields, d->nfields));
    return advance(p);
}

static int parse_enum_values_def(struct parser *p, struct gql_definition *d) {
    TRY(advance(p));
    size_t mark = p->top;
    do {
        struct gql_enum_value_def e;
        memset(&e, 0, sizeof(e));
        e.loc = p->tok.loc;
        TRY(parse_description(p, &e.description));
        if (is_kw(&p->tok, "true") || is_kw(&p->tok, "false") || is_kw(&p->tok, "null")) {
            char what[DESC_MAX];
            describe(&p->tok, what, sizeof(what));
            return fail_at(p, LK_EINVAL, &p->tok.loc, "%s is reserved and cannot be used for an enum value.", what);
        }
        TRY(parse_name(p, &e.name));
        TRY(parse_directives(p, 1, &e.directives, &e.ndirectives));
        close_loc(p, &e.loc);
        TRY(push(p, &e, sizeof(e)));
    } while (p->tok.kind != GQL_TOK_BRACE_R);
    TRY(LIST_FINISH(p, mark, d->enum_values, d->nenum_values));
    return advance(p);
}

static const char *const directive_locations[] = {
    "QUERY",
    "MUTATION",
    "SUBSCRIPTION",
    "FIELD",
    "FRAGMENT_DEFINITION",
    "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT",
    "VARIABLE_DEFINITION",
    "SCHEMA",
    "SCALAR",
    "OBJECT",
    "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION",
    "INTERFACE",
    "UNION",
    "ENUM",
    "ENUM_VALUE",
    "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION",
};

static int is_directive_location(const struct gql_token *t) {
    for (size_t i = 0; i < sizeof(directive_locations) / sizeof(directive_locations[0]); i++)
        if (is_kw(t, directive_locations[i]))
            return 1;
    return 0;
}

/* `sep? Name (sep Name)*` after the current token (a keyword or '='):
 * implements (sep '&'), union members and directive locations (sep '|';
 * locations each checked to be a DirectiveLocation). */
static int parse_names(struct parser *p, enum gql_token_kind sep, int locations, struct gql_name **ret, size_t *ret_n) {
    TRY(advance(p));
    if (p->tok.kind == sep)
        TRY(advance(p));
    size_t mark = p->top;
    for (;;) {
        struct gql_name n;
        if (locations && p->tok.kind == GQL_TOK_NAME && !is_directive_location(&p->tok))
            return unexpected(p, &p->tok);
        TRY(parse_name(p, &n));
        TRY(push(p, &n, sizeof(n)));
        if (p->tok.kind != sep)
            break;
        TRY(advance(p));
    }
    return LIST_FINISH(p, mark, *ret, *ret_n);
}

static int parse_directive_def(struct parser *p, struct gql_definition *d) {
    d->kind = GQL_DEF_DIRECTIVE;
    TRY(advance(p));
    TRY(expect(p, GQL_TOK_AT));
    TRY(parse_name(p, &d->name));
    if (p->tok.kind == GQL_TOK_PAREN_L)
        TRY(parse_input_value_defs(p, GQL_TOK_PAREN_R, &d->args, &d->nargs));
    if (is_kw(&p->tok, "repeatable")) {
        d->repeatable = 1;
        TRY(advance(p));
    }
    if (!is_kw(&p->tok, "on"))
        return expect_kw(p, "on");
    return parse_names(p, GQL_TOK_PIPE, 1, &d->locations, &d->nlocations);
}

static int is_type_system_kw(const struct gql_token *t) {
    static const char *const kws[] = {"schema", "scalar", "type", "interface", "union", "enum", "input", "directive"};
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
        if (is_kw(t, kws[i]))
            return 1;
    return 0;
}

/* A type-system definition, or with ext an extension (after `extend`),
 * from its keyword. */
static int parse_type_system(struct parser *p, struct gql_definition *d, int ext) {
    struct gql_token kw = p->tok;
    d->extension = ext;
    if (is_kw(&kw, "directive") && !ext)
        return parse_directive_def(p, d);
    if (is_kw(&kw, "schema")) {
        d->kind = GQL_DEF_SCHEMA;
        TRY(advance(p));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        if (ext && p->tok.kind != GQL_TOK_BRACE_L) {
            if (d->ndirectives == 0)
                return unexpected(p, &p->tok);
            return 0;
        }
        TRY(expect(p, GQL_TOK_BRACE_L));
        size_t mark = p->top;
        do {
            struct gql_root_operation op;
            memset(&op, 0, sizeof(op));
            op.loc = p->tok.loc;
            int t = operation_type(&p->tok);
            if (t < 0)
                return unexpected(p, &p->tok);
            op.operation = (enum gql_operation_type)t;
            TRY(advance(p));
            TRY(expect(p, GQL_TOK_COLON));
            TRY(parse_name(p, &op.type));
            close_loc(p, &op.loc);
            TRY(push(p, &op, sizeof(op)));
        } while (p->tok.kind != GQL_TOK_BRACE_R);
        TRY(LIST_FINISH(p, mark, d->root_operations, d->nroot_operations));
        return advance(p);
    }
    size_t parts;
    if (is_kw(&kw, "scalar")) {
        d->kind = GQL_DEF_SCALAR;
        TRY(advance(p));
        TRY(parse_name(p, &d->name));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        parts = d->ndirectives;
    } else if (is_kw(&kw, "type") || is_kw(&kw, "interface")) {
        d->kind = is_kw(&kw, "type") ? GQL_DEF_OBJECT : GQL_DEF_INTERFACE;
        TRY(advance(p));
        TRY(parse_name(p, &d->name));
        if (is_kw(&p->tok, "implements"))
            TRY(parse_names(p, GQL_TOK_AMP, 0, &d->interfaces, &d->ninterfaces));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        if (p->tok.kind == GQL_TOK_BRACE_L)
            TRY(parse_fields_def(p, d));
        parts = d->ninterfaces + d->ndirectives + d->nfields;
    } else if (is_kw(&kw, "union")) {
        d->kind = GQL_DEF_UNION;
        TRY(advance(p));
        TRY(parse_name(p, &d->name));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        if (p->tok.kind == GQL_TOK_EQUALS)
            TRY(parse_names(p, GQL_TOK_PIPE, 0, &d->members, &d->nmembers));
        parts = d->ndirectives + d->nmembers;
    } else if (is_kw(&kw, "enum")) {
        d->kind = GQL_DEF_ENUM;
        TRY(advance(p));
        TRY(parse_name(p, &d->name));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        if (p->tok.kind == GQL_TOK_BRACE_L)
            TRY(parse_enum_values_def(p, d));
        parts = d->ndirectives + d->nenum_values;
    } else if (is_kw(&kw, "input")) {
        d->kind = GQL_DEF_INPUT_OBJECT;
        TRY(advance(p));
        TRY(parse_name(p, &d->name));
        TRY(parse_directives(p, 1, &d->directives, &d->ndirectives));
        if (p->tok.kind == GQL_TOK_BRACE_L)
            TRY(parse_input_value_defs(p, GQL_TOK_BRACE_R, &d->input_fields, &d->ninput_fields));
        parts = d->ndirectives + d->ninput_fields;
    } else {
        return unexpected(p, &kw);
    }
    /* An extension must add something. */
    if (ext && parts == 0)
        return unexpected(p, &p->tok);
    return 0;
}

/* --- documents ----------------------------------------------------------------------------- */

static int parse_definition(struct parser *p, struct gql_definition *d) {
    memset(d, 0, sizeof(*d));
    d->loc = p->tok.loc;
    struct gql_token first = p->tok;
    int r;
    if (first.kind == GQL_TOK_BRACE_L) {
        d->kind = GQL_DEF_OPERATION;
        d->operation = GQL_OP_QUERY;
        r = parse_selection_set(p, &d->selections);
    } else if (is_string(&first)) {
        TRY(parse_description(p, &d->description));
        if (p->tok.kind != GQL_TOK_NAME)
            return unexpected(p, &p->tok);
        if (!is_type_system_kw(&p->tok))
            return fail_at(p, LK_EINVAL, &first.loc,
                           "Unexpected description, descriptions are supported only on type definitions.");
        r = parse_type_system(p, d, 0);
    } else if (operation_type(&first) >= 0) {
        r = parse_operation(p, d);
    } else if (is_kw(&first, "fragment")) {
        r = parse_fragment(p, d);
    } else if (is_type_system_kw(&first)) {
        r = parse_type_system(p, d, 0);
    } else if (is_kw(&first, "extend")) {
        TRY(advance(p));
        r = parse_type_system(p, d, 1);
    } else {
        return unexpected(p, &first);
    }
    if (r != 0)
        return r;
    close_loc(p, &d->loc);
    return 0;
}

static int parse_document(struct parser *p, struct gql_document *doc) {
    TRY(advance(p));
    if (p->tok.kind == GQL_TOK_EOF)
        return unexpected(p, &p->tok);
    size_t mark = p->top;
    do {
        struct gql_definition d;
        TRY(parse_definition(p, &d));
        TRY(push(p, &d, sizeof(d)));
    } while (p->tok.kind != GQL_TOK_EOF);
    return LIST_FINISH(p, mark, doc->definitions, doc->count);
}

int gql_parse(const char *src, size_t len, const struct gql_limits *limits, struct gql_document **ret,
              struct gql_error *err) {
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : GQL_DEFAULT_MAX_BYTES;
    size_t max_tokens = limits && limits->max_tokens ? limits->max_tokens : GQL_DEFAULT_MAX_TOKENS;
    unsigned max_depth = limits && limits->max_depth ? limits->max_depth : GQL_DEFAULT_MAX_DEPTH;
    if (max_bytes > GQL_HARD_MAX_BYTES)
        max_bytes = GQL_HARD_MAX_BYTES;
    if (max_tokens > GQL_HARD_MAX_TOKENS)
        max_tokens = GQL_HARD_MAX_TOKENS;
    if (max_depth > GQL_HARD_MAX_DEPTH)
        max_depth = GQL_HARD_MAX_DEPTH;
    if (len > max_bytes)
        return gql_error_at(err, LK_ERANGE, src, len, (size_t)-1, "Document is larger than %zu bytes.", max_bytes);

    struct parser p;
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.max_depth = max_depth;
    p.arena = arena_new(0);
    if (p.arena == NULL)
        return nomem(&p);
    int r = LK_ENOMEM;
    struct gql_document *doc = arena_alloc(p.arena, sizeof(*doc));
    if (doc == NULL) {
        nomem(&p);
        goto out;
    }
    gql_lexer_init(&p.lx, src, len, max_tokens, p.arena);
    r = parse_document(&p, doc);
    if (r != 0)
        goto out;
    doc->tokens = p.lx.tokens;
    doc->arena = p.arena;
    p.arena = NULL;
    *ret = doc;
out:
    free(p.scratch);
    arena_free(p.arena);
    return r;
}

void gql_document_free(struct gql_document *doc) {
    if (doc != NULL)
        arena_free(doc->arena);
}

const char *gql_operation_type_name(enum gql_operation_type t) {
    switch (t) {
    case GQL_OP_QUERY: return "query";
    case GQL_OP_MUTATION: return "mutation";
    case GQL_OP_SUBSCRIPTION: return "subscription";
    }
    return "query";
}
