/*
 * vault_policies.c - an org's Vault ACL policies (see the header).
 *
 * Every text is parsed before it is stored, so what the store holds is
 * always a policy the door can enforce; the store keeps it verbatim and
 * reads answer it as written. Never decides what a policy grants: that is
 * core/vault_acl.c's, for the door, per request.
 */
#include "svc/vault_policies.h"

#include <stdio.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/errors.h"
#include "core/vault_acl.h"
#include "lib/str.h"
#include "svc/principal.h"
#include "svc/scope.h"
#include "svc/svc.h"

_Static_assert(VAULT_ACL_TEXT_MAX <= STORE_VAULT_POLICY_TEXT_MAX, "a policy the parser accepts fits the store");

static int name_char(char c, int first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c == '-' || c == '_' || c == '.'));
}

int vault_policies_name(const char *name, char ret[STORE_NAME_MAX], struct lk_error *err) {
    char low[STORE_NAME_MAX];
    size_t n = name != NULL ? strnlen(name, STORE_NAME_MAX) : 0;
    int ok = n >= 1 && n <= VAULT_POLICIES_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        ok = name_char(low[i], i == 0);
    }
    if (!ok)
        return lk_error_set(err, LK_EINVAL,
                            "name: 1 to %d characters of letters, digits, '-', '_' and '.', starting with a letter "
                            "or a digit (letters are lowercased)",
                            VAULT_POLICIES_NAME_MAX);
    memcpy(ret, low, n);
    ret[n] = '\0';
    return 0;
}

static void principal_label(const struct principal *p, char out[STORE_PRINCIPAL_MAX]) {
    snprintf(out, STORE_PRINCIPAL_MAX, "%s:%s", principal_type_name(p->type), p->id);
}

/* The org with perm required, and the name lowercased and checked. */
static int scope(struct svc *svc, const struct principal *caller, const char *org, const char *perm, const char *name,
                 struct svc_scope *sc, char lname[STORE_NAME_MAX], struct lk_error *err) {
    int r = svc_scope_require(svc, caller, org, NULL, perm, sc, err);
    if (r == 0 && name != NULL)
        r = vault_policies_name(name, lname, err);
    return r;
}

static int not_found(const struct svc_scope *sc, const char *name, struct lk_error *err) {
    return lk_error_set(err, LK_ENOTFOUND, "no policy %s in organisation %s", name, sc->org.name);
}

/* 1 when text[0..len) is made of base64's characters in blocks of four. */
static int base64_text(const char *text, size_t len) {
    if (len == 0 || len % 4 != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                 (c == '=' && i >= len - 2);
        if (!ok)
            return 0;
    }
    return 1;
}

int vault_policies_write(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                         const char *text, size_t len, struct lk_error *err) {
    struct svc_scope sc;
    char lname[STORE_NAME_MAX];
    int r = scope(svc, caller, org, "roles.manage", name, &sc, lname, err);
    if (r != 0)
        return r;
    if (strcmp(lname, VAULT_ACL_ROOT) == 0)
        return lk_error_set(err, LK_EINVAL, "cannot update \"root\" policy");
    if (text == NULL || len == 0)
        return lk_error_set(err, LK_EINVAL, "'policy' parameter not supplied or empty");
    struct vault_acl_policy *parsed = NULL;
    struct lk_error perr = {0};
    r = vault_acl_parse(text, len, &parsed, &perr);
    vault_acl_policy_free(parsed);
    /* Vault also takes the policy base64-encoded: a text that does not
     * parse and decodes as base64 is tried decoded (no policy is valid
     * base64: it needs quotes and braces). */
    unsigned char *decoded = NULL;
    if (r == LK_EINVAL && base64_text(text, len)) {
        decoded = malloc(len / 4 * 3 + 1);
        int n = decoded != NULL ? EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)len) : -1;
        while (n > 0 && len >= 1 && text[len - 1] == '=') { /* EVP_DecodeBlock counts the padding */
            n--;
            len--;
        }
        if (n > 0 && vault_acl_parse((const char *)decoded, (size_t)n, &parsed, NULL) == 0) {
            vault_acl_policy_free(parsed);
            text = (const char *)decoded;
            len = (size_t)n;
            r = 0;
        }
    }
    if (r != 0)
        free(decoded);
    if (r == LK_EINVAL)
        return lk_error_set(err, r, "failed to parse policy: %s", perr.msg);
    if (r != 0)
        return lk_error_set(err, r, NULL);

    struct vault_policy_rec rec;
    memset(&rec, 0, sizeof(rec));
    str_copy(rec.org_id, sizeof(rec.org_id), sc.org.id);
    str_copy(rec.name, sizeof(rec.name), lname);
    rec.created_at = rec.updated_at = svc->now;
    principal_label(caller, rec.updated_by);
    rec.text = malloc(len + 1);
    if (rec.text != NULL) {
        memcpy(rec.text, text, len);
        rec.text[len] = '\0';
    }
    free(decoded);
    if (rec.text == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);

    /* A new name must leave room under the limit: count under the write lock. */
    struct vault_policy_rec old;
    r = store_request_lock(svc->store);
    if (r == 0)
        r = store_vault_policy_get(svc->store, sc.org.id, lname, &old);
    if (r == 0) {
        vault_policy_rec_done(&old);
    } else if (r == LK_ENOTFOUND) {
        struct name_list nl = {0};
        r = store_vault_policy_names(svc->store, sc.org.id, "", VAULT_POLICIES_MAX, &nl);
        size_t count = nl.count;
        name_list_done(&nl);
        if (r == 0 && count >= VAULT_POLICIES_MAX) {
            vault_policy_rec_done(&rec);
            return lk_error_set(err, LK_EINVAL, "organisation %s already has %d policies, the most it may hold",
                                sc.org.name, VAULT_POLICIES_MAX);
        }
    }
    if (r == 0)
        r = store_vault_policy_put(svc->store, &rec);
    vault_policy_rec_done(&rec);
    return r != 0 ? lk_error_set(err, r, "could not store the policy") : 0;
}

int vault_policies_read(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                        struct vault_policy_rec *ret, struct lk_error *err) {
    struct svc_scope sc;
    char lname[STORE_NAME_MAX];
    int r = scope(svc, caller, org, "roles.view", name, &sc, lname, err);
    if (r == LK_EINVAL)
        return lk_error_set(err, LK_ENOTFOUND, "no policy by that name in organisation %s", sc.org.name);
    if (r != 0)
        return r;
    int root = strcmp(lname, VAULT_ACL_ROOT) == 0;
    if (!root) {
        r = store_vault_policy_get(svc->store, sc.org.id, lname, ret);
        if (r == 0)
            return 0;
        if (r != LK_ENOTFOUND)
            return lk_error_set(err, r, "could not read the policy");
        if (strcmp(lname, VAULT_ACL_DEFAULT) != 0)
            return not_found(&sc, lname, err);
    }
    struct vault_policy_rec rec;
    memset(&rec, 0, sizeof(rec));
    str_copy(rec.org_id, sizeof(rec.org_id), sc.org.id);
    str_copy(rec.name, sizeof(rec.name), lname);
    const char *text = root ? "" : vault_acl_default_text();
    size_t len = strlen(text);
    rec.text = malloc(len + 1);
    if (rec.text == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    memcpy(rec.text, text, len + 1);
    *ret = rec;
    return 0;
}

/* Appends s to list (grown one at a time: lists are short). */
static int list_add(struct name_list *list, const char *s) {
    char(*items)[STORE_NAME_MAX] = realloc(list->items, (list->count + 1) * sizeof(*items));
    if (items == NULL)
        return LK_ENOMEM;
    list->items = items;
    str_copy(list->items[list->count++], STORE_NAME_MAX, s);
    return 0;
}

int vault_policies_list(struct svc *svc, const struct principal *caller, const char *org, struct name_list *ret,
                        struct lk_error *err) {
    struct svc_scope sc;
    int r = scope(svc, caller, org, "roles.view", NULL, &sc, NULL, err);
    if (r != 0)
        return r;
    struct name_list stored = {0}, out = {0};
    r = store_vault_policy_names(svc->store, sc.org.id, "", VAULT_POLICIES_MAX, &stored);
    if (r != 0)
        return lk_error_set(err, r, "could not list the policies");
    int have_default = 0;
    for (size_t i = 0; r == 0 && i <= stored.count; i++) {
        const char *name = i < stored.count ? stored.items[i] : NULL;
        if (!have_default && (name == NULL || strcmp(name, VAULT_ACL_DEFAULT) >= 0)) {
            have_default = 1;
            if (name == NULL || strcmp(name, VAULT_ACL_DEFAULT) != 0)
                r = list_add(&out, VAULT_ACL_DEFAULT);
        }
        if (r == 0 && name != NULL && strcmp(name, VAULT_ACL_ROOT) != 0)
            r = list_add(&out, name);
    }
    if (r == 0)
        r = list_add(&out, VAULT_ACL_ROOT);
    name_list_done(&stored);
    if (r != 0) {
        name_list_done(&out);
        return lk_error_set(err, r, NULL);
    }
    *ret = out;
    return 0;
}

int vault_policies_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                          struct lk_error *err) {
    struct svc_scope sc;
    char lname[STORE_NAME_MAX];
    int r = scope(svc, caller, org, "roles.manage", name, &sc, lname, err);
    if (r != 0)
        return r;
    if (strcmp(lname, VAULT_ACL_ROOT) == 0 || strcmp(lname, VAULT_ACL_DEFAULT) == 0)
        return lk_error_set(err, LK_EINVAL, "cannot delete \"%s\" policy", lname);
    r = store_vault_policy_delete(svc->store, sc.org.id, lname);
    if (r == LK_ENOTFOUND)
        return not_found(&sc, lname, err);
    return r != 0 ? lk_error_set(err, r, "could not delete the policy") : 0;
}

/* Loads and parses one named policy of org_id into *ret (NULL: none by
 * that name, skipped). */
static int load_one(struct svc *svc, const char *org_id, const char *name, struct vault_acl_policy **ret,
                    struct lk_error *err) {
    struct vault_policy_rec rec;
    const char *text;
    *ret = NULL;
    int r = store_vault_policy_get(svc->store, org_id, name, &rec);
    if (r == LK_ENOTFOUND && strcmp(name, VAULT_ACL_DEFAULT) != 0)
        return 0;
    if (r != 0 && r != LK_ENOTFOUND)
        return lk_error_set(err, r, "could not read policy %s", name);
    text = r == 0 ? rec.text : vault_acl_default_text();
    struct lk_error perr = {0};
    int pr = vault_acl_parse(text, strlen(text), ret, &perr);
    if (r == 0)
        vault_policy_rec_done(&rec);
    if (pr == LK_EINVAL)
        return lk_error_set(err, LK_EINTEGRITY, "stored policy %s no longer parses: %s", name, perr.msg);
    return pr != 0 ? lk_error_set(err, pr, NULL) : 0;
}

int vault_policies_acl(struct svc *svc, const char *org_id, const char *const *names, size_t n,
                       struct vault_acl_set **ret, struct lk_error *err) {
    if (org_id == NULL || (names == NULL && n > 0))
        return lk_error_set(err, LK_EINVAL, "no organisation or policies given");
    struct vault_acl_policy **pols = calloc(n > 0 ? n : 1, sizeof(*pols));
    if (pols == NULL)
        return lk_error_set(err, LK_ENOMEM, NULL);
    int root = 0, r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        char lname[STORE_NAME_MAX];
        if (vault_policies_name(names[i], lname, NULL) != 0)
            continue; /* no policy can have that name */
        if (strcmp(lname, VAULT_ACL_ROOT) == 0) {
            root = 1;
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = names[j] != NULL && strcasecmp(names[j], lname) == 0;
        if (!dup)
            r = load_one(svc, org_id, lname, &pols[i], err);
    }
    if (r == 0) {
        r = vault_acl_set_new((const struct vault_acl_policy *const *)pols, n, root, ret);
        if (r != 0)
            lk_error_set(err, r, NULL);
    }
    for (size_t i = 0; i < n; i++)
        vault_acl_policy_free(pols[i]);
    free(pols);
    return r;
}
