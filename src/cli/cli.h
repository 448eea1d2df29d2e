/*
 * cli.h - the commands of the latchkey binary, as one table (commands.c):
 * each row is something a user types, with the handler that runs it and
 * the line `latchkey --help` prints for it, so a new command is a new row.
 *
 * A row belongs to a group: none (`latchkey NAME`), "operator" (`latchkey
 * operator NAME`) or "operator audit". A group's own row dispatches into
 * its rows. Rows are listed in `--help` in table order; a row without a
 * handler only adds a line to the help, a row without a synopsis is not
 * listed (aliases, groups).
 */
#ifndef LK_CLI_CLI_H
#define LK_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

struct config;
struct store;

/* The test clock (docs/notices.md): operator passes may pretend another
 * time only when this is in LATCHKEY_TEST_CLOCK, so it cannot be reached by
 * accident in production. */
#define CLI_TEST_CLOCK_VALUE "i-know-this-is-not-production"

/* What an operator row needs before it runs. */
enum {
    CLI_AS_OF = 1 << 0,      /* takes --as-of (the test clock) */
    CLI_CREATE_DIR = 1 << 1, /* creates the data dir if missing */
    CLI_OWN_FLAGS = 1 << 2,  /* parses its own flags: no settings, no store opened for it */
    /* operator audit: which flags besides --data-dir it takes */
    CLI_FLAG_ORG = 1 << 3,
    CLI_FLAG_SINCE = 1 << 4,
    CLI_FLAG_ANCHOR = 1 << 5,
    CLI_FLAG_UNSEAL = 1 << 6, /* --shares-stdin, --unseal-key-file FILE */
};

struct cli_command;

/* What a handler gets. The dispatcher fills what the row's group provides. */
struct cli_ctx {
    const struct cli_command *cmd; /* the row that runs */
    int argc;                      /* the words after the command's name */
    char **argv;
    /* operator (not CLI_OWN_FLAGS): */
    struct config *cfg;     /* settings from the flags, the environment and a config file */
    struct store *store;    /* the data dir's store, open and migrated */
    const char *dsn;        /* its DSN, for a command that opens more connections */
    unsigned key_shares;    /* operator init: --key-shares */
    unsigned key_threshold; /* operator init: --key-threshold */
    int64_t now;            /* the time a pass runs at: now, or --as-of */
    /* operator audit: flag values, NULL when not given */
    const char *org;
    const char *since;
    const char *anchor;
    int shares_stdin;            /* --shares-stdin: unseal key shares on standard input */
    const char *unseal_key_file; /* --unseal-key-file FILE */
};

struct cli_command {
    const char *group;               /* NULL, "operator" or "operator audit" */
    const char *name;                /* the word typed; NULL for a help-only row */
    const char *synopsis;            /* the help line's left column; NULL = not listed */
    const char *summary;             /* its right column; "\n" continues it on the next line */
    int (*run)(struct cli_ctx *ctx); /* the process exit status; NULL for a help-only row */
    unsigned flags;                  /* CLI_* */
};

/* Runs the command argv names (argv[0] is the program). The exit status. */
int cli_main(int argc, char **argv);

/* The row of group (NULL for the top level) named name, or NULL. */
const struct cli_command *cli_find(const char *group, const char *name);

/* Prints the usage built from the table. */
void cli_usage(FILE *f);

/*
 * Loads the settings from argv[0..argc) (flags only), the environment and
 * a config file into cfg and sets the log level. Returns 0; 1 after
 * printing the settings table for --help; 2 after printing why a setting
 * is refused.
 */
int cli_load_config(struct config *cfg, int argc, char **argv);

/*
 * Opens the store of the data dir in cfg (creating the dir for a
 * CLI_CREATE_DIR row) and migrates it, runs ctx->cmd with it and closes it.
 * The row's exit status, or 1 if the store cannot be opened (the log says
 * why).
 */
int cli_run_on_store(struct cli_ctx *ctx, struct config *cfg);

/* The handlers the table names. */
int cli_server(struct cli_ctx *ctx);

int cli_operator(struct cli_ctx *ctx);
int cli_operator_init(struct cli_ctx *ctx);
int cli_operator_rekey(struct cli_ctx *ctx);
int cli_operator_root_token(struct cli_ctx *ctx);
int cli_operator_migrate(struct cli_ctx *ctx);
int cli_operator_migrate_store(struct cli_ctx *ctx); /* operator_store.c */
int cli_operator_cleanup(struct cli_ctx *ctx);
int cli_operator_notices(struct cli_ctx *ctx);
int cli_operator_audit(struct cli_ctx *ctx);
int cli_audit_verify(struct cli_ctx *ctx);
int cli_audit_export(struct cli_ctx *ctx);
int cli_audit_head(struct cli_ctx *ctx);

#endif
