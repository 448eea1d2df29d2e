/*
 * fuzz_expiry.c - libFuzzer harness for expiry_resolve() at fixed "now"s.
 *
 * Input layout (text-friendly, so seeds are readable):
 *   byte 0     mode: 'N' neither field, 'E' expires only, 'H' expiry_hours
 *              only, 'B' both (any other byte: its value mod 4 in that order)
 *   if hours:  a signed decimal up to '\n' (saturating at the int64 range)
 *   the rest   the "expires" text, not NUL-terminated
 *
 * Each request is resolved at two fixed times, 2023-11-14T22:13:20Z and one
 * hour before 9999-12-31T23:59:59Z, and checked against the rules in
 * expiry.h rebuilt from duration_parse/duration_add/rfc3339_parse: success
 * and the resulting time must match exactly; a result is 0 only when nothing
 * was asked, and otherwise strictly after now and no later than 9999; on
 * failure the result is untouched and the error is LK_EINVAL with a printable
 * message that names the field. A NULL err gives the same answer.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/duration.h"
#include "core/errors.h"
#include "core/expiry.h"
#include "core/rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL INT64_C(-4242)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a signed decimal from s[*pos..len) up to '\n' or the end; non-digits are skipped. Saturates. */
static int64_t read_hours(const char *s, size_t len, size_t *pos) {
    size_t i = *pos;
    int neg = 0;
    int64_t v = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < len && s[i] != '\n'; i++) {
        if (s[i] < '0' || s[i] > '9')
            continue;
        int d = s[i] - '0';
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, neg ? -d : d, &v))
            v = neg ? INT64_MIN : INT64_MAX;
    }
    if (i < len)
        i++; /* the '\n' */
    *pos = i;
    return v;
}

/* What expiry.h says the answer is: 0 and *ret, or -1 (error). */
static int model(const struct expiry_request *req, int64_t now, int64_t *ret) {
    if (req->expires != NULL && req->has_hours)
        return -1;
    if (req->expires != NULL) {
        const char *s = req->expires;
        size_t len = req->expires_len;
        int64_t t;
        if (len > 0 && (s[0] == 'P' || s[0] == 'p')) {
            struct iso_duration d;
            if (duration_parse(s, len, &d, NULL) != 0 || duration_is_zero(&d) || duration_add(now, &d, &t) != 0)
                return -1;
        } else {
            if (rfc3339_parse(s, len, &t) != 0 || t <= now)
                return -1;
        }
        *ret = t;
        return 0;
    }
    if (req->has_hours) {
        if (req->hours < 1 || req->hours > EXPIRY_MAX_HOURS || now + req->hours * 3600 > MAX_UNIX)
            return -1;
        *ret = now + req->hours * 3600;
        return 0;
    }
    *ret = 0;
    return 0;
}

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_at(const struct expiry_request *req, int64_t now) {
    struct lk_error err;
    int64_t t = SENTINEL, want = SENTINEL;

    memset(&err, 0, sizeof(err));
    int r = expiry_resolve(req, now, &t, &err);
    int wr = model(req, now, &want);
    CHECK(r == 0 || r == LK_EINVAL);
    if ((r == 0) != (wr == 0) || (r == 0 && t != want))
        fprintf(stderr,
                "expiry_resolve(expires=\"%.*s\" has_hours=%d hours=%lld, now=%lld) = %d, %lld (%s); want %s, %lld\n",
                req->expires ? (int)req->expires_len : 6, req->expires ? req->expires : "(null)", req->has_hours,
                (long long)req->hours, (long long)now, r, (long long)t, r ? err.msg : "", wr ? "error" : "ok",
                (long long)want);
    CHECK((r == 0) == (wr == 0));
    if (r == 0) {
        CHECK(t == want);
        if (req->expires == NULL && !req->has_hours)
            CHECK(t == 0);
        else
            CHECK(t > now && t <= MAX_UNIX);
    } else {
        size_t n = strnlen(err.msg, sizeof(err.msg));
        CHECK(t == SENTINEL);
        CHECK(err.code == LK_EINVAL);
        CHECK(n > 0 && n < sizeof(err.msg));
        for (size_t i = 0; i < n; i++)
            CHECK(err.msg[i] >= 0x20 && err.msg[i] < 0x7f);
        if (req->expires != NULL && req->has_hours)
            CHECK(starts_with(err.msg, "give either expires or expiry_hours"));
        else if (req->expires != NULL)
            CHECK(starts_with(err.msg, "expires: "));
        else
            CHECK(starts_with(err.msg, "expiry_hours: "));
    }

    int64_t t2 = SENTINEL;
    CHECK(expiry_resolve(req, now, &t2, NULL) == r);
    CHECK(t2 == (r == 0 ? t : SENTINEL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    struct expiry_request req;
    size_t pos = 0;
    int mode = 0;

    if (size == 0)
        return 0;
    switch (s[0]) {
    case 'N': mode = 0; break;
    case 'E': mode = 1; break;
    case 'H': mode = 2; break;
    case 'B': mode = 3; break;
    default: mode = data[0] % 4;
    }
    pos = 1;
    memset(&req, 0, sizeof(req));
    if (mode & 2) {
        req.has_hours = 1;
        req.hours = read_hours(s, size, &pos);
    }
    if (mode & 1) {
        /* A copy of exactly the remaining length, so an over-read is an ASan report. */
        size_t n = size - pos;
        char *e = malloc(n ? n : 1);
        CHECK(e != NULL);
        memcpy(e, s + pos, n);
        req.expires = e;
        req.expires_len = n;
    }

    check_at(&req, INT64_C(1700000000)); /* 2023-11-14T22:13:20Z */
    check_at(&req, MAX_UNIX - 3600);     /* 9999-12-31T22:59:59Z */
    free((char *)req.expires);
    return 0;
}
