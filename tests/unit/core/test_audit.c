/*
 * test_audit.c - unit tests for audit records and their hash chain
 * (core/audit.h): the canonical encoding covers every field, the chain
 * check finds changed, missing and inserted records, fields from the
 * network are made safe, and the API encoding is valid JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "core/errors.h"

static void fill(struct audit_rec *r, int64_t seq, const char *prev) {
    memset(r, 0, sizeof(*r));
    r->seq = seq;
    r->time_ms = INT64_C(1795000000123);
    snprintf(r->request_id, sizeof(r->request_id), "req-%lld", (long long)seq);
    snprintf(r->actor_type, sizeof(r->actor_type), "user");
    snprintf(r->actor_name, sizeof(r->actor_name), "alice");
    snprintf(r->actor_org, sizeof(r->actor_org), "acme");
    snprintf(r->token_id, sizeof(r->token_id), "lk_user_AbCdEfGhIjKl");
    snprintf(r->org, sizeof(r->org), "acme");
    snprintf(r->org_id, sizeof(r->org_id), "org_0123456789abcdef0123");
    snprintf(r->team, sizeof(r->team), "web");
    snprintf(r->action, sizeof(r->action), "token.create");
    snprintf(r->method, sizeof(r->method), "POST");
    snprintf(r->resource, sizeof(r->resource), "/v1/tokens");
    snprintf(r->outcome, sizeof(r->outcome), "success");
    r->status = 200;
    snprintf(r->source_ip, sizeof(r->source_ip), "127.0.0.1");
    snprintf(r->user_agent, sizeof(r->user_agent), "curl/8 \"x\" \\");
    memcpy(r->prev_hash, prev, AUDIT_HASH_HEX);
    assert_int_equal(audit_seal(r), 0);
}

/* Changing any one hashed field changes the hash. */
static void test_every_field_is_hashed(void **state) {
    struct audit_rec base, r;
    fill(&base, 7, audit_genesis_hash);
    char *fields[] = {r.request_id,      r.actor_type, r.actor_name, r.actor_org, r.token_id,
                      r.credential_hmac, r.org,        r.org_id,     r.team,      r.action,
                      r.method,          r.resource,   r.outcome,    r.source_ip, r.user_agent};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        r = base;
        /* "" becomes "Z": fields are zeroed past their end, so it stays terminated. */
        fields[i][0] = fields[i][0] == 'Z' ? 'Y' : 'Z';
        assert_int_equal(audit_seal(&r), 0);
        if (strcmp(r.hash, base.hash) == 0)
            fail_msg("changing field %zu does not change the hash", i);
    }
    r = base;
    r.seq = 8;
    assert_int_equal(audit_seal(&r), 0);
    assert_string_not_equal(r.hash, base.hash);
    r = base;
    r.time_ms++;
    assert_int_equal(audit_seal(&r), 0);
    assert_string_not_equal(r.hash, base.hash);
    r = base;
    r.status = 201;
    assert_int_equal(audit_seal(&r), 0);
    assert_string_not_equal(r.hash, base.hash);
    r = base;
    r.prev_hash[0] = r.prev_hash[0] == '1' ? '2' : '1';
    assert_int_equal(audit_seal(&r), 0);
    assert_string_not_equal(r.hash, base.hash);
    /* And sealing is deterministic. */
    r = base;
    assert_int_equal(audit_seal(&r), 0);
    assert_string_equal(r.hash, base.hash);
    assert_int_equal(strlen(base.hash), 64);
}

/* Field boundaries are unambiguous: moving a character between fields changes the hash. */
static void test_fields_cannot_bleed_into_each_other(void **state) {
    struct audit_rec a, b;
    fill(&a, 1, audit_genesis_hash);
    b = a;
    snprintf(a.org, sizeof(a.org), "ab");
    snprintf(a.team, sizeof(a.team), "c");
    snprintf(b.org, sizeof(b.org), "a");
    snprintf(b.team, sizeof(b.team), "bc");
    assert_int_equal(audit_seal(&a), 0);
    assert_int_equal(audit_seal(&b), 0);
    assert_string_not_equal(a.hash, b.hash);
    b = a;
    snprintf(a.org, sizeof(a.org), "ab");
    snprintf(a.org_id, sizeof(a.org_id), "c");
    snprintf(b.org, sizeof(b.org), "a");
    snprintf(b.org_id, sizeof(b.org_id), "bc");
    assert_int_equal(audit_seal(&a), 0);
    assert_int_equal(audit_seal(&b), 0);
    assert_string_not_equal(a.hash, b.hash);
}

/* A record with an org id is encoded under "LKA2" with org_id after org; one
 * without exactly as every record was before org ids ("LKA1"), so those
 * keep their hashes. Both hashes are what scripts/audit-verify.py, an
 * encoder written from docs/audit.md alone, computes for these records. */
static void test_two_encodings(void **state) {
    struct audit_rec r;
    char buf[AUDIT_CANONICAL_MAX];
    fill(&r, 7, audit_genesis_hash);
    size_t with_id = audit_canonical(&r, buf, sizeof(buf));
    assert_memory_equal(buf, "LKA2", 4);
    assert_string_equal(r.hash, "9adc546da45d965385fb5e56e5dc91ca175ecb514cdec1840d1a02f33ec0e1fc");
    r.org_id[0] = '\0';
    assert_int_equal(audit_seal(&r), 0);
    size_t without = audit_canonical(&r, buf, sizeof(buf));
    assert_memory_equal(buf, "LKA1", 4);
    assert_int_equal(with_id, without + 4 + strlen("org_0123456789abcdef0123"));
    assert_string_equal(r.hash, "57ae71d4cfca62ca3791c5325f3070ae11194a5446b88b718d416bdcfde76e9b");
    /* Dropping an org id, or giving a record one, breaks its hash. */
    char why[256];
    struct audit_rec forged = r;
    snprintf(forged.org_id, sizeof(forged.org_id), "org_0123456789abcdef0123");
    assert_int_equal(audit_check(&forged, 6, audit_genesis_hash, why, sizeof(why)), 1);
    fill(&forged, 7, audit_genesis_hash);
    forged.org_id[0] = '\0';
    assert_int_equal(audit_check(&forged, 6, audit_genesis_hash, why, sizeof(why)), 1);
}

static void test_chain_check(void **state) {
    struct audit_rec r1, r2, r3;
    char why[256];
    fill(&r1, 1, audit_genesis_hash);
    fill(&r2, 2, r1.hash);
    fill(&r3, 3, r2.hash);
    assert_int_equal(audit_check(&r1, 0, audit_genesis_hash, why, sizeof(why)), 0);
    assert_int_equal(audit_check(&r2, 1, r1.hash, why, sizeof(why)), 0);
    assert_int_equal(audit_check(&r3, 2, r2.hash, why, sizeof(why)), 0);

    /* r2 missing: r3 does not follow r1. */
    assert_int_equal(audit_check(&r3, 1, r1.hash, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "missing"));
    /* Changed content. */
    struct audit_rec bad = r2;
    bad.status = 500;
    assert_int_equal(audit_check(&bad, 1, r1.hash, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "changed"));
    /* Changed and re-sealed: its own hash matches, the link to it does not. */
    assert_int_equal(audit_seal(&bad), 0);
    assert_int_equal(audit_check(&bad, 1, r1.hash, why, sizeof(why)), 0);
    assert_int_equal(audit_check(&r3, 2, bad.hash, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "prev_hash"));
    /* A store that derives the link from the record before (SQLite keeps
     * no prev_hash) hands r3 over with bad's hash as its link: r3's own
     * hash no longer matches, and the message names the record before. */
    struct audit_rec next = r3;
    memcpy(next.prev_hash, bad.hash, AUDIT_HASH_HEX);
    assert_int_equal(audit_check(&next, 2, bad.hash, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "changed, or record 2 was and its hash recomputed"));
    /* An unterminated field is refused, not read past. */
    bad = r1;
    memset(bad.org, 'x', sizeof(bad.org));
    assert_int_equal(audit_seal(&bad), LK_EINVAL);
}

static void test_field_copy_keeps_printable_ascii_only(void **state) {
    char out[8];
    struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "plain"}, {"a\nb\tc", 5, "a?b?c"},     {"\xc3\xa9t\xc3\xa9", 5, "??t??"},
        {"a\0b", 3, "a?b"},    {"\x7f\x1b[0m", 5, "??[0m"}, {"much too long for it", 20, "much to"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        audit_field_copy(out, sizeof(out), cases[i].in, cases[i].len);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, cases[i].want);
    }
}

static void test_field_copy_cuts_a_pasted_token_to_its_public_id(void **state) {
    /* Built like test_tokfmt.c's golden token; only its shape matters here. */
    static const char ua[] = "curl/8\t lk_user_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl\n";
    char out[128];
    audit_field_copy(out, sizeof(out), ua, sizeof(ua) - 1);
    assert_string_equal(out, "curl/8? lk_user_0123456789ab_[redacted]?");
}

/* Percent-encoded, in either case: the field is recorded decoded, then
 * cut. A field whose decoded form shows no token keeps its escapes. */
static void test_field_copy_cuts_a_percent_encoded_token(void **state) {
    char out[128];
    static const char lower[] = "tool lk%5fuser%5f0123456789ab%5fABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl end";
    audit_field_copy(out, sizeof(out), lower, sizeof(lower) - 1);
    assert_string_equal(out, "tool lk_user_0123456789ab_[redacted] end");
    static const char upper[] = "lk_user_0123456789ab%5FABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1hWikl";
    audit_field_copy(out, sizeof(out), upper, sizeof(upper) - 1);
    assert_string_equal(out, "lk_user_0123456789ab_[redacted]");
    static const char plain[] = "name%20with%20spaces 100%";
    audit_field_copy(out, sizeof(out), plain, sizeof(plain) - 1);
    assert_string_equal(out, "name%20with%20spaces 100%");
}

static void test_outcomes(void **state) {
    struct {
        int status;
        const char *want;
    } cases[] = {{200, "success"}, {204, "success"}, {400, "error"},        {401, "denied"}, {403, "denied"},
                 {404, "error"},   {405, "error"},   {429, "rate_limited"}, {500, "error"},  {503, "error"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(audit_outcome_of(cases[i].status), cases[i].want) != 0)
            fail_msg("status %d: got %s, want %s", cases[i].status, audit_outcome_of(cases[i].status), cases[i].want);
}

static void test_api_json(void **state) {
    struct audit_rec r;
    char buf[AUDIT_CANONICAL_MAX];
    fill(&r, 42, audit_genesis_hash);
    r.team[0] = '\0'; /* empty reads as null */
    size_t n = audit_rec_json(&r, buf, sizeof(buf));
    assert_true(n > 0);
    json_error_t e;
    json_t *j = json_loadb(buf, n, 0, &e);
    if (j == NULL)
        fail_msg("not JSON: %s in %.*s", e.text, (int)n, buf);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "time")), "2026-11-18T11:06:40.123Z");
    assert_true(json_is_null(json_object_get(j, "team")));
    assert_string_equal(json_string_value(json_object_get(j, "org")), "acme");
    assert_string_equal(json_string_value(json_object_get(j, "org_id")), "org_0123456789abcdef0123");
    assert_string_equal(json_string_value(json_object_get(j, "user_agent")), "curl/8 \"x\" \\");
    json_t *actor = json_object_get(j, "actor");
    assert_string_equal(json_string_value(json_object_get(actor, "type")), "user");
    assert_string_equal(json_string_value(json_object_get(actor, "token_id")), "lk_user_AbCdEfGhIjKl");
    assert_string_equal(json_string_value(json_object_get(j, "hash")), r.hash);
    json_decref(j);
    /* Too small a buffer is refused, never overrun. */
    assert_int_equal(audit_rec_json(&r, buf, 40), 0);
    assert_int_equal(audit_canonical(&r, buf, 40), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_is_hashed),
        cmocka_unit_test(test_fields_cannot_bleed_into_each_other),
        cmocka_unit_test(test_two_encodings),
        cmocka_unit_test(test_chain_check),
        cmocka_unit_test(test_field_copy_keeps_printable_ascii_only),
        cmocka_unit_test(test_field_copy_cuts_a_pasted_token_to_its_public_id),
        cmocka_unit_test(test_field_copy_cuts_a_percent_encoded_token),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_api_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
