/*
 * notices.c - token expiry notices: fills the outbox by the schedule rule
 * of core/notice.c and works through it, one delivery attempt per due
 * notice with its outcome committed at once, on the notifier thread or in
 * one operator pass.
 *
 * Reaches the outbox only through svc/notices.h and learns who is told
 * from svc/notice_recipients.h; what a notice says and how it travels is
 * jobs/notices_send.c over lib/smtp.c and lib/webhook.c. Must never run
 * on an h2o event loop (every delivery blocks on the network); last_error
 * is built from generic transfer messages and status codes, never from a
 * URL, a server's reply or a secret.
 */
#include "jobs/notices.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/errors.h"
#include "core/tokfmt.h"
#include "jobs/notices_send.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/transfer.h"
#include "svc/notice_recipients.h"
#include "svc/notices.h"
#include "svc/svc.h"

#define CONNECT_TIMEOUT_S 10L
#define TRANSFER_TIMEOUT_S 30L
/* A notice held back (org not active, channel not configured) is looked at again after this long. */
#define POSTPONE_SECONDS 3600

/* --- scheduling ------------------------------------------------------------------ */

/* Schedules the row of candidate c for offset days on channel, to recipient
 * ("" for a webhook, or for an e-mail notice with nobody to send it to). */
static int schedule_row(struct svc *svc, const struct notice_candidate *c, int days, const char *channel,
                        const char *recipient, const char *status, const char *why, size_t *scheduled) {
    struct notice_rec n;
    memset(&n, 0, sizeof(n));
    if (notice_id(c->token_id, days, channel, recipient, n.id) != 0)
        return LK_EINTERNAL;
    str_copy(n.token_id, sizeof(n.token_id), c->token_id);
    str_copy(n.org_id, sizeof(n.org_id), c->org_id);
    str_copy(n.owner_type, sizeof(n.owner_type), c->owner_type);
    str_copy(n.owner_id, sizeof(n.owner_id), c->owner_id);
    str_copy(n.channel, sizeof(n.channel), channel);
    str_copy(n.recipient, sizeof(n.recipient), recipient);
    str_copy(n.status, sizeof(n.status), status);
    str_copy(n.last_error, sizeof(n.last_error), why);
    n.days_before = days;
    n.expires_at = c->expires_at;
    n.next_attempt_at = svc->now;
    n.created_at = n.updated_at = svc->now;
    int inserted = 0;
    int r = notices_outbox_insert(svc, &n, &inserted);
    *scheduled += (size_t)inserted;
    return r;
}

/* The e-mail rows of c's offset days: one per recipient, each delivered and
 * retried on its own, in status with why ("pending" and "" for the due
 * offset). Read on every pass while the offset is due, so an owner who
 * joins the team meanwhile is told too; a recipient's row that exists
 * stays as it is. */
static int schedule_email(struct svc *svc, const struct notice_candidate *c, int days, const char *status,
                          const char *why, size_t *scheduled) {
    struct notice_recipient_list *rl = malloc(sizeof(*rl));
    if (rl == NULL)
        return LK_ENOMEM;
    int r = notice_recipients_of(svc, c->owner_type, c->owner_id, rl);
    if (r == 0 && rl->count == 0)
        r = schedule_row(svc, c, days, "email", "", "skipped", notice_recipients_none_reason(c->owner_type), scheduled);
    for (size_t k = 0; r == 0 && k < rl->count; k++)
        r = schedule_row(svc, c, days, "email", rl->items[k], status, why, scheduled);
    free(rl);
    return r;
}

static int schedule_one(struct svc *svc, const struct notices_cfg *nc, const struct notice_candidate *c,
                        size_t *scheduled) {
    enum notice_verdict v[NOTICE_OFFSETS_MAX];
    struct tokfmt_parsed p;
    /* API keys only: login sessions and workload identity tokens are short
     * lived by design and renewed by their clients, not by people. */
    if (tokfmt_parse_pubid(c->token_id, strlen(c->token_id), &p) != 0 ||
        (p.kind != TOK_KIND_USER && p.kind != TOK_KIND_SA && p.kind != TOK_KIND_ROOT))
        return 0;
    int due = notice_due(c->created_at, c->expires_at, svc->now, nc->days, nc->ndays, c->notify_short_lived, v);
    int by_email = nc->email && notice_recipients_by_email(c->owner_type);
    int r = 0;
    for (size_t i = 0; r == 0 && i < nc->ndays; i++) {
        int d = nc->days[i];
        if (v[i] == NOTICE_SUPERSEDED) {
            static const char why[] =
                "its time passed while a more imminent notice was due (server down or delivery late)";
            if (by_email)
                r = schedule_email(svc, c, d, "skipped", why, scheduled);
            if (r == 0 && nc->webhook)
                r = schedule_row(svc, c, d, "webhook", "", "skipped", why, scheduled);
        } else if (v[i] == NOTICE_DUE) {
            if (by_email)
                r = schedule_email(svc, c, d, "pending", "", scheduled);
            if (r == 0 && nc->webhook)
                r = schedule_row(svc, c, d, "webhook", "", "pending", "", scheduled);
        }
    }
    if (r == 0 && due >= 0)
        r = notices_outbox_supersede(svc, c->token_id, nc->days[due]);
    return r;
}

static int schedule(struct svc *svc, const struct notices_cfg *nc, struct transfer_stop *stop, size_t *scheduled) {
    if ((!nc->email && !nc->webhook) || nc->ndays == 0)
        return 0;
    int64_t horizon = svc->now + (int64_t)nc->days[0] * NOTICE_DAY_SECONDS; /* days[0] is the largest */
    int64_t after = 0;
    for (;;) {
        struct notice_candidate_list list = {0};
        int r = notices_tokens_expiring(svc, horizon, after, NOTICES_BATCH, &list);
        if (r != 0)
            return r;
        for (size_t i = 0; r == 0 && i < list.count; i++)
            r = schedule_one(svc, nc, &list.items[i], scheduled);
        size_t count = list.count;
        if (count > 0)
            after = list.items[count - 1].seq;
        notice_candidate_list_done(&list);
        if (r != 0)
            return r;
        if (count < NOTICES_BATCH || transfer_stop_requested(stop))
            return 0;
    }
}

/* --- delivery ----------------------------------------------------------------------- */

/* Records a final or postponed state for n without an attempt. */
static int settle(struct svc *svc, struct notice_rec *n, const char *status, const char *why, int64_t next) {
    str_copy(n->status, sizeof(n->status), status);
    str_copy(n->last_error, sizeof(n->last_error), why);
    n->next_attempt_at = next;
    n->updated_at = svc->now;
    return notices_outbox_finish(svc, n);
}

static int deliver_one(struct svc *svc, const struct notices_cfg *nc, struct notice_rec *n, struct transfer *t,
                       struct notices_stats *st) {
    int64_t now = svc->now;
    int is_email = strcmp(n->channel, "email") == 0;
    if (!n->token_exists) {
        st->cancelled++;
        return settle(svc, n, "cancelled", NOTICES_WHY_DELETED, n->next_attempt_at);
    }
    if (n->token_expires_at != n->expires_at) {
        st->cancelled++;
        return settle(svc, n, "cancelled", "the token's expiry changed since the notice was scheduled",
                      n->next_attempt_at);
    }
    if (now >= n->expires_at) {
        st->cancelled++;
        return settle(svc, n, "cancelled", "the token expired before the notice could be delivered",
                      n->next_attempt_at);
    }
    if (n->org_id[0] != '\0' && strcmp(n->org_status, "active") != 0)
        return settle(svc, n, "pending", "postponed: the organisation is not active", now + POSTPONE_SECONDS);

    int attempt = n->attempts + 1;
    int64_t backoff = notice_backoff(attempt, NOTICE_BACKOFF_BASE_SECONDS, NOTICE_BACKOFF_CAP_SECONDS);
    int claimed = 0;
    int r = notices_outbox_claim(svc, n->id, now + backoff, &claimed);
    if (r != 0 || !claimed)
        return r;

    char err[STORE_NOTICE_ERROR_MAX];
    err[0] = '\0';
    int ok = (is_email ? notices_send_email(nc, svc, n, t, err, sizeof(err))
                       : notices_send_webhook(nc, svc, n, t, err, sizeof(err))) == 0;
    if (!ok && transfer_stop_requested(t->stop))
        str_copy(err, sizeof(err), "interrupted by a shutdown before the outcome was known; will retry");
    n->attempts = attempt;
    n->updated_at = now;
    if (ok) {
        /* Committed at once: from here on a crash cannot make it go out twice. */
        str_copy(n->status, sizeof(n->status), "delivered");
        n->last_error[0] = '\0';
        n->delivered_at = now;
        n->next_attempt_at = now;
        st->delivered++;
        lk_log(LOG_INFO, "notice %s: token %s, %d-day notice, delivered by %s", n->id, n->token_id, n->days_before,
               n->channel);
    } else if (attempt >= NOTICE_MAX_ATTEMPTS) {
        str_copy(n->status, sizeof(n->status), "failed");
        str_copy(n->last_error, sizeof(n->last_error), err);
        n->next_attempt_at = now;
        st->failed++;
        lk_log(LOG_WARN, "notice %s: token %s: gave up after %d attempts: %s", n->id, n->token_id, attempt, err);
    } else {
        str_copy(n->status, sizeof(n->status), "pending");
        str_copy(n->last_error, sizeof(n->last_error), err);
        n->next_attempt_at = now + backoff;
        st->retrying++;
        lk_log(LOG_WARN, "notice %s: token %s: attempt %d failed, retrying in %lld s: %s", n->id, n->token_id, attempt,
               (long long)backoff, err);
    }
    return notices_outbox_finish(svc, n);
}

/* Delivers the due notices of one channel. A channel that is not
 * configured in this process is left alone: its notices wait, untouched,
 * for a process that has it. */
static int deliver(struct svc *svc, const struct notices_cfg *nc, const char *channel, struct transfer_stop *stop,
                   struct notices_stats *st) {
    /* One session per channel and pass: consecutive messages share a connection. */
    const struct transfer_opts opts = {nc->cfg->notice_ca_file, CONNECT_TIMEOUT_S, TRANSFER_TIMEOUT_S};
    struct transfer t;
    transfer_init(&t, &opts, stop);
    int r = 0;
    /* Every handled row leaves the due set (delivered, settled, or moved
     * to a later attempt), so re-reading the first batch makes progress;
     * the round limit bounds a pass whatever happens. */
    for (int round = 0; round < 100; round++) {
        struct notice_list list = {0};
        r = notices_outbox_due(svc, channel, NOTICES_BATCH, &list);
        if (r != 0)
            goto out;
        size_t count = list.count;
        for (size_t i = 0; r == 0 && i < count; i++) {
            if (transfer_stop_requested(stop))
                break;
            r = deliver_one(svc, nc, &list.items[i], &t, st);
        }
        notice_list_done(&list);
        if (r != 0 || count < NOTICES_BATCH || transfer_stop_requested(stop))
            goto out;
    }
out:
    transfer_done(&t);
    return r;
}

int notices_pass(struct store *s, const struct notices_cfg *nc, int64_t now, struct transfer_stop *stop,
                 struct notices_stats *ret) {
    struct svc svc = {.store = s, .now = now};
    struct notices_stats st;
    memset(&st, 0, sizeof(st));
    int r = schedule(&svc, nc, stop, &st.scheduled);
    if (r == 0 && nc->email)
        r = deliver(&svc, nc, "email", stop, &st);
    if (r == 0 && nc->webhook)
        r = deliver(&svc, nc, "webhook", stop, &st);
    if (r == 0)
        r = notices_outbox_purge(&svc, now - (int64_t)NOTICES_KEEP_DAYS * NOTICE_DAY_SECONDS);
    if (ret != NULL)
        *ret = st;
    return r;
}

/* --- the notifier thread ---------------------------------------------------------- */

struct notifier {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct transfer_stop stop;
    struct notices_cfg *nc; /* its secrets are this thread's to read and to reload */
    int reload;             /* under lock: re-read the secrets before the next pass */
    uint32_t interval_s;
    char dsn[PATH_MAX + 16];
};

static void *notifier_main(void *arg) {
    struct notifier *nt = arg;
    struct store *s = NULL;
    if (svc_store_open(nt->dsn, &s) != 0) {
        lk_log(LOG_ERROR, "notifier: cannot open the store; no expiry notices will be sent");
        return NULL;
    }
    pthread_mutex_lock(&nt->lock);
    while (!transfer_stop_requested(&nt->stop)) {
        int reload = nt->reload;
        nt->reload = 0;
        pthread_mutex_unlock(&nt->lock);
        if (reload) {
            struct lk_error err = {0};
            if (notices_cfg_reload_secrets(nt->nc, &err) != 0)
                lk_log(LOG_ERROR, "notifier: %s; the secrets in use stay", lk_error_message(&err));
            else
                lk_log(LOG_INFO, "notifier: notice secrets re-read");
        }
        struct notices_stats st;
        if (notices_pass(s, nt->nc, clock_now(), &nt->stop, &st) != 0)
            lk_log(LOG_WARN, "notifier: the notice pass failed on the store; will retry");
        pthread_mutex_lock(&nt->lock);
        if (transfer_stop_requested(&nt->stop))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += nt->interval_s;
        pthread_cond_timedwait(&nt->cond, &nt->lock, &ts);
    }
    pthread_mutex_unlock(&nt->lock);
    svc_store_close(s);
    return NULL;
}

int notifier_start(const char *dsn, struct notices_cfg *nc, uint32_t interval_s, struct notifier **ret) {
    struct notifier *nt = calloc(1, sizeof(*nt));
    if (nt == NULL)
        return LK_ENOMEM;
    if (strlen(dsn) >= sizeof(nt->dsn)) {
        free(nt);
        return LK_EINVAL;
    }
    memcpy(nt->dsn, dsn, strlen(dsn) + 1);
    nt->nc = nc;
    nt->interval_s = interval_s < 1 ? 1 : interval_s;
    transfer_stop_init(&nt->stop);
    pthread_mutex_init(&nt->lock, NULL);
    pthread_cond_init(&nt->cond, NULL);
    if (pthread_create(&nt->tid, NULL, notifier_main, nt) != 0) {
        pthread_mutex_destroy(&nt->lock);
        pthread_cond_destroy(&nt->cond);
        transfer_stop_done(&nt->stop);
        free(nt);
        return LK_EINTERNAL;
    }
    *ret = nt;
    return 0;
}

void notifier_reload(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    nt->reload = 1;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
}

void notifier_stop(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    transfer_stop_request(&nt->stop);
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
    pthread_join(nt->tid, NULL);
    pthread_mutex_destroy(&nt->lock);
    pthread_cond_destroy(&nt->cond);
    transfer_stop_done(&nt->stop);
    free(nt);
}
