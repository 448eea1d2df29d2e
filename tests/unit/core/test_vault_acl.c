/*
 * test_vault_acl.c - unit tests for Vault ACL policies (core/vault_acl.h):
 * the HCL subset accepted and refused (with the exact line and column of
 * each refusal), Vault's priority among matching patterns, merging of
 * identical patterns across policies, deny, and the built-ins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/vault_acl.h"

#include "unit_assert.h"

#define C VAULT_CAP_CREATE
#define R VAULT_CAP_READ
#define U VAULT_CAP_UPDATE
#define D VAULT_CAP_DELETE
#define L VAULT_CAP_LIST
#define S VAULT_CAP_SUDO
#define X VAULT_CAP_DENY

static struct vault_acl_policy *parse_ok(const char *text) {
    struct vault_acl_policy *p = NULL;
    struct lk_error err = {0};
    int r = vault_acl_parse(text, strlen(text), &p, &err);
    if (r != 0)
        fail_msg("refused (%d: %s):\n%s", r, err.msg, text);
    return p;
}

/* ---- parsing: what is accepted ---- */

struct accept_case {
    const char *text;
    size_t count;           /* path blocks */
    const char *pattern[3]; /* the first ones, as kept */
    unsigned caps[3];
};

static void test_accepted_documents(void **state) {
    (void)state;
    static const struct accept_case cases[] = {
        {"", 0, {NULL}, {0}},
        {"  \n\t\r\n", 0, {NULL}, {0}},
        {"# only a comment", 0, {NULL}, {0}},
        {"// a comment\n/* a\nblock */", 0, {NULL}, {0}},
        {"path \"secret/foo\" { capabilities = [\"read\"] }", 1, {"secret/foo"}, {R}},
        {"path \"secret/foo\" {\n  capabilities = [\"read\", \"list\"]\n}\n", 1, {"secret/foo"}, {R | L}},
        /* commas optional between items, a trailing one allowed, newlines anywhere */
        {"path \"a\" { capabilities = [\"read\" \"list\"] }", 1, {"a"}, {R | L}},
        {"path \"a\" { capabilities = [\"read\",\n \"update\",\n] }", 1, {"a"}, {R | U}},
        {"path\n\"a\"\n{\ncapabilities\n=\n[\n\"create\"\n]\n}", 1, {"a"}, {C}},
        {"path \"a\" { capabilities = [] }", 1, {"a"}, {0}},
        {"path \"a\" { }", 1, {"a"}, {0}},
        {"path \"a\" { capabilities = [\"sudo\"], }", 1, {"a"}, {S}},
        /* all capabilities; deny stands alone */
        {"path \"a\" { capabilities = [\"create\",\"read\",\"update\",\"delete\",\"list\",\"sudo\"] }",
         1,
         {"a"},
         {C | R | U | D | L | S}},
        {"path \"a\" { capabilities = [\"read\", \"deny\", \"list\"] }", 1, {"a"}, {X}},
        /* a leading '/' is dropped; globs kept as written */
        {"path \"/secret/*\" { capabilities = [\"read\"] }", 1, {"secret/*"}, {R}},
        {"path \"*\" { capabilities = [\"list\"] }", 1, {"*"}, {L}},
        {"path \"secret/+/x\" { capabilities = [\"read\"] }\n"
         "path \"secret/+/*\" { capabilities = [\"read\"] } # tail\n"
         "path \"a+b/c\" { capabilities = [\"read\"] }",
         3,
         {"secret/+/x", "secret/+/*", "a+b/c"},
         {R, R, R}},
        /* escapes */
        {"path \"a\\\"b\\\\c\" { capabilities = [\"read\"] }", 1, {"a\"b\\c"}, {R}},
        /* UTF-8 in strings and comments */
        {"# caf\xc3\xa9\npath \"caf\xc3\xa9/*\" { capabilities = [\"read\"] }", 1, {"caf\xc3\xa9/*"}, {R}},
        /* comments between tokens */
        {"path /* x */ \"a\" # y\n { // z\n capabilities /**/ = [ # w\n \"read\" ] }", 1, {"a"}, {R}},
        /* the same pattern twice in one document is kept twice (merged when evaluated) */
        {"path \"a\" { capabilities = [\"read\"] }\npath \"a\" { capabilities = [\"list\"] }", 2, {"a", "a"}, {R, L}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct accept_case *c = &cases[i];
        struct vault_acl_policy *p = parse_ok(c->text);
        if (vault_acl_policy_count(p) != c->count)
            fail_msg("case %zu: %zu blocks, expected %zu", i, vault_acl_policy_count(p), c->count);
        for (size_t k = 0; k < c->count && k < 3; k++) {
            unsigned caps = 0xffff;
            const char *pat = vault_acl_policy_rule(p, k, &caps);
            if (pat == NULL || strcmp(pat, c->pattern[k]) != 0 || caps != c->caps[k])
                fail_msg("case %zu block %zu: \"%s\" caps 0x%x, expected \"%s\" 0x%x", i, k, pat ? pat : "(null)", caps,
                         c->pattern[k], c->caps[k]);
        }
        assert_null(vault_acl_policy_rule(p, c->count, NULL));
        vault_acl_policy_free(p);
    }
}

/* ---- parsing: what is refused, and where ---- */

struct refuse_case {
    const char *text;
    size_t len;      /* 0: strlen */
    const char *msg; /* the whole message */
};

static void test_refusals_name_line_and_column(void **state) {
    (void)state;
    static const struct refuse_case cases[] = {
        {"pat \"a\" {}", 0, "line 1, column 1: expected 'path' or the end of the policy, found 'pat'"},
        {"\n\n  path \"a\" { capabilities = [\"read\"] }\n  }", 0,
         "line 4, column 3: expected 'path' or the end of the policy, found '}'"},
        {"path a { }", 0, "line 1, column 6: expected a quoted path pattern after 'path', found 'a'"},
        {"path \"a\" capabilities", 0, "line 1, column 10: expected '{' after the path pattern, found 'capabilities'"},
        {"path \"a\" {\n  capabilities = [\"read\"]\n  allowed_parameters = {}\n}", 0,
         "line 3, column 3: expected 'capabilities' or '}', found 'allowed_parameters' (only capabilities is "
         "supported)"},
        {"path \"a\" {\n  policy = \"read\"\n}", 0,
         "line 2, column 3: expected 'capabilities' or '}', found 'policy' (only capabilities is supported)"},
        {"path \"a\" { capabilities = [\"read\", \"write\"] }", 0,
         "line 1, column 36: expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" "
         "or \"sudo\"), found \"write\""},
        {"path \"a\" { capabilities = [\"patch\"] }", 0,
         "line 1, column 28: expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" "
         "or \"sudo\"), found \"patch\""},
        {"path \"a\" { capabilities = [\"read\",, \"list\"] }", 0,
         "line 1, column 35: expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" "
         "or \"sudo\") or ']', found ','"},
        {"path \"a\" { capabilities = [,] }", 0,
         "line 1, column 28: expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" "
         "or \"sudo\") or ']', found ','"},
        {"path \"a\" { capabilities = \"read\" }", 0,
         "line 1, column 27: expected '[' and a list of capabilities, found a string"},
        {"path \"a\" { capabilities [\"read\"] }", 0, "line 1, column 25: expected '=' after capabilities, found '['"},
        {"path \"a\" { capabilities = [\"read\"] capabilities = [\"list\"] }", 0,
         "line 1, column 36: expected '}': capabilities is given once per path block"},
        {"path \"a\" { capabilities = [\"read\"]", 0,
         "line 1, column 35: expected 'capabilities' or '}', found the end of the policy"},
        {"path \"a\" { capabilities = [\"read\"", 0,
         "line 1, column 34: expected a capability (\"create\", \"read\", \"update\", \"delete\", \"list\", \"deny\" "
         "or \"sudo\") or ']', found the end of the policy"},
        /* strings */
        {"path \"secret/foo { capabilities = [] }", 0,
         "line 1, column 6: expected the closing '\"' of this string, found the end of the policy"},
        {"path \"secret/foo\n\" {}", 0,
         "line 1, column 6: expected the closing '\"' of this string, found the end of the line"},
        {"path \"a\\nb\" {}", 0, "line 1, column 8: expected \\\" or \\\\ (no other escape is supported)"},
        {"path \"a\tb\" {}", 0, "line 1, column 8: expected a printable character in this string, found byte 0x09"},
        {"path \"a\xff\" {}", 0, "line 1, column 8: expected UTF-8 text in this string, found byte 0xff"},
        /* columns count characters, not bytes */
        {"# \xc3\xa9\xc3\xa9\npath \"\xc3\xa9\" { x }", 0,
         "line 2, column 12: expected 'capabilities' or '}', found 'x' (only capabilities is supported)"},
        {"path \"\xc3\xa9\" { x }", 0,
         "line 1, column 12: expected 'capabilities' or '}', found 'x' (only capabilities is supported)"},
        /* patterns */
        {"path \"\" {}", 0, "line 1, column 6: expected a path pattern, found an empty one"},
        {"path \"/\" {}", 0, "line 1, column 6: expected a path pattern, found an empty one"},
        {"path \"secret/*/foo\" {}", 0,
         "line 1, column 14: expected '*' only as the last character of a pattern (a prefix glob)"},
        {"path \"se\\\"*x\" {}", 0,
         "line 1, column 11: expected '*' only as the last character of a pattern (a prefix glob)"},
        {"path \"secret/+*\" {}", 0,
         "line 1, column 14: expected '+' and '*' apart: \"+*\" is not allowed (write \"+/*\" or a prefix)"},
        /* comments and stray bytes */
        {"path \"a\" {} /* never closed", 0,
         "line 1, column 13: expected the end of this comment (\"*/\"), found the end of the policy"},
        {"path \"a\" {} / x", 0, "line 1, column 13: expected a name, a string or one of { } [ ] = , but found '/'"},
        {"path \"a\" {}\n\x01", 0,
         "line 2, column 1: expected a name, a string or one of { } [ ] = , but found byte 0x01"},
        {"path \"a\" {}\0", 12,
         "line 1, column 12: expected a name, a string or one of { } [ ] = , but found byte 0x00"},
        {"path \"a\" = { }", 0, "line 1, column 10: expected '{' after the path pattern, found '='"},
        {"{}", 0, "line 1, column 1: expected 'path' or the end of the policy, found '{'"},
        {"path", 0, "line 1, column 5: expected a quoted path pattern after 'path', found the end of the policy"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct refuse_case *c = &cases[i];
        size_t len = c->len != 0 ? c->len : strlen(c->text);
        struct vault_acl_policy *p = (struct vault_acl_policy *)&cases; /* a sentinel: must stay */
        struct lk_error err = {0};
        int r = vault_acl_parse(c->text, len, &p, &err);
        if (r != LK_EINVAL)
            fail_msg("case %zu: %d, expected LK_EINVAL:\n%s", i, r, c->text);
        if (p != (struct vault_acl_policy *)&cases)
            fail_msg("case %zu: ret was written on failure", i);
        if (strcmp(err.msg, c->msg) != 0)
            fail_msg("case %zu:\n  got  %s\n  want %s", i, err.msg, c->msg);
        /* and with no error sink */
        assert_i64_eq(vault_acl_parse(c->text, len, &p, NULL), LK_EINVAL);
    }
}

static void test_limits(void **state) {
    (void)state;
    static char buf[VAULT_ACL_TEXT_MAX + 2];
    struct vault_acl_policy *p = NULL;
    struct lk_error err = {0};

    /* the document's size */
    memset(buf, ' ', sizeof(buf));
    assert_i64_eq(vault_acl_parse(buf, VAULT_ACL_TEXT_MAX, &p, NULL), 0);
    vault_acl_policy_free(p);
    p = NULL;
    assert_i64_eq(vault_acl_parse(buf, VAULT_ACL_TEXT_MAX + 1, &p, &err), LK_EINVAL);
    assert_string_equal(err.msg, "a policy is at most 65536 bytes; this one has 65537");
    assert_null(p);

    /* the number of path blocks */
    size_t n = 0;
    for (int i = 0; i <= VAULT_ACL_PATHS_MAX; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "path \"p%d\" {}\n", i);
    assert_i64_eq(vault_acl_parse(buf, n, &p, &err), LK_EINVAL);
    assert_string_equal(err.msg, "line 257, column 1: expected the end of the policy: at most 256 path blocks");
    n -= strlen("path \"p256\" {}\n");
    assert_i64_eq(vault_acl_parse(buf, n, &p, &err), 0);
    assert_i64_eq(vault_acl_policy_count(p), VAULT_ACL_PATHS_MAX);
    vault_acl_policy_free(p);
    p = NULL;

    /* a pattern's length */
    n = (size_t)snprintf(buf, sizeof(buf), "path \"");
    memset(buf + n, 'a', VAULT_ACL_PATTERN_MAX);
    n += VAULT_ACL_PATTERN_MAX;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\" {}");
    assert_i64_eq(vault_acl_parse(buf, n, &p, &err), 0);
    vault_acl_policy_free(p);
    p = NULL;
    memmove(buf + 7, buf + 6, n - 6);
    buf[6] = 'a';
    assert_i64_eq(vault_acl_parse(buf, n + 1, &p, &err), LK_EINVAL);
    assert_string_equal(err.msg, "line 1, column 6: expected a string of at most 512 bytes");
}

/* ---- evaluation ---- */

static struct vault_acl_set *set_of(const char *const *texts, size_t n) {
    struct vault_acl_policy *pols[8] = {NULL};
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        pols[i] = parse_ok(texts[i]);
    struct vault_acl_set *set = NULL;
    assert_i64_eq(vault_acl_set_new((const struct vault_acl_policy *const *)pols, n, 0, &set), 0);
    for (size_t i = 0; i < n; i++)
        vault_acl_policy_free(pols[i]);
    return set;
}

static void expect_caps(const struct vault_acl_set *set, const char *path, unsigned want) {
    unsigned got = vault_acl_capabilities(set, path);
    if (got != want)
        fail_msg("%s: caps 0x%x, expected 0x%x", path, got, want);
}

/* One pattern per line, each granting a distinct capability set, so the
 * answer names the winner. */
struct prio_case {
    const char *winner;
    const char *loser;
    const char *path;
};

static void test_priority_matches_vault(void **state) {
    (void)state;
    static const struct prio_case cases[] = {
        /* exact beats every glob */
        {"secret/foo", "secret/*", "secret/foo"},
        {"secret/foo", "secret/+", "secret/foo"},
        {"secret/foo", "secret/foo*", "secret/foo"},
        /* 1: the first wildcard later */
        {"secret/foo/*", "secret/*", "secret/foo/bar"},
        {"foo/a*", "foo/+", "foo/ab"},
        {"foo/bar/+/baz", "foo/+/bar/baz", "foo/bar/bar/baz"},
        {"secret/a/+", "+/a/b", "secret/a/b"},
        /* 2: not ending in '*' */
        {"foo/+/bar", "foo/+/ba*", "foo/x/bar"},
        {"foo/+", "foo/*", "foo/x"},
        {"secret/+/x", "secret/*", "secret/a/x"},
        /* 3: fewer '+' segments */
        {"foo/+/bar/+", "foo/+/+/baz", "foo/a/bar/baz"},
        {"a/+/c/d/*", "a/+/+/d/*", "a/b/c/d/e"},
        /* 4: longer */
        {"foo/+/bar/ba*", "foo/+/bar/b*", "foo/x/bar/baz"},
        {"secret/fo*", "secret/f*", "secret/foo"},
        /* 5: greater byte-wise (only where nothing else decides) */
        {"a/+/c/+", "a/+/+/d", "a/1/c/d"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct prio_case *c = &cases[i];
        char text[512];
        /* winner reads, loser lists; the order written must not matter */
        for (int order = 0; order < 2; order++) {
            snprintf(text, sizeof(text),
                     "path \"%s\" { capabilities = [\"%s\"] }\npath \"%s\" { capabilities = [\"%s\"] }",
                     order ? c->loser : c->winner, order ? "list" : "read", order ? c->winner : c->loser,
                     order ? "read" : "list");
            const char *t = text;
            struct vault_acl_set *set = set_of(&t, 1);
            unsigned got = vault_acl_capabilities(set, c->path);
            if (got != R)
                fail_msg("case %zu (%s vs %s on %s, order %d): caps 0x%x, expected read", i, c->winner, c->loser,
                         c->path, order, got);
            vault_acl_set_free(set);
        }
    }
}

static void test_matching_rules(void **state) {
    (void)state;
    const char *t = "path \"secret/*\" { capabilities = [\"read\"] }\n"
                    "path \"kv/+/config\" { capabilities = [\"update\"] }\n"
                    "path \"team/+\" { capabilities = [\"list\"] }\n"
                    "path \"app/+/*\" { capabilities = [\"create\"] }\n"
                    "path \"lit/a+b\" { capabilities = [\"delete\"] }\n"
                    "path \"exact\" { capabilities = [\"sudo\"] }\n";
    struct vault_acl_set *set = set_of(&t, 1);
    expect_caps(set, "secret/a", R);
    expect_caps(set, "secret/a/b/c", R);
    expect_caps(set, "secret/", R);
    expect_caps(set, "secret", 0);    /* the glob covers what follows "secret/" only */
    expect_caps(set, "/secret/a", R); /* a leading '/' is ignored */
    expect_caps(set, "kv/x/config", U);
    expect_caps(set, "kv/x/y/config", 0); /* '+' is one segment */
    expect_caps(set, "kv/config", 0);
    expect_caps(set, "kv/x/config/more", 0);
    expect_caps(set, "team/a", L);
    expect_caps(set, "team/", L); /* as Vault: '+' matches an empty segment */
    expect_caps(set, "team/a/b", 0);
    expect_caps(set, "app/x/", C);
    expect_caps(set, "app/x/y/z", C);
    expect_caps(set, "app/x", 0);
    expect_caps(set, "lit/a+b", D);
    expect_caps(set, "lit/aXb", 0);
    expect_caps(set, "exact", S);
    expect_caps(set, "exact/", 0);
    expect_caps(set, "exactly", 0);
    expect_caps(set, "", 0);
    expect_caps(set, "other", 0);
    assert_i64_eq(vault_acl_capabilities(NULL, "secret/a"), 0);
    vault_acl_set_free(set);
}

static void test_identical_patterns_merge_across_policies(void **state) {
    (void)state;
    const char *texts[] = {
        "path \"secret/*\" { capabilities = [\"read\"] }\npath \"a/b\" { capabilities = [\"read\"] }",
        "path \"secret/*\" { capabilities = [\"list\"] }\npath \"/a/b\" { capabilities = [\"update\"] }",
        "path \"secret/+\" { capabilities = [\"create\"] }\npath \"secret/+\" { capabilities = [\"delete\"] }",
    };
    struct vault_acl_set *set = set_of(texts, 3);
    expect_caps(set, "a/b", R | U);
    /* the + pattern (create, delete, merged) outranks the glob (read, list) on one segment ... */
    expect_caps(set, "secret/x", C | D);
    /* ... and only the glob reaches further */
    expect_caps(set, "secret/x/y", R | L);
    vault_acl_set_free(set);

    /* no union across different patterns: the winner's capabilities only */
    const char *t2[] = {"path \"secret/*\" { capabilities = [\"read\"] }",
                        "path \"secret/foo/*\" { capabilities = [\"list\"] }"};
    set = set_of(t2, 2);
    expect_caps(set, "secret/foo/bar", L);
    vault_acl_set_free(set);
}

static void test_deny(void **state) {
    (void)state;
    /* deny in any policy's copy of a pattern leaves only deny */
    const char *texts[] = {
        "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\n"
        "path \"secret/private/*\" { capabilities = [\"read\"] }",
        "path \"secret/private/*\" { capabilities = [\"deny\"] }\n"
        "path \"secret/private/open\" { capabilities = [\"read\"] }",
    };
    struct vault_acl_set *set = set_of(texts, 2);
    expect_caps(set, "secret/a", R | L);
    expect_caps(set, "secret/private/x", 0);
    /* an exact pattern outranks the denying glob, as in Vault */
    expect_caps(set, "secret/private/open", R);
    vault_acl_set_free(set);

    /* a losing deny does nothing; a winning one removes everything */
    const char *t2 = "path \"secret/*\" { capabilities = [\"deny\"] }\n"
                     "path \"secret/ok/*\" { capabilities = [\"read\"] }\n"
                     "path \"secret/ok/no\" { capabilities = [\"deny\", \"read\"] }";
    set = set_of(&t2, 1);
    expect_caps(set, "secret/x", 0);
    expect_caps(set, "secret/ok/x", R);
    expect_caps(set, "secret/ok/no", 0);
    vault_acl_set_free(set);

    /* an empty block is a match that grants nothing */
    const char *t3 = "path \"secret/*\" { capabilities = [\"read\"] }\npath \"secret/none\" {}";
    set = set_of(&t3, 1);
    expect_caps(set, "secret/none", 0);
    expect_caps(set, "secret/some", R);
    vault_acl_set_free(set);
}

static void test_list_tries_the_path_without_its_slash(void **state) {
    (void)state;
    const char *t = "path \"secret/folder\" { capabilities = [\"list\"] }\n"
                    "path \"secret/*\" { capabilities = [\"read\"] }";
    struct vault_acl_set *set = set_of(&t, 1);
    assert_i64_eq(vault_acl_capabilities_list(set, "secret/folder/"), L);
    assert_i64_eq(vault_acl_capabilities(set, "secret/folder/"), R);
    assert_i64_eq(vault_acl_capabilities_list(set, "secret/other/"), R);
    vault_acl_set_free(set);
}

static void test_builtins(void **state) {
    (void)state;
    /* default: the token's own paths, nothing else */
    const char *t = vault_acl_default_text();
    struct vault_acl_set *set = set_of(&t, 1);
    expect_caps(set, "auth/token/lookup-self", R);
    expect_caps(set, "auth/token/renew-self", U);
    expect_caps(set, "auth/token/revoke-self", U);
    expect_caps(set, "sys/capabilities-self", U);
    expect_caps(set, "auth/token/create", 0);
    expect_caps(set, "secret/foo", 0);
    assert_false(vault_acl_set_is_root(set));
    vault_acl_set_free(set);

    /* root: everything, sudo included, whatever else is in the set */
    struct vault_acl_policy *deny_all = parse_ok("path \"*\" { capabilities = [\"deny\"] }");
    const struct vault_acl_policy *pols[] = {deny_all, NULL};
    assert_i64_eq(vault_acl_set_new(pols, 2, 1, &set), 0);
    assert_true(vault_acl_set_is_root(set));
    expect_caps(set, "secret/foo", VAULT_CAP_ALL);
    expect_caps(set, "sys/seal", VAULT_CAP_ALL);
    vault_acl_set_free(set);
    vault_acl_policy_free(deny_all);

    /* an empty set grants nothing */
    assert_i64_eq(vault_acl_set_new(NULL, 0, 0, &set), 0);
    expect_caps(set, "auth/token/lookup-self", 0);
    vault_acl_set_free(set);
    vault_acl_set_free(NULL);
    vault_acl_policy_free(NULL);
}

static void test_capability_names(void **state) {
    (void)state;
    const char *names[8];
    assert_i64_eq(vault_acl_cap_names(VAULT_CAP_ALL, names, 8), 6);
    assert_string_equal(names[0], "create");
    assert_string_equal(names[4], "list");
    assert_string_equal(names[5], "sudo");
    assert_i64_eq(vault_acl_cap_names(R | L, names, 1), 2);
    assert_string_equal(names[0], "read");
    assert_string_equal(vault_acl_cap_name(X), "deny");
    assert_null(vault_acl_cap_name(R | L));
    assert_null(vault_acl_cap_name(1u << 7));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_documents),
        cmocka_unit_test(test_refusals_name_line_and_column),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_priority_matches_vault),
        cmocka_unit_test(test_matching_rules),
        cmocka_unit_test(test_identical_patterns_merge_across_policies),
        cmocka_unit_test(test_deny),
        cmocka_unit_test(test_list_tries_the_path_without_its_slash),
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_capability_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
