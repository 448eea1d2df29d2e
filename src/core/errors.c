/*
 * errors.c - lookups in the error table of errors.h.
 *
 * Pure functions over static data; never allocates, never logs.
 */
#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct errinfo {
    int code;
    int status;
    const char *name;
    const char *msg;
};

static const struct errinfo errtab[] = {
#define LK_ERR_ROW_(name, num, status, msg) {-(num), status, #name, msg},
    LK_ERRNO_MAP(LK_ERR_ROW_)
#undef LK_ERR_ROW_
};

static const struct errinfo *find(int code) {
    for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
        if (errtab[i].code == code)
            return &errtab[i];
    return NULL;
}

const char *lk_strerror(int code) {
    const struct errinfo *e = find(code);
    if (code == 0)
        return "ok";
    return e ? e->msg : "unknown error";
}

const char *lk_errname(int code) {
    const struct errinfo *e = find(code);
    if (code == 0)
        return "OK";
    return e ? e->name : "UNKNOWN";
}

int lk_err_status(int code) {
    const struct errinfo *e = find(code);
    if (code == 0)
        return 200;
    return e ? e->status : 500;
}

int lk_error_set(struct lk_error *e, int code, const char *fmt, ...) {
    if (e == NULL)
        return code;
    e->code = code;
    e->msg[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *lk_error_message(const struct lk_error *e) {
    if (e->msg[0] != '\0')
        return e->msg;
    return lk_strerror(e->code);
}
