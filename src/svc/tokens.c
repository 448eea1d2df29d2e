/*
 * tokens.c - API token use cases.
 *
 * Never stores, logs or returns a token's secret except in the one create
 * answer; only its SHA-256 reaches the store. Never lets a caller see or
 * touch another principal's token: such ids answer LK_ENOTFOUND.
 */
#include "lib/str.h"
#include "svc/tokens.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/rfc3339.h"
#include "core/secret.h"
#include "core/tokfmt.h"
#include "core/perm.h"
#include "svc/authz.h"
#include "svc/groups.h"
#include "svc/notices.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"
#include "svc/token_cache.h"

void tokens_created_done(struct token_created *c) {
    if (c == NULL)
        return;
    explicit_bzero(c->token, sizeof(c->token));
    token_rec_done(&c->rec);
    free(c->dropped_json);
    c->dropped_json = NULL;
}

const char *tokens_status(int64_t expires_at, int64_t now) {
    if (expires_at == 0)
        return "active";
    if (now >= expires_at)
        return "expired";
    if (expires_at - now <= TOKENS_EXPIRING_WINDOW)
        return "expiring";
    return "active";
}

static enum tok_kind kind_for(enum principal_type t) {
    switch (t) {
    case PRINCIPAL_ROOT: return TOK_KIND_ROOT;
    case PRINCIPAL_SA: return TOK_KIND_SA;
    case PRINCIPAL_WORKLOAD: return TOK_KIND_WORKLOAD;
    default: return TOK_KIND_USER;
    }
}

/* A policy name: 1..TOKENS_POLICY_NAME_MAX of [A-Za-z0-9._:*-] (upper case
 * too, so a request naming another system's policies, such as
 * "deleteNamespace", has them dropped rather than refused). */
static int policy_name_ok(const char *p) {
    size_t n = strlen(p);
    if (n == 0 || n > TOKENS_POLICY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '*' || c == '-'))
            return 0;
    }
    return 1;
}

/* The permissions one requested policy names: "*", a catalogue permission,
 * or a built-in or custom role (roles expand to their permissions). 0 for a
 * name that is none of these. */
static permset_t policy_set(struct svc *svc, const char *org_id, const char *name) {
    if (strcmp(name, "*") == 0)
        return perm_all();
    int idx = perm_index(name);
    if (idx >= 0)
        return perm_closure((permset_t)1 << idx);
    uint64_t rs = 0;
    if (org_id != NULL && roles_resolve(svc, org_id, name, &rs) == 0)
        return rs;
    return 0;
}

/* The set a stored policy list names ("*" = every permission). */
static permset_t stored_policies(const struct token_rec *rec) {
    permset_t set = 0;
    for (size_t i = 0; i < rec->npolicies; i++) {
        const char *name = rec->policies[i];
        if (strcmp(name, "*") == 0)
            return perm_all();
        int idx = perm_index(name);
        if (idx >= 0)
            set |= (permset_t)1 << idx;
    }
    return perm_closure(set);
}

static int same_principal(const struct principal *p, const struct token_owner *owner) {
    return p->type == owner->type && strcmp(p->id, owner->id) == 0;
}

/*
 * The subset rule (a token receives only the permissions its creator
 * holds), against the calling token: of the requested policies, the new
 * token receives those within ceiling (what the calling token may do where
 * the new one will act); the rest are dropped and reported, and the token
 * is still created. "*" (or no policies) means all
 * of ceiling. It is stored as "*" (everything the owner may do at the time
 * of each request) only where that can never exceed the caller: the caller
 * holds every permission there, or the token is the caller's own and the
 * calling token is itself unnarrowed. Otherwise the granted permissions are
 * stored by catalogue name, so a narrowed token never mints a wider one.
 */
static int policies_decide(struct svc *svc, const struct principal *caller, const struct token_owner *owner,
                           permset_t ceiling, const struct token_create_in *in, const char *ret[STORE_POLICIES_MAX],
                           size_t *ret_n, char **ret_dropped, struct lk_error *err) {
    int r = 0, star = !in->has_policies;
    const char *org_id = owner->org_id[0] ? owner->org_id : NULL;
    permset_t granted = 0;
    json_t *dropped = json_array();
    if (dropped == NULL) {
        r = lk_error_set(err, LK_ENOMEM, NULL);
        goto out;
    }
    if (in->npolicies > TOKENS_POLICIES_MAX) {
        r = lk_error_set(err, LK_EINVAL, "policies: at most %d entries", TOKENS_POLICIES_MAX);
        goto out;
    }
    for (size_t i = 0; i < in->npolicies; i++) {
        const char *p = in->policies[i];
        if (!policy_name_ok(p)) {
            r = lk_error_set(err, LK_EINVAL,
                             "policies[%zu]: must be 1 to %d characters of A-Z, a-z, 0-9, '.', '_', ':', '*', '-'", i,
                             TOKENS_POLICY_NAME_MAX);
            goto out;
        }
        if (strcmp(p, "*") == 0) {
            star = 1;
            continue;
        }
        permset_t want = policy_set(svc, org_id, p);
        if (want != 0 && (want & ~ceiling) == 0) {
            granted |= want;
            continue;
        }
        int dup = 0;
        size_t j;
        json_t *v;
        json_array_foreach(dropped, j, v) dup |= strcmp(json_string_value(v), p) == 0;
        if (!dup)
            json_array_append_new(dropped, json_string(p));
    }
    if (star && (ceiling == perm_all() || (same_principal(caller, owner) && authz_token_unbounded(caller)))) {
        ret[0] = "*";
        *ret_n = 1;
    } else {
        if (star)
            granted |= ceiling;
        /* Catalogue names: at most 64 of them, as many as a token may carry. */
        *ret_n = perm_names(perm_closure(granted & ceiling), ret, STORE_POLICIES_MAX);
    }
    *ret_dropped = json_dumps(dropped, JSON_COMPACT);
    if (*ret_dropped == NULL)
        r = lk_error_set(err, LK_ENOMEM, NULL);
out:
    json_decref(dropped);
    return r;
}

static void created_by_of(const struct principal *p, char *out, size_t cap) {
    char buf[STORE_OWNER_ID_MAX * 2];
    if (p->type == PRINCIPAL_ROOT) {
        str_copy(out, cap, "root");
        return;
    }
    snprintf(buf, sizeof(buf), "%s:%s", principal_type_name(p->type), p->id);
    str_copy(out, cap, buf);
}

static int insert_new(struct svc *svc, enum tok_kind kind, const char *owner_type, const char *owner_id,
                      const char *org_id, const char *created_by, const char *description, const char *const *policies,
                      size_t npolicies, int64_t expires_at, struct token_created *ret, struct lk_error *err) {
    struct token_created c;
    memset(&c, 0, sizeof(c));
    /* What the answer shows is allocated first: once the token is stored,
     * nothing can fail before the secret is handed out. */
    int r = token_rec_set_policies(&c.rec, policies, npolicies);
    if (r == 0 && (c.rec.description = strdup(description)) == NULL)
        r = LK_ENOMEM;
    if (r < 0) {
        r = lk_error_set(err, r, r == LK_ENOMEM ? NULL : "could not store the token's policies");
        goto fail;
    }

    /* A public-id collision is astronomically unlikely; retry a few times anyway. */
    for (int attempt = 0; attempt < 3; attempt++) {
        r = tokfmt_generate(kind, c.token, c.rec.id);
        if (r < 0) {
            r = lk_error_set(err, r, "could not generate a token");
            goto fail;
        }
        secret_hash(c.token, strlen(c.token), c.rec.hash);
        str_copy(c.rec.owner_type, sizeof(c.rec.owner_type), owner_type);
        str_copy(c.rec.owner_id, sizeof(c.rec.owner_id), owner_id);
        str_copy(c.rec.org_id, sizeof(c.rec.org_id), org_id);
        str_copy(c.rec.created_by, sizeof(c.rec.created_by), created_by);
        c.rec.created_at = svc->now;
        c.rec.expires_at = expires_at;
        c.rec.last_used_at = 0;
        r = store_token_insert(svc->store, &c.rec);
        if (r != LK_ECONFLICT)
            break;
        explicit_bzero(c.token, sizeof(c.token));
    }
    if (r < 0) {
        r = lk_error_set(err, r, "could not store the token");
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    tokens_created_done(&c);
    return r;
}

/*
 * The token's expiry: the request (expires, expiry_hours or "never") under
 * the owner's org rules (at most the higher of the org-wide default and the
 * owner's own setting; org admins may set any expiry). Tokens outside any
 * org (the partner admin's) and login sessions (their own fixed lifetime)
 * are not capped.
 */
static int resolve_expiry(struct svc *svc, const struct principal *caller, const struct token_owner *owner,
                          const struct token_create_in *in, int64_t *ret, struct lk_error *err) {
    struct expiry_request req = in->expiry;
    int never = req.expires != NULL && req.expires_len == 5 && memcmp(req.expires, "never", 5) == 0;
    int64_t requested = 0;
    if (never) {
        if (req.has_hours)
            return lk_error_set(err, LK_EINVAL, "give either expires or expiry_hours, not both");
        req.expires = NULL;
        req.expires_len = 0;
    }
    int r = expiry_resolve(&req, svc->now, &requested, err);
    if (r < 0)
        return r;
    if (owner->session || owner->org_id == NULL || owner->org_id[0] == '\0') {
        *ret = requested;
        return 0;
    }
    struct org_rec org;
    r = store_org_get(svc->store, owner->org_id, &org);
    if (r < 0)
        return lk_error_set(err, r, "could not read the organisation's token policy");
    struct expiry_policy pol = {org.token_expiry_hours, 0, org.allow_non_expiring_tokens, 0};
    if (owner->type == PRINCIPAL_USER) {
        struct user_rec u;
        memset(&u, 0, sizeof(u));
        if (store_user_get(svc->store, owner->id, &u) == 0)
            pol.user_hours = u.token_expiry_hours;
        user_rec_done(&u);
    }
    /* Org admins (and the partner admin) may set any expiry. */
    pol.unrestricted =
        caller->type == PRINCIPAL_ROOT || (caller->type == PRINCIPAL_USER && strcmp(caller->org_role, "admin") == 0 &&
                                           strcmp(caller->org_id, owner->org_id) == 0);
    char asked[STR_ECHO_BUFSZ];
    if (in->expiry.expires != NULL)
        str_echo(in->expiry.expires, in->expiry.expires_len, asked);
    else
        snprintf(asked, sizeof(asked), "%lld hours", (long long)in->expiry.hours);
    return expiry_apply_policy(&pol, svc->now, requested, never, asked, ret, err);
}

/* When the calling token expires, if it bounds what it makes: API tokens
 * and service accounts' tokens do; login sessions (a person at a
 * keyboard) and the operator do not. 0 = no bound. */
static int64_t creator_expiry(const struct principal *caller) {
    struct tokfmt_parsed p;
    const struct token_entry *t = caller->token;
    if (t == NULL || t->expires_at == 0)
        return 0;
    if (tokfmt_parse_pubid(t->id, strlen(t->id), &p) == 0 && p.kind == TOK_KIND_SESSION)
        return 0;
    return t->expires_at;
}

/*
 * A token never outlives the token that made it (see creator_expiry): an
 * expiry asked for past that bound is refused, a default one is cut to it.
 */
static int bound_by_creator(const struct principal *caller, const struct token_create_in *in, int64_t *expires_at,
                            struct lk_error *err) {
    int64_t bound = creator_expiry(caller);
    if (bound == 0 || (*expires_at != 0 && *expires_at <= bound))
        return 0;
    if (in->expiry.expires == NULL && !in->expiry.has_hours) {
        *expires_at = bound;
        return 0;
    }
    char when[RFC3339_BUFSZ];
    rfc3339_format(bound, when);
    return lk_error_set(err, LK_EINVAL,
                        "expires: the new token would outlive the token making this request (%s, which expires at "
                        "%s); a token never outlives the token that created it: ask for an expiry at or before "
                        "then, or create it from a login session",
                        caller->token->id, when);
}

int tokens_expiry_bound(struct svc *svc, const struct principal *caller, const struct token_owner *owner, int64_t *ret,
                        struct lk_error *err) {
    /* What a create with no expiry asked for gets: the cap of the owner's
     * rules (none for an unrestricted caller), then the calling token's. */
    struct token_create_in none;
    memset(&none, 0, sizeof(none));
    int64_t bound = 0;
    int r = resolve_expiry(svc, caller, owner, &none, &bound, err);
    if (r < 0)
        return r;
    if (!owner->session && owner->org_id != NULL && owner->org_id[0] != '\0' &&
        (caller->type == PRINCIPAL_ROOT || (caller->type == PRINCIPAL_USER && strcmp(caller->org_role, "admin") == 0 &&
                                            strcmp(caller->org_id, owner->org_id) == 0)))
        bound = 0; /* org admins may set any expiry: resolve_expiry gave the default */
    int64_t creator = creator_expiry(caller);
    if (creator != 0 && (bound == 0 || creator < bound))
        bound = creator;
    *ret = bound;
    return 0;
}

int tokens_create_for(struct svc *svc, const struct principal *caller, const struct token_owner *owner,
                      permset_t ceiling, const struct token_create_in *in, struct token_created *ret,
                      struct lk_error *err) {
    const char *policies[STORE_POLICIES_MAX];
    size_t npolicies = 0;
    char created_by[STORE_OWNER_ID_MAX];
    int64_t expires_at = 0;
    const char *desc = in->description ? in->description : "";
    int r;

    if (strlen(desc) > TOKENS_DESCRIPTION_MAX)
        return lk_error_set(err, LK_EINVAL, "description: at most %d bytes", TOKENS_DESCRIPTION_MAX);
    r = resolve_expiry(svc, caller, owner, in, &expires_at, err);
    if (r == 0)
        r = bound_by_creator(caller, in, &expires_at, err);
    if (r < 0)
        return r;
    char *dropped_json = NULL;
    r = policies_decide(svc, caller, owner, ceiling, in, policies, &npolicies, &dropped_json, err);
    if (r < 0)
        return r;
    created_by_of(caller, created_by, sizeof(created_by));
    r = insert_new(svc, owner->session ? TOK_KIND_SESSION : kind_for(owner->type), principal_type_name(owner->type),
                   owner->id, owner->org_id, created_by, desc, policies, npolicies, expires_at, ret, err);
    if (r == 0)
        ret->dropped_json = dropped_json;
    else
        free(dropped_json);
    return r;
}

/* Requires perm somewhere in the caller's narrowed reach: its own tokens
 * act wherever it does. Fills *ret_reach. */
static int require_own(struct svc *svc, const struct principal *caller, const char *perm, permset_t *ret_reach,
                       struct lk_error *err) {
    int r = svc_reach(svc, caller, 1, ret_reach, err);
    if (r < 0)
        return r;
    if (*ret_reach & ((permset_t)1 << perm_index(perm)))
        return 0;
    return lk_error_set(err, LK_EDENIED,
                        "permission denied: this needs %s, which the credential making this request "
                        "does not hold",
                        perm);
}

int tokens_create(struct svc *svc, const struct principal *caller, const struct token_create_in *in,
                  struct token_created *ret, struct lk_error *err) {
    struct token_owner self = {caller->type, caller->id, caller->org_id, 0};
    permset_t reach = 0;
    int r = require_own(svc, caller, "tokens.manage", &reach, err);
    return r < 0 ? r : tokens_create_for(svc, caller, &self, reach, in, ret, err);
}

/* The store's last_used_at lags by up to the flush interval; the cache
 * knows better for tokens this process has verified. */
static void merge_last_used(struct svc *svc, struct token_rec *rec) {
    struct token_entry *e = token_cache_get(svc->cache, rec->id, svc->now_us);
    if (e == NULL)
        return;
    long long used = atomic_load(&e->last_used);
    if (used > rec->last_used_at)
        rec->last_used_at = used;
    token_entry_unref(e);
}

static int owned_by(const struct token_rec *rec, const struct principal *p) {
    return strcmp(rec->owner_type, principal_type_name(p->type)) == 0 && strcmp(rec->owner_id, p->id) == 0;
}

int tokens_list_for(struct svc *svc, const struct token_owner *owner, int64_t after_seq, int limit,
                    struct token_list *ret, struct lk_error *err) {
    if (limit < 1 || limit > TOKENS_LIST_MAX + 1)
        return lk_error_set(err, LK_EINVAL, "limit: must be between 1 and %d", TOKENS_LIST_MAX);
    int r = store_token_list(svc->store, principal_type_name(owner->type), owner->id, after_seq, limit, ret);
    if (r < 0)
        return lk_error_set(err, r, "could not list tokens");
    for (size_t i = 0; i < ret->count; i++)
        merge_last_used(svc, &ret->items[i]);
    return 0;
}

int tokens_list(struct svc *svc, const struct principal *caller, int64_t after_seq, int limit, struct token_list *ret,
                struct lk_error *err) {
    struct token_owner self = {caller->type, caller->id, caller->org_id, 0};
    permset_t reach;
    int r = require_own(svc, caller, "tokens.view", &reach, err);
    return r < 0 ? r : tokens_list_for(svc, &self, after_seq, limit, ret, err);
}

/* One of caller's tokens, no permission check. */
static int own_get(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
                   struct lk_error *err) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    int r = store_token_get(svc->store, id, &rec);
    if (r == LK_ENOTFOUND || (r == 0 && !owned_by(&rec, caller))) {
        token_rec_done(&rec);
        return lk_error_set(err, LK_ENOTFOUND, "no token %s", id);
    }
    if (r < 0)
        return lk_error_set(err, r, "could not read the token");
    merge_last_used(svc, &rec);
    *ret = rec;
    return 0;
}

int tokens_get(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
               struct lk_error *err) {
    permset_t reach;
    int r = require_own(svc, caller, "tokens.view", &reach, err);
    return r < 0 ? r : own_get(svc, caller, id, ret, err);
}

/*
 * Loads one of caller's tokens for a change (delete, rotate): needs
 * tokens.manage, and the token's permissions must lie within the calling
 * token's, so a narrowed token cannot revoke or take over a wider sibling.
 * Both are compared within what their common owner holds.
 */
static int own_for_change(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
                          struct lk_error *err) {
    permset_t reach, owner_reach;
    int r = require_own(svc, caller, "tokens.manage", &reach, err);
    if (r == 0)
        r = svc_reach(svc, caller, 0, &owner_reach, err);
    if (r == 0)
        r = own_get(svc, caller, id, ret, err);
    if (r < 0)
        return r;
    char what[96];
    snprintf(what, sizeof(what), "token %s", id);
    r = authz_require_within(reach, stored_policies(ret) & owner_reach, what, err);
    if (r < 0)
        token_rec_done(ret);
    return r;
}

int tokens_delete_subtree(struct svc *svc, const char *id, size_t *ret_count) {
    size_t n = 0;
    for (;;) {
        struct name_list below = {0};
        int r = store_vault_token_subtree(svc->store, id, TOKENS_SUBTREE_PAGE, &below);
        if (r < 0)
            return r;
        if (below.count == 0) {
            name_list_done(&below);
            break;
        }
        /* Deepest first: each page leaves the rest of the tree whole. */
        for (size_t i = 0; i < below.count && r == 0; i++) {
            r = notices_cancel_token(svc, below.items[i]);
            if (r == 0)
                r = store_token_delete(svc->store, below.items[i]);
            svc_cache_remove(svc, below.items[i]);
            if (r == LK_ENOTFOUND)
                r = 0;
            n++;
        }
        name_list_done(&below);
        if (r < 0)
            return r;
    }
    if (ret_count != NULL)
        *ret_count = n;
    return 0;
}

/* Deletes token id and the tokens the Vault door made below it
 * (tokens_delete_subtree), cancels their pending notices, and drops them
 * from the cache (now and after commit). */
static int delete_one(struct svc *svc, const char *id, struct lk_error *err) {
    int r = tokens_delete_subtree(svc, id, NULL);
    if (r < 0)
        return lk_error_set(err, r, "could not revoke the tokens made by token %s", id);
    r = notices_cancel_token(svc, id);
    if (r < 0)
        return lk_error_set(err, r, "could not cancel the token's notices");
    r = store_token_delete(svc->store, id);
    svc_cache_remove(svc, id);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, LK_ENOTFOUND, "no token %s", id);
    if (r < 0)
        return lk_error_set(err, r, "could not delete the token");
    return 0;
}

int tokens_get_for_change(struct svc *svc, const struct principal *caller, const char *id, struct token_rec *ret,
                          struct lk_error *err) {
    return own_for_change(svc, caller, id, ret, err);
}

int tokens_delete(struct svc *svc, const struct principal *caller, const char *id, struct lk_error *err) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    int r = own_for_change(svc, caller, id, &rec, err);
    token_rec_done(&rec);
    return r < 0 ? r : delete_one(svc, id, err);
}

int tokens_delete_for(struct svc *svc, const struct token_owner *owner, const char *id, struct lk_error *err) {
    struct token_rec rec;
    memset(&rec, 0, sizeof(rec));
    int r = store_token_get(svc->store, id, &rec);
    int mine =
        r == 0 && strcmp(rec.owner_type, principal_type_name(owner->type)) == 0 && strcmp(rec.owner_id, owner->id) == 0;
    token_rec_done(&rec);
    if (r == LK_ENOTFOUND || (r == 0 && !mine))
        return lk_error_set(err, LK_ENOTFOUND, "no token %s", id);
    if (r < 0)
        return lk_error_set(err, r, "could not read the token");
    return delete_one(svc, id, err);
}

struct rotate_tx {
    struct svc *svc;
    const struct principal *caller;
    struct token_rec old;
    int64_t grace;
    struct token_created created;
    struct lk_error *err;
};

static int rotate_fn(struct store *s, void *arg) {
    struct rotate_tx *t = arg;
    char created_by[STORE_OWNER_ID_MAX];
    struct tokfmt_parsed p;
    created_by_of(t->caller, created_by, sizeof(created_by));
    if (tokfmt_parse_pubid(t->old.id, strlen(t->old.id), &p) != 0)
        return lk_error_set(t->err, LK_EINTERNAL, "token %s has a malformed id", t->old.id);
    /* The new token carries the old one's policies, as they are stored. */
    const char *policies[STORE_POLICIES_MAX];
    for (size_t i = 0; i < t->old.npolicies && i < STORE_POLICIES_MAX; i++)
        policies[i] = t->old.policies[i];
    int r = insert_new(t->svc, p.kind, t->old.owner_type, t->old.owner_id, t->old.org_id, created_by,
                       t->old.description ? t->old.description : "", policies, t->old.npolicies, t->old.expires_at,
                       &t->created, t->err);
    if (r < 0)
        return r;
    /* The old token gets no more notices: deleted, or cut back to the grace
     * period (the new one keeps its expiry and gets them). */
    if (t->grace == 0) {
        r = notices_cancel_token(t->svc, t->old.id);
        if (r == 0)
            r = store_token_delete(s, t->old.id);
    } else {
        int64_t until = t->svc->now + t->grace;
        if (t->old.expires_at != 0 && t->old.expires_at < until)
            until = t->old.expires_at;
        r = store_token_retire(s, t->old.id, t->created.rec.id, until);
        if (r == 0)
            r = notices_retire_token(t->svc, t->old.id);
    }
    if (r < 0) {
        tokens_created_done(&t->created);
        /* Read before this transaction, gone or replaced since: another
         * request rotated or revoked it first. One rotation wins. */
        if (r == LK_ENOTFOUND)
            return lk_error_set(t->err, LK_ECONFLICT, "token %s was rotated or revoked by another request just now",
                                t->old.id);
        return lk_error_set(t->err, r, "could not retire the old token");
    }
    return 0;
}

int tokens_rotate(struct svc *svc, const struct principal *caller, const char *id, int64_t grace_seconds,
                  struct token_created *ret, struct lk_error *err) {
    struct rotate_tx t;
    memset(&t, 0, sizeof(t));
    if (grace_seconds < 0 || grace_seconds > TOKENS_ROTATE_GRACE_MAX)
        return lk_error_set(err, LK_EINVAL, "grace_seconds: must be from 0 to %d", TOKENS_ROTATE_GRACE_MAX);
    int r = own_for_change(svc, caller, id, &t.old, err);
    if (r < 0)
        return r;
    if (t.old.expires_at != 0 && svc->now >= t.old.expires_at) {
        token_rec_done(&t.old);
        return lk_error_set(err, LK_EINVAL, "token %s has expired; create a new one instead", id);
    }
    if (t.old.replaced_by[0] != '\0') {
        r = lk_error_set(err, LK_ECONFLICT, "token %s was rotated already: it was replaced by %s", id,
                         t.old.replaced_by);
        token_rec_done(&t.old);
        return r;
    }
    /* The new secret keeps the old expiry: it must not outlive the caller. */
    int64_t bound = creator_expiry(caller);
    if (bound != 0 && (t.old.expires_at == 0 || t.old.expires_at > bound)) {
        char when[RFC3339_BUFSZ];
        rfc3339_format(bound, when);
        token_rec_done(&t.old);
        return lk_error_set(err, LK_EDENIED,
                            "permission denied: token %s outlives the token making this request (%s, which expires "
                            "at %s); rotate it from a login session or a token that lives as long",
                            id, caller->token->id, when);
    }
    t.svc = svc;
    t.caller = caller;
    t.grace = grace_seconds;
    t.err = err;
    r = store_tx(svc->store, rotate_fn, &t);
    /* The old entry's expiry changed (or it is gone): drop the cached copy. */
    svc_cache_remove(svc, id);
    token_rec_done(&t.old);
    if (r < 0) {
        tokens_created_done(&t.created);
        return err->code ? err->code : lk_error_set(err, r, "could not rotate the token");
    }
    t.created.dropped_json = strdup("[]");
    *ret = t.created;
    return 0;
}

struct root_issue {
    struct svc *svc;
    struct token_created created;
    size_t revoked;
    struct lk_error *err;
};

static int root_issue_tx(struct store *s, void *arg) {
    struct root_issue *ri = arg;
    static const char *const everything[] = {"*"};
    int r = insert_new(ri->svc, TOK_KIND_ROOT, "root", "root", "", "operator", "root token", everything, 1, 0,
                       &ri->created, ri->err);
    if (r < 0)
        return r;
    /* The new token, made just now, has no notices: cancelling all of
     * root's spares it nothing. */
    r = notices_cancel_owner(ri->svc, "root", "root", NULL);
    if (r == 0)
        r = store_token_delete_owner(s, "root", "root", ri->created.rec.id, &ri->revoked);
    if (r < 0) {
        tokens_created_done(&ri->created);
        return lk_error_set(ri->err, r, "could not revoke the old root tokens");
    }
    return 0;
}

int tokens_issue_root(struct svc *svc, char ret_token[TOKFMT_TOKEN_BUFSZ], char ret_id[TOKFMT_PUBID_BUFSZ],
                      size_t *ret_revoked, struct lk_error *err) {
    struct root_issue ri;
    memset(&ri, 0, sizeof(ri));
    ri.svc = svc;
    ri.err = err;
    int r = store_tx(svc->store, root_issue_tx, &ri);
    if (r < 0) {
        tokens_created_done(&ri.created);
        if (err != NULL && err->code == 0)
            lk_error_set(err, r, "could not issue a root token");
        return r;
    }
    memcpy(ret_token, ri.created.token, TOKFMT_TOKEN_BUFSZ);
    memcpy(ret_id, ri.created.rec.id, TOKFMT_PUBID_BUFSZ);
    if (ret_revoked != NULL)
        *ret_revoked = ri.revoked;
    tokens_created_done(&ri.created);
    return 0;
}

int tokens_root_exists(struct svc *svc, int *ret_exists) {
    struct token_list list = {0};
    int r = store_token_list(svc->store, "root", "root", 0, 1, &list);
    if (r < 0)
        return r;
    *ret_exists = list.count > 0;
    token_list_done(&list);
    return 0;
}

struct expired_tx {
    struct svc *svc;
    int64_t cutoff;
    size_t deleted;
};

static int delete_expired_tx(struct store *s, void *arg) {
    struct expired_tx *t = arg;
    int r = notices_cancel_expired(t->svc, t->cutoff);
    return r != 0 ? r : store_token_delete_expired(s, t->cutoff, &t->deleted);
}

int tokens_delete_expired(struct svc *svc, int64_t cutoff, size_t *ret_deleted) {
    struct expired_tx t = {svc, cutoff, 0};
    int r = store_tx(svc->store, delete_expired_tx, &t);
    if (r == 0 && ret_deleted != NULL)
        *ret_deleted = t.deleted;
    return r;
}
