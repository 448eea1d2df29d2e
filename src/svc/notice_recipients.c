/*
 * notice_recipients.c - the rule of who is told by e-mail that a token
 * expires, read from the store when the notice is scheduled.
 *
 * Must never send anything (the notifier in jobs/notices.c does), and
 * never let an address through that could break out of a mail header.
 */
#include "svc/notice_recipients.h"

#include <jansson.h>
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

/* Appends addr to the JSON array arr unless present or unusable. */
static void add_recipient(json_t *arr, const char *addr) {
    size_t i;
    json_t *v;
    if (!smtp_address_ok(addr))
        return;
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), addr) == 0)
            return;
    }
    json_array_append_new(arr, json_string(addr));
}

int notice_recipients_of(struct svc *svc, const char *owner_type, const char *owner_id, struct notice_rec *rec) {
    struct store *s = svc->store;
    json_t *arr = json_array();
    const char **addrs = NULL;
    struct user_rec u;
    int r = 0;
    if (arr == NULL)
        return LK_ENOMEM;
    memset(&u, 0, sizeof(u));
    if (strcmp(owner_type, "user") == 0) {
        r = store_user_get(s, owner_id, &u);
        if (r == 0)
            add_recipient(arr, u.email);
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
                add_recipient(arr, u.email);
            user_rec_done(&u);
        }
        team_member_list_done(&members);
    }
    if (r == LK_ENOTFOUND)
        r = 0; /* the owner went away: no one to tell */
    size_t n = json_array_size(arr);
    if (r == 0 && n > 0 && (addrs = calloc(n, sizeof(*addrs))) == NULL)
        r = LK_ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        addrs[i] = json_string_value(json_array_get(arr, i));
    /* Drop addresses from the end until the list fits (store.h's rule). */
    while (r == 0 && n > 0 && !notice_recipients_ok(addrs, n))
        n--;
    if (r == 0)
        r = notice_rec_set_recipients(rec, addrs, n);
    free(addrs);
    json_decref(arr);
    return r;
}
