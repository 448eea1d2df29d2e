/*
 * claim_rules.c - matching a foreign token's claims to a rule (see the
 * header).
 */
#include "core/claim_rules.h"

#include <string.h>

static int nonempty_string(const json_t *v, size_t max) {
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max;
}

int claim_rules_check(const json_t *rules, struct lk_error *err) {
    if (!json_is_array(rules) || json_array_size(rules) == 0 || json_array_size(rules) > CLAIM_RULES_MAX)
        return lk_error_set(err, LK_EINVAL, "rules: expected an array of 1 to %d rules", CLAIM_RULES_MAX);
    size_t i;
    const json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (!json_is_object(rule))
            return lk_error_set(err, LK_EINVAL, "rules[%zu]: expected an object", i);
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)rule, key, v) {
            if (strcmp(key, "claims") != 0 && strcmp(key, "team") != 0 && strcmp(key, "service_account") != 0)
                return lk_error_set(err, LK_EINVAL,
                                    "rules[%zu]: unknown member (expected claims, team, service_account)", i);
        }
        const json_t *claims = json_object_get(rule, "claims");
        if (!json_is_object(claims) || json_object_size(claims) == 0 ||
            json_object_size(claims) > CLAIM_RULE_CLAIMS_MAX)
            return lk_error_set(err, LK_EINVAL, "rules[%zu].claims: expected an object of 1 to %d claims", i,
                                CLAIM_RULE_CLAIMS_MAX);
        json_object_foreach((json_t *)claims, key, v) {
            size_t kl = strlen(key);
            if (kl == 0 || kl > CLAIM_NAME_MAX)
                return lk_error_set(err, LK_EINVAL, "rules[%zu].claims: a claim name must have 1 to %d bytes", i,
                                    CLAIM_NAME_MAX);
            if (!nonempty_string(v, CLAIM_VALUE_MAX))
                return lk_error_set(err, LK_EINVAL,
                                    "rules[%zu].claims: each value must be a non-empty string of at most %d bytes "
                                    "(matched exactly)",
                                    i, CLAIM_VALUE_MAX);
        }
        if (!nonempty_string(json_object_get(rule, "team"), 63))
            return lk_error_set(err, LK_EINVAL, "rules[%zu].team: required, a team name", i);
        if (!nonempty_string(json_object_get(rule, "service_account"), 63))
            return lk_error_set(err, LK_EINVAL, "rules[%zu].service_account: required, a service account name", i);
    }
    return 0;
}

static int rule_matches(const json_t *rule, const json_t *claims) {
    const json_t *want = json_object_get(rule, "claims");
    const char *key;
    const json_t *v;
    if (!json_is_object(want) || json_object_size(want) == 0)
        return 0;
    json_object_foreach((json_t *)want, key, v) {
        const json_t *got = json_object_get(claims, key);
        if (!json_is_string(got) || !json_is_string(v) || json_string_length(got) != json_string_length(v) ||
            memcmp(json_string_value(got), json_string_value(v), json_string_length(v)) != 0)
            return 0;
    }
    return 1;
}

int claim_rules_match(const json_t *rules, const json_t *claims) {
    if (!json_is_array(rules) || !json_is_object(claims))
        return -1;
    size_t i;
    const json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (rule_matches(rule, claims))
            return (int)i;
    }
    return -1;
}
