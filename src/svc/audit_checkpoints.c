/*
 * audit_checkpoints.c - signed checkpoints of the audit chain: making one,
 * and the verify report that checks the chain and every checkpoint against
 * it (docs/audit.md, "Checkpoints").
 *
 * A checkpoint is HMAC-SHA256 under the seal's audit key of "<seq>:<hash>"
 * for a head of the chain. The key is in memory only while unsealed, so a
 * checkpoint that verifies was written by a process holding the unseal
 * keys; since each record's hash covers every record before it, it
 * authenticates records 1..seq. Records are hashed as they always were.
 *
 * Reads only. Never logs or returns the key; a MAC is no secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/secret.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/seal.h"
#include "svc/svc.h"

#define PAGE 1000

/* The MAC of "<seq>:<hash>" under the audit key, as hex into mac. */
static int checkpoint_mac(struct seal *seal, int64_t seq, const char *hash, char mac[AUDIT_HASH_HEX]) {
    char text[32 + AUDIT_HASH_HEX];
    uint8_t raw[SECRET_HASH_LEN];
    int n = snprintf(text, sizeof(text), "%lld:%s", (long long)seq, hash);
    if (n < 0 || (size_t)n >= sizeof(text))
        return LK_EINVAL;
    int r = seal_key_mac(seal, SEAL_KEY_CHECKPOINT, text, (size_t)n, raw);
    if (r == 0)
        secret_hex(raw, sizeof(raw), mac);
    return r;
}

int audit_checkpoint_make(struct seal *seal, int64_t seq, const char *hash, int64_t now, struct audit_checkpoint *ret) {
    if (seal == NULL || seq < 1 || hash == NULL || strlen(hash) != AUDIT_HASH_HEX - 1)
        return LK_EINVAL;
    memset(ret, 0, sizeof(*ret));
    ret->seq = seq;
    memcpy(ret->hash, hash, AUDIT_HASH_HEX);
    ret->created_at = now;
    return checkpoint_mac(seal, seq, hash, ret->mac);
}

/* --- the report ---------------------------------------------------------------- */

/* Walks the stored checkpoints in seq order, a page at a time. */
struct ckpt_cursor {
    struct store *s;
    struct audit_checkpoint_list page;
    size_t next;
    int64_t after; /* the last seq read */
    int done;
};

/* The next checkpoint, or NULL at the end (*r says if reading failed). */
static const struct audit_checkpoint *ckpt_peek(struct ckpt_cursor *c, int *r) {
    if (c->next < c->page.count)
        return &c->page.items[c->next];
    if (c->done)
        return NULL;
    audit_checkpoint_list_done(&c->page);
    c->next = 0;
    *r = store_audit_checkpoint_list(c->s, c->after, PAGE, &c->page);
    if (*r != 0 || c->page.count == 0) {
        c->done = 1;
        return NULL;
    }
    if (c->page.count < PAGE)
        c->done = 1;
    return &c->page.items[0];
}

static void ckpt_take(struct ckpt_cursor *c) {
    c->after = c->page.items[c->next].seq;
    c->next++;
}

/* The stored hash of record seq into hash ("" when the trail holds none). */
static int record_hash(struct store *s, int64_t seq, char hash[AUDIT_HASH_HEX]) {
    struct audit_filter f;
    struct audit_list one = {0};
    memset(&f, 0, sizeof(f));
    f.cursor = seq - 1;
    f.limit = 1;
    hash[0] = '\0';
    int r = store_audit_list(s, &f, &one);
    if (r == 0 && one.count == 1 && one.items[0].seq == seq)
        memcpy(hash, one.items[0].hash, AUDIT_HASH_HEX);
    audit_list_done(&one);
    return r;
}

/*
 * Checks one checkpoint against the audit key and against have, the hash
 * the trail holds for its record ("" for none). 0, 1 with the reason in
 * rep (the report's first failure), or an LK_E* code.
 */
static int check_one(struct seal *seal, const struct audit_checkpoint *cp, const char *have, struct audit_report *rep) {
    char want[AUDIT_HASH_HEX];
    const char *why = NULL;
    int r = checkpoint_mac(seal, cp->seq, cp->hash, want);
    if (r != 0)
        return r;
    if (strlen(cp->mac) != AUDIT_HASH_HEX - 1 || !secret_equal(want, cp->mac, AUDIT_HASH_HEX - 1))
        why = "its MAC does not verify under the audit key: it was forged, altered or made under another key";
    else if (have[0] == '\0')
        why = "the trail no longer holds the record it vouches for: the trail was cut back below it";
    else if (!secret_equal(have, cp->hash, AUDIT_HASH_HEX - 1))
        why = "the trail's record has another hash than the checkpoint vouches for: records up to it were rewritten";
    if (why == NULL)
        return 0;
    rep->failed = cp->seq;
    snprintf(rep->failed_why, sizeof(rep->failed_why), "%s", why);
    return 1;
}

/* Why the checkpoints cannot be checked with this seal; NULL when they can
 * (the audit key is loaded). A key that is stored but does not open, or
 * that is missing while checkpoints exist, is a failure, not a reason. */
static const char *key_state(struct seal *seal, struct store *s, int *ret_key_error) {
    *ret_key_error = 0;
    if (seal == NULL)
        return "no unseal key shares were given";
    int r = seal_key(seal, s, SEAL_KEY_CHECKPOINT, 0);
    if (r == LK_ESEALED)
        return "latchkey is sealed";
    if (r == LK_ENOTFOUND || r == LK_EINTEGRITY || r == 0) {
        *ret_key_error = r;
        return NULL;
    }
    return "the audit key could not be read";
}

int audit_verify_report(struct store *s, struct seal *seal, struct audit_report *rep) {
    memset(rep, 0, sizeof(*rep));
    int64_t head = 0, prev_seq = 0;
    char head_hash[AUDIT_HASH_HEX], prev_hash[AUDIT_HASH_HEX];
    int r = store_audit_head(s, &head, head_hash);
    if (r != 0)
        return r;
    int key_error = 0;
    const char *unchecked = key_state(seal, s, &key_error);
    rep->checked = unchecked == NULL;
    if (unchecked != NULL)
        snprintf(rep->unchecked_why, sizeof(rep->unchecked_why), "%s", unchecked);
    int can_mac = rep->checked && key_error == 0;

    struct ckpt_cursor ck = {.s = s};
    const struct audit_checkpoint *cp;
    struct audit_filter f;
    memcpy(prev_hash, audit_genesis_hash, AUDIT_HASH_HEX);
    memset(&f, 0, sizeof(f));
    f.limit = PAGE;
    int walking = head > 0;
    /* The chain up to the head at the start, merged with the checkpoints
     * that fall on it: each is compared with the record as verified. */
    while (walking && r == 0) {
        struct audit_list page = {0};
        f.cursor = prev_seq;
        r = store_audit_list(s, &f, &page);
        if (r != 0 || page.count == 0)
            walking = 0;
        for (size_t i = 0; r == 0 && walking && i < page.count; i++) {
            const struct audit_rec *rec = &page.items[i];
            if (rec->seq > head) {
                walking = 0;
                break;
            }
            if (audit_check(rec, prev_seq, prev_hash, rep->chain_why, sizeof(rep->chain_why)) != 0) {
                rep->broken_at = rec->seq;
                walking = 0;
                break;
            }
            prev_seq = rec->seq;
            memcpy(prev_hash, rec->hash, AUDIT_HASH_HEX);
            rep->records++;
            while (r == 0 && (cp = ckpt_peek(&ck, &r)) != NULL && cp->seq <= rec->seq) {
                rep->checkpoints++;
                if (rep->oldest == 0)
                    rep->oldest = cp->seq;
                if (can_mac && rep->failed == 0) {
                    /* One behind rec was stored after the walk passed its
                     * record (a running server's): read that record again. */
                    char have[AUDIT_HASH_HEX];
                    memcpy(have, rec->hash, AUDIT_HASH_HEX);
                    int c = cp->seq == rec->seq ? 0 : record_hash(s, cp->seq, have);
                    if (c == 0)
                        c = check_one(seal, cp, have, rep);
                    if (c < 0)
                        r = c;
                    else if (c == 0)
                        rep->newest_valid = cp->seq;
                }
                ckpt_take(&ck);
            }
        }
        audit_list_done(&page);
    }
    rep->verified_to = prev_seq;
    /* The rest lie beyond the verified chain: checked against the records
     * the trail holds now (checkpoints written since the walk began among
     * them), never counted as newest_valid. */
    while (r == 0 && (cp = ckpt_peek(&ck, &r)) != NULL) {
        rep->checkpoints++;
        if (rep->oldest == 0)
            rep->oldest = cp->seq;
        if (can_mac && rep->failed == 0) {
            char have[AUDIT_HASH_HEX];
            int c = record_hash(s, cp->seq, have);
            if (c == 0)
                c = check_one(seal, cp, have, rep);
            if (c < 0)
                r = c;
        }
        ckpt_take(&ck);
    }
    audit_checkpoint_list_done(&ck.page);
    if (r != 0)
        return r;
    /* A stored key that does not open fails the report, checkpoints or
     * not; a missing one fails it when there are checkpoints it should
     * verify (before the writer's first checkpoint there is none). */
    if (rep->checked && key_error == LK_EINTEGRITY) {
        rep->failed = rep->oldest;
        snprintf(rep->failed_why, sizeof(rep->failed_why),
                 "the stored audit key does not open: it was altered, or belongs to another keyring");
    } else if (rep->checked && key_error == LK_ENOTFOUND && rep->oldest != 0) {
        rep->failed = rep->oldest;
        snprintf(rep->failed_why, sizeof(rep->failed_why),
                 "no audit key is stored, so no checkpoint can verify: the key was removed");
    }
    rep->ok = rep->broken_at == 0 && rep->failed == 0 && rep->failed_why[0] == '\0';
    return 0;
}

int audit_verify_for(struct svc *svc, const struct principal *caller, struct audit_report *ret, struct lk_error *err) {
    int r = authz_require_root(caller, NULL, "verify the audit trail", "", err);
    if (r != 0)
        return r;
    r = audit_verify_report(svc->store, svc->seal, ret);
    return r != 0 ? lk_error_set(err, r, "could not read the audit trail") : 0;
}
