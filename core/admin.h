/* Admin API on the admin listener: health, stats, metrics, channels and publishing. */
#ifndef LG_ADMIN_H
#define LG_ADMIN_H

#include <jansson.h>

#include "buf.h"
#include "http.h"

struct lg_gateway;

/* Add the admin routes to ROUTES. The handlers run on the main thread. */
void lg_admin_add_routes(struct lg_gateway *gateway, lg_http_routes *routes);

/* Answer REQ with STATUS and BODY (taken over) as compact JSON. */
void lg_admin_respond_json(lg_http_request *req, int status, json_t *body);

/* Build the /api/stats document. */
json_t *lg_admin_stats(struct lg_gateway *gateway);

/* Append the Prometheus text exposition of every metric to OUT. */
void lg_metrics_render(struct lg_gateway *gateway, lg_buf *out);

#endif
