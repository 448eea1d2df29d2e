/*
 * smtp.h - sending one plain-text e-mail through a relay: address checks,
 * the message's header block, and the SMTP transfer (libcurl, on a
 * lib/transfer.h session).
 *
 * Knows nothing of who writes to whom or why: the caller brings the
 * headers, the body, the envelope and the relay, and gets 0 or a short
 * message naming what failed (never a URL, a reply text or the password).
 */
#ifndef LK_LIB_SMTP_H
#define LK_LIB_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/transfer.h"

/* An address must be shorter than this (RFC 5321's limit on a path). */
#define SMTP_ADDRESS_MAX 256
/* "Thu, 01 Jan 1970 00:00:00 +0000" and NUL, with room to spare. */
#define SMTP_DATE_BUFSZ 64

/*
 * 1 if s can go into a mail header or an SMTP command as an address:
 * local@domain with neither part empty, shorter than SMTP_ADDRESS_MAX, and
 * no space, control character or any of <>,;"()[]\ (so it can never break
 * out of a header or a command). A deliberately narrow check, not RFC 5322.
 */
int smtp_address_ok(const char *s);

/* 1 if url is smtp://HOST... or smtps://HOST... without user info. */
int smtp_url_ok(const char *url);

/* The RFC 5322 Date value of unix time t in UTC ("Fri, 08 Jan 2027 10:00:00 +0000"). */
void smtp_date(int64_t t, char out[SMTP_DATE_BUFSZ]);

/*
 * Joins addrs[0..n) as "a, b, c" (a To: value) into out[0..cap). Returns 0,
 * or -1 if it does not fit (out is then undefined but NUL-terminated).
 */
int smtp_join_addresses(const char *const *addrs, size_t n, char *out, size_t cap);

struct smtp_header {
    const char *name; /* "Subject" */
    const char *value;
};

/*
 * Writes a message: each header as "Name: value" CRLF, in the given order,
 * an empty line, then body as it is (its lines must already end in CRLF)
 * into out[0..cap), NUL-terminated; *ret_len gets its length. Returns 0,
 * -1 if it does not fit, or -2 if a header name is empty or holds ':', a
 * space or a control character, or a value holds CR or LF (so no caller's
 * text can add a header).
 */
int smtp_format(char *out, size_t cap, const struct smtp_header *headers, size_t n, const char *body, size_t *ret_len);

/* A relay: smtps:// is TLS from the start; smtp:// uses STARTTLS when the
 * server offers it, and requires it when a username is set, so a password
 * never crosses the network in the clear. */
struct smtp_relay {
    const char *url;      /* smtp://HOST:PORT or smtps://HOST:PORT */
    const char *username; /* NULL or "" = no authentication */
    const char *password; /* NULL = none; with username only */
};

/*
 * Sends msg[0..len) (a whole message, as smtp_format() writes it) from
 * `from` to rcpt[0..nrcpt) through relay, on session t. Returns 0 once the
 * relay accepted it; SMTP_PERMANENT if the relay refused with a 5xx reply
 * (a recipient it will never take, say: retrying cannot help); or -1 for
 * any other failure (a 4xx reply, no answer, no connection), which may pass.
 * err is filled on failure: "out of memory", "cannot start an SMTP
 * transfer", or "SMTP: <libcurl's message>[ (server answered N)]". A stop
 * requested on t's transfer_stop makes it fail promptly.
 */
#define SMTP_PERMANENT (-2)
int smtp_send(struct transfer *t, const struct smtp_relay *relay, const char *from, const char *const *rcpt,
              size_t nrcpt, const char *msg, size_t len, char *err, size_t errcap);

#endif
