/* HTTP route tables: exact and prefix paths per method, and dispatch of a request to its handler. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "http.h"
#include "http_internal.h"

/* Match ranks: any exact match beats the longest prefix. */
#define NO_MATCH 0
#define EXACT_MATCH SIZE_MAX

lg_http_routes *lg_http_routes_new(void)
{
    return lg_calloc(1, sizeof(lg_http_routes));
}

void lg_http_routes_free(lg_http_routes *routes)
{
    if (routes == NULL)
        return;

    for (size_t i = 0; i < routes->count; i++) {
        free(routes->items[i].method);
        free(routes->items[i].path);
    }
    free(routes->items);
    free(routes);
}

void lg_http_routes_add(lg_http_routes *routes, const char *method, const char *path, unsigned flags,
                        lg_http_handler handler, void *arg)
{
    lg_http_route *route;

    routes->items = lg_realloc(routes->items, (routes->count + 1) * sizeof(*routes->items));
    route = &routes->items[routes->count++];
    route->method = lg_strdup(method);
    route->path = lg_strdup(path);
    route->path_len = strlen(path);
    route->flags = flags;
    route->handler = handler;
    route->arg = arg;
}

/* Rank how well ROUTE's path matches PATH: EXACT_MATCH, the prefix length
 * plus one for a prefix route, or NO_MATCH. A prefix matches itself and the
 * paths below it ("/static" matches "/static/app.js" but not "/statics"). */
static size_t match_rank(const lg_http_route *route, const char *path)
{
    if (strcmp(route->path, path) == 0)
        return (route->flags & LG_HTTP_ROUTE_PREFIX) ? route->path_len + 1 : EXACT_MATCH;

    if (!(route->flags & LG_HTTP_ROUTE_PREFIX) || strncmp(route->path, path, route->path_len) != 0)
        return NO_MATCH;

    if (route->path_len > 0 && route->path[route->path_len - 1] != '/' && path[route->path_len] != '/')
        return NO_MATCH;
    return route->path_len + 1;
}

/* Return 2 when ROUTE is for METHOD itself, 1 when it is a GET route that
 * also serves HEAD, 0 otherwise. */
static int method_rank(const lg_http_route *route, const char *method)
{
    if (strcmp(route->method, method) == 0)
        return 2;
    if (strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0 && !(route->flags & LG_HTTP_ROUTE_NO_HEAD))
        return 1;
    return 0;
}

/* Return the rank of the most specific routes whose path matches PATH,
 * whatever their method, or NO_MATCH. */
static size_t top_rank(const lg_http_routes *routes, const char *path)
{
    size_t best = NO_MATCH;

    for (size_t i = 0; i < routes->count; i++) {
        size_t rank = match_rank(&routes->items[i], path);

        if (rank != NO_MATCH && (best == NO_MATCH || rank > best))
            best = rank;
    }
    return best;
}

/* Find the route for METHOD among the most specific routes of PATH: a
 * shorter prefix never answers a method that a more specific path lacks, so
 * HEAD /sse gets 405 instead of falling through to the files under "/". */
static const lg_http_route *find_route(const lg_http_routes *routes, const char *method, const char *path,
                                       int *path_known)
{
    size_t rank = top_rank(routes, path);
    const lg_http_route *best = NULL;
    int best_method = 0;

    *path_known = rank != NO_MATCH;
    for (size_t i = 0; i < routes->count && rank != NO_MATCH; i++) {
        const lg_http_route *route = &routes->items[i];
        int method_match = method_rank(route, method);

        if (match_rank(route, path) != rank || method_match <= best_method)
            continue;
        best = route;
        best_method = method_match;
    }
    return best;
}

static int allow_contains(const lg_buf *allow, const char *method)
{
    size_t len = strlen(method);
    const char *cursor = allow->data;

    while (cursor != NULL && *cursor != '\0') {
        if (strncmp(cursor, method, len) == 0 && (cursor[len] == ',' || cursor[len] == '\0'))
            return 1;
        cursor = strchr(cursor, ',');
        if (cursor != NULL)
            cursor += 2;
    }
    return 0;
}

static void allow_add(lg_buf *allow, const char *method)
{
    if (allow_contains(allow, method))
        return;
    if (allow->len > 0)
        lg_buf_append_str(allow, ", ");
    lg_buf_append_str(allow, method);
}

/* Build the Allow header value: every method of the most specific routes
 * matching PATH, in the order the routes were added, with HEAD after GET. */
static char *allowed_methods(const lg_http_routes *routes, const char *path)
{
    size_t rank = top_rank(routes, path);
    lg_buf allow = LG_BUF_INIT;

    for (size_t i = 0; i < routes->count; i++) {
        const lg_http_route *route = &routes->items[i];

        if (match_rank(route, path) != rank)
            continue;
        allow_add(&allow, route->method);
        if (strcmp(route->method, "GET") == 0 && !(route->flags & LG_HTTP_ROUTE_NO_HEAD))
            allow_add(&allow, "HEAD");
    }
    return lg_buf_steal(&allow, NULL);
}

void lg_http_routes_dispatch(const lg_http_routes *routes, lg_http_request *req)
{
    const char *method = lg_http_request_method(req);
    const char *path = lg_http_request_path(req);
    int path_known;
    const lg_http_route *route = find_route(routes, method, path, &path_known);
    char *allow;

    if (route != NULL) {
        route->handler(req, route->arg);
        return;
    }

    if (!path_known) {
        lg_http_respond_error(req, 404, "no route for path %s", path);
        return;
    }

    allow = allowed_methods(routes, path);
    lg_http_add_header(req, "Allow", allow);
    lg_http_respond_error(req, 405, "method %s is not allowed for path %s; allowed: %s", method, path, allow);
    free(allow);
}
