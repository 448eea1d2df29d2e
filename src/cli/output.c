/*
 * output.c - the client commands' output (output.h).
 */
#include "cli/output.h"

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
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(f)) && (nc == NULL || nc[0] == '\0');
}
