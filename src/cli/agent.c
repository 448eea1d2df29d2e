/*
 * agent.c - `latchkey agent`: keeps a service account's identity token in
 * a file for a workload (docs/identity.md, "The agent").
 *
 * It authenticates with a bootstrap credential (a service-account API
 * token read from a 0600 file at every bootstrap), asks the server for an
 * identity token over HTTP (lib/transfer.h's libcurl session), writes it
 * with lib/atomicfile.h, and renews it at 80% of its lifetime with jitter,
 * backing off exponentially after failures (lib/refresh.h). With --exec it
 * runs the workload with the file's path in its environment, forwards
 * SIGTERM/SIGINT/SIGHUP to it and exits with its status.
 *
 * Must never include the store or svc (it is a client: scripts/layers.py),
 * never log or print a token or the bootstrap credential, never write a
 * token that is expired or was not received whole, and never remove or
 * truncate the token file: during an outage the last good token stays.
 *
 * Threads: the main thread fetches and sleeps; one signal thread waits for
 * the blocked signals (sigwaitinfo), forwards them to the workload, reaps
 * it, and wakes the main thread through a pipe.
 */
#include "cli/agent.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jwt.h"
#include "core/rfc3339.h"
#include "lib/atomicfile.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/refresh.h"
#include "lib/transfer.h"

extern char **environ;

#define TOKEN_MAX 16384  /* an identity token, or a bootstrap token */
#define ANSWER_MAX 65536 /* the server's answer */
#define URL_MAX 2048
#define ONCE_ATTEMPTS 5          /* --once: tries before giving up on a transient failure */
#define IDENTITY_MARGIN_MS 10000 /* an identity token this close to expiry is not used to renew */

/* The two names a workload may look for (NAIS_: the seed's). */
static const char *const PATH_VARS[] = {"LATCHKEY_SERVICE_ACCOUNT_TOKEN_PATH", "NAIS_SERVICE_ACCOUNT_TOKEN_PATH"};

struct agent {
    /* flags */
    const char *server, *org, *team, *sa, *workload;
    const char *bootstrap_file, *subject_file, *token_file;
    const char *audience, *ttl, *ca_file;
    double refresh_at;
    int once;
    char **exec_argv; /* NULL without --exec */

    char url[URL_MAX];
    struct transfer_stop stop;
    struct transfer http;

    /* the token in the file */
    char token[TOKEN_MAX];
    int have_token;
    int64_t expires_ms; /* by this machine's clock */
    int64_t issued_ms;  /* when it arrived */

    /* shared with the signal thread */
    pthread_mutex_t lock;
    pid_t child;    /* 0 until the workload runs */
    int child_done; /* the workload has exited; child_status says how */
    int child_status;
    atomic_int stopping; /* a stop signal (no workload) or the workload's exit */
    int wake[2];
    sigset_t sigs;
};

/* Why a fetch failed: worth retrying (no answer, 5xx, 429), or an answer
 * that the same request would get again (refused credential, bad flag). */
enum fetch_fail { FETCH_OK = 0, FETCH_TRANSIENT = 1, FETCH_REFUSED = 2 };

static void usage(FILE *f) {
    fprintf(f, "usage: latchkey agent --server URL --org ORG --team TEAM --service-account SA\n"
               "                      --bootstrap-token-file FILE --token-file PATH [flags] [--exec -- CMD ARGS...]\n"
               "\n"
               "Keeps the service account's identity token in PATH (written atomically, mode 0600),\n"
               "renewed at 80%% of its lifetime with jitter; backs off 1 s doubling to 60 s on errors\n"
               "and keeps the last good token in place meanwhile.\n"
               "\n"
               "  --server URL                  latchkey's URL (http:// or https://)\n"
               "  --org ORG --team TEAM         where the service account lives\n"
               "  --service-account SA          the service account\n"
               "  --bootstrap-token-file FILE   a service-account API token; must be mode 0600 or stricter;\n"
               "                                re-read at each bootstrap\n"
               "  --subject-token-file FILE     a foreign platform's token for RFC 8693 federation:\n"
               "                                not available yet (issue 20 item 7)\n"
               "  --token-file PATH             where the identity token is written\n"
               "  --workload NAME               the token names this bound workload; renewals then use\n"
               "                                the current identity token (bootstrap token as fallback)\n"
               "  --audience AUD                the token's aud (default: the server's URL)\n"
               "  --ttl DURATION                the token's lifetime (default 1h; 5m .. 24h)\n"
               "  --ca-file FILE                PEM CA bundle to verify the server's certificate\n"
               "  --once                        fetch once, write, exit (init containers)\n"
               "  --exec -- CMD ARGS...         run CMD with LATCHKEY_SERVICE_ACCOUNT_TOKEN_PATH and\n"
               "                                NAIS_SERVICE_ACCOUNT_TOKEN_PATH set, forward SIGTERM,\n"
               "                                SIGINT and SIGHUP to it, exit with its status\n");
}

static double random_unit(void) {
    uint32_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint32_t)clock_mono_us() ^ (uint32_t)getpid();
    return (double)v / 4294967296.0;
}

/* Letters, digits and -._ only: names go into the URL's path unescaped. */
static int name_ok(const char *s) {
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            return 0;
    return 1;
}

/* --- flags ------------------------------------------------------------------------- */

/* 0, 1 after --help, 2 after saying what is wrong. */
static int parse_flags(struct agent *a, int argc, char **argv) {
    struct {
        const char *name;
        const char **dst;
    } strs[] = {
        {"--server", &a->server},
        {"--org", &a->org},
        {"--team", &a->team},
        {"--service-account", &a->sa},
        {"--workload", &a->workload},
        {"--bootstrap-token-file", &a->bootstrap_file},
        {"--subject-token-file", &a->subject_file},
        {"--token-file", &a->token_file},
        {"--audience", &a->audience},
        {"--ttl", &a->ttl},
        {"--ca-file", &a->ca_file},
    };
    const char *refresh_at = NULL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--once") == 0) {
            a->once = 1;
            continue;
        }
        if (strcmp(arg, "--exec") == 0) {
            i++;
            if (i < argc && strcmp(argv[i], "--") == 0)
                i++;
            if (i >= argc) {
                fprintf(stderr, "latchkey agent: --exec needs a command (--exec -- CMD ARGS...)\n");
                return 2;
            }
            a->exec_argv = argv + i;
            break;
        }
        const char **dst = NULL;
        const char *val = NULL;
        size_t n = strcspn(arg, "=");
        /* Not in the help: renew at this fraction of the lifetime (tests). */
        if (strncmp(arg, "--refresh-at", n) == 0 && n == strlen("--refresh-at"))
            dst = &refresh_at;
        for (size_t k = 0; dst == NULL && k < sizeof(strs) / sizeof(strs[0]); k++)
            if (strlen(strs[k].name) == n && strncmp(arg, strs[k].name, n) == 0)
                dst = strs[k].dst;
        if (dst == NULL) {
            fprintf(stderr, "latchkey agent: unknown flag \"%s\" (see latchkey agent --help)\n", arg);
            return 2;
        }
        if (arg[n] == '=')
            val = arg + n + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "latchkey agent: %.*s needs a value\n", (int)n, arg);
            return 2;
        }
        *dst = val;
    }
    if (a->subject_file != NULL) {
        fprintf(stderr, "latchkey agent: --subject-token-file (federation, RFC 8693 token exchange) is not "
                        "available yet; use --bootstrap-token-file\n");
        return 2;
    }
    struct {
        const char *name;
        const char *val;
    } need[] = {{"--server", a->server},
                {"--org", a->org},
                {"--team", a->team},
                {"--service-account", a->sa},
                {"--bootstrap-token-file", a->bootstrap_file},
                {"--token-file", a->token_file}};
    for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
        if (need[k].val == NULL || need[k].val[0] == '\0') {
            fprintf(stderr, "latchkey agent: %s is required (see latchkey agent --help)\n", need[k].name);
            return 2;
        }
    if (!transfer_url_ok(a->server, "http://", "https://")) {
        fprintf(stderr, "latchkey agent: --server: expected an http:// or https:// URL with a host\n");
        return 2;
    }
    if (!name_ok(a->org) || !name_ok(a->team) || !name_ok(a->sa) || (a->workload != NULL && !name_ok(a->workload))) {
        fprintf(stderr, "latchkey agent: --org, --team, --service-account and --workload take names "
                        "(letters, digits, '-', '_', '.')\n");
        return 2;
    }
    if (a->once && a->exec_argv != NULL) {
        fprintf(stderr, "latchkey agent: --once and --exec exclude each other\n");
        return 2;
    }
    a->refresh_at = REFRESH_FRACTION_DEFAULT;
    if (refresh_at != NULL) {
        char *end = NULL;
        errno = 0;
        double f = strtod(refresh_at, &end);
        if (errno != 0 || end == refresh_at || *end != '\0' || !(f > 0 && f <= 1)) {
            fprintf(stderr, "latchkey agent: --refresh-at: expected a fraction in (0, 1]\n");
            return 2;
        }
        a->refresh_at = f;
    }
    size_t sl = strlen(a->server);
    while (sl > 0 && a->server[sl - 1] == '/')
        sl--;
    int len = snprintf(a->url, sizeof(a->url), "%.*s/v1/orgs/%s/teams/%s/service-accounts/%s/identity-token", (int)sl,
                       a->server, a->org, a->team, a->sa);
    if (len < 0 || (size_t)len >= sizeof(a->url)) {
        fprintf(stderr, "latchkey agent: --server: too long\n");
        return 2;
    }
    return 0;
}

/* --- the bootstrap credential --------------------------------------------------------- */

/*
 * Reads the bootstrap token (surrounding whitespace dropped) into out,
 * refusing a file that group or others may read, as --unseal-key-file
 * does. Symbolic links are followed (Kubernetes mounts secrets through
 * them); the file reached is what is checked. 0, or -1 with why in err.
 */
static int read_bootstrap(const char *path, char *out, size_t cap, char *err, size_t errcap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "bootstrap token file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errcap, "bootstrap token file %s must be a regular file that only its owner can read (chmod 600)",
                 path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = read(fd, out + got, cap - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errcap, "bootstrap token file %s: %s", path, strerror(errno));
            close(fd);
            explicit_bzero(out, cap);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    out[got] = '\0';
    size_t start = strspn(out, " \t\r\n");
    size_t end = got;
    while (end > start && strchr(" \t\r\n", out[end - 1]) != NULL)
        end--;
    memmove(out, out + start, end - start);
    out[end - start] = '\0';
    for (size_t i = 0; out[i]; i++)
        if ((unsigned char)out[i] <= ' ' || (unsigned char)out[i] >= 0x7f) {
            snprintf(err, errcap, "bootstrap token file %s: holds more than one token, or a control character", path);
            explicit_bzero(out, cap);
            return -1;
        }
    if (out[0] == '\0') {
        snprintf(err, errcap, "bootstrap token file %s is empty", path);
        return -1;
    }
    return 0;
}

/* --- one request ------------------------------------------------------------------- */

/* The seconds between the token's iat and exp claims, or -1. */
static int64_t claimed_lifetime(const char *token) {
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        return -1;
    uint8_t payload[TOKEN_MAX];
    size_t n = 0;
    if (jwt_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload), &n) != 0)
        return -1;
    json_t *claims = json_loadb((const char *)payload, n, 0, NULL);
    json_t *iat = json_object_get(claims, "iat"), *exp = json_object_get(claims, "exp");
    int64_t life = json_is_integer(iat) && json_is_integer(exp)
                       ? (int64_t)json_integer_value(exp) - (int64_t)json_integer_value(iat)
                       : -1;
    json_decref(claims);
    return life;
}

/*
 * Asks for an identity token with credential cred. On success the token is
 * in a->token with its times; otherwise a->token is unchanged and err says
 * why (the server's own message for a refusal; never a token).
 */
static enum fetch_fail fetch(struct agent *a, const char *cred, char *err, size_t errcap) {
    char buf[ANSWER_MAX];
    struct transfer_body ans = {buf, sizeof(buf), 0, 0};
    json_t *body = json_object();
    if (a->audience != NULL)
        json_object_set_new(body, "audience", json_string(a->audience));
    if (a->ttl != NULL)
        json_object_set_new(body, "ttl", json_string(a->ttl));
    if (a->workload != NULL)
        json_object_set_new(body, "workload", json_string(a->workload));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    char auth[TOKEN_MAX + 32];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cred);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    explicit_bzero(auth, sizeof(auth));
    struct curl_slist *h2 = hdrs != NULL ? curl_slist_append(hdrs, "Content-Type: application/json") : NULL;
    CURL *c = text != NULL && h2 != NULL ? transfer_begin(&a->http) : NULL;
    if (c == NULL) {
        curl_slist_free_all(hdrs);
        free(text);
        snprintf(err, errcap, "out of memory");
        return FETCH_TRANSIENT;
    }
    hdrs = h2;
    curl_easy_setopt(c, CURLOPT_URL, a->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, transfer_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs); /* the list held the credential: libcurl copies nothing back */
    free(text);

    enum fetch_fail out = FETCH_OK;
    json_t *doc = NULL;
    if (rc != CURLE_OK) {
        if (ans.too_big)
            snprintf(err, errcap, "the server's answer is larger than %d bytes", ANSWER_MAX);
        else
            transfer_error(err, errcap, "could not reach the server", c, rc);
        transfer_failed(&a->http, rc);
        out = FETCH_TRANSIENT;
        goto done;
    }
    doc = json_loadb(buf, ans.len, 0, NULL);
    if (status != 200) {
        json_t *msg = json_array_get(json_object_get(doc, "errors"), 0);
        const char *m = json_is_string(msg) ? json_string_value(msg) : "no error message";
        snprintf(err, errcap, "the server answered %ld: %.300s", status, m);
        transfer_failed(&a->http, CURLE_OK);
        out = status == 408 || status == 429 || status >= 500 ? FETCH_TRANSIENT : FETCH_REFUSED;
        goto done;
    }
    const char *tok = json_string_value(json_object_get(doc, "token"));
    const char *when = json_string_value(json_object_get(doc, "expires_at"));
    int64_t exp_s = 0, life_s = tok != NULL ? claimed_lifetime(tok) : -1;
    if (tok == NULL || when == NULL || strlen(tok) >= sizeof(a->token) || life_s <= 0 ||
        rfc3339_parse(when, strlen(when), &exp_s) != 0) {
        snprintf(err, errcap, "the server's answer is not an identity token");
        out = FETCH_TRANSIENT;
        goto done;
    }
    int64_t now = clock_now_ms();
    if (exp_s * 1000 <= now) {
        snprintf(err, errcap,
                 "the token the server issued has already expired by this machine's clock (check the "
                 "clocks); not written");
        out = FETCH_TRANSIENT;
        goto done;
    }
    /* Scheduled by its lifetime from now, so a clock difference with the
     * server moves nothing; never past what expires_at says. */
    int64_t exp_ms = now + life_s * 1000;
    if (exp_ms > exp_s * 1000)
        exp_ms = exp_s * 1000;
    explicit_bzero(a->token, sizeof(a->token));
    memcpy(a->token, tok, strlen(tok) + 1);
    a->issued_ms = now;
    a->expires_ms = exp_ms;
done:
    json_decref(doc);
    explicit_bzero(buf, sizeof(buf));
    return out;
}

/* --- one renewal ------------------------------------------------------------------ */

/*
 * Gets a new token: a workload's agent renews with its current identity
 * token while that is usable (the server's rule for workloads), falling back
 * to the bootstrap token when it is refused; otherwise with the bootstrap
 * token, read afresh. via says which worked. 0 (FETCH_OK) or why not.
 */
static enum fetch_fail renew(struct agent *a, const char **via, char *err, size_t errcap) {
    enum fetch_fail r;
    if (a->workload != NULL && a->audience == NULL && a->have_token &&
        a->expires_ms - clock_now_ms() > IDENTITY_MARGIN_MS) {
        char cur[TOKEN_MAX];
        memcpy(cur, a->token, sizeof(cur));
        r = fetch(a, cur, err, errcap);
        explicit_bzero(cur, sizeof(cur));
        *via = "identity token";
        if (r != FETCH_REFUSED)
            return r;
        lk_log(LOG_WARN, "agent: renewing with the identity token failed (%s); trying the bootstrap token", err);
    }
    char boot[TOKEN_MAX];
    if (read_bootstrap(a->bootstrap_file, boot, sizeof(boot), err, errcap) != 0)
        return FETCH_REFUSED;
    r = fetch(a, boot, err, errcap);
    explicit_bzero(boot, sizeof(boot));
    *via = "bootstrap token";
    return r;
}

/* --- signals and the workload ------------------------------------------------------- */

static void wake(struct agent *a) {
    char b = 1;
    ssize_t w = write(a->wake[1], &b, 1);
    (void)w; /* a full pipe already wakes the main thread */
}

static void *signal_thread(void *arg) {
    struct agent *a = arg;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&a->sigs, &si);
        if (sig < 0)
            continue;
        pthread_mutex_lock(&a->lock);
        if (sig == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == a->child && !a->child_done) {
                    a->child_done = 1;
                    a->child_status = st;
                }
            int done = a->child_done;
            pthread_mutex_unlock(&a->lock);
            if (done) {
                atomic_store(&a->stopping, 1);
                transfer_stop_request(&a->stop);
                wake(a);
            }
            continue;
        }
        pid_t child = a->child_done ? 0 : a->child;
        pthread_mutex_unlock(&a->lock);
        if (child > 0) {
            /* The workload decides when to stop; we stop when it has. */
            kill(child, sig);
            continue;
        }
        atomic_store(&a->stopping, 1);
        transfer_stop_request(&a->stop);
        wake(a);
    }
    return NULL;
}

/* Starts the workload. 0, or -1 after logging why. */
static int spawn_workload(struct agent *a, const sigset_t *old_mask) {
    posix_spawnattr_t attr;
    sigset_t dflt;
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGHUP);
    sigaddset(&dflt, SIGCHLD);
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, old_mask);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pthread_mutex_lock(&a->lock);
    pid_t pid = 0;
    int r = posix_spawnp(&pid, a->exec_argv[0], NULL, &attr, a->exec_argv, environ);
    if (r == 0)
        a->child = pid;
    pthread_mutex_unlock(&a->lock);
    posix_spawnattr_destroy(&attr);
    if (r != 0) {
        lk_log(LOG_ERROR, "agent: could not run %s: %s", a->exec_argv[0], strerror(r));
        return -1;
    }
    lk_log(LOG_INFO, "agent: started %s (pid %d)", a->exec_argv[0], (int)pid);
    return 0;
}

/* Sleeps up to ms or until the signal thread wakes us. */
static void pause_ms(struct agent *a, int64_t ms) {
    int64_t end = clock_mono_us() + ms * 1000;
    while (!atomic_load(&a->stopping)) {
        int64_t left = (end - clock_mono_us()) / 1000;
        if (left <= 0)
            return;
        struct pollfd p = {a->wake[0], POLLIN, 0};
        if (poll(&p, 1, left > 60000 ? 60000 : (int)left) > 0) {
            char drain[16];
            ssize_t n = read(a->wake[0], drain, sizeof(drain));
            (void)n;
        }
    }
}

/* --- the loop ------------------------------------------------------------------- */

static void when_str(int64_t ms, char out[RFC3339_BUFSZ]) {
    rfc3339_format(ms / 1000, out);
}

static int run(struct agent *a, const sigset_t *old_mask) {
    unsigned failures = 0;
    char err[512];
    for (;;) {
        if (atomic_load(&a->stopping))
            return 0;
        const char *via = "bootstrap token";
        enum fetch_fail r = renew(a, &via, err, sizeof(err));
        if (r == FETCH_OK && atomicfile_write(a->token_file, a->token, strlen(a->token), 0600, err, sizeof(err)) != 0) {
            lk_log(LOG_ERROR, "agent: could not write %s: %s", a->token_file, err);
            r = FETCH_TRANSIENT;
            a->have_token = a->have_token && a->expires_ms > clock_now_ms();
        } else if (r == FETCH_OK) {
            a->have_token = 1;
            failures = 0;
            char when[RFC3339_BUFSZ];
            when_str(a->expires_ms, when);
            if (a->once) {
                lk_log(LOG_INFO, "agent: wrote the identity token to %s (via the %s), expires %s", a->token_file, via,
                       when);
                return 0;
            }
            int64_t next = refresh_delay_ms(a->issued_ms, a->expires_ms, clock_now_ms(), a->refresh_at, random_unit());
            lk_log(LOG_INFO, "agent: wrote the identity token to %s (via the %s), expires %s, next renewal in %lld ms",
                   a->token_file, via, when, (long long)next);
            if (a->exec_argv != NULL && a->child == 0 && spawn_workload(a, old_mask) != 0)
                return 127;
            pause_ms(a, next);
            continue;
        }
        failures++;
        int64_t now = clock_now_ms();
        int valid = a->have_token && a->expires_ms > now;
        if (!a->have_token && (r == FETCH_REFUSED || (a->once && failures >= ONCE_ATTEMPTS))) {
            lk_log(LOG_ERROR, "agent: no identity token: %s", err);
            return 1;
        }
        int64_t wait = refresh_backoff_ms(failures, random_unit());
        if (valid) {
            lk_log(LOG_WARN,
                   "agent: renewal failed (%s); keeping the current token (valid %lld s more), retry %u in %lld ms",
                   err, (long long)((a->expires_ms - now) / 1000), failures, (long long)wait);
        } else if (a->have_token) {
            char when[RFC3339_BUFSZ];
            when_str(a->expires_ms, when);
            lk_log(LOG_ERROR, "agent: renewal failed (%s); the token in %s expired at %s; retry %u in %lld ms", err,
                   a->token_file, when, failures, (long long)wait);
        } else {
            lk_log(LOG_WARN, "agent: no identity token yet (%s); retry %u in %lld ms", err, failures, (long long)wait);
        }
        pause_ms(a, wait);
    }
}

int agent_main(int argc, char **argv) {
    struct agent a;
    memset(&a, 0, sizeof(a));
    int r = parse_flags(&a, argc, argv);
    if (r != 0)
        return r == 1 ? 0 : r;
    if (a.exec_argv != NULL)
        for (size_t i = 0; i < sizeof(PATH_VARS) / sizeof(PATH_VARS[0]); i++)
            if (setenv(PATH_VARS[i], a.token_file, 1) != 0) {
                fprintf(stderr, "latchkey agent: could not set %s\n", PATH_VARS[i]);
                return 1;
            }
    /* Startup checks that need no server: a bootstrap file others can read
     * is refused before anything else happens. */
    char boot[TOKEN_MAX], err[512];
    if (read_bootstrap(a.bootstrap_file, boot, sizeof(boot), err, sizeof(err)) != 0) {
        lk_log(LOG_ERROR, "agent: %s", err);
        return 1;
    }
    explicit_bzero(boot, sizeof(boot));

    /* Every thread (ours, libcurl's resolver) starts with these blocked:
     * only the signal thread takes them. */
    sigemptyset(&a.sigs);
    sigaddset(&a.sigs, SIGTERM);
    sigaddset(&a.sigs, SIGINT);
    sigaddset(&a.sigs, SIGHUP);
    sigaddset(&a.sigs, SIGCHLD);
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &a.sigs, &old_mask);
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(a.wake, O_CLOEXEC | O_NONBLOCK) != 0 || transfer_global_init() != 0) {
        lk_log(LOG_ERROR, "agent: could not start: %s", strerror(errno));
        return 1;
    }
    pthread_mutex_init(&a.lock, NULL);
    atomic_init(&a.stopping, 0);
    transfer_stop_init(&a.stop);
    struct transfer_opts opts = {a.ca_file, 10, 30};
    transfer_init(&a.http, &opts, &a.stop);
    pthread_t th;
    if (pthread_create(&th, NULL, signal_thread, &a) != 0) {
        lk_log(LOG_ERROR, "agent: could not start the signal thread");
        return 1;
    }
    pthread_detach(th);

    int status = run(&a, &old_mask);
    transfer_done(&a.http);
    explicit_bzero(a.token, sizeof(a.token));

    /* With a workload: its status, once it has exited (a stop signal was
     * forwarded to it; we only stopped renewing once it ended). */
    pthread_mutex_lock(&a.lock);
    pid_t child = a.child;
    pthread_mutex_unlock(&a.lock);
    if (child > 0) {
        for (;;) {
            pthread_mutex_lock(&a.lock);
            int done = a.child_done, st = a.child_status;
            pthread_mutex_unlock(&a.lock);
            if (done) {
                status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
                lk_log(LOG_INFO, "agent: %s exited with status %d", a.exec_argv[0], status);
                break;
            }
            struct pollfd p = {a.wake[0], POLLIN, 0};
            if (poll(&p, 1, 1000) > 0) {
                char drain[16];
                ssize_t n = read(a.wake[0], drain, sizeof(drain));
                (void)n;
            }
        }
    }
    return status;
}
