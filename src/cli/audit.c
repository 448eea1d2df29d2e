/*
 * audit.c - the audit commands with code of their own (docs/cli.md):
 *
 * `latchkey audit tail`: the org's newest audit records, then each new one
 * as it is written, until interrupted. Polls GET /v1/orgs/{org}/audit
 * oldest first from the last record seen, so nothing is skipped or shown
 * twice however many arrive between polls.
 *
 * `latchkey audit export`: every record of the org (or, for a partner
 * admin, of all) up to the moment it starts, oldest first, as JSON lines,
 * page after page, with a progress line on a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/output.h"
#include "core/rfc3339.h"

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
    if (client_wants_help(argc, argv))
        return client_usage(tail_usage, 1);
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
            return client_usage(tail_usage, 0);
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

static const char export_usage[] =
    "usage: latchkey audit export [--org ORG | --all] [--since RFC3339] [--until RFC3339]\n"
    "                             [--action ACTION] [--actor NAME] [--output FILE]\n"
    "\n"
    "Writes the org's audit records (--all: every org's and those outside any, for a\n"
    "partner admin), oldest first, one JSON object per line, to standard output or\n"
    "FILE (created with mode 0600). Records written after the export starts are left\n"
    "out. On a terminal a progress line counts them.\n"
    "\n"
    "example:\n"
    "  latchkey audit export --since 2026-01-01T00:00:00Z --output audit-2026.jsonl\n"
    "  latchkey audit export --action token.create | jq -r .actor.name\n";

/* A --since/--until value as the query takes it: "?since=" + RFC 3339 in
 * UTC (digits, '-', ':', 'T', 'Z' only). 0, or usage after saying why. */
static int time_arg(const char *flag, const char *v, char *out, size_t cap) {
    int64_t t;
    char buf[RFC3339_BUFSZ];
    if (rfc3339_parse(v, strlen(v), &t) != 0) {
        out_error("%s: not an RFC 3339 time (2026-01-01T00:00:00Z)", flag);
        return CLI_EXIT_USAGE;
    }
    rfc3339_format(t, buf);
    snprintf(out, cap, "&%s=%s", flag + 2, buf);
    return 0;
}

/* 1 if s is an action's name: token.create, audit.list_all. */
static int action_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_'))
            return 0;
    return 1;
}

/* The progress line: rewritten in place, on a terminal only. */
static void progress(int on, long long n, int done, const char *to) {
    if (!on)
        return;
    if (done)
        fprintf(stderr, "\rexported %lld record%s%s%s\033[K\n", n, n == 1 ? "" : "s", to ? " to " : "", to ? to : "");
    else
        fprintf(stderr, "\rexporting audit records: %lld\033[K", n);
    fflush(stderr);
}

int client_audit_export(int argc, char **argv) {
    struct client c;
    int code, all = 0;
    const char *org_flag = NULL, *file = NULL;
    char since[64] = "", until[64] = "", action[96] = "", actor[300] = "";
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return client_usage(export_usage, 1);
    if ((code = client_flags(&c, &argc, argv)) != 0)
        return code;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--all") == 0) {
            all = 1;
            continue;
        }
        if (v == NULL)
            return client_usage(export_usage, 0);
        i++;
        if (strcmp(a, "--org") == 0) {
            org_flag = v;
        } else if (strcmp(a, "--output") == 0) {
            file = v;
        } else if (strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) {
            if ((code = time_arg(a, v, a[2] == 's' ? since : until, sizeof(since))) != 0)
                return code;
        } else if (strcmp(a, "--action") == 0 && action_ok(v)) {
            snprintf(action, sizeof(action), "&action=%s", v);
        } else if (strcmp(a, "--actor") == 0 && client_name_ok(v, 0)) {
            snprintf(actor, sizeof(actor), "&actor=%s", v);
        } else {
            if (strcmp(a, "--action") == 0 || strcmp(a, "--actor") == 0)
                out_error("%s: not a name: %s", a,
                          strcmp(a, "--action") == 0 ? "token.create" : "letters, digits, . _ -");
            return client_usage(export_usage, 0);
        }
    }
    if (all && org_flag != NULL) {
        out_error("--all and --org: one or the other");
        return CLI_EXIT_USAGE;
    }
    char org[256] = "", base[CLIENT_PATH_MAX], path[CLIENT_PATH_MAX + 80];
    if ((code = client_resolve(&c, 1)) != 0 || (!all && (code = client_org(&c, org_flag, org, sizeof(org))) != 0))
        return code;
    if (all)
        snprintf(base, sizeof(base), "/v1/audit?limit=%d%s%s%s%s", TAIL_PAGE, since, until, action, actor);
    else
        snprintf(base, sizeof(base), "/v1/orgs/%s/audit?limit=%d%s%s%s%s", org, TAIL_PAGE, since, until, action, actor);
    /* A snapshot: the newest matching record now is the last one written
     * out, so records that come later (this export's own reads among them)
     * are not chased. */
    json_int_t head = 0;
    json_t *p = NULL;
    snprintf(path, sizeof(path), "%s&order=desc&limit=1", base);
    if ((code = client_expect(&c, "GET", path, NULL, 200, &p)) != 0)
        return code;
    head = json_integer_value(json_object_get(json_array_get(json_object_get(p, "items"), 0), "seq"));
    json_decref(p);
    FILE *out = stdout;
    if (file != NULL) {
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
            out_error("cannot write %s: %s", file, strerror(errno));
            if (fd >= 0)
                close(fd);
            return CLI_EXIT_ERROR;
        }
    }
    int tty = isatty(STDERR_FILENO);
    long long n = 0;
    char cursor[64] = "";
    int past = head == 0; /* nothing to export */
    while (!past) {
        snprintf(path, sizeof(path), "%s&order=asc%s%s", base, cursor[0] ? "&cursor=" : "", cursor);
        if ((code = client_expect(&c, "GET", path, NULL, 200, &p)) != 0)
            break;
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(p, "items"), i, r) {
            if (json_integer_value(json_object_get(r, "seq")) > head) {
                past = 1;
                break;
            }
            json_dumpf(r, out, JSON_COMPACT);
            fputc('\n', out);
            n++;
        }
        const char *next = json_string_value(json_object_get(p, "next_cursor"));
        int more = !past && next != NULL && strlen(next) < sizeof(cursor) && client_name_ok(next, 0);
        if (more)
            snprintf(cursor, sizeof(cursor), "%s", next);
        json_decref(p);
        progress(tty, n, 0, NULL);
        if (!more)
            break;
    }
    int werr = out != stdout ? fclose(out) : fflush(stdout);
    if (werr != 0 && code == 0) {
        out_error("cannot write %s: %s", file != NULL ? file : "standard output", strerror(errno));
        code = CLI_EXIT_ERROR;
    }
    if (code == 0)
        progress(tty, n, 1, file);
    else if (tty)
        fputc('\n', stderr);
    return code;
}
