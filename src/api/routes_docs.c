/*
 * routes_docs.c - the API describing itself: the OpenAPI document at
 * /v1/openapi.json, Swagger UI at /docs/ and GraphiQL at /graphiql/, all
 * embedded in the binary at build time (assets.h; docs/api-docs.md).
 * Public, answered while sealed (nothing in them is secret, and Swagger UI
 * is one way to unseal), cacheable with revalidation.
 *
 * Each page loads only files of its own mount and talks only to this
 * origin; its policy below forbids everything else (inline script, other
 * origins, framing), so a page of ours can never run code it was not
 * built with. Neither page holds a credential of its own: what it sends is
 * what its visitor typed in, or the visitor's session cookie.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/assets.h"

/* Revalidated on every use, so an upgraded server is seen at once; the
 * ETag makes that a 304 without a body. */
#define DOCS_CACHE_CONTROL "no-cache"

/* Swagger UI's page: its script and styles from /docs/, requests to this
 * origin only (the document, "Try it out"), images from here or data:
 * URLs (its style sheet draws icons with them). */
#define DOCS_CSP                                                                                                       \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "              \
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* GraphiQL's page: the same, but for fonts, which its style sheet embeds
 * as data: URLs. Its requests (the operations it runs, the introspection
 * that fills its editor and docs) go to /graphql on this origin.
 * style-src stays 'self': GraphiQL sets styles through the DOM (element
 * style properties, which a policy does not govern); the one <style>
 * element it would add (a scroll lock while a dialog is open) is refused
 * and the page works without it (docs/api-docs.md, "GraphiQL"). */
#define GRAPHIQL_CSP                                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "              \
    "font-src 'self' data:; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const struct api_asset_mount spec_mount = {"/v1/", &api_assets_openapi, DOCS_CACHE_CONTROL, NULL};
static const struct api_asset_mount docs_mount = {"/docs/", &api_assets_docs, DOCS_CACHE_CONTROL, DOCS_CSP};
static const struct api_asset_mount graphiql_mount = {"/graphiql/", &api_assets_graphiql, DOCS_CACHE_CONTROL,
                                                      GRAPHIQL_CSP};

static void h_openapi(struct api_req *ar) {
    api_asset_serve(ar, &spec_mount, "openapi.json");
}

/* A page's index: "/docs/" is the page; "/docs" (the router takes both)
 * sends the browser to self (the mount's last segment and a slash), so that
 * the page's relative links resolve under the mount. */
static void serve_index(struct api_req *ar, const struct api_asset_mount *m, const char *self) {
    h2o_iovec_t p = ar->req->path_normalized;
    if (p.len > 0 && p.base[p.len - 1] == '/') {
        api_asset_serve(ar, m, "index.html");
        return;
    }
    /* Relative, so it holds behind a proxy that mounts latchkey under a prefix. */
    h2o_add_header(&ar->req->pool, &ar->req->res.headers, H2O_TOKEN_LOCATION, "Location", self, strlen(self));
    api_reply_bytes(ar, 301, "", 0);
}

static void h_docs_index(struct api_req *ar) {
    serve_index(ar, &docs_mount, "docs/");
}

static void h_docs_file(struct api_req *ar) {
    api_asset_serve(ar, &docs_mount, api_param(ar, "file"));
}

static void h_graphiql_index(struct api_req *ar) {
    serve_index(ar, &graphiql_mount, "graphiql/");
}

static void h_graphiql_file(struct api_req *ar) {
    api_asset_serve(ar, &graphiql_mount, api_param(ar, "file"));
}

const struct api_route api_routes_docs[] = {
    {M_GET, "/v1/openapi.json", API_SEALED_OK, "docs.openapi", h_openapi,
     "This API's OpenAPI 3.1 description (api/openapi.yaml as JSON, embedded at build time). Public; ETag and "
     "If-None-Match, gzip when asked for."},
    {M_GET, "/docs", API_SEALED_OK, "docs.ui", h_docs_index,
     "Swagger UI over /v1/openapi.json: the page at /docs/ (/docs redirects there). Authorize with a token to try "
     "routes out. Public."},
    {M_GET, "/docs/{file...}", API_SEALED_OK, "docs.file", h_docs_file,
     "A file of the Swagger UI page (its script, style sheet, icons, licences), embedded at build time. Public; "
     "404 for a name that is not one."},
    {M_GET, "/graphiql", API_SEALED_OK, "docs.graphiql", h_graphiql_index,
     "GraphiQL over /graphql: the page at /graphiql/ (/graphiql redirects there). Put a token in its Headers "
     "editor, or log in for the session cookie, to run queries. Public."},
    {M_GET, "/graphiql/{file...}", API_SEALED_OK, "docs.graphiql.file", h_graphiql_file,
     "A file of the GraphiQL page (its script, style sheets, React, licences), embedded at build time. Public; 404 "
     "for a name that is not one."},
};
API_ROUTES_END(docs);
