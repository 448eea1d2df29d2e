/*
 * request.c - reading request input: the JSON body, typed members, query
 * parameters and paging. Every rejection is a 400 that names the field.
 *
 * Never echoes more than a short, escaped prefix of client input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/rfc3339.h"
#include "core/tokfmt.h"
#include "lib/str.h"

enum api_content_type api_content_type(h2o_req_t *req) {
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return API_CT_NONE;
    h2o_iovec_t v = req->headers.entries[i].value;
    static const char want[] = "application/json";
    if (v.len < sizeof(want) - 1 || strncasecmp(v.base, want, sizeof(want) - 1) != 0)
        return API_CT_OTHER;
    if (v.len == sizeof(want) - 1 || v.base[sizeof(want) - 1] == ';' || v.base[sizeof(want) - 1] == ' ')
        return API_CT_JSON;
    return API_CT_OTHER;
}

json_t *api_body_object(struct api_req *ar, int allow_empty) {
    h2o_req_t *req = ar->req;
    json_error_t jerr;
    h2o_iovec_t entity = ar->capture != NULL ? ar->sub_body : req->entity;
    int empty = entity.base == NULL || entity.len == 0;

    /* A body that says it is something else is refused, even an empty one.
     * One that says nothing is what a page on another site can send
     * without asking (a typeless Blob): refused unless a header credential
     * came with it, which no page can add cross-site (api_csrf_check has
     * already held cookie and credential-less changes to application/json);
     * scripts and clients that send a header credential are unaffected. */
    enum api_content_type ct = ar->capture != NULL ? API_CT_JSON : api_content_type(req);
    if (ct == API_CT_OTHER || (ct == API_CT_NONE && !empty && ar->cred_source != API_CRED_HEADER)) {
        api_reply_error(ar, LK_EINVAL, "Content-Type must be application/json%s",
                        ct == API_CT_NONE ? ": this request has a body and no Content-Type" : "");
        return NULL;
    }
    if (empty) {
        if (allow_empty)
            return json_object();
        api_reply_error(ar, LK_EINVAL, "request body is empty: expected a JSON object");
        return NULL;
    }
    json_t *v = json_loadb(entity.base, entity.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        api_reply_error(ar, LK_EJSON, "request body is not valid JSON: %s at line %d, column %d", jerr.text, jerr.line,
                        jerr.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        api_reply_error(ar, LK_EINVAL, "request body must be a JSON object");
        return NULL;
    }
    return v;
}

int api_body_only(struct api_req *ar, json_t *obj, const char *const *allowed) {
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            char q[STR_ECHO_BUFSZ];
            str_echo(key, strlen(key), q);
            api_reply_error(ar, LK_EINVAL, "unknown field \"%s\"", q);
            return -1;
        }
    }
    return 0;
}

json_t *api_body_fields(struct api_req *ar, int allow_empty, const char *const *fields) {
    json_t *body = api_body_object(ar, allow_empty);
    if (body != NULL && api_body_only(ar, body, fields) < 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

int api_required(struct api_req *ar, const char *key, const void *value) {
    if (value != NULL)
        return 0;
    api_reply_error(ar, LK_EINVAL, "%s: required", key);
    return -1;
}

int api_body_string(struct api_req *ar, json_t *obj, const char *key, const char **ret) {
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        api_reply_error(ar, LK_EINVAL, "%s: expected a string", key);
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        api_reply_error(ar, LK_EINVAL, "%s: must not contain NUL characters", key);
        return -1;
    }
    /* No field of any body holds a token: one pasted into a description or
     * a name would be kept in plain text, shown to others and exported. */
    struct tokfmt_parsed tok;
    if (tokfmt_find(json_string_value(v), json_string_length(v), &tok)) {
        api_reply_error(ar, LK_EINVAL,
                        "%s: holds a whole latchkey token (%s_...): a token is a secret and is not kept in any field; "
                        "take it out",
                        key, tok.pubid);
        return -1;
    }
    *ret = json_string_value(v);
    return 1;
}

int api_body_int(struct api_req *ar, json_t *obj, const char *key, int64_t *ret) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v)) {
        api_reply_error(ar, LK_EINVAL, "%s: expected an integer", key);
        return -1;
    }
    *ret = (int64_t)json_integer_value(v);
    return 1;
}

int api_body_bool(struct api_req *ar, json_t *obj, const char *key, int *ret) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        api_reply_error(ar, LK_EINVAL, "%s: expected true or false", key);
        return -1;
    }
    *ret = json_is_true(v);
    return 1;
}

int api_body_strings(struct api_req *ar, json_t *obj, const char *key, const char *noun, const char **out, size_t max,
                     size_t *ret_n) {
    json_t *a = json_object_get(obj, key);
    size_t i;
    json_t *v;
    *ret_n = 0;
    if (a == NULL)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > max) {
        api_reply_error(ar, LK_EINVAL, "%s: expected an array of at most %zu %s", key, max, noun);
        return -1;
    }
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) {
            api_reply_error(ar, LK_EINVAL, "%s[%zu]: expected a string", key, i);
            return -1;
        }
        out[i] = json_string_value(v);
    }
    *ret_n = json_array_size(a);
    return 0;
}

/* Percent-decodes v[0..n) ('+' is a space, as forms send it) into the pool.
 * A malformed escape or an encoded NUL leaves the value as sent, which then
 * fails the caller's validation instead of being silently cut short. */
static const char *query_decode(h2o_mem_pool_t *pool, const char *v, size_t n) {
    char *out = h2o_mem_alloc_pool(pool, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%') {
            if (i + 2 >= n)
                goto raw;
            int a = str_hex_digit(v[i + 1]), b = str_hex_digit(v[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0))
                goto raw;
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = v[i] == '+' ? ' ' : v[i];
        }
    }
    out[o] = '\0';
    return out;
raw:
    memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

const char *api_query(struct api_req *ar, const char *name) {
    h2o_req_t *req = ar->req;
    const char *q, *end;
    if (ar->capture != NULL) {
        if (ar->sub_query == NULL)
            return NULL;
        q = ar->sub_query;
        end = q + strlen(q);
    } else {
        if (req->query_at == SIZE_MAX)
            return NULL;
        q = req->path.base + req->query_at + 1;
        end = req->path.base + req->path.len;
    }
    size_t nl = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pend = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pend - q));
        const char *kend = eq ? eq : pend;
        if ((size_t)(kend - q) == nl && memcmp(q, name, nl) == 0) {
            const char *v = eq ? eq + 1 : pend;
            return query_decode(&req->pool, v, (size_t)(pend - v));
        }
        q = pend + 1;
    }
    return NULL;
}

static int parse_i64(const char *s, int64_t *ret) {
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *ret = v;
    return 0;
}

int api_paging(struct api_req *ar, int def_limit, int max_limit, int *ret_limit, int64_t *ret_after) {
    const char *l = api_query(ar, "limit");
    const char *c = api_query(ar, "cursor");
    int64_t v;
    *ret_limit = def_limit;
    *ret_after = 0;
    if (l != NULL) {
        if (parse_i64(l, &v) != 0 || v < 1 || v > max_limit) {
            api_reply_error(ar, LK_EINVAL, "limit: must be an integer from 1 to %d", max_limit);
            return -1;
        }
        *ret_limit = (int)v;
    }
    if (c != NULL && *c != '\0') {
        /* Range-checked here, before any arithmetic: a store adds one to a
         * cursor, and INT64_MAX + 1 would wrap round to every record. */
        if (c[0] != 's' || parse_i64(c + 1, &v) != 0 || v > API_CURSOR_MAX) {
            api_reply_error(ar, LK_EINVAL, "cursor: not a cursor this server issued");
            return -1;
        }
        *ret_after = v;
    }
    return 0;
}

void api_cursor_format(int64_t seq, char *buf, size_t cap) {
    snprintf(buf, cap, "s%lld", (long long)seq);
}

void api_reply_list(struct api_req *ar, int r, const void *items, size_t count, size_t size, size_t seq_off, int limit,
                    api_item_json_fn json_of) {
    if (r != 0) {
        api_reply_lkerr(ar, &ar->err);
        return;
    }
    json_t *arr = json_array();
    size_t shown = count > (size_t)limit ? (size_t)limit : count;
    const char *p = items;
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(arr, json_of(ar, p + i * size));
    int64_t last = 0;
    if (shown > 0)
        memcpy(&last, p + (shown - 1) * size + seq_off, sizeof(last));
    if (ar->capture == NULL) {
        api_reply_page(ar, arr, count > shown, last);
        return;
    }
    /* A subrequest (GraphQL's connections) also gets each item's cursor. */
    json_t *cursors = json_array();
    for (size_t i = 0; i < shown; i++) {
        int64_t seq;
        char cur[32];
        memcpy(&seq, p + i * size + seq_off, sizeof(seq));
        api_cursor_format(seq, cur, sizeof(cur));
        json_array_append_new(cursors, json_string(cur));
    }
    char next[32];
    api_cursor_format(last, next, sizeof(next));
    api_reply_json(ar, 200,
                   json_pack("{s:o, s:o, s:o}", "items", arr, "next_cursor",
                             count > shown ? json_string(next) : json_null(), "cursors", cursors));
}

void api_reply_page(struct api_req *ar, json_t *items, int more, int64_t last_seq) {
    json_t *next = json_null();
    if (more) {
        char cur[32];
        api_cursor_format(last_seq, cur, sizeof(cur));
        next = json_string(cur);
    }
    api_reply_json(ar, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

json_t *api_names(const void *names, size_t width, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        if (json_array_append_new(arr, json_string((const char *)names + i * width)) != 0)
            arr = (json_decref(arr), NULL);
    return arr;
}

json_t *api_time(int64_t t) {
    char buf[RFC3339_BUFSZ];
    if (t == 0)
        return json_null();
    rfc3339_format(t, buf);
    return json_string(buf);
}
