/*
 * form.c - application/x-www-form-urlencoded decoding (see the header).
 */
#include "core/form.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"

/* Decodes in[0..n) into out; the length, or -1 for a bad '%' or a NUL. */
static long decode(const char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = str_hex_digit(in[i + 1]);
            int lo = str_hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            char b = (char)(hi * 16 + lo);
            if (b == '\0')
                return -1;
            out[o++] = b;
            i += 2;
        } else if (c == '\0') {
            return -1;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return (long)o;
}

int form_parse(const char *body, size_t len, struct form *ret, struct lk_error *err) {
    memset(ret, 0, sizeof(*ret));
    /* Each piece decodes to at most its own length, plus a NUL per name
     * and value: len + 2 * (pieces) <= 2 * len + 2 bytes. */
    ret->buf = malloc(2 * len + 2);
    ret->cap = 2 * len + 2;
    if (ret->buf == NULL)
        return lk_error_set(err, LK_ENOMEM, "out of memory");
    char *out = ret->buf;
    size_t pos = 0;
    while (pos <= len) {
        const char *piece = body + pos;
        const char *amp = len > pos ? memchr(piece, '&', len - pos) : NULL;
        size_t plen = amp != NULL ? (size_t)(amp - piece) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(piece, '=', plen);
        size_t nlen = eq != NULL ? (size_t)(eq - piece) : plen;
        const char *val = eq != NULL ? eq + 1 : piece + plen;
        size_t vlen = eq != NULL ? plen - nlen - 1 : 0;
        size_t idx = ret->count;
        if (idx == FORM_FIELDS_MAX)
            return lk_error_set(err, LK_EINVAL, "form body: more than %d fields", FORM_FIELDS_MAX);
        char *name = out;
        long dn = decode(piece, nlen, name);
        if (dn < 0)
            return lk_error_set(err, LK_EINVAL, "form body: field %zu has a malformed percent-encoded name", idx + 1);
        if (dn == 0)
            return lk_error_set(err, LK_EINVAL, "form body: field %zu has an empty name", idx + 1);
        if (dn > FORM_NAME_MAX)
            return lk_error_set(err, LK_EINVAL, "form body: field %zu has a name of more than %d bytes", idx + 1,
                                FORM_NAME_MAX);
        out += dn + 1;
        char *value = out;
        long dv = decode(val, vlen, value);
        char q[STR_ECHO_BUFSZ];
        if (dv < 0) {
            str_echo(name, (size_t)dn, q);
            return lk_error_set(err, LK_EINVAL, "form body: %s: malformed percent-encoding", q);
        }
        out += dv + 1;
        if (form_get(ret, name) != NULL) {
            str_echo(name, (size_t)dn, q);
            return lk_error_set(err, LK_EINVAL, "form body: %s: given more than once", q);
        }
        ret->fields[idx].name = name;
        ret->fields[idx].value = value;
        ret->fields[idx].value_len = (size_t)dv;
        ret->count++;
    }
    return 0;
}

const char *form_get(const struct form *f, const char *name) {
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

void form_done(struct form *f) {
    if (f == NULL || f->buf == NULL)
        return;
    explicit_bzero(f->buf, f->cap);
    free(f->buf);
    f->buf = NULL;
    f->count = 0;
}
