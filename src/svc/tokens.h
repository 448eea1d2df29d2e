/*
 * tokens.h - API token use cases: create, list, get, delete, and the
 * operator's root-token issue.
 *
 * Every call takes the calling principal; a token that is not the caller's
 * answers LK_ENOTFOUND exactly as a missing one does.
 */
#ifndef LK_SVC_TOKENS_H
#define LK_SVC_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "core/expiry.h"
#include "core/perm.h"
#include "store/store.h"
#include "svc/principal.h"

struct svc;
struct principal;
struct lk_error;

#define TOKENS_DESCRIPTION_MAX 256
#define TOKENS_POLICIES_MAX 64
#define TOKENS_POLICY_NAME_MAX 128
#define TOKENS_LIST_DEFAULT 50
#define TOKENS_LIST_MAX 200
/* A token within this many seconds of its expiry lists as "expiring". */
#define TOKENS_EXPIRING_WINDOW (7 * 24 * 3600)

struct token_create_in {
    const char *description; /* NULL = "" */
    struct expiry_request expiry;
    int has_policies; /* 0 = all of the owner's permissions */
    const char *const *policies;
    size_t npolicies;
};

struct token_created {
    char token[TOKFMT_TOKEN_BUFSZ]; /* the secret: shown once; wipe with tokens_created_done() */
    struct token_rec rec;
    char *dropped_json; /* owned: JSON array of requested policies not granted */
};

/* Wipes the secret and frees rec. NULL-safe. */
void tokens_created_done(struct token_created *c);

/* Whose token it is, when not the caller's own. */
struct token_owner {
    enum principal_type type;
    const char *id;
    const char *org_id; /* "" when none */
    int session;        /* 1: a login session token (kind "sess") */
};

/*
 * Creates a token owned by owner, created by caller. Does not check that
 * caller may do so: the use case that picks the owner (users.c, ...) has.
 * ceiling is what the calling token may do where the new token will act
 * (authz_org_effective, authz_team_permissions, ...): the new token's
 * policies never exceed it, and the new token never outlives the calling
 * token unless that is a login session.
 */
int tokens_create_for(struct svc *svc, const struct principal *caller, const struct token_owner *owner,
                      permset_t ceiling, const struct token_create_in *in, struct token_created *ret,
                      struct lk_error *err);

/*
 * The latest expiry a token of owner made now by caller may have when it
 * asks for none in particular: the owner's org rules (none for an org
 * admin or the partner admin, as resolve_expiry allows them any), and the
 * calling token's own expiry unless that is a login session. *ret: a Unix
 * time, or 0 for no bound. For callers that compute an expiry of their
 * own (the Vault door's TTLs) and must keep within the native rules.
 */
int tokens_expiry_bound(struct svc *svc, const struct principal *caller, const struct token_owner *owner, int64_t *ret,
                        struct lk_error *err);

/*
 * Loads one of caller's own tokens for a change, with the rules of delete
 * and rotate (tokens.manage, and a token within the calling token's
 * permissions): 0 and *ret (release with token_rec_done), LK_ENOTFOUND for
 * a token that is not caller's, or LK_EDENIED.
 */
int tokens_get_for_change(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
                          struct lk_error *err);

/* Tokens deleted per page by tokens_delete_subtree. */
#define TOKENS_SUBTREE_PAGE 200

/*
 * Deletes every token the Vault door made below token id (its children,
 * theirs, ...: store_vault_token_subtree), with their pending notices, and
 * drops them from the cache (svc_cache_remove). Not id itself. Every
 * delete of a token runs it first, in the same transaction, so no child
 * outlives a revoked parent. *ret_count (may be NULL) gets how many. 0 or
 * the store's LK_E* code.
 */
int tokens_delete_subtree(struct svc *svc, const char *id, size_t *ret_count);

/* Revokes owner's token id at once; another principal's answers
 * LK_ENOTFOUND. No access check (the use case that picks the owner has). */
int tokens_delete_for(struct svc *svc, const struct token_owner *owner, const char *id, struct lk_error *err);

/* Lists owner's tokens after the cursor seq; no access check (see above). */
int tokens_list_for(struct svc *svc, const struct token_owner *owner, int64_t after_seq, int limit,
                    struct token_list *ret, struct lk_error *err);

/* Creates a token owned by caller: needs tokens.manage; the new token's
 * policies lie within the calling token's. */
int tokens_create(struct svc *svc, const struct principal *caller, const struct token_create_in *in,
                  struct token_created *ret, struct lk_error *err);

/* Lists caller's tokens after the cursor seq (0 = from the start). */
int tokens_list(struct svc *svc, const struct principal *caller, int64_t after_seq, int limit, struct token_list *ret,
                struct lk_error *err);

/* One of caller's tokens by public id. */
int tokens_get(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
               struct lk_error *err);

/* Longest overlap rotate allows between the old and the new secret. */
#define TOKENS_ROTATE_GRACE_MAX (7 * 24 * 3600)

/*
 * Replaces one of caller's tokens with a new secret (a new public id) that
 * keeps the owner, policies, description and expiry. The old secret keeps
 * working for grace_seconds (0 = it stops at once), never past its own
 * expiry. As delete: tokens.manage, and a token within the calling token's
 * permissions; also one that does not outlive the calling token (unless
 * that is a login session), since the new secret keeps the old expiry.
 */
int tokens_rotate(struct svc *svc, const struct principal *caller, const char *id, int64_t grace_seconds,
                  struct token_created *ret, struct lk_error *err);

/* Deletes one of caller's tokens (tokens.manage, and only one whose
 * permissions lie within the calling token's); it fails on the very next
 * request. */
int tokens_delete(struct svc *svc, const struct principal *caller, const char *id, struct lk_error *err);

/*
 * Issues a new root token and revokes every other root token (operator
 * command and first dev start). The caller must wipe ret_token.
 */
int tokens_issue_root(struct svc *svc, char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_id[TOKFMT_PUBID_BUFSZ],
                      size_t *ret_revoked, struct lk_error *err);

/* 1 if any root token exists. */
int tokens_root_exists(struct svc *svc, int *ret_exists);

/* Deletes every token that expired before cutoff (the clean-up job's
 * rule is jobs/cleanup.h's); *ret_deleted (may be NULL) gets how many.
 * Audit records about them stay. 0 or the store's LK_E* code. */
int tokens_delete_expired(struct svc *svc, int64_t cutoff, size_t *ret_deleted);

/* "active", "expiring" (within TOKENS_EXPIRING_WINDOW) or "expired". */
const char *tokens_status(int64_t expires_at, int64_t now);

#endif
