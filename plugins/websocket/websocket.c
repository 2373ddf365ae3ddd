/* WebSocket sink: GET /ws upgrades to RFC 6455 and carries the livegate JSON protocol. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin_api.h"
#include "ws_conn.h"
#include "ws_deflate.h"
#include "ws_handshake.h"
#include "ws_message.h"

typedef struct lg_ws_sink {
    lg_instance *instance;
    lg_ws_config *config;
    lg_stream_class stream_class;
    lg_stream_class deflate_class; /* for clients that negotiated permessage-deflate */
    lg_stream_class echo_class;
    lg_ws_deflater *deflater; /* used by the channel thread only, while encoding events */
} lg_ws_sink;

static const lg_option lg_ws_options[] = {
    {.name = "path",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_ws_config, path),
     .default_value = "/ws",
     .description = "Path of the WebSocket endpoint on the public listener."},
    {.name = "echo_path",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_ws_config, echo_path),
     .description = "Path of a test endpoint that sends every message back (for conformance suites); unset "
                    "disables it. Do not enable it in production."},
    {.name = "allowed_origins",
     .type = LG_OPT_STRING_LIST,
     .offset = offsetof(lg_ws_config, allowed_origins),
     .description = "Origins of pages on other sites that may connect, such as https://app.example.com; '*' "
                    "allows any. Same-origin pages need no entry; other origins get 403."},
    {.name = "subprotocols",
     .type = LG_OPT_STRING_LIST,
     .offset = offsetof(lg_ws_config, subprotocols),
     .default_value = "[livegate.v1]",
     .description = "Subprotocols the server accepts. The first one in the client's offer that is listed "
                    "here wins; a client that offers none of them connects without one."},
    {.name = "ping_interval",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_ws_config, ping_interval_ms),
     .default_value = "25s",
     .min = 0,
     .max = 3600000,
     .description = "The server pings every client this often, well under the 60 s idle timeout of common "
                    "proxies; 0 disables pings."},
    {.name = "pong_timeout",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_ws_config, pong_timeout_ms),
     .default_value = "10s",
     .min = 100,
     .max = 3600000,
     .description = "A client that does not answer a ping within this time is disconnected."},
    {.name = "max_frame_size",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_ws_config, max_frame_bytes),
     .default_value = "64KiB",
     .min = 125,
     .max = 1073741824,
     .description = "Largest frame a client may send, checked when its header arrives; larger ones close the "
                    "connection with 1009."},
    {.name = "max_message_size",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_ws_config, max_message_bytes),
     .default_value = "64KiB",
     .min = 125,
     .max = 1073741824,
     .description = "Largest message a client may send, across all its fragments; larger ones close the "
                    "connection with 1009."},
    {.name = "max_errors",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_ws_config, max_errors),
     .default_value = "20",
     .min = 0,
     .max = 1000000,
     .description = "Invalid messages (bad JSON, unknown op, binary message, refused subscription, unsubscribe "
                    "from a channel not followed) a connection may send; the next one closes it with 1008. 0 "
                    "never closes."},
    {.name = "deflate",
     .type = LG_OPT_BOOL,
     .offset = offsetof(lg_ws_config, deflate),
     .default_value = "false",
     .description = "Offer permessage-deflate (RFC 7692, without context takeover so that one compressed "
                    "frame serves every client). It costs CPU per event; see docs/benchmarks.md."},
    {.name = "deflate_threshold",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_ws_config, deflate_threshold_bytes),
     .default_value = "256",
     .min = 0,
     .max = 1073741824,
     .description = "Messages shorter than this are sent uncompressed even when deflate is on."},
    {.name = "max_channels",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_ws_config, max_channels),
     .default_value = "50",
     .min = 1,
     .max = 10000,
     .description = "Channels one subscribe or unsubscribe command may list."},
    {0},
};

/* Return "host[:port]" of an Origin value such as "http://host:port". */
static const char *lg_ws_origin_host(const char *origin)
{
    const char *scheme_end = strstr(origin, "://");

    return scheme_end != NULL ? scheme_end + 3 : origin;
}

/* Return 1 when ORIGIN may connect: absent (not a browser), the page's own
 * host, or listed in allowed_origins. */
static int lg_ws_origin_allowed(const lg_ws_sink *sink, lg_http_request *req)
{
    const char *origin = lg_http_request_header(req, "Origin");
    const char *host = lg_http_request_header(req, "Host");
    const lg_string_list *allowed = &sink->config->allowed_origins;

    if (origin == NULL)
        return 1;
    for (size_t i = 0; i < allowed->count; i++) {
        if (strcmp(allowed->items[i], "*") == 0 || strcasecmp(allowed->items[i], origin) == 0)
            return 1;
    }
    return host != NULL && strcasecmp(lg_ws_origin_host(origin), host) == 0;
}

/* Check the upgrade request and answer it with an error when it is not a
 * valid handshake. Returns 0 when the handshake may go on. */
static int lg_ws_check(lg_ws_sink *sink, lg_http_request *req)
{
    lg_ws_request ws = {
        .method = lg_http_request_method(req),
        .upgrade = lg_http_request_header(req, "Upgrade"),
        .connection = lg_http_request_header(req, "Connection"),
        .version = lg_http_request_header(req, "Sec-WebSocket-Version"),
        .key = lg_http_request_header(req, "Sec-WebSocket-Key"),
    };
    lg_error err;
    int status;

    ws.http_1_0 = lg_http_request_is_http_1_0(req);
    status = lg_ws_check_request(&ws, &err);
    if (status != 0) {
        if (status == 426) {
            lg_http_add_header(req, "Upgrade", "websocket");
            lg_http_add_header(req, "Sec-WebSocket-Version", "13");
        }
        if (status == 405)
            lg_http_add_header(req, "Allow", "GET");
        lg_http_respond_error(req, status, "%s", err.message);
        return -1;
    }
    if (!lg_ws_origin_allowed(sink, req)) {
        lg_http_respond_error(req, 403, "origin '%s' may not connect: add it to the websocket sink's allowed_origins",
                              lg_http_request_header(req, "Origin"));
        return -1;
    }
    return 0;
}

/* Write the 101 response. DEFLATE_WINDOW_BITS is -1 without permessage-deflate,
 * otherwise the server_max_window_bits to echo (0 for none). */
static void lg_ws_write_switch(lg_stream *stream, const char *key, const char *subprotocol, int deflate_window_bits)
{
    char accept[LG_WS_ACCEPT_BYTES];
    lg_buf head = LG_BUF_INIT;

    lg_ws_accept_key(key, accept);
    lg_buf_printf(&head,
                  "HTTP/1.1 101 Switching Protocols\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n"
                  "Server: livegate\r\n",
                  accept);
    if (subprotocol != NULL)
        lg_buf_printf(&head, "Sec-WebSocket-Protocol: %s\r\n", subprotocol);
    if (deflate_window_bits >= 0) {
        lg_buf_append_str(&head, "Sec-WebSocket-Extensions: ");
        lg_ws_deflate_response(deflate_window_bits, &head);
        lg_buf_append_str(&head, "\r\n");
    }
    lg_buf_append_str(&head, "\r\n");
    lg_stream_write(stream, head.data, head.len);
    lg_buf_free(&head);
}

static void lg_ws_upgrade(lg_ws_sink *sink, lg_http_request *req, int echo)
{
    const lg_stream_class *cls;
    const char *subprotocol;
    lg_ws_conn *conn;
    lg_stream *stream;
    int window_bits = 0;
    int deflate;
    char *key;

    if (lg_ws_check(sink, req) < 0)
        return;

    deflate = sink->config->deflate &&
              lg_ws_deflate_offered(lg_http_request_header(req, "Sec-WebSocket-Extensions"), &window_bits);
    cls = echo ? &sink->echo_class : deflate ? &sink->deflate_class : &sink->stream_class;

    /* Header strings belong to the request, which opening the stream frees. */
    key = lg_strdup(lg_http_request_header(req, "Sec-WebSocket-Key"));
    subprotocol = lg_ws_choose_subprotocol(lg_http_request_header(req, "Sec-WebSocket-Protocol"),
                                           &sink->config->subprotocols);
    conn = lg_ws_conn_new(sink->config, lg_instance_scope(sink->instance), echo, deflate);
    stream = lg_stream_open(req, cls, conn);
    if (stream == NULL) {
        lg_ws_conn_free(conn);
        free(key);
        return;
    }

    lg_ws_write_switch(stream, key, subprotocol, deflate ? window_bits : -1);
    free(key);
    lg_ws_conn_attach(conn, stream);
}

static void lg_ws_handle(lg_http_request *req, void *arg)
{
    lg_ws_upgrade(arg, req, 0);
}

static void lg_ws_handle_echo(lg_http_request *req, void *arg)
{
    lg_ws_upgrade(arg, req, 1);
}

static void lg_ws_encode_event_cb(const lg_event *event, lg_buf *out, void *ctx)
{
    lg_ws_encode_event(event, out);
}

static void lg_ws_encode_event_deflate_cb(const lg_event *event, lg_buf *out, void *ctx)
{
    lg_ws_sink *sink = ctx;

    lg_ws_encode_event_deflate(event, sink->deflater, (size_t)sink->config->deflate_threshold_bytes, out);
}

static void lg_ws_encode_resumed_cb(const lg_event *event, const char *resume_id, lg_buf *out, void *ctx)
{
    (void)ctx;
    lg_ws_encode_event_resumed(event, resume_id, out);
}

static void lg_ws_encode_notice_cb(const lg_notice *notice, lg_buf *out, void *ctx)
{
    lg_ws_encode_notice(notice, out);
}

static int lg_ws_check_config(const lg_ws_config *config, lg_error *err)
{
    if (config->path == NULL || config->path[0] != '/')
        return lg_error_set(err, "option 'path' must start with '/', got '%s'", config->path != NULL ? config->path : "");
    if (config->echo_path != NULL && config->echo_path[0] != '/')
        return lg_error_set(err, "option 'echo_path' must start with '/', got '%s'", config->echo_path);
    if (config->echo_path != NULL && strcmp(config->echo_path, config->path) == 0)
        return lg_error_set(err, "options 'path' and 'echo_path' must differ, both are '%s'", config->path);
    if (config->max_frame_bytes > config->max_message_bytes)
        return lg_error_set(err, "option 'max_frame_size' (%lld bytes) is larger than 'max_message_size' (%lld bytes)",
                            (long long)config->max_frame_bytes, (long long)config->max_message_bytes);
    return 0;
}

static int lg_ws_init(lg_instance *instance, void *config, lg_error *err)
{
    lg_ws_config *cfg = config;
    lg_ws_sink *sink;
    int format;

    if (lg_ws_check_config(cfg, err) < 0)
        return -1;
    format = lg_format_register("websocket", lg_ws_encode_event_cb, NULL, err);
    if (format < 0)
        return -1;

    sink = lg_calloc(1, sizeof(*sink));
    sink->instance = instance;
    sink->config = cfg;
    sink->stream_class = (lg_stream_class){
        .sink = "websocket",
        .format = format,
        .encode_notice = lg_ws_encode_notice_cb,
        .encode_resumed = lg_ws_encode_resumed_cb,
        .on_input = lg_ws_conn_on_input,
        .on_shutdown = lg_ws_conn_on_shutdown,
        .on_close = lg_ws_conn_on_close,
        .on_end = lg_ws_conn_on_end,
    };
    sink->echo_class = sink->stream_class;
    sink->echo_class.sink = "websocket-echo";
    sink->deflate_class = sink->stream_class;
    if (cfg->deflate) {
        /* Registered only when enabled, since every event is encoded in
         * every registered format. */
        sink->deflater = lg_ws_deflater_new();
        if (sink->deflater == NULL) {
            free(sink);
            return lg_error_set(err, "cannot set up zlib for permessage-deflate");
        }
        sink->deflate_class.format = lg_format_register("websocket-deflate", lg_ws_encode_event_deflate_cb, sink, err);
        if (sink->deflate_class.format < 0) {
            lg_ws_deflater_free(sink->deflater);
            free(sink);
            return -1;
        }
    }
    lg_instance_set_data(instance, sink);

    lg_instance_add_route(instance, "GET", cfg->path, LG_HTTP_ROUTE_NO_HEAD, lg_ws_handle, sink);
    if (cfg->echo_path != NULL) {
        lg_instance_add_route(instance, "GET", cfg->echo_path, LG_HTTP_ROUTE_NO_HEAD, lg_ws_handle_echo, sink);
        LG_LOG_WARN(lg_instance_scope(instance), "test echo endpoint enabled at %s", cfg->echo_path);
    }
    return 0;
}

static void lg_ws_destroy(lg_instance *instance)
{
    lg_ws_sink *sink = lg_instance_data(instance);

    lg_ws_deflater_free(sink->deflater);
    free(sink);
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "websocket",
    .kind = LG_PLUGIN_SINK,
    .description = "WebSocket (RFC 6455): GET /ws, then JSON commands to subscribe and unsubscribe.",
    .options = lg_ws_options,
    .config_size = sizeof(lg_ws_config),
    .init = lg_ws_init,
    .destroy = lg_ws_destroy,
};
