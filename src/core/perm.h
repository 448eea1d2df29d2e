/*
 * perm.h - the permission algebra: a fixed catalogue of "resource.action"
 * permissions, implication (X.manage implies X.view), sets as bitmasks,
 * and the built-in roles.
 *
 * Pure: no I/O, no allocation. A permission set is a permset_t bitmask over
 * the catalogue's indices, so subset, union and intersection are single
 * machine operations; every set handed out is closed under implication.
 */
#ifndef LK_CORE_PERM_H
#define LK_CORE_PERM_H

#include <stddef.h>
#include <stdint.h>

struct lk_error;

typedef uint64_t permset_t;

#define PERM_NAME_MAX 48

/* One catalogue entry. */
struct perm_def {
    const char *name;        /* "tokens.manage" */
    const char *description; /* one sentence for GET /v1/permissions */
    const char *implies[4];  /* names this one implies directly; NULL-terminated */
};

/* The catalogue, in index order, and its size (<= 64). */
extern const struct perm_def perm_catalogue[];
extern const size_t perm_catalogue_count;

/* Every permission in the catalogue. */
permset_t perm_all(void);

/* Index of name in the catalogue, or -1. */
int perm_index(const char *name);

/* The set with implications applied until nothing changes. */
permset_t perm_closure(permset_t set);

/*
 * Parses names into a closed set. "*" means every permission. Unknown names
 * are LK_EINVAL with a message naming the first one (and its position) in err
 * (may be NULL); *ret is untouched on failure.
 */
int perm_parse(const char *const *names, size_t n, permset_t *ret, struct lk_error *err);

/*
 * The subset rule: of `requested`, the permissions `holder` has
 * are granted and the rest dropped. Both inputs are closed first; returns
 * the granted set (closed) and the dropped ones in *ret_dropped (may be NULL).
 */
permset_t perm_grant(permset_t requested, permset_t holder, permset_t *ret_dropped);

/* 1 if every permission in a is in b (after closing both). */
int perm_subset(permset_t a, permset_t b);

/*
 * Names of the set's members in catalogue order into out[0..cap); returns
 * how many there are (which may exceed cap: only cap are written).
 */
size_t perm_names(permset_t set, const char **out, size_t cap);

/* Built-in roles. */
enum perm_builtin_role {
    PERM_ROLE_ORG_ADMIN,   /* "org-admin": everything within the org */
    PERM_ROLE_TEAM_OWNER,  /* "team-owner": manage the team, its members, service accounts and their tokens */
    PERM_ROLE_TEAM_MEMBER, /* "team-member": work within the team, read the org */
    PERM_ROLE_VIEWER,      /* "viewer": read everything except secrets */
    PERM_ROLE__COUNT
};

/* "org-admin" etc. */
const char *perm_builtin_role_name(enum perm_builtin_role role);
/* The role's closed set. */
permset_t perm_builtin_role_set(enum perm_builtin_role role);
/* Looks up a built-in role by name; -1 if none. */
int perm_builtin_role_index(const char *name);

/*
 * What a team membership role gives in its team: "owner" the team-owner
 * role, "member" team-member, "viewer" the viewer role and secrets.view
 * (its team's secrets' keys and metadata, never their values); 0 for
 * anything else.
 */
permset_t perm_team_role_set(const char *team_role);

/*
 * What a service account holds by default: read access to
 * everything a human member of its org may read, except secrets.
 */
permset_t perm_service_account_default(void);

/*
 * What every user of an org holds org-wide, whatever their teams: read
 * access to everything but secrets and the audit trail (the viewer set),
 * and the management of their own API tokens. Team roles add to it only
 * inside their team.
 */
permset_t perm_org_member_set(void);

#endif
