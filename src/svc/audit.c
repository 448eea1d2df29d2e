/*
 * audit.c - the audit chain appender and the group-commit writer thread.
 *
 * The writer owns one store connection. Each round it takes every queued
 * entry, appends the records in one transaction, copies them to the file
 * sink, runs one store_sync() if anybody waits for durability, and tells
 * each waiting subscriber how its tickets ended. Everything queued while
 * it syncs goes into the next round's one commit and one sync. It never
 * drops a record silently: a batch that cannot be written is retried, then
 * counted as failed, logged and reported to its waiters (who answer 503).
 *
 * Must never block a worker for longer than a queue copy, and never write
 * a secret: records arrive with public ids and HMACs only.
 */
#include "svc/audit.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/secret.h"
#include "lib/clock.h"
#include "lib/cpu.h"
#include "lib/log.h"
#include "lib/str.h"
#include "store/store.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/seal.h"
#include "svc/svc.h"

#define WRITE_ATTEMPTS 3
/* Group commit: a batch of only unwaited records is held back up to this
 * long for more to arrive, so commits write whole pages of records rather
 * than a few pages per record. A batch somebody waits on goes at once:
 * waiters gather behind the sync in progress, without a delay of their own
 * (measured: a 200 us delay for company cost ~10% of durable reads). */
#define GATHER_US 2000
#define GATHER_ENOUGH 512

struct entry {
    struct audit_rec rec;
    uint64_t ticket;
    int sub;     /* subscriber to tell, or -1 */
    int has_rec; /* rec is set */
    int stored;  /* rec is already in the store: durability and file sink only */
    int sync;
    int64_t enq_us; /* when it was queued (monotonic), for the pipeline's wait figures */
};

struct subscriber {
    audit_notify_fn fn;
    void *arg;
};

struct audit_log {
    /* Under lock: the queue, the ticket counter, stopping. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct entry *queue;
    size_t qlen;
    uint64_t next_ticket;
    int stopping;
    int has_sync;  /* a queued entry has a waiter */
    int gathering; /* the writer is holding a small batch back */

    /* Writer thread only. */
    pthread_t tid;
    int started;
    struct entry *batch;
    struct store *store;
    char file_path[PATH_MAX];
    int file_fd;

    /* Read-only after start. */
    struct subscriber subs[AUDIT_MAX_SUBSCRIBERS];
    int nsubs;

    int sync_broken;   /* a sync failed: nothing is reported durable again */
    atomic_int health; /* enum audit_health, for readers on other threads */

    /* The checkpointer: copies the WAL back into the database on its own
     * connection when a commit noted that one is due, so that neither an
     * event loop nor the writer (and every answer waiting on it) stops for
     * the copy and its two syncs. Under ckpt_lock: kick, stopping, figures. */
    pthread_t ckpt_tid;
    int ckpt_started;
    struct store *ckpt_store;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
    int ckpt_kick, ckpt_stopping;
    uint64_t ckpts;
    int64_t ckpt_us_sum;

    /* Anchors (writer thread only after start): the chain's head, logged
     * once durable, every anchor_interval_ms while it moves, and at stop. */
    int64_t anchor_interval_ms; /* 0: only at stop */
    int cpu;                    /* the writer's CPU; -1 = unpinned */
    int64_t anchor_last_ms;
    int64_t anchor_seq; /* the last one logged */
    int anchor_dirty;   /* records were written since */
    /* Checkpoints (writer thread only after start): signed with the seal's
     * audit key at each anchor while unsealed (docs/audit.md). */
    struct seal *seal; /* NULL: none are written */
    int64_t ckpt_seq;  /* the last head stored as a checkpoint */
    int ckpt_behind;   /* a head went without one (sealed, or a failure): retry at the next interval */
    int ckpt_error;    /* the last attempt's error, logged once until one works */
    int cred_error;    /* the same for the credential HMAC key */

    atomic_int reopen;
    atomic_size_t waiting; /* qlen, readable without the lock */
    atomic_uint_fast64_t written, failed;
    /* Where time goes (docs/performance.md), the writer's own, reported when
     * it stopped: commit and sync wall times, and how long answers waited
     * from being queued until durable. */
    uint64_t batches, syncs;
    int64_t commit_us_sum;
    int64_t sync_us_sum, sync_us_max;
    uint64_t waited;
    int64_t wait_us_sum, wait_us_max;
};

int audit_chain_append(struct store *s, struct audit_rec *const *recs, size_t n) {
    int64_t seq = 0;
    char prev[AUDIT_HASH_HEX];
    /* A request that wrote nothing yet must hold the write lock before it
     * reads the head, or another appender could take the same seq. */
    int r = store_request_lock(s);
    if (r == 0)
        r = store_audit_head(s, &seq, prev);
    if (r != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        struct audit_rec *rec = recs[i];
        rec->seq = ++seq;
        memcpy(rec->prev_hash, prev, AUDIT_HASH_HEX);
        r = audit_seal(rec);
        if (r != 0)
            return r;
        memcpy(prev, rec->hash, AUDIT_HASH_HEX);
    }
    return store_audit_insert_many(s, (const struct audit_rec *const *)recs, n);
}

static void file_open(struct audit_log *a) {
    if (a->file_path[0] == '\0')
        return;
    a->file_fd = open(a->file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (a->file_fd < 0)
        lk_log(LOG_ERROR, "audit file %s: cannot open: %s; records still go to the store", a->file_path,
               strerror(errno));
}

int audit_log_new(const char *dsn, const char *file_path, struct audit_log **ret) {
    struct audit_log *a = calloc(1, sizeof(*a));
    int r = LK_ENOMEM;
    if (a == NULL)
        return LK_ENOMEM;
    a->file_fd = -1;
    a->cpu = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    pthread_mutex_init(&a->ckpt_lock, NULL);
    pthread_cond_init(&a->ckpt_cond, NULL);
    a->queue = calloc(AUDIT_QUEUE_MAX, sizeof(*a->queue));
    a->batch = calloc(AUDIT_QUEUE_MAX, sizeof(*a->batch));
    if (a->queue == NULL || a->batch == NULL)
        goto fail;
    r = store_open(dsn, &a->store);
    if (r == 0)
        r = store_open(dsn, &a->ckpt_store);
    /* The writer's commits only note that a checkpoint is due. */
    if (r == 0)
        r = store_background_writes(a->store, 0);
    if (r != 0)
        goto fail;
    if (file_path != NULL)
        str_copy(a->file_path, sizeof(a->file_path), file_path);
    file_open(a);
    *ret = a;
    return 0;
fail:
    audit_log_free(a);
    return r;
}

void audit_log_set_anchor_interval(struct audit_log *a, unsigned seconds) {
    if (!a->started)
        a->anchor_interval_ms = (int64_t)seconds * 1000;
}

void audit_log_set_seal(struct audit_log *a, struct seal *seal) {
    if (!a->started)
        a->seal = seal;
}

void audit_log_set_cpu(struct audit_log *a, int cpu) {
    if (!a->started)
        a->cpu = cpu;
}

int audit_log_subscribe(struct audit_log *a, audit_notify_fn fn, void *arg) {
    if (a->started || a->nsubs == AUDIT_MAX_SUBSCRIBERS)
        return -1;
    a->subs[a->nsubs].fn = fn;
    a->subs[a->nsubs].arg = arg;
    return a->nsubs++;
}

int audit_log_enqueue(struct audit_log *a, int sub, const struct audit_rec *rec, int flags, uint64_t *ret_ticket) {
    pthread_mutex_lock(&a->lock);
    if (a->qlen == AUDIT_QUEUE_MAX || a->stopping) {
        pthread_mutex_unlock(&a->lock);
        return LK_EUNAVAIL;
    }
    struct entry *e = &a->queue[a->qlen++];
    e->ticket = ++a->next_ticket;
    e->sub = sub;
    e->sync = (flags & AUDIT_SYNC) != 0;
    e->stored = (flags & AUDIT_STORED) != 0;
    e->has_rec = rec != NULL;
    e->enq_us = e->sync ? clock_mono_us() : 0;
    if (rec != NULL)
        e->rec = *rec;
    *ret_ticket = e->ticket;
    atomic_store_explicit(&a->waiting, a->qlen, memory_order_relaxed);
    int first_sync = e->sync && !a->has_sync;
    if (e->sync)
        a->has_sync = 1;
    /* Wake the writer when it sleeps on an empty queue, and when it is
     * gathering and now has a reason to go. */
    if (a->qlen == 1 || (a->gathering && (first_sync || a->qlen == GATHER_ENOUGH)))
        pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

int audit_log_behind(const struct audit_log *a) {
    return atomic_load_explicit(&a->waiting, memory_order_relaxed) > AUDIT_QUEUE_MAX / 2;
}

void audit_log_credential_hmac(const struct audit_log *a, const char *cred, size_t len, char out[AUDIT_HASH_HEX]) {
    uint8_t mac[SEAL_KEY_LEN];
    if (a->seal == NULL || seal_key_mac(a->seal, SEAL_KEY_CREDENTIAL, cred, len, mac) != 0) {
        out[0] = '\0';
        return;
    }
    secret_hex(mac, sizeof(mac), out);
}

void audit_log_reopen(struct audit_log *a) {
    atomic_store(&a->reopen, 1);
}

void audit_log_note_append(struct audit_log *a, int ok) {
    int want = ok ? AUDIT_HEALTH_OK : AUDIT_HEALTH_FAILING, was = atomic_load(&a->health);
    /* Broken stays broken; the common case (no change) writes nothing. */
    while (was != want && was != AUDIT_HEALTH_BROKEN && !atomic_compare_exchange_weak(&a->health, &was, want))
        ;
}

enum audit_health audit_log_health(const struct audit_log *a) {
    return (enum audit_health)atomic_load(&a->health);
}

void audit_log_stats(const struct audit_log *a, uint64_t *ret_written, uint64_t *ret_failed) {
    *ret_written = atomic_load(&a->written);
    *ret_failed = atomic_load(&a->failed);
}

struct batch_arg {
    struct entry *entries;
    size_t n;
};

static int append_batch(struct store *s, void *arg) {
    struct batch_arg *b = arg;
    struct audit_rec *ptrs[64];
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->entries[i].has_rec || b->entries[i].stored)
            continue;
        ptrs[k++] = &b->entries[i].rec;
        if (k == sizeof(ptrs) / sizeof(ptrs[0])) {
            int r = audit_chain_append(s, ptrs, k);
            if (r != 0)
                return r;
            k = 0;
        }
    }
    return k > 0 ? audit_chain_append(s, ptrs, k) : 0;
}

/* Appends the batch's records to the file sink, one JSON line each. */
static void file_write(struct audit_log *a, const struct entry *entries, size_t n) {
    if (atomic_exchange(&a->reopen, 0)) {
        if (a->file_fd >= 0)
            close(a->file_fd);
        a->file_fd = -1;
        file_open(a);
    }
    if (a->file_fd < 0)
        return;
    char line[AUDIT_CANONICAL_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].has_rec)
            continue;
        size_t len = audit_rec_json(&entries[i].rec, line, sizeof(line) - 1);
        if (len == 0)
            continue;
        line[len++] = '\n';
        const char *p = line;
        while (len > 0) {
            ssize_t w = write(a->file_fd, p, len);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                lk_log(LOG_ERROR, "audit file %s: write failed: %s", a->file_path, strerror(errno));
                return;
            }
            p += w;
            len -= (size_t)w;
        }
    }
}

/* Tells each subscriber that waited on something in entries how it ended. */
static void notify_batch(struct audit_log *a, const struct entry *entries, size_t n, int records_ok, int markers_ok) {
    uint64_t through[AUDIT_MAX_SUBSCRIBERS];
    memset(through, 0, sizeof(through));
    for (size_t i = 0; i < n; i++)
        if (entries[i].sync && entries[i].sub >= 0 && entries[i].sub < a->nsubs)
            through[entries[i].sub] = entries[i].ticket;
    for (int s = 0; s < a->nsubs; s++)
        if (through[s] != 0)
            a->subs[s].fn(a->subs[s].arg, through[s], records_ok, markers_ok);
}

static void process(struct audit_log *a, struct entry *entries, size_t n) {
    size_t nrec = 0;
    int any_sync = 0;
    for (size_t i = 0; i < n; i++) {
        nrec += entries[i].has_rec && !entries[i].stored;
        any_sync |= entries[i].sync;
    }
    int rec_r = 0;
    int64_t t0 = clock_mono_us();
    if (nrec > 0) {
        struct batch_arg b = {entries, n};
        for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
            if (attempt > 0) {
                struct timespec ts = {0, 50L * 1000 * 1000 * attempt};
                nanosleep(&ts, NULL);
            }
            rec_r = store_tx(a->store, append_batch, &b);
            if (rec_r == 0)
                break;
        }
    }
    a->batches++;
    a->commit_us_sum += clock_mono_us() - t0;
    if (rec_r == 0) {
        atomic_fetch_add(&a->written, nrec);
        file_write(a, entries, n);
        audit_log_note_append(a, 1);
    } else {
        atomic_fetch_add(&a->failed, nrec);
        audit_log_note_append(a, 0);
        lk_log(LOG_ERROR, "audit: could not write %zu record(s): %s; their requests answer 503 where they wait", nrec,
               lk_strerror(rec_r));
    }
    if (!any_sync)
        return;
    /*
     * One sync makes this batch durable, and with it every commit made
     * before it: the markers' (mutations commit on their own connections)
     * and the lost records' neighbours alike. A failed sync is sticky: Linux
     * may drop the dirty pages of a failed fdatasync and let a later one
     * "succeed", so after one nothing is reported durable again (fail
     * closed, like PostgreSQL's panic on fsync failure). Answers go out in
     * batch order, so no later success can pass for an earlier failure.
     */
    int64_t s0 = clock_mono_us();
    int sync_r = store_sync(a->store);
    int64_t s1 = clock_mono_us();
    if (sync_r != 0 && !a->sync_broken) {
        a->sync_broken = 1;
        atomic_store(&a->health, AUDIT_HEALTH_BROKEN);
        lk_log(LOG_ERROR, "audit: could not make commits durable: %s; answering 503 from now on", lk_strerror(sync_r));
    }
    a->syncs++;
    a->sync_us_sum += s1 - s0;
    if (s1 - s0 > a->sync_us_max)
        a->sync_us_max = s1 - s0;
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].sync)
            continue;
        a->waited++;
        a->wait_us_sum += s1 - entries[i].enq_us;
        if (s1 - entries[i].enq_us > a->wait_us_max)
            a->wait_us_max = s1 - entries[i].enq_us;
    }
    int durable = !a->sync_broken;
    notify_batch(a, entries, n, rec_r == 0 && durable, durable);
}

/*
 * Makes the credential HMAC key where the store holds none (one initialised
 * before the seal kept it: seal_init() stores it with the keyring), on this
 * connection and in its own transaction. Until then, and while sealed, a
 * failed credential's record carries no HMAC.
 */
static void credential_key(struct audit_log *a) {
    int r = seal_key(a->seal, a->store, SEAL_KEY_CREDENTIAL, 1);
    if (r == 0 || r == LK_ESEALED || r == a->cred_error) {
        if (r == 0)
            a->cred_error = 0;
        return;
    }
    a->cred_error = r;
    lk_log(LOG_ERROR, "audit: the credential HMAC key cannot be %s (%s): failed credentials are recorded without one",
           r == LK_EINTEGRITY ? "opened: it was altered, or belongs to another keyring" : "made", lk_strerror(r));
}

/*
 * Stores a checkpoint of the durable head (seq, hash), signed with the
 * seal's audit key (made here, on this connection and in its own
 * transaction, when the store holds none yet). While sealed none is
 * written: the head is left for the first one after the unseal, which
 * covers everything before it. A checkpoint already stored at seq (a stop
 * and a start with nothing between) is kept.
 */
static void checkpoint(struct audit_log *a, int64_t seq, const char *hash) {
    if (a->seal != NULL)
        credential_key(a);
    if (a->seal == NULL || seq == 0 || seq == a->ckpt_seq) {
        a->ckpt_behind = 0;
        return;
    }
    struct audit_checkpoint cp;
    int r = seal_key(a->seal, a->store, SEAL_KEY_CHECKPOINT, 1);
    if (r == 0)
        r = audit_checkpoint_make(a->seal, seq, hash, clock_now(), &cp);
    if (r == 0) {
        r = store_audit_checkpoint_insert(a->store, &cp);
        if (r == LK_ECONFLICT)
            r = 0;
    }
    a->ckpt_behind = r != 0;
    if (r == 0) {
        a->ckpt_seq = seq;
        if (a->ckpt_error != 0)
            lk_log(LOG_INFO, "audit: checkpoints are written again, from record %lld", (long long)seq);
        a->ckpt_error = 0;
        lk_log(LOG_DEBUG, "audit checkpoint %lld", (long long)seq);
        return;
    }
    if (r == LK_ESEALED || r == a->ckpt_error)
        return;
    a->ckpt_error = r;
    if (r == LK_EINTEGRITY)
        lk_log(LOG_ERROR, "audit: the stored audit checkpoint key does not open (it was altered, or belongs to "
                          "another keyring): no checkpoint is written; `latchkey operator audit verify` fails");
    else
        lk_log(LOG_ERROR, "audit: cannot write a checkpoint: %s; the next anchor retries", lk_strerror(r));
}

/*
 * Logs the chain's head as "audit anchor SEQ:HASH" once a sync has made it
 * durable (so a power loss cannot make an anchor point past the trail).
 * Logs leave the machine in most deployments; the newest anchor found there
 * is what `latchkey operator audit verify --anchor` takes, which shows the
 * trail was not cut back below it (the chain alone cannot show that). The
 * same durable head is stored as a signed checkpoint while unsealed.
 */
static void anchor(struct audit_log *a, const char *when) {
    int64_t seq = 0;
    char hash[AUDIT_HASH_HEX];
    a->anchor_last_ms = clock_mono_us() / 1000;
    a->anchor_dirty = 0;
    if (a->sync_broken)
        return; /* a failed sync may have lost what a head would vouch for */
    if (store_audit_head(a->store, &seq, hash) != 0 || store_sync(a->store) != 0) {
        lk_log(LOG_WARN, "audit: could not read or sync the chain's head for an anchor; the next one retries");
        a->anchor_dirty = 1;
        return;
    }
    checkpoint(a, seq, hash);
    if (seq == 0 || seq == a->anchor_seq)
        return;
    a->anchor_seq = seq;
    lk_log(LOG_INFO, "audit anchor %lld:%s (%s)", (long long)seq, hash, when);
}

/* The CLOCK_REALTIME deadline pthread_cond_timedwait() takes, us from now. */
static struct timespec deadline_in_us(int64_t us) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += us / 1000000;
    t.tv_nsec += (us % 1000000) * 1000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Sets *flag under lock and wakes the one thread waiting on cond for it. */
static void raise_flag(pthread_mutex_t *lock, pthread_cond_t *cond, int *flag) {
    pthread_mutex_lock(lock);
    *flag = 1;
    pthread_cond_signal(cond);
    pthread_mutex_unlock(lock);
}

static void *writer_main(void *arg) {
    struct audit_log *a = arg;
    a->anchor_last_ms = clock_mono_us() / 1000;
    for (;;) {
        pthread_mutex_lock(&a->lock);
        int anchor_due = 0;
        while (a->qlen == 0 && !a->stopping) {
            /* A head left without a checkpoint (sealed) is retried at the
             * same pace, so that the first one after an unseal comes even
             * if no record does. */
            if (!(a->anchor_dirty || a->ckpt_behind) || a->anchor_interval_ms == 0) {
                pthread_cond_wait(&a->cond, &a->lock);
                continue;
            }
            /* Idle with an unanchored head: sleep until the anchor is due. */
            int64_t left = a->anchor_last_ms + a->anchor_interval_ms - clock_mono_us() / 1000;
            if (left <= 0) {
                anchor_due = 1;
                break;
            }
            struct timespec until = deadline_in_us(left * 1000);
            pthread_cond_timedwait(&a->cond, &a->lock, &until);
        }
        if (anchor_due) {
            pthread_mutex_unlock(&a->lock);
            anchor(a, "periodic");
            continue;
        }
        if (a->qlen == 0 && a->stopping) {
            pthread_mutex_unlock(&a->lock);
            break;
        }
        /* Gather unwaited records; stop as soon as somebody waits. */
        struct timespec until = deadline_in_us(GATHER_US);
        a->gathering = 1;
        while (!a->stopping && !a->has_sync && a->qlen < GATHER_ENOUGH)
            if (pthread_cond_timedwait(&a->cond, &a->lock, &until) != 0)
                break;
        a->gathering = 0;
        a->has_sync = 0;
        struct entry *full = a->queue;
        size_t n = a->qlen;
        a->queue = a->batch;
        a->qlen = 0;
        atomic_store_explicit(&a->waiting, 0, memory_order_relaxed);
        a->batch = full;
        pthread_mutex_unlock(&a->lock);
        process(a, full, n);
        a->anchor_dirty = 1;
        if (a->anchor_interval_ms > 0 && clock_mono_us() / 1000 - a->anchor_last_ms >= a->anchor_interval_ms)
            anchor(a, "periodic");
        /* Every connection leaves checkpoints to the checkpointer; the
         * writer only finishes what commits outran. */
        if (store_checkpoint_finish(a->store) != 0)
            lk_log(LOG_WARN, "audit: checkpoint failed; the next one retries");
        if (store_checkpoint_due(a->store))
            raise_flag(&a->ckpt_lock, &a->ckpt_cond, &a->ckpt_kick);
    }
    return NULL;
}

static void *checkpointer_main(void *arg) {
    struct audit_log *a = arg;
    pthread_mutex_lock(&a->ckpt_lock);
    for (;;) {
        while (!a->ckpt_kick && !a->ckpt_stopping)
            pthread_cond_wait(&a->ckpt_cond, &a->ckpt_lock);
        if (a->ckpt_stopping)
            break;
        a->ckpt_kick = 0;
        pthread_mutex_unlock(&a->ckpt_lock);
        int64_t t0 = clock_mono_us();
        int r = store_checkpoint(a->ckpt_store);
        int64_t t1 = clock_mono_us();
        if (r != 0)
            lk_log(LOG_WARN, "audit: checkpoint failed: %s; the next one retries", lk_strerror(r));
        pthread_mutex_lock(&a->ckpt_lock);
        a->ckpts++;
        a->ckpt_us_sum += t1 - t0;
    }
    pthread_mutex_unlock(&a->ckpt_lock);
    return NULL;
}

/* Both threads are named, and the writer pinned, by this function before
 * it returns, so that a server that says it is ready has them in place (a
 * thread naming itself races with whoever looks). */
int audit_log_start(struct audit_log *a) {
    if (pthread_create(&a->ckpt_tid, NULL, checkpointer_main, a) != 0)
        return LK_EINTERNAL;
    a->ckpt_started = 1;
    pthread_setname_np(a->ckpt_tid, "lk-checkpoint");
    if (pthread_create(&a->tid, NULL, writer_main, a) != 0)
        return LK_EINTERNAL;
    a->started = 1;
    pthread_setname_np(a->tid, "lk-audit");
    if (a->cpu >= 0) {
        int r = cpu_pin(a->tid, a->cpu);
        if (r != 0)
            lk_log(LOG_WARN, "audit-cpu: cannot pin the audit writer to CPU %d (%s); it runs unpinned", a->cpu,
                   strerror(r));
        else
            lk_log(LOG_DEBUG, "audit-cpu: the audit writer runs on CPU %d", a->cpu);
    }
    return 0;
}

void audit_log_free(struct audit_log *a) {
    if (a == NULL)
        return;
    if (a->started) {
        raise_flag(&a->lock, &a->cond, &a->stopping);
        pthread_join(a->tid, NULL);
    }
    if (a->ckpt_started) {
        raise_flag(&a->ckpt_lock, &a->ckpt_cond, &a->ckpt_stopping);
        pthread_join(a->ckpt_tid, NULL);
    }
    if (a->started) {
        a->anchor_seq = 0; /* the last word at stop, even if unchanged */
        anchor(a, "at stop");
        uint64_t b = a->batches ? a->batches : 1, sy = a->syncs ? a->syncs : 1, wt = a->waited ? a->waited : 1;
        lk_log(LOG_INFO,
               "audit writer: %llu record(s) written, %llu failed, in %llu batch(es) (commit %lld us avg) with %llu "
               "sync(s) (%lld us avg, %lld max); %llu answer(s) waited for durability (%lld us avg, %lld max); "
               "%llu checkpoint(s) beside it (%lld us avg)",
               (unsigned long long)atomic_load(&a->written), (unsigned long long)atomic_load(&a->failed),
               (unsigned long long)a->batches, (long long)(a->commit_us_sum / (int64_t)b), (unsigned long long)a->syncs,
               (long long)(a->sync_us_sum / (int64_t)sy), (long long)a->sync_us_max, (unsigned long long)a->waited,
               (long long)(a->wait_us_sum / (int64_t)wt), (long long)a->wait_us_max, (unsigned long long)a->ckpts,
               (long long)(a->ckpt_us_sum / (int64_t)(a->ckpts ? a->ckpts : 1)));
    }
    store_close(a->store);
    store_close(a->ckpt_store);
    pthread_mutex_destroy(&a->ckpt_lock);
    pthread_cond_destroy(&a->ckpt_cond);
    if (a->file_fd >= 0)
        close(a->file_fd);
    free(a->queue);
    free(a->batch);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
}

/* Where org ids begin in the trail (migration 0013 notes it); 0 when it
 * cannot be read, which leaves the records from before them out of every
 * org's view rather than risk showing them to the wrong one. */
static int64_t org_ids_from(struct store *s) {
    char *v = NULL;
    int64_t from = 0;
    if (store_meta_get(s, STORE_AUDIT_ORG_IDS_FROM_META, &v) == 0) {
        char *end = NULL;
        long long n = strtoll(v, &end, 10);
        if (end != v && *end == '\0' && n > 0)
            from = n;
    }
    free(v);
    return from;
}

/* The scopes of every team of org_id that user_id owns, in name order, read
 * a page at a time. */
static int owned_team_scopes(struct svc *svc, const char *org_id, const char *user_id, struct team_scope_list *ret) {
    enum { PAGE = 1000 };
    struct team_scope_list all = {0}, page = {0};
    int r;
    for (;;) {
        r = store_team_scopes_for_member(svc->store, org_id, user_id, "owner",
                                         all.count > 0 ? all.items[all.count - 1].name : NULL, PAGE, &page);
        if (r == 0 && page.count > 0) {
            struct team_scope *grown = reallocarray(all.items, all.count + page.count, sizeof(*all.items));
            if (grown == NULL) {
                r = LK_ENOMEM;
            } else {
                memcpy(grown + all.count, page.items, page.count * sizeof(*page.items));
                all.items = grown;
                all.count += page.count;
            }
        }
        size_t got = page.count;
        team_scope_list_done(&page);
        if (r != 0 || got < PAGE)
            break;
    }
    if (r != 0) {
        team_scope_list_done(&all);
        return r;
    }
    *ret = all;
    return 0;
}

int audit_query(struct svc *svc, const struct principal *caller, const char *org, struct audit_filter *f,
                struct audit_list *ret, struct lk_error *err) {
    struct team_scope_list owned = {0};
    struct org_rec o; /* f->org_id and f->org point into it */
    int r;
    f->org = NULL;
    f->org_id = NULL;
    f->org_ids_from = 0;
    f->teams = NULL;
    f->nteams = 0;
    f->after_seq = 0;
    if (org == NULL) {
        r = authz_require_root(caller, NULL, "read every organisation's audit trail", "", err);
        if (r != 0)
            return r;
    } else {
        char nf[STR_ECHO_BUFSZ + 32], q[STR_ECHO_BUFSZ];
        str_echo(org, strlen(org), q);
        snprintf(nf, sizeof(nf), "no organisation %s", q);
        r = store_org_get_by_name(svc->store, org, &o);
        if (r == LK_ENOTFOUND)
            return lk_error_set(err, r, "%s", nf);
        if (r < 0)
            return lk_error_set(err, r, "could not read the organisation");
        r = authz_require(caller, &o, "audit.view", nf, err);
        if (r == LK_EDENIED && caller->type == PRINCIPAL_USER) {
            /* Team owners read their own teams' records, with a token that
             * may act as a team owner (teams.manage in the team). */
            struct lk_error team_err = {0};
            if (owned_team_scopes(svc, o.id, caller->id, &owned) == 0 && owned.count > 0 &&
                authz_require_in_team(caller, &o, "owner", "teams.manage", nf, &team_err) == 0) {
                f->teams = owned.items;
                f->nteams = owned.count;
                r = 0;
            }
        }
        if (r != 0) {
            team_scope_list_done(&owned);
            return r;
        }
        /* Records are filed under the org's id, which no later holder of
         * its name shares. Those from before org ids name it: for them,
         * only what happened since this org began is its trail. */
        f->org_id = o.id;
        f->org = o.name;
        f->org_ids_from = org_ids_from(svc->store);
        f->after_seq = o.audit_after;
        if (f->since_ms < o.created_at * 1000)
            f->since_ms = o.created_at * 1000;
    }
    r = store_audit_list(svc->store, f, ret);
    f->teams = NULL;
    f->nteams = 0;
    f->org_id = NULL;
    f->org = NULL;
    team_scope_list_done(&owned);
    return r < 0 ? lk_error_set(err, r, "could not read the audit trail") : 0;
}

int audit_verify(struct store *s, int64_t *ret_count, int64_t *ret_bad_seq, char *why, size_t cap) {
    struct audit_filter f;
    int64_t prev_seq = 0, count = 0;
    char prev_hash[AUDIT_HASH_HEX];
    memcpy(prev_hash, audit_genesis_hash, AUDIT_HASH_HEX);
    memset(&f, 0, sizeof(f));
    f.limit = 1000;
    for (;;) {
        struct audit_list page = {0};
        f.cursor = prev_seq;
        int r = store_audit_list(s, &f, &page);
        if (r != 0)
            return r;
        if (page.count == 0) {
            audit_list_done(&page);
            break;
        }
        for (size_t i = 0; i < page.count; i++) {
            const struct audit_rec *rec = &page.items[i];
            if (audit_check(rec, prev_seq, prev_hash, why, cap) != 0) {
                *ret_bad_seq = rec->seq;
                *ret_count = count;
                audit_list_done(&page);
                return 1;
            }
            prev_seq = rec->seq;
            memcpy(prev_hash, rec->hash, AUDIT_HASH_HEX);
            count++;
        }
        audit_list_done(&page);
    }
    *ret_count = count;
    return 0;
}

int audit_check_anchor(struct store *s, int64_t seq, const char *hash, char *why, size_t cap) {
    struct audit_filter f;
    struct audit_list one = {0};
    memset(&f, 0, sizeof(f));
    f.cursor = seq - 1;
    f.limit = 1;
    int r = store_audit_list(s, &f, &one);
    if (r != 0)
        return r;
    if (one.count == 0 || one.items[0].seq != seq) {
        snprintf(why, cap, "anchored record %lld is missing (the trail was cut back)", (long long)seq);
        r = 1;
    } else if (strlen(hash) != AUDIT_HASH_HEX - 1 || !secret_equal(one.items[0].hash, hash, AUDIT_HASH_HEX - 1)) {
        snprintf(why, cap, "anchored record %lld has another hash than the anchor", (long long)seq);
        r = 1;
    }
    audit_list_done(&one);
    return r;
}

static int append_one_tx(struct store *s, void *arg) {
    struct audit_rec *rec = arg;
    return audit_chain_append(s, &rec, 1);
}

void audit_event_fill(struct audit_rec *rec, const char *actor_type, const char *actor_name, const char *method,
                      const char *action, const char *resource, int ok) {
    memset(rec, 0, sizeof(*rec));
    rec->time_ms = clock_now_ms();
    str_copy(rec->request_id, sizeof(rec->request_id), method);
    str_copy(rec->actor_type, sizeof(rec->actor_type), actor_type);
    str_copy(rec->actor_name, sizeof(rec->actor_name), actor_name);
    str_copy(rec->action, sizeof(rec->action), action);
    str_copy(rec->method, sizeof(rec->method), method);
    str_copy(rec->resource, sizeof(rec->resource), resource);
    str_copy(rec->outcome, sizeof(rec->outcome), ok ? "success" : "error");
    rec->status = ok ? 200 : 500;
}

int audit_record_event(struct store *s, const char *actor_type, const char *actor_name, const char *method,
                       const char *action, const char *resource, int ok) {
    struct audit_rec rec;
    audit_event_fill(&rec, actor_type, actor_name, method, action, resource, ok);
    return store_tx(s, append_one_tx, &rec);
}

void audit_request_begin(struct svc *svc) {
    store_request_begin(svc->store);
    svc_cache_forget(svc);
}

int audit_request_commit(struct svc *svc, struct audit_rec *rec) {
    int r = audit_chain_append(svc->store, &rec, 1);
    int c = store_request_end(svc->store, r == 0);
    if (r == 0 && c != 0)
        r = c;
    if (r != 0) {
        svc_cache_forget(svc);
        return r;
    }
    svc_cache_replay(svc);
    return 0;
}

void audit_request_abort(struct svc *svc) {
    store_request_end(svc->store, 0);
    svc_cache_forget(svc);
}

int audit_request_sync(struct svc *svc) {
    return store_sync(svc->store);
}
