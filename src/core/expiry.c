/*
 * expiry.c - turning a token request's "expires" / "expiry_hours" fields
 * into the Unix time the token stops working.
 *
 * Pure: the caller passes "now"; this module must never read the clock, and
 * must never accept an expiry that is not strictly in the future or that lies
 * past 9999-12-31T23:59:59Z. Every message names the field it is about and
 * quotes at most STR_ECHO_MAX bytes of the caller's input, escaped.
 */
#include "core/expiry.h"

#include "core/duration.h"
#include "core/errors.h"
#include "lib/str.h"
#include "core/rfc3339.h"

#include <string.h>

/* 9999-12-31T23:59:59Z */
#define EXPIRY_MAX_UNIX INT64_C(253402300799)

/* Resolves an "expires" that starts with 'P' (or 'p', to explain the case rule). */
static int resolve_duration(const char *s, size_t len, int64_t now, int64_t *ret, struct lk_error *err) {
    struct iso_duration d;
    struct lk_error perr = {0};
    char q[STR_ECHO_BUFSZ];
    int64_t t;

    if (duration_parse(s, len, &d, &perr) < 0)
        return lk_error_set(err, LK_EINVAL, "expires: %s", lk_error_message(&perr));
    str_echo(s, len, q);
    if (duration_is_zero(&d))
        return lk_error_set(err, LK_EINVAL, "expires: \"%s\" is a zero duration; give a positive duration", q);
    if (duration_add(now, &d, &t) < 0)
        return lk_error_set(err, LK_EINVAL, "expires: \"%s\" from now ends after 9999-12-31T23:59:59Z", q);
    *ret = t;
    return 0;
}

/* Resolves an "expires" that should be an RFC 3339 time. */
static int resolve_time(const char *s, size_t len, int64_t now, int64_t *ret, struct lk_error *err) {
    char q[STR_ECHO_BUFSZ];
    int64_t t;

    str_echo(s, len, q);
    if (rfc3339_parse(s, len, &t) < 0)
        return lk_error_set(err, LK_EINVAL,
                            "expires: \"%s\" is neither an ISO 8601 duration (e.g. P30D) nor an RFC 3339 time between "
                            "1970 and 9999 (e.g. 2027-01-01T00:00:00Z)",
                            q);
    if (t <= now)
        return lk_error_set(err, LK_EINVAL, "expires: %s is not in the future", q);
    *ret = t;
    return 0;
}

/* Resolves "expiry_hours". */
static int resolve_hours(int64_t hours, int64_t now, int64_t *ret, struct lk_error *err) {
    int64_t t;

    if (hours < 1)
        return lk_error_set(err, LK_EINVAL, "expiry_hours: must be at least 1");
    if (hours > EXPIRY_MAX_HOURS)
        return lk_error_set(err, LK_EINVAL, "expiry_hours: must be at most %lld (100 years)",
                            (long long)EXPIRY_MAX_HOURS);
    /* hours is at most ~876600, so hours * 3600 cannot overflow; now + that still might. */
    if (__builtin_add_overflow(now, hours * 3600, &t) || t > EXPIRY_MAX_UNIX)
        return lk_error_set(err, LK_EINVAL, "expiry_hours: %lld hours from now ends after 9999-12-31T23:59:59Z",
                            (long long)hours);
    *ret = t;
    return 0;
}

int expiry_resolve(const struct expiry_request *req, int64_t now, int64_t *ret_expires_at, struct lk_error *err) {
    int64_t t = 0;
    int r = 0;

    if (req->expires != NULL && req->has_hours)
        return lk_error_set(err, LK_EINVAL, "give either expires or expiry_hours, not both");
    if (req->expires != NULL) {
        const char *s = req->expires;
        size_t len = req->expires_len;
        if (len > 0 && (s[0] == 'P' || s[0] == 'p'))
            r = resolve_duration(s, len, now, &t, err);
        else
            r = resolve_time(s, len, now, &t, err);
    } else if (req->has_hours) {
        r = resolve_hours(req->hours, now, &t, err);
    }
    if (r < 0)
        return r;
    *ret_expires_at = t;
    return 0;
}

int expiry_apply_policy(const struct expiry_policy *policy, int64_t now, int64_t requested, int never,
                        const char *asked, int64_t *ret, struct lk_error *err) {
    int64_t cap_hours = policy->org_hours;
    if (policy->user_hours > cap_hours)
        cap_hours = policy->user_hours;
    if (cap_hours < 1)
        cap_hours = 1;
    char q[STR_ECHO_BUFSZ];
    str_echo(asked ? asked : "", asked ? strlen(asked) : 0, q);
    if (never) {
        if (!policy->allow_never && !policy->unrestricted)
            return lk_error_set(
                err, LK_EINVAL,
                "expires: non-expiring tokens are not allowed in this organisation; the maximum is %lld "
                "hours for this user",
                (long long)cap_hours);
        *ret = 0;
        return 0;
    }
    if (requested == 0) {
        *ret = now + cap_hours * 3600;
        return 0;
    }
    if (!policy->unrestricted && requested - now > cap_hours * 3600)
        return lk_error_set(err, LK_EINVAL, "expires: %s exceeds the maximum of %lld hours for this user", q,
                            (long long)cap_hours);
    *ret = requested;
    return 0;
}
