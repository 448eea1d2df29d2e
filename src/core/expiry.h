/*
 * expiry.h - turning a token request's expiry fields into an expiry time.
 *
 * Pure: "now" is always passed in. Policy caps (org-wide and per-user
 * limits) build on this in a later issue; this module only interprets the
 * request.
 */
#ifndef LK_CORE_EXPIRY_H
#define LK_CORE_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

struct lk_error;

/* Largest accepted expiry_hours (100 years). */
#define EXPIRY_MAX_HOURS (100LL * 366 * 24)

/* What a create request asked for. */
struct expiry_request {
    const char *expires; /* "P30D", "PT12H", "2027-01-01T00:00:00Z"; NULL if absent */
    size_t expires_len;
    int has_hours; /* 1 if expiry_hours was given */
    int64_t hours; /* expiry_hours */
};

/*
 * Resolves req at time now (Unix seconds) into *ret_expires_at, the Unix time
 * the token expires, or 0 when the request names no expiry.
 * Errors (LK_EINVAL, with a message in err that names the field):
 *   both expires and expiry_hours given; expires neither a duration nor an
 *   RFC 3339 time; a zero duration; an RFC 3339 time not in the future;
 *   expiry_hours < 1 or > EXPIRY_MAX_HOURS; a result past year 9999.
 * *ret_expires_at is untouched on failure.
 */
int expiry_resolve(const struct expiry_request *req, int64_t now, int64_t *ret_expires_at, struct lk_error *err);

/* An org's expiry rules for one token. */
struct expiry_policy {
    int64_t org_hours;  /* org-wide default and cap, >= 1 */
    int64_t user_hours; /* the owner's own setting, 0 = none */
    int allow_never;    /* the org allows non-expiring tokens */
    int unrestricted;   /* created by an org admin or the partner admin: any expiry */
};

/*
 * Applies policy to a resolved request at now. requested is the asked-for
 * expiry (0 = none asked), never is 1 when "never" was asked, asked is the
 * request's text for messages. The cap is the higher of org_hours and
 * user_hours; no request means the cap; a request past the cap is LK_EINVAL
 * naming the limit unless unrestricted; "never" needs allow_never or
 * unrestricted. *ret gets the expiry (0 = never); untouched on failure.
 */
int expiry_apply_policy(const struct expiry_policy *policy, int64_t now, int64_t requested, int never,
                        const char *asked, int64_t *ret, struct lk_error *err);

#endif
