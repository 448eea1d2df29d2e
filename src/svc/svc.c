/*
 * svc.c - what every use case shares: cache invalidations that survive the
 * request transaction they were made in; and the door through which a
 * background job opens a store connection of its own.
 *
 * A use case that revokes tokens removes them from the shared cache at
 * once; until its request transaction commits, another worker could still
 * read the old rows and cache them again, so the same removals run once
 * more after the commit (svc_cache_replay, called by the api layer before
 * the answer leaves). That second removal is the one the guarantee rests
 * on: it unlinks what such a worker cached, and its generation bump keeps
 * a load still in flight from caching what it read before the commit
 * (token_cache.h, "generations"). So every revocation must go through
 * these, never token_cache_remove* directly.
 */
#include "svc/svc.h"

#include <string.h>

#include "lib/str.h"
#include "store/store.h"
#include "svc/token_cache.h"

static void record(struct svc *svc, const char *token_id, const char *org_id, const char *owner_type,
                   const char *owner_id) {
    if (svc->ninval == SVC_INVALIDATIONS_MAX) {
        svc->inval_overflow = 1;
        return;
    }
    struct svc_invalidation *v = &svc->inval[svc->ninval++];
    str_copy(v->token_id, sizeof(v->token_id), token_id ? token_id : "");
    str_copy(v->org_id, sizeof(v->org_id), org_id ? org_id : "");
    str_copy(v->owner_type, sizeof(v->owner_type), owner_type ? owner_type : "");
    str_copy(v->owner_id, sizeof(v->owner_id), owner_id ? owner_id : "");
}

void svc_cache_remove(struct svc *svc, const char *token_id) {
    token_cache_remove(svc->cache, token_id);
    record(svc, token_id, NULL, NULL, NULL);
}

void svc_cache_remove_where(struct svc *svc, const char *org_id, const char *owner_type, const char *owner_id) {
    token_cache_remove_where(svc->cache, org_id, owner_type, owner_id);
    record(svc, NULL, org_id, owner_type, owner_id);
}

static const char *or_null(const char *s) {
    return s[0] != '\0' ? s : NULL;
}

void svc_cache_replay(struct svc *svc) {
    if (svc->inval_overflow) {
        token_cache_remove_where(svc->cache, NULL, NULL, NULL);
    } else {
        for (size_t i = 0; i < svc->ninval; i++) {
            const struct svc_invalidation *v = &svc->inval[i];
            if (v->token_id[0] != '\0')
                token_cache_remove(svc->cache, v->token_id);
            else
                token_cache_remove_where(svc->cache, or_null(v->org_id), or_null(v->owner_type), or_null(v->owner_id));
        }
    }
    svc_cache_forget(svc);
}

void svc_cache_forget(struct svc *svc) {
    svc->ninval = 0;
    svc->inval_overflow = 0;
}

int svc_store_open(const char *dsn, struct store **ret) {
    return store_open(dsn, ret);
}

void svc_store_close(struct store *s) {
    store_close(s);
}
