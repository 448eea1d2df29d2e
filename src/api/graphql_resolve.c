/*
 * graphql_resolve.c - where each GraphQL field gets its value: the REST
 * route it is bound to, run in-process (api_subrequest), or a member of
 * its parent's JSON. So a GraphQL field and its REST route share one
 * handler, one svc call, one authorization check and one set of messages
 * (docs/graphql.md, "How fields resolve").
 *
 * The binding table below names, for the fields that need a route, the
 * method and path (placeholders from the field's arguments, from its
 * `input` argument's members, or from the parent object's JSON) and the
 * shape of the answer. Every other field is its parent's JSON member of
 * the same name in snake_case (createdAt is created_at), with enum values
 * upper-cased on the way out (REST's "active" is ACTIVE) and lower-cased
 * on the way in.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/graphql.h"
#include "lib/str.h"

enum shape {
    SHAPE_OBJECT,     /* the answer as it is */
    SHAPE_CONNECTION, /* a page: {items, next_cursor, cursors} as a Relay connection */
    SHAPE_ITEMS,      /* the answer's "items" */
    SHAPE_KEYS,       /* the answer's "keys" (a secret folder's listing) */
    SHAPE_METADATA,   /* the answer's "metadata" */
    SHAPE_DELETED,    /* 204 as {"deleted": true} */
    SHAPE_ECHO,       /* 204 (a membership or binding put) as the field's arguments, snake_cased */
};

struct binding {
    const char *type, *field;
    unsigned method; /* 0: a member of the parent's JSON, named by path */
    const char *path;
    const char *query; /* a fixed query string, or NULL */
    enum shape shape;
};

/*
 * Placeholders: {x} an argument x (or member x of the argument `input`),
 * one path segment; {x...} the same, any number of segments; {.x} member
 * x of the parent's JSON. A field may have several rows: the first whose
 * placeholders all have values is used (createToken: a service account's,
 * a user's, or the caller's own). Arguments not used in the path go in
 * the body of a change, or in the query of a read (first and after are
 * limit and cursor).
 */
static const struct binding bindings[] = {
    {"Query", "me", M_GET, "/v1/auth/whoami", NULL, SHAPE_OBJECT},
    {"Query", "permissions", M_GET, "/v1/permissions", NULL, SHAPE_ITEMS},
    {"Query", "organization", M_GET, "/v1/orgs/{name}", NULL, SHAPE_OBJECT},
    {"Query", "organizations", M_GET, "/v1/orgs", NULL, SHAPE_CONNECTION},
    {"Query", "tokens", M_GET, "/v1/tokens", NULL, SHAPE_CONNECTION},
    {"Query", "token", M_GET, "/v1/tokens/{id}", NULL, SHAPE_OBJECT},
    {"Query", "auditRecords", M_GET, "/v1/audit", NULL, SHAPE_CONNECTION},
    {"Query", "notices", M_GET, "/v1/notices", NULL, SHAPE_CONNECTION},
    {"Me", "type", 0, "principal.type", NULL, SHAPE_OBJECT},
    {"Me", "name", 0, "principal.name", NULL, SHAPE_OBJECT},
    {"Me", "org", 0, "principal.org", NULL, SHAPE_OBJECT},
    {"Me", "team", 0, "principal.team", NULL, SHAPE_OBJECT},
    {"Organization", "users", M_GET, "/v1/orgs/{.name}/users", NULL, SHAPE_CONNECTION},
    {"Organization", "user", M_GET, "/v1/orgs/{.name}/users/{username}", NULL, SHAPE_OBJECT},
    {"Organization", "teams", M_GET, "/v1/orgs/{.name}/teams", NULL, SHAPE_CONNECTION},
    {"Organization", "team", M_GET, "/v1/orgs/{.name}/teams/{name}", NULL, SHAPE_OBJECT},
    {"Organization", "roles", M_GET, "/v1/orgs/{.name}/roles", NULL, SHAPE_ITEMS},
    {"Organization", "groups", M_GET, "/v1/orgs/{.name}/groups", NULL, SHAPE_CONNECTION},
    {"Organization", "trustedIssuers", M_GET, "/v1/orgs/{.name}/trusted-issuers", NULL, SHAPE_CONNECTION},
    {"Organization", "secretKeys", M_GET, "/v1/orgs/{.name}/secrets/{folder...}", "list=true", SHAPE_KEYS},
    {"Organization", "secretMetadata", M_GET, "/v1/orgs/{.name}/secrets/{path...}", "metadata=true", SHAPE_METADATA},
    {"Organization", "notices", M_GET, "/v1/orgs/{.name}/notices", NULL, SHAPE_CONNECTION},
    {"Organization", "auditRecords", M_GET, "/v1/orgs/{.name}/audit", NULL, SHAPE_CONNECTION},
    {"User", "tokens", M_GET, "/v1/orgs/{.org}/users/{.username}/tokens", NULL, SHAPE_CONNECTION},
    {"Team", "members", M_GET, "/v1/orgs/{.org}/teams/{.name}/members", NULL, SHAPE_ITEMS},
    {"Team", "serviceAccounts", M_GET, "/v1/orgs/{.org}/teams/{.name}/service-accounts", NULL, SHAPE_CONNECTION},
    {"Team", "serviceAccount", M_GET, "/v1/orgs/{.org}/teams/{.name}/service-accounts/{name}", NULL, SHAPE_OBJECT},
    {"Team", "workloads", M_GET, "/v1/orgs/{.org}/teams/{.name}/workloads", NULL, SHAPE_CONNECTION},
    {"Team", "workload", M_GET, "/v1/orgs/{.org}/teams/{.name}/workloads/{name}", NULL, SHAPE_OBJECT},
    {"Team", "secretKeys", M_GET, "/v1/orgs/{.org}/teams/{.name}/secrets/{folder...}", "list=true", SHAPE_KEYS},
    {"Team", "secretMetadata", M_GET, "/v1/orgs/{.org}/teams/{.name}/secrets/{path...}", "metadata=true",
     SHAPE_METADATA},
    {"ServiceAccount", "tokens", M_GET, "/v1/orgs/{.org}/teams/{.team}/service-accounts/{.name}/tokens", NULL,
     SHAPE_CONNECTION},
    {"Workload", "bindings", M_GET, "/v1/orgs/{.org}/teams/{.team}/workloads/{.name}/bindings", NULL, SHAPE_ITEMS},
    {"CreatedToken", "secret", 0, "token", NULL, SHAPE_OBJECT},

    {"Mutation", "createToken", M_POST, "/v1/orgs/{org}/teams/{team}/service-accounts/{serviceAccount}/tokens", NULL,
     SHAPE_OBJECT},
    {"Mutation", "createToken", M_POST, "/v1/orgs/{org}/users/{user}/tokens", NULL, SHAPE_OBJECT},
    {"Mutation", "createToken", M_POST, "/v1/tokens", NULL, SHAPE_OBJECT},
    {"Mutation", "rotateToken", M_POST, "/v1/tokens/{id}/rotate", NULL, SHAPE_OBJECT},
    {"Mutation", "revokeToken", M_DELETE, "/v1/tokens/{id}", NULL, SHAPE_DELETED},
    {"Mutation", "createOrganization", M_POST, "/v1/orgs", NULL, SHAPE_OBJECT},
    {"Mutation", "approveOrganization", M_POST, "/v1/orgs/{name}/approve", NULL, SHAPE_OBJECT},
    {"Mutation", "activateOrganization", M_POST, "/v1/orgs/{name}/activate", NULL, SHAPE_OBJECT},
    {"Mutation", "deactivateOrganization", M_POST, "/v1/orgs/{name}/deactivate", NULL, SHAPE_OBJECT},
    {"Mutation", "updateOrganizationSettings", M_PATCH, "/v1/orgs/{org}/settings", NULL, SHAPE_OBJECT},
    {"Mutation", "createUser", M_POST, "/v1/orgs/{org}/users", NULL, SHAPE_OBJECT},
    {"Mutation", "updateUser", M_PATCH, "/v1/orgs/{org}/users/{username}", NULL, SHAPE_OBJECT},
    {"Mutation", "deleteUser", M_DELETE, "/v1/orgs/{org}/users/{username}", NULL, SHAPE_DELETED},
    {"Mutation", "createTeam", M_POST, "/v1/orgs/{org}/teams", NULL, SHAPE_OBJECT},
    {"Mutation", "updateTeam", M_PATCH, "/v1/orgs/{org}/teams/{name}", NULL, SHAPE_OBJECT},
    {"Mutation", "deleteTeam", M_DELETE, "/v1/orgs/{org}/teams/{name}", NULL, SHAPE_DELETED},
    {"Mutation", "setTeamMember", M_PUT, "/v1/orgs/{org}/teams/{team}/members/{username}", NULL, SHAPE_OBJECT},
    {"Mutation", "removeTeamMember", M_DELETE, "/v1/orgs/{org}/teams/{team}/members/{username}", NULL, SHAPE_DELETED},
    {"Mutation", "createServiceAccount", M_POST, "/v1/orgs/{org}/teams/{team}/service-accounts", NULL, SHAPE_OBJECT},
    {"Mutation", "updateServiceAccount", M_PATCH, "/v1/orgs/{org}/teams/{team}/service-accounts/{name}", NULL,
     SHAPE_OBJECT},
    {"Mutation", "deleteServiceAccount", M_DELETE, "/v1/orgs/{org}/teams/{team}/service-accounts/{name}", NULL,
     SHAPE_DELETED},
    {"Mutation", "createWorkload", M_POST, "/v1/orgs/{org}/teams/{team}/workloads", NULL, SHAPE_OBJECT},
    {"Mutation", "deleteWorkload", M_DELETE, "/v1/orgs/{org}/teams/{team}/workloads/{name}", NULL, SHAPE_DELETED},
    {"Mutation", "bindWorkload", M_PUT, "/v1/orgs/{org}/teams/{team}/workloads/{workload}/bindings/{serviceAccount}",
     NULL, SHAPE_ECHO},
    {"Mutation", "unbindWorkload", M_DELETE,
     "/v1/orgs/{org}/teams/{team}/workloads/{workload}/bindings/{serviceAccount}", NULL, SHAPE_DELETED},
    {"Mutation", "createRole", M_POST, "/v1/orgs/{org}/roles", NULL, SHAPE_OBJECT},
    {"Mutation", "deleteRole", M_DELETE, "/v1/orgs/{org}/roles/{name}", NULL, SHAPE_DELETED},
    {"Mutation", "createGroup", M_POST, "/v1/orgs/{org}/groups", NULL, SHAPE_OBJECT},
    {"Mutation", "addGroupMember", M_PUT, "/v1/orgs/{org}/groups/{group}/members/{username}", NULL, SHAPE_ECHO},
    {"Mutation", "removeGroupMember", M_DELETE, "/v1/orgs/{org}/groups/{group}/members/{username}", NULL,
     SHAPE_DELETED},
};

#define PATH_MAX_LEN 1024
#define NAMES_MAX 8

/* camelCase to snake_case: "createdAt" to "created_at". */
static void snake(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (; *in && n + 2 < cap; in++) {
        if (isupper((unsigned char)*in)) {
            out[n++] = '_';
            out[n++] = (char)tolower((unsigned char)*in);
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
}

static const struct binding *binding_of(const char *type, const char *field, size_t *count) {
    const struct binding *first = NULL;
    *count = 0;
    for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++)
        if (strcmp(bindings[i].type, type) == 0 && strcmp(bindings[i].field, field) == 0) {
            if (first == NULL)
                first = &bindings[i];
            (*count)++;
        }
    return first;
}

/* An argument's value: args[name], or args.input[name]. */
static json_t *arg_value(json_t *args, const char *name) {
    json_t *v = json_object_get(args, name);
    if (v == NULL) {
        json_t *in = json_object_get(args, "input");
        if (json_is_object(in))
            v = json_object_get(in, name);
    }
    return v != NULL && !json_is_null(v) ? v : NULL;
}

/* 1 if s may stand in a path: segments of [A-Za-z0-9._~-], none "." or
 * "..", one only unless rest (which may also be "" or end in '/': a
 * folder). Names are slugs; nothing else can reach another route. */
static int path_safe(const char *s, int rest) {
    if (*s == '\0')
        return rest;
    const char *seg = s;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 && !(rest && *p == '\0'))
                return 0;
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            if (!rest)
                return 0;
            seg = p + 1;
            continue;
        }
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '~' || *p == '-'))
            return 0;
    }
}

/* The key of argument name as stored (in args, or in args.input), which
 * lives as long as args; NULL when it is in neither. */
static const char *stable_key(json_t *args, const char *name) {
    void *it = json_object_iter_at(args, name);
    if (it == NULL) {
        json_t *in = json_object_get(args, "input");
        it = json_is_object(in) ? json_object_iter_at(in, name) : NULL;
    }
    return it ? json_object_iter_key(it) : NULL;
}

/*
 * Expands b->path with args and parent into out. 1 when done (names of the
 * arguments used in used[0..*nused)), 0 when a placeholder has no value
 * (the next row may), -1 after writing a message to err for a value that
 * cannot stand in a path.
 */
static int expand(const struct binding *b, json_t *args, json_t *parent, char *out, size_t cap, const char **used,
                  size_t *nused, struct gql_field_error *err) {
    size_t n = 0;
    *nused = 0;
    for (const char *p = b->path; *p;) {
        if (*p != '{') {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *p++;
            continue;
        }
        const char *close = strchr(p, '}');
        char name[64];
        size_t len = (size_t)(close - p - 1);
        int rest = len > 3 && memcmp(close - 3, "...", 3) == 0;
        snprintf(name, sizeof(name), "%.*s", (int)(rest ? len - 3 : len), p + 1);
        json_t *v;
        if (name[0] == '.') {
            v = json_object_get(parent, name + 1);
        } else {
            v = arg_value(args, name);
            const char *key = stable_key(args, name);
            if (key != NULL && *nused < NAMES_MAX)
                used[(*nused)++] = key;
        }
        const char *s = json_is_string(v) ? json_string_value(v) : (rest && v == NULL ? "" : NULL);
        if (s == NULL)
            return 0;
        if (!path_safe(s, rest)) {
            char echo[STR_ECHO_BUFSZ];
            str_echo(s, strlen(s), echo);
            snprintf(err->message, sizeof(err->message), "%.40s: \"%.120s\" is not a valid name",
                     name[0] == '.' ? name + 1 : name, echo);
            err->extensions = json_pack("{s:s, s:i}", "code", "BAD_REQUEST", "status", 400);
            return -1;
        }
        size_t sl = strlen(s);
        if (n + sl + 1 >= cap)
            return -1;
        memcpy(out + n, s, sl);
        n += sl;
        p = close + 1;
    }
    /* A rest placeholder left empty ends the path in '/': the folder's root. */
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return 1;
}

static int used_has(const char *const *used, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(used[i], name) == 0)
            return 1;
    return 0;
}

/* The input type a member of args is (for enums to lower-case). */
static const struct gql_definition *member_type(const struct gql_field_ctx *fc, const struct gql_definition *input,
                                                const char *name) {
    const struct gql_input_value_def *d =
        input ? gql_schema_input_value(input->input_fields, input->ninput_fields, name, strlen(name))
              : gql_schema_input_value(fc->field->args, fc->field->nargs, name, strlen(name));
    return d ? gql_schema_named(fc->schema, d->type) : NULL;
}

static json_t *lowered(json_t *v) {
    char buf[64];
    const char *s = json_string_value(v);
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof(buf); i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return json_string(buf);
}

/* The members of obj not used in the path, snake_cased, enums
 * lower-cased, into out. */
static void members_into(const struct gql_field_ctx *fc, const struct gql_definition *input, json_t *obj,
                         const char *const *used, size_t nused, json_t *out) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (used_has(used, nused, key) || (input == NULL && strcmp(key, "input") == 0))
            continue;
        char sk[64];
        snake(key, sk, sizeof(sk));
        const struct gql_definition *t = member_type(fc, input, key);
        json_object_set_new(out, sk, t && t->kind == GQL_DEF_ENUM && json_is_string(v) ? lowered(v) : json_incref(v));
    }
}

/* A change's body: the arguments (and input members) not used in the path. */
static json_t *body_of(const struct gql_field_ctx *fc, const char *const *used, size_t nused) {
    json_t *body = json_object();
    members_into(fc, NULL, fc->args, used, nused, body);
    json_t *in = json_object_get(fc->args, "input");
    if (json_is_object(in)) {
        const struct gql_input_value_def *d = gql_schema_input_value(fc->field->args, fc->field->nargs, "input", 5);
        members_into(fc, d ? gql_schema_named(fc->schema, d->type) : NULL, in, used, nused, body);
    }
    return body;
}

static void query_add(char *q, size_t cap, const char *key, const char *value) {
    size_t n = strlen(q);
    if (n > 0 && n + 1 < cap)
        q[n++] = '&';
    n += (size_t)snprintf(q + n, n < cap ? cap - n : 0, "%s=", key);
    for (const unsigned char *p = (const unsigned char *)value; *p && n + 4 < cap; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            q[n++] = (char)*p;
        else
            n += (size_t)snprintf(q + n, cap - n, "%%%02X", *p);
    }
    q[n < cap ? n : cap - 1] = '\0';
}

/* A read's query: first and after as limit and cursor, a filter's
 * members and other scalar arguments as themselves, snake_cased. */
static void query_of(const struct gql_field_ctx *fc, const struct binding *b, const char *const *used, size_t nused,
                     char *q, size_t cap) {
    q[0] = '\0';
    if (b->query)
        snprintf(q, cap, "%s", b->query);
    const char *key;
    json_t *v;
    json_object_foreach(fc->args, key, v) {
        if (used_has(used, nused, key) || json_is_null(v))
            continue;
        json_t *obj = json_is_object(v) ? v : NULL;
        const char *k2;
        json_t *v2;
        if (obj != NULL) {
            json_object_foreach(obj, k2, v2) {
                char sk[64], num[32];
                snake(k2, sk, sizeof(sk));
                const char *s = json_is_string(v2) ? json_string_value(v2) : NULL;
                if (json_is_integer(v2))
                    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v2)), s = num;
                if (s != NULL)
                    query_add(q, cap, sk, s);
            }
            continue;
        }
        char sk[64], num[32];
        const char *name = strcmp(key, "first") == 0 ? "limit" : strcmp(key, "after") == 0 ? "cursor" : NULL;
        if (name == NULL) {
            snake(key, sk, sizeof(sk));
            name = sk;
        }
        const char *s = NULL;
        if (json_is_string(v)) {
            const struct gql_definition *t = member_type(fc, NULL, key);
            if (t && t->kind == GQL_DEF_ENUM) {
                json_t *l = lowered(v);
                query_add(q, cap, name, json_string_value(l));
                json_decref(l);
                continue;
            }
            s = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = num;
        } else if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
        }
        if (s != NULL)
            query_add(q, cap, name, s);
    }
}

/* A REST error answer as a field error: its message, and its status as
 * extensions.code. */
static void error_of(const struct api_capture *c, struct gql_field_error *err) {
    json_t *body = c->json ? json_incref(c->json) : c->body ? json_loadb(c->body, c->len, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(body, "errors"), 0);
    snprintf(err->message, sizeof(err->message), "%s",
             json_is_string(first) ? json_string_value(first) : "the request failed");
    json_decref(body);
    const char *code = c->status == 400   ? "BAD_REQUEST"
                       : c->status == 401 ? "UNAUTHENTICATED"
                       : c->status == 403 ? "FORBIDDEN"
                       : c->status == 404 ? "NOT_FOUND"
                       : c->status == 409 ? "CONFLICT"
                       : c->status == 413 ? "TOO_LARGE"
                       : c->status == 429 ? "RATE_LIMITED"
                       : c->status == 503 ? "UNAVAILABLE"
                                          : "INTERNAL";
    err->extensions = json_pack("{s:s, s:i}", "code", code, "status", c->status);
}

/* A page {items, next_cursor, cursors} as a connection. */
static json_t *connection(json_t *page) {
    json_t *items = json_object_get(page, "items"), *cursors = json_object_get(page, "cursors");
    json_t *next = json_object_get(page, "next_cursor");
    json_t *edges = json_array();
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(edges, json_pack("{s:O, s:O}", "cursor",
                                               json_array_get(cursors, i) ? json_array_get(cursors, i) : json_null(),
                                               "node", json_array_get(items, i)));
    json_t *end = n > 0 && json_array_get(cursors, n - 1) ? json_array_get(cursors, n - 1) : json_null();
    return json_pack("{s:o, s:O, s:{s:b, s:O}}", "edges", edges, "nodes", items, "page_info", "has_next_page",
                     json_is_string(next), "end_cursor", end);
}

/* The member at a dotted path ("principal.name") of v, or NULL. */
static json_t *member_path(json_t *v, const char *dotted) {
    while (v != NULL && *dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        v = json_object_getn(v, dotted, n);
        dotted += n + (dot ? 1 : 0);
    }
    return v;
}

/* Runs the route of a bound field. */
static int run_bound(struct api_graphql_ctx *gc, const struct gql_field_ctx *fc, const struct binding *b, size_t nb,
                     json_t **ret, struct gql_field_error *err) {
    char path[PATH_MAX_LEN], query[PATH_MAX_LEN];
    const char *used[NAMES_MAX];
    size_t nused = 0;
    int e = 0;
    const struct binding *row = NULL;
    for (size_t i = 0; i < nb && row == NULL; i++) {
        e = expand(&b[i], fc->args, fc->parent, path, sizeof(path), used, &nused, err);
        if (e < 0)
            return -1;
        if (e > 0)
            row = &b[i];
    }
    if (row == NULL) {
        snprintf(err->message, sizeof(err->message), "%s.%s: an argument it needs is missing", fc->parent_type->name.s,
                 fc->field->name.s);
        err->extensions = json_pack("{s:s, s:i}", "code", "BAD_REQUEST", "status", 400);
        return -1;
    }
    /* A query never runs a change, whatever the table says. */
    int change = !(row->method & API_READ_METHODS);
    if (change && fc->operation->operation != GQL_OP_MUTATION) {
        snprintf(err->message, sizeof(err->message), "internal error: a query field bound to a change");
        return -1;
    }
    if (++gc->subrequests > API_GRAPHQL_MAX_ROUTES) {
        snprintf(err->message, sizeof(err->message),
                 "this operation needs more than %d route calls: ask for fewer or smaller lists (first)",
                 API_GRAPHQL_MAX_ROUTES);
        err->extensions = json_pack("{s:s, s:i}", "code", "TOO_COMPLEX", "status", 400);
        return -1;
    }
    char *body = NULL;
    size_t body_len = 0;
    if (change) {
        json_t *b_json = body_of(fc, used, nused);
        body = json_dumps(b_json, JSON_COMPACT);
        json_decref(b_json);
        body_len = body ? strlen(body) : 0;
    } else {
        query_of(fc, row, used, nused, query, sizeof(query));
    }
    struct api_capture cap;
    int r = api_subrequest(gc->ar, row->method, path, change ? NULL : query, body, body_len, &cap);
    if (body != NULL) {
        explicit_bzero(body, body_len); /* it may hold a password */
        free(body);
    }
    if (r != 0) {
        snprintf(err->message, sizeof(err->message), "internal error: %s.%s has no route", fc->parent_type->name.s,
                 fc->field->name.s);
        return -1;
    }
    if (cap.status >= 400) {
        error_of(&cap, err);
        json_decref(cap.json);
        return -1;
    }
    if (cap.status == 204) {
        if (row->shape == SHAPE_ECHO) {
            *ret = json_object();
            members_into(fc, NULL, fc->args, NULL, 0, *ret);
        } else {
            *ret = json_pack("{s:b}", "deleted", 1);
        }
        return 0;
    }
    json_t *v = cap.json ? cap.json : json_loadb(cap.body, cap.len, 0, NULL);
    if (v == NULL) {
        snprintf(err->message, sizeof(err->message), "internal error: the route's answer is not JSON");
        return -1;
    }
    json_t *out;
    switch (row->shape) {
    case SHAPE_CONNECTION: out = connection(v); break;
    case SHAPE_ITEMS: out = json_incref(json_object_get(v, "items")); break;
    case SHAPE_KEYS: out = json_incref(json_object_get(v, "keys")); break;
    case SHAPE_METADATA: out = json_incref(json_object_get(v, "metadata")); break;
    default: out = json_incref(v); break;
    }
    json_decref(v);
    *ret = out;
    return 0;
}

/* An enum's REST spelling ("service_account") as its GraphQL value. */
static json_t *enum_out(json_t *v) {
    if (!json_is_string(v))
        return json_incref(v);
    char buf[64];
    const char *s = json_string_value(v);
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof(buf); i++)
        buf[i] = (char)toupper((unsigned char)s[i]);
    buf[i] = '\0';
    return json_string(buf);
}

int api_graphql_resolve(void *ud, const struct gql_field_ctx *fc, json_t **ret, struct gql_field_error *err) {
    struct api_graphql_ctx *gc = ud;
    size_t nb;
    const struct binding *b = binding_of(fc->parent_type->name.s, fc->field->name.s, &nb);
    json_t *v;
    if (b != NULL && b->method != 0)
        return run_bound(gc, fc, b, nb, ret, err);
    if (b != NULL) {
        v = member_path(fc->parent, b->path);
    } else {
        char sk[64];
        snake(fc->field->name.s, sk, sizeof(sk));
        v = json_object_get(fc->parent, sk);
    }
    const struct gql_definition *t = gql_schema_named(fc->schema, fc->field->type);
    *ret = t && t->kind == GQL_DEF_ENUM ? enum_out(v) : json_incref(v);
    return 0;
}
