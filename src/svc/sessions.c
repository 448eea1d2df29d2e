/*
 * sessions.c - login and logout.
 *
 * Never reveals whether an org or user exists, never logs or stores a
 * password, and spends the same scrypt work on every attempt.
 */
#include "svc/sessions.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/password.h"
#include "core/perm.h"
#include "core/tokfmt.h"
#include "svc/notices.h"
#include "svc/principal.h"
#include "svc/ratelimiter.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

static const char login_failed[] = "login failed: unknown organisation or user, or wrong password";

int sessions_login(struct svc *svc, const char *org, const char *username, const char *password,
                   struct token_created *ret, struct rl_result *ret_limit, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    memset(&o, 0, sizeof(o));
    memset(&u, 0, sizeof(u));
    int have_user = 0, r;

    /* Per account, before any work: a guessing run against one user stops
     * here whichever addresses it comes from. Unknown accounts are limited
     * alike, so the limit itself reveals nothing. */
    if (svc->rl_login != NULL) {
        char key[2 * STORE_NAME_MAX + 2];
        struct rl_result res;
        size_t ol = strnlen(org, STORE_NAME_MAX), ul = strnlen(username, STORE_NAME_MAX);
        memcpy(key, org, ol);
        key[ol] = '/';
        memcpy(key + ol + 1, username, ul);
        ratelimiter_check(svc->rl_login, key, ol + 1 + ul, svc->now_us, &res);
        if (!res.allowed) {
            if (ret_limit != NULL)
                *ret_limit = res;
            return lk_error_set(err, LK_ERATE, "too many login attempts for this account");
        }
    }

    if (store_org_get_by_name(svc->store, org, &o) == 0 && store_user_get_by_name(svc->store, o.id, username, &u) == 0)
        have_user = 1;
    if (!have_user || u.programmatic_only || u.password_hash == NULL) {
        password_verify_dummy(password);
        user_rec_done(&u);
        return lk_error_set(err, LK_EBADCRED, "%s", login_failed);
    }
    if (!password_verify(password, u.password_hash)) {
        user_rec_done(&u);
        return lk_error_set(err, LK_EBADCRED, "%s", login_failed);
    }
    if (strcmp(o.status, "active") != 0) {
        user_rec_done(&u);
        return lk_error_set(err, LK_EINACTIVE, "organisation %s is %s: its users cannot log in", o.name,
                            strcmp(o.status, "pending") == 0 ? "pending approval" : "deactivated");
    }

    struct principal self;
    memset(&self, 0, sizeof(self));
    self.type = PRINCIPAL_USER;
    memcpy(self.id, u.id, sizeof(self.id));
    memcpy(self.org_id, o.id, sizeof(self.org_id));
    struct token_owner owner = {PRINCIPAL_USER, u.id, o.id, 1};
    struct token_create_in in;
    char expires[32];
    memset(&in, 0, sizeof(in));
    in.description = "login session";
    snprintf(expires, sizeof(expires), "PT%dS", SESSIONS_TTL_SECONDS);
    in.expiry.expires = expires;
    in.expiry.expires_len = strlen(expires);
    r = tokens_create_for(svc, &self, &owner, perm_all(), &in, ret, err);
    user_rec_done(&u);
    return r;
}

int sessions_account_org(struct svc *svc, const char *org, const char *username, char ret_org_id[STORE_OWNER_ID_MAX]) {
    struct org_rec o;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = store_org_get_by_name(svc->store, org, &o);
    if (r == 0)
        r = store_user_get_by_name(svc->store, o.id, username, &u);
    if (r == 0)
        memcpy(ret_org_id, o.id, STORE_OWNER_ID_MAX);
    user_rec_done(&u);
    return r;
}

int sessions_logout(struct svc *svc, const struct principal *caller, struct lk_error *err) {
    struct tokfmt_parsed p;
    const char *id = caller->token->id;
    if (tokfmt_parse_pubid(id, strlen(id), &p) != 0 || p.kind != TOK_KIND_SESSION)
        return lk_error_set(err, LK_EINVAL, "logout ends login sessions; revoke an API token with DELETE /v1/tokens/%s",
                            id);
    /* Tokens the Vault door made from this session go with it; a session
     * gets no notices, but the rule is the same for every token. */
    int r = tokens_delete_subtree(svc, id, NULL);
    if (r == 0)
        r = notices_cancel_token(svc, id);
    if (r == 0)
        r = store_token_delete(svc->store, id);
    svc_cache_remove(svc, id);
    if (r < 0 && r != LK_ENOTFOUND)
        return lk_error_set(err, r, "could not end the session");
    return 0;
}
