/*
 * users.c - user use cases within an org.
 *
 * Never stores or returns a password, only its scrypt hash (and never
 * returns that either). A user of another org answers exactly like a
 * missing one.
 */
#include "svc/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "core/password.h"
#include "lib/str.h"
#include "core/tokfmt.h"
#include "svc/authz.h"
#include "svc/groups.h"
#include "svc/scope.h"
#include "svc/notices.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

/* Loads the org by name and checks perm on it. */
static int org_with(struct svc *svc, const struct principal *caller, const char *org, const char *perm,
                    struct org_rec *ret, struct lk_error *err) {
    char nf[STR_ECHO_BUFSZ + 32], q[STR_ECHO_BUFSZ];
    str_echo(org, strlen(org), q);
    snprintf(nf, sizeof(nf), "no organisation %s", q);
    int r = store_org_get_by_name(svc->store, org, ret);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, r, "%s", nf);
    if (r < 0)
        return lk_error_set(err, r, "could not read the organisation");
    return authz_require(caller, ret, perm, nf, err);
}

static int user_in(struct svc *svc, const struct org_rec *o, const char *username, struct user_rec *ret,
                   struct lk_error *err) {
    int r = store_user_get_by_name(svc->store, o->id, username, ret);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(username, strlen(username), q);
        return lk_error_set(err, r, "no user %s in organisation %s", q, o->name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the user") : 0;
}

/* Loads the org, checks perm on it, and finds username there. */
static int org_user(struct svc *svc, const struct principal *caller, const char *org, const char *perm,
                    const char *username, struct org_rec *ret_org, struct user_rec *ret, struct lk_error *err) {
    int r = org_with(svc, caller, org, perm, ret_org, err);
    return r < 0 ? r : user_in(svc, ret_org, username, ret, err);
}

/*
 * Changing, removing or setting a password for a user hands their access
 * to whoever does it (a reset password is a login), so a caller may touch
 * only users whose access lies within the calling token's own, and make
 * admins only when it holds everything an admin does.
 */
static int user_within_caller(struct svc *svc, const struct principal *caller, const struct org_rec *o,
                              const struct user_rec *u, const char *role, struct lk_error *err) {
    struct principal target;
    permset_t reach = 0;
    memset(&target, 0, sizeof(target));
    target.type = PRINCIPAL_USER;
    str_copy(target.id, sizeof(target.id), u->id);
    str_copy(target.org_id, sizeof(target.org_id), o->id);
    str_copy(target.org_role, sizeof(target.org_role), role != NULL ? role : u->role);
    target.org_extra_perms = u->id[0] != '\0' ? groups_user_permset(svc, o->id, u->id) : 0;
    int r = u->id[0] != '\0' ? svc_reach(svc, &target, 0, &reach, err) : 0;
    if (r < 0)
        return r;
    reach |= authz_org_permissions(&target, o);
    char what[STORE_NAME_MAX + 16];
    snprintf(what, sizeof(what), "user %s", u->username[0] ? u->username : "(new)");
    return authz_require_within(authz_org_effective(caller, o), reach, what, err);
}

/* Ends every login session of user_id (tokens of kind "sess"). */
static int end_sessions(struct svc *svc, const char *user_id, struct lk_error *err) {
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "lk_%s_", tokfmt_kind_name(TOK_KIND_SESSION));
    int r = notices_cancel_owner(svc, "user", user_id, prefix);
    if (r == 0)
        r = store_token_delete_owner_prefix(svc->store, "user", user_id, prefix, NULL);
    svc_cache_remove_where(svc, NULL, "user", user_id);
    return r < 0 ? lk_error_set(err, r, "could not end the user's sessions") : 0;
}

int users_create(struct svc *svc, const struct principal *caller, const char *org, const struct user_create_in *in,
                 struct user_rec *ret, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    char hash[PASSWORD_HASH_MAX];
    const char *role = in->role ? in->role : "member";
    memset(&u, 0, sizeof(u));

    int r = org_with(svc, caller, org, "users.manage", &o, err);
    if (r == 0)
        r = name_check_slug("username", in->username, err);
    if (r == 0)
        r = name_check_email("email", in->email, err);
    if (r < 0)
        return r;
    if (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
        return lk_error_set(err, LK_EINVAL, "role: must be \"admin\" or \"member\"");
    str_copy(u.username, sizeof(u.username), in->username);
    if ((r = user_within_caller(svc, caller, &o, &u, role, err)) < 0)
        return r;
    if (in->password != NULL) {
        if (in->programmatic_only)
            return lk_error_set(err, LK_EINVAL,
                                "password: a programmatic-only user has no password; it uses API keys only");
        r = password_check("password", in->password, err);
        if (r < 0)
            return r;
        if (password_hash(in->password, hash) != 0)
            return lk_error_set(err, LK_EINTERNAL, "could not hash the password");
        u.password_hash = hash;
    }
    if (orgs_new_id("usr_", u.id, sizeof(u.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(u.org_id, sizeof(u.org_id), o.id);
    str_copy(u.username, sizeof(u.username), in->username);
    str_copy(u.email, sizeof(u.email), in->email);
    str_copy(u.role, sizeof(u.role), role);
    u.programmatic_only = in->programmatic_only ? 1 : 0;
    u.created_at = u.updated_at = svc->now;
    r = store_user_insert(svc->store, &u);
    u.password_hash = NULL;
    explicit_bzero(hash, sizeof(hash));
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "username: %s is already taken in organisation %s", in->username, o.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the user");
    /* Answer with the record as stored (it knows whether a password is set). */
    r = store_user_get(svc->store, u.id, ret);
    return r < 0 ? lk_error_set(err, r, "could not read the user") : 0;
}

int users_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
               struct user_list *ret, struct lk_error *err) {
    struct org_rec o;
    int r = org_with(svc, caller, org, "users.view", &o, err);
    if (r < 0)
        return r;
    r = store_user_list(svc->store, o.id, after_seq, limit, ret);
    return r < 0 ? lk_error_set(err, r, "could not list users") : 0;
}

int users_get(struct svc *svc, const struct principal *caller, const char *org, const char *username,
              struct user_rec *ret, struct lk_error *err) {
    struct org_rec o;
    return org_user(svc, caller, org, "users.view", username, &o, ret, err);
}

int users_update(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                 const struct user_update_in *in, struct user_rec *ret, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    char hash[PASSWORD_HASH_MAX];
    memset(&u, 0, sizeof(u));
    int r = org_user(svc, caller, org, "users.manage", username, &o, &u, err);
    if (r < 0)
        return r;
    if (in->email != NULL && (r = name_check_email("email", in->email, err)) < 0)
        goto out;
    if (in->role != NULL && strcmp(in->role, "admin") != 0 && strcmp(in->role, "member") != 0) {
        r = lk_error_set(err, LK_EINVAL, "role: must be \"admin\" or \"member\"");
        goto out;
    }
    /* Both the user as they are and as they would be. */
    if ((r = user_within_caller(svc, caller, &o, &u, NULL, err)) < 0 ||
        (in->role != NULL && (r = user_within_caller(svc, caller, &o, &u, in->role, err)) < 0))
        goto out;
    /* A new password, no password at all, or less power: sessions opened
     * before are not the user's any more (or carry the old role). */
    int end = in->password != NULL || (in->programmatic_only == 1 && !u.programmatic_only) ||
              (in->role != NULL && strcmp(u.role, "admin") == 0 && strcmp(in->role, "admin") != 0);
    if (in->set_token_expiry && (in->token_expiry_hours < 0 || in->token_expiry_hours > 100LL * 366 * 24)) {
        r = lk_error_set(err, LK_EINVAL, "token_expiry_hours: must be a whole number of hours from 1, or null");
        goto out;
    }
    int programmatic = in->programmatic_only >= 0 ? in->programmatic_only : u.programmatic_only;
    if (in->password != NULL) {
        if (programmatic) {
            r = lk_error_set(err, LK_EINVAL,
                             "password: a programmatic-only user has no password; it uses API keys only");
            goto out;
        }
        if ((r = password_check("password", in->password, err)) < 0)
            goto out;
        if (password_hash(in->password, hash) != 0) {
            r = lk_error_set(err, LK_EINTERNAL, "could not hash the password");
            goto out;
        }
        free(u.password_hash);
        u.password_hash = strdup(hash);
        explicit_bzero(hash, sizeof(hash));
        if (u.password_hash == NULL) {
            r = lk_error_set(err, LK_ENOMEM, NULL);
            goto out;
        }
    }
    if (in->email != NULL)
        str_copy(u.email, sizeof(u.email), in->email);
    if (in->role != NULL)
        str_copy(u.role, sizeof(u.role), in->role);
    u.programmatic_only = programmatic;
    if (programmatic) { /* machine users never log in with a password */
        free(u.password_hash);
        u.password_hash = NULL;
    }
    if (in->set_token_expiry)
        u.token_expiry_hours = in->token_expiry_hours;
    u.updated_at = svc->now;
    r = store_user_update(svc->store, &u);
    if (r < 0) {
        r = lk_error_set(err, r, "could not update the user");
        goto out;
    }
    /* Cached tokens carry the old role. */
    svc_cache_remove_where(svc, NULL, "user", u.id);
    if (end && (r = end_sessions(svc, u.id, err)) < 0)
        goto out;
    r = store_user_get(svc->store, u.id, ret);
    if (r < 0)
        r = lk_error_set(err, r, "could not read the user");
out:
    user_rec_done(&u);
    return r;
}

int users_delete(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                 struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = org_user(svc, caller, org, "users.manage", username, &o, &u, err);
    if (r == 0)
        r = user_within_caller(svc, caller, &o, &u, NULL, err);
    if (r < 0) {
        user_rec_done(&u);
        return r;
    }
    /* Their tokens go with them, and so do those tokens' pending notices. */
    r = notices_cancel_owner(svc, "user", u.id, NULL);
    if (r == 0)
        r = store_user_delete(svc->store, u.id);
    svc_cache_remove_where(svc, NULL, "user", u.id);
    user_rec_done(&u);
    return r < 0 ? lk_error_set(err, r, "could not delete the user") : 0;
}

int users_token_create(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                       const struct token_create_in *in, struct token_created *ret, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = org_user(svc, caller, org, "tokens.create_for_others", username, &o, &u, err);
    if (r < 0)
        return r;
    struct token_owner owner = {PRINCIPAL_USER, u.id, o.id, 0};
    r = tokens_create_for(svc, caller, &owner, authz_org_effective(caller, &o), in, ret, err);
    user_rec_done(&u);
    return r;
}

int users_token_list(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                     int64_t after_seq, int limit, struct token_list *ret, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = org_user(svc, caller, org, "tokens.view", username, &o, &u, err);
    /* One's own tokens are one's own business; another user's are an
     * admin's (as on GitHub and GitLab, members do not see each other's). */
    int self = caller->type == PRINCIPAL_USER && strcmp(caller->id, u.id) == 0;
    if (r == 0 && !self) {
        char nf[STR_ECHO_BUFSZ + 32], q[STR_ECHO_BUFSZ];
        str_echo(org, strlen(org), q);
        snprintf(nf, sizeof(nf), "no organisation %s", q);
        r = authz_require(caller, &o, "tokens.create_for_others", nf, err);
    }
    if (r < 0) {
        user_rec_done(&u);
        return r;
    }
    struct token_owner owner = {PRINCIPAL_USER, u.id, o.id, 0};
    r = tokens_list_for(svc, &owner, after_seq, limit, ret, err);
    user_rec_done(&u);
    return r;
}

int users_token_delete(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                       const char *id, struct lk_error *err) {
    struct org_rec o;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = org_user(svc, caller, org, "tokens.create_for_others", username, &o, &u, err);
    if (r == 0) {
        struct token_owner owner = {PRINCIPAL_USER, u.id, o.id, 0};
        r = tokens_delete_for(svc, &owner, id, err);
    }
    user_rec_done(&u);
    return r;
}
