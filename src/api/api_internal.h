/*
 * api_internal.h - what the api layer files share: the per-worker and
 * per-request contexts, the route table type, path parameters and the
 * reply helpers. Not for other layers.
 */
#ifndef LK_API_API_INTERNAL_H
#define LK_API_API_INTERNAL_H

#include <arpa/inet.h>
#include <h2o.h>
#include <jansson.h>
#include <stdint.h>

#include "api/api.h"
#include "core/errors.h"
#include "core/netaddr.h"
#include "core/ratelimit.h"
#include "lib/log.h"
#include "svc/principal.h"
#include "svc/svc.h"

#define API_MAX_PARAMS 6
#define API_SEGMENT_MAX 128
/* A "{name...}" placeholder, the rest of a path: at most this many bytes. */
#define API_REST_MAX 1024
#define API_REQUEST_ID_LEN 24
/* Largest ?cursor= accepted (a store seq; "s<seq>"). Far above any seq a
 * store hands out, and far enough below INT64_MAX that a store's cursor
 * arithmetic (seq + 1, block rounding) cannot overflow. */
#define API_CURSOR_MAX (INT64_C(1) << 62)

enum api_method { M_GET = 1, M_POST = 2, M_PUT = 4, M_PATCH = 8, M_DELETE = 16, M_LIST = 32, M_HEAD = 64 };
/* Methods that change nothing: no request transaction, no CSRF check, and
 * their audit record is queued like a read's. HEAD is routed as GET. */
#define API_READ_METHODS (M_GET | M_LIST | M_HEAD)

struct api_req;
typedef void (*api_handler_fn)(struct api_req *ar);

/* Where the request's credential came from: a header is sent only by code
 * that chose to; a cookie a browser adds on its own (csrf.c). */
enum api_cred_source { API_CRED_NONE, API_CRED_HEADER, API_CRED_COOKIE };

/* struct api_route's auth bits. */
#define API_AUTH 1
#define API_SEALED_OK 2
/* The Vault-compatible door (vault.c, docs/vault-compatibility.md): the
 * token may come in X-Vault-Token, a refused credential or permission is
 * Vault's 403, a missing thing Vault's 404 {"errors":[]}, and ?help=1 has
 * Vault's shape. */
#define API_VAULT 4
/* A door route whose handler holds a token to its Vault policies itself,
 * more finely than its method says (KV: create where nothing is, update
 * where something is). */
#define API_VAULT_ACL_SELF 8
/* An unauthenticated route whose credential travels in its body (the
 * subject token of POST /v1/oauth/token), never in a cookie: no cookie is
 * read for it, and the CSRF check (csrf.c) is skipped, since a forged
 * request could only carry a credential its forger already holds, and
 * OAuth clients send forms, not JSON. */
#define API_BODY_CREDENTIAL 16
/* A POST route that decides itself whether it changes anything (GraphQL:
 * a query reads, a mutation writes): the pipeline begins no request
 * transaction for it, and its handler calls api_begin_change when it
 * will change something. Never run as a subrequest. */
#define API_TX_SELF 32

struct api_route {
    unsigned method;     /* one enum api_method */
    const char *pattern; /* "/v1/tokens/{id}" */
    int auth; /* API_AUTH: a verified credential is required; API_SEALED_OK: answers while sealed; API_VAULT */
    const char *action; /* stable name, e.g. "token.create" */
    api_handler_fn fn;
    const char *help;
};

struct api_pending;
struct api_graphql_docs;

/* Frees a worker's cache of GraphQL documents (routes_graphql.c). NULL-safe. */
void api_graphql_docs_free(struct api_graphql_docs *d);

/* The answer of a route run inside another request (api_subrequest):
 * its status, and its body either as JSON text (in the request's pool)
 * or, when the handler answered with a JSON value, as that value (json, a
 * reference the caller owns; body NULL), never sent or audited. */
struct api_capture {
    int status;
    const char *body;
    size_t len;
    json_t *json;
};

/* One worker thread's api state (api.h): made on the main thread before the
 * worker starts, then touched by that worker's thread only (the audit
 * writer reaches it through audit_receiver, h2o's thread-safe queue). */
struct api_ctx {
    const struct api_config *cfg; /* read-only */
    int idx;                      /* the worker's number, in request ids */
    struct svc svc;               /* svc.store is this worker's own connection */
    h2o_evloop_t *loop;           /* from api_ctx_start */
    h2o_multithread_queue_t *queue;
    struct logbuf access; /* access-log lines waiting for the next flush */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    int audit_sub;                             /* this worker's subscriber id in cfg->audit */
    h2o_multithread_receiver_t audit_receiver; /* "your tickets are durable" from the audit writer */
    struct api_pending *pending_head;          /* answers waiting for their audit record, in ticket order */
    struct api_pending *pending_tail;
    h2o_multithread_receiver_t rerun_receiver; /* "run it again": a fetch a request waited on ended (rerun.c) */
    int stopping;                              /* api_ctx_stop began: nothing runs again */
    struct api_graphql_docs *graphql_docs; /* GraphQL documents this worker parsed and validated (routes_graphql.c) */
    uint64_t request_seq;                  /* for request ids */
    char request_prefix[9];                /* random per worker start, for request ids */
    int64_t time_cached_s;                 /* access-log timestamp cache */
    char time_cached[24];
};

struct api_req {
    h2o_req_t *req;
    struct api_ctx *ctx;
    struct svc *svc; /* &ctx->svc: what handlers hand to svc calls */
    const struct api_route *route;
    char request_id[API_REQUEST_ID_LEN + 1];
    /* Path parameters in pattern order, NUL-terminated, in the request
     * pool: handlers read them by name (api_param). */
    const char *params[API_MAX_PARAMS];
    size_t nparams;
    struct principal principal; /* type NONE when unauthenticated */
    int have_token_limit;       /* token rate-limit result below is valid */
    struct rl_result token_limit;
    struct lk_error err;
    int64_t start_us;
    int replied;
    int mutating;           /* runs in a request transaction (store_request_begin) */
    int help;               /* answered ?help=1 instead of running the route */
    int deferred;           /* the handler handed it to api_rerun_after_fetch: no answer from this run */
    int rerun;              /* this is its second run (rerun.c): it never waits again */
    h2o_iovec_t credential; /* as presented, for the audit HMAC when it fails; never logged */
    int credential_failed;
    enum api_cred_source cred_source;
    /* Set by handlers whose subject is in the body, not the path or the
     * principal (sign-up, org creation, login); pool strings. */
    const char *audit_org;
    const char *audit_actor; /* login: the username tried */
    /* Set by handlers whose record names more than the path (an identity
     * token's jti); a pool string, recorded instead of the path. */
    const char *audit_resource;
    /* Set by handlers whose action depends on the request rather than the
     * route (GraphQL: graphql.query, graphql.mutation); a static string. */
    const char *audit_action;
    /* Set by handlers whose 200 may still carry a refusal (a GraphQL
     * response with field errors): the record's outcome; a static string. */
    const char *audit_outcome;
    /* Set by handlers that establish which org the record is filed under
     * where the principal cannot say (api_audit_file_under); pool strings. */
    const char *audit_filed_org_id;
    const char *audit_filed_org;
    char client_addr[INET6_ADDRSTRLEN]; /* api_client_addr(), once formatted */
    int client_addr_done;
    struct netaddr client; /* the same as a value; family 0 when there is none */
    int peer_trusted;      /* the peer is a --trusted-proxy: its X-Forwarded-* are believed */
    int rollback;          /* a change that answers 2xx but must not stay (a GraphQL mutation with an error) */
    /* A subrequest (api_subrequest): its answer goes to capture, and its
     * query string and body are these instead of the request's. */
    struct api_capture *capture;
    const char *sub_query; /* "a=1&b=x%20y", or NULL */
    h2o_iovec_t sub_body;  /* JSON, or base NULL for none */
};

/*
 * Runs the route for method and path (no query string; query in sub
 * form, may be NULL; body JSON or NULL) as the principal of parent, in
 * parent's transaction if it has one: the same handler, authorization and
 * validation as when a client calls it, with no reply sent and no audit
 * record of its own (the parent's record covers it). 0 with the answer in
 * *out; -1 when no route takes it, or the route is not one a subrequest
 * may run (unauthenticated, the Vault door's, API_TX_SELF).
 */
int api_subrequest(struct api_req *parent, unsigned method, const char *path, const char *query, const char *body,
                   size_t body_len, struct api_capture *out);

/* For an API_TX_SELF route: the request will change something. Begins its
 * transaction, which commits with its audit record (or rolls back with
 * ar->rollback or an error status). */
void api_begin_change(struct api_req *ar);

/* Sets ar->audit_org / ar->audit_actor to copies of the given strings (NULL leaves them). */
void api_audit_subject(struct api_req *ar, const char *org, const char *actor);

/*
 * Files the request's record under the org with this id and name, for the
 * records whose principal does not decide it (docs/audit.md, "Which org a
 * record is filed under"): the org a sign-up created, the org a login
 * entered or tried a real account of, the org the partner admin deleted.
 * Only a handler that has established that the caller belongs to the org
 * (or is the partner admin) may call it.
 */
void api_audit_file_under(struct api_req *ar, const char *org_id, const char *org_name);

/*
 * Route tables, one per resource: routes_<name>.c defines
 * api_routes_<name>[] and ends it with API_ROUTES_END(<name>). The list of
 * resources, in the order the router searches them and `latchkey routes`
 * prints them, is api_resources in meson.build, which generates
 * API_RESOURCES(X) (one X(name) each): adding a resource adds its name
 * there and nothing here.
 */
#include "api_resources.h"
#define API_ROUTES_DECLARE_(name)                                                                                      \
    extern const struct api_route api_routes_##name[];                                                                 \
    extern const size_t api_routes_##name##_count;
API_RESOURCES(API_ROUTES_DECLARE_)
#undef API_ROUTES_DECLARE_
#define API_ROUTES_END(name)                                                                                           \
    const size_t api_routes_##name##_count = sizeof(api_routes_##name) / sizeof(api_routes_##name[0])

/* JSON of an org (routes_orgs.c) and of a user of the org named org
 * (routes_users.c; sign-up answers with its first admin). */
struct org_rec;
struct user_rec;
json_t *api_org_json(const struct org_rec *o);
json_t *api_user_json(const struct user_rec *u, const char *org);

/* JSON of built-in role number role (enum perm_builtin_role) with its
 * permissions, as the role list and the permission catalogue show it
 * (routes_groups.c). */
json_t *api_builtin_role_json(int role);

/* Finds the route for method+path; fills params. Returns the route, or NULL
 * with *ret_allowed set to the methods the path does accept (0 = no such path). */
/* The i-th route of all, in the order the router searches them; NULL past the last. */
const struct api_route *api_route_nth(size_t i);
const struct api_route *api_route_match(unsigned method, const char *path, size_t len, struct api_req *ar,
                                        unsigned *ret_allowed);

/*
 * The value of the matched route's path parameter {name}, as the request
 * sent it (NUL-terminated, in the request pool): api_param(ar, "team") on
 * /v1/orgs/{org}/teams/{team}. Found by name in the route's pattern, with
 * no allocation. Naming a parameter the pattern does not have is a
 * programmer error (assert); api_param_find answers NULL instead.
 */
const char *api_param(const struct api_req *ar, const char *name);
const char *api_param_find(const struct api_req *ar, const char *name);

/*
 * The route for the request's method (api_method_parse) and path. Replies
 * itself and returns NULL when there is none: 400 for a path not in its
 * canonical shape (urlpath_check), 404 for no such path, 405 with Allow
 * for a method the path does not take.
 */
const struct api_route *api_route_request(struct api_req *ar, unsigned method);

/* Parses "GET" etc.; 0 for an unsupported method. */
unsigned api_method_parse(h2o_iovec_t m);

/* Writes "GET, POST" for a method mask into buf. */
void api_methods_format(unsigned mask, char *buf, size_t cap);

/* The client's numeric address ("192.0.2.7", "2001:db8::1"), formatted once
 * per request for the rate limiter, the access log and the audit record;
 * "" when the connection has none (a unix socket). The peer's address,
 * unless the peer is a --trusted-proxy: then the one X-Forwarded-For names
 * (netaddr_forwarded_client). The one place the client address comes from. */
const char *api_client_addr(struct api_req *ar);

/* The key the per-address rate limits count under: the client address, an
 * IPv6 one as its /64 (netaddr_key). "" (length 0) when there is none. */
size_t api_client_key(struct api_req *ar, char out[NETADDR_KEY_BUFSZ]);

/* 1 if the client reached us over https: the listener serves TLS, or a
 * --trusted-proxy peer says so in X-Forwarded-Proto (which, from a trusted
 * peer, also overrides the listener's scheme to say http). */
int api_request_https(struct api_req *ar);

/* The CSRF defence (csrf.c): for a state-changing request that carries no
 * header credential, 0 if it is JSON from the server's own origin or an
 * allowed one; otherwise replies 400 and returns -1. */
int api_csrf_check(struct api_req *ar);

/* The request's path without its query, as the access log and the audit
 * trail record it (both then cut any token in it back to its public id):
 * as sent, unless it is percent-encoded and its wholly decoded form
 * (str_percent_decode_all: "lk%5F...", "lk%255F...") shows a token: then
 * that form (in req's pool), so that the cut applies. */
h2o_iovec_t api_logged_path(h2o_req_t *req);

struct ratelimiter;
/* Accounts one request for key in rl; on refusal replies 429 with
 * Retry-After and RateLimit headers and returns -1. name is the policy name
 * in the headers ("ip", "token", "login"). */
int api_rate_limit(struct api_req *ar, struct ratelimiter *rl, const char *name, const char *key, size_t keylen,
                   struct rl_result *res);

/* api_rate_limit on the client's key (api_client_key); 0 when there is none. */
int api_rate_limit_client(struct api_req *ar, struct ratelimiter *rl, const char *name, struct rl_result *res);

/* Replies 429 for a refusal res under policy p: Retry-After, RateLimit and
 * RateLimit-Policy (named name), and the message in what ("too many login
 * attempts for this account"), to which the quota and retry time are added.
 * Every 429 goes through here. */
void api_reply_rate_limited(struct api_req *ar, const char *name, const struct rl_policy *p,
                            const struct rl_result *res, const char *what);

/* Zeroes ar for req on ctx's worker, starts its clock and gives it a request id. */
void api_req_init(struct api_req *ar, struct api_ctx *ctx, h2o_req_t *req);

/* --- replies (respond.c); each sends exactly once ------------------------ */

/* Lets a successful answer be cached for max_age seconds
 * ("Cache-Control: public, max-age=N" instead of no-store): for the public
 * documents (discovery, JWKS). Call just before the reply; an error answer
 * stays no-store. */
void api_cacheable(struct api_req *ar, unsigned max_age);

/*
 * The issuer of identity tokens this request deals with: --public-url, or
 * else the URL it came to (scheme and Host), in the request pool. NULL
 * (after replying 400) for a Host that is not a plain host[:port].
 */
const char *api_issuer(struct api_req *ar);

/* A jsonw for the request's answer: text into buf[0..cap), or for a
 * subrequest a JSON value, so that its caller need not parse text back;
 * api_reply_jsonw sends either (500 if it failed or did not fit). */
struct jsonw;
void api_jsonw_begin(struct api_req *ar, struct jsonw *w, char *buf, size_t cap);
void api_reply_jsonw(struct api_req *ar, int status, struct jsonw *w);

/* Sends len bytes of already-encoded JSON (copied into the request pool). */
void api_reply_raw(struct api_req *ar, int status, const char *json, size_t len);
/*
 * Sends len bytes of body as they are, not copied: body must live as long
 * as the request (static data, or the request's pool). Content-Type is the
 * one the handler added to req->res.headers, JSON if it added none; for an
 * error the handler's Content-Type, Content-Encoding and ETag are dropped.
 * 304 sends no body; 301 with len 0 an empty one.
 */
void api_reply_bytes(struct api_req *ar, int status, const char *body, size_t len);
/* Sends body (reference stolen) with status. */
void api_reply_json(struct api_req *ar, int status, json_t *body);
/* 204 No Content. */
void api_reply_empty(struct api_req *ar);
/* {"errors":[msg]} with the status of code. */
void api_reply_error(struct api_req *ar, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"errors":[lk_error_message(e)]} with the status of e->code. */
void api_reply_lkerr(struct api_req *ar, const struct lk_error *e);

/* One item of a listing, or the one record a route answers, as JSON (new reference). */
typedef json_t *(*api_item_json_fn)(struct api_req *ar, const void *item);

/*
 * The shapes a handler ends in, given r, what its svc call returned (0, or
 * a negative code with ar->err set):
 *   api_reply_item: 200 with json_of(ar, item), which is built only when
 *     r == 0 (item is not read otherwise);
 *   api_reply_done: 204;
 * and the error in ar->err when r != 0.
 */
void api_reply_item(struct api_req *ar, int r, const void *item, api_item_json_fn json_of);
void api_reply_done(struct api_req *ar, int r);
/* Adds RateLimit / RateLimit-Policy headers for a policy and result. */
void api_add_ratelimit_headers(struct api_req *ar, const char *name, const struct rl_policy *p,
                               const struct rl_result *r);

/* Sends a response (status, body, X-Request-Id, Content-Type) on req. */
void api_transmit(h2o_req_t *req, const char *request_id, int status, const char *body, size_t len);

/* --- audit (audit_hook.c) ------------------------------------------------ */

/*
 * Records the request's audit entry and sends (or holds back) the reply:
 * a mutation's record commits with its change and the reply waits until
 * both are durable; a failed mutation is rolled back, recorded and waits
 * likewise; a read is recorded through the writer and waits only with
 * --audit-sync-reads. When the record cannot be written the reply becomes
 * a 503 and a mutation's change is not applied.
 */
void api_audit_finish(struct api_req *ar, int status, const char *body, size_t len);

/* Records an answer h2o gave itself (api_h2o_answer) through the writer,
 * without holding it: h2o sends it within the current callback. */
void api_audit_h2o_answer(struct api_req *ar, int status);

/* Registers ctx (whose queue exists) for the audit writer's answers; 0 or
 * -1. _stop, after the writer has stopped, delivers its last answers,
 * drops replies still held and unregisters (api_ctx_start, api_ctx_stop). */
int api_audit_start(struct api_ctx *ctx);
void api_audit_stop(struct api_ctx *ctx);

/* --- request input (request.c) ------------------------------------------ */

enum api_content_type { API_CT_NONE, API_CT_JSON, API_CT_OTHER };

/* What the request's Content-Type says: none, application/json (with or
 * without parameters), or something else. */
enum api_content_type api_content_type(h2o_req_t *req);

/*
 * Parses the body as a JSON object. An empty body is an empty object when
 * allow_empty. On failure replies 400 itself and returns NULL.
 */
json_t *api_body_object(struct api_req *ar, int allow_empty);

/* Rejects members of obj not in the NULL-terminated list (replies 400, returns -1). */
int api_body_only(struct api_req *ar, json_t *obj, const char *const *allowed);

/*
 * api_body_object, then api_body_only with fields: the body as a JSON
 * object with no member outside fields (new reference), or NULL after
 * replying 400.
 */
json_t *api_body_fields(struct api_req *ar, int allow_empty, const char *const *fields);

/* 0 when value (a member read before) is there; else replies 400 "<key>: required", -1. */
int api_required(struct api_req *ar, const char *key, const void *value);

/*
 * Optional member key: an array of at most max strings, read into
 * out[0..*ret_n) (jansson's strings, as long as obj lives). 0 (absent:
 * *ret_n 0), or -1 after replying 400 ("<key>: expected an array of at most
 * <max> <noun>", "<key>[i]: expected a string").
 */
int api_body_strings(struct api_req *ar, json_t *obj, const char *key, const char *noun, const char **out, size_t max,
                     size_t *ret_n);

/* Optional boolean member: 0 absent (*ret untouched), 1 present, -1 replied 400. */
int api_body_bool(struct api_req *ar, json_t *obj, const char *key, int *ret);

/* Optional string member: 0 absent (*ret NULL), 1 present, -1 replied 400. */
int api_body_string(struct api_req *ar, json_t *obj, const char *key, const char **ret);

/* Optional integer member: 0 absent, 1 present, -1 replied 400. */
int api_body_int(struct api_req *ar, json_t *obj, const char *key, int64_t *ret);

/* Query parameter value (not decoded beyond h2o's), or NULL. */
const char *api_query(struct api_req *ar, const char *name);

/* Parses ?limit= and ?cursor= (an opaque seq). Replies 400 and returns -1 on bad input. */
int api_paging(struct api_req *ar, int def_limit, int max_limit, int *ret_limit, int64_t *ret_after);

/* "s<seq>" cursor string for a list answer, into buf. */
void api_cursor_format(int64_t seq, char *buf, size_t cap);

/*
 * Replies to a listing's svc call r, fetched with one more than limit: the
 * error in ar->err when r != 0, else a page of the first min(count, limit)
 * of items (each size bytes, with its int64_t seq at seq_off) through
 * json_of, and a next_cursor when there were more.
 */
void api_reply_list(struct api_req *ar, int r, const void *items, size_t count, size_t size, size_t seq_off, int limit,
                    api_item_json_fn json_of);
/* {"items": items (stolen), "next_cursor": cursor after last_seq, or null
 * when !more}. */
void api_reply_page(struct api_req *ar, json_t *items, int more, int64_t last_seq);

/* Token routes shared by every owner (routes_tokens.c). */
struct token_create_in;
struct token_created;
struct token_list;
typedef int (*api_token_create_fn)(struct api_req *ar, const struct token_create_in *in, struct token_created *out);
typedef int (*api_token_list_fn)(struct api_req *ar, int64_t after, int limit, struct token_list *out);
void api_token_create(struct api_req *ar, api_token_create_fn create);
void api_token_list(struct api_req *ar, api_token_list_fn list_fn);

/*
 * A password login (routes_system.c), for the native login and the Vault
 * door's userpass: the per-account limit's 429, the audit subject and the
 * org a refused attempt on a real account is filed under. 0 with the new
 * session in *out (the caller wipes it with tokens_created_done), or -1
 * after replying. api_login_wipe() wipes pw (jansson's copy) and the
 * request body it came from.
 */
int api_login(struct api_req *ar, const char *org, const char *user, const char *pw, struct token_created *out);
void api_login_wipe(struct api_req *ar, const char *pw);

/* --- the Vault-compatible door (vault.c) --------------------------------- */

/* Go's strconv.ParseBool: 1, t, T, TRUE, true, True and their false
 * twins into *ret; 0, or -1 for anything else. */
int api_vault_parse_bool(const char *s, int *ret);

/* ?list=<bool>: 1 true, 0 absent or false, -1 after replying 400. */
int api_vault_list_query(struct api_req *ar);

/* The body as a JSON object (new reference): absent, empty or "null" is
 * {}, and members whose value is null are dropped, as Vault reads them.
 * NULL after replying 400. */
json_t *api_vault_body(struct api_req *ar);

/* Optional duration member key ("1h", "90m", "3600", or a whole number of
 * seconds) into *ret: 0 absent, 1 present, -1 after replying 400. */
int api_vault_duration(struct api_req *ar, json_t *obj, const char *key, int64_t *ret);

/* 200 with Vault's envelope: request_id, lease_id "", renewable,
 * lease_duration, data, wrap_info null, warnings, auth. data, auth and
 * warnings are stolen; NULL is JSON null. */
void api_vault_reply(struct api_req *ar, json_t *data, json_t *auth, json_t *warnings, int64_t lease_duration,
                     int renewable);

/* 404 {"errors":[]}: a readable path with nothing there. */
void api_vault_not_found(struct api_req *ar);

/*
 * For a request whose token was made by the door with Vault policies of
 * its own (token_entry.vault_acl), before the handler: such a token is
 * the door's only (any other route refuses it), and on a door route its
 * policies must grant what the method asks on the request's Vault path
 * ("sys/policy/x"): read for GET, list for LIST or ?list=true, update
 * for PUT and POST, delete for DELETE, and sudo besides on sys/seal, as
 * Vault asks. Routes marked API_VAULT_ACL_SELF check in their handler.
 * 0, or -1 after replying (403 in the door, 401 outside).
 */
int api_vault_acl_gate(struct api_req *ar, unsigned method);

/* The organisation a door request acts in (*ret, valid for the request):
 * the token's own (X-Vault-Namespace may only repeat it), or for the
 * partner admin the one X-Vault-Namespace names, else the server's
 * --vault-default-org. 0, or -1 after replying (400, or 403). */
int api_vault_org(struct api_req *ar, const char **ret);

/* RFC 3339 string (or JSON null for 0). */
json_t *api_time(int64_t t);

/* A JSON array of the strings names[0..n), rows of width bytes (a store
 * record's list of names, such as char roles[N][W]); NULL on out of memory. */
json_t *api_names(const void *names, size_t width, size_t n);

/*
 * rerun.c: the request waits, off its loop, for a fetch of uri (a trusted
 * issuer's key set) and then runs again from the start. 0, with nothing to
 * answer now (the handler returns at once), or an LK_E* code when it
 * cannot wait (its second run, or too many fetches queued): the handler
 * answers as unavailable.
 */
int api_rerun_after_fetch(struct api_req *ar, const char *uri);
void api_rerun_start(struct api_ctx *ctx);
void api_rerun_stop(struct api_ctx *ctx);
/* api.c: a request's second run (rerun.c). */
void api_handle_again(struct api_ctx *ctx, h2o_req_t *req);

#endif
