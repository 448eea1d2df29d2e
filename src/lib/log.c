/*
 * log.c - JSON-lines logging to stderr.
 *
 * Never formats a credential (callers guarantee that); never blocks other
 * than on the single write lock; never aborts on allocation failure (a log
 * line is dropped instead).
 */
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level min_level = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level) {
    min_level = level;
}

static void write_all(const char *p, size_t n) {
    pthread_mutex_lock(&log_lock);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    pthread_mutex_unlock(&log_lock);
}

void logbuf_init(struct logbuf *b, size_t max) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->truncated = 0;
}

void logbuf_done(struct logbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int reserve(struct logbuf *b, size_t n) {
    if (b->len + n <= b->cap)
        return 0;
    if (b->len + n > b->max) {
        b->truncated = 1;
        return -1;
    }
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + n)
        ncap *= 2;
    if (ncap > b->max)
        ncap = b->max;
    char *p = realloc(b->data, ncap);
    if (p == NULL) {
        b->truncated = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

void logbuf_put(struct logbuf *b, const char *s, size_t n) {
    if (reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

void logbuf_puts(struct logbuf *b, const char *s) {
    logbuf_put(b, s, strlen(s));
}

void logbuf_put_json_str(struct logbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* s[run..i) is plain text not yet appended */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : str_utf8_len(s + i, n - i);
        int plain = k > 1 ? !(c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
                          : k == 1 && c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
        if (plain) {
            i += k;
            continue;
        }
        logbuf_put(b, s + run, i - run);
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            logbuf_put(b, e, 2);
        } else if (k != 0) {
            /* A control character: C0 and DEL, or a C1 control (U+0080-U+009F). */
            unsigned cp = k == 1 ? c : (unsigned char)s[i + 1];
            char e[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15]};
            logbuf_put(b, e, 6);
        } else {
            /* A byte outside well-formed UTF-8: shown, never copied, so
             * every line stays valid JSON (str_escape's form, escaped). */
            char e[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
            logbuf_put(b, e, 5);
            k = 1;
        }
        i += k;
        run = i;
    }
    logbuf_put(b, s + run, n - run);
}

void logbuf_put_int(struct logbuf *b, int64_t v) {
    char tmp[STR_INT64_BUFSZ];
    size_t n = str_fmt_int64(v, tmp);
    logbuf_put(b, tmp, n);
}

void logbuf_printf(struct logbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(tmp))
        n = (int)sizeof(tmp) - 1;
    logbuf_put(b, tmp, (size_t)n);
}

void logbuf_flush(struct logbuf *b) {
    if (b->len > 0)
        write_all(b->data, b->len);
    b->len = 0;
    b->truncated = 0;
}

static void put_time(struct logbuf *b) {
    struct timespec ts;
    struct tm tm;
    char buf[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    logbuf_put(b, buf, n);
    logbuf_printf(b, ".%03ldZ", ts.tv_nsec / 1000000);
}

void lk_log(enum log_level level, const char *fmt, ...) {
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(msg))
        n = (int)sizeof(msg) - 1;

    struct logbuf b;
    logbuf_init(&b, 4096);
    logbuf_puts(&b, "{\"time\":\"");
    put_time(&b);
    logbuf_puts(&b, "\",\"level\":\"");
    logbuf_puts(&b, level_names[level]);
    logbuf_puts(&b, "\",\"msg\":\"");
    logbuf_put_json_str(&b, msg, (size_t)n);
    logbuf_puts(&b, "\"}\n");
    logbuf_flush(&b);
    logbuf_done(&b);
}
