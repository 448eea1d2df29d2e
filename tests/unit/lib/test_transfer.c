/*
 * test_transfer.c - unit tests for lib/transfer.h's bounded answer body
 * (transfer_body_write, the libcurl write callback the agent and the
 * federation's key-set fetch share).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/transfer.h"

#include "unit_assert.h"

static void test_chunks_accumulate_up_to_the_limit(void **state) {
    (void)state;
    char buf[8];
    struct transfer_body b = {buf, sizeof(buf), 0, 0};
    char abc[] = "abc", defgh[] = "defgh";
    assert_i64_eq(transfer_body_write(abc, 1, 3, &b), 3);
    assert_i64_eq(transfer_body_write(defgh, 1, 5, &b), 5); /* exactly the limit is fine */
    assert_i64_eq(b.len, 8);
    assert_false(b.too_big);
    assert_memory_equal(buf, "abcdefgh", 8);
    /* An empty chunk is taken too. */
    assert_i64_eq(transfer_body_write(abc, 1, 0, &b), 0);
    assert_false(b.too_big);
}

static void test_one_byte_over_stops_the_transfer(void **state) {
    (void)state;
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    struct transfer_body b = {buf, 4, 0, 0};
    char abc[] = "abc", de[] = "de";
    assert_i64_eq(transfer_body_write(abc, 1, 3, &b), 3);
    /* Anything but the chunk's size makes libcurl stop with a write error. */
    assert_i64_eq(transfer_body_write(de, 1, 2, &b), 0);
    assert_true(b.too_big);
    assert_i64_eq(b.len, 3);
    /* Nothing was written past what was kept, nor past the limit. */
    assert_memory_equal(buf, "abcxxxxx", 8);
}

static void test_size_times_count_overflow_is_too_big(void **state) {
    (void)state;
    char buf[4];
    struct transfer_body b = {buf, sizeof(buf), 0, 0};
    char one[] = "a";
    assert_i64_eq(transfer_body_write(one, SIZE_MAX / 2, 3, &b), 0);
    assert_true(b.too_big);
    assert_i64_eq(b.len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_accumulate_up_to_the_limit),
        cmocka_unit_test(test_one_byte_over_stops_the_transfer),
        cmocka_unit_test(test_size_times_count_overflow_is_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
