/*
 * client.h - what the client commands (login, logout, whoami, ...) share:
 * the profiles in the user's config file, the server and credential a
 * command uses, HTTP calls to the server through libcurl, and the exit
 * codes (docs/cli.md). Client commands talk to a server only: they never
 * open a store.
 *
 * The config file is $XDG_CONFIG_HOME/latchkey/config.json (or
 * ~/.config/latchkey/config.json): {"current": NAME, "profiles": {NAME:
 * {"url", "token", "ca_file", "insecure"}}}, written whole and atomically
 * with mode 0600 in a 0700 directory, and never read when anyone but its
 * owner may read it. A token appears nowhere else: not in messages, not in
 * the process's arguments.
 */
#ifndef LK_CLI_CLIENT_H
#define LK_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of client commands. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_AUTH = 3,     /* no credential, or the server refused it (401, 403) */
    CLI_EXIT_NOTFOUND = 4, /* the server answered 404 */
};

#define CLIENT_URL_MAX 512
#define CLIENT_TOKEN_MAX 512
#define CLIENT_PATH_MAX 1024
#define CLIENT_PROFILE_MAX 64

/* The server and credential a command uses. */
struct client {
    char profile[CLIENT_PROFILE_MAX];
    char url[CLIENT_URL_MAX];     /* no trailing '/' */
    char token[CLIENT_TOKEN_MAX]; /* "" when none */
    char ca_file[CLIENT_PATH_MAX];
    int insecure; /* --insecure: certificates not verified (said on every call) */
};

/* The flags every client command takes, removed from argv as they are
 * read: --profile NAME, --url URL, --ca-file FILE, --insecure. Anything
 * else stays, in order, for the command. 0, or CLI_EXIT_USAGE after
 * saying why. */
int client_flags(struct client *c, int *argc, char **argv);

/* The config file's path into out; 0, or -1 when there is no home. */
int client_config_path(char *out, size_t cap);

/*
 * Fills c for a command: the profile (--profile, else LATCHKEY_PROFILE,
 * else the file's current one, else "default") from the config file, then
 * LATCHKEY_URL and LATCHKEY_TOKEN over it, then the flags already in c.
 * need_token: a command that calls the server as someone. 0, or an exit
 * code after saying why.
 */
int client_resolve(struct client *c, int need_token);

/* Saves c as its profile (and makes it the current one), or with forget
 * removes the profile. 0, or CLI_EXIT_ERROR after saying why. */
int client_save(const struct client *c, int forget);

/*
 * One call: method and path (from "/v1/..."), an optional JSON body
 * (borrowed), the token in c when with_token. 0 with the HTTP status and
 * the answer's JSON (*ret, new reference, NULL for an empty body), or
 * CLI_EXIT_ERROR after saying why the server could not be reached.
 */
int client_call(const struct client *c, const char *method, const char *path, json_t *body, int with_token,
                long *status, json_t **ret);

/* 1 if s may stand in a path: [A-Za-z0-9._~-], not "." or ".."; with
 * slashes, several such segments joined by '/'. */
int client_name_ok(const char *s, int slashes);

/* The organisation a command acts in: org_flag (--org), else
 * LATCHKEY_ORG, else the org of c's principal (asked of the server). 0
 * with it in out, or an exit code after saying why. */
int client_org(const struct client *c, const char *org_flag, char *out, size_t cap);

/* client_call with the token, expecting status want: 0 with the answer in
 * *ret (new reference, may be NULL), or the exit code after printing the
 * server's words (*ret NULL). */
int client_expect(const struct client *c, const char *method, const char *path, json_t *body, long want, json_t **ret);

/* One line of f into buf without its line end: 0, or -1 at end of file
 * or when the line does not fit in cap. */
int client_read_line(FILE *f, char *buf, size_t cap);

/* 1 if argv holds --help or -h. */
int client_wants_help(int argc, char **argv);

/* Prints a command's usage text: on stdout for --help (CLI_EXIT_OK), on
 * stderr after a usage error (CLI_EXIT_USAGE). Returns that code. */
int client_usage(const char *text, int help);

/* For an answer of status >= 400: prints the server's messages as
 * "latchkey: <message>" and returns the exit code the status means. */
int client_fail(long status, json_t *answer);

/* The commands (session.c), from the words after their name; each
 * returns its exit code. */
int client_login(int argc, char **argv);
int client_logout(int argc, char **argv);
int client_whoami(int argc, char **argv);
int client_token(int argc, char **argv);        /* tokens.c */
int client_secret(int argc, char **argv);       /* secrets.c */
int client_audit_tail(int argc, char **argv);   /* audit.c: the words after `audit tail` */
int client_audit_export(int argc, char **argv); /* audit.c: the words after `audit export` */
int client_api(int argc, char **argv);          /* proxy.c: `api proxy` */
/* The noun-verb commands of resources.c: `latchkey NOUN VERB ...`. */
int client_resource(const char *noun, int argc, char **argv);
/* The verbs of noun in resources.c's table, in order, into out[0..max);
 * how many there are (0: not one of its nouns). */
size_t client_resource_verbs(const char *noun, const char **out, size_t max);

#endif
