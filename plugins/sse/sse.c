/* Server-Sent Events sink: GET /sse streams one or more channels with resume, snapshot and client rates. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin_api.h"
#include "sse_encode.h"

typedef struct lg_sse_config {
    char *path;
    int64_t heartbeat_ms;
    int64_t retry_ms;
    lg_string_list cors_origins;
    int64_t max_channels;
} lg_sse_config;

typedef struct lg_sse {
    lg_instance *instance;
    lg_sse_config *config;
    lg_stream_class stream_class;
} lg_sse;

static const lg_option lg_sse_options[] = {
    {.name = "path",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_sse_config, path),
     .default_value = "/sse",
     .description = "Path of the stream endpoint on the public listener."},
    {.name = "heartbeat_interval",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_sse_config, heartbeat_ms),
     .default_value = "15s",
     .min = 0,
     .max = 3600000,
     .description = "A comment line is sent when a stream has been silent this long, so that proxies keep it "
                    "open; 0 disables heartbeats."},
    {.name = "retry",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_sse_config, retry_ms),
     .default_value = "3s",
     .min = 0,
     .max = 3600000,
     .description = "Reconnection delay sent to EventSource clients in the retry: field; 0 leaves their "
                    "default."},
    {.name = "cors_origins",
     .type = LG_OPT_STRING_LIST,
     .offset = offsetof(lg_sse_config, cors_origins),
     .description = "Origins of pages on other sites that may open streams, such as https://app.example.com; "
                    "'*' allows any. Same-origin pages need no entry."},
    {.name = "max_channels",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_sse_config, max_channels),
     .default_value = "50",
     .min = 1,
     .max = 10000,
     .description = "Channels one stream may follow (channel= parameters); more get 400."},
    {0},
};

static void lg_sse_encode_event_cb(const lg_event *event, lg_buf *out, void *ctx)
{
    lg_sse_encode_event(event, out);
}

static void lg_sse_encode_resumed_cb(const lg_event *event, const char *resume_id, lg_buf *out, void *ctx)
{
    (void)ctx;
    lg_sse_encode_event_resumed(event, resume_id, out);
}

static void lg_sse_encode_notice_cb(const lg_notice *notice, lg_buf *out, void *ctx)
{
    lg_sse_encode_notice(notice, out);
}

static void lg_sse_encode_heartbeat_cb(lg_buf *out, void *ctx)
{
    lg_sse_encode_heartbeat(out);
}

/* Return "host[:port]" of an Origin value such as "http://host:port". */
static const char *lg_sse_origin_host(const char *origin)
{
    const char *scheme_end = strstr(origin, "://");

    return scheme_end != NULL ? scheme_end + 3 : origin;
}

/* Decide whether a request from ORIGIN may read the stream. Returns 1 and
 * sets *ALLOW_ORIGIN to the value for Access-Control-Allow-Origin (NULL when
 * none is needed), or 0 when the origin is not allowed. */
static int lg_sse_check_origin(const lg_sse *sse, lg_http_request *req, const char **allow_origin)
{
    const char *origin = lg_http_request_header(req, "Origin");
    const char *host = lg_http_request_header(req, "Host");
    const lg_string_list *allowed = &sse->config->cors_origins;

    *allow_origin = NULL;
    if (origin == NULL)
        return 1;

    for (size_t i = 0; i < allowed->count; i++) {
        if (strcmp(allowed->items[i], "*") == 0 || strcasecmp(allowed->items[i], origin) == 0) {
            *allow_origin = origin;
            return 1;
        }
    }
    return host != NULL && strcasecmp(lg_sse_origin_host(origin), host) == 0;
}

/* Read the max_rate parameter. Returns 0, or -1 when it is not a number of
 * updates per second of 0 or more. */
static int lg_sse_parse_rate(lg_http_request *req, double *rate)
{
    char *text = lg_http_query_param(req, "max_rate", 0);
    char *end = NULL;
    int rc = 0;

    *rate = 0;
    if (text == NULL)
        return 0;
    *rate = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(*rate) || *rate < 0)
        rc = -1;
    free(text);
    return rc;
}

static void lg_sse_free_channels(char **channels, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(channels[i]);
    free(channels);
}

/* Collect and check the channel parameters. Returns the count, or -1 after
 * sending an error response. */
static ssize_t lg_sse_collect_channels(const lg_sse *sse, lg_http_request *req, char ***out)
{
    size_t max = (size_t)sse->config->max_channels;
    char **channels = lg_calloc(max + 1, sizeof(*channels));
    size_t count = 0;
    lg_error err;
    int status;

    while (count <= max && (channels[count] = lg_http_query_param(req, "channel", count)) != NULL)
        count++;

    if (count == 0) {
        lg_http_respond_error(req, 400, "missing channel parameter: use %s?channel=NAME (repeat it for more channels)",
                              sse->config->path);
        goto fail;
    }
    if (count > max) {
        lg_http_respond_error(req, 400, "too many channels: a stream may follow at most %zu (sink option max_channels)",
                              max);
        goto fail;
    }
    if (lg_stream_check_count(req, count, &err) < 0) {
        lg_http_respond_error(req, 400, "%s", err.message);
        goto fail;
    }

    for (size_t i = 0; i < count; i++) {
        if (lg_stream_check_channel(req, channels[i], &status, &err) < 0) {
            lg_http_respond_error(req, status, "%s", err.message);
            goto fail;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(channels[i], channels[j]) == 0) {
                lg_http_respond_error(req, 400, "channel '%s' is listed twice", channels[i]);
                goto fail;
            }
        }
    }
    *out = channels;
    return (ssize_t)count;

fail:
    lg_sse_free_channels(channels, count);
    return -1;
}

static void lg_sse_write_head(lg_sse *sse, lg_stream *stream, const char *allow_origin)
{
    lg_buf head = LG_BUF_INIT;

    lg_buf_append_str(&head, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/event-stream; charset=utf-8\r\n"
                             "Cache-Control: no-cache, no-transform\r\n"
                             "X-Accel-Buffering: no\r\n"
                             "Connection: close\r\n"
                             "Server: livegate\r\n");
    if (allow_origin != NULL)
        lg_buf_printf(&head, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", allow_origin);
    lg_buf_append_str(&head, "\r\n");
    if (sse->config->retry_ms > 0)
        lg_buf_printf(&head, "retry: %lld\n\n", (long long)sse->config->retry_ms);
    lg_stream_write(stream, head.data, head.len);
    lg_buf_free(&head);
}

/* The Last-Event-ID header wins over the query parameter: EventSource sends
 * the header with the newest id on its own reconnects, while the URL still
 * carries the id it was first opened with. */
static char *lg_sse_last_event_id(lg_http_request *req)
{
    const char *header = lg_http_request_header(req, "Last-Event-ID");

    if (header != NULL && header[0] != '\0')
        return lg_strdup(header);
    return lg_http_query_param(req, "last_event_id", 0);
}

static void lg_sse_handle(lg_http_request *req, void *arg)
{
    lg_sse *sse = arg;
    const char *allow_origin;
    char *origin_copy = NULL;
    char **channels = NULL;
    char *last_id = NULL;
    lg_stream *stream;
    ssize_t count;
    double rate;
    lg_error err;

    if (!lg_sse_check_origin(sse, req, &allow_origin)) {
        lg_http_respond_error(req, 403, "origin '%s' may not open streams: add it to the sse sink's cors_origins",
                              lg_http_request_header(req, "Origin"));
        return;
    }
    if (lg_sse_parse_rate(req, &rate) < 0) {
        lg_http_respond_error(req, 400, "invalid max_rate parameter: expected updates per second, 0 or more");
        return;
    }
    count = lg_sse_collect_channels(sse, req, &channels);
    if (count < 0)
        return;

    /* Header strings belong to the request, which opening the stream frees. */
    last_id = lg_sse_last_event_id(req);
    origin_copy = allow_origin != NULL ? lg_strdup(allow_origin) : NULL;
    stream = lg_stream_open(req, &sse->stream_class, sse);
    if (stream == NULL)
        goto done;

    lg_sse_write_head(sse, stream, origin_copy);
    lg_stream_set_heartbeat(stream, sse->config->heartbeat_ms);

    /* Every check was made above, so this fails only in a race with
     * shutdown; the client then sees the stream end. */
    if (lg_stream_subscribe_many(stream, (const char *const *)channels, (size_t)count, last_id, rate, &err) < 0) {
        LG_LOG_WARN(lg_instance_scope(sse->instance), "stream %llu from %s: %s",
                    (unsigned long long)lg_stream_id(stream), lg_stream_peer(stream), err.message);
        lg_stream_close(stream, 1);
    }

done:
    free(origin_copy);
    free(last_id);
    lg_sse_free_channels(channels, (size_t)count);
}

static int lg_sse_init(lg_instance *instance, void *config, lg_error *err)
{
    lg_sse_config *cfg = config;
    lg_sse *sse;
    int format;

    if (cfg->path == NULL || cfg->path[0] != '/')
        return lg_error_set(err, "option 'path' must start with '/', got '%s'", cfg->path != NULL ? cfg->path : "");

    format = lg_format_register("sse", lg_sse_encode_event_cb, NULL, err);
    if (format < 0)
        return -1;

    sse = lg_calloc(1, sizeof(*sse));
    sse->instance = instance;
    sse->config = cfg;
    sse->stream_class = (lg_stream_class){
        .sink = "sse",
        .format = format,
        .encode_notice = lg_sse_encode_notice_cb,
        .encode_resumed = lg_sse_encode_resumed_cb,
        .encode_heartbeat = lg_sse_encode_heartbeat_cb,
        .one_position = 1,
    };
    lg_instance_set_data(instance, sse);
    lg_instance_add_route(instance, "GET", cfg->path, LG_HTTP_ROUTE_NO_HEAD, lg_sse_handle, sse);
    return 0;
}

static void lg_sse_destroy(lg_instance *instance)
{
    free(lg_instance_data(instance));
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "sse",
    .kind = LG_PLUGIN_SINK,
    .description = "Server-Sent Events: GET /sse?channel=NAME streams channels to EventSource clients.",
    .options = lg_sse_options,
    .config_size = sizeof(lg_sse_config),
    .init = lg_sse_init,
    .destroy = lg_sse_destroy,
};
