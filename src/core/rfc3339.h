/*
 * rfc3339.h - RFC 3339 timestamps <-> Unix seconds.
 *
 * Pure: no I/O, no clock, no locale, no TZ environment (never calls
 * mktime/localtime). Output is always UTC with a "Z" suffix and no fraction.
 */
#ifndef LK_CORE_RFC3339_H
#define LK_CORE_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */
#define RFC3339_BUFSZ 21

/*
 * Parses s[0..len) as an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", an
 * optional fraction ".d+" (truncated to whole seconds), then "Z"/"z" or
 * "+HH:MM"/"-HH:MM". "T" may also be "t" or a space. Validates ranges
 * (month 1-12, day within the month incl. leap years, hour 0-23, minute
 * 0-59, second 0-60 where 60 is read as 59). Years 1970-9999 only.
 * Returns 0 and the Unix time in ret, or LK_EINVAL (ret untouched).
 */
int rfc3339_parse(const char *s, size_t len, int64_t *ret);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out; returns the length (20). */
size_t rfc3339_format(int64_t t, char out[RFC3339_BUFSZ]);

/* Days in month m (1-12) of proleptic Gregorian year y. */
unsigned rfc3339_days_in_month(int64_t y, unsigned m);

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1-12). */
int64_t rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Inverse of rfc3339_days_from_civil. */
void rfc3339_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d);

#endif
