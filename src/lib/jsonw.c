/*
 * jsonw.c - streaming JSON writer (see jsonw.h).
 *
 * Never allocates and never writes past cap; output is valid JSON (and
 * well-formed UTF-8) or the writer reports failure. Strings are escaped per
 * RFC 8259; well-formed UTF-8 passes through unchanged, and a byte outside
 * it (callers hand it UTF-8) is written as the text \xNN.
 */
#include "lib/jsonw.h"

#include <string.h>

#include "lib/str.h"

void jsonw_init(struct jsonw *w, char *buf, size_t cap) {
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

static void put(struct jsonw *w, const char *s, size_t n) {
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Writes the comma a value needs, unless it follows a key. */
static void before_value(struct jsonw *w) {
    if (w->depth > 0) {
        if (w->need_comma[w->depth - 1] == 1)
            put(w, ",", 1);
        w->need_comma[w->depth - 1] = 1;
    }
}

static void open_(struct jsonw *w, char c) {
    before_value(w);
    put(w, &c, 1);
    if (w->depth >= JSONW_MAX_DEPTH) {
        w->overflow = 1;
        return;
    }
    w->need_comma[w->depth++] = 0;
}

static void close_(struct jsonw *w, char c) {
    if (w->depth == 0) {
        w->overflow = 1;
        return;
    }
    w->depth--;
    put(w, &c, 1);
}

void jsonw_obj_begin(struct jsonw *w) {
    open_(w, '{');
}
void jsonw_obj_end(struct jsonw *w) {
    close_(w, '}');
}
void jsonw_arr_begin(struct jsonw *w) {
    open_(w, '[');
}
void jsonw_arr_end(struct jsonw *w) {
    close_(w, ']');
}

static void put_escaped(struct jsonw *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    put(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t k = c >= 0x80 ? str_utf8_len(s + i, n - i) : 0;
        if (k != 0) {
            i += k;
            continue;
        }
        put(w, s + run, i - run);
        run = ++i;
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            /* A control byte as \u00NN; a byte outside well-formed UTF-8
             * (a caller's slip) as the text \xNN, so the output stays
             * valid JSON whatever it was handed. */
            if (c < 0x80) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                put(w, e, 6);
            } else {
                char e[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
                put(w, e, 5);
            }
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key) {
    before_value(w);
    put_escaped(w, key, strlen(key));
    put(w, ":", 1);
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = 2; /* the value after a key takes no comma */
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n) {
    before_value(w);
    put_escaped(w, s, n);
}

void jsonw_str(struct jsonw *w, const char *s) {
    jsonw_strn(w, s, strlen(s));
}

void jsonw_str_or_null(struct jsonw *w, const char *s) {
    if (s == NULL || *s == '\0')
        jsonw_null(w);
    else
        jsonw_str(w, s);
}

void jsonw_null(struct jsonw *w) {
    before_value(w);
    put(w, "null", 4);
}

void jsonw_bool(struct jsonw *w, int v) {
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_int(struct jsonw *w, int64_t v) {
    char tmp[STR_INT64_BUFSZ];
    size_t n = str_fmt_int64(v, tmp);
    before_value(w);
    put(w, tmp, n);
}

void jsonw_raw(struct jsonw *w, const char *json, size_t n) {
    before_value(w);
    put(w, json, n);
}

int jsonw_finish(struct jsonw *w, size_t *ret_len) {
    if (w->overflow || w->depth != 0)
        return -1;
    *ret_len = w->len;
    return 0;
}
