/*
 * webhook.h - POSTing one signed JSON body to a receiver (libcurl, on a
 * lib/transfer.h session), and the signature it carries.
 *
 * The signature scheme: a header "<name>: t=<unix time>,v1=<hex
 * HMAC-SHA256(key, "<t>.<body>")>". The receiver recomputes the HMAC over
 * the same bytes, compares in constant time, and may refuse an old t.
 *
 * Knows nothing of what the body says; never puts the key, the URL or the
 * receiver's answer anywhere but on the wire.
 */
#ifndef LK_LIB_WEBHOOK_H
#define LK_LIB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

struct transfer; /* lib/transfer.h */

/* "t=<20 digits>,v1=<64 hex>" and NUL. */
#define WEBHOOK_SIG_BUFSZ 96
/* The longest header line a request may add ("Name: value"). */
#define WEBHOOK_HEADER_MAX 512

/* 1 if url is http://HOST... or https://HOST... without user info. */
int webhook_url_ok(const char *url);

/*
 * The signature value for body[0..len) signed at unix time t with
 * key[0..key_len): "t=<t>,v1=<64 hex digits>". Returns 0, -1 for a NULL or
 * empty key, a negative t or a NULL body with len > 0, or -2 if OpenSSL
 * failed. Nothing of the key is left on the stack.
 */
int webhook_sign(const void *key, size_t key_len, int64_t t, const char *body, size_t len, char out[WEBHOOK_SIG_BUFSZ]);

struct webhook_request {
    const char *url;  /* http:// or https:// */
    const char *body; /* JSON, sent as it is */
    size_t len;
    const char *signature_header; /* "X-Example-Signature"; NULL = unsigned */
    const void *key;              /* signing key, with signature_header */
    size_t key_len;
    int64_t signed_at;          /* the signature's t */
    const char *const *headers; /* more "Name: value" lines, after the signature */
    size_t nheaders;
    const char *user_agent; /* "product/1.0"; NULL = libcurl's none */
};

/*
 * POSTs rq->body with Content-Type: application/json, the signature header,
 * rq->headers and User-Agent in that order, on session t. Returns 0 when the
 * receiver answered 2xx, or -1 with err filled: "out of memory", "cannot
 * sign the webhook body", "cannot start an HTTP transfer", "webhook:
 * <libcurl's message>[ (server answered N)]" or "webhook: the receiver
 * answered HTTP N". Redirects are not followed. A stop requested on t's
 * transfer_stop makes it fail promptly.
 */
int webhook_post(struct transfer *t, const struct webhook_request *rq, char *err, size_t errcap);

#endif
