/*
 * cached.c - the reads the read cache serves (store.h, "Read cache"): an
 * organisation by name, a team by name, a member's role in a team, a
 * secret's row and its list of versions. What every request that names
 * an org, a team or a secret reads before anything else.
 *
 * A read may use the cache when its connection holds no write of its own
 * (outside a transaction, or in store_read_tx) and no commit that changes
 * data is under way; a cached copy counts only if it was read in the
 * current epoch, which inside store_read_tx must also be the epoch the
 * transaction began in, so that every row one transaction takes from the
 * cache, and every row it reads from the backend while the epoch has not
 * moved, are of the same moment. A row read from the backend is cached
 * only if the epoch did not move from before the read (or, in a read
 * transaction, from its beginning) to after it: then no commit that
 * changes data can have landed in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/clock.h"
#include "store/cache.h"
#include "store/dispatch.h"

/* A key: a letter naming the read, then its arguments, each ended by a
 * NUL (a version as its decimal digits). */
struct key {
    char buf[STORE_SECRET_PATH_MAX + 3 * STORE_OWNER_ID_MAX + 32];
    size_t len;
    int ok;
};

static void key_add(struct key *k, const char *part) {
    size_t n = strlen(part) + 1;
    if (!k->ok || k->len + n > sizeof(k->buf)) {
        k->ok = 0;
        return;
    }
    memcpy(k->buf + k->len, part, n);
    k->len += n;
}

static void key_start(struct key *k, char kind) {
    k->buf[0] = kind;
    k->len = 1;
    k->ok = 1;
}

/* The epoch s may serve reads from the cache in now, or 0. */
static uint64_t usable_epoch(const struct store *s) {
    if (s->cache == NULL || (s->in_tx && !s->read_tx) || (s->read_tx && s->tx_nocache))
        return 0;
    uint64_t e = dispatch_epoch();
    if (!dispatch_epoch_settled(e) || (s->read_tx && e != s->tx_epoch))
        return 0;
    return e;
}

/* The cached copy of k: 1 with fixed and the tail filled. */
static int lookup(struct store *s, const struct key *k, void *fixed, size_t flen, uint8_t **tail, size_t *tlen) {
    uint64_t e = usable_epoch(s);
    if (e == 0 || !k->ok)
        return 0;
    int hit = store_cache_get(s->cache, k->buf, k->len, e, clock_mono_us(), fixed, flen, tail, tlen);
    if (hit && s->read_tx)
        s->tx_hits++;
    return hit;
}

/* Keeps what a backend read returned under k, if the epoch taken before
 * it (before) is still the current one. */
static void fill(struct store *s, const struct key *k, uint64_t before, const void *fixed, size_t flen,
                 const void *tail, size_t tlen) {
    if (before == 0 || !k->ok || dispatch_epoch() != before)
        return;
    store_cache_put(s->cache, k->buf, k->len, before, clock_mono_us(), fixed, flen, tail, tlen);
}

int store_org_get_by_name(struct store *s, const char *name, struct org_rec *ret) {
    if (s == NULL || name == NULL || ret == NULL)
        return LK_EINVAL;
    struct key k;
    key_start(&k, 'o');
    key_add(&k, name);
    uint8_t *tail = NULL;
    size_t tlen = 0;
    if (lookup(s, &k, ret, sizeof(*ret), &tail, &tlen))
        return 0;
    uint64_t before = usable_epoch(s);
    int r = dispatch_read_begin(s);
    if (r == 0)
        r = s->ops->org_get(s, NULL, name, ret);
    if (r == 0)
        fill(s, &k, before, ret, sizeof(*ret), NULL, 0);
    return r;
}

int store_team_get(struct store *s, const char *org_id, const char *name, struct team_rec *ret) {
    if (s == NULL || org_id == NULL || name == NULL || ret == NULL)
        return LK_EINVAL;
    struct key k;
    key_start(&k, 't');
    key_add(&k, org_id);
    key_add(&k, name);
    uint8_t *tail = NULL;
    size_t tlen = 0;
    if (lookup(s, &k, ret, sizeof(*ret), &tail, &tlen))
        return 0;
    uint64_t before = usable_epoch(s);
    int r = dispatch_read_begin(s);
    if (r == 0)
        r = s->ops->team_get(s, org_id, name, ret);
    if (r == 0)
        fill(s, &k, before, ret, sizeof(*ret), NULL, 0);
    return r;
}

/* A member's role, or that there is none (both are cached). */
struct role_entry {
    int found;
    char role[STORE_STATUS_MAX];
};

int store_team_member_role(struct store *s, const char *team_id, const char *user_id, char *ret_role) {
    if (s == NULL || team_id == NULL || user_id == NULL || ret_role == NULL)
        return LK_EINVAL;
    struct key k;
    key_start(&k, 'r');
    key_add(&k, team_id);
    key_add(&k, user_id);
    struct role_entry re;
    uint8_t *tail = NULL;
    size_t tlen = 0;
    if (lookup(s, &k, &re, sizeof(re), &tail, &tlen)) {
        if (!re.found)
            return LK_ENOTFOUND;
        memcpy(ret_role, re.role, sizeof(re.role));
        return 0;
    }
    uint64_t before = usable_epoch(s);
    memset(&re, 0, sizeof(re));
    int r = dispatch_read_begin(s);
    if (r == 0)
        r = s->ops->team_member_role(s, team_id, user_id, re.role);
    if (r != 0 && r != LK_ENOTFOUND)
        return r;
    re.found = r == 0;
    fill(s, &k, before, &re, sizeof(re), NULL, 0);
    if (r == 0)
        memcpy(ret_role, re.role, sizeof(re.role));
    return r;
}

static void secret_key(struct key *k, char kind, const char *org_id, const char *team_id, const char *path) {
    key_start(k, kind);
    key_add(k, org_id);
    key_add(k, team_id);
    key_add(k, path);
}

int store_secret_get(struct store *s, const char *org_id, const char *team_id, const char *path, int64_t version,
                     struct secret_rec *ret) {
    if (s == NULL || !dispatch_secret_key_ok(org_id, team_id, path) || version < 0 || ret == NULL)
        return LK_EINVAL;
    struct key k;
    char v[24];
    secret_key(&k, 's', org_id, team_id, path);
    snprintf(v, sizeof(v), "%lld", (long long)version);
    key_add(&k, v);
    /* The row as a struct, its sealed value (NULL: a deletion) as the tail. */
    uint8_t *tail = NULL;
    size_t tlen = 0;
    if (lookup(s, &k, ret, sizeof(*ret), &tail, &tlen)) {
        ret->value = tail;
        ret->value_len = tlen;
        return 0;
    }
    uint64_t before = usable_epoch(s);
    int r = dispatch_read_begin(s);
    if (r == 0)
        r = s->ops->secret_get(s, org_id, team_id, path, version, ret);
    if (r == 0 && (ret->value != NULL) == (ret->value_len > 0))
        fill(s, &k, before, ret, sizeof(*ret), ret->value, ret->value_len);
    return r;
}

int store_secret_versions(struct store *s, const char *org_id, const char *team_id, const char *path,
                          struct secret_list *ret) {
    if (s == NULL || !dispatch_secret_key_ok(org_id, team_id, path) || ret == NULL)
        return LK_EINVAL;
    struct key k;
    secret_key(&k, 'v', org_id, team_id, path);
    /* The count as the fixed part, the rows (values NULL) as the tail. */
    uint8_t *tail = NULL;
    size_t tlen = 0, count = 0;
    if (lookup(s, &k, &count, sizeof(count), &tail, &tlen)) {
        if (tlen == count * sizeof(struct secret_rec)) {
            ret->items = (struct secret_rec *)tail;
            ret->count = count;
            return 0;
        }
        free(tail);
    }
    uint64_t before = usable_epoch(s);
    int r = dispatch_read_begin(s);
    if (r == 0)
        r = s->ops->secret_versions(s, org_id, team_id, path, ret);
    if (r != 0)
        return r;
    for (size_t i = 0; i < ret->count; i++)
        if (ret->items[i].value != NULL)
            return 0; /* a listing carries no values; one that does is not kept */
    fill(s, &k, before, &ret->count, sizeof(ret->count), ret->items, ret->count * sizeof(*ret->items));
    return 0;
}

void store_use_cache(struct store *s, struct store_cache *c) {
    if (s != NULL)
        s->cache = c;
}
