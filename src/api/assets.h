/*
 * assets.h - files embedded in the binary at build time and served from
 * memory: the OpenAPI document at /v1/openapi.json, Swagger UI under
 * /docs/, GraphiQL under /graphiql/, and any later web page the same way
 * (docs/architecture.md, "Embedded files").
 *
 * scripts/embed_assets.py writes each table from a list of files (a
 * custom_target in meson.build); this module looks a name up in one and
 * answers a request for it with its Content-Type, a strong ETag (304 to
 * If-None-Match), Cache-Control, the gzipped bytes to clients that take
 * them, and the security headers its mount asks for. Nothing is read
 * from disk: a name is looked up, never turned into a path, so no request
 * can reach a file that was not embedded.
 */
#ifndef LK_API_ASSETS_H
#define LK_API_ASSETS_H

#include <stddef.h>

/* One embedded file. Everything in it is static, read-only data. */
struct api_asset {
    const char *name;          /* its path under the mount: "swagger-ui.css", "js/app.js" */
    const char *content_type;  /* "text/css; charset=utf-8" */
    const char *data;          /* the bytes stored: the file, or a gzip member of it */
    size_t len;                /* bytes of data */
    size_t size;               /* bytes of the file itself */
    int gzip;                  /* data is the file gzipped */
    const char *etag;          /* strong ETag of data, quotes included */
    const char *etag_identity; /* of the file itself, for clients that refuse gzip (= etag unless gzip) */
};

/* A table of files, sorted by name (bytewise). */
struct api_asset_table {
    const struct api_asset *files;
    size_t count;
};

/* How a mount serves its table. */
struct api_asset_mount {
    const char *prefix; /* the path the names follow: "/docs/" (for messages) */
    const struct api_asset_table *table;
    const char *cache_control; /* on 200 and 304 answers */
    /* A page's Content-Security-Policy; with one, also X-Frame-Options:
     * DENY and Referrer-Policy: no-referrer. NULL for a plain document. */
    const char *csp;
};

/* The tables meson.build embeds. */
extern const struct api_asset_table api_assets_openapi;  /* openapi.json, from api/openapi.yaml */
extern const struct api_asset_table api_assets_docs;     /* Swagger UI: web/docs/ and swagger-ui-dist */
extern const struct api_asset_table api_assets_graphiql; /* GraphiQL: web/graphiql/, graphiql, react, react-dom */

/* The file named name[0..len) in t, or NULL. */
const struct api_asset *api_asset_find(const struct api_asset_table *t, const char *name, size_t len);

/*
 * Plain copies of gzipped files, for clients that do not take gzip: each
 * made the first time one is asked for and kept until the cache is freed,
 * so inflating (milliseconds for Swagger UI's script) is paid once per
 * file and process, never per request. Shared by every worker
 * (api_config.assets, made by the server): a mutex guards its list, held
 * only to look up or add an entry, never while inflating; a copy, once
 * added, is never changed or freed before api_asset_cache_free. Holds at
 * most the plain size of the files asked for.
 */
struct api_asset_cache;

/* A new, empty cache, or NULL when out of memory. */
struct api_asset_cache *api_asset_cache_new(void);
/* Frees c and its copies, once no worker runs. Accepts NULL. */
void api_asset_cache_free(struct api_asset_cache *c);

struct api_req;

/*
 * Answers the request with the file name of mount m: 200 with the file
 * (HEAD: its headers), 304 when If-None-Match lists the ETag of the form
 * the client would get, or 404 {"errors": [...]} when m has no such file.
 * A gzipped file goes out as stored (Content-Encoding: gzip, Vary:
 * Accept-Encoding) when Accept-Encoding takes gzip, and plain otherwise (a
 * request without Accept-Encoding included, so a plain curl gets the
 * file), from the worker's api_config.assets (or, without one, inflated
 * into the request's pool). Always replies.
 */
void api_asset_serve(struct api_req *ar, const struct api_asset_mount *m, const char *name);

#endif
