/* fanout-ceiling: the least work any fan-out server must do, as the ceiling of the benchmarks.
 *
 * It speaks just enough HTTP for the load generator: GET /sub?id=CHANNEL opens
 * an SSE stream (or a WebSocket with an Upgrade header) and POST
 * /pub?id=CHANNEL publishes the body. Each event is framed once; once per
 * loop turn every subscriber of a channel gets that turn's frames in one
 * writev(). It keeps no history, sends no ids, heartbeats or pings, and
 * ignores what subscribers send. One thread, loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ws_frame.h"

/* Bytes queued for a subscriber whose socket is full before new frames are dropped (livegate's default client_queue). */
#define CEILING_QUEUE_BYTES (256 * 1024)

/* Largest request head or publish body accepted. */
#define CEILING_MAX_REQUEST_BYTES (1024 * 1024)

#define CEILING_MAX_CHANNEL_BYTES 200

typedef enum ceiling_kind {
    CEILING_NEW,
    CEILING_PUBLISHER,
    CEILING_SSE,
    CEILING_WEBSOCKET,
} ceiling_kind;

typedef struct ceiling_channel ceiling_channel;

typedef struct ceiling_conn {
    int fd;
    ceiling_kind kind;
    struct event *read_event;
    struct event *write_event;
    struct evbuffer *input;
    struct evbuffer *backlog;
    ceiling_channel *channel;
    size_t slot;
} ceiling_conn;

/* One encoded event: an SSE frame or a WebSocket frame, built once for every subscriber. */
typedef struct ceiling_frame {
    char *bytes;
    size_t len;
} ceiling_frame;

struct ceiling_channel {
    char name[CEILING_MAX_CHANNEL_BYTES + 1];
    ceiling_conn **subscribers;
    size_t subscriber_count;
    size_t subscriber_cap;
    ceiling_frame *pending;
    size_t pending_count;
    size_t pending_cap;
};

static struct event_base *ceiling_base;
static struct event *ceiling_flush_event;
static ceiling_channel **ceiling_channels;
static size_t ceiling_channel_count;
static unsigned long long ceiling_events;
static unsigned long long ceiling_dropped;

static void *ceiling_grow(void *items, size_t *cap, size_t count, size_t item_size)
{
    if (count < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 16;
    items = realloc(items, *cap * item_size);
    if (items == NULL)
        abort();
    return items;
}

static ceiling_channel *ceiling_channel_find(const char *name)
{
    ceiling_channel *channel;

    for (size_t i = 0; i < ceiling_channel_count; i++) {
        if (strcmp(ceiling_channels[i]->name, name) == 0)
            return ceiling_channels[i];
    }

    channel = calloc(1, sizeof(*channel));
    if (channel == NULL)
        abort();
    snprintf(channel->name, sizeof(channel->name), "%s", name);
    ceiling_channels = realloc(ceiling_channels, (ceiling_channel_count + 1) * sizeof(*ceiling_channels));
    if (ceiling_channels == NULL)
        abort();
    ceiling_channels[ceiling_channel_count++] = channel;
    return channel;
}

static void ceiling_channel_add(ceiling_channel *channel, ceiling_conn *conn)
{
    channel->subscribers =
        ceiling_grow(channel->subscribers, &channel->subscriber_cap, channel->subscriber_count, sizeof(conn));
    conn->channel = channel;
    conn->slot = channel->subscriber_count;
    channel->subscribers[channel->subscriber_count++] = conn;
}

static void ceiling_channel_remove(ceiling_conn *conn)
{
    ceiling_channel *channel = conn->channel;
    ceiling_conn *last;

    if (channel == NULL)
        return;
    last = channel->subscribers[--channel->subscriber_count];
    channel->subscribers[conn->slot] = last;
    last->slot = conn->slot;
    conn->channel = NULL;
}

static void ceiling_conn_close(ceiling_conn *conn)
{
    ceiling_channel_remove(conn);
    event_free(conn->read_event);
    event_free(conn->write_event);
    evbuffer_free(conn->input);
    evbuffer_free(conn->backlog);
    close(conn->fd);
    free(conn);
}

/* Queue LEN bytes for CONN behind what its socket did not take; drops them past the cap. */
static void ceiling_conn_queue(ceiling_conn *conn, const char *bytes, size_t len)
{
    if (evbuffer_get_length(conn->backlog) + len > CEILING_QUEUE_BYTES) {
        ceiling_dropped++;
        return;
    }
    evbuffer_add(conn->backlog, bytes, len);
    event_add(conn->write_event, NULL);
}

static void ceiling_on_writable(evutil_socket_t fd, short what, void *arg)
{
    ceiling_conn *conn = arg;

    if (evbuffer_write(conn->backlog, fd) < 0 && errno != EAGAIN) {
        ceiling_conn_close(conn);
        return;
    }
    if (evbuffer_get_length(conn->backlog) > 0)
        event_add(conn->write_event, NULL);
}

/* Write FRAMES to CONN with one writev (IOV_MAX frames at most per call), queueing what the socket does not take. */
static void ceiling_send_frames(ceiling_conn *conn, const ceiling_frame *frames, size_t count)
{
    struct iovec iov[IOV_MAX];
    size_t total = 0;
    ssize_t written = 0;
    size_t frame_count = count < IOV_MAX ? count : IOV_MAX;

    for (size_t i = 0; i < frame_count; i++) {
        iov[i].iov_base = frames[i].bytes;
        iov[i].iov_len = frames[i].len;
        total += frames[i].len;
    }
    if (evbuffer_get_length(conn->backlog) == 0) {
        written = writev(conn->fd, iov, (int)frame_count);
        if (written < 0)
            written = 0;
    }

    for (size_t i = 0; i < frame_count && (size_t)written < total; i++) {
        if ((size_t)written >= frames[i].len) {
            written -= (ssize_t)frames[i].len;
            total -= frames[i].len;
            continue;
        }
        ceiling_conn_queue(conn, frames[i].bytes + written, frames[i].len - (size_t)written);
        total -= frames[i].len;
        written = 0;
    }
    if (count > frame_count)
        ceiling_send_frames(conn, frames + frame_count, count - frame_count);
}

/* Send every channel's frames of this loop turn to its subscribers. */
static void ceiling_on_flush(evutil_socket_t fd, short what, void *arg)
{
    for (size_t c = 0; c < ceiling_channel_count; c++) {
        ceiling_channel *channel = ceiling_channels[c];

        for (size_t i = 0; i < channel->subscriber_count; i++)
            ceiling_send_frames(channel->subscribers[i], channel->pending, channel->pending_count);

        for (size_t i = 0; i < channel->pending_count; i++)
            free(channel->pending[i].bytes);
        channel->pending_count = 0;
    }
}

/* Frame BODY (as a WebSocket message when WEBSOCKET is set, else as SSE) and keep it for this turn's flush. */
static void ceiling_publish(ceiling_channel *channel, const char *body, size_t len, int websocket)
{
    ceiling_frame *frame;
    size_t header_len;
    uint8_t header[WS_FRAME_HEADER_MAX_BYTES];

    channel->pending = ceiling_grow(channel->pending, &channel->pending_cap, channel->pending_count,
                                    sizeof(*channel->pending));
    frame = &channel->pending[channel->pending_count++];

    if (websocket)
        header_len = ws_frame_write_server_header(header, WS_FRAME_OPCODE_TEXT, len);
    else
        header_len = 6;
    frame->len = header_len + len + (websocket ? 0 : 2);
    frame->bytes = malloc(frame->len);
    if (frame->bytes == NULL)
        abort();
    memcpy(frame->bytes, websocket ? (const void *)header : "data: ", header_len);
    memcpy(frame->bytes + header_len, body, len);
    if (!websocket)
        memcpy(frame->bytes + header_len + len, "\n\n", 2);

    ceiling_events++;
    event_active(ceiling_flush_event, EV_TIMEOUT, 0);
}

/* Copy the value of the id query parameter of the request line LINE into NAME. */
static void ceiling_channel_name(const char *line, char name[CEILING_MAX_CHANNEL_BYTES + 1])
{
    const char *id = strstr(line, "id=");
    size_t len = 0;

    if (id != NULL) {
        id += 3;
        while (id[len] != '\0' && id[len] != '&' && id[len] != ' ' && len < CEILING_MAX_CHANNEL_BYTES)
            len++;
        memcpy(name, id, len);
    }
    name[len] = '\0';
}

static const char *ceiling_header(const char *head, const char *name)
{
    const char *field = strcasestr(head, name);

    if (field == NULL)
        return NULL;
    field += strlen(name);
    while (*field == ' ')
        field++;
    return field;
}

static void ceiling_reply(ceiling_conn *conn, const char *text)
{
    if (write(conn->fd, text, strlen(text)) < 0)
        fprintf(stderr, "fanout-ceiling: write failed: %s\n", strerror(errno));
}

/* Reply to the subscription request HEAD with an SSE stream, or a WebSocket handshake when it requests an upgrade. */
static void ceiling_subscribe(ceiling_conn *conn, const char *head, const char *name)
{
    const char *key = ceiling_header(head, "\r\nSec-WebSocket-Key:");
    char reply[256];

    if (key == NULL) {
        conn->kind = CEILING_SSE;
        ceiling_reply(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
    } else {
        char key_text[WS_FRAME_KEY_BYTES];
        char accept[WS_FRAME_ACCEPT_BYTES];

        snprintf(key_text, sizeof(key_text), "%.*s", (int)strcspn(key, "\r\n"), key);
        ws_frame_accept_key(key_text, accept);
        snprintf(reply, sizeof(reply),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
        conn->kind = CEILING_WEBSOCKET;
        ceiling_reply(conn, reply);
    }
    ceiling_channel_add(ceiling_channel_find(name), conn);
}

/* Handle every complete request in CONN's input. Returns -1 when the connection must close. */
static int ceiling_handle_requests(ceiling_conn *conn)
{
    for (;;) {
        struct evbuffer_ptr end = evbuffer_search(conn->input, "\r\n\r\n", 4, NULL);
        size_t head_len;
        size_t body_len = 0;
        char *head;
        const char *length;
        char name[CEILING_MAX_CHANNEL_BYTES + 1];

        if (end.pos < 0)
            return evbuffer_get_length(conn->input) > CEILING_MAX_REQUEST_BYTES ? -1 : 0;
        head_len = (size_t)end.pos + 4;
        head = (char *)evbuffer_pullup(conn->input, (ssize_t)head_len);
        head[head_len - 1] = '\0';
        length = ceiling_header(head, "\r\nContent-Length:");
        if (length != NULL)
            body_len = strtoul(length, NULL, 10);
        if (body_len > CEILING_MAX_REQUEST_BYTES)
            return -1;
        if (evbuffer_get_length(conn->input) < head_len + body_len)
            return 0;

        ceiling_channel_name(head, name);
        if (strncmp(head, "GET ", 4) == 0) {
            ceiling_subscribe(conn, head, name);
            evbuffer_drain(conn->input, evbuffer_get_length(conn->input));
            return 0;
        }
        if (strncmp(head, "POST ", 5) != 0)
            return -1;

        conn->kind = CEILING_PUBLISHER;
        ceiling_publish(ceiling_channel_find(name),
                        (const char *)evbuffer_pullup(conn->input, (ssize_t)(head_len + body_len)) + head_len,
                        body_len, strstr(head, "ws=1") != NULL);
        evbuffer_drain(conn->input, head_len + body_len);
        ceiling_reply(conn, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    }
}

static void ceiling_on_readable(evutil_socket_t fd, short what, void *arg)
{
    ceiling_conn *conn = arg;
    int n = evbuffer_read(conn->input, fd, -1);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        ceiling_conn_close(conn);
        return;
    }
    if (conn->kind == CEILING_SSE || conn->kind == CEILING_WEBSOCKET) {
        evbuffer_drain(conn->input, evbuffer_get_length(conn->input));
        return;
    }
    if (ceiling_handle_requests(conn) < 0)
        ceiling_conn_close(conn);
}

static void ceiling_on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
                              int address_len, void *arg)
{
    ceiling_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL)
        abort();
    conn->fd = fd;
    conn->input = evbuffer_new();
    conn->backlog = evbuffer_new();
    conn->read_event = event_new(ceiling_base, fd, EV_READ | EV_PERSIST, ceiling_on_readable, conn);
    conn->write_event = event_new(ceiling_base, fd, EV_WRITE, ceiling_on_writable, conn);
    event_add(conn->read_event, NULL);
}

static void ceiling_on_stop(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(ceiling_base);
}

static const char ceiling_usage[] =
    "Usage: fanout-ceiling --port PORT [--timeout SECONDS]\n"
    "Serve SSE and WebSocket subscribers at GET /sub?id=CHANNEL and publish the body\n"
    "of POST /pub?id=CHANNEL to them (add ws=1 to the publish query for WebSocket\n"
    "frames), doing nothing but one writev per subscriber and loop turn. Listens on\n"
    "127.0.0.1 only and exits on SIGTERM, SIGINT or after --timeout seconds (default 300).\n";

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval timeout = {300, 0};
    struct evconnlistener *listener;
    struct event *stop_events[3];
    int port = 0;
    int c;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'p')
            port = atoi(optarg);
        else if (c == 't')
            timeout.tv_sec = atol(optarg);
        else {
            fputs(ceiling_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (port <= 0 || port > 65535 || timeout.tv_sec <= 0) {
        fprintf(stderr, "fanout-ceiling: invalid or missing --port or --timeout\n%s", ceiling_usage);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    ceiling_base = event_base_new();
    ceiling_flush_event = event_new(ceiling_base, -1, 0, ceiling_on_flush, NULL);
    address.sin_port = htons((uint16_t)port);
    listener = evconnlistener_new_bind(ceiling_base, ceiling_on_accept, NULL,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 4096,
                                       (struct sockaddr *)&address, sizeof(address));
    if (listener == NULL) {
        fprintf(stderr, "fanout-ceiling: listen failed on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }

    stop_events[0] = evsignal_new(ceiling_base, SIGTERM, ceiling_on_stop, NULL);
    stop_events[1] = evsignal_new(ceiling_base, SIGINT, ceiling_on_stop, NULL);
    stop_events[2] = evtimer_new(ceiling_base, ceiling_on_stop, NULL);
    event_add(stop_events[0], NULL);
    event_add(stop_events[1], NULL);
    event_add(stop_events[2], &timeout);
    fprintf(stderr, "fanout-ceiling: listening on 127.0.0.1:%d\n", port);
    event_base_dispatch(ceiling_base);

    fprintf(stderr, "fanout-ceiling: %llu events published, %llu frames dropped at full queues\n", ceiling_events,
            ceiling_dropped);
    for (int i = 0; i < 3; i++)
        event_free(stop_events[i]);
    evconnlistener_free(listener);
    return 0;
}
