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

void jsonw_init_tree(struct jsonw *w) {
    memset(w, 0, sizeof(*w));
    w->tree = 1;
}

/* Tree mode: v (stolen) goes where the next value goes. */
static void tree_add(struct jsonw *w, json_t *v) {
    if (v == NULL || w->overflow) {
        json_decref(v);
        w->overflow = 1;
        return;
    }
    if (w->depth == 0) {
        if (w->root != NULL) {
            json_decref(v);
            w->overflow = 1;
            return;
        }
        w->root = v;
        return;
    }
    json_t *top = w->open[w->depth - 1];
    int r = json_is_object(top) ? (w->key ? json_object_set_new(top, w->key, v) : (json_decref(v), -1))
                                : json_array_append_new(top, v);
    w->key = NULL;
    if (r != 0)
        w->overflow = 1;
}

static void tree_open(struct jsonw *w, json_t *c) {
    if (c == NULL || w->depth >= JSONW_MAX_DEPTH) {
        json_decref(c);
        w->overflow = 1;
        return;
    }
    tree_add(w, c);
    if (!w->overflow)
        w->open[w->depth++] = c;
}

/* A string as the text mode writes it: well-formed UTF-8 as it is, any
 * other byte as the text \xNN. */
static json_t *tree_string(const char *s, size_t n) {
    json_t *v = json_stringn(s, n);
    if (v != NULL || n > 4096)
        return v;
    char buf[4096 * 5 + 3];
    struct jsonw t;
    size_t len;
    jsonw_init(&t, buf, sizeof(buf));
    jsonw_strn(&t, s, n);
    return jsonw_finish(&t, &len) == 0 ? json_loadb(buf, len, JSON_DECODE_ANY, NULL) : NULL;
}

json_t *jsonw_finish_tree(struct jsonw *w) {
    json_t *v = w->root;
    int ok = w->tree && !w->overflow && w->depth == 0 && v != NULL;
    w->root = NULL;
    if (!ok) {
        json_decref(v);
        return NULL;
    }
    return v;
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

static void tree_close(struct jsonw *w, int object) {
    if (w->depth == 0 || json_is_object(w->open[w->depth - 1]) != object)
        w->overflow = 1;
    else
        w->depth--;
}

void jsonw_obj_begin(struct jsonw *w) {
    if (w->tree)
        tree_open(w, json_object());
    else
        open_(w, '{');
}
void jsonw_obj_end(struct jsonw *w) {
    if (w->tree)
        tree_close(w, 1);
    else
        close_(w, '}');
}
void jsonw_arr_begin(struct jsonw *w) {
    if (w->tree)
        tree_open(w, json_array());
    else
        open_(w, '[');
}
void jsonw_arr_end(struct jsonw *w) {
    if (w->tree)
        tree_close(w, 0);
    else
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
    if (w->tree) {
        w->key = key;
        return;
    }
    before_value(w);
    put_escaped(w, key, strlen(key));
    put(w, ":", 1);
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = 2; /* the value after a key takes no comma */
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n) {
    if (w->tree) {
        tree_add(w, tree_string(s, n));
        return;
    }
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
    if (w->tree) {
        tree_add(w, json_null());
        return;
    }
    before_value(w);
    put(w, "null", 4);
}

void jsonw_bool(struct jsonw *w, int v) {
    if (w->tree) {
        tree_add(w, json_boolean(v));
        return;
    }
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_int(struct jsonw *w, int64_t v) {
    if (w->tree) {
        tree_add(w, json_integer((json_int_t)v));
        return;
    }
    char tmp[STR_INT64_BUFSZ];
    size_t n = str_fmt_int64(v, tmp);
    before_value(w);
    put(w, tmp, n);
}

void jsonw_raw(struct jsonw *w, const char *json, size_t n) {
    if (w->tree) {
        tree_add(w, json_loadb(json, n, JSON_DECODE_ANY, NULL));
        return;
    }
    before_value(w);
    put(w, json, n);
}

int jsonw_finish(struct jsonw *w, size_t *ret_len) {
    if (w->tree || w->overflow || w->depth != 0)
        return -1;
    *ret_len = w->len;
    return 0;
}
