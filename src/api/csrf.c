/*
 * csrf.c - the defence against cross-site request forgery.
 *
 * A browser attaches the "token" cookie to every request to this server,
 * whichever page makes it, and any page can reach an unauthenticated
 * route. So a state-changing request (any method but GET) that carries no
 * header credential is accepted only when
 *
 *   - it says Content-Type: application/json, even with an empty body: no
 *     form, and no script on another site without a CORS preflight (which
 *     this server never grants), can send that; and
 *   - its Origin, when it names one, is the server's own or one listed in
 *     --allowed-origins ("null" never is); without an Origin, a browser's
 *     Sec-Fetch-Site must not say cross-site or same-site.
 *
 * The server's own origin is the one the browser addressed: the scheme the
 * client reached us by (api_request_https: the listener's, or a trusted
 * proxy's X-Forwarded-Proto) and the Host header (HTTP/2: :authority). A
 * browser sets Host to the site whose cookies it sends, so a page elsewhere
 * can never make the two agree; behind a proxy that rewrites Host, list the
 * public origin in --allowed-origins.
 *
 * Routes marked API_BODY_CREDENTIAL (POST /v1/oauth/token) never come
 * here either: they are unauthenticated, so the cookie is never read for
 * them, and their credential (a foreign subject token) is in the form
 * body. A page on another site can make a browser send that form, but only
 * with a subject token the page already holds, and it cannot read the
 * answer (no CORS): it gains nothing it could not get by calling the route
 * itself. Requiring JSON would only shut out OAuth clients, which send
 * application/x-www-form-urlencoded as RFC 6749 prescribes.
 *
 * Requests with Authorization or X-Latchkey-Token never come here: a page
 * on another site cannot set those headers without a preflight. Nothing
 * here logs; the refusal is a 400 naming what was wrong, audited as such.
 */
#include <string.h>

#include "api/api_internal.h"
#include "core/origin.h"
#include "lib/str.h"

/* The origin the request was addressed to; 0, or -1 without a usable Host. */
static int own_origin(struct api_req *ar, struct origin *ret) {
    /* h2o keeps the Host header (HTTP/2: :authority) here, not in the
     * header list, and fills in its host entry's name when there was none:
     * then no browser sent it, and there is no own origin to compare. */
    h2o_req_t *req = ar->req;
    h2o_iovec_t host = req->input.authority;
    if (host.base == NULL || host.len == 0 ||
        (req->hostconf != NULL &&
         (host.base == req->hostconf->authority.hostport.base || host.base == req->hostconf->authority.host.base)))
        return -1;
    return origin_from_host(api_request_https(ar), host.base, host.len, ret) == 0 ? 0 : -1;
}

/* 1 if the header name occurs more than once. */
static int repeated(h2o_req_t *req, const char *name, size_t len) {
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i >= 0 && h2o_find_header_by_str(&req->headers, name, len, i) >= 0;
}

static int check_origin(struct api_req *ar, const char *what, h2o_iovec_t v) {
    const struct origin_list *allowed = ar->ctx->cfg->allowed_origins;
    struct origin og, own;
    char echo[STR_ECHO_BUFSZ];

    if (h2o_memis(v.base, v.len, H2O_STRLIT("null"))) {
        api_reply_error(ar, LK_EINVAL,
                        "cross-site request refused: Origin null (a sandboxed frame, a local file or a redirect from "
                        "another site) may not send %s",
                        what);
        return -1;
    }
    if (origin_parse(v.base, v.len, &og) != 0) {
        str_echo(v.base, v.len, echo);
        api_reply_error(ar, LK_EINVAL,
                        "cross-site request refused: Origin \"%s\" is not an http or https origin, so it may not send "
                        "%s",
                        echo, what);
        return -1;
    }
    int have_own = own_origin(ar, &own) == 0;
    if ((have_own && origin_equal(&og, &own)) || origin_list_contains(allowed, &og))
        return 0;
    api_reply_error(ar, LK_EINVAL,
                    "cross-site request refused: Origin %s is neither this server's own (%s) nor in --allowed-origins, "
                    "so it may not send %s",
                    og.text, have_own ? own.text : "unknown: no Host header", what);
    return -1;
}

int api_csrf_check(struct api_req *ar) {
    h2o_req_t *req = ar->req;
    const char *what =
        ar->cred_source == API_CRED_COOKIE ? "a change made with the token cookie" : "a change without credentials";

    enum api_content_type ct = api_content_type(req);
    if (ct != API_CT_JSON) {
        api_reply_error(ar, LK_EINVAL,
                        "Content-Type must be application/json for %s, even with an empty body (%s): a form or a page "
                        "on another site cannot send that; programs may send the token in the Authorization header",
                        what, ct == API_CT_NONE ? "this request sent none" : "this request sent another");
        return -1;
    }

    if (repeated(req, H2O_STRLIT("origin"))) {
        api_reply_error(ar, LK_EINVAL, "cross-site request refused: more than one Origin header");
        return -1;
    }
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    if (i >= 0)
        return check_origin(ar, what, req->headers.entries[i].value);

    /* No Origin: browsers send one with every change nowadays, so this is a
     * program, or an old browser; Fetch Metadata, where sent, still tells. */
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("sec-fetch-site"), -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (!h2o_memis(v.base, v.len, H2O_STRLIT("same-origin")) && !h2o_memis(v.base, v.len, H2O_STRLIT("none"))) {
            char echo[STR_ECHO_BUFSZ];
            str_echo(v.base, v.len, echo);
            api_reply_error(ar, LK_EINVAL,
                            "cross-site request refused: the browser marked it Sec-Fetch-Site: %s and it names no "
                            "Origin, so it may not send %s",
                            echo, what);
            return -1;
        }
    }
    return 0;
}
