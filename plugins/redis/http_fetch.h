/* HTTP GET requests for id-only fetches, through the core's HTTP client. */
#ifndef LG_REDIS_HTTP_FETCH_H
#define LG_REDIS_HTTP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "error.h"
#include "plugin_api.h"

typedef struct redis_http redis_http;

/* Called once per request: STATUS is the HTTP status, or 0 when no response
 * arrived, with ERROR saying why (NULL otherwise). BODY has LEN bytes. */
typedef void (*redis_http_done_fn)(void *arg, long status, const char *body, size_t len, const char *error);

/* Create a client on BASE. Returns NULL with ERR set when libcurl fails. */
redis_http *redis_http_new(struct event_base *base, lg_error *err);

/* Cancel every request without calling its callback, and free HTTP. */
void redis_http_free(redis_http *http);

/* Start GET URL with HEADERS ("Name: value"), reporting through DONE
 * within TIMEOUT_MS. Bodies over MAX_BYTES fail the request. Returns 0,
 * or -1 with ERR set (DONE is then never called). */
int redis_http_get(redis_http *http, const char *url, const lg_string_list *headers, int64_t timeout_ms,
                   size_t max_bytes, redis_http_done_fn done, void *arg, lg_error *err);

#endif
