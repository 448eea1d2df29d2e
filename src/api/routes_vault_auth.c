/*
 * routes_vault_auth.c - Vault's userpass login at
 * /v1/auth/userpass/login/{username}: an org user's password login (the
 * native one: the same limits, lockouts and audit), the org named by
 * X-Vault-Namespace or the server's --vault-default-org. Answers Vault's
 * envelope with the session token in auth.client_token; a refused login is
 * Vault's 400.
 */
#include <string.h>

#include "api/api_internal.h"
#include "core/errors.h"
#include "svc/ratelimiter.h"
#include "svc/tokens.h"

static void h_userpass_login(struct api_req *ar) {
    static const char *const fields[] = {"password", NULL};
    const char *org = NULL, *pw = NULL, *user = api_param(ar, "username");
    struct token_created out;
    struct rl_result rl;
    memset(&out, 0, sizeof(out));
    if (api_rate_limit_client(ar, ar->ctx->cfg->limit_login_ip, "login", &rl) != 0)
        return;
    json_t *body = api_vault_body(ar);
    if (body == NULL)
        goto out;
    if (api_body_only(ar, body, fields) < 0 || api_body_string(ar, body, "password", &pw) < 0 ||
        api_required(ar, "password", pw) < 0 || api_vault_org(ar, &org) != 0)
        goto out;
    if (api_login(ar, org, user, pw, &out) != 0)
        goto out;
    int64_t left = out.rec.expires_at > ar->svc->now ? out.rec.expires_at - ar->svc->now : 0;
    json_t *auth =
        json_pack("{s:s, s:s, s:[s], s:[s], s:{s:s, s:s}, s:I, s:b, s:s, s:s, s:b, s:n, s:i}", "client_token",
                  out.token, "accessor", out.rec.id, "policies", "default", "token_policies", "default", "metadata",
                  "username", user, "org", org, "lease_duration", (json_int_t)left, "renewable", 0, "entity_id", "",
                  "token_type", "service", "orphan", 1, "mfa_requirement", "num_uses", 0);
    if (auth == NULL)
        api_reply_error(ar, LK_ENOMEM, "out of memory");
    else
        api_vault_reply(ar, NULL, auth, NULL, 0, 0);
out:
    tokens_created_done(&out);
    api_login_wipe(ar, pw);
    json_decref(body);
}

#define USERPASS_HELP                                                                                                  \
    "Vault's userpass login for an organisation's user: {\"password\"} -> auth.client_token, a session token of "      \
    "the user (12 hours, policies [\"default\"]: the user's own rights). The organisation is X-Vault-Namespace, "      \
    "else the server's --vault-default-org. The native login's limits and lockouts apply; a refused login is 400."

const struct api_route api_routes_vault_auth[] = {
    {M_POST, "/v1/auth/userpass/login/{username}", API_VAULT, "vault.userpass.login", h_userpass_login, USERPASS_HELP},
    {M_PUT, "/v1/auth/userpass/login/{username}", API_VAULT, "vault.userpass.login", h_userpass_login, USERPASS_HELP},
};
API_ROUTES_END(vault_auth);
