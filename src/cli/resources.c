/*
 * resources.c - the CLI's noun-verb commands over the REST API (org, user,
 * team, sa, role, group, workload, binding, audit; docs/cli.md), from one
 * table: each row is a route, its arguments and how its answer is shown.
 * A new command is a new row. token (tokens.c), login, logout and whoami
 * (session.c) have their own code.
 *
 * Paths: {org} is --org ORG, else LATCHKEY_ORG, else the org of the
 * profile's principal (asked of the server once); {1}, {2}, ... the
 * positional arguments in order; every value is checked to be a name
 * before it stands in a path. Body: each --flag of the row's list gives
 * the member of the same name (dashes as underscores); a flag ending in
 * "[]" takes a comma-separated list, one ending in "?" is a boolean
 * switch, one ending in "#" a number, one ending in "<" a line read from
 * standard input with --NAME-stdin (a password, never an argument that
 * `ps` shows). Where several rows share a noun and
 * verb, the first whose body flags were given runs (org settings: show,
 * or change with flags).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/output.h"

enum shape {
    SHOW_ITEM,  /* one object as rows */
    SHOW_LIST,  /* a page or an "items" array as a table */
    SHOW_DONE,  /* 204: a line saying so */
    SHOW_TOKEN, /* a new token: its secret once */
};

struct verb {
    const char *noun, *verb;
    const char *args;   /* positional names, for usage: "TEAM USER" */
    const char *method; /* "GET" */
    const char *path;   /* "/v1/orgs/{org}/teams/{1}" */
    const char *flags;  /* "description,display-name,roles[]" (body members), or NULL */
    enum shape shape;
    const char *columns; /* SHOW_LIST: "name,status,created_at" */
    const char *summary;
};

static const struct verb verbs[] = {
    {"org", "list", "", "GET", "/v1/orgs", NULL, SHOW_LIST, "name,display_name,status,created_at",
     "organisations you may see"},
    {"org", "show", "ORG", "GET", "/v1/orgs/{1}", NULL, SHOW_ITEM, NULL, "one organisation"},
    {"org", "create", "ORG", "POST", "/v1/orgs", "name=1,display-name", SHOW_ITEM, NULL,
     "create an organisation (partner admin)"},
    {"org", "approve", "ORG", "POST", "/v1/orgs/{1}/approve", NULL, SHOW_ITEM, NULL, "approve a signed-up org"},
    {"org", "activate", "ORG", "POST", "/v1/orgs/{1}/activate", NULL, SHOW_ITEM, NULL, "activate an org"},
    {"org", "deactivate", "ORG", "POST", "/v1/orgs/{1}/deactivate", NULL, SHOW_ITEM, NULL, "deactivate an org"},
    {"org", "settings", "ORG", "PATCH", "/v1/orgs/{1}/settings",
     "display-name,token-expiry-hours#,allow-non-expiring-tokens?,notify-short-lived-tokens?", SHOW_ITEM, NULL,
     "change an org's settings"},
    {"org", "settings", "ORG", "GET", "/v1/orgs/{1}/settings", NULL, SHOW_ITEM, NULL, "an org's settings"},
    {"user", "list", "", "GET", "/v1/orgs/{org}/users", NULL, SHOW_LIST, "username,role,email,created_at",
     "the org's users"},
    {"user", "show", "USER", "GET", "/v1/orgs/{org}/users/{1}", NULL, SHOW_ITEM, NULL, "one user"},
    {"user", "create", "USER", "POST", "/v1/orgs/{org}/users", "username=1,email,role,programmatic-only?,password<",
     SHOW_ITEM, NULL, "add a user; --password-stdin reads a password (else the user has none yet)"},
    {"user", "update", "USER", "PATCH", "/v1/orgs/{org}/users/{1}", "email,role,token-expiry-hours#,password<",
     SHOW_ITEM, NULL, "change a user; --password-stdin sets a new password"},
    {"user", "delete", "USER", "DELETE", "/v1/orgs/{org}/users/{1}", NULL, SHOW_DONE, NULL, "remove a user"},
    {"team", "list", "", "GET", "/v1/orgs/{org}/teams", NULL, SHOW_LIST, "name,description,created_at",
     "the org's teams"},
    {"team", "show", "TEAM", "GET", "/v1/orgs/{org}/teams/{1}", NULL, SHOW_ITEM, NULL, "one team"},
    {"team", "create", "TEAM", "POST", "/v1/orgs/{org}/teams", "name=1,description", SHOW_ITEM, NULL, "create a team"},
    {"team", "delete", "TEAM", "DELETE", "/v1/orgs/{org}/teams/{1}", NULL, SHOW_DONE, NULL, "delete a team"},
    {"team", "members", "TEAM", "GET", "/v1/orgs/{org}/teams/{1}/members", NULL, SHOW_LIST, "username,role,since",
     "a team's members"},
    {"team", "add-member", "TEAM USER", "PUT", "/v1/orgs/{org}/teams/{1}/members/{2}", "role", SHOW_ITEM, NULL,
     "add a user to a team, or change their role (--role owner|member|viewer)"},
    {"team", "remove-member", "TEAM USER", "DELETE", "/v1/orgs/{org}/teams/{1}/members/{2}", NULL, SHOW_DONE, NULL,
     "remove a user from a team"},
    {"sa", "list", "TEAM", "GET", "/v1/orgs/{org}/teams/{1}/service-accounts", NULL, SHOW_LIST,
     "name,roles,description,created_at", "a team's service accounts"},
    {"sa", "show", "TEAM SA", "GET", "/v1/orgs/{org}/teams/{1}/service-accounts/{2}", NULL, SHOW_ITEM, NULL,
     "one service account"},
    {"sa", "create", "TEAM SA", "POST", "/v1/orgs/{org}/teams/{1}/service-accounts", "name=2,description,roles[]",
     SHOW_ITEM, NULL, "create a service account (team owners)"},
    {"sa", "delete", "TEAM SA", "DELETE", "/v1/orgs/{org}/teams/{1}/service-accounts/{2}", NULL, SHOW_DONE, NULL,
     "delete a service account"},
    {"sa", "grant", "TEAM SA ROLE", "PUT", "/v1/orgs/{org}/teams/{1}/service-accounts/{2}/roles/{3}", NULL, SHOW_DONE,
     NULL, "grant a role to a service account"},
    {"sa", "revoke", "TEAM SA ROLE", "DELETE", "/v1/orgs/{org}/teams/{1}/service-accounts/{2}/roles/{3}", NULL,
     SHOW_DONE, NULL, "take a role back"},
    {"sa", "token", "TEAM SA", "POST", "/v1/orgs/{org}/teams/{1}/service-accounts/{2}/tokens",
     "description,expires,policies[]", SHOW_TOKEN, NULL, "a new token for a service account (shown once)"},
    {"role", "list", "", "GET", "/v1/orgs/{org}/roles", NULL, SHOW_LIST, "name,builtin,permissions",
     "built-in and custom roles"},
    {"role", "create", "ROLE", "POST", "/v1/orgs/{org}/roles", "name=1,permissions[]", SHOW_ITEM, NULL,
     "a custom role (--permissions a,b)"},
    {"role", "delete", "ROLE", "DELETE", "/v1/orgs/{org}/roles/{1}", NULL, SHOW_DONE, NULL, "delete a custom role"},
    {"group", "list", "", "GET", "/v1/orgs/{org}/groups", NULL, SHOW_LIST, "name,roles,members", "the org's groups"},
    {"group", "create", "GROUP", "POST", "/v1/orgs/{org}/groups", "name=1,description,roles[]", SHOW_ITEM, NULL,
     "create a group (--roles a,b)"},
    {"group", "add-member", "GROUP USER", "PUT", "/v1/orgs/{org}/groups/{1}/members/{2}", NULL, SHOW_DONE, NULL,
     "add a user to a group"},
    {"group", "remove-member", "GROUP USER", "DELETE", "/v1/orgs/{org}/groups/{1}/members/{2}", NULL, SHOW_DONE, NULL,
     "remove a user from a group"},
    {"workload", "list", "TEAM", "GET", "/v1/orgs/{org}/teams/{1}/workloads", NULL, SHOW_LIST,
     "name,description,created_by,created_at", "a team's workloads"},
    {"workload", "create", "TEAM WORKLOAD", "POST", "/v1/orgs/{org}/teams/{1}/workloads", "name=2,description",
     SHOW_ITEM, NULL, "create a workload"},
    {"workload", "delete", "TEAM WORKLOAD", "DELETE", "/v1/orgs/{org}/teams/{1}/workloads/{2}", NULL, SHOW_DONE, NULL,
     "delete a workload"},
    {"binding", "list", "TEAM WORKLOAD", "GET", "/v1/orgs/{org}/teams/{1}/workloads/{2}/bindings", NULL, SHOW_LIST,
     "service_account,created_by,created_at", "the service accounts a workload is bound to"},
    {"binding", "add", "TEAM WORKLOAD SA", "PUT", "/v1/orgs/{org}/teams/{1}/workloads/{2}/bindings/{3}", NULL,
     SHOW_DONE, NULL, "bind a workload to a service account"},
    {"binding", "remove", "TEAM WORKLOAD SA", "DELETE", "/v1/orgs/{org}/teams/{1}/workloads/{2}/bindings/{3}", NULL,
     SHOW_DONE, NULL, "unbind"},
    {"audit", "list", "", "GET", "/v1/orgs/{org}/audit", NULL, SHOW_LIST, "seq,time,actor,action,resource,outcome",
     "the org's audit records, newest first"},
    /* Rows without a method run code of their own (audit.c). */
    {"audit", "tail", "", NULL, NULL, NULL, SHOW_LIST, NULL, "the last records, then each new one as it comes"},
    {"audit", "export", "", NULL, NULL, NULL, SHOW_LIST, NULL, "every record up to now as JSON lines (--output FILE)"},
};

/* The code of the rows without a method, given the words after the verb. */
static const struct {
    const char *noun, *verb;
    int (*run)(int argc, char **argv);
} own_code[] = {
    {"audit", "tail", client_audit_tail},
    {"audit", "export", client_audit_export},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))
#define ARGS_MAX 4
#define FLAGS_MAX 8

static int usage_of(const char *noun, int help) {
    FILE *f = help ? stdout : stderr;
    fprintf(f, "usage:\n");
    for (size_t i = 0; i < NVERBS; i++) {
        if (strcmp(verbs[i].noun, noun) != 0 ||
            (i > 0 && strcmp(verbs[i - 1].noun, noun) == 0 && strcmp(verbs[i - 1].verb, verbs[i].verb) == 0))
            continue;
        char line[160];
        snprintf(line, sizeof(line), "latchkey %s %s%s%s", noun, verbs[i].verb, verbs[i].args[0] ? " " : "",
                 verbs[i].args);
        fprintf(f, "  %-46s %s\n", line, verbs[i].summary);
    }
    fprintf(f, "\nflags: --org ORG (else LATCHKEY_ORG, else your own), -o json, --quiet (lists: names only),\n"
               "--profile NAME; a command's own flags are shown by its error when one is missing.\n"
               "\nexample:\n  latchkey team create payments --description 'Payments team'\n"
               "  latchkey team add-member payments ann --role owner\n  latchkey team members payments -o json\n");
    return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static size_t nargs_of(const struct verb *v) {
    size_t n = 0;
    for (const char *p = v->args; *p; p++)
        if (p == v->args || p[-1] == ' ')
            n++;
    return n;
}

/* Expands v->path into out. */
static int expand(const struct verb *v, const char *org, char **args, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = v->path; *p;) {
        const char *val = NULL;
        if (strncmp(p, "{org}", 5) == 0) {
            val = org;
            p += 5;
        } else if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
            val = args[p[1] - '1'];
            p += 3;
        } else {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *p++;
            continue;
        }
        size_t l = strlen(val);
        if (n + l + 1 >= cap)
            return -1;
        memcpy(out + n, val, l);
        n += l;
    }
    out[n] = '\0';
    return 0;
}

/* The body from the row's flags: given[i] the value of flag i, or NULL. */
static json_t *body_of(const struct verb *v, char **args, const char **given, int *bad) {
    json_t *body = json_object();
    char spec[256];
    snprintf(spec, sizeof(spec), "%s", v->flags ? v->flags : "");
    int i = 0;
    char *save = NULL;
    for (char *tok = strtok_r(spec, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save), i++) {
        char name[64];
        char *eq = strchr(tok, '=');
        size_t len = eq ? (size_t)(eq - tok) : strlen(tok);
        char kind = len > 0 && strchr("]?#<", tok[len - 1]) ? tok[len - 1] : 0;
        size_t nl = kind == ']' ? len - 2 : kind ? len - 1 : len;
        snprintf(name, sizeof(name), "%.*s", (int)nl, tok);
        for (char *p = name; *p; p++)
            if (*p == '-')
                *p = '_';
        if (eq != NULL) { /* a member from a positional argument */
            json_object_set_new(body, name, json_string(args[eq[1] - '1']));
            continue;
        }
        const char *val = given[i];
        if (val == NULL)
            continue;
        if (kind == ']') {
            json_t *arr = json_array();
            char copy[1024];
            snprintf(copy, sizeof(copy), "%s", val);
            char *save2 = NULL;
            for (char *t = strtok_r(copy, ",", &save2); t; t = strtok_r(NULL, ",", &save2))
                json_array_append_new(arr, json_string(t));
            json_object_set_new(body, name, arr);
        } else if (kind == '?') {
            json_object_set_new(body, name, json_boolean(strcmp(val, "false") != 0));
        } else if (kind == '<') {
            char line[1024];
            if (client_read_line(stdin, line, sizeof(line)) != 0 || line[0] == '\0') {
                out_error("--%.*s-stdin: no line on standard input", (int)nl, tok);
                *bad = 1;
            } else {
                json_object_set_new(body, name, json_string(line));
            }
            explicit_bzero(line, sizeof(line));
        } else if (kind == '#') {
            char *end;
            long long x = strtoll(val, &end, 10);
            if (*end != '\0') {
                out_error("--%.*s takes a whole number", (int)nl, tok);
                *bad = 1;
            }
            json_object_set_new(body, name, json_integer(x));
        } else {
            json_object_set_new(body, name, json_string(val));
        }
    }
    return body;
}

/* The index of --name among the row's flags, or -1; *is_bool for a switch. */
static int flag_index(const struct verb *v, const char *name, int *is_bool) {
    char spec[256];
    snprintf(spec, sizeof(spec), "%s", v->flags ? v->flags : "");
    int i = 0;
    char *save = NULL;
    for (char *tok = strtok_r(spec, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save), i++) {
        if (strchr(tok, '=') != NULL)
            continue;
        size_t len = strlen(tok);
        char kind = len > 0 && strchr("]?#<", tok[len - 1]) ? tok[len - 1] : 0;
        size_t nl = kind == ']' ? len - 2 : kind ? len - 1 : len;
        /* "password<" is --password-stdin, a switch */
        size_t want = kind == '<' ? nl + strlen("-stdin") : nl;
        if (strlen(name) == want && strncmp(name, tok, nl) == 0 && (kind != '<' || strcmp(name + nl, "-stdin") == 0)) {
            *is_bool = kind == '?' || kind == '<';
            return i;
        }
    }
    return -1;
}

static void cell(json_t *v, int64_t now, char *buf, size_t cap, const char *col) {
    buf[0] = '\0';
    if (json_is_string(v)) {
        size_t l = strlen(col);
        int timeish =
            (l > 3 && strcmp(col + l - 3, "_at") == 0) || strcmp(col, "since") == 0 || strcmp(col, "time") == 0;
        if (timeish)
            out_when(json_string_value(v), now, buf, cap);
        else
            snprintf(buf, cap, "%s", json_string_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%s", n ? "," : "", json_is_string(e) ? json_string_value(e) : "?");
        }
    } else if (json_is_object(v)) { /* an actor: its name */
        json_t *name = json_object_get(v, "name");
        snprintf(buf, cap, "%s", json_is_string(name) ? json_string_value(name) : "-");
    } else if (json_is_boolean(v)) {
        snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
    } else if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        snprintf(buf, cap, "-");
    }
}

static void show_list(const struct verb *v, json_t *items, int quiet) {
    char colspec[256];
    const char *names[OUT_COLS_MAX];
    size_t n = 0;
    snprintf(colspec, sizeof(colspec), "%s", v->columns);
    char *save = NULL;
    for (char *t = strtok_r(colspec, ",", &save); t && n < OUT_COLS_MAX; t = strtok_r(NULL, ",", &save))
        names[n++] = t;
    size_t i;
    json_t *it;
    int64_t now = (int64_t)time(NULL);
    if (quiet) {
        json_array_foreach(items, i, it) {
            char buf[256];
            cell(json_object_get(it, names[0]), now, buf, sizeof(buf), names[0]);
            puts(buf);
        }
        return;
    }
    struct out_table tab;
    const char *heads[OUT_COLS_MAX];
    char headbuf[OUT_COLS_MAX][64];
    for (size_t k = 0; k < n; k++) {
        snprintf(headbuf[k], sizeof(headbuf[k]), "%s", names[k]);
        for (char *p = headbuf[k]; *p; p++)
            if (*p == '_')
                *p = ' ';
        heads[k] = headbuf[k];
    }
    out_table_init(&tab, n, heads);
    json_array_foreach(items, i, it) {
        char bufs[OUT_COLS_MAX][256];
        const char *cells[OUT_COLS_MAX];
        for (size_t k = 0; k < n; k++) {
            cell(json_object_get(it, names[k]), now, bufs[k], sizeof(bufs[k]), names[k]);
            cells[k] = bufs[k];
        }
        out_table_add(&tab, cells);
    }
    out_table_print(&tab);
}

static void show_item(json_t *o) {
    const char *key;
    json_t *val;
    struct out_row rows[32];
    char bufs[32][512];
    size_t n = 0;
    int64_t now = (int64_t)time(NULL);
    json_object_foreach(o, key, val) {
        if (n == 32)
            break;
        if (json_is_object(val)) { /* settings and the like: their members inline */
            const char *k2;
            json_t *v2;
            json_object_foreach(val, k2, v2) {
                if (n == 32)
                    break;
                cell(v2, now, bufs[n], sizeof(bufs[n]), k2);
                rows[n].key = k2;
                rows[n].value = bufs[n];
                n++;
            }
            continue;
        }
        cell(val, now, bufs[n], sizeof(bufs[n]), key);
        rows[n].key = key;
        rows[n].value = bufs[n];
        n++;
    }
    out_rows(rows, n);
}

/* Runs one row with its arguments and flag values. */
static int run(const struct verb *v, struct client *c, const char *org_flag, char **args, const char **given,
               enum out_format fmt, int quiet) {
    char org[CLIENT_PROFILE_MAX * 4] = "", path[CLIENT_PATH_MAX];
    int code, bad = 0;
    if (strstr(v->path, "{org}") != NULL) {
        if ((code = client_org(c, org_flag, org, sizeof(org))) != 0)
            return code;
    }
    if (expand(v, org, args, path, sizeof(path)) != 0) {
        out_error("an argument is too long");
        return CLI_EXIT_USAGE;
    }
    json_t *body =
        strcmp(v->method, "GET") == 0 || strcmp(v->method, "DELETE") == 0 ? NULL : body_of(v, args, given, &bad);
    if (bad) {
        json_decref(body);
        return CLI_EXIT_USAGE;
    }
    json_t *all = v->shape == SHOW_LIST ? json_array() : NULL;
    long status = 0;
    json_t *ans = NULL;
    char page_path[CLIENT_PATH_MAX + 64];
    snprintf(page_path, sizeof(page_path), "%s", path);
    for (;;) {
        if ((code = client_call(c, v->method, page_path, body, 1, &status, &ans)) != 0)
            break;
        if (status >= 400) {
            code = client_fail(status, ans);
            break;
        }
        if (all == NULL)
            break;
        json_t *items = json_object_get(ans, "items");
        json_array_extend(all, items ? items : ans);
        const char *next = json_string_value(json_object_get(ans, "next_cursor"));
        if (next == NULL || strlen(next) > 32 || strcmp(v->noun, "audit") == 0) /* audit: one page, newest first */
            break;
        snprintf(page_path, sizeof(page_path), "%s?cursor=%s", path, next);
        json_decref(ans);
        ans = NULL;
    }
    if (code == 0) {
        if (v->shape == SHOW_TOKEN)
            out_warn("this is the only time the token is shown: keep it now");
        if (fmt == OUT_JSON && v->shape != SHOW_DONE)
            out_json(all ? all : ans);
        else if (v->shape == SHOW_LIST)
            show_list(v, all, quiet);
        else if (v->shape == SHOW_DONE)
            printf("Done: %s %s\n", v->noun, v->verb);
        else if (v->shape == SHOW_TOKEN) {
            struct out_row rows[] = {{"id", json_string_value(json_object_get(ans, "id"))},
                                     {"token", json_string_value(json_object_get(ans, "token"))}};
            out_rows(rows, 2);
        } else
            show_item(ans);
    }
    json_decref(all);
    json_decref(ans);
    json_decref(body);
    return code;
}

int client_resource(const char *noun, int argc, char **argv) {
    struct client c;
    enum out_format fmt;
    int code, quiet = 0;
    const char *org_flag = NULL;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return usage_of(noun, 1);
    if (argc < 1)
        return usage_of(noun, 0);
    const char *verb = argv[0];
    argc--;
    argv++;
    /* The rows of this noun and verb. */
    const struct verb *rows[4] = {NULL, NULL, NULL, NULL};
    size_t nrows = 0;
    for (size_t i = 0; i < NVERBS && nrows < 4; i++)
        if (strcmp(verbs[i].noun, noun) == 0 && strcmp(verbs[i].verb, verb) == 0)
            rows[nrows++] = &verbs[i];
    if (nrows == 0) {
        fprintf(stderr, "latchkey %s: unknown command \"%s\"\n", noun, verb);
        return usage_of(noun, 0);
    }
    if (rows[0]->method == NULL) { /* its own flags and all */
        for (size_t i = 0; i < sizeof(own_code) / sizeof(own_code[0]); i++)
            if (strcmp(own_code[i].noun, noun) == 0 && strcmp(own_code[i].verb, verb) == 0)
                return own_code[i].run(argc, argv);
        return CLI_EXIT_ERROR; /* a row without code: a mistake in the tables */
    }
    if ((code = client_flags(&c, &argc, argv)) != 0 || (code = out_flags(&fmt, &argc, argv)) != 0)
        return code;
    /* Flags and positional arguments, against the first row (rows of a
     * verb share their arguments; the flags say which row runs). */
    char *args[ARGS_MAX] = {0};
    const char *given[FLAGS_MAX] = {0};
    size_t npos = 0;
    int any_flag = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--org") == 0 && i + 1 < argc) {
            org_flag = argv[++i];
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
        } else if (strncmp(a, "--", 2) == 0) {
            int is_bool = 0, k = flag_index(rows[0], a + 2, &is_bool);
            if (k < 0 || k >= FLAGS_MAX || (!is_bool && i + 1 >= argc)) {
                fprintf(stderr, "latchkey %s %s: unknown flag %s%s%s\n", noun, verb, a,
                        rows[0]->flags ? "; it takes " : "", rows[0]->flags ? rows[0]->flags : "");
                return CLI_EXIT_USAGE;
            }
            given[k] = is_bool ? "true" : argv[++i];
            any_flag = 1;
        } else if (npos < ARGS_MAX) {
            args[npos++] = argv[i];
        } else {
            return usage_of(noun, 0);
        }
    }
    const struct verb *v = rows[0];
    if (nrows > 1 && !any_flag)
        v = rows[1];
    if (npos != nargs_of(v)) {
        fprintf(stderr, "usage: latchkey %s %s %s\n", noun, verb, v->args);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < npos; i++)
        if (!client_name_ok(args[i], 0)) {
            fprintf(stderr, "latchkey %s %s: \"%s\" is not a name\n", noun, verb, args[i]);
            return CLI_EXIT_USAGE;
        }
    if (org_flag != NULL && !client_name_ok(org_flag, 0)) {
        out_error("\"%s\" is not an organisation's name", org_flag);
        return CLI_EXIT_USAGE;
    }
    if ((code = client_resolve(&c, 1)) != 0)
        return code;
    code = run(v, &c, org_flag, args, given, fmt, quiet);
    explicit_bzero(&c, sizeof(c));
    return code;
}

size_t client_resource_verbs(const char *noun, const char **out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < NVERBS; i++) {
        if (strcmp(verbs[i].noun, noun) != 0)
            continue;
        int seen = 0;
        for (size_t k = 0; k < n && k < max && !seen; k++)
            seen = strcmp(out[k], verbs[i].verb) == 0;
        if (seen)
            continue;
        if (n < max)
            out[n] = verbs[i].verb;
        n++;
    }
    return n;
}
