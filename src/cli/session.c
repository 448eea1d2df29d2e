/*
 * session.c - signing in and out, and who you are: `latchkey login`,
 * `latchkey logout`, `latchkey whoami` (docs/cli.md). Over the server's
 * HTTP API only (cli/client.h); output through cli/output.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/output.h"
#include "core/tokfmt.h"

#define FIELD_MAX 256

static const char login_usage[] =
    "usage: latchkey login [URL] [--org ORG] [--username NAME] [--token-stdin] [--config-file FILE]\n"
    "                      [--profile NAME] [--ca-file FILE] [--insecure]\n"
    "\n"
    "Signs in to a latchkey server and keeps its URL and a token in the profile\n"
    "($XDG_CONFIG_HOME/latchkey/config.json, mode 0600). Asks for the organisation,\n"
    "username and password (not echoed) on the terminal, or reads an API token from\n"
    "standard input with --token-stdin.\n"
    "\n"
    "example:\n"
    "  latchkey login https://latchkey.example.com --org acme --username ann\n"
    "  echo \"$TOKEN\" | latchkey login https://latchkey.example.com --token-stdin --profile ci\n";

static const char logout_usage[] = "usage: latchkey logout [--profile NAME]\n"
                                   "\n"
                                   "Ends the profile's session (or revokes its API token) on the server and\n"
                                   "forgets the profile.\n"
                                   "\n"
                                   "example:\n"
                                   "  latchkey logout --profile ci\n";

static const char whoami_usage[] = "usage: latchkey whoami [-o json] [--profile NAME]\n"
                                   "\n"
                                   "Shows who the profile's token belongs to, what it may do and when it expires.\n"
                                   "\n"
                                   "example:\n"
                                   "  latchkey whoami -o json\n";

/* One line from f into buf (without its newline); -1 at end of input or
 * for a line too long. */
/* Asks on the terminal; echo off for a password. */
static int prompt(FILE *tty, const char *what, char *buf, size_t cap, int secret) {
    struct termios old, quiet;
    int fd = fileno(tty), changed = 0;
    fprintf(tty, "%s: ", what);
    fflush(tty);
    if (secret && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        changed = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    int r = client_read_line(tty, buf, cap);
    if (changed) {
        tcsetattr(fd, TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    return r;
}

static int is_loopback(const char *url) {
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 || strncmp(h, "[::1]", 5) == 0;
}

/* GET /v1/auth/whoami with c's token: the answer, or NULL after saying why
 * (*code the exit code). */
static json_t *whoami(const struct client *c, int *code) {
    json_t *ans = NULL;
    *code = client_expect(c, "GET", "/v1/auth/whoami", NULL, 200, &ans);
    return *code == 0 ? ans : NULL;
}

/* A config file from GET /v1/auth/cli-config: {"url", "org", "token"}. */
static int read_config_file(const char *path, struct client *c) {
    json_error_t jerr;
    json_t *f = json_load_file(path, 0, &jerr);
    const char *url = json_string_value(json_object_get(f, "url"));
    const char *tok = json_string_value(json_object_get(f, "token"));
    int r = CLI_EXIT_ERROR;
    if (url == NULL || tok == NULL) {
        out_error("%s is not a latchkey CLI config file (it needs \"url\" and \"token\")", path);
    } else if (strlen(url) >= sizeof(c->url) || strlen(tok) >= sizeof(c->token)) {
        out_error("%s: a value is too long", path);
    } else {
        if (c->url[0] == '\0')
            memcpy(c->url, url, strlen(url) + 1);
        memcpy(c->token, tok, strlen(tok) + 1);
        r = 0;
    }
    json_decref(f);
    return r;
}

int client_login(int argc, char **argv) {
    struct client c;
    char org[FIELD_MAX] = "", user[FIELD_MAX] = "", pw[FIELD_MAX] = "";
    const char *config_file = NULL;
    int token_stdin = 0, code;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return client_usage(login_usage, 1);
    if ((code = client_flags(&c, &argc, argv)) != 0)
        return code;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        char *dst = strcmp(a, "--org") == 0 ? org : strcmp(a, "--username") == 0 ? user : NULL;
        if (dst != NULL || strcmp(a, "--config-file") == 0) {
            if (i + 1 >= argc || strlen(argv[i + 1]) >= FIELD_MAX)
                return client_usage(login_usage, 0);
            if (dst != NULL)
                memcpy(dst, argv[i + 1], strlen(argv[i + 1]) + 1);
            else
                config_file = argv[i + 1];
            i++;
        } else if (strcmp(a, "--token-stdin") == 0) {
            token_stdin = 1;
        } else if (a[0] != '-' && c.url[0] == '\0' && strlen(a) < sizeof(c.url)) {
            memcpy(c.url, a, strlen(a) + 1);
        } else {
            fprintf(stderr, "latchkey login: unexpected \"%s\"\n", a);
            return client_usage(login_usage, 0);
        }
    }
    if (config_file != NULL && (code = read_config_file(config_file, &c)) != 0)
        return code;
    /* The URL as given, else LATCHKEY_URL or the profile's; never a token
     * from elsewhere: login makes its own. */
    char keep_token[CLIENT_TOKEN_MAX];
    memcpy(keep_token, c.token, sizeof(keep_token));
    code = client_resolve(&c, 0);
    memcpy(c.token, keep_token, sizeof(c.token));
    explicit_bzero(keep_token, sizeof(keep_token));
    if (code != 0)
        return code == CLI_EXIT_AUTH ? client_usage(login_usage, 0) : code;
    if (strncmp(c.url, "https://", 8) != 0 && strncmp(c.url, "http://", 7) != 0) {
        fprintf(stderr, "latchkey login: the URL must start with https:// (or http://)\n");
        return CLI_EXIT_USAGE;
    }
    if (strncmp(c.url, "http://", 7) == 0 && !is_loopback(c.url))
        out_warn("%s is plain http: your password and token cross the network unencrypted; use https://", c.url);
    if (config_file == NULL && token_stdin) {
        if (client_read_line(stdin, c.token, sizeof(c.token)) != 0 || c.token[0] == '\0') {
            fprintf(stderr, "latchkey login: --token-stdin: no token on standard input\n");
            return CLI_EXIT_USAGE;
        }
    } else if (config_file == NULL) {
        FILE *tty = fopen("/dev/tty", "r+");
        if (tty == NULL) {
            fprintf(stderr, "latchkey login: no terminal to ask for the password on: use --token-stdin\n");
            return CLI_EXIT_USAGE;
        }
        int bad = (org[0] == '\0' && prompt(tty, "Organisation", org, sizeof(org), 0) != 0) ||
                  (user[0] == '\0' && prompt(tty, "Username", user, sizeof(user), 0) != 0) ||
                  prompt(tty, "Password", pw, sizeof(pw), 1) != 0;
        fclose(tty);
        if (bad) {
            explicit_bzero(pw, sizeof(pw));
            fprintf(stderr, "latchkey login: nothing read\n");
            return CLI_EXIT_USAGE;
        }
        json_t *body = json_pack("{s:s, s:s, s:s}", "org", org, "username", user, "password", pw);
        explicit_bzero(pw, sizeof(pw));
        long status = 0;
        json_t *ans = NULL;
        code = client_call(&c, "POST", "/v1/auth/login", body, 0, &status, &ans);
        json_decref(body);
        if (code != 0)
            return code;
        const char *tok = json_string_value(json_object_get(ans, "token"));
        if (status != 200 || tok == NULL || strlen(tok) >= sizeof(c.token)) {
            code = client_fail(status, ans);
            json_decref(ans);
            return code;
        }
        memcpy(c.token, tok, strlen(tok) + 1);
        json_decref(ans);
    }
    json_t *who = whoami(&c, &code);
    if (who == NULL)
        return code;
    json_t *p = json_object_get(who, "principal");
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *o = json_string_value(json_object_get(p, "org"));
    if ((code = client_save(&c, 0)) == 0)
        printf("Logged in to %s as %s%s%s (profile %s)\n", c.url, name ? name : "?", o ? " of " : "", o ? o : "",
               c.profile);
    json_decref(who);
    explicit_bzero(&c, sizeof(c));
    return code;
}

int client_logout(int argc, char **argv) {
    struct client c;
    int code;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return client_usage(logout_usage, 1);
    if ((code = client_flags(&c, &argc, argv)) != 0)
        return code;
    if (argc != 0)
        return client_usage(logout_usage, 0);
    if ((code = client_resolve(&c, 1)) != 0)
        return code;
    struct tokfmt_parsed t;
    char path[CLIENT_PATH_MAX];
    if (tokfmt_parse(c.token, strlen(c.token), &t) != 0) {
        out_error("the profile's token is not a latchkey token; forgetting it");
        return client_save(&c, 1);
    }
    if (t.kind == TOK_KIND_SESSION)
        snprintf(path, sizeof(path), "/v1/auth/logout");
    else
        snprintf(path, sizeof(path), "/v1/tokens/%s", t.pubid);
    long status = 0;
    json_t *ans = NULL;
    code = client_call(&c, t.kind == TOK_KIND_SESSION ? "POST" : "DELETE", path, NULL, 1, &status, &ans);
    if (code == 0 && status != 204 && status != 200 && status != 401) {
        code = client_fail(status, ans);
        json_decref(ans);
        return code; /* not revoked: kept, so the user can try again */
    }
    json_decref(ans);
    if (code != 0)
        return code;
    if ((code = client_save(&c, 1)) == 0)
        printf(status == 401 ? "The token had already ended; profile %s forgotten\n"
                             : "Logged out; profile %s forgotten\n",
               c.profile);
    explicit_bzero(&c, sizeof(c));
    return code;
}

int client_whoami(int argc, char **argv) {
    struct client c;
    enum out_format fmt;
    int code;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return client_usage(whoami_usage, 1);
    if ((code = client_flags(&c, &argc, argv)) != 0 || (code = out_flags(&fmt, &argc, argv)) != 0)
        return code;
    if (argc != 0)
        return client_usage(whoami_usage, 0);
    if ((code = client_resolve(&c, 1)) != 0)
        return code;
    json_t *who = whoami(&c, &code);
    explicit_bzero(c.token, sizeof(c.token));
    if (who == NULL)
        return code;
    if (fmt == OUT_JSON) {
        out_json(who);
    } else {
        json_t *p = json_object_get(who, "principal"), *t = json_object_get(who, "token");
        char when[64], perms[1024] = "", pol[1024] = "";
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(who, "permissions"), i, v) {
            size_t n = strlen(perms);
            snprintf(perms + n, sizeof(perms) - n, "%s%s", n ? ", " : "", json_string_value(v));
        }
        json_array_foreach(json_object_get(t, "policies"), i, v) {
            size_t n = strlen(pol);
            snprintf(pol + n, sizeof(pol) - n, "%s%s", n ? ", " : "", json_string_value(v));
        }
        struct out_row rows[] = {
            {"name", json_string_value(json_object_get(p, "name"))},
            {"type", json_string_value(json_object_get(p, "type"))},
            {"org", json_string_value(json_object_get(p, "org"))},
            {"team", json_string_value(json_object_get(p, "team"))},
            {"token", json_string_value(json_object_get(t, "id"))},
            {"expires",
             out_when(json_string_value(json_object_get(t, "expires_at")), (int64_t)time(NULL), when, sizeof(when))},
            {"policies", pol},
            {"permissions", perms},
            {"server", c.url},
            {"profile", c.profile},
        };
        out_rows(rows, sizeof(rows) / sizeof(rows[0]));
    }
    json_decref(who);
    return CLI_EXIT_OK;
}
