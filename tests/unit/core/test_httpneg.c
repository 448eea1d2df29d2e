/*
 * test_httpneg.c - unit tests for If-None-Match, Accept-Encoding and Accept
 * (core/httpneg.h): weak comparison, lists and "*", qvalues, and slices
 * that are not NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/httpneg.h"

#include "unit_assert.h"

static int listed(const char *header, const char *etag) {
    return httpneg_etag_listed(header, strlen(header), etag);
}

static int q(const char *header, const char *coding) {
    return httpneg_coding_q(header, strlen(header), coding);
}

static int mq(const char *header, const char *type, int *named) {
    return httpneg_media_q(header, strlen(header), type, named);
}

static void test_media_ranges_most_specific_wins(void **state) {
    int named = -1;
    const char *gr = "application/graphql-response+json";
    assert_i64_eq(mq("application/json", "application/json", &named), 1000);
    assert_i64_eq(named, 1);
    assert_i64_eq(mq("application/json", gr, &named), -1);
    assert_i64_eq(named, 0);
    /* A wildcard matches, but says so. */
    assert_i64_eq(mq("*/*", gr, &named), 1000);
    assert_i64_eq(named, 0);
    assert_i64_eq(mq("application/*;q=0.4", gr, &named), 400);
    assert_i64_eq(named, 0);
    /* The most specific range decides, wherever it stands in the list. */
    assert_i64_eq(mq("application/graphql-response+json;q=0.9, */*;q=0.1", gr, &named), 900);
    assert_i64_eq(named, 1);
    assert_i64_eq(mq("*/*;q=0.1, application/json;q=0", "application/json", NULL), 0);
    assert_i64_eq(mq("application/*, application/json;q=0.2", "application/json", NULL), 200);
    /* Case does not matter; parameters other than q are not compared. */
    assert_i64_eq(mq("Application/JSON; charset=utf-8", "application/json", &named), 1000);
    assert_i64_eq(named, 1);
    /* Neither a prefix nor a longer name matches. */
    assert_i64_eq(mq("application/jsonx, application/js", "application/json", NULL), -1);
    assert_i64_eq(mq("text/*", "application/json", NULL), -1);
    /* A garbled q refuses. */
    assert_i64_eq(mq("application/json;q=2", "application/json", NULL), 0);
    assert_i64_eq(mq("", "application/json", NULL), -1);
}

static void test_etag_exact_and_weak(void **state) {
    assert_i64_eq(listed("\"abc\"", "\"abc\""), 1);
    assert_i64_eq(listed("W/\"abc\"", "\"abc\""), 1);
    assert_i64_eq(listed("\"abc\"", "W/\"abc\""), 1);
    assert_i64_eq(listed("\"abd\"", "\"abc\""), 0);
    assert_i64_eq(listed("\"abc-gz\"", "\"abc\""), 0);
    assert_i64_eq(listed("\"ab\"", "\"abc\""), 0);
    /* Quotes are part of the tag: a bare token is not an entity-tag. */
    assert_i64_eq(listed("abc", "\"abc\""), 0);
    assert_i64_eq(listed("w/\"abc\"", "\"abc\""), 0);
}

static void test_etag_lists_and_star(void **state) {
    assert_i64_eq(listed("\"x\", \"abc\"", "\"abc\""), 1);
    assert_i64_eq(listed("\"x\",W/\"abc\" ,\"y\"", "\"abc\""), 1);
    assert_i64_eq(listed(" , ,\t\"abc\"\t", "\"abc\""), 1);
    assert_i64_eq(listed("\"x\", \"y\"", "\"abc\""), 0);
    assert_i64_eq(listed("*", "\"abc\""), 1);
    assert_i64_eq(listed("\"x\", *", "\"abc\""), 1);
    assert_i64_eq(listed("**", "\"abc\""), 0);
    assert_i64_eq(listed("", "\"abc\""), 0);
    /* A malformed element does not match, the next one still may. */
    assert_i64_eq(listed("\"a\"b\", \"abc\"", "\"abc\""), 1);
    assert_i64_eq(listed("\"abc", "\"abc\""), 0);
    assert_i64_eq(listed("\"", "\"abc\""), 0);
}

static void test_etag_reads_only_its_slice(void **state) {
    /* The match would need the bytes past n. */
    const char *v = "\"abc\"";
    assert_i64_eq(httpneg_etag_listed(v, 4, "\"abc\""), 0);
    char *exact = malloc(5);
    memcpy(exact, "\"abc\"", 5); /* no NUL: ASan sees a read past it */
    assert_i64_eq(httpneg_etag_listed(exact, 5, "\"abc\""), 1);
    assert_i64_eq(httpneg_coding_q(exact, 5, "gzip"), -1);
    free(exact);
    char *gz = malloc(4);
    memcpy(gz, "gzip", 4);
    assert_i64_eq(httpneg_coding_q(gz, 4, "gzip"), 1000);
    assert_i64_eq(httpneg_coding_q(gz, 3, "gzip"), -1);
    free(gz);
}

static void test_coding_named(void **state) {
    assert_i64_eq(q("gzip", "gzip"), 1000);
    assert_i64_eq(q("gzip, deflate, br", "gzip"), 1000);
    assert_i64_eq(q("deflate, GZIP", "gzip"), 1000);
    assert_i64_eq(q("br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip"), 800);
    assert_i64_eq(q("br;q=1.0, gzip;q=0.8, *;q=0.1", "*"), 100);
    assert_i64_eq(q("gzip ; q=0.5", "gzip"), 500);
    assert_i64_eq(q("gzip;Q=0.25", "gzip"), 250);
    assert_i64_eq(q("gzip;level=1;q=0.125", "gzip"), 125);
    assert_i64_eq(q("deflate", "gzip"), -1);
    assert_i64_eq(q("", "gzip"), -1);
    assert_i64_eq(q("gzipx, xgzip", "gzip"), -1);
    assert_i64_eq(q("identity", "gzip"), -1);
}

static void test_coding_refused(void **state) {
    assert_i64_eq(q("gzip;q=0", "gzip"), 0);
    assert_i64_eq(q("gzip;q=0.000", "gzip"), 0);
    assert_i64_eq(q("gzip;q=0.001", "gzip"), 1);
    assert_i64_eq(q("gzip;q=1", "gzip"), 1000);
    assert_i64_eq(q("gzip;q=1.000", "gzip"), 1000);
    /* Garbled qvalues refuse rather than accept. */
    assert_i64_eq(q("gzip;q=1.5", "gzip"), 0);
    assert_i64_eq(q("gzip;q=2", "gzip"), 0);
    assert_i64_eq(q("gzip;q=0.5000", "gzip"), 0);
    assert_i64_eq(q("gzip;q=", "gzip"), 0);
    assert_i64_eq(q("gzip;q=.5", "gzip"), 0);
    assert_i64_eq(q("gzip;q=0.x", "gzip"), 0);
    assert_i64_eq(q("gzip;q", "gzip"), 0);
    assert_i64_eq(q("gzip;q =0.5", "gzip"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_ranges_most_specific_wins),
        cmocka_unit_test(test_etag_exact_and_weak),
        cmocka_unit_test(test_etag_lists_and_star),
        cmocka_unit_test(test_etag_reads_only_its_slice),
        cmocka_unit_test(test_coding_named),
        cmocka_unit_test(test_coding_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
