/*
 * operator_store.c - `latchkey operator migrate-store --from DSN --to DSN`:
 * moving up from the embedded SQLite store to PostgreSQL (docs/scaling.md),
 * or between any two stores, while the servers are stopped. Both stores
 * are migrated to this binary's schema, every row is copied in one
 * transaction (store_copy), and the destination's audit chain is verified
 * and compared with the source's head before the command says it is done.
 *
 * A DSN may hold a password: it is never printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/audit.h"
#include "core/errors.h"
#include "store/store.h"
#include "svc/audit.h"

static const char migrate_store_usage[] =
    "usage: latchkey operator migrate-store --from DSN --to DSN\n"
    "\n"
    "Copies everything in the store --from (e.g. sqlite:/var/lib/latchkey/latchkey.db)\n"
    "into the new store --to (e.g. postgres://latchkey@db.internal/latchkey), audit\n"
    "trail included, then verifies the copy's chain. Stop every server first. The\n"
    "destination must hold no org, token or audit record yet.\n"
    "\n"
    "example:\n"
    "  latchkey operator migrate-store --from sqlite:/var/lib/latchkey/latchkey.db \\\n"
    "    --to 'postgres://latchkey@db.internal/latchkey?sslmode=verify-full'\n";

static void progress(const char *table, int64_t rows, void *arg) {
    (void)arg;
    if (rows > 0)
        printf("copied %" PRId64 " row(s) of %s\n", rows, table);
}

static int open_store(const char *what, const char *dsn, struct store **ret) {
    int version = 0;
    int r = store_open(dsn, ret);
    if (r != 0) {
        fprintf(stderr, "latchkey operator migrate-store: cannot open the %s store: %s\n", what, lk_strerror(r));
        return 1;
    }
    if ((r = store_migrate(*ret, &version)) != 0) {
        fprintf(stderr, "latchkey operator migrate-store: cannot migrate the %s store: %s\n", what, lk_strerror(r));
        store_close(*ret);
        *ret = NULL;
        return 1;
    }
    return 0;
}

int cli_operator_migrate_store(struct cli_ctx *ctx) {
    const char *from_dsn = NULL, *to_dsn = NULL;
    for (int i = 0; i < ctx->argc; i++) {
        const char *a = ctx->argv[i];
        if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(migrate_store_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--from") == 0 && i + 1 < ctx->argc)
            from_dsn = ctx->argv[++i];
        else if (strcmp(a, "--to") == 0 && i + 1 < ctx->argc)
            to_dsn = ctx->argv[++i];
        else {
            fputs(migrate_store_usage, stderr);
            return 2;
        }
    }
    if (from_dsn == NULL || to_dsn == NULL) {
        fputs(migrate_store_usage, stderr);
        return 2;
    }
    if (strcmp(from_dsn, to_dsn) == 0) {
        fprintf(stderr, "latchkey operator migrate-store: --from and --to name the same store\n");
        return 2;
    }
    struct store *from = NULL, *to = NULL;
    int status = 1;
    if (open_store("source", from_dsn, &from) != 0 || open_store("destination", to_dsn, &to) != 0)
        goto out;
    int r = store_copy(from, to, progress, NULL);
    if (r == LK_ECONFLICT) {
        fprintf(stderr, "latchkey operator migrate-store: the destination is not new (it holds orgs, tokens or audit "
                        "records); nothing was copied\n");
        goto out;
    }
    if (r != 0) {
        fprintf(stderr, "latchkey operator migrate-store: the copy failed (%s); the destination is as it was\n",
                lk_strerror(r));
        goto out;
    }
    /* The copy's trail: one chain, ending where the source's ends. */
    int64_t fseq = 0, tseq = 0;
    char fhash[AUDIT_HASH_HEX], thash[AUDIT_HASH_HEX];
    struct audit_report rep;
    if (store_audit_head(from, &fseq, fhash) != 0 || store_audit_head(to, &tseq, thash) != 0 ||
        audit_verify_report(to, NULL, &rep) != 0) {
        fprintf(stderr, "latchkey operator migrate-store: cannot read the audit trails back to compare them\n");
        goto out;
    }
    if (fseq != tseq || strcmp(fhash, thash) != 0 || rep.broken_at != 0 || rep.verified_to != tseq) {
        fprintf(stderr,
                "latchkey operator migrate-store: the copy's audit trail does not verify to the source's head "
                "(record %" PRId64 " of %" PRId64 "): do not use it\n",
                rep.broken_at != 0 ? rep.broken_at : rep.verified_to, fseq);
        goto out;
    }
    printf("done: the audit trail's %" PRId64 " record(s) verify, head %" PRId64 ":%s as in the source\n", rep.records,
           tseq, thash);
    status = 0;
out:
    store_close(from);
    store_close(to);
    return status;
}
