/* One WebSocket connection: wslay framing on a livegate stream, pings, commands and the close handshake. */
#ifndef LG_WS_CONN_H
#define LG_WS_CONN_H

#include <stdint.h>

#include "plugin_api.h"

/* Options of the websocket sink, shared read-only by all its connections. */
typedef struct lg_ws_config {
    char *path;
    char *echo_path;
    lg_string_list allowed_origins;
    lg_string_list subprotocols;
    int64_t ping_interval_ms;
    int64_t pong_timeout_ms;
    int64_t max_frame_bytes;
    int64_t max_message_bytes;
    int64_t max_errors;
    int64_t max_channels;
    int deflate;
    int64_t deflate_threshold_bytes;
} lg_ws_config;

typedef struct lg_ws_conn lg_ws_conn;

/* Close codes of RFC 6455 section 7.4.1 that livegate sends. */
#define LG_WS_CLOSE_NORMAL 1000
#define LG_WS_CLOSE_GOING_AWAY 1001
#define LG_WS_CLOSE_PROTOCOL_ERROR 1002
#define LG_WS_CLOSE_UNSUPPORTED_DATA 1003
#define LG_WS_CLOSE_INVALID_DATA 1007
#define LG_WS_CLOSE_POLICY 1008
#define LG_WS_CLOSE_TOO_BIG 1009
#define LG_WS_CLOSE_INTERNAL_ERROR 1011

/* Create the connection state for a stream that is about to open. ECHO
 * makes it a test endpoint that sends every message back; DEFLATE tells
 * that permessage-deflate was negotiated. SCOPE labels logs. Returns the
 * connection (attach the stream with lg_ws_conn_attach). */
lg_ws_conn *lg_ws_conn_new(const lg_ws_config *config, const char *scope, int echo, int deflate);

/* Attach STREAM, start the ping timer and read what the client already sent.
 * Returns 0, or -1 when wslay could not be set up (the stream is closed). */
int lg_ws_conn_attach(lg_ws_conn *conn, lg_stream *stream);

/* Free a connection that never got a stream. */
void lg_ws_conn_free(lg_ws_conn *conn);

/* Stream class callbacks. */
void lg_ws_conn_on_input(lg_stream *stream, struct evbuffer *input, void *ctx);
void lg_ws_conn_on_shutdown(lg_stream *stream, void *ctx);
void lg_ws_conn_on_close(lg_stream *stream, void *ctx);

/* The server ends the stream (a queue overflow under the disconnect policy):
 * send a close frame with 1008 and MESSAGE as its reason. */
void lg_ws_conn_on_end(lg_stream *stream, lg_stream_end reason, const char *message, void *ctx);

#endif
