/*
 * refresh.c - renewal times and backoff (lib/refresh.h). No clock, no
 * randomness of its own: both come from the caller.
 */
#include "lib/refresh.h"

static double clamp01(double r) {
    return r < 0 ? 0 : r >= 1 ? 0.999999 : r;
}

int64_t refresh_delay_ms(int64_t issued_ms, int64_t expires_ms, int64_t now_ms, double fraction, double r) {
    if (!(fraction > 0 && fraction <= 1))
        fraction = REFRESH_FRACTION_DEFAULT;
    int64_t life = expires_ms - issued_ms;
    if (life <= 0 || now_ms >= expires_ms)
        return 0;
    double jitter = (clamp01(r) - 0.5) * 2 * (fraction / 16);
    int64_t at = issued_ms + (int64_t)((double)life * (fraction + jitter));
    int64_t latest = expires_ms - 1000;
    if (at > latest)
        at = latest;
    return at > now_ms ? at - now_ms : 0;
}

int64_t refresh_backoff_ms(unsigned failures, double r) {
    if (failures == 0)
        return 0;
    int64_t base = REFRESH_BACKOFF_FIRST_MS;
    for (unsigned i = 1; i < failures && base < REFRESH_BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > REFRESH_BACKOFF_MAX_MS)
        base = REFRESH_BACKOFF_MAX_MS;
    int64_t d = (int64_t)((double)base * (0.8 + 0.4 * clamp01(r)));
    return d > REFRESH_BACKOFF_MAX_MS ? REFRESH_BACKOFF_MAX_MS : d;
}
