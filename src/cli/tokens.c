/*
 * tokens.c - `latchkey token create|list|show|rotate|revoke`: the
 * caller's own API tokens, over /v1/tokens (docs/cli.md). A new token's
 * secret is printed once, with a warning that it will not be shown again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/output.h"

#define POLICIES_MAX 32

static const char token_usage[] =
    "usage: latchkey token create [--description TEXT] [--expires DURATION|TIME] [--policy PERM]... [-o json]\n"
    "       latchkey token list [-o json] [--quiet]\n"
    "       latchkey token show ID [-o json]\n"
    "       latchkey token rotate ID [--grace SECONDS] [-o json]\n"
    "       latchkey token revoke ID\n"
    "\n"
    "Your own API tokens. A new or rotated token is printed once: keep it, it\n"
    "cannot be shown again. --expires takes an ISO 8601 duration (P30D) or an\n"
    "RFC 3339 time; --policy narrows the token to a permission (repeatable).\n"
    "\n"
    "example:\n"
    "  latchkey token create --description ci --expires P30D --policy tokens.view\n"
    "  latchkey token list\n"
    "  latchkey token revoke lk_user_4fQx9Lr0aB2c\n";

static int usage(int help) {
    return client_usage(token_usage, help);
}

/* A token's id as a path segment: lk_<kind>_<id>, nothing else. */
static int id_ok(const char *id) {
    if (strncmp(id, "lk_", 3) != 0 || strlen(id) > 64)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static const char *str(json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static void join(json_t *arr, char *buf, size_t cap) {
    size_t i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", json_string_value(v) ? json_string_value(v) : "");
    }
}

static void show_one(json_t *t, enum out_format fmt) {
    if (fmt == OUT_JSON) {
        out_json(t);
        return;
    }
    char exp[64], used[64], pol[1024];
    int64_t now = (int64_t)time(NULL);
    join(json_object_get(t, "policies"), pol, sizeof(pol));
    struct out_row rows[] = {
        {"id", str(t, "id")},
        {"description", str(t, "description")},
        {"status", str(t, "status")},
        {"expires", out_when(str(t, "expires_at"), now, exp, sizeof(exp))},
        {"last used", str(t, "last_used_at") ? out_when(str(t, "last_used_at"), now, used, sizeof(used)) : "never"},
        {"created", str(t, "created_at")},
        {"created by", str(t, "created_by")},
        {"policies", pol},
        {"replaced by", str(t, "replaced_by")},
    };
    out_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* A new token's answer: its secret once, with the warning on stderr. */
static void show_new(json_t *t, enum out_format fmt) {
    out_warn("this is the only time the token is shown: keep it now");
    json_t *dropped = json_object_get(t, "dropped_policies");
    if (json_array_size(dropped) > 0) {
        char d[1024];
        join(dropped, d, sizeof(d));
        out_error("left out (you do not hold them): %s", d);
    }
    if (fmt == OUT_JSON) {
        out_json(t);
        return;
    }
    char exp[64];
    struct out_row rows[] = {
        {"id", str(t, "id")},
        {"expires", out_when(str(t, "expires_at"), (int64_t)time(NULL), exp, sizeof(exp))},
        {"token", str(t, "token")},
    };
    out_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static int token_create(struct client *c, int argc, char **argv, enum out_format fmt) {
    json_t *body = json_object(), *pol = json_array(), *ans = NULL;
    int code = 0;
    for (int i = 0; i < argc && code == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL ||
            (strcmp(a, "--description") != 0 && strcmp(a, "--expires") != 0 && strcmp(a, "--policy") != 0)) {
            fprintf(stderr, "latchkey token create: unexpected \"%s\"\n", a);
            code = usage(0);
            break;
        }
        if (strcmp(a, "--policy") == 0)
            json_array_append_new(pol, json_string(v));
        else
            json_object_set_new(body, a + 2, json_string(v));
        i++;
    }
    if (code == 0 && json_array_size(pol) > POLICIES_MAX) {
        fprintf(stderr, "latchkey token create: at most %d --policy\n", POLICIES_MAX);
        code = CLI_EXIT_USAGE;
    }
    if (json_array_size(pol) > 0)
        json_object_set(body, "policies", pol);
    if (code == 0 && (code = client_expect(c, "POST", "/v1/tokens", body, 200, &ans)) == 0)
        show_new(ans, fmt);
    json_decref(ans);
    json_decref(pol);
    json_decref(body);
    return code;
}

static int token_list(struct client *c, int argc, char **argv, enum out_format fmt) {
    int quiet = 0, code = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else
            return usage(0);
    }
    json_t *all = json_array();
    char path[CLIENT_PATH_MAX] = "/v1/tokens?limit=200";
    for (;;) {
        json_t *page = NULL;
        if ((code = client_expect(c, "GET", path, NULL, 200, &page)) != 0)
            break;
        json_array_extend(all, json_object_get(page, "items"));
        const char *next = str(page, "next_cursor");
        if (next == NULL || strlen(next) > 32) {
            json_decref(page);
            break;
        }
        snprintf(path, sizeof(path), "/v1/tokens?limit=200&cursor=%s", next);
        json_decref(page);
    }
    if (code == 0) {
        size_t i;
        json_t *t;
        if (fmt == OUT_JSON) {
            out_json(all);
        } else if (quiet) {
            json_array_foreach(all, i, t) {
                puts(str(t, "id"));
            }
        } else {
            static const char *const cols[] = {"id", "description", "status", "expires", "last used"};
            struct out_table tab;
            int64_t now = (int64_t)time(NULL);
            out_table_init(&tab, 5, cols);
            json_array_foreach(all, i, t) {
                char exp[64], used[64];
                const char *cells[] = {
                    str(t, "id"), str(t, "description"), str(t, "status"),
                    out_when(str(t, "expires_at"), now, exp, sizeof(exp)),
                    str(t, "last_used_at") ? out_when(str(t, "last_used_at"), now, used, sizeof(used)) : "never"};
                out_table_add(&tab, cells);
            }
            out_table_print(&tab);
        }
    }
    json_decref(all);
    return code;
}

int client_token(int argc, char **argv) {
    struct client c;
    enum out_format fmt;
    int code;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return usage(1);
    if (argc < 1)
        return usage(0);
    const char *verb = argv[0];
    argc--;
    argv++;
    if ((code = client_flags(&c, &argc, argv)) != 0 || (code = out_flags(&fmt, &argc, argv)) != 0)
        return code;
    int known = strcmp(verb, "create") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0 ||
                strcmp(verb, "rotate") == 0 || strcmp(verb, "revoke") == 0;
    if (!known) {
        fprintf(stderr, "latchkey token: unknown command \"%s\"\n", verb);
        return usage(0);
    }
    if ((code = client_resolve(&c, 1)) != 0)
        return code;
    if (strcmp(verb, "create") == 0)
        code = token_create(&c, argc, argv, fmt);
    else if (strcmp(verb, "list") == 0)
        code = token_list(&c, argc, argv, fmt);
    else {
        /* show, rotate, revoke: one id (rotate may add --grace N). */
        const char *id = argc >= 1 ? argv[0] : NULL;
        const char *grace =
            argc == 3 && strcmp(verb, "rotate") == 0 && strcmp(argv[1], "--grace") == 0 ? argv[2] : NULL;
        if (id == NULL || (argc != 1 && grace == NULL))
            code = usage(0);
        else if (!id_ok(id)) {
            fprintf(stderr, "latchkey token %s: \"%s\" is not a token id (lk_<kind>_<id>)\n", verb, id);
            code = CLI_EXIT_USAGE;
        } else {
            char path[CLIENT_PATH_MAX];
            json_t *ans = NULL;
            if (strcmp(verb, "show") == 0) {
                snprintf(path, sizeof(path), "/v1/tokens/%s", id);
                if ((code = client_expect(&c, "GET", path, NULL, 200, &ans)) == 0)
                    show_one(ans, fmt);
            } else if (strcmp(verb, "rotate") == 0) {
                char *end = NULL;
                long g = grace ? strtol(grace, &end, 10) : 0;
                if (grace != NULL && (*end != '\0' || g < 0)) {
                    fprintf(stderr, "latchkey token rotate: --grace takes whole seconds\n");
                    code = CLI_EXIT_USAGE;
                } else {
                    json_t *body = json_pack("{s:I}", "grace_seconds", (json_int_t)g);
                    snprintf(path, sizeof(path), "/v1/tokens/%s/rotate", id);
                    if ((code = client_expect(&c, "POST", path, body, 200, &ans)) == 0)
                        show_new(ans, fmt);
                    json_decref(body);
                }
            } else {
                snprintf(path, sizeof(path), "/v1/tokens/%s", id);
                if ((code = client_expect(&c, "DELETE", path, NULL, 204, &ans)) == 0)
                    printf("Revoked %s\n", id);
            }
            json_decref(ans);
        }
    }
    explicit_bzero(&c, sizeof(c));
    return code;
}
