/*
 * operator_audit.c - `latchkey operator audit verify|export|head`: the
 * audit trail read straight from a data dir, with or without a server
 * running (docs/audit.md).
 *
 * Reads only: never writes to the trail, not even a record of its own
 * reading. Output and exit statuses are part of the contract (verify
 * exits 1 on a broken chain).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "core/audit.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "lib/str.h"
#include "store/store.h"
#include "svc/audit.h"

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

int cli_audit_verify(struct cli_ctx *ctx) {
    int64_t count = 0, bad = 0, aseq = 0;
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
    int r = audit_verify(ctx->store, &count, &bad, why, sizeof(why));
    if (r == 0 && ahash != NULL) {
        r = audit_check_anchor(ctx->store, aseq, ahash, why, sizeof(why));
        if (r == 1) {
            printf("audit chain BROKEN: %s (%lld record(s) are intact)\n", why, (long long)count);
            return 1;
        }
    }
    if (r == 0) {
        printf("audit chain intact: %lld record(s)\n", (long long)count);
        return 0;
    }
    if (r == 1)
        printf("audit chain BROKEN at record %lld: %s (%lld record(s) before it are intact)\n", (long long)bad, why,
               (long long)count);
    else
        fprintf(stderr, "latchkey operator audit verify: cannot read the trail: %s\n", lk_strerror(r));
    return 1;
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
