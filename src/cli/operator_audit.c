/*
 * operator_audit.c - `latchkey operator audit verify|export|head`: the
 * audit trail read straight from a data dir, with or without a server
 * running (docs/audit.md).
 *
 * Reads only: never writes to the trail, not even a record of its own
 * reading. Output and exit statuses are part of the contract (verify
 * exits 1 on a broken chain or a failed checkpoint).
 *
 * verify unseals in-process only when given the shares, on standard input
 * (--shares-stdin) or in a private file (--unseal-key-file, the server's
 * rules), never as arguments; it wipes them and never prints one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "core/audit.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "lib/str.h"
#include "server_seal.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/seal.h"

#define SHARES_TEXT_MAX 65536

/* The flag a row takes besides --data-dir, by name. */
static const char **flag_slot(struct cli_ctx *ctx, unsigned flags, const char *name, const char **data_dir,
                              const char **store) {
    if (strcmp(name, "--data-dir") == 0)
        return data_dir;
    if (strcmp(name, "--store") == 0)
        return store;
    if ((flags & CLI_FLAG_ORG) && strcmp(name, "--org") == 0)
        return &ctx->org;
    if ((flags & CLI_FLAG_SINCE) && strcmp(name, "--since") == 0)
        return &ctx->since;
    if ((flags & CLI_FLAG_ANCHOR) && strcmp(name, "--anchor") == 0)
        return &ctx->anchor;
    if ((flags & CLI_FLAG_UNSEAL) && strcmp(name, "--unseal-key-file") == 0)
        return &ctx->unseal_key_file;
    return NULL;
}

int cli_operator_audit(struct cli_ctx *ctx) {
    const char *name = ctx->argc > 0 ? ctx->argv[0] : "";
    const struct cli_command *c = cli_find("operator audit", name);
    if (c == NULL) {
        fprintf(stderr, "latchkey operator audit: give verify, export or head\n");
        return 2;
    }
    struct cli_ctx sub = {.cmd = c, .argc = ctx->argc - 1, .argv = ctx->argv + 1, .now = ctx->now};
    const char *data_dir = getenv("LATCHKEY_DATA_DIR"), *store = getenv("LATCHKEY_STORE");
    for (int i = 0; i < sub.argc; i++) {
        if ((c->flags & CLI_FLAG_UNSEAL) && strcmp(sub.argv[i], "--shares-stdin") == 0) {
            sub.shares_stdin = 1;
            continue;
        }
        const char **dst = flag_slot(&sub, c->flags, sub.argv[i], &data_dir, &store);
        if (dst == NULL || i + 1 == sub.argc) {
            fprintf(stderr, "latchkey operator audit %s: unknown or incomplete flag \"%s\"\n", name, sub.argv[i]);
            return 2;
        }
        *dst = sub.argv[++i];
    }
    if ((data_dir == NULL || *data_dir == '\0') && (store == NULL || *store == '\0')) {
        fprintf(stderr, "latchkey operator audit %s: give --data-dir DIR or --store DSN (or LATCHKEY_DATA_DIR)\n",
                name);
        return 2;
    }
    struct config cfg;
    config_defaults(&cfg);
    str_copy(cfg.data_dir, sizeof(cfg.data_dir), data_dir != NULL ? data_dir : "");
    str_copy(cfg.store, sizeof(cfg.store), store != NULL ? store : "");
    return cli_run_on_store(&sub, &cfg);
}

int cli_audit_head(struct cli_ctx *ctx) {
    int64_t seq = 0;
    char hash[AUDIT_HASH_HEX];
    if (store_audit_head(ctx->store, &seq, hash) != 0) {
        fprintf(stderr, "latchkey operator audit head: cannot read the trail\n");
        return 1;
    }
    /* The anchor format verify --anchor takes. */
    printf("%lld:%s\n", (long long)seq, hash);
    return 0;
}

/*
 * The seal of ctx's store, unsealed with the shares ctx was given: 0 and
 * *ret (NULL when none were given), or 1 after saying why it cannot be.
 */
static int unseal_for_verify(struct cli_ctx *ctx, struct seal **ret) {
    const char *me = "latchkey operator audit verify";
    struct seal *seal = NULL;
    struct seal_status st;
    *ret = NULL;
    if (!ctx->shares_stdin && ctx->unseal_key_file == NULL)
        return 0;
    if (seal_new(ctx->store, &seal) != 0) {
        fprintf(stderr, "%s: cannot read the seal's configuration\n", me);
        return 1;
    }
    seal_status(seal, &st);
    if (!st.initialized) {
        fprintf(stderr, "%s: latchkey is not initialized: there are no unseal keys to give\n", me);
        seal_free(seal);
        return 1;
    }
    int r;
    if (ctx->unseal_key_file != NULL) {
        r = server_unseal_key_file(seal, ctx->store, ctx->unseal_key_file, "--unseal-key-file");
    } else {
        char *text = calloc(1, SHARES_TEXT_MAX);
        size_t got = 0;
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "Enter %u of the unseal key shares, one per line, then end the input (Ctrl-D):\n", st.t);
        while (text != NULL && got + 1 < SHARES_TEXT_MAX && fgets(text + got, (int)(SHARES_TEXT_MAX - got), stdin))
            got += strlen(text + got);
        r = text != NULL ? server_unseal_text(seal, ctx->store, text, "--shares-stdin") : -1;
        if (text != NULL)
            explicit_bzero(text, SHARES_TEXT_MAX);
        free(text);
    }
    if (r != 0) {
        fprintf(stderr, "%s: could not unseal with the shares given; the checkpoints cannot be checked\n", me);
        seal_free(seal);
        return 1;
    }
    *ret = seal;
    return 0;
}

/* The checkpoint lines of verify's report. */
static void print_checkpoints(const struct audit_report *rep, int initialized) {
    if (!rep->checked) {
        printf("audit checkpoints: not checked (%s): the chain alone proves nothing against someone who holds "
               "the data files\n",
               initialized ? "give the unseal key shares with --shares-stdin or --unseal-key-file"
                           : "latchkey is not initialized, so there is no audit key");
        return;
    }
    if (rep->failed != 0 || rep->failed_why[0] != '\0') {
        if (rep->failed != 0)
            printf("audit checkpoint FAILED at record %lld: %s", (long long)rep->failed, rep->failed_why);
        else
            printf("audit checkpoints FAILED: %s", rep->failed_why);
        if (rep->newest_valid != 0)
            printf("; the newest valid checkpoint before it is at record %lld", (long long)rep->newest_valid);
        printf("\n");
        return;
    }
    if (rep->checkpoints == 0)
        printf("audit checkpoints: none yet");
    else
        printf("audit checkpoints: %lld checked, all valid (the oldest at record %lld)", (long long)rep->checkpoints,
               (long long)rep->oldest);
    if (rep->newest_valid != 0)
        printf("; the newest at record %lld: records 1..%lld are authenticated by the audit key",
               (long long)rep->newest_valid, (long long)rep->newest_valid);
    printf("\n");
    if (rep->verified_to > rep->newest_valid)
        printf("audit checkpoints: records %lld..%lld are not covered by a checkpoint yet\n",
               (long long)rep->newest_valid + 1, (long long)rep->verified_to);
}

int cli_audit_verify(struct cli_ctx *ctx) {
    int64_t aseq = 0;
    char why[256] = "";
    const char *ahash = NULL;
    if (ctx->anchor != NULL) {
        const char *colon = strchr(ctx->anchor, ':');
        char *end = NULL;
        aseq = colon ? strtoll(ctx->anchor, &end, 10) : 0;
        if (colon == NULL || end != colon || aseq < 1) {
            fprintf(stderr, "latchkey operator audit verify: --anchor: expected SEQ:HASH (from `audit head`)\n");
            return 2;
        }
        ahash = colon + 1;
    }
    if (ctx->shares_stdin && ctx->unseal_key_file != NULL) {
        fprintf(stderr, "latchkey operator audit verify: give --shares-stdin or --unseal-key-file, not both\n");
        return 2;
    }
    struct seal *seal = NULL;
    if (unseal_for_verify(ctx, &seal) != 0)
        return 1;
    struct audit_report rep;
    int r = audit_verify_report(ctx->store, seal, &rep), given = seal != NULL;
    seal_free(seal); /* wipes the keys */
    if (r != 0) {
        fprintf(stderr, "latchkey operator audit verify: cannot read the trail: %s\n", lk_strerror(r));
        return 1;
    }
    int initialized = 1;
    if (!given) {
        /* Without shares: say whether there is a seal to give them to. */
        struct seal *probe = NULL;
        struct seal_status st = {0};
        if (seal_new(ctx->store, &probe) == 0)
            seal_status(probe, &st);
        seal_free(probe);
        initialized = st.initialized;
    }
    int status = rep.ok ? 0 : 1;
    if (rep.broken_at != 0) {
        printf("audit chain BROKEN at record %lld: %s (%lld record(s) before it are intact)\n",
               (long long)rep.broken_at, rep.chain_why, (long long)rep.records);
    } else {
        int ar = ahash != NULL ? audit_check_anchor(ctx->store, aseq, ahash, why, sizeof(why)) : 0;
        if (ar == 1) {
            printf("audit chain BROKEN: %s (%lld record(s) are intact)\n", why, (long long)rep.records);
            status = 1;
        } else if (ar != 0) {
            fprintf(stderr, "latchkey operator audit verify: cannot read the trail: %s\n", lk_strerror(ar));
            return 1;
        } else {
            printf("audit chain intact: %lld record(s)\n", (long long)rep.records);
        }
    }
    print_checkpoints(&rep, initialized);
    return status;
}

int cli_audit_export(struct cli_ctx *ctx) {
    struct audit_filter f;
    memset(&f, 0, sizeof(f));
    f.org = ctx->org;
    f.limit = 1000;
    if (ctx->since != NULL) {
        int64_t t;
        if (rfc3339_parse(ctx->since, strlen(ctx->since), &t) != 0) {
            fprintf(stderr, "latchkey operator audit export: --since: not an RFC 3339 time\n");
            return 2;
        }
        f.since_ms = t * 1000;
    }
    char line[AUDIT_CANONICAL_MAX];
    for (;;) {
        struct audit_list page = {0};
        if (store_audit_list(ctx->store, &f, &page) != 0) {
            fprintf(stderr, "latchkey operator audit export: cannot read the trail\n");
            return 1;
        }
        for (size_t i = 0; i < page.count; i++) {
            size_t n = audit_rec_json(&page.items[i], line, sizeof(line));
            fwrite(line, 1, n, stdout);
            fputc('\n', stdout);
        }
        size_t n = page.count;
        if (n > 0)
            f.cursor = page.items[n - 1].seq;
        audit_list_done(&page);
        if (n < (size_t)f.limit)
            return 0;
    }
}
