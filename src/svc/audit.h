/*
 * audit.h - recording the audit trail: the chain appender every record goes
 * through, and the shared group-commit writer (struct audit_log).
 *
 * Two ways in, one chain:
 *   - audit_chain_append() writes records inside the caller's write
 *     transaction. A mutating request appends its record in the same
 *     transaction as its change, so the two commit together or not at all.
 *   - audit_log_enqueue() hands a record (or, with AUDIT_STORED, a "make
 *     my commit durable" marker) to the writer thread, which appends each
 *     batch (everything queued since its last round) in one transaction
 *     and makes it durable with one store_sync() (group commit). The
 *     answer comes back as a ticket: the enqueuing thread is told through
 *     its notify callback once every ticket up to some value is done, and
 *     whether it worked.
 *
 * Locking: struct audit_log is shared by every worker; its queue is under
 * one mutex held only to copy a record in or swap the queue out. The
 * writer's store connection, batch buffer and file sink belong to the
 * writer thread alone; a checkpointer thread beside it, on a connection of
 * its own, copies the store's log back when the writer says one is due.
 * Never records a secret: callers pass public ids and HMACs
 * (audit_log_credential_hmac) only.
 */
#ifndef LK_SVC_AUDIT_H
#define LK_SVC_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "store/store.h"

struct store;
struct audit_log;
struct seal;

#define AUDIT_QUEUE_MAX 8192 /* records waiting for the writer; beyond it enqueue refuses */
#define AUDIT_MAX_SUBSCRIBERS 256

/*
 * Appends recs[0..n) to the chain through s, which must be inside a write
 * transaction (store_tx or a request's): reads the head, then gives each
 * record its seq, prev_hash and hash, in order. 0 or an LK_E* code (the
 * caller's transaction must then be rolled back).
 */
int audit_chain_append(struct store *s, struct audit_rec *const *recs, size_t n);

/*
 * Called on the writer thread when every ticket of subscriber up to
 * through is done: records_ok says whether its records were written and
 * made durable, markers_ok whether its markers' commits were made durable.
 * Must be quick and must not call back into the audit log.
 */
typedef void (*audit_notify_fn)(void *arg, uint64_t through, int records_ok, int markers_ok);

/*
 * Creates the log over store DSN dsn. file_path (may be "" or NULL) names
 * a JSON-lines file that every written record is also appended to. Loads
 * (or creates, once) the HMAC key for credentials. Returns 0 and *ret, or
 * an LK_E* code.
 */
int audit_log_new(const char *dsn, const char *file_path, struct audit_log **ret);

/* Registers a subscriber before audit_log_start(); returns its id (>= 0) or -1. */
int audit_log_subscribe(struct audit_log *a, audit_notify_fn fn, void *arg);

/*
 * Before audit_log_start(): every this many seconds while records are
 * written, once they are durable, the writer logs the chain's head as
 * "audit anchor SEQ:HASH" (0: only when the log is freed, which always
 * logs one). An anchor kept outside the machine, such as in shipped logs,
 * lets `operator audit verify --anchor` show the trail was not cut back.
 */
void audit_log_set_anchor_interval(struct audit_log *a, unsigned seconds);

/*
 * Before audit_log_start() and before any thread calls
 * audit_log_credential_hmac(): the seal whose keys sign checkpoints and
 * key credential HMACs (NULL, the default: no checkpoint is written and no
 * credential HMAC made). With one, each time the writer
 * logs an anchor (and at stop) it also stores a checkpoint of that durable
 * head, signed with the audit key (audit_checkpoint_make), while latchkey
 * is unsealed; while sealed it writes none, records are still written and
 * chained, and the first checkpoint after an unseal covers them. At the
 * same pace the writer makes the credential HMAC key where the store holds
 * none. The seal must outlive the log.
 */
void audit_log_set_seal(struct audit_log *a, struct seal *seal);

/*
 * Before audit_log_start(): the writer thread runs only on this CPU (-1,
 * the default: wherever the scheduler puts it). On a disk with one
 * completion queue, the CPU that takes its interrupts is where the writer
 * is woken when a sync ends (docs/performance.md). A CPU the process may
 * not use is logged and the writer runs unpinned.
 */
void audit_log_set_cpu(struct audit_log *a, int cpu);

/* Starts the writer thread. 0 or LK_EINTERNAL. */
int audit_log_start(struct audit_log *a);

/* audit_log_enqueue() flags. */
#define AUDIT_SYNC 1 /* the subscriber wants to hear when it is durable */
#define AUDIT_STORED                                                                                                   \
    2 /* rec was already appended (with a change) and committed: make the commit                                       \
       * durable and copy rec to the file sink, do not append it again */

/*
 * Queues rec (copied; NULL for a bare durability marker) for subscriber
 * sub (-1: nobody waits). Returns 0 and *ret_ticket, or LK_EUNAVAIL when
 * the queue is full (the writer is behind or the store is failing).
 */
int audit_log_enqueue(struct audit_log *a, int sub, const struct audit_rec *rec, int flags, uint64_t *ret_ticket);

/*
 * 1 when the writer is behind (more than half the queue waiting). Callers
 * then wait for their record even where they need not, which slows
 * closed-loop clients to the writer's pace instead of failing them once
 * the queue is full.
 */
int audit_log_behind(const struct audit_log *a);

/* HMAC-SHA256 of a presented credential under the seal's credential key,
 * as hex; "" while sealed, without a seal, or before the key exists. */
void audit_log_credential_hmac(const struct audit_log *a, const char *cred, size_t len, char out[AUDIT_HASH_HEX]);

/* Asks the writer to reopen the file sink before its next write (SIGHUP). */
void audit_log_reopen(struct audit_log *a);

/* Whether the trail is being written, for GET /v1/sys/health. */
enum audit_health {
    AUDIT_HEALTH_OK,      /* the last batch was written (or none yet) */
    AUDIT_HEALTH_FAILING, /* the last batch could not be: mutations are refused while it lasts */
    AUDIT_HEALTH_BROKEN,  /* a sync failed: nothing is durable again until a restart */
};
enum audit_health audit_log_health(const struct audit_log *a);
/* Records whether an append made elsewhere (a mutation's record, in its
 * request's transaction) went in; the writer does the same for its batches. */
void audit_log_note_append(struct audit_log *a, int ok);

/* Counters for health and tests: records written, records that could not be. */
void audit_log_stats(const struct audit_log *a, uint64_t *ret_written, uint64_t *ret_failed);

/*
 * Checks the whole chain in s, oldest first: every seq follows the one
 * before, every prev_hash is the hash before it, every hash matches its
 * record. Returns 0 (intact; *ret_count records), 1 (broken: *ret_bad_seq
 * is the first record that fails, why says how), or an LK_E* code.
 */
int audit_verify(struct store *s, int64_t *ret_count, int64_t *ret_bad_seq, char *why, size_t cap);

/*
 * Checks that record seq exists and has hash: an anchor kept outside the
 * store (latchkey operator audit head, or the newest record of GET
 * /v1/audit) proves the trail was not cut back below it, which the chain
 * alone cannot show. Returns 0, 1 with a reason in why, or an LK_E* code.
 */
int audit_check_anchor(struct store *s, int64_t seq, const char *hash, char *why, size_t cap);

/*
 * The record of an event from outside any request (operator commands,
 * background jobs such as the 90-day clean-up), with method "CLI" or "JOB"
 * and the time now; seq and hashes are left to whoever appends it.
 */
void audit_event_fill(struct audit_rec *rec, const char *actor_type, const char *actor_name, const char *method,
                      const char *action, const char *resource, int ok);

/*
 * Records such an event in its own transaction: for processes without a
 * writer (operator commands). A server hands its events to its writer
 * (audit_log_enqueue), so that the file sink gets them too. 0 or an LK_E*
 * code.
 */
int audit_record_event(struct store *s, const char *actor_type, const char *actor_name, const char *method,
                       const char *action, const char *resource, int ok);

/* --- checkpoints (audit_checkpoints.c; docs/audit.md, "Checkpoints") ---- */

/*
 * A checkpoint of record seq, whose hash is hash (64 hex): its MAC is
 * HMAC-SHA256 under the seal's audit key of "<seq>:<hash>", as 64 hex.
 * Since each record's hash covers every record before it, a checkpoint
 * that verifies authenticates records 1..seq. 0, LK_ESEALED, LK_ENOTFOUND
 * (the checkpoint key is not loaded: seal_key), LK_EINVAL.
 */
int audit_checkpoint_make(struct seal *seal, int64_t seq, const char *hash, int64_t now, struct audit_checkpoint *ret);

/* What verify found: the chain, then the checkpoints against it. */
struct audit_report {
    int64_t records;         /* records whose chain verified */
    int64_t verified_to;     /* the chain verifies records 1..verified_to */
    int64_t broken_at;       /* 0, or the first record that fails */
    char chain_why[256];     /* why it fails */
    int checked;             /* 1: the checkpoints were checked (the audit key was at hand) */
    char unchecked_why[128]; /* else why not */
    int64_t checkpoints;     /* how many are stored */
    int64_t oldest;          /* the oldest one's seq; 0: none */
    int64_t newest_valid;    /* the newest that verifies, within 1..verified_to; 0: none */
    int64_t failed;          /* 0, or the first checkpoint that fails */
    char failed_why[256];    /* why it fails, or why the audit key itself does */
    int ok;                  /* the chain verifies and, when checked, no checkpoint (nor the audit key) fails */
};

/*
 * Checks the chain in s up to its head at the start (records appended
 * meanwhile are left for the next run), as audit_verify does; then, when
 * seal (may be NULL) is unsealed, every stored checkpoint: its MAC under
 * the audit key, and that the trail still holds its record with its hash.
 * A checkpoint that fails either fails the report; one beyond the verified
 * chain is checked but not counted as newest_valid. Never writes. 0 and
 * *ret (which says whether it verified), or an LK_E* code when the trail
 * cannot be read.
 */
int audit_verify_report(struct store *s, struct seal *seal, struct audit_report *ret);

struct svc;
struct principal;
struct lk_error;

/* audit_verify_report() over svc's store and seal, for the partner admin
 * only (authz_require_root: 401 for anyone else). */
int audit_verify_for(struct svc *svc, const struct principal *caller, struct audit_report *ret, struct lk_error *err);

/*
 * A request's unit of work (the api layer brackets each mutation with
 * these): _begin makes every write of the request join one transaction
 * (opened at the first write); _commit appends rec to the chain in it and
 * commits change and record together, then replays the request's cache
 * invalidations; on failure (0 is returned otherwise) nothing of the
 * request stays. _abort rolls everything back. _sync makes every commit
 * so far durable, for when the writer cannot take a durability marker.
 */
void audit_request_begin(struct svc *svc);
int audit_request_commit(struct svc *svc, struct audit_rec *rec);
void audit_request_abort(struct svc *svc);
int audit_request_sync(struct svc *svc);

/*
 * Reads the trail for caller. org NULL: every org (partner admin only).
 * Otherwise the org's records for whoever holds audit.view there (org
 * admins), or the records of the teams a user owns in it; anybody else
 * gets the usual 404 (org out of reach) or 401 (permission). f's org and
 * teams are set here; the caller sets the rest. ret is in f's order.
 */
int audit_query(struct svc *svc, const struct principal *caller, const char *org, struct audit_filter *f,
                struct audit_list *ret, struct lk_error *err);

/* Writes everything queued, stops the writer thread and frees the log. NULL-safe. */
void audit_log_free(struct audit_log *a);

#endif
