/*
 * form.h - application/x-www-form-urlencoded bodies (the encoding OAuth
 * 2.0 requests use, RFC 6749 appendix B; RFC 8693 section 2.1), pure.
 *
 * Strict where the WHATWG parser is lenient, because a request whose
 * meaning is ambiguous should be refused rather than guessed at: a name
 * given twice, a '%' not followed by two hex digits, a decoded NUL byte, an
 * empty name, more than FORM_FIELDS_MAX fields, or a name longer than
 * FORM_NAME_MAX are all refused. '+' is a space; empty pieces ("a=1&&b=2",
 * a trailing '&') are skipped; a piece without '=' is a name with an empty
 * value. Messages never hold a value (a value may be a credential); a
 * name is echoed through str_echo.
 */
#ifndef LK_CORE_FORM_H
#define LK_CORE_FORM_H

#include <stddef.h>

#include "core/errors.h"

#define FORM_FIELDS_MAX 16
#define FORM_NAME_MAX 64

struct form_field {
    const char *name;  /* NUL-terminated, in the form's buffer */
    const char *value; /* NUL-terminated (no NUL inside), in the form's buffer */
    size_t value_len;
};

struct form {
    struct form_field fields[FORM_FIELDS_MAX];
    size_t count;
    char *buf; /* malloc'd: the decoded names and values */
    size_t cap;
};

/*
 * Parses body[0..len) into *ret (released with form_done, also after a
 * failure). 0; LK_EINVAL with err naming the fault; LK_ENOMEM.
 */
int form_parse(const char *body, size_t len, struct form *ret, struct lk_error *err);

/* The value of field name, or NULL when the form has none. */
const char *form_get(const struct form *f, const char *name);

/* Wipes (values may be credentials) and frees the buffer. NULL-safe. */
void form_done(struct form *f);

#endif
