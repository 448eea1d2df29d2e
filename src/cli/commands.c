/*
 * commands.c - the command table of the latchkey binary, the usage built
 * from it, the top-level dispatch, and the commands that need nothing
 * else (server, routes, version, help).
 *
 * Every output byte, exit status and flag is part of the contract
 * (tests/blackbox run the binary): the help text, in particular, is the
 * table in its order. Must never hold a command's logic beyond starting it.
 */
#include "cli/cli.h"

#include <string.h>

#include "api/api.h"
#include "cli/agent.h"
#include "cli/client.h"
#include "config.h"
#include "core/errors.h"
#include "lib/log.h"
#include "server.h"

static int cli_agent(struct cli_ctx *ctx);
static int cli_login(struct cli_ctx *ctx);
static int cli_logout(struct cli_ctx *ctx);
static int cli_whoami(struct cli_ctx *ctx);
static int cli_token(struct cli_ctx *ctx);
static int cli_resource(struct cli_ctx *ctx);
static int cli_secret(struct cli_ctx *ctx);
static int cli_api(struct cli_ctx *ctx);
static int cli_completion(struct cli_ctx *ctx);
static int cli_routes(struct cli_ctx *ctx);
static int cli_version(struct cli_ctx *ctx);
static int cli_help(struct cli_ctx *ctx);

/* In help order. */
static const struct cli_command commands[] = {
    {"operator", "notices", "operator notices --data-dir DIR",
     "one expiry-notice pass (schedule and deliver), with the\nserver's --smtp-* and --notice-* flags",
     cli_operator_notices, CLI_AS_OF},
    {"operator", NULL, "    --as-of RFC3339 (cleanup, notices)",
     "TEST ONLY: run the pass as if it were that time; needs\nLATCHKEY_TEST_CLOCK=" CLI_TEST_CLOCK_VALUE, NULL, 0},
    {NULL, "server", "server [--dev] [flags]", "run the API server (see `latchkey server --help`)", cli_server, 0},
    {"operator", "init", "operator init --data-dir DIR [--key-shares N] [--key-threshold T]",
     "create a data dir: the unseal key shares (default 5, any 3 unseal) and the first root token", cli_operator_init,
     CLI_CREATE_DIR},
    {"operator", "rekey", "operator rekey --data-dir DIR [--key-shares N] [--key-threshold T]",
     "new unseal key shares from enough old ones read on standard input; nothing is re-encrypted", cli_operator_rekey,
     0},
    {"operator", "root-token", "operator root-token --data-dir DIR", "issue a new root token and revoke the old ones",
     cli_operator_root_token, 0},
    {"operator", "migrate", "operator migrate --data-dir DIR", "apply pending schema migrations", cli_operator_migrate,
     0},
    {"operator", "migrate-store", "operator migrate-store --from DSN --to DSN",
     "copy a stopped server's store into a new one (SQLite to\nPostgreSQL), audit trail included and verified",
     cli_operator_migrate_store, CLI_OWN_FLAGS},
    {"operator", "cleanup", "operator cleanup --data-dir DIR", "delete tokens expired for more than 90 days now",
     cli_operator_cleanup, CLI_AS_OF},
    {"operator audit", "verify", "operator audit verify --data-dir DIR",
     "check the audit trail's hash chain; names the first broken record", cli_audit_verify,
     CLI_FLAG_ANCHOR | CLI_FLAG_UNSEAL},
    {"operator audit", "export", "operator audit export --data-dir DIR [--org NAME] [--since RFC3339]",
     "print audit records as JSON lines, oldest first", cli_audit_export, CLI_FLAG_ORG | CLI_FLAG_SINCE},
    {"operator audit", "head", "operator audit head --data-dir DIR",
     "print SEQ:HASH of the newest record, to keep elsewhere", cli_audit_head, 0},
    {"operator audit", NULL, "operator audit verify ... --anchor SEQ:HASH",
     "also prove the trail was not cut back below that record", NULL, 0},
    {"operator audit", NULL, "operator audit verify ... --shares-stdin",
     "also check the signed checkpoints, unsealing with the shares\non standard input (or --unseal-key-file FILE)",
     NULL, 0},
    {NULL, "agent", "agent --token-file PATH [flags]",
     "keep a service account's identity token in PATH, renewed\nbefore it expires; --exec -- CMD ARGS runs the "
     "workload with\nits path (see `latchkey agent --help`)",
     cli_agent, 0},
    {NULL, "login", "login [URL] [--token-stdin]",
     "sign in to a server; keeps its URL and a token in the\nprofile (see `latchkey login --help`)", cli_login, 0},
    {NULL, "logout", "logout", "end the profile's session and forget it", cli_logout, 0},
    {NULL, "whoami", "whoami [-o json]", "who the profile's token belongs to", cli_whoami, 0},
    {NULL, "token", "token create|list|show|rotate|revoke", "your API tokens (see `latchkey token --help`)", cli_token,
     0},
    {NULL, "org", "org list|show|create|approve|activate|...", "organisations (see `latchkey org --help`)",
     cli_resource, 0},
    {NULL, "user", "user list|show|create|update|delete", "the org's users", cli_resource, 0},
    {NULL, "team", "team list|show|create|delete|members|...", "teams and their members", cli_resource, 0},
    {NULL, "sa", "sa list|show|create|delete|grant|revoke|token", "a team's service accounts", cli_resource, 0},
    {NULL, "role", "role list|create|delete", "built-in and custom roles", cli_resource, 0},
    {NULL, "group", "group list|create|add-member|remove-member", "groups", cli_resource, 0},
    {NULL, "workload", "workload list|create|delete", "a team's workloads", cli_resource, 0},
    {NULL, "binding", "binding list|add|remove", "a workload's service accounts", cli_resource, 0},
    {NULL, "secret", "secret list|get|put|delete|versions", "the org's or a team's secrets", cli_secret, 0},
    {NULL, "audit", "audit list|tail", "the org's audit records; tail follows new ones", cli_resource, 0},
    {NULL, "api", "api proxy [--port 4242]",
     "a proxy on 127.0.0.1 that adds the profile's token, with the\nGraphQL playground at / (see `latchkey api proxy "
     "--help`)",
     cli_api, 0},
    {NULL, "completion", "completion bash|zsh|fish", "a shell's completion script for latchkey, on standard output",
     cli_completion, 0},
    {NULL, "routes", "routes", "list the REST routes (method, path, action)", cli_routes, 0},
    {NULL, "version", "version", "print the version", cli_version, 0},
    /* Not listed: groups and aliases. */
    {NULL, "operator", NULL, NULL, cli_operator, 0},
    {"operator", "audit", NULL, NULL, cli_operator_audit, CLI_OWN_FLAGS},
    {NULL, "--version", NULL, NULL, cli_version, 0},
    {NULL, "help", NULL, NULL, cli_help, 0},
    {NULL, "--help", NULL, NULL, cli_help, 0},
    {NULL, "-h", NULL, NULL, cli_help, 0},
};

/* The help's left column: two spaces, then this wide; longer synopses put
 * their summary on the next line. */
#define SYNOPSIS_WIDTH 38

static int same_group(const char *a, const char *b) {
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

const struct cli_command *cli_find(const char *group, const char *name) {
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct cli_command *c = &commands[i];
        if (c->run != NULL && c->name != NULL && same_group(c->group, group) && strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* The words that may follow `latchkey NAME`: a noun's verbs (its
 * synopsis "NAME a|b|c", or resources.c's table where the synopsis is
 * cut short), or the operator commands. */
#define WORDS_MAX 32
static size_t words_after(const struct cli_command *c, const char **out, char *buf, size_t cap) {
    size_t n = client_resource_verbs(c->name, out, WORDS_MAX);
    if (n > 0)
        return n > WORDS_MAX ? WORDS_MAX : n;
    if (strcmp(c->name, "operator") == 0) {
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && n < WORDS_MAX; i++)
            if (commands[i].group != NULL && strcmp(commands[i].group, "operator") == 0 && commands[i].name != NULL &&
                commands[i].run != NULL)
                out[n++] = commands[i].name;
        return n;
    }
    size_t l = strlen(c->name);
    if (c->synopsis == NULL || strncmp(c->synopsis, c->name, l) != 0 || c->synopsis[l] != ' ' ||
        strchr(c->synopsis, '|') == NULL)
        return 0;
    snprintf(buf, cap, "%s", c->synopsis + l + 1);
    char *save = NULL;
    for (char *t = strtok_r(buf, "| ", &save); t != NULL && n < WORDS_MAX; t = strtok_r(NULL, "| ", &save))
        if (t[0] != '[' && t[0] != '-' && strcmp(t, "...") != 0)
            out[n++] = t;
    return n;
}

static int cli_completion(struct cli_ctx *ctx) {
    const char *shell = ctx->argc == 1 ? ctx->argv[0] : "";
    int bash = strcmp(shell, "bash") == 0, zsh = strcmp(shell, "zsh") == 0, fish = strcmp(shell, "fish") == 0;
    if (!bash && !zsh && !fish) {
        fprintf(stderr, "usage: latchkey completion bash|zsh|fish\n\nexample:\n  source <(latchkey completion "
                        "bash)\n  latchkey completion fish > ~/.config/fish/completions/latchkey.fish\n");
        return ctx->argc == 1 && strcmp(shell, "--help") == 0 ? 0 : 2;
    }
    char top[2048] = "";
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct cli_command *c = &commands[i];
        if (c->group == NULL && c->name != NULL && c->name[0] != '-' && strcmp(c->name, "help") != 0) {
            size_t n = strlen(top);
            snprintf(top + n, sizeof(top) - n, "%s%s", n ? " " : "", c->name);
        }
    }
    if (zsh)
        printf("autoload -U +X bashcompinit && bashcompinit\n");
    if (bash || zsh)
        printf("_latchkey() {\n  local cur=${COMP_WORDS[COMP_CWORD]}\n  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
               "    COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))\n    return\n  fi\n"
               "  [ \"$COMP_CWORD\" -eq 2 ] || return\n  case \"${COMP_WORDS[1]}\" in\n",
               top);
    else
        printf("complete -c latchkey -f\ncomplete -c latchkey -n __fish_use_subcommand -a \"%s\"\n", top);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct cli_command *c = &commands[i];
        const char *w[WORDS_MAX];
        char buf[512], list[1024] = "";
        if (c->group != NULL || c->name == NULL)
            continue;
        size_t n = words_after(c, w, buf, sizeof(buf));
        for (size_t k = 0; k < n; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", l ? " " : "", w[k]);
        }
        if (n == 0)
            continue;
        if (bash || zsh)
            printf("    %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", c->name, list);
        else
            printf("complete -c latchkey -n \"__fish_seen_subcommand_from %s\" -a \"%s\"\n", c->name, list);
    }
    if (bash || zsh)
        printf("  esac\n}\ncomplete -F _latchkey latchkey\n");
    return 0;
}

void cli_usage(FILE *f) {
    fprintf(f, "usage: latchkey <command> [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct cli_command *c = &commands[i];
        if (c->synopsis == NULL)
            continue;
        const char *s = c->summary;
        if (strlen(c->synopsis) > SYNOPSIS_WIDTH)
            fprintf(f, "  %s\n", c->synopsis);
        else
            fprintf(f, "  %-*s ", SYNOPSIS_WIDTH, c->synopsis);
        /* The summary's first line after the synopsis, the others (and all
         * of it after a long synopsis) under its column. */
        int first = strlen(c->synopsis) <= SYNOPSIS_WIDTH;
        for (;;) {
            size_t n = strcspn(s, "\n");
            fprintf(f, "%*s%.*s\n", first ? 0 : SYNOPSIS_WIDTH + 3, "", (int)n, s);
            first = 0;
            if (s[n] == '\0')
                break;
            s += n + 1;
        }
    }
}

static enum log_level level_of(const char *s) {
    if (strcmp(s, "debug") == 0)
        return LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return LOG_WARN;
    if (strcmp(s, "error") == 0)
        return LOG_ERROR;
    return LOG_INFO;
}

int cli_load_config(struct config *cfg, int argc, char **argv) {
    struct lk_error err = {0};
    config_defaults(cfg);
    int r = config_load(cfg, argc, argv, &err);
    if (r == 1) {
        config_usage();
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "latchkey: %s\n", lk_error_message(&err));
        return 2;
    }
    log_set_level(level_of(cfg->log_level));
    return 0;
}

int cli_server(struct cli_ctx *ctx) {
    struct config cfg;
    int r = cli_load_config(&cfg, ctx->argc, ctx->argv);
    if (r != 0)
        return r == 1 ? 0 : r;
    return server_run(&cfg);
}

static int cli_agent(struct cli_ctx *ctx) {
    return agent_main(ctx->argc, ctx->argv);
}

/* The client commands talk to a server only (cli/client.h). */
static int cli_login(struct cli_ctx *ctx) {
    return client_login(ctx->argc, ctx->argv);
}

static int cli_logout(struct cli_ctx *ctx) {
    return client_logout(ctx->argc, ctx->argv);
}

static int cli_whoami(struct cli_ctx *ctx) {
    return client_whoami(ctx->argc, ctx->argv);
}

static int cli_token(struct cli_ctx *ctx) {
    return client_token(ctx->argc, ctx->argv);
}

static int cli_resource(struct cli_ctx *ctx) {
    return client_resource(ctx->cmd->name, ctx->argc, ctx->argv);
}

static int cli_secret(struct cli_ctx *ctx) {
    return client_secret(ctx->argc, ctx->argv);
}

static int cli_api(struct cli_ctx *ctx) {
    return client_api(ctx->argc, ctx->argv);
}

static int cli_routes(struct cli_ctx *ctx) {
    api_routes_print(stdout);
    return 0;
}

static int cli_version(struct cli_ctx *ctx) {
    printf("latchkey %s\n", LATCHKEY_VERSION);
    return 0;
}

static int cli_help(struct cli_ctx *ctx) {
    cli_usage(stdout);
    return 0;
}

int cli_main(int argc, char **argv) {
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    const struct cli_command *c = cli_find(NULL, argv[1]);
    if (c == NULL) {
        fprintf(stderr, "latchkey: unknown command \"%s\"\n", argv[1]);
        cli_usage(stderr);
        return 2;
    }
    struct cli_ctx ctx = {.cmd = c, .argc = argc - 2, .argv = argv + 2};
    return c->run(&ctx);
}
