/*
 * cleanup.c - the 90-day clean-up of expired tokens. Deletes token rows
 * only; never audit records, never a token that is still listed as merely
 * "expired" for less than 90 days. Reaches the store through svc.
 */
#include "jobs/cleanup.h"

#include "svc/svc.h"
#include "svc/tokens.h"

int cleanup_pass(struct store *s, int64_t now, size_t *ret_deleted) {
    struct svc svc = {.store = s, .now = now};
    int64_t cutoff = now - (int64_t)CLEANUP_EXPIRED_AFTER_DAYS * 24 * 3600;
    return tokens_delete_expired(&svc, cutoff, ret_deleted);
}
