/*
 * test_arena.c - unit tests for the bump allocator (lib/arena.h):
 * alignment, zeroing, growth past one block, large requests, copies, and
 * the max it must never pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "lib/arena.h"

#include "unit_assert.h"

static void test_allocations_are_aligned_zeroed_and_distinct(void **state) {
    (void)state;
    struct arena *a = arena_new(0);
    assert_non_null(a);
    unsigned char *prev = NULL;
    for (size_t n = 0; n < 3000; n++) {
        unsigned char *p = arena_alloc(a, n % 97);
        assert_non_null(p);
        assert_i64_eq((uintptr_t)p % alignof(max_align_t), 0);
        for (size_t i = 0; i < n % 97; i++)
            assert_i64_eq(p[i], 0);
        memset(p, 0xAB, n % 97);
        assert_true(p != prev);
        prev = p;
    }
    assert_true(arena_used(a) >= 3000 * alignof(max_align_t));
    arena_free(a);
}

static void test_large_requests_keep_earlier_data(void **state) {
    (void)state;
    struct arena *a = arena_new(0);
    char *small = arena_strndup(a, "kept", 4);
    char *big = arena_alloc(a, 1 << 20);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    char *after = arena_strndup(a, "after", 5);
    assert_string_equal(small, "kept");
    assert_string_equal(after, "after");
    arena_free(a);
    arena_free(NULL);
}

static void test_strndup_copies_nul_bytes(void **state) {
    (void)state;
    struct arena *a = arena_new(0);
    char *s = arena_strndup(a, "a\0b", 3);
    assert_memory_equal(s, "a\0b", 4);
    char *e = arena_strndup(a, NULL, 0);
    assert_string_equal(e, "");
    arena_free(a);
}

static void test_max_is_never_passed(void **state) {
    (void)state;
    struct arena *a = arena_new(4096);
    size_t got = 0;
    while (arena_alloc(a, 100) != NULL)
        got++;
    assert_true(arena_used(a) <= 4096);
    assert_true(got >= 4096 / 128 - 1);
    /* a failure leaves the arena usable for what still fits */
    assert_null(arena_alloc(a, 4096));
    assert_null(arena_alloc(a, SIZE_MAX));
    assert_null(arena_alloc(a, SIZE_MAX / 2 + 1));
    arena_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocations_are_aligned_zeroed_and_distinct),
        cmocka_unit_test(test_large_requests_keep_earlier_data),
        cmocka_unit_test(test_strndup_copies_nul_bytes),
        cmocka_unit_test(test_max_is_never_passed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
