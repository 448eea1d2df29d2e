/*
 * notice.c - the pure rules of token expiry notices: the schedule, the
 * backoff, notice ids and the webhook signature (see notice.h; its
 * scheme is lib/webhook.c's).
 *
 * Must never do I/O, read the clock or allocate; must never see anything
 * but public token ids (the signing secret is only passed through to HMAC).
 */
#include "core/notice.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/secret.h"
#include "lib/str.h"
#include "lib/webhook.h"

int notice_offsets_parse(const char *s, int *ret_days, size_t cap, size_t *ret_n) {
    int days[NOTICE_OFFSETS_MAX];
    size_t n = 0;
    if (s == NULL || ret_days == NULL || ret_n == NULL || *s == '\0')
        return LK_EINVAL;
    const char *p = s;
    for (;;) {
        int64_t v = 0;
        size_t digits = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > NOTICE_DAYS_MAX)
                return LK_EINVAL;
            p++;
            digits++;
        }
        if (digits == 0 || v < 1)
            return LK_EINVAL;
        int dup = 0;
        for (size_t i = 0; i < n; i++)
            dup |= days[i] == (int)v;
        if (!dup) {
            if (n >= cap || n >= NOTICE_OFFSETS_MAX)
                return LK_EINVAL;
            days[n++] = (int)v;
        }
        if (*p == '\0')
            break;
        if (*p != ',')
            return LK_EINVAL;
        p++;
    }
    /* Insertion sort, largest first: n is tiny. */
    for (size_t i = 1; i < n; i++) {
        int v = days[i];
        size_t j = i;
        while (j > 0 && days[j - 1] < v) {
            days[j] = days[j - 1];
            j--;
        }
        days[j] = v;
    }
    memcpy(ret_days, days, n * sizeof(days[0]));
    *ret_n = n;
    return 0;
}

int notice_due(int64_t created_at, int64_t expires_at, int64_t now, const int *days, size_t n, int short_lived,
               enum notice_verdict *ret_verdicts) {
    int due = -1;
    int smallest = -1;
    for (size_t i = 0; i < n; i++)
        if (days[i] >= 1 && days[i] <= NOTICE_DAYS_MAX && (smallest < 0 || days[i] < smallest))
            smallest = days[i];
    for (size_t i = 0; i < n; i++) {
        ret_verdicts[i] = NOTICE_NOT_YET;
        if (expires_at == 0 || days[i] < 1 || days[i] > NOTICE_DAYS_MAX)
            continue;
        int64_t moment = expires_at - (int64_t)days[i] * NOTICE_DAY_SECONDS;
        /* The last notice is the final warning: a token born inside its
         * window (its whole life shorter than the smallest offset) gets it
         * at once when short_lived asks for that, else none at all. */
        if (created_at >= moment && (days[i] != smallest || !short_lived)) {
            ret_verdicts[i] = NOTICE_NOT_APPLICABLE;
            continue;
        }
        if (now < moment || now >= expires_at)
            continue;
        ret_verdicts[i] = NOTICE_SUPERSEDED;
        if (due < 0 || days[i] < days[due])
            due = (int)i;
    }
    if (due >= 0)
        ret_verdicts[due] = NOTICE_DUE;
    return due;
}

int64_t notice_backoff(int attempt, int64_t base, int64_t cap) {
    if (base < 1)
        base = 1;
    if (cap < base)
        cap = base;
    int64_t d = base;
    for (int i = 1; i < attempt; i++) {
        if (d >= cap / 2) {
            d = cap;
            break;
        }
        d *= 2;
    }
    return d > cap ? cap : d;
}

int notice_id(const char *token_id, int days, const char *channel, const char *recipient, char out[NOTICE_ID_BUFSZ]) {
    char buf[512];
    uint8_t h[SECRET_HASH_LEN];
    char hex[2 * SECRET_HASH_LEN + 1];
    if (token_id == NULL || channel == NULL || *token_id == '\0' || *channel == '\0' || days < 1)
        return LK_EINVAL;
    /* "" (webhooks, nobody): the id this notice had before recipients were rows. */
    int len = recipient != NULL && *recipient != '\0'
                  ? snprintf(buf, sizeof(buf), "%s/%d/%s/%s", token_id, days, channel, recipient)
                  : snprintf(buf, sizeof(buf), "%s/%d/%s", token_id, days, channel);
    if (len < 0 || (size_t)len >= sizeof(buf))
        return LK_EINVAL;
    secret_hash(buf, (size_t)len, h);
    secret_hex(h, sizeof(h), hex);
    memcpy(out, "ntc_", 4);
    memcpy(out + 4, hex, 24);
    out[28] = '\0';
    return 0;
}

/* The signature scheme is lib/webhook.h's; this keeps the notice's own
 * contract: LK_E* codes, and at most this many signed bytes ("<t>.<body>"). */
#define NOTICE_SIGNED_MAX 4096
_Static_assert(NOTICE_SIG_BUFSZ == WEBHOOK_SIG_BUFSZ, "a notice signature is a webhook signature");

int notice_signature(const void *secret, size_t secret_len, int64_t t, const char *body, size_t body_len,
                     char out[NOTICE_SIG_BUFSZ]) {
    char num[STR_INT64_BUFSZ];
    size_t nl = str_fmt_int64(t, num);
    if (body_len > NOTICE_SIGNED_MAX - nl - 1)
        return LK_EINVAL;
    int r = webhook_sign(secret, secret_len, t, body, body_len, out);
    return r == 0 ? 0 : r == -1 ? LK_EINVAL : LK_EINTERNAL;
}
