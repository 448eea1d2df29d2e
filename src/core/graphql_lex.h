/*
 * graphql_lex.h - the GraphQL lexer: source text to tokens, with the
 * place of each (used by the parser, graphql_parse.c; its own tests use
 * it directly).
 *
 * Lexical grammar of the October 2021 edition, with these readings:
 *   - The source is UTF-8, checked as it is read; a byte outside
 *     well-formed UTF-8 is an error wherever it is.
 *   - A source character is a tab, a line feed, a carriage return, or any
 *     character from U+0020 up (the edition's U+FFFF bound is an artefact
 *     of UTF-16: supplementary characters are taken). Other control
 *     characters are refused, in strings and comments too.
 *   - Ignored: the byte-order mark (anywhere between tokens), spaces,
 *     tabs, line terminators (LF, CR, CRLF: one line each), comments,
 *     commas.
 *   - Numbers keep the lookahead rules: `00`, `0x1`, `1.`, `1e`, `.5`,
 *     `123abc` and `1.2.3` are errors.
 *   - Strings: the edition's escapes, a surrogate pair of \uXXXX escapes
 *     as one character, and the later editions' \u{...} (any scalar
 *     value); a lone surrogate or a value past U+10FFFF is an error.
 *     Block strings follow BlockStringValue() (common indentation and
 *     blank first and last lines removed; \""" is """).
 */
#ifndef LK_CORE_GRAPHQL_LEX_H
#define LK_CORE_GRAPHQL_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/graphql.h"

struct arena;

enum gql_token_kind {
    GQL_TOK_EOF,
    GQL_TOK_BANG,      /* ! */
    GQL_TOK_DOLLAR,    /* $ */
    GQL_TOK_AMP,       /* & */
    GQL_TOK_PAREN_L,   /* ( */
    GQL_TOK_PAREN_R,   /* ) */
    GQL_TOK_SPREAD,    /* ... */
    GQL_TOK_COLON,     /* : */
    GQL_TOK_EQUALS,    /* = */
    GQL_TOK_AT,        /* @ */
    GQL_TOK_BRACKET_L, /* [ */
    GQL_TOK_BRACKET_R, /* ] */
    GQL_TOK_BRACE_L,   /* { */
    GQL_TOK_PIPE,      /* | */
    GQL_TOK_BRACE_R,   /* } */
    GQL_TOK_NAME,
    GQL_TOK_INT,
    GQL_TOK_FLOAT,
    GQL_TOK_STRING,
    GQL_TOK_BLOCK_STRING,
};

/*
 * One token. loc covers its text (a string's quotes included; EOF is the
 * empty text at the end). text: NAME, INT and FLOAT point at the source
 * (not NUL-terminated); STRING and BLOCK_STRING hold the value, decoded
 * into the lexer's arena (NUL-terminated; may hold NUL bytes). Others:
 * NULL.
 */
struct gql_token {
    enum gql_token_kind kind;
    struct gql_loc loc;
    const char *text;
    size_t len;
};

/* The lexer's state; members are private to graphql_lex.c. */
struct gql_lexer {
    const char *src;
    size_t len, pos;
    uint32_t line;     /* of pos */
    size_t line_start; /* offset where that line starts */
    size_t col_pos;    /* column cache: col is the column of col_pos, */
    uint32_t col;      /* on the current line */
    size_t tokens, max_tokens;
    struct arena *arena;
};

/*
 * Starts reading src[0..len) (len at most GQL_HARD_MAX_BYTES): at most
 * max_tokens tokens, decoded strings allocated from arena. Keeps pointers
 * to both.
 */
void gql_lexer_init(struct gql_lexer *lx, const char *src, size_t len, size_t max_tokens, struct arena *arena);

/*
 * Reads the next token into *ret (EOF, again and again, at the end). 0,
 * or LK_EINVAL / LK_ERANGE (more than max_tokens) / LK_ENOMEM described
 * in err (may be NULL), after which the lexer must not be used again.
 */
int gql_lex_next(struct gql_lexer *lx, struct gql_token *ret, struct gql_error *err);

/* "Name", "Int", "<EOF>", "\"{\"" ... as errors name a kind of token. */
const char *gql_token_kind_name(enum gql_token_kind k);

/*
 * Records an error at byte offset pos of src[0..len) (its line and column
 * counted from the start; pos == (size_t)-1: no place) in err (may be
 * NULL): "Syntax Error: " and the formatted text. Returns code.
 */
int gql_error_at(struct gql_error *err, int code, const char *src, size_t len, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * The value of a block string whose source text between the triple quotes
 * is raw[0..n): each \""" in it read as """, then BlockStringValue(),
 * into out (at least n bytes; not NUL-terminated). Returns the length.
 */
size_t gql_block_string_value(const char *raw, size_t n, char *out);

#endif
