/*
 * routes_vault_policy.c - Vault's ACL policies at /v1/sys/policy[/{name}]
 * (and /v1/sys/policies/acl[/{name}], its newer path), over the caller's
 * organisation's policies (svc/vault_policies.h): list, read, write
 * ({"policy"}, or the deprecated {"rules"} with Vault's warning), delete.
 * As Vault answers sys/policy, every key of data is also at the top level.
 *
 * JSON in and out only; the rules are svc/vault_policies.c's.
 */
#include <jansson.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/errors.h"
#include "svc/vault_policies.h"

/* Vault's envelope, with every key of data copied to the top level too
 * (its sys/policy answers; clients read either). data is stolen. */
static void reply_copied(struct api_req *ar, json_t *data) {
    json_t *body = json_pack("{s:s, s:s, s:b, s:i, s:O, s:n, s:n, s:n}", "request_id", ar->request_id, "lease_id", "",
                             "renewable", 0, "lease_duration", 0, "data", data, "wrap_info", "warnings", "auth");
    if (body != NULL && json_object_update_missing(body, data) != 0) {
        json_decref(body);
        body = NULL;
    }
    json_decref(data);
    if (body == NULL)
        api_reply_error(ar, LK_ENOMEM, "out of memory");
    else
        api_reply_json(ar, 200, body);
}

/* Whether the route is the newer sys/policies/acl, whose text is "policy". */
static int acl_path(const struct api_req *ar) {
    return strncmp(ar->route->pattern, "/v1/sys/policies/", 17) == 0;
}

static void h_list(struct api_req *ar) {
    const char *org = NULL;
    if (api_vault_list_query(ar) < 0 || api_vault_org(ar, &org) != 0)
        return;
    struct name_list names = {0};
    if (vault_policies_list(ar->svc, &ar->principal, org, &names, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *keys = json_array();
    for (size_t i = 0; keys != NULL && i < names.count; i++)
        json_array_append_new(keys, json_string(names.items[i]));
    name_list_done(&names);
    if (keys == NULL) {
        api_reply_error(ar, LK_ENOMEM, "out of memory");
        return;
    }
    /* sys/policy lists under "keys" and "policies"; sys/policies/acl under "keys". */
    json_t *data =
        acl_path(ar) ? json_pack("{s:o}", "keys", keys) : json_pack("{s:O, s:o}", "keys", keys, "policies", keys);
    reply_copied(ar, data);
}

static void h_read(struct api_req *ar) {
    const char *org = NULL;
    if (api_vault_org(ar, &org) != 0)
        return;
    struct vault_policy_rec rec;
    if (vault_policies_read(ar->svc, &ar->principal, org, api_param(ar, "name"), &rec, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *data = json_pack("{s:s, s:s}", "name", rec.name, acl_path(ar) ? "policy" : "rules", rec.text);
    vault_policy_rec_done(&rec);
    reply_copied(ar, data);
}

static void h_write(struct api_req *ar) {
    static const char *const fields[] = {"name", "policy", "rules", NULL};
    const char *org = NULL, *policy = NULL, *rules = NULL;
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        return;
    /* node-vault sends the name in the body too; the path's is the one used. */
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "policy", &policy) < 0 ||
        api_body_string(ar, body, "rules", &rules) < 0 || api_vault_org(ar, &org) != 0)
        goto out;
    int deprecated = policy == NULL && rules != NULL && !acl_path(ar);
    const char *text = policy != NULL ? policy : acl_path(ar) ? NULL : rules;
    if (vault_policies_write(ar->svc, &ar->principal, org, api_param(ar, "name"), text, text != NULL ? strlen(text) : 0,
                             &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    /* Vault: 204, or 200 with the warning when the old field was used. */
    if (deprecated)
        api_vault_reply(ar, NULL, NULL, json_pack("[s]", "'rules' is deprecated, please use 'policy' instead"), 0, 0);
    else
        api_reply_empty(ar);
out:
    json_decref(body);
}

static void h_delete(struct api_req *ar) {
    const char *org = NULL;
    if (api_vault_org(ar, &org) != 0)
        return;
    int r = vault_policies_delete(ar->svc, &ar->principal, org, api_param(ar, "name"), &ar->err);
    /* Vault: deleting what is not there is done too. */
    api_reply_done(ar, r == LK_ENOTFOUND ? 0 : r);
}

#define POLICY_HELP                                                                                                    \
    "Vault's ACL policies of the organisation: GET lists them (data.keys and data.policies, \"default\" and "          \
    "\"root\" included; roles.view), GET /{name} reads one (data.rules), PUT or POST /{name} writes one "              \
    "({\"policy\": HCL such as path \"secret/app/*\" { capabilities = [\"read\", \"list\"] }}, or base64 of it; the "  \
    "deprecated \"rules\" answers 200 with a warning; roles.manage), DELETE /{name} deletes one (204). Names are "     \
    "lowercased; \"root\" cannot be written, neither built-in deleted. A token made in this door with policies is "    \
    "held to them on /v1/secret/ paths."

const struct api_route api_routes_vault_policy[] = {
    {M_GET, "/v1/sys/policy", API_AUTH | API_VAULT, "vault.policy.list", h_list, POLICY_HELP},
    {M_LIST, "/v1/sys/policy", API_AUTH | API_VAULT, "vault.policy.list", h_list, POLICY_HELP},
    {M_GET, "/v1/sys/policy/{name}", API_AUTH | API_VAULT, "vault.policy.read", h_read, POLICY_HELP},
    {M_PUT, "/v1/sys/policy/{name}", API_AUTH | API_VAULT, "vault.policy.write", h_write, POLICY_HELP},
    {M_POST, "/v1/sys/policy/{name}", API_AUTH | API_VAULT, "vault.policy.write", h_write, POLICY_HELP},
    {M_DELETE, "/v1/sys/policy/{name}", API_AUTH | API_VAULT, "vault.policy.delete", h_delete, POLICY_HELP},
    {M_GET, "/v1/sys/policies/acl", API_AUTH | API_VAULT, "vault.policy.list", h_list, POLICY_HELP},
    {M_LIST, "/v1/sys/policies/acl", API_AUTH | API_VAULT, "vault.policy.list", h_list, POLICY_HELP},
    {M_GET, "/v1/sys/policies/acl/{name}", API_AUTH | API_VAULT, "vault.policy.read", h_read, POLICY_HELP},
    {M_PUT, "/v1/sys/policies/acl/{name}", API_AUTH | API_VAULT, "vault.policy.write", h_write, POLICY_HELP},
    {M_POST, "/v1/sys/policies/acl/{name}", API_AUTH | API_VAULT, "vault.policy.write", h_write, POLICY_HELP},
    {M_DELETE, "/v1/sys/policies/acl/{name}", API_AUTH | API_VAULT, "vault.policy.delete", h_delete, POLICY_HELP},
};
API_ROUTES_END(vault_policy);
