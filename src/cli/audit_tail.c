/*
 * audit_tail.c - `latchkey audit tail`: the org's newest audit records,
 * then each new one as it is written, until interrupted (docs/cli.md).
 * Polls GET /v1/orgs/{org}/audit oldest first from the last record seen,
 * so nothing is skipped or shown twice however many arrive between polls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/output.h"

#define TAIL_PAGE 200

static const char tail_usage[] = "usage: latchkey audit tail [--lines N] [--interval SECONDS] [--org ORG] [-o json]\n"
                                 "\n"
                                 "Prints the org's last N audit records (default 10), oldest first, then each\n"
                                 "new record as it is written, until interrupted. -o json prints one JSON\n"
                                 "object per line.\n"
                                 "\n"
                                 "example:\n"
                                 "  latchkey audit tail --lines 50\n";

static void print_record(json_t *r, enum out_format fmt) {
    if (fmt == OUT_JSON) {
        json_dumpf(r, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    } else {
        json_t *actor = json_object_get(r, "actor");
        printf("%-8" JSON_INTEGER_FORMAT "  %-24s  %-16s  %-24s  %-8s  %s\n",
               json_integer_value(json_object_get(r, "seq")), json_string_value(json_object_get(r, "time")),
               json_is_string(json_object_get(actor, "name")) ? json_string_value(json_object_get(actor, "name")) : "-",
               json_string_value(json_object_get(r, "action")), json_string_value(json_object_get(r, "outcome")),
               json_string_value(json_object_get(r, "resource")));
    }
    fflush(stdout);
}

int client_audit_tail(int argc, char **argv) {
    struct client c;
    enum out_format fmt;
    int code;
    long lines = 10, interval = 2;
    const char *org_flag = NULL;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(tail_usage, stdout);
            return CLI_EXIT_OK;
        }
    if ((code = client_flags(&c, &argc, argv)) != 0 || (code = out_flags(&fmt, &argc, argv)) != 0)
        return code;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--org") == 0 && i + 1 < argc) {
            org_flag = argv[++i];
        } else if ((strcmp(argv[i], "--lines") == 0 || strcmp(argv[i], "--interval") == 0) && i + 1 < argc) {
            long v = strtol(argv[i + 1], &end, 10);
            if (*end != '\0' || v < (argv[i][2] == 'l' ? 0 : 1) || v > TAIL_PAGE) {
                fprintf(stderr, "latchkey audit tail: %s takes a number from %d to %d\n", argv[i],
                        argv[i][2] == 'l' ? 0 : 1, TAIL_PAGE);
                return CLI_EXIT_USAGE;
            }
            *(argv[i][2] == 'l' ? &lines : &interval) = v;
            i++;
        } else {
            fputs(tail_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    char org[256], path[CLIENT_PATH_MAX];
    if ((code = client_resolve(&c, 1)) != 0 || (code = client_org(&c, org_flag, org, sizeof(org))) != 0)
        return code;
    /* The last records, newest first: shown oldest first. */
    json_int_t last = 0;
    json_t *p = NULL;
    snprintf(path, sizeof(path), "/v1/orgs/%s/audit?limit=%ld", org, lines > 0 ? lines : 1);
    if ((code = client_expect(&c, "GET", path, NULL, 200, &p)) != 0)
        return code;
    json_t *items = json_object_get(p, "items");
    for (size_t i = json_array_size(items); i-- > 0;) {
        json_t *r = json_array_get(items, i);
        if (lines > 0)
            print_record(r, fmt);
        if (json_integer_value(json_object_get(r, "seq")) > last)
            last = json_integer_value(json_object_get(r, "seq"));
    }
    json_decref(p);
    for (;;) {
        struct timespec ts = {interval, 0};
        nanosleep(&ts, NULL);
        snprintf(path, sizeof(path), "/v1/orgs/%s/audit?order=asc&limit=%d&cursor=s%" JSON_INTEGER_FORMAT, org,
                 TAIL_PAGE, last);
        if ((code = client_expect(&c, "GET", path, NULL, 200, &p)) != 0)
            return code;
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(p, "items"), i, r) {
            json_int_t seq = json_integer_value(json_object_get(r, "seq"));
            if (seq <= last)
                continue;
            print_record(r, fmt);
            last = seq;
        }
        json_decref(p);
    }
}
