/* Load generator: one SSE or WebSocket subscriber on a raw non-blocking socket.
 *
 * Subscribers read with plain read() into one shared buffer and parse in
 * place, copying only a frame that a read split, so that a single process
 * can keep up with a server that fans out to thousands of them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"
#include "ws_frame.h"

/* Bytes read per read() call, shared by every subscriber. */
#define LOADGEN_READ_BYTES (256 * 1024)

/* Maximum size of a response head. */
#define LOADGEN_MAX_HEAD_BYTES (16 * 1024)

/* Longest control frame payload (RFC 6455 section 5.5). */
#define LOADGEN_MAX_CONTROL_BYTES 125

typedef enum loadgen_state {
    LOADGEN_CONNECTING,
    LOADGEN_HEAD,
    LOADGEN_STREAMING,
    LOADGEN_CLOSED,
} loadgen_state;

typedef enum loadgen_chunk_state {
    LOADGEN_CHUNK_SIZE,
    LOADGEN_CHUNK_DATA,
    LOADGEN_CHUNK_DATA_END,
} loadgen_chunk_state;

struct loadgen_subscriber {
    loadgen_run *run;
    loadgen_channel *channel;
    int index;
    int fd;
    loadgen_state state;
    struct event *event;
    int ready;
    char key[WS_FRAME_KEY_BYTES];

    int chunked;
    loadgen_chunk_state chunk_state;
    uint64_t chunk_left;
    char chunk_line[32];
    size_t chunk_line_len;

    char *body;
    size_t body_len;
    size_t body_cap;
};

static char loadgen_read_buffer[LOADGEN_READ_BYTES];

static void loadgen_subscriber_on_read(evutil_socket_t fd, short what, void *arg);

static void loadgen_subscriber_close(loadgen_subscriber *sub, const char *reason)
{
    loadgen_run *run = sub->run;
    loadgen_state was = sub->state;

    if (was == LOADGEN_CLOSED)
        return;

    sub->state = LOADGEN_CLOSED;
    event_del(sub->event);
    close(sub->fd);
    sub->fd = -1;

    if (was == LOADGEN_STREAMING) {
        run->disconnected++;
        if (run->disconnected == 1)
            fprintf(stderr, "loadgen: subscriber %d of channel %s disconnected: %s\n", sub->index, sub->channel->name,
                    reason);
        return;
    }
    run->failed++;
    loadgen_run_fail(run, "subscriber %d of channel %s failed: %s", sub->index, sub->channel->name, reason);
    loadgen_run_open_more(run);
}

static void loadgen_subscriber_mark_ready(loadgen_subscriber *sub)
{
    if (sub->ready)
        return;
    sub->ready = 1;
    sub->run->ready++;
}

static int loadgen_subscriber_send(loadgen_subscriber *sub, const void *data, size_t len)
{
    ssize_t written = write(sub->fd, data, len);

    if (written == (ssize_t)len)
        return 0;
    loadgen_subscriber_close(sub, written < 0 ? strerror(errno) : "short write of a small message");
    return -1;
}

static int loadgen_subscriber_send_ws(loadgen_subscriber *sub, int opcode, const void *payload, size_t len)
{
    uint8_t frame[WS_FRAME_HEADER_MAX_BYTES + 1024];
    uint32_t mask_seed = (uint32_t)rand();

    if (len > sizeof(frame) - WS_FRAME_HEADER_MAX_BYTES) {
        loadgen_subscriber_close(sub, "WebSocket message to send is over 1 KiB");
        return -1;
    }
    return loadgen_subscriber_send(sub, frame, ws_frame_write_client_frame(frame, opcode, payload, len, mask_seed));
}

/* Count a message: an event when it carries the send time, else maybe the ready notice. */
static void loadgen_subscriber_message(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    loadgen_run *run = sub->run;
    const char *ready_text = run->options->ready_text;
    const char *marker = memmem(data, len, LOADGEN_TIME_MARKER, sizeof(LOADGEN_TIME_MARKER) - 1);

    if (marker != NULL) {
        const char *digits = marker + sizeof(LOADGEN_TIME_MARKER) - 1;
        int64_t sent_us = strtoll(digits, NULL, 10);

        loadgen_histogram_add(&run->latency, (uint64_t)(now_us > sent_us ? now_us - sent_us : 0));
        run->delivered++;
        run->last_receive_us = now_us;
        return;
    }

    if (!sub->ready && ready_text != NULL && memmem(data, len, ready_text, strlen(ready_text)) != NULL) {
        loadgen_subscriber_mark_ready(sub);
        return;
    }
    run->ignored_frames++;
}

/* Parse complete SSE lines of DATA; returns the bytes consumed. */
static size_t loadgen_subscriber_parse_sse(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    size_t offset = 0;

    while (offset < len) {
        const char *line = data + offset;
        const char *end = memchr(line, '\n', len - offset);
        size_t line_len;

        if (end == NULL)
            break;
        line_len = (size_t)(end - line);
        if (line_len > 0)
            loadgen_subscriber_message(sub, line, line_len, now_us);
        offset += line_len + 1;
    }
    return offset;
}

/* Handle one complete server frame; returns -1 when the subscriber closed. */
static int loadgen_subscriber_ws_frame(loadgen_subscriber *sub, const ws_frame_header *header, const char *payload,
                                       int64_t now_us)
{
    switch (header->opcode) {
    case WS_FRAME_OPCODE_TEXT:
    case WS_FRAME_OPCODE_BINARY:
    case WS_FRAME_OPCODE_CONTINUATION:
        loadgen_subscriber_message(sub, payload, header->payload_len, now_us);
        return 0;
    case WS_FRAME_OPCODE_PING:
        return loadgen_subscriber_send_ws(sub, WS_FRAME_OPCODE_PONG, payload, header->payload_len);
    case WS_FRAME_OPCODE_PONG:
        return 0;
    case WS_FRAME_OPCODE_CLOSE:
        loadgen_subscriber_close(sub, "the server sent a WebSocket close frame");
        return -1;
    default:
        loadgen_subscriber_close(sub, "the server sent an unknown WebSocket opcode");
        return -1;
    }
}

/* Parse complete WebSocket frames of DATA; returns the bytes consumed, or
 * (size_t)-1 when the subscriber closed. */
static size_t loadgen_subscriber_parse_ws(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    size_t offset = 0;

    while (offset < len) {
        ws_frame_header header;
        const uint8_t *frame = (const uint8_t *)data + offset;

        if (!ws_frame_parse_header(frame, len - offset, &header))
            break;
        if (header.masked) {
            loadgen_subscriber_close(sub, "the server sent a masked WebSocket frame");
            return (size_t)-1;
        }
        if (header.opcode >= WS_FRAME_OPCODE_CLOSE && header.payload_len > LOADGEN_MAX_CONTROL_BYTES) {
            loadgen_subscriber_close(sub, "the server sent a control frame over 125 bytes");
            return (size_t)-1;
        }
        if (header.payload_len > len - offset - header.header_len)
            break;

        if (loadgen_subscriber_ws_frame(sub, &header, data + offset + header.header_len, now_us) < 0)
            return (size_t)-1;
        offset += header.header_len + header.payload_len;
    }
    return offset;
}

static size_t loadgen_subscriber_parse(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    if (sub->run->options->transport == LOADGEN_WEBSOCKET)
        return loadgen_subscriber_parse_ws(sub, data, len, now_us);
    return loadgen_subscriber_parse_sse(sub, data, len, now_us);
}

static void loadgen_subscriber_keep(loadgen_subscriber *sub, const char *data, size_t len)
{
    if (sub->body_len + len > sub->body_cap) {
        size_t cap = sub->body_cap ? sub->body_cap : 512;

        while (cap < sub->body_len + len)
            cap *= 2;
        sub->body = realloc(sub->body, cap);
        if (sub->body == NULL)
            abort();
        sub->body_cap = cap;
    }
    memcpy(sub->body + sub->body_len, data, len);
    sub->body_len += len;
}

/* Parse stream bytes: straight from DATA when nothing is pending, else after
 * the pending bytes. Returns -1 when the subscriber closed. */
static int loadgen_subscriber_feed(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    size_t consumed;

    if (sub->body_len == 0) {
        consumed = loadgen_subscriber_parse(sub, data, len, now_us);
        if (consumed == (size_t)-1)
            return -1;
        loadgen_subscriber_keep(sub, data + consumed, len - consumed);
        return 0;
    }

    loadgen_subscriber_keep(sub, data, len);
    consumed = loadgen_subscriber_parse(sub, sub->body, sub->body_len, now_us);
    if (consumed == (size_t)-1)
        return -1;
    memmove(sub->body, sub->body + consumed, sub->body_len - consumed);
    sub->body_len -= consumed;
    return 0;
}

/* Remove chunked transfer coding (RFC 9112 section 7.1) and feed the chunk data. */
static int loadgen_subscriber_dechunk(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    while (len > 0) {
        if (sub->chunk_state == LOADGEN_CHUNK_DATA) {
            size_t take = len < sub->chunk_left ? len : (size_t)sub->chunk_left;

            if (loadgen_subscriber_feed(sub, data, take, now_us) < 0)
                return -1;
            data += take;
            len -= take;
            sub->chunk_left -= take;
            if (sub->chunk_left == 0)
                sub->chunk_state = LOADGEN_CHUNK_DATA_END;
            continue;
        }

        if (*data != '\n') {
            if (sub->chunk_line_len + 1 >= sizeof(sub->chunk_line)) {
                loadgen_subscriber_close(sub, "invalid chunk size line");
                return -1;
            }
            sub->chunk_line[sub->chunk_line_len++] = *data;
            data++;
            len--;
            continue;
        }

        data++;
        len--;
        sub->chunk_line[sub->chunk_line_len] = '\0';
        sub->chunk_line_len = 0;
        if (sub->chunk_state == LOADGEN_CHUNK_DATA_END) {
            sub->chunk_state = LOADGEN_CHUNK_SIZE;
            continue;
        }
        sub->chunk_left = strtoull(sub->chunk_line, NULL, 16);
        if (sub->chunk_left == 0) {
            loadgen_subscriber_close(sub, "the server ended the stream");
            return -1;
        }
        sub->chunk_state = LOADGEN_CHUNK_DATA;
    }
    return 0;
}

static int loadgen_subscriber_receive(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    if (sub->chunked)
        return loadgen_subscriber_dechunk(sub, data, len, now_us);
    return loadgen_subscriber_feed(sub, data, len, now_us);
}

/* Return the value of header NAME in the response head HEAD, or NULL. The
 * value ends at the next CR. */
static const char *loadgen_header_value(const char *head, const char *name)
{
    size_t name_len = strlen(name);

    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        const char *field = line + 2;

        if (strncasecmp(field, name, name_len) == 0 && field[name_len] == ':') {
            field += name_len + 1;
            while (*field == ' ' || *field == '\t')
                field++;
            return field;
        }
    }
    return NULL;
}

/* Check the response head; returns 0 or -1 with the subscriber closed. */
static int loadgen_subscriber_check_head(loadgen_subscriber *sub, const char *head)
{
    int websocket = sub->run->options->transport == LOADGEN_WEBSOCKET;
    const char *expected_status = websocket ? "101" : "200";
    const char *encoding = loadgen_header_value(head, "Transfer-Encoding");
    char message[160];

    if (strncmp(head, "HTTP/1.1 ", 9) != 0 || strncmp(head + 9, expected_status, 3) != 0) {
        const char *end = strstr(head, "\r\n");

        snprintf(message, sizeof(message), "expected status %s, got '%.*s'", expected_status, (int)(end - head),
                 head);
        loadgen_subscriber_close(sub, message);
        return -1;
    }

    if (websocket) {
        char accept[WS_FRAME_ACCEPT_BYTES];
        const char *value = loadgen_header_value(head, "Sec-WebSocket-Accept");

        ws_frame_accept_key(sub->key, accept);
        if (value == NULL || strncmp(value, accept, WS_FRAME_ACCEPT_BYTES - 1) != 0) {
            loadgen_subscriber_close(sub, "missing or wrong Sec-WebSocket-Accept");
            return -1;
        }
    }

    sub->chunked = encoding != NULL && strncasecmp(encoding, "chunked", 7) == 0;
    return 0;
}

/* Collect the response head; once complete, check it and stream the rest. */
static void loadgen_subscriber_read_head(loadgen_subscriber *sub, const char *data, size_t len, int64_t now_us)
{
    loadgen_channel *channel = sub->channel;
    char *end;
    char *rest;
    size_t rest_len;

    loadgen_subscriber_keep(sub, data, len);
    loadgen_subscriber_keep(sub, "", 1);
    sub->body_len--;
    end = strstr(sub->body, "\r\n\r\n");
    if (end == NULL) {
        if (sub->body_len > LOADGEN_MAX_HEAD_BYTES)
            loadgen_subscriber_close(sub, "response head over 16 KiB");
        return;
    }

    end[2] = '\0';
    if (loadgen_subscriber_check_head(sub, sub->body) < 0)
        return;

    sub->state = LOADGEN_STREAMING;
    sub->run->connected++;
    if (sub->run->options->ready_text == NULL)
        loadgen_subscriber_mark_ready(sub);
    if (sub->run->options->transport == LOADGEN_WEBSOCKET && channel->ws_subscribe_message != NULL &&
        loadgen_subscriber_send_ws(sub, WS_FRAME_OPCODE_TEXT, channel->ws_subscribe_message,
                                   strlen(channel->ws_subscribe_message)) < 0)
        return;
    loadgen_run_open_more(sub->run);

    rest_len = sub->body_len - (size_t)(end + 4 - sub->body);
    rest = malloc(rest_len + 1);
    if (rest == NULL)
        abort();
    memcpy(rest, end + 4, rest_len);
    sub->body_len = 0;
    loadgen_subscriber_receive(sub, rest, rest_len, now_us);
    free(rest);
}

static void loadgen_subscriber_on_read(evutil_socket_t fd, short what, void *arg)
{
    loadgen_subscriber *sub = arg;
    ssize_t n = read(fd, loadgen_read_buffer, sizeof(loadgen_read_buffer));
    int64_t now_us;

    if (n == 0) {
        loadgen_subscriber_close(sub, "the server closed the connection");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            loadgen_subscriber_close(sub, strerror(errno));
        return;
    }

    now_us = loadgen_now_us();
    if (sub->state == LOADGEN_HEAD)
        loadgen_subscriber_read_head(sub, loadgen_read_buffer, (size_t)n, now_us);
    else
        loadgen_subscriber_receive(sub, loadgen_read_buffer, (size_t)n, now_us);
}

static int loadgen_subscriber_send_request(loadgen_subscriber *sub)
{
    const loadgen_target *target = &sub->channel->subscribe;
    char request[2048];
    int len;

    if (sub->run->options->transport == LOADGEN_WEBSOCKET) {
        ws_frame_make_key((uint32_t)sub->index * 2654435761u + 1u, sub->key);
        len = snprintf(request, sizeof(request),
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       target->path, target->host_header, sub->key);
    } else {
        len = snprintf(request, sizeof(request),
                       "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                       target->path, target->host_header);
    }
    if (len < 0 || (size_t)len >= sizeof(request)) {
        loadgen_subscriber_close(sub, "request over 2 KiB");
        return -1;
    }
    return loadgen_subscriber_send(sub, request, (size_t)len);
}

static void loadgen_subscriber_on_connect(evutil_socket_t fd, short what, void *arg)
{
    loadgen_subscriber *sub = arg;
    int error = 0;
    socklen_t error_len = sizeof(error);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0)
        error = errno;
    if (error != 0) {
        loadgen_subscriber_close(sub, strerror(error));
        return;
    }

    if (loadgen_subscriber_send_request(sub) < 0)
        return;

    sub->state = LOADGEN_HEAD;
    event_free(sub->event);
    sub->event = event_new(sub->run->base, fd, EV_READ | EV_PERSIST, loadgen_subscriber_on_read, sub);
    event_add(sub->event, NULL);
}

loadgen_subscriber *loadgen_subscriber_open(loadgen_run *run, int index, loadgen_channel *channel)
{
    loadgen_subscriber *sub = calloc(1, sizeof(*sub));
    const struct sockaddr_in *address = &channel->subscribe.address;

    if (sub == NULL)
        abort();
    sub->run = run;
    sub->channel = channel;
    sub->index = index;
    sub->state = LOADGEN_CONNECTING;
    sub->chunk_state = LOADGEN_CHUNK_SIZE;
    sub->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sub->event = event_new(run->base, sub->fd, EV_WRITE, loadgen_subscriber_on_connect, sub);
    run->started++;

    if (sub->fd < 0) {
        loadgen_subscriber_close(sub, strerror(errno));
        return sub;
    }
    if (connect(sub->fd, (const struct sockaddr *)address, sizeof(*address)) < 0 && errno != EINPROGRESS) {
        loadgen_subscriber_close(sub, strerror(errno));
        return sub;
    }
    event_add(sub->event, NULL);
    return sub;
}

void loadgen_subscriber_free(loadgen_subscriber *sub)
{
    if (sub == NULL)
        return;
    if (sub->state != LOADGEN_CLOSED) {
        event_del(sub->event);
        close(sub->fd);
    }
    if (sub->event != NULL)
        event_free(sub->event);
    free(sub->body);
    free(sub);
}
