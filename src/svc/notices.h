/*
 * notices.h - reading the expiry-notice outbox: who may see which notices.
 * Scheduling and delivery are jobs/notices.c's; this module only lists.
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

#endif
