/*
 * graphql_validate.c - a request's document checked against the schema
 * (graphql_validate.h): the validation rules of the GraphQL specification
 * (October 2021, section 5) with graphql-js's (v16) messages and
 * locations, then the server's cost limits.
 *
 * The rules run in one walk over the document in graphql-js's order of
 * rules at each node, so several errors come in the order graphql-js
 * gives them. A first walk over the same tree only records where each
 * variable is used (and with what type expected), because an operation's
 * checks of its variables, made when the walk leaves it, need the uses
 * inside fragments defined later in the document.
 *
 * It must never recurse deeper than the parser does: the walk follows the
 * tree's own nesting (bounded by GQL_HARD_MAX_DEPTH) and never expands a
 * fragment spread by recursion. Everything that follows spreads (cycles,
 * the fragments an operation uses, the subscription's fields, field
 * merging, the cost count) uses explicit stacks, visited sets or
 * memoised results; field merging, whose comparisons nest through
 * fragments, stops at a nesting bound and a work budget and says so.
 *
 * Scratch memory comes from one arena (and three hash tables and a stack
 * from malloc), all freed before gql_validate returns; out of memory
 * anywhere ends the validation with LK_ENOMEM.
 */
#include "core/graphql_validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/arena.h"
#include "lib/str.h"

/*
 * Field merging compares fields pairwise, which a document of thousands
 * of fields of one response name would make quadratic, and walks pairs of
 * fragments, which many spreads make quadratic too. graphql-js memoises
 * fragment pairs (so does this) but has no bound; here all that work
 * (each field pair compared, each field-set/fragment or fragment pair
 * visited, each response name looked up) is counted, and past
 * MERGE_MAX_WORK the document is refused with a message saying so. Real
 * queries (the standard introspection query included) stay far below it.
 */
#define MERGE_MAX_WORK 1000000u

/* How deep field merging may follow fields through fragments: past it the
 * document is refused (no real query nests this deep). */
#define MERGE_MAX_NEST GQL_HARD_MAX_DEPTH

/* Echoed values are cut like the parser cuts them. */
#define ECHO_CAP (GQL_ECHO_MAX * 4 + 4)
#define TYPE_CAP 128

/* --- scratch structures -------------------------------------------------------- */

/* Open-addressing map from a pair of words to a word. */
struct hslot {
    uintptr_t a, b;
    intptr_t v;
    int used;
};

struct hmap {
    struct hslot *slots;
    size_t cap, n;
};

/* Where a variable is used: the type expected there (NULL: unknown) and
 * whether that position has a default of its own (an argument's or input
 * field's). */
struct usage {
    const struct gql_value *var;
    const struct gql_type *type;
    int has_default;
};

/* One definition of the document. */
struct definfo {
    const struct gql_selection **spreads; /* graphql-js's getFragmentSpreads order */
    long *targets;                        /* each spread's fragment, or -1 */
    size_t nspreads;
    struct usage *usages;
    size_t nusages, capusages;
    size_t first_same; /* the first operation or fragment of the same name */
};

/* A field as field merging sees it: its parent type, its node, its
 * definition (NULL when unknown). */
struct fentry {
    const struct gql_definition *parent;
    const struct gql_selection *node;
    const struct gql_field_def *def;
    size_t seq;
};

struct fgroup {
    const char *name;
    size_t start, count, first;
};

/* The fields of a selection set by response name (inline fragments
 * included) and the fragments it spreads directly. */
struct fieldmap {
    struct fentry *e;
    size_t ne;
    struct fgroup *g; /* sorted by name */
    size_t ng;
    size_t *order; /* group indices by first appearance */
    long *frags;   /* unique, in order of appearance; defined fragments only */
    size_t nfrags;
};

struct conflict {
    const char *name;
    const char *reason; /* NULL: subs holds the reasons */
    struct conflict *subs;
    size_t nsubs;
    const struct gql_selection **f1, **f2;
    size_t n1, n2;
};

struct cvec {
    struct conflict *v;
    size_t n, cap;
};

struct pairstack {
    long *v; /* pairs */
    size_t n, cap;
};

struct named_idx {
    const char *name;
    size_t idx;
};

struct cost {
    uint64_t depth, aliases, fields;
};

struct vctx {
    const struct gql_schema *s;
    const struct gql_document *doc;
    struct gql_diags *out;
    struct arena *a;
    size_t diag_cap;
    int stop, oom, collecting;
    struct definfo *info;
    struct definfo *cur;
    /* fragments: doc order, and sorted by name for lookups */
    size_t *frags; /* definition indices */
    size_t nfrags;
    struct named_idx *frag_sorted; /* by name, idx into frags */
    size_t noperations;
    /* field merging */
    struct hmap maps;       /* selection set -> fieldmap */
    struct hmap frag_pairs; /* (fragment, fragment) -> mutually exclusive */
    struct hmap map_frag;   /* (fieldmap, fragment) -> mutually exclusive */
    struct pairstack stack;
    unsigned *stamp;
    unsigned stamp_now;
    long *refs;        /* referenced_fragments' answer */
    size_t *refs_todo; /* and its stack */
    size_t work;
    unsigned nest;
    int merge_off, merge_deep, merge_reported;
};

/* --- small helpers --------------------------------------------------------------- */

static int name_eq(const struct gql_name *a, const struct gql_name *b) {
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static void *alloc(struct vctx *c, size_t n) {
    void *p = arena_alloc(c->a, n);
    if (p == NULL) {
        c->oom = 1;
        c->stop = 1;
    }
    return p;
}

/* n items of size sz, overflow-checked. */
static void *alloc_n(struct vctx *c, size_t n, size_t sz) {
    if (sz != 0 && n > SIZE_MAX / sz) {
        c->oom = c->stop = 1;
        return NULL;
    }
    return alloc(c, n * sz);
}

static const struct gql_definition *named(const struct vctx *c, const struct gql_type *t) {
    return t == NULL ? NULL : gql_schema_named(c->s, t);
}

static const struct gql_type *nullable(const struct gql_type *t) {
    return (t != NULL && t->kind == GQL_TYPE_NON_NULL) ? t->of : t;
}

static void type_put(const struct gql_type *t, char *out, size_t cap, size_t *pos) {
    if (t->kind == GQL_TYPE_LIST) {
        if (*pos + 1 < cap)
            out[(*pos)++] = '[';
        type_put(t->of, out, cap, pos);
        if (*pos + 1 < cap)
            out[(*pos)++] = ']';
    } else if (t->kind == GQL_TYPE_NON_NULL) {
        type_put(t->of, out, cap, pos);
        if (*pos + 1 < cap)
            out[(*pos)++] = '!';
    } else {
        for (size_t i = 0; i < t->name.len && *pos + 1 < cap; i++)
            out[(*pos)++] = t->name.s[i];
    }
    out[*pos] = '\0';
}

/* A type reference as graphql-js's inspect prints it: [Int!]! */
static const char *type_str(const struct gql_type *t, char *out, size_t cap) {
    size_t pos = 0;
    out[0] = '\0';
    type_put(t, out, cap, &pos);
    return out;
}

/* A value as graphql-js prints it, cut to GQL_ECHO_MAX bytes and escaped. */
static const char *value_str(struct vctx *c, const struct gql_value *v, char *out) {
    char *p = NULL;
    size_t n = 0;
    int r = gql_print_value(v, &p, &n);
    if (r != 0) {
        if (r == LK_ENOMEM)
            c->oom = c->stop = 1;
        snprintf(out, ECHO_CAP, "...");
        return out;
    }
    str_echo_n(p, n, GQL_ECHO_MAX, out, ECHO_CAP);
    free(p);
    return out;
}

/* --- diagnostics ------------------------------------------------------------------ */

void gql_diags_free(struct gql_diags *d) {
    if (d == NULL)
        return;
    free(d->items);
    d->items = NULL;
    d->count = 0;
    d->truncated = 0;
}

/* A new diagnostic, or NULL when none is to be made (the first walk, the
 * validation stopped, or the cap reached: then the last one says so). */
static struct gql_diag *diag_new(struct vctx *c) {
    if (c->collecting || c->stop)
        return NULL;
    struct gql_diags *o = c->out;
    if (o->count == c->diag_cap) {
        size_t cap = c->diag_cap ? c->diag_cap * 2 : 8;
        if (cap > GQL_DIAGS_MAX)
            cap = GQL_DIAGS_MAX;
        struct gql_diag *v = realloc(o->items, cap * sizeof(*v));
        if (v == NULL) {
            c->oom = c->stop = 1;
            return NULL;
        }
        o->items = v;
        c->diag_cap = cap;
    }
    struct gql_diag *d = &o->items[o->count++];
    memset(d, 0, sizeof(*d));
    if (o->count == GQL_DIAGS_MAX) {
        snprintf(d->message, sizeof(d->message),
                 "Too many validation errors, error limit reached. Validation aborted.");
        o->truncated = 1;
        c->stop = 1;
        return NULL;
    }
    return d;
}

static void diag_loc(struct gql_diag *d, const struct gql_loc *l) {
    if (d != NULL && l != NULL && d->nloc < GQL_DIAG_LOCS) {
        d->loc[d->nloc].line = l->line;
        d->loc[d->nloc].column = l->column;
        d->nloc++;
    }
}

static void diag_msg(struct gql_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diag_msg(struct gql_diag *d, const char *fmt, ...) {
    if (d == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(d->message)) {
        /* cut between characters */
        size_t len = strlen(d->message);
        d->message[str_utf8_prefix(d->message, len, len)] = '\0';
    }
}

/* The commonest shape: one place. */
#define DIAG1(c, l, ...)                                                                                               \
    do {                                                                                                               \
        struct gql_diag *d_ = diag_new(c);                                                                             \
        diag_loc(d_, l);                                                                                               \
        diag_msg(d_, __VA_ARGS__);                                                                                     \
    } while (0)

#define DIAG2(c, l1, l2, ...)                                                                                          \
    do {                                                                                                               \
        struct gql_diag *d_ = diag_new(c);                                                                             \
        diag_loc(d_, l1);                                                                                              \
        diag_loc(d_, l2);                                                                                              \
        diag_msg(d_, __VA_ARGS__);                                                                                     \
    } while (0)

/* --- hash map ------------------------------------------------------------------------ */

static size_t hslot_of(uintptr_t a, uintptr_t b, size_t cap) {
    uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ull ^ ((uint64_t)b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return (size_t)(h & (cap - 1));
}

static int hmap_get(const struct hmap *m, uintptr_t a, uintptr_t b, intptr_t *ret) {
    if (m->cap == 0)
        return 0;
    for (size_t i = hslot_of(a, b, m->cap);; i = (i + 1) & (m->cap - 1)) {
        const struct hslot *s = &m->slots[i];
        if (!s->used)
            return 0;
        if (s->a == a && s->b == b) {
            *ret = s->v;
            return 1;
        }
    }
}

static int hmap_put(struct vctx *c, struct hmap *m, uintptr_t a, uintptr_t b, intptr_t v) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct hslot *ns = calloc(cap, sizeof(*ns));
        if (ns == NULL) {
            c->oom = c->stop = 1;
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].used)
                continue;
            size_t j = hslot_of(m->slots[i].a, m->slots[i].b, cap);
            while (ns[j].used)
                j = (j + 1) & (cap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = cap;
    }
    size_t i = hslot_of(a, b, m->cap);
    while (m->slots[i].used && !(m->slots[i].a == a && m->slots[i].b == b))
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].used)
        m->n++;
    m->slots[i].used = 1;
    m->slots[i].a = a;
    m->slots[i].b = b;
    m->slots[i].v = v;
    return 0;
}

static void hmap_done(struct hmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static int stack_push(struct vctx *c, long a, long b) {
    struct pairstack *s = &c->stack;
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        long *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            c->oom = c->stop = 1;
            return -1;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = a;
    s->v[s->n++] = b;
    return 0;
}

/* --- fragments and spreads --------------------------------------------------------- */

static int named_idx_cmp(const void *x, const void *y) {
    const struct named_idx *a = x, *b = y;
    int r = strcmp(a->name, b->name);
    return r != 0 ? r : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

/* The fragment named name (the last one of that name, as graphql-js's
 * map keeps it), or -1. */
static long frag_lookup(const struct vctx *c, const char *name) {
    size_t lo = 0, hi = c->nfrags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->frag_sorted[mid].name, name) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || strcmp(c->frag_sorted[lo - 1].name, name) != 0)
        return -1;
    return (long)c->frag_sorted[lo - 1].idx;
}

static const struct gql_definition *frag_def(const struct vctx *c, long f) {
    return f < 0 ? NULL : &c->doc->definitions[c->frags[f]];
}

/* Selection sets and spreads under set (set included); the recursion
 * follows the tree's own nesting only. */
static void count_sets(const struct gql_selection_set *set, size_t *sets, size_t *spreads) {
    (*sets)++;
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].kind == GQL_SEL_FRAGMENT_SPREAD)
            (*spreads)++;
        else if (set->items[i].selections.count > 0)
            count_sets(&set->items[i].selections, sets, spreads);
    }
}

/* The spreads of a selection set in graphql-js's order (getFragmentSpreads:
 * sets taken from a stack). */
static int collect_spreads(struct vctx *c, const struct gql_selection_set *root, struct definfo *di) {
    size_t nsets = 0, nspreads = 0, top = 0, k = 0;
    count_sets(root, &nsets, &nspreads);
    const struct gql_selection_set **stack = alloc_n(c, nsets, sizeof(*stack));
    di->spreads = alloc_n(c, nspreads ? nspreads : 1, sizeof(*di->spreads));
    if (stack == NULL || di->spreads == NULL)
        return -1;
    stack[top++] = root;
    while (top > 0) {
        const struct gql_selection_set *set = stack[--top];
        for (size_t i = 0; i < set->count; i++) {
            const struct gql_selection *sel = &set->items[i];
            if (sel->kind == GQL_SEL_FRAGMENT_SPREAD)
                di->spreads[k++] = sel;
            else if (sel->selections.count > 0)
                stack[top++] = &sel->selections;
        }
    }
    di->nspreads = k;
    return 0;
}

/* --- walking state ------------------------------------------------------------------- */

static void record_usage(struct vctx *c, const struct gql_value *v, const struct gql_type *type, int has_default) {
    struct definfo *di = c->cur;
    if (!c->collecting || di == NULL || c->stop)
        return;
    if (di->nusages == di->capusages) {
        size_t cap = di->capusages ? di->capusages * 2 : 8;
        struct usage *u = alloc_n(c, cap, sizeof(*u));
        if (u == NULL)
            return;
        if (di->nusages)
            memcpy(u, di->usages, di->nusages * sizeof(*u));
        di->usages = u;
        di->capusages = cap;
    }
    di->usages[di->nusages].var = v;
    di->usages[di->nusages].type = type;
    di->usages[di->nusages].has_default = has_default;
    di->nusages++;
}

/* --- values of correct type ------------------------------------------------------------ */

static int is_builtin(const struct gql_definition *t, const char *name) {
    return strcmp(t->name.s, name) == 0;
}

/* Int: 32 bits, from the digits as written. */
static int int_in_range(const struct gql_str *s) {
    const char *p = s->s;
    size_t n = s->len;
    int neg = 0;
    if (n > 0 && p[0] == '-') {
        neg = 1;
        p++;
        n--;
    }
    if (n == 0 || n > 10)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    return neg ? v <= 2147483648ll : v <= 2147483647ll;
}

/* graphql-js's isValidValueNode: a literal where a leaf (or another
 * non-list, non-object) type is expected. */
static void check_literal(struct vctx *c, const struct gql_value *v, const struct gql_type *loc_type) {
    if (loc_type == NULL || c->collecting || c->stop)
        return;
    const struct gql_definition *t = named(c, loc_type);
    if (t == NULL)
        return;
    char vs[ECHO_CAP], ts[TYPE_CAP];
    if (!gql_type_is_leaf(t)) {
        DIAG1(c, &v->loc, "Expected value of type \"%s\", found %s.", type_str(loc_type, ts, sizeof(ts)),
              value_str(c, v, vs));
        return;
    }
    if (t->kind == GQL_DEF_ENUM) {
        if (v->kind != GQL_VALUE_ENUM)
            DIAG1(c, &v->loc, "Enum \"%s\" cannot represent non-enum value: %s.", t->name.s, value_str(c, v, vs));
        else if (gql_schema_enum_value(t, v->name.s, v->name.len) == NULL)
            DIAG1(c, &v->loc, "Value \"%s\" does not exist in \"%s\" enum.", value_str(c, v, vs), t->name.s);
        return;
    }
    if (is_builtin(t, "Int")) {
        if (v->kind != GQL_VALUE_INT)
            DIAG1(c, &v->loc, "Int cannot represent non-integer value: %s", value_str(c, v, vs));
        else if (!int_in_range(&v->str))
            DIAG1(c, &v->loc, "Int cannot represent non 32-bit signed integer value: %s", value_str(c, v, vs));
    } else if (is_builtin(t, "Float")) {
        /* graphql-js takes 1e400 as Infinity; a Float here is finite. */
        if ((v->kind != GQL_VALUE_INT && v->kind != GQL_VALUE_FLOAT) || !isfinite(strtod(v->str.s, NULL)))
            DIAG1(c, &v->loc, "Float cannot represent non numeric value: %s", value_str(c, v, vs));
    } else if (is_builtin(t, "String")) {
        if (v->kind != GQL_VALUE_STRING)
            DIAG1(c, &v->loc, "String cannot represent a non string value: %s", value_str(c, v, vs));
    } else if (is_builtin(t, "Boolean")) {
        if (v->kind != GQL_VALUE_BOOLEAN)
            DIAG1(c, &v->loc, "Boolean cannot represent a non boolean value: %s", value_str(c, v, vs));
    } else if (is_builtin(t, "ID")) {
        if (v->kind != GQL_VALUE_STRING && v->kind != GQL_VALUE_INT)
            DIAG1(c, &v->loc, "ID cannot represent a non-string and non-integer value: %s", value_str(c, v, vs));
    }
    /* Custom scalars (Time, Duration, JSON) take any literal: the executor
     * checks them. */
}

/*
 * A value at a position expecting type (NULL: unknown), as graphql-js's
 * TypeInfo sees it; correct says ValuesOfCorrectType still looks (it stops
 * below a literal it has refused or handed to a scalar whole). Variables
 * are recorded for the operation's checks.
 */
static void visit_value(struct vctx *c, const struct gql_value *v, const struct gql_type *type, int has_default,
                        int correct) {
    char ts[TYPE_CAP];
    if (c->stop)
        return;
    switch (v->kind) {
    case GQL_VALUE_VARIABLE: record_usage(c, v, type, has_default); return;
    case GQL_VALUE_NULL:
        if (correct && type != NULL && type->kind == GQL_TYPE_NON_NULL)
            DIAG1(c, &v->loc, "Expected value of type \"%s\", found null.", type_str(type, ts, sizeof(ts)));
        return;
    case GQL_VALUE_LIST: {
        const struct gql_type *lt = nullable(type);
        const struct gql_type *item = (lt != NULL && lt->kind == GQL_TYPE_LIST) ? lt->of : lt;
        if (correct && (lt == NULL || lt->kind != GQL_TYPE_LIST)) {
            check_literal(c, v, type);
            correct = 0;
        }
        for (size_t i = 0; i < v->list.count && !c->stop; i++)
            visit_value(c, &v->list.items[i], item, 0, correct);
        return;
    }
    case GQL_VALUE_OBJECT: {
        const struct gql_definition *t = named(c, type);
        int is_input = t != NULL && t->kind == GQL_DEF_INPUT_OBJECT;
        if (correct && is_input) {
            for (size_t i = 0; i < t->ninput_fields; i++) {
                const struct gql_input_value_def *f = &t->input_fields[i];
                if (f->type->kind != GQL_TYPE_NON_NULL || f->default_value != NULL)
                    continue;
                size_t k = 0;
                while (k < v->object.count && strcmp(v->object.fields[k].name.s, f->name.s) != 0)
                    k++;
                if (k == v->object.count)
                    DIAG1(c, &v->loc, "Field \"%s.%s\" of required type \"%s\" was not provided.", t->name.s, f->name.s,
                          type_str(f->type, ts, sizeof(ts)));
            }
        } else if (correct) {
            check_literal(c, v, type);
            correct = 0;
        }
        for (size_t i = 0; i < v->object.count && !c->stop; i++) {
            const struct gql_argument *f = &v->object.fields[i];
            const struct gql_input_value_def *fd =
                is_input ? gql_schema_input_value(t->input_fields, t->ninput_fields, f->name.s, f->name.len) : NULL;
            if (correct && is_input && fd == NULL)
                DIAG1(c, &f->loc, "Field \"%s\" is not defined by type \"%s\".", f->name.s, t->name.s);
            /* Unique Input Field Names */
            if (!c->collecting) {
                size_t j = 0;
                while (j < i && !name_eq(&v->object.fields[j].name, &f->name))
                    j++;
                if (j < i)
                    DIAG2(c, &v->object.fields[j].name.loc, &f->name.loc,
                          "There can be only one input field named \"%s\".", f->name.s);
            }
            visit_value(c, &f->value, fd ? fd->type : NULL, fd != NULL && fd->default_value != NULL, correct);
        }
        return;
    }
    default:
        if (correct)
            check_literal(c, v, type);
        return;
    }
}

/* --- arguments and directives ------------------------------------------------------------ */

/* Unique Argument Names: one error per repeated name, at every use of it. */
static void unique_args(struct vctx *c, const struct gql_argument *args, size_t n) {
    if (c->collecting)
        return;
    for (size_t i = 0; i < n && !c->stop; i++) {
        size_t j = 0, dup = 0;
        while (j < i && !name_eq(&args[j].name, &args[i].name))
            j++;
        if (j < i)
            continue; /* reported with its first */
        for (size_t k = i + 1; k < n; k++)
            dup += name_eq(&args[k].name, &args[i].name);
        if (dup == 0)
            continue;
        struct gql_diag *d = diag_new(c);
        for (size_t k = i; k < n; k++)
            if (name_eq(&args[k].name, &args[i].name))
                diag_loc(d, &args[k].name.loc);
        diag_msg(d, "There can be only one argument named \"%s\".", args[i].name.s);
    }
}

/* Unique Directives Per Location (non-repeatable ones; unknown ones are
 * left to Known Directives). */
static void unique_directives(struct vctx *c, const struct gql_directive *dirs, size_t n) {
    if (c->collecting)
        return;
    for (size_t i = 0; i < n && !c->stop; i++) {
        const struct gql_definition *dd = gql_schema_directive(c->s, dirs[i].name.s, dirs[i].name.len);
        if (dd == NULL || dd->repeatable)
            continue;
        for (size_t j = 0; j < i; j++)
            if (name_eq(&dirs[j].name, &dirs[i].name)) {
                DIAG2(c, &dirs[j].loc, &dirs[i].loc, "The directive \"@%s\" can only be used once at this location.",
                      dirs[i].name.s);
                break;
            }
    }
}

static void visit_directives(struct vctx *c, const struct gql_directive *dirs, size_t n, const char *location) {
    char ts[TYPE_CAP];
    for (size_t i = 0; i < n && !c->stop; i++) {
        const struct gql_directive *d = &dirs[i];
        const struct gql_definition *dd = gql_schema_directive(c->s, d->name.s, d->name.len);
        if (!c->collecting) {
            if (dd == NULL) {
                DIAG1(c, &d->loc, "Unknown directive \"@%s\".", d->name.s);
            } else {
                size_t k = 0;
                while (k < dd->nlocations && strcmp(dd->locations[k].s, location) != 0)
                    k++;
                if (k == dd->nlocations)
                    DIAG1(c, &d->loc, "Directive \"@%s\" may not be used on %s.", d->name.s, location);
            }
            unique_args(c, d->args, d->nargs);
        }
        for (size_t k = 0; k < d->nargs && !c->stop; k++) {
            const struct gql_argument *a = &d->args[k];
            const struct gql_input_value_def *ad =
                dd ? gql_schema_input_value(dd->args, dd->nargs, a->name.s, a->name.len) : NULL;
            if (dd != NULL && ad == NULL && !c->collecting)
                DIAG1(c, &a->loc, "Unknown argument \"%s\" on directive \"@%s\".", a->name.s, d->name.s);
            visit_value(c, &a->value, ad ? ad->type : NULL, ad != NULL && ad->default_value != NULL, 1);
        }
        if (dd != NULL && !c->collecting)
            for (size_t k = 0; k < dd->nargs && !c->stop; k++) {
                const struct gql_input_value_def *ad = &dd->args[k];
                if (ad->type->kind != GQL_TYPE_NON_NULL || ad->default_value != NULL)
                    continue;
                size_t j = 0;
                while (j < d->nargs && strcmp(d->args[j].name.s, ad->name.s) != 0)
                    j++;
                if (j == d->nargs)
                    DIAG1(c, &d->loc,
                          "Directive \"@%s\" argument \"%s\" of type \"%s\" is required, but it was not provided.",
                          d->name.s, ad->name.s, type_str(ad->type, ts, sizeof(ts)));
            }
    }
}

/* --- types of fragments ---------------------------------------------------------------------- */

/* graphql-js's doTypesOverlap for composite types. */
static int types_overlap(const struct vctx *c, const struct gql_definition *a, const struct gql_definition *b) {
    if (a == b)
        return 1;
    if (gql_type_is_abstract(a)) {
        if (gql_type_is_abstract(b)) {
            const struct gql_definition *const *types;
            size_t n = gql_schema_types(c->s, &types);
            for (size_t i = 0; i < n; i++)
                if (gql_schema_possible(c->s, a, types[i]) && gql_schema_possible(c->s, b, types[i]))
                    return 1;
            return 0;
        }
        return gql_schema_possible(c->s, a, b);
    }
    if (gql_type_is_abstract(b))
        return gql_schema_possible(c->s, b, a);
    return 0;
}

static void check_merging(struct vctx *c, const struct gql_definition *parent, const struct gql_selection_set *set);

/* --- selections ------------------------------------------------------------------------------ */

static void visit_selections(struct vctx *c, const struct gql_selection_set *set, const struct gql_definition *parent) {
    char ts[TYPE_CAP];
    if (c->stop)
        return;
    if (!c->collecting)
        check_merging(c, parent, set);
    for (size_t i = 0; i < set->count && !c->stop; i++) {
        const struct gql_selection *sel = &set->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            const struct gql_field_def *fd =
                parent ? gql_schema_field(c->s, parent, sel->name.s, sel->name.len, 1) : NULL;
            const struct gql_definition *ft = fd ? named(c, fd->type) : NULL;
            if (!c->collecting) {
                /* Leaf Field Selections */
                if (fd != NULL && ft != NULL) {
                    if (gql_type_is_leaf(ft) && sel->selections.count > 0)
                        DIAG1(c, &sel->selections.loc,
                              "Field \"%s\" must not have a selection since type \"%s\" has no subfields.", sel->name.s,
                              type_str(fd->type, ts, sizeof(ts)));
                    else if (!gql_type_is_leaf(ft) && sel->selections.count == 0)
                        DIAG1(c, &sel->loc,
                              "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you mean \"%s { ... "
                              "}\"?",
                              sel->name.s, type_str(fd->type, ts, sizeof(ts)), sel->name.s);
                }
                /* Field Selections on Objects, Interfaces and Unions */
                if (parent != NULL && fd == NULL)
                    DIAG1(c, &sel->loc, "Cannot query field \"%s\" on type \"%s\".", sel->name.s, parent->name.s);
                unique_directives(c, sel->directives, sel->ndirectives);
                unique_args(c, sel->args, sel->nargs);
            }
            for (size_t k = 0; k < sel->nargs && !c->stop; k++) {
                const struct gql_argument *a = &sel->args[k];
                const struct gql_input_value_def *ad =
                    fd ? gql_schema_input_value(fd->args, fd->nargs, a->name.s, a->name.len) : NULL;
                if (fd != NULL && ad == NULL && !c->collecting)
                    DIAG1(c, &a->loc, "Unknown argument \"%s\" on field \"%s.%s\".", a->name.s, parent->name.s,
                          fd->name.s);
                visit_value(c, &a->value, ad ? ad->type : NULL, ad != NULL && ad->default_value != NULL, 1);
            }
            visit_directives(c, sel->directives, sel->ndirectives, "FIELD");
            if (sel->selections.count > 0)
                visit_selections(c, &sel->selections, gql_type_is_composite(ft) ? ft : NULL);
            /* Required Arguments, when the walk leaves the field */
            if (fd != NULL && !c->collecting)
                for (size_t k = 0; k < fd->nargs && !c->stop; k++) {
                    const struct gql_input_value_def *ad = &fd->args[k];
                    if (ad->type->kind != GQL_TYPE_NON_NULL || ad->default_value != NULL)
                        continue;
                    size_t j = 0;
                    while (j < sel->nargs && strcmp(sel->args[j].name.s, ad->name.s) != 0)
                        j++;
                    if (j == sel->nargs)
                        DIAG1(c, &sel->loc,
                              "Field \"%s\" argument \"%s\" of type \"%s\" is required, but it was not provided.",
                              fd->name.s, ad->name.s, type_str(ad->type, ts, sizeof(ts)));
                }
        } else if (sel->kind == GQL_SEL_FRAGMENT_SPREAD) {
            if (!c->collecting) {
                long f = frag_lookup(c, sel->name.s);
                const struct gql_definition *fdef = frag_def(c, f);
                if (fdef == NULL) {
                    DIAG1(c, &sel->name.loc, "Unknown fragment \"%s\".", sel->name.s);
                } else {
                    const struct gql_definition *ft =
                        gql_schema_type(c->s, fdef->type_condition.s, fdef->type_condition.len);
                    if (gql_type_is_composite(ft) && parent != NULL && !types_overlap(c, ft, parent))
                        DIAG1(c, &sel->loc,
                              "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can never be of type "
                              "\"%s\".",
                              sel->name.s, parent->name.s, ft->name.s);
                }
                unique_directives(c, sel->directives, sel->ndirectives);
            }
            visit_directives(c, sel->directives, sel->ndirectives, "FRAGMENT_SPREAD");
        } else {
            const struct gql_definition *t = parent;
            if (sel->type_condition.s != NULL)
                t = gql_schema_type(c->s, sel->type_condition.s, sel->type_condition.len);
            if (!c->collecting) {
                if (sel->type_condition.s != NULL && t != NULL && !gql_type_is_composite(t))
                    DIAG1(c, &sel->type_condition.loc, "Fragment cannot condition on non composite type \"%s\".",
                          t->name.s);
                if (gql_type_is_composite(t) && parent != NULL && !types_overlap(c, t, parent))
                    DIAG1(c, &sel->loc,
                          "Fragment cannot be spread here as objects of type \"%s\" can never be of type \"%s\".",
                          parent->name.s, t->name.s);
                unique_directives(c, sel->directives, sel->ndirectives);
                if (sel->type_condition.s != NULL && t == NULL)
                    DIAG1(c, &sel->type_condition.loc, "Unknown type \"%s\".", sel->type_condition.s);
            }
            visit_directives(c, sel->directives, sel->ndirectives, "INLINE_FRAGMENT");
            visit_selections(c, &sel->selections, gql_type_is_composite(t) ? t : NULL);
        }
    }
}

static const char *response_name(const struct gql_selection *sel) {
    return sel->alias.s ? sel->alias.s : sel->name.s;
}

/* --- growable arrays in the arena ---------------------------------------------------------- */

/* Makes room for one more item in *v (n used, *cap allocated). */
static int grow(struct vctx *c, void **v, size_t n, size_t *cap, size_t sz) {
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nv = alloc_n(c, ncap, sz);
    if (nv == NULL)
        return -1;
    if (n)
        memcpy(nv, *v, n * sz);
    *v = nv;
    *cap = ncap;
    return 0;
}

/* --- fragments an operation uses -------------------------------------------------------------- */

/* graphql-js's getRecursivelyReferencedFragments: fragment indices in its
 * order, into c->refs (reused: valid until the next call). */
static size_t referenced_fragments(struct vctx *c, size_t def_index, long **ret) {
    size_t n = 0, top = 0;
    *ret = c->refs;
    if (c->refs == NULL || c->refs_todo == NULL)
        return 0;
    unsigned stamp = ++c->stamp_now;
    c->refs_todo[top++] = def_index;
    while (top > 0) {
        const struct definfo *di = &c->info[c->refs_todo[--top]];
        for (size_t i = 0; i < di->nspreads; i++) {
            long f = di->targets[i];
            if (f < 0 || c->stamp[f] == stamp)
                continue;
            c->stamp[f] = stamp;
            c->refs[n++] = f;
            c->refs_todo[top++] = c->frags[f];
        }
    }
    return n;
}

/* --- variables of an operation ------------------------------------------------------------------ */

/* graphql-js's isTypeSubTypeOf for input types: the same, or non-null
 * where nullable is wanted. */
static int subtype(const struct gql_type *sub, const struct gql_type *sup) {
    for (;;) {
        if (gql_type_equal(sub, sup))
            return 1;
        if (sup->kind == GQL_TYPE_NON_NULL) {
            if (sub->kind != GQL_TYPE_NON_NULL)
                return 0;
            sub = sub->of;
            sup = sup->of;
        } else if (sub->kind == GQL_TYPE_NON_NULL) {
            sub = sub->of;
        } else if (sup->kind == GQL_TYPE_LIST) {
            if (sub->kind != GQL_TYPE_LIST)
                return 0;
            sub = sub->of;
            sup = sup->of;
        } else {
            return 0;
        }
    }
}

/* All Variable Usages Are Allowed (5.8.5), with the default-value
 * exception. */
static int usage_allowed(const struct gql_variable_def *vd, const struct usage *u) {
    const struct gql_type *loc = u->type;
    if (loc->kind == GQL_TYPE_NON_NULL && vd->type->kind != GQL_TYPE_NON_NULL) {
        int var_default = vd->default_value != NULL && vd->default_value->kind != GQL_VALUE_NULL;
        if (!var_default && !u->has_default)
            return 0;
        return subtype(vd->type, loc->of);
    }
    return subtype(vd->type, loc);
}

/* The checks made as the walk leaves an operation: undefined, unused and
 * misplaced variables, over its uses and those of every fragment it uses. */
static void leave_operation(struct vctx *c, size_t def_index) {
    const struct gql_definition *op = &c->doc->definitions[def_index];
    long *refs = NULL;
    size_t nrefs = referenced_fragments(c, def_index, &refs);
    char t1[TYPE_CAP], t2[TYPE_CAP];
    /* the uses: the operation's, then each fragment's */
    for (int rule = 0; rule < 3 && !c->stop; rule++) {
        if (rule == 1) {
            /* No Unused Variables */
            for (size_t i = 0; i < op->nvariables && !c->stop; i++) {
                const struct gql_variable_def *vd = &op->variables[i];
                int used = 0;
                for (size_t k = 0; k <= nrefs && !used; k++) {
                    const struct definfo *di = k == 0 ? &c->info[def_index] : &c->info[c->frags[refs[k - 1]]];
                    for (size_t j = 0; j < di->nusages && !used; j++)
                        used = name_eq(&di->usages[j].var->name, &vd->name);
                }
                if (used)
                    continue;
                if (op->name.s != NULL)
                    DIAG1(c, &vd->loc, "Variable \"$%s\" is never used in operation \"%s\".", vd->name.s, op->name.s);
                else
                    DIAG1(c, &vd->loc, "Variable \"$%s\" is never used.", vd->name.s);
            }
            continue;
        }
        for (size_t k = 0; k <= nrefs && !c->stop; k++) {
            const struct definfo *di = k == 0 ? &c->info[def_index] : &c->info[c->frags[refs[k - 1]]];
            for (size_t j = 0; j < di->nusages && !c->stop; j++) {
                const struct usage *u = &di->usages[j];
                const struct gql_variable_def *vd = NULL;
                for (size_t v = 0; v < op->nvariables; v++) /* the last of a name, as graphql-js's map */
                    if (name_eq(&op->variables[v].name, &u->var->name))
                        vd = &op->variables[v];
                if (rule == 0) {
                    /* No Undefined Variables */
                    if (vd != NULL)
                        continue;
                    if (op->name.s != NULL)
                        DIAG2(c, &u->var->loc, &op->loc, "Variable \"$%s\" is not defined by operation \"%s\".",
                              u->var->name.s, op->name.s);
                    else
                        DIAG2(c, &u->var->loc, &op->loc, "Variable \"$%s\" is not defined.", u->var->name.s);
                } else if (vd != NULL && u->type != NULL && named(c, vd->type) != NULL && !usage_allowed(vd, u)) {
                    DIAG2(c, &vd->loc, &u->var->loc,
                          "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".", vd->name.s,
                          type_str(vd->type, t1, sizeof(t1)), type_str(u->type, t2, sizeof(t2)));
                }
            }
        }
    }
}

/* --- no fragment cycles --------------------------------------------------------------------------- */

struct cycle_frame {
    long f;
    size_t next;
};

struct cycles {
    unsigned char *visited;
    long *path_index; /* by fragment: where on the path it starts, or -1 */
    const struct gql_selection **path;
    size_t plen;
    struct cycle_frame *frames;
    size_t nframes;
};

static void report_cycle(struct vctx *c, struct cycles *cy, size_t from, const char *name) {
    char via[GQL_ERRMSG_MAX];
    size_t pos = 0;
    via[0] = '\0';
    for (size_t i = from; i + 1 < cy->plen && pos + 1 < sizeof(via); i++) {
        int n = snprintf(via + pos, sizeof(via) - pos, "%s\"%s\"", i > from ? ", " : "", cy->path[i]->name.s);
        if (n < 0)
            break;
        pos += (size_t)n;
        if (pos >= sizeof(via))
            pos = sizeof(via) - 1;
    }
    struct gql_diag *d = diag_new(c);
    for (size_t i = from; i < cy->plen; i++)
        diag_loc(d, &cy->path[i]->loc);
    if (via[0] != '\0')
        diag_msg(d, "Cannot spread fragment \"%s\" within itself via %s.", name, via);
    else
        diag_msg(d, "Cannot spread fragment \"%s\" within itself.", name);
}

/* graphql-js's detectCycleRecursive from fragment f, with a stack of
 * frames in place of recursion. */
static void detect_cycles(struct vctx *c, struct cycles *cy, long f) {
    if (cy->visited[f])
        return;
    cy->visited[f] = 1;
    if (c->info[c->frags[f]].nspreads == 0)
        return;
    cy->path_index[f] = (long)cy->plen;
    cy->nframes = 0;
    cy->frames[cy->nframes++] = (struct cycle_frame){f, 0};
    while (cy->nframes > 0 && !c->stop) {
        struct cycle_frame *fr = &cy->frames[cy->nframes - 1];
        const struct definfo *di = &c->info[c->frags[fr->f]];
        if (fr->next == di->nspreads) {
            cy->path_index[fr->f] = -1;
            cy->nframes--;
            if (cy->nframes > 0)
                cy->plen--; /* the spread that led to it */
            continue;
        }
        long g = di->targets[fr->next];
        const struct gql_selection *sp = di->spreads[fr->next++];
        long ci = g >= 0 ? cy->path_index[g] : -1;
        cy->path[cy->plen++] = sp;
        if (ci >= 0) {
            report_cycle(c, cy, (size_t)ci, sp->name.s);
            cy->plen--;
        } else if (g >= 0 && !cy->visited[g]) {
            cy->visited[g] = 1;
            if (c->info[c->frags[g]].nspreads == 0) {
                cy->plen--;
            } else {
                cy->path_index[g] = (long)cy->plen;
                cy->frames[cy->nframes++] = (struct cycle_frame){g, 0};
            }
        } else {
            cy->plen--;
        }
    }
}

/* --- single root field of subscriptions ------------------------------------------------------------- */

/* @skip(if: true) or @include(if: false) written as literals; variables
 * have no values here, so such a selection counts as included. */
static int literally_skipped(const struct gql_directive *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int skip = strcmp(d[i].name.s, "skip") == 0, include = strcmp(d[i].name.s, "include") == 0;
        if (!skip && !include)
            continue;
        for (size_t k = 0; k < d[i].nargs; k++)
            if (strcmp(d[i].args[k].name.s, "if") == 0 && d[i].args[k].value.kind == GQL_VALUE_BOOLEAN &&
                d[i].args[k].value.boolean == skip)
                return 1;
    }
    return 0;
}

static int condition_matches(const struct vctx *c, const struct gql_name *cond, const struct gql_definition *t) {
    if (cond->s == NULL)
        return 1;
    const struct gql_definition *ct = gql_schema_type(c->s, cond->s, cond->len);
    if (ct == t)
        return 1;
    return gql_type_is_abstract(ct) && gql_schema_possible(c->s, ct, t);
}

struct sub_frame {
    const struct gql_selection_set *set;
    size_t next;
};

struct sub_field {
    const struct gql_selection *sel;
    size_t seq, group; /* group: the seq of its response name's first field */
};

static int sub_field_by_name(const void *x, const void *y) {
    const struct sub_field *a = x, *b = y;
    int r = strcmp(response_name(a->sel), response_name(b->sel));
    return r != 0 ? r : (a->seq < b->seq ? -1 : a->seq > b->seq);
}

static int sub_field_by_group(const void *x, const void *y) {
    const struct sub_field *a = x, *b = y;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Makes room for one more item in a malloc'd array. */
static int grow_heap(struct vctx *c, void **v, size_t n, size_t *cap, size_t sz) {
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nv = ncap > SIZE_MAX / sz ? NULL : realloc(*v, ncap * sz);
    if (nv == NULL) {
        c->oom = c->stop = 1;
        return -1;
    }
    *v = nv;
    *cap = ncap;
    return 0;
}

/* graphql-js's collectFields over the subscription's root selections,
 * with a stack of frames in place of recursion; the fields grouped by
 * response name by sorting (memory is freed before returning, as an
 * operation's scratch must not pile up over many operations). */
static void single_root_field(struct vctx *c, const struct gql_definition *op, const struct gql_definition *root) {
    struct sub_frame *frames = NULL;
    struct sub_field *fields = NULL;
    size_t nframes = 0, capframes = 0, nfields = 0, capfields = 0;
    unsigned stamp = ++c->stamp_now;
    if (grow_heap(c, (void **)&frames, 0, &capframes, sizeof(*frames)) != 0)
        goto out;
    frames[nframes++] = (struct sub_frame){&op->selections, 0};
    while (nframes > 0 && !c->stop) {
        struct sub_frame *fr = &frames[nframes - 1];
        if (fr->next == fr->set->count) {
            nframes--;
            continue;
        }
        const struct gql_selection *sel = &fr->set->items[fr->next++];
        if (literally_skipped(sel->directives, sel->ndirectives))
            continue;
        const struct gql_selection_set *into = NULL;
        if (sel->kind == GQL_SEL_FIELD) {
            if (grow_heap(c, (void **)&fields, nfields, &capfields, sizeof(*fields)) != 0)
                goto out;
            fields[nfields] = (struct sub_field){sel, nfields, 0};
            nfields++;
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            if (condition_matches(c, &sel->type_condition, root))
                into = &sel->selections;
        } else {
            long f = frag_lookup(c, sel->name.s);
            if (f >= 0 && c->stamp[f] != stamp) {
                c->stamp[f] = stamp;
                const struct gql_definition *fd = frag_def(c, f);
                if (condition_matches(c, &fd->type_condition, root))
                    into = &fd->selections;
            }
        }
        if (into != NULL) {
            if (grow_heap(c, (void **)&frames, nframes, &capframes, sizeof(*frames)) != 0)
                goto out;
            frames[nframes++] = (struct sub_frame){into, 0};
        }
    }
    if (c->stop || nfields == 0)
        goto out;
    /* group by response name, then order groups by first appearance */
    qsort(fields, nfields, sizeof(*fields), sub_field_by_name);
    size_t ngroups = 0;
    for (size_t i = 0; i < nfields; i++) {
        if (i == 0 || strcmp(response_name(fields[i].sel), response_name(fields[i - 1].sel)) != 0) {
            ngroups++;
            fields[i].group = fields[i].seq;
        } else {
            fields[i].group = fields[i - 1].group;
        }
    }
    qsort(fields, nfields, sizeof(*fields), sub_field_by_group);
    if (ngroups > 1) {
        struct gql_diag *d = diag_new(c);
        for (size_t i = 0; i < nfields; i++)
            if (fields[i].group != fields[0].group)
                diag_loc(d, &fields[i].sel->loc);
        if (op->name.s != NULL)
            diag_msg(d, "Subscription \"%s\" must select only one top level field.", op->name.s);
        else
            diag_msg(d, "Anonymous Subscription must select only one top level field.");
    }
    for (size_t i = 0; i < nfields && !c->stop; i++) {
        if ((i > 0 && fields[i].group == fields[i - 1].group) || strncmp(fields[i].sel->name.s, "__", 2) != 0)
            continue;
        struct gql_diag *d = diag_new(c);
        for (size_t k = i; k < nfields && fields[k].group == fields[i].group; k++)
            diag_loc(d, &fields[k].sel->loc);
        if (op->name.s != NULL)
            diag_msg(d, "Subscription \"%s\" must not select an introspection top level field.", op->name.s);
        else
            diag_msg(d, "Anonymous Subscription must not select an introspection top level field.");
    }
out:
    free(frames);
    free(fields);
}

/* --- definitions ------------------------------------------------------------------------------------ */

static const char *op_location(enum gql_operation_type t) {
    return t == GQL_OP_MUTATION ? "MUTATION" : t == GQL_OP_SUBSCRIPTION ? "SUBSCRIPTION" : "QUERY";
}

static void walk_operation(struct vctx *c, size_t def_index) {
    const struct gql_definition *op = &c->doc->definitions[def_index];
    const struct gql_definition *root = gql_schema_root(c->s, op->operation);
    char ts[TYPE_CAP];
    c->cur = &c->info[def_index];
    if (!c->collecting) {
        /* Operation Name Uniqueness */
        if (op->name.s != NULL && c->info[def_index].first_same != def_index)
            DIAG2(c, &c->doc->definitions[c->info[def_index].first_same].name.loc, &op->name.loc,
                  "There can be only one operation named \"%s\".", op->name.s);
        /* Lone Anonymous Operation */
        if (op->name.s == NULL && c->noperations > 1)
            DIAG1(c, &op->loc, "This anonymous operation must be the only defined operation.");
        /* An operation type the schema has a root for */
        if (root == NULL)
            DIAG1(c, &op->loc, "Schema is not configured to execute %s operation.",
                  gql_operation_type_name(op->operation));
        /* Subscription Operation Definitions: Single root field */
        if (op->operation == GQL_OP_SUBSCRIPTION && root != NULL)
            single_root_field(c, op, root);
        /* Variable Uniqueness */
        for (size_t i = 0; i < op->nvariables && !c->stop; i++) {
            size_t j = 0, dup = 0;
            while (j < i && !name_eq(&op->variables[j].name, &op->variables[i].name))
                j++;
            if (j < i)
                continue;
            for (size_t k = i + 1; k < op->nvariables; k++)
                dup += name_eq(&op->variables[k].name, &op->variables[i].name);
            if (dup == 0)
                continue;
            struct gql_diag *d = diag_new(c);
            for (size_t k = i; k < op->nvariables; k++)
                if (name_eq(&op->variables[k].name, &op->variables[i].name))
                    diag_loc(d, &op->variables[k].name.loc);
            diag_msg(d, "There can be only one variable named \"$%s\".", op->variables[i].name.s);
        }
        unique_directives(c, op->directives, op->ndirectives);
    }
    for (size_t i = 0; i < op->nvariables && !c->stop; i++) {
        const struct gql_variable_def *vd = &op->variables[i];
        const struct gql_definition *t = named(c, vd->type);
        if (!c->collecting) {
            /* Variables Are Input Types */
            if (t != NULL && !gql_type_is_input(t))
                DIAG1(c, &vd->type->loc, "Variable \"$%s\" cannot be non-input type \"%s\".", vd->name.s,
                      type_str(vd->type, ts, sizeof(ts)));
            unique_directives(c, vd->directives, vd->ndirectives);
            if (t == NULL) {
                const struct gql_type *n = vd->type;
                while (n->kind != GQL_TYPE_NAMED)
                    n = n->of;
                DIAG1(c, &n->loc, "Unknown type \"%s\".", n->name.s);
            }
        }
        if (vd->default_value != NULL)
            visit_value(c, vd->default_value, gql_type_is_input(t) ? vd->type : NULL, 0, 1);
        visit_directives(c, vd->directives, vd->ndirectives, "VARIABLE_DEFINITION");
    }
    visit_directives(c, op->directives, op->ndirectives, op_location(op->operation));
    visit_selections(c, &op->selections, root);
    if (!c->collecting && !c->stop)
        leave_operation(c, def_index);
    c->cur = NULL;
}

static void walk_fragment(struct vctx *c, size_t def_index, struct cycles *cy) {
    const struct gql_definition *fd = &c->doc->definitions[def_index];
    const struct gql_definition *t = gql_schema_type(c->s, fd->type_condition.s, fd->type_condition.len);
    c->cur = &c->info[def_index];
    if (!c->collecting) {
        /* Fragments On Composite Types */
        if (t != NULL && !gql_type_is_composite(t))
            DIAG1(c, &fd->type_condition.loc, "Fragment \"%s\" cannot condition on non composite type \"%s\".",
                  fd->name.s, t->name.s);
        /* Fragment Name Uniqueness */
        if (c->info[def_index].first_same != def_index)
            DIAG2(c, &c->doc->definitions[c->info[def_index].first_same].name.loc, &fd->name.loc,
                  "There can be only one fragment named \"%s\".", fd->name.s);
        /* Fragment spreads must not form cycles */
        long f = frag_lookup(c, fd->name.s);
        if (f >= 0)
            detect_cycles(c, cy, f);
        unique_directives(c, fd->directives, fd->ndirectives);
        /* Fragment Spread Type Existence */
        if (t == NULL)
            DIAG1(c, &fd->type_condition.loc, "Unknown type \"%s\".", fd->type_condition.s);
    }
    visit_directives(c, fd->directives, fd->ndirectives, "FRAGMENT_DEFINITION");
    visit_selections(c, &fd->selections, gql_type_is_composite(t) ? t : NULL);
    c->cur = NULL;
}

/* --- field selection merging ---------------------------------------------------------------------------- */

/* Counts work; 1 once the budget is spent (field merging then stops). */
static int spend(struct vctx *c, size_t n) {
    c->work += n;
    if (c->work > MERGE_MAX_WORK)
        c->merge_off = 1;
    return c->merge_off || c->stop;
}

static void count_fields(const struct gql_selection_set *set, size_t *n) {
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].kind == GQL_SEL_FIELD)
            (*n)++;
        else if (set->items[i].kind == GQL_SEL_INLINE_FRAGMENT)
            count_fields(&set->items[i].selections, n);
    }
}

static void fill_fields(struct vctx *c, const struct gql_definition *parent, const struct gql_selection_set *set,
                        struct fieldmap *m, unsigned stamp) {
    for (size_t i = 0; i < set->count; i++) {
        const struct gql_selection *sel = &set->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            struct fentry *e = &m->e[m->ne];
            e->parent = parent;
            e->node = sel;
            e->def = (parent != NULL && (parent->kind == GQL_DEF_OBJECT || parent->kind == GQL_DEF_INTERFACE))
                         ? gql_schema_field(c->s, parent, sel->name.s, sel->name.len, 0)
                         : NULL;
            e->seq = m->ne++;
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            const struct gql_definition *t =
                sel->type_condition.s ? gql_schema_type(c->s, sel->type_condition.s, sel->type_condition.len) : parent;
            fill_fields(c, t, &sel->selections, m, stamp);
        } else {
            long f = frag_lookup(c, sel->name.s);
            if (f >= 0 && c->stamp[f] != stamp) {
                c->stamp[f] = stamp;
                m->frags[m->nfrags++] = f;
            }
        }
    }
}

static int fentry_cmp(const void *x, const void *y) {
    const struct fentry *a = x, *b = y;
    int r = strcmp(response_name(a->node), response_name(b->node));
    return r != 0 ? r : (a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* graphql-js's getFieldsAndFragmentNames, memoised by selection set. */
static struct fieldmap *fieldmap_of(struct vctx *c, const struct gql_definition *parent,
                                    const struct gql_selection_set *set) {
    intptr_t v;
    if (hmap_get(&c->maps, (uintptr_t)set, 0, &v))
        return (struct fieldmap *)v;
    size_t nf = 0, ns = 0, nsets = 0;
    count_fields(set, &nf);
    count_sets(set, &nsets, &ns);
    struct fieldmap *m = alloc(c, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->e = alloc_n(c, nf ? nf : 1, sizeof(*m->e));
    m->frags = alloc_n(c, ns ? ns : 1, sizeof(*m->frags));
    m->g = alloc_n(c, nf ? nf : 1, sizeof(*m->g));
    m->order = alloc_n(c, nf ? nf : 1, sizeof(*m->order));
    if (m->e == NULL || m->frags == NULL || m->g == NULL || m->order == NULL)
        return NULL;
    fill_fields(c, parent, set, m, ++c->stamp_now);
    qsort(m->e, m->ne, sizeof(*m->e), fentry_cmp);
    for (size_t i = 0; i < m->ne; i++) {
        if (i == 0 || strcmp(response_name(m->e[i].node), m->g[m->ng - 1].name) != 0)
            m->g[m->ng++] = (struct fgroup){response_name(m->e[i].node), i, 0, m->e[i].seq};
        m->g[m->ng - 1].count++;
    }
    /* groups in order of first appearance: a counting pass over seq */
    size_t *by_seq = alloc_n(c, m->ne ? m->ne : 1, sizeof(*by_seq));
    if (by_seq == NULL)
        return NULL;
    for (size_t i = 0; i < m->ne; i++)
        by_seq[i] = SIZE_MAX;
    for (size_t g = 0; g < m->ng; g++)
        by_seq[m->g[g].first] = g;
    size_t k = 0;
    for (size_t i = 0; i < m->ne; i++)
        if (by_seq[i] != SIZE_MAX)
            m->order[k++] = by_seq[i];
    if (hmap_put(c, &c->maps, (uintptr_t)set, 0, (intptr_t)m) != 0)
        return NULL;
    return m;
}

static struct fieldmap *fragment_map(struct vctx *c, long f) {
    const struct gql_definition *fd = frag_def(c, f);
    return fieldmap_of(c, gql_schema_type(c->s, fd->type_condition.s, fd->type_condition.len), &fd->selections);
}

static const struct fgroup *group_named(const struct fieldmap *m, const char *name) {
    size_t lo = 0, hi = m->ng;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(m->g[mid].name, name);
        if (r == 0)
            return &m->g[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cvec_push(struct vctx *c, struct cvec *v, const struct conflict *x) {
    if (grow(c, (void **)&v->v, v->n, &v->cap, sizeof(*v->v)) != 0)
        return -1;
    v->v[v->n++] = *x;
    return 0;
}

/* Arguments alike as graphql-js compares them: by name, each value
 * printed with its object fields sorted (a block string and a quoted one
 * of the same text count as alike here). */
static int value_same(const struct gql_value *a, const struct gql_value *b) {
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case GQL_VALUE_VARIABLE:
    case GQL_VALUE_ENUM: return name_eq(&a->name, &b->name);
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT:
    case GQL_VALUE_STRING: return a->str.len == b->str.len && memcmp(a->str.s, b->str.s, a->str.len) == 0;
    case GQL_VALUE_BOOLEAN: return a->boolean == b->boolean;
    case GQL_VALUE_NULL: return 1;
    case GQL_VALUE_LIST:
        if (a->list.count != b->list.count)
            return 0;
        for (size_t i = 0; i < a->list.count; i++)
            if (!value_same(&a->list.items[i], &b->list.items[i]))
                return 0;
        return 1;
    case GQL_VALUE_OBJECT:
        if (a->object.count != b->object.count)
            return 0;
        for (size_t i = 0; i < a->object.count; i++) {
            size_t j = 0;
            while (j < b->object.count && !name_eq(&a->object.fields[i].name, &b->object.fields[j].name))
                j++;
            if (j == b->object.count || !value_same(&a->object.fields[i].value, &b->object.fields[j].value))
                return 0;
        }
        return 1;
    }
    return 0;
}

static int same_arguments(const struct gql_selection *x, const struct gql_selection *y) {
    if (x->nargs != y->nargs)
        return 0;
    for (size_t i = 0; i < x->nargs; i++) {
        size_t j = 0;
        while (j < y->nargs && !name_eq(&x->args[i].name, &y->args[j].name))
            j++;
        if (j == y->nargs || !value_same(&x->args[i].value, &y->args[j].value))
            return 0;
    }
    return 1;
}

static int types_conflict(const struct vctx *c, const struct gql_type *a, const struct gql_type *b) {
    for (;;) {
        if (a->kind == GQL_TYPE_LIST || b->kind == GQL_TYPE_LIST) {
            if (a->kind != b->kind)
                return 1;
        } else if (a->kind == GQL_TYPE_NON_NULL || b->kind == GQL_TYPE_NON_NULL) {
            if (a->kind != b->kind)
                return 1;
        } else {
            const struct gql_definition *da = named(c, a), *db = named(c, b);
            if (gql_type_is_leaf(da) || gql_type_is_leaf(db))
                return da != db;
            return 0;
        }
        a = a->of;
        b = b->of;
    }
}

static void between_sets(struct vctx *c, struct cvec *out, int excl, const struct gql_definition *p1,
                         const struct gql_selection_set *s1, const struct gql_definition *p2,
                         const struct gql_selection_set *s2);

static const char *arena_fmt(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *arena_fmt(struct vctx *c, const char *fmt, ...) {
    char buf[GQL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *s = arena_strndup(c->a, buf, strlen(buf));
    if (s == NULL)
        c->oom = c->stop = 1;
    return s;
}

/* graphql-js's findConflict; 1 with *out filled when the two conflict. */
static int find_conflict(struct vctx *c, int parents_excl, const char *name, const struct fentry *e1,
                         const struct fentry *e2, struct conflict *out) {
    char t1[TYPE_CAP], t2[TYPE_CAP];
    if (spend(c, 1))
        return 0;
    memset(out, 0, sizeof(*out));
    out->name = name;
    int excl = parents_excl || (e1->parent != e2->parent && e1->parent != NULL && e2->parent != NULL &&
                                e1->parent->kind == GQL_DEF_OBJECT && e2->parent->kind == GQL_DEF_OBJECT);
    const struct gql_selection *n1 = e1->node, *n2 = e2->node;
    if (!excl && !name_eq(&n1->name, &n2->name))
        out->reason = arena_fmt(c, "\"%s\" and \"%s\" are different fields", n1->name.s, n2->name.s);
    else if (!excl && !same_arguments(n1, n2))
        out->reason = "they have differing arguments";
    else if (e1->def != NULL && e2->def != NULL && types_conflict(c, e1->def->type, e2->def->type))
        out->reason = arena_fmt(c, "they return conflicting types \"%s\" and \"%s\"",
                                type_str(e1->def->type, t1, sizeof(t1)), type_str(e2->def->type, t2, sizeof(t2)));
    if (out->reason != NULL) {
        out->f1 = alloc(c, sizeof(*out->f1));
        out->f2 = alloc(c, sizeof(*out->f2));
        if (out->f1 == NULL || out->f2 == NULL)
            return 0;
        out->f1[0] = n1;
        out->f2[0] = n2;
        out->n1 = out->n2 = 1;
        return 1;
    }
    if (n1->selections.count == 0 || n2->selections.count == 0 || c->stop)
        return 0;
    if (c->nest >= MERGE_MAX_NEST) {
        c->merge_off = c->merge_deep = 1;
        return 0;
    }
    struct cvec subs = {0};
    c->nest++;
    between_sets(c, &subs, excl, e1->def ? named(c, e1->def->type) : NULL, &n1->selections,
                 e2->def ? named(c, e2->def->type) : NULL, &n2->selections);
    c->nest--;
    if (subs.n == 0 || c->stop)
        return 0;
    size_t k1 = 1, k2 = 1;
    for (size_t i = 0; i < subs.n; i++) {
        k1 += subs.v[i].n1;
        k2 += subs.v[i].n2;
    }
    out->subs = subs.v;
    out->nsubs = subs.n;
    out->f1 = alloc_n(c, k1, sizeof(*out->f1));
    out->f2 = alloc_n(c, k2, sizeof(*out->f2));
    if (out->f1 == NULL || out->f2 == NULL)
        return 0;
    out->f1[out->n1++] = n1;
    out->f2[out->n2++] = n2;
    for (size_t i = 0; i < subs.n; i++) {
        memcpy(out->f1 + out->n1, subs.v[i].f1, subs.v[i].n1 * sizeof(*out->f1));
        out->n1 += subs.v[i].n1;
        memcpy(out->f2 + out->n2, subs.v[i].f2, subs.v[i].n2 * sizeof(*out->f2));
        out->n2 += subs.v[i].n2;
    }
    return 1;
}

static void conflicts_between(struct vctx *c, struct cvec *out, int excl, const struct fieldmap *m1,
                              const struct fieldmap *m2) {
    struct conflict cf;
    if (m1 == NULL || m2 == NULL || spend(c, m1->ng))
        return;
    for (size_t k = 0; k < m1->ng && !c->stop && !c->merge_off; k++) {
        const struct fgroup *g1 = &m1->g[m1->order[k]], *g2 = group_named(m2, g1->name);
        if (g2 == NULL)
            continue;
        for (size_t i = 0; i < g1->count; i++)
            for (size_t j = 0; j < g2->count && !c->merge_off; j++)
                if (find_conflict(c, excl, g1->name, &m1->e[g1->start + i], &m2->e[g2->start + j], &cf))
                    cvec_push(c, out, &cf);
    }
}

/* graphql-js's collectConflictsBetweenFieldsAndFragment, the fragments a
 * fragment spreads taken from a stack rather than by recursion. */
static void fields_and_fragment(struct vctx *c, struct cvec *out, int excl, const struct fieldmap *m, long f) {
    if (m == NULL || m->ng == 0) /* nothing to compare, however deep the spreads go */
        return;
    size_t base = c->stack.n;
    if (stack_push(c, f, 0) != 0)
        return;
    while (c->stack.n > base) {
        c->stack.n -= 2;
        long g = c->stack.v[c->stack.n];
        intptr_t seen;
        if (c->stop || spend(c, 1)) {
            c->stack.n = base;
            return;
        }
        if (hmap_get(&c->map_frag, (uintptr_t)m, (uintptr_t)g, &seen) && (excl || seen == 0))
            continue;
        if (hmap_put(c, &c->map_frag, (uintptr_t)m, (uintptr_t)g, excl) != 0)
            return;
        const struct fieldmap *m2 = fragment_map(c, g);
        if (m2 == NULL || m2 == m)
            continue;
        conflicts_between(c, out, excl, m, m2);
        for (size_t i = m2->nfrags; i > 0; i--)
            if (stack_push(c, m2->frags[i - 1], 0) != 0)
                return;
    }
}

/* graphql-js's collectConflictsBetweenFragments, likewise from a stack. */
static void fragments_between(struct vctx *c, struct cvec *out, int excl, long f1, long f2) {
    size_t base = c->stack.n;
    if (stack_push(c, f1, f2) != 0)
        return;
    while (c->stack.n > base) {
        c->stack.n -= 2;
        long a = c->stack.v[c->stack.n], b = c->stack.v[c->stack.n + 1];
        intptr_t seen;
        if (a == b)
            continue;
        if (c->stop || spend(c, 1)) {
            c->stack.n = base;
            return;
        }
        uintptr_t lo = (uintptr_t)(a < b ? a : b), hi = (uintptr_t)(a < b ? b : a);
        if (hmap_get(&c->frag_pairs, lo, hi, &seen) && (excl || seen == 0))
            continue;
        if (hmap_put(c, &c->frag_pairs, lo, hi, excl) != 0)
            return;
        const struct fieldmap *m1 = fragment_map(c, a), *m2 = fragment_map(c, b);
        if (m1 == NULL || m2 == NULL)
            return;
        conflicts_between(c, out, excl, m1, m2);
        /* the recursion's order: (a, each of b's), then (each of a's, b) */
        for (size_t i = m1->nfrags; i > 0; i--)
            if (stack_push(c, m1->frags[i - 1], b) != 0)
                return;
        for (size_t i = m2->nfrags; i > 0; i--)
            if (stack_push(c, a, m2->frags[i - 1]) != 0)
                return;
    }
}

static void between_sets(struct vctx *c, struct cvec *out, int excl, const struct gql_definition *p1,
                         const struct gql_selection_set *s1, const struct gql_definition *p2,
                         const struct gql_selection_set *s2) {
    const struct fieldmap *m1 = fieldmap_of(c, p1, s1), *m2 = fieldmap_of(c, p2, s2);
    if (m1 == NULL || m2 == NULL)
        return;
    conflicts_between(c, out, excl, m1, m2);
    for (size_t j = 0; j < m2->nfrags && !c->merge_off; j++)
        fields_and_fragment(c, out, excl, m1, m2->frags[j]);
    for (size_t i = 0; i < m1->nfrags && !c->merge_off; i++)
        fields_and_fragment(c, out, excl, m2, m1->frags[i]);
    for (size_t i = 0; i < m1->nfrags && !c->merge_off; i++)
        for (size_t j = 0; j < m2->nfrags && !c->merge_off; j++)
            fragments_between(c, out, excl, m1->frags[i], m2->frags[j]);
}

static void reason_put(const struct conflict *cf, char *buf, size_t cap, size_t *pos) {
    if (cf->reason != NULL) {
        int n = snprintf(buf + *pos, cap - *pos, "%s", cf->reason);
        *pos = n < 0 || (size_t)n >= cap - *pos ? cap - 1 : *pos + (size_t)n;
        return;
    }
    for (size_t i = 0; i < cf->nsubs && *pos + 1 < cap; i++) {
        int n = snprintf(buf + *pos, cap - *pos, "%ssubfields \"%s\" conflict because ", i ? " and " : "",
                         cf->subs[i].name);
        *pos = n < 0 || (size_t)n >= cap - *pos ? cap - 1 : *pos + (size_t)n;
        reason_put(&cf->subs[i], buf, cap, pos);
    }
}

/* Field Selection Merging, as the walk enters a selection set. */
static void check_merging(struct vctx *c, const struct gql_definition *parent, const struct gql_selection_set *set) {
    if (c->merge_off)
        return;
    struct cvec out = {0};
    struct fieldmap *m = fieldmap_of(c, parent, set);
    if (m == NULL)
        return;
    for (size_t k = 0; k < m->ng && !c->merge_off; k++) {
        const struct fgroup *g = &m->g[m->order[k]];
        struct conflict cf;
        for (size_t i = 0; i < g->count; i++)
            for (size_t j = i + 1; j < g->count && !c->merge_off; j++)
                if (find_conflict(c, 0, g->name, &m->e[g->start + i], &m->e[g->start + j], &cf))
                    cvec_push(c, &out, &cf);
    }
    for (size_t i = 0; i < m->nfrags && !c->merge_off; i++) {
        fields_and_fragment(c, &out, 0, m, m->frags[i]);
        for (size_t j = i + 1; j < m->nfrags && !c->merge_off; j++)
            fragments_between(c, &out, 0, m->frags[i], m->frags[j]);
    }
    for (size_t i = 0; i < out.n && !c->stop; i++) {
        char reason[GQL_ERRMSG_MAX];
        size_t pos = 0;
        reason[0] = '\0';
        reason_put(&out.v[i], reason, sizeof(reason), &pos);
        struct gql_diag *d = diag_new(c);
        for (size_t k = 0; k < out.v[i].n1; k++)
            diag_loc(d, &out.v[i].f1[k]->loc);
        for (size_t k = 0; k < out.v[i].n2; k++)
            diag_loc(d, &out.v[i].f2[k]->loc);
        diag_msg(d,
                 "Fields \"%s\" conflict because %s. Use different aliases on the fields to fetch both if this was "
                 "intentional.",
                 out.v[i].name, reason);
    }
    if (c->merge_off && !c->merge_reported && !c->stop) {
        c->merge_reported = 1;
        if (c->merge_deep)
            DIAG1(c, &set->loc,
                  "Fields nest more than %d levels deep through fragments, too deep to check that they can be "
                  "merged.",
                  MERGE_MAX_NEST);
        else
            DIAG1(c, &set->loc, "Too many fields to check that they can be merged: more than %u comparisons.",
                  MERGE_MAX_WORK);
    }
}

/* --- cost limits ------------------------------------------------------------------------------------ */

static uint64_t sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void cost_add(struct cost *to, const struct cost *x, uint64_t extra_depth) {
    uint64_t d = sat_add(x->depth, extra_depth);
    if (d > to->depth)
        to->depth = d;
    to->aliases = sat_add(to->aliases, x->aliases);
    to->fields = sat_add(to->fields, x->fields);
}

/* What a selection set costs, its spreads' fragments already counted in
 * fc (NULL for one not yet counted: only in a cycle, which the rules have
 * refused by then). The recursion follows the tree's nesting only. */
static struct cost set_cost(const struct vctx *c, const struct gql_selection_set *set, const struct cost *fc,
                            const unsigned char *done) {
    struct cost r = {0, 0, 0};
    for (size_t i = 0; i < set->count; i++) {
        const struct gql_selection *sel = &set->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            struct cost sub = {0, 0, 0};
            if (sel->selections.count > 0)
                sub = set_cost(c, &sel->selections, fc, done);
            sub.fields = sat_add(sub.fields, 1);
            sub.aliases = sat_add(sub.aliases, sel->alias.s != NULL);
            cost_add(&r, &sub, 1);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            struct cost sub = set_cost(c, &sel->selections, fc, done);
            cost_add(&r, &sub, 0);
        } else {
            long f = frag_lookup(c, sel->name.s);
            if (f >= 0 && done[f])
                cost_add(&r, &fc[f], 0);
        }
    }
    return r;
}

/* Each fragment counted once, after the fragments it spreads (a stack
 * rather than recursion), then each operation against the limits. */
static void check_costs(struct vctx *c, const struct gql_cost_limits *lim) {
    static const char *const kinds[3] = {"Query", "Mutation", "Subscription"};
    struct cost *fc = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*fc));
    unsigned char *state = alloc_n(c, c->nfrags ? c->nfrags : 1, 1); /* 0 new, 1 open, 2 done */
    unsigned char *done = alloc_n(c, c->nfrags ? c->nfrags : 1, 1);
    if (fc == NULL || state == NULL || done == NULL)
        return;
    for (size_t f0 = 0; f0 < c->nfrags; f0++) {
        if (state[f0] != 0)
            continue;
        c->stack.n = 0;
        if (stack_push(c, (long)f0, 0) != 0)
            return;
        while (c->stack.n > 0) {
            long f = c->stack.v[c->stack.n - 2];
            if (state[f] == 0) {
                state[f] = 1;
                const struct definfo *di = &c->info[c->frags[f]];
                for (size_t i = 0; i < di->nspreads; i++) {
                    long g = di->targets[i];
                    if (g >= 0 && state[g] == 0 && stack_push(c, g, 0) != 0)
                        return;
                }
                continue;
            }
            c->stack.n -= 2;
            if (state[f] == 1) {
                fc[f] = set_cost(c, &frag_def(c, f)->selections, fc, done);
                state[f] = 2;
                done[f] = 1;
            }
        }
    }
    for (size_t i = 0; i < c->doc->count && !c->stop; i++) {
        const struct gql_definition *op = &c->doc->definitions[i];
        if (op->kind != GQL_DEF_OPERATION)
            continue;
        struct cost k = set_cost(c, &op->selections, fc, done);
        char who[GQL_ERRMSG_MAX / 2];
        if (op->name.s != NULL)
            snprintf(who, sizeof(who), "%s \"%s\"", kinds[op->operation], op->name.s);
        else
            snprintf(who, sizeof(who), "Anonymous %s", gql_operation_type_name(op->operation));
        if (lim->max_depth != 0 && k.depth > lim->max_depth)
            DIAG1(c, &op->loc, "%s is %llu fields deep; the limit is %u.", who, (unsigned long long)k.depth,
                  lim->max_depth);
        if (lim->max_aliases != 0 && k.aliases > lim->max_aliases)
            DIAG1(c, &op->loc, "%s has %llu aliases; the limit is %u.", who, (unsigned long long)k.aliases,
                  lim->max_aliases);
        if (lim->max_fields != 0 && k.fields > lim->max_fields)
            DIAG1(c, &op->loc, "%s selects %llu fields; the limit is %u.", who, (unsigned long long)k.fields,
                  lim->max_fields);
    }
}

/* --- the whole document ------------------------------------------------------------------------------ */

/* first_same of each operation (or fragment) with a name: the first
 * definition of that kind and name. */
static int index_names(struct vctx *c, enum gql_definition_kind kind) {
    size_t n = 0;
    for (size_t i = 0; i < c->doc->count; i++)
        n += c->doc->definitions[i].kind == kind && c->doc->definitions[i].name.s != NULL;
    struct named_idx *v = alloc_n(c, n ? n : 1, sizeof(*v));
    if (v == NULL)
        return -1;
    n = 0;
    for (size_t i = 0; i < c->doc->count; i++)
        if (c->doc->definitions[i].kind == kind && c->doc->definitions[i].name.s != NULL)
            v[n++] = (struct named_idx){c->doc->definitions[i].name.s, i};
    qsort(v, n, sizeof(*v), named_idx_cmp);
    for (size_t i = 0; i < n; i++)
        c->info[v[i].idx].first_same =
            (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0) ? c->info[v[i - 1].idx].first_same : v[i].idx;
    return 0;
}

static int prepare(struct vctx *c) {
    const struct gql_document *doc = c->doc;
    c->info = alloc_n(c, doc->count, sizeof(*c->info));
    if (c->info == NULL)
        return -1;
    for (size_t i = 0; i < doc->count; i++) {
        c->info[i].first_same = i;
        c->nfrags += doc->definitions[i].kind == GQL_DEF_FRAGMENT;
        c->noperations += doc->definitions[i].kind == GQL_DEF_OPERATION;
    }
    c->frags = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*c->frags));
    c->frag_sorted = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*c->frag_sorted));
    c->stamp = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*c->stamp));
    c->refs = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*c->refs));
    c->refs_todo = alloc_n(c, c->nfrags + 1, sizeof(*c->refs_todo));
    if (c->frags == NULL || c->frag_sorted == NULL || c->stamp == NULL || c->refs == NULL || c->refs_todo == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < doc->count; i++) {
        const struct gql_definition *d = &doc->definitions[i];
        if (d->kind == GQL_DEF_FRAGMENT) {
            c->frag_sorted[k] = (struct named_idx){d->name.s, k};
            c->frags[k++] = i;
        }
        if ((d->kind == GQL_DEF_FRAGMENT || d->kind == GQL_DEF_OPERATION) &&
            collect_spreads(c, &d->selections, &c->info[i]) != 0)
            return -1;
    }
    qsort(c->frag_sorted, c->nfrags, sizeof(*c->frag_sorted), named_idx_cmp);
    for (size_t i = 0; i < doc->count; i++) {
        struct definfo *di = &c->info[i];
        if (di->spreads == NULL)
            continue;
        di->targets = alloc_n(c, di->nspreads ? di->nspreads : 1, sizeof(*di->targets));
        if (di->targets == NULL)
            return -1;
        for (size_t j = 0; j < di->nspreads; j++)
            di->targets[j] = frag_lookup(c, di->spreads[j]->name.s);
    }
    if (index_names(c, GQL_DEF_OPERATION) != 0 || index_names(c, GQL_DEF_FRAGMENT) != 0)
        return -1;
    return 0;
}

static void walk_document(struct vctx *c) {
    const struct gql_document *doc = c->doc;
    struct cycles cy = {0};
    if (!c->collecting) {
        size_t nspreads = 0;
        for (size_t i = 0; i < doc->count; i++)
            nspreads += c->info[i].nspreads;
        cy.visited = alloc_n(c, c->nfrags ? c->nfrags : 1, 1);
        cy.path_index = alloc_n(c, c->nfrags ? c->nfrags : 1, sizeof(*cy.path_index));
        cy.path = alloc_n(c, nspreads + 1, sizeof(*cy.path));
        cy.frames = alloc_n(c, c->nfrags + 1, sizeof(*cy.frames));
        if (cy.visited == NULL || cy.path_index == NULL || cy.path == NULL || cy.frames == NULL)
            return;
        for (size_t i = 0; i < c->nfrags; i++)
            cy.path_index[i] = -1;
        /* Executable Definitions */
        for (size_t i = 0; i < doc->count; i++) {
            const struct gql_definition *d = &doc->definitions[i];
            if (d->kind == GQL_DEF_OPERATION || d->kind == GQL_DEF_FRAGMENT)
                continue;
            if (d->kind == GQL_DEF_SCHEMA)
                DIAG1(c, &d->loc, "The schema definition is not executable.");
            else
                DIAG1(c, &d->loc, "The \"%s\" definition is not executable.", d->name.s);
        }
    }
    for (size_t i = 0; i < doc->count && !c->stop; i++) {
        if (doc->definitions[i].kind == GQL_DEF_OPERATION)
            walk_operation(c, i);
        else if (doc->definitions[i].kind == GQL_DEF_FRAGMENT)
            walk_fragment(c, i, &cy);
    }
    if (c->collecting || c->stop)
        return;
    /* Fragments Must Be Used, as the walk leaves the document */
    unsigned char *used = alloc_n(c, c->nfrags ? c->nfrags : 1, 1);
    if (used == NULL)
        return;
    for (size_t i = 0; i < doc->count && !c->stop; i++) {
        if (doc->definitions[i].kind != GQL_DEF_OPERATION)
            continue;
        long *refs = NULL;
        size_t n = referenced_fragments(c, i, &refs);
        for (size_t k = 0; k < n; k++)
            used[refs[k]] = 1;
    }
    for (size_t f = 0; f < c->nfrags && !c->stop; f++) {
        const struct gql_definition *fd = frag_def(c, (long)f);
        long key = frag_lookup(c, fd->name.s);
        if (key >= 0 && !used[key])
            DIAG1(c, &fd->loc, "Fragment \"%s\" is never used.", fd->name.s);
    }
}

int gql_validate(const struct gql_schema *s, const struct gql_document *doc, const struct gql_cost_limits *lim,
                 struct gql_diags *out) {
    struct vctx c;
    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.s = s;
    c.doc = doc;
    c.out = out;
    c.a = arena_new(0);
    if (c.a == NULL)
        return LK_ENOMEM;
    if (prepare(&c) == 0) {
        c.collecting = 1;
        walk_document(&c);
        c.collecting = 0;
        if (!c.stop)
            walk_document(&c);
        if (!c.stop && out->count == 0 && lim != NULL)
            check_costs(&c, lim);
    }
    hmap_done(&c.maps);
    hmap_done(&c.frag_pairs);
    hmap_done(&c.map_frag);
    free(c.stack.v);
    arena_free(c.a);
    if (c.oom)
        return LK_ENOMEM;
    return out->count > 0 ? LK_EINVAL : 0;
}
