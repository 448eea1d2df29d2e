/*
 * routes_audit.c - reading the audit trail over REST: GET /v1/audit
 * (partner admin, every org), GET /v1/orgs/{org}/audit (org admins;
 * team owners see their teams' records), and GET /v1/audit/verify
 * (partner admin: the chain and its signed checkpoints checked).
 *
 * Read-only by design: no route changes or deletes a record.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/rfc3339.h"
#include "svc/audit.h"

#define AUDIT_LIST_DEFAULT 100
#define AUDIT_LIST_MAX 200
/* Records one page may examine (see store_audit_list): a query that matches
 * little stops there and answers with the records found so far and a
 * cursor, so no query holds its event loop for long however large the
 * trail (docs/audit.md). */
#define AUDIT_SCAN_BUDGET 16384
#define STR_(x) #x
#define STR(x) STR_(x)

/* ?since= / ?until=: RFC 3339 into Unix ms (0 when absent). -1 replied 400. */
static int time_param(struct api_req *ar, const char *name, int64_t *ret_ms) {
    const char *v = api_query(ar, name);
    int64_t t;
    *ret_ms = 0;
    if (v == NULL || *v == '\0')
        return 0;
    if (rfc3339_parse(v, strlen(v), &t) != 0) {
        api_reply_error(ar, LK_EINVAL, "%s: must be an RFC 3339 time such as 2026-12-01T10:00:00Z", name);
        return -1;
    }
    *ret_ms = t * 1000;
    return 0;
}

/* A short filter value (?actor=, ...): at most cap-1 bytes. -1 replied 400. */
static int text_param(struct api_req *ar, const char *name, size_t cap, const char **ret) {
    const char *v = api_query(ar, name);
    *ret = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (strlen(v) >= cap) {
        api_reply_error(ar, LK_EINVAL, "%s: longer than %zu bytes", name, cap - 1);
        return -1;
    }
    *ret = v;
    return 0;
}

static void list(struct api_req *ar, const char *org) {
    struct audit_filter f;
    struct audit_list out = {0};
    int limit;
    int64_t cursor;
    memset(&f, 0, sizeof(f));
    if (api_paging(ar, AUDIT_LIST_DEFAULT, AUDIT_LIST_MAX, &limit, &cursor) < 0)
        return;
    if (text_param(ar, "actor", AUDIT_NAME_MAX, &f.actor) < 0 ||
        text_param(ar, "action", AUDIT_ACTION_MAX, &f.action) < 0 ||
        text_param(ar, "outcome", AUDIT_SHORT_MAX, &f.outcome) < 0 || time_param(ar, "since", &f.since_ms) < 0 ||
        time_param(ar, "until", &f.until_ms) < 0)
        return;
    if (f.outcome != NULL && strcmp(f.outcome, "success") != 0 && strcmp(f.outcome, "denied") != 0 &&
        strcmp(f.outcome, "rate_limited") != 0 && strcmp(f.outcome, "error") != 0) {
        api_reply_error(ar, LK_EINVAL, "outcome: must be success, denied, rate_limited or error");
        return;
    }
    const char *order = api_query(ar, "order");
    if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
        api_reply_error(ar, LK_EINVAL, "order: must be asc (oldest first) or desc (newest first, the default)");
        return;
    }
    f.descending = order == NULL || strcmp(order, "desc") == 0;
    f.cursor = cursor;
    f.limit = limit + 1;
    f.scan_budget = AUDIT_SCAN_BUDGET;
    if (audit_query(ar->svc, &ar->principal, org, &f, &out, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    size_t shown = out.count > (size_t)limit ? (size_t)limit : out.count;
    /* Encoded into a growing buffer: a page is at most 1000 records. */
    size_t cap = 4096, off = 0;
    char *buf = malloc(cap);
    char rec[AUDIT_CANONICAL_MAX];
    int ok = buf != NULL;
    if (ok) {
        memcpy(buf, "{\"items\":[", 10);
        off = 10;
    }
    for (size_t i = 0; ok && i < shown; i++) {
        size_t n = audit_rec_json(&out.items[i], rec, sizeof(rec));
        if (n == 0 || off + n + 64 > cap) {
            size_t ncap = cap * 2 + n + 64;
            char *p = n == 0 ? NULL : realloc(buf, ncap);
            if (p == NULL) {
                ok = 0;
                break;
            }
            buf = p;
            cap = ncap;
        }
        if (i > 0)
            buf[off++] = ',';
        memcpy(buf + off, rec, n);
        off += n;
    }
    if (ok) {
        /* More matched than shown, or the page's scan budget ran out first. */
        int64_t next = out.count > shown ? out.items[shown - 1].seq : out.resume;
        int n = next != 0 ? snprintf(buf + off, cap - off, "],\"next_cursor\":\"s%lld\"}", (long long)next)
                          : snprintf(buf + off, cap - off, "],\"next_cursor\":null}");
        off += (size_t)n;
        api_reply_raw(ar, 200, buf, off);
    } else {
        api_reply_error(ar, LK_EINTERNAL, "internal error: could not encode the audit records (request %s)",
                        ar->request_id);
    }
    free(buf);
    audit_list_done(&out);
}

static void h_audit_all(struct api_req *ar) {
    list(ar, NULL);
}

static void h_audit_org(struct api_req *ar) {
    list(ar, api_param(ar, "org"));
}

/* A seq, or null for none (0). */
static json_t *seq_or_null(int64_t seq) {
    return seq > 0 ? json_integer((json_int_t)seq) : json_null();
}

static json_t *text_or_null(const char *s) {
    return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *report_json(struct api_req *ar, const void *item) {
    const struct audit_report *rep = item;
    (void)ar;
    json_t *uncovered = rep->checked ? json_integer((json_int_t)(rep->verified_to - rep->newest_valid)) : json_null();
    return json_pack("{s:{s:I, s:I, s:o, s:o}, s:{s:b, s:I, s:o, s:o, s:o, s:o, s:o}, s:b}", "chain", "verified_to",
                     (json_int_t)rep->verified_to, "records", (json_int_t)rep->records, "broken_at",
                     seq_or_null(rep->broken_at), "reason", text_or_null(rep->chain_why), "checkpoints", "checked",
                     rep->checked, "count", (json_int_t)rep->checkpoints, "oldest", seq_or_null(rep->oldest),
                     "newest_valid", seq_or_null(rep->newest_valid), "uncovered", uncovered, "failed",
                     seq_or_null(rep->failed), "reason",
                     text_or_null(rep->checked ? rep->failed_why : rep->unchecked_why), "ok", rep->ok);
}

static void h_audit_verify(struct api_req *ar) {
    struct audit_report rep;
    int r = audit_verify_for(ar->svc, &ar->principal, &rep, &ar->err);
    api_reply_item(ar, r, &rep, report_json);
}

/* Formatted by hand: clang-format would indent the strings after STR() to its column. */
/* clang-format off */
#define AUDIT_QUERY_HELP                                                                                               \
    " Query: actor (name), action (e.g. token.create), outcome (success, denied, rate_limited, error), since and "     \
    "until (RFC 3339), order (desc, the default, or asc), limit (1-200), cursor."                                      \
    " A page examines at most " STR(AUDIT_SCAN_BUDGET) " records: follow next_cursor until it is null, even past a"    \
    " short or empty page. Records are never changed or deleted; each carries the hash of the one before"              \
    " (latchkey operator audit verify checks the chain)."
/* clang-format on */

const struct api_route api_routes_audit[] = {
    {M_GET, "/v1/audit", 1, "audit.list_all", h_audit_all,
     "Partner admin: the audit trail of every organisation and of requests outside any." AUDIT_QUERY_HELP},
    {M_GET, "/v1/audit/verify", 1, "audit.verify", h_audit_verify,
     "Partner admin: checks the whole trail now, as `latchkey operator audit verify` with the unseal keys does: "
     "{\"chain\": {\"verified_to\", \"records\", \"broken_at\", \"reason\"}, \"checkpoints\": {\"checked\", "
     "\"count\", \"oldest\", \"newest_valid\", \"uncovered\", \"failed\", \"reason\"}, \"ok\"}. Records "
     "1..newest_valid are authenticated by a checkpoint signed with the audit key, which only a holder of the "
     "unseal keys has; the uncovered ones after it are not yet. Reads the whole trail: seconds for a large one."},
    {M_GET, "/v1/orgs/{org}/audit", 1, "audit.list", h_audit_org,
     "The organisation's audit trail (audit.view: org admins); team owners see their teams' records." AUDIT_QUERY_HELP},
};
API_ROUTES_END(audit);
