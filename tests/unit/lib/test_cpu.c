/* Unit tests for the CPU helpers: the allowed list is the affinity mask in
 * order, and pinning keeps the calling thread on exactly one CPU or refuses
 * a CPU it may not use without changing anything. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/cpu.h"

static cpu_set_t thread_mask(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
    return set;
}

static void test_allowed_is_the_mask_in_ascending_order(void **state) {
    (void)state;
    static int cpus[CPU_SETSIZE];
    cpu_set_t mask;
    CPU_ZERO(&mask);
    assert_int_equal(sched_getaffinity(0, sizeof(mask), &mask), 0);
    int n = cpu_allowed(cpus);
    assert_int_equal(n, CPU_COUNT(&mask));
    for (int i = 0; i < n; i++) {
        assert_true(CPU_ISSET(cpus[i], &mask));
        if (i > 0)
            assert_true(cpus[i] > cpus[i - 1]);
    }
}

static void *pin_and_report(void *arg) {
    int *io = arg; /* io[0]: the CPU to pin to; io[1]: result; io[2]: CPUs in the mask after; io[3]: is io[0] set */
    io[1] = cpu_pin_self(io[0]);
    cpu_set_t after = thread_mask();
    io[2] = CPU_COUNT(&after);
    io[3] = io[0] >= 0 && io[0] < CPU_SETSIZE && CPU_ISSET(io[0], &after);
    return NULL;
}

static void run_in_thread(int *io) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pin_and_report, io), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_pin_keeps_the_thread_on_that_cpu_alone(void **state) {
    (void)state;
    static int cpus[CPU_SETSIZE];
    int n = cpu_allowed(cpus);
    assert_true(n >= 1);
    int io[4] = {cpus[n - 1], -1, 0, 0};
    run_in_thread(io);
    assert_int_equal(io[1], 0);
    assert_int_equal(io[2], 1);
    assert_true(io[3]);
}

static void test_a_cpu_outside_the_range_is_refused_and_changes_nothing(void **state) {
    (void)state;
    cpu_set_t before = thread_mask();
    int bad[] = {-1, CPU_SETSIZE, CPU_SETSIZE + 7};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int io[4] = {bad[i], 0, 0, 0};
        run_in_thread(io);
        assert_int_equal(io[1], EINVAL);
        assert_int_equal(io[2], CPU_COUNT(&before));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_is_the_mask_in_ascending_order),
        cmocka_unit_test(test_pin_keeps_the_thread_on_that_cpu_alone),
        cmocka_unit_test(test_a_cpu_outside_the_range_is_refused_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
