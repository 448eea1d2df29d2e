/*
 * principal.c - names of principal types and the principal's lifetime.
 */
#include "svc/principal.h"

#include <string.h>

#include "svc/token_cache.h"

static const char *const type_names[] = {
    [PRINCIPAL_NONE] = "none",          [PRINCIPAL_ROOT] = "root",         [PRINCIPAL_USER] = "user",
    [PRINCIPAL_SA] = "service_account", [PRINCIPAL_WORKLOAD] = "workload",
};

const char *principal_type_name(enum principal_type type) {
    if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
        return "none";
    return type_names[type];
}

enum principal_type principal_type_from_name(const char *name) {
    for (unsigned i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcmp(type_names[i], name) == 0)
            return (enum principal_type)i;
    return PRINCIPAL_NONE;
}

void principal_done(struct principal *p) {
    if (p == NULL)
        return;
    token_entry_unref(p->token);
    p->token = NULL;
}
