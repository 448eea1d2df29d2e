/*
 * cleanup.c - the 90-day clean-up of expired tokens. Deletes token rows
 * only; never audit records, never a token that is still listed as merely
 * "expired" for less than 90 days.
 */
#include "jobs/cleanup.h"

#include "store/store.h"

int cleanup_pass(struct store *s, int64_t now, size_t *ret_deleted) {
    int64_t cutoff = now - (int64_t)CLEANUP_EXPIRED_AFTER_DAYS * 24 * 3600;
    return store_token_delete_expired(s, cutoff, ret_deleted);
}
