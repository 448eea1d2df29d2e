/*
 * notice.h - the pure rules of token expiry notices (7 days and
 * 1 day before the expiry, as appropriate): which offset is due, the
 * retry backoff, stable notice ids and the webhook signature header.
 *
 * No I/O, no clock, no allocation: every time is an argument, so the rules
 * are table-tested (tests/unit/core/test_notice.c). The outbox and the
 * delivery live in jobs/notices.c; docs/notices.md explains the design.
 */
#ifndef LK_CORE_NOTICE_H
#define LK_CORE_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#define NOTICE_DAY_SECONDS 86400
/* At most this many offsets in --notice-days, each 1..NOTICE_DAYS_MAX. */
#define NOTICE_OFFSETS_MAX 16
#define NOTICE_DAYS_MAX 3650
/* "ntc_" and 24 hex digits. */
#define NOTICE_ID_BUFSZ 32
/* "t=<20 digits>,v1=<64 hex>" and NUL. */
#define NOTICE_SIG_BUFSZ 96

/* Retries: base * 2^(attempt-1) seconds, at most the cap; after
 * NOTICE_MAX_ATTEMPTS failed attempts a notice is given up ("failed"). */
#define NOTICE_BACKOFF_BASE_SECONDS 60
#define NOTICE_BACKOFF_CAP_SECONDS 3600
#define NOTICE_MAX_ATTEMPTS 8

/*
 * Parses a comma-separated list of whole days ("60,30,7,1") into
 * ret_days[0..cap), sorted from the largest to the smallest, without
 * duplicates. Each must be 1..NOTICE_DAYS_MAX; at least one, at most cap.
 * Returns 0 and *ret_n, or LK_EINVAL (outputs untouched).
 */
int notice_offsets_parse(const char *s, int *ret_days, size_t cap, size_t *ret_n);

/* What notice_due() decides for one offset. */
enum notice_verdict {
    NOTICE_NOT_YET = 0,    /* its moment has not come (or the token expired) */
    NOTICE_NOT_APPLICABLE, /* the token was created after that moment */
    NOTICE_DUE,            /* send this one now */
    NOTICE_SUPERSEDED,     /* its moment passed, but a more imminent one is due */
};

/*
 * The schedule rule. The moment of offset d is expires_at - d days. An
 * offset applies only when the token existed before its moment
 * (created_at < moment): a token created with 3 days left never gets a
 * 7-day notice. The smallest offset, the final warning, is the one
 * exception, and only when short_lived is set (the org's
 * notify_short_lived_tokens): then a token born inside its window (its
 * whole life shorter than the smallest offset, as a CI token of an hour)
 * gets it at once; otherwise such a token gets no notice at all (it was
 * made to be short-lived, and its maker knows its expiry). Of the
 * applicable offsets whose moment has come (moment <= now < expires_at),
 * only the most imminent one (the smallest d) is DUE; the others are
 * SUPERSEDED (the server was down, or a delivery was late: the stale
 * notice is skipped, never sent after a fresher one). No notice is due
 * once now >= expires_at, nor for a token without expiry (expires_at == 0).
 *
 * days[0..n) are the offsets (any order); ret_verdicts[0..n) gets one
 * verdict each. Returns the index of the DUE offset, or -1 if none.
 */
int notice_due(int64_t created_at, int64_t expires_at, int64_t now, const int *days, size_t n, int short_lived,
               enum notice_verdict *ret_verdicts);

/* Seconds to wait after the attempt-th failed attempt (attempt >= 1):
 * base * 2^(attempt-1), never more than cap; base when attempt < 1. */
int64_t notice_backoff(int attempt, int64_t base, int64_t cap);

/*
 * The stable id of the notice for (token_id, days, channel, recipient):
 * "ntc_" and the first 24 hex digits of
 * SHA-256("<token_id>/<days>/<channel>/<recipient>"), or of
 * SHA-256("<token_id>/<days>/<channel>") when recipient is NULL or "" (a
 * webhook notice, or an e-mail one with nobody to send to). The same
 * inputs give the same id on every run, so receivers can deduplicate on it
 * (it is the e-mail Message-ID and the webhook X-Latchkey-Delivery).
 * Returns 0 or LK_EINVAL (empty or oversized inputs).
 */
int notice_id(const char *token_id, int days, const char *channel, const char *recipient, char out[NOTICE_ID_BUFSZ]);

/*
 * The webhook signature header value for body signed at unix time t:
 * "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". The receiver
 * recomputes the HMAC over the same bytes and compares in constant time.
 * The scheme is lib/webhook.h's webhook_sign(), which the notifier's POST
 * uses; this is it with latchkey's error codes. Returns 0, LK_EINVAL (no
 * secret, t < 0, or more than 4 KiB to sign) or LK_EINTERNAL.
 */
int notice_signature(const void *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                     char out[NOTICE_SIG_BUFSZ]);

#endif
