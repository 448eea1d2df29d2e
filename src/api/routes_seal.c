/*
 * routes_seal.c - the seal's routes, in Vault's shapes: GET
 * /v1/sys/seal-status, PUT /v1/sys/unseal, PUT /v1/sys/seal, POST
 * /v1/sys/rotate, GET and PUT /v1/sys/init. All but seal answer while latchkey is sealed (and before
 * it is initialised); the rest of the API answers 503 then (api.c).
 *
 * Shares pass through here once, in the init answer and the unseal body:
 * never logged, never audited, never echoed in an error.
 */
#include <jansson.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/errors.h"
#include "svc/oidc.h"
#include "svc/seal.h"
#include "svc/seal_ops.h"
#include "svc/secrets.h"

static json_t *status_json(const struct seal_status *st) {
    return json_pack("{s:s, s:b, s:b, s:i, s:i, s:i, s:s, s:s, s:b, s:s}", "type", "shamir", "initialized",
                     st->initialized, "sealed", st->sealed, "t", (int)st->t, "n", (int)st->n, "progress",
                     (int)st->progress, "nonce", st->nonce, "version", LATCHKEY_VERSION, "migration", 0, "storage_type",
                     "sqlite");
}

static void h_seal_status(struct api_req *ar) {
    struct seal_status st;
    seal_status(ar->svc->seal, &st);
    api_reply_json(ar, 200, status_json(&st));
}

static void h_unseal(struct api_req *ar) {
    static const char *const fields[] = {"key", "reset", "migrate", NULL};
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    int reset = 0;
    const char *key = NULL;
    struct seal_status st;
    if (api_body_bool(ar, body, "reset", &reset) < 0 || api_body_string(ar, body, "key", &key) < 0)
        goto out;
    if (reset == 1) {
        seal_reset(ar->svc->seal);
        seal_status(ar->svc->seal, &st);
        api_reply_json(ar, 200, status_json(&st));
        goto out;
    }
    if (key == NULL) {
        api_reply_error(ar, LK_EINVAL, "key: required (one unseal key share, hex or base64), or \"reset\": true");
        goto out;
    }
    int r = seal_unseal(ar->svc->seal, ar->svc->store, key, &st, &ar->err);
    if (r != 0) {
        api_reply_lkerr(ar, &ar->err);
    } else {
        if (!st.sealed) /* the first identity-token key, if none yet */
            oidc_poke(ar->svc->oidc);
        api_reply_json(ar, 200, status_json(&st));
    }
out:
    json_decref(body);
}

static void h_seal(struct api_req *ar) {
    int r = seal_ops_seal(ar->svc, &ar->principal, &ar->err);
    api_reply_done(ar, r);
}

static void h_rotate(struct api_req *ar) {
    uint32_t version = 0;
    if (seal_ops_rotate(ar->svc, &ar->principal, &version, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_json(ar, 200, json_pack("{s:I}", "term", (json_int_t)version));
}

static void h_rewrap(struct api_req *ar) {
    size_t done = 0, current = 0;
    if (secrets_rewrap(ar->svc, &ar->principal, &done, &current, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    api_reply_json(ar, 200, json_pack("{s:I, s:I}", "rewrapped", (json_int_t)done, "current", (json_int_t)current));
}

static void h_init_get(struct api_req *ar) {
    struct seal_status st;
    seal_status(ar->svc->seal, &st);
    api_reply_json(ar, 200, json_pack("{s:b}", "initialized", st.initialized));
}

static void h_init_put(struct api_req *ar) {
    static const char *const fields[] = {"secret_shares", "secret_threshold", "root_token_pgp_key", "pgp_keys", NULL};
    json_t *body = api_body_fields(ar, 0, fields);
    if (body == NULL)
        return;
    int64_t n = -1, t = -1;
    struct seal_init_result res;
    if (api_body_int(ar, body, "secret_shares", &n) < 0 || api_body_int(ar, body, "secret_threshold", &t) < 0)
        goto out;
    /* Shares encrypted to PGP keys are not supported: refuse rather than
     * hand out in the clear what the caller asked to have encrypted. */
    static const char *const pgp[] = {"pgp_keys", "root_token_pgp_key"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, pgp[i]);
        if (v != NULL && !json_is_null(v)) {
            api_reply_error(ar, LK_EINVAL, "%s: PGP-encrypted shares are not supported; leave it out or null", pgp[i]);
            goto out;
        }
    }
    if (n < 0 || t < 0) {
        api_reply_error(ar, LK_EINVAL, "secret_shares and secret_threshold: required whole numbers");
        goto out;
    }
    if (seal_ops_init(ar->svc, n, t, &res, &ar->err) != 0) {
        /* Vault answers a second init 400, and its clients expect that. */
        if (ar->err.code == LK_ECONFLICT)
            ar->err.code = LK_EINVAL;
        api_reply_lkerr(ar, &ar->err);
        goto out;
    }
    json_t *keys = json_array(), *keys64 = json_array();
    for (size_t i = 0; i < res.n; i++) {
        json_array_append_new(keys, json_string(res.hex[i]));
        json_array_append_new(keys64, json_string(res.b64[i]));
    }
    api_reply_json(ar, 200,
                   json_pack("{s:o, s:o, s:o}", "keys", keys, "keys_base64", keys64, "root_token",
                             res.root_token[0] ? json_string(res.root_token) : json_null()));
    seal_init_result_wipe(&res);
out:
    json_decref(body);
}

#define UNSEAL_HELP                                                                                                    \
    "Gives one unseal key share: {\"key\": hex or base64}; the t-th rebuilds the root key and unseals. "               \
    "{\"reset\": true} forgets the shares given so far. Answers the seal status; a set of shares that does "           \
    "not rebuild the key answers 400 and starts over, never saying which share was wrong. PUT and POST alike."
#define SEAL_HELP                                                                                                      \
    "Root only: seals the running server at once, wiping every key from memory; 204 (403 for anyone else). "           \
    "Everything but health, seal status, init and unseal answers 503 until it is unsealed again. PUT and POST alike."
#define INIT_HELP                                                                                                      \
    "Initialises the seal once: {\"secret_shares\": N, \"secret_threshold\": T} (1 <= T <= N <= 255) -> "              \
    "{\"keys\": [hex], \"keys_base64\": [...], \"root_token\"}: the unseal key shares, shown this once and "           \
    "stored nowhere, and a root token if there was none (else null). latchkey stays sealed until T shares "            \
    "are given to PUT /v1/sys/unseal. A second init answers 400. PUT and POST alike."

/* Vault's paths and shapes: its clients drive them unchanged (API_VAULT:
 * X-Vault-Token, 403 for a refusal). */
const struct api_route api_routes_seal[] = {
    {M_GET, "/v1/sys/seal-status", API_SEALED_OK | API_VAULT, "sys.seal_status", h_seal_status,
     "The seal, without credentials: {\"type\":\"shamir\", \"initialized\", \"sealed\", \"t\", \"n\", "
     "\"progress\", \"nonce\", \"version\"}."},
    {M_PUT, "/v1/sys/unseal", API_SEALED_OK | API_VAULT, "sys.unseal", h_unseal, UNSEAL_HELP},
    {M_POST, "/v1/sys/unseal", API_SEALED_OK | API_VAULT, "sys.unseal", h_unseal, UNSEAL_HELP},
    {M_PUT, "/v1/sys/seal", API_AUTH | API_VAULT, "sys.seal", h_seal, SEAL_HELP},
    {M_POST, "/v1/sys/seal", API_AUTH | API_VAULT, "sys.seal", h_seal, SEAL_HELP},
    {M_POST, "/v1/sys/rotate", API_AUTH, "sys.rotate", h_rotate,
     "Root only: adds an encryption key version that every new write uses; values written under older versions "
     "stay readable. {\"term\": the new key version}."},
    {M_POST, "/v1/sys/rewrap", API_AUTH, "sys.rewrap", h_rewrap,
     "Root only: re-encrypts every stored secret value that is under an older key version with the current one "
     "(after a rotation), each still bound to its row: {\"rewrapped\": N, \"current\": M}."},
    {M_GET, "/v1/sys/init", API_SEALED_OK | API_VAULT, "sys.init_status", h_init_get, "{\"initialized\": bool}."},
    {M_PUT, "/v1/sys/init", API_SEALED_OK | API_VAULT, "sys.init", h_init_put, INIT_HELP},
    {M_POST, "/v1/sys/init", API_SEALED_OK | API_VAULT, "sys.init", h_init_put, INIT_HELP},
};
API_ROUTES_END(seal);
