/*
 * fuzz_jsonw.c - libFuzzer harness for the jsonw streaming writer.
 *
 * The input is read as a program that writes one well-formed JSON value
 * through jsonw (objects, arrays, keys, strings via jsonw_str / jsonw_strn /
 * jsonw_str_or_null, integers, booleans, null, raw fragments), with every
 * string's bytes taken from the input (invalid UTF-8 replaced by '?', since
 * callers hand jsonw UTF-8; NUL and control bytes are kept) - except the
 * counted strings of jsonw_strn, which keep the input's bytes as they are:
 * jsonw writes a byte outside well-formed UTF-8 as the text \xNN, and the
 * harness expects exactly that. While writing, the harness builds the same
 * value with jansson. Then:
 *   - with a large buffer, jsonw_finish() succeeds exactly when nesting stayed
 *     within JSONW_MAX_DEPTH, the output contains no raw control byte, and
 *     jansson parses it back to a value json_equal() to the expected one;
 *   - with a buffer of exactly cap bytes for cap near that length (an
 *     overrun is an ASan report), jsonw_finish() succeeds exactly when the
 *     output fits, and then writes the very same bytes.
 * Invariant failures abort(). The harness keeps no global state.
 */
#include "fuzz_check.h"
#include "lib/jsonw.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than JSONW_MAX_DEPTH, so the depth limit is exercised, but bounded. */
#define GEN_DEPTH_MAX (JSONW_MAX_DEPTH + 8)
#define GEN_CHILDREN_MAX 5
#define STR_MAX 255

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
    const uint8_t *p;
    size_t n, i;
};

/* The next input byte, or 0 once the input is used up (0 always picks the smallest choice). */
static uint8_t next(struct reader *r) {
    return r->i < r->n ? r->p[r->i++] : 0;
}

/* Length of a valid UTF-8 sequence (RFC 3629: no overlongs, surrogates or values above U+10FFFF) at s, or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Reads a length byte and that many bytes into out (NUL-terminated), made valid UTF-8; returns the length. */
static size_t next_string(struct reader *r, char out[STR_MAX + 1]) {
    size_t len = next(r);
    size_t n = 0;
    uint8_t raw[STR_MAX];
    while (n < len && r->i < r->n)
        raw[n++] = r->p[r->i++];
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(raw + i, n - i);
        if (k == 0) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, raw + i, k);
        i += k;
    }
    out[n] = '\0';
    return n;
}

/* Reads a length byte and that many bytes as they are into raw; writes into
 * out (at least 4 * STR_MAX + 1 bytes) the text jsonw must write for them:
 * well-formed UTF-8 as it is, every other byte as \xNN. Returns raw's
 * length; *ret_out gets out's. */
static size_t next_raw_string(struct reader *r, char raw[STR_MAX], char *out, size_t *ret_out) {
    static const char hex[] = "0123456789abcdef";
    size_t len = next(r), n = 0, o = 0;
    while (n < len && r->i < r->n)
        raw[n++] = (char)r->p[r->i++];
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const uint8_t *)raw + i, n - i);
        if (k == 0) {
            unsigned char c = (unsigned char)raw[i++];
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            continue;
        }
        memcpy(out + o, raw + i, k);
        o += k;
        i += k;
    }
    *ret_out = o;
    return n;
}

static json_t *must(json_t *j) {
    CHECK(j != NULL);
    return j;
}

/*
 * Writes one value chosen by the input at nesting level depth (containers
 * already open) and returns the jansson value it should read back as.
 * *max_depth is raised to the deepest nesting any container reached.
 */
static json_t *gen_value(struct reader *r, struct jsonw *w, int depth, int *max_depth) {
    char s[STR_MAX + 1];
    size_t n;

    switch (next(r) % 9) {
    case 0: jsonw_null(w); return json_null();
    case 1: {
        int v = next(r) & 1;
        jsonw_bool(w, v);
        return json_boolean(v);
    }
    case 2: {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | next(r);
        jsonw_int(w, (int64_t)u);
        return must(json_integer((json_int_t)(int64_t)u));
    }
    case 3: { /* counted, bytes as they are: NULs are written as \u0000, non-UTF-8 as \xNN */
        char raw[STR_MAX], want[4 * STR_MAX + 1];
        size_t wn;
        n = next_raw_string(r, raw, want, &wn);
        jsonw_strn(w, raw, n);
        return must(json_stringn(want, wn));
    }
    case 4: /* C string: stops at the first NUL */
        next_string(r, s);
        jsonw_str(w, s);
        return must(json_string(s));
    case 5:
        next_string(r, s);
        jsonw_str_or_null(w, s);
        return s[0] == '\0' ? json_null() : must(json_string(s));
    case 6: { /* a raw fragment: the string as jansson encodes it */
        n = next_string(r, s);
        json_t *j = must(json_stringn(s, n));
        char *enc = json_dumps(j, JSON_ENCODE_ANY);
        CHECK(enc != NULL);
        jsonw_raw(w, enc, strlen(enc));
        free(enc);
        return j;
    }
    case 7: {
        if (depth >= GEN_DEPTH_MAX) {
            jsonw_null(w);
            return json_null();
        }
        if (depth + 1 > *max_depth)
            *max_depth = depth + 1;
        int count = next(r) % (GEN_CHILDREN_MAX + 1);
        json_t *arr = must(json_array());
        jsonw_arr_begin(w);
        for (int i = 0; i < count; i++)
            CHECK(json_array_append_new(arr, gen_value(r, w, depth + 1, max_depth)) == 0);
        jsonw_arr_end(w);
        return arr;
    }
    default: {
        if (depth >= GEN_DEPTH_MAX) {
            jsonw_null(w);
            return json_null();
        }
        if (depth + 1 > *max_depth)
            *max_depth = depth + 1;
        int count = next(r) % (GEN_CHILDREN_MAX + 1);
        json_t *obj = must(json_object());
        jsonw_obj_begin(w);
        for (int i = 0; i < count; i++) {
            next_string(r, s); /* jsonw_key() takes a C string */
            jsonw_key(w, s);
            /* A repeated key: the later value wins, in jansson's reader as here. */
            CHECK(json_object_set_new(obj, s, gen_value(r, w, depth + 1, max_depth)) == 0);
        }
        jsonw_obj_end(w);
        return obj;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct reader rd = {data, size, 0};
    struct jsonw w;
    int max_depth = 0;
    size_t len = 0;

    /* Each input byte yields at most 6 output bytes (\u00XX, or \\xNN); each of at most 5 * size + 1 values adds at
     * most 30. */
    size_t big_cap = 256 * size + 4096;
    char *big = malloc(big_cap);
    CHECK(big != NULL);
    jsonw_init(&w, big, big_cap);
    json_t *want = gen_value(&rd, &w, 0, &max_depth);
    int r = jsonw_finish(&w, &len);
    CHECK(r == 0 || r == -1);
    CHECK((r == 0) == (max_depth <= JSONW_MAX_DEPTH));
    if (r != 0) {
        json_decref(want);
        free(big);
        return 0;
    }
    CHECK(len <= big_cap);
    for (size_t i = 0; i < len; i++)
        CHECK((unsigned char)big[i] >= 0x20);

    json_error_t jerr;
    json_t *got = json_loadb(big, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (got == NULL)
        fprintf(stderr, "jansson rejects jsonw output (%s at %d): %.*s\n", jerr.text, jerr.position, (int)len, big);
    CHECK(got != NULL);
    if (!json_equal(got, want)) {
        char *a = json_dumps(want, JSON_ENCODE_ANY | JSON_SORT_KEYS);
        char *b = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);
        fprintf(stderr, "round trip differs:\n  wrote %s\n  read  %s\n", a ? a : "?", b ? b : "?");
        free(a);
        free(b);
    }
    CHECK(json_equal(got, want));
    json_decref(got);
    json_decref(want);

    /* The same program into exactly cap bytes, cap within 2 of the needed length. */
    size_t cap = len + (size ? data[size - 1] % 5 : 2);
    cap = cap >= 2 ? cap - 2 : 0;
    char *small = malloc(cap ? cap : 1);
    CHECK(small != NULL);
    struct reader rd2 = {data, size, 0};
    int max_depth2 = 0;
    size_t len2 = 0;
    jsonw_init(&w, small, cap);
    json_decref(gen_value(&rd2, &w, 0, &max_depth2));
    int r2 = jsonw_finish(&w, &len2);
    CHECK(max_depth2 == max_depth);
    CHECK((r2 == 0) == (len <= cap));
    if (r2 == 0)
        CHECK(len2 == len && memcmp(small, big, len) == 0);
    free(small);
    free(big);
    return 0;
}
