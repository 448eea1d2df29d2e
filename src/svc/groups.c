/*
 * groups.c - custom roles and groups (see the header). Changes that alter
 * what users may do drop the org's cached user tokens, so they take effect
 * on the next request.
 */
#include "svc/groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/names.h"
#include "core/perm.h"
#include "lib/str.h"
#include "svc/authz.h"
#include "svc/orgs.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

_Static_assert(GROUPS_ROLES_MAX <= STORE_ROLES_MAX, "a group's roles fit its record");
_Static_assert(PERM_NAME_MAX <= STORE_PERMISSION_NAME_MAX, "catalogue names fit a role's record");

/* A group's roles, written as a JSON list (["a","b"]), have always had to fit
 * this many bytes: the record held that text until store.h's lists became
 * typed. Kept so that what was refused ("roles: too many": eight custom
 * roles with names of sixty-odd characters) still is. */
#define GROUPS_ROLES_TEXT_MAX 511

int roles_resolve(struct svc *svc, const char *org_id, const char *name, uint64_t *ret) {
    int b = perm_builtin_role_index(name);
    if (b >= 0) {
        *ret = perm_builtin_role_set((enum perm_builtin_role)b);
        return 0;
    }
    struct role_rec r;
    int rc = store_role_get(svc->store, org_id, name, &r);
    if (rc < 0)
        return rc;
    permset_t set = 0;
    for (size_t i = 0; i < r.npermissions; i++) {
        int idx = perm_index(r.permissions[i]);
        if (idx >= 0)
            set |= (permset_t)1 << idx;
    }
    *ret = perm_closure(set);
    return 0;
}

/* What a group's roles grant; names that no longer resolve grant nothing. */
static permset_t group_grants(struct svc *svc, const char *org_id, const struct group_rec *g) {
    permset_t set = 0;
    for (size_t i = 0; i < g->nroles; i++) {
        uint64_t rs = 0;
        if (roles_resolve(svc, org_id, g->roles[i], &rs) == 0)
            set |= rs;
    }
    return set;
}

uint64_t groups_user_permset(struct svc *svc, const char *org_id, const char *user_id) {
    struct group_list gl = {0};
    permset_t set = 0;
    if (store_group_list_for_user(svc->store, user_id, &gl) != 0)
        return 0;
    for (size_t g = 0; g < gl.count; g++)
        set |= group_grants(svc, org_id, &gl.items[g]);
    group_list_done(&gl);
    return set;
}

/* Loads the org and requires perm on it. */
static int org_scope(struct svc *svc, const struct principal *caller, const char *org, const char *perm,
                     struct svc_scope *sc, struct lk_error *err) {
    return svc_scope_require(svc, caller, org, NULL, perm, sc, err);
}

/* The subset rule: refuses a set carrying a permission caller lacks. */
static int within_caller(const struct principal *caller, const struct svc_scope *sc, permset_t want, const char *what,
                         struct lk_error *err) {
    return authz_require_within(authz_org_effective(caller, &sc->org), want, what, err);
}

int roles_list(struct svc *svc, const struct principal *caller, const char *org, struct role_list *ret,
               struct lk_error *err) {
    struct svc_scope sc;
    int r = org_scope(svc, caller, org, "roles.view", &sc, err);
    if (r < 0)
        return r;
    r = store_role_list(svc->store, sc.org.id, ret);
    return r < 0 ? lk_error_set(err, r, "could not list roles") : 0;
}

int roles_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 const char *const *perms, size_t nperms, struct role_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    permset_t set = 0;
    int r = org_scope(svc, caller, org, "roles.manage", &sc, err);
    if (r == 0)
        r = name_check_slug("name", name, err);
    if (r < 0)
        return r;
    if (perm_builtin_role_index(name) >= 0)
        return lk_error_set(err, LK_ECONFLICT, "name: %s is a built-in role", name);
    struct lk_error perr = {0};
    if (perm_parse(perms, nperms, &set, &perr) != 0)
        return lk_error_set(err, LK_EINVAL, "permissions: %s", perr.msg);
    char what[96];
    snprintf(what, sizeof(what), "role %s", name);
    if ((r = within_caller(caller, &sc, set, what, err)) < 0)
        return r;
    struct role_rec rec;
    memset(&rec, 0, sizeof(rec));
    str_copy(rec.org_id, sizeof(rec.org_id), sc.org.id);
    str_copy(rec.name, sizeof(rec.name), name);
    /* Store the closed set by name, so the role reads back as what it grants. */
    const char *names[STORE_PERMISSIONS_MAX];
    size_t n = perm_names(set, names, STORE_PERMISSIONS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) >= sizeof(rec.permissions[0]))
            return lk_error_set(err, LK_EINTERNAL, "permission %s has too long a name to store", names[i]);
        str_copy(rec.permissions[i], sizeof(rec.permissions[0]), names[i]);
    }
    rec.npermissions = n;
    rec.created_at = svc->now;
    r = store_role_insert(svc->store, &rec);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: a role named %s already exists in organisation %s", name, sc.org.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the role");
    *ret = rec;
    return 0;
}

int roles_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                 struct lk_error *err) {
    struct svc_scope sc;
    int r = org_scope(svc, caller, org, "roles.manage", &sc, err);
    if (r < 0)
        return r;
    if (perm_builtin_role_index(name) >= 0)
        return lk_error_set(err, LK_EINVAL, "%s is a built-in role and cannot be deleted", name);
    r = store_role_delete(svc->store, sc.org.id, name);
    if (r == LK_ENOTFOUND) {
        char q[STR_ECHO_BUFSZ];
        str_echo(name, strlen(name), q);
        return lk_error_set(err, r, "no role %s in organisation %s", q, sc.org.name);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not delete the role");
    svc_cache_remove_where(svc, sc.org.id, "user", NULL);
    return 0;
}

int groups_create(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                  const char *description, const char *const *roles, size_t nroles, struct group_rec *ret,
                  struct lk_error *err) {
    struct svc_scope sc;
    struct group_rec g;
    memset(&g, 0, sizeof(g));
    int r = org_scope(svc, caller, org, "groups.manage", &sc, err);
    if (r == 0)
        r = name_check_slug("name", name, err);
    if (r < 0)
        return r;
    if (description != NULL && strlen(description) >= sizeof(g.description))
        return lk_error_set(err, LK_EINVAL, "description: at most %zu bytes", sizeof(g.description) - 1);
    if (nroles > GROUPS_ROLES_MAX)
        return lk_error_set(err, LK_EINVAL, "roles: at most %d", GROUPS_ROLES_MAX);
    size_t text = 2; /* the roles as a JSON list: see GROUPS_ROLES_TEXT_MAX */
    for (size_t i = 0; i < nroles; i++) {
        uint64_t rs = 0;
        char what[STR_ECHO_BUFSZ + 8], q[STR_ECHO_BUFSZ];
        str_echo(roles[i], strlen(roles[i]), q);
        if (roles_resolve(svc, sc.org.id, roles[i], &rs) != 0)
            return lk_error_set(err, LK_EINVAL, "roles[%zu]: no role %s in organisation %s", i, q, sc.org.name);
        snprintf(what, sizeof(what), "role %s", q);
        if ((r = within_caller(caller, &sc, rs, what, err)) < 0)
            return r;
        /* Role names are slugs (or built-in names), written in JSON as they are. */
        text += strlen(roles[i]) + 2 + (i > 0);
    }
    if (text > GROUPS_ROLES_TEXT_MAX)
        return lk_error_set(err, LK_EINVAL, "roles: too many");
    for (size_t i = 0; i < nroles; i++)
        str_copy(g.roles[i], sizeof(g.roles[0]), roles[i]);
    g.nroles = nroles;
    if (orgs_new_id("grp_", g.id, sizeof(g.id)) != 0)
        return lk_error_set(err, LK_EINTERNAL, "could not generate an id");
    str_copy(g.org_id, sizeof(g.org_id), sc.org.id);
    str_copy(g.name, sizeof(g.name), name);
    str_copy(g.description, sizeof(g.description), description ? description : "");
    g.created_at = svc->now;
    r = store_group_insert(svc->store, &g);
    if (r == LK_ECONFLICT)
        return lk_error_set(err, r, "name: a group named %s already exists in organisation %s", name, sc.org.name);
    if (r < 0)
        return lk_error_set(err, r, "could not store the group");
    *ret = g;
    return 0;
}

/* Every member's username of group_id, in order, read a page at a time. */
static int member_names(struct svc *svc, const char *group_id, struct name_list *ret) {
    enum { PAGE = 1000 };
    struct name_list all = {0}, page = {0};
    int r;
    do {
        r = store_group_member_names(svc->store, group_id, all.count > 0 ? all.items[all.count - 1] : NULL, PAGE,
                                     &page);
        if (r == 0 && page.count > 0) {
            char(*grown)[STORE_NAME_MAX] = reallocarray(all.items, all.count + page.count, sizeof(*all.items));
            if (grown == NULL) {
                r = LK_ENOMEM;
            } else {
                memcpy(grown + all.count, page.items, page.count * sizeof(*page.items));
                all.items = grown;
                all.count += page.count;
            }
        }
        size_t got = page.count;
        name_list_done(&page);
        if (r != 0 || got < PAGE)
            break;
    } while (1);
    if (r != 0) {
        name_list_done(&all);
        return r;
    }
    *ret = all;
    return 0;
}

void group_info_list_done(struct group_info_list *list) {
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        name_list_done(&list->items[i].members);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int groups_list(struct svc *svc, const struct principal *caller, const char *org, struct group_info_list *ret,
                struct lk_error *err) {
    struct svc_scope sc;
    struct group_list groups = {0};
    struct group_info_list out = {0};
    int r = org_scope(svc, caller, org, "groups.view", &sc, err);
    if (r < 0)
        return r;
    r = store_group_list(svc->store, sc.org.id, &groups);
    if (r < 0)
        return lk_error_set(err, r, "could not list groups");
    if (groups.count > 0 && (out.items = calloc(groups.count, sizeof(*out.items))) == NULL) {
        r = lk_error_set(err, LK_ENOMEM, "could not list groups");
        goto out;
    }
    /* One query a group: an org has few, and at most 1000. */
    for (; out.count < groups.count; out.count++) {
        struct group_info *g = &out.items[out.count];
        g->group = groups.items[out.count];
        r = member_names(svc, g->group.id, &g->members);
        if (r < 0) {
            r = lk_error_set(err, r, "could not list the members of group %s", g->group.name);
            goto out;
        }
    }
    *ret = out;
    out = (struct group_info_list){0};
    r = 0;
out:
    group_info_list_done(&out);
    group_list_done(&groups);
    return r;
}

/* Scope, groups.manage, the group and the user. */
static int member_args(struct svc *svc, const struct principal *caller, const char *org, const char *group,
                       const char *username, struct svc_scope *sc, struct group_rec *g, struct user_rec *u,
                       struct lk_error *err) {
    int r = org_scope(svc, caller, org, "groups.manage", sc, err);
    if (r < 0)
        return r;
    char q[STR_ECHO_BUFSZ];
    r = store_group_get(svc->store, sc->org.id, group, g);
    if (r == LK_ENOTFOUND) {
        str_echo(group, strlen(group), q);
        return lk_error_set(err, r, "no group %s in organisation %s", q, sc->org.name);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not read the group");
    r = store_user_get_by_name(svc->store, sc->org.id, username, u);
    if (r == LK_ENOTFOUND) {
        str_echo(username, strlen(username), q);
        return lk_error_set(err, r, "no user %s in organisation %s", q, sc->org.name);
    }
    return r < 0 ? lk_error_set(err, r, "could not read the user") : 0;
}

int groups_member_put(struct svc *svc, const struct principal *caller, const char *org, const char *group,
                      const char *username, struct lk_error *err) {
    struct svc_scope sc;
    struct group_rec g;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = member_args(svc, caller, org, group, username, &sc, &g, &u, err);
    if (r == 0) {
        /* Joining a group gives its roles: only who holds them may give them. */
        char what[96];
        snprintf(what, sizeof(what), "group %.64s", g.name);
        r = within_caller(caller, &sc, group_grants(svc, sc.org.id, &g), what, err);
    }
    if (r == 0) {
        r = store_group_member_put(svc->store, g.id, u.id, svc->now);
        if (r < 0)
            r = lk_error_set(err, r, "could not change the group");
        else
            svc_cache_remove_where(svc, NULL, "user", u.id);
    }
    user_rec_done(&u);
    return r;
}

int groups_member_delete(struct svc *svc, const struct principal *caller, const char *org, const char *group,
                         const char *username, struct lk_error *err) {
    struct svc_scope sc;
    struct group_rec g;
    struct user_rec u;
    memset(&u, 0, sizeof(u));
    int r = member_args(svc, caller, org, group, username, &sc, &g, &u, err);
    if (r == 0) {
        r = store_group_member_delete(svc->store, g.id, u.id);
        if (r == LK_ENOTFOUND)
            r = lk_error_set(err, r, "%s is not a member of group %s", username, group);
        else if (r < 0)
            r = lk_error_set(err, r, "could not change the group");
        else
            svc_cache_remove_where(svc, NULL, "user", u.id);
    }
    user_rec_done(&u);
    return r;
}
