/*
 * duration.h - ISO 8601 durations ("P1Y2M10DT2H30M", "PT5S", "P2W").
 *
 * Pure: no I/O, no clock. Calendar parts (years, months) are applied with
 * calendar arithmetic in UTC: adding P1M to 31 January gives the last day of
 * February (the day is clamped to the target month's length), as most
 * calendar libraries do. Weeks, days, hours, minutes and seconds are exact.
 */
#ifndef LK_CORE_DURATION_H
#define LK_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

struct lk_error;

struct iso_duration {
    int64_t years, months, weeks, days, hours, minutes, seconds;
};

/*
 * Parses s[0..len). Accepts "P" followed by at least one of nY nM nW nD and an
 * optional "T" part with at least one of nH nM nS, each number a non-negative
 * integer of at most 9 digits, designators in that order, each at most once.
 * Rejects fractions, signs, lower case, empty "P"/"PT", and trailing bytes.
 * Returns 0 and fills ret, or LK_EINVAL with a message in err (may be NULL)
 * naming what is wrong. ret is untouched on failure.
 */
int duration_parse(const char *s, size_t len, struct iso_duration *ret, struct lk_error *err);

/* 1 if every component of d is zero. */
int duration_is_zero(const struct iso_duration *d);

/*
 * Computes from + d (Unix seconds, UTC) into ret. Years and months first
 * (clamping the day of month), then the exact parts. Returns 0, or LK_ERANGE
 * if the result is before 1970 or after 9999-12-31T23:59:59Z.
 */
int duration_add(int64_t from, const struct iso_duration *d, int64_t *ret);

/*
 * Parses a duration the way Vault's clients send one, into whole seconds:
 * a string of digits is seconds ("3600"); otherwise a sequence of numbers
 * (decimals allowed) each with a unit, as Go's time.ParseDuration takes
 * them, plus "d" for days ("768h", "1h30m", "1.5h", "90s", "2d", "500ms").
 * No sign; the total is truncated to whole seconds and at most
 * DURATION_SECONDS_MAX. Returns 0, or LK_EINVAL with a message in err (may
 * be NULL) saying what is wrong.
 */
#define DURATION_SECONDS_MAX (INT64_C(100) * 365 * 24 * 3600)
int duration_parse_seconds(const char *s, size_t len, int64_t *ret, struct lk_error *err);

/*
 * Either form, for settings and bodies that take both: ISO 8601 when s
 * starts with 'P' ("PT1H", "P7D": duration_parse, counted from the epoch),
 * else duration_parse_seconds ("1h", "90m", "7d"). Whole seconds into
 * *ret; 0 or LK_EINVAL (err says why).
 */
int duration_any_seconds(const char *s, size_t len, int64_t *ret, struct lk_error *err);

/* Room for the longest duration_words() text ("106751991167300 days and 23 hours") and NUL. */
#define DURATION_WORDS_BUFSZ 48

/*
 * Writes seconds as words for people, never claiming more time than there
 * is (every unit is rounded down):
 *
 *   under a minute (zero and negative too)  "less than a minute"
 *   under an hour                           "N minute(s)"
 *   under 48 hours                          "N hour(s)"
 *   from 48 hours                           "N days", then " and H hour(s)" when H > 0
 *
 * into out[0..cap), NUL-terminated. Returns 0, or -1 if it does not fit
 * (out then holds "" when cap >= 1). DURATION_WORDS_BUFSZ always fits.
 */
int duration_words(int64_t seconds, char *out, size_t cap);

#endif
