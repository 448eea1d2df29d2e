/*
 * fuzz_vault_acl.c - libFuzzer harness for vault_acl_parse() and the
 * evaluation of a set (vault_acl_set_new, vault_acl_capabilities).
 *
 * Parsing: a refusal is LK_EINVAL with *ret untouched and a message of
 * "line L, column C: expected ..." whose line and column lie within the
 * input, with no control character (or the size limit's message for an
 * input over VAULT_ACL_TEXT_MAX). An accepted policy written back out in
 * canonical form parses to the same blocks.
 *
 * Evaluation is checked against a reference written here the way Vault's
 * acl.go reads (split into segments; collect the matching rules; merge
 * identical patterns; exact first, then sort by the priority rules) on
 * paths made from the patterns themselves and from the input: both must
 * answer the same capabilities. Invariant failures abort(). No global state.
 */
#include "fuzz_check.h"
#include "core/errors.h"
#include "core/vault_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEG_MAX (VAULT_ACL_PATTERN_MAX + 2)

struct ref_rule {
    const char *pat; /* without the '*' */
    size_t len;
    int prefix, segment;
    size_t first_wc, nplus;
    unsigned caps;
};

/* Splits s[0..n) at '/' into starts and lengths; returns the count. */
static size_t split(const char *s, size_t n, size_t *start, size_t *len) {
    size_t k = 0, b = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            start[k] = b;
            len[k] = i - b;
            k++;
            b = i + 1;
        }
    }
    return k;
}

static int ref_match(const struct ref_rule *r, const char *path, size_t plen) {
    if (!r->segment) {
        if (r->prefix)
            return plen >= r->len && memcmp(path, r->pat, r->len) == 0;
        return plen == r->len && memcmp(path, r->pat, plen) == 0;
    }
    size_t ps[SEG_MAX], pl[SEG_MAX];
    size_t *qs = malloc(sizeof(size_t) * (plen + 2)), *ql = malloc(sizeof(size_t) * (plen + 2));
    CHECK(qs != NULL && ql != NULL);
    size_t np = split(r->pat, r->len, ps, pl), nq = split(path, plen, qs, ql);
    int ok = nq >= np && (r->prefix || nq == np);
    for (size_t i = 0; ok && i < np; i++) {
        const char *a = r->pat + ps[i], *b = path + qs[i];
        if (pl[i] == 1 && a[0] == '+')
            continue;
        if (pl[i] == ql[i] && memcmp(a, b, pl[i]) == 0)
            continue;
        if (r->prefix && i == np - 1 && ql[i] >= pl[i] && memcmp(a, b, pl[i]) == 0)
            continue;
        ok = 0;
    }
    free(qs);
    free(ql);
    return ok;
}

/* -1, 0, 1 as a ranks below, equal to or above b. */
static int ref_rank(const struct ref_rule *a, const struct ref_rule *b) {
    if (a->first_wc != b->first_wc)
        return a->first_wc < b->first_wc ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix ? -1 : 1;
    if (a->nplus != b->nplus)
        return a->nplus > b->nplus ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->pat, b->pat, a->len);
    return c < 0 ? -1 : c > 0;
}

static int same_key(const struct ref_rule *a, const struct ref_rule *b) {
    return a->prefix == b->prefix && a->len == b->len && memcmp(a->pat, b->pat, a->len) == 0;
}

static unsigned ref_eval(const struct ref_rule *rules, size_t n, const char *path) {
    while (*path == '/')
        path++;
    size_t plen = strlen(path);
    unsigned exact = 0, best_caps = 0;
    int have_exact = 0;
    const struct ref_rule *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct ref_rule *r = &rules[i];
        if (!ref_match(r, path, plen))
            continue;
        if (!r->prefix && !r->segment) {
            exact |= r->caps;
            have_exact = 1;
        } else if (best == NULL || ref_rank(r, best) > 0) {
            best = r;
        }
    }
    if (have_exact)
        return exact & VAULT_CAP_DENY ? 0 : exact;
    if (best == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (same_key(&rules[i], best))
            best_caps |= rules[i].caps;
    return best_caps & VAULT_CAP_DENY ? 0 : best_caps;
}

static void ref_rule_of(const char *pat, unsigned caps, struct ref_rule *r) {
    size_t n = strlen(pat);
    memset(r, 0, sizeof(*r));
    r->pat = pat;
    r->caps = caps;
    r->prefix = n > 0 && pat[n - 1] == '*';
    r->len = r->prefix ? n - 1 : n;
    size_t ps[SEG_MAX], pl[SEG_MAX];
    size_t np = split(pat, r->len, ps, pl);
    for (size_t i = 0; i < np; i++)
        if (pl[i] == 1 && pat[ps[i]] == '+')
            r->nplus++;
    r->segment = r->nplus > 0;
    r->first_wc = r->segment ? (size_t)(strchr(pat, '+') - pat) : r->len;
}

static void check_refusal(const uint8_t *data, size_t size, const struct lk_error *err) {
    size_t n = strnlen(err->msg, sizeof(err->msg));
    CHECK(err->code == LK_EINVAL);
    CHECK(n > 0 && n < sizeof(err->msg));
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)err->msg[i] >= 0x20 && err->msg[i] != 0x7f);
    if (size > VAULT_ACL_TEXT_MAX) {
        CHECK(strncmp(err->msg, "a policy is at most", 19) == 0);
        return;
    }
    int line = 0, col = 0, used = 0;
    CHECK(sscanf(err->msg, "line %d, column %d: %n", &line, &col, &used) == 2 && used > 0);
    CHECK(strncmp(err->msg + used, "expected ", 9) == 0);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    CHECK(line >= 1 && (size_t)line <= lines);
    CHECK(col >= 1 && (size_t)col <= size + 1);
}

/* The policy written back in canonical form: each block on its own line,
 * patterns behind a '/' (which parsing drops), '"' and '\' escaped. */
static char *canonical(const struct vault_acl_policy *p, size_t *ret_len) {
    size_t cap = 64;
    for (size_t i = 0; i < vault_acl_policy_count(p); i++)
        cap += 2 * strlen(vault_acl_policy_rule(p, i, NULL)) + 128;
    char *out = malloc(cap);
    CHECK(out != NULL);
    size_t n = 0;
    for (size_t i = 0; i < vault_acl_policy_count(p); i++) {
        unsigned caps = 0;
        const char *pat = vault_acl_policy_rule(p, i, &caps);
        n += (size_t)snprintf(out + n, cap - n, "path \"/");
        for (const char *c = pat; *c; c++) {
            if (*c == '"' || *c == '\\')
                out[n++] = '\\';
            out[n++] = *c;
        }
        n += (size_t)snprintf(out + n, cap - n, "\" { capabilities = [");
        const char *names[8];
        size_t k = vault_acl_cap_names(caps, names, 8);
        for (size_t j = 0; j < k; j++)
            n += (size_t)snprintf(out + n, cap - n, "%s\"%s\"", j ? ", " : "", names[j]);
        n += (size_t)snprintf(out + n, cap - n, "] }\n");
        CHECK(n < cap);
    }
    *ret_len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct vault_acl_policy *p = (struct vault_acl_policy *)&data, *sentinel = p;
    struct lk_error err;
    memset(&err, 0, sizeof(err));
    int r = vault_acl_parse((const char *)data, size, &p, &err);
    CHECK(r == 0 || r == LK_EINVAL);
    if (r != 0) {
        CHECK(p == sentinel);
        check_refusal(data, size, &err);
        return 0;
    }
    size_t n = vault_acl_policy_count(p);
    CHECK(n <= VAULT_ACL_PATHS_MAX);

    /* Canonical form round trip. */
    size_t clen = 0;
    char *ctext = canonical(p, &clen);
    struct vault_acl_policy *q = NULL;
    r = vault_acl_parse(ctext, clen, &q, &err);
    if (r != 0)
        fprintf(stderr, "canonical form refused: %s\n%.*s\n", err.msg, (int)clen, ctext);
    CHECK(r == 0 && vault_acl_policy_count(q) == n);
    for (size_t i = 0; i < n; i++) {
        unsigned a = 0, b = 0;
        const char *pa = vault_acl_policy_rule(p, i, &a), *pb = vault_acl_policy_rule(q, i, &b);
        CHECK(strlen(pa) > 0 && strlen(pa) <= VAULT_ACL_PATTERN_MAX);
        CHECK(strcmp(pa, pb) == 0 && a == b);
        CHECK(!(a & VAULT_CAP_DENY) || a == VAULT_CAP_DENY);
    }
    vault_acl_policy_free(q);
    free(ctext);

    /* Evaluation against the reference, the policy in a set twice over
     * (merging a pattern with itself changes nothing). */
    struct ref_rule *rules = calloc(n + 1, sizeof(*rules));
    CHECK(rules != NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned caps = 0;
        const char *pat = vault_acl_policy_rule(p, i, &caps);
        ref_rule_of(pat, caps, &rules[i]);
    }
    const struct vault_acl_policy *pols[2] = {p, p};
    struct vault_acl_set *set = NULL;
    CHECK(vault_acl_set_new(pols, 2, 0, &set) == 0);
    char path[VAULT_ACL_PATTERN_MAX + 16];
    for (size_t i = 0; i <= n; i++) {
        for (int variant = 0; variant < 4; variant++) {
            if (i == n) {
                /* a path from the input itself */
                size_t k = size < VAULT_ACL_PATTERN_MAX ? size : VAULT_ACL_PATTERN_MAX;
                memcpy(path, data, k);
                path[k] = '\0';
                if (variant > 0)
                    break;
            } else {
                /* the pattern with its wildcards filled in */
                const char *pat = vault_acl_policy_rule(p, i, NULL);
                size_t k = 0;
                for (const char *c = pat; *c && k + 8 < sizeof(path); c++) {
                    if (*c == '*' && c[1] == '\0')
                        k += (size_t)snprintf(path + k, sizeof(path) - k, "%s",
                                              variant == 1   ? ""
                                              : variant == 2 ? "x/y"
                                                             : "z");
                    else if (*c == '+' && variant == 3)
                        path[k++] = 'q';
                    else
                        path[k++] = *c;
                }
                path[k] = '\0';
            }
            unsigned got = vault_acl_capabilities(set, path), want = ref_eval(rules, n, path);
            if (got != want)
                fprintf(stderr, "capabilities(\"%s\") = 0x%x, reference 0x%x\n", path, got, want);
            CHECK(got == want);
            CHECK(!(got & VAULT_CAP_DENY));
            unsigned listed = vault_acl_capabilities_list(set, path);
            size_t plen = strlen(path);
            if (plen == 0 || path[plen - 1] != '/')
                CHECK(listed == got);
        }
    }
    vault_acl_set_free(set);

    /* root grants everything on any path */
    CHECK(vault_acl_set_new(pols, 1, 1, &set) == 0);
    CHECK(vault_acl_capabilities(set, path) == VAULT_CAP_ALL);
    vault_acl_set_free(set);
    free(rules);
    vault_acl_policy_free(p);
    return 0;
}
