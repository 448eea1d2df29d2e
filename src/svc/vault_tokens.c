/*
 * vault_tokens.c - Vault's token endpoints as use cases over latchkey
 * tokens (vault_tokens.h): a child is made by tokens_create for the
 * caller's own owner, so every native rule holds (tokens.manage, the within
 * rule, the owner's expiry rules, a child never outliving an API token
 * that made it, audit, notices); Vault's rules (parents, policies, TTLs,
 * uses) are added here, on the row store_vault_token_* keeps beside it.
 *
 * Never shows another owner's token, or says whether one exists, to a
 * caller that may not see it: such a token answers as an unknown one does.
 * Never returns a secret the caller did not present, except the new
 * token's in the create answer.
 */
#include "svc/vault_tokens.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/rfc3339.h"
#include "core/secret.h"
#include "core/tokfmt.h"
#include "core/vault_acl.h"
#include "lib/str.h"
#include "svc/notices.h"
#include "svc/principal.h"
#include "svc/service_accounts.h"
#include "svc/svc.h"
#include "svc/token_cache.h"
#include "svc/tokens.h"
#include "svc/users.h"
#include "svc/vault_policies.h"

/* Vault's own words, which its clients show. */
#define MSG_BAD_TOKEN "bad token"
#define MSG_BAD_ACCESSOR "invalid accessor"
#define MSG_NOT_RENEWABLE "lease is not renewable"

void vault_token_view_done(struct vault_token_view *v) {
    if (v == NULL)
        return;
    explicit_bzero(v->secret, sizeof(v->secret));
    token_rec_done(&v->tok);
    vault_token_rec_done(&v->vt);
}

static void warn(struct vault_token_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct vault_token_view *v, const char *fmt, ...) {
    if (v->nwarnings == VAULT_TOKENS_WARNINGS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->warnings[v->nwarnings++], VAULT_TOKENS_WARNING_LEN, fmt, ap);
    va_end(ap);
}

static int has_policy(const struct vault_token_rec *vt, const char *name) {
    for (size_t i = 0; i < vt->npolicies; i++)
        if (strcmp(vt->policies[i], name) == 0)
            return 1;
    return 0;
}

static int same_owner(const struct token_rec *t, const struct principal *p) {
    return strcmp(t->owner_type, principal_type_name(p->type)) == 0 && strcmp(t->owner_id, p->id) == 0;
}

static int is_self(const struct principal *p, const char *id) {
    return p->token != NULL && strcmp(p->token->id, id) == 0;
}

/* --- policies ---------------------------------------------------------------------- */

/* 1 when org_id holds a policy called name (the built-ins always). */
static int policy_exists(struct svc *svc, const char *org_id, const char *name, int *ret) {
    char lname[STORE_NAME_MAX];
    if (vault_policies_name(name, lname, NULL) != 0) {
        *ret = 0;
        return 0;
    }
    if (strcmp(lname, VAULT_ACL_ROOT) == 0 || strcmp(lname, VAULT_ACL_DEFAULT) == 0 || org_id[0] == '\0') {
        *ret = strcmp(lname, VAULT_ACL_ROOT) == 0 || strcmp(lname, VAULT_ACL_DEFAULT) == 0;
        return 0;
    }
    struct vault_policy_rec rec;
    int r = store_vault_policy_get(svc->store, org_id, lname, &rec);
    if (r == 0)
        vault_policy_rec_done(&rec);
    *ret = r == 0;
    return r == LK_ENOTFOUND ? 0 : r;
}

/* What the Vault policies of vt (a token of org_id) grant on path, as
 * VAULT_CAP_* bits, all of them merged as Vault merges a token's policies;
 * the LIST form when listing. 0 or an error in err. */
static int granted_caps(struct svc *svc, const char *org_id, const struct vault_token_rec *vt, const char *path,
                        int listing, unsigned *ret, struct lk_error *err) {
    const char *names[STORE_POLICIES_MAX];
    size_t n = vt->npolicies < STORE_POLICIES_MAX ? vt->npolicies : STORE_POLICIES_MAX;
    for (size_t i = 0; i < n; i++)
        names[i] = vt->policies[i];
    struct vault_acl_set *set = NULL;
    int r = vault_policies_acl(svc, org_id, names, n, &set, err);
    if (r != 0)
        return r;
    *ret = listing ? vault_acl_capabilities_list(set, path) : vault_acl_capabilities(set, path);
    vault_acl_set_free(set);
    return 0;
}

/* 1 if the token (of org_id) may act with root or sudo on path: the
 * partner admin, or Vault policies of its own granting sudo there. */
static int privileged(struct svc *svc, const struct principal *caller, const struct vault_token_rec *vt,
                      const char *path) {
    if (caller->type == PRINCIPAL_ROOT)
        return 1;
    if (!vt->acl)
        return 0;
    unsigned caps = 0;
    return granted_caps(svc, caller->org_id, vt, path, 0, &caps, NULL) == 0 && (caps & VAULT_CAP_SUDO) != 0;
}

int vault_tokens_acl_check(struct svc *svc, const struct principal *caller, const char *path, unsigned cap,
                           struct lk_error *err) {
    if (caller->token == NULL || !caller->token->vault_acl)
        return 0;
    struct vault_token_rec vt;
    memset(&vt, 0, sizeof(vt));
    int r = store_vault_token_get(svc->store, caller->token->id, &vt);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", caller->token->id);
    if (r < 0)
        return lk_error_set(err, r, "could not read the token's Vault policies");
    unsigned caps = 0;
    r = granted_caps(svc, caller->org_id, &vt, path, cap == VAULT_CAP_LIST, &caps, err);
    vault_token_rec_done(&vt);
    if (r != 0)
        return r;
    if ((caps & cap) == 0)
        return lk_error_set(err, LK_EDENIED, "permission denied: no Vault policy of this token grants %s on %s",
                            vault_acl_cap_name(cap), path);
    return 0;
}

/* --- loading ----------------------------------------------------------------------- */

/* What the door shows for a native token: its description as the display
 * name, "root" or "default", not renewable, no meta, no parent. */
static int native_defaults(const struct token_rec *tok, struct vault_token_rec *vt) {
    memset(vt, 0, sizeof(*vt));
    str_copy(vt->token_id, sizeof(vt->token_id), tok->id);
    str_copy(vt->display_name, sizeof(vt->display_name), tok->description ? tok->description : "");
    const char *pol = strcmp(tok->owner_type, "root") == 0 ? "root" : "default";
    vt->creation_ttl = tok->expires_at != 0 ? tok->expires_at - tok->created_at : 0;
    return vault_token_rec_set_policies(vt, &pol, 1);
}

/* Loads token id and its Vault row (or the defaults) into *v. LK_ENOTFOUND if the token is gone. */
static int load_view(struct svc *svc, const char *id, struct vault_token_view *v) {
    memset(v, 0, sizeof(*v));
    int r = store_token_get(svc->store, id, &v->tok);
    if (r < 0)
        return r;
    r = store_vault_token_get(svc->store, id, &v->vt);
    if (r == LK_ENOTFOUND) {
        v->native = 1;
        r = native_defaults(&v->tok, &v->vt);
    }
    if (r < 0)
        vault_token_view_done(v);
    return r;
}

/* The calling token's Vault row (or the defaults). */
static int load_caller(struct svc *svc, const struct principal *caller, struct vault_token_view *v,
                       struct lk_error *err) {
    if (caller->token == NULL) { /* the operator, in-process: the partner admin */
        memset(v, 0, sizeof(*v));
        v->native = 1;
        const char *pol = "root";
        return vault_token_rec_set_policies(&v->vt, &pol, 1);
    }
    int r = load_view(svc, caller->token->id, v);
    if (r == LK_ENOTFOUND)
        return lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", caller->token->id);
    if (r < 0)
        return lk_error_set(err, r, "could not read the calling token");
    return 0;
}

/*
 * Finds the token a request names into *v (the presented secret kept for
 * SELF and TOKEN). LK_ENOTFOUND for one that is unknown, wrong or expired;
 * the callers decide what that answers. Expired tokens are as gone as
 * Vault's are.
 */
static int find_target(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                       const char *what, const char *presented, struct vault_token_view *v, struct lk_error *err) {
    const char *id = NULL;
    struct tokfmt_parsed parsed;
    const char *secret = NULL;
    switch (target) {
    case VAULT_TARGET_SELF:
        if (caller->token == NULL)
            return lk_error_set(err, LK_EINVAL, "no calling token");
        id = caller->token->id;
        secret = presented;
        break;
    case VAULT_TARGET_TOKEN:
        if (what == NULL || tokfmt_parse(what, strlen(what), &parsed) < 0)
            return LK_ENOTFOUND;
        id = parsed.pubid;
        secret = what;
        break;
    case VAULT_TARGET_ACCESSOR:
        if (what == NULL || tokfmt_parse_pubid(what, strlen(what), &parsed) < 0)
            return LK_ENOTFOUND;
        id = parsed.pubid;
        break;
    }
    int r = load_view(svc, id, v);
    if (r == LK_ENOTFOUND)
        return r;
    if (r < 0)
        return lk_error_set(err, r, "could not read the token");
    if (target == VAULT_TARGET_TOKEN) {
        uint8_t hash[SECRET_HASH_LEN];
        secret_hash(what, strlen(what), hash);
        if (!secret_equal(hash, v->tok.hash, sizeof(hash))) {
            vault_token_view_done(v);
            return LK_ENOTFOUND;
        }
    }
    if (v->tok.expires_at != 0 && svc->now >= v->tok.expires_at) {
        vault_token_view_done(v);
        return LK_ENOTFOUND;
    }
    if (secret != NULL)
        str_copy(v->secret, sizeof(v->secret), secret);
    return 0;
}

/* The answer for a token the caller may not see: as for an unknown one. */
static int unknown(enum vault_token_target target, struct lk_error *err) {
    if (target == VAULT_TARGET_ACCESSOR)
        return lk_error_set(err, LK_EINVAL, MSG_BAD_ACCESSOR);
    return lk_error_set(err, LK_EDENIED, MSG_BAD_TOKEN);
}

/* --- create ------------------------------------------------------------------------ */

/* A policy name as Vault keeps it: trimmed, lower case; 0 if it is not one. */
static int policy_normalize(const char *in, char out[STORE_POLICY_NAME_MAX]) {
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= STORE_POLICY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x21 || c == 0x7f || c == '"' || c == '\\')
            return 0;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return 1;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* Sorts names[0..*n) and drops duplicates, as Vault lists policies. */
static void names_sort_unique(char (*names)[STORE_POLICY_NAME_MAX], size_t *n) {
    qsort(names, *n, sizeof(names[0]), name_cmp);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++)
        if (w == 0 || strcmp(names[w - 1], names[i]) != 0)
            memmove(names[w++], names[i], sizeof(names[0]));
    *n = w;
}

/* Vault's display name: "token-<name>" with runs of other characters than
 * [A-Za-z0-9_-] as '-', no trailing '-'; "token" for none. */
static void display_name_of(const char *name, char out[STORE_VAULT_DISPLAY_NAME_MAX]) {
    str_copy(out, STORE_VAULT_DISPLAY_NAME_MAX, "token");
    if (name == NULL || name[0] == '\0')
        return;
    size_t w = strlen(out);
    out[w++] = '-';
    for (const char *p = name; *p != '\0' && w < STORE_VAULT_DISPLAY_NAME_MAX - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (ok)
            out[w++] = c;
        else if (out[w - 1] != '-')
            out[w++] = '-';
    }
    while (w > 0 && out[w - 1] == '-')
        w--;
    out[w] = '\0';
}

/* Checks meta (an object of strings, within the limits) and encodes it. */
static int meta_encode(const json_t *meta, char **ret, struct lk_error *err) {
    *ret = NULL;
    if (meta == NULL)
        return 0;
    if (!json_is_object(meta))
        return lk_error_set(err, LK_EINVAL, "meta: expected an object of strings");
    if (json_object_size(meta) > VAULT_TOKENS_META_KEYS_MAX)
        return lk_error_set(err, LK_EINVAL, "meta: at most %d keys", VAULT_TOKENS_META_KEYS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)meta, k, v) {
        if (!json_is_string(v))
            return lk_error_set(err, LK_EINVAL, "meta: every value must be a string");
        if (strlen(k) > VAULT_TOKENS_META_VALUE_MAX || json_string_length(v) > VAULT_TOKENS_META_VALUE_MAX)
            return lk_error_set(err, LK_EINVAL, "meta: keys and values of at most %d bytes",
                                VAULT_TOKENS_META_VALUE_MAX);
    }
    if (json_object_size(meta) == 0)
        return 0;
    *ret = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    if (*ret == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    if (strlen(*ret) > STORE_VAULT_META_MAX) {
        free(*ret);
        *ret = NULL;
        return lk_error_set(err, LK_EINVAL, "meta: at most %d bytes as JSON", STORE_VAULT_META_MAX);
    }
    return 0;
}

/*
 * The child's Vault policies (Vault's rules, vault_tokens.h) into
 * ret->vt.policies and its acl, with warnings for names no policy has.
 */
static int child_policies(struct svc *svc, const struct principal *caller, const struct vault_token_rec *parent,
                          int priv, const struct vault_token_create_in *in, struct vault_token_view *ret,
                          struct lk_error *err) {
    char(*names)[STORE_POLICY_NAME_MAX] = calloc(STORE_POLICIES_MAX + 1, sizeof(*names));
    size_t n = 0;
    int r = 0;
    if (names == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    int inherit = !in->has_policies || in->npolicies == 0;
    if (inherit) {
        for (size_t i = 0; i < parent->npolicies && n < STORE_POLICIES_MAX; i++)
            if (!(in->no_default_policy && strcmp(parent->policies[i], "default") == 0))
                memcpy(names[n++], parent->policies[i], sizeof(names[0]));
        ret->vt.acl = parent->acl;
    } else {
        if (in->npolicies > STORE_POLICIES_MAX) {
            r = lk_error_set(err, LK_EINVAL, "policies: at most %d entries", STORE_POLICIES_MAX);
            goto out;
        }
        for (size_t i = 0; i < in->npolicies; i++) {
            if (!policy_normalize(in->policies[i], names[n])) {
                r = lk_error_set(err, LK_EINVAL, "policies[%zu]: not a policy name", i);
                goto out;
            }
            /* "root" only from a parent that has it; the rest within the
             * parent's unless root or sudo, or a parent with no Vault
             * policies of its own (only latchkey rights bound it). */
            int is_root = strcmp(names[n], "root") == 0;
            if (strcmp(names[n], "default") != 0 &&
                ((is_root && !has_policy(parent, "root")) ||
                 (!is_root && !priv && parent->acl && !has_policy(parent, names[n])))) {
                r = lk_error_set(err, LK_EINVAL, "child policies must be subset of parent");
                goto out;
            }
            n++;
        }
        ret->vt.acl = 1;
    }
    names_sort_unique(names, &n);
    int root = 0, dflt = 0;
    for (size_t i = 0; i < n; i++) {
        root |= strcmp(names[i], "root") == 0;
        dflt |= strcmp(names[i], "default") == 0;
    }
    if (!in->no_default_policy && !root && !dflt && n < STORE_POLICIES_MAX) {
        str_copy(names[n++], sizeof(names[0]), "default");
        names_sort_unique(names, &n);
    }
    const char *ptrs[STORE_POLICIES_MAX];
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = names[i];
        int exists = 1;
        r = policy_exists(svc, caller->org_id, names[i], &exists);
        if (r < 0) {
            r = lk_error_set(err, r, "could not read the Vault policies");
            goto out;
        }
        if (!exists)
            warn(ret, "Policy \"%s\" does not exist", names[i]);
    }
    r = vault_token_rec_set_policies(&ret->vt, ptrs, n);
    if (r < 0)
        r = lk_error_set(err, r, NULL);
out:
    free(names);
    return r;
}

struct create_tx {
    struct svc *svc;
    const struct principal *caller;
    struct token_create_in native;
    struct vault_token_view *ret;
    struct lk_error *err;
};

static int create_fn(struct store *s, void *arg) {
    struct create_tx *t = arg;
    const struct principal *caller = t->caller;
    /* The parent was verified before this transaction took the write lock:
     * a revocation may have committed since. A child written now would
     * outlive it, so check again under the lock. */
    if (caller->token != NULL) {
        struct token_rec p;
        memset(&p, 0, sizeof(p));
        int r = store_token_get(s, caller->token->id, &p);
        token_rec_done(&p);
        if (r == LK_ENOTFOUND)
            return lk_error_set(t->err, LK_EBADCRED, "token %s is unknown or has been revoked", caller->token->id);
        if (r < 0)
            return lk_error_set(t->err, r, "could not read the calling token");
    }
    struct token_created c;
    memset(&c, 0, sizeof(c));
    int r = tokens_create(t->svc, caller, &t->native, &c, t->err);
    if (r < 0)
        return r;
    memcpy(t->ret->secret, c.token, sizeof(t->ret->secret));
    t->ret->tok = c.rec;
    memset(&c.rec, 0, sizeof(c.rec));
    tokens_created_done(&c);
    str_copy(t->ret->vt.token_id, sizeof(t->ret->vt.token_id), t->ret->tok.id);
    r = store_vault_token_insert(s, &t->ret->vt);
    if (r < 0)
        return lk_error_set(t->err, r, "could not store the token's Vault attributes");
    return 0;
}

int vault_tokens_create(struct svc *svc, const struct principal *caller, const struct vault_token_create_in *in,
                        struct vault_token_view *ret, struct lk_error *err) {
    struct vault_token_view parent;
    memset(ret, 0, sizeof(*ret));
    int r = load_caller(svc, caller, &parent, err);
    if (r < 0)
        return r;
    int priv = privileged(svc, caller, &parent.vt, "auth/token/create");
    char *meta = NULL;
    if (in->id != NULL && in->id[0] != '\0') {
        r = lk_error_set(err, LK_EINVAL,
                         "id: latchkey makes its own token ids; a custom id cannot be given (leave id out)");
        goto fail;
    }
    if (parent.vt.num_uses > 0) {
        r = lk_error_set(err, LK_EINVAL, "restricted use token cannot generate child tokens");
        goto fail;
    }
    if (in->num_uses < 0) {
        r = lk_error_set(err, LK_EINVAL, "number of uses cannot be negative");
        goto fail;
    }
    if (in->period > 0 && !priv) {
        r = lk_error_set(err, LK_EINVAL, "root or sudo privileges required to create periodic token");
        goto fail;
    }
    if (in->no_parent && !priv) {
        r = lk_error_set(err, LK_EINVAL, "root or sudo privileges required to create orphan token");
        goto fail;
    }
    if (in->display_name != NULL && strlen(in->display_name) > VAULT_TOKENS_DISPLAY_NAME_MAX) {
        r = lk_error_set(err, LK_EINVAL, "display_name: at most %d bytes", VAULT_TOKENS_DISPLAY_NAME_MAX);
        goto fail;
    }
    if ((r = meta_encode(in->meta, &meta, err)) < 0 ||
        (r = child_policies(svc, caller, &parent.vt, priv, in, ret, err)) < 0)
        goto fail;

    /* TTL: the request's (or Vault's default), a periodic token's period,
     * at most explicit_max_ttl and Vault's maximum; then within what the
     * native rules give a new token of this owner made by this token. */
    int64_t ttl = in->ttl > 0 ? in->ttl : VAULT_TOKENS_MAX_TTL;
    if (in->period > 0)
        ttl = in->period;
    if (in->explicit_max_ttl > 0 && ttl > in->explicit_max_ttl)
        ttl = in->explicit_max_ttl;
    if (ttl > VAULT_TOKENS_MAX_TTL)
        ttl = VAULT_TOKENS_MAX_TTL;
    struct token_owner self = {caller->type, caller->id, caller->org_id, 0};
    int64_t bound = 0, expires_at = svc->now + ttl;
    r = tokens_expiry_bound(svc, caller, &self, &bound, err);
    if (r < 0)
        goto fail;
    if (bound != 0 && expires_at > bound)
        expires_at = bound;
    if (expires_at <= svc->now) {
        r = lk_error_set(err, LK_EINVAL, "ttl: the calling token expires too soon to make a child");
        goto fail;
    }

    struct vault_token_rec *vt = &ret->vt;
    str_copy(vt->parent_id, sizeof(vt->parent_id), in->no_parent || caller->token == NULL ? "" : caller->token->id);
    display_name_of(in->display_name, vt->display_name);
    vt->meta = meta;
    meta = NULL;
    vt->renewable = in->renewable != 0;
    vt->creation_ttl = expires_at - svc->now; /* what it got, after every cap */
    vt->explicit_max_ttl = in->explicit_max_ttl;
    vt->period = in->period;
    vt->num_uses = vt->uses_left = in->num_uses;

    char when[RFC3339_BUFSZ];
    rfc3339_format(expires_at, when);
    struct create_tx t;
    memset(&t, 0, sizeof(t));
    t.svc = svc;
    t.caller = caller;
    t.native.description = vt->display_name;
    t.native.expiry.expires = when;
    t.native.expiry.expires_len = strlen(when);
    t.ret = ret;
    t.err = err;
    r = store_tx(svc->store, create_fn, &t);
    if (r < 0) {
        if (err->code == 0)
            lk_error_set(err, r, "could not create the token");
        r = err->code;
        goto fail;
    }
    vault_token_view_done(&parent);
    return 0;
fail:
    free(meta);
    vault_token_view_done(&parent);
    vault_token_view_done(ret);
    memset(ret, 0, sizeof(*ret));
    return r;
}

/* --- lookup ------------------------------------------------------------------------ */

int vault_tokens_lookup(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                        const char *what, const char *presented, struct vault_token_view *ret, struct lk_error *err) {
    int r = find_target(svc, caller, target, what, presented, ret, err);
    if (r == LK_ENOTFOUND)
        return target == VAULT_TARGET_SELF
                   ? lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", caller->token->id)
                   : unknown(target, err);
    if (r < 0)
        return r;
    /* Its own token always (Vault's default policy); the owner's others
     * with tokens.view; the partner admin any. */
    if (is_self(caller, ret->tok.id) || caller->type == PRINCIPAL_ROOT)
        return 0;
    struct token_rec check;
    memset(&check, 0, sizeof(check));
    struct lk_error ignored = {0};
    int ok = same_owner(&ret->tok, caller) && tokens_get(svc, caller, ret->tok.id, &check, &ignored) == 0;
    token_rec_done(&check);
    if (ok)
        return 0;
    vault_token_view_done(ret);
    return unknown(target, err);
}

/* --- renew ------------------------------------------------------------------------- */

/* Go's time.Duration text for whole seconds ("1h0m0s", "2m30s", "45s"), as Vault's warnings say it. */
static void go_duration(int64_t s, char *out, size_t cap) {
    if (s < 60)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, cap, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, cap, "%lldh%lldm%llds", (long long)(s / 3600), (long long)(s % 3600 / 60), (long long)(s % 60));
}

struct renew_tx {
    struct svc *svc;
    const char *id;
    int64_t expires_at;
    struct lk_error *err;
};

static int renew_fn(struct store *s, void *arg) {
    struct renew_tx *t = arg;
    int r = store_token_set_expiry(s, t->id, t->expires_at);
    if (r == 0)
        r = store_vault_token_renewed(s, t->id, t->svc->now);
    /* The notices of the old expiry no longer say the truth: the new
     * expiry gets its own (docs/notices.md, "Renewed tokens"). */
    if (r == 0)
        r = notices_reschedule_token(t->svc, t->id, t->expires_at);
    /* The cached entry carries the old expiry. */
    svc_cache_remove(t->svc, t->id);
    if (r == LK_ENOTFOUND)
        return lk_error_set(t->err, LK_ECONFLICT, "token %s was revoked by another request just now", t->id);
    if (r < 0)
        return lk_error_set(t->err, r, "could not renew the token");
    return 0;
}

int vault_tokens_renew(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                       const char *what, const char *presented, int64_t increment, struct vault_token_view *ret,
                       struct lk_error *err) {
    int r = find_target(svc, caller, target, what, presented, ret, err);
    if (r == LK_ENOTFOUND)
        return target == VAULT_TARGET_SELF
                   ? lk_error_set(err, LK_EBADCRED, "token %s is unknown or has been revoked", caller->token->id)
                   : unknown(target, err);
    if (r < 0)
        return r;
    /* Its own token always; the owner's others as a delete would allow
     * (within the calling token); the partner admin any. */
    if (!is_self(caller, ret->tok.id) && caller->type != PRINCIPAL_ROOT) {
        struct token_rec check;
        memset(&check, 0, sizeof(check));
        struct lk_error ignored = {0};
        int ok =
            same_owner(&ret->tok, caller) && tokens_get_for_change(svc, caller, ret->tok.id, &check, &ignored) == 0;
        token_rec_done(&check);
        if (!ok) {
            vault_token_view_done(ret);
            return unknown(target, err);
        }
    }
    const struct vault_token_rec *vt = &ret->vt;
    if (ret->native || !vt->renewable || ret->tok.expires_at == 0 || ret->tok.replaced_by[0] != '\0') {
        vault_token_view_done(ret);
        return lk_error_set(err, LK_EINVAL, MSG_NOT_RENEWABLE);
    }
    if (increment < 0) {
        vault_token_view_done(ret);
        return lk_error_set(err, LK_EINVAL, "increment: must not be negative");
    }

    int64_t ttl = vt->period > 0 ? vt->period : increment > 0 ? increment : vt->creation_ttl;
    if (ttl > VAULT_TOKENS_MAX_TTL)
        ttl = VAULT_TOKENS_MAX_TTL;
    int64_t want = svc->now + ttl, max = 0;
    if (vt->explicit_max_ttl > 0)
        max = ret->tok.created_at + vt->explicit_max_ttl;
    if (vt->period == 0 && (max == 0 || ret->tok.created_at + VAULT_TOKENS_MAX_TTL < max))
        max = ret->tok.created_at + VAULT_TOKENS_MAX_TTL;
    /* Never past its parent, nor past what the caller could give a new
     * token of this owner (its rules, the calling token's own expiry). */
    if (vt->parent_id[0] != '\0') {
        struct token_rec p;
        memset(&p, 0, sizeof(p));
        if (store_token_get(svc->store, vt->parent_id, &p) == 0 && p.expires_at != 0 &&
            (max == 0 || p.expires_at < max))
            max = p.expires_at;
        token_rec_done(&p);
    }
    struct token_owner owner = {principal_type_from_name(ret->tok.owner_type), ret->tok.owner_id, ret->tok.org_id, 0};
    int64_t bound = 0;
    /* A token renewing itself is not bounded by its own expiry: only
     * another calling token's bounds what it renews. */
    struct principal as = *caller;
    if (is_self(caller, ret->tok.id))
        as.token = NULL;
    r = tokens_expiry_bound(svc, &as, &owner, &bound, err);
    if (r < 0) {
        vault_token_view_done(ret);
        return r;
    }
    if (bound != 0 && (max == 0 || bound < max))
        max = bound;
    int64_t expires_at = want;
    if (max != 0 && expires_at > max) {
        expires_at = max;
        char asked[48], effective[48];
        go_duration(ttl, asked, sizeof(asked));
        go_duration(max > svc->now ? max - svc->now : 0, effective, sizeof(effective));
        warn(ret, "TTL of \"%s\" exceeded the effective max_ttl of \"%s\"; TTL value is capped accordingly", asked,
             effective);
    }
    if (expires_at <= svc->now) {
        vault_token_view_done(ret);
        return lk_error_set(err, LK_EINVAL, MSG_NOT_RENEWABLE);
    }
    struct renew_tx t = {svc, ret->tok.id, expires_at, err};
    r = store_tx(svc->store, renew_fn, &t);
    if (r < 0) {
        vault_token_view_done(ret);
        return err->code ? err->code : lk_error_set(err, r, "could not renew the token");
    }
    ret->tok.expires_at = expires_at;
    ret->vt.last_renewal_at = svc->now;
    return 0;
}

/* --- revoke ------------------------------------------------------------------------ */

/* Deletes another owner's token id through the native use case that lets
 * an org admin (a member's token) or a team owner (a service account's)
 * revoke it: what the native routes allow, no more. */
static int delete_foreign(struct svc *svc, const struct principal *caller, const struct token_rec *tok,
                          struct lk_error *err) {
    struct org_rec org;
    int r = store_org_get(svc->store, tok->org_id, &org);
    if (r < 0)
        return r == LK_ENOTFOUND ? LK_EDENIED : lk_error_set(err, r, "could not read the token's organisation");
    if (strcmp(tok->owner_type, "user") == 0) {
        struct user_rec u;
        memset(&u, 0, sizeof(u));
        r = store_user_get(svc->store, tok->owner_id, &u);
        if (r == 0)
            r = users_token_delete(svc, caller, org.name, u.username, tok->id, err);
        user_rec_done(&u);
        return r;
    }
    if (strcmp(tok->owner_type, "service_account") == 0) {
        struct sa_rec sa;
        struct team_rec team;
        r = store_sa_get(svc->store, tok->owner_id, &sa);
        if (r == 0)
            r = store_team_get_by_id(svc->store, sa.team_id, &team);
        if (r == 0)
            r = sa_token_delete(svc, caller, org.name, team.name, sa.name, tok->id, err);
        return r;
    }
    return LK_EDENIED;
}

struct revoke_tx {
    struct svc *svc;
    const struct principal *caller;
    enum vault_token_target target;
    const char *what;
    int orphan;
    struct lk_error *err;
};

static int revoke_fn(struct store *s, void *arg) {
    struct revoke_tx *t = arg;
    struct svc *svc = t->svc;
    const struct principal *caller = t->caller;
    struct vault_token_view v;
    /* Read under the write lock: the tree cannot grow while it is cut. */
    int r = find_target(svc, caller, t->target, t->what, NULL, &v, t->err);
    if (r == LK_ENOTFOUND)
        return t->target == VAULT_TARGET_ACCESSOR ? unknown(t->target, t->err) : 0; /* Vault: done */
    if (r < 0)
        return r;
    struct token_owner owner = {principal_type_from_name(v.tok.owner_type), v.tok.owner_id, v.tok.org_id, 0};
    if (t->orphan) {
        /* The children stay, as orphans; then the token goes alone. */
        r = store_vault_token_orphan_children(s, v.tok.id, NULL);
        if (r < 0)
            r = lk_error_set(t->err, r, "could not orphan the token's children");
    }
    struct lk_error inner = {0};
    if (r == 0) {
        if (is_self(caller, v.tok.id) || caller->type == PRINCIPAL_ROOT)
            r = tokens_delete_for(svc, &owner, v.tok.id, &inner);
        else if (same_owner(&v.tok, caller))
            r = tokens_delete(svc, caller, v.tok.id, &inner);
        else
            r = delete_foreign(svc, caller, &v.tok, &inner);
        if (r == LK_ENOTFOUND || r == LK_EDENIED) {
            /* Not the caller's to revoke: by accessor as if unknown; by
             * secret the caller holds the token, so saying no tells it
             * nothing it does not know. */
            r = t->target == VAULT_TARGET_ACCESSOR
                    ? unknown(t->target, t->err)
                    : lk_error_set(t->err, LK_EDENIED, "permission denied: %s",
                                   inner.code == LK_EDENIED ? lk_error_message(&inner) : "not a token you may revoke");
        } else if (r < 0) {
            *t->err = inner;
        }
    }
    vault_token_view_done(&v);
    return r;
}

int vault_tokens_revoke(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                        const char *what, int orphan, struct lk_error *err) {
    if (orphan) {
        struct vault_token_view self;
        int r = load_caller(svc, caller, &self, err);
        if (r < 0)
            return r;
        int priv = privileged(svc, caller, &self.vt, "auth/token/revoke-orphan");
        vault_token_view_done(&self);
        if (!priv)
            return lk_error_set(err, LK_EINVAL, "root or sudo privileges required to revoke and orphan");
    }
    struct revoke_tx t = {svc, caller, target, what, orphan, err};
    int r = store_tx(svc->store, revoke_fn, &t);
    if (r < 0)
        return err->code ? err->code : lk_error_set(err, r, "could not revoke the token");
    return 0;
}

/* --- uses ---------------------------------------------------------------------------- */

struct spent_tx {
    struct svc *svc;
    const struct principal *caller;
};

static int spent_fn(struct store *s, void *arg) {
    (void)s;
    struct spent_tx *t = arg;
    const struct principal *p = t->caller;
    struct token_owner owner = {p->type, p->id, p->org_id, 0};
    struct lk_error err = {0};
    int r = tokens_delete_for(t->svc, &owner, p->token->id, &err);
    return r == LK_ENOTFOUND ? 0 : r;
}

int vault_tokens_spent(struct svc *svc, const struct principal *caller) {
    if (caller->token == NULL || !caller->token_spent)
        return 0;
    struct spent_tx t = {svc, caller};
    int r = store_tx(svc->store, spent_fn, &t);
    /* The second removal, after the commit (svc.h). */
    if (r == 0)
        svc_cache_replay(svc);
    else
        svc_cache_forget(svc);
    return r;
}
