/*
 * notice_recipients.h - who is told by e-mail that a token expires
 * (docs/notices.md, "Channels"): the owner of a user's token,
 * the owners of the team behind a service account's token, and no one for
 * a root token (the webhook is its only channel).
 *
 * Decided when a notice is scheduled: each address becomes an outbox row
 * of its own, delivered and retried on its own.
 */
#ifndef LK_SVC_NOTICE_RECIPIENTS_H
#define LK_SVC_NOTICE_RECIPIENTS_H

#include <stddef.h>

#include "store/store.h"

struct svc;

/* At most this many e-mail recipients per notice (a team with more owners:
 * the first ones by username). */
#define NOTICE_RECIPIENTS_MAX 100

/* Distinct addresses, in order. */
struct notice_recipient_list {
    char items[NOTICE_RECIPIENTS_MAX][STORE_EMAIL_MAX];
    size_t count;
};

/* 1 if notices about tokens of owner_type ("user", "service_account",
 * "root") go out by e-mail at all; 0 for root tokens. */
int notice_recipients_by_email(const char *owner_type);

/*
 * The e-mail recipients of notices about a token of (owner_type, owner_id)
 * into *ret: a user token's user; a service-account token's team owners.
 * Addresses that cannot go into a mail header are left out. An owner that
 * is gone gives an empty list. Returns 0, or an LK_E* code if the store
 * failed.
 */
int notice_recipients_of(struct svc *svc, const char *owner_type, const char *owner_id,
                         struct notice_recipient_list *ret);

/* Why a notice about a token of owner_type has no recipient (its
 * last_error when it is skipped for that). */
const char *notice_recipients_none_reason(const char *owner_type);

#endif
