/*
 * server.c - `latchkey server`: start-up, the signal loop and an orderly
 * shutdown (stop accepting, drain, flush last-use times, close the store).
 *
 * Prints the root token only in dev mode and only when it was just created;
 * never writes it to the log.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/assets.h"
#include "core/errors.h"
#include "jobs/cleanup.h"
#include "svc/federation.h"
#include "svc/oidc.h"
#include "jobs/notices.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "net/http.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/ratelimiter.h"
#include "svc/seal.h"
#include "svc/svc.h"
#include "svc/token_cache.h"
#include "svc/tokens.h"

#define CACHE_MAX_ENTRIES 200000
#define RATELIMIT_MAX_KEYS 100000

/* The DSN of the store under cfg->data_dir, creating the directory 0700 if
 * create_dir. */
static int data_dir_dsn(const struct config *cfg, int create_dir, char *dsn, size_t dsncap) {
    struct stat st;
    if (stat(cfg->data_dir, &st) != 0) {
        if (!create_dir) {
            lk_log(LOG_ERROR, "data dir %s does not exist (run `latchkey operator init --data-dir %s`)", cfg->data_dir,
                   cfg->data_dir);
            return LK_EINVAL;
        }
        if (mkdir(cfg->data_dir, 0700) != 0) {
            lk_log(LOG_ERROR, "cannot create data dir %s: %s", cfg->data_dir, strerror(errno));
            return LK_EINVAL;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        lk_log(LOG_ERROR, "data dir %s is not a directory", cfg->data_dir);
        return LK_EINVAL;
    }
    int n = snprintf(dsn, dsncap, "sqlite:%s/latchkey.db", cfg->data_dir);
    return n < 0 || (size_t)n >= dsncap ? LK_EINVAL : 0;
}

/* Why store_open refused a --store DSN, without echoing it (a DSN may one
 * day carry a password): its scheme names no backend of this build, or the
 * backend refused the rest. */
static void log_store_refused(const char *dsn) {
    size_t n = strspn(dsn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (n == 0 || n > 32 || dsn[n] != ':' || dsn[n + 1] == '\0')
        lk_log(LOG_ERROR, "store: expected SCHEME:LOCATION, e.g. sqlite:/var/lib/latchkey/latchkey.db");
    else
        lk_log(LOG_ERROR,
               "store: this build has no \"%.*s\" store, or that store refuses the location given "
               "(e.g. sqlite:/var/lib/latchkey/latchkey.db)",
               (int)n, dsn);
}

int server_open_store(const struct config *cfg, int create_dir, char *dsn, size_t dsncap, struct store **ret) {
    /* --store names the store outright: no data dir is made or needed. */
    int given = cfg->store[0] != '\0';
    const char *where = given ? "given by --store" : cfg->data_dir, *in = given ? "" : "in ";
    int r = 0;
    if (!given)
        r = data_dir_dsn(cfg, create_dir, dsn, dsncap);
    else if (strlen(cfg->store) < dsncap)
        str_copy(dsn, dsncap, cfg->store);
    else
        r = LK_EINVAL;
    if (r != 0)
        return r;
    struct store *s = NULL;
    r = store_open(dsn, &s);
    if (r != 0) {
        if (r == LK_EINVAL && given)
            log_store_refused(dsn);
        lk_log(LOG_ERROR, "cannot open the store %s%s: %s", in, where, lk_strerror(r));
        return r;
    }
    int version = 0;
    r = store_migrate(s, &version);
    if (r != 0) {
        lk_log(LOG_ERROR, "cannot migrate the store %s%s: %s", in, where, lk_strerror(r));
        store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* This server's store as operator commands take it: "--data-dir DIR", or
 * "--store DSN" (a placeholder: a DSN may carry a password). */
static const char *store_flag(const struct config *cfg, char *buf, size_t cap) {
    if (cfg->store[0] != '\0')
        return "--store DSN";
    snprintf(buf, cap, "--data-dir %s", cfg->data_dir);
    return buf;
}

static int flush_fn(void *arg, const struct token_touch *t, size_t n) {
    return store_token_touch(arg, t, n);
}

static void *flusher_main(void *arg) {
    struct server *srv = arg;
    pthread_setname_np(pthread_self(), "lk-flusher");
    struct store *s = NULL;
    if (store_open(srv->store_dsn, &s) != 0) {
        lk_log(LOG_ERROR, "last-use flusher: cannot open the store; last_used_at will not be recorded");
        return NULL;
    }
    int64_t next_cleanup = 0;
    /* Identity-token keys are made here, in this connection's own
     * transactions, never in a request's (svc/oidc.h): the first one right
     * after an unseal (the unseal route wakes this thread), the next ones on
     * schedule. Checked on every pass: a list of a few rows. */
    if (oidc_tick(srv->oidc, s, clock_now()) != 0)
        lk_log(LOG_WARN, "identity-token key rotation failed; will retry");
    pthread_mutex_lock(&srv->flusher_lock);
    while (!atomic_load(&srv->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += srv->cfg.touch_interval_s;
        pthread_cond_timedwait(&srv->flusher_cond, &srv->flusher_lock, &ts);
        pthread_mutex_unlock(&srv->flusher_lock);
        if (token_cache_flush_touches(srv->cache, flush_fn, s) != 0)
            lk_log(LOG_WARN, "could not record last-use times; will retry");
        if (oidc_tick(srv->oidc, s, clock_now()) != 0)
            lk_log(LOG_WARN, "identity-token key rotation failed; will retry");
        /* The 90-day clean-up rides on this thread, once an hour. */
        int64_t now = clock_now();
        if (now >= next_cleanup) {
            size_t n = 0;
            if (cleanup_pass(s, now, &n) != 0)
                lk_log(LOG_WARN, "token clean-up failed; will retry");
            else if (n > 0) {
                lk_log(LOG_INFO, "deleted %zu token(s) expired for more than %d days", n, CLEANUP_EXPIRED_AFTER_DAYS);
                char what[64];
                snprintf(what, sizeof(what), "%zu token(s) expired for over %d days", n, CLEANUP_EXPIRED_AFTER_DAYS);
                /* Through the writer, like every record of this process, so
                 * the file sink gets it too. */
                struct audit_rec rec;
                uint64_t ticket;
                audit_event_fill(&rec, "system", "cleanup", "JOB", "token.cleanup", what, 1);
                if (audit_log_enqueue(srv->audit, -1, &rec, 0, &ticket) != 0)
                    lk_log(LOG_ERROR, "could not record the token clean-up in the audit trail");
            }
            next_cleanup = now + CLEANUP_INTERVAL_SECONDS;
        }
        pthread_mutex_lock(&srv->flusher_lock);
    }
    pthread_mutex_unlock(&srv->flusher_lock);
    /* The workers have stopped by now: this flush is the last word. */
    if (token_cache_flush_touches(srv->cache, flush_fn, s) != 0)
        lk_log(LOG_WARN, "could not record the final last-use times");
    store_close(s);
    return NULL;
}

/* The oidc waker: the flusher runs oidc_tick() now rather than at its next
 * pass. */
static void wake_flusher(void *arg) {
    struct server *srv = arg;
    pthread_mutex_lock(&srv->flusher_lock);
    pthread_cond_signal(&srv->flusher_cond);
    pthread_mutex_unlock(&srv->flusher_lock);
}

static int dev_bootstrap(struct server *srv, struct store *s) {
    struct svc svc = {.store = s, .cache = srv->cache, .now = clock_now(), .now_us = clock_mono_us()};
    int exists = 0;
    int r = tokens_root_exists(&svc, &exists);
    if (r != 0)
        return r;
    if (exists)
        return 0;
    char token[TOKFMT_TOKEN_BUFSZ], id[TOKFMT_PUBID_BUFSZ];
    struct lk_error err = {0};
    r = tokens_issue_root(&svc, token, id, NULL, &err);
    if (r != 0) {
        lk_log(LOG_ERROR, "cannot create the root token: %s", lk_error_message(&err));
        return r;
    }
    char flag[PATH_MAX + 16];
    printf("Root token: %s\n", token);
    printf("(shown once: it is stored only as a hash. `latchkey operator root-token %s` issues a new "
           "one and revokes this one.)\n",
           store_flag(&srv->cfg, flag, sizeof(flag)));
    fflush(stdout);
    explicit_bzero(token, sizeof(token));
    lk_log(LOG_INFO, "created root token %s", id);
    return 0;
}

int server_run(struct config *cfg) {
    struct server *srv = calloc(1, sizeof(*srv));
    struct store *boot = NULL;
    int status = 1;
    sigset_t sigs;

    if (srv == NULL)
        return 1;
    srv->cfg = *cfg;
    cfg = &srv->cfg;
    pthread_mutex_init(&srv->flusher_lock, NULL);
    pthread_cond_init(&srv->flusher_cond, NULL);

    if (cfg->data_dir[0] == '\0' && cfg->store[0] == '\0') {
        if (!cfg->dev) {
            lk_log(LOG_ERROR, "no data dir: give --data-dir DIR (or LATCHKEY_DATA_DIR) or --store DSN, or use --dev");
            goto out;
        }
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./.latchkey");
    }
    if (server_open_store(cfg, cfg->dev, srv->store_dsn, sizeof(srv->store_dsn), &boot) != 0)
        goto out;

    srv->cache = token_cache_new(CACHE_MAX_ENTRIES, (int64_t)cfg->cache_ttl_s * 1000000);
    if (cfg->read_cache_ms > 0) {
        srv->read_cache = store_cache_new((size_t)cfg->read_cache_mb << 20, (int64_t)cfg->read_cache_ms * 1000);
        if (srv->read_cache == NULL)
            goto out;
    }
    srv->rl_token = ratelimiter_new(&cfg->rl_token, RATELIMIT_MAX_KEYS);
    srv->rl_ip = ratelimiter_new(&cfg->rl_ip, RATELIMIT_MAX_KEYS);
    srv->rl_login_account = ratelimiter_new(&cfg->rl_login_account, RATELIMIT_MAX_KEYS);
    srv->rl_login_ip = ratelimiter_new(&cfg->rl_login_ip, RATELIMIT_MAX_KEYS);
    srv->rl_signup = ratelimiter_new(&cfg->rl_signup, RATELIMIT_MAX_KEYS);
    srv->assets = api_asset_cache_new();
    if (srv->cache == NULL || srv->rl_token == NULL || srv->rl_ip == NULL || srv->rl_login_account == NULL ||
        srv->rl_login_ip == NULL || srv->rl_signup == NULL || srv->assets == NULL)
        goto out;
    for (size_t i = 0; i < cfg->trusted_proxies.count; i++)
        if (cfg->trusted_proxies.items[i].prefix == 0)
            lk_log(LOG_WARN, "--trusted-proxy includes a /0: every peer is trusted, so any client can choose the "
                             "address it is rate-limited and audited under");

    if (cfg->dev) {
        if (dev_bootstrap(srv, boot) != 0)
            goto out;
    } else {
        struct svc svc = {.store = boot, .cache = srv->cache};
        int exists = 1;
        char flag[PATH_MAX + 16];
        if (tokens_root_exists(&svc, &exists) == 0 && !exists)
            lk_log(LOG_WARN, "no root token exists: create one with `latchkey operator root-token %s`",
                   store_flag(cfg, flag, sizeof(flag)));
    }
    if (server_seal_start(cfg, boot, &srv->seal) != 0)
        goto out;
    {
        _Static_assert(CONFIG_IDENTITY_MIN_TTL_DEFAULT == OIDC_TTL_MIN,
                       "the default --identity-min-ttl is the production minimum");
        struct oidc_config oc = {.rotation_s = cfg->oidc_rotation_s, .ttl_min_s = cfg->identity_min_ttl_s};
        snprintf(oc.trust_domain, sizeof(oc.trust_domain), "%s", cfg->trust_domain);
        if (oidc_new(&oc, srv->seal, &srv->oidc) != 0)
            goto out;
        oidc_set_waker(srv->oidc, wake_flusher, srv);
        struct federation_config fc = {.allow_http_loopback = cfg->dev, .ca_file = cfg->federation_ca_file};
        if (federation_new(&fc, &srv->fed) != 0)
            goto out;
    }
    store_close(boot);
    boot = NULL;
    if (audit_log_new(srv->store_dsn, cfg->audit_file, &srv->audit) != 0) {
        lk_log(LOG_ERROR, "cannot open the audit trail; refusing to serve without one");
        goto out;
    }
    /* Before any worker records a failed credential: its HMAC key is the
     * seal's, and checkpoints at each anchor are signed with the seal's
     * checkpoint key, both while unsealed. */
    audit_log_set_seal(srv->audit, srv->seal);

    /* Expiry notices: settings and secrets are checked before listening. */
    srv->notices_cfg = calloc(1, sizeof(*srv->notices_cfg));
    if (srv->notices_cfg == NULL)
        goto out;
    {
        struct lk_error nerr = {0};
        if (notices_cfg_init(srv->notices_cfg, cfg, &nerr) != 0) {
            lk_log(LOG_ERROR, "%s", lk_error_message(&nerr));
            goto out;
        }
    }

    /* Workers inherit this mask; only this thread takes the signals. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (server_workers_start(srv) != 0)
        goto out;
    audit_log_set_anchor_interval(srv->audit, cfg->audit_anchor_interval_s);
    audit_log_set_cpu(srv->audit, cfg->audit_cpu);
    if (audit_log_start(srv->audit) != 0)
        goto out;
    if (pthread_create(&srv->flusher, NULL, flusher_main, srv) != 0)
        goto out;
    if (notifier_start(srv->store_dsn, srv->notices_cfg, cfg->notice_interval_s, &srv->notifier) != 0)
        lk_log(LOG_ERROR, "cannot start the expiry-notice thread; no notices will be sent");
    else /* Channels only: a webhook URL may carry a credential in its path. */
        lk_log(LOG_INFO, "expiry notices %s %s days before expiry, every %u s%s%s",
               srv->notices_cfg->email || srv->notices_cfg->webhook ? "at" : "(no channel configured) at",
               cfg->notice_days, cfg->notice_interval_s, srv->notices_cfg->email ? "; e-mail" : "",
               srv->notices_cfg->webhook ? "; webhook" : "");

    printf("latchkey %s listening on %s://%s%s%s:%u (%d threads, %s%s)\n", LATCHKEY_VERSION,
           cfg->tls_cert[0] != '\0' ? "https" : "http", strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
           strchr(cfg->listen_host, ':') ? "]" : "", http_port(srv->http), srv->nworkers,
           cfg->store[0] != '\0' ? "store given by --store" : "data dir ", cfg->store[0] != '\0' ? "" : cfg->data_dir);
    fflush(stdout);
    lk_log(LOG_INFO, "listening on %s:%u", cfg->listen_host, http_port(srv->http));

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
        /* SIGHUP: log rotation moved the audit file (start a new one), or
         * a notice secret's file was rotated. */
        audit_log_reopen(srv->audit);
        notifier_reload(srv->notifier);
        lk_log(LOG_INFO, "SIGHUP: reopening the audit file and re-reading notice secrets");
    }
    lk_log(LOG_INFO, "shutting down: no new connections; finishing requests in flight");
    atomic_store(&srv->stopping, 1);
    /* Ends the key-set fetch under way: the requests waiting on fetches run
     * again during the drain and answer 503 (api/rerun.c). */
    federation_stop(srv->fed);
    server_workers_stop(srv);
    /* The workers are drained: the flusher's last flush is the last word,
     * and it hands the writer its records (the clean-up's), so it stops
     * before the writer does. */
    pthread_mutex_lock(&srv->flusher_lock);
    pthread_cond_signal(&srv->flusher_cond);
    pthread_mutex_unlock(&srv->flusher_lock);
    pthread_join(srv->flusher, NULL);
    /* Writes what is queued and answers the workers' last held replies. */
    audit_log_free(srv->audit);
    srv->audit = NULL;
    server_workers_free(srv);
    /* A delivery in flight is aborted and stays pending for the next start. */
    notifier_stop(srv->notifier);
    srv->notifier = NULL;
    lk_log(LOG_INFO, "stopped cleanly");
    status = 0;
out:
    if (srv->workers != NULL) {
        /* Start-up failed after some workers started: stop them in order. */
        federation_stop(srv->fed);
        server_workers_stop(srv);
        audit_log_free(srv->audit);
        srv->audit = NULL;
        server_workers_free(srv);
    }
    store_close(boot);
    audit_log_free(srv->audit);
    token_cache_free(srv->cache);
    store_cache_free(srv->read_cache);
    oidc_free(srv->oidc);
    federation_free(srv->fed);
    seal_free(srv->seal);
    ratelimiter_free(srv->rl_token);
    ratelimiter_free(srv->rl_ip);
    ratelimiter_free(srv->rl_login_account);
    ratelimiter_free(srv->rl_login_ip);
    ratelimiter_free(srv->rl_signup);
    api_asset_cache_free(srv->assets);
    pthread_mutex_destroy(&srv->flusher_lock);
    pthread_cond_destroy(&srv->flusher_cond);
    notices_cfg_done(srv->notices_cfg);
    free(srv->notices_cfg);
    free(srv);
    return status;
}
