/*
 * notices.h - token expiry notices (e-mail 7 days and 1 day before
 * a token expires): scheduling into the store's outbox and delivering by
 * SMTP and/or a signed webhook, from a background thread or one operator
 * pass. The rules themselves are in core/notice.h, who is told in
 * svc/notice_recipients.h, the outbox in svc/notices.h, the transports in
 * lib/smtp.h and lib/webhook.h; docs/notices.md has the design (outbox
 * states, retries, the crash window, the test clock).
 */
#ifndef LK_JOBS_NOTICES_H
#define LK_JOBS_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "core/notice.h"

struct config;
struct store;
struct lk_error;
struct transfer_stop; /* lib/transfer.h */

/* Notices announcing an expiry more than this long ago are deleted. */
#define NOTICES_KEEP_DAYS 90
/* Rows handled per store round trip. */
#define NOTICES_BATCH 100

/* What a pass needs, loaded once from the configuration. Holds the SMTP
 * password and the webhook secret in memory only; notices_cfg_done() wipes
 * them. Read-only while passes run, so threads may share it. */
struct notices_cfg {
    const struct config *cfg; /* URLs, addresses; must outlive this */
    int days[NOTICE_OFFSETS_MAX];
    size_t ndays;
    int email;   /* 1 if an SMTP relay is configured */
    int webhook; /* 1 if a webhook URL is configured */
    char *smtp_password;
    char *webhook_secret;
    size_t webhook_secret_len;
    int curl_ready; /* transfer_global_init() succeeded; undone by notices_cfg_done() */
};

/*
 * Validates the notice settings of cfg and reads the secrets (from the
 * named file, else from LATCHKEY_SMTP_PASSWORD / LATCHKEY_NOTICE_WEBHOOK_SECRET).
 * Returns 0, or LK_EINVAL with a message naming the setting (never a value
 * of a secret). Calls transfer_global_init(): call before starting threads,
 * and call notices_cfg_done() afterwards (on failure too).
 */
int notices_cfg_init(struct notices_cfg *nc, const struct config *cfg, struct lk_error *err);

/* Re-reads the SMTP password and webhook secret from their files (not the
 * environment, which cannot change). On failure nothing changes. 0 or
 * LK_EINVAL with a message naming the setting, never a value. */
int notices_cfg_reload_secrets(struct notices_cfg *nc, struct lk_error *err);

/* Wipes and frees the secrets. NULL-safe. */
void notices_cfg_done(struct notices_cfg *nc);

struct notices_stats {
    size_t scheduled; /* rows newly put into the outbox (any state) */
    size_t delivered;
    size_t retrying; /* failed attempts that will be retried */
    size_t failed;   /* given up */
    size_t cancelled;
};

/* The channels a pass works on (a mask). */
#define NOTICES_EMAIL 1u
#define NOTICES_WEBHOOK 2u

/*
 * One pass at time now on the connection s, for the configured channels
 * among `channels`: schedules what is due (core/notice.h's rule) and
 * delivers every pending notice whose next attempt is due, committing
 * each outcome right after its attempt. What would take a row from the
 * running server for good (deleting old rows; cancelling a notice because
 * its token expired) never runs ahead of the real clock, so a pass on the
 * test clock ahead of it can never make the server send a notice twice or
 * lose one it still has time to send. Stops early
 * once stop (may be NULL) is requested, aborting a transfer in flight. ret
 * (may be NULL) gets the counts. Returns 0, or an LK_E* code if the store
 * failed.
 */
int notices_pass(struct store *s, const struct notices_cfg *nc, unsigned channels, int64_t now,
                 struct transfer_stop *stop, struct notices_stats *ret);

/* One pass per configured channel, side by side on threads of their own,
 * each with its own connection to dsn (the operator's pass): a hung relay
 * does not hold up the webhook. ret gets the summed counts. */
int notices_run(const char *dsn, const struct notices_cfg *nc, int64_t now, struct transfer_stop *stop,
                struct notices_stats *ret);

/* The server's background thread ("notifier"). */
struct notifier;

/* Starts a thread per configured channel; each opens its own connection to
 * dsn and runs a pass of its channel every interval_s seconds on the real
 * clock, with its own copy of nc's settings and secrets (nc need not
 * outlive the call). */
int notifier_start(const char *dsn, struct notices_cfg *nc, uint32_t interval_s, struct notifier **ret);

/* Asks the notifier to re-read the secrets that come from files (SIGHUP):
 * on its thread, before its next pass, which it starts at once. A file that
 * cannot be read leaves the secrets in use as they were, and says so in
 * the log. */
void notifier_reload(struct notifier *n);

/* Asks the thread to stop (aborting a delivery in flight; the notice stays
 * pending and is retried), joins it and frees it. NULL-safe. */
void notifier_stop(struct notifier *n);

#endif
