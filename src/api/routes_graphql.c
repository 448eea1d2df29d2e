/*
 * routes_graphql.c - GraphQL at /graphql, served as the GraphQL-over-HTTP
 * specification says (docs/graphql.md): GET runs queries (?query=,
 * ?variables= as JSON, ?operationName=), POST runs queries and mutations
 * from an application/json body {"query", "variables", "operationName",
 * "extensions"}; the answer is application/graphql-response+json to a
 * client that names that type, application/json to others (negotiate).
 *
 * Status codes: a request that is not a GraphQL-over-HTTP request (no
 * query, variables not an object, a body that is not JSON) is 400; one
 * whose document does not parse or validate is 400 under
 * application/graphql-response+json and 200 under application/json (as
 * the specification asks of the legacy type); one that executes is 200,
 * field errors or not. A mutation over GET is 405.
 *
 * A request is authenticated like every /v1 route and audited once: the
 * action graphql.query or graphql.mutation, the operation's name in the
 * resource. A mutation runs in one transaction that commits with that
 * record; if any of its fields raised an error, nothing of it stays (the
 * fields after the failing one do not run, and data is null).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/graphql.h"
#include "core/graphql_schema.h"
#include "core/graphql_validate.h"
#include "core/httpneg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/str.h"

extern const char api_graphql_schema[];
extern const size_t api_graphql_schema_len;

/* What one request's document may be and cost (docs/graphql.md, "Limits"). */
#define GQL_REQ_MAX_BYTES (64 * 1024)
#define GQL_REQ_MAX_TOKENS 4000
#define GQL_REQ_MAX_DEPTH 40
#define GQL_REQ_MAX_FIELD_DEPTH 15
#define GQL_REQ_MAX_ALIASES 30
#define GQL_REQ_MAX_FIELDS 1000
/* An operation name kept in the audit record. */
#define GQL_OP_NAME_MAX 64

#define CT_GRAPHQL "application/graphql-response+json; charset=utf-8"
#define CT_JSON "application/json; charset=utf-8"

static pthread_once_t schema_once = PTHREAD_ONCE_INIT;
static struct gql_schema *schema;

static void schema_load(void) {
    struct gql_error err = {0};
    if (gql_schema_build(api_graphql_schema, api_graphql_schema_len, &schema, &err) != 0)
        lk_log(LOG_ERROR, "the GraphQL schema does not build (%u:%u): %s", err.line, err.column, err.message);
}

/*
 * Each worker keeps the documents it parsed and validated lately, keyed by
 * their text: clients send the same few queries again and again, and a
 * document is never changed once parsed, nor is its validity (the schema
 * and the limits are fixed for the process). Direct-mapped by a hash of
 * the text, the whole text compared on a hit; only valid documents of at
 * most DOCS_TEXT_MAX bytes whose tree takes at most DOCS_TREE_MAX are
 * kept, so a worker's cache holds at most DOCS_SLOTS * (DOCS_TEXT_MAX +
 * DOCS_TREE_MAX), about 2.5 MiB, whatever its clients send. Touched by
 * its worker's thread only.
 */
#define DOCS_SLOTS 64
#define DOCS_TEXT_MAX 8192
#define DOCS_TREE_MAX (32 * 1024)

struct doc_slot {
    char *text;
    size_t len;
    uint64_t hash;
    struct gql_document *doc;
};

struct api_graphql_docs {
    struct doc_slot slots[DOCS_SLOTS];
};

void api_graphql_docs_free(struct api_graphql_docs *d) {
    if (d == NULL)
        return;
    for (size_t i = 0; i < DOCS_SLOTS; i++) {
        free(d->slots[i].text);
        gql_document_free(d->slots[i].doc);
    }
    free(d);
}

/* FNV-1a, 64 bits: the slot, not a defence (the text is compared). */
static uint64_t text_hash(const char *s, size_t n) {
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

static const struct gql_document *docs_find(struct api_ctx *ctx, const char *text, size_t len, uint64_t h) {
    struct api_graphql_docs *d = ctx->graphql_docs;
    if (d == NULL)
        return NULL;
    struct doc_slot *s = &d->slots[h % DOCS_SLOTS];
    if (s->doc != NULL && s->hash == h && s->len == len && memcmp(s->text, text, len) == 0)
        return s->doc;
    return NULL;
}

/* Keeps doc (valid) for text: 1 when the cache took it over, 0 when the
 * caller still owns it (too long a text, or no memory). */
static int docs_keep(struct api_ctx *ctx, const char *text, size_t len, uint64_t h, struct gql_document *doc) {
    if (len > DOCS_TEXT_MAX || arena_used(doc->arena) > DOCS_TREE_MAX)
        return 0;
    if (ctx->graphql_docs == NULL && (ctx->graphql_docs = calloc(1, sizeof(*ctx->graphql_docs))) == NULL)
        return 0;
    struct doc_slot *s = &ctx->graphql_docs->slots[h % DOCS_SLOTS];
    char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, text, len);
    free(s->text);
    gql_document_free(s->doc);
    s->text = copy;
    s->len = len;
    s->hash = h;
    s->doc = doc;
    return 1;
}

/* How the answer is written: under which type, and whether a document
 * that does not parse or validate is a 400. */
struct answer {
    const char *content_type;
    int request_error_status;
};

/* Sends body (stolen) under the negotiated type. */
static void reply(struct api_req *ar, const struct answer *a, int status, json_t *body) {
    h2o_req_t *req = ar->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, "Content-Type", a->content_type,
                   strlen(a->content_type));
    api_reply_json(ar, status, body); /* the type above stays */
}

/* {"errors": [{"message": msg}]} with status. */
static void reply_request_error(struct api_req *ar, const struct answer *a, int status, const char *msg,
                                const struct gql_loc *loc) {
    reply(ar, a, status, json_pack("{s:[o]}", "errors", gql_error_json(msg, loc)));
}

/* Which type the client accepts: graphql-response+json when it names
 * that type and takes it at least as well as application/json;
 * application/json when it takes that (through a wildcard too, as the
 * specification asks while older clients are about) or sends no Accept;
 * none (406) otherwise. */
static int negotiate(struct api_req *ar, struct answer *a) {
    ssize_t i = h2o_find_header(&ar->req->headers, H2O_TOKEN_ACCEPT, -1);
    a->content_type = CT_JSON;
    a->request_error_status = 200;
    if (i < 0)
        return 0;
    h2o_iovec_t v = ar->req->headers.entries[i].value;
    int named = 0;
    int gr = httpneg_media_q(v.base, v.len, "application/graphql-response+json", &named);
    int js = httpneg_media_q(v.base, v.len, "application/json", NULL);
    if (named && gr > 0 && gr >= js) {
        a->content_type = CT_GRAPHQL;
        a->request_error_status = 400;
        return 0;
    }
    if (js > 0)
        return 0;
    if (gr > 0) { /* only through a wildcard that application/json is refused from */
        a->content_type = CT_GRAPHQL;
        a->request_error_status = 400;
        return 0;
    }
    api_reply_error(ar, LK_ENOTACCEPTABLE,
                    "this endpoint answers application/graphql-response+json or application/json; the Accept "
                    "header takes neither");
    return -1;
}

/* The request's parameters. */
struct params {
    const char *query;
    size_t query_len;
    json_t *variables; /* object or NULL */
    const char *operation_name;
    json_t *holder; /* what owns the strings (the POST body), or NULL */
};

static int params_get(struct api_req *ar, const struct answer *a, int post, struct params *p) {
    memset(p, 0, sizeof(*p));
    if (!post) {
        const char *vars = api_query(ar, "variables");
        p->query = api_query(ar, "query");
        p->operation_name = api_query(ar, "operationName");
        if (p->operation_name != NULL && p->operation_name[0] == '\0')
            p->operation_name = NULL;
        if (vars != NULL && vars[0] != '\0') {
            json_error_t jerr;
            p->variables = json_loads(vars, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
            if (json_is_null(p->variables)) {
                json_decref(p->variables);
                p->variables = NULL;
            } else if (!json_is_object(p->variables)) {
                json_decref(p->variables);
                p->variables = NULL;
                reply_request_error(ar, a, 400, "variables: expected a JSON object", NULL);
                return -1;
            }
        }
    } else {
        if (api_content_type(ar->req) != API_CT_JSON) {
            api_reply_error(ar, LK_EMEDIATYPE, "Content-Type must be application/json for a GraphQL POST");
            return -1;
        }
        json_error_t jerr;
        h2o_iovec_t e = ar->req->entity;
        json_t *body = e.base ? json_loadb(e.base, e.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        if (!json_is_object(body)) {
            json_decref(body);
            reply_request_error(ar, a, 400,
                                "the body must be a JSON object {\"query\", \"variables\", "
                                "\"operationName\"}",
                                NULL);
            return -1;
        }
        p->holder = body;
        json_t *q = json_object_get(body, "query"), *v = json_object_get(body, "variables"),
               *o = json_object_get(body, "operationName"), *x = json_object_get(body, "extensions");
        if (q != NULL && !json_is_string(q)) {
            reply_request_error(ar, a, 400, "query: expected a string", NULL);
            return -1;
        }
        if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
            reply_request_error(ar, a, 400, "variables: expected an object", NULL);
            return -1;
        }
        if (o != NULL && !json_is_null(o) && !json_is_string(o)) {
            reply_request_error(ar, a, 400, "operationName: expected a string", NULL);
            return -1;
        }
        if (x != NULL && !json_is_null(x) && !json_is_object(x)) {
            reply_request_error(ar, a, 400, "extensions: expected an object", NULL);
            return -1;
        }
        if (q != NULL) {
            p->query = json_string_value(q);
            p->query_len = json_string_length(q);
        }
        if (json_is_object(v))
            p->variables = json_incref(v);
        if (json_is_string(o) && json_string_length(o) > 0)
            p->operation_name = json_string_value(o);
    }
    if (p->query == NULL) {
        reply_request_error(ar, a, 400, "query: required (the GraphQL document to run)", NULL);
        return -1;
    }
    if (!post)
        p->query_len = strlen(p->query);
    return 0;
}

/* The audit record names the operation: "/graphql#Name", "/graphql" for
 * an anonymous one. */
static void audit_operation(struct api_req *ar, const struct gql_definition *op) {
    ar->audit_action = op->operation == GQL_OP_MUTATION ? "graphql.mutation" : "graphql.query";
    if (op->name.s == NULL)
        return;
    char buf[GQL_OP_NAME_MAX + 16];
    int n = snprintf(buf, sizeof(buf), "/graphql#%.*s", GQL_OP_NAME_MAX, op->name.s);
    ar->audit_resource = h2o_strdup(&ar->req->pool, buf, (size_t)n).base;
}

/* The validator's problems as GraphQL errors. */
static json_t *diags_json(const struct gql_diags *d) {
    json_t *errors = json_array();
    for (size_t i = 0; i < d->count; i++) {
        json_t *e = gql_error_json(d->items[i].message, NULL);
        if (d->items[i].nloc > 0) {
            json_t *locs = json_array();
            for (size_t k = 0; k < d->items[i].nloc; k++)
                json_array_append_new(locs, json_pack("{s:i, s:i}", "line", (int)d->items[i].loc[k].line, "column",
                                                      (int)d->items[i].loc[k].column));
            json_object_set_new(e, "locations", locs);
        }
        json_array_append_new(errors, e);
    }
    return errors;
}

/* The outcome a 200 with field errors records: denied when one was a
 * refusal, error otherwise. */
static const char *outcome_of(json_t *errors) {
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        const char *code = json_string_value(json_object_get(json_object_get(e, "extensions"), "code"));
        if (code != NULL && (strcmp(code, "FORBIDDEN") == 0 || strcmp(code, "UNAUTHENTICATED") == 0))
            return "denied";
    }
    return "error";
}

static void h_graphql(struct api_req *ar) {
    struct answer a;
    struct params p = {0};
    int post = h2o_memis(ar->req->method.base, ar->req->method.len, H2O_STRLIT("POST"));
    pthread_once(&schema_once, schema_load);
    if (schema == NULL) {
        api_reply_error(ar, LK_EINTERNAL, "internal error: the GraphQL schema is not available (request %s)",
                        ar->request_id);
        return;
    }
    if (negotiate(ar, &a) != 0 || params_get(ar, &a, post, &p) != 0) {
        json_decref(p.variables);
        json_decref(p.holder);
        return;
    }
    static const struct gql_limits limits = {GQL_REQ_MAX_BYTES, GQL_REQ_MAX_TOKENS, GQL_REQ_MAX_DEPTH};
    static const struct gql_cost_limits costs = {GQL_REQ_MAX_FIELD_DEPTH, GQL_REQ_MAX_ALIASES, GQL_REQ_MAX_FIELDS};
    struct gql_document *doc = NULL; /* parsed here, and not (yet) the cache's */
    const struct gql_document *cur;
    struct gql_error perr = {0};
    struct gql_diags diags = {0};
    const struct gql_definition *op = NULL;
    char msg[GQL_ERRMSG_MAX];
    uint64_t h = text_hash(p.query, p.query_len);
    if ((cur = docs_find(ar->ctx, p.query, p.query_len, h)) == NULL) {
        if (gql_parse(p.query, p.query_len, &limits, &doc, &perr) != 0) {
            struct gql_loc loc = {perr.line, perr.column, 0, 0};
            reply_request_error(ar, &a, perr.code == LK_ENOMEM ? 503 : a.request_error_status, perr.message, &loc);
            goto out;
        }
        int vr = gql_validate(schema, doc, &costs, &diags);
        if (vr != 0) {
            if (vr == LK_ENOMEM)
                api_reply_error(ar, LK_ENOMEM, "out of memory");
            else
                reply(ar, &a, a.request_error_status, json_pack("{s:o}", "errors", diags_json(&diags)));
            goto out;
        }
        cur = doc;
        if (docs_keep(ar->ctx, p.query, p.query_len, h, doc))
            doc = NULL;
    }
    if (cur == NULL) { /* gql_parse gives a document whenever it answers 0 */
        api_reply_error(ar, LK_EINTERNAL, "internal error (request %s)", ar->request_id);
        goto out;
    }
    if (gql_operation_select(cur, p.operation_name, &op, msg) != 0) {
        reply_request_error(ar, &a, a.request_error_status, msg, NULL);
        goto out;
    }
    audit_operation(ar, op);
    if (op->operation != GQL_OP_QUERY && !post) {
        h2o_add_header(&ar->req->pool, &ar->req->res.headers, H2O_TOKEN_ALLOW, "Allow", H2O_STRLIT("POST"));
        reply_request_error(ar, &a, 405, "a mutation runs only over POST", &op->loc);
        goto out;
    }
    if (op->operation == GQL_OP_MUTATION)
        api_begin_change(ar);
    struct api_graphql_ctx gc = {ar, 0};
    struct gql_exec_in in = {schema, cur, op, p.variables, api_graphql_resolve, &gc};
    json_t *result = NULL;
    size_t nerrors = 0;
    int r = gql_execute(&in, &result, &nerrors);
    if (r == LK_ENOMEM || result == NULL) {
        json_decref(result);
        api_reply_error(ar, LK_ENOMEM, "out of memory");
        goto out;
    }
    if (r != 0) { /* the variables did not fit: a request error */
        if (op->operation == GQL_OP_MUTATION)
            ar->rollback = 1;
        reply(ar, &a, a.request_error_status, result);
        goto out;
    }
    if (nerrors > 0) {
        ar->audit_outcome = outcome_of(json_object_get(result, "errors"));
        if (op->operation == GQL_OP_MUTATION)
            ar->rollback = 1; /* nothing of a failed mutation stays */
    }
    reply(ar, &a, 200, result);
out:
    gql_diags_free(&diags);
    gql_document_free(doc);
    json_decref(p.variables);
    json_decref(p.holder);
}

const struct api_route api_routes_graphql[] = {
    {M_GET, "/graphql", API_AUTH, "graphql.query", h_graphql,
     "GraphQL over HTTP (docs/graphql.md): ?query=<document>&variables=<JSON>&operationName=<name>; queries "
     "only. Answers application/graphql-response+json when the client names it in Accept, application/json otherwise."},
    {M_POST, "/graphql", API_AUTH | API_TX_SELF, "graphql", h_graphql,
     "GraphQL over HTTP (docs/graphql.md): an application/json body {\"query\", \"variables\", "
     "\"operationName\"}; queries and mutations. The schema is api/schema.graphql; introspection is on."},
};
API_ROUTES_END(graphql);
