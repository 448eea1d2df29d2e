/*
 * test_token_cache.c - unit tests for the shared token cache (svc/token_cache.h):
 * lookups, the TTL, refcounts across removal, replacement, eviction, the
 * last-use flush, the generations that keep loads racing a removal out,
 * and concurrent use (also run under ASan+UBSan by make
 * test-asan, where a refcount mistake shows up as a use-after-free).
 *
 * Times are explicit: loaded_us / now_us on an arbitrary monotonic scale,
 * last_used in Unix seconds. Nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "svc/token_cache.h"

#include "unit_assert.h"

#define assert_i64_le(actual, bound)                                                                                   \
    do {                                                                                                               \
        long long a_ = (long long)(actual), b_ = (long long)(bound);                                                   \
        if (a_ > b_)                                                                                                   \
            fail_msg("%s is %lld, expected at most %s = %lld", #actual, a_, #bound, b_);                               \
    } while (0)

#define SEC INT64_C(1000000)
#define T0 (INT64_C(3600) * SEC)
#define LONG_TTL (INT64_C(1000000) * SEC)

static void id_of(int n, char id[TOKFMT_PUBID_BUFSZ]) {
    snprintf(id, TOKFMT_PUBID_BUFSZ, "lk_user_%012d", n);
}

static void make_rec(struct token_rec *r, int n) {
    memset(r, 0, sizeof(*r));
    id_of(n, r->id);
    snprintf(r->owner_type, sizeof(r->owner_type), "user");
    snprintf(r->owner_id, sizeof(r->owner_id), "usr_%d", n);
    snprintf(r->org_id, sizeof(r->org_id), "org_%d", n % 3);
    for (size_t i = 0; i < sizeof(r->hash); i++)
        r->hash[i] = (uint8_t)(n + (int)i);
    static char view[][STORE_POLICY_NAME_MAX] = {"tokens.view"};
    r->policies = view; /* a static list: never token_rec_done() such a record */
    r->npolicies = 1;
    r->created_at = 1700000000;
    r->expires_at = 1800000000;
    r->last_used_at = 0;
}

/* A new entry (refcount 1) for token n, loaded at loaded_us. */
static struct token_entry *entry_new(int n, int64_t loaded_us) {
    struct token_rec r;
    make_rec(&r, n);
    struct token_entry *e = token_entry_new(&r, loaded_us);
    if (e == NULL)
        fail_msg("token_entry_new(%d) returned NULL", n);
    return e;
}

/* Puts e as a load that read nothing yet would (generation taken just
 * before); 1 if it was inserted. Another thread's removal may refuse it. */
static int put_current(struct token_cache *c, struct token_entry *e) {
    return token_cache_put(c, e, token_cache_generation(c, e->id));
}

/* put_current where nothing can interfere: fails the test if refused. */
static void put_now(struct token_cache *c, struct token_entry *e) {
    if (!put_current(c, e))
        fail_msg("token_cache_put of %s was refused with nothing removed since its generation", e->id);
}

/* Puts a new entry for token n and drops the caller's reference; 1 if inserted. */
static int put_new(struct token_cache *c, int n, int64_t loaded_us) {
    struct token_entry *e = entry_new(n, loaded_us);
    int r = put_current(c, e);
    token_entry_unref(e);
    return r;
}

/* 1 if token n is returned by get at now_us (the reference is dropped again). */
static int cached(struct token_cache *c, int n, int64_t now_us) {
    char id[TOKFMT_PUBID_BUFSZ];
    id_of(n, id);
    struct token_entry *e = token_cache_get(c, id, now_us);
    token_entry_unref(e);
    return e != NULL;
}

static struct token_cache *cache_new(size_t max_entries, int64_t ttl_us) {
    struct token_cache *c = token_cache_new(max_entries, ttl_us);
    if (c == NULL)
        fail_msg("token_cache_new(%zu, %lld) returned NULL", max_entries, (long long)ttl_us);
    return c;
}

/*
 * Finds tokens that land in the same shard as token `base`, black-box: a
 * cache of 64 entries holds one entry per shard, so putting a second token
 * leaves the count at 1 exactly when it evicted the first.
 */
static void same_shard_as(int base, int *ret, size_t want) {
    size_t found = 0;
    for (int n = base + 1; found < want && n < base + 100000; n++) {
        struct token_cache *probe = cache_new(64, LONG_TTL);
        put_new(probe, base, T0);
        put_new(probe, n, T0 + 1);
        if (token_cache_count(probe) == 1)
            ret[found++] = n;
        token_cache_free(probe);
    }
    if (found < want)
        fail_msg("found only %zu of %zu tokens sharing a shard with token %d", found, want, base);
}

/* ---- get / put ---- */

static void test_get_of_absent_id_is_null(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    assert_null(token_cache_get(c, "lk_user_000000000001", T0));
    put_new(c, 2, T0);
    assert_null(token_cache_get(c, "lk_user_000000000001", T0));
    assert_null(token_cache_get(c, "", T0));
    token_cache_free(c);
}

static void test_put_then_get_returns_the_fields(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_rec r;
    make_rec(&r, 7);
    static char two[][STORE_POLICY_NAME_MAX] = {"tokens.view", "users.edit"};
    r.policies = two;
    r.npolicies = 2;
    r.last_used_at = 1750000000;
    struct token_entry *e = token_entry_new(&r, T0);
    assert_non_null(e);
    token_entry_set_identity(e, "alice", "admin", "acme", "active");
    token_entry_set_team(e, "", 0, 0);
    put_now(c, e);
    token_entry_unref(e);

    struct token_entry *g = token_cache_get(c, "lk_user_000000000007", T0 + 1);
    assert_non_null(g);
    assert_string_equal(g->id, "lk_user_000000000007");
    assert_memory_equal(g->hash, r.hash, sizeof(r.hash));
    assert_string_equal(g->owner_type, "user");
    assert_string_equal(g->owner_id, "usr_7");
    assert_string_equal(g->org_id, "org_1");
    assert_string_equal(g->owner_name, "alice");
    assert_string_equal(g->owner_role, "admin");
    assert_string_equal(g->org_name, "acme");
    assert_string_equal(g->org_status, "active");
    assert_i64_eq(g->created_at, 1700000000);
    assert_i64_eq(g->expires_at, 1800000000);
    assert_i64_eq(atomic_load(&g->last_used), 1750000000);
    /* policies_json is the compact form, so the api may embed it as-is. */
    assert_string_equal(g->policies_json, "[\"tokens.view\",\"users.edit\"]");
    assert_true(json_is_array(g->policies));
    assert_i64_eq(json_array_size(g->policies), 2);
    assert_string_equal(json_string_value(json_array_get(g->policies, 0)), "tokens.view");
    assert_string_equal(json_string_value(json_array_get(g->policies, 1)), "users.edit");
    token_entry_unref(g);
    token_cache_free(c);
}

/* A token without policies has the empty array (the store hands out a
 * typed list; text that is no list of names never reaches the cache). */
static void test_no_policies_become_an_empty_array(void **state) {
    struct token_rec r;
    make_rec(&r, 8);
    r.policies = NULL;
    r.npolicies = 0;
    struct token_entry *e = token_entry_new(&r, T0);
    assert_non_null(e);
    if (strcmp(e->policies_json, "[]") != 0 || !json_is_array(e->policies) || json_array_size(e->policies) != 0)
        fail_msg("no policies gave policies_json %s, expected []", e->policies_json);
    token_entry_unref(e);
}

static void test_cache_holds_its_own_reference(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *e = entry_new(1, T0);
    put_now(c, e);
    token_entry_unref(e); /* the caller's reference is gone; the cache's remains */

    struct token_entry *g = token_cache_get(c, "lk_user_000000000001", T0);
    assert_ptr_equal(g, e);
    assert_i64_eq(atomic_load(&g->refcnt), 2); /* the cache's and ours */
    assert_string_equal(g->owner_id, "usr_1");
    token_entry_unref(g);
    assert_i64_eq(token_cache_count(c), 1);
    token_cache_free(c);
}

/* ---- TTL ---- */

static void test_entry_within_the_ttl_is_returned(void **state) {
    struct token_cache *c = cache_new(1000, 100);
    put_new(c, 2, T0);
    assert_true(cached(c, 2, T0));
    assert_true(cached(c, 2, T0 + 99));
    token_cache_free(c);
}

static void test_entry_older_than_the_ttl_is_not_returned(void **state) {
    struct token_cache *c = cache_new(1000, 100);
    put_new(c, 2, T0);
    assert_false(cached(c, 2, T0 + 101));
    assert_false(cached(c, 2, T0 + 10 * SEC));
    token_cache_free(c);
}

static void test_stale_entry_is_replaced_by_a_fresh_load(void **state) {
    struct token_cache *c = cache_new(1000, 100);
    put_new(c, 2, T0);
    assert_false(cached(c, 2, T0 + 500));
    put_new(c, 2, T0 + 500); /* the miss re-read the store */
    assert_true(cached(c, 2, T0 + 550));
    assert_i64_eq(token_cache_count(c), 1);
    token_cache_free(c);
}

/* ---- remove ---- */

static void test_remove_hides_the_entry(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 3, T0);
    put_new(c, 4, T0);
    token_cache_remove(c, "lk_user_000000000003");
    assert_false(cached(c, 3, T0));
    assert_true(cached(c, 4, T0));
    assert_i64_eq(token_cache_count(c), 1);
    token_cache_free(c);
}

static void test_remove_of_absent_id_changes_nothing(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 3, T0);
    token_cache_remove(c, "lk_user_000000000099");
    assert_true(cached(c, 3, T0));
    assert_i64_eq(token_cache_count(c), 1);
    token_cache_free(c);
}

static void test_removed_entry_stays_valid_for_its_holder(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 3, T0);
    struct token_entry *held = token_cache_get(c, "lk_user_000000000003", T0);
    assert_non_null(held);
    token_cache_remove(c, "lk_user_000000000003");
    assert_false(cached(c, 3, T0));
    assert_i64_eq(atomic_load(&held->refcnt), 1); /* only the holder's */
    /* Still readable: after a premature free ASan reports this read. */
    assert_string_equal(held->owner_id, "usr_3");
    assert_string_equal(held->policies_json, "[\"tokens.view\"]");
    assert_i64_eq(json_array_size(held->policies), 1);
    token_entry_unref(held);
    token_cache_free(c);
}

static void test_remove_where_drops_only_matching_entries(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    for (int n = 0; n < 6; n++) /* org_id is org_(n % 3) */
        put_new(c, n, T0);
    token_cache_remove_where(c, "org_1", NULL, NULL);
    assert_false(cached(c, 1, T0));
    assert_false(cached(c, 4, T0));
    assert_i64_eq(token_cache_count(c), 4);
    token_cache_remove_where(c, NULL, "user", "usr_2");
    assert_false(cached(c, 2, T0));
    assert_true(cached(c, 0, T0));
    assert_true(cached(c, 3, T0));
    assert_true(cached(c, 5, T0));
    assert_i64_eq(token_cache_count(c), 3);
    token_cache_free(c);
}

/* ---- replacement ---- */

static void test_replacement_returns_the_new_entry(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 4, T0);
    struct token_entry *b = entry_new(4, T0 + 1);
    token_entry_set_identity(b, "renamed", "", "", "");
    put_now(c, b);
    token_entry_unref(b);
    struct token_entry *g = token_cache_get(c, "lk_user_000000000004", T0 + 2);
    assert_non_null(g);
    assert_string_equal(g->owner_name, "renamed");
    token_entry_unref(g);
    assert_i64_eq(token_cache_count(c), 1);
    token_cache_free(c);
}

static void test_replacement_keeps_the_old_last_used_when_later(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *a = entry_new(4, T0);
    atomic_store(&a->last_used, 500);
    put_now(c, a);
    token_entry_unref(a);
    struct token_entry *b = entry_new(4, T0 + 1);
    atomic_store(&b->last_used, 300);
    put_now(c, b);
    token_entry_unref(b);
    struct token_entry *g = token_cache_get(c, "lk_user_000000000004", T0 + 2);
    assert_ptr_equal(g, b);
    assert_i64_eq(atomic_load(&g->last_used), 500);
    token_entry_unref(g);
    token_cache_free(c);
}

static void test_replacement_keeps_the_new_last_used_when_later(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *a = entry_new(4, T0);
    atomic_store(&a->last_used, 300);
    put_now(c, a);
    token_entry_unref(a);
    struct token_entry *b = entry_new(4, T0 + 1);
    atomic_store(&b->last_used, 500);
    put_now(c, b);
    token_entry_unref(b);
    struct token_entry *g = token_cache_get(c, "lk_user_000000000004", T0 + 2);
    assert_i64_eq(atomic_load(&g->last_used), 500);
    token_entry_unref(g);
    token_cache_free(c);
}

static void test_replacement_holder_of_the_old_entry_stays_valid(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 4, T0);
    struct token_entry *old = token_cache_get(c, "lk_user_000000000004", T0);
    put_new(c, 4, T0 + 1);
    assert_i64_eq(atomic_load(&old->refcnt), 1);
    assert_string_equal(old->owner_id, "usr_4");
    token_entry_unref(old);
    token_cache_free(c);
}

/* ---- eviction ---- */

static void test_eviction_keeps_one_entry_per_shard_at_64(void **state) {
    struct token_cache *c = cache_new(64, LONG_TTL); /* 64 shards: one entry each */
    for (int n = 0; n < 1000; n++) {
        put_new(c, n, T0 + n);
        size_t count = token_cache_count(c);
        if (count > 64)
            fail_msg("after %d puts the cache holds %zu entries, expected at most 64", n + 1, count);
        if (!cached(c, n, T0 + n))
            fail_msg("token %d was evicted by its own put", n);
    }
    token_cache_free(c);
}

static void test_eviction_bound_is_max_entries_rounded_down_to_shards(void **state) {
    struct token_cache *c = cache_new(640, LONG_TTL); /* 10 per shard */
    for (int n = 0; n < 5000; n++)
        put_new(c, n, T0 + n);
    assert_i64_le(token_cache_count(c), 640);
    token_cache_free(c);
}

static void test_eviction_removes_the_oldest_entry_of_the_shard(void **state) {
    int peers[2];
    same_shard_as(1, peers, 2);
    struct token_cache *c = cache_new(128, LONG_TTL); /* two per shard */
    put_new(c, 1, T0 + 10);
    put_new(c, peers[0], T0 + 20);
    put_new(c, peers[1], T0 + 30); /* the shard is full: token 1 goes */
    assert_false(cached(c, 1, T0 + 30));
    assert_true(cached(c, peers[0], T0 + 30));
    assert_true(cached(c, peers[1], T0 + 30));
    assert_i64_eq(token_cache_count(c), 2);
    token_cache_free(c);
}

static void test_replacing_in_a_full_shard_evicts_nothing(void **state) {
    int peer;
    same_shard_as(1, &peer, 1);
    struct token_cache *c = cache_new(128, LONG_TTL); /* two per shard */
    put_new(c, 1, T0 + 10);
    put_new(c, peer, T0 + 20);
    put_new(c, 1, T0 + 30); /* a reload of token 1, not a new token */
    assert_true(cached(c, 1, T0 + 30));
    assert_true(cached(c, peer, T0 + 30));
    assert_i64_eq(token_cache_count(c), 2);
    token_cache_free(c);
}

static void test_evicted_entry_stays_valid_for_its_holder(void **state) {
    int peer;
    same_shard_as(1, &peer, 1);
    struct token_cache *c = cache_new(64, LONG_TTL);
    put_new(c, 1, T0);
    struct token_entry *held = token_cache_get(c, "lk_user_000000000001", T0);
    put_new(c, peer, T0 + 1);
    assert_false(cached(c, 1, T0 + 1));
    assert_string_equal(held->owner_id, "usr_1");
    token_entry_unref(held);
    token_cache_free(c);
}

static uint32_t xorshift(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* ---- generations: a removal refuses the loads that began before it ---- */

/* A token that lands in another shard than token base (see same_shard_as). */
static int other_shard_than(int base) {
    for (int n = base + 1; n < base + 1000; n++) {
        struct token_cache *probe = cache_new(64, LONG_TTL);
        put_new(probe, base, T0);
        put_new(probe, n, T0 + 1);
        size_t count = token_cache_count(probe);
        token_cache_free(probe);
        if (count == 2)
            return n;
    }
    fail_msg("found no token outside the shard of token %d", base);
    return -1;
}

static void test_put_with_an_unchanged_generation_inserts(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *e = entry_new(1, T0);
    uint64_t gen = token_cache_generation(c, e->id);
    put_new(c, 2, T0); /* puts and gets are not removals */
    assert_true(cached(c, 2, T0));
    assert_i64_eq(token_cache_put(c, e, gen), 1);
    assert_true(cached(c, 1, T0));
    token_entry_unref(e);
    token_cache_free(c);
}

static void test_put_after_a_removal_of_its_id_is_refused(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 1, T0);
    struct token_entry *e = entry_new(1, T0 + 1); /* a load begins ... */
    uint64_t gen = token_cache_generation(c, e->id);
    token_cache_remove(c, e->id);                 /* ... a revocation commits ... */
    assert_i64_eq(token_cache_put(c, e, gen), 0); /* ... and what it read stays out */
    assert_false(cached(c, 1, T0 + 1));
    assert_i64_eq(token_cache_count(c), 0);
    /* The loader still holds a valid entry of its own. */
    assert_i64_eq(atomic_load(&e->refcnt), 1);
    assert_string_equal(e->owner_id, "usr_1");
    /* A load that begins after the removal is cached. */
    assert_i64_eq(token_cache_put(c, e, token_cache_generation(c, e->id)), 1);
    assert_true(cached(c, 1, T0 + 1));
    token_entry_unref(e);
    token_cache_free(c);
}

static void test_removal_of_an_absent_id_refuses_loads_in_flight(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *e = entry_new(1, T0); /* not cached yet: the load's own miss */
    uint64_t gen = token_cache_generation(c, e->id);
    token_cache_remove(c, e->id);
    assert_i64_eq(token_cache_put(c, e, gen), 0);
    assert_false(cached(c, 1, T0));
    token_entry_unref(e);
    token_cache_free(c);
}

static void test_removal_in_another_shard_refuses_nothing(void **state) {
    int other = other_shard_than(1);
    char id[TOKFMT_PUBID_BUFSZ];
    id_of(other, id);
    struct token_cache *c = cache_new(1000, LONG_TTL);
    struct token_entry *e = entry_new(1, T0);
    uint64_t gen = token_cache_generation(c, e->id);
    token_cache_remove(c, id);
    assert_i64_eq(token_cache_put(c, e, gen), 1);
    assert_true(cached(c, 1, T0));
    token_entry_unref(e);
    token_cache_free(c);
}

static void test_remove_where_refuses_loads_in_flight_whatever_it_matched(void **state) {
    /* Token 1 is org_1's, owned by usr_1. */
    static const char *const where[][3] = {
        {"org_1", NULL, NULL}, {NULL, "user", "usr_1"}, {"org_1", "user", NULL},
        {"org_2", NULL, NULL}, {NULL, "user", "usr_9"}, /* matching nothing cached */
        {NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        struct token_cache *c = cache_new(1000, LONG_TTL);
        put_new(c, 1, T0);
        struct token_entry *e = entry_new(1, T0 + 1);
        uint64_t gen = token_cache_generation(c, e->id);
        token_cache_remove_where(c, where[i][0], where[i][1], where[i][2]);
        int put = token_cache_put(c, e, gen);
        if (put != 0)
            fail_msg("remove_where(%s, %s, %s) let a load that began before it be cached",
                     where[i][0] ? where[i][0] : "NULL", where[i][1] ? where[i][1] : "NULL",
                     where[i][2] ? where[i][2] : "NULL");
        token_entry_unref(e);
        token_cache_free(c);
    }
}

static void test_discard_removes_without_refusing_loads(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 2, T0);
    token_cache_discard(c, "lk_user_000000000002");
    assert_false(cached(c, 2, T0));
    struct token_entry *e = entry_new(1, T0);
    uint64_t gen = token_cache_generation(c, e->id);
    token_cache_discard(c, e->id);
    assert_i64_eq(token_cache_put(c, e, gen), 1);
    assert_true(cached(c, 1, T0));
    token_entry_unref(e);
    token_cache_free(c);
}

/*
 * Real threads, the protocol of svc.c: revokers change a token's state in a
 * "store" (an atomic version per token) between a removal before and one
 * after the change, then mark the change answered; loaders miss, take the
 * generation, read the version (yielding now and then, as a worker loses
 * its CPU between two statements) and put an entry carrying it; every get
 * checks that an entry it is handed is not older than the newest answered
 * change. Without the generation check in put this fails within a few
 * thousand changes (a loader puts after the post-commit removal).
 */
#define RACE_TOKENS 12
#define RACE_REVOKERS 2
#define RACE_LOADERS 4
#define RACE_CHANGES 6000 /* per revoker */

struct race {
    struct token_cache *c;
    atomic_llong version[RACE_TOKENS];  /* the store */
    atomic_llong answered[RACE_TOKENS]; /* newest version whose change was answered */
    atomic_int revokers_left;
    atomic_int stale;   /* entries handed out older than an answered change */
    atomic_llong loads; /* loads made, */
    atomic_llong kept;  /* and cached */
    pthread_barrier_t start;
};

struct race_thread {
    struct race *r;
    int idx;
    uint32_t seed;
};

static void *revoker_main(void *arg) {
    struct race_thread *t = arg;
    struct race *r = t->r;
    char id[TOKFMT_PUBID_BUFSZ], org[16];
    pthread_barrier_wait(&r->start);
    for (int i = 0; i < RACE_CHANGES; i++) {
        /* Revoker k owns the tokens n with n % RACE_REVOKERS == k, so each token's
         * answered version only grows. */
        int n = t->idx + RACE_REVOKERS * (int)(xorshift(&t->seed) % (RACE_TOKENS / RACE_REVOKERS));
        id_of(n, id);
        snprintf(org, sizeof(org), "org_%d", n % 3); /* make_rec's org */
        int by_org = xorshift(&t->seed) % 2;
        if (by_org)
            token_cache_remove_where(r->c, org, NULL, NULL);
        else
            token_cache_remove(r->c, id);
        long long v = atomic_fetch_add(&r->version[n], 1) + 1; /* the commit */
        if (xorshift(&t->seed) % 4 == 0)
            sched_yield();
        if (by_org) /* the post-commit replay */
            token_cache_remove_where(r->c, org, NULL, NULL);
        else
            token_cache_remove(r->c, id);
        atomic_store(&r->answered[n], v); /* the answer leaves */
    }
    atomic_fetch_sub(&r->revokers_left, 1);
    return NULL;
}

static void *loader_main(void *arg) {
    struct race_thread *t = arg;
    struct race *r = t->r;
    char id[TOKFMT_PUBID_BUFSZ];
    pthread_barrier_wait(&r->start);
    while (atomic_load(&r->revokers_left) > 0) {
        int n = (int)(xorshift(&t->seed) % RACE_TOKENS);
        id_of(n, id);
        long long seen = atomic_load(&r->answered[n]); /* a request sent after this answer ... */
        struct token_entry *e = token_cache_get(r->c, id, T0);
        if (e == NULL) { /* ... missed: load it */
            struct token_rec rec;
            make_rec(&rec, n);
            uint64_t gen = token_cache_generation(r->c, id);
            rec.created_at = atomic_load(&r->version[n]); /* the store read */
            if (xorshift(&t->seed) % 4 == 0)
                sched_yield();
            e = token_entry_new(&rec, T0);
            if (e == NULL) {
                atomic_fetch_add(&r->stale, 1000000); /* out of memory: fail loudly */
                continue;
            }
            atomic_fetch_add(&r->loads, 1);
            atomic_fetch_add(&r->kept, token_cache_put(r->c, e, gen));
        }
        if (e->created_at < seen) /* ... must see at least that change */
            atomic_fetch_add(&r->stale, 1);
        token_entry_unref(e);
    }
    return NULL;
}

static void test_concurrent_loads_never_outlive_an_answered_removal(void **state) {
    struct race r;
    memset(&r, 0, sizeof(r));
    r.c = cache_new(10000, LONG_TTL);
    for (int n = 0; n < RACE_TOKENS; n++) {
        atomic_init(&r.version[n], 0);
        atomic_init(&r.answered[n], 0);
    }
    atomic_init(&r.revokers_left, RACE_REVOKERS);
    atomic_init(&r.stale, 0);
    atomic_init(&r.loads, 0);
    atomic_init(&r.kept, 0);
    pthread_barrier_init(&r.start, NULL, RACE_REVOKERS + RACE_LOADERS);

    pthread_t th[RACE_REVOKERS + RACE_LOADERS];
    struct race_thread rt[RACE_REVOKERS + RACE_LOADERS];
    for (int i = 0; i < RACE_REVOKERS + RACE_LOADERS; i++) {
        rt[i] = (struct race_thread){.r = &r, .idx = i, .seed = 88172645u + (uint32_t)i * 104729u};
        assert_i64_eq(pthread_create(&th[i], NULL, i < RACE_REVOKERS ? revoker_main : loader_main, &rt[i]), 0);
    }
    for (int i = 0; i < RACE_REVOKERS + RACE_LOADERS; i++)
        pthread_join(th[i], NULL);

    long long loads = atomic_load(&r.loads), kept = atomic_load(&r.kept);
    if (atomic_load(&r.stale) != 0)
        fail_msg("%d entries handed out were older than a change already answered (%lld loads, %lld cached)",
                 atomic_load(&r.stale), loads, kept);
    /* The test meant something: loads ran, and those that raced no removal were cached. */
    if (loads == 0 || kept == 0)
        fail_msg("%lld loads, %lld cached: the loaders never ran against the cache", loads, kept);
    pthread_barrier_destroy(&r.start);
    token_cache_free(r.c);
}

/* ---- flush_touches ---- */

#define REC_MAX 16

struct recorder {
    int ret;   /* what fn answers */
    int calls; /* how often fn was called */
    size_t n;  /* the last batch */
    char ids[REC_MAX][TOKFMT_PUBID_BUFSZ];
    int64_t used[REC_MAX];
};

static int record_fn(void *arg, const struct token_touch *t, size_t n) {
    struct recorder *rec = arg;
    rec->calls++;
    rec->n = n;
    for (size_t i = 0; i < n && i < REC_MAX; i++) {
        snprintf(rec->ids[i], sizeof(rec->ids[i]), "%s", t[i].id);
        rec->used[i] = t[i].last_used_at;
    }
    return rec->ret;
}

/* The last_used_at the last batch carried for token n, or -1 if absent. */
static int64_t recorded(const struct recorder *rec, int n) {
    char id[TOKFMT_PUBID_BUFSZ];
    id_of(n, id);
    for (size_t i = 0; i < rec->n && i < REC_MAX; i++)
        if (strcmp(rec->ids[i], id) == 0)
            return rec->used[i];
    return -1;
}

/* Sets token n's last_used as a verified request does. */
static void touch(struct token_cache *c, int n, int64_t when_s) {
    char id[TOKFMT_PUBID_BUFSZ];
    id_of(n, id);
    struct token_entry *e = token_cache_get(c, id, T0);
    if (e == NULL)
        fail_msg("token %d is not cached", n);
    atomic_store(&e->last_used, when_s);
    token_entry_unref(e);
}

static struct token_cache *three_entries(void) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    for (int n = 10; n < 13; n++)
        put_new(c, n, T0);
    return c;
}

static void test_flush_with_nothing_dirty_does_not_call_fn(void **state) {
    struct token_cache *c = three_entries();
    struct recorder rec = {.ret = -5};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 0);
    token_cache_free(c);
}

static void test_flush_hands_only_dirty_entries_to_fn(void **state) {
    struct token_cache *c = three_entries();
    touch(c, 10, 1750000010);
    touch(c, 12, 1750000012);
    struct recorder rec = {0};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 1);
    assert_i64_eq(rec.n, 2);
    assert_i64_eq(recorded(&rec, 10), 1750000010);
    assert_i64_eq(recorded(&rec, 12), 1750000012);
    assert_i64_eq(recorded(&rec, 11), -1);
    token_cache_free(c);
}

static void test_failed_flush_leaves_entries_dirty(void **state) {
    struct token_cache *c = three_entries();
    touch(c, 11, 1750000011);
    struct recorder rec = {.ret = -7};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), -7);
    rec.ret = 0;
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 2);
    assert_i64_eq(rec.n, 1);
    assert_i64_eq(recorded(&rec, 11), 1750000011);
    token_cache_free(c);
}

static void test_successful_flush_marks_entries_clean(void **state) {
    struct token_cache *c = three_entries();
    touch(c, 11, 1750000011);
    struct recorder rec = {0};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 1);
    rec.ret = -1; /* would show if fn were called again */
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 1);
    token_cache_free(c);
}

static void test_flush_hands_a_flushed_entry_again_only_after_a_new_use(void **state) {
    struct token_cache *c = three_entries();
    touch(c, 10, 1750000010);
    touch(c, 11, 1750000011);
    struct recorder rec = {0};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    touch(c, 11, 1750000099);
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 2);
    assert_i64_eq(rec.n, 1);
    assert_i64_eq(recorded(&rec, 11), 1750000099);
    token_cache_free(c);
}

static void test_replacement_keeps_a_pending_touch_dirty(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 5, T0);
    touch(c, 5, 1750000500); /* not yet flushed */
    struct token_rec r;
    make_rec(&r, 5);
    r.last_used_at = 1750000100; /* the store still has an older time */
    struct token_entry *b = token_entry_new(&r, T0 + 1);
    put_now(c, b);
    token_entry_unref(b);
    struct recorder rec = {0};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 1);
    assert_i64_eq(recorded(&rec, 5), 1750000500);
    token_cache_free(c);
}

static void test_replacement_of_a_flushed_entry_stays_clean(void **state) {
    struct token_cache *c = cache_new(1000, LONG_TTL);
    put_new(c, 5, T0);
    touch(c, 5, 1750000500);
    struct recorder rec = {0};
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    struct token_rec r;
    make_rec(&r, 5);
    r.last_used_at = 1750000100; /* read from the store before the flush landed */
    struct token_entry *b = token_entry_new(&r, T0 + 1);
    put_now(c, b);
    token_entry_unref(b);
    assert_i64_eq(token_cache_flush_touches(c, record_fn, &rec), 0);
    assert_i64_eq(rec.calls, 1);
    token_cache_free(c);
}

/* ---- concurrency ---- */

#define WORKERS 4
#define OPS 20000

struct shared {
    struct token_cache *c;
    int nids;
    pthread_barrier_t start;
    atomic_int workers_left;
    atomic_int errors;
    atomic_int flushes;
};

struct worker {
    struct shared *sh;
    uint32_t seed;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct shared *sh = w->sh;
    struct token_entry *held = NULL; /* kept across other threads' puts and removes */
    char id[TOKFMT_PUBID_BUFSZ], want[16];

    pthread_barrier_wait(&sh->start);
    for (int i = 0; i < OPS; i++) {
        int n = (int)(xorshift(&w->seed) % (uint32_t)sh->nids);
        id_of(n, id);
        switch (xorshift(&w->seed) % 4) {
        case 0: put_new(sh->c, n, T0 + i); break;
        case 1: token_cache_remove(sh->c, id); break;
        default: {
            struct token_entry *g = token_cache_get(sh->c, id, T0 + i);
            if (g == NULL)
                break;
            snprintf(want, sizeof(want), "usr_%d", n);
            if (strcmp(g->id, id) != 0 || strcmp(g->owner_id, want) != 0)
                atomic_fetch_add(&sh->errors, 1);
            atomic_store(&g->last_used, 1750000000 + i);
            if (held != NULL && strncmp(held->id, "lk_user_", 8) != 0)
                atomic_fetch_add(&sh->errors, 1);
            token_entry_unref(held);
            held = g;
        }
        }
    }
    token_entry_unref(held);
    atomic_fetch_sub(&sh->workers_left, 1);
    return NULL;
}

static int check_touches_fn(void *arg, const struct token_touch *t, size_t n) {
    struct shared *sh = arg;
    for (size_t i = 0; i < n; i++)
        if (strncmp(t[i].id, "lk_user_", 8) != 0 || t[i].last_used_at < 1750000000)
            atomic_fetch_add(&sh->errors, 1);
    return (atomic_fetch_add(&sh->flushes, 1) % 3 == 0) ? -1 : 0; /* some fail, some succeed */
}

static void *flusher_main(void *arg) {
    struct shared *sh = arg;
    pthread_barrier_wait(&sh->start);
    while (atomic_load(&sh->workers_left) > 0)
        token_cache_flush_touches(sh->c, check_touches_fn, sh);
    return NULL;
}

static void hammer(size_t max_entries, int nids) {
    struct shared sh = {.nids = nids};
    sh.c = cache_new(max_entries, LONG_TTL);
    atomic_init(&sh.workers_left, WORKERS);
    atomic_init(&sh.errors, 0);
    atomic_init(&sh.flushes, 0);
    pthread_barrier_init(&sh.start, NULL, WORKERS + 1);

    pthread_t t[WORKERS], f;
    struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.sh = &sh, .seed = 2463534242u + (uint32_t)i * 7919u};
        assert_i64_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    assert_i64_eq(pthread_create(&f, NULL, flusher_main, &sh), 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    pthread_join(f, NULL);

    assert_i64_eq(atomic_load(&sh.errors), 0);
    /* The shard counters agree with what get can find. */
    size_t found = 0;
    for (int n = 0; n < nids; n++)
        found += (size_t)cached(sh.c, n, T0 + OPS);
    assert_i64_eq(token_cache_count(sh.c), found);
    assert_i64_le(found, max_entries < (size_t)nids ? max_entries : (size_t)nids);
    /* Still usable afterwards. */
    put_new(sh.c, 0, T0 + OPS);
    assert_true(cached(sh.c, 0, T0 + OPS));

    pthread_barrier_destroy(&sh.start);
    token_cache_free(sh.c);
}

static void test_concurrent_get_put_remove_and_flush(void **state) {
    hammer(10000, 100);
}

static void test_concurrent_use_while_evicting(void **state) {
    hammer(64, 300); /* one entry per shard: most puts evict */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_of_absent_id_is_null),
        cmocka_unit_test(test_put_then_get_returns_the_fields),
        cmocka_unit_test(test_no_policies_become_an_empty_array),
        cmocka_unit_test(test_cache_holds_its_own_reference),
        cmocka_unit_test(test_entry_within_the_ttl_is_returned),
        cmocka_unit_test(test_entry_older_than_the_ttl_is_not_returned),
        cmocka_unit_test(test_stale_entry_is_replaced_by_a_fresh_load),
        cmocka_unit_test(test_remove_hides_the_entry),
        cmocka_unit_test(test_remove_of_absent_id_changes_nothing),
        cmocka_unit_test(test_removed_entry_stays_valid_for_its_holder),
        cmocka_unit_test(test_remove_where_drops_only_matching_entries),
        cmocka_unit_test(test_replacement_returns_the_new_entry),
        cmocka_unit_test(test_replacement_keeps_the_old_last_used_when_later),
        cmocka_unit_test(test_replacement_keeps_the_new_last_used_when_later),
        cmocka_unit_test(test_replacement_holder_of_the_old_entry_stays_valid),
        cmocka_unit_test(test_eviction_keeps_one_entry_per_shard_at_64),
        cmocka_unit_test(test_eviction_bound_is_max_entries_rounded_down_to_shards),
        cmocka_unit_test(test_eviction_removes_the_oldest_entry_of_the_shard),
        cmocka_unit_test(test_replacing_in_a_full_shard_evicts_nothing),
        cmocka_unit_test(test_evicted_entry_stays_valid_for_its_holder),
        cmocka_unit_test(test_put_with_an_unchanged_generation_inserts),
        cmocka_unit_test(test_put_after_a_removal_of_its_id_is_refused),
        cmocka_unit_test(test_removal_of_an_absent_id_refuses_loads_in_flight),
        cmocka_unit_test(test_removal_in_another_shard_refuses_nothing),
        cmocka_unit_test(test_remove_where_refuses_loads_in_flight_whatever_it_matched),
        cmocka_unit_test(test_discard_removes_without_refusing_loads),
        cmocka_unit_test(test_concurrent_loads_never_outlive_an_answered_removal),
        cmocka_unit_test(test_flush_with_nothing_dirty_does_not_call_fn),
        cmocka_unit_test(test_flush_hands_only_dirty_entries_to_fn),
        cmocka_unit_test(test_failed_flush_leaves_entries_dirty),
        cmocka_unit_test(test_successful_flush_marks_entries_clean),
        cmocka_unit_test(test_flush_hands_a_flushed_entry_again_only_after_a_new_use),
        cmocka_unit_test(test_replacement_keeps_a_pending_touch_dirty),
        cmocka_unit_test(test_replacement_of_a_flushed_entry_stays_clean),
        cmocka_unit_test(test_concurrent_get_put_remove_and_flush),
        cmocka_unit_test(test_concurrent_use_while_evicting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
