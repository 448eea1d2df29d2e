/*
 * rfc3339.c - RFC 3339 timestamps <-> Unix seconds, and the proleptic
 * Gregorian day arithmetic that duration.c builds on.
 *
 * Pure functions: this module must never read the clock, the locale or the
 * TZ environment, so it never calls mktime(), timegm(), localtime() or
 * strptime(). Every instant it accepts or prints lies in 1970-9999 UTC.
 */
#include "core/rfc3339.h"

#include "core/errors.h"

#define SECS_PER_DAY INT64_C(86400)
/* 9999-12-31T23:59:59Z, the last instant a four-digit year can show. */
#define RFC3339_MAX_UNIX INT64_C(253402300799)
/* 0000-01-01T00:00:00Z, the first instant a four-digit year can show. */
#define RFC3339_MIN_FORMAT INT64_C(-62167219200)

/*
 * The two calendar conversions below are Howard Hinnant's algorithms
 * ("chrono-Compatible Low-Level Date Algorithms"). They count in 400-year
 * eras of 146097 days starting on 1 March, so the leap day is the last day of
 * the (shifted) year and needs no special case. Both are exact for any year
 * within +-10^12; callers keep their inputs far inside that.
 */
int64_t rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                                              /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? (int64_t)m - 3 : (int64_t)m + 9) + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                                      /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void rfc3339_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d) {
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], March = 0 */
    const unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    const unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *ret_y = yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Reads exactly n decimal digits at s[*pos] into *ret; 0 or -1. */
static int digits(const char *s, size_t len, size_t *pos, unsigned n, unsigned *ret) {
    unsigned v = 0;
    if (len - *pos < n)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        char c = s[*pos + i];
        if (!is_digit(c))
            return -1;
        v = v * 10 + (unsigned)(c - '0');
    }
    *pos += n;
    *ret = v;
    return 0;
}

/* Consumes the byte c at s[*pos]; 0 or -1. */
static int expect(const char *s, size_t len, size_t *pos, char c) {
    if (*pos >= len || s[*pos] != c)
        return -1;
    (*pos)++;
    return 0;
}

unsigned rfc3339_days_in_month(int64_t y, unsigned m) {
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return mdays[m - 1];
}

int rfc3339_parse(const char *s, size_t len, int64_t *ret) {
    unsigned year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, off_h = 0, off_m = 0;
    int off_sign = 0;
    size_t pos = 0;

    if (s == NULL)
        return LK_EINVAL;
    if (digits(s, len, &pos, 4, &year) < 0 || expect(s, len, &pos, '-') < 0 || digits(s, len, &pos, 2, &mon) < 0 ||
        expect(s, len, &pos, '-') < 0 || digits(s, len, &pos, 2, &day) < 0)
        return LK_EINVAL;
    /* RFC 3339 section 5.6 allows "t" and, by its note, a space in place of "T". */
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        return LK_EINVAL;
    pos++;
    if (digits(s, len, &pos, 2, &hour) < 0 || expect(s, len, &pos, ':') < 0 || digits(s, len, &pos, 2, &min) < 0 ||
        expect(s, len, &pos, ':') < 0 || digits(s, len, &pos, 2, &sec) < 0)
        return LK_EINVAL;
    /* A fraction needs at least one digit; it is dropped, never rounded up. */
    if (pos < len && s[pos] == '.') {
        pos++;
        if (pos >= len || !is_digit(s[pos]))
            return LK_EINVAL;
        while (pos < len && is_digit(s[pos]))
            pos++;
    }
    if (pos >= len)
        return LK_EINVAL;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
        off_sign = s[pos] == '+' ? 1 : -1;
        pos++;
        if (digits(s, len, &pos, 2, &off_h) < 0 || expect(s, len, &pos, ':') < 0 || digits(s, len, &pos, 2, &off_m) < 0)
            return LK_EINVAL;
        if (off_h > 23 || off_m > 59)
            return LK_EINVAL;
    } else {
        return LK_EINVAL;
    }
    if (pos != len)
        return LK_EINVAL;

    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > rfc3339_days_in_month(year, mon) || hour > 23 ||
        min > 59 || sec > 60)
        return LK_EINVAL;
    /* Unix time has no leap seconds: 23:59:60 is read as 23:59:59. */
    if (sec == 60)
        sec = 59;

    int64_t t = rfc3339_days_from_civil(year, mon, day) * SECS_PER_DAY + (int64_t)hour * 3600 + (int64_t)min * 60 +
                (int64_t)sec;
    /* Local time = UTC + offset, so UTC = local - offset. */
    t -= (int64_t)off_sign * ((int64_t)off_h * 3600 + (int64_t)off_m * 60);
    /* An offset can push 1970-01-01 or 9999-12-31 outside the range the rest of latchkey stores and prints. */
    if (t < 0 || t > RFC3339_MAX_UNIX)
        return LK_EINVAL;
    *ret = t;
    return 0;
}

/* Writes the low n decimal digits of v, zero-padded. */
static void put_digits(char *out, unsigned v, unsigned n) {
    for (unsigned i = n; i > 0; i--) {
        out[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t rfc3339_format(int64_t t, char out[RFC3339_BUFSZ]) {
    int64_t y;
    unsigned m, d;

    /* Clamp so the year always has four digits and the output is always 20 bytes. */
    if (t < RFC3339_MIN_FORMAT)
        t = RFC3339_MIN_FORMAT;
    if (t > RFC3339_MAX_UNIX)
        t = RFC3339_MAX_UNIX;
    int64_t days = t / SECS_PER_DAY;
    int64_t sod = t % SECS_PER_DAY;
    if (sod < 0) {
        sod += SECS_PER_DAY;
        days--;
    }
    rfc3339_civil_from_days(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(sod / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(sod % 3600 / 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(sod % 60), 2);
    out[19] = 'Z';
    out[20] = '\0';
    return RFC3339_BUFSZ - 1;
}
