/*
 * test_refresh.c - unit tests for the agent's renewal schedule
 * (lib/refresh.h) and its atomic token-file write (lib/atomicfile.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/refresh.h"

#include "unit_assert.h"

#define HOUR_MS 3600000

static void test_renews_at_80_percent_without_jitter(void **state) {
    (void)state;
    /* r = 0.5 is no jitter: 80% of an hour from issuance. */
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 0, 0.8, 0.5), 2880000);
    /* Measured from now, not from issuance. */
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 1000000, 0.8, 0.5), 1880000);
    /* Past the renewal time: now. */
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 3000000, 0.8, 0.5), 0);
    /* A fraction out of range is the default. */
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 0, 0, 0.5), 2880000);
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 0, 1.5, 0.5), 2880000);
}

static void test_jitter_stays_within_five_percent(void **state) {
    (void)state;
    int64_t lo = refresh_delay_ms(0, HOUR_MS, 0, 0.8, 0.0);
    int64_t hi = refresh_delay_ms(0, HOUR_MS, 0, 0.8, 0.999999);
    assert_i64_eq(lo, 2700000);                  /* 75% */
    assert_true(hi >= 3059990 && hi <= 3060000); /* 85% */
    for (int i = 0; i < 100; i++) {
        int64_t d = refresh_delay_ms(0, HOUR_MS, 0, 0.8, i / 100.0);
        assert_true(d >= lo && d <= hi);
    }
    /* Out-of-range randomness is clamped. */
    assert_i64_eq(refresh_delay_ms(0, HOUR_MS, 0, 0.8, -3), lo);
    assert_true(refresh_delay_ms(0, HOUR_MS, 0, 0.8, 7) <= hi);
}

static void test_never_at_or_after_expiry(void **state) {
    (void)state;
    /* At fraction 1 the renewal is a second before expiry. */
    assert_i64_eq(refresh_delay_ms(0, 10000, 0, 1.0, 0.999), 9000);
    /* Expired or empty lifetimes: now. */
    assert_i64_eq(refresh_delay_ms(0, 10000, 10000, 0.8, 0.5), 0);
    assert_i64_eq(refresh_delay_ms(5000, 5000, 0, 0.8, 0.5), 0);
    assert_i64_eq(refresh_delay_ms(5000, 1000, 0, 0.8, 0.5), 0);
}

static void test_backoff_doubles_to_a_minute(void **state) {
    (void)state;
    assert_i64_eq(refresh_backoff_ms(0, 0.5), 0);
    int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_i64_eq(refresh_backoff_ms(i + 1, 0.5), want[i]);
    assert_i64_eq(refresh_backoff_ms(1, 0.0), 800);
    assert_true(refresh_backoff_ms(1, 0.999999) <= 1200 && refresh_backoff_ms(1, 0.999999) >= 1199);
    assert_i64_eq(refresh_backoff_ms(7, 0.0), 48000);
    assert_i64_eq(refresh_backoff_ms(7, 0.999999), 60000); /* never above the cap */
    assert_i64_eq(refresh_backoff_ms(4000000000u, 0.5), 60000);
}

static void test_atomic_write_replaces_whole_with_mode(void **state) {
    (void)state;
    char dir[] = "/tmp/lk-atomicfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[128];
    snprintf(path, sizeof(path), "%s/token", dir);
    assert_int_equal(atomicfile_write(path, "first", 5, 0600, err, sizeof(err)), 0);
    assert_int_equal(atomicfile_write(path, "second!", 7, 0600, err, sizeof(err)), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[32] = {0};
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 7);
    fclose(f);
    assert_string_equal(buf, "second!");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Nothing left beside it. */
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 1);
    /* A directory that does not exist: an error naming the step, old file intact. */
    char bad[256];
    snprintf(bad, sizeof(bad), "%s/missing/token", dir);
    assert_int_equal(atomicfile_write(bad, "x", 1, 0600, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "create a temporary file"));
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renews_at_80_percent_without_jitter),
        cmocka_unit_test(test_jitter_stays_within_five_percent),
        cmocka_unit_test(test_never_at_or_after_expiry),
        cmocka_unit_test(test_backoff_doubles_to_a_minute),
        cmocka_unit_test(test_atomic_write_replaces_whole_with_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
