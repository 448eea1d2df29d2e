/*
 * names.c - slug and e-mail shape checks. Never echoes more than a short,
 * escaped prefix of the input.
 */
#include "core/names.h"

#include <string.h>

#include "core/errors.h"
#include "lib/str.h"

int name_check_slug(const char *field, const char *s, struct lk_error *err) {
    size_t n = strlen(s);
    char q[STR_ECHO_BUFSZ];
    int ok = n >= 1 && n <= NAME_SLUG_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        ok = alnum || (i > 0 && c == '-');
    }
    if (ok)
        return 0;
    str_echo(s, n, q);
    return lk_error_set(err, LK_EINVAL,
                        "%s: \"%s\" is not a valid name: use 1 to %d of a-z, 0-9 and '-', starting with a letter or "
                        "digit",
                        field, q, NAME_SLUG_MAX);
}

int name_check_email(const char *field, const char *s, struct lk_error *err) {
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    int ok = n >= 3 && n <= 254 && at != NULL && at != s && strchr(at + 1, '@') == NULL;
    if (ok) {
        const char *dot = strchr(at + 1, '.');
        ok = dot != NULL && dot != at + 1 && dot[1] != '\0' && s[n - 1] != '.';
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] > 0x20 && s[i] != 0x7f;
    if (ok)
        return 0;
    char q[STR_ECHO_BUFSZ];
    str_echo(s, n, q);
    return lk_error_set(err, LK_EINVAL, "%s: \"%s\" is not an e-mail address", field, q);
}
