/*
 * orgs.h - organisations and the partner API: create, sign up,
 * list, get, delete, approve, activate, deactivate, and org settings.
 */
#ifndef LK_SVC_ORGS_H
#define LK_SVC_ORGS_H

#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

/* Defaults for a new org's token expiry policy (issue 4 refines the rules). */
#define ORGS_DEFAULT_TOKEN_EXPIRY_HOURS 720
#define ORGS_LIST_DEFAULT 50
#define ORGS_LIST_MAX 200

struct org_signup_in {
    const char *name, *display_name;
    const char *admin_username, *admin_email, *admin_password;
};

/* Partner admin: a new org, active at once. */
int orgs_create(struct svc *svc, const struct principal *caller, const char *name, const char *display_name,
                struct org_rec *ret, struct lk_error *err);

/* Anyone: a new org in "pending" with its first admin user. */
int orgs_signup(struct svc *svc, const struct org_signup_in *in, struct org_rec *ret, struct user_rec *ret_admin,
                struct lk_error *err);

/* Root sees every org; anyone else only their own. */
int orgs_list(struct svc *svc, const struct principal *caller, int64_t after_seq, int limit, struct org_list *ret,
              struct lk_error *err);

/* Finds an org the caller may see, by name; LK_ENOTFOUND otherwise. */
int orgs_find(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
              struct lk_error *err);

/* Partner admin: deletes the org, its users and their tokens; *ret is the
 * org as it was (its id names it in the deletion's audit record). */
int orgs_delete(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
                struct lk_error *err);

enum org_transition { ORG_APPROVE, ORG_ACTIVATE, ORG_DEACTIVATE };

/* Partner admin: pending -> active (approve), deactivated -> active
 * (activate), pending/active -> deactivated (deactivate). Takes effect on the
 * org's principals at the very next request. */
int orgs_transition(struct svc *svc, const struct principal *caller, const char *name, enum org_transition t,
                    struct org_rec *ret, struct lk_error *err);

/* Org settings: read needs settings.view, change settings.manage. A field
 * left negative is unchanged. */
struct org_settings_in {
    int64_t token_expiry_hours;    /* -1 = unchanged */
    int allow_non_expiring_tokens; /* -1 = unchanged */
    const char *display_name;      /* NULL = unchanged */
    int notify_short_lived_tokens; /* -1 = unchanged */
};
int orgs_settings_get(struct svc *svc, const struct principal *caller, const char *name, struct org_rec *ret,
                      struct lk_error *err);
int orgs_settings_update(struct svc *svc, const struct principal *caller, const char *name,
                         const struct org_settings_in *in, struct org_rec *ret, struct lk_error *err);

/* A fresh random id with the given prefix ("org_", "usr_") into out. */
int orgs_new_id(const char *prefix, char *out, size_t cap);

#endif
