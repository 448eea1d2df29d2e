/*
 * seal_ops.c - initialising and sealing as use cases (svc/seal_ops.h).
 */
#include "svc/seal_ops.h"

#include <string.h>

#include "core/errors.h"
#include "svc/authz.h"
#include "svc/oidc.h"
#include "svc/principal.h"
#include "svc/svc.h"
#include "svc/tokens.h"

void seal_init_result_wipe(struct seal_init_result *res) {
    if (res != NULL)
        explicit_bzero(res, sizeof(*res));
}

int seal_ops_init(struct svc *svc, int64_t n, int64_t t, struct seal_init_result *ret, struct lk_error *err) {
    if (n < 1 || n > SEAL_SHARES_MAX || t < 1 || t > n)
        return lk_error_set(
            err, LK_EINVAL,
            "secret_shares and secret_threshold: need 1 <= threshold <= shares <= %d (got %lld of %lld)",
            SEAL_SHARES_MAX, (long long)t, (long long)n);
    uint8_t shares[SEAL_SHARES_MAX][SEAL_SHARE_LEN];
    memset(ret, 0, sizeof(*ret));
    int r = seal_init(svc->seal, svc->store, (unsigned)n, (unsigned)t, svc->now, shares, err);
    if (r == 0) {
        ret->n = (size_t)n;
        for (size_t i = 0; i < ret->n; i++)
            seal_share_format(shares[i], ret->hex[i], ret->b64[i]);
    }
    explicit_bzero(shares, sizeof(shares));
    if (r != 0)
        return r;
    int exists = 0;
    r = tokens_root_exists(svc, &exists);
    if (r == 0 && !exists)
        r = tokens_issue_root(svc, ret->root_token, ret->root_token_id, NULL, err);
    if (r != 0 && err->code == 0)
        lk_error_set(err, r, "initialised, but the root token could not be issued");
    return r;
}

int seal_ops_rotate(struct svc *svc, const struct principal *caller, uint32_t *ret_version, struct lk_error *err) {
    /* The partner admin's rule, a narrowed root token's policies included. */
    int r = authz_require_root(caller, NULL, "rotate the encryption key", NULL, err);
    if (r != 0)
        return r;
    return seal_rotate(svc->seal, svc->store, svc->now, ret_version, err);
}

int seal_ops_seal(struct svc *svc, const struct principal *caller, struct lk_error *err) {
    int r = authz_require_root(caller, NULL, "seal latchkey", NULL, err);
    if (r != 0)
        return r;
    seal_seal(svc->seal, svc->store);
    oidc_forget(svc->oidc); /* the signing keys go with the barrier's */
    return 0;
}
