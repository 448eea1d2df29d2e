/*
 * fuzz_graphql.c - libFuzzer harness for the GraphQL lexer, parser and
 * printer (core/graphql.h, core/graphql_lex.h).
 *
 * The input is a document, used three ways:
 *   1. Lexed to its end: tokens come in order without overlap, each at the
 *      line and column a reference count from the start of the input gives;
 *      names are [_A-Za-z][_0-9A-Za-z]*; string values are UTF-8, block
 *      string values hold no CR.
 *   2. Parsed with the default limits: the answer is 0, LK_EINVAL or
 *      LK_ERANGE; a refusal leaves *ret untouched, says "Syntax Error: ..."
 *      in well-formed UTF-8 without control characters, at a place inside
 *      the input (no place only for the size limit), and no later than
 *      where the lexer stopped. An accepted document has every node inside
 *      the input, nests no deeper than the limit, holds no more tokens than
 *      the limit and the lexer counted, takes memory linear in its tokens
 *      and bytes, and prints to UTF-8 text that parses back to an equal
 *      tree and prints again to the same text.
 *   3. Parsed with tight limits (64 tokens, depth 4): it may only add
 *      LK_ERANGE refusals, no later than the default refusal; otherwise
 *      the answer is the default one.
 * Invariant failures abort(). No state is kept between inputs.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/graphql.h"
#include "core/graphql_lex.h"
#include "lib/arena.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- places ---- */

/* A reference position walker: line and column of each offset, moved
 * forward only. */
struct walker {
    const char *s;
    size_t len, pos;
    uint32_t line, col;
};

static void walk_to(struct walker *w, size_t to) {
    CHECK(to >= w->pos && to <= w->len);
    for (; w->pos < to; w->pos++) {
        unsigned char c = (unsigned char)w->s[w->pos];
        if (c == '\n' || (c == '\r' && (w->pos + 1 >= w->len || w->s[w->pos + 1] != '\n'))) {
            w->line++;
            w->col = 1;
        } else if (c != '\r' && (c & 0xC0) != 0x80) {
            w->col++;
        }
    }
}

/* The last line of the input and the most columns any line has, plus one. */
static void extent(const char *s, size_t len, uint32_t *ret_lines, uint32_t *ret_cols) {
    struct walker w = {s, len, 0, 1, 1};
    uint32_t cols = 1;
    for (size_t i = 0; i < len; i++) {
        walk_to(&w, i + 1);
        if (w.col > cols)
            cols = w.col;
    }
    *ret_lines = w.line;
    *ret_cols = cols;
}

static int before_or_at(uint32_t l1, uint32_t c1, uint32_t l2, uint32_t c2) {
    return l1 < l2 || (l1 == l2 && c1 <= c2);
}

static void check_message(const struct gql_error *e, int code) {
    CHECK(e->code == code);
    size_t n = strnlen(e->message, sizeof(e->message));
    CHECK(n < sizeof(e->message));
    CHECK(strncmp(e->message, "Syntax Error: ", 14) == 0);
    CHECK(str_utf8_valid(e->message, n));
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)e->message[i] >= 0x20 && e->message[i] != 0x7F);
}

/* ---- 1. the lexer ---- */

struct lex_result {
    int r;
    uint32_t line, col; /* where it stopped on an error */
    size_t tokens;
};

static int is_name(const char *s, size_t n) {
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return 0;
    return 1;
}

static struct lex_result lex_all(const char *s, size_t len) {
    struct lex_result res = {0};
    struct arena *a = arena_new(0);
    CHECK(a != NULL);
    struct gql_lexer lx;
    gql_lexer_init(&lx, s, len, GQL_DEFAULT_MAX_TOKENS, a);
    struct walker w = {s, len, 0, 1, 1};
    size_t prev_end = 0;
    for (;;) {
        struct gql_token t;
        struct gql_error err = {0};
        int r = gql_lex_next(&lx, &t, &err);
        if (r != 0) {
            CHECK(r == LK_EINVAL || r == LK_ERANGE);
            check_message(&err, r);
            CHECK(err.line >= 1 && err.column >= 1);
            CHECK(before_or_at(w.line, w.col, err.line, err.column));
            res.r = r;
            res.line = err.line;
            res.col = err.column;
            break;
        }
        CHECK(t.loc.start >= prev_end && t.loc.start <= t.loc.end && t.loc.end <= len);
        walk_to(&w, t.loc.start);
        CHECK(t.loc.line == w.line && t.loc.column == w.col);
        prev_end = t.loc.end;
        if (t.kind == GQL_TOK_EOF) {
            CHECK(t.loc.start == t.loc.end && t.loc.end == len);
            CHECK(res.tokens == lx.tokens);
            break;
        }
        res.tokens++;
        switch (t.kind) {
        case GQL_TOK_NAME: CHECK(is_name(t.text, t.len)); break;
        case GQL_TOK_INT:
        case GQL_TOK_FLOAT: CHECK(t.text == s + t.loc.start && t.len == t.loc.end - t.loc.start); break;
        case GQL_TOK_STRING:
        case GQL_TOK_BLOCK_STRING:
            CHECK(str_utf8_valid(t.text, t.len));
            CHECK(t.text[t.len] == '\0');
            if (t.kind == GQL_TOK_BLOCK_STRING)
                CHECK(memchr(t.text, '\r', t.len) == NULL);
            break;
        default: CHECK(t.text == NULL); break;
        }
    }
    arena_free(a);
    return res;
}

/* ---- 2. the tree ---- */

struct bounds {
    size_t len;
    unsigned depth; /* deepest nesting seen */
};

static void check_loc(const struct bounds *b, const struct gql_loc *l) {
    CHECK(l->line >= 1 && l->column >= 1);
    CHECK(l->start <= l->end && l->end <= b->len);
}

static void check_name(const struct bounds *b, const struct gql_name *n) {
    if (n->s == NULL)
        return;
    CHECK(is_name(n->s, n->len) && n->s[n->len] == '\0');
    check_loc(b, &n->loc);
    CHECK(n->loc.end - n->loc.start == n->len);
}

static void note_depth(struct bounds *b, unsigned d) {
    if (d > b->depth)
        b->depth = d;
}

static void check_value(struct bounds *b, const struct gql_value *v, unsigned depth);

static void check_args(struct bounds *b, const struct gql_argument *a, size_t n, unsigned depth) {
    CHECK((n == 0) == (a == NULL));
    for (size_t i = 0; i < n; i++) {
        check_loc(b, &a[i].loc);
        check_name(b, &a[i].name);
        CHECK(a[i].name.s != NULL);
        check_value(b, &a[i].value, depth);
    }
}

static void check_value(struct bounds *b, const struct gql_value *v, unsigned depth) {
    check_loc(b, &v->loc);
    switch (v->kind) {
    case GQL_VALUE_VARIABLE:
    case GQL_VALUE_ENUM: check_name(b, &v->name); break;
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT:
    case GQL_VALUE_STRING: CHECK(v->str.s != NULL && str_utf8_valid(v->str.s, v->str.len)); break;
    case GQL_VALUE_BOOLEAN:
    case GQL_VALUE_NULL: break;
    case GQL_VALUE_LIST:
        note_depth(b, depth + 1);
        for (size_t i = 0; i < v->list.count; i++)
            check_value(b, &v->list.items[i], depth + 1);
        break;
    case GQL_VALUE_OBJECT:
        note_depth(b, depth + 1);
        check_args(b, v->object.fields, v->object.count, depth + 1);
        break;
    default: CHECK(!"value kind");
    }
}

static void check_directives(struct bounds *b, const struct gql_directive *d, size_t n, unsigned depth) {
    CHECK((n == 0) == (d == NULL));
    for (size_t i = 0; i < n; i++) {
        check_loc(b, &d[i].loc);
        check_name(b, &d[i].name);
        check_args(b, d[i].args, d[i].nargs, depth);
    }
}

static void check_type(struct bounds *b, const struct gql_type *t, unsigned depth) {
    CHECK(t != NULL);
    check_loc(b, &t->loc);
    switch (t->kind) {
    case GQL_TYPE_NAMED: check_name(b, &t->name); break;
    case GQL_TYPE_LIST:
        note_depth(b, depth + 1);
        check_type(b, t->of, depth + 1);
        break;
    case GQL_TYPE_NON_NULL:
        CHECK(t->of->kind != GQL_TYPE_NON_NULL);
        check_type(b, t->of, depth);
        break;
    default: CHECK(!"type kind");
    }
}

static void check_selections(struct bounds *b, const struct gql_selection_set *set, unsigned depth) {
    if (set->count == 0) {
        CHECK(set->items == NULL);
        return;
    }
    check_loc(b, &set->loc);
    note_depth(b, depth + 1);
    for (size_t i = 0; i < set->count; i++) {
        const struct gql_selection *s = &set->items[i];
        check_loc(b, &s->loc);
        check_name(b, &s->alias);
        check_name(b, &s->name);
        check_name(b, &s->type_condition);
        check_args(b, s->args, s->nargs, depth + 1);
        check_directives(b, s->directives, s->ndirectives, depth + 1);
        check_selections(b, &s->selections, depth + 1);
        if (s->kind == GQL_SEL_INLINE_FRAGMENT)
            CHECK(s->selections.count > 0);
        if (s->kind == GQL_SEL_FRAGMENT_SPREAD)
            CHECK(s->name.s != NULL && strcmp(s->name.s, "on") != 0);
    }
}

static void check_input_values(struct bounds *b, const struct gql_input_value_def *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        check_loc(b, &v[i].loc);
        check_name(b, &v[i].name);
        check_type(b, v[i].type, 0);
        if (v[i].default_value != NULL)
            check_value(b, v[i].default_value, 0);
        check_directives(b, v[i].directives, v[i].ndirectives, 0);
    }
}

static void check_document(struct bounds *b, const struct gql_document *doc) {
    CHECK(doc->count >= 1);
    for (size_t i = 0; i < doc->count; i++) {
        const struct gql_definition *d = &doc->definitions[i];
        check_loc(b, &d->loc);
        check_name(b, &d->name);
        check_name(b, &d->type_condition);
        if (d->description.s != NULL)
            CHECK(str_utf8_valid(d->description.s, d->description.len));
        check_directives(b, d->directives, d->ndirectives, 0);
        check_selections(b, &d->selections, 0);
        for (size_t k = 0; k < d->nvariables; k++) {
            check_loc(b, &d->variables[k].loc);
            check_name(b, &d->variables[k].name);
            check_type(b, d->variables[k].type, 0);
            if (d->variables[k].default_value != NULL)
                check_value(b, d->variables[k].default_value, 0);
            check_directives(b, d->variables[k].directives, d->variables[k].ndirectives, 0);
        }
        for (size_t k = 0; k < d->nfields; k++) {
            check_loc(b, &d->fields[k].loc);
            check_name(b, &d->fields[k].name);
            check_input_values(b, d->fields[k].args, d->fields[k].nargs);
            check_type(b, d->fields[k].type, 0);
            check_directives(b, d->fields[k].directives, d->fields[k].ndirectives, 0);
        }
        check_input_values(b, d->input_fields, d->ninput_fields);
        check_input_values(b, d->args, d->nargs);
        for (size_t k = 0; k < d->nenum_values; k++) {
            check_loc(b, &d->enum_values[k].loc);
            check_name(b, &d->enum_values[k].name);
            check_directives(b, d->enum_values[k].directives, d->enum_values[k].ndirectives, 0);
            CHECK(strcmp(d->enum_values[k].name.s, "true") != 0 && strcmp(d->enum_values[k].name.s, "null") != 0 &&
                  strcmp(d->enum_values[k].name.s, "false") != 0);
        }
        for (size_t k = 0; k < d->nroot_operations; k++) {
            check_loc(b, &d->root_operations[k].loc);
            check_name(b, &d->root_operations[k].type);
        }
        for (size_t k = 0; k < d->ninterfaces; k++)
            check_name(b, &d->interfaces[k]);
        for (size_t k = 0; k < d->nmembers; k++)
            check_name(b, &d->members[k]);
        for (size_t k = 0; k < d->nlocations; k++)
            check_name(b, &d->locations[k]);
        if (d->kind == GQL_DEF_OPERATION || d->kind == GQL_DEF_FRAGMENT)
            CHECK(d->selections.count > 0);
        if (d->kind == GQL_DEF_FRAGMENT)
            CHECK(d->type_condition.s != NULL && strcmp(d->name.s, "on") != 0);
    }
}

/* Printed text parses back to an equal tree and prints the same again. */
static void check_round_trip(const struct gql_document *doc) {
    char *p1 = NULL, *p2 = NULL;
    size_t n1 = 0, n2 = 0;
    CHECK(gql_print(doc, &p1, &n1) == 0);
    CHECK(strlen(p1) == n1 && str_utf8_valid(p1, n1));
    struct gql_limits hard = {GQL_HARD_MAX_BYTES, GQL_HARD_MAX_TOKENS, GQL_HARD_MAX_DEPTH};
    struct gql_document *again = NULL;
    struct gql_error err = {0};
    int r = gql_parse(p1, n1, &hard, &again, &err);
    if (r != 0)
        fprintf(stderr, "printed text refused: %s (%u:%u)\n%s\n", err.message, err.line, err.column, p1);
    CHECK(r == 0);
    CHECK(gql_document_equal(doc, again));
    CHECK(gql_print(again, &p2, &n2) == 0);
    CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0);
    free(p1);
    free(p2);
    gql_document_free(again);
}

/* ---- the three uses ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    if (size > GQL_DEFAULT_MAX_BYTES)
        return 0;
    struct lex_result lexed = lex_all(s, size);
    uint32_t lines, cols;
    extent(s, size, &lines, &cols);

    /* 2. default limits */
    struct gql_document *sentinel = (struct gql_document *)(uintptr_t)1, *doc = sentinel;
    struct gql_error err = {0};
    int r = gql_parse(s, size, NULL, &doc, &err);
    if (r != 0) {
        CHECK(r == LK_EINVAL || r == LK_ERANGE);
        CHECK(doc == sentinel);
        check_message(&err, r);
        CHECK(err.line >= 1 && err.line <= lines && err.column >= 1 && err.column <= cols);
        if (lexed.r != 0)
            CHECK(before_or_at(err.line, err.column, lexed.line, lexed.col));
    } else {
        CHECK(lexed.r == 0);
        CHECK(doc->tokens == lexed.tokens && doc->tokens <= GQL_DEFAULT_MAX_TOKENS);
        struct bounds b = {size, 0};
        check_document(&b, doc);
        CHECK(b.depth <= GQL_DEFAULT_MAX_DEPTH);
        /* memory: a bounded amount a token, plus the bytes of names,
         * numbers and strings */
        CHECK(arena_used(doc->arena) <= 256 * (doc->tokens + 1) + 2 * size);
        check_round_trip(doc);
    }

    /* 3. tight limits add only LK_ERANGE */
    struct gql_limits tight = {.max_tokens = 64, .max_depth = 4};
    struct gql_document *small = sentinel;
    struct gql_error err2 = {0};
    int r2 = gql_parse(s, size, &tight, &small, &err2);
    if (r2 == 0) {
        CHECK(r == 0 && gql_document_equal(doc, small));
        gql_document_free(small);
    } else if (r2 == LK_ERANGE) {
        CHECK(small == sentinel);
        check_message(&err2, r2);
        /* No later than the default refusal, unless that one is placed at
         * a token before the one that showed it (a description before a
         * keyword that takes none, a '$' before a name where a constant
         * is wanted). */
        if (r != 0 && strstr(err.message, "Unexpected description") == NULL &&
            strstr(err.message, "in constant value") == NULL && strstr(err.message, "Unexpected \"$\".") == NULL)
            CHECK(before_or_at(err2.line, err2.column, err.line, err.column));
    } else {
        CHECK(r2 == r && strcmp(err2.message, err.message) == 0 && err2.line == err.line && err2.column == err.column);
    }
    if (r == 0) {
        struct bounds b = {size, 0};
        check_document(&b, doc);
        if (doc->tokens <= 64 && b.depth <= 4)
            CHECK(r2 == 0);
        gql_document_free(doc);
    }
    return 0;
}
