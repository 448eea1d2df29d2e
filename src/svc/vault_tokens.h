/*
 * vault_tokens.h - Vault's token endpoints (/v1/auth/token/...) as use cases
 * over latchkey tokens: create (and create-orphan), lookup, renew and
 * revoke of the caller's own token, of a token named by its secret, or by
 * its accessor (the public id); the use limit (num_uses) and the door's
 * Vault-policy check on its secret paths.
 *
 * A token made here is a latchkey token: the same store, expiry rules,
 * audit, notices and "within" rule as one made natively (it is made by
 * tokens_create for the caller's own owner); the Vault attributes (parent,
 * policies, TTLs, uses, meta) are a row beside it (store_vault_token_*).
 * A token without that row is a native token, shown with defaults.
 */
#ifndef LK_SVC_VAULT_TOKENS_H
#define LK_SVC_VAULT_TOKENS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct svc;
struct principal;
struct lk_error;

/* Vault's default and largest TTL: 768 hours. */
#define VAULT_TOKENS_MAX_TTL INT64_C(2764800)
#define VAULT_TOKENS_DISPLAY_NAME_MAX 128 /* bytes of a requested display_name */
#define VAULT_TOKENS_META_KEYS_MAX 64
#define VAULT_TOKENS_META_VALUE_MAX 512 /* bytes of one meta key or value */
#define VAULT_TOKENS_WARNINGS_MAX 8
#define VAULT_TOKENS_WARNING_LEN 256

/* What a create request asked for; absent members are 0 / NULL. */
struct vault_token_create_in {
    int has_policies; /* 0: inherit the parent's */
    const char *const *policies;
    size_t npolicies;
    const json_t *meta;       /* a JSON object of strings, or NULL */
    const char *display_name; /* NULL: "token" */
    const char *id;           /* a custom token id: refused (latchkey makes its own) */
    int no_parent;            /* no_parent:true or the create-orphan route */
    int no_default_policy;
    int renewable; /* 1 unless the request said false */
    int64_t ttl, explicit_max_ttl, period, num_uses;
};

/* A token as the door shows it: the token, its Vault attributes (defaults
 * for a native token) and, where the caller showed it, its secret. */
struct vault_token_view {
    struct token_rec tok;
    struct vault_token_rec vt;
    int native;                      /* 1: no Vault row; vt holds the defaults */
    char secret[TOKFMT_TOKEN_BUFSZ]; /* the token (create, or the one presented); "" otherwise */
    char warnings[VAULT_TOKENS_WARNINGS_MAX][VAULT_TOKENS_WARNING_LEN];
    size_t nwarnings;
};

/* Wipes the secret and frees what v owns. NULL-safe. */
void vault_token_view_done(struct vault_token_view *v);

/*
 * Creates a child of the calling token (an orphan with no_parent, which
 * needs root or sudo), owned by the caller's owner, in one transaction
 * (the caller's request transaction, or one of its own): the native
 * token (tokens_create: tokens.manage, the within rule, the owner's
 * expiry rules, audit, notices) and its Vault row. Vault's rules: a
 * limited-use parent makes no children; period and orphans need root or
 * sudo; policies within the parent's unless root or sudo (or a parent
 * with no Vault policies of its own: only latchkey rights bound it);
 * "default" added unless no_default_policy; unknown policies warn. On
 * success *ret holds the new token and its secret (wipe with
 * vault_token_view_done). LK_EINVAL (Vault's 400 messages), LK_EDENIED,
 * LK_EBADCRED (the calling token was revoked meanwhile), or a store code.
 */
int vault_tokens_create(struct svc *svc, const struct principal *caller, const struct vault_token_create_in *in,
                        struct vault_token_view *ret, struct lk_error *err);

/* Which token a lookup, renew or revoke names. */
enum vault_token_target {
    VAULT_TARGET_SELF,     /* the calling token */
    VAULT_TARGET_TOKEN,    /* by its secret */
    VAULT_TARGET_ACCESSOR, /* by its public id */
};

/*
 * Looks a token up. The caller may see its own token, its owner's tokens
 * (tokens.view), or any (the partner admin). A token that is unknown,
 * wrong, expired or not the caller's to see answers LK_EDENIED "bad token"
 * (by secret) or LK_EINVAL "invalid accessor" (by accessor), alike.
 * what: the token's secret or accessor (ignored for SELF, which uses
 * presented, the request's credential).
 */
int vault_tokens_lookup(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                        const char *what, const char *presented, struct vault_token_view *ret, struct lk_error *err);

/*
 * Renews a token: its expiry becomes now + increment (0: its creation TTL;
 * a periodic token: its period), capped at its maximum (created +
 * explicit_max_ttl, or + 768 hours unless periodic), at its parent's
 * expiry, and at what the caller could give a new token (the owner's
 * rules, the calling token's expiry), with Vault's warning when capped.
 * Its notices for the old expiry are forgotten so the new one gets its own
 * (docs/notices.md), in the same transaction. A native token, a
 * renewable:false one, one rotated away or one that never expires answers
 * LK_EINVAL "lease is not renewable". Others' tokens: as for a delete
 * (the owner's, within the calling token; or the partner admin).
 */
int vault_tokens_renew(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                       const char *what, const char *presented, int64_t increment, struct vault_token_view *ret,
                       struct lk_error *err);

/*
 * Revokes a token and every token made below it, in one transaction, with
 * their notices; the cache entries are dropped now and after commit.
 * orphan (revoke-orphan; root or sudo): its children become orphans and
 * stay. The caller's own token always; the owner's other tokens with the
 * native delete rules; another owner's as the native routes allow (an org
 * admin a member's token, a team owner a service account's); the partner
 * admin any. By secret: an unknown token is done (0, as Vault answers
 * 204), a known one not the caller's to revoke LK_EDENIED. By accessor:
 * both answer LK_EINVAL "invalid accessor".
 */
int vault_tokens_revoke(struct svc *svc, const struct principal *caller, enum vault_token_target target,
                        const char *what, int orphan, struct lk_error *err);

/*
 * After a request whose credential took its last use (principal
 * token_spent): revokes that token in a transaction of its own, with its
 * notices and cache entries. A token gone already is done. 0 or a store
 * code.
 */
int vault_tokens_spent(struct svc *svc, const struct principal *caller);

/* The capabilities a door path may need, as Vault's policies name them. */
/*
 * The door's Vault-policy check for path (as Vault names it: "secret/a/b";
 * a folder listed ends in '/'): 0 when the calling token has no Vault
 * policies of its own (acl 0: its latchkey rights alone decide, as they
 * already have), or its policies, merged as Vault merges them
 * (svc/vault_policies.h, core/vault_acl.h), grant cap (one VAULT_CAP_*
 * bit) there; else LK_EDENIED "permission denied". Reads the token's row
 * and its org's policies only for tokens made with Vault policies.
 */
int vault_tokens_acl_check(struct svc *svc, const struct principal *caller, const char *path, unsigned cap,
                           struct lk_error *err);

#endif
