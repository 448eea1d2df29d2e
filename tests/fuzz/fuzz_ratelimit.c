/*
 * fuzz_ratelimit.c - libFuzzer harness for rl_policy_parse().
 *
 * The input is made a C string (it stops at the first NUL byte, as
 * rl_policy_parse() reads it) and checked against a reference reading of the
 * header: "0", or "Q/W" with Q and W decimal digit strings whose values are
 * 1..10^9 and 1..86400, and nothing else. Parser and reference must agree on
 * acceptance and values; ret is untouched on failure; an accepted policy
 * prints back as "Q/W" that parses to the same policy. With a small accepted
 * quota, a fresh key then gets exactly Q requests in a burst with remaining
 * counting down to 0, and the next request is refused with retry_after >= 1
 * and the state unchanged.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest burst the harness replays request by request. */
#define BURST_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads [0-9]+ at *pos as a value saturated at UINT64_MAX; 0 if there are no digits. */
static int ref_number(const char *s, size_t *pos, uint64_t *ret) {
    size_t i = *pos;
    uint64_t v = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            v = UINT64_MAX;
    if (i == *pos)
        return 0;
    *pos = i;
    *ret = v;
    return 1;
}

static int ref_parse(const char *s, struct rl_policy *ret) {
    uint64_t q, w;
    size_t pos = 0;
    if (strcmp(s, "0") == 0) {
        ret->quota = 0;
        ret->window_s = 1;
        return 1;
    }
    if (!ref_number(s, &pos, &q) || s[pos] != '/')
        return 0;
    pos++;
    if (!ref_number(s, &pos, &w) || s[pos] != '\0')
        return 0;
    if (q < 1 || q > 1000000000 || w < 1 || w > 86400)
        return 0;
    ret->quota = (uint32_t)q;
    ret->window_s = (uint32_t)w;
    return 1;
}

static void check_burst(const struct rl_policy *p) {
    struct rl_state st = {0};
    struct rl_result res;
    const int64_t now = INT64_C(1700000000000000);

    for (uint32_t k = 0; k < p->quota; k++) {
        rl_check(p, &st, now, &res);
        if (!res.allowed || res.remaining != p->quota - k - 1)
            fprintf(stderr, "policy %u/%u: request %u: allowed=%d remaining=%u\n", p->quota, p->window_s, k + 1,
                    res.allowed, res.remaining);
        CHECK(res.allowed && res.retry_after_s == 0);
        CHECK(res.remaining == p->quota - k - 1);
        CHECK(res.reset_s >= 1 && res.reset_s <= p->window_s);
    }
    struct rl_state before = st;
    rl_check(p, &st, now, &res);
    CHECK(!res.allowed && res.remaining == 0);
    CHECK(res.retry_after_s >= 1 && res.retry_after_s <= p->window_s);
    CHECK(st.tat_us == before.tat_us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct rl_policy p, sentinel, want = {0, 0};
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';

    memset(&sentinel, 0xA5, sizeof(sentinel));
    p = sentinel;
    int r = rl_policy_parse(s, &p);
    int ok = ref_parse(s, &want);
    CHECK(r == 0 || r == LK_EINVAL);
    if ((r == 0) != ok || (ok && (p.quota != want.quota || p.window_s != want.window_s)))
        fprintf(stderr, "rl_policy_parse(\"%s\") = %d, %u/%u; reference: %s, %u/%u\n", s, r, p.quota, p.window_s,
                ok ? "valid" : "invalid", want.quota, want.window_s);
    CHECK((r == 0) == ok);
    if (r != 0) {
        CHECK(p.quota == sentinel.quota && p.window_s == sentinel.window_s);
        free(s);
        return 0;
    }
    CHECK(p.quota == want.quota && p.window_s == want.window_s);
    CHECK(p.window_s >= 1 && p.window_s <= 86400 && p.quota <= 1000000000);
    CHECK((p.quota == 0) == (strcmp(s, "0") == 0));

    if (p.quota > 0) {
        char text[32];
        struct rl_policy back = sentinel;
        snprintf(text, sizeof(text), "%u/%u", p.quota, p.window_s);
        CHECK(rl_policy_parse(text, &back) == 0);
        CHECK(back.quota == p.quota && back.window_s == p.window_s);
        if (p.quota <= BURST_MAX)
            check_burst(&p);
    } else {
        struct rl_state st = {0};
        struct rl_result res;
        rl_check(&p, &st, 1, &res);
        CHECK(res.allowed && res.remaining == 0 && st.tat_us == 0);
    }
    free(s);
    return 0;
}
