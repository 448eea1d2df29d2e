/*
 * audit.h - the audit record and its hash chain (pure: no I/O, no clock).
 *
 * Every record's hash is SHA-256 over its canonical encoding, which
 * includes the previous record's hash, so changing, inserting or removing
 * a record anywhere breaks every link after it. The canonical encoding
 * (audit_canonical) is every field in a fixed order, each string behind its
 * length; the store keeps each field in its own column and audit verify
 * recomputes the encoding from the columns, so nothing outside the fields
 * is hashed.
 * See docs/audit.md.
 */
#ifndef LK_CORE_AUDIT_H
#define LK_CORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/secret.h"

#define AUDIT_HASH_HEX (SECRET_HASH_LEN * 2 + 1)
#define AUDIT_REQUEST_ID_MAX 32
#define AUDIT_SHORT_MAX 32  /* actor type, outcome, method */
#define AUDIT_NAME_MAX 64   /* actor name, org, team, token id */
#define AUDIT_ACTION_MAX 48 /* "token.create" */
#define AUDIT_RESOURCE_MAX 256
#define AUDIT_ADDR_MAX 64
#define AUDIT_UA_MAX 256
/* Large enough for the canonical encoding of any record (fields escaped). */
#define AUDIT_CANONICAL_MAX 8192

/* The genesis link: the prev_hash of the first record. */
extern const char audit_genesis_hash[AUDIT_HASH_HEX];

struct audit_rec {
    int64_t seq;     /* 1, 2, 3, ... in chain order; assigned when appended */
    int64_t time_ms; /* Unix milliseconds */
    char request_id[AUDIT_REQUEST_ID_MAX];
    char actor_type[AUDIT_SHORT_MAX]; /* root, user, service_account, workload, anonymous */
    char actor_name[AUDIT_NAME_MAX];
    char actor_org[AUDIT_NAME_MAX];
    char token_id[AUDIT_NAME_MAX];        /* public id of the presented token, "" if none */
    char credential_hmac[AUDIT_HASH_HEX]; /* HMAC of a presented credential that failed, "" otherwise */
    char org[AUDIT_NAME_MAX];             /* name of the org the record is filed under (docs/audit.md) */
    char org_id[AUDIT_NAME_MAX];          /* its id ("org_..."): what org views select by; "" if none */
    char team[AUDIT_NAME_MAX];
    char action[AUDIT_ACTION_MAX]; /* route action, e.g. "token.create" */
    char method[AUDIT_SHORT_MAX];
    char resource[AUDIT_RESOURCE_MAX]; /* the request path, token secrets cut off */
    char outcome[AUDIT_SHORT_MAX];     /* success, denied, rate_limited, error */
    int status;                        /* HTTP status */
    char source_ip[AUDIT_ADDR_MAX];
    char user_agent[AUDIT_UA_MAX];
    char prev_hash[AUDIT_HASH_HEX];
    char hash[AUDIT_HASH_HEX];
};

/* "success" (< 400), "denied" (401, 403), "rate_limited" (429), "error". */
const char *audit_outcome_of(int status);

/*
 * Copies src[0..len) into dst (cap bytes), keeping printable ASCII and
 * turning every other byte into '?', cut to fit, with any token in it cut
 * back to its public id (tokfmt_redact). Record fields come from the
 * network; this keeps them valid UTF-8, free of control bytes and free of
 * a token's secret that a client pasted into a path, a user agent or a
 * login name, percent-encoded or not, once or many times (a field whose
 * wholly decoded form, str_percent_decode_all, shows a token is recorded
 * decoded, then cut).
 */
void audit_field_copy(char *dst, size_t cap, const char *src, size_t len);

/*
 * Writes the canonical encoding of rec (every field but hash, in a fixed
 * order; binary, see docs/audit.md) into buf. A record with an org_id is
 * encoded under the tag "LKA2" with org_id after org; one without (every
 * record from before org ids, and those filed under no org) exactly as
 * before, under "LKA1". Returns the length, or 0 if it does not fit.
 */
size_t audit_canonical(const struct audit_rec *rec, char *buf, size_t cap);

/*
 * Writes rec as the API shows it (docs/audit.md) - {"seq", "time" (RFC 3339
 * with milliseconds), "request_id", "actor": {"type", "name", "org",
 * "token_id"}, "org", "org_id", "team", "action", "method", "resource", "outcome",
 * "status", "source_ip", "user_agent", "credential_hmac", "prev_hash",
 * "hash"} - into buf. Returns the length, or 0 if it does not fit.
 */
size_t audit_rec_json(const struct audit_rec *rec, char *buf, size_t cap);

/* Computes rec->hash from rec's fields and rec->prev_hash. 0 or LK_EINVAL. */
int audit_seal(struct audit_rec *rec);

/*
 * Checks rec against the record before it (prev_seq, prev_hash; 0 and the
 * genesis hash for the first): the seq follows on, the link matches and
 * the hash is right. Returns 0, or 1 with a reason in why (cap bytes).
 */
int audit_check(const struct audit_rec *rec, int64_t prev_seq, const char *prev_hash, char *why, size_t cap);

#endif
