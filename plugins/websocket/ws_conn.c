/* WebSocket connections: wslay parses client frames, livegate streams carry every byte out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <wslay/wslay.h>

#include "ws_conn.h"
#include "ws_deflate.h"
#include "ws_message.h"
#include "ws_protocol.h"

/* Opcodes as wslay names them. */
#define LG_WS_CONTINUATION 0x0
#define LG_WS_TEXT 0x1
#define LG_WS_BINARY 0x2
#define LG_WS_CLOSE 0x8
#define LG_WS_PONG 0xA

struct lg_ws_conn {
    const lg_ws_config *config;
    const char *scope;
    int echo;
    int deflate;
    lg_stream *stream;
    wslay_event_context_ptr wslay;

    struct evbuffer *input; /* set while wslay reads */

    lg_buf message; /* the data message being assembled */
    uint8_t message_opcode;
    int message_compressed;
    int in_data_frame;

    unsigned errors;
    int closing;

    struct event *ping_timer;
    struct event *pong_timer;
    int awaiting_pong;
};

static void lg_ws_conn_close(lg_ws_conn *conn, uint16_t code, const char *reason);
static void lg_ws_flush(lg_ws_conn *conn);

/* Write one of our own frames. Control frames wslay has queued (a pong for a
 * ping read earlier in this batch) go first, so that frames leave in the
 * order their causes arrived; nothing follows a close frame. */
static void lg_ws_write_frame(lg_ws_conn *conn, const lg_buf *frame)
{
    lg_ws_flush(conn);
    if (conn->closing)
        return;
    lg_stream_write(conn->stream, frame->data, frame->len);
}

/* ---- wslay callbacks ---- */

static ssize_t lg_ws_recv(wslay_event_context_ptr wslay, uint8_t *buf, size_t len, int flags, void *user_data)
{
    lg_ws_conn *conn = user_data;
    int n = conn->input != NULL ? evbuffer_remove(conn->input, buf, len) : 0;

    if (n <= 0) {
        wslay_event_set_error(wslay, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

/* wslay writes whole frames here (control frames and echoes); they join the
 * stream's queue in order with the event frames. */
static ssize_t lg_ws_send(wslay_event_context_ptr wslay, const uint8_t *data, size_t len, int flags, void *user_data)
{
    lg_ws_conn *conn = user_data;

    lg_stream_write(conn->stream, data, len);
    return (ssize_t)len;
}

/* Check the announced length of each frame before any of its payload is
 * read, and track whether the frame belongs to a data message. */
static void lg_ws_on_frame_start(wslay_event_context_ptr wslay, const struct wslay_event_on_frame_recv_start_arg *arg,
                                 void *user_data)
{
    lg_ws_conn *conn = user_data;

    if (arg->opcode == LG_WS_CLOSE && arg->payload_length == 1) {
        lg_ws_conn_close(conn, LG_WS_CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload");
        return;
    }

    conn->in_data_frame = arg->opcode == LG_WS_TEXT || arg->opcode == LG_WS_BINARY || arg->opcode == LG_WS_CONTINUATION;
    if (!conn->in_data_frame)
        return;
    if (arg->opcode != LG_WS_CONTINUATION) {
        lg_buf_reset(&conn->message);
        conn->message_opcode = arg->opcode;
        conn->message_compressed = (arg->rsv & WSLAY_RSV1_BIT) != 0;
    }
    if (conn->message.len + arg->payload_length > (uint64_t)conn->config->max_message_bytes)
        lg_ws_conn_close(conn, LG_WS_CLOSE_TOO_BIG, "message too big");
}

static void lg_ws_on_frame_chunk(wslay_event_context_ptr wslay, const struct wslay_event_on_frame_recv_chunk_arg *arg,
                                 void *user_data)
{
    lg_ws_conn *conn = user_data;

    if (conn->in_data_frame && !conn->closing)
        lg_buf_append(&conn->message, arg->data, arg->data_length);
}

static void lg_ws_send_text(lg_ws_conn *conn, const lg_buf *json)
{
    lg_buf frame = LG_BUF_INIT;

    lg_ws_append_frame(&frame, LG_WS_OPCODE_TEXT, json->data, json->len);
    lg_ws_write_frame(conn, &frame);
    lg_buf_free(&frame);
}

/* Answer an invalid message with an error message; repeated abuse closes
 * the connection with 1008. */
static void lg_ws_reject(lg_ws_conn *conn, const char *channel, const char *message)
{
    lg_buf frame = LG_BUF_INIT;

    conn->errors++;
    if (conn->config->max_errors > 0 && conn->errors > (unsigned)conn->config->max_errors) {
        LG_LOG_INFO(conn->scope, "closing connection %llu from %s: %u invalid messages",
                    (unsigned long long)lg_stream_id(conn->stream), lg_stream_peer(conn->stream), conn->errors);
        lg_ws_conn_close(conn, LG_WS_CLOSE_POLICY, "too many invalid messages");
        return;
    }
    lg_ws_encode_error(channel, message, &frame);
    lg_ws_write_frame(conn, &frame);
    lg_buf_free(&frame);
}

static void lg_ws_do_subscribe(lg_ws_conn *conn, const lg_ws_command *cmd)
{
    lg_error err;

    if (lg_stream_subscribe_many(conn->stream, (const char *const *)cmd->channels, cmd->channel_count,
                                 cmd->last_event_id, cmd->max_rate, &err) < 0)
        lg_ws_reject(conn, cmd->channel_count == 1 ? cmd->channels[0] : NULL, err.message);
}

static void lg_ws_do_unsubscribe(lg_ws_conn *conn, const lg_ws_command *cmd)
{
    for (size_t i = 0; i < cmd->channel_count; i++) {
        lg_buf json = LG_BUF_INIT;
        char *message;

        if (lg_stream_unsubscribe(conn->stream, cmd->channels[i]) < 0) {
            message = lg_sprintf("not subscribed to channel '%s'", cmd->channels[i]);
            lg_ws_reject(conn, cmd->channels[i], message);
            free(message);
            continue;
        }
        lg_buf_append_str(&json, "{\"type\":\"unsubscribed\",\"channel\":");
        lg_buf_append_json_string(&json, cmd->channels[i], strlen(cmd->channels[i]));
        lg_buf_append_char(&json, '}');
        lg_ws_send_text(conn, &json);
        lg_buf_free(&json);
    }
}

static void lg_ws_do_ping(lg_ws_conn *conn, const lg_ws_command *cmd)
{
    lg_buf json = LG_BUF_INIT;

    lg_buf_append_str(&json, "{\"type\":\"pong\"");
    if (cmd->ping_data != NULL) {
        lg_buf_append_str(&json, ",\"data\":");
        lg_buf_append_str(&json, cmd->ping_data);
    }
    lg_buf_append_char(&json, '}');
    lg_ws_send_text(conn, &json);
    lg_buf_free(&json);
}

static void lg_ws_handle_command(lg_ws_conn *conn, const lg_buf *message)
{
    lg_ws_command cmd;
    lg_error err;

    if (lg_ws_parse_command(message->data, message->len, (size_t)conn->config->max_channels, &cmd, &err) < 0) {
        lg_ws_reject(conn, NULL, err.message);
        return;
    }

    switch (cmd.op) {
    case LG_WS_OP_SUBSCRIBE:
        lg_ws_do_subscribe(conn, &cmd);
        break;
    case LG_WS_OP_UNSUBSCRIBE:
        lg_ws_do_unsubscribe(conn, &cmd);
        break;
    case LG_WS_OP_PING:
        lg_ws_do_ping(conn, &cmd);
        break;
    }
    lg_ws_command_free(&cmd);
}

/* Send MESSAGE back, compressed when the connection negotiated it and the
 * message is large enough. The frame goes straight to the stream, like the
 * protocol's replies, so it keeps its place before a close frame that wslay
 * queues for a close read later in the same batch. */
static void lg_ws_echo(lg_ws_conn *conn, const lg_buf *message)
{
    lg_buf packed = LG_BUF_INIT;
    lg_buf frame = LG_BUF_INIT;

    if (conn->deflate && message->len >= (size_t)conn->config->deflate_threshold_bytes &&
        lg_ws_deflate(message->data, message->len, &packed) == 0)
        lg_ws_append_frame_bits(&frame, LG_WS_RSV1, conn->message_opcode, packed.data, packed.len);
    else
        lg_ws_append_frame(&frame, conn->message_opcode, message->data, message->len);
    lg_ws_write_frame(conn, &frame);
    lg_buf_free(&frame);
    lg_buf_free(&packed);
}

/* Inflate a compressed message into OUT and check its UTF-8, which wslay
 * cannot do on compressed bytes. Returns 0, or -1 after starting a close. */
static int lg_ws_unpack(lg_ws_conn *conn, lg_buf *out)
{
    lg_error err;

    if (lg_ws_inflate(conn->message.data, conn->message.len, (size_t)conn->config->max_message_bytes, out, &err) < 0) {
        lg_ws_conn_close(conn, strstr(err.message, "more than") != NULL ? LG_WS_CLOSE_TOO_BIG : LG_WS_CLOSE_INVALID_DATA,
                         err.message);
        return -1;
    }
    if (conn->message_opcode == LG_WS_TEXT && !lg_utf8_is_valid(out->data, out->len)) {
        lg_ws_conn_close(conn, LG_WS_CLOSE_INVALID_DATA, "invalid UTF-8");
        return -1;
    }
    return 0;
}

static void lg_ws_dispatch(lg_ws_conn *conn, uint8_t opcode, const lg_buf *message)
{
    if (conn->echo)
        lg_ws_echo(conn, message);
    else if (opcode == LG_WS_BINARY)
        lg_ws_reject(conn, NULL, "binary messages are not supported: send JSON commands as text");
    else
        lg_ws_handle_command(conn, message);
}

/* A whole message arrived. wslay answers pings and close frames itself and
 * has already checked UTF-8 of text messages and close reasons. */
static void lg_ws_on_message(wslay_event_context_ptr wslay, const struct wslay_event_on_msg_recv_arg *arg,
                             void *user_data)
{
    lg_ws_conn *conn = user_data;

    if (conn->closing)
        return;
    switch (arg->opcode) {
    case LG_WS_PONG:
        conn->awaiting_pong = 0;
        return;
    case LG_WS_TEXT:
    case LG_WS_BINARY:
        break;
    default:
        return;
    }

    if (conn->message_compressed) {
        lg_buf plain = LG_BUF_INIT;

        if (lg_ws_unpack(conn, &plain) == 0)
            lg_ws_dispatch(conn, arg->opcode, &plain);
        lg_buf_free(&plain);
    } else {
        lg_ws_dispatch(conn, arg->opcode, &conn->message);
    }
    lg_buf_reset(&conn->message);
}

/* ---- sending and closing ---- */

/* Let wslay write what it queued (pongs, close frames, echoes). */
static void lg_ws_flush(lg_ws_conn *conn)
{
    if (wslay_event_send(conn->wslay) != 0)
        LG_LOG_DEBUG(conn->scope, "connection %llu: wslay could not send: the connection is closing",
                     (unsigned long long)lg_stream_id(conn->stream));

    /* Once a close frame went out, nothing may follow it: the stream sends
     * what is queued and ends. */
    if (wslay_event_get_close_sent(conn->wslay) && !conn->closing) {
        conn->closing = 1;
        lg_stream_close(conn->stream, 1);
    }
}

/* Start the closing handshake with CODE, or do nothing when it has begun. */
static void lg_ws_conn_close(lg_ws_conn *conn, uint16_t code, const char *reason)
{
    if (conn->closing || wslay_event_get_close_sent(conn->wslay))
        return;
    wslay_event_queue_close(conn->wslay, code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(conn->wslay);
}

/* wslay stops at a framing error it found itself (a length with the top
 * bit set, a fragmented or oversized control frame) and queues a close
 * frame without a code. The peer gets 1002 instead, written directly. */
static void lg_ws_protocol_error(lg_ws_conn *conn)
{
    lg_buf frame = LG_BUF_INIT;

    LG_LOG_DEBUG(conn->scope, "connection %llu from %s: framing error, closing with 1002",
                 (unsigned long long)lg_stream_id(conn->stream), lg_stream_peer(conn->stream));
    lg_ws_append_close(&frame, LG_WS_CLOSE_PROTOCOL_ERROR, "protocol error");
    lg_stream_write(conn->stream, frame.data, frame.len);
    lg_buf_free(&frame);
    conn->closing = 1;
    lg_stream_close(conn->stream, 1);
}

void lg_ws_conn_on_input(lg_stream *stream, struct evbuffer *input, void *ctx)
{
    lg_ws_conn *conn = ctx;
    int rc;

    if (conn->closing) {
        evbuffer_drain(input, evbuffer_get_length(input));
        return;
    }

    conn->input = input;
    rc = wslay_event_recv(conn->wslay);
    conn->input = NULL;

    /* The recv callback never fails, so an error is wslay's verdict on the
     * frames it read. */
    if (rc != 0) {
        lg_ws_protocol_error(conn);
        return;
    }
    lg_ws_flush(conn);
}

void lg_ws_conn_on_shutdown(lg_stream *stream, void *ctx)
{
    lg_ws_conn *conn = ctx;

    lg_ws_conn_close(conn, LG_WS_CLOSE_GOING_AWAY, "server shutting down");
    lg_ws_flush(conn);
}

void lg_ws_conn_on_end(lg_stream *stream, lg_stream_end reason, const char *message, void *ctx)
{
    lg_ws_conn *conn = ctx;

    lg_ws_conn_close(conn, LG_WS_CLOSE_POLICY, message);
    lg_ws_flush(conn);
}

/* ---- pings ---- */

/* Close a client that sent no pong in time with 1008. The close frame
 * waits behind what is queued, and the stream's flush is bounded by the
 * shutdown timeout, so a client that reads nothing is still cut. */
static void lg_ws_on_pong_timeout(evutil_socket_t fd, short what, void *arg)
{
    lg_ws_conn *conn = arg;
    char reason[64];

    if (!conn->awaiting_pong || conn->closing)
        return;
    LG_LOG_INFO(conn->scope, "closing connection %llu from %s: no pong within %lld ms",
                (unsigned long long)lg_stream_id(conn->stream), lg_stream_peer(conn->stream),
                (long long)conn->config->pong_timeout_ms);
    snprintf(reason, sizeof(reason), "no pong within %lld ms", (long long)conn->config->pong_timeout_ms);
    lg_ws_conn_close(conn, LG_WS_CLOSE_POLICY, reason);

    /* Last step: flushing may end the stream and free CONN. */
    lg_ws_flush(conn);
}

static void lg_ws_on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
    lg_ws_conn *conn = arg;
    struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"livegate", 8};
    struct timeval timeout;

    if (conn->closing || conn->awaiting_pong)
        return;
    wslay_event_queue_msg(conn->wslay, &ping);
    conn->awaiting_pong = 1;
    timeout.tv_sec = (time_t)(conn->config->pong_timeout_ms / 1000);
    timeout.tv_usec = (suseconds_t)((conn->config->pong_timeout_ms % 1000) * 1000);
    evtimer_add(conn->pong_timer, &timeout);

    /* Last step: flushing may end the stream and free CONN. */
    lg_ws_flush(conn);
}

/* ---- lifecycle ---- */

lg_ws_conn *lg_ws_conn_new(const lg_ws_config *config, const char *scope, int echo, int deflate)
{
    lg_ws_conn *conn = lg_calloc(1, sizeof(*conn));

    conn->config = config;
    conn->scope = scope;
    conn->echo = echo;
    conn->deflate = deflate;
    return conn;
}

int lg_ws_conn_attach(lg_ws_conn *conn, lg_stream *stream)
{
    static const struct wslay_event_callbacks callbacks = {
        .recv_callback = lg_ws_recv,
        .send_callback = lg_ws_send,
        .on_frame_recv_start_callback = lg_ws_on_frame_start,
        .on_frame_recv_chunk_callback = lg_ws_on_frame_chunk,
        .on_msg_recv_callback = lg_ws_on_message,
    };
    struct event_base *base = lg_stream_base(stream);
    struct timeval period;

    conn->stream = stream;
    if (wslay_event_context_server_init(&conn->wslay, &callbacks, conn) != 0) {
        LG_LOG_ERROR(conn->scope, "connection %llu: wslay_event_context_server_init failed",
                     (unsigned long long)lg_stream_id(stream));
        conn->wslay = NULL;
        lg_stream_close(stream, 0);
        return -1;
    }

    /* Data frames are assembled here, so memory grows with the bytes that
     * arrive, not with the length a frame header announces. */
    wslay_event_config_set_no_buffering(conn->wslay, 1);
    wslay_event_config_set_max_recv_msg_length(conn->wslay, (uint64_t)conn->config->max_frame_bytes);
    if (conn->deflate)
        wslay_event_config_set_allowed_rsv_bits(conn->wslay, WSLAY_RSV1_BIT);

    conn->pong_timer = evtimer_new(base, lg_ws_on_pong_timeout, conn);
    if (conn->config->ping_interval_ms > 0) {
        period.tv_sec = (time_t)(conn->config->ping_interval_ms / 1000);
        period.tv_usec = (suseconds_t)((conn->config->ping_interval_ms % 1000) * 1000);
        conn->ping_timer = event_new(base, -1, EV_PERSIST, lg_ws_on_ping_timer, conn);
        event_add(conn->ping_timer, event_base_init_common_timeout(base, &period));
    }

    lg_stream_process_input(stream);
    return 0;
}

void lg_ws_conn_free(lg_ws_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->ping_timer != NULL)
        event_free(conn->ping_timer);
    if (conn->pong_timer != NULL)
        event_free(conn->pong_timer);
    if (conn->wslay != NULL)
        wslay_event_context_free(conn->wslay);
    lg_buf_free(&conn->message);
    free(conn);
}

void lg_ws_conn_on_close(lg_stream *stream, void *ctx)
{
    lg_ws_conn_free(ctx);
}
