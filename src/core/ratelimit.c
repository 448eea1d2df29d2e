/*
 * ratelimit.c - GCRA (generic cell rate algorithm) arithmetic for one key.
 *
 * Pure: the caller owns the state, the clock and the locking. This module
 * must never allocate, never read the clock, and never change the state of
 * a refused request, so a client that keeps retrying while refused is not
 * pushed further back.
 *
 * A policy of Q requests per W seconds becomes an emission interval
 * T = W * 10^6 / Q microseconds. Each allowed request moves the theoretical
 * arrival time (TAT) T further into the future; a request is allowed while
 * the backlog TAT - now, including its own interval, stays within Q * T,
 * i.e. the burst tolerance is tau = Q * T - T = W * 10^6 - T. A fresh key can
 * therefore send exactly Q requests at once and then one every T.
 *
 * T is kept in whole microseconds, rounded down (and at least 1); the
 * tolerance is Q * T rather than W * 10^6 so that rounding can never allow
 * more than Q requests in a burst. For policies where Q does not divide
 * W * 10^6 the sustained rate is then a hair (under one part in T) above Q/W.
 */
#include "core/ratelimit.h"

#include "core/errors.h"

#include <stddef.h>

#define US_PER_S INT64_C(1000000)
#define RL_QUOTA_MAX 1000000000U
#define RL_WINDOW_MAX 86400U

/* ceil(us / 10^6) for us >= 0, saturated to UINT32_MAX. */
static uint32_t ceil_seconds(int64_t us) {
    if (us <= 0)
        return 0;
    int64_t s = us / US_PER_S + (us % US_PER_S != 0);
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

void rl_check(const struct rl_policy *policy, struct rl_state *state, int64_t now_us, struct rl_result *ret) {
    ret->allowed = 1;
    ret->remaining = 0;
    ret->reset_s = 0;
    ret->retry_after_s = 0;
    if (policy->quota == 0)
        return;

    /* A zero window is a programming error; treat it as the smallest valid one rather than divide by zero. */
    int64_t window_us = (int64_t)(policy->window_s != 0 ? policy->window_s : 1) * US_PER_S;
    int64_t t = window_us / policy->quota;
    if (t < 1)
        t = 1;
    int64_t limit = (int64_t)policy->quota * t; /* tau + T; at most 8.64e10 */

    /* A fresh key, or one whose TAT has passed, starts from now. */
    int64_t tat = state->tat_us;
    if (tat == 0 || tat < now_us)
        tat = now_us;
    int64_t backlog;
    if (__builtin_sub_overflow(tat, now_us, &backlog) || backlog > INT64_MAX - t)
        backlog = INT64_MAX - t;

    if (backlog + t > limit) {
        ret->allowed = 0;
        ret->reset_s = ceil_seconds(backlog);
        /* The wait is positive here, so rounding up makes it at least one second. */
        ret->retry_after_s = ceil_seconds(backlog + t - limit);
        return;
    }

    int64_t new_tat;
    if (__builtin_add_overflow(tat, t, &new_tat))
        new_tat = INT64_MAX;
    state->tat_us = new_tat;
    backlog += t;
    ret->remaining = (uint32_t)((limit - backlog) / t);
    ret->reset_s = ceil_seconds(backlog);
}

/*
 * Reads a decimal integer in [1, max] from s at *pos, stopping at the first
 * non-digit. Returns 0 or -1 (no digits, zero, or above max).
 */
static int parse_uint(const char *s, size_t *pos, uint32_t max, uint32_t *ret) {
    uint64_t v = 0;
    size_t i = *pos;

    if (s[i] < '0' || s[i] > '9')
        return -1;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -1;
    }
    if (v == 0)
        return -1;
    *pos = i;
    *ret = (uint32_t)v;
    return 0;
}

int rl_policy_parse(const char *s, struct rl_policy *ret) {
    uint32_t q, w;
    size_t pos = 0;

    if (s == NULL)
        return LK_EINVAL;
    if (s[0] == '0' && s[1] == '\0') {
        ret->quota = 0;
        ret->window_s = 1;
        return 0;
    }
    if (parse_uint(s, &pos, RL_QUOTA_MAX, &q) < 0 || s[pos] != '/')
        return LK_EINVAL;
    pos++;
    if (parse_uint(s, &pos, RL_WINDOW_MAX, &w) < 0 || s[pos] != '\0')
        return LK_EINVAL;
    ret->quota = q;
    ret->window_s = w;
    return 0;
}
