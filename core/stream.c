/* Streams: subscriber connections with a byte-capped queue, overflow policies, client rates and heartbeats. */
#include "config.h"

#include <math.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "address_limit.h"
#include "alloc.h"
#include "clock.h"
#include "hashmap.h"
#include "hub.h"
#include "log.h"
#include "messages.h"
#include "names.h"
#include "outqueue.h"
#include "pacer.h"
#include "stream.h"
#include "stream_worker.h"
#include "worker.h"

/* Maximum bytes handed to the socket's output buffer at a time, and at most a
 * quarter of the client's queue cap. What exceeds it stays in the stream's
 * own queue, where the overflow policy can still conflate or drop it. */
#define LG_STREAM_SOCKET_BYTES (64 * 1024)
#define LG_STREAM_SOCKET_SHARE 4

/* After its last byte, a closing stream waits this long for the client to
 * close too, reading and discarding what it still sends. Closing a socket
 * with unread input makes the kernel send a reset, which can destroy the
 * final bytes (a WebSocket close frame) before the client reads them. */
#define LG_STREAM_LINGER_MS 1000

/* Keys whose last send time a stream remembers for its client rates; past
 * this, the idle key sent longest ago is forgotten. */
#define LG_STREAM_MAX_RATE_KEYS 10000

/* Longest interval a client rate may set: one update per hour per key. */
#define LG_STREAM_MAX_INTERVAL_MS (3600 * 1000)

typedef enum lg_stream_state {
    LG_STREAM_OPEN = 0,
    LG_STREAM_FLUSHING, /* closing after the queue drains */
    LG_STREAM_LINGERING, /* our side is shut down, waiting for the client's end */
    LG_STREAM_CLOSED,   /* waiting for the reaper */
} lg_stream_state;

typedef enum lg_subscription_state {
    LG_SUBSCRIPTION_PENDING = 0, /* waiting for the hub's reply */
    LG_SUBSCRIPTION_ACTIVE,
} lg_subscription_state;

typedef struct lg_subscription lg_subscription;

struct lg_subscription {
    lg_stream *stream;
    char *channel_name;
    lg_channel *channel;
    struct lg_local_channel *local;
    lg_subscription_state state;
    uint64_t request_id;
    lg_overflow_policy overflow;

    int64_t min_interval_ms; /* 0: no client rate */

    uint64_t gap_dropped; /* events dropped since the last gap notice */

    TAILQ_ENTRY(lg_subscription) stream_link;
    TAILQ_ENTRY(lg_subscription) channel_link;
};

/* The subscriptions of one worker to one channel. */
typedef struct lg_local_channel {
    lg_channel *channel;
    TAILQ_HEAD(, lg_subscription) subscriptions;
    UT_hash_handle hh;
} lg_local_channel;

struct lg_stream {
    uint64_t id;
    lg_worker *worker;
    const lg_stream_class *cls;
    void *ctx;
    struct bufferevent *bev;
    atomic_size_t *open_connections;
    char peer[64];
    lg_stream_state state;

    TAILQ_HEAD(, lg_subscription) subscriptions;
    size_t subscription_count;

    lg_outqueue queue;
    lg_pacer pacer;
    uint64_t delivered_seq; /* highest seq queued to the client */
    uint64_t resume_seq;    /* resume position last given: every owed event up to it is queued */
    struct event *pacer_timer;
    size_t output_bytes; /* bytes in the bufferevent's output buffer */
    size_t socket_bytes; /* the output buffer is filled up to this */
    int64_t reported_bytes;

    int dirty;
    int pending_gaps;
    int input_paused; /* reading stopped while the client's unsent bytes are over its cap */
    TAILQ_ENTRY(lg_stream) dirty_link;
    TAILQ_ENTRY(lg_stream) closed_link;

    struct event *heartbeat;
    int64_t heartbeat_ms;
    int64_t last_write_ms;
    struct event *flush_timer;

    UT_hash_handle hh;
};

static void lg_stream_pump(lg_stream *stream);
static void lg_stream_finish(lg_stream *stream);
static void lg_stream_end_with(lg_stream *stream, lg_stream_end reason, const char *message);
static void lg_subscription_deliver(lg_subscription *sub, lg_event *event);

/* ---- accounting ---- */

static void lg_stream_report_bytes(lg_stream *stream)
{
    int64_t total = (int64_t)(stream->queue.bytes + stream->output_bytes);

    if (total != stream->reported_bytes) {
        atomic_fetch_add_explicit(&stream->worker->stats.queued_bytes, total - stream->reported_bytes,
                                  memory_order_relaxed);
        stream->reported_bytes = total;
    }
}

static size_t lg_stream_buffered(const lg_stream *stream)
{
    return stream->queue.bytes + stream->output_bytes;
}

static void lg_stream_count_drop(lg_stream *stream, lg_channel *channel, lg_drop_reason reason, uint64_t count)
{
    atomic_fetch_add_explicit(&stream->worker->stats.dropped[reason], count, memory_order_relaxed);
    if (channel != NULL)
        atomic_fetch_add_explicit(&channel->dropped[reason], count, memory_order_relaxed);
}

static void lg_stream_mark_dirty(lg_stream *stream)
{
    if (stream->dirty || stream->state == LG_STREAM_CLOSED)
        return;
    stream->dirty = 1;
    TAILQ_INSERT_TAIL(&stream->worker->dirty_streams, stream, dirty_link);
}

/* ---- queue ---- */

static void lg_stream_queue_raw(lg_stream *stream, const void *data, size_t len)
{
    if (len == 0 || stream->state == LG_STREAM_CLOSED || stream->state == LG_STREAM_LINGERING)
        return;
    lg_outqueue_push_raw(&stream->queue, data, len);
    lg_stream_mark_dirty(stream);
}

static void lg_stream_queue_notice(lg_stream *stream, const lg_notice *notice)
{
    lg_buf out = LG_BUF_INIT;

    stream->cls->encode_notice(notice, &out, stream->ctx);
    lg_stream_queue_raw(stream, out.data, out.len);
    lg_buf_free(&out);
}

/* Count an event the queue dropped, and remember a gap for the
 * subscription when the client will miss it without notice otherwise. */
static void lg_stream_on_drop(void *tag, lg_event *event, lg_drop_reason reason, void *arg)
{
    lg_subscription *sub = tag;
    lg_stream *stream = arg;

    lg_stream_count_drop(stream, event->channel, reason, 1);
    if (reason == LG_DROP_OVERFLOW) {
        sub->gap_dropped++;
        stream->pending_gaps = 1;
    }
}

/* Return 1 when frames of events with position ids must carry the local
 * position: the client keeps one position for several channels. */
static int lg_stream_local_position(const lg_stream *stream)
{
    return stream->cls->one_position && stream->subscription_count > 1;
}

/* Work out the resume position that ITEM (EVENT's frame, just queued) gives
 * the client: the highest seq up to which every event the stream owes is
 * queued. Events held by the pacer are owed, so an event that overtakes them
 * carries a position below its own id; an event older than what the client
 * already has (a late snapshot, a released held event) carries the position
 * reached before. Only then does the frame differ from the shared one. */
static void lg_stream_set_resume(lg_stream *stream, lg_outqueue_item *item, const lg_event *event)
{
    uint64_t oldest_held = lg_pacer_oldest_seq(&stream->pacer);
    uint64_t resume;

    if (event->seq > stream->delivered_seq)
        stream->delivered_seq = event->seq;
    resume = stream->delivered_seq;
    if (oldest_held != 0 && oldest_held <= resume)
        resume = oldest_held - 1;
    if (resume < stream->resume_seq)
        resume = stream->resume_seq;

    stream->resume_seq = resume;
    if (item == NULL || item->event != event || stream->cls->encode_resumed == NULL)
        return;

    /* A position id means the same on every node and stays as it is, unless
     * the stream's one position must cover several channels. */
    if (event->id_is_position ? lg_stream_local_position(stream) : resume != event->seq)
        item->resume_seq = resume;
}

/* Append EVENT for SUB, applying SUB's overflow policy when the stream is
 * over its cap. */
static void lg_stream_queue_event(lg_subscription *sub, lg_event *event)
{
    lg_stream *stream = sub->stream;
    const lg_bytes *frame = &event->encoded[stream->cls->format];
    size_t cap = stream->worker->settings->client_queue_bytes;
    lg_outqueue_result result;

    if (stream->state != LG_STREAM_OPEN || frame->len == 0)
        return;

    result = lg_outqueue_push_event(&stream->queue, event, frame->len, sub, sub->overflow, cap, stream->output_bytes,
                                    lg_stream_on_drop, stream);
    if (result == LG_OUTQUEUE_DISCONNECT) {
        char message[96];

        LG_LOG_INFO(stream->cls->sink, "closing stream %llu from %s: queue over %zu bytes on channel '%s'",
                    (unsigned long long)stream->id, stream->peer, cap, event->channel_name);
        snprintf(message, sizeof(message), "too slow: more than %zu bytes queued", cap);
        lg_stream_end_with(stream, LG_STREAM_END_OVERFLOW, message);
        return;
    }
    if (result == LG_OUTQUEUE_QUEUED) {
        lg_stream_set_resume(stream, lg_outqueue_last(&stream->queue), event);
        atomic_fetch_add_explicit(&stream->worker->stats.events_out, 1, memory_order_relaxed);
    }
    lg_stream_mark_dirty(stream);
}

/* Queue a gap notice for every subscription that lost events, once the
 * queue has room again. */
static void lg_stream_queue_gaps(lg_stream *stream)
{
    lg_subscription *sub;

    if (!stream->pending_gaps || lg_stream_buffered(stream) > stream->worker->settings->client_queue_bytes / 2)
        return;

    stream->pending_gaps = 0;
    TAILQ_FOREACH(sub, &stream->subscriptions, stream_link)
    {
        if (sub->gap_dropped == 0)
            continue;
        lg_notice notice = {.kind = LG_NOTICE_GAP, .channel = sub->channel_name, .dropped = sub->gap_dropped};
        lg_stream_queue_notice(stream, &notice);
        sub->gap_dropped = 0;
    }
}

/* Add ITEM's event to OUTPUT with the resume position the item carries: a
 * copy made for this client, since the shared frame has the event's own id. */
static void lg_stream_add_resumed(lg_stream *stream, struct evbuffer *output, const lg_outqueue_item *item)
{
    const char *id = item->event->id;
    const char *dash = strrchr(id, '-');
    char resume_id[64];
    lg_buf frame = LG_BUF_INIT;

    if (item->event->id_is_position)
        snprintf(resume_id, sizeof(resume_id), "%s-%llu", stream->worker->hub->epoch,
                 (unsigned long long)item->resume_seq);
    else
        snprintf(resume_id, sizeof(resume_id), "%.*s-%llu", (int)(dash != NULL ? dash - id : 0), id,
                 (unsigned long long)item->resume_seq);
    stream->cls->encode_resumed(item->event, resume_id, &frame, stream->ctx);
    evbuffer_add(output, frame.data, frame.len);
    lg_buf_free(&frame);
}

/* Move queued frames into the socket's output buffer, up to
 * LG_STREAM_SOCKET_BYTES. Event frames are added by reference: the bytes are
 * the event's shared encoding and the event is released once they are sent. */
static void lg_stream_pump(lg_stream *stream)
{
    struct evbuffer *output;
    lg_outqueue_item *item;
    int moved = 0;

    if (stream->state == LG_STREAM_CLOSED)
        return;
    output = bufferevent_get_output(stream->bev);

    while (stream->output_bytes < stream->socket_bytes && (item = lg_outqueue_pop(&stream->queue)) != NULL) {
        if (item->event != NULL && item->resume_seq != 0) {
            lg_stream_add_resumed(stream, output, item);
        } else if (item->event != NULL) {
            const lg_bytes *frame = &item->event->encoded[stream->cls->format];

            evbuffer_add_reference(output, frame->data, frame->len, lg_event_unref_cleanup, item->event);
            item->event = NULL;
        } else {
            evbuffer_add(output, item->raw, item->len);
        }
        lg_outqueue_item_free(item);
        moved = 1;
    }

    if (moved)
        stream->last_write_ms = lg_clock_monotonic_ms();
    lg_stream_queue_gaps(stream);
    lg_stream_report_bytes(stream);
}

/* ---- client rate ---- */

static void lg_stream_on_pacer_timer(evutil_socket_t fd, short what, void *arg);

static void lg_stream_arm_pacer(lg_stream *stream, int64_t now_ms)
{
    int64_t due_ms = lg_pacer_next_due(&stream->pacer);
    int64_t delay_ms;
    struct timeval delay;

    if (due_ms < 0)
        return;
    if (stream->pacer_timer == NULL)
        stream->pacer_timer = evtimer_new(stream->worker->base, lg_stream_on_pacer_timer, stream);
    else if (evtimer_pending(stream->pacer_timer, NULL))
        return;

    delay_ms = due_ms > now_ms ? due_ms - now_ms : 0;
    delay.tv_sec = (time_t)(delay_ms / 1000);
    delay.tv_usec = (suseconds_t)((delay_ms % 1000) * 1000);
    evtimer_add(stream->pacer_timer, &delay);
}

static void lg_stream_on_pacer_timer(evutil_socket_t fd, short what, void *arg)
{
    lg_stream *stream = arg;
    int64_t now_ms = lg_clock_monotonic_ms();

    if (stream->state != LG_STREAM_OPEN)
        return;
    lg_pacer_release(&stream->pacer, now_ms);
    lg_stream_arm_pacer(stream, now_ms);
    if (stream->dirty)
        lg_stream_flush_dirty(stream->worker);
}

static void lg_stream_pacer_emit(void *tag, lg_event *event, void *arg)
{
    lg_stream_queue_event(tag, event);
}

static void lg_stream_pacer_drop(void *tag, lg_event *event, lg_drop_reason reason, void *arg)
{
    lg_stream_count_drop(arg, event->channel, reason, 1);
}

/* Send EVENT through the stream's pacer, which applies the subscription's
 * rate per key; other keys and channels do not wait for it. */
static void lg_subscription_deliver(lg_subscription *sub, lg_event *event)
{
    lg_stream *stream = sub->stream;
    int64_t now_ms;

    if (sub->min_interval_ms == 0) {
        lg_stream_queue_event(sub, event);
        return;
    }

    now_ms = lg_clock_monotonic_ms();
    lg_pacer_offer(&stream->pacer, sub, sub->min_interval_ms, event, event->encoded[stream->cls->format].len, now_ms);
    lg_stream_arm_pacer(stream, now_ms);
}

/* ---- local channels ---- */

static lg_local_channel *lg_local_channel_get(lg_worker *worker, lg_channel *channel)
{
    lg_local_channel *local;

    HASH_FIND_PTR(worker->local_channels, &channel, local);
    if (local != NULL)
        return local;

    local = lg_calloc(1, sizeof(*local));
    local->channel = channel;
    TAILQ_INIT(&local->subscriptions);
    HASH_ADD_PTR(worker->local_channels, channel, local);
    return local;
}

static void lg_local_channel_remove(lg_worker *worker, lg_local_channel *local, lg_subscription *sub)
{
    TAILQ_REMOVE(&local->subscriptions, sub, channel_link);
    if (TAILQ_EMPTY(&local->subscriptions)) {
        HASH_DEL(worker->local_channels, local);
        free(local);
    }
}

static void lg_stream_post_unsubscribe(lg_worker *worker, lg_channel *channel)
{
    lg_msg_unsubscribe *msg = lg_calloc(1, sizeof(*msg));

    msg->header.type = LG_MSG_UNSUBSCRIBE;
    msg->worker = worker->index;
    msg->channel = channel;
    lg_mailbox_post(&worker->hub->mailbox, &msg->header);
}

/* ---- subscriptions ---- */

static lg_subscription *lg_stream_find_subscription(const lg_stream *stream, const char *channel)
{
    lg_subscription *sub;

    TAILQ_FOREACH(sub, &stream->subscriptions, stream_link)
    {
        if (strcmp(sub->channel_name, channel) == 0)
            return sub;
    }
    return NULL;
}

/* Remove SUB from its stream and channel, drop its queued frames, tell the
 * hub, and free it. */
static void lg_subscription_free(lg_subscription *sub)
{
    lg_stream *stream = sub->stream;
    lg_worker *worker = stream->worker;

    lg_outqueue_remove_tag(&stream->queue, sub);

    if (sub->state == LG_SUBSCRIPTION_ACTIVE) {
        lg_local_channel_remove(worker, sub->local, sub);
        lg_stream_post_unsubscribe(worker, sub->channel);
    }

    TAILQ_REMOVE(&stream->subscriptions, sub, stream_link);
    stream->subscription_count--;
    lg_pacer_remove_tag(&stream->pacer, sub);
    free(sub->channel_name);
    free(sub);
}

static const lg_rule *lg_stream_rule(const lg_worker *worker, const char *channel)
{
    const lg_ruleset *ruleset = atomic_load_explicit(&worker->settings->ruleset, memory_order_acquire);

    return lg_rules_find(ruleset->rules, ruleset->count, channel);
}

static int lg_stream_check_rule(const lg_worker *worker, const char *channel, int *status, lg_error *err)
{
    const lg_rule *rule;

    if (lg_channel_name_check(channel, err) < 0) {
        *status = 400;
        return -1;
    }

    rule = lg_stream_rule(worker, channel);
    if (rule == NULL) {
        *status = 404;
        return lg_error_set(err, "channel '%s' not found: no channel rule matches it", channel);
    }
    if (!rule->subscribe) {
        *status = 403;
        return lg_error_set(err, "subscribing to channel '%s' is not allowed (rule '%s' has subscribe: false)",
                            channel, rule->match);
    }
    return 0;
}

int lg_stream_check_count(lg_http_request *req, size_t count, lg_error *err)
{
    lg_worker *worker = lg_http_request_context(req);

    if (count > worker->settings->max_subscriptions)
        return lg_error_set(err, "too many channels: a connection may follow at most %zu (server.limits.max_subscriptions)",
                            worker->settings->max_subscriptions);
    return 0;
}

int lg_stream_check_channel(lg_http_request *req, const char *channel, int *status, lg_error *err)
{
    lg_worker *worker = lg_http_request_context(req);

    return lg_stream_check_rule(worker, channel, status, err);
}

/* The effective rate interval: the lower of the client's and the rule's
 * rates, 0 when neither sets one, at most LG_STREAM_MAX_INTERVAL_MS. */
static int64_t lg_stream_rate_interval_ms(double client_rate, double rule_rate)
{
    double rate = client_rate;
    double interval_ms;

    if (rule_rate > 0 && (rate <= 0 || rule_rate < rate))
        rate = rule_rate;
    if (rate <= 0)
        return 0;

    interval_ms = ceil(1000.0 / rate);
    if (interval_ms > LG_STREAM_MAX_INTERVAL_MS)
        return LG_STREAM_MAX_INTERVAL_MS;
    return interval_ms < 1 ? 1 : (int64_t)interval_ms;
}

/* Check one channel of a subscribe batch against the rules, the stream's
 * subscriptions and the batch itself. */
static int lg_stream_check_new(const lg_stream *stream, const char *const *channels, size_t index, lg_error *err)
{
    int status;

    if (lg_stream_check_rule(stream->worker, channels[index], &status, err) < 0)
        return -1;
    if (lg_stream_find_subscription(stream, channels[index]) != NULL)
        return lg_error_set(err, "already subscribed to channel '%s'", channels[index]);
    for (size_t j = 0; j < index; j++) {
        if (strcmp(channels[j], channels[index]) == 0)
            return lg_error_set(err, "channel '%s' is listed twice", channels[index]);
    }
    return 0;
}

static lg_subscription *lg_stream_add_subscription(lg_stream *stream, const char *channel, double max_rate)
{
    lg_worker *worker = stream->worker;
    const lg_rule *rule = lg_stream_rule(worker, channel);
    lg_subscription *sub = lg_calloc(1, sizeof(*sub));

    sub->stream = stream;
    sub->channel_name = lg_strdup(channel);
    sub->state = LG_SUBSCRIPTION_PENDING;
    sub->request_id = ++worker->next_request_id;
    sub->overflow = (lg_overflow_policy)rule->overflow;
    sub->min_interval_ms = lg_stream_rate_interval_ms(max_rate, rule->max_rate);
    TAILQ_INSERT_TAIL(&stream->subscriptions, sub, stream_link);
    stream->subscription_count++;
    return sub;
}

int lg_stream_subscribe_many(lg_stream *stream, const char *const *channels, size_t count,
                             const char *last_event_id, double max_rate, lg_error *err)
{
    lg_worker *worker = stream->worker;
    lg_msg_subscribe *msg;

    if (stream->state != LG_STREAM_OPEN)
        return lg_error_set(err, "the connection is closing");
    if (max_rate < 0 || isnan(max_rate))
        return lg_error_set(err, "invalid max rate %g: expected updates per second, 0 or more", max_rate);
    if (stream->subscription_count + count > worker->settings->max_subscriptions)
        return lg_error_set(err, "too many subscriptions: the limit is %zu per connection (server.limits.max_subscriptions)",
                            worker->settings->max_subscriptions);
    for (size_t i = 0; i < count; i++) {
        if (lg_stream_check_new(stream, channels, i, err) < 0)
            return -1;
    }

    msg = lg_calloc(1, sizeof(*msg));
    msg->header.type = LG_MSG_SUBSCRIBE;
    msg->worker = worker->index;
    msg->stream_id = stream->id;
    msg->count = count;
    msg->items = lg_calloc(count, sizeof(*msg->items));
    msg->last_event_id = last_event_id != NULL && last_event_id[0] != '\0' ? lg_strdup(last_event_id) : NULL;
    for (size_t i = 0; i < count; i++) {
        lg_subscription *sub = lg_stream_add_subscription(stream, channels[i], max_rate);

        msg->items[i].channel_name = lg_strdup(channels[i]);
        msg->items[i].request_id = sub->request_id;
    }
    lg_mailbox_post(&worker->hub->mailbox, &msg->header);
    return 0;
}

int lg_stream_subscribe(lg_stream *stream, const char *channel, const char *last_event_id, double max_rate,
                        lg_error *err)
{
    return lg_stream_subscribe_many(stream, &channel, 1, last_event_id, max_rate, err);
}

int lg_stream_unsubscribe(lg_stream *stream, const char *channel)
{
    lg_subscription *sub = lg_stream_find_subscription(stream, channel);

    if (sub == NULL)
        return -1;
    lg_subscription_free(sub);
    return 0;
}

size_t lg_stream_subscription_count(const lg_stream *stream)
{
    return stream->subscription_count;
}

static lg_subscription *lg_stream_find_request(const lg_stream *stream, uint64_t request_id)
{
    lg_subscription *sub;

    TAILQ_FOREACH(sub, &stream->subscriptions, stream_link)
    {
        if (sub->request_id == request_id && sub->state == LG_SUBSCRIPTION_PENDING)
            return sub;
    }
    return NULL;
}

/* Apply one channel's result: activate the subscription with its notices,
 * or report the failure. Returns the subscription when it is active. */
static lg_subscription *lg_stream_apply_result(lg_stream *stream, lg_subscribe_result *result)
{
    lg_worker *worker = stream->worker;
    lg_subscription *sub = lg_stream_find_request(stream, result->request_id);
    lg_notice notice;

    /* The stream closed or unsubscribed before the hub's reply arrived, so
     * the hub's count is given back. */
    if (sub == NULL) {
        if (result->channel != NULL)
            lg_stream_post_unsubscribe(worker, result->channel);
        return NULL;
    }

    if (result->channel == NULL) {
        notice = (lg_notice){.kind = LG_NOTICE_ERROR, .channel = sub->channel_name, .reason = result->error};
        lg_stream_queue_notice(stream, &notice);
        lg_subscription_free(sub);
        return NULL;
    }

    sub->channel = result->channel;
    sub->local = lg_local_channel_get(worker, result->channel);
    sub->state = LG_SUBSCRIPTION_ACTIVE;
    TAILQ_INSERT_TAIL(&sub->local->subscriptions, sub, channel_link);

    notice = (lg_notice){.kind = LG_NOTICE_SUBSCRIBED, .channel = sub->channel_name, .recovered = result->recovered};
    lg_stream_queue_notice(stream, &notice);
    if (result->reset) {
        notice = (lg_notice){.kind = LG_NOTICE_RESET, .channel = sub->channel_name, .reason = result->reset_reason};
        lg_stream_queue_notice(stream, &notice);
    }
    return sub;
}

/* Return the subscription of this batch that EVENT belongs to. */
static lg_subscription *lg_stream_batch_subscription(lg_subscription **subs, size_t count, const lg_event *event)
{
    for (size_t i = 0; i < count; i++) {
        if (subs[i] != NULL && subs[i]->channel == event->channel)
            return subs[i];
    }
    return NULL;
}

void lg_stream_handle_subscribed(lg_worker *worker, lg_msg_subscribed *msg)
{
    lg_subscription **subs = lg_calloc(msg->count, sizeof(*subs));
    lg_stream *stream;

    HASH_FIND(hh, worker->streams, &msg->stream_id, sizeof(msg->stream_id), stream);
    if (stream != NULL && stream->state != LG_STREAM_OPEN)
        stream = NULL;

    for (size_t i = 0; i < msg->count; i++) {
        if (stream == NULL) {
            if (msg->results[i].channel != NULL)
                lg_stream_post_unsubscribe(worker, msg->results[i].channel);
            continue;
        }
        subs[i] = lg_stream_apply_result(stream, &msg->results[i]);
    }

    /* The events of all channels come in id order, so the client's last id
     * stays a safe resume point whatever channel it came from. */
    for (size_t i = 0; i < msg->event_count && stream != NULL && stream->state == LG_STREAM_OPEN; i++) {
        lg_subscription *sub = lg_stream_batch_subscription(subs, msg->count, msg->events[i]);

        if (sub == NULL)
            continue;
        lg_subscription_deliver(sub, msg->events[i]);
        atomic_fetch_add_explicit(&sub->channel->events_out, 1, memory_order_relaxed);
    }

    free(subs);
    lg_stream_flush_dirty(worker);
}

void lg_stream_dispatch_event(lg_worker *worker, lg_event *event)
{
    lg_local_channel *local;
    lg_subscription *sub;
    uint64_t delivered = 0;

    HASH_FIND_PTR(worker->local_channels, &event->channel, local);
    if (local == NULL)
        return;

    TAILQ_FOREACH(sub, &local->subscriptions, channel_link)
    {
        if (sub->stream->state != LG_STREAM_OPEN)
            continue;
        lg_subscription_deliver(sub, event);
        delivered++;
    }
    atomic_fetch_add_explicit(&event->channel->events_out, delivered, memory_order_relaxed);
}

void lg_stream_dispatch_gap(lg_worker *worker, lg_channel *channel, const char *reason)
{
    lg_local_channel *local;
    lg_subscription *sub;

    HASH_FIND_PTR(worker->local_channels, &channel, local);
    if (local == NULL)
        return;

    TAILQ_FOREACH(sub, &local->subscriptions, channel_link)
    {
        lg_notice notice = {.kind = LG_NOTICE_GAP, .channel = sub->channel_name, .reason = reason};

        if (sub->stream->state == LG_STREAM_OPEN)
            lg_stream_queue_notice(sub->stream, &notice);
    }
}

void lg_stream_flush_dirty(lg_worker *worker)
{
    lg_stream *stream;

    while ((stream = TAILQ_FIRST(&worker->dirty_streams)) != NULL) {
        TAILQ_REMOVE(&worker->dirty_streams, stream, dirty_link);
        stream->dirty = 0;
        lg_stream_pump(stream);
    }
}

/* ---- connection callbacks ---- */

static void lg_stream_output_changed(struct evbuffer *buffer, const struct evbuffer_cb_info *info, void *arg)
{
    lg_stream *stream = arg;

    stream->output_bytes = info->orig_size + info->n_added - info->n_deleted;
}

/* Stop reading from an open client whose unsent bytes are over its queue
 * cap, and read again once they are not or the stream is closing. Replies
 * to the client's own messages (pongs, errors) bypass the overflow policy,
 * so a client that sends without reading would otherwise grow its queue
 * without bound. This way its messages wait in the kernel, and TCP flow
 * control slows it down. */
static void lg_stream_check_input(lg_stream *stream)
{
    size_t cap = stream->worker->settings->client_queue_bytes;
    int over = stream->state == LG_STREAM_OPEN && lg_stream_buffered(stream) > cap;

    if (stream->state == LG_STREAM_CLOSED || over == stream->input_paused)
        return;

    stream->input_paused = over;
    if (over) {
        bufferevent_disable(stream->bev, EV_READ);
        LG_LOG_DEBUG(stream->cls->sink, "stream %llu from %s: %zu bytes unsent, over the %zu-byte cap: reading paused",
                     (unsigned long long)stream->id, stream->peer, lg_stream_buffered(stream), cap);
    } else {
        bufferevent_enable(stream->bev, EV_READ);
    }
}

static void lg_stream_on_read(struct bufferevent *bev, void *arg)
{
    lg_stream *stream = arg;
    struct evbuffer *input = bufferevent_get_input(bev);

    if (stream->cls->on_input != NULL && stream->state == LG_STREAM_OPEN)
        stream->cls->on_input(stream, input, stream->ctx);
    else
        evbuffer_drain(input, evbuffer_get_length(input));
    lg_stream_check_input(stream);
}

static void lg_stream_on_flush_timeout(evutil_socket_t fd, short what, void *arg);

/* Shut down our side once everything is sent, then wait (bounded) for the
 * client's end of the connection. */
static void lg_stream_linger(lg_stream *stream)
{
    struct timeval timeout = {LG_STREAM_LINGER_MS / 1000, (LG_STREAM_LINGER_MS % 1000) * 1000};

    stream->state = LG_STREAM_LINGERING;
    shutdown(bufferevent_getfd(stream->bev), SHUT_WR);
    if (stream->flush_timer == NULL)
        stream->flush_timer = evtimer_new(stream->worker->base, lg_stream_on_flush_timeout, stream);
    evtimer_add(stream->flush_timer, &timeout);
}

static void lg_stream_on_write(struct bufferevent *bev, void *arg)
{
    lg_stream *stream = arg;

    lg_stream_pump(stream);
    lg_stream_check_input(stream);
    if (stream->state == LG_STREAM_FLUSHING && stream->queue.count == 0 && stream->output_bytes == 0)
        lg_stream_linger(stream);
}

static void lg_stream_on_event(struct bufferevent *bev, short what, void *arg)
{
    lg_stream *stream = arg;

    /* NOTE: a send timeout cuts the connection without a close frame. A close
     * frame could only follow bytes the client has not read for the whole
     * timeout. An attempt through on_end still reached clients as 1006 in
     * tests, and the cause is not yet known. */
    if (what & BEV_EVENT_TIMEOUT)
        LG_LOG_INFO(stream->cls->sink, "closing stream %llu from %s: it accepted no data for %lld ms "
                    "(server.limits.send_timeout)",
                    (unsigned long long)stream->id, stream->peer, (long long)stream->worker->settings->send_timeout_ms);
    else if (what & BEV_EVENT_ERROR)
        LG_LOG_DEBUG(stream->cls->sink, "stream %llu from %s: connection error: %s", (unsigned long long)stream->id,
                     stream->peer, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    lg_stream_finish(stream);
}

static void lg_stream_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    lg_stream *stream = arg;
    lg_buf out = LG_BUF_INIT;

    /* A heartbeat is for a silent stream; one whose data is still waiting
     * for the client gains nothing from more bytes behind it. */
    if (stream->state != LG_STREAM_OPEN || lg_stream_buffered(stream) > 0)
        return;
    if (lg_clock_monotonic_ms() - stream->last_write_ms < stream->heartbeat_ms)
        return;

    stream->cls->encode_heartbeat(&out, stream->ctx);
    lg_stream_queue_raw(stream, out.data, out.len);
    lg_buf_free(&out);
    lg_stream_pump(stream);
}

static void lg_stream_on_flush_timeout(evutil_socket_t fd, short what, void *arg)
{
    lg_stream *stream = arg;

    if (stream->state == LG_STREAM_FLUSHING)
        LG_LOG_DEBUG(stream->cls->sink, "stream %llu from %s: queued data not sent in time, closing",
                     (unsigned long long)stream->id, stream->peer);
    lg_stream_finish(stream);
}

/* ---- lifecycle ---- */

lg_stream *lg_stream_open(lg_http_request *req, const lg_stream_class *cls, void *ctx)
{
    lg_worker *worker = lg_http_request_context(req);
    char peer[sizeof(((lg_stream *)NULL)->peer)];
    atomic_size_t *open_connections;
    struct timeval send_timeout;
    struct bufferevent *bev;
    lg_stream *stream;

    if (worker->stopping) {
        lg_http_respond_error(req, 503, "the server is shutting down: reconnect to another node or retry later");
        return NULL;
    }

    snprintf(peer, sizeof(peer), "%s", lg_http_request_peer(req));
    if (lg_address_limit_acquire(worker->settings->address_limit, peer) < 0) {
        LG_LOG_WARN(cls->sink, "rejected stream from %s: %zu streams from that address "
                    "(server.limits.max_streams_per_address)", peer, worker->settings->address_limit->max);
        lg_http_respond_error(req, 429, "too many streams from your address: the limit is %zu",
                              worker->settings->address_limit->max);
        return NULL;
    }
    bev = lg_http_detach(req, &open_connections);
    if (bev == NULL) {
        lg_address_limit_release(worker->settings->address_limit, peer);
        return NULL;
    }

    stream = lg_calloc(1, sizeof(*stream));
    memcpy(stream->peer, peer, sizeof(peer));
    stream->bev = bev;
    stream->open_connections = open_connections;
    stream->id = ((uint64_t)worker->index << 48) | ++worker->next_stream_id;
    stream->worker = worker;
    stream->cls = cls;
    stream->ctx = ctx;
    stream->last_write_ms = lg_clock_monotonic_ms();
    TAILQ_INIT(&stream->subscriptions);
    lg_outqueue_init(&stream->queue);
    lg_pacer_init(&stream->pacer, LG_STREAM_MAX_RATE_KEYS, worker->settings->client_queue_bytes, lg_stream_pacer_emit,
                  lg_stream_pacer_drop, stream);
    HASH_ADD(hh, worker->streams, id, sizeof(stream->id), stream);

    evbuffer_add_cb(bufferevent_get_output(stream->bev), lg_stream_output_changed, stream);
    stream->output_bytes = evbuffer_get_length(bufferevent_get_output(stream->bev));
    stream->socket_bytes = worker->settings->client_queue_bytes / LG_STREAM_SOCKET_SHARE;
    if (stream->socket_bytes > LG_STREAM_SOCKET_BYTES)
        stream->socket_bytes = LG_STREAM_SOCKET_BYTES;
    bufferevent_setwatermark(stream->bev, EV_WRITE, stream->socket_bytes / 4, 0);
    send_timeout.tv_sec = (time_t)(worker->settings->send_timeout_ms / 1000);
    send_timeout.tv_usec = (suseconds_t)((worker->settings->send_timeout_ms % 1000) * 1000);
    bufferevent_set_timeouts(stream->bev, NULL, &send_timeout);
    bufferevent_setcb(stream->bev, lg_stream_on_read, lg_stream_on_write, lg_stream_on_event, stream);
    bufferevent_enable(stream->bev, EV_READ | EV_WRITE);

    atomic_fetch_add_explicit(&worker->stats.streams[cls->format], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&worker->stats.streams_total[cls->format], 1, memory_order_relaxed);
    LG_LOG_DEBUG(cls->sink, "stream %llu opened from %s", (unsigned long long)stream->id, stream->peer);
    return stream;
}

void lg_stream_process_input(lg_stream *stream)
{
    if (evbuffer_get_length(bufferevent_get_input(stream->bev)) > 0)
        lg_stream_on_read(stream->bev, stream);
}

void lg_stream_write(lg_stream *stream, const void *data, size_t len)
{
    lg_stream_queue_raw(stream, data, len);

    /* Replies to the client's own messages and timer frames are not part of
     * a batch from the hub, so they move to the socket now; the socket is
     * still written once per loop turn. */
    lg_stream_pump(stream);
}

void lg_stream_set_heartbeat(lg_stream *stream, int64_t interval_ms)
{
    struct timeval period;

    if (stream->heartbeat != NULL) {
        event_free(stream->heartbeat);
        stream->heartbeat = NULL;
    }
    stream->heartbeat_ms = interval_ms;
    if (interval_ms <= 0 || stream->cls->encode_heartbeat == NULL)
        return;

    /* Checking at half the interval keeps the silence below the interval
     * plus a little, whatever the phase of the last write. */
    interval_ms = interval_ms / 2 > 0 ? interval_ms / 2 : 1;
    period.tv_sec = (time_t)(interval_ms / 1000);
    period.tv_usec = (suseconds_t)((interval_ms % 1000) * 1000);
    /* A common timeout keeps thousands of equal timers in one queue instead
     * of the timer heap. */
    stream->heartbeat = event_new(stream->worker->base, -1, EV_PERSIST, lg_stream_on_heartbeat, stream);
    event_add(stream->heartbeat, event_base_init_common_timeout(stream->worker->base, &period));
}

/* Mark the stream closed now: no more frames, the socket is released, and
 * the reaper frees the rest from the event loop. */
static void lg_stream_finish(lg_stream *stream)
{
    lg_worker *worker = stream->worker;

    if (stream->state == LG_STREAM_CLOSED)
        return;
    stream->state = LG_STREAM_CLOSED;

    if (stream->cls->on_close != NULL)
        stream->cls->on_close(stream, stream->ctx);

    if (stream->dirty) {
        TAILQ_REMOVE(&worker->dirty_streams, stream, dirty_link);
        stream->dirty = 0;
    }
    TAILQ_INSERT_TAIL(&worker->closed_streams, stream, closed_link);
    event_active(worker->reaper, 0, 0);
}

/* End STREAM for REASON. Without an on_end callback the connection is cut
 * at once. Otherwise queued events are dropped, the sink queues its goodbye
 * frame behind what the socket already has, and the stream closes once that
 * is sent or the shutdown timeout passes. */
static void lg_stream_end_with(lg_stream *stream, lg_stream_end reason, const char *message)
{
    if (stream->cls->on_end == NULL || stream->state != LG_STREAM_OPEN) {
        lg_stream_close(stream, 0);
        return;
    }

    lg_outqueue_clear(&stream->queue);
    stream->cls->on_end(stream, reason, message, stream->ctx);
    lg_stream_close(stream, 1);
}

void lg_stream_close(lg_stream *stream, int flush)
{
    struct timeval timeout;
    int64_t timeout_ms;

    if (stream->state == LG_STREAM_CLOSED)
        return;
    if (!flush) {
        lg_stream_finish(stream);
        return;
    }
    if (stream->state == LG_STREAM_FLUSHING || stream->state == LG_STREAM_LINGERING)
        return;

    /* Reading goes on, discarding input, so that the client's last bytes
     * never turn our close into a reset. */
    stream->state = LG_STREAM_FLUSHING;
    lg_stream_check_input(stream);
    lg_stream_pump(stream);
    if (stream->queue.count == 0 && stream->output_bytes == 0) {
        lg_stream_linger(stream);
        return;
    }

    timeout_ms = stream->worker->settings->flush_timeout_ms;
    timeout.tv_sec = (time_t)(timeout_ms / 1000);
    timeout.tv_usec = (suseconds_t)((timeout_ms % 1000) * 1000);
    stream->flush_timer = evtimer_new(stream->worker->base, lg_stream_on_flush_timeout, stream);
    evtimer_add(stream->flush_timer, &timeout);
}

static void lg_stream_free(lg_stream *stream)
{
    lg_worker *worker = stream->worker;
    lg_subscription *sub;

    while ((sub = TAILQ_FIRST(&stream->subscriptions)) != NULL)
        lg_subscription_free(sub);
    lg_outqueue_clear(&stream->queue);
    lg_pacer_clear(&stream->pacer);
    if (stream->pacer_timer != NULL)
        event_free(stream->pacer_timer);

    if (stream->heartbeat != NULL)
        event_free(stream->heartbeat);
    if (stream->flush_timer != NULL)
        event_free(stream->flush_timer);

    evbuffer_remove_cb(bufferevent_get_output(stream->bev), lg_stream_output_changed, stream);
    bufferevent_free(stream->bev);
    lg_http_release_connection(stream->open_connections);
    lg_address_limit_release(worker->settings->address_limit, stream->peer);
    stream->output_bytes = 0;
    lg_stream_report_bytes(stream);

    atomic_fetch_sub_explicit(&worker->stats.streams[stream->cls->format], 1, memory_order_relaxed);
    HASH_DEL(worker->streams, stream);
    LG_LOG_DEBUG(stream->cls->sink, "stream %llu from %s closed", (unsigned long long)stream->id, stream->peer);
    free(stream);
}

void lg_stream_reap(lg_worker *worker)
{
    lg_stream *stream;

    while ((stream = TAILQ_FIRST(&worker->closed_streams)) != NULL) {
        TAILQ_REMOVE(&worker->closed_streams, stream, closed_link);
        lg_stream_free(stream);
    }
}

void lg_stream_shutdown_all(lg_worker *worker)
{
    lg_stream *stream;
    lg_stream *tmp;

    HASH_ITER(hh, worker->streams, stream, tmp)
    {
        if (stream->state != LG_STREAM_OPEN)
            continue;
        if (stream->cls->on_shutdown != NULL)
            stream->cls->on_shutdown(stream, stream->ctx);
        lg_stream_close(stream, 1);
    }
}

void lg_stream_close_all(lg_worker *worker)
{
    lg_stream *stream;
    lg_stream *tmp;

    HASH_ITER(hh, worker->streams, stream, tmp)
    {
        lg_stream_finish(stream);
    }
}

size_t lg_stream_open_count(const lg_worker *worker)
{
    const lg_stream *stream;
    size_t count = 0;

    for (stream = worker->streams; stream != NULL; stream = stream->hh.next) {
        if (stream->state != LG_STREAM_CLOSED)
            count++;
    }
    return count;
}

struct event_base *lg_stream_base(const lg_stream *stream)
{
    return stream->worker->base;
}

void *lg_stream_context(const lg_stream *stream)
{
    return stream->ctx;
}

const char *lg_stream_peer(const lg_stream *stream)
{
    return stream->peer;
}

uint64_t lg_stream_id(const lg_stream *stream)
{
    return stream->id;
}
