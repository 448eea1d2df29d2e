/*
 * agent.c - `latchkey agent`: keeps a service account's identity token in
 * a file for a workload (docs/identity.md, "The agent").
 *
 * It authenticates with a bootstrap credential read from a 0600 file at
 * every bootstrap: a service-account API token (--bootstrap-token-file),
 * with which it asks the account's identity-token route, or a foreign
 * platform's token (--subject-token-file), which it exchanges at
 * POST /v1/oauth/token (RFC 8693, docs/federation.md). It talks HTTP
 * through lib/transfer.h's libcurl session, writes the token with
 * lib/atomicfile.h, and renews it at 80% of its lifetime with jitter,
 * backing off exponentially after failures (lib/refresh.h). With --exec it
 * runs the workload with the file's path in its environment, forwards
 * SIGTERM/SIGINT/SIGHUP to it and exits with its status.
 *
 * Must never include the store or svc (it is a client: scripts/layers.py),
 * never log or print a token or a bootstrap credential, never write a
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

#define TOKEN_MAX 16384  /* an identity token, or a bootstrap credential */
#define ANSWER_MAX 65536 /* the server's answer */
#define URL_MAX 2048
#define FORM_MAX (3 * TOKEN_MAX + 1024) /* the exchange's form: the subject token percent-encoded, and the rest */
#define ONCE_ATTEMPTS 5                 /* --once: tries before giving up on a transient failure */
#define IDENTITY_MARGIN_MS 10000        /* an identity token this close to expiry is not used to renew */

#define GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define TOKEN_TYPE_JWT "urn:ietf:params:oauth:token-type:jwt"

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

    const char *cred_file; /* the bootstrap or the subject token file */
    const char *cred_what; /* "bootstrap token file" or "subject token file" */
    char url[URL_MAX];     /* the identity-token route, or the token exchange */
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
               "       latchkey agent --server URL --org ORG --subject-token-file FILE --token-file PATH\n"
               "                      [flags] [--exec -- CMD ARGS...]\n"
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
               "  --subject-token-file FILE     instead: a foreign platform's token (a JWT, e.g. a Kubernetes\n"
               "                                or CI identity token; mode 0600 or stricter), re-read at each\n"
               "                                renewal and exchanged at /v1/oauth/token (RFC 8693) under the\n"
               "                                trusted issuers of --org, whose rules pick the account.\n"
               "                                --team and --service-account are then optional: given, the\n"
               "                                token must be that account's or is not written\n"
               "  --token-file PATH             where the identity token is written\n"
               "  --workload NAME               the token names this bound workload; renewals then use\n"
               "                                the current identity token (bootstrap token as fallback);\n"
               "                                not with --subject-token-file\n"
               "  --audience AUD                the token's aud (default: the server's URL)\n"
               "  --ttl DURATION                the token's lifetime (default 1h; 5m .. 24h); not with\n"
               "                                --subject-token-file (exchanged tokens live 1 hour)\n"
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
    if (a->bootstrap_file != NULL && a->subject_file != NULL) {
        fprintf(stderr, "latchkey agent: give one of --bootstrap-token-file (a service-account API token) and "
                        "--subject-token-file (a foreign token to exchange) (see latchkey agent --help)\n");
        return 2;
    }
    int federated = a->subject_file != NULL;
    a->cred_file = federated ? a->subject_file : a->bootstrap_file;
    a->cred_what = federated ? "subject token file" : "bootstrap token file";
    /* With --subject-token-file the trusted issuer's rules pick the account. */
    struct {
        const char *name;
        const char *val;
        int needed;
    } need[] = {{"--server", a->server, 1},
                {"--org", a->org, 1},
                {"--team", a->team, !federated},
                {"--service-account", a->sa, !federated},
                {"--bootstrap-token-file (or --subject-token-file)", a->cred_file, 1},
                {"--token-file", a->token_file, 1}};
    for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
        if (need[k].needed && (need[k].val == NULL || need[k].val[0] == '\0')) {
            fprintf(stderr, "latchkey agent: %s is required (see latchkey agent --help)\n", need[k].name);
            return 2;
        }
    if (federated && (a->workload != NULL || a->ttl != NULL)) {
        fprintf(stderr,
                "latchkey agent: %s cannot be used with --subject-token-file: the token exchange issues "
                "the service account's own tokens, for 1 hour\n",
                a->workload != NULL ? "--workload" : "--ttl");
        return 2;
    }
    if (!transfer_url_ok(a->server, "http://", "https://")) {
        fprintf(stderr, "latchkey agent: --server: expected an http:// or https:// URL with a host\n");
        return 2;
    }
    if (!name_ok(a->org) || (a->team != NULL && !name_ok(a->team)) || (a->sa != NULL && !name_ok(a->sa)) ||
        (a->workload != NULL && !name_ok(a->workload))) {
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
    int len = federated
                  ? snprintf(a->url, sizeof(a->url), "%.*s/v1/oauth/token", (int)sl, a->server)
                  : snprintf(a->url, sizeof(a->url), "%.*s/v1/orgs/%s/teams/%s/service-accounts/%s/identity-token",
                             (int)sl, a->server, a->org, a->team, a->sa);
    if (len < 0 || (size_t)len >= sizeof(a->url)) {
        fprintf(stderr, "latchkey agent: --server: too long\n");
        return 2;
    }
    return 0;
}

/* --- the bootstrap credential --------------------------------------------------------- */

/*
 * Reads the bootstrap credential (the bootstrap or subject token; what
 * names which in messages) without surrounding whitespace into out,
 * refusing a file that group or others may read, as --unseal-key-file
 * does. Symbolic links are followed (Kubernetes mounts secrets and
 * projected tokens through them); the file reached is what is checked.
 * 0, or -1 with why in err.
 */
static int read_credential(const char *path, const char *what, char *out, size_t cap, char *err, size_t errcap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "%s %s: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errcap, "%s %s must be a regular file that only its owner can read (chmod 600)", what, path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = read(fd, out + got, cap - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errcap, "%s %s: %s", what, path, strerror(errno));
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
            snprintf(err, errcap, "%s %s: holds more than one token, or a control character", what, path);
            explicit_bzero(out, cap);
            return -1;
        }
    if (out[0] == '\0') {
        snprintf(err, errcap, "%s %s is empty", what, path);
        return -1;
    }
    return 0;
}

/* --- one request ------------------------------------------------------------------- */

/* The token's claims (its payload, not verified: the server just issued
 * it to us over a verified connection), or NULL if it is not a JWT. */
static json_t *token_claims(const char *token) {
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        return NULL;
    uint8_t payload[TOKEN_MAX];
    size_t n = 0;
    if (jwt_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload), &n) != 0)
        return NULL;
    json_t *claims = json_loadb((const char *)payload, n, 0, NULL);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

static int64_t claim_int(const json_t *claims, const char *name) {
    const json_t *v = json_object_get(claims, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/*
 * POSTs body with the headers hdrs to a->url (the list is freed here; it
 * may hold a credential). FETCH_OK when the server answered (*status, the
 * answer in ans), else FETCH_TRANSIENT with why in err.
 */
static enum fetch_fail post(struct agent *a, CURL *c, const char *body, struct curl_slist *hdrs,
                            struct transfer_body *ans, long *status, char *err, size_t errcap) {
    curl_easy_setopt(c, CURLOPT_URL, a->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, transfer_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ans);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs); /* the list may hold the credential: libcurl copies nothing back */
    if (rc == CURLE_OK)
        return FETCH_OK;
    if (ans->too_big)
        snprintf(err, errcap, "the server's answer is larger than %zu bytes", ans->cap);
    else
        transfer_error(err, errcap, "could not reach the server", c, rc);
    transfer_failed(&a->http, rc);
    return FETCH_TRANSIENT;
}

/*
 * An answer other than 200: the server's reason into err (latchkey's
 * "errors", or OAuth's error and error_description from the token
 * exchange; neither ever holds a token). Worth retrying for 408, 429 and
 * 5xx; any other refusal the same request would get again.
 */
static enum fetch_fail refusal(struct agent *a, long status, const json_t *doc, char *err, size_t errcap) {
    const char *code = json_string_value(json_object_get(doc, "error"));
    const char *desc = json_string_value(json_object_get(doc, "error_description"));
    const json_t *msg = json_array_get(json_object_get(doc, "errors"), 0);
    if (code != NULL)
        snprintf(err, errcap, "the server answered %ld: %.64s: %.300s", status, code,
                 desc != NULL ? desc : "no error description");
    else
        snprintf(err, errcap, "the server answered %ld: %.300s", status,
                 json_is_string(msg) ? json_string_value(msg) : "no error message");
    transfer_failed(&a->http, CURLE_OK);
    return status == 408 || status == 429 || status >= 500 ? FETCH_TRANSIENT : FETCH_REFUSED;
}

/*
 * Makes tok the current token: life_s its lifetime (by the server's
 * word), exp_s its expiry by the server's clock. Refuses (FETCH_TRANSIENT)
 * a token that is not a JWT with iat and exp, or has already expired by
 * this machine's clock; with --subject-token-file and --team or
 * --service-account, one of another account (FETCH_REFUSED).
 */
static enum fetch_fail keep(struct agent *a, const char *tok, int64_t life_s, int64_t exp_s, char *err, size_t errcap) {
    json_t *claims = token_claims(tok);
    int64_t iat = claim_int(claims, "iat"), exp = claim_int(claims, "exp");
    const char *team = json_string_value(json_object_get(claims, "team"));
    const char *sa = json_string_value(json_object_get(claims, "sa"));
    enum fetch_fail out = FETCH_TRANSIENT;
    if (claims == NULL || strlen(tok) >= sizeof(a->token) || iat < 0 || exp <= iat || team == NULL || sa == NULL) {
        snprintf(err, errcap, "the server's answer is not an identity token");
        goto done;
    }
    if (life_s <= 0 || life_s > exp - iat)
        life_s = exp - iat;
    if (exp_s <= 0)
        exp_s = exp;
    if (a->subject_file != NULL &&
        ((a->team != NULL && strcmp(a->team, team) != 0) || (a->sa != NULL && strcmp(a->sa, sa) != 0))) {
        snprintf(err, errcap,
                 "the token exchange gave a token of service account %.128s of team %.128s, not the one "
                 "--team/--service-account name (the trusted issuer's rules chose it); not written",
                 sa, team);
        out = FETCH_REFUSED;
        goto done;
    }
    int64_t now = clock_now_ms();
    if (exp_s * 1000 <= now) {
        snprintf(err, errcap,
                 "the token the server issued has already expired by this machine's clock (check the "
                 "clocks); not written");
        goto done;
    }
    /* Scheduled by its lifetime from now, so a clock difference with the
     * server moves nothing; never past what the server says. */
    int64_t exp_ms = now + life_s * 1000;
    if (exp_ms > exp_s * 1000)
        exp_ms = exp_s * 1000;
    explicit_bzero(a->token, sizeof(a->token));
    memcpy(a->token, tok, strlen(tok) + 1);
    a->issued_ms = now;
    a->expires_ms = exp_ms;
    out = FETCH_OK;
done:
    json_decref(claims);
    return out;
}

/*
 * Asks the identity-token route for a token with credential cred (an API
 * token, or a workload's identity token). On success the token is in
 * a->token with its times; otherwise a->token is unchanged and err says
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
    long status = 0;
    enum fetch_fail out = post(a, c, text, h2, &ans, &status, err, errcap);
    free(text);
    if (out != FETCH_OK)
        goto done;
    json_t *doc = json_loadb(buf, ans.len, 0, NULL);
    if (status != 200) {
        out = refusal(a, status, doc, err, errcap);
    } else {
        const char *tok = json_string_value(json_object_get(doc, "token"));
        const char *when = json_string_value(json_object_get(doc, "expires_at"));
        int64_t exp_s = 0;
        if (tok == NULL || when == NULL || rfc3339_parse(when, strlen(when), &exp_s) != 0) {
            snprintf(err, errcap, "the server's answer is not an identity token");
            out = FETCH_TRANSIENT;
        } else {
            out = keep(a, tok, 0, exp_s, err, errcap);
        }
    }
    json_decref(doc);
done:
    explicit_bzero(buf, sizeof(buf));
    return out;
}

/* Appends name=value (value percent-encoded; '&' before it unless first)
 * to the form in buf. 0, or -1 when it does not fit or libcurl has no
 * memory. */
static int form_add(CURL *c, char *buf, size_t cap, size_t *len, const char *name, const char *value) {
    char *esc = curl_easy_escape(c, value, 0);
    if (esc == NULL)
        return -1;
    int n = snprintf(buf + *len, cap - *len, "%s%s=%s", *len > 0 ? "&" : "", name, esc);
    explicit_bzero(esc, strlen(esc));
    curl_free(esc);
    if (n < 0 || (size_t)n >= cap - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

/*
 * Exchanges subject (the foreign token) for an identity token at
 * POST /v1/oauth/token (RFC 8693, docs/federation.md): a form with the
 * grant type, the subject token and its type, --org (whose trusted issuers
 * apply) and --audience if given. The answer's access_token is an
 * identity token; expires_in its lifetime. As fetch() for the rest.
 */
static enum fetch_fail exchange(struct agent *a, const char *subject, char *err, size_t errcap) {
    char buf[ANSWER_MAX];
    struct transfer_body ans = {buf, sizeof(buf), 0, 0};
    char form[FORM_MAX];
    size_t len = 0;
    CURL *c = transfer_begin(&a->http);
    struct curl_slist *hdrs =
        c != NULL ? curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded") : NULL;
    if (hdrs == NULL || form_add(c, form, sizeof(form), &len, "grant_type", GRANT_TOKEN_EXCHANGE) != 0 ||
        form_add(c, form, sizeof(form), &len, "subject_token_type", TOKEN_TYPE_JWT) != 0 ||
        form_add(c, form, sizeof(form), &len, "org", a->org) != 0 ||
        (a->audience != NULL && form_add(c, form, sizeof(form), &len, "audience", a->audience) != 0) ||
        form_add(c, form, sizeof(form), &len, "subject_token", subject) != 0) {
        curl_slist_free_all(hdrs);
        explicit_bzero(form, sizeof(form));
        snprintf(err, errcap, "out of memory");
        return FETCH_TRANSIENT;
    }
    long status = 0;
    enum fetch_fail out = post(a, c, form, hdrs, &ans, &status, err, errcap);
    explicit_bzero(form, sizeof(form));
    if (out != FETCH_OK)
        goto done;
    json_t *doc = json_loadb(buf, ans.len, 0, NULL);
    if (status != 200) {
        out = refusal(a, status, doc, err, errcap);
    } else {
        const char *tok = json_string_value(json_object_get(doc, "access_token"));
        const char *type = json_string_value(json_object_get(doc, "issued_token_type"));
        json_t *in = json_object_get(doc, "expires_in");
        if (tok == NULL || !json_is_integer(in) || json_integer_value(in) <= 0 ||
            (type != NULL && strcmp(type, TOKEN_TYPE_JWT) != 0)) {
            snprintf(err, errcap, "the server's answer is not an identity token");
            out = FETCH_TRANSIENT;
        } else {
            out = keep(a, tok, (int64_t)json_integer_value(in), 0, err, errcap);
        }
    }
    json_decref(doc);
done:
    explicit_bzero(buf, sizeof(buf));
    return out;
}

/* --- one renewal ------------------------------------------------------------------ */

/*
 * Gets a new token. With --subject-token-file: exchanges the subject
 * token, read afresh (the platform may have rotated it). Otherwise a
 * workload's agent renews with its current identity token while that is
 * usable (the server's rule for workloads), falling back to the bootstrap
 * token when it is refused; else with the bootstrap token, read afresh.
 * via says which worked. 0 (FETCH_OK) or why not.
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
    char cred[TOKEN_MAX];
    if (read_credential(a->cred_file, a->cred_what, cred, sizeof(cred), err, errcap) != 0)
        return FETCH_REFUSED;
    if (a->subject_file != NULL) {
        r = exchange(a, cred, err, errcap);
        *via = "token exchange";
    } else {
        r = fetch(a, cred, err, errcap);
        *via = "bootstrap token";
    }
    explicit_bzero(cred, sizeof(cred));
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
    if (read_credential(a.cred_file, a.cred_what, boot, sizeof(boot), err, sizeof(err)) != 0) {
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
