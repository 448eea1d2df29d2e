/*
 * test_notice_rules.c - the expiry-notice rules that follow a token's life
 * (svc/notices.h), against a real SQLite store: every use case that deletes
 * tokens cancels their pending notices ("token deleted") - one token,
 * rotation without grace, a login session, a user's sessions, a user, a
 * service account, a team, an org, the clean-up, root's re-issue - and
 * rotation with grace retires the old token from notices and cancels its
 * pending ones ("token rotated or its expiry shortened"). Each at the
 * use case's clock, svc->now (here a fixed time, far from the wall
 * clock's), which the operator's test clock drives; the triggers these
 * rules replaced (migration 0006, dropped by 0014) read SQLite's wall clock.
 *
 * Tokens and notices are written straight to the store, as the token and
 * notifier use cases would write them; the deletions go through svc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/notices.h"
#include "svc/orgs.h"
#include "svc/service_accounts.h"
#include "svc/sessions.h"
#include "svc/teams.h"
#include "svc/tokens.h"
#include "svc/users.h"

#include "svc_fixture.h"
#include "unit_assert.h"

#define DAY INT64_C(86400)
/* The use cases' time in this suite: not FX_NOW, not the wall clock. */
#define NOW (FX_NOW + 12345)
/* When the notices were scheduled. */
#define SCHEDULED (FX_NOW - DAY)

/* acme with alice (admin) and bob (member), team ops with service account
 * bot; and globex with gina. */
struct world {
    struct svc_fixture *fx;
    struct org_rec acme, globex;
    struct user_rec alice, bob, gina;
    struct sa_rec bot;
    unsigned next;
};

static int setup(void **state) {
    void *fx = NULL;
    if (svc_fixture_setup(&fx) != 0)
        return -1;
    struct world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return -1;
    w->fx = fx;
    *state = w;
    fx_org(w->fx, "acme", &w->acme);
    fx_org(w->fx, "globex", &w->globex);
    fx_user(w->fx, "acme", "alice", "admin", &w->alice);
    fx_user(w->fx, "acme", "bob", "member", &w->bob);
    fx_user(w->fx, "globex", "gina", "member", &w->gina);
    fx_team(w->fx, "acme", "ops");
    struct lk_error err = {0};
    if (sa_create(&w->fx->svc, &w->fx->root, "acme", "ops", "bot", "", NULL, 0, &w->bot, &err) != 0)
        fail_msg("sa_create: %s", err.msg);
    w->fx->svc.now = NOW;
    return 0;
}

static int teardown(void **state) {
    struct world *w = *state;
    user_rec_done(&w->alice);
    user_rec_done(&w->bob);
    user_rec_done(&w->gina);
    void *fx = w->fx;
    svc_fixture_teardown(&fx);
    free(w);
    return 0;
}

/* Stores a token of (owner_type, owner_id) in org_id with a public id of
 * the given kind ("user", "sess", "sa", "root"), expiring at expires_at. */
static void token(struct world *w, const char *kind, const char *owner_type, const char *owner_id, const char *org_id,
                  int64_t expires_at, struct token_rec *ret) {
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->id, sizeof(ret->id), "lk_%s_%012u", kind, ++w->next);
    memset(ret->hash, (int)w->next, sizeof(ret->hash));
    str_copy(ret->owner_type, sizeof(ret->owner_type), owner_type);
    str_copy(ret->owner_id, sizeof(ret->owner_id), owner_id);
    str_copy(ret->org_id, sizeof(ret->org_id), org_id);
    str_copy(ret->created_by, sizeof(ret->created_by), "test");
    ret->description = (char *)"";
    static char everything[][STORE_POLICY_NAME_MAX] = {"*"};
    ret->policies = everything;
    ret->npolicies = 1;
    ret->created_at = SCHEDULED - 30 * DAY;
    ret->expires_at = expires_at;
    assert_i64_eq(store_token_insert(w->fx->svc.store, ret), 0);
}

/* A pending 7-day e-mail notice of t, as the notifier schedules it. */
static void notice(struct world *w, const struct token_rec *t, struct notice_rec *ret) {
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->id, sizeof(ret->id), "ntc_%u", ++w->next);
    str_copy(ret->token_id, sizeof(ret->token_id), t->id);
    str_copy(ret->org_id, sizeof(ret->org_id), t->org_id);
    str_copy(ret->owner_type, sizeof(ret->owner_type), t->owner_type);
    str_copy(ret->owner_id, sizeof(ret->owner_id), t->owner_id);
    str_copy(ret->channel, sizeof(ret->channel), "email");
    ret->days_before = 7;
    ret->expires_at = t->expires_at;
    str_copy(ret->recipient, sizeof(ret->recipient), "x@example.com");
    str_copy(ret->status, sizeof(ret->status), "pending");
    ret->next_attempt_at = SCHEDULED + 3600;
    ret->created_at = ret->updated_at = SCHEDULED;
    assert_i64_eq(store_notice_insert(w->fx->svc.store, ret, NULL), 0);
}

/* A token of kind and owner with a pending notice. */
static void token_with_notice(struct world *w, const char *kind, const char *owner_type, const char *owner_id,
                              const char *org_id, struct token_rec *t, struct notice_rec *n) {
    token(w, kind, owner_type, owner_id, org_id, NOW + 5 * DAY, t);
    notice(w, t, n);
}

/* The notice n now has status and last_error, and was last changed at. */
static void assert_notice(struct world *w, const struct notice_rec *n, const char *status, const char *last_error,
                          int64_t at) {
    struct notice_list l = {0};
    assert_i64_eq(store_notice_list(w->fx->svc.store, NULL, NULL, 0, 1000, &l), 0);
    const struct notice_rec *got = NULL;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i].id, n->id) == 0)
            got = &l.items[i];
    if (got == NULL)
        fail_msg("notice %s of token %s is not listed", n->id, n->token_id);
    if (strcmp(got->status, status) != 0 || strcmp(got->last_error, last_error) != 0 || got->updated_at != at)
        fail_msg("notice of token %s: status \"%s\", last_error \"%s\", updated_at %lld;\n"
                 "expected \"%s\", \"%s\", %lld",
                 n->token_id, got->status, got->last_error, (long long)got->updated_at, status, last_error,
                 (long long)at);
    notice_list_done(&l);
}

#define assert_cancelled(w, n) assert_notice((w), (n), "cancelled", NOTICES_WHY_DELETED, NOW)
#define assert_pending(w, n) assert_notice((w), (n), "pending", "", SCHEDULED)

/* 1 if token_id is among the tokens that may need a notice now. */
static int candidate(struct world *w, const char *token_id) {
    struct notice_candidate_list l = {0};
    assert_i64_eq(store_notice_candidates(w->fx->svc.store, NOW, NOW + 30 * DAY, 0, 1000, &l), 0);
    int found = 0;
    for (size_t i = 0; i < l.count; i++)
        found |= strcmp(l.items[i].token_id, token_id) == 0;
    notice_candidate_list_done(&l);
    return found;
}

/* bob calling with an unnarrowed API token that never expires. */
static void as_bob(struct world *w, struct principal *p) {
    fx_user_principal(w->fx, &w->acme, &w->bob, "lk_user_0000000000b0", "[\"*\"]", 0, p);
}

static void test_deleting_a_token_cancels_its_pending_notices(void **state) {
    struct world *w = *state;
    struct token_rec t, other;
    struct notice_rec n, n_other, done;
    token_with_notice(w, "user", "user", w->bob.id, w->acme.id, &t, &n);
    token_with_notice(w, "user", "user", w->bob.id, w->acme.id, &other, &n_other);
    done = n; /* the 1-day notice, delivered already: never cancelled */
    done.days_before = 1;
    str_copy(done.id, sizeof(done.id), "ntc_done");
    str_copy(done.status, sizeof(done.status), "delivered");
    assert_i64_eq(store_notice_insert(w->fx->svc.store, &done, NULL), 0);
    struct principal bob;
    as_bob(w, &bob);
    struct lk_error err = {0};
    assert_i64_eq(tokens_delete(&w->fx->svc, &bob, t.id, &err), 0);
    assert_cancelled(w, &n);
    assert_notice(w, &done, "delivered", "", SCHEDULED);
    assert_pending(w, &n_other);
    principal_done(&bob);
}

static void test_rotation_without_grace_cancels_and_with_grace_retires(void **state) {
    struct world *w = *state;
    struct token_rec now_gone, kept;
    struct notice_rec n_gone, n_kept;
    token_with_notice(w, "user", "user", w->bob.id, w->acme.id, &now_gone, &n_gone);
    token_with_notice(w, "user", "user", w->bob.id, w->acme.id, &kept, &n_kept);
    assert_true(candidate(w, kept.id));
    struct principal bob;
    as_bob(w, &bob);
    struct lk_error err = {0};
    struct token_created fresh;

    memset(&fresh, 0, sizeof(fresh));
    assert_i64_eq(tokens_rotate(&w->fx->svc, &bob, now_gone.id, 0, &fresh, &err), 0);
    assert_cancelled(w, &n_gone);
    tokens_created_done(&fresh);

    /* The old token works for the grace period but gets no more notices;
     * its replacement, with the same expiry, does. */
    memset(&fresh, 0, sizeof(fresh));
    assert_i64_eq(tokens_rotate(&w->fx->svc, &bob, kept.id, 3600, &fresh, &err), 0);
    assert_notice(w, &n_kept, "cancelled", NOTICES_WHY_SHORTENED, NOW);
    assert_false(candidate(w, kept.id));
    assert_true(candidate(w, fresh.rec.id));
    tokens_created_done(&fresh);
    principal_done(&bob);
}

static void test_ending_sessions_cancels_their_notices(void **state) {
    struct world *w = *state;
    /* Sessions get no notices from the notifier; the rule holds for them all the same. */
    struct token_rec sess, other_sess, key;
    struct notice_rec n_sess, n_other_sess, n_key;
    token_with_notice(w, "sess", "user", w->bob.id, w->acme.id, &sess, &n_sess);
    token_with_notice(w, "sess", "user", w->alice.id, w->acme.id, &other_sess, &n_other_sess);
    token_with_notice(w, "user", "user", w->alice.id, w->acme.id, &key, &n_key);
    struct principal p;
    fx_user_principal(w->fx, &w->acme, &w->bob, sess.id, "[\"*\"]", sess.expires_at, &p);
    struct lk_error err = {0};
    assert_i64_eq(sessions_logout(&w->fx->svc, &p, &err), 0);
    assert_cancelled(w, &n_sess);
    principal_done(&p);

    /* A demotion from admin ends alice's sessions, not her API keys. */
    struct user_update_in in = {.role = "member", .programmatic_only = -1};
    struct user_rec got;
    memset(&got, 0, sizeof(got));
    assert_i64_eq(users_update(&w->fx->svc, &w->fx->root, "acme", "alice", &in, &got, &err), 0);
    user_rec_done(&got);
    assert_cancelled(w, &n_other_sess);
    assert_pending(w, &n_key);
}

static void test_deleting_an_owner_cancels_its_tokens_notices(void **state) {
    struct world *w = *state;
    struct token_rec bobs, alices, bots, ginas, roots;
    struct notice_rec n_bob, n_alice, n_bot, n_gina, n_root;
    token_with_notice(w, "user", "user", w->bob.id, w->acme.id, &bobs, &n_bob);
    token_with_notice(w, "user", "user", w->alice.id, w->acme.id, &alices, &n_alice);
    token_with_notice(w, "sa", "service_account", w->bot.id, w->acme.id, &bots, &n_bot);
    token_with_notice(w, "user", "user", w->gina.id, w->globex.id, &ginas, &n_gina);
    token_with_notice(w, "root", "root", "root", "", &roots, &n_root);
    struct lk_error err = {0};

    assert_i64_eq(users_delete(&w->fx->svc, &w->fx->root, "acme", "bob", &err), 0);
    assert_cancelled(w, &n_bob);
    assert_pending(w, &n_alice);
    assert_pending(w, &n_bot);

    assert_i64_eq(sa_delete(&w->fx->svc, &w->fx->root, "acme", "ops", "bot", &err), 0);
    assert_cancelled(w, &n_bot);
    assert_pending(w, &n_alice);

    /* A team takes its service accounts' tokens with it. */
    struct sa_rec bot2;
    assert_i64_eq(sa_create(&w->fx->svc, &w->fx->root, "acme", "ops", "bot2", "", NULL, 0, &bot2, &err), 0);
    struct token_rec bot2s;
    struct notice_rec n_bot2;
    token_with_notice(w, "sa", "service_account", bot2.id, w->acme.id, &bot2s, &n_bot2);
    assert_i64_eq(teams_delete(&w->fx->svc, &w->fx->root, "acme", "ops", &err), 0);
    assert_cancelled(w, &n_bot2);
    assert_pending(w, &n_alice);

    /* An org takes every token of the org with it; root's and other orgs' stay. */
    struct org_rec gone;
    assert_i64_eq(orgs_delete(&w->fx->svc, &w->fx->root, "acme", &gone, &err), 0);
    assert_cancelled(w, &n_alice);
    assert_pending(w, &n_gina);
    assert_pending(w, &n_root);
}

static void test_cleanup_and_root_reissue_cancel_notices(void **state) {
    struct world *w = *state;
    struct token_rec old_tok, young_tok, root_tok;
    struct notice_rec n_old, n_young, n_root;
    /* Expired 100 days ago and 10 days ago; the clean-up takes those over 90. */
    token(w, "user", "user", w->bob.id, w->acme.id, NOW - 100 * DAY, &old_tok);
    notice(w, &old_tok, &n_old);
    token(w, "user", "user", w->bob.id, w->acme.id, NOW - 10 * DAY, &young_tok);
    notice(w, &young_tok, &n_young);
    size_t deleted = 0;
    assert_i64_eq(tokens_delete_expired(&w->fx->svc, NOW - 90 * DAY, &deleted), 0);
    assert_i64_eq((int64_t)deleted, 1);
    assert_cancelled(w, &n_old);
    assert_pending(w, &n_young);

    /* A new root token revokes the old ones, and their notices with them. */
    token_with_notice(w, "root", "root", "root", "", &root_tok, &n_root);
    char secret[TOKFMT_TOKEN_BUFSZ], id[TOKFMT_PUBID_BUFSZ];
    size_t revoked = 0;
    struct lk_error err = {0};
    assert_i64_eq(tokens_issue_root(&w->fx->svc, secret, id, &revoked, &err), 0);
    explicit_bzero(secret, sizeof(secret));
    assert_i64_eq((int64_t)revoked, 1);
    assert_cancelled(w, &n_root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deleting_a_token_cancels_its_pending_notices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_without_grace_cancels_and_with_grace_retires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ending_sessions_cancels_their_notices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleting_an_owner_cancels_its_tokens_notices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_and_root_reissue_cancel_notices, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
