/*
 * graphql.h - the api layer's GraphQL parts (docs/graphql.md): the
 * endpoint (routes_graphql.c) and the resolver that runs each field's
 * REST route (graphql_resolve.c). Not for other layers.
 */
#ifndef LK_API_GRAPHQL_H
#define LK_API_GRAPHQL_H

#include <jansson.h>

#include "core/graphql_exec.h"

/* Most REST routes one GraphQL request may run: each list of lists costs
 * one per item, so a query fanning out to hundreds of calls is refused
 * with a field error rather than run. */
#define API_GRAPHQL_MAX_ROUTES 100

struct api_req;

/* One request's resolver state. */
struct api_graphql_ctx {
    struct api_req *ar;
    unsigned subrequests;
};

/* The gql_resolve_fn of latchkey's schema; ud is a struct api_graphql_ctx. */
int api_graphql_resolve(void *ud, const struct gql_field_ctx *fc, json_t **ret, struct gql_field_error *err);

#endif
