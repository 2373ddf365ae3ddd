/* HTTP client for sources: libcurl's multi interface driven by one libevent base.
 *
 * libcurl reports which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * call it back (CURLMOPT_TIMERFUNCTION); libevent watches them and calls
 * curl_multi_socket_action. Finished transfers are collected after each
 * action with curl_multi_info_read and handed to their callbacks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "log.h"

#define HTTP_CLIENT_SCOPE "http-client"

/* One socket that libcurl watches through libevent. */
typedef struct socket_watch {
    struct event *event;
    struct socket_watch *prev;
    struct socket_watch *next;
} socket_watch;

struct lg_http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    lg_http_fetch *fetches;
    socket_watch *watches;
};

struct lg_http_fetch {
    lg_http_client *client;
    CURL *easy;
    struct curl_slist *headers;
    char *request_body;
    lg_buf body;
    int64_t max_body_bytes;
    int too_large;
    int64_t started_ms;
    lg_http_done done;
    void *arg;
    char error[CURL_ERROR_SIZE];
    lg_http_fetch *prev;
    lg_http_fetch *next;
};

int lg_http_client_global_init(lg_error *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK)
        return lg_error_set(err, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
    return 0;
}

/* URLs */

int lg_http_url_check(const char *url, lg_error *err)
{
    CURLU *parts = curl_url();
    char *scheme = NULL;
    char *host = NULL;
    int rc = -1;

    if (url == NULL || url[0] == '\0') {
        lg_error_set(err, "the URL is empty: set an absolute http:// or https:// URL");
    } else if (curl_url_set(parts, CURLUPART_URL, url, 0) != CURLUE_OK) {
        lg_error_set(err, "the URL cannot be parsed: write it as http://HOST[:PORT]/PATH or https://...");
    } else if (curl_url_get(parts, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        lg_error_set(err, "the URL's scheme is %s%s%s: only http and https are supported", scheme ? "\"" : "",
                     scheme ? scheme : "missing", scheme ? "\"" : "");
    } else if (curl_url_get(parts, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        lg_error_set(err, "the URL has no host: write it as http://HOST[:PORT]/PATH");
    } else {
        rc = 0;
    }

    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(parts);
    return rc;
}

static void append_part(lg_buf *out, CURLU *parts, CURLUPart part, const char *before)
{
    char *value = NULL;

    if (curl_url_get(parts, part, &value, 0) == CURLUE_OK && value != NULL) {
        lg_buf_append_str(out, before);
        lg_buf_append_str(out, value);
    }
    curl_free(value);
}

char *lg_http_url_for_log(const char *url)
{
    CURLU *parts = curl_url();
    lg_buf out = LG_BUF_INIT;

    if (url == NULL || curl_url_set(parts, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup(parts);
        return lg_strdup("(invalid URL)");
    }

    append_part(&out, parts, CURLUPART_SCHEME, "");
    append_part(&out, parts, CURLUPART_HOST, "://");
    append_part(&out, parts, CURLUPART_PORT, ":");
    append_part(&out, parts, CURLUPART_PATH, "");
    curl_url_cleanup(parts);
    return lg_buf_steal(&out, NULL);
}

/* Finished transfers */

static lg_http_failure classify(CURLcode rc, const lg_http_fetch *fetch)
{
    if (fetch->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return LG_HTTP_TOO_LARGE;

    switch (rc) {
    case CURLE_OK:
        return LG_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return LG_HTTP_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return LG_HTTP_CONNECT;
    default:
        return LG_HTTP_OTHER;
    }
}

static const char *header_value(CURL *easy, const char *name)
{
    struct curl_header *header = NULL;

    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK)
        return NULL;
    return header->value;
}

static void fill_response(lg_http_fetch *fetch, CURLcode rc, lg_http_response *response, lg_buf *message)
{
    char *content_type = NULL;

    memset(response, 0, sizeof(*response));
    response->failure = classify(rc, fetch);
    curl_easy_getinfo(fetch->easy, CURLINFO_RESPONSE_CODE, &response->status);
    curl_easy_getinfo(fetch->easy, CURLINFO_CONTENT_TYPE, &content_type);
    response->content_type = content_type;
    response->duration_ms = lg_clock_monotonic_ms() - fetch->started_ms;

    if (response->failure == LG_HTTP_TOO_LARGE) {
        lg_buf_printf(message, "the body is larger than %lld bytes", (long long)fetch->max_body_bytes);
    } else if (response->failure != LG_HTTP_OK) {
        lg_buf_append_str(message, fetch->error[0] != '\0' ? fetch->error : curl_easy_strerror(rc));
    } else {
        response->etag = header_value(fetch->easy, "ETag");
        response->last_modified = header_value(fetch->easy, "Last-Modified");
        lg_buf_append(&fetch->body, "", 0);
        response->body = fetch->body.data != NULL ? fetch->body.data : "";
        response->body_len = fetch->body.len;
    }
    response->error = response->failure != LG_HTTP_OK ? message->data : NULL;
}

static void unlink_fetch(lg_http_fetch *fetch)
{
    lg_http_client *client = fetch->client;

    if (fetch->prev != NULL)
        fetch->prev->next = fetch->next;
    else
        client->fetches = fetch->next;
    if (fetch->next != NULL)
        fetch->next->prev = fetch->prev;
}

static void fetch_free(lg_http_fetch *fetch)
{
    curl_multi_remove_handle(fetch->client->multi, fetch->easy);
    curl_easy_cleanup(fetch->easy);
    curl_slist_free_all(fetch->headers);
    free(fetch->request_body);
    lg_buf_free(&fetch->body);
    free(fetch);
}

static void finish_fetch(lg_http_fetch *fetch, CURLcode rc)
{
    lg_http_response response;
    lg_buf message = LG_BUF_INIT;

    unlink_fetch(fetch);
    fill_response(fetch, rc, &response, &message);
    fetch->done(&response, fetch->arg);
    lg_buf_free(&message);
    fetch_free(fetch);
}

static void collect_finished(lg_http_client *client)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(client->multi, &left)) != NULL) {
        lg_http_fetch *fetch = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&fetch);
        finish_fetch(fetch, msg->data.result);
    }
}

/* libcurl's socket and timer callbacks */

static void on_socket_ready(evutil_socket_t fd, short what, void *arg)
{
    lg_http_client *client = arg;
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;

    curl_multi_socket_action(client->multi, fd, action, &running);
    collect_finished(client);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    lg_http_client *client = arg;
    int running;

    curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_finished(client);
}

static void watch_free(lg_http_client *client, socket_watch *watch)
{
    if (watch->prev != NULL)
        watch->prev->next = watch->next;
    else
        client->watches = watch->next;
    if (watch->next != NULL)
        watch->next->prev = watch->prev;
    event_free(watch->event);
    free(watch);
}

static socket_watch *watch_new(lg_http_client *client)
{
    socket_watch *watch = lg_calloc(1, sizeof(*watch));

    watch->next = client->watches;
    if (client->watches != NULL)
        client->watches->prev = watch;
    client->watches = watch;
    return watch;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    lg_http_client *client = userp;
    socket_watch *watch = socketp;
    short flags = EV_PERSIST;

    if (what == CURL_POLL_REMOVE) {
        if (watch != NULL)
            watch_free(client, watch);
        curl_multi_assign(client->multi, fd, NULL);
        return 0;
    }

    if (what & CURL_POLL_IN)
        flags |= EV_READ;
    if (what & CURL_POLL_OUT)
        flags |= EV_WRITE;

    if (watch == NULL) {
        watch = watch_new(client);
        curl_multi_assign(client->multi, fd, watch);
    } else {
        event_free(watch->event);
    }
    watch->event = event_new(client->base, fd, flags, on_socket_ready, client);
    if (watch->event == NULL || event_add(watch->event, NULL) < 0) {
        LG_LOG_ERROR(HTTP_CLIENT_SCOPE, "cannot watch socket %d for libcurl", (int)fd);
        return -1;
    }
    return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    lg_http_client *client = userp;
    struct timeval delay = {
        .tv_sec = timeout_ms / 1000,
        .tv_usec = (timeout_ms % 1000) * 1000,
    };

    if (timeout_ms < 0)
        return evtimer_del(client->timer);
    return evtimer_add(client->timer, &delay);
}

/* Client */

lg_http_client *lg_http_client_new(struct event_base *base, lg_error *err)
{
    lg_http_client *client = lg_calloc(1, sizeof(*client));

    client->base = base;
    client->multi = curl_multi_init();
    client->timer = evtimer_new(base, on_timer, client);
    if (client->multi == NULL || client->timer == NULL) {
        lg_error_set(err, "cannot create the HTTP client: libcurl or libevent is out of memory");
        lg_http_client_free(client);
        return NULL;
    }

    curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
    return client;
}

void lg_http_client_free(lg_http_client *client)
{
    if (client == NULL)
        return;

    while (client->fetches != NULL)
        lg_http_fetch_cancel(client->fetches);
    if (client->multi != NULL)
        curl_multi_cleanup(client->multi);
    while (client->watches != NULL)
        watch_free(client, client->watches);
    if (client->timer != NULL)
        event_free(client->timer);
    free(client);
}

/* Fetches */

static size_t on_body(char *data, size_t size, size_t count, void *userp)
{
    lg_http_fetch *fetch = userp;
    size_t len = size * count;

    if (fetch->max_body_bytes > 0 && fetch->body.len + len > (size_t)fetch->max_body_bytes) {
        fetch->too_large = 1;
        return 0;
    }
    lg_buf_append(&fetch->body, data, len);
    return len;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
    char *line = lg_sprintf("%s: %s", name, value);
    struct curl_slist *out = curl_slist_append(list, line);

    free(line);
    return out;
}

static struct curl_slist *build_headers(const lg_http_request *request)
{
    struct curl_slist *list = NULL;

    if (request->headers != NULL) {
        for (size_t i = 0; i < request->headers->count; i++)
            list = curl_slist_append(list, request->headers->items[i]);
    }
    if (request->if_none_match != NULL)
        list = add_header(list, "If-None-Match", request->if_none_match);
    if (request->if_modified_since != NULL)
        list = add_header(list, "If-Modified-Since", request->if_modified_since);
    return list;
}

static void set_method(lg_http_fetch *fetch, const lg_http_request *request)
{
    const char *method = request->method != NULL ? request->method : "GET";

    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(fetch->easy, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(fetch->easy, CURLOPT_CUSTOMREQUEST, method);

    if (request->body != NULL) {
        fetch->request_body = lg_memdup(request->body, request->body_len);
        curl_easy_setopt(fetch->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
        curl_easy_setopt(fetch->easy, CURLOPT_POSTFIELDS, fetch->request_body);
    }
}

static void set_options(lg_http_fetch *fetch, const lg_http_request *request)
{
    CURL *easy = fetch->easy;

    curl_easy_setopt(easy, CURLOPT_URL, request->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "livegate/" PACKAGE_VERSION);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, fetch->error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, fetch);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, fetch);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, fetch->headers);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)request->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)request->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, request->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, request->max_redirects);
    if (request->ca_file != NULL)
        curl_easy_setopt(easy, CURLOPT_CAINFO, request->ca_file);
    if (request->max_body_bytes > 0)
        curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)request->max_body_bytes);
    set_method(fetch, request);
}

static void link_fetch(lg_http_client *client, lg_http_fetch *fetch)
{
    fetch->next = client->fetches;
    if (client->fetches != NULL)
        client->fetches->prev = fetch;
    client->fetches = fetch;
}

lg_http_fetch *lg_http_client_fetch(lg_http_client *client, const lg_http_request *request, lg_http_done done,
                                    void *arg, lg_error *err)
{
    lg_http_fetch *fetch;
    CURLMcode rc;

    if (lg_http_url_check(request->url, err) < 0)
        return NULL;

    fetch = lg_calloc(1, sizeof(*fetch));
    fetch->client = client;
    fetch->done = done;
    fetch->arg = arg;
    fetch->max_body_bytes = request->max_body_bytes;
    fetch->started_ms = lg_clock_monotonic_ms();
    fetch->easy = curl_easy_init();
    if (fetch->easy == NULL) {
        free(fetch);
        lg_error_set(err, "cannot start an HTTP request: libcurl is out of memory");
        return NULL;
    }
    fetch->headers = build_headers(request);
    set_options(fetch, request);

    rc = curl_multi_add_handle(client->multi, fetch->easy);
    if (rc != CURLM_OK) {
        lg_error_set(err, "cannot start an HTTP request: %s", curl_multi_strerror(rc));
        fetch_free(fetch);
        return NULL;
    }
    link_fetch(client, fetch);
    return fetch;
}

void lg_http_fetch_cancel(lg_http_fetch *fetch)
{
    if (fetch == NULL)
        return;
    unlink_fetch(fetch);
    fetch_free(fetch);
}
