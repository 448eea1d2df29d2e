/*
 * notices.h - the expiry-notice outbox as use cases: who may see which
 * notices (the listing routes), and the notifier's reads and writes
 * (jobs/notices.c decides what to schedule and when to deliver; it reaches
 * the outbox only through these). Who is notified is
 * svc/notice_recipients.h's.
 */
#ifndef LK_SVC_NOTICES_H
#define LK_SVC_NOTICES_H

#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

#define NOTICES_LIST_DEFAULT 50
#define NOTICES_LIST_MAX 200

/* 1 if status is one of the outbox states (pending, delivered, failed, skipped, cancelled). */
int notices_status_valid(const char *status);

/*
 * Notices of the org named org_name (org admins: settings.manage), or of
 * every org when org_name is NULL (partner admin only), with the given
 * status (NULL = any), seq > after, at most limit. An org the caller may not
 * see answers LK_ENOTFOUND exactly like a missing one.
 */
int notices_list(struct svc *svc, const struct principal *caller, const char *org_name, const char *status,
                 int64_t after, int limit, struct notice_list *ret, struct lk_error *err);

/*
 * The notifier's side. Each runs on svc->store at svc->now (the pass's
 * time, which the test clock may move) and returns 0 or the store's LK_E*
 * code; docs/notices.md has the outbox states and the claim protocol.
 */

/* Tokens that may need a notice: svc->now < expires_at <= horizon, seq >
 * after_seq, in seq order, at most limit (store_notice_candidates). */
int notices_tokens_expiring(struct svc *svc, int64_t horizon, int64_t after_seq, int limit,
                            struct notice_candidate_list *ret);

/* Puts rec into the outbox unless its (token, days, channel) row exists;
 * *ret_inserted (may be NULL) gets 1 if this call added it. */
int notices_outbox_insert(struct svc *svc, const struct notice_rec *rec, int *ret_inserted);

/* Skips the pending notices of token_id announcing more than days (a more
 * imminent one is due). */
int notices_outbox_supersede(struct svc *svc, const char *token_id, int days);

/* Pending notices of channel due by svc->now, oldest due first, at most limit. */
int notices_outbox_due(struct svc *svc, const char *channel, int limit, struct notice_list *ret);

/* Claims notice id for one attempt, leased until lease_until; *ret_claimed
 * gets 0 if another process has it (or it is no longer due). */
int notices_outbox_claim(struct svc *svc, const char *id, int64_t lease_until, int *ret_claimed);

/* Records rec's outcome: status, attempts, last_error, next_attempt_at,
 * delivered_at and updated_at. */
int notices_outbox_finish(struct svc *svc, const struct notice_rec *rec);

/* Deletes the notices announcing an expiry before cutoff. */
int notices_outbox_purge(struct svc *svc, int64_t cutoff);

/*
 * The outbox rules that follow a token's life (docs/notices.md, "Which
 * tokens"), at svc->now:
 *
 * - a deleted token gets nothing more: its pending notices are cancelled,
 *   NOTICES_WHY_DELETED;
 * - a token whose expiry is cut short (rotation leaves the old token a
 *   grace period) is retired from notices and its pending ones are
 *   cancelled, NOTICES_WHY_SHORTENED; the token that replaced it has the
 *   same expiry and gets the notices.
 *
 * The store does neither by itself (store.h, "Tokens and their expiry
 * notices"): every use case that deletes tokens, directly or with their
 * owner, calls the matching notices_cancel_* just before the delete, and
 * every one that shortens an expiry calls notices_retire_token, in the
 * same transaction as the change (the request's, or a store_tx of its own
 * outside a request). Each returns 0 or the store's LK_E* code.
 */
#define NOTICES_WHY_DELETED "token deleted"
#define NOTICES_WHY_SHORTENED "token rotated or its expiry shortened"

/* Before deleting the token token_id. */
int notices_cancel_token(struct svc *svc, const char *token_id);

/* Before deleting the tokens of (owner_type, owner_id) whose id starts with
 * id_prefix, or all of them (NULL): a user's or service account's with it,
 * a user's login sessions, root's old tokens on re-issue. */
int notices_cancel_owner(struct svc *svc, const char *owner_type, const char *owner_id, const char *id_prefix);

/* Before deleting a team: the tokens of its service accounts go with it. */
int notices_cancel_team(struct svc *svc, const char *team_id);

/* Before deleting an org: every token of the org goes with it. */
int notices_cancel_org(struct svc *svc, const char *org_id);

/* Before deleting the tokens that expired before cutoff (the clean-up). */
int notices_cancel_expired(struct svc *svc, int64_t cutoff);

/* After cutting token_id's expiry short. */
int notices_retire_token(struct svc *svc, const char *token_id);

/* After changing token_id's expiry to expires_at while it lives on (a
 * Vault renewal, longer or shorter): its notices for another expiry are
 * deleted from the outbox, so the passes schedule the new expiry's
 * (docs/notices.md, "Renewed tokens"). */
int notices_reschedule_token(struct svc *svc, const char *token_id, int64_t expires_at);

/* What a notice names, for people: the token as its owner knows it.
 * Names that do not apply are "". */
struct notice_context {
    char description[STORE_DESCRIPTION_MAX]; /* the token's, as written (UTF-8 user text, may hold controls) */
    char owner_name[STORE_NAME_MAX];         /* the user's or service account's name, or "root" */
    char team_name[STORE_NAME_MAX];          /* service-account tokens: the account's team */
    char sa_name[STORE_NAME_MAX];            /* service-account tokens: the account */
    char org_name[STORE_NAME_MAX];           /* "" for root tokens */
    const char *recipients_rule;             /* who gets the mail: NOTICES_RULE_* */
};

#define NOTICES_RULE_OWNER "owner"             /* a user token: its user */
#define NOTICES_RULE_TEAM_OWNERS "team_owners" /* a service-account token: its team's owners */
#define NOTICES_RULE_NONE "none"               /* a root token: no mail */

/*
 * Fills *ret with what notice n names, read through the store now (the
 * token, its user or service account, the account's team; the org name
 * comes with n). A row that is gone leaves its id in place of a name (the
 * token's: no description). Returns 0, or the store's LK_E* code if a read
 * failed otherwise (*ret then partly filled).
 */
int notices_context(struct svc *svc, const struct notice_rec *n, struct notice_context *ret);

/* The owner type for people: "user", "service account", "root". */
const char *notices_owner_label(const char *owner_type);

#endif
