/*
 * sessions.h - password login and logout (login endpoints answer with
 * the token in JSON and as a cookie).
 */
#ifndef LK_SVC_SESSIONS_H
#define LK_SVC_SESSIONS_H

#include "svc/tokens.h"

struct svc;
struct principal;
struct lk_error;

/* How long a login session lasts. */
#define SESSIONS_TTL_SECONDS (12 * 3600)

struct rl_result;

/*
 * Verifies org/username/password and issues a session token. Every failure
 * before the password is known to be right (no such org, no such user, a
 * programmatic-only user, a wrong password) answers the same LK_EBADCRED
 * message after the same scrypt work, so the answer never reveals whether
 * the user exists. Too many attempts for this account (known or not, alike)
 * is LK_ERATE before any work, with the limiter's verdict in *ret_limit
 * (when not NULL) so that the answer can say when to retry.
 */
int sessions_login(struct svc *svc, const char *org, const char *username, const char *password,
                   struct token_created *ret, struct rl_result *ret_limit, struct lk_error *err);

/*
 * For the audit record of a failed login (docs/audit.md, "Which org a
 * record is filed under"): the id of org when it has a user named
 * username, so that attempts on a real account are filed under its org,
 * where its admins see them, and attempts on names nobody holds under
 * none. 0 and ret_org_id, or LK_ENOTFOUND (or a store error). What it
 * finds never reaches the client.
 */
int sessions_account_org(struct svc *svc, const char *org, const char *username, char ret_org_id[STORE_OWNER_ID_MAX]);

/* Revokes the caller's session token. LK_EINVAL for a non-session token. */
int sessions_logout(struct svc *svc, const struct principal *caller, struct lk_error *err);

#endif
