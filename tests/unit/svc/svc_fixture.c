/*
 * svc_fixture.c - the shared set-up of the svc rule suites (see
 * svc_fixture.h): a real store in a temporary directory, and principals
 * built by hand. Never mocks the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/orgs.h"
#include "svc/teams.h"
#include "svc/token_cache.h"
#include "svc/users.h"

#include "svc_fixture.h"

int svc_fixture_setup(void **state) {
    struct svc_fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/lk-svc-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        goto fail;
    snprintf(fx->dsn, sizeof(fx->dsn), "sqlite:%s/t.db", fx->dir);
    if (store_open(fx->dsn, &fx->svc.store) != 0 || store_migrate(fx->svc.store, NULL) != 0)
        goto fail;
    fx->svc.cache = token_cache_new(1000, INT64_C(10000000));
    if (fx->svc.cache == NULL)
        goto fail;
    fx->svc.now = FX_NOW;
    fx->svc.now_us = INT64_C(1000000);
    fx->root.type = PRINCIPAL_ROOT;
    str_copy(fx->root.id, sizeof(fx->root.id), "root");
    str_copy(fx->root.name, sizeof(fx->root.name), "root");
    *state = fx;
    return 0;
fail:
    *state = fx;
    svc_fixture_teardown(state);
    return -1;
}

int svc_fixture_teardown(void **state) {
    struct svc_fixture *fx = *state;
    if (fx == NULL)
        return 0;
    if (fx->svc.store != NULL)
        store_close(fx->svc.store);
    token_cache_free(fx->svc.cache);
    if (fx->dir[0] != '\0') {
        DIR *d = opendir(fx->dir);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char path[PATH_MAX + 300];
            snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
            unlink(path);
        }
        if (d != NULL)
            closedir(d);
        rmdir(fx->dir);
    }
    free(fx);
    *state = NULL;
    return 0;
}

void fx_org(struct svc_fixture *fx, const char *name, struct org_rec *ret) {
    struct lk_error err = {0};
    int r = orgs_create(&fx->svc, &fx->root, name, name, ret, &err);
    if (r != 0)
        fail_msg("orgs_create(%s): %d %s", name, r, err.msg);
}

void fx_user(struct svc_fixture *fx, const char *org, const char *username, const char *role, struct user_rec *ret) {
    struct lk_error err = {0};
    char email[STORE_NAME_MAX + 16];
    snprintf(email, sizeof(email), "%s@example.com", username);
    struct user_create_in in = {.username = username, .email = email, .role = role};
    memset(ret, 0, sizeof(*ret));
    int r = users_create(&fx->svc, &fx->root, org, &in, ret, &err);
    if (r != 0)
        fail_msg("users_create(%s, %s): %d %s", org, username, r, err.msg);
}

void fx_team(struct svc_fixture *fx, const char *org, const char *team) {
    struct lk_error err = {0};
    struct team_rec t;
    int r = teams_create(&fx->svc, &fx->root, org, team, "", &t, &err);
    if (r != 0)
        fail_msg("teams_create(%s, %s): %d %s", org, team, r, err.msg);
}

void fx_member(struct svc_fixture *fx, const char *org, const char *team, const char *username, const char *role) {
    struct lk_error err = {0};
    int r = teams_member_put(&fx->svc, &fx->root, org, team, username, role, &err);
    if (r != 0)
        fail_msg("teams_member_put(%s, %s, %s, %s): %d %s", org, team, username, role, r, err.msg);
}

struct token_entry *fx_token_entry(const char *token_id, const char *owner_type, const char *owner_id,
                                   const char *org_id, const char *policies_json, int64_t expires_at) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    str_copy(rec.id, sizeof(rec.id), token_id);
    str_copy(rec.owner_type, sizeof(rec.owner_type), owner_type);
    str_copy(rec.owner_id, sizeof(rec.owner_id), owner_id);
    str_copy(rec.org_id, sizeof(rec.org_id), org_id);
    /* The policies as the store hands them out: a list of names. */
    json_t *arr = json_loads(policies_json, 0, NULL);
    const char *names[STORE_POLICIES_MAX];
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n > STORE_POLICIES_MAX)
        fail_msg("fx_token_entry(%s): policies %s is no list of at most %d names", token_id, policies_json,
                 STORE_POLICIES_MAX);
    for (size_t i = 0; i < n; i++)
        names[i] = json_string_value(json_array_get(arr, i));
    if (token_rec_set_policies(&rec, names, n) != 0)
        fail_msg("fx_token_entry(%s): policies %s do not fit a token", token_id, policies_json);
    json_decref(arr);
    rec.created_at = FX_NOW - 60;
    rec.expires_at = expires_at;
    struct token_entry *e = token_entry_new(&rec, 0);
    token_rec_done(&rec);
    if (e == NULL)
        fail_msg("token_entry_new(%s) returned NULL", token_id);
    return e;
}

const char *fx_list_json(const void *names, size_t width, size_t n) {
    static char buf[STORE_POLICIES_MAX * (STORE_POLICY_NAME_MAX + 3) + 3];
    size_t at = 0;
    at += (size_t)snprintf(buf + at, sizeof(buf) - at, "[");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s\"%s\"", i ? "," : "", (const char *)names + i * width);
    snprintf(buf + at, sizeof(buf) - at, "]");
    return buf;
}

const char *fx_policies_json(const struct token_rec *rec) {
    return fx_list_json(rec->policies, STORE_POLICY_NAME_MAX, rec->npolicies);
}

void fx_user_principal(struct svc_fixture *fx, const struct org_rec *org, const struct user_rec *u,
                       const char *token_id, const char *policies_json, int64_t expires_at, struct principal *p) {
    (void)fx;
    memset(p, 0, sizeof(*p));
    p->type = PRINCIPAL_USER;
    str_copy(p->id, sizeof(p->id), u->id);
    str_copy(p->name, sizeof(p->name), u->username);
    str_copy(p->org, sizeof(p->org), org->name);
    str_copy(p->org_id, sizeof(p->org_id), org->id);
    str_copy(p->org_role, sizeof(p->org_role), u->role);
    p->token = fx_token_entry(token_id, "user", u->id, org->id, policies_json, expires_at);
}

const char *fx_names_json(permset_t set) {
    static char buf[4096];
    const char *names[64];
    size_t n = perm_names(set, names, 64), at = 0;
    at += (size_t)snprintf(buf + at, sizeof(buf) - at, "[");
    for (size_t i = 0; i < n && i < 64; i++)
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s\"%s\"", i ? "," : "", names[i]);
    snprintf(buf + at, sizeof(buf) - at, "]");
    return buf;
}

permset_t fx_perms_of(const char *const *names) {
    permset_t set = 0;
    for (; *names != NULL; names++) {
        int idx = perm_index(*names);
        if (idx < 0)
            fail_msg("fx_perms: %s is not in the catalogue", *names);
        set |= (permset_t)1 << idx;
    }
    return perm_closure(set);
}

void fx_assert_perms_eq(permset_t actual, permset_t expected, const char *actual_expr, const char *expected_expr,
                        const char *file, int line) {
    if (actual == expected)
        return;
    char a[4096];
    str_copy(a, sizeof(a), fx_names_json(actual));
    print_error("%s is %s,\nexpected %s = %s\n", actual_expr, a, expected_expr, fx_names_json(expected));
    _fail(file, line);
}

void fx_assert_error_with(int rc, const struct lk_error *err, int code, const char *want, const char *file, int line) {
    if (rc == code && err->code == code && strstr(err->msg, want) != NULL)
        return;
    print_error("got %d (%s) with message \"%s\",\nexpected %d (%s) with a message containing \"%s\"\n", rc,
                lk_strerror(rc), err->msg, code, lk_strerror(code), want);
    _fail(file, line);
}

int fx_acme_setup(void **state) {
    void *fx = NULL;
    if (svc_fixture_setup(&fx) != 0)
        return -1;
    struct fx_acme *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        svc_fixture_teardown(&fx);
        return -1;
    }
    w->fx = fx;
    *state = w;
    fx_org(w->fx, "acme", &w->acme);
    fx_user(w->fx, "acme", "alice", "admin", &w->alice);
    fx_user(w->fx, "acme", "bob", "member", &w->bob);
    fx_user(w->fx, "acme", "carol", "member", &w->carol);
    return 0;
}

int fx_acme_teardown(void **state) {
    struct fx_acme *w = *state;
    if (w == NULL)
        return 0;
    user_rec_done(&w->alice);
    user_rec_done(&w->bob);
    user_rec_done(&w->carol);
    void *fx = w->fx;
    svc_fixture_teardown(&fx);
    free(w);
    return 0;
}
