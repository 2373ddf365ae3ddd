/* libcurl multi on libevent: the sockets and the timeout that curl requests become events on the core's base. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http_fetch.h"

struct redis_http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct http_request *requests; /* in flight, a doubly linked list */
};

typedef struct http_request {
    redis_http *http;
    CURL *easy;
    struct curl_slist *headers;
    lg_buf body;
    size_t max_bytes;
    int too_large;
    char error[CURL_ERROR_SIZE];
    redis_http_done_fn done;
    void *arg;
    struct http_request *prev;
    struct http_request *next;
} http_request;

/* The event curl watches on one socket. */
typedef struct http_socket {
    struct event *event;
} http_socket;

static void request_free(http_request *request)
{
    redis_http *http = request->http;

    if (request->prev != NULL)
        request->prev->next = request->next;
    else
        http->requests = request->next;
    if (request->next != NULL)
        request->next->prev = request->prev;

    curl_multi_remove_handle(http->multi, request->easy);
    curl_easy_cleanup(request->easy);
    curl_slist_free_all(request->headers);
    lg_buf_free(&request->body);
    free(request);
}

/* Hand every finished transfer to its callback. */
static void collect_finished(redis_http *http)
{
    CURLMsg *message;
    int left;

    while ((message = curl_multi_info_read(http->multi, &left)) != NULL) {
        http_request *request = NULL;
        long status = 0;
        const char *error = NULL;

        if (message->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&request);
        if (request->too_large)
            error = "the response body is larger than max_message_size";
        else if (message->data.result != CURLE_OK)
            error = request->error[0] != '\0' ? request->error : curl_easy_strerror(message->data.result);
        else
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);

        request->done(request->arg, error != NULL ? 0 : status, request->body.data != NULL ? request->body.data : "",
                      request->body.len, error);
        request_free(request);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    redis_http *http = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;

    curl_multi_socket_action(http->multi, fd, flags, &running);
    collect_finished(http);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    redis_http *http = arg;
    int running;

    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_finished(http);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *arg, void *socket_arg)
{
    redis_http *http = arg;
    http_socket *sock = socket_arg;
    short what = (short)((action & CURL_POLL_IN ? EV_READ : 0) | (action & CURL_POLL_OUT ? EV_WRITE : 0));

    if (action == CURL_POLL_REMOVE) {
        if (sock != NULL) {
            event_free(sock->event);
            free(sock);
        }
        curl_multi_assign(http->multi, fd, NULL);
        return 0;
    }

    if (sock == NULL) {
        sock = lg_calloc(1, sizeof(*sock));
        curl_multi_assign(http->multi, fd, sock);
    } else {
        event_free(sock->event);
    }
    sock->event = event_new(http->base, fd, what | EV_PERSIST, on_socket_event, http);
    event_add(sock->event, NULL);
    return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *arg)
{
    redis_http *http = arg;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};

    if (timeout_ms < 0)
        evtimer_del(http->timer);
    else
        evtimer_add(http->timer, &tv);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
    http_request *request = arg;
    size_t len = size * count;

    if (request->body.len + len > request->max_bytes) {
        request->too_large = 1;
        return 0;
    }
    lg_buf_append(&request->body, data, len);
    return len;
}

redis_http *redis_http_new(struct event_base *base, lg_error *err)
{
    redis_http *http = lg_calloc(1, sizeof(*http));

    http->base = base;
    http->multi = curl_multi_init();
    http->timer = evtimer_new(base, on_timer, http);
    if (http->multi == NULL || http->timer == NULL) {
        redis_http_free(http);
        lg_error_set(err, "curl_multi_init failed");
        return NULL;
    }
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    return http;
}

void redis_http_free(redis_http *http)
{
    if (http == NULL)
        return;
    while (http->requests != NULL)
        request_free(http->requests);
    if (http->multi != NULL)
        curl_multi_cleanup(http->multi);
    if (http->timer != NULL)
        event_free(http->timer);
    free(http);
}

int redis_http_get(redis_http *http, const char *url, const lg_string_list *headers, int64_t timeout_ms,
                   size_t max_bytes, redis_http_done_fn done, void *arg, lg_error *err)
{
    http_request *request = lg_calloc(1, sizeof(*request));

    request->http = http;
    request->max_bytes = max_bytes;
    request->done = done;
    request->arg = arg;
    request->easy = curl_easy_init();
    if (request->easy == NULL) {
        free(request);
        return lg_error_set(err, "curl_easy_init failed");
    }
    for (size_t i = 0; i < headers->count; i++)
        request->headers = curl_slist_append(request->headers, headers->items[i]);

    curl_easy_setopt(request->easy, CURLOPT_URL, url);
    curl_easy_setopt(request->easy, CURLOPT_HTTPHEADER, request->headers);
    curl_easy_setopt(request->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(request->easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(request->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(request->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(request->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(request->easy, CURLOPT_WRITEDATA, request);
    curl_easy_setopt(request->easy, CURLOPT_ERRORBUFFER, request->error);
    curl_easy_setopt(request->easy, CURLOPT_PRIVATE, request);

    request->next = http->requests;
    if (http->requests != NULL)
        http->requests->prev = request;
    http->requests = request;
    if (curl_multi_add_handle(http->multi, request->easy) != CURLM_OK) {
        request_free(request);
        return lg_error_set(err, "curl_multi_add_handle failed for %s", url);
    }
    return 0;
}
