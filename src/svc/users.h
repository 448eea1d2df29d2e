/*
 * users.h - people in an org (created by org admins or the partner admin),
 * and API tokens made on their behalf.
 */
#ifndef LK_SVC_USERS_H
#define LK_SVC_USERS_H

#include <stdint.h>

#include "store/store.h"
#include "svc/tokens.h"

struct svc;
struct principal;
struct lk_error;

#define USERS_LIST_DEFAULT 50
#define USERS_LIST_MAX 200

struct user_create_in {
    const char *username, *email;
    const char *password;  /* NULL = none (API keys only until one is set) */
    const char *role;      /* "admin" or "member"; NULL = "member" */
    int programmatic_only; /* 1 = never a password login (a machine user, allowed programmatic access only) */
};

/* users.manage on the org. */
int users_create(struct svc *svc, const struct principal *caller, const char *org, const struct user_create_in *in,
                 struct user_rec *ret, struct lk_error *err);
/* users.view on the org. */
int users_list(struct svc *svc, const struct principal *caller, const char *org, int64_t after_seq, int limit,
               struct user_list *ret, struct lk_error *err);
int users_get(struct svc *svc, const struct principal *caller, const char *org, const char *username,
              struct user_rec *ret, struct lk_error *err);
/* Fields to change; NULL / -1 leave a field as it is. */
struct user_update_in {
    const char *email;
    const char *role;           /* "admin" or "member" */
    const char *password;       /* sets a password (not for programmatic-only users) */
    int programmatic_only;      /* -1 unchanged; 1 also removes the password */
    int set_token_expiry;       /* 1: token_expiry_hours below applies */
    int64_t token_expiry_hours; /* >= 1, or 0 to clear the per-user setting */
};

/* users.manage, on a user whose access (as they are and as they would be)
 * lies within the caller's. A role change takes effect on the user's next
 * request; a new password, programmatic_only or a demotion from admin also
 * ends the user's login sessions at once. */
int users_update(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                 const struct user_update_in *in, struct user_rec *ret, struct lk_error *err);

/* users.manage, on a user whose access lies within the caller's; revokes
 * the user's tokens at once. */
int users_delete(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                 struct lk_error *err);

/* An API token for a user of the org, made by an org admin or the partner
 * admin (tokens.create_for_others). */
int users_token_create(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                       const struct token_create_in *in, struct token_created *ret, struct lk_error *err);
/* Revokes one of that user's tokens at once (org admins and the partner
 * admin: tokens.create_for_others). A token not the user's answers like a
 * missing one. */
int users_token_delete(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                       const char *id, struct lk_error *err);
/* That user's tokens (tokens.view on the org, or the user themself). */
int users_token_list(struct svc *svc, const struct principal *caller, const char *org, const char *username,
                     int64_t after_seq, int limit, struct token_list *ret, struct lk_error *err);

#endif
