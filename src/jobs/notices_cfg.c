/*
 * notices_cfg.c - the settings of expiry notices, checked once: the notice
 * offsets, the relay and webhook URLs, the sender, and the two secrets (the
 * SMTP password and the webhook signing secret), read from a file or the
 * environment and re-read from their files on SIGHUP.
 *
 * Must never take a secret from a flag or a URL, and never put a secret's
 * value into a message: errors name the setting only.
 */
#include "jobs/notices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/errors.h"
#include "lib/smtp.h"
#include "lib/transfer.h"
#include "lib/webhook.h"

#define SECRET_FILE_MAX 4096

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

static int load_smtp_password(const struct config *cfg, char **ret, struct lk_error *err) {
    size_t len = 0;
    return load_secret(cfg->smtp_password_file, "LATCHKEY_SMTP_PASSWORD", "smtp-password-file", ret, &len, err);
}

static int load_webhook_secret(const struct config *cfg, char **ret, size_t *ret_len, struct lk_error *err) {
    return load_secret(cfg->notice_webhook_secret_file, "LATCHKEY_NOTICE_WEBHOOK_SECRET", "notice-webhook-secret-file",
                       ret, ret_len, err);
}

int notices_cfg_init(struct notices_cfg *nc, const struct config *cfg, struct lk_error *err) {
    int r;
    memset(nc, 0, sizeof(*nc));
    nc->cfg = cfg;
    if (notice_offsets_parse(cfg->notice_days, nc->days, NOTICE_OFFSETS_MAX, &nc->ndays) != 0)
        return lk_error_set(err, LK_EINVAL, "notice-days: expected comma-separated whole days, e.g. 7,1");
    if (transfer_global_init() != 0)
        return lk_error_set(err, LK_EINTERNAL, "cannot initialise libcurl");
    nc->curl_ready = 1;
    if (cfg->notice_ca_file[0] != '\0' && access(cfg->notice_ca_file, R_OK) != 0)
        return lk_error_set(err, LK_EINVAL, "notice-ca-file: cannot read %.200s: %s", cfg->notice_ca_file,
                            strerror(errno));
    if (cfg->smtp_url[0] != '\0') {
        if (!smtp_url_ok(cfg->smtp_url))
            return lk_error_set(err, LK_EINVAL,
                                "smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT without user info (the "
                                "user goes in smtp-username, the password in a file or LATCHKEY_SMTP_PASSWORD)");
        if (!smtp_address_ok(cfg->smtp_from))
            return lk_error_set(err, LK_EINVAL, "smtp-from: an e-mail address is required with smtp-url");
        r = load_smtp_password(cfg, &nc->smtp_password, err);
        if (r != 0)
            return r;
        if (nc->smtp_password != NULL && cfg->smtp_username[0] == '\0') {
            notices_cfg_done(nc);
            return lk_error_set(err, LK_EINVAL, "an SMTP password is set but smtp-username is not");
        }
        nc->email = 1;
    }
    if (cfg->notice_webhook_url[0] != '\0') {
        if (!webhook_url_ok(cfg->notice_webhook_url)) {
            notices_cfg_done(nc);
            return lk_error_set(err, LK_EINVAL,
                                "notice-webhook-url: expected an http:// or https:// URL without "
                                "user info");
        }
        r = load_webhook_secret(cfg, &nc->webhook_secret, &nc->webhook_secret_len, err);
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

/* Wipes and frees *p, and forgets it. */
static void wipe_free(char **p) {
    if (*p == NULL)
        return;
    explicit_bzero(*p, strlen(*p));
    free(*p);
    *p = NULL;
}

int notices_cfg_reload_secrets(struct notices_cfg *nc, struct lk_error *err) {
    const struct config *cfg = nc->cfg;
    char *pw = NULL, *hook = NULL;
    size_t hooklen = 0;
    int r = 0;
    /* Only secrets that come from a file can change; the environment cannot. */
    if (nc->email && cfg->smtp_password_file[0] != '\0')
        r = load_smtp_password(cfg, &pw, err);
    if (r == 0 && nc->webhook && cfg->notice_webhook_secret_file[0] != '\0')
        r = load_webhook_secret(cfg, &hook, &hooklen, err);
    if (r != 0) {
        /* Keep what works: a half-written file must not stop deliveries. */
        wipe_free(&pw);
        wipe_free(&hook);
        return r;
    }
    if (pw != NULL) {
        wipe_free(&nc->smtp_password);
        nc->smtp_password = pw;
    }
    if (hook != NULL) {
        wipe_free(&nc->webhook_secret);
        nc->webhook_secret = hook;
        nc->webhook_secret_len = hooklen;
    }
    return 0;
}

void notices_cfg_done(struct notices_cfg *nc) {
    if (nc == NULL)
        return;
    wipe_free(&nc->smtp_password);
    wipe_free(&nc->webhook_secret);
    nc->webhook_secret_len = 0;
    if (nc->curl_ready)
        transfer_global_done();
    nc->curl_ready = 0;
}
