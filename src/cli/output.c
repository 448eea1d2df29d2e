/*
 * output.c - the client commands' output (output.h).
 */
#include "cli/output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "core/rfc3339.h"

int out_flags(enum out_format *f, int *argc, char **argv) {
    int out = 0;
    *f = OUT_TABLE;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            const char *v = i + 1 < *argc ? argv[++i] : NULL;
            if (v != NULL && strcmp(v, "json") == 0) {
                *f = OUT_JSON;
            } else if (v != NULL && strcmp(v, "table") == 0) {
                *f = OUT_TABLE;
            } else {
                fprintf(stderr, "latchkey: -o takes json or table\n");
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    return 0;
}

void out_json(json_t *v) {
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
}

void out_rows(const struct out_row *rows, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (strlen(rows[i].key) > w)
            w = strlen(rows[i].key);
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %s\n", (int)w, rows[i].key, rows[i].value ? rows[i].value : "-");
}

void out_table_init(struct out_table *t, size_t ncols, const char *const *names) {
    memset(t, 0, sizeof(*t));
    t->ncols = ncols > OUT_COLS_MAX ? OUT_COLS_MAX : ncols;
    for (size_t i = 0; i < t->ncols; i++)
        t->names[i] = names[i];
}

int out_table_add(struct out_table *t, const char *const *cells) {
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
        if (c == NULL)
            return -1;
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = cells[i] ? strdup(cells[i]) : NULL;
    t->nrows++;
    return 0;
}

void out_table_print(struct out_table *t) {
    size_t w[OUT_COLS_MAX];
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->names[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            const char *v = t->cells[r * t->ncols + c];
            size_t n = v ? strlen(v) : 1;
            if (n > w[c])
                w[c] = n;
        }
    }
    fputs(out_on(stdout, OUT_BOLD), stdout);
    for (size_t c = 0; c < t->ncols; c++) {
        for (const char *p = t->names[c]; *p; p++)
            putchar(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        printf("%*s", c + 1 < t->ncols ? (int)(w[c] - strlen(t->names[c]) + 2) : 0, "");
    }
    printf("%s\n", out_off(stdout));
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *v = t->cells[r * t->ncols + c];
            if (c + 1 < t->ncols)
                printf("%-*s  ", (int)w[c], v ? v : "-");
            else
                printf("%s", v ? v : "-");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

const char *out_when(const char *rfc3339, int64_t now, char *buf, size_t cap) {
    int64_t t;
    if (rfc3339 == NULL) {
        snprintf(buf, cap, "never");
        return buf;
    }
    if (rfc3339_parse(rfc3339, strlen(rfc3339), &t) != 0) {
        snprintf(buf, cap, "%s", rfc3339);
        return buf;
    }
    int64_t d = t - now, a = d < 0 ? -d : d;
    if (a < 60) {
        snprintf(buf, cap, "just now");
        return buf;
    }
    const char *unit = "second";
    int64_t n = a;
    if (a >= 86400 * 2) {
        n = a / 86400;
        unit = "day";
    } else if (a >= 3600 * 2) {
        n = a / 3600;
        unit = "hour";
    } else if (a >= 120) {
        n = a / 60;
        unit = "minute";
    }
    if (d >= 0)
        snprintf(buf, cap, "in %lld %s%s", (long long)n, unit, n == 1 ? "" : "s");
    else
        snprintf(buf, cap, "%lld %s%s ago", (long long)n, unit, n == 1 ? "" : "s");
    return buf;
}

int out_colour(FILE *f) {
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(f)) && (nc == NULL || nc[0] == '\0') && (term == NULL || strcmp(term, "dumb") != 0);
}

const char *out_on(FILE *f, enum out_style s) {
    static const char *const esc[] = {[OUT_BOLD] = "\033[1m", [OUT_RED] = "\033[31m", [OUT_YELLOW] = "\033[33m"};
    return out_colour(f) ? esc[s] : "";
}

const char *out_off(FILE *f) {
    return out_colour(f) ? "\033[0m" : "";
}

static void say(enum out_style s, const char *what, const char *fmt, va_list ap) {
    fprintf(stderr, "%slatchkey:%s%s%s ", out_on(stderr, s), what[0] ? " " : "", what, out_off(stderr));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void out_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(OUT_RED, "", fmt, ap);
    va_end(ap);
}

void out_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(OUT_YELLOW, "warning:", fmt, ap);
    va_end(ap);
}
