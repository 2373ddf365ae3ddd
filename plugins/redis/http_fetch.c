/* HTTP GET requests for id-only fetches, through the core's HTTP client. */
#include "config.h"

#include <stdlib.h>

#include "http_fetch.h"

typedef struct fetch_call {
    redis_http *http;
    lg_http_fetch *fetch;
    redis_http_done_fn done;
    void *arg;
    struct fetch_call *prev;
    struct fetch_call *next;
} fetch_call;

struct redis_http {
    lg_http_client *client;
    fetch_call *calls; /* in flight */
};

static void call_unlink(fetch_call *call)
{
    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        call->http->calls = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
}

redis_http *redis_http_new(struct event_base *base, lg_error *err)
{
    redis_http *http = lg_calloc(1, sizeof(*http));

    http->client = lg_http_client_new(base, err);
    if (http->client == NULL) {
        free(http);
        return NULL;
    }
    return http;
}

void redis_http_free(redis_http *http)
{
    if (http == NULL)
        return;
    while (http->calls != NULL) {
        fetch_call *call = http->calls;

        call_unlink(call);
        lg_http_fetch_cancel(call->fetch);
        free(call);
    }
    lg_http_client_free(http->client);
    free(http);
}

static void on_done(const lg_http_response *response, void *arg)
{
    fetch_call *call = arg;

    call_unlink(call);
    if (response->failure == LG_HTTP_TOO_LARGE)
        call->done(call->arg, 0, "", 0, "the response body is larger than max_message_size");
    else if (response->failure != LG_HTTP_OK)
        call->done(call->arg, 0, "", 0, response->error);
    else
        call->done(call->arg, response->status, response->body, response->body_len, NULL);
    free(call);
}

int redis_http_get(redis_http *http, const char *url, const lg_string_list *headers, int64_t timeout_ms,
                   size_t max_bytes, redis_http_done_fn done, void *arg, lg_error *err)
{
    fetch_call *call = lg_calloc(1, sizeof(*call));
    lg_http_request request = {
        .url = url,
        .headers = headers,
        .timeout_ms = timeout_ms,
        .max_body_bytes = (int64_t)max_bytes,
    };

    call->http = http;
    call->done = done;
    call->arg = arg;
    call->fetch = lg_http_client_fetch(http->client, &request, on_done, call, err);
    if (call->fetch == NULL) {
        free(call);
        return -1;
    }

    call->next = http->calls;
    if (http->calls != NULL)
        http->calls->prev = call;
    http->calls = call;
    return 0;
}
