/*
 * test_audit_log.c - the group-commit audit writer (svc/audit.h) against a
 * real SQLite file: concurrent producers end up as one intact chain, waiters
 * hear about their tickets, records already stored with a change are not
 * written twice, a store that refuses records is reported, and the
 * credential HMAC key persists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/secret.h"
#include "store/store.h"
#include "svc/audit.h"
#include "svc/seal.h"

struct fx {
    char dir[PATH_MAX];
    char db[PATH_MAX + 16];
    char dsn[PATH_MAX + 32];
    char file[PATH_MAX + 16];
};

static int setup(void **state) {
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/lk-audit-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->db, sizeof(fx->db), "%s/t.db", fx->dir);
    snprintf(fx->dsn, sizeof(fx->dsn), "sqlite:%s", fx->db);
    snprintf(fx->file, sizeof(fx->file), "%s/audit.jsonl", fx->dir);
    struct store *s = NULL;
    if (store_open(fx->dsn, &s) != 0 || store_migrate(s, NULL) != 0)
        return -1;
    store_close(s);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    struct fx *fx = *state;
    static const char *const names[] = {"t.db", "t.db-wal", "t.db-shm", "audit.jsonl"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void rec_for(struct audit_rec *r, const char *action, int n) {
    memset(r, 0, sizeof(*r));
    r->time_ms = 1000 + n;
    snprintf(r->request_id, sizeof(r->request_id), "r-%d", n);
    snprintf(r->actor_type, sizeof(r->actor_type), "user");
    snprintf(r->action, sizeof(r->action), "%s", action);
    snprintf(r->method, sizeof(r->method), "GET");
    snprintf(r->resource, sizeof(r->resource), "/v1/x/%d", n);
    snprintf(r->outcome, sizeof(r->outcome), "success");
    r->status = 200;
}

static int64_t verify(struct fx *fx) {
    struct store *s = NULL;
    int64_t count = -1, bad = 0;
    char why[256] = "";
    assert_int_equal(store_open(fx->dsn, &s), 0);
    int r = audit_verify(s, &count, &bad, why, sizeof(why));
    if (r != 0)
        fail_msg("verify: %d at %lld: %s", r, (long long)bad, why);
    store_close(s);
    return count;
}

struct producer {
    struct audit_log *log;
    int base;
    int n;
};

static void *produce(void *arg) {
    struct producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        struct audit_rec r;
        uint64_t t;
        rec_for(&r, "x.read", p->base + i);
        while (audit_log_enqueue(p->log, -1, &r, 0, &t) == LK_EUNAVAIL)
            usleep(100);
    }
    return NULL;
}

static void test_concurrent_producers_make_one_intact_chain(void **state) {
    struct fx *fx = *state;
    struct audit_log *log = NULL;
    assert_int_equal(audit_log_new(fx->dsn, NULL, &log), 0);
    assert_int_equal(audit_log_start(log), 0);
    pthread_t th[4];
    struct producer p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct producer){log, i * 10000, 2500};
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    audit_log_free(log); /* writes what is still queued */
    assert_int_equal(verify(fx), 10000);
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t through;
    int records_ok, markers_ok, calls;
};

static void on_notify(void *arg, uint64_t through, int records_ok, int markers_ok) {
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->through = through;
    w->records_ok = records_ok;
    w->markers_ok = markers_ok;
    w->calls++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void wait_through(struct waiter *w, uint64_t ticket) {
    pthread_mutex_lock(&w->lock);
    while (w->through < ticket)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static int append_one(struct store *s, void *arg) {
    struct audit_rec *r = arg;
    return audit_chain_append(s, &r, 1);
}

static void test_waiters_stored_records_and_file_sink(void **state) {
    struct fx *fx = *state;
    struct audit_log *log = NULL;
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};
    assert_int_equal(audit_log_new(fx->dsn, fx->file, &log), 0);
    int sub = audit_log_subscribe(log, on_notify, &w);
    assert_true(sub >= 0);
    assert_int_equal(audit_log_start(log), 0);
    assert_int_equal(audit_log_subscribe(log, on_notify, &w), -1); /* too late */

    /* A read that waits for its record. */
    struct audit_rec r;
    uint64_t t1, t2;
    rec_for(&r, "x.read", 1);
    assert_int_equal(audit_log_enqueue(log, sub, &r, AUDIT_SYNC, &t1), 0);
    wait_through(&w, t1);
    assert_int_equal(w.records_ok, 1);

    /* A mutation's record, appended with its change: durability and file only. */
    struct store *s = NULL;
    assert_int_equal(store_open(fx->dsn, &s), 0);
    rec_for(&r, "x.create", 2);
    assert_int_equal(store_tx(s, append_one, &r), 0);
    assert_int_equal(audit_log_enqueue(log, sub, &r, AUDIT_SYNC | AUDIT_STORED, &t2), 0);
    assert_true(t2 > t1);
    wait_through(&w, t2);
    assert_int_equal(w.markers_ok, 1);
    /* Async records need no waiter and notify nobody. */
    int calls = w.calls;
    uint64_t t3;
    rec_for(&r, "x.read", 3);
    assert_int_equal(audit_log_enqueue(log, sub, &r, 0, &t3), 0);
    audit_log_free(log);
    assert_int_equal(w.calls, calls);
    store_close(s);

    assert_int_equal(verify(fx), 3); /* the stored record was not appended twice */
    FILE *f = fopen(fx->file, "r");
    assert_non_null(f);
    char line[8192];
    int lines = 0, creates = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lines++;
        creates += strstr(line, "\"x.create\"") != NULL;
    }
    fclose(f);
    assert_int_equal(lines, 3);
    assert_int_equal(creates, 1);
}

static void test_refused_records_are_reported(void **state) {
    struct fx *fx = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER blk BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct audit_log *log = NULL;
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};
    assert_int_equal(audit_log_new(fx->dsn, NULL, &log), 0);
    int sub = audit_log_subscribe(log, on_notify, &w);
    assert_int_equal(audit_log_start(log), 0);
    struct audit_rec r;
    uint64_t t;
    rec_for(&r, "x.read", 1);
    assert_int_equal(audit_log_enqueue(log, sub, &r, AUDIT_SYNC, &t), 0);
    wait_through(&w, t);
    assert_int_equal(w.records_ok, 0);
    assert_int_equal(w.markers_ok, 1); /* the sync itself worked */
    uint64_t written, failed;
    audit_log_stats(log, &written, &failed);
    assert_int_equal(written, 0);
    assert_int_equal(failed, 1);
    assert_int_equal(audit_log_health(log), AUDIT_HEALTH_FAILING);
    /* Writable again: the next record goes in, and health follows. */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER blk", NULL, NULL, NULL), SQLITE_OK);
    rec_for(&r, "x.read", 2);
    assert_int_equal(audit_log_enqueue(log, sub, &r, AUDIT_SYNC, &t), 0);
    wait_through(&w, t);
    assert_int_equal(w.records_ok, 1);
    assert_int_equal(audit_log_health(log), AUDIT_HEALTH_OK);
    /* Appends made elsewhere (a mutation's record) count too. */
    audit_log_note_append(log, 0);
    assert_int_equal(audit_log_health(log), AUDIT_HEALTH_FAILING);
    audit_log_note_append(log, 1);
    assert_int_equal(audit_log_health(log), AUDIT_HEALTH_OK);
    audit_log_free(log);
    sqlite3_close(db);
    assert_int_equal(verify(fx), 1);
}

/* A seal over fx's store, initialised with one share, unsealed. */
static struct seal *unsealed_seal(struct store *s, char share[SEAL_SHARE_TEXT_MAX]) {
    struct seal *seal = NULL;
    struct lk_error err = {0};
    uint8_t shares[1][SEAL_SHARE_LEN];
    char b64[SEAL_SHARE_TEXT_MAX];
    assert_int_equal(seal_new(s, &seal), 0);
    if (share[0] == '\0') {
        assert_int_equal(seal_init(seal, s, 1, 1, 1700000000, shares, &err), 0);
        seal_share_format(shares[0], share, b64);
    }
    assert_int_equal(seal_unseal(seal, s, share, NULL, &err), 0);
    assert_false(seal_is_sealed(seal));
    return seal;
}

/* The credential HMAC is keyed with the seal's credential key: stable
 * across a restart, different for another input, not the plain hash, and
 * not made at all without the key (no seal, or sealed). */
static void test_credential_hmac_is_keyed_and_stable(void **state) {
    struct fx *fx = *state;
    struct audit_log *a = NULL, *b = NULL;
    struct store *s = NULL;
    char share[SEAL_SHARE_TEXT_MAX] = "";
    char h1[AUDIT_HASH_HEX], h2[AUDIT_HASH_HEX], h3[AUDIT_HASH_HEX];
    assert_int_equal(store_open(fx->dsn, &s), 0);
    assert_int_equal(audit_log_new(fx->dsn, NULL, &a), 0);
    audit_log_credential_hmac(a, "lk_user_secret", 14, h1);
    assert_string_equal(h1, ""); /* no seal: no key */
    struct seal *seal = unsealed_seal(s, share);
    audit_log_set_seal(a, seal);
    audit_log_credential_hmac(a, "lk_user_secret", 14, h1);
    audit_log_credential_hmac(a, "lk_user_secreu", 14, h3);
    seal_seal(seal, s);
    audit_log_credential_hmac(a, "lk_user_secret", 14, h2);
    assert_string_equal(h2, ""); /* sealed: no key */
    audit_log_free(a);
    seal_free(seal);
    /* A restart: the same key, opened from the store at the unseal. */
    seal = unsealed_seal(s, share);
    assert_int_equal(audit_log_new(fx->dsn, NULL, &b), 0);
    audit_log_set_seal(b, seal);
    audit_log_credential_hmac(b, "lk_user_secret", 14, h2);
    audit_log_free(b);
    seal_free(seal);
    store_close(s);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_int_equal(strlen(h1), 64);
    /* Not the plain SHA-256 of the input. */
    uint8_t plain[SECRET_HASH_LEN];
    char plain_hex[AUDIT_HASH_HEX];
    secret_hash("lk_user_secret", 14, plain);
    secret_hex(plain, sizeof(plain), plain_hex);
    assert_string_not_equal(h1, plain_hex);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_producers_make_one_intact_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiters_stored_records_and_file_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_records_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credential_hmac_is_keyed_and_stable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
