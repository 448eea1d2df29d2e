/*
 * errors.h - the one table of latchkey error codes.
 *
 * Every function that can fail returns 0 or a negative LK_E* code. The table
 * below gives each code its HTTP status and a default message, so the api
 * layer maps errors to responses in exactly one place (see api/respond.c).
 * A call that needs a more specific message fills a struct lk_error too.
 * Messages must never contain a secret: callers pass token ids, never tokens.
 */
#ifndef LK_CORE_ERRORS_H
#define LK_CORE_ERRORS_H

#include <stddef.h>

/* X(name, number, http status, default message) */
#define LK_ERRNO_MAP(X)                                                                                                \
    X(INVAL, 1, 400, "invalid request")                                                                                \
    X(JSON, 2, 400, "request body is not valid JSON")                                                                  \
    X(NOAUTH, 3, 401, "missing credentials")                                                                           \
    X(BADTOKEN, 4, 401, "malformed token")                                                                             \
    X(BADCRED, 5, 401, "unknown or revoked token")                                                                     \
    X(EXPIRED, 6, 401, "token expired")                                                                                \
    X(DENIED, 7, 401, "permission denied")                                                                             \
    X(INACTIVE, 8, 401, "organisation is not active")                                                                  \
    X(NOTFOUND, 9, 404, "not found")                                                                                   \
    X(METHOD, 10, 405, "method not allowed")                                                                           \
    X(CONFLICT, 11, 409, "name already taken")                                                                         \
    X(TOOBIG, 12, 413, "request body too large")                                                                       \
    X(RATE, 13, 429, "rate limit exceeded")                                                                            \
    X(INTERNAL, 14, 500, "internal error")                                                                             \
    X(NOMEM, 15, 500, "out of memory")                                                                                 \
    X(STORE, 16, 500, "storage error")                                                                                 \
    X(UNAVAIL, 17, 503, "service unavailable")                                                                         \
    X(SEALED, 18, 503, "latchkey is sealed")                                                                           \
    X(BUSY, 19, 503, "storage busy, try again")                                                                        \
    X(RANGE, 20, 400, "value out of range")                                                                            \
    X(INTEGRITY, 21, 500, "stored data failed its integrity check")                                                    \
    X(AGAIN, 22, 503, "waiting for something to be fetched; try again")                                                \
    X(NOTACCEPTABLE, 23, 406, "no answer of a type the client accepts")                                                \
    X(MEDIATYPE, 24, 415, "unsupported media type")

enum lk_errno {
    LK_OK = 0,
#define LK_ERR_ENUM_(name, num, status, msg) LK_E##name = -(num),
    LK_ERRNO_MAP(LK_ERR_ENUM_)
#undef LK_ERR_ENUM_
};

/* Longest message a struct lk_error holds; longer ones are truncated. */
#define LK_ERRMSG_MAX 512

/*
 * A specific, human-readable account of one failure, e.g.
 * "expires: P13M exceeds the maximum of 720 hours for this user".
 * code is 0 while nothing failed.
 */
struct lk_error {
    int code;
    char msg[LK_ERRMSG_MAX];
};

/* Default message for code; "unknown error" for a code not in the table. */
const char *lk_strerror(int code);

/* Symbolic name ("NOTFOUND") for code; "UNKNOWN" if not in the table. */
const char *lk_errname(int code);

/* HTTP status for code; 500 for a code not in the table, 200 for 0. */
int lk_err_status(int code);

/*
 * Records code and a printf-style message in e (which may be NULL) and
 * returns code, so callers can write `return lk_error_set(e, LK_EINVAL, ...)`.
 * A NULL fmt keeps the table's default message.
 */
int lk_error_set(struct lk_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Message to show for e: its own if set, else the table's default. */
const char *lk_error_message(const struct lk_error *e);

#endif
