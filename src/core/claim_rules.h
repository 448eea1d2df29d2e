/*
 * claim_rules.h - the claim rules of a trusted issuer (docs/federation.md),
 * pure: which service account a verified foreign token maps to.
 *
 * Rules are a JSON array, tried in order; the first that matches wins:
 *
 *   [{"claims": {"sub": "repo:acme/api:ref:refs/heads/main",
 *                "repository_owner": "acme"},
 *     "team": "payments", "service_account": "deployer"}, ...]
 *
 * A rule matches when, for every name in its "claims", the token's claim
 * of that name is a JSON string byte-for-byte equal to the rule's value.
 * No patterns, no prefixes, no case folding, no numbers or arrays: a claim
 * that is not a string never matches. Every rule names at least one claim,
 * so no rule matches every token of an issuer by accident.
 */
#ifndef LK_CORE_CLAIM_RULES_H
#define LK_CORE_CLAIM_RULES_H

#include <jansson.h>

#include "core/errors.h"

#define CLAIM_RULES_MAX 16
#define CLAIM_RULE_CLAIMS_MAX 8
#define CLAIM_NAME_MAX 64
#define CLAIM_VALUE_MAX 512

/*
 * 0 if rules has the shape above: an array of 1..CLAIM_RULES_MAX objects,
 * each with exactly "claims" (an object of 1..CLAIM_RULE_CLAIMS_MAX
 * members, names of 1..CLAIM_NAME_MAX bytes, values non-empty strings of at
 * most CLAIM_VALUE_MAX bytes), "team" and "service_account" (non-empty
 * strings; the caller checks they are slugs that name an account). Else
 * LK_EINVAL with err naming the rule ("rules[2].claims: ...").
 */
int claim_rules_check(const json_t *rules, struct lk_error *err);

/* The index of the first rule of rules (checked) that claims (an object)
 * matches, or -1. */
int claim_rules_match(const json_t *rules, const json_t *claims);

#endif
