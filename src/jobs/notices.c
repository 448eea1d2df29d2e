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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/errors.h"
#include "core/tokfmt.h"
#include "jobs/notices_send.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/smtp.h"
#include "lib/str.h"
#include "lib/transfer.h"
#include "svc/notice_recipients.h"
#include "svc/notices.h"
#include "svc/svc.h"

#define CONNECT_TIMEOUT_S 10L
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

/*
 * One attempt at n. keep_now is the earlier of the pass's time and the real
 * time: a notice is cancelled because its token expired only once it has
 * on the real clock too, so a pass on the test clock ahead of it never
 * takes from the running server a notice it still has time to send.
 * *ret_unreachable gets 1 when the attempt failed without any answer from
 * the peer.
 */
static int deliver_one(struct svc *svc, const struct notices_cfg *nc, struct notice_rec *n, struct transfer *t,
                       int64_t keep_now, struct notices_stats *st, int *ret_unreachable) {
    int64_t now = svc->now;
    *ret_unreachable = 0;
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
    if (keep_now >= n->expires_at) {
        st->cancelled++;
        return settle(svc, n, "cancelled", "the token expired before the notice could be delivered",
                      n->next_attempt_at);
    }
    if (now >= n->expires_at)
        return 0; /* expired only on the test clock: the real clock still needs it */
    if (n->org_id[0] != '\0' && strcmp(n->org_status, "active") != 0)
        return settle(svc, n, "pending", "postponed: the organisation is not active", now + POSTPONE_SECONDS);

    int attempt = n->attempts + 1;
    int64_t backoff = notice_backoff(attempt, NOTICE_BACKOFF_BASE_SECONDS, NOTICE_BACKOFF_CAP_SECONDS);
    int claimed = 0;
    int r = notices_outbox_claim(svc, n->id, now + backoff, &claimed);
    if (r != 0 || !claimed)
        return r;

    char err[STORE_NOTICE_ERROR_MAX], detail[STORE_NOTICE_ERROR_MAX];
    detail[0] = '\0';
    int sent = is_email ? notices_send_email(nc, svc, n, t, detail, sizeof(detail))
                        : notices_send_webhook(nc, svc, n, t, detail, sizeof(detail));
    int ok = sent == 0, permanent = sent == SMTP_PERMANENT;
    *ret_unreachable = !ok && t->no_answer;
    if (!ok && transfer_stop_requested(t->stop))
        str_copy(detail, sizeof(detail), "interrupted by a shutdown before the outcome was known; will retry");
    /* The failing address is named: each recipient's row fails on its own. */
    if (is_email && n->recipient[0] != '\0')
        snprintf(err, sizeof(err), "to %.120s: %.120s", n->recipient, detail); /* the row has the whole address */
    else
        str_copy(err, sizeof(err), detail);
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
    } else if (permanent || attempt >= NOTICE_MAX_ATTEMPTS) {
        str_copy(n->status, sizeof(n->status), "failed");
        str_copy(n->last_error, sizeof(n->last_error), err);
        n->next_attempt_at = now;
        st->failed++;
        if (permanent)
            lk_log(LOG_WARN, "notice %s: token %s: refused for good, not retried: %s", n->id, n->token_id, err);
        else
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
 * for a process that has it. A peer that does not answer at all (no
 * connection, or a hung relay past the transfer timeout) ends the round:
 * the other due notices keep their turn for the next pass instead of each
 * waiting out the same timeout, so a pass spends at most one timeout on a
 * dead peer. */
static int deliver(struct svc *svc, const struct notices_cfg *nc, const char *channel, int64_t keep_now,
                   struct transfer_stop *stop, struct notices_stats *st) {
    /* One session per channel and pass: consecutive messages share a connection. */
    const struct transfer_opts opts = {nc->cfg->notice_ca_file, CONNECT_TIMEOUT_S, (long)nc->cfg->notice_timeout_s};
    struct transfer t;
    transfer_init(&t, &opts, stop);
    int r = 0, unreachable = 0;
    /* Every handled row leaves the due set (delivered, settled, or moved
     * to a later attempt), so re-reading the first batch makes progress;
     * the round limit bounds a pass whatever happens. */
    for (int round = 0; round < 100; round++) {
        struct notice_list list = {0};
        r = notices_outbox_due(svc, channel, NOTICES_BATCH, &list);
        if (r != 0)
            goto out;
        size_t count = list.count;
        for (size_t i = 0; r == 0 && !unreachable && i < count; i++) {
            if (transfer_stop_requested(stop))
                break;
            r = deliver_one(svc, nc, &list.items[i], &t, keep_now, st, &unreachable);
        }
        notice_list_done(&list);
        if (unreachable)
            lk_log(LOG_WARN, "notices: the %s peer did not answer; the other due notices wait for the next pass",
                   channel);
        if (r != 0 || unreachable || count < NOTICES_BATCH || transfer_stop_requested(stop))
            goto out;
    }
out:
    transfer_done(&t);
    return r;
}

int notices_pass(struct store *s, const struct notices_cfg *nc, unsigned channels, int64_t now,
                 struct transfer_stop *stop, struct notices_stats *ret) {
    struct svc svc = {.store = s, .now = now};
    struct notices_stats st;
    memset(&st, 0, sizeof(st));
    int64_t real = clock_now();
    int64_t keep_now = now < real ? now : real;
    struct notices_cfg one = *nc; /* this pass's channels only */
    one.email = nc->email && (channels & NOTICES_EMAIL);
    one.webhook = nc->webhook && (channels & NOTICES_WEBHOOK);
    int r = schedule(&svc, &one, stop, &st.scheduled);
    if (r == 0 && one.email)
        r = deliver(&svc, &one, "email", keep_now, stop, &st);
    if (r == 0 && one.webhook)
        r = deliver(&svc, &one, "webhook", keep_now, stop, &st);
    /* Purged by the real clock at the latest: a pass ahead of it must not
     * delete a row the running server still needs (it would schedule and
     * send that notice again). */
    if (r == 0)
        r = notices_outbox_purge(&svc, keep_now - (int64_t)NOTICES_KEEP_DAYS * NOTICE_DAY_SECONDS);
    if (ret != NULL)
        *ret = st;
    return r;
}

/* --- one pass per channel, side by side ------------------------------------------ */

/* A channel's pass on a connection of its own. */
struct channel_pass {
    pthread_t tid;
    const char *dsn;
    const struct notices_cfg *nc;
    unsigned channel;
    int64_t now;
    struct transfer_stop *stop;
    struct notices_stats st;
    int r;
};

static void *channel_pass_main(void *arg) {
    struct channel_pass *cp = arg;
    struct store *s = NULL;
    cp->r = svc_store_open(cp->dsn, &s);
    if (cp->r == 0)
        cp->r = notices_pass(s, cp->nc, cp->channel, cp->now, cp->stop, &cp->st);
    svc_store_close(s);
    return NULL;
}

static void stats_add(struct notices_stats *sum, const struct notices_stats *st) {
    sum->scheduled += st->scheduled;
    sum->delivered += st->delivered;
    sum->retrying += st->retrying;
    sum->failed += st->failed;
    sum->cancelled += st->cancelled;
}

int notices_run(const char *dsn, const struct notices_cfg *nc, int64_t now, struct transfer_stop *stop,
                struct notices_stats *ret) {
    struct channel_pass cp[2];
    const unsigned channels[2] = {NOTICES_EMAIL, NOTICES_WEBHOOK};
    const int on[2] = {nc->email, nc->webhook};
    int started[2] = {0, 0}, r = 0;
    struct notices_stats sum;
    memset(&sum, 0, sizeof(sum));
    if (!on[0] && !on[1]) {
        /* No channel: nothing to schedule or send, but the purge still runs. */
        cp[0] = (struct channel_pass){.dsn = dsn, .nc = nc, .channel = 0, .now = now, .stop = stop};
        channel_pass_main(&cp[0]);
        if (ret != NULL)
            *ret = cp[0].st;
        return cp[0].r;
    }
    for (int i = 0; i < 2; i++) {
        cp[i] = (struct channel_pass){.dsn = dsn, .nc = nc, .channel = channels[i], .now = now, .stop = stop};
        if (on[i])
            started[i] = pthread_create(&cp[i].tid, NULL, channel_pass_main, &cp[i]) == 0;
        if (on[i] && !started[i])
            r = LK_EINTERNAL;
    }
    for (int i = 0; i < 2; i++) {
        if (!started[i])
            continue;
        pthread_join(cp[i].tid, NULL);
        stats_add(&sum, &cp[i].st);
        if (r == 0)
            r = cp[i].r;
    }
    if (ret != NULL)
        *ret = sum;
    return r;
}

/* --- the notifier: a thread per channel ------------------------------------------ */

/*
 * Each configured channel has a worker thread of its own, with its own
 * store connection, its own copy of the settings (its secret re-read on
 * its own thread) and its own stop, so a hung SMTP relay never holds up
 * the webhook, nor the other way round.
 */
struct notice_worker {
    pthread_t tid;
    struct notifier *nt;
    unsigned channel;
    struct notices_cfg nc;
    struct transfer_stop stop;
    int reload;  /* under nt->lock: re-read the secrets before the next pass */
    int started; /* the thread runs */
};

struct notifier {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping; /* under lock */
    uint32_t interval_s;
    char dsn[PATH_MAX + 16];
    struct notice_worker workers[2];
};

static void *worker_main(void *arg) {
    struct notice_worker *w = arg;
    struct notifier *nt = w->nt;
    const char *name = w->channel == NOTICES_EMAIL ? "e-mail" : "webhook";
    struct store *s = NULL;
    if (svc_store_open(nt->dsn, &s) != 0) {
        lk_log(LOG_ERROR, "notifier (%s): cannot open the store; no expiry notices will be sent", name);
        return NULL;
    }
    pthread_mutex_lock(&nt->lock);
    while (!nt->stopping) {
        int reload = w->reload;
        w->reload = 0;
        pthread_mutex_unlock(&nt->lock);
        if (reload) {
            struct lk_error err = {0};
            if (notices_cfg_reload_secrets(&w->nc, &err) != 0)
                lk_log(LOG_ERROR, "notifier (%s): %s; the secrets in use stay", name, lk_error_message(&err));
            else
                lk_log(LOG_INFO, "notifier: notice secrets re-read");
        }
        struct notices_stats st;
        if (notices_pass(s, &w->nc, w->channel, clock_now(), &w->stop, &st) != 0)
            lk_log(LOG_WARN, "notifier (%s): the notice pass failed on the store; will retry", name);
        pthread_mutex_lock(&nt->lock);
        if (nt->stopping || w->reload)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += nt->interval_s;
        pthread_cond_timedwait(&nt->cond, &nt->lock, &ts);
    }
    pthread_mutex_unlock(&nt->lock);
    svc_store_close(s);
    return NULL;
}

void notifier_stop(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    nt->stopping = 1;
    for (int i = 0; i < 2; i++)
        if (nt->workers[i].started)
            transfer_stop_request(&nt->workers[i].stop);
    pthread_cond_broadcast(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
    for (int i = 0; i < 2; i++) {
        struct notice_worker *w = &nt->workers[i];
        if (w->started)
            pthread_join(w->tid, NULL);
        transfer_stop_done(&w->stop);
        notices_cfg_done(&w->nc);
    }
    pthread_mutex_destroy(&nt->lock);
    pthread_cond_destroy(&nt->cond);
    free(nt);
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
    nt->interval_s = interval_s < 1 ? 1 : interval_s;
    pthread_mutex_init(&nt->lock, NULL);
    pthread_cond_init(&nt->cond, NULL);
    const unsigned channels[2] = {NOTICES_EMAIL, NOTICES_WEBHOOK};
    const int on[2] = {nc->email, nc->webhook};
    int r = 0;
    for (int i = 0; i < 2; i++) {
        struct notice_worker *w = &nt->workers[i];
        w->nt = nt;
        w->channel = channels[i];
        transfer_stop_init(&w->stop);
        if (!on[i] || r != 0)
            continue;
        struct lk_error err = {0};
        if (notices_cfg_init(&w->nc, nc->cfg, &err) != 0) {
            lk_log(LOG_ERROR, "notifier: %s", lk_error_message(&err));
            r = LK_EINVAL;
            continue;
        }
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
            r = LK_EINTERNAL;
        else
            w->started = 1;
    }
    if (r != 0) {
        notifier_stop(nt);
        return r;
    }
    *ret = nt;
    return 0;
}

void notifier_reload(struct notifier *nt) {
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->lock);
    for (int i = 0; i < 2; i++)
        nt->workers[i].reload = 1;
    pthread_cond_broadcast(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
}
