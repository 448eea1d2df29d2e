/*
 * secrets.c - `latchkey secret list|get|put|delete|versions` over the
 * native secrets API (docs/cli.md, docs/secrets.md): the org's secrets, or
 * a team's with --team. A value is read from a file (KEY=@FILE) or standard
 * input (KEY=-) as well as the command line, so it need not appear in the
 * process list or the shell's history; `get --field KEY` prints one value
 * as it is, for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/output.h"

/* Largest value read from a file or standard input. */
#define VALUE_MAX (512 * 1024)

static const char secret_usage[] =
    "usage: latchkey secret list [FOLDER] [--team TEAM] [--org ORG] [-o json]\n"
    "       latchkey secret get PATH [--version N] [--field KEY] [--team TEAM] [-o json]\n"
    "       latchkey secret put PATH KEY=VALUE|KEY=@FILE|KEY=- ... [--team TEAM]\n"
    "       latchkey secret delete PATH [--team TEAM]\n"
    "       latchkey secret versions PATH [--team TEAM] [-o json]\n"
    "\n"
    "The org's secrets, or a team's with --team. put writes a new version whose\n"
    "value is the KEY=VALUE pairs; KEY=@FILE reads a value from a file and KEY=-\n"
    "from standard input, so it stays out of the process list and your history.\n"
    "\n"
    "example:\n"
    "  latchkey secret put app/db user=app password=@db-password.txt --team payments\n"
    "  latchkey secret get app/db --field password --team payments\n"
    "  latchkey secret versions app/db --team payments\n";

static int usage(int help) {
    return client_usage(secret_usage, help);
}

/* The whole of f, NUL-terminated, at most VALUE_MAX bytes; NULL after
 * saying why. One trailing newline is dropped (a file or an echo). */
static char *slurp(FILE *f, const char *what) {
    char *buf = malloc(VALUE_MAX + 1);
    size_t n = buf ? fread(buf, 1, VALUE_MAX + 1, f) : 0;
    if (buf == NULL || n > VALUE_MAX || ferror(f)) {
        fprintf(stderr, "latchkey secret put: %s: %s\n", what,
                buf == NULL     ? "out of memory"
                : n > VALUE_MAX ? "larger than 512 KiB"
                                : "cannot be read");
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return buf;
}

/* KEY=VALUE arguments into an object; NULL (usage) after saying why. */
static json_t *pairs(int argc, char **argv) {
    json_t *data = json_object();
    int stdin_used = 0;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i]) {
            fprintf(stderr, "latchkey secret put: \"%.40s\" is not KEY=VALUE\n", argv[i]);
            json_decref(data);
            return NULL;
        }
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
        const char *v = eq + 1;
        char *owned = NULL;
        if (strcmp(v, "-") == 0) {
            if (stdin_used++) {
                fprintf(stderr, "latchkey secret put: only one value can come from standard input\n");
                json_decref(data);
                return NULL;
            }
            owned = slurp(stdin, "standard input");
        } else if (v[0] == '@') {
            FILE *f = fopen(v + 1, "rb");
            if (f == NULL) {
                fprintf(stderr, "latchkey secret put: cannot open %s\n", v + 1);
                json_decref(data);
                return NULL;
            }
            owned = slurp(f, v + 1);
            fclose(f);
        }
        if ((v[0] == '@' || strcmp(v, "-") == 0) && owned == NULL) {
            json_decref(data);
            return NULL;
        }
        json_t *s = json_string(owned ? owned : v);
        if (owned != NULL) {
            explicit_bzero(owned, strlen(owned));
            free(owned);
        }
        if (s == NULL) {
            fprintf(stderr, "latchkey secret put: the value of %s is not UTF-8 text\n", key);
            json_decref(data);
            return NULL;
        }
        json_object_set_new(data, key, s);
    }
    return data;
}

int client_secret(int argc, char **argv) {
    struct client c;
    enum out_format fmt;
    int code;
    const char *org_flag = NULL, *team = NULL, *version = NULL, *field = NULL;
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
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char **dst = strcmp(argv[i], "--org") == 0       ? &org_flag
                           : strcmp(argv[i], "--team") == 0    ? &team
                           : strcmp(argv[i], "--version") == 0 ? &version
                           : strcmp(argv[i], "--field") == 0   ? &field
                                                               : NULL;
        if (dst != NULL) {
            if (i + 1 >= argc)
                return usage(0);
            *dst = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "latchkey secret %s: unknown flag %s\n", verb, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            argv[n++] = argv[i];
        }
    }
    argc = n;
    int is_list = strcmp(verb, "list") == 0, is_put = strcmp(verb, "put") == 0;
    if (!is_list && !is_put && strcmp(verb, "get") != 0 && strcmp(verb, "delete") != 0 &&
        strcmp(verb, "versions") != 0) {
        fprintf(stderr, "latchkey secret: unknown command \"%s\"\n", verb);
        return usage(0);
    }
    if ((is_list && argc > 1) || (!is_list && argc < 1) || (is_put && argc < 2) || (!is_list && !is_put && argc != 1))
        return usage(0);
    const char *path = argc > 0 ? argv[0] : "";
    if ((path[0] != '\0' && !client_name_ok(path, 1)) || (team != NULL && !client_name_ok(team, 0))) {
        fprintf(stderr, "latchkey secret %s: \"%s\" is not a secret path (names joined by '/')\n", verb, path);
        return CLI_EXIT_USAGE;
    }
    if (version != NULL && strspn(version, "0123456789") != strlen(version)) {
        fprintf(stderr, "latchkey secret get: --version takes a number\n");
        return CLI_EXIT_USAGE;
    }
    json_t *data = is_put ? pairs(argc - 1, argv + 1) : NULL;
    if (is_put && data == NULL)
        return CLI_EXIT_USAGE;
    char org[256], base[CLIENT_PATH_MAX], url[CLIENT_PATH_MAX * 2];
    json_t *ans = NULL;
    if ((code = client_resolve(&c, 1)) != 0 || (code = client_org(&c, org_flag, org, sizeof(org))) != 0)
        goto out;
    if (team != NULL)
        snprintf(base, sizeof(base), "/v1/orgs/%s/teams/%s/secrets", org, team);
    else
        snprintf(base, sizeof(base), "/v1/orgs/%s/secrets", org);
    if (is_list) {
        snprintf(url, sizeof(url), "%s%s%s%s", base, path[0] ? "/" : "", path, path[0] ? "?list=true" : "");
        if ((code = client_expect(&c, "GET", url, NULL, 200, &ans)) == 0) {
            if (fmt == OUT_JSON)
                out_json(json_object_get(ans, "keys"));
            else {
                size_t i;
                json_t *k;
                json_array_foreach(json_object_get(ans, "keys"), i, k) {
                    puts(json_string_value(k));
                }
            }
        }
    } else if (is_put) {
        snprintf(url, sizeof(url), "%s/%s", base, path);
        if ((code = client_expect(&c, "PUT", url, data, 200, &ans)) == 0)
            printf("Wrote %s, version %" JSON_INTEGER_FORMAT "\n", path,
                   json_integer_value(json_object_get(ans, "version")));
    } else if (strcmp(verb, "delete") == 0) {
        snprintf(url, sizeof(url), "%s/%s", base, path);
        if ((code = client_expect(&c, "DELETE", url, NULL, 204, &ans)) == 0)
            printf("Deleted %s (its versions are kept until they age out)\n", path);
    } else if (strcmp(verb, "versions") == 0) {
        snprintf(url, sizeof(url), "%s/%s?metadata=true", base, path);
        if ((code = client_expect(&c, "GET", url, NULL, 200, &ans)) == 0) {
            json_t *meta = json_object_get(ans, "metadata");
            if (fmt == OUT_JSON) {
                out_json(meta);
            } else {
                static const char *const cols[] = {"version", "created", "by", "deleted"};
                struct out_table tab;
                size_t i;
                json_t *v;
                int64_t now = (int64_t)time(NULL);
                out_table_init(&tab, 4, cols);
                json_array_foreach(json_object_get(meta, "versions"), i, v) {
                    char num[32], when[64];
                    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                             json_integer_value(json_object_get(v, "version")));
                    const char *cells[] = {
                        num, out_when(json_string_value(json_object_get(v, "created_at")), now, when, sizeof(when)),
                        json_string_value(json_object_get(v, "created_by")),
                        json_is_true(json_object_get(v, "deleted")) ? "yes" : "no"};
                    out_table_add(&tab, cells);
                }
                out_table_print(&tab);
            }
        }
    } else { /* get */
        snprintf(url, sizeof(url), "%s/%s%s%s", base, path, version ? "?version=" : "", version ? version : "");
        if ((code = client_expect(&c, "GET", url, NULL, 200, &ans)) == 0) {
            json_t *d = json_object_get(ans, "data");
            if (field != NULL) {
                json_t *v = json_object_get(d, field);
                if (v == NULL) {
                    fprintf(stderr, "latchkey secret get: %s has no key %s\n", path, field);
                    code = CLI_EXIT_NOTFOUND;
                } else if (json_is_string(v)) {
                    fputs(json_string_value(v), stdout);
                    fputc('\n', stdout);
                } else {
                    out_json(v);
                }
            } else if (fmt == OUT_JSON) {
                out_json(ans);
            } else {
                const char *key;
                json_t *v;
                size_t w = 0;
                json_object_foreach(d, key, v) {
                    if (strlen(key) > w)
                        w = strlen(key);
                }
                json_object_foreach(d, key, v) {
                    char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                    printf("%-*s  %s\n", (int)w, key, text ? text : json_string_value(v));
                    free(text);
                }
            }
        }
    }
out:
    json_decref(ans);
    json_decref(data);
    explicit_bzero(&c, sizeof(c));
    return code;
}
