/*
 * router.c - matching a method and path against the route table.
 *
 * Patterns are literal segments and {name} placeholders. A placeholder
 * matches one non-empty segment of at most API_SEGMENT_MAX bytes. Only a
 * path in its canonical shape (core/urlpath.h) is matched, so a parameter
 * never holds a '/', a control character or bytes that are not UTF-8.
 * Never allocates outside the request pool; echoes the method and path
 * only through str_echo_n.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_internal.h"
#include "core/urlpath.h"
#include "lib/str.h"

/* Most of a method and of a path that a "no route" answer repeats. */
#define ECHO_METHOD_MAX 16
#define ECHO_PATH_MAX 200

unsigned api_method_parse(h2o_iovec_t m) {
    if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")))
        return M_GET;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("POST")))
        return M_POST;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("PUT")))
        return M_PUT;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("PATCH")))
        return M_PATCH;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("DELETE")))
        return M_DELETE;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("LIST")))
        return M_LIST;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
        return M_HEAD;
    return 0;
}

void api_methods_format(unsigned mask, char *buf, size_t cap) {
    static const struct {
        unsigned m;
        const char *name;
    } names[] = {{M_GET, "GET"},       {M_POST, "POST"}, {M_PUT, "PUT"},  {M_PATCH, "PATCH"},
                 {M_DELETE, "DELETE"}, {M_LIST, "LIST"}, {M_HEAD, "HEAD"}};
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(mask & names[i].m))
            continue;
        int n = snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", names[i].name);
        if (n < 0 || (size_t)n >= cap - off)
            break;
        off += (size_t)n;
    }
}

/* Matches path against pattern; on success stores placeholders in ar. */
static int match(const char *pattern, const char *path, size_t len, struct api_req *ar) {
    const char *p = pattern;
    size_t i = 0;
    size_t np = 0;
    const char *params[API_MAX_PARAMS];
    size_t plen[API_MAX_PARAMS];

    while (*p != '\0' && i < len) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t start = i;
            /* "{name...}", last in a pattern, takes the rest of the path,
             * slashes and all; any other placeholder one segment. */
            int rest = close - p > 4 && memcmp(close - 3, "...", 3) == 0;
            while (i < len && (rest || path[i] != '/'))
                i++;
            if (i == start || i - start > (rest ? API_REST_MAX : API_SEGMENT_MAX) || np == API_MAX_PARAMS)
                return 0;
            params[np] = path + start;
            plen[np++] = i - start;
            p = close + 1;
        } else {
            if (*p != path[i])
                return 0;
            p++;
            i++;
        }
    }
    if (*p != '\0' || i != len)
        return 0;
    if (ar != NULL) {
        for (size_t k = 0; k < np; k++)
            ar->params[k] = h2o_strdup(&ar->req->pool, params[k], plen[k]).base;
        ar->nparams = np;
    }
    return 1;
}

const char *api_param_find(const struct api_req *ar, const char *name) {
    if (ar->route == NULL)
        return NULL;
    size_t n = strlen(name), idx = 0;
    for (const char *p = ar->route->pattern; (p = strchr(p, '{')) != NULL; idx++) {
        const char *close = strchr(p, '}');
        if (close == NULL)
            break;
        size_t len = (size_t)(close - p - 1);
        if (len > 3 && memcmp(close - 3, "...", 3) == 0)
            len -= 3; /* "{path...}" is named "path" */
        if (len == n && memcmp(p + 1, name, n) == 0)
            return idx < ar->nparams ? ar->params[idx] : NULL;
        p = close + 1;
    }
    return NULL;
}

const char *api_param(const struct api_req *ar, const char *name) {
    const char *v = api_param_find(ar, name);
    assert(v != NULL && "api_param: the route's pattern has no such parameter");
    return v;
}

/* Every resource's route table, in the order of API_RESOURCES. */
struct route_table {
    const struct api_route *routes;
    const size_t *count;
};
#define ROUTE_TABLE_(name) {api_routes_##name, &api_routes_##name##_count},
static const struct route_table route_tables[] = {API_RESOURCES(ROUTE_TABLE_)};
#undef ROUTE_TABLE_
#define ROUTE_TABLES_N (sizeof(route_tables) / sizeof(route_tables[0]))

const struct api_route *api_route_nth(size_t i) {
    for (size_t t = 0; t < ROUTE_TABLES_N; t++) {
        if (i < *route_tables[t].count)
            return &route_tables[t].routes[i];
        i -= *route_tables[t].count;
    }
    return NULL;
}

const struct api_route *api_route_match(unsigned method, const char *path, size_t len, struct api_req *ar,
                                        unsigned *ret_allowed) {
    unsigned allowed = 0;
    /* A trailing slash names the same resource. */
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t t = 0; t < ROUTE_TABLES_N; t++) {
        const struct route_table *tab = &route_tables[t];
        for (size_t i = 0; i < *tab->count; i++) {
            const struct api_route *r = &tab->routes[i];
            if (!match(r->pattern, path, len, NULL))
                continue;
            if (r->method == method || (method == M_HEAD && r->method == M_GET)) {
                match(r->pattern, path, len, ar);
                return r;
            }
            allowed |= r->method;
        }
    }
    *ret_allowed = allowed;
    return NULL;
}

const struct api_route *api_route_request(struct api_req *ar, unsigned method) {
    h2o_req_t *req = ar->req;
    size_t rawlen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (urlpath_check(req->path.base, rawlen, &ar->err) != 0) {
        api_reply_lkerr(ar, &ar->err);
        return NULL;
    }
    const char *path = req->path_normalized.base;
    size_t plen = req->path_normalized.len;
    unsigned allowed = 0;
    const struct api_route *route = method ? api_route_match(method, path, plen, ar, &allowed) : NULL;
    if (route != NULL)
        return route;
    /* A method latchkey does not know (0) matches no route, so this
     * collects every method the path takes; for a known one the match
     * above already has. */
    if (method == 0)
        api_route_match(0, path, plen, NULL, &allowed);
    char m[ECHO_METHOD_MAX * 4 + 4], p[ECHO_PATH_MAX * 4 + 4];
    str_echo_n(req->method.base, req->method.len, ECHO_METHOD_MAX, m, sizeof(m));
    str_echo_n(path, plen, ECHO_PATH_MAX, p, sizeof(p));
    if (allowed == 0) {
        api_reply_error(ar, LK_ENOTFOUND, "no route %s %s", m, p);
        return NULL;
    }
    char list[64];
    api_methods_format(allowed, list, sizeof(list));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, "Allow",
                   h2o_strdup(&req->pool, list, strlen(list)).base, strlen(list));
    api_reply_error(ar, LK_EMETHOD, "method %s is not allowed on %s; allowed: %s", m, p, list);
    return NULL;
}

void api_routes_print(FILE *f) {
    const struct api_route *r;
    for (size_t i = 0; (r = api_route_nth(i)) != NULL; i++) {
        char m[16];
        api_methods_format(r->method, m, sizeof(m));
        fprintf(f, "%s %s %s\n", m, r->pattern, r->action);
    }
}
