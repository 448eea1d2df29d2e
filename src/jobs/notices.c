/*
 * notices.c - token expiry notices: fills the outbox (store notices table)
 * by the schedule rule of core/notice.c and delivers it over SMTP and a
 * signed webhook with libcurl, on the notifier thread or in one operator pass.
 *
 * Must never run on an h2o event loop (every delivery blocks on the
 * network), and must never put a secret anywhere: mail and webhook bodies
 * carry public token ids only; the SMTP password and the webhook secret go
 * to libcurl and HMAC and nowhere else; last_error is built from curl's
 * generic messages and status codes, never from a URL or a server reply.
 */
#include "jobs/notices.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/errors.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "store/store.h"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "dev"
#endif

#define SECRET_FILE_MAX 4096
#define CONNECT_TIMEOUT_S 10L
#define TRANSFER_TIMEOUT_S 30L
/* A notice held back (org not active, channel not configured) is looked at again after this long. */
#define POSTPONE_SECONDS 3600
#define MESSAGE_MAX 8192

/* --- configuration ------------------------------------------------------------ */

/* Reads a secret from path into a new string without its trailing newline. */
static int read_secret_file(const char *path, char **ret, size_t *ret_len) {
    char buf[SECRET_FILE_MAX + 1];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LK_EINVAL;
    for (;;) {
        ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            close(fd);
            explicit_bzero(buf, sizeof(buf));
            return LK_EINVAL;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n == sizeof(buf) - 1)
            break;
    }
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0 || memchr(buf, '\0', n) != NULL) {
        explicit_bzero(buf, sizeof(buf));
        return LK_EINVAL;
    }
    char *p = malloc(n + 1);
    if (p == NULL) {
        explicit_bzero(buf, sizeof(buf));
        return LK_ENOMEM;
    }
    memcpy(p, buf, n);
    p[n] = '\0';
    explicit_bzero(buf, sizeof(buf));
    *ret = p;
    *ret_len = n;
    return 0;
}

/* The secret from file (if given) or the environment variable env; *ret NULL if neither. */
static int load_secret(const char *file, const char *env, const char *what, char **ret, size_t *ret_len,
                       struct lk_error *err) {
    *ret = NULL;
    *ret_len = 0;
    if (file[0] != '\0') {
        int r = read_secret_file(file, ret, ret_len);
        if (r != 0)
            return lk_error_set(err, LK_EINVAL, "%s: cannot read a non-empty secret from the file given", what);
        return 0;
    }
    const char *v = getenv(env);
    if (v != NULL && *v != '\0') {
        size_t n = strlen(v);
        char *p = malloc(n + 1);
        if (p == NULL)
            return lk_error_set(err, LK_ENOMEM, "out of memory");
        memcpy(p, v, n + 1);
        *ret = p;
        *ret_len = n;
    }
    return 0;
}

/* 1 if url starts with one of the schemes and names a host without user info. */
static int url_ok(const char *url, const char *scheme_a, const char *scheme_b) {
    size_t la = strlen(scheme_a), lb = strlen(scheme_b);
    const char *rest = NULL;
    if (strncmp(url, scheme_a, la) == 0)
        rest = url + la;
    else if (strncmp(url, scheme_b, lb) == 0)
        rest = url + lb;
    if (rest == NULL || *rest == '\0' || *rest == '/')
        return 0;
    size_t auth = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth) != NULL)
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

/* 1 if s can go into a mail header or SMTP command as an address. */
static int address_ok(const char *s) {
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strlen(s) >= STORE_EMAIL_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>,;\"()[]\\", *p) != NULL)
            return 0;
    return 1;
}

int notices_cfg_init(struct notices_cfg *nc, const struct config *cfg, struct lk_error *err) {
    size_t pwlen = 0;
    int r;
    memset(nc, 0, sizeof(*nc));
    nc->cfg = cfg;
    if (notice_offsets_parse(cfg->notice_days, nc->days, NOTICE_OFFSETS_MAX, &nc->ndays) != 0)
        return lk_error_set(err, LK_EINVAL, "notice-days: expected comma-separated whole days, e.g. 7,1");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return lk_error_set(err, LK_EINTERNAL, "cannot initialise libcurl");
    nc->curl_ready = 1;
    if (cfg->notice_ca_file[0] != '\0' && access(cfg->notice_ca_file, R_OK) != 0)
        return lk_error_set(err, LK_EINVAL, "notice-ca-file: cannot read %.200s: %s", cfg->notice_ca_file,
                            strerror(errno));
    if (cfg->smtp_url[0] != '\0') {
        if (!url_ok(cfg->smtp_url, "smtp://", "smtps://"))
            return lk_error_set(err, LK_EINVAL,
                                "smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT without user info (the "
                                "user goes in smtp-username, the password in a file or LATCHKEY_SMTP_PASSWORD)");
        if (!address_ok(cfg->smtp_from))
            return lk_error_set(err, LK_EINVAL, "smtp-from: an e-mail address is required with smtp-url");
        r = load_secret(cfg->smtp_password_file, "LATCHKEY_SMTP_PASSWORD", "smtp-password-file", &nc->smtp_password,
                        &pwlen, err);
        if (r != 0)
            return r;
        if (nc->smtp_password != NULL && cfg->smtp_username[0] == '\0') {
            notices_cfg_done(nc);
            return lk_error_set(err, LK_EINVAL, "an SMTP password is set but smtp-username is not");
        }
        nc->email = 1;
    }
    if (cfg->notice_webhook_url[0] != '\0') {
        if (!url_ok(cfg->notice_webhook_url, "http://", "https://")) {
            notices_cfg_done(nc);
            return lk_error_set(err, LK_EINVAL,
                                "notice-webhook-url: expected an http:// or https:// URL without "
                                "user info");
        }
        r = load_secret(cfg->notice_webhook_secret_file, "LATCHKEY_NOTICE_WEBHOOK_SECRET", "notice-webhook-secret-file",
                        &nc->webhook_secret, &nc->webhook_secret_len, err);
        if (r != 0) {
            notices_cfg_done(nc);
            return r;
        }
        if (nc->webhook_secret == NULL) {
            notices_cfg_done(nc);
            return lk_error_set(err, LK_EINVAL,
                                "notice-webhook-url needs a signing secret: notice-webhook-secret-file or "
                                "LATCHKEY_NOTICE_WEBHOOK_SECRET");
        }
        nc->webhook = 1;
    }
    return 0;
}

static void wipe_free(char *p) {
    if (p == NULL)
        return;
    explicit_bzero(p, strlen(p));
    free(p);
}

int notices_cfg_reload_secrets(struct notices_cfg *nc, struct lk_error *err) {
    const struct config *cfg = nc->cfg;
    char *pw = NULL, *hook = NULL;
    size_t pwlen = 0, hooklen = 0;
    int r = 0;
    /* Only secrets that come from a file can change; the environment cannot. */
    if (nc->email && cfg->smtp_password_file[0] != '\0')
        r = load_secret(cfg->smtp_password_file, "LATCHKEY_SMTP_PASSWORD", "smtp-password-file", &pw, &pwlen, err);
    if (r == 0 && nc->webhook && cfg->notice_webhook_secret_file[0] != '\0')
        r = load_secret(cfg->notice_webhook_secret_file, "LATCHKEY_NOTICE_WEBHOOK_SECRET", "notice-webhook-secret-file",
                        &hook, &hooklen, err);
    if (r != 0) {
        /* Keep what works: a half-written file must not stop deliveries. */
        wipe_free(pw);
        wipe_free(hook);
        return r;
    }
    if (pw != NULL) {
        wipe_free(nc->smtp_password);
        nc->smtp_password = pw;
    }
    if (hook != NULL) {
        wipe_free(nc->webhook_secret);
        nc->webhook_secret = hook;
        nc->webhook_secret_len = hooklen;
    }
    return 0;
}

void notices_cfg_done(struct notices_cfg *nc) {
    if (nc == NULL)
        return;
    wipe_free(nc->smtp_password);
    nc->smtp_password = NULL;
    wipe_free(nc->webhook_secret);
    nc->webhook_secret = NULL;
    nc->webhook_secret_len = 0;
    if (nc->curl_ready)
        curl_global_cleanup();
    nc->curl_ready = 0;
}

/* --- scheduling ------------------------------------------------------------------ */

/* Appends addr to the JSON array arr unless present. */
static void add_recipient(json_t *arr, const char *addr) {
    size_t i;
    json_t *v;
    if (!address_ok(addr))
        return;
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), addr) == 0)
            return;
    }
    json_array_append_new(arr, json_string(addr));
}

/*
 * The e-mail recipients of a token's notices into out (a JSON array):
 * a user token goes to the user, a service-account token to the owners of
 * the team that owns the account. Root tokens have none (webhook only).
 */
static int recipients_of(struct store *s, const char *owner_type, const char *owner_id, char *out, size_t cap) {
    json_t *arr = json_array();
    struct user_rec u;
    int r = 0;
    if (arr == NULL)
        return LK_ENOMEM;
    memset(&u, 0, sizeof(u));
    if (strcmp(owner_type, "user") == 0) {
        r = store_user_get(s, owner_id, &u);
        if (r == 0)
            add_recipient(arr, u.email);
        user_rec_done(&u);
    } else if (strcmp(owner_type, "service_account") == 0) {
        struct sa_rec sa;
        struct team_member_list members = {0};
        r = store_sa_get(s, owner_id, &sa);
        if (r == 0)
            r = store_team_member_list(s, sa.team_id, &members);
        for (size_t i = 0; r == 0 && i < members.count; i++) {
            if (strcmp(members.items[i].role, "owner") != 0)
                continue;
            if (store_user_get(s, members.items[i].user_id, &u) == 0)
                add_recipient(arr, u.email);
            user_rec_done(&u);
        }
        team_member_list_done(&members);
    }
    if (r == LK_ENOTFOUND)
        r = 0; /* the owner went away: no one to tell */
    /* Drop addresses from the end until the list fits the column. */
    char *text = NULL;
    while (r == 0) {
        text = json_dumps(arr, JSON_COMPACT);
        if (text == NULL) {
            r = LK_ENOMEM;
            break;
        }
        if (strlen(text) < cap)
            break;
        free(text);
        text = NULL;
        json_array_remove(arr, json_array_size(arr) - 1);
    }
    if (r == 0)
        str_copy(out, cap, text);
    free(text);
    json_decref(arr);
    return r;
}

static int schedule_one(struct store *s, const struct notices_cfg *nc, const struct notice_candidate *c, int64_t now,
                        size_t *scheduled) {
    enum notice_verdict v[NOTICE_OFFSETS_MAX];
    struct tokfmt_parsed p;
    /* API keys only: login sessions and workload identity tokens are short
     * lived by design and renewed by their clients, not by people. */
    if (tokfmt_parse_pubid(c->token_id, strlen(c->token_id), &p) != 0 ||
        (p.kind != TOK_KIND_USER && p.kind != TOK_KIND_SA && p.kind != TOK_KIND_ROOT))
        return 0;
    int due = notice_due(c->created_at, c->expires_at, now, nc->days, nc->ndays, v);
    char recipients[STORE_RECIPIENTS_MAX];
    int have_recipients = 0;
    int r = 0;

    for (size_t i = 0; i < nc->ndays; i++) {
        if (v[i] != NOTICE_DUE && v[i] != NOTICE_SUPERSEDED)
            continue;
        for (int ch = 0; ch < 2; ch++) {
            const char *channel = ch == 0 ? "email" : "webhook";
            if (ch == 0 && (!nc->email || strcmp(c->owner_type, "root") == 0))
                continue;
            if (ch == 1 && !nc->webhook)
                continue;
            struct notice_rec n;
            memset(&n, 0, sizeof(n));
            if (notice_id(c->token_id, nc->days[i], channel, n.id) != 0)
                return LK_EINTERNAL;
            str_copy(n.token_id, sizeof(n.token_id), c->token_id);
            str_copy(n.org_id, sizeof(n.org_id), c->org_id);
            str_copy(n.owner_type, sizeof(n.owner_type), c->owner_type);
            str_copy(n.owner_id, sizeof(n.owner_id), c->owner_id);
            str_copy(n.channel, sizeof(n.channel), channel);
            n.days_before = nc->days[i];
            n.expires_at = c->expires_at;
            n.next_attempt_at = now;
            n.created_at = n.updated_at = now;
            str_copy(n.recipients_json, sizeof(n.recipients_json), "[]");
            if (v[i] == NOTICE_SUPERSEDED) {
                str_copy(n.status, sizeof(n.status), "skipped");
                str_copy(n.last_error, sizeof(n.last_error),
                         "its time passed while a more imminent notice was due (server down or delivery late)");
            } else {
                str_copy(n.status, sizeof(n.status), "pending");
                if (ch == 0) {
                    if (!have_recipients) {
                        r = recipients_of(s, c->owner_type, c->owner_id, recipients, sizeof(recipients));
                        if (r != 0)
                            return r;
                        have_recipients = 1;
                    }
                    str_copy(n.recipients_json, sizeof(n.recipients_json), recipients);
                    if (strcmp(recipients, "[]") == 0) {
                        str_copy(n.status, sizeof(n.status), "skipped");
                        str_copy(n.last_error, sizeof(n.last_error),
                                 strcmp(c->owner_type, "service_account") == 0
                                     ? "no recipient: the service account's team has no owner with an e-mail address"
                                     : "no recipient: the owner has no usable e-mail address");
                    }
                }
            }
            int inserted = 0;
            r = store_notice_insert(s, &n, &inserted);
            if (r != 0)
                return r;
            *scheduled += (size_t)inserted;
        }
    }
    if (due >= 0)
        r = store_notice_supersede(s, c->token_id, nc->days[due], now);
    return r;
}

static int schedule(struct store *s, const struct notices_cfg *nc, int64_t now, struct notices_stop *stop,
                    size_t *scheduled) {
    if ((!nc->email && !nc->webhook) || nc->ndays == 0)
        return 0;
    int64_t horizon = now + (int64_t)nc->days[0] * NOTICE_DAY_SECONDS; /* days[0] is the largest */
    int64_t after = 0;
    for (;;) {
        struct notice_candidate_list list = {0};
        int r = store_notice_candidates(s, now, horizon, after, NOTICES_BATCH, &list);
        if (r != 0)
            return r;
        for (size_t i = 0; r == 0 && i < list.count; i++)
            r = schedule_one(s, nc, &list.items[i], now, scheduled);
        size_t count = list.count;
        if (count > 0)
            after = list.items[count - 1].seq;
        notice_candidate_list_done(&list);
        if (r != 0)
            return r;
        if (count < NOTICES_BATCH || notices_stop_requested(stop))
            return 0;
    }
}

/* --- delivery ----------------------------------------------------------------------- */

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg) {
    struct upload *u = arg;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static size_t discard_cb(char *buf, size_t size, size_t nitems, void *arg) {
    return size * nitems;
}

/* --- stopping a pass from another thread ------------------------------------------ */

void notices_stop_init(struct notices_stop *st) {
    atomic_init(&st->requested, 0);
    pthread_mutex_init(&st->lock, NULL);
    for (size_t i = 0; i < NOTICES_STOP_FDS; i++)
        st->fds[i] = -1;
}

void notices_stop_done(struct notices_stop *st) {
    if (st != NULL)
        pthread_mutex_destroy(&st->lock);
}

int notices_stop_requested(struct notices_stop *st) {
    return st != NULL && atomic_load(&st->requested);
}

void notices_stop_request(struct notices_stop *st) {
    atomic_store(&st->requested, 1);
    /* Under the lock, so a socket is never closed (and its number reused
     * by another thread) between our look and our shutdown(). */
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < NOTICES_STOP_FDS; i++)
        if (st->fds[i] >= 0)
            shutdown(st->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&st->lock);
}

/* libcurl's socket hooks: every socket O_CLOEXEC, and known to the stopper. */
static curl_socket_t open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
    struct notices_stop *st = arg;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0 || st == NULL)
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    pthread_mutex_lock(&st->lock);
    size_t i = 0;
    while (i < NOTICES_STOP_FDS && st->fds[i] >= 0)
        i++;
    if (atomic_load(&st->requested) || i == NOTICES_STOP_FDS) {
        pthread_mutex_unlock(&st->lock);
        close(fd);
        return CURL_SOCKET_BAD;
    }
    st->fds[i] = fd;
    pthread_mutex_unlock(&st->lock);
    return fd;
}

static int close_cb(void *arg, curl_socket_t fd) {
    struct notices_stop *st = arg;
    if (st != NULL) {
        pthread_mutex_lock(&st->lock);
        for (size_t i = 0; i < NOTICES_STOP_FDS; i++)
            if (st->fds[i] == fd)
                st->fds[i] = -1;
        close(fd);
        pthread_mutex_unlock(&st->lock);
        return 0;
    }
    return close(fd);
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    return notices_stop_requested(arg) ? 1 : 0;
}

static void common_opts(CURL *c, const struct config *cfg, struct notices_stop *stop) {
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* Certificates are always verified; a private CA is added, never a bypass. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->notice_ca_file[0] != '\0')
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->notice_ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* SMTP waits for each answer without calling the progress callback: bound it. */
    curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, TRANSFER_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, stop);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, stop);
}

/* A failure message that names what failed without any URL, reply text or secret. */
static void curl_failure(char *err, size_t cap, const char *what, CURL *c, CURLcode rc) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code > 0)
        snprintf(err, cap, "%s: %s (server answered %ld)", what, curl_easy_strerror(rc), code);
    else
        snprintf(err, cap, "%s: %s", what, curl_easy_strerror(rc));
}

/* Who the notice is about, for people: "user alice", "service account deployer (team web)", "root". */
static void owner_name(struct store *s, const struct notice_rec *n, char *out, size_t cap) {
    if (strcmp(n->owner_type, "user") == 0) {
        struct user_rec u;
        memset(&u, 0, sizeof(u));
        if (store_user_get(s, n->owner_id, &u) == 0)
            str_copy(out, cap, u.username);
        else
            str_copy(out, cap, n->owner_id);
        user_rec_done(&u);
    } else if (strcmp(n->owner_type, "service_account") == 0) {
        struct sa_rec sa;
        if (store_sa_get(s, n->owner_id, &sa) == 0)
            str_copy(out, cap, sa.name);
        else
            str_copy(out, cap, n->owner_id);
    } else {
        str_copy(out, cap, n->owner_type);
    }
}

static const char *owner_label(const char *type) {
    if (strcmp(type, "service_account") == 0)
        return "service account";
    return type;
}

/*
 * The channel's handle for this pass, reset for the next transfer: reusing
 * it lets consecutive messages share one connection (libcurl keeps the
 * connection across curl_easy_reset()). NULL if libcurl has no memory.
 */
static CURL *handle_for(CURL **handle) {
    if (*handle == NULL)
        *handle = curl_easy_init();
    else
        curl_easy_reset(*handle);
    return *handle;
}

/* After a failed transfer: start the next one on a fresh handle and connection. */
static void handle_drop(CURL **handle) {
    curl_easy_cleanup(*handle);
    *handle = NULL;
}

static int send_email(const struct notices_cfg *nc, struct store *s, const struct notice_rec *n, CURL **handle,
                      struct notices_stop *stop, char *err, size_t errcap) {
    const struct config *cfg = nc->cfg;
    char msg[MESSAGE_MAX], to[STORE_RECIPIENTS_MAX], owner[STORE_NAME_MAX], exp[RFC3339_BUFSZ], date[64];
    struct curl_slist *rcpt = NULL;
    json_t *arr = json_loads(n->recipients_json, 0, NULL);
    size_t i, tolen = 0;
    json_t *v;
    int r = -1;

    to[0] = '\0';
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, errcap, "no recipient");
        goto out;
    }
    json_array_foreach(arr, i, v) {
        const char *a = json_string_value(v);
        if (a == NULL || !address_ok(a))
            continue;
        struct curl_slist *nr = curl_slist_append(rcpt, a);
        if (nr == NULL) {
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        rcpt = nr;
        int k = snprintf(to + tolen, sizeof(to) - tolen, "%s%s", tolen ? ", " : "", a);
        if (k < 0 || (size_t)k >= sizeof(to) - tolen) {
            snprintf(err, errcap, "recipient list too long");
            goto out;
        }
        tolen += (size_t)k;
    }
    if (rcpt == NULL) {
        snprintf(err, errcap, "no usable recipient address");
        goto out;
    }
    owner_name(s, n, owner, sizeof(owner));
    rfc3339_format(n->expires_at, exp);
    time_t t = (time_t)clock_now();
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *days_word = n->days_before == 1 ? "day" : "days";
    int len = snprintf(msg, sizeof(msg),
                       "From: latchkey <%s>\r\n"
                       "To: %s\r\n"
                       "Subject: latchkey: API token %s expires in %d %s\r\n"
                       "Date: %s\r\n"
                       "Message-ID: <%s@latchkey.notice>\r\n"
                       "X-Latchkey-Notice: %s\r\n"
                       "Auto-Submitted: auto-generated\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "\r\n"
                       "The latchkey API token %s expires in %d %s, at %s.\r\n"
                       "\r\n"
                       "Owner: %s %s%s%s\r\n"
                       "Token id: %s (the public id; the secret is never sent)\r\n"
                       "\r\n"
                       "Create a new token before then and switch to it: this one stops\r\n"
                       "working at its expiry. This is the %d-day notice; it is sent once.\r\n"
                       "\r\n"
                       "Notice id: %s\r\n",
                       cfg->smtp_from, to, n->token_id, n->days_before, days_word, date, n->id, n->id, n->token_id,
                       n->days_before, days_word, exp, owner_label(n->owner_type), owner,
                       n->org_name[0] ? " in organisation " : "", n->org_name, n->token_id, n->days_before, n->id);
    if (len < 0 || (size_t)len >= sizeof(msg)) {
        snprintf(err, errcap, "message too long");
        goto out;
    }
    CURL *c = handle_for(handle);
    if (c == NULL) {
        snprintf(err, errcap, "cannot start an SMTP transfer");
        goto out;
    }
    struct upload up = {msg, (size_t)len};
    common_opts(c, cfg, stop);
    curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, cfg->smtp_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    if (cfg->smtp_username[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_username);
        if (nc->smtp_password != NULL)
            curl_easy_setopt(c, CURLOPT_PASSWORD, nc->smtp_password);
        /* Never send a password in the clear: require STARTTLS on smtp://. */
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    } else {
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        r = 0;
    else
        curl_failure(err, errcap, "SMTP", c, rc);
    if (r != 0)
        handle_drop(handle);
out:
    curl_slist_free_all(rcpt);
    json_decref(arr);
    explicit_bzero(msg, sizeof(msg));
    return r;
}

/* The webhook's JSON body (caller frees), sorted keys so it is stable. */
static char *webhook_body(struct store *s, const struct notice_rec *n) {
    char owner[STORE_NAME_MAX], exp[RFC3339_BUFSZ];
    owner_name(s, n, owner, sizeof(owner));
    rfc3339_format(n->expires_at, exp);
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:i}", "type", "token.expiring", "notice_id",
                          n->id, "token_id", n->token_id, "owner", "type", n->owner_type, "id", n->owner_id, "name",
                          owner, "org", n->org_name[0] ? json_string(n->org_name) : json_null(), "expires_at", exp,
                          "days_before", n->days_before);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static int send_webhook(const struct notices_cfg *nc, struct store *s, const struct notice_rec *n, CURL **handle,
                        struct notices_stop *stop, char *err, size_t errcap) {
    char sig[NOTICE_SIG_BUFSZ], hdr_sig[NOTICE_SIG_BUFSZ + 32], hdr_id[STORE_NOTICE_ID_MAX + 32];
    struct curl_slist *hdrs = NULL;
    int r = -1;
    char *body = webhook_body(s, n);
    if (body == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    size_t blen = strlen(body);
    if (notice_signature(nc->webhook_secret, nc->webhook_secret_len, clock_now(), body, blen, sig) != 0) {
        snprintf(err, errcap, "cannot sign the webhook body");
        goto out;
    }
    snprintf(hdr_sig, sizeof(hdr_sig), "X-Latchkey-Signature: %s", sig);
    snprintf(hdr_id, sizeof(hdr_id), "X-Latchkey-Delivery: %s", n->id);
    const char *lines[] = {"Content-Type: application/json", hdr_sig, hdr_id, "User-Agent: latchkey/" LATCHKEY_VERSION,
                           "Expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct curl_slist *nh = curl_slist_append(hdrs, lines[i]);
        if (nh == NULL) {
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        hdrs = nh;
    }
    CURL *c = handle_for(handle);
    if (c == NULL) {
        snprintf(err, errcap, "cannot start an HTTP transfer");
        goto out;
    }
    common_opts(c, nc->cfg, stop);
    curl_easy_setopt(c, CURLOPT_URL, nc->cfg->notice_webhook_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK)
        curl_failure(err, errcap, "webhook", c, rc);
    else if (code < 200 || code > 299)
        snprintf(err, errcap, "webhook: the receiver answered HTTP %ld", code);
    else
        r = 0;
    if (r != 0)
        handle_drop(handle);
out:
    curl_slist_free_all(hdrs);
    free(body);
    return r;
}

/* Records a final or postponed state for n without an attempt. */
static int settle(struct store *s, struct notice_rec *n, const char *status, const char *why, int64_t next,
                  int64_t now) {
    str_copy(n->status, sizeof(n->status), status);
    str_copy(n->last_error, sizeof(n->last_error), why);
    n->next_attempt_at = next;
    n->updated_at = now;
    return store_notice_finish(s, n);
}

static int deliver_one(struct store *s, const struct notices_cfg *nc, struct notice_rec *n, CURL **handle, int64_t now,
                       struct notices_stop *stop, struct notices_stats *st) {
    int is_email = strcmp(n->channel, "email") == 0;
    if (!n->token_exists) {
        st->cancelled++;
        return settle(s, n, "cancelled", "token deleted", n->next_attempt_at, now);
    }
    if (n->token_expires_at != n->expires_at) {
        st->cancelled++;
        return settle(s, n, "cancelled", "the token's expiry changed since the notice was scheduled",
                      n->next_attempt_at, now);
    }
    if (now >= n->expires_at) {
        st->cancelled++;
        return settle(s, n, "cancelled", "the token expired before the notice could be delivered", n->next_attempt_at,
                      now);
    }
    if (n->org_id[0] != '\0' && strcmp(n->org_status, "active") != 0)
        return settle(s, n, "pending", "postponed: the organisation is not active", now + POSTPONE_SECONDS, now);

    int attempt = n->attempts + 1;
    int64_t backoff = notice_backoff(attempt, NOTICE_BACKOFF_BASE_SECONDS, NOTICE_BACKOFF_CAP_SECONDS);
    int claimed = 0;
    int r = store_notice_claim(s, n->id, now, now + backoff, &claimed);
    if (r != 0 || !claimed)
        return r;

    char err[STORE_NOTICE_ERROR_MAX];
    err[0] = '\0';
    int ok = (is_email ? send_email(nc, s, n, handle, stop, err, sizeof(err))
                       : send_webhook(nc, s, n, handle, stop, err, sizeof(err))) == 0;
    if (!ok && notices_stop_requested(stop))
        str_copy(err, sizeof(err), "interrupted by a shutdown before the outcome was known; will retry");
    n->attempts = attempt;
    n->updated_at = now;
    if (ok) {
        /* Committed at once: from here on a crash cannot make it go out twice. */
        str_copy(n->status, sizeof(n->status), "delivered");
        n->last_error[0] = '\0';
        n->delivered_at = now;
        n->next_attempt_at = now;
        st->delivered++;
        lk_log(LOG_INFO, "notice %s: token %s, %d-day notice, delivered by %s", n->id, n->token_id, n->days_before,
               n->channel);
    } else if (attempt >= NOTICE_MAX_ATTEMPTS) {
        str_copy(n->status, sizeof(n->status), "failed");
        str_copy(n->last_error, sizeof(n->last_error), err);
        n->next_attempt_at = now;
        st->failed++;
        lk_log(LOG_WARN, "notice %s: token %s: gave up after %d attempts: %s", n->id, n->token_id, attempt, err);
    } else {
        str_copy(n->status, sizeof(n->status), "pending");
        str_copy(n->last_error, sizeof(n->last_error), err);
        n->next_attempt_at = now + backoff;
        st->retrying++;
        lk_log(LOG_WARN, "notice %s: token %s: attempt %d failed, retrying in %lld s: %s", n->id, n->token_id, attempt,
               (long long)backoff, err);
    }
    return store_notice_finish(s, n);
}

/* Delivers the due notices of one channel. A channel that is not
 * configured in this process is left alone: its notices wait, untouched,
 * for a process that has it. */
static int deliver(struct store *s, const struct notices_cfg *nc, const char *channel, int64_t now,
                   struct notices_stop *stop, struct notices_stats *st) {
    CURL *handle = NULL; /* one per channel and pass: see handle_for() */
    int r = 0;
    /* Every handled row leaves the due set (delivered, settled, or moved
     * to a later attempt), so re-reading the first batch makes progress;
     * the round limit bounds a pass whatever happens. */
    for (int round = 0; round < 100; round++) {
        struct notice_list list = {0};
        r = store_notice_due(s, now, channel, NOTICES_BATCH, &list);
        if (r != 0)
            goto out;
        size_t count = list.count;
        for (size_t i = 0; r == 0 && i < count; i++) {
            if (notices_stop_requested(stop))
                break;
            r = deliver_one(s, nc, &list.items[i], &handle, now, stop, st);
        }
        notice_list_done(&list);
        if (r != 0 || count < NOTICES_BATCH || notices_stop_requested(stop))
            goto out;
    }
out:
    curl_easy_cleanup(handle);
    return r;
}

int notices_pass(struct store *s, const struct notices_cfg *nc, int64_t now, struct notices_stop *stop,
                 struct notices_stats *ret) {
    struct notices_stats st;
    memset(&st, 0, sizeof(st));
    int r = schedule(s, nc, now, stop, &st.scheduled);
    if (r == 0 && nc->email)
        r = deliver(s, nc, "email", now, stop, &st);
    if (r == 0 && nc->webhook)
        r = deliver(s, nc, "webhook", now, stop, &st);
    if (r == 0)
        r = store_notice_purge(s, now - (int64_t)NOTICES_KEEP_DAYS * NOTICE_DAY_SECONDS, NULL);
    if (ret != NULL)
        *ret = st;
    return r;
}

/* --- the notifier thread ---------------------------------------------------------- */

struct notifier {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct notices_stop stop;
    struct notices_cfg *nc; /* its secrets are this thread's to read and to reload */
    int reload;             /* under lock: re-read the secrets before the next pass */
    uint32_t interval_s;
    char dsn[PATH_MAX + 16];
};

static void *notifier_main(void *arg) {
    struct notifier *nt = arg;
    struct store *s = NULL;
    if (store_open(nt->dsn, &s) != 0) {
        lk_log(LOG_ERROR, "notifier: cannot open the store; no expiry notices will be sent");
        return NULL;
    }
    pthread_mutex_lock(&nt->lock);
    while (!notices_stop_requested(&nt->stop)) {
        int reload = nt->reload;
        nt->reload = 0;
        pthread_mutex_unlock(&nt->lock);
        if (reload) {
            struct lk_error err = {0};
            if (notices_cfg_reload_secrets(nt->nc, &err) != 0)
                lk_log(LOG_ERROR, "notifier: %s; the secrets in use stay", lk_error_message(&err));
            else
                lk_log(LOG_INFO, "notifier: notice secrets re-read");
        }
        struct notices_stats st;
        if (notices_pass(s, nt->nc, clock_now(), &nt->stop, &st) != 0)
            lk_log(LOG_WARN, "notifier: the notice pass failed on the store; will retry");
        pthread_mutex_lock(&nt->lock);
        if (notices_stop_requested(&nt->stop))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += nt->interval_s;
        pthread_cond_timedwait(&nt->cond, &nt->lock, &ts);
    }
    pthread_mutex_unlock(&nt->lock);
    store_close(s);
    return NULL;
}

int notifier_start(const char *dsn, struct notices_cfg *nc, uint32_t interval_s, struct notifier **ret) {
    struct notifier *nt = calloc(1, sizeof(*nt));
    if (nt == NULL)
        return LK_ENOMEM;
    if (strlen(dsn) >= sizeof(nt->dsn)) {
        free(nt);
        return LK_EINVAL;
    }
    memcpy(nt->dsn, dsn, strlen(dsn) + 1);
    nt->nc = nc;
    nt->interval_s = interval_s < 1 ? 1 : interval_s;
    notices_stop_init(&nt->stop);
    pthread_mutex_init(&nt->lock, NULL);
    pthread_cond_init(&nt->cond, NULL);
    if (pthread_create(&nt->tid, NULL, notifier_main, nt) != 0) {
        pthread_mutex_destroy(&nt->lock);
        pthread_cond_destroy(&nt->cond);
        notices_stop_done(&nt->stop);
        free(nt);
        return LK_EINTERNAL;
    }
    *ret = nt;
    return 0;
}

void notifier_reload(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    nt->reload = 1;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
}

void notifier_stop(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    notices_stop_request(&nt->stop);
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
    pthread_join(nt->tid, NULL);
    pthread_mutex_destroy(&nt->lock);
    pthread_cond_destroy(&nt->cond);
    notices_stop_done(&nt->stop);
    free(nt);
}
