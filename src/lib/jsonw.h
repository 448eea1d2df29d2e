/*
 * jsonw.h - a streaming JSON writer into a caller-supplied buffer.
 *
 * For the hottest answers (whoami, health, every error envelope): jansson
 * builds a tree and its encoder keeps a hash table of containers per call for
 * loop detection, which measured as the largest user-space cost of the
 * verify path. This writer does neither: it appends escaped text, tracks
 * commas, and reports overflow instead of allocating. Strings are expected
 * in UTF-8; a byte outside well-formed UTF-8 is written as the text \xNN,
 * so what it writes is valid JSON whatever it is handed.
 *
 * The same calls can build a jansson value instead (jsonw_init_tree), for
 * a caller that wants the answer as a value rather than text (the api
 * layer's subrequests): no text is written and none parsed back.
 */
#ifndef LK_LIB_JSONW_H
#define LK_LIB_JSONW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
    char *buf;
    size_t len, cap;
    int overflow; /* set once anything did not fit */
    int depth;
    uint8_t need_comma[JSONW_MAX_DEPTH];
    /* Tree mode (jsonw_init_tree): the value built, the open containers
     * (borrowed from it), and the key the next value goes under. */
    int tree;
    json_t *root;
    json_t *open[JSONW_MAX_DEPTH];
    const char *key;
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
/* A writer that builds a value; take it with jsonw_finish_tree. */
void jsonw_init_tree(struct jsonw *w);
void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
/* An object member's name; the value call follows. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
/* s, or null when s is NULL or empty. */
void jsonw_str_or_null(struct jsonw *w, const char *s);
void jsonw_null(struct jsonw *w);
void jsonw_bool(struct jsonw *w, int v);
void jsonw_int(struct jsonw *w, int64_t v);
/* Already-encoded JSON text, written as one value. */
void jsonw_raw(struct jsonw *w, const char *json, size_t n);

/* 0 and the length, or -1 if the buffer was too small or nesting went wrong. */
int jsonw_finish(struct jsonw *w, size_t *ret_len);
/* Tree mode: the value built (a new reference), or NULL when something
 * failed (out of memory, nesting); either way w holds nothing after. */
json_t *jsonw_finish_tree(struct jsonw *w);

#endif
