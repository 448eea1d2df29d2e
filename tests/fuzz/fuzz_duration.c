/*
 * fuzz_duration.c - libFuzzer harness for duration_parse() and duration_add().
 *
 * duration_parse() is checked against a reference matcher written as the
 * grammar's regular expression
 *   P(\d{1,9}Y)?(\d{1,9}M)?(\d{1,9}W)?(\d{1,9}D)?(T(\d{1,9}H)?(\d{1,9}M)?(\d{1,9}S)?)?
 * with at least one component, and at least one after a "T": both must
 * accept the same inputs and read the same numbers. Also: an accepted input
 * ends in a designator, so dropping its last byte or appending any byte must
 * be rejected (no trailing garbage, no silent truncation); a rejected input
 * leaves ret untouched and gives LK_EINVAL with a printable, bounded message.
 *
 * duration_add() of every accepted duration is checked against timegm() at a
 * few fixed start times (and one derived from the input): calendar months
 * clamp the day of month and keep the time of day, the exact parts add fixed
 * seconds, results past 9999-12-31T23:59:59Z are LK_ERANGE with ret
 * untouched, and a result is never before its start.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/duration.h"
#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref_dur {
    int64_t v[7]; /* Y M W D H M S */
};

/* Matches (\d{1,9}<letter>)? at *pos: consumes it and stores the number, or leaves *pos alone. Returns 1 if matched. */
static int ref_component(const char *s, size_t len, size_t *pos, char letter, int64_t *ret) {
    size_t i = *pos;
    int64_t n = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && i - *pos < 9) {
        n = n * 10 + (s[i] - '0');
        i++;
    }
    if (i == *pos || i >= len || s[i] != letter)
        return 0;
    *pos = i + 1;
    *ret = n;
    return 1;
}

static int ref_parse(const char *s, size_t len, struct ref_dur *ret) {
    static const char date_letters[4] = {'Y', 'M', 'W', 'D'};
    static const char time_letters[3] = {'H', 'M', 'S'};
    struct ref_dur d;
    size_t pos = 1;
    int any = 0, any_time = 0;

    memset(&d, 0, sizeof(d));
    if (len < 1 || s[0] != 'P')
        return 0;
    for (int i = 0; i < 4; i++)
        any |= ref_component(s, len, &pos, date_letters[i], &d.v[i]);
    if (pos < len && s[pos] == 'T') {
        pos++;
        for (int i = 0; i < 3; i++)
            any_time |= ref_component(s, len, &pos, time_letters[i], &d.v[4 + i]);
        if (!any_time)
            return 0;
    }
    if (pos != len || !(any || any_time))
        return 0;
    *ret = d;
    return 1;
}

static void check_error(const struct lk_error *err) {
    size_t n = strnlen(err->msg, sizeof(err->msg));
    CHECK(err->code == LK_EINVAL);
    CHECK(n > 0 && n < sizeof(err->msg));
    for (size_t i = 0; i < n; i++)
        CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
}

/* Parses bytes that must be rejected, with and without an error sink. */
static void expect_bad(const char *s, size_t len) {
    struct iso_duration d, sentinel;
    struct lk_error err;
    memset(&sentinel, 0xA5, sizeof(sentinel));
    memcpy(&d, &sentinel, sizeof(d));
    memset(&err, 0, sizeof(err));
    int r = duration_parse(s, len, &d, &err);
    if (r == 0)
        fprintf(stderr, "duration_parse accepted %zu bytes: \"%.*s\"\n", len, (int)len, s);
    CHECK(r == LK_EINVAL);
    CHECK(memcmp(&d, &sentinel, sizeof(d)) == 0);
    check_error(&err);
    CHECK(duration_parse(s, len, &d, NULL) == LK_EINVAL);
    CHECK(memcmp(&d, &sentinel, sizeof(d)) == 0);
}

static unsigned ref_days_in_month(int64_t y, int m) {
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

/* from + d by timegm(): 0 and *ret, or -1 if the result is past MAX_UNIX. */
static int ref_add(int64_t from, const struct iso_duration *d, int64_t *ret) {
    time_t ft = (time_t)from;
    struct tm tm;
    CHECK(gmtime_r(&ft, &tm) != NULL);
    int64_t idx = (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon + d->years * 12 + d->months;
    int64_t y = idx / 12;
    int m = (int)(idx % 12) + 1;
    if (y > 9999)
        return -1;
    unsigned dim = ref_days_in_month(y, m);
    tm.tm_year = (int)(y - 1900);
    tm.tm_mon = m - 1;
    if ((unsigned)tm.tm_mday > dim)
        tm.tm_mday = (int)dim;
    int64_t t = (int64_t)timegm(&tm);
    t += d->weeks * 604800 + d->days * 86400 + d->hours * 3600 + d->minutes * 60 + d->seconds;
    if (t > MAX_UNIX)
        return -1;
    *ret = t;
    return 0;
}

static void check_add(int64_t from, const struct iso_duration *d) {
    int64_t t = -12345, want = 0;
    int r = duration_add(from, d, &t);
    int wr = ref_add(from, d, &want);
    CHECK(r == 0 || r == LK_ERANGE);
    if ((r == 0) != (wr == 0) || (r == 0 && t != want))
        fprintf(stderr, "duration_add(%lld, P%lldY%lldM%lldW%lldDT%lldH%lldM%lldS) = %d, %lld; want %s, %lld\n",
                (long long)from, (long long)d->years, (long long)d->months, (long long)d->weeks, (long long)d->days,
                (long long)d->hours, (long long)d->minutes, (long long)d->seconds, r, (long long)t,
                wr == 0 ? "ok" : "ERANGE", (long long)want);
    CHECK((r == 0) == (wr == 0));
    if (r != 0) {
        CHECK(t == -12345);
        return;
    }
    CHECK(t == want);
    CHECK(t >= from && t <= MAX_UNIX);
    CHECK((t == from) == (duration_is_zero(d) != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    struct iso_duration d, sentinel;
    struct ref_dur want;
    struct lk_error err;

    memset(&sentinel, 0xA5, sizeof(sentinel));
    memcpy(&d, &sentinel, sizeof(d));
    memset(&err, 0, sizeof(err));
    int r = duration_parse(s, size, &d, &err);
    int ok = ref_parse(s, size, &want);
    CHECK(r == 0 || r == LK_EINVAL);
    if ((r == 0) != ok)
        fprintf(stderr, "duration_parse=%d but reference says %s: \"%.*s\"\n", r, ok ? "valid" : "invalid", (int)size,
                s);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(memcmp(&d, &sentinel, sizeof(d)) == 0);
        check_error(&err);
        expect_bad(s, size);
        return 0;
    }

    CHECK(d.years == want.v[0] && d.months == want.v[1] && d.weeks == want.v[2] && d.days == want.v[3] &&
          d.hours == want.v[4] && d.minutes == want.v[5] && d.seconds == want.v[6]);
    CHECK(strchr("YMWDHS", s[size - 1]) != NULL && s[size - 1] != '\0');

    /* No trailing garbage and no silent truncation: one byte less or one byte more is never a duration. */
    char *buf = malloc(size + 1);
    CHECK(buf != NULL);
    memcpy(buf, s, size);
    expect_bad(buf, size - 1);
    static const char extra[] = {'0', '9', 'T', 'Y', 'D', 'H', 'S', 'P', ' ', '\0', '.', 'Z'};
    for (size_t i = 0; i < sizeof(extra); i++) {
        buf[size] = extra[i];
        expect_bad(buf, size + 1);
    }
    buf[size] = (char)data[size / 2];
    expect_bad(buf, size + 1);
    free(buf);

    /* A start derived from the input (FNV-1a), so the fuzzer explores the calendar too. */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    static const int64_t froms[] = {
        0,                /* 1970-01-01T00:00:00Z */
        951782400,        /* 2000-02-29T00:00:00Z, a leap day */
        1706745599,       /* 2024-01-31T23:59:59Z, the last day of a 31-day month */
        1700000000,       /* 2023-11-14T22:13:20Z */
        253402214400 - 1, /* 9999-12-30T23:59:59Z */
        MAX_UNIX,         /* 9999-12-31T23:59:59Z */
    };
    for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++)
        check_add(froms[i], &d);
    check_add((int64_t)(h % (uint64_t)(MAX_UNIX + 1)), &d);
    return 0;
}
