/*
 * vault_acl.h - Vault's ACL policy language, the subset latchkey's Vault
 * door speaks: parsing a policy document, and deciding which capabilities
 * a set of policies grants on a request path.
 *
 * The language is an HCL subset: any number of blocks
 *     path "<pattern>" { capabilities = ["read", "list"] }
 * with comments (#, //, slash-star blocks), whitespace and newlines wherever
 * HCL allows them, commas between list items optional (a trailing one too),
 * and strings with \" and \\ escapes. Anything else is LK_EINVAL with
 * "line L, column C: expected ..." (columns count characters from 1).
 *
 * Patterns are as Vault's: a leading '/' is dropped; '*' only as the last
 * character makes a prefix glob; a segment that is exactly '+' matches any
 * one path segment (a '+' inside a segment is literal); "+*" is refused.
 * Evaluation is Vault's ACL: rules with identical patterns across all the
 * policies are merged (union; deny in either leaves only deny), an exact
 * pattern beats every glob, and among the globs that match the one of
 * highest priority wins:
 *   1. its first wildcard ('+' or the glob) comes later;
 *   2. it does not end in '*';
 *   3. it has fewer '+' segments;
 *   4. it is longer (without the '*');
 *   5. it is greater byte-wise.
 * Deny in the winning rule grants nothing.
 *
 * Pure: no I/O. Parsed policies and sets are immutable once made, so a
 * set may be read from several threads at once.
 */
#ifndef LK_CORE_VAULT_ACL_H
#define LK_CORE_VAULT_ACL_H

#include <stddef.h>

struct lk_error;

/* Limits of one policy document. */
#define VAULT_ACL_TEXT_MAX (64 * 1024) /* bytes */
#define VAULT_ACL_PATHS_MAX 256        /* path blocks */
#define VAULT_ACL_PATTERN_MAX 512      /* bytes of one pattern, as decoded */

/* Capabilities, as bits. */
enum vault_cap {
    VAULT_CAP_CREATE = 1u << 0,
    VAULT_CAP_READ = 1u << 1,
    VAULT_CAP_UPDATE = 1u << 2,
    VAULT_CAP_DELETE = 1u << 3,
    VAULT_CAP_LIST = 1u << 4,
    VAULT_CAP_SUDO = 1u << 5,
    VAULT_CAP_DENY = 1u << 6,
};
/* Everything the root policy grants. */
#define VAULT_CAP_ALL                                                                                                  \
    (VAULT_CAP_CREATE | VAULT_CAP_READ | VAULT_CAP_UPDATE | VAULT_CAP_DELETE | VAULT_CAP_LIST | VAULT_CAP_SUDO)

/* The built-in policies' names. */
#define VAULT_ACL_DEFAULT "default"
#define VAULT_ACL_ROOT "root"

/* "read" etc. for one bit; NULL for anything else. */
const char *vault_acl_cap_name(unsigned bit);

/* Names of caps's bits in Vault's order (create, read, update, delete,
 * list, sudo, deny) into out[0..cap); returns how many there are (which
 * may exceed cap: only cap are written). */
size_t vault_acl_cap_names(unsigned caps, const char **out, size_t cap);

/* The text of the built-in "default" policy, as Vault ships it for the
 * paths this door serves (the token's own lookup, renewal, revocation and
 * capabilities). An org may store its own "default" instead. */
const char *vault_acl_default_text(void);

/* A parsed policy document. */
struct vault_acl_policy;

/*
 * Parses text[0..len) (not NUL-terminated; NUL bytes are refused) into
 * *ret (free with vault_acl_policy_free). 0, or LK_EINVAL with "line L,
 * column C: ..." in err (may be NULL; over VAULT_ACL_TEXT_MAX the message
 * says so instead), or LK_ENOMEM; *ret is untouched on failure.
 */
int vault_acl_parse(const char *text, size_t len, struct vault_acl_policy **ret, struct lk_error *err);

/* NULL-safe. */
void vault_acl_policy_free(struct vault_acl_policy *p);

/* How many path blocks p has, in document order. */
size_t vault_acl_policy_count(const struct vault_acl_policy *p);

/* Block i's pattern as matched (the leading '/' dropped, a final '*'
 * kept; owned by p) and its capabilities (deny alone if it named deny).
 * NULL for i out of range. */
const char *vault_acl_policy_rule(const struct vault_acl_policy *p, size_t i, unsigned *ret_caps);

/* What a token's policies grant, merged for evaluation. */
struct vault_acl_set;

/*
 * Merges policies[0..n) (NULL entries are skipped, as Vault skips a name
 * that does not exist) into *ret; root set grants everything everywhere
 * (the "root" policy), whatever else is given. 0 or LK_ENOMEM (*ret
 * untouched). The set keeps no pointer into the policies.
 */
int vault_acl_set_new(const struct vault_acl_policy *const *policies, size_t n, int root, struct vault_acl_set **ret);

/* NULL-safe. */
void vault_acl_set_free(struct vault_acl_set *set);

/* 1 if the set holds the root policy. */
int vault_acl_set_is_root(const struct vault_acl_set *set);

/*
 * The capabilities set grants on path (a request path without "/v1/",
 * such as "secret/foo" or "auth/token/lookup-self"; a leading '/' is
 * ignored): the winning rule's, 0 when no rule matches or the winner
 * denies. Never has VAULT_CAP_DENY set. NULL set: 0.
 */
unsigned vault_acl_capabilities(const struct vault_acl_set *set, const char *path);

/* As vault_acl_capabilities for a LIST request: as Vault, a path ending in
 * '/' that no exact rule names also tries the exact rule without it. */
unsigned vault_acl_capabilities_list(const struct vault_acl_set *set, const char *path);

#endif
