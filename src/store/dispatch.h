/*
 * dispatch.h - the dispatcher's own helpers, shared by its files
 * (store.c: checks and forwarding; tx.c: transactions and the change
 * epoch; cached.c: the reads the read cache serves). Not for backends.
 */
#ifndef LK_STORE_DISPATCH_H
#define LK_STORE_DISPATCH_H

#include "store/store_impl.h"

/* A write is about to run on s: in request mode the first one opens the
 * request's transaction. 0, or LK_EINTERNAL inside a read transaction. */
int dispatch_write_begin(struct store *s);

/* A read is about to run on s: inside store_read_tx the first one begins
 * the backend's read transaction (so a read served whole by the cache
 * takes no lock at all). 0 or the backend's code. */
int dispatch_read_begin(struct store *s);

/* The change epoch now (tx.c), and whether no commit that changes data
 * is under way in it. */
uint64_t dispatch_epoch(void);
int dispatch_epoch_settled(uint64_t epoch);

/* Around a write that changes rows the read cache may hold: inside a
 * transaction it marks the transaction as such (its commit counts);
 * alone it counts itself. enter's result goes to leave. */
int dispatch_changes_enter(struct store *s);
void dispatch_changes_leave(int entered);

/* The scope and path every secret call names are well formed. */
int dispatch_secret_key_ok(const char *org_id, const char *team_id, const char *path);

/*
 * The shapes of a forwarding call: `invalid`, what makes the arguments
 * invalid (s == NULL always does), then the backend's op. STORE_WRITE is a
 * write that changes data (it counts for the read cache); STORE_LOG_WRITE
 * one that changes nothing a cached read returns (audit records and their
 * checkpoints, last-use times). Each store_* that only forwards is one of
 * these; the others say why they do more.
 */
#define STORE_READ(invalid, call)                                                                                      \
    do {                                                                                                               \
        if (s == NULL || (invalid))                                                                                    \
            return LK_EINVAL;                                                                                          \
        int rb_ = dispatch_read_begin(s);                                                                              \
        if (rb_ != 0)                                                                                                  \
            return rb_;                                                                                                \
        return s->ops->call;                                                                                           \
    } while (0)
#define STORE_WRITE(invalid, call)                                                                                     \
    do {                                                                                                               \
        if (s == NULL || (invalid))                                                                                    \
            return LK_EINVAL;                                                                                          \
        int wr_ = dispatch_write_begin(s);                                                                             \
        if (wr_ != 0)                                                                                                  \
            return wr_;                                                                                                \
        int ce_ = dispatch_changes_enter(s);                                                                           \
        int r_ = s->ops->call;                                                                                         \
        dispatch_changes_leave(ce_);                                                                                   \
        return r_;                                                                                                     \
    } while (0)
#define STORE_LOG_WRITE(invalid, call)                                                                                 \
    do {                                                                                                               \
        if (s == NULL || (invalid))                                                                                    \
            return LK_EINVAL;                                                                                          \
        int wr_ = dispatch_write_begin(s);                                                                             \
        if (wr_ != 0)                                                                                                  \
            return wr_;                                                                                                \
        return s->ops->call;                                                                                           \
    } while (0)

#endif
