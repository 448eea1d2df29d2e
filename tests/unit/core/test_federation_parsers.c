/*
 * test_federation_parsers.c - unit tests for what token exchange reads from
 * outside: the form parser (core/form.h: percent-decoding, '+', duplicates
 * and malformed input refused) and the claim-rule matcher
 * (core/claim_rules.h: exact string equality on every named claim, first
 * match wins, shapes refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/claim_rules.h"
#include "core/errors.h"
#include "core/form.h"

#include "unit_assert.h"

static int parse(const char *body, struct form *f, struct lk_error *err) {
    memset(err, 0, sizeof(*err));
    return form_parse(body, strlen(body), f, err);
}

static void test_form_decodes(void **state) {
    (void)state;
    struct form f;
    struct lk_error err;
    assert_int_equal(parse("grant_type=urn%3Aietf%3aparams&a+b=c+d%2Be&empty=&flag&&x=%C3%A9&", &f, &err), 0);
    assert_int_equal(f.count, 5);
    assert_string_equal(form_get(&f, "grant_type"), "urn:ietf:params");
    assert_string_equal(form_get(&f, "a b"), "c d+e");
    assert_string_equal(form_get(&f, "empty"), "");
    assert_string_equal(form_get(&f, "flag"), "");
    assert_string_equal(form_get(&f, "x"), "\xc3\xa9");
    assert_int_equal(f.fields[4].value_len, 2);
    assert_null(form_get(&f, "missing"));
    form_done(&f);
    assert_int_equal(parse("", &f, &err), 0);
    assert_int_equal(f.count, 0);
    form_done(&f);
    /* '=' inside a value is the value's. */
    assert_int_equal(parse("t=a.b.c==", &f, &err), 0);
    assert_string_equal(form_get(&f, "t"), "a.b.c==");
    form_done(&f);
}

static void refused(const char *body, const char *msg) {
    struct form f;
    struct lk_error err;
    assert_int_equal(parse(body, &f, &err), LK_EINVAL);
    if (strstr(lk_error_message(&err), msg) == NULL)
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", body, lk_error_message(&err), msg);
    form_done(&f);
}

static void test_form_refuses(void **state) {
    (void)state;
    refused("a=1&a=2", "given more than once");
    refused("a=1&%61=2", "given more than once"); /* the same name, encoded */
    refused("a=%zz", "percent-encoding");
    refused("a=%4", "percent-encoding");
    refused("a=%", "percent-encoding");
    refused("a=%00", "percent-encoding");
    refused("=1", "empty name");
    refused("%zz=1", "malformed");
    char big[200];
    memset(big, 'n', 100);
    memcpy(big + 100, "=1", 3);
    refused(big, "name of more than");
    refused("a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1&q=1", "more than 16 fields");
    /* A value is never echoed. */
    struct form f;
    struct lk_error err;
    assert_int_equal(parse("secret=%zzSECRET", &f, &err), LK_EINVAL);
    assert_null(strstr(lk_error_message(&err), "SECRET"));
    form_done(&f);
}

static json_t *j(const char *text) {
    json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
    assert_non_null(v);
    return v;
}

static void test_rules_match(void **state) {
    (void)state;
    json_t *rules = j("[{\"claims\": {\"sub\": \"repo:acme/api:ref:refs/heads/main\", \"repository_owner\": \"acme\"},"
                      "  \"team\": \"payments\", \"service_account\": \"deployer\"},"
                      " {\"claims\": {\"sub\": \"repo:acme/api:ref:refs/heads/main\"},"
                      "  \"team\": \"payments\", \"service_account\": \"reader\"},"
                      " {\"claims\": {\"aud\": \"x\"}, \"team\": \"t\", \"service_account\": \"s\"}]");
    struct lk_error err = {0};
    assert_int_equal(claim_rules_check(rules, &err), 0);
    /* All named claims must match; the first matching rule wins. */
    json_t *c = j("{\"sub\": \"repo:acme/api:ref:refs/heads/main\", \"repository_owner\": \"acme\", \"x\": 1}");
    assert_int_equal(claim_rules_match(rules, c), 0);
    json_decref(c);
    c = j("{\"sub\": \"repo:acme/api:ref:refs/heads/main\", \"repository_owner\": \"evil\"}");
    assert_int_equal(claim_rules_match(rules, c), 1);
    json_decref(c);
    /* Exact: no prefix, no case folding, no trailing bytes, strings only. */
    const char *misses[] = {
        "{\"sub\": \"repo:acme/api:ref:refs/heads/main2\"}",
        "{\"sub\": \"repo:acme/api:ref:refs/heads/mai\"}",
        "{\"sub\": \"REPO:acme/api:ref:refs/heads/main\"}",
        "{\"sub\": [\"repo:acme/api:ref:refs/heads/main\"]}",
        "{\"sub\": \"repo:acme/api:ref:refs/heads/main\\u0000x\"}",
        "{\"aud\": [\"x\"]}",
        "{}",
    };
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        c = j(misses[i]);
        if (claim_rules_match(rules, c) != -1)
            fail_msg("%s matched", misses[i]);
        json_decref(c);
    }
    c = j("{\"aud\": \"x\"}");
    assert_int_equal(claim_rules_match(rules, c), 2);
    json_decref(c);
    json_decref(rules);
}

static void rules_refused(const char *text, const char *msg) {
    json_t *rules = j(text);
    struct lk_error err = {0};
    assert_int_equal(claim_rules_check(rules, &err), LK_EINVAL);
    if (strstr(lk_error_message(&err), msg) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", text, lk_error_message(&err), msg);
    json_decref(rules);
}

static void test_rules_shape(void **state) {
    (void)state;
    rules_refused("[]", "rules: expected an array");
    rules_refused("{}", "rules: expected an array");
    rules_refused("[1]", "rules[0]: expected an object");
    rules_refused("[{\"claims\": {}, \"team\": \"t\", \"service_account\": \"s\"}]", "rules[0].claims");
    rules_refused("[{\"claims\": {\"sub\": \"\"}, \"team\": \"t\", \"service_account\": \"s\"}]", "non-empty string");
    rules_refused("[{\"claims\": {\"sub\": 5}, \"team\": \"t\", \"service_account\": \"s\"}]", "non-empty string");
    rules_refused("[{\"claims\": {\"sub\": \"x\"}, \"service_account\": \"s\"}]", "rules[0].team");
    rules_refused("[{\"claims\": {\"sub\": \"x\"}, \"team\": \"t\"}]", "rules[0].service_account");
    rules_refused("[{\"claims\": {\"sub\": \"x\"}, \"team\": \"t\", \"service_account\": \"s\", \"any\": true}]",
                  "unknown member");
    rules_refused("[{\"claims\": {\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\","
                  "\"h\":\"1\",\"i\":\"1\"}, \"team\": \"t\", \"service_account\": \"s\"}]",
                  "1 to 8 claims");
    /* A rule without claims can never sneak through the matcher either. */
    json_t *rules = j("[{\"claims\": {}, \"team\": \"t\", \"service_account\": \"s\"}]");
    json_t *c = j("{\"sub\": \"x\"}");
    assert_int_equal(claim_rules_match(rules, c), -1);
    json_decref(c);
    json_decref(rules);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_decodes),
        cmocka_unit_test(test_form_refuses),
        cmocka_unit_test(test_rules_match),
        cmocka_unit_test(test_rules_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
