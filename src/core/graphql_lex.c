/*
 * graphql_lex.c - the GraphQL lexer (graphql_lex.h): ignored tokens,
 * punctuators, names, numbers, strings and block strings, each with its
 * line and column.
 *
 * It reads untrusted text: it never reads past len, checks UTF-8 where it
 * reads it, does work linear in the input (columns are counted once per
 * byte, never from the start of a line for every token), and its messages
 * echo at most GQL_ECHO_MAX escaped bytes of the input.
 */
#include "core/graphql_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "lib/arena.h"
#include "lib/str.h"

/* --- errors ---------------------------------------------------------------------- */

/* Line and column (from 1) of byte pos: line terminators are LF, CR and
 * CRLF; columns count characters (bytes that are not UTF-8
 * continuation bytes). */
static void locate(const char *src, size_t len, size_t pos, uint32_t *ret_line, uint32_t *ret_col) {
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        unsigned char b = (unsigned char)src[i];
        if (b == '\n' || (b == '\r' && (i + 1 >= len || src[i + 1] != '\n'))) {
            line++;
            col = 1;
        } else if (b != '\r' && (b & 0xC0) != 0x80) {
            col++;
        }
    }
    *ret_line = line;
    *ret_col = col;
}

static int error_vat(struct gql_error *err, int code, const char *src, size_t len, size_t pos, const char *fmt,
                     va_list ap) __attribute__((format(printf, 6, 0)));
static int error_vat(struct gql_error *err, int code, const char *src, size_t len, size_t pos, const char *fmt,
                     va_list ap) {
    if (err == NULL)
        return code;
    err->code = code;
    err->line = err->column = 0;
    if (pos != (size_t)-1)
        locate(src, len, pos, &err->line, &err->column);
    size_t n = (size_t)snprintf(err->message, sizeof(err->message), "Syntax Error: ");
    if (n < sizeof(err->message))
        vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
    return code;
}

int gql_error_at(struct gql_error *err, int code, const char *src, size_t len, size_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vat(err, code, src, len, pos, fmt, ap);
    va_end(ap);
    return code;
}

static int fail(const struct gql_lexer *lx, struct gql_error *err, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const struct gql_lexer *lx, struct gql_error *err, size_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vat(err, LK_EINVAL, lx->src, lx->len, pos, fmt, ap);
    va_end(ap);
    return LK_EINVAL;
}

static int nomem(struct gql_error *err) {
    if (err != NULL) {
        err->code = LK_ENOMEM;
        err->line = err->column = 0;
        str_copy(err->message, sizeof(err->message), "Out of memory while parsing the document.");
    }
    return LK_ENOMEM;
}

/* --- characters -------------------------------------------------------------------- */

/* The character s[0..n) starts with, its length in *ret_len; -1 (and 0)
 * when it is not well-formed UTF-8. */
static int32_t decode_utf8(const char *s, size_t n, size_t *ret_len) {
    size_t k = str_utf8_len(s, n);
    *ret_len = k;
    const unsigned char *u = (const unsigned char *)s;
    switch (k) {
    case 1: return u[0];
    case 2: return (int32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    case 3: return (int32_t)(u[0] & 0x0F) << 12 | (int32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    case 4:
        return (int32_t)(u[0] & 0x07) << 18 | (int32_t)(u[1] & 0x3F) << 12 | (int32_t)(u[2] & 0x3F) << 6 |
               (u[3] & 0x3F);
    default: return -1;
    }
}

/* SourceCharacter: tab, LF, CR, and U+0020 up (see graphql_lex.h). */
static int is_source_char(int32_t c) {
    return c == '\t' || c == '\n' || c == '\r' || c >= 0x20;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_continue(char c) {
    return is_name_start(c) || is_digit(c);
}

/* A character as messages show it: "c" when printable ASCII, else U+XXXX. */
static void describe_char(int32_t c, char out[16]) {
    if (c >= 0x20 && c < 0x7F)
        snprintf(out, 16, "\"%c\"", (char)c);
    else
        snprintf(out, 16, "U+%04X", (unsigned)c);
}

static int bad_utf8(const struct gql_lexer *lx, struct gql_error *err, size_t pos) {
    return fail(lx, err, pos, "Invalid UTF-8 byte: 0x%02X.", (unsigned)(unsigned char)lx->src[pos]);
}

/* Describes what is at pos for a message: <EOF> or describe_char. 0, or
 * -1 when the bytes there are not UTF-8. */
static int describe_at(const struct gql_lexer *lx, size_t pos, char out[16]) {
    if (pos >= lx->len) {
        str_copy(out, 16, "<EOF>");
        return 0;
    }
    size_t k;
    int32_t c = decode_utf8(lx->src + pos, lx->len - pos, &k);
    if (c < 0)
        return -1;
    describe_char(c, out);
    return 0;
}

/* The escaped excerpt src[from..to) for a message, at most GQL_ECHO_MAX bytes. */
static void excerpt(const struct gql_lexer *lx, size_t from, size_t to, char out[GQL_ECHO_MAX * 4 + 4]) {
    if (to > lx->len)
        to = lx->len;
    str_echo_n(lx->src + from, to - from, GQL_ECHO_MAX, out, GQL_ECHO_MAX * 4 + 4);
}

/* --- positions ----------------------------------------------------------------------- */

void gql_lexer_init(struct gql_lexer *lx, const char *src, size_t len, size_t max_tokens, struct arena *arena) {
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->col = 1;
    lx->max_tokens = max_tokens;
    lx->arena = arena;
}

/* A line starts at pos. */
static void new_line(struct gql_lexer *lx, size_t pos) {
    lx->line++;
    lx->line_start = lx->col_pos = pos;
    lx->col = 1;
}

/* The column of pos, on the current line at or after the column cache;
 * moves the cache there, so columns cost one look at each byte. */
static uint32_t column_of(struct gql_lexer *lx, size_t pos) {
    for (; lx->col_pos < pos; lx->col_pos++)
        if (((unsigned char)lx->src[lx->col_pos] & 0xC0) != 0x80)
            lx->col++;
    return lx->col;
}

/* Skips Ignored tokens. A comment ends before the first byte that is not
 * a CommentChar (a line terminator, a control character, bytes outside
 * UTF-8): the next token then reports the latter two. */
static void skip_ignored(struct gql_lexer *lx) {
    const char *s = lx->src;
    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)s[lx->pos];
        if (c == ' ' || c == '\t' || c == ',') {
            lx->pos++;
        } else if (c == '\n') {
            new_line(lx, ++lx->pos);
        } else if (c == '\r') {
            lx->pos += lx->pos + 1 < lx->len && s[lx->pos + 1] == '\n' ? 2 : 1;
            new_line(lx, lx->pos);
        } else if (c == 0xEF && lx->pos + 2 < lx->len && (unsigned char)s[lx->pos + 1] == 0xBB &&
                   (unsigned char)s[lx->pos + 2] == 0xBF) {
            lx->pos += 3; /* UnicodeBOM */
        } else if (c == '#') {
            lx->pos++;
            while (lx->pos < lx->len) {
                unsigned char d = (unsigned char)s[lx->pos];
                if (d == '\n' || d == '\r' || (d < 0x20 && d != '\t'))
                    break;
                size_t k = d < 0x80 ? 1 : str_utf8_len(s + lx->pos, lx->len - lx->pos);
                if (k == 0)
                    break;
                lx->pos += k;
            }
        } else {
            break;
        }
    }
}

/* --- tokens ------------------------------------------------------------------------------- */

const char *gql_token_kind_name(enum gql_token_kind k) {
    switch (k) {
    case GQL_TOK_EOF: return "<EOF>";
    case GQL_TOK_BANG: return "\"!\"";
    case GQL_TOK_DOLLAR: return "\"$\"";
    case GQL_TOK_AMP: return "\"&\"";
    case GQL_TOK_PAREN_L: return "\"(\"";
    case GQL_TOK_PAREN_R: return "\")\"";
    case GQL_TOK_SPREAD: return "\"...\"";
    case GQL_TOK_COLON: return "\":\"";
    case GQL_TOK_EQUALS: return "\"=\"";
    case GQL_TOK_AT: return "\"@\"";
    case GQL_TOK_BRACKET_L: return "\"[\"";
    case GQL_TOK_BRACKET_R: return "\"]\"";
    case GQL_TOK_BRACE_L: return "\"{\"";
    case GQL_TOK_PIPE: return "\"|\"";
    case GQL_TOK_BRACE_R: return "\"}\"";
    case GQL_TOK_NAME: return "Name";
    case GQL_TOK_INT: return "Int";
    case GQL_TOK_FLOAT: return "Float";
    case GQL_TOK_STRING: return "String";
    case GQL_TOK_BLOCK_STRING: return "BlockString";
    }
    return "token";
}

/* The character at pos starts no token. */
static int unexpected_char(const struct gql_lexer *lx, struct gql_error *err, size_t pos) {
    size_t k;
    int32_t c = decode_utf8(lx->src + pos, lx->len - pos, &k);
    if (c < 0)
        return bad_utf8(lx, err, pos);
    if (c == '\'')
        return fail(lx, err, pos, "Unexpected single quote character ('), did you mean to use a double quote (\")?");
    char what[16];
    describe_char(c, what);
    if (!is_source_char(c))
        return fail(lx, err, pos, "Invalid character: %s.", what);
    return fail(lx, err, pos, "Unexpected character: %s.", what);
}

/* Digit+ at *pos, or an error naming what is there instead. */
static int read_digits(const struct gql_lexer *lx, struct gql_error *err, size_t *pos) {
    size_t i = *pos;
    if (i >= lx->len || !is_digit(lx->src[i])) {
        char what[16];
        if (describe_at(lx, i, what) < 0)
            return bad_utf8(lx, err, i);
        return fail(lx, err, i, "Invalid number, expected digit but got: %s.", what);
    }
    while (i < lx->len && is_digit(lx->src[i]))
        i++;
    *pos = i;
    return 0;
}

/* IntValue or FloatValue starting at t->loc.start ('-' or a digit). */
static int lex_number(struct gql_lexer *lx, struct gql_token *t, struct gql_error *err) {
    const char *s = lx->src;
    size_t i = t->loc.start;
    int r, is_float = 0;
    if (s[i] == '-')
        i++;
    if (i < lx->len && s[i] == '0') {
        i++;
        if (i < lx->len && is_digit(s[i]))
            return fail(lx, err, i, "Invalid number, unexpected digit after 0: \"%c\".", s[i]);
    } else if ((r = read_digits(lx, err, &i)) != 0) {
        return r;
    }
    if (i < lx->len && s[i] == '.') {
        is_float = 1;
        i++;
        if ((r = read_digits(lx, err, &i)) != 0)
            return r;
    }
    if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
        is_float = 1;
        i++;
        if (i < lx->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((r = read_digits(lx, err, &i)) != 0)
            return r;
    }
    /* The lookahead restriction: no Digit, '.' or NameStart after it. */
    if (i < lx->len && (s[i] == '.' || is_name_start(s[i])))
        return fail(lx, err, i, "Invalid number, expected digit but got: \"%c\".", s[i]);
    t->kind = is_float ? GQL_TOK_FLOAT : GQL_TOK_INT;
    t->text = s + t->loc.start;
    t->len = i - t->loc.start;
    t->loc.end = (uint32_t)i;
    return 0;
}

static int hex_value(char c) {
    return str_hex_digit(c);
}

/* Four hex digits at pos, or -1. */
static int32_t hex4(const struct gql_lexer *lx, size_t pos) {
    if (pos > lx->len || lx->len - pos < 4)
        return -1;
    int32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hex_value(lx->src[pos + k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* UTF-8 of scalar value c into out + o (out may be NULL: only counts);
 * returns its length. */
static size_t put_utf8(char *out, size_t o, uint32_t c) {
    unsigned char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (unsigned char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (unsigned char)(0xC0 | c >> 6);
        b[1] = (unsigned char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (unsigned char)(0xE0 | c >> 12);
        b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        b[2] = (unsigned char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | c >> 18);
        b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
        b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        b[3] = (unsigned char)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (out != NULL)
        memcpy(out + o, b, n);
    return n;
}

/*
 * The \u escape whose backslash is at pos: \uXXXX (a leading surrogate
 * must be followed by \uXXXX of a trailing one: the pair is one
 * character) or \u{X...}. The scalar value in *ret_c, the offset past the
 * escape in *ret_next.
 */
static int unicode_escape(const struct gql_lexer *lx, struct gql_error *err, size_t pos, uint32_t *ret_c,
                          size_t *ret_next) {
    const char *s = lx->src;
    char ex[GQL_ECHO_MAX * 4 + 4];
    size_t i = pos + 2;
    if (i < lx->len && s[i] == '{') {
        uint32_t v = 0;
        size_t digits = 0;
        for (i++; i < lx->len && hex_value(s[i]) >= 0; i++, digits++)
            if (v <= 0x10FFFF) /* once past it, stays past it */
                v = v << 4 | (uint32_t)hex_value(s[i]);
        if (v > 0x10FFFF || digits == 0 || i >= lx->len || s[i] != '}' || (v >= 0xD800 && v <= 0xDFFF)) {
            excerpt(lx, pos, i + 1, ex);
            return fail(lx, err, pos, "Invalid Unicode escape sequence: \"%s\".", ex);
        }
        *ret_c = v;
        *ret_next = i + 1;
        return 0;
    }
    int32_t v = hex4(lx, i);
    if (v >= 0xD800 && v <= 0xDBFF) {
        int32_t trail = i + 5 < lx->len && s[i + 4] == '\\' && s[i + 5] == 'u' ? hex4(lx, i + 6) : -1;
        if (trail >= 0xDC00 && trail <= 0xDFFF) {
            *ret_c = 0x10000 + ((uint32_t)(v - 0xD800) << 10) + (uint32_t)(trail - 0xDC00);
            *ret_next = i + 10;
            return 0;
        }
    }
    if (v < 0 || (v >= 0xD800 && v <= 0xDFFF)) {
        excerpt(lx, pos, pos + 6, ex);
        return fail(lx, err, pos, "Invalid Unicode escape sequence: \"%s\".", ex);
    }
    *ret_c = (uint32_t)v;
    *ret_next = i + 4;
    return 0;
}

/*
 * The quoted string whose opening quote is at start: checks it and finds
 * its end (*ret_end, past the closing quote) and its value's length
 * (*ret_n); with out, also writes the value there. Errors in the order
 * the text meets them.
 */
static int scan_string(const struct gql_lexer *lx, struct gql_error *err, size_t start, char *out, size_t *ret_end,
                       size_t *ret_n) {
    const char *s = lx->src;
    size_t i = start + 1, o = 0;
    char ex[GQL_ECHO_MAX * 4 + 4];
    for (;;) {
        if (i >= lx->len)
            return fail(lx, err, i, "Unterminated string.");
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            *ret_end = i + 1;
            *ret_n = o;
            return 0;
        }
        if (c == '\n' || c == '\r')
            return fail(lx, err, i, "Unterminated string.");
        if (c == '\\') {
            if (i + 1 >= lx->len)
                return fail(lx, err, i + 1, "Unterminated string.");
            char e = s[i + 1], v;
            switch (e) {
            case '"': v = '"'; break;
            case '\\': v = '\\'; break;
            case '/': v = '/'; break;
            case 'b': v = '\b'; break;
            case 'f': v = '\f'; break;
            case 'n': v = '\n'; break;
            case 'r': v = '\r'; break;
            case 't': v = '\t'; break;
            case 'u': {
                uint32_t cp = 0;
                size_t next = 0;
                int r = unicode_escape(lx, err, i, &cp, &next);
                if (r != 0)
                    return r;
                o += put_utf8(out, o, cp);
                i = next;
                continue;
            }
            default: {
                size_t k = str_utf8_len(s + i + 1, lx->len - i - 1);
                excerpt(lx, i, i + 1 + (k > 0 ? k : 1), ex);
                return fail(lx, err, i, "Invalid character escape sequence: \"%s\".", ex);
            }
            }
            if (out != NULL)
                out[o] = v;
            o++;
            i += 2;
            continue;
        }
        if (c < 0x20 && c != '\t')
            return fail(lx, err, i, "Invalid character within String: U+%04X.", (unsigned)c);
        size_t k = c < 0x80 ? 1 : str_utf8_len(s + i, lx->len - i);
        if (k == 0)
            return bad_utf8(lx, err, i);
        if (out != NULL)
            memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
}

static int lex_string(struct gql_lexer *lx, struct gql_token *t, struct gql_error *err) {
    size_t end, n;
    int r = scan_string(lx, err, t->loc.start, NULL, &end, &n);
    if (r != 0)
        return r;
    char *v = arena_alloc(lx->arena, n + 1);
    if (v == NULL)
        return nomem(err);
    scan_string(lx, err, t->loc.start, v, &end, &n);
    t->kind = GQL_TOK_STRING;
    t->text = v;
    t->len = n;
    t->loc.end = (uint32_t)end;
    lx->pos = end;
    return 0;
}

/* The block string whose `"""` is at t->loc.start; keeps the line count
 * through it. */
static int lex_block_string(struct gql_lexer *lx, struct gql_token *t, struct gql_error *err) {
    const char *s = lx->src;
    size_t from = t->loc.start + 3, i = from;
    for (;;) {
        if (i >= lx->len)
            return fail(lx, err, i, "Unterminated string.");
        unsigned char c = (unsigned char)s[i];
        if (c == '"' && i + 2 < lx->len && s[i + 1] == '"' && s[i + 2] == '"')
            break;
        if (c == '\\' && i + 3 < lx->len && s[i + 1] == '"' && s[i + 2] == '"' && s[i + 3] == '"') {
            i += 4;
        } else if (c == '\n') {
            new_line(lx, ++i);
        } else if (c == '\r') {
            i += i + 1 < lx->len && s[i + 1] == '\n' ? 2 : 1;
            new_line(lx, i);
        } else if (c < 0x20 && c != '\t') {
            return fail(lx, err, i, "Invalid character within String: U+%04X.", (unsigned)c);
        } else {
            size_t k = c < 0x80 ? 1 : str_utf8_len(s + i, lx->len - i);
            if (k == 0)
                return bad_utf8(lx, err, i);
            i += k;
        }
    }
    char *v = arena_alloc(lx->arena, i - from + 1);
    if (v == NULL)
        return nomem(err);
    t->kind = GQL_TOK_BLOCK_STRING;
    t->len = gql_block_string_value(s + from, i - from, v);
    v[t->len] = '\0';
    t->text = v;
    t->loc.end = (uint32_t)(i + 3);
    lx->pos = i + 3;
    return 0;
}

int gql_lex_next(struct gql_lexer *lx, struct gql_token *ret, struct gql_error *err) {
    skip_ignored(lx);
    struct gql_token t = {0};
    size_t start = lx->pos;
    t.loc.line = lx->line;
    t.loc.column = column_of(lx, start);
    t.loc.start = t.loc.end = (uint32_t)start;
    if (start >= lx->len) {
        t.kind = GQL_TOK_EOF;
        *ret = t;
        return 0;
    }
    if (lx->tokens >= lx->max_tokens)
        return gql_error_at(err, LK_ERANGE, lx->src, lx->len, start,
                            "Document contains more than %zu tokens. Parsing aborted.", lx->max_tokens);
    lx->tokens++;

    const char *s = lx->src;
    int r = 0;
    switch (s[start]) {
    case '!': t.kind = GQL_TOK_BANG; break;
    case '$': t.kind = GQL_TOK_DOLLAR; break;
    case '&': t.kind = GQL_TOK_AMP; break;
    case '(': t.kind = GQL_TOK_PAREN_L; break;
    case ')': t.kind = GQL_TOK_PAREN_R; break;
    case ':': t.kind = GQL_TOK_COLON; break;
    case '=': t.kind = GQL_TOK_EQUALS; break;
    case '@': t.kind = GQL_TOK_AT; break;
    case '[': t.kind = GQL_TOK_BRACKET_L; break;
    case ']': t.kind = GQL_TOK_BRACKET_R; break;
    case '{': t.kind = GQL_TOK_BRACE_L; break;
    case '|': t.kind = GQL_TOK_PIPE; break;
    case '}': t.kind = GQL_TOK_BRACE_R; break;
    case '.':
        if (start + 2 < lx->len && s[start + 1] == '.' && s[start + 2] == '.') {
            t.kind = GQL_TOK_SPREAD;
            t.loc.end = (uint32_t)(start + 3);
            lx->pos = start + 3;
            *ret = t;
            return 0;
        }
        return unexpected_char(lx, err, start);
    case '"':
        if (start + 2 < lx->len && s[start + 1] == '"' && s[start + 2] == '"')
            r = lex_block_string(lx, &t, err);
        else
            r = lex_string(lx, &t, err);
        if (r == 0)
            *ret = t;
        return r;
    default:
        if (s[start] == '-' || is_digit(s[start])) {
            r = lex_number(lx, &t, err);
        } else if (is_name_start(s[start])) {
            size_t i = start + 1;
            while (i < lx->len && is_name_continue(s[i]))
                i++;
            t.kind = GQL_TOK_NAME;
            t.text = s + start;
            t.len = i - start;
            t.loc.end = (uint32_t)i;
        } else {
            return unexpected_char(lx, err, start);
        }
        if (r != 0)
            return r;
        lx->pos = t.loc.end;
        *ret = t;
        return 0;
    }
    /* a one-character punctuator */
    t.loc.end = (uint32_t)(start + 1);
    lx->pos = start + 1;
    *ret = t;
    return 0;
}

/* --- block strings ---------------------------------------------------------------------------- */

/* The end of the line that starts at p in raw[0..n) (a terminator or n). */
static size_t line_end(const char *raw, size_t n, size_t p) {
    while (p < n && raw[p] != '\n' && raw[p] != '\r')
        p++;
    return p;
}

/* Where the line after the one ending at e starts (past its terminator). */
static size_t next_line(const char *raw, size_t n, size_t e) {
    return raw[e] == '\r' && e + 1 < n && raw[e + 1] == '\n' ? e + 2 : e + 1;
}

static size_t leading_white(const char *s, size_t n) {
    size_t k = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t'))
        k++;
    return k;
}

size_t gql_block_string_value(const char *raw, size_t n, char *out) {
    /* First pass: the common indentation of the lines after the first
     * that are not all white space, and the first and last lines that are
     * not all white space (white space is one byte a character, so bytes
     * stand for characters here). */
    size_t common = (size_t)-1, first = (size_t)-1, last = 0, k = 0;
    for (size_t p = 0;; k++) {
        size_t e = line_end(raw, n, p);
        size_t indent = leading_white(raw + p, e - p);
        if (indent < e - p) {
            if (k > 0 && indent < common)
                common = indent;
            if (first == (size_t)-1)
                first = k;
            last = k;
        }
        if (e >= n)
            break;
        p = next_line(raw, n, e);
    }
    if (first == (size_t)-1)
        return 0;
    if (common == (size_t)-1)
        common = 0;
    /* Second pass: lines first..last, each after the first without the
     * common indentation, joined by LF; \""" read as """. */
    size_t o = 0;
    k = 0;
    for (size_t p = 0;; k++) {
        size_t e = line_end(raw, n, p);
        if (k >= first && k <= last) {
            size_t b = p;
            if (k > 0)
                b += e - p < common ? e - p : common;
            if (k > first)
                out[o++] = '\n';
            while (b < e) {
                if (raw[b] == '\\' && b + 4 <= e && raw[b + 1] == '"' && raw[b + 2] == '"' && raw[b + 3] == '"') {
                    memcpy(out + o, "\"\"\"", 3);
                    o += 3;
                    b += 4;
                } else {
                    out[o++] = raw[b++];
                }
            }
        }
        if (e >= n || k >= last)
            break;
        p = next_line(raw, n, e);
    }
    return o;
}
