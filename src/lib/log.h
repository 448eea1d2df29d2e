/*
 * log.h - structured logging: one JSON object per line on stderr.
 *
 * Two kinds of line: server messages (lk_log) and access records, which the
 * api layer builds into a per-thread struct logbuf and which reach stderr in
 * whole lines under one lock. No caller may hand this module a credential:
 * the api layer strips query strings and redacts token-shaped path segments.
 */
#ifndef LK_LIB_LOG_H
#define LK_LIB_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Messages below this level are dropped. Set once at start-up. */
void log_set_level(enum log_level level);

/* Writes {"time","level","msg"} for a printf-style message. Thread-safe. */
void lk_log(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable byte buffer with a hard cap; appends past the cap are dropped
 * and set `truncated`. */
struct logbuf {
    char *data;
    size_t len, cap, max;
    int truncated;
};

void logbuf_init(struct logbuf *b, size_t max);
void logbuf_done(struct logbuf *b);
void logbuf_put(struct logbuf *b, const char *s, size_t n);
void logbuf_puts(struct logbuf *b, const char *s);
/* Appends s[0..n) as the body of a JSON string (no quotes), escaped. */
void logbuf_put_json_str(struct logbuf *b, const char *s, size_t n);
/* Appends the decimal digits of v. */
void logbuf_put_int(struct logbuf *b, int64_t v);
void logbuf_printf(struct logbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes b's whole content to stderr under the log lock and empties it. */
void logbuf_flush(struct logbuf *b);

#endif
