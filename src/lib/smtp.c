/*
 * smtp.c - one plain-text e-mail through a relay with libcurl.
 *
 * Must never send a password in the clear (STARTTLS is required on
 * smtp:// as soon as there is a username), never let a caller's text start
 * a header of its own, and never put the relay's URL or reply text into an
 * error message.
 */
#include "lib/smtp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int smtp_address_ok(const char *s) {
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strlen(s) >= SMTP_ADDRESS_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>,;\"()[]\\", *p) != NULL)
            return 0;
    return 1;
}

int smtp_url_ok(const char *url) {
    return transfer_url_ok(url, "smtp://", "smtps://");
}

void smtp_date(int64_t t, char out[SMTP_DATE_BUFSZ]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, SMTP_DATE_BUFSZ, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

int smtp_join_addresses(const char *const *addrs, size_t n, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", addrs[i]);
        if (k < 0 || (size_t)k >= cap - len)
            return -1;
        len += (size_t)k;
    }
    return 0;
}

static int header_name_ok(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == ':')
            return 0;
    return 1;
}

int smtp_format(char *out, size_t cap, const struct smtp_header *headers, size_t n, const char *body, size_t *ret_len) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!header_name_ok(headers[i].name) || strpbrk(headers[i].value, "\r\n") != NULL)
            return -2;
        int k = snprintf(out + len, cap - len, "%s: %s\r\n", headers[i].name, headers[i].value);
        if (k < 0 || (size_t)k >= cap - len)
            return -1;
        len += (size_t)k;
    }
    int k = snprintf(out + len, cap - len, "\r\n%s", body);
    if (k < 0 || (size_t)k >= cap - len)
        return -1;
    *ret_len = len + (size_t)k;
    return 0;
}

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

int smtp_send(struct transfer *t, const struct smtp_relay *relay, const char *from, const char *const *rcpt,
              size_t nrcpt, const char *msg, size_t len, char *err, size_t errcap) {
    struct curl_slist *to = NULL;
    int r = -1;
    for (size_t i = 0; i < nrcpt; i++) {
        struct curl_slist *nr = curl_slist_append(to, rcpt[i]);
        if (nr == NULL) {
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        to = nr;
    }
    CURL *c = transfer_begin(t);
    if (c == NULL) {
        snprintf(err, errcap, "cannot start an SMTP transfer");
        goto out;
    }
    struct upload up = {msg, len};
    curl_easy_setopt(c, CURLOPT_URL, relay->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    if (relay->username != NULL && relay->username[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_USERNAME, relay->username);
        if (relay->password != NULL)
            curl_easy_setopt(c, CURLOPT_PASSWORD, relay->password);
        /* Never send a password in the clear: require STARTTLS on smtp://. */
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    } else {
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        r = 0;
    } else {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        /* A 5xx reply (to RCPT TO, say: no such mailbox) will be the same
         * on every retry; anything else (4xx, no answer) may pass later. */
        r = code >= 500 && code <= 599 ? SMTP_PERMANENT : -1;
        transfer_error(err, errcap, "SMTP", c, rc);
        transfer_failed(t, rc);
    }
out:
    curl_slist_free_all(to);
    return r;
}
