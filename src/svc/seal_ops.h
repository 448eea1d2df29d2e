/*
 * seal_ops.h - the seal's use cases over the store and the token rules:
 * initialising (the shares, and a root token when there is none) and
 * sealing (root only). The mechanism itself is svc/seal.h.
 */
#ifndef LK_SVC_SEAL_OPS_H
#define LK_SVC_SEAL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/tokfmt.h"
#include "svc/seal.h"

struct svc;
struct principal;
struct lk_error;

#define SEAL_SHARES_MAX 255

/* What an init hands out, once: the shares as text, and a root token when
 * the store had none ("" otherwise). Wipe it with seal_init_result_wipe(). */
struct seal_init_result {
    size_t n;
    char hex[SEAL_SHARES_MAX][SEAL_SHARE_TEXT_MAX];
    char b64[SEAL_SHARES_MAX][SEAL_SHARE_TEXT_MAX];
    char root_token[TOKFMT_TOKEN_BUFSZ];
    char root_token_id[TOKFMT_PUBID_BUFSZ];
};
void seal_init_result_wipe(struct seal_init_result *res);

/*
 * Initialises svc->seal with n shares of which t unseal (1 <= t <= n <=
 * 255), and issues a root token if the store has none. latchkey stays
 * sealed. LK_ECONFLICT once initialised ("already initialized"); LK_EINVAL
 * for n and t outside the rule.
 */
int seal_ops_init(struct svc *svc, int64_t n, int64_t t, struct seal_init_result *ret, struct lk_error *err);

/* Rotates the keyring (svc/seal.h, seal_rotate): only the partner admin
 * (root) may. *ret_version gets the new key version. */
int seal_ops_rotate(struct svc *svc, const struct principal *caller, uint32_t *ret_version, struct lk_error *err);

/* Seals at once: only the partner admin (root) may. */
int seal_ops_seal(struct svc *svc, const struct principal *caller, struct lk_error *err);

#endif
