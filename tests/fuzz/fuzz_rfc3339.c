/*
 * fuzz_rfc3339.c - libFuzzer harness for rfc3339_parse() and rfc3339_format().
 *
 * rfc3339_parse() is checked against a reference parser (fixed positions,
 * ranges from the header, value from timegm()): both must accept the same
 * inputs and give the same Unix time, and ret is untouched on failure. For
 * every accepted time t, rfc3339_format(t) is the canonical 20-byte UTC form,
 * agrees with gmtime_r(), and parses back to exactly t.
 * The first 8 input bytes are also formatted as an arbitrary int64 (into a
 * buffer of exactly RFC3339_BUFSZ bytes, so any overrun is an ASan report):
 * in-range values round-trip, others clamp to 0000-01-01 / 9999-12-31.
 * The next 8 bytes drive a civil_from_days / days_from_civil round trip.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0000-01-01T00:00:00Z */
#define MIN_FORMAT INT64_C(-62167219200)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dig(const char *s, size_t len, size_t pos, size_t n, int *ret) {
    int v = 0;
    if (pos + n > len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[pos + i] < '0' || s[pos + i] > '9')
            return 0;
        v = v * 10 + (s[pos + i] - '0');
    }
    *ret = v;
    return 1;
}

static int ch(const char *s, size_t len, size_t pos, const char *set) {
    return pos < len && s[pos] != '\0' && strchr(set, s[pos]) != NULL;
}

static int ref_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD[Tt ]HH:MM:SS(.d+)?([Zz]|[+-]HH:MM)", 1970..9999 after the offset. */
static int ref_parse(const char *s, size_t len, int64_t *ret) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
    size_t p = 19;

    if (!dig(s, len, 0, 4, &Y) || !ch(s, len, 4, "-") || !dig(s, len, 5, 2, &M) || !ch(s, len, 7, "-") ||
        !dig(s, len, 8, 2, &D) || !ch(s, len, 10, "Tt ") || !dig(s, len, 11, 2, &h) || !ch(s, len, 13, ":") ||
        !dig(s, len, 14, 2, &m) || !ch(s, len, 16, ":") || !dig(s, len, 17, 2, &sec))
        return 0;
    if (ch(s, len, p, ".")) {
        p++;
        if (!ch(s, len, p, "0123456789"))
            return 0;
        while (ch(s, len, p, "0123456789"))
            p++;
    }
    if (ch(s, len, p, "Zz")) {
        p++;
    } else if (ch(s, len, p, "+-")) {
        sign = s[p] == '+' ? 1 : -1;
        if (!dig(s, len, p + 1, 2, &oh) || !ch(s, len, p + 3, ":") || !dig(s, len, p + 4, 2, &om))
            return 0;
        p += 6;
        if (oh > 23 || om > 59)
            return 0;
    } else {
        return 0;
    }
    if (p != len)
        return 0;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] + (M == 2 && ref_leap(Y)) || h > 23 || m > 59 ||
        sec > 60)
        return 0;
    struct tm tm = {
        .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec == 60 ? 59 : sec};
    int64_t t = (int64_t)timegm(&tm) - (int64_t)sign * (oh * 3600 + om * 60);
    if (t < 0 || t > MAX_UNIX)
        return 0;
    *ret = t;
    return 1;
}

/* Checks out is "YYYY-MM-DDTHH:MM:SSZ" for t (already clamped) per gmtime_r. */
static void check_formatted(const char *out, size_t n, int64_t t) {
    int Y, M, D, h, m, s;
    struct tm tm;
    time_t tt = (time_t)t;

    CHECK(n == RFC3339_BUFSZ - 1 && out[RFC3339_BUFSZ - 1] == '\0' && strlen(out) == n);
    CHECK(dig(out, n, 0, 4, &Y) && out[4] == '-' && dig(out, n, 5, 2, &M) && out[7] == '-' && dig(out, n, 8, 2, &D) &&
          out[10] == 'T' && dig(out, n, 11, 2, &h) && out[13] == ':' && dig(out, n, 14, 2, &m) && out[16] == ':' &&
          dig(out, n, 17, 2, &s) && out[19] == 'Z');
    CHECK(gmtime_r(&tt, &tm) != NULL);
    if (Y != tm.tm_year + 1900 || M != tm.tm_mon + 1 || D != tm.tm_mday || h != tm.tm_hour || m != tm.tm_min ||
        s != tm.tm_sec)
        fprintf(stderr, "rfc3339_format(%lld) = %s, gmtime says %04d-%02d-%02dT%02d:%02d:%02dZ\n", (long long)t, out,
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    CHECK(Y == tm.tm_year + 1900 && M == tm.tm_mon + 1 && D == tm.tm_mday && h == tm.tm_hour && m == tm.tm_min &&
          s == tm.tm_sec);
}

/* Formats t into a heap buffer of exactly RFC3339_BUFSZ bytes and checks the text; returns it (caller frees). */
static char *format_checked(int64_t t) {
    char *out = malloc(RFC3339_BUFSZ);
    CHECK(out != NULL);
    size_t n = rfc3339_format(t, out);
    int64_t clamped = t < MIN_FORMAT ? MIN_FORMAT : t > MAX_UNIX ? MAX_UNIX : t;
    check_formatted(out, n, clamped);
    return out;
}

static uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    int64_t t = -777, want = -1;

    int r = rfc3339_parse(s, size, &t);
    int ok = ref_parse(s, size, &want);
    CHECK(r == 0 || r == LK_EINVAL);
    if ((r == 0) != ok || (ok && t != want))
        fprintf(stderr, "rfc3339_parse(\"%.*s\") = %d, %lld; reference: %s, %lld\n", (int)size, s, r, (long long)t,
                ok ? "valid" : "invalid", (long long)want);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(t == -777);
    } else {
        CHECK(t == want && t >= 0 && t <= MAX_UNIX);
        char *out = format_checked(t);
        int64_t back = -1;
        CHECK(rfc3339_parse(out, RFC3339_BUFSZ - 1, &back) == 0);
        if (back != t)
            fprintf(stderr, "\"%.*s\" -> %lld -> %s -> %lld\n", (int)size, s, (long long)t, out, (long long)back);
        CHECK(back == t);
        free(out);
    }

    if (size >= 8) {
        int64_t v = (int64_t)load64(data);
        char *out = format_checked(v);
        int64_t back = -1;
        int pr = rfc3339_parse(out, RFC3339_BUFSZ - 1, &back);
        if (v >= 0 && v <= MAX_UNIX)
            CHECK(pr == 0 && back == v);
        else if (v > MAX_UNIX)
            CHECK(pr == 0 && back == MAX_UNIX && strcmp(out, "9999-12-31T23:59:59Z") == 0);
        else
            CHECK(pr == LK_EINVAL && back == -1); /* before 1970: printable but never accepted */
        if (v < MIN_FORMAT)
            CHECK(strcmp(out, "0000-01-01T00:00:00Z") == 0);
        free(out);
    }

    if (size >= 16) {
        /* Days within +-3e14 (about +-8e11 years), inside the +-10^12 years the header promises. */
        const int64_t span = INT64_C(300000000000000);
        int64_t days = (int64_t)(load64(data + 8) % (uint64_t)(2 * span + 1)) - span;
        int64_t y;
        unsigned m, d;
        rfc3339_civil_from_days(days, &y, &m, &d);
        CHECK(m >= 1 && m <= 12 && d >= 1 && d <= rfc3339_days_in_month(y, m));
        CHECK(rfc3339_days_from_civil(y, m, d) == days);
    }
    return 0;
}
