/*
 * orgs.c - organisation use cases and the partner lifecycle.
 *
 * Lifecycle: pending -(approve)-> active <-(activate/deactivate)-> deactivated;
 * a pending org may also be deactivated (a refused sign-up). Deleting removes
 * the org, its users and its tokens. Never lets a caller learn that an org
 * they may not see exists.
 */
#include "svc/orgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "core/password.h"
#include "core/secret.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/notices.h"
#include "svc/principal.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

int orgs_new_id(const char *prefix, char *out, size_t cap) {
    uint8_t rnd[10];
    char hex[2 * sizeof(rnd) + 1];
    if (secret_random(rnd, sizeof(rnd)) != 0)
        return LK_EINTERNAL;
    secret_hex(rnd, sizeof(rnd), hex);
    int n = snprintf(out, cap, "%s%s", prefix, hex);
    return (n > 0 && (size_t)n < cap) ? 0 : LK_EINTERNAL;
}

static int check_display_name(const char *s, struct lk_error *err) {
    if (strlen(s) >= STORE_DISPLAY_NAME_MAX)
        return lk_error_set(err, LK_EINVAL, "display_name: at most %d bytes", STORE_DISPLAY_NAME_MAX - 1);
    return 0;
}

static int new_org(struct svc *svc, const char *name, const char *display_name, const char *status, struct org_rec *ret,
                   struct lk_error *err) {
    struct org_rec o;
    memset(&o, 0, sizeof(o));
    int r = name_check_slug("name", name, err);
    if (r == 0)
        r = check_display_name(display_name ? display_name : "", err);
    if (r < 0)
        return r;
    if (orgs_new_id("org_", o.id, sizeof(o.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(o.name, sizeof(o.name), name);
    str_copy(o.display_name, sizeof(o.display_name), display_name ? display_name : name);
    str_copy(o.status, sizeof(o.status), status);
    o.token_expiry_hours = ORGS_DEFAULT_TOKEN_EXPIRY_HOURS;
    o.allow_non_expiring_tokens = 0;
    o.created_at = o.updated_at = svc->now;
    r = store_org_insert(svc->store, &o);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: an organisation named %s already exists", name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the organisation");
    *ret = o;
    return 0;
}

int orgs_create(struct svc *svc, const struct principal *caller, const char *name, const char *display_name,
                struct org_rec *ret, struct lk_error *err) {
    int r = authz_require_root(caller, NULL, "create organisations", NULL, err);
    if (r < 0)
        return r;
    return new_org(svc, name, display_name, "active", ret, err);
}

struct signup_tx {
    struct svc *svc;
    const struct org_signup_in *in;
    struct org_rec org;
    struct user_rec admin;
    char hash[PASSWORD_HASH_MAX];
    struct lk_error *err;
};

static int signup_fn(struct store *s, void *arg) {
    struct signup_tx *t = arg;
    int r = new_org(t->svc, t->in->name, t->in->display_name, "pending", &t->org, t->err);
    if (r < 0)
        return r;
    struct user_rec *u = &t->admin;
    if (orgs_new_id("usr_", u->id, sizeof(u->id)) != 0)
        return lk_error_set(t->err, LK_EINTERNAL, "could not generate an id");
    str_copy(u->org_id, sizeof(u->org_id), t->org.id);
    str_copy(u->username, sizeof(u->username), t->in->admin_username);
    str_copy(u->email, sizeof(u->email), t->in->admin_email);
    str_copy(u->role, sizeof(u->role), "admin");
    u->password_hash = t->hash;
    u->created_at = u->updated_at = t->svc->now;
    r = store_user_insert(s, u);
    u->password_hash = NULL;
    if (r < 0)
        return lk_error_set(t->err, r, "could not store the admin user");
    return 0;
}

int orgs_signup(struct svc *svc, const struct org_signup_in *in, struct org_rec *ret, struct user_rec *ret_admin,
                struct lk_error *err) {
    struct signup_tx t;
    memset(&t, 0, sizeof(t));
    t.svc = svc;
    t.in = in;
    t.err = err;
    int r = name_check_slug("name", in->name, err);
    if (r == 0)
        r = check_display_name(in->display_name ? in->display_name : "", err);
    if (r == 0)
        r = name_check_slug("admin.username", in->admin_username, err);
    if (r == 0)
        r = name_check_email("admin.email", in->admin_email, err);
    if (r == 0)
        r = password_check("admin.password", in->admin_password, err);
    if (r < 0)
        return r;
    /* A taken name is refused before the password hash (scrypt: 32 MiB and
     * tens of milliseconds) is spent on it. A sign-up racing this one for
     * the same name still gets the conflict from the insert. */
    struct org_rec taken;
    r = store_org_get_by_name(svc->store, in->name, &taken);
    if (r == 0)
        return lk_error_set(err, LK_ECONFLICT, "name: an organisation named %s already exists", in->name);
    if (r != LK_ENOTFOUND)
        return lk_error_set(err, r, "could not look up the organisation name");
    if (password_hash(in->admin_password, t.hash) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not hash the password");
    r = store_tx(svc->store, signup_fn, &t);
    explicit_bzero(t.hash, sizeof(t.hash));
    if (r < 0)
        return err->code ? err->code : lk_error_set(err, r, "could not sign up");
    *ret = t.org;
    /* Answer with the record as stored (it knows a password is set). */
    r = store_user_get(svc->store, t.admin.id, ret_admin);
    return r < 0 ? lk_error_set(err, r, "could not read the admin user") : 0;
}

int orgs_list(struct svc *svc, const struct principal *caller, int64_t after_seq, int limit, struct org_list *ret,
              struct lk_error *err) {
    if (caller->type == PRINCIPAL_ROOT) {
        int r = store_org_list(svc->store, after_seq, limit, ret);
        return r < 0 ? lk_error_set(err, r, "could not list organisations") : 0;
    }
    /* Everyone else sees exactly their own org. */
    memset(ret, 0, sizeof(*ret));
    if (caller->org_id[0] == '\0' || after_seq != 0)
        return 0;
    struct org_rec *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    int r = store_org_get(svc->store, caller->org_id, o);
    if (r == LK_ENOTFOUND) {
        free(o);
        return 0;
    }
    if (r < 0) {
        free(o);
        return lk_error_set(err, r, "could not read the organisation");
    }
    ret->items = o;
    ret->count = 1;
    return 0;
}

/* Room for "no organisation <name>" with the name echoed. */
#define ORGS_NOTFOUND_BUFSZ (STR_ECHO_BUFSZ + 32)

/* What a missing (or hidden) org answers: its name through str_echo. */
static void not_found(char nf[ORGS_NOTFOUND_BUFSZ], const char *name) {
    char q[STR_ECHO_BUFSZ];
    str_echo(name, strlen(name), q);
    snprintf(nf, ORGS_NOTFOUND_BUFSZ, "no organisation %s", q);
}

static int load(struct svc *svc, const char *name, struct org_rec *ret, struct lk_error *err) {
    int r = store_org_get_by_name(svc->store, name, ret);
    if (r == LK_ENOTFOUND) {
        char nf[ORGS_NOTFOUND_BUFSZ];
        not_found(nf, name);
        return lk_error_set(err, r, "%s", nf);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not read the organisation");
    return 0;
}

/*
 * Loads the org and checks the caller may act on it: perm on the org, or,
 * when perm is NULL, the partner admin's right to root_what. An org out of
 * the caller's reach answers like a missing one.
 */
static int load_for(struct svc *svc, const struct principal *caller, const char *name, const char *perm,
                    const char *root_what, struct org_rec *ret, struct lk_error *err) {
    char nf[ORGS_NOTFOUND_BUFSZ];
    not_found(nf, name);
    int r = load(svc, name, ret, err);
    if (r < 0)
        return r;
    return perm != NULL ? authz_require(caller, ret, perm, nf, err)
                        : authz_require_root(caller, ret, root_what, nf, err);
}

int orgs_find(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
              struct lk_error *err) {
    struct org_rec o;
    char nf[ORGS_NOTFOUND_BUFSZ];
    not_found(nf, name);
    int r = load(svc, name, &o, err);
    if (r < 0)
        return r;
    if (!authz_org_visible(caller, &o))
        return lk_error_set(err, LK_ENOTFOUND, "%s", nf);
    *ret = o;
    return 0;
}

int orgs_delete(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
                struct lk_error *err) {
    struct org_rec o;
    int r = load_for(svc, caller, name, NULL, "delete organisations", &o, err);
    if (r < 0)
        return r;
    /* Its tokens go with it, and so do their pending notices. */
    r = notices_cancel_org(svc, o.id);
    if (r == 0)
        r = store_org_delete(svc->store, o.id);
    svc_cache_remove_where(svc, o.id, NULL, NULL);
    if (r == LK_ENOTFOUND) {
        char nf[ORGS_NOTFOUND_BUFSZ];
        not_found(nf, name);
        return lk_error_set(err, r, "%s", nf);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not delete the organisation");
    *ret = o;
    return 0;
}

int orgs_transition(struct svc *svc, const struct principal *caller, const char *name, enum org_transition t,
                    struct org_rec *ret, struct lk_error *err) {
    static const char *const verbs[] = {"approve", "activate", "deactivate"};
    struct org_rec o;
    char what[64];
    snprintf(what, sizeof(what), "%s organisations", verbs[t]);
    int r = load_for(svc, caller, name, NULL, what, &o, err);
    if (r < 0)
        return r;

    const char *to = NULL;
    switch (t) {
    case ORG_APPROVE:
        if (strcmp(o.status, "pending") != 0)
            return lk_error_set(err, LK_EINVAL,
                                "organisation %s is %s, not pending: only pending organisations are "
                                "approved",
                                o.name, o.status);
        to = "active";
        break;
    case ORG_ACTIVATE:
        if (strcmp(o.status, "pending") == 0)
            return lk_error_set(err, LK_EINVAL, "organisation %s is pending: approve it instead", o.name);
        to = "active";
        break;
    case ORG_DEACTIVATE: to = "deactivated"; break;
    }
    if (strcmp(o.status, to) != 0) {
        str_copy(o.status, sizeof(o.status), to);
        o.updated_at = svc->now;
        r = store_org_update(svc->store, &o);
        if (r < 0)
            return lk_error_set(err, r, "could not update the organisation");
        /* Its principals' cached tokens carry the old status: drop them. */
        svc_cache_remove_where(svc, o.id, NULL, NULL);
    }
    *ret = o;
    return 0;
}

int orgs_settings_get(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
                      struct lk_error *err) {
    struct org_rec o;
    int r = load_for(svc, caller, name, "settings.view", NULL, &o, err);
    if (r < 0)
        return r;
    *ret = o;
    return 0;
}

int orgs_settings_update(struct svc *svc, const struct principal *caller, const char *name,
                         const struct org_settings_in *in, struct org_rec *ret, struct lk_error *err) {
    struct org_rec o;
    int r = load_for(svc, caller, name, "settings.manage", NULL, &o, err);
    if (r < 0)
        return r;
    if (in->token_expiry_hours != -1) {
        if (in->token_expiry_hours < 1 || in->token_expiry_hours > 100LL * 366 * 24)
            return lk_error_set(err, LK_EINVAL, "token_expiry_hours: must be a whole number of hours from 1 to %lld",
                                100LL * 366 * 24);
        o.token_expiry_hours = in->token_expiry_hours;
    }
    if (in->allow_non_expiring_tokens != -1)
        o.allow_non_expiring_tokens = in->allow_non_expiring_tokens ? 1 : 0;
    if (in->notify_short_lived_tokens != -1)
        o.notify_short_lived_tokens = in->notify_short_lived_tokens ? 1 : 0;
    if (in->display_name != NULL) {
        r = check_display_name(in->display_name, err);
        if (r < 0)
            return r;
        str_copy(o.display_name, sizeof(o.display_name), in->display_name);
    }
    o.updated_at = svc->now;
    r = store_org_update(svc->store, &o);
    if (r < 0)
        return lk_error_set(err, r, "could not update the organisation");
    *ret = o;
    return 0;
}
