/*
 * test_store_conformance.c - the behaviour every store backend must have.
 *
 * Written against store.h only, never against a backend's own headers, and
 * run once per DSN in LATCHKEY_TEST_DSNS (space separated). Without it, each
 * test gets a fresh "sqlite:" file in a temporary directory that is removed
 * afterwards. Every id, owner and meta key a test uses is unique to that
 * test, so a DSN naming a shared, already-migrated database works too.
 * Never prints a DSN beyond its scheme: it may carry a password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "store/store.h"

/* Compares latchkey error codes and prints both by name. */
#define assert_lk(expr, want)                                                                                          \
    do {                                                                                                               \
        int got_ = (expr);                                                                                             \
        int want_ = (want);                                                                                            \
        if (got_ != want_)                                                                                             \
            fail_msg("%s\n  got  %d (%s)\n  want %d (%s)", #expr, got_, lk_errname(got_), want_, lk_errname(want_));   \
    } while (0)
#define assert_ok(expr) assert_lk(expr, 0)

/* The DSN under test; NULL means a fresh SQLite file per test. */
static const char *g_dsn;

/* The read cache of the second pass (main): given to every connection setup
 * opens, so that every test also runs with reads served from it. */
static struct store_cache *g_cache;

struct fx {
    char dir[PATH_MAX]; /* temporary directory to remove; "" for a given DSN */
    char dsn[PATH_MAX + 32];
    struct store *s;  /* opened and migrated by setup (unless setup_unmigrated) */
    struct store *s2; /* a second connection a test may open; closed by teardown */
    int version;      /* what setup's store_migrate reported */
    char tag[8];      /* unique to this test */
    unsigned next;    /* numbers the ids a test makes */
};

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void make_tag(char tag[8]) {
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = mix64(((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40) ^
                       (uint64_t)++counter << 20);
    for (int i = 0; i < 7; i++, x /= 62)
        tag[i] = b62[x % 62];
    tag[7] = '\0';
}

/* Removes the files of a test's temporary directory, then the directory. */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(dir);
}

static int setup_unmigrated(void **state) {
    struct fx *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    make_tag(fx->tag);
    if (g_dsn != NULL) {
        snprintf(fx->dsn, sizeof(fx->dsn), "%s", g_dsn);
    } else {
        const char *tmp = getenv("TMPDIR");
        if (tmp == NULL || tmp[0] == '\0')
            tmp = "/tmp";
        int n = snprintf(fx->dir, sizeof(fx->dir), "%s/latchkey-store-XXXXXX", tmp);
        if (n < 0 || (size_t)n >= sizeof(fx->dir) || mkdtemp(fx->dir) == NULL) {
            free(fx);
            return -1;
        }
        snprintf(fx->dsn, sizeof(fx->dsn), "sqlite:%s/store.db", fx->dir);
    }
    *state = fx;
    return 0;
}

static int setup(void **state) {
    if (setup_unmigrated(state) != 0)
        return -1;
    struct fx *fx = *state;
    if (store_open(fx->dsn, &fx->s) != 0 || store_migrate(fx->s, &fx->version) != 0) {
        print_error("setup: cannot open and migrate the store\n");
        return -1;
    }
    store_use_cache(fx->s, g_cache);
    return 0;
}

static int teardown(void **state) {
    struct fx *fx = *state;
    if (fx == NULL)
        return 0;
    store_close(fx->s2);
    store_close(fx->s);
    if (fx->dir[0] != '\0')
        remove_dir(fx->dir);
    free(fx);
    return 0;
}

/* --- helpers ----------------------------------------------------------------- */

static void owner_of(struct fx *fx, const char *name, char out[STORE_OWNER_ID_MAX]) {
    snprintf(out, STORE_OWNER_ID_MAX, "own-%s-%s", fx->tag, name);
}

/* A complete record for (owner_type, owner_id) with a fresh id. description and
 * policies point at static data: never token_rec_done() such a record. */
static void make_rec(struct fx *fx, struct token_rec *rec, const char *owner_type, const char *owner_id) {
    unsigned n = ++fx->next;
    memset(rec, 0, sizeof(*rec));
    /* "lk_user_" + 7-char test tag + 5-char counter: the full 20-char public id. */
    char num[6];
    unsigned v = n;
    for (int i = 4; i >= 0; i--, v /= 62)
        num[i] = b62[v % 62];
    num[5] = '\0';
    snprintf(rec->id, sizeof(rec->id), "lk_user_%s%s", fx->tag, num);
    for (size_t i = 0; i < sizeof(rec->hash); i++)
        rec->hash[i] = (uint8_t)(n * 31u + i * 7u);
    rec->hash[0] = 0x00; /* a BLOB, not a C string */
    rec->hash[sizeof(rec->hash) - 1] = 0xff;
    snprintf(rec->owner_type, sizeof(rec->owner_type), "%s", owner_type);
    snprintf(rec->owner_id, sizeof(rec->owner_id), "%s", owner_id);
    snprintf(rec->org_id, sizeof(rec->org_id), "org-%s", fx->tag);
    snprintf(rec->created_by, sizeof(rec->created_by), "user:creator-%s", fx->tag);
    rec->description = (char *)"a token";
    static char read_only[][STORE_POLICY_NAME_MAX] = {"tokens:read"};
    rec->policies = read_only;
    rec->npolicies = 1;
    rec->created_at = 1700000000 + (int64_t)n;
}

static void assert_rec_equal(const struct token_rec *want, const struct token_rec *got) {
    assert_string_equal(got->id, want->id);
    assert_memory_equal(got->hash, want->hash, sizeof(want->hash));
    assert_string_equal(got->owner_type, want->owner_type);
    assert_string_equal(got->owner_id, want->owner_id);
    assert_string_equal(got->org_id, want->org_id);
    assert_string_equal(got->created_by, want->created_by);
    assert_non_null(got->description);
    assert_string_equal(got->description, want->description != NULL ? want->description : "");
    assert_int_equal(got->npolicies, want->npolicies);
    for (size_t i = 0; i < want->npolicies; i++)
        assert_string_equal(got->policies[i], want->policies[i]);
    if (want->npolicies == 0)
        assert_null(got->policies);
    assert_int_equal(got->created_at, want->created_at);
    assert_int_equal(got->expires_at, want->expires_at);
    assert_int_equal(got->last_used_at, want->last_used_at);
}

/* Fetches id and checks it equals want. */
static void assert_stored(struct store *s, const struct token_rec *want) {
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_ok(store_token_get(s, want->id, &got));
    assert_true(got.seq > 0);
    assert_rec_equal(want, &got);
    token_rec_done(&got);
}

static int64_t last_used_of(struct store *s, const char *id) {
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_ok(store_token_get(s, id, &got));
    int64_t t = got.last_used_at;
    token_rec_done(&got);
    return t;
}

/* Lists everything of an owner and checks the ids, in order. */
static void assert_listed(struct store *s, const char *owner_type, const char *owner_id, const struct token_rec *want,
                          size_t n) {
    struct token_list list = {0};
    assert_ok(store_token_list(s, owner_type, owner_id, 0, 1000, &list));
    assert_int_equal(list.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list.items[i].id, want[i].id);
    token_list_done(&list);
}

/* --- open and migrate ------------------------------------------------------- */

static void test_open_rejects_bad_dsn(void **state) {
    struct store *s = (struct store *)state; /* any non-NULL sentinel */
    struct store *const sentinel = s;
    assert_lk(store_open("nosuchscheme:/tmp/x", &s), LK_EINVAL);
    assert_lk(store_open("no-colon-at-all", &s), LK_EINVAL);
    assert_lk(store_open(":/tmp/x", &s), LK_EINVAL);
    assert_ptr_equal(s, sentinel);
}

static void test_migrate_twice_is_idempotent(void **state) {
    struct fx *fx = *state;
    int v1 = -1, v2 = -1, v3 = -1;
    assert_ok(store_open(fx->dsn, &fx->s));
    assert_ok(store_migrate(fx->s, &v1));
    assert_true(v1 >= 1);
    /* The second run applies nothing yet still reports the version in force. */
    assert_ok(store_migrate(fx->s, &v2));
    assert_int_equal(v2, v1);
    assert_ok(store_migrate(fx->s, NULL));
    assert_ok(store_open(fx->dsn, &fx->s2));
    assert_ok(store_migrate(fx->s2, &v3));
    assert_int_equal(v3, v1);
    /* And the schema is usable. */
    struct token_rec rec;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    make_rec(fx, &rec, "user", owner);
    assert_ok(store_token_insert(fx->s, &rec));
    assert_stored(fx->s2, &rec);
}

struct migrator {
    const char *dsn;
    int r;
    int version;
};

static void *migrate_thread(void *arg) {
    struct migrator *m = arg;
    struct store *s = NULL;
    m->r = store_open(m->dsn, &s);
    if (m->r == 0)
        m->r = store_migrate(s, &m->version);
    store_close(s);
    return NULL;
}

/* Several processes (here: connections on threads) starting at once on a
 * fresh database must all succeed and agree on the version. */
static void test_concurrent_migrate(void **state) {
    struct fx *fx = *state;
    enum { N = 6 };
    struct migrator m[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        m[i] = (struct migrator){.dsn = fx->dsn, .r = -999, .version = -1};
        assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_ok(m[i].r);
        assert_true(m[i].version >= 1);
        assert_int_equal(m[i].version, m[0].version);
    }
    int v = -1;
    assert_ok(store_open(fx->dsn, &fx->s));
    assert_ok(store_migrate(fx->s, &v));
    assert_int_equal(v, m[0].version);
}

/* --- tokens ------------------------------------------------------------------ */

static void test_insert_get_round_trip(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);

    struct token_rec full;
    make_rec(fx, &full, "service_account", owner);
    full.description = (char *)"Déploiement – ключ 🔑 \"quoted\" 'single'";
    /* Policies come back as the names they were, in order, whatever they hold. */
    static char names[][STORE_POLICY_NAME_MAX] = {"tokens:read", "secrets:*", "*", "quo\"te \\ ünï 🔑", "tokens:read"};
    full.policies = names;
    full.npolicies = sizeof(names) / sizeof(names[0]);
    full.created_at = 1700000123;
    full.expires_at = 253402300799; /* 9999-12-31: beyond 32 bits */
    full.last_used_at = 4102444800; /* 2100-01-01 */
    assert_ok(store_token_insert(fx->s, &full));
    assert_stored(fx->s, &full);

    /* Zeros mean "never" and come back as zeros; empty strings stay empty. */
    struct token_rec bare;
    make_rec(fx, &bare, "user", owner);
    bare.org_id[0] = '\0';
    bare.created_by[0] = '\0';
    bare.description = (char *)"";
    bare.expires_at = 0;
    bare.last_used_at = 0;
    bare.policies = NULL; /* no policies: none come back */
    bare.npolicies = 0;
    assert_ok(store_token_insert(fx->s, &bare));
    assert_stored(fx->s, &bare);

    /* A NULL description reads back as "", never NULL. */
    struct token_rec nodesc;
    make_rec(fx, &nodesc, "user", owner);
    nodesc.description = NULL;
    assert_ok(store_token_insert(fx->s, &nodesc));
    assert_stored(fx->s, &nodesc);

    /* seq is assigned by the store and increases. */
    struct token_rec a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_ok(store_token_get(fx->s, full.id, &a));
    assert_ok(store_token_get(fx->s, bare.id, &b));
    assert_true(b.seq > a.seq);
    token_rec_done(&a);
    token_rec_done(&b);
}

/* A token's policies: up to STORE_POLICIES_MAX names of up to
 * STORE_POLICY_NAME_MAX - 1 bytes each, and nothing else. */
static void test_policies_limits(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "p", owner);
    static char longest[STORE_POLICY_NAME_MAX];
    memset(longest, 'p', sizeof(longest) - 1);
    const char *most[STORE_POLICIES_MAX + 1];
    for (size_t i = 0; i <= STORE_POLICIES_MAX; i++)
        most[i] = longest;

    struct token_rec t;
    make_rec(fx, &t, "user", owner);
    t.policies = NULL;
    t.npolicies = 0;
    assert_ok(token_rec_set_policies(&t, most, STORE_POLICIES_MAX));
    assert_int_equal(t.npolicies, STORE_POLICIES_MAX);
    t.description = NULL; /* make_rec's is static; t owns its policies, freed below */
    assert_ok(store_token_insert(fx->s, &t));
    assert_stored(fx->s, &t);

    /* Refused, and t left as it was. */
    char too_long[STORE_POLICY_NAME_MAX + 1];
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    const char *bad_long[] = {"tokens.view", too_long};
    const char *bad_empty[] = {""};
    const char *bad_null[] = {NULL};
    assert_lk(token_rec_set_policies(&t, most, STORE_POLICIES_MAX + 1), LK_EINVAL);
    assert_lk(token_rec_set_policies(&t, bad_long, 2), LK_EINVAL);
    assert_lk(token_rec_set_policies(&t, bad_empty, 1), LK_EINVAL);
    assert_lk(token_rec_set_policies(&t, bad_null, 1), LK_EINVAL);
    assert_lk(token_rec_set_policies(&t, NULL, 1), LK_EINVAL);
    assert_int_equal(t.npolicies, STORE_POLICIES_MAX);
    assert_ok(token_rec_set_policies(&t, NULL, 0));
    assert_null(t.policies);

    /* A record whose list breaks the limits is not stored. */
    struct token_rec bad;
    make_rec(fx, &bad, "user", owner);
    bad.npolicies = STORE_POLICIES_MAX + 1;
    assert_lk(store_token_insert(fx->s, &bad), LK_EINVAL);
    static char unterminated[1][STORE_POLICY_NAME_MAX];
    memset(unterminated[0], 'u', sizeof(unterminated[0]));
    bad.policies = unterminated;
    bad.npolicies = 1;
    assert_lk(store_token_insert(fx->s, &bad), LK_EINVAL);
    bad.policies = NULL;
    assert_lk(store_token_insert(fx->s, &bad), LK_EINVAL);
    token_rec_done(&t);
}

static void test_insert_duplicate_conflicts(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec rec, dup;
    make_rec(fx, &rec, "user", owner);
    assert_ok(store_token_insert(fx->s, &rec));

    make_rec(fx, &dup, "user", owner);
    memcpy(dup.id, rec.id, sizeof(dup.id));
    dup.description = (char *)"the impostor";
    assert_lk(store_token_insert(fx->s, &dup), LK_ECONFLICT);

    /* The original is untouched and alone. */
    assert_stored(fx->s, &rec);
    assert_listed(fx->s, "user", owner, &rec, 1);
}

static void test_get_unknown_is_notfound(void **state) {
    struct fx *fx = *state;
    struct token_rec got, before;
    memset(&got, 0xa5, sizeof(got));
    memcpy(&before, &got, sizeof(got));
    char id[TOKFMT_PUBID_BUFSZ];
    snprintf(id, sizeof(id), "lk_user_%snope0", fx->tag);
    assert_lk(store_token_get(fx->s, id, &got), LK_ENOTFOUND);
    /* Out parameters are not written on failure. */
    assert_memory_equal(&got, &before, sizeof(got));
}

static void test_list_order_pagination_isolation(void **state) {
    struct fx *fx = *state;
    char a[STORE_OWNER_ID_MAX], b[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", a);
    owner_of(fx, "b", b);
    struct token_rec ta[5], tb[2], tc[1];

    /* Interleaved with other owners' tokens, including one with the same
     * owner_id but another owner_type. */
    make_rec(fx, &ta[0], "user", a);
    make_rec(fx, &tb[0], "user", b);
    make_rec(fx, &ta[1], "user", a);
    make_rec(fx, &tc[0], "service_account", a);
    make_rec(fx, &ta[2], "user", a);
    make_rec(fx, &ta[3], "user", a);
    make_rec(fx, &tb[1], "user", b);
    make_rec(fx, &ta[4], "user", a);
    const struct token_rec *order[] = {&ta[0], &tb[0], &ta[1], &tc[0], &ta[2], &ta[3], &tb[1], &ta[4]};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        assert_ok(store_token_insert(fx->s, order[i]));

    /* Everything, in insertion order, with full records. */
    struct token_list list = {0};
    assert_ok(store_token_list(fx->s, "user", a, 0, 1000, &list));
    assert_int_equal(list.count, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_rec_equal(&ta[i], &list.items[i]);
        if (i > 0)
            assert_true(list.items[i].seq > list.items[i - 1].seq);
    }
    int64_t seq2 = list.items[2].seq;
    token_list_done(&list);
    assert_null(list.items);
    assert_int_equal(list.count, 0);

    /* Pages of two, following the cursor to the end. */
    int64_t cursor = 0;
    const size_t pages[] = {2, 2, 1, 0};
    size_t seen = 0;
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        assert_ok(store_token_list(fx->s, "user", a, cursor, 2, &list));
        assert_int_equal(list.count, pages[p]);
        for (size_t i = 0; i < list.count; i++, seen++)
            assert_string_equal(list.items[i].id, ta[seen].id);
        if (list.count > 0)
            cursor = list.items[list.count - 1].seq;
        token_list_done(&list);
    }
    assert_int_equal(seen, 5);

    /* after_seq is exclusive. */
    assert_ok(store_token_list(fx->s, "user", a, seq2, 1000, &list));
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, ta[3].id);
    assert_string_equal(list.items[1].id, ta[4].id);
    token_list_done(&list);

    /* Other owners see only their own. */
    assert_listed(fx->s, "user", b, tb, 2);
    assert_listed(fx->s, "service_account", a, tc, 1);
    char nobody[STORE_OWNER_ID_MAX];
    owner_of(fx, "nobody", nobody);
    assert_listed(fx->s, "user", nobody, NULL, 0);

    /* limit outside 1..1000 is refused and leaves the list alone. */
    struct token_list untouched = {.items = (struct token_rec *)ta, .count = 77};
    assert_lk(store_token_list(fx->s, "user", a, 0, 0, &untouched), LK_EINVAL);
    assert_lk(store_token_list(fx->s, "user", a, 0, 1001, &untouched), LK_EINVAL);
    assert_ptr_equal(untouched.items, ta);
    assert_int_equal(untouched.count, 77);
}

static void test_delete(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec x, y;
    make_rec(fx, &x, "user", owner);
    make_rec(fx, &y, "user", owner);
    assert_ok(store_token_insert(fx->s, &x));
    assert_ok(store_token_insert(fx->s, &y));

    assert_ok(store_token_delete(fx->s, x.id));
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, x.id, &got), LK_ENOTFOUND);
    assert_lk(store_token_delete(fx->s, x.id), LK_ENOTFOUND);
    /* Only x went. */
    assert_stored(fx->s, &y);
    assert_listed(fx->s, "user", owner, &y, 1);
}

static void test_delete_owner(void **state) {
    struct fx *fx = *state;
    char a[STORE_OWNER_ID_MAX], b[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", a);
    owner_of(fx, "b", b);
    struct token_rec ta[4], tb, tc;
    for (int i = 0; i < 4; i++) {
        make_rec(fx, &ta[i], "user", a);
        assert_ok(store_token_insert(fx->s, &ta[i]));
    }
    make_rec(fx, &tb, "user", b);
    make_rec(fx, &tc, "service_account", a); /* same owner_id, other type */
    assert_ok(store_token_insert(fx->s, &tb));
    assert_ok(store_token_insert(fx->s, &tc));

    size_t count = 999;
    assert_ok(store_token_delete_owner(fx->s, "user", a, ta[2].id, &count));
    assert_int_equal(count, 3);
    assert_listed(fx->s, "user", a, &ta[2], 1);
    assert_listed(fx->s, "user", b, &tb, 1);
    assert_listed(fx->s, "service_account", a, &tc, 1);

    count = 999;
    assert_ok(store_token_delete_owner(fx->s, "user", a, NULL, &count));
    assert_int_equal(count, 1);
    assert_listed(fx->s, "user", a, NULL, 0);

    count = 999;
    assert_ok(store_token_delete_owner(fx->s, "user", a, NULL, &count));
    assert_int_equal(count, 0);
    assert_ok(store_token_delete_owner(fx->s, "user", a, NULL, NULL));

    /* A keep_id that is not the owner's keeps nothing of the owner's. */
    count = 999;
    assert_ok(store_token_delete_owner(fx->s, "user", b, tc.id, &count));
    assert_int_equal(count, 1);
    assert_listed(fx->s, "service_account", a, &tc, 1);
}

/* One kind of an owner's tokens goes (sessions at a password change), the
 * rest stay, whatever other owners hold. */
static void test_delete_owner_prefix(void **state) {
    struct fx *fx = *state;
    char a[STORE_OWNER_ID_MAX], b[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", a);
    owner_of(fx, "b", b);
    struct token_rec sess[2], api, other;
    for (int i = 0; i < 2; i++) {
        make_rec(fx, &sess[i], "user", a);
        memcpy(sess[i].id, "lk_sess_", 8); /* same length as "lk_user_" */
        assert_ok(store_token_insert(fx->s, &sess[i]));
    }
    make_rec(fx, &api, "user", a);
    make_rec(fx, &other, "user", b);
    memcpy(other.id, "lk_sess_", 8);
    assert_ok(store_token_insert(fx->s, &api));
    assert_ok(store_token_insert(fx->s, &other));

    size_t count = 999;
    assert_ok(store_token_delete_owner_prefix(fx->s, "user", a, "lk_sess_", &count));
    assert_int_equal(count, 2);
    assert_listed(fx->s, "user", a, &api, 1);
    assert_listed(fx->s, "user", b, &other, 1);
    count = 999;
    assert_ok(store_token_delete_owner_prefix(fx->s, "user", a, "lk_sess_", &count));
    assert_int_equal(count, 0);
    /* A prefix is matched literally: LIKE's wildcards mean nothing here. */
    assert_ok(store_token_delete_owner_prefix(fx->s, "user", a, "lk_%", &count));
    assert_int_equal(count, 0);
    assert_lk(store_token_delete_owner_prefix(fx->s, "user", a, "", &count), LK_EINVAL);
    assert_listed(fx->s, "user", a, &api, 1);
}

static void test_touch(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX], unknown[TOKFMT_PUBID_BUFSZ];
    owner_of(fx, "a", owner);
    snprintf(unknown, sizeof(unknown), "lk_user_%snope0", fx->tag);
    struct token_rec x, y;
    make_rec(fx, &x, "user", owner);
    make_rec(fx, &y, "user", owner);
    y.last_used_at = 1000;
    assert_ok(store_token_insert(fx->s, &x));
    assert_ok(store_token_insert(fx->s, &y));

    struct token_touch t1[] = {{x.id, 100}};
    assert_ok(store_token_touch(fx->s, t1, 1));
    assert_int_equal(last_used_of(fx->s, x.id), 100);

    /* Never lowers. */
    struct token_touch t2[] = {{x.id, 50}};
    assert_ok(store_token_touch(fx->s, t2, 1));
    assert_int_equal(last_used_of(fx->s, x.id), 100);

    /* A batch: unknown ids are skipped, the rest still applied. */
    struct token_touch t3[] = {{unknown, 999}, {x.id, 200}, {y.id, 500}};
    assert_ok(store_token_touch(fx->s, t3, 3));
    assert_int_equal(last_used_of(fx->s, x.id), 200);
    assert_int_equal(last_used_of(fx->s, y.id), 1000);
    struct token_rec got;
    memset(&got, 0xa5, sizeof(got));
    assert_lk(store_token_get(fx->s, unknown, &got), LK_ENOTFOUND);

    /* The same id twice in a batch: the later, lower time does not win. */
    struct token_touch t4[] = {{x.id, 300}, {x.id, 250}};
    assert_ok(store_token_touch(fx->s, t4, 2));
    assert_int_equal(last_used_of(fx->s, x.id), 300);

    /* Nothing to do is fine. */
    assert_ok(store_token_touch(fx->s, NULL, 0));

    /* Touch changes nothing else. */
    x.last_used_at = 300;
    assert_stored(fx->s, &x);
}

/* --- transactions ------------------------------------------------------------ */

struct tx_arg {
    struct token_rec *recs;
    size_t n;
    int result;               /* what fn returns after its inserts */
    struct token_touch touch; /* applied when touch.id is set */
    int calls;
    int nested;         /* store_tx's answer to a nested call, if tried */
    int nested_migrate; /* store_migrate's answer inside a tx, if tried */
    int try_nested;
};

static int tx_inner(struct store *s, void *arg) {
    struct tx_arg *a = arg;
    a->calls++;
    return 0;
}

static int tx_fn(struct store *s, void *arg) {
    struct tx_arg *a = arg;
    a->calls++;
    for (size_t i = 0; i < a->n; i++) {
        int r = store_token_insert(s, &a->recs[i]);
        if (r != 0)
            return r;
    }
    if (a->touch.id != NULL) {
        int r = store_token_touch(s, &a->touch, 1);
        if (r != 0)
            return r;
    }
    if (a->try_nested) {
        a->nested = store_tx(s, tx_inner, a);
        a->nested_migrate = store_migrate(s, NULL);
    }
    return a->result;
}

static void test_tx_commits(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec recs[2];
    make_rec(fx, &recs[0], "user", owner);
    make_rec(fx, &recs[1], "user", owner);
    struct tx_arg a = {.recs = recs, .n = 2, .result = 0};
    assert_ok(store_tx(fx->s, tx_fn, &a));
    assert_int_equal(a.calls, 1);
    /* Committed: another connection sees both. */
    assert_ok(store_open(fx->dsn, &fx->s2));
    assert_stored(fx->s2, &recs[0]);
    assert_stored(fx->s2, &recs[1]);
}

static void test_tx_rolls_back_on_error(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec rec, got;
    make_rec(fx, &rec, "user", owner);
    struct tx_arg a = {.recs = &rec, .n = 1, .result = LK_EINVAL};
    assert_lk(store_tx(fx->s, tx_fn, &a), LK_EINVAL);
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, rec.id, &got), LK_ENOTFOUND);

    /* No transaction lingers: a plain insert now is committed at once. */
    assert_ok(store_token_insert(fx->s, &rec));
    assert_ok(store_open(fx->dsn, &fx->s2));
    assert_stored(fx->s2, &rec);

    /* A store error inside fn rolls back what fn did before it. */
    struct token_rec recs[2];
    make_rec(fx, &recs[0], "user", owner);
    make_rec(fx, &recs[1], "user", owner);
    memcpy(recs[1].id, rec.id, sizeof(rec.id)); /* conflicts */
    struct tx_arg b = {.recs = recs, .n = 2, .result = 0};
    assert_lk(store_tx(fx->s, tx_fn, &b), LK_ECONFLICT);
    assert_lk(store_token_get(fx->s, recs[0].id, &got), LK_ENOTFOUND);
    assert_lk(store_token_get(fx->s2, recs[0].id, &got), LK_ENOTFOUND);
    assert_listed(fx->s, "user", owner, &rec, 1);
}

static void test_tx_nesting_refused(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec rec;
    make_rec(fx, &rec, "user", owner);
    struct tx_arg a = {.recs = &rec, .n = 1, .result = 0, .try_nested = 1, .nested = 1, .nested_migrate = 1};
    assert_ok(store_tx(fx->s, tx_fn, &a));
    assert_lk(a.nested, LK_EINTERNAL);
    assert_lk(a.nested_migrate, LK_EINTERNAL);
    assert_int_equal(a.calls, 1); /* the nested fn never ran */
    /* The refused nested call did not disturb the outer transaction. */
    assert_ok(store_open(fx->dsn, &fx->s2));
    assert_stored(fx->s2, &rec);
    /* And the store is usable for the next transaction. */
    struct token_rec rec2;
    make_rec(fx, &rec2, "user", owner);
    struct tx_arg b = {.recs = &rec2, .n = 1, .result = 0};
    assert_ok(store_tx(fx->s, tx_fn, &b));
    assert_stored(fx->s2, &rec2);
}

/* Inside store_tx, touch joins the caller's transaction instead of committing its own. */
static void test_touch_inside_tx(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec rec;
    make_rec(fx, &rec, "user", owner);
    assert_ok(store_token_insert(fx->s, &rec));

    struct tx_arg a = {.touch = {rec.id, 500}, .result = LK_EINVAL};
    assert_lk(store_tx(fx->s, tx_fn, &a), LK_EINVAL);
    assert_int_equal(last_used_of(fx->s, rec.id), 0);

    struct tx_arg b = {.touch = {rec.id, 500}, .result = 0};
    assert_ok(store_tx(fx->s, tx_fn, &b));
    assert_int_equal(last_used_of(fx->s, rec.id), 500);
}

/* store_read_tx's fn: reads one token, lets another connection commit a
 * second, then tries to read it and to write. */
struct read_tx_arg {
    struct fx *fx;
    const struct token_rec *seen, *later, *refused;
    int calls;
    int got_seen, got_later;        /* store_token_get's answers inside */
    int insert, touch, tx, read_tx; /* the writes' and the nesting's answers */
    int result;                     /* what fn returns */
};

static int read_tx_fn(struct store *s, void *arg) {
    struct read_tx_arg *a = arg;
    struct token_rec got;
    if (a->calls++ > 0) /* the nested store_read_tx runs it again: no more */
        return 0;
    memset(&got, 0, sizeof(got));
    a->got_seen = store_token_get(s, a->seen->id, &got);
    token_rec_done(&got);
    /* Another connection commits meanwhile: it never waits for this one. */
    if (store_token_insert(a->fx->s2, a->later) != 0)
        return LK_EINTERNAL;
    a->got_later = store_token_get(s, a->later->id, &got);
    token_rec_done(&got);
    a->insert = store_token_insert(s, a->refused);
    struct token_touch touch = {a->seen->id, 500};
    a->touch = store_token_touch(s, &touch, 1);
    a->tx = store_tx(s, tx_inner, &(struct tx_arg){0});
    a->read_tx = store_read_tx(s, read_tx_fn, a);
    return a->result;
}

/* A read transaction sees one snapshot, refuses writes, and leaves nothing
 * open behind it, whatever fn answers. */
static void test_read_tx_one_snapshot_no_writes(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec seen, later, refused, later2, got;
    make_rec(fx, &seen, "user", owner);
    make_rec(fx, &later, "user", owner);
    make_rec(fx, &refused, "user", owner);
    make_rec(fx, &later2, "user", owner);
    assert_ok(store_token_insert(fx->s, &seen));
    assert_ok(store_open(fx->dsn, &fx->s2));

    struct read_tx_arg a = {.fx = fx, .seen = &seen, .later = &later, .refused = &refused, .result = 0};
    assert_ok(store_read_tx(fx->s, read_tx_fn, &a));
    assert_ok(a.got_seen);
    assert_lk(a.got_later, LK_ENOTFOUND); /* committed after the snapshot */
    assert_lk(a.insert, LK_EINTERNAL);
    assert_lk(a.touch, LK_EINTERNAL);
    assert_lk(a.tx, LK_EINTERNAL);
    assert_ok(a.read_tx);
    assert_int_equal(a.calls, 2); /* the nested one ran fn inside this one */
    /* Ended: the later token shows now, the refused one was never written,
     * and last_used_at did not move. */
    assert_stored(fx->s, &later);
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, refused.id, &got), LK_ENOTFOUND);
    assert_int_equal(last_used_of(fx->s, seen.id), 0);

    /* fn's failure is the answer, and ends the transaction too. */
    struct read_tx_arg b = {.fx = fx, .seen = &seen, .later = &later2, .refused = &refused, .result = LK_EINVAL};
    assert_lk(store_read_tx(fx->s, read_tx_fn, &b), LK_EINVAL);
    assert_lk(b.got_later, LK_ENOTFOUND);
    assert_stored(fx->s, &later2);
    /* Back to autocommit: a plain write commits at once. */
    assert_ok(store_token_insert(fx->s, &refused));
    assert_stored(fx->s2, &refused);
    assert_lk(store_read_tx(NULL, read_tx_fn, &b), LK_EINVAL);
    assert_lk(store_read_tx(fx->s, NULL, &b), LK_EINVAL);
}

static int read_then_insert(struct store *s, void *arg) {
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    int r = store_token_get(s, ((const struct token_rec *)arg)->id, &got);
    token_rec_done(&got);
    return r == LK_ENOTFOUND ? store_token_insert(s, arg) : LK_EINTERNAL;
}

static int read_tx_in_tx(struct store *s, void *arg) {
    return store_read_tx(s, read_then_insert, arg);
}

/* Inside store_tx or a request, fn runs in what is open, writes and all. */
static void test_read_tx_inside_a_transaction_joins_it(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec in_tx, in_request, got;
    make_rec(fx, &in_tx, "user", owner);
    make_rec(fx, &in_request, "user", owner);
    assert_ok(store_open(fx->dsn, &fx->s2));

    assert_ok(store_tx(fx->s, read_tx_in_tx, &in_tx));
    assert_stored(fx->s2, &in_tx);

    store_request_begin(fx->s);
    assert_ok(store_read_tx(fx->s, read_then_insert, &in_request));
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s2, in_request.id, &got), LK_ENOTFOUND);
    assert_ok(store_request_end(fx->s, 1));
    assert_stored(fx->s2, &in_request);
}

/* --- OIDC signing keys (migration 0021) --------------------------------------- */

static void oidc_key(struct fx *fx, const char *name, int64_t sign_from, struct oidc_key_rec *rec) {
    static uint8_t sealed[] = {1, 2, 3, 0, 255, 7};
    memset(rec, 0, sizeof(*rec));
    snprintf(rec->kid, sizeof(rec->kid), "%s-%s", name, fx->tag);
    snprintf(rec->alg, sizeof(rec->alg), "%s", "ES256");
    rec->private_sealed = sealed;
    rec->private_sealed_len = sizeof(sealed);
    rec->public_jwk = (char *)"{\"kty\":\"EC\"}";
    rec->created_at = 1000;
    rec->publish_from = 1000;
    rec->sign_from = sign_from;
    rec->retire_after = 99; /* ignored: a new key is never retired */
}

static const struct oidc_key_rec *find_key(const struct oidc_key_list *l, const char *kid) {
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].kid, kid) == 0)
            return &l->items[i];
    return NULL;
}

/* Keys round-trip (the sealed private key's bytes, the JWK, the times);
 * a kid is taken once; retiring marks every other key once (one that never
 * signed at once, the others at the time given); deleting takes only the
 * keys whose time has come. */
static void test_oidc_keys(void **state) {
    struct fx *fx = *state;
    struct oidc_key_rec signed_key, ahead, fresh;
    oidc_key(fx, "signed", 1000, &signed_key);
    oidc_key(fx, "ahead", 5000, &ahead);
    oidc_key(fx, "fresh", 2000, &fresh);
    assert_ok(store_oidc_key_insert(fx->s, &signed_key));
    assert_ok(store_oidc_key_insert(fx->s, &ahead));
    assert_lk(store_oidc_key_insert(fx->s, &ahead), LK_ECONFLICT);
    assert_ok(store_oidc_key_insert(fx->s, &fresh));
    struct oidc_key_list l = {0};
    assert_ok(store_oidc_key_list(fx->s, &l));
    const struct oidc_key_rec *a = find_key(&l, signed_key.kid), *b = find_key(&l, ahead.kid);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->seq < b->seq);
    assert_string_equal(a->alg, "ES256");
    assert_int_equal(a->private_sealed_len, signed_key.private_sealed_len);
    assert_memory_equal(a->private_sealed, signed_key.private_sealed, a->private_sealed_len);
    assert_string_equal(a->public_jwk, signed_key.public_jwk);
    assert_int_equal(a->created_at, 1000);
    assert_int_equal(a->sign_from, 1000);
    assert_int_equal(a->retire_after, 0);
    assert_int_equal(b->sign_from, 5000);
    oidc_key_list_done(&l);

    /* At 3000 the "fresh" key takes over: "signed" is kept until 9000,
     * "ahead" never signed and goes at once. Asked again, nothing changes. */
    size_t changed = 0;
    assert_ok(store_oidc_key_retire(fx->s, fresh.kid, 3000, 9000, &changed));
    if (g_dsn == NULL)
        assert_int_equal(changed, 2);
    assert_ok(store_oidc_key_retire(fx->s, fresh.kid, 3100, 9100, &changed));
    if (g_dsn == NULL)
        assert_int_equal(changed, 0);
    assert_ok(store_oidc_key_list(fx->s, &l));
    assert_int_equal(find_key(&l, signed_key.kid)->retire_after, 9000);
    assert_int_equal(find_key(&l, ahead.kid)->retire_after, 3000);
    assert_int_equal(find_key(&l, fresh.kid)->retire_after, 0);
    oidc_key_list_done(&l);

    size_t deleted = 0;
    assert_ok(store_oidc_key_delete_retired(fx->s, 3000, &deleted));
    assert_ok(store_oidc_key_list(fx->s, &l));
    assert_null(find_key(&l, ahead.kid));
    assert_non_null(find_key(&l, signed_key.kid));
    oidc_key_list_done(&l);
    assert_ok(store_oidc_key_delete_retired(fx->s, 8999, &deleted));
    if (g_dsn == NULL)
        assert_int_equal(deleted, 0);
    assert_ok(store_oidc_key_delete_retired(fx->s, 9000, &deleted));
    assert_ok(store_oidc_key_list(fx->s, &l));
    assert_null(find_key(&l, signed_key.kid));
    assert_non_null(find_key(&l, fresh.kid));
    oidc_key_list_done(&l);
}

/* --- meta -------------------------------------------------------------------- */

static void test_meta(void **state) {
    struct fx *fx = *state;
    char key[64], other[64];
    snprintf(key, sizeof(key), "test.%s.key", fx->tag);
    snprintf(other, sizeof(other), "test.%s.other", fx->tag);
    char *v = (char *)key; /* sentinel */
    assert_lk(store_meta_get(fx->s, key, &v), LK_ENOTFOUND);
    assert_ptr_equal(v, key);

    assert_ok(store_meta_set(fx->s, key, "v1"));
    assert_ok(store_meta_get(fx->s, key, &v));
    assert_string_equal(v, "v1");
    free(v);

    assert_ok(store_meta_set(fx->s, key, "zwei – ü 🔑"));
    assert_ok(store_meta_get(fx->s, key, &v));
    assert_string_equal(v, "zwei – ü 🔑");
    free(v);

    assert_ok(store_meta_set(fx->s, key, ""));
    assert_ok(store_meta_get(fx->s, key, &v));
    assert_string_equal(v, "");
    free(v);

    v = (char *)key;
    assert_lk(store_meta_get(fx->s, other, &v), LK_ENOTFOUND);
    assert_ptr_equal(v, key);

    /* Delete: gone, the other key untouched; a second delete finds none. */
    assert_ok(store_meta_set(fx->s, other, "stays"));
    assert_ok(store_meta_delete(fx->s, key));
    assert_lk(store_meta_get(fx->s, key, &v), LK_ENOTFOUND);
    assert_lk(store_meta_delete(fx->s, key), LK_ENOTFOUND);
    assert_ok(store_meta_get(fx->s, other, &v));
    assert_string_equal(v, "stays");
    free(v);
    assert_lk(store_meta_delete(fx->s, NULL), LK_EINVAL);
}

/* --- connections and durability ----------------------------------------------- */

static void test_two_connections_see_each_other(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX], key[64];
    owner_of(fx, "a", owner);
    snprintf(key, sizeof(key), "test.%s.key", fx->tag);
    assert_ok(store_open(fx->dsn, &fx->s2));

    struct token_rec rec;
    make_rec(fx, &rec, "user", owner);
    assert_ok(store_token_insert(fx->s, &rec));
    assert_stored(fx->s2, &rec);
    assert_listed(fx->s2, "user", owner, &rec, 1);

    struct token_touch t = {rec.id, 4242};
    assert_ok(store_token_touch(fx->s2, &t, 1));
    assert_int_equal(last_used_of(fx->s, rec.id), 4242);

    char *v = NULL;
    assert_ok(store_meta_set(fx->s2, key, "from s2"));
    assert_ok(store_meta_get(fx->s, key, &v));
    assert_string_equal(v, "from s2");
    free(v);
    assert_ok(store_meta_set(fx->s, key, "from s1"));
    assert_ok(store_meta_get(fx->s2, key, &v));
    assert_string_equal(v, "from s1");
    free(v);

    assert_ok(store_token_delete(fx->s2, rec.id));
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, rec.id, &got), LK_ENOTFOUND);
}

/* The checkpointer of svc/audit.c: passes on their own connection while
 * another commits, which finishes what they left between its commits. */
struct beside {
    struct store *s;
    atomic_int stop;    /* set by the committing thread; volatile would be a data race */
    int passes, failed; /* read after the join */
};

static void *checkpoint_beside(void *arg) {
    struct beside *b = arg;
    while (!atomic_load(&b->stop)) {
        if (!store_checkpoint_due(b->s)) {
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        b->failed |= store_checkpoint(b->s) != 0;
        b->passes++;
    }
    return NULL;
}

static void test_checkpoints_beside_commits_keep_the_log_bounded(void **state) {
    struct fx *fx = *state;
    char key[64], want[32];
    char *v = NULL;
    assert_ok(store_open(fx->dsn, &fx->s2));
    assert_ok(store_background_writes(fx->s, 0));
    assert_ok(store_background_writes(fx->s2, 0));
    struct beside b = {.s = fx->s2};
    atomic_init(&b.stop, 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, checkpoint_beside, &b), 0);
    /* Each commit appends a page or two to SQLite's log: some 30000 pages. */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "test.%s.%d", fx->tag, i % 50);
        snprintf(want, sizeof(want), "%d", i);
        assert_ok(store_meta_set(fx->s, key, want));
        assert_ok(store_checkpoint_finish(fx->s));
    }
    atomic_store(&b.stop, 1);
    pthread_join(tid, NULL);
    assert_int_equal(b.failed, 0);
    for (int i = 19950; i < 20000; i++) {
        snprintf(key, sizeof(key), "test.%s.%d", fx->tag, i % 50);
        snprintf(want, sizeof(want), "%d", i);
        assert_ok(store_meta_get(fx->s2, key, &v));
        assert_string_equal(v, want);
        free(v);
    }
    if (fx->dir[0] == '\0')
        return; /* a given DSN: its files are not ours to look at */
    /* A pass beside commits copies only the log it found; unless the
     * committing side finishes, SQLite never starts the log over (it grew
     * past 100 MB here before store_checkpoint_finish existed). A log that
     * does start over still reaches 6-31 MB here, with the high-water
     * mark set by whichever pass a slow disk held up while commits went on
     * (the 16 MB bound this had failed 2 runs in 10, before and after
     * migration 0010): the bound is for the first, not the second. */
    assert_true(b.passes > 0);
    char wal[PATH_MAX + 32];
    snprintf(wal, sizeof(wal), "%s/store.db-wal", fx->dir);
    struct stat st;
    if (stat(wal, &st) == 0 && st.st_size >= 48 * 1024 * 1024)
        fail_msg("the log grew to %lld bytes over 20000 small commits", (long long)st.st_size);
}

static void test_survives_reopen(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX], key[64];
    owner_of(fx, "a", owner);
    snprintf(key, sizeof(key), "test.%s.key", fx->tag);
    struct token_rec rec;
    make_rec(fx, &rec, "user", owner);
    rec.expires_at = 1800000000;
    assert_ok(store_token_insert(fx->s, &rec));
    struct token_touch t = {rec.id, 1700000999};
    assert_ok(store_token_touch(fx->s, &t, 1));
    rec.last_used_at = 1700000999;
    assert_ok(store_meta_set(fx->s, key, "kept"));

    store_close(fx->s);
    fx->s = NULL;
    assert_ok(store_open(fx->dsn, &fx->s));
    int v = -1;
    assert_ok(store_migrate(fx->s, &v));
    assert_int_equal(v, fx->version);
    assert_stored(fx->s, &rec);
    char *val = NULL;
    assert_ok(store_meta_get(fx->s, key, &val));
    assert_string_equal(val, "kept");
    free(val);
}

static void test_done_functions_are_null_safe(void **state) {
    token_rec_done(NULL);
    token_list_done(NULL);
    struct token_list empty = {0};
    token_list_done(&empty);
    assert_null(empty.items);
    assert_int_equal(empty.count, 0);
    notice_list_done(NULL);
    workload_list_done(NULL);
    workload_binding_list_done(NULL);
    trusted_issuer_list_done(NULL);
    store_close(NULL);
}

/* --- organisations and users ------------------------------------------------ */

static void make_org(struct fx *fx, struct org_rec *o, const char *name) {
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "org_%s%u", fx->tag, ++fx->next);
    snprintf(o->name, sizeof(o->name), "%s-%s", name, fx->tag);
    snprintf(o->display_name, sizeof(o->display_name), "Display \xc3\xa9 %s", name);
    snprintf(o->status, sizeof(o->status), "active");
    o->token_expiry_hours = 720;
    o->allow_non_expiring_tokens = 1;
    o->created_at = 1700000000;
    o->updated_at = 1700000001;
}

/* A user of o; password_hash stays NULL (tests that set one point it at a
 * literal: never user_rec_done() such a record). */
static void make_user(struct fx *fx, struct user_rec *u, const struct org_rec *o, const char *username) {
    memset(u, 0, sizeof(*u));
    snprintf(u->id, sizeof(u->id), "usr_%s%u", fx->tag, ++fx->next);
    snprintf(u->org_id, sizeof(u->org_id), "%s", o->id);
    snprintf(u->username, sizeof(u->username), "%s", username);
    snprintf(u->email, sizeof(u->email), "%s@example.com", username);
    snprintf(u->role, sizeof(u->role), "member");
    u->created_at = 1700000002;
    u->updated_at = 1700000003;
}

/* Every field but seq. */
static void assert_org_equal(const struct org_rec *want, const struct org_rec *got) {
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->name, want->name);
    assert_string_equal(got->display_name, want->display_name);
    assert_string_equal(got->status, want->status);
    assert_int_equal(got->token_expiry_hours, want->token_expiry_hours);
    assert_int_equal(got->allow_non_expiring_tokens, want->allow_non_expiring_tokens);
    assert_int_equal(got->notify_short_lived_tokens, want->notify_short_lived_tokens);
    assert_int_equal(got->created_at, want->created_at);
    assert_int_equal(got->updated_at, want->updated_at);
}

static void assert_user_equal(const struct user_rec *want, const struct user_rec *got) {
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->org_id, want->org_id);
    assert_string_equal(got->username, want->username);
    assert_string_equal(got->email, want->email);
    if (want->password_hash == NULL)
        assert_null(got->password_hash);
    else
        assert_string_equal(got->password_hash, want->password_hash);
    assert_string_equal(got->role, want->role);
    assert_int_equal(got->programmatic_only, want->programmatic_only);
    assert_int_equal(got->token_expiry_hours, want->token_expiry_hours);
    assert_int_equal(got->created_at, want->created_at);
    assert_int_equal(got->updated_at, want->updated_at);
}

static void assert_org_stored(struct store *s, const struct org_rec *want) {
    struct org_rec got;
    assert_ok(store_org_get(s, want->id, &got));
    assert_true(got.seq > 0);
    assert_org_equal(want, &got);
}

static void assert_user_stored(struct store *s, const struct user_rec *want) {
    struct user_rec got;
    memset(&got, 0, sizeof(got));
    assert_ok(store_user_get(s, want->id, &got));
    assert_true(got.seq > 0);
    assert_user_equal(want, &got);
    user_rec_done(&got);
}

static void assert_token_gone(struct store *s, const char *id) {
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(s, id, &got), LK_ENOTFOUND);
}

static void assert_token_there(struct store *s, const char *id) {
    struct token_rec got;
    memset(&got, 0, sizeof(got));
    assert_ok(store_token_get(s, id, &got));
    token_rec_done(&got);
}

static void test_org_round_trip_and_conflicts(void **state) {
    struct fx *fx = *state;
    struct org_rec o, got, dup;
    make_org(fx, &o, "acme");
    assert_ok(store_org_insert(fx->s, &o));
    assert_org_stored(fx->s, &o);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_true(got.seq > 0);
    assert_org_equal(&o, &got);
    /* The other values of each field survive too. */
    struct org_rec p;
    make_org(fx, &p, "pending");
    snprintf(p.status, sizeof(p.status), "pending");
    p.display_name[0] = '\0';
    p.token_expiry_hours = 1;
    p.allow_non_expiring_tokens = 0;
    assert_ok(store_org_insert(fx->s, &p));
    assert_org_stored(fx->s, &p);

    dup = o;
    snprintf(dup.id, sizeof(dup.id), "org_other_%s", fx->tag);
    assert_lk(store_org_insert(fx->s, &dup), LK_ECONFLICT); /* same name */
    make_org(fx, &dup, "other");
    snprintf(dup.id, sizeof(dup.id), "%s", o.id);
    assert_lk(store_org_insert(fx->s, &dup), LK_ECONFLICT); /* same id */
    assert_lk(store_org_get_by_name(fx->s, dup.name, &got), LK_ENOTFOUND);
    assert_org_stored(fx->s, &o); /* the conflicts changed nothing */
    assert_lk(store_org_get(fx->s, "org_nope", &got), LK_ENOTFOUND);
    assert_lk(store_org_get_by_name(fx->s, "nope-nope", &got), LK_ENOTFOUND);
}

static void test_org_update_changes_only_stated_fields(void **state) {
    struct fx *fx = *state;
    struct org_rec a, b, upd, want;
    make_org(fx, &a, "a");
    make_org(fx, &b, "b");
    assert_ok(store_org_insert(fx->s, &a));
    assert_ok(store_org_insert(fx->s, &b));
    upd = a;
    snprintf(upd.name, sizeof(upd.name), "renamed-%s", fx->tag); /* not an updatable field */
    snprintf(upd.display_name, sizeof(upd.display_name), "New name");
    snprintf(upd.status, sizeof(upd.status), "deactivated");
    upd.token_expiry_hours = 48;
    upd.allow_non_expiring_tokens = 0;
    upd.notify_short_lived_tokens = 1;
    upd.created_at = 1;
    upd.updated_at = 1800000000;
    assert_ok(store_org_update(fx->s, &upd));
    want = upd;
    snprintf(want.name, sizeof(want.name), "%s", a.name);
    want.created_at = a.created_at;
    assert_org_stored(fx->s, &want);
    assert_org_stored(fx->s, &b); /* the other org is untouched */
    struct org_rec got;
    assert_lk(store_org_get_by_name(fx->s, upd.name, &got), LK_ENOTFOUND);

    struct org_rec ghost;
    make_org(fx, &ghost, "ghost");
    assert_lk(store_org_update(fx->s, &ghost), LK_ENOTFOUND);
    assert_lk(store_org_get(fx->s, ghost.id, &got), LK_ENOTFOUND);
}

static void test_org_list_order_and_paging(void **state) {
    struct fx *fx = *state;
    struct org_rec o[3];
    struct org_list list = {0};
    for (int i = 0; i < 3; i++) {
        make_org(fx, &o[i], i == 0 ? "zz" : i == 1 ? "mm" : "aa"); /* seq order, not name order */
        assert_ok(store_org_insert(fx->s, &o[i]));
        assert_ok(store_org_get(fx->s, o[i].id, &o[i]));
    }
    assert_true(o[0].seq < o[1].seq && o[1].seq < o[2].seq);
    assert_ok(store_org_list(fx->s, o[0].seq - 1, 2, &list));
    assert_int_equal(list.count, 2);
    assert_org_equal(&o[0], &list.items[0]);
    assert_org_equal(&o[1], &list.items[1]);
    assert_int_equal(list.items[1].seq, o[1].seq);
    int64_t after = list.items[1].seq;
    org_list_done(&list);
    assert_null(list.items);
    assert_ok(store_org_list(fx->s, after, 2, &list));
    assert_true(list.count >= 1);
    assert_string_equal(list.items[0].id, o[2].id);
    org_list_done(&list);
    /* Past the end: an empty page, not an error. */
    assert_ok(store_org_list(fx->s, INT64_MAX, 10, &list));
    assert_int_equal(list.count, 0);
    org_list_done(&list);
}

static void test_user_round_trip_and_uniqueness(void **state) {
    struct fx *fx = *state;
    struct org_rec o1, o2;
    struct user_rec u, got, same;
    make_org(fx, &o1, "one");
    make_org(fx, &o2, "two");
    assert_ok(store_org_insert(fx->s, &o1));
    assert_ok(store_org_insert(fx->s, &o2));
    make_user(fx, &u, &o1, "alice");
    u.password_hash = (char *)"$scrypt$ln=15,r=8,p=1$c2FsdA==$aGFzaA==";
    snprintf(u.role, sizeof(u.role), "admin");
    u.token_expiry_hours = 24;
    assert_ok(store_user_insert(fx->s, &u));
    assert_user_stored(fx->s, &u);
    memset(&got, 0, sizeof(got));
    assert_ok(store_user_get_by_name(fx->s, o1.id, "alice", &got));
    assert_user_equal(&u, &got);
    user_rec_done(&got);
    assert_null(got.password_hash);
    assert_lk(store_user_get_by_name(fx->s, o2.id, "alice", &got), LK_ENOTFOUND);

    /* Same username in the same org conflicts; in another org it is fine. */
    make_user(fx, &same, &o1, "alice");
    assert_lk(store_user_insert(fx->s, &same), LK_ECONFLICT);
    assert_lk(store_user_get(fx->s, same.id, &got), LK_ENOTFOUND);
    make_user(fx, &same, &o2, "alice");
    assert_ok(store_user_insert(fx->s, &same));
    assert_user_stored(fx->s, &same);
    /* Same id conflicts too. */
    make_user(fx, &same, &o2, "carol");
    snprintf(same.id, sizeof(same.id), "%s", u.id);
    assert_lk(store_user_insert(fx->s, &same), LK_ECONFLICT);

    /* No password and no per-user setting read back as NULL and 0. */
    make_user(fx, &same, &o1, "robot");
    same.programmatic_only = 1;
    assert_ok(store_user_insert(fx->s, &same));
    assert_user_stored(fx->s, &same);

    /* An unknown org is not found, and nothing is stored. */
    struct org_rec ghost;
    make_org(fx, &ghost, "ghost");
    make_user(fx, &same, &ghost, "bob");
    assert_lk(store_user_insert(fx->s, &same), LK_ENOTFOUND);
    assert_lk(store_user_get(fx->s, same.id, &got), LK_ENOTFOUND);
}

static void test_user_update_changes_only_stated_fields(void **state) {
    struct fx *fx = *state;
    struct org_rec o, o2;
    struct user_rec a, b, upd, want;
    make_org(fx, &o, "org");
    make_org(fx, &o2, "org2");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &o2));
    make_user(fx, &a, &o, "a");
    a.password_hash = (char *)"$scrypt$old";
    a.token_expiry_hours = 12;
    make_user(fx, &b, &o, "b");
    assert_ok(store_user_insert(fx->s, &a));
    assert_ok(store_user_insert(fx->s, &b));

    /* Clear the password and the per-user setting; the keys do not move. */
    upd = a;
    snprintf(upd.org_id, sizeof(upd.org_id), "%s", o2.id);
    snprintf(upd.username, sizeof(upd.username), "renamed");
    snprintf(upd.email, sizeof(upd.email), "new@example.com");
    upd.password_hash = NULL;
    snprintf(upd.role, sizeof(upd.role), "admin");
    upd.programmatic_only = 1;
    upd.token_expiry_hours = 0;
    upd.created_at = 1;
    upd.updated_at = 1800000000;
    assert_ok(store_user_update(fx->s, &upd));
    want = upd;
    snprintf(want.org_id, sizeof(want.org_id), "%s", a.org_id);
    snprintf(want.username, sizeof(want.username), "%s", a.username);
    want.created_at = a.created_at;
    assert_user_stored(fx->s, &want);
    assert_user_stored(fx->s, &b);

    /* And set them again. */
    upd = want;
    upd.password_hash = (char *)"$scrypt$new";
    snprintf(upd.role, sizeof(upd.role), "member");
    upd.programmatic_only = 0;
    upd.token_expiry_hours = 6;
    upd.updated_at = 1800000001;
    assert_ok(store_user_update(fx->s, &upd));
    assert_user_stored(fx->s, &upd);

    struct user_rec ghost;
    make_user(fx, &ghost, &o, "ghost");
    assert_lk(store_user_update(fx->s, &ghost), LK_ENOTFOUND);
}

static void test_user_list_per_org_and_paged(void **state) {
    struct fx *fx = *state;
    struct org_rec o, other;
    struct user_rec u[3], x;
    struct user_list list = {0};
    make_org(fx, &o, "org");
    make_org(fx, &other, "other");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &other));
    make_user(fx, &u[0], &o, "zed");
    make_user(fx, &x, &other, "x"); /* interleaved, in another org */
    make_user(fx, &u[1], &o, "amy");
    make_user(fx, &u[2], &o, "max");
    u[1].password_hash = (char *)"$scrypt$amy";
    assert_ok(store_user_insert(fx->s, &u[0]));
    assert_ok(store_user_insert(fx->s, &x));
    assert_ok(store_user_insert(fx->s, &u[1]));
    assert_ok(store_user_insert(fx->s, &u[2]));

    assert_ok(store_user_list(fx->s, o.id, 0, 2, &list));
    assert_int_equal(list.count, 2);
    assert_user_equal(&u[0], &list.items[0]);
    assert_user_equal(&u[1], &list.items[1]);
    assert_true(list.items[0].seq < list.items[1].seq);
    int64_t after = list.items[1].seq;
    user_list_done(&list);
    assert_null(list.items);
    assert_int_equal(list.count, 0);
    assert_ok(store_user_list(fx->s, o.id, after, 2, &list));
    assert_int_equal(list.count, 1);
    assert_user_equal(&u[2], &list.items[0]);
    user_list_done(&list);

    assert_ok(store_user_list(fx->s, other.id, 0, 1000, &list));
    assert_int_equal(list.count, 1);
    assert_user_equal(&x, &list.items[0]);
    user_list_done(&list);
    assert_ok(store_user_list(fx->s, "org_nope", 0, 1000, &list));
    assert_int_equal(list.count, 0);
    user_list_done(&list);
}

static void test_user_delete_takes_only_their_tokens(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct user_rec a, b, got;
    struct token_rec t, keep, same_id;
    make_org(fx, &o, "org");
    assert_ok(store_org_insert(fx->s, &o));
    make_user(fx, &a, &o, "a");
    make_user(fx, &b, &o, "b");
    assert_ok(store_user_insert(fx->s, &a));
    assert_ok(store_user_insert(fx->s, &b));
    make_rec(fx, &t, "user", a.id);
    make_rec(fx, &keep, "user", b.id);
    make_rec(fx, &same_id, "service_account", a.id); /* same owner id, other type */
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &keep));
    assert_ok(store_token_insert(fx->s, &same_id));
    assert_ok(store_user_delete(fx->s, a.id));
    assert_lk(store_user_get(fx->s, a.id, &got), LK_ENOTFOUND);
    assert_token_gone(fx->s, t.id);
    assert_token_there(fx->s, keep.id);
    assert_token_there(fx->s, same_id.id);
    assert_user_stored(fx->s, &b);
    assert_org_stored(fx->s, &o);
    assert_lk(store_user_delete(fx->s, a.id), LK_ENOTFOUND);
    /* An unknown user deletes nothing, not even tokens naming it. */
    struct token_rec orphan;
    make_rec(fx, &orphan, "user", "usr_nobody");
    assert_ok(store_token_insert(fx->s, &orphan));
    assert_lk(store_user_delete(fx->s, "usr_nobody"), LK_ENOTFOUND);
    assert_token_there(fx->s, orphan.id);
}

static void test_org_delete_takes_users_and_tokens(void **state) {
    struct fx *fx = *state;
    struct org_rec o, other;
    struct user_rec u, v, got;
    struct token_rec t, sa_tok, keep, root;
    make_org(fx, &o, "doomed");
    make_org(fx, &other, "kept");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &other));
    make_user(fx, &u, &o, "u");
    make_user(fx, &v, &other, "v");
    assert_ok(store_user_insert(fx->s, &u));
    assert_ok(store_user_insert(fx->s, &v));
    make_rec(fx, &t, "user", u.id);
    snprintf(t.org_id, sizeof(t.org_id), "%s", o.id);
    make_rec(fx, &sa_tok, "service_account", "sa_x"); /* any owner, by org_id */
    snprintf(sa_tok.org_id, sizeof(sa_tok.org_id), "%s", o.id);
    make_rec(fx, &keep, "user", v.id);
    snprintf(keep.org_id, sizeof(keep.org_id), "%s", other.id);
    make_rec(fx, &root, "root", "root");
    root.org_id[0] = '\0';
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &sa_tok));
    assert_ok(store_token_insert(fx->s, &keep));
    assert_ok(store_token_insert(fx->s, &root));

    assert_ok(store_org_delete(fx->s, o.id));
    struct org_rec og;
    assert_lk(store_org_get(fx->s, o.id, &og), LK_ENOTFOUND);
    assert_lk(store_org_get_by_name(fx->s, o.name, &og), LK_ENOTFOUND);
    assert_lk(store_user_get(fx->s, u.id, &got), LK_ENOTFOUND);
    assert_token_gone(fx->s, t.id);
    assert_token_gone(fx->s, sa_tok.id);
    assert_org_stored(fx->s, &other);
    assert_user_stored(fx->s, &v);
    assert_token_there(fx->s, keep.id);
    assert_token_there(fx->s, root.id);
    assert_lk(store_org_delete(fx->s, o.id), LK_ENOTFOUND);
    /* The name is free again. */
    struct org_rec again;
    make_org(fx, &again, "x");
    snprintf(again.name, sizeof(again.name), "%s", o.name);
    assert_ok(store_org_insert(fx->s, &again));
}

struct signup_arg {
    struct fx *fx;
    struct org_rec org;
    struct user_rec user;
    struct token_rec tok;
    int fail; /* what the transaction returns in the end */
};

static int failing_signup(struct store *s, void *arg) {
    struct signup_arg *a = arg;
    assert_ok(store_org_insert(s, &a->org));
    assert_ok(store_user_insert(s, &a->user));
    return LK_EINVAL; /* something later fails: neither may remain */
}

static void test_org_and_user_roll_back_together(void **state) {
    struct fx *fx = *state;
    struct signup_arg a;
    struct user_rec got;
    a.fx = fx;
    make_org(fx, &a.org, "tx");
    make_user(fx, &a.user, &a.org, "admin");
    assert_lk(store_tx(fx->s, failing_signup, &a), LK_EINVAL);
    assert_lk(store_org_get(fx->s, a.org.id, &a.org), LK_ENOTFOUND);
    assert_lk(store_user_get(fx->s, a.user.id, &got), LK_ENOTFOUND);
    /* The same steps commit when nothing fails afterwards. */
    assert_ok(store_org_insert(fx->s, &a.org));
    assert_ok(store_user_insert(fx->s, &a.user));
    assert_user_stored(fx->s, &a.user);
}

/* Deletes inside the caller's transaction: they must join it, not begin
 * their own (which a nested BEGIN would refuse). */
static int delete_in_tx(struct store *s, void *arg) {
    struct signup_arg *a = arg;
    int r = store_user_delete(s, a->user.id);
    if (r == 0)
        r = store_org_delete(s, a->org.id);
    return r != 0 ? r : a->fail;
}

static void test_deletes_join_the_callers_tx(void **state) {
    struct fx *fx = *state;
    struct signup_arg a;
    struct user_rec got;
    a.fx = fx;
    make_org(fx, &a.org, "txdel");
    make_user(fx, &a.user, &a.org, "u");
    make_rec(fx, &a.tok, "user", a.user.id);
    snprintf(a.tok.org_id, sizeof(a.tok.org_id), "%s", a.org.id);
    assert_ok(store_org_insert(fx->s, &a.org));
    assert_ok(store_user_insert(fx->s, &a.user));
    assert_ok(store_token_insert(fx->s, &a.tok));

    a.fail = LK_ECONFLICT; /* rolled back: all three remain */
    assert_lk(store_tx(fx->s, delete_in_tx, &a), LK_ECONFLICT);
    assert_org_stored(fx->s, &a.org);
    assert_user_stored(fx->s, &a.user);
    assert_token_there(fx->s, a.tok.id);

    a.fail = 0; /* committed: all three gone */
    assert_ok(store_tx(fx->s, delete_in_tx, &a));
    assert_lk(store_org_get(fx->s, a.org.id, &a.org), LK_ENOTFOUND);
    assert_lk(store_user_get(fx->s, a.user.id, &got), LK_ENOTFOUND);
    assert_token_gone(fx->s, a.tok.id);
}

static void test_identity_argument_checks(void **state) {
    struct fx *fx = *state;
    struct org_rec o, bad, og;
    struct user_rec u, ubad, ug;
    struct org_list ol = {0};
    struct user_list ul = {0};
    make_org(fx, &o, "args");
    assert_ok(store_org_insert(fx->s, &o));
    make_user(fx, &u, &o, "u");
    assert_ok(store_user_insert(fx->s, &u));

    assert_lk(store_org_insert(NULL, &o), LK_EINVAL);
    assert_lk(store_org_insert(fx->s, NULL), LK_EINVAL);
    assert_lk(store_org_get(fx->s, NULL, &og), LK_EINVAL);
    assert_lk(store_org_get(fx->s, o.id, NULL), LK_EINVAL);
    assert_lk(store_org_get_by_name(fx->s, NULL, &og), LK_EINVAL);
    assert_lk(store_org_list(fx->s, 0, 0, &ol), LK_EINVAL);
    assert_lk(store_org_list(fx->s, 0, 1001, &ol), LK_EINVAL);
    assert_lk(store_org_list(fx->s, 0, 10, NULL), LK_EINVAL);
    assert_lk(store_org_update(fx->s, NULL), LK_EINVAL);
    assert_lk(store_org_delete(fx->s, NULL), LK_EINVAL);

    make_org(fx, &bad, "bad");
    bad.id[0] = '\0';
    assert_lk(store_org_insert(fx->s, &bad), LK_EINVAL);
    make_org(fx, &bad, "bad");
    bad.name[0] = '\0';
    assert_lk(store_org_insert(fx->s, &bad), LK_EINVAL);
    make_org(fx, &bad, "bad");
    memset(bad.name, 'x', sizeof(bad.name)); /* unterminated */
    assert_lk(store_org_insert(fx->s, &bad), LK_EINVAL);
    make_org(fx, &bad, "bad");
    memset(bad.display_name, 'x', sizeof(bad.display_name));
    assert_lk(store_org_insert(fx->s, &bad), LK_EINVAL);
    make_org(fx, &bad, "bad");
    bad.token_expiry_hours = 0;
    assert_lk(store_org_insert(fx->s, &bad), LK_EINVAL);
    assert_lk(store_org_get(fx->s, bad.id, &og), LK_ENOTFOUND);
    bad = o;
    bad.status[0] = '\0';
    assert_lk(store_org_update(fx->s, &bad), LK_EINVAL);
    assert_org_stored(fx->s, &o);

    assert_lk(store_user_insert(fx->s, NULL), LK_EINVAL);
    assert_lk(store_user_get(fx->s, NULL, &ug), LK_EINVAL);
    assert_lk(store_user_get(fx->s, u.id, NULL), LK_EINVAL);
    assert_lk(store_user_get_by_name(fx->s, NULL, "u", &ug), LK_EINVAL);
    assert_lk(store_user_get_by_name(fx->s, o.id, NULL, &ug), LK_EINVAL);
    assert_lk(store_user_list(fx->s, NULL, 0, 10, &ul), LK_EINVAL);
    assert_lk(store_user_list(fx->s, o.id, 0, 0, &ul), LK_EINVAL);
    assert_lk(store_user_list(fx->s, o.id, 0, 1001, &ul), LK_EINVAL);
    assert_lk(store_user_update(NULL, &u), LK_EINVAL);
    assert_lk(store_user_delete(fx->s, NULL), LK_EINVAL);

    make_user(fx, &ubad, &o, "v");
    ubad.username[0] = '\0';
    assert_lk(store_user_insert(fx->s, &ubad), LK_EINVAL);
    make_user(fx, &ubad, &o, "v");
    ubad.org_id[0] = '\0';
    assert_lk(store_user_insert(fx->s, &ubad), LK_EINVAL);
    make_user(fx, &ubad, &o, "v");
    memset(ubad.email, 'x', sizeof(ubad.email));
    assert_lk(store_user_insert(fx->s, &ubad), LK_EINVAL);
    make_user(fx, &ubad, &o, "v");
    ubad.token_expiry_hours = -1;
    assert_lk(store_user_insert(fx->s, &ubad), LK_EINVAL);
    assert_lk(store_user_get(fx->s, ubad.id, &ug), LK_ENOTFOUND);
    ubad = u;
    ubad.role[0] = '\0';
    assert_lk(store_user_update(fx->s, &ubad), LK_EINVAL);
    assert_user_stored(fx->s, &u);
}

static void test_identity_done_functions_are_null_safe(void **state) {
    (void)state;
    org_list_done(NULL);
    user_rec_done(NULL);
    user_list_done(NULL);
    struct org_list ol = {0};
    org_list_done(&ol);
    struct user_list ul = {0};
    user_list_done(&ul);
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    user_rec_done(&u);
    assert_null(u.password_hash);
}

/* --- teams and service accounts ---------------------------------------------- */

static void make_team(struct fx *fx, struct team_rec *t, const struct org_rec *o, const char *name) {
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "team_%s%u", fx->tag, ++fx->next);
    snprintf(t->org_id, sizeof(t->org_id), "%s", o->id);
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->description, sizeof(t->description), "team %s", name);
    t->created_at = 1700000010;
    t->updated_at = 1700000011;
}

static void make_sa(struct fx *fx, struct sa_rec *a, const struct team_rec *t, const char *name) {
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "sa_%s%u", fx->tag, ++fx->next);
    snprintf(a->org_id, sizeof(a->org_id), "%s", t->org_id);
    snprintf(a->team_id, sizeof(a->team_id), "%s", t->id);
    snprintf(a->name, sizeof(a->name), "%s", name);
    snprintf(a->roles[0], sizeof(a->roles[0]), "team-member");
    a->nroles = 1;
    a->created_at = 1700000020;
    a->updated_at = 1700000021;
}

static void test_teams_and_members(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct team_rec t, got, dup;
    struct user_rec u;
    struct team_member_list ml = {0};
    char role[STORE_STATUS_MAX];
    make_org(fx, &o, "teams");
    assert_int_equal(store_org_insert(fx->s, &o), 0);
    make_team(fx, &t, &o, "payments");
    assert_int_equal(store_team_insert(fx->s, &t), 0);
    assert_int_equal(store_team_get(fx->s, o.id, "payments", &got), 0);
    assert_string_equal(got.id, t.id);
    assert_string_equal(got.description, "team payments");
    assert_int_equal(store_team_get_by_id(fx->s, t.id, &got), 0);
    assert_string_equal(got.name, "payments");
    make_team(fx, &dup, &o, "payments");
    assert_int_equal(store_team_insert(fx->s, &dup), LK_ECONFLICT);
    make_user(fx, &u, &o, "tm");
    assert_int_equal(store_user_insert(fx->s, &u), 0);
    assert_int_equal(store_team_member_role(fx->s, t.id, u.id, role), LK_ENOTFOUND);
    assert_int_equal(store_team_member_put(fx->s, t.id, u.id, "member", 1), 0);
    assert_int_equal(store_team_member_put(fx->s, t.id, u.id, "owner", 2), 0); /* role change, not a duplicate */
    assert_int_equal(store_team_member_role(fx->s, t.id, u.id, role), 0);
    assert_string_equal(role, "owner");
    {
        /* The distinct roles across the org's teams, in name order, cut at cap. */
        struct team_rec t2, t3;
        char roles[4][STORE_STATUS_MAX];
        size_t n = 99;
        make_team(fx, &t2, &o, "ledger");
        make_team(fx, &t3, &o, "audit");
        assert_int_equal(store_team_insert(fx->s, &t2), 0);
        assert_int_equal(store_team_insert(fx->s, &t3), 0);
        assert_int_equal(store_team_member_put(fx->s, t2.id, u.id, "viewer", 3), 0);
        assert_int_equal(store_team_member_put(fx->s, t3.id, u.id, "owner", 4), 0);
        assert_int_equal(store_team_member_roles(fx->s, o.id, u.id, roles, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(roles[0], "owner");
        assert_string_equal(roles[1], "viewer");
        assert_int_equal(store_team_member_roles(fx->s, o.id, u.id, roles, 1, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(store_team_member_roles(fx->s, "no-such-org", u.id, roles, 4, &n), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(store_team_member_list(fx->s, t.id, &ml), 0);
    assert_int_equal(ml.count, 1);
    assert_string_equal(ml.items[0].username, "tm");
    team_member_list_done(&ml);
    /* Deleting the user ends the membership. */
    assert_int_equal(store_user_delete(fx->s, u.id), 0);
    assert_int_equal(store_team_member_role(fx->s, t.id, u.id, role), LK_ENOTFOUND);
    snprintf(t.description, sizeof(t.description), "changed");
    assert_int_equal(store_team_update(fx->s, &t), 0);
    assert_int_equal(store_team_get(fx->s, o.id, "payments", &got), 0);
    assert_string_equal(got.description, "changed");
}

static void test_service_accounts_and_team_delete(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct team_rec t;
    struct sa_rec a, got, dup;
    struct sa_list list = {0};
    struct token_rec tok, tr;
    make_org(fx, &o, "sas");
    assert_int_equal(store_org_insert(fx->s, &o), 0);
    make_team(fx, &t, &o, "ops");
    assert_int_equal(store_team_insert(fx->s, &t), 0);
    make_sa(fx, &a, &t, "deployer");
    assert_int_equal(store_sa_insert(fx->s, &a), 0);
    assert_int_equal(store_sa_get(fx->s, a.id, &got), 0);
    assert_int_equal(got.nroles, 1);
    assert_string_equal(got.roles[0], "team-member");
    assert_int_equal(store_sa_get_by_name(fx->s, t.id, "deployer", &got), 0);
    assert_string_equal(got.id, a.id);
    make_sa(fx, &dup, &t, "deployer");
    assert_int_equal(store_sa_insert(fx->s, &dup), LK_ECONFLICT);
    struct team_rec ghost;
    make_team(fx, &ghost, &o, "ghost");
    make_sa(fx, &dup, &ghost, "x");
    assert_int_equal(store_sa_insert(fx->s, &dup), LK_ENOTFOUND);
    assert_int_equal(store_sa_list(fx->s, t.id, 0, 10, &list), 0);
    assert_int_equal(list.count, 1);
    sa_list_done(&list);
    /* Roles come back as given, in order; a full list too, an empty one as none. */
    static const char *const all[STORE_ROLES_MAX] = {
        "viewer", "org-admin", "team-owner", "r4",
        "r5",     "r6",        "r7",         "a-custom-role-name-of-the-longest-length-a-slug-may-have-123"};
    for (size_t i = 0; i < STORE_ROLES_MAX; i++)
        snprintf(a.roles[i], sizeof(a.roles[i]), "%s", all[i]);
    a.nroles = STORE_ROLES_MAX;
    assert_int_equal(store_sa_update(fx->s, &a), 0);
    assert_int_equal(store_sa_get(fx->s, a.id, &got), 0);
    assert_int_equal(got.nroles, STORE_ROLES_MAX);
    for (size_t i = 0; i < STORE_ROLES_MAX; i++)
        assert_string_equal(got.roles[i], all[i]);
    a.nroles = STORE_ROLES_MAX + 1;
    assert_int_equal(store_sa_update(fx->s, &a), LK_EINVAL);
    memset(a.roles[1], 'x', sizeof(a.roles[1])); /* unterminated */
    a.nroles = 2;
    assert_int_equal(store_sa_update(fx->s, &a), LK_EINVAL);
    a.roles[1][0] = '\0'; /* empty */
    assert_int_equal(store_sa_update(fx->s, &a), LK_EINVAL);
    a.nroles = 0;
    assert_int_equal(store_sa_update(fx->s, &a), 0);
    assert_int_equal(store_sa_get(fx->s, a.id, &got), 0);
    assert_int_equal(got.nroles, 0);
    /* Deleting the team takes its service accounts and their tokens. */
    make_rec(fx, &tok, "service_account", a.id);
    assert_int_equal(store_token_insert(fx->s, &tok), 0);
    assert_int_equal(store_team_delete(fx->s, t.id), 0);
    assert_int_equal(store_sa_get(fx->s, a.id, &got), LK_ENOTFOUND);
    memset(&tr, 0, sizeof(tr));
    assert_int_equal(store_token_get(fx->s, tok.id, &tr), LK_ENOTFOUND);
    assert_int_equal(store_team_delete(fx->s, t.id), LK_ENOTFOUND);
}

/* A group's roles come back as given, in order, from a get and a list. */
static void test_group_roles_round_trip(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    make_org(fx, &o, "grp");
    assert_ok(store_org_insert(fx->s, &o));
    static const char *const roles[STORE_ROLES_MAX] = {
        "viewer", "a-custom-role-name-of-the-longest-length-a-slug-may-have-12345",
        "viewer", "team-owner",
        "r5",     "r6",
        "r7",     "org-admin"};
    struct group_rec g, empty, got;
    memset(&g, 0, sizeof(g));
    snprintf(g.id, sizeof(g.id), "grp_%s1", fx->tag);
    snprintf(g.org_id, sizeof(g.org_id), "%s", o.id);
    snprintf(g.name, sizeof(g.name), "all");
    for (size_t i = 0; i < STORE_ROLES_MAX; i++)
        snprintf(g.roles[i], sizeof(g.roles[i]), "%s", roles[i]);
    g.nroles = STORE_ROLES_MAX;
    g.created_at = 1700000030;
    empty = g;
    snprintf(empty.id, sizeof(empty.id), "grp_%s2", fx->tag);
    snprintf(empty.name, sizeof(empty.name), "none");
    empty.nroles = 0;
    assert_ok(store_group_insert(fx->s, &g));
    assert_ok(store_group_insert(fx->s, &empty));
    assert_ok(store_group_get(fx->s, o.id, "all", &got));
    assert_int_equal(got.nroles, STORE_ROLES_MAX);
    for (size_t i = 0; i < STORE_ROLES_MAX; i++)
        assert_string_equal(got.roles[i], roles[i]);
    assert_ok(store_group_get(fx->s, o.id, "none", &got));
    assert_int_equal(got.nroles, 0);
    struct group_list l = {0};
    assert_ok(store_group_list(fx->s, o.id, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "all");
    assert_int_equal(l.items[0].nroles, STORE_ROLES_MAX);
    assert_string_equal(l.items[0].roles[7], "org-admin");
    group_list_done(&l);

    struct group_rec bad = g;
    snprintf(bad.id, sizeof(bad.id), "grp_%s3", fx->tag);
    snprintf(bad.name, sizeof(bad.name), "bad");
    bad.nroles = STORE_ROLES_MAX + 1;
    assert_lk(store_group_insert(fx->s, &bad), LK_EINVAL);
    bad.nroles = 1;
    bad.roles[0][0] = '\0';
    assert_lk(store_group_insert(fx->s, &bad), LK_EINVAL);
}

/* A group's members' usernames, in username order, a page at a time. */
static void test_group_member_names_in_pages(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    make_org(fx, &o, "gmn");
    assert_ok(store_org_insert(fx->s, &o));
    struct group_rec g;
    memset(&g, 0, sizeof(g));
    snprintf(g.id, sizeof(g.id), "grp_%sm", fx->tag);
    snprintf(g.org_id, sizeof(g.org_id), "%s", o.id);
    snprintf(g.name, sizeof(g.name), "crew");
    assert_ok(store_group_insert(fx->s, &g));
    static const char *const names[] = {"zed", "amy", "bob"};
    for (size_t i = 0; i < 3; i++) {
        struct user_rec u;
        make_user(fx, &u, &o, names[i]);
        assert_ok(store_user_insert(fx->s, &u));
        assert_ok(store_group_member_put(fx->s, g.id, u.id, 1700000050));
    }
    struct name_list l = {0};
    assert_ok(store_group_member_names(fx->s, g.id, NULL, 2, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0], "amy");
    assert_string_equal(l.items[1], "bob");
    name_list_done(&l);
    assert_ok(store_group_member_names(fx->s, g.id, "bob", 2, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0], "zed");
    name_list_done(&l);
    assert_ok(store_group_member_names(fx->s, g.id, "zed", 1000, &l));
    assert_int_equal(l.count, 0);
    name_list_done(&l);
    assert_ok(store_group_member_names(fx->s, "grp_nobody", NULL, 1000, &l));
    assert_int_equal(l.count, 0);
    name_list_done(&l);
    assert_lk(store_group_member_names(fx->s, g.id, NULL, 0, &l), LK_EINVAL);
    assert_lk(store_group_member_names(fx->s, g.id, NULL, 1001, &l), LK_EINVAL);
    name_list_done(NULL);
}

/* A custom role's permissions come back as given, in order: a full list
 * of the longest names, and none. */
static void test_role_permissions_round_trip(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    make_org(fx, &o, "rol");
    assert_ok(store_org_insert(fx->s, &o));
    struct role_rec full, none, got;
    memset(&full, 0, sizeof(full));
    snprintf(full.org_id, sizeof(full.org_id), "%s", o.id);
    snprintf(full.name, sizeof(full.name), "full");
    for (size_t i = 0; i < STORE_PERMISSIONS_MAX; i++) {
        memset(full.permissions[i], 'a' + (int)(i % 26), sizeof(full.permissions[i]) - 1);
        full.permissions[i][sizeof(full.permissions[i]) - 1] = '\0';
    }
    snprintf(full.permissions[0], sizeof(full.permissions[0]), "users.view");
    full.npermissions = STORE_PERMISSIONS_MAX;
    full.created_at = 1700000040;
    none = full;
    snprintf(none.name, sizeof(none.name), "none");
    none.npermissions = 0;
    assert_ok(store_role_insert(fx->s, &full));
    assert_ok(store_role_insert(fx->s, &none));
    assert_ok(store_role_get(fx->s, o.id, "full", &got));
    assert_int_equal(got.npermissions, STORE_PERMISSIONS_MAX);
    for (size_t i = 0; i < STORE_PERMISSIONS_MAX; i++)
        assert_string_equal(got.permissions[i], full.permissions[i]);
    struct role_list l = {0};
    assert_ok(store_role_list(fx->s, o.id, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "full");
    assert_string_equal(l.items[0].permissions[0], "users.view");
    assert_int_equal(l.items[1].npermissions, 0);
    role_list_done(&l);

    struct role_rec bad = full;
    snprintf(bad.name, sizeof(bad.name), "bad");
    bad.npermissions = STORE_PERMISSIONS_MAX + 1;
    assert_lk(store_role_insert(fx->s, &bad), LK_EINVAL);
    bad.npermissions = 1;
    memset(bad.permissions[0], 'x', sizeof(bad.permissions[0])); /* unterminated */
    assert_lk(store_role_insert(fx->s, &bad), LK_EINVAL);
}

static void test_sa_delete_takes_its_tokens(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct team_rec t;
    struct sa_rec a, b;
    struct token_rec ta, tb, tr;
    make_org(fx, &o, "sadel");
    assert_int_equal(store_org_insert(fx->s, &o), 0);
    make_team(fx, &t, &o, "t");
    assert_int_equal(store_team_insert(fx->s, &t), 0);
    make_sa(fx, &a, &t, "a");
    make_sa(fx, &b, &t, "b");
    assert_int_equal(store_sa_insert(fx->s, &a), 0);
    assert_int_equal(store_sa_insert(fx->s, &b), 0);
    make_rec(fx, &ta, "service_account", a.id);
    make_rec(fx, &tb, "service_account", b.id);
    assert_int_equal(store_token_insert(fx->s, &ta), 0);
    assert_int_equal(store_token_insert(fx->s, &tb), 0);
    assert_int_equal(store_sa_delete(fx->s, a.id), 0);
    memset(&tr, 0, sizeof(tr));
    assert_int_equal(store_token_get(fx->s, ta.id, &tr), LK_ENOTFOUND);
    assert_int_equal(store_token_get(fx->s, tb.id, &tr), 0);
    token_rec_done(&tr);
    assert_int_equal(store_sa_delete(fx->s, a.id), LK_ENOTFOUND);
}

/* --- request transactions ------------------------------------------------- */

/* Until the first write nothing is locked: another connection may write. */
static void test_request_tx_begins_at_the_first_write(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec a, b, got;
    make_rec(fx, &a, "user", owner);
    make_rec(fx, &b, "user", owner);
    assert_ok(store_open(fx->dsn, &fx->s2));
    store_request_begin(fx->s);
    assert_int_equal(store_request_active(fx->s), 0);
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, a.id, &got), LK_ENOTFOUND); /* a read opens nothing */
    assert_int_equal(store_request_active(fx->s), 0);
    assert_ok(store_token_insert(fx->s2, &b)); /* so the other connection is not blocked */
    assert_ok(store_token_insert(fx->s, &a));
    assert_int_equal(store_request_active(fx->s), 1);
    /* Uncommitted: invisible to the other connection. */
    assert_lk(store_token_get(fx->s2, a.id, &got), LK_ENOTFOUND);
    assert_ok(store_request_end(fx->s, 1));
    assert_int_equal(store_request_active(fx->s), 0);
    assert_stored(fx->s2, &a);
}

static int nested_fails(struct store *s, void *arg) {
    int r = store_token_insert(s, arg);
    return r != 0 ? r : LK_EINVAL;
}

static int nested_works(struct store *s, void *arg) {
    return store_token_insert(s, arg);
}

/* Inside a request, store_tx is a savepoint: its failure undoes only its
 * work; the request's end decides about the rest. */
static void test_request_tx_nests_store_tx_as_savepoints(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "a", owner);
    struct token_rec first, undone, kept, got;
    make_rec(fx, &first, "user", owner);
    make_rec(fx, &undone, "user", owner);
    make_rec(fx, &kept, "user", owner);
    assert_ok(store_open(fx->dsn, &fx->s2));

    store_request_begin(fx->s);
    assert_ok(store_token_insert(fx->s, &first));
    assert_lk(store_tx(fx->s, nested_fails, &undone), LK_EINVAL);
    assert_ok(store_tx(fx->s, nested_works, &kept));
    memset(&got, 0, sizeof(got));
    assert_lk(store_token_get(fx->s, undone.id, &got), LK_ENOTFOUND);
    assert_ok(store_token_get(fx->s, kept.id, &got));
    token_rec_done(&got);
    assert_lk(store_token_get(fx->s2, first.id, &got), LK_ENOTFOUND);
    assert_ok(store_request_end(fx->s, 1));
    assert_stored(fx->s2, &first);
    assert_stored(fx->s2, &kept);
    assert_lk(store_token_get(fx->s2, undone.id, &got), LK_ENOTFOUND);

    /* Rolled back: every write of the request goes, savepoints included. */
    struct token_rec x, y;
    make_rec(fx, &x, "user", owner);
    make_rec(fx, &y, "user", owner);
    store_request_begin(fx->s);
    assert_ok(store_token_insert(fx->s, &x));
    assert_ok(store_tx(fx->s, nested_works, &y));
    assert_ok(store_request_end(fx->s, 0));
    assert_lk(store_token_get(fx->s2, x.id, &got), LK_ENOTFOUND);
    assert_lk(store_token_get(fx->s2, y.id, &got), LK_ENOTFOUND);
    /* And the connection is back to autocommit. */
    assert_ok(store_token_insert(fx->s, &x));
    assert_stored(fx->s2, &x);
    /* Ending without a begin, or a request with no write, is harmless. */
    assert_ok(store_request_end(fx->s, 1));
    store_request_begin(fx->s);
    assert_ok(store_request_end(fx->s, 1));
}

/* Multi-statement deletes join the request instead of committing on their own. */
static void test_request_tx_covers_cascading_deletes(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct user_rec u;
    make_org(fx, &o, "req");
    assert_ok(store_org_insert(fx->s, &o));
    make_user(fx, &u, &o, "alice");
    assert_ok(store_user_insert(fx->s, &u));
    assert_ok(store_open(fx->dsn, &fx->s2));
    store_request_begin(fx->s);
    assert_ok(store_org_delete(fx->s, o.id));
    assert_ok(store_request_end(fx->s, 0));
    struct org_rec got;
    assert_ok(store_org_get(fx->s2, o.id, &got));
    struct user_rec gu;
    memset(&gu, 0, sizeof(gu));
    assert_ok(store_user_get(fx->s2, u.id, &gu));
    user_rec_done(&gu);
}

/* --- audit trail ------------------------------------------------------------ */

static void make_audit(struct fx *fx, struct audit_rec *a, const char *org, const char *team, const char *actor,
                       const char *action, const char *outcome, int64_t time_ms) {
    memset(a, 0, sizeof(*a));
    a->time_ms = time_ms;
    snprintf(a->request_id, sizeof(a->request_id), "req-%s-%u", fx->tag, ++fx->next);
    snprintf(a->actor_type, sizeof(a->actor_type), "user");
    snprintf(a->actor_name, sizeof(a->actor_name), "%s-%s", actor, fx->tag);
    snprintf(a->org, sizeof(a->org), "%s-%s", org, fx->tag);
    snprintf(a->org_id, sizeof(a->org_id), "org_%s_%s", org, fx->tag);
    snprintf(a->team, sizeof(a->team), "%s", team);
    snprintf(a->action, sizeof(a->action), "%s", action);
    snprintf(a->method, sizeof(a->method), "POST");
    snprintf(a->resource, sizeof(a->resource), "/v1/things/%u", fx->next);
    snprintf(a->outcome, sizeof(a->outcome), "%s", outcome);
    a->status = strcmp(outcome, "success") == 0 ? 200 : 401;
    snprintf(a->source_ip, sizeof(a->source_ip), "127.0.0.1");
    snprintf(a->user_agent, sizeof(a->user_agent), "conformance \"quoted\" \\ ua");
}

/* Appends recs[0..n) after the current head, chained, in one transaction. */
static int append_fn(struct store *s, void *arg) {
    struct audit_list *l = arg;
    int64_t seq;
    char prev[AUDIT_HASH_HEX];
    int r = store_audit_head(s, &seq, prev);
    for (size_t i = 0; r == 0 && i < l->count; i++) {
        l->items[i].seq = ++seq;
        memcpy(l->items[i].prev_hash, prev, AUDIT_HASH_HEX);
        r = audit_seal(&l->items[i]);
        if (r == 0)
            r = store_audit_insert(s, &l->items[i]);
        memcpy(prev, l->items[i].hash, AUDIT_HASH_HEX);
    }
    return r;
}

/* The org's whole trail is exactly want[0..n): every field comes back as
 * written, so each record's hash can be recomputed. */
static void assert_org_trail_is(struct fx *fx, const char *org_prefix, const struct audit_rec *want, size_t n) {
    char org[AUDIT_NAME_MAX];
    snprintf(org, sizeof(org), "%s-%s", org_prefix, fx->tag);
    struct audit_filter f = {.org = org, .limit = 100};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(&out.items[i], &want[i], sizeof(want[i]));
        assert_int_equal(audit_check(&out.items[i], want[i].seq - 1, want[i].prev_hash, org, sizeof(org)), 0);
    }
    audit_list_done(&out);
}

static void test_audit_round_trip_and_head(void **state) {
    struct fx *fx = *state;
    struct audit_rec recs[3];
    make_audit(fx, &recs[0], "o", "", "ann", "token.create", "success", 1000);
    make_audit(fx, &recs[1], "o", "web", "bob", "team.update", "success", 2000);
    make_audit(fx, &recs[2], "o", "", "ann", "token.read", "denied", 3000);
    struct audit_list in = {.items = recs, .count = 3};
    assert_ok(store_tx(fx->s, append_fn, &in));
    int64_t head;
    char hash[AUDIT_HASH_HEX];
    assert_ok(store_audit_head(fx->s, &head, hash));
    assert_int_equal(head, recs[2].seq);
    assert_string_equal(hash, recs[2].hash);

    assert_org_trail_is(fx, "o", recs, 3);
    /* The same seq twice is a conflict. */
    assert_lk(store_audit_insert(fx->s, &recs[0]), LK_ECONFLICT);
    /* An unsealed record is refused. */
    struct audit_rec bare;
    make_audit(fx, &bare, "o", "", "x", "a", "success", 1);
    bare.seq = head + 100;
    assert_lk(store_audit_insert(fx->s, &bare), LK_EINVAL);
}

/* Many records at once (whole statements of several rows and single ones
 * for the rest) come back exactly as one by one would; a bad record in the
 * batch refuses all of it. */
static int insert_many_fn(struct store *s, void *arg) {
    struct audit_list *l = arg;
    int64_t seq;
    char prev[AUDIT_HASH_HEX];
    const struct audit_rec **ptrs = calloc(l->count, sizeof(*ptrs));
    if (ptrs == NULL)
        return LK_ENOMEM;
    int r = store_audit_head(s, &seq, prev);
    for (size_t i = 0; r == 0 && i < l->count; i++) {
        l->items[i].seq = ++seq;
        memcpy(l->items[i].prev_hash, prev, AUDIT_HASH_HEX);
        r = audit_seal(&l->items[i]);
        memcpy(prev, l->items[i].hash, AUDIT_HASH_HEX);
        ptrs[i] = &l->items[i];
    }
    if (r == 0)
        r = store_audit_insert_many(s, ptrs, l->count);
    free(ptrs);
    return r;
}

static void test_audit_insert_many(void **state) {
    struct fx *fx = *state;
    struct audit_rec recs[47]; /* statements of 16, 16, 8, 4, 2 and 1 rows */
    for (int i = 0; i < 47; i++)
        make_audit(fx, &recs[i], "many", i % 3 ? "web" : "", "ann", "token.read", "success", 7000 + i);
    struct audit_list in = {.items = recs, .count = 47};
    assert_ok(store_tx(fx->s, insert_many_fn, &in));
    assert_org_trail_is(fx, "many", recs, 47);

    /* One unsealed record among sealed ones: nothing is written. */
    struct audit_rec more[20];
    const struct audit_rec *ptrs[20];
    int64_t head;
    char hash[AUDIT_HASH_HEX];
    assert_ok(store_audit_head(fx->s, &head, hash));
    for (int i = 0; i < 20; i++) {
        make_audit(fx, &more[i], "many", "", "bob", "token.read", "success", 8000 + i);
        more[i].seq = head + 1 + i;
        memcpy(more[i].prev_hash, i ? more[i - 1].hash : hash, AUDIT_HASH_HEX);
        assert_ok(audit_seal(&more[i]));
        ptrs[i] = &more[i];
    }
    more[17].hash[0] = '\0';
    assert_lk(store_audit_insert_many(fx->s, ptrs, 20), LK_EINVAL);
    int64_t after;
    assert_ok(store_audit_head(fx->s, &after, hash));
    assert_int_equal(after, head);
    /* A seq already taken inside a 16-row statement: a conflict. */
    assert_ok(audit_seal(&more[17]));
    more[5].seq = head;
    assert_lk(store_audit_insert_many(fx->s, ptrs, 20), LK_ECONFLICT);
}

static void test_audit_filters_order_and_cursor(void **state) {
    struct fx *fx = *state;
    struct audit_rec recs[6];
    make_audit(fx, &recs[0], "f", "", "ann", "token.create", "success", 1000);
    make_audit(fx, &recs[1], "f", "web", "bob", "team.update", "success", 2000);
    make_audit(fx, &recs[2], "f", "db", "ann", "token.read", "denied", 3000);
    make_audit(fx, &recs[3], "f", "web", "ann", "token.create", "error", 4000);
    make_audit(fx, &recs[4], "g", "web", "ann", "token.create", "success", 5000);
    make_audit(fx, &recs[5], "f", "", "cy", "token.create", "success", 6000);
    struct audit_list in = {.items = recs, .count = 6};
    assert_ok(store_tx(fx->s, append_fn, &in));
    char org[AUDIT_NAME_MAX], ann[AUDIT_NAME_MAX];
    snprintf(org, sizeof(org), "f-%s", fx->tag);
    snprintf(ann, sizeof(ann), "ann-%s", fx->tag);
    static const struct team_scope web_db[] = {{"web", 0, 0}, {"db", 0, 0}};
    struct {
        struct audit_filter f;
        int want[6];
        size_t n;
    } cases[] = {
        {{.org = org, .limit = 100}, {0, 1, 2, 3, 5}, 5},
        {{.org = org, .actor = ann, .limit = 100}, {0, 2, 3}, 3},
        {{.org = org, .action = "token.create", .limit = 100}, {0, 3, 5}, 3},
        {{.org = org, .outcome = "denied", .limit = 100}, {2}, 1},
        {{.org = org, .teams = web_db, .nteams = 1, .limit = 100}, {1, 3}, 2},
        {{.org = org, .teams = web_db, .nteams = 2, .limit = 100}, {1, 2, 3}, 3},
        {{.org = org, .teams = web_db, .nteams = 0, .limit = 100}, {0}, 0}, /* no team: no record */
        {{.org = org, .since_ms = 2000, .until_ms = 4000, .limit = 100}, {1, 2}, 2},
        {{.org = org, .descending = 1, .limit = 100}, {5, 3, 2, 1, 0}, 5},
        {{.org = org, .limit = 2}, {0, 1}, 2},
        {{.org = org, .cursor = 0, .descending = 1, .limit = 2}, {5, 3}, 2},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct audit_list out = {0};
        assert_ok(store_audit_list(fx->s, &cases[c].f, &out));
        if (out.count != cases[c].n)
            fail_msg("case %zu: %zu records, want %zu", c, out.count, cases[c].n);
        for (size_t i = 0; i < out.count; i++)
            if (out.items[i].seq != recs[cases[c].want[i]].seq)
                fail_msg("case %zu item %zu: seq %lld, want %lld", c, i, (long long)out.items[i].seq,
                         (long long)recs[cases[c].want[i]].seq);
        audit_list_done(&out);
    }
    /* Cursors continue after (ascending) or before (descending) the last seen. */
    struct audit_filter f = {.org = org, .cursor = recs[1].seq, .limit = 100};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, 3);
    assert_int_equal(out.items[0].seq, recs[2].seq);
    audit_list_done(&out);
    f.descending = 1;
    f.cursor = recs[3].seq;
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, 3);
    assert_int_equal(out.items[0].seq, recs[2].seq);
    audit_list_done(&out);
    f.limit = 0;
    assert_lk(store_audit_list(fx->s, &f, &out), LK_EINVAL);
    f.limit = 1001;
    assert_lk(store_audit_list(fx->s, &f, &out), LK_EINVAL);
}

/* Follows resume cursors until the scan ends; returns the seqs found. */
static size_t walk(struct fx *fx, struct audit_filter f, int64_t *seqs, size_t cap, size_t *ret_pages) {
    size_t n = 0, pages = 0;
    for (;;) {
        struct audit_list out = {0};
        assert_ok(store_audit_list(fx->s, &f, &out));
        pages++;
        assert_true(out.count <= (size_t)f.limit);
        for (size_t i = 0; i < out.count && n < cap; i++)
            seqs[n++] = out.items[i].seq;
        int64_t next = out.count == (size_t)f.limit ? out.items[out.count - 1].seq : out.resume;
        if (out.count < (size_t)f.limit && out.resume == 0)
            next = 0;
        audit_list_done(&out);
        if (next == 0)
            break;
        f.cursor = next;
        if (pages > 1000)
            fail_msg("no end after %zu pages", pages);
    }
    *ret_pages = pages;
    return n;
}

/* A filter that matches little examines a bounded part of the trail per
 * page and says where to go on; following that finds every match, in
 * order, both ways, within the scope. */
static void test_audit_scan_budget_bounds_a_page(void **state) {
    struct fx *fx = *state;
    enum { N = 10000 };
    static struct audit_rec recs[N];
    const size_t needles[] = {0, 4095, 4096, 5000, N - 1};
    for (size_t i = 0, k = 0; i < N; i++) {
        int needle = k < sizeof(needles) / sizeof(needles[0]) && needles[k] == i;
        make_audit(fx, &recs[i], "hay", "", needle ? "needle" : "straw", "auth.whoami", "success", 1000 + (int64_t)i);
        k += needle;
    }
    struct audit_list in = {.items = recs, .count = N};
    assert_ok(store_tx(fx->s, append_fn, &in));
    char org[AUDIT_NAME_MAX], needle[AUDIT_NAME_MAX];
    snprintf(org, sizeof(org), "hay-%s", fx->tag);
    snprintf(needle, sizeof(needle), "needle-%s", fx->tag);
    int64_t seqs[16];
    size_t pages;
    for (int desc = 0; desc <= 1; desc++) {
        for (int64_t budget = 1; budget <= 10000; budget += 9999) {
            struct audit_filter f = {
                .org = org, .actor = needle, .limit = 100, .descending = desc, .scan_budget = budget};
            size_t n = walk(fx, f, seqs, 16, &pages);
            assert_int_equal(n, 5);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(seqs[i], recs[needles[desc ? 4 - i : i]].seq);
            /* The shared store holds other tests' records too: at least the
             * hay's own windows, and more pages for the smaller budget. */
            assert_true(pages >= (budget == 1 ? 3u : 1u));
            /* Without a budget: one page, the same records. */
            f.scan_budget = 0;
            assert_int_equal(walk(fx, f, seqs, 16, &pages), 5);
            assert_int_equal(pages, 1);
        }
    }
    /* A page still stops at limit; the cursor then comes from its last record. */
    struct audit_filter f = {.org = org, .actor = needle, .limit = 2, .scan_budget = 1000000};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, 2);
    audit_list_done(&out);
    /* The scope's start (a reused name) bounds the walk too. */
    f.limit = 100;
    f.after_seq = recs[4096].seq;
    assert_int_equal(walk(fx, f, seqs, 16, &pages), 2);
    assert_int_equal(seqs[0], recs[5000].seq);
    f.descending = 1;
    f.scan_budget = 1;
    assert_int_equal(walk(fx, f, seqs, 16, &pages), 2);
    assert_int_equal(seqs[1], recs[5000].seq);
}

/* An org's listing does not pay for the stretches of the trail that name
 * only other orgs: three records of a small org, 20480 and 4096 records of
 * a big one between them, are one page for a budget of 16384 records,
 * both ways; with a budget of one record, one page per stretch that names
 * it, and no empty page at the end. */
static void test_audit_org_listing_skips_other_orgs_stretches(void **state) {
    struct fx *fx = *state;
    enum { GAP1 = 5 * 4096, GAP2 = 4096, N = 3 + GAP1 + GAP2 };
    static struct audit_rec recs[N];
    for (size_t i = 0; i < N; i++) {
        int small = i == 0 || i == 1 + GAP1 || i == N - 1;
        make_audit(fx, &recs[i], small ? "small" : "big", "", "ann", "auth.whoami", "success", 1000 + (int64_t)i);
    }
    struct audit_list in = {.items = recs, .count = N};
    assert_ok(store_tx(fx->s, insert_many_fn, &in));
    char org[AUDIT_NAME_MAX], org_id[AUDIT_NAME_MAX];
    snprintf(org, sizeof(org), "small-%s", fx->tag);
    snprintf(org_id, sizeof(org_id), "org_small_%s", fx->tag);
    const int64_t want[] = {recs[0].seq, recs[1 + GAP1].seq, recs[N - 1].seq};
    int64_t seqs[8];
    size_t pages;
    for (int desc = 0; desc <= 1; desc++) {
        struct audit_filter f = {.org_id = org_id, .org = org, .limit = 100, .descending = desc, .scan_budget = 16384};
        assert_int_equal(walk(fx, f, seqs, 8, &pages), 3);
        assert_int_equal(pages, 1);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(seqs[i], want[desc ? 2 - i : i]);
        f.scan_budget = 1;
        assert_int_equal(walk(fx, f, seqs, 8, &pages), 3);
        assert_int_equal(pages, 3);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(seqs[i], want[desc ? 2 - i : i]);
    }
    /* The big org's own listing still sees all of its records. */
    snprintf(org, sizeof(org), "big-%s", fx->tag);
    snprintf(org_id, sizeof(org_id), "org_big_%s", fx->tag);
    struct audit_filter f = {.org_id = org_id, .org = org, .limit = 1000, .scan_budget = 1000000};
    size_t n = 0;
    pages = 0;
    for (;;) {
        struct audit_list out = {0};
        assert_ok(store_audit_list(fx->s, &f, &out));
        n += out.count;
        pages++;
        int64_t next = out.count == (size_t)f.limit ? out.items[out.count - 1].seq : 0;
        audit_list_done(&out);
        if (next == 0)
            break;
        f.cursor = next;
    }
    assert_int_equal(n, GAP1 + GAP2);
}

/* An org's view is the records filed under its id: a later holder of its
 * name (another id) sees none of them, nor they its; the name alone (the
 * operator's export) still finds both holders' records. Blocks are kept by
 * id, so a budgeted listing finds the org's records and skips the other's. */
static void test_audit_org_id_selects_only_records_filed_under_it(void **state) {
    struct fx *fx = *state;
    struct audit_rec recs[5];
    make_audit(fx, &recs[0], "same", "", "ann", "user.create", "success", 1000);
    make_audit(fx, &recs[1], "same", "web", "ann", "team.update", "success", 1001);
    make_audit(fx, &recs[2], "same", "", "bob", "user.create", "success", 1002);
    make_audit(fx, &recs[3], "same", "web", "bob", "team.update", "success", 1003);
    make_audit(fx, &recs[4], "other", "", "cy", "user.create", "success", 1004);
    /* recs 2 and 3: the same name, held by another org now. */
    for (int i = 2; i < 4; i++)
        snprintf(recs[i].org_id, sizeof(recs[i].org_id), "org_next_%s", fx->tag);
    struct audit_list in = {.items = recs, .count = 5};
    assert_ok(store_tx(fx->s, insert_many_fn, &in));
    char name[AUDIT_NAME_MAX], first[AUDIT_NAME_MAX], next[AUDIT_NAME_MAX];
    snprintf(name, sizeof(name), "same-%s", fx->tag);
    snprintf(first, sizeof(first), "org_same_%s", fx->tag);
    snprintf(next, sizeof(next), "org_next_%s", fx->tag);
    static const struct team_scope web[] = {{"web", 0, 0}};
    struct {
        struct audit_filter f;
        int want[4];
        size_t n;
    } cases[] = {
        {{.org_id = first, .org = name, .limit = 100}, {0, 1}, 2},
        {{.org_id = next, .org = name, .limit = 100}, {2, 3}, 2},
        {{.org_id = next, .org = name, .limit = 100, .scan_budget = 1}, {2, 3}, 2},
        {{.org_id = first, .org = name, .limit = 100, .descending = 1, .scan_budget = 1}, {1, 0}, 2},
        {{.org_id = next, .org = name, .teams = web, .nteams = 1, .limit = 100}, {3}, 1},
        {{.org_id = first, .org = name, .teams = web, .nteams = 1, .limit = 100}, {1}, 1},
        {{.org = name, .limit = 100}, {0, 1, 2, 3}, 4},
        /* Records from before org ids: none here, wherever they would begin. */
        {{.org_id = next, .org = name, .org_ids_from = INT64_MAX, .limit = 100}, {2, 3}, 2},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct audit_list out = {0};
        assert_ok(store_audit_list(fx->s, &cases[c].f, &out));
        if (out.count != cases[c].n)
            fail_msg("case %zu: %zu records, want %zu", c, out.count, cases[c].n);
        for (size_t i = 0; i < out.count; i++) {
            if (out.items[i].seq != recs[cases[c].want[i]].seq)
                fail_msg("case %zu item %zu: seq %lld, want %lld", c, i, (long long)out.items[i].seq,
                         (long long)recs[cases[c].want[i]].seq);
            assert_string_equal(out.items[i].org_id, recs[cases[c].want[i]].org_id);
        }
        audit_list_done(&out);
    }
}

/* Records from before org ids (no org_id, seq below where they begin) are
 * filed by what they recorded: a user's or service account's under its
 * actor's org, whatever org the request named; the partner admin's under
 * the org it named; an anonymous one under none. A later record without an
 * org id (filed under no org) is never read that way. A record's team
 * counts in a team owner's view only when the record is of that org. */
static void test_audit_records_before_org_ids_are_filed_by_their_actor(void **state) {
    struct fx *fx = *state;
    enum { N = 8 };
    struct audit_rec recs[N];
    char acme[AUDIT_NAME_MAX], globex[AUDIT_NAME_MAX];
    snprintf(acme, sizeof(acme), "acme-%s", fx->tag);
    snprintf(globex, sizeof(globex), "globex-%s", fx->tag);
    /* 0: acme's member in acme's team; 1: globex's member probing acme's team;
     * 2: anonymous probe of acme; 3: the partner admin in acme; 4: acme's
     * service account probing globex; 5: the partner admin in globex;
     * 6, 7: after org ids begin, without one: an anonymous record and a
     * user's naming acme. */
    const struct {
        const char *org, *team, *actor_type, *actor_org;
    } spec[N] = {
        {"acme", "web", "user", acme},
        {"acme", "web", "user", globex},
        {"acme", "web", "anonymous", acme},
        {"acme", "", "root", ""},
        {"globex", "web", "service_account", acme},
        {"globex", "", "root", ""},
        {"acme", "", "anonymous", acme},
        {"acme", "web", "user", acme},
    };
    for (int i = 0; i < N; i++) {
        make_audit(fx, &recs[i], spec[i].org, spec[i].team, "ann", "team.members", "success", 2000 + i);
        recs[i].org_id[0] = '\0';
        snprintf(recs[i].actor_type, sizeof(recs[i].actor_type), "%s", spec[i].actor_type);
        snprintf(recs[i].actor_org, sizeof(recs[i].actor_org), "%s", spec[i].actor_org);
    }
    struct audit_list in = {.items = recs, .count = N};
    assert_ok(store_tx(fx->s, insert_many_fn, &in));
    char acme_id[AUDIT_NAME_MAX], globex_id[AUDIT_NAME_MAX];
    snprintf(acme_id, sizeof(acme_id), "org_acme_%s", fx->tag);
    snprintf(globex_id, sizeof(globex_id), "org_globex_%s", fx->tag);
    int64_t from = recs[6].seq;
    static const struct team_scope web[] = {{"web", 0, 0}};
    struct {
        struct audit_filter f;
        int want[4];
        size_t n;
    } cases[] = {
        {{.org_id = acme_id, .org = acme, .org_ids_from = from, .limit = 100}, {0, 3, 4}, 3},
        {{.org_id = globex_id, .org = globex, .org_ids_from = from, .limit = 100}, {1, 5}, 2},
        /* acme's "web" owners: not globex's record naming it, nor acme's
         * service account's naming globex's "web". */
        {{.org_id = acme_id, .org = acme, .org_ids_from = from, .teams = web, .nteams = 1, .limit = 100}, {0}, 1},
        {{.org_id = globex_id, .org = globex, .org_ids_from = from, .teams = web, .nteams = 1, .limit = 100}, {0}, 0},
        /* Without a start for org ids, none of them is anybody's. */
        {{.org_id = acme_id, .org = acme, .limit = 100}, {0}, 0},
        /* The start bounds it from above, and the org's own scope from below. */
        {{.org_id = acme_id, .org = acme, .org_ids_from = recs[3].seq, .limit = 100}, {0}, 1},
        {{.org_id = acme_id, .org = acme, .org_ids_from = from, .after_seq = recs[0].seq, .limit = 100}, {3, 4}, 2},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct audit_list out = {0};
        assert_ok(store_audit_list(fx->s, &cases[c].f, &out));
        if (out.count != cases[c].n)
            fail_msg("case %zu: %zu records, want %zu", c, out.count, cases[c].n);
        for (size_t i = 0; i < out.count; i++)
            if (out.items[i].seq != recs[cases[c].want[i]].seq)
                fail_msg("case %zu item %zu: seq %lld, want %lld", c, i, (long long)out.items[i].seq,
                         (long long)recs[cases[c].want[i]].seq);
        audit_list_done(&out);
    }
    /* They keep their first encoding: each still checks against its hash. */
    struct audit_filter f = {.org = acme, .limit = 100};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s, &f, &out));
    for (size_t i = 0; i < out.count; i++) {
        char why[256];
        assert_string_equal(out.items[i].org_id, "");
        if (audit_check(&out.items[i], out.items[i].seq - 1, out.items[i].prev_hash, why, sizeof(why)) != 0)
            fail_msg("record %lld: %s", (long long)out.items[i].seq, why);
    }
    audit_list_done(&out);
}

/* An audit record written in a request transaction goes with it. */
static void test_audit_rolls_back_with_the_request(void **state) {
    struct fx *fx = *state;
    struct audit_rec rec;
    make_audit(fx, &rec, "r", "", "ann", "token.create", "success", 1000);
    struct audit_list in = {.items = &rec, .count = 1};
    assert_ok(store_open(fx->dsn, &fx->s2));
    store_request_begin(fx->s);
    int64_t head_before;
    char h[AUDIT_HASH_HEX];
    assert_ok(store_audit_head(fx->s2, &head_before, h));
    assert_ok(append_fn(fx->s, &in));
    assert_ok(store_request_end(fx->s, 0));
    char org[AUDIT_NAME_MAX];
    snprintf(org, sizeof(org), "r-%s", fx->tag);
    struct audit_filter f = {.org = org, .limit = 10};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s2, &f, &out));
    assert_int_equal(out.count, 0);
    audit_list_done(&out);
    int64_t head_after;
    assert_ok(store_audit_head(fx->s2, &head_after, h));
    assert_int_equal(head_after, head_before);
    /* store_sync succeeds with and without work to sync. */
    assert_ok(store_sync(fx->s));
    assert_ok(store_sync(fx->s2));
}

/* Names of the teams a user holds a given role in. */
static void test_team_scopes_for_member(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct user_rec u;
    make_org(fx, &o, "tn");
    assert_ok(store_org_insert(fx->s, &o));
    make_user(fx, &u, &o, "olga");
    assert_ok(store_user_insert(fx->s, &u));
    int64_t head;
    char hash[AUDIT_HASH_HEX];
    assert_ok(store_audit_head(fx->s, &head, hash));
    const char *names[] = {"web", "api", "db"};
    const char *roles[] = {"owner", "owner", "member"};
    for (int i = 0; i < 3; i++) {
        struct team_rec t;
        memset(&t, 0, sizeof(t));
        snprintf(t.id, sizeof(t.id), "team_%s_%d", fx->tag, i);
        memcpy(t.org_id, o.id, sizeof(t.org_id));
        snprintf(t.name, sizeof(t.name), "%s", names[i]);
        t.created_at = t.updated_at = 1;
        assert_ok(store_team_insert(fx->s, &t));
        assert_ok(store_team_member_put(fx->s, t.id, u.id, roles[i], 1));
    }
    /* Each team begins where the chain stood when it was made. */
    struct team_scope_list l = {0};
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", NULL, 1000, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "api");
    assert_string_equal(l.items[1].name, "web");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(l.items[i].after, head);
        assert_int_equal(l.items[i].from_ms, 1000);
    }
    team_scope_list_done(&l);
    /* A page at a time, by name. */
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", NULL, 1, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].name, "api");
    team_scope_list_done(&l);
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", "api", 1, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].name, "web");
    team_scope_list_done(&l);
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", "web", 1, &l));
    assert_int_equal(l.count, 0);
    team_scope_list_done(&l);
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "viewer", NULL, 1000, &l));
    assert_int_equal(l.count, 0);
    team_scope_list_done(&l);
    assert_lk(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", NULL, 0, &l), LK_EINVAL);
    assert_lk(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", NULL, 1001, &l), LK_EINVAL);
    team_scope_list_done(NULL);
}

/* An org or team made after records that name it (an earlier holder of
 * its name) begins after them: audit_after is the head at insert, and the
 * filters leave out everything at or below it. */
static void test_audit_scope_of_a_reused_name(void **state) {
    struct fx *fx = *state;
    struct audit_rec old[2];
    make_audit(fx, &old[0], "re", "", "ann", "user.create", "success", 5000);
    make_audit(fx, &old[1], "re", "web", "ann", "team.update", "success", 5001);
    struct audit_list in = {.items = old, .count = 2};
    assert_ok(store_tx(fx->s, append_fn, &in));

    struct org_rec o, got;
    make_org(fx, &o, "re");
    o.audit_after = 12345; /* assigned by the store, not taken from the caller */
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_int_equal(got.audit_after, old[1].seq);
    struct team_rec t;
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "team_%s_re", fx->tag);
    memcpy(t.org_id, o.id, sizeof(t.org_id));
    snprintf(t.name, sizeof(t.name), "web");
    t.created_at = t.updated_at = 1;
    assert_ok(store_team_insert(fx->s, &t));

    struct audit_rec fresh[2];
    make_audit(fx, &fresh[0], "re", "", "bob", "user.create", "success", 6000);
    make_audit(fx, &fresh[1], "re", "web", "bob", "team.update", "success", 6001);
    in.items = fresh;
    assert_ok(store_tx(fx->s, append_fn, &in));

    struct audit_filter f = {.org = o.name, .after_seq = got.audit_after, .limit = 10};
    struct audit_list out = {0};
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, 2);
    assert_int_equal(out.items[0].seq, fresh[0].seq);
    assert_int_equal(out.items[1].seq, fresh[1].seq);
    audit_list_done(&out);
    f.descending = 1;
    assert_ok(store_audit_list(fx->s, &f, &out));
    assert_int_equal(out.count, 2);
    assert_int_equal(out.items[0].seq, fresh[1].seq);
    audit_list_done(&out);

    /* The team's scope: only the new team's record. */
    struct team_scope_list scopes = {0};
    struct user_rec u;
    make_user(fx, &u, &o, "owner");
    assert_ok(store_user_insert(fx->s, &u));
    assert_ok(store_team_member_put(fx->s, t.id, u.id, "owner", 1));
    assert_ok(store_team_scopes_for_member(fx->s, o.id, u.id, "owner", NULL, 1000, &scopes));
    struct audit_filter tf = {.org = o.name, .teams = scopes.items, .nteams = scopes.count, .limit = 10};
    assert_ok(store_audit_list(fx->s, &tf, &out));
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].seq, fresh[1].seq);
    audit_list_done(&out);
    team_scope_list_done(&scopes);
}

/* --- expiry notices (the outbox) -------------------------------------------------- */

/* A pending notice of token_id for (days, channel), due at next. */
static void make_notice(struct notice_rec *n, const char *token_id, const char *org_id, int days, const char *channel,
                        int64_t next) {
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "ntc_%.14s%d%.1s", token_id + 8, days, channel);
    snprintf(n->token_id, sizeof(n->token_id), "%s", token_id);
    snprintf(n->org_id, sizeof(n->org_id), "%s", org_id);
    snprintf(n->owner_type, sizeof(n->owner_type), "user");
    snprintf(n->owner_id, sizeof(n->owner_id), "usr_x");
    snprintf(n->channel, sizeof(n->channel), "%s", channel);
    n->days_before = days;
    n->expires_at = 1800000000;
    if (strcmp(channel, "email") == 0)
        snprintf(n->recipient, sizeof(n->recipient), "a@example.com");
    snprintf(n->status, sizeof(n->status), "pending");
    n->next_attempt_at = next;
    n->created_at = n->updated_at = 1700000000;
}

/* The notice with id as listed (every org) into *ret, or fails the test. */
static void notice_get(struct store *s, const char *id, struct notice_rec *ret) {
    struct notice_list l = {0};
    int hit = 0;
    memset(ret, 0, sizeof(*ret));
    int64_t after = 0;
    for (;;) {
        assert_ok(store_notice_list(s, NULL, NULL, after, 1000, &l));
        for (size_t i = 0; i < l.count; i++)
            if (!hit && strcmp(l.items[i].id, id) == 0) {
                *ret = l.items[i];
                hit = 1;
            }
        size_t count = l.count;
        if (count > 0)
            after = l.items[count - 1].seq;
        notice_list_done(&l);
        if (count < 1000)
            break;
    }
    if (!hit)
        fail_msg("notice %s is not listed", id);
}

/* The notice with id as listed, or fails the test. */
static struct notice_rec notice_by_id(struct store *s, const char *id) {
    struct notice_rec found;
    notice_get(s, id, &found);
    return found;
}

/* How many of the listed candidates are tokens of this test. */
static size_t own_candidates(struct fx *fx, int64_t now, int64_t horizon, char ids[][TOKFMT_PUBID_BUFSZ], size_t cap) {
    struct notice_candidate_list l = {0};
    size_t n = 0;
    assert_ok(store_notice_candidates(fx->s, now, horizon, 0, 1000, &l));
    for (size_t i = 0; i < l.count; i++)
        if (strstr(l.items[i].token_id, fx->tag) != NULL && n < cap)
            memcpy(ids[n++], l.items[i].token_id, TOKFMT_PUBID_BUFSZ);
    notice_candidate_list_done(&l);
    return n;
}

static void test_notice_candidates_only_active_orgs_in_the_window(void **state) {
    struct fx *fx = *state;
    struct org_rec active, inactive;
    make_org(fx, &active, "act");
    make_org(fx, &inactive, "deact");
    snprintf(inactive.status, sizeof(inactive.status), "deactivated");
    assert_ok(store_org_insert(fx->s, &active));
    assert_ok(store_org_insert(fx->s, &inactive));
    const int64_t now = 1800000000, horizon = now + 7 * 86400;
    struct token_rec in_active, in_root, beyond, never, expired, in_inactive;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "n", owner);
    make_rec(fx, &in_active, "user", owner);
    snprintf(in_active.org_id, sizeof(in_active.org_id), "%s", active.id);
    in_active.expires_at = now + 86400;
    make_rec(fx, &in_root, "root", "root");
    in_root.org_id[0] = '\0';
    in_root.expires_at = horizon; /* the window's end is inside */
    make_rec(fx, &beyond, "user", owner);
    snprintf(beyond.org_id, sizeof(beyond.org_id), "%s", active.id);
    beyond.expires_at = horizon + 1;
    make_rec(fx, &never, "user", owner);
    snprintf(never.org_id, sizeof(never.org_id), "%s", active.id);
    make_rec(fx, &expired, "user", owner);
    snprintf(expired.org_id, sizeof(expired.org_id), "%s", active.id);
    expired.expires_at = now; /* expired at now: not a candidate */
    make_rec(fx, &in_inactive, "user", owner);
    snprintf(in_inactive.org_id, sizeof(in_inactive.org_id), "%s", inactive.id);
    in_inactive.expires_at = now + 86400;
    const struct token_rec *all[] = {&in_active, &in_root, &beyond, &never, &expired, &in_inactive};
    for (size_t i = 0; i < 6; i++)
        assert_ok(store_token_insert(fx->s, all[i]));

    char ids[8][TOKFMT_PUBID_BUFSZ];
    assert_int_equal(own_candidates(fx, now, horizon, ids, 8), 2);
    assert_string_equal(ids[0], in_active.id);
    assert_string_equal(ids[1], in_root.id);

    /* A candidate carries its org's notify_short_lived_tokens (root's: 0). */
    struct notice_candidate_list cl = {0};
    int seen = 0;
    for (int on = 0; on <= 1; on++) {
        active.notify_short_lived_tokens = on;
        assert_ok(store_org_update(fx->s, &active));
        assert_ok(store_notice_candidates(fx->s, now, horizon, 0, 1000, &cl));
        for (size_t i = 0; i < cl.count; i++) {
            if (strcmp(cl.items[i].token_id, in_active.id) == 0) {
                assert_int_equal(cl.items[i].notify_short_lived, on);
                seen++;
            } else if (strcmp(cl.items[i].token_id, in_root.id) == 0) {
                assert_int_equal(cl.items[i].notify_short_lived, 0);
            }
        }
        notice_candidate_list_done(&cl);
    }
    assert_int_equal(seen, 2);

    /* Shortening a token's expiry (what rotation does) retires nothing by
     * itself (store.h); retiring it takes it out of the candidates. */
    assert_ok(store_token_set_expiry(fx->s, in_active.id, now + 3600));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 8), 2);
    assert_ok(store_notice_retire(fx->s, in_active.id, now));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 8), 1);
    assert_string_equal(ids[0], in_root.id);
    /* Activating the org brings its tokens back. */
    snprintf(inactive.status, sizeof(inactive.status), "active");
    assert_ok(store_org_update(fx->s, &inactive));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 8), 2);
    assert_string_equal(ids[1], in_inactive.id);

    struct notice_candidate_list l = {0};
    assert_lk(store_notice_candidates(fx->s, now, horizon, 0, 0, &l), LK_EINVAL);
    assert_lk(store_notice_candidates(fx->s, now, horizon, 0, 1001, &l), LK_EINVAL);
}

/* Stores a user token of owner_key's user (in org_id, if given) expiring
 * at 1800000000, for the notice tests. */
static void insert_expiring_token(struct fx *fx, const char *owner_key, const char *org_id, struct token_rec *t) {
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, owner_key, owner);
    make_rec(fx, t, "user", owner);
    if (org_id != NULL)
        snprintf(t->org_id, sizeof(t->org_id), "%s", org_id);
    t->expires_at = 1800000000;
    assert_ok(store_token_insert(fx->s, t));
}

static void test_notice_schedule_once_claim_finish(void **state) {
    struct fx *fx = *state;
    struct token_rec t;
    insert_expiring_token(fx, "o", NULL, &t);

    struct notice_rec n7, n7w, again;
    make_notice(&n7, t.id, t.org_id, 7, "email", 1000);
    make_notice(&n7w, t.id, t.org_id, 7, "webhook", 1000);
    int inserted = -1;
    assert_ok(store_notice_insert(fx->s, &n7, &inserted));
    assert_int_equal(inserted, 1);
    /* The same (token, days, channel) again, even under another id: scheduled once. */
    again = n7;
    snprintf(again.id, sizeof(again.id), "ntc_other%s", fx->tag);
    assert_ok(store_notice_insert(fx->s, &again, &inserted));
    assert_int_equal(inserted, 0);
    assert_ok(store_notice_insert(fx->s, &n7w, &inserted));
    assert_int_equal(inserted, 1);

    struct notice_rec got;
    got = notice_by_id(fx->s, n7.id);
    assert_string_equal(got.recipient, "a@example.com");
    assert_string_equal(got.token_id, t.id);
    assert_string_equal(got.status, "pending");
    assert_int_equal(got.days_before, 7);
    assert_int_equal(got.attempts, 0);
    assert_int_equal(got.token_exists, 1);
    assert_int_equal(got.token_expires_at, t.expires_at);
    assert_int_equal(got.delivered_at, 0);

    /* Due by time and by channel. */
    struct notice_list due = {0};
    size_t mine = 0;
    assert_ok(store_notice_due(fx->s, 999, "email", 1000, &due));
    for (size_t i = 0; i < due.count; i++)
        mine += strcmp(due.items[i].token_id, t.id) == 0;
    notice_list_done(&due);
    assert_int_equal(mine, 0);
    assert_ok(store_notice_due(fx->s, 1000, "email", 1000, &due));
    mine = 0;
    for (size_t i = 0; i < due.count; i++)
        mine += strcmp(due.items[i].token_id, t.id) == 0 && strcmp(due.items[i].channel, "email") == 0;
    assert_int_equal(mine, 1);
    for (size_t i = 0; i < due.count; i++)
        assert_string_equal(due.items[i].channel, "email");
    notice_list_done(&due);

    /* One claim wins; it counts the attempt and moves the next attempt. */
    int claimed = -1;
    assert_ok(store_notice_claim(fx->s, n7.id, 1000, 1060, &claimed));
    assert_int_equal(claimed, 1);
    assert_ok(store_notice_claim(fx->s, n7.id, 1000, 1060, &claimed));
    assert_int_equal(claimed, 0);
    got = notice_by_id(fx->s, n7.id);
    assert_int_equal(got.attempts, 1);
    assert_int_equal(got.next_attempt_at, 1060);
    assert_lk(store_notice_claim(fx->s, n7.id, 1000, 999, &claimed), LK_EINVAL);

    got.attempts = 1;
    snprintf(got.status, sizeof(got.status), "delivered");
    got.last_error[0] = '\0';
    got.delivered_at = 1001;
    got.updated_at = 1001;
    assert_ok(store_notice_finish(fx->s, &got));
    got = notice_by_id(fx->s, n7.id);
    assert_string_equal(got.status, "delivered");
    assert_int_equal(got.delivered_at, 1001);
    assert_ok(store_notice_claim(fx->s, n7.id, 5000, 5060, &claimed));
    assert_int_equal(claimed, 0); /* delivered is final */

    struct notice_rec missing = got;
    snprintf(missing.id, sizeof(missing.id), "ntc_missing%s", fx->tag);
    assert_lk(store_notice_finish(fx->s, &missing), LK_ENOTFOUND);
    struct notice_rec bad = got;
    snprintf(bad.status, sizeof(bad.status), "bogus");
    assert_lk(store_notice_finish(fx->s, &bad), LK_EINVAL);
    bad = got;
    snprintf(bad.channel, sizeof(bad.channel), "pigeon");
    assert_lk(store_notice_insert(fx->s, &bad, NULL), LK_EINVAL);
}

/* An e-mail notice is a row per recipient: the key is (token, days,
 * channel, recipient), each address round-trips, a webhook row has none,
 * and an unterminated or misplaced address is refused (store.h). */
static void test_notice_rows_per_recipient(void **state) {
    struct fx *fx = *state;
    struct token_rec t;
    insert_expiring_token(fx, "r", NULL, &t);

    static char longest[STORE_EMAIL_MAX];
    memset(longest, 'l', sizeof(longest) - 1);
    memcpy(longest + sizeof(longest) - 13, "@example.com", 13);
    const char *to[] = {"b@example.com", "\xc3\xa9l\xc3\xa8ve@example.com", longest, ""};
    struct notice_rec n[4], got;
    int inserted = -1;
    for (size_t i = 0; i < 4; i++) {
        make_notice(&n[i], t.id, t.org_id, 7, "email", 1000);
        snprintf(n[i].id, sizeof(n[i].id), "ntc_rcpt%zu%s", i, fx->tag);
        snprintf(n[i].recipient, sizeof(n[i].recipient), "%s", to[i]);
        assert_ok(store_notice_insert(fx->s, &n[i], &inserted));
        assert_int_equal(inserted, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        got = notice_by_id(fx->s, n[i].id);
        assert_string_equal(got.recipient, to[i]);
        assert_string_equal(got.channel, "email");
    }
    /* The same recipient again, under another id: scheduled once. */
    struct notice_rec again = n[0];
    snprintf(again.id, sizeof(again.id), "ntc_rcptx%s", fx->tag);
    assert_ok(store_notice_insert(fx->s, &again, &inserted));
    assert_int_equal(inserted, 0);

    /* A webhook row has no recipient, and reads back without one. */
    struct notice_rec w;
    make_notice(&w, t.id, t.org_id, 7, "webhook", 1000);
    assert_ok(store_notice_insert(fx->s, &w, &inserted));
    assert_int_equal(inserted, 1);
    got = notice_by_id(fx->s, w.id);
    assert_string_equal(got.recipient, "");
    struct notice_rec wr = w;
    snprintf(wr.id, sizeof(wr.id), "ntc_rcptw%s", fx->tag);
    wr.days_before = 1;
    snprintf(wr.recipient, sizeof(wr.recipient), "a@example.com");
    assert_lk(store_notice_insert(fx->s, &wr, NULL), LK_EINVAL);

    /* An address that fills its field without a terminator is refused. */
    struct notice_rec bad;
    make_notice(&bad, t.id, t.org_id, 2, "email", 1000);
    memset(bad.recipient, 'x', sizeof(bad.recipient));
    assert_lk(store_notice_insert(fx->s, &bad, NULL), LK_EINVAL);
}

static void test_notice_supersede_and_token_delete(void **state) {
    struct fx *fx = *state;
    struct token_rec t;
    insert_expiring_token(fx, "s", NULL, &t);
    struct notice_rec n30, n7, n1;
    make_notice(&n30, t.id, t.org_id, 30, "email", 1000);
    make_notice(&n7, t.id, t.org_id, 7, "email", 1000);
    make_notice(&n1, t.id, t.org_id, 1, "email", 1000);
    snprintf(n30.status, sizeof(n30.status), "delivered");
    assert_ok(store_notice_insert(fx->s, &n30, NULL));
    assert_ok(store_notice_insert(fx->s, &n7, NULL));
    assert_ok(store_notice_insert(fx->s, &n1, NULL));
    assert_ok(store_notice_supersede(fx->s, t.id, 1, 2000));
    assert_string_equal(notice_by_id(fx->s, n30.id).status, "delivered"); /* only pending ones change */
    assert_string_equal(notice_by_id(fx->s, n7.id).status, "skipped");
    assert_string_equal(notice_by_id(fx->s, n1.id).status, "pending");

    /* Deleting the token cancels nothing by itself (store.h): its notices
     * outlive it as they were, and the caller cancels what is pending. */
    assert_ok(store_token_delete(fx->s, t.id));
    struct notice_rec got = notice_by_id(fx->s, n1.id);
    assert_string_equal(got.status, "pending");
    assert_int_equal(got.token_exists, 0);
    size_t changed = 99;
    assert_ok(store_notice_cancel_token(fx->s, t.id, "token deleted", 2500, &changed));
    assert_int_equal(changed, 1);
    got = notice_by_id(fx->s, n1.id);
    assert_string_equal(got.status, "cancelled");
    assert_string_equal(got.last_error, "token deleted");
    assert_int_equal(got.updated_at, 2500);
    assert_string_equal(notice_by_id(fx->s, n30.id).status, "delivered");
    assert_string_equal(notice_by_id(fx->s, n7.id).status, "skipped");
}

/* Schedules a pending 7-day e-mail notice of token t, as the notifier
 * would (owner and org from the token). */
static void notice_of(struct fx *fx, const struct token_rec *t, struct notice_rec *n) {
    make_notice(n, t->id, t->org_id, 7, "email", 1000);
    snprintf(n->owner_type, sizeof(n->owner_type), "%s", t->owner_type);
    snprintf(n->owner_id, sizeof(n->owner_id), "%s", t->owner_id);
    n->expires_at = t->expires_at != 0 ? t->expires_at : 1800000000;
    int inserted = 0;
    assert_ok(store_notice_insert(fx->s, n, &inserted));
    assert_int_equal(inserted, 1);
}

/* The notice's status and last_error, and updated_at when it was cancelled. */
static void assert_notice(struct fx *fx, const struct notice_rec *n, const char *status, const char *last_error,
                          int64_t updated_at) {
    struct notice_rec got = notice_by_id(fx->s, n->id);
    assert_string_equal(got.status, status);
    assert_string_equal(got.last_error, last_error);
    assert_int_equal(got.updated_at, updated_at);
}

/* Each store_notice_cancel_* names its tokens and nothing else, changes
 * only pending notices, and writes the reason and time it is given; the
 * entity deletes that take tokens with them cancel nothing themselves. */
static void test_notice_cancel_selects_exactly_its_tokens(void **state) {
    struct fx *fx = *state;
    struct org_rec o, o2;
    struct user_rec u;
    struct team_rec team;
    struct sa_rec a;
    make_org(fx, &o, "cx");
    make_org(fx, &o2, "cy");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &o2));
    make_user(fx, &u, &o, "carol");
    assert_ok(store_user_insert(fx->s, &u));
    make_team(fx, &team, &o, "ops");
    assert_ok(store_team_insert(fx->s, &team));
    make_sa(fx, &a, &team, "bot");
    assert_ok(store_sa_insert(fx->s, &a));

    /* An API key and a login session of the user, a token of the service
     * account, one of root, one of a user of another org. */
    struct token_rec key, sess, sa_tok, root_tok, other;
    char other_owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "other", other_owner);
    make_rec(fx, &key, "user", u.id);
    make_rec(fx, &sess, "user", u.id);
    memcpy(sess.id, "lk_sess_", 8);
    make_rec(fx, &sa_tok, "service_account", a.id);
    make_rec(fx, &root_tok, "root", "root");
    root_tok.org_id[0] = '\0';
    make_rec(fx, &other, "user", other_owner);
    snprintf(key.org_id, sizeof(key.org_id), "%s", o.id);
    snprintf(sess.org_id, sizeof(sess.org_id), "%s", o.id);
    snprintf(sa_tok.org_id, sizeof(sa_tok.org_id), "%s", o.id);
    snprintf(other.org_id, sizeof(other.org_id), "%s", o2.id);
    struct token_rec *toks[] = {&key, &sess, &sa_tok, &root_tok, &other};
    struct notice_rec n[5], done;
    for (size_t i = 0; i < 5; i++) {
        toks[i]->expires_at = 1800000000;
        assert_ok(store_token_insert(fx->s, toks[i]));
        notice_of(fx, toks[i], &n[i]);
    }
    /* A notice delivered already is never cancelled. */
    make_notice(&done, key.id, o.id, 1, "email", 1000);
    snprintf(done.status, sizeof(done.status), "delivered");
    assert_ok(store_notice_insert(fx->s, &done, NULL));

    size_t changed = 99;
    assert_ok(store_notice_cancel_owner(fx->s, "user", u.id, "lk_sess_", "sessions ended", 3001, &changed));
    assert_int_equal(changed, 1);
    assert_notice(fx, &n[1], "cancelled", "sessions ended", 3001);
    assert_notice(fx, &n[0], "pending", "", 1700000000);

    assert_ok(store_notice_cancel_team(fx->s, team.id, "team deleted", 3002, &changed));
    assert_int_equal(changed, 1);
    assert_notice(fx, &n[2], "cancelled", "team deleted", 3002);

    /* Deleting the user (and their tokens) leaves their notices pending;
     * cancelling by owner afterwards still finds them. */
    assert_ok(store_user_delete(fx->s, u.id));
    assert_notice(fx, &n[0], "pending", "", 1700000000);
    assert_ok(store_notice_cancel_owner(fx->s, "user", u.id, NULL, "user deleted", 3003, &changed));
    assert_int_equal(changed, 1);
    assert_notice(fx, &n[0], "cancelled", "user deleted", 3003);
    assert_notice(fx, &done, "delivered", "", 1700000000);

    /* Deleting the other org leaves its notices pending too. */
    assert_ok(store_org_delete(fx->s, o2.id));
    assert_notice(fx, &n[4], "pending", "", 1700000000);
    assert_ok(store_notice_cancel_org(fx->s, o2.id, "org deleted", 3004, &changed));
    assert_int_equal(changed, 1);
    assert_notice(fx, &n[4], "cancelled", "org deleted", 3004);
    /* Root's notice was named by none of them. */
    assert_notice(fx, &n[3], "pending", "", 1700000000);

    /* Cancelling again changes nothing: only pending notices change. */
    assert_ok(store_notice_cancel_token(fx->s, key.id, "again", 3005, &changed));
    assert_int_equal(changed, 0);
    assert_notice(fx, &n[0], "cancelled", "user deleted", 3003);

    /* Arguments: no org means no selection; a reason must fit last_error. */
    char long_reason[STORE_NOTICE_ERROR_MAX + 1];
    memset(long_reason, 'x', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    assert_lk(store_notice_cancel_org(fx->s, "", "x", 1, NULL), LK_EINVAL);
    assert_lk(store_notice_cancel_token(fx->s, key.id, long_reason, 1, NULL), LK_EINVAL);
    assert_lk(store_notice_cancel_token(fx->s, key.id, NULL, 1, NULL), LK_EINVAL);
    assert_lk(store_notice_cancel_owner(fx->s, "user", NULL, NULL, "x", 1, NULL), LK_EINVAL);
    assert_lk(store_notice_cancel_team(fx->s, NULL, "x", 1, NULL), LK_EINVAL);
    assert_lk(store_notice_retire(fx->s, NULL, 1), LK_EINVAL);
}

/* store_notice_cancel_expired names the tokens expired before the cutoff,
 * as they are when it runs. */
static void test_notice_cancel_expired_reads_the_tokens(void **state) {
    struct fx *fx = *state;
    struct token_rec old, young, never;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "exp", owner);
    make_rec(fx, &old, "user", owner);
    make_rec(fx, &young, "user", owner);
    make_rec(fx, &never, "user", owner);
    old.expires_at = 1000;
    young.expires_at = 2000;
    struct notice_rec n_old, n_young, n_never;
    assert_ok(store_token_insert(fx->s, &old));
    assert_ok(store_token_insert(fx->s, &young));
    assert_ok(store_token_insert(fx->s, &never));
    notice_of(fx, &old, &n_old);
    notice_of(fx, &young, &n_young);
    notice_of(fx, &never, &n_never);
    assert_ok(store_notice_cancel_expired(fx->s, 2000, "token deleted", 4000, NULL));
    assert_notice(fx, &n_old, "cancelled", "token deleted", 4000);
    assert_notice(fx, &n_young, "pending", "", 1700000000);
    assert_notice(fx, &n_never, "pending", "", 1700000000);
    /* Deleting them cancels nothing by itself. */
    size_t deleted = 0;
    assert_ok(store_token_delete_expired(fx->s, 2001, &deleted));
    assert_true(deleted >= 2);
    assert_notice(fx, &n_young, "pending", "", 1700000000);
}

/* A retirement belongs to its token: it goes with the token, by whatever
 * operation deletes it. */
static void test_notice_retirement_goes_with_its_token(void **state) {
    struct fx *fx = *state;
    const int64_t now = 1800000000 - 86400, horizon = now + 7 * 86400;
    struct org_rec o;
    struct user_rec u;
    make_org(fx, &o, "ret");
    assert_ok(store_org_insert(fx->s, &o));
    make_user(fx, &u, &o, "rita");
    assert_ok(store_user_insert(fx->s, &u));
    struct token_rec t, v;
    make_rec(fx, &t, "user", u.id);
    make_rec(fx, &v, "user", u.id);
    snprintf(t.org_id, sizeof(t.org_id), "%s", o.id);
    snprintf(v.org_id, sizeof(v.org_id), "%s", o.id);
    t.expires_at = v.expires_at = 1800000000;
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &v));
    char ids[4][TOKFMT_PUBID_BUFSZ];
    assert_int_equal(own_candidates(fx, now, horizon, ids, 4), 2);

    /* Retiring takes a token out of the candidates, once; an unknown token is nothing to retire. */
    assert_ok(store_notice_retire(fx->s, t.id, now));
    assert_ok(store_notice_retire(fx->s, t.id, now + 1));
    assert_ok(store_notice_retire(fx->s, "lk_user_nosuchtoken0", now));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 4), 1);
    assert_string_equal(ids[0], v.id);

    /* Deleted and made again under the same id, it is a new token, not retired. */
    assert_ok(store_token_delete(fx->s, t.id));
    assert_ok(store_token_insert(fx->s, &t));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 4), 2);

    /* Likewise when its owner is deleted with it. */
    assert_ok(store_notice_retire(fx->s, t.id, now));
    assert_ok(store_notice_retire(fx->s, v.id, now));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 4), 0);
    assert_ok(store_user_delete(fx->s, u.id));
    assert_ok(store_user_insert(fx->s, &u));
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &v));
    assert_int_equal(own_candidates(fx, now, horizon, ids, 4), 2);
}

/* A cancellation in a request joins its transaction, and goes if it does. */
static void test_notice_cancel_joins_the_request_tx(void **state) {
    struct fx *fx = *state;
    struct token_rec t;
    insert_expiring_token(fx, "rq", NULL, &t);
    struct notice_rec n;
    notice_of(fx, &t, &n);
    store_request_begin(fx->s);
    assert_int_equal(store_request_active(fx->s), 0);
    assert_ok(store_notice_cancel_token(fx->s, t.id, "token deleted", 5000, NULL));
    assert_int_equal(store_request_active(fx->s), 1);
    assert_ok(store_notice_retire(fx->s, t.id, 5000));
    assert_ok(store_token_delete(fx->s, t.id));
    assert_ok(store_request_end(fx->s, 0));
    assert_notice(fx, &n, "pending", "", 1700000000);
    assert_token_there(fx->s, t.id);
}

static void test_notice_list_filters_pages_and_purge(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    make_org(fx, &o, "ntc");
    assert_ok(store_org_insert(fx->s, &o));
    struct token_rec t;
    insert_expiring_token(fx, "l", o.id, &t);
    static const int days[] = {60, 30, 7, 1};
    for (size_t i = 0; i < 4; i++) {
        struct notice_rec n;
        make_notice(&n, t.id, o.id, days[i], "email", 1000);
        if (i == 0) {
            snprintf(n.status, sizeof(n.status), "failed");
            n.expires_at = 1000; /* announces an expiry long gone: purged below */
        }
        assert_ok(store_notice_insert(fx->s, &n, NULL));
    }
    struct notice_list l = {0};
    assert_ok(store_notice_list(fx->s, o.id, NULL, 0, 1000, &l));
    assert_int_equal(l.count, 4);
    assert_int_equal(l.items[0].days_before, 60);
    assert_string_equal(l.items[0].org_name, o.name);
    assert_string_equal(l.items[0].org_status, "active");
    int64_t second = l.items[1].seq;
    notice_list_done(&l);
    assert_ok(store_notice_list(fx->s, o.id, NULL, 0, 2, &l));
    assert_int_equal(l.count, 2);
    notice_list_done(&l);
    assert_ok(store_notice_list(fx->s, o.id, NULL, second, 1000, &l));
    assert_int_equal(l.count, 2);
    assert_int_equal(l.items[0].days_before, 7);
    notice_list_done(&l);
    assert_ok(store_notice_list(fx->s, o.id, "failed", 0, 1000, &l));
    assert_int_equal(l.count, 1);
    notice_list_done(&l);
    assert_ok(store_notice_list(fx->s, "org_nobody", NULL, 0, 1000, &l));
    assert_int_equal(l.count, 0);
    notice_list_done(&l);
    size_t purged = 0;
    assert_ok(store_notice_purge(fx->s, 1001, &purged));
    assert_true(purged >= 1);
    assert_ok(store_notice_list(fx->s, o.id, NULL, 0, 1000, &l));
    assert_int_equal(l.count, 3);
    notice_list_done(&l);
    assert_lk(store_notice_list(fx->s, o.id, NULL, 0, 0, &l), LK_EINVAL);
    notice_list_done(NULL);
    notice_candidate_list_done(NULL);
}

/* --- secrets ------------------------------------------------------------------ */

static void make_secret(struct secret_rec *r, const struct org_rec *o, const char *team_id, const char *path,
                        int64_t version, const char *value) {
    memset(r, 0, sizeof(*r));
    snprintf(r->org_id, sizeof(r->org_id), "%s", o->id);
    snprintf(r->team_id, sizeof(r->team_id), "%s", team_id);
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->version = version;
    r->value = (uint8_t *)value; /* not owned: never secret_rec_done() this one */
    r->value_len = value != NULL ? strlen(value) : 0;
    r->created_at = 1700000100 + version;
    snprintf(r->created_by, sizeof(r->created_by), "user:usr_x");
}

/* Versions per (scope, path), values opaque and exact, a tombstone is a
 * version, the newest is found, pruning keeps the window, and an org's and
 * a team's secrets under the same path never meet. */
static void test_secrets_versions_scopes_and_tombstones(void **state) {
    struct fx *fx = *state;
    struct org_rec o, other;
    struct team_rec team;
    make_org(fx, &o, "sec");
    make_org(fx, &other, "sec2");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &other));
    make_team(fx, &team, &o, "vault");
    assert_ok(store_team_insert(fx->s, &team));

    int64_t latest = -1;
    assert_ok(store_secret_latest(fx->s, o.id, "", "db/password", &latest));
    assert_int_equal(latest, 0);
    struct secret_rec r;
    static const char bin[] = "\x00sealed\x01\xff";
    make_secret(&r, &o, "", "db/password", 1, NULL);
    r.value = (uint8_t *)bin;
    r.value_len = sizeof(bin); /* with its NUL bytes: opaque */
    assert_ok(store_secret_insert(fx->s, &r));
    assert_lk(store_secret_insert(fx->s, &r), LK_ECONFLICT);
    make_secret(&r, &o, "", "db/password", 2, "v2");
    assert_ok(store_secret_insert(fx->s, &r));
    make_secret(&r, &o, "", "db/password", 3, NULL); /* deleted */
    assert_ok(store_secret_insert(fx->s, &r));
    /* The same path in the team and in another org is another secret. */
    make_secret(&r, &o, team.id, "db/password", 1, "team-v1");
    assert_ok(store_secret_insert(fx->s, &r));
    make_secret(&r, &other, "", "db/password", 1, "other-v1");
    assert_ok(store_secret_insert(fx->s, &r));

    assert_ok(store_secret_latest(fx->s, o.id, "", "db/password", &latest));
    assert_int_equal(latest, 3);
    assert_ok(store_secret_latest(fx->s, o.id, team.id, "db/password", &latest));
    assert_int_equal(latest, 1);

    struct secret_rec got;
    assert_ok(store_secret_get(fx->s, o.id, "", "db/password", 0, &got));
    assert_int_equal(got.version, 3);
    assert_null(got.value); /* the newest is a tombstone */
    secret_rec_done(&got);
    assert_ok(store_secret_get(fx->s, o.id, "", "db/password", 1, &got));
    assert_int_equal(got.value_len, sizeof(bin));
    assert_memory_equal(got.value, bin, sizeof(bin));
    assert_string_equal(got.team_id, "");
    assert_string_equal(got.created_by, "user:usr_x");
    secret_rec_done(&got);
    assert_ok(store_secret_get(fx->s, o.id, team.id, "db/password", 0, &got));
    assert_memory_equal(got.value, "team-v1", 7);
    assert_string_equal(got.team_id, team.id);
    secret_rec_done(&got);
    assert_lk(store_secret_get(fx->s, o.id, "", "db/password", 9, &got), LK_ENOTFOUND);
    assert_lk(store_secret_get(fx->s, o.id, "", "nope", 0, &got), LK_ENOTFOUND);
    /* A team of another org is not a scope of this one. */
    assert_lk(store_secret_get(fx->s, other.id, team.id, "db/password", 0, &got), LK_ENOTFOUND);

    struct secret_list vl = {0};
    assert_ok(store_secret_versions(fx->s, o.id, "", "db/password", &vl));
    assert_int_equal(vl.count, 3);
    assert_int_equal(vl.items[0].version, 3);
    assert_int_equal(vl.items[0].value_len, 0);
    assert_int_equal(vl.items[1].value_len, 2);
    assert_int_equal(vl.items[2].value_len, sizeof(bin));
    assert_null(vl.items[1].value);
    secret_list_done(&vl);

    size_t pruned = 0;
    assert_ok(store_secret_prune(fx->s, o.id, "", "db/password", 3, &pruned));
    assert_int_equal(pruned, 2);
    assert_lk(store_secret_get(fx->s, o.id, "", "db/password", 1, &got), LK_ENOTFOUND);
    assert_ok(store_secret_get(fx->s, o.id, team.id, "db/password", 1, &got)); /* other scope untouched */
    secret_rec_done(&got);

    /* Inserting into a scope that is not there. */
    make_secret(&r, &o, "team_nope", "x", 1, "v");
    assert_lk(store_secret_insert(fx->s, &r), LK_ENOTFOUND);
    make_secret(&r, &o, team.id, "x", 1, "v");
    snprintf(r.org_id, sizeof(r.org_id), "%s", other.id); /* the team is not the other org's */
    assert_lk(store_secret_insert(fx->s, &r), LK_ENOTFOUND);
}

/* Live paths under a prefix, in byte order and pages; tombstoned ones gone;
 * a team's deletion takes its secrets, an org's deletion all of its own. */
static void test_secrets_paths_and_cascades(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct team_rec team;
    make_org(fx, &o, "paths");
    assert_ok(store_org_insert(fx->s, &o));
    make_team(fx, &team, &o, "ops");
    assert_ok(store_team_insert(fx->s, &team));
    const char *paths[] = {"app/a", "app/b/c", "app/b/d", "apple", "db", "app/z"};
    struct secret_rec r;
    for (size_t i = 0; i < 6; i++) {
        make_secret(&r, &o, "", paths[i], 1, "v");
        assert_ok(store_secret_insert(fx->s, &r));
    }
    make_secret(&r, &o, "", "app/z", 2, NULL); /* deleted */
    assert_ok(store_secret_insert(fx->s, &r));
    make_secret(&r, &o, team.id, "app/team-only", 1, "v");
    assert_ok(store_secret_insert(fx->s, &r));

    struct secret_path_list pl = {0};
    assert_ok(store_secret_paths(fx->s, o.id, "", "app/", "", 100, &pl));
    assert_int_equal(pl.count, 3);
    assert_string_equal(pl.items[0], "app/a");
    assert_string_equal(pl.items[1], "app/b/c");
    assert_string_equal(pl.items[2], "app/b/d");
    secret_path_list_done(&pl);
    assert_ok(store_secret_paths(fx->s, o.id, "", "", "app/a", 2, &pl));
    assert_int_equal(pl.count, 2);
    assert_string_equal(pl.items[0], "app/b/c");
    assert_string_equal(pl.items[1], "app/b/d");
    secret_path_list_done(&pl);
    assert_ok(store_secret_paths(fx->s, o.id, team.id, "", "", 100, &pl));
    assert_int_equal(pl.count, 1);
    assert_string_equal(pl.items[0], "app/team-only");
    secret_path_list_done(&pl);
    assert_lk(store_secret_paths(fx->s, o.id, "", "", "", 0, &pl), LK_EINVAL);

    assert_ok(store_team_delete(fx->s, team.id));
    int64_t latest = -1;
    assert_ok(store_secret_latest(fx->s, o.id, team.id, "app/team-only", &latest));
    assert_int_equal(latest, 0);
    assert_ok(store_org_delete(fx->s, o.id));
    assert_ok(store_secret_latest(fx->s, o.id, "", "app/a", &latest));
    assert_int_equal(latest, 0);
}

/* The re-encryption pass's reads and compare-and-swap writes. */
static void test_secret_scan_and_rewrap(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    make_org(fx, &o, "scan");
    assert_ok(store_org_insert(fx->s, &o));
    struct secret_rec r;
    make_secret(&r, &o, "", "a", 1, "one");
    assert_ok(store_secret_insert(fx->s, &r));
    make_secret(&r, &o, "", "a", 2, NULL); /* tombstones are left out */
    assert_ok(store_secret_insert(fx->s, &r));
    make_secret(&r, &o, "", "b", 1, "two");
    assert_ok(store_secret_insert(fx->s, &r));
    struct secret_list l = {0};
    int64_t after = 0;
    size_t mine = 0;
    int64_t seq_a = 0;
    for (;;) { /* other tests' rows may share the store: keep this org's */
        assert_ok(store_secret_scan(fx->s, after, 2, &l));
        for (size_t i = 0; i < l.count; i++) {
            assert_true(l.items[i].seq > after);
            assert_non_null(l.items[i].value);
            if (strcmp(l.items[i].org_id, o.id) == 0) {
                mine++;
                if (strcmp(l.items[i].path, "a") == 0)
                    seq_a = l.items[i].seq;
            }
            after = l.items[i].seq;
        }
        size_t got = l.count;
        secret_list_done(&l);
        if (got < 2)
            break;
    }
    assert_int_equal(mine, 2);
    int changed = -1;
    assert_ok(store_secret_rewrap(fx->s, seq_a, (const uint8_t *)"nope", 4, (const uint8_t *)"ONE", 3, &changed));
    assert_int_equal(changed, 0); /* not what it holds: left alone */
    assert_ok(store_secret_rewrap(fx->s, seq_a, (const uint8_t *)"one", 3, (const uint8_t *)"ONE", 3, &changed));
    assert_int_equal(changed, 1);
    struct secret_rec got;
    assert_ok(store_secret_get(fx->s, o.id, "", "a", 1, &got));
    assert_memory_equal(got.value, "ONE", 3);
    secret_rec_done(&got);
}

static void test_secret_argument_checks(void **state) {
    struct fx *fx = *state;
    int64_t v;
    struct secret_rec r, got;
    struct org_rec o;
    make_org(fx, &o, "args");
    assert_lk(store_secret_latest(fx->s, NULL, "", "p", &v), LK_EINVAL);
    assert_lk(store_secret_latest(fx->s, o.id, NULL, "p", &v), LK_EINVAL);
    assert_lk(store_secret_latest(fx->s, o.id, "", "", &v), LK_EINVAL);
    assert_lk(store_secret_get(fx->s, o.id, "", "p", -1, &got), LK_EINVAL);
    make_secret(&r, &o, "", "p", 0, "v"); /* version 0 */
    assert_lk(store_secret_insert(fx->s, &r), LK_EINVAL);
    make_secret(&r, &o, "", "p", 1, "v");
    r.value_len = STORE_SECRET_VALUE_MAX + 1;
    assert_lk(store_secret_insert(fx->s, &r), LK_EINVAL);
    make_secret(&r, &o, "", "p", 1, NULL);
    r.value_len = 3; /* a length without bytes */
    assert_lk(store_secret_insert(fx->s, &r), LK_EINVAL);
    secret_rec_done(NULL);
    secret_list_done(NULL);
    secret_path_list_done(NULL);
}

/* --- Vault ACL policies (0018) ------------------------------------------------ */

static void make_vault_policy(struct vault_policy_rec *r, const struct org_rec *o, const char *name, char *text,
                              int64_t at) {
    memset(r, 0, sizeof(*r));
    snprintf(r->org_id, sizeof(r->org_id), "%s", o->id);
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->text = text;
    r->created_at = at;
    r->updated_at = at;
    snprintf(r->updated_by, sizeof(r->updated_by), "user:u%lld", (long long)at);
}

/* Put creates, then replaces keeping created_at; names page in byte order,
 * per org; delete; the org's deletion takes them. */
static void test_vault_policies_round_trip(void **state) {
    struct fx *fx = *state;
    struct org_rec o, other;
    make_org(fx, &o, "vault");
    assert_ok(store_org_insert(fx->s, &o));
    make_org(fx, &other, "vault2");
    assert_ok(store_org_insert(fx->s, &other));
    struct vault_policy_rec r, got;
    char t1[] = "path \"secret/*\" { capabilities = [\"read\"] }", t2[] = "# caf\xc3\xa9\n", empty[] = "";
    make_vault_policy(&r, &o, "web", t1, 1000);
    assert_ok(store_vault_policy_put(fx->s, &r));
    memset(&got, 0, sizeof(got));
    assert_ok(store_vault_policy_get(fx->s, o.id, "web", &got));
    assert_string_equal(got.org_id, o.id);
    assert_string_equal(got.name, "web");
    assert_string_equal(got.text, t1);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 1000);
    assert_string_equal(got.updated_by, "user:u1000");
    vault_policy_rec_done(&got);
    assert_null(got.text);

    make_vault_policy(&r, &o, "web", t2, 2000);
    assert_ok(store_vault_policy_put(fx->s, &r));
    assert_ok(store_vault_policy_get(fx->s, o.id, "web", &got));
    assert_string_equal(got.text, t2);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 2000);
    assert_string_equal(got.updated_by, "user:u2000");
    vault_policy_rec_done(&got);

    make_vault_policy(&r, &o, "default", empty, 3000); /* an empty document is the caller's business */
    assert_ok(store_vault_policy_put(fx->s, &r));
    assert_ok(store_vault_policy_get(fx->s, o.id, "default", &got));
    assert_string_equal(got.text, "");
    vault_policy_rec_done(&got);
    make_vault_policy(&r, &o, "app.b", t1, 3000);
    assert_ok(store_vault_policy_put(fx->s, &r));
    make_vault_policy(&r, &other, "web", t1, 3000); /* the same name in another org */
    assert_ok(store_vault_policy_put(fx->s, &r));

    struct name_list nl = {0};
    assert_ok(store_vault_policy_names(fx->s, o.id, "", 100, &nl));
    assert_int_equal(nl.count, 3);
    assert_string_equal(nl.items[0], "app.b");
    assert_string_equal(nl.items[1], "default");
    assert_string_equal(nl.items[2], "web");
    name_list_done(&nl);
    assert_ok(store_vault_policy_names(fx->s, o.id, "app.b", 1, &nl));
    assert_int_equal(nl.count, 1);
    assert_string_equal(nl.items[0], "default");
    name_list_done(&nl);
    assert_ok(store_vault_policy_names(fx->s, o.id, NULL, 100, &nl));
    assert_int_equal(nl.count, 3);
    name_list_done(&nl);

    assert_ok(store_vault_policy_delete(fx->s, o.id, "web"));
    assert_lk(store_vault_policy_delete(fx->s, o.id, "web"), LK_ENOTFOUND);
    assert_lk(store_vault_policy_get(fx->s, o.id, "web", &got), LK_ENOTFOUND);
    assert_ok(store_vault_policy_get(fx->s, other.id, "web", &got));
    vault_policy_rec_done(&got);

    assert_ok(store_org_delete(fx->s, o.id));
    assert_ok(store_vault_policy_names(fx->s, o.id, "", 100, &nl));
    assert_int_equal(nl.count, 0);
    name_list_done(&nl);
    assert_lk(store_vault_policy_get(fx->s, o.id, "default", &got), LK_ENOTFOUND);
}

static void test_vault_policy_argument_checks(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct vault_policy_rec r, got;
    struct name_list nl = {0};
    char text[] = "";
    make_org(fx, &o, "vargs");
    make_vault_policy(&r, &o, "p", text, 1);
    assert_lk(store_vault_policy_put(fx->s, &r), LK_ENOTFOUND); /* no such org */
    r.text = NULL;
    assert_lk(store_vault_policy_put(fx->s, &r), LK_EINVAL);
    make_vault_policy(&r, &o, "", text, 1);
    assert_lk(store_vault_policy_put(fx->s, &r), LK_EINVAL);
    make_vault_policy(&r, &o, "p", text, 1);
    r.updated_by[0] = '\0';
    assert_lk(store_vault_policy_put(fx->s, &r), LK_EINVAL);
    assert_lk(store_vault_policy_put(fx->s, NULL), LK_EINVAL);
    char *big = malloc(STORE_VAULT_POLICY_TEXT_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', STORE_VAULT_POLICY_TEXT_MAX + 1);
    big[STORE_VAULT_POLICY_TEXT_MAX + 1] = '\0';
    make_vault_policy(&r, &o, "p", big, 1);
    assert_lk(store_vault_policy_put(fx->s, &r), LK_EINVAL);
    free(big);
    assert_lk(store_vault_policy_get(fx->s, NULL, "p", &got), LK_EINVAL);
    assert_lk(store_vault_policy_get(fx->s, o.id, NULL, &got), LK_EINVAL);
    assert_lk(store_vault_policy_names(fx->s, o.id, "", 0, &nl), LK_EINVAL);
    assert_lk(store_vault_policy_names(fx->s, o.id, "", 1001, &nl), LK_EINVAL);
    assert_lk(store_vault_policy_delete(fx->s, o.id, NULL), LK_EINVAL);
    vault_policy_rec_done(NULL);
}

/* --- audit checkpoints (0017) ------------------------------------------------- */

/* Seqs of this test's own: far above any trail and apart from other tests'
 * (a shared DSN keeps every test's checkpoints). */
static int64_t checkpoint_base(const struct fx *fx) {
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = fx->tag; *c != '\0'; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    return (int64_t)1000000000000LL + (int64_t)(h % 1000000000ULL) * 1000;
}

static void make_checkpoint(struct audit_checkpoint *cp, int64_t seq, char fill) {
    memset(cp, 0, sizeof(*cp));
    cp->seq = seq;
    memset(cp->hash, fill, AUDIT_HASH_HEX - 1);
    memset(cp->mac, fill == 'f' ? '0' : 'f', AUDIT_HASH_HEX - 1);
    cp->hash[0] = 'a';
    cp->mac[AUDIT_HASH_HEX - 2] = '9';
    cp->created_at = 1700000000 + seq % 1000;
}

static void test_audit_checkpoints_round_trip_order_and_paging(void **state) {
    struct fx *fx = *state;
    int64_t base = checkpoint_base(fx);
    struct audit_checkpoint a, b, c;
    make_checkpoint(&a, base + 5, '1');
    make_checkpoint(&b, base + 2, '2');
    make_checkpoint(&c, base + 9, 'e');
    assert_ok(store_audit_checkpoint_insert(fx->s, &a));
    assert_ok(store_audit_checkpoint_insert(fx->s, &b));
    assert_ok(store_audit_checkpoint_insert(fx->s, &c));
    /* One checkpoint per seq: a second is refused, the first stays. */
    struct audit_checkpoint again;
    make_checkpoint(&again, base + 5, '3');
    assert_lk(store_audit_checkpoint_insert(fx->s, &again), LK_ECONFLICT);

    struct audit_checkpoint_list l = {0};
    assert_ok(store_audit_checkpoint_list(fx->s, base, 10, &l));
    assert_true(l.count >= 3);
    const struct audit_checkpoint *want[] = {&b, &a, &c};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(l.items[i].seq, want[i]->seq);
        assert_string_equal(l.items[i].hash, want[i]->hash);
        assert_string_equal(l.items[i].mac, want[i]->mac);
        assert_int_equal(l.items[i].created_at, want[i]->created_at);
    }
    audit_checkpoint_list_done(&l);
    assert_null(l.items);
    /* Paged by seq, oldest first. */
    assert_ok(store_audit_checkpoint_list(fx->s, base, 1, &l));
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].seq, base + 2);
    audit_checkpoint_list_done(&l);
    assert_ok(store_audit_checkpoint_list(fx->s, base + 2, 1, &l));
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].seq, base + 5);
    audit_checkpoint_list_done(&l);
    assert_ok(store_audit_checkpoint_list(fx->s, base + 9, 5, &l));
    for (size_t i = 0; i < l.count; i++)
        assert_true(l.items[i].seq > base + 9 + 990); /* nothing of this test's after its last */
    audit_checkpoint_list_done(&l);
}

static void test_audit_checkpoints_join_the_request_tx_and_check_arguments(void **state) {
    struct fx *fx = *state;
    int64_t base = checkpoint_base(fx);
    struct audit_checkpoint cp;
    make_checkpoint(&cp, base + 1, '4');
    store_request_begin(fx->s);
    assert_ok(store_audit_checkpoint_insert(fx->s, &cp));
    assert_ok(store_request_end(fx->s, 0)); /* rolled back with the request */
    struct audit_checkpoint_list l = {0};
    assert_ok(store_audit_checkpoint_list(fx->s, base, 1, &l));
    assert_true(l.count == 0 || l.items[0].seq > base + 990);
    audit_checkpoint_list_done(&l);

    struct audit_checkpoint bad = cp;
    bad.seq = 0;
    assert_lk(store_audit_checkpoint_insert(fx->s, &bad), LK_EINVAL);
    bad = cp;
    bad.hash[10] = '\0'; /* short */
    assert_lk(store_audit_checkpoint_insert(fx->s, &bad), LK_EINVAL);
    bad = cp;
    bad.mac[3] = 'A'; /* not lower-case hex */
    assert_lk(store_audit_checkpoint_insert(fx->s, &bad), LK_EINVAL);
    bad = cp;
    memset(bad.hash, 'a', sizeof(bad.hash)); /* unterminated */
    assert_lk(store_audit_checkpoint_insert(fx->s, &bad), LK_EINVAL);
    assert_lk(store_audit_checkpoint_insert(fx->s, NULL), LK_EINVAL);
    assert_lk(store_audit_checkpoint_insert(NULL, &cp), LK_EINVAL);
    assert_lk(store_audit_checkpoint_list(fx->s, -1, 1, &l), LK_EINVAL);
    assert_lk(store_audit_checkpoint_list(fx->s, 0, 0, &l), LK_EINVAL);
    assert_lk(store_audit_checkpoint_list(fx->s, 0, 1001, &l), LK_EINVAL);
    assert_lk(store_audit_checkpoint_list(fx->s, 0, 1, NULL), LK_EINVAL);
    audit_checkpoint_list_done(NULL);
}

/* --- the Vault door's token attributes (0019) ---------------------------------- */

/* A Vault row for token t with parent (may be ""). */
static void make_vault(struct vault_token_rec *v, const struct token_rec *t, const char *parent, int64_t uses) {
    memset(v, 0, sizeof(*v));
    snprintf(v->token_id, sizeof(v->token_id), "%s", t->id);
    snprintf(v->parent_id, sizeof(v->parent_id), "%s", parent);
    snprintf(v->display_name, sizeof(v->display_name), "token-app");
    v->acl = 1;
    v->renewable = 1;
    v->creation_ttl = 3600;
    v->num_uses = v->uses_left = uses;
}

static void test_vault_token_round_trip_and_cascade(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "v", owner);
    struct token_rec t, lone;
    make_rec(fx, &t, "user", owner);
    make_rec(fx, &lone, "user", owner);
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &lone));
    struct vault_token_rec v, got;
    make_vault(&v, &t, "lk_user_parentparent", 0);
    static const char *const pol[] = {"default", "p1"};
    assert_ok(vault_token_rec_set_policies(&v, pol, 2));
    v.meta = strdup("{\"user\":\"x\"}");
    v.explicit_max_ttl = 7200;
    v.period = 60;
    assert_ok(store_vault_token_insert(fx->s, &v));
    assert_lk(store_vault_token_insert(fx->s, &v), LK_ECONFLICT);
    memset(&got, 0, sizeof(got));
    assert_ok(store_vault_token_get(fx->s, t.id, &got));
    assert_string_equal(got.parent_id, "lk_user_parentparent");
    assert_string_equal(got.display_name, "token-app");
    assert_string_equal(got.meta, "{\"user\":\"x\"}");
    assert_int_equal(got.npolicies, 2);
    assert_string_equal(got.policies[1], "p1");
    assert_int_equal(got.acl, 1);
    assert_int_equal(got.renewable, 1);
    assert_int_equal(got.creation_ttl, 3600);
    assert_int_equal(got.explicit_max_ttl, 7200);
    assert_int_equal(got.period, 60);
    assert_int_equal(got.last_renewal_at, 0);
    vault_token_rec_done(&got);
    /* A native token has none; a token that is not there takes none. */
    assert_lk(store_vault_token_get(fx->s, lone.id, &got), LK_ENOTFOUND);
    struct vault_token_rec ghost = v;
    snprintf(ghost.token_id, sizeof(ghost.token_id), "lk_user_nosuchtoken0");
    assert_lk(store_vault_token_insert(fx->s, &ghost), LK_ENOTFOUND);
    /* Renewals are recorded; the row goes with its token. */
    assert_ok(store_vault_token_renewed(fx->s, t.id, 1700000500));
    assert_ok(store_vault_token_get(fx->s, t.id, &got));
    assert_int_equal(got.last_renewal_at, 1700000500);
    vault_token_rec_done(&got);
    assert_lk(store_vault_token_renewed(fx->s, lone.id, 1), LK_ENOTFOUND);
    assert_ok(store_token_delete(fx->s, t.id));
    assert_lk(store_vault_token_get(fx->s, t.id, &got), LK_ENOTFOUND);
    /* Argument checks. */
    v.uses_left = 2;
    v.num_uses = 1;
    assert_lk(store_vault_token_insert(fx->s, &v), LK_EINVAL);
    vault_token_rec_done(&v);
}

static void test_vault_token_uses_are_taken_once_each(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "u", owner);
    struct token_rec t, unlimited;
    make_rec(fx, &t, "user", owner);
    make_rec(fx, &unlimited, "user", owner);
    assert_ok(store_token_insert(fx->s, &t));
    assert_ok(store_token_insert(fx->s, &unlimited));
    struct vault_token_rec v;
    make_vault(&v, &t, "", 2);
    assert_ok(store_vault_token_insert(fx->s, &v));
    make_vault(&v, &unlimited, "", 0);
    assert_ok(store_vault_token_insert(fx->s, &v));
    int64_t left = -1;
    assert_ok(store_vault_token_use(fx->s, t.id, &left));
    assert_int_equal(left, 1);
    /* Another connection counts the same uses. */
    struct store *other = NULL;
    assert_ok(store_open(fx->dsn, &other));
    assert_ok(store_vault_token_use(other, t.id, &left));
    assert_int_equal(left, 0);
    assert_lk(store_vault_token_use(other, t.id, &left), LK_ENOTFOUND);
    store_close(other);
    assert_lk(store_vault_token_use(fx->s, t.id, &left), LK_ENOTFOUND);
    assert_lk(store_vault_token_use(fx->s, unlimited.id, &left), LK_ENOTFOUND);
    assert_lk(store_vault_token_use(fx->s, "lk_user_nosuchtoken0", &left), LK_ENOTFOUND);
}

static void test_vault_token_subtree_deepest_first_and_orphans(void **state) {
    struct fx *fx = *state;
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "t", owner);
    /* a -> b -> c, a -> d; e elsewhere. */
    struct token_rec a, b, c, d, e;
    struct token_rec *all[] = {&a, &b, &c, &d, &e};
    for (size_t i = 0; i < 5; i++) {
        make_rec(fx, all[i], "user", owner);
        assert_ok(store_token_insert(fx->s, all[i]));
    }
    struct vault_token_rec v;
    make_vault(&v, &b, a.id, 0);
    assert_ok(store_vault_token_insert(fx->s, &v));
    make_vault(&v, &c, b.id, 0);
    assert_ok(store_vault_token_insert(fx->s, &v));
    make_vault(&v, &d, a.id, 0);
    assert_ok(store_vault_token_insert(fx->s, &v));
    make_vault(&v, &e, "", 0);
    assert_ok(store_vault_token_insert(fx->s, &v));
    struct name_list l = {0};
    assert_ok(store_vault_token_subtree(fx->s, a.id, 1000, &l));
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0], c.id); /* deepest first */
    name_list_done(&l);
    assert_ok(store_vault_token_subtree(fx->s, a.id, 1, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0], c.id);
    name_list_done(&l);
    /* An orphan (parent "") is nobody's child, not even of "". */
    assert_ok(store_vault_token_subtree(fx->s, "", 1000, &l));
    assert_int_equal(l.count, 0);
    name_list_done(&l);
    size_t n = 0;
    assert_ok(store_vault_token_orphan_children(fx->s, a.id, &n));
    assert_int_equal(n, 2);
    assert_ok(store_vault_token_subtree(fx->s, a.id, 1000, &l));
    assert_int_equal(l.count, 0);
    name_list_done(&l);
    assert_ok(store_vault_token_subtree(fx->s, b.id, 1000, &l));
    assert_int_equal(l.count, 1);
    name_list_done(&l);
    assert_lk(store_vault_token_subtree(fx->s, a.id, 0, &l), LK_EINVAL);
}

static void test_notice_forget_keeps_the_current_expiry(void **state) {
    struct fx *fx = *state;
    struct token_rec t;
    insert_expiring_token(fx, "f", NULL, &t);
    struct notice_rec old7, now1;
    make_notice(&old7, t.id, t.org_id, 7, "email", 1000);
    make_notice(&now1, t.id, t.org_id, 1, "email", 1000);
    old7.expires_at = 1700000000;
    now1.expires_at = 1800000000;
    snprintf(old7.status, sizeof(old7.status), "delivered");
    assert_ok(store_notice_insert(fx->s, &old7, NULL));
    assert_ok(store_notice_insert(fx->s, &now1, NULL));
    size_t n = 0;
    assert_ok(store_notice_forget_token(fx->s, t.id, 1800000000, &n));
    assert_int_equal(n, 1);
    assert_string_equal(notice_by_id(fx->s, now1.id).status, "pending");
    /* The 7-day offset can be scheduled again for the new expiry. */
    int inserted = 0;
    old7.expires_at = 1800000000;
    snprintf(old7.status, sizeof(old7.status), "pending");
    assert_ok(store_notice_insert(fx->s, &old7, &inserted));
    assert_int_equal(inserted, 1);
}

/* --- trusted issuers (0022) ----------------------------------------------------- */

static void make_ti(struct fx *fx, struct trusted_issuer_rec *t, const struct org_rec *o, const char *name,
                    const char *issuer) {
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "ti_%s%u", fx->tag, ++fx->next);
    snprintf(t->org_id, sizeof(t->org_id), "%s", o->id);
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->issuer, sizeof(t->issuer), "%s", issuer);
    t->jwks = strdup("{\"keys\":[]}");
    snprintf(t->audience, sizeof(t->audience), "aud-%s", name);
    t->rules = strdup("[{\"claims\":{\"sub\":\"x\"},\"team\":\"t\",\"service_account\":\"a\"}]");
    snprintf(t->created_by, sizeof(t->created_by), "user:u%u", fx->next);
    t->created_at = 1700000040;
    t->updated_at = 1700000041;
}

static void test_trusted_issuers_round_trip(void **state) {
    struct fx *fx = *state;
    struct org_rec o, p;
    struct trusted_issuer_rec a, b, c, got, again;
    struct trusted_issuer_list list = {0};
    make_org(fx, &o, "acme");
    make_org(fx, &p, "globex");
    assert_ok(store_org_insert(fx->s, &o));
    assert_ok(store_org_insert(fx->s, &p));
    make_ti(fx, &a, &o, "gha", "https://token.actions.githubusercontent.com");
    make_ti(fx, &b, &o, "gitlab", "https://gitlab.example");
    make_ti(fx, &c, &p, "gha", "https://token.actions.githubusercontent.com"); /* same name and issuer, other org */
    assert_ok(store_trusted_issuer_insert(fx->s, &a));
    assert_ok(store_trusted_issuer_insert(fx->s, &b));
    assert_ok(store_trusted_issuer_insert(fx->s, &c));

    assert_ok(store_trusted_issuer_get(fx->s, o.id, "gha", &got));
    assert_string_equal(got.id, a.id);
    assert_string_equal(got.issuer, a.issuer);
    assert_string_equal(got.jwks, a.jwks);
    assert_string_equal(got.jwks_uri, "");
    assert_string_equal(got.rules, a.rules);
    assert_string_equal(got.audience, "aud-gha");
    assert_string_equal(got.created_by, a.created_by);
    assert_int_equal(got.created_at, 1700000040);
    assert_int_equal(got.updated_at, 1700000041);
    trusted_issuer_rec_done(&got);
    assert_ok(store_trusted_issuer_by_issuer(fx->s, p.id, "https://token.actions.githubusercontent.com", &got));
    assert_string_equal(got.id, c.id);
    trusted_issuer_rec_done(&got);
    assert_lk(store_trusted_issuer_get(fx->s, o.id, "nope", &got), LK_ENOTFOUND);
    assert_lk(store_trusted_issuer_by_issuer(fx->s, o.id, "https://nope.example", &got), LK_ENOTFOUND);

    /* A name or an issuer taken in the org; an org that does not exist. */
    make_ti(fx, &again, &o, "gha", "https://other.example");
    assert_lk(store_trusted_issuer_insert(fx->s, &again), LK_ECONFLICT);
    trusted_issuer_rec_done(&again);
    make_ti(fx, &again, &o, "other", "https://gitlab.example");
    assert_lk(store_trusted_issuer_insert(fx->s, &again), LK_ECONFLICT);
    snprintf(again.org_id, sizeof(again.org_id), "org_missing");
    snprintf(again.issuer, sizeof(again.issuer), "https://third.example");
    assert_lk(store_trusted_issuer_insert(fx->s, &again), LK_ENOTFOUND);
    /* Exactly one of jwks and jwks_uri. */
    snprintf(again.org_id, sizeof(again.org_id), "%s", o.id);
    snprintf(again.jwks_uri, sizeof(again.jwks_uri), "https://third.example/jwks");
    assert_lk(store_trusted_issuer_insert(fx->s, &again), LK_EINVAL);
    trusted_issuer_rec_done(&again);

    /* Listing pages in seq order, per org. */
    assert_ok(store_trusted_issuer_list(fx->s, o.id, 0, 1, &list));
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].name, "gha");
    int64_t after = list.items[0].seq;
    trusted_issuer_list_done(&list);
    assert_ok(store_trusted_issuer_list(fx->s, o.id, after, 10, &list));
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].name, "gitlab");
    assert_string_equal(list.items[0].jwks, b.jwks);
    trusted_issuer_list_done(&list);

    /* Update: to a fetched set; an issuer another one has is a conflict. */
    free(a.jwks);
    a.jwks = strdup("");
    snprintf(a.jwks_uri, sizeof(a.jwks_uri), "https://token.actions.githubusercontent.com/.well-known/jwks");
    a.updated_at = 1700000099;
    assert_ok(store_trusted_issuer_update(fx->s, &a));
    assert_ok(store_trusted_issuer_get(fx->s, o.id, "gha", &got));
    assert_string_equal(got.jwks, "");
    assert_string_equal(got.jwks_uri, a.jwks_uri);
    assert_int_equal(got.updated_at, 1700000099);
    trusted_issuer_rec_done(&got);
    snprintf(a.issuer, sizeof(a.issuer), "https://gitlab.example");
    assert_lk(store_trusted_issuer_update(fx->s, &a), LK_ECONFLICT);

    /* Delete; deleting the org deletes the rest. */
    assert_ok(store_trusted_issuer_delete(fx->s, a.id));
    assert_lk(store_trusted_issuer_delete(fx->s, a.id), LK_ENOTFOUND);
    assert_ok(store_org_delete(fx->s, o.id));
    assert_lk(store_trusted_issuer_get(fx->s, o.id, "gitlab", &got), LK_ENOTFOUND);
    assert_ok(store_trusted_issuer_get(fx->s, p.id, "gha", &got));
    trusted_issuer_rec_done(&got);
    trusted_issuer_rec_done(&a);
    trusted_issuer_rec_done(&b);
    trusted_issuer_rec_done(&c);
}

/* --- workloads (0020) --------------------------------------------------------- */

static void make_workload(struct fx *fx, struct workload_rec *w, const struct team_rec *t, const char *name) {
    memset(w, 0, sizeof(*w));
    snprintf(w->id, sizeof(w->id), "wl_%s%u", fx->tag, ++fx->next);
    snprintf(w->org_id, sizeof(w->org_id), "%s", t->org_id);
    snprintf(w->team_id, sizeof(w->team_id), "%s", t->id);
    snprintf(w->name, sizeof(w->name), "%s", name);
    snprintf(w->description, sizeof(w->description), "workload %s", name);
    snprintf(w->created_by, sizeof(w->created_by), "user:u%u", fx->next);
    w->created_at = 1700000030;
    w->updated_at = 1700000031;
}

/* One org with teams t and u; a workload and a service account in each. */
struct wl_world {
    struct org_rec o;
    struct team_rec t, u;
    struct workload_rec w, wu;
    struct sa_rec a, b, au;
};

static void wl_world(struct fx *fx, struct wl_world *ww, const char *org) {
    make_org(fx, &ww->o, org);
    assert_ok(store_org_insert(fx->s, &ww->o));
    make_team(fx, &ww->t, &ww->o, "t");
    make_team(fx, &ww->u, &ww->o, "u");
    assert_ok(store_team_insert(fx->s, &ww->t));
    assert_ok(store_team_insert(fx->s, &ww->u));
    make_workload(fx, &ww->w, &ww->t, "web");
    make_workload(fx, &ww->wu, &ww->u, "web"); /* the same name in another team */
    assert_ok(store_workload_insert(fx->s, &ww->w));
    assert_ok(store_workload_insert(fx->s, &ww->wu));
    make_sa(fx, &ww->a, &ww->t, "a");
    make_sa(fx, &ww->b, &ww->t, "b");
    make_sa(fx, &ww->au, &ww->u, "a");
    assert_ok(store_sa_insert(fx->s, &ww->a));
    assert_ok(store_sa_insert(fx->s, &ww->b));
    assert_ok(store_sa_insert(fx->s, &ww->au));
}

static int bound(struct store *s, const char *workload_id, const char *sa_id) {
    int b = -1;
    assert_ok(store_workload_bound(s, workload_id, sa_id, &b));
    return b;
}

/* Insert, get by team and name, conflicts, an unknown team, paging per
 * team, update of description and updated_at only, delete. */
static void test_workloads_round_trip(void **state) {
    struct fx *fx = *state;
    struct wl_world ww;
    struct workload_rec got, dup, extra;
    wl_world(fx, &ww, "wl");
    memset(&got, 0, sizeof(got));
    assert_ok(store_workload_get(fx->s, ww.t.id, "web", &got));
    assert_true(got.seq > 0);
    assert_string_equal(got.id, ww.w.id);
    assert_string_equal(got.org_id, ww.o.id);
    assert_string_equal(got.team_id, ww.t.id);
    assert_string_equal(got.description, "workload web");
    assert_string_equal(got.created_by, ww.w.created_by);
    assert_int_equal(got.created_at, 1700000030);
    assert_int_equal(got.updated_at, 1700000031);
    assert_ok(store_workload_get(fx->s, ww.u.id, "web", &got));
    assert_string_equal(got.id, ww.wu.id);
    assert_lk(store_workload_get(fx->s, ww.t.id, "nope", &got), LK_ENOTFOUND);

    make_workload(fx, &dup, &ww.t, "web");
    assert_lk(store_workload_insert(fx->s, &dup), LK_ECONFLICT);
    struct team_rec ghost;
    make_team(fx, &ghost, &ww.o, "ghost");
    make_workload(fx, &dup, &ghost, "web");
    assert_lk(store_workload_insert(fx->s, &dup), LK_ENOTFOUND);

    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "w%d", i);
        make_workload(fx, &extra, &ww.t, name);
        assert_ok(store_workload_insert(fx->s, &extra));
    }
    struct workload_list l = {0};
    assert_ok(store_workload_list(fx->s, ww.t.id, 0, 2, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "web");
    assert_string_equal(l.items[1].name, "w0");
    int64_t after = l.items[1].seq;
    workload_list_done(&l);
    assert_ok(store_workload_list(fx->s, ww.t.id, after, 10, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "w1");
    assert_string_equal(l.items[1].name, "w2");
    workload_list_done(&l);
    assert_ok(store_workload_list(fx->s, ww.u.id, 0, 10, &l));
    assert_int_equal(l.count, 1);
    workload_list_done(&l);
    assert_lk(store_workload_list(fx->s, ww.t.id, 0, 0, &l), LK_EINVAL);

    got = ww.w;
    snprintf(got.description, sizeof(got.description), "changed");
    snprintf(got.name, sizeof(got.name), "renamed"); /* not an update's to change */
    got.updated_at = 1700000099;
    assert_ok(store_workload_update(fx->s, &got));
    assert_ok(store_workload_get(fx->s, ww.t.id, "web", &got));
    assert_string_equal(got.description, "changed");
    assert_int_equal(got.updated_at, 1700000099);
    assert_int_equal(got.created_at, 1700000030);
    make_workload(fx, &dup, &ww.t, "never-stored");
    assert_lk(store_workload_update(fx->s, &dup), LK_ENOTFOUND);

    assert_ok(store_workload_delete(fx->s, ww.w.id));
    assert_lk(store_workload_get(fx->s, ww.t.id, "web", &got), LK_ENOTFOUND);
    assert_lk(store_workload_delete(fx->s, ww.w.id), LK_ENOTFOUND);
}

/* Bind is idempotent and says whether it made the binding; only a pair of
 * one team binds; unbind says whether there was one; listings per
 * workload and per service account, in binding order, with both names. */
static void test_workload_bindings(void **state) {
    struct fx *fx = *state;
    struct wl_world ww;
    wl_world(fx, &ww, "wlb");
    int made = -1, gone = -1;
    assert_int_equal(bound(fx->s, ww.w.id, ww.a.id), 0);
    assert_ok(store_workload_bind(fx->s, ww.w.id, ww.a.id, "user:u1", 1700000100, &made));
    assert_int_equal(made, 1);
    assert_ok(store_workload_bind(fx->s, ww.w.id, ww.a.id, "user:u2", 1700000200, &made));
    assert_int_equal(made, 0);
    assert_ok(store_workload_bind(fx->s, ww.w.id, ww.b.id, "root", 1700000300, NULL));
    assert_int_equal(bound(fx->s, ww.w.id, ww.a.id), 1);
    assert_int_equal(bound(fx->s, ww.w.id, ww.b.id), 1);

    /* Across teams, or with either missing: not found, nothing stored. */
    assert_lk(store_workload_bind(fx->s, ww.w.id, ww.au.id, "root", 1700000400, &made), LK_ENOTFOUND);
    assert_lk(store_workload_bind(fx->s, ww.wu.id, ww.a.id, "root", 1700000400, &made), LK_ENOTFOUND);
    assert_lk(store_workload_bind(fx->s, "wl_none", ww.a.id, "root", 1700000400, &made), LK_ENOTFOUND);
    assert_lk(store_workload_bind(fx->s, ww.w.id, "sa_none", "root", 1700000400, &made), LK_ENOTFOUND);
    assert_int_equal(bound(fx->s, ww.w.id, ww.au.id), 0);
    assert_int_equal(bound(fx->s, "wl_none", "sa_none"), 0);

    struct workload_binding_list l = {0};
    assert_ok(store_workload_bindings(fx->s, ww.w.id, NULL, 0, 10, &l));
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].sa, "a");
    assert_string_equal(l.items[0].sa_id, ww.a.id);
    assert_string_equal(l.items[0].workload, "web");
    assert_string_equal(l.items[0].workload_id, ww.w.id);
    assert_string_equal(l.items[0].created_by, "user:u1"); /* the second bind changed nothing */
    assert_int_equal(l.items[0].created_at, 1700000100);
    assert_string_equal(l.items[1].sa, "b");
    int64_t first = l.items[0].seq;
    workload_binding_list_done(&l);
    assert_ok(store_workload_bindings(fx->s, ww.w.id, NULL, first, 10, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].sa, "b");
    workload_binding_list_done(&l);
    assert_ok(store_workload_bindings(fx->s, NULL, ww.a.id, 0, 10, &l));
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].workload_id, ww.w.id);
    workload_binding_list_done(&l);
    assert_lk(store_workload_bindings(fx->s, ww.w.id, ww.a.id, 0, 10, &l), LK_EINVAL);
    assert_lk(store_workload_bindings(fx->s, NULL, NULL, 0, 10, &l), LK_EINVAL);

    assert_ok(store_workload_unbind(fx->s, ww.w.id, ww.a.id, &gone));
    assert_int_equal(gone, 1);
    assert_int_equal(bound(fx->s, ww.w.id, ww.a.id), 0);
    assert_ok(store_workload_unbind(fx->s, ww.w.id, ww.a.id, &gone));
    assert_int_equal(gone, 0);
    assert_int_equal(bound(fx->s, ww.w.id, ww.b.id), 1);
    assert_lk(store_workload_bind(fx->s, ww.w.id, ww.a.id, "", 1, NULL), LK_EINVAL);
    assert_lk(store_workload_bound(fx->s, ww.w.id, ww.a.id, NULL), LK_EINVAL);
}

/* Deleting the service account, the workload or the team takes their
 * bindings; an unbinding inside a request transaction is seen by reads
 * in it at once, and by another connection once it commits. */
static void test_workload_bindings_cascade_and_join_the_request_tx(void **state) {
    struct fx *fx = *state;
    struct wl_world ww;
    struct workload_rec w2;
    wl_world(fx, &ww, "wlc");
    make_workload(fx, &w2, &ww.t, "batch");
    assert_ok(store_workload_insert(fx->s, &w2));
    assert_ok(store_workload_bind(fx->s, ww.w.id, ww.a.id, "root", 1, NULL));
    assert_ok(store_workload_bind(fx->s, ww.w.id, ww.b.id, "root", 1, NULL));
    assert_ok(store_workload_bind(fx->s, w2.id, ww.a.id, "root", 1, NULL));
    assert_ok(store_workload_bind(fx->s, ww.wu.id, ww.au.id, "root", 1, NULL));

    assert_ok(store_open(fx->dsn, &fx->s2));
    store_request_begin(fx->s);
    assert_ok(store_workload_unbind(fx->s, ww.w.id, ww.b.id, NULL));
    assert_int_equal(bound(fx->s, ww.w.id, ww.b.id), 0);
    assert_ok(store_request_end(fx->s, 1));
    assert_int_equal(bound(fx->s2, ww.w.id, ww.b.id), 0);

    assert_ok(store_sa_delete(fx->s, ww.a.id));
    struct workload_binding_list l = {0};
    assert_ok(store_workload_bindings(fx->s, ww.w.id, NULL, 0, 10, &l));
    assert_int_equal(l.count, 0);
    workload_binding_list_done(&l);
    assert_ok(store_workload_bindings(fx->s, w2.id, NULL, 0, 10, &l));
    assert_int_equal(l.count, 0);
    workload_binding_list_done(&l);
    assert_ok(store_workload_bind(fx->s, w2.id, ww.b.id, "root", 1, NULL));
    assert_ok(store_workload_delete(fx->s, w2.id));
    assert_ok(store_workload_bindings(fx->s, NULL, ww.b.id, 0, 10, &l));
    assert_int_equal(l.count, 0);
    workload_binding_list_done(&l);

    assert_int_equal(bound(fx->s, ww.wu.id, ww.au.id), 1);
    assert_ok(store_team_delete(fx->s, ww.u.id));
    assert_int_equal(bound(fx->s, ww.wu.id, ww.au.id), 0);
    struct workload_rec got;
    assert_lk(store_workload_get(fx->s, ww.u.id, "web", &got), LK_ENOTFOUND);
    assert_ok(store_workload_get(fx->s, ww.t.id, "web", &got)); /* the other team's stays */
    assert_ok(store_org_delete(fx->s, ww.o.id));
    assert_lk(store_workload_get(fx->s, ww.t.id, "web", &got), LK_ENOTFOUND);
}

/* --- the read cache (store.h, "Read cache") -------------------------------------- */

static uint64_t cache_hits(struct store_cache *c) {
    struct store_cache_stats st;
    store_cache_stats(c, &st);
    return st.hits;
}

/* An org with one team and a secret of two versions, written through s. */
static void cached_world(struct fx *fx, struct store *s, struct org_rec *o, struct team_rec *t) {
    make_org(fx, o, "rc");
    assert_ok(store_org_insert(s, o));
    make_team(fx, t, o, "rc-team");
    assert_ok(store_team_insert(s, t));
    struct secret_rec r;
    make_secret(&r, o, "", "app/db", 1, "sealed-v1");
    assert_ok(store_secret_insert(s, &r));
    make_secret(&r, o, "", "app/db", 2, "sealed-v2");
    assert_ok(store_secret_insert(s, &r));
}

static void assert_newest(struct store *s, const struct org_rec *o, int64_t version, const char *value) {
    struct secret_rec got;
    assert_ok(store_secret_get(s, o->id, "", "app/db", 0, &got));
    assert_int_equal(got.version, version);
    assert_int_equal(got.value_len, strlen(value));
    assert_memory_equal(got.value, value, strlen(value));
    secret_rec_done(&got);
    struct secret_list vl = {0};
    assert_ok(store_secret_versions(s, o->id, "", "app/db", &vl));
    assert_true(vl.count >= 1);
    assert_int_equal(vl.items[0].version, version);
    assert_null(vl.items[0].value);
    secret_list_done(&vl);
}

/* Served from the cache once read, and never stale for a change another
 * connection of the process commits (one that was never given the cache). */
static void test_read_cache_serves_repeats_and_sees_other_connections_writes(void **state) {
    struct fx *fx = *state;
    struct store_cache *c = store_cache_new(1 << 20, 60 * 1000000LL);
    assert_non_null(c);
    struct store *s = NULL;
    assert_ok(store_open(fx->dsn, &s));
    store_use_cache(s, c);
    assert_ok(store_open(fx->dsn, &fx->s2));
    struct org_rec o, got;
    struct team_rec t, tg;
    cached_world(fx, fx->s2, &o, &t);

    assert_ok(store_org_get_by_name(s, o.name, &got));
    uint64_t h0 = cache_hits(c);
    assert_ok(store_org_get_by_name(s, o.name, &got));
    assert_int_equal(cache_hits(c), h0 + 1);
    assert_string_equal(got.status, "active");
    assert_ok(store_team_get(s, o.id, t.name, &tg));
    assert_ok(store_team_get(s, o.id, t.name, &tg));
    assert_string_equal(tg.id, t.id);
    assert_newest(s, &o, 2, "sealed-v2");
    h0 = cache_hits(c);
    assert_newest(s, &o, 2, "sealed-v2");
    assert_int_equal(cache_hits(c), h0 + 2);

    /* Another connection changes the org and writes version 3: seen at once. */
    struct org_rec upd = o;
    snprintf(upd.status, sizeof(upd.status), "deactivated");
    assert_ok(store_org_update(fx->s2, &upd));
    assert_ok(store_org_get_by_name(s, o.name, &got));
    assert_string_equal(got.status, "deactivated");
    struct secret_rec r;
    make_secret(&r, &o, "", "app/db", 3, "sealed-v3");
    assert_ok(store_secret_insert(fx->s2, &r));
    assert_newest(s, &o, 3, "sealed-v3");

    /* A role, and the absence of one, are cached and follow changes too. */
    char role[STORE_STATUS_MAX];
    struct user_rec u;
    make_user(fx, &u, &o, "rc-user");
    assert_ok(store_user_insert(fx->s2, &u));
    assert_lk(store_team_member_role(s, t.id, u.id, role), LK_ENOTFOUND);
    assert_lk(store_team_member_role(s, t.id, u.id, role), LK_ENOTFOUND);
    assert_ok(store_team_member_put(fx->s2, t.id, u.id, "owner", 1700000000));
    assert_ok(store_team_member_role(s, t.id, u.id, role));
    assert_string_equal(role, "owner");
    assert_ok(store_team_member_delete(fx->s2, t.id, u.id));
    assert_lk(store_team_member_role(s, t.id, u.id, role), LK_ENOTFOUND);
    /* Deleting the org takes its team and secrets with it, in the cache too. */
    assert_ok(store_org_delete(fx->s2, o.id));
    assert_lk(store_org_get_by_name(s, o.name, &got), LK_ENOTFOUND);
    assert_lk(store_team_get(s, o.id, t.name, &tg), LK_ENOTFOUND);
    assert_lk(store_secret_get(s, o.id, "", "app/db", 0, &r), LK_ENOTFOUND);
    store_close(s);
    store_cache_free(c);
}

static int pending_write_fn(struct store *s, void *arg) {
    const struct org_rec *o = arg;
    struct org_rec upd = *o, got;
    snprintf(upd.status, sizeof(upd.status), "deactivated");
    assert_ok(store_org_update(s, &upd));
    /* Its own write, not yet committed: read from the backend, never kept. */
    assert_ok(store_org_get_by_name(s, o->name, &got));
    assert_string_equal(got.status, "deactivated");
    return LK_ECONFLICT; /* rolled back */
}

/* A connection with a write of its own pending reads its own write, and a
 * rolled-back write leaves nothing in the cache. */
static void test_read_cache_keeps_no_uncommitted_row(void **state) {
    struct fx *fx = *state;
    struct store_cache *c = store_cache_new(1 << 20, 60 * 1000000LL);
    assert_non_null(c);
    store_use_cache(fx->s, c);
    struct org_rec o, got;
    struct team_rec t;
    cached_world(fx, fx->s, &o, &t);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_lk(store_tx(fx->s, pending_write_fn, &o), LK_ECONFLICT);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_string_equal(got.status, "active");
    /* The same in a request transaction, which then rolls back. */
    store_request_begin(fx->s);
    struct org_rec upd = o;
    snprintf(upd.status, sizeof(upd.status), "deactivated");
    assert_ok(store_org_update(fx->s, &upd));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_string_equal(got.status, "deactivated");
    assert_ok(store_request_end(fx->s, 0));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_string_equal(got.status, "active");
    store_use_cache(fx->s, NULL);
    store_cache_free(c);
}

struct snap_arg {
    struct fx *fx;
    struct store *other; /* reads through the same cache after a third connection's write */
    const struct org_rec *o;
};

static int snapshot_fn(struct store *s, void *arg) {
    struct snap_arg *a = arg;
    struct secret_list vl = {0};
    assert_ok(store_secret_versions(s, a->o->id, "", "app/db", &vl));
    assert_int_equal(vl.items[0].version, 2);
    secret_list_done(&vl);
    /* Version 3 lands, and another connection caches it... */
    struct secret_rec r, got;
    make_secret(&r, a->o, "", "app/db", 3, "sealed-v3");
    assert_ok(store_secret_insert(a->fx->s2, &r));
    assert_newest(a->other, a->o, 3, "sealed-v3");
    /* ...but this transaction's reads stay of its own moment. */
    assert_ok(store_secret_get(s, a->o->id, "", "app/db", 0, &got));
    assert_int_equal(got.version, 2);
    secret_rec_done(&got);
    return 0;
}

/* Inside store_read_tx a cached row newer than the transaction's snapshot
 * is never used. */
static void test_read_cache_respects_a_read_transactions_snapshot(void **state) {
    struct fx *fx = *state;
    struct store_cache *c = store_cache_new(1 << 20, 60 * 1000000LL);
    assert_non_null(c);
    struct store *other = NULL;
    assert_ok(store_open(fx->dsn, &other));
    assert_ok(store_open(fx->dsn, &fx->s2));
    store_use_cache(fx->s, c);
    store_use_cache(other, c);
    struct org_rec o;
    struct team_rec t;
    cached_world(fx, fx->s2, &o, &t);
    struct snap_arg a = {fx, other, &o};
    assert_ok(store_read_tx(fx->s, snapshot_fn, &a));
    assert_newest(fx->s, &o, 3, "sealed-v3");
    store_use_cache(fx->s, NULL);
    store_close(other);
    store_cache_free(c);
}

/* Writes that change nothing a cached read returns (last-use times, audit
 * records) keep the cache warm; any other write makes it cold. */
static void test_read_cache_stays_warm_across_bookkeeping_writes(void **state) {
    struct fx *fx = *state;
    struct store_cache *c = store_cache_new(1 << 20, 60 * 1000000LL);
    assert_non_null(c);
    store_use_cache(fx->s, c);
    assert_ok(store_open(fx->dsn, &fx->s2));
    struct org_rec o, got;
    struct team_rec t;
    cached_world(fx, fx->s2, &o, &t);
    char owner[STORE_OWNER_ID_MAX];
    owner_of(fx, "rc", owner);
    struct token_rec x;
    make_rec(fx, &x, "user", owner);
    assert_ok(store_token_insert(fx->s2, &x));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    uint64_t h0 = cache_hits(c);
    struct token_touch tt[] = {{x.id, 1234}};
    assert_ok(store_token_touch(fx->s2, tt, 1));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_int_equal(cache_hits(c), h0 + 1);
    struct team_rec t2;
    make_team(fx, &t2, &o, "rc-other");
    assert_ok(store_team_insert(fx->s2, &t2));
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_int_equal(cache_hits(c), h0 + 1); /* a miss */
    store_use_cache(fx->s, NULL);
    store_cache_free(c);
}

/* Another process's change is not counted here: it shows once the entry
 * is older than the TTL, never later. */
static void test_read_cache_sees_another_process_within_its_ttl(void **state) {
    struct fx *fx = *state;
    struct store_cache *c = store_cache_new(1 << 20, 300 * 1000LL);
    assert_non_null(c);
    store_use_cache(fx->s, c);
    struct org_rec o, got;
    struct team_rec t;
    cached_world(fx, fx->s, &o, &t);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *s = NULL;
        struct org_rec upd = o;
        snprintf(upd.status, sizeof(upd.status), "deactivated");
        int ok = store_open(fx->dsn, &s) == 0 && store_org_update(s, &upd) == 0;
        store_close(s);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_string_equal(got.status, "active"); /* within the TTL: as cached */
    usleep(350 * 1000);
    assert_ok(store_org_get_by_name(fx->s, o.name, &got));
    assert_string_equal(got.status, "deactivated");
    store_use_cache(fx->s, NULL);
    store_cache_free(c);
}

struct race {
    const char *dsn;
    struct store_cache *cache;
    const struct org_rec *o;
    atomic_llong committed; /* the newest version whose insert has returned */
    atomic_int done;
    atomic_int failures;
};

static void *race_writer(void *arg) {
    struct race *rc = arg;
    struct store *s = NULL;
    if (store_open(rc->dsn, &s) != 0) {
        atomic_fetch_add(&rc->failures, 1);
        atomic_store(&rc->done, 1);
        return NULL;
    }
    char value[32];
    for (int64_t v = 3; v <= 200; v++) {
        struct secret_rec r;
        snprintf(value, sizeof(value), "sealed-v%lld", (long long)v);
        make_secret(&r, rc->o, "", "app/db", v, value);
        if (store_secret_insert(s, &r) != 0)
            atomic_fetch_add(&rc->failures, 1);
        atomic_store(&rc->committed, v);
        usleep(300); /* room for reads in a settled epoch */
    }
    store_close(s);
    atomic_store(&rc->done, 1);
    return NULL;
}

static int race_read_fn(struct store *s, void *arg) {
    struct race *rc = arg;
    struct secret_rec got;
    struct secret_list vl = {0};
    int r = store_secret_get(s, rc->o->id, "", "app/db", 0, &got);
    if (r != 0)
        return r;
    r = store_secret_versions(s, rc->o->id, "", "app/db", &vl);
    /* One transaction, one moment: the row is the newest of the listing. */
    if (r == 0 && (vl.count == 0 || vl.items[0].version != got.version))
        r = LK_EINTERNAL;
    char want[32];
    snprintf(want, sizeof(want), "sealed-v%lld", (long long)got.version);
    if (r == 0 && (got.value_len != strlen(want) || memcmp(got.value, want, got.value_len) != 0))
        r = LK_EINTERNAL;
    secret_list_done(&vl);
    secret_rec_done(&got);
    return r;
}

static void *race_reader(void *arg) {
    struct race *rc = arg;
    struct store *s = NULL;
    if (store_open(rc->dsn, &s) != 0) {
        atomic_fetch_add(&rc->failures, 1);
        return NULL;
    }
    store_use_cache(s, rc->cache);
    while (!atomic_load(&rc->done)) {
        int64_t floor = atomic_load(&rc->committed);
        struct secret_rec got;
        int r = store_secret_get(s, rc->o->id, "", "app/db", 0, &got);
        if (r != 0) {
            print_error("race: read failed: %s\n", lk_errname(r));
            atomic_fetch_add(&rc->failures, 1);
            continue;
        }
        /* Never older than what had committed before the read began. */
        if (got.version < floor) {
            print_error("race: read version %lld after %lld committed\n", (long long)got.version, (long long)floor);
            atomic_fetch_add(&rc->failures, 1);
        }
        secret_rec_done(&got);
        r = store_read_tx(s, race_read_fn, rc);
        if (r != 0) {
            print_error("race: read transaction: %s\n", lk_errname(r));
            atomic_fetch_add(&rc->failures, 1);
        }
    }
    store_close(s);
    return NULL;
}

/* Readers through one cache while a writer adds versions: no read returns
 * a version older than one committed before it began, and one read
 * transaction's row and listing always agree. */
static void test_read_cache_under_concurrent_writes(void **state) {
    struct fx *fx = *state;
    struct org_rec o;
    struct team_rec t;
    cached_world(fx, fx->s, &o, &t);
    struct race rc = {.dsn = fx->dsn, .o = &o};
    rc.cache = store_cache_new(1 << 20, 60 * 1000000LL);
    assert_non_null(rc.cache);
    atomic_init(&rc.committed, 2);
    atomic_init(&rc.done, 0);
    atomic_init(&rc.failures, 0);
    pthread_t w, r1, r2;
    assert_int_equal(pthread_create(&r1, NULL, race_reader, &rc), 0);
    assert_int_equal(pthread_create(&r2, NULL, race_reader, &rc), 0);
    assert_int_equal(pthread_create(&w, NULL, race_writer, &rc), 0);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    assert_int_equal(atomic_load(&rc.failures), 0);
    struct store_cache_stats st;
    store_cache_stats(rc.cache, &st);
    assert_true(st.hits > 0);
    store_cache_free(rc.cache);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rejects_bad_dsn),
        cmocka_unit_test(test_done_functions_are_null_safe),
        cmocka_unit_test_setup_teardown(test_migrate_twice_is_idempotent, setup_unmigrated, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_migrate, setup_unmigrated, teardown),
        cmocka_unit_test_setup_teardown(test_insert_get_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_duplicate_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_unknown_is_notfound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_order_pagination_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_owner_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_rolls_back_on_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_nesting_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_tx_begins_at_the_first_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_tx_nests_store_tx_as_savepoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_tx_covers_cascading_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_round_trip_and_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_insert_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_scan_budget_bounds_a_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_org_listing_skips_other_orgs_stretches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_org_id_selects_only_records_filed_under_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_records_before_org_ids_are_filed_by_their_actor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_filters_order_and_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rolls_back_with_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_checkpoints_round_trip_order_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_checkpoints_join_the_request_tx_and_check_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_team_scopes_for_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_scope_of_a_reused_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_inside_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_tx_one_snapshot_no_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_tx_inside_a_transaction_joins_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oidc_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_connections_see_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_beside_commits_keep_the_log_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_round_trip_and_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_update_changes_only_stated_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_list_order_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_round_trip_and_uniqueness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_update_changes_only_stated_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list_per_org_and_paged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_delete_takes_only_their_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_delete_takes_users_and_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_and_user_roll_back_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletes_join_the_callers_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_argument_checks, setup, teardown),
        cmocka_unit_test(test_identity_done_functions_are_null_safe),
        cmocka_unit_test_setup_teardown(test_teams_and_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_accounts_and_team_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sa_delete_takes_its_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_roles_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_permissions_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_member_names_in_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_candidates_only_active_orgs_in_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_schedule_once_claim_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_rows_per_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_supersede_and_token_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_list_filters_pages_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_cancel_selects_exactly_its_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_cancel_expired_reads_the_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_retirement_goes_with_its_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_cancel_joins_the_request_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_versions_scopes_and_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_paths_and_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_scan_and_rewrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_argument_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_policies_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_policy_argument_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_token_round_trip_and_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_token_uses_are_taken_once_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_token_subtree_deepest_first_and_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_forget_keeps_the_current_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workloads_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_issuers_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workload_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workload_bindings_cascade_and_join_the_request_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_serves_repeats_and_sees_other_connections_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_keeps_no_uncommitted_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_respects_a_read_transactions_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_stays_warm_across_bookkeeping_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_sees_another_process_within_its_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cache_under_concurrent_writes, setup, teardown),
    };
    int failed = 0, groups = 0;
    char name[64];

    const char *p = getenv("LATCHKEY_TEST_DSNS");
    while (p != NULL && *p != '\0') {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len == 0)
            break;
        char *dsn = malloc(len + 1);
        if (dsn == NULL)
            return 1;
        memcpy(dsn, p, len);
        dsn[len] = '\0';
        p += len;
        g_dsn = dsn;
        groups++;
        /* Name the group by its scheme only: the rest may hold credentials. */
        int scheme = (int)strcspn(dsn, ":");
        snprintf(name, sizeof(name), "store_conformance[%d: %.*s]", groups, scheme > 16 ? 16 : scheme, dsn);
        failed += cmocka_run_group_tests_name(name, tests, NULL, NULL);
        free(dsn);
        g_dsn = NULL;
    }
    if (groups == 0)
        failed += cmocka_run_group_tests_name("store_conformance[sqlite temp file]", tests, NULL, NULL);
    /* Once more with every setup connection reading through a read cache:
     * it must change no answer. */
    g_cache = store_cache_new(64 << 20, 3600 * 1000000LL);
    if (g_cache == NULL)
        return 1;
    failed += cmocka_run_group_tests_name("store_conformance[sqlite temp file, read cache]", tests, NULL, NULL);
    store_cache_free(g_cache);
    return failed == 0 ? 0 : 1;
}
