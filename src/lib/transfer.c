/*
 * transfer.c - the libcurl session under lib/smtp.c and lib/webhook.c (and
 * the agent's and the federation's fetches): handle reuse, the options
 * every transfer gets, stopping a transfer from another thread, and a
 * bounded answer body.
 *
 * Must never turn certificate verification off (a private CA is added,
 * never a bypass), never follow a redirect, and never put a URL or a reply
 * into an error message.
 */
#include "lib/transfer.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int transfer_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void transfer_global_done(void) {
    curl_global_cleanup();
}

/* --- stopping from another thread --------------------------------------------------- */

void transfer_stop_init(struct transfer_stop *st) {
    atomic_init(&st->requested, 0);
    pthread_mutex_init(&st->lock, NULL);
    for (size_t i = 0; i < TRANSFER_STOP_FDS; i++)
        st->fds[i] = -1;
}

void transfer_stop_done(struct transfer_stop *st) {
    if (st != NULL)
        pthread_mutex_destroy(&st->lock);
}

int transfer_stop_requested(struct transfer_stop *st) {
    return st != NULL && atomic_load(&st->requested);
}

void transfer_stop_request(struct transfer_stop *st) {
    atomic_store(&st->requested, 1);
    /* Under the lock, so a socket is never closed (and its number reused
     * by another thread) between our look and our shutdown(). */
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < TRANSFER_STOP_FDS; i++)
        if (st->fds[i] >= 0)
            shutdown(st->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&st->lock);
}

/* libcurl's socket hooks: every socket O_CLOEXEC, and known to the stopper. */
static curl_socket_t open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a) {
    struct transfer_stop *st = arg;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0 || st == NULL)
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    pthread_mutex_lock(&st->lock);
    size_t i = 0;
    while (i < TRANSFER_STOP_FDS && st->fds[i] >= 0)
        i++;
    if (atomic_load(&st->requested) || i == TRANSFER_STOP_FDS) {
        pthread_mutex_unlock(&st->lock);
        close(fd);
        return CURL_SOCKET_BAD;
    }
    st->fds[i] = fd;
    pthread_mutex_unlock(&st->lock);
    return fd;
}

static int close_cb(void *arg, curl_socket_t fd) {
    struct transfer_stop *st = arg;
    if (st != NULL) {
        pthread_mutex_lock(&st->lock);
        for (size_t i = 0; i < TRANSFER_STOP_FDS; i++)
            if (st->fds[i] == fd)
                st->fds[i] = -1;
        close(fd);
        pthread_mutex_unlock(&st->lock);
        return 0;
    }
    return close(fd);
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    return transfer_stop_requested(arg) ? 1 : 0;
}

/* --- the session ------------------------------------------------------------------ */

void transfer_init(struct transfer *t, const struct transfer_opts *opts, struct transfer_stop *stop) {
    t->opts = *opts;
    t->stop = stop;
    t->handle = NULL;
}

void transfer_done(struct transfer *t) {
    if (t == NULL)
        return;
    curl_easy_cleanup(t->handle);
    t->handle = NULL;
}

static void common_opts(CURL *c, const struct transfer *t) {
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* Certificates are always verified; a private CA is added, never a bypass. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->opts.ca_file != NULL && t->opts.ca_file[0] != '\0')
        curl_easy_setopt(c, CURLOPT_CAINFO, t->opts.ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->opts.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, t->opts.timeout_s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t->stop);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* SMTP waits for each answer without calling the progress callback: bound it. */
    curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, t->opts.timeout_s);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, t->stop);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, t->stop);
}

CURL *transfer_begin(struct transfer *t) {
    t->no_answer = 0;
    if (t->handle == NULL)
        t->handle = curl_easy_init();
    else
        curl_easy_reset(t->handle);
    if (t->handle != NULL)
        common_opts(t->handle, t);
    return t->handle;
}

void transfer_failed(struct transfer *t, CURLcode rc) {
    long code = 0;
    if (t->handle != NULL)
        curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
    t->no_answer = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                   (rc != CURLE_OK && code == 0);
    curl_easy_cleanup(t->handle);
    t->handle = NULL;
}

void transfer_error(char *err, size_t cap, const char *what, CURL *c, CURLcode rc) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code > 0)
        snprintf(err, cap, "%s: %s (server answered %ld)", what, curl_easy_strerror(rc), code);
    else
        snprintf(err, cap, "%s: %s", what, curl_easy_strerror(rc));
}

size_t transfer_body_write(char *p, size_t size, size_t nmemb, void *arg) {
    struct transfer_body *b = arg;
    if (size != 0 && nmemb > SIZE_MAX / size) {
        b->too_big = 1;
        return 0;
    }
    size_t n = size * nmemb;
    if (n > b->cap - b->len) {
        b->too_big = 1;
        return 0; /* anything but n: libcurl stops with CURLE_WRITE_ERROR */
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return n;
}

int transfer_url_ok(const char *url, const char *scheme_a, const char *scheme_b) {
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
