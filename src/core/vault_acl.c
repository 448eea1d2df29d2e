/*
 * vault_acl.c - Vault ACL policies: the HCL-subset parser and the
 * evaluation of a set of policies on a path (see vault_acl.h).
 *
 * The parser reads untrusted text from clients: it never reads past len,
 * bounds everything it keeps (VAULT_ACL_*), and its messages echo only
 * identifiers and single printable characters, never raw input. It must
 * never accept a key or capability it does not enforce: a policy that
 * says more than latchkey understands is refused, not half-applied.
 */
#include "core/vault_acl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/str.h"

/* --- capabilities ------------------------------------------------------------- */

static const char *const cap_names[] = {"create", "read", "update", "delete", "list", "sudo", "deny"};
#define CAP_COUNT (sizeof(cap_names) / sizeof(cap_names[0]))

const char *vault_acl_cap_name(unsigned bit) {
    for (size_t i = 0; i < CAP_COUNT; i++)
        if (bit == 1u << i)
            return cap_names[i];
    return NULL;
}

size_t vault_acl_cap_names(unsigned caps, const char **out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < CAP_COUNT; i++) {
        if (!(caps & (1u << i)))
            continue;
        if (n < cap)
            out[n] = cap_names[i];
        n++;
    }
    return n;
}

static const char default_text[] = "# Allow tokens to look up their own properties\n"
                                   "path \"auth/token/lookup-self\" {\n"
                                   "    capabilities = [\"read\"]\n"
                                   "}\n"
                                   "\n"
                                   "# Allow tokens to renew themselves\n"
                                   "path \"auth/token/renew-self\" {\n"
                                   "    capabilities = [\"update\"]\n"
                                   "}\n"
                                   "\n"
                                   "# Allow tokens to revoke themselves\n"
                                   "path \"auth/token/revoke-self\" {\n"
                                   "    capabilities = [\"update\"]\n"
                                   "}\n"
                                   "\n"
                                   "# Allow a token to look up its own capabilities on a path\n"
                                   "path \"sys/capabilities-self\" {\n"
                                   "    capabilities = [\"update\"]\n"
                                   "}\n";

const char *vault_acl_default_text(void) {
    return default_text;
}

/* --- rules ------------------------------------------------------------------ */

/*
 * One path block. pat is the pattern as matched, NUL-terminated, with its
 * final '*' if it has one; len counts the bytes before that '*'.
 */
struct rule {
    char *pat;
    size_t len;
    unsigned caps;
    int prefix;      /* ends in '*' */
    int segment;     /* has a '+' segment */
    size_t first_wc; /* where its first wildcard is, for priority */
    size_t nplus;    /* its '+' segments */
};

struct vault_acl_policy {
    struct rule *rules;
    size_t count;
};

void vault_acl_policy_free(struct vault_acl_policy *p) {
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->rules[i].pat);
    free(p->rules);
    free(p);
}

size_t vault_acl_policy_count(const struct vault_acl_policy *p) {
    return p != NULL ? p->count : 0;
}

const char *vault_acl_policy_rule(const struct vault_acl_policy *p, size_t i, unsigned *ret_caps) {
    if (p == NULL || i >= p->count)
        return NULL;
    if (ret_caps != NULL)
        *ret_caps = p->rules[i].caps;
    return p->rules[i].pat;
}

/* --- the lexer ----------------------------------------------------------------- */

enum tok_kind { T_EOF, T_IDENT, T_STRING, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_EQUALS, T_COMMA };

struct token {
    enum tok_kind kind;
    int line, col;
    const char *raw; /* T_IDENT: its bytes */
    size_t raw_len;
    char str[VAULT_ACL_PATTERN_MAX + 1]; /* T_STRING: decoded, NUL-terminated */
    size_t str_len;
    int str_col[VAULT_ACL_PATTERN_MAX]; /* T_STRING: the column each decoded byte came from */
};

struct parser {
    const char *s;
    size_t len, pos;
    int line, col; /* of s[pos] */
    struct lk_error *err;
};

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_at(struct parser *p, int line, int col, const char *fmt, ...) {
    char what[LK_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return lk_error_set(p->err, LK_EINVAL, "line %d, column %d: %s", line, col, what);
}

/* Consumes one byte, keeping line and column (a column per character). */
static void advance(struct parser *p) {
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        p->col++;
    }
}

static int is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}

/* Skips whitespace and comments. */
static int skip_space(struct parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            advance(p);
        } else if (c == '#' || (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/')) {
            while (p->pos < p->len && p->s[p->pos] != '\n')
                advance(p);
        } else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '*') {
            int line = p->line, col = p->col;
            advance(p);
            advance(p);
            for (;;) {
                if (p->pos + 1 >= p->len)
                    return fail_at(p, line, col,
                                   "expected the end of this comment (\"*/\"), found the end of the policy");
                if (p->s[p->pos] == '*' && p->s[p->pos + 1] == '/')
                    break;
                advance(p);
            }
            advance(p);
            advance(p);
        } else {
            break;
        }
    }
    return 0;
}

/* Reads a string whose opening quote is at p->pos into t. */
static int lex_string(struct parser *p, struct token *t) {
    advance(p); /* the quote */
    t->str_len = 0;
    for (;;) {
        if (p->pos >= p->len || p->s[p->pos] == '\n')
            return fail_at(p, t->line, t->col, "expected the closing '\"' of this string, found the end of the %s",
                           p->pos >= p->len ? "policy" : "line");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            advance(p);
            break;
        }
        int col = p->col;
        size_t n = 1;
        if (c == '\\') {
            char e = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
            if (e != '"' && e != '\\')
                return fail_at(p, p->line, col, "expected \\\" or \\\\ (no other escape is supported)");
            advance(p);
            c = (unsigned char)e;
        } else if (c < 0x20 || c == 0x7f) {
            return fail_at(p, p->line, col, "expected a printable character in this string, found byte 0x%02x", c);
        } else if (c >= 0x80) {
            n = str_utf8_len(p->s + p->pos, p->len - p->pos);
            if (n == 0)
                return fail_at(p, p->line, col, "expected UTF-8 text in this string, found byte 0x%02x", c);
        }
        if (t->str_len + n > VAULT_ACL_PATTERN_MAX)
            return fail_at(p, t->line, t->col, "expected a string of at most %d bytes", VAULT_ACL_PATTERN_MAX);
        if (c == '"' || c == '\\') {
            t->str_col[t->str_len] = col;
            t->str[t->str_len++] = (char)c;
            advance(p);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            t->str_col[t->str_len] = col;
            t->str[t->str_len++] = p->s[p->pos];
            advance(p);
        }
    }
    t->str[t->str_len] = '\0';
    return 0;
}

static int next(struct parser *p, struct token *t) {
    int r = skip_space(p);
    if (r != 0)
        return r;
    t->line = p->line;
    t->col = p->col;
    t->raw = p->s + p->pos;
    t->raw_len = 0;
    if (p->pos >= p->len) {
        t->kind = T_EOF;
        return 0;
    }
    char c = p->s[p->pos];
    static const char punct[] = "{}[]=,";
    static const enum tok_kind punct_kind[] = {T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_EQUALS, T_COMMA};
    const char *pc = c != '\0' ? strchr(punct, c) : NULL;
    if (pc != NULL) {
        t->kind = punct_kind[pc - punct];
        t->raw_len = 1;
        advance(p);
        return 0;
    }
    if (c == '"') {
        t->kind = T_STRING;
        return lex_string(p, t);
    }
    if (is_ident_start(c)) {
        t->kind = T_IDENT;
        while (p->pos < p->len && is_ident_char(p->s[p->pos])) {
            advance(p);
            t->raw_len++;
        }
        return 0;
    }
    if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f)
        return fail_at(p, t->line, t->col, "expected a name, a string or one of { } [ ] = , but found '%c'", c);
    return fail_at(p, t->line, t->col, "expected a name, a string or one of { } [ ] = , but found byte 0x%02x",
                   (unsigned char)c);
}

/* What t is, for "found ..." in a message. */
static const char *describe(const struct token *t, char *buf, size_t cap) {
    switch (t->kind) {
    case T_EOF: return "the end of the policy";
    case T_STRING: return "a string";
    case T_IDENT: {
        int n = t->raw_len > 40 ? 40 : (int)t->raw_len;
        snprintf(buf, cap, "'%.*s%s'", n, t->raw, t->raw_len > 40 ? "..." : "");
        return buf;
    }
    default: snprintf(buf, cap, "'%c'", t->raw[0]); return buf;
    }
}

static int ident_is(const struct token *t, const char *word) {
    return t->kind == T_IDENT && t->raw_len == strlen(word) && memcmp(t->raw, word, t->raw_len) == 0;
}

/* Fails with "expected <what>, found <t>". */
static int expected(struct parser *p, const struct token *t, const char *what) {
    char buf[64];
    return fail_at(p, t->line, t->col, "expected %s, found %s", what, describe(t, buf, sizeof(buf)));
}

/* --- the parser ---------------------------------------------------------------- */

/* Checks the pattern in t and makes it a rule (caps still 0). */
static int make_rule(struct parser *p, const struct token *t, struct rule *ret) {
    const char *s = t->str;
    size_t n = t->str_len, off = 0;
    if (n > 0 && s[0] == '/')
        off = 1; /* Vault's paths start after the API's "/v1/" */
    s += off;
    n -= off;
    if (n == 0)
        return fail_at(p, t->line, t->col, "expected a path pattern, found an empty one");
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == '*')
            return fail_at(p, t->line, t->str_col[off + i],
                           "expected '*' only as the last character of a pattern (a prefix glob)");
    }
    struct rule r;
    memset(&r, 0, sizeof(r));
    r.prefix = s[n - 1] == '*';
    r.len = r.prefix ? n - 1 : n;
    if (r.prefix && r.len > 0 && s[r.len - 1] == '+')
        return fail_at(p, t->line, t->str_col[off + r.len - 1],
                       "expected '+' and '*' apart: \"+*\" is not allowed (write \"+/*\" or a prefix)");
    for (size_t i = 0; i <= r.len;) {
        size_t j = i;
        while (j < r.len && s[j] != '/')
            j++;
        if (j - i == 1 && s[i] == '+')
            r.nplus++;
        i = j + 1;
    }
    r.segment = r.nplus > 0;
    if (r.segment)
        r.first_wc = (size_t)((const char *)memchr(s, '+', r.len) - s);
    else
        r.first_wc = r.len;
    r.pat = malloc(n + 1);
    if (r.pat == NULL)
        return lk_error_set(p->err, LK_ENOMEM, NULL);
    memcpy(r.pat, s, n);
    r.pat[n] = '\0';
    *ret = r;
    return 0;
}

/* Reads "= [ ... ]" after "capabilities" into *caps. */
static int parse_caps(struct parser *p, struct token *t, unsigned *caps) {
    int r = next(p, t);
    if (r != 0)
        return r;
    if (t->kind != T_EQUALS)
        return expected(p, t, "'=' after capabilities");
    if ((r = next(p, t)) != 0)
        return r;
    if (t->kind != T_LBRACKET)
        return expected(p, t, "'[' and a list of capabilities");
    int after_item = 0;
    for (;;) {
        if ((r = next(p, t)) != 0)
            return r;
        if (t->kind == T_RBRACKET)
            break;
        if (t->kind == T_COMMA && after_item) {
            after_item = 0;
            continue;
        }
        if (t->kind != T_STRING)
            return expected(p, t,
                            "a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" or "
                            "\"sudo\") or ']'");
        size_t i = 0;
        while (i < CAP_COUNT && strcmp(t->str, cap_names[i]) != 0)
            i++;
        if (i == CAP_COUNT) {
            char q[STR_ECHO_BUFSZ];
            str_echo(t->str, t->str_len, q);
            return fail_at(p, t->line, t->col,
                           "expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" or "
                           "\"sudo\"), found \"%s\"",
                           q);
        }
        *caps |= 1u << i;
        after_item = 1;
    }
    if (*caps & VAULT_CAP_DENY)
        *caps = VAULT_CAP_DENY; /* as Vault: deny stands alone */
    return 0;
}

/* Reads a block's body after its '{', through its '}'. */
static int parse_body(struct parser *p, struct token *t, unsigned *caps) {
    int seen = 0, after_value = 0, r;
    for (;;) {
        if ((r = next(p, t)) != 0)
            return r;
        if (t->kind == T_RBRACE)
            return 0;
        if (t->kind == T_COMMA && after_value) {
            after_value = 0;
            continue;
        }
        if (ident_is(t, "capabilities")) {
            if (seen)
                return fail_at(p, t->line, t->col, "expected '}': capabilities is given once per path block");
            seen = 1;
            if ((r = parse_caps(p, t, caps)) != 0)
                return r;
            after_value = 1;
            continue;
        }
        if (t->kind == T_IDENT) {
            char buf[64];
            return fail_at(p, t->line, t->col,
                           "expected 'capabilities' or '}', found %s (only capabilities is supported)",
                           describe(t, buf, sizeof(buf)));
        }
        return expected(p, t, "'capabilities' or '}'");
    }
}

static int add_rule(struct vault_acl_policy *pol, size_t *cap, struct rule *r) {
    if (pol->count == *cap) {
        size_t ncap = *cap == 0 ? 8 : *cap * 2;
        struct rule *n = realloc(pol->rules, ncap * sizeof(*n));
        if (n == NULL)
            return LK_ENOMEM;
        pol->rules = n;
        *cap = ncap;
    }
    pol->rules[pol->count++] = *r;
    r->pat = NULL;
    return 0;
}

int vault_acl_parse(const char *text, size_t len, struct vault_acl_policy **ret, struct lk_error *err) {
    if (text == NULL && len > 0)
        return lk_error_set(err, LK_EINVAL, "no policy text");
    if (len > VAULT_ACL_TEXT_MAX)
        return lk_error_set(err, LK_EINVAL, "a policy is at most %d bytes; this one has %zu", VAULT_ACL_TEXT_MAX, len);
    struct parser p = {text, len, 0, 1, 1, err};
    struct vault_acl_policy *pol = calloc(1, sizeof(*pol));
    struct token *t = malloc(sizeof(*t));
    struct rule rule = {0};
    size_t cap = 0;
    int r = pol != NULL && t != NULL ? 0 : lk_error_set(err, LK_ENOMEM, NULL);
    while (r == 0) {
        if ((r = next(&p, t)) != 0)
            break;
        if (t->kind == T_EOF)
            break;
        if (!ident_is(t, "path")) {
            r = expected(&p, t, "'path' or the end of the policy");
            break;
        }
        if (pol->count == VAULT_ACL_PATHS_MAX) {
            r = fail_at(&p, t->line, t->col, "expected the end of the policy: at most %d path blocks",
                        VAULT_ACL_PATHS_MAX);
            break;
        }
        if ((r = next(&p, t)) != 0)
            break;
        if (t->kind != T_STRING) {
            r = expected(&p, t, "a quoted path pattern after 'path'");
            break;
        }
        if ((r = make_rule(&p, t, &rule)) != 0)
            break;
        if ((r = next(&p, t)) != 0)
            break;
        if (t->kind != T_LBRACE) {
            r = expected(&p, t, "'{' after the path pattern");
            break;
        }
        if ((r = parse_body(&p, t, &rule.caps)) != 0)
            break;
        if ((r = add_rule(pol, &cap, &rule)) != 0)
            r = lk_error_set(err, r, NULL);
    }
    free(rule.pat);
    free(t);
    if (r != 0) {
        vault_acl_policy_free(pol);
        return r;
    }
    *ret = pol;
    return 0;
}

/* --- sets and evaluation ------------------------------------------------------- */

struct vault_acl_set {
    int root;
    struct rule *exact; /* sorted by pattern, for bsearch */
    size_t nexact;
    struct rule *glob; /* prefix and '+' rules, each pattern once */
    size_t nglob;
};

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Identical patterns sort together: by glob-ness, then bytes. */
static int rule_key_cmp(const void *a, const void *b) {
    const struct rule *x = *(const struct rule *const *)a, *y = *(const struct rule *const *)b;
    if (x->prefix != y->prefix)
        return x->prefix - y->prefix;
    return bytes_cmp(x->pat, x->len, y->pat, y->len);
}

void vault_acl_set_free(struct vault_acl_set *set) {
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nexact; i++)
        free(set->exact[i].pat);
    for (size_t i = 0; i < set->nglob; i++)
        free(set->glob[i].pat);
    free(set->exact);
    free(set->glob);
    free(set);
}

int vault_acl_set_is_root(const struct vault_acl_set *set) {
    return set != NULL && set->root;
}

int vault_acl_set_new(const struct vault_acl_policy *const *policies, size_t n, int root, struct vault_acl_set **ret) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (policies[i] != NULL)
            total += policies[i]->count;
    struct vault_acl_set *set = calloc(1, sizeof(*set));
    const struct rule **all = calloc(total > 0 ? total : 1, sizeof(*all));
    if (set != NULL) {
        set->exact = calloc(total > 0 ? total : 1, sizeof(*set->exact));
        set->glob = calloc(total > 0 ? total : 1, sizeof(*set->glob));
    }
    if (set == NULL || all == NULL || set->exact == NULL || set->glob == NULL)
        goto nomem;
    set->root = root != 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; policies[i] != NULL && j < policies[i]->count; j++)
            all[k++] = &policies[i]->rules[j];
    qsort(all, total, sizeof(*all), rule_key_cmp);
    for (size_t i = 0; i < total;) {
        struct rule m = *all[i];
        size_t j = i + 1;
        for (; j < total && rule_key_cmp(&all[i], &all[j]) == 0; j++)
            m.caps |= all[j]->caps;
        if (m.caps & VAULT_CAP_DENY)
            m.caps = VAULT_CAP_DENY;
        size_t plen = strlen(m.pat);
        m.pat = malloc(plen + 1);
        if (m.pat == NULL)
            goto nomem;
        memcpy(m.pat, all[i]->pat, plen + 1);
        if (m.prefix || m.segment)
            set->glob[set->nglob++] = m;
        else
            set->exact[set->nexact++] = m;
        i = j;
    }
    free(all);
    *ret = set;
    return 0;
nomem:
    free(all);
    vault_acl_set_free(set);
    return LK_ENOMEM;
}

static const struct rule *exact_find(const struct vault_acl_set *set, const char *path, size_t len) {
    size_t lo = 0, hi = set->nexact;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(set->exact[mid].pat, set->exact[mid].len, path, len);
        if (c == 0)
            return &set->exact[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* 1 if the '+' rule r matches path: segment by segment, '+' matching any
 * one (an empty one too, as Vault), and a prefix rule's last segment
 * matching the start of the rest of the path. */
static int segment_match(const struct rule *r, const char *path, size_t plen) {
    size_t i = 0, j = 0;
    for (;;) {
        size_t pe = i, qe = j;
        while (pe < r->len && r->pat[pe] != '/')
            pe++;
        while (qe < plen && path[qe] != '/')
            qe++;
        int last_p = pe == r->len, last_q = qe == plen;
        size_t pn = pe - i, qn = qe - j;
        if (r->prefix && last_p)
            return qn >= pn && memcmp(r->pat + i, path + j, pn) == 0;
        if (!(pn == 1 && r->pat[i] == '+') && !(pn == qn && memcmp(r->pat + i, path + j, pn) == 0))
            return 0;
        if (last_p || last_q)
            return last_p && last_q;
        i = pe + 1;
        j = qe + 1;
    }
}

static int glob_match(const struct rule *r, const char *path, size_t plen) {
    if (r->segment)
        return segment_match(r, path, plen);
    return plen >= r->len && memcmp(r->pat, path, r->len) == 0;
}

/* 1 if a takes priority over b (both match): Vault's order. */
static int beats(const struct rule *a, const struct rule *b) {
    if (a->first_wc != b->first_wc)
        return a->first_wc > b->first_wc;
    if (a->prefix != b->prefix)
        return !a->prefix;
    if (a->nplus != b->nplus)
        return a->nplus < b->nplus;
    if (a->len != b->len)
        return a->len > b->len;
    return bytes_cmp(a->pat, a->len, b->pat, b->len) > 0;
}

static unsigned granted(unsigned caps) {
    return caps & VAULT_CAP_DENY ? 0 : caps;
}

static unsigned evaluate(const struct vault_acl_set *set, const char *path, int listing) {
    if (set == NULL || path == NULL)
        return 0;
    if (set->root)
        return VAULT_CAP_ALL;
    while (*path == '/')
        path++;
    size_t plen = strlen(path);
    const struct rule *r = exact_find(set, path, plen);
    if (r == NULL && listing && plen > 0 && path[plen - 1] == '/')
        r = exact_find(set, path, plen - 1);
    if (r != NULL)
        return granted(r->caps);
    const struct rule *best = NULL;
    for (size_t i = 0; i < set->nglob; i++) {
        const struct rule *g = &set->glob[i];
        if (glob_match(g, path, plen) && (best == NULL || beats(g, best)))
            best = g;
    }
    return best != NULL ? granted(best->caps) : 0;
}

unsigned vault_acl_capabilities(const struct vault_acl_set *set, const char *path) {
    return evaluate(set, path, 0);
}

unsigned vault_acl_capabilities_list(const struct vault_acl_set *set, const char *path) {
    return evaluate(set, path, 1);
}
