/*
 * output.h - how client commands print what the server answered, one
 * module for all of them: aligned tables on a terminal, JSON for scripts
 * (-o json), times relative on a terminal ("in 6 days") and RFC 3339 in
 * JSON, colour only on a terminal and never with NO_COLOR.
 */
#ifndef LK_CLI_OUTPUT_H
#define LK_CLI_OUTPUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TABLE, OUT_JSON };

/* Reads and removes -o/--output FORMAT from argv: 0, or 2 (usage) after
 * saying why. */
int out_flags(enum out_format *f, int *argc, char **argv);

/* v as indented JSON on stdout. */
void out_json(json_t *v);

/* Rows of "key  value", the keys padded to one width. */
struct out_row {
    const char *key;
    const char *value;
};
void out_rows(const struct out_row *rows, size_t n);

/*
 * A table: a header of column names (upper-cased as printed) and rows of
 * cells (NULL prints "-"), each column as wide as its widest cell, two
 * spaces apart. ncols at most OUT_COLS_MAX.
 */
#define OUT_COLS_MAX 8
struct out_table {
    size_t ncols;
    const char *names[OUT_COLS_MAX];
    size_t nrows, cap;
    char **cells; /* nrows * ncols, each malloc'd or NULL */
};
void out_table_init(struct out_table *t, size_t ncols, const char *const *names);
/* Adds a row of ncols cells (copied); 0 or -1 when out of memory. */
int out_table_add(struct out_table *t, const char *const *cells);
/* Prints the table to stdout and frees it. */
void out_table_print(struct out_table *t);

/* An RFC 3339 time (or NULL: "never") as a terminal shows it: "in 6 days",
 * "3 hours ago", "just now" (within a minute); into buf. now in Unix
 * seconds. */
const char *out_when(const char *rfc3339, int64_t now, char *buf, size_t cap);

/* 1 when colour may be used on f: a terminal (not TERM=dumb), and NO_COLOR
 * unset or empty (https://no-color.org). */
int out_colour(FILE *f);

/* The escape that starts style s on f and the one that ends it, or ""
 * when f takes no colour: printf("%sNAME%s", out_on(f, OUT_BOLD), out_off(f)). */
enum out_style { OUT_BOLD, OUT_RED, OUT_YELLOW };
const char *out_on(FILE *f, enum out_style s);
const char *out_off(FILE *f);

/* "latchkey: " and the message, a line on stderr; the prefix red on a
 * terminal. out_warn says "latchkey: warning: ", in yellow. */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
