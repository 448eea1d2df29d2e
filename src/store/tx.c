/*
 * tx.c - transactions as every backend has them (store.h: store_tx,
 * store_read_tx, request transactions), and the change epoch the read
 * cache trusts (store.h, "Read cache").
 *
 * The epoch is one counter for the process: the low 48 bits count the
 * commits that changed data, the high 16 how many such commits are under
 * way. A write that changes data enters (high part + 1) before its commit
 * and leaves (high part - 1, low part + 1) after it, so from the moment
 * its rows can become visible until the count moves, no connection trusts
 * or fills the cache. Every connection of the process counts, whether or
 * not it reads through the cache, so a connection that was never given
 * the cache can never leave it stale.
 */
#include <stdatomic.h>

#include "core/errors.h"
#include "store/dispatch.h"

#define IN_FLIGHT (1ULL << 48)

/* Starts at 1: 0 means "no epoch" to callers. */
static atomic_ullong changes = 1;

uint64_t dispatch_epoch(void) {
    return atomic_load_explicit(&changes, memory_order_acquire);
}

int dispatch_epoch_settled(uint64_t epoch) {
    return epoch < IN_FLIGHT;
}

static void changes_in(void) {
    atomic_fetch_add_explicit(&changes, IN_FLIGHT, memory_order_acq_rel);
}

static void changes_out(void) {
    atomic_fetch_sub_explicit(&changes, IN_FLIGHT - 1, memory_order_acq_rel);
}

int dispatch_changes_enter(struct store *s) {
    if (s->in_tx) {
        s->dirty = 1;
        return 0;
    }
    changes_in();
    return 1;
}

void dispatch_changes_leave(int entered) {
    if (entered)
        changes_out();
}

/* Commits s's open transaction, counting it if it changed data. */
static int commit(struct store *s) {
    int counted = s->dirty;
    s->dirty = 0;
    if (counted)
        changes_in();
    int r = s->ops->commit(s);
    /* A failed commit may leave the transaction open; end it. */
    if (r != 0)
        s->ops->rollback(s);
    if (counted)
        changes_out();
    return r;
}

static void rollback(struct store *s) {
    s->dirty = 0;
    s->ops->rollback(s);
}

/*
 * Inside request mode, the first write opens the request's transaction
 * (and marks the connection in_tx, so the backend's own multi-statement
 * writes join it instead of opening their own).
 */
int dispatch_write_begin(struct store *s) {
    if (s->read_tx)
        return LK_EINTERNAL;
    if (!s->request_mode || s->request_tx)
        return 0;
    int r = s->ops->begin(s);
    if (r != 0)
        return r;
    s->request_tx = 1;
    s->in_tx = 1;
    return 0;
}

/*
 * A read transaction may take rows from the cache before its first backend
 * read; those rows are of tx_epoch. The backend's snapshot, taken when
 * read_begin returns, is of the same moment only if no commit that
 * changes data has entered since, which the epoch still being tx_epoch
 * then proves. If it moved, rows of two moments would meet in one answer:
 * the read asked for is not made (no out parameter is written), and
 * store_read_tx runs its function again, from the backend alone.
 */
int dispatch_read_begin(struct store *s) {
    if (!s->read_tx || s->read_begun)
        return 0;
    /* Backends begin outside a transaction (in_tx says one is open). */
    s->in_tx = 0;
    int r = s->ops->read_begin(s);
    s->in_tx = 1;
    if (r != 0)
        return r;
    s->read_begun = 1;
    if (s->tx_hits > 0 && dispatch_epoch() != s->tx_epoch) {
        s->tx_retry = 1;
        return LK_EBUSY;
    }
    return 0;
}

void store_request_begin(struct store *s) {
    if (s == NULL || s->in_tx)
        return;
    s->request_mode = 1;
    s->request_tx = 0;
}

int store_request_lock(struct store *s) {
    if (s == NULL)
        return LK_EINVAL;
    return dispatch_write_begin(s);
}

int store_request_active(const struct store *s) {
    return s != NULL && s->request_tx;
}

int store_request_end(struct store *s, int commit_it) {
    int r = 0;
    if (s == NULL || !s->request_mode)
        return 0;
    if (s->request_tx) {
        if (commit_it)
            r = commit(s);
        else
            rollback(s);
    }
    s->request_mode = 0;
    s->request_tx = 0;
    s->in_tx = 0;
    return r;
}

int store_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg) {
    if (s == NULL || fn == NULL)
        return LK_EINVAL;
    if (s->request_mode) {
        /* A savepoint of the request's transaction: fn's work is undone on
         * failure, kept (until the request ends) on success. */
        int r = dispatch_write_begin(s);
        if (r == 0)
            r = s->ops->savepoint(s);
        if (r != 0)
            return r;
        r = fn(s, arg);
        if (r != 0)
            s->ops->rollback_to(s);
        int rr = s->ops->release(s);
        return r != 0 ? r : rr;
    }
    if (s->in_tx)
        return LK_EINTERNAL;
    int r = s->ops->begin(s);
    if (r != 0)
        return r;
    s->in_tx = 1;
    r = fn(s, arg);
    if (r == 0)
        r = commit(s);
    else
        rollback(s); /* fn's code is the answer; a failing rollback cannot improve on it */
    s->in_tx = 0;
    return r;
}

int store_read_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg) {
    if (s == NULL || fn == NULL)
        return LK_EINVAL;
    if (s->in_tx || s->request_mode)
        return fn(s, arg);
    int r = 0;
    for (int run = 0; run < 2; run++) {
        /* The backend's transaction begins at the first read the cache does
         * not serve (dispatch_read_begin); the epoch now is the one every
         * cached row this transaction uses must carry. */
        s->in_tx = 1;
        s->read_tx = 1;
        s->read_begun = 0;
        s->tx_epoch = dispatch_epoch();
        s->tx_hits = 0;
        s->tx_retry = 0;
        s->tx_nocache = run > 0;
        r = fn(s, arg);
        int retry = s->tx_retry;
        if (s->read_begun) {
            if (r == 0 && !retry) {
                r = s->ops->commit(s);
                if (r != 0)
                    s->ops->rollback(s);
            } else {
                s->ops->rollback(s);
            }
        }
        s->read_tx = 0;
        s->read_begun = 0;
        s->in_tx = 0;
        s->tx_nocache = 0;
        if (!retry)
            break;
        /* fn passes store errors on (store.h); one that did not has its
         * results to release, which only its caller can. */
        if (r == 0)
            return LK_EBUSY;
    }
    return r;
}
