/*
 * notices.c - the use cases over the expiry-notice outbox: listing for org
 * admins (their org) and the partner admin (every org).
 *
 * Never shows a notice of an org the caller may not see, and never has a
 * secret to show: the outbox holds public token ids and addresses only.
 */
#include "svc/notices.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/principal.h"
#include "svc/svc.h"

int notices_status_valid(const char *status) {
    static const char *const states[] = {"pending", "delivered", "failed", "skipped", "cancelled"};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(status, states[i]) == 0)
            return 1;
    return 0;
}

int notices_list(struct svc *svc, const struct principal *caller, const char *org_name, const char *status,
                 int64_t after, int limit, struct notice_list *ret, struct lk_error *err) {
    struct org_rec o;
    const char *org_id = NULL;
    int r;
    if (status != NULL && !notices_status_valid(status))
        return lk_error_set(err, LK_EINVAL, "status: expected pending, delivered, failed, skipped or cancelled");
    if (org_name == NULL) {
        r = authz_require_root(caller, NULL, "list the notices of every organisation", NULL, err);
        if (r < 0)
            return r;
    } else {
        char nf[STR_ECHO_BUFSZ + 32], q[STR_ECHO_BUFSZ];
        str_echo(org_name, strlen(org_name), q);
        snprintf(nf, sizeof(nf), "no organisation %s", q);
        r = store_org_get_by_name(svc->store, org_name, &o);
        if (r == LK_ENOTFOUND)
            return lk_error_set(err, r, "%s", nf);
        if (r < 0)
            return lk_error_set(err, r, "could not read the organisation");
        /* Notices name owners and their e-mail addresses: org admins only. */
        r = authz_require(caller, &o, "settings.manage", nf, err);
        if (r < 0)
            return r;
        org_id = o.id;
    }
    r = store_notice_list(svc->store, org_id, status, after, limit, ret);
    if (r < 0)
        return lk_error_set(err, r, "could not read the notices");
    return 0;
}
