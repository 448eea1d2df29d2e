/*
 * audit.c - canonical encoding and hash chaining of audit records.
 *
 * Pure and allocation-free. Must never include a field in the hash that
 * the store does not keep, or verification could not recompute it.
 */
#include "core/audit.h"
#include "core/tokfmt.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/rfc3339.h"
#include "lib/jsonw.h"
#include "lib/str.h"

const char audit_genesis_hash[AUDIT_HASH_HEX] = "0000000000000000000000000000000000000000000000000000000000000000";

const char *audit_outcome_of(int status) {
    if (status < 400)
        return "success";
    if (status == 401 || status == 403)
        return "denied";
    if (status == 429)
        return "rate_limited";
    return "error";
}

/* Longest start of a field whose percent-decoded form is looked at for a
 * token: three times the widest field, since decoding at most thirds it. */
#define DECODED_SCAN_MAX (3 * AUDIT_RESOURCE_MAX)

void audit_field_copy(char *dst, size_t cap, const char *src, size_t len) {
    /* A token a client percent-encoded ("lk%5Fuser%5F...", or encoded again
     * and again: "lk%255Fuser...") is cut too: the field is then recorded
     * in its wholly decoded form, where the cut applies. */
    char decoded[DECODED_SCAN_MAX];
    if (memchr(src, '%', len) != NULL) {
        size_t dn = str_percent_decode_all(src, len < sizeof(decoded) ? len : sizeof(decoded), decoded);
        if (tokfmt_find(decoded, dn, NULL)) {
            src = decoded;
            len = dn;
        }
    }
    /* Tokens first (their characters are all printable), then the bytes. */
    size_t n = tokfmt_redact(src, len, dst, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dst[i];
        if (c < 0x20 || c >= 0x7f)
            dst[i] = '?';
    }
}

/* Appends a big-endian 64-bit integer. */
static size_t put_u64(char *buf, size_t off, size_t cap, uint64_t v) {
    if (off == 0 || cap - off < 8)
        return 0;
    for (int i = 7; i >= 0; i--, v >>= 8)
        buf[off + (size_t)i] = (char)(v & 0xff);
    return off + 8;
}

/* Appends a 4-byte big-endian length, then the string's bytes. */
static size_t put_str(char *buf, size_t off, size_t cap, const char *s) {
    size_t n = strlen(s);
    if (off == 0 || n > 0xffff || cap - off < 4 + n)
        return 0;
    buf[off] = 0;
    buf[off + 1] = 0;
    buf[off + 2] = (char)(n >> 8);
    buf[off + 3] = (char)(n & 0xff);
    memcpy(buf + off + 4, s, n);
    return off + 4 + n;
}

size_t audit_canonical(const struct audit_rec *r, char *buf, size_t cap) {
    /* The tag, then every field in a fixed order: integers as 8 bytes,
     * strings as a 4-byte length and their bytes. Lengths make field
     * boundaries unambiguous; the tag says which fields follow. "LKA2" adds
     * org_id after org (migration 0013); a record without one keeps "LKA1",
     * so every record sealed before org ids still verifies. */
    int v2 = r->org_id[0] != '\0';
    if (cap < 4)
        return 0;
    memcpy(buf, v2 ? "LKA2" : "LKA1", 4);
    size_t off = 4;
    off = put_u64(buf, off, cap, (uint64_t)r->seq);
    off = put_u64(buf, off, cap, (uint64_t)r->time_ms);
    const char *fields[] = {r->request_id,      r->actor_type, r->actor_name, r->actor_org, r->token_id,
                            r->credential_hmac, r->org,        r->org_id,     r->team,      r->action,
                            r->method,          r->resource,   r->outcome};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i] != r->org_id || v2)
            off = put_str(buf, off, cap, fields[i]);
    off = put_u64(buf, off, cap, (uint64_t)(int64_t)r->status);
    off = put_str(buf, off, cap, r->source_ip);
    off = put_str(buf, off, cap, r->user_agent);
    off = put_str(buf, off, cap, r->prev_hash);
    return off;
}

/* "" reads as null in the API's shape. */
static void str_or_null(struct jsonw *w, const char *s) {
    jsonw_str_or_null(w, s[0] != '\0' ? s : NULL);
}

size_t audit_rec_json(const struct audit_rec *r, char *buf, size_t cap) {
    struct jsonw w;
    size_t len = 0;
    char t[RFC3339_BUFSZ + 4];
    int64_t secs = r->time_ms >= 0 ? r->time_ms / 1000 : 0;
    int ms = r->time_ms >= 0 ? (int)(r->time_ms % 1000) : 0;
    size_t tl = rfc3339_format(secs, t);
    /* "...:SSZ" -> "...:SS.mmmZ" */
    t[tl - 1] = '.';
    t[tl] = (char)('0' + ms / 100);
    t[tl + 1] = (char)('0' + ms / 10 % 10);
    t[tl + 2] = (char)('0' + ms % 10);
    t[tl + 3] = 'Z';
    t[tl + 4] = '\0';
    jsonw_init(&w, buf, cap);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "seq");
    jsonw_int(&w, r->seq);
    jsonw_key(&w, "time");
    jsonw_str(&w, t);
    jsonw_key(&w, "request_id");
    jsonw_str(&w, r->request_id);
    jsonw_key(&w, "actor");
    jsonw_obj_begin(&w);
    jsonw_key(&w, "type");
    jsonw_str(&w, r->actor_type);
    jsonw_key(&w, "name");
    str_or_null(&w, r->actor_name);
    jsonw_key(&w, "org");
    str_or_null(&w, r->actor_org);
    jsonw_key(&w, "token_id");
    str_or_null(&w, r->token_id);
    jsonw_obj_end(&w);
    jsonw_key(&w, "org");
    str_or_null(&w, r->org);
    jsonw_key(&w, "org_id");
    str_or_null(&w, r->org_id);
    jsonw_key(&w, "team");
    str_or_null(&w, r->team);
    jsonw_key(&w, "action");
    jsonw_str(&w, r->action);
    jsonw_key(&w, "method");
    jsonw_str(&w, r->method);
    jsonw_key(&w, "resource");
    jsonw_str(&w, r->resource);
    jsonw_key(&w, "outcome");
    jsonw_str(&w, r->outcome);
    jsonw_key(&w, "status");
    jsonw_int(&w, r->status);
    jsonw_key(&w, "source_ip");
    str_or_null(&w, r->source_ip);
    jsonw_key(&w, "user_agent");
    str_or_null(&w, r->user_agent);
    jsonw_key(&w, "credential_hmac");
    str_or_null(&w, r->credential_hmac);
    jsonw_key(&w, "prev_hash");
    jsonw_str(&w, r->prev_hash);
    jsonw_key(&w, "hash");
    jsonw_str(&w, r->hash);
    jsonw_obj_end(&w);
    if (jsonw_finish(&w, &len) != 0)
        return 0;
    return len;
}

/* 1 if every char array of rec is NUL-terminated within its size. */
static int terminated(const struct audit_rec *r) {
#define T(f) (memchr(r->f, '\0', sizeof(r->f)) != NULL)
    return T(request_id) && T(actor_type) && T(actor_name) && T(actor_org) && T(token_id) && T(credential_hmac) &&
           T(org) && T(org_id) && T(team) && T(action) && T(method) && T(resource) && T(outcome) && T(source_ip) &&
           T(user_agent) && T(prev_hash);
#undef T
}

static int compute(const struct audit_rec *rec, char out[AUDIT_HASH_HEX]) {
    char buf[AUDIT_CANONICAL_MAX];
    uint8_t h[SECRET_HASH_LEN];
    if (!terminated(rec))
        return LK_EINVAL;
    size_t n = audit_canonical(rec, buf, sizeof(buf));
    if (n == 0)
        return LK_EINVAL;
    secret_hash(buf, n, h);
    secret_hex(h, sizeof(h), out);
    return 0;
}

int audit_seal(struct audit_rec *rec) {
    return compute(rec, rec->hash);
}

int audit_check(const struct audit_rec *rec, int64_t prev_seq, const char *prev_hash, char *why, size_t cap) {
    char want[AUDIT_HASH_HEX];
    if (rec->seq != prev_seq + 1) {
        snprintf(why, cap, "expected seq %lld after %lld, found %lld (a record is missing or was inserted)",
                 (long long)(prev_seq + 1), (long long)prev_seq, (long long)rec->seq);
        return 1;
    }
    if (strcmp(rec->prev_hash, prev_hash) != 0) {
        snprintf(why, cap, "its prev_hash does not match the hash of record %lld", (long long)prev_seq);
        return 1;
    }
    if (compute(rec, want) != 0 || !secret_equal(want, rec->hash, AUDIT_HASH_HEX)) {
        /* The hash covers the link too: where the store gives the link from
         * the record before, a record re-sealed after a change shows here,
         * at the record after it. */
        if (prev_seq > 0)
            snprintf(why, cap,
                     "its content does not match its hash (the record was changed, or record %lld was and its hash "
                     "recomputed)",
                     (long long)prev_seq);
        else
            snprintf(why, cap, "its content does not match its hash (the record was changed)");
        return 1;
    }
    return 0;
}
