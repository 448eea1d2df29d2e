/* Unit tests for the streaming JSON writer: output is exactly what jansson
 * would parse back, escaping is right, and overflow is reported, not written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/jsonw.h"

static void assert_output(struct jsonw *w, const char *want) {
    size_t len = 0;
    assert_int_equal(jsonw_finish(w, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(w->buf, want, len);
}

static void test_nested_object_with_commas(void **state) {
    (void)state;
    char buf[256];
    struct jsonw w;
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_obj_begin(&w);
    jsonw_key(&w, "a");
    jsonw_int(&w, -42);
    jsonw_key(&w, "b");
    jsonw_arr_begin(&w);
    jsonw_str(&w, "x");
    jsonw_null(&w);
    jsonw_bool(&w, 1);
    jsonw_raw(&w, "[1,2]", 5);
    jsonw_arr_end(&w);
    jsonw_key(&w, "c");
    jsonw_obj_begin(&w);
    jsonw_obj_end(&w);
    jsonw_key(&w, "d");
    jsonw_str_or_null(&w, "");
    jsonw_obj_end(&w);
    assert_output(&w, "{\"a\":-42,\"b\":[\"x\",null,true,[1,2]],\"c\":{},\"d\":null}");
}

/* The calls of one document, in either mode. */
static void write_sample(struct jsonw *w) {
    jsonw_obj_begin(w);
    jsonw_key(w, "a");
    jsonw_int(w, -42);
    jsonw_key(w, "b");
    jsonw_arr_begin(w);
    jsonw_str(w, "x\"y\\\n\xc3\xa9");
    jsonw_null(w);
    jsonw_bool(w, 0);
    jsonw_raw(w, "[1,{\"k\":2}]", 11);
    jsonw_strn(w, "bad\xff", 4);
    jsonw_arr_end(w);
    jsonw_key(w, "c");
    jsonw_obj_begin(w);
    jsonw_obj_end(w);
    jsonw_key(w, "d");
    jsonw_str_or_null(w, NULL);
    jsonw_obj_end(w);
}

static void test_tree_mode_builds_what_text_mode_writes(void **state) {
    (void)state;
    char buf[512];
    struct jsonw text, tree;
    size_t len;
    jsonw_init(&text, buf, sizeof(buf));
    write_sample(&text);
    assert_int_equal(jsonw_finish(&text, &len), 0);
    json_t *parsed = json_loadb(buf, len, 0, NULL);
    assert_non_null(parsed);
    jsonw_init_tree(&tree);
    write_sample(&tree);
    json_t *built = jsonw_finish_tree(&tree);
    assert_non_null(built);
    assert_true(json_equal(parsed, built));
    /* A byte outside UTF-8 becomes the same text \xNN in both. */
    assert_string_equal(json_string_value(json_array_get(json_object_get(built, "b"), 4)), "bad\\xff");
    /* Text mode refuses to hand out a tree, and tree mode text. */
    assert_null(jsonw_finish_tree(&text));
    assert_int_equal(jsonw_finish(&tree, &len), -1);
    json_decref(parsed);
    json_decref(built);
}

static void test_tree_mode_refuses_what_text_mode_refuses(void **state) {
    (void)state;
    struct jsonw w;
    /* Unbalanced, or closed with the other bracket. */
    jsonw_init_tree(&w);
    jsonw_obj_begin(&w);
    assert_null(jsonw_finish_tree(&w));
    jsonw_init_tree(&w);
    jsonw_obj_begin(&w);
    jsonw_arr_end(&w);
    assert_null(jsonw_finish_tree(&w));
    /* A member without a key, two values at the top, raw text that is not JSON. */
    jsonw_init_tree(&w);
    jsonw_obj_begin(&w);
    jsonw_int(&w, 1);
    jsonw_obj_end(&w);
    assert_null(jsonw_finish_tree(&w));
    jsonw_init_tree(&w);
    jsonw_int(&w, 1);
    jsonw_int(&w, 2);
    assert_null(jsonw_finish_tree(&w));
    jsonw_init_tree(&w);
    jsonw_raw(&w, "{nope", 5);
    assert_null(jsonw_finish_tree(&w));
    /* Nothing at all. */
    jsonw_init_tree(&w);
    assert_null(jsonw_finish_tree(&w));
    /* Deeper than JSONW_MAX_DEPTH. */
    jsonw_init_tree(&w);
    for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
        jsonw_arr_begin(&w);
    for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
        jsonw_arr_end(&w);
    assert_null(jsonw_finish_tree(&w));
}

static void test_escapes_round_trip_through_jansson(void **state) {
    (void)state;
    const char in[] = "q\"b\\s/n\nt\tc\x01\x1f\x7f é";
    char buf[256];
    struct jsonw w;
    size_t len;
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_arr_begin(&w);
    jsonw_strn(&w, in, sizeof(in) - 1);
    jsonw_arr_end(&w);
    assert_int_equal(jsonw_finish(&w, &len), 0);
    json_error_t err;
    json_t *v = json_loadb(buf, len, 0, &err);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_array_get(v, 0)), in);
    json_decref(v);
}

static void test_bytes_outside_utf8_are_shown_not_copied(void **state) {
    (void)state;
    /* A raw 0xE9 (Latin-1 'é') and a UTF-8 sequence cut short: the output
     * stays valid JSON, and well-formed UTF-8 passes as it is. */
    const char in[] = "v\xe9"
                      "1 caf\xc3\xa9 \xe2\x82";
    char buf[128];
    struct jsonw w;
    size_t len;
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_arr_begin(&w);
    jsonw_strn(&w, in, sizeof(in) - 1);
    jsonw_arr_end(&w);
    assert_output(&w, "[\"v\\\\xe91 caf\xc3\xa9 \\\\xe2\\\\x82\"]");
    assert_int_equal(jsonw_finish(&w, &len), 0);
    json_error_t err;
    json_t *v = json_loadb(buf, len, 0, &err);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_array_get(v, 0)), "v\\xe91 caf\xc3\xa9 \\xe2\\x82");
    json_decref(v);
}

static void test_int_extremes(void **state) {
    (void)state;
    char buf[64];
    struct jsonw w;
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_arr_begin(&w);
    jsonw_int(&w, INT64_MIN);
    jsonw_int(&w, 0);
    jsonw_int(&w, INT64_MAX);
    jsonw_arr_end(&w);
    assert_output(&w, "[-9223372036854775808,0,9223372036854775807]");
}

static void test_overflow_is_reported_and_never_written_past_cap(void **state) {
    (void)state;
    char buf[16];
    memset(buf, 'Z', sizeof(buf));
    struct jsonw w;
    size_t len;
    jsonw_init(&w, buf, 8);
    jsonw_arr_begin(&w);
    jsonw_str(&w, "this does not fit");
    jsonw_arr_end(&w);
    assert_int_equal(jsonw_finish(&w, &len), -1);
    for (size_t i = 8; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'Z');
}

static void test_unbalanced_nesting_fails(void **state) {
    (void)state;
    char buf[16];
    struct jsonw w;
    size_t len;
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_obj_begin(&w);
    assert_int_equal(jsonw_finish(&w, &len), -1);
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_arr_end(&w);
    assert_int_equal(jsonw_finish(&w, &len), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_object_with_commas),
        cmocka_unit_test(test_tree_mode_builds_what_text_mode_writes),
        cmocka_unit_test(test_tree_mode_refuses_what_text_mode_refuses),
        cmocka_unit_test(test_escapes_round_trip_through_jansson),
        cmocka_unit_test(test_bytes_outside_utf8_are_shown_not_copied),
        cmocka_unit_test(test_int_extremes),
        cmocka_unit_test(test_overflow_is_reported_and_never_written_past_cap),
        cmocka_unit_test(test_unbalanced_nesting_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
