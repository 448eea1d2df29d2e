/*
 * test_ratelimiter.c - unit tests for the shared rate-limit table
 * (svc/ratelimiter.h): bursts, refill, independent keys, the memory bound,
 * long keys, and no over-admission under contention. The GCRA arithmetic
 * itself is covered by core/test_ratelimit.c.
 *
 * Times are explicit microseconds on an arbitrary monotonic scale. Nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "svc/ratelimiter.h"

#include "unit_assert.h"

#define SEC INT64_C(1000000)
/* An arbitrary, realistic monotonic start time. */
#define T0 (INT64_C(3600) * SEC)

static struct ratelimiter *limiter_new(uint32_t quota, uint32_t window_s, size_t max_keys) {
    struct rl_policy p = {quota, window_s};
    struct ratelimiter *rl = ratelimiter_new(&p, max_keys);
    if (rl == NULL)
        fail_msg("ratelimiter_new(%u/%u, %zu) returned NULL", quota, window_s, max_keys);
    return rl;
}

static struct rl_result check(struct ratelimiter *rl, const char *key, int64_t now_us) {
    struct rl_result r;
    memset(&r, 0xA5, sizeof(r)); /* every field must be written */
    ratelimiter_check(rl, key, strlen(key), now_us, &r);
    return r;
}

static int allowed(struct ratelimiter *rl, const char *key, int64_t now_us) {
    return check(rl, key, now_us).allowed;
}

/* Sends n requests for key at now_us, which must all be allowed. */
static void send_allowed(struct ratelimiter *rl, const char *key, int64_t now_us, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        struct rl_result r = check(rl, key, now_us);
        if (!r.allowed)
            fail_msg("request %u of %u for key \"%.20s\" at t=%lldus was refused (retry_after %u s)", i + 1, n, key,
                     (long long)now_us, r.retry_after_s);
    }
}

/* ---- disabled ---- */

static void test_quota_zero_always_allows(void **state) {
    struct ratelimiter *rl = limiter_new(0, 1, 16);
    for (int i = 0; i < 10000; i++) {
        struct rl_result r = check(rl, "k", T0);
        if (!r.allowed || r.remaining != 0 || r.retry_after_s != 0)
            fail_msg("request %d: allowed %d remaining %u retry_after %u, expected 1 0 0", i + 1, r.allowed,
                     r.remaining, r.retry_after_s);
    }
    ratelimiter_free(rl);
}

static void test_quota_zero_allows_any_number_of_keys(void **state) {
    struct ratelimiter *rl = limiter_new(0, 1, 16);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "10.1.%d.%d", i / 256, i % 256);
        if (!allowed(rl, key, T0))
            fail_msg("key %s was refused under quota 0", key);
    }
    ratelimiter_free(rl);
}

/* ---- bursts ---- */

static void test_fresh_key_gets_exactly_quota_in_a_burst(void **state) {
    struct ratelimiter *rl = limiter_new(5, 10, 1000);
    for (uint32_t i = 0; i < 5; i++) {
        struct rl_result r = check(rl, "k", T0);
        assert_i64_eq(r.allowed, 1);
        assert_i64_eq(r.remaining, 4 - i);
    }
    struct rl_result r = check(rl, "k", T0);
    assert_i64_eq(r.allowed, 0);
    assert_i64_eq(r.remaining, 0);
    if (r.retry_after_s < 1 || r.retry_after_s > 10)
        fail_msg("retry_after_s is %u, expected 1..10", r.retry_after_s);
    ratelimiter_free(rl);
}

static void test_refused_requests_do_not_push_the_key_back(void **state) {
    struct ratelimiter *rl = limiter_new(5, 10, 1000); /* one request every 2 s */
    send_allowed(rl, "k", T0, 5);
    for (int i = 0; i < 100; i++)
        assert_i64_eq(allowed(rl, "k", T0 + i * 10000), 0);
    assert_i64_eq(allowed(rl, "k", T0 + 2 * SEC), 1);
    ratelimiter_free(rl);
}

static void test_keys_are_independent(void **state) {
    struct ratelimiter *rl = limiter_new(3, 60, 1000);
    send_allowed(rl, "a", T0, 3);
    assert_i64_eq(allowed(rl, "a", T0), 0);
    send_allowed(rl, "b", T0, 3);
    assert_i64_eq(allowed(rl, "b", T0), 0);
    assert_i64_eq(allowed(rl, "a", T0), 0);
    ratelimiter_free(rl);
}

static void test_keys_are_compared_by_length_too(void **state) {
    struct ratelimiter *rl = limiter_new(1, 60, 1000);
    assert_i64_eq(allowed(rl, "ab", T0), 1);
    assert_i64_eq(allowed(rl, "a", T0), 1);
    assert_i64_eq(allowed(rl, "abc", T0), 1);
    ratelimiter_free(rl);
}

/* ---- refill ---- */

static void test_nothing_refills_before_the_emission_interval(void **state) {
    struct ratelimiter *rl = limiter_new(5, 10, 1000); /* T = 2 s */
    send_allowed(rl, "k", T0, 5);
    assert_i64_eq(allowed(rl, "k", T0 + 2 * SEC - 1), 0);
    ratelimiter_free(rl);
}

static void test_one_request_refills_per_emission_interval(void **state) {
    struct ratelimiter *rl = limiter_new(5, 10, 1000); /* T = 2 s */
    send_allowed(rl, "k", T0, 5);
    struct rl_result r = check(rl, "k", T0 + 2 * SEC);
    assert_i64_eq(r.allowed, 1);
    assert_i64_eq(r.remaining, 0);
    assert_i64_eq(allowed(rl, "k", T0 + 2 * SEC), 0);
    assert_i64_eq(allowed(rl, "k", T0 + 4 * SEC), 1);
    ratelimiter_free(rl);
}

static void test_full_quota_is_back_after_the_window(void **state) {
    struct ratelimiter *rl = limiter_new(5, 10, 1000);
    send_allowed(rl, "k", T0, 5);
    send_allowed(rl, "k", T0 + 10 * SEC, 5);
    assert_i64_eq(allowed(rl, "k", T0 + 10 * SEC), 0);
    ratelimiter_free(rl);
}

/* ---- the memory bound ---- */

/*
 * max_keys 64 gives the smallest table (16 live keys per shard), so a flood
 * of distinct keys compacts constantly. A hot key that was exhausted and is
 * touched often must stay exhausted: if compaction dropped it, it would be
 * re-admitted as fresh.
 */
static void test_flood_of_keys_does_not_reset_a_hot_key(void **state) {
    struct ratelimiter *rl = limiter_new(2, 60, 64);
    int64_t now = T0;
    send_allowed(rl, "hot", now, 2);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        now++;
        snprintf(key, sizeof(key), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
        if (!allowed(rl, key, now))
            fail_msg("fresh key %s was refused at flood step %d", key, i);
        if (i % 8 == 0 && allowed(rl, "hot", now))
            fail_msg("the exhausted hot key was admitted again at flood step %d", i);
    }
    ratelimiter_free(rl);
}

/*
 * After 1000 keys through the smallest table, the 100 most recent have at
 * most a few newer keys in their shard, so each survived every compaction
 * since it was inserted and must still be exhausted.
 */
static void test_recent_keys_keep_their_state_across_compactions(void **state) {
    struct ratelimiter *rl = limiter_new(1, 60, 64);
    char key[32];
    int64_t now = T0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        send_allowed(rl, key, ++now, 1);
    }
    for (int i = 900; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (allowed(rl, key, now))
            fail_msg("key %s, exhausted at step %d of 1000, was admitted again", key, i);
    }
    ratelimiter_free(rl);
}

static void test_hot_key_refills_normally_after_a_flood(void **state) {
    struct ratelimiter *rl = limiter_new(2, 60, 64);
    int64_t now = T0;
    send_allowed(rl, "hot", now, 2);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        allowed(rl, key, ++now);
        if (i % 8 == 0)
            allowed(rl, "hot", now);
    }
    now = T0 + 60 * SEC;
    send_allowed(rl, "hot", now, 2);
    assert_i64_eq(allowed(rl, "hot", now), 0);
    ratelimiter_free(rl);
}

static void test_flood_over_time_recycles_recovered_keys(void **state) {
    struct ratelimiter *rl = limiter_new(2, 1, 64); /* a key recovers 0.5 s after its request */
    char key[32];
    int64_t now = T0;
    for (int i = 0; i < 100000; i++) {
        now += 1000; /* 1 ms */
        snprintf(key, sizeof(key), "k%d", i);
        if (!allowed(rl, key, now))
            fail_msg("fresh key %s was refused at step %d", key, i);
    }
    send_allowed(rl, "hot", now, 2);
    assert_i64_eq(allowed(rl, "hot", now), 0);
    ratelimiter_free(rl);
}

/* ---- long keys ---- */

static void test_long_key_is_limited(void **state) {
    struct ratelimiter *rl = limiter_new(1, 60, 64);
    char k[1000];
    memset(k, 'x', sizeof(k) - 1);
    k[sizeof(k) - 1] = '\0';
    assert_i64_eq(allowed(rl, k, T0), 1);
    assert_i64_eq(allowed(rl, k, T0), 0);
    ratelimiter_free(rl);
}

static void test_long_keys_differing_early_are_independent(void **state) {
    struct ratelimiter *rl = limiter_new(1, 60, 64);
    char a[200], b[200];
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[0] = 'y';
    assert_i64_eq(allowed(rl, a, T0), 1);
    assert_i64_eq(allowed(rl, b, T0), 1);
    ratelimiter_free(rl);
}

/*
 * The per-account login limiter (svc/sessions.c) keys on "org/username",
 * each part up to 63 bytes. With a 63-byte organisation name every user of
 * that organisation must still have a bucket of their own.
 */
static void test_long_keys_differing_after_64_bytes_are_independent(void **state) {
    struct ratelimiter *rl = limiter_new(1, 300, 64);
    char org[64], alice[160], bob[160];
    memset(org, 'o', 63);
    org[63] = '\0';
    snprintf(alice, sizeof(alice), "%s/alice", org);
    snprintf(bob, sizeof(bob), "%s/bob", org);
    assert_i64_eq(allowed(rl, alice, T0), 1);
    assert_i64_eq(allowed(rl, alice, T0), 0);
    if (!allowed(rl, bob, T0))
        fail_msg("key \"<63 x o>/bob\" (%zu bytes) was refused after \"<63 x o>/alice\" (%zu bytes) used its quota",
                 strlen(bob), strlen(alice));
    ratelimiter_free(rl);
}

/* ---- contention ---- */

#define THREADS 4
#define ATTEMPTS 25000
#define CONTENDED_QUOTA 50000 /* large, so admissions themselves run contended for long */

struct contender {
    struct ratelimiter *rl;
    pthread_barrier_t *start;
    int granted;
};

static void *contender_main(void *arg) {
    struct contender *c = arg;
    pthread_barrier_wait(c->start);
    for (int i = 0; i < ATTEMPTS; i++)
        c->granted += allowed(c->rl, "shared", T0);
    return NULL;
}

static void test_no_over_admission_under_contention(void **state) {
    struct ratelimiter *rl = limiter_new(CONTENDED_QUOTA, 60, 1000);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    struct contender c[THREADS];
    for (int i = 0; i < THREADS; i++) {
        c[i] = (struct contender){.rl = rl, .start = &start};
        assert_i64_eq(pthread_create(&t[i], NULL, contender_main, &c[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += c[i].granted;
    }
    assert_i64_eq(total, CONTENDED_QUOTA);
    pthread_barrier_destroy(&start);
    ratelimiter_free(rl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_zero_always_allows),
        cmocka_unit_test(test_quota_zero_allows_any_number_of_keys),
        cmocka_unit_test(test_fresh_key_gets_exactly_quota_in_a_burst),
        cmocka_unit_test(test_refused_requests_do_not_push_the_key_back),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_keys_are_compared_by_length_too),
        cmocka_unit_test(test_nothing_refills_before_the_emission_interval),
        cmocka_unit_test(test_one_request_refills_per_emission_interval),
        cmocka_unit_test(test_full_quota_is_back_after_the_window),
        cmocka_unit_test(test_flood_of_keys_does_not_reset_a_hot_key),
        cmocka_unit_test(test_recent_keys_keep_their_state_across_compactions),
        cmocka_unit_test(test_hot_key_refills_normally_after_a_flood),
        cmocka_unit_test(test_flood_over_time_recycles_recovered_keys),
        cmocka_unit_test(test_long_key_is_limited),
        cmocka_unit_test(test_long_keys_differing_early_are_independent),
        cmocka_unit_test(test_long_keys_differing_after_64_bytes_are_independent),
        cmocka_unit_test(test_no_over_admission_under_contention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
