/* Unit tests for the shared token cache: lookups, TTL, refcounts across
 * removal, replacement, eviction, the last-use flush, and concurrent use
 * (run under ASan+UBSan by make test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "svc/token_cache.h"

static void make_rec(struct token_rec *r, int n) {
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "lk_user_%012d", n);
    snprintf(r->owner_type, sizeof(r->owner_type), "user");
    snprintf(r->owner_id, sizeof(r->owner_id), "usr_%d", n);
    r->policies_json = (char *)"[\"tokens.view\"]";
    r->hash[0] = (uint8_t)n;
}

static struct token_entry *entry(int n, int64_t now_us) {
    struct token_rec r;
    make_rec(&r, n);
    struct token_entry *e = token_entry_new(&r, now_us);
    assert_non_null(e);
    return e;
}

static void test_get_put_and_fields(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 1000000);
    assert_null(token_cache_get(c, "lk_user_000000000001", 0));
    struct token_entry *e = entry(1, 0);
    token_cache_put(c, e);
    token_entry_unref(e); /* the cache holds its own reference */
    struct token_entry *g = token_cache_get(c, "lk_user_000000000001", 10);
    assert_non_null(g);
    assert_string_equal(g->owner_id, "usr_1");
    assert_string_equal(g->policies_json, "[\"tokens.view\"]");
    assert_int_equal(json_array_size(g->policies), 1);
    token_entry_unref(g);
    assert_int_equal(token_cache_count(c), 1);
    token_cache_free(c);
}

static void test_ttl_makes_entries_stale(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 100);
    struct token_entry *e = entry(2, 1000);
    token_cache_put(c, e);
    token_entry_unref(e);
    struct token_entry *g = token_cache_get(c, e->id, 1099);
    assert_non_null(g);
    token_entry_unref(g);
    assert_null(token_cache_get(c, "lk_user_000000000002", 1100));
    token_cache_free(c);
}

static void test_removed_entry_stays_valid_for_its_holder(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 1000000);
    struct token_entry *e = entry(3, 0);
    token_cache_put(c, e);
    token_entry_unref(e);
    struct token_entry *held = token_cache_get(c, "lk_user_000000000003", 0);
    token_cache_remove(c, "lk_user_000000000003");
    assert_null(token_cache_get(c, "lk_user_000000000003", 0));
    assert_string_equal(held->owner_id, "usr_3"); /* still readable: ASan would flag a free */
    token_entry_unref(held);
    token_cache_free(c);
}

static void test_replacement_keeps_the_later_last_use(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 1000000);
    struct token_entry *a = entry(4, 0);
    atomic_store(&a->last_used, 500);
    token_cache_put(c, a);
    token_entry_unref(a);
    struct token_entry *b = entry(4, 1);
    token_cache_put(c, b);
    token_entry_unref(b);
    struct token_entry *g = token_cache_get(c, "lk_user_000000000004", 2);
    assert_int_equal(atomic_load(&g->last_used), 500);
    token_entry_unref(g);
    assert_int_equal(token_cache_count(c), 1);
    token_cache_free(c);
}

static void test_eviction_bounds_the_size(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(64, 1000000); /* one entry per shard */
    for (int i = 0; i < 1000; i++) {
        struct token_entry *e = entry(i, i);
        token_cache_put(c, e);
        token_entry_unref(e);
    }
    assert_true(token_cache_count(c) <= 64);
    /* The newest survives its shard. */
    struct token_entry *g = token_cache_get(c, "lk_user_000000000999", 1000);
    assert_non_null(g);
    token_entry_unref(g);
    token_cache_free(c);
}

static int flush_calls, flush_fail;
static size_t flushed_n;

static int flush_fn(void *arg, const struct token_touch *t, size_t n) {
    (void)arg;
    (void)t;
    flush_calls++;
    flushed_n = n;
    return flush_fail ? -1 : 0;
}

static void test_flush_hands_over_only_dirty_entries(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 1000000);
    for (int i = 0; i < 3; i++) {
        struct token_entry *e = entry(10 + i, 0);
        token_cache_put(c, e);
        token_entry_unref(e);
    }
    flush_calls = 0;
    assert_int_equal(token_cache_flush_touches(c, flush_fn, NULL), 0);
    assert_int_equal(flush_calls, 0); /* nothing used yet */
    struct token_entry *g = token_cache_get(c, "lk_user_000000000011", 0);
    atomic_store(&g->last_used, 42);
    token_entry_unref(g);
    flush_fail = 1;
    assert_int_equal(token_cache_flush_touches(c, flush_fn, NULL), -1);
    assert_int_equal(flushed_n, 1);
    flush_fail = 0; /* a failed flush leaves it dirty ... */
    assert_int_equal(token_cache_flush_touches(c, flush_fn, NULL), 0);
    assert_int_equal(flush_calls, 2);
    assert_int_equal(flushed_n, 1);
    /* ... a successful one cleans it. */
    assert_int_equal(token_cache_flush_touches(c, flush_fn, NULL), 0);
    assert_int_equal(flush_calls, 2);
    token_cache_free(c);
}

static void test_remove_where(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(1000, 1000000);
    for (int i = 0; i < 4; i++) {
        struct token_entry *e = entry(20 + i, 0);
        snprintf(e->org_id, sizeof(e->org_id), "%s", i < 2 ? "org_a" : "org_b");
        token_cache_put(c, e);
        token_entry_unref(e);
    }
    token_cache_remove_where(c, "org_a", NULL, NULL);
    assert_int_equal(token_cache_count(c), 2);
    token_cache_remove_where(c, NULL, "user", "usr_22");
    assert_int_equal(token_cache_count(c), 1);
    token_cache_free(c);
}

struct hammer {
    struct token_cache *c;
    int seed;
};

static void *hammer_main(void *arg) {
    struct hammer *h = arg;
    for (int i = 0; i < 20000; i++) {
        int n = (i * 7 + h->seed) % 50;
        char id[32];
        snprintf(id, sizeof(id), "lk_user_%012d", n);
        switch (i % 4) {
        case 0: {
            struct token_entry *e = entry(n, i);
            token_cache_put(h->c, e);
            token_entry_unref(e);
            break;
        }
        case 1:
        case 2: {
            struct token_entry *g = token_cache_get(h->c, id, i);
            if (g != NULL) {
                atomic_store(&g->last_used, i);
                token_entry_unref(g);
            }
            break;
        }
        default: token_cache_remove(h->c, id);
        }
    }
    return NULL;
}

static void test_concurrent_use(void **state) {
    (void)state;
    struct token_cache *c = token_cache_new(10000, 1000000000);
    pthread_t t[4];
    struct hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i].c = c;
        h[i].seed = i * 13;
        pthread_create(&t[i], NULL, hammer_main, &h[i]);
    }
    for (int k = 0; k < 50; k++)
        token_cache_flush_touches(c, flush_fn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_true(token_cache_count(c) <= 50);
    token_cache_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_and_fields),
        cmocka_unit_test(test_ttl_makes_entries_stale),
        cmocka_unit_test(test_removed_entry_stays_valid_for_its_holder),
        cmocka_unit_test(test_replacement_keeps_the_later_last_use),
        cmocka_unit_test(test_eviction_bounds_the_size),
        cmocka_unit_test(test_flush_hands_over_only_dirty_entries),
        cmocka_unit_test(test_remove_where),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
