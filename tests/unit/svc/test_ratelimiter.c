/* Unit tests for the shared rate-limit table: bursts, refill, independent
 * keys, the memory bound, and no over-admission under contention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "svc/ratelimiter.h"

static int allowed(struct ratelimiter *rl, const char *key, int64_t now_us) {
    struct rl_result r;
    ratelimiter_check(rl, key, strlen(key), now_us, &r);
    return r.allowed;
}

static void test_burst_then_refusal_then_refill(void **state) {
    (void)state;
    struct rl_policy p = {5, 10};
    struct ratelimiter *rl = ratelimiter_new(&p, 1000);
    for (int i = 0; i < 5; i++)
        assert_true(allowed(rl, "k", 0));
    struct rl_result r;
    ratelimiter_check(rl, "k", 1, 0, &r);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_true(r.retry_after_s >= 1);
    assert_true(allowed(rl, "k", 2000000)); /* one emission interval (2 s) later */
    assert_false(allowed(rl, "k", 2000000));
    ratelimiter_free(rl);
}

static void test_keys_are_independent(void **state) {
    (void)state;
    struct rl_policy p = {1, 60};
    struct ratelimiter *rl = ratelimiter_new(&p, 1000);
    assert_true(allowed(rl, "a", 0));
    assert_false(allowed(rl, "a", 0));
    assert_true(allowed(rl, "b", 0));
    ratelimiter_free(rl);
}

static void test_disabled_policy_allows_everything(void **state) {
    (void)state;
    struct rl_policy p = {0, 1};
    struct ratelimiter *rl = ratelimiter_new(&p, 16);
    for (int i = 0; i < 1000; i++)
        assert_true(allowed(rl, "k", 0));
    ratelimiter_free(rl);
}

static void test_many_keys_stay_bounded_and_work(void **state) {
    (void)state;
    struct rl_policy p = {2, 60};
    struct ratelimiter *rl = ratelimiter_new(&p, 64);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
        allowed(rl, key, i);
    }
    /* A hot key is still limited correctly after the table compacted. */
    assert_true(allowed(rl, "hot", 200000));
    assert_true(allowed(rl, "hot", 200000));
    assert_false(allowed(rl, "hot", 200000));
    ratelimiter_free(rl);
}

static void test_long_keys(void **state) {
    (void)state;
    struct rl_policy p = {1, 60};
    struct ratelimiter *rl = ratelimiter_new(&p, 64);
    char a[200], b[200];
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    assert_true(allowed(rl, a, 0));
    assert_false(allowed(rl, b, 0)); /* long keys share their prefix's bucket, documented */
    ratelimiter_free(rl);
}

struct contend {
    struct ratelimiter *rl;
    int granted;
};

static void *contend_main(void *arg) {
    struct contend *c = arg;
    for (int i = 0; i < 10000; i++)
        c->granted += allowed(c->rl, "shared", 0);
    return NULL;
}

static void test_no_over_admission_under_contention(void **state) {
    (void)state;
    struct rl_policy p = {100, 60};
    struct ratelimiter *rl = ratelimiter_new(&p, 1000);
    pthread_t t[4];
    struct contend c[4];
    for (int i = 0; i < 4; i++) {
        c[i].rl = rl;
        c[i].granted = 0;
        pthread_create(&t[i], NULL, contend_main, &c[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += c[i].granted;
    }
    assert_int_equal(total, 100);
    ratelimiter_free(rl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refusal_then_refill),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_disabled_policy_allows_everything),
        cmocka_unit_test(test_many_keys_stay_bounded_and_work),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_no_over_admission_under_contention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
