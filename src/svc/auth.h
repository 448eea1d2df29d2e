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

/*
 * Verifies one of latchkey's own identity tokens (svc/oidc.h) in
 * tok[0..len), offline: signature against the published keys, "iss" and
 * "aud" equal to issuer, exp/nbf/iat with OIDC_LEEWAY. Maps it to its
 * service account (PRINCIPAL_SA) or, when it names a workload, to
 * PRINCIPAL_WORKLOAD (id: the account's, name: the workload's) with the
 * account's rights; principal.token is an entry of the token cache keyed by
 * the jti (expiring with the token, policies "*"), so the account, its
 * team, its org's status and the workload's binding are read from the store
 * once per --cache-ttl, and a deleted account or a deactivated org stops
 * the token at once. Returns 0, LK_EBADTOKEN/LK_EEXPIRED naming the failed
 * check ("identity token refused: signature"), LK_EBADCRED (account gone,
 * workload unbound), LK_EINACTIVE, store errors.
 */
int auth_verify_jwt(struct svc *svc, const char *tok, size_t len, const char *issuer, struct principal *ret,
                    struct lk_error *err);

#endif
