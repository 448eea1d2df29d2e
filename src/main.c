/*
 * main.c - the latchkey binary's entry point: one binary, many doors.
 *
 *   latchkey server [flags]              the API server
 *   latchkey operator root-token ...     issue a new root token, revoke the old
 *   latchkey operator init ...           create and migrate a data dir
 *   latchkey operator migrate ...        apply pending schema migrations
 *   latchkey operator cleanup|notices    one pass of a background job
 *   latchkey operator audit verify|export
 *   latchkey version
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config.h"
#include "core/errors.h"
#include "lib/clock.h"
#include "jobs/cleanup.h"
#include "jobs/notices.h"
#include "lib/log.h"
#include "server.h"
#include "store/store.h"
#include "core/rfc3339.h"
#include "lib/str.h"
#include "svc/audit.h"
#include "svc/token_cache.h"
#include "svc/tokens.h"

/* The test clock (docs/notices.md): operator passes may pretend another
 * time only when this is in LATCHKEY_TEST_CLOCK, so it cannot be reached by
 * accident in production. */
#define TEST_CLOCK_VALUE "i-know-this-is-not-production"

static void usage(FILE *f) {
    fprintf(f, "usage: latchkey <command> [flags]\n\n"
               "commands:\n"
               "  operator notices --data-dir DIR        one expiry-notice pass (schedule and deliver), with the\n"
               "                                         server's --smtp-* and --notice-* flags\n"
               "      --as-of RFC3339 (cleanup, notices) TEST ONLY: run the pass as if it were that time; needs\n"
               "                                         LATCHKEY_TEST_CLOCK=" TEST_CLOCK_VALUE "\n"
               "  server [--dev] [flags]                 run the API server (see `latchkey server --help`)\n"
               "  operator init --data-dir DIR           create a data dir and print its first root token\n"
               "  operator root-token --data-dir DIR     issue a new root token and revoke the old ones\n"
               "  operator migrate --data-dir DIR        apply pending schema migrations\n"
               "  operator cleanup --data-dir DIR        delete tokens expired for more than 90 days now\n"
               "  operator audit verify --data-dir DIR   check the audit trail's hash chain; names the first broken "
               "record\n"
               "  operator audit export --data-dir DIR [--org NAME] [--since RFC3339]\n"
               "                                         print audit records as JSON lines, oldest first\n"
               "  operator audit head --data-dir DIR     print SEQ:HASH of the newest record, to keep elsewhere\n"
               "  operator audit verify ... --anchor SEQ:HASH\n"
               "                                         also prove the trail was not cut back below that record\n"
               "  routes                                 list the REST routes (method, path, action)\n"
               "  version                                print the version\n");
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

static int load_config(struct config *cfg, int argc, char **argv) {
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

/* An operator's action recorded in the trail, like an API request's. */
static void audit_operator(struct store *s, const char *action, const char *resource, int ok) {
    if (audit_record_event(s, "operator", "latchkey operator", "CLI", action, resource, ok) != 0)
        fprintf(stderr, "latchkey operator: warning: could not write the audit record for %s\n", action);
}

/* latchkey operator audit verify|export [--data-dir DIR] [--org NAME] [--since T] */
static int operator_audit(int argc, char **argv) {
    const char *sub = argc > 0 ? argv[0] : "";
    const char *data_dir = getenv("LATCHKEY_DATA_DIR"), *store = getenv("LATCHKEY_STORE");
    const char *org = NULL, *since = NULL, *anchor = NULL;
    int export = strcmp(sub, "export") == 0, head = strcmp(sub, "head") == 0, verify = strcmp(sub, "verify") == 0;
    if (!export && !head && !verify) {
        fprintf(stderr, "latchkey operator audit: give verify, export or head\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char **dst = strcmp(argv[i], "--data-dir") == 0           ? &data_dir
                           : strcmp(argv[i], "--store") == 0            ? &store
                           : export && strcmp(argv[i], "--org") == 0    ? &org
                           : export && strcmp(argv[i], "--since") == 0  ? &since
                           : verify && strcmp(argv[i], "--anchor") == 0 ? &anchor
                                                                        : NULL;
        if (dst == NULL || i + 1 == argc) {
            fprintf(stderr, "latchkey operator audit %s: unknown or incomplete flag \"%s\"\n", sub, argv[i]);
            return 2;
        }
        *dst = argv[++i];
    }
    if ((data_dir == NULL || *data_dir == '\0') && (store == NULL || *store == '\0')) {
        fprintf(stderr, "latchkey operator audit %s: give --data-dir DIR or --store DSN (or LATCHKEY_DATA_DIR)\n", sub);
        return 2;
    }
    struct config cfg;
    config_defaults(&cfg);
    str_copy(cfg.data_dir, sizeof(cfg.data_dir), data_dir != NULL ? data_dir : "");
    str_copy(cfg.store, sizeof(cfg.store), store != NULL ? store : "");
    char dsn[PATH_MAX + 16];
    struct store *s = NULL;
    if (server_open_store(&cfg, 0, dsn, sizeof(dsn), &s) != 0)
        return 1;
    int status = 0;
    if (head) {
        int64_t seq = 0;
        char hash[AUDIT_HASH_HEX];
        if (store_audit_head(s, &seq, hash) != 0) {
            fprintf(stderr, "latchkey operator audit head: cannot read the trail\n");
            status = 1;
        } else {
            /* The anchor format verify --anchor takes. */
            printf("%lld:%s\n", (long long)seq, hash);
        }
        store_close(s);
        return status;
    }
    if (!export) {
        int64_t count = 0, bad = 0, aseq = 0;
        char why[256] = "";
        const char *ahash = NULL;
        if (anchor != NULL) {
            const char *colon = strchr(anchor, ':');
            char *end = NULL;
            aseq = colon ? strtoll(anchor, &end, 10) : 0;
            if (colon == NULL || end != colon || aseq < 1) {
                fprintf(stderr, "latchkey operator audit verify: --anchor: expected SEQ:HASH (from `audit head`)\n");
                store_close(s);
                return 2;
            }
            ahash = colon + 1;
        }
        int r = audit_verify(s, &count, &bad, why, sizeof(why));
        if (r == 0 && ahash != NULL) {
            r = audit_check_anchor(s, aseq, ahash, why, sizeof(why));
            if (r == 1) {
                printf("audit chain BROKEN: %s (%lld record(s) are intact)\n", why, (long long)count);
                store_close(s);
                return 1;
            }
        }
        if (r == 0) {
            printf("audit chain intact: %lld record(s)\n", (long long)count);
        } else if (r == 1) {
            printf("audit chain BROKEN at record %lld: %s (%lld record(s) before it are intact)\n", (long long)bad, why,
                   (long long)count);
            status = 1;
        } else {
            fprintf(stderr, "latchkey operator audit verify: cannot read the trail: %s\n", lk_strerror(r));
            status = 1;
        }
        store_close(s);
        return status;
    }
    struct audit_filter f;
    memset(&f, 0, sizeof(f));
    f.org = org;
    f.limit = 1000;
    if (since != NULL) {
        int64_t t;
        if (rfc3339_parse(since, strlen(since), &t) != 0) {
            fprintf(stderr, "latchkey operator audit export: --since: not an RFC 3339 time\n");
            store_close(s);
            return 2;
        }
        f.since_ms = t * 1000;
    }
    char line[AUDIT_CANONICAL_MAX];
    for (;;) {
        struct audit_list page = {0};
        if (store_audit_list(s, &f, &page) != 0) {
            fprintf(stderr, "latchkey operator audit export: cannot read the trail\n");
            status = 1;
            break;
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
            break;
    }
    store_close(s);
    return status;
}

/*
 * Takes "--as-of TIME" / "--as-of=TIME" out of argv (so config_load never
 * sees it) into *ret_as_of, setting *ret_found. Returns 0 (absent or
 * accepted), or 2 after printing why it is refused.
 */
static int take_as_of(const char *verb, int *argc, char **argv, int64_t *ret_as_of, int *ret_found) {
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
    if (strcmp(verb, "cleanup") != 0 && strcmp(verb, "notices") != 0) {
        fprintf(stderr, "latchkey operator %s: --as-of applies to cleanup and notices only\n", verb);
        return 2;
    }
    const char *env = getenv("LATCHKEY_TEST_CLOCK");
    if (env == NULL || strcmp(env, TEST_CLOCK_VALUE) != 0) {
        fprintf(stderr,
                "latchkey operator %s: --as-of is a test-only clock and is refused unless "
                "LATCHKEY_TEST_CLOCK=" TEST_CLOCK_VALUE " is set\n",
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

static int operator_notices(struct config *cfg, struct store *s, int64_t now) {
    struct notices_cfg nc;
    struct notices_stats st;
    struct lk_error err = {0};
    if (notices_cfg_init(&nc, cfg, &err) != 0) {
        fprintf(stderr, "latchkey operator notices: %s\n", lk_error_message(&err));
        notices_cfg_done(&nc);
        return 2;
    }
    int status = 0;
    if (notices_pass(s, &nc, now, NULL, &st) != 0) {
        fprintf(stderr, "latchkey operator notices: the store refused the notice pass\n");
        status = 1;
    } else {
        printf("notices: %zu scheduled, %zu delivered, %zu to retry, %zu failed, %zu cancelled\n", st.scheduled,
               st.delivered, st.retrying, st.failed, st.cancelled);
    }
    notices_cfg_done(&nc);
    return status;
}

static int operator_cmd(int argc, char **argv) {
    struct config cfg;
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[0];
    int64_t as_of = 0;
    int has_as_of = 0, nflags = argc - 1;
    if (take_as_of(verb, &nflags, argv + 1, &as_of, &has_as_of) != 0)
        return 2;
    argc = nflags + 1;
    int64_t now = has_as_of ? as_of : clock_now();
    if (strcmp(verb, "audit") == 0)
        return operator_audit(argc - 1, argv + 1);
    int r = load_config(&cfg, argc - 1, argv + 1);
    if (r != 0)
        return r == 1 ? 0 : r;
    if (cfg.data_dir[0] == '\0' && cfg.store[0] == '\0') {
        fprintf(stderr, "latchkey operator %s: give --data-dir DIR or --store DSN (or LATCHKEY_DATA_DIR)\n", verb);
        return 2;
    }
    int is_init = strcmp(verb, "init") == 0;
    if (!is_init && strcmp(verb, "root-token") != 0 && strcmp(verb, "migrate") != 0 && strcmp(verb, "cleanup") != 0 &&
        strcmp(verb, "notices") != 0) {
        fprintf(stderr, "latchkey operator: unknown command \"%s\"\n", verb);
        usage(stderr);
        return 2;
    }

    char dsn[PATH_MAX + 16];
    struct store *s = NULL;
    if (server_open_store(&cfg, is_init, dsn, sizeof(dsn), &s) != 0)
        return 1;
    int status = 0;
    if (strcmp(verb, "migrate") == 0) {
        printf("store %s%s is up to date\n", cfg.store[0] ? "given by --store" : "in ",
               cfg.store[0] ? "" : cfg.data_dir);
        goto out;
    }
    if (strcmp(verb, "cleanup") == 0) {
        size_t n = 0;
        if (cleanup_pass(s, now, &n) != 0) {
            fprintf(stderr, "latchkey operator cleanup: the store refused the clean-up\n");
            status = 1;
        } else {
            printf("deleted %zu token(s) expired for more than %d days\n", n, CLEANUP_EXPIRED_AFTER_DAYS);
        }
        char what[64];
        snprintf(what, sizeof(what), "%zu token(s) expired for over %d days", n, CLEANUP_EXPIRED_AFTER_DAYS);
        audit_operator(s, "token.cleanup", what, status == 0);
        goto out;
    }

    if (strcmp(verb, "notices") == 0) {
        status = operator_notices(&cfg, s, now);
        goto out;
    }

    struct token_cache *cache = token_cache_new(64, 1);
    struct svc svc = {.store = s, .cache = cache, .now = clock_now(), .now_us = clock_mono_us()};
    if (is_init) {
        int exists = 0;
        if (tokens_root_exists(&svc, &exists) != 0 || exists) {
            fprintf(stderr,
                    "latchkey operator init: %s is already initialised (use `operator root-token` for a "
                    "new root token)\n",
                    cfg.store[0] ? "the store given by --store" : cfg.data_dir);
            status = 1;
            token_cache_free(cache);
            goto out;
        }
    }
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
    audit_operator(s, is_init ? "operator.init" : "operator.root_token", id, status == 0);
    token_cache_free(cache);
out:
    store_close(s);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "server") == 0) {
        struct config cfg;
        int r = load_config(&cfg, argc - 2, argv + 2);
        if (r != 0)
            return r == 1 ? 0 : r;
        return server_run(&cfg);
    }
    if (strcmp(cmd, "operator") == 0)
        return operator_cmd(argc - 2, argv + 2);
    if (strcmp(cmd, "routes") == 0) {
        api_routes_print(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("latchkey %s\n", LATCHKEY_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "latchkey: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
