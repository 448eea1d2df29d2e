/*
 * duration.c - parsing ISO 8601 durations and adding them to a time, and
 * saying a number of seconds in words.
 *
 * Pure: this module must never read the clock, the locale or the TZ
 * environment (no mktime/timegm), and must never let arithmetic on
 * user-supplied numbers overflow: every product and sum is checked.
 * Error messages quote at most STR_ECHO_MAX bytes of the input,
 * with non-printable bytes escaped, so a hostile value cannot bloat or
 * corrupt a response.
 */
#include "core/duration.h"

#include "core/errors.h"
#include "lib/str.h"
#include "core/rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DURATION_DIGITS_MAX 9

#define SECS_PER_DAY INT64_C(86400)
/* 9999-12-31T23:59:59Z */
#define DURATION_MAX_UNIX INT64_C(253402300799)
/*
 * Years outside this band are out of range whatever the exact parts add;
 * the bound keeps rfc3339_days_from_civil() far from overflow.
 */
#define DURATION_YEAR_LIMIT INT64_C(10000000000)

/* Components in the only order ISO 8601 allows them. */
enum part { PART_Y, PART_MO, PART_W, PART_D, PART_H, PART_MI, PART_S };

static const char part_letter[] = {'Y', 'M', 'W', 'D', 'H', 'M', 'S'};

/* Renders one byte for a message: 'X' for printable ASCII, else \xNN (no quotes). */
static void echo_char(char c, char out[8]) {
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f)
        snprintf(out, 8, "'%c'", c);
    else
        snprintf(out, 8, "\\x%02x", u);
}

/* Records "<quoted input> is not an ISO 8601 duration: <why>" in err and returns LK_EINVAL. */
static int fail(struct lk_error *err, const char *s, size_t len, const char *why) {
    char q[STR_ECHO_BUFSZ];
    str_echo(s, len, q);
    return lk_error_set(err, LK_EINVAL, "\"%s\" is not an ISO 8601 duration: %s", q, why);
}

/* As fail(), for a reason that names one offending byte c. */
static int fail_char(struct lk_error *err, const char *s, size_t len, const char *before, char c, const char *after) {
    char q[STR_ECHO_BUFSZ];
    char cq[8];
    str_echo(s, len, q);
    echo_char(c, cq);
    return lk_error_set(err, LK_EINVAL, "\"%s\" is not an ISO 8601 duration: %s%s%s", q, before, cq, after);
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

static char to_upper(char c) {
    return is_lower(c) ? (char)(c - 'a' + 'A') : c;
}

/* The part c designates in the date or time section, or -1. */
static int part_of(char c, bool in_time) {
    if (!in_time) {
        switch (c) {
        case 'Y': return PART_Y;
        case 'M': return PART_MO;
        case 'W': return PART_W;
        case 'D': return PART_D;
        default: return -1;
        }
    }
    switch (c) {
    case 'H': return PART_H;
    case 'M': return PART_MI;
    case 'S': return PART_S;
    default: return -1;
    }
}

/* True if c is a designator of either section, or the "T" separator. */
static bool is_designator(char c) {
    return c == 'T' || part_of(c, false) >= 0 || part_of(c, true) >= 0;
}

/*
 * Explains why c cannot follow a number in the current section, and returns
 * LK_EINVAL.
 */
static int fail_designator(struct lk_error *err, const char *s, size_t len, char c, bool in_time) {
    char cq[8];
    char why[96];

    if (c == '.' || c == ',')
        return fail(err, s, len, "fractions are not allowed; use a smaller unit (e.g. PT36H instead of P1.5D)");
    if (is_lower(c) && is_designator(to_upper(c))) {
        echo_char(c, cq);
        snprintf(why, sizeof(why), "designators must be upper case (%s should be '%c')", cq, to_upper(c));
        return fail(err, s, len, why);
    }
    if (!in_time && part_of(c, true) >= 0)
        return fail_char(err, s, len, "", c, " is a time part and must come after 'T' (e.g. PT12H)");
    if (in_time && part_of(c, false) >= 0)
        return fail_char(err, s, len, "", c, " is a date part and must come before 'T'");
    if (c >= 'A' && c <= 'Z')
        return fail_char(err, s, len, "unknown designator ", c, "");
    return fail_char(err, s, len, "unexpected character ", c, " after a number");
}

int duration_parse(const char *s, size_t len, struct iso_duration *ret, struct lk_error *err) {
    int64_t val[7] = {0};
    int last = -1; /* the last part seen, to enforce order and uniqueness */
    bool in_time = false;
    bool any_time = false;
    size_t i = 1;

    if (s == NULL || len == 0)
        return fail(err, "", 0, "it is empty (e.g. P30D or PT12H)");
    if (s[0] != 'P') {
        if (s[0] == 'p')
            return fail(err, s, len, "designators must be upper case ('p' should be 'P')");
        return fail(err, s, len, "it must start with 'P' (e.g. P30D or PT12H)");
    }

    while (i < len) {
        char c = s[i];

        if (c == 'T') {
            if (in_time)
                return fail(err, s, len, "'T' appears more than once");
            in_time = true;
            i++;
            continue;
        }
        if (!is_digit(c)) {
            if (c == '-' || c == '+')
                return fail(err, s, len, "signs are not allowed; a duration is never negative");
            if (c == '.' || c == ',')
                return fail(err, s, len, "fractions are not allowed; use a smaller unit (e.g. PT36H instead of P1.5D)");
            if (part_of(c, in_time) >= 0 || is_designator(c))
                return fail_char(err, s, len, "", c, " has no number before it");
            if (is_lower(c) && is_designator(to_upper(c)))
                return fail_designator(err, s, len, c, in_time);
            if (c >= 'A' && c <= 'Z')
                return fail_char(err, s, len, "unknown designator ", c, "");
            return fail_char(err, s, len, "unexpected character ", c, "");
        }

        /* A number: at most DURATION_DIGITS_MAX digits, so it fits any later arithmetic. */
        size_t start = i;
        int64_t n = 0;
        while (i < len && is_digit(s[i])) {
            if (i - start >= DURATION_DIGITS_MAX)
                return fail(err, s, len, "a number has more than 9 digits");
            n = n * 10 + (s[i] - '0');
            i++;
        }
        if (i == len)
            return fail(err, s, len, "the last number has no designator (e.g. D for days)");

        char d = s[i];
        int p = part_of(d, in_time);
        if (p < 0)
            return fail_designator(err, s, len, d, in_time);
        if (p == last)
            return fail_char(err, s, len, "", d, " appears more than once");
        if (p < last) {
            char why[96];
            char dq[8], lq[8];
            echo_char(d, dq);
            echo_char(part_letter[last], lq);
            snprintf(why, sizeof(why), "designators are out of order (%s must come before %s)", dq, lq);
            return fail(err, s, len, why);
        }
        val[p] = n;
        last = p;
        if (in_time)
            any_time = true;
        i++;
    }

    if (last < 0 && !in_time)
        return fail(err, s, len, "it has no components (e.g. P30D or PT12H)");
    if (in_time && !any_time)
        return fail(err, s, len, "'T' must be followed by hours, minutes or seconds (e.g. PT12H)");

    ret->years = val[PART_Y];
    ret->months = val[PART_MO];
    ret->weeks = val[PART_W];
    ret->days = val[PART_D];
    ret->hours = val[PART_H];
    ret->minutes = val[PART_MI];
    ret->seconds = val[PART_S];
    return 0;
}

int duration_is_zero(const struct iso_duration *d) {
    return d->years == 0 && d->months == 0 && d->weeks == 0 && d->days == 0 && d->hours == 0 && d->minutes == 0 &&
           d->seconds == 0;
}

/* *acc += a * b, or false on overflow (*acc then unspecified). */
static bool add_mul(int64_t *acc, int64_t a, int64_t b) {
    int64_t p;
    if (__builtin_mul_overflow(a, b, &p))
        return false;
    return !__builtin_add_overflow(*acc, p, acc);
}

/* Floor division and modulo for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

int duration_add(int64_t from, const struct iso_duration *d, int64_t *ret) {
    int64_t y;
    unsigned m, day;

    /* Calendar part: move by whole months, keeping the time of day and clamping the day of month. */
    int64_t days = floor_div(from, SECS_PER_DAY);
    int64_t sod = floor_mod(from, SECS_PER_DAY);
    rfc3339_civil_from_days(days, &y, &m, &day);

    int64_t month_index = 0; /* months since year 0, January */
    if (!add_mul(&month_index, y, 12) || __builtin_add_overflow(month_index, (int64_t)m - 1, &month_index) ||
        !add_mul(&month_index, d->years, 12) || __builtin_add_overflow(month_index, d->months, &month_index))
        return LK_ERANGE;
    int64_t ny = floor_div(month_index, 12);
    unsigned nm = (unsigned)floor_mod(month_index, 12) + 1;
    if (ny > DURATION_YEAR_LIMIT || ny < -DURATION_YEAR_LIMIT)
        return LK_ERANGE;
    unsigned dim = rfc3339_days_in_month(ny, nm);
    unsigned nd = day > dim ? dim : day;

    int64_t t = sod;
    if (!add_mul(&t, rfc3339_days_from_civil(ny, nm, nd), SECS_PER_DAY))
        return LK_ERANGE;

    /* Exact part: weeks, days, hours, minutes and seconds are fixed numbers of seconds. */
    if (!add_mul(&t, d->weeks, 7 * SECS_PER_DAY) || !add_mul(&t, d->days, SECS_PER_DAY) ||
        !add_mul(&t, d->hours, 3600) || !add_mul(&t, d->minutes, 60) || !add_mul(&t, d->seconds, 1))
        return LK_ERANGE;

    if (t < 0 || t > DURATION_MAX_UNIX)
        return LK_ERANGE;
    *ret = t;
    return 0;
}

/* "N unit" or "N units" into out[0..cap); the snprintf result. */
static int count_words(char *out, size_t cap, int64_t n, const char *unit) {
    return snprintf(out, cap, "%lld %s%s", (long long)n, unit, n == 1 ? "" : "s");
}

int duration_words(int64_t seconds, char *out, size_t cap) {
    int len;
    if (seconds < 60) {
        len = snprintf(out, cap, "less than a minute");
    } else if (seconds < 3600) {
        len = count_words(out, cap, seconds / 60, "minute");
    } else if (seconds < 48 * 3600) {
        len = count_words(out, cap, seconds / 3600, "hour");
    } else {
        int64_t hours = seconds % SECS_PER_DAY / 3600;
        char h[DURATION_WORDS_BUFSZ] = "";
        if (hours > 0 && count_words(h, sizeof(h), hours, "hour") < 0)
            return -1;
        len = snprintf(out, cap, "%lld days%s%s", (long long)(seconds / SECS_PER_DAY), hours > 0 ? " and " : "", h);
    }
    if (len < 0 || (size_t)len >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

/* --- Vault's durations: "3600", "1h30m", "1.5h" ------------------------------ */

int duration_parse_seconds(const char *s, size_t len, int64_t *ret, struct lk_error *err) {
    static const struct {
        const char *name;
        int64_t ns; /* nanoseconds per unit */
    } units[] = {{"ns", 1},
                 {"us", 1000},
                 {"\xc2\xb5s", 1000}, /* µs */
                 {"ms", 1000000},
                 {"s", 1000000000},
                 {"m", INT64_C(60) * 1000000000},
                 {"h", INT64_C(3600) * 1000000000},
                 {"d", INT64_C(86400) * 1000000000}};
    /* Nanoseconds in whole seconds and a fraction, so that no sum of
     * in-range parts overflows. */
    int64_t secs = 0, frac_ns = 0;
    size_t i = 0;
    if (len == 0)
        return lk_error_set(err, LK_EINVAL, "a duration must not be empty: say \"1h\", \"30m\" or seconds");
    int digits_only = 1;
    for (size_t k = 0; k < len; k++)
        digits_only &= s[k] >= '0' && s[k] <= '9';
    if (digits_only) {
        int64_t v = 0;
        for (size_t k = 0; k < len; k++) {
            if (v > DURATION_SECONDS_MAX / 10)
                return lk_error_set(err, LK_EINVAL, "a duration may be at most %lld seconds",
                                    (long long)DURATION_SECONDS_MAX);
            v = v * 10 + (s[k] - '0');
        }
        if (v > DURATION_SECONDS_MAX)
            return lk_error_set(err, LK_EINVAL, "a duration may be at most %lld seconds",
                                (long long)DURATION_SECONDS_MAX);
        *ret = v;
        return 0;
    }
    while (i < len) {
        int64_t whole = 0, fnum = 0, fden = 1;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (whole > DURATION_SECONDS_MAX)
                return lk_error_set(err, LK_EINVAL, "a duration may be at most %lld seconds",
                                    (long long)DURATION_SECONDS_MAX);
            whole = whole * 10 + (s[i++] - '0');
        }
        int had_whole = i > start;
        if (i < len && s[i] == '.') {
            i++;
            size_t fstart = i;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (fden < INT64_C(1000000000000)) { /* more digits than nanoseconds need are dropped */
                    fnum = fnum * 10 + (s[i] - '0');
                    fden *= 10;
                }
                i++;
            }
            had_whole = had_whole || i > fstart;
        }
        if (!had_whole)
            return lk_error_set(err, LK_EINVAL, "a duration is numbers with units, such as \"1h30m\" or \"90s\"");
        size_t best = 0, ulen = 0;
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            size_t n = strlen(units[u].name);
            /* the longest unit that fits: "ms" before "m" */
            if (n <= len - i && memcmp(s + i, units[u].name, n) == 0 && n > ulen) {
                best = u;
                ulen = n;
            }
        }
        if (ulen == 0)
            return lk_error_set(err, LK_EINVAL,
                                "a duration's numbers each need a unit (ns, us, ms, s, m, h or d), as in \"1h30m\"");
        i += ulen;
        int64_t ns = units[best].ns;
        /* whole units: seconds and leftover nanoseconds */
        if (ns >= 1000000000) {
            int64_t per = ns / 1000000000;
            if (whole > (DURATION_SECONDS_MAX - secs) / per)
                return lk_error_set(err, LK_EINVAL, "a duration may be at most %lld seconds",
                                    (long long)DURATION_SECONDS_MAX);
            secs += whole * per;
        } else {
            secs += whole / (1000000000 / ns);
            frac_ns += (whole % (1000000000 / ns)) * ns;
        }
        /* the fraction of a unit, in nanoseconds (fden <= 10^12, ns <= 8.64e13: done in two steps) */
        if (fnum > 0) {
            long double f = (long double)fnum / (long double)fden * (long double)ns;
            int64_t fns = (int64_t)f;
            secs += fns / 1000000000;
            frac_ns += fns % 1000000000;
        }
        secs += frac_ns / 1000000000;
        frac_ns %= 1000000000;
        if (secs > DURATION_SECONDS_MAX)
            return lk_error_set(err, LK_EINVAL, "a duration may be at most %lld seconds",
                                (long long)DURATION_SECONDS_MAX);
    }
    *ret = secs;
    return 0;
}

int duration_any_seconds(const char *s, size_t len, int64_t *ret, struct lk_error *err) {
    if (len > 0 && (s[0] == 'P' || s[0] == 'p')) {
        struct iso_duration d;
        int64_t t = 0;
        if (duration_parse(s, len, &d, err) != 0)
            return LK_EINVAL;
        if (duration_add(0, &d, &t) != 0)
            return lk_error_set(err, LK_EINVAL, "duration too long");
        *ret = t;
        return 0;
    }
    return duration_parse_seconds(s, len, ret, err) == 0 ? 0 : LK_EINVAL;
}
