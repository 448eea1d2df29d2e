/*
 * vault_policies.h - an organisation's Vault ACL policies, for the
 * Vault-compatible door: write, read, list and delete them, and load the
 * ones a token names into a set the door evaluates per request
 * (core/vault_acl.h).
 *
 * As in Vault, names are lowercased; "root" (everything) and "default"
 * (the token's own lookup, renewal and revocation) are built in and always
 * listed; "root" is never written, neither is ever deleted, and an org may
 * write its own "default", which replaces the built-in one for it.
 *
 * Who may do what: roles.view on the org reads and lists, roles.manage
 * writes and deletes (org admins; the partner admin in any org). A Vault
 * policy only narrows what a token may do on top of its owner's rights,
 * so writing one needs no subset check. Another org's policy answers
 * exactly as a missing one does.
 */
#ifndef LK_SVC_VAULT_POLICIES_H
#define LK_SVC_VAULT_POLICIES_H

#include <stddef.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;
struct vault_acl_set;

/* A name: 1 to this many bytes of [a-z0-9._-], starting with a letter or
 * a digit, after lowercasing. */
#define VAULT_POLICIES_NAME_MAX (STORE_NAME_MAX - 1)
/* Stored policies per org (the built-ins aside). */
#define VAULT_POLICIES_MAX 1000

/*
 * Lowercases name into ret (STORE_NAME_MAX bytes) and checks it: 0, or
 * LK_EINVAL with "name: ..." naming the rule (ret untouched).
 */
int vault_policies_name(const char *name, char ret[STORE_NAME_MAX], struct lk_error *err);

/*
 * Creates or replaces policy name of org (by name) with text[0..len),
 * which must parse (LK_EINVAL "failed to parse policy: line L, column C:
 * ..."). LK_EINVAL for "root" (Vault's "cannot update \"root\" policy"),
 * an empty text, or an org already holding VAULT_POLICIES_MAX others.
 */
int vault_policies_write(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                         const char *text, size_t len, struct lk_error *err);

/*
 * Policy name of org into *ret (its text owned: vault_policy_rec_done).
 * The built-ins read as Vault answers them: "root" with an empty text,
 * "default" with the built-in text unless the org wrote its own (then
 * created_at is 0 and updated_by ""). LK_ENOTFOUND if there is none.
 */
int vault_policies_read(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                        struct vault_policy_rec *ret, struct lk_error *err);

/* The names of org's policies as Vault lists them: the stored ones with
 * "default", in byte order, then "root". Free with name_list_done. */
int vault_policies_list(struct svc *svc, const struct principal *caller, const char *org, struct name_list *ret,
                        struct lk_error *err);

/*
 * Deletes policy name of org. LK_EINVAL for the built-ins (Vault's
 * "cannot delete \"root\" policy", "... \"default\" ..."); LK_ENOTFOUND if
 * there is none (Vault answers that with 204: the door decides).
 */
int vault_policies_delete(struct svc *svc, const struct principal *caller, const char *org, const char *name,
                          struct lk_error *err);

/*
 * What a token of org org_id (by id: the token's) holding the policies
 * names[0..n) may do, as one set for vault_acl_capabilities(): each name
 * is lowercased and loaded from the org, "default" falls back on the
 * built-in, "root" makes the set root, and a name that does not exist is
 * skipped, as Vault skips it. No authorization: the caller is the door,
 * for the token it has verified. *ret is freed with vault_acl_set_free.
 * A stored policy that no longer parses fails the call (LK_EINTEGRITY)
 * rather than being skipped.
 */
int vault_policies_acl(struct svc *svc, const char *org_id, const char *const *names, size_t n,
                       struct vault_acl_set **ret, struct lk_error *err);

#endif
