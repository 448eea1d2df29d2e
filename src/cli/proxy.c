/*
 * proxy.c - `latchkey api proxy` (docs/cli.md): a local proxy on
 * 127.0.0.1 that forwards to the profile's server with the profile's
 * token, so a developer's tools (curl, a GraphQL client, a browser on the
 * playground at /) reach the API as them without holding the token. The
 * proxying itself, and what it refuses, is net/proxy.h's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "net/proxy.h"

#define PROXY_DEFAULT_PORT 4242

static const char proxy_usage[] =
    "usage: latchkey api proxy [--port PORT] [--profile NAME] [--ca-file FILE] [--insecure]\n"
    "\n"
    "Listens on 127.0.0.1:PORT (default 4242, 0 = any free port) and forwards every\n"
    "request to the profile's server with the profile's token (a request with its\n"
    "own Authorization header keeps it). GET / opens the GraphQL playground.\n"
    "Requests a web page of another origin could send (a foreign Origin or\n"
    "Sec-Fetch-Site, a Host that is not the proxy's) are refused with 403.\n"
    "Runs until interrupted (Ctrl-C).\n"
    "\n"
    "example:\n"
    "  latchkey api proxy --port 4242 &\n"
    "  curl http://127.0.0.1:4242/v1/auth/whoami\n"
    "  open http://127.0.0.1:4242/\n";

struct proxy_run {
    const struct client *c;
    const char *who;
};

static void on_ready(uint16_t port, void *arg) {
    const struct proxy_run *r = arg;
    printf("latchkey api proxy: http://127.0.0.1:%u/ -> %s as %s (profile %s)\n"
           "GraphQL playground: http://127.0.0.1:%u/   Ctrl-C stops the proxy.\n",
           port, r->c->url, r->who, r->c->profile, port);
    fflush(stdout);
}

static void on_refused(const char *line, void *arg) {
    (void)arg;
    fprintf(stderr, "latchkey api proxy: %s\n", line);
}

static int client_api_proxy(int argc, char **argv) {
    struct client c;
    long port = PROXY_DEFAULT_PORT;
    int code;
    memset(&c, 0, sizeof(c));
    if (client_wants_help(argc, argv))
        return client_usage(proxy_usage, 1);
    if ((code = client_flags(&c, &argc, argv)) != 0)
        return code;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || port < 0 || port > 65535) {
                fprintf(stderr, "latchkey api proxy: --port: a number from 0 to 65535\n");
                return CLI_EXIT_USAGE;
            }
        } else {
            return client_usage(proxy_usage, 0);
        }
    }
    if ((code = client_resolve(&c, 1)) != 0)
        return code;
    /* The token is checked before anything is served: a proxy that would
     * answer every request 401 helps nobody. */
    json_t *who = NULL;
    if ((code = client_expect(&c, "GET", "/v1/auth/whoami", NULL, 200, &who)) != 0) {
        explicit_bzero(c.token, sizeof(c.token));
        return code;
    }
    char name[300];
    json_t *p = json_object_get(who, "principal");
    const char *pname = json_string_value(json_object_get(p, "name")),
               *org = json_string_value(json_object_get(p, "org"));
    snprintf(name, sizeof(name), "%s%s%s", pname != NULL ? pname : "?", org != NULL ? "@" : "", org != NULL ? org : "");
    json_decref(who);

    char authorization[CLIENT_TOKEN_MAX + 16], err[512];
    snprintf(authorization, sizeof(authorization), "Bearer %s", c.token);
    explicit_bzero(c.token, sizeof(c.token));
    struct proxy_run run = {&c, name};
    struct net_proxy_config cfg = {
        .port = (uint16_t)port,
        .upstream = c.url,
        .authorization = authorization,
        .ca_file = c.ca_file,
        .insecure = c.insecure,
        .landing = "/graphiql/",
        .ready = on_ready,
        .refused = on_refused,
        .arg = &run,
    };
    int r = net_proxy_run(&cfg, err, sizeof(err));
    explicit_bzero(authorization, sizeof(authorization));
    if (r != 0) {
        fprintf(stderr, "latchkey api proxy: %s\n", err);
        return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
}

static const char api_usage[] = "usage: latchkey api proxy [--port PORT]\n"
                                "\n"
                                "example:\n"
                                "  latchkey api proxy --port 4242\n";

int client_api(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "proxy") == 0)
        return client_api_proxy(argc - 1, argv + 1);
    return client_usage(api_usage, argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0));
}
