/*
 * notice_recipients.c - the rule of who is told by e-mail that a token
 * expires, read from the store when the notice is scheduled.
 *
 * Must never send anything (the notifier in jobs/notices.c does), and
 * never let an address through that could break out of a mail header.
 */
#include "svc/notice_recipients.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "lib/smtp.h"
#include "lib/str.h"
#include "store/store.h"
#include "svc/svc.h"

int notice_recipients_by_email(const char *owner_type) {
    return strcmp(owner_type, "root") != 0;
}

const char *notice_recipients_none_reason(const char *owner_type) {
    return strcmp(owner_type, "service_account") == 0
               ? "no recipient: the service account's team has no owner with an e-mail address"
               : "no recipient: the owner has no usable e-mail address";
}

/* Appends addr to the list unless present, unusable or the list is full. */
static void add_recipient(struct notice_recipient_list *l, const char *addr) {
    if (!smtp_address_ok(addr) || strlen(addr) >= sizeof(l->items[0]) || l->count == NOTICE_RECIPIENTS_MAX)
        return;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], addr) == 0)
            return;
    str_copy(l->items[l->count++], sizeof(l->items[0]), addr);
}

int notice_recipients_of(struct svc *svc, const char *owner_type, const char *owner_id,
                         struct notice_recipient_list *ret) {
    struct store *s = svc->store;
    struct user_rec u;
    int r = 0;
    ret->count = 0;
    memset(&u, 0, sizeof(u));
    if (strcmp(owner_type, "user") == 0) {
        r = store_user_get(s, owner_id, &u);
        if (r == 0)
            add_recipient(ret, u.email);
        user_rec_done(&u);
    } else if (strcmp(owner_type, "service_account") == 0) {
        struct sa_rec sa;
        struct team_member_list members = {0};
        r = store_sa_get(s, owner_id, &sa);
        if (r == 0)
            r = store_team_member_list(s, sa.team_id, &members);
        for (size_t i = 0; r == 0 && i < members.count; i++) {
            if (strcmp(members.items[i].role, "owner") != 0)
                continue;
            if (store_user_get(s, members.items[i].user_id, &u) == 0)
                add_recipient(ret, u.email);
            user_rec_done(&u);
        }
        team_member_list_done(&members);
    }
    if (r == LK_ENOTFOUND)
        r = 0; /* the owner went away: no one to tell */
    if (r != 0)
        ret->count = 0;
    return r;
}
