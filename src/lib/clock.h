/*
 * clock.h - the one source of time for latchkey.
 *
 * Wall-clock time in Unix seconds for anything stored or shown, and a
 * monotonic microsecond clock for durations and rate limits.
 */
#ifndef LK_LIB_CLOCK_H
#define LK_LIB_CLOCK_H

#include <stdint.h>

/* Current wall-clock time, Unix seconds (UTC). */
int64_t clock_now(void);

/* Current wall-clock time, Unix milliseconds (UTC). */
int64_t clock_now_ms(void);

/* Monotonic time in microseconds (arbitrary origin). */
int64_t clock_mono_us(void);

#endif
