/*
 * refresh.h - when to renew a credential that expires: at a fraction of
 * its lifetime (80% by default) with jitter, so many agents started
 * together do not renew together, and exponential backoff after failures.
 * Pure functions of their inputs (the caller supplies the time and the
 * randomness), so they are tested without a clock.
 */
#ifndef LK_LIB_REFRESH_H
#define LK_LIB_REFRESH_H

#include <stdint.h>

#define REFRESH_FRACTION_DEFAULT 0.8
#define REFRESH_BACKOFF_FIRST_MS 1000
#define REFRESH_BACKOFF_MAX_MS 60000

/*
 * Milliseconds from now_ms until a credential issued at issued_ms and
 * expiring at expires_ms should be renewed: at issued + fraction *
 * lifetime, moved by up to +/- fraction/16 of the lifetime (5% at 0.8)
 * according to r in [0, 1) (0.5 = no jitter). Never negative (0 = now)
 * and never at or after the expiry (at the latest one second before it,
 * or now). A fraction outside (0, 1] counts as the default.
 */
int64_t refresh_delay_ms(int64_t issued_ms, int64_t expires_ms, int64_t now_ms, double fraction, double r);

/*
 * Milliseconds to wait after the failures-th consecutive failure (1 for
 * the first): 1 s doubling up to 60 s, scaled by 0.8 .. 1.2 according to r
 * in [0, 1) and never above 60 s. 0 failures is 0.
 */
int64_t refresh_backoff_ms(unsigned failures, double r);

#endif
