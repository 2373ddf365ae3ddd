/* Load generator: publishes timestamped events with HTTP POST, at a fixed rate or as fast as acknowledged. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "loadgen.h"

/* Period of the timer that releases events at a fixed rate. */
#define LOADGEN_TICK_US 1000

/* A publish request that gets no response within this many seconds fails. */
#define LOADGEN_PUBLISH_TIMEOUT_S 10

/* A slot is one keep-alive connection with at most one request in flight. */
typedef struct loadgen_slot {
    loadgen_publisher *publisher;
    struct evhttp_connection *connection;
    int busy;
    long event_index;
} loadgen_slot;

struct loadgen_publisher {
    loadgen_run *run;
    loadgen_slot *slots;
    int slot_count;
    struct event *tick;
    char *body;

    long sent;
    long in_flight;
    long published;
    long errors;
    int stopped;
    int64_t start_us;
    int64_t last_ack_us;
};

static void loadgen_publisher_pump(loadgen_publisher *publisher);

/* Fill the body of event INDEX: the send time, a sequence number and padding up to options->size bytes. */
static size_t loadgen_publisher_fill_body(loadgen_publisher *publisher, long index, int64_t now_us)
{
    int size = publisher->run->options->size;
    int len = snprintf(publisher->body, (size_t)size + 1, "{" LOADGEN_TIME_MARKER "%lld,\"seq\":%ld,\"pad\":\"",
                       (long long)now_us, index);

    while (len < size - 2)
        publisher->body[len++] = 'x';
    publisher->body[len++] = '"';
    publisher->body[len++] = '}';
    publisher->body[len] = '\0';
    return (size_t)len;
}

static void loadgen_publisher_on_response(struct evhttp_request *req, void *arg)
{
    loadgen_slot *slot = arg;
    loadgen_publisher *publisher = slot->publisher;
    loadgen_run *run = publisher->run;
    loadgen_channel *channel = &run->channels[slot->event_index % run->options->channels];
    int status = req != NULL ? evhttp_request_get_response_code(req) : 0;

    slot->busy = 0;
    publisher->in_flight--;
    publisher->last_ack_us = loadgen_now_us();

    if (status >= 200 && status < 300) {
        publisher->published++;
        run->expected += (uint64_t)channel->subscribers;
    } else {
        publisher->errors++;
        if (status == 0)
            loadgen_run_fail(run, "publishing to channel %s failed: no response", channel->name);
        else
            loadgen_run_fail(run, "publishing to channel %s failed: HTTP status %d", channel->name, status);
    }

    loadgen_publisher_pump(publisher);
}

static void loadgen_publisher_send(loadgen_publisher *publisher, loadgen_slot *slot, int64_t now_us)
{
    loadgen_run *run = publisher->run;
    long index = publisher->sent;
    loadgen_channel *channel = &run->channels[index % run->options->channels];
    struct evhttp_request *req = evhttp_request_new(loadgen_publisher_on_response, slot);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    size_t len = loadgen_publisher_fill_body(publisher, index, now_us);

    evhttp_add_header(headers, "Host", channel->publish.host_header);
    evhttp_add_header(headers, "Content-Type", "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), publisher->body, len);

    slot->busy = 1;
    slot->event_index = index;
    publisher->sent++;
    publisher->in_flight++;
    if (run->first_publish_us == 0)
        run->first_publish_us = now_us;
    if (evhttp_make_request(slot->connection, req, EVHTTP_REQ_POST, channel->publish.path) < 0) {
        slot->busy = 0;
        publisher->in_flight--;
        publisher->errors++;
        loadgen_run_fail(run, "publishing to channel %s failed: the request could not be sent", channel->name);
    }
}

/* Return how many events should have been sent by NOW_US. */
static long loadgen_publisher_due(const loadgen_publisher *publisher, int64_t now_us)
{
    const loadgen_options *options = publisher->run->options;
    double due;

    if (options->rate <= 0)
        return options->events;
    due = (double)(now_us - publisher->start_us) * options->rate / 1e6 + 1;
    return due < (double)options->events ? (long)due : options->events;
}

static void loadgen_publisher_pump(loadgen_publisher *publisher)
{
    int64_t now_us = loadgen_now_us();
    long due = loadgen_publisher_due(publisher, now_us);

    for (int i = 0; i < publisher->slot_count && !publisher->stopped; i++) {
        loadgen_slot *slot = &publisher->slots[i];

        if (publisher->sent >= due)
            break;
        if (!slot->busy)
            loadgen_publisher_send(publisher, slot, now_us);
    }
}

static void loadgen_publisher_on_tick(evutil_socket_t fd, short what, void *arg)
{
    loadgen_publisher_pump(arg);
}

loadgen_publisher *loadgen_publisher_new(loadgen_run *run)
{
    const loadgen_options *options = run->options;
    const loadgen_target *target = &run->channels[0].publish;
    loadgen_publisher *publisher = calloc(1, sizeof(*publisher));
    char host[INET_ADDRSTRLEN];

    if (publisher == NULL)
        abort();
    publisher->run = run;
    publisher->slot_count = options->publishers;
    publisher->slots = calloc((size_t)options->publishers, sizeof(*publisher->slots));
    publisher->body = malloc((size_t)options->size + 1);
    if (publisher->slots == NULL || publisher->body == NULL)
        abort();

    inet_ntop(AF_INET, &target->address.sin_addr, host, sizeof(host));
    for (int i = 0; i < publisher->slot_count; i++) {
        loadgen_slot *slot = &publisher->slots[i];

        slot->publisher = publisher;
        slot->connection = evhttp_connection_base_new(run->base, NULL, host, ntohs(target->address.sin_port));
        evhttp_connection_set_timeout(slot->connection, LOADGEN_PUBLISH_TIMEOUT_S);
    }
    return publisher;
}

void loadgen_publisher_start(loadgen_publisher *publisher)
{
    struct timeval period = {0, LOADGEN_TICK_US};

    publisher->start_us = loadgen_now_us();
    publisher->tick = event_new(publisher->run->base, -1, EV_PERSIST, loadgen_publisher_on_tick, publisher);
    event_add(publisher->tick, &period);
    loadgen_publisher_pump(publisher);
}

void loadgen_publisher_stop(loadgen_publisher *publisher)
{
    publisher->stopped = 1;
    if (publisher->tick != NULL)
        event_del(publisher->tick);
}

int loadgen_publisher_done(const loadgen_publisher *publisher)
{
    if (publisher->in_flight > 0)
        return 0;
    return publisher->stopped || publisher->sent >= publisher->run->options->events;
}

long loadgen_publisher_published(const loadgen_publisher *publisher)
{
    return publisher->published;
}

long loadgen_publisher_errors(const loadgen_publisher *publisher)
{
    return publisher->errors;
}

double loadgen_publisher_seconds(const loadgen_publisher *publisher)
{
    if (publisher->last_ack_us <= publisher->start_us)
        return 0;
    return (double)(publisher->last_ack_us - publisher->start_us) / 1e6;
}

void loadgen_publisher_free(loadgen_publisher *publisher)
{
    if (publisher == NULL)
        return;
    if (publisher->tick != NULL)
        event_free(publisher->tick);
    for (int i = 0; i < publisher->slot_count; i++)
        evhttp_connection_free(publisher->slots[i].connection);
    free(publisher->slots);
    free(publisher->body);
    free(publisher);
}
