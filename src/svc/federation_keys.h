/*
 * federation_keys.h - the token exchange's shared cache of trusted
 * issuers' key sets (jwks_uri), and the thread that fetches them. For
 * svc/federation.c only; the rest of the server sees struct federation
 * through svc/federation.h.
 *
 * An event loop never waits on the network (docs/architecture.md): a
 * request that needs a key set not in the cache gets LK_EAGAIN, and its
 * caller hands the fetch to the fetcher thread (federation_fetch_then) and
 * runs the request again once it is done, finding the keys (or the fetch's
 * failure) in the cache. Callers off a loop (tests, operator commands)
 * may fetch in place.
 */
#ifndef LK_SVC_FEDERATION_KEYS_H
#define LK_SVC_FEDERATION_KEYS_H

#include <stdint.h>

#include "core/jwt.h"

struct federation;
struct lk_error;

/*
 * The key set at uri. From the cache when fetched less than
 * FEDERATION_JWKS_TTL ago (and, with refetch_older_than >= 0, less than
 * that many seconds ago); after a fetch that failed less than
 * FEDERATION_FETCH_RETRY seconds ago, the last copy of any age, or that
 * failure. Otherwise a fetch is due: made here when may_fetch, else
 * LK_EAGAIN. *ret_age: the copy's age in seconds.
 */
int fedkeys_get(struct federation *f, const char *uri, int64_t now, int64_t refetch_older_than, int may_fetch,
                struct jwt_keyset **ret, int64_t *ret_age, struct lk_error *err);

/* --dev: http on loopback is allowed for issuers and key sets. */
int fedkeys_allow_loopback(const struct federation *f);

#endif
