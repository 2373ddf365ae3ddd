/* fanout-ceiling: the publish thread, which reads POST requests, frames each event once and queues it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "fanout_ceiling.h"
#include "ws_frame.h"

/* Maximum size of a publish request head or body. */
#define CEILING_MAX_REQUEST_BYTES (1024 * 1024)

#define CEILING_PUBLISHED_REPLY "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"

typedef struct ceiling_publisher {
    int fd;
    struct event *read_event;
    struct evbuffer *input;
} ceiling_publisher;

static struct event_base *ceiling_intake_base;
static struct evconnlistener *ceiling_intake_listener;
static pthread_t ceiling_intake_thread;
static ceiling_queue *ceiling_intake_queue;

void *ceiling_grow(void *items, size_t *cap, size_t count, size_t item_size)
{
    if (count < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 16;
    items = realloc(items, *cap * item_size);
    if (items == NULL)
        abort();
    return items;
}

void ceiling_queue_push(ceiling_queue *queue, const ceiling_frame *frame)
{
    uint64_t one = 1;
    int was_empty;

    pthread_mutex_lock(&queue->lock);
    queue->frames = ceiling_grow(queue->frames, &queue->cap, queue->count, sizeof(*frame));
    queue->frames[queue->count++] = *frame;
    was_empty = queue->count == 1;
    pthread_mutex_unlock(&queue->lock);

    if (was_empty && write(queue->wakeup_fd, &one, sizeof(one)) < 0)
        fprintf(stderr, "fanout-ceiling: eventfd write failed: %s\n", strerror(errno));
}

size_t ceiling_queue_take(ceiling_queue *queue, ceiling_frame **frames, size_t *cap)
{
    ceiling_frame *spare = *frames;
    size_t spare_cap = *cap;
    size_t count;

    pthread_mutex_lock(&queue->lock);
    *frames = queue->frames;
    *cap = queue->cap;
    count = queue->count;
    queue->frames = spare;
    queue->cap = spare_cap;
    queue->count = 0;
    pthread_mutex_unlock(&queue->lock);
    return count;
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

/* Frame BODY as a WebSocket text message when WEBSOCKET is set, else as an SSE event. */
static void ceiling_frame_body(ceiling_frame *frame, const char *body, size_t len, int websocket)
{
    uint8_t header[WS_FRAME_HEADER_MAX_BYTES];
    size_t header_len = websocket ? ws_frame_write_server_header(header, WS_FRAME_OPCODE_TEXT, len) : 6;

    frame->len = header_len + len + (websocket ? 0 : 2);
    frame->bytes = malloc(frame->len);
    if (frame->bytes == NULL)
        abort();

    memcpy(frame->bytes, websocket ? (const void *)header : "data: ", header_len);
    memcpy(frame->bytes + header_len, body, len);
    if (!websocket)
        memcpy(frame->bytes + header_len + len, "\n\n", 2);
}

static void ceiling_publisher_close(ceiling_publisher *publisher)
{
    event_free(publisher->read_event);
    evbuffer_free(publisher->input);
    close(publisher->fd);
    free(publisher);
}

/* Publish every complete request in the input. Returns -1 when the connection must close. */
static int ceiling_publisher_handle(ceiling_publisher *publisher)
{
    for (;;) {
        struct evbuffer_ptr end = evbuffer_search(publisher->input, "\r\n\r\n", 4, NULL);
        ceiling_frame frame;
        const char *length;
        size_t head_len;
        size_t body_len = 0;
        char *head;

        if (end.pos < 0)
            return evbuffer_get_length(publisher->input) > CEILING_MAX_REQUEST_BYTES ? -1 : 0;
        head_len = (size_t)end.pos + 4;
        head = (char *)evbuffer_pullup(publisher->input, (ssize_t)head_len);
        head[head_len - 1] = '\0';
        if (strncmp(head, "POST ", 5) != 0)
            return -1;

        length = strcasestr(head, "\r\nContent-Length:");
        if (length != NULL)
            body_len = strtoul(length + 17, NULL, 10);
        if (body_len > CEILING_MAX_REQUEST_BYTES)
            return -1;
        if (evbuffer_get_length(publisher->input) < head_len + body_len)
            return 0;

        ceiling_channel_name(head, frame.channel);
        head = (char *)evbuffer_pullup(publisher->input, (ssize_t)(head_len + body_len));
        ceiling_frame_body(&frame, head + head_len, body_len, strstr(head, "ws=1") != NULL);
        ceiling_queue_push(ceiling_intake_queue, &frame);
        evbuffer_drain(publisher->input, head_len + body_len);

        if (write(publisher->fd, CEILING_PUBLISHED_REPLY, sizeof(CEILING_PUBLISHED_REPLY) - 1) < 0)
            return -1;
    }
}

static void ceiling_publisher_on_read(evutil_socket_t fd, short what, void *arg)
{
    ceiling_publisher *publisher = arg;
    int n = evbuffer_read(publisher->input, fd, -1);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        ceiling_publisher_close(publisher);
        return;
    }
    if (ceiling_publisher_handle(publisher) < 0)
        ceiling_publisher_close(publisher);
}

static void ceiling_intake_on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
                                     int address_len, void *arg)
{
    ceiling_publisher *publisher = calloc(1, sizeof(*publisher));

    if (publisher == NULL)
        abort();
    publisher->fd = fd;
    publisher->input = evbuffer_new();
    publisher->read_event =
        event_new(ceiling_intake_base, fd, EV_READ | EV_PERSIST, ceiling_publisher_on_read, publisher);
    event_add(publisher->read_event, NULL);
}

static void *ceiling_intake_run(void *arg)
{
    event_base_loop(ceiling_intake_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int ceiling_intake_start(int port, ceiling_queue *queue)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    ceiling_intake_queue = queue;
    ceiling_intake_base = event_base_new();
    address.sin_port = htons((uint16_t)port);
    ceiling_intake_listener = evconnlistener_new_bind(
        ceiling_intake_base, ceiling_intake_on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
        (struct sockaddr *)&address, sizeof(address));
    if (ceiling_intake_listener == NULL) {
        fprintf(stderr, "fanout-ceiling: listen failed on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return -1;
    }
    if (pthread_create(&ceiling_intake_thread, NULL, ceiling_intake_run, NULL) != 0) {
        fprintf(stderr, "fanout-ceiling: pthread_create failed for the publish thread\n");
        return -1;
    }
    return 0;
}

void ceiling_intake_stop(void)
{
    event_base_loopbreak(ceiling_intake_base);
    pthread_join(ceiling_intake_thread, NULL);
    evconnlistener_free(ceiling_intake_listener);
    event_base_free(ceiling_intake_base);
}
