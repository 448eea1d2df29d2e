/*
 * ratelimit.h - rate-limit arithmetic (GCRA, the generic cell rate
 * algorithm), pure: the caller owns the state, the clock and any locking.
 *
 * A policy allows `quota` requests per `window` seconds, with bursts of up to
 * `quota`. State is one timestamp (the theoretical arrival time), so a
 * limiter table needs 8 bytes per key.
 */
#ifndef LK_CORE_RATELIMIT_H
#define LK_CORE_RATELIMIT_H

#include <stdint.h>

struct rl_policy {
    uint32_t quota;    /* requests per window; 0 disables the limit */
    uint32_t window_s; /* window length in seconds, >= 1 */
};

struct rl_state {
    int64_t tat_us; /* theoretical arrival time, microseconds; 0 = fresh */
};

struct rl_result {
    int allowed;            /* 1 if this request may proceed */
    uint32_t remaining;     /* requests still allowed right now after this one */
    uint32_t reset_s;       /* seconds until the full quota is available again (rounded up) */
    uint32_t retry_after_s; /* when refused: seconds until one request is allowed (>= 1); else 0 */
};

/*
 * Accounts one request at now_us against state under policy. When refused the
 * state is unchanged. A policy with quota 0 always allows (remaining = 0).
 */
void rl_check(const struct rl_policy *policy, struct rl_state *state, int64_t now_us, struct rl_result *ret);

/*
 * Parses "Q/W" (e.g. "600/60") or "0" into ret. Q and W positive
 * integers, W <= 86400, Q <= 10^9. Returns 0 or LK_EINVAL.
 */
int rl_policy_parse(const char *s, struct rl_policy *ret);

#endif
