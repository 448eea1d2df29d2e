/*
 * perm.c - the permission catalogue, implication closure, the subset rule
 * and the built-in roles.
 *
 * Pure and allocation-free. The catalogue is the single source of
 * permission names: GET /v1/permissions, role definitions and token
 * policies are all checked against it.
 */
#include "core/perm.h"

#include <pthread.h>
#include <string.h>

#include "core/errors.h"
#include "lib/str.h"

/*
 * Order is the bit order: append only, never reorder (stored custom roles
 * and token policies are kept as names, but keep the bits stable anyway).
 * Every X.manage implies X.view; finer actions imply what they build on.
 */
const struct perm_def perm_catalogue[] = {
    {"orgs.view", "See organisations and their status.", {NULL}},
    {"orgs.manage", "Change organisations (partner admin only in practice).", {"orgs.view", NULL}},
    {"settings.view", "See the org's settings, including its token expiry policy.", {NULL}},
    {"settings.manage", "Change the org's settings, including its token expiry policy.", {"settings.view", NULL}},
    {"users.view", "See the org's users.", {NULL}},
    {"users.manage", "Add, change and remove the org's users.", {"users.view", NULL}},
    {"teams.view", "See teams and their members.", {NULL}},
    {"teams.manage", "Create, change and delete teams and their memberships.", {"teams.view", NULL}},
    {"groups.view", "See groups and their members.", {NULL}},
    {"groups.manage", "Create and delete groups and change their members.", {"groups.view", NULL}},
    {"roles.view", "See built-in and custom roles.", {NULL}},
    {"roles.manage", "Create and delete custom roles and grant roles.", {"roles.view", NULL}},
    {"service_accounts.view", "See service accounts and their roles.", {NULL}},
    {"service_accounts.manage",
     "Create, change and delete service accounts and grant them roles.",
     {"service_accounts.view", NULL}},
    {"tokens.view", "See API tokens' metadata (never their secrets).", {NULL}},
    {"tokens.manage", "Create and revoke one's own API tokens.", {"tokens.view", NULL}},
    {"tokens.create_for_others",
     "Create and revoke API tokens on behalf of other users or service accounts (an admin act).",
     {"tokens.manage", NULL}},
    {"secrets.view", "List secrets and their metadata, not their values.", {NULL}},
    {"secrets.read", "Read secret values.", {"secrets.view", NULL}},
    {"secrets.manage", "Write and delete secrets.", {"secrets.read", NULL}},
    {"audit.view", "Read the audit trail.", {NULL}},
    {"permissions.view", "See the permission catalogue.", {NULL}},
    {"permissions.manage", "Change which permissions roles carry.", {"permissions.view", NULL}},
    {"workloads.view", "See a team's workloads and which service accounts they are bound to.", {NULL}},
    {"workloads.manage",
     "Create, change and delete a team's workloads and bind them to its service accounts.",
     {"workloads.view", NULL}},
    {"federation.view", "See the org's trusted foreign token issuers and their rules.", {NULL}},
    {"federation.manage",
     "Create, change and delete trusted issuers, whose tokens may be exchanged for service accounts' identity tokens.",
     {"federation.view", NULL}},
};
const size_t perm_catalogue_count = sizeof(perm_catalogue) / sizeof(perm_catalogue[0]);

_Static_assert(sizeof(perm_catalogue) / sizeof(perm_catalogue[0]) <= 64, "permset_t holds at most 64 permissions");

static permset_t bit(int i) {
    return (permset_t)1 << i;
}

permset_t perm_all(void) {
    return perm_catalogue_count == 64 ? ~(permset_t)0 : bit((int)perm_catalogue_count) - 1;
}

int perm_index(const char *name) {
    for (size_t i = 0; i < perm_catalogue_count; i++)
        if (strcmp(perm_catalogue[i].name, name) == 0)
            return (int)i;
    return -1;
}

/*
 * What each permission implies, transitively, with itself; and the
 * built-in roles' sets. Worked out once from the names in the catalogue:
 * every authorization check takes a closure, and resolving the names each
 * time was a linear strcmp scan per implication (12% of a worker serving
 * an org user's whoami, in perf).
 */
static permset_t closure_of[64];
static permset_t role_sets[PERM_ROLE__COUNT];
static permset_t sa_default;
static permset_t org_member;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static permset_t closure_by_names(permset_t set) {
    permset_t prev;
    do {
        prev = set;
        for (size_t i = 0; i < perm_catalogue_count; i++) {
            if (!(set & bit((int)i)))
                continue;
            for (const char *const *imp = perm_catalogue[i].implies; *imp != NULL; imp++) {
                int j = perm_index(*imp);
                if (j >= 0)
                    set |= bit(j);
            }
        }
    } while (set != prev);
    return set & perm_all();
}

static void make_tables(void);

static void tables(void) {
    pthread_once(&tables_once, make_tables);
}

permset_t perm_closure(permset_t set) {
    tables();
    permset_t out = 0;
    set &= perm_all();
    while (set != 0) {
        int i = __builtin_ctzll(set);
        out |= closure_of[i];
        set &= set - 1;
    }
    return out;
}

int perm_parse(const char *const *names, size_t n, permset_t *ret, struct lk_error *err) {
    permset_t set = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "*") == 0) {
            set = perm_all();
            continue;
        }
        int j = perm_index(names[i]);
        if (j < 0) {
            char q[STR_ECHO_BUFSZ];
            str_echo(names[i], strlen(names[i]), q);
            return lk_error_set(err, LK_EINVAL, "unknown permission \"%s\" (entry %zu)", q, i);
        }
        set |= bit(j);
    }
    *ret = perm_closure(set);
    return 0;
}

permset_t perm_grant(permset_t requested, permset_t holder, permset_t *ret_dropped) {
    requested = perm_closure(requested);
    holder = perm_closure(holder);
    if (ret_dropped != NULL)
        *ret_dropped = requested & ~holder;
    return perm_closure(requested & holder);
}

int perm_subset(permset_t a, permset_t b) {
    a = perm_closure(a);
    b = perm_closure(b);
    return (a & ~b) == 0;
}

size_t perm_names(permset_t set, const char **out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < perm_catalogue_count; i++) {
        if (!(set & bit((int)i)))
            continue;
        if (n < cap)
            out[n] = perm_catalogue[i].name;
        n++;
    }
    return n;
}

static permset_t named(const char *const *names) {
    permset_t set = 0;
    for (; *names != NULL; names++) {
        int j = perm_index(*names);
        if (j >= 0)
            set |= bit(j);
    }
    return closure_by_names(set);
}

static const char *const role_names[PERM_ROLE__COUNT] = {"org-admin", "team-owner", "team-member", "viewer"};

/* Every *.view except secrets and audit: what anyone in the org may read. */
static const char *const viewer_perms[] = {
    "orgs.view",  "settings.view",         "users.view",  "teams.view",       "groups.view",
    "roles.view", "service_accounts.view", "tokens.view", "permissions.view", "workloads.view",
    NULL};

static permset_t role_by_names(enum perm_builtin_role role) {
    /* A team member reads the org, manages its own tokens and reads its team's secrets. */
    static const char *const member_extra[] = {"tokens.manage", "secrets.read", NULL};
    /* A team owner also manages the team, its service accounts and their
     * tokens, and its workloads and what they are bound to. */
    static const char *const owner_extra[] = {"teams.manage",   "service_accounts.manage", "tokens.create_for_others",
                                              "secrets.manage", "workloads.manage",        NULL};
    switch (role) {
    case PERM_ROLE_ORG_ADMIN: return perm_all();
    case PERM_ROLE_TEAM_OWNER: return named(viewer_perms) | named(member_extra) | named(owner_extra);
    case PERM_ROLE_TEAM_MEMBER: return named(viewer_perms) | named(member_extra);
    case PERM_ROLE_VIEWER: return named(viewer_perms);
    default: return 0;
    }
}

permset_t perm_builtin_role_set(enum perm_builtin_role role) {
    if ((unsigned)role >= PERM_ROLE__COUNT)
        return 0;
    tables();
    return role_sets[role];
}

const char *perm_builtin_role_name(enum perm_builtin_role role) {
    return (unsigned)role < PERM_ROLE__COUNT ? role_names[role] : NULL;
}

int perm_builtin_role_index(const char *name) {
    for (int i = 0; i < PERM_ROLE__COUNT; i++)
        if (strcmp(role_names[i], name) == 0)
            return i;
    return -1;
}

permset_t perm_team_role_set(const char *team_role) {
    if (team_role == NULL)
        return 0;
    if (strcmp(team_role, "owner") == 0)
        return perm_builtin_role_set(PERM_ROLE_TEAM_OWNER);
    if (strcmp(team_role, "member") == 0)
        return perm_builtin_role_set(PERM_ROLE_TEAM_MEMBER);
    if (strcmp(team_role, "viewer") == 0) {
        /* A team's viewer also sees its secrets' keys and metadata, never their values. */
        static const char *const secrets_meta[] = {"secrets.view", NULL};
        tables();
        return role_sets[PERM_ROLE_VIEWER] | named(secrets_meta);
    }
    return 0;
}

permset_t perm_service_account_default(void) {
    /* A service account reads everything a human user may read, except secrets. */
    tables();
    return sa_default;
}

permset_t perm_org_member_set(void) {
    tables();
    return org_member;
}

static void make_tables(void) {
    for (size_t i = 0; i < perm_catalogue_count; i++)
        closure_of[i] = closure_by_names(bit((int)i));
    for (int r = 0; r < PERM_ROLE__COUNT; r++)
        role_sets[r] = role_by_names((enum perm_builtin_role)r);
    sa_default = named(viewer_perms);
    static const char *const own_tokens[] = {"tokens.manage", NULL};
    org_member = named(viewer_perms) | named(own_tokens);
}
