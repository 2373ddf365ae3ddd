/* fanout-ceiling: the least work any fan-out server must do, as the ceiling of the benchmarks.
 *
 * It speaks just enough HTTP for the load generator. GET /sub?id=CHANNEL on
 * --port opens an SSE stream, or a WebSocket with an Upgrade header. POST
 * /pub?id=CHANNEL on --publish-port publishes the body (add ws=1 to the query
 * for WebSocket frames). As in livegate, a publish thread frames each event
 * once and hands it to the fan-out thread, which writes every subscriber all
 * of a wake-up's frames in one writev(). It keeps no history, sends no ids,
 * heartbeats or pings, and ignores what subscribers send. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "fanout_ceiling.h"
#include "ws_frame.h"

/* Bytes queued for a subscriber whose socket is full before new frames are
 * dropped; the same as livegate's default limits.client_queue. */
#define CEILING_QUEUE_BYTES (256 * 1024)

/* Maximum size of a subscription request head. */
#define CEILING_MAX_HEAD_BYTES (16 * 1024)

#define CEILING_DEFAULT_TIMEOUT_S 300

typedef struct ceiling_channel ceiling_channel;

typedef struct ceiling_subscriber {
    int fd;
    int streaming;
    struct event *read_event;
    struct event *write_event;
    struct evbuffer *input;
    struct evbuffer *backlog;
    ceiling_channel *channel;
    size_t slot;
} ceiling_subscriber;

struct ceiling_channel {
    char name[CEILING_MAX_CHANNEL_BYTES + 1];
    ceiling_subscriber **subscribers;
    size_t subscriber_count;
    size_t subscriber_cap;
    struct iovec *pending;
    size_t pending_count;
    size_t pending_cap;
};

static struct event_base *ceiling_base;
static ceiling_queue ceiling_events_queue = {.lock = PTHREAD_MUTEX_INITIALIZER};
static ceiling_channel **ceiling_channels;
static size_t ceiling_channel_count;
static unsigned long long ceiling_event_count;
static unsigned long long ceiling_dropped;

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

static void ceiling_channel_add(ceiling_channel *channel, ceiling_subscriber *sub)
{
    channel->subscribers =
        ceiling_grow(channel->subscribers, &channel->subscriber_cap, channel->subscriber_count, sizeof(sub));
    sub->channel = channel;
    sub->slot = channel->subscriber_count;
    channel->subscribers[channel->subscriber_count++] = sub;
}

static void ceiling_channel_remove(ceiling_subscriber *sub)
{
    ceiling_channel *channel = sub->channel;
    ceiling_subscriber *last;

    if (channel == NULL)
        return;
    last = channel->subscribers[--channel->subscriber_count];
    channel->subscribers[sub->slot] = last;
    last->slot = sub->slot;
    sub->channel = NULL;
}

static void ceiling_subscriber_close(ceiling_subscriber *sub)
{
    ceiling_channel_remove(sub);
    event_free(sub->read_event);
    event_free(sub->write_event);
    evbuffer_free(sub->input);
    evbuffer_free(sub->backlog);
    close(sub->fd);
    free(sub);
}

/* Queue LEN bytes behind what the socket did not take, or drop them past the cap. */
static void ceiling_subscriber_queue(ceiling_subscriber *sub, const void *bytes, size_t len)
{
    if (evbuffer_get_length(sub->backlog) + len > CEILING_QUEUE_BYTES) {
        ceiling_dropped++;
        return;
    }
    evbuffer_add(sub->backlog, bytes, len);
    event_add(sub->write_event, NULL);
}

static void ceiling_subscriber_on_writable(evutil_socket_t fd, short what, void *arg)
{
    ceiling_subscriber *sub = arg;

    if (evbuffer_write(sub->backlog, fd) < 0 && errno != EAGAIN) {
        ceiling_subscriber_close(sub);
        return;
    }
    if (evbuffer_get_length(sub->backlog) > 0)
        event_add(sub->write_event, NULL);
}

/* Write FRAMES (COUNT of them, at most IOV_MAX) with one writev, queueing what the socket does not take. */
static void ceiling_subscriber_send(ceiling_subscriber *sub, const struct iovec *frames, size_t count)
{
    ssize_t written = 0;

    if (evbuffer_get_length(sub->backlog) == 0) {
        written = writev(sub->fd, frames, (int)count);
        if (written < 0)
            written = 0;
    }

    for (size_t i = 0; i < count; i++) {
        if ((size_t)written >= frames[i].iov_len) {
            written -= (ssize_t)frames[i].iov_len;
            continue;
        }
        ceiling_subscriber_queue(sub, (const char *)frames[i].iov_base + written, frames[i].iov_len - (size_t)written);
        written = 0;
    }
}

/* Send each channel's pending frames to its subscribers, IOV_MAX frames per writev. */
static void ceiling_flush_channel(ceiling_channel *channel)
{
    for (size_t first = 0; first < channel->pending_count; first += IOV_MAX) {
        size_t count = channel->pending_count - first;

        if (count > IOV_MAX)
            count = IOV_MAX;
        for (size_t i = 0; i < channel->subscriber_count; i++)
            ceiling_subscriber_send(channel->subscribers[i], channel->pending + first, count);
    }
    channel->pending_count = 0;
}

/* Take every queued frame, group the frames by channel and send them. */
static void ceiling_on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    static ceiling_frame *frames;
    static size_t frames_cap;
    uint64_t wakeups;
    size_t count;

    if (read(fd, &wakeups, sizeof(wakeups)) < 0 && errno != EAGAIN)
        fprintf(stderr, "fanout-ceiling: eventfd read failed: %s\n", strerror(errno));
    count = ceiling_queue_take(&ceiling_events_queue, &frames, &frames_cap);

    for (size_t i = 0; i < count; i++) {
        ceiling_channel *channel = ceiling_channel_find(frames[i].channel);

        channel->pending =
            ceiling_grow(channel->pending, &channel->pending_cap, channel->pending_count, sizeof(struct iovec));
        channel->pending[channel->pending_count].iov_base = frames[i].bytes;
        channel->pending[channel->pending_count++].iov_len = frames[i].len;
    }
    for (size_t i = 0; i < ceiling_channel_count; i++)
        ceiling_flush_channel(ceiling_channels[i]);

    for (size_t i = 0; i < count; i++)
        free(frames[i].bytes);
    ceiling_event_count += count;
}

static void ceiling_reply(ceiling_subscriber *sub, const char *text)
{
    if (write(sub->fd, text, strlen(text)) < 0)
        fprintf(stderr, "fanout-ceiling: write failed: %s\n", strerror(errno));
}

/* Reply to the subscription request HEAD with an SSE stream, or a WebSocket handshake when it requests an upgrade. */
static void ceiling_subscribe(ceiling_subscriber *sub, const char *head)
{
    const char *key = strcasestr(head, "\r\nSec-WebSocket-Key:");
    const char *id = strstr(head, "id=");
    char name[CEILING_MAX_CHANNEL_BYTES + 1];
    size_t name_len = id != NULL ? strcspn(id + 3, "& \r\n") : 0;

    snprintf(name, sizeof(name), "%.*s", (int)name_len, id != NULL ? id + 3 : "");
    if (key == NULL) {
        ceiling_reply(sub, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
    } else {
        char key_text[WS_FRAME_KEY_BYTES];
        char accept[WS_FRAME_ACCEPT_BYTES];
        char reply[256];

        key += strlen("\r\nSec-WebSocket-Key:");
        key += strspn(key, " ");
        snprintf(key_text, sizeof(key_text), "%.*s", (int)strcspn(key, " \r\n"), key);
        ws_frame_accept_key(key_text, accept);
        snprintf(reply, sizeof(reply),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
        ceiling_reply(sub, reply);
    }

    sub->streaming = 1;
    ceiling_channel_add(ceiling_channel_find(name), sub);
}

static void ceiling_subscriber_on_read(evutil_socket_t fd, short what, void *arg)
{
    ceiling_subscriber *sub = arg;
    int n = evbuffer_read(sub->input, fd, -1);
    struct evbuffer_ptr end;
    char *head;

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        ceiling_subscriber_close(sub);
        return;
    }
    if (sub->streaming) {
        evbuffer_drain(sub->input, evbuffer_get_length(sub->input));
        return;
    }

    end = evbuffer_search(sub->input, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(sub->input) > CEILING_MAX_HEAD_BYTES)
            ceiling_subscriber_close(sub);
        return;
    }
    head = (char *)evbuffer_pullup(sub->input, end.pos + 4);
    head[end.pos + 3] = '\0';
    if (strncmp(head, "GET ", 4) != 0) {
        ceiling_subscriber_close(sub);
        return;
    }
    ceiling_subscribe(sub, head);
    evbuffer_drain(sub->input, evbuffer_get_length(sub->input));
}

static void ceiling_on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
                              int address_len, void *arg)
{
    ceiling_subscriber *sub = calloc(1, sizeof(*sub));

    if (sub == NULL)
        abort();
    sub->fd = fd;
    sub->input = evbuffer_new();
    sub->backlog = evbuffer_new();
    sub->read_event = event_new(ceiling_base, fd, EV_READ | EV_PERSIST, ceiling_subscriber_on_read, sub);
    sub->write_event = event_new(ceiling_base, fd, EV_WRITE, ceiling_subscriber_on_writable, sub);
    event_add(sub->read_event, NULL);
}

static void ceiling_on_stop(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(ceiling_base);
}

static const char ceiling_usage[] =
    "Usage: fanout-ceiling --port PORT --publish-port PORT [--timeout SECONDS]\n"
    "Serve SSE and WebSocket subscribers at GET /sub?id=CHANNEL on --port and\n"
    "publish the body of POST /pub?id=CHANNEL on --publish-port to them (add ws=1\n"
    "to the query for WebSocket frames), with one writev per subscriber and wake-up\n"
    "and nothing else. Listens on 127.0.0.1 only; exits on SIGTERM, SIGINT or after\n"
    "--timeout seconds (default 300).\n";

static int ceiling_parse_options(int argc, char **argv, int *port, int *publish_port, long *timeout_s)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"publish-port", required_argument, NULL, 'P'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'p') {
            *port = atoi(optarg);
        } else if (c == 'P') {
            *publish_port = atoi(optarg);
        } else if (c == 't') {
            *timeout_s = atol(optarg);
        } else {
            fputs(ceiling_usage, c == 'h' ? stdout : stderr);
            exit(c == 'h' ? 0 : 2);
        }
    }
    if (*port <= 0 || *port > 65535 || *publish_port <= 0 || *publish_port > 65535 || *timeout_s <= 0) {
        fprintf(stderr, "fanout-ceiling: invalid or missing --port, --publish-port or --timeout\n%s", ceiling_usage);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int port = 0;
    int publish_port = 0;
    long timeout_s = CEILING_DEFAULT_TIMEOUT_S;
    struct timeval timeout = {0, 0};
    struct evconnlistener *listener;
    struct event *events[4];

    if (ceiling_parse_options(argc, argv, &port, &publish_port, &timeout_s) < 0)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    ceiling_base = event_base_new();
    ceiling_events_queue.wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    address.sin_port = htons((uint16_t)port);
    listener = evconnlistener_new_bind(ceiling_base, ceiling_on_accept, NULL,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 4096,
                                       (struct sockaddr *)&address, sizeof(address));
    if (listener == NULL) {
        fprintf(stderr, "fanout-ceiling: listen failed on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    if (ceiling_intake_start(publish_port, &ceiling_events_queue) < 0)
        return 1;

    timeout.tv_sec = timeout_s;
    events[0] = event_new(ceiling_base, ceiling_events_queue.wakeup_fd, EV_READ | EV_PERSIST, ceiling_on_wakeup, NULL);
    events[1] = evsignal_new(ceiling_base, SIGTERM, ceiling_on_stop, NULL);
    events[2] = evsignal_new(ceiling_base, SIGINT, ceiling_on_stop, NULL);
    events[3] = evtimer_new(ceiling_base, ceiling_on_stop, NULL);
    for (int i = 0; i < 3; i++)
        event_add(events[i], NULL);
    event_add(events[3], &timeout);
    fprintf(stderr, "fanout-ceiling: listening on 127.0.0.1:%d, publishing on 127.0.0.1:%d\n", port, publish_port);
    event_base_dispatch(ceiling_base);

    ceiling_intake_stop();
    fprintf(stderr, "fanout-ceiling: %llu events published, %llu frames dropped at full queues\n",
            ceiling_event_count, ceiling_dropped);
    for (int i = 0; i < 4; i++)
        event_free(events[i]);
    evconnlistener_free(listener);
    return 0;
}
