/*
 * notices_send.h - what one outbox row says, and its one delivery attempt:
 * the e-mail (lib/smtp.h) or the signed webhook call (lib/webhook.h) of a
 * notice, worded and addressed as docs/notices.md shows. For
 * jobs/notices.c only.
 */
#ifndef LK_JOBS_NOTICES_SEND_H
#define LK_JOBS_NOTICES_SEND_H

#include <stddef.h>

struct notices_cfg;
struct notice_rec;
struct svc;
struct transfer;

/*
 * Sends the notice n by e-mail to its recipient, or by webhook, on session
 * t. Returns 0 once the relay or receiver accepted it; otherwise err is
 * filled (never with a secret, a URL or a reply text) and the result is
 * SMTP_PERMANENT (lib/smtp.h) when retrying cannot help (the relay refused
 * the recipient with a 5xx reply), else -1.
 */
int notices_send_email(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                       char *err, size_t errcap);
int notices_send_webhook(const struct notices_cfg *nc, struct svc *svc, const struct notice_rec *n, struct transfer *t,
                         char *err, size_t errcap);

#endif
