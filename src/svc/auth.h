/*
 * auth.h - verifying a presented credential: the hot path.
 *
 * Order of checks: format and checksum (no lookup), token cache (no store
 * round trip on a hit), store on a miss, constant-time hash comparison,
 * expiry. Each failure has its own code and message (an expired
 * token says that it expired, and when).
 */
#ifndef LK_SVC_AUTH_H
#define LK_SVC_AUTH_H

#include <stddef.h>

struct svc;
struct principal;
struct lk_error;

/*
 * Verifies the token in tok[0..len) and fills *ret (holding a reference to
 * the cache entry; release with principal_done()). Marks the token used.
 * Returns 0, LK_EBADTOKEN (malformed or bad checksum), LK_EBADCRED (unknown,
 * revoked, or wrong secret), LK_EEXPIRED, or LK_ESTORE/LK_EBUSY.
 */
int auth_verify_token(struct svc *svc, const char *tok, size_t len, struct principal *ret, struct lk_error *err);

#endif
