/*
 * transfer.h - one outgoing libcurl transfer at a time, for clients that
 * send a message and want to know whether it arrived: certificates always
 * verified, bounded timeouts, every socket O_CLOEXEC, the connection kept
 * for the next message to the same peer, and a stop that another thread
 * can pull in the middle of a transfer.
 *
 * Knows nothing of what is sent or why; lib/smtp.h and lib/webhook.h build
 * on it. Never logs: failures come back as short messages that name what
 * failed and never hold a URL, a reply text or a credential.
 */
#ifndef LK_LIB_TRANSFER_H
#define LK_LIB_TRANSFER_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* curl_global_init() / curl_global_cleanup(): once per process, before any
 * thread uses a transfer and after the last one is done. 0 or -1. */
int transfer_global_init(void);
void transfer_global_done(void);

/*
 * Lets another thread stop transfers promptly. libcurl does not call its
 * progress callback everywhere (it waits for an SMTP server's answer to DATA
 * without one), so a request also shuts down the sockets of the transfer in
 * flight. The lock guards fds: a socket is never closed, and its number
 * reused elsewhere, while the stopper looks at it.
 */
#define TRANSFER_STOP_FDS 4
struct transfer_stop {
    atomic_int requested;
    pthread_mutex_t lock;
    int fds[TRANSFER_STOP_FDS]; /* sockets of the transfer in flight, -1 = free */
};
void transfer_stop_init(struct transfer_stop *st);
void transfer_stop_done(struct transfer_stop *st);
/* Sets the flag and shuts down the transfer's sockets. Thread-safe. Once
 * requested, every later transfer with this stop fails at once. */
void transfer_stop_request(struct transfer_stop *st);
/* 1 once a stop was requested (0 for NULL). */
int transfer_stop_requested(struct transfer_stop *st);

/* How transfers connect. */
struct transfer_opts {
    const char *ca_file;    /* PEM CA file that verification trusts; NULL or "" = the system's bundle */
    long connect_timeout_s; /* to connect */
    long timeout_s;         /* the whole transfer, and each answer an SMTP server owes */
};

/*
 * A sender's session: consecutive transfers reuse one libcurl handle, so
 * messages to the same peer share a connection (libcurl keeps it across
 * curl_easy_reset()); after a failure the next transfer starts on a fresh
 * handle and connection. One thread at a time.
 */
struct transfer {
    struct transfer_opts opts;  /* copied; ca_file must outlive the session */
    struct transfer_stop *stop; /* may be NULL */
    CURL *handle;               /* NULL until the first transfer */
    int no_answer;              /* the last transfer failed without an answer: no connection, or a timeout */
};

/* Starts a session (no connection yet). stop may be NULL. */
void transfer_init(struct transfer *t, const struct transfer_opts *opts, struct transfer_stop *stop);

/* Ends a session and closes its connection. NULL-safe; may be called twice. */
void transfer_done(struct transfer *t);

/*
 * For lib/smtp.c and lib/webhook.c. transfer_begin() gives the session's
 * handle, reset and set up with the common options (verification, timeouts,
 * the stop's hooks), or NULL if libcurl has no memory. transfer_failed()
 * drops the handle after a failed transfer (libcurl's result rc, CURLE_OK
 * when the peer answered but said no) so the next one reconnects, and sets
 * no_answer when the peer never answered (no connection, or a timeout).
 * transfer_error() writes "<what>: <libcurl's generic message>" and, when
 * the server answered with a code, " (server answered N)".
 */
CURL *transfer_begin(struct transfer *t);
void transfer_failed(struct transfer *t, CURLcode rc);
void transfer_error(char *err, size_t cap, const char *what, CURL *c, CURLcode rc);

/*
 * A bounded in-memory answer body: pass transfer_body_write as
 * CURLOPT_WRITEFUNCTION and the struct as CURLOPT_WRITEDATA. The caller
 * owns data (at least cap bytes) and sets len and too_big to 0 first. A
 * body longer than cap bytes sets too_big and makes libcurl stop the
 * transfer (CURLE_WRITE_ERROR); data then holds the first len bytes. The
 * body is not NUL-terminated (a caller that needs that gives a buffer of
 * cap + 1 bytes).
 */
struct transfer_body {
    char *data;
    size_t cap;
    size_t len;
    int too_big;
};
size_t transfer_body_write(char *p, size_t size, size_t nmemb, void *arg);

/* 1 if url starts with scheme_a or scheme_b ("smtp://") and names a host,
 * without user info or any control character or space; else 0. */
int transfer_url_ok(const char *url, const char *scheme_a, const char *scheme_b);

#endif
