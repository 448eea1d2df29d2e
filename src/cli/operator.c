/*
 * operator.c - `latchkey operator ...`: the group's dispatch (the test
 * clock, the settings, the store) and the commands that run on a data dir
 * without a server: init, root-token, migrate, cleanup, notices.
 *
 * Must never print a secret but the root token it was asked for, and
 * records each action in the audit trail like an API request. Output,
 * exit statuses and the order of the checks are part of the contract.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "jobs/cleanup.h"
#include "jobs/notices.h"
#include "lib/clock.h"
#include "server.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/seal.h"
#include "svc/seal_ops.h"
#include "svc/token_cache.h"
#include "svc/tokens.h"

/* An operator's action recorded in the trail, like an API request's. */
static void audit_operator(struct store *s, const char *action, const char *resource, int ok) {
    if (audit_record_event(s, "operator", "latchkey operator", "CLI", action, resource, ok) != 0)
        fprintf(stderr, "latchkey operator: warning: could not write the audit record for %s\n", action);
}

/*
 * Takes "--as-of TIME" / "--as-of=TIME" out of argv (so the settings never
 * see it) into *ret_as_of, setting *ret_found. allowed says whether verb
 * takes it. Returns 0 (absent or accepted), or 2 after printing why it is
 * refused.
 */
static int take_as_of(const char *verb, int allowed, int *argc, char **argv, int64_t *ret_as_of, int *ret_found) {
    const char *value = NULL;
    int found = 0;
    for (int i = 0; i < *argc; i++) {
        int take = 0;
        if (strcmp(argv[i], "--as-of") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "latchkey operator %s: --as-of needs an RFC 3339 time\n", verb);
                return 2;
            }
            value = argv[i + 1];
            take = 2;
        } else if (strncmp(argv[i], "--as-of=", 8) == 0) {
            value = argv[i] + 8;
            take = 1;
        }
        if (take == 0)
            continue;
        found = 1;
        for (int k = i; k + take < *argc; k++)
            argv[k] = argv[k + take];
        *argc -= take;
        i--;
    }
    if (!found)
        return 0;
    if (!allowed) {
        fprintf(stderr, "latchkey operator %s: --as-of applies to cleanup and notices only\n", verb);
        return 2;
    }
    const char *env = getenv("LATCHKEY_TEST_CLOCK");
    if (env == NULL || strcmp(env, CLI_TEST_CLOCK_VALUE) != 0) {
        fprintf(stderr,
                "latchkey operator %s: --as-of is a test-only clock and is refused unless "
                "LATCHKEY_TEST_CLOCK=" CLI_TEST_CLOCK_VALUE " is set\n",
                verb);
        return 2;
    }
    if (rfc3339_parse(value, strlen(value), ret_as_of) != 0) {
        fprintf(stderr, "latchkey operator %s: --as-of: expected an RFC 3339 time such as 2027-01-01T00:00:00Z\n",
                verb);
        return 2;
    }
    *ret_found = 1;
    return 0;
}

int cli_run_on_store(struct cli_ctx *ctx, struct config *cfg) {
    char dsn[PATH_MAX + 16];
    if (server_open_store(cfg, (ctx->cmd->flags & CLI_CREATE_DIR) != 0, dsn, sizeof(dsn), &ctx->store) != 0)
        return 1;
    ctx->dsn = dsn;
    ctx->cfg = cfg;
    int status = ctx->cmd->run(ctx);
    store_close(ctx->store);
    ctx->store = NULL;
    ctx->dsn = NULL;
    return status;
}

/*
 * Takes "--name N" / "--name=N" out of argv into *ret (a whole number from
 * 1 to max). Returns 0 (absent or taken), or 2 after printing why not.
 */
static int take_count(const char *verb, const char *name, unsigned max, int *argc, char **argv, unsigned *ret) {
    size_t nl = strlen(name);
    for (int i = 0; i < *argc; i++) {
        const char *value = NULL;
        int take = 0;
        if (strcmp(argv[i], name) == 0 && i + 1 < *argc) {
            value = argv[i + 1];
            take = 2;
        } else if (strncmp(argv[i], name, nl) == 0 && argv[i][nl] == '=') {
            value = argv[i] + nl + 1;
            take = 1;
        } else if (strcmp(argv[i], name) == 0) {
            fprintf(stderr, "latchkey operator %s: %s needs a number\n", verb, name);
            return 2;
        }
        if (take == 0)
            continue;
        char *end = NULL;
        unsigned long v = strtoul(value, &end, 10);
        if (end == value || *end != '\0' || v < 1 || v > max) {
            fprintf(stderr, "latchkey operator %s: %s: expected a whole number from 1 to %u\n", verb, name, max);
            return 2;
        }
        *ret = (unsigned)v;
        for (int k = i; k + take < *argc; k++)
            argv[k] = argv[k + take];
        *argc -= take;
        i--;
    }
    return 0;
}

int cli_operator(struct cli_ctx *ctx) {
    if (ctx->argc < 1) {
        cli_usage(stderr);
        return 2;
    }
    const char *verb = ctx->argv[0];
    const struct cli_command *c = cli_find("operator", verb);
    int64_t as_of = 0;
    int has_as_of = 0, nflags = ctx->argc - 1;
    if (take_as_of(verb, c != NULL && (c->flags & CLI_AS_OF), &nflags, ctx->argv + 1, &as_of, &has_as_of) != 0)
        return 2;
    unsigned shares = 0, threshold = 0; /* init: Vault's 5 and 3; rekey: as they are */
    if (c != NULL && (c->run == cli_operator_init || c->run == cli_operator_rekey) &&
        (take_count(verb, "--key-shares", SEAL_SHARES_MAX, &nflags, ctx->argv + 1, &shares) != 0 ||
         take_count(verb, "--key-threshold", SEAL_SHARES_MAX, &nflags, ctx->argv + 1, &threshold) != 0))
        return 2;
    struct cli_ctx sub = {.cmd = c, .argc = nflags, .argv = ctx->argv + 1};
    sub.key_shares = shares;
    sub.key_threshold = threshold;
    sub.now = has_as_of ? as_of : clock_now();
    if (c != NULL && (c->flags & CLI_OWN_FLAGS))
        return c->run(&sub);
    struct config cfg;
    int r = cli_load_config(&cfg, sub.argc, sub.argv);
    if (r != 0)
        return r == 1 ? 0 : r;
    if (cfg.data_dir[0] == '\0' && cfg.store[0] == '\0') {
        fprintf(stderr, "latchkey operator %s: give --data-dir DIR or --store DSN (or LATCHKEY_DATA_DIR)\n", verb);
        return 2;
    }
    if (c == NULL) {
        fprintf(stderr, "latchkey operator: unknown command \"%s\"\n", verb);
        cli_usage(stderr);
        return 2;
    }
    return cli_run_on_store(&sub, &cfg);
}

int cli_operator_migrate(struct cli_ctx *ctx) {
    printf("store %s%s is up to date\n", ctx->cfg->store[0] ? "given by --store" : "in ",
           ctx->cfg->store[0] ? "" : ctx->cfg->data_dir);
    return 0;
}

int cli_operator_cleanup(struct cli_ctx *ctx) {
    size_t n = 0;
    int status = 0;
    if (cleanup_pass(ctx->store, ctx->now, &n) != 0) {
        fprintf(stderr, "latchkey operator cleanup: the store refused the clean-up\n");
        status = 1;
    } else {
        printf("deleted %zu token(s) expired for more than %d days\n", n, CLEANUP_EXPIRED_AFTER_DAYS);
    }
    char what[64];
    snprintf(what, sizeof(what), "%zu token(s) expired for over %d days", n, CLEANUP_EXPIRED_AFTER_DAYS);
    audit_operator(ctx->store, "token.cleanup", what, status == 0);
    return status;
}

int cli_operator_notices(struct cli_ctx *ctx) {
    struct notices_cfg nc;
    struct notices_stats st;
    struct lk_error err = {0};
    if (notices_cfg_init(&nc, ctx->cfg, &err) != 0) {
        fprintf(stderr, "latchkey operator notices: %s\n", lk_error_message(&err));
        notices_cfg_done(&nc);
        return 2;
    }
    int status = 0;
    /* Each channel on a connection and thread of its own, side by side. */
    if (notices_run(ctx->dsn, &nc, ctx->now, NULL, &st) != 0) {
        fprintf(stderr, "latchkey operator notices: the store refused the notice pass\n");
        status = 1;
    } else {
        printf("notices: %zu scheduled, %zu delivered, %zu to retry, %zu failed, %zu cancelled\n", st.scheduled,
               st.delivered, st.retrying, st.failed, st.cancelled);
    }
    notices_cfg_done(&nc);
    return status;
}

/* root-token: a new root token, printed once; the old ones revoked. */
static int issue_root(struct cli_ctx *ctx) {
    const char *verb = ctx->cmd->name;
    int status = 0;
    struct token_cache *cache = token_cache_new(64, 1);
    struct svc svc = {.store = ctx->store, .cache = cache, .now = clock_now(), .now_us = clock_mono_us()};
    char token[TOKFMT_TOKEN_BUFSZ], id[TOKFMT_PUBID_BUFSZ];
    size_t revoked = 0;
    struct lk_error err = {0};
    if (tokens_issue_root(&svc, token, id, &revoked, &err) != 0) {
        fprintf(stderr, "latchkey operator %s: %s\n", verb, lk_error_message(&err));
        status = 1;
    } else {
        printf("Root token: %s\n", token);
        printf("Revoked %zu previous root token(s). A running server stops accepting them within its cache TTL.\n",
               revoked);
        explicit_bzero(token, sizeof(token));
    }
    audit_operator(ctx->store, "operator.root_token", id, status == 0);
    token_cache_free(cache);
    return status;
}

/*
 * init: the seal (a root key split into --key-shares shares, any
 * --key-threshold of which unseal) and a root token, each printed once.
 * A data dir from before the seal (a root token, no seal) gets the seal
 * only. Refused when both exist.
 */
int cli_operator_init(struct cli_ctx *ctx) {
    const char *where = ctx->cfg->store[0] ? "the store given by --store" : ctx->cfg->data_dir;
    struct token_cache *cache = token_cache_new(64, 1);
    struct svc svc = {.store = ctx->store, .cache = cache, .now = clock_now(), .now_us = clock_mono_us()};
    struct seal_init_result *res = calloc(1, sizeof(*res));
    struct lk_error err = {0};
    struct seal_status st;
    int status = 1, exists = 0;
    if (res == NULL || seal_new(ctx->store, &svc.seal) != 0 || tokens_root_exists(&svc, &exists) != 0) {
        fprintf(stderr, "latchkey operator init: cannot read %s\n", where);
        goto out;
    }
    seal_status(svc.seal, &st);
    if (st.initialized && exists) {
        fprintf(stderr,
                "latchkey operator init: %s is already initialised (use `operator root-token` for a new root "
                "token)\n",
                where);
        goto out;
    }
    if (st.initialized) {
        status = issue_root(ctx);
        goto out;
    }
    /* Vault's defaults: 5 shares, 3 to unseal (fewer when fewer shares are asked for). */
    unsigned n = ctx->key_shares ? ctx->key_shares : 5;
    unsigned t = ctx->key_threshold ? ctx->key_threshold : (n < 3 ? n : 3);
    if (seal_ops_init(&svc, n, t, res, &err) != 0) {
        fprintf(stderr, "latchkey operator init: %s\n", lk_error_message(&err));
        goto out;
    }
    for (size_t i = 0; i < res->n; i++)
        printf("Unseal key %zu: %s\n", i + 1, res->hex[i]);
    for (size_t i = 0; i < res->n; i++)
        printf("Unseal key %zu (base64): %s\n", i + 1, res->b64[i]);
    if (res->root_token[0] != '\0')
        printf("Root token: %s\n", res->root_token);
    printf("\nInitialized with %zu key shares and a key threshold of %u. The shares are shown this once and stored "
           "nowhere:\nhand them to different people. latchkey starts sealed; any %u of them unseal it "
           "(PUT /v1/sys/unseal).\n",
           res->n, t, t);
    status = 0;
out:
    audit_operator(ctx->store, "operator.init", res != NULL ? res->root_token_id : "", status == 0);
    seal_init_result_wipe(res);
    free(res);
    seal_free(svc.seal);
    token_cache_free(cache);
    return status;
}

int cli_operator_root_token(struct cli_ctx *ctx) {
    return issue_root(ctx);
}

/*
 * rekey: new unseal shares from enough old ones (read from standard input,
 * one per line, so they never appear in a command line or a process
 * listing). The data keys stay; nothing is re-encrypted.
 */
int cli_operator_rekey(struct cli_ctx *ctx) {
    struct seal *seal = NULL;
    struct seal_status st;
    char *lines[SEAL_SHARES_MAX];
    size_t nold = 0;
    int status = 1;
    if (seal_new(ctx->store, &seal) != 0) {
        fprintf(stderr, "latchkey operator rekey: cannot read the seal's configuration\n");
        return 1;
    }
    seal_status(seal, &st);
    seal_free(seal);
    if (!st.initialized) {
        fprintf(stderr, "latchkey operator rekey: not initialized: run `latchkey operator init` first\n");
        return 1;
    }
    unsigned n = ctx->key_shares ? ctx->key_shares : st.n, t = ctx->key_threshold ? ctx->key_threshold : st.t;
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "Enter %u of the current unseal key shares, one per line, then end the input (Ctrl-D):\n",
                st.t);
    char buf[SEAL_SHARE_TEXT_MAX * 2];
    while (nold < SEAL_SHARES_MAX && fgets(buf, sizeof(buf), stdin) != NULL) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] == '\0')
            continue;
        lines[nold] = strdup(buf);
        if (lines[nold] == NULL)
            break;
        nold++;
    }
    explicit_bzero(buf, sizeof(buf));
    uint8_t(*shares)[SEAL_SHARE_LEN] = calloc(SEAL_SHARES_MAX, SEAL_SHARE_LEN);
    struct lk_error err = {0};
    if (shares == NULL || nold == 0) {
        fprintf(stderr, "latchkey operator rekey: no old key shares were given on standard input\n");
    } else if (seal_rekey(ctx->store, (const char *const *)lines, nold, n, t, shares, &err) != 0) {
        fprintf(stderr, "latchkey operator rekey: %s\n", lk_error_message(&err));
    } else {
        for (unsigned i = 0; i < n; i++) {
            char hex[SEAL_SHARE_TEXT_MAX], b64[SEAL_SHARE_TEXT_MAX];
            seal_share_format(shares[i], hex, b64);
            printf("Unseal key %u: %s\n", i + 1, hex);
            explicit_bzero(hex, sizeof(hex));
            explicit_bzero(b64, sizeof(b64));
        }
        printf("\nRekeyed: %u new key shares, any %u of which unseal. The old shares no longer do. A running server "
               "keeps serving; seal and unseal it with the new shares before rotating its key.\n",
               n, t);
        status = 0;
    }
    for (size_t i = 0; i < nold; i++) {
        explicit_bzero(lines[i], strlen(lines[i]));
        free(lines[i]);
    }
    if (shares != NULL)
        explicit_bzero(shares, (size_t)SEAL_SHARES_MAX * SEAL_SHARE_LEN);
    free(shares);
    char what[48];
    snprintf(what, sizeof(what), "%u shares, threshold %u", n, t);
    audit_operator(ctx->store, "operator.rekey", what, status == 0);
    return status;
}
