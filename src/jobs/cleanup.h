/*
 * cleanup.h - deleting tokens that expired long ago (API keys
 * expired for over 90 days are deleted automatically). Audit records about
 * them are never touched.
 */
#ifndef LK_JOBS_CLEANUP_H
#define LK_JOBS_CLEANUP_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define CLEANUP_EXPIRED_AFTER_DAYS 90
/* How often the server runs a pass. */
#define CLEANUP_INTERVAL_SECONDS 3600

/* Deletes tokens whose expiry is more than 90 days before now.
 * *ret_deleted (may be NULL) gets how many. 0 or an LK_E* code. */
int cleanup_pass(struct store *s, int64_t now, size_t *ret_deleted);

#endif
