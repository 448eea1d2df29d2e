/*
 * names.h - the shapes of names the API accepts (org, team, service account
 * and user names are slugs [a-z0-9][a-z0-9-]{0,62}), and e-mail addresses.
 * Pure.
 */
#ifndef LK_CORE_NAMES_H
#define LK_CORE_NAMES_H

#include <stddef.h>

struct lk_error;

#define NAME_SLUG_MAX 63

/* 0 if s is a slug; else LK_EINVAL with "<field>: ..." in err. */
int name_check_slug(const char *field, const char *s, struct lk_error *err);

/* 0 if s looks like an e-mail address (one '@', non-empty local part and a
 * dotted domain, no spaces or control bytes, at most 254 bytes); else LK_EINVAL. */
int name_check_email(const char *field, const char *s, struct lk_error *err);

#endif
